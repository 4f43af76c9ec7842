/*
 * node_store deletions: cell, row, clustering range (prefix bounds,
 * inclusive/exclusive), partition; newer data survives an older deletion;
 * tombstones within the grace reject late writes; purge and memory; and a
 * long random mix of mutations checked against a reference model (full
 * scans, paging, accounting back to zero).
 */
#include "test_nstore_util.h"

/* Table k, c1, c2 (ints), v; rows c1 in 0..4, c2 in 0..4 of partition 1. */
static const node_table_t *grid(tctx_t *c)
{
    const node_table_t *t = mk_table(c, "g", "k int pk; c1 int ck; c2 int ck; v int");
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++) {
            cql_bytes_t ck[] = {I(c, a), I(c, b)};
            cr_assert_eq(put1(c, t, I(c, 1), ck, true, 10, 0, 100, "v", I(c, a * 10 + b)), 0);
        }
    return t;
}

static int rows_in(tctx_t *c, const node_table_t *t)
{
    cql_bytes_t k = I(c, 1);
    node_scan_t sc = {.pk = &k, .now = 100};
    return count_rows(c, t, &sc);
}

Test(nstore_delete, a_row_delete_removes_one_row_and_spares_newer_data)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = grid(&c);
    cql_bytes_t k = I(&c, 1), k7 = I(&c, 7);
    cql_bytes_t ck[] = {I(&c, 2), I(&c, 3)};
    cr_assert_eq(node_store_delete_row(c.s, t, &k, ck, 10, 100), 0);
    cr_assert_eq(rows_in(&c, t), 24);
    cr_assert_null(get(&c, t, I(&c, 1), ck, 100));
    /* deleting at an older timestamp than the data leaves it */
    cql_bytes_t ck2[] = {I(&c, 2), I(&c, 4)};
    cr_assert_eq(node_store_delete_row(c.s, t, &k, ck2, 9, 100), 0);
    cr_assert_not_null(get(&c, t, I(&c, 1), ck2, 100));
    /* a cell newer than the deletion survives, the row marker does not */
    cr_assert_eq(put1(&c, t, I(&c, 1), ck2, false, 30, 0, 100, "v", I(&c, 99)), 0);
    cr_assert_eq(node_store_delete_row(c.s, t, &k, ck2, 20, 100), 0);
    const node_row_view_t *r = get(&c, t, I(&c, 1), ck2, 100);
    cr_assert_not_null(r);
    cr_assert(!r->has_marker);
    cr_assert_eq(vint(r, t, "v"), 99);
    /* deleting a row that does not exist is fine */
    cql_bytes_t none[] = {I(&c, 9), I(&c, 9)};
    cr_assert_eq(node_store_delete_row(c.s, t, &k, none, 50, 100), 0);
    cr_assert_eq(node_store_delete_row(c.s, t, &k7, none, 50, 100), 0);
    tctx_close(&c);
}

Test(nstore_delete, range_deletes_honour_prefixes_and_inclusiveness)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = grid(&c);
    cql_bytes_t k = I(&c, 1);
    /* c1 = 1: a prefix, both ends inclusive */
    cql_bytes_t p1[] = {I(&c, 1)};
    node_bound_t b = {p1, 1, true};
    cr_assert_eq(node_store_delete_range(c.s, t, &k, &b, &b, 10, 100), 0);
    cr_assert_eq(rows_in(&c, t), 20);
    /* (c1, c2) > (3, 1) AND c1 <= 3 : rows (3,2) (3,3) (3,4) */
    cql_bytes_t lo[] = {I(&c, 3), I(&c, 1)}, hi[] = {I(&c, 3)};
    node_bound_t s = {lo, 2, false}, e = {hi, 1, true};
    cr_assert_eq(node_store_delete_range(c.s, t, &k, &s, &e, 10, 100), 0);
    cr_assert_eq(rows_in(&c, t), 17);
    cql_bytes_t keep[] = {I(&c, 3), I(&c, 1)};
    cr_assert_not_null(get(&c, t, k, keep, 100));
    /* c1 < 1 (exclusive end, open start): row c1 = 0 goes */
    cql_bytes_t one[] = {I(&c, 1)};
    node_bound_t open = {NULL, 0, false}, end1 = {one, 1, false};
    cr_assert_eq(node_store_delete_range(c.s, t, &k, &open, &end1, 10, 100), 0);
    cr_assert_eq(rows_in(&c, t), 12);
    /* c1 > 3: rows c1 = 4 go, by an open end */
    cql_bytes_t three[] = {I(&c, 3)};
    node_bound_t st3 = {three, 1, false};
    cr_assert_eq(node_store_delete_range(c.s, t, &k, &st3, NULL, 10, 100), 0);
    cr_assert_eq(rows_in(&c, t), 7); /* (2,*) and (3,0) (3,1) */
    cql_bytes_t toolong[] = {I(&c, 1), I(&c, 1), I(&c, 1)};
    node_bound_t bad = {toolong, 3, true};
    cr_assert_eq(node_store_delete_range(c.s, t, &k, &bad, NULL, 10, 100), CQLMQ_EINVAL);
    tctx_close(&c);
}

