/*
 * rt_zsock: a ZeroMQ socket attached to a libuv loop, with a callback per
 * received message, in a way that cannot stall.
 *
 * ZMQ_FD is edge-triggered and only says "something changed": after a
 * bounded batch, messages may be waiting while the fd stays quiet. So the
 * fd is only a wake-up (uv_poll, empty callback) and ZMQ_EVENTS decides:
 *   prepare  (before the loop blocks) if ZMQ_EVENTS has POLLIN, start the
 *            idle handle so that the poll does not block;
 *   check    (after the poll) read at most `batch` messages (until a
 *            non-blocking read finds none), then re-read ZMQ_EVENTS: idle
 *            stays on while POLLIN remains.
 * This is the pattern of pijyoi/zmq_libev and zeromq.js; the regression
 * test pushes a million messages through a batch of 16.
 *
 * Closing: uv handles first (a polled fd must not be closed under libuv),
 * the ZeroMQ socket in the last close callback. A socket closed inside its
 * own callback is closed when the callback returns.
 */
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

struct rt_zsock {
    rt_loop_t *loop;
    void *sock;           /* owned; closed after the uv handles */
    rt_zsock_cb cb;
    void *ud;
    uv_poll_t poll;       /* ZMQ_FD readable: a wake-up only */
    uv_prepare_t prep;
    uv_check_t check;
    uv_idle_t idle;       /* on while messages may be waiting */
    unsigned batch;       /* messages per loop turn */
    bool paused;
    bool closing;         /* rt_zsock_close called */
    bool in_cb;           /* inside cb: closing is deferred */
    bool idle_on;
    int open_handles;     /* uv handles not yet closed */
    uint64_t received, dropped;
    struct rt_zsock *prev, *next; /* loop->zsocks */
};

int rt_zmq_err(int e)
{
    switch (e) {
    case EAGAIN: return CQLMQ_EAGAIN;
    case EHOSTUNREACH: return CQLMQ_EUNREACHABLE;
    case ETERM: case ENOTSOCK: return CQLMQ_ECLOSED;
    case ENOMEM: return CQLMQ_ENOMEM;
    default: return CQLMQ_EZMQ;
    }
}

static int zevents(rt_zsock_t *zs)
{
    int ev = 0;
    size_t sz = sizeof ev;
    if (zmq_getsockopt(zs->sock, ZMQ_EVENTS, &ev, &sz) != 0)
        return 0;
    return ev;
}

static void on_idle(uv_idle_t *h) { (void)h; } /* keeps the poll from blocking */
static void on_poll(uv_poll_t *h, int status, int events) { (void)h, (void)status, (void)events; }

static void set_idle(rt_zsock_t *zs, bool on)
{
    if (on == zs->idle_on || zs->closing)
        return;
    zs->idle_on = on;
    if (on)
        uv_idle_start(&zs->idle, on_idle);
    else
        uv_idle_stop(&zs->idle);
}

static void on_handle_closed(uv_handle_t *h)
{
    rt_zsock_t *zs = h->data;
    zs->loop->closing_handles--;
    if (--zs->open_handles == 0) {
        zmq_close(zs->sock); /* after libuv let go of its fd */
        free(zs);
    }
}

static void do_close(rt_zsock_t *zs)
{
    uv_handle_t *hs[] = {(uv_handle_t *)&zs->poll, (uv_handle_t *)&zs->prep,
                         (uv_handle_t *)&zs->check, (uv_handle_t *)&zs->idle};
    zs->open_handles = 4;
    zs->loop->closing_handles += 4;
    for (int i = 0; i < 4; i++)
        uv_close(hs[i], on_handle_closed);
}

/* Reads one whole message into parts. Returns the number of frames, 0 when
 * nothing is waiting, or -1 for a message with too many frames (drained and
 * dropped). */
