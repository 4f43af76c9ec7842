/*
 * wire_value_out: serialized CQL values -> msgpack (see wire_value.h and
 * docs/protocol.md section 8). The hot path of every Rows reply: no
 * allocation besides the writer's own growth, one pass over the bytes, the
 * payloads CQL and msgpack share (decimal, uuid, time, inet) copied as is.
 *
 * Checks follow the codec's rule (cql_value.h): scalar bytes of the wrong
 * size or out of the type's range are CQLMQ_EBADTYPE, broken collection
 * structure is CQLMQ_EMALFORMED.
 */
#include "wire_value.h"

#include <stdarg.h>
#include <stdio.h>

#include "cql_value.h"

/* ---- diagnostics (shared with wire_value_in.c) ------------------------ */

void wire_diag_set(wire_diag_t *d, const char *fmt, ...)
{
    if (d == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
}

void wire_diag_prefix(wire_diag_t *d, const char *fmt, ...)
{
    if (d == NULL)
        return;
    char step[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(step, sizeof step, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof step)
        n = sizeof step - 1;
    size_t old = strlen(d->msg);
    bool colon = old > 0 && d->msg[0] != '[' && d->msg[0] != '.' && d->msg[0] != '{';
    size_t add = (size_t)n + (colon ? 2 : 0);
    if (add >= sizeof d->msg)
        return;
    if (old + add >= sizeof d->msg)
        old = sizeof d->msg - 1 - add;
    memmove(d->msg + add, d->msg, old);
    d->msg[old + add] = '\0';
    memcpy(d->msg, step, (size_t)n);
    if (colon)
        memcpy(d->msg + n, ": ", 2);
}

/* ---- scalars ---------------------------------------------------------- */

static inline int64_t sx(uint64_t u, unsigned bits)
{
    uint64_t m = (uint64_t)1 << (bits - 1);
    u &= bits == 64 ? ~(uint64_t)0 : ((uint64_t)1 << bits) - 1;
    return (int64_t)((u ^ m) - m);
}

/* The timestamp extension for ms since the epoch: 64-bit form when the
 * seconds fit 34 bits unsigned, else the 96-bit form. */
static void put_timestamp(mpk_wr_t *w, int64_t ms)
{
    int64_t sec = ms / 1000, rem = ms % 1000;
    if (rem < 0)
        sec -= 1, rem += 1000;
    uint32_t nsec = (uint32_t)rem * 1000000u;
    uint8_t b[12];
    if (sec >= 0 && (uint64_t)sec < ((uint64_t)1 << 34)) {
        cql_store_u64(b, (uint64_t)nsec << 34 | (uint64_t)sec);
        mpk_wr_ext(w, WIRE_EXT_TIMESTAMP, b, 8);
    } else {
        cql_store_u32(b, nsec);
        cql_store_u64(b + 4, (uint64_t)sec);
        mpk_wr_ext(w, WIRE_EXT_TIMESTAMP, b, 12);
    }
}

/* Varint bytes without redundant sign bytes (n >= 1 stays >= 1). */
static size_t varint_strip(const uint8_t **pp, size_t n)
{
    const uint8_t *p = *pp;
    while (n > 1 && ((p[0] == 0x00 && !(p[1] & 0x80)) || (p[0] == 0xff && (p[1] & 0x80))))
        p++, n--;
    *pp = p;
    return n;
}

static int put_duration(mpk_wr_t *w, const uint8_t *p, size_t n)
{
    cql_rd_t r;
    int64_t mo, d, ns;
    cql_rd_init(&r, p, n);
    if (cql_rd_vint(&r, &mo) != 0 || cql_rd_vint(&r, &d) != 0 || cql_rd_vint(&r, &ns) != 0 ||
        cql_rd_left(&r) != 0)
        return CQLMQ_EBADTYPE;
    if (mo < INT32_MIN || mo > INT32_MAX || d < INT32_MIN || d > INT32_MAX)
        return CQLMQ_EBADTYPE;
    bool neg = mo < 0 || d < 0 || ns < 0, pos = mo > 0 || d > 0 || ns > 0;
    if (neg && pos)
        return CQLMQ_EBADTYPE;
    uint8_t b[16];
    cql_store_u32(b, (uint32_t)(int32_t)mo);
    cql_store_u32(b + 4, (uint32_t)(int32_t)d);
    cql_store_u64(b + 8, (uint64_t)ns);
    mpk_wr_ext(w, WIRE_EXT_DURATION, b, 16);
    return 0;
}

static int put_ascii(mpk_wr_t *w, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] > 127)
            return CQLMQ_EBADTYPE;
    mpk_wr_str(w, (const char *)p, n);
    return 0;
}

