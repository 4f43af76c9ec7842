/*
 * bench_gwapp_requests: small requests through cqlmqd beside the same load
 * sent straight over CQL to the node, in the same run.
 *
 *   bench_gwapp_requests [--json] [-n OPS] [-d DEPTHS] [-T SECONDS]
 *                        [--inproc | --cqlmqd PATH]
 *
 * Setup: a one-node embedded cluster in this process on its own thread
 * (one libuv loop: one core at most), and the gateway as a child cqlmqd
 * process (`--contact-points` the node, `--bind tcp://127.0.0.1:*`, two
 * loops) whose CPU time and peak RSS are read from the kernel. A separate
 * process is the honest setup: the gateway's CPU is accounted to it alone,
 * and clients reach it over tcp as they do in production. With --inproc
 * the gateway runs on a 2-loop runtime in this process instead (its CPU
 * is then counted with the load generator's). cqlmqd is found by
 * --cqlmqd, $CQLMQD, next to this executable, or on $PATH.
 *
 * Load (the same for both paths): `INSERT INTO bench.kv (k, v) VALUES
 * (?, ?)` with an int key and a 16-byte blob, then `SELECT v FROM bench.kv
 * WHERE k = ?`, on keys preloaded beforehand, each phase OPS requests
 * (default 100000) or at most SECONDS (default 1.5), with DEPTH requests
 * in flight on one connection (default depths 1,16,128):
 *   direct  a C client on one TCP connection speaking CQL v4 (the cqlmq
 *           codec): prepared statements, EXECUTE with DEPTH stream ids in
 *           use (the loop of bench_node_points). This is the peer.
 *   cqlmqd  a ZeroMQ DEALER speaking the client protocol (msgpack):
 *           `prepare` once, then `execute` {handle, params} with DEPTH ids
 *           in flight (an id is reused once its reply came, like a stream
 *           id).
 * Both clients read every reply available, take one clock reading for
 * the batch, and refill the window. Each request's latency (send to
 * reply) goes into a preallocated array; p50/p99/p99.9 are nearest rank.
 * Per phase, CPU time is split: node thread, gateway process, and the
 * rest of this process (the load generator, with its ZeroMQ I/O thread),
 * as core-microseconds per request. Every phase is preceded by a short
 * unrecorded warm-up. At the end, peak RSS (VmHWM) of both processes.
 *
 * Per depth the phases run direct insert, direct select, cqlmqd insert,
 * cqlmqd select. The gateway reaches the node over its own pool (two
 * connections by default); the direct client uses one.
 *
 * Text output by default; --json prints one JSON object per measurement
 * (fields in bench/README.md; the direct line of each group is the peer):
 * groups "<stmt>, <depth> in flight" (ops/s with p50_us/p99_us/p999_us,
 * errors, ops, cpu_{node,client,gateway}_us_per_op, ratio_vs_direct),
 * "<stmt> round trip p50, 1 in flight" (us) and "peak RSS (VmHWM)" (MiB).
 * Exit status 1 when any request failed (or a select found no row).
 *
 * One file of about 1,000 lines, above the usual 600: bench/ builds one
 * executable per file, and the two clients, the child-process handling
 * and the report belong to this one measurement.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_util.h"
#include "cql_frame.h"
#include "cql_msg.h"
#include "cql_result.h"
#include "cqlmq/gateway.h"
#include "node_server.h"
#include "protocol/wire/mpk.h"

#define MAX_DEPTHS 8
#define MAX_DEPTH 1024  /* the gateway's default max_in_flight */
#define NKEYS 100000    /* keys preloaded and cycled through */
#define BATCH_MAX 4096  /* replies handled per read */
#define WARMUP_OPS 3000

static const char *const INSERT_CQL = BENCH_INSERT_CQL;
static const char *const SELECT_CQL = BENCH_SELECT_CQL;

/* ---------------------------------------------------------------- */
/* The CPU clocks of the three parties                              */

/* Invariant: node_clk is the node thread's CPU clock; gw_clk the
 * gateway process's, valid when has_gw (child mode only). */
typedef struct cpu_clocks {
    clockid_t node_clk;
    clockid_t gw_clk;
    bool has_gw;
} cpu_clocks_t;

typedef struct cpu_sample {
    double node, gw, self; /* seconds of CPU */
} cpu_sample_t;

static cpu_sample_t cpu_read(const cpu_clocks_t *c)
{
    cpu_sample_t s = {bench_clock_s(c->node_clk), c->has_gw ? bench_clock_s(c->gw_clk) : 0,
                      bench_clock_s(CLOCK_PROCESS_CPUTIME_ID)};
    return s;
}

/* ---------------------------------------------------------------- */
/* One measured phase                                               */

