/*
 * cqlmq runtime: libuv loop threads running actors that exchange msgpack
 * messages; ZeroMQ sockets and TCP connections attached to loops.
 *
 * Two layers of names:
 *   cqlmq_runtime_*  the embedding API: create, start, stop, join, free, and
 *                    the one door through which non-loop threads reach actors
 *                    (cqlmq_runtime_send, cqlmq_runtime_spawn).
 *   rt_*             the actor toolkit, called on a loop's own thread (from
 *                    handlers, timer, socket and TCP callbacks).
 *
 * Model
 *   - A runtime owns N loops (threads), one ZeroMQ context, and nothing
 *     global: two runtimes in one process are independent.
 *   - An actor lives on one loop: private state plus one handler per message
 *     type (rt_actor_def_t). Its address (rt_addr_t) packs the loop index, a
 *     slot and a generation, so a stale address never reaches a new actor.
 *   - A message is (type, from, corr, flags, msgpack payload). Between loops
 *     messages travel over ZeroMQ inproc: each loop has one PULL inbox and one
 *     PUSH per destination loop; the messages one loop sends to another in a
 *     turn are gathered into one ZeroMQ frame (encoded once, handed to
 *     zmq_msg_init_data, no copy). On the same loop they are queued in the
 *     destination mailbox without a socket hop, with the same encoding.
 *   - Per-sender ordering: the messages one actor sends to another arrive in
 *     the order sent (same loop: one FIFO mailbox; across loops: one pipe per
 *     pair of loops, frames in order, records in order within a frame).
 *   - Scheduling: an actor is put on its loop's run queue when its mailbox
 *     goes from empty to non-empty, and handles at most `batch` messages per
 *     turn before the next actor runs.
 *   - Mailboxes are bounded (mailbox_max): a same-loop send to a full mailbox
 *     fails with CQLMQ_EMAILBOXFULL. A cross-loop frame whose target mailbox
 *     is full is parked and the inbox pauses until the mailbox drains
 *     (backpressure reaches the sender as a full pipe, then CQLMQ_EBUSY).
 *
 * Threads: every rt_* function must be called on the thread of the loop it
 * concerns, or before cqlmq_runtime_start. Other threads use only the
 * cqlmq_runtime_* functions.
 */
#ifndef CQLMQ_RUNTIME_H
#define CQLMQ_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <zmq.h>

#include "cqlmq/error.h"
#include "protocol/wire/mpk.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cqlmq_runtime cqlmq_runtime_t;
typedef struct rt_loop rt_loop_t;
typedef struct rt_actor rt_actor_t;
typedef struct rt_zsock rt_zsock_t;
typedef struct rt_tcp rt_tcp_t;

/* (loop:16 | generation:24 | slot:24); 0 is "nobody". */
typedef uint64_t rt_addr_t;
#define RT_ADDR_NONE ((rt_addr_t)0)
static inline unsigned rt_addr_loop(rt_addr_t a) { return (unsigned)(a >> 48); }

/* Message flags. */
#define RT_F_REQUEST 0x0001u /* corr is a request id; answer with rt_reply_* */
#define RT_F_REPLY 0x0002u   /* answers the request whose id is corr */
#define RT_F_ERROR 0x0004u   /* a reply carrying an error code (int) */
#define RT_F_TIMER 0x0008u   /* a timer fired; corr is the timer id */

/* Message types 0 .. RT_MSG_USER_MAX are the application's; the runtime's
 * own types are above. */
#define RT_MSG_USER_MAX 0xfeffu
#define RT_MSG_DOWN 0xff00u /* a watched actor stopped: payload [addr, reason] */

typedef struct rt_msg {
    rt_addr_t from;      /* sender, or RT_ADDR_NONE for the door */
    uint64_t corr;       /* request id, timer id, or 0 */
    uint16_t type;
    uint16_t flags;      /* RT_F_* */
    uint32_t len;        /* payload bytes */
    const uint8_t *data; /* msgpack payload; valid during the handler only */
} rt_msg_t;

/* A handler. It may send, spawn, start timers, and stop its actor (the stop
 * happens after it returns). */
typedef void (*rt_handler_cb)(rt_actor_t *self, const rt_msg_t *msg);

