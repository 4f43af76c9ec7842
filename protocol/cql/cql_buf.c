/*
 * cql_buf: bounded reads and sticky-error writes of the spec's notations.
 */
#include "cql_buf.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define NEED(r, n)                       \
    do {                                 \
        if (cql_rd_left(r) < (size_t)(n)) \
            return CQLMQ_ETRUNCATED;     \
    } while (0)

int cql_rd_u8(cql_rd_t *r, uint8_t *out)
{
    NEED(r, 1);
    *out = r->p[r->pos++];
    return 0;
}

int cql_rd_u16(cql_rd_t *r, uint16_t *out)
{
    NEED(r, 2);
    *out = cql_load_u16(r->p + r->pos);
    r->pos += 2;
    return 0;
}

int cql_rd_i32(cql_rd_t *r, int32_t *out)
{
    NEED(r, 4);
    *out = (int32_t)cql_load_u32(r->p + r->pos);
    r->pos += 4;
    return 0;
}

int cql_rd_i64(cql_rd_t *r, int64_t *out)
{
    NEED(r, 8);
    *out = (int64_t)cql_load_u64(r->p + r->pos);
    r->pos += 8;
    return 0;
}

int cql_rd_raw(cql_rd_t *r, size_t n, const uint8_t **out)
{
    NEED(r, n);
    *out = r->p + r->pos;
    r->pos += n;
    return 0;
}

int cql_rd_string(cql_rd_t *r, cql_str_t *out)
{
    NEED(r, 2);
    size_t n = cql_load_u16(r->p + r->pos);
    NEED(r, 2 + n);
    out->ptr = (const char *)r->p + r->pos + 2;
    out->len = n;
    r->pos += 2 + n;
    return 0;
}

int cql_rd_long_string(cql_rd_t *r, cql_str_t *out)
{
    NEED(r, 4);
    int32_t n = (int32_t)cql_load_u32(r->p + r->pos);
    if (n < 0)
        return CQLMQ_EMALFORMED;
    NEED(r, 4 + (size_t)n);
    out->ptr = (const char *)r->p + r->pos + 4;
    out->len = (size_t)n;
    r->pos += 4 + (size_t)n;
    return 0;
}

int cql_rd_uuid(cql_rd_t *r, const uint8_t **out16)
{
    return cql_rd_raw(r, 16, out16);
}

static int rd_int_bytes(cql_rd_t *r, cql_bytes_t *out, bool value)
{
    NEED(r, 4);
    int32_t n = (int32_t)cql_load_u32(r->p + r->pos);
    if (n < 0) {
        if (value && n < CQL_BYTES_NOT_SET)
            return CQLMQ_EMALFORMED;
        out->ptr = NULL;
        out->len = (value && n == CQL_BYTES_NOT_SET) ? CQL_BYTES_NOT_SET : CQL_BYTES_NULL;
        r->pos += 4;
        return 0;
    }
    NEED(r, 4 + (size_t)n);
    out->ptr = r->p + r->pos + 4;
    out->len = n;
    r->pos += 4 + (size_t)n;
    return 0;
}

int cql_rd_bytes(cql_rd_t *r, cql_bytes_t *out) { return rd_int_bytes(r, out, false); }
int cql_rd_value(cql_rd_t *r, cql_bytes_t *out) { return rd_int_bytes(r, out, true); }

int cql_rd_short_bytes(cql_rd_t *r, cql_bytes_t *out)
{
    NEED(r, 2);
    size_t n = cql_load_u16(r->p + r->pos);
    NEED(r, 2 + n);
    out->ptr = r->p + r->pos + 2;
    out->len = (int32_t)n;
    r->pos += 2 + n;
    return 0;
}

int cql_rd_inetaddr(cql_rd_t *r, cql_inet_t *out)
{
    NEED(r, 1);
    uint8_t n = r->p[r->pos];
    if (n != 4 && n != 16)
        return CQLMQ_EMALFORMED;
    NEED(r, 1 + (size_t)n);
    out->size = n;
    memset(out->addr, 0, sizeof(out->addr));
    memcpy(out->addr, r->p + r->pos + 1, n);
    out->port = 0;
    r->pos += 1 + (size_t)n;
    return 0;
}

