/*
 * test_client_fake: a small fake cqlmqd for the C client's tests — a ROUTER
 * socket on tcp://127.0.0.1 in a thread, answering per docs/protocol.md.
 * Requests are decoded with the gateway's own decoder (wire_req_decode), so
 * a request the client encodes wrongly is answered with bad_request and the
 * test fails on it. What it answers depends on the CQL text:
 *
 *   "rows N"        a result of N rows: (id int, name text)
 *   "stream P R"    (stream: true) P pages of R rows, never beyond credit
 *   "stall"         (stream) the first page, then nothing
 *   "silent"        no reply at all
 *   "hold"          held; when 3 are held they are answered in reverse
 *                   order, each with one row holding its own id
 *   "error CODE"    an error reply with that code and details
 *   "bomb"          rows whose array header claims 2^28 items
 *   "wrongtype"     a result whose kind is an integer
 *   "shortrow"      a row with fewer values than columns
 *   "noid"          a reply without an id
 *   "unexpected"    a pong instead of a result
 *
 * Sessions: a request from a peer that has not said hello gets
 * unknown_session; fake_restart() forgets every session (a cqlmqd restart).
 * Everything it sees is counted under its mutex for the tests to assert.
 */
#ifndef TEST_CLIENT_FAKE_H
#define TEST_CLIENT_FAKE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "mpk.h"
#include "wire_msg.h"

#define FAKE_MAX 16

/* Not every test file uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"

typedef struct fake_stream {
    bool live;
    uint8_t rid[256];
    size_t rid_len;
    uint64_t id;
    uint64_t pages, rows_per_page; /* to send */
    uint64_t sent, granted;
    bool stall;
} fake_stream_t;

typedef struct fake_held {
    uint8_t rid[256];
    size_t rid_len;
    uint64_t id;
} fake_held_t;

typedef struct fake {
    void *ctx, *router;
    pthread_t thread;
    atomic_bool stop;
    bool running;
    char endpoint[64];
    pthread_mutex_t mu;
    wire_limits_t limits;
    /* sessions: routing ids that said hello */
    uint8_t sess[FAKE_MAX][256];
    size_t sess_len[FAKE_MAX];
    int nsess;
    /* counters */
    int hellos, requests, unknown_sessions, cancels, credit_msgs, bad_requests;
    uint64_t credit_total, last_cancel_id;
    uint64_t max_outstanding; /* the most credit a stream ever had ahead */
    uint8_t last_params[1024];
    size_t last_params_len;
    uint32_t last_batch_statements;
    char last_consistency[32];
    uint32_t last_page_size, last_timeout_ms;
    fake_stream_t streams[FAKE_MAX];
    fake_held_t held[FAKE_MAX];
    int nheld;
} fake_t;

static void fake_send(fake_t *f, const void *rid, size_t rid_len, const void *p, size_t n)
{
    zmq_send(f->router, rid, rid_len, ZMQ_SNDMORE);
    zmq_send(f->router, p, n, 0);
}

static void fake_send_w(fake_t *f, const void *rid, size_t rid_len, mpk_wr_t *w)
{
    fake_send(f, rid, rid_len, w->data, w->len);
    mpk_wr_reset(w);
}

static void fake_columns(mpk_wr_t *w)
{
    mpk_wr_cstr(w, "columns");
    mpk_wr_array(w, 2);
    mpk_wr_array(w, 2), mpk_wr_cstr(w, "id"), mpk_wr_cstr(w, "int");
    mpk_wr_array(w, 2), mpk_wr_cstr(w, "name"), mpk_wr_cstr(w, "text");
}

static void fake_rows(mpk_wr_t *w, uint64_t n, uint64_t first)
{
    mpk_wr_cstr(w, "rows");
    mpk_wr_array(w, (uint32_t)n);
    for (uint64_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "name-%llu", (unsigned long long)(first + i));
        mpk_wr_array(w, 2);
        mpk_wr_int(w, (int64_t)(first + i));
        mpk_wr_cstr(w, name);
    }
}