typedef struct phase {
    long ops;            /* requests completed */
    double secs;         /* wall time */
    double pct[3];       /* p50, p99, p99.9 in us */
    long errors;         /* replies that were not results */
    double node_us;      /* node thread CPU per request, us */
    double gw_us;        /* gateway process CPU per request, us (-1: n/a) */
    double client_us;    /* rest of this process per request, us */
} phase_t;

/* The window shared by both clients: per slot its send time. */
typedef struct window {
    int ops, depth;      /* target requests; slots 0..depth-1 */
    double cap_s;        /* stop issuing new requests after this long */
    double t0;
    int sent, done;
    bool stop;
    double *sent_at;     /* [depth] */
    double *lat;         /* [ops] or NULL (warm-up) */
} window_t;

/* Records the reply on slot at time t; returns true when the slot should
 * carry a new request (which the caller sends, stamped t). */
static bool window_reply(window_t *w, int slot, double t)
{
    if (w->lat)
        w->lat[w->done] = t - w->sent_at[slot];
    w->done++;
    if (!w->stop && t - w->t0 > w->cap_s)
        w->stop = true;
    if (w->stop || w->sent >= w->ops)
        return false;
    w->sent_at[slot] = t;
    w->sent++;
    return true;
}

/* ---------------------------------------------------------------- */
/* direct: CQL v4 over one TCP connection                           */

typedef struct direct {
    bench_cql_t cql;   /* the connection, with both statements prepared */
    cql_arena_t arena; /* result metadata of one reply */
} direct_t;

/* Connects, creates the schema, prepares both statements. */
static void direct_open(direct_t *d, int port)
{
    bench_cql_open(&d->cql, port);
    cql_arena_init(&d->arena, 0);
}

static void direct_close(direct_t *d)
{
    bench_cql_close(&d->cql);
    cql_arena_close(&d->arena);
}

/* Appends one EXECUTE (insert: key and value; select: key). */
static void direct_put(direct_t *d, int16_t stream, bool insert, int32_t key)
{
    uint8_t kb[4], vb[16];
    cql_store_u32(kb, (uint32_t)key);
    memset(vb, 'v', sizeof vb);
    cql_bytes_t vals[2] = {{kb, 4}, {vb, sizeof vb}};
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_EXECUTE;
    m.u.execute.id = insert ? (cql_bytes_t){d->cql.ins, (int32_t)d->cql.ins_len}
                            : (cql_bytes_t){d->cql.sel, (int32_t)d->cql.sel_len};
    m.u.execute.params.consistency = CQL_CL_LOCAL_ONE; /* the gateway's default */
    m.u.execute.params.flags = CQL_QF_VALUES | CQL_QF_SKIP_METADATA;
    m.u.execute.params.nvalues = insert ? 2 : 1;
    m.u.execute.params.values = vals;
    if (cql_frame_write(&d->cql.w, 4, stream, &m))
        bench_die("encode execute");
}

/* Rows in a RESULT body of kind Rows, or -1 (the metadata is read with
 * the codec, as a driver would; the node sends it despite SKIP_METADATA). */
static int32_t rows_in(direct_t *d, const uint8_t *body, size_t len)
{
    cql_rd_t r;
    int32_t kind, nrows;
    cql_meta_t meta;
    cql_arena_reset(&d->arena);
    cql_rd_init(&r, body, len);
    if (cql_rd_i32(&r, &kind) || kind != CQL_RESULT_ROWS ||
        cql_meta_read(&r, 4, CQL_META_ROWS, &d->arena, &meta) || cql_rd_i32(&r, &nrows))
        return -1;
    return nrows;
}

/* Runs one window of EXECUTEs; returns the number of error replies (a
 * select answered without exactly one row counts as one). */
static long direct_run(direct_t *d, window_t *w, bool insert)
{
    long errors = 0;
    cql_wr_reset(&d->cql.w);
    w->t0 = bench_now_s();
    for (; w->sent < w->depth && w->sent < w->ops; w->sent++) {
        direct_put(d, (int16_t)w->sent, insert, w->sent % NKEYS);
        w->sent_at[w->sent] = w->t0;
    }
    bench_send_all(d->cql.fd, d->cql.w.data, d->cql.w.len);
    while (w->done < w->sent) {
        cql_wr_reset(&d->cql.w);
        ssize_t k = recv(d->cql.fd, d->cql.buf, sizeof d->cql.buf, 0);
        if (k <= 0)
            bench_die("node connection lost");
        double t = bench_now_s();
        cql_frame_decoder_feed(&d->cql.dec, d->cql.buf, (size_t)k);
        cql_frame_t f;
        int rc;
        while ((rc = cql_frame_decoder_next(&d->cql.dec, &f)) == 0) {
            if (f.h.opcode != CQL_OP_RESULT || (!insert && rows_in(d, f.body, f.h.length) != 1))
                errors++;
            if (f.h.stream < 0 || f.h.stream >= w->depth)
                bench_die("reply on a stream id never used");
            int slot = f.h.stream;
            if (window_reply(w, slot, t))
                direct_put(d, (int16_t)slot, insert, (w->sent - 1) % NKEYS);
        }
        if (rc != CQLMQ_EAGAIN)
            bench_die("bad frame from the node");
        if (d->cql.w.len)
            bench_send_all(d->cql.fd, d->cql.w.data, d->cql.w.len);
    }
    return errors;
}

