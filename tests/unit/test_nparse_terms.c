/*
 * Terms: every literal kind with its decoded value, collections, tuples,
 * UDT literals, function calls, type hints and bind markers.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cql_ast.h"

static cql_arena_t arena;

static void setup(void) { cql_arena_init(&arena, 0); }
static void teardown(void) { cql_arena_close(&arena); }

TestSuite(nparse_terms, .init = setup, .fini = teardown);

/* Parses "INSERT INTO t (a) VALUES (<text>)" and returns the value. */
static cql_term_t *term_of(const char *text)
{
    char q[1024];
    snprintf(q, sizeof(q), "INSERT INTO t (a) VALUES (%s)", text);
    cql_stmt_t *st = NULL;
    cql_parse_error_t e;
    int rc = cql_parse(q, strlen(q), &arena, &st, &e);
    cr_assert_eq(rc, 0, "parse failed: %s\n  term: %s", e.msg, text);
    cr_assert_eq(st->u.insert.nvalues, 1);
    return st->u.insert.values[0];
}

static int term_err(const char *text, cql_parse_error_t *e)
{
    char q[1024];
    snprintf(q, sizeof(q), "INSERT INTO t (a) VALUES (%s)", text);
    cql_stmt_t *st = NULL;
    return cql_parse(q, strlen(q), &arena, &st, e);
}

static const char *fmt(const cql_term_t *t)
{
    char *buf = cql_arena_alloc(&arena, 1024);
    cql_term_format(t, buf, 1024);
    return buf;
}

Test(nparse_terms, integers_keep_their_text_and_value)
{
    cql_term_t *t = term_of("42");
    cr_assert_eq(t->kind, CQL_TERM_INT);
    cr_assert_str_eq(t->text, "42");
    cr_assert(t->i64_ok);
    cr_assert_eq(t->i64, 42);
    t = term_of("-9223372036854775808");
    cr_assert(t->i64_ok);
    cr_assert_eq(t->i64, INT64_MIN);
    t = term_of("9223372036854775808");
    cr_assert_not(t->i64_ok);
    cr_assert_str_eq(t->text, "9223372036854775808");
    t = term_of("123456789012345678901234567890");
    cr_assert_not(t->i64_ok);
    cr_assert_eq(t->len, 30);
}

Test(nparse_terms, floats_include_exponents_nan_and_infinities)
{
    static const struct {
        const char *text;
        double v;
    } cases[] = {{"1.5", 1.5}, {"-2.25e2", -225.0}, {"1e3", 1000.0}, {"3.", 3.0}, {"1.5E-1", 0.15}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cql_term_t *t = term_of(cases[i].text);
        cr_assert_eq(t->kind, CQL_TERM_FLOAT, "%s", cases[i].text);
        cr_assert_float_eq(t->f64, cases[i].v, 1e-12);
        cr_assert_str_eq(t->text, cases[i].text);
    }
    cql_term_t *t = term_of("NaN");
    cr_assert_eq(t->kind, CQL_TERM_FLOAT);
    cr_assert(isnan(t->f64));
    t = term_of("Infinity");
    cr_assert(isinf(t->f64) && t->f64 > 0);
    t = term_of("-Infinity");
    cr_assert(isinf(t->f64) && t->f64 < 0);
    cr_assert_str_eq(t->text, "-Infinity");
    t = term_of("- NaN");
    cr_assert(isnan(t->f64));
}

Test(nparse_terms, strings_unescape_quotes_and_keep_dollar_bodies)
{
    cql_term_t *t = term_of("'it''s'");
    cr_assert_eq(t->kind, CQL_TERM_STRING);
    cr_assert_str_eq(t->text, "it's");
    cr_assert_eq(t->len, 4);
    t = term_of("''");
    cr_assert_eq(t->len, 0);
    t = term_of("$$ a 'raw' \"body\" $$");
    cr_assert_str_eq(t->text, " a 'raw' \"body\" ");
    cr_assert_str_eq(fmt(t), "' a ''raw'' \"body\" '");
    t = term_of("'caf\xc3\xa9 \xe2\x82\xac'");
    cr_assert_str_eq(t->text, "caf\xc3\xa9 \xe2\x82\xac");
}

Test(nparse_terms, strings_may_contain_nul_bytes)
{
    const char q[] = "INSERT INTO t (a) VALUES ('a\0b')";
    cql_stmt_t *st = NULL;
    cr_assert_eq(cql_parse(q, sizeof(q) - 1, &arena, &st, NULL), 0);
    cql_term_t *t = st->u.insert.values[0];
    cr_assert_eq(t->len, 3);
    cr_assert_eq(memcmp(t->text, "a\0b", 3), 0);
}

