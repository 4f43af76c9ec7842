/*
 * node_store memory: a million rows cost little more than their payload,
 * and deleting them gives the memory back (store accounting and malloc's
 * own view agree).
 */
#include <malloc.h>

#include "node_btree.h"
#include "test_nstore_util.h"

static int cmp64(const void *key, const void *item, void *ctx)
{
    (void)ctx;
    int64_t k = *(const int64_t *)key, v = (int64_t)(uintptr_t)item;
    return k < v ? -1 : k > v;
}

static size_t heap_used(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* A 20-byte text value derived from i. */
static cql_bytes_t value_of(char buf[21], int i)
{
    snprintf(buf, 21, "value-%014d", i);
    return (cql_bytes_t){(const uint8_t *)buf, 20};
}

Test(nstore_memory, a_million_rows_cost_under_three_times_their_payload, .timeout = 120)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "kv", "k int pk; v text");
    const node_column_t *v = COL(t, "v");
    enum { N = 1000000 };
    size_t heap0 = heap_used();
    uint8_t kb[4];
    char vb[21];
    for (int i = 0; i < N; i++) {
        cql_store_u32(kb, (uint32_t)i);
        cql_bytes_t k = {kb, 4};
        node_cell_op_t op = {v, NODE_OP_SET, value_of(vb, i), 0, 0};
        node_write_t w = {&k, NULL, &op, 1, true, 1000 + i, 0, 100};
        cr_assert_eq(node_store_write(c.s, t, &w), 0);
    }
    node_store_stats_t st;
    node_store_stats(c.s, t, &st);
    cr_assert_eq(st.rows, N);
    cr_assert_eq(st.partitions, N);
    double payload = 4 + 20, per_row = (double)st.bytes / N;
    double heap_per_row = (double)(heap_used() - heap0) / N;
    printf("nstore memory: %.1f bytes/row accounted, %.1f bytes/row heap, payload %.0f\n",
           per_row, heap_per_row, payload);
    cr_assert_lt(per_row, 3 * payload + 64, "%.1f bytes per row", per_row);
#ifndef CQLMQ_SANITIZED /* the sanitizer's allocator has its own bookkeeping */
    cr_assert_lt(heap_per_row, 3 * payload + 80, "%.1f heap bytes per row", heap_per_row);
#endif
    /* spot checks */
    for (int i = 0; i < N; i += 99991) {
        cql_store_u32(kb, (uint32_t)i);
        const node_row_view_t *r = get(&c, t, (cql_bytes_t){kb, 4}, NULL, 100);
        cr_assert_not_null(r);
        cql_bytes_t want = value_of(vb, i);
        cr_assert_eq(memcmp(node_row_cell(r, v)->value.ptr, want.ptr, 20), 0);
    }
    /* deleting frees the memory */
    for (int i = 0; i < N; i++) {
        cql_store_u32(kb, (uint32_t)i);
        cql_bytes_t k = {kb, 4};
        cr_assert_eq(node_store_delete_partition(c.s, t, &k, 5000000, 200), 0);
    }
    node_store_stats(c.s, t, &st);
    cr_assert_eq(st.rows, 0);
    cr_assert_eq(st.partitions, 0);
    cr_assert_eq(st.bytes, 0);
#ifndef CQLMQ_SANITIZED
    size_t left = heap_used() - heap0;
    printf("nstore memory: %zu heap bytes left after deleting everything\n", left);
    cr_assert_lt(left, 1u << 20);
#endif
    tctx_close(&c);
}

Test(nstore_memory, clustered_rows_are_compact_and_row_deletes_free_them, .timeout = 120)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "q", "k int pk; c bigint ck; v text");
    const node_column_t *v = COL(t, "v");
    enum { P = 200, R = 1000 };
    uint8_t kb[4], cb[8];
    char vb[21];
    for (int r = 0; r < R; r++)
        for (int p = 0; p < P; p++) {
            cql_store_u32(kb, (uint32_t)p);
            cql_store_u64(cb, (uint64_t)r);
            cql_bytes_t k = {kb, 4}, ck = {cb, 8};
            node_cell_op_t op = {v, NODE_OP_SET, value_of(vb, r), 0, 0};
            node_write_t w = {&k, &ck, &op, 1, true, 1, 0, 100};
            cr_assert_eq(node_store_write(c.s, t, &w), 0);
        }
    node_store_stats_t st;
    node_store_stats(c.s, t, &st);
    cr_assert_eq(st.rows, (uint64_t)P * R);
    double payload = 4.0 / R + 8 + 20, per_row = (double)st.bytes / (P * R);
    printf("nstore memory: %.1f bytes/clustered row, payload %.1f\n", per_row, payload);
    cr_assert_lt(per_row, 3 * payload + 64);
    /* a queue: delete the oldest half of every partition, row by row */
    for (int r = 0; r < R / 2; r++)
        for (int p = 0; p < P; p++) {
            cql_store_u32(kb, (uint32_t)p);
            cql_store_u64(cb, (uint64_t)r);
            cql_bytes_t k = {kb, 4}, ck = {cb, 8};
            cr_assert_eq(node_store_delete_row(c.s, t, &k, &ck, 2, 100), 0);
        }
    node_store_stats_t half;
    node_store_stats(c.s, t, &half);
    cr_assert_eq(half.rows, (uint64_t)P * R / 2);
    cr_assert_lt(half.bytes, st.bytes * 6 / 10, "%llu of %llu bytes left",
                 (unsigned long long)half.bytes, (unsigned long long)st.bytes);
    tctx_close(&c);
}

Test(nstore_memory, btree_nodes_of_keys_inserted_in_order_are_packed)
{
    node_bt_t up, down;
    node_bt_init(&up);
    node_bt_init(&down);
    int64_t bu = 0, bd = 0;
    enum { N = 100000 };
    for (int64_t v = 1; v <= N; v++) {
        int64_t w = N + 1 - v;
        cr_assert_eq(node_bt_insert(&up, (void *)(uintptr_t)v, &v, cmp64, NULL, &bu), 0);
        cr_assert_eq(node_bt_insert(&down, (void *)(uintptr_t)w, &w, cmp64, NULL, &bd), 0);
    }
    /* 8 bytes of pointer per item plus node headers: under 10 bytes */
    cr_assert_lt((double)bu / N, 10.0, "ascending: %.2f bytes/item", (double)bu / N);
    cr_assert_lt((double)bd / N, 10.0, "descending: %.2f bytes/item", (double)bd / N);
    node_bt_cur_t cu, cd;
    int64_t want = 1;
    void *a = node_bt_first(&cu, &up), *b = node_bt_first(&cd, &down);
    for (; a || b; a = node_bt_next(&cu), b = node_bt_next(&cd), want++) {
        cr_assert_eq(a, (void *)(uintptr_t)want);
        cr_assert_eq(b, (void *)(uintptr_t)want);
    }
    cr_assert_eq(want, N + 1);
    node_bt_clear(&up, NULL, NULL, &bu);
    node_bt_clear(&down, NULL, NULL, &bd);
    cr_assert_eq(bu, 0);
    cr_assert_eq(bd, 0);
}
