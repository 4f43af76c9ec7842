/*
 * Integration: the gateway's cluster and connection actors against an
 * embedded 3-node cluster run in-process (its own loop and thread), with
 * faults injected through the node's ZeroMQ control socket.
 *
 * Harness: a runtime with two loops; the cluster actor on loop 0 (with its
 * connections), a small driver actor on loop 1 (so replies cross loops).
 * The test thread hands the driver a job (execs to send, or a stats
 * request) and waits until every reply is in.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cluster.h"
#include "connection.h"
#include "cql_result.h"
#include "gw_msgs.h"
#include "node_server.h"

/* ---- the node cluster on a thread ---- */

typedef struct srv {
    uv_loop_t loop;
    node_cluster_t *cluster;
    pthread_t thread;
    int port;
    char control[256];
} srv_t;

static void *srv_run(void *arg)
{
    srv_t *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void srv_start(srv_t *s, int nodes, const char *user, const char *password)
{
    node_config_t cfg;
    node_config_init(&cfg);
    cfg.nnodes = nodes;
    cfg.dcs[0].count = nodes;
    cfg.port = 0;
    snprintf(cfg.control, sizeof cfg.control, "tcp://127.0.0.1:*");
    cfg.quiet = true;
    if (user != NULL) {
        cfg.nusers = 1;
        snprintf(cfg.users[0].user, sizeof cfg.users[0].user, "%s", user);
        snprintf(cfg.users[0].password, sizeof cfg.users[0].password, "%s", password);
    }
    cr_assert_eq(uv_loop_init(&s->loop), 0);
    cr_assert_eq(node_cluster_new(&s->loop, &cfg, &s->cluster), 0);
    cr_assert_eq(node_cluster_start(s->cluster), 0);
    s->port = node_cluster_port(s->cluster);
    snprintf(s->control, sizeof s->control, "%s", node_cluster_control_endpoint(s->cluster));
    cr_assert_eq(pthread_create(&s->thread, NULL, srv_run, s), 0);
}

static void srv_stop(srv_t *s)
{
    cr_assert_eq(node_cluster_request_stop(s->cluster), 0);
    pthread_join(s->thread, NULL);
    node_cluster_free(&s->cluster);
    cr_assert_eq(uv_loop_close(&s->loop), 0);
}

/* ---- the control socket ---- */

/* A control request: pairs of (key, value); a value starting with '#' is
 * an integer, "@t"/"@f" a boolean, anything else a string. Returns the
 * reply's length in out (a msgpack map) after checking "ok". */
static size_t ctl(const char *endpoint, uint8_t *out, size_t cap, int npairs, ...)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_map(&w, (uint32_t)npairs);
    va_list ap;
    va_start(ap, npairs);
    for (int i = 0; i < npairs; i++) {
        const char *k = va_arg(ap, const char *), *v = va_arg(ap, const char *);
        mpk_wr_cstr(&w, k);
        if (v[0] == '#')
            mpk_wr_int(&w, strtoll(v + 1, NULL, 10));
        else if (v[0] == '@')
            mpk_wr_bool(&w, v[1] == 't');
        else
            mpk_wr_cstr(&w, v);
    }
    va_end(ap);
    void *zctx = zmq_ctx_new();
    void *s = zmq_socket(zctx, ZMQ_REQ);
    int zero = 0, tmo = 5000;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    cr_assert_eq(zmq_connect(s, endpoint), 0);
    cr_assert_geq(zmq_send(s, w.data, w.len, 0), 0);
    int n = zmq_recv(s, out, cap, 0);
    cr_assert_gt(n, 0, "a control reply");
    cr_assert_lt((size_t)n, cap);
    zmq_close(s);
    zmq_ctx_term(zctx);
    mpk_wr_close(&w);
    mpk_rd_t r;
    uint32_t cnt;
    mpk_str_t key;
    bool ok = false;
    mpk_rd_init(&r, out, (size_t)n);
    cr_assert_eq(mpk_rd_map(&r, &cnt), 0);
    cr_assert_eq(mpk_rd_str(&r, &key), 0);
    cr_assert_eq(mpk_rd_bool(&r, &ok), 0);
    cr_assert(ok, "control request accepted");
    return (size_t)n;
}

static uint8_t ctlbuf[1 << 20];
#define CTL(...) ctl(srv.control, ctlbuf, sizeof ctlbuf, __VA_ARGS__)

/* Entries of the activity log with this opcode whose query contains q. */
static int log_count(const char *endpoint, const char *opcode, const char *q)
{
    size_t n = ctl(endpoint, ctlbuf, sizeof ctlbuf, 3, "cmd", "log", "opcode", opcode, "query", q);
    mpk_rd_t r;
    uint32_t cnt, items;
    mpk_rd_init(&r, ctlbuf, n);
    cr_assert_eq(mpk_rd_map(&r, &cnt), 0);
    for (uint32_t i = 0; i < cnt; i++) {
        mpk_str_t k;
        cr_assert_eq(mpk_rd_str(&r, &k), 0);
        if (mpk_str_eq(k, "entries")) {
            cr_assert_eq(mpk_rd_array(&r, &items), 0);
            return (int)items;
        }
        cr_assert_eq(mpk_rd_skip(&r), 0);
    }
    cr_assert_fail("no entries in the log reply");
    return -1;
}

/* ---- the driver actor ---- */

typedef struct res {
    int err;                 /* the runtime's callback error */
    int status;
    char code[32];
    int32_t cql_code;
    char host[32];
    uint8_t handle[GW_HANDLE_LEN];
    bool has_handle;
    int32_t kind;            /* RESULT kind on success */
    int32_t nrows;
    uint32_t attempts;
    uint64_t at_ms;          /* when the reply arrived */
    uint8_t details[512];
    size_t details_len;
    uint8_t body[1024];      /* the RESULT body on success (when it fits) */
    size_t body_len;
} res_t;

enum { JOB_EXEC = 1, JOB_STATS };

typedef struct job {
    int kind;
    rt_addr_t target;
    int n;
    mpk_wr_t *payloads;      /* n encoded gw_exec */
    res_t *res;
    int done;
    gw_stats_t stats;
    uint8_t per_host[4096];
    size_t per_host_len;
} job_t;

typedef struct harness {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job_t *job;
} harness_t;

static harness_t hn = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL};

#define T_GO 1

static void finish_one(void)
{
    hn.job->done++;
    pthread_cond_broadcast(&hn.cv);
}

