/*
 * cql_frame: frame headers, the streaming frame decoder, frame writing.
 * See cql_frame.h for the layouts, the lifetimes and the v5 seam.
 */
#include "cql_frame.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Above this, the body buffer is freed once its frame was consumed rather
 * than kept for the next partial frame. */
#define KEEP_BUF_MAX ((size_t)256 << 10)
#define MIN_BUF 4096

static const struct {
    const char *name;
    int8_t dir;
} opcodes[CQL_OPCODE_LIMIT] = {
#define OPCODE_ROW_(name, code, lname, dir) [code] = {#name, (int8_t)(dir)},
    CQL_OPCODE_MAP(OPCODE_ROW_)
#undef OPCODE_ROW_
};

const char *cql_opcode_name(int opcode)
{
    if (opcode < 0 || opcode >= CQL_OPCODE_LIMIT)
        return NULL;
    return opcodes[opcode].name;
}

int cql_opcode_direction(int opcode)
{
    if (cql_opcode_name(opcode) == NULL)
        return -1;
    return opcodes[opcode].dir;
}

size_t cql_frame_header_size(uint8_t version_byte)
{
    uint8_t v = version_byte & 0x7f;
    return (v == 1 || v == 2) ? CQL_HEADER_SIZE_V2 : CQL_HEADER_SIZE;
}

/* Decodes the header at p[0..len) for versions vmin..vmax; for other
 * versions, as far as the stream id (see cql_frame_header_decode). */
static int header_parse(const uint8_t *p, size_t len, uint8_t vmin, uint8_t vmax,
                        cql_frame_header_t *h)
{
    if (len < 1)
        return CQLMQ_ETRUNCATED;
    memset(h, 0, sizeof(*h));
    h->version = p[0] & 0x7f;
    h->response = (p[0] & CQL_VERSION_RESPONSE) != 0;
    size_t hs = cql_frame_header_size(p[0]);
    bool small = hs == CQL_HEADER_SIZE_V2;
    size_t stream_end = small ? 3 : 4;
    bool supported = h->version >= vmin && h->version <= vmax;
    if (len < (supported ? hs : stream_end))
        return CQLMQ_ETRUNCATED;
    h->flags = p[1];
    h->stream = small ? (int16_t)(int8_t)p[2] : (int16_t)cql_load_u16(p + 2);
    if (len >= hs) {
        h->opcode = p[hs - 5];
        int32_t n = (int32_t)cql_load_u32(p + hs - 4);
        h->length = n < 0 ? 0 : (uint32_t)n;
        if (supported && n < 0)
            return CQLMQ_EMALFORMED;
    }
    return supported ? 0 : CQLMQ_EBADVERSION;
}

int cql_frame_header_decode(const uint8_t *p, size_t len, cql_frame_header_t *h)
{
    return header_parse(p, len, CQL_VERSION_MIN, CQL_VERSION_MAX, h);
}

size_t cql_frame_header_encode(uint8_t out[CQL_HEADER_SIZE], const cql_frame_header_t *h)
{
    assert(h->version >= 1 && h->version <= 0x7f);
    assert(h->length <= INT32_MAX);
    size_t hs = cql_frame_header_size(h->version);
    out[0] = (uint8_t)(h->version | (h->response ? CQL_VERSION_RESPONSE : 0));
    out[1] = h->flags;
    if (hs == CQL_HEADER_SIZE_V2) {
        out[2] = (uint8_t)h->stream;
    } else {
        cql_store_u16(out + 2, (uint16_t)h->stream);
    }
    out[hs - 5] = h->opcode;
    cql_store_u32(out + hs - 4, h->length);
    return hs;
}

