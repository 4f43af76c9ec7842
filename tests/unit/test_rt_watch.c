/*
 * Actor runtime: timers (one-shot, repeating, cancelled), stop and watch
 * notifications with their reason (same loop, across loops, already gone,
 * killed), and request/reply (answered, timed out, target gone, no handler,
 * cancelled by the requester stopping).
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

enum { M_GO, M_TICK, M_ONCE, M_NEVER, M_DIE, M_ASK, M_ANSWER, M_SILENT, M_COUNT };

static int set_state_init(rt_actor_t *self, void *arg)
{
    rt_set_state(self, arg);
    return 0;
}

static void stop_runtime(rt_actor_t *self)
{
    cqlmq_runtime_stop(rt_loop_runtime(rt_actor_loop(self)));
}

static void run(unsigned loops, const rt_actor_def_t *def, void *state, unsigned on_loop)
{
    cqlmq_runtime_t *rt;
    cqlmq_runtime_opts_t o = {.loops = loops};
    rt_addr_t a;
    cr_assert_eq(cqlmq_runtime_new(&o, &rt), 0);
    cr_assert_eq(cqlmq_runtime_spawn(rt, on_loop, def, state, &a), 0);
    cr_assert_eq(cqlmq_runtime_start(rt), 0);
    cr_assert_eq(cqlmq_runtime_send(rt, a, M_GO, NULL, 0), 0);
    cr_assert_eq(cqlmq_runtime_join(rt), 0);
    cqlmq_runtime_free(&rt);
    cr_assert_eq(atomic_load(&fail_line), 0, "check failed at line %d", atomic_load(&fail_line));
}

/* ---- timers ---- */

typedef struct tmst {
    uint64_t tick_id, never_id;
    int ticks, once;
} tm_t;

static void tm_go(rt_actor_t *self, const rt_msg_t *m)
{
    tm_t *st = rt_state(self);
    uint64_t once_id;
    CHECK(rt_timer_start(self, 1, 2, M_TICK, &st->tick_id) == 0);
    CHECK(rt_timer_start(self, 30, 0, M_ONCE, &once_id) == 0);
    CHECK(rt_timer_start(self, 5, 0, M_NEVER, &st->never_id) == 0);
    CHECK(rt_timer_cancel(self, st->never_id) == 0);
    CHECK(rt_timer_cancel(self, st->never_id) == CQLMQ_ENOTFOUND);
}

static void tm_tick(rt_actor_t *self, const rt_msg_t *m)
{
    tm_t *st = rt_state(self);
    CHECK((m->flags & RT_F_TIMER) && m->corr == st->tick_id);
    if (++st->ticks == 5)
        CHECK(rt_timer_cancel(self, st->tick_id) == 0);
    CHECK(st->ticks <= 5);
}

static void tm_once(rt_actor_t *self, const rt_msg_t *m)
{
    tm_t *st = rt_state(self);
    st->once++;
    stop_runtime(self);
}

static void tm_never(rt_actor_t *self, const rt_msg_t *m) { CHECK(0); }

static const rt_handler_cb tm_h[M_COUNT] = {
    [M_GO] = tm_go, [M_TICK] = tm_tick, [M_ONCE] = tm_once, [M_NEVER] = tm_never};
static const rt_actor_def_t tm_def = {"timers", tm_h, M_COUNT, 0, 0, set_state_init, 0};

Test(rt_watch, timers_fire_once_repeat_and_stay_cancelled)
{
    tm_t st = {0};
    run(1, &tm_def, &st, 0);
    cr_assert_eq(st.ticks, 5);
    cr_assert_eq(st.once, 1);
}

/* ---- watch / stop ---- */

typedef struct target {
    int stops;
    int reason;
} target_t;

static void target_die(rt_actor_t *self, const rt_msg_t *m)
{
    rt_stop(self, CQLMQ_ECANCELLED);
    rt_stop(self, CQLMQ_EIO); /* idempotent: the first reason wins */
}

static void target_stop(rt_actor_t *self, int reason)
{
    target_t *t = rt_state(self);
    if (t) {
        t->stops++;
        t->reason = reason;
    }
}

static const rt_handler_cb target_h[M_COUNT] = {[M_DIE] = target_die};
static const rt_actor_def_t target_def = {"target", target_h, M_COUNT, 0, 0, set_state_init,
                                          target_stop};

