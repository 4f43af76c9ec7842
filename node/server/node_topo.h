/*
 * node_topo: builds and owns the node_topology_t (node_exec.h) that the
 * executor shows in system.local / system.peers / system.peers_v2.
 *
 * Identity of node i (0-based):
 *   address  127.0.0.(i+1), the CQL port shared by all nodes
 *   host id  a version-4 uuid derived from the cluster name and i, so a
 *            restarted process shows the same ids (stable test output)
 *   dc       from the --dc list in node order; rack "rack1"
 *   tokens   cfg.tokens per node, evenly spaced over the Murmur3 range as
 *            ccm does (token k of T = -2^63 + k * (2^64 / T)), dealt out
 *            round robin so vnodes of different nodes interleave
 *   up       true until the fault "stop" marks it down
 *
 * Topology changes (node_topo_add / node_topo_remove): a node is added in a
 * free slot i (address 127.0.0.(i+1)) with the next host-id serial (the
 * first cfg.nnodes serials belong to the initial nodes, so every node ever
 * added gets a fresh id, even in a reused slot) and cfg.tokens new tokens,
 * each the midpoint of the widest gap of the ring at that moment: nothing
 * is rebalanced, the other nodes keep their tokens. A removed node keeps
 * its slot, flagged removed (node_exec.h), until a later add reuses it.
 *
 * Invariants: topo.nodes == nodes; topo.nnodes == 1 + the highest slot
 * that is a member (slots below it may be removed); every pointer inside
 * topo points into this struct (no heap), so the struct must not move
 * while the executor holds &topo (the cluster embeds it).
 */
#ifndef NODE_TOPO_H
#define NODE_TOPO_H

#include "node_config.h"
#include "node_exec.h"

typedef struct node_topo {
    node_topology_t topo;                      /* what the executor reads */
    node_topo_node_t nodes[NODE_MAX_NODES];    /* topo.nodes */
    int64_t tokens[NODE_MAX_NODES][NODE_MAX_TOKENS]; /* nodes[i].tokens */
    char dc[NODE_MAX_NODES][NODE_DC_NAME_MAX + 1];   /* nodes[i].dc */
    char rack[NODE_MAX_NODES][NODE_DC_NAME_MAX + 1]; /* nodes[i].rack */
    char cluster_name[NODE_CLUSTER_NAME_MAX + 1];
    char release_version[NODE_VERSION_MAX + 1];
    int port;                                  /* CQL port of every node */
    int ntokens;                               /* tokens per node (cfg.tokens) */
    int nmembers;                              /* slots that are not removed */
    uint64_t next_serial;                      /* host-id serial of the next add */
} node_topo_t;

/* Fills t from a valid cfg (node_config_validate). Returns 0 or
 * CQLMQ_ECONFIG when cfg is invalid. */
int node_topo_build(node_topo_t *t, const node_config_t *cfg);

/* Sets the CQL port of every node (after binding port 0). */
void node_topo_set_port(node_topo_t *t, int port);

/* True when slot i holds a member (a node that was not removed). */
bool node_topo_member(const node_topo_t *t, int i);

/* Adds a node in slot i (not a member; 0 <= i < NODE_MAX_NODES) in data
 * centre dc and rack, both valid names (node_config_name_ok) of at most
 * NODE_DC_NAME_MAX bytes; it is up. Returns 0, CQLMQ_ERANGE (i out of
 * range or already a member) or CQLMQ_EINVAL (bad dc or rack); on error t
 * is unchanged. */
int node_topo_add(node_topo_t *t, int i, const char *dc, const char *rack);

/* Removes member i (its slot stays, flagged removed). Returns 0 or
 * CQLMQ_ERANGE (not a member). */
int node_topo_remove(node_topo_t *t, int i);

/* Marks node i up or down; out-of-range i is ignored. */
void node_topo_set_up(node_topo_t *t, int i, bool up);

/* The 127.0.0.(i+1) address of node i with the CQL port, for events. */
cql_inet_t node_topo_inet(const node_topo_t *t, int i);

/* Formats a 16-byte uuid as 8-4-4-4-12 hex into out[37]. */
void node_uuid_format(const uint8_t uuid[16], char out[37]);

#endif /* NODE_TOPO_H */
