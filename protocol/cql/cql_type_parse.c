/*
 * cql_type_parse: CQL type strings to type trees (cql_type_parse).
 *
 * Two grammars share one recursive-descent parser:
 *   CQL       int, VARCHAR, list<int>, map<text, frozen<list<int>>>,
 *             tuple<int, text>, frozen<address>, ks.address, "MyType",
 *             'org.example.MyCustomType'
 *   Java      org.apache.cassandra.db.marshal.Int32Type (or just Int32Type),
 *             ListType(...), SetType(...), MapType(k,v), FrozenType(x),
 *             ReversedType(x) (read as x), TupleType(a,b),
 *             UserType(ks,<hex name>,<hex field>:<type>,...); any other
 *             dotted class name (with its balanced "(...)" arguments) is a
 *             CUSTOM type carrying that text.
 * Native names and keywords are case-insensitive; unquoted UDT names fold to
 * lower case as CQL identifiers do. Nesting is bounded by CQL_TYPE_MAX_DEPTH.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "cql_type.h"

#define MARSHAL_PREFIX "org.apache.cassandra.db.marshal."

typedef struct parser {
    const char *s;            /* input */
    size_t len;               /* input length */
    size_t pos;               /* next unread byte */
    cql_arena_t *a;           /* destination of the tree */
    const char *ks;           /* keyspace of bare UDT names, or NULL */
    cql_udt_lookup_cb lookup; /* resolves UDT names, or NULL */
    void *lookup_ud;
} parser_t;

/* CQL names of native types, aliases included. */
static const struct {
    const char *name;
    cql_type_kind_t kind;
} cql_natives[] = {
    {"ascii", CQL_TYPE_ASCII},       {"bigint", CQL_TYPE_BIGINT},
    {"blob", CQL_TYPE_BLOB},         {"boolean", CQL_TYPE_BOOLEAN},
    {"counter", CQL_TYPE_COUNTER},   {"decimal", CQL_TYPE_DECIMAL},
    {"double", CQL_TYPE_DOUBLE},     {"float", CQL_TYPE_FLOAT},
    {"int", CQL_TYPE_INT},           {"timestamp", CQL_TYPE_TIMESTAMP},
    {"uuid", CQL_TYPE_UUID},         {"text", CQL_TYPE_VARCHAR},
    {"varchar", CQL_TYPE_VARCHAR},   {"varint", CQL_TYPE_VARINT},
    {"timeuuid", CQL_TYPE_TIMEUUID}, {"inet", CQL_TYPE_INET},
    {"date", CQL_TYPE_DATE},         {"time", CQL_TYPE_TIME},
    {"smallint", CQL_TYPE_SMALLINT}, {"tinyint", CQL_TYPE_TINYINT},
    {"duration", CQL_TYPE_DURATION},
};

/* Java marshal classes of native types (short names, case-sensitive). */
static const struct {
    const char *name;
    cql_type_kind_t kind;
} java_natives[] = {
    {"AsciiType", CQL_TYPE_ASCII},       {"LongType", CQL_TYPE_BIGINT},
    {"BytesType", CQL_TYPE_BLOB},        {"BooleanType", CQL_TYPE_BOOLEAN},
    {"CounterColumnType", CQL_TYPE_COUNTER}, {"DecimalType", CQL_TYPE_DECIMAL},
    {"DoubleType", CQL_TYPE_DOUBLE},     {"FloatType", CQL_TYPE_FLOAT},
    {"Int32Type", CQL_TYPE_INT},         {"TimestampType", CQL_TYPE_TIMESTAMP},
    {"DateType", CQL_TYPE_TIMESTAMP},    {"UUIDType", CQL_TYPE_UUID},
    {"UTF8Type", CQL_TYPE_VARCHAR},      {"IntegerType", CQL_TYPE_VARINT},
    {"TimeUUIDType", CQL_TYPE_TIMEUUID}, {"InetAddressType", CQL_TYPE_INET},
    {"SimpleDateType", CQL_TYPE_DATE},   {"TimeType", CQL_TYPE_TIME},
    {"ShortType", CQL_TYPE_SMALLINT},    {"ByteType", CQL_TYPE_TINYINT},
    {"DurationType", CQL_TYPE_DURATION},
};

