/*
 * client_io: the one reader of the client's socket. cqlmq_client_process()
 * drains the monitor and a bounded batch of replies, routes each reply to
 * its request by `id` (replies for unknown ids — cancelled, timed out, or
 * from an old session — are counted and dropped), runs the session state
 * machine (hello, unknown_session, disconnects) and fires deadlines.
 *
 * The terminal-reply rule holds locally: a request leaves the id table
 * before its callback runs, so whatever arrives later for it is ignored,
 * and each request is completed exactly once (by its reply, its deadline,
 * its cancellation, a disconnect, or the client's end).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqlc_int.h"

/* ---- completion ---------------------------------------------------- */

/* Fails every request for which pred holds, by id, so that cascades (a
 * failed hello fails the requests waiting for it) cannot trip the walk. */
typedef bool (*req_pred_fn)(const cqlc_req_t *rq);

static void fail_where(cqlmq_client_t *c, req_pred_fn pred, const cqlmq_errinfo_t *err)
{
    size_t n = 0, cap = c->npending;
    uint64_t *ids = cap ? malloc(cap * sizeof *ids) : NULL;
    for (cqlc_req_t *rq = c->head; rq != NULL && ids != NULL; rq = rq->next)
        if (pred(rq) && n < cap)
            ids[n++] = rq->id;
    for (size_t i = 0; i < n; i++) {
        cqlc_req_t *rq = cqlc_req_find(c, ids[i]);
        if (rq != NULL)
            cqlc_complete(c, rq, err->rc, NULL, err);
    }
    free(ids);
    if (ids == NULL) {
        /* Out of memory: one at a time, rescanning. */
        for (;;) {
            cqlc_req_t *rq = c->head;
            while (rq != NULL && !pred(rq))
                rq = rq->next;
            if (rq == NULL)
                break;
            cqlc_complete(c, rq, err->rc, NULL, err);
        }
    }
}

static bool is_waiting(const cqlc_req_t *rq)
{
    return rq->state == CQLC_RQ_WAITING && rq->op != WIRE_OP_HELLO;
}
static bool is_sent(const cqlc_req_t *rq) { return rq->state == CQLC_RQ_SENT; }

void cqlc_complete(cqlmq_client_t *c, cqlc_req_t *rq, int status, cqlmq_result_t **res,
                   const cqlmq_errinfo_t *err)
{
    uint64_t id = rq->id;
    cqlmq_done_cb cb = rq->cb;
    void *ud = rq->ud;
    cqlmq_stream_t *bs = rq->bstream;
    bool hello_failed = false;
    if (rq->cancelled)
        c->ncancelled--;
    if (rq->op == WIRE_OP_HELLO && c->hello_id == id) {
        c->hello_id = 0;
        if (status != 0) {
            c->state = CQLC_SS_NONE;
            hello_failed = true;
        }
    }
    cqlc_req_remove(c, rq);
    if (bs != NULL) {
        cqlc_stream_on_done(bs, status, res, err);
    } else if (cb != NULL) {
        c->in_callback++;
        cb(c, id, status, res, err, ud);
        c->in_callback--;
    }
    if (res != NULL)
        cqlmq_result_free(res);
    if (hello_failed) {
        /* Requests waiting for this session cannot get one now. */
        cqlmq_errinfo_t e;
        memset(&e, 0, sizeof e);
        cqlc_error_set(&e, err ? err->rc : status, err ? err->code : "internal",
                       "hello failed: %s", err ? err->message : cqlmq_strerror(status));
        fail_where(c, is_waiting, &e);
        cqlmq_error_clear(&e);
    }
}

void cqlc_fail(cqlmq_client_t *c, cqlc_req_t *rq, int rc, const char *code, const char *fmt, ...)
{
    cqlmq_errinfo_t e;
    va_list ap;
    memset(&e, 0, sizeof e);
    cqlc_error_set(&e, rc, code, "%s", "");
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    cqlc_complete(c, rq, rc, NULL, &e);
    cqlmq_error_clear(&e);
}

/* ---- session ------------------------------------------------------- */

