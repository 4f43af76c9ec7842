/*
 * rt_send: how a message gets from a sender to a mailbox.
 *
 * rt_begin_ picks the buffer the payload is encoded into, once:
 *   - same loop: the loop's scratch writer; rt_end_ copies a small payload
 *     (<= RT_INLINE_MAX bytes) into the mailbox slot, or hands the scratch
 *     buffer itself to the slot (no copy) and starts a new one;
 *   - other loop: the outgoing frame for that loop, after a record header
 *     that rt_end_ fills in. The frame goes out as one ZeroMQ message at the
 *     end of the turn (rt_loop_flush), handed to zmq_msg_init_data.
 * Mailboxes are rings of 64-byte slots that double when full, up to the
 * configured bound; no allocation per message once they have grown.
 * System messages (watch, unwatch, kill) are handled on arrival.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

/* Frames this big are sent at once instead of at the end of the turn. */
#define RT_FLUSH_AT (64 * 1024)

void rt_hold_unref(rt_hold_t *h)
{
    assert(h->refs > 0);
    if (--h->refs == 0) {
        zmq_msg_close(&h->msg);
        free(h);
    }
}

void rt_slot_release(rt_slot_t *s)
{
    if (s->kind == RT_PL_HEAP)
        free(s->u.ext.ptr);
    else if (s->kind == RT_PL_HOLD)
        rt_hold_unref(s->u.ext.hold);
    s->kind = RT_PL_INLINE;
}

/* Makes room for one more slot. Returns 0 or CQLMQ_ENOMEM. */
static int mbox_grow(rt_mailbox_t *m)
{
    uint32_t cap = m->cap ? m->cap * 2 : 16;
    rt_slot_t *slots = malloc((size_t)cap * sizeof *slots);
    if (slots == NULL)
        return CQLMQ_ENOMEM;
    for (uint32_t i = 0; i < m->count; i++)
        slots[i] = m->slots[(m->head + i) & (m->cap - 1)];
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    m->head = 0;
    return 0;
}

int rt_deliver(rt_loop_t *loop, rt_actor_t *a, const rt_rec_t *rec, const uint8_t *payload,
               rt_hold_t *hold, uint8_t **owned, bool bounded)
{
    rt_mailbox_t *m = &a->mbox;
    if (bounded && m->count >= loop->rt->opts.mailbox_max)
        return CQLMQ_EMAILBOXFULL;
    if (m->count == m->cap && mbox_grow(m) != 0)
        return CQLMQ_ENOMEM;
    rt_slot_t *s = &m->slots[(m->head + m->count) & (m->cap - 1)];
    s->from = rec->from;
    s->corr = rec->corr;
    s->type = rec->type;
    s->flags = rec->flags;
    s->len = rec->len;
    if (rec->len <= RT_INLINE_MAX) {
        s->kind = RT_PL_INLINE;
        if (rec->len)
            memcpy(s->u.inl, payload, rec->len);
    } else if (hold != NULL) {
        s->kind = RT_PL_HOLD;
        s->u.ext.ptr = (uint8_t *)payload;
        s->u.ext.hold = hold;
        hold->refs++;
    } else if (owned != NULL && *owned != NULL) {
        s->kind = RT_PL_HEAP;
        s->u.ext.ptr = *owned;
        *owned = NULL;
    } else {
        uint8_t *copy = malloc(rec->len);
        if (copy == NULL)
            return CQLMQ_ENOMEM;
        memcpy(copy, payload, rec->len);
        s->kind = RT_PL_HEAP;
        s->u.ext.ptr = copy;
    }
    m->count++;
    if (m->count == 1)
        rt_schedule(a);
    return 0;
}