static int recv_message(rt_zsock_t *zs, zmq_msg_t *parts)
{
    int n = 0;
    bool more = true, too_many = false;
    while (more) {
        zmq_msg_t spill;
        zmq_msg_t *m = n < RT_ZSOCK_MAX_PARTS ? &parts[n] : &spill;
        zmq_msg_init(m);
        /* After the first frame, the rest of the message is there at once. */
        if (zmq_msg_recv(m, zs->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(m);
            break;
        }
        more = zmq_msg_more(m);
        if (m == &spill) {
            too_many = true;
            zmq_msg_close(&spill);
        } else {
            n++;
        }
    }
    if (too_many) {
        for (int i = 0; i < n; i++)
            zmq_msg_close(&parts[i]);
        return -1;
    }
    return n;
}

static void on_check(uv_check_t *h)
{
    rt_zsock_t *zs = h->data;
    zmq_msg_t parts[RT_ZSOCK_MAX_PARTS];
    if (zs->closing || zs->paused) {
        set_idle(zs, false);
        return;
    }
    /* No ZMQ_EVENTS before each read: a non-blocking read that finds
     * nothing says as much, and ZMQ_EVENTS costs a poll(2) per message. */
    for (unsigned i = 0; i < zs->batch && !zs->closing && !zs->paused; i++) {
        int n = recv_message(zs, parts);
        if (n == 0)
            break;
        zs->received++;
        if (n < 0) {
            zs->dropped++;
            continue;
        }
        zs->in_cb = true;
        zs->cb(zs, parts, (size_t)n, zs->ud);
        zs->in_cb = false;
        for (int k = 0; k < n; k++)
            zmq_msg_close(&parts[k]);
    }
    if (zs->closing) {
        do_close(zs); /* closed by its own callback */
        return;
    }
    set_idle(zs, !zs->paused && (zevents(zs) & ZMQ_POLLIN));
}

static void on_prepare(uv_prepare_t *h)
{
    rt_zsock_t *zs = h->data;
    if (!zs->paused && !zs->closing && (zevents(zs) & ZMQ_POLLIN))
        set_idle(zs, true);
}

int rt_zsock_new(rt_loop_t *loop, int type, unsigned batch, rt_zsock_cb cb, void *ud,
                 rt_zsock_t **out)
{
    int zero = 0, fd;
    size_t sz = sizeof fd;
    rt_zsock_t *zs = calloc(1, sizeof *zs);
    if (zs == NULL)
        return CQLMQ_ENOMEM;
    zs->loop = loop;
    zs->cb = cb;
    zs->ud = ud;
    zs->batch = batch ? batch : 64;
    zs->sock = zmq_socket(loop->rt->zctx, type);
    if (zs->sock == NULL) {
        int rc = rt_zmq_err(errno);
        free(zs);
        return rc;
    }
    zmq_setsockopt(zs->sock, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_getsockopt(zs->sock, ZMQ_FD, &fd, &sz) != 0 ||
        uv_poll_init(&loop->uv, &zs->poll, fd) != 0) {
        zmq_close(zs->sock);
        free(zs);
        return CQLMQ_EZMQ;
    }
    uv_prepare_init(&loop->uv, &zs->prep);
    uv_check_init(&loop->uv, &zs->check);
    uv_idle_init(&loop->uv, &zs->idle);
    zs->poll.data = zs->prep.data = zs->check.data = zs->idle.data = zs;
    uv_poll_start(&zs->poll, UV_READABLE, on_poll);
    uv_prepare_start(&zs->prep, on_prepare);
    uv_check_start(&zs->check, on_check);
    zs->next = loop->zsocks;
    if (loop->zsocks)
        loop->zsocks->prev = zs;
    loop->zsocks = zs;
    *out = zs;
    return 0;
}

void *rt_zsock_handle(rt_zsock_t *zs) { return zs->sock; }
uint64_t rt_zsock_received(const rt_zsock_t *zs) { return zs->received; }

void rt_zsock_pause(rt_zsock_t *zs, bool paused)
{
    zs->paused = paused;
    if (paused)
        set_idle(zs, false);
}

int rt_zsock_send(rt_zsock_t *zs, zmq_msg_t *parts, size_t nparts)
{
    if (zs->closing)
        return CQLMQ_ECLOSED;
    for (size_t i = 0; i < nparts; i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < nparts ? ZMQ_SNDMORE : 0);
        if (zmq_msg_send(&parts[i], zs->sock, flags) < 0)
            /* Only the first frame can be refused; later ones of a
             * multipart message are accepted with it. */
            return i == 0 ? rt_zmq_err(errno) : CQLMQ_EZMQ;
    }
    return 0;
}

int rt_zsock_send_bufs(rt_zsock_t *zs, const void *const *bufs, const size_t *lens,
                       void *const *own, size_t n)
{
    zmq_msg_t parts[RT_ZSOCK_MAX_PARTS];
    size_t i;
    int rc = 0;
    if (n == 0 || n > RT_ZSOCK_MAX_PARTS)
        return CQLMQ_EINVAL;
    for (i = 0; i < n; i++) {
        if (own != NULL && own[i] != NULL) {
            if (zmq_msg_init_data(&parts[i], own[i], lens[i], mpk_free_cb, NULL) != 0) {
                free(own[i]);
                zmq_msg_init(&parts[i]);
                rc = CQLMQ_ENOMEM;
            }
        } else if (zmq_msg_init_size(&parts[i], lens[i]) == 0) {
            if (lens[i])
                memcpy(zmq_msg_data(&parts[i]), bufs[i], lens[i]);
        } else {
            zmq_msg_init(&parts[i]);
            rc = CQLMQ_ENOMEM;
        }
    }
    if (rc == 0)
        rc = rt_zsock_send(zs, parts, n);
    for (i = 0; i < n; i++)
        zmq_msg_close(&parts[i]);
    return rc;
}

void rt_zsock_close(rt_zsock_t **pzs)
{
    rt_zsock_t *zs = *pzs;
    *pzs = NULL;
    if (zs == NULL || zs->closing)
        return;
    set_idle(zs, false);
    zs->closing = true;
    rt_loop_t *loop = zs->loop;
    if (zs->prev) zs->prev->next = zs->next;
    else loop->zsocks = zs->next;
    if (zs->next) zs->next->prev = zs->prev;
    if (!zs->in_cb)
        do_close(zs);
}

void rt_zsock_close_all(rt_loop_t *loop)
{
    while (loop->zsocks != NULL) {
        rt_zsock_t *zs = loop->zsocks;
        rt_zsock_close(&zs);
    }
}
