/*
 * node_internal: the structures shared by the server's files, and the
 * functions they call in each other. Not a public header.
 *
 *   node_cluster.c   cluster and node (host) lifecycles, listeners, flushing
 *   node_conn.c      one client connection: reading, frames, coalesced writes
 *   node_dispatch.c  one request frame: log, faults, handshake or executor
 *   node_proto.c     OPTIONS / STARTUP / AUTH_RESPONSE / REGISTER, errors
 *   node_events.c    EVENT pushes (STATUS_CHANGE, SCHEMA_CHANGE, TOPOLOGY_CHANGE)
 *   node_control.c   the ZeroMQ control socket on the loop
 *   node_ctl_cmd.c   control commands (decode, run, reply)
 *
 * Handle ownership: every uv handle the cluster creates is counted in
 * cluster->open_handles when initialised and uncounted in its close
 * callback, which is also where its memory is freed. A connection is closed
 * by flagging it (closing) and calling uv_close; its memory lives until the
 * close callback, so a handler may close its own connection.
 */
#ifndef NODE_INTERNAL_H
#define NODE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cql_arena.h"
#include "cql_buf.h"
#include "cql_frame.h"
#include "cql_msg.h"
#include "node_actlog.h"
#include "node_config.h"
#include "node_exec.h"
#include "node_fault.h"
#include "node_server.h"
#include "node_topo.h"

#define NODE_READ_BUF (64 * 1024)           /* bytes per read call */
#define NODE_OUT_HIGH_WATER (8u << 20)      /* stop reading above this output */
#define NODE_LINGER_MS 2000                 /* graceful close: wait for EOF */
#define NODE_SWEEP_MS 100                   /* housekeeping timer period */
#define NODE_PURGE_BUDGET 256               /* partitions purged per sweep */
#define NODE_DOWN_EVENT_DELAY_MS 250        /* STATUS_CHANGE DOWN after the close */

typedef struct node_conn node_conn_t;
typedef struct node_host node_host_t;
typedef struct node_delay node_delay_t;
typedef struct node_control node_control_t;

typedef enum node_conn_state {
    NODE_CONN_NEW = 0,   /* before STARTUP (OPTIONS allowed) */
    NODE_CONN_AUTH,      /* AUTHENTICATE sent, waiting for AUTH_RESPONSE */
    NODE_CONN_READY,     /* requests allowed */
} node_conn_state_t;

/* A response held back by a latency fault. Owned by its connection's list
 * until its timer fires or the connection closes; freed in the timer's
 * close callback. */
struct node_delay {
    uv_timer_t timer;          /* timer.data = this */
    node_cluster_t *cluster;   /* for the handle count */
    node_conn_t *conn;         /* NULL once detached (connection closed) */
    node_delay_t *prev, *next; /* conn->delays */
    size_t len;                /* bytes of encoded frames after this struct */
};

/*
 * One client connection. Invariants: on host->conns while not closing;
 * writing <=> a uv_write of wbuf is in flight; out collects frames produced
 * since (they go out in the next write: coalescing); dirty <=> on the
 * cluster's dirty list; version is 0 until the first frame, then fixed.
 */
struct node_conn {
    uv_tcp_t tcp;                /* tcp.data = this */
    node_host_t *host;           /* node it arrived on */
    uint64_t id;                 /* unique in the cluster */
    node_conn_t *prev, *next;    /* host->conns */
    node_conn_t *dirty_next;     /* cluster->dirty list */
    bool dirty;
    bool reading;                /* uv_read_start in effect */
    bool writing;                /* wreq in flight */
    bool throttled;              /* output above high water */
    bool closing;                /* uv_close called */
    bool close_when_flushed;     /* close once out and wbuf are written */
    bool lingering;              /* shut down, discarding input until EOF */
    bool linked;                 /* on host->conns */
    uint64_t linger_deadline;    /* uv_now() ms: closed by the sweep after it */
    node_conn_state_t state;
    int version;                 /* 0, 3 or 4 */
    unsigned events;             /* 1 << cql_event_type_t registered */
    int64_t close_after;         /* frames still answered; -1 = no limit */
    uint64_t frames_in;          /* request frames read */
    cql_frame_decoder_t dec;     /* byte stream -> frames */
    cql_arena_t arena;           /* decoded message of the current frame */
    node_session_t session;      /* the executor's view (after STARTUP) */
    cql_wr_t out;                /* frames waiting for the next write */
    cql_wr_t wbuf;               /* frames being written */
    uv_write_t wreq;
    uv_shutdown_t sreq;
    node_delay_t *delays;        /* latency-delayed responses */
    char *rbuf;                  /* NODE_READ_BUF bytes */
    char peer[64];               /* "ip:port" of the client */
};

/* An event waiting for delivery: its frames in cluster->ev[0] (v3) and
 * ev[1] (v4) at off[k], len[k] bytes (len 0: not encodable there). */
typedef struct node_ev_pending {
    int type;                    /* cql_event_type_t */
    int exclude_node;            /* node whose connections skip it, or -1 */
    size_t off[2], len[2];
} node_ev_pending_t;