static void on_result(rt_actor_t *self, const rt_msg_t *reply, int err, void *ud)
{
    (void)self;
    pthread_mutex_lock(&hn.mu);
    res_t *r = &hn.job->res[(intptr_t)ud];
    r->err = err;
    r->at_ms = gw_now_ms();
    if (err == 0) {
        gw_result_t g;
        mpk_rd_t rd;
        mpk_rd_init(&rd, reply->data, reply->len);
        if (gw_result_decode(&rd, &g) != 0) {
            r->err = CQLMQ_EMALFORMED;
        } else {
            r->status = g.status;
            if (MPK_HAS(&g, gw_result, code))
                snprintf(r->code, sizeof r->code, "%.*s", (int)g.code.len, g.code.ptr);
            r->cql_code = MPK_HAS(&g, gw_result, cql_code) ? g.cql_code : -1;
            if (MPK_HAS(&g, gw_result, host))
                snprintf(r->host, sizeof r->host, "%.*s", (int)g.host.len, g.host.ptr);
            r->attempts = g.attempts;
            if (MPK_HAS(&g, gw_result, handle) && g.handle.len == GW_HANDLE_LEN) {
                memcpy(r->handle, g.handle.ptr, GW_HANDLE_LEN);
                r->has_handle = true;
            }
            if (MPK_HAS(&g, gw_result, details) && g.details.len <= sizeof r->details) {
                memcpy(r->details, g.details.ptr, g.details.len);
                r->details_len = g.details.len;
            }
            if (g.status == 0 && MPK_HAS(&g, gw_result, body) && g.body.len <= sizeof r->body) {
                memcpy(r->body, g.body.ptr, g.body.len);
                r->body_len = g.body.len;
            }
            if (g.status == 0 && MPK_HAS(&g, gw_result, body)) {
                cql_arena_t a;
                cql_msg_t m;
                cql_arena_init(&a, 0);
                int rc = cql_msg_decode((int)g.version, CQL_OP_RESULT, (uint8_t)g.flags,
                                        g.body.ptr, g.body.len, &a, &m);
                r->kind = rc == 0 ? m.u.result.kind : -1;
                r->nrows = rc == 0 && r->kind == CQL_RESULT_ROWS ? m.u.result.u.rows.nrows : -1;
                cql_arena_close(&a);
            }
        }
    }
    finish_one();
    pthread_mutex_unlock(&hn.mu);
}

static void on_stats(rt_actor_t *self, const rt_msg_t *reply, int err, void *ud)
{
    (void)self;
    (void)ud;
    pthread_mutex_lock(&hn.mu);
    job_t *j = hn.job;
    mpk_rd_t rd;
    if (err == 0) {
        mpk_rd_init(&rd, reply->data, reply->len);
        if (gw_stats_decode(&rd, &j->stats) == 0 && MPK_HAS(&j->stats, gw_stats, per_host) &&
            j->stats.per_host.len <= sizeof j->per_host) {
            memcpy(j->per_host, j->stats.per_host.ptr, j->stats.per_host.len);
            j->per_host_len = j->stats.per_host.len;
        }
        j->stats.per_host = (mpk_raw_t){NULL, 0};
    }
    finish_one();
    pthread_mutex_unlock(&hn.mu);
}

static void on_go(rt_actor_t *self, const rt_msg_t *msg)
{
    (void)msg;
    pthread_mutex_lock(&hn.mu);
    job_t *j = hn.job;
    if (j->kind == JOB_STATS) {
        (void)rt_request_begin(self, j->target, GW_MSG_STATS);
        if (rt_request_end(self, 5000, on_stats, NULL, NULL) != 0)
            finish_one();
    } else {
        for (int i = 0; i < j->n; i++) {
            mpk_wr_t *w = rt_request_begin(self, j->target, GW_MSG_EXEC);
            mpk_wr_raw(w, j->payloads[i].data, j->payloads[i].len);
            if (rt_request_end(self, 20000, on_result, (void *)(intptr_t)i, NULL) != 0) {
                j->res[i].err = CQLMQ_EIO;
                finish_one();
            }
        }
    }
    pthread_mutex_unlock(&hn.mu);
}

/* A connection actor spawned by a test reports to the driver. */
static gw_conn_state_t last_state;
static int nstates;

static void on_conn_state(rt_actor_t *self, const rt_msg_t *msg)
{
    (void)self;
    mpk_rd_t rd;
    pthread_mutex_lock(&hn.mu);
    mpk_rd_init(&rd, msg->data, msg->len);
    if (gw_conn_state_decode(&rd, &last_state) == 0) {
        last_state.message = (mpk_str_t){NULL, 0}; /* borrowed: not kept */
        nstates++;
    }
    pthread_cond_broadcast(&hn.cv);
    pthread_mutex_unlock(&hn.mu);
}

static const rt_handler_cb driver_handlers[GW_MSG_LIMIT_] = {
    [T_GO] = on_go,
    [GW_MSG_CONN_STATE] = on_conn_state,
};
static const rt_actor_def_t driver_def = {.name = "test_driver", .handlers = driver_handlers,
                                          .nhandlers = GW_MSG_LIMIT_};

/* ---- the fixture ---- */

static srv_t srv;
static cqlmq_runtime_t *rt;
static rt_addr_t cluster, driver;

static void gw_start(const gw_cluster_config_t *cfg)
{
    cqlmq_runtime_opts_t o = {.loops = 2};
    cr_assert_eq(cqlmq_runtime_new(&o, &rt), 0);
    cr_assert_eq(cqlmq_runtime_start(rt), 0);
    cr_assert_eq(cqlmq_runtime_spawn(rt, 0, &gw_cluster_def, (void *)cfg, &cluster), 0);
    cr_assert_eq(cqlmq_runtime_spawn(rt, 1, &driver_def, NULL, &driver), 0);
}

static void base_config(gw_cluster_config_t *cfg)
{
    gw_cluster_config_init(cfg);
    snprintf(cfg->contact_points, sizeof cfg->contact_points, "127.0.0.1:%d", srv.port);
    cfg->port = srv.port;
    cfg->seed = 1234;
    cfg->reconnect_base_ms = 50;
    cfg->reconnect_cap_ms = 2000;
}

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    srv_start(&srv, 3, NULL, NULL);
    gw_cluster_config_t cfg;
    base_config(&cfg);
    gw_start(&cfg);
}

static void teardown(void)
{
    cqlmq_runtime_free(&rt);
    srv_stop(&srv);
}

TestSuite(gw_cluster, .init = setup, .fini = teardown, .timeout = 60);

/* Runs job j (the test thread waits until all its replies are in). */
static void run_job(job_t *j, int expect)
{
    pthread_mutex_lock(&hn.mu);
    hn.job = j;
    j->done = 0;
    pthread_mutex_unlock(&hn.mu);
    cr_assert_eq(cqlmq_runtime_send(rt, driver, T_GO, NULL, 0), 0);
    pthread_mutex_lock(&hn.mu);
    while (j->done < expect)
        pthread_cond_wait(&hn.cv, &hn.mu);
    hn.job = NULL;
    pthread_mutex_unlock(&hn.mu);
}

static gw_stats_t stats_now(uint8_t *per_host, size_t *per_host_len)
{
    job_t j;
    memset(&j, 0, sizeof j);
    j.kind = JOB_STATS;
    j.target = cluster;
    run_job(&j, 1);
    if (per_host != NULL) {
        memcpy(per_host, j.per_host, j.per_host_len);
        *per_host_len = j.per_host_len;
    }
    return j.stats;
}

/* Per-host view from stats: up flag and ready connections of 127.0.0.(i+1). */
typedef struct hview {
    bool present, up;
    uint64_t conns, requests;
} hview_t;

