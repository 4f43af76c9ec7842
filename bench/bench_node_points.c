/*
 * bench_node_points: pipelined point writes and reads against the embedded
 * node, over TCP, with prepared statements.
 *
 *   bench_node_points [--json] [-n OPS] [-d IN_FLIGHT] [-p PORT]
 *
 * Without -p a one-node cluster runs in this process on its own thread (its
 * loop is single-threaded: one core); with -p it talks to 127.0.0.1:PORT
 * (e.g. a separate cqlmq-node). The client keeps IN_FLIGHT (default 128)
 * EXECUTEs outstanding on one connection: first OPS (default 200000)
 * `INSERT INTO bench.kv (k, v) VALUES (?, ?)`, then OPS `SELECT v FROM
 * bench.kv WHERE k = ?`. It prints ops/s per phase and, in-process, the
 * server thread's CPU time, so ops per server-core-second can be read off.
 * Each request's latency (send to reply, one clock read per batch of
 * replies) goes into a preallocated array; p50/p99/p99.9 are printed.
 * --json prints one JSON object per measurement instead (fields in
 * bench/README.md; bench/run.sh reads them).
 */
#include <math.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cql_frame.h"
#include "cql_msg.h"
#include "node_server.h"

#include "bench_util.h"

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

static double thread_cpu_s(pthread_t t)
{
    clockid_t cid;
    struct timespec ts;
    if (pthread_getcpuclockid(t, &cid) || clock_gettime(cid, &ts))
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One --json line; pct (p50, p99, p99.9 in us) may be NULL; errors < 0
 * leaves the field out. */
static void json_line(const char *group, const char *name, double value, const char *unit,
                      const double *pct, long errors)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"bench\":\"node_points\",\"group\":\"%s\",\"name\":\"%s\",\"peer\":false,"
           "\"value\":%.6g,\"unit\":\"%s\"",
           group, name, value, unit);
    if (pct)
        printf(",\"p50_us\":%.3f,\"p99_us\":%.3f,\"p999_us\":%.3f", pct[0], pct[1], pct[2]);
    if (errors >= 0)
        printf(",\"errors\":%ld", errors);
    printf(",\"maxrss_kb\":%ld}\n", ru.ru_maxrss);
}

typedef struct client {
    bench_cql_t cql; /* the connection (bench_util.h) */
    long errors;     /* replies that were not RESULT */
} client_t;

/* Reads at least one chunk and returns the number of frames yielded into
 * streams[] (their opcodes into ops[]). */
static int read_some(client_t *c, int16_t *streams, uint8_t *ops, int max)
{
    bench_cql_recv(&c->cql);
    int n = 0;
    cql_frame_t f;
    int rc;
    while ((rc = cql_frame_decoder_next(&c->cql.dec, &f)) == 0) {
        if (n >= max)
            bench_die("too many replies");
        streams[n] = f.h.stream;
        ops[n++] = f.h.opcode;
    }
    if (rc != CQLMQ_EAGAIN)
        bench_die("bad frame from the server");
    return n;
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
        bench_die("encode execute");
}

/* Runs `ops` EXECUTEs with `depth` in flight; returns elapsed seconds.
 * lat[ops] receives each request's latency in seconds. */
static double run_phase(client_t *c, const uint8_t *id, size_t id_len, bool insert, int ops,
                        int depth, double *lat)
{
    cql_wr_t w;
    cql_wr_init(&w);
    int16_t *streams = malloc(sizeof(int16_t) * 4096);
    uint8_t *opcodes = malloc(4096);
    double *sent_at = malloc(sizeof(double) * 4096); /* per stream id */
    int sent = 0, done = 0;
    double t0 = bench_now_s();
    for (; sent < depth && sent < ops; sent++) {
        put_execute(&w, (int16_t)sent, id, id_len, sent, insert);
        sent_at[sent] = t0;
    }
    bench_send_all(c->cql.fd, w.data, w.len);
    while (done < ops) {
        cql_wr_reset(&w);
        int n = read_some(c, streams, opcodes, 4096);
        double t = bench_now_s();
        for (int i = 0; i < n; i++) {
            if (opcodes[i] != CQL_OP_RESULT)
                c->errors++;
            if (streams[i] < 0 || streams[i] >= depth)
                bench_die("reply on a stream id never used");
            lat[done] = t - sent_at[streams[i]];
            done++;
            if (sent < ops) {
                put_execute(&w, streams[i], id, id_len, sent % 1000000, insert);
                sent_at[streams[i]] = t;
                sent++;
            }
        }
        if (w.len)
            bench_send_all(c->cql.fd, w.data, w.len);
    }
    double dt = bench_now_s() - t0;
    free(streams);
    free(opcodes);
    free(sent_at);
    cql_wr_close(&w);
    return dt;
}

