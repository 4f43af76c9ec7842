/*
 * rt_internal: the runtime's private structures, shared by the runtime/ sources.
 *
 * Ownership at a glance:
 *   cqlmq_runtime_t owns the ZeroMQ context, the loops array and the door
 *   sockets. Each rt_loop_t owns its uv_loop_t, its actors (slot table), its
 *   inbox PULL and its PUSH sockets (created and closed on its own thread),
 *   and its outgoing frames. An actor owns its mailbox, timers and pending
 *   requests. A mailbox slot owns its payload (inline bytes, a heap buffer,
 *   or one reference on a received frame).
 */
#ifndef RT_INTERNAL_H
#define RT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "cqlmq/runtime.h"

/* Address layout. */
#define RT_SLOT_BITS 24
#define RT_GEN_BITS 24
#define RT_SLOT_MASK ((1u << RT_SLOT_BITS) - 1)
#define RT_GEN_MASK ((1u << RT_GEN_BITS) - 1)
static inline rt_addr_t rt_addr_make(unsigned loop, uint32_t gen, uint32_t slot)
{
    return (rt_addr_t)loop << 48 | (rt_addr_t)(gen & RT_GEN_MASK) << RT_SLOT_BITS |
           (slot & RT_SLOT_MASK);
}
static inline uint32_t rt_addr_slot(rt_addr_t a) { return (uint32_t)a & RT_SLOT_MASK; }
static inline uint32_t rt_addr_gen(rt_addr_t a) { return (uint32_t)(a >> RT_SLOT_BITS) & RT_GEN_MASK; }

/* The runtime's own message types (above RT_MSG_DOWN); handled by the
 * runtime when they arrive, never seen by handlers. */
#define RT_SYS_WATCH 0xff01u   /* from wants RT_MSG_DOWN when to stops */
#define RT_SYS_UNWATCH 0xff02u
#define RT_SYS_KILL 0xff03u    /* payload: reason (int) */

/* Cross-loop record: this header, then len payload bytes. Records are packed
 * back to back in one ZeroMQ frame (host byte order: inproc only). */
typedef struct rt_rec {
    uint64_t to, from, corr;
    uint16_t type, flags;
    uint32_t len;
} rt_rec_t;
#define RT_REC_SIZE sizeof(rt_rec_t) /* 32 */

/* A received frame shared by the mailbox slots that point into it. */
typedef struct rt_hold {
    zmq_msg_t msg;
    uint32_t refs; /* slots (and a parked cursor) still using msg */
} rt_hold_t;

enum { RT_PL_INLINE, RT_PL_HEAP, RT_PL_HOLD };
#define RT_INLINE_MAX 32

/* One queued message, 64 bytes. */
typedef struct rt_slot {
    rt_addr_t from;
    uint64_t corr;
    uint16_t type, flags;
    uint32_t len;
    uint8_t kind; /* RT_PL_* */
    union {
        uint8_t inl[RT_INLINE_MAX];
        struct {
            uint8_t *ptr;  /* HEAP: owned; HOLD: into hold->msg */
            rt_hold_t *hold;
        } ext;
    } u;
} rt_slot_t;

/* Ring of slots. Invariant: cap is 0 or a power of two; count <= cap. */
typedef struct rt_mailbox {
    rt_slot_t *slots;
    uint32_t cap, head, count;
} rt_mailbox_t;

typedef struct rt_timer {
    uv_timer_t h;          /* h.data = this */
    rt_actor_t *actor;     /* NULL once the actor is gone */
    struct rt_timer *next; /* actor's list */
    uint64_t id;
    uint16_t type;
    bool repeat;
    bool queued;           /* its message waits in the mailbox */
} rt_timer_t;

typedef struct rt_pending {
    uv_timer_t h;            /* timeout; h.data = this */
    rt_actor_t *actor;
    struct rt_pending *next; /* actor's list: the next older request */
    struct rt_pending *prev; /* actor's list: the next newer request */
    uint64_t corr;
    rt_reply_cb cb;
    void *ud;
} rt_pending_t;

struct rt_actor {
    rt_loop_t *loop;
    rt_addr_t addr;
    const rt_actor_def_t *def;
    void *state;
    rt_mailbox_t mbox;
    rt_actor_t *rq_prev, *rq_next; /* run queue links, valid when queued */
    bool queued;                   /* on the run queue */
    bool stopping;                 /* rt_stop called; no more handlers */
    bool dying_listed;             /* on loop->dying */
    int stop_reason;
    rt_actor_t *dying_next;
    rt_addr_t *watchers;           /* who gets RT_MSG_DOWN */
    uint32_t nwatchers, capwatchers;
    rt_timer_t *timers;
    rt_pending_t *pending;         /* requests in flight, newest first */
    rt_pending_t *pending_tail;    /* the oldest: replies mostly come in
                                      order, so their search starts here */
    uint64_t next_id;              /* timer ids and correlation ids */
};

/* The send in progress between rt_msg_begin and rt_msg_end. */
typedef struct rt_sending {
    bool active;
    bool local;     /* same loop: encoded in loop->scratch */
    unsigned dst;   /* destination loop */
    size_t off;     /* record offset in out[dst] */
    rt_rec_t rec;
} rt_sending_t;

struct rt_loop {
    cqlmq_runtime_t *rt;
    unsigned index;
    uv_loop_t uv;
    pthread_t thread;
    bool thread_started;

    /* actors: slot table with generations; free slots chained in free_next */
    rt_actor_t **actors;
    uint32_t *gens;
    uint32_t *free_next;
    uint32_t nslots, capslots, free_head; /* free_head UINT32_MAX = none */
    uint32_t nactors;

