/*
 * Gateway over real ZeroMQ: every op, sessions, malformed input answered
 * `bad_request`, bounds answered `busy`, 1,000 requests in flight from one
 * client, 50 clients at once.
 */
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

static void setup_small(void)
{
    cqlmq_gateway_opts_t o;
    cqlmq_gateway_opts_init(&o);
    o.max_in_flight = 4;
    o.max_streams = 1;
    o.lease_ms = 400;
    gwt_start_opts(1, &o);
    gwt_wait_ready();
}

Test(gw_basic, the_in_flight_bound_answers_busy_at_once, .init = setup_small)
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
