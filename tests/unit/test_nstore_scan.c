/*
 * node_store reads: clustering order (DESC, mixed types), slices, reversed
 * scans, token order and token ranges, paging positions resumed while rows
 * are inserted and deleted elsewhere, and iterators that outlive writes.
 */
#include "test_nstore_util.h"

static uint64_t rs = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)rs;
}

Test(nstore_scan, rows_follow_the_clustering_order_of_each_column)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; a int ck desc; b text ck; v int");
    cql_bytes_t k = I(&c, 1);
    static const int as[] = {5, -3, 0, 70000, -70000};
    static const char *bs[] = {"b", "", "ab", "a", "ba"};
    for (int i = 0; i < 25; i++) {
        int j = (int)(rnd() % 25); /* random order, duplicates are overwrites */
        cql_bytes_t ck[] = {I(&c, as[j / 5]), TX(&c, bs[j % 5])};
        cr_assert_eq(put1(&c, t, k, ck, true, 1, 0, 100, "v", I(&c, j)), 0);
    }
    for (int j = 0; j < 25; j++) {
        cql_bytes_t ck[] = {I(&c, as[j / 5]), TX(&c, bs[j % 5])};
        cr_assert_eq(put1(&c, t, k, ck, true, 1, 0, 100, "v", I(&c, j)), 0);
    }
    static const int a_order[] = {70000, 5, 0, -3, -70000}; /* DESC */
    static const char *b_order[] = {"", "a", "ab", "b", "ba"};
    for (int rev = 0; rev < 2; rev++) {
        node_scan_t sc = {.pk = &k, .reversed = rev, .now = 100};
        cr_assert_eq(node_iter_open(c.it, c.s, t, &sc), 0);
        const node_row_view_t *r;
        for (int i = 0; i < 25; i++) {
            int p = rev ? 24 - i : i;
            cr_assert_eq(node_iter_next(c.it, &r), 1);
            cr_assert_eq(as_int(r->ck[0]), a_order[p / 5], "row %d", i);
            cr_assert_eq((size_t)r->ck[1].len, strlen(b_order[p % 5]));
            cr_assert_eq(memcmp(r->ck[1].ptr, b_order[p % 5], (size_t)r->ck[1].len), 0);
        }
        cr_assert_eq(node_iter_next(c.it, &r), 0);
    }
    tctx_close(&c);
}

Test(nstore_scan, slices_take_prefix_bounds_in_clustering_order)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; a int ck desc; b int ck; v int");
    cql_bytes_t k = I(&c, 1);
    for (int a = 0; a < 10; a++)
        for (int b = 0; b < 10; b++) {
            cql_bytes_t ck[] = {I(&c, a), I(&c, b)};
            cr_assert_eq(put1(&c, t, k, ck, true, 1, 0, 100, "v", I(&c, a * 10 + b)), 0);
        }
    /* WHERE a <= 7 AND a > 4: in clustering order (a DESC) a = 7 comes first */
    cql_bytes_t a7 = I(&c, 7), a4 = I(&c, 4);
    node_scan_t sc = {.pk = &k, .start = {&a7, 1, true}, .end = {&a4, 1, false}, .now = 100};
    cr_assert_eq(count_rows(&c, t, &sc), 30);
    cr_assert_eq(node_iter_open(c.it, c.s, t, &sc), 0);
    const node_row_view_t *r;
    cr_assert_eq(node_iter_next(c.it, &r), 1);
    cr_assert_eq(vint(r, t, "v"), 70);
    sc.reversed = true;
    cr_assert_eq(node_iter_open(c.it, c.s, t, &sc), 0);
    cr_assert_eq(node_iter_next(c.it, &r), 1);
    cr_assert_eq(vint(r, t, "v"), 59);
    cr_assert_eq(count_rows(&c, t, &sc), 30);
    /* (a, b) >= (7, 5) AND a = 7 */
    cql_bytes_t s75[] = {I(&c, 7), I(&c, 5)};
    node_scan_t sc2 = {.pk = &k, .start = {s75, 2, true}, .end = {&a7, 1, true}, .now = 100};
    cr_assert_eq(count_rows(&c, t, &sc2), 5);
    sc2.start.inclusive = false;
    cr_assert_eq(count_rows(&c, t, &sc2), 4);
    sc2.reversed = true;
    cr_assert_eq(count_rows(&c, t, &sc2), 4);
    /* an empty slice */
    node_scan_t sc3 = {.pk = &k, .start = {&a4, 1, true}, .end = {&a7, 1, true}, .now = 100};
    cr_assert_eq(count_rows(&c, t, &sc3), 0);
    tctx_close(&c);
}

