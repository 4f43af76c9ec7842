/*
 * cql_type: the type tree — [option] reading and writing, formatting as
 * Cassandra prints types in system_schema, copying and comparing. The CQL
 * type string parser lives in cql_type_parse.c.
 *
 * Reading follows the input rule of protocol/: every count is checked
 * against the bytes that remain before an array is allocated (a UDT field
 * needs at least 4 bytes, a tuple component 2), and nesting is bounded by
 * CQL_TYPE_MAX_DEPTH, so an [option] of n bytes allocates O(n).
 */
#include "cql_sbuf.h"
#include "cql_type.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

const char *cql_type_kind_name(int kind)
{
    switch (kind) {
#define CQL_TYPE_NAME_(name, id, str) \
    case id:                          \
        return str;
        CQL_TYPE_MAP(CQL_TYPE_NAME_)
#undef CQL_TYPE_NAME_
    default:
        return NULL;
    }
}

static bool kind_is_native(int kind)
{
    return kind != CQL_TYPE_CUSTOM && kind != CQL_TYPE_LIST && kind != CQL_TYPE_MAP &&
           kind != CQL_TYPE_SET && kind != CQL_TYPE_UDT && kind != CQL_TYPE_TUPLE &&
           cql_type_kind_name(kind) != NULL;
}

cql_type_t *cql_type_new(cql_arena_t *a, cql_type_kind_t kind)
{
    if (!kind_is_native(kind))
        return NULL;
    cql_type_t *t = cql_arena_calloc(a, 1, sizeof *t);
    if (t != NULL)
        t->kind = kind;
    return t;
}

/* ---- [option] reading ------------------------------------------------ */

static int read_string(cql_rd_t *r, cql_arena_t *a, char **out)
{
    cql_str_t s;
    int rc = cql_rd_string(r, &s);
    if (rc != 0)
        return rc;
    *out = cql_arena_strndup(a, s.ptr, s.len);
    return *out != NULL ? 0 : CQLMQ_ENOMEM;
}

static int read_option(cql_rd_t *r, cql_arena_t *a, int depth, cql_type_t **out);

