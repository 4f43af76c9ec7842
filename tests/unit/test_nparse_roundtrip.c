/*
 * The canonical printer: for a wide set of statements, printing then parsing
 * again keeps the kind and marker count, and printing a second time gives
 * the same text (the canonical form is a fixed point). Also the values the
 * python driver interpolates client-side (True, 1e+20, Infinity, 0x..).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "cql_ast.h"

static cql_arena_t arena;

static void setup(void) { cql_arena_init(&arena, 0); }
static void teardown(void) { cql_arena_close(&arena); }

TestSuite(nparse_roundtrip, .init = setup, .fini = teardown);

static const char *const statements[] = {
    "SELECT * FROM system.local WHERE key='local'",
    "select peer, host_id, rpc_address, schema_version from system.peers",
    "SELECT JSON DISTINCT k, \"Mixed\" AS m FROM \"Ks\".t WHERE k IN ? LIMIT 5",
    "SELECT count(*), COUNT(1) AS n, ttl(v), writetime(v), token(k), system.now() FROM t",
    "SELECT CAST(a AS varchar), u.f.g, 'lit', ?, (int) ? FROM t",
    "SELECT * FROM t WHERE (a, b) >= (1, 2) AND token(k) < ? AND m['x'] = ? AND s CONTAINS 1 AND "
    "m CONTAINS KEY ? AND v IS NOT NULL AND w LIKE 'a%' AND z IN () GROUP BY a ORDER BY b DESC "
    "PER PARTITION LIMIT 1 LIMIT :lim ALLOW FILTERING",
    "INSERT INTO t (a, b, c, d, e, f, g, h, i, j) VALUES (0xff, 1h, P1D, -1.5e3, NaN, -Infinity, "
    "{}, [1, 2], {1: 'a'}, {f: (1, 'x')}) IF NOT EXISTS USING TTL 1 AND TIMESTAMP 2",
    "INSERT INTO t JSON $${\"a\": 'q'}$$ DEFAULT UNSET",
    "UPDATE t USING TIMESTAMP ? SET a = a + 1, b = [1] + b, c = c - {1}, d[?] = ?, e.f = 1, "
    "g += 2, h -= 3, i = i -4 WHERE k = 1 IF a = 1 AND d[1] IN (1, 2) AND e.f != ?",
    "DELETE a, b[1], c.d FROM t USING TIMESTAMP 5 WHERE k = ? IF EXISTS",
    "BEGIN UNLOGGED BATCH USING TIMESTAMP 1 INSERT INTO t (a) VALUES (?) UPDATE t SET b = ? WHERE "
    "a = ?; DELETE FROM t WHERE a = ? APPLY BATCH",
    "CREATE KEYSPACE IF NOT EXISTS k WITH replication = {'class': 'SimpleStrategy', "
    "'replication_factor': 1} AND durable_writes = true",
    "CREATE TABLE IF NOT EXISTS k.\"T\" (a int, b text, c map<text, frozen<list<int>>>, d int "
    "static, PRIMARY KEY ((a), b)) WITH CLUSTERING ORDER BY (b DESC) AND COMPACT STORAGE AND "
    "comment = 'x''y' AND read_repair = BLOCKING",
    "ALTER TABLE t ADD (x int, y \"MyType\" STATIC)",
    "ALTER TABLE t RENAME a TO \"B\" AND c TO d",
    "ALTER TABLE t ALTER a TYPE frozen<set<uuid>>",
    "CREATE TYPE t (\"Field\" int, g tuple<int, text>)",
    "DROP TYPE IF EXISTS k.t",
    "USE \"select\"",
    "TRUNCATE k.t",
    "CREATE INDEX ON t (v)",
    "INSERT INTO t (\"p1d\", \"key\", \"1a\") VALUES (True, 1e+20, Infinity)",
};

Test(nparse_roundtrip, canonical_text_is_a_fixed_point)
{
    for (size_t i = 0; i < sizeof(statements) / sizeof(statements[0]); i++) {
        const char *q = statements[i];
        cql_stmt_t *a = NULL, *b = NULL;
        cql_parse_error_t e;
        cr_assert_eq(cql_parse(q, strlen(q), &arena, &a, &e), 0, "%s\n  %s", q, e.msg);
        char once[4096], twice[4096];
        size_t n = cql_stmt_format(a, once, sizeof(once));
        cr_assert_lt(n, sizeof(once));
        cr_assert_eq(cql_parse(once, n, &arena, &b, &e), 0, "%s\n  %s", once, e.msg);
        cr_assert_eq(b->kind, a->kind, "%s", q);
        cr_assert_eq(b->nmarkers, a->nmarkers, "%s", q);
        cql_stmt_format(b, twice, sizeof(twice));
        cr_assert_str_eq(twice, once, "input: %s", q);
    }
}

Test(nparse_roundtrip, names_that_need_quotes_are_quoted)
{
    const char *q = "INSERT INTO t (\"p1d\", \"key\", \"1a\", \"A\", \"in\", \"a\"\"b\") VALUES (1, 2, 3, 4, "
                    "5, 6)";
    cql_stmt_t *st = NULL;
    cr_assert_eq(cql_parse(q, strlen(q), &arena, &st, NULL), 0);
    char out[256];
    cql_stmt_format(st, out, sizeof(out));
    cr_assert_str_eq(out, "INSERT INTO t (\"p1d\", key, \"1a\", \"A\", \"in\", \"a\"\"b\") VALUES (1, 2, "
                          "3, 4, 5, 6)");
}

Test(nparse_roundtrip, format_truncates_like_snprintf)
{
    const char *q = "USE keyspace_with_a_long_name";
    cql_stmt_t *st = NULL;
    cr_assert_eq(cql_parse(q, strlen(q), &arena, &st, NULL), 0);
    char out[8];
    cr_assert_eq(cql_stmt_format(st, out, sizeof(out)), strlen(q));
    cr_assert_str_eq(out, "USE key");
    cr_assert_eq(cql_stmt_format(st, NULL, 0), strlen(q));
}
