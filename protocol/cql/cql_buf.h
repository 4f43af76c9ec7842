/*
 * cql_buf: the notations of the native protocol spec (section 3), read from
 * and written to memory. No I/O.
 *
 * Reader: cql_rd_t borrows a byte range. Every cql_rd_* function either
 * consumes a whole item and returns 0, or consumes nothing and returns a
 * negative code:
 *   CQLMQ_ETRUNCATED  the item runs past the end of the range
 *   CQLMQ_EMALFORMED  the item is impossible (negative length where none is
 *                     allowed, bad inet size, ...)
 * Lengths read from the wire are checked against the bytes that remain before
 * anything is returned, so a slice never points outside the range.
 * Slices (cql_str_t, cql_bytes_t) borrow from the reader's buffer.
 *
 * Writer: cql_wr_t owns a growable heap buffer. Writes never fail one by one:
 * the first failure (out of memory, or an item too long for its length
 * prefix) is remembered in `err` and later writes do nothing, so an encoder
 * writes a whole message and checks cql_wr_error() once (the "sticky error"
 * of stdio). cql_wr_release() hands the buffer to the caller.
 * The buffer comes from a cql_mem_t (cql_mem.h): the C library for
 * cql_wr_init, any allocator for cql_wr_init_mem. When the allocator fails,
 * the writer keeps its old buffer and content and only records
 * CQLMQ_ENOMEM; cql_wr_reset clears it and the writer is usable again.
 */
#ifndef CQL_BUF_H
#define CQL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cqlmq/error.h"
#include "cql_mem.h"

/* A borrowed string: not NUL-terminated. */
typedef struct cql_str {
    const char *ptr;
    size_t len;
} cql_str_t;

/* [bytes] / [value]: len >= 0 bytes at ptr, or a marker. */
#define CQL_BYTES_NULL (-1)
#define CQL_BYTES_NOT_SET (-2)
typedef struct cql_bytes {
    const uint8_t *ptr; /* NULL when len < 0 */
    int32_t len;        /* >= 0, CQL_BYTES_NULL or CQL_BYTES_NOT_SET */
} cql_bytes_t;

/* [inet] and [inetaddr]: family 4 or 6; port is 0 for [inetaddr]. */
typedef struct cql_inet {
    uint8_t size;      /* 4 or 16 */
    uint8_t addr[16];  /* network order */
    int32_t port;
} cql_inet_t;

typedef struct cql_rd {
    const uint8_t *p; /* start of the range */
    size_t len;       /* size of the range */
    size_t pos;       /* bytes consumed */
} cql_rd_t;

static inline void cql_rd_init(cql_rd_t *r, const void *p, size_t len)
{
    r->p = (const uint8_t *)p;
    r->len = len;
    r->pos = 0;
}
static inline size_t cql_rd_left(const cql_rd_t *r) { return r->len - r->pos; }
static inline const uint8_t *cql_rd_cur(const cql_rd_t *r) { return r->p + r->pos; }

int cql_rd_u8(cql_rd_t *r, uint8_t *out);                /* [byte] */
int cql_rd_u16(cql_rd_t *r, uint16_t *out);              /* [short] */
int cql_rd_i32(cql_rd_t *r, int32_t *out);               /* [int] */
int cql_rd_i64(cql_rd_t *r, int64_t *out);               /* [long] */
int cql_rd_raw(cql_rd_t *r, size_t n, const uint8_t **out); /* n bytes */
int cql_rd_string(cql_rd_t *r, cql_str_t *out);          /* [string] */
int cql_rd_long_string(cql_rd_t *r, cql_str_t *out);     /* [long string]; EMALFORMED if n < 0 */
int cql_rd_uuid(cql_rd_t *r, const uint8_t **out16);     /* [uuid] */
/* [bytes]: n < 0 is null (any negative value, as the spec says). */
int cql_rd_bytes(cql_rd_t *r, cql_bytes_t *out);
/* [value]: -1 null, -2 not set, < -2 EMALFORMED. */
int cql_rd_value(cql_rd_t *r, cql_bytes_t *out);
int cql_rd_short_bytes(cql_rd_t *r, cql_bytes_t *out);   /* [short bytes] */
int cql_rd_inet(cql_rd_t *r, cql_inet_t *out);           /* [inet] */
int cql_rd_inetaddr(cql_rd_t *r, cql_inet_t *out);       /* [inetaddr] */
/* [unsigned vint] / [vint] (zigzag), as in v5 and the duration type. */
int cql_rd_uvint(cql_rd_t *r, uint64_t *out);
int cql_rd_vint(cql_rd_t *r, int64_t *out);