static void hosts_view(hview_t out[3])
{
    uint8_t buf[4096];
    size_t len = 0;
    memset(out, 0, 3 * sizeof *out);
    (void)stats_now(buf, &len);
    mpk_rd_t r;
    uint32_t n, m;
    mpk_rd_init(&r, buf, len);
    if (len == 0 || mpk_rd_array(&r, &n) != 0)
        return;
    for (uint32_t i = 0; i < n; i++) {
        cr_assert_eq(mpk_rd_map(&r, &m), 0);
        hview_t v = {.present = true};
        int idx = -1;
        for (uint32_t k = 0; k < m; k++) {
            mpk_str_t key, s;
            cr_assert_eq(mpk_rd_str(&r, &key), 0);
            if (mpk_str_eq(key, "host")) {
                cr_assert_eq(mpk_rd_str(&r, &s), 0);
                idx = s.len > 8 ? s.ptr[8] - '1' : -1; /* "127.0.0.N:port" */
            } else if (mpk_str_eq(key, "up")) {
                cr_assert_eq(mpk_rd_bool(&r, &v.up), 0);
            } else if (mpk_str_eq(key, "conns")) {
                cr_assert_eq(mpk_rd_uint(&r, &v.conns), 0);
            } else if (mpk_str_eq(key, "requests")) {
                cr_assert_eq(mpk_rd_uint(&r, &v.requests), 0);
            } else {
                cr_assert_eq(mpk_rd_skip(&r), 0);
            }
        }
        if (idx >= 0 && idx < 3)
            out[idx] = v;
    }
}

/* Waits (polling stats) until the gateway sees `up` hosts up with `conns`
 * ready connections and a registered control connection. */
static void wait_topology(uint64_t up, uint64_t conns, int timeout_ms)
{
    gw_stats_t s;
    uint64_t end = gw_now_ms() + (uint64_t)timeout_ms;
    do {
        s = stats_now(NULL, NULL);
        if (s.hosts_up == up && s.conns == conns && s.control)
            return;
        usleep(20000);
    } while (gw_now_ms() < end);
    cr_assert_fail("topology: hosts_up %lu (want %lu), conns %lu (want %lu), control %d",
                   (unsigned long)s.hosts_up, (unsigned long)up, (unsigned long)s.conns,
                   (unsigned long)conns, s.control);
}

/* ---- building execs ---- */

typedef struct spec {
    int op;
    const char *query;
    const char *keyspace;
    const uint8_t *handle;
    bool idempotent;
    int timeout_ms;
    int32_t int_value;       /* one int bound value when has_value */
    bool has_value;
} spec_t;

static void encode_exec(mpk_wr_t *w, const spec_t *sp)
{
    gw_exec_t ex;
    memset(&ex, 0, sizeof ex);
    ex.op = (uint32_t)sp->op;
    ex.deadline_ms = gw_deadline_in((uint64_t)(sp->timeout_ms ? sp->timeout_ms : 5000));
    if (sp->query) {
        ex.query = mpk_cstr(sp->query);
        MPK_SET(&ex, gw_exec, query);
    }
    if (sp->keyspace) {
        ex.keyspace = mpk_cstr(sp->keyspace);
        MPK_SET(&ex, gw_exec, keyspace);
    }
    if (sp->handle) {
        ex.handle = (mpk_bin_t){sp->handle, GW_HANDLE_LEN};
        MPK_SET(&ex, gw_exec, handle);
    }
    if (sp->idempotent) {
        ex.idempotent = true;
        MPK_SET(&ex, gw_exec, idempotent);
    }
    uint8_t val[8];
    if (sp->has_value) {
        cql_store_u32(val, 4);
        cql_store_u32(val + 4, (uint32_t)sp->int_value);
        ex.nvalues = 1;
        ex.values = (mpk_bin_t){val, 8};
        MPK_SET(&ex, gw_exec, nvalues);
        MPK_SET(&ex, gw_exec, values);
    }
    ex.consistency = CQL_CL_ONE;
    MPK_SET(&ex, gw_exec, consistency);
    mpk_wr_init(w);
    gw_exec_encode_compact(w, &ex);
}

/* Sends n copies of sp at once; res gets n results (caller frees). */
static res_t *run_n(const spec_t *sp, int n)
{
    job_t j;
    memset(&j, 0, sizeof j);
    j.kind = JOB_EXEC;
    j.target = cluster;
    j.n = n;
    j.payloads = calloc((size_t)n, sizeof *j.payloads);
    j.res = calloc((size_t)n, sizeof *j.res);
    for (int i = 0; i < n; i++)
        encode_exec(&j.payloads[i], sp);
    run_job(&j, n);
    for (int i = 0; i < n; i++)
        mpk_wr_close(&j.payloads[i]);
    free(j.payloads);
    return j.res;
}

static res_t run1(const spec_t *sp)
{
    res_t *r = run_n(sp, 1);
    res_t out = *r;
    free(r);
    return out;
}

static void expect_ok(const res_t *r, const char *what)
{
    cr_assert_eq(r->err, 0, "%s: runtime error %s", what, cqlmq_strerror(r->err));
    cr_assert_eq(r->status, 0, "%s: status %s code %s", what, cqlmq_err_name(r->status), r->code);
}

static void query_ok(const char *q)
{
    spec_t sp = {.op = CQL_OP_QUERY, .query = q};
    res_t r = run1(&sp);
    expect_ok(&r, q);
}

/* Every accepted exec got exactly one reply and nothing is held. */
static void expect_quiet(void)
{
    gw_stats_t s = stats_now(NULL, NULL);
    cr_assert_eq(s.in_flight, 0);
    cr_assert_eq(s.replies, s.requests, "requests %lu, replies %lu", (unsigned long)s.requests,
                 (unsigned long)s.replies);
}

/* ================================================================== */
/* Tests                                                                */

Test(gw_cluster, discovers_all_three_nodes_and_opens_their_pools)
{
    wait_topology(3, 6, 5000);
    gw_stats_t s = stats_now(NULL, NULL);
    cr_assert_eq(s.hosts, 3);
    hview_t v[3];
    hosts_view(v);
    for (int i = 0; i < 3; i++) {
        cr_assert(v[i].present && v[i].up, "127.0.0.%d known and up", i + 1);
        cr_assert_eq(v[i].conns, 2, "pool of 2 on 127.0.0.%d", i + 1);
    }
}

Test(gw_cluster, queries_go_round_robin_across_the_hosts)
{
    wait_topology(3, 6, 5000);
    spec_t sp = {.op = CQL_OP_QUERY, .query = "SELECT * FROM system.local WHERE key='local'"};
    int per[3] = {0};
    for (int round = 0; round < 30; round++) { /* one at a time: strict rotation */
        res_t r = run1(&sp);
        expect_ok(&r, "system.local");
        cr_assert_eq(r.kind, CQL_RESULT_ROWS);
        cr_assert_eq(r.nrows, 1);
        cr_assert_eq(r.attempts, 1);
        int idx = r.host[8] - '1';
        cr_assert(idx >= 0 && idx < 3, "host %s", r.host);
        per[idx]++;
    }
    cr_assert(per[0] == 10 && per[1] == 10 && per[2] == 10, "spread %d/%d/%d", per[0], per[1],
              per[2]);
    /* Concurrent ones too: 60 at once land 20 per host. */
    res_t *rs = run_n(&sp, 60);
    int conc[3] = {0};
    for (int i = 0; i < 60; i++) {
        expect_ok(&rs[i], "concurrent");
        conc[rs[i].host[8] - '1']++;
    }
    free(rs);
    cr_assert(conc[0] == 20 && conc[1] == 20 && conc[2] == 20, "spread %d/%d/%d", conc[0],
              conc[1], conc[2]);
    expect_quiet();
}

