/*
 * cql_arena: bump allocation in chunks, freed all at once; chunks come from
 * the arena's cql_mem_t.
 */
#include "cql_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16
#define ARENA_DEFAULT_CHUNK 4096

struct cql_arena_chunk {
    cql_arena_chunk_t *next; /* older chunk */
    size_t size;             /* usable bytes in data[] */
    size_t off;              /* next free byte in data[] */
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

void cql_arena_init(cql_arena_t *a, size_t limit)
{
    cql_arena_init_mem(a, limit, NULL);
}

void cql_arena_init_mem(cql_arena_t *a, size_t limit, const cql_mem_t *mem)
{
    a->head = NULL;
    a->used = 0;
    a->limit = limit;
    a->chunk_size = ARENA_DEFAULT_CHUNK;
    a->mem = mem;
}

void cql_arena_set_chunk_size(cql_arena_t *a, size_t size)
{
    a->chunk_size = size;
}

void *cql_arena_alloc(cql_arena_t *a, size_t size)
{
    size_t need = (size + (ARENA_ALIGN - 1)) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < size)
        return NULL; /* overflow */
    if (a->limit && (need > a->limit || a->used > a->limit - need))
        return NULL;
    cql_arena_chunk_t *c = a->head;
    if (c == NULL || c->size - c->off < need) {
        size_t csize = need > a->chunk_size ? need : a->chunk_size;
        if (csize > SIZE_MAX - sizeof(*c))
            return NULL;
        c = cql_mem_malloc(a->mem, sizeof(*c) + csize);
        if (c == NULL)
            return NULL;
        c->size = csize;
        c->off = 0;
        c->next = a->head;
        a->head = c;
        /* Grow geometrically so many small decodes cost few mallocs
         * (0 stays 0: exact-fit chunks). */
        if (a->chunk_size < (1u << 20))
            a->chunk_size *= 2;
    }
    void *p = c->data + c->off;
    c->off += need;
    a->used += need;
    return p;
}

void *cql_arena_calloc(cql_arena_t *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = cql_arena_alloc(a, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

char *cql_arena_strndup(cql_arena_t *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = cql_arena_alloc(a, len + 1);
    if (p == NULL)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void cql_arena_reset(cql_arena_t *a)
{
    cql_arena_chunk_t *c = a->head;
    if (c == NULL)
        return;
    /* Keep the newest (largest) chunk, free the rest. */
    cql_arena_chunk_t *old = c->next;
    while (old) {
        cql_arena_chunk_t *next = old->next;
        cql_mem_free(a->mem, old);
        old = next;
    }
    c->next = NULL;
    c->off = 0;
    a->used = 0;
}

void cql_arena_close(cql_arena_t *a)
{
    cql_arena_chunk_t *c = a->head;
    while (c) {
        cql_arena_chunk_t *next = c->next;
        cql_mem_free(a->mem, c);
        c = next;
    }
    a->head = NULL;
    a->used = 0;
}
