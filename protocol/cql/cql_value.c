/*
 * cql_value: decoding serialized values into trees (and validating them
 * without a tree), value constructors, and equality. Encoding is in
 * cql_value_encode.c, the CQL literal formatter in cql_value_format.c,
 * number helpers in cql_value_num.c.
 *
 * One walker serves decode and validate: with an arena it builds the tree,
 * without one it decodes each element into a scratch value on the stack and
 * allocates nothing. Counts are checked against the bytes that remain before
 * any array is allocated (an element needs at least its 4-byte length), and
 * the depth follows the type, bounded by CQL_VALUE_MAX_DEPTH.
 */
#include "cql_value.h"

#include <string.h>

/* Kinds for which zero bytes are a value rather than Cassandra's "empty". */
static bool zero_len_is_value(cql_type_kind_t k)
{
    return k == CQL_TYPE_ASCII || k == CQL_TYPE_VARCHAR || k == CQL_TYPE_BLOB ||
           k == CQL_TYPE_CUSTOM;
}

static int fixed_size(cql_type_kind_t k)
{
    switch (k) {
    case CQL_TYPE_BOOLEAN:
    case CQL_TYPE_TINYINT:
        return 1;
    case CQL_TYPE_SMALLINT:
        return 2;
    case CQL_TYPE_INT:
    case CQL_TYPE_DATE:
    case CQL_TYPE_FLOAT:
        return 4;
    case CQL_TYPE_BIGINT:
    case CQL_TYPE_COUNTER:
    case CQL_TYPE_TIMESTAMP:
    case CQL_TYPE_TIME:
    case CQL_TYPE_DOUBLE:
        return 8;
    case CQL_TYPE_UUID:
    case CQL_TYPE_TIMEUUID:
        return 16;
    default:
        return 0;
    }
}

/* Sign-extends n <= 8 big-endian bytes. */
static int64_t load_signed(const uint8_t *p, size_t n)
{
    uint64_t v = (p[0] & 0x80) ? UINT64_MAX : 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return (int64_t)v;
}

static void set_varint(cql_varint_t *v, const uint8_t *p, size_t n)
{
    v->ptr = p;
    v->len = n;
    v->fits = cql_varint_to_i64(p, n, &v->i64);
}

static int decode_duration(const uint8_t *p, size_t n, cql_value_t *out)
{
    cql_rd_t r;
    int64_t m, d, ns;
    cql_rd_init(&r, p, n);
    if (cql_rd_vint(&r, &m) != 0 || cql_rd_vint(&r, &d) != 0 || cql_rd_vint(&r, &ns) != 0 ||
        cql_rd_left(&r) != 0)
        return CQLMQ_EBADTYPE;
    if (m < INT32_MIN || m > INT32_MAX || d < INT32_MIN || d > INT32_MAX)
        return CQLMQ_EBADTYPE;
    bool any_neg = m < 0 || d < 0 || ns < 0, any_pos = m > 0 || d > 0 || ns > 0;
    if (any_neg && any_pos)
        return CQLMQ_EBADTYPE;
    out->u.duration.months = (int32_t)m;
    out->u.duration.days = (int32_t)d;
    out->u.duration.nanos = ns;
    return 0;
}

static int decode_rec(const cql_type_t *t, cql_bytes_t in, cql_arena_t *a, cql_value_t *out,
                      int depth);

/* Reads one element [bytes]: -1 is null, below -1 malformed. */
static int read_elem(cql_rd_t *r, cql_bytes_t *e)
{
    int32_t n;
    if (cql_rd_i32(r, &n) != 0)
        return CQLMQ_EMALFORMED;
    if (n < -1)
        return CQLMQ_EMALFORMED;
    e->len = n;
    e->ptr = NULL;
    if (n < 0)
        return 0;
    return cql_rd_raw(r, (size_t)n, &e->ptr) == 0 ? 0 : CQLMQ_EMALFORMED;
}

