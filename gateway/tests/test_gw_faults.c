/*
 * Faults under the gateway: a node stopped mid-request, a node paused past
 * the deadline, a stream whose node goes away. Each request gets exactly
 * one terminal reply, and nothing arrives after it.
 */
#include "gw_test.h"

static void setup(void) { gwt_start(); }
static void teardown(void) { gwt_stop(); }

TestSuite(gw_faults, .init = setup, .fini = teardown, .timeout = 60);

static void send_query(void *s, uint64_t id, const char *cql, uint32_t timeout_ms, bool stream)
{
    msg_t m;
    m_begin(&m);
    m_str(&m, "op", "query");
    m_uint(&m, "id", id);
    m_str(&m, "cql", cql);
    if (timeout_ms)
        m_uint(&m, "timeout_ms", timeout_ms);
    if (stream) {
        m_bool(&m, "stream", true);
        m_uint(&m, "page_size", 10);
        m_uint(&m, "credit", 1);
    }
    cl_send(s, &m);
}

/* Reads until the terminal reply of id; returns it; then checks silence. */
static void one_terminal(void *s, uint64_t id, rep_t *r, unsigned quiet_ms)
{
    for (;;) {
        cl_expect(s, r);
        cr_assert_eq(r->id, id);
        if (strcmp(r->op, "page") != 0)
            break;
    }
    rep_t extra;
    cr_assert_eq(cl_recv(s, &extra, (int)quiet_ms), 0, "a second reply: %s %s", extra.op,
                 extra.code);
}

Test(gw_faults, a_node_stopped_mid_request_gives_exactly_one_error)
{
    void *s = cl_new();
    cl_hello(s, 1);
    ctl_latency("slow_marker", 600);
    send_query(s, 3, "SELECT release_version FROM system.local WHERE key = 'slow_marker'", 0,
               false);
    sleep_ms(150);
    ctl_node("stop", 0);
    rep_t r;
    one_terminal(s, 3, &r, 900);
    cr_assert_str_eq(r.op, "error");
    cr_assert(strcmp(r.code, "connection_lost") == 0 || strcmp(r.code, "no_host") == 0 ||
                  strcmp(r.code, "timeout") == 0,
              "code %s (%s)", r.code, r.message);
}

Test(gw_faults, a_node_paused_past_the_deadline_gives_exactly_one_timeout)
{
    void *s = cl_new();
    cl_hello(s, 1);
    ctl_node("pause", 0);
    uint64_t t0 = (uint64_t)time(NULL);
    send_query(s, 4, "SELECT release_version FROM system.local", 300, false);
    rep_t r;
    cl_expect(s, &r);
    cr_assert_eq(r.id, 4);
    cr_assert_str_eq(r.code, "timeout", "%s %s", r.code, r.message);
    cr_assert_leq((uint64_t)time(NULL) - t0, 3, "answered near its deadline");
    ctl_node("resume", 0); /* the late answer must be dropped */
    cr_assert_eq(cl_recv(s, &r, 500), 0, "a reply after the terminal one");
    for (int i = 0; i < 100; i++) { /* the connection works again */
        cl_query(s, 5 + (uint64_t)i, "SELECT release_version FROM system.local", &r);
        if (strcmp(r.op, "result") == 0)
            return;
        sleep_ms(50);
    }
    cr_assert_fail("no result after resume");
}

Test(gw_faults, a_stream_whose_node_stops_ends_with_one_error)
{
    void *s = cl_new();
    cl_hello(s, 1);
    cl_schema(s);
    for (int i = 0; i < 50; i++) {
        char q[128];
        snprintf(q, sizeof q, "INSERT INTO ks.t (k, c, v) VALUES (0, %d, 'x')", i);
        cl_ok(s, 100 + (uint64_t)i, q);
    }
    send_query(s, 9, "SELECT * FROM ks.t WHERE k = 0", 2000, true);
    rep_t r;
    cl_expect(s, &r);
    cr_assert_str_eq(r.op, "page");
    ctl_node("stop", 0);
    msg_t m;
    m_begin(&m);
    m_str(&m, "op", "credit");
    m_uint(&m, "id", 9);
    m_uint(&m, "n", 4);
    cl_send(s, &m);
    one_terminal(s, 9, &r, 500);
    cr_assert_str_eq(r.op, "error");
}
