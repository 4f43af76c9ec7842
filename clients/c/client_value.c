/*
 * client_value: typed reads of one msgpack value of a row, as the contract
 * maps CQL values (docs/protocol.md section 8), and iteration over
 * collections, tuples and UDTs. Values are borrowed views into a result;
 * every read goes through the bounded mpk reader, so a broken value is
 * CQLMQ_EBADTYPE, never a read past its bytes.
 */
#include <stdio.h>
#include <string.h>

#include "cql_value.h"
#include "cqlc_int.h"
#include "wire_value.h"

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t ld64(const uint8_t *p) { return (uint64_t)ld32(p) << 32 | ld32(p + 4); }

/* Null and empty have no value to read. */
static int open_value(const cqlmq_value_t *v, mpk_rd_t *r, mpk_obj_t *o)
{
    if (v == NULL || v->ptr == NULL)
        return CQLMQ_ENOTFOUND;
    mpk_rd_init(r, v->ptr, v->len);
    if (mpk_rd_any(r, o) != 0)
        return CQLMQ_EBADTYPE;
    if (o->type == MPK_NIL || (o->type == MPK_EXT && o->v.ext.type == WIRE_EXT_EMPTY))
        return CQLMQ_ENOTFOUND;
    return 0;
}

/* An extension value of the given code and exact payload length. */
static int ext_of(const cqlmq_value_t *v, int8_t code, uint32_t len1, uint32_t len2,
                  mpk_ext_t *out)
{
    mpk_rd_t r;
    mpk_obj_t o;
    int rc = open_value(v, &r, &o);
    if (rc != 0)
        return rc;
    if (o.type != MPK_EXT || o.v.ext.type != code || (o.v.ext.len != len1 && o.v.ext.len != len2))
        return CQLMQ_EBADTYPE;
    *out = o.v.ext;
    return 0;
}

cqlmq_kind_t cqlmq_value_kind(const cqlmq_value_t *v)
{
    mpk_rd_t r;
    mpk_obj_t o;
    const cql_type_t *t = v ? v->type : NULL;
    if (v == NULL || v->ptr == NULL)
        return CQLMQ_K_NULL;
    mpk_rd_init(&r, v->ptr, v->len);
    if (mpk_rd_any(&r, &o) != 0)
        return CQLMQ_K_UNKNOWN;
    switch (o.type) {
    case MPK_NIL: return CQLMQ_K_NULL;
    case MPK_BOOL: return CQLMQ_K_BOOL;
    case MPK_UINT:
    case MPK_INT: return t && t->kind == CQL_TYPE_VARINT ? CQLMQ_K_VARINT : CQLMQ_K_INT;
    case MPK_F32: return CQLMQ_K_FLOAT;
    case MPK_F64: return CQLMQ_K_DOUBLE;
    case MPK_STR: return CQLMQ_K_TEXT;
    case MPK_BIN: return CQLMQ_K_BLOB;
    case MPK_ARRAY:
        if (t && t->kind == CQL_TYPE_SET)
            return CQLMQ_K_SET;
        return t && t->kind == CQL_TYPE_TUPLE ? CQLMQ_K_TUPLE : CQLMQ_K_LIST;
    case MPK_MAP: return t && t->kind == CQL_TYPE_UDT ? CQLMQ_K_UDT : CQLMQ_K_MAP;
    case MPK_EXT:
        switch (o.v.ext.type) {
        case WIRE_EXT_DECIMAL: return CQLMQ_K_DECIMAL;
        case WIRE_EXT_UUID: return CQLMQ_K_UUID;
        case WIRE_EXT_VARINT: return CQLMQ_K_VARINT;
        case WIRE_EXT_DATE: return CQLMQ_K_DATE;
        case WIRE_EXT_TIME: return CQLMQ_K_TIME;
        case WIRE_EXT_DURATION: return CQLMQ_K_DURATION;
        case WIRE_EXT_INET: return CQLMQ_K_INET;
        case WIRE_EXT_EMPTY: return CQLMQ_K_EMPTY;
        case WIRE_EXT_TIMESTAMP: return CQLMQ_K_TIMESTAMP;
        default: return CQLMQ_K_UNKNOWN;
        }
    }
    return CQLMQ_K_UNKNOWN;
}

bool cqlmq_value_is_null(const cqlmq_value_t *v) { return cqlmq_value_kind(v) == CQLMQ_K_NULL; }

int cqlmq_value_bool(const cqlmq_value_t *v, bool *out)
{
    mpk_rd_t r;
    mpk_obj_t o;
    int rc = open_value(v, &r, &o);
    if (rc != 0)
        return rc;
    if (o.type != MPK_BOOL)
        return CQLMQ_EBADTYPE;
    *out = o.v.b;
    return 0;
}