/* Java parametrised classes understood here. */
static const char *const java_params[] = {"ListType",     "SetType",  "MapType",  "FrozenType",
                                          "ReversedType", "TupleType", "UserType"};

static int parse_type(parser_t *p, int depth, cql_type_t **out);

static void skip_ws(parser_t *p)
{
    while (p->pos < p->len && isspace((unsigned char)p->s[p->pos]))
        p->pos++;
}

static bool eat(parser_t *p, char c)
{
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == c) {
        p->pos++;
        return true;
    }
    return false;
}

static bool peek(parser_t *p, char c)
{
    skip_ws(p);
    return p->pos < p->len && p->s[p->pos] == c;
}

static bool ident_char(char c, bool first)
{
    return isalpha((unsigned char)c) || c == '_' || (!first && (isdigit((unsigned char)c) || c == '.' || c == '$'));
}

/* An unquoted word: letters, digits, '_', '.', '$' (first: letter or '_'). */
static bool read_word(parser_t *p, const char **w, size_t *n)
{
    skip_ws(p);
    size_t start = p->pos;
    while (p->pos < p->len && ident_char(p->s[p->pos], p->pos == start))
        p->pos++;
    *w = p->s + start;
    *n = p->pos - start;
    return *n > 0;
}

static bool word_is(const char *w, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(w, lit, n) == 0;
}

/* Reads a quoted text (q is ' or "), doubled quotes escape themselves. */
static int read_quoted(parser_t *p, char q, char **out)
{
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != q)
        return CQLMQ_ESYNTAX;
    p->pos++;
    char *buf = cql_arena_alloc(p->a, p->len - p->pos + 1);
    if (buf == NULL)
        return CQLMQ_ENOMEM;
    size_t n = 0;
    for (;;) {
        if (p->pos >= p->len)
            return CQLMQ_ESYNTAX;
        char c = p->s[p->pos++];
        if (c == q) {
            if (p->pos < p->len && p->s[p->pos] == q) {
                buf[n++] = q;
                p->pos++;
                continue;
            }
            break;
        }
        buf[n++] = c;
    }
    buf[n] = '\0';
    *out = buf;
    return 0;
}

static cql_type_t *new_node(parser_t *p, cql_type_kind_t kind, size_t nsub)
{
    cql_type_t *t = cql_arena_calloc(p->a, 1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->kind = kind;
    t->nsub = nsub;
    if (nsub > 0 && (t->sub = cql_arena_calloc(p->a, nsub, sizeof *t->sub)) == NULL)
        return NULL;
    return t;
}

/* Appends sub to a growable array in the arena (doubling). */
static int push_sub(parser_t *p, cql_type_t ***arr, size_t *n, size_t *cap, cql_type_t *sub)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        cql_type_t **na = cql_arena_calloc(p->a, ncap, sizeof *na);
        if (na == NULL)
            return CQLMQ_ENOMEM;
        if (*n)
            memcpy(na, *arr, *n * sizeof *na);
        *arr = na;
        *cap = ncap;
    }
    (*arr)[(*n)++] = sub;
    return 0;
}

/* "<" type ("," type)* ">" (or with the Java brackets), n types expected
 * (0: one or more). */
static int parse_args(parser_t *p, int depth, char open, char close, size_t want,
                      cql_type_t *t)
{
    if (!eat(p, open))
        return CQLMQ_ESYNTAX;
    cql_type_t **arr = t->sub;
    size_t n = 0, cap = t->nsub;
    for (;;) {
        cql_type_t *sub;
        int rc = parse_type(p, depth + 1, &sub);
        if (rc != 0)
            return rc;
        if ((rc = push_sub(p, &arr, &n, &cap, sub)) != 0)
            return rc;
        if (eat(p, close))
            break;
        if (!eat(p, ','))
            return CQLMQ_ESYNTAX;
    }
    if (want != 0 && n != want)
        return CQLMQ_ESYNTAX;
    t->sub = arr;
    t->nsub = n;
    return 0;
}