static void make_table(void)
{
    query_ok("CREATE KEYSPACE IF NOT EXISTS ks WITH replication = "
             "{'class': 'SimpleStrategy', 'replication_factor': 1}");
    query_ok("CREATE TABLE IF NOT EXISTS ks.t (k int PRIMARY KEY, v text)");
    query_ok("INSERT INTO ks.t (k, v) VALUES (1, 'one')");
}

#define SEL "SELECT v FROM ks.t WHERE k = ?"

static void prepare_sel(uint8_t handle[GW_HANDLE_LEN])
{
    spec_t sp = {.op = CQL_OP_PREPARE, .query = SEL};
    res_t r = run1(&sp);
    expect_ok(&r, "prepare");
    cr_assert(r.has_handle);
    memcpy(handle, r.handle, GW_HANDLE_LEN);
}

Test(gw_cluster, a_hundred_concurrent_first_uses_send_one_prepare)
{
    wait_topology(3, 6, 5000);
    make_table();
    CTL(1, "cmd", "clear_log");
    spec_t sp = {.op = CQL_OP_PREPARE, .query = SEL};
    res_t *rs = run_n(&sp, 100);
    for (int i = 0; i < 100; i++) {
        expect_ok(&rs[i], "prepare");
        cr_assert(rs[i].has_handle);
        cr_assert_eq(memcmp(rs[i].handle, rs[0].handle, GW_HANDLE_LEN), 0, "one handle");
        cr_assert_eq(rs[i].kind, CQL_RESULT_PREPARED);
    }
    cr_assert_eq(log_count(srv.control, "PREPARE", SEL), 1, "single flight");
    /* Executing everywhere prepares on each other host once, before use. */
    spec_t ex = {.op = CQL_OP_EXECUTE, .handle = rs[0].handle, .has_value = true, .int_value = 1};
    res_t *es = run_n(&ex, 30);
    for (int i = 0; i < 30; i++) {
        expect_ok(&es[i], "execute");
        cr_assert_eq(es[i].kind, CQL_RESULT_ROWS);
        cr_assert_eq(es[i].nrows, 1);
    }
    cr_assert_eq(log_count(srv.control, "PREPARE", SEL), 3, "once per host");
    cr_assert_eq(log_count(srv.control, "EXECUTE", SEL), 30);
    /* A later PREPARE of the same text is answered from the cache. */
    res_t again = run1(&sp);
    expect_ok(&again, "prepare again");
    cr_assert_eq(memcmp(again.handle, rs[0].handle, GW_HANDLE_LEN), 0);
    cr_assert_eq(log_count(srv.control, "PREPARE", SEL), 3, "no round trip");
    free(rs);
    free(es);
    expect_quiet();
}

Test(gw_cluster, unprepared_after_the_nodes_forget_is_reprepared_and_retried)
{
    wait_topology(3, 6, 5000);
    make_table();
    uint8_t h[GW_HANDLE_LEN];
    prepare_sel(h);
    spec_t ex = {.op = CQL_OP_EXECUTE, .handle = h, .has_value = true, .int_value = 1};
    res_t *rs = run_n(&ex, 6); /* known on every host now */
    for (int i = 0; i < 6; i++)
        expect_ok(&rs[i], "warm");
    free(rs);
    gw_stats_t before = stats_now(NULL, NULL);
    CTL(1, "cmd", "forget_prepared");
    CTL(1, "cmd", "clear_log");
    for (int i = 0; i < 6; i++) {
        res_t r = run1(&ex);
        expect_ok(&r, "execute after forget");
        cr_assert_eq(r.nrows, 1);
    }
    gw_stats_t after = stats_now(NULL, NULL);
    cr_assert_eq(after.reprepares - before.reprepares, 3, "one UNPREPARED per host");
    cr_assert_eq(log_count(srv.control, "PREPARE", SEL), 3, "re-prepared once per host");
    /* (the node logs a refused EXECUTE without text: count them all) */
    int execs = log_count(srv.control, "EXECUTE", "");
    cr_assert_eq(execs, 9, "3 refused + 6 answered, not %d", execs);
    expect_quiet();
}

Test(gw_cluster, an_unknown_handle_is_answered_unprepared)
{
    wait_topology(3, 6, 5000);
    uint8_t bogus[GW_HANDLE_LEN] = {9, 9, 9};
    spec_t ex = {.op = CQL_OP_EXECUTE, .handle = bogus};
    res_t r = run1(&ex);
    cr_assert_eq(r.status, CQLMQ_EUNPREPARED);
    cr_assert_str_eq(r.code, "unprepared");
    expect_quiet();
}

/* PREPARE by handle (a describe): what a session that did not prepare a
 * statement asks to bind values for it. */
Test(gw_cluster, a_prepare_by_handle_answers_the_cached_metadata_without_a_round_trip)
{
    wait_topology(3, 6, 5000);
    make_table();
    spec_t prep = {.op = CQL_OP_PREPARE, .query = SEL};
    res_t p = run1(&prep);
    expect_ok(&p, "prepare");
    cr_assert(p.has_handle);
    cr_assert_gt(p.body_len, 0);
    CTL(1, "cmd", "clear_log");
    gw_stats_t before = stats_now(NULL, NULL);
    spec_t desc = {.op = CQL_OP_PREPARE, .handle = p.handle};
    res_t *ds = run_n(&desc, 10);
    for (int i = 0; i < 10; i++) {
        expect_ok(&ds[i], "describe");
        cr_assert(ds[i].has_handle);
        cr_assert_eq(memcmp(ds[i].handle, p.handle, GW_HANDLE_LEN), 0, "the same handle");
        cr_assert_eq(ds[i].kind, CQL_RESULT_PREPARED);
        cr_assert_eq(ds[i].body_len, p.body_len);
        cr_assert_eq(memcmp(ds[i].body, p.body, p.body_len), 0, "the cached Prepared body");
    }
    free(ds);
    gw_stats_t after = stats_now(NULL, NULL);
    cr_assert_eq(log_count(srv.control, "PREPARE", ""), 0, "nothing sent to the nodes");
    cr_assert_eq(after.prepares, before.prepares);
    /* A describe ignores a keyspace it is given (the handle bound it). */
    desc.keyspace = "system";
    res_t k = run1(&desc);
    expect_ok(&k, "describe with a keyspace");
    cr_assert_eq(memcmp(k.handle, p.handle, GW_HANDLE_LEN), 0);
    /* The handle executes from any requester with values bound by it. */
    spec_t ex = {.op = CQL_OP_EXECUTE, .handle = p.handle, .has_value = true, .int_value = 1};
    res_t e = run1(&ex);
    expect_ok(&e, "execute");
    cr_assert_eq(e.nrows, 1);
    expect_quiet();
}

Test(gw_cluster, a_prepare_by_an_unknown_handle_is_answered_unprepared)
{
    wait_topology(3, 6, 5000);
    uint8_t bogus[GW_HANDLE_LEN] = {7, 7, 7};
    spec_t desc = {.op = CQL_OP_PREPARE, .handle = bogus};
    res_t r = run1(&desc);
    cr_assert_eq(r.err, 0);
    cr_assert_eq(r.status, CQLMQ_EUNPREPARED);
    cr_assert_str_eq(r.code, "unprepared");
    cr_assert_not(r.has_handle);
    /* neither query nor handle: malformed */
    spec_t none = {.op = CQL_OP_PREPARE};
    r = run1(&none);
    cr_assert_eq(r.status, CQLMQ_EINVAL);
    cr_assert_str_eq(r.code, "bad_request");
    expect_quiet();
}