/* Sends every request that waited for the session, in submission order. */
static void flush_waiting(cqlmq_client_t *c)
{
    uint64_t last = c->tail ? c->tail->id : 0;
    cqlc_req_t *rq = c->head;
    while (rq != NULL) {
        cqlc_req_t *next = rq->next;
        bool is_last = rq->id == last;
        if (is_waiting(rq)) {
            int rc = cqlc_dispatch(c, rq);
            if (rc != 0)
                cqlc_fail(c, rq, rc, rc == CQLMQ_EBUSY ? "busy" : "zmq",
                          "could not send the request: %s", cqlmq_strerror(rc));
        }
        if (is_last)
            break;
        rq = next;
    }
}

static void copy_field(char *dst, size_t cap, mpk_str_t s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}

static void on_hello(cqlmq_client_t *c, cqlc_req_t *rq, zmq_msg_t *msg)
{
    wire_hello_rep_t m;
    wire_limits_t lim;
    mpk_rd_t r;
    mpk_rd_init(&r, zmq_msg_data(msg), zmq_msg_size(msg));
    int rc = wire_hello_rep_decode(&r, &m);
    if (rc == 0 && m.protocol != WIRE_PROTOCOL_VERSION)
        rc = CQLMQ_EBADVERSION;
    if (rc == 0 && MPK_HAS(&m, wire_hello_rep, limits)) {
        mpk_rd_t lr;
        mpk_rd_init(&lr, m.limits.ptr, m.limits.len);
        rc = wire_limits_decode(&lr, &lim);
    } else if (rc == 0) {
        rc = CQLMQ_EMALFORMED;
    }
    if (rc != 0) {
        cqlc_fail(c, rq, rc, "bad_reply", "malformed hello reply: %s", cqlmq_strerror(rc));
        return;
    }
    copy_field(c->session, sizeof c->session, m.session);
    copy_field(c->server, sizeof c->server, m.server);
    c->limits = (cqlmq_limits_t){lim.max_message_bytes, lim.max_in_flight, lim.max_streams,
                                 lim.max_credit, lim.max_page_bytes, lim.default_page_size,
                                 lim.default_timeout_ms, lim.max_timeout_ms, lim.lease_ms};
    c->have_limits = true;
    c->epoch++;
    c->state = CQLC_SS_READY;
    cqlc_complete(c, rq, 0, NULL, NULL);
    flush_waiting(c);
}

/* unknown_session: re-send after a new hello, unless it cannot be. */
static void on_unknown_session(cqlmq_client_t *c, cqlc_req_t *rq, const cqlmq_errinfo_t *e)
{
    if (rq->op == WIRE_OP_HELLO || rq->retries >= c->opts.session_retries || rq->received > 0) {
        cqlc_complete(c, rq, e->rc, NULL, e);
        return;
    }
    rq->retries++;
    rq->state = CQLC_RQ_WAITING;
    if (rq->epoch == c->epoch && c->state == CQLC_SS_READY)
        c->state = CQLC_SS_NONE; /* the session we had is gone */
    if (c->state == CQLC_SS_READY) {
        /* Sent before the current session existed: just send it again. */
        int rc = cqlc_dispatch(c, rq);
        if (rc != 0)
            cqlc_fail(c, rq, rc, "busy", "could not re-send: %s", cqlmq_strerror(rc));
        return;
    }
    if (c->state == CQLC_SS_NONE) {
        int rc = cqlc_dispatch(c, rq); /* starts the hello */
        if (rc != 0)
            cqlc_fail(c, rq, rc, "busy", "could not send hello: %s", cqlmq_strerror(rc));
    }
}

/* ---- replies ------------------------------------------------------- */

static void on_error_reply(cqlmq_client_t *c, cqlc_req_t *rq, zmq_msg_t *msg)
{
    wire_error_rep_t m;
    mpk_rd_t r;
    cqlmq_errinfo_t e;
    memset(&e, 0, sizeof e);
    mpk_rd_init(&r, zmq_msg_data(msg), zmq_msg_size(msg));
    int rc = wire_error_rep_decode(&r, &m);
    if (rc != 0) {
        cqlc_fail(c, rq, rc, "bad_reply", "malformed error reply: %s", cqlmq_strerror(rc));
        return;
    }
    cqlc_error_from_reply(&e, &m);
    if (mpk_str_eq(m.code, "unknown_session"))
        on_unknown_session(c, rq, &e);
    else
        cqlc_complete(c, rq, e.rc, NULL, &e);
    cqlmq_error_clear(&e);
}

