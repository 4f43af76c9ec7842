/*
 * node_catalog: keyspaces, user-defined types and tables: create, drop,
 * alter, lookups, name order, options with Cassandra's defaults, and the
 * error codes of each.
 */
#include "test_nstore_util.h"

Test(nstore_catalog, keyspaces_are_listed_in_name_order_and_errors_are_exact)
{
    node_store_t *s = node_store_new(NULL);
    node_kv_t repl[] = {{"replication_factor", "3"}, {"class", "SimpleStrategy"}};
    uint64_t v0 = node_catalog_version(s);
    cr_assert_eq(node_ks_create(s, "zeta", repl, 2, true, NULL), 0);
    cr_assert_eq(node_ks_create(s, "alpha", NULL, 0, false, NULL), 0);
    const node_keyspace_t *k = NULL;
    cr_assert_eq(node_ks_create(s, "mid", repl, 2, true, &k), 0);
    cr_assert_str_eq(k->name, "mid");
    cr_assert_eq(k->nrepl, 2);
    cr_assert_str_eq(k->repl[0].key, "class"); /* sorted by key */
    cr_assert_str_eq(k->repl[1].value, "3");
    cr_assert_eq(node_ks_create(s, "mid", NULL, 0, true, NULL), CQLMQ_EEXISTS);
    cr_assert_eq(node_ks_create(s, "", NULL, 0, true, NULL), CQLMQ_EINVAL);
    node_kv_t dup[] = {{"class", "a"}, {"class", "b"}};
    cr_assert_eq(node_ks_create(s, "dup", dup, 2, true, NULL), CQLMQ_EINVAL);
    cr_assert_null(node_ks_find(s, "dup"));
    cr_assert_eq(node_ks_count(s), 3);
    cr_assert_str_eq(node_ks_at(s, 0)->name, "alpha");
    cr_assert_str_eq(node_ks_at(s, 1)->name, "mid");
    cr_assert_str_eq(node_ks_at(s, 2)->name, "zeta");
    cr_assert_null(node_ks_at(s, 3));
    cr_assert_gt(node_catalog_version(s), v0);
    cr_assert_eq(node_ks_alter(s, "alpha", repl, 1, true), 0);
    cr_assert(node_ks_find(s, "alpha")->durable_writes);
    cr_assert_eq(node_ks_find(s, "alpha")->nrepl, 1);
    cr_assert_eq(node_ks_alter(s, "nope", repl, 1, true), CQLMQ_ENOTFOUND);
    cr_assert_eq(node_ks_drop(s, "mid"), 0);
    cr_assert_eq(node_ks_drop(s, "mid"), CQLMQ_ENOTFOUND);
    cr_assert_null(node_ks_find(s, "mid"));
    cr_assert_eq(node_ks_count(s), 2);
    node_store_free(&s);
    node_store_free(&s); /* NULL is fine */
}

Test(nstore_catalog, a_table_gets_positions_defaults_and_ordered_columns)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t =
        mk_table(&c, "events", "v text; k2 int pk; c1 int ck desc; s int static; "
                               "k1 text pk; c2 timeuuid ck; m map<int, text>");
    cr_assert_str_eq(t->keyspace, "ks");
    cr_assert_eq(t->npk, 2);
    cr_assert_eq(t->nck, 2);
    cr_assert_eq(t->ncols, 7);
    cr_assert_eq(t->nstatic, 1);
    cr_assert_str_eq(t->pk[0]->name, "k2");
    cr_assert_str_eq(t->pk[1]->name, "k1");
    cr_assert_eq(t->pk[1]->position, 1);
    cr_assert_eq(t->ck[0]->order, NODE_ORDER_DESC);
    cr_assert_eq(t->ck[1]->order, NODE_ORDER_ASC);
    cr_assert_str_eq(t->cols[4]->name, "v"); /* then the others in creation order */
    cr_assert_str_eq(t->cols[5]->name, "s");
    cr_assert_eq(COL(t, "s")->kind, NODE_COL_STATIC);
    cr_assert_eq(COL(t, "v")->position, -1);
    cr_assert_str_eq(node_col_kind_name(COL(t, "k1")->kind), "partition_key");
    cr_assert_str_eq(node_order_name(COL(t, "c1")->order), "desc");
    cr_assert_str_eq(node_order_name(COL(t, "v")->order), "none");
    char buf[64];
    cr_assert_gt(cql_type_format(COL(t, "m")->type, buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, "map<int, text>");
    /* defaults: sorted, Cassandra's values */
    cr_assert_str_eq(node_table_opt(t, "gc_grace_seconds"), "864000");
    cr_assert_str_eq(node_table_opt(t, "comment"), "");
    cr_assert_eq(t->default_ttl, 0);
    for (size_t i = 1; i < t->nopts; i++)
        cr_assert_lt(strcmp(t->opts[i - 1].key, t->opts[i].key), 0);
    cr_assert_eq(t->id[6] >> 4, 4); /* a version 4 uuid */
    cr_assert_eq(node_table_find(c.s, "ks", "events"), t);
    cr_assert_null(node_table_find(c.s, "ks", "nope"));
    cr_assert_null(node_table_find(c.s, "nope", "events"));
    tctx_close(&c);
}

