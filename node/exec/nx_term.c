/*
 * nx_term: a term of a statement (literal, collection, function call or
 * bind marker) turned into the serialized value of its receiver's type,
 * with Cassandra's messages when it does not fit:
 *   Invalid STRING constant (abc) for "k" of type int
 *   Expected 4 or 0 byte int (3)                 (a bound value)
 * Set and map literals are sorted and deduplicated by key, as Cassandra
 * serializes them. Everything produced lives in the request arena.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "nx_int.h"

/* ---- helpers ---------------------------------------------------------------- */

cql_bytes_t nx_bytes_dup(nx_req_t *r, const void *p, size_t n)
{
    uint8_t *d = cql_arena_alloc(r->a, n ? n : 1);
    if (d == NULL)
        return (cql_bytes_t){NULL, CQL_BYTES_NULL};
    if (n)
        memcpy(d, p, n);
    return (cql_bytes_t){d, (int32_t)n};
}

const cql_type_t *nx_type(nx_req_t *r, cql_type_kind_t k) { return cql_type_new(r->a, k); }

cql_type_t *nx_type_coll(nx_req_t *r, cql_type_kind_t k, const cql_type_t *a, const cql_type_t *b)
{
    cql_type_t *t = cql_arena_calloc(r->a, 1, sizeof *t);
    cql_type_t **sub = cql_arena_calloc(r->a, 2, sizeof *sub);
    if (t == NULL || sub == NULL)
        return NULL;
    t->kind = k;
    t->nsub = b != NULL ? 2 : 1;
    sub[0] = (cql_type_t *)a;
    sub[1] = (cql_type_t *)b;
    t->sub = sub;
    return t;
}

const char *nx_type_str(nx_req_t *r, const cql_type_t *t)
{
    char buf[256];
    int n = cql_type_format(t, buf, sizeof buf);
    if (n < 0)
        return "?";
    char *s = cql_arena_strndup(r->a, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
    return s ? s : "?";
}

int nx_coll_split(nx_req_t *r, cql_bytes_t v, bool map, cql_bytes_t **items, size_t *n)
{
    *items = NULL;
    *n = 0;
    if (v.len <= 0)
        return 0;
    cql_rd_t rd;
    cql_rd_init(&rd, v.ptr, (size_t)v.len);
    int32_t cnt;
    if (cql_rd_count32(&rd, map ? 8 : 4, &cnt) != 0)
        return CQLMQ_EMALFORMED;
    size_t total = (size_t)cnt * (map ? 2 : 1);
    cql_bytes_t *it = cql_arena_calloc(r->a, total ? total : 1, sizeof *it);
    if (it == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < total; i++)
        if (cql_rd_bytes(&rd, &it[i]) != 0)
            return CQLMQ_EMALFORMED;
    if (cql_rd_left(&rd) != 0)
        return CQLMQ_EMALFORMED;
    *items = it;
    *n = (size_t)cnt;
    return 0;
}

typedef struct sort_ctx {
    const cql_type_t *kt;
    cql_bytes_t *items;
    size_t stride;
} sort_ctx_t;

int nx_coll_build(nx_req_t *r, cql_bytes_t *items, size_t n, bool map, const cql_type_t *key_type,
                  bool sort, cql_bytes_t *out)
{
    size_t stride = map ? 2 : 1;
    if (sort && n > 1) {
        /* insertion sort keeping the last of equal keys (n is small) */
        for (size_t i = 1; i < n; i++) {
            cql_bytes_t tmp[2];
            memcpy(tmp, &items[i * stride], stride * sizeof *tmp);
            size_t j = i;
            while (j > 0 && cql_order_compare(key_type, items[(j - 1) * stride], tmp[0]) > 0) {
                memcpy(&items[j * stride], &items[(j - 1) * stride], stride * sizeof *tmp);
                j--;
            }
            memcpy(&items[j * stride], tmp, stride * sizeof *tmp);
        }
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            if (o > 0 && cql_order_compare(key_type, items[(o - 1) * stride], items[i * stride]) == 0)
                o--; /* later duplicate replaces the earlier one */
            memmove(&items[o * stride], &items[i * stride], stride * sizeof *items);
            o++;
        }
        n = o;
    }
    size_t len = 4;
    for (size_t i = 0; i < n * stride; i++)
        len += 4 + (items[i].len > 0 ? (size_t)items[i].len : 0);
    uint8_t *b = cql_arena_alloc(r->a, len);
    if (b == NULL)
        return CQLMQ_ENOMEM;
    cql_store_u32(b, (uint32_t)n);
    size_t o = 4;
    for (size_t i = 0; i < n * stride; i++) {
        cql_store_u32(b + o, (uint32_t)items[i].len);
        o += 4;
        if (items[i].len > 0) {
            memcpy(b + o, items[i].ptr, (size_t)items[i].len);
            o += (size_t)items[i].len;
        }
    }
    *out = (cql_bytes_t){b, (int32_t)len};
    return 0;
}

