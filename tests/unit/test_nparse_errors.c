/*
 * Failure paths: Cassandra-style syntax messages with positions, lexical
 * errors, nesting bombs, oversized input, list limits, arena exhaustion and
 * bad arguments. None of them may crash or return a partial statement.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cql_ast.h"

static cql_arena_t arena;

static void setup(void) { cql_arena_init(&arena, 0); }
static void teardown(void) { cql_arena_close(&arena); }

TestSuite(nparse_errors, .init = setup, .fini = teardown);

static int parse(const char *q, size_t len, cql_parse_error_t *e)
{
    cql_stmt_t *st = (cql_stmt_t *)1;
    int rc = cql_parse(q, len, &arena, &st, e);
    if (rc != 0)
        cr_assert_null(st, "a failed parse must leave *out NULL");
    return rc;
}

/* Exact messages and positions. */
static const struct {
    const char *q;
    const char *msg;
} messages[] = {
    {"SELECT * FROMM t", "line 1:9 mismatched input 'FROMM' expecting K_FROM (SELECT * [FROMM]...)"},
    {"SELEC * FROM t", "line 1:0 no viable alternative at input 'SELEC' ([SELEC]...)"},
    {"SELECT * FROM", "line 1:13 no viable alternative at input '<EOF>' (SELECT * FROM[])"},
    {"SELECT * FROM t WHERE", "line 1:21 no viable alternative at input '<EOF>' (SELECT * FROM t WHERE[])"},
    {"SELECT * FROM t WHERE k = 1 AND", "line 1:31 no viable alternative at input '<EOF>' (...WHERE k = 1 AND[])"},
    {"SELECT * FROM t; SELECT * FROM u",
     "line 1:17 mismatched input 'SELECT' expecting EOF (SELECT * FROM t; [SELECT]...)"},
    {"SELECT * FROM t\nWHERE k == 1",
     "line 2:9 no viable alternative at input '=' (...FROM tWHERE k =[=]...)"},
    {"INSERT INTO t (a) VALUES (1", "line 1:27 mismatched input '<EOF>' expecting ')' (...a) VALUES (1[])"},
    {"SELECT * FROM select", "line 1:14 no viable alternative at input 'select' (SELECT * FROM [select])"},
    {"SELECT * FROM t WHERE k = 'abc",
     "line 1:30 mismatched character '<EOF>' expecting ''' (...FROM t WHERE k = 'abc[])"},
    {"SELECT * FROM t /* never closed",
     "line 1:31 mismatched character '<EOF>' expecting '*/' (SELECT * FROM t /* never closed[])"},
    {"SELECT * FROM \"abc", "line 1:18 mismatched character '<EOF>' expecting '\"' (SELECT * FROM \"abc[])"},
    {"SELECT $$abc FROM t", "line 1:19 mismatched character '<EOF>' expecting '$$' (SELECT $$abc FROM t[])"},
    {"SELECT * FROM t WHERE k = #", "line 1:26 token recognition error at: '#' (...FROM t WHERE k = [#])"},
    {"SELECT \"\" FROM t",
     "line 1:7 no viable alternative at input '\"\"' (empty quoted names are not allowed) (SELECT [\"\"]...)"},
    {"", "line 1:0 no viable alternative at input '<EOF>' ([])"},
    {"   -- only a comment", "line 1:20 no viable alternative at input '<EOF>' (   -- only a comment[])"},
};

Test(nparse_errors, messages_read_like_cassandras_with_positions)
{
    for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
        cql_parse_error_t e;
        cr_assert_eq(parse(messages[i].q, strlen(messages[i].q), &e), CQLMQ_ESYNTAX, "%s",
                     messages[i].q);
        cr_assert_eq(e.code, CQLMQ_ESYNTAX);
        cr_assert_str_eq(e.msg, messages[i].msg, "query: %s", messages[i].q);
    }
}

Test(nparse_errors, error_records_line_column_and_offset)
{
    const char *q = "SELECT *\n  FROM t\n  WHERE k = 1 ORDER c";
    cql_parse_error_t e;
    cr_assert_eq(parse(q, strlen(q), &e), CQLMQ_ESYNTAX);
    cr_assert_eq(e.line, 3);
    cr_assert_eq(e.col, 20);
    cr_assert_eq(e.offset, strlen(q) - 1);
    cr_assert(strncmp(e.msg, "line 3:20 mismatched input 'c' expecting K_BY", 45) == 0, "%s", e.msg);
}

