/*
 * Allocation-failure tests of types and values: type parse / read / clone
 * into an arena, value decode into an arena, and the big-number paths that
 * take scratch memory: value formatting, varint text, decimal comparison.
 * Harness and rules: test_cql_failmalloc.h.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql_type.h"
#include "cql_value.h"
#include "test_cql_failmalloc.h"

/* ---- types -------------------------------------------------------------- */

static const char *const type_strings[] = {
    "map<text, frozen<list<frozen<tuple<int, varint, decimal, frozen<address>>>>>>",
    "'org.example.Custom'",
    "frozen<set<frozen<map<\"Loc\", timeuuid>>>>",
    "org.apache.cassandra.db.marshal.MapType(org.apache.cassandra.db.marshal.UTF8Type,"
    "org.apache.cassandra.db.marshal.ListType(org.apache.cassandra.db.marshal.Int32Type))",
    "org.apache.cassandra.db.marshal.UserType(ks,61646472,"
    "737472656574:org.apache.cassandra.db.marshal.UTF8Type,"
    "7a6970:org.apache.cassandra.db.marshal.ReversedType(org.apache.cassandra.db.marshal."
    "Int32Type))",
    "org.apache.cassandra.db.marshal.DurationType",
    "tuple<duration, blob, frozen<\"Loc\">>",
};
#define NTYPES (sizeof(type_strings) / sizeof(type_strings[0]))

/* UDTs of keyspace ks: address {street text, zip int, "Loc" set<double>}
 * and "Loc" {x double, y double}, built fresh into the parser's arena. */
static int lookup(void *ud, const char *ks, const char *name, cql_arena_t *a, cql_type_t **out)
{
    const char *def;
    if (strcmp(name, "address") == 0)
        def = "org.apache.cassandra.db.marshal.UserType(ks,61646472657373,"
              "737472656574:org.apache.cassandra.db.marshal.UTF8Type,"
              "7a6970:org.apache.cassandra.db.marshal.Int32Type,"
              "4c6f63:org.apache.cassandra.db.marshal.SetType("
              "org.apache.cassandra.db.marshal.DoubleType))";
    else if (strcmp(name, "Loc") == 0)
        def = "org.apache.cassandra.db.marshal.UserType(ks,4c6f63,"
              "78:org.apache.cassandra.db.marshal.DoubleType,"
              "79:org.apache.cassandra.db.marshal.DoubleType)";
    else
        return CQLMQ_ENOTFOUND;
    return cql_type_parse(def, strlen(def), a, NULL, NULL, ud, out);
}

static cql_type_t *parse_ref(cql_arena_t *a, size_t i)
{
    cql_type_t *t;
    int rc = cql_type_parse(type_strings[i], strlen(type_strings[i]), a, "ks", lookup, NULL, &t);
    cr_assert_eq(rc, 0, "%s: %s", type_strings[i], cqlmq_err_name(rc));
    return t;
}

static const char *type_text(const cql_type_t *t)
{
    static char buf[4][512];
    static int k;
    char *b = buf[k++ % 4];
    int n = cql_type_format(t, b, 512);
    cr_assert(n > 0 && n < 512);
    return b;
}

typedef struct type_case {
    size_t i;           /* index in type_strings */
    const cql_type_t *ref; /* the default allocator's tree */
    cql_bytes_t option; /* its [option] */
} type_case_t;

/* A fresh arena from fm, one chunk per allocation so every call site fails. */
static void fm_arena(cql_arena_t *a, fm_t *fm)
{
    cql_arena_init_mem(a, 0, &fm->mem);
    cql_arena_set_chunk_size(a, 0);
}

