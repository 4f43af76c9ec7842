/*
 * SELECT parsing: the exact queries real drivers send on their control
 * connection (reference/test-node-compat.md section 2), selectors,
 * relations, ordering, limits and flags.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "cql_ast.h"

static cql_arena_t arena;

static void setup(void) { cql_arena_init(&arena, 0); }
static void teardown(void) { cql_arena_close(&arena); }

TestSuite(nparse_select, .init = setup, .fini = teardown);

static cql_stmt_t *ok(const char *q)
{
    cql_stmt_t *st = NULL;
    cql_parse_error_t e;
    int rc = cql_parse(q, strlen(q), &arena, &st, &e);
    cr_assert_eq(rc, 0, "parse failed: %s\n  query: %s", e.msg, q);
    cr_assert_not_null(st);
    return st;
}

static const char *fmt(const cql_stmt_t *st)
{
    char *buf = cql_arena_alloc(&arena, 8192);
    cql_stmt_format(st, buf, 8192);
    return buf;
}

/* Control-connection queries and their canonical form. */
static const struct {
    const char *q;
    const char *canon;
} driver_queries[] = {
    {"SELECT * FROM system.peers_v2", NULL},
    {"SELECT * FROM system.local WHERE key='local'",
     "SELECT * FROM system.local WHERE key = 'local'"},
    {"SELECT * FROM system.peers", NULL},
    {"SELECT host_id, cluster_name, data_center, rack, partitioner, release_version, "
     "schema_version FROM system.local WHERE key='local'",
     "SELECT host_id, cluster_name, data_center, rack, partitioner, release_version, "
     "schema_version FROM system.local WHERE key = 'local'"},
    {"SELECT rpc_address FROM system.local WHERE key='local'",
     "SELECT rpc_address FROM system.local WHERE key = 'local'"},
    {"SELECT host_id, peer, peer_port, data_center, rack, native_address, native_port, "
     "release_version, schema_version FROM system.peers_v2", NULL},
    {"SELECT schema_version FROM system.local WHERE key='local'",
     "SELECT schema_version FROM system.local WHERE key = 'local'"},
    {"SELECT host_id, peer, peer_port, native_address, native_port, schema_version FROM "
     "system.peers_v2", NULL},
    {"SELECT peer, host_id, rpc_address, schema_version FROM system.peers", NULL},
    {"SELECT schema_version FROM system.local", NULL},
    {"SELECT schema_version FROM system.peers", NULL},
    {"SELECT * FROM system_schema.keyspaces", NULL},
    {"SELECT * FROM system_schema.tables", NULL},
    {"SELECT * FROM system_schema.columns", NULL},
    {"SELECT * FROM system_schema.types", NULL},
    {"SELECT * FROM system_schema.functions", NULL},
    {"SELECT * FROM system_schema.aggregates", NULL},
    {"SELECT * FROM system_schema.triggers", NULL},
    {"SELECT * FROM system_schema.indexes", NULL},
    {"SELECT * FROM system_schema.views", NULL},
    {"SELECT * FROM system_virtual_schema.keyspaces", NULL},
    {"SELECT * FROM system_virtual_schema.tables", NULL},
    {"SELECT * FROM system_virtual_schema.columns", NULL},
    {"SELECT * FROM system_schema.columns WHERE keyspace_name = 'ks' AND table_name = 't'",
     NULL},
    {"SELECT * FROM system_schema.views WHERE keyspace_name = 'ks' AND view_name = 'v'", NULL},
    {"SELECT * FROM system_schema.types WHERE keyspace_name = 'ks' AND type_name = 'u'", NULL},
    {"SELECT * FROM system_schema.functions WHERE keyspace_name = 'ks' AND function_name = 'f' "
     "AND argument_types = ['int', 'frozen<list<text>>']", NULL},
    {"SELECT * FROM system_schema.aggregates WHERE keyspace_name = 'ks' AND aggregate_name = "
     "'a' AND argument_types = []", NULL},
    {"select * from system_schema.tables where keyspace_name='ks' AND table_name='t'",
     "SELECT * FROM system_schema.tables WHERE keyspace_name = 'ks' AND table_name = 't'"},
    {"SELECT * FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?", NULL},
    {"SELECT\n\tkeyspace_name,\n\ttable_name,\n\tbloom_filter_fp_chance,\n\tcaching,\n"
     "\tcomment\nFROM system_schema.tables\nWHERE keyspace_name = ?\n",
     "SELECT keyspace_name, table_name, bloom_filter_fp_chance, caching, comment FROM "
     "system_schema.tables WHERE keyspace_name = ?"},
    {"  SELECT * FROM system.local WHERE key = 'local' ;  ",
     "SELECT * FROM system.local WHERE key = 'local'"},
    {"SeLeCt * FrOm SYSTEM.LOCAL wHeRe KEY='local';",
     "SELECT * FROM system.local WHERE key = 'local'"},
};