static int hex_decode(parser_t *p, const char *w, size_t n, char **out)
{
    if (n % 2 != 0)
        return CQLMQ_ESYNTAX;
    char *s = cql_arena_alloc(p->a, n / 2 + 1);
    if (s == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < n; i += 2) {
        int v = 0;
        for (size_t j = 0; j < 2; j++) {
            char c = w[i + j];
            int d = isdigit((unsigned char)c) ? c - '0'
                    : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                    : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
            if (d < 0)
                return CQLMQ_ESYNTAX;
            v = v * 16 + d;
        }
        s[i / 2] = (char)v;
    }
    s[n / 2] = '\0';
    *out = s;
    return 0;
}

static bool read_hex_word(parser_t *p, const char **w, size_t *n)
{
    skip_ws(p);
    size_t start = p->pos;
    while (p->pos < p->len && isxdigit((unsigned char)p->s[p->pos]))
        p->pos++;
    *w = p->s + start;
    *n = p->pos - start;
    return true;
}

/* UserType(ks,hexname,hexfield:type,...) after the class name. */
static int parse_java_udt(parser_t *p, int depth, cql_type_t **out)
{
    const char *w;
    size_t n;
    int rc;
    cql_type_t *t = new_node(p, CQL_TYPE_UDT, 0);
    if (t == NULL)
        return CQLMQ_ENOMEM;
    if (!eat(p, '(') || !read_word(p, &w, &n))
        return CQLMQ_ESYNTAX;
    if ((t->keyspace = cql_arena_strndup(p->a, w, n)) == NULL)
        return CQLMQ_ENOMEM;
    if (!eat(p, ','))
        return CQLMQ_ESYNTAX;
    char *name;
    read_hex_word(p, &w, &n);
    if ((rc = hex_decode(p, w, n, &name)) != 0)
        return rc;
    t->name = name;
    size_t cap = 0, nf = 0, ncap = 0;
    cql_type_t **subs = NULL;
    char **names = NULL;
    while (eat(p, ',')) {
        char *fname;
        cql_type_t *sub;
        read_hex_word(p, &w, &n);
        if ((rc = hex_decode(p, w, n, &fname)) != 0)
            return rc;
        if (!eat(p, ':'))
            return CQLMQ_ESYNTAX;
        if ((rc = parse_type(p, depth + 1, &sub)) != 0)
            return rc;
        size_t before = nf;
        if ((rc = push_sub(p, &subs, &nf, &cap, sub)) != 0)
            return rc;
        /* names grow alongside: reuse push_sub through a cast-free copy */
        if (ncap < cap) {
            char **nn = cql_arena_calloc(p->a, cap, sizeof *nn);
            if (nn == NULL)
                return CQLMQ_ENOMEM;
            if (before)
                memcpy(nn, names, before * sizeof *nn);
            names = nn;
            ncap = cap;
        }
        names[before] = fname;
    }
    if (!eat(p, ')'))
        return CQLMQ_ESYNTAX;
    t->nsub = nf;
    t->sub = subs;
    t->field_names = names != NULL ? names : cql_arena_calloc(p->a, 1, sizeof *names);
    if (t->field_names == NULL)
        return CQLMQ_ENOMEM;
    *out = t;
    return 0;
}

/* Skips a balanced "( ... )" if one follows; false when unbalanced. */
static bool skip_parens(parser_t *p)
{
    if (!peek(p, '('))
        return true;
    int level = 0;
    while (p->pos < p->len) {
        char c = p->s[p->pos++];
        if (c == '(')
            level++;
        else if (c == ')' && --level == 0)
            return true;
    }
    return false;
}