/* ---- bound values --------------------------------------------------------- */

int nx_value_check(nx_req_t *r, const cql_type_t *t, cql_bytes_t v, const char *name)
{
    if (v.len < 0)
        return 0;
    int rc = cql_value_validate(t, v);
    if (rc == 0) {
        if (t->kind == CQL_TYPE_TIMEUUID && v.len == 16 && (v.ptr[6] >> 4) != 1)
            return nx_invalid(r, "Unsupported UUID version for timeuuid: %d", v.ptr[6] >> 4);
        return 0;
    }
    int32_t n = v.len;
    switch (t->kind) {
    case CQL_TYPE_INT:
        return nx_invalid(r, "Expected 4 or 0 byte int (%d)", n);
    case CQL_TYPE_BIGINT:
    case CQL_TYPE_COUNTER:
        return nx_invalid(r, "Expected 8 or 0 byte long (%d)", n);
    case CQL_TYPE_TIMESTAMP:
        return nx_invalid(r, "Expected 8 or 0 byte long for date (%d)", n);
    case CQL_TYPE_SMALLINT:
        return nx_invalid(r, "Expected 2 bytes for a smallint (%d)", n);
    case CQL_TYPE_TINYINT:
        return nx_invalid(r, "Expected 1 byte for a tinyint (%d)", n);
    case CQL_TYPE_BOOLEAN:
        return nx_invalid(r, "Expected 1 or 0 byte value (%d)", n);
    case CQL_TYPE_DOUBLE:
        return nx_invalid(r, "Expected 8 or 0 byte value for a double (%d)", n);
    case CQL_TYPE_FLOAT:
        return nx_invalid(r, "Expected 4 or 0 byte value for a float (%d)", n);
    case CQL_TYPE_UUID:
    case CQL_TYPE_TIMEUUID:
        return nx_invalid(r, "UUID should be 16 or 0 bytes (%d)", n);
    case CQL_TYPE_DATE:
        return nx_invalid(r, "Expected 4 byte long for date (%d)", n);
    case CQL_TYPE_TIME:
        return nx_invalid(r, "Expected 8 byte long for time (%d)", n);
    case CQL_TYPE_VARCHAR:
        return nx_invalid(r, "String didn't validate.");
    case CQL_TYPE_ASCII:
        return nx_invalid(r, "Invalid byte for ascii");
    case CQL_TYPE_INET:
        return nx_invalid(r, "Unable to make inet address from bytes (%d)", n);
    default:
        return nx_invalid(r, "Invalid value for \"%s\" of type %s", name ? name : "?",
                          nx_type_str(r, t));
    }
}

static int bound_value(nx_req_t *r, const cql_term_t *term, cql_bytes_t *out)
{
    if (r->values == NULL || term->bind_index >= r->nspecs)
        return nx_invalid(r, "Invalid amount of bind variables");
    *out = r->values[term->bind_index];
    return 0;
}

/* ---- literals ------------------------------------------------------------- */