static int run_type_parse(fm_t *fm, void *ctx)
{
    const type_case_t *c = ctx;
    const char *s = type_strings[c->i];
    cql_arena_t a;
    fm_arena(&a, fm);
    cql_type_t *t = NULL;
    int rc = cql_type_parse(s, strlen(s), &a, "ks", lookup, NULL, &t);
    if (rc != 0) {
        fm_heal(fm);
        cql_arena_reset(&a);
        cr_assert_eq(cql_type_parse(s, strlen(s), &a, "ks", lookup, NULL, &t), 0);
    }
    cr_assert(cql_type_equal(t, c->ref), "%s", s);
    cr_assert_str_eq(type_text(t), type_text(c->ref));
    cql_arena_close(&a);
    return rc;
}

static int run_type_read(fm_t *fm, void *ctx)
{
    const type_case_t *c = ctx;
    cql_arena_t a;
    fm_arena(&a, fm);
    cql_rd_t r;
    cql_rd_init(&r, c->option.ptr, (size_t)c->option.len);
    cql_type_t *t = NULL;
    int rc = cql_type_read(&r, &a, &t);
    if (rc != 0) {
        cr_assert_eq(r.pos, 0, "the reader moved on error");
        fm_heal(fm);
        cql_arena_reset(&a);
        cr_assert_eq(cql_type_read(&r, &a, &t), 0);
    }
    cr_assert_eq(cql_rd_left(&r), 0);
    cr_assert(cql_type_equal(t, c->ref), "%s", type_strings[c->i]);
    cql_arena_close(&a);
    return rc;
}

static int run_type_clone(fm_t *fm, void *ctx)
{
    const type_case_t *c = ctx;
    cql_arena_t a;
    fm_arena(&a, fm);
    cql_type_t *t = cql_type_clone(c->ref, &a);
    int rc = t ? 0 : CQLMQ_ENOMEM; /* clone documents NULL for out of memory */
    if (t == NULL) {
        fm_heal(fm);
        cql_arena_reset(&a);
        cr_assert_not_null(t = cql_type_clone(c->ref, &a));
    }
    cr_assert(cql_type_equal(t, c->ref));
    cr_assert_str_eq(type_text(t), type_text(c->ref));
    cql_arena_close(&a);
    return rc;
}

Test(cql_failmalloc_value, type_parse_read_and_clone_fail_with_enomem_at_every_allocation)
{
    cql_arena_t ra;
    cql_arena_init(&ra, 0);
    for (size_t i = 0; i < NTYPES; i++) {
        type_case_t c = {.i = i, .ref = parse_ref(&ra, i)};
        cql_wr_t w;
        cql_wr_init(&w);
        cql_type_write_version(&w, c.ref, 4);
        cr_assert_eq(cql_wr_error(&w), 0);
        c.option = (cql_bytes_t){w.data, (int32_t)w.len};
        char what[96];
        snprintf(what, sizeof what, "parse %s", type_strings[i]);
        cr_assert_gt(fm_sweep(what, run_type_parse, &c, CQLMQ_ENOMEM), 0);
        snprintf(what, sizeof what, "read %s", type_strings[i]);
        cr_assert_gt(fm_sweep(what, run_type_read, &c, CQLMQ_ENOMEM), 0);
        snprintf(what, sizeof what, "clone %s", type_strings[i]);
        cr_assert_gt(fm_sweep(what, run_type_clone, &c, CQLMQ_ENOMEM), 0);
        cql_wr_close(&w);
    }
    cql_arena_close(&ra);
}

/* ---- values ------------------------------------------------------------ */

/* 40 and 30 bytes: beyond the 24-byte stack scratch of the digit code,
 * and (the first) beyond the 64-byte stack text of the formatter. */
static const uint8_t big40[40] = {0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                  14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                                  28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39};
static const uint8_t big30[30] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2,
                                  3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
                                  19, 20, 21, 22};

/* Type 0's value: {'k1': [(1, big40, big30 * 10^-7, {street 'x', zip 7,
 * "Loc" {1.5, 2.5}}), (2, 5, 1.25E+6, null)], 'k2': []}. */
