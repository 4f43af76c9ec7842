/*
 * Helpers shared by the node_store unit tests (test_nstore_*.c): a store
 * with keyspace "ks", tables from a compact column spec, serialized values
 * allocated in a per-test arena, and one-line writes and reads.
 */
#ifndef TEST_NSTORE_UTIL_H
#define TEST_NSTORE_UTIL_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql_arena.h"
#include "cql_buf.h"
#include "cql_type.h"
#include "node_store.h"

typedef struct tctx {
    node_store_t *s;
    cql_arena_t a;   /* types and values of the test */
    node_iter_t *it; /* for reads */
} tctx_t;

static inline void tctx_init(tctx_t *c, uint32_t grace)
{
    node_store_opts_t o = {grace, 42};
    c->s = node_store_new(&o);
    cr_assert_not_null(c->s);
    cql_arena_init(&c->a, 0);
    cr_assert_eq(node_iter_new(&c->it), 0);
    node_kv_t repl[] = {{"class", "SimpleStrategy"}, {"replication_factor", "1"}};
    cr_assert_eq(node_ks_create(c->s, "ks", repl, 2, true, NULL), 0);
}

static inline void tctx_close(tctx_t *c)
{
    node_iter_free(&c->it);
    node_store_free(&c->s);
    cr_assert_null(c->s);
    cql_arena_close(&c->a);
}

static inline const cql_type_t *T(tctx_t *c, const char *str)
{
    cql_type_t *t = NULL;
    int rc = cql_type_parse(str, strlen(str), &c->a, "ks", node_udt_lookup, c->s, &t);
    cr_assert_eq(rc, 0, "type %s: %d", str, rc);
    return t;
}

/* spec: "k int pk; c int ck desc; s int static; v map<int, text>" */
static inline const node_table_t *mk_table(tctx_t *c, const char *name, const char *spec)
{
    node_column_def_t defs[32];
    size_t n = 0;
    char *copy = cql_arena_strndup(&c->a, spec, strlen(spec)), *save = NULL;
    for (char *part = strtok_r(copy, ";", &save); part; part = strtok_r(NULL, ";", &save)) {
        while (*part == ' ')
            part++;
        char *sp = strchr(part, ' ');
        cr_assert_not_null(sp);
        *sp = '\0';
        node_column_def_t *d = &defs[n++];
        d->name = part;
        d->kind = NODE_COL_REGULAR;
        d->order = NODE_ORDER_NONE;
        char *ty = sp + 1;
        size_t len = strlen(ty);
        for (;;) {
            while (len && ty[len - 1] == ' ')
                ty[--len] = '\0';
            char *last = strrchr(ty, ' ');
            const char *w = last ? last + 1 : "";
            if (strcmp(w, "desc") == 0)
                d->order = NODE_ORDER_DESC;
            else if (strcmp(w, "pk") == 0)
                d->kind = NODE_COL_PARTITION_KEY;
            else if (strcmp(w, "ck") == 0)
                d->kind = NODE_COL_CLUSTERING;
            else if (strcmp(w, "static") == 0)
                d->kind = NODE_COL_STATIC;
            else
                break;
            *last = '\0';
            len = strlen(ty);
        }
        d->type = T(c, ty);
    }
    node_table_def_t def = {"ks", name, NULL, defs, n, NULL, 0};
    const node_table_t *t = NULL;
    int rc = node_table_create(c->s, &def, &t);
    cr_assert_eq(rc, 0, "create %s: %d", name, rc);
    return t;
}

static inline const node_column_t *COL(const node_table_t *t, const char *name)
{
    const node_column_t *col = node_table_column(t, name);
    cr_assert_not_null(col, "column %s", name);
    return col;
}

static inline cql_bytes_t raw(tctx_t *c, const void *p, size_t n)
{
    uint8_t *b = cql_arena_alloc(&c->a, n ? n : 1);
    if (n)
        memcpy(b, p, n);
    return (cql_bytes_t){b, (int32_t)n};
}

static inline cql_bytes_t I(tctx_t *c, int32_t v)
{
    uint8_t b[4];
    cql_store_u32(b, (uint32_t)v);
    return raw(c, b, 4);
}

static inline cql_bytes_t BI(tctx_t *c, int64_t v)
{
    uint8_t b[8];
    cql_store_u64(b, (uint64_t)v);
    return raw(c, b, 8);
}

