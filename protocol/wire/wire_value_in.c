/*
 * wire_value_in: msgpack bind parameters -> serialized CQL [value]s (see
 * wire_value.h and docs/protocol.md section 8, right column).
 *
 * The input is a client's, so it is never trusted: the bounded reader
 * checks every length and count before use, recursion follows the type
 * tree (not the msgpack nesting), and a failure leaves reader and writer
 * where they were, with a message saying where in the value and why
 * ("[2].zip: expected int, got str").
 */
#include "wire_value.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cql_value.h"

/* ---- messages --------------------------------------------------------- */

static const char *type_name(const cql_type_t *t)
{
    const char *s = cql_type_kind_name((int)t->kind);
    return s != NULL ? s : "?";
}

static const char *mpk_name(const mpk_obj_t *o)
{
    switch (o->type) {
    case MPK_NIL: return "nil";
    case MPK_BOOL: return "bool";
    case MPK_UINT:
    case MPK_INT: return "int";
    case MPK_F32:
    case MPK_F64: return "float";
    case MPK_STR: return "str";
    case MPK_BIN: return "bin";
    case MPK_ARRAY: return "array";
    case MPK_MAP: return "map";
    case MPK_EXT: return "ext";
    }
    return "?";
}

static int bad_type(wire_diag_t *d, const cql_type_t *t, const mpk_obj_t *o)
{
    if (o->type == MPK_EXT)
        wire_diag_set(d, "expected %s, got ext %d", type_name(t), o->v.ext.type);
    else
        wire_diag_set(d, "expected %s, got %s", type_name(t), mpk_name(o));
    return CQLMQ_EBADTYPE;
}

static int bad_ext_len(wire_diag_t *d, const mpk_ext_t *e)
{
    wire_diag_set(d, "ext %d of %u bytes is malformed", e->type, (unsigned)e->len);
    return CQLMQ_EBADTYPE;
}

/* "'abc' is not a uuid" with the text cut to a readable length. */
static int bad_text(wire_diag_t *d, int rc, const mpk_str_t *s, const char *what)
{
    int n = s->len > 40 ? 40 : (int)s->len;
    wire_diag_set(d, "'%.*s%s' is %s %s", n, s->ptr, s->len > 40 ? "..." : "",
                  rc == CQLMQ_ERANGE ? "out of range for" : "not a valid", what);
    return rc;
}

/* ---- numbers ---------------------------------------------------------- */

/* The integer of o (MPK_UINT / MPK_INT) within [lo, hi]. */
static int get_int(const mpk_obj_t *o, const cql_type_t *t, int64_t lo, int64_t hi, int64_t *out,
                   wire_diag_t *d)
{
    if (o->type == MPK_UINT) {
        if (o->v.u > (uint64_t)hi) {
            wire_diag_set(d, "%llu is out of range for %s", (unsigned long long)o->v.u, type_name(t));
            return CQLMQ_ERANGE;
        }
        *out = (int64_t)o->v.u;
        return 0;
    }
    if (o->type == MPK_INT) {
        if (o->v.i < lo || o->v.i > hi) {
            wire_diag_set(d, "%lld is out of range for %s", (long long)o->v.i, type_name(t));
            return CQLMQ_ERANGE;
        }
        *out = o->v.i;
        return 0;
    }
    return bad_type(d, t, o);
}

/* Minimal two's complement of an msgpack integer (9 bytes for >= 2^63). */
static void put_varint_obj(cql_wr_t *w, const mpk_obj_t *o)
{
    uint8_t b[9];
    if (o->type == MPK_UINT && o->v.u > INT64_MAX) {
        b[0] = 0;
        cql_store_u64(b + 1, o->v.u);
        cql_wr_raw(w, b, 9);
        return;
    }
    int64_t v = o->type == MPK_UINT ? (int64_t)o->v.u : o->v.i;
    size_t n = cql_varint_from_i64(v, b);
    cql_wr_raw(w, b, n);
}

