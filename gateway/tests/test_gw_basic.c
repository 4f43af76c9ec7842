/*
 * Gateway over real ZeroMQ: every op, sessions, malformed input answered
 * `bad_request`, bounds answered `busy`, 1,000 requests in flight from one
 * client, 50 clients at once, handles prepared by one client used with
 * params by another.
 */
#include <pthread.h>

#include "cqlmq/runtime.h"
#include "gw_msgs.h"
#include "gw_test.h"

static void setup(void) { gwt_start(); }
static void teardown(void) { gwt_stop(); }

TestSuite(gw_basic, .init = setup, .fini = teardown, .timeout = 60);

Test(gw_basic, a_request_before_hello_is_unknown_session_and_hello_fixes_it)
{
    void *s = cl_new();
    rep_t r;
    msg_t m;
    m_begin(&m);
    m_str(&m, "op", "ping");
    m_uint(&m, "id", 7);
    cl_send(s, &m);
    cl_expect(s, &r);
    cr_assert_str_eq(r.op, "error");
    cr_assert_str_eq(r.code, "unknown_session");
    cr_assert_eq(r.id, 7);
    cl_query(s, 8, "SELECT * FROM system.local", &r);
    cr_assert_str_eq(r.code, "unknown_session");
    cl_hello(s, 9);
    m_begin(&m);
    m_str(&m, "op", "ping");
    m_uint(&m, "id", 10);
    cl_send(s, &m);
    cl_expect(s, &r);
    cr_assert_str_eq(r.op, "pong");
    cr_assert_eq(r.id, 10);
}

Test(gw_basic, hello_with_another_protocol_is_unsupported_version)
{
    void *s = cl_new();
    msg_t m;
    m_begin(&m);
    m_str(&m, "op", "hello");
    m_uint(&m, "id", 1);
    m_uint(&m, "protocol", 2);
    cl_send(s, &m);
    rep_t r;
    cl_expect(s, &r);
    cr_assert_str_eq(r.code, "unsupported_version");
}

