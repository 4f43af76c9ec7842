/*
 * Schema statements: keyspaces, tables (columns, keys, clustering order,
 * options), ALTER TABLE forms, types, USE, TRUNCATE, and the statements that
 * are recognised but unsupported.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "cql_ast.h"

static cql_arena_t arena;

static void setup(void) { cql_arena_init(&arena, 0); }
static void teardown(void) { cql_arena_close(&arena); }

TestSuite(nparse_ddl, .init = setup, .fini = teardown);

static cql_stmt_t *ok(const char *q)
{
    cql_stmt_t *st = NULL;
    cql_parse_error_t e;
    int rc = cql_parse(q, strlen(q), &arena, &st, &e);
    cr_assert_eq(rc, 0, "parse failed: %s\n  query: %s", e.msg, q);
    return st;
}

static const char *bad(const char *q)
{
    cql_stmt_t *st = NULL;
    cql_parse_error_t *e = cql_arena_alloc(&arena, sizeof(*e));
    int rc = cql_parse(q, strlen(q), &arena, &st, e);
    cr_assert_eq(rc, CQLMQ_ESYNTAX, "expected a syntax error for: %s", q);
    return e->msg;
}

static const char *fmt(const cql_stmt_t *st)
{
    char *buf = cql_arena_alloc(&arena, 8192);
    cql_stmt_format(st, buf, 8192);
    return buf;
}

Test(nparse_ddl, create_keyspace_with_replication_map)
{
    cql_stmt_t *st = ok("CREATE KEYSPACE IF NOT EXISTS Ks WITH replication = {'class': "
                        "'SimpleStrategy', 'replication_factor': 1} AND durable_writes = false");
    cr_assert_eq(st->kind, CQL_STMT_CREATE_KEYSPACE);
    const cql_keyspace_stmt_t *k = &st->u.keyspace;
    cr_assert_str_eq(k->name, "ks");
    cr_assert(k->if_not_exists);
    cr_assert_eq(k->noptions, 2);
    cr_assert_str_eq(k->options[0].name, "replication");
    const cql_term_t *m = k->options[0].value;
    cr_assert_eq(m->kind, CQL_TERM_MAP);
    cr_assert_eq(m->n, 2);
    cr_assert_str_eq(m->items[0]->text, "class");
    cr_assert_str_eq(m->values[0]->text, "SimpleStrategy");
    cr_assert_eq(m->values[1]->i64, 1);
    cr_assert_str_eq(k->options[1].name, "durable_writes");
    cr_assert_eq(k->options[1].value->kind, CQL_TERM_BOOL);
    cr_assert_not(k->options[1].value->b);
}

Test(nparse_ddl, keyspace_statements_and_use)
{
    cql_stmt_t *st = ok("ALTER KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', "
                        "'dc1': 3}");
    cr_assert_eq(st->kind, CQL_STMT_ALTER_KEYSPACE);
    cr_assert_eq(st->u.keyspace.noptions, 1);
    st = ok("DROP KEYSPACE IF EXISTS ks");
    cr_assert_eq(st->kind, CQL_STMT_DROP_KEYSPACE);
    cr_assert(st->u.keyspace.if_exists);
    st = ok("USE \"MyKs\"");
    cr_assert_eq(st->kind, CQL_STMT_USE);
    cr_assert_str_eq(st->u.keyspace.name, "MyKs");
    st = ok("use MyKs;");
    cr_assert_str_eq(st->u.keyspace.name, "myks");
    bad("CREATE KEYSPACE ks");
    const char *m = bad("CREATE KEYSPACE ks WITH replication = {} AND replication = {}");
    cr_assert(strstr(m, "Multiple definitions for property 'replication'") != NULL, "%s", m);
}

Test(nparse_ddl, create_table_resolves_a_composite_primary_key)
{
    cql_stmt_t *st = ok("CREATE TABLE IF NOT EXISTS ks.t (k1 int, k2 text, c1 timeuuid, c2 int, v "
                        "map<text, frozen<list<int>>>, s set<text> static, PRIMARY KEY ((k1, k2), "
                        "c1, c2)) WITH CLUSTERING ORDER BY (c1 DESC, c2 ASC) AND comment = 'x' AND "
                        "gc_grace_seconds = 10 AND compaction = {'class': 'LeveledCompactionStrategy'}");
    cr_assert_eq(st->kind, CQL_STMT_CREATE_TABLE);
    const cql_create_table_stmt_t *t = &st->u.create_table;
    cr_assert(t->if_not_exists);
    cr_assert_str_eq(t->table.keyspace, "ks");
    cr_assert_eq(t->ncolumns, 6);
    cr_assert_str_eq(t->columns[4].type, "map<text, frozen<list<int>>>");
    cr_assert_str_eq(t->columns[4].type_raw, "map<text, frozen<list<int>>>");
    cr_assert(t->columns[5].is_static);
    cr_assert_eq(t->npartition_key, 2);
    cr_assert_str_eq(t->partition_key[1], "k2");
    cr_assert_eq(t->nclustering, 2);
    cr_assert_str_eq(t->clustering[0], "c1");
    cr_assert_eq(t->nclustering_order, 2);
    cr_assert(t->clustering_order[0].desc);
    cr_assert_not(t->clustering_order[1].desc);
    cr_assert_eq(t->noptions, 3);
    cr_assert_str_eq(t->options[1].name, "gc_grace_seconds");
    cr_assert_eq(t->options[2].value->kind, CQL_TERM_MAP);
    cr_assert_not(t->compact_storage);
}

Test(nparse_ddl, create_table_with_inline_key_and_type_normalization)
{
    cql_stmt_t *st = ok("CREATE TABLE t (k INT PRIMARY KEY, a VARCHAR, b Frozen < Map<Text,Int> >, "
                        "c \"MyType\", d ks.addr, e tuple<int,text>, f "
                        "'org.apache.cassandra.db.marshal.BytesType', g list<frozen<\"T\">>, h "
                        "vector<float, 3>,) WITH COMPACT STORAGE");
    const cql_create_table_stmt_t *t = &st->u.create_table;
    cr_assert_eq(t->npartition_key, 1);
    cr_assert_str_eq(t->partition_key[0], "k");
    cr_assert_eq(t->nclustering, 0);
    cr_assert(t->columns[0].primary_key);
    cr_assert_str_eq(t->columns[0].type, "int");
    cr_assert_str_eq(t->columns[1].type, "text");
    cr_assert_str_eq(t->columns[2].type, "frozen<map<text, int>>");
    cr_assert_str_eq(t->columns[2].type_raw, "Frozen < Map<Text,Int> >");
    cr_assert_str_eq(t->columns[3].type, "\"MyType\"");
    cr_assert_str_eq(t->columns[4].type, "ks.addr");
    cr_assert_str_eq(t->columns[5].type, "tuple<int, text>");
    cr_assert_str_eq(t->columns[6].type, "'org.apache.cassandra.db.marshal.BytesType'");
    cr_assert_str_eq(t->columns[7].type, "list<frozen<\"T\">>");
    cr_assert_str_eq(t->columns[8].type, "vector<float, 3>");
    cr_assert(t->compact_storage);
}

Test(nparse_ddl, create_table_needs_exactly_one_primary_key)
{
    const char *m = bad("CREATE TABLE t (k int PRIMARY KEY, v int, PRIMARY KEY (k))");
    cr_assert(strstr(m, "Multiple PRIMARY KEYs specified (exactly one required)") != NULL, "%s", m);
    m = bad("CREATE TABLE t (k int, v int)");
    cr_assert(strstr(m, "No PRIMARY KEY specified (exactly one required)") != NULL, "%s", m);
    bad("CREATE TABLE t (k int, PRIMARY KEY ())");
    bad("CREATE TABLE t (k map<int>, PRIMARY KEY (k))");
    bad("CREATE TABLE t (k list<int, int>, PRIMARY KEY (k))");
    bad("CREATE TABLE t (k int, PRIMARY KEY (k)) WITH CLUSTERING ORDER BY (c)");
}

Test(nparse_ddl, alter_table_forms)
{
    cql_stmt_t *st = ok("ALTER TABLE ks.t ADD x int");
    const cql_alter_table_stmt_t *a = &st->u.alter_table;
    cr_assert_eq(a->op, CQL_ALTER_ADD);
    cr_assert_eq(a->ncolumns, 1);
    cr_assert_str_eq(a->columns[0].name, "x");
    st = ok("ALTER TABLE t ADD (x int, y set<text> static)");
    cr_assert_eq(st->u.alter_table.ncolumns, 2);
    cr_assert(st->u.alter_table.columns[1].is_static);
    st = ok("ALTER TABLE t ADD x int, y text");
    cr_assert_eq(st->u.alter_table.ncolumns, 2);
    st = ok("ALTER TABLE t DROP x");
    cr_assert_eq(st->u.alter_table.op, CQL_ALTER_DROP);
    cr_assert_eq(st->u.alter_table.nnames, 1);
    st = ok("ALTER TABLE t DROP (x, y)");
    cr_assert_eq(st->u.alter_table.nnames, 2);
    cr_assert_str_eq(st->u.alter_table.names[1], "y");
    st = ok("ALTER TABLE t RENAME a TO b AND c TO d");
    cr_assert_eq(st->u.alter_table.op, CQL_ALTER_RENAME);
    cr_assert_str_eq(st->u.alter_table.renames[1], "d");
    st = ok("ALTER TABLE t ALTER a TYPE blob");
    cr_assert_eq(st->u.alter_table.op, CQL_ALTER_ALTER);
    cr_assert_str_eq(st->u.alter_table.columns[0].type, "blob");
    st = ok("ALTER TABLE t WITH comment = 'hi' AND caching = {'keys': 'ALL'} AND "
            "speculative_retry = '99PERCENTILE'");
    cr_assert_eq(st->u.alter_table.op, CQL_ALTER_WITH);
    cr_assert_eq(st->u.alter_table.noptions, 3);
    bad("ALTER TABLE t FROB x");
}

Test(nparse_ddl, drop_truncate_and_types)
{
    cql_stmt_t *st = ok("DROP TABLE IF EXISTS ks.t");
    cr_assert_eq(st->kind, CQL_STMT_DROP_TABLE);
    cr_assert(st->u.table.if_exists);
    st = ok("DROP COLUMNFAMILY t");
    cr_assert_eq(st->kind, CQL_STMT_DROP_TABLE);
    cr_assert_not(st->u.table.if_exists);
    st = ok("TRUNCATE t");
    cr_assert_eq(st->kind, CQL_STMT_TRUNCATE);
    st = ok("TRUNCATE TABLE ks.t");
    cr_assert_str_eq(st->u.table.table.keyspace, "ks");
    st = ok("CREATE TYPE IF NOT EXISTS ks.addr (street text, zip int, tags frozen<set<text>>)");
    cr_assert_eq(st->kind, CQL_STMT_CREATE_TYPE);
    cr_assert(st->u.type.if_not_exists);
    cr_assert_eq(st->u.type.nfields, 3);
    cr_assert_str_eq(st->u.type.fields[2].type, "frozen<set<text>>");
    st = ok("DROP TYPE IF EXISTS addr");
    cr_assert_eq(st->kind, CQL_STMT_DROP_TYPE);
    cr_assert(st->u.type.if_exists);
}

Test(nparse_ddl, unsupported_statements_parse_to_their_own_kind)
{
    static const struct {
        const char *q, *what;
    } cases[] = {
        {"CREATE INDEX ON t (v)", "CREATE INDEX"},
        {"CREATE CUSTOM INDEX i ON t (v) USING 'x'", "CREATE INDEX"},
        {"CREATE MATERIALIZED VIEW mv AS SELECT * FROM t WHERE k IS NOT NULL PRIMARY KEY (k)",
         "CREATE MATERIALIZED VIEW"},
        {"CREATE FUNCTION f(a int) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS $$ return a; $$",
         "CREATE FUNCTION"},
        {"CREATE OR REPLACE AGGREGATE a(int) SFUNC f STYPE int", "CREATE OR REPLACE"},
        {"DROP INDEX i", "DROP INDEX"},
        {"DROP MATERIALIZED VIEW mv", "DROP MATERIALIZED VIEW"},
        {"ALTER TYPE t ADD f int", "ALTER TYPE"},
        {"GRANT SELECT ON ks.t TO bob", "GRANT"},
        {"REVOKE SELECT ON ks.t FROM bob", "REVOKE"},
        {"LIST ROLES", "LIST"},
        {"CREATE ROLE r WITH PASSWORD = 'x'", "CREATE ROLE"},
        {"DESCRIBE KEYSPACES", "DESCRIBE"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cql_stmt_t *st = ok(cases[i].q);
        cr_assert_eq(st->kind, CQL_STMT_UNSUPPORTED, "%s", cases[i].q);
        cr_assert_str_eq(st->unsupported, cases[i].what);
        cr_assert_str_eq(cql_stmt_kind_name(st->kind), "UNSUPPORTED");
    }
    bad("CREATE INDEX ON t (v) 'unterminated");
}

Test(nparse_ddl, canonical_forms_are_stable)
{
    static const struct {
        const char *q, *canon;
    } cases[] = {
        {"create table t (k int primary key, v text)",
         "CREATE TABLE t (k int, v text, PRIMARY KEY ((k)))"},
        {"CREATE TABLE t (a int, b int, c int, PRIMARY KEY (a, b)) WITH CLUSTERING ORDER BY (b desc)",
         "CREATE TABLE t (a int, b int, c int, PRIMARY KEY ((a), b)) WITH CLUSTERING ORDER BY (b "
         "DESC)"},
        {"create keyspace k with replication={'class':'SimpleStrategy','replication_factor':'1'}",
         "CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy', "
         "'replication_factor': '1'}"},
        {"ALTER TABLE t WITH compaction = {'class': 'LeveledCompactionStrategy'} AND "
         "read_repair = BLOCKING",
         "ALTER TABLE t WITH compaction = {'class': 'LeveledCompactionStrategy'} AND read_repair "
         "= BLOCKING"},
        {"truncate columnfamily t", "TRUNCATE TABLE t"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_assert_str_eq(fmt(ok(cases[i].q)), cases[i].canon);
    cql_stmt_t *st = ok("ALTER TABLE t WITH read_repair = BLOCKING");
    cr_assert_eq(st->u.alter_table.options[0].value->kind, CQL_TERM_IDENT);
    cr_assert_str_eq(st->u.alter_table.options[0].value->text, "BLOCKING");
}
