/*
 * mpk_rd: the bounded msgpack pull reader (see mpk.h).
 *
 * Every reader goes through item(), which decodes the header at the current
 * position, checks that the header, the payload of a str/bin/ext and the
 * minimum size of a container's items all fit in the remaining bytes, and
 * only then reports the item. Public readers check the type and advance the
 * position on success only, so an error consumes nothing.
 */
#include "mpk.h"

#include <string.h>

static inline uint16_t ld16(const uint8_t *p) { return (uint16_t)((uint16_t)p[0] << 8 | p[1]); }
static inline uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t ld64(const uint8_t *p) { return (uint64_t)ld32(p) << 32 | ld32(p + 4); }

/* Payload of `n` bytes after a header of `hdr` bytes must fit. */
static inline int fits(size_t left, size_t hdr, uint64_t n)
{
    if (hdr > left)
        return CQLMQ_ETRUNCATED;
    return n <= left - hdr ? 0 : CQLMQ_ETRUNCATED;
}

/* Decodes the item at r->pos into *o and its size (the whole encoding for
 * scalars, str, bin and ext; the header only for containers) into *size.
 * Returns 0, CQLMQ_ETRUNCATED or CQLMQ_EMALFORMED. */
static int item(const mpk_rd_t *r, mpk_obj_t *o, size_t *size)
{
    size_t left = r->len - r->pos;
    if (left == 0)
        return CQLMQ_ETRUNCATED;
    const uint8_t *p = r->p + r->pos;
    uint8_t b = p[0];
    uint64_t n = 0;  /* payload length or container count */
    size_t hdr = 1;  /* header bytes */
    int rc;

    if (b <= 0x7f) {
        o->type = MPK_UINT, o->v.u = b;
        *size = 1;
        return 0;
    }
    if (b >= 0xe0) {
        o->type = MPK_INT, o->v.i = (int8_t)b;
        *size = 1;
        return 0;
    }
    if ((b & 0xf0) == 0x80 || (b & 0xf0) == 0x90) { /* fixmap, fixarray */
        n = b & 0x0f;
        o->type = (b & 0xf0) == 0x80 ? MPK_MAP : MPK_ARRAY;
        goto container;
    }
    if ((b & 0xe0) == 0xa0) { /* fixstr */
        n = b & 0x1f;
        o->type = MPK_STR;
        goto payload;
    }
    switch (b) {
    case 0xc0: o->type = MPK_NIL; *size = 1; return 0;
    case 0xc2: o->type = MPK_BOOL, o->v.b = false; *size = 1; return 0;
    case 0xc3: o->type = MPK_BOOL, o->v.b = true; *size = 1; return 0;
    case 0xc1: return CQLMQ_EMALFORMED;
    case 0xcc: case 0xcd: case 0xce: case 0xcf: { /* uint 8/16/32/64 */
        size_t w = (size_t)1 << (b - 0xcc);
        if (left < 1 + w)
            return CQLMQ_ETRUNCATED;
        o->type = MPK_UINT;
        o->v.u = w == 1 ? p[1] : w == 2 ? ld16(p + 1) : w == 4 ? ld32(p + 1) : ld64(p + 1);
        *size = 1 + w;
        return 0;
    }
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: { /* int 8/16/32/64 */
        size_t w = (size_t)1 << (b - 0xd0);
        if (left < 1 + w)
            return CQLMQ_ETRUNCATED;
        o->type = MPK_INT;
        o->v.i = w == 1   ? (int8_t)p[1]
                 : w == 2 ? (int16_t)ld16(p + 1)
                 : w == 4 ? (int32_t)ld32(p + 1)
                          : (int64_t)ld64(p + 1);
        *size = 1 + w;
        return 0;
    }
    case 0xca: {
        if (left < 5)
            return CQLMQ_ETRUNCATED;
        uint32_t u = ld32(p + 1);
        o->type = MPK_F32;
        memcpy(&o->v.f32, &u, 4);
        *size = 5;
        return 0;
    }
    case 0xcb: {
        if (left < 9)
            return CQLMQ_ETRUNCATED;
        uint64_t u = ld64(p + 1);
        o->type = MPK_F64;
        memcpy(&o->v.f64, &u, 8);
        *size = 9;
        return 0;
    }
    case 0xd9: case 0xda: case 0xdb: /* str 8/16/32 */
    case 0xc4: case 0xc5: case 0xc6: { /* bin 8/16/32 */
        bool str = b >= 0xd9;
        size_t w = (size_t)1 << (b - (str ? 0xd9 : 0xc4));
        if (left < 1 + w)
            return CQLMQ_ETRUNCATED;
        n = w == 1 ? p[1] : w == 2 ? ld16(p + 1) : ld32(p + 1);
        hdr = 1 + w;
        o->type = str ? MPK_STR : MPK_BIN;
        goto payload;
    }
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: /* fixext 1..16 */
        if (left < 2)
            return CQLMQ_ETRUNCATED;
        n = (uint64_t)1 << (b - 0xd4);
        hdr = 2;
        o->v.ext.type = (int8_t)p[1];
        o->type = MPK_EXT;
        goto payload;
    case 0xc7: case 0xc8: case 0xc9: { /* ext 8/16/32 */
        size_t w = (size_t)1 << (b - 0xc7);
        if (left < 2 + w)
            return CQLMQ_ETRUNCATED;
        n = w == 1 ? p[1] : w == 2 ? ld16(p + 1) : ld32(p + 1);
        hdr = 2 + w;
        o->v.ext.type = (int8_t)p[1 + w];
        o->type = MPK_EXT;
        goto payload;
    }
    case 0xdc: case 0xdd: case 0xde: case 0xdf: { /* array 16/32, map 16/32 */
        size_t w = (b & 1) ? 4 : 2;
        if (left < 1 + w)
            return CQLMQ_ETRUNCATED;
        n = w == 2 ? ld16(p + 1) : ld32(p + 1);
        hdr = 1 + w;
        o->type = b <= 0xdd ? MPK_ARRAY : MPK_MAP;
        goto container;
    }
    default:
        return CQLMQ_EMALFORMED; /* unreachable: every byte is covered */
    }

payload:
    if ((rc = fits(left, hdr, n)) != 0)
        return rc;
    if (o->type == MPK_STR)
        o->v.str.ptr = (const char *)p + hdr, o->v.str.len = (uint32_t)n;
    else if (o->type == MPK_BIN)
        o->v.bin.ptr = p + hdr, o->v.bin.len = (uint32_t)n;
    else
        o->v.ext.ptr = p + hdr, o->v.ext.len = (uint32_t)n;
    *size = hdr + (size_t)n;
    return 0;

container:
    /* Each array item takes at least one byte, each map pair two. */
    if ((rc = fits(left, hdr, o->type == MPK_MAP ? 2 * n : n)) != 0)
        return rc;
    o->v.count = (uint32_t)n;
    *size = hdr;
    return 0;
}