int cql_rd_inet(cql_rd_t *r, cql_inet_t *out)
{
    size_t save = r->pos;
    cql_inet_t a;
    int rc = cql_rd_inetaddr(r, &a);
    if (rc == 0)
        rc = cql_rd_i32(r, &a.port);
    if (rc) {
        r->pos = save;
        return rc;
    }
    *out = a;
    return 0;
}

int cql_rd_uvint(cql_rd_t *r, uint64_t *out)
{
    NEED(r, 1);
    uint8_t first = r->p[r->pos];
    int extra = 0;
    while (extra < 8 && (first & (0x80u >> extra)))
        extra++;
    NEED(r, 1 + (size_t)extra);
    uint64_t v = extra == 8 ? 0 : (uint64_t)(first & (0xffu >> extra));
    for (int i = 1; i <= extra; i++)
        v = (v << 8) | r->p[r->pos + (size_t)i];
    *out = v;
    r->pos += 1 + (size_t)extra;
    return 0;
}

int cql_rd_vint(cql_rd_t *r, int64_t *out)
{
    uint64_t u;
    int rc = cql_rd_uvint(r, &u);
    if (rc == 0)
        *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return rc;
}

int cql_rd_count16(cql_rd_t *r, size_t min_item, uint16_t *out)
{
    NEED(r, 2);
    uint16_t n = cql_load_u16(r->p + r->pos);
    if ((size_t)n * min_item > cql_rd_left(r) - 2)
        return CQLMQ_ETRUNCATED;
    r->pos += 2;
    *out = n;
    return 0;
}

int cql_rd_count32(cql_rd_t *r, size_t min_item, int32_t *out)
{
    NEED(r, 4);
    int32_t n = (int32_t)cql_load_u32(r->p + r->pos);
    if (n < 0)
        return CQLMQ_EMALFORMED;
    if (min_item && (size_t)n > (cql_rd_left(r) - 4) / min_item)
        return CQLMQ_ETRUNCATED;
    r->pos += 4;
    *out = n;
    return 0;
}

/* ---- writer ---- */

void cql_wr_init(cql_wr_t *w)
{
    cql_wr_init_mem(w, NULL);
}

void cql_wr_init_mem(cql_wr_t *w, const cql_mem_t *mem)
{
    w->data = NULL;
    w->len = 0;
    w->cap = 0;
    w->err = 0;
    w->mem = mem;
}

/* Empties w without freeing; keeps its allocator. */
static void wr_forget(cql_wr_t *w)
{
    w->data = NULL;
    w->len = 0;
    w->cap = 0;
    w->err = 0;
}

void cql_wr_close(cql_wr_t *w)
{
    cql_mem_free(w->mem, w->data);
    wr_forget(w);
}

void cql_wr_reset(cql_wr_t *w)
{
    w->len = 0;
    w->err = 0;
}

int cql_wr_reserve(cql_wr_t *w, size_t n)
{
    if (w->err)
        return w->err;
    if (w->cap - w->len >= n)
        return 0;
    if (n > SIZE_MAX / 2 - w->len) {
        w->err = CQLMQ_ENOMEM;
        return w->err;
    }
    size_t cap = w->cap ? w->cap : 256;
    while (cap - w->len < n)
        cap *= 2;
    uint8_t *p = cql_mem_realloc(w->mem, w->data, cap);
    if (p == NULL) {
        w->err = CQLMQ_ENOMEM;
        return w->err;
    }
    w->data = p;
    w->cap = cap;
    return 0;
}

uint8_t *cql_wr_release(cql_wr_t *w, size_t *out_len)
{
    if (w->err) {
        cql_wr_close(w);
        *out_len = 0;
        return NULL;
    }
    uint8_t *p = w->data;
    *out_len = w->len;
    wr_forget(w);
    return p;
}