#define SEL2 "SELECT k FROM ks.t WHERE k = ?"

Test(gw_cluster, an_evicted_handle_is_unprepared_and_waits_for_its_prepare_once_it_is_again)
{
    cqlmq_runtime_free(&rt); /* a gateway whose cache holds one statement */
    gw_cluster_config_t cfg;
    base_config(&cfg);
    cfg.prepared_max = 1;
    gw_start(&cfg);
    wait_topology(3, 6, 5000);
    make_table();
    uint8_t h[GW_HANDLE_LEN];
    prepare_sel(h);
    spec_t p2 = {.op = CQL_OP_PREPARE, .query = SEL2};
    res_t r = run1(&p2);
    expect_ok(&r, "prepare another (evicts the first)");
    spec_t desc = {.op = CQL_OP_PREPARE, .handle = h};
    r = run1(&desc);
    cr_assert_eq(r.status, CQLMQ_EUNPREPARED, "evicted: %s", r.code);
    /* Prepared again, slowly: a describe arriving meanwhile waits for that
     * PREPARE (one for both) and gets its metadata. */
    CTL(1, "cmd", "clear_log");
    CTL(5, "cmd", "fault", "action", "latency", "query", SEL, "ms", "#300", "opcode", "PREPARE");
    job_t j;
    memset(&j, 0, sizeof j);
    j.kind = JOB_EXEC;
    j.target = cluster;
    j.n = 2;
    mpk_wr_t pl[2];
    res_t rs[2];
    memset(rs, 0, sizeof rs);
    spec_t p1 = {.op = CQL_OP_PREPARE, .query = SEL};
    encode_exec(&pl[0], &p1); /* sent first: the cluster starts the PREPARE */
    encode_exec(&pl[1], &desc);
    j.payloads = pl;
    j.res = rs;
    uint64_t t0 = gw_now_ms();
    run_job(&j, 2);
    mpk_wr_close(&pl[0]);
    mpk_wr_close(&pl[1]);
    for (int i = 0; i < 2; i++) {
        expect_ok(&rs[i], i ? "describe" : "prepare");
        cr_assert(rs[i].has_handle);
        cr_assert_eq(memcmp(rs[i].handle, h, GW_HANDLE_LEN), 0, "the handle is valid again");
        cr_assert_eq(rs[i].kind, CQL_RESULT_PREPARED);
    }
    cr_assert_geq(rs[1].at_ms - t0, 250, "the describe waited for the PREPARE");
    cr_assert_eq(log_count(srv.control, "PREPARE", SEL), 1, "one PREPARE for both");
    expect_quiet();
}

#define SLOW "SELECT key FROM system.local"

Test(gw_cluster, a_node_stopped_mid_request_ends_it_with_exactly_one_error)
{
    wait_topology(3, 6, 5000);
    CTL(4, "cmd", "fault", "action", "latency", "query", SLOW, "ms", "#1500");
    /* Three at once: one lands on each node; node 2 is stopped under them. */
    job_t j;
    memset(&j, 0, sizeof j);
    j.kind = JOB_EXEC;
    j.target = cluster;
    j.n = 3;
    j.payloads = calloc(3, sizeof *j.payloads);
    j.res = calloc(3, sizeof *j.res);
    spec_t sp = {.op = CQL_OP_QUERY, .query = SLOW, .timeout_ms = 8000};
    for (int i = 0; i < 3; i++)
        encode_exec(&j.payloads[i], &sp);
    pthread_mutex_lock(&hn.mu);
    hn.job = &j;
    pthread_mutex_unlock(&hn.mu);
    cr_assert_eq(cqlmq_runtime_send(rt, driver, T_GO, NULL, 0), 0);
    usleep(300000);
    uint64_t stopped = gw_now_ms();
    CTL(2, "cmd", "stop", "node", "#1");
    pthread_mutex_lock(&hn.mu);
    while (j.done < 3)
        pthread_cond_wait(&hn.cv, &hn.mu);
    hn.job = NULL;
    pthread_mutex_unlock(&hn.mu);
    int ok = 0, closed = 0;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(j.res[i].err, 0);
        if (j.res[i].status == 0) {
            ok++;
            cr_assert_neq(j.res[i].host[8], '2');
        } else {
            closed++;
            cr_assert_eq(j.res[i].status, CQLMQ_ECLOSED);
            cr_assert_str_eq(j.res[i].code, "connection_lost");
            cr_assert_eq(j.res[i].host[8], '2', "the host of the failed attempt is named");
            cr_assert_lt(j.res[i].at_ms - stopped, 1000, "failed at once, not at the deadline");
        }
    }
    cr_assert(ok == 2 && closed == 1, "ok %d, closed %d", ok, closed);
    for (int i = 0; i < 3; i++)
        mpk_wr_close(&j.payloads[i]);
    free(j.payloads);
    free(j.res);
    wait_topology(2, 4, 5000);
    gw_stats_t s = stats_now(NULL, NULL);
    cr_assert_eq(s.streams, 0, "no stream id leaked");
    cr_assert_eq(s.orphans, 0);
    expect_quiet();
}

Test(gw_cluster, an_idempotent_request_is_retried_on_another_host_when_its_node_dies)
{
    wait_topology(3, 6, 5000);
    CTL(5, "cmd", "fault", "action", "latency", "query", SLOW, "ms", "#1500", "node", "#1");
    spec_t sp = {.op = CQL_OP_QUERY, .query = SLOW, .timeout_ms = 8000, .idempotent = true};
    job_t j;
    memset(&j, 0, sizeof j);
    j.kind = JOB_EXEC;
    j.target = cluster;
    j.n = 3;
    j.payloads = calloc(3, sizeof *j.payloads);
    j.res = calloc(3, sizeof *j.res);
    for (int i = 0; i < 3; i++)
        encode_exec(&j.payloads[i], &sp);
    pthread_mutex_lock(&hn.mu);
    hn.job = &j;
    pthread_mutex_unlock(&hn.mu);
    cr_assert_eq(cqlmq_runtime_send(rt, driver, T_GO, NULL, 0), 0);
    usleep(300000);
    CTL(2, "cmd", "stop", "node", "#1");
    pthread_mutex_lock(&hn.mu);
    while (j.done < 3)
        pthread_cond_wait(&hn.cv, &hn.mu);
    hn.job = NULL;
    pthread_mutex_unlock(&hn.mu);
    int retried = 0;
    for (int i = 0; i < 3; i++) {
        expect_ok(&j.res[i], "idempotent");
        cr_assert_neq(j.res[i].host[8], '2');
        retried += j.res[i].attempts == 2;
    }
    cr_assert_eq(retried, 1, "the request on the stopped node ran again elsewhere");
    for (int i = 0; i < 3; i++)
        mpk_wr_close(&j.payloads[i]);
    free(j.payloads);
    free(j.res);
    gw_stats_t s = stats_now(NULL, NULL);
    cr_assert_geq(s.retries, 1);
    expect_quiet();
}