Test(nstore_delete, a_partition_delete_spares_statics_and_rows_written_later)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; c int ck; s int static; v int");
    cql_bytes_t k = I(&c, 1);
    for (int i = 0; i < 100; i++) {
        cql_bytes_t ck = I(&c, i);
        cr_assert_eq(put1(&c, t, k, &ck, true, i < 50 ? 10 : 30, 0, 100, "v", I(&c, i)), 0);
    }
    cr_assert_eq(put1(&c, t, k, NULL, false, 10, 0, 100, "s", I(&c, 7)), 0);
    cr_assert_eq(node_store_delete_partition(c.s, t, &k, 20, 100), 0);
    node_scan_t sc = {.pk = &k, .static_rows = true, .now = 100};
    cr_assert_eq(count_rows(&c, t, &sc), 50);
    cql_bytes_t c60 = I(&c, 60);
    cr_assert_null(node_row_cell(get(&c, t, k, &c60, 100), COL(t, "s")));
    cr_assert_eq(node_store_delete_partition(c.s, t, &k, 30, 100), 0);
    cr_assert_eq(count_rows(&c, t, &sc), 0);
    node_store_stats_t st;
    node_store_stats(c.s, t, &st);
    cr_assert_eq(st.partitions, 0);
    cr_assert_eq(st.bytes, 0);
    tctx_close(&c);
}

Test(nstore_delete, within_the_grace_tombstones_shadow_late_writes_then_go)
{
    tctx_t c;
    tctx_init(&c, 60);
    const node_table_t *t = mk_table(&c, "t", "k int pk; c int ck; v int");
    cql_bytes_t k = I(&c, 1), c1 = I(&c, 1), c2 = I(&c, 2), c3 = I(&c, 3);
    cr_assert_eq(node_store_delete_partition(c.s, t, &k, 100, 1000), 0);
    cr_assert_eq(put1(&c, t, k, &c1, true, 99, 0, 1000, "v", I(&c, 1)), 0);
    cr_assert_null(get(&c, t, k, &c1, 1000));
    node_bound_t b = {&c2, 1, true};
    cr_assert_eq(node_store_delete_range(c.s, t, &k, &b, &b, 200, 1000), 0);
    cr_assert_eq(put1(&c, t, k, &c2, true, 150, 0, 1000, "v", I(&c, 2)), 0);
    cr_assert_null(get(&c, t, k, &c2, 1000));
    cr_assert_eq(node_store_delete_row(c.s, t, &k, &c3, 300, 1000), 0);
    cr_assert_eq(put1(&c, t, k, &c3, true, 250, 0, 1000, "v", I(&c, 3)), 0);
    cr_assert_null(get(&c, t, k, &c3, 1000));
    cr_assert_eq(put1(&c, t, k, &c3, true, 301, 0, 1000, "v", I(&c, 3)), 0);
    cr_assert_not_null(get(&c, t, k, &c3, 1000));
    node_store_stats_t st;
    node_store_stats(c.s, t, &st);
    cr_assert_eq(st.partitions, 1);
    cr_assert_eq(node_store_delete_row(c.s, t, &k, &c3, 400, 1000), 0);
    /* the grace ends: purge drops every tombstone and the empty partition */
    cr_assert_eq(node_store_purge(c.s, 1059, 10), 1);
    node_store_stats(c.s, t, &st);
    cr_assert_eq(st.partitions, 1);
    cr_assert_gt(node_store_purge(c.s, 1061, 10), 0);
    node_store_stats(c.s, t, &st);
    cr_assert_eq(st.partitions, 0);
    cr_assert_eq(st.rows, 0);
    cr_assert_eq(st.bytes, 0);
    /* now an old write is accepted again (as after gc_grace_seconds) */
    cr_assert_eq(put1(&c, t, k, &c1, true, 99, 0, 1100, "v", I(&c, 1)), 0);
    cr_assert_not_null(get(&c, t, k, &c1, 1100));
    tctx_close(&c);
}