/* A [short] count n that is followed by n items of at least min_item bytes
 * each; fails with ETRUNCATED when the remaining bytes cannot hold them, so a
 * caller may allocate n items safely afterwards. */
int cql_rd_count16(cql_rd_t *r, size_t min_item, uint16_t *out);
/* The same for an [int] count; EMALFORMED if negative. */
int cql_rd_count32(cql_rd_t *r, size_t min_item, int32_t *out);

/* Invariants: len <= cap; data is NULL exactly when cap is 0; data came
 * from mem. */
typedef struct cql_wr {
    uint8_t *data;        /* heap buffer, or NULL */
    size_t len;           /* bytes written */
    size_t cap;           /* bytes allocated */
    int err;              /* first error, sticky: CQLMQ_ENOMEM or CQLMQ_ERANGE */
    const cql_mem_t *mem; /* borrowed allocator of data; NULL = the C library */
} cql_wr_t;

void cql_wr_init(cql_wr_t *w);
/* The same with the buffer from mem (borrowed: it must outlive the writer
 * and any buffer released from it; NULL means the C library). */
void cql_wr_init_mem(cql_wr_t *w, const cql_mem_t *mem);
/* Frees the buffer; the writer is empty and keeps its allocator, and may
 * also be initialised again. */
void cql_wr_close(cql_wr_t *w);
/* Forgets the content (and the error) but keeps the memory. */
void cql_wr_reset(cql_wr_t *w);
static inline int cql_wr_error(const cql_wr_t *w) { return w->err; }
/* Ensures room for n more bytes; returns 0 or the sticky error. */
int cql_wr_reserve(cql_wr_t *w, size_t n);
/* Hands the buffer over: *out_len gets its length, the writer is empty
 * afterwards (and keeps its allocator). Returns NULL (and keeps nothing)
 * when the writer has an error. Free the buffer with the writer's
 * allocator: cql_mem_free(w->mem, p), which is free(p) after cql_wr_init. */
uint8_t *cql_wr_release(cql_wr_t *w, size_t *out_len);

void cql_wr_u8(cql_wr_t *w, uint8_t v);
void cql_wr_u16(cql_wr_t *w, uint16_t v);
void cql_wr_i32(cql_wr_t *w, int32_t v);
void cql_wr_i64(cql_wr_t *w, int64_t v);
void cql_wr_raw(cql_wr_t *w, const void *p, size_t n);
void cql_wr_string(cql_wr_t *w, const char *s, size_t n);      /* ERANGE if n > 65535 */
void cql_wr_cstring(cql_wr_t *w, const char *s);               /* [string] of a C string */
void cql_wr_long_string(cql_wr_t *w, const char *s, size_t n); /* ERANGE if n > INT32_MAX */
void cql_wr_uuid(cql_wr_t *w, const uint8_t uuid[16]);
/* [bytes]/[value] from a slice (markers included). */
void cql_wr_bytes(cql_wr_t *w, cql_bytes_t b);
void cql_wr_short_bytes(cql_wr_t *w, const void *p, size_t n);
void cql_wr_inet(cql_wr_t *w, const cql_inet_t *a);
void cql_wr_inetaddr(cql_wr_t *w, const cql_inet_t *a);
void cql_wr_uvint(cql_wr_t *w, uint64_t v);
void cql_wr_vint(cql_wr_t *w, int64_t v);
/* Overwrites 4 bytes at off (which must already be written) with v in big
 * endian: for length prefixes known only after their content. */
void cql_wr_patch_i32(cql_wr_t *w, size_t off, int32_t v);

/* Big-endian loads and stores for codecs that work on raw slices. */
static inline uint16_t cql_load_u16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}
static inline uint32_t cql_load_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t cql_load_u64(const uint8_t *p)
{
    return (uint64_t)cql_load_u32(p) << 32 | cql_load_u32(p + 4);
}
static inline void cql_store_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void cql_store_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void cql_store_u64(uint8_t *p, uint64_t v)
{
    cql_store_u32(p, (uint32_t)(v >> 32));
    cql_store_u32(p + 4, (uint32_t)v);
}

static inline bool cql_str_eq(cql_str_t s, const char *lit)
{
    size_t i = 0;
    for (; i < s.len; i++)
        if (lit[i] == '\0' || lit[i] != s.ptr[i])
            return false;
    return lit[i] == '\0';
}

#endif /* CQL_BUF_H */
