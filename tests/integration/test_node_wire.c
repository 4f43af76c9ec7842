/*
 * Integration: raw native-protocol frames over TCP against a cluster run
 * in-process: version negotiation, OPTIONS/STARTUP, pipelining on many
 * stream ids, oversize frames, garbage and malformed input.
 */
#include "node_test_client.h"

static test_srv_t srv;

static void setup(void)
{
    node_config_t cfg;
    node_config_init(&cfg);
    cfg.nnodes = 1;
    cfg.dcs[0].count = 1;
    cfg.max_frame = 8192;
    test_srv_start(&srv, &cfg);
    tc_reset();
}

static void teardown(void) { test_srv_stop(&srv); }

TestSuite(node_wire, .init = setup, .fini = teardown, .timeout = 30);

/* Expects ERROR protocol_error on `stream`, header version 4, containing
 * text; returns nothing. */
static void expect_protocol_error(int fd, int16_t stream, uint8_t header_version,
                                  const char *text)
{
    tc_frame_t f;
    cql_arena_t a;
    cql_msg_t m;
    cr_assert_eq(tc_read(fd, &f, 5000), 1, "an error reply");
    cr_assert_eq(f.h.version, header_version);
    cr_assert(f.h.response);
    cr_assert_eq(f.h.stream, stream);
    cr_assert_eq(f.h.opcode, CQL_OP_ERROR);
    cql_arena_init(&a, 0);
    tc_decode(&f, &a, &m);
    cr_assert_eq(m.u.error.code, CQL_ERR_PROTOCOL_ERROR);
    cr_assert(memmem(m.u.error.message.ptr, m.u.error.message.len, text, strlen(text)),
              "message \"%.*s\" lacks \"%s\"", (int)m.u.error.message.len,
              m.u.error.message.ptr, text);
    cql_arena_close(&a);
    tc_free(&f);
}

Test(node_wire, v5_is_refused_with_a_v4_header_on_the_same_stream_then_closed)
{
    int fd = tc_connect(0, srv.port);
    cr_assert_geq(fd, 0);
    uint8_t hdr[9] = {0x05, 0, 0x01, 0x23, CQL_OP_OPTIONS, 0, 0, 0, 0};
    tc_send_all(fd, hdr, sizeof hdr);
    expect_protocol_error(fd, 0x0123, 4,
                          "Invalid or unsupported protocol version (5); supported versions are "
                          "(3/v3, 4/v4)");
    cr_assert(tc_closed(fd, 5000), "closed after the refusal");
    close(fd);
}

Test(node_wire, v2_and_dse_versions_are_refused_the_same_way)
{
    int fd = tc_connect(0, srv.port);
    uint8_t v2[8] = {0x02, 0, 0x07, CQL_OP_OPTIONS, 0, 0, 0, 0}; /* 8-byte header */
    tc_send_all(fd, v2, sizeof v2);
    expect_protocol_error(fd, 7, 4, "unsupported protocol version (2)");
    cr_assert(tc_closed(fd, 5000));
    close(fd);
    tc_reset();
    fd = tc_connect(0, srv.port);
    uint8_t dse[9] = {0x42, 0, 0, 0, CQL_OP_OPTIONS, 0, 0, 0, 0};
    tc_send_all(fd, dse, sizeof dse);
    expect_protocol_error(fd, 0, 4, "unsupported protocol version (66)");
    cr_assert(tc_closed(fd, 5000));
    close(fd);
}

Test(node_wire, options_lists_cql_version_compression_and_protocol_versions)
{
    for (int v = 3; v <= 4; v++) {
        int fd = tc_connect(0, srv.port);
        cql_wr_t w;
        cql_wr_init(&w);
        tc_options(&w, v, 5);
        tc_send_all(fd, w.data, w.len);
        tc_frame_t f;
        cql_arena_t a;
        cql_msg_t m;
        cr_assert_eq(tc_read(fd, &f, 5000), 1);
        cr_assert_eq(f.h.version, v);
        cr_assert_eq(f.h.stream, 5);
        cr_assert_eq(f.h.opcode, CQL_OP_SUPPORTED);
        cql_arena_init(&a, 0);
        tc_decode(&f, &a, &m);
        bool cqlv = false, comp = false, pv = false;
        for (uint16_t i = 0; i < m.u.supported.n; i++) {
            const cql_multimap_entry_t *e = &m.u.supported.items[i];
            if (cql_str_eq(e->key, "CQL_VERSION"))
                cqlv = e->values.n == 1 && cql_str_eq(e->values.items[0], "3.4.5");
            if (cql_str_eq(e->key, "COMPRESSION"))
                comp = e->values.n == 0;
            if (cql_str_eq(e->key, "PROTOCOL_VERSIONS"))
                pv = e->values.n == 2 && cql_str_eq(e->values.items[0], "3/v3") &&
                     cql_str_eq(e->values.items[1], "4/v4");
        }
        cr_assert(cqlv && comp && pv);
        cql_arena_close(&a);
        tc_free(&f);
        cql_wr_close(&w);
        close(fd);
        tc_reset();
    }
}

