/*
 * mpk_wr: the msgpack writer (see mpk.h). One growable heap buffer, a sticky
 * error, integers in their smallest form. The buffer is released to the
 * caller (typically for zmq_msg_init_data with mpk_free_cb) without a copy.
 */
#include "mpk.h"

#include <stdlib.h>
#include <string.h>

#define MPK_WR_MIN_CAP 64

void mpk_wr_init(mpk_wr_t *w)
{
    w->data = NULL;
    w->len = 0;
    w->cap = 0;
    w->err = 0;
}

void mpk_wr_close(mpk_wr_t *w)
{
    free(w->data);
    mpk_wr_init(w);
}

void mpk_wr_reset(mpk_wr_t *w)
{
    w->len = 0;
    w->err = 0;
}

void mpk_free_cb(void *data, void *hint)
{
    (void)hint;
    free(data);
}

int mpk_wr_reserve(mpk_wr_t *w, size_t n)
{
    if (w->err)
        return w->err;
    if (w->cap - w->len >= n)
        return 0;
    if (n > SIZE_MAX / 2 - w->len) {
        w->err = CQLMQ_ENOMEM;
        return w->err;
    }
    size_t cap = w->cap ? w->cap : MPK_WR_MIN_CAP;
    while (cap - w->len < n)
        cap *= 2;
    uint8_t *p = realloc(w->data, cap);
    if (p == NULL) {
        w->err = CQLMQ_ENOMEM;
        return w->err;
    }
    w->data = p;
    w->cap = cap;
    return 0;
}

uint8_t *mpk_wr_release(mpk_wr_t *w, size_t *out_len)
{
    uint8_t *p = w->data;
    if (w->err) {
        mpk_wr_close(w);
        *out_len = 0;
        return NULL;
    }
    if (p == NULL) {
        p = malloc(1);
        if (p == NULL) {
            *out_len = 0;
            return NULL;
        }
    }
    *out_len = w->len;
    mpk_wr_init(w);
    return p;
}

void mpk_wr_truncate(mpk_wr_t *w, size_t len)
{
    if (len < w->len)
        w->len = len;
}

/* Appends n bytes of a header built in `h`. */
static inline void put(mpk_wr_t *w, const void *h, size_t n)
{
    if (n == 0)
        return;
    if (w->cap - w->len < n && mpk_wr_reserve(w, n) != 0)
        return;
    if (w->err)
        return;
    memcpy(w->data + w->len, h, n);
    w->len += n;
}

static inline void st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void st64(uint8_t *p, uint64_t v)
{
    st32(p, (uint32_t)(v >> 32));
    st32(p + 4, (uint32_t)v);
}

void mpk_wr_nil(mpk_wr_t *w)
{
    uint8_t b = 0xc0;
    put(w, &b, 1);
}

void mpk_wr_bool(mpk_wr_t *w, bool v)
{
    uint8_t b = v ? 0xc3 : 0xc2;
    put(w, &b, 1);
}

void mpk_wr_uint(mpk_wr_t *w, uint64_t v)
{
    uint8_t h[9];
    if (v <= 0x7f) {
        h[0] = (uint8_t)v;
        put(w, h, 1);
    } else if (v <= UINT8_MAX) {
        h[0] = 0xcc, h[1] = (uint8_t)v;
        put(w, h, 2);
    } else if (v <= UINT16_MAX) {
        h[0] = 0xcd, st16(h + 1, (uint16_t)v);
        put(w, h, 3);
    } else if (v <= UINT32_MAX) {
        h[0] = 0xce, st32(h + 1, (uint32_t)v);
        put(w, h, 5);
    } else {
        h[0] = 0xcf, st64(h + 1, v);
        put(w, h, 9);
    }
}

void mpk_wr_int(mpk_wr_t *w, int64_t v)
{
    uint8_t h[9];
    if (v >= 0) {
        mpk_wr_uint(w, (uint64_t)v);
    } else if (v >= -32) {
        h[0] = (uint8_t)(int8_t)v;
        put(w, h, 1);
    } else if (v >= INT8_MIN) {
        h[0] = 0xd0, h[1] = (uint8_t)(int8_t)v;
        put(w, h, 2);
    } else if (v >= INT16_MIN) {
        h[0] = 0xd1, st16(h + 1, (uint16_t)(int16_t)v);
        put(w, h, 3);
    } else if (v >= INT32_MIN) {
        h[0] = 0xd2, st32(h + 1, (uint32_t)(int32_t)v);
        put(w, h, 5);
    } else {
        h[0] = 0xd3, st64(h + 1, (uint64_t)v);
        put(w, h, 9);
    }
}

