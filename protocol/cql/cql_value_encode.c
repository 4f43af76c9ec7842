/*
 * cql_value_encode: value trees back to bytes (cql_value_encode,
 * cql_value_encode_body) and the check that a tree fits a type
 * (cql_value_check).
 *
 * One walker serves both: given a writer it writes, without one it only
 * checks. Text is validated in check mode only (encoding trusts the tree;
 * run cql_value_check on trees built from untrusted input). Element lengths
 * are written as placeholders and patched once the element is written.
 */
#include "cql_value.h"

#include <string.h>

static bool is_int_kind(cql_type_kind_t k)
{
    return k == CQL_TYPE_TINYINT || k == CQL_TYPE_SMALLINT || k == CQL_TYPE_INT ||
           k == CQL_TYPE_BIGINT || k == CQL_TYPE_COUNTER || k == CQL_TYPE_VARINT;
}

/* The integer of an integer-kind value, for a fixed-size target of `bytes`. */
static int get_int(const cql_value_t *v, int bytes, int64_t *out)
{
    if (!is_int_kind(v->kind))
        return CQLMQ_EBADTYPE;
    if (v->kind == CQL_TYPE_VARINT) {
        if (!v->u.varint.fits)
            return CQLMQ_ERANGE;
        *out = v->u.varint.i64;
    } else {
        *out = v->u.i;
    }
    if (bytes < 8) {
        int64_t lim = INT64_C(1) << (8 * bytes - 1);
        if (*out < -lim || *out >= lim)
            return CQLMQ_ERANGE;
    }
    return 0;
}

static void put_varint(cql_wr_t *w, const cql_varint_t *v)
{
    if (v->ptr != NULL) {
        cql_wr_raw(w, v->ptr, v->len);
    } else {
        uint8_t buf[8];
        cql_wr_raw(w, buf, cql_varint_from_i64(v->i64, buf));
    }
}

static int enc_body(cql_wr_t *w, const cql_type_t *t, const cql_value_t *v, int depth);

/* One element or field as [bytes]: -1 for null, 0 for empty. */
static int enc_elem(cql_wr_t *w, const cql_type_t *t, const cql_value_t *v, int depth)
{
    switch (v->state) {
    case CQL_VALUE_NULL:
        if (w)
            cql_wr_i32(w, -1);
        return 0;
    case CQL_VALUE_EMPTY:
        if (w)
            cql_wr_i32(w, 0);
        return 0;
    case CQL_VALUE_NOT_SET:
        return CQLMQ_EBADTYPE; /* only bound variables may be "not set" */
    default:
        break;
    }
    size_t off = w ? w->len : 0;
    if (w)
        cql_wr_i32(w, 0);
    int rc = enc_body(w, t, v, depth);
    if (rc == 0 && w && cql_wr_error(w) == 0) {
        size_t n = w->len - off - 4;
        if (n > INT32_MAX)
            return CQLMQ_ERANGE;
        cql_wr_patch_i32(w, off, (int32_t)n);
    }
    return rc;
}