Test(nparse_terms, booleans_and_null_are_case_insensitive)
{
    cr_assert(term_of("TRUE")->b);
    cr_assert_eq(term_of("True")->kind, CQL_TERM_BOOL);
    cr_assert_not(term_of("false")->b);
    cr_assert_eq(term_of("NULL")->kind, CQL_TERM_NULL);
}

Test(nparse_terms, blobs_and_uuids_are_decoded)
{
    cql_term_t *t = term_of("0xCAFEbabe");
    cr_assert_eq(t->kind, CQL_TERM_BLOB);
    cr_assert_eq(t->nbytes, 4);
    cr_assert_eq(memcmp(t->bytes, "\xca\xfe\xba\xbe", 4), 0);
    cr_assert_str_eq(t->text, "0xCAFEbabe");
    t = term_of("0x");
    cr_assert_eq(t->nbytes, 0);
    t = term_of("123e4567-e89b-12d3-a456-426614174000");
    cr_assert_eq(t->kind, CQL_TERM_UUID);
    cr_assert_eq(t->nbytes, 16);
    cr_assert_eq(memcmp(t->bytes, "\x12\x3e\x45\x67\xe8\x9b\x12\xd3\xa4\x56\x42\x66\x14\x17\x40\x00",
                        16), 0);
    t = term_of("DEADBEEF-0000-1000-8000-00000000000A");
    cr_assert_eq(t->kind, CQL_TERM_UUID);
    cr_assert_eq(t->bytes[15], 0x0a);
    cql_parse_error_t e;
    cr_assert_eq(term_err("0xABC", &e), CQLMQ_ESYNTAX);
    cr_assert(strstr(e.msg, "odd number of digits") != NULL, "%s", e.msg);
}