typedef struct watcher {
    rt_addr_t local, remote, killed, ghost;
    target_t tl, tr, tk;
    int downs;
    int reason_local, reason_remote, reason_killed, reason_ghost;
} watcher_t;

static void watcher_go(rt_actor_t *self, const rt_msg_t *m)
{
    watcher_t *st = rt_state(self);
    CHECK(rt_spawn(rt_actor_loop(self), &target_def, &st->tl, &st->local) == 0);
    CHECK(rt_spawn(rt_actor_loop(self), &target_def, &st->tk, &st->killed) == 0);
    /* st->remote lives on the other loop, st->ghost is gone already */
    CHECK(rt_watch(self, st->local) == 0);
    CHECK(rt_watch(self, st->remote) == 0);
    CHECK(rt_watch(self, st->killed) == 0);
    CHECK(rt_watch(self, st->ghost) == 0);
    CHECK(rt_send(self, st->local, M_DIE, NULL, 0) == 0);
    CHECK(rt_send(self, st->remote, M_DIE, NULL, 0) == 0);
    CHECK(rt_kill(self, st->killed, CQLMQ_ETIMEOUT) == 0);
}

static void watcher_down(rt_actor_t *self, const rt_msg_t *m)
{
    watcher_t *st = rt_state(self);
    rt_addr_t who;
    int reason;
    CHECK(rt_down_decode(m, &who, &reason) == 0);
    CHECK(m->from == who);
    if (who == st->local)
        st->reason_local = reason;
    else if (who == st->remote)
        st->reason_remote = reason;
    else if (who == st->killed)
        st->reason_killed = reason;
    else if (who == st->ghost)
        st->reason_ghost = reason;
    else
        CHECK(0);
    if (++st->downs == 4)
        stop_runtime(self);
}

static const rt_handler_cb watcher_h[M_COUNT] = {[M_GO] = watcher_go};
static const rt_actor_def_t watcher_def = {"watcher", watcher_h, M_COUNT, watcher_down, 0,
                                           set_state_init, 0};

Test(rt_watch, watchers_are_told_why_an_actor_stopped)
{
    cqlmq_runtime_t *rt;
    cqlmq_runtime_opts_t o = {.loops = 2};
    watcher_t st;
    rt_addr_t w;
    memset(&st, 0, sizeof st);
    cr_assert_eq(cqlmq_runtime_new(&o, &rt), 0);
    cr_assert_eq(cqlmq_runtime_spawn(rt, 1, &target_def, &st.tr, &st.remote), 0);
    cr_assert_eq(cqlmq_runtime_spawn(rt, 1, &target_def, NULL, &st.ghost), 0);
    cr_assert_eq(cqlmq_runtime_spawn(rt, 0, &watcher_def, &st, &w), 0);
    cr_assert_eq(cqlmq_runtime_start(rt), 0);
    /* the ghost is gone before anyone watches it */
    cr_assert_eq(cqlmq_runtime_send(rt, st.ghost, M_DIE, NULL, 0), 0);
    usleep(20000);
    cr_assert_eq(cqlmq_runtime_send(rt, w, M_GO, NULL, 0), 0);
    cr_assert_eq(cqlmq_runtime_join(rt), 0);
    cqlmq_runtime_free(&rt);
    cr_assert_eq(atomic_load(&fail_line), 0, "check failed at line %d", atomic_load(&fail_line));
    cr_assert_eq(st.downs, 4);
    cr_assert_eq(st.reason_local, CQLMQ_ECANCELLED);
    cr_assert_eq(st.reason_remote, CQLMQ_ECANCELLED);
    cr_assert_eq(st.reason_killed, CQLMQ_ETIMEOUT);
    cr_assert_eq(st.reason_ghost, CQLMQ_ENOACTOR);
    cr_assert_eq(st.tl.stops, 1);
    cr_assert_eq(st.tr.stops, 1);
    cr_assert_eq(st.tk.reason, CQLMQ_ETIMEOUT);
}

/* ---- request / reply ---- */

