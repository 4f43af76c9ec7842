/*
 * nx_systab: the system keyspaces and the node-local system tables.
 *
 * At node_db_new the system keyspaces (system, system_schema, system_auth,
 * system_distributed, system_traces, system_virtual_schema) and their tables
 * are created as ordinary catalog entries from the CQL below, with the
 * columns and types Cassandra 4.0 has, so every projection and WHERE form
 * works through the normal SELECT path and the result metadata carries the
 * right types. Clients cannot write them.
 *
 * system.local / system.peers / system.peers_v2 differ per node: they are
 * rewritten from the topology for the session's node just before a SELECT
 * reads them (a few rows; removed nodes are skipped, so a topology change
 * shows at the next read). system_schema.* is regenerated from the catalog
 * when the catalog changed since the last generation (nx_schematab.c).
 */
#include <stdio.h>
#include <string.h>

#include "nx_int.h"

static const char *const SYSTEM_DDL[] = {
    "CREATE KEYSPACE system WITH replication = {'class': 'LocalStrategy'}",
    "CREATE KEYSPACE system_schema WITH replication = {'class': 'LocalStrategy'}",
    "CREATE KEYSPACE system_auth WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '1'}",
    "CREATE KEYSPACE system_distributed WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '3'}",
    "CREATE KEYSPACE system_traces WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '2'}",
    "CREATE KEYSPACE system_virtual_schema WITH replication = {'class': 'LocalStrategy'}",
    "CREATE TABLE system.local (key text PRIMARY KEY, bootstrapped text, broadcast_address inet, "
    "broadcast_port int, cluster_name text, cql_version text, data_center text, "
    "gossip_generation int, host_id uuid, listen_address inet, listen_port int, "
    "native_protocol_version text, partitioner text, rack text, release_version text, "
    "rpc_address inet, rpc_port int, schema_version uuid, tokens set<text>, "
    "truncated_at map<uuid, blob>)",
    "CREATE TABLE system.peers (peer inet PRIMARY KEY, data_center text, host_id uuid, "
    "preferred_ip inet, rack text, release_version text, rpc_address inet, schema_version uuid, "
    "tokens set<text>)",
    "CREATE TABLE system.peers_v2 (peer inet, peer_port int, data_center text, host_id uuid, "
    "native_address inet, native_port int, preferred_ip inet, preferred_port int, rack text, "
    "release_version text, schema_version uuid, tokens set<text>, PRIMARY KEY ((peer), peer_port))",
    "CREATE TABLE system_schema.keyspaces (keyspace_name text PRIMARY KEY, durable_writes boolean, "
    "replication frozen<map<text, text>>)",
    "CREATE TABLE system_schema.tables (keyspace_name text, table_name text, "
    "additional_write_policy text, bloom_filter_fp_chance double, caching frozen<map<text, text>>, "
    "cdc boolean, comment text, compaction frozen<map<text, text>>, "
    "compression frozen<map<text, text>>, crc_check_chance double, default_time_to_live int, "
    "extensions frozen<map<text, blob>>, flags frozen<set<text>>, gc_grace_seconds int, id uuid, "
    "max_index_interval int, memtable_flush_period_in_ms int, min_index_interval int, "
    "read_repair text, speculative_retry text, PRIMARY KEY ((keyspace_name), table_name))",
    "CREATE TABLE system_schema.columns (keyspace_name text, table_name text, column_name text, "
    "clustering_order text, column_name_bytes blob, kind text, position int, type text, "
    "PRIMARY KEY ((keyspace_name), table_name, column_name))",
    "CREATE TABLE system_schema.dropped_columns (keyspace_name text, table_name text, "
    "column_name text, dropped_time timestamp, kind text, type text, "
    "PRIMARY KEY ((keyspace_name), table_name, column_name))",
    "CREATE TABLE system_schema.types (keyspace_name text, type_name text, "
    "field_names frozen<list<text>>, field_types frozen<list<text>>, "
    "PRIMARY KEY ((keyspace_name), type_name))",
    "CREATE TABLE system_schema.functions (keyspace_name text, function_name text, "
    "argument_types frozen<list<text>>, argument_names frozen<list<text>>, body text, "
    "called_on_null_input boolean, language text, return_type text, "
    "PRIMARY KEY ((keyspace_name), function_name, argument_types))",
    "CREATE TABLE system_schema.aggregates (keyspace_name text, aggregate_name text, "
    "argument_types frozen<list<text>>, final_func text, initcond text, return_type text, "
    "state_func text, state_type text, PRIMARY KEY ((keyspace_name), aggregate_name, argument_types))",
    "CREATE TABLE system_schema.triggers (keyspace_name text, table_name text, trigger_name text, "
    "options frozen<map<text, text>>, PRIMARY KEY ((keyspace_name), table_name, trigger_name))",
    "CREATE TABLE system_schema.indexes (keyspace_name text, table_name text, index_name text, "
    "kind text, options frozen<map<text, text>>, PRIMARY KEY ((keyspace_name), table_name, index_name))",
    "CREATE TABLE system_schema.views (keyspace_name text, view_name text, base_table_id uuid, "
    "base_table_name text, bloom_filter_fp_chance double, caching frozen<map<text, text>>, "
    "cdc boolean, comment text, compaction frozen<map<text, text>>, "
    "compression frozen<map<text, text>>, crc_check_chance double, default_time_to_live int, "
    "extensions frozen<map<text, blob>>, gc_grace_seconds int, id uuid, include_all_columns boolean, "
    "max_index_interval int, memtable_flush_period_in_ms int, min_index_interval int, "
    "read_repair text, speculative_retry text, where_clause text, "
    "PRIMARY KEY ((keyspace_name), view_name))",
    "CREATE TABLE system_virtual_schema.keyspaces (keyspace_name text PRIMARY KEY)",
    "CREATE TABLE system_virtual_schema.tables (keyspace_name text, table_name text, comment text, "
    "PRIMARY KEY ((keyspace_name), table_name))",
    "CREATE TABLE system_virtual_schema.columns (keyspace_name text, table_name text, "
    "column_name text, clustering_order text, column_name_bytes blob, kind text, position int, "
    "type text, PRIMARY KEY ((keyspace_name), table_name, column_name))",
};