int cqlmq_value_int64(const cqlmq_value_t *v, int64_t *out)
{
    mpk_rd_t r;
    mpk_obj_t o;
    int rc = open_value(v, &r, &o);
    if (rc != 0)
        return rc;
    if (o.type == MPK_INT) {
        *out = o.v.i;
        return 0;
    }
    if (o.type == MPK_UINT) {
        if (o.v.u > INT64_MAX)
            return CQLMQ_ERANGE;
        *out = (int64_t)o.v.u;
        return 0;
    }
    if (o.type == MPK_EXT && o.v.ext.type == WIRE_EXT_VARINT) {
        if (o.v.ext.len == 0)
            return CQLMQ_EBADTYPE;
        return cql_varint_to_i64(o.v.ext.ptr, o.v.ext.len, out) ? 0 : CQLMQ_ERANGE;
    }
    return CQLMQ_EBADTYPE;
}

int cqlmq_value_double(const cqlmq_value_t *v, double *out)
{
    mpk_rd_t r;
    mpk_obj_t o;
    int rc = open_value(v, &r, &o);
    if (rc != 0)
        return rc;
    switch (o.type) {
    case MPK_F32: *out = o.v.f32; return 0;
    case MPK_F64: *out = o.v.f64; return 0;
    case MPK_INT: *out = (double)o.v.i; return 0;
    case MPK_UINT: *out = (double)o.v.u; return 0;
    default: return CQLMQ_EBADTYPE;
    }
}

int cqlmq_value_text(const cqlmq_value_t *v, const char **p, size_t *n)
{
    mpk_rd_t r;
    mpk_obj_t o;
    int rc = open_value(v, &r, &o);
    if (rc != 0)
        return rc;
    if (o.type != MPK_STR)
        return CQLMQ_EBADTYPE;
    *p = o.v.str.ptr;
    *n = o.v.str.len;
    return 0;
}

int cqlmq_value_bytes(const cqlmq_value_t *v, const uint8_t **p, size_t *n)
{
    mpk_rd_t r;
    mpk_obj_t o;
    int rc = open_value(v, &r, &o);
    if (rc != 0)
        return rc;
    if (o.type != MPK_BIN)
        return CQLMQ_EBADTYPE;
    *p = o.v.bin.ptr;
    *n = o.v.bin.len;
    return 0;
}

int cqlmq_value_uuid(const cqlmq_value_t *v, uint8_t out[16])
{
    mpk_ext_t e;
    int rc = ext_of(v, WIRE_EXT_UUID, 16, 16, &e);
    if (rc == 0)
        memcpy(out, e.ptr, 16);
    return rc;
}

int cqlmq_value_timestamp_ms(const cqlmq_value_t *v, int64_t *ms)
{
    mpk_rd_t r;
    mpk_obj_t o;
    int64_t sec;
    uint32_t nsec;
    int rc = open_value(v, &r, &o);
    if (rc != 0)
        return rc;
    if (o.type != MPK_EXT || o.v.ext.type != WIRE_EXT_TIMESTAMP)
        return CQLMQ_EBADTYPE;
    const uint8_t *p = o.v.ext.ptr;
    switch (o.v.ext.len) {
    case 4:
        sec = ld32(p), nsec = 0;
        break;
    case 8: {
        uint64_t d = ld64(p);
        nsec = (uint32_t)(d >> 34);
        sec = (int64_t)(d & ((UINT64_C(1) << 34) - 1));
        break;
    }
    case 12:
        nsec = ld32(p);
        sec = (int64_t)ld64(p + 4);
        break;
    default:
        return CQLMQ_EBADTYPE;
    }
    if (nsec >= 1000000000u)
        return CQLMQ_EBADTYPE;
    if (sec > INT64_MAX / 1000 - 1 || sec < INT64_MIN / 1000 + 1)
        return CQLMQ_ERANGE;
    *ms = sec * 1000 + nsec / 1000000;
    return 0;
}

int cqlmq_value_date(const cqlmq_value_t *v, int32_t *days)
{
    mpk_ext_t e;
    int rc = ext_of(v, WIRE_EXT_DATE, 4, 4, &e);
    if (rc == 0)
        *days = (int32_t)ld32(e.ptr);
    return rc;
}

int cqlmq_value_time(const cqlmq_value_t *v, int64_t *ns)
{
    mpk_ext_t e;
    int rc = ext_of(v, WIRE_EXT_TIME, 8, 8, &e);
    if (rc == 0)
        *ns = (int64_t)ld64(e.ptr);
    return rc;
}

int cqlmq_value_duration(const cqlmq_value_t *v, int32_t *months, int32_t *days, int64_t *ns)
{
    mpk_ext_t e;
    int rc = ext_of(v, WIRE_EXT_DURATION, 16, 16, &e);
    if (rc == 0) {
        *months = (int32_t)ld32(e.ptr);
        *days = (int32_t)ld32(e.ptr + 4);
        *ns = (int64_t)ld64(e.ptr + 8);
    }
    return rc;
}

int cqlmq_value_inet(const cqlmq_value_t *v, uint8_t addr[16], size_t *size)
{
    mpk_ext_t e;
    int rc = ext_of(v, WIRE_EXT_INET, 4, 16, &e);
    if (rc == 0) {
        memcpy(addr, e.ptr, e.len);
        *size = e.len;
    }
    return rc;
}

