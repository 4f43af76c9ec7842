/*
 * cql_frame: frame headers of the native protocol (v3/v4, and the 8-byte
 * headers of v1/v2 far enough to answer them), a streaming frame decoder and
 * helpers to write a frame around a body. No I/O.
 *
 * Header layouts (spec v4 section 2, v3 section 10 for the older one):
 *   v3+ : version(1) flags(1) stream(2, signed) opcode(1) length(4)  = 9 bytes
 *   v1/2: version(1) flags(1) stream(1, signed) opcode(1) length(4)  = 8 bytes
 * The top bit of the version byte is the direction (1 = response). Version
 * bytes we do not speak (1, 2, 5, the DSE 0x41/0x42, ...) are still decoded
 * as far as the stream id, so a server can answer "Invalid or unsupported
 * protocol version (N)" on the right stream; v5 and beyond keep the 9-byte
 * envelope layout, so their whole header is decoded.
 *
 * v5 seam: v5 wraps these frames ("envelopes") in checksummed segments once
 * STARTUP is done. The streaming decoder keeps the input stage (feed, the
 * current chunk) apart from the envelope stage (header, body collection); a
 * segment layer belongs between the two: it would verify CRC24/CRC32, and
 * hand the payload of each segment to the envelope stage as the chunk.
 * cql_frame_decoder_set_framing() is where that layer will be switched on.
 */
#ifndef CQL_FRAME_H
#define CQL_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cql_buf.h"

#define CQL_VERSION_MIN 3          /* oldest version whose messages we code */
#define CQL_VERSION_MAX 4          /* newest */
#define CQL_VERSION_RESPONSE 0x80  /* direction bit of the version byte */
#define CQL_HEADER_SIZE 9          /* v3 and later */
#define CQL_HEADER_SIZE_V2 8       /* v1 and v2 */
/* Cassandra's native_transport_max_frame_size default: header + body. */
#define CQL_FRAME_MAX_DEFAULT ((size_t)16 << 20)

/* Frame flags: X(NAME, mask, "name", first version that defines it). */
#define CQL_FLAG_MAP(X)                              \
    X(COMPRESSION, 0x01, "compression", 1)           \
    X(TRACING, 0x02, "tracing", 1)                   \
    X(CUSTOM_PAYLOAD, 0x04, "custom_payload", 4)     \
    X(WARNING, 0x08, "warning", 4)                   \
    X(BETA, 0x10, "beta", 5)

enum {
#define CQL_FLAG_ENUM_(name, mask, str, v) CQL_FLAG_##name = (mask),
    CQL_FLAG_MAP(CQL_FLAG_ENUM_)
#undef CQL_FLAG_ENUM_
};

/* Direction of an opcode. */
#define CQL_DIR_REQUEST 0
#define CQL_DIR_RESPONSE 1

/* Opcodes: X(NAME, code, lower_name, direction). The message codec
 * (cql_msg.h) derives its dispatch, its names and its tests from this
 * table: one decoder cql_msg_dec_<lower_name> and one encoder
 * cql_msg_enc_<lower_name> per row. */
#define CQL_OPCODE_MAP(X)                                       \
    X(ERROR, 0x00, error, CQL_DIR_RESPONSE)                     \
    X(STARTUP, 0x01, startup, CQL_DIR_REQUEST)                  \
    X(READY, 0x02, ready, CQL_DIR_RESPONSE)                     \
    X(AUTHENTICATE, 0x03, authenticate, CQL_DIR_RESPONSE)       \
    X(OPTIONS, 0x05, options, CQL_DIR_REQUEST)                  \
    X(SUPPORTED, 0x06, supported, CQL_DIR_RESPONSE)             \
    X(QUERY, 0x07, query, CQL_DIR_REQUEST)                      \
    X(RESULT, 0x08, result, CQL_DIR_RESPONSE)                   \
    X(PREPARE, 0x09, prepare, CQL_DIR_REQUEST)                  \
    X(EXECUTE, 0x0A, execute, CQL_DIR_REQUEST)                  \
    X(REGISTER, 0x0B, register, CQL_DIR_REQUEST)                \
    X(EVENT, 0x0C, event, CQL_DIR_RESPONSE)                     \
    X(BATCH, 0x0D, batch, CQL_DIR_REQUEST)                      \
    X(AUTH_CHALLENGE, 0x0E, auth_challenge, CQL_DIR_RESPONSE)   \
    X(AUTH_RESPONSE, 0x0F, auth_response, CQL_DIR_REQUEST)      \
    X(AUTH_SUCCESS, 0x10, auth_success, CQL_DIR_RESPONSE)