static void fake_head(mpk_wr_t *w, uint32_t nfields, const char *op, uint64_t id)
{
    mpk_wr_map(w, nfields);
    mpk_wr_cstr(w, "op"), mpk_wr_cstr(w, op);
    mpk_wr_cstr(w, "id"), mpk_wr_uint(w, id);
}

static void fake_error(fake_t *f, const void *rid, size_t rl, uint64_t id, const char *code)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    fake_head(&w, 6, "error", id);
    mpk_wr_cstr(&w, "code"), mpk_wr_cstr(&w, code);
    mpk_wr_cstr(&w, "message"), mpk_wr_cstr(&w, "boom");
    mpk_wr_cstr(&w, "cql_code"), mpk_wr_int(&w, 0x1200);
    mpk_wr_cstr(&w, "details");
    mpk_wr_map(&w, 3);
    mpk_wr_cstr(&w, "consistency"), mpk_wr_cstr(&w, "quorum");
    mpk_wr_cstr(&w, "required"), mpk_wr_int(&w, 3);
    mpk_wr_cstr(&w, "received"), mpk_wr_int(&w, 1);
    fake_send_w(f, rid, rl, &w);
    mpk_wr_close(&w);
}

static bool fake_has_session(fake_t *f, const uint8_t *rid, size_t rl)
{
    for (int i = 0; i < f->nsess; i++)
        if (f->sess_len[i] == rl && memcmp(f->sess[i], rid, rl) == 0)
            return true;
    return false;
}

static void fake_pump(fake_t *f)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    for (int i = 0; i < FAKE_MAX; i++) {
        fake_stream_t *s = &f->streams[i];
        if (!s->live)
            continue;
        while (s->sent < s->granted && s->sent < s->pages && !(s->stall && s->sent >= 1)) {
            bool last = s->sent + 1 == s->pages;
            fake_head(&w, (s->sent == 0 ? 5 : 4) + (last ? 0 : 1), "page", s->id);
            mpk_wr_cstr(&w, "seq"), mpk_wr_uint(&w, s->sent);
            if (s->sent == 0)
                fake_columns(&w);
            if (!last) {
                char ps[16];
                int n = snprintf(ps, sizeof ps, "ps-%llu", (unsigned long long)s->sent);
                mpk_wr_cstr(&w, "paging_state"), mpk_wr_bin(&w, ps, (size_t)n);
            }
            fake_rows(&w, s->rows_per_page, s->sent * s->rows_per_page);
            fake_send_w(f, s->rid, s->rid_len, &w);
            s->sent++;
        }
        if (s->sent == s->pages && !s->stall) {
            wire_reply_done(&w, s->id, s->pages, s->pages * s->rows_per_page);
            fake_send_w(f, s->rid, s->rid_len, &w);
            s->live = false;
        }
    }
    mpk_wr_close(&w);
}

static fake_stream_t *fake_find_stream(fake_t *f, uint64_t id)
{
    for (int i = 0; i < FAKE_MAX; i++)
        if (f->streams[i].live && f->streams[i].id == id)
            return &f->streams[i];
    return NULL;
}

