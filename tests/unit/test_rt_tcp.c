/*
 * TCP helpers on a loop: writes of one turn leave in one uv_write, the
 * queue size is visible, reads feed a streaming msgpack decoder (also one
 * byte at a time), connect fails with ECONNREFUSED or ETIMEOUT, input beyond
 * max_input closes with ETOOBIG, and a connection closed inside its own
 * callback closes once, later.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cqlmq/runtime.h"

#define NVALUES 100

typedef struct tstate {
    cqlmq_runtime_t *rt;
    int port;
    size_t queued_after_writes;
    uint64_t client_next, server_frames, server_writes, client_writes;
    int client_close, server_close, closes, connect_status;
    int frame_err;
    bool never_consume;
} tstate_t;

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", port, &a);
    return a;
}

static void closed(tstate_t *st)
{
    if (++st->closes == 2)
        cqlmq_runtime_stop(st->rt);
}

/* ---- server: echo each msgpack value back ---- */

static long srv_data(rt_tcp_t *t, const uint8_t *p, size_t n, void *ud)
{
    tstate_t *st = ud;
    size_t off = 0, len;
    if (st->never_consume)
        return 0;
    for (;;) {
        int rc = mpk_frame(p + off, n - off, 1 << 20, &len);
        if (rc == CQLMQ_ETRUNCATED)
            break;
        if (rc != 0) {
            st->frame_err = rc;
            return rc;
        }
        st->server_frames++;
        if (rt_tcp_write(t, p + off, len) != 0)
            return CQLMQ_EIO;
        off += len;
    }
    st->server_writes = rt_tcp_uv_writes(t);
    return (long)off;
}

static void srv_close(rt_tcp_t *t, int reason, void *ud)
{
    tstate_t *st = ud;
    st->server_close = reason;
    st->server_writes = rt_tcp_uv_writes(t);
    closed(st);
}

static const rt_tcp_cbs_t srv_cbs = {NULL, srv_data, srv_close};

static const rt_tcp_cbs_t *srv_accept(rt_tcp_listener_t *l, rt_tcp_t *t, void *lud, void **ud)
{
    *ud = lud;
    return &srv_cbs;
}

/* ---- client ---- */

static void cli_connect(rt_tcp_t *t, int status, void *ud)
{
    tstate_t *st = ud;
    st->connect_status = status;
    if (status != 0)
        return;
    size_t total = 0;
    mpk_wr_t w;
    mpk_wr_init(&w);
    for (uint64_t i = 0; i < NVALUES; i++) {
        mpk_wr_reset(&w);
        mpk_wr_array(&w, 2);
        mpk_wr_uint(&w, i * 1000);
        mpk_wr_cstr(&w, "some text in every value");
        rt_tcp_write(t, w.data, w.len);
        total += w.len;
    }
    uint8_t *big = malloc(8192);
    mpk_wr_reset(&w);
    mpk_wr_bin_hdr(&w, 8192 - 3);
    memcpy(big, w.data, w.len);
    memset(big + w.len, 'z', 8192 - w.len);
    rt_tcp_write_owned(t, &big, 8192); /* handed over without a copy */
    total += 8192;
    mpk_wr_close(&w);
    st->queued_after_writes = rt_tcp_queued(t) == total ? total : 0;
}

static long cli_data(rt_tcp_t *t, const uint8_t *p, size_t n, void *ud)
{
    tstate_t *st = ud;
    size_t off = 0, len;
    while (mpk_frame(p + off, n - off, 1 << 20, &len) == 0) {
        mpk_rd_t r;
        uint32_t cnt;
        uint64_t v;
        mpk_rd_init(&r, p + off, len);
        if (st->client_next < NVALUES) {
            if (mpk_rd_array(&r, &cnt) != 0 || mpk_rd_uint(&r, &v) != 0 ||
                v != st->client_next * 1000)
                st->frame_err = CQLMQ_EMALFORMED;
        }
        off += len;
        if (++st->client_next == NVALUES + 1) {
            st->client_writes = rt_tcp_uv_writes(t);
            rt_tcp_close(t, 0); /* inside our own callback: deferred */
            rt_tcp_close(t, CQLMQ_EIO); /* idempotent */
            break;
        }
    }
    return (long)off;
}

static void cli_close(rt_tcp_t *t, int reason, void *ud)
{
    tstate_t *st = ud;
    st->client_close = reason;
    closed(st);
}

static const rt_tcp_cbs_t cli_cbs = {cli_connect, cli_data, cli_close};

static void start_server(cqlmq_runtime_t **rt, tstate_t *st, const rt_tcp_opts_t *opts)
{
    rt_tcp_listener_t *l;
    struct sockaddr_in a = loopback(0);
    memset(st, 0, sizeof *st);
    cr_assert_eq(cqlmq_runtime_new(NULL, rt), 0);
    st->rt = *rt;
    cr_assert_eq(rt_tcp_listen(cqlmq_runtime_loop(*rt, 0), (struct sockaddr *)&a, opts,
                               srv_accept, st, &l, &st->port), 0);
    cr_assert_gt(st->port, 0);
}

Test(rt_tcp, writes_of_a_turn_are_coalesced_and_echoed_in_order)
{
    cqlmq_runtime_t *rt;
    static tstate_t st;
    rt_tcp_t *t;
    start_server(&rt, &st, NULL);
    struct sockaddr_in a = loopback(st.port);
    cr_assert_eq(rt_tcp_connect(cqlmq_runtime_loop(rt, 0), (struct sockaddr *)&a, NULL, &cli_cbs,
                                &st, &t), 0);
    cr_assert_eq(cqlmq_runtime_start(rt), 0);
    cr_assert_eq(cqlmq_runtime_join(rt), 0);
    cqlmq_runtime_free(&rt);
    cr_assert_eq(st.connect_status, 0);
    cr_assert_gt(st.queued_after_writes, 0, "queue size counts every queued byte");
    cr_assert_eq(st.frame_err, 0);
    cr_assert_eq(st.client_next, NVALUES + 1);
    cr_assert_eq(st.server_frames, NVALUES + 1);
    cr_assert_eq(st.client_writes, 1, "101 writes in one turn, one uv_write");
    cr_assert_lt(st.server_writes, 10);
    cr_assert_eq(st.client_close, 0);
    cr_assert_eq(st.server_close, CQLMQ_ECLOSED);
}