Test(gw_cluster, a_paused_node_past_the_deadline_gives_timeout_and_the_late_answer_frees_the_id)
{
    wait_topology(3, 6, 5000);
    for (int i = 0; i < 3; i++) {
        char node[8];
        snprintf(node, sizeof node, "#%d", i);
        CTL(2, "cmd", "pause", "node", node);
    }
    spec_t sp = {.op = CQL_OP_QUERY, .query = "SELECT * FROM system.local", .timeout_ms = 300};
    uint64_t t0 = gw_now_ms();
    res_t r = run1(&sp);
    uint64_t took = gw_now_ms() - t0;
    cr_assert_eq(r.err, 0, "the gateway answered, not the runtime's safety timeout");
    cr_assert_eq(r.status, CQLMQ_ETIMEOUT);
    cr_assert_str_eq(r.code, "timeout");
    cr_assert(took >= 290 && took < 600, "timeout after %lu ms", (unsigned long)took);
    gw_stats_t s = stats_now(NULL, NULL);
    cr_assert_eq(s.orphans, 1, "the id is quarantined while the node may still answer");
    cr_assert_eq(s.timeouts, 1);
    for (int i = 0; i < 3; i++) {
        char node[8];
        snprintf(node, sizeof node, "#%d", i);
        CTL(2, "cmd", "resume", "node", node);
    }
    uint64_t end = gw_now_ms() + 3000;
    do {
        s = stats_now(NULL, NULL);
        if (s.orphans == 0 && s.streams == 0)
            break;
        usleep(20000);
    } while (gw_now_ms() < end);
    cr_assert_eq(s.orphans, 0, "the late response freed the id");
    cr_assert_eq(s.streams, 0);
    query_ok("SELECT * FROM system.local");
    expect_quiet();
}

typedef struct errcase {
    const char *name;
    int32_t cql;
    const char *code;
} errcase_t;

/* The value of key in the details map (a msgpack map), as int; -1 when absent. */
static int64_t detail_int(const res_t *r, const char *key)
{
    mpk_rd_t rd;
    uint32_t n;
    mpk_rd_init(&rd, r->details, r->details_len);
    if (r->details_len == 0 || mpk_rd_map(&rd, &n) != 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        mpk_str_t k;
        int64_t v;
        cr_assert_eq(mpk_rd_str(&rd, &k), 0);
        if (mpk_str_eq(k, key)) {
            bool b;
            if (mpk_rd_bool(&rd, &b) == 0)
                return b;
            return mpk_rd_int(&rd, &v) == 0 ? v : -2;
        }
        cr_assert_eq(mpk_rd_skip(&rd), 0);
    }
    return -1;
}

static bool detail_has(const res_t *r, const char *key)
{
    mpk_rd_t rd;
    uint32_t n;
    mpk_rd_init(&rd, r->details, r->details_len);
    if (r->details_len == 0 || mpk_rd_map(&rd, &n) != 0)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        mpk_str_t k;
        cr_assert_eq(mpk_rd_str(&rd, &k), 0);
        if (mpk_str_eq(k, key))
            return true;
        cr_assert_eq(mpk_rd_skip(&rd), 0);
    }
    return false;
}

Test(gw_cluster, every_injectable_error_comes_back_with_its_code_and_details)
{
    static const errcase_t cases[] = {
        {"server_error", 0x0000, "server_error"},
        {"protocol_error", 0x000A, "protocol_error"},
        {"bad_credentials", 0x0100, "bad_credentials"},
        {"unavailable", 0x1000, "unavailable"},
        {"overloaded", 0x1001, "overloaded"},
        {"is_bootstrapping", 0x1002, "is_bootstrapping"},
        {"truncate_error", 0x1003, "truncate_error"},
        {"write_timeout", 0x1100, "write_timeout"},
        {"read_timeout", 0x1200, "read_timeout"},
        {"read_failure", 0x1300, "read_failure"},
        {"function_failure", 0x1400, "function_failure"},
        {"write_failure", 0x1500, "write_failure"},
        {"syntax_error", 0x2000, "syntax"},
        {"unauthorized", 0x2100, "unauthorized"},
        {"invalid", 0x2200, "invalid"},
        {"config_error", 0x2300, "config_error"},
        {"already_exists", 0x2400, "already_exists"},
        {"unprepared", 0x2500, "unprepared"},
    };
    wait_topology(3, 6, 5000);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const errcase_t *e = &cases[i];
        char q[96];
        snprintf(q, sizeof q, "SELECT * FROM system.local WHERE key = '%s'", e->name);
        CTL(13, "cmd", "fault", "action", "error", "error", e->name, "query", e->name, "count",
            "#1", "consistency", "QUORUM", "required", "#3", "alive", "#1", "received", "#1",
            "block_for", "#2", "data_present", "@t", "write_type", "BATCH", "keyspace", "ks");
        spec_t sp = {.op = CQL_OP_QUERY, .query = q};
        res_t r = run1(&sp);
        cr_assert_eq(r.err, 0);
        cr_assert_eq(r.status, CQLMQ_ESERVER, "%s: status %s", e->name, cqlmq_err_name(r.status));
        cr_assert_eq(r.cql_code, e->cql, "%s: cql_code 0x%x", e->name, (unsigned)r.cql_code);
        cr_assert_str_eq(r.code, e->code, "%s", e->name);
        cr_assert_eq(r.attempts, 1, "%s: a non-idempotent request is not retried", e->name);
        if (e->cql == 0x1000) {
            cr_assert_eq(detail_int(&r, "required"), 3);
            cr_assert_eq(detail_int(&r, "alive"), 1);
            cr_assert(detail_has(&r, "consistency"));
        } else if (e->cql == 0x1200) {
            cr_assert_eq(detail_int(&r, "received"), 1);
            cr_assert_eq(detail_int(&r, "block_for"), 2);
            cr_assert_eq(detail_int(&r, "data_present"), 1);
        } else if (e->cql == 0x1100) {
            cr_assert(detail_has(&r, "write_type"));
            cr_assert_eq(detail_int(&r, "block_for"), 2);
        } else if (e->cql == 0x2400) {
            cr_assert(detail_has(&r, "keyspace"));
        } else if (e->cql == 0x1400) {
            cr_assert(detail_has(&r, "arg_types"));
        } else if (e->cql == 0x2500) {
            cr_assert(detail_has(&r, "statement_id"));
        } else if (e->cql == 0x0000 || e->cql == 0x2200) {
            cr_assert_eq(r.details_len, 0, "%s has no details", e->name);
        }
    }
    expect_quiet();
}