static const char *term_kind_name(const cql_term_t *t)
{
    switch (t->kind) {
    case CQL_TERM_STRING:
        return "STRING";
    case CQL_TERM_INT:
        return "INTEGER";
    case CQL_TERM_FLOAT:
        return "FLOAT";
    case CQL_TERM_BOOL:
        return "BOOLEAN";
    case CQL_TERM_UUID:
        return "UUID";
    case CQL_TERM_BLOB:
        return "HEX";
    case CQL_TERM_DURATION:
        return "DURATION";
    default:
        return "literal";
    }
}

static int bad_constant(nx_req_t *r, const cql_term_t *term, const cql_type_t *t, const char *name)
{
    const char *txt = term->text ? term->text : (term->kind == CQL_TERM_BOOL ? (term->b ? "true" : "false") : "");
    return nx_invalid(r, "Invalid %s constant (%s) for \"%s\" of type %s", term_kind_name(term),
                      txt, name ? name : "?", nx_type_str(r, t));
}

int nx_be_int(nx_req_t *r, int64_t v, size_t size, cql_bytes_t *out)
{
    uint8_t b[8];
    cql_store_u64(b, (uint64_t)v);
    *out = nx_bytes_dup(r, b + 8 - size, size);
    return out->ptr ? 0 : CQLMQ_ENOMEM;
}

static int lit_coll(nx_req_t *r, const cql_term_t *term, const cql_type_t *t, const char *name,
                    cql_bytes_t *out);

