/*
 * ZeroMQ sockets on a loop: the stall regression (a million messages
 * through a reader taking 16 per turn: with uv_poll alone on the
 * edge-triggered ZMQ_FD this stalls after a few dozen), a ROUTER with
 * ROUTER_MANDATORY answering a DEALER without copying the reply, EAGAIN and
 * EHOSTUNREACH reported as codes, malformed and over-long messages rejected,
 * and a socket closed inside its own callback.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "cqlmq/runtime.h"

#define N_STALL 1000000u

typedef struct reader {
    cqlmq_runtime_t *rt;
    uint32_t next;
    atomic_int bad;
    atomic_uint count;
} reader_t;

static void on_stall_msg(rt_zsock_t *zs, zmq_msg_t *parts, size_t n, void *ud)
{
    reader_t *r = ud;
    uint32_t seq;
    if (n != 1 || zmq_msg_size(&parts[0]) != sizeof seq) {
        atomic_store(&r->bad, 1);
        return;
    }
    memcpy(&seq, zmq_msg_data(&parts[0]), sizeof seq);
    if (seq != r->next)
        atomic_store(&r->bad, 1);
    r->next = seq + 1;
    atomic_store(&r->count, r->next);
    if (r->next == N_STALL)
        cqlmq_runtime_stop(r->rt);
}

typedef struct pusher {
    void *ctx;
    const char *ep;
} pusher_t;

static void *push_main(void *arg)
{
    pusher_t *p = arg;
    void *s = zmq_socket(p->ctx, ZMQ_PUSH);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_connect(s, p->ep);
    for (uint32_t i = 0; i < N_STALL; i++) {
        while (zmq_send(s, &i, sizeof i, ZMQ_DONTWAIT) < 0) {
            if (errno != EAGAIN)
                goto out;
            sched_yield();
        }
    }
out:
    zmq_close(s);
    return NULL;
}

Test(rt_zsock, a_bounded_batch_reader_never_stalls_on_a_million_messages)
{
    cqlmq_runtime_t *rt;
    rt_zsock_t *zs;
    static reader_t r;
    pthread_t th;
    memset(&r, 0, sizeof r);
    cr_assert_eq(cqlmq_runtime_new(NULL, &rt), 0);
    r.rt = rt;
    cr_assert_eq(rt_zsock_new(cqlmq_runtime_loop(rt, 0), ZMQ_PULL, 16, on_stall_msg, &r, &zs), 0);
    cr_assert_eq(zmq_bind(rt_zsock_handle(zs), "inproc://stall"), 0);
    pusher_t p = {cqlmq_runtime_zmq_ctx(rt), "inproc://stall"};
    cr_assert_eq(cqlmq_runtime_start(rt), 0);
    pthread_create(&th, NULL, push_main, &p);
    cr_assert_eq(cqlmq_runtime_join(rt), 0);
    pthread_join(th, NULL);
    cr_assert_eq(atomic_load(&r.count), N_STALL);
    cr_assert_eq(atomic_load(&r.bad), 0);
    cqlmq_runtime_free(&rt); /* closes the socket: uv handles, then zmq */
}

/* ---- ROUTER front ---- */

typedef struct front {
    cqlmq_runtime_t *rt;
    rt_zsock_t *zs;
    int rc_unreachable, rc_noreply;
    atomic_int requests, rejected;
} front_t;

static void on_front(rt_zsock_t *zs, zmq_msg_t *parts, size_t n, void *ud)
{
    front_t *f = ud;
    if (n != 2) {
        atomic_fetch_add(&f->rejected, 1);
        return;
    }
    mpk_rd_t r;
    int64_t v;
    mpk_rd_init(&r, zmq_msg_data(&parts[1]), zmq_msg_size(&parts[1]));
    int rc = mpk_rd_int(&r, &v);
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_map(&w, 1);
    if (rc == 0) {
        mpk_wr_cstr(&w, "double");
        mpk_wr_int(&w, v * 2);
        atomic_fetch_add(&f->requests, 1);
    } else {
        mpk_wr_cstr(&w, "error");
        mpk_wr_cstr(&w, cqlmq_err_name(rc));
        atomic_fetch_add(&f->rejected, 1);
    }
    size_t len;
    void *own[2] = {NULL, mpk_wr_release(&w, &len)};
    const void *bufs[2] = {zmq_msg_data(&parts[0]), own[1]};
    size_t lens[2] = {zmq_msg_size(&parts[0]), len};
    int src = rt_zsock_send_bufs(zs, bufs, lens, own, 2);
    if (src != 0)
        atomic_fetch_add(&f->rejected, 100);
    const void *ghost[2] = {"nobody", "x"};
    size_t glens[2] = {6, 1};
    f->rc_unreachable = rt_zsock_send_bufs(zs, ghost, glens, NULL, 2);
}