/* Immutable description of an actor type; usually a static const. */
typedef struct rt_actor_def {
    const char *name;
    const rt_handler_cb *handlers; /* indexed by message type; NULL = none */
    size_t nhandlers;
    rt_handler_cb on_down;     /* RT_MSG_DOWN (watch); NULL drops it */
    rt_handler_cb on_unknown;  /* types without a handler; NULL drops them */
    /* Called by rt_spawn with its arg: set the state (rt_set_state). A
     * non-zero return aborts the spawn and is returned by it. */
    int (*init)(rt_actor_t *self, void *arg);
    /* Called once when the actor stops, reason 0 or a CQLMQ_E* code: free
     * the state, close sockets and connections the actor owns. */
    void (*stop)(rt_actor_t *self, int reason);
} rt_actor_def_t;

typedef struct cqlmq_runtime_opts {
    unsigned loops;        /* loop threads, >= 1 (default 1) */
    uint32_t mailbox_max;  /* messages per mailbox (default 65536) */
    uint32_t batch;        /* messages per actor turn (default 64) */
    uint32_t max_msg;      /* payload bytes per message (default 64 MiB) */
    int pipe_hwm;          /* inproc HWM in frames (default 1000) */
} cqlmq_runtime_opts_t;

/* ---------------------------------------------------------------- */
/* Embedding API (any thread unless said otherwise)                  */

/* Creates a runtime (threads start with cqlmq_runtime_start). opts may be
 * NULL. Returns 0, CQLMQ_EINVAL, CQLMQ_ENOMEM, CQLMQ_EZMQ or CQLMQ_EUV. */
int cqlmq_runtime_new(const cqlmq_runtime_opts_t *opts, cqlmq_runtime_t **out);
/* Starts the loop threads. If SIGPIPE has its default disposition it is
 * set to ignored (process-wide: a reset TCP peer must not kill the process).
 * Returns 0, CQLMQ_ESTATE (started already),
 * CQLMQ_EIO (thread creation failed; the runtime stays unstarted). */
int cqlmq_runtime_start(cqlmq_runtime_t *rt);
/* Asks every loop to stop: actors are stopped with CQLMQ_ECLOSED, sockets
 * and handles closed (uv handles before their ZeroMQ sockets). Returns at
 * once; safe from any thread, loop threads included, and idempotent. */
void cqlmq_runtime_stop(cqlmq_runtime_t *rt);
/* Waits until every loop thread has exited, i.e. until someone (often an
 * actor) called cqlmq_runtime_stop. Not from a loop thread. Returns 0 or
 * CQLMQ_ESTATE (never started and not stopped, joined already, or called
 * from a loop thread). */
int cqlmq_runtime_join(cqlmq_runtime_t *rt);
/* Stops, joins, terminates the ZeroMQ context and frees; *rt = NULL.
 * Accepts NULL. Not from a loop thread. */
void cqlmq_runtime_free(cqlmq_runtime_t **rt);

unsigned cqlmq_runtime_loops(const cqlmq_runtime_t *rt);
rt_loop_t *cqlmq_runtime_loop(cqlmq_runtime_t *rt, unsigned index);
/* The runtime's ZeroMQ context (thread-safe, as all contexts are). */
void *cqlmq_runtime_zmq_ctx(cqlmq_runtime_t *rt);

/* The door: sends an encoded payload to an actor from a thread that is not a
 * loop thread (the message's `from` is RT_ADDR_NONE). Sends from one thread
 * keep their order. Thread-safe (a mutex guards one PUSH per loop).
 * Returns 0, CQLMQ_EINVAL (bad address or type), CQLMQ_ESTATE (not running),
 * CQLMQ_EAGAIN (the loop's pipe is full), CQLMQ_ETOOBIG, CQLMQ_ENOMEM,
 * CQLMQ_EZMQ. Delivery to a missing actor is silently dropped. */
int cqlmq_runtime_send(cqlmq_runtime_t *rt, rt_addr_t to, uint16_t type,
                       const void *payload, size_t len);
/* Spawns an actor on a loop from any thread that is not one of the loops'
 * (before start it runs directly; afterwards it waits for the loop).
 * Returns what rt_spawn returns, or CQLMQ_ESTATE (called from a loop
 * thread, or the runtime is stopping). */
