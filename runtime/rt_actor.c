/*
 * rt_actor: actors on a loop — the slot table that maps addresses to
 * actors, spawning, the run queue and a turn, and stopping.
 *
 * Invariants:
 *   - loop->actors[slot] is the live actor whose address carries
 *     loop->gens[slot]; a freed slot's generation is bumped, so old
 *     addresses stop resolving (never 0, so no address is RT_ADDR_NONE).
 *   - An actor is on the run queue (queued) exactly when it has mail and is
 *     not stopping, or while it runs its turn it is off the queue.
 *   - A stopping actor is on loop->dying until rt_run_dying tears it down;
 *     rt_loop_find no longer resolves it, so nothing new reaches it.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

#define NO_SLOT UINT32_MAX

static int slot_alloc(rt_loop_t *loop, uint32_t *out)
{
    if (loop->free_head != NO_SLOT) {
        *out = loop->free_head;
        loop->free_head = loop->free_next[*out];
        return 0;
    }
    if (loop->nslots == loop->capslots) {
        uint32_t cap = loop->capslots ? loop->capslots * 2 : 64;
        if (cap > RT_SLOT_MASK + 1u)
            cap = RT_SLOT_MASK + 1u;
        if (cap == loop->capslots)
            return CQLMQ_ELIMIT;
        rt_actor_t **actors = realloc(loop->actors, cap * sizeof *actors);
        if (actors == NULL)
            return CQLMQ_ENOMEM;
        loop->actors = actors;
        uint32_t *gens = realloc(loop->gens, cap * sizeof *gens);
        if (gens == NULL)
            return CQLMQ_ENOMEM;
        loop->gens = gens;
        uint32_t *next = realloc(loop->free_next, cap * sizeof *next);
        if (next == NULL)
            return CQLMQ_ENOMEM;
        loop->free_next = next;
        loop->capslots = cap;
    }
    *out = loop->nslots++;
    loop->gens[*out] = 1;
    loop->actors[*out] = NULL;
    return 0;
}

static void slot_free(rt_loop_t *loop, uint32_t slot)
{
    loop->actors[slot] = NULL;
    uint32_t g = (loop->gens[slot] + 1) & RT_GEN_MASK;
    loop->gens[slot] = g ? g : 1;
    loop->free_next[slot] = loop->free_head;
    loop->free_head = slot;
}

rt_actor_t *rt_loop_find(rt_loop_t *loop, rt_addr_t addr)
{
    uint32_t slot = rt_addr_slot(addr);
    if (rt_addr_loop(addr) != loop->index || slot >= loop->nslots)
        return NULL;
    rt_actor_t *a = loop->actors[slot];
    if (a == NULL || a->addr != addr || a->stopping)
        return NULL;
    return a;
}

static void mbox_drain(rt_loop_t *loop, rt_actor_t *a, bool fail_requests)
{
    rt_mailbox_t *m = &a->mbox;
    while (m->count > 0) {
        rt_slot_t s = m->slots[m->head];
        m->head = (m->head + 1) & (m->cap - 1);
        m->count--;
        if (fail_requests) {
            rt_rec_t rec = {a->addr, s.from, s.corr, s.type, s.flags, 0};
            rt_fail_request(loop, &rec, CQLMQ_ENOACTOR);
        }
        rt_slot_release(&s);
    }
    free(m->slots);
    memset(m, 0, sizeof *m);
}

int rt_spawn(rt_loop_t *loop, const rt_actor_def_t *def, void *arg, rt_addr_t *out)
{
    uint32_t slot;
    int rc;
    if (loop->stopping)
        return CQLMQ_ESTATE;
    rt_actor_t *a = calloc(1, sizeof *a);
    if (a == NULL)
        return CQLMQ_ENOMEM;
    if ((rc = slot_alloc(loop, &slot)) != 0) {
        free(a);
        return rc;
    }
    a->loop = loop;
    a->def = def;
    a->addr = rt_addr_make(loop->index, loop->gens[slot], slot);
    loop->actors[slot] = a;
    loop->nactors++;
    if (def->init != NULL) {
        rt_actor_t *prev = loop->current;
        loop->current = a;
        rc = def->init(a, arg);
        loop->current = prev;
        if (rc != 0) {
            a->stopping = true;
            rt_timers_cancel_all(a);
            rt_pending_cancel_all(a);
            mbox_drain(loop, a, false);
            free(a->watchers);
            slot_free(loop, slot);
            loop->nactors--;
            free(a);
            return rc;
        }
        if (a->mbox.count > 0)
            rt_schedule(a); /* it sent itself mail during init */
    }
    if (out != NULL)
        *out = a->addr;
    return 0;
}

void rt_schedule(rt_actor_t *a)
{
    rt_loop_t *loop = a->loop;
    if (a->queued || a->stopping || a == loop->current)
        return;
    a->queued = true;
    a->rq_next = NULL;
    a->rq_prev = loop->rq_tail;
    if (loop->rq_tail)
        loop->rq_tail->rq_next = a;
    else
        loop->rq_head = a;
    loop->rq_tail = a;
    rt_loop_kick(loop);
}