static bool is_num(const mpk_obj_t *o)
{
    return o->type == MPK_UINT || o->type == MPK_INT || o->type == MPK_F32 || o->type == MPK_F64;
}

static double num_of(const mpk_obj_t *o)
{
    switch (o->type) {
    case MPK_UINT: return (double)o->v.u;
    case MPK_INT: return (double)o->v.i;
    case MPK_F32: return o->v.f32;
    default: return o->v.f64;
    }
}

/* The shortest text that reads back to the same double, for decimals. */
static int put_decimal_double(cql_wr_t *w, double v, wire_diag_t *d)
{
    char buf[40];
    if (!isfinite(v)) {
        wire_diag_set(d, "%g is not a decimal", v);
        return CQLMQ_EBADTYPE;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return wire_put_decimal_str(w, buf, strlen(buf));
}

/* ---- scalars ---------------------------------------------------------- */

static int body_scalar(cql_wr_t *w, const cql_type_t *t, const mpk_obj_t *o, wire_diag_t *d)
{
    const mpk_ext_t *e = &o->v.ext;
    bool ext = o->type == MPK_EXT, str = o->type == MPK_STR;
    const mpk_str_t *s = &o->v.str;
    int64_t v;
    int rc;
    uint8_t b[16];

    switch (t->kind) {
    case CQL_TYPE_BOOLEAN:
        if (o->type != MPK_BOOL)
            return bad_type(d, t, o);
        cql_wr_u8(w, o->v.b ? 1 : 0);
        return 0;
    case CQL_TYPE_TINYINT:
        if ((rc = get_int(o, t, INT8_MIN, INT8_MAX, &v, d)) == 0)
            cql_wr_u8(w, (uint8_t)(int8_t)v);
        return rc;
    case CQL_TYPE_SMALLINT:
        if ((rc = get_int(o, t, INT16_MIN, INT16_MAX, &v, d)) == 0)
            cql_wr_u16(w, (uint16_t)(int16_t)v);
        return rc;
    case CQL_TYPE_INT:
        if ((rc = get_int(o, t, INT32_MIN, INT32_MAX, &v, d)) == 0)
            cql_wr_i32(w, (int32_t)v);
        return rc;
    case CQL_TYPE_BIGINT:
    case CQL_TYPE_COUNTER:
        if ((rc = get_int(o, t, INT64_MIN, INT64_MAX, &v, d)) == 0)
            cql_wr_i64(w, v);
        return rc;
    case CQL_TYPE_VARINT:
        if (o->type == MPK_UINT || o->type == MPK_INT) {
            put_varint_obj(w, o);
            return 0;
        }
        if (ext && e->type == WIRE_EXT_VARINT) {
            if (e->len == 0)
                return bad_ext_len(d, e);
            cql_wr_raw(w, e->ptr, e->len);
            return 0;
        }
        if (str) {
            if ((rc = wire_put_varint_str(w, s->ptr, s->len)) != 0)
                return bad_text(d, rc, s, "varint");
            return 0;
        }
        return bad_type(d, t, o);
    case CQL_TYPE_FLOAT: {
        if (!is_num(o))
            return bad_type(d, t, o);
        double x = num_of(o);
        if (isfinite(x) && fabs(x) > FLT_MAX) {
            wire_diag_set(d, "%g is out of range for float", x);
            return CQLMQ_ERANGE;
        }
        float f = o->type == MPK_F32 ? o->v.f32 : (float)x;
        uint32_t u;
        memcpy(&u, &f, 4);
        cql_wr_i32(w, (int32_t)u);
        return 0;
    }
    case CQL_TYPE_DOUBLE: {
        if (!is_num(o))
            return bad_type(d, t, o);
        double x = num_of(o);
        uint64_t u;
        memcpy(&u, &x, 8);
        cql_wr_i64(w, (int64_t)u);
        return 0;
    }
    case CQL_TYPE_DECIMAL:
        if (ext && e->type == WIRE_EXT_DECIMAL) {
            if (e->len < 5)
                return bad_ext_len(d, e);
            cql_wr_raw(w, e->ptr, e->len);
            return 0;
        }
        if (o->type == MPK_UINT || o->type == MPK_INT) {
            cql_wr_i32(w, 0);
            put_varint_obj(w, o);
            return 0;
        }
        if (o->type == MPK_F32 || o->type == MPK_F64)
            return put_decimal_double(w, num_of(o), d);
        if (str) {
            if ((rc = wire_put_decimal_str(w, s->ptr, s->len)) != 0)
                return bad_text(d, rc, s, "decimal");
            return 0;
        }
        return bad_type(d, t, o);
    case CQL_TYPE_ASCII:
        if (!str)
            return bad_type(d, t, o);
        for (uint32_t i = 0; i < s->len; i++)
            if ((uint8_t)s->ptr[i] > 127) {
                wire_diag_set(d, "non-ASCII byte at offset %u in an ascii value", (unsigned)i);
                return CQLMQ_EBADTYPE;
            }
        cql_wr_raw(w, s->ptr, s->len);
        return 0;
    case CQL_TYPE_VARCHAR:
        if (!str)
            return bad_type(d, t, o);
        if (cql_utf8_validate((const uint8_t *)s->ptr, s->len) != 0) {
            wire_diag_set(d, "text is not valid UTF-8");
            return CQLMQ_EBADTYPE;
        }
        cql_wr_raw(w, s->ptr, s->len);
        return 0;
    case CQL_TYPE_BLOB:
    case CQL_TYPE_CUSTOM:
        if (o->type != MPK_BIN)
            return bad_type(d, t, o);
        cql_wr_raw(w, o->v.bin.ptr, o->v.bin.len);
        return 0;
    case CQL_TYPE_UUID:
    case CQL_TYPE_TIMEUUID:
        if (ext && e->type == WIRE_EXT_UUID) {
            if (e->len != 16)
                return bad_ext_len(d, e);
            cql_wr_raw(w, e->ptr, 16);
            return 0;
        }
        if (str) {
            if ((rc = wire_parse_uuid(s->ptr, s->len, b)) != 0)
                return bad_text(d, rc, s, "uuid");
            cql_wr_raw(w, b, 16);
            return 0;
        }
        return bad_type(d, t, o);
    case CQL_TYPE_TIMESTAMP:
        if (ext && e->type == WIRE_EXT_TIMESTAMP) {
            int64_t sec;
            uint32_t nsec = 0;
            if (e->len == 4) {
                sec = (int64_t)cql_load_u32(e->ptr);
            } else if (e->len == 8) {
                uint64_t u = cql_load_u64(e->ptr);
                nsec = (uint32_t)(u >> 34);
                sec = (int64_t)(u & (((uint64_t)1 << 34) - 1));
            } else if (e->len == 12) {
                nsec = cql_load_u32(e->ptr);
                sec = (int64_t)cql_load_u64(e->ptr + 4);
            } else {
                return bad_ext_len(d, e);
            }
            if (nsec > 999999999u) {
                wire_diag_set(d, "timestamp nanoseconds %u above 999999999", (unsigned)nsec);
                return CQLMQ_EBADTYPE;
            }
            /* ms = sec * 1000 + floor(nsec / 10^6). The seconds are the
             * floor (a negative instant has negative seconds and positive
             * nanoseconds), so near INT64_MIN ms sec * 1000 alone is below
             * INT64_MIN: borrow one second, then add a negative remainder. */
            int64_t ms_part = (int64_t)(nsec / 1000000);
            if (sec < 0 && ms_part > 0) {
                sec += 1;
                ms_part -= 1000;
            }
            if (__builtin_mul_overflow(sec, 1000, &v) || __builtin_add_overflow(v, ms_part, &v)) {
                if (ms_part < 0)
                    sec -= 1; /* name the seconds the client sent */
                wire_diag_set(d, "timestamp of %lld seconds is out of range", (long long)sec);
                return CQLMQ_ERANGE;
            }
            cql_wr_i64(w, v);
            return 0;
        }
        if (o->type == MPK_UINT || o->type == MPK_INT) {
            if ((rc = get_int(o, t, INT64_MIN, INT64_MAX, &v, d)) == 0)
                cql_wr_i64(w, v);
            return rc;
        }
        if (str) {
            if ((rc = wire_parse_timestamp(s->ptr, s->len, &v)) != 0)
                return bad_text(d, rc, s, "timestamp");
            cql_wr_i64(w, v);
            return 0;
        }
        return bad_type(d, t, o);
    case CQL_TYPE_DATE: {
        int32_t days;
        if (ext && e->type == WIRE_EXT_DATE) {
            if (e->len != 4)
                return bad_ext_len(d, e);
            days = (int32_t)cql_load_u32(e->ptr);
        } else if (str) {
            if ((rc = wire_parse_date(s->ptr, s->len, &days)) != 0)
                return bad_text(d, rc, s, "date");
        } else {
            return bad_type(d, t, o);
        }
        cql_wr_i32(w, (int32_t)((uint32_t)days ^ 0x80000000u));
        return 0;
    }
    case CQL_TYPE_TIME:
        if (ext && e->type == WIRE_EXT_TIME) {
            if (e->len != 8)
                return bad_ext_len(d, e);
            v = (int64_t)cql_load_u64(e->ptr);
        } else if (o->type == MPK_UINT || o->type == MPK_INT) {
            if ((rc = get_int(o, t, 0, CQL_TIME_MAX, &v, d)) != 0)
                return rc;
        } else if (str) {
            if ((rc = wire_parse_time(s->ptr, s->len, &v)) != 0)
                return bad_text(d, rc, s, "time");
        } else {
            return bad_type(d, t, o);
        }
        if (v < 0 || v > CQL_TIME_MAX) {
            wire_diag_set(d, "%lld ns is out of range for time", (long long)v);
            return CQLMQ_ERANGE;
        }
        cql_wr_i64(w, v);
        return 0;
    case CQL_TYPE_DURATION: {
        int32_t mo, dd;
        if (ext && e->type == WIRE_EXT_DURATION) {
            if (e->len != 16)
                return bad_ext_len(d, e);
            mo = (int32_t)cql_load_u32(e->ptr);
            dd = (int32_t)cql_load_u32(e->ptr + 4);
            v = (int64_t)cql_load_u64(e->ptr + 8);
            if ((mo < 0 || dd < 0 || v < 0) && (mo > 0 || dd > 0 || v > 0)) {
                wire_diag_set(d, "duration parts have mixed signs");
                return CQLMQ_EBADTYPE;
            }
        } else if (str) {
            if ((rc = wire_parse_duration(s->ptr, s->len, &mo, &dd, &v)) != 0)
                return bad_text(d, rc, s, "duration");
        } else {
            return bad_type(d, t, o);
        }
        cql_wr_vint(w, mo);
        cql_wr_vint(w, dd);
        cql_wr_vint(w, v);
        return 0;
    }
    case CQL_TYPE_INET: {
        uint8_t size;
        if (ext && e->type == WIRE_EXT_INET) {
            if (e->len != 4 && e->len != 16)
                return bad_ext_len(d, e);
            cql_wr_raw(w, e->ptr, e->len);
            return 0;
        }
        if (str) {
            if ((rc = wire_parse_inet(s->ptr, s->len, b, &size)) != 0)
                return bad_text(d, rc, s, "inet address");
            cql_wr_raw(w, b, size);
            return 0;
        }
        return bad_type(d, t, o);
    }
    default:
        wire_diag_set(d, "type %s cannot be bound", type_name(t));
        return CQLMQ_EBADTYPE;
    }
}

/* ---- the walk --------------------------------------------------------- */

static int put_value(cql_wr_t *w, const cql_type_t *t, mpk_rd_t *r, bool top, int depth,
                     wire_diag_t *d);

static int body_coll(cql_wr_t *w, const cql_type_t *t, mpk_rd_t *r, const mpk_obj_t *o, int depth,
                     wire_diag_t *d)
{
    bool map = t->kind == CQL_TYPE_MAP;
    if (o->type != (map ? MPK_MAP : MPK_ARRAY))
        return bad_type(d, t, o);
    if (o->v.count > INT32_MAX) {
        wire_diag_set(d, "too many elements");
        return CQLMQ_ERANGE;
    }
    cql_wr_i32(w, (int32_t)o->v.count);
    for (uint32_t i = 0; i < o->v.count; i++) {
        int rc;
        if (map) {
            if ((rc = put_value(w, t->sub[0], r, false, depth + 1, d)) != 0) {
                wire_diag_prefix(d, "{key %u}", (unsigned)i);
                return rc;
            }
            rc = put_value(w, t->sub[1], r, false, depth + 1, d);
        } else {
            rc = put_value(w, t->sub[0], r, false, depth + 1, d);
        }
        if (rc != 0) {
            wire_diag_prefix(d, "[%u]", (unsigned)i);
            return rc;
        }
    }
    return 0;
}

static int body_tuple(cql_wr_t *w, const cql_type_t *t, mpk_rd_t *r, const mpk_obj_t *o, int depth,
                      wire_diag_t *d)
{
    if (o->type != MPK_ARRAY)
        return bad_type(d, t, o);
    if (o->v.count > t->nsub) {
        wire_diag_set(d, "tuple of %zu components given %u", t->nsub, (unsigned)o->v.count);
        return CQLMQ_EBADTYPE;
    }
    for (size_t i = 0; i < t->nsub; i++) {
        if (i >= o->v.count) {
            cql_wr_i32(w, CQL_BYTES_NULL);
            continue;
        }
        int rc = put_value(w, t->sub[i], r, false, depth + 1, d);
        if (rc != 0) {
            wire_diag_prefix(d, "[%zu]", i);
            return rc;
        }
    }
    return 0;
}

static int field_index(const cql_type_t *t, mpk_str_t key)
{
    for (size_t i = 0; i < t->nsub; i++)
        if (strlen(t->field_names[i]) == key.len && memcmp(t->field_names[i], key.ptr, key.len) == 0)
            return (int)i;
    return -1;
}

/* A map of field name -> value, written in the type's field order. Pass 1
 * checks the keys (all known, none twice) and skips the values; pass 2
 * finds each field's value. count <= nsub, so the quadratic scans are
 * bounded by the type (from Cassandra), not by the client's input. Missing
 * fields are null. */
static int body_udt(cql_wr_t *w, const cql_type_t *t, mpk_rd_t *r, const mpk_obj_t *o, int depth,
                    wire_diag_t *d)
{
    if (o->type != MPK_MAP)
        return bad_type(d, t, o);
    if (o->v.count > t->nsub) {
        wire_diag_set(d, "%u fields given for a type of %zu", (unsigned)o->v.count, t->nsub);
        return CQLMQ_EBADTYPE;
    }
    size_t body = r->pos;
    int rc;
    for (uint32_t i = 0; i < o->v.count; i++) {
        mpk_str_t key;
        if ((rc = mpk_rd_str(r, &key)) != 0) {
            wire_diag_set(d, "field names of %s must be str", t->name ? t->name : "udt");
            return rc;
        }
        int idx = field_index(t, key);
        if (idx < 0) {
            wire_diag_set(d, "unknown field '%.*s'", key.len > 40 ? 40 : (int)key.len, key.ptr);
            return CQLMQ_EBADTYPE;
        }
        mpk_rd_t scan = *r; /* the keys before this one must differ from it */
        scan.pos = body;
        for (uint32_t j = 0; j < i; j++) {
            mpk_str_t k2;
            (void)mpk_rd_str(&scan, &k2); /* checked on its own turn */
            if (field_index(t, k2) == idx) {
                wire_diag_set(d, "field '%.*s' given twice", (int)key.len, key.ptr);
                return CQLMQ_EBADTYPE;
            }
            (void)mpk_rd_skip(&scan);
        }
        if ((rc = mpk_rd_skip(r)) != 0)
            return rc;
    }
    size_t end = r->pos;
    for (size_t f = 0; f < t->nsub; f++) {
        mpk_rd_t scan = *r;
        bool found = false;
        scan.pos = body;
        for (uint32_t i = 0; i < o->v.count && !found; i++) {
            mpk_str_t key;
            (void)mpk_rd_str(&scan, &key); /* checked in pass 1 */
            if ((size_t)field_index(t, key) == f) {
                found = true;
                if ((rc = put_value(w, t->sub[f], &scan, false, depth + 1, d)) != 0) {
                    wire_diag_prefix(d, ".%s", t->field_names[f]);
                    r->pos = scan.pos;
                    return rc;
                }
            } else if ((rc = mpk_rd_skip(&scan)) != 0) {
                return rc;
            }
        }
        if (!found)
            cql_wr_i32(w, CQL_BYTES_NULL);
    }
    r->pos = end;
    return 0;
}

static int put_value(cql_wr_t *w, const cql_type_t *t, mpk_rd_t *r, bool top, int depth,
                     wire_diag_t *d)
{
    mpk_obj_t o;
    int rc;
    if (depth > WIRE_VALUE_MAX_DEPTH) {
        wire_diag_set(d, "nested deeper than %d levels", WIRE_VALUE_MAX_DEPTH);
        return CQLMQ_ELIMIT;
    }
    if ((rc = mpk_rd_any(r, &o)) != 0) {
        wire_diag_set(d, "malformed msgpack");
        return rc;
    }
    if (o.type == MPK_NIL) {
        cql_wr_i32(w, CQL_BYTES_NULL);
        return 0;
    }
    if (o.type == MPK_EXT && (o.v.ext.type == WIRE_EXT_EMPTY || o.v.ext.type == WIRE_EXT_NOT_SET)) {
        if (o.v.ext.len != 0)
            return bad_ext_len(d, &o.v.ext);
        if (o.v.ext.type == WIRE_EXT_NOT_SET && !top) {
            wire_diag_set(d, "not set (ext 10) is only allowed for a whole parameter");
            return CQLMQ_EBADTYPE;
        }
        cql_wr_i32(w, o.v.ext.type == WIRE_EXT_EMPTY ? 0 : CQL_BYTES_NOT_SET);
        return 0;
    }
    size_t at = w->len;
    cql_wr_i32(w, 0); /* length, patched below */
    switch (t->kind) {
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET:
    case CQL_TYPE_MAP: rc = body_coll(w, t, r, &o, depth, d); break;
    case CQL_TYPE_TUPLE: rc = body_tuple(w, t, r, &o, depth, d); break;
    case CQL_TYPE_UDT: rc = body_udt(w, t, r, &o, depth, d); break;
    default: rc = body_scalar(w, t, &o, d); break;
    }
    if (rc != 0)
        return rc;
    if (w->err)
        return w->err;
    size_t n = w->len - at - 4;
    if (n > INT32_MAX) {
        wire_diag_set(d, "value longer than 2 GB");
        return CQLMQ_ERANGE;
    }
    cql_wr_patch_i32(w, at, (int32_t)n);
    return 0;
}

int wire_value_from_mpk(cql_wr_t *w, const cql_type_t *t, mpk_rd_t *r, wire_diag_t *d)
{
    size_t wlen = w->len, rpos = r->pos;
    if (d != NULL)
        d->msg[0] = '\0';
    if (w->err)
        return w->err;
    int rc = put_value(w, t, r, true, 0, d);
    if (rc == 0 && w->err)
        rc = w->err;
    if (rc != 0) {
        if (!w->err)
            w->len = wlen;
        r->pos = rpos;
        if (d != NULL && d->msg[0] == '\0')
            wire_diag_set(d, "%s", cqlmq_strerror(rc));
    }
    return rc;
}