int cqlmq_runtime_spawn(cqlmq_runtime_t *rt, unsigned loop, const rt_actor_def_t *def,
                        void *arg, rt_addr_t *out);

/* ---------------------------------------------------------------- */
/* Loops                                                              */

unsigned rt_loop_index(const rt_loop_t *loop);
uv_loop_t *rt_loop_uv(rt_loop_t *loop);
cqlmq_runtime_t *rt_loop_runtime(rt_loop_t *loop);

/* ---------------------------------------------------------------- */
/* Actors (on the loop's thread)                                      */

/* Spawns an actor on `loop`; def->init runs before it returns. Returns 0,
 * CQLMQ_ENOMEM, CQLMQ_ESTATE (loop stopping), CQLMQ_ELIMIT (slot table
 * full), or init's error. def must outlive the actor. */
int rt_spawn(rt_loop_t *loop, const rt_actor_def_t *def, void *arg, rt_addr_t *out);
/* Stops an actor after its current handler returns: its timers and pending
 * requests are cancelled (request callbacks get CQLMQ_ECANCELLED), queued
 * requests answered with CQLMQ_ENOACTOR, watchers sent RT_MSG_DOWN with
 * `reason`, then def->stop runs and the actor is freed. Idempotent. */
void rt_stop(rt_actor_t *self, int reason);
/* Asks another actor (any loop) to stop with `reason`. Returns 0,
 * CQLMQ_ENOACTOR (same loop and gone) or a send error. */
int rt_kill(rt_actor_t *self, rt_addr_t target, int reason);

rt_addr_t rt_self(const rt_actor_t *self);
rt_loop_t *rt_actor_loop(rt_actor_t *self);
void *rt_state(rt_actor_t *self);
void rt_set_state(rt_actor_t *self, void *state);

/* Sending: rt_msg_begin returns a writer to encode the payload into (one
 * msgpack value, or nothing); rt_msg_end delivers it. Between the two, no
 * other send may start on this loop. rt_msg_end returns 0, CQLMQ_ENOACTOR
 * (same-loop target gone), CQLMQ_EMAILBOXFULL, CQLMQ_ETOOBIG (max_msg),
 * CQLMQ_EBUSY (the pipe to the target loop is backed up beyond its bound),
 * CQLMQ_EINVAL (bad address) or the writer's error (CQLMQ_ENOMEM). Delivery
 * to a missing actor on another loop fails silently (requests get
 * CQLMQ_ENOACTOR back). */