Test(nstore_scan, partitions_come_in_token_order_and_token_ranges_filter)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; v int");
    enum { N = 2000 };
    int64_t tokens[N];
    for (int i = 0; i < N; i++)
        cr_assert_eq(put1(&c, t, I(&c, i), NULL, true, 1, 0, 100, "v", I(&c, i)), 0);
    node_scan_t sc = {.now = 100};
    cr_assert_eq(node_iter_open(c.it, c.s, t, &sc), 0);
    const node_row_view_t *r;
    int n = 0;
    while (node_iter_next(c.it, &r) == 1) {
        tokens[n] = r->token;
        if (n)
            cr_assert_lt(tokens[n - 1], r->token);
        n++;
    }
    cr_assert_eq(n, N);
    int64_t lo = tokens[N / 4], hi = tokens[3 * N / 4];
    node_scan_t rg = {.has_start_token = true, .start_token = lo, .has_end_token = true,
                      .end_token = hi, .end_token_incl = true, .now = 100};
    cr_assert_eq(count_rows(&c, t, &rg), N / 2); /* token(k) > lo AND token(k) <= hi */
    rg.start_token_incl = true;
    cr_assert_eq(count_rows(&c, t, &rg), N / 2 + 1);
    node_scan_t tail = {.has_start_token = true, .start_token = tokens[N - 1], .now = 100};
    cr_assert_eq(count_rows(&c, t, &tail), 0);
    tail.start_token = INT64_MIN;
    cr_assert_eq(count_rows(&c, t, &tail), N);
    tctx_close(&c);
}

/* Pages through t with pages of `page` rows, and between pages inserts
 * rows with v = -1 and deletes earlier-inserted ones; counts how often each
 * original row (v >= 0) is seen. */
static void page_through(tctx_t *c, const node_table_t *t, int nparts, int nrows, int page,
                         bool reversed, const cql_bytes_t *only_pk)
{
    int total = nparts * nrows;
    int *seen = calloc((size_t)total, sizeof(int));
    cql_wr_t pos;
    cql_wr_init(&pos);
    bool have_pos = false;
    int pages = 0, extra = 0;
    for (;;) {
        node_scan_t sc = {.pk = only_pk, .reversed = reversed, .now = 100};
        if (have_pos) {
            sc.resume = pos.data;
            sc.resume_len = pos.len;
        }
        cr_assert_eq(node_iter_open(c->it, c->s, t, &sc), 0);
        const node_row_view_t *r;
        int got = 0, rc = 0;
        while (got < page && (rc = node_iter_next(c->it, &r)) == 1) {
            int32_t v = vint(r, t, "v");
            if (v >= 0)
                seen[v]++;
            got++;
        }
        cr_assert_geq(rc, 0);
        if (got < page)
            break;
        /* keep the position in a buffer of our own: the iterator is reused */
        cql_wr_reset(&pos);
        cr_assert_eq(node_iter_position(c->it, &pos), 0);
        have_pos = true;
        /* concurrent writes elsewhere: new rows everywhere, deletes of new rows */
        for (int i = 0; i < 3; i++) {
            int p = (int)(rnd() % (unsigned)nparts);
            cql_bytes_t ck = I(c, (int32_t)(rnd() % 100000) + 1000000);
            /* without clustering columns, new rows need new partitions */
            cql_bytes_t pk = only_pk ? *only_pk : t->nck ? I(c, p) : ck;
            cr_assert_eq(put1(c, t, pk, t->nck ? &ck : NULL, true, 2, 0, 100, "v", I(c, -1)), 0);
            if (extra++ % 2 == 0)
                continue;
            if (t->nck)
                cr_assert_eq(node_store_delete_row(c->s, t, &pk, &ck, 3, 100), 0);
            else
                cr_assert_eq(node_store_delete_partition(c->s, t, &pk, 3, 100), 0);
        }
        pages++;
        cr_assert_lt(pages, 100000);
    }
    for (int i = 0; i < total; i++)
        cr_assert_eq(seen[i], 1, "row %d seen %d times", i, seen[i]);
    cql_wr_close(&pos);
    free(seen);
}

Test(nstore_scan, paging_resumes_without_repeats_or_gaps_under_concurrent_writes)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; c int ck; v int");
    const node_table_t *s = mk_table(&c, "s", "k int pk; v int");
    for (int p = 0; p < 20; p++)
        for (int r = 0; r < 50; r++) {
            cql_bytes_t ck = I(&c, r * 10);
            cr_assert_eq(put1(&c, t, I(&c, p), &ck, true, 1, 0, 100, "v", I(&c, p * 50 + r)), 0);
        }
    for (int p = 0; p < 500; p++)
        cr_assert_eq(put1(&c, s, I(&c, p), NULL, true, 1, 0, 100, "v", I(&c, p)), 0);
    page_through(&c, t, 20, 50, 7, false, NULL);
    page_through(&c, t, 20, 50, 1, true, NULL);
    page_through(&c, s, 500, 1, 13, false, NULL);
    tctx_close(&c);
}

