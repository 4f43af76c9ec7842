/*
 * mpk: the msgpack helpers every cqlmq component uses (runtime, gateway,
 * clients). Three parts, no I/O:
 *
 * 1. A bounded pull reader (mpk_rd_t) over a byte range that came from a
 *    socket or a file, so it is never trusted. It does not allocate: strings,
 *    binaries and extension payloads are returned as slices that BORROW the
 *    input (keep the zmq_msg_t or buffer alive while you use them). Every
 *    count and length is checked against the bytes that remain BEFORE it is
 *    returned (mpk_rd_need is the one check all of them use): a 5-byte array
 *    header claiming 250 million items is CQLMQ_ETRUNCATED, never an
 *    allocation. msgpack-c's unpacker is not used for untrusted input because
 *    it reserves n * 24 bytes for an n-item header before reading the items.
 *    Every mpk_rd_* call either consumes a whole item and returns 0, or
 *    consumes nothing and returns a negative code.
 *
 * 2. A writer (mpk_wr_t) that encodes once into one growable heap buffer with
 *    a sticky error (write a whole message, check mpk_wr_error() once). The
 *    buffer is released with mpk_wr_release() and handed to
 *        zmq_msg_init_data(&msg, buf, len, mpk_free_cb, NULL)
 *    so ZeroMQ frees it after sending: no copy. Integers are written in their
 *    smallest form, as every msgpack implementation expects.
 *
 * 3. A schema facility (MPK_SCHEMA): a message type declares its fields once
 *    in an X-macro and gets a C struct, an encoder (as a map keyed by field
 *    name, or as a compact positional array), a decoder (accepting either
 *    form, skipping unknown keys, checking required fields) and its name.
 *    Example:
 *
 *        #define PING_FIELDS(F, T)          \
 *            F(T, seq,  UINT, MPK_REQ)      \
 *            F(T, note, STR,  MPK_OPT)
 *        MPK_SCHEMA(ping, PING_FIELDS)      // in a header, once
 *
 *        ping_t m = {.seq = 7};
 *        MPK_SET(&m, ping, note);  m.note = mpk_cstr("hi");
 *        ping_encode(&w, &m);                  // {"seq":7,"note":"hi"}
 *        ping_encode_compact(&w, &m);          // [7,"hi"]
 *        rc = ping_decode(&r, &m);             // either form
 *        if (MPK_HAS(&m, ping, note)) ...
 *
 *    Field kinds: BOOL bool, INT int64_t, UINT uint64_t, I32 int32_t,
 *    U32 uint32_t, F64 double, STR mpk_str_t, BIN mpk_bin_t, EXT mpk_ext_t,
 *    RAW mpk_raw_t (any one msgpack value kept as validated raw bytes: nested
 *    maps, arrays, values to forward untouched). At most 64 fields.
 *
 * Error codes (include/cqlmq/error.h) used throughout:
 *   CQLMQ_ETRUNCATED  the item, or the items a header announces, runs past
 *                     the end of the range (for a stream: more bytes needed)
 *   CQLMQ_EMALFORMED  impossible bytes (0xc1), or a schema message without a
 *                     required field, or a field given twice
 *   CQLMQ_EBADTYPE    the next item is not of the requested type
 *   CQLMQ_ERANGE      an integer does not fit the requested C type
 *   CQLMQ_ELIMIT      values nested deeper than MPK_MAX_DEPTH
 *   CQLMQ_ETOOBIG     a framed value exceeds the caller's maximum
 *   CQLMQ_ENOMEM      (writer) out of memory
 */
#ifndef CQLMQ_MPK_H
#define CQLMQ_MPK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cqlmq/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Containers nested deeper than this are rejected by mpk_rd_skip/raw. */
#define MPK_MAX_DEPTH 64

/* ------------------------------------------------------------------ */
/* Values and slices                                                   */

typedef enum mpk_type {
    MPK_NIL = 1,
    MPK_BOOL,
    MPK_UINT,   /* positive fixint, uint 8..64 */
    MPK_INT,    /* negative fixint, int 8..64 (may hold a non-negative value) */
    MPK_F32,
    MPK_F64,
    MPK_STR,
    MPK_BIN,
    MPK_ARRAY,
    MPK_MAP,
    MPK_EXT,    /* fixext 1..16, ext 8..32 */
} mpk_type_t;

/* Borrowed slices: never NUL-terminated; valid while the input is. */
typedef struct mpk_str {
    const char *ptr;
    uint32_t len;
} mpk_str_t;