static int lit_scalar(nx_req_t *r, const cql_term_t *term, const cql_type_t *t, const char *name,
                      cql_bytes_t *out)
{
    cql_term_kind_t k = term->kind;
    int64_t lo = 0, hi = 0;
    size_t size = 0;
    switch (t->kind) {
    case CQL_TYPE_ASCII:
        if (k != CQL_TERM_STRING)
            break;
        for (size_t i = 0; i < term->len; i++)
            if ((unsigned char)term->text[i] > 127)
                return nx_invalid(r, "Invalid ASCII character in string literal");
        *out = nx_bytes_dup(r, term->text, term->len);
        return 0;
    case CQL_TYPE_VARCHAR:
        if (k != CQL_TERM_STRING)
            break;
        if (cql_utf8_validate((const uint8_t *)term->text, term->len) != 0)
            return nx_invalid(r, "Invalid UTF-8 string literal");
        *out = nx_bytes_dup(r, term->text, term->len);
        return 0;
    case CQL_TYPE_BLOB:
    case CQL_TYPE_CUSTOM:
        if (k != CQL_TERM_BLOB)
            break;
        *out = nx_bytes_dup(r, term->bytes, term->nbytes);
        return 0;
    case CQL_TYPE_BOOLEAN:
        if (k != CQL_TERM_BOOL)
            break;
        return nx_be_int(r, term->b ? 1 : 0, 1, out);
    case CQL_TYPE_TINYINT:
        lo = INT8_MIN, hi = INT8_MAX, size = 1;
        goto integer;
    case CQL_TYPE_SMALLINT:
        lo = INT16_MIN, hi = INT16_MAX, size = 2;
        goto integer;
    case CQL_TYPE_INT:
        lo = INT32_MIN, hi = INT32_MAX, size = 4;
        goto integer;
    case CQL_TYPE_BIGINT:
    case CQL_TYPE_COUNTER:
        lo = INT64_MIN, hi = INT64_MAX, size = 8;
    integer:
        if (k != CQL_TERM_INT)
            break;
        if (!term->i64_ok || term->i64 < lo || term->i64 > hi)
            return nx_invalid(r, "Invalid INTEGER constant (%s) for \"%s\" of type %s: out of range",
                              term->text, name ? name : "?", nx_type_str(r, t));
        return nx_be_int(r, term->i64, size, out);
    case CQL_TYPE_VARINT:
        if (k != CQL_TERM_INT)
            break;
        if (!nx_parse_varint(r, term->text, strlen(term->text), out))
            return bad_constant(r, term, t, name);
        return 0;
    case CQL_TYPE_DECIMAL:
        if (k != CQL_TERM_INT && k != CQL_TERM_FLOAT)
            break;
        if (!nx_parse_decimal(r, term->text, strlen(term->text), out))
            return bad_constant(r, term, t, name);
        return 0;
    case CQL_TYPE_DOUBLE: {
        if (k != CQL_TERM_INT && k != CQL_TERM_FLOAT)
            break;
        double d = term->f64;
        uint64_t bits;
        memcpy(&bits, &d, 8);
        return nx_be_int(r, (int64_t)bits, 8, out);
    }
    case CQL_TYPE_FLOAT: {
        if (k != CQL_TERM_INT && k != CQL_TERM_FLOAT)
            break;
        float f = (float)term->f64;
        uint32_t bits;
        memcpy(&bits, &f, 4);
        return nx_be_int(r, (int64_t)bits, 4, out);
    }
    case CQL_TYPE_TIMESTAMP: {
        int64_t ms;
        if (k == CQL_TERM_INT && term->i64_ok)
            ms = term->i64;
        else if (k == CQL_TERM_STRING && nx_parse_timestamp(term->text, term->len, &ms))
            ;
        else if (k == CQL_TERM_STRING)
            return nx_invalid(r, "Unable to coerce '%s' to a formatted date (long)", term->text);
        else
            break;
        return nx_be_int(r, ms, 8, out);
    }
    case CQL_TYPE_DATE: {
        uint32_t raw;
        if (k == CQL_TERM_INT && term->i64_ok && term->i64 >= 0 && term->i64 <= UINT32_MAX)
            raw = (uint32_t)term->i64;
        else if (k == CQL_TERM_STRING && nx_parse_date(term->text, term->len, &raw))
            ;
        else if (k == CQL_TERM_STRING)
            return nx_invalid(r, "Unable to coerce '%s' to a formatted date (long)", term->text);
        else
            break;
        return nx_be_int(r, raw, 4, out);
    }
    case CQL_TYPE_TIME: {
        int64_t ns;
        if (k == CQL_TERM_INT && term->i64_ok && term->i64 >= 0 && term->i64 <= CQL_TIME_MAX)
            ns = term->i64;
        else if (k == CQL_TERM_STRING && nx_parse_time(term->text, term->len, &ns))
            ;
        else if (k == CQL_TERM_STRING)
            return nx_invalid(r, "Unable to coerce '%s' to a formatted time (long)", term->text);
        else
            break;
        return nx_be_int(r, ns, 8, out);
    }
    case CQL_TYPE_UUID:
    case CQL_TYPE_TIMEUUID:
        if (k != CQL_TERM_UUID || term->nbytes != 16)
            break;
        if (t->kind == CQL_TYPE_TIMEUUID && (term->bytes[6] >> 4) != 1)
            return nx_invalid(r, "Unsupported UUID version for timeuuid: %d", term->bytes[6] >> 4);
        *out = nx_bytes_dup(r, term->bytes, 16);
        return 0;
    case CQL_TYPE_INET: {
        uint8_t a[16], sz;
        if (k != CQL_TERM_STRING)
            break;
        if (!nx_parse_inet(term->text, term->len, a, &sz))
            return nx_invalid(r, "Unable to make inet address from '%s'", term->text);
        *out = nx_bytes_dup(r, a, sz);
        return 0;
    }
    case CQL_TYPE_DURATION: {
        if (k != CQL_TERM_DURATION)
            break;
        cql_wr_t w;
        cql_wr_init(&w);
        cql_wr_vint(&w, term->months);
        cql_wr_vint(&w, term->days);
        cql_wr_vint(&w, term->nanos);
        if (cql_wr_error(&w)) {
            cql_wr_close(&w);
            return CQLMQ_ENOMEM;
        }
        *out = nx_bytes_dup(r, w.data, w.len);
        cql_wr_close(&w);
        return 0;
    }
    default:
        return lit_coll(r, term, t, name, out);
    }
    return bad_constant(r, term, t, name);
}