void mpk_wr_f32(mpk_wr_t *w, float v)
{
    uint8_t h[5];
    uint32_t u;
    memcpy(&u, &v, 4);
    h[0] = 0xca, st32(h + 1, u);
    put(w, h, 5);
}

void mpk_wr_f64(mpk_wr_t *w, double v)
{
    uint8_t h[9];
    uint64_t u;
    memcpy(&u, &v, 8);
    h[0] = 0xcb, st64(h + 1, u);
    put(w, h, 9);
}

static bool too_long(mpk_wr_t *w, size_t n)
{
    if (n <= UINT32_MAX)
        return false;
    if (!w->err)
        w->err = CQLMQ_ERANGE;
    return true;
}

void mpk_wr_str_hdr(mpk_wr_t *w, uint32_t n)
{
    uint8_t h[5];
    if (n <= 31) {
        h[0] = (uint8_t)(0xa0 | n);
        put(w, h, 1);
    } else if (n <= UINT8_MAX) {
        h[0] = 0xd9, h[1] = (uint8_t)n;
        put(w, h, 2);
    } else if (n <= UINT16_MAX) {
        h[0] = 0xda, st16(h + 1, (uint16_t)n);
        put(w, h, 3);
    } else {
        h[0] = 0xdb, st32(h + 1, n);
        put(w, h, 5);
    }
}

void mpk_wr_bin_hdr(mpk_wr_t *w, uint32_t n)
{
    uint8_t h[5];
    if (n <= UINT8_MAX) {
        h[0] = 0xc4, h[1] = (uint8_t)n;
        put(w, h, 2);
    } else if (n <= UINT16_MAX) {
        h[0] = 0xc5, st16(h + 1, (uint16_t)n);
        put(w, h, 3);
    } else {
        h[0] = 0xc6, st32(h + 1, n);
        put(w, h, 5);
    }
}

void mpk_wr_ext_hdr(mpk_wr_t *w, int8_t type, uint32_t n)
{
    uint8_t h[6];
    switch (n) {
    case 1: h[0] = 0xd4; break;
    case 2: h[0] = 0xd5; break;
    case 4: h[0] = 0xd6; break;
    case 8: h[0] = 0xd7; break;
    case 16: h[0] = 0xd8; break;
    default:
        if (n <= UINT8_MAX) {
            h[0] = 0xc7, h[1] = (uint8_t)n, h[2] = (uint8_t)type;
            put(w, h, 3);
        } else if (n <= UINT16_MAX) {
            h[0] = 0xc8, st16(h + 1, (uint16_t)n), h[3] = (uint8_t)type;
            put(w, h, 4);
        } else {
            h[0] = 0xc9, st32(h + 1, n), h[5] = (uint8_t)type;
            put(w, h, 6);
        }
        return;
    }
    h[1] = (uint8_t)type;
    put(w, h, 2);
}

void mpk_wr_str(mpk_wr_t *w, const char *s, size_t n)
{
    if (too_long(w, n))
        return;
    mpk_wr_str_hdr(w, (uint32_t)n);
    put(w, s, n);
}

void mpk_wr_cstr(mpk_wr_t *w, const char *s)
{
    mpk_wr_str(w, s, strlen(s));
}

void mpk_wr_bin(mpk_wr_t *w, const void *p, size_t n)
{
    if (too_long(w, n))
        return;
    mpk_wr_bin_hdr(w, (uint32_t)n);
    put(w, p, n);
}

void mpk_wr_ext(mpk_wr_t *w, int8_t type, const void *p, size_t n)
{
    if (too_long(w, n))
        return;
    mpk_wr_ext_hdr(w, type, (uint32_t)n);
    put(w, p, n);
}

void mpk_wr_array(mpk_wr_t *w, uint32_t count)
{
    uint8_t h[5];
    if (count <= 15) {
        h[0] = (uint8_t)(0x90 | count);
        put(w, h, 1);
    } else if (count <= UINT16_MAX) {
        h[0] = 0xdc, st16(h + 1, (uint16_t)count);
        put(w, h, 3);
    } else {
        h[0] = 0xdd, st32(h + 1, count);
        put(w, h, 5);
    }
}

void mpk_wr_map(mpk_wr_t *w, uint32_t count)
{
    uint8_t h[5];
    if (count <= 15) {
        h[0] = (uint8_t)(0x80 | count);
        put(w, h, 1);
    } else if (count <= UINT16_MAX) {
        h[0] = 0xde, st16(h + 1, (uint16_t)count);
        put(w, h, 3);
    } else {
        h[0] = 0xdf, st32(h + 1, count);
        put(w, h, 5);
    }
}

void mpk_wr_raw(mpk_wr_t *w, const void *p, size_t n)
{
    if (n > 0)
        put(w, p, n);
}