static int decode_coll(const cql_type_t *t, const uint8_t *p, size_t n, cql_arena_t *a,
                       cql_value_t *out, int depth)
{
    cql_rd_t r;
    cql_rd_init(&r, p, n);
    size_t per = t->kind == CQL_TYPE_MAP ? 2 : 1;
    if (t->nsub != per)
        return CQLMQ_EBADTYPE;
    int32_t count;
    if (cql_rd_count32(&r, 4 * per, &count) != 0)
        return CQLMQ_EMALFORMED;
    cql_value_t scratch, *items = NULL;
    if (a != NULL && count > 0 &&
        (items = cql_arena_calloc(a, (size_t)count * per, sizeof *items)) == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < (size_t)count * per; i++) {
        cql_bytes_t e;
        int rc = read_elem(&r, &e);
        if (rc == 0)
            rc = decode_rec(t->sub[i % per], e, a, items ? &items[i] : &scratch, depth + 1);
        if (rc != 0)
            return rc;
    }
    if (cql_rd_left(&r) != 0)
        return CQLMQ_EMALFORMED;
    out->u.coll.n = (size_t)count;
    out->u.coll.items = items;
    return 0;
}

/* Tuples and UDTs: up to nsub [bytes]; missing trailing ones are null. */
static int decode_fields(const cql_type_t *t, const uint8_t *p, size_t n, cql_arena_t *a,
                         cql_value_t *out, int depth)
{
    cql_rd_t r;
    cql_rd_init(&r, p, n);
    cql_value_t scratch, *items = NULL;
    if (a != NULL && t->nsub > 0 &&
        (items = cql_arena_calloc(a, t->nsub, sizeof *items)) == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < t->nsub; i++) {
        cql_value_t *it = items ? &items[i] : &scratch;
        if (cql_rd_left(&r) == 0) {
            it->state = CQL_VALUE_NULL;
            it->kind = t->sub[i]->kind;
            continue;
        }
        cql_bytes_t e;
        int rc = read_elem(&r, &e);
        if (rc == 0)
            rc = decode_rec(t->sub[i], e, a, it, depth + 1);
        if (rc != 0)
            return rc;
    }
    if (cql_rd_left(&r) != 0)
        return CQLMQ_EMALFORMED;
    out->u.coll.n = t->nsub;
    out->u.coll.items = items;
    return 0;
}

static int decode_rec(const cql_type_t *t, cql_bytes_t in, cql_arena_t *a, cql_value_t *out,
                      int depth)
{
    if (depth >= CQL_VALUE_MAX_DEPTH)
        return CQLMQ_ELIMIT;
    memset(out, 0, sizeof *out);
    out->kind = t->kind;
    if (in.len < 0) {
        if (in.len == CQL_BYTES_NULL)
            out->state = CQL_VALUE_NULL;
        else if (in.len == CQL_BYTES_NOT_SET)
            out->state = CQL_VALUE_NOT_SET;
        else
            return CQLMQ_EMALFORMED;
        return 0;
    }
    const uint8_t *p = in.ptr;
    size_t n = (size_t)in.len;
    if (n == 0 && !zero_len_is_value(t->kind)) {
        out->state = CQL_VALUE_EMPTY;
        return 0;
    }
    out->state = CQL_VALUE_SET;
    int fs = fixed_size(t->kind);
    if (fs != 0 && n != (size_t)fs)
        return CQLMQ_EBADTYPE;
    switch (t->kind) {
    case CQL_TYPE_ASCII:
        for (size_t i = 0; i < n; i++)
            if (p[i] > 127)
                return CQLMQ_EBADTYPE;
        /* fallthrough */
    case CQL_TYPE_BLOB:
    case CQL_TYPE_CUSTOM:
        out->u.raw.ptr = p;
        out->u.raw.len = n;
        return 0;
    case CQL_TYPE_VARCHAR:
        if (cql_utf8_validate(p, n) != 0)
            return CQLMQ_EUTF8;
        out->u.raw.ptr = p;
        out->u.raw.len = n;
        return 0;
    case CQL_TYPE_BOOLEAN:
        out->u.b = p[0] != 0;
        return 0;
    case CQL_TYPE_TIME:
        out->u.i = load_signed(p, 8);
        return out->u.i < 0 || out->u.i > CQL_TIME_MAX ? CQLMQ_EBADTYPE : 0;
    case CQL_TYPE_TINYINT:
    case CQL_TYPE_SMALLINT:
    case CQL_TYPE_INT:
    case CQL_TYPE_BIGINT:
    case CQL_TYPE_COUNTER:
    case CQL_TYPE_TIMESTAMP:
        out->u.i = load_signed(p, n);
        return 0;
    case CQL_TYPE_DATE:
        out->u.date = cql_load_u32(p);
        return 0;
    case CQL_TYPE_FLOAT: {
        uint32_t u = cql_load_u32(p);
        memcpy(&out->u.f, &u, 4);
        return 0;
    }
    case CQL_TYPE_DOUBLE: {
        uint64_t u = cql_load_u64(p);
        memcpy(&out->u.d, &u, 8);
        return 0;
    }
    case CQL_TYPE_TIMEUUID:
        if ((p[6] & 0xf0) != 0x10)
            return CQLMQ_EBADTYPE;
        /* fallthrough */
    case CQL_TYPE_UUID:
        memcpy(out->u.uuid, p, 16);
        return 0;
    case CQL_TYPE_INET:
        if (n != 4 && n != 16)
            return CQLMQ_EBADTYPE;
        out->u.inet.size = (uint8_t)n;
        memcpy(out->u.inet.addr, p, n);
        return 0;
    case CQL_TYPE_VARINT:
        set_varint(&out->u.varint, p, n);
        return 0;
    case CQL_TYPE_DECIMAL:
        if (n < 5)
            return CQLMQ_EBADTYPE;
        out->u.decimal.scale = (int32_t)cql_load_u32(p);
        set_varint(&out->u.decimal.unscaled, p + 4, n - 4);
        return 0;
    case CQL_TYPE_DURATION:
        return decode_duration(p, n, out);
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET:
    case CQL_TYPE_MAP:
        return decode_coll(t, p, n, a, out, depth);
    case CQL_TYPE_TUPLE:
    case CQL_TYPE_UDT:
        return decode_fields(t, p, n, a, out, depth);
    default:
        return CQLMQ_EBADTYPE;
    }
}

