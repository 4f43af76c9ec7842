/*
 * session: one actor per client session (created by the front on `hello`).
 *
 * It owns the client's requests in flight, keyed by the client's ids:
 *   - bounds: at most max_in_flight requests (streams included) and
 *     max_streams streams; beyond them the request is answered `busy` at
 *     once; an id already in flight is answered `bad_request` and the
 *     earlier request goes on;
 *   - deadlines: timeout_ms from the request's arrival at the front (the
 *     cluster answers `timeout` itself; the runtime's request timeout is a
 *     safety net above it);
 *   - query with params: PREPARE through the cluster's shared cache, then
 *     EXECUTE with the params transcoded by the bind types (wire_params);
 *     prepare, execute by handle, batch (statements by text or handle, with
 *     or without params), keyspace per request (USE changes the session's),
 *     consistency, serial consistency, timestamp and idempotent passed on;
 *   - streams: a pager actor per streamed query / execute; credit and
 *     cancel are routed to it; its terminal reply comes back through the
 *     session (SESSION_END) so the id is free before the client sees it;
 *   - cancel: a request still running is answered `cancelled` at once and
 *     its late result dropped.
 *
 * Terminal-reply rule: every request the session accepts gets exactly one
 * terminal reply, on every path (result, cluster error, timeout, cancel,
 * busy, malformed params), except when the session itself stops (lease
 * expired, client gone, replaced by a new hello): then nothing is sent,
 * pagers are stopped and every request's memory is freed (callbacks of
 * requests still at the cluster run with CQLMQ_ECANCELLED and free
 * theirs).
 *
 * Prepared metadata: the session remembers the bind metadata of the
 * handles it prepared or looked up (bounded); an execute or a batch
 * statement with params of a handle it has not seen (prepared by another
 * client, the usual case with a shared gateway) asks the cluster's shared
 * cache (PREPARE by handle: one at a time per handle, however many
 * requests need it) and answers `unprepared` if the cluster does not know
 * it either (never prepared, or evicted).
 */
#ifndef GW_SESSION_H
#define GW_SESSION_H

#include "front.h"

/* Spawn argument; read during the spawn only. */
typedef struct gw_session_cfg {
    gw_client_t client;     /* where replies go */
    wire_limits_t limits;
    rt_addr_t cluster;      /* exec requests go there */
    gw_log_cb log;          /* may be NULL */
    void *log_ud;
} gw_session_cfg_t;

extern const rt_actor_def_t gw_session_def;

/* SESSION_REQ payload: [arrival_us (uv_hrtime clock, microseconds), frame]. */
#define GW_SESSION_REQ_FIELDS(F, T) \
    F(T, arrival_us, UINT, MPK_REQ) \
    F(T, frame, BIN, MPK_REQ)
MPK_SCHEMA(gw_session_req, GW_SESSION_REQ_FIELDS)

/* SESSION_END payload: [id, flags, latency_us, reply]. */
#define GW_SESSION_END_FIELDS(F, T)  \
    F(T, id, UINT, MPK_REQ)          \
    F(T, flags, U32, MPK_REQ)        \
    F(T, latency_us, UINT, MPK_REQ)  \
    F(T, reply, RAW, MPK_REQ)
MPK_SCHEMA(gw_session_end, GW_SESSION_END_FIELDS)

#endif /* GW_SESSION_H */