/* ---------------------------------------------------------------- */
/* cqlmqd: a DEALER speaking the client protocol                    */

typedef struct gwc {
    void *ctx, *sock;
    mpk_wr_t w;
    uint8_t ins[64], sel[64]; /* gateway handles */
    size_t ins_len, sel_len;
    struct gw_reply *batch;   /* [BATCH_MAX] replies of one read */
} gwc_t;

/* A reply's id, op, and the bytes of a `handle`/row count it carries. */
typedef struct gw_reply {
    uint64_t id;
    bool ok;                  /* op is neither error nor unknown */
    int64_t nrows;            /* length of `rows`, -1 when absent */
    uint8_t handle[64];
    size_t handle_len;
    char code[32];
} gw_reply_t;

static void gw_send(gwc_t *g)
{
    if (zmq_send(g->sock, g->w.data, g->w.len, 0) != (int)g->w.len)
        bench_die("zmq_send to cqlmqd failed");
    mpk_wr_reset(&g->w);
}

static void gw_parse(const void *p, size_t n, gw_reply_t *r)
{
    mpk_rd_t rd;
    uint32_t pairs;
    r->id = 0;
    r->ok = false;
    r->nrows = -1;
    r->handle_len = 0;
    r->code[0] = '\0';
    mpk_rd_init(&rd, p, n);
    if (mpk_rd_map(&rd, &pairs) != 0)
        bench_die("reply from cqlmqd is not a map");
    for (uint32_t i = 0; i < pairs; i++) {
        mpk_str_t k, v;
        mpk_bin_t b;
        uint32_t cnt;
        if (mpk_rd_str(&rd, &k) != 0)
            bench_die("reply key");
        int rc = 0;
        if (mpk_str_eq(k, "op")) {
            rc = mpk_rd_str(&rd, &v);
            r->ok = rc == 0 && !mpk_str_eq(v, "error");
        } else if (mpk_str_eq(k, "id")) {
            rc = mpk_rd_uint(&rd, &r->id);
        } else if (mpk_str_eq(k, "code") && mpk_rd_str(&rd, &v) == 0) {
            snprintf(r->code, sizeof r->code, "%.*s", (int)v.len, v.ptr);
        } else if (mpk_str_eq(k, "handle") && mpk_rd_bin(&rd, &b) == 0 && b.len <= 64) {
            memcpy(r->handle, b.ptr, b.len);
            r->handle_len = b.len;
        } else if (mpk_str_eq(k, "rows")) {
            rc = mpk_rd_array(&rd, &cnt);
            r->nrows = cnt;
            for (uint32_t j = 0; rc == 0 && j < cnt; j++)
                rc = mpk_rd_skip(&rd);
        } else {
            rc = mpk_rd_skip(&rd);
        }
        if (rc != 0)
            bench_die("malformed reply from cqlmqd");
    }
}

/* Receives one reply (flags 0: waits up to the socket's 10 s receive
 * timeout; ZMQ_DONTWAIT: only one already there); false when none came. */
static bool gw_recv(gwc_t *g, gw_reply_t *r, int flags)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, g->sock, flags) < 0) {
        zmq_msg_close(&m);
        if (zmq_errno() == EAGAIN)
            return false;
        bench_die("zmq_msg_recv from cqlmqd failed");
    }
    gw_parse(zmq_msg_data(&m), zmq_msg_size(&m), r);
    zmq_msg_close(&m);
    return true;
}

static void gw_call(gwc_t *g, gw_reply_t *r)
{
    gw_send(g);
    if (!gw_recv(g, r, 0))
        bench_die("no reply from cqlmqd within 10 s");
}

static void gw_query(gwc_t *g, const char *op, uint64_t id, const char *cql, gw_reply_t *r)
{
    mpk_wr_map(&g->w, 3);
    mpk_wr_cstr(&g->w, "op");
    mpk_wr_cstr(&g->w, op);
    mpk_wr_cstr(&g->w, "id");
    mpk_wr_uint(&g->w, id);
    mpk_wr_cstr(&g->w, "cql");
    mpk_wr_cstr(&g->w, cql);
    gw_call(g, r);
}

/* Connects, says hello, waits until the gateway reaches the node, and
 * prepares both statements (the schema exists: direct_open made it). */