Test(node_wire, startup_gives_ready_and_options_still_works_afterwards)
{
    int fd = tc_connect(0, srv.port);
    cql_wr_t w;
    cql_wr_init(&w);
    tc_query(&w, 4, 9, "SELECT key FROM system.local");
    tc_send_all(fd, w.data, w.len);
    expect_protocol_error(fd, 9, 4, "expecting STARTUP");
    tc_startup(fd, 4);
    cql_wr_reset(&w);
    tc_options(&w, 4, 3);
    tc_send_all(fd, w.data, w.len);
    tc_frame_t f;
    cr_assert_eq(tc_read(fd, &f, 5000), 1);
    cr_assert_eq(f.h.opcode, CQL_OP_SUPPORTED);
    tc_free(&f);
    cql_wr_close(&w);
    close(fd);
}

Test(node_wire, a_thousand_pipelined_requests_come_back_in_order_on_their_streams)
{
    int fd = tc_connect(0, srv.port);
    tc_startup(fd, 4);
    cql_wr_t w;
    cql_wr_init(&w);
    for (int i = 0; i < 1000; i++) {
        int16_t stream = (int16_t)((i * 97 + 3) % 32768);
        if (i % 2)
            tc_options(&w, 4, stream);
        else
            tc_query(&w, 4, stream, "SELECT key, cluster_name FROM system.local");
    }
    tc_send_all(fd, w.data, w.len); /* all at once: pipelined */
    for (int i = 0; i < 1000; i++) {
        tc_frame_t f;
        cr_assert_eq(tc_read(fd, &f, 5000), 1, "reply %d", i);
        cr_assert_eq(f.h.stream, (int16_t)((i * 97 + 3) % 32768), "reply %d in order", i);
        cr_assert_eq(f.h.opcode, i % 2 ? CQL_OP_SUPPORTED : CQL_OP_RESULT);
        tc_free(&f);
    }
    cql_wr_close(&w);
    close(fd);
}

Test(node_wire, the_highest_stream_id_is_echoed)
{
    int fd = tc_connect(0, srv.port);
    cql_wr_t w;
    cql_wr_init(&w);
    tc_options(&w, 4, 32767);
    tc_send_all(fd, w.data, w.len);
    tc_frame_t f;
    cr_assert_eq(tc_read(fd, &f, 5000), 1);
    cr_assert_eq(f.h.stream, 32767);
    tc_free(&f);
    cql_wr_close(&w);
    close(fd);
}

Test(node_wire, an_oversize_frame_gets_a_protocol_error_and_is_skipped)
{
    int fd = tc_connect(0, srv.port);
    tc_startup(fd, 4);
    static uint8_t body[20000];
    memset(body, 'x', sizeof body);
    tc_send_raw(fd, 4, 11, CQL_OP_QUERY, body, sizeof body);
    expect_protocol_error(fd, 11, 4, "too big");
    cql_wr_t w;
    cql_wr_init(&w);
    tc_options(&w, 4, 12);
    tc_send_all(fd, w.data, w.len);
    tc_frame_t f;
    cr_assert_eq(tc_read(fd, &f, 5000), 1, "the connection still works");
    cr_assert_eq(f.h.stream, 12);
    cr_assert_eq(f.h.opcode, CQL_OP_SUPPORTED);
    tc_free(&f);
    cql_wr_close(&w);
    close(fd);
}

Test(node_wire, garbage_bytes_get_a_protocol_error_then_close)
{
    int fd = tc_connect(0, srv.port);
    const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    tc_send_all(fd, http, sizeof http - 1);
    expect_protocol_error(fd, (int16_t)('T' << 8 | ' '), 4, "unsupported protocol version (71)");
    cr_assert(tc_closed(fd, 5000));
    close(fd);
}

