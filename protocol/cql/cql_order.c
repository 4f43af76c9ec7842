/*
 * cql_order: Cassandra's comparators on serialized values (see cql_order.h
 * for the order of each type). This is on the storage hot path: scalar
 * types compare in place without decoding; collections, tuples and UDTs walk
 * both values element by element.
 *
 * Every function returns -1, 0 or 1 (never a difference), so callers may
 * negate results freely for DESC order.
 */
#include "cql_order.h"

#include <string.h>

#include "cql_value.h"

static inline int sgn(int c) { return (c > 0) - (c < 0); }

/* Unsigned bytewise, a proper prefix first. */
static int cmp_bytes(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    size_t n = na < nb ? na : nb;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return sgn(c);
    return (na > nb) - (na < nb);
}

static int cmp_whole(cql_bytes_t a, cql_bytes_t b)
{
    return cmp_bytes(a.ptr, (size_t)a.len, b.ptr, (size_t)b.len);
}

/* Two's complement of any equal or unequal length as Cassandra's fixed-size
 * integer types do it: first byte signed, then the rest unsigned. */
static int cmp_signed(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    int c = (int)(int8_t)a[0] - (int)(int8_t)b[0];
    if (c != 0)
        return sgn(c);
    return cmp_bytes(a + 1, na - 1, b + 1, nb - 1);
}

/* Java's Double.compare (and Float.compare, on widened values whose NaNs
 * are all canonical and whose -0.0 keeps its sign). */
static int java_compare(double x, double y)
{
    if (x < y)
        return -1;
    if (x > y)
        return 1;
    uint64_t bx, by;
    memcpy(&bx, &x, 8);
    memcpy(&by, &y, 8);
    if (x != x)
        bx = UINT64_C(0x7ff8000000000000);
    if (y != y)
        by = UINT64_C(0x7ff8000000000000);
    int64_t sx = (int64_t)bx, sy = (int64_t)by;
    return (sx > sy) - (sx < sy);
}

