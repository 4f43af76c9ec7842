/*
 * Integration: a 3-node cluster in-process, driven through its ZeroMQ
 * control socket: node stop/start with STATUS_CHANGE events to registered
 * connections only, topology changes (add_node / remove_node with
 * TOPOLOGY_CHANGE events and the peers tables), paused reads, latency
 * (out-of-order replies), injected errors, close-after-N-frames, and the
 * PasswordAuthenticator.
 */
#include "node_test_client.h"

#include <stdarg.h>
#include <stdlib.h>

#include "cql_result.h"

static test_srv_t srv;

static void setup(void)
{
    node_config_t cfg;
    node_config_init(&cfg);
    cfg.nnodes = 3;
    cfg.dcs[0].count = 3;
    test_srv_start(&srv, &cfg);
    tc_reset();
}

static void teardown(void) { test_srv_stop(&srv); }

TestSuite(node_cluster, .init = setup, .fini = teardown, .timeout = 30);

static void send_register(int fd, const char *type)
{
    cql_str_t t = {type, strlen(type)};
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_REGISTER;
    m.u.register_events.n = 1;
    m.u.register_events.items = &t;
    tc_send_msg(fd, 4, 2, &m);
    tc_frame_t f;
    cr_assert_eq(tc_read(fd, &f, 5000), 1);
    cr_assert_eq(f.h.opcode, CQL_OP_READY);
    tc_free(&f);
}

static void expect_status_event(int fd, const char *change, int node)
{
    tc_frame_t f;
    cql_arena_t a;
    cql_msg_t m;
    cr_assert_eq(tc_read(fd, &f, 5000), 1, "a %s event", change);
    cr_assert_eq(f.h.stream, -1);
    cr_assert_eq(f.h.opcode, CQL_OP_EVENT);
    cql_arena_init(&a, 0);
    tc_decode(&f, &a, &m);
    cr_assert_eq(m.u.event.type, CQL_EVENT_STATUS_CHANGE);
    cr_assert_str_eq(cql_status_change_name(m.u.event.change), change);
    cr_assert_eq(m.u.event.addr.size, 4);
    cr_assert_eq(m.u.event.addr.addr[0], 127);
    cr_assert_eq(m.u.event.addr.addr[3], node + 1);
    cr_assert_eq(m.u.event.addr.port, srv.port);
    cql_arena_close(&a);
    tc_free(&f);
}

Test(node_cluster, stopping_a_node_closes_it_and_tells_registered_connections)
{
    int a = tc_connect(0, srv.port), b = tc_connect(1, srv.port);
    cr_assert(a >= 0 && b >= 0);
    tc_startup(a, 4);
    send_register(a, "STATUS_CHANGE");
    tc_startup(b, 4);
    cr_assert(tc_control(srv.control, "stop", "node", 1, NULL, 0));
    expect_status_event(a, "DOWN", 1);
    cr_assert(tc_closed(b, 5000), "the stopped node's connections are closed");
    close(b);
    cr_assert_lt(tc_connect(1, srv.port), 0, "nothing listens on a stopped node");
    cr_assert(tc_control(srv.control, "start", "node", 1, NULL, 0));
    expect_status_event(a, "UP", 1);
    b = tc_connect(1, srv.port);
    cr_assert_geq(b, 0, "the node listens again");
    close(b);
    close(a);
}

Test(node_cluster, events_go_only_to_connections_registered_for_their_type)
{
    int a = tc_connect(0, srv.port);
    tc_startup(a, 4);
    send_register(a, "SCHEMA_CHANGE");
    cr_assert(tc_control(srv.control, "stop", "node", 2, NULL, 0));
    tc_frame_t f;
    cr_assert_eq(tc_read(a, &f, 300), -1, "no STATUS_CHANGE for a SCHEMA_CHANGE listener");
    cr_assert(tc_control(srv.control, "start", "node", 2, NULL, 0));
    close(a);
}

