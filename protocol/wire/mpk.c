/*
 * mpk: the schema engine behind MPK_SCHEMA (see mpk.h).
 *
 * A schema is a const table of fields (name, kind, required, offset) that
 * the X-macro builds from a single declaration. This file walks the table:
 * the encoder writes a map keyed by field name or a positional array; the
 * decoder accepts both, reads each value with the bounded reader (so every
 * length was checked before it is stored), skips what it does not know and
 * rejects duplicates and missing required fields.
 */
#include "mpk.h"

#include <string.h>

/* Field storage inside a message struct. */
#define FIELD(msg, f) ((char *)(msg) + (f)->offset)
#define CFIELD(msg, f) ((const char *)(msg) + (f)->offset)

static inline uint64_t present_of(const void *msg)
{
    uint64_t p;
    memcpy(&p, msg, sizeof p); /* the struct starts with `present` */
    return p;
}

static void encode_value(mpk_wr_t *w, const mpk_field_t *f, const void *msg)
{
    const char *v = CFIELD(msg, f);
    switch ((mpk_kind_t)f->kind) {
    case MPK_K_BOOL: mpk_wr_bool(w, *(const bool *)v); break;
    case MPK_K_INT: mpk_wr_int(w, *(const int64_t *)v); break;
    case MPK_K_UINT: mpk_wr_uint(w, *(const uint64_t *)v); break;
    case MPK_K_I32: mpk_wr_int(w, *(const int32_t *)v); break;
    case MPK_K_U32: mpk_wr_uint(w, *(const uint32_t *)v); break;
    case MPK_K_F64: mpk_wr_f64(w, *(const double *)v); break;
    case MPK_K_STR: {
        const mpk_str_t *s = (const mpk_str_t *)v;
        mpk_wr_str(w, s->ptr, s->len);
        break;
    }
    case MPK_K_BIN: {
        const mpk_bin_t *b = (const mpk_bin_t *)v;
        mpk_wr_bin(w, b->ptr, b->len);
        break;
    }
    case MPK_K_EXT: {
        const mpk_ext_t *e = (const mpk_ext_t *)v;
        mpk_wr_ext(w, e->type, e->ptr, e->len);
        break;
    }
    case MPK_K_RAW: {
        const mpk_raw_t *raw = (const mpk_raw_t *)v;
        if (raw->len == 0)
            mpk_wr_nil(w); /* an unset raw value is nil, never zero bytes */
        else
            mpk_wr_raw(w, raw->ptr, raw->len);
        break;
    }
    }
}

int mpk_schema_encode(mpk_wr_t *w, const mpk_schema_t *s, const void *msg, bool compact)
{
    uint64_t present = present_of(msg);
    uint32_t i, n = 0;
    if (compact) {
        mpk_wr_array(w, s->nfields);
        for (i = 0; i < s->nfields; i++) {
            const mpk_field_t *f = &s->fields[i];
            if (f->required || (present >> i & 1))
                encode_value(w, f, msg);
            else
                mpk_wr_nil(w);
        }
        return w->err;
    }
    for (i = 0; i < s->nfields; i++)
        if (s->fields[i].required || (present >> i & 1))
            n++;
    mpk_wr_map(w, n);
    for (i = 0; i < s->nfields; i++) {
        const mpk_field_t *f = &s->fields[i];
        if (!f->required && !(present >> i & 1))
            continue;
        mpk_wr_str(w, f->name, f->name_len);
        encode_value(w, f, msg);
    }
    return w->err;
}

static int decode_value(mpk_rd_t *r, const mpk_field_t *f, void *msg)
{
    char *v = FIELD(msg, f);
    switch ((mpk_kind_t)f->kind) {
    case MPK_K_BOOL: return mpk_rd_bool(r, (bool *)v);
    case MPK_K_INT: return mpk_rd_int(r, (int64_t *)v);
    case MPK_K_UINT: return mpk_rd_uint(r, (uint64_t *)v);
    case MPK_K_I32: return mpk_rd_i32(r, (int32_t *)v);
    case MPK_K_U32: return mpk_rd_u32(r, (uint32_t *)v);
    case MPK_K_F64: return mpk_rd_f64(r, (double *)v);
    case MPK_K_STR: return mpk_rd_str(r, (mpk_str_t *)v);
    case MPK_K_BIN: return mpk_rd_bin(r, (mpk_bin_t *)v);
    case MPK_K_EXT: return mpk_rd_ext(r, (mpk_ext_t *)v);
    case MPK_K_RAW: return mpk_rd_raw(r, (mpk_raw_t *)v);
    }
    return CQLMQ_EBADTYPE;
}

