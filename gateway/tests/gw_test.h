/*
 * gw_test: helpers for the gateway's integration tests: an embedded node
 * and a gateway started in this process (the node on its own thread, the
 * gateway on a 2-loop runtime), real ZeroMQ DEALER clients speaking
 * msgpack over tcp, a reply parser, and the node's fault-control socket.
 * Everything is static: each test executable includes it once.
 */
#ifndef GW_TEST_H
#define GW_TEST_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cqlmq/gateway.h"
#include "embedded.h"
#include "protocol/wire/mpk.h"

/* ---- the process under test ---- */

typedef struct gwt {
    gw_embedded_t *node;
    cqlmq_runtime_t *rt;
    cqlmq_gateway_t *gw;
    void *ctx;              /* clients' context */
    void *ctl;              /* DEALER to the node's control socket */
    void *socks[256];       /* open clients (closed by gwt_stop) */
    int nsocks;
    char endpoint[256];
} gwt_t;

static gwt_t T;

/* Starts node + gateway; o may adjust limits (NULL: defaults). */
static inline void gwt_start_opts(int nodes, const cqlmq_gateway_opts_t *o)
{
    memset(&T, 0, sizeof T);
    cr_assert_eq(gw_embedded_start(nodes, 0, &T.node), 0);
    char contacts[512];
    gw_embedded_contact_points(T.node, contacts, sizeof contacts);
    cqlmq_runtime_opts_t ro = {.loops = 2};
    cr_assert_eq(cqlmq_runtime_new(&ro, &T.rt), 0);
    cqlmq_gateway_opts_t go;
    if (o != NULL)
        go = *o;
    else
        cqlmq_gateway_opts_init(&go);
    go.binds[0] = "tcp://127.0.0.1:*";
    go.nbinds = 1;
    go.contact_points = contacts;
    cr_assert_eq(cqlmq_gateway_start(T.rt, &go, &T.gw), 0);
    cr_assert_eq(cqlmq_runtime_start(T.rt), 0);
    snprintf(T.endpoint, sizeof T.endpoint, "%s", cqlmq_gateway_endpoint(T.gw, 0));
    T.ctx = zmq_ctx_new();
    T.ctl = zmq_socket(T.ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(T.ctl, ZMQ_LINGER, &zero, sizeof zero);
    cr_assert_eq(zmq_connect(T.ctl, gw_embedded_control(T.node)), 0);
}

/* Waits until a query goes through (the gateway has connected). */
static inline void gwt_wait_ready(void);

static inline void gwt_start(void)
{
    gwt_start_opts(1, NULL);
    gwt_wait_ready();
}

static inline void gwt_stop(void)
{
    for (int i = 0; i < T.nsocks; i++)
        if (T.socks[i] != NULL)
            zmq_close(T.socks[i]);
    zmq_close(T.ctl);
    zmq_ctx_term(T.ctx);
    cqlmq_gateway_free(&T.gw);
    cqlmq_runtime_free(&T.rt);
    gw_embedded_stop(&T.node);
}

/* Resident memory of this process in bytes. */
static inline size_t gwt_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

static inline void sleep_ms(unsigned ms) { usleep(ms * 1000u); }

/* ---- messages: a tiny map builder ---- */

/* A request under construction: mpk_wr_t plus a pair counter patched at
 * the end (map16 header reserved). */
typedef struct msg {
    mpk_wr_t w;
    uint32_t n;
} msg_t;

static inline void m_begin(msg_t *m)
{
    mpk_wr_init(&m->w);
    uint8_t hdr[3] = {0xde, 0, 0};
    mpk_wr_raw(&m->w, hdr, 3);
    m->n = 0;
}
static inline void m_key(msg_t *m, const char *k)
{
    mpk_wr_cstr(&m->w, k);
    m->n++;
}
static inline void m_str(msg_t *m, const char *k, const char *v) { m_key(m, k); mpk_wr_cstr(&m->w, v); }
static inline void m_uint(msg_t *m, const char *k, uint64_t v) { m_key(m, k); mpk_wr_uint(&m->w, v); }
static inline void m_int(msg_t *m, const char *k, int64_t v) { m_key(m, k); mpk_wr_int(&m->w, v); }
static inline void m_bool(msg_t *m, const char *k, bool v) { m_key(m, k); mpk_wr_bool(&m->w, v); }
static inline void m_bin(msg_t *m, const char *k, const void *p, size_t n) { m_key(m, k); mpk_wr_bin(&m->w, p, n); }
/* The key; the caller writes the value into m->w. */
static inline mpk_wr_t *m_val(msg_t *m, const char *k) { m_key(m, k); return &m->w; }
static inline void m_end(msg_t *m)
{
    m->w.data[1] = (uint8_t)(m->n >> 8);
    m->w.data[2] = (uint8_t)m->n;
}

/* ---- clients ---- */

static inline void *cl_new(void)
{
    void *s = zmq_socket(T.ctx, ZMQ_DEALER);
    int zero = 0, hwm = 100000;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    cr_assert_eq(zmq_connect(s, T.endpoint), 0);
    cr_assert_lt(T.nsocks, 256);
    T.socks[T.nsocks++] = s;
    return s;
}

/* Closes a client now (a client that disappears). */
static inline void cl_close(void *s)
{
    for (int i = 0; i < T.nsocks; i++)
        if (T.socks[i] == s)
            T.socks[i] = NULL;
    zmq_close(s);
}

static inline void cl_send_raw(void *s, const void *p, size_t n)
{
    cr_assert_eq(zmq_send(s, p, n, 0), (int)n, "send: %s", zmq_strerror(zmq_errno()));
}

static inline void cl_send(void *s, msg_t *m)
{
    m_end(m);
    cl_send_raw(s, m->w.data, m->w.len);
    mpk_wr_close(&m->w);
}

/* A parsed reply: the fields the tests look at. */
typedef struct rep {
    char op[16];
    uint64_t id;
    char code[32];
    char message[256];
    char kind[24];
    uint64_t seq, pages, rows_total;
    int64_t nrows;            /* length of `rows`, -1 when absent */
    bool has_columns;
    bool has_paging_state;
    uint8_t handle[64];
    uint32_t handle_len;
    uint64_t st[16];          /* stats: requests, in_flight, streams, sessions, hosts_up, errors */
    int64_t first_int;        /* rows[0][0] when it is an integer */
    size_t len;               /* bytes of the reply */
} rep_t;

static inline void cpy(char *dst, size_t cap, mpk_str_t s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}

static inline void rep_parse(const void *buf, size_t len, rep_t *r)
{
    static const char *const stat_keys[] = {"requests", "in_flight", "streams",
                                            "sessions", "hosts_up", "errors"};
    memset(r, 0, sizeof *r);
    r->nrows = -1;
    r->first_int = INT64_MIN;
    r->len = len;
    mpk_rd_t rd;
    uint32_t n;
    mpk_rd_init(&rd, buf, len);
    cr_assert_eq(mpk_rd_map(&rd, &n), 0, "reply is a map");
    for (uint32_t i = 0; i < n; i++) {
        mpk_str_t k, v;
        cr_assert_eq(mpk_rd_str(&rd, &k), 0);
        if (mpk_str_eq(k, "op") || mpk_str_eq(k, "code") || mpk_str_eq(k, "message") ||
            mpk_str_eq(k, "kind")) {
            cr_assert_eq(mpk_rd_str(&rd, &v), 0);
            if (mpk_str_eq(k, "op")) cpy(r->op, sizeof r->op, v);
            else if (mpk_str_eq(k, "code")) cpy(r->code, sizeof r->code, v);
            else if (mpk_str_eq(k, "message")) cpy(r->message, sizeof r->message, v);
            else cpy(r->kind, sizeof r->kind, v);
        } else if (mpk_str_eq(k, "id")) {
            cr_assert_eq(mpk_rd_uint(&rd, &r->id), 0);
        } else if (mpk_str_eq(k, "seq")) {
            cr_assert_eq(mpk_rd_uint(&rd, &r->seq), 0);
        } else if (mpk_str_eq(k, "pages")) {
            cr_assert_eq(mpk_rd_uint(&rd, &r->pages), 0);
        } else if (mpk_str_eq(k, "rows") && strcmp(r->op, "done") == 0) {
            cr_assert_eq(mpk_rd_uint(&rd, &r->rows_total), 0);
        } else if (mpk_str_eq(k, "rows")) {
            uint32_t nr;
            cr_assert_eq(mpk_rd_array(&rd, &nr), 0);
            r->nrows = nr;
            for (uint32_t j = 0; j < nr; j++) {
                if (j == 0) {
                    uint32_t nc;
                    mpk_rd_t save = rd;
                    if (mpk_rd_array(&rd, &nc) == 0 && nc > 0 && mpk_rd_int(&rd, &r->first_int) != 0)
                        r->first_int = INT64_MIN;
                    rd = save;
                }
                cr_assert_eq(mpk_rd_skip(&rd), 0);
            }
        } else if (mpk_str_eq(k, "columns")) {
            r->has_columns = true;
            cr_assert_eq(mpk_rd_skip(&rd), 0);
        } else if (mpk_str_eq(k, "paging_state")) {
            r->has_paging_state = true;
            cr_assert_eq(mpk_rd_skip(&rd), 0);
        } else if (mpk_str_eq(k, "handle")) {
            mpk_bin_t b;
            cr_assert_eq(mpk_rd_bin(&rd, &b), 0);
            cr_assert_leq(b.len, sizeof r->handle);
            memcpy(r->handle, b.ptr, b.len);
            r->handle_len = b.len;
        } else {
            bool stat = false;
            for (size_t s = 0; s < sizeof stat_keys / sizeof stat_keys[0]; s++)
                if (mpk_str_eq(k, stat_keys[s]) && strcmp(r->op, "stats") == 0) {
                    cr_assert_eq(mpk_rd_uint(&rd, &r->st[s]), 0);
                    stat = true;
                }
            if (!stat)
                cr_assert_eq(mpk_rd_skip(&rd), 0);
        }
    }
}
enum { ST_REQUESTS, ST_IN_FLIGHT, ST_STREAMS, ST_SESSIONS, ST_HOSTS_UP, ST_ERRORS };

/* Receives one reply within timeout_ms: 1, or 0 on timeout. */
static inline int cl_recv(void *s, rep_t *r, int timeout_ms)
{
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, timeout_ms) <= 0)
        return 0;
    zmq_msg_t m;
    zmq_msg_init(&m);
    cr_assert_geq(zmq_msg_recv(&m, s, 0), 0);
    cr_assert_not(zmq_msg_more(&m), "a reply is one frame");
    rep_parse(zmq_msg_data(&m), zmq_msg_size(&m), r);
    zmq_msg_close(&m);
    return 1;
}

