/*
 * rt_loop: one loop thread — its libuv handles, the scheduler pass, the
 * cross-loop frames in and out, door commands, and its shutdown.
 *
 * Per iteration of uv_run:
 *   idle     the scheduler: actors on the run queue take turns (at most
 *            `batch` messages each), then stopped actors are torn down and a
 *            parked frame is retried. Active only while there is work.
 *   prepare  flushes what the turn produced: TCP writes (one uv_write per
 *            connection) and one ZeroMQ frame per destination loop.
 *   poll/check  ZeroMQ sockets (rt_zsock.c), the inbox among them.
 * Sockets are created and closed on this thread. Shutdown order: actors
 * stopped, connections and sockets closed (uv handles first, ZeroMQ sockets
 * in the close callbacks), own handles closed, uv_run returns, PUSH sockets
 * closed, loop closed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

#define RT_TURNS_PER_PASS 64
#define RT_OUT_MAX (64u << 20) /* bytes queued per destination before EBUSY */
#define RT_RETRY_MS 1

static void count_close(uv_handle_t *h)
{
    ((rt_loop_t *)h->loop->data)->closing_handles--;
}

static void close_handle(rt_loop_t *loop, uv_handle_t *h)
{
    if (!uv_is_closing(h)) {
        loop->closing_handles++;
        uv_close(h, count_close);
    }
}

size_t rt_loop_out_max(const rt_loop_t *loop)
{
    (void)loop;
    return RT_OUT_MAX;
}

static void on_idle(uv_idle_t *h);

void rt_loop_kick(rt_loop_t *loop)
{
    if (!loop->idle_on && !uv_is_closing((uv_handle_t *)&loop->idle)) {
        loop->idle_on = true;
        uv_idle_start(&loop->idle, on_idle);
    }
}

/* ---- the scheduler ---- */

static void on_idle(uv_idle_t *h)
{
    rt_loop_t *loop = h->loop->data;
    uint32_t batch = loop->rt->opts.batch;
    for (int turns = 0; turns < RT_TURNS_PER_PASS && loop->rq_head != NULL; turns++) {
        rt_actor_t *a = loop->rq_head;
        loop->rq_head = a->rq_next;
        if (loop->rq_head)
            loop->rq_head->rq_prev = NULL;
        else
            loop->rq_tail = NULL;
        a->queued = false;
        a->rq_next = a->rq_prev = NULL;
        rt_run_actor(a, batch);
    }
    rt_run_dying(loop);
    if (loop->parked != NULL)
        rt_loop_unpark(loop);
    if (loop->rq_head == NULL && loop->dying == NULL && loop->parked == NULL) {
        uv_idle_stop(&loop->idle);
        loop->idle_on = false;
    }
}

/* ---- outgoing frames ---- */

void rt_loop_mark_dirty(rt_loop_t *loop, unsigned dst)
{
    (void)dst;
    loop->any_dirty = true;
}

static void on_retry(uv_timer_t *h)
{
    rt_loop_t *loop = h->loop->data;
    loop->retry_on = false;
    rt_loop_flush(loop);
}

/* Sends stalled[d] if any, then out[d]. Returns false if the pipe is full. */
static bool flush_one(rt_loop_t *loop, unsigned d)
{
    void *push = loop->push[d];
    if (push == NULL)
        return true; /* not started yet, or shutting down: keep or drop later */
    if (loop->stalled_on[d]) {
        if (zmq_msg_send(&loop->stalled[d], push, ZMQ_DONTWAIT) < 0)
            return errno != EAGAIN; /* other errors: context ending */
        loop->stalled_on[d] = false;
    }
    mpk_wr_t *w = &loop->out[d];
    if (w->len == 0)
        return true;
    size_t len;
    uint8_t *buf = mpk_wr_release(w, &len);
    if (buf == NULL)
        return true; /* cannot happen: rt_end_ clears errors */
    loop->out_hint[d] = len;
    zmq_msg_t *m = &loop->stalled[d];
    if (zmq_msg_init_data(m, buf, len, mpk_free_cb, NULL) != 0) {
        free(buf);
        return true;
    }
    if (zmq_msg_send(m, push, ZMQ_DONTWAIT) < 0) {
        if (errno == EAGAIN) {
            loop->stalled_on[d] = true; /* keep it; new records go to out[d] */
            return false;
        }
        zmq_msg_close(m);
    }
    return true;
}

void rt_loop_flush(rt_loop_t *loop)
{
    if (!loop->any_dirty)
        return;
    bool again = false;
    for (unsigned d = 0; d < loop->rt->opts.loops; d++)
        if ((loop->stalled_on[d] || loop->out[d].len > 0) && !flush_one(loop, d))
            again = true;
    loop->any_dirty = again;
    if (again && !loop->retry_on && !loop->stopping) {
        loop->retry_on = true;
        uv_timer_start(&loop->retry, on_retry, RT_RETRY_MS, 0);
    }
}

static void on_prepare(uv_prepare_t *h)
{
    rt_loop_t *loop = h->loop->data;
    rt_tcp_flush_all(loop);
    rt_loop_flush(loop);
}