Test(gw_cluster, retryable_errors_of_idempotent_requests_are_retried_elsewhere)
{
    wait_topology(3, 6, 5000);
    CTL(4, "cmd", "fault", "action", "error", "error", "overloaded", "query", "retry_me");
    spec_t sp = {.op = CQL_OP_QUERY, .query = "SELECT * FROM system.local WHERE key='retry_me'",
                 .idempotent = true};
    res_t r = run1(&sp);
    /* Every node is overloaded: three attempts, then the last error. */
    cr_assert_eq(r.status, CQLMQ_ESERVER);
    cr_assert_str_eq(r.code, "overloaded");
    cr_assert_eq(r.attempts, 3);
    CTL(1, "cmd", "clear");
    CTL(5, "cmd", "fault", "action", "error", "error", "read_timeout", "query", "retry_me",
        "count", "#1");
    r = run1(&sp);
    expect_ok(&r, "second attempt");
    cr_assert_eq(r.attempts, 2);
    /* Not retried: write_timeout, or a non-idempotent request. */
    CTL(5, "cmd", "fault", "action", "error", "error", "write_timeout", "query", "retry_me",
        "count", "#1");
    r = run1(&sp);
    cr_assert_str_eq(r.code, "write_timeout");
    cr_assert_eq(r.attempts, 1);
    gw_stats_t s = stats_now(NULL, NULL);
    cr_assert_eq(s.retries, 3);
    expect_quiet();
}

Test(gw_cluster, busy_at_once_when_the_in_flight_bound_is_reached)
{
    cqlmq_runtime_free(&rt); /* a gateway with a small bound instead */
    gw_cluster_config_t cfg;
    base_config(&cfg);
    cfg.max_in_flight = 4;
    gw_start(&cfg);
    wait_topology(3, 6, 5000);
    CTL(4, "cmd", "fault", "action", "latency", "query", SLOW, "ms", "#500");
    uint64_t t0 = gw_now_ms();
    spec_t sp = {.op = CQL_OP_QUERY, .query = SLOW};
    res_t *rs = run_n(&sp, 10);
    int ok = 0, busy = 0;
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(rs[i].err, 0);
        if (rs[i].status == 0) {
            ok++;
            cr_assert_geq(rs[i].at_ms - t0, 450);
        } else {
            busy++;
            cr_assert_eq(rs[i].status, CQLMQ_EBUSY);
            cr_assert_str_eq(rs[i].code, "busy");
            cr_assert_lt(rs[i].at_ms - t0, 200, "busy is answered at once");
        }
    }
    free(rs);
    cr_assert(ok == 4 && busy == 6, "ok %d busy %d", ok, busy);
    gw_stats_t s = stats_now(NULL, NULL);
    cr_assert_eq(s.busy, 6);
    expect_quiet();
}

Test(gw_cluster, busy_at_once_when_every_stream_id_is_taken)
{
    cqlmq_runtime_free(&rt);
    gw_cluster_config_t cfg;
    base_config(&cfg);
    cfg.max_streams = 2;
    cfg.pool_size = 1;
    gw_start(&cfg);
    wait_topology(3, 3, 5000);
    CTL(4, "cmd", "fault", "action", "latency", "query", SLOW, "ms", "#400");
    spec_t sp = {.op = CQL_OP_QUERY, .query = SLOW};
    res_t *rs = run_n(&sp, 9);
    int ok = 0, busy = 0;
    for (int i = 0; i < 9; i++) {
        ok += rs[i].status == 0;
        busy += rs[i].status == CQLMQ_EBUSY;
    }
    free(rs);
    cr_assert(ok == 6 && busy == 3, "3 hosts x 2 streams: ok %d busy %d", ok, busy);
    expect_quiet();
}

Test(gw_cluster, no_host_when_no_node_is_up)
{
    wait_topology(3, 6, 5000);
    for (int i = 0; i < 3; i++) {
        char node[8];
        snprintf(node, sizeof node, "#%d", i);
        CTL(2, "cmd", "stop", "node", node);
    }
    uint64_t end = gw_now_ms() + 3000;
    res_t r;
    spec_t sp = {.op = CQL_OP_QUERY, .query = "SELECT * FROM system.local"};
    do {
        r = run1(&sp);
        if (r.status == CQLMQ_ENOHOST)
            break;
        usleep(20000);
    } while (gw_now_ms() < end);
    cr_assert_eq(r.status, CQLMQ_ENOHOST);
    cr_assert_str_eq(r.code, "no_host");
    expect_quiet();
}

Test(gw_cluster, a_host_down_then_up_is_tracked_and_its_pool_reconnects)
{
    wait_topology(3, 6, 5000);
    CTL(2, "cmd", "stop", "node", "#2");
    wait_topology(2, 4, 5000);
    hview_t v[3];
    hosts_view(v);
    cr_assert(v[2].present && !v[2].up && v[2].conns == 0);
    spec_t sp = {.op = CQL_OP_QUERY, .query = "SELECT * FROM system.local"};
    res_t *rs = run_n(&sp, 12);
    for (int i = 0; i < 12; i++) {
        expect_ok(&rs[i], "while down");
        cr_assert_neq(rs[i].host[8], '3', "nothing routed to the down host");
    }
    free(rs);
    usleep(1500000); /* let the backoff grow a little */
    uint64_t t0 = gw_now_ms();
    CTL(2, "cmd", "start", "node", "#2");
    wait_topology(3, 6, 5000);
    uint64_t took = gw_now_ms() - t0;
    cr_assert_lt(took, 1000, "UP reconnects at once (%lu ms)", (unsigned long)took);
    rs = run_n(&sp, 30);
    int third = 0;
    for (int i = 0; i < 30; i++) {
        expect_ok(&rs[i], "after up");
        third += rs[i].host[8] == '3';
    }
    free(rs);
    cr_assert_eq(third, 10, "the host is back in the rotation");
    expect_quiet();
}

Test(gw_cluster, the_control_connection_moves_to_another_host_when_its_node_stops)
{
    wait_topology(3, 6, 5000);
    CTL(2, "cmd", "stop", "node", "#0"); /* the contact point */
    wait_topology(2, 4, 5000);
    /* Events still arrive through the new control connection. */
    CTL(2, "cmd", "stop", "node", "#2");
    wait_topology(1, 2, 5000);
    CTL(2, "cmd", "start", "node", "#2");
    wait_topology(2, 4, 5000);
    query_ok("SELECT * FROM system.local");
    expect_quiet();
}

Test(gw_cluster, keyspace_requests_switch_the_connection_with_use_first)
{
    wait_topology(3, 6, 5000);
    make_table();
    spec_t sp = {.op = CQL_OP_QUERY, .query = "SELECT v FROM t WHERE k = 1", .keyspace = "ks"};
    res_t *rs = run_n(&sp, 12);
    for (int i = 0; i < 12; i++) {
        expect_ok(&rs[i], "unqualified");
        cr_assert_eq(rs[i].nrows, 1);
    }
    free(rs);
    cr_assert_leq(log_count(srv.control, "QUERY", "USE \"ks\""), 6, "one USE per connection");
    spec_t bad = {.op = CQL_OP_QUERY, .query = "SELECT v FROM t", .keyspace = "nope"};
    res_t r = run1(&bad);
    cr_assert_eq(r.status, CQLMQ_ESERVER);
    cr_assert_str_eq(r.code, "invalid");
    /* The connection still serves its previous keyspace afterwards. */
    r = run1(&sp);
    expect_ok(&r, "after a failed USE");
    expect_quiet();
}

Test(gw_cluster, password_authentication_is_used_when_the_node_asks)
{
    cqlmq_runtime_free(&rt);
    srv_stop(&srv);
    srv_start(&srv, 3, "alice", "s3cret");
    gw_cluster_config_t cfg;
    base_config(&cfg);
    snprintf(cfg.user, sizeof cfg.user, "alice");
    snprintf(cfg.password, sizeof cfg.password, "s3cret");
    gw_start(&cfg);
    wait_topology(3, 6, 5000);
    query_ok("SELECT * FROM system.local");
}

