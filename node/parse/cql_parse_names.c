/*
 * cql_parse_names: identifiers, qualified names, CQL types and WITH options.
 *
 * Reserved words follow Cassandra 3.x/4.x (Appendix A of the CQL docs) plus
 * the literal words true, false, null, nan and infinity; every other word
 * (key, type, ttl, count, timestamp, text, ...) can name a column unquoted.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cql_parser.h"

static const char *const reserved[] = {
    "add",       "allow",       "alter",    "and",      "apply",   "asc",
    "authorize", "batch",       "begin",    "by",       "columnfamily", "create",
    "delete",    "desc",        "describe", "drop",     "entries", "execute",
    "false",     "from",        "full",     "grant",    "if",      "in",
    "index",     "infinity",    "insert",   "into",     "keyspace", "limit",
    "modify",    "nan",         "norecursive", "not",   "null",    "of",
    "on",        "or",          "order",    "primary",  "rename",  "replace",
    "revoke",    "schema",      "select",   "set",      "table",   "to",
    "token",     "true",        "truncate", "unlogged", "update",  "use",
    "using",     "view",        "where",    "with",
};

bool cql_is_reserved(const char *s, size_t len)
{
    if (len == 0 || len > 16)
        return false;
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strlen(reserved[i]) == len && strncasecmp(reserved[i], s, len) == 0)
            return true;
    return false;
}

bool cql_ident_needs_quotes(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || !(name[0] >= 'a' && name[0] <= 'z'))
        return true;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return true;
    }
    return cql_is_reserved(name, n) || cql_duration_scan(name, n) == n;
}

bool cql_p_at_ident(const cql_parser_t *p)
{
    if (p->rc)
        return false;
    if (p->tok.type == CQL_TK_QNAME)
        return true;
    return p->tok.type == CQL_TK_WORD && !cql_is_reserved(p->text + p->tok.off, p->tok.len);
}

const char *cql_p_ident(cql_parser_t *p)
{
    if (!cql_p_at_ident(p)) {
        cql_p_noviable(p);
        return NULL;
    }
    const char *s = p->text + p->tok.off;
    size_t n = p->tok.len;
    char *out;
    if (p->tok.type == CQL_TK_QNAME) {
        if (memchr(s, '\0', n) != NULL) { /* names are C strings */
            cql_p_fail(p, "no viable alternative at input '\"' (quoted names cannot contain NUL)");
            return NULL;
        }
        out = cql_p_strndup(p, s + 1, n - 2); /* unescaped is never longer */
        if (out == NULL)
            return NULL;
        size_t w = 0;
        for (size_t r = 1; r + 1 < n; r++) {
            out[w++] = s[r];
            if (s[r] == '"')
                r++; /* "" -> " */
        }
        out[w] = '\0';
    } else {
        out = cql_p_strndup(p, s, n);
        if (out == NULL)
            return NULL;
        for (size_t i = 0; i < n; i++)
            if (out[i] >= 'A' && out[i] <= 'Z')
                out[i] = (char)(out[i] + 32);
    }
    cql_p_advance(p);
    return out;
}

bool cql_p_qname(cql_parser_t *p, cql_qname_t *q)
{
    q->keyspace = NULL;
    q->name = cql_p_ident(p);
    if (q->name == NULL)
        return false;
    if (cql_p_accept(p, CQL_TK_DOT)) {
        q->keyspace = q->name;
        q->name = cql_p_ident(p);
    }
    return q->name != NULL;
}

/* ---- types -------------------------------------------------------------------- */

/* A string under construction in the arena. */
typedef struct sbuf {
    char *s;
    size_t n, cap;
} sbuf_t;