Test(nparse_errors, columns_count_characters_not_bytes)
{
    const char *q = "SELECT * FROM t WHERE a = '\xc3\xa9\xc3\xa9' AND #";
    cql_parse_error_t e;
    cr_assert_eq(parse(q, strlen(q), &e), CQLMQ_ESYNTAX);
    cr_assert_eq(e.col, 35);
}

Test(nparse_errors, messages_are_clean_utf8_without_newlines)
{
    const char q[] = "SELECT \xff\xfe FROM t\nWHERE";
    cql_parse_error_t e;
    cr_assert_eq(parse(q, sizeof(q) - 1, &e), CQLMQ_ESYNTAX);
    cr_assert_str_eq(e.msg, "line 1:7 token recognition error at: '?' (SELECT [?]...)");
    const char q2[] = "SELECT * FROM t WHERE a = 1 AND b = \x01";
    cr_assert_eq(parse(q2, sizeof(q2) - 1, &e), CQLMQ_ESYNTAX);
    cr_assert_null(strchr(e.msg, '\x01'));
}

Test(nparse_errors, nul_bytes_outside_strings_are_rejected)
{
    const char q[] = "SELECT * FROM t\0";
    cql_parse_error_t e;
    cr_assert_eq(parse(q, sizeof(q) - 1, &e), CQLMQ_ESYNTAX);
    cr_assert_eq(e.offset, 15);
}

/* Builds prefix + n copies of unit + suffix in the arena. */
static char *repeat(const char *prefix, const char *unit, size_t n, const char *suffix, size_t *len)
{
    size_t pl = strlen(prefix), ul = strlen(unit), sl = strlen(suffix);
    *len = pl + ul * n + sl;
    char *q = cql_arena_alloc(&arena, *len + 1);
    memcpy(q, prefix, pl);
    for (size_t i = 0; i < n; i++)
        memcpy(q + pl + i * ul, unit, ul);
    memcpy(q + pl + n * ul, suffix, sl + 1);
    return q;
}

Test(nparse_errors, nesting_bombs_are_syntax_errors)
{
    static const char *const units[] = {"(", "[", "{", "f(", "(int)", "{a: "};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        size_t len;
        char *q = repeat("INSERT INTO t (a) VALUES (", units[i], 100000, "", &len);
        cql_parse_error_t e;
        cr_assert_eq(parse(q, len, &e), CQLMQ_ESYNTAX, "unit %s", units[i]);
        cr_assert(strstr(e.msg, "nesting deeper than 64 levels") != NULL, "%s", e.msg);
    }
    size_t len;
    char *q = repeat("SELECT * FROM t WHERE ", "(", 100000, "k = 1", &len);
    cql_parse_error_t e;
    cr_assert_eq(parse(q, len, &e), CQLMQ_ESYNTAX);
    q = repeat("CREATE TABLE t (k ", "frozen<", 100000, "", &len);
    cr_assert_eq(parse(q, len, &e), CQLMQ_ESYNTAX);
    cr_assert(strstr(e.msg, "nesting deeper") != NULL, "%s", e.msg);
    q = repeat("SELECT ", "f(", 100000, "", &len);
    cr_assert_eq(parse(q, len, &e), CQLMQ_ESYNTAX);
}

Test(nparse_errors, nesting_within_the_limit_is_accepted)
{
    size_t len;
    char *q = repeat("INSERT INTO t (a) VALUES (", "[", 60, "", &len);
    char *full = cql_arena_alloc(&arena, len + 70);
    memcpy(full, q, len);
    memset(full + len, ']', 60);
    memcpy(full + len + 60, ")", 2);
    cr_assert_eq(parse(full, strlen(full), NULL), 0);
}

Test(nparse_errors, oversized_statements_are_rejected_before_reading)
{
    size_t len = CQL_PARSE_MAX_LEN + 1;
    char *q = malloc(len);
    cr_assert_not_null(q);
    memset(q, ' ', len);
    cql_parse_error_t e;
    cr_assert_eq(parse(q, len, &e), CQLMQ_ETOOBIG);
    cr_assert_eq(e.code, CQLMQ_ETOOBIG);
    cr_assert(strstr(e.msg, "longer than the maximum") != NULL);
    free(q);
}