Test(gw_cluster, wrong_credentials_leave_no_connection_and_requests_get_no_host)
{
    cqlmq_runtime_free(&rt);
    srv_stop(&srv);
    srv_start(&srv, 3, "alice", "s3cret");
    gw_cluster_config_t cfg;
    base_config(&cfg);
    snprintf(cfg.user, sizeof cfg.user, "alice");
    snprintf(cfg.password, sizeof cfg.password, "wrong");
    gw_start(&cfg);
    usleep(300000);
    spec_t sp = {.op = CQL_OP_QUERY, .query = "SELECT * FROM system.local"};
    res_t r = run1(&sp);
    cr_assert_eq(r.status, CQLMQ_ENOHOST);
    gw_stats_t s = stats_now(NULL, NULL);
    cr_assert_eq(s.conns, 0);
    cr_assert_not(s.control);
}

Test(gw_cluster, a_connection_that_stops_answering_heartbeats_is_closed_and_reopened)
{
    cqlmq_runtime_free(&rt);
    gw_cluster_config_t cfg;
    base_config(&cfg);
    cfg.heartbeat_ms = 150;
    cfg.heartbeat_timeout_ms = 200;
    cfg.connect_timeout_ms = 300;
    gw_start(&cfg);
    wait_topology(3, 6, 5000);
    usleep(400000); /* idle: heartbeats flow and are answered */
    gw_stats_t s = stats_now(NULL, NULL);
    cr_assert_eq(s.conns, 6, "answered heartbeats keep connections");
    CTL(2, "cmd", "pause", "node", "#2"); /* hung, not closed: only heartbeats tell */
    uint64_t t0 = gw_now_ms();
    wait_topology(2, 4, 3000);
    cr_assert_lt(gw_now_ms() - t0, 1500, "dead within heartbeat + timeout");
    CTL(2, "cmd", "resume", "node", "#2");
    wait_topology(3, 6, 5000);
    query_ok("SELECT * FROM system.local");
    expect_quiet();
}

/* ---- a fake node for the handshake's failure paths ---- */

typedef struct fake {
    int lfd, port;
    bool answer;             /* answer the first frame with a version error */
    pthread_t thread;
} fake_t;

static void *fake_run(void *arg)
{
    fake_t *f = arg;
    int fd = accept(f->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    uint8_t hdr[9];
    size_t have = 0;
    while (have < sizeof hdr) {
        ssize_t k = recv(fd, hdr + have, sizeof hdr - have, 0);
        if (k <= 0)
            break;
        have += (size_t)k;
    }
    if (f->answer && have == sizeof hdr) {
        static const char msg[] =
            "Invalid or unsupported protocol version (4); supported versions are (3/v3)";
        uint8_t out[9 + 4 + 2 + sizeof msg];
        size_t body = 4 + 2 + sizeof msg - 1;
        out[0] = 0x83; /* the node's own version, response bit */
        out[1] = 0;
        out[2] = hdr[2];
        out[3] = hdr[3];
        out[4] = CQL_OP_ERROR;
        cql_store_u32(out + 5, (uint32_t)body);
        cql_store_u32(out + 9, 0x000A);
        cql_store_u16(out + 13, (uint16_t)(sizeof msg - 1));
        memcpy(out + 15, msg, sizeof msg - 1);
        (void)send(fd, out, 9 + body, MSG_NOSIGNAL);
    }
    char sink[256];
    while (recv(fd, sink, sizeof sink, 0) > 0) /* until the gateway closes */
        ;
    close(fd);
    return NULL;
}

static void fake_start(fake_t *f, bool answer)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7F000001)};
    socklen_t len = sizeof a;
    f->answer = answer;
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(f->lfd, 4), 0);
    getsockname(f->lfd, (struct sockaddr *)&a, &len);
    f->port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(&f->thread, NULL, fake_run, f), 0);
}

static void fake_stop(fake_t *f)
{
    pthread_join(f->thread, NULL);
    close(f->lfd);
}

static gw_conn_state_t connect_to_fake(int port, uint64_t handshake_ms)
{
    gw_conn_opts_t o;
    memset(&o, 0, sizeof o);
    struct sockaddr_in *a = (struct sockaddr_in *)&o.addr;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    a->sin_addr.s_addr = htonl(0x7F000001);
    o.owner = driver;
    o.conn = 77;
    o.version = 4;
    o.handshake_timeout_ms = handshake_ms;
    pthread_mutex_lock(&hn.mu);
    nstates = 0;
    pthread_mutex_unlock(&hn.mu);
    rt_addr_t conn;
    cr_assert_eq(cqlmq_runtime_spawn(rt, 1, &gw_conn_def, &o, &conn), 0);
    pthread_mutex_lock(&hn.mu);
    while (nstates == 0)
        pthread_cond_wait(&hn.cv, &hn.mu);
    gw_conn_state_t st = last_state;
    pthread_mutex_unlock(&hn.mu);
    return st;
}

Test(gw_cluster, a_node_refusing_v4_closes_the_connection_asking_for_v3)
{
    fake_t f;
    fake_start(&f, true);
    gw_conn_state_t st = connect_to_fake(f.port, 2000);
    cr_assert_eq(st.conn, 77);
    cr_assert_eq(st.state, GW_CONN_CLOSED);
    cr_assert_eq(st.reason, CQLMQ_EBADVERSION);
    cr_assert_eq(st.version, 3, "the version to reconnect with");
    fake_stop(&f);
}

Test(gw_cluster, a_node_that_never_answers_the_handshake_times_out)
{
    fake_t f;
    fake_start(&f, false);
    uint64_t t0 = gw_now_ms();
    gw_conn_state_t st = connect_to_fake(f.port, 200);
    cr_assert_eq(st.state, GW_CONN_CLOSED);
    cr_assert_eq(st.reason, CQLMQ_ETIMEOUT);
    cr_assert_lt(gw_now_ms() - t0, 600, "the handshake deadline, not the connect one");
    fake_stop(&f);
}

Test(gw_cluster, two_thousand_concurrent_queries_all_end_once)
{
    wait_topology(3, 6, 5000);
    make_table();
    uint8_t h[GW_HANDLE_LEN];
    prepare_sel(h);
    spec_t ex = {.op = CQL_OP_EXECUTE, .handle = h, .has_value = true, .int_value = 1,
                 .timeout_ms = 10000};
    uint64_t t0 = gw_now_ms();
    res_t *rs = run_n(&ex, 2000);
    uint64_t took = gw_now_ms() - t0;
    int per[3] = {0};
    for (int i = 0; i < 2000; i++) {
        expect_ok(&rs[i], "execute");
        cr_assert_eq(rs[i].nrows, 1);
        per[rs[i].host[8] - '1']++;
    }
    free(rs);
    cr_assert(per[0] > 600 && per[1] > 600 && per[2] > 600);
    cr_log_info("2000 concurrent EXECUTEs in %lu ms (%.0f/s)", (unsigned long)took,
                took ? 2000.0 * 1000.0 / (double)took : 0.0);
    gw_stats_t s = stats_now(NULL, NULL);
    cr_assert_eq(s.streams, 0);
    expect_quiet();
}