static void fake_query(fake_t *f, const uint8_t *rid, size_t rl, const wire_req_t *rq)
{
    mpk_wr_t w;
    char cql[128];
    unsigned long long a = 0, b = 0;
    size_t n = rq->cql.len < sizeof cql - 1 ? rq->cql.len : sizeof cql - 1;
    memcpy(cql, rq->cql.ptr, n);
    cql[n] = '\0';
    mpk_wr_init(&w);
    if (rq->stream && (sscanf(cql, "stream %llu %llu", &a, &b) == 2 || strcmp(cql, "stall") == 0)) {
        for (int i = 0; i < FAKE_MAX; i++) {
            fake_stream_t *s = &f->streams[i];
            if (s->live)
                continue;
            memset(s, 0, sizeof *s);
            s->live = true;
            memcpy(s->rid, rid, rl);
            s->rid_len = rl;
            s->id = rq->id;
            s->stall = strcmp(cql, "stall") == 0;
            s->pages = s->stall ? 5 : a;
            s->rows_per_page = s->stall ? 2 : b;
            s->granted = rq->credit;
            if (s->granted > f->max_outstanding)
                f->max_outstanding = s->granted;
            break;
        }
    } else if (sscanf(cql, "rows %llu", &a) == 1) {
        fake_head(&w, 5, "result", rq->id);
        mpk_wr_cstr(&w, "kind"), mpk_wr_cstr(&w, "rows");
        fake_columns(&w);
        fake_rows(&w, a, 0);
        fake_send_w(f, rid, rl, &w);
    } else if (strncmp(cql, "error ", 6) == 0) {
        fake_error(f, rid, rl, rq->id, cql + 6);
    } else if (strcmp(cql, "hold") == 0) {
        fake_held_t *h = &f->held[f->nheld++];
        memcpy(h->rid, rid, rl);
        h->rid_len = rl;
        h->id = rq->id;
        if (f->nheld == 3) {
            for (int i = f->nheld - 1; i >= 0; i--) {
                h = &f->held[i];
                fake_head(&w, 5, "result", h->id);
                mpk_wr_cstr(&w, "kind"), mpk_wr_cstr(&w, "rows");
                fake_columns(&w);
                mpk_wr_cstr(&w, "rows");
                mpk_wr_array(&w, 1), mpk_wr_array(&w, 2);
                mpk_wr_int(&w, (int64_t)h->id), mpk_wr_cstr(&w, "held");
                fake_send_w(f, h->rid, h->rid_len, &w);
            }
            f->nheld = 0;
        }
    } else if (strcmp(cql, "bomb") == 0) {
        static const uint8_t bomb[] = {0xdd, 0x0f, 0xff, 0xff, 0xff};
        fake_head(&w, 5, "result", rq->id);
        mpk_wr_cstr(&w, "kind"), mpk_wr_cstr(&w, "rows");
        fake_columns(&w);
        mpk_wr_cstr(&w, "rows");
        mpk_wr_raw(&w, bomb, sizeof bomb);
        fake_send_w(f, rid, rl, &w);
    } else if (strcmp(cql, "wrongtype") == 0) {
        fake_head(&w, 3, "result", rq->id);
        mpk_wr_cstr(&w, "kind"), mpk_wr_int(&w, 42);
        fake_send_w(f, rid, rl, &w);
    } else if (strcmp(cql, "shortrow") == 0) {
        fake_head(&w, 5, "result", rq->id);
        mpk_wr_cstr(&w, "kind"), mpk_wr_cstr(&w, "rows");
        fake_columns(&w);
        mpk_wr_cstr(&w, "rows");
        mpk_wr_array(&w, 1), mpk_wr_array(&w, 1), mpk_wr_int(&w, 1);
        fake_send_w(f, rid, rl, &w);
    } else if (strcmp(cql, "noid") == 0) {
        mpk_wr_map(&w, 2);
        mpk_wr_cstr(&w, "op"), mpk_wr_cstr(&w, "result");
        mpk_wr_cstr(&w, "kind"), mpk_wr_cstr(&w, "void");
        fake_send_w(f, rid, rl, &w);
    } else if (strcmp(cql, "unexpected") == 0) {
        wire_reply_pong(&w, rq->id);
        fake_send_w(f, rid, rl, &w);
    } else if (strcmp(cql, "silent") != 0) {
        wire_reply_void(&w, rq->id, NULL);
        fake_send_w(f, rid, rl, &w);
    }
    mpk_wr_close(&w);
}