/* ---- incoming frames ---- */

/* Delivers the records of a frame from *off. Returns true when it parked at
 * *off because the target's mailbox is full (a reference on the hold is
 * taken for loop->parked). Malformed frames are dropped from the bad record
 * on (they can only come from a bug: the inbox is inproc). */
static bool walk(rt_loop_t *loop, zmq_msg_t *msg, rt_hold_t **hold, size_t *off)
{
    for (;;) {
        zmq_msg_t *src = *hold ? &(*hold)->msg : msg;
        const uint8_t *p = zmq_msg_data(src);
        size_t size = zmq_msg_size(src);
        if (*off >= size || size - *off < RT_REC_SIZE)
            return false;
        rt_rec_t rec;
        memcpy(&rec, p + *off, RT_REC_SIZE);
        if (rec.len > size - *off - RT_REC_SIZE)
            return false;
        const uint8_t *payload = p + *off + RT_REC_SIZE;
        if (rec.type > RT_MSG_DOWN) {
            (void)rt_system_message(loop, &rec, payload);
        } else {
            rt_actor_t *a = rt_loop_find(loop, rec.to);
            if (a == NULL) {
                rt_fail_request(loop, &rec, CQLMQ_ENOACTOR);
            } else {
                bool bounded = rec.type != RT_MSG_DOWN && !(rec.flags & RT_F_REPLY);
                bool full = bounded && a->mbox.count >= loop->rt->opts.mailbox_max;
                if ((rec.len > RT_INLINE_MAX || full) && *hold == NULL) {
                    rt_hold_t *h = malloc(sizeof *h);
                    if (h == NULL)
                        return false; /* out of memory: the rest is lost */
                    zmq_msg_init(&h->msg);
                    zmq_msg_move(&h->msg, msg);
                    h->refs = 1; /* the walker's */
                    *hold = h;
                    continue; /* data may have moved (small frames) */
                }
                if (full) {
                    (*hold)->refs++;
                    loop->parked = *hold;
                    loop->parked_off = *off;
                    return true;
                }
                if (rt_deliver(loop, a, &rec, payload, *hold, NULL, bounded) != 0)
                    rt_fail_request(loop, &rec, CQLMQ_ENOMEM);
            }
        }
        *off += RT_REC_SIZE + rec.len;
    }
}

void rt_loop_inbox_frame(rt_loop_t *loop, zmq_msg_t *msg)
{
    rt_hold_t *hold = NULL;
    size_t off = 0;
    if (walk(loop, msg, &hold, &off) && loop->inbox != NULL)
        rt_zsock_pause(loop->inbox, true);
    if (hold != NULL)
        rt_hold_unref(hold);
}

void rt_loop_unpark(rt_loop_t *loop)
{
    rt_hold_t *hold = loop->parked;
    size_t off = loop->parked_off;
    loop->parked = NULL;
    bool again = walk(loop, NULL, &hold, &off);
    rt_hold_unref(hold); /* the old parked reference */
    if (!again && loop->inbox != NULL)
        rt_zsock_pause(loop->inbox, false);
}

static void on_inbox(rt_zsock_t *zs, zmq_msg_t *parts, size_t nparts, void *ud)
{
    (void)zs;
    (void)nparts;
    rt_loop_inbox_frame(ud, &parts[0]);
}

/* ---- door commands and shutdown ---- */

static void finish_cmds(rt_loop_t *loop, bool run)
{
    pthread_mutex_lock(&loop->cmd_mu);
    while (loop->cmds != NULL) {
        rt_cmd_t *c = loop->cmds;
        loop->cmds = c->next;
        c->rc = run ? rt_spawn(loop, c->def, c->arg, &c->addr) : CQLMQ_ESTATE;
        c->done = true;
        pthread_cond_signal(&c->cond);
    }
    pthread_mutex_unlock(&loop->cmd_mu);
}

static void loop_shutdown(rt_loop_t *loop)
{
    if (loop->stopping)
        return;
    loop->stopping = true; /* no new actors from here on */
    rt_loop_stop_all(loop, CQLMQ_ECLOSED);
    rt_tcp_close_all(loop);
    rt_zsock_close_all(loop); /* the inbox too */
    loop->inbox = NULL;
    if (loop->parked != NULL) {
        rt_hold_unref(loop->parked);
        loop->parked = NULL;
    }
    pthread_mutex_lock(&loop->cmd_mu);
    loop->wake_closed = true;
    pthread_mutex_unlock(&loop->cmd_mu);
    finish_cmds(loop, false);
    close_handle(loop, (uv_handle_t *)&loop->idle);
    close_handle(loop, (uv_handle_t *)&loop->prepare);
    close_handle(loop, (uv_handle_t *)&loop->wake);
    close_handle(loop, (uv_handle_t *)&loop->retry);
}

static void on_wake(uv_async_t *h)
{
    rt_loop_t *loop = h->loop->data;
    if (atomic_load_explicit(&loop->rt->state, memory_order_acquire) >= RT_STATE_STOPPING) {
        loop_shutdown(loop);
        return;
    }
    finish_cmds(loop, true);
}