Test(nparse_terms, durations_decode_every_spelling)
{
    static const struct {
        const char *text;
        int32_t months, days;
        int64_t nanos;
    } cases[] = {
        {"1h30m", 0, 0, 5400000000000LL},
        {"2y3mo", 27, 0, 0},
        {"1w2d", 0, 9, 0},
        {"1s500ms20us7ns", 0, 0, 1500020007LL},
        {"3\xc2\xb5s", 0, 0, 3000},
        {"-2d", 0, -2, 0},
        {"P1Y2M3DT4H5M6S", 14, 3, 14706000000000LL},
        {"P3W", 0, 21, 0},
        {"PT5S", 0, 0, 5000000000LL},
        {"p1d", 0, 1, 0},
        {"P0001-02-03T04:05:06", 14, 3, 14706000000000LL},
        {"-P1D", 0, -1, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cql_term_t *t = term_of(cases[i].text);
        cr_assert_eq(t->kind, CQL_TERM_DURATION, "%s", cases[i].text);
        cr_assert_eq(t->months, cases[i].months, "%s", cases[i].text);
        cr_assert_eq(t->days, cases[i].days, "%s", cases[i].text);
        cr_assert_eq(t->nanos, cases[i].nanos, "%s", cases[i].text);
    }
    cql_parse_error_t e;
    cr_assert_eq(term_err("3000000000d", &e), CQLMQ_ESYNTAX);
    cr_assert(strstr(e.msg, "Invalid duration") != NULL, "%s", e.msg);
}

Test(nparse_terms, collections_tuples_and_udts)
{
    cql_term_t *t = term_of("[1, 2, 3]");
    cr_assert_eq(t->kind, CQL_TERM_LIST);
    cr_assert_eq(t->n, 3);
    t = term_of("[]");
    cr_assert_eq(t->kind, CQL_TERM_LIST);
    cr_assert_eq(t->n, 0);
    t = term_of("{1, 2}");
    cr_assert_eq(t->kind, CQL_TERM_SET);
    cr_assert_eq(t->n, 2);
    t = term_of("{'a': 1, 'b': [2]}");
    cr_assert_eq(t->kind, CQL_TERM_MAP);
    cr_assert_eq(t->n, 2);
    cr_assert_str_eq(t->items[1]->text, "b");
    cr_assert_eq(t->values[1]->kind, CQL_TERM_LIST);
    t = term_of("{}");
    cr_assert_eq(t->kind, CQL_TERM_EMPTY_BRACES);
    t = term_of("(1, 'x', null)");
    cr_assert_eq(t->kind, CQL_TERM_TUPLE);
    cr_assert_eq(t->n, 3);
    t = term_of("{street: 'x', \"Zip\": 1}");
    cr_assert_eq(t->kind, CQL_TERM_UDT);
    cr_assert_str_eq(t->names[0], "street");
    cr_assert_str_eq(t->names[1], "Zip");
    cr_assert_eq(t->items[1]->i64, 1);
    t = term_of("{true: 1}");
    cr_assert_eq(t->kind, CQL_TERM_MAP);
    t = term_of("{?: :v}");
    cr_assert_eq(t->kind, CQL_TERM_MAP);
    cr_assert_eq(t->items[0]->bind_index, 0);
    cr_assert_str_eq(t->values[0]->bind_name, "v");
    cr_assert_eq(t->values[0]->bind_index, 1);
}

Test(nparse_terms, function_calls_are_generic)
{
    cql_term_t *t = term_of("now()");
    cr_assert_eq(t->kind, CQL_TERM_FUNCTION);
    cr_assert_str_eq(t->text, "now");
    cr_assert_eq(t->n, 0);
    cr_assert_null(t->keyspace);
    t = term_of("toTimestamp(now())");
    cr_assert_str_eq(t->text, "totimestamp");
    cr_assert_eq(t->items[0]->kind, CQL_TERM_FUNCTION);
    t = term_of("system.blobAsInt(0x00000001)");
    cr_assert_str_eq(t->keyspace, "system");
    cr_assert_str_eq(t->text, "blobasint");
    t = term_of("token(1, ?)");
    cr_assert_str_eq(t->text, "token");
    cr_assert_eq(t->n, 2);
    t = term_of("maxTimeuuid('2013-01-01 00:05+0000')");
    cr_assert_str_eq(fmt(t), "maxtimeuuid('2013-01-01 00:05+0000')");
    t = term_of("\"MyFunc\"(1)");
    cr_assert_str_eq(t->text, "MyFunc");
}

Test(nparse_terms, type_hints_wrap_a_term)
{
    cql_term_t *t = term_of("(int) ?");
    cr_assert_eq(t->kind, CQL_TERM_TYPE_HINT);
    cr_assert_str_eq(t->text, "int");
    cr_assert_eq(t->items[0]->kind, CQL_TERM_BIND);
    t = term_of("(frozen<list<varchar>>) ['a']");
    cr_assert_str_eq(t->text, "frozen<list<text>>");
    t = term_of("(now())");
    cr_assert_eq(t->kind, CQL_TERM_TUPLE);
    cr_assert_eq(t->items[0]->kind, CQL_TERM_FUNCTION);
}

Test(nparse_terms, markers_are_numbered_in_order_of_appearance)
{
    const char *q = "SELECT * FROM t WHERE a = ? AND b IN (?, :x) AND c = [?, {?: ?}] AND d = "
                    "f(?, (?, ?)) LIMIT ?";
    cql_stmt_t *st = NULL;
    cr_assert_eq(cql_parse(q, strlen(q), &arena, &st, NULL), 0);
    cr_assert_eq(st->nmarkers, 10);
    for (size_t i = 0; i < st->nmarkers; i++) {
        cr_assert_eq(st->markers[i]->kind, CQL_TERM_BIND);
        cr_assert_eq(st->markers[i]->bind_index, i);
    }
    cr_assert_str_eq(st->markers[2]->bind_name, "x");
    cr_assert_null(st->markers[3]->bind_name);
    cr_assert_eq(st->u.select.limit, st->markers[9]);
    cr_assert_eq(st->markers[9]->line, 1);
    cr_assert_eq(st->markers[9]->col, strlen(q) - 1);
}

Test(nparse_terms, terms_record_their_position)
{
    const char *q = "SELECT * FROM t\nWHERE a =\n\t  'x'";
    cql_stmt_t *st = NULL;
    cr_assert_eq(cql_parse(q, strlen(q), &arena, &st, NULL), 0);
    cql_term_t *t = st->u.select.where[0]->value;
    cr_assert_eq(t->line, 3);
    cr_assert_eq(t->col, 3);
}

Test(nparse_terms, formatting_a_term_reports_the_needed_length)
{
    cql_term_t *t = term_of("[1, 2, 3]");
    char small[4];
    cr_assert_eq(cql_term_format(t, small, sizeof(small)), 9);
    cr_assert_str_eq(small, "[1,");
    cr_assert_eq(cql_term_format(t, NULL, 0), 9);
}