Test(nparse_errors, long_lists_hit_the_item_limit)
{
    size_t len;
    char *q = repeat("INSERT INTO t (a) VALUES ([", "1,", CQL_PARSE_MAX_ITEMS + 5, "1])", &len);
    cql_parse_error_t e;
    cr_assert_eq(parse(q, len, &e), CQLMQ_ESYNTAX);
    cr_assert(strstr(e.msg, "too many items") != NULL, "%s", e.msg);
    q = repeat("SELECT * FROM t WHERE k IN (", "?,", CQL_PARSE_MAX_MARKERS + 5, "?)", &len);
    cr_assert_eq(parse(q, len, &e), CQLMQ_ESYNTAX);
}

Test(nparse_errors, an_exhausted_arena_is_enomem_at_every_limit)
{
    const char *q = "SELECT a, b, c FROM ks.t WHERE k IN (1, 2, 3) AND c = [1, {'a': (1, 2)}] "
                    "ORDER BY c DESC LIMIT ?";
    size_t ok_at = 0;
    for (size_t limit = 16; limit < 65536 && !ok_at; limit += 16) {
        cql_arena_t small;
        cql_arena_init(&small, limit);
        cql_stmt_t *st = NULL;
        cql_parse_error_t e;
        int rc = cql_parse(q, strlen(q), &small, &st, &e);
        if (rc == 0) {
            ok_at = limit;
            cr_assert_not_null(st);
        } else {
            cr_assert_eq(rc, CQLMQ_ENOMEM, "limit %zu: %s", limit, e.msg);
            cr_assert_null(st);
        }
        cql_arena_close(&small);
    }
    cr_assert_gt(ok_at, 0);
}

Test(nparse_errors, bad_arguments_are_einval)
{
    cql_stmt_t *st;
    cql_parse_error_t e;
    cr_assert_eq(cql_parse(NULL, 5, &arena, &st, &e), CQLMQ_EINVAL);
    cr_assert_eq(cql_parse("USE k", 5, NULL, &st, &e), CQLMQ_EINVAL);
    cr_assert_eq(cql_parse("USE k", 5, &arena, NULL, &e), CQLMQ_EINVAL);
    cr_assert_eq(cql_parse(NULL, 0, &arena, &st, &e), CQLMQ_ESYNTAX);
    cr_assert_eq(cql_parse("USE k", 5, &arena, &st, NULL), 0);
}

Test(nparse_errors, success_clears_the_error)
{
    cql_parse_error_t e;
    memset(&e, 'x', sizeof(e));
    cql_stmt_t *st;
    cr_assert_eq(cql_parse("USE k", 5, &arena, &st, &e), 0);
    cr_assert_eq(e.code, 0);
    cr_assert_str_eq(e.msg, "");
}

Test(nparse_errors, the_tree_does_not_borrow_from_the_input)
{
    char *q = strdup("SELECT \"Col\" FROM ks.t WHERE k = 'v' AND m['key'] = 0x01");
    cql_stmt_t *st;
    cr_assert_eq(cql_parse(q, strlen(q), &arena, &st, NULL), 0);
    memset(q, 'Z', strlen(q));
    free(q);
    char buf[256];
    cql_stmt_format(st, buf, sizeof(buf));
    cr_assert_str_eq(buf, "SELECT \"Col\" FROM ks.t WHERE k = 'v' AND m['key'] = 0x01");
}

Test(nparse_errors, kind_and_operator_names)
{
    cr_assert_str_eq(cql_stmt_kind_name(CQL_STMT_SELECT), "SELECT");
    cr_assert_str_eq(cql_stmt_kind_name(CQL_STMT_CREATE_TABLE), "CREATE TABLE");
    cr_assert_str_eq(cql_stmt_kind_name(-1), "?");
    cr_assert_str_eq(cql_stmt_kind_name(CQL_STMT_COUNT_), "?");
    cr_assert_str_eq(cql_rel_op_name(CQL_REL_CONTAINS_KEY), "CONTAINS KEY");
    cr_assert_str_eq(cql_rel_op_name(99), "?");
}
