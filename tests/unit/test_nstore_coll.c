/*
 * Non-frozen collections, stored as one serialized value and updated
 * read-modify-write: list, set and map operations, ordering and uniqueness
 * of sets and maps, empty collections as null, and malformed operands.
 */
#include "test_nstore_util.h"

typedef struct fx {
    tctx_t c;
    const node_table_t *t;
    cql_bytes_t k;
    int64_t ts;
} fx_t;

static void fx_init(fx_t *f)
{
    tctx_init(&f->c, 0);
    f->t = mk_table(&f->c, "t", "k int pk; l list<int>; s set<int>; m map<int, int>; "
                                "fs frozen<set<int>>; n int");
    f->k = I(&f->c, 1);
    f->ts = 1;
}

static int op(fx_t *f, const char *col, node_op_kind_t kind, cql_bytes_t v, int32_t index)
{
    return op1(&f->c, f->t, f->k, NULL, col, kind, v, index, 0, f->ts++);
}

/* The ints of column col (flattened pairs for maps); -1 when null. */
static int read_ints(fx_t *f, const char *col, int32_t *out)
{
    const node_row_view_t *r = get(&f->c, f->t, f->k, NULL, 100);
    const node_cell_t *cell = r ? node_row_cell(r, COL(f->t, col)) : NULL;
    return cell ? ints_of(cell->value, out, 64) : -1;
}

#define EXPECT(f, col, ...)                                                        \
    do {                                                                           \
        int32_t want_[] = {__VA_ARGS__}, got_[64];                                 \
        int n_ = read_ints(f, col, got_);                                          \
        cr_assert_eq(n_, (int)(sizeof(want_) / sizeof(want_[0])), "%s: %d items", col, n_); \
        for (int i_ = 0; i_ < n_; i_++)                                            \
            cr_assert_eq(got_[i_], want_[i_], "%s[%d]", col, i_);                  \
    } while (0)

Test(nstore_coll, list_operations_keep_order_and_check_indexes)
{
    fx_t f;
    fx_init(&f);
    cr_assert_eq(op(&f, "l", NODE_OP_SET, LI(&f.c, 2, 5, 6), 0), 0);
    cr_assert_eq(op(&f, "l", NODE_OP_LIST_APPEND, LI(&f.c, 2, 7, 5), 0), 0);
    cr_assert_eq(op(&f, "l", NODE_OP_LIST_PREPEND, LI(&f.c, 2, 1, 2), 0), 0);
    EXPECT(&f, "l", 1, 2, 5, 6, 7, 5);
    cr_assert_eq(op(&f, "l", NODE_OP_LIST_REMOVE, LI(&f.c, 1, 5), 0), 0);
    EXPECT(&f, "l", 1, 2, 6, 7);
    cr_assert_eq(op(&f, "l", NODE_OP_LIST_SET_AT, I(&f.c, 9), 1), 0);
    cr_assert_eq(op(&f, "l", NODE_OP_LIST_DEL_AT, NUL(), 0), 0);
    EXPECT(&f, "l", 9, 6, 7);
    cr_assert_eq(op(&f, "l", NODE_OP_LIST_SET_AT, I(&f.c, 9), 3), CQLMQ_ERANGE);
    cr_assert_eq(op(&f, "l", NODE_OP_LIST_DEL_AT, NUL(), -1), CQLMQ_ERANGE);
    EXPECT(&f, "l", 9, 6, 7);
    cr_assert_eq(op(&f, "l", NODE_OP_LIST_REMOVE, LI(&f.c, 3, 9, 6, 7), 0), 0);
    cr_assert_eq(read_ints(&f, "l", NULL), -1); /* empty list: the row is gone */
    cr_assert_eq(op(&f, "l", NODE_OP_LIST_SET_AT, I(&f.c, 1), 0), CQLMQ_ERANGE);
    tctx_close(&f.c);
}

Test(nstore_coll, sets_are_sorted_and_unique_whatever_the_input_order)
{
    fx_t f;
    fx_init(&f);
    cr_assert_eq(op(&f, "s", NODE_OP_SET, LI(&f.c, 4, 30, -1, 30, 2), 0), 0);
    EXPECT(&f, "s", -1, 2, 30);
    cr_assert_eq(op(&f, "s", NODE_OP_SET_ADD, LI(&f.c, 3, 5, 2, -7), 0), 0);
    EXPECT(&f, "s", -7, -1, 2, 5, 30);
    cr_assert_eq(op(&f, "s", NODE_OP_SET_REMOVE, LI(&f.c, 3, 2, 30, 100), 0), 0);
    EXPECT(&f, "s", -7, -1, 5);
    cr_assert_eq(op(&f, "s", NODE_OP_SET, LI(&f.c, 0), 0), 0); /* s = {} deletes */
    cr_assert_eq(read_ints(&f, "s", NULL), -1);
    /* a frozen empty set is a value, not a deletion */
    cr_assert_eq(op(&f, "fs", NODE_OP_SET, LI(&f.c, 0), 0), 0);
    cr_assert_eq(read_ints(&f, "fs", (int32_t[1]){0}), 0);
    cr_assert_eq(op(&f, "fs", NODE_OP_SET_ADD, LI(&f.c, 1, 1), 0), CQLMQ_EINVAL);
    tctx_close(&f.c);
}