Test(node_cluster, a_paused_node_reads_nothing_until_resumed)
{
    int fd = tc_connect(0, srv.port);
    tc_startup(fd, 4);
    cr_assert(tc_control(srv.control, "pause", "node", 0, NULL, 0));
    cql_wr_t w;
    cql_wr_init(&w);
    tc_options(&w, 4, 7);
    tc_send_all(fd, w.data, w.len);
    tc_frame_t f;
    cr_assert_eq(tc_read(fd, &f, 300), -1, "no reply while paused");
    cr_assert(tc_control(srv.control, "resume", "node", 0, NULL, 0));
    cr_assert_eq(tc_read(fd, &f, 5000), 1);
    cr_assert_eq(f.h.stream, 7);
    tc_free(&f);
    cql_wr_close(&w);
    close(fd);
}

/* {"cmd":"fault","action":action,"opcode":opcode, extra string pair} */
static uint32_t add_fault(const char *action, const char *opcode, const char *k, const char *v,
                          const char *ik, int64_t iv)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_map(&w, 3u + (k != NULL) + (ik != NULL));
    mpk_wr_cstr(&w, "cmd");
    mpk_wr_cstr(&w, "fault");
    mpk_wr_cstr(&w, "action");
    mpk_wr_cstr(&w, action);
    mpk_wr_cstr(&w, "opcode");
    mpk_wr_cstr(&w, opcode);
    if (k) {
        mpk_wr_cstr(&w, k);
        mpk_wr_cstr(&w, v);
    }
    if (ik) {
        mpk_wr_cstr(&w, ik);
        mpk_wr_int(&w, iv);
    }
    cr_assert(tc_control_send(srv.control, &w));
    mpk_wr_close(&w);
    return 0;
}

Test(node_cluster, latency_lets_a_later_reply_overtake_a_delayed_one)
{
    int fd = tc_connect(0, srv.port);
    tc_startup(fd, 4);
    add_fault("latency", "QUERY", NULL, NULL, "ms", 300);
    cql_wr_t w;
    cql_wr_init(&w);
    tc_query(&w, 4, 1, "SELECT key FROM system.local");
    tc_options(&w, 4, 2);
    tc_send_all(fd, w.data, w.len);
    tc_frame_t f;
    cr_assert_eq(tc_read(fd, &f, 5000), 1);
    cr_assert_eq(f.h.stream, 2, "OPTIONS first");
    tc_free(&f);
    cr_assert_eq(tc_read(fd, &f, 5000), 1);
    cr_assert_eq(f.h.stream, 1, "then the delayed QUERY");
    cr_assert_eq(f.h.opcode, CQL_OP_RESULT);
    tc_free(&f);
    cql_wr_close(&w);
    close(fd);
}

Test(node_cluster, an_injected_error_carries_its_details)
{
    int fd = tc_connect(0, srv.port);
    tc_startup(fd, 4);
    add_fault("error", "OPTIONS", "error", "unavailable", "alive", 1);
    cql_wr_t w;
    cql_wr_init(&w);
    tc_options(&w, 4, 4);
    tc_send_all(fd, w.data, w.len);
    tc_frame_t f;
    cql_arena_t a;
    cql_msg_t m;
    cr_assert_eq(tc_read(fd, &f, 5000), 1);
    cr_assert_eq(f.h.opcode, CQL_OP_ERROR);
    cql_arena_init(&a, 0);
    tc_decode(&f, &a, &m);
    cr_assert_eq(m.u.error.code, CQL_ERR_UNAVAILABLE);
    cr_assert_eq(m.u.error.alive, 1);
    cr_assert_eq(m.u.error.consistency, CQL_CL_ONE);
    cql_arena_close(&a);
    tc_free(&f);
    cql_wr_close(&w);
    close(fd);
}

Test(node_cluster, close_after_answers_n_frames_then_closes)
{
    int fd = tc_connect(2, srv.port);
    tc_startup(fd, 4);
    cr_assert(tc_control(srv.control, "close_after", "frames", 2, "node", 2));
    cql_wr_t w;
    cql_wr_init(&w);
    for (int i = 0; i < 3; i++)
        tc_options(&w, 4, (int16_t)(10 + i));
    tc_send_all(fd, w.data, w.len);
    for (int i = 0; i < 2; i++) {
        tc_frame_t f;
        cr_assert_eq(tc_read(fd, &f, 5000), 1);
        cr_assert_eq(f.h.stream, 10 + i);
        tc_free(&f);
    }
    cr_assert(tc_closed(fd, 5000), "closed at the third frame");
    cql_wr_close(&w);
    close(fd);
}

