/* The executor's writes and reads: every type, values, TTL, collections,
 * counters, deletes, filtering rules. */
#include "test_nexec_util.h"

#include "node_store.h"

static tx_t T;
static void setup(void)
{
    tx_init(&T);
    tx_ok(&T, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    tx_ok(&T, "USE ks");
}
static void teardown(void) { tx_fini(&T); }

TestSuite(nexec_dml, .init = setup, .fini = teardown);

/* Inserts a literal of `type`, reads it back, and compares with `bytes`. */
static void roundtrip(const char *type, const char *literal, const uint8_t *bytes, int32_t n)
{
    char q[512];
    tx_ok(&T, "DROP TABLE IF EXISTS rt");
    snprintf(q, sizeof q, "CREATE TABLE rt (k int PRIMARY KEY, v %s)", type);
    tx_ok(&T, q);
    snprintf(q, sizeof q, "INSERT INTO rt (k, v) VALUES (1, %s)", literal);
    tx_ok(&T, q);
    tx_ok(&T, "SELECT v FROM rt WHERE k = 1");
    cr_assert_eq(tx_nrows(&T), 1, "%s", type);
    cql_bytes_t v = tx_cell(&T, 0, 0);
    cr_assert_eq(v.len, n, "%s %s: %d bytes, expected %d", type, literal, v.len, n);
    cr_assert(n == 0 || memcmp(v.ptr, bytes, (size_t)n) == 0, "%s %s: wrong bytes", type, literal);
    /* the same value bound as a marker round-trips too */
    tx_vals_t x = {0};
    tv_int(&x, 2);
    tv_raw(&x, bytes, n);
    tx_params_t p = tv_params(&x);
    tx_ok_p(&T, "INSERT INTO rt (k, v) VALUES (?, ?)", &p);
    tx_ok(&T, "SELECT v FROM rt WHERE k = 2");
    v = tx_cell(&T, 0, 0);
    cr_assert(v.len == n && (n == 0 || memcmp(v.ptr, bytes, (size_t)n) == 0), "%s bound", type);
}

#define RT(type, lit, ...)                                                 \
    do {                                                                   \
        static const uint8_t b_[] = {__VA_ARGS__};                         \
        roundtrip(type, lit, b_, (int32_t)sizeof b_);                      \
    } while (0)

Test(nexec_dml, every_native_type_round_trips_from_literals_and_markers)
{
    RT("int", "-2", 0xff, 0xff, 0xff, 0xfe);
    RT("bigint", "1", 0, 0, 0, 0, 0, 0, 0, 1);
    RT("smallint", "258", 1, 2);
    RT("tinyint", "-1", 0xff);
    RT("boolean", "true", 1);
    RT("text", "'hé'", 'h', 0xc3, 0xa9);
    RT("ascii", "'ab'", 'a', 'b');
    RT("blob", "0xcafe", 0xca, 0xfe);
    RT("double", "1.5", 0x3f, 0xf8, 0, 0, 0, 0, 0, 0);
    RT("float", "1.5", 0x3f, 0xc0, 0, 0);
    RT("varint", "-129", 0xff, 0x7f);
    RT("varint", "123456789012345678901234567890", 0x01, 0x8e, 0xe9, 0x0f, 0xf6, 0xc3, 0x73, 0xe0,
       0xee, 0x4e, 0x3f, 0x0a, 0xd2);
    RT("decimal", "1.50", 0, 0, 0, 2, 0, 150);
    RT("timestamp", "'1970-01-01 00:00:01+0000'", 0, 0, 0, 0, 0, 0, 0x03, 0xe8);
    RT("timestamp", "1000", 0, 0, 0, 0, 0, 0, 0x03, 0xe8);
    RT("date", "'1970-01-02'", 0x80, 0, 0, 1);
    RT("time", "'00:00:01'", 0, 0, 0, 0, 0x3b, 0x9a, 0xca, 0x00);
    RT("inet", "'10.0.0.1'", 10, 0, 0, 1);
    RT("uuid", "00000000-0000-4000-8000-000000000001", 0, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0,
       0, 1);
    RT("duration", "1d", 0, 2, 0);
    RT("list<int>", "[1, 2]", 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2);
    RT("set<int>", "{2, 1, 2}", 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2);
    RT("map<text, int>", "{'b': 2, 'a': 1}", 0, 0, 0, 2, 0, 0, 0, 1, 'a', 0, 0, 0, 4, 0, 0, 0, 1, 0, 0,
       0, 1, 'b', 0, 0, 0, 4, 0, 0, 0, 2);
    RT("frozen<tuple<int, text>>", "(1, 'x')", 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1, 'x');
}

Test(nexec_dml, udt_literals_fill_missing_fields_with_null)
{
    tx_ok(&T, "CREATE TYPE addr (street text, zip int)");
    static const uint8_t b[] = {0, 0, 0, 1, 'x', 0xff, 0xff, 0xff, 0xff};
    roundtrip("frozen<addr>", "{street: 'x'}", b, sizeof b);
    tx_err(&T, "INSERT INTO rt (k, v) VALUES (3, {nope: 1})", CQL_ERR_INVALID, "Unknown field 'nope'");
    tx_ok(&T, "SELECT v.zip FROM rt WHERE k = 1");
    cr_assert_eq(tx_cell(&T, 0, 0).len, -1);
}

Test(nexec_dml, bad_literals_and_bound_values_get_cassandra_messages)
{
    tx_ok(&T, "CREATE TABLE t (k int PRIMARY KEY, v int)");
    tx_err(&T, "INSERT INTO t (k, v) VALUES ('abc', 1)", CQL_ERR_INVALID,
           "Invalid STRING constant (abc) for \"k\" of type int");
    tx_vals_t x = {0};
    tv_int(&x, 1);
    tv_raw(&x, "abc", 3);
    tx_params_t p = tv_params(&x);
    tx_err_p(&T, "INSERT INTO t (k, v) VALUES (?, ?)", &p, CQL_ERR_INVALID, "Expected 4 or 0 byte int (3)");
    x.n = 1;
    p = tv_params(&x);
    tx_err_p(&T, "INSERT INTO t (k, v) VALUES (?, ?)", &p, CQL_ERR_INVALID, "bind variables");
    tx_err(&T, "INSERT INTO t (v) VALUES (1)", CQL_ERR_INVALID, "Some partition key parts are missing: k");
    tx_err(&T, "INSERT INTO t (k, nope) VALUES (1, 1)", CQL_ERR_INVALID, "Undefined column name nope");
}

Test(nexec_dml, unset_values_leave_columns_unchanged)
{
    tx_ok(&T, "CREATE TABLE t (k int PRIMARY KEY, a int, b int)");
    tx_ok(&T, "INSERT INTO t (k, a, b) VALUES (1, 10, 20)");
    tx_vals_t x = {0};
    tv_int(&x, 1);
    tv_int(&x, 11);
    tv_raw(&x, NULL, CQL_BYTES_NOT_SET);
    tx_params_t p = tv_params(&x);
    tx_ok_p(&T, "INSERT INTO t (k, a, b) VALUES (?, ?, ?)", &p);
    tx_ok(&T, "SELECT a, b FROM t WHERE k = 1");
    cr_assert_eq(tx_i32(tx_cell(&T, 0, 0)), 11);
    cr_assert_eq(tx_i32(tx_cell(&T, 0, 1)), 20);
}

Test(nexec_dml, ttl_expires_with_the_clock_and_writetime_is_reported)
{
    tx_ok(&T, "CREATE TABLE t (k int PRIMARY KEY, v int, w int)");
    tx_ok(&T, "INSERT INTO t (k, v) VALUES (1, 1) USING TTL 10");
    tx_ok(&T, "INSERT INTO t (k, w) VALUES (2, 2) USING TIMESTAMP 1234");
    tx_ok(&T, "SELECT ttl(v), writetime(v) FROM t WHERE k = 1");
    cr_assert(tx_col(&T, "ttl(v)") == 0 && tx_col(&T, "writetime(v)") == 1);
    cr_assert_eq(tx_i32(tx_cell(&T, 0, 0)), 10);
    cr_assert_eq(tx_i64(tx_cell(&T, 0, 1)), T.now_us);
    tx_ok(&T, "SELECT writetime(w), ttl(w) FROM t WHERE k = 2");
    cr_assert_eq(tx_i64(tx_cell(&T, 0, 0)), 1234);
    cr_assert_eq(tx_cell(&T, 0, 1).len, -1);
    T.now_us += 11 * 1000000;
    tx_ok(&T, "SELECT * FROM t WHERE k = 1");
    cr_assert_eq(tx_nrows(&T), 0);
    tx_err(&T, "INSERT INTO t (k, v) VALUES (1, 1) USING TTL -1", CQL_ERR_INVALID, "TTL must be greater");
}

Test(nexec_dml, collections_update_in_place)
{
    tx_ok(&T, "CREATE TABLE t (k int PRIMARY KEY, l list<int>, s set<text>, m map<text, int>)");
    tx_ok(&T, "UPDATE t SET l = [1], s = {'a'}, m = {'x': 1} WHERE k = 1");
    tx_ok(&T, "UPDATE t SET l = l + [2], l = [0] + l, s = s + {'b'}, m['y'] = 2 WHERE k = 1");
    tx_ok(&T, "SELECT l, s, m FROM t WHERE k = 1");
    cr_assert_eq(tx_cell(&T, 0, 0).len, 4 + 3 * 8);
    cr_assert_eq(tx_cell(&T, 0, 1).len, 4 + 2 * 5);
    cr_assert_eq(tx_cell(&T, 0, 2).len, 4 + 2 * (5 + 8));
    tx_ok(&T, "UPDATE t SET l = l - [0], s = s - {'a'}, m = m - {'x'} WHERE k = 1");
    tx_ok(&T, "DELETE m['y'] FROM t WHERE k = 1");
    tx_ok(&T, "SELECT l, s, m FROM t WHERE k = 1");
    cr_assert_eq(tx_cell(&T, 0, 0).len, 4 + 2 * 8);
    cr_assert_eq(tx_cell(&T, 0, 1).len, 4 + 5);
    cr_assert_eq(tx_cell(&T, 0, 2).len, -1);
    tx_ok(&T, "UPDATE t SET l[0] = 7 WHERE k = 1");
    tx_err(&T, "UPDATE t SET l[5] = 7 WHERE k = 1", CQL_ERR_INVALID, "out of bound");
    tx_ok(&T, "SELECT * FROM t WHERE l CONTAINS 7 ALLOW FILTERING");
    cr_assert_eq(tx_nrows(&T), 1);
}

Test(nexec_dml, counters_add_and_subtract)
{
    tx_ok(&T, "CREATE TABLE c (k int PRIMARY KEY, n counter)");
    tx_ok(&T, "UPDATE c SET n = n + 5 WHERE k = 1");
    tx_ok(&T, "UPDATE c SET n = n - 2 WHERE k = 1");
    tx_ok(&T, "SELECT n FROM c WHERE k = 1");
    cr_assert_eq(tx_i64(tx_cell(&T, 0, 0)), 3);
    tx_err(&T, "UPDATE c SET n = 1 WHERE k = 1", CQL_ERR_INVALID, "Cannot set the value of counter");
    tx_err(&T, "INSERT INTO c (k, n) VALUES (1, 1)", CQL_ERR_INVALID, "counter tables");
}

Test(nexec_dml, deletes_of_rows_ranges_partitions_and_columns)
{
    tx_ok(&T, "CREATE TABLE t (k int, c int, v int, PRIMARY KEY (k, c))");
    for (int i = 0; i < 10; i++) {
        char q[128];
        snprintf(q, sizeof q, "INSERT INTO t (k, c, v) VALUES (1, %d, %d)", i, i);
        tx_ok(&T, q);
    }
    tx_ok(&T, "DELETE FROM t WHERE k = 1 AND c = 0");
    tx_ok(&T, "DELETE FROM t WHERE k = 1 AND c >= 7");
    tx_ok(&T, "DELETE v FROM t WHERE k = 1 AND c = 3");
    tx_ok(&T, "SELECT c, v FROM t WHERE k = 1");
    cr_assert_eq(tx_nrows(&T), 6);
    cr_assert_eq(tx_i32(tx_cell(&T, 0, 0)), 1);
    cr_assert_eq(tx_cell(&T, 2, 1).len, -1);
    tx_ok(&T, "SELECT c FROM t WHERE k = 1 AND c > 2 AND c <= 5 ORDER BY c DESC");
    cr_assert_eq(tx_nrows(&T), 3);
    cr_assert_eq(tx_i32(tx_cell(&T, 0, 0)), 5);
    tx_ok(&T, "SELECT c FROM t WHERE k = 1 AND (c) > (4)");
    cr_assert_eq(tx_nrows(&T), 2);
    tx_ok(&T, "DELETE FROM t WHERE k = 1");
    tx_ok(&T, "SELECT * FROM t");
    cr_assert_eq(tx_nrows(&T), 0);
}

Test(nexec_dml, filtering_requires_allow_filtering)
{
    tx_ok(&T, "CREATE TABLE t (k int, c int, v int, PRIMARY KEY (k, c))");
    tx_ok(&T, "INSERT INTO t (k, c, v) VALUES (1, 1, 5)");
    tx_ok(&T, "INSERT INTO t (k, c, v) VALUES (2, 1, 6)");
    tx_err(&T, "SELECT * FROM t WHERE v = 5", CQL_ERR_INVALID,
           "Cannot execute this query as it might involve data filtering and thus may have "
           "unpredictable performance. If you want to execute this query despite the performance "
           "unpredictability, use ALLOW FILTERING");
    tx_err(&T, "SELECT * FROM t WHERE c = 1", CQL_ERR_INVALID, "ALLOW FILTERING");
    tx_ok(&T, "SELECT * FROM t WHERE v = 5 ALLOW FILTERING");
    cr_assert_eq(tx_nrows(&T), 1);
    tx_ok(&T, "SELECT * FROM t WHERE k = 1 AND c = 1");
    cr_assert_eq(tx_nrows(&T), 1);
}

Test(nexec_dml, select_forms_count_distinct_token_in_limits)
{
    tx_ok(&T, "CREATE TABLE t (k int, c int, s int static, v int, PRIMARY KEY (k, c))");
    for (int k = 0; k < 5; k++)
        for (int c = 0; c < 3; c++) {
            char q[128];
            snprintf(q, sizeof q, "INSERT INTO t (k, c, s, v) VALUES (%d, %d, %d, %d)", k, c, k, c);
            tx_ok(&T, q);
        }
    tx_ok(&T, "SELECT COUNT(*) FROM t");
    cr_assert_eq(tx_col(&T, "count"), 0);
    cr_assert_eq(tx_i64(tx_cell(&T, 0, 0)), 15);
    tx_ok(&T, "SELECT count(1) FROM t WHERE k = 2");
    cr_assert_eq(tx_i64(tx_cell(&T, 0, 0)), 3);
    tx_ok(&T, "SELECT DISTINCT k, s FROM t");
    cr_assert_eq(tx_nrows(&T), 5);
    tx_ok(&T, "SELECT k, token(k) FROM t PER PARTITION LIMIT 1");
    cr_assert_eq(tx_nrows(&T), 5);
    int64_t prev = INT64_MIN;
    for (int i = 0; i < 5; i++) {
        int64_t tok = tx_i64(tx_cell(&T, i, 1));
        cr_assert_gt(tok, prev);
        prev = tok;
    }
    tx_ok(&T, "SELECT k FROM t WHERE k IN (4, 1, 4) AND c = 0");
    cr_assert_eq(tx_nrows(&T), 2);
    tx_ok(&T, "SELECT * FROM t LIMIT 4");
    cr_assert_eq(tx_nrows(&T), 4);
    tx_ok(&T, "SELECT k AS key FROM t WHERE token(k) > -9223372036854775807 LIMIT 1");
    cr_assert_eq(tx_col(&T, "key"), 0);
    tx_ok(&T, "SELECT max(v), min(v) FROM t WHERE k = 1");
    cr_assert_eq(tx_i32(tx_cell(&T, 0, 0)), 2);
    cr_assert_eq(tx_i32(tx_cell(&T, 0, 1)), 0);
    tx_err(&T, "SELECT * FROM t LIMIT 0", CQL_ERR_INVALID, "LIMIT must be strictly positive");
}

Test(nexec_dml, static_only_partitions_appear_as_rows)
{
    tx_ok(&T, "CREATE TABLE t (k int, c int, s int static, v int, PRIMARY KEY (k, c))");
    tx_ok(&T, "UPDATE t SET s = 3 WHERE k = 9");
    tx_ok(&T, "SELECT k, c, s FROM t");
    cr_assert_eq(tx_nrows(&T), 1);
    cr_assert_eq(tx_cell(&T, 0, 1).len, -1);
    cr_assert_eq(tx_i32(tx_cell(&T, 0, 2)), 3);
}

Test(nexec_dml, housekeeping_frees_expired_rows_nobody_reads)
{
    tx_ok(&T, "CREATE TABLE t (k int PRIMARY KEY, v text)");
    for (int i = 0; i < 200; i++) {
        char q[128];
        snprintf(q, sizeof q, "INSERT INTO t (k, v) VALUES (%d, 'payload') USING TTL 5", i);
        tx_ok(&T, q);
    }
    node_store_stats_t before, after;
    node_store_stats(node_db_store(T.db), NULL, &before);
    cr_assert_geq(before.rows, 200);
    /* Before expiry, housekeeping keeps everything. */
    node_db_housekeep(T.db, 1000);
    node_store_stats(node_db_store(T.db), NULL, &after);
    cr_assert_eq(after.rows, before.rows);
    T.now_us += 6 * 1000000;
    for (int round = 0; round < 4; round++)
        node_db_housekeep(T.db, 1000);
    node_store_stats(node_db_store(T.db), NULL, &after);
    cr_assert_lt(after.rows, before.rows - 199, "expired rows stay in memory: %llu",
                 (unsigned long long)after.rows);
    cr_assert_lt(after.bytes, before.bytes);
}
