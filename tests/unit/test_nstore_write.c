/*
 * node_store writes and point reads: last-write-wins and its tie-breaks,
 * TTL against an injected clock, row markers (INSERT) versus UPDATE-only
 * rows, static columns, counters, dropped columns, and refused writes.
 */
#include "test_nstore_util.h"

Test(nstore_write, a_row_is_read_back_with_its_timestamp)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; c text ck; v int; w text");
    cql_bytes_t ck = TX(&c, "a");
    cr_assert_eq(put1(&c, t, I(&c, 1), &ck, true, 1000, 0, 100, "v", I(&c, 7)), 0);
    const node_row_view_t *r = get(&c, t, I(&c, 1), &ck, 100);
    cr_assert_not_null(r);
    cr_assert_eq(vint(r, t, "v"), 7);
    cr_assert_null(node_row_cell(r, COL(t, "w")));
    cr_assert(r->has_marker);
    cr_assert_eq(r->marker_ts, 1000);
    cr_assert_eq(node_row_cell(r, COL(t, "v"))->ts, 1000);
    cr_assert_eq(node_row_cell(r, COL(t, "v"))->ttl, 0);
    cr_assert_eq(as_int(r->pk[0]), 1);
    cr_assert_eq(r->ck[0].len, 1);
    cr_assert_eq(r->token, -4069959284402364209LL); /* murmur3 of int 1 */
    cql_bytes_t other = TX(&c, "b");
    cr_assert_null(get(&c, t, I(&c, 1), &other, 100));
    cr_assert_null(get(&c, t, I(&c, 2), &ck, 100));
    tctx_close(&c);
}

Test(nstore_write, last_write_wins_and_ties_go_to_tombstones_then_greater_values)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; v int");
    cql_bytes_t k = I(&c, 1);
    cr_assert_eq(put1(&c, t, k, NULL, false, 10, 0, 100, "v", I(&c, 5)), 0);
    cr_assert_eq(put1(&c, t, k, NULL, false, 9, 0, 100, "v", I(&c, 6)), 0); /* older: loses */
    cr_assert_eq(vint(get(&c, t, k, NULL, 100), t, "v"), 5);
    cr_assert_eq(put1(&c, t, k, NULL, false, 10, 0, 100, "v", I(&c, 3)), 0); /* tie, smaller */
    cr_assert_eq(vint(get(&c, t, k, NULL, 100), t, "v"), 5);
    cr_assert_eq(put1(&c, t, k, NULL, false, 10, 0, 100, "v", I(&c, 8)), 0); /* tie, greater */
    cr_assert_eq(vint(get(&c, t, k, NULL, 100), t, "v"), 8);
    cr_assert_eq(put1(&c, t, k, NULL, false, 11, 0, 100, "v", I(&c, 1)), 0); /* newer */
    cr_assert_eq(vint(get(&c, t, k, NULL, 100), t, "v"), 1);
    cr_assert_eq(put1(&c, t, k, NULL, false, 11, 0, 100, "v", NUL()), 0); /* tie: null wins */
    cr_assert_null(get(&c, t, k, NULL, 100)); /* UPDATE-only row with no cells is gone */
    /* an unset value changes nothing */
    cql_bytes_t unset = {NULL, CQL_BYTES_NOT_SET};
    cr_assert_eq(put1(&c, t, k, NULL, false, 50, 0, 100, "v", unset), 0);
    cr_assert_null(get(&c, t, k, NULL, 100));
    tctx_close(&c);
}

Test(nstore_write, with_a_grace_a_tombstone_rejects_an_older_write)
{
    tctx_t c;
    tctx_init(&c, 3600);
    const node_table_t *t = mk_table(&c, "t", "k int pk; v int");
    cql_bytes_t k = I(&c, 1);
    cr_assert_eq(put1(&c, t, k, NULL, false, 20, 0, 100, "v", NUL()), 0);
    cr_assert_eq(put1(&c, t, k, NULL, false, 19, 0, 100, "v", I(&c, 1)), 0);
    cr_assert_null(get(&c, t, k, NULL, 100));
    cr_assert_eq(put1(&c, t, k, NULL, false, 21, 0, 100, "v", I(&c, 2)), 0);
    cr_assert_eq(vint(get(&c, t, k, NULL, 100), t, "v"), 2);
    tctx_close(&c);
}