static void fake_handle(fake_t *f, const uint8_t *rid, size_t rl, const uint8_t *p, size_t n)
{
    wire_req_t rq;
    wire_diag_t d;
    mpk_wr_t w;
    mpk_wr_init(&w);
    int rc = wire_req_decode(p, n, &f->limits, &rq, &d);
    if (rc != 0) {
        f->bad_requests++;
        fprintf(stderr, "fake: bad request: %s\n", d.msg);
        wire_reply_error(&w, rq.id, WIRE_ERR_BAD_REQUEST, d.msg);
        fake_send_w(f, rid, rl, &w);
        mpk_wr_close(&w);
        return;
    }
    if (rq.op == WIRE_OP_HELLO) {
        f->hellos++;
        if (!fake_has_session(f, rid, rl) && f->nsess < FAKE_MAX) {
            memcpy(f->sess[f->nsess], rid, rl);
            f->sess_len[f->nsess++] = rl;
        }
        wire_reply_hello(&w, rq.id, "fake/1", mpk_cstr("s-1"), &f->limits);
        fake_send_w(f, rid, rl, &w);
        mpk_wr_close(&w);
        return;
    }
    if (rq.op == WIRE_OP_CREDIT) {
        f->credit_msgs++;
        f->credit_total += rq.credit;
        fake_stream_t *s = fake_find_stream(f, rq.id);
        if (s != NULL) {
            s->granted += rq.credit;
            if (s->granted - s->sent > f->max_outstanding)
                f->max_outstanding = s->granted - s->sent;
        }
        mpk_wr_close(&w);
        return;
    }
    if (rq.op == WIRE_OP_CANCEL) {
        f->cancels++;
        f->last_cancel_id = rq.id;
        fake_stream_t *s = fake_find_stream(f, rq.id);
        if (s != NULL)
            s->live = false;
        /* The terminal reply the client must ignore (it completed already). */
        fake_error(f, rid, rl, rq.id, "cancelled");
        mpk_wr_close(&w);
        return;
    }
    f->requests++;
    if (!fake_has_session(f, rid, rl)) {
        f->unknown_sessions++;
        wire_reply_error(&w, rq.id, WIRE_ERR_UNKNOWN_SESSION, "no session");
        fake_send_w(f, rid, rl, &w);
        mpk_wr_close(&w);
        return;
    }
    switch (rq.op) {
    case WIRE_OP_QUERY:
    case WIRE_OP_EXECUTE:
        f->last_page_size = rq.page_size;
        f->last_timeout_ms = rq.timeout_ms;
        snprintf(f->last_consistency, sizeof f->last_consistency, "%.*s",
                 (int)rq.u.query.consistency.len, rq.u.query.consistency.ptr);
        if (rq.op == WIRE_OP_EXECUTE)
            snprintf(f->last_consistency, sizeof f->last_consistency, "%.*s",
                     (int)rq.u.execute.consistency.len, rq.u.execute.consistency.ptr);
        f->last_params_len = rq.params.len < sizeof f->last_params ? rq.params.len : 0;
        memcpy(f->last_params, rq.params.ptr ? rq.params.ptr : (const uint8_t *)"",
               f->last_params_len);
        if (rq.op == WIRE_OP_QUERY) {
            fake_query(f, rid, rl, &rq);
        } else {
            char name[16] = "rows 2";
            wire_req_t q = rq;
            if (rq.stream)
                snprintf(name, sizeof name, "stream 2 2");
            q.cql = mpk_cstr(name);
            fake_query(f, rid, rl, &q);
        }
        break;
    case WIRE_OP_PREPARE: {
        fake_head(&w, 5, "prepared", rq.id);
        mpk_wr_cstr(&w, "handle"), mpk_wr_bin(&w, "h1", 2);
        mpk_wr_cstr(&w, "params");
        mpk_wr_array(&w, 2);
        mpk_wr_array(&w, 2), mpk_wr_cstr(&w, "k"), mpk_wr_cstr(&w, "int");
        mpk_wr_array(&w, 2), mpk_wr_cstr(&w, "tags"), mpk_wr_cstr(&w, "map<text, frozen<list<int>>>");
        fake_columns(&w);
        fake_send_w(f, rid, rl, &w);
        break;
    }
    case WIRE_OP_BATCH:
        f->last_batch_statements = rq.nstatements;
        wire_reply_void(&w, rq.id, NULL);
        fake_send_w(f, rid, rl, &w);
        break;
    case WIRE_OP_PING:
        wire_reply_pong(&w, rq.id);
        fake_send_w(f, rid, rl, &w);
        break;
    case WIRE_OP_STATS:
        fake_head(&w, 4, "stats", rq.id);
        mpk_wr_cstr(&w, "requests"), mpk_wr_uint(&w, (uint64_t)f->requests);
        mpk_wr_cstr(&w, "in_flight"), mpk_wr_uint(&w, 0);
        fake_send_w(f, rid, rl, &w);
        break;
    default:
        break;
    }
    mpk_wr_close(&w);
}