static int element(nx_req_t *r, const cql_term_t *e, const cql_type_t *t, const char *name,
                   cql_bytes_t *out)
{
    int rc = nx_term(r, e, t, name, out);
    if (rc != 0)
        return rc;
    if (out->len == CQL_BYTES_NULL)
        return nx_invalid(r, "null is not supported inside collections");
    if (out->len == CQL_BYTES_NOT_SET)
        return nx_invalid(r, "unset value is not supported inside collections");
    return 0;
}

static int lit_coll(nx_req_t *r, const cql_term_t *term, const cql_type_t *t, const char *name,
                    cql_bytes_t *out)
{
    cql_term_kind_t k = term->kind;
    const char *lname = "literal";
    switch (t->kind) {
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET: {
        bool set = t->kind == CQL_TYPE_SET;
        lname = set ? "set" : "list";
        if (!(k == CQL_TERM_LIST && !set) && !(k == CQL_TERM_SET && set) &&
            !(k == CQL_TERM_EMPTY_BRACES && set) && !(k == CQL_TERM_LIST && term->n == 0))
            break;
        cql_bytes_t *items = cql_arena_calloc(r->a, term->n ? term->n : 1, sizeof *items);
        if (items == NULL)
            return CQLMQ_ENOMEM;
        for (size_t i = 0; i < term->n; i++) {
            int rc = element(r, term->items[i], t->sub[0], name, &items[i]);
            if (rc != 0)
                return rc;
        }
        return nx_coll_build(r, items, term->n, false, t->sub[0], set, out);
    }
    case CQL_TYPE_MAP: {
        lname = "map";
        if (k != CQL_TERM_MAP && k != CQL_TERM_EMPTY_BRACES)
            break;
        cql_bytes_t *items = cql_arena_calloc(r->a, term->n ? 2 * term->n : 1, sizeof *items);
        if (items == NULL)
            return CQLMQ_ENOMEM;
        for (size_t i = 0; i < term->n; i++) {
            int rc = element(r, term->items[i], t->sub[0], name, &items[2 * i]);
            if (rc == 0)
                rc = element(r, term->values[i], t->sub[1], name, &items[2 * i + 1]);
            if (rc != 0)
                return rc;
        }
        return nx_coll_build(r, items, term->n, true, t->sub[0], true, out);
    }
    case CQL_TYPE_TUPLE:
    case CQL_TYPE_UDT: {
        bool udt = t->kind == CQL_TYPE_UDT;
        lname = udt ? "user type" : "tuple";
        if ((udt && k != CQL_TERM_UDT && k != CQL_TERM_EMPTY_BRACES) || (!udt && k != CQL_TERM_TUPLE))
            break;
        if (term->n > t->nsub)
            return nx_invalid(r, "Invalid %s literal for %s: too many elements. Type %s expects %zu but got %zu",
                              lname, name ? name : "?", nx_type_str(r, t), t->nsub, term->n);
        cql_bytes_t *items = cql_arena_calloc(r->a, t->nsub ? t->nsub : 1, sizeof *items);
        if (items == NULL)
            return CQLMQ_ENOMEM;
        for (size_t i = 0; i < t->nsub; i++)
            items[i].len = CQL_BYTES_NULL;
        for (size_t i = 0; i < term->n; i++) {
            size_t fi = i;
            if (udt) {
                for (fi = 0; fi < t->nsub; fi++)
                    if (strcmp(t->field_names[fi], term->names[i]) == 0)
                        break;
                if (fi == t->nsub)
                    return nx_invalid(r, "Unknown field '%s' in value of user defined type %s",
                                      term->names[i], t->name ? t->name : "?");
            }
            int rc = nx_term(r, term->items[i], t->sub[fi], name, &items[fi]);
            if (rc != 0)
                return rc;
            if (items[fi].len == CQL_BYTES_NOT_SET)
                items[fi].len = CQL_BYTES_NULL;
        }
        size_t n = udt ? t->nsub : term->n, len = 0;
        for (size_t i = 0; i < n; i++)
            len += 4 + (items[i].len > 0 ? (size_t)items[i].len : 0);
        uint8_t *b = cql_arena_alloc(r->a, len ? len : 1);
        if (b == NULL)
            return CQLMQ_ENOMEM;
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            cql_store_u32(b + o, (uint32_t)items[i].len);
            o += 4;
            if (items[i].len > 0) {
                memcpy(b + o, items[i].ptr, (size_t)items[i].len);
                o += (size_t)items[i].len;
            }
        }
        *out = (cql_bytes_t){b, (int32_t)len};
        return 0;
    }
    default:
        break;
    }
    if (k == CQL_TERM_LIST || k == CQL_TERM_SET || k == CQL_TERM_MAP || k == CQL_TERM_TUPLE ||
        k == CQL_TERM_UDT || k == CQL_TERM_EMPTY_BRACES)
        return nx_invalid(r, "Invalid %s literal for %s of type %s",
                          k == CQL_TERM_LIST ? "list" : k == CQL_TERM_SET ? "set"
                          : k == CQL_TERM_TUPLE ? "tuple" : k == CQL_TERM_UDT ? "user type" : "map",
                          name ? name : "?", nx_type_str(r, t));
    (void)lname;
    return bad_constant(r, term, t, name);
}

