/*
 * node_ctl: the fault-control protocol of the embedded cluster.
 *
 * Transport (node_control.c): a ZeroMQ ROUTER socket; clients are REQ or
 * DEALER sockets (a DEALER sends an empty delimiter frame first, as REQ
 * does). Each request is ONE msgpack map; each gets exactly ONE reply map:
 *     {"ok": true, ...results}   or   {"ok": false, "error": "message"}
 * Malformed requests (not msgpack, not a map, unknown command, wrong field
 * types, out-of-range values) get an error reply.
 *
 * Request fields are declared once below (NODE_CTL_FIELDS); every command
 * uses the subset it needs and ignores the others. Nodes are 0-based
 * (node i is 127.0.0.(i+1)). Fields given as "name or number": opcode
 * ("QUERY" or 7), error ("read_timeout" or 4608), consistency ("ONE" or 1).
 *
 * Commands (NODE_CTL_COMMAND_MAP; docs/embedded-node.md has examples):
 *   ping                      -> {}
 *   status                    -> port, nodes[{node,address,dc,rack,host_id,up,
 *                                 paused,connections}]
 *   stop / start {node}       node down (listener and connections closed,
 *                             STATUS_CHANGE DOWN to the others) / up again
 *   pause / resume {node}     stop / restart reading that node's sockets
 *   fault {action, ...}       add a rule (node_fault.h) -> {id}
 *       action   "error" | "latency" | "close" | "drop"
 *       match    opcode, query (substring), node, count (first N only)
 *       latency  ms, or min_ms and max_ms
 *       error    error, message, consistency, required, alive, received,
 *                block_for, num_failures, data_present, write_type,
 *                keyspace, table, function, arg_types, prepared_id
 *   unfault {id}              remove a rule
 *   faults                    -> faults[{id,action,opcode,query,node,
 *                                 remaining,hits}]
 *   clear                     remove every rule, resume paused nodes, cancel
 *                             close_after budgets, start stopped nodes
 *   close_after {frames, node?, conn?}  open connections answer `frames`
 *                             more frames, then close on the next one
 *                             -> {connections}
 *   disconnect {node?, conn?} close connections now -> {connections}
 *   forget_prepared {node?}   node(s) forget prepared statements
 *   log {node?, opcode?, query?, since?} -> entries[{seq,time_us,node,conn,
 *                                 stream,opcode,query,consistency}], dropped
 *   clear_log                 forget the activity log
 *   connections {node?}       -> connections[{id,node,peer,version,state,
 *                                 events,frames,paused}]
 *   add_node {dc?, rack?}     a new node at the lowest free index, with new
 *                             tokens; TOPOLOGY_CHANGE NEW_NODE to the others
 *                             -> {node,address,host_id,dc,rack,tokens}
 *   remove_node {node}        node leaves the cluster (listener and
 *                             connections closed, gone from the peers
 *                             tables); TOPOLOGY_CHANGE REMOVED_NODE to the
 *                             others -> {node,address}
 *
 * Node indexes stay when another node is removed, so after a removal the
 * members need not be 0..N-1 ("status" lists them).
 */
#ifndef NODE_CTL_H
#define NODE_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "mpk.h"
#include "node_fault.h"

#define NODE_CTL_FIELDS(F, T)              \
    F(T, cmd, STR, MPK_REQ)                \
    F(T, node, I32, MPK_OPT)               \
    F(T, conn, UINT, MPK_OPT)              \
    F(T, id, U32, MPK_OPT)                 \
    F(T, action, STR, MPK_OPT)             \
    F(T, opcode, RAW, MPK_OPT)             \
    F(T, query, STR, MPK_OPT)              \
    F(T, count, INT, MPK_OPT)              \
    F(T, frames, INT, MPK_OPT)             \
    F(T, since, UINT, MPK_OPT)             \
    F(T, ms, U32, MPK_OPT)                 \
    F(T, min_ms, U32, MPK_OPT)             \
    F(T, max_ms, U32, MPK_OPT)             \
    F(T, error, RAW, MPK_OPT)              \
    F(T, message, STR, MPK_OPT)            \
    F(T, consistency, RAW, MPK_OPT)        \
    F(T, required, I32, MPK_OPT)           \
    F(T, alive, I32, MPK_OPT)              \
    F(T, received, I32, MPK_OPT)           \
    F(T, block_for, I32, MPK_OPT)          \
    F(T, num_failures, I32, MPK_OPT)       \
    F(T, data_present, BOOL, MPK_OPT)      \
    F(T, write_type, STR, MPK_OPT)         \
    F(T, keyspace, STR, MPK_OPT)           \
    F(T, table, STR, MPK_OPT)              \
    F(T, function, STR, MPK_OPT)           \
    F(T, arg_types, RAW, MPK_OPT)          \
    F(T, prepared_id, BIN, MPK_OPT)        \
    F(T, dc, STR, MPK_OPT)                 \
    F(T, rack, STR, MPK_OPT)

MPK_SCHEMA(node_ctl_req, NODE_CTL_FIELDS)

/* X(name): one handler ctl_<name> per command in node_ctl_cmd.c. */
#define NODE_CTL_COMMAND_MAP(X)                                                      \
    X(ping) X(status) X(stop) X(start) X(pause) X(resume) X(fault) X(unfault)        \
    X(faults) X(clear) X(close_after) X(disconnect) X(forget_prepared) X(log)        \
    X(clear_log) X(connections) X(add_node) X(remove_node)

/* Longest control request accepted (bytes). */
#define NODE_CTL_MAX_REQUEST (1u << 20)

/* Decodes one request (the whole input must be one map). Returns 0, or a
 * negative code with a message in err: CQLMQ_ETRUNCATED, CQLMQ_EMALFORMED,
 * CQLMQ_EBADTYPE, CQLMQ_ERANGE, CQLMQ_ELIMIT (mpk_schema_decode), or
 * CQLMQ_ETRAILING (bytes after the map). Slices in req borrow p. */
int node_ctl_decode(const uint8_t *p, size_t n, node_ctl_req_t *req, char *err, size_t errlen);

/* Builds the rule of a "fault" request. Returns 0 and *out (owned by the
 * caller), or CQLMQ_EINVAL / CQLMQ_ENOTFOUND / CQLMQ_ENOMEM with a message
 * in err (bad action, unknown opcode/error/consistency name, latency bounds,
 * count < 1, ...). */
int node_ctl_build_rule(const node_ctl_req_t *req, node_fault_rule_t **out, char *err,
                        size_t errlen);

/* Resolves a "name or number" field: an opcode (CQL_OP_*), an error code
 * (CQL_ERR_*), a consistency (CQL_CL_*). Return the value or CQLMQ_ENOTFOUND
 * / CQLMQ_EBADTYPE. */
int node_ctl_opcode(mpk_raw_t v);
int32_t node_ctl_error_code(mpk_raw_t v, int *rc);
int node_ctl_consistency(mpk_raw_t v);

struct node_cluster;
/* Runs one request (raw msgpack) against cluster c and writes exactly one
 * reply map into reply. Never fails: problems become {"ok": false}. */
void node_ctl_handle(struct node_cluster *c, const uint8_t *p, size_t n, mpk_wr_t *reply);

#endif /* NODE_CTL_H */
