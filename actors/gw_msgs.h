/*
 * gw_msgs: the messages between the gateway's actors, declared once.
 *
 * Two audiences:
 *
 * 1. PUBLIC — the session and pager actors talk to the cluster actor with
 *    two requests (rt_request_begin / rt_request_end, so the runtime carries
 *    the correlation id and calls back exactly once):
 *
 *      GW_MSG_EXEC   payload gw_exec_t  -> reply payload gw_result_t
 *      GW_MSG_STATS  no payload         -> reply payload gw_stats_t
 *
 *    Sending an exec:
 *
 *        gw_exec_t ex = {.op = CQL_OP_QUERY, .deadline_ms = gw_deadline_in(2000)};
 *        MPK_SET(&ex, gw_exec, query);    ex.query = mpk_cstr("SELECT ...");
 *        MPK_SET(&ex, gw_exec, keyspace); ex.keyspace = mpk_cstr("app");
 *        gw_exec_encode_compact(rt_request_begin(self, cluster, GW_MSG_EXEC), &ex);
 *        rc = rt_request_end(self, gw_request_timeout(&ex), on_result, ud, &corr);
 *
 *    and in on_result (err != 0 means the runtime itself gave up: the
 *    cluster actor is gone (CQLMQ_ENOACTOR) or the safety timeout fired):
 *
 *        gw_result_t res;  mpk_rd_t r;  mpk_rd_init(&r, reply->data, reply->len);
 *        gw_result_decode(&r, &res);
 *        if (res.status == 0)  cql_msg_decode(res.version, CQL_OP_RESULT,
 *                                             res.flags, res.body.ptr, res.body.len,
 *                                             &arena, &msg);
 *        else  res.code ("busy", "timeout", "read_timeout", ...), res.message,
 *              res.cql_code and res.details (a msgpack map, ready to forward).
 *
 *    Every accepted exec gets EXACTLY ONE reply. The gateway answers
 *    `timeout` itself when deadline_ms passes (within ~20 ms), so the
 *    runtime timeout given to rt_request_end should be a safety net above
 *    it: gw_request_timeout() adds GW_REPLY_MARGIN_MS.
 *
 * 2. INTERNAL — cluster <-> connection messages (GW_MSG_CONN_*), which
 *    nobody else sends.
 *
 * Message type numbers are per receiving actor; the table below keeps them
 * unique across the gateway anyway so a trace can name every message.
 *
 * COPIES of a result body (the bulk of the traffic): the connection reads
 * frames from the rt_tcp input buffer and, for a successful RESULT to a
 * user request, encodes the reply to the requester DIRECTLY (the cluster
 * actor is not on the path of the body): the body is copied once, from the
 * socket buffer into the reply message. The runtime then hands that buffer
 * over without copying (same loop: the mailbox slot owns it; other loop:
 * it rides in one ZeroMQ inproc frame made with zmq_msg_init_data), and the
 * requester reads res.body as a slice borrowed from the message, valid
 * during its handler, from which the pager transcodes rows straight into
 * the client's msgpack. Errors (small) go through the cluster actor, which
 * decides retries and builds the reply.
 *
 * COPIES of a request: the requester encodes gw_exec_t (values copied in
 * once); the cluster keeps a copy of that payload for retries and
 * re-prepares; it encodes the CQL body into the message to the
 * connection; the connection copies it into the socket's write queue.
 * Requests are small next to results; this buys exactly-once retries.
 */
#ifndef GW_MSGS_H
#define GW_MSGS_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cql_msg.h"
#include "protocol/wire/mpk.h"

/* X(NAME, number, "name"): every gateway message type. */
#define GW_MSG_MAP(X)                                                              \
    /* public: requester -> cluster (requests) */                                  \
    X(EXEC, 1, "exec")             /* gw_exec_t -> gw_result_t */                  \
    X(STATS, 2, "stats")           /* (none) -> gw_stats_t */                      \
    /* internal: cluster -> connection */                                          \
    X(CONN_REQ, 3, "conn_req")     /* gw_conn_req_t: send one request frame */     \
    /* internal: connection -> cluster */                                          \
    X(CONN_DONE, 4, "conn_done")   /* gw_conn_done_t: a request ended */           \
    X(CONN_STATE, 5, "conn_state") /* gw_conn_state_t: ready / closed */           \
    X(CONN_EVENT, 6, "conn_event") /* gw_conn_event_t: an EVENT frame */           \
    /* timers (no payload) */                                                      \
    X(CONN_TICK, 7, "conn_tick")   /* connection: deadlines, heartbeats */         \
    X(CLUSTER_TICK, 8, "cluster_tick") /* cluster: pools, backoff, parked work */