Test(gw_basic, every_operation_gets_its_reply)
{
    void *s = cl_new();
    cl_hello(s, 1);
    cl_schema(s);
    rep_t r;
    msg_t m;

    /* query with params (positional), then by name */
    m_begin(&m);
    m_str(&m, "op", "query");
    m_uint(&m, "id", 2);
    m_str(&m, "cql", "INSERT INTO ks.t (k, c, v) VALUES (?, ?, ?)");
    mpk_wr_t *w = m_val(&m, "params");
    mpk_wr_array(w, 3);
    mpk_wr_int(w, 1);
    mpk_wr_int(w, 1);
    mpk_wr_cstr(w, "one");
    cl_send(s, &m);
    cl_expect(s, &r);
    cr_assert_str_eq(r.kind, "void", "%s %s", r.code, r.message);

    /* prepare, execute by handle with named params, then without */
    m_begin(&m);
    m_str(&m, "op", "prepare");
    m_uint(&m, "id", 3);
    m_str(&m, "cql", "INSERT INTO ks.t (k, c, v) VALUES (?, ?, ?)");
    cl_send(s, &m);
    cl_expect(s, &r);
    cr_assert_str_eq(r.op, "prepared", "%s %s", r.code, r.message);
    cr_assert_eq(r.handle_len, 16);
    uint8_t h[16];
    memcpy(h, r.handle, 16);
    m_begin(&m);
    m_str(&m, "op", "execute");
    m_uint(&m, "id", 4);
    m_bin(&m, "handle", h, 16);
    w = m_val(&m, "params");
    mpk_wr_map(w, 3);
    mpk_wr_cstr(w, "k");
    mpk_wr_int(w, 1);
    mpk_wr_cstr(w, "c");
    mpk_wr_int(w, 2);
    mpk_wr_cstr(w, "v");
    mpk_wr_cstr(w, "two");
    m_str(&m, "consistency", "quorum");
    m_bool(&m, "idempotent", true);
    m_uint(&m, "timeout_ms", 5000);
    cl_send(s, &m);
    cl_expect(s, &r);
    cr_assert_str_eq(r.kind, "void", "%s %s", r.code, r.message);

    /* batch: text, text with params, handle with params */
    m_begin(&m);
    m_str(&m, "op", "batch");
    m_uint(&m, "id", 5);
    m_str(&m, "kind", "logged");
    w = m_val(&m, "statements");
    mpk_wr_array(w, 3);
    mpk_wr_map(w, 1);
    mpk_wr_cstr(w, "cql");
    mpk_wr_cstr(w, "INSERT INTO ks.t (k, c, v) VALUES (1, 3, 'three')");
    mpk_wr_map(w, 2);
    mpk_wr_cstr(w, "cql");
    mpk_wr_cstr(w, "INSERT INTO ks.t (k, c, v) VALUES (?, ?, ?)");
    mpk_wr_cstr(w, "params");
    mpk_wr_array(w, 3);
    mpk_wr_int(w, 1);
    mpk_wr_int(w, 4);
    mpk_wr_cstr(w, "four");
    mpk_wr_map(w, 2);
    mpk_wr_cstr(w, "handle");
    mpk_wr_bin(w, h, 16);
    mpk_wr_cstr(w, "params");
    mpk_wr_array(w, 3);
    mpk_wr_int(w, 1);
    mpk_wr_int(w, 5);
    mpk_wr_cstr(w, "five");
    cl_send(s, &m);
    cl_expect(s, &r);
    cr_assert_str_eq(r.kind, "void", "batch: %s %s", r.code, r.message);

    /* USE sets the session's keyspace; unqualified names work after it */
    cl_query(s, 6, "USE ks", &r);
    cr_assert_str_eq(r.kind, "set_keyspace");
    cl_query(s, 7, "SELECT k, c, v FROM t WHERE k = 1", &r);
    cr_assert_str_eq(r.kind, "rows");
    cr_assert_eq(r.nrows, 5);
    cr_assert(r.has_columns);

    /* paging: page_size 2 gives a paging_state */
    m_begin(&m);
    m_str(&m, "op", "query");
    m_uint(&m, "id", 8);
    m_str(&m, "cql", "SELECT * FROM ks.t");
    m_uint(&m, "page_size", 2);
    cl_send(s, &m);
    cl_expect(s, &r);
    cr_assert_eq(r.nrows, 2);
    cr_assert(r.has_paging_state);

    /* stats */
    m_begin(&m);
    m_str(&m, "op", "stats");
    m_uint(&m, "id", 9);
    cl_send(s, &m);
    cl_expect(s, &r);
    cr_assert_str_eq(r.op, "stats");
    cr_assert_geq(r.st[ST_REQUESTS], 8);
    cr_assert_eq(r.st[ST_IN_FLIGHT], 0);
    cr_assert_geq(r.st[ST_SESSIONS], 1);
    cr_assert_eq(r.st[ST_HOSTS_UP], 1);

    /* Cassandra's errors come through with their code */
    cl_query(s, 10, "SELEC nonsense", &r);
    cr_assert_str_eq(r.code, "syntax");
    cl_query(s, 11, "SELECT * FROM ks.nope", &r);
    cr_assert_str_eq(r.code, "invalid");
}

Test(gw_basic, params_the_types_refuse_are_invalid_and_unknown_handles_unprepared)
{
    void *s = cl_new();
    cl_hello(s, 1);
    cl_schema(s);
    msg_t m;
    rep_t r;
    m_begin(&m);
    m_str(&m, "op", "query");
    m_uint(&m, "id", 2);
    m_str(&m, "cql", "INSERT INTO ks.t (k, c, v) VALUES (?, ?, ?)");
    mpk_wr_t *w = m_val(&m, "params");
    mpk_wr_array(w, 3);
    mpk_wr_cstr(w, "not an int");
    mpk_wr_int(w, 1);
    mpk_wr_cstr(w, "x");
    cl_send(s, &m);
    cl_expect(s, &r);
    cr_assert_str_eq(r.code, "invalid");
    cr_assert_eq(r.id, 2);

    m_begin(&m);
    m_str(&m, "op", "execute");
    m_uint(&m, "id", 3);
    m_bin(&m, "handle", "0123456789abcdef", 16);
    w = m_val(&m, "params");
    mpk_wr_array(w, 1);
    mpk_wr_int(w, 1);
    cl_send(s, &m);
    cl_expect(s, &r);
    cr_assert_str_eq(r.code, "unprepared");
}

