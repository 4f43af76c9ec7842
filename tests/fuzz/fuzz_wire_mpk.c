/*
 * Fuzz target for the bounded msgpack reader (protocol/wire/mpk.h).
 *
 * For any input: skipping never reads past the end and agrees with
 * mpk_frame; walking item by item with mpk_rd_any and re-encoding each item
 * with the writer produces msgpack that skips to the same number of items;
 * a schema decode (map or array form) either succeeds or fails with a code,
 * and a success re-encodes and decodes again to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpk.h"

#define F_FIELDS(F, T)             \
    F(T, id, UINT, MPK_REQ)        \
    F(T, name, STR, MPK_OPT)       \
    F(T, n, I32, MPK_OPT)          \
    F(T, flag, BOOL, MPK_OPT)      \
    F(T, x, F64, MPK_OPT)          \
    F(T, blob, BIN, MPK_OPT)       \
    F(T, e, EXT, MPK_OPT)          \
    F(T, rest, RAW, MPK_OPT)
MPK_SCHEMA(fz, F_FIELDS)

static void transcode(const uint8_t *data, size_t size)
{
    mpk_rd_t r;
    mpk_wr_t w;
    mpk_obj_t o;
    size_t items = 0;
    mpk_rd_init(&r, data, size);
    mpk_wr_init(&w);
    while (items < 100000 && mpk_rd_any(&r, &o) == 0) {
        items++;
        switch (o.type) {
        case MPK_NIL: mpk_wr_nil(&w); break;
        case MPK_BOOL: mpk_wr_bool(&w, o.v.b); break;
        case MPK_UINT: mpk_wr_uint(&w, o.v.u); break;
        case MPK_INT: mpk_wr_int(&w, o.v.i); break;
        case MPK_F32: mpk_wr_f32(&w, o.v.f32); break;
        case MPK_F64: mpk_wr_f64(&w, o.v.f64); break;
        case MPK_STR: mpk_wr_str(&w, o.v.str.ptr, o.v.str.len); break;
        case MPK_BIN: mpk_wr_bin(&w, o.v.bin.ptr, o.v.bin.len); break;
        case MPK_EXT: mpk_wr_ext(&w, o.v.ext.type, o.v.ext.ptr, o.v.ext.len); break;
        case MPK_ARRAY: mpk_wr_array(&w, o.v.count); break;
        case MPK_MAP: mpk_wr_map(&w, o.v.count); break;
        }
    }
    if (r.pos > size)
        abort();
    /* When the input is a sequence of whole values, the copy holds the same
     * items (counts are checked against remaining bytes, so a partial input
     * may parse further than its smaller re-encoding). */
    mpk_rd_t c;
    bool whole = items < 100000;
    mpk_rd_init(&c, data, size);
    while (whole && !mpk_rd_done(&c))
        whole = mpk_rd_skip(&c) == 0;
    size_t again = 0;
    mpk_rd_init(&c, w.data, w.len);
    while (mpk_rd_any(&c, &o) == 0)
        again++;
    if (whole && w.err == 0 && (again != items || !mpk_rd_done(&c)))
        abort();
    mpk_wr_close(&w);
}

static void schema(const uint8_t *data, size_t size)
{
    mpk_rd_t r;
    fz_t m, m2;
    mpk_rd_init(&r, data, size);
    if (fz_decode(&r, &m) != 0)
        return;
    if (r.pos > size)
        abort();
    for (int compact = 0; compact < 2; compact++) {
        mpk_wr_t w;
        mpk_wr_init(&w);
        if (compact)
            fz_encode_compact(&w, &m);
        else
            fz_encode(&w, &m);
        mpk_rd_init(&r, w.data, w.len);
        if (w.err == 0) {
            if (fz_decode(&r, &m2) != 0 || !mpk_rd_done(&r))
                abort();
            if (m2.present != m.present || m2.id != m.id)
                abort();
            if (MPK_HAS(&m, fz, name) &&
                (m2.name.len != m.name.len || memcmp(m2.name.ptr, m.name.ptr, m.name.len)))
                abort();
        }
        mpk_wr_close(&w);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mpk_rd_t r;
    size_t len;
    mpk_rd_init(&r, data, size);
    int rc = mpk_rd_skip(&r);
    if (rc == 0 && (r.pos == 0 || r.pos > size))
        abort();
    if (rc != 0 && r.pos != 0)
        abort(); /* an error consumes nothing */
    int frc = mpk_frame(data, size, 1 << 20, &len);
    if ((rc == 0) != (frc == 0) || (frc == 0 && len != r.pos))
        abort();
    transcode(data, size);
    schema(data, size);
    return 0;
}