/* ---- one byte at a time ---- */

typedef struct trickle {
    int port;
    mpk_wr_t w;
} trickle_t;

static void *trickle_main(void *arg)
{
    trickle_t *tr = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = loopback(tr->port);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
        for (size_t i = 0; i < tr->w.len; i++) {
            if (send(fd, tr->w.data + i, 1, MSG_NOSIGNAL) != 1)
                break;
            if (i % 8 == 0)
                usleep(100);
        }
    close(fd);
    return NULL;
}

Test(rt_tcp, the_streaming_decoder_assembles_values_fed_byte_by_byte)
{
    cqlmq_runtime_t *rt;
    static tstate_t st;
    static trickle_t tr;
    pthread_t th;
    start_server(&rt, &st, NULL);
    tr.port = st.port;
    mpk_wr_init(&tr.w);
    for (int i = 0; i < 40; i++) {
        mpk_wr_map(&tr.w, 2);
        mpk_wr_cstr(&tr.w, "n");
        mpk_wr_int(&tr.w, -i * 100000);
        mpk_wr_cstr(&tr.w, "s");
        mpk_wr_cstr(&tr.w, "a string longer than thirty-one bytes");
    }
    st.closes = 1; /* only the server side counts here */
    cr_assert_eq(cqlmq_runtime_start(rt), 0);
    pthread_create(&th, NULL, trickle_main, &tr);
    cr_assert_eq(cqlmq_runtime_join(rt), 0);
    pthread_join(th, NULL);
    cqlmq_runtime_free(&rt);
    mpk_wr_close(&tr.w);
    cr_assert_eq(st.server_frames, 40);
    cr_assert_eq(st.frame_err, 0);
    cr_assert(st.server_close == CQLMQ_ECLOSED || st.server_close == CQLMQ_ECONNRESET);
}

/* ---- failures ---- */

static void fail_connect(rt_tcp_t *t, int status, void *ud)
{
    ((tstate_t *)ud)->connect_status = status;
}

static void fail_close(rt_tcp_t *t, int reason, void *ud)
{
    tstate_t *st = ud;
    st->client_close = reason;
    cqlmq_runtime_stop(st->rt);
}

static const rt_tcp_cbs_t fail_cbs = {fail_connect, NULL, fail_close};

static void connect_and_wait(tstate_t *st, int port, uint64_t timeout_ms)
{
    cqlmq_runtime_t *rt;
    rt_tcp_t *t;
    rt_tcp_opts_t o = {.connect_timeout_ms = timeout_ms};
    struct sockaddr_in a = loopback(port);
    memset(st, 0, sizeof *st);
    st->connect_status = 1;
    cr_assert_eq(cqlmq_runtime_new(NULL, &rt), 0);
    st->rt = rt;
    cr_assert_eq(rt_tcp_connect(cqlmq_runtime_loop(rt, 0), (struct sockaddr *)&a, &o, &fail_cbs,
                                st, &t), 0);
    cr_assert_eq(cqlmq_runtime_start(rt), 0);
    cr_assert_eq(cqlmq_runtime_join(rt), 0);
    cqlmq_runtime_free(&rt);
}

static int bound_port(int fd)
{
    struct sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    return ntohs(a.sin_port);
}

Test(rt_tcp, connecting_to_a_closed_port_is_refused)
{
    static tstate_t st;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = bound_port(fd);
    close(fd);
    connect_and_wait(&st, port, 5000);
    cr_assert_eq(st.connect_status, CQLMQ_ECONNREFUSED);
    cr_assert_eq(st.client_close, CQLMQ_ECONNREFUSED);
}

Test(rt_tcp, connecting_to_a_silent_peer_times_out)
{
    static tstate_t st;
    /* A listener with a full accept queue drops further SYNs. */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int port = bound_port(lfd);
    cr_assert_eq(listen(lfd, 0), 0);
    int c1 = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback(port);
    cr_assert_eq(connect(c1, (struct sockaddr *)&a, sizeof a), 0);
    usleep(10000);
    connect_and_wait(&st, port, 200);
    close(c1);
    close(lfd);
    cr_assert_eq(st.connect_status, CQLMQ_ETIMEOUT);
    cr_assert_eq(st.client_close, CQLMQ_ETIMEOUT);
}

Test(rt_tcp, input_beyond_max_input_closes_with_toobig)
{
    cqlmq_runtime_t *rt;
    static tstate_t st;
    static trickle_t tr;
    pthread_t th;
    rt_tcp_opts_t o = {.max_input = 100};
    start_server(&rt, &st, &o);
    st.never_consume = true;
    st.closes = 1;
    tr.port = st.port;
    mpk_wr_init(&tr.w);
    for (int i = 0; i < 300; i++)
        mpk_wr_uint(&tr.w, 1);
    cr_assert_eq(cqlmq_runtime_start(rt), 0);
    pthread_create(&th, NULL, trickle_main, &tr);
    cr_assert_eq(cqlmq_runtime_join(rt), 0);
    pthread_join(th, NULL);
    cqlmq_runtime_free(&rt);
    mpk_wr_close(&tr.w);
    cr_assert_eq(st.server_close, CQLMQ_ETOOBIG);
}