Test(nstore_delete, purge_frees_expired_rows_nobody_touches)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; v int");
    const node_table_t *u = mk_table(&c, "u", "k int pk; v int");
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(put1(&c, t, I(&c, i), NULL, true, 1, i % 2 ? 10 : 0, 100, "v", I(&c, i)), 0);
        cr_assert_eq(put1(&c, u, I(&c, i), NULL, true, 1, 10, 100, "v", I(&c, i)), 0);
    }
    node_scan_t sc = {.now = 110};
    cr_assert_eq(count_rows(&c, t, &sc), 500);
    cr_assert_eq(count_rows(&c, u, &sc), 0);
    size_t visited = 0, n;
    while ((n = node_store_purge(c.s, 110, 64)) > 0 && visited < 10000)
        visited += n;
    node_store_stats_t st;
    node_store_stats(c.s, t, &st);
    cr_assert_eq(st.rows, 500);
    node_store_stats(c.s, u, &st);
    cr_assert_eq(st.rows, 0);
    cr_assert_eq(st.bytes, 0);
    sc.now = 100;
    cr_assert_eq(count_rows(&c, t, &sc), 500); /* expired data is really gone */
    tctx_close(&c);
}

Test(nstore_delete, truncate_frees_everything)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; c int ck; v text");
    for (int i = 0; i < 5000; i++) {
        cql_bytes_t ck = I(&c, i);
        cr_assert_eq(put1(&c, t, I(&c, i % 7), &ck, true, 1, 0, 100, "v", TX(&c, "hello")), 0);
    }
    node_store_stats_t st;
    node_store_stats(c.s, t, &st);
    cr_assert_eq(st.rows, 5000);
    cr_assert_eq(st.partitions, 7);
    cr_assert_eq(node_store_truncate(c.s, t), 0);
    node_store_stats(c.s, t, &st);
    cr_assert_eq(st.rows, 0);
    cr_assert_eq(st.partitions, 0);
    cr_assert_eq(st.bytes, 0);
    node_scan_t sc = {.now = 100};
    cr_assert_eq(count_rows(&c, t, &sc), 0);
    tctx_close(&c);
}

/* ---- against a reference model ------------------------------------------- */

enum { NK = 8, NC = 64 };

typedef struct model {
    bool marker[NK][NC];
    bool has[NK][NC];    /* v is set */
    int32_t v[NK][NC];
} model_t;

static uint64_t st = 0xdeadbeefcafef00dull;
static uint32_t rnd(void)
{
    st ^= st << 13;
    st ^= st >> 7;
    st ^= st << 17;
    return (uint32_t)st;
}

static bool live(const model_t *m, int k, int c)
{
    return m->marker[k][c] || m->has[k][c];
}

static void check(tctx_t *c, const node_table_t *t, const model_t *m, int page)
{
    bool seen[NK][NC];
    memset(seen, 0, sizeof(seen));
    cql_wr_t pos;
    cql_wr_init(&pos);
    bool more = true, resume = false;
    while (more) {
        node_scan_t sc = {.now = 100};
        if (resume) {
            sc.resume = pos.data;
            sc.resume_len = pos.len;
        }
        cr_assert_eq(node_iter_open(c->it, c->s, t, &sc), 0);
        const node_row_view_t *r;
        int got = 0, rc = 0;
        while (got < page && (rc = node_iter_next(c->it, &r)) == 1) {
            int k = as_int(r->pk[0]), cc = as_int(r->ck[0]);
            cr_assert(k >= 0 && k < NK && cc >= 0 && cc < NC);
            cr_assert(!seen[k][cc], "(%d,%d) twice", k, cc);
            seen[k][cc] = true;
            cr_assert(live(m, k, cc), "(%d,%d) should not exist", k, cc);
            cr_assert_eq(r->has_marker, m->marker[k][cc], "(%d,%d) marker", k, cc);
            int32_t v = vint(r, t, "v");
            cr_assert_eq(v, m->has[k][cc] ? m->v[k][cc] : INT32_MIN, "(%d,%d) value", k, cc);
            got++;
        }
        cr_assert_geq(rc, 0);
        more = got == page;
        if (more) {
            cql_wr_reset(&pos);
            cr_assert_eq(node_iter_position(c->it, &pos), 0);
            resume = true;
        }
    }
    cql_wr_close(&pos);
    for (int k = 0; k < NK; k++)
        for (int cc = 0; cc < NC; cc++)
            cr_assert_eq(seen[k][cc], live(m, k, cc), "(%d,%d) missing", k, cc);
}

