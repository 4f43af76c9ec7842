/*
 * Unit tests of the connection's stream id table (actors/streams.c) and of
 * the reconnection backoff (actors/backoff.c).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "backoff.h"
#include "streams.h"

static gw_slot_t req_slot(uint64_t rid, uint64_t deadline)
{
    gw_slot_t s;
    memset(&s, 0, sizeof s);
    s.kind = GW_SK_REQUEST;
    s.rid = rid;
    s.deadline_ms = deadline;
    return s;
}

Test(gw_streams, hands_out_every_id_once_then_reports_busy)
{
    gw_streams_t s;
    cr_assert_eq(gw_streams_init(&s, 130), 0);
    bool seen[130] = {0};
    for (int i = 0; i < 130; i++) {
        gw_slot_t sl = req_slot((uint64_t)i + 1, 0);
        int id = gw_streams_take(&s, &sl);
        cr_assert(id >= 0 && id < 130, "id %d in range", id);
        cr_assert_not(seen[id], "id %d given twice", id);
        seen[id] = true;
    }
    gw_slot_t sl = req_slot(999, 0);
    cr_assert_eq(gw_streams_take(&s, &sl), CQLMQ_EBUSY);
    cr_assert_eq(gw_streams_free_count(&s), 0);
    gw_streams_release(&s, 77);
    cr_assert_eq(gw_streams_take(&s, &sl), 77, "the freed id is reused");
    gw_streams_close(&s);
}

Test(gw_streams, caps_at_the_protocol_limit_and_never_exceeds_it)
{
    gw_streams_t s;
    cr_assert_eq(gw_streams_init(&s, 100000), 0);
    cr_assert_eq(s.cap, GW_STREAMS_MAX);
    int max = -1;
    for (uint32_t i = 0; i < GW_STREAMS_MAX; i++) {
        gw_slot_t sl = req_slot(i + 1, 0);
        int id = gw_streams_take(&s, &sl);
        cr_assert_geq(id, 0);
        if (id > max)
            max = id;
    }
    cr_assert_eq(max, 32767, "ids fit a signed 16-bit stream");
    gw_slot_t sl = req_slot(1, 0);
    cr_assert_eq(gw_streams_take(&s, &sl), CQLMQ_EBUSY);
    gw_streams_close(&s);
}

Test(gw_streams, responses_on_unknown_streams_find_nothing)
{
    gw_streams_t s;
    cr_assert_eq(gw_streams_init(&s, 8), 0);
    cr_assert_null(gw_streams_get(&s, 3));
    cr_assert_null(gw_streams_get(&s, -1));
    cr_assert_null(gw_streams_get(&s, 8));
    cr_assert_null(gw_streams_get(&s, 40000));
    gw_streams_release(&s, 5); /* a no-op, not a crash */
    cr_assert_eq(s.used, 0);
    gw_streams_close(&s);
}

static int expired_ids[16];
static size_t nexpired;

static void on_expired(gw_streams_t *s, int id, gw_slot_t *slot, void *ud)
{
    (void)slot;
    (void)ud;
    expired_ids[nexpired++] = id;
    gw_streams_orphan(s, id);
}

Test(gw_streams, an_expired_request_keeps_its_id_until_the_late_response)
{
    gw_streams_t s;
    cr_assert_eq(gw_streams_init(&s, 4), 0);
    gw_slot_t a = req_slot(1, 100), b = req_slot(2, 500), c = req_slot(3, 0);
    int ia = gw_streams_take(&s, &a), ib = gw_streams_take(&s, &b), ic = gw_streams_take(&s, &c);
    nexpired = 0;
    cr_assert_eq(gw_streams_expired(&s, 200, on_expired, NULL), 1);
    cr_assert_eq(expired_ids[0], ia);
    cr_assert_eq(s.orphans, 1);
    cr_assert_eq(gw_streams_get(&s, ia)->state, GW_SLOT_ORPHAN);
    /* Orphans are not expired again, and the id is not handed out. */
    cr_assert_eq(gw_streams_expired(&s, 300, on_expired, NULL), 0);
    gw_slot_t d = req_slot(4, 0);
    int id = gw_streams_take(&s, &d);
    cr_assert_neq(id, ia);
    cr_assert_neq(id, ib);
    cr_assert_neq(id, ic);
    gw_slot_t e = req_slot(5, 0);
    cr_assert_eq(gw_streams_take(&s, &e), CQLMQ_EBUSY, "the orphan still holds its id");
    /* The late response frees it. */
    gw_streams_release(&s, ia);
    cr_assert_eq(s.orphans, 0);
    cr_assert_eq(gw_streams_take(&s, &e), ia);
    gw_streams_close(&s);
}

static void release_all(gw_streams_t *s, int id, gw_slot_t *slot, void *ud)
{
    (void)slot;
    (*(int *)ud)++;
    gw_streams_release(s, id);
}

Test(gw_streams, closing_walks_every_taken_id_including_orphans)
{
    gw_streams_t s;
    cr_assert_eq(gw_streams_init(&s, 200), 0);
    for (int i = 0; i < 150; i++) {
        gw_slot_t sl = req_slot((uint64_t)i + 1, 10);
        cr_assert_geq(gw_streams_take(&s, &sl), 0);
    }
    gw_streams_orphan(&s, 3);
    gw_streams_orphan(&s, 140);
    int n = 0;
    gw_streams_each(&s, release_all, &n);
    cr_assert_eq(n, 150);
    cr_assert_eq(s.used, 0);
    cr_assert_eq(s.orphans, 0);
    gw_streams_close(&s);
}

Test(gw_backoff, ceilings_double_from_base_to_cap_and_reset)
{
    gw_backoff_t b;
    gw_backoff_init(&b, 100, 30000, 42);
    uint64_t expect[] = {100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000};
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        cr_assert_eq(gw_backoff_ceiling(&b), expect[i], "attempt %zu", i);
        uint64_t d = gw_backoff_next(&b);
        cr_assert(d >= 1 && d <= expect[i], "delay %lu within [1, %lu]", (unsigned long)d,
                  (unsigned long)expect[i]);
    }
    for (int i = 0; i < 100; i++)
        (void)gw_backoff_next(&b);
    cr_assert_eq(gw_backoff_ceiling(&b), 30000, "no overflow after many attempts");
    gw_backoff_reset(&b);
    cr_assert_eq(gw_backoff_ceiling(&b), 100);
}

Test(gw_backoff, full_jitter_spreads_delays_over_the_whole_range)
{
    gw_backoff_t b;
    gw_backoff_init(&b, 1000, 1000, 7);
    uint64_t lo = UINT64_MAX, hi = 0, sum = 0;
    for (int i = 0; i < 2000; i++) {
        uint64_t d = gw_backoff_next(&b);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
        sum += d;
    }
    cr_assert_lt(lo, 50, "some delays are short");
    cr_assert_gt(hi, 950, "some delays are long");
    cr_assert(sum / 2000 > 400 && sum / 2000 < 600, "mean near half the ceiling");
}

Test(gw_backoff, two_seeds_give_different_sequences)
{
    gw_backoff_t a, b;
    gw_backoff_init(&a, 10000, 10000, 1);
    gw_backoff_init(&b, 10000, 10000, 2);
    int same = 0;
    for (int i = 0; i < 20; i++)
        same += gw_backoff_next(&a) == gw_backoff_next(&b);
    cr_assert_lt(same, 3, "gateways do not reconnect in lockstep");
}
