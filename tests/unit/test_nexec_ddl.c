/* The executor's schema statements: results, events, errors, system_schema. */
#include "test_nexec_util.h"

static tx_t T;
static void setup(void) { tx_init(&T); }
static void teardown(void) { tx_fini(&T); }

TestSuite(nexec_ddl, .init = setup, .fini = teardown);

Test(nexec_ddl, create_keyspace_answers_schema_change_and_fires_one_event)
{
    uint8_t before[16];
    memcpy(before, node_db_schema_version(T.db), 16);
    cr_assert_eq(tx_ok(&T, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
                           "'replication_factor': 1}"),
                 CQL_RESULT_SCHEMA_CHANGE);
    const cql_schema_change_t *sc = &T.resp.u.result.u.schema_change;
    cr_assert_eq(sc->change, CQL_SCHEMA_CREATED);
    cr_assert_eq(sc->target, CQL_TARGET_KEYSPACE);
    cr_assert(cql_str_eq(sc->keyspace, "ks"));
    cr_assert_eq(T.nevents, 1);
    cr_assert_str_eq(T.events[0], "CREATED KEYSPACE ks ");
    cr_assert_neq(memcmp(before, node_db_schema_version(T.db), 16), 0);
}

Test(nexec_ddl, existing_keyspace_is_already_exists_unless_if_not_exists)
{
    const char *q = "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}";
    tx_ok(&T, q);
    tx_err(&T, q, CQL_ERR_ALREADY_EXISTS, "Cannot add existing keyspace \"ks\"");
    cr_assert(cql_str_eq(T.resp.u.error.keyspace, "ks"));
    cr_assert_eq(tx_ok(&T, "CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': "
                           "'SimpleStrategy', 'replication_factor': 1}"),
                 CQL_RESULT_VOID);
    cr_assert_eq(T.nevents, 1);
}

Test(nexec_ddl, use_sets_the_session_keyspace_unquoted)
{
    tx_ok(&T, "CREATE KEYSPACE \"MyKs\" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    cr_assert_eq(tx_ok(&T, "USE \"MyKs\""), CQL_RESULT_SET_KEYSPACE);
    cr_assert(cql_str_eq(T.resp.u.result.u.keyspace, "MyKs"));
    cr_assert_str_eq(T.s.keyspace, "MyKs");
    tx_err(&T, "USE nope", CQL_ERR_INVALID, "Keyspace 'nope' does not exist");
}