size_t cql_frame_begin(cql_wr_t *w, int version, uint8_t flags, int16_t stream, uint8_t opcode)
{
    cql_frame_header_t h = {
        .version = (uint8_t)version,
        .response = cql_opcode_direction(opcode) == CQL_DIR_RESPONSE,
        .flags = flags,
        .stream = stream,
        .opcode = opcode,
        .length = 0,
    };
    uint8_t b[CQL_HEADER_SIZE];
    size_t start = w->len;
    cql_wr_raw(w, b, cql_frame_header_encode(b, &h));
    return start;
}

int cql_frame_end(cql_wr_t *w, size_t start)
{
    if (w->err)
        return w->err;
    assert(start < w->len);
    size_t hs = cql_frame_header_size(w->data[start]);
    assert(w->len - start >= hs);
    size_t body = w->len - start - hs;
    if (body > INT32_MAX)
        return CQLMQ_ETOOBIG;
    cql_wr_patch_i32(w, start + hs - 4, (int32_t)body);
    return 0;
}

/* ---- streaming decoder ---- */

void cql_frame_decoder_init(cql_frame_decoder_t *d, size_t max_frame)
{
    cql_frame_decoder_init_mem(d, max_frame, NULL);
}

void cql_frame_decoder_init_mem(cql_frame_decoder_t *d, size_t max_frame, const cql_mem_t *mem)
{
    memset(d, 0, sizeof(*d));
    d->max_frame = max_frame ? max_frame : CQL_FRAME_MAX_DEFAULT;
    d->min_version = CQL_VERSION_MIN;
    d->max_version = CQL_VERSION_MAX;
    d->framing = CQL_FRAMING_PLAIN;
    d->mem = mem;
}

void cql_frame_decoder_close(cql_frame_decoder_t *d)
{
    cql_mem_free(d->mem, d->buf);
    memset(d, 0, sizeof(*d));
}

void cql_frame_decoder_set_versions(cql_frame_decoder_t *d, uint8_t min, uint8_t max)
{
    assert(min >= 1 && min <= max && max <= 0x7f);
    d->min_version = min;
    d->max_version = max;
}

int cql_frame_decoder_set_framing(cql_frame_decoder_t *d, cql_framing_t f)
{
    if (f != CQL_FRAMING_PLAIN)
        return CQLMQ_EUNSUPPORTED;
    d->framing = f;
    return 0;
}

void cql_frame_decoder_feed(cql_frame_decoder_t *d, const void *p, size_t n)
{
    assert(d->in_pos == d->in_len || d->err);
    d->in = (const uint8_t *)p;
    d->in_len = n;
    d->in_pos = 0;
}

size_t cql_frame_decoder_pending(const cql_frame_decoder_t *d)
{
    if (d->in_body)
        return cql_frame_header_size(d->cur.version) + d->buf_len;
    return d->hdr_have;
}

uint8_t *cql_frame_decoder_steal(cql_frame_decoder_t *d)
{
    if (!d->buf_yielded)
        return NULL;
    uint8_t *p = d->buf;
    d->buf = NULL;
    d->buf_len = d->buf_cap = 0;
    d->buf_yielded = false;
    return p;
}

int cql_frame_decoder_discard(cql_frame_decoder_t *d)
{
    if (d->err != CQLMQ_ETOOBIG)
        return CQLMQ_ESTATE;
    d->err = 0;
    d->discard = d->bad.length;
    return 0;
}

static int fail(cql_frame_decoder_t *d, int err, const cql_frame_header_t *h, cql_frame_t *out)
{
    d->err = err;
    d->bad = *h;
    out->h = *h;
    out->body = NULL;
    out->buffered = false;
    return err;
}

/* Grows buf to hold at least need bytes, at most cur.length. */
static int buf_grow(cql_frame_decoder_t *d, size_t need)
{
    if (need <= d->buf_cap)
        return 0;
    size_t cap = d->buf_cap * 2;
    if (cap < MIN_BUF)
        cap = MIN_BUF;
    if (cap < need)
        cap = need;
    if (cap > d->cur.length)
        cap = d->cur.length;
    uint8_t *p = cql_mem_realloc(d->mem, d->buf, cap);
    if (p == NULL)
        return CQLMQ_ENOMEM;
    d->buf = p;
    d->buf_cap = cap;
    return 0;
}