Test(rt_zsock, router_replies_reports_unreachable_peers_and_rejects_bad_input)
{
    cqlmq_runtime_t *rt;
    static front_t f;
    memset(&f, 0, sizeof f);
    int one = 1;
    cr_assert_eq(cqlmq_runtime_new(NULL, &rt), 0);
    f.rt = rt;
    cr_assert_eq(rt_zsock_new(cqlmq_runtime_loop(rt, 0), ZMQ_ROUTER, 0, on_front, &f, &f.zs), 0);
    void *router = rt_zsock_handle(f.zs);
    zmq_setsockopt(router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    cr_assert_eq(zmq_bind(router, "inproc://front"), 0);
    /* a PUSH with no peer: a send would block, so it is EAGAIN */
    rt_zsock_t *lonely;
    cr_assert_eq(rt_zsock_new(cqlmq_runtime_loop(rt, 0), ZMQ_PUSH, 0, on_front, &f, &lonely), 0);
    const void *b[1] = {"x"};
    size_t l[1] = {1};
    cr_assert_eq(rt_zsock_send_bufs(lonely, b, l, NULL, 1), CQLMQ_EAGAIN);
    rt_zsock_close(&lonely);
    cr_assert_null(lonely);
    cr_assert_eq(cqlmq_runtime_start(rt), 0);

    void *dealer = zmq_socket(cqlmq_runtime_zmq_ctx(rt), ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof zero);
    cr_assert_eq(zmq_connect(dealer, "inproc://front"), 0);
    uint8_t req[] = {0xcd, 0x01, 0x00}; /* 256 */
    cr_assert_eq(zmq_send(dealer, req, sizeof req, 0), (int)sizeof req);
    uint8_t bomb[] = {0xdd, 0x0e, 0xe6, 0xb2, 0x80};
    cr_assert_eq(zmq_send(dealer, bomb, sizeof bomb, 0), (int)sizeof bomb);
    for (int i = 0; i < 10; i++) /* 11 frames with the routing id: too many */
        zmq_send(dealer, "p", 1, i < 9 ? ZMQ_SNDMORE : 0);
    cr_assert_eq(zmq_send(dealer, req, sizeof req, 0), (int)sizeof req);

    char buf[256];
    int n = zmq_recv(dealer, buf, sizeof buf, 0);
    mpk_rd_t r;
    mpk_str_t key;
    uint32_t cnt;
    int64_t v;
    mpk_rd_init(&r, buf, (size_t)n);
    cr_assert_eq(mpk_rd_map(&r, &cnt), 0);
    cr_assert_eq(mpk_rd_str(&r, &key), 0);
    cr_assert(mpk_str_eq(key, "double"));
    cr_assert_eq(mpk_rd_int(&r, &v), 0);
    cr_assert_eq(v, 512);
    n = zmq_recv(dealer, buf, sizeof buf, 0);
    mpk_rd_init(&r, buf, (size_t)n);
    mpk_str_t err;
    cr_assert_eq(mpk_rd_map(&r, &cnt), 0);
    cr_assert_eq(mpk_rd_str(&r, &key), 0);
    cr_assert(mpk_str_eq(key, "error"));
    cr_assert_eq(mpk_rd_str(&r, &err), 0);
    cr_assert(mpk_str_eq(err, "CQLMQ_ETRUNCATED"));
    n = zmq_recv(dealer, buf, sizeof buf, 0); /* the last request's answer */
    cr_assert_gt(n, 0);
    zmq_close(dealer);
    cqlmq_runtime_stop(rt);
    cr_assert_eq(cqlmq_runtime_join(rt), 0);
    cr_assert_eq(atomic_load(&f.requests), 2);
    cr_assert_eq(atomic_load(&f.rejected), 1, "the bomb; the 11-frame one never reached us");
    cr_assert_eq(f.rc_unreachable, CQLMQ_EUNREACHABLE);
    cqlmq_runtime_free(&rt);
}

/* ---- closing inside the callback ---- */

typedef struct closer {
    cqlmq_runtime_t *rt;
    rt_zsock_t *zs;
    atomic_int calls;
} closer_t;

static void on_close_me(rt_zsock_t *zs, zmq_msg_t *parts, size_t n, void *ud)
{
    closer_t *c = ud;
    atomic_fetch_add(&c->calls, 1);
    rt_zsock_close(&c->zs);
    cqlmq_runtime_stop(c->rt);
}

Test(rt_zsock, a_socket_may_close_itself_in_its_callback)
{
    cqlmq_runtime_t *rt;
    static closer_t c;
    memset(&c, 0, sizeof c);
    cr_assert_eq(cqlmq_runtime_new(NULL, &rt), 0);
    c.rt = rt;
    cr_assert_eq(rt_zsock_new(cqlmq_runtime_loop(rt, 0), ZMQ_PULL, 4, on_close_me, &c, &c.zs), 0);
    cr_assert_eq(zmq_bind(rt_zsock_handle(c.zs), "inproc://closer"), 0);
    void *push = zmq_socket(cqlmq_runtime_zmq_ctx(rt), ZMQ_PUSH);
    int zero = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &zero, sizeof zero);
    zmq_connect(push, "inproc://closer");
    for (int i = 0; i < 10; i++)
        zmq_send(push, "m", 1, 0);
    cr_assert_eq(cqlmq_runtime_start(rt), 0);
    cr_assert_eq(cqlmq_runtime_join(rt), 0);
    zmq_close(push);
    cr_assert_eq(atomic_load(&c.calls), 1);
    cr_assert_null(c.zs);
    cqlmq_runtime_free(&rt);
}