Test(node_cluster, control_commands_report_errors_instead_of_crashing)
{
    cr_assert_not(tc_control(srv.control, "stop", "node", 9, NULL, 0));
    cr_assert_not(tc_control(srv.control, "no_such_command", NULL, 0, NULL, 0));
    cr_assert_not(tc_control(srv.control, "unfault", "id", 12345, NULL, 0));
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_raw(&w, "\xdd\x0f\xff\xff\xff", 5); /* array of 268M items: a bomb */
    cr_assert_not(tc_control_send(srv.control, &w));
    mpk_wr_close(&w);
    cr_assert(tc_control(srv.control, "ping", NULL, 0, NULL, 0));
    cr_assert(tc_control(srv.control, "clear", NULL, 0, NULL, 0));
}

Test(node_cluster, password_authenticator_checks_sasl_plain_credentials)
{
    test_srv_t a;
    node_config_t cfg;
    node_config_init(&cfg);
    snprintf(cfg.users[0].user, sizeof cfg.users[0].user, "alice");
    snprintf(cfg.users[0].password, sizeof cfg.users[0].password, "s3cret");
    cfg.nusers = 1;
    test_srv_start(&a, &cfg);
    int fd = tc_connect(0, a.port);
    cql_string_pair_t opt = {{"CQL_VERSION", 11}, {"3.0.0", 5}};
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_STARTUP;
    m.u.startup.n = 1;
    m.u.startup.items = &opt;
    tc_send_msg(fd, 4, 1, &m);
    tc_frame_t f;
    cql_arena_t ar;
    cql_msg_t r;
    cql_arena_init(&ar, 0);
    cr_assert_eq(tc_read(fd, &f, 5000), 1);
    cr_assert_eq(f.h.opcode, CQL_OP_AUTHENTICATE);
    tc_decode(&f, &ar, &r);
    cr_assert(cql_str_eq(r.u.authenticator, "org.apache.cassandra.auth.PasswordAuthenticator"));
    tc_free(&f);
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_AUTH_RESPONSE;
    m.u.token = (cql_bytes_t){(const uint8_t *)"\0alice\0wrong", 12};
    tc_send_msg(fd, 4, 2, &m);
    cr_assert_eq(tc_read(fd, &f, 5000), 1);
    cr_assert_eq(f.h.opcode, CQL_OP_ERROR);
    tc_decode(&f, &ar, &r);
    cr_assert_eq(r.u.error.code, CQL_ERR_BAD_CREDENTIALS);
    tc_free(&f);
    m.u.token = (cql_bytes_t){(const uint8_t *)"\0alice\0s3cret", 13};
    tc_send_msg(fd, 4, 3, &m);
    cr_assert_eq(tc_read(fd, &f, 5000), 1);
    cr_assert_eq(f.h.opcode, CQL_OP_AUTH_SUCCESS);
    tc_free(&f);
    cql_arena_close(&ar);
    close(fd);
    test_srv_stop(&a);
}

/* ---- topology changes ---- */

/* A control reply: ok, the "node" field (-1 when absent) and "error". */
typedef struct ctl_reply {
    bool ok;
    int64_t node;
    char error[256];
} ctl_reply_t;

/* Sends {"cmd": cmd, key: value...} (NULL-terminated key list; a value
 * "i:N" is an integer, anything else a string) and parses the reply. */