static void on_page(cqlmq_client_t *c, cqlc_req_t *rq, zmq_msg_t *msg, mpk_str_t op)
{
    char why[160];
    cqlmq_result_t *res = NULL;
    int rc = cqlc_result_from_msg(msg, op, rq->cols, &res, why, sizeof why);
    if (rc != 0) {
        cqlc_fail(c, rq, rc, "bad_reply", "malformed page: %s", why);
        return;
    }
    if (res->seq != rq->next_seq || rq->received >= rq->granted) {
        uint64_t seq = res->seq;
        cqlmq_result_free(&res);
        cqlc_fail(c, rq, CQLMQ_EMALFORMED, "bad_reply",
                  seq != rq->next_seq ? "page seq %llu, expected %llu"
                                      : "page %llu beyond the credit granted (%llu)",
                  (unsigned long long)seq,
                  (unsigned long long)(seq != rq->next_seq ? rq->next_seq : rq->granted));
        return;
    }
    if (rq->next_seq == 0 && res->cols != NULL)
        rq->cols = cqlc_cols_ref(res->cols);
    rq->next_seq++;
    rq->received++;
    rq->rows += res->nrows;
    if (rq->received >= rq->granted) {
        rq->deadline = CQLC_NEVER; /* the consumer's pace now */
    } else {
        rq->deadline = cqlc_now_us() + (int64_t)rq->wait_ms * 1000;
        cqlc_timer_at(c, rq->deadline);
    }
    if (rq->bstream != NULL) {
        cqlc_stream_on_page(rq->bstream, &res);
        cqlmq_result_free(&res);
        return;
    }
    uint64_t id = rq->id;
    if (rq->page_cb != NULL) {
        c->in_callback++;
        rq->page_cb(c, id, res, rq->ud);
        c->in_callback--;
    }
    cqlmq_result_free(&res);
    /* Processed: one more page may come (unless cancelled meanwhile). */
    rq = cqlc_req_find(c, id);
    if (rq != NULL && !rq->cancelled) {
        rc = cqlc_grant(c, rq, 1);
        if (rc != 0)
            cqlc_fail(c, rq, rc, "busy", "could not grant credit: %s", cqlmq_strerror(rc));
    }
}

static const char *expected_reply(const cqlc_req_t *rq)
{
    switch (rq->op) {
    case WIRE_OP_HELLO: return "hello";
    case WIRE_OP_PREPARE: return "prepared";
    case WIRE_OP_PING: return "pong";
    case WIRE_OP_STATS: return "stats";
    default: return "result";
    }
}

/* The op and id of a reply. Unlike wire_peek_head it stops once both are
 * found, so a reply broken further on still reaches its request (which
 * then fails with bad_reply instead of waiting for its deadline). */
static int peek_head(const void *p, size_t n, mpk_str_t *op, uint64_t *id)
{
    mpk_rd_t r;
    uint32_t count;
    bool have_op = false, have_id = false;
    mpk_rd_init(&r, p, n);
    if (mpk_rd_map(&r, &count) != 0)
        return CQLMQ_EMALFORMED;
    for (uint32_t i = 0; i < count && !(have_op && have_id); i++) {
        mpk_str_t key;
        if (mpk_rd_str(&r, &key) != 0) {
            if (mpk_rd_skip(&r) != 0 || mpk_rd_skip(&r) != 0)
                return CQLMQ_EMALFORMED;
        } else if (mpk_str_eq(key, "op") && !have_op) {
            if (mpk_rd_str(&r, op) != 0)
                return CQLMQ_EMALFORMED;
            have_op = true;
        } else if (mpk_str_eq(key, "id") && !have_id) {
            if (mpk_rd_uint(&r, id) != 0)
                return CQLMQ_EMALFORMED;
            have_id = true;
        } else if (mpk_rd_skip(&r) != 0) {
            return CQLMQ_EMALFORMED;
        }
    }
    return have_op && have_id ? 0 : CQLMQ_EMALFORMED;
}

