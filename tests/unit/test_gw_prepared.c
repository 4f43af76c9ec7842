/*
 * Unit tests of the shared prepared-statement cache (actors/prepared.c):
 * handles, single flight through waiters, per-host bits, LRU bound.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "prepared.h"

static gw_pcache_t pc;

static void setup(void) { cr_assert_eq(gw_pcache_init(&pc, 4, 11, 22), 0); }
static void teardown(void) { gw_pcache_close(&pc); }
TestSuite(gw_prepared, .init = setup, .fini = teardown);

static gw_pstmt_t *acquire(const char *ks, const char *q, bool *created)
{
    gw_pstmt_t *e = NULL;
    int rc = gw_pcache_acquire(&pc, ks, ks ? strlen(ks) : 0, q, strlen(q), &e, created);
    cr_assert_eq(rc, 0, "acquire: %s", cqlmq_strerror(rc));
    return e;
}

static void make_ready(gw_pstmt_t *e, unsigned host, const char *id)
{
    cr_assert_eq(gw_pstmt_prepared(e, host, (const uint8_t *)id, (uint16_t)strlen(id),
                                   (const uint8_t *)"meta", 4, 4, 0),
                 0);
}

Test(gw_prepared, the_same_statement_gets_the_same_entry_and_handle)
{
    bool created;
    gw_pstmt_t *a = acquire("ks", "SELECT 1", &created);
    cr_assert(created);
    gw_pstmt_t *b = acquire("ks", "SELECT 1", &created);
    cr_assert_not(created);
    cr_assert_eq(a, b);
    uint8_t h[GW_HANDLE_LEN];
    gw_pcache_handle_of(&pc, "ks", 2, "SELECT 1", 8, h);
    cr_assert_eq(memcmp(h, a->handle, GW_HANDLE_LEN), 0);
    cr_assert_eq(gw_pcache_get(&pc, h, sizeof h), a);
}

Test(gw_prepared, keyspace_and_text_both_distinguish_statements)
{
    bool created;
    gw_pstmt_t *a = acquire("ks", "SELECT 1", &created);
    gw_pstmt_t *b = acquire("ks2", "SELECT 1", &created);
    gw_pstmt_t *c = acquire(NULL, "SELECT 1", &created);
    gw_pstmt_t *d = acquire("k", "sSELECT 1", &created); /* same bytes, split differently */
    cr_assert(a != b && a != c && b != c && a != d);
    cr_assert_neq(memcmp(a->handle, d->handle, GW_HANDLE_LEN), 0);
}

Test(gw_prepared, handles_differ_between_caches_with_other_salts)
{
    gw_pcache_t other;
    cr_assert_eq(gw_pcache_init(&other, 4, 99, 98), 0);
    uint8_t a[GW_HANDLE_LEN], b[GW_HANDLE_LEN];
    gw_pcache_handle_of(&pc, "ks", 2, "q", 1, a);
    gw_pcache_handle_of(&other, "ks", 2, "q", 1, b);
    cr_assert_neq(memcmp(a, b, GW_HANDLE_LEN), 0);
    gw_pcache_close(&other);
}

Test(gw_prepared, a_hundred_first_uses_wait_on_one_entry)
{
    bool created;
    int creators = 0;
    gw_pstmt_t *e = NULL;
    for (uint64_t rid = 1; rid <= 100; rid++) {
        e = acquire("ks", "INSERT", &created);
        creators += created;
        if (created)
            gw_pstmt_set_preparing(e, 0, true); /* the one PREPARE */
        cr_assert_eq(gw_pstmt_wait(e, rid, GW_HOST_ANY), 0);
    }
    cr_assert_eq(creators, 1, "one PREPARE for a hundred first uses");
    cr_assert_eq(e->npreparing, 1);
    make_ready(e, 0, "ID1");
    cr_assert_eq(e->npreparing, 0);
    cr_assert(gw_pstmt_on(e, 0));
    uint64_t rid, expect = 1;
    while (gw_pstmt_pop_waiter(e, GW_HOST_ANY, &rid))
        cr_assert_eq(rid, expect++, "waiters are answered in arrival order");
    cr_assert_eq(expect, 101);
}

Test(gw_prepared, waiters_are_kept_per_host)
{
    bool created;
    gw_pstmt_t *e = acquire("ks", "q", &created);
    make_ready(e, 0, "A");
    cr_assert_eq(gw_pstmt_wait(e, 10, 1), 0);
    cr_assert_eq(gw_pstmt_wait(e, 11, 2), 0);
    cr_assert_eq(gw_pstmt_wait(e, 12, 1), 0);
    uint64_t rid;
    cr_assert(gw_pstmt_pop_waiter(e, 1, &rid));
    cr_assert_eq(rid, 10);
    cr_assert(gw_pstmt_pop_waiter(e, 1, &rid));
    cr_assert_eq(rid, 12);
    cr_assert_not(gw_pstmt_pop_waiter(e, 1, &rid));
    gw_pstmt_drop_waiter(e, 11);
    cr_assert_not(gw_pstmt_pop_waiter(e, 2, &rid), "a dropped waiter is gone");
}