static int enc_scalar(cql_wr_t *w, const cql_type_t *t, const cql_value_t *v)
{
    int rc;
    int64_t i;
    cql_type_kind_t tk = t->kind, vk = v->kind;
    switch (tk) {
    case CQL_TYPE_TINYINT:
    case CQL_TYPE_SMALLINT:
    case CQL_TYPE_INT:
    case CQL_TYPE_BIGINT:
    case CQL_TYPE_COUNTER: {
        int bytes = tk == CQL_TYPE_TINYINT ? 1 : tk == CQL_TYPE_SMALLINT ? 2 : tk == CQL_TYPE_INT ? 4 : 8;
        if ((rc = get_int(v, bytes, &i)) != 0)
            return rc;
        if (w) {
            uint8_t buf[8];
            cql_store_u64(buf, (uint64_t)i);
            cql_wr_raw(w, buf + 8 - bytes, (size_t)bytes);
        }
        return 0;
    }
    case CQL_TYPE_VARINT:
        if (!is_int_kind(vk))
            return CQLMQ_EBADTYPE;
        if (vk == CQL_TYPE_VARINT && v->u.varint.ptr != NULL && v->u.varint.len == 0)
            return CQLMQ_EBADTYPE;
        if (w) {
            if (vk == CQL_TYPE_VARINT) {
                put_varint(w, &v->u.varint);
            } else {
                cql_varint_t x = {NULL, 0, v->u.i, true};
                put_varint(w, &x);
            }
        }
        return 0;
    case CQL_TYPE_ASCII:
    case CQL_TYPE_VARCHAR:
        if (vk != CQL_TYPE_ASCII && vk != CQL_TYPE_VARCHAR)
            return CQLMQ_EBADTYPE;
        if (!w) {
            const uint8_t *p = v->u.raw.ptr;
            if (tk == CQL_TYPE_ASCII) {
                for (size_t k = 0; k < v->u.raw.len; k++)
                    if (p[k] > 127)
                        return CQLMQ_EBADTYPE;
            } else if (v->u.raw.len > 0 && cql_utf8_validate(p, v->u.raw.len) != 0) {
                return CQLMQ_EUTF8;
            }
        }
        break;
    case CQL_TYPE_UUID:
    case CQL_TYPE_TIMEUUID:
        if (vk != CQL_TYPE_UUID && vk != CQL_TYPE_TIMEUUID)
            return CQLMQ_EBADTYPE;
        if (tk == CQL_TYPE_TIMEUUID && (v->u.uuid[6] & 0xf0) != 0x10)
            return CQLMQ_EBADTYPE;
        if (w)
            cql_wr_raw(w, v->u.uuid, 16);
        return 0;
    default:
        if (vk != tk)
            return CQLMQ_EBADTYPE;
        break;
    }
    if (!w) {
        if (tk == CQL_TYPE_TIME && (v->u.i < 0 || v->u.i > CQL_TIME_MAX))
            return CQLMQ_ERANGE;
        if (tk == CQL_TYPE_INET && v->u.inet.size != 4 && v->u.inet.size != 16)
            return CQLMQ_EBADTYPE;
        if (tk == CQL_TYPE_DURATION) {
            int64_t m = v->u.duration.months, d = v->u.duration.days, ns = v->u.duration.nanos;
            if ((m < 0 || d < 0 || ns < 0) && (m > 0 || d > 0 || ns > 0))
                return CQLMQ_EBADTYPE;
        }
        if (tk == CQL_TYPE_DECIMAL && v->u.decimal.unscaled.ptr != NULL &&
            v->u.decimal.unscaled.len == 0)
            return CQLMQ_EBADTYPE;
        return 0;
    }
    switch (tk) {
    case CQL_TYPE_ASCII:
    case CQL_TYPE_VARCHAR:
    case CQL_TYPE_BLOB:
    case CQL_TYPE_CUSTOM:
        cql_wr_raw(w, v->u.raw.ptr, v->u.raw.len);
        break;
    case CQL_TYPE_BOOLEAN:
        cql_wr_u8(w, v->u.b ? 1 : 0);
        break;
    case CQL_TYPE_TIMESTAMP:
    case CQL_TYPE_TIME:
        cql_wr_i64(w, v->u.i);
        break;
    case CQL_TYPE_DATE:
        cql_wr_i32(w, (int32_t)v->u.date);
        break;
    case CQL_TYPE_FLOAT: {
        uint32_t u;
        memcpy(&u, &v->u.f, 4);
        cql_wr_i32(w, (int32_t)u);
        break;
    }
    case CQL_TYPE_DOUBLE: {
        uint64_t u;
        memcpy(&u, &v->u.d, 8);
        cql_wr_i64(w, (int64_t)u);
        break;
    }
    case CQL_TYPE_INET:
        cql_wr_raw(w, v->u.inet.addr, v->u.inet.size == 16 ? 16 : 4);
        break;
    case CQL_TYPE_DECIMAL:
        cql_wr_i32(w, v->u.decimal.scale);
        put_varint(w, &v->u.decimal.unscaled);
        break;
    case CQL_TYPE_DURATION:
        cql_wr_vint(w, v->u.duration.months);
        cql_wr_vint(w, v->u.duration.days);
        cql_wr_vint(w, v->u.duration.nanos);
        break;
    default:
        return CQLMQ_EBADTYPE;
    }
    return 0;
}

static int enc_body(cql_wr_t *w, const cql_type_t *t, const cql_value_t *v, int depth)
{
    if (depth >= CQL_VALUE_MAX_DEPTH)
        return CQLMQ_ELIMIT;
    if (v->state != CQL_VALUE_SET)
        return 0; /* markers have no body; enc_elem writes their lengths */
    switch (t->kind) {
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET:
    case CQL_TYPE_MAP: {
        size_t per = t->kind == CQL_TYPE_MAP ? 2 : 1;
        if (v->kind != t->kind || t->nsub != per)
            return CQLMQ_EBADTYPE;
        if (v->u.coll.n > INT32_MAX)
            return CQLMQ_ERANGE;
        if (w)
            cql_wr_i32(w, (int32_t)v->u.coll.n);
        for (size_t i = 0; i < v->u.coll.n * per; i++) {
            int rc = enc_elem(w, t->sub[i % per], &v->u.coll.items[i], depth + 1);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    case CQL_TYPE_TUPLE:
    case CQL_TYPE_UDT:
        if (v->kind != t->kind || v->u.coll.n > t->nsub)
            return CQLMQ_EBADTYPE;
        for (size_t i = 0; i < v->u.coll.n; i++) {
            int rc = enc_elem(w, t->sub[i], &v->u.coll.items[i], depth + 1);
            if (rc != 0)
                return rc;
        }
        return 0;
    default:
        return enc_scalar(w, t, v);
    }
}

static void fail(cql_wr_t *w, int rc)
{
    if (rc != 0 && w->err == 0)
        w->err = rc;
}

void cql_value_encode_body(cql_wr_t *w, const cql_type_t *t, const cql_value_t *v)
{
    if (w->err != 0)
        return;
    fail(w, enc_body(w, t, v, 0));
}

void cql_value_encode(cql_wr_t *w, const cql_type_t *t, const cql_value_t *v)
{
    if (w->err != 0)
        return;
    if (v->state == CQL_VALUE_NOT_SET) {
        cql_wr_i32(w, CQL_BYTES_NOT_SET);
        return;
    }
    fail(w, enc_elem(w, t, v, 0));
}

int cql_value_check(const cql_type_t *t, const cql_value_t *v)
{
    if (v->state != CQL_VALUE_SET)
        return 0;
    return enc_body(NULL, t, v, 0);
}