/* Collects header bytes from the chunk; returns 0 with *h complete, EAGAIN
 * when the chunk ran out, or an error for the header. */
static int take_header(cql_frame_decoder_t *d, cql_frame_header_t *h)
{
    const uint8_t *src;
    size_t have;
    size_t left = d->in_len - d->in_pos;
    if (d->hdr_have == 0 && left >= CQL_HEADER_SIZE) {
        src = d->in + d->in_pos; /* fast path: parse in place */
        have = left;
    } else {
        size_t want = d->hdr_have ? cql_frame_header_size(d->hdr[0]) : CQL_HEADER_SIZE;
        size_t n = want - d->hdr_have;
        if (n > left)
            n = left;
        memcpy(d->hdr + d->hdr_have, d->in + d->in_pos, n);
        /* Bytes are consumed below once the header size is known. */
        src = d->hdr;
        have = d->hdr_have + n;
    }
    int rc = header_parse(src, have, d->min_version, d->max_version, h);
    if (rc == CQLMQ_ETRUNCATED) {
        d->in_pos += have - d->hdr_have;
        d->hdr_have = have;
        return CQLMQ_EAGAIN;
    }
    if (rc)
        return rc;
    size_t hs = cql_frame_header_size(src[0]);
    d->in_pos += hs - d->hdr_have;
    d->hdr_have = 0;
    return 0;
}

int cql_frame_decoder_next(cql_frame_decoder_t *d, cql_frame_t *out)
{
    if (d->err) {
        out->h = d->bad;
        out->body = NULL;
        out->buffered = false;
        return d->err;
    }
    if (d->buf_yielded) {
        d->buf_yielded = false;
        d->buf_len = 0;
        if (d->buf_cap > KEEP_BUF_MAX) {
            cql_mem_free(d->mem, d->buf);
            d->buf = NULL;
            d->buf_cap = 0;
        }
    }
    for (;;) {
        size_t left = d->in_len - d->in_pos;
        if (d->discard) {
            size_t n = d->discard < left ? (size_t)d->discard : left;
            d->discard -= n;
            d->in_pos += n;
            if (d->discard)
                return CQLMQ_EAGAIN;
            continue;
        }
        if (!d->in_body) {
            if (left == 0)
                return CQLMQ_EAGAIN;
            cql_frame_header_t h;
            int rc = take_header(d, &h);
            if (rc == CQLMQ_EAGAIN)
                return rc;
            if (rc)
                return fail(d, rc, &h, out);
            if ((uint64_t)h.length + cql_frame_header_size(h.version) > d->max_frame)
                return fail(d, CQLMQ_ETOOBIG, &h, out);
            left = d->in_len - d->in_pos;
            if (left >= h.length) { /* whole body in the chunk: no copy */
                out->h = h;
                out->body = h.length ? d->in + d->in_pos : NULL;
                out->buffered = false;
                d->in_pos += h.length;
                return 0;
            }
            d->cur = h;
            d->in_body = true;
            d->buf_len = 0;
        }
        size_t need = d->cur.length - d->buf_len;
        size_t n = need < left ? need : left;
        if (n) {
            if (buf_grow(d, d->buf_len + n))
                return fail(d, CQLMQ_ENOMEM, &d->cur, out);
            memcpy(d->buf + d->buf_len, d->in + d->in_pos, n);
            d->buf_len += n;
            d->in_pos += n;
        }
        if (d->buf_len < d->cur.length)
            return CQLMQ_EAGAIN;
        d->in_body = false;
        d->buf_yielded = true;
        out->h = d->cur;
        out->body = d->buf;
        out->buffered = true;
        return 0;
    }
}
