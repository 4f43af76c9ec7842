/*
 * bench_util: what the benchmarks share, header-only so that each benchmark
 * stays one program linked with its own library.
 *
 *   timing      bench_now_s, bench_clock_s, bench_percentiles_us
 *   failing     bench_die (a benchmark that cannot measure stops, loudly)
 *   CQL client  bench_cql_t: one blocking CQL v4 connection to a node that
 *               creates the point-operation schema (bench.kv) and prepares
 *               its INSERT and SELECT. bench_node_points and the direct-CQL
 *               peer of bench_gwapp_requests both use it, so a comparison of
 *               the two measures the same client.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cql_frame.h"
#include "cql_msg.h"

#define BENCH_INSERT_CQL "INSERT INTO bench.kv (k, v) VALUES (?, ?)"
#define BENCH_SELECT_CQL "SELECT v FROM bench.kv WHERE k = ?"

static inline void bench_die(const char *what)
{
    fprintf(stderr, "%s: %s\n", program_invocation_short_name, what);
    exit(1);
}

static inline double bench_clock_s(clockid_t cid)
{
    struct timespec ts;
    if (clock_gettime(cid, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double bench_now_s(void) { return bench_clock_s(CLOCK_MONOTONIC); }

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts the n latencies v (seconds) and stores p50, p99, p99.9 (nearest
 * rank) in out[], in microseconds; zeros when n is 0. */
static inline void bench_percentiles_us(double *v, size_t n, double out[3])
{
    static const double q[3] = {0.50, 0.99, 0.999};
    qsort(v, n, sizeof *v, bench_cmp_double);
    for (int i = 0; i < 3; i++) {
        size_t k = (size_t)ceil(q[i] * (double)n);
        out[i] = n ? v[k ? k - 1 : 0] * 1e6 : 0;
    }
}

static inline void bench_send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            bench_die("send failed");
        p += k;
        n -= (size_t)k;
    }
}

/* One CQL v4 connection. Invariant: after bench_cql_open, ins/sel hold the
 * prepared ids of BENCH_INSERT_CQL and BENCH_SELECT_CQL. */
typedef struct bench_cql {
    int fd;                   /* TCP, TCP_NODELAY */
    cql_frame_decoder_t dec;  /* replies */
    cql_wr_t w;               /* requests being written */
    uint8_t buf[1 << 16];     /* one recv */
    uint8_t ins[64], sel[64]; /* prepared ids */
    size_t ins_len, sel_len;
} bench_cql_t;

/* Reads one chunk from the connection into the decoder. */
static inline void bench_cql_recv(bench_cql_t *c)
{
    ssize_t k = recv(c->fd, c->buf, sizeof c->buf, 0);
    if (k <= 0)
        bench_die("connection to the node lost");
    cql_frame_decoder_feed(&c->dec, c->buf, (size_t)k);
}

/* One synchronous request; returns a copy of the reply's body (the caller
 * frees it), its opcode and length. */
static inline uint8_t *bench_cql_roundtrip(bench_cql_t *c, const cql_msg_t *m, uint8_t *opcode,
                                           size_t *len)
{
    cql_wr_reset(&c->w);
    if (cql_frame_write(&c->w, 4, 0, m))
        bench_die("encode");
    bench_send_all(c->fd, c->w.data, c->w.len);
    for (;;) {
        cql_frame_t f;
        int rc = cql_frame_decoder_next(&c->dec, &f);
        if (rc == 0) {
            uint8_t *body = malloc(f.h.length + 1);
            if (body == NULL)
                bench_die("out of memory");
            if (f.h.length) /* READY has no body (f.body may be NULL) */
                memcpy(body, f.body, f.h.length);
            *opcode = f.h.opcode;
            *len = f.h.length;
            return body;
        }
        if (rc != CQLMQ_EAGAIN)
            bench_die("bad frame from the node");
        bench_cql_recv(c);
    }
}

/* STARTUP (query NULL) or a QUERY; dies unless the reply has opcode want. */
static inline void bench_cql_simple(bench_cql_t *c, const char *query, uint8_t want)
{
    cql_string_pair_t opt = {{"CQL_VERSION", 11}, {"3.0.0", 5}};
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    if (query == NULL) {
        m.opcode = CQL_OP_STARTUP;
        m.u.startup.n = 1;
        m.u.startup.items = &opt;
    } else {
        m.opcode = CQL_OP_QUERY;
        m.u.query.query = (cql_str_t){query, strlen(query)};
        m.u.query.params.consistency = CQL_CL_LOCAL_ONE;
    }
    uint8_t got;
    size_t len;
    free(bench_cql_roundtrip(c, &m, &got, &len));
    if (got != want) {
        fprintf(stderr, "%s -> opcode %d\n", query ? query : "STARTUP", got);
        bench_die("unexpected reply");
    }
}

/* PREPAREs q and copies its id (at most 64 bytes) into id. */
static inline void bench_cql_prepare(bench_cql_t *c, const char *q, uint8_t *id, size_t *id_len)
{
    cql_msg_t m, r;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_PREPARE;
    m.u.prepare = (cql_str_t){q, strlen(q)};
    uint8_t op;
    size_t len;
    uint8_t *body = bench_cql_roundtrip(c, &m, &op, &len);
    cql_arena_t a;
    cql_arena_init(&a, 0);
    if (op != CQL_OP_RESULT || cql_msg_decode(4, op, 0, body, len, &a, &r) ||
        r.u.result.kind != CQL_RESULT_PREPARED || r.u.result.u.prepared.id.len > 64)
        bench_die("prepare failed");
    *id_len = (size_t)r.u.result.u.prepared.id.len;
    memcpy(id, r.u.result.u.prepared.id.ptr, *id_len);
    cql_arena_close(&a);
    free(body);
}

/* Connects to 127.0.0.1:port, creates bench.kv and prepares its INSERT and
 * SELECT. */
static inline void bench_cql_open(bench_cql_t *c, int port)
{
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(0x7F000001);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof a))
        bench_die("cannot connect to the node");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    cql_frame_decoder_init(&c->dec, 0);
    cql_wr_init(&c->w);
    bench_cql_simple(c, NULL, CQL_OP_READY);
    bench_cql_simple(c,
                     "CREATE KEYSPACE IF NOT EXISTS bench WITH replication = "
                     "{'class': 'SimpleStrategy', 'replication_factor': 1}",
                     CQL_OP_RESULT);
    bench_cql_simple(c, "CREATE TABLE IF NOT EXISTS bench.kv (k int PRIMARY KEY, v blob)",
                     CQL_OP_RESULT);
    bench_cql_prepare(c, BENCH_INSERT_CQL, c->ins, &c->ins_len);
    bench_cql_prepare(c, BENCH_SELECT_CQL, c->sel, &c->sel_len);
}

static inline void bench_cql_close(bench_cql_t *c)
{
    close(c->fd);
    cql_frame_decoder_close(&c->dec);
    cql_wr_close(&c->w);
}

#endif /* BENCH_UTIL_H */