/* ---- a handle prepared by another client ---- */

/* The cluster actor's exec count (GW_MSG_STATS `requests`), read by a
 * small actor of the test's own on the gateway's runtime: how many
 * requests the sessions sent it. One spy per call; the runtime's end
 * frees them. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    uint64_t requests;
    rt_addr_t cluster;
} spy = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0, 0};

static void spy_on_stats(rt_actor_t *self, const rt_msg_t *reply, int err, void *ud)
{
    (void)self;
    (void)ud;
    pthread_mutex_lock(&spy.mu);
    gw_stats_t st;
    mpk_rd_t rd;
    spy.requests = UINT64_MAX;
    if (err == 0) {
        mpk_rd_init(&rd, reply->data, reply->len);
        if (gw_stats_decode(&rd, &st) == 0)
            spy.requests = st.requests;
    }
    spy.done = true;
    pthread_cond_broadcast(&spy.cv);
    pthread_mutex_unlock(&spy.mu);
}

static void spy_on_go(rt_actor_t *self, const rt_msg_t *msg)
{
    (void)msg;
    (void)rt_request_begin(self, spy.cluster, GW_MSG_STATS);
    if (rt_request_end(self, 5000, spy_on_stats, NULL, NULL) != 0)
        spy_on_stats(self, NULL, CQLMQ_EIO, NULL);
}

static const rt_handler_cb spy_handlers[2] = {[1] = spy_on_go};
static const rt_actor_def_t spy_def = {.name = "test_spy", .handlers = spy_handlers,
                                       .nhandlers = 2};

static uint64_t cluster_requests(void)
{
    rt_addr_t a;
    spy.cluster = cqlmq_gateway_cluster(T.gw);
    cr_assert_eq(cqlmq_runtime_spawn(T.rt, 0, &spy_def, NULL, &a), 0);
    pthread_mutex_lock(&spy.mu);
    spy.done = false;
    pthread_mutex_unlock(&spy.mu);
    cr_assert_eq(cqlmq_runtime_send(T.rt, a, 1, NULL, 0), 0);
    pthread_mutex_lock(&spy.mu);
    while (!spy.done)
        pthread_cond_wait(&spy.cv, &spy.mu);
    uint64_t n = spy.requests;
    pthread_mutex_unlock(&spy.mu);
    cr_assert_neq(n, UINT64_MAX, "the cluster's stats");
    return n;
}

#define INS "INSERT INTO ks.t (k, c, v) VALUES (?, ?, ?)"

static void cl_prepare(void *s, uint64_t id, const char *cql, uint8_t handle[16])
{
    msg_t m;
    m_begin(&m);
    m_str(&m, "op", "prepare");
    m_uint(&m, "id", id);
    m_str(&m, "cql", cql);
    cl_send(s, &m);
    rep_t r;
    cl_expect(s, &r);
    cr_assert_str_eq(r.op, "prepared", "%s: %s %s", cql, r.code, r.message);
    cr_assert_eq(r.handle_len, 16);
    memcpy(handle, r.handle, 16);
}

/* Sends an execute of INS's handle (any length) with params [k, c, v]. */
static void send_exec_ins(void *s, uint64_t id, const uint8_t *h, size_t hlen, int k, int c,
                          const char *v)
{
    msg_t m;
    m_begin(&m);
    m_str(&m, "op", "execute");
    m_uint(&m, "id", id);
    m_bin(&m, "handle", h, hlen);
    mpk_wr_t *w = m_val(&m, "params");
    mpk_wr_array(w, 3);
    mpk_wr_int(w, k);
    mpk_wr_int(w, c);
    mpk_wr_cstr(w, v);
    cl_send(s, &m);
}

