/*
 * rt_timer: per-actor timers and the request/reply helper.
 *
 * Timers are uv_timer_t handles owned by the loop and freed in their close
 * callback (never before). A firing timer enqueues a message into its
 * actor's mailbox (unbounded: the runtime's own mail), at most one at a time
 * per timer; rt_timer_accept drops a message whose timer was cancelled
 * meanwhile, so a cancelled timer is never handled.
 *
 * A request is an ordinary message with RT_F_REQUEST and a fresh
 * correlation id; rt_pending_t remembers the callback and arms a timeout.
 * Exactly one of reply, error reply, timeout or cancellation completes it.
 */
#include <assert.h>
#include <stdlib.h>

#include "rt_internal.h"

static void free_on_close(uv_handle_t *h)
{
    rt_loop_t *loop = h->loop->data;
    loop->closing_handles--;
    free(h->data);
}

static void close_timer_handle(rt_loop_t *loop, uv_timer_t *h)
{
    uv_timer_stop(h);
    loop->closing_handles++;
    uv_close((uv_handle_t *)h, free_on_close);
}

/* Runs fn for actor a as if in its turn, then reschedules it if it got mail
 * meanwhile (it could not be queued while current). */
static void as_actor(rt_actor_t *a, void (*fn)(rt_actor_t *, void *), void *arg)
{
    rt_loop_t *loop = a->loop;
    rt_actor_t *prev = loop->current;
    loop->current = a;
    fn(a, arg);
    loop->current = prev;
    if (a->mbox.count > 0 && prev != a)
        rt_schedule(a);
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *h)
{
    rt_timer_t *t = h->data;
    rt_actor_t *a = t->actor;
    if (a == NULL || t->queued)
        return; /* coalesce: the previous tick is still queued */
    rt_rec_t rec = {a->addr, a->addr, t->id, t->type, RT_F_TIMER, 0};
    if (rt_deliver(a->loop, a, &rec, NULL, NULL, NULL, false) == 0)
        t->queued = true;
}

int rt_timer_start(rt_actor_t *self, uint64_t timeout_ms, uint64_t repeat_ms, uint16_t type,
                   uint64_t *timer_id)
{
    rt_loop_t *loop = self->loop;
    rt_timer_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        return CQLMQ_ENOMEM;
    if (uv_timer_init(&loop->uv, &t->h) != 0) {
        free(t);
        return CQLMQ_EUV;
    }
    t->h.data = t;
    t->actor = self;
    t->id = ++self->next_id;
    t->type = type;
    t->repeat = repeat_ms != 0;
    if (uv_timer_start(&t->h, on_timer, timeout_ms, repeat_ms) != 0) {
        close_timer_handle(loop, &t->h);
        return CQLMQ_EUV;
    }
    t->next = self->timers;
    self->timers = t;
    if (timer_id != NULL)
        *timer_id = t->id;
    return 0;
}

static rt_timer_t *timer_unlink(rt_actor_t *a, uint64_t id)
{
    for (rt_timer_t **pp = &a->timers; *pp != NULL; pp = &(*pp)->next) {
        rt_timer_t *t = *pp;
        if (t->id == id) {
            *pp = t->next;
            return t;
        }
    }
    return NULL;
}

int rt_timer_cancel(rt_actor_t *self, uint64_t timer_id)
{
    rt_timer_t *t = timer_unlink(self, timer_id);
    if (t == NULL)
        return CQLMQ_ENOTFOUND;
    t->actor = NULL;
    close_timer_handle(self->loop, &t->h);
    return 0;
}

bool rt_timer_accept(rt_actor_t *a, uint64_t id)
{
    rt_timer_t *t;
    for (t = a->timers; t != NULL; t = t->next)
        if (t->id == id)
            break;
    if (t == NULL)
        return false;
    t->queued = false;
    if (!t->repeat)
        (void)rt_timer_cancel(a, id); /* one-shot: done once handled */
    return true;
}

void rt_timers_cancel_all(rt_actor_t *a)
{
    while (a->timers != NULL)
        (void)rt_timer_cancel(a, a->timers->id);
}

/* ---- request / reply ---- */

