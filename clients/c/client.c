/*
 * client: the client object's lifecycle and plumbing — options, the DEALER
 * socket and its disconnect monitor, the one pollable fd, the table of
 * requests by id, and sending.
 *
 * Socket options follow docs/protocol.md section 1: no ZMQ_ROUTING_ID,
 * LINGER 0, ZMTP heartbeats (a dead gateway is noticed), MAXMSGSIZE as a
 * bound on replies. Every send is ZMQ_DONTWAIT: a full queue is an error
 * for that request, never a hang.
 *
 * The monitor (zmq_socket_monitor) reports CONNECTED and DISCONNECTED on an
 * inproc PAIR socket; its name carries the client's address, unique within
 * the process while the client lives.
 *
 * The pollable fd is an epoll set over the two ZMQ_FDs, so an event loop
 * watches one fd for replies and disconnects alike.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/epoll.h>
#endif

#include "cqlc_int.h"

int64_t cqlc_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void cqlmq_client_opts_init(cqlmq_client_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->deadline_grace_ms = 500;
    o->connect_timeout_ms = 5000;
    o->credit_window = WIRE_DEFAULT_CREDIT;
    o->heartbeat_ivl_ms = 5000;
    o->heartbeat_ttl_ms = 15000;
    o->max_reply_bytes = 256 << 20;
    o->session_retries = 2;
}

/* Zero fields of a caller's options take the defaults. */
static void apply_defaults(cqlmq_client_opts_t *o)
{
    cqlmq_client_opts_t d;
    cqlmq_client_opts_init(&d);
    if (o->deadline_grace_ms == 0)
        o->deadline_grace_ms = d.deadline_grace_ms;
    if (o->connect_timeout_ms == 0)
        o->connect_timeout_ms = d.connect_timeout_ms;
    if (o->credit_window == 0)
        o->credit_window = d.credit_window;
    if (o->heartbeat_ivl_ms == 0)
        o->heartbeat_ivl_ms = d.heartbeat_ivl_ms;
    if (o->heartbeat_ttl_ms == 0)
        o->heartbeat_ttl_ms = d.heartbeat_ttl_ms;
    if (o->max_reply_bytes == 0)
        o->max_reply_bytes = d.max_reply_bytes;
    if (o->session_retries == 0)
        o->session_retries = d.session_retries;
}

static int setopt_int(void *s, int opt, int v)
{
    return zmq_setsockopt(s, opt, &v, sizeof v) == 0 ? 0 : CQLMQ_EZMQ;
}

static int open_sockets(cqlmq_client_t *c, const char *endpoint)
{
    int rc = 0;
    int64_t maxmsg = c->opts.max_reply_bytes;
    c->sock = zmq_socket(c->ctx, ZMQ_DEALER);
    if (c->sock == NULL)
        return CQLMQ_EZMQ;
    rc |= setopt_int(c->sock, ZMQ_LINGER, 0);
    rc |= setopt_int(c->sock, ZMQ_HEARTBEAT_IVL, (int)c->opts.heartbeat_ivl_ms);
    rc |= setopt_int(c->sock, ZMQ_HEARTBEAT_TTL, (int)c->opts.heartbeat_ttl_ms);
    rc |= setopt_int(c->sock, ZMQ_HEARTBEAT_TIMEOUT, (int)c->opts.heartbeat_ttl_ms);
    rc |= setopt_int(c->sock, ZMQ_SNDHWM, 100000);
    rc |= setopt_int(c->sock, ZMQ_RCVHWM, 100000);
    rc |= setopt_int(c->sock, ZMQ_RECONNECT_IVL, 100);
    rc |= setopt_int(c->sock, ZMQ_RECONNECT_IVL_MAX, 2000);
    if (zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0)
        rc = CQLMQ_EZMQ;
    if (rc != 0)
        return CQLMQ_EZMQ;

    /* The monitor first, so the first CONNECTED is seen. */
    char name[64];
    snprintf(name, sizeof name, "inproc://cqlmq-client-monitor-%p", (void *)c);
    if (zmq_socket_monitor(c->sock, name, ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED) != 0)
        return CQLMQ_EZMQ;
    c->mon = zmq_socket(c->ctx, ZMQ_PAIR);
    if (c->mon == NULL || setopt_int(c->mon, ZMQ_LINGER, 0) != 0 || zmq_connect(c->mon, name) != 0)
        return CQLMQ_EZMQ;
    if (zmq_connect(c->sock, endpoint) != 0)
        return CQLMQ_EZMQ;
    return 0;
}

