/* PREPARE / EXECUTE: ids, bind metadata, pk_indices, Unprepared, named values. */
#include "test_nexec_util.h"

static tx_t T;
static void setup(void)
{
    tx_init(&T);
    tx_ok(&T, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    tx_ok(&T, "USE ks");
    tx_ok(&T, "CREATE TABLE t (a int, b text, c int, v bigint, PRIMARY KEY ((a, b), c))");
}
static void teardown(void) { tx_fini(&T); }

TestSuite(nexec_prepared, .init = setup, .fini = teardown);

Test(nexec_prepared, insert_metadata_names_types_and_partition_key_indices)
{
    tx_prep_t p;
    tx_prepare(&T, "INSERT INTO t (v, c, b, a) VALUES (?, ?, ?, ?) USING TTL ?", &p);
    cr_assert_eq(p.nbind, 5);
    cr_assert(cql_str_eq(p.bind.cols[0].name, "v"));
    cr_assert_eq(p.bind.cols[0].type->kind, CQL_TYPE_BIGINT);
    cr_assert(cql_str_eq(p.bind.cols[2].name, "b"));
    cr_assert_eq(p.bind.cols[2].type->kind, CQL_TYPE_VARCHAR);
    cr_assert(cql_str_eq(p.bind.cols[4].name, "[ttl]"));
    cr_assert(cql_str_eq(p.bind.keyspace, "ks"));
    cr_assert(cql_str_eq(p.bind.table, "t"));
    cr_assert_eq(p.npk, 2);
    cr_assert_eq(p.pk[0], 3);
    cr_assert_eq(p.pk[1], 2);
    cr_assert_eq(p.ncols_result, 0);
}

Test(nexec_prepared, select_metadata_and_special_marker_names)
{
    tx_prep_t p;
    tx_prepare(&T, "SELECT v, c FROM t WHERE a = ? AND b = ? AND c IN ? AND token(a, b) > ? LIMIT ?", &p);
    cr_assert_eq(p.nbind, 5);
    cr_assert(cql_str_eq(p.bind.cols[2].name, "in(c)"));
    cr_assert_eq(p.bind.cols[2].type->kind, CQL_TYPE_LIST);
    cr_assert(cql_str_eq(p.bind.cols[3].name, "partition key token"));
    cr_assert(cql_str_eq(p.bind.cols[4].name, "[limit]"));
    cr_assert_eq(p.npk, 2);
    cr_assert_eq(p.pk[0], 0);
    cr_assert_eq(p.pk[1], 1);
    cr_assert_eq(p.ncols_result, 2);
}

Test(nexec_prepared, execute_runs_and_ids_are_md5_of_keyspace_and_query)
{
    tx_prep_t p1, p2;
    tx_prepare(&T, "INSERT INTO t (a, b, c, v) VALUES (?, ?, ?, ?)", &p1);
    tx_prepare(&T, "INSERT INTO t (a, b, c, v) VALUES (?, ?, ?, ?)", &p2);
    cr_assert_eq(memcmp(p1.id, p2.id, 16), 0);
    /* md5("ks" + query), computed independently with python's hashlib */
    static const uint8_t want[16] = {0x53, 0xfa, 0xc5, 0xda, 0x28, 0x6c, 0x25, 0x9f,
                                     0xb7, 0x71, 0x2c, 0xac, 0x3c, 0x1d, 0x4a, 0xd5};
    cr_assert_eq(memcmp(p1.id, want, 16), 0);
    tx_vals_t x = {0};
    tv_int(&x, 1);
    tv_text(&x, "x");
    tv_int(&x, 2);
    tv_bigint(&x, 3);
    tx_params_t prm = tv_params(&x);
    cr_assert_eq(tx_execute(&T, p1.id, &prm), CQL_OP_RESULT, "%s", tx_errmsg(&T));
    cr_assert_eq(T.resp.u.result.kind, CQL_RESULT_VOID);
    tx_ok(&T, "SELECT v FROM t WHERE a = 1 AND b = 'x' AND c = 2");
    cr_assert_eq(tx_i64(tx_cell(&T, 0, 0)), 3);
    cr_assert_str_eq(node_db_prepared_query(T.db, 0, p1.id, 16),
                     "INSERT INTO t (a, b, c, v) VALUES (?, ?, ?, ?)");
}

Test(nexec_prepared, unknown_or_forgotten_ids_are_unprepared_with_the_id)
{
    tx_prep_t p;
    tx_prepare(&T, "SELECT * FROM t", &p);
    node_db_forget_prepared(T.db, 0);
    cr_assert_eq(tx_execute(&T, p.id, NULL), CQL_OP_ERROR);
    cr_assert_eq(T.resp.u.error.code, CQL_ERR_UNPREPARED);
    cr_assert_eq(T.resp.u.error.id.len, 16);
    cr_assert_eq(memcmp(T.resp.u.error.id.ptr, p.id, 16), 0);
    /* prepared on node 0 only: node 1 does not know it */
    tx_prepare(&T, "SELECT * FROM t", &p);
    T.s.node_index = 1;
    cr_assert_eq(tx_execute(&T, p.id, NULL), CQL_OP_ERROR);
    cr_assert_eq(T.resp.u.error.code, CQL_ERR_UNPREPARED);
    T.s.node_index = 0;
    cr_assert_eq(tx_execute(&T, p.id, NULL), CQL_OP_RESULT);
}

Test(nexec_prepared, named_values_bind_by_column_name)
{
    tx_vals_t x = {0};
    tv_bigint(&x, 9);
    tv_int(&x, 1);
    tv_text(&x, "y");
    tv_int(&x, 4);
    tx_params_t prm = tv_params(&x);
    static const char *names[] = {"v", "a", "b", "c"};
    prm.names = names;
    tx_ok_p(&T, "INSERT INTO t (a, b, c, v) VALUES (:a, :b, ?, :v)", &prm);
    tx_ok(&T, "SELECT v FROM t WHERE a = 1 AND b = 'y' AND c = 4");
    cr_assert_eq(tx_nrows(&T), 1);
    cr_assert_eq(tx_i64(tx_cell(&T, 0, 0)), 9);
}

Test(nexec_prepared, prepare_of_bad_statements_fails_like_execution)
{
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_PREPARE;
    m.u.prepare = (cql_str_t){"SELECT * FROM nope", 18};
    cr_assert_eq(tx_exec(&T, CQL_OP_PREPARE, &m), CQL_OP_ERROR);
    cr_assert_eq(T.resp.u.error.code, CQL_ERR_INVALID);
    m.u.prepare = (cql_str_t){"SELEC 1", 7};
    cr_assert_eq(tx_exec(&T, CQL_OP_PREPARE, &m), CQL_OP_ERROR);
    cr_assert_eq(T.resp.u.error.code, CQL_ERR_SYNTAX_ERROR);
}

Test(nexec_prepared, protocol_v3_sessions_get_v3_metadata)
{
    tx_fini(&T);
    tx_init_v(&T, 3);
    tx_ok(&T, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    tx_ok(&T, "CREATE TABLE ks.t (k int PRIMARY KEY, v int)");
    tx_prep_t p;
    tx_prepare(&T, "SELECT v FROM ks.t WHERE k = ?", &p);
    cr_assert_eq(p.nbind, 1);
    cr_assert_eq(p.npk, 0);
    tx_ok(&T, "SELECT * FROM system.local");
    cr_assert_eq(tx_nrows(&T), 1);
}