typedef struct mpk_bin {
    const uint8_t *ptr;
    uint32_t len;
} mpk_bin_t;

typedef struct mpk_ext {
    int8_t type;         /* application type; -1 is the msgpack timestamp */
    const uint8_t *ptr;  /* payload */
    uint32_t len;        /* payload length */
} mpk_ext_t;

/* The complete encoding of one msgpack value (header and content). */
typedef struct mpk_raw {
    const uint8_t *ptr;
    size_t len;
} mpk_raw_t;

/* One item as mpk_rd_any returns it: a scalar, or a container header whose
 * count items follow (2 * count for a map). */
typedef struct mpk_obj {
    mpk_type_t type;
    union {
        bool b;
        uint64_t u;      /* MPK_UINT */
        int64_t i;       /* MPK_INT */
        float f32;
        double f64;
        mpk_str_t str;
        mpk_bin_t bin;
        mpk_ext_t ext;
        uint32_t count;  /* MPK_ARRAY items, MPK_MAP pairs */
    } v;
} mpk_obj_t;

static inline mpk_str_t mpk_cstr(const char *s)
{
    mpk_str_t r = {s, (uint32_t)strlen(s)};
    return r;
}
static inline bool mpk_str_eq(mpk_str_t s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

/* ------------------------------------------------------------------ */
/* Reader                                                              */

typedef struct mpk_rd {
    const uint8_t *p; /* start of the range (borrowed) */
    size_t len;       /* size of the range */
    size_t pos;       /* bytes consumed; pos <= len always */
} mpk_rd_t;

static inline void mpk_rd_init(mpk_rd_t *r, const void *p, size_t len)
{
    r->p = (const uint8_t *)p;
    r->len = len;
    r->pos = 0;
}
static inline size_t mpk_rd_left(const mpk_rd_t *r) { return r->len - r->pos; }
static inline bool mpk_rd_done(const mpk_rd_t *r) { return r->pos == r->len; }

/* The one bound check: 0 if `count` items of at least `min_item` bytes each
 * can still fit in the remaining bytes, else CQLMQ_ETRUNCATED. Every header
 * reader calls it before returning a count or a length, so callers may
 * allocate `count` elements afterwards. */
static inline int mpk_rd_need(const mpk_rd_t *r, uint64_t count, size_t min_item)
{
    size_t left = r->len - r->pos;
    if (min_item == 0)
        return 0;
    return count <= left / min_item ? 0 : CQLMQ_ETRUNCATED;
}

/* Type of the next item without consuming it.
 * Returns 0, CQLMQ_ETRUNCATED (nothing left), CQLMQ_EMALFORMED (0xc1). */
int mpk_rd_peek(const mpk_rd_t *r, mpk_type_t *out);

/* Scalars. Each returns 0, CQLMQ_ETRUNCATED, CQLMQ_EMALFORMED or
 * CQLMQ_EBADTYPE; the integer readers also CQLMQ_ERANGE. */
int mpk_rd_nil(mpk_rd_t *r);
bool mpk_rd_try_nil(mpk_rd_t *r);          /* consumes a nil if it is next */
int mpk_rd_bool(mpk_rd_t *r, bool *out);
int mpk_rd_int(mpk_rd_t *r, int64_t *out);   /* any msgpack integer */
int mpk_rd_uint(mpk_rd_t *r, uint64_t *out); /* ERANGE if negative */
int mpk_rd_i32(mpk_rd_t *r, int32_t *out);
int mpk_rd_u32(mpk_rd_t *r, uint32_t *out);
int mpk_rd_f64(mpk_rd_t *r, double *out);    /* float 32 or 64 */

/* Slices that borrow the input; the length is checked first. */
int mpk_rd_str(mpk_rd_t *r, mpk_str_t *out);
int mpk_rd_bin(mpk_rd_t *r, mpk_bin_t *out);
int mpk_rd_ext(mpk_rd_t *r, mpk_ext_t *out);

/* Container headers. The count is checked against the remaining bytes (one
 * byte per array item, two per map pair) before it is returned. */
int mpk_rd_array(mpk_rd_t *r, uint32_t *count);
int mpk_rd_map(mpk_rd_t *r, uint32_t *count);

/* One item: a scalar or a container header (same checks as above). */
int mpk_rd_any(mpk_rd_t *r, mpk_obj_t *out);

/* Skips one whole value, containers included, without recursion. Returns
 * 0, CQLMQ_ETRUNCATED, CQLMQ_EMALFORMED or CQLMQ_ELIMIT (deeper than
 * MPK_MAX_DEPTH). On error nothing is consumed. */
int mpk_rd_skip(mpk_rd_t *r);
/* Like mpk_rd_skip, and returns the value's bytes. */
int mpk_rd_raw(mpk_rd_t *r, mpk_raw_t *out);

/* Streaming: the size of the first complete msgpack value in p[0..n).
 * Returns 0 and *out_len, CQLMQ_ETRUNCATED (more bytes are needed and n <
 * max), CQLMQ_ETOOBIG (the value does not end within max bytes),
 * CQLMQ_EMALFORMED or CQLMQ_ELIMIT. Feed it bytes as they arrive. */
int mpk_frame(const void *p, size_t n, size_t max, size_t *out_len);

/* ------------------------------------------------------------------ */
/* Writer                                                              */

typedef struct mpk_wr {
    uint8_t *data; /* heap buffer or NULL; owned */
    size_t len;    /* bytes written; len <= cap */
    size_t cap;    /* bytes allocated */
    int err;       /* first error, sticky: 0, CQLMQ_ENOMEM or CQLMQ_ERANGE */
} mpk_wr_t;

void mpk_wr_init(mpk_wr_t *w);
/* Frees the buffer; the writer may be initialised again. */
void mpk_wr_close(mpk_wr_t *w);
/* Forgets content and error, keeps the memory. */
void mpk_wr_reset(mpk_wr_t *w);
static inline int mpk_wr_error(const mpk_wr_t *w) { return w->err; }
/* Room for n more bytes. Returns 0 or the sticky error (CQLMQ_ENOMEM). */
int mpk_wr_reserve(mpk_wr_t *w, size_t n);
/* Hands the buffer over (free it with free() or mpk_free_cb); the writer is
 * empty afterwards. NULL (and the buffer is freed) if the writer has an
 * error; an empty writer returns a valid 1-byte allocation and len 0. */
uint8_t *mpk_wr_release(mpk_wr_t *w, size_t *out_len);
/* Cuts the content back to len (<= w->len): undo a partial message. */
void mpk_wr_truncate(mpk_wr_t *w, size_t len);
/* zmq_free_fn-compatible: free(data). For zmq_msg_init_data. */
void mpk_free_cb(void *data, void *hint);

void mpk_wr_nil(mpk_wr_t *w);
void mpk_wr_bool(mpk_wr_t *w, bool v);
void mpk_wr_int(mpk_wr_t *w, int64_t v);   /* smallest form */
void mpk_wr_uint(mpk_wr_t *w, uint64_t v); /* smallest form */
void mpk_wr_f32(mpk_wr_t *w, float v);
void mpk_wr_f64(mpk_wr_t *w, double v);
void mpk_wr_str(mpk_wr_t *w, const char *s, size_t n);
void mpk_wr_cstr(mpk_wr_t *w, const char *s);
void mpk_wr_bin(mpk_wr_t *w, const void *p, size_t n);
void mpk_wr_ext(mpk_wr_t *w, int8_t type, const void *p, size_t n);
void mpk_wr_array(mpk_wr_t *w, uint32_t count);
void mpk_wr_map(mpk_wr_t *w, uint32_t count);
/* Headers only, for content written afterwards (e.g. transcoding). */
void mpk_wr_str_hdr(mpk_wr_t *w, uint32_t n);
void mpk_wr_bin_hdr(mpk_wr_t *w, uint32_t n);
void mpk_wr_ext_hdr(mpk_wr_t *w, int8_t type, uint32_t n);
/* Bytes already encoded (a mpk_raw_t, or a header built elsewhere). */
void mpk_wr_raw(mpk_wr_t *w, const void *p, size_t n);
/* n-byte lengths beyond UINT32_MAX set the sticky error CQLMQ_ERANGE. */

/* ------------------------------------------------------------------ */
/* Schemas                                                             */

#define MPK_REQ 1
#define MPK_OPT 0

typedef enum mpk_kind {
    MPK_K_BOOL, MPK_K_INT, MPK_K_UINT, MPK_K_I32, MPK_K_U32, MPK_K_F64,
    MPK_K_STR, MPK_K_BIN, MPK_K_EXT, MPK_K_RAW,
} mpk_kind_t;

/* C type of each kind (used by MPK_SCHEMA). */
#define MPK_CTYPE_BOOL bool
#define MPK_CTYPE_INT int64_t
#define MPK_CTYPE_UINT uint64_t
#define MPK_CTYPE_I32 int32_t
#define MPK_CTYPE_U32 uint32_t
#define MPK_CTYPE_F64 double
#define MPK_CTYPE_STR mpk_str_t
#define MPK_CTYPE_BIN mpk_bin_t
#define MPK_CTYPE_EXT mpk_ext_t
#define MPK_CTYPE_RAW mpk_raw_t

typedef struct mpk_field {
    const char *name;  /* map key */
    uint8_t name_len;
    uint8_t kind;      /* mpk_kind_t */
    uint8_t required;  /* MPK_REQ or MPK_OPT */
    uint32_t offset;   /* offsetof the field in the struct */
} mpk_field_t;

/* Invariant: nfields <= 64; the struct starts with `uint64_t present` whose
 * bit i says field i is set (required fields are always written). */
typedef struct mpk_schema {
    const char *name;
    const mpk_field_t *fields;
    uint32_t nfields;
} mpk_schema_t;

/* Encodes msg (a struct of this schema) as a map {"name": value, ...} or,
 * compact, as an array of values in declaration order (absent optional
 * fields as nil). Errors go to the writer's sticky error; returns it. */
int mpk_schema_encode(mpk_wr_t *w, const mpk_schema_t *s, const void *msg, bool compact);
/* Decodes one map or array into msg (zeroed first). Unknown map keys are
 * skipped; extra array items are skipped; nil marks an optional field
 * absent (any kind, RAW included; nil for a required field is malformed). Returns 0, CQLMQ_ETRUNCATED, CQLMQ_EMALFORMED (required field
 * missing, duplicate key, 0xc1), CQLMQ_EBADTYPE, CQLMQ_ERANGE or
 * CQLMQ_ELIMIT. Slices in msg borrow from the reader's input. On error the
 * reader is left where the error was found. */
int mpk_schema_decode(mpk_rd_t *r, const mpk_schema_t *s, void *msg);

/* Generated helpers may go unused in a .c file (clang warns there). */
#define MPK_UNUSED_ __attribute__((unused))
#define MPK_F_MEMBER_(T, name, kind, req) MPK_CTYPE_##kind name;
#define MPK_F_INDEX_(T, name, kind, req) T##_F_##name,
#define MPK_F_DESC_(T, name, kind, req) \
    {#name, (uint8_t)(sizeof(#name) - 1), MPK_K_##kind, req, (uint32_t)offsetof(T##_t, name)},

/* Declares T_t, the field indexes T_F_<field>, T_schema(), T_name(),
 * T_encode(), T_encode_compact(), T_decode(). Use once per message type,
 * usually in a header (everything is static inline). */
#define MPK_SCHEMA(T, FIELDS)                                                  \
    typedef struct T {                                                         \
        uint64_t present; /* bit T_F_x: field x set */                         \
        FIELDS(MPK_F_MEMBER_, T)                                               \
    } T##_t;                                                                   \
    enum { FIELDS(MPK_F_INDEX_, T) T##_F_COUNT_ };                             \
    MPK_UNUSED_ static inline const mpk_schema_t *T##_schema(void)          \
    {                                                                          \
        static const mpk_field_t fields_[] = {FIELDS(MPK_F_DESC_, T)};         \
        static const mpk_schema_t schema_ = {                                  \
            #T, fields_, (uint32_t)(sizeof(fields_) / sizeof(fields_[0]))};    \
        _Static_assert(T##_F_COUNT_ <= 64, #T ": more than 64 fields");        \
        return &schema_;                                                       \
    }                                                                          \
    MPK_UNUSED_ static inline const char *T##_name(void) { return #T; }        \
    MPK_UNUSED_ static inline int T##_encode(mpk_wr_t *w, const T##_t *m)      \
    {                                                                          \
        return mpk_schema_encode(w, T##_schema(), m, false);                   \
    }                                                                          \
    MPK_UNUSED_ static inline int T##_encode_compact(mpk_wr_t *w, const T##_t *m) \
    {                                                                          \
        return mpk_schema_encode(w, T##_schema(), m, true);                    \
    }                                                                          \
    MPK_UNUSED_ static inline int T##_decode(mpk_rd_t *r, T##_t *m)            \
    {                                                                          \
        return mpk_schema_decode(r, T##_schema(), m);                          \
    }

#define MPK_HAS(m, T, field) ((((m)->present) >> T##_F_##field) & 1u)
#define MPK_SET(m, T, field) ((m)->present |= (uint64_t)1 << T##_F_##field)

#ifdef __cplusplus
}
#endif
#endif /* CQLMQ_MPK_H */
