/*
 * node_exec: the statement executor of the embedded node.
 *
 * The executor turns decoded QUERY / PREPARE / EXECUTE / BATCH requests
 * (cql_msg.h) into response bodies (RESULT or ERROR), against one in-memory
 * store shared by every node of a simulated cluster. It does no I/O: the
 * server (node/server/) owns sockets, frames and REGISTERed connections and
 * calls node_exec() from its loop thread. Everything here is single-threaded.
 *
 * Objects:
 *   node_topology_t  the cluster as the system tables show it. Owned, filled
 *                    and updated by the server; the executor only reads it
 *                    (system.local, system.peers, system.peers_v2) at the
 *                    moment a statement runs, so updates between calls are
 *                    seen at once.
 *   node_db_t        cluster-wide state of one process: the store (data and
 *                    schema catalog, node/store), ONE schema_version uuid
 *                    changed by every DDL, and a prepared-statement cache per
 *                    node index (Cassandra's prepared ids are per node: the
 *                    MD5 of keyspace + query text, so equal on every node,
 *                    but each node forgets its own).
 *   node_session_t   per client connection, embedded in the server's
 *                    connection struct: protocol version, node index the
 *                    connection arrived on, current keyspace (set by USE
 *                    through the executor).
 *
 * Time: all time comes from cfg.now_us (microseconds since the epoch), so
 * tests can fake it: write timestamps (strictly increasing per db), TTL
 * expiry, now() / currentTimestamp().
 *
 * Schema changes: every successful DDL bumps the schema_version and calls
 * cfg.on_schema_change once per change (the server pushes SCHEMA_CHANGE
 * events to connections that REGISTERed for them), before node_exec returns.
 */
#ifndef NODE_EXEC_H
#define NODE_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cql_buf.h"
#include "cql_msg.h"
#include "cqlmq/error.h"

/* Longest keyspace / table name Cassandra accepts. */
#define NODE_NAME_MAX 48

/* ---- topology (owned by the server) ---------------------------------- */

/* One node of the cluster. Strings and arrays are borrowed from the server
 * and must stay valid while the topology is in use. */
typedef struct node_topo_node {
    int index;               /* 0-based, == its position in nodes[] */
    cql_inet_t address;      /* broadcast/listen/rpc address, 127.0.0.(index+1);
                                port ignored */
    int32_t native_port;     /* CQL port (rpc_port, native_port) */
    int32_t storage_port;    /* listen_port / peer_port (7000 when 0) */
    uint8_t host_id[16];     /* uuid */
    const char *dc;          /* data_center, e.g. "dc1" */
    const char *rack;        /* e.g. "rack1" */
    const int64_t *tokens;   /* ntokens tokens, printed as decimal strings */
    size_t ntokens;          /* >= 1 (drivers drop peers with no tokens) */
    bool up;                 /* false: the node is down (still listed) */
    bool removed;            /* true: no longer a member (an unused slot):
                                listed nowhere, not even as the local node */
} node_topo_node_t;

/* The cluster. NULL strings take the defaults shown. nodes[] may hold
 * removed slots (removed == true) between members, so that a node keeps its
 * index when another one leaves the cluster. */
typedef struct node_topology {
    const char *cluster_name;            /* "cqlmq" */
    const char *partitioner;             /* "org.apache.cassandra.dht.Murmur3Partitioner" */
    const char *release_version;         /* "4.0.11" */
    const char *cql_version;             /* "3.4.5" */
    const char *native_protocol_version; /* "4" */
    size_t nnodes;
    const node_topo_node_t *nodes;       /* nnodes nodes */
} node_topology_t;

/* ---- the database ------------------------------------------------------ */

typedef struct node_db node_db_t;

/* Current time in microseconds since the epoch. */
typedef int64_t (*node_clock_cb)(void *ud);

/* Called once per schema change, after the change is visible. ev and the
 * strings it points to are borrowed for the call only. */
typedef void (*node_schema_change_cb)(void *ud, const cql_schema_change_t *ev);