static void on_message(cqlmq_client_t *c, zmq_msg_t *msg)
{
    mpk_str_t op;
    uint64_t id;
    if (peek_head(zmq_msg_data(msg), zmq_msg_size(msg), &op, &id) != 0) {
        c->ignored++; /* no id: nobody to tell; the request's deadline will */
        return;
    }
    cqlc_req_t *rq = cqlc_req_find(c, id);
    if (rq == NULL || rq->state != CQLC_RQ_SENT || rq->cancelled) {
        c->ignored++;
        return;
    }
    if (mpk_str_eq(op, "error")) {
        on_error_reply(c, rq, msg);
        return;
    }
    if (rq->op == WIRE_OP_HELLO && mpk_str_eq(op, "hello")) {
        on_hello(c, rq, msg);
        return;
    }
    if (rq->stream && mpk_str_eq(op, "page")) {
        on_page(c, rq, msg, op);
        return;
    }
    if (!mpk_str_eq(op, expected_reply(rq)) && !(rq->stream && mpk_str_eq(op, "done"))) {
        cqlc_fail(c, rq, CQLMQ_EMALFORMED, "bad_reply", "unexpected reply '%.*s' to '%s'",
                  (int)(op.len > 32 ? 32 : op.len), op.ptr, wire_op_name(rq->op));
        return;
    }
    char why[160];
    cqlmq_result_t *res = NULL;
    int rc = cqlc_result_from_msg(msg, op, rq->cols, &res, why, sizeof why);
    if (rc != 0) {
        cqlc_fail(c, rq, rc, "bad_reply", "malformed '%.*s' reply: %s",
                  (int)(op.len > 32 ? 32 : op.len), op.ptr, why);
        return;
    }
    cqlc_complete(c, rq, 0, &res, NULL);
}

/* ---- events and timers -------------------------------------------- */

static int drain_monitor(cqlmq_client_t *c)
{
    int n = 0;
    for (;;) {
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, c->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            return n;
        }
        uint16_t event = 0;
        if (zmq_msg_size(&ev) >= 2)
            memcpy(&event, zmq_msg_data(&ev), 2);
        bool more = zmq_msg_more(&ev);
        zmq_msg_close(&ev);
        while (more) {
            zmq_msg_init(&addr);
            if (zmq_msg_recv(&addr, c->mon, 0) < 0)
                more = false;
            else
                more = zmq_msg_more(&addr);
            zmq_msg_close(&addr);
        }
        n++;
        if (event == ZMQ_EVENT_CONNECTED) {
            c->connected = true;
        } else if (event == ZMQ_EVENT_DISCONNECTED) {
            cqlmq_errinfo_t e;
            memset(&e, 0, sizeof e);
            c->connected = false;
            if (c->state != CQLC_SS_HELLO)
                c->state = CQLC_SS_NONE;
            cqlc_error_set(&e, CQLMQ_ECONNRESET, "disconnected",
                           "the connection to cqlmqd was lost");
            fail_where(c, is_sent, &e);
            cqlmq_error_clear(&e);
            c->state = c->hello_id ? CQLC_SS_HELLO : CQLC_SS_NONE;
        }
    }
}

static int64_t ping_interval_us(const cqlmq_client_t *c)
{
    if (c->opts.ping_idle_ms)
        return (int64_t)c->opts.ping_idle_ms * 1000;
    if (c->have_limits && c->limits.lease_ms > 0)
        return (int64_t)c->limits.lease_ms * 1000 / 3;
    return CQLC_NEVER;
}

static void send_idle_ping(cqlmq_client_t *c)
{
    cqlc_req_t *rq = cqlc_req_add(c, WIRE_OP_PING);
    if (rq == NULL)
        return;
    mpk_wr_t w;
    wire_ping_req_t m = {0};
    m.op = mpk_cstr("ping");
    m.id = rq->id;
    mpk_wr_init(&w);
    wire_ping_req_encode(&w, &m);
    rq->msg = mpk_wr_release(&w, &rq->msg_len);
    rq->internal = true;
    rq->wait_ms = c->opts.connect_timeout_ms;
    if (rq->msg == NULL || cqlc_dispatch(c, rq) != 0)
        cqlc_req_remove(c, rq);
}

static int run_cancelled(cqlmq_client_t *c)
{
    int n = 0;
    while (c->ncancelled > 0) {
        cqlc_req_t *rq = c->head;
        while (rq != NULL && !rq->cancelled)
            rq = rq->next;
        if (rq == NULL) {
            c->ncancelled = 0;
            break;
        }
        cqlc_fail(c, rq, CQLMQ_ECANCELLED, "cancelled", "cancelled by the client");
        n++;
    }
    return n;
}