/* ---- the walk --------------------------------------------------------- */

static int put_value(mpk_wr_t *w, const cql_type_t *t, const uint8_t *p, int32_t len, int depth);

/* Reads one element [bytes] of a collection body: null (len -1) or a slice;
 * below -1 or past the end is EMALFORMED. */
static int next_elem(cql_rd_t *r, const uint8_t **p, int32_t *len)
{
    int32_t n;
    if (cql_rd_i32(r, &n) != 0)
        return CQLMQ_EMALFORMED;
    if (n < -1)
        return CQLMQ_EMALFORMED;
    if (n == -1) {
        *p = NULL;
        *len = -1;
        return 0;
    }
    if (cql_rd_raw(r, (size_t)n, p) != 0)
        return CQLMQ_EMALFORMED;
    *len = n;
    return 0;
}

static int put_coll(mpk_wr_t *w, const cql_type_t *t, const uint8_t *p, size_t n, int depth)
{
    cql_rd_t r;
    int32_t count;
    bool map = t->kind == CQL_TYPE_MAP;
    cql_rd_init(&r, p, n);
    if (cql_rd_count32(&r, map ? 8 : 4, &count) != 0)
        return CQLMQ_EMALFORMED;
    if (map)
        mpk_wr_map(w, (uint32_t)count);
    else
        mpk_wr_array(w, (uint32_t)count);
    for (int32_t i = 0; i < count; i++) {
        for (size_t k = 0; k < (map ? 2u : 1u); k++) {
            const uint8_t *ep;
            int32_t elen;
            int rc = next_elem(&r, &ep, &elen);
            if (rc == 0)
                rc = put_value(w, t->sub[map ? k : 0], ep, elen, depth + 1);
            if (rc != 0)
                return rc;
        }
    }
    return cql_rd_left(&r) == 0 ? 0 : CQLMQ_EMALFORMED;
}

/* Tuples and UDTs: up to nsub [bytes]; missing trailing components are nil. */
static int put_fields(mpk_wr_t *w, const cql_type_t *t, const uint8_t *p, size_t n, int depth)
{
    cql_rd_t r;
    bool udt = t->kind == CQL_TYPE_UDT;
    cql_rd_init(&r, p, n);
    if (t->nsub > UINT32_MAX)
        return CQLMQ_EMALFORMED;
    if (udt)
        mpk_wr_map(w, (uint32_t)t->nsub);
    else
        mpk_wr_array(w, (uint32_t)t->nsub);
    for (size_t i = 0; i < t->nsub; i++) {
        if (udt)
            mpk_wr_cstr(w, t->field_names[i]);
        if (cql_rd_left(&r) == 0) {
            mpk_wr_nil(w);
            continue;
        }
        const uint8_t *ep;
        int32_t elen;
        int rc = next_elem(&r, &ep, &elen);
        if (rc == 0)
            rc = put_value(w, t->sub[i], ep, elen, depth + 1);
        if (rc != 0)
            return rc;
    }
    return cql_rd_left(&r) == 0 ? 0 : CQLMQ_EMALFORMED;
}

