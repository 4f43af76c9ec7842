/*
 * Actor runtime: ping-pong on one loop and across loops, per-sender
 * ordering, the door from other threads, bounded mailboxes, malformed and
 * oversized messages, and two runtimes side by side.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "cqlmq/runtime.h"

#define SEQ_FIELDS(F, T)       \
    F(T, sender, UINT, MPK_REQ) \
    F(T, seq, UINT, MPK_REQ)
MPK_SCHEMA(seqmsg, SEQ_FIELDS)

enum { M_PING, M_PONG, M_GO, M_DATA, M_COUNT };

/* Checks inside actors (loop threads) are recorded, then asserted by the
 * test's own thread after join: Criterion asserts belong to that thread. */
static atomic_int fail_line;
#define CHECK(c)                                  \
    do {                                          \
        if (!(c))                                 \
            atomic_store(&fail_line, __LINE__);   \
    } while (0)
#define ASSERT_NO_FAILURE() cr_assert_eq(atomic_load(&fail_line), 0, "check failed at line %d", \
                                         atomic_load(&fail_line))

/* ---- ping-pong ---- */

typedef struct pp {
    rt_addr_t peer;
    uint64_t rounds, done;
    atomic_uint_fast64_t *result;
} pp_t;

static void ponger_ping(rt_actor_t *self, const rt_msg_t *m)
{
    mpk_rd_t r;
    seqmsg_t s;
    mpk_rd_init(&r, m->data, m->len);
    CHECK((seqmsg_decode(&r, &s)) == (0));
    s.sender = rt_self(self);
    CHECK((RT_SEND(self, m->from, M_PONG, seqmsg, &s)) == (0));
}

static void pinger_pong(rt_actor_t *self, const rt_msg_t *m)
{
    pp_t *st = rt_state(self);
    mpk_rd_t r;
    seqmsg_t s;
    mpk_rd_init(&r, m->data, m->len);
    CHECK((seqmsg_decode(&r, &s)) == (0));
    CHECK(s.seq == st->done);
    if (++st->done == st->rounds) {
        atomic_store(st->result, st->done);
        cqlmq_runtime_stop(rt_loop_runtime(rt_actor_loop(self)));
        return;
    }
    s.seq = st->done;
    CHECK((RT_SEND(self, st->peer, M_PING, seqmsg, &s)) == (0));
}

static int pinger_init(rt_actor_t *self, void *arg)
{
    rt_set_state(self, arg);
    pp_t *st = arg;
    seqmsg_t s = {0, rt_self(self), 0};
    return RT_SEND(self, st->peer, M_PING, seqmsg, &s);
}

static const rt_handler_cb ponger_h[M_COUNT] = {[M_PING] = ponger_ping};
static const rt_handler_cb pinger_h[M_COUNT] = {[M_PONG] = pinger_pong};
static const rt_actor_def_t ponger_def = {"ponger", ponger_h, M_COUNT, 0, 0, 0, 0};
static const rt_actor_def_t pinger_def = {"pinger", pinger_h, M_COUNT, 0, 0, pinger_init, 0};

static uint64_t run_pingpong(unsigned loops, unsigned ponger_loop, uint64_t rounds)
{
    cqlmq_runtime_t *rt;
    cqlmq_runtime_opts_t o = {.loops = loops};
    atomic_uint_fast64_t result = 0;
    pp_t st = {0, rounds, 0, &result};
    cr_assert_eq(cqlmq_runtime_new(&o, &rt), 0);
    cr_assert_eq(cqlmq_runtime_spawn(rt, ponger_loop, &ponger_def, NULL, &st.peer), 0);
    cr_assert_eq(rt_addr_loop(st.peer), ponger_loop);
    cr_assert_eq(cqlmq_runtime_spawn(rt, 0, &pinger_def, &st, NULL), 0);
    cr_assert_eq(cqlmq_runtime_start(rt), 0);
    cr_assert_eq(cqlmq_runtime_join(rt), 0);
    cqlmq_runtime_free(&rt);
    cr_assert_null(rt);
    ASSERT_NO_FAILURE();
    return atomic_load(&result);
}

Test(rt_actor, ping_pong_on_the_same_loop_keeps_order)
{
    cr_assert_eq(run_pingpong(1, 0, 20000), 20000);
}

Test(rt_actor, ping_pong_across_loops_keeps_order)
{
    cr_assert_eq(run_pingpong(2, 1, 5000), 5000);
}

/* ---- per-sender ordering with several senders, loops and the door ---- */

#define ORD_SENDERS 3
#define ORD_PER 20000

typedef struct ord {
    rt_addr_t from[ORD_SENDERS + 1];
    uint64_t next[ORD_SENDERS + 1];
    uint64_t total;
    atomic_int ok;
} ord_t;

