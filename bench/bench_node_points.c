/*
 * bench_node_points: pipelined point writes and reads against the embedded
 * node, over TCP, with prepared statements.
 *
 *   bench_node_points [-n OPS] [-d IN_FLIGHT] [-p PORT]
 *
 * Without -p a one-node cluster runs in this process on its own thread (its
 * loop is single-threaded: one core); with -p it talks to 127.0.0.1:PORT
 * (e.g. a separate cqlmq-node). The client keeps IN_FLIGHT (default 128)
 * EXECUTEs outstanding on one connection: first OPS (default 200000)
 * `INSERT INTO bench.kv (k, v) VALUES (?, ?)`, then OPS `SELECT v FROM
 * bench.kv WHERE k = ?`. It prints ops/s per phase and, in-process, the
 * server thread's CPU time, so ops per server-core-second can be read off.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cql_frame.h"
#include "cql_msg.h"
#include "node_server.h"

typedef struct srv {
    uv_loop_t loop;
    node_cluster_t *cluster;
    pthread_t thread;
} srv_t;

static void *srv_run(void *arg)
{
    srv_t *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double thread_cpu_s(pthread_t t)
{
    clockid_t cid;
    struct timespec ts;
    if (pthread_getcpuclockid(t, &cid) || clock_gettime(cid, &ts))
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_node_points: %s\n", what);
    exit(1);
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            die("send failed");
        p += k;
        n -= (size_t)k;
    }
}

/* Reads frames until `want` replies arrived; calls on_reply for each. */
typedef struct client {
    int fd;
    cql_frame_decoder_t dec;
    uint8_t buf[1 << 16];
    long errors;
} client_t;

/* Reads at least one chunk and returns the number of frames yielded into
 * streams[] (their opcodes into ops[]). */
static int read_some(client_t *c, int16_t *streams, uint8_t *ops, int max)
{
    ssize_t k = recv(c->fd, c->buf, sizeof c->buf, 0);
    if (k <= 0)
        die("connection lost");
    cql_frame_decoder_feed(&c->dec, c->buf, (size_t)k);
    int n = 0;
    cql_frame_t f;
    int rc;
    while ((rc = cql_frame_decoder_next(&c->dec, &f)) == 0) {
        if (n >= max)
            die("too many replies");
        streams[n] = f.h.stream;
        ops[n++] = f.h.opcode;
    }
    if (rc != CQLMQ_EAGAIN)
        die("bad frame from the server");
    return n;
}

/* One synchronous request; returns the decoded body copy (freed by caller). */
static uint8_t *roundtrip(client_t *c, const cql_msg_t *m, uint8_t *opcode, size_t *len)
{
    cql_wr_t w;
    cql_wr_init(&w);
    if (cql_frame_write(&w, 4, 0, m))
        die("encode");
    send_all(c->fd, w.data, w.len);
    cql_wr_close(&w);
    for (;;) {
        ssize_t k = recv(c->fd, c->buf, sizeof c->buf, 0);
        if (k <= 0)
            die("connection lost");
        cql_frame_decoder_feed(&c->dec, c->buf, (size_t)k);
        cql_frame_t f;
        int rc = cql_frame_decoder_next(&c->dec, &f);
        if (rc == CQLMQ_EAGAIN)
            continue;
        if (rc)
            die("bad frame");
        uint8_t *body = malloc(f.h.length + 1);
        memcpy(body, f.body, f.h.length);
        *opcode = f.h.opcode;
        *len = f.h.length;
        if (cql_frame_decoder_next(&c->dec, &f) != CQLMQ_EAGAIN)
            die("unexpected extra frame");
        return body;
    }
}

static void simple(client_t *c, uint8_t op, const char *query, uint8_t want)
{
    cql_string_pair_t opt = {{"CQL_VERSION", 11}, {"3.0.0", 5}};
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = op;
    if (op == CQL_OP_STARTUP) {
        m.u.startup.n = 1;
        m.u.startup.items = &opt;
    } else if (op == CQL_OP_QUERY) {
        m.u.query.query = (cql_str_t){query, strlen(query)};
        m.u.query.params.consistency = CQL_CL_ONE;
    } else {
        m.u.prepare = (cql_str_t){query, strlen(query)};
    }
    uint8_t got;
    size_t len;
    free(roundtrip(c, &m, &got, &len));
    if (got != want) {
        fprintf(stderr, "%s -> opcode %d\n", query ? query : "STARTUP", got);
        die("unexpected reply");
    }
}

/* PREPAREs q and copies its id into id[16]. */
static void prepare(client_t *c, const char *q, uint8_t *id, size_t *id_len)
{
    cql_msg_t m, r;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_PREPARE;
    m.u.prepare = (cql_str_t){q, strlen(q)};
    uint8_t op;
    size_t len;
    uint8_t *body = roundtrip(c, &m, &op, &len);
    cql_arena_t a;
    cql_arena_init(&a, 0);
    if (op != CQL_OP_RESULT || cql_msg_decode(4, op, 0, body, len, &a, &r) ||
        r.u.result.kind != CQL_RESULT_PREPARED || r.u.result.u.prepared.id.len > 64)
        die("prepare failed");
    *id_len = (size_t)r.u.result.u.prepared.id.len;
    memcpy(id, r.u.result.u.prepared.id.ptr, *id_len);
    cql_arena_close(&a);
    free(body);
}