static int put_value(mpk_wr_t *w, const cql_type_t *t, const uint8_t *p, int32_t len, int depth)
{
    size_t n = (size_t)len;
    if (len < 0) {
        mpk_wr_nil(w);
        return 0;
    }
    if (depth > WIRE_VALUE_MAX_DEPTH)
        return CQLMQ_ELIMIT;
    switch (t->kind) {
    case CQL_TYPE_VARCHAR:
        if (cql_utf8_validate(p, n) != 0)
            return CQLMQ_EUTF8;
        mpk_wr_str(w, (const char *)p, n);
        return 0;
    case CQL_TYPE_ASCII: return put_ascii(w, p, n);
    case CQL_TYPE_BLOB:
    case CQL_TYPE_CUSTOM: mpk_wr_bin(w, p, n); return 0;
    default: break;
    }
    if (len == 0) { /* Cassandra's "empty" value of a non-text type */
        mpk_wr_ext(w, WIRE_EXT_EMPTY, NULL, 0);
        return 0;
    }
    switch (t->kind) {
    case CQL_TYPE_BOOLEAN:
        if (n != 1)
            return CQLMQ_EBADTYPE;
        mpk_wr_bool(w, p[0] != 0);
        return 0;
    case CQL_TYPE_TINYINT:
        if (n != 1)
            return CQLMQ_EBADTYPE;
        mpk_wr_int(w, (int8_t)p[0]);
        return 0;
    case CQL_TYPE_SMALLINT:
        if (n != 2)
            return CQLMQ_EBADTYPE;
        mpk_wr_int(w, (int16_t)cql_load_u16(p));
        return 0;
    case CQL_TYPE_INT:
        if (n != 4)
            return CQLMQ_EBADTYPE;
        mpk_wr_int(w, (int32_t)cql_load_u32(p));
        return 0;
    case CQL_TYPE_BIGINT:
    case CQL_TYPE_COUNTER:
        if (n != 8)
            return CQLMQ_EBADTYPE;
        mpk_wr_int(w, (int64_t)cql_load_u64(p));
        return 0;
    case CQL_TYPE_VARINT: {
        int64_t v;
        n = varint_strip(&p, n);
        if (n <= 8) {
            uint64_t u = 0;
            for (size_t i = 0; i < n; i++)
                u = u << 8 | p[i];
            v = sx(u, (unsigned)(8 * n));
            mpk_wr_int(w, v);
        } else if (n == 9 && p[0] == 0x00) {
            mpk_wr_uint(w, cql_load_u64(p + 1)); /* 2^63 .. 2^64-1 */
        } else {
            mpk_wr_ext(w, WIRE_EXT_VARINT, p, n);
        }
        return 0;
    }
    case CQL_TYPE_FLOAT: {
        if (n != 4)
            return CQLMQ_EBADTYPE;
        uint32_t u = cql_load_u32(p);
        float f;
        memcpy(&f, &u, 4);
        mpk_wr_f32(w, f);
        return 0;
    }
    case CQL_TYPE_DOUBLE: {
        if (n != 8)
            return CQLMQ_EBADTYPE;
        uint64_t u = cql_load_u64(p);
        double d;
        memcpy(&d, &u, 8);
        mpk_wr_f64(w, d);
        return 0;
    }
    case CQL_TYPE_DECIMAL:
        if (n < 5)
            return CQLMQ_EBADTYPE;
        mpk_wr_ext(w, WIRE_EXT_DECIMAL, p, n);
        return 0;
    case CQL_TYPE_UUID:
    case CQL_TYPE_TIMEUUID:
        if (n != 16)
            return CQLMQ_EBADTYPE;
        mpk_wr_ext(w, WIRE_EXT_UUID, p, 16);
        return 0;
    case CQL_TYPE_TIMESTAMP:
        if (n != 8)
            return CQLMQ_EBADTYPE;
        put_timestamp(w, (int64_t)cql_load_u64(p));
        return 0;
    case CQL_TYPE_DATE: {
        if (n != 4)
            return CQLMQ_EBADTYPE;
        uint8_t b[4];
        cql_store_u32(b, cql_load_u32(p) ^ 0x80000000u); /* - 2^31, as int32 */
        mpk_wr_ext(w, WIRE_EXT_DATE, b, 4);
        return 0;
    }
    case CQL_TYPE_TIME: {
        if (n != 8)
            return CQLMQ_EBADTYPE;
        int64_t ns = (int64_t)cql_load_u64(p);
        if (ns < 0 || ns > CQL_TIME_MAX)
            return CQLMQ_EBADTYPE;
        mpk_wr_ext(w, WIRE_EXT_TIME, p, 8);
        return 0;
    }
    case CQL_TYPE_DURATION: return put_duration(w, p, n);
    case CQL_TYPE_INET:
        if (n != 4 && n != 16)
            return CQLMQ_EBADTYPE;
        mpk_wr_ext(w, WIRE_EXT_INET, p, n);
        return 0;
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET:
    case CQL_TYPE_MAP: return put_coll(w, t, p, n, depth);
    case CQL_TYPE_TUPLE:
    case CQL_TYPE_UDT: return put_fields(w, t, p, n, depth);
    default: return CQLMQ_EBADTYPE;
    }
}

int wire_value_to_mpk(mpk_wr_t *w, const cql_type_t *t, cql_bytes_t v)
{
    size_t start = w->len;
    if (w->err)
        return w->err;
    int rc = put_value(w, t, v.ptr, v.len, 0);
    if (rc == 0)
        rc = w->err;
    if (rc != 0 && !w->err)
        mpk_wr_truncate(w, start);
    return rc;
}