Test(nparse_select, reads_every_control_connection_query_of_the_drivers)
{
    for (size_t i = 0; i < sizeof(driver_queries) / sizeof(driver_queries[0]); i++) {
        cql_stmt_t *st = ok(driver_queries[i].q);
        cr_assert_eq(st->kind, CQL_STMT_SELECT);
        const char *want = driver_queries[i].canon ? driver_queries[i].canon : driver_queries[i].q;
        cr_assert_str_eq(fmt(st), want);
    }
}

Test(nparse_select, exposes_table_star_and_where_relations)
{
    cql_stmt_t *st = ok("SELECT * FROM system_schema.columns WHERE keyspace_name = 'ks' AND "
                        "table_name = ?");
    const cql_select_stmt_t *s = &st->u.select;
    cr_assert(s->star);
    cr_assert_eq(s->nselectors, 0);
    cr_assert_str_eq(s->table.keyspace, "system_schema");
    cr_assert_str_eq(s->table.name, "columns");
    cr_assert_eq(s->nwhere, 2);
    cr_assert_eq(s->where[0]->lhs, CQL_LHS_COLUMN);
    cr_assert_str_eq(s->where[0]->columns[0], "keyspace_name");
    cr_assert_eq(s->where[0]->op, CQL_REL_EQ);
    cr_assert_eq(s->where[0]->value->kind, CQL_TERM_STRING);
    cr_assert_str_eq(s->where[0]->value->text, "ks");
    cr_assert_eq(s->where[1]->value->kind, CQL_TERM_BIND);
    cr_assert_eq(s->where[1]->value->bind_index, 0);
    cr_assert_eq(st->nmarkers, 1);
    cr_assert_eq(st->markers[0], s->where[1]->value);
    cr_assert_null(s->limit);
    cr_assert_not(s->allow_filtering);
}

Test(nparse_select, table_without_keyspace_has_null_keyspace)
{
    cql_stmt_t *st = ok("SELECT a FROM t");
    cr_assert_null(st->u.select.table.keyspace);
    cr_assert_str_eq(st->u.select.table.name, "t");
    cr_assert_eq(st->u.select.selectors[0]->kind, CQL_SEL_COLUMN);
    cr_assert_str_eq(st->u.select.selectors[0]->name, "a");
}

Test(nparse_select, distinguishes_every_selector_kind)
{
    cql_stmt_t *st = ok("SELECT a AS x, COUNT(*), count(1) AS n, count(b), TTL(c), writetime(c), "
                        "token(k1, k2), system.toJson(m), now(), CAST(d AS text), u.f, 42, ? "
                        "FROM t");
    const cql_select_stmt_t *s = &st->u.select;
    cr_assert_eq(s->nselectors, 13);
    cql_selector_t **v = s->selectors;
    cr_assert_eq(v[0]->kind, CQL_SEL_COLUMN);
    cr_assert_str_eq(v[0]->alias, "x");
    cr_assert_eq(v[1]->kind, CQL_SEL_COUNT_ROWS);
    cr_assert_eq(v[2]->kind, CQL_SEL_COUNT_ROWS);
    cr_assert_str_eq(v[2]->alias, "n");
    cr_assert_eq(v[3]->kind, CQL_SEL_FUNCTION);
    cr_assert_str_eq(v[3]->name, "count");
    cr_assert_eq(v[3]->nargs, 1);
    cr_assert_str_eq(v[3]->args[0]->name, "b");
    cr_assert_eq(v[4]->kind, CQL_SEL_TTL);
    cr_assert_str_eq(v[4]->name, "c");
    cr_assert_eq(v[5]->kind, CQL_SEL_WRITETIME);
    cr_assert_eq(v[6]->kind, CQL_SEL_FUNCTION);
    cr_assert_str_eq(v[6]->name, "token");
    cr_assert_eq(v[6]->nargs, 2);
    cr_assert_str_eq(v[7]->keyspace, "system");
    cr_assert_str_eq(v[7]->name, "tojson");
    cr_assert_eq(v[8]->nargs, 0);
    cr_assert_eq(v[9]->kind, CQL_SEL_CAST);
    cr_assert_str_eq(v[9]->type, "text");
    cr_assert_eq(v[10]->kind, CQL_SEL_FIELD);
    cr_assert_str_eq(v[10]->name, "f");
    cr_assert_str_eq(v[10]->args[0]->name, "u");
    cr_assert_eq(v[11]->kind, CQL_SEL_TERM);
    cr_assert_eq(v[11]->term->i64, 42);
    cr_assert_eq(v[12]->term->kind, CQL_TERM_BIND);
}