static void answer_ask(rt_actor_t *self, const rt_msg_t *m)
{
    int64_t v;
    mpk_rd_t r;
    mpk_rd_init(&r, m->data, m->len);
    CHECK(m->flags & RT_F_REQUEST);
    CHECK(mpk_rd_int(&r, &v) == 0);
    mpk_wr_t *w = rt_reply_begin(self, m, M_ANSWER);
    mpk_wr_int(w, v * 2);
    CHECK(rt_msg_end(self) == 0);
}

static void answer_silent(rt_actor_t *self, const rt_msg_t *m) { (void)self, (void)m; }

static const rt_handler_cb answer_h[M_COUNT] = {[M_ASK] = answer_ask, [M_SILENT] = answer_silent};
static const rt_actor_def_t answer_def = {"answer", answer_h, M_COUNT, 0, 0, 0, 0};

typedef struct asker {
    rt_addr_t server;
    int results[5];
    int64_t value;
    int done;
} asker_t;

static void asked(rt_actor_t *self, const rt_msg_t *reply, int err, void *ud)
{
    asker_t *st = rt_state(self);
    int which = (int)(intptr_t)ud;
    st->results[which] = err;
    if (which == 0) {
        mpk_rd_t r;
        CHECK(err == 0 && reply != NULL && reply->type == M_ANSWER);
        if (reply) {
            mpk_rd_init(&r, reply->data, reply->len);
            CHECK(mpk_rd_int(&r, &st->value) == 0);
        }
    } else {
        CHECK(reply == NULL);
    }
    if (++st->done == 4) {
        /* the fifth is pending: stopping cancels it */
        rt_stop(self, 0);
        stop_runtime(self);
    }
}

static void asker_go(rt_actor_t *self, const rt_msg_t *m)
{
    asker_t *st = rt_state(self);
    mpk_wr_t *w = rt_request_begin(self, st->server, M_ASK);
    mpk_wr_int(w, 21);
    CHECK(rt_request_end(self, 5000, asked, (void *)0, NULL) == 0);
    rt_request_begin(self, st->server, M_SILENT);
    CHECK(rt_request_end(self, 30, asked, (void *)1, NULL) == 0);
    rt_request_begin(self, st->server + ((rt_addr_t)1 << 24), M_ASK); /* gone */
    CHECK(rt_request_end(self, 5000, asked, (void *)2, NULL) == 0);
    rt_request_begin(self, st->server, M_GO); /* no handler for it */
    CHECK(rt_request_end(self, 5000, asked, (void *)3, NULL) == 0);
    rt_request_begin(self, st->server, M_SILENT);
    CHECK(rt_request_end(self, 60000, asked, (void *)4, NULL) == 0);
}

static const rt_handler_cb asker_h[M_COUNT] = {[M_GO] = asker_go};
static const rt_actor_def_t asker_def = {"asker", asker_h, M_COUNT, 0, 0, set_state_init, 0};

Test(rt_watch, every_request_ends_with_a_reply_an_error_or_a_timeout)
{
    cqlmq_runtime_t *rt;
    cqlmq_runtime_opts_t o = {.loops = 2};
    asker_t st;
    rt_addr_t a;
    memset(&st, 0, sizeof st);
    for (int i = 0; i < 5; i++)
        st.results[i] = 1;
    cr_assert_eq(cqlmq_runtime_new(&o, &rt), 0);
    cr_assert_eq(cqlmq_runtime_spawn(rt, 1, &answer_def, NULL, &st.server), 0);
    cr_assert_eq(cqlmq_runtime_spawn(rt, 0, &asker_def, &st, &a), 0);
    cr_assert_eq(cqlmq_runtime_start(rt), 0);
    cr_assert_eq(cqlmq_runtime_send(rt, a, M_GO, NULL, 0), 0);
    cr_assert_eq(cqlmq_runtime_join(rt), 0);
    cqlmq_runtime_free(&rt);
    cr_assert_eq(atomic_load(&fail_line), 0, "check failed at line %d", atomic_load(&fail_line));
    cr_assert_eq(st.results[0], 0);
    cr_assert_eq(st.value, 42);
    cr_assert_eq(st.results[1], CQLMQ_ETIMEOUT);
    cr_assert_eq(st.results[2], CQLMQ_ENOACTOR);
    cr_assert_eq(st.results[3], CQLMQ_EUNSUPPORTED);
    cr_assert_eq(st.results[4], CQLMQ_ECANCELLED);
}