mpk_wr_t *rt_begin_(rt_loop_t *loop, rt_addr_t from, rt_addr_t to, uint16_t type,
                    uint16_t flags, uint64_t corr)
{
    rt_sending_t *s = &loop->snd;
    assert(!s->active && "a send is already in progress on this loop");
    s->active = true;
    s->rec.to = to;
    s->rec.from = from;
    s->rec.corr = corr;
    s->rec.type = type;
    s->rec.flags = flags;
    s->rec.len = 0;
    s->dst = rt_addr_loop(to);
    s->local = s->dst == loop->index || s->dst >= loop->rt->opts.loops;
    if (s->local) {
        mpk_wr_reset(&loop->scratch);
        return &loop->scratch;
    }
    mpk_wr_t *w = &loop->out[s->dst];
    s->off = w->len;
    /* A fresh frame gets the last one's size at once (capped): one
     * allocation per frame rather than a chain of doubling reallocs. */
    size_t room = RT_REC_SIZE;
    if (w->cap == 0 && loop->out_hint[s->dst] > room)
        room = loop->out_hint[s->dst] < RT_FLUSH_AT ? loop->out_hint[s->dst] : RT_FLUSH_AT;
    if (mpk_wr_reserve(w, room) == 0)
        w->len += RT_REC_SIZE; /* the header is written by rt_end_ */
    return w;
}

static int end_local(rt_loop_t *loop, rt_sending_t *s)
{
    mpk_wr_t *w = &loop->scratch;
    int rc = w->err;
    if (rc != 0)
        return rc;
    if (s->dst >= loop->rt->opts.loops || s->rec.to == RT_ADDR_NONE)
        return CQLMQ_EINVAL;
    if (w->len > loop->rt->opts.max_msg)
        return CQLMQ_ETOOBIG;
    s->rec.len = (uint32_t)w->len;
    if (s->rec.type > RT_MSG_DOWN)
        return rt_system_message(loop, &s->rec, w->data);
    rt_actor_t *a = rt_loop_find(loop, s->rec.to);
    if (a == NULL)
        return CQLMQ_ENOACTOR;
    uint8_t *owned = w->len > RT_INLINE_MAX ? w->data : NULL;
    bool bounded = s->rec.type != RT_MSG_DOWN && !(s->rec.flags & RT_F_REPLY);
    rc = rt_deliver(loop, a, &s->rec, w->data, NULL, &owned, bounded);
    if (rc == 0 && w->len > RT_INLINE_MAX)
        mpk_wr_init(w); /* the slot owns the buffer now */
    return rc;
}

static int end_remote(rt_loop_t *loop, rt_sending_t *s)
{
    mpk_wr_t *w = &loop->out[s->dst];
    int rc = w->err;
    size_t payload = w->len - s->off - (rc ? 0 : RT_REC_SIZE);
    if (rc == 0 && payload > loop->rt->opts.max_msg)
        rc = CQLMQ_ETOOBIG;
    if (rc == 0 && w->len > rt_loop_out_max(loop))
        rc = CQLMQ_EBUSY;
    if (rc != 0) {
        mpk_wr_truncate(w, s->off); /* earlier records stay intact */
        w->err = 0;
        return rc;
    }
    s->rec.len = (uint32_t)payload;
    memcpy(w->data + s->off, &s->rec, RT_REC_SIZE);
    rt_loop_mark_dirty(loop, s->dst);
    if (w->len >= RT_FLUSH_AT)
        rt_loop_flush(loop);
    return 0;
}

int rt_end_(rt_loop_t *loop)
{
    rt_sending_t *s = &loop->snd;
    assert(s->active);
    s->active = false;
    return s->local ? end_local(loop, s) : end_remote(loop, s);
}

int rt_send_from(rt_loop_t *loop, rt_addr_t from, rt_addr_t to, uint16_t type,
                 uint16_t flags, uint64_t corr, const void *p, size_t n)
{
    mpk_wr_t *w = rt_begin_(loop, from, to, type, flags, corr);
    mpk_wr_raw(w, p, n);
    return rt_end_(loop);
}

/* ---- actor-facing sends ---- */

mpk_wr_t *rt_msg_begin(rt_actor_t *self, rt_addr_t to, uint16_t type)
{
    return rt_begin_(self->loop, self->addr, to, type, 0, 0);
}

int rt_msg_end(rt_actor_t *self)
{
    return rt_end_(self->loop);
}

int rt_send(rt_actor_t *self, rt_addr_t to, uint16_t type, const void *payload, size_t len)
{
    return rt_send_from(self->loop, self->addr, to, type, 0, 0, payload, len);
}