int cql_value_decode(const cql_type_t *t, cql_bytes_t in, cql_arena_t *a, cql_value_t *out)
{
    return decode_rec(t, in, a, out, 0);
}

int cql_value_validate(const cql_type_t *t, cql_bytes_t in)
{
    cql_value_t scratch;
    return decode_rec(t, in, NULL, &scratch, 0);
}

/* ---- constructors ---------------------------------------------------- */

static cql_value_t mk(cql_type_kind_t kind)
{
    cql_value_t v;
    memset(&v, 0, sizeof v);
    v.state = CQL_VALUE_SET;
    v.kind = kind;
    return v;
}

static cql_value_t mk_i(cql_type_kind_t kind, int64_t i)
{
    cql_value_t v = mk(kind);
    v.u.i = i;
    return v;
}

static cql_value_t mk_raw(cql_type_kind_t kind, const void *p, size_t n)
{
    cql_value_t v = mk(kind);
    v.u.raw.ptr = p;
    v.u.raw.len = n;
    return v;
}

cql_value_t cql_value_null(void)
{
    cql_value_t v = mk(CQL_TYPE_CUSTOM);
    v.state = CQL_VALUE_NULL;
    return v;
}

cql_value_t cql_value_not_set(void)
{
    cql_value_t v = mk(CQL_TYPE_CUSTOM);
    v.state = CQL_VALUE_NOT_SET;
    return v;
}

cql_value_t cql_value_empty(cql_type_kind_t kind)
{
    cql_value_t v = mk(kind);
    v.state = CQL_VALUE_EMPTY;
    return v;
}

cql_value_t cql_value_boolean(bool b)
{
    cql_value_t v = mk(CQL_TYPE_BOOLEAN);
    v.u.b = b;
    return v;
}

cql_value_t cql_value_tinyint(int8_t i) { return mk_i(CQL_TYPE_TINYINT, i); }
cql_value_t cql_value_smallint(int16_t i) { return mk_i(CQL_TYPE_SMALLINT, i); }
cql_value_t cql_value_int(int32_t i) { return mk_i(CQL_TYPE_INT, i); }
cql_value_t cql_value_bigint(int64_t i) { return mk_i(CQL_TYPE_BIGINT, i); }
cql_value_t cql_value_counter(int64_t i) { return mk_i(CQL_TYPE_COUNTER, i); }
cql_value_t cql_value_timestamp(int64_t ms) { return mk_i(CQL_TYPE_TIMESTAMP, ms); }
cql_value_t cql_value_time(int64_t ns) { return mk_i(CQL_TYPE_TIME, ns); }

cql_value_t cql_value_date(uint32_t raw)
{
    cql_value_t v = mk(CQL_TYPE_DATE);
    v.u.date = raw;
    return v;
}

