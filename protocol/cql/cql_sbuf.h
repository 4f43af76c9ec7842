/*
 * cql_sbuf: the snprintf-style text accumulator of the codec's formatters
 * (type strings, value literals). Internal to protocol/cql.
 *
 * Invariant: len counts every byte the full text needs, stored or not; the
 * first cap - 1 of them are stored in buf, so a caller learns the size it
 * needs from one pass with a small (or zero) buffer, as with snprintf.
 */
#ifndef CQL_SBUF_H
#define CQL_SBUF_H

#include <stddef.h>
#include <string.h>

#include "cql_mem.h"

typedef struct cql_sbuf {
    char *buf;            /* destination, or NULL when cap is 0 */
    size_t cap;           /* bytes available including the NUL */
    size_t len;           /* bytes the full text needs so far */
    const cql_mem_t *mem; /* scratch allocations; NULL = the C library */
} cql_sbuf_t;

static inline void cql_sb_putn(cql_sbuf_t *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++, b->len++)
        if (b->len + 1 < b->cap)
            b->buf[b->len] = s[i];
}

static inline void cql_sb_puts(cql_sbuf_t *b, const char *s) { cql_sb_putn(b, s, strlen(s)); }

#endif /* CQL_SBUF_H */
