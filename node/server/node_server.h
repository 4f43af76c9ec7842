/*
 * node_server: the embedded Cassandra-compatible cluster as a library.
 *
 * A node_cluster_t is N simulated nodes (127.0.0.1 ... 127.0.0.N, one CQL
 * port; nodes can be added and removed while it runs, up to NODE_MAX_NODES)
 * sharing one node_db_t, served by ONE libuv loop that the caller
 * owns and runs. It keeps no globals: several clusters may live in one
 * process, each on its own loop (and thread).
 *
 *   uv_loop_t loop;  uv_loop_init(&loop);
 *   node_cluster_t *c;
 *   rc = node_cluster_new(&loop, &cfg, &c);     // nothing bound yet
 *   rc = node_cluster_start(c);                 // listeners + control socket
 *   uv_run(&loop, UV_RUN_DEFAULT);              // until stopped
 *   node_cluster_free(&c);  uv_loop_close(&loop);
 *
 * Stopping: node_cluster_stop(c) on the loop thread, or
 * node_cluster_request_stop(c) from any thread (a uv_async), closes every
 * handle; uv_run then returns once their close callbacks have run, and only
 * then may node_cluster_free be called (node_cluster_closed tells).
 *
 * The process must ignore SIGPIPE (writes to a peer that went away).
 *
 * Threads: every function except node_cluster_request_stop must be called
 * on the loop's thread (before uv_run, or from callbacks).
 */
#ifndef NODE_SERVER_H
#define NODE_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "node_config.h"
#include "node_exec.h"

typedef struct node_cluster node_cluster_t;

/* Creates a cluster on loop from cfg (copied). Registers an async handle
 * (for node_cluster_request_stop) and the flush hooks; binds nothing.
 * Returns 0, CQLMQ_ECONFIG (cfg invalid), CQLMQ_ENOMEM or CQLMQ_EUV. */
int node_cluster_new(uv_loop_t *loop, const node_config_t *cfg, node_cluster_t **out);

/* Binds every node's listener (port 0: a free port, the same for all nodes;
 * retried a few times) and the control socket when cfg.control is set.
 * Returns 0, CQLMQ_ESTATE (already started or stopping), CQLMQ_EUV (bind
 * failed: port in use, address not local) or CQLMQ_EZMQ (control socket);
 * on error everything started is closed again, and the caller stops the
 * cluster. */
int node_cluster_start(node_cluster_t *c);

/* Closes listeners, connections, timers and the control socket. Idempotent. */
void node_cluster_stop(node_cluster_t *c);

/* Thread-safe: asks the loop to run node_cluster_stop. Returns 0 or
 * CQLMQ_EUV. */
int node_cluster_request_stop(node_cluster_t *c);

/* True when every handle of the cluster has been closed (free is allowed). */
bool node_cluster_closed(const node_cluster_t *c);

/* Frees a closed cluster (node_cluster_closed) and NULLs *c; accepts NULL.
 * Freeing a cluster with open handles is a programmer error (assert). */
void node_cluster_free(node_cluster_t **c);

/* The CQL port all nodes listen on (the real one after binding port 0);
 * 0 before node_cluster_start. */
int node_cluster_port(const node_cluster_t *c);

/* The bound control endpoint (wildcards resolved, e.g. tcp://127.0.0.1:41234),
 * or "" when there is none. Borrowed from c. */
const char *node_cluster_control_endpoint(const node_cluster_t *c);

/* Number of nodes now in the cluster (add/remove change it). After a
 * removal the indexes of the others stay, so they need not be 0..size-1:
 * see node_cluster_has_node. */
int node_cluster_size(const node_cluster_t *c);

/* True when node i (0-based) is a member of the cluster. */
bool node_cluster_has_node(const node_cluster_t *c, int i);

/* The shared database (for tests and the gateway's diagnostics). */
node_db_t *node_cluster_db(node_cluster_t *c);

/* ---- faults, also reachable through the control socket ---- */

/* Stops node i: closes its listener and its connections, marks it down in
 * the topology and sends STATUS_CHANGE DOWN to the other nodes' registered
 * connections (about 250 ms later, as gossip would). Returns 0,
 * CQLMQ_ERANGE (no such node) or CQLMQ_ESTATE (cluster not started).
 * Stopping a stopped node is a no-op. */
int node_cluster_stop_node(node_cluster_t *c, int i);

/* Starts node i again (same address and port) and sends STATUS_CHANGE UP.
 * Returns 0, CQLMQ_ERANGE, CQLMQ_ESTATE or CQLMQ_EUV (bind failed). */
int node_cluster_start_node(node_cluster_t *c, int i);

/* Stops (pause) or resumes reading on every connection of node i, new ones
 * included: a hung node. Returns 0 or CQLMQ_ERANGE. */
int node_cluster_pause_node(node_cluster_t *c, int i, bool paused);

/* ---- topology changes, also reachable through the control socket ---- */

/* Adds a node at the lowest free index i (127.0.0.(i+1), the common port;
 * a removed node's index is reused) with a host id of its own and
 * cfg.tokens new tokens, each the midpoint of the ring's widest gap (the
 * other nodes keep theirs: nothing is rebalanced). dc NULL means the first
 * configured data centre, rack NULL "rack1"; both must be 1..48 bytes of
 * [A-Za-z0-9_.-]. Its listener opens, the other nodes list it in
 * system.peers / peers_v2 at once, and TOPOLOGY_CHANGE NEW_NODE goes to
 * their registered connections. *index (may be NULL) gets i.
 * Returns 0, CQLMQ_ESTATE (not started, or stopping), CQLMQ_ELIMIT
 * (NODE_MAX_NODES nodes already), CQLMQ_EINVAL (bad dc or rack) or
 * CQLMQ_EUV (the listener could not bind); on error nothing changed. */
int node_cluster_add_node(node_cluster_t *c, const char *dc, const char *rack, int *index);

/* Removes node i: closes its listener and connections, forgets its
 * prepared statements, drops it from the topology (the others' peers
 * tables) and sends TOPOLOGY_CHANGE REMOVED_NODE to the other nodes'
 * registered connections (a pending delayed DOWN of i is dropped). A
 * stopped node can be removed. Returns 0, CQLMQ_ERANGE (no such node),
 * CQLMQ_ESTATE (not started, or stopping) or CQLMQ_ELIMIT (i is the last
 * node). */
int node_cluster_remove_node(node_cluster_t *c, int i);

#endif /* NODE_SERVER_H */