Test(nparse_select, unreserved_keywords_are_column_names)
{
    cql_stmt_t *st = ok("SELECT key, type, ttl, count, writetime, timestamp, values, text, json, "
                        "distinct FROM t WHERE key = 1");
    cr_assert_eq(st->u.select.nselectors, 10);
    cr_assert_not(st->u.select.json);
    cr_assert_not(st->u.select.distinct);
    for (size_t i = 0; i < 10; i++)
        cr_assert_eq(st->u.select.selectors[i]->kind, CQL_SEL_COLUMN);
    cr_assert_str_eq(st->u.select.selectors[9]->name, "distinct");
}

Test(nparse_select, json_and_distinct_modifiers)
{
    cql_stmt_t *st = ok("SELECT JSON DISTINCT k, s FROM t");
    cr_assert(st->u.select.json);
    cr_assert(st->u.select.distinct);
    cr_assert_eq(st->u.select.nselectors, 2);
    st = ok("SELECT JSON * FROM t");
    cr_assert(st->u.select.json && st->u.select.star);
}

Test(nparse_select, reads_every_relation_form)
{
    cql_stmt_t *st = ok("SELECT * FROM t WHERE k IN (1, 2, ?) AND c >= 3 AND c < :hi AND d != ? "
                        "AND (c1, c2) > (1, 2) AND token(k1, k2) <= ? AND s CONTAINS 5 AND m "
                        "CONTAINS KEY 'a' AND m['x'] = 'y' AND k2 IN ? AND (a, b) IN ((1, 2), ?) "
                        "AND v LIKE 'a%' AND w IS NOT NULL AND e IN ()");
    const cql_select_stmt_t *s = &st->u.select;
    cr_assert_eq(s->nwhere, 14);
    cql_relation_t **r = s->where;
    cr_assert_eq(r[0]->op, CQL_REL_IN);
    cr_assert(r[0]->in_list);
    cr_assert_eq(r[0]->nin, 3);
    cr_assert_eq(r[0]->in_values[2]->kind, CQL_TERM_BIND);
    cr_assert_eq(r[1]->op, CQL_REL_GE);
    cr_assert_eq(r[2]->op, CQL_REL_LT);
    cr_assert_str_eq(r[2]->value->bind_name, "hi");
    cr_assert_eq(r[3]->op, CQL_REL_NE);
    cr_assert_eq(r[4]->lhs, CQL_LHS_TUPLE);
    cr_assert_eq(r[4]->ncolumns, 2);
    cr_assert_str_eq(r[4]->columns[1], "c2");
    cr_assert_eq(r[4]->value->kind, CQL_TERM_TUPLE);
    cr_assert_eq(r[5]->lhs, CQL_LHS_TOKEN);
    cr_assert_eq(r[5]->op, CQL_REL_LE);
    cr_assert_eq(r[5]->ncolumns, 2);
    cr_assert_eq(r[6]->op, CQL_REL_CONTAINS);
    cr_assert_eq(r[7]->op, CQL_REL_CONTAINS_KEY);
    cr_assert_eq(r[8]->lhs, CQL_LHS_ELEMENT);
    cr_assert_str_eq(r[8]->key->text, "x");
    cr_assert_eq(r[9]->op, CQL_REL_IN);
    cr_assert_not(r[9]->in_list);
    cr_assert_eq(r[9]->value->kind, CQL_TERM_BIND);
    cr_assert_eq(r[10]->lhs, CQL_LHS_TUPLE);
    cr_assert_eq(r[10]->nin, 2);
    cr_assert_eq(r[10]->in_values[0]->kind, CQL_TERM_TUPLE);
    cr_assert_eq(r[11]->op, CQL_REL_LIKE);
    cr_assert_eq(r[12]->op, CQL_REL_IS_NOT_NULL);
    cr_assert_null(r[12]->value);
    cr_assert(r[13]->in_list);
    cr_assert_eq(r[13]->nin, 0);
    cr_assert_eq(st->nmarkers, 6);
}