static inline cql_bytes_t TX(tctx_t *c, const char *s)
{
    return raw(c, s, strlen(s));
}

static inline cql_bytes_t NUL(void)
{
    return (cql_bytes_t){NULL, CQL_BYTES_NULL};
}

/* A serialized list or set of n ints. */
static inline cql_bytes_t LI(tctx_t *c, int n, ...)
{
    uint8_t b[4 + 8 * 64];
    va_list ap;
    va_start(ap, n);
    cql_store_u32(b, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        cql_store_u32(b + 4 + 8 * i, 4);
        cql_store_u32(b + 8 + 8 * i, (uint32_t)va_arg(ap, int));
    }
    va_end(ap);
    return raw(c, b, 4 + 8 * (size_t)n);
}

/* A serialized map<int, int> of n pairs (k1, v1, k2, v2, ...). */
static inline cql_bytes_t MII(tctx_t *c, int n, ...)
{
    uint8_t b[4 + 16 * 32];
    va_list ap;
    va_start(ap, n);
    cql_store_u32(b, (uint32_t)n);
    for (int i = 0; i < 2 * n; i++) {
        cql_store_u32(b + 4 + 8 * i, 4);
        cql_store_u32(b + 8 + 8 * i, (uint32_t)va_arg(ap, int));
    }
    va_end(ap);
    return raw(c, b, 4 + 16 * (size_t)n);
}

static inline int32_t as_int(cql_bytes_t b)
{
    cr_assert_eq(b.len, 4);
    return (int32_t)cql_load_u32(b.ptr);
}

/* The ints of a serialized list/set (or the flattened pairs of a map);
 * returns the number of ints. */
static inline int ints_of(cql_bytes_t b, int32_t *out, int max)
{
    int n = (int)cql_load_u32(b.ptr), k = 0;
    for (int i = 0; k < max; i++) {
        const uint8_t *p = b.ptr + 4 + 8 * i;
        if (p >= b.ptr + b.len)
            break;
        out[k++] = (int32_t)cql_load_u32(p + 4);
    }
    (void)n;
    return k;
}

/* One-cell write (op SET) of column col; ck may be NULL. */
static inline int put1(tctx_t *c, const node_table_t *t, cql_bytes_t pk, const cql_bytes_t *ck,
                       bool insert, int64_t ts, int32_t ttl, int64_t now, const char *col,
                       cql_bytes_t v)
{
    node_cell_op_t op = {col ? COL(t, col) : NULL, NODE_OP_SET, v, 0, 0};
    node_write_t w = {&pk, ck, &op, col ? 1 : 0, insert, ts, ttl, now};
    return node_store_write(c->s, t, &w);
}

static inline int op1(tctx_t *c, const node_table_t *t, cql_bytes_t pk, const cql_bytes_t *ck,
                      const char *col, node_op_kind_t kind, cql_bytes_t v, int32_t index,
                      int64_t delta, int64_t ts)
{
    node_cell_op_t op = {COL(t, col), kind, v, index, delta};
    node_write_t w = {&pk, ck, &op, 1, false, ts, 0, 100};
    return node_store_write(c->s, t, &w);
}

/* The live row at (pk, ck), or NULL. */
static inline const node_row_view_t *get(tctx_t *c, const node_table_t *t, cql_bytes_t pk,
                                         const cql_bytes_t *ck, int64_t now)
{
    const node_row_view_t *r = NULL;
    int rc = node_store_get(c->it, c->s, t, &pk, ck, now, &r);
    cr_assert(rc == 0 || rc == CQLMQ_ENOTFOUND, "get: %d", rc);
    return rc == 0 ? r : NULL;
}

/* The int value of col in r, or INT32_MIN when null. */
static inline int32_t vint(const node_row_view_t *r, const node_table_t *t, const char *col)
{
    const node_cell_t *cell = node_row_cell(r, COL(t, col));
    return cell ? as_int(cell->value) : INT32_MIN;
}

/* Runs a scan and returns the number of rows. */
static inline int count_rows(tctx_t *c, const node_table_t *t, const node_scan_t *sc)
{
    cr_assert_eq(node_iter_open(c->it, c->s, t, sc), 0);
    const node_row_view_t *r;
    int n = 0, rc;
    while ((rc = node_iter_next(c->it, &r)) == 1)
        n++;
    cr_assert_eq(rc, 0);
    return n;
}

#endif /* TEST_NSTORE_UTIL_H */