    rt_actor_t *rq_head, *rq_tail; /* run queue */
    rt_actor_t *dying;             /* stopped actors awaiting teardown */
    rt_actor_t *current;           /* actor whose handler runs, or NULL */
    uv_idle_t idle;                /* active while there is work to run */
    uv_prepare_t prepare;          /* flushes outgoing frames */
    uv_async_t wake;               /* stop and door commands */
    uv_timer_t retry;              /* retries frames a full pipe refused */
    bool idle_on;

    mpk_wr_t scratch;        /* same-loop encoding */
    mpk_wr_t *out;           /* [nloops] outgoing frame per destination */
    zmq_msg_t *stalled;      /* [nloops] a frame a full pipe refused */
    bool *stalled_on;        /* [nloops] stalled[d] holds a frame */
    size_t *out_hint;        /* [nloops] bytes of the last frame flushed to
                                d: out[d] starts again with that much room */
    bool any_dirty;          /* some out[d] has records */
    bool retry_on;           /* retry timer armed */
    void **push;             /* [nloops] PUSH to each other loop's inbox */
    rt_zsock_t *inbox;       /* PULL */
    rt_sending_t snd;

    rt_hold_t *parked;       /* frame waiting for a full mailbox */
    size_t parked_off;

    struct rt_zsock *zsocks; /* open sockets (closed at shutdown) */
    struct rt_tcp *tcps;     /* open connections */
    struct rt_tcp *tcp_flush; /* connections with writes queued this turn */
    struct rt_tcp_listener *listeners;

    pthread_mutex_t cmd_mu;  /* guards cmds and wake_closed */
    struct rt_cmd *cmds;
    bool wake_closed;        /* wake is closed: uv_async_send is forbidden */
    bool stopping;           /* shutdown began: no new actors */
    int closing_handles;     /* uv handles whose close callback is pending */
};

/* A door command (cqlmq_runtime_spawn while running). */
typedef struct rt_cmd {
    struct rt_cmd *next;
    const rt_actor_def_t *def;
    void *arg;
    rt_addr_t addr;
    int rc;
    bool done;
    pthread_cond_t cond;
} rt_cmd_t;

struct cqlmq_runtime {
    cqlmq_runtime_opts_t opts;
    void *zctx;
    rt_loop_t *loops;  /* [opts.loops] */
    pthread_mutex_t door_mu;
    void **door;       /* [opts.loops] PUSH, used under door_mu */
    atomic_int state;  /* RT_STATE_* */
};

/* The inbox endpoint of loop i (inproc names are per context). */
#define RT_INBOX_FMT "inproc://cqlmq-rt-inbox-%u"

enum { RT_STATE_NEW, RT_STATE_RUNNING, RT_STATE_STOPPING, RT_STATE_JOINED };

/* rt_actor.c */
rt_actor_t *rt_loop_find(rt_loop_t *loop, rt_addr_t addr);
void rt_loop_stop_all(rt_loop_t *loop, int reason);
void rt_run_dying(rt_loop_t *loop);
void rt_schedule(rt_actor_t *a);
void rt_watchers_add(rt_actor_t *a, rt_addr_t w);
void rt_watchers_remove(rt_actor_t *a, rt_addr_t w);
/* rt_send.c */
int rt_deliver(rt_loop_t *loop, rt_actor_t *a, const rt_rec_t *rec, const uint8_t *payload,
               rt_hold_t *hold, uint8_t **owned, bool bounded);
void rt_slot_release(rt_slot_t *s);
int rt_system_message(rt_loop_t *loop, const rt_rec_t *rec, const uint8_t *payload);
void rt_run_actor(rt_actor_t *a, uint32_t budget);
mpk_wr_t *rt_begin_(rt_loop_t *loop, rt_addr_t from, rt_addr_t to, uint16_t type,
                    uint16_t flags, uint64_t corr);
int rt_end_(rt_loop_t *loop);
int rt_send_from(rt_loop_t *loop, rt_addr_t from, rt_addr_t to, uint16_t type,
                 uint16_t flags, uint64_t corr, const void *p, size_t n);
void rt_hold_unref(rt_hold_t *h);
void rt_fail_request(rt_loop_t *loop, const rt_rec_t *rec, int err);
void rt_notify_down(rt_loop_t *loop, rt_addr_t who, rt_addr_t to, int reason);

/* rt_loop.c */
int rt_loop_init(rt_loop_t *loop, cqlmq_runtime_t *rt, unsigned index);
void rt_loop_close(rt_loop_t *loop);
void *rt_loop_main(void *arg);
void rt_loop_kick(rt_loop_t *loop);
void rt_loop_mark_dirty(rt_loop_t *loop, unsigned dst);
void rt_loop_flush(rt_loop_t *loop);
size_t rt_loop_out_max(const rt_loop_t *loop);
void rt_loop_inbox_frame(rt_loop_t *loop, zmq_msg_t *msg);
void rt_loop_unpark(rt_loop_t *loop);
void rt_loop_signal(rt_loop_t *loop);
void rt_loop_shutdown_unstarted(rt_loop_t *loop);

/* rt_timer.c */
bool rt_timer_accept(rt_actor_t *a, uint64_t id);
void rt_timers_cancel_all(rt_actor_t *a);
bool rt_pending_complete(rt_actor_t *a, const rt_msg_t *reply);
void rt_pending_cancel_all(rt_actor_t *a);

/* rt_zsock.c */
void rt_zsock_close_all(rt_loop_t *loop);
int rt_zmq_err(int e);

/* rt_tcp.c */
void rt_tcp_close_all(rt_loop_t *loop);
void rt_tcp_flush_all(rt_loop_t *loop);

#endif /* RT_INTERNAL_H */
