/* Paging: every row exactly once, resumable anywhere, garbage states refused. */
#include "test_nexec_util.h"

static tx_t T;
static tx_prep_t INS;
static void setup(void)
{
    tx_init(&T);
    tx_ok(&T, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    tx_ok(&T, "USE ks");
    tx_ok(&T, "CREATE TABLE t (k int, c int, v int, PRIMARY KEY (k, c))");
    tx_prepare(&T, "INSERT INTO t (k, c, v) VALUES (?, ?, ?)", &INS);
}
static void teardown(void) { tx_fini(&T); }

TestSuite(nexec_paging, .init = setup, .fini = teardown);

static void insert(int k, int c, int v)
{
    tx_vals_t x = {0};
    tv_int(&x, k);
    tv_int(&x, c);
    tv_int(&x, v);
    tx_params_t p = tv_params(&x);
    int node = T.s.node_index;
    T.s.node_index = 0; /* prepared there */
    cr_assert_eq(tx_execute(&T, INS.id, &p), CQL_OP_RESULT, "%s", tx_errmsg(&T));
    T.s.node_index = node;
}

/* Pages through q; counts how often each v (0..n) is seen; returns pages. */
static int page_all(const char *q, int32_t page, uint8_t *seen, int n, void (*between)(int))
{
    uint8_t state[512];
    int32_t slen = -1;
    int pages = 0;
    for (;;) {
        tx_params_t p;
        memset(&p, 0, sizeof p);
        p.page_size = page;
        if (slen >= 0)
            p.paging_state = (cql_bytes_t){state, slen};
        /* alternate nodes: a paging state resumes anywhere */
        T.s.node_index = pages % 3;
        tx_ok_p(&T, q, &p);
        const cql_result_rows_t *r = tx_rows(&T);
        cr_assert_leq(r->nrows, page);
        int vc = tx_col(&T, "v");
        cql_rows_iter_t it;
        cql_rows_iter_init(&it, r);
        cql_bytes_t cells[8];
        while (cql_rows_next(&it, cells) == 1) {
            int32_t v = (int32_t)cql_load_u32(cells[vc].ptr);
            if (v >= 0 && v < n)
                seen[v]++;
        }
        pages++;
        if (!(r->meta.flags & CQL_MF_HAS_MORE_PAGES))
            break;
        cr_assert_gt(r->meta.paging_state.len, 0);
        cr_assert_lt(r->meta.paging_state.len, (int32_t)sizeof state);
        slen = r->meta.paging_state.len;
        memcpy(state, r->meta.paging_state.ptr, (size_t)slen);
        if (between)
            between(pages);
    }
    T.s.node_index = 0;
    return pages;
}

static int extra = 100000;
static void insert_more(int page)
{
    (void)page;
    for (int i = 0; i < 7; i++, extra++)
        insert(extra % 97, extra, extra);
}

Test(nexec_paging, twenty_thousand_rows_in_pages_of_1000_are_each_seen_once)
{
    int n = 20000;
    for (int i = 0; i < n; i++)
        insert(i % 997, i, i);
    uint8_t *seen = calloc((size_t)n, 1);
    int pages = page_all("SELECT k, c, v FROM t", 1000, seen, n, NULL);
    cr_assert(pages == 20 || pages == 21, "%d pages", pages);
    for (int i = 0; i < n; i++)
        cr_assert_eq(seen[i], 1, "row %d seen %d times", i, seen[i]);
    /* again while other rows are inserted between pages */
    memset(seen, 0, (size_t)n);
    page_all("SELECT k, c, v FROM t", 1000, seen, n, insert_more);
    for (int i = 0; i < n; i++)
        cr_assert_eq(seen[i], 1, "row %d seen %d times while inserting", i, seen[i]);
    free(seen);
}

Test(nexec_paging, limit_and_in_lists_page_correctly)
{
    for (int i = 0; i < 50; i++)
        insert(i % 5, i, i);
    uint8_t seen[50] = {0};
    page_all("SELECT v FROM t LIMIT 23", 10, seen, 50, NULL);
    int total = 0;
    for (int i = 0; i < 50; i++)
        total += seen[i];
    cr_assert_eq(total, 23);
    memset(seen, 0, sizeof seen);
    page_all("SELECT v FROM t WHERE k IN (3, 1)", 4, seen, 50, NULL);
    for (int i = 0; i < 50; i++)
        cr_assert_eq(seen[i], (i % 5 == 1 || i % 5 == 3) ? 1 : 0, "v %d", i);
    memset(seen, 0, sizeof seen);
    page_all("SELECT v FROM t PER PARTITION LIMIT 2", 3, seen, 50, NULL);
    total = 0;
    for (int i = 0; i < 50; i++)
        total += seen[i];
    cr_assert_eq(total, 10);
}

Test(nexec_paging, garbage_paging_state_is_an_error_not_a_crash)
{
    for (int i = 0; i < 10; i++)
        insert(i, i, i);
    static const uint8_t junk[][12] = {{0}, {0xC7, 1, 0, 0}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                                       {0xC7, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0}};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        tx_params_t p;
        memset(&p, 0, sizeof p);
        p.page_size = 3;
        p.paging_state = (cql_bytes_t){junk[i], (int32_t)sizeof junk[i]};
        tx_err_p(&T, "SELECT * FROM t", &p, CQL_ERR_PROTOCOL_ERROR, "paging state");
    }
    /* a valid state with a corrupted store position */
    tx_params_t p;
    memset(&p, 0, sizeof p);
    p.page_size = 3;
    tx_ok_p(&T, "SELECT * FROM t", &p);
    const cql_result_rows_t *r = tx_rows(&T);
    cr_assert(r->meta.flags & CQL_MF_HAS_MORE_PAGES);
    uint8_t st[256];
    int32_t n = r->meta.paging_state.len;
    memcpy(st, r->meta.paging_state.ptr, (size_t)n);
    for (int32_t i = 15; i < n; i++) {
        uint8_t save = st[i];
        st[i] ^= 0x5a;
        p.paging_state = (cql_bytes_t){st, n};
        tx_query_p(&T, "SELECT * FROM t", &p); /* any answer, no crash */
        st[i] = save;
    }
}

Test(nexec_paging, count_ignores_paging)
{
    for (int i = 0; i < 30; i++)
        insert(i % 4, i, i);
    tx_params_t p;
    memset(&p, 0, sizeof p);
    p.page_size = 5;
    tx_ok_p(&T, "SELECT count(*) FROM t", &p);
    cr_assert_eq(tx_nrows(&T), 1);
    cr_assert_eq(tx_i64(tx_cell(&T, 0, 0)), 30);
    cr_assert_eq(tx_rows(&T)->meta.flags & CQL_MF_HAS_MORE_PAGES, 0);
}