Test(node_wire, unknown_opcode_and_malformed_bodies_keep_the_connection)
{
    int fd = tc_connect(0, srv.port);
    tc_startup(fd, 4);
    tc_send_raw(fd, 4, 20, 0x04, NULL, 0); /* no opcode 0x04 */
    expect_protocol_error(fd, 20, 4, "Unknown opcode");
    uint8_t trunc[] = {0, 0, 0, 50, 'S', 'E'}; /* long string of 50, 2 bytes */
    tc_send_raw(fd, 4, 21, CQL_OP_QUERY, trunc, sizeof trunc);
    expect_protocol_error(fd, 21, 4, "Invalid QUERY message");
    uint8_t neg[] = {0xff, 0xff, 0xff, 0xfe}; /* negative long string length */
    tc_send_raw(fd, 4, 22, CQL_OP_QUERY, neg, sizeof neg);
    expect_protocol_error(fd, 22, 4, "Invalid QUERY message");
    cql_wr_t w;
    cql_wr_init(&w);
    tc_options(&w, 4, 23);
    tc_send_all(fd, w.data, w.len);
    tc_frame_t f;
    cr_assert_eq(tc_read(fd, &f, 5000), 1);
    cr_assert_eq(f.h.opcode, CQL_OP_SUPPORTED);
    tc_free(&f);
    cql_wr_close(&w);
    close(fd);
}

Test(node_wire, a_response_frame_from_a_client_is_refused)
{
    int fd = tc_connect(0, srv.port);
    uint8_t hdr[9] = {0x84, 0, 0, 1, CQL_OP_READY, 0, 0, 0, 0};
    tc_send_all(fd, hdr, sizeof hdr);
    expect_protocol_error(fd, 1, 4, "direction");
    cr_assert(tc_closed(fd, 5000));
    close(fd);
}

Test(node_wire, changing_version_on_a_connection_is_refused)
{
    int fd = tc_connect(0, srv.port);
    cql_wr_t w;
    cql_wr_init(&w);
    tc_options(&w, 4, 1);
    tc_options(&w, 3, 2);
    tc_send_all(fd, w.data, w.len);
    tc_frame_t f;
    cr_assert_eq(tc_read(fd, &f, 5000), 1);
    cr_assert_eq(f.h.opcode, CQL_OP_SUPPORTED);
    tc_free(&f);
    expect_protocol_error(fd, 2, 4, "Got 3 but previous messages");
    cr_assert(tc_closed(fd, 5000));
    cql_wr_close(&w);
    close(fd);
}

Test(node_wire, startup_without_cql_version_or_with_compression_is_refused)
{
    int fd = tc_connect(0, srv.port);
    cql_string_pair_t opts[2] = {{{"CQL_VERSION", 11}, {"3.0.0", 5}},
                                 {{"COMPRESSION", 11}, {"lz4", 3}}};
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_STARTUP;
    m.u.startup.n = 0;
    tc_send_msg(fd, 4, 1, &m);
    expect_protocol_error(fd, 1, 4, "Missing value CQL_VERSION");
    m.u.startup.n = 2;
    m.u.startup.items = opts;
    tc_send_msg(fd, 4, 2, &m);
    expect_protocol_error(fd, 2, 4, "compression");
    tc_startup(fd, 4);
    close(fd);
}

Test(node_wire, two_hundred_connections_are_served_at_once)
{
    enum { N = 200 };
    int fds[N];
    cql_string_pair_t opt = {{"CQL_VERSION", 11}, {"3.0.0", 5}};
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_STARTUP;
    m.u.startup.n = 1;
    m.u.startup.items = &opt;
    for (int i = 0; i < N; i++) {
        fds[i] = tc_connect(0, srv.port);
        cr_assert_geq(fds[i], 0, "connection %d", i);
        tc_send_msg(fds[i], 4, (int16_t)i, &m); /* all before any reply is read */
    }
    for (int i = 0; i < N; i++) {
        tc_frame_t f;
        tc_reset();
        cr_assert_eq(tc_read(fds[i], &f, 5000), 1, "reply on connection %d", i);
        cr_assert_eq(f.h.opcode, CQL_OP_READY);
        cr_assert_eq(f.h.stream, i);
        tc_free(&f);
        close(fds[i]);
    }
}