/* A Java class name w (n bytes), possibly with the marshal package. */
static int parse_java(parser_t *p, const char *w, size_t n, int depth, cql_type_t **out)
{
    size_t full_start = (size_t)(w - p->s);
    size_t plen = strlen(MARSHAL_PREFIX);
    bool marshal = memchr(w, '.', n) == NULL;
    if (n > plen && strncmp(w, MARSHAL_PREFIX, plen) == 0) {
        w += plen;
        n -= plen;
        marshal = memchr(w, '.', n) == NULL;
    }
    if (marshal) {
        for (size_t i = 0; i < sizeof java_natives / sizeof java_natives[0]; i++)
            if (strlen(java_natives[i].name) == n && memcmp(w, java_natives[i].name, n) == 0)
                return (*out = new_node(p, java_natives[i].kind, 0)) ? 0 : CQLMQ_ENOMEM;
        int rc;
        cql_type_t *t;
        if (word_is(w, n, "ListType") || word_is(w, n, "SetType")) {
            bool list = n == strlen("ListType");
            if ((t = new_node(p, list ? CQL_TYPE_LIST : CQL_TYPE_SET, 1)) == NULL)
                return CQLMQ_ENOMEM;
            rc = parse_args(p, depth, '(', ')', 1, t);
        } else if (word_is(w, n, "MapType")) {
            if ((t = new_node(p, CQL_TYPE_MAP, 2)) == NULL)
                return CQLMQ_ENOMEM;
            rc = parse_args(p, depth, '(', ')', 2, t);
        } else if (word_is(w, n, "TupleType")) {
            if ((t = new_node(p, CQL_TYPE_TUPLE, 0)) == NULL)
                return CQLMQ_ENOMEM;
            t->frozen = true;
            rc = parse_args(p, depth, '(', ')', 0, t);
        } else if (word_is(w, n, "FrozenType") || word_is(w, n, "ReversedType")) {
            bool frozen = n == strlen("FrozenType");
            if (!eat(p, '('))
                return CQLMQ_ESYNTAX;
            if ((rc = parse_type(p, depth + 1, &t)) != 0)
                return rc;
            if (!eat(p, ')'))
                return CQLMQ_ESYNTAX;
            if (frozen)
                t->frozen = true;
        } else if (word_is(w, n, "UserType")) {
            rc = parse_java_udt(p, depth, &t);
        } else {
            goto custom;
        }
        if (rc == 0)
            *out = t;
        return rc;
    }
custom:
    /* Any other class: a custom type carrying the class text. */
    if (!skip_parens(p))
        return CQLMQ_ESYNTAX;
    cql_type_t *t = new_node(p, CQL_TYPE_CUSTOM, 0);
    if (t == NULL)
        return CQLMQ_ENOMEM;
    t->custom_class = cql_arena_strndup(p->a, p->s + full_start, p->pos - full_start);
    if (t->custom_class == NULL)
        return CQLMQ_ENOMEM;
    *out = t;
    return 0;
}

static int resolve_udt(parser_t *p, const char *ks, const char *name, cql_type_t **out)
{
    if (ks == NULL || p->lookup == NULL)
        return CQLMQ_ENOTFOUND;
    cql_type_t *found = NULL;
    int rc = p->lookup(p->lookup_ud, ks, name, p->a, &found);
    if (rc != 0)
        return rc;
    if (found == NULL)
        return CQLMQ_ENOTFOUND;
    /* A private top node, so setting `frozen` never touches the callee's. */
    cql_type_t *t = cql_arena_alloc(p->a, sizeof *t);
    if (t == NULL)
        return CQLMQ_ENOMEM;
    *t = *found;
    *out = t;
    return 0;
}

static char *fold_lower(parser_t *p, const char *w, size_t n)
{
    char *s = cql_arena_strndup(p->a, w, n);
    if (s != NULL)
        for (char *c = s; *c; c++)
            *c = (char)tolower((unsigned char)*c);
    return s;
}

