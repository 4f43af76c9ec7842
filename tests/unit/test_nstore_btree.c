/*
 * node_btree: the ordered container under partitions and rows, checked
 * against a reference set with random inserts/removes, every seek mode,
 * cursors both ways and its memory accounting.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node_btree.h"

/* Items are the integers 1.. stored as pointers; keys point to an int64. */
static int cmp(const void *key, const void *item, void *ctx)
{
    (void)ctx;
    int64_t k = *(const int64_t *)key, v = (int64_t)(uintptr_t)item;
    return k < v ? -1 : k > v;
}

static void *IT(int64_t v)
{
    return (void *)(uintptr_t)v;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void check_against(const node_bt_t *bt, const bool *ref, int64_t max)
{
    node_bt_cur_t c;
    void *it = node_bt_first(&c, bt);
    size_t n = 0;
    for (int64_t v = 1; v <= max; v++) {
        if (!ref[v])
            continue;
        cr_assert_eq(it, IT(v), "forward at %lld", (long long)v);
        it = node_bt_next(&c);
        n++;
    }
    cr_assert_null(it);
    cr_assert_eq(bt->count, n);
    it = node_bt_last(&c, bt);
    for (int64_t v = max; v >= 1; v--) {
        if (!ref[v])
            continue;
        cr_assert_eq(it, IT(v), "backward at %lld", (long long)v);
        it = node_bt_prev(&c);
    }
    cr_assert_null(it);
}

Test(nstore_btree, random_inserts_and_removes_match_a_reference_set)
{
    enum { MAX = 20000 };
    bool *ref = calloc(MAX + 1, 1);
    node_bt_t bt;
    node_bt_init(&bt);
    int64_t bytes = 0;
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < MAX; i++) {
            int64_t v = (int64_t)(rnd() % MAX) + 1;
            bool in = ref[v];
            if (round % 2 == 0 || !in) {
                if (!in) {
                    cr_assert_eq(node_bt_insert(&bt, IT(v), &v, cmp, NULL, &bytes), 0);
                    ref[v] = true;
                }
            } else {
                cr_assert_eq(node_bt_remove(&bt, &v, cmp, NULL, &bytes), IT(v));
                ref[v] = false;
            }
            int64_t probe = (int64_t)(rnd() % MAX) + 1;
            cr_assert_eq(node_bt_find(&bt, &probe, cmp, NULL) != NULL, ref[probe]);
        }
        check_against(&bt, ref, MAX);
    }
    for (int64_t v = 1; v <= MAX; v++) /* remove everything, including absent keys */
        cr_assert_eq(node_bt_remove(&bt, &v, cmp, NULL, &bytes), ref[v] ? IT(v) : NULL);
    cr_assert_eq(bt.count, 0);
    cr_assert_null(bt.root);
    cr_assert_eq(bytes, 0, "node memory left: %lld", (long long)bytes);
    free(ref);
}

Test(nstore_btree, every_seek_mode_finds_the_right_neighbour)
{
    node_bt_t bt;
    node_bt_init(&bt);
    for (int64_t v = 2; v <= 4000; v += 2)
        cr_assert_eq(node_bt_insert(&bt, IT(v), &v, cmp, NULL, NULL), 0);
    node_bt_cur_t c;
    for (int64_t q = 0; q <= 4002; q++) {
        int64_t ge = q % 2 ? q + 1 : q, gt = q % 2 ? q + 1 : q + 2;
        int64_t le = q % 2 ? q - 1 : q, lt = q % 2 ? q - 1 : q - 2;
        if (ge < 2) ge = 2;
        if (gt < 2) gt = 2;
        void *r = node_bt_seek(&c, &bt, &q, cmp, NULL, NODE_BT_GE);
        cr_assert_eq(r, ge > 4000 ? NULL : IT(ge), "GE %lld", (long long)q);
        if (r) /* the cursor continues from there */
            cr_assert_eq(node_bt_next(&c), ge + 2 > 4000 ? NULL : IT(ge + 2));
        r = node_bt_seek(&c, &bt, &q, cmp, NULL, NODE_BT_GT);
        cr_assert_eq(r, gt > 4000 ? NULL : IT(gt), "GT %lld", (long long)q);
        r = node_bt_seek(&c, &bt, &q, cmp, NULL, NODE_BT_LE);
        cr_assert_eq(r, le < 2 || le > 4000 ? (le > 4000 ? IT(4000) : NULL) : IT(le),
                     "LE %lld", (long long)q);
        if (r && le >= 4)
            cr_assert_eq(node_bt_prev(&c), IT((int64_t)(uintptr_t)r - 2));
        r = node_bt_seek(&c, &bt, &q, cmp, NULL, NODE_BT_LT);
        cr_assert_eq(r, lt < 2 ? NULL : IT(lt > 4000 ? 4000 : lt), "LT %lld", (long long)q);
    }
    node_bt_clear(&bt, NULL, NULL, NULL);
}

Test(nstore_btree, a_one_item_tree_allocates_nothing_and_seeks)
{
    node_bt_t bt;
    node_bt_init(&bt);
    int64_t bytes = 0, v = 7, lo = 3, hi = 9;
    cr_assert_eq(node_bt_insert(&bt, IT(7), &v, cmp, NULL, &bytes), 0);
    cr_assert_eq(bytes, 0);
    cr_assert_eq(bt.root, IT(7));
    node_bt_cur_t c;
    cr_assert_eq(node_bt_seek(&c, &bt, &lo, cmp, NULL, NODE_BT_GE), IT(7));
    cr_assert_null(node_bt_next(&c));
    cr_assert_null(node_bt_seek(&c, &bt, &hi, cmp, NULL, NODE_BT_GE));
    cr_assert_eq(node_bt_seek(&c, &bt, &hi, cmp, NULL, NODE_BT_LT), IT(7));
    cr_assert_null(node_bt_seek(&c, &bt, &v, cmp, NULL, NODE_BT_LT));
    void **slot = node_bt_slot(&bt, &v, cmp, NULL);
    cr_assert_not_null(slot);
    /* a second item needs a node; removing it gives the memory back */
    cr_assert_eq(node_bt_insert(&bt, IT(9), &hi, cmp, NULL, &bytes), 0);
    cr_assert_gt(bytes, 0);
    cr_assert_eq(node_bt_remove(&bt, &hi, cmp, NULL, &bytes), IT(9));
    cr_assert_eq(bytes, 0);
    cr_assert_eq(bt.root, IT(7));
    cr_assert_null(node_bt_remove(&bt, &hi, cmp, NULL, &bytes));
    cr_assert_eq(node_bt_remove(&bt, &v, cmp, NULL, &bytes), IT(7));
    cr_assert_eq(bt.count, 0);
}

typedef struct acc {
    int64_t sum;
    int n;
} acc_t;

static void acc_cb(void *item, void *ud)
{
    acc_t *a = ud;
    a->sum += (int64_t)(uintptr_t)item;
    a->n++;
}

Test(nstore_btree, clear_calls_the_item_callback_once_per_item)
{
    node_bt_t bt;
    node_bt_init(&bt);
    int64_t bytes = 0;
    for (int64_t v = 1; v <= 1000; v++)
        cr_assert_eq(node_bt_insert(&bt, IT(v), &v, cmp, NULL, &bytes), 0);
    acc_t acc = {0, 0};
    node_bt_clear(&bt, acc_cb, &acc, &bytes);
    cr_assert_eq(acc.n, 1000);
    cr_assert_eq(acc.sum, 500500);
    cr_assert_eq(bytes, 0);
    cr_assert_eq(bt.count, 0);
}