static bool sb_put(cql_parser_t *p, sbuf_t *b, const char *s, size_t n)
{
    if (p->rc)
        return false;
    if (b->n + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 32;
        while (ncap < b->n + n + 1)
            ncap *= 2;
        char *ns = cql_arena_alloc(p->arena, ncap);
        if (ns == NULL) {
            cql_p_nomem(p);
            return false;
        }
        if (b->n)
            memcpy(ns, b->s, b->n);
        b->s = ns;
        b->cap = ncap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
    return true;
}

static bool sb_puts(cql_parser_t *p, sbuf_t *b, const char *s)
{
    return sb_put(p, b, s, strlen(s));
}

/* Appends name to b, quoted when needed (as Cassandra prints UDT names). */
static bool sb_ident(cql_parser_t *p, sbuf_t *b, const char *name)
{
    if (!cql_ident_needs_quotes(name))
        return sb_puts(p, b, name);
    if (!sb_puts(p, b, "\""))
        return false;
    for (const char *c = name; *c; c++)
        if (!sb_put(p, b, c, 1) || (*c == '"' && !sb_put(p, b, c, 1)))
            return false;
    return sb_puts(p, b, "\"");
}

static const char *const natives[] = {
    "ascii", "bigint", "blob", "boolean", "counter", "date", "decimal", "double",
    "duration", "float", "inet", "int", "smallint", "text", "time", "timestamp",
    "timeuuid", "tinyint", "uuid", "varchar", "varint",
};

static bool type_rec(cql_parser_t *p, sbuf_t *b);

/* '<' type (',' type){min-1..max-1} '>' for parameterised types. */
static bool type_args(cql_parser_t *p, sbuf_t *b, size_t min, size_t max)
{
    if (!cql_p_expect(p, CQL_TK_LT) || !sb_puts(p, b, "<"))
        return false;
    size_t n = 0;
    do {
        if (n > 0 && !sb_puts(p, b, ", "))
            return false;
        if (n >= max) {
            cql_p_mismatch(p, "'>'");
            return false;
        }
        if (!type_rec(p, b))
            return false;
        n++;
    } while (cql_p_accept(p, CQL_TK_COMMA));
    if (n < min) {
        cql_p_mismatch(p, "','");
        return false;
    }
    return cql_p_expect(p, CQL_TK_GT) && sb_puts(p, b, ">");
}

/* vector<type, n> (Cassandra 5). */
static bool vector_args(cql_parser_t *p, sbuf_t *b)
{
    if (!cql_p_expect(p, CQL_TK_LT) || !sb_puts(p, b, "<") || !type_rec(p, b))
        return false;
    if (!cql_p_expect(p, CQL_TK_COMMA) || !sb_puts(p, b, ", "))
        return false;
    if (!cql_p_is(p, CQL_TK_INT)) {
        cql_p_mismatch(p, "INTEGER");
        return false;
    }
    if (!sb_put(p, b, p->text + p->tok.off, p->tok.len))
        return false;
    cql_p_advance(p);
    return cql_p_expect(p, CQL_TK_GT) && sb_puts(p, b, ">");
}

static bool type_word(cql_parser_t *p, sbuf_t *b)
{
    static const struct { const char *kw; size_t min, max; } params[] = {
        {"frozen", 1, 1}, {"list", 1, 1}, {"set", 1, 1}, {"map", 2, 2}, {"tuple", 1, 65535},
    };
    const char *s = p->text + p->tok.off;
    size_t n = p->tok.len;
    for (size_t i = 0; i < sizeof(natives) / sizeof(natives[0]); i++) {
        if (strlen(natives[i]) == n && strncasecmp(natives[i], s, n) == 0) {
            cql_p_advance(p);
            return sb_puts(p, b, strcmp(natives[i], "varchar") == 0 ? "text" : natives[i]);
        }
    }
    if (cql_p_peek(p, NULL) == CQL_TK_LT) {
        for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
            if (cql_p_is_kw(p, params[i].kw)) {
                cql_p_advance(p);
                return sb_puts(p, b, params[i].kw) &&
                       type_args(p, b, params[i].min, params[i].max);
            }
        }
        if (cql_p_is_kw(p, "vector")) {
            cql_p_advance(p);
            return sb_puts(p, b, "vector") && vector_args(p, b);
        }
    }
    return false; /* not a built-in: a UDT name */
}

static bool type_rec(cql_parser_t *p, sbuf_t *b)
{
    if (!cql_p_enter(p))
        return false;
    bool ok = false;
    if (cql_p_is(p, CQL_TK_STRING)) { /* custom type: the class as a literal */
        ok = sb_put(p, b, p->text + p->tok.off, p->tok.len);
        cql_p_advance(p);
    } else if (cql_p_is(p, CQL_TK_WORD) && type_word(p, b)) {
        ok = true;
    } else if (p->rc == 0) {
        cql_qname_t q;
        ok = cql_p_qname(p, &q) &&
             (q.keyspace == NULL || (sb_ident(p, b, q.keyspace) && sb_puts(p, b, "."))) &&
             sb_ident(p, b, q.name);
    }
    cql_p_leave(p);
    return ok && p->rc == 0;
}

bool cql_p_type(cql_parser_t *p, const char **raw, const char **norm)
{
    sbuf_t b = {NULL, 0, 0};
    size_t start = p->tok.off;
    if (!type_rec(p, &b))
        return false;
    if (memchr(p->text + start, '\0', p->prev_end - start) != NULL) { /* C strings */
        cql_p_fail(p, "type definitions cannot contain NUL bytes");
        return false;
    }
    *norm = b.s;
    *raw = cql_p_strndup(p, p->text + start, p->prev_end - start);
    return *raw != NULL;
}

/* ---- WITH options ------------------------------------------------------------- */

static cql_term_t *option_value(cql_parser_t *p)
{
    if (cql_p_at_term(p))
        return cql_p_term(p);
    if (cql_p_is(p, CQL_TK_WORD)) { /* an unreserved keyword used as a value */
        cql_term_t *t = cql_p_alloc(p, sizeof(*t));
        if (t == NULL)
            return NULL;
        t->kind = CQL_TERM_IDENT;
        t->line = p->tok.line;
        t->col = p->tok.col;
        t->len = p->tok.len;
        t->text = cql_p_strndup(p, p->text + p->tok.off, p->tok.len);
        cql_p_advance(p);
        return t->text ? t : NULL;
    }
    cql_p_noviable(p);
    return NULL;
}

bool cql_p_options(cql_parser_t *p, cql_vec_t *opts, cql_p_prop_cb special, void *ud)
{
    do {
        if (special && special(p, ud))
            continue;
        if (p->rc)
            return false;
        const char *name = cql_p_ident(p);
        if (name == NULL || !cql_p_expect(p, CQL_TK_EQ))
            return false;
        cql_term_t *v = option_value(p);
        if (v == NULL)
            return false;
        for (size_t i = 0; i < opts->n; i++) {
            if (strcmp(((cql_option_t *)opts->data)[i].name, name) == 0) {
                cql_p_fail(p, "Multiple definitions for property '%s'", name);
                return false;
            }
        }
        cql_option_t *o = cql_vec_push(p, opts);
        if (o == NULL)
            return false;
        o->name = name;
        o->value = v;
    } while (cql_p_accept_kw(p, "and"));
    return p->rc == 0;
}