void cql_wr_raw(cql_wr_t *w, const void *p, size_t n)
{
    if (cql_wr_reserve(w, n))
        return;
    if (n)
        memcpy(w->data + w->len, p, n);
    w->len += n;
}

void cql_wr_u8(cql_wr_t *w, uint8_t v) { cql_wr_raw(w, &v, 1); }

void cql_wr_u16(cql_wr_t *w, uint16_t v)
{
    uint8_t b[2];
    cql_store_u16(b, v);
    cql_wr_raw(w, b, 2);
}

void cql_wr_i32(cql_wr_t *w, int32_t v)
{
    uint8_t b[4];
    cql_store_u32(b, (uint32_t)v);
    cql_wr_raw(w, b, 4);
}

void cql_wr_i64(cql_wr_t *w, int64_t v)
{
    uint8_t b[8];
    cql_store_u64(b, (uint64_t)v);
    cql_wr_raw(w, b, 8);
}

static bool wr_fail(cql_wr_t *w, int err)
{
    if (w->err == 0)
        w->err = err;
    return false;
}

void cql_wr_string(cql_wr_t *w, const char *s, size_t n)
{
    if (n > UINT16_MAX && !wr_fail(w, CQLMQ_ERANGE))
        return;
    cql_wr_u16(w, (uint16_t)n);
    cql_wr_raw(w, s, n);
}

void cql_wr_cstring(cql_wr_t *w, const char *s) { cql_wr_string(w, s, strlen(s)); }

void cql_wr_long_string(cql_wr_t *w, const char *s, size_t n)
{
    if (n > INT32_MAX && !wr_fail(w, CQLMQ_ERANGE))
        return;
    cql_wr_i32(w, (int32_t)n);
    cql_wr_raw(w, s, n);
}

void cql_wr_uuid(cql_wr_t *w, const uint8_t uuid[16]) { cql_wr_raw(w, uuid, 16); }

void cql_wr_bytes(cql_wr_t *w, cql_bytes_t b)
{
    if (b.len < 0) {
        cql_wr_i32(w, b.len == CQL_BYTES_NOT_SET ? CQL_BYTES_NOT_SET : CQL_BYTES_NULL);
        return;
    }
    cql_wr_i32(w, b.len);
    cql_wr_raw(w, b.ptr, (size_t)b.len);
}

void cql_wr_short_bytes(cql_wr_t *w, const void *p, size_t n)
{
    if (n > UINT16_MAX && !wr_fail(w, CQLMQ_ERANGE))
        return;
    cql_wr_u16(w, (uint16_t)n);
    cql_wr_raw(w, p, n);
}

void cql_wr_inetaddr(cql_wr_t *w, const cql_inet_t *a)
{
    if (a->size != 4 && a->size != 16 && !wr_fail(w, CQLMQ_ERANGE))
        return;
    cql_wr_u8(w, a->size);
    cql_wr_raw(w, a->addr, a->size);
}

void cql_wr_inet(cql_wr_t *w, const cql_inet_t *a)
{
    cql_wr_inetaddr(w, a);
    cql_wr_i32(w, a->port);
}

void cql_wr_uvint(cql_wr_t *w, uint64_t v)
{
    uint8_t b[9];
    int extra = 0; /* bytes after the first */
    while (extra < 8 && (v >> (7 * (extra + 1))) != 0)
        extra++;
    if (extra == 8) {
        b[0] = 0xff;
        cql_store_u64(b + 1, v);
        cql_wr_raw(w, b, 9);
        return;
    }
    for (int i = extra; i >= 0; i--) {
        b[i] = (uint8_t)v;
        v >>= 8;
    }
    b[0] |= (uint8_t)~(0xffu >> extra);
    cql_wr_raw(w, b, (size_t)extra + 1);
}

void cql_wr_vint(cql_wr_t *w, int64_t v)
{
    cql_wr_uvint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void cql_wr_patch_i32(cql_wr_t *w, size_t off, int32_t v)
{
    if (w->err || off > w->len || w->len - off < 4)
        return;
    cql_store_u32(w->data + off, (uint32_t)v);
}