Test(nstore_write, ttl_expires_against_the_injected_clock)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; v int; w int");
    cql_bytes_t k = I(&c, 1);
    cr_assert_eq(put1(&c, t, k, NULL, true, 10, 60, 1000, "v", I(&c, 5)), 0);
    cr_assert_eq(put1(&c, t, k, NULL, false, 11, 0, 1000, "w", I(&c, 6)), 0);
    const node_row_view_t *r = get(&c, t, k, NULL, 1015);
    cr_assert_eq(node_row_cell(r, COL(t, "v"))->ttl, 45);
    cr_assert_eq(r->marker_ttl, 45);
    r = get(&c, t, k, NULL, 1059);
    cr_assert_eq(vint(r, t, "v"), 5);
    cr_assert_eq(node_row_cell(r, COL(t, "v"))->ttl, 1);
    r = get(&c, t, k, NULL, 1060); /* expired at exactly now + ttl */
    cr_assert_not_null(r);          /* w keeps the row alive */
    cr_assert_null(node_row_cell(r, COL(t, "v")));
    cr_assert(!r->has_marker);
    cr_assert_eq(vint(r, t, "w"), 6);
    /* an INSERT with a TTL and nothing else: the row disappears entirely */
    cql_bytes_t k2 = I(&c, 2);
    cr_assert_eq(put1(&c, t, k2, NULL, true, 10, 5, 1000, NULL, NUL()), 0);
    cr_assert_not_null(get(&c, t, k2, NULL, 1004));
    cr_assert_null(get(&c, t, k2, NULL, 1005));
    /* reading in the past is allowed: the store keeps no clock */
    cr_assert_not_null(get(&c, t, k2, NULL, 1000));
    tctx_close(&c);
}

Test(nstore_write, an_inserted_row_stays_with_nulls_but_an_updated_one_goes)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; c int ck; v int");
    cql_bytes_t ck = I(&c, 1);
    cr_assert_eq(put1(&c, t, I(&c, 1), &ck, true, 10, 0, 100, "v", I(&c, 1)), 0);
    cr_assert_eq(put1(&c, t, I(&c, 2), &ck, false, 10, 0, 100, "v", I(&c, 1)), 0);
    cr_assert_eq(put1(&c, t, I(&c, 1), &ck, false, 11, 0, 100, "v", NUL()), 0);
    cr_assert_eq(put1(&c, t, I(&c, 2), &ck, false, 11, 0, 100, "v", NUL()), 0);
    const node_row_view_t *r = get(&c, t, I(&c, 1), &ck, 100);
    cr_assert_not_null(r);
    cr_assert_eq(r->ncells, 0);
    cr_assert_null(get(&c, t, I(&c, 2), &ck, 100));
    node_store_stats_t st;
    node_store_stats(c.s, t, &st);
    cr_assert_eq(st.rows, 1);      /* the dead row was freed, not kept */
    cr_assert_eq(st.partitions, 1);
    tctx_close(&c);
}

Test(nstore_write, static_cells_are_shared_by_the_rows_of_a_partition)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; c int ck; s int static; v int");
    cql_bytes_t k = I(&c, 1), c1 = I(&c, 1), c2 = I(&c, 2);
    /* INSERT INTO t (k, s) VALUES (1, 9): no clustering, statics only */
    cr_assert_eq(put1(&c, t, k, NULL, true, 10, 0, 100, "s", I(&c, 9)), 0);
    cr_assert_null(get(&c, t, k, &c1, 100));
    node_scan_t sc = {.pk = &k, .static_rows = true, .now = 100};
    cr_assert_eq(count_rows(&c, t, &sc), 1); /* the static-only row */
    cr_assert_eq(node_iter_open(c.it, c.s, t, &sc), 0);
    const node_row_view_t *r;
    cr_assert_eq(node_iter_next(c.it, &r), 1);
    cr_assert(r->static_only);
    cr_assert_null(r->ck);
    cr_assert_eq(vint(r, t, "s"), 9);
    sc.static_rows = false;
    cr_assert_eq(count_rows(&c, t, &sc), 0);
    cr_assert_eq(put1(&c, t, k, &c1, true, 10, 0, 100, "v", I(&c, 1)), 0);
    cr_assert_eq(put1(&c, t, k, &c2, true, 10, 0, 100, "v", I(&c, 2)), 0);
    sc.static_rows = true;
    cr_assert_eq(count_rows(&c, t, &sc), 2); /* no static-only row any more */
    cr_assert_eq(put1(&c, t, k, &c2, false, 11, 0, 100, "s", I(&c, 4)), 0);
    cr_assert_eq(vint(get(&c, t, k, &c1, 100), t, "s"), 4);
    cr_assert_eq(vint(get(&c, t, k, &c2, 100), t, "s"), 4);
    /* a regular write without clustering is refused */
    cr_assert_eq(put1(&c, t, k, NULL, false, 12, 0, 100, "v", I(&c, 1)), CQLMQ_EINVAL);
    tctx_close(&c);
}