int cqlmq_client_new(const char *endpoint, const cqlmq_client_opts_t *opts, cqlmq_client_t **out)
{
    int rc;
    *out = NULL;
    if (endpoint == NULL)
        return CQLMQ_EINVAL;
    cqlmq_client_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return CQLMQ_ENOMEM;
    c->epfd = -1;
    c->next_id = 1;
    c->next_timer = CQLC_NEVER;
    c->last_send = cqlc_now_us();
    c->last_error.cql_code = -1;
    if (opts != NULL) {
        c->opts = *opts;
        apply_defaults(&c->opts);
    } else {
        cqlmq_client_opts_init(&c->opts);
    }
    c->client_name = strdup(c->opts.client_name ? c->opts.client_name : CQLC_VERSION);
    c->nbuckets = 64;
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    if (c->client_name == NULL || c->buckets == NULL) {
        rc = CQLMQ_ENOMEM;
        goto fail;
    }
    c->opts.client_name = c->client_name;
    if (c->opts.zmq_ctx != NULL) {
        c->ctx = c->opts.zmq_ctx;
    } else {
        c->ctx = zmq_ctx_new();
        c->own_ctx = true;
        if (c->ctx == NULL) {
            rc = CQLMQ_EZMQ;
            goto fail;
        }
    }
    if ((rc = open_sockets(c, endpoint)) != 0)
        goto fail;
    *out = c;
    return 0;
fail:
    if (c->mon != NULL)
        zmq_close(c->mon);
    if (c->sock != NULL)
        zmq_close(c->sock);
    if (c->own_ctx && c->ctx != NULL)
        zmq_ctx_term(c->ctx);
    free(c->buckets);
    free(c->client_name);
    free(c);
    return rc;
}

void cqlmq_client_free(cqlmq_client_t **cp)
{
    cqlmq_client_t *c = cp ? *cp : NULL;
    if (c == NULL)
        return;
    *cp = NULL;
    /* Every pending request gets its one terminal outcome. */
    while (c->head != NULL)
        cqlc_fail(c, c->head, CQLMQ_ECLOSED, "closed", "the client was closed");
    if (c->epfd >= 0)
        close(c->epfd);
    if (c->sock != NULL) {
        zmq_socket_monitor(c->sock, NULL, 0);
        zmq_close(c->sock);
    }
    if (c->mon != NULL)
        zmq_close(c->mon);
    if (c->own_ctx)
        zmq_ctx_term(c->ctx);
    cqlmq_error_clear(&c->last_error);
    free(c->buckets);
    free(c->client_name);
    free(c);
}

const cqlmq_limits_t *cqlmq_client_limits(const cqlmq_client_t *c)
{
    return c->have_limits ? &c->limits : NULL;
}
const char *cqlmq_client_session(const cqlmq_client_t *c) { return c->session; }
const char *cqlmq_client_server(const cqlmq_client_t *c) { return c->server; }
const cqlmq_errinfo_t *cqlmq_client_error(const cqlmq_client_t *c) { return &c->last_error; }
size_t cqlmq_client_pending(const cqlmq_client_t *c) { return c->npending; }

int cqlmq_client_fd(cqlmq_client_t *c, int *fd)
{
    int sfd, mfd;
    size_t sz = sizeof sfd;
    if (zmq_getsockopt(c->sock, ZMQ_FD, &sfd, &sz) != 0)
        return CQLMQ_EZMQ;
#ifdef __linux__
    if (c->epfd < 0) {
        sz = sizeof mfd;
        if (zmq_getsockopt(c->mon, ZMQ_FD, &mfd, &sz) != 0)
            return CQLMQ_EZMQ;
        int ep = epoll_create1(EPOLL_CLOEXEC);
        if (ep < 0)
            return CQLMQ_EZMQ;
        struct epoll_event ev = {.events = EPOLLIN};
        ev.data.fd = sfd;
        int bad = epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
        ev.data.fd = mfd;
        bad |= epoll_ctl(ep, EPOLL_CTL_ADD, mfd, &ev);
        if (bad != 0) {
            close(ep);
            return CQLMQ_EZMQ;
        }
        c->epfd = ep;
    }
    *fd = c->epfd;
#else
    (void)mfd;
    *fd = sfd;
#endif
    return 0;
}

/* ---- the id table ---------------------------------------------------- */

static size_t bucket(const cqlmq_client_t *c, uint64_t id)
{
    return (size_t)(id * UINT64_C(0x9E3779B97F4A7C15) >> 32) & (c->nbuckets - 1);
}

cqlc_req_t *cqlc_req_find(const cqlmq_client_t *c, uint64_t id)
{
    for (cqlc_req_t *rq = c->buckets[bucket(c, id)]; rq != NULL; rq = rq->hnext)
        if (rq->id == id)
            return rq;
    return NULL;
}

static void grow(cqlmq_client_t *c)
{
    size_t n = c->nbuckets * 2;
    cqlc_req_t **b = calloc(n, sizeof *b);
    if (b == NULL)
        return; /* longer chains; still correct */
    cqlc_req_t **old = c->buckets;
    size_t oldn = c->nbuckets;
    c->buckets = b;
    c->nbuckets = n;
    for (size_t i = 0; i < oldn; i++) {
        cqlc_req_t *rq = old[i];
        while (rq != NULL) {
            cqlc_req_t *next = rq->hnext;
            size_t k = bucket(c, rq->id);
            rq->hnext = b[k];
            b[k] = rq;
            rq = next;
        }
    }
    free(old);
}