static void ord_data(rt_actor_t *self, const rt_msg_t *m)
{
    ord_t *st = rt_state(self);
    mpk_rd_t r;
    seqmsg_t s;
    mpk_rd_init(&r, m->data, m->len);
    CHECK((seqmsg_decode(&r, &s)) == (0));
    CHECK((s.sender) < (ORD_SENDERS + 1));
    CHECK(s.sender < ORD_SENDERS + 1 && s.seq == st->next[s.sender]);
    st->next[s.sender]++;
    if (++st->total == (ORD_SENDERS + 1) * (uint64_t)ORD_PER) {
        atomic_store(&st->ok, 1);
        cqlmq_runtime_stop(rt_loop_runtime(rt_actor_loop(self)));
    }
}

typedef struct sender {
    rt_addr_t to;
    uint64_t id;
} sender_t;

static void sender_go(rt_actor_t *self, const rt_msg_t *m)
{
    sender_t *st = rt_state(self);
    for (uint64_t i = 0; i < ORD_PER; i++) {
        seqmsg_t s = {0, st->id, i};
        CHECK((RT_SEND(self, st->to, M_DATA, seqmsg, &s)) == (0));
    }
}

static int set_state_init(rt_actor_t *self, void *arg)
{
    rt_set_state(self, arg);
    return 0;
}

static const rt_handler_cb ord_h[M_COUNT] = {[M_DATA] = ord_data};
static const rt_handler_cb sender_h[M_COUNT] = {[M_GO] = sender_go};
static const rt_actor_def_t ord_def = {"ord", ord_h, M_COUNT, 0, 0, set_state_init, 0};
static const rt_actor_def_t sender_def = {"sender", sender_h, M_COUNT, 0, 0, set_state_init, 0};

Test(rt_actor, each_senders_messages_arrive_in_order)
{
    cqlmq_runtime_t *rt;
    cqlmq_runtime_opts_t o = {.loops = 3};
    static ord_t ord;
    static sender_t snd[ORD_SENDERS];
    rt_addr_t recv, s;
    memset(&ord, 0, sizeof ord);
    cr_assert_eq(cqlmq_runtime_new(&o, &rt), 0);
    cr_assert_eq(cqlmq_runtime_spawn(rt, 1, &ord_def, &ord, &recv), 0);
    cr_assert_eq(cqlmq_runtime_start(rt), 0);
    for (unsigned i = 0; i < ORD_SENDERS; i++) {
        snd[i] = (sender_t){recv, i};
        /* one on the receiver's loop, two on other loops */
        cr_assert_eq(cqlmq_runtime_spawn(rt, i, &sender_def, &snd[i], &s), 0);
        cr_assert_eq(cqlmq_runtime_send(rt, s, M_GO, NULL, 0), 0);
    }
    /* and this thread, through the door */
    mpk_wr_t w;
    mpk_wr_init(&w);
    for (uint64_t i = 0; i < ORD_PER; i++) {
        seqmsg_t m = {0, ORD_SENDERS, i};
        mpk_wr_reset(&w);
        seqmsg_encode_compact(&w, &m);
        int rc;
        while ((rc = cqlmq_runtime_send(rt, recv, M_DATA, w.data, w.len)) == CQLMQ_EAGAIN)
            usleep(100);
        cr_assert_eq(rc, 0);
    }
    mpk_wr_close(&w);
    cr_assert_eq(cqlmq_runtime_join(rt), 0);
    ASSERT_NO_FAILURE();
    cr_assert_eq(atomic_load(&ord.ok), 1);
    cqlmq_runtime_free(&rt);
}

/* ---- bounded mailboxes, bad input ---- */

typedef struct probe {
    rt_addr_t target, remote;
    int rc_full, n_ok, rc_big_local, rc_big_remote, rc_gone, decode_rc;
    atomic_int done;
} probe_t;

static void sink(rt_actor_t *self, const rt_msg_t *m) { (void)self, (void)m; }

static void probe_decode(rt_actor_t *self, const rt_msg_t *m)
{
    probe_t *st = rt_state(self);
    mpk_rd_t r;
    seqmsg_t s;
    mpk_rd_init(&r, m->data, m->len);
    st->decode_rc = seqmsg_decode(&r, &s);
    atomic_store(&st->done, 1);
    cqlmq_runtime_stop(rt_loop_runtime(rt_actor_loop(self)));
}

static void probe_go(rt_actor_t *self, const rt_msg_t *m)
{
    probe_t *st = rt_state(self);
    static uint8_t big[2048];
    int rc = 0;
    for (int i = 0; i < 150 && rc == 0; i++)
        if ((rc = rt_send(self, st->target, M_DATA, NULL, 0)) == 0)
            st->n_ok++;
    st->rc_full = rc;
    st->rc_big_local = rt_send(self, st->target, M_DATA, big, sizeof big);
    st->rc_big_remote = rt_send(self, st->remote, M_DATA, big, sizeof big);
    rt_addr_t gone = st->target + ((rt_addr_t)1 << 24); /* wrong generation */
    st->rc_gone = rt_send(self, gone, M_DATA, NULL, 0);
}