/* Rows of ks.t with key k. */
static int64_t rows_of(void *s, uint64_t id, int k)
{
    char q[96];
    snprintf(q, sizeof q, "SELECT c FROM ks.t WHERE k = %d", k);
    rep_t r;
    cl_query(s, id, q, &r);
    cr_assert_str_eq(r.kind, "rows", "%s %s", r.code, r.message);
    return r.nrows;
}

Test(gw_basic, a_handle_prepared_by_one_client_executes_with_params_from_another)
{
    void *a = cl_new(), *b = cl_new();
    cl_hello(a, 1);
    cl_hello(b, 1);
    cl_schema(a);
    uint8_t ins[16], sel[16];
    cl_prepare(a, 2, INS, ins);
    cl_prepare(a, 3, "SELECT c, v FROM ks.t WHERE k = ?", sel);
    /* B's session never saw either handle: it asks the cluster's cache. */
    rep_t r;
    send_exec_ins(b, 10, ins, 16, 7, 1, "seven");
    cl_expect(b, &r);
    cr_assert_eq(r.id, 10);
    cr_assert_str_eq(r.kind, "void", "%s %s", r.code, r.message);
    msg_t m;
    m_begin(&m);
    m_str(&m, "op", "execute");
    m_uint(&m, "id", 11);
    m_bin(&m, "handle", sel, 16);
    mpk_wr_t *w = m_val(&m, "params");
    mpk_wr_map(w, 1); /* by name: the names come with the metadata too */
    mpk_wr_cstr(w, "k");
    mpk_wr_int(w, 7);
    cl_send(b, &m);
    cl_expect(b, &r);
    cr_assert_eq(r.id, 11);
    cr_assert_str_eq(r.kind, "rows", "%s %s", r.code, r.message);
    cr_assert_eq(r.nrows, 1);
    cr_assert_eq(r.first_int, 1);
    cr_assert(r.has_columns);
    /* Types still checked with metadata B did not prepare itself. */
    m_begin(&m);
    m_str(&m, "op", "execute");
    m_uint(&m, "id", 12);
    m_bin(&m, "handle", ins, 16);
    w = m_val(&m, "params");
    mpk_wr_array(w, 3);
    mpk_wr_cstr(w, "not an int");
    mpk_wr_int(w, 1);
    mpk_wr_cstr(w, "x");
    cl_send(b, &m);
    cl_expect(b, &r);
    cr_assert_str_eq(r.code, "invalid");
    /* Now from B's own cache; A sees B's writes. */
    send_exec_ins(b, 13, ins, 16, 7, 2, "eight");
    cl_expect(b, &r);
    cr_assert_str_eq(r.kind, "void", "%s %s", r.code, r.message);
    cr_assert_eq(rows_of(a, 4, 7), 2);
}

Test(gw_basic, concurrent_executes_of_a_handle_new_to_the_session_share_one_lookup)
{
    void *a = cl_new(), *b = cl_new();
    cl_hello(a, 1);
    cl_hello(b, 1);
    cl_schema(a);
    uint8_t ins[16];
    cl_prepare(a, 2, INS, ins);
    enum { N = 20 };
    uint64_t before = cluster_requests();
    for (int i = 0; i < N; i++)
        send_exec_ins(b, 100 + (uint64_t)i, ins, 16, 9, i, "x");
    bool seen[N] = {false};
    for (int i = 0; i < N; i++) {
        rep_t r;
        cl_expect(b, &r);
        cr_assert_str_eq(r.kind, "void", "%s %s", r.code, r.message);
        cr_assert(r.id >= 100 && r.id < 100 + N);
        cr_assert_not(seen[r.id - 100], "one terminal reply per id");
        seen[r.id - 100] = true;
    }
    uint64_t after = cluster_requests();
    cr_assert_eq(after - before, N + 1, "one lookup then %d executes, not %lu requests", N,
                 (unsigned long)(after - before));
    cr_assert_eq(rows_of(a, 3, 9), N);
}