int mpk_rd_peek(const mpk_rd_t *r, mpk_type_t *out)
{
    if (r->pos >= r->len)
        return CQLMQ_ETRUNCATED;
    uint8_t b = r->p[r->pos];
    if (b == 0xc1)
        return CQLMQ_EMALFORMED;
    if (b <= 0x7f || (b >= 0xcc && b <= 0xcf))
        *out = MPK_UINT;
    else if (b >= 0xe0 || (b >= 0xd0 && b <= 0xd3))
        *out = MPK_INT;
    else if ((b & 0xf0) == 0x80 || b == 0xde || b == 0xdf)
        *out = MPK_MAP;
    else if ((b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd)
        *out = MPK_ARRAY;
    else if ((b & 0xe0) == 0xa0 || (b >= 0xd9 && b <= 0xdb))
        *out = MPK_STR;
    else if (b >= 0xc4 && b <= 0xc6)
        *out = MPK_BIN;
    else if ((b >= 0xc7 && b <= 0xc9) || (b >= 0xd4 && b <= 0xd8))
        *out = MPK_EXT;
    else if (b == 0xc0)
        *out = MPK_NIL;
    else if (b == 0xc2 || b == 0xc3)
        *out = MPK_BOOL;
    else if (b == 0xca)
        *out = MPK_F32;
    else
        *out = MPK_F64;
    return 0;
}

/* Reads one item that must be of type t (or t2, when t2 != 0). */
static inline int expect(mpk_rd_t *r, mpk_obj_t *o, mpk_type_t t, mpk_type_t t2)
{
    size_t size;
    int rc = item(r, o, &size);
    if (rc != 0)
        return rc;
    if (o->type != t && o->type != t2)
        return CQLMQ_EBADTYPE;
    r->pos += size;
    return 0;
}

int mpk_rd_any(mpk_rd_t *r, mpk_obj_t *out)
{
    size_t size;
    int rc = item(r, out, &size);
    if (rc == 0)
        r->pos += size;
    return rc;
}

int mpk_rd_nil(mpk_rd_t *r)
{
    mpk_obj_t o;
    return expect(r, &o, MPK_NIL, 0);
}

bool mpk_rd_try_nil(mpk_rd_t *r)
{
    if (r->pos < r->len && r->p[r->pos] == 0xc0) {
        r->pos++;
        return true;
    }
    return false;
}

int mpk_rd_bool(mpk_rd_t *r, bool *out)
{
    mpk_obj_t o;
    int rc = expect(r, &o, MPK_BOOL, 0);
    if (rc == 0)
        *out = o.v.b;
    return rc;
}

/* Integer of any encoding as a sign flag and magnitude, without consuming. */
static int peek_int(const mpk_rd_t *r, mpk_obj_t *o, size_t *size)
{
    int rc = item(r, o, size);
    if (rc != 0)
        return rc;
    return o->type == MPK_UINT || o->type == MPK_INT ? 0 : CQLMQ_EBADTYPE;
}

int mpk_rd_int(mpk_rd_t *r, int64_t *out)
{
    mpk_obj_t o;
    size_t size;
    int rc = peek_int(r, &o, &size);
    if (rc != 0)
        return rc;
    if (o.type == MPK_UINT && o.v.u > (uint64_t)INT64_MAX)
        return CQLMQ_ERANGE;
    *out = o.type == MPK_UINT ? (int64_t)o.v.u : o.v.i;
    r->pos += size;
    return 0;
}

int mpk_rd_uint(mpk_rd_t *r, uint64_t *out)
{
    mpk_obj_t o;
    size_t size;
    int rc = peek_int(r, &o, &size);
    if (rc != 0)
        return rc;
    if (o.type == MPK_INT && o.v.i < 0)
        return CQLMQ_ERANGE;
    *out = o.type == MPK_UINT ? o.v.u : (uint64_t)o.v.i;
    r->pos += size;
    return 0;
}

int mpk_rd_i32(mpk_rd_t *r, int32_t *out)
{
    mpk_rd_t save = *r;
    int64_t v;
    int rc = mpk_rd_int(r, &v);
    if (rc != 0)
        return rc;
    if (v < INT32_MIN || v > INT32_MAX) {
        *r = save;
        return CQLMQ_ERANGE;
    }
    *out = (int32_t)v;
    return 0;
}

int mpk_rd_u32(mpk_rd_t *r, uint32_t *out)
{
    mpk_rd_t save = *r;
    uint64_t v;
    int rc = mpk_rd_uint(r, &v);
    if (rc != 0)
        return rc;
    if (v > UINT32_MAX) {
        *r = save;
        return CQLMQ_ERANGE;
    }
    *out = (uint32_t)v;
    return 0;
}

int mpk_rd_f64(mpk_rd_t *r, double *out)
{
    mpk_obj_t o;
    int rc = expect(r, &o, MPK_F64, MPK_F32);
    if (rc == 0)
        *out = o.type == MPK_F64 ? o.v.f64 : (double)o.v.f32;
    return rc;
}

int mpk_rd_str(mpk_rd_t *r, mpk_str_t *out)
{
    mpk_obj_t o;
    int rc = expect(r, &o, MPK_STR, 0);
    if (rc == 0)
        *out = o.v.str;
    return rc;
}

int mpk_rd_bin(mpk_rd_t *r, mpk_bin_t *out)
{
    mpk_obj_t o;
    int rc = expect(r, &o, MPK_BIN, 0);
    if (rc == 0)
        *out = o.v.bin;
    return rc;
}

int mpk_rd_ext(mpk_rd_t *r, mpk_ext_t *out)
{
    mpk_obj_t o;
    int rc = expect(r, &o, MPK_EXT, 0);
    if (rc == 0)
        *out = o.v.ext;
    return rc;
}

int mpk_rd_array(mpk_rd_t *r, uint32_t *count)
{
    mpk_obj_t o;
    int rc = expect(r, &o, MPK_ARRAY, 0);
    if (rc == 0)
        *count = o.v.count;
    return rc;
}

int mpk_rd_map(mpk_rd_t *r, uint32_t *count)
{
    mpk_obj_t o;
    int rc = expect(r, &o, MPK_MAP, 0);
    if (rc == 0)
        *count = o.v.count;
    return rc;
}

/* Iterative: pending[d] counts the items still to skip at depth d. Each item
 * is at least one byte, so the work is linear in the input. */
int mpk_rd_skip(mpk_rd_t *r)
{
    uint64_t pending[MPK_MAX_DEPTH + 1];
    mpk_rd_t c = *r;
    int d = 0;
    pending[0] = 1;
    while (d >= 0) {
        if (pending[d] == 0) {
            d--;
            continue;
        }
        pending[d]--;
        mpk_obj_t o;
        size_t size;
        int rc = item(&c, &o, &size);
        if (rc != 0)
            return rc;
        c.pos += size;
        if ((o.type == MPK_ARRAY || o.type == MPK_MAP) && o.v.count > 0) {
            if (d == MPK_MAX_DEPTH)
                return CQLMQ_ELIMIT;
            pending[++d] = o.type == MPK_MAP ? 2 * (uint64_t)o.v.count : o.v.count;
        }
    }
    r->pos = c.pos;
    return 0;
}

int mpk_rd_raw(mpk_rd_t *r, mpk_raw_t *out)
{
    size_t start = r->pos;
    int rc = mpk_rd_skip(r);
    if (rc == 0) {
        out->ptr = r->p + start;
        out->len = r->pos - start;
    }
    return rc;
}

int mpk_frame(const void *p, size_t n, size_t max, size_t *out_len)
{
    mpk_rd_t r;
    mpk_rd_init(&r, p, n > max ? max : n);
    int rc = mpk_rd_skip(&r);
    if (rc == CQLMQ_ETRUNCATED && n >= max)
        return CQLMQ_ETOOBIG;
    if (rc == 0)
        *out_len = r.pos;
    return rc;
}