enum {
#define GW_MSG_ENUM_(name, num, str) GW_MSG_##name = (num),
    GW_MSG_MAP(GW_MSG_ENUM_)
#undef GW_MSG_ENUM_
    GW_MSG_LIMIT_ /* one past the largest type: size of handler tables */
};

/* "exec" for GW_MSG_EXEC; NULL for an unknown type. */
static inline const char *gw_msg_name(int type)
{
    switch (type) {
#define GW_MSG_NAME_(name, num, str) case num: return str;
        GW_MSG_MAP(GW_MSG_NAME_)
#undef GW_MSG_NAME_
    default: return NULL;
    }
}

/* ---- time ----
 * Deadlines are absolute milliseconds of the monotonic clock libuv uses
 * (uv_hrtime, CLOCK_MONOTONIC): the same on every loop thread. */
static inline uint64_t gw_now_ms(void) { return uv_hrtime() / 1000000u; }
static inline uint64_t gw_deadline_in(uint64_t ms) { return gw_now_ms() + ms; }
#define GW_REPLY_MARGIN_MS 1000u

/* A gateway prepared-statement handle (gw_result_t.handle). */
#define GW_HANDLE_LEN 16

/* ------------------------------------------------------------------ */
/* PUBLIC: exec                                                        */

/*
 * gw_exec: one CQL request. The gateway encodes the CQL body from these
 * fields, so a pager asks for the next page by sending the same fields
 * with paging_state set to the previous result's.
 *
 *   op           CQL_OP_QUERY, CQL_OP_PREPARE, CQL_OP_EXECUTE or CQL_OP_BATCH.
 *   deadline_ms  absolute (gw_now_ms clock). Work whose deadline passed is
 *                not sent; retries stay inside it; then the reply is
 *                `timeout`.
 *   query        QUERY, PREPARE: the CQL text.
 *   handle       EXECUTE: a gateway handle (16 bytes) from a PREPARE reply.
 *                Valid for the life of the cluster actor; the gateway
 *                prepares it on each host before first use there and
 *                re-prepares on UNPREPARED. The handle is a keyed hash of
 *                (keyspace, query): preparing the same statement again
 *                gives the same handle, also after the cache evicted it
 *                (an evicted handle is answered `unprepared`: prepare
 *                again, the old handle becomes valid again).
 *                PREPARE with a handle and no query (a "describe"): the
 *                cached Prepared RESULT of that handle, answered like a
 *                PREPARE by text (body and handle) without a round trip
 *                to Cassandra, so a requester that did not prepare the
 *                statement can bind values for it; `unprepared` when the
 *                cache does not know it (never prepared, or evicted).
 *   keyspace     QUERY, PREPARE, BATCH: the keyspace unqualified names
 *                resolve in (the gateway runs `USE` on the connection
 *                first when needed; see docs/architecture.md). Without it
 *                names must be fully qualified. Ignored for EXECUTE and
 *                PREPARE by handle (the keyspace was bound at PREPARE).
 *   idempotent   may be retried on another host (connection lost,
 *                overloaded, is_bootstrapping, unavailable, read_timeout).
 *                Never set it for conditional (IF ...) statements.
 *   consistency  CQL_CL_*; default LOCAL_ONE.
 *   serial_consistency, timestamp (us), page_size, paging_state,
 *   skip_metadata: as in <query_parameters> (QUERY, EXECUTE; the BATCH
 *                body uses serial_consistency and timestamp).
 *   nvalues, values  the bound values: nvalues [value]s back to back
 *                ([int] length then bytes; -1 null, -2 not set), e.g.
 *                written with cql_wr_bytes(). Positional only.
 *   batch_type   BATCH: CQL_BATCH_LOGGED / UNLOGGED / COUNTER.
 *   stmts        BATCH: a msgpack array of statements, each an array
 *                [query: str | nil, handle: bin | nil, nvalues: uint,
 *                 values: bin] (query xor handle).
 */