typedef enum cql_opcode {
#define CQL_OPCODE_ENUM_(name, code, lname, dir) CQL_OP_##name = (code),
    CQL_OPCODE_MAP(CQL_OPCODE_ENUM_)
#undef CQL_OPCODE_ENUM_
} cql_opcode_t;
#define CQL_OPCODE_LIMIT 0x11 /* one past the largest opcode */

/* "QUERY" for 0x07; NULL for a code that is no opcode. */
const char *cql_opcode_name(int opcode);
/* CQL_DIR_REQUEST or CQL_DIR_RESPONSE; -1 for a code that is no opcode. */
int cql_opcode_direction(int opcode);

/* A decoded header. For an unsupported version only version, response,
 * flags and stream are guaranteed (opcode and length too when the layout is
 * the 9-byte one and all bytes were there). */
typedef struct cql_frame_header {
    uint8_t version;  /* protocol version, direction bit removed */
    bool response;    /* direction bit */
    uint8_t flags;    /* CQL_FLAG_* */
    int16_t stream;   /* stream id (v1/v2: sign-extended byte) */
    uint8_t opcode;   /* CQL_OP_*; not checked here */
    uint32_t length;  /* body length, <= INT32_MAX */
} cql_frame_header_t;

/* A complete frame. See cql_frame_decoder_next for how long body lives. */
typedef struct cql_frame {
    cql_frame_header_t h;
    const uint8_t *body; /* h.length bytes (may be NULL when 0) */
    bool buffered;       /* body is in the decoder's buffer, not the chunk */
} cql_frame_t;

/* 8 for version bytes 1 and 2 (either direction), 9 otherwise. */
size_t cql_frame_header_size(uint8_t version_byte);

/* Decodes the header at p[0..len). Returns:
 *   0                  header complete, version in [CQL_VERSION_MIN, MAX]
 *   CQLMQ_ETRUNCATED   fewer bytes than the header needs (for a supported
 *                      version) or than the stream id needs (otherwise)
 *   CQLMQ_EBADVERSION  unsupported version; h has version, response, flags
 *                      and stream (and the rest when the bytes were there)
 *   CQLMQ_EMALFORMED   negative length */
int cql_frame_header_decode(const uint8_t *p, size_t len, cql_frame_header_t *h);

/* Writes h into out (8 or 9 bytes, by h->version) and returns the size.
 * h->length must be <= INT32_MAX and h->version in 1..127. */
size_t cql_frame_header_encode(uint8_t out[CQL_HEADER_SIZE], const cql_frame_header_t *h);

/* Whole-frame writing without an intermediate copy: cql_frame_begin writes
 * the header with length 0 and returns its offset in w; the caller appends
 * the body to w; cql_frame_end patches the length. The opcode's direction
 * gives the direction bit. Returns (cql_frame_end): 0, the writer's sticky
 * error (CQLMQ_ENOMEM, CQLMQ_ERANGE), or CQLMQ_ETOOBIG when the body is
 * longer than INT32_MAX. */
size_t cql_frame_begin(cql_wr_t *w, int version, uint8_t flags, int16_t stream, uint8_t opcode);
int cql_frame_end(cql_wr_t *w, size_t start);

/* ---- streaming decoder ---- */

typedef enum cql_framing {
    CQL_FRAMING_PLAIN = 0,   /* frames back to back (v1..v4, v5 before READY) */
    CQL_FRAMING_V5_SEGMENTS, /* v5 checksummed segments: not implemented yet */
} cql_framing_t;

/*
 * cql_frame_decoder_t turns a byte stream cut anywhere into frames.
 *
 * Use: cql_frame_decoder_feed(d, chunk, n); then call
 * cql_frame_decoder_next(d, &frame) until it returns CQLMQ_EAGAIN (the chunk
 * is consumed; partial frames are kept inside); then feed the next chunk.
 *
 * Copies: a frame whose header and body are both in the chunk (the header
 * may also have been buffered from earlier chunks) is yielded as a slice of
 * the chunk (buffered = false). Only a body that spans chunks is collected
 * into the decoder's buffer (buffered = true); that buffer grows with the
 * bytes that actually arrive, never to a length the peer merely announced.
 *
 * Lifetime of frame.body: if !buffered, as long as the caller keeps the
 * chunk; if buffered, until the next call of any cql_frame_decoder_*
 * function on d (or take cql_frame_decoder_steal to own it).
 *
 * Invariants: in_pos <= in_len; when in_body, cur is a checked header with
 * cur.length <= max_frame - header size and buf_len < cur.length; otherwise
 * hdr_have < the header size of hdr[0]; buf_len <= buf_cap and buf came
 * from mem. err, once set, is returned by every later next() (except
 * ETOOBIG after cql_frame_decoder_discard).
 */
