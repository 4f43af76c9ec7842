/*
 * cql_arena: a bump allocator for decoded messages.
 *
 * Decoders that must build arrays (bound values, column metadata, type trees)
 * take their memory from an arena owned by the caller; everything decoded into
 * it is freed at once by cql_arena_reset() or cql_arena_close(). Decoded
 * strings and byte slices are not copied: they borrow from the input buffer.
 *
 * An arena has a byte limit (0 = unlimited). Together with the rule that a
 * decoder checks every count against the bytes that remain, the limit makes
 * "input of n bytes allocates O(n)" an enforced property, not a hope.
 *
 * Memory: chunks come from a cql_mem_t (cql_mem.h); cql_arena_init uses the
 * C library, cql_arena_init_mem any allocator. When the allocator fails, the
 * allocation returns NULL and the arena is unchanged (still usable, still
 * freed by reset/close).
 *
 * Invariants: chunks form a singly linked list, newest first; `used` counts
 * the bytes handed out (not chunk overhead); alignment is 16 bytes; every
 * chunk came from `mem`.
 */
#ifndef CQL_ARENA_H
#define CQL_ARENA_H

#include <stddef.h>

#include "cql_mem.h"

typedef struct cql_arena_chunk cql_arena_chunk_t;

typedef struct cql_arena {
    cql_arena_chunk_t *head; /* newest chunk, or NULL */
    size_t used;             /* bytes handed out since the last reset */
    size_t limit;            /* maximum of `used`; 0 means no limit */
    size_t chunk_size;       /* default size of a new chunk (0: exact fit) */
    const cql_mem_t *mem;    /* borrowed allocator; NULL = the C library */
} cql_arena_t;

/* Prepares an empty arena; allocates nothing. limit 0 = unlimited. */
void cql_arena_init(cql_arena_t *a, size_t limit);

/* The same with chunks from mem (borrowed: it must outlive the arena; NULL
 * means the C library). */
void cql_arena_init_mem(cql_arena_t *a, size_t limit, const cql_mem_t *mem);

/* Sets the size of the next chunk (later chunks double, up to 1 MiB).
 * Size 0 gives every allocation a chunk of exactly its size, so each
 * cql_arena_alloc that needs memory is one call of the allocator: what
 * allocation-failure tests want, to reach every failure path. */
void cql_arena_set_chunk_size(cql_arena_t *a, size_t size);

/* Returns size bytes aligned to 16, or NULL when out of memory (the
 * allocator failed) or when the limit would be exceeded; on NULL the arena
 * is as it was. Zero-sized requests return a valid pointer. */
void *cql_arena_alloc(cql_arena_t *a, size_t size);

/* Like cql_arena_alloc for n elements of size each, with overflow checks;
 * the memory is zeroed. */
void *cql_arena_calloc(cql_arena_t *a, size_t n, size_t size);

/* Copies len bytes into the arena and appends a NUL; NULL on failure. */
char *cql_arena_strndup(cql_arena_t *a, const char *s, size_t len);

/* Frees everything handed out but keeps the first chunk for reuse. */
void cql_arena_reset(cql_arena_t *a);

/* Frees all memory; the arena may be initialised again. */
void cql_arena_close(cql_arena_t *a);

#endif /* CQL_ARENA_H */