Test(nstore_catalog, invalid_tables_are_refused_with_einval)
{
    tctx_t c;
    tctx_init(&c, 0);
    const cql_type_t *it = T(&c, "int"), *ct = T(&c, "counter"), *lt = T(&c, "list<int>");
    const cql_type_t *dt = T(&c, "duration");
    struct {
        node_column_def_t cols[3];
        size_t n;
    } bad[] = {
        {{{"v", it, NODE_COL_REGULAR, 0}}, 1},                                   /* no pk */
        {{{"k", it, NODE_COL_PARTITION_KEY, 0}, {"k", it, NODE_COL_REGULAR, 0}}, 2}, /* dup */
        {{{"k", it, NODE_COL_PARTITION_KEY, 0}, {"s", it, NODE_COL_STATIC, 0}}, 2}, /* static, no ck */
        {{{"k", ct, NODE_COL_PARTITION_KEY, 0}}, 1},                             /* counter key */
        {{{"k", lt, NODE_COL_PARTITION_KEY, 0}}, 1},                   /* non-frozen list key */
        {{{"k", dt, NODE_COL_PARTITION_KEY, 0}}, 1},                             /* duration key */
        {{{"k", it, NODE_COL_PARTITION_KEY, 0}, {"a", ct, NODE_COL_REGULAR, 0},
          {"b", it, NODE_COL_REGULAR, 0}}, 3},                                   /* mixed counters */
        {{{"", it, NODE_COL_PARTITION_KEY, 0}}, 1},                              /* empty name */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        node_table_def_t d = {"ks", "t", NULL, bad[i].cols, bad[i].n, NULL, 0};
        cr_assert_eq(node_table_create(c.s, &d, NULL), CQLMQ_EINVAL, "case %zu", i);
    }
    node_column_def_t ok[] = {{"k", it, NODE_COL_PARTITION_KEY, 0}, {"n", ct, NODE_COL_REGULAR, 0}};
    node_kv_t ttl[] = {{"default_time_to_live", "60"}};
    node_table_def_t d = {"ks", "t", NULL, ok, 2, ttl, 1};
    cr_assert_eq(node_table_create(c.s, &d, NULL), CQLMQ_EINVAL); /* ttl on counters */
    node_kv_t badttl[] = {{"default_time_to_live", "-1"}};
    ok[1].type = it;
    d.opts = badttl;
    cr_assert_eq(node_table_create(c.s, &d, NULL), CQLMQ_EINVAL);
    d.keyspace = "nope";
    d.opts = ttl;
    cr_assert_eq(node_table_create(c.s, &d, NULL), CQLMQ_ENOTFOUND);
    d.keyspace = "ks";
    const node_table_t *t;
    cr_assert_eq(node_table_create(c.s, &d, &t), 0);
    cr_assert_eq(t->default_ttl, 60);
    cr_assert_str_eq(node_table_opt(t, "default_time_to_live"), "60");
    cr_assert_eq(node_table_create(c.s, &d, NULL), CQLMQ_EEXISTS);
    cr_assert_eq(node_table_count(c.s, "ks"), 1);
    tctx_close(&c);
}

Test(nstore_catalog, alter_adds_and_drops_columns_and_sets_options)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "t", "k int pk; c int ck; v int");
    uint16_t vid = COL(t, "v")->id;
    cr_assert_eq(node_table_add_column(c.s, "ks", "t", "w", T(&c, "text"), false), 0);
    cr_assert_eq(node_table_add_column(c.s, "ks", "t", "st", T(&c, "int"), true), 0);
    cr_assert_eq(node_table_add_column(c.s, "ks", "t", "w", T(&c, "int"), false), CQLMQ_EEXISTS);
    cr_assert_eq(node_table_add_column(c.s, "ks", "t", "n", T(&c, "counter"), false),
                 CQLMQ_EINVAL);
    cr_assert_eq(node_table_add_column(c.s, "ks", "x", "n", T(&c, "int"), false),
                 CQLMQ_ENOTFOUND);
    cr_assert_eq(t->ncols, 5);
    cr_assert_eq(t->nstatic, 1);
    cr_assert_eq(node_table_drop_column(c.s, "ks", "t", "k"), CQLMQ_EINVAL);
    cr_assert_eq(node_table_drop_column(c.s, "ks", "t", "c"), CQLMQ_EINVAL);
    cr_assert_eq(node_table_drop_column(c.s, "ks", "t", "zz"), CQLMQ_ENOTFOUND);
    cr_assert_eq(node_table_drop_column(c.s, "ks", "t", "v"), 0);
    cr_assert_null(node_table_column(t, "v"));
    cr_assert(node_table_column_by_id(t, vid)->dropped);
    /* re-adding gives a new column: new id */
    cr_assert_eq(node_table_add_column(c.s, "ks", "t", "v", T(&c, "int"), false), 0);
    cr_assert_neq(COL(t, "v")->id, vid);
    node_kv_t o[] = {{"comment", "hello"}, {"zz_custom", "1"}};
    cr_assert_eq(node_table_set_opts(c.s, "ks", "t", o, 2), 0);
    cr_assert_str_eq(node_table_opt(t, "comment"), "hello");
    cr_assert_str_eq(node_table_opt(t, "zz_custom"), "1");
    cr_assert_str_eq(node_table_opt(t, "gc_grace_seconds"), "864000");
    node_kv_t b[] = {{"default_time_to_live", "x"}};
    cr_assert_eq(node_table_set_opts(c.s, "ks", "t", b, 1), CQLMQ_EINVAL);
    cr_assert_str_eq(node_table_opt(t, "comment"), "hello");
    tctx_close(&c);
}