cql_value_t cql_value_date_days(int32_t days)
{
    return cql_value_date((uint32_t)((int64_t)days + CQL_DATE_EPOCH));
}

cql_value_t cql_value_float(float f)
{
    cql_value_t v = mk(CQL_TYPE_FLOAT);
    v.u.f = f;
    return v;
}

cql_value_t cql_value_double(double d)
{
    cql_value_t v = mk(CQL_TYPE_DOUBLE);
    v.u.d = d;
    return v;
}

cql_value_t cql_value_text(const char *s) { return mk_raw(CQL_TYPE_VARCHAR, s, strlen(s)); }
cql_value_t cql_value_textn(const char *s, size_t n) { return mk_raw(CQL_TYPE_VARCHAR, s, n); }
cql_value_t cql_value_ascii(const char *s) { return mk_raw(CQL_TYPE_ASCII, s, strlen(s)); }
cql_value_t cql_value_blob(const void *p, size_t n) { return mk_raw(CQL_TYPE_BLOB, p, n); }
cql_value_t cql_value_custom(const void *p, size_t n) { return mk_raw(CQL_TYPE_CUSTOM, p, n); }

cql_value_t cql_value_uuid(const uint8_t u[16])
{
    cql_value_t v = mk(CQL_TYPE_UUID);
    memcpy(v.u.uuid, u, 16);
    return v;
}

cql_value_t cql_value_timeuuid(const uint8_t u[16])
{
    cql_value_t v = cql_value_uuid(u);
    v.kind = CQL_TYPE_TIMEUUID;
    return v;
}

cql_value_t cql_value_inet(const uint8_t *addr, size_t size)
{
    cql_value_t v = mk(CQL_TYPE_INET);
    v.u.inet.size = (uint8_t)(size == 16 ? 16 : 4);
    memcpy(v.u.inet.addr, addr, v.u.inet.size);
    return v;
}

cql_value_t cql_value_varint(int64_t i)
{
    cql_value_t v = mk(CQL_TYPE_VARINT);
    v.u.varint.i64 = i;
    v.u.varint.fits = true;
    return v;
}

cql_value_t cql_value_varint_bytes(const uint8_t *p, size_t n)
{
    cql_value_t v = mk(CQL_TYPE_VARINT);
    set_varint(&v.u.varint, p, n);
    return v;
}

cql_value_t cql_value_decimal(int32_t scale, int64_t unscaled)
{
    cql_value_t v = mk(CQL_TYPE_DECIMAL);
    v.u.decimal.scale = scale;
    v.u.decimal.unscaled.i64 = unscaled;
    v.u.decimal.unscaled.fits = true;
    return v;
}

cql_value_t cql_value_decimal_bytes(int32_t scale, const uint8_t *p, size_t n)
{
    cql_value_t v = mk(CQL_TYPE_DECIMAL);
    v.u.decimal.scale = scale;
    set_varint(&v.u.decimal.unscaled, p, n);
    return v;
}

cql_value_t cql_value_duration(int32_t months, int32_t days, int64_t nanos)
{
    cql_value_t v = mk(CQL_TYPE_DURATION);
    v.u.duration.months = months;
    v.u.duration.days = days;
    v.u.duration.nanos = nanos;
    return v;
}

int cql_value_coll_new(cql_arena_t *a, cql_type_kind_t kind, size_t n, cql_value_t *out)
{
    size_t per = kind == CQL_TYPE_MAP ? 2 : 1;
    if (kind != CQL_TYPE_LIST && kind != CQL_TYPE_SET && kind != CQL_TYPE_MAP &&
        kind != CQL_TYPE_TUPLE && kind != CQL_TYPE_UDT)
        return CQLMQ_EINVAL;
    if (n > SIZE_MAX / 2)
        return CQLMQ_ENOMEM;
    *out = mk(kind);
    out->u.coll.n = n;
    out->u.coll.items = cql_arena_calloc(a, n > 0 ? n * per : 1, sizeof(cql_value_t));
    if (out->u.coll.items == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < n * per; i++)
        out->u.coll.items[i] = cql_value_null();
    return 0;
}

/* ---- equality -------------------------------------------------------- */

