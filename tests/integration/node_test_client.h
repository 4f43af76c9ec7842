/*
 * node_test_client: helpers for the node server's integration tests: a
 * cluster run in-process on its own thread, and a blocking raw-frame CQL
 * client over TCP (frames built and parsed with the project's codec).
 * Everything is static: each test executable includes it once.
 */
#ifndef NODE_TEST_CLIENT_H
#define NODE_TEST_CLIENT_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include "cql_frame.h"
#include "cql_msg.h"
#include "mpk.h"
#include "node_server.h"

/* ---- a cluster on a thread ---- */

typedef struct test_srv {
    uv_loop_t loop;
    node_cluster_t *cluster;
    pthread_t thread;
    int port;
    char control[256];
} test_srv_t;

static inline void *test_srv_run(void *arg)
{
    test_srv_t *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* Starts a cluster of cfg (port 0 and a wildcard control endpoint forced). */
static inline void test_srv_start(test_srv_t *s, node_config_t *cfg)
{
    signal(SIGPIPE, SIG_IGN);
    cfg->port = 0;
    snprintf(cfg->control, sizeof cfg->control, "tcp://127.0.0.1:*");
    cfg->quiet = true;
    cr_assert_eq(uv_loop_init(&s->loop), 0);
    cr_assert_eq(node_cluster_new(&s->loop, cfg, &s->cluster), 0);
    cr_assert_eq(node_cluster_start(s->cluster), 0);
    s->port = node_cluster_port(s->cluster);
    snprintf(s->control, sizeof s->control, "%s", node_cluster_control_endpoint(s->cluster));
    cr_assert_gt(s->port, 0);
    cr_assert_eq(pthread_create(&s->thread, NULL, test_srv_run, s), 0);
}

static inline void test_srv_stop(test_srv_t *s)
{
    cr_assert_eq(node_cluster_request_stop(s->cluster), 0);
    pthread_join(s->thread, NULL);
    cr_assert(node_cluster_closed(s->cluster));
    node_cluster_free(&s->cluster);
    cr_assert_eq(uv_loop_close(&s->loop), 0, "every handle closed");
}

/* ---- raw TCP client ---- */

/* Connects to 127.0.0.(node+1):port; returns the fd or -1. */
static inline int tc_connect(int node, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(0x7F000000u | (uint32_t)(node + 1));
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static inline void tc_send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        cr_assert_gt(k, 0, "send: %s", strerror(errno));
        c += k;
        n -= (size_t)k;
    }
}

/* Sends one request frame with a raw body. */
static inline void tc_send_raw(int fd, int version, int16_t stream, uint8_t opcode, const void *body,
                        size_t len)
{
    cql_wr_t w;
    cql_wr_init(&w);
    size_t f = cql_frame_begin(&w, version, 0, stream, opcode);
    cql_wr_raw(&w, body, len);
    cr_assert_eq(cql_frame_end(&w, f), 0);
    tc_send_all(fd, w.data, w.len);
    cql_wr_close(&w);
}

/* Appends an encoded request message to w. */
static inline void tc_put(cql_wr_t *w, int version, int16_t stream, const cql_msg_t *m)
{
    cr_assert_eq(cql_frame_write(w, version, stream, m), 0);
}

static inline void tc_send_msg(int fd, int version, int16_t stream, const cql_msg_t *m)
{
    cql_wr_t w;
    cql_wr_init(&w);
    tc_put(&w, version, stream, m);
    tc_send_all(fd, w.data, w.len);
    cql_wr_close(&w);
}

static inline void tc_options(cql_wr_t *w, int version, int16_t stream)
{
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_OPTIONS;
    tc_put(w, version, stream, &m);
}

static inline void tc_query(cql_wr_t *w, int version, int16_t stream, const char *q)
{
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_QUERY;
    m.u.query.query = (cql_str_t){q, strlen(q)};
    m.u.query.params.consistency = CQL_CL_ONE;
    tc_put(w, version, stream, &m);
}

/* A received frame: header and a heap copy of the body. */
typedef struct tc_frame {
    cql_frame_header_t h;
    uint8_t *body;
    size_t len;
} tc_frame_t;

/* Reads one whole response frame within timeout_ms. Returns 1, 0 on EOF,
 * -1 on timeout (or a reset). Leftover bytes stay in the static buffer of
 * the (single) connection being read: tests read one connection at a time
 * or call tc_reset between connections. */
static uint8_t tc_buf[1 << 20];
static size_t tc_have;