static inline void cl_expect(void *s, rep_t *r)
{
    cr_assert_eq(cl_recv(s, r, 10000), 1, "a reply within 10 s");
}

static inline void cl_hello(void *s, uint64_t id)
{
    msg_t m;
    m_begin(&m);
    m_str(&m, "op", "hello");
    m_uint(&m, "id", id);
    m_uint(&m, "protocol", 1);
    m_str(&m, "client", "gw_test/1");
    cl_send(s, &m);
    rep_t r;
    cl_expect(s, &r);
    cr_assert_str_eq(r.op, "hello", "hello: %s %s", r.code, r.message);
    cr_assert_eq(r.id, id);
}

/* A query without params; returns the reply. */
static inline void cl_query(void *s, uint64_t id, const char *cql, rep_t *r)
{
    msg_t m;
    m_begin(&m);
    m_str(&m, "op", "query");
    m_uint(&m, "id", id);
    m_str(&m, "cql", cql);
    cl_send(s, &m);
    cl_expect(s, r);
    cr_assert_eq(r->id, id);
}

static inline void cl_ok(void *s, uint64_t id, const char *cql)
{
    rep_t r;
    cl_query(s, id, cql, &r);
    cr_assert_str_eq(r.op, "result", "%s: %s %s", cql, r.code, r.message);
}