static double load_float(const uint8_t *p)
{
    uint32_t u = cql_load_u32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static double load_double(const uint8_t *p)
{
    uint64_t u = cql_load_u64(p);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* The 60-bit timestamp of a version 1 UUID's high 8 bytes, version on top:
 * time_hi_and_version, time_mid, time_low. */
static uint64_t reorder_msb(const uint8_t *p)
{
    uint64_t m = cql_load_u64(p);
    return (m << 48) | ((m << 16) & UINT64_C(0xFFFF00000000)) | (m >> 32);
}

static int cmp_u64(uint64_t x, uint64_t y) { return (x > y) - (x < y); }
static int cmp_i64(int64_t x, int64_t y) { return (x > y) - (x < y); }

static int cmp_uuid(const uint8_t *a, const uint8_t *b)
{
    int va = a[6] >> 4, vb = b[6] >> 4;
    if (va != vb)
        return va < vb ? -1 : 1;
    if (va == 1) {
        int c = cmp_u64(reorder_msb(a), reorder_msb(b));
        if (c != 0)
            return c;
        return sgn(memcmp(a + 8, b + 8, 8));
    }
    return sgn(memcmp(a, b, 16));
}

static int cmp_timeuuid(const uint8_t *a, const uint8_t *b)
{
    int c = cmp_i64((int64_t)reorder_msb(a), (int64_t)reorder_msb(b));
    if (c != 0)
        return c;
    for (int i = 8; i < 16; i++) /* signed bytes, for compatibility */
        if (a[i] != b[i])
            return (int8_t)a[i] < (int8_t)b[i] ? -1 : 1;
    return 0;
}

/* Reads an element [bytes] at *pos of v; false when it does not fit. */
static bool next_elem(cql_bytes_t v, size_t *pos, cql_bytes_t *out)
{
    size_t len = (size_t)v.len;
    if (len - *pos < 4)
        return false;
    int32_t n = (int32_t)cql_load_u32(v.ptr + *pos);
    *pos += 4;
    if (n < 0) {
        out->ptr = NULL;
        out->len = CQL_BYTES_NULL;
        return true;
    }
    if ((size_t)n > len - *pos)
        return false;
    out->ptr = v.ptr + *pos;
    out->len = n;
    *pos += (size_t)n;
    return true;
}

/* list, set (per = 1) and map (per = 2: key then value). */
static int cmp_coll(const cql_type_t *t, cql_bytes_t a, cql_bytes_t b)
{
    if (a.len < 4 || b.len < 4)
        return cmp_whole(a, b);
    int32_t na = (int32_t)cql_load_u32(a.ptr), nb = (int32_t)cql_load_u32(b.ptr);
    if (na < 0 || nb < 0)
        return cmp_whole(a, b);
    size_t per = t->kind == CQL_TYPE_MAP ? 2 : 1;
    int32_t n = na < nb ? na : nb;
    size_t pa = 4, pb = 4;
    for (int32_t i = 0; i < n; i++) {
        for (size_t k = 0; k < per; k++) {
            cql_bytes_t ea, eb;
            if (!next_elem(a, &pa, &ea) || !next_elem(b, &pb, &eb))
                return cmp_whole(a, b);
            int c = cql_order_compare(t->sub[k], ea, eb);
            if (c != 0)
                return c;
        }
    }
    return (na > nb) - (na < nb);
}

/* Whether every component from pos on is null (or there are none). */
static bool rest_null(cql_bytes_t v, size_t pos)
{
    cql_bytes_t e;
    while (pos < (size_t)v.len) {
        if (!next_elem(v, &pos, &e))
            return false;
        if (e.len >= 0)
            return false;
    }
    return true;
}

/* tuple and UDT: Cassandra's TupleType.compareCustom. */
static int cmp_tuple(const cql_type_t *t, cql_bytes_t a, cql_bytes_t b)
{
    size_t pa = 0, pb = 0, la = (size_t)a.len, lb = (size_t)b.len;
    for (size_t i = 0; pa < la && pb < lb; i++) {
        cql_bytes_t ea, eb;
        if (i >= t->nsub || !next_elem(a, &pa, &ea) || !next_elem(b, &pb, &eb))
            return cmp_whole(a, b);
        if (ea.len < 0 || eb.len < 0) {
            if (ea.len < 0 && eb.len < 0)
                continue;
            return ea.len < 0 ? -1 : 1;
        }
        int c = cql_order_compare(t->sub[i], ea, eb);
        if (c != 0)
            return c;
    }
    bool ra = rest_null(a, pa), rb = rest_null(b, pb);
    if (ra && rb)
        return 0;
    if (pa >= la)
        return rb ? 0 : -1;
    return ra ? 0 : 1;
}

int cql_order_compare(const cql_type_t *t, cql_bytes_t a, cql_bytes_t b)
{
    /* markers: null (and not set) < empty < any value */
    if (a.len <= 0 || b.len <= 0) {
        int ra = a.len < 0 ? 0 : a.len == 0 ? 1 : 2;
        int rb = b.len < 0 ? 0 : b.len == 0 ? 1 : 2;
        return (ra > rb) - (ra < rb);
    }
    const uint8_t *pa = a.ptr, *pb = b.ptr;
    size_t na = (size_t)a.len, nb = (size_t)b.len;
    switch (t->kind) {
    case CQL_TYPE_TINYINT:
    case CQL_TYPE_SMALLINT:
    case CQL_TYPE_INT:
    case CQL_TYPE_BIGINT:
    case CQL_TYPE_COUNTER:
    case CQL_TYPE_TIMESTAMP:
    case CQL_TYPE_TIME:
        return cmp_signed(pa, na, pb, nb);
    case CQL_TYPE_VARINT:
        return cql_varint_compare(pa, na, pb, nb);
    case CQL_TYPE_DECIMAL:
        if (na < 5 || nb < 5)
            return cmp_bytes(pa, na, pb, nb);
        return cql_decimal_compare((int32_t)cql_load_u32(pa), pa + 4, na - 4,
                                   (int32_t)cql_load_u32(pb), pb + 4, nb - 4);
    case CQL_TYPE_FLOAT:
        if (na != 4 || nb != 4)
            return cmp_bytes(pa, na, pb, nb);
        return java_compare(load_float(pa), load_float(pb));
    case CQL_TYPE_DOUBLE:
        if (na != 8 || nb != 8)
            return cmp_bytes(pa, na, pb, nb);
        return java_compare(load_double(pa), load_double(pb));
    case CQL_TYPE_BOOLEAN:
        return (pa[0] != 0) - (pb[0] != 0);
    case CQL_TYPE_UUID:
        if (na != 16 || nb != 16)
            return cmp_bytes(pa, na, pb, nb);
        return cmp_uuid(pa, pb);
    case CQL_TYPE_TIMEUUID:
        if (na != 16 || nb != 16)
            return cmp_bytes(pa, na, pb, nb);
        return cmp_timeuuid(pa, pb);
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET:
    case CQL_TYPE_MAP:
        return cmp_coll(t, a, b);
    case CQL_TYPE_TUPLE:
    case CQL_TYPE_UDT:
        return cmp_tuple(t, a, b);
    default: /* ascii text blob inet date custom duration */
        return cmp_bytes(pa, na, pb, nb);
    }
}

static int supported(const cql_type_t *t, bool frozen_ok, int depth)
{
    if (depth >= 2 * CQL_TYPE_MAX_DEPTH)
        return CQLMQ_EUNSUPPORTED;
    switch (t->kind) {
    case CQL_TYPE_DURATION:
    case CQL_TYPE_COUNTER:
        return CQLMQ_EUNSUPPORTED;
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET:
    case CQL_TYPE_MAP:
    case CQL_TYPE_UDT:
        if (depth == 0 && !t->frozen && !frozen_ok)
            return CQLMQ_EUNSUPPORTED;
        break;
    default:
        break;
    }
    for (size_t i = 0; i < t->nsub; i++) {
        int rc = supported(t->sub[i], frozen_ok, depth + 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int cql_order_supported(const cql_type_t *t, bool frozen_ok)
{
    return supported(t, frozen_ok, 0);
}

int cql_order_key_compare(const cql_order_col_t *cols, const cql_bytes_t *a, size_t na,
                          const cql_bytes_t *b, size_t nb)
{
    size_t n = na < nb ? na : nb;
    for (size_t i = 0; i < n; i++) {
        int c = cql_order_compare(cols[i].type, a[i], b[i]);
        if (c != 0)
            return cols[i].desc ? -c : c;
    }
    return 0;
}