Test(nstore_write, counters_add_up_and_refuse_everything_else)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k text pk; n counter; m counter");
    cql_bytes_t k = TX(&c, "page");
    for (int i = 0; i < 10; i++)
        cr_assert_eq(op1(&c, t, k, NULL, "n", NODE_OP_COUNTER_ADD, NUL(), 0, 3, 10 + i), 0);
    cr_assert_eq(op1(&c, t, k, NULL, "n", NODE_OP_COUNTER_ADD, NUL(), 0, -5, 30), 0);
    cr_assert_eq(op1(&c, t, k, NULL, "m", NODE_OP_COUNTER_ADD, NUL(), 0, -1, 30), 0);
    const node_row_view_t *r = get(&c, t, k, NULL, 100);
    cr_assert_eq((int64_t)cql_load_u64(node_row_cell(r, COL(t, "n"))->value.ptr), 25);
    cr_assert_eq((int64_t)cql_load_u64(node_row_cell(r, COL(t, "m"))->value.ptr), -1);
    cr_assert_eq(op1(&c, t, k, NULL, "n", NODE_OP_SET, BI(&c, 1), 0, 0, 40), CQLMQ_EINVAL);
    cr_assert_eq(put1(&c, t, k, NULL, true, 40, 0, 100, NULL, NUL()), CQLMQ_EINVAL);
    cr_assert_eq(op1(&c, t, k, NULL, "n", NODE_OP_DELETE, NUL(), 0, 0, 50), 0);
    r = get(&c, t, k, NULL, 100);
    cr_assert_null(node_row_cell(r, COL(t, "n")));
    cr_assert_eq(op1(&c, t, k, NULL, "n", NODE_OP_COUNTER_ADD, NUL(), 0, 2, 60), 0);
    r = get(&c, t, k, NULL, 100);
    cr_assert_eq((int64_t)cql_load_u64(node_row_cell(r, COL(t, "n"))->value.ptr), 2);
    const node_table_t *p = mk_table(&c, "plain", "k int pk; v int");
    cr_assert_eq(op1(&c, p, I(&c, 1), NULL, "v", NODE_OP_COUNTER_ADD, NUL(), 0, 1, 1),
                 CQLMQ_EINVAL);
    tctx_close(&c);
}