void rt_loop_signal(rt_loop_t *loop)
{
    pthread_mutex_lock(&loop->cmd_mu);
    if (!loop->wake_closed)
        uv_async_send(&loop->wake);
    pthread_mutex_unlock(&loop->cmd_mu);
}

/* ---- life cycle ---- */

int rt_loop_init(rt_loop_t *loop, cqlmq_runtime_t *rt, unsigned index)
{
    unsigned n = rt->opts.loops;
    memset(loop, 0, sizeof *loop);
    loop->rt = rt;
    loop->index = index;
    loop->free_head = UINT32_MAX;
    mpk_wr_init(&loop->scratch);
    loop->out = calloc(n, sizeof *loop->out);
    loop->stalled = calloc(n, sizeof *loop->stalled);
    loop->stalled_on = calloc(n, sizeof *loop->stalled_on);
    loop->push = calloc(n, sizeof *loop->push);
    loop->out_hint = calloc(n, sizeof *loop->out_hint);
    if (!loop->out || !loop->stalled || !loop->stalled_on || !loop->push || !loop->out_hint)
        goto fail_mem;
    if (uv_loop_init(&loop->uv) != 0)
        goto fail_mem;
    loop->uv.data = loop;
    uv_idle_init(&loop->uv, &loop->idle);
    uv_prepare_init(&loop->uv, &loop->prepare);
    uv_prepare_start(&loop->prepare, on_prepare);
    uv_unref((uv_handle_t *)&loop->prepare);
    uv_timer_init(&loop->uv, &loop->retry);
    uv_unref((uv_handle_t *)&loop->retry);
    uv_async_init(&loop->uv, &loop->wake, on_wake);
    pthread_mutex_init(&loop->cmd_mu, NULL);
    return 0;
fail_mem:
    free(loop->out);
    free(loop->stalled);
    free(loop->stalled_on);
    free(loop->push);
    free(loop->out_hint);
    return CQLMQ_ENOMEM;
}

/* Sockets of this thread: the inbox and one PUSH per other loop. */
static void open_sockets(rt_loop_t *loop)
{
    cqlmq_runtime_t *rt = loop->rt;
    char ep[64];
    int zero = 0, hwm = rt->opts.pipe_hwm;
    if (rt_zsock_new(loop, ZMQ_PULL, 16, on_inbox, loop, &loop->inbox) == 0) {
        void *s = rt_zsock_handle(loop->inbox);
        zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
        snprintf(ep, sizeof ep, RT_INBOX_FMT, loop->index);
        if (zmq_bind(s, ep) != 0)
            fprintf(stderr, "cqlmq runtime: bind %s: %s\n", ep, zmq_strerror(errno));
    }
    for (unsigned d = 0; d < rt->opts.loops; d++) {
        if (d == loop->index)
            continue;
        void *s = zmq_socket(rt->zctx, ZMQ_PUSH);
        if (s == NULL)
            continue; /* context ending */
        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
        snprintf(ep, sizeof ep, RT_INBOX_FMT, d);
        zmq_connect(s, ep);
        loop->push[d] = s;
    }
    loop->any_dirty = true; /* frames queued before start go out now */
    rt_loop_kick(loop);
}

void *rt_loop_main(void *arg)
{
    rt_loop_t *loop = arg;
    loop->thread = pthread_self(); /* the same value pthread_create stores */
    open_sockets(loop);
    uv_run(&loop->uv, UV_RUN_DEFAULT);
    for (unsigned d = 0; d < loop->rt->opts.loops; d++) {
        if (loop->push[d] != NULL) {
            zmq_close(loop->push[d]);
            loop->push[d] = NULL;
        }
    }
    return NULL;
}

void rt_loop_shutdown_unstarted(rt_loop_t *loop)
{
    loop_shutdown(loop);
    uv_run(&loop->uv, UV_RUN_DEFAULT);
}

void rt_loop_close(rt_loop_t *loop)
{
    for (unsigned d = 0; d < loop->rt->opts.loops; d++) {
        mpk_wr_close(&loop->out[d]);
        if (loop->stalled_on[d])
            zmq_msg_close(&loop->stalled[d]);
    }
    mpk_wr_close(&loop->scratch);
    free(loop->out);
    free(loop->stalled);
    free(loop->stalled_on);
    free(loop->push);
    free(loop->out_hint);
    free(loop->actors);
    free(loop->gens);
    free(loop->free_next);
    if (uv_loop_close(&loop->uv) != 0)
        fprintf(stderr, "cqlmq runtime: loop %u closed with open handles\n", loop->index);
    pthread_mutex_destroy(&loop->cmd_mu);
}

unsigned rt_loop_index(const rt_loop_t *loop) { return loop->index; }
uv_loop_t *rt_loop_uv(rt_loop_t *loop) { return &loop->uv; }
cqlmq_runtime_t *rt_loop_runtime(rt_loop_t *loop) { return loop->rt; }