/* Field index for a key, or -1. Names are short: a linear scan with a length
 * check first beats hashing for the handful of fields a message has. */
static int find_field(const mpk_schema_t *s, mpk_str_t key)
{
    for (uint32_t i = 0; i < s->nfields; i++) {
        const mpk_field_t *f = &s->fields[i];
        if (f->name_len == key.len && memcmp(f->name, key.ptr, key.len) == 0)
            return (int)i;
    }
    return -1;
}

static int check_required(const mpk_schema_t *s, uint64_t present)
{
    for (uint32_t i = 0; i < s->nfields; i++)
        if (s->fields[i].required && !(present >> i & 1))
            return CQLMQ_EMALFORMED;
    return 0;
}

/* One field value (nil means absent for an optional field). */
static int decode_field(mpk_rd_t *r, const mpk_schema_t *s, uint32_t i, void *msg,
                        uint64_t *present)
{
    const mpk_field_t *f = &s->fields[i];
    if (mpk_rd_try_nil(r))
        return f->required ? CQLMQ_EMALFORMED : 0;
    int rc = decode_value(r, f, msg);
    if (rc == 0)
        *present |= (uint64_t)1 << i;
    return rc;
}

int mpk_schema_decode(mpk_rd_t *r, const mpk_schema_t *s, void *msg)
{
    mpk_type_t t;
    uint64_t present = 0;
    uint32_t n, i;
    int rc;

    if ((rc = mpk_rd_peek(r, &t)) != 0)
        return rc;
    if (t != MPK_MAP && t != MPK_ARRAY)
        return CQLMQ_EBADTYPE;
    /* Zero the fields (the struct's size is the last field's end at most;
     * clear field by field since the struct size is not in the table). */
    for (i = 0; i < s->nfields; i++) {
        static const size_t sizes[] = {
            [MPK_K_BOOL] = sizeof(bool),     [MPK_K_INT] = sizeof(int64_t),
            [MPK_K_UINT] = sizeof(uint64_t), [MPK_K_I32] = sizeof(int32_t),
            [MPK_K_U32] = sizeof(uint32_t),  [MPK_K_F64] = sizeof(double),
            [MPK_K_STR] = sizeof(mpk_str_t), [MPK_K_BIN] = sizeof(mpk_bin_t),
            [MPK_K_EXT] = sizeof(mpk_ext_t), [MPK_K_RAW] = sizeof(mpk_raw_t),
        };
        memset(FIELD(msg, &s->fields[i]), 0, sizes[s->fields[i].kind]);
    }

    if (t == MPK_ARRAY) {
        if ((rc = mpk_rd_array(r, &n)) != 0)
            return rc;
        for (i = 0; i < n; i++) {
            rc = i < s->nfields ? decode_field(r, s, i, msg, &present) : mpk_rd_skip(r);
            if (rc != 0)
                goto out;
        }
    } else {
        if ((rc = mpk_rd_map(r, &n)) != 0)
            return rc;
        for (i = 0; i < n; i++) {
            mpk_str_t key;
            int idx = -1;
            if (mpk_rd_str(r, &key) == 0)
                idx = find_field(s, key);
            else if ((rc = mpk_rd_skip(r)) != 0) /* a non-string key: ignore it */
                goto out;
            if (idx < 0) {
                if ((rc = mpk_rd_skip(r)) != 0)
                    goto out;
                continue;
            }
            if (present >> idx & 1) {
                rc = CQLMQ_EMALFORMED; /* duplicate key */
                goto out;
            }
            if ((rc = decode_field(r, s, (uint32_t)idx, msg, &present)) != 0)
                goto out;
        }
    }
    rc = check_required(s, present);
out:
    memcpy(msg, &present, sizeof present);
    return rc;
}