/* Appends one EXECUTE of id with an int key (and a value for inserts). */
static void put_execute(cql_wr_t *w, int16_t stream, const uint8_t *id, size_t id_len,
                        int32_t key, bool with_value)
{
    uint8_t kb[4], vb[16];
    cql_store_u32(kb, (uint32_t)key);
    memset(vb, 'v', sizeof vb);
    cql_bytes_t vals[2] = {{kb, 4}, {vb, sizeof vb}};
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_EXECUTE;
    m.u.execute.id = (cql_bytes_t){id, (int32_t)id_len};
    m.u.execute.params.consistency = CQL_CL_ONE;
    m.u.execute.params.flags = CQL_QF_VALUES | CQL_QF_SKIP_METADATA;
    m.u.execute.params.nvalues = with_value ? 2 : 1;
    m.u.execute.params.values = vals;
    if (cql_frame_write(w, 4, stream, &m))
        die("encode execute");
}

/* Runs `ops` EXECUTEs with `depth` in flight; returns elapsed seconds. */
static double run_phase(client_t *c, const uint8_t *id, size_t id_len, bool insert, int ops,
                        int depth)
{
    cql_wr_t w;
    cql_wr_init(&w);
    int16_t *streams = malloc(sizeof(int16_t) * 4096);
    uint8_t *opcodes = malloc(4096);
    int sent = 0, done = 0;
    double t0 = now_s();
    for (; sent < depth && sent < ops; sent++)
        put_execute(&w, (int16_t)sent, id, id_len, sent, insert);
    send_all(c->fd, w.data, w.len);
    while (done < ops) {
        cql_wr_reset(&w);
        int n = read_some(c, streams, opcodes, 4096);
        for (int i = 0; i < n; i++) {
            if (opcodes[i] != CQL_OP_RESULT)
                c->errors++;
            done++;
            if (sent < ops) {
                put_execute(&w, streams[i], id, id_len, sent % 1000000, insert);
                sent++;
            }
        }
        if (w.len)
            send_all(c->fd, w.data, w.len);
    }
    double dt = now_s() - t0;
    free(streams);
    free(opcodes);
    cql_wr_close(&w);
    return dt;
}

int main(int argc, char **argv)
{
    int ops = 200000, depth = 128, port = 0, opt;
    while ((opt = getopt(argc, argv, "n:d:p:")) != -1) {
        if (opt == 'n')
            ops = atoi(optarg);
        else if (opt == 'd')
            depth = atoi(optarg);
        else if (opt == 'p')
            port = atoi(optarg);
        else
            die("usage: bench_node_points [-n OPS] [-d IN_FLIGHT(1..4096)] [-p PORT]");
    }
    if (ops < 1 || depth < 1 || depth > 4096)
        die("bad -n or -d");
    signal(SIGPIPE, SIG_IGN);
    srv_t srv;
    bool inproc = port == 0;
    if (inproc) {
        node_config_t cfg;
        node_config_init(&cfg);
        cfg.port = 0;
        cfg.log_size = 0; /* measure the server, not the activity log */
        if (uv_loop_init(&srv.loop) || node_cluster_new(&srv.loop, &cfg, &srv.cluster) ||
            node_cluster_start(srv.cluster))
            die("cannot start the in-process node");
        port = node_cluster_port(srv.cluster);
        pthread_create(&srv.thread, NULL, srv_run, &srv);
    }
    client_t *c = calloc(1, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(0x7F000001);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a))
        die("connect failed");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    cql_frame_decoder_init(&c->dec, 0);

    simple(c, CQL_OP_STARTUP, NULL, CQL_OP_READY);
    simple(c, CQL_OP_QUERY,
           "CREATE KEYSPACE IF NOT EXISTS bench WITH replication = "
           "{'class': 'SimpleStrategy', 'replication_factor': 1}",
           CQL_OP_RESULT);
    simple(c, CQL_OP_QUERY, "CREATE TABLE IF NOT EXISTS bench.kv (k int PRIMARY KEY, v blob)",
           CQL_OP_RESULT);
    uint8_t ins[64], sel[64];
    size_t ins_len, sel_len;
    prepare(c, "INSERT INTO bench.kv (k, v) VALUES (?, ?)", ins, &ins_len);
    prepare(c, "SELECT v FROM bench.kv WHERE k = ?", sel, &sel_len);

    double cpu0 = inproc ? thread_cpu_s(srv.thread) : 0;
    double tw = run_phase(c, ins, ins_len, true, ops, depth);
    double cpu1 = inproc ? thread_cpu_s(srv.thread) : 0;
    double tr = run_phase(c, sel, sel_len, false, ops, depth);
    double cpu2 = inproc ? thread_cpu_s(srv.thread) : 0;

    printf("bench_node_points: %d ops per phase, %d in flight, one connection\n", ops, depth);
    printf("  insert  %9.0f ops/s  (%.3f s", ops / tw, tw);
    if (inproc)
        printf(", server CPU %.3f s = %.0f ops per server-core-second", cpu1 - cpu0,
               ops / (cpu1 - cpu0));
    printf(")\n  select  %9.0f ops/s  (%.3f s", ops / tr, tr);
    if (inproc)
        printf(", server CPU %.3f s = %.0f ops per server-core-second", cpu2 - cpu1,
               ops / (cpu2 - cpu1));
    printf(")\n  mixed   %9.0f ops/s overall; errors %ld\n", 2.0 * ops / (tw + tr), c->errors);

    close(c->fd);
    cql_frame_decoder_close(&c->dec);
    free(c);
    if (inproc) {
        node_cluster_request_stop(srv.cluster);
        pthread_join(srv.thread, NULL);
        node_cluster_free(&srv.cluster);
        uv_loop_close(&srv.loop);
    }
    return 0;
}