static int run_timers(cqlmq_client_t *c)
{
    int n = 0;
    int64_t now = cqlc_now_us();
    if (now < c->next_timer)
        return 0;
    for (;;) {
        uint64_t ids[64];
        size_t k = 0;
        int64_t next = CQLC_NEVER;
        for (cqlc_req_t *rq = c->head; rq != NULL; rq = rq->next) {
            if (rq->deadline <= now && !rq->cancelled) {
                if (k < 64)
                    ids[k++] = rq->id;
            } else if (rq->deadline < next) {
                next = rq->deadline;
            }
        }
        c->next_timer = next;
        if (k == 0)
            break;
        for (size_t i = 0; i < k; i++) {
            cqlc_req_t *rq = cqlc_req_find(c, ids[i]);
            if (rq == NULL)
                continue;
            n++;
            cqlc_fail(c, rq, CQLMQ_ETIMEOUT, "timeout", "no reply within %u ms (client deadline)",
                      rq->wait_ms);
        }
    }
    int64_t ival = ping_interval_us(c);
    if (c->state == CQLC_SS_READY && ival != CQLC_NEVER && now - c->last_send >= ival) {
        send_idle_ping(c);
        n++;
    }
    return n;
}

static int process(cqlmq_client_t *c)
{
    int n = run_cancelled(c);
    n += drain_monitor(c);
    for (int i = 0; i < CQLC_BATCH; i++) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, c->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            break;
        }
        n++;
        if (zmq_msg_more(&msg)) {
            /* One frame per message is the contract: drop the rest. */
            bool more = true;
            while (more) {
                zmq_msg_t part;
                zmq_msg_init(&part);
                more = zmq_msg_recv(&part, c->sock, 0) >= 0 && zmq_msg_more(&part);
                zmq_msg_close(&part);
            }
            c->ignored++;
        } else {
            on_message(c, &msg);
        }
        zmq_msg_close(&msg);
    }
    n += run_timers(c);
    return n;
}

int cqlmq_client_process(cqlmq_client_t *c)
{
    if (c->in_callback)
        return CQLMQ_ESTATE;
    return process(c);
}

int cqlmq_client_timeout_ms(const cqlmq_client_t *c)
{
    int64_t t = c->next_timer;
    if (c->ncancelled > 0)
        return 0;
    int64_t ival = ping_interval_us(c);
    if (c->state == CQLC_SS_READY && ival != CQLC_NEVER && c->last_send + ival < t)
        t = c->last_send + ival;
    if (t == CQLC_NEVER)
        return -1;
    int64_t d = t - cqlc_now_us();
    if (d <= 0)
        return 0;
    d = (d + 999) / 1000;
    return d > INT32_MAX ? INT32_MAX : (int)d;
}

int cqlc_wait(cqlmq_client_t *c, const bool *done)
{
    while (!*done) {
        while (process(c) > 0 && !*done)
            ;
        if (*done)
            break;
        int timeout = cqlmq_client_timeout_ms(c);
        if (timeout < 0 || timeout > 1000)
            timeout = 1000;
        zmq_pollitem_t items[2] = {{c->sock, 0, ZMQ_POLLIN, 0}, {c->mon, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, timeout) < 0 && errno != EINTR)
            return CQLMQ_EZMQ;
    }
    return 0;
}

int cqlmq_cancel(cqlmq_client_t *c, uint64_t id)
{
    cqlc_req_t *rq = cqlc_req_find(c, id);
    if (rq == NULL || rq->cancelled || rq->internal)
        return CQLMQ_ENOTFOUND;
    if (rq->state == CQLC_RQ_SENT) {
        mpk_wr_t w;
        wire_cancel_req_t m = {0};
        m.op = mpk_cstr("cancel");
        m.id = id;
        mpk_wr_init(&w);
        if (wire_cancel_req_encode(&w, &m) == 0)
            (void)cqlc_send(c, w.data, w.len); /* best effort: we stop listening anyway */
        mpk_wr_close(&w);
    }
    rq->cancelled = true;
    c->ncancelled++;
    c->next_timer = 0;
    return 0;
}