static void batch_stmt_handle(mpk_wr_t *w, const uint8_t *h, size_t hlen, int k, int c)
{
    mpk_wr_map(w, 2);
    mpk_wr_cstr(w, "handle");
    mpk_wr_bin(w, h, hlen);
    mpk_wr_cstr(w, "params");
    mpk_wr_array(w, 3);
    mpk_wr_int(w, k);
    mpk_wr_int(w, c);
    mpk_wr_cstr(w, "b");
}

Test(gw_basic, a_batch_by_handle_from_another_client_runs_with_one_lookup)
{
    void *a = cl_new(), *b = cl_new();
    cl_hello(a, 1);
    cl_hello(b, 1);
    cl_schema(a);
    uint8_t ins[16];
    cl_prepare(a, 2, INS, ins);
    uint64_t before = cluster_requests();
    msg_t m;
    m_begin(&m);
    m_str(&m, "op", "batch");
    m_uint(&m, "id", 20);
    m_str(&m, "kind", "logged");
    mpk_wr_t *w = m_val(&m, "statements");
    mpk_wr_array(w, 3);
    batch_stmt_handle(w, ins, 16, 8, 1);
    batch_stmt_handle(w, ins, 16, 8, 2); /* the same handle twice */
    mpk_wr_map(w, 1);
    mpk_wr_cstr(w, "cql");
    mpk_wr_cstr(w, "INSERT INTO ks.t (k, c, v) VALUES (8, 3, 'c')");
    cl_send(b, &m);
    rep_t r;
    cl_expect(b, &r);
    cr_assert_eq(r.id, 20);
    cr_assert_str_eq(r.kind, "void", "batch: %s %s", r.code, r.message);
    uint64_t after = cluster_requests();
    cr_assert_eq(after - before, 2, "one lookup for both statements, then the batch: %lu",
                 (unsigned long)(after - before));
    cr_assert_eq(rows_of(a, 3, 8), 3);
}