#define GW_EXEC_FIELDS(F, T)                 \
    F(T, op, U32, MPK_REQ)                   \
    F(T, deadline_ms, UINT, MPK_REQ)         \
    F(T, query, STR, MPK_OPT)                \
    F(T, handle, BIN, MPK_OPT)               \
    F(T, keyspace, STR, MPK_OPT)             \
    F(T, idempotent, BOOL, MPK_OPT)          \
    F(T, consistency, U32, MPK_OPT)          \
    F(T, serial_consistency, U32, MPK_OPT)   \
    F(T, timestamp, INT, MPK_OPT)            \
    F(T, page_size, I32, MPK_OPT)            \
    F(T, paging_state, BIN, MPK_OPT)         \
    F(T, skip_metadata, BOOL, MPK_OPT)       \
    F(T, nvalues, U32, MPK_OPT)              \
    F(T, values, BIN, MPK_OPT)               \
    F(T, batch_type, U32, MPK_OPT)           \
    F(T, stmts, RAW, MPK_OPT)
MPK_SCHEMA(gw_exec, GW_EXEC_FIELDS)

/* The runtime timeout to give rt_request_end for an exec. */
static inline uint64_t gw_request_timeout(const gw_exec_t *ex)
{
    uint64_t now = gw_now_ms();
    return (ex->deadline_ms > now ? ex->deadline_ms - now : 0) + GW_REPLY_MARGIN_MS;
}

/*
 * gw_result: the one reply to an exec.
 *
 *   status    0, or a negative CQLMQ_E* code:
 *               CQLMQ_ESERVER      Cassandra answered ERROR: cql_code, code
 *                                  (wire_error names: "read_timeout", ...),
 *                                  message, details
 *               CQLMQ_EBUSY        "busy": in-flight bound or every
 *                                  connection's stream ids are taken
 *               CQLMQ_ENOHOST      "no_host": no host up
 *               CQLMQ_ECLOSED      "no_host": the connection closed before
 *                                  a response; the request may have run
 *               CQLMQ_ETIMEOUT     "timeout": deadline passed in cqlmqd
 *               CQLMQ_EUNPREPARED  "unprepared": unknown gateway handle
 *               CQLMQ_EINVAL       "bad_request": the exec was malformed
 *               CQLMQ_ENOMEM, others  "internal"
 *   code      the stable error code string (absent on success)
 *   message   human-readable text (absent on success)
 *   cql_code  the CQL error code, when Cassandra sent one
 *   details   a msgpack map with docs/protocol.md section 9's keys
 *             (consistency, required, alive, received, block_for,
 *             write_type, data_present, num_failures, keyspace, table,
 *             function, arg_types, statement_id), ready to forward
 *   version, flags, body
 *             success: the RESULT frame's version, frame flags and body
 *             (decode with cql_msg_decode(version, CQL_OP_RESULT, flags,
 *             ...): the envelope (warnings, tracing id) comes with it).
 *             PREPARE: the Prepared result (bind metadata with
 *             pk_indices, result metadata); its id is Cassandra's, use
 *             `handle` instead.
 *   handle    PREPARE (by text or by handle): the gateway handle
 *             (GW_HANDLE_LEN bytes)
 *   host      "ip:port" of the host that answered last (diagnostics)
 *   attempts  how many hosts were tried (1 + retries)
 */
#define GW_RESULT_FIELDS(F, T)           \
    F(T, status, I32, MPK_REQ)           \
    F(T, code, STR, MPK_OPT)             \
    F(T, message, STR, MPK_OPT)          \
    F(T, cql_code, I32, MPK_OPT)         \
    F(T, details, RAW, MPK_OPT)          \
    F(T, version, U32, MPK_OPT)          \
    F(T, flags, U32, MPK_OPT)            \
    F(T, body, BIN, MPK_OPT)             \
    F(T, handle, BIN, MPK_OPT)           \
    F(T, host, STR, MPK_OPT)             \
    F(T, attempts, U32, MPK_OPT)
MPK_SCHEMA(gw_result, GW_RESULT_FIELDS)

/* gw_stats: counters since the cluster actor started, and gauges. The
 * invariant `replies == requests - in_flight` holds whenever the reply is
 * read: every accepted exec ends once. */
#define GW_STATS_FIELDS(F, T)            \
    F(T, requests, UINT, MPK_REQ)        \
    F(T, replies, UINT, MPK_REQ)         \
    F(T, in_flight, UINT, MPK_REQ)       \
    F(T, busy, UINT, MPK_REQ)            \
    F(T, no_host, UINT, MPK_REQ)         \
    F(T, timeouts, UINT, MPK_REQ)        \
    F(T, retries, UINT, MPK_REQ)         \
    F(T, errors, UINT, MPK_REQ)          \
    F(T, prepares, UINT, MPK_REQ)        \
    F(T, reprepares, UINT, MPK_REQ)      \
    F(T, prepared, UINT, MPK_REQ)        \
    F(T, hosts, UINT, MPK_REQ)           \
    F(T, hosts_up, UINT, MPK_REQ)        \
    F(T, conns, UINT, MPK_REQ)           \
    F(T, streams, UINT, MPK_REQ)         \
    F(T, orphans, UINT, MPK_REQ)         \
    F(T, control, BOOL, MPK_REQ)         \
    F(T, events, UINT, MPK_REQ)          \
    F(T, per_host, RAW, MPK_OPT)