mpk_wr_t *rt_request_begin(rt_actor_t *self, rt_addr_t to, uint16_t type)
{
    return rt_begin_(self->loop, self->addr, to, type, RT_F_REQUEST, ++self->next_id);
}

static void pending_remove(rt_actor_t *a, rt_pending_t *p)
{
    if (p->prev != NULL)
        p->prev->next = p->next;
    else
        a->pending = p->next;
    if (p->next != NULL)
        p->next->prev = p->prev;
    else
        a->pending_tail = p->prev;
    p->next = p->prev = NULL;
}

/* Replies mostly arrive in request order: searching from the oldest end
 * finds one in a step or two however many requests are in flight. */
static rt_pending_t *pending_unlink(rt_actor_t *a, uint64_t corr)
{
    for (rt_pending_t *p = a->pending_tail; p != NULL; p = p->prev) {
        if (p->corr == corr) {
            pending_remove(a, p);
            return p;
        }
    }
    return NULL;
}

typedef struct completion {
    rt_pending_t *p;
    const rt_msg_t *reply;
    int err;
} completion_t;

static void run_completion(rt_actor_t *a, void *arg)
{
    completion_t *c = arg;
    c->p->cb(a, c->reply, c->err, c->p->ud);
}

/* Unlinked pending p completes: call back, then free through uv_close. */
static void complete(rt_actor_t *a, rt_pending_t *p, const rt_msg_t *reply, int err)
{
    completion_t c = {p, err ? NULL : reply, err};
    p->actor = NULL;
    close_timer_handle(a->loop, &p->h);
    if (p->cb != NULL)
        as_actor(a, run_completion, &c);
}

static void on_request_timeout(uv_timer_t *h)
{
    rt_pending_t *p = h->data;
    rt_actor_t *a = p->actor;
    if (a == NULL || pending_unlink(a, p->corr) != p)
        return;
    complete(a, p, NULL, CQLMQ_ETIMEOUT);
}

int rt_request_end(rt_actor_t *self, uint64_t timeout_ms, rt_reply_cb cb, void *ud,
                   uint64_t *corr_out)
{
    rt_loop_t *loop = self->loop;
    uint64_t corr = loop->snd.rec.corr;
    assert(loop->snd.active && (loop->snd.rec.flags & RT_F_REQUEST));
    rt_pending_t *p = calloc(1, sizeof *p);
    if (p == NULL) {
        mpk_wr_t *w = loop->snd.local ? &loop->scratch : &loop->out[loop->snd.dst];
        if (!w->err)
            w->err = CQLMQ_ENOMEM; /* rt_end_ undoes the record */
        return rt_end_(loop);
    }
    int rc = rt_end_(loop);
    if (rc != 0) {
        free(p);
        return rc;
    }
    if (uv_timer_init(&loop->uv, &p->h) != 0) {
        free(p); /* the request went out; its reply will be dropped */
        return CQLMQ_EUV;
    }
    p->h.data = p;
    p->actor = self;
    p->corr = corr;
    p->cb = cb;
    p->ud = ud;
    p->prev = NULL;
    p->next = self->pending;
    if (self->pending != NULL)
        self->pending->prev = p;
    else
        self->pending_tail = p;
    self->pending = p;
    uv_timer_start(&p->h, on_request_timeout, timeout_ms, 0);
    if (corr_out != NULL)
        *corr_out = corr;
    return 0;
}

bool rt_pending_complete(rt_actor_t *a, const rt_msg_t *reply)
{
    rt_pending_t *p = pending_unlink(a, reply->corr);
    if (p == NULL)
        return false;
    int err = 0;
    if (reply->flags & RT_F_ERROR) {
        mpk_rd_t r;
        int32_t code = CQLMQ_EMALFORMED;
        mpk_rd_init(&r, reply->data, reply->len);
        (void)mpk_rd_i32(&r, &code);
        err = code < 0 ? code : CQLMQ_EMALFORMED;
    }
    complete(a, p, reply, err);
    return true;
}

void rt_pending_cancel_all(rt_actor_t *a)
{
    while (a->pending != NULL) {
        rt_pending_t *p = a->pending;
        pending_remove(a, p);
        complete(a, p, NULL, CQLMQ_ECANCELLED);
    }
}