static const rt_handler_cb sink_h[M_COUNT] = {[M_DATA] = sink};
static const rt_handler_cb probe_h[M_COUNT] = {[M_GO] = probe_go, [M_DATA] = probe_decode};
static const rt_actor_def_t sink_def = {"sink", sink_h, M_COUNT, 0, 0, 0, 0};
static const rt_actor_def_t probe_def = {"probe", probe_h, M_COUNT, 0, 0, set_state_init, 0};

Test(rt_actor, full_mailboxes_oversized_and_malformed_messages_are_rejected)
{
    cqlmq_runtime_t *rt;
    cqlmq_runtime_opts_t o = {.loops = 2, .mailbox_max = 100, .max_msg = 1024};
    probe_t st = {0};
    rt_addr_t p;
    cr_assert_eq(cqlmq_runtime_new(&o, &rt), 0);
    cr_assert_eq(cqlmq_runtime_spawn(rt, 0, &sink_def, NULL, &st.target), 0);
    cr_assert_eq(cqlmq_runtime_spawn(rt, 1, &sink_def, NULL, &st.remote), 0);
    cr_assert_eq(cqlmq_runtime_spawn(rt, 0, &probe_def, &st, &p), 0);
    cr_assert_eq(cqlmq_runtime_start(rt), 0);
    cr_assert_eq(cqlmq_runtime_send(rt, p, M_GO, NULL, 0), 0);
    static uint8_t big[2048];
    cr_assert_eq(cqlmq_runtime_send(rt, p, M_DATA, big, sizeof big), CQLMQ_ETOOBIG);
    cr_assert_eq(cqlmq_runtime_send(rt, p, 0xff01, NULL, 0), CQLMQ_EINVAL);
    cr_assert_eq(cqlmq_runtime_send(rt, RT_ADDR_NONE, M_DATA, NULL, 0), CQLMQ_EINVAL);
    /* a 5-byte "array of 250 million" bomb: decoded as an error */
    static const uint8_t bomb[] = {0xdd, 0x0e, 0xe6, 0xb2, 0x80};
    cr_assert_eq(cqlmq_runtime_send(rt, p, M_DATA, bomb, sizeof bomb), 0);
    cr_assert_eq(cqlmq_runtime_join(rt), 0);
    cr_assert_eq(st.n_ok, 100);
    cr_assert_eq(st.rc_full, CQLMQ_EMAILBOXFULL);
    cr_assert_eq(st.rc_big_local, CQLMQ_ETOOBIG);
    cr_assert_eq(st.rc_big_remote, CQLMQ_ETOOBIG);
    cr_assert_eq(st.rc_gone, CQLMQ_ENOACTOR);
    cr_assert_eq(st.decode_rc, CQLMQ_ETRUNCATED);
    cr_assert_eq(cqlmq_runtime_send(rt, p, M_DATA, NULL, 0), CQLMQ_ESTATE);
    cqlmq_runtime_free(&rt);
}

/* ---- two runtimes ---- */

typedef struct twin {
    pthread_t th;
    uint64_t result;
} twin_t;

static void *twin_main(void *arg)
{
    twin_t *t = arg;
    t->result = run_pingpong(2, 1, 3000);
    return NULL;
}

Test(rt_actor, two_runtimes_in_one_process_do_not_interfere)
{
    twin_t a = {0}, b = {0};
    pthread_create(&a.th, NULL, twin_main, &a);
    pthread_create(&b.th, NULL, twin_main, &b);
    pthread_join(a.th, NULL);
    pthread_join(b.th, NULL);
    cr_assert_eq(a.result, 3000);
    cr_assert_eq(b.result, 3000);
}

Test(rt_actor, an_unstarted_runtime_frees_its_actors)
{
    cqlmq_runtime_t *rt;
    cqlmq_runtime_opts_t o = {.loops = 2};
    rt_addr_t a;
    cr_assert_eq(cqlmq_runtime_new(&o, &rt), 0);
    cr_assert_eq(cqlmq_runtime_spawn(rt, 1, &sink_def, NULL, &a), 0);
    cr_assert_eq(cqlmq_runtime_spawn(rt, 2, &sink_def, NULL, &a), CQLMQ_EINVAL);
    cr_assert_eq(cqlmq_runtime_join(rt), CQLMQ_ESTATE);
    cqlmq_runtime_free(&rt);
    cqlmq_runtime_free(&rt); /* NULL is fine */
}
