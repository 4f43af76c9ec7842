/*
 * Actor runtime under load: a million messages on one loop and across
 * loops (with credit-based flow control, in order), and a shutdown while
 * every loop is busy (no crash, no leak, every actor's stop runs once).
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "cqlmq/runtime.h"

static atomic_int fail_line;
#define CHECK(c)                                \
    do {                                        \
        if (!(c))                               \
            atomic_store(&fail_line, __LINE__); \
    } while (0)

enum { M_GO, M_DATA, M_ACK, M_FLOOD, M_COUNT };

#define MILLION 1000000u
#define WINDOW 16384u
#define ACK_EVERY 1024u

static int set_state_init(rt_actor_t *self, void *arg)
{
    rt_set_state(self, arg);
    return 0;
}

/* ---- a million messages ---- */

typedef struct flow {
    rt_addr_t peer;
    uint64_t sent, acked; /* sender */
    uint64_t next;        /* receiver: next expected sequence number */
    atomic_uint_fast64_t received;
} flow_t;

static void send_window(rt_actor_t *self, flow_t *st)
{
    while (st->sent < MILLION && st->sent - st->acked < WINDOW) {
        mpk_wr_t *w = rt_msg_begin(self, st->peer, M_DATA);
        mpk_wr_uint(w, st->sent);
        int rc = rt_msg_end(self);
        if (rc != 0) {
            CHECK(rc == CQLMQ_EMAILBOXFULL || rc == CQLMQ_EBUSY);
            return; /* the next ack resumes */
        }
        st->sent++;
    }
}

static void sender_go(rt_actor_t *self, const rt_msg_t *m) { send_window(self, rt_state(self)); }

static void sender_ack(rt_actor_t *self, const rt_msg_t *m)
{
    flow_t *st = rt_state(self);
    mpk_rd_t r;
    uint64_t upto;
    mpk_rd_init(&r, m->data, m->len);
    CHECK(mpk_rd_uint(&r, &upto) == 0);
    st->acked = upto;
    send_window(self, st);
}

static void receiver_data(rt_actor_t *self, const rt_msg_t *m)
{
    flow_t *st = rt_state(self);
    mpk_rd_t r;
    uint64_t seq;
    mpk_rd_init(&r, m->data, m->len);
    CHECK(mpk_rd_uint(&r, &seq) == 0);
    CHECK(seq == st->next);
    st->next = seq + 1;
    atomic_store(&st->received, st->next);
    if (st->next % ACK_EVERY == 0) {
        mpk_wr_t *w = rt_msg_begin(self, m->from, M_ACK);
        mpk_wr_uint(w, st->next);
        CHECK(rt_msg_end(self) == 0);
    }
    if (st->next == MILLION)
        cqlmq_runtime_stop(rt_loop_runtime(rt_actor_loop(self)));
}

static const rt_handler_cb sender_h[M_COUNT] = {[M_GO] = sender_go, [M_ACK] = sender_ack};
static const rt_handler_cb receiver_h[M_COUNT] = {[M_DATA] = receiver_data};
static const rt_actor_def_t sender_def = {"sender", sender_h, M_COUNT, 0, 0, set_state_init, 0};
static const rt_actor_def_t receiver_def = {"receiver", receiver_h, M_COUNT, 0, 0,
                                            set_state_init, 0};

static void million(unsigned loops, unsigned receiver_loop)
{
    cqlmq_runtime_t *rt;
    cqlmq_runtime_opts_t o = {.loops = loops};
    static flow_t snd, rcv;
    rt_addr_t s;
    memset(&snd, 0, sizeof snd);
    memset(&rcv, 0, sizeof rcv);
    cr_assert_eq(cqlmq_runtime_new(&o, &rt), 0);
    cr_assert_eq(cqlmq_runtime_spawn(rt, receiver_loop, &receiver_def, &rcv, &snd.peer), 0);
    cr_assert_eq(cqlmq_runtime_spawn(rt, 0, &sender_def, &snd, &s), 0);
    cr_assert_eq(cqlmq_runtime_start(rt), 0);
    cr_assert_eq(cqlmq_runtime_send(rt, s, M_GO, NULL, 0), 0);
    cr_assert_eq(cqlmq_runtime_join(rt), 0);
    cqlmq_runtime_free(&rt);
    cr_assert_eq(atomic_load(&fail_line), 0, "check failed at line %d", atomic_load(&fail_line));
    cr_assert_eq(atomic_load(&rcv.received), MILLION);
}

Test(rt_load, a_million_messages_on_one_loop_arrive_in_order)
{
    million(1, 0);
}

Test(rt_load, a_million_messages_across_loops_arrive_in_order)
{
    million(2, 1);
}

/* ---- shutdown under load ---- */

#define FLOODERS 8

typedef struct flood {
    rt_addr_t peers[FLOODERS];
    atomic_int stops;
    atomic_uint_fast64_t handled;
} flood_t;

static flood_t fl;

static void flood_msg(rt_actor_t *self, const rt_msg_t *m)
{
    /* Each message makes two: the runtime is saturated until stopped. */
    uint64_t n = atomic_fetch_add(&fl.handled, 1);
    for (int i = 0; i < 2; i++) {
        rt_addr_t to = fl.peers[(n + (uint64_t)i) % FLOODERS];
        mpk_wr_t *w = rt_msg_begin(self, to, M_FLOOD);
        mpk_wr_bin(w, "0123456789abcdef0123456789abcdef0123456789", 42); /* > inline */
        int rc = rt_msg_end(self);
        CHECK(rc == 0 || rc == CQLMQ_EMAILBOXFULL || rc == CQLMQ_EBUSY);
    }
    if (n % 1000 == 0) { /* and a request now and then, left pending */
        rt_request_begin(self, fl.peers[n % FLOODERS], M_FLOOD);
        (void)rt_request_end(self, 60000, NULL, NULL, NULL);
    }
}

static int flood_init(rt_actor_t *self, void *arg)
{
    uint64_t id;
    return rt_timer_start(self, 1, 1, M_FLOOD, &id);
}

static void flood_stop(rt_actor_t *self, int reason)
{
    CHECK(reason == CQLMQ_ECLOSED);
    atomic_fetch_add(&fl.stops, 1);
}

static const rt_handler_cb flood_h[M_COUNT] = {[M_FLOOD] = flood_msg};
static const rt_actor_def_t flood_def = {"flood", flood_h, M_COUNT, 0, 0, flood_init,
                                         flood_stop};

Test(rt_load, shutdown_under_load_stops_every_actor_cleanly)
{
    cqlmq_runtime_t *rt;
    cqlmq_runtime_opts_t o = {.loops = 3, .mailbox_max = 4096};
    memset(&fl, 0, sizeof fl);
    cr_assert_eq(cqlmq_runtime_new(&o, &rt), 0);
    for (unsigned i = 0; i < FLOODERS; i++)
        cr_assert_eq(cqlmq_runtime_spawn(rt, i % 3, &flood_def, NULL, &fl.peers[i]), 0);
    cr_assert_eq(cqlmq_runtime_start(rt), 0);
    for (unsigned i = 0; i < FLOODERS; i++)
        cr_assert_eq(cqlmq_runtime_send(rt, fl.peers[i], M_FLOOD, NULL, 0), 0);
    while (atomic_load(&fl.handled) < 200000)
        usleep(1000);
    cqlmq_runtime_free(&rt); /* stop + join + free, mid-flood */
    cr_assert_eq(atomic_load(&fail_line), 0, "check failed at line %d", atomic_load(&fail_line));
    cr_assert_eq(atomic_load(&fl.stops), FLOODERS);
}