int main(int argc, char **argv)
{
    int ops = 200000, depth = 128, port = 0, opt;
    bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
    if (json)
        argc--, argv++;
    while ((opt = getopt(argc, argv, "n:d:p:")) != -1) {
        if (opt == 'n')
            ops = atoi(optarg);
        else if (opt == 'd')
            depth = atoi(optarg);
        else if (opt == 'p')
            port = atoi(optarg);
        else
            bench_die("usage: bench_node_points [--json] [-n OPS] [-d IN_FLIGHT(1..4096)] [-p PORT]");
    }
    if (ops < 1 || depth < 1 || depth > 4096)
        bench_die("bad -n or -d");
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
            bench_die("cannot start the in-process node");
        port = node_cluster_port(srv.cluster);
        pthread_create(&srv.thread, NULL, srv_run, &srv);
    }
    client_t *c = calloc(1, sizeof *c);
    bench_cql_open(&c->cql, port);

    double *lat = malloc(sizeof(double) * (size_t)ops), wpct[3], rpct[3];
    if (lat == NULL)
        bench_die("out of memory");
    double cpu0 = inproc ? thread_cpu_s(srv.thread) : 0;
    double tw = run_phase(c, c->cql.ins, c->cql.ins_len, true, ops, depth, lat);
    double cpu1 = inproc ? thread_cpu_s(srv.thread) : 0;
    bench_percentiles_us(lat, (size_t)ops, wpct);
    double tr = run_phase(c, c->cql.sel, c->cql.sel_len, false, ops, depth, lat);
    double cpu2 = inproc ? thread_cpu_s(srv.thread) : 0;
    bench_percentiles_us(lat, (size_t)ops, rpct);
    free(lat);

    if (json) {
        char gw[96], gr[96];
        const char *where = inproc ? ", node in-process" : "";
        snprintf(gw, sizeof gw, "insert, %d in flight%s", depth, where);
        snprintf(gr, sizeof gr, "select, %d in flight%s", depth, where);
        json_line(gw, "C client (cqlmq codec)", ops / tw, "ops/s", wpct, c->errors);
        json_line(gr, "C client (cqlmq codec)", ops / tr, "ops/s", rpct, c->errors);
        if (inproc) {
            char ge[96];
            snprintf(ge, sizeof ge, "server efficiency, %d in flight, node in-process", depth);
            json_line(ge, "insert", ops / (cpu1 - cpu0), "ops/core-s", NULL, -1);
            json_line(ge, "select", ops / (cpu2 - cpu1), "ops/core-s", NULL, -1);
        }
    } else {
        printf("bench_node_points: %d ops per phase, %d in flight, one connection\n", ops, depth);
        printf("  insert  %9.0f ops/s  (%.3f s", ops / tw, tw);
        if (inproc)
            printf(", server CPU %.3f s = %.0f ops per server-core-second", cpu1 - cpu0,
                   ops / (cpu1 - cpu0));
        printf(")\n  select  %9.0f ops/s  (%.3f s", ops / tr, tr);
        if (inproc)
            printf(", server CPU %.3f s = %.0f ops per server-core-second", cpu2 - cpu1,
                   ops / (cpu2 - cpu1));
        printf(")\n  mixed   %9.0f ops/s overall; errors %ld\n", 2.0 * ops / (tw + tr),
               c->errors);
        printf("  latency p50/p99/p99.9 (us): insert %.0f/%.0f/%.0f  select %.0f/%.0f/%.0f\n",
               wpct[0], wpct[1], wpct[2], rpct[0], rpct[1], rpct[2]);
    }


    bench_cql_close(&c->cql);
    free(c);
    if (inproc) {
        node_cluster_request_stop(srv.cluster);
        pthread_join(srv.thread, NULL);
        node_cluster_free(&srv.cluster);
        uv_loop_close(&srv.loop);
    }
    return 0;
}