typedef struct node_db_config {
    const node_topology_t *topology;  /* borrowed; must outlive the db; required */
    node_clock_cb now_us;             /* NULL: the real clock (CLOCK_REALTIME) */
    void *clock_ud;
    node_schema_change_cb on_schema_change; /* may be NULL */
    void *event_ud;
    size_t max_prepared;     /* per node; 0 = 10000. The oldest is forgotten
                                (the client gets Unprepared and re-prepares) */
    size_t max_request_mem;  /* arena limit per request in bytes; 0 = 64 MiB */
    uint32_t tombstone_grace; /* seconds (node_store_opts_t); 0 = drop at once */
    uint64_t seed;           /* for generated uuids (table ids, uuid()); 0 ok */
} node_db_config_t;

/* A new database with the system keyspaces defined. Returns NULL when out
 * of memory or when cfg/topology is NULL. */
node_db_t *node_db_new(const node_db_config_t *cfg);

/* Frees the db and everything it owns; accepts NULL and *db == NULL. */
void node_db_free(node_db_t **db);

/* Housekeeping, to be called from a timer: lets the store drop expired
 * cells and old tombstones of up to `budget` partitions (by the db's clock),
 * so the memory of data nobody reads any more is bounded. Returns the number
 * of partitions visited. */
size_t node_db_housekeep(node_db_t *db, size_t budget);

/* The shared schema version (16 bytes, uuid). Changes with every DDL;
 * valid until the next DDL or node_db_free. */
const uint8_t *node_db_schema_version(const node_db_t *db);

/* Fault injection: node `node_index` forgets all its prepared statements
 * (EXECUTE of their ids then gets Unprepared). Unknown index: no-op. */
void node_db_forget_prepared(node_db_t *db, int node_index);

/* The query text of a statement prepared on node `node_index` (for the
 * activity log and fault matching), or NULL when unknown there. The string
 * is NUL-terminated and valid until that statement is forgotten (next
 * PREPARE on that node may evict it) or the db is freed. */
const char *node_db_prepared_query(const node_db_t *db, int node_index, const uint8_t *id,
                                   size_t id_len);

/* The store (data + catalog) for inspection by tests and the server's
 * stats. Borrowed from the db. */
struct node_store;
struct node_store *node_db_store(node_db_t *db);

/* ---- sessions ------------------------------------------------------------ */

/* Per connection. Embedded by the server; init once after STARTUP. */
typedef struct node_session {
    int version;                        /* negotiated protocol version: 3 or 4 */
    int node_index;                     /* node the connection arrived on */
    char keyspace[NODE_NAME_MAX + 1];   /* current keyspace, "" when none */
} node_session_t;

void node_session_init(node_session_t *s, int version, int node_index);

/* ---- executing ------------------------------------------------------------ */

/*
 * Executes one decoded request and APPENDS the whole response body
 * (RESULT or ERROR, with an empty envelope: no tracing id, no warnings, no
 * custom payload) to `out`, which may already hold bytes (e.g. the frame
 * header the server reserved with cql_frame_begin; the server then calls
 * cql_frame_end). *out_opcode receives CQL_OP_RESULT or CQL_OP_ERROR.
 *
 * opcode must be CQL_OP_QUERY, CQL_OP_PREPARE, CQL_OP_EXECUTE or
 * CQL_OP_BATCH (and equal req->opcode); other opcodes get a ProtocolError
 * reply. req and everything it borrows are only read during the call.
 *
 * Returns 0 when a response body was written (a CQL error reply is still a
 * success), or, with nothing appended (out->len back where it was):
 *   CQLMQ_ENOMEM   out of memory (the writer's sticky error included)
 *   CQLMQ_EINVAL   db, s, req, out or out_opcode is NULL
 */
int node_exec(node_db_t *db, node_session_t *s, int opcode, const cql_msg_t *req, cql_wr_t *out,
              int *out_opcode);

#endif /* NODE_EXEC_H */