int nx_systab_init(nx_req_t *r)
{
    for (size_t i = 0; i < sizeof SYSTEM_DDL / sizeof SYSTEM_DDL[0]; i++) {
        cql_stmt_t *st;
        int rc = nx_parse(r, SYSTEM_DDL[i], strlen(SYSTEM_DDL[i]), &st);
        if (rc == 0)
            rc = nx_run(r, st);
        if (rc != 0)
            return rc == NX_EFAIL ? CQLMQ_ESTATE : rc;
        r->out->len = 0;
    }
    return 0;
}

int nx_systab_put(nx_req_t *r, const node_table_t *t, const char *const *names,
                  const cql_bytes_t *values, size_t n)
{
    cql_bytes_t *pk = cql_arena_calloc(r->a, t->npk, sizeof *pk);
    cql_bytes_t *ck = cql_arena_calloc(r->a, t->nck + 1, sizeof *ck);
    node_cell_op_t *ops = cql_arena_calloc(r->a, n + 1, sizeof *ops);
    if (pk == NULL || ck == NULL || ops == NULL)
        return CQLMQ_ENOMEM;
    size_t nops = 0;
    for (size_t i = 0; i < n; i++) {
        const node_column_t *c = node_table_column(t, names[i]);
        if (c == NULL)
            return CQLMQ_ENOTFOUND;
        if (c->kind == NODE_COL_PARTITION_KEY)
            pk[c->position] = values[i];
        else if (c->kind == NODE_COL_CLUSTERING)
            ck[c->position] = values[i];
        else if (values[i].len >= 0)
            ops[nops++] = (node_cell_op_t){.col = c, .op = NODE_OP_SET, .value = values[i]};
    }
    node_write_t w = {.pk = pk, .ck = t->nck ? ck : NULL, .ops = ops, .nops = nops,
                      .insert = true, .ts = 1, .ttl = 0, .now = r->now_us / 1000000};
    return node_store_write(r->db->store, t, &w);
}

/* ---- per-node tables ------------------------------------------------------------- */

static cql_bytes_t b_str(const char *s) { return (cql_bytes_t){(const uint8_t *)s, (int32_t)strlen(s)}; }

static cql_bytes_t b_i32(nx_req_t *r, int32_t v)
{
    uint8_t b[4];
    cql_store_u32(b, (uint32_t)v);
    return nx_bytes_dup(r, b, 4);
}

static cql_bytes_t b_inet(const cql_inet_t *a) { return (cql_bytes_t){a->addr, a->size}; }

static int tokens_set(nx_req_t *r, const node_topo_node_t *n, cql_bytes_t *out)
{
    cql_bytes_t *items = cql_arena_calloc(r->a, n->ntokens + 1, sizeof *items);
    if (items == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < n->ntokens; i++) {
        char buf[32];
        int len = snprintf(buf, sizeof buf, "%lld", (long long)n->tokens[i]);
        items[i] = nx_bytes_dup(r, buf, (size_t)len);
        if (items[i].ptr == NULL)
            return CQLMQ_ENOMEM;
    }
    return nx_coll_build(r, items, n->ntokens, false, nx_type(r, CQL_TYPE_VARCHAR), true, out);
}

#define S(x, dflt) ((x) != NULL ? (x) : (dflt))

