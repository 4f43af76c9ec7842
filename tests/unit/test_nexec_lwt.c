/* Lightweight transactions and batches: [applied] shapes, atomicity. */
#include "test_nexec_util.h"

static tx_t T;
static void setup(void)
{
    tx_init(&T);
    tx_ok(&T, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    tx_ok(&T, "USE ks");
    tx_ok(&T, "CREATE TABLE t (k int, c int, v int, w text, PRIMARY KEY (k, c))");
}
static void teardown(void) { tx_fini(&T); }

TestSuite(nexec_lwt, .init = setup, .fini = teardown);

static bool applied(void)
{
    cr_assert_eq(tx_col(&T, "[applied]"), 0);
    cql_bytes_t b = tx_cell(&T, 0, 0);
    cr_assert_eq(b.len, 1);
    return b.ptr[0] != 0;
}

Test(nexec_lwt, insert_if_not_exists_applies_once_then_shows_the_row)
{
    tx_ok(&T, "INSERT INTO t (k, c, v, w) VALUES (1, 1, 10, 'a') IF NOT EXISTS");
    cr_assert(applied());
    cr_assert_eq(tx_rows(&T)->meta.ncols, 1);
    tx_ok(&T, "INSERT INTO t (k, c, v, w) VALUES (1, 1, 20, 'b') IF NOT EXISTS");
    cr_assert(!applied());
    const cql_result_rows_t *r = tx_rows(&T);
    cr_assert_eq(r->meta.ncols, 5);
    cr_assert(cql_str_eq(r->meta.cols[1].name, "k"));
    cr_assert(cql_str_eq(r->meta.cols[2].name, "c"));
    cr_assert(cql_str_eq(r->meta.cols[3].name, "v"));
    cr_assert(cql_str_eq(r->meta.cols[4].name, "w"));
    cr_assert_eq(tx_i32(tx_cell(&T, 0, 3)), 10);
}

Test(nexec_lwt, conditional_update_shows_conditioned_columns_when_not_applied)
{
    tx_ok(&T, "INSERT INTO t (k, c, v, w) VALUES (1, 1, 10, 'a')");
    tx_ok(&T, "UPDATE t SET v = 11 WHERE k = 1 AND c = 1 IF v = 10");
    cr_assert(applied());
    tx_ok(&T, "UPDATE t SET v = 12 WHERE k = 1 AND c = 1 IF v = 10 AND w = 'a'");
    cr_assert(!applied());
    const cql_result_rows_t *r = tx_rows(&T);
    cr_assert_eq(r->meta.ncols, 3);
    cr_assert(cql_str_eq(r->meta.cols[1].name, "v"));
    cr_assert(cql_str_eq(r->meta.cols[2].name, "w"));
    cr_assert_eq(tx_i32(tx_cell(&T, 0, 1)), 11);
    tx_ok(&T, "UPDATE t SET v = 1 WHERE k = 9 AND c = 9 IF EXISTS");
    cr_assert(!applied());
    cr_assert_eq(tx_rows(&T)->meta.ncols, 1);
    tx_ok(&T, "DELETE FROM t WHERE k = 1 AND c = 1 IF EXISTS");
    cr_assert(applied());
    tx_ok(&T, "SELECT * FROM t");
    cr_assert_eq(tx_nrows(&T), 0);
    tx_ok(&T, "UPDATE t SET v = 1 WHERE k = 2 AND c = 2 IF v = null");
    cr_assert(applied());
}

Test(nexec_lwt, serial_reads_are_accepted)
{
    tx_params_t p;
    memset(&p, 0, sizeof p);
    p.consistency = CQL_CL_SERIAL;
    tx_ok_p(&T, "SELECT * FROM t WHERE k = 1", &p);
    cr_assert_eq(tx_nrows(&T), 0);
}

static void batch(uint8_t type, const char *const *qs, size_t n, bool expect_ok)
{
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_BATCH;
    m.u.batch.type = type;
    m.u.batch.nstmts = (uint16_t)n;
    __typeof__(m.u.batch.stmts[0]) st[8];
    memset(st, 0, sizeof st);
    for (size_t i = 0; i < n; i++) {
        st[i].kind = CQL_BATCH_KIND_QUERY;
        st[i].query = (cql_str_t){qs[i], strlen(qs[i])};
    }
    m.u.batch.stmts = st;
    m.u.batch.consistency = CQL_CL_ONE;
    int op = tx_exec(&T, CQL_OP_BATCH, &m);
    cr_assert_eq(op == CQL_OP_RESULT, expect_ok, "batch: %s", tx_errmsg(&T));
}

Test(nexec_lwt, batches_apply_all_or_nothing)
{
    const char *ok[] = {"INSERT INTO t (k, c, v) VALUES (1, 1, 1)", "INSERT INTO ks.t (k, c, v) VALUES (2, 2, 2)",
                        "UPDATE t SET w = 'x' WHERE k = 1 AND c = 1"};
    batch(CQL_BATCH_LOGGED, ok, 3, true);
    cr_assert_eq(T.resp.u.result.kind, CQL_RESULT_VOID);
    const char *bad[] = {"INSERT INTO t (k, c, v) VALUES (3, 3, 3)", "INSERT INTO t (k, nope) VALUES (4, 4)"};
    batch(CQL_BATCH_UNLOGGED, bad, 2, false);
    tx_ok(&T, "SELECT * FROM t");
    cr_assert_eq(tx_nrows(&T), 2);
    const char *sel[] = {"SELECT * FROM t"};
    batch(CQL_BATCH_LOGGED, sel, 1, false);
    /* the BEGIN BATCH text form */
    tx_ok(&T, "BEGIN UNLOGGED BATCH INSERT INTO t (k, c, v) VALUES (5, 5, 5); "
              "DELETE FROM t WHERE k = 1 AND c = 1; APPLY BATCH");
    tx_ok(&T, "SELECT k FROM t");
    cr_assert_eq(tx_nrows(&T), 2);
}

Test(nexec_lwt, conditional_batch_in_one_partition_is_all_or_nothing)
{
    tx_ok(&T, "INSERT INTO t (k, c, v) VALUES (1, 1, 1)");
    const char *qs[] = {"UPDATE t SET v = 2 WHERE k = 1 AND c = 1 IF v = 1",
                        "INSERT INTO t (k, c, v) VALUES (1, 2, 5) IF NOT EXISTS"};
    batch(CQL_BATCH_LOGGED, qs, 2, true);
    cr_assert(applied());
    batch(CQL_BATCH_LOGGED, qs, 2, true);
    cr_assert(!applied());
    cr_assert_geq(tx_rows(&T)->meta.ncols, 3);
    cr_assert_eq(tx_col(&T, "k"), 1);
    tx_ok(&T, "SELECT v FROM t WHERE k = 1");
    cr_assert_eq(tx_nrows(&T), 2);
    cr_assert_eq(tx_i32(tx_cell(&T, 0, 0)), 2);
    const char *span[] = {"UPDATE t SET v = 2 WHERE k = 1 AND c = 1 IF v = 1",
                          "UPDATE t SET v = 2 WHERE k = 2 AND c = 1 IF v = 1"};
    batch(CQL_BATCH_LOGGED, span, 2, false);
    cr_assert_eq(T.resp.u.error.code, CQL_ERR_INVALID);
}

Test(nexec_lwt, counter_batches_only_take_counters)
{
    tx_ok(&T, "CREATE TABLE n (k int PRIMARY KEY, c counter)");
    const char *qs[] = {"UPDATE n SET c = c + 1 WHERE k = 1", "UPDATE n SET c = c + 2 WHERE k = 1"};
    batch(CQL_BATCH_COUNTER, qs, 2, true);
    tx_ok(&T, "SELECT c FROM n WHERE k = 1");
    cr_assert_eq(tx_i64(tx_cell(&T, 0, 0)), 3);
    const char *mixed[] = {"UPDATE n SET c = c + 1 WHERE k = 1", "INSERT INTO t (k, c) VALUES (1, 1)"};
    batch(CQL_BATCH_COUNTER, mixed, 2, false);
    batch(CQL_BATCH_LOGGED, qs, 1, false);
}

Test(nexec_lwt, batch_with_prepared_statements_and_values)
{
    tx_prep_t p;
    tx_prepare(&T, "INSERT INTO t (k, c, v) VALUES (?, ?, ?)", &p);
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_BATCH;
    m.u.batch.type = CQL_BATCH_UNLOGGED;
    m.u.batch.nstmts = 2;
    __typeof__(m.u.batch.stmts[0]) st[2];
    memset(st, 0, sizeof st);
    tx_vals_t x = {0};
    tv_int(&x, 7);
    tv_int(&x, 1);
    tv_int(&x, 70);
    st[0].kind = CQL_BATCH_KIND_PREPARED;
    st[0].id = (cql_bytes_t){p.id, 16};
    st[0].nvalues = 3;
    st[0].values = x.v;
    st[1].kind = CQL_BATCH_KIND_QUERY;
    st[1].query = (cql_str_t){"INSERT INTO t (k, c, v) VALUES (?, 2, 71)", 41};
    st[1].nvalues = 1;
    st[1].values = x.v;
    m.u.batch.stmts = st;
    m.u.batch.flags = CQL_QF_DEFAULT_TIMESTAMP;
    m.u.batch.timestamp = 777;
    cr_assert_eq(tx_exec(&T, CQL_OP_BATCH, &m), CQL_OP_RESULT, "%s", tx_errmsg(&T));
    tx_ok(&T, "SELECT v, writetime(v) FROM t WHERE k = 7");
    cr_assert_eq(tx_nrows(&T), 2);
    cr_assert_eq(tx_i64(tx_cell(&T, 1, 1)), 777);
    uint8_t bogus[16] = {1};
    st[0].id = (cql_bytes_t){bogus, 16};
    cr_assert_eq(tx_exec(&T, CQL_OP_BATCH, &m), CQL_OP_ERROR);
    cr_assert_eq(T.resp.u.error.code, CQL_ERR_UNPREPARED);
}