static int parse_type(parser_t *p, int depth, cql_type_t **out)
{
    if (depth >= CQL_TYPE_MAX_DEPTH)
        return CQLMQ_ESYNTAX;
    skip_ws(p);
    if (p->pos >= p->len)
        return CQLMQ_ESYNTAX;
    int rc;
    char c = p->s[p->pos];
    if (c == '\'') {
        cql_type_t *t = new_node(p, CQL_TYPE_CUSTOM, 0);
        char *cls;
        if (t == NULL)
            return CQLMQ_ENOMEM;
        if ((rc = read_quoted(p, '\'', &cls)) != 0)
            return rc;
        t->custom_class = cls;
        *out = t;
        return 0;
    }
    if (c == '"') {
        char *name;
        if ((rc = read_quoted(p, '"', &name)) != 0)
            return rc;
        return resolve_udt(p, p->ks, name, out);
    }
    const char *w;
    size_t n;
    if (!read_word(p, &w, &n))
        return CQLMQ_ESYNTAX;
    for (size_t i = 0; i < sizeof cql_natives / sizeof cql_natives[0]; i++)
        if (word_is(w, n, cql_natives[i].name))
            return (*out = new_node(p, cql_natives[i].kind, 0)) ? 0 : CQLMQ_ENOMEM;
    cql_type_t *t;
    if (word_is(w, n, "frozen")) {
        if (!eat(p, '<'))
            return CQLMQ_ESYNTAX;
        if ((rc = parse_type(p, depth + 1, &t)) != 0)
            return rc;
        if (!eat(p, '>'))
            return CQLMQ_ESYNTAX;
        if (t->kind != CQL_TYPE_LIST && t->kind != CQL_TYPE_SET && t->kind != CQL_TYPE_MAP &&
            t->kind != CQL_TYPE_TUPLE && t->kind != CQL_TYPE_UDT)
            return CQLMQ_ESYNTAX;
        t->frozen = true;
        *out = t;
        return 0;
    }
    if (word_is(w, n, "list") || word_is(w, n, "set")) {
        if ((t = new_node(p, n == 4 ? CQL_TYPE_LIST : CQL_TYPE_SET, 1)) == NULL)
            return CQLMQ_ENOMEM;
        rc = parse_args(p, depth, '<', '>', 1, t);
    } else if (word_is(w, n, "map")) {
        if ((t = new_node(p, CQL_TYPE_MAP, 2)) == NULL)
            return CQLMQ_ENOMEM;
        rc = parse_args(p, depth, '<', '>', 2, t);
    } else if (word_is(w, n, "tuple")) {
        if ((t = new_node(p, CQL_TYPE_TUPLE, 0)) == NULL)
            return CQLMQ_ENOMEM;
        t->frozen = true; /* tuples are always frozen */
        rc = parse_args(p, depth, '<', '>', 0, t);
    } else {
        const char *dot = memchr(w, '.', n);
        bool java = false;
        for (size_t i = 0; i < sizeof java_natives / sizeof java_natives[0]; i++)
            if (strlen(java_natives[i].name) == n && memcmp(w, java_natives[i].name, n) == 0)
                java = true;
        for (size_t i = 0; i < sizeof java_params / sizeof java_params[0]; i++)
            if (strlen(java_params[i]) == n && memcmp(w, java_params[i], n) == 0 && peek(p, '('))
                java = true;
        /* ks.name is a qualified UDT; more dots, or a '(' after, is Java */
        if (dot != NULL && (memchr(dot + 1, '.', n - (size_t)(dot + 1 - w)) != NULL || peek(p, '(')))
            java = true;
        if (java)
            return parse_java(p, w, n, depth, out);
        if (peek(p, '<') || peek(p, '('))
            return CQLMQ_ESYNTAX;
        if (dot != NULL) {
            char *ks = fold_lower(p, w, (size_t)(dot - w));
            char *nm = fold_lower(p, dot + 1, n - (size_t)(dot + 1 - w));
            if (ks == NULL || nm == NULL)
                return CQLMQ_ENOMEM;
            if (*ks == '\0' || *nm == '\0')
                return CQLMQ_ESYNTAX;
            return resolve_udt(p, ks, nm, out);
        }
        char *nm = fold_lower(p, w, n);
        if (nm == NULL)
            return CQLMQ_ENOMEM;
        return resolve_udt(p, p->ks, nm, out);
    }
    if (rc == 0)
        *out = t;
    return rc;
}

int cql_type_parse(const char *s, size_t len, cql_arena_t *a, const char *udt_keyspace,
                   cql_udt_lookup_cb lookup, void *lookup_ud, cql_type_t **out)
{
    parser_t p = {s, len, 0, a, udt_keyspace, lookup, lookup_ud};
    cql_type_t *t;
    int rc = parse_type(&p, 0, &t);
    if (rc != 0)
        return rc;
    skip_ws(&p);
    if (p.pos != p.len)
        return CQLMQ_ESYNTAX;
    *out = t;
    return 0;
}
