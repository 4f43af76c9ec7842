/*
 * conn_int: the connection actor's private state, shared by its two files:
 *   connection.c  the actor: requests, responses, deadlines, heartbeats,
 *                 keyspace switches, closing
 *   conn_proto.c  the handshake (OPTIONS, STARTUP, AUTH) and the frame
 *                 helpers (writing a frame, peeking at RESULT bodies)
 * Not a public header.
 */
#ifndef GW_CONN_INT_H
#define GW_CONN_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "connection.h"
#include "cql_frame.h"
#include "streams.h"

#define GW_KS_MAX 48          /* Cassandra's keyspace name limit */
#define GW_TICK_FAST_MS 20    /* deadline granularity while busy */
#define GW_TICK_SLOW_MS 1000  /* idle: heartbeats only */

typedef enum conn_phase {
    PH_CONNECTING = 0, /* TCP connect in progress */
    PH_OPTIONS,        /* OPTIONS sent */
    PH_STARTUP,        /* STARTUP sent */
    PH_AUTH,           /* AUTH_RESPONSE sent */
    PH_READY,          /* serving requests */
    PH_CLOSING,        /* rt_tcp_close called, waiting for on_close */
} conn_phase_t;

/* A request held until a keyspace switch completes. */
typedef struct qreq {
    struct qreq *next;
    gw_slot_t slot;    /* what its stream will carry */
    uint8_t *body;     /* owned copy of the CQL body */
    size_t len;
} qreq_t;

/*
 * Invariants: tcp != NULL until on_close (or stop) ran; phase READY <=>
 * version fixed and requests accepted; switching <=> a GW_SK_USE stream is
 * taken and ks_pending names its keyspace; queued requests exist only
 * while switching; ks_inflight counts BUSY slots with has_ks; finished
 * <=> every held request was answered and CLOSED was sent.
 */
typedef struct conn {
    rt_actor_t *self;
    gw_conn_opts_t o;              /* copy of the spawn options */
    char name[64];                 /* "ip:port", for replies and logs */
    rt_tcp_t *tcp;                 /* NULL once closed */
    conn_phase_t phase;
    int version;                   /* protocol version being spoken */
    int next_version;              /* set when the node refused version */
    gw_streams_t streams;
    uint64_t last_read_ms;         /* last frame read */
    uint64_t phase_deadline_ms;    /* handshake step deadline */
    int hb_stream;                 /* heartbeat OPTIONS in flight, or -1 */
    uint64_t tick_id;              /* the tick timer */
    bool tick_fast;                /* its period is GW_TICK_FAST_MS */
    char keyspace[GW_KS_MAX + 1];  /* current keyspace ("" = none) */
    char ks_pending[GW_KS_MAX + 1];
    bool switching;
    qreq_t *qhead, *qtail;         /* held for the switch */
    uint32_t ks_inflight;
    int close_reason;              /* why it closes (CQLMQ_E*) */
    char close_msg[160];           /* and in words */
    bool finished;
} conn_t;

/* ---- conn_proto.c ---- */
/* Writes a frame (header + body) to the socket. Returns rt_tcp_write's. */
int gwconn_write_frame(conn_t *c, int16_t stream, uint8_t opcode, const uint8_t *body,
                     size_t len);
/* Starts the handshake after the TCP connect: sends OPTIONS. */
void gwconn_handshake_start(conn_t *c);
/* A frame received before READY. */
void gwconn_handshake_frame(conn_t *c, const cql_frame_header_t *h, const uint8_t *body);
/* The keyspace of a RESULT body if it is SET_KEYSPACE (copied into out,
 * GW_KS_MAX + 1 bytes): true; else false. */
bool gwconn_result_keyspace(int version, uint8_t flags, const uint8_t *body, size_t len,
                          char *out);

/* ---- connection.c ---- */
/* Closes the socket with reason and message (once; later calls keep the
 * first reason). The rest happens in on_close. */
void gwconn_fail(conn_t *c, int reason, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The handshake succeeded: report READY and start serving. */
void gwconn_ready(conn_t *c);

#endif /* GW_CONN_INT_H */