static void gw_open(gwc_t *g, const char *endpoint)
{
    g->ctx = zmq_ctx_new();
    g->sock = zmq_socket(g->ctx, ZMQ_DEALER);
    int zero = 0, hwm = 100000, timeout_ms = 10000;
    zmq_setsockopt(g->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(g->sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    zmq_setsockopt(g->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(g->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (zmq_connect(g->sock, endpoint) != 0)
        bench_die("zmq_connect to cqlmqd failed");
    mpk_wr_init(&g->w);
    g->batch = malloc(sizeof(gw_reply_t) * BATCH_MAX);
    if (g->batch == NULL)
        bench_die("out of memory");
    gw_reply_t r;
    mpk_wr_map(&g->w, 3);
    mpk_wr_cstr(&g->w, "op");
    mpk_wr_cstr(&g->w, "hello");
    mpk_wr_cstr(&g->w, "id");
    mpk_wr_uint(&g->w, 1);
    mpk_wr_cstr(&g->w, "protocol");
    mpk_wr_uint(&g->w, 1);
    gw_call(g, &r);
    if (!r.ok)
        bench_die("hello refused by cqlmqd");
    for (int i = 0;; i++) {
        gw_query(g, "query", 2, "SELECT release_version FROM system.local", &r);
        if (r.ok)
            break;
        if (i > 250)
            bench_die("cqlmqd did not reach the node within 5 s");
        usleep(20000);
    }
    gw_query(g, "prepare", 3, INSERT_CQL, &r);
    if (!r.ok || r.handle_len == 0)
        bench_die("prepare through cqlmqd failed");
    memcpy(g->ins, r.handle, r.handle_len);
    g->ins_len = r.handle_len;
    gw_query(g, "prepare", 4, SELECT_CQL, &r);
    if (!r.ok || r.handle_len == 0)
        bench_die("prepare through cqlmqd failed");
    memcpy(g->sel, r.handle, r.handle_len);
    g->sel_len = r.handle_len;
}

static void gw_close(gwc_t *g)
{
    mpk_wr_close(&g->w);
    free(g->batch);
    zmq_close(g->sock);
    zmq_ctx_term(g->ctx);
}

/* Sends one execute on slot (id = slot + 1). */
static void gw_put(gwc_t *g, int slot, bool insert, int32_t key)
{
    static const uint8_t v[16] = "vvvvvvvvvvvvvvvv";
    mpk_wr_map(&g->w, 4);
    mpk_wr_cstr(&g->w, "op");
    mpk_wr_cstr(&g->w, "execute");
    mpk_wr_cstr(&g->w, "id");
    mpk_wr_uint(&g->w, (uint64_t)slot + 1);
    mpk_wr_cstr(&g->w, "handle");
    if (insert)
        mpk_wr_bin(&g->w, g->ins, g->ins_len);
    else
        mpk_wr_bin(&g->w, g->sel, g->sel_len);
    mpk_wr_cstr(&g->w, "params");
    mpk_wr_array(&g->w, insert ? 2 : 1);
    mpk_wr_int(&g->w, key);
    if (insert)
        mpk_wr_bin(&g->w, v, sizeof v);
    gw_send(g);
}

/* Runs one window of executes; returns the number of error replies (a
 * select answered without exactly one row counts as one). */
static long gw_run(gwc_t *g, window_t *w, bool insert, char *first_code, size_t code_len)
{
    gw_reply_t *rs = g->batch;
    long errors = 0;
    w->t0 = bench_now_s();
    for (; w->sent < w->depth && w->sent < w->ops; w->sent++) {
        w->sent_at[w->sent] = w->t0;
        gw_put(g, w->sent, insert, w->sent % NKEYS);
    }
    while (w->done < w->sent) {
        int n = 0;
        if (!gw_recv(g, &rs[n], 0))
            bench_die("no reply from cqlmqd within 10 s");
        for (n = 1; n < BATCH_MAX && gw_recv(g, &rs[n], ZMQ_DONTWAIT); n++)
            ;
        double t = bench_now_s();
        for (int i = 0; i < n; i++) {
            const gw_reply_t *r = &rs[i];
            if (!r->ok || (!insert && r->nrows != 1)) {
                if (errors++ == 0 && first_code[0] == '\0')
                    snprintf(first_code, code_len, "%s", r->ok ? "not one row" : r->code);
            }
            if (r->id < 1 || r->id > (uint64_t)w->depth)
                bench_die("reply with an id never used");
            int slot = (int)r->id - 1;
            if (window_reply(w, slot, t))
                gw_put(g, slot, insert, (w->sent - 1) % NKEYS);
        }
    }
    return errors;
}

/* ---------------------------------------------------------------- */
/* The node (this process) and the gateway (child or in-process)    */

typedef struct node {
    uv_loop_t loop;
    node_cluster_t *cluster;
    pthread_t thread;
} node_t;

static void *node_run(void *arg)
{
    node_t *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void node_start(node_t *s)
{
    node_config_t cfg;
    node_config_init(&cfg);
    cfg.port = 0;
    cfg.log_size = 0; /* measure the server, not its activity log */
    cfg.quiet = true;
    if (uv_loop_init(&s->loop) || node_cluster_new(&s->loop, &cfg, &s->cluster) ||
        node_cluster_start(s->cluster) || pthread_create(&s->thread, NULL, node_run, s))
        bench_die("cannot start the in-process node");
}

static void node_stop(node_t *s)
{
    node_cluster_request_stop(s->cluster);
    pthread_join(s->thread, NULL);
    node_cluster_free(&s->cluster);
    uv_loop_close(&s->loop);
}

/* Invariant: pid > 0 (child: err_fd its stderr) or rt/gw set (inproc). */
typedef struct gateway {
    pid_t pid;
    int err_fd;
    char errbuf[1 << 16];        /* stderr not yet consumed */
    size_t have;
    cqlmq_runtime_t *rt;
    cqlmq_gateway_t *gw;
    char endpoint[CQLMQ_GATEWAY_ENDPOINT_MAX];
} gateway_t;

/* The cqlmqd to run: --cqlmqd, $CQLMQD, beside this executable, $PATH. */
static void find_cqlmqd(const char *given, char *out, size_t len)
{
    const char *env = getenv("CQLMQD");
    if (given == NULL)
        given = env;
    if (given != NULL) {
        snprintf(out, len, "%s", given);
        return;
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash != NULL) {
            size_t dir = (size_t)(slash - self);
            if (dir + sizeof "/cqlmqd" <= len) {
                memcpy(out, self, dir);
                memcpy(out + dir, "/cqlmqd", sizeof "/cqlmqd");
                if (access(out, X_OK) == 0)
                    return;
            }
        }
    }
    snprintf(out, len, "cqlmqd"); /* execvp searches $PATH */
}

/* Consumes complete stderr lines of the child; returns true when one
 * with msg "ready" was seen (its endpoint copied to g->endpoint). Lines
 * of level warn or error are echoed to our stderr. */
static bool gw_drain_stderr(gateway_t *g)
{
    bool ready = false;
    for (;;) {
        ssize_t k = read(g->err_fd, g->errbuf + g->have, sizeof g->errbuf - 1 - g->have);
        if (k <= 0)
            break;
        g->have += (size_t)k;
        char *nl;
        while ((nl = memchr(g->errbuf, '\n', g->have)) != NULL) {
            *nl = '\0';
            char *e;
            if (strstr(g->errbuf, "\"msg\":\"ready\"") &&
                (e = strstr(g->errbuf, "\"endpoint\":\"")) != NULL) {
                e += strlen("\"endpoint\":\"");
                char *q = strchr(e, '"');
                if (q != NULL && (size_t)(q - e) < sizeof g->endpoint) {
                    snprintf(g->endpoint, sizeof g->endpoint, "%.*s", (int)(q - e), e);
                    ready = true;
                }
            } else if (strstr(g->errbuf, "\"level\":\"warn\"") ||
                       strstr(g->errbuf, "\"level\":\"error\"") || g->errbuf[0] != '{') {
                fprintf(stderr, "cqlmqd: %s\n", g->errbuf);
            }
            size_t used = (size_t)(nl + 1 - g->errbuf);
            memmove(g->errbuf, nl + 1, g->have - used);
            g->have -= used;
        }
        if (g->have == sizeof g->errbuf - 1)
            g->have = 0; /* a line that long is not ours to read */
    }
    return ready;
}

/* Starts cqlmqd against the node on port and waits for its endpoint. */
static void gw_spawn(gateway_t *g, const char *path, int port)
{
    char contacts[64];
    snprintf(contacts, sizeof contacts, "127.0.0.1:%d", port);
    char *argv[] = {(char *)path, "--contact-points", contacts, "--bind", "tcp://127.0.0.1:*",
                    "--loops", "2", "--log-level", "info", NULL};
    int fds[2];
    if (pipe(fds) != 0)
        bench_die("pipe");
    pid_t parent = getpid();
    g->pid = fork();
    if (g->pid < 0)
        bench_die("fork");
    if (g->pid == 0) { /* async-signal-safe calls only until exec */
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* no orphan if we die */
        if (getppid() != parent)
            _exit(1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execvp(path, argv);
        _exit(127);
    }
    close(fds[1]);
    g->err_fd = fds[0];
    fcntl(g->err_fd, F_SETFL, fcntl(g->err_fd, F_GETFL) | O_NONBLOCK);
    double deadline = bench_now_s() + 10;
    while (!gw_drain_stderr(g)) {
        int status;
        if (waitpid(g->pid, &status, WNOHANG) == g->pid) {
            g->pid = 0;
            fprintf(stderr, "bench_gwapp_requests: %s exited (status %d); try --cqlmqd PATH "
                            "or --inproc\n", path, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
            exit(1);
        }
        if (bench_now_s() > deadline)
            bench_die("cqlmqd printed no ready line within 10 s");
        struct pollfd p = {g->err_fd, POLLIN, 0};
        poll(&p, 1, 100);
    }
}

/* Peak RSS (VmHWM) of pid in KiB, or -1. */
static long vm_hwm_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* SIGTERM (cqlmqd drains, nothing is in flight), then SIGKILL after 5 s. */
static void gw_reap(gateway_t *g)
{
    kill(g->pid, SIGTERM);
    for (int i = 0; i < 500; i++) {
        if (waitpid(g->pid, NULL, WNOHANG) == g->pid) {
            g->pid = 0;
            break;
        }
        usleep(10000);
    }
    if (g->pid > 0) {
        fprintf(stderr, "bench_gwapp_requests: cqlmqd ignored SIGTERM for 5 s; killed\n");
        kill(g->pid, SIGKILL);
        waitpid(g->pid, NULL, 0);
    }
    gw_drain_stderr(g);
    close(g->err_fd);
}

static void gw_start_inproc(gateway_t *g, int port)
{
    char contacts[64];
    snprintf(contacts, sizeof contacts, "127.0.0.1:%d", port);
    cqlmq_runtime_opts_t ro = {.loops = 2};
    cqlmq_gateway_opts_t o;
    cqlmq_gateway_opts_init(&o);
    o.binds[0] = "tcp://127.0.0.1:*";
    o.nbinds = 1;
    o.contact_points = contacts;
    if (cqlmq_runtime_new(&ro, &g->rt) != 0 || cqlmq_gateway_start(g->rt, &o, &g->gw) != 0 ||
        cqlmq_runtime_start(g->rt) != 0)
        bench_die("cannot start the in-process gateway");
    snprintf(g->endpoint, sizeof g->endpoint, "%s", cqlmq_gateway_endpoint(g->gw, 0));
}

/* ---------------------------------------------------------------- */
/* Measurement and report                                           */

typedef struct bench {
    direct_t *direct;
    gwc_t gwc;
    gateway_t gw;
    cpu_clocks_t clk;
    double *lat, *sent_at;
    int ops;             /* requests per phase */
    double cap_s;        /* seconds per phase at most */
    int depths[MAX_DEPTHS], ndepths;
    bool inproc;         /* the gateway runs in this process */
    char gw_error[32];   /* the first error code seen through cqlmqd */
    phase_t res[MAX_DEPTHS][2][2]; /* [depth][direct, cqlmqd][insert, select] */
} bench_t;

/* Runs one phase (lat NULL: warm-up, not measured). */
static phase_t measure(bench_t *b, bool via_gw, bool insert, int depth, int ops, double *lat)
{
    window_t w = {.ops = ops, .depth = depth, .cap_s = b->cap_s, .sent_at = b->sent_at,
                  .lat = lat};
    phase_t p = {0};
    cpu_sample_t c0 = cpu_read(&b->clk);
    if (via_gw)
        p.errors = gw_run(&b->gwc, &w, insert, b->gw_error, sizeof b->gw_error);
    else
        p.errors = direct_run(b->direct, &w, insert);
    p.secs = bench_now_s() - w.t0;
    cpu_sample_t c1 = cpu_read(&b->clk);
    p.ops = w.done;
    double per = 1e6 / (double)w.done;
    p.node_us = (c1.node - c0.node) * per;
    p.gw_us = b->clk.has_gw ? (c1.gw - c0.gw) * per : -1;
    p.client_us = (c1.self - c0.self - (c1.node - c0.node)) * per;
    if (lat != NULL)
        bench_percentiles_us(lat, (size_t)w.done, p.pct);
    if (b->gw.pid > 0)
        gw_drain_stderr(&b->gw);
    return p;
}

static const char *const PATH_NAME[2] = {"direct CQL (C client, 1 connection)",
                                         "through cqlmqd (C DEALER client)"};

static void json_line(const char *group, int path, double value, const char *unit,
                      const phase_t *p, double ratio, const char *where)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"bench\":\"gwapp_requests\",\"group\":\"%s\",\"name\":\"%s\",\"peer\":%s,"
           "\"value\":%.6g,\"unit\":\"%s\"",
           group, PATH_NAME[path], path == 0 ? "true" : "false", value, unit);
    if (p != NULL) {
        printf(",\"p50_us\":%.3f,\"p99_us\":%.3f,\"p999_us\":%.3f,\"errors\":%ld,\"ops\":%ld",
               p->pct[0], p->pct[1], p->pct[2], p->errors, p->ops);
        printf(",\"cpu_node_us_per_op\":%.3f,\"cpu_client_us_per_op\":%.3f", p->node_us,
               p->client_us);
        if (p->gw_us >= 0)
            printf(",\"cpu_gateway_us_per_op\":%.3f", p->gw_us);
    }
    if (ratio > 0)
        printf(",\"ratio_vs_direct\":%.4f", ratio);
    printf(",\"gateway\":\"%s\",\"maxrss_kb\":%ld}\n", where, ru.ru_maxrss);
}

static void text_line(int depth, const char *stmt, int path, const phase_t *p, double ratio)
{
    printf("%5d  %-6s  %-7s %9.0f %8.0f %8.0f %8.0f  %6.1f %6.1f ", depth, stmt,
           path ? "cqlmqd" : "direct", (double)p->ops / p->secs, p->pct[0], p->pct[1],
           p->pct[2], p->node_us, p->client_us);
    if (p->gw_us >= 0)
        printf("%6.1f", p->gw_us);
    else
        printf("%6s", "-");
    if (ratio > 0)
        printf("  %6.3fx", ratio);
    printf("%s\n", p->errors ? "  ERRORS" : "");
}

static const char *const STMT[2] = {"insert", "select"};

/* Peak RSS of the gateway process in KiB, -1 in-process. */
static long gw_rss_kb(const bench_t *b) { return b->gw.pid > 0 ? vm_hwm_kb(b->gw.pid) : -1; }

static void report_json(const bench_t *b)
{
    const char *where = b->inproc ? "in-process" : "process";
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long gw_rss = gw_rss_kb(b);
    char group[96];
    for (int di = 0; di < b->ndepths; di++) {
        for (int st = 0; st < 2; st++) {
            const phase_t *d = &b->res[di][0][st], *g = &b->res[di][1][st];
            double rd = (double)d->ops / d->secs, rg = (double)g->ops / g->secs;
            snprintf(group, sizeof group, "%s, %d in flight", STMT[st], b->depths[di]);
            json_line(group, 0, rd, "ops/s", d, 0, where);
            json_line(group, 1, rg, "ops/s", g, rg / rd, where);
            if (b->depths[di] != 1)
                continue;
            snprintf(group, sizeof group, "%s round trip p50, 1 in flight", STMT[st]);
            json_line(group, 0, d->pct[0], "us", NULL, 0, where);
            json_line(group, 1, g->pct[0], "us", NULL, g->pct[0] / d->pct[0], where);
        }
    }
    if (gw_rss >= 0)
        printf("{\"bench\":\"gwapp_requests\",\"group\":\"peak RSS (VmHWM)\",\"name\":"
               "\"cqlmqd process\",\"peer\":false,\"value\":%.2f,\"unit\":\"MiB\","
               "\"gateway\":\"%s\",\"maxrss_kb\":%ld}\n",
               gw_rss / 1024.0, where, gw_rss);
    printf("{\"bench\":\"gwapp_requests\",\"group\":\"peak RSS (VmHWM)\",\"name\":"
           "\"bench process (node%s + load generators)\",\"peer\":false,\"value\":%.2f,"
           "\"unit\":\"MiB\",\"gateway\":\"%s\",\"maxrss_kb\":%ld}\n",
           b->inproc ? " + gateway" : "", ru.ru_maxrss / 1024.0, where, ru.ru_maxrss);
}

static void report_text(const bench_t *b)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long gw_rss = gw_rss_kb(b);
    printf("bench_gwapp_requests: node in this process (1 loop thread); cqlmqd %s "
           "(2 loops); tcp on 127.0.0.1,\none connection per client; up to %d requests "
           "per phase, at most %.1f s each; %ld cores online.\n",
           b->inproc ? "in this process" : "as a child process", b->ops, b->cap_s,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("CPU = core-us per request: node thread | this process minus the node "
           "(load generator%s) | cqlmqd process\n\n",
           b->inproc ? " + in-process gateway" : " + its ZeroMQ I/O thread");
    printf("depth  stmt    path        req/s   p50 us   p99 us p99.9 us    node client "
           "    gw  gw/direct\n");
    for (int di = 0; di < b->ndepths; di++)
        for (int st = 0; st < 2; st++)
            for (int pa = 0; pa < 2; pa++) {
                const phase_t *d = &b->res[di][0][st], *p = &b->res[di][pa][st];
                double ratio = pa ? ((double)p->ops / p->secs) / ((double)d->ops / d->secs)
                                  : 0;
                text_line(b->depths[di], STMT[st], pa, p, ratio);
            }
    for (int di = 0; di < b->ndepths; di++) {
        if (b->depths[di] != 1)
            continue;
        printf("\nadded per request through cqlmqd, 1 in flight (p50 / p99):");
        for (int st = 0; st < 2; st++)
            printf(" %s %+.0f / %+.0f us%s", STMT[st],
                   b->res[di][1][st].pct[0] - b->res[di][0][st].pct[0],
                   b->res[di][1][st].pct[1] - b->res[di][0][st].pct[1], st ? "" : ";");
        printf("\n");
    }
    printf("peak RSS: this process (node%s + load generators) %.1f MiB", b->inproc ?
           " + gateway" : "", ru.ru_maxrss / 1024.0);
    if (gw_rss >= 0)
        printf("; cqlmqd %.1f MiB", gw_rss / 1024.0);
    printf("\n");
    if (b->gw_error[0])
        printf("first error through cqlmqd: %s\n", b->gw_error);
}

static int parse_depths(const char *s, int *out)
{
    int n = 0;
    while (*s && n < MAX_DEPTHS) {
        char *end;
        long d = strtol(s, &end, 10);
        if (end == s || d < 1 || d > MAX_DEPTH)
            return -1;
        out[n++] = (int)d;
        s = *end == ',' ? end + 1 : end;
        if (*end != ',' && *end != '\0')
            return -1;
    }
    return *s ? -1 : n;
}

static const char USAGE[] =
    "usage: bench_gwapp_requests [--json] [-n OPS] [-d DEPTH[,DEPTH...]] [-T SECONDS]\n"
    "                            [--inproc | --cqlmqd PATH]\n"
    "  -n  requests per phase (default 100000)   -d  in flight, 1..1024 (default 1,16,128)\n"
    "  -T  at most this long per phase (default 1.5)\n"
    "  --inproc  gateway in this process instead of a child cqlmqd\n";

int main(int argc, char **argv)
{
    bench_t b;
    memset(&b, 0, sizeof b);
    b.ops = 100000;
    b.cap_s = 1.5;
    b.depths[0] = 1, b.depths[1] = 16, b.depths[2] = 128, b.ndepths = 3;
    bool json = false;
    const char *cqlmqd_arg = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0)
            json = true;
        else if (strcmp(a, "--inproc") == 0)
            b.inproc = true;
        else if (strcmp(a, "--cqlmqd") == 0 && v)
            cqlmqd_arg = argv[++i];
        else if (strcmp(a, "-n") == 0 && v)
            b.ops = atoi(argv[++i]);
        else if (strcmp(a, "-T") == 0 && v)
            b.cap_s = atof(argv[++i]);
        else if (strcmp(a, "-d") == 0 && v)
            b.ndepths = parse_depths(argv[++i], b.depths);
        else {
            fputs(USAGE, stderr);
            return 2;
        }
    }
    if (b.ops < 1 || b.ops > 10000000 || b.ndepths < 1 || !(b.cap_s > 0)) {
        fputs(USAGE, stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    node_t node;
    node_start(&node);
    if (pthread_getcpuclockid(node.thread, &b.clk.node_clk) != 0)
        bench_die("no CPU clock for the node thread");
    int port = node_cluster_port(node.cluster);
    b.direct = calloc(1, sizeof *b.direct);
    b.lat = malloc(sizeof(double) * (size_t)(b.ops > NKEYS ? b.ops : NKEYS));
    b.sent_at = malloc(sizeof(double) * MAX_DEPTH);
    if (b.direct == NULL || b.lat == NULL || b.sent_at == NULL)
        bench_die("out of memory");
    direct_open(b.direct, port);
    double cap = b.cap_s;
    b.cap_s = 60;
    measure(&b, false, true, 128, NKEYS, NULL); /* preload every key read later */
    b.cap_s = cap;

    char path[4096];
    if (b.inproc) {
        gw_start_inproc(&b.gw, port);
    } else {
        find_cqlmqd(cqlmqd_arg, path, sizeof path);
        gw_spawn(&b.gw, path, port);
        if (clock_getcpuclockid(b.gw.pid, &b.clk.gw_clk) != 0)
            bench_die("no CPU clock for the cqlmqd process");
        b.clk.has_gw = true;
    }
    gw_open(&b.gwc, b.gw.endpoint);

    for (int di = 0; di < b.ndepths; di++) {
        for (int pa = 0; pa < 2; pa++) {
            for (int st = 0; st < 2; st++) {
                int warm = WARMUP_OPS < b.ops ? WARMUP_OPS : b.ops;
                measure(&b, pa == 1, st == 0, b.depths[di], warm, NULL);
                b.res[di][pa][st] = measure(&b, pa == 1, st == 0, b.depths[di], b.ops, b.lat);
            }
        }
    }

    if (json)
        report_json(&b);
    else
        report_text(&b);
    long errors = 0;
    for (int di = 0; di < b.ndepths; di++)
        for (int pa = 0; pa < 2; pa++)
            errors += b.res[di][pa][0].errors + b.res[di][pa][1].errors;

    gw_close(&b.gwc);
    if (b.inproc) {
        cqlmq_gateway_free(&b.gw.gw);
        cqlmq_runtime_free(&b.gw.rt);
    } else {
        gw_reap(&b.gw);
    }
    direct_close(b.direct);
    free(b.direct);
    free(b.lat);
    free(b.sent_at);
    node_stop(&node);
    return errors ? 1 : 0;
}