int cqlmq_value_number_text(const cqlmq_value_t *v, char *buf, size_t cap)
{
    mpk_rd_t r;
    mpk_obj_t o;
    int rc = open_value(v, &r, &o);
    if (rc != 0)
        return rc;
    static const cql_type_t tdec = {.kind = CQL_TYPE_DECIMAL};
    static const cql_type_t tfloat = {.kind = CQL_TYPE_FLOAT};
    static const cql_type_t tdouble = {.kind = CQL_TYPE_DOUBLE};
    cql_value_t cv;
    switch (o.type) {
    case MPK_INT: return snprintf(buf, cap, "%lld", (long long)o.v.i);
    case MPK_UINT: return snprintf(buf, cap, "%llu", (unsigned long long)o.v.u);
    case MPK_F32:
        cv = cql_value_float(o.v.f32);
        return cql_value_format(&tfloat, &cv, buf, cap);
    case MPK_F64:
        cv = cql_value_double(o.v.f64);
        return cql_value_format(&tdouble, &cv, buf, cap);
    case MPK_EXT:
        if (o.v.ext.type == WIRE_EXT_VARINT && o.v.ext.len > 0)
            return cql_varint_format(o.v.ext.ptr, o.v.ext.len, buf, cap);
        if (o.v.ext.type == WIRE_EXT_DECIMAL && o.v.ext.len > 4) {
            cv = cql_value_decimal_bytes((int32_t)ld32(o.v.ext.ptr), o.v.ext.ptr + 4,
                                         o.v.ext.len - 4);
            return cql_value_format(&tdec, &cv, buf, cap);
        }
        return CQLMQ_EBADTYPE;
    default:
        return CQLMQ_EBADTYPE;
    }
}

/* ---- containers ------------------------------------------------------ */

const cql_type_t *cqlc_item_type(const cql_type_t *t, uint32_t index, bool key)
{
    if (t == NULL)
        return NULL;
    switch (t->kind) {
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET: return t->nsub == 1 ? t->sub[0] : NULL;
    case CQL_TYPE_MAP: return t->nsub == 2 ? t->sub[key ? 0 : 1] : NULL;
    case CQL_TYPE_TUPLE: return index < t->nsub ? t->sub[index] : NULL;
    default: return NULL;
    }
}

const cql_type_t *cqlc_udt_field_type(const cql_type_t *t, const char *name, size_t n)
{
    if (t == NULL || t->kind != CQL_TYPE_UDT || t->field_names == NULL)
        return NULL;
    for (size_t i = 0; i < t->nsub; i++)
        if (strlen(t->field_names[i]) == n && memcmp(t->field_names[i], name, n) == 0)
            return t->sub[i];
    return NULL;
}

int cqlmq_value_iter(const cqlmq_value_t *v, cqlmq_iter_t *it)
{
    mpk_rd_t r;
    mpk_obj_t o;
    int rc = open_value(v, &r, &o);
    if (rc != 0)
        return rc;
    if (o.type != MPK_ARRAY && o.type != MPK_MAP)
        return CQLMQ_EBADTYPE;
    it->p = v->ptr;
    it->len = v->len;
    it->pos = r.pos;
    it->count = o.v.count;
    it->index = 0;
    it->pairs = o.type == MPK_MAP;
    it->type = v->type;
    return 0;
}

static int next_raw(cqlmq_iter_t *it, cqlmq_value_t *out)
{
    mpk_rd_t r;
    mpk_raw_t raw;
    mpk_rd_init(&r, it->p, it->len);
    r.pos = it->pos;
    int rc = mpk_rd_raw(&r, &raw);
    if (rc != 0)
        return rc;
    it->pos = r.pos;
    out->ptr = raw.ptr;
    out->len = raw.len;
    out->type = NULL;
    return 0;
}

int cqlmq_iter_next(cqlmq_iter_t *it, cqlmq_value_t *item)
{
    if (it->pairs)
        return CQLMQ_EBADTYPE;
    if (it->index >= it->count)
        return 0;
    int rc = next_raw(it, item);
    if (rc != 0)
        return rc;
    item->type = cqlc_item_type(it->type, it->index, false);
    it->index++;
    return 1;
}

int cqlmq_iter_next_pair(cqlmq_iter_t *it, cqlmq_value_t *key, cqlmq_value_t *val)
{
    if (!it->pairs)
        return CQLMQ_EBADTYPE;
    if (it->index >= it->count)
        return 0;
    size_t at = it->pos;
    int rc = next_raw(it, key);
    if (rc == 0 && (rc = next_raw(it, val)) != 0)
        it->pos = at;
    if (rc != 0)
        return rc;
    if (it->type != NULL && it->type->kind == CQL_TYPE_UDT) {
        const char *name;
        size_t n;
        if (cqlmq_value_text(key, &name, &n) == 0)
            val->type = cqlc_udt_field_type(it->type, name, n);
    } else {
        key->type = cqlc_item_type(it->type, it->index, true);
        val->type = cqlc_item_type(it->type, it->index, false);
    }
    it->index++;
    return 1;
}