Test(gw_prepared, a_host_that_restarts_forgets_every_statement)
{
    bool created;
    gw_pstmt_t *a = acquire("ks", "a", &created), *b = acquire("ks", "b", &created);
    make_ready(a, 3, "A");
    make_ready(b, 3, "B");
    gw_pstmt_set_on(b, 4, true);
    gw_pcache_forget_host(&pc, 3);
    cr_assert_not(gw_pstmt_on(a, 3));
    cr_assert_not(gw_pstmt_on(b, 3));
    cr_assert(gw_pstmt_on(b, 4), "other hosts keep theirs");
    cr_assert_not(gw_pstmt_on(a, GW_MAX_HOSTS + 5), "out-of-range hosts have nothing");
}

Test(gw_prepared, the_handle_maps_to_the_current_cassandra_id)
{
    bool created;
    gw_pstmt_t *e = acquire("ks", "q", &created);
    make_ready(e, 0, "OLD");
    uint8_t handle[GW_HANDLE_LEN];
    memcpy(handle, e->handle, sizeof handle);
    make_ready(e, 1, "NEWID");
    cr_assert_eq(e->id_len, 5);
    cr_assert_eq(memcmp(e->id, "NEWID", 5), 0);
    cr_assert_eq(memcmp(e->handle, handle, GW_HANDLE_LEN), 0, "the handle did not change");
    cr_assert_eq(e->meta_len, 4, "metadata of the first success kept");
}

Test(gw_prepared, the_least_recently_used_idle_entry_is_evicted_when_full)
{
    bool created;
    gw_pstmt_t *e[4];
    const char *q[4] = {"q0", "q1", "q2", "q3"};
    for (int i = 0; i < 4; i++) {
        e[i] = acquire("ks", q[i], &created);
        make_ready(e[i], 0, q[i]);
    }
    (void)gw_pcache_get(&pc, e[0]->handle, GW_HANDLE_LEN); /* q0 used recently */
    uint8_t h1[GW_HANDLE_LEN];
    memcpy(h1, e[1]->handle, sizeof h1);
    gw_pstmt_t *n = acquire("ks", "q4", &created);
    cr_assert(created);
    cr_assert_eq(pc.count, 4);
    cr_assert_eq(pc.evictions, 1);
    cr_assert_null(gw_pcache_get(&pc, h1, sizeof h1), "q1 was the least recently used");
    cr_assert_not_null(gw_pcache_get(&pc, e[0]->handle, GW_HANDLE_LEN));
    /* Re-preparing an evicted statement gives back the same handle. */
    gw_pstmt_t *again = acquire("ks", "q1", &created);
    cr_assert(created);
    cr_assert_eq(memcmp(again->handle, h1, GW_HANDLE_LEN), 0);
    (void)n;
}

Test(gw_prepared, busy_entries_are_never_evicted)
{
    bool created;
    for (int i = 0; i < 4; i++) {
        char q[8];
        snprintf(q, sizeof q, "b%d", i);
        gw_pstmt_t *e = acquire("ks", q, &created);
        if (i % 2 == 0)
            gw_pstmt_set_preparing(e, 0, true); /* not ready, prepare in flight */
        else {
            make_ready(e, 0, q);
            cr_assert_eq(gw_pstmt_wait(e, 1, 1), 0); /* someone waits on it */
        }
    }
    gw_pstmt_t *e = NULL;
    cr_assert_eq(gw_pcache_acquire(&pc, "ks", 2, "new", 3, &e, &created), CQLMQ_ELIMIT);
    cr_assert_eq(pc.count, 4);
}

Test(gw_prepared, unknown_or_malformed_handles_find_nothing)
{
    uint8_t h[GW_HANDLE_LEN] = {1, 2, 3};
    cr_assert_null(gw_pcache_get(&pc, h, sizeof h));
    cr_assert_null(gw_pcache_get(&pc, h, 5));
    cr_assert_null(gw_pcache_get(&pc, NULL, 16));
}

Test(gw_prepared, a_failed_first_prepare_removes_the_entry)
{
    bool created;
    gw_pstmt_t *e = acquire("ks", "bad", &created);
    uint8_t h[GW_HANDLE_LEN];
    memcpy(h, e->handle, sizeof h);
    gw_pcache_remove(&pc, e);
    cr_assert_eq(pc.count, 0);
    cr_assert_null(gw_pcache_get(&pc, h, sizeof h));
}