static void run(uint32_t grace)
{
    tctx_t c;
    tctx_init(&c, grace);
    const node_table_t *t = mk_table(&c, "t", "k int pk; c int ck; v int");
    static model_t m;
    memset(&m, 0, sizeof(m));
    int64_t ts = 1;
    for (int step = 0; step < 6000; step++) {
        int k = (int)(rnd() % NK), cc = (int)(rnd() % NC), what = (int)(rnd() % 100);
        cql_bytes_t pk = I(&c, k), ck = I(&c, cc);
        ts++;
        if (what < 40) { /* INSERT */
            int32_t v = (int32_t)(rnd() % 1000);
            cr_assert_eq(put1(&c, t, pk, &ck, true, ts, 0, 100, "v", I(&c, v)), 0);
            m.marker[k][cc] = m.has[k][cc] = true;
            m.v[k][cc] = v;
        } else if (what < 60) { /* UPDATE v */
            int32_t v = (int32_t)(rnd() % 1000);
            cr_assert_eq(put1(&c, t, pk, &ck, false, ts, 0, 100, "v", I(&c, v)), 0);
            m.has[k][cc] = true;
            m.v[k][cc] = v;
        } else if (what < 72) { /* UPDATE v = null */
            cr_assert_eq(put1(&c, t, pk, &ck, false, ts, 0, 100, "v", NUL()), 0);
            m.has[k][cc] = false;
        } else if (what < 88) { /* DELETE row */
            cr_assert_eq(node_store_delete_row(c.s, t, &pk, &ck, ts, 100), 0);
            m.marker[k][cc] = m.has[k][cc] = false;
        } else if (what < 97) { /* DELETE range c > lo AND c <= hi */
            int lo = (int)(rnd() % NC), hi = lo + (int)(rnd() % 8);
            cql_bytes_t l = I(&c, lo), h = I(&c, hi);
            node_bound_t s = {&l, 1, false}, e = {&h, 1, true};
            cr_assert_eq(node_store_delete_range(c.s, t, &pk, &s, &e, ts, 100), 0);
            for (int x = lo + 1; x <= hi && x < NC; x++)
                m.marker[k][x] = m.has[k][x] = false;
        } else { /* DELETE partition */
            cr_assert_eq(node_store_delete_partition(c.s, t, &pk, ts, 100), 0);
            memset(m.marker[k], 0, sizeof(m.marker[k]));
            memset(m.has[k], 0, sizeof(m.has[k]));
        }
        if (step % 500 == 0)
            check(&c, t, &m, 1 + step % 17);
    }
    check(&c, t, &m, 5);
    for (int k = 0; k < NK; k++) {
        cql_bytes_t pk = I(&c, k);
        cr_assert_eq(node_store_delete_partition(c.s, t, &pk, ts + 1, 100), 0);
    }
    while (node_store_purge(c.s, 100 + grace, 100) > 0) {
        node_store_stats_t s;
        node_store_stats(c.s, t, &s);
        if (s.partitions == 0)
            break;
    }
    node_store_stats_t s;
    node_store_stats(c.s, t, &s);
    cr_assert_eq(s.rows, 0);
    cr_assert_eq(s.partitions, 0);
    cr_assert_eq(s.bytes, 0, "%lld bytes left", (long long)s.bytes);
    tctx_close(&c);
}

Test(nstore_delete, random_mutations_match_the_model_without_grace)
{
    run(0);
}

Test(nstore_delete, random_mutations_match_the_model_with_tombstones_kept)
{
    run(30);
}
