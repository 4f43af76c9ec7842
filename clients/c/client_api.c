/*
 * client_api: the requests. Each is encoded once with the request schemas of
 * wire_msg.h (the same declarations cqlmqd decodes them with), checked
 * against the server's limits, and submitted; the blocking calls are the
 * async ones plus a wait for their completion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqlc_int.h"

/* ---- encoding -------------------------------------------------------- */

static uint32_t request_timeout(const cqlmq_client_t *c, const cqlmq_query_opts_t *o)
{
    uint32_t t = o && o->timeout_ms ? o->timeout_ms : c->opts.timeout_ms;
    if (t > 0 && c->have_limits && c->limits.max_timeout_ms > 0 && t > c->limits.max_timeout_ms)
        t = (uint32_t)c->limits.max_timeout_ms;
    return t;
}

/* The client's wait: the server's deadline plus the grace. */
static uint32_t wait_span(const cqlmq_client_t *c, uint32_t timeout)
{
    uint64_t t = timeout;
    if (t == 0)
        t = c->have_limits && c->limits.default_timeout_ms ? c->limits.default_timeout_ms : 10000;
    t += c->opts.deadline_grace_ms;
    return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

static uint32_t initial_credit(const cqlmq_client_t *c, const cqlmq_query_opts_t *o)
{
    uint32_t n = o && o->credit ? o->credit : c->opts.credit_window;
    if (c->have_limits && c->limits.max_credit > 0 && n > c->limits.max_credit)
        n = (uint32_t)c->limits.max_credit;
    return n ? n : 1;
}

/* The common options of query, execute and batch. */
#define SET_OPTS(m, T, o, timeout_)                                              \
    do {                                                                        \
        if ((o) && (o)->keyspace) {                                             \
            (m).keyspace = mpk_cstr((o)->keyspace);                             \
            MPK_SET(&(m), T, keyspace);                                         \
        }                                                                       \
        if ((o) && (o)->consistency) {                                          \
            (m).consistency = mpk_cstr((o)->consistency);                       \
            MPK_SET(&(m), T, consistency);                                      \
        }                                                                       \
        if ((o) && (o)->serial_consistency) {                                   \
            (m).serial_consistency = mpk_cstr((o)->serial_consistency);         \
            MPK_SET(&(m), T, serial_consistency);                               \
        }                                                                       \
        if (timeout_) {                                                          \
            (m).timeout_ms = (timeout_);                                         \
            MPK_SET(&(m), T, timeout_ms);                                       \
        }                                                                       \
        if ((o) && (o)->has_timestamp) {                                        \
            (m).timestamp = (o)->timestamp;                                     \
            MPK_SET(&(m), T, timestamp);                                        \
        }                                                                       \
        if ((o) && (o)->idempotent) {                                           \
            (m).idempotent = true;                                              \
            MPK_SET(&(m), T, idempotent);                                       \
        }                                                                       \
    } while (0)

/* params, page_size, paging_state, stream, credit (query and execute). */
#define SET_PAGING(m, T, o, params_, page_size_, stream_, credit_)            \
    do {                                                                        \
        if ((params_).len) {                                                    \
            (m).params = (params_);                                             \
            MPK_SET(&(m), T, params);                                           \
        }                                                                       \
        if (page_size_) {                                                       \
            (m).page_size = (page_size_);                                       \
            MPK_SET(&(m), T, page_size);                                        \
        }                                                                       \
        if ((o) && (o)->paging_state) {                                         \
            (m).paging_state = (mpk_bin_t){(o)->paging_state,                   \
                                           (uint32_t)(o)->paging_state_len};    \
            MPK_SET(&(m), T, paging_state);                                     \
        }                                                                       \
        if (stream_) {                                                          \
            (m).stream = true;                                                  \
            (m).credit = (credit_);                                             \
            MPK_SET(&(m), T, stream);                                           \
            MPK_SET(&(m), T, credit);                                           \
        }                                                                       \
    } while (0)

static int encode(cqlmq_client_t *c, cqlc_req_t *rq, const cqlc_args_t *a, mpk_wr_t *w)
{
    const cqlmq_query_opts_t *o = a->o;
    uint32_t timeout = request_timeout(c, o);
    uint32_t page_size = o && o->page_size ? o->page_size : c->opts.page_size;
    mpk_wr_t pw;
    mpk_raw_t params = {NULL, 0};
    int rc = 0;

    rq->wait_ms = wait_span(c, timeout);
    mpk_wr_init(&pw);
    if (o && o->params) {
        if ((rc = cqlc_params_write(o->params, &pw)) != 0 || (rc = mpk_wr_error(&pw)) != 0)
            goto out;
        params = (mpk_raw_t){pw.data, pw.len};
    } else if (o && o->params_msgpack) {
        mpk_rd_t r;
        mpk_type_t t;
        mpk_rd_init(&r, o->params_msgpack, o->params_msgpack_len);
        if (mpk_rd_peek(&r, &t) != 0 || (t != MPK_ARRAY && t != MPK_MAP) ||
            mpk_rd_skip(&r) != 0 || !mpk_rd_done(&r)) {
            rc = CQLMQ_EINVAL;
            goto out;
        }
        params = (mpk_raw_t){o->params_msgpack, o->params_msgpack_len};
    }
    if (a->stream)
        rq->granted = initial_credit(c, o);

    switch (a->op) {
    case WIRE_OP_QUERY: {
        wire_query_req_t m = {0};
        if (a->cql == NULL) {
            rc = CQLMQ_EINVAL;
            break;
        }
        m.op = mpk_cstr("query");
        m.id = rq->id;
        m.cql = mpk_cstr(a->cql);
        SET_OPTS(m, wire_query_req, o, timeout);
        SET_PAGING(m, wire_query_req, o, params, page_size, a->stream, (uint64_t)rq->granted);
        wire_query_req_encode(w, &m);
        break;
    }
    case WIRE_OP_EXECUTE: {
        wire_execute_req_t m = {0};
        if (a->prep == NULL || a->prep->kind != CQLMQ_RESULT_PREPARED) {
            rc = CQLMQ_EINVAL;
            break;
        }
        m.op = mpk_cstr("execute");
        m.id = rq->id;
        m.handle = a->prep->handle;
        SET_OPTS(m, wire_execute_req, o, timeout);
        SET_PAGING(m, wire_execute_req, o, params, page_size, a->stream, (uint64_t)rq->granted);
        wire_execute_req_encode(w, &m);
        break;
    }
    case WIRE_OP_PREPARE: {
        wire_prepare_req_t m = {0};
        if (a->cql == NULL) {
            rc = CQLMQ_EINVAL;
            break;
        }
        m.op = mpk_cstr("prepare");
        m.id = rq->id;
        m.cql = mpk_cstr(a->cql);
        if (a->keyspace) {
            m.keyspace = mpk_cstr(a->keyspace);
            MPK_SET(&m, wire_prepare_req, keyspace);
        }
        wire_prepare_req_encode(w, &m);
        break;
    }
    case WIRE_OP_BATCH: {
        wire_batch_req_t m = {0};
        mpk_wr_t sw;
        const char *kind = NULL;
        if (a->batch == NULL) {
            rc = CQLMQ_EINVAL;
            break;
        }
        mpk_wr_init(&sw);
        if ((rc = cqlc_batch_write(a->batch, &sw, &kind)) == 0 && (rc = mpk_wr_error(&sw)) == 0) {
            m.op = mpk_cstr("batch");
            m.id = rq->id;
            m.kind = mpk_cstr(kind);
            m.statements = (mpk_raw_t){sw.data, sw.len};
            SET_OPTS(m, wire_batch_req, o, timeout);
            wire_batch_req_encode(w, &m);
        }
        mpk_wr_close(&sw);
        break;
    }
    case WIRE_OP_PING:
    case WIRE_OP_STATS: {
        wire_ping_req_t m = {0};
        m.op = mpk_cstr(a->op == WIRE_OP_PING ? "ping" : "stats");
        m.id = rq->id;
        wire_ping_req_encode(w, &m);
        break;
    }
    default:
        rc = CQLMQ_EINVAL;
        break;
    }
out:
    mpk_wr_close(&pw);
    if (rc == 0)
        rc = mpk_wr_error(w);
    return rc;
}

int cqlc_submit(cqlmq_client_t *c, const cqlc_args_t *a, cqlmq_done_cb cb, cqlmq_page_cb page_cb,
                void *ud, cqlmq_stream_t *bs, uint64_t *id)
{
    mpk_wr_t w;
    int rc;
    if (c->have_limits && c->limits.max_in_flight > 0 && c->npending >= c->limits.max_in_flight)
        return CQLMQ_EBUSY;
    cqlc_req_t *rq = cqlc_req_add(c, a->op);
    if (rq == NULL)
        return CQLMQ_ENOMEM;
    rq->stream = a->stream;
    mpk_wr_init(&w);
    rc = encode(c, rq, a, &w);
    if (rc == 0 && c->have_limits && c->limits.max_message_bytes > 0 &&
        w.len > c->limits.max_message_bytes)
        rc = CQLMQ_ETOOBIG;
    if (rc == 0) {
        rq->msg = mpk_wr_release(&w, &rq->msg_len);
        if (rq->msg == NULL)
            rc = CQLMQ_ENOMEM;
    }
    mpk_wr_close(&w);
    rq->cb = cb;
    rq->page_cb = page_cb;
    rq->ud = ud;
    rq->bstream = bs;
    if (rc == 0)
        rc = cqlc_dispatch(c, rq);
    if (rc != 0) {
        cqlc_req_remove(c, rq);
        return rc;
    }
    if (id != NULL)
        *id = rq->id;
    return 0;
}

/* ---- async ----------------------------------------------------------- */

static int submit(cqlmq_client_t *c, cqlc_args_t a, cqlmq_done_cb cb, void *ud, uint64_t *id)
{
    return cqlc_submit(c, &a, cb, NULL, ud, NULL, id);
}

int cqlmq_query_async(cqlmq_client_t *c, const char *cql, const cqlmq_query_opts_t *o,
                      cqlmq_done_cb cb, void *ud, uint64_t *id)
{
    return submit(c, (cqlc_args_t){.op = WIRE_OP_QUERY, .cql = cql, .o = o}, cb, ud, id);
}

int cqlmq_prepare_async(cqlmq_client_t *c, const char *cql, const char *keyspace,
                        cqlmq_done_cb cb, void *ud, uint64_t *id)
{
    return submit(c, (cqlc_args_t){.op = WIRE_OP_PREPARE, .cql = cql, .keyspace = keyspace}, cb,
                  ud, id);
}

int cqlmq_execute_async(cqlmq_client_t *c, const cqlmq_result_t *prepared,
                        const cqlmq_query_opts_t *o, cqlmq_done_cb cb, void *ud, uint64_t *id)
{
    return submit(c, (cqlc_args_t){.op = WIRE_OP_EXECUTE, .prep = prepared, .o = o}, cb, ud, id);
}

int cqlmq_batch_async(cqlmq_client_t *c, const cqlmq_batch_t *b, const cqlmq_query_opts_t *o,
                      cqlmq_done_cb cb, void *ud, uint64_t *id)
{
    return submit(c, (cqlc_args_t){.op = WIRE_OP_BATCH, .batch = b, .o = o}, cb, ud, id);
}

int cqlmq_ping_async(cqlmq_client_t *c, cqlmq_done_cb cb, void *ud, uint64_t *id)
{
    return submit(c, (cqlc_args_t){.op = WIRE_OP_PING}, cb, ud, id);
}

int cqlmq_stats_async(cqlmq_client_t *c, cqlmq_done_cb cb, void *ud, uint64_t *id)
{
    return submit(c, (cqlc_args_t){.op = WIRE_OP_STATS}, cb, ud, id);
}

int cqlmq_query_stream_async(cqlmq_client_t *c, const char *cql, const cqlmq_result_t *prepared,
                             const cqlmq_query_opts_t *o, cqlmq_page_cb page_cb, cqlmq_done_cb cb,
                             void *ud, uint64_t *id)
{
    cqlc_args_t a = {.op = prepared ? WIRE_OP_EXECUTE : WIRE_OP_QUERY,
                     .cql = cql, .prep = prepared, .o = o, .stream = true};
    return cqlc_submit(c, &a, cb, page_cb, ud, NULL, id);
}

/* ---- blocking -------------------------------------------------------- */

typedef struct sync_state {
    bool done;
    int status;
    cqlmq_result_t *res;
    cqlmq_errinfo_t err;
} sync_state_t;

static void sync_cb(cqlmq_client_t *c, uint64_t id, int status, cqlmq_result_t **res,
                    const cqlmq_errinfo_t *err, void *ud)
{
    sync_state_t *s = ud;
    (void)c, (void)id;
    s->done = true;
    s->status = status;
    if (res != NULL) {
        s->res = *res;
        *res = NULL;
    }
    if (err != NULL)
        cqlmq_error_copy(&s->err, err);
}

/* Records a local failure of a blocking call. */
static int local_fail(cqlmq_client_t *c, int rc)
{
    cqlc_error_set(&c->last_error, rc,
                   rc == CQLMQ_ETOOBIG  ? "too_big"
                   : rc == CQLMQ_EBUSY  ? "busy"
                   : rc == CQLMQ_EZMQ   ? "zmq"
                                        : "invalid",
                   "the request was not sent: %s", cqlmq_strerror(rc));
    return rc;
}

/* The wait failed (ZeroMQ): the request must not call back into a stack
 * frame that is gone. */
static void detach(cqlmq_client_t *c, uint64_t id)
{
    cqlc_req_t *rq = cqlc_req_find(c, id);
    if (rq != NULL) {
        rq->cb = NULL;
        rq->ud = NULL;
    }
}

static int run(cqlmq_client_t *c, cqlc_args_t a, cqlmq_result_t **out)
{
    sync_state_t s;
    memset(&s, 0, sizeof s);
    if (out != NULL)
        *out = NULL;
    if (c->in_callback)
        return CQLMQ_ESTATE;
    uint64_t id = 0;
    int rc = cqlc_submit(c, &a, sync_cb, NULL, &s, NULL, &id);
    if (rc != 0)
        return local_fail(c, rc);
    if ((rc = cqlc_wait(c, &s.done)) != 0) {
        detach(c, id);
        return local_fail(c, rc);
    }
    if (s.status != 0) {
        cqlmq_error_clear(&c->last_error);
        c->last_error = s.err;
        cqlmq_result_free(&s.res);
        return s.status;
    }
    cqlmq_error_clear(&s.err);
    if (out != NULL)
        *out = s.res;
    else
        cqlmq_result_free(&s.res);
    return 0;
}

int cqlmq_client_connect(cqlmq_client_t *c)
{
    sync_state_t s;
    memset(&s, 0, sizeof s);
    if (c->in_callback)
        return CQLMQ_ESTATE;
    if (c->state == CQLC_SS_READY)
        return 0;
    int rc = cqlc_hello(c, sync_cb, &s);
    if (rc != 0)
        return local_fail(c, rc);
    if ((rc = cqlc_wait(c, &s.done)) != 0) {
        detach(c, c->hello_id);
        return local_fail(c, rc);
    }
    cqlmq_result_free(&s.res);
    if (s.status != 0) {
        cqlmq_error_clear(&c->last_error);
        c->last_error = s.err;
        return s.status;
    }
    return 0;
}

int cqlmq_query(cqlmq_client_t *c, const char *cql, const cqlmq_query_opts_t *o,
                cqlmq_result_t **out)
{
    return run(c, (cqlc_args_t){.op = WIRE_OP_QUERY, .cql = cql, .o = o}, out);
}

int cqlmq_prepare(cqlmq_client_t *c, const char *cql, const char *keyspace, cqlmq_result_t **out)
{
    return run(c, (cqlc_args_t){.op = WIRE_OP_PREPARE, .cql = cql, .keyspace = keyspace}, out);
}

int cqlmq_execute(cqlmq_client_t *c, const cqlmq_result_t *prepared, const cqlmq_query_opts_t *o,
                  cqlmq_result_t **out)
{
    return run(c, (cqlc_args_t){.op = WIRE_OP_EXECUTE, .prep = prepared, .o = o}, out);
}

int cqlmq_batch(cqlmq_client_t *c, const cqlmq_batch_t *b, const cqlmq_query_opts_t *o,
                cqlmq_result_t **out)
{
    return run(c, (cqlc_args_t){.op = WIRE_OP_BATCH, .batch = b, .o = o}, out);
}

int cqlmq_ping(cqlmq_client_t *c, uint64_t *rtt_us)
{
    /* The session first, so the round trip is the ping's alone. */
    int rc = cqlmq_client_connect(c);
    if (rc != 0)
        return rc;
    int64_t t0 = cqlc_now_us();
    rc = run(c, (cqlc_args_t){.op = WIRE_OP_PING}, NULL);
    if (rc == 0 && rtt_us != NULL)
        *rtt_us = (uint64_t)(cqlc_now_us() - t0);
    return rc;
}

int cqlmq_stats(cqlmq_client_t *c, cqlmq_result_t **out)
{
    return run(c, (cqlc_args_t){.op = WIRE_OP_STATS}, out);
}