static inline void tc_reset(void) { tc_have = 0; }

static inline int tc_read(int fd, tc_frame_t *out, int timeout_ms)
{
    for (;;) {
        if (tc_have >= CQL_HEADER_SIZE) {
            cql_frame_header_t h;
            int rc = cql_frame_header_decode(tc_buf, tc_have, &h);
            cr_assert(rc == 0 || rc == CQLMQ_EBADVERSION, "header: %d", rc);
            size_t total = CQL_HEADER_SIZE + h.length;
            cr_assert_leq(total, sizeof tc_buf);
            if (tc_have >= total) {
                out->h = h;
                out->len = h.length;
                out->body = malloc(h.length ? h.length : 1);
                memcpy(out->body, tc_buf + CQL_HEADER_SIZE, h.length);
                memmove(tc_buf, tc_buf + total, tc_have - total);
                tc_have -= total;
                return 1;
            }
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) <= 0)
            return -1;
        ssize_t k = recv(fd, tc_buf + tc_have, sizeof tc_buf - tc_have, 0);
        if (k == 0)
            return 0;
        if (k < 0)
            return -1;
        tc_have += (size_t)k;
    }
}

static inline void tc_free(tc_frame_t *f) { free(f->body); }

/* Decodes a received frame into m (arena a). */
static inline void tc_decode(const tc_frame_t *f, cql_arena_t *a, cql_msg_t *m)
{
    int rc = cql_msg_decode(f->h.version, f->h.opcode, f->h.flags, f->body, f->len, a, m);
    cr_assert_eq(rc, 0, "decode %s: %s", cql_opcode_name(f->h.opcode), cqlmq_strerror(rc));
}

/* True when the peer closed the connection within timeout_ms. */
static inline bool tc_closed(int fd, int timeout_ms)
{
    tc_frame_t f;
    int rc;
    while ((rc = tc_read(fd, &f, timeout_ms)) == 1)
        tc_free(&f);
    return rc == 0;
}

/* OPTIONS is not needed: STARTUP {CQL_VERSION 3.0.0} and expect READY. */
static inline void tc_startup(int fd, int version)
{
    cql_string_pair_t opt = {{"CQL_VERSION", 11}, {"3.0.0", 5}};
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_STARTUP;
    m.u.startup.n = 1;
    m.u.startup.items = &opt;
    tc_send_msg(fd, version, 1, &m);
    tc_frame_t f;
    cr_assert_eq(tc_read(fd, &f, 5000), 1);
    cr_assert_eq(f.h.opcode, CQL_OP_READY);
    tc_free(&f);
}

/* ---- control socket ---- */

/* Sends one msgpack request and returns the reply's "ok". */
static inline bool tc_control_send(const char *endpoint, const mpk_wr_t *req)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_REQ);
    int zero = 0, tmo = 5000;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    cr_assert_eq(zmq_connect(s, endpoint), 0);
    cr_assert_geq(zmq_send(s, req->data, req->len, 0), 0);
    uint8_t buf[8192];
    int n = zmq_recv(s, buf, sizeof buf, 0);
    cr_assert_gt(n, 0, "a control reply");
    zmq_close(s);
    zmq_ctx_term(ctx);
    /* {"ok": bool, ...}: "ok" is always the first key */
    mpk_rd_t r;
    uint32_t cnt;
    mpk_str_t k;
    bool ok = false;
    mpk_rd_init(&r, buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf));
    cr_assert_eq(mpk_rd_map(&r, &cnt), 0);
    cr_assert_eq(mpk_rd_str(&r, &k), 0);
    cr_assert(mpk_str_eq(k, "ok"));
    cr_assert_eq(mpk_rd_bool(&r, &ok), 0);
    return ok;
}

/* {"cmd": cmd} plus up to two integer fields (k NULL = absent). */
static inline bool tc_control(const char *endpoint, const char *cmd, const char *k1, int64_t v1,
                       const char *k2, int64_t v2)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_map(&w, 1u + (k1 != NULL) + (k2 != NULL));
    mpk_wr_cstr(&w, "cmd");
    mpk_wr_cstr(&w, cmd);
    if (k1) {
        mpk_wr_cstr(&w, k1);
        mpk_wr_int(&w, v1);
    }
    if (k2) {
        mpk_wr_cstr(&w, k2);
        mpk_wr_int(&w, v2);
    }
    bool ok = tc_control_send(endpoint, &w);
    mpk_wr_close(&w);
    return ok;
}

#endif /* NODE_TEST_CLIENT_H */