/* Creates keyspace ks and table ks.t (k int, c int, v text). */
static inline void cl_schema(void *s)
{
    cl_ok(s, 900001, "CREATE KEYSPACE IF NOT EXISTS ks WITH replication = "
                     "{'class': 'SimpleStrategy', 'replication_factor': 1}");
    cl_ok(s, 900002, "CREATE TABLE IF NOT EXISTS ks.t (k int, c int, v text, PRIMARY KEY (k, c))");
}

static inline void gwt_wait_ready(void)
{
    void *s = cl_new();
    cl_hello(s, 1);
    for (int i = 0; i < 200; i++) {
        rep_t r;
        cl_query(s, 2 + (uint64_t)i, "SELECT release_version FROM system.local", &r);
        if (strcmp(r.op, "result") == 0) {
            cl_close(s);
            return;
        }
        sleep_ms(25);
    }
    cr_assert_fail("the gateway never became ready");
}

/* ---- the node's control socket ---- */

static inline void ctl_call(msg_t *m, bool expect_ok)
{
    m_end(m);
    cr_assert_eq(zmq_send(T.ctl, "", 0, ZMQ_SNDMORE), 0);
    cr_assert_eq(zmq_send(T.ctl, m->w.data, m->w.len, 0), (int)m->w.len);
    mpk_wr_close(&m->w);
    char buf[65536];
    zmq_pollitem_t it = {T.ctl, 0, ZMQ_POLLIN, 0};
    cr_assert_eq(zmq_poll(&it, 1, 5000), 1, "control reply");
    cr_assert_eq(zmq_recv(T.ctl, buf, sizeof buf, 0), 0, "delimiter");
    int n = zmq_recv(T.ctl, buf, sizeof buf, 0);
    cr_assert_gt(n, 0);
    mpk_rd_t rd;
    uint32_t pairs;
    mpk_rd_init(&rd, buf, (size_t)n);
    cr_assert_eq(mpk_rd_map(&rd, &pairs), 0);
    mpk_str_t k;
    bool ok = false;
    for (uint32_t i = 0; i < pairs; i++) {
        cr_assert_eq(mpk_rd_str(&rd, &k), 0);
        if (mpk_str_eq(k, "ok"))
            cr_assert_eq(mpk_rd_bool(&rd, &ok), 0);
        else
            cr_assert_eq(mpk_rd_skip(&rd), 0);
    }
    if (expect_ok)
        cr_assert(ok, "control command failed");
}

/* A latency fault of ms on statements containing `query`. */
static inline void ctl_latency(const char *query, uint32_t ms)
{
    msg_t m;
    m_begin(&m);
    m_str(&m, "cmd", "fault");
    m_str(&m, "action", "latency");
    m_str(&m, "query", query);
    m_uint(&m, "ms", ms);
    ctl_call(&m, true);
}

static inline void ctl_node(const char *cmd, int node)
{
    msg_t m;
    m_begin(&m);
    m_str(&m, "cmd", cmd);
    m_int(&m, "node", node);
    ctl_call(&m, true);
}

static inline void ctl_clear(void)
{
    msg_t m;
    m_begin(&m);
    m_str(&m, "cmd", "clear");
    ctl_call(&m, true);
}


#endif /* GW_TEST_H */