static bool is_int_kind(cql_type_kind_t k)
{
    return k == CQL_TYPE_TINYINT || k == CQL_TYPE_SMALLINT || k == CQL_TYPE_INT ||
           k == CQL_TYPE_BIGINT || k == CQL_TYPE_COUNTER || k == CQL_TYPE_VARINT;
}

static bool varint_equal(const cql_varint_t *x, const cql_varint_t *y)
{
    if (x->fits || y->fits)
        return x->fits && y->fits && x->i64 == y->i64;
    return cql_varint_compare(x->ptr, x->len, y->ptr, y->len) == 0;
}

/* An integer-kind value as a varint view (for cross-kind comparison). */
static cql_varint_t as_varint(const cql_value_t *v)
{
    if (v->kind == CQL_TYPE_VARINT)
        return v->u.varint;
    cql_varint_t r = {NULL, 0, v->u.i, true};
    return r;
}

static bool equal_rec(const cql_value_t *x, const cql_value_t *y, int depth)
{
    if (x->state != y->state)
        return false;
    if (x->state != CQL_VALUE_SET)
        return x->state != CQL_VALUE_EMPTY || x->kind == y->kind;
    if (is_int_kind(x->kind) && is_int_kind(y->kind)) {
        cql_varint_t a = as_varint(x), b = as_varint(y);
        return varint_equal(&a, &b);
    }
    if (x->kind != y->kind || depth >= 2 * CQL_VALUE_MAX_DEPTH)
        return false;
    switch (x->kind) {
    case CQL_TYPE_BOOLEAN:
        return x->u.b == y->u.b;
    case CQL_TYPE_TIMESTAMP:
    case CQL_TYPE_TIME:
        return x->u.i == y->u.i;
    case CQL_TYPE_DATE:
        return x->u.date == y->u.date;
    case CQL_TYPE_FLOAT:
        return memcmp(&x->u.f, &y->u.f, sizeof x->u.f) == 0;
    case CQL_TYPE_DOUBLE:
        return memcmp(&x->u.d, &y->u.d, sizeof x->u.d) == 0;
    case CQL_TYPE_ASCII:
    case CQL_TYPE_VARCHAR:
    case CQL_TYPE_BLOB:
    case CQL_TYPE_CUSTOM:
        return x->u.raw.len == y->u.raw.len &&
               (x->u.raw.len == 0 || memcmp(x->u.raw.ptr, y->u.raw.ptr, x->u.raw.len) == 0);
    case CQL_TYPE_UUID:
    case CQL_TYPE_TIMEUUID:
        return memcmp(x->u.uuid, y->u.uuid, 16) == 0;
    case CQL_TYPE_INET:
        return x->u.inet.size == y->u.inet.size &&
               memcmp(x->u.inet.addr, y->u.inet.addr, x->u.inet.size) == 0;
    case CQL_TYPE_DECIMAL:
        return x->u.decimal.scale == y->u.decimal.scale &&
               varint_equal(&x->u.decimal.unscaled, &y->u.decimal.unscaled);
    case CQL_TYPE_DURATION:
        return x->u.duration.months == y->u.duration.months &&
               x->u.duration.days == y->u.duration.days &&
               x->u.duration.nanos == y->u.duration.nanos;
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET:
    case CQL_TYPE_MAP: {
        if (x->u.coll.n != y->u.coll.n)
            return false;
        size_t n = x->u.coll.n * (x->kind == CQL_TYPE_MAP ? 2 : 1);
        for (size_t i = 0; i < n; i++)
            if (!equal_rec(&x->u.coll.items[i], &y->u.coll.items[i], depth + 1))
                return false;
        return true;
    }
    case CQL_TYPE_TUPLE:
    case CQL_TYPE_UDT: {
        /* a missing trailing component equals a null one */
        size_t n = x->u.coll.n > y->u.coll.n ? x->u.coll.n : y->u.coll.n;
        cql_value_t null = cql_value_null();
        for (size_t i = 0; i < n; i++) {
            const cql_value_t *a = i < x->u.coll.n ? &x->u.coll.items[i] : &null;
            const cql_value_t *b = i < y->u.coll.n ? &y->u.coll.items[i] : &null;
            if (!equal_rec(a, b, depth + 1))
                return false;
        }
        return true;
    }
    default:
        return false;
    }
}

bool cql_value_equal(const cql_value_t *x, const cql_value_t *y)
{
    return equal_rec(x, y, 0);
}