static int put_local(nx_req_t *r, const node_table_t *t, const node_topology_t *topo,
                     const node_topo_node_t *n)
{
    cql_bytes_t tokens;
    int rc = tokens_set(r, n, &tokens);
    if (rc != 0)
        return rc;
    int32_t sport = n->storage_port ? n->storage_port : 7000;
    const char *names[] = {"key", "bootstrapped", "broadcast_address", "broadcast_port",
                           "cluster_name", "cql_version", "data_center", "gossip_generation",
                           "host_id", "listen_address", "listen_port", "native_protocol_version",
                           "partitioner", "rack", "release_version", "rpc_address", "rpc_port",
                           "schema_version", "tokens"};
    cql_bytes_t vals[] = {b_str("local"),
                          b_str("COMPLETED"),
                          b_inet(&n->address),
                          b_i32(r, sport),
                          b_str(S(topo->cluster_name, "cqlmq")),
                          b_str(S(topo->cql_version, "3.4.5")),
                          b_str(S(n->dc, "dc1")),
                          b_i32(r, 1700000000),
                          (cql_bytes_t){n->host_id, 16},
                          b_inet(&n->address),
                          b_i32(r, sport),
                          b_str(S(topo->native_protocol_version, "4")),
                          b_str(S(topo->partitioner, "org.apache.cassandra.dht.Murmur3Partitioner")),
                          b_str(S(n->rack, "rack1")),
                          b_str(S(topo->release_version, "4.0.11")),
                          b_inet(&n->address),
                          b_i32(r, n->native_port ? n->native_port : 9042),
                          (cql_bytes_t){r->db->schema_version, 16},
                          tokens};
    return nx_systab_put(r, t, names, vals, sizeof vals / sizeof vals[0]);
}

static int put_peer(nx_req_t *r, const node_table_t *t, const node_topology_t *topo,
                    const node_topo_node_t *n, bool v2)
{
    cql_bytes_t tokens;
    int rc = tokens_set(r, n, &tokens);
    if (rc != 0)
        return rc;
    int32_t sport = n->storage_port ? n->storage_port : 7000;
    if (!v2) {
        const char *names[] = {"peer", "data_center", "host_id", "rack", "release_version",
                               "rpc_address", "schema_version", "tokens"};
        cql_bytes_t vals[] = {b_inet(&n->address), b_str(S(n->dc, "dc1")),
                              (cql_bytes_t){n->host_id, 16}, b_str(S(n->rack, "rack1")),
                              b_str(S(topo->release_version, "4.0.11")), b_inet(&n->address),
                              (cql_bytes_t){r->db->schema_version, 16}, tokens};
        return nx_systab_put(r, t, names, vals, sizeof vals / sizeof vals[0]);
    }
    const char *names[] = {"peer", "peer_port", "data_center", "host_id", "native_address",
                           "native_port", "rack", "release_version", "schema_version", "tokens"};
    cql_bytes_t vals[] = {b_inet(&n->address), b_i32(r, sport), b_str(S(n->dc, "dc1")),
                          (cql_bytes_t){n->host_id, 16}, b_inet(&n->address),
                          b_i32(r, n->native_port ? n->native_port : 9042),
                          b_str(S(n->rack, "rack1")), b_str(S(topo->release_version, "4.0.11")),
                          (cql_bytes_t){r->db->schema_version, 16}, tokens};
    return nx_systab_put(r, t, names, vals, sizeof vals / sizeof vals[0]);
}

int nx_systab_refresh(nx_req_t *r, const node_table_t *t)
{
    if (strcmp(t->keyspace, "system_schema") == 0) {
        if (r->db->schema_rows_version != node_catalog_version(r->db->store))
            return nx_schematab_rebuild(r);
        return 0;
    }
    if (strcmp(t->keyspace, "system") != 0)
        return 0;
    int kind = strcmp(t->name, "local") == 0     ? 0
               : strcmp(t->name, "peers") == 0    ? 1
               : strcmp(t->name, "peers_v2") == 0 ? 2
                                                  : -1;
    if (kind < 0)
        return 0;
    const node_topology_t *topo = r->db->cfg.topology;
    int self = r->s != NULL ? r->s->node_index : 0;
    node_store_truncate(r->db->store, t);
    for (size_t i = 0; i < topo->nnodes; i++) {
        const node_topo_node_t *n = &topo->nodes[i];
        int rc = 0;
        if (n->removed)
            continue; /* a node that left the cluster: in no table */
        if (kind == 0 && (int)i == self)
            rc = put_local(r, t, topo, n);
        else if (kind > 0 && (int)i != self)
            rc = put_peer(r, t, topo, n, kind == 2);
        if (rc != 0)
            return rc == NX_EFAIL ? rc : nx_store_err(r, rc, "system table");
    }
    return 0;
}