typedef struct cql_frame_decoder {
    size_t max_frame;       /* limit on header + body, bytes */
    uint8_t min_version;    /* accepted versions; others give EBADVERSION */
    uint8_t max_version;
    cql_framing_t framing;  /* only PLAIN for now (see the v5 seam above) */
    int err;                /* sticky error, 0 while healthy */
    cql_frame_header_t bad; /* header that caused err, for the reply */
    const uint8_t *in;      /* current chunk (borrowed until EAGAIN) */
    size_t in_len;          /* its size */
    size_t in_pos;          /* bytes of it consumed */
    uint8_t hdr[CQL_HEADER_SIZE]; /* header bytes buffered across chunks */
    size_t hdr_have;        /* how many */
    bool in_body;           /* cur is valid and its body incomplete */
    cql_frame_header_t cur; /* header of the frame being collected */
    uint64_t discard;       /* body bytes still to drop after discard() */
    uint8_t *buf;           /* heap buffer for bodies spanning chunks */
    size_t buf_len;         /* body bytes collected */
    size_t buf_cap;         /* bytes allocated */
    bool buf_yielded;       /* buf holds the last yielded body */
    const cql_mem_t *mem;   /* borrowed allocator of buf; NULL = the C library */
} cql_frame_decoder_t;

/* max_frame 0 means CQL_FRAME_MAX_DEFAULT. Accepts versions 3..4.
 * Allocates nothing. */
void cql_frame_decoder_init(cql_frame_decoder_t *d, size_t max_frame);
/* The same with the body buffer from mem (borrowed: it must outlive the
 * decoder and any buffer stolen from it; NULL means the C library). */
void cql_frame_decoder_init_mem(cql_frame_decoder_t *d, size_t max_frame, const cql_mem_t *mem);
/* Frees the buffer; d may be initialised again. */
void cql_frame_decoder_close(cql_frame_decoder_t *d);
/* Restricts (or widens, up to 1..127) the accepted versions, e.g. to the
 * version of the connection once STARTUP is done. */
void cql_frame_decoder_set_versions(cql_frame_decoder_t *d, uint8_t min, uint8_t max);
/* Returns 0 for CQL_FRAMING_PLAIN, CQLMQ_EUNSUPPORTED otherwise (yet). */
int cql_frame_decoder_set_framing(cql_frame_decoder_t *d, cql_framing_t f);

/* Offers the next n bytes of the stream. The previous chunk must have been
 * consumed (next() returned CQLMQ_EAGAIN or an error). */
void cql_frame_decoder_feed(cql_frame_decoder_t *d, const void *p, size_t n);

/* Yields the next complete frame into *out. Returns:
 *   0                  a frame (see lifetimes above)
 *   CQLMQ_EAGAIN       the chunk is consumed; feed more
 *   CQLMQ_EBADVERSION  the next frame has an unsupported version; out->h has
 *                      its version, direction, flags and stream id
 *   CQLMQ_ETOOBIG      the next frame exceeds max_frame; out->h is its
 *                      header (nothing of the body was buffered)
 *   CQLMQ_EMALFORMED   negative body length
 *   CQLMQ_ENOMEM       no memory for a partial body (the allocator failed;
 *                      out->h is the frame's header; what was buffered
 *                      stays owned by d and is freed by close)
 * Errors are sticky (the stream cannot be resynchronised), except that
 * ETOOBIG may be followed by cql_frame_decoder_discard(). */
int cql_frame_decoder_next(cql_frame_decoder_t *d, cql_frame_t *out);

/* After CQLMQ_ETOOBIG: skip that frame's body as it arrives and go on with
 * the next frame (Cassandra answers such a frame with a protocol error and
 * keeps the connection); call next() again, the current chunk is not
 * consumed yet. Returns 0, or CQLMQ_ESTATE if the last error was not
 * ETOOBIG. */
int cql_frame_decoder_discard(cql_frame_decoder_t *d);

/* Hands over the heap buffer holding the last yielded buffered body (which
 * starts at the returned pointer); free it with the decoder's allocator:
 * cql_mem_free(d->mem, p), which is free(p) after cql_frame_decoder_init.
 * NULL if the last frame was not buffered or was already stolen. */
uint8_t *cql_frame_decoder_steal(cql_frame_decoder_t *d);

/* Bytes of an incomplete frame held inside (header and body). */
size_t cql_frame_decoder_pending(const cql_frame_decoder_t *d);

#endif /* CQL_FRAME_H */