int nx_term(nx_req_t *r, const cql_term_t *term, const cql_type_t *t, const char *name,
            cql_bytes_t *out)
{
    int rc;
    switch (term->kind) {
    case CQL_TERM_BIND:
        rc = bound_value(r, term, out);
        if (rc == 0 && out->len >= 0)
            rc = nx_value_check(r, t, *out, name);
        return rc;
    case CQL_TERM_NULL:
        out->ptr = NULL;
        out->len = CQL_BYTES_NULL;
        return 0;
    case CQL_TERM_TYPE_HINT:
        return nx_term(r, term->items[0], t, name, out);
    case CQL_TERM_FUNCTION:
        return nx_term_function(r, term, t, name, out);
    default:
        rc = lit_scalar(r, term, t, name, out);
        if (rc == 0 && out->ptr == NULL && out->len >= 0)
            return CQLMQ_ENOMEM;
        return rc;
    }
}

int nx_term_required(nx_req_t *r, const cql_term_t *term, const cql_type_t *t, const char *name,
                     cql_bytes_t *out)
{
    int rc = nx_term(r, term, t, name, out);
    if (rc != 0)
        return rc;
    if (out->len == CQL_BYTES_NOT_SET)
        return nx_invalid(r, "Invalid unset value for column %s", name);
    if (out->len == CQL_BYTES_NULL)
        return nx_invalid(r, "Invalid null value for column %s", name);
    return 0;
}

/* A term of a fixed-size integer type: its bytes in *v (exactly size of
 * them), or *set = false when it is "not set". */
static int term_fixed(nx_req_t *r, const cql_term_t *term, cql_type_kind_t kind, int32_t size,
                      const char *name, cql_bytes_t *v, bool *set)
{
    *set = true;
    int rc = nx_term(r, term, nx_type(r, kind), name, v);
    if (rc != 0)
        return rc;
    if (v->len == CQL_BYTES_NOT_SET) {
        *set = false;
        return 0;
    }
    if (v->len != size)
        return nx_invalid(r, "Invalid null value of %s", name);
    return 0;
}

int nx_term_i64(nx_req_t *r, const cql_term_t *term, const char *name, int64_t *out, bool *set)
{
    cql_bytes_t v;
    int rc = term_fixed(r, term, CQL_TYPE_BIGINT, 8, name, &v, set);
    if (rc == 0 && *set)
        *out = (int64_t)cql_load_u64(v.ptr);
    return rc;
}

int nx_term_i32(nx_req_t *r, const cql_term_t *term, const char *name, int32_t *out, bool *set)
{
    cql_bytes_t v;
    int rc = term_fixed(r, term, CQL_TYPE_INT, 4, name, &v, set);
    if (rc == 0 && *set)
        *out = (int32_t)cql_load_u32(v.ptr);
    return rc;
}