/* One simulated node (a slot: c->topo says whether it is a member).
 * Invariants: listener != NULL <=> up (listening); a slot that is not a
 * member has no listener and no connections. */
struct node_host {
    node_cluster_t *cluster;
    int index;                   /* 0-based; address 127.0.0.(index+1) */
    uv_tcp_t *listener;          /* heap; freed in its close callback */
    bool up;                     /* started and listening */
    bool paused;                 /* reads paused (fault) */
    uint64_t down_event_due;     /* uv_now() ms of a delayed DOWN event, 0 = none */
    node_conn_t *conns;          /* open connections */
    size_t nconns;
};

struct node_cluster {
    uv_loop_t *loop;             /* borrowed */
    node_config_t cfg;           /* copy */
    node_topo_t topo;            /* what the executor shows (stable address) */
    node_db_t *db;
    node_host_t hosts[NODE_MAX_NODES];
    int port;                    /* bound CQL port, 0 before start */
    node_faults_t faults;
    node_actlog_t log;
    node_control_t *control;     /* NULL without --control */
    char control_endpoint[NODE_ENDPOINT_MAX + 1];
    uv_async_t stop_async;       /* node_cluster_request_stop */
    uv_prepare_t flush_prepare;  /* flush before the loop blocks */
    uv_check_t flush_check;      /* flush after I/O callbacks */
    uv_timer_t sweep;            /* lingering connections */
    node_conn_t *dirty;          /* connections with output to write */
    cql_wr_t scratch;            /* responses of delayed requests */
    cql_wr_t ev[2];              /* pending event frames for v3 ([0]), v4 ([1]) */
    node_ev_pending_t *evq;      /* one entry per pending event */
    size_t nevq, evq_cap;
    uint64_t next_conn_id;
    uint64_t rng;                /* xorshift state for random latencies */
    int open_handles;            /* initialised, not yet closed */
    bool started;
    bool stopping;
};

/* ---- node_cluster.c ---- */
void node_cluster_handle_closed(uv_handle_t *h);  /* close cb: count only */
uint64_t node_cluster_random(node_cluster_t *c);
void node_cluster_mark_dirty(node_cluster_t *c, node_conn_t *conn);
void node_cluster_flush(node_cluster_t *c);
int node_cluster_clear_faults(node_cluster_t *c);

/* ---- node_conn.c ---- */
void node_conn_accept(node_host_t *h);
/* Closes now; pending output is dropped. Safe to call twice. */
void node_conn_close(node_conn_t *conn);
/* Stops reading, writes what is pending, then shuts down gracefully. */
void node_conn_close_after_flush(node_conn_t *conn);
/* Starts or stops reading as paused / throttled / closing demand. */
void node_conn_update_reading(node_conn_t *conn);
/* Starts a write of conn->out if none is in flight. */
void node_conn_flush(node_conn_t *conn);
/* Closes lingering connections past their deadline. */
void node_conn_sweep(node_host_t *h, uint64_t now_ms);
/* Holds `len` bytes of encoded frames back for ms milliseconds. Returns 0 or
 * CQLMQ_ENOMEM (then the bytes are sent at once). */
int node_conn_delay(node_conn_t *conn, const uint8_t *data, size_t len, uint32_t ms);

/* ---- node_dispatch.c ---- */
/* Handles one complete request frame read on conn. */
void node_dispatch_frame(node_conn_t *conn, const cql_frame_t *f);

/* ---- node_proto.c ---- */
/* Appends an ERROR frame (code, printf message) on stream to w. */
void node_proto_error(node_conn_t *conn, cql_wr_t *w, int version, int16_t stream,
                      int32_t code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Answers a frame the decoder refused (rc from cql_frame_decoder_next). */
void node_proto_bad_frame(node_conn_t *conn, int rc, const cql_frame_header_t *h);
/* OPTIONS, STARTUP, AUTH_RESPONSE, REGISTER: the reply goes to w. */
void node_proto_handshake(node_conn_t *conn, cql_wr_t *w, int16_t stream, const cql_msg_t *m);

/* ---- node_events.c ---- */
void node_events_on_schema_change(void *ud, const cql_schema_change_t *ev);
/* Queues STATUS_CHANGE UP/DOWN of node i for the other nodes. DOWN waits
 * NODE_DOWN_EVENT_DELAY_MS (see node_events.c); an UP sends a pending DOWN
 * of the same node first, so the order is kept. */
void node_events_status(node_cluster_t *c, int i, bool up);
/* Queues TOPOLOGY_CHANGE `change` (cql_topology_change_t) of node i for the
 * other nodes (call after the topology changed). */
void node_events_topology(node_cluster_t *c, int i, int change);
/* Queues the delayed DOWN events that are due by now_ms, and delivers. */
void node_events_tick(node_cluster_t *c, uint64_t now_ms);
/* Hands queued event frames to every registered connection. */
void node_events_deliver(node_cluster_t *c);

/* ---- node_control.c ---- */
int node_control_open(node_cluster_t *c, const char *endpoint);
void node_control_close(node_cluster_t *c);

#endif /* NODE_INTERNAL_H */