static void make_value(cql_arena_t *a, cql_value_t *v)
{
    cr_assert_eq(cql_value_coll_new(a, CQL_TYPE_MAP, 2, v), 0);
    cql_value_t *kv = v->u.coll.items;
    kv[0] = cql_value_text("k1");
    kv[2] = cql_value_text("k2");
    cr_assert_eq(cql_value_coll_new(a, CQL_TYPE_LIST, 2, &kv[1]), 0);
    cr_assert_eq(cql_value_coll_new(a, CQL_TYPE_LIST, 0, &kv[3]), 0);
    for (int i = 0; i < 2; i++) {
        cql_value_t *tu = &kv[1].u.coll.items[i];
        cr_assert_eq(cql_value_coll_new(a, CQL_TYPE_TUPLE, 4, tu), 0);
        cql_value_t *f = tu->u.coll.items;
        f[0] = cql_value_int(i + 1);
        f[1] = i ? cql_value_varint(5) : cql_value_varint_bytes(big40, sizeof big40);
        f[2] = i ? cql_value_decimal(-4, 125) : cql_value_decimal_bytes(7, big30, sizeof big30);
        if (i == 0) {
            cr_assert_eq(cql_value_coll_new(a, CQL_TYPE_UDT, 3, &f[3]), 0);
            cql_value_t *u = f[3].u.coll.items;
            u[0] = cql_value_text("x");
            u[1] = cql_value_int(7);
            cr_assert_eq(cql_value_coll_new(a, CQL_TYPE_SET, 2, &u[2]), 0);
            u[2].u.coll.items[0] = cql_value_double(1.5);
            u[2].u.coll.items[1] = cql_value_double(2.5);
        }
    }
}

typedef struct value_case {
    const cql_type_t *t;
    const cql_value_t *ref;   /* built by make_value */
    cql_bytes_t body;         /* its serialized body */
    char text[1024];          /* its literal with the default allocator */
    size_t cap;               /* buffer size given to format */
} value_case_t;

static int run_value_decode(fm_t *fm, void *ctx)
{
    const value_case_t *c = ctx;
    cql_arena_t a;
    fm_arena(&a, fm);
    cql_value_t v;
    int rc = cql_value_decode(c->t, c->body, &a, &v);
    if (rc != 0) {
        fm_heal(fm);
        cql_arena_reset(&a);
        cr_assert_eq(cql_value_decode(c->t, c->body, &a, &v), 0);
    }
    cr_assert(cql_value_equal(&v, c->ref), "decoded value differs");
    cql_arena_close(&a);
    return rc;
}

static int run_value_format(fm_t *fm, void *ctx)
{
    const value_case_t *c = ctx;
    char buf[1024];
    memset(buf, 0x55, sizeof buf);
    int rc = cql_value_format_mem(c->t, c->ref, buf, c->cap, &fm->mem);
    if (rc < 0) {
        cr_assert(memchr(buf, '\0', c->cap) != NULL, "not NUL-terminated on error");
        cr_assert(strncmp(buf, c->text, strlen(buf)) == 0, "not a prefix: %s", buf);
        fm_heal(fm);
        rc = cql_value_format_mem(c->t, c->ref, buf, c->cap, &fm->mem);
        cr_assert_geq(rc, 0, "format does not recover");
        rc = CQLMQ_ENOMEM;
    } else {
        cr_assert_eq(fm->failures, 0, "format returned %d although allocation %ld was refused:\n"
                     "%s\nnot\n%s", rc, fm->fail_at, buf, c->text);
        rc = 0;
    }
    cr_assert_eq(strlen(buf), strlen(c->text) < c->cap ? strlen(c->text) : c->cap - 1);
    cr_assert(strncmp(buf, c->text, strlen(buf)) == 0, "%s\nnot\n%s", buf, c->text);
    return rc;
}