MPK_SCHEMA(gw_stats, GW_STATS_FIELDS)
/* per_host: an array of maps {host, dc, up, conns, requests}. */

/* ------------------------------------------------------------------ */
/* INTERNAL: cluster <-> connection                                    */

/* Kinds of a request on a connection (what the cluster does with the
 * outcome). */
enum {
    GW_KIND_USER = 0,   /* a user's exec: direct reply on success */
    GW_KIND_PREPARE,    /* a PREPARE the cluster issued for its cache */
    GW_KIND_CONTROL,    /* control connection queries and REGISTER */
};

/* cluster -> connection: send opcode/body. reply_to/reply_corr set means
 * "answer a successful RESULT to that requester yourself". keyspace (not
 * for EXECUTE): run `USE` first if the connection is elsewhere. */
#define GW_CONN_REQ_FIELDS(F, T)         \
    F(T, rid, UINT, MPK_REQ)             \
    F(T, opcode, U32, MPK_REQ)           \
    F(T, deadline_ms, UINT, MPK_REQ)     \
    F(T, body, BIN, MPK_REQ)             \
    F(T, keyspace, STR, MPK_OPT)         \
    F(T, reply_to, UINT, MPK_OPT)        \
    F(T, reply_corr, UINT, MPK_OPT)      \
    F(T, attempts, U32, MPK_OPT)
MPK_SCHEMA(gw_conn_req, GW_CONN_REQ_FIELDS)

/* connection -> cluster: request rid ended.
 *   status   0: Cassandra answered (opcode RESULT or ERROR, body);
 *            CQLMQ_ETIMEOUT (deadline passed; the stream id is kept until
 *            the late response), CQLMQ_ECLOSED (connection closed first),
 *            CQLMQ_EBUSY (not sent: no stream id), CQLMQ_ESTATE (not sent:
 *            not ready), CQLMQ_EMALFORMED (undecodable response).
 *   replied  the connection answered the requester itself (success).
 *   keyspace the connection's keyspace changed to this (SET_KEYSPACE).
 *   streams, orphans  the connection's stream ids in use / quarantined. */
#define GW_CONN_DONE_FIELDS(F, T)        \
    F(T, rid, UINT, MPK_REQ)             \
    F(T, conn, U32, MPK_REQ)             \
    F(T, status, I32, MPK_REQ)           \
    F(T, replied, BOOL, MPK_OPT)         \
    F(T, opcode, U32, MPK_OPT)           \
    F(T, version, U32, MPK_OPT)          \
    F(T, flags, U32, MPK_OPT)            \
    F(T, body, BIN, MPK_OPT)             \
    F(T, keyspace, STR, MPK_OPT)         \
    F(T, streams, U32, MPK_OPT)          \
    F(T, orphans, U32, MPK_OPT)
MPK_SCHEMA(gw_conn_done, GW_CONN_DONE_FIELDS)

enum { GW_CONN_READY = 1, GW_CONN_CLOSED = 2 };
/* connection -> cluster: state change. CLOSED is the last message a
 * connection sends (after a DONE for every request it held). version:
 * the protocol version spoken (READY), or the one to try next (CLOSED
 * after a version mismatch, else 0). */
#define GW_CONN_STATE_FIELDS(F, T)       \
    F(T, conn, U32, MPK_REQ)             \
    F(T, state, U32, MPK_REQ)            \
    F(T, reason, I32, MPK_OPT)           \
    F(T, version, U32, MPK_OPT)          \
    F(T, message, STR, MPK_OPT)
MPK_SCHEMA(gw_conn_state, GW_CONN_STATE_FIELDS)

/* connection -> cluster: an EVENT frame's body (control connection). */
#define GW_CONN_EVENT_FIELDS(F, T)       \
    F(T, conn, U32, MPK_REQ)             \
    F(T, version, U32, MPK_REQ)          \
    F(T, body, BIN, MPK_REQ)
MPK_SCHEMA(gw_conn_event, GW_CONN_EVENT_FIELDS)

#endif /* GW_MSGS_H */
