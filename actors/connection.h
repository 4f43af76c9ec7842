/*
 * connection: the actor that owns ONE TCP connection to a Cassandra node.
 *
 * Lifecycle: spawned by the cluster actor (its owner) with gw_conn_opts_t;
 * connects with a timeout; handshakes (OPTIONS -> SUPPORTED, STARTUP ->
 * READY, or AUTHENTICATE -> SASL PLAIN AUTH_RESPONSE -> AUTH_SUCCESS);
 * reports GW_CONN_READY; serves GW_MSG_CONN_REQ until the socket closes
 * for any reason; then answers GW_MSG_CONN_DONE (CQLMQ_ECLOSED) for every
 * request it still holds, reports GW_CONN_CLOSED and stops. The actor
 * lives exactly as long as its socket: reconnecting is the owner's job.
 *
 * Version: opts.version is tried (4 by default). A node that refuses it
 * with a protocol error mentioning the protocol version (Cassandra:
 * "Invalid or unsupported protocol version (4); supported versions are
 * (3/v3)") makes the connection close with CLOSED{reason
 * CQLMQ_EBADVERSION, version = the one to try next}; the owner reconnects
 * at once with it. Versions below 3 are not spoken.
 *
 * Requests: one stream id each (streams.h); the frame is written through
 * rt_tcp, so every frame queued within one turn leaves in one uv_write.
 * A successful RESULT to a request carrying reply_to is answered to the
 * requester directly (gw_reply.h) and the owner gets a small DONE; every
 * other outcome goes to the owner as a DONE with the body.
 *
 * Deadlines: a request whose deadline passes is answered DONE{ETIMEOUT}
 * and its stream id quarantined (ORPHAN) until the late response arrives
 * or the socket closes. More than a quarter of the ids orphaned closes the
 * connection (the node is not answering).
 *
 * Keyspace: a request with a keyspace other than the connection's makes
 * the connection send `USE "ks"` and hold that request (and later ones for
 * the same keyspace) until SET_KEYSPACE arrives; requests without a
 * keyspace are never held. The owner never sends a request for another
 * keyspace while keyspace-dependent requests are in flight (if it does,
 * the request is refused with DONE{EBUSY}).
 *
 * Heartbeats: after heartbeat_ms without reading a frame, OPTIONS is sent;
 * no answer within heartbeat_timeout_ms closes the connection
 * (CQLMQ_ETIMEOUT).
 *
 * EVENT frames (stream -1) are forwarded to the owner as GW_MSG_CONN_EVENT.
 */
#ifndef GW_CONNECTION_H
#define GW_CONNECTION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cqlmq/runtime.h"
#include "gw_msgs.h"

#define GW_CRED_MAX 128

typedef struct gw_conn_opts {
    struct sockaddr_storage addr;      /* the node's native transport */
    rt_addr_t owner;                   /* receives DONE / STATE / EVENT */
    uint32_t conn;                     /* the owner's id, echoed in messages */
    int version;                       /* 3 or 4; 0 = 4 */
    uint32_t max_streams;              /* stream ids used, 1 .. 32768 */
    uint64_t connect_timeout_ms;       /* 0 = 5000 */
    uint64_t heartbeat_ms;             /* 0 = no heartbeats */
    uint64_t heartbeat_timeout_ms;     /* 0 = 5000 */
    uint64_t handshake_timeout_ms;     /* 0 = 5000 */
    size_t max_frame;                  /* largest response frame; 0 = 256 MiB */
    char user[GW_CRED_MAX + 1];        /* "" = no credentials */
    char password[GW_CRED_MAX + 1];
} gw_conn_opts_t;

/* The actor type. Spawn argument: const gw_conn_opts_t * (copied). init
 * returns the error of rt_tcp_connect (CQLMQ_EINVAL, CQLMQ_ENOMEM,
 * CQLMQ_EUV, CQLMQ_ESTATE) or CQLMQ_ENOMEM; then no message follows. */
extern const rt_actor_def_t gw_conn_def;

#endif /* GW_CONNECTION_H */