Test(cql_failmalloc_value, value_decode_and_format_fail_with_enomem_at_every_allocation)
{
    cql_arena_t ra;
    cql_arena_init(&ra, 0);
    value_case_t c = {.t = parse_ref(&ra, 0)};
    cql_value_t ref;
    make_value(&ra, &ref);
    c.ref = &ref;
    cql_wr_t w;
    cql_wr_init(&w);
    cql_value_encode_body(&w, c.t, &ref);
    cr_assert_eq(cql_wr_error(&w), 0);
    c.body = (cql_bytes_t){w.data, (int32_t)w.len};
    int n = cql_value_format(c.t, &ref, c.text, sizeof c.text);
    cr_assert(n > 100 && (size_t)n < sizeof c.text, "%d", n);
    cr_assert_gt(fm_sweep("value decode", run_value_decode, &c, CQLMQ_ENOMEM), 4);
    c.cap = sizeof c.text;
    /* digits of big40 (1 block), its text (1), digits again (1), digits of
     * big30 (1) */
    cr_assert_geq(fm_sweep("value format", run_value_format, &c, CQLMQ_ENOMEM), 4);
    c.cap = 20; /* truncated output takes the same paths */
    cr_assert_geq(fm_sweep("value format, small buffer", run_value_format, &c, CQLMQ_ENOMEM), 4);
    cql_wr_close(&w);
    cql_arena_close(&ra);
}

typedef struct num_case {
    const uint8_t *a, *b;
    size_t na, nb;
    int32_t sa, sb;
} num_case_t;

static int run_varint_format(fm_t *fm, void *ctx)
{
    const num_case_t *c = ctx;
    char ref[256], buf[256];
    int need = cql_varint_format(c->a, c->na, ref, sizeof ref);
    cr_assert(need > 0 && (size_t)need < sizeof ref);
    memset(buf, 0x55, sizeof buf);
    int rc = cql_varint_format_mem(c->a, c->na, buf, sizeof buf, &fm->mem);
    if (rc < 0) {
        cr_assert_str_eq(buf, "", "ENOMEM leaves the empty string");
        fm_heal(fm);
        cr_assert_eq(cql_varint_format_mem(c->a, c->na, buf, sizeof buf, &fm->mem), need);
    } else {
        cr_assert_eq(rc, need);
    }
    cr_assert_str_eq(buf, ref);
    return rc < 0 ? rc : 0;
}

static int run_decimal_compare(fm_t *fm, void *ctx)
{
    const num_case_t *c = ctx;
    int exact = cql_decimal_compare(c->sa, c->a, c->na, c->sb, c->b, c->nb);
    int got = cql_decimal_compare_mem(c->sa, c->a, c->na, c->sb, c->b, c->nb, &fm->mem);
    if (fm->failures == 0) {
        cr_assert_eq(got, exact);
        return 0;
    }
    /* Documented: out of memory falls back to comparing the unscaled values. */
    cr_assert_eq(got, cql_varint_compare(c->a, c->na, c->b, c->nb));
    return CQLMQ_ENOMEM;
}

Test(cql_failmalloc_value, big_varint_text_and_decimal_comparison_survive_every_allocation_failure)
{
    /* Both positive, both over 24 bytes, scales far apart: two scratches. */
    num_case_t c = {big30, big40 + 1, sizeof big30, sizeof big40 - 1, 3, 17};
    num_case_t v = {big40, NULL, sizeof big40, 0, 0, 0};
    cr_assert_eq(fm_sweep("varint format", run_varint_format, &v, CQLMQ_ENOMEM), 1);
    cr_assert_eq(fm_sweep("decimal compare", run_decimal_compare, &c, CQLMQ_ENOMEM), 2);
    /* Equal scales and small numbers allocate nothing. */
    num_case_t small = {big30, big30 + 20, 10, 10, 2, 2};
    cr_assert_eq(fm_sweep("decimal compare, same scale", run_decimal_compare, &small, 0), 0);
}