cqlc_req_t *cqlc_req_add(cqlmq_client_t *c, wire_op_t op)
{
    cqlc_req_t *rq = calloc(1, sizeof *rq);
    if (rq == NULL)
        return NULL;
    if (c->npending >= c->nbuckets)
        grow(c);
    rq->id = c->next_id;
    c->next_id = c->next_id >= WIRE_ID_MAX ? 1 : c->next_id + 1;
    rq->op = op;
    rq->deadline = CQLC_NEVER;
    size_t k = bucket(c, rq->id);
    rq->hnext = c->buckets[k];
    c->buckets[k] = rq;
    rq->prev = c->tail;
    if (c->tail != NULL)
        c->tail->next = rq;
    else
        c->head = rq;
    c->tail = rq;
    c->npending++;
    return rq;
}

void cqlc_req_remove(cqlmq_client_t *c, cqlc_req_t *rq)
{
    cqlc_req_t **pp = &c->buckets[bucket(c, rq->id)];
    while (*pp != NULL && *pp != rq)
        pp = &(*pp)->hnext;
    if (*pp == rq)
        *pp = rq->hnext;
    if (rq->prev != NULL)
        rq->prev->next = rq->next;
    else
        c->head = rq->next;
    if (rq->next != NULL)
        rq->next->prev = rq->prev;
    else
        c->tail = rq->prev;
    c->npending--;
    cqlc_cols_unref(&rq->cols);
    free(rq->msg);
    free(rq);
}

/* ---- sending ------------------------------------------------------ */

int cqlc_send(cqlmq_client_t *c, const void *p, size_t n)
{
    if (zmq_send(c->sock, p, n, ZMQ_DONTWAIT) < 0)
        return errno == EAGAIN ? CQLMQ_EBUSY : CQLMQ_EZMQ;
    c->last_send = cqlc_now_us();
    return 0;
}

/* Encodes and sends hello as an internal request. */
static int start_hello(cqlmq_client_t *c)
{
    cqlc_req_t *rq = cqlc_req_add(c, WIRE_OP_HELLO);
    if (rq == NULL)
        return CQLMQ_ENOMEM;
    mpk_wr_t w;
    wire_hello_req_t m = {0};
    m.op = mpk_cstr("hello");
    m.id = rq->id;
    m.protocol = WIRE_PROTOCOL_VERSION;
    m.client = mpk_cstr(c->client_name);
    MPK_SET(&m, wire_hello_req, client);
    mpk_wr_init(&w);
    wire_hello_req_encode(&w, &m);
    rq->msg = mpk_wr_release(&w, &rq->msg_len);
    rq->internal = true;
    rq->wait_ms = c->opts.connect_timeout_ms;
    if (rq->msg == NULL) {
        cqlc_req_remove(c, rq);
        return CQLMQ_ENOMEM;
    }
    c->state = CQLC_SS_HELLO;
    c->hello_id = rq->id;
    int rc = cqlc_dispatch(c, rq);
    if (rc != 0) {
        c->state = CQLC_SS_NONE;
        c->hello_id = 0;
        cqlc_req_remove(c, rq);
    }
    return rc;
}

int cqlc_hello(cqlmq_client_t *c, cqlmq_done_cb cb, void *ud)
{
    cqlc_req_t *rq;
    if (c->state == CQLC_SS_NONE) {
        int rc = start_hello(c);
        if (rc != 0)
            return rc;
    }
    rq = cqlc_req_find(c, c->hello_id);
    if (rq == NULL || rq->cb != NULL)
        return CQLMQ_ESTATE;
    rq->cb = cb;
    rq->ud = ud;
    return 0;
}

int cqlc_dispatch(cqlmq_client_t *c, cqlc_req_t *rq)
{
    int64_t now = cqlc_now_us();
    if (rq->deadline == CQLC_NEVER) {
        rq->deadline = now + (int64_t)rq->wait_ms * 1000;
        cqlc_timer_at(c, rq->deadline);
    }
    if (rq->op != WIRE_OP_HELLO && c->state != CQLC_SS_READY) {
        rq->state = CQLC_RQ_WAITING;
        if (c->state == CQLC_SS_NONE)
            return start_hello(c);
        return 0;
    }
    int rc = cqlc_send(c, rq->msg, rq->msg_len);
    if (rc != 0)
        return rc;
    rq->state = CQLC_RQ_SENT;
    rq->epoch = c->epoch;
    rq->sent_at = now;
    return 0;
}

int cqlc_grant(cqlmq_client_t *c, cqlc_req_t *rq, uint32_t n)
{
    mpk_wr_t w;
    wire_credit_req_t m = {0};
    m.op = mpk_cstr("credit");
    m.id = rq->id;
    m.n = n;
    mpk_wr_init(&w);
    wire_credit_req_encode(&w, &m);
    int rc = mpk_wr_error(&w);
    if (rc == 0)
        rc = cqlc_send(c, w.data, w.len);
    mpk_wr_close(&w);
    if (rc != 0)
        return rc;
    if (rq->received >= rq->granted) {
        /* It was idle on our side: the wait for the next page starts now. */
        rq->deadline = cqlc_now_us() + (int64_t)rq->wait_ms * 1000;
        cqlc_timer_at(c, rq->deadline);
    }
    rq->granted += n;
    return 0;
}