Test(nexec_ddl, create_table_is_reflected_in_system_schema)
{
    tx_ok(&T, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    tx_ok(&T, "CREATE TABLE ks.t (a int, b text, c bigint, s int static, v map<text, int>, "
              "PRIMARY KEY ((a, b), c)) WITH CLUSTERING ORDER BY (c DESC) AND comment = 'hi'");
    cr_assert_str_eq(T.events[1], "CREATED TABLE ks t");
    tx_ok(&T, "SELECT * FROM system_schema.tables WHERE keyspace_name = 'ks' AND table_name = 't'");
    cr_assert_eq(tx_nrows(&T), 1);
    cr_assert(tx_str_is(tx_cell_n(&T, 0, "comment"), "hi"));
    cql_bytes_t flags = tx_cell_n(&T, 0, "flags");
    cr_assert_eq(flags.len, 4 + 4 + 8); /* {'compound'} */
    cr_assert_eq(tx_i32(tx_cell_n(&T, 0, "gc_grace_seconds")), 864000);

    tx_ok(&T, "SELECT column_name, kind, position, clustering_order, type FROM system_schema.columns "
              "WHERE keyspace_name = 'ks' AND table_name = 't'");
    cr_assert_eq(tx_nrows(&T), 5);
    /* clustering columns sort by name: a b c s v */
    cr_assert(tx_str_is(tx_cell(&T, 0, 0), "a"));
    cr_assert(tx_str_is(tx_cell(&T, 0, 1), "partition_key"));
    cr_assert_eq(tx_i32(tx_cell(&T, 1, 2)), 1);
    cr_assert(tx_str_is(tx_cell(&T, 2, 1), "clustering"));
    cr_assert(tx_str_is(tx_cell(&T, 2, 3), "desc"));
    cr_assert(tx_str_is(tx_cell(&T, 3, 1), "static"));
    cr_assert_eq(tx_i32(tx_cell(&T, 3, 2)), -1);
    cr_assert(tx_str_is(tx_cell(&T, 4, 4), "map<text, int>"));
}

Test(nexec_ddl, all_nine_schema_tables_and_virtual_ones_answer)
{
    static const char *names[] = {"keyspaces", "tables", "columns", "types", "functions",
                                  "aggregates", "triggers", "indexes", "views"};
    for (size_t i = 0; i < 9; i++) {
        char q[128];
        snprintf(q, sizeof q, "SELECT * FROM system_schema.%s", names[i]);
        tx_ok(&T, q);
        tx_rows(&T);
    }
    tx_ok(&T, "SELECT * from system_virtual_schema.keyspaces");
    tx_ok(&T, "SELECT * FROM system_schema.keyspaces WHERE keyspace_name = 'system'");
    cr_assert_eq(tx_nrows(&T), 1);
    tx_ok(&T, "SELECT keyspace_name FROM system_schema.keyspaces");
    cr_assert_geq(tx_nrows(&T), 5);
    for (int32_t i = 0; i < tx_nrows(&T); i++)
        cr_assert(!tx_str_is(tx_cell(&T, i, 0), "system_virtual_schema"));
}

Test(nexec_ddl, alter_drop_truncate_and_types)
{
    tx_ok(&T, "CREATE KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 3}");
    tx_ok(&T, "USE ks");
    tx_ok(&T, "CREATE TYPE addr (street text, zip int)");
    tx_ok(&T, "CREATE TABLE t (k int PRIMARY KEY, v int, a frozen<addr>)");
    tx_ok(&T, "ALTER TABLE t ADD w text");
    tx_ok(&T, "INSERT INTO t (k, v, w) VALUES (1, 2, 'x')");
    tx_ok(&T, "ALTER TABLE t DROP v");
    tx_ok(&T, "SELECT * FROM t");
    cr_assert_eq(tx_col(&T, "v"), -1);
    cr_assert_eq(tx_nrows(&T), 1);
    tx_ok(&T, "TRUNCATE t");
    tx_ok(&T, "SELECT * FROM t");
    cr_assert_eq(tx_nrows(&T), 0);
    tx_ok(&T, "SELECT field_names, field_types FROM system_schema.types WHERE keyspace_name = 'ks'");
    cr_assert_eq(tx_nrows(&T), 1);
    tx_err(&T, "DROP TYPE addr", CQL_ERR_INVALID, "still used");
    cr_assert_eq(tx_ok(&T, "DROP TABLE t"), CQL_RESULT_SCHEMA_CHANGE);
    tx_ok(&T, "DROP TYPE addr");
    tx_err(&T, "DROP TABLE t", CQL_ERR_INVALID, "doesn't exist");
    cr_assert_eq(tx_ok(&T, "DROP TABLE IF EXISTS t"), CQL_RESULT_VOID);
    tx_ok(&T, "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = 'ks'");
    cr_assert_eq(tx_nrows(&T), 1);
    cr_assert_eq(tx_ok(&T, "DROP KEYSPACE ks"), CQL_RESULT_SCHEMA_CHANGE);
    tx_ok(&T, "SELECT * FROM system_schema.tables WHERE keyspace_name = 'ks'");
    cr_assert_eq(tx_nrows(&T), 0);
}

Test(nexec_ddl, errors_name_the_missing_thing)
{
    tx_err(&T, "SELECT * FROM t", CQL_ERR_INVALID, "No keyspace has been specified");
    tx_err(&T, "SELECT * FROM nope.t", CQL_ERR_INVALID, "Keyspace 'nope' does not exist");
    tx_ok(&T, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    tx_err(&T, "SELECT * FROM ks.t", CQL_ERR_INVALID, "unconfigured table t");
    tx_ok(&T, "CREATE TABLE ks.t (k int PRIMARY KEY, v int)");
    tx_err(&T, "CREATE TABLE ks.t (k int PRIMARY KEY)", CQL_ERR_ALREADY_EXISTS, "already existing table");
    cr_assert(cql_str_eq(T.resp.u.error.name, "t"));
    tx_err(&T, "SELECT nope FROM ks.t", CQL_ERR_INVALID, "Undefined column name nope");
    tx_err(&T, "CREATE TABLE ks.u (k int, PRIMARY KEY (x))", CQL_ERR_INVALID, "Unknown definition x");
    tx_err(&T, "CREATE TABLE ks.u (k list<int> PRIMARY KEY)", CQL_ERR_INVALID, "non-frozen");
    tx_err(&T, "DROP KEYSPACE system", CQL_ERR_UNAUTHORIZED, NULL);
    tx_err(&T, "INSERT INTO system.local (key) VALUES ('x')", CQL_ERR_UNAUTHORIZED, NULL);
}

Test(nexec_ddl, syntax_errors_carry_the_parser_position)
{
    tx_err(&T, "SELECT * FROMM t", CQL_ERR_SYNTAX_ERROR, "line 1:");
}