Test(nparse_select, parenthesised_relations_are_unwrapped)
{
    cql_stmt_t *st = ok("SELECT * FROM t WHERE ((k = 1)) AND (c) > (2)");
    cr_assert_eq(st->u.select.nwhere, 2);
    cr_assert_eq(st->u.select.where[0]->lhs, CQL_LHS_COLUMN);
    cr_assert_eq(st->u.select.where[1]->lhs, CQL_LHS_TUPLE);
    cr_assert_eq(st->u.select.where[1]->ncolumns, 1);
}

Test(nparse_select, reads_group_order_limits_and_filtering)
{
    cql_stmt_t *st = ok("SELECT * FROM t WHERE k = 1 GROUP BY k, c ORDER BY c DESC, d ASC, e "
                        "PER PARTITION LIMIT 2 LIMIT ? ALLOW FILTERING");
    const cql_select_stmt_t *s = &st->u.select;
    cr_assert_eq(s->ngroup_by, 2);
    cr_assert_str_eq(s->group_by[1], "c");
    cr_assert_eq(s->norder_by, 3);
    cr_assert(s->order_by[0].desc);
    cr_assert_not(s->order_by[1].desc);
    cr_assert_not(s->order_by[2].desc);
    cr_assert_eq(s->per_partition_limit->i64, 2);
    cr_assert_eq(s->limit->kind, CQL_TERM_BIND);
    cr_assert_eq(s->limit->bind_index, 0);
    cr_assert(s->allow_filtering);
}

Test(nparse_select, limit_must_be_an_integer_or_a_marker)
{
    cql_stmt_t *st = NULL;
    cql_parse_error_t e;
    const char *q = "SELECT * FROM t LIMIT 'x'";
    cr_assert_eq(cql_parse(q, strlen(q), &arena, &st, &e), CQLMQ_ESYNTAX);
    cr_assert_str_eq(e.msg, "line 1:22 mismatched input ''x'' expecting INTEGER (SELECT * FROM t LIMIT ['x'])");
    cr_assert_null(st);
}

Test(nparse_select, count_only_accepts_star_or_one)
{
    cql_stmt_t *st = NULL;
    cql_parse_error_t e;
    const char *q = "SELECT COUNT(2) FROM t";
    cr_assert_eq(cql_parse(q, strlen(q), &arena, &st, &e), CQLMQ_ESYNTAX);
    cr_assert(strstr(e.msg, "Only COUNT(1) is supported, got COUNT(2)") != NULL, "%s", e.msg);
}

Test(nparse_select, quoted_names_keep_their_case)
{
    cql_stmt_t *st = ok("SELECT \"MyCol\", \"a\"\"b\", \"select\" FROM \"Ks\".\"Tab\" WHERE \"K\" = 1");
    const cql_select_stmt_t *s = &st->u.select;
    cr_assert_str_eq(s->selectors[0]->name, "MyCol");
    cr_assert_str_eq(s->selectors[1]->name, "a\"b");
    cr_assert_str_eq(s->selectors[2]->name, "select");
    cr_assert_str_eq(s->table.keyspace, "Ks");
    cr_assert_str_eq(s->table.name, "Tab");
    cr_assert_str_eq(s->where[0]->columns[0], "K");
    cr_assert_str_eq(fmt(st), "SELECT \"MyCol\", \"a\"\"b\", \"select\" FROM \"Ks\".\"Tab\" WHERE "
                              "\"K\" = 1");
}

Test(nparse_select, unquoted_names_fold_to_lower_case)
{
    cql_stmt_t *st = ok("SELECT MyCol FROM MyKs.MyTab WHERE PK = 1");
    cr_assert_str_eq(st->u.select.selectors[0]->name, "mycol");
    cr_assert_str_eq(st->u.select.table.keyspace, "myks");
    cr_assert_str_eq(st->u.select.table.name, "mytab");
    cr_assert_str_eq(st->u.select.where[0]->columns[0], "pk");
}

Test(nparse_select, comments_are_ignored_everywhere)
{
    cql_stmt_t *st = ok("-- leading comment\nSELECT /* inline */ a, // trailing\n b FROM t "
                        "/* multi\nline */ WHERE k = 1; -- done");
    cr_assert_str_eq(fmt(st), "SELECT a, b FROM t WHERE k = 1");
}