mpk_wr_t *rt_msg_begin(rt_actor_t *self, rt_addr_t to, uint16_t type);
int rt_msg_end(rt_actor_t *self);
/* One call with an already encoded payload (len may be 0). */
int rt_send(rt_actor_t *self, rt_addr_t to, uint16_t type, const void *payload, size_t len);
/* Encode a schema struct (MPK_SCHEMA, compact form) and send it. */
#define RT_SEND(self, to, type, T, msgp) \
    (T##_encode_compact(rt_msg_begin((self), (to), (type)), (msgp)), rt_msg_end(self))

/* Watching: when target stops (or is already gone), self receives
 * RT_MSG_DOWN. Returns 0 or a send error. */
int rt_watch(rt_actor_t *self, rt_addr_t target);
int rt_unwatch(rt_actor_t *self, rt_addr_t target);
/* Decodes an RT_MSG_DOWN payload. Returns 0 or CQLMQ_EMALFORMED. */
int rt_down_decode(const rt_msg_t *msg, rt_addr_t *who, int *reason);

/* Timers deliver a message of `type` (flags RT_F_TIMER, corr = timer id) to
 * the actor. repeat_ms 0 is one-shot. A timer whose message is still queued
 * fires no second message (ticks coalesce). After rt_timer_cancel returns 0
 * no message of that timer is handled. Returns 0, CQLMQ_ENOMEM, CQLMQ_EUV;
 * cancel returns 0 or CQLMQ_ENOTFOUND. */
int rt_timer_start(rt_actor_t *self, uint64_t timeout_ms, uint64_t repeat_ms,
                   uint16_t type, uint64_t *timer_id);
int rt_timer_cancel(rt_actor_t *self, uint64_t timer_id);

/* Request/reply. rt_request_begin is rt_msg_begin with a fresh correlation
 * id; rt_request_end sends and calls cb exactly once: with the reply
 * (err 0), with err CQLMQ_ETIMEOUT after timeout_ms, with the error a
 * RT_F_ERROR reply carries (CQLMQ_ENOACTOR when the target was gone), or
 * with CQLMQ_ECANCELLED when self stops first. reply is NULL when err != 0.
 * rt_request_end returns 0 or a send error (then cb is not called). */
typedef void (*rt_reply_cb)(rt_actor_t *self, const rt_msg_t *reply, int err, void *ud);
mpk_wr_t *rt_request_begin(rt_actor_t *self, rt_addr_t to, uint16_t type);
int rt_request_end(rt_actor_t *self, uint64_t timeout_ms, rt_reply_cb cb, void *ud,
                   uint64_t *corr_out);
/* Replies to a request (flags RT_F_REPLY, the request's corr). */
mpk_wr_t *rt_reply_begin(rt_actor_t *self, const rt_msg_t *req, uint16_t type);
int rt_reply_error(rt_actor_t *self, const rt_msg_t *req, int err);

/* ---------------------------------------------------------------- */
/* ZeroMQ sockets on a loop                                           */

/* Called once per received message with all its frames (at most
 * RT_ZSOCK_MAX_PARTS; longer messages are dropped and counted). The
 * callback may zmq_msg_move frames it keeps; the rest are closed after it
 * returns. It may close its own socket. */
#define RT_ZSOCK_MAX_PARTS 8
typedef void (*rt_zsock_cb)(rt_zsock_t *zs, zmq_msg_t *parts, size_t nparts, void *ud);

/* Creates a socket of `type` in the runtime's context (LINGER 0), polled on
 * loop with the ZMQ_FD + ZMQ_EVENTS pattern that cannot stall: at most
 * `batch` messages per loop turn (0 = 64). Bind/connect it through
 * rt_zsock_handle. Returns 0, CQLMQ_ENOMEM, CQLMQ_EZMQ, CQLMQ_EUV. */
int rt_zsock_new(rt_loop_t *loop, int type, unsigned batch, rt_zsock_cb cb, void *ud,
                 rt_zsock_t **out);
void *rt_zsock_handle(rt_zsock_t *zs);
/* Sends frames with ZMQ_DONTWAIT. Returns 0, CQLMQ_EAGAIN (peer or pipe
 * full: nothing sent), CQLMQ_EUNREACHABLE (ROUTER_MANDATORY: no such peer),
 * CQLMQ_ECLOSED, CQLMQ_EZMQ. The caller closes the parts in every case
 * (after a successful send they are empty). */
int rt_zsock_send(rt_zsock_t *zs, zmq_msg_t *parts, size_t nparts);
/* Frames from buffers: the ones with a non-NULL `own` entry are handed
 * over (freed with mpk_free_cb, also on error); others are copied. */
int rt_zsock_send_bufs(rt_zsock_t *zs, const void *const *bufs, const size_t *lens,
                       void *const *own, size_t n);
/* Stops/resumes reading (sending still works). */
void rt_zsock_pause(rt_zsock_t *zs, bool paused);
/* Closes: uv handles first, the ZeroMQ socket in their close callback; safe
 * inside the socket's own callback (deferred). *zs = NULL; accepts NULL. */
void rt_zsock_close(rt_zsock_t **zs);
/* Messages received since creation (for tests and stats). */
uint64_t rt_zsock_received(const rt_zsock_t *zs);

/* ---------------------------------------------------------------- */
/* TCP connections on a loop                                          */

/* Events of one connection; ud is the pointer given at creation. */
typedef struct rt_tcp_cbs {
    /* Connected (status 0) or failed: CQLMQ_ETIMEOUT, CQLMQ_ECONNREFUSED,
     * CQLMQ_EIO. After a failure on_close follows. May be NULL (accepted
     * connections never call it). */
    void (*on_connect)(rt_tcp_t *t, int status, void *ud);
    /* The streaming decoder: bytes received and not yet consumed (earlier
     * leftovers first). Return how many bytes were consumed (0..n): the rest
     * is kept and offered again with more. A negative CQLMQ_E* code closes
     * the connection with that reason. Buffered bytes beyond max_input close
     * it with CQLMQ_ETOOBIG. */
    long (*on_data)(rt_tcp_t *t, const uint8_t *p, size_t n, void *ud);
    /* Exactly once, last: reason 0 (local close), CQLMQ_ECLOSED (peer
     * closed), CQLMQ_ECONNRESET, CQLMQ_ETIMEOUT, or a code given to
     * rt_tcp_close / returned by on_data. The handle is freed after it. */
    void (*on_close)(rt_tcp_t *t, int reason, void *ud);
} rt_tcp_cbs_t;

/* The transport seam (plain TCP today, TLS later): a filter between the
 * socket and the connection's plaintext. NULL ops = plain TCP. A TLS
 * transport decrypts in on_read and hands plaintext to rt_tcp_deliver, and
 * encrypts in on_write and queues ciphertext with rt_tcp_queue_wire. */
typedef struct rt_transport_ops {
    const char *name;
    int (*open)(rt_tcp_t *t, void *cfg, void **ctx);
    int (*on_read)(rt_tcp_t *t, void *ctx, const uint8_t *p, size_t n);
    int (*on_write)(rt_tcp_t *t, void *ctx, const uint8_t *p, size_t n);
    void (*close)(void *ctx);
} rt_transport_ops_t;

typedef struct rt_tcp_opts {
    uint64_t connect_timeout_ms;          /* 0 = 10 s */
    size_t max_input;                     /* buffered unconsumed bytes; 0 = 16 MiB */
    const rt_transport_ops_t *transport;  /* NULL = plain */
    void *transport_cfg;
} rt_tcp_opts_t;

/* Connects with a timeout. Errors found at once are returned (CQLMQ_EINVAL,
 * CQLMQ_ENOMEM, CQLMQ_EUV) and no callback follows; later ones arrive
 * through on_connect then on_close. */
int rt_tcp_connect(rt_loop_t *loop, const struct sockaddr *addr, const rt_tcp_opts_t *opts,
                   const rt_tcp_cbs_t *cbs, void *ud, rt_tcp_t **out);

/* A listener: each accepted connection is offered to on_accept, which
 * returns the callbacks and ud to use (return NULL to refuse it). */
typedef struct rt_tcp_listener rt_tcp_listener_t;
typedef const rt_tcp_cbs_t *(*rt_tcp_accept_cb)(rt_tcp_listener_t *l, rt_tcp_t *t,
                                                void *lud, void **ud);
/* Binds and listens; *port_out gets the bound port (bind port 0 for any).
 * Returns 0, CQLMQ_ENOMEM, CQLMQ_EUV. */
int rt_tcp_listen(rt_loop_t *loop, const struct sockaddr *addr, const rt_tcp_opts_t *opts,
                  rt_tcp_accept_cb on_accept, void *lud, rt_tcp_listener_t **out,
                  int *port_out);
void rt_tcp_listener_close(rt_tcp_listener_t **l);

/* Queues bytes (copied). Writes queued during one loop turn are coalesced
 * into one uv_write at the end of the turn. Returns 0, CQLMQ_ECLOSED,
 * CQLMQ_ENOMEM or the transport's error. */
int rt_tcp_write(rt_tcp_t *t, const void *p, size_t n);
/* Queues a heap buffer without copying (plain transport); *buf is taken
 * (freed with free()) and NULLed, also on error. */
int rt_tcp_write_owned(rt_tcp_t *t, uint8_t **buf, size_t n);
/* Bytes queued and not yet written by the kernel: the backpressure signal. */
size_t rt_tcp_queued(const rt_tcp_t *t);
/* uv_write calls made so far (one per turn with queued writes). */
uint64_t rt_tcp_uv_writes(const rt_tcp_t *t);
/* Closes after the current callback returns (safe inside this connection's
 * own callbacks); queued writes are dropped; on_close(reason) follows. */
void rt_tcp_close(rt_tcp_t *t, int reason);
/* Closes without any further callback (for an owner that is going away,
 * e.g. from an actor's stop callback). */
void rt_tcp_abandon(rt_tcp_t *t);
bool rt_tcp_connected(const rt_tcp_t *t);

/* For transports: plaintext up to on_data; ciphertext down to the socket. */
int rt_tcp_deliver(rt_tcp_t *t, const uint8_t *p, size_t n);
int rt_tcp_queue_wire(rt_tcp_t *t, const uint8_t *p, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* CQLMQ_RUNTIME_H */