static ctl_reply_t control(const char *cmd, ...)
{
    const char *kv[16];
    int n = 0;
    va_list ap;
    va_start(ap, cmd);
    while (n < 16 && (kv[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    cr_assert_eq(n % 2, 0);
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_map(&w, 1u + (uint32_t)n / 2);
    mpk_wr_cstr(&w, "cmd");
    mpk_wr_cstr(&w, cmd);
    for (int k = 0; k < n; k += 2) {
        mpk_wr_cstr(&w, kv[k]);
        if (strncmp(kv[k + 1], "i:", 2) == 0)
            mpk_wr_int(&w, strtoll(kv[k + 1] + 2, NULL, 10));
        else
            mpk_wr_cstr(&w, kv[k + 1]);
    }
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_REQ);
    int zero = 0, tmo = 5000;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    cr_assert_eq(zmq_connect(s, srv.control), 0);
    cr_assert_geq(zmq_send(s, w.data, w.len, 0), 0);
    static uint8_t buf[16384];
    int got = zmq_recv(s, buf, sizeof buf, 0);
    cr_assert_gt(got, 0, "one reply to %s", cmd);
    cr_assert_leq(got, (int)sizeof buf);
    zmq_close(s);
    zmq_ctx_term(ctx);
    mpk_wr_close(&w);

    ctl_reply_t r = {.ok = false, .node = -1, .error = ""};
    mpk_rd_t rd;
    uint32_t cnt;
    mpk_rd_init(&rd, buf, (size_t)got);
    cr_assert_eq(mpk_rd_map(&rd, &cnt), 0);
    for (uint32_t i = 0; i < cnt; i++) {
        mpk_str_t k, v;
        cr_assert_eq(mpk_rd_str(&rd, &k), 0);
        if (mpk_str_eq(k, "ok")) {
            cr_assert_eq(mpk_rd_bool(&rd, &r.ok), 0);
        } else if (mpk_str_eq(k, "node")) {
            cr_assert_eq(mpk_rd_int(&rd, &r.node), 0);
        } else if (mpk_str_eq(k, "error")) {
            cr_assert_eq(mpk_rd_str(&rd, &v), 0);
            snprintf(r.error, sizeof r.error, "%.*s", (int)v.len, v.ptr);
        } else {
            cr_assert_eq(mpk_rd_skip(&rd), 0);
        }
    }
    cr_assert(mpk_rd_done(&rd));
    return r;
}

static void expect_topology_event(int fd, const char *change, int node)
{
    tc_frame_t f;
    cql_arena_t a;
    cql_msg_t m;
    cr_assert_eq(tc_read(fd, &f, 5000), 1, "a %s event", change);
    cr_assert_eq(f.h.stream, -1);
    cr_assert_eq(f.h.opcode, CQL_OP_EVENT);
    cql_arena_init(&a, 0);
    tc_decode(&f, &a, &m);
    cr_assert_eq(m.u.event.type, CQL_EVENT_TOPOLOGY_CHANGE);
    cr_assert_str_eq(cql_topology_change_name(m.u.event.change), change);
    cr_assert_eq(m.u.event.addr.size, 4);
    cr_assert_eq(m.u.event.addr.addr[0], 127);
    cr_assert_eq(m.u.event.addr.addr[1], 0);
    cr_assert_eq(m.u.event.addr.addr[2], 0);
    cr_assert_eq(m.u.event.addr.addr[3], node + 1, "the address of node %d", node);
    cr_assert_eq(m.u.event.addr.port, srv.port);
    cql_arena_close(&a);
    tc_free(&f);
}

static void expect_silence(int fd, const char *why)
{
    tc_frame_t f;
    int rc = tc_read(fd, &f, 300);
    if (rc == 1)
        tc_free(&f);
    cr_assert_eq(rc, -1, "%s", why);
}

/* Runs `SELECT <col> FROM <table>` on fd (one inet column) and returns
 * the set of last address octets as a bit mask (bit k: 127.0.0.k). */
static uint64_t inets_of(int fd, const char *col, const char *table)
{
    char q[128];
    snprintf(q, sizeof q, "SELECT %s FROM %s", col, table);
    cql_wr_t w;
    cql_wr_init(&w);
    tc_query(&w, 4, 9, q);
    tc_send_all(fd, w.data, w.len);
    cql_wr_close(&w);
    tc_frame_t f;
    cql_arena_t a;
    cql_msg_t m;
    cr_assert_eq(tc_read(fd, &f, 5000), 1);
    cr_assert_eq(f.h.stream, 9);
    cr_assert_eq(f.h.opcode, CQL_OP_RESULT, "%s", q);
    cql_arena_init(&a, 0);
    tc_decode(&f, &a, &m);
    cr_assert_eq(m.u.result.kind, CQL_RESULT_ROWS);
    cr_assert_eq(m.u.result.u.rows.meta.ncols, 1);
    cql_rows_iter_t it;
    cql_bytes_t cell;
    uint64_t mask = 0;
    cql_rows_iter_init(&it, &m.u.result.u.rows);
    int rc;
    while ((rc = cql_rows_next(&it, &cell)) == 1) {
        cr_assert_eq(cell.len, 4);
        cr_assert_eq(cell.ptr[0], 127);
        cr_assert_eq(mask & (1ull << cell.ptr[3]), 0, "listed once");
        mask |= 1ull << cell.ptr[3];
    }
    cr_assert_eq(rc, 0);
    cql_arena_close(&a);
    tc_free(&f);
    return mask;
}

#define OCT(k) (1ull << (k))

/* A connection to node, READY (and registered for `events` unless NULL). */
static int ready_conn(int node, int version, const char *events)
{
    int fd = tc_connect(node, srv.port);
    cr_assert_geq(fd, 0, "connect to node %d", node);
    tc_startup(fd, version);
    if (events) {
        cql_str_t t = {events, strlen(events)};
        cql_msg_t m;
        memset(&m, 0, sizeof m);
        m.opcode = CQL_OP_REGISTER;
        m.u.register_events.n = 1;
        m.u.register_events.items = &t;
        tc_send_msg(fd, version, 2, &m);
        tc_frame_t f;
        cr_assert_eq(tc_read(fd, &f, 5000), 1);
        cr_assert_eq(f.h.opcode, CQL_OP_READY);
        tc_free(&f);
    }
    return fd;
}

Test(node_cluster, an_added_node_is_announced_to_registered_connections_and_listed_as_a_peer)
{
    int topo4 = ready_conn(0, 4, "TOPOLOGY_CHANGE");
    int topo3 = ready_conn(2, 3, "TOPOLOGY_CHANGE");
    int status = ready_conn(1, 4, "STATUS_CHANGE");
    int plain = ready_conn(1, 4, NULL);
    cr_assert_eq(inets_of(topo4, "peer", "system.peers"), OCT(2) | OCT(3));

    ctl_reply_t r = control("add_node", NULL);
    cr_assert(r.ok, "add_node: %s", r.error);
    cr_assert_eq(r.node, 3, "the next index");
    expect_topology_event(topo4, "NEW_NODE", 3);
    expect_topology_event(topo3, "NEW_NODE", 3);
    expect_silence(status, "no TOPOLOGY_CHANGE for a STATUS_CHANGE listener");
    expect_silence(plain, "no event on an unregistered connection");

    cr_assert_eq(inets_of(topo4, "peer", "system.peers"), OCT(2) | OCT(3) | OCT(4));
    cr_assert_eq(inets_of(topo4, "native_address", "system.peers_v2"),
                 OCT(2) | OCT(3) | OCT(4));
    cr_assert_eq(inets_of(plain, "rpc_address", "system.peers"), OCT(1) | OCT(3) | OCT(4));

    int fresh = ready_conn(3, 4, NULL); /* the new node listens */
    cr_assert_eq(inets_of(fresh, "rpc_address", "system.local"), OCT(4));
    cr_assert_eq(inets_of(fresh, "peer", "system.peers"), OCT(1) | OCT(2) | OCT(3));
    cr_assert(tc_control(srv.control, "stop", "node", 3, NULL, 0), "the new node is a node");
    cr_assert(tc_closed(fresh, 5000));
    cr_assert(tc_control(srv.control, "start", "node", 3, NULL, 0));
    close(fresh);
    close(plain);
    close(status);
    close(topo3);
    close(topo4);
}

Test(node_cluster, a_removed_node_is_closed_announced_and_gone_from_the_peers)
{
    int topo = ready_conn(0, 4, "TOPOLOGY_CHANGE");
    int victim = ready_conn(1, 4, "TOPOLOGY_CHANGE");
    int plain = ready_conn(2, 4, NULL);

    ctl_reply_t r = control("remove_node", "node", "i:1", NULL);
    cr_assert(r.ok, "remove_node: %s", r.error);
    expect_topology_event(topo, "REMOVED_NODE", 1);
    cr_assert(tc_closed(victim, 5000), "the removed node's connections are closed");
    tc_reset();
    close(victim);
    expect_silence(plain, "no event on an unregistered connection");
    cr_assert_lt(tc_connect(1, srv.port), 0, "nothing listens on a removed node");
    cr_assert_eq(inets_of(topo, "peer", "system.peers"), OCT(3));
    cr_assert_eq(inets_of(topo, "peer", "system.peers_v2"), OCT(3));
    cr_assert_eq(inets_of(plain, "peer", "system.peers"), OCT(1));

    r = control("stop", "node", "i:1", NULL);
    cr_assert_not(r.ok, "a removed node cannot be stopped");
    cr_assert(strstr(r.error, "no node 1") && strstr(r.error, "0, 2"), "%s", r.error);
    cr_assert_not(control("remove_node", "node", "i:1", NULL).ok, "nor removed twice");
    cr_assert(control("clear", NULL).ok, "clear does not bring it back");
    cr_assert_lt(tc_connect(1, srv.port), 0);

    r = control("add_node", "dc", "datacenter1", "rack", "rack2", NULL);
    cr_assert(r.ok, "add_node: %s", r.error);
    cr_assert_eq(r.node, 1, "the free index is reused");
    expect_topology_event(topo, "NEW_NODE", 1);
    cr_assert_eq(inets_of(topo, "peer", "system.peers"), OCT(2) | OCT(3));
    victim = ready_conn(1, 4, NULL);
    cr_assert_eq(inets_of(victim, "peer", "system.peers"), OCT(1) | OCT(3));
    close(victim);
    close(plain);
    close(topo);
}

Test(node_cluster, a_stopped_node_can_be_removed_and_its_pending_down_is_dropped)
{
    int fd = ready_conn(0, 4, "TOPOLOGY_CHANGE");
    /* STATUS_CHANGE too, on the same connection */
    cql_str_t t = {"STATUS_CHANGE", 13};
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_REGISTER;
    m.u.register_events.n = 1;
    m.u.register_events.items = &t;
    tc_send_msg(fd, 4, 3, &m);
    tc_frame_t f;
    cr_assert_eq(tc_read(fd, &f, 5000), 1);
    cr_assert_eq(f.h.opcode, CQL_OP_READY);
    tc_free(&f);
    cr_assert(control("stop", "node", "i:2", NULL).ok);
    cr_assert(control("remove_node", "node", "i:2", NULL).ok, "before its DOWN went out");
    expect_topology_event(fd, "REMOVED_NODE", 2);
    expect_silence(fd, "no late DOWN for a node that left");
    close(fd);
}

Test(node_cluster, topology_commands_refuse_bad_arguments_and_keep_the_limits)
{
    ctl_reply_t r;
    r = control("remove_node", NULL);
    cr_assert_not(r.ok);
    cr_assert(strstr(r.error, "\"node\""), "%s", r.error);
    cr_assert_not(control("remove_node", "node", "i:-1", NULL).ok);
    cr_assert_not(control("remove_node", "node", "i:64", NULL).ok);
    cr_assert_not(control("remove_node", "node", "i:3", NULL).ok);
    cr_assert_not(control("remove_node", "node", "one", NULL).ok, "a string node");
    r = control("add_node", "dc", "no spaces", NULL);
    cr_assert_not(r.ok);
    cr_assert(strstr(r.error, "dc"), "%s", r.error);
    cr_assert_not(control("add_node", "rack", "", NULL).ok);
    cr_assert_not(control("add_node", "dc", "i:5", NULL).ok, "a number is no name");
    cr_assert_not(control("add_node", "rack",
                          "r123456789012345678901234567890123456789012345678", NULL)
                      .ok,
                  "49 characters");
    r = control("status", NULL);
    cr_assert(r.ok);

    cr_assert(control("remove_node", "node", "i:2", NULL).ok);
    cr_assert(control("remove_node", "node", "i:0", NULL).ok);
    r = control("remove_node", "node", "i:1", NULL);
    cr_assert_not(r.ok, "the last node stays");
    cr_assert(strstr(r.error, "last"), "%s", r.error);
    int fd = ready_conn(1, 4, NULL);
    cr_assert_eq(inets_of(fd, "peer", "system.peers"), 0, "a cluster of one");
    close(fd);

    for (int k = 1; k < NODE_MAX_NODES; k++) {
        r = control("add_node", NULL);
        cr_assert(r.ok, "add %d: %s", k, r.error);
    }
    r = control("add_node", NULL);
    cr_assert_not(r.ok, "no 65th node");
    cr_assert(strstr(r.error, "64"), "%s", r.error);
    fd = ready_conn(NODE_MAX_NODES - 1, 4, NULL); /* 127.0.0.64 */
    cr_assert_eq(__builtin_popcountll(inets_of(fd, "peer", "system.peers")), 63);
    close(fd);
    cr_assert(control("ping", NULL).ok);
}
