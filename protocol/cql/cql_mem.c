/*
 * cql_mem: the C library allocator as a cql_mem_t table (see cql_mem.h).
 */
#include "cql_mem.h"

static void *libc_malloc(size_t size, void *ud)
{
    (void)ud;
    return malloc(size);
}

static void *libc_realloc(void *p, size_t size, void *ud)
{
    (void)ud;
    return realloc(p, size);
}

static void libc_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

static const cql_mem_t libc_mem = {libc_malloc, libc_realloc, libc_free, NULL};

const cql_mem_t *cql_mem_default(void)
{
    return &libc_mem;
}