Test(nstore_scan, paging_one_partition_in_reverse_resumes_in_reverse)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; c int ck desc; v int");
    cql_bytes_t k = I(&c, 5);
    for (int r = 0; r < 300; r++) {
        cql_bytes_t ck = I(&c, r);
        cr_assert_eq(put1(&c, t, k, &ck, true, 1, 0, 100, "v", I(&c, r)), 0);
    }
    page_through(&c, t, 1, 300, 11, true, &k);
    page_through(&c, t, 1, 300, 11, false, &k);
    tctx_close(&c);
}

Test(nstore_scan, an_iterator_continues_correctly_across_writes)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; c int ck; v int");
    for (int p = 0; p < 10; p++)
        for (int r = 0; r < 10; r++) {
            cql_bytes_t ck = I(&c, r * 2);
            cr_assert_eq(put1(&c, t, I(&c, p), &ck, true, 1, 0, 100, "v", I(&c, r * 2)), 0);
        }
    node_scan_t sc = {.now = 100};
    cr_assert_eq(node_iter_open(c.it, c.s, t, &sc), 0);
    const node_row_view_t *r;
    int n = 0, odd = 0;
    while (node_iter_next(c.it, &r) == 1) {
        int32_t v = vint(r, t, "v");
        if (v % 2) {
            odd++;
            continue;
        }
        n++;
        /* delete the row just returned and add one right after it */
        cql_bytes_t pk = r->pk[0], ck = r->ck[0];
        cql_bytes_t pkc = raw(&c, pk.ptr, 4), ckc = raw(&c, ck.ptr, 4);
        cr_assert_eq(node_store_delete_row(c.s, t, &pkc, &ckc, 5, 100), 0);
        cql_bytes_t next = I(&c, v + 1);
        cr_assert_eq(put1(&c, t, pkc, &next, true, 6, 0, 100, "v", I(&c, v + 1)), 0);
    }
    cr_assert_eq(n, 100);
    cr_assert_eq(odd, 100); /* rows inserted ahead of the iterator are seen */
    tctx_close(&c);
}

Test(nstore_scan, bad_positions_are_refused)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; c int ck; v int");
    node_scan_t sc = {.now = 100};
    cr_assert_eq(node_iter_open(c.it, c.s, t, &sc), 0);
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(node_iter_position(c.it, &w), CQLMQ_ESTATE);
    static const uint8_t bad[][8] = {
        {2, 0, 1, 1, 0},          /* version */
        {1, 0, 0, 0},             /* empty key */
        {1, 0, 4, 0, 0, 0},       /* truncated key */
        {1, 0, 1, 7, 2, 0, 0},    /* two values for one clustering column */
        {1, 0, 1, 7, 1, 3, 0, 0}, /* an int of 3 bytes */
        {1, 4, 1, 7, 0},          /* unknown flag */
    };
    static const size_t len[] = {5, 4, 6, 7, 8, 5};
    for (size_t i = 0; i < 6; i++) {
        sc.resume = bad[i];
        sc.resume_len = len[i];
        cr_assert_eq(node_iter_open(c.it, c.s, t, &sc), CQLMQ_EMALFORMED, "case %zu", i);
    }
    cr_assert_eq(node_iter_next(c.it, &(const node_row_view_t *){NULL}), CQLMQ_ESTATE);
    /* a hand-made inclusive position starts at that row */
    for (int i = 0; i < 5; i++) {
        cql_bytes_t ck = I(&c, i);
        cr_assert_eq(put1(&c, t, I(&c, 1), &ck, true, 1, 0, 100, "v", I(&c, i)), 0);
    }
    cql_bytes_t k = I(&c, 1), c2 = I(&c, 2);
    cr_assert_eq(node_pos_encode(&w, t, &k, &c2, 1, true), 0);
    node_scan_t rs2 = {.resume = w.data, .resume_len = w.len, .now = 100};
    cr_assert_eq(count_rows(&c, t, &rs2), 3);
    cql_wr_reset(&w);
    cr_assert_eq(node_pos_encode(&w, t, &k, NULL, 0, false), 0); /* after the partition */
    rs2.resume = w.data;
    rs2.resume_len = w.len;
    cr_assert_eq(count_rows(&c, t, &rs2), 0);
    cql_wr_close(&w);
    tctx_close(&c);
}
