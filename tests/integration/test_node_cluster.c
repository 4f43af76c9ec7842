/*
 * Integration: a 3-node cluster in-process, driven through its ZeroMQ
 * control socket: node stop/start with STATUS_CHANGE events to registered
 * connections only, paused reads, latency (out-of-order replies), injected
 * errors, close-after-N-frames, and the PasswordAuthenticator.
 */
#include "node_test_client.h"

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
