/*
 * front: the gateway's client-facing actor. It owns the ROUTER socket(s)
 * clients' DEALERs connect to (docs/protocol.md), and
 *
 *   - decodes and validates every inbound frame (wire_req_decode): a
 *     malformed, multi-frame, oversized or bomb-shaped message is answered
 *     `bad_request` (with its id when one could be read), never a crash and
 *     never an allocation the input does not justify;
 *   - keeps one record per client connection (socket + routing id) with its
 *     session actor, and the session's lease: any inbound message renews
 *     it, silence beyond lease_ms ends the session (its streams and work
 *     are abandoned, its memory freed);
 *   - answers hello (spawning the session), ping and stats itself, and
 *     `unknown_session` to any other request from a peer without a session;
 *     forwards the rest to the session;
 *   - sends what sessions and pagers hand it (GW_MSG_FRONT_OUT) to the
 *     client with ZMQ_DONTWAIT: EHOSTUNREACH means the client is gone (its
 *     session is stopped, which cancels everything it had); EAGAIN means a
 *     slow or hostile client overran its queue (its streams are cancelled);
 *   - drains: after GW_MSG_FRONT_DRAIN new work is answered
 *     `shutting_down` while work in flight finishes, up to a deadline;
 *   - keeps the gateway's client-side counters (requests, in flight,
 *     streams, sessions, errors, latency histogram) for `stats`.
 *
 * Sessions and pagers live on the front's loop (the runtime can spawn an
 * actor only from its own loop's thread).
 */
#ifndef GW_FRONT_H
#define GW_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cqlmq/runtime.h"
#include "gw_msgs.h"
#include "protocol/wire/wire_msg.h"

/* Message types of the client side (unique across the gateway: gw_msgs.h
 * uses 1..8). X(NAME, number) */
#define GW_CLIENT_MSG_MAP(X)                                                     \
    X(FRONT_OUT, 32)      /* session/pager -> front: a reply for a client */     \
    X(FRONT_DRAIN, 33)    /* door -> front: [drain_ms]; stop taking work */      \
    X(FRONT_SWEEP, 34)    /* front's timer: leases, drain */                     \
    X(FRONT_STOP, 35)     /* door -> front: close the sockets, stop */           \
    X(SESSION_REQ, 40)    /* front -> session: [arrival_ms, frame] */            \
    X(SESSION_SHED, 41)   /* front -> session: cancel every stream */            \
    X(SESSION_END, 42)    /* pager -> session: a stream's terminal reply */      \
    X(PAGER_CREDIT, 50)   /* session -> pager: [n] */                            \
    X(PAGER_CANCEL, 51)   /* session -> pager: [code]; end with that error */    \
    X(PAGER_IDLE, 52)     /* pager's timer: no credit for lease_ms */

enum {
#define GW_CLIENT_MSG_ENUM_(name, num) GW_MSG_##name = (num),
    GW_CLIENT_MSG_MAP(GW_CLIENT_MSG_ENUM_)
#undef GW_CLIENT_MSG_ENUM_
    GW_CLIENT_MSG_LIMIT_ = 53 /* size of the client side's handler tables */
};

/* The return address of a client: a front, one of its sockets, a routing
 * id. Plain value; sessions and pagers keep a copy. */
#define GW_RID_MAX 255
typedef struct gw_client {
    rt_addr_t front;          /* the front actor */
    uint64_t gen;             /* the session's serial: the front drops
                                 replies of a session that was replaced */
    uint32_t sock;            /* index of the bound socket */
    uint32_t rid_len;         /* 1..GW_RID_MAX */
    uint8_t rid[GW_RID_MAX];  /* ZeroMQ routing id */
} gw_client_t;

/* FRONT_OUT flags. */
#define GW_OUT_TERMINAL 0x1u /* the request's terminal reply */
#define GW_OUT_STREAM 0x2u   /* ... of a streamed request */
#define GW_OUT_ERROR 0x4u    /* ... is an `error` */

/* Starts a FRONT_OUT message to c's front: the payload is the array
 * [sock, rid, gen, flags, latency_us, reply] and the caller writes the reply map
 * (one wire_reply_* call) into the returned writer, then rt_msg_end(self).
 * latency_us counts for terminal replies only. */
static inline mpk_wr_t *gw_front_out_begin(rt_actor_t *self, const gw_client_t *c,
                                           uint32_t flags, uint64_t latency_us)
{
    mpk_wr_t *w = rt_msg_begin(self, c->front, GW_MSG_FRONT_OUT);
    mpk_wr_array(w, 6);
    mpk_wr_uint(w, c->sock);
    mpk_wr_bin(w, c->rid, c->rid_len);
    mpk_wr_uint(w, c->gen);
    mpk_wr_uint(w, flags);
    mpk_wr_uint(w, latency_us);
    return w;
}

#define GW_FRONT_OUT_FIELDS(F, T)  \
    F(T, sock, U32, MPK_REQ)       \
    F(T, rid, BIN, MPK_REQ)        \
    F(T, gen, UINT, MPK_REQ)       \
    F(T, flags, U32, MPK_REQ)      \
    F(T, latency_us, UINT, MPK_REQ) \
    F(T, reply, RAW, MPK_REQ)
MPK_SCHEMA(gw_front_out, GW_FRONT_OUT_FIELDS)

/* An error reply with Cassandra's extras (cql_code < 0: none; details: a
 * msgpack map or len 0). Returns the writer's error. */
int gw_write_error(mpk_wr_t *w, uint64_t id, const char *code, const char *message,
                   int32_t cql_code, mpk_raw_t details);

/* Log hook (gw_log_hook in gateway/log.h has this shape); level is a
 * gw_log_level_t: 0 debug, 1 info, 2 warn, 3 error. */
typedef void (*gw_log_cb)(void *ud, int level, const char *msg, const char *detail);

/* Called on the front's loop when a drain ends: abandoned is the number of
 * requests still in flight when the deadline cut it short (0: clean). */
typedef void (*gw_drained_cb)(void *ud, uint64_t abandoned);

/* Called once from the front's stop callback (its last act). */
typedef void (*gw_closed_cb)(void *ud);

#define GW_FRONT_MAX_BINDS 16
#define GW_FRONT_ENDPOINT_MAX 256

/* What gw_front needs; read during the spawn only (copied). */
typedef struct gw_front_cfg {
    const char *binds[GW_FRONT_MAX_BINDS]; /* endpoints to bind */
    size_t nbinds;                         /* 1..GW_FRONT_MAX_BINDS */
    wire_limits_t limits;                  /* announced in hello, enforced */
    rt_addr_t cluster;                     /* the cluster actor (exec, stats) */
    const char *server;                    /* hello's `server` */
    gw_log_cb log;                         /* may be NULL */
    void *log_ud;
    gw_drained_cb on_drained;              /* may be NULL */
    gw_closed_cb on_closed;                /* may be NULL */
    void *cb_ud;                           /* of on_drained and on_closed */
    bool own_cluster;                      /* FRONT_STOP stops the cluster too */
    /* out: the endpoints as bound (wildcards resolved), written by the
     * spawn; may be NULL */
    char (*bound)[GW_FRONT_ENDPOINT_MAX];
} gw_front_cfg_t;

/* The front's actor type: spawn it with a gw_front_cfg_t as arg. Spawn
 * errors: CQLMQ_EINVAL (no endpoint, bad limits), CQLMQ_EZMQ (an endpoint
 * could not be bound: the log says which), CQLMQ_ENOMEM, CQLMQ_EUV. */
extern const rt_actor_def_t gw_front_def;

#endif /* GW_FRONT_H */