static void *fake_main(void *arg)
{
    fake_t *f = arg;
    while (!atomic_load(&f->stop)) {
        zmq_pollitem_t it = {f->router, 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, 5);
        pthread_mutex_lock(&f->mu);
        for (;;) {
            uint8_t rid[256];
            zmq_msg_t m;
            int rl = zmq_recv(f->router, rid, sizeof rid, ZMQ_DONTWAIT);
            if (rl < 0)
                break;
            zmq_msg_init(&m);
            zmq_msg_recv(&m, f->router, 0);
            fake_handle(f, rid, (size_t)rl, zmq_msg_data(&m), zmq_msg_size(&m));
            zmq_msg_close(&m);
        }
        fake_pump(f);
        pthread_mutex_unlock(&f->mu);
    }
    return NULL;
}

static void fake_start(fake_t *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    f->limits = (wire_limits_t){.max_message_bytes = 1 << 20, .max_in_flight = 64,
                                .max_streams = 8, .max_credit = 4, .max_page_bytes = 1 << 20,
                                .default_page_size = 100, .default_timeout_ms = 1000,
                                .max_timeout_ms = 60000, .lease_ms = 30000};
    f->ctx = zmq_ctx_new();
    f->router = zmq_socket(f->ctx, ZMQ_ROUTER);
    int zero = 0, one = 1;
    zmq_setsockopt(f->router, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(f->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    if (zmq_bind(f->router, "tcp://127.0.0.1:*") != 0)
        abort();
    size_t len = sizeof f->endpoint;
    zmq_getsockopt(f->router, ZMQ_LAST_ENDPOINT, f->endpoint, &len);
    f->running = true;
    pthread_create(&f->thread, NULL, fake_main, f);
}

/* The server goes away: its socket closes (the client sees a disconnect). */
static void fake_kill(fake_t *f)
{
    if (!f->running)
        return;
    atomic_store(&f->stop, true);
    pthread_join(f->thread, NULL);
    zmq_close(f->router);
    zmq_ctx_term(f->ctx);
    f->running = false;
}

static void fake_stop(fake_t *f)
{
    fake_kill(f);
    pthread_mutex_destroy(&f->mu);
}

/* cqlmqd restarted: every session is forgotten. */
static void fake_restart(fake_t *f)
{
    pthread_mutex_lock(&f->mu);
    f->nsess = 0;
    pthread_mutex_unlock(&f->mu);
}

/* Reads a counter under the lock. */
#define FAKE_GET(f, field)                   \
    ({                                       \
        pthread_mutex_lock(&(f)->mu);        \
        __typeof__((f)->field) v_ = (f)->field; \
        pthread_mutex_unlock(&(f)->mu);      \
        v_;                                  \
    })

/* Copies a string field under the lock. */
static const char *fake_str(fake_t *f, const char *field, char *buf, size_t cap)
{
    pthread_mutex_lock(&f->mu);
    snprintf(buf, cap, "%s", field);
    pthread_mutex_unlock(&f->mu);
    return buf;
}

static void fake_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

#endif /* TEST_CLIENT_FAKE_H */