mpk_wr_t *rt_reply_begin(rt_actor_t *self, const rt_msg_t *req, uint16_t type)
{
    return rt_begin_(self->loop, self->addr, req->from, type, RT_F_REPLY, req->corr);
}

static int send_error(rt_loop_t *loop, rt_addr_t from, rt_addr_t to, uint16_t type,
                      uint64_t corr, int err)
{
    mpk_wr_t *w = rt_begin_(loop, from, to, type, RT_F_REPLY | RT_F_ERROR, corr);
    mpk_wr_int(w, err);
    return rt_end_(loop);
}

int rt_reply_error(rt_actor_t *self, const rt_msg_t *req, int err)
{
    if (!(req->flags & RT_F_REQUEST) || req->from == RT_ADDR_NONE)
        return CQLMQ_EINVAL;
    return send_error(self->loop, self->addr, req->from, req->type, req->corr, err);
}

/* A request that will never be handled: tell its sender (every request
 * ends). Used for missing targets and for actors that stop first. */
void rt_fail_request(rt_loop_t *loop, const rt_rec_t *rec, int err)
{
    if ((rec->flags & RT_F_REQUEST) && rec->from != RT_ADDR_NONE)
        (void)send_error(loop, rec->to, rec->from, rec->type, rec->corr, err);
}

/* ---- watch, unwatch, kill ---- */

static void send_down(rt_loop_t *loop, rt_addr_t who, rt_addr_t to, int reason)
{
    mpk_wr_t *w = rt_begin_(loop, who, to, RT_MSG_DOWN, 0, 0);
    mpk_wr_array(w, 2);
    mpk_wr_uint(w, who);
    mpk_wr_int(w, reason);
    (void)rt_end_(loop);
}

void rt_notify_down(rt_loop_t *loop, rt_addr_t who, rt_addr_t to, int reason)
{
    send_down(loop, who, to, reason);
}

int rt_system_message(rt_loop_t *loop, const rt_rec_t *rec, const uint8_t *payload)
{
    rt_actor_t *a = rt_loop_find(loop, rec->to);
    switch (rec->type) {
    case RT_SYS_WATCH:
        if (a == NULL) {
            if (rec->from != RT_ADDR_NONE)
                send_down(loop, rec->to, rec->from, CQLMQ_ENOACTOR);
            return 0;
        }
        rt_watchers_add(a, rec->from);
        return 0;
    case RT_SYS_UNWATCH:
        if (a != NULL)
            rt_watchers_remove(a, rec->from);
        return 0;
    case RT_SYS_KILL: {
        int32_t reason = CQLMQ_ECANCELLED;
        mpk_rd_t r;
        mpk_rd_init(&r, payload, rec->len);
        (void)mpk_rd_i32(&r, &reason);
        if (a == NULL)
            return CQLMQ_ENOACTOR;
        rt_stop(a, reason);
        return 0;
    }
    default:
        return 0; /* unknown system messages are ignored */
    }
}

int rt_watch(rt_actor_t *self, rt_addr_t target)
{
    return rt_send_from(self->loop, self->addr, target, RT_SYS_WATCH, 0, 0, NULL, 0);
}

int rt_unwatch(rt_actor_t *self, rt_addr_t target)
{
    return rt_send_from(self->loop, self->addr, target, RT_SYS_UNWATCH, 0, 0, NULL, 0);
}

int rt_kill(rt_actor_t *self, rt_addr_t target, int reason)
{
    mpk_wr_t *w = rt_begin_(self->loop, self->addr, target, RT_SYS_KILL, 0, 0);
    mpk_wr_int(w, reason);
    return rt_end_(self->loop);
}

int rt_down_decode(const rt_msg_t *msg, rt_addr_t *who, int *reason)
{
    mpk_rd_t r;
    uint32_t n;
    uint64_t addr;
    int32_t why;
    mpk_rd_init(&r, msg->data, msg->len);
    if (msg->type != RT_MSG_DOWN || mpk_rd_array(&r, &n) != 0 || n != 2 ||
        mpk_rd_uint(&r, &addr) != 0 || mpk_rd_i32(&r, &why) != 0)
        return CQLMQ_EMALFORMED;
    *who = addr;
    *reason = why;
    return 0;
}