Test(nstore_catalog, user_types_resolve_in_type_strings_and_cannot_drop_in_use)
{
    tctx_t c;
    tctx_init(&c, 0);
    const char *f[] = {"street", "zip"};
    const cql_type_t *ft[] = {T(&c, "text"), T(&c, "int")};
    const node_udt_t *u;
    cr_assert_eq(node_udt_create(c.s, "ks", "addr", f, ft, 2, &u), 0);
    cr_assert_eq(node_udt_create(c.s, "ks", "addr", f, ft, 2, NULL), CQLMQ_EEXISTS);
    cr_assert_eq(node_udt_create(c.s, "nope", "addr", f, ft, 2, NULL), CQLMQ_ENOTFOUND);
    const char *dupf[] = {"a", "a"};
    cr_assert_eq(node_udt_create(c.s, "ks", "d", dupf, ft, 2, NULL), CQLMQ_EINVAL);
    cr_assert_eq(u->nfields, 2);
    cr_assert_str_eq(u->type->name, "addr");
    cr_assert_eq(node_udt_add_field(c.s, "ks", "addr", "city", T(&c, "text")), 0);
    cr_assert_eq(node_udt_add_field(c.s, "ks", "addr", "zip", T(&c, "text")), CQLMQ_EEXISTS);
    cr_assert_eq(node_udt_find(c.s, "ks", "addr")->nfields, 3);
    const char *g[] = {"home"};
    const cql_type_t *gt[] = {T(&c, "frozen<addr>")};
    cr_assert_eq(node_udt_create(c.s, "ks", "person", g, gt, 1, NULL), 0);
    cr_assert_eq(node_udt_count(c.s, "ks"), 2);
    cr_assert_str_eq(node_udt_at(c.s, "ks", 0)->name, "addr");
    cr_assert_eq(node_udt_drop(c.s, "ks", "addr"), CQLMQ_ESTATE); /* used by person */
    const node_table_t *t = mk_table(&c, "p", "k int pk; who frozen<person>");
    cr_assert_eq(COL(t, "who")->type->kind, CQL_TYPE_UDT);
    cr_assert_eq(node_udt_drop(c.s, "ks", "person"), CQLMQ_ESTATE); /* used by p */
    cr_assert_eq(node_table_drop(c.s, "ks", "p"), 0);
    cr_assert_eq(node_table_drop(c.s, "ks", "p"), CQLMQ_ENOTFOUND);
    cr_assert_eq(node_udt_drop(c.s, "ks", "person"), 0);
    cr_assert_eq(node_udt_drop(c.s, "ks", "addr"), 0);
    cr_assert_eq(node_udt_drop(c.s, "ks", "addr"), CQLMQ_ENOTFOUND);
    cql_type_t *out;
    cr_assert_eq(node_udt_lookup(c.s, "ks", "addr", &c.a, &out), CQLMQ_ENOTFOUND);
    tctx_close(&c);
}

Test(nstore_catalog, dropping_a_keyspace_drops_its_tables_and_their_data)
{
    tctx_t c;
    tctx_init(&c, 0);
    const node_table_t *t = mk_table(&c, "b", "k int pk; v int");
    mk_table(&c, "a", "k int pk");
    cr_assert_str_eq(node_table_at(c.s, "ks", 0)->name, "a");
    cr_assert_str_eq(node_table_at(c.s, "ks", 1)->name, "b");
    cr_assert_null(node_table_at(c.s, "ks", 2));
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(put1(&c, t, I(&c, i), NULL, true, 1, 0, 100, "v", I(&c, i)), 0);
    node_store_stats_t st;
    node_store_stats(c.s, NULL, &st);
    cr_assert_eq(st.rows, 1000);
    cr_assert_gt(st.bytes, 1000 * 8);
    cr_assert_eq(node_ks_drop(c.s, "ks"), 0);
    node_store_stats(c.s, NULL, &st);
    cr_assert_eq(st.rows, 0);
    cr_assert_eq(st.partitions, 0);
    cr_assert_eq(node_table_count(c.s, "ks"), 0);
    cr_assert_null(node_table_find(c.s, "ks", "b"));
    tctx_close(&c);
}