static void rq_unlink(rt_loop_t *loop, rt_actor_t *a)
{
    if (!a->queued)
        return;
    if (a->rq_prev) a->rq_prev->rq_next = a->rq_next;
    else loop->rq_head = a->rq_next;
    if (a->rq_next) a->rq_next->rq_prev = a->rq_prev;
    else loop->rq_tail = a->rq_prev;
    a->queued = false;
    a->rq_prev = a->rq_next = NULL;
}

static void dispatch(rt_actor_t *a, rt_slot_t *s)
{
    const rt_actor_def_t *def = a->def;
    rt_msg_t m = {s->from, s->corr, s->type, s->flags, s->len,
                  s->kind == RT_PL_INLINE ? s->u.inl : s->u.ext.ptr};
    if ((m.flags & RT_F_TIMER) && !rt_timer_accept(a, m.corr))
        return; /* cancelled after it fired */
    if (m.flags & RT_F_REPLY) {
        (void)rt_pending_complete(a, &m); /* late replies are dropped */
        return;
    }
    rt_handler_cb h;
    if (m.type == RT_MSG_DOWN)
        h = def->on_down;
    else if (m.type < def->nhandlers && def->handlers[m.type] != NULL)
        h = def->handlers[m.type];
    else
        h = def->on_unknown;
    if (h != NULL) {
        h(a, &m);
    } else if (m.flags & RT_F_REQUEST) {
        rt_rec_t rec = {a->addr, m.from, m.corr, m.type, m.flags, 0};
        rt_fail_request(a->loop, &rec, CQLMQ_EUNSUPPORTED);
    }
}

void rt_run_actor(rt_actor_t *a, uint32_t budget)
{
    rt_loop_t *loop = a->loop;
    rt_mailbox_t *m = &a->mbox;
    loop->current = a;
    for (uint32_t i = 0; i < budget && m->count > 0 && !a->stopping; i++) {
        /* Copy the slot out first: the handler may send to itself and the
         * ring may grow under it. */
        rt_slot_t s = m->slots[m->head];
        m->head = (m->head + 1) & (m->cap - 1);
        m->count--;
        dispatch(a, &s);
        rt_slot_release(&s);
    }
    loop->current = NULL;
    if (m->count > 0 && !a->stopping)
        rt_schedule(a);
}

void rt_stop(rt_actor_t *self, int reason)
{
    rt_loop_t *loop = self->loop;
    if (self->stopping)
        return;
    self->stopping = true;
    self->stop_reason = reason;
    rq_unlink(loop, self);
    self->dying_next = loop->dying;
    loop->dying = self;
    rt_loop_kick(loop);
}

static void teardown(rt_loop_t *loop, rt_actor_t *a)
{
    int reason = a->stop_reason;
    rt_actor_t *prev = loop->current;
    slot_free(loop, rt_addr_slot(a->addr));
    loop->nactors--;
    loop->current = a;
    rt_timers_cancel_all(a);
    rt_pending_cancel_all(a); /* callbacks see CQLMQ_ECANCELLED */
    if (a->def->stop != NULL)
        a->def->stop(a, reason);
    loop->current = prev;
    mbox_drain(loop, a, true);
    for (uint32_t i = 0; i < a->nwatchers; i++)
        rt_notify_down(loop, a->addr, a->watchers[i], reason);
    free(a->watchers);
    free(a);
}

void rt_run_dying(rt_loop_t *loop)
{
    while (loop->dying != NULL) {
        rt_actor_t *a = loop->dying;
        loop->dying = a->dying_next;
        teardown(loop, a);
    }
}

void rt_loop_stop_all(rt_loop_t *loop, int reason)
{
    for (uint32_t i = 0; i < loop->nslots; i++)
        if (loop->actors[i] != NULL)
            rt_stop(loop->actors[i], reason);
    rt_run_dying(loop);
}

void rt_watchers_add(rt_actor_t *a, rt_addr_t w)
{
    for (uint32_t i = 0; i < a->nwatchers; i++)
        if (a->watchers[i] == w)
            return;
    if (a->nwatchers == a->capwatchers) {
        uint32_t cap = a->capwatchers ? a->capwatchers * 2 : 4;
        rt_addr_t *p = realloc(a->watchers, cap * sizeof *p);
        if (p == NULL)
            return; /* the watch is lost; the watcher is not told */
        a->watchers = p;
        a->capwatchers = cap;
    }
    a->watchers[a->nwatchers++] = w;
}

void rt_watchers_remove(rt_actor_t *a, rt_addr_t w)
{
    for (uint32_t i = 0; i < a->nwatchers; i++)
        if (a->watchers[i] == w) {
            a->watchers[i] = a->watchers[--a->nwatchers];
            return;
        }
}

rt_addr_t rt_self(const rt_actor_t *self) { return self->addr; }
rt_loop_t *rt_actor_loop(rt_actor_t *self) { return self->loop; }
void *rt_state(rt_actor_t *self) { return self->state; }
void rt_set_state(rt_actor_t *self, void *state) { self->state = state; }
