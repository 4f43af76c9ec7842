/*
 * cql_mem: the allocator the codec's memory comes from.
 *
 * Everything in protocol/cql that takes memory from the heap — arena chunks
 * (cql_arena.h), the writer's buffer (cql_buf.h), the streaming decoder's
 * body buffer (cql_frame.h) and the scratch of big varint and decimal
 * arithmetic (cql_value.h) — gets it from a cql_mem_t, in the manner of
 * nghttp2_mem and libuv's allocator hooks, so that an embedder can account
 * or pool memory and tests can fail the Nth allocation
 * (tests/unit/test_cql_failmalloc*.c).
 *
 * A NULL `const cql_mem_t *` everywhere means the C library (malloc, realloc,
 * free); that is what the functions without a `_mem` suffix use, so
 * existing callers see no change. An object given a cql_mem_t BORROWS it:
 * the table (and its ud) must outlive the object and every block the object
 * handed over (cql_wr_release, cql_frame_decoder_steal).
 *
 * Contract for the three functions (the same as the C library's):
 *   malloc(size, ud)      a block of size bytes aligned for any type, or
 *                         NULL. size is never 0 here.
 *   realloc(p, size, ud)  p NULL acts as malloc; on failure returns NULL and
 *                         leaves p allocated and unchanged. size is never 0.
 *   free(p, ud)           p may be NULL.
 */
#ifndef CQL_MEM_H
#define CQL_MEM_H

#include <stddef.h>
#include <stdlib.h>

typedef struct cql_mem {
    void *(*malloc)(size_t size, void *ud);            /* see the contract above */
    void *(*realloc)(void *p, size_t size, void *ud);  /* idem */
    void (*free)(void *p, void *ud);                   /* idem */
    void *ud;                                          /* passed to all three */
} cql_mem_t;

/* The C library allocator as a table, for callers that want to pass an
 * explicit one; it behaves exactly as NULL does. Never NULL. */
const cql_mem_t *cql_mem_default(void);

/* Calls through m, or the C library when m is NULL. */
static inline void *cql_mem_malloc(const cql_mem_t *m, size_t size)
{
    return m == NULL ? malloc(size) : m->malloc(size, m->ud);
}

static inline void *cql_mem_realloc(const cql_mem_t *m, void *p, size_t size)
{
    return m == NULL ? realloc(p, size) : m->realloc(p, size, m->ud);
}

static inline void cql_mem_free(const cql_mem_t *m, void *p)
{
    if (m == NULL)
        free(p);
    else
        m->free(p, m->ud);
}

#endif /* CQL_MEM_H */