Test(gw_basic, unknown_handles_in_a_batch_or_execute_are_unprepared_and_nothing_runs)
{
    void *a = cl_new(), *b = cl_new();
    cl_hello(a, 1);
    cl_hello(b, 1);
    cl_schema(a);
    uint8_t ins[16];
    cl_prepare(a, 2, INS, ins);
    static const uint8_t bogus[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    uint8_t longer[17];
    memcpy(longer, ins, 16);
    longer[16] = 0;
    const struct {
        const uint8_t *h;
        size_t len;
    } cases[] = {{bogus, 16}, {ins, 3}, {longer, 17}};
    rep_t r;
    for (uint64_t i = 0; i < 3; i++) {
        msg_t m;
        m_begin(&m);
        m_str(&m, "op", "batch");
        m_uint(&m, "id", 30 + i);
        m_str(&m, "kind", "logged");
        mpk_wr_t *w = m_val(&m, "statements");
        mpk_wr_array(w, 2);
        batch_stmt_handle(w, ins, 16, 10, 1); /* a good one beside it */
        batch_stmt_handle(w, cases[i].h, cases[i].len, 10, 2);
        cl_send(b, &m);
        cl_expect(b, &r);
        cr_assert_eq(r.id, 30 + i);
        cr_assert_str_eq(r.code, "unprepared", "case %d: %s %s", (int)i, r.op, r.code);
        send_exec_ins(b, 40 + i, cases[i].h, cases[i].len, 10, 3, "x");
        cl_expect(b, &r);
        cr_assert_eq(r.id, 40 + i);
        cr_assert_str_eq(r.code, "unprepared", "case %d: %s %s", (int)i, r.op, r.code);
    }
    cr_assert_eq(cl_recv(b, &r, 100), 0, "nothing more");
    cr_assert_eq(rows_of(a, 3, 10), 0, "no statement of a failed batch ran");
}

/* Sends raw bytes, expects bad_request with the given id. */
static void expect_bad(void *s, const void *p, size_t n, uint64_t id)
{
    cl_send_raw(s, p, n);
    rep_t r;
    cl_expect(s, &r);
    cr_assert_str_eq(r.op, "error");
    cr_assert_str_eq(r.code, "bad_request", "got %s (%s)", r.code, r.message);
    cr_assert_eq(r.id, id);
}

Test(gw_basic, malformed_input_is_answered_bad_request_and_the_session_goes_on)
{
    void *s = cl_new();
    cl_hello(s, 1);
    /* not msgpack at all */
    expect_bad(s, "\xc1\xc1\xc1", 3, 0);
    /* not a map */
    expect_bad(s, "\x93\x01\x02\x03", 4, 0);
    /* bomb: an array header claiming 268 million items */
    expect_bad(s, "\x81\xa2op\xdd\x0f\xff\xff\xff", 9, 0);
    /* a map claiming 4 billion pairs */
    expect_bad(s, "\xdf\xff\xff\xff\xff\xa2op", 8, 0);
    /* empty frame */
    expect_bad(s, "", 0, 0);
    /* unknown op (id known) */
    msg_t m;
    m_begin(&m);
    m_str(&m, "op", "qurey");
    m_uint(&m, "id", 5);
    m_end(&m);
    expect_bad(s, m.w.data, m.w.len, 5);
    mpk_wr_close(&m.w);
    /* wrong type */
    m_begin(&m);
    m_str(&m, "op", "query");
    m_uint(&m, "id", 6);
    m_uint(&m, "cql", 42);
    m_end(&m);
    expect_bad(s, m.w.data, m.w.len, 6);
    mpk_wr_close(&m.w);
    /* missing field */
    m_begin(&m);
    m_str(&m, "op", "query");
    m_uint(&m, "id", 7);
    m_end(&m);
    expect_bad(s, m.w.data, m.w.len, 7);
    mpk_wr_close(&m.w);
    /* multi-frame */
    m_begin(&m);
    m_str(&m, "op", "ping");
    m_uint(&m, "id", 8);
    m_end(&m);
    cr_assert_geq(zmq_send(s, m.w.data, m.w.len, ZMQ_SNDMORE), 0);
    expect_bad(s, "x", 1, 8);
    mpk_wr_close(&m.w);
    /* oversize, but within what the socket still reads */
    size_t big = (4u << 20) + 100;
    uint8_t *p = calloc(1, big);
    m_begin(&m);
    m_str(&m, "op", "query");
    m_uint(&m, "id", 9);
    m_key(&m, "cql");
    mpk_wr_str_hdr(&m.w, (uint32_t)(big - 40));
    m_end(&m);
    memcpy(p, m.w.data, m.w.len);
    memset(p + m.w.len, 'a', big - 40);
    expect_bad(s, p, m.w.len + big - 40, 9);
    mpk_wr_close(&m.w);
    free(p);
    /* still alive */
    m_begin(&m);
    m_str(&m, "op", "ping");
    m_uint(&m, "id", 10);
    cl_send(s, &m);
    rep_t r;
    cl_expect(s, &r);
    cr_assert_str_eq(r.op, "pong");
}

static void send_query(void *s, uint64_t id, const char *cql)
{
    msg_t m;
    m_begin(&m);
    m_str(&m, "op", "query");
    m_uint(&m, "id", id);
    m_str(&m, "cql", cql);
    cl_send(s, &m);
}

Test(gw_basic, an_id_already_in_flight_is_bad_request_and_the_first_goes_on)
{
    void *s = cl_new();
    cl_hello(s, 1);
    ctl_latency("slow_marker", 300);
    send_query(s, 5, "SELECT release_version FROM system.local WHERE key = 'slow_marker'");
    send_query(s, 5, "SELECT release_version FROM system.local");
    rep_t r;
    cl_expect(s, &r);
    cr_assert_str_eq(r.code, "bad_request");
    cr_assert_eq(r.id, 5);
    cl_expect(s, &r);
    cr_assert_str_eq(r.op, "result", "%s %s", r.code, r.message);
    cr_assert_eq(r.id, 5);
    cr_assert_eq(cl_recv(s, &r, 200), 0, "nothing more");
}

Test(gw_basic, a_thousand_requests_in_flight_from_one_client_all_end_once)
{
    void *s = cl_new();
    cl_hello(s, 1);
    enum { N = 1000 };
    static uint8_t seen[N + 1];
    for (uint64_t i = 1; i <= N; i++)
        send_query(s, 1000 + i, "SELECT release_version FROM system.local");
    for (int i = 0; i < N; i++) {
        rep_t r;
        cl_expect(s, &r);
        cr_assert_str_eq(r.op, "result", "%s %s", r.code, r.message);
        cr_assert(r.id > 1000 && r.id <= 1000 + N);
        cr_assert_eq(seen[r.id - 1000]++, 0, "one terminal reply per id");
    }
    rep_t r;
    cr_assert_eq(cl_recv(s, &r, 100), 0);
}

Test(gw_basic, fifty_clients_at_once)
{
    enum { C = 50, PER = 20 };
    void *s[C];
    for (int i = 0; i < C; i++) {
        s[i] = cl_new();
        cl_hello(s[i], 1);
    }
    for (int k = 0; k < PER; k++)
        for (int i = 0; i < C; i++)
            send_query(s[i], 10 + (uint64_t)k, "SELECT release_version FROM system.local");
    for (int i = 0; i < C; i++) {
        for (int k = 0; k < PER; k++) {
            rep_t r;
            cl_expect(s[i], &r);
            cr_assert_str_eq(r.op, "result");
        }
    }
    msg_t m;
    m_begin(&m);
    m_str(&m, "op", "stats");
    m_uint(&m, "id", 99);
    cl_send(s[0], &m);
    rep_t r;
    cl_expect(s[0], &r);
    cr_assert_geq(r.st[ST_SESSIONS], C);
}

/* ---- small bounds ---- */

/* Small limits, with a lease of lease_ms. */
static void start_small(unsigned lease_ms)
{
    cqlmq_gateway_opts_t o;
    cqlmq_gateway_opts_init(&o);
    o.max_in_flight = 4;
    o.max_streams = 1;
    o.lease_ms = lease_ms;
    gwt_start_opts(1, &o);
    gwt_wait_ready();
}

/* A short lease, for the test of the lease itself. */
static void setup_small(void) { start_small(400); }

/* A lease far longer than the 400 ms the slow queries take: a client that
 * waits in silence longer than its lease loses its session, and with it
 * its requests (docs/protocol.md section 4), which is not what the limit
 * tests are about. */
static void setup_small_limits(void) { start_small(10000); }

Test(gw_basic, the_in_flight_bound_answers_busy_at_once, .init = setup_small_limits)
{
    void *s = cl_new();
    cl_hello(s, 1);
    ctl_latency("slow_marker", 400);
    for (uint64_t i = 1; i <= 5; i++)
        send_query(s, 10 + i, "SELECT release_version FROM system.local WHERE key = 'slow_marker'");
    rep_t r;
    cl_expect(s, &r);
    cr_assert_str_eq(r.code, "busy");
    cr_assert_eq(r.id, 15);
    for (int i = 0; i < 4; i++) {
        cl_expect(s, &r);
        cr_assert_str_eq(r.op, "result");
    }
}

Test(gw_basic, a_silent_session_expires_after_its_lease, .init = setup_small)
{
    void *s = cl_new();
    cl_hello(s, 1);
    sleep_ms(900);
    msg_t m;
    m_begin(&m);
    m_str(&m, "op", "ping");
    m_uint(&m, "id", 2);
    cl_send(s, &m);
    rep_t r;
    cl_expect(s, &r);
    cr_assert_str_eq(r.code, "unknown_session");
    /* pings inside the lease keep it */
    cl_hello(s, 3);
    for (int i = 0; i < 6; i++) {
        sleep_ms(150);
        m_begin(&m);
        m_str(&m, "op", "ping");
        m_uint(&m, "id", 4 + (uint64_t)i);
        cl_send(s, &m);
        cl_expect(s, &r);
        cr_assert_str_eq(r.op, "pong", "ping %d: %s %s", i, r.code, r.message);
    }
}