/* Reads n sub-types into t->sub. */
static int read_subs(cql_rd_t *r, cql_arena_t *a, int depth, cql_type_t *t, size_t n)
{
    t->nsub = n;
    t->sub = cql_arena_calloc(a, n ? n : 1, sizeof *t->sub);
    if (t->sub == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int rc = read_option(r, a, depth + 1, &t->sub[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int read_option(cql_rd_t *r, cql_arena_t *a, int depth, cql_type_t **out)
{
    if (depth >= CQL_TYPE_MAX_DEPTH)
        return CQLMQ_EMALFORMED;
    uint16_t id;
    int rc = cql_rd_u16(r, &id);
    if (rc != 0)
        return rc;
    const char *name = cql_type_kind_name(id);
    if (name == NULL)
        return CQLMQ_EMALFORMED;
    cql_type_t *t = cql_arena_calloc(a, 1, sizeof *t);
    if (t == NULL)
        return CQLMQ_ENOMEM;
    t->kind = (cql_type_kind_t)id;
    switch (t->kind) {
    case CQL_TYPE_CUSTOM: {
        char *cls;
        if ((rc = read_string(r, a, &cls)) != 0)
            return rc;
        /* Protocol v3/v4 carry duration as this custom class (0x0015 is
         * v5's id): keep one kind for it whatever version sent it. */
        if (strcmp(cls, CQL_DURATION_CLASS) == 0)
            t->kind = CQL_TYPE_DURATION;
        else
            t->custom_class = cls;
        break;
    }
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET:
        rc = read_subs(r, a, depth, t, 1);
        break;
    case CQL_TYPE_MAP:
        rc = read_subs(r, a, depth, t, 2);
        break;
    case CQL_TYPE_TUPLE: {
        uint16_t n;
        if ((rc = cql_rd_count16(r, 2, &n)) != 0)
            return rc;
        if (n == 0)
            return CQLMQ_EMALFORMED;
        rc = read_subs(r, a, depth, t, n);
        break;
    }
    case CQL_TYPE_UDT: {
        char *ks, *nm;
        uint16_t n;
        if ((rc = read_string(r, a, &ks)) != 0 || (rc = read_string(r, a, &nm)) != 0)
            return rc;
        t->keyspace = ks;
        t->name = nm;
        /* each field: a [string] (>= 2 bytes) and an [option] (>= 2 bytes) */
        if ((rc = cql_rd_count16(r, 4, &n)) != 0)
            return rc;
        t->nsub = n;
        t->sub = cql_arena_calloc(a, n ? n : 1, sizeof *t->sub);
        t->field_names = cql_arena_calloc(a, n ? n : 1, sizeof *t->field_names);
        if (t->sub == NULL || t->field_names == NULL)
            return CQLMQ_ENOMEM;
        for (size_t i = 0; i < n && rc == 0; i++) {
            rc = read_string(r, a, &t->field_names[i]);
            if (rc == 0)
                rc = read_option(r, a, depth + 1, &t->sub[i]);
        }
        break;
    }
    default:
        break;
    }
    if (rc == 0)
        *out = t;
    return rc;
}

int cql_type_read(cql_rd_t *r, cql_arena_t *a, cql_type_t **out)
{
    size_t start = r->pos;
    int rc = read_option(r, a, 0, out);
    if (rc != 0)
        r->pos = start;
    return rc;
}

/* ---- [option] writing ------------------------------------------------ */

static void write_option(cql_wr_t *w, const cql_type_t *t, int depth, int version)
{
    if (depth >= CQL_TYPE_MAX_DEPTH || t->nsub > UINT16_MAX) {
        if (w->err == 0)
            w->err = CQLMQ_ERANGE;
        return;
    }
    if (t->kind == CQL_TYPE_DURATION && version < 5) {
        cql_wr_u16(w, CQL_TYPE_CUSTOM);
        cql_wr_cstring(w, CQL_DURATION_CLASS);
        return;
    }
    cql_wr_u16(w, (uint16_t)t->kind);
    switch (t->kind) {
    case CQL_TYPE_CUSTOM:
        cql_wr_cstring(w, t->custom_class != NULL ? t->custom_class : "");
        break;
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET:
    case CQL_TYPE_MAP:
        for (size_t i = 0; i < t->nsub; i++)
            write_option(w, t->sub[i], depth + 1, version);
        break;
    case CQL_TYPE_TUPLE:
        cql_wr_u16(w, (uint16_t)t->nsub);
        for (size_t i = 0; i < t->nsub; i++)
            write_option(w, t->sub[i], depth + 1, version);
        break;
    case CQL_TYPE_UDT:
        cql_wr_cstring(w, t->keyspace != NULL ? t->keyspace : "");
        cql_wr_cstring(w, t->name != NULL ? t->name : "");
        cql_wr_u16(w, (uint16_t)t->nsub);
        for (size_t i = 0; i < t->nsub; i++) {
            cql_wr_cstring(w, t->field_names[i]);
            write_option(w, t->sub[i], depth + 1, version);
        }
        break;
    default:
        break;
    }
}

void cql_type_write(cql_wr_t *w, const cql_type_t *t)
{
    write_option(w, t, 0, 5);
}

void cql_type_write_version(cql_wr_t *w, const cql_type_t *t, int version)
{
    write_option(w, t, 0, version);
}

/* ---- formatting ------------------------------------------------------ */


/* Whether name needs double quotes in CQL: anything but [a-z][a-z0-9_]*. */
static bool needs_quotes(const char *s)
{
    if (!(s[0] >= 'a' && s[0] <= 'z'))
        return true;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return true;
    return false;
}

static void put_quoted(cql_sbuf_t *b, const char *s, char q)
{
    cql_sb_putn(b, &q, 1);
    for (; *s; s++) {
        cql_sb_putn(b, s, 1);
        if (*s == q)
            cql_sb_putn(b, s, 1);
    }
    cql_sb_putn(b, &q, 1);
}

static int format_type(cql_sbuf_t *b, const cql_type_t *t, bool nested, int depth)
{
    if (depth >= 2 * CQL_TYPE_MAX_DEPTH)
        return CQLMQ_ELIMIT;
    int rc = 0;
    switch (t->kind) {
    case CQL_TYPE_CUSTOM:
        put_quoted(b, t->custom_class != NULL ? t->custom_class : "", '\'');
        return 0;
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET:
    case CQL_TYPE_MAP:
    case CQL_TYPE_TUPLE: {
        /* Cassandra prints tuples always frozen, and nested collections
         * must be frozen. */
        bool frozen = t->frozen || nested || t->kind == CQL_TYPE_TUPLE;
        if (frozen)
            cql_sb_puts(b, "frozen<");
        cql_sb_puts(b, cql_type_kind_name(t->kind));
        cql_sb_puts(b, "<");
        for (size_t i = 0; i < t->nsub && rc == 0; i++) {
            if (i > 0)
                cql_sb_puts(b, ", ");
            rc = format_type(b, t->sub[i], true, depth + 1);
        }
        cql_sb_puts(b, frozen ? ">>" : ">");
        return rc;
    }
    case CQL_TYPE_UDT: {
        bool frozen = t->frozen || nested;
        const char *name = t->name != NULL ? t->name : "";
        if (frozen)
            cql_sb_puts(b, "frozen<");
        if (needs_quotes(name))
            put_quoted(b, name, '"');
        else
            cql_sb_puts(b, name);
        if (frozen)
            cql_sb_puts(b, ">");
        return 0;
    }
    default: {
        const char *name = cql_type_kind_name(t->kind);
        if (name == NULL)
            return CQLMQ_EINVAL;
        cql_sb_puts(b, name);
        return 0;
    }
    }
}

int cql_type_format(const cql_type_t *t, char *buf, size_t cap)
{
    cql_sbuf_t b = {buf, buf != NULL ? cap : 0, 0, NULL};
    int rc = format_type(&b, t, false, 0);
    if (b.cap > 0)
        b.buf[b.len < b.cap ? b.len : b.cap - 1] = '\0';
    if (rc != 0)
        return rc;
    return b.len > INT_MAX ? CQLMQ_ERANGE : (int)b.len;
}

/* ---- clone and equality ---------------------------------------------- */

static const char *dup_or_null(cql_arena_t *a, const char *s, bool *oom)
{
    if (s == NULL)
        return NULL;
    char *d = cql_arena_strndup(a, s, strlen(s));
    if (d == NULL)
        *oom = true;
    return d;
}

static cql_type_t *clone_rec(const cql_type_t *t, cql_arena_t *a, int depth)
{
    if (depth >= 2 * CQL_TYPE_MAX_DEPTH)
        return NULL;
    cql_type_t *c = cql_arena_alloc(a, sizeof *c);
    if (c == NULL)
        return NULL;
    *c = *t;
    bool oom = false;
    c->keyspace = dup_or_null(a, t->keyspace, &oom);
    c->name = dup_or_null(a, t->name, &oom);
    c->custom_class = dup_or_null(a, t->custom_class, &oom);
    c->sub = NULL;
    c->field_names = NULL;
    if (oom)
        return NULL;
    if (t->nsub > 0) {
        c->sub = cql_arena_calloc(a, t->nsub, sizeof *c->sub);
        if (c->sub == NULL)
            return NULL;
        for (size_t i = 0; i < t->nsub; i++)
            if ((c->sub[i] = clone_rec(t->sub[i], a, depth + 1)) == NULL)
                return NULL;
    }
    if (t->field_names != NULL) {
        c->field_names = cql_arena_calloc(a, t->nsub ? t->nsub : 1, sizeof *c->field_names);
        if (c->field_names == NULL)
            return NULL;
        for (size_t i = 0; i < t->nsub; i++) {
            c->field_names[i] = (char *)dup_or_null(a, t->field_names[i], &oom);
            if (oom)
                return NULL;
        }
    }
    return c;
}

cql_type_t *cql_type_clone(const cql_type_t *t, cql_arena_t *a)
{
    return clone_rec(t, a, 0);
}

static bool str_eq(const char *x, const char *y)
{
    if (x == NULL || y == NULL)
        return x == y;
    return strcmp(x, y) == 0;
}

bool cql_type_equal(const cql_type_t *x, const cql_type_t *y)
{
    if (x == y)
        return true;
    if (x == NULL || y == NULL || x->kind != y->kind || x->nsub != y->nsub)
        return false;
    if (x->kind == CQL_TYPE_CUSTOM)
        return str_eq(x->custom_class, y->custom_class);
    if (x->kind == CQL_TYPE_UDT) {
        if (!str_eq(x->keyspace, y->keyspace) || !str_eq(x->name, y->name))
            return false;
        for (size_t i = 0; i < x->nsub; i++)
            if (!str_eq(x->field_names[i], y->field_names[i]))
                return false;
    }
    for (size_t i = 0; i < x->nsub; i++)
        if (!cql_type_equal(x->sub[i], y->sub[i]))
            return false;
    return true;
}