Test(nstore_coll, maps_put_replace_and_remove_by_key)
{
    fx_t f;
    fx_init(&f);
    cr_assert_eq(op(&f, "m", NODE_OP_SET, MII(&f.c, 3, 3, 30, 1, 10, 3, 33), 0), 0);
    EXPECT(&f, "m", 1, 10, 3, 33); /* sorted, the last duplicate wins */
    cr_assert_eq(op(&f, "m", NODE_OP_MAP_PUT, MII(&f.c, 2, 2, 20, 1, 11), 0), 0);
    EXPECT(&f, "m", 1, 11, 2, 20, 3, 33);
    cr_assert_eq(op(&f, "m", NODE_OP_MAP_DEL_KEY, I(&f.c, 2), 0), 0);
    EXPECT(&f, "m", 1, 11, 3, 33);
    cr_assert_eq(op(&f, "m", NODE_OP_MAP_REMOVE, LI(&f.c, 2, 3, 4), 0), 0);
    EXPECT(&f, "m", 1, 11);
    cr_assert_eq(op(&f, "m", NODE_OP_MAP_DEL_KEY, I(&f.c, 1), 0), 0);
    cr_assert_eq(read_ints(&f, "m", NULL), -1);
    cr_assert_eq(op(&f, "m", NODE_OP_LIST_APPEND, LI(&f.c, 1, 1), 0), CQLMQ_EINVAL);
    tctx_close(&f.c);
}

Test(nstore_coll, element_ops_merge_into_the_current_value_stamped_with_the_max)
{
    fx_t f;
    fx_init(&f);
    cr_assert_eq(op1(&f.c, f.t, f.k, NULL, "s", NODE_OP_SET_ADD, LI(&f.c, 1, 1), 0, 0, 10), 0);
    cr_assert_eq(put1(&f.c, f.t, f.k, NULL, false, 20, 0, 100, "n", I(&f.c, 1)), 0);
    cr_assert_eq(op1(&f.c, f.t, f.k, NULL, "s", NODE_OP_DELETE, NUL(), 0, 0, 30), 0);
    /* with grace 0 the tombstone is dropped at once, so an add OLDER than
     * the deletion applies: the documented trade-off (see the next test) */
    cr_assert_eq(op1(&f.c, f.t, f.k, NULL, "s", NODE_OP_SET_ADD, LI(&f.c, 1, 2), 0, 0, 25), 0);
    EXPECT(&f, "s", 2);
    cr_assert_eq(op1(&f.c, f.t, f.k, NULL, "s", NODE_OP_SET_ADD, LI(&f.c, 1, 3), 0, 0, 35), 0);
    /* an element op older than the current value still merges, stamped max */
    cr_assert_eq(op1(&f.c, f.t, f.k, NULL, "s", NODE_OP_SET_ADD, LI(&f.c, 1, 4), 0, 0, 32), 0);
    EXPECT(&f, "s", 2, 3, 4);
    const node_row_view_t *r = get(&f.c, f.t, f.k, NULL, 100);
    cr_assert_eq(node_row_cell(r, COL(f.t, "s"))->ts, 35);
    tctx_close(&f.c);
}

Test(nstore_coll, with_a_grace_a_collection_tombstone_shadows_older_element_ops)
{
    fx_t f;
    tctx_init(&f.c, 600);
    f.t = mk_table(&f.c, "t", "k int pk; s set<int>; n int");
    f.k = I(&f.c, 1);
    cr_assert_eq(put1(&f.c, f.t, f.k, NULL, true, 1, 0, 100, "n", I(&f.c, 1)), 0);
    cr_assert_eq(op1(&f.c, f.t, f.k, NULL, "s", NODE_OP_DELETE, NUL(), 0, 0, 30), 0);
    cr_assert_eq(op1(&f.c, f.t, f.k, NULL, "s", NODE_OP_SET_ADD, LI(&f.c, 1, 2), 0, 0, 25), 0);
    cr_assert_eq(read_ints(&f, "s", NULL), -1);
    cr_assert_eq(op1(&f.c, f.t, f.k, NULL, "s", NODE_OP_SET_ADD, LI(&f.c, 1, 2), 0, 0, 31), 0);
    EXPECT(&f, "s", 2);
    tctx_close(&f.c);
}

Test(nstore_coll, malformed_operands_and_null_elements_are_refused)
{
    fx_t f;
    fx_init(&f);
    uint8_t trailing[] = {0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 1, 9};
    uint8_t nullelem[] = {0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff};
    uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff};
    cr_assert_eq(op(&f, "l", NODE_OP_LIST_APPEND, raw(&f.c, trailing, sizeof(trailing)), 0),
                 CQLMQ_EMALFORMED);
    cr_assert_eq(op(&f, "s", NODE_OP_SET_ADD, raw(&f.c, nullelem, sizeof(nullelem)), 0),
                 CQLMQ_EINVAL);
    cr_assert_eq(op(&f, "m", NODE_OP_MAP_PUT, raw(&f.c, huge, sizeof(huge)), 0),
                 CQLMQ_EMALFORMED);
    cr_assert_eq(op(&f, "s", NODE_OP_SET, raw(&f.c, huge, 2), 0), CQLMQ_EMALFORMED);
    cr_assert_null(get(&f.c, f.t, f.k, NULL, 100));
    tctx_close(&f.c);
}