Test(nstore_write, bad_writes_are_refused_and_change_nothing)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; c int ck; v int; l list<int>");
    const node_table_t *o = mk_table(&c, "o", "k int pk; v int");
    cql_bytes_t k = I(&c, 1), ck = I(&c, 1), bad3 = raw(&c, "abc", 3);
    cr_assert_eq(put1(&c, t, NUL(), &ck, true, 1, 0, 100, "v", I(&c, 1)), CQLMQ_EINVAL);
    cr_assert_eq(put1(&c, t, bad3, &ck, true, 1, 0, 100, "v", I(&c, 1)), CQLMQ_EINVAL);
    cr_assert_eq(put1(&c, t, k, &bad3, true, 1, 0, 100, "v", I(&c, 1)), CQLMQ_EINVAL);
    cr_assert_eq(put1(&c, t, k, &ck, true, 1, -1, 100, "v", I(&c, 1)), CQLMQ_EINVAL);
    cr_assert_eq(put1(&c, t, k, &ck, true, 1, NODE_TTL_MAX + 1, 100, "v", I(&c, 1)),
                 CQLMQ_EINVAL);
    node_cell_op_t foreign = {COL(o, "v"), NODE_OP_SET, I(&c, 1), 0, 0};
    node_write_t w = {&k, &ck, &foreign, 1, false, 1, 0, 100};
    cr_assert_eq(node_store_write(c.s, t, &w), CQLMQ_EINVAL);
    node_cell_op_t keyop = {COL(t, "c"), NODE_OP_SET, I(&c, 1), 0, 0};
    w.ops = &keyop;
    cr_assert_eq(node_store_write(c.s, t, &w), CQLMQ_EINVAL);
    /* two ops, the second fails: the first is not applied either */
    node_cell_op_t two[] = {{COL(t, "v"), NODE_OP_SET, I(&c, 1), 0, 0},
                            {COL(t, "l"), NODE_OP_LIST_SET_AT, I(&c, 1), 3, 0}};
    w.ops = two;
    w.nops = 2;
    cr_assert_eq(node_store_write(c.s, t, &w), CQLMQ_ERANGE);
    cr_assert_null(get(&c, t, k, &ck, 100));
    node_cell_op_t setop = {COL(t, "l"), NODE_OP_SET_ADD, LI(&c, 1, 1), 0, 0};
    w.ops = &setop;
    w.nops = 1;
    cr_assert_eq(node_store_write(c.s, t, &w), CQLMQ_EINVAL); /* set op on a list */
    node_cell_op_t mal = {COL(t, "l"), NODE_OP_LIST_APPEND, raw(&c, "\0\0\0\5", 4), 0, 0};
    w.ops = &mal;
    cr_assert_eq(node_store_write(c.s, t, &w), CQLMQ_EMALFORMED);
    node_store_stats_t st;
    node_store_stats(c.s, NULL, &st);
    cr_assert_eq(st.rows, 0);
    cr_assert_eq(st.partitions, 0);
    tctx_close(&c);
}

Test(nstore_write, a_dropped_column_hides_its_data_even_when_added_again)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; v int; w int");
    cql_bytes_t k = I(&c, 1);
    cr_assert_eq(put1(&c, t, k, NULL, false, 1, 0, 100, "v", I(&c, 1)), 0);
    cr_assert_eq(put1(&c, t, k, NULL, false, 1, 0, 100, "w", I(&c, 2)), 0);
    const node_column_t *old = COL(t, "v");
    cr_assert_eq(node_table_drop_column(c.s, "ks", "t", "v"), 0);
    const node_row_view_t *r = get(&c, t, k, NULL, 100);
    cr_assert_eq(r->ncells, 1);
    cr_assert_null(node_row_cell(r, old));
    cr_assert_eq(node_table_add_column(c.s, "ks", "t", "v", T(&c, "int"), false), 0);
    r = get(&c, t, k, NULL, 100);
    cr_assert_null(node_row_cell(r, COL(t, "v")));
    cr_assert_eq(vint(r, t, "w"), 2);
    /* writing the dropped column struct is refused */
    cr_assert_eq(op1(&c, t, k, NULL, "v", NODE_OP_SET, I(&c, 3), 0, 0, 2), 0);
    node_cell_op_t stale = {old, NODE_OP_SET, I(&c, 1), 0, 0};
    node_write_t w = {&k, NULL, &stale, 1, false, 3, 0, 100};
    cr_assert_eq(node_store_write(c.s, t, &w), CQLMQ_EINVAL);
    cr_assert_eq(vint(get(&c, t, k, NULL, 100), t, "v"), 3);
    tctx_close(&c);
}

Test(nstore_write, composite_partition_keys_split_back_into_components)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "a text pk; b int pk; v int");
    cql_bytes_t pk[] = {TX(&c, "x"), I(&c, 5)};
    node_cell_op_t op = {COL(t, "v"), NODE_OP_SET, I(&c, 1), 0, 0};
    node_write_t w = {pk, NULL, &op, 1, true, 1, 0, 100};
    cr_assert_eq(node_store_write(c.s, t, &w), 0);
    const node_row_view_t *r;
    cr_assert_eq(node_store_get(c.it, c.s, t, pk, NULL, 100, &r), 0);
    cr_assert_eq(r->pk[0].len, 1);
    cr_assert_eq(r->pk[0].ptr[0], 'x');
    cr_assert_eq(as_int(r->pk[1]), 5);
    cr_assert_eq(r->pkey.len, 3 + 1 + 3 + 4);
    tctx_close(&c);
}
