/* system.local / peers / peers_v2 from the topology, with the types drivers assert. */
#include "test_nexec_util.h"

static tx_t T;
static void setup(void) { tx_init(&T); }
static void teardown(void) { tx_fini(&T); }

TestSuite(nexec_system, .init = setup, .fini = teardown);

static cql_type_kind_t kind_of(const char *col)
{
    int c = tx_col(&T, col);
    cr_assert(c >= 0, "no column %s", col);
    return tx_rows(&T)->meta.cols[c].type->kind;
}

Test(nexec_system, local_describes_the_session_node_with_driver_types)
{
    T.s.node_index = 1;
    tx_ok(&T, "SELECT * FROM system.local WHERE key='local'");
    cr_assert_eq(tx_nrows(&T), 1);
    cr_assert(tx_str_is(tx_cell_n(&T, 0, "cluster_name"), "test cluster"));
    cr_assert(tx_str_is(tx_cell_n(&T, 0, "bootstrapped"), "COMPLETED"));
    cr_assert(tx_str_is(tx_cell_n(&T, 0, "partitioner"), "org.apache.cassandra.dht.Murmur3Partitioner"));
    cr_assert(tx_str_is(tx_cell_n(&T, 0, "data_center"), "dc1"));
    cr_assert(tx_str_is(tx_cell_n(&T, 0, "release_version"), "4.0.11"));
    cql_bytes_t addr = tx_cell_n(&T, 0, "rpc_address");
    cr_assert(addr.len == 4 && addr.ptr[0] == 127 && addr.ptr[3] == 2);
    cql_bytes_t hid = tx_cell_n(&T, 0, "host_id");
    cr_assert(hid.len == 16 && memcmp(hid.ptr, T.nodes[1].host_id, 16) == 0);
    cql_bytes_t sv = tx_cell_n(&T, 0, "schema_version");
    cr_assert(sv.len == 16 && memcmp(sv.ptr, node_db_schema_version(T.db), 16) == 0);
    cr_assert_eq(tx_i32(tx_cell_n(&T, 0, "rpc_port")), 9042);
    cr_assert_eq(kind_of("host_id"), CQL_TYPE_UUID);
    cr_assert_eq(kind_of("schema_version"), CQL_TYPE_UUID);
    cr_assert_eq(kind_of("tokens"), CQL_TYPE_SET);
    cr_assert_eq(kind_of("rpc_address"), CQL_TYPE_INET);
    cr_assert_eq(kind_of("data_center"), CQL_TYPE_VARCHAR);
    /* tokens: set<text> of decimal strings, two of them */
    cql_bytes_t tok = tx_cell_n(&T, 0, "tokens");
    cr_assert_eq(cql_load_u32(tok.ptr), 2);
    tx_ok(&T, "SELECT schema_version FROM system.local");
    cr_assert_eq(tx_nrows(&T), 1);
    tx_ok(&T, "SELECT rpc_address FROM system.local WHERE key='local'");
    cr_assert_eq(tx_rows(&T)->meta.ncols, 1);
}

Test(nexec_system, peers_list_every_other_node_never_itself)
{
    T.s.node_index = 2;
    tx_ok(&T, "SELECT * FROM system.peers");
    cr_assert_eq(tx_nrows(&T), 2);
    for (int i = 0; i < 2; i++)
        cr_assert_neq(tx_cell_n(&T, i, "peer").ptr[3], 3);
    cr_assert_eq(kind_of("peer"), CQL_TYPE_INET);
    tx_ok(&T, "SELECT host_id, peer, peer_port, native_address, native_port, schema_version FROM system.peers_v2");
    cr_assert_eq(tx_nrows(&T), 2);
    cr_assert_eq(kind_of("native_port"), CQL_TYPE_INT);
    cr_assert_eq(tx_i32(tx_cell_n(&T, 0, "native_port")), 9042);
    cr_assert_eq(tx_i32(tx_cell_n(&T, 0, "peer_port")), 7000);
    tx_ok(&T, "SELECT * FROM system.peers WHERE peer = '127.0.0.1'");
    cr_assert_eq(tx_nrows(&T), 1);
}

Test(nexec_system, schema_version_follows_ddl_everywhere)
{
    tx_ok(&T, "CREATE KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': '3'}");
    tx_ok(&T, "SELECT schema_version FROM system.peers");
    for (int i = 0; i < tx_nrows(&T); i++)
        cr_assert_eq(memcmp(tx_cell(&T, i, 0).ptr, node_db_schema_version(T.db), 16), 0);
    tx_ok(&T, "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = 'ks'");
    cql_bytes_t m = tx_cell(&T, 0, 0);
    cr_assert_eq(cql_load_u32(m.ptr), 2); /* class, dc1 */
    const char *cls = "org.apache.cassandra.locator.NetworkTopologyStrategy";
    cr_assert(memmem(m.ptr, (size_t)m.len, cls, strlen(cls)) != NULL);
}

Test(nexec_system, schema_tables_answer_bound_filters)
{
    tx_ok(&T, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    tx_ok(&T, "CREATE TABLE ks.t (k int PRIMARY KEY, v text)");
    tx_vals_t x = {0};
    tv_text(&x, "ks");
    tv_text(&x, "t");
    tx_params_t p = tv_params(&x);
    tx_ok_p(&T, "SELECT * FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?", &p);
    cr_assert_eq(tx_nrows(&T), 2);
    tx_ok_p(&T, "SELECT * FROM system_schema.triggers WHERE keyspace_name = ? AND table_name = ?", &p);
    cr_assert_eq(tx_nrows(&T), 0);
    tx_ok(&T, "SELECT * FROM system_schema.functions WHERE keyspace_name = 'ks' AND function_name = 'f' AND argument_types = ['int']");
    cr_assert_eq(tx_nrows(&T), 0);
    tx_ok(&T, "select * from system_schema.tables where keyspace_name='ks' and table_name='t';");
    cr_assert_eq(tx_nrows(&T), 1);
    cr_assert_eq(kind_of("id"), CQL_TYPE_UUID);
}
