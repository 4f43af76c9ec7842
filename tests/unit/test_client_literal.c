/*
 * cqlsh literals -> msgpack (client_literal.c, used by `cqlmq --param` and
 * cqlmq_params_literal): every CQL type, the forms cqlsh accepts, and the
 * errors for text that is not a literal of the type.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "cqlc_int.h"
#include "wire_value.h"

/* Parses text as a literal of type; returns the code, *w holds the value. */
static int parse(const char *type, const char *text, mpk_wr_t *w, char *why)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_type_t *t = type ? cqlc_type_parse(type, strlen(type), &a) : NULL;
    cr_assert(type == NULL || t != NULL, "type %s", type);
    mpk_wr_init(w);
    int rc = cqlc_literal_to_mpk(w, t, text, strlen(text), why, 160);
    cql_arena_close(&a);
    return rc;
}

/* Asserts the literal encodes to exactly the bytes of want. */
static void expect(const char *type, const char *text, mpk_wr_t *want)
{
    mpk_wr_t got;
    char why[160];
    int rc = parse(type, text, &got, why);
    cr_assert_eq(rc, 0, "%s %s: %s (%s)", type, text, cqlmq_strerror(rc), why);
    cr_assert_eq(got.len, want->len, "%s %s: %zu bytes, want %zu", type, text, got.len, want->len);
    cr_assert_eq(memcmp(got.data, want->data, got.len), 0, "%s %s: bytes differ", type, text);
    mpk_wr_close(&got);
    mpk_wr_reset(want);
}

static void expect_rc(const char *type, const char *text, int want)
{
    mpk_wr_t got;
    char why[160];
    int rc = parse(type, text, &got, why);
    cr_assert_eq(rc, want, "%s %s: got %s, want %s", type, text, cqlmq_err_name(rc),
                 cqlmq_err_name(want));
    cr_assert_eq(got.len, 0, "%s %s: nothing is written on error", type, text);
    cr_assert(strncmp(why, "at ", 3) == 0, "the message says where: %s", why);
    mpk_wr_close(&got);
}

Test(client_literal, parses_integers_within_their_type_range)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_int(&w, 42), expect("int", "42", &w);
    mpk_wr_int(&w, -7), expect("int", "  -7 ", &w);
    mpk_wr_int(&w, -128), expect("tinyint", "-128", &w);
    mpk_wr_int(&w, -32768), expect("smallint", "-32768", &w);
    mpk_wr_int(&w, INT64_MAX), expect("bigint", "9223372036854775807", &w);
    mpk_wr_int(&w, 5), expect("counter", "+5", &w);
    mpk_wr_nil(&w), expect("int", "null", &w);
    mpk_wr_nil(&w), expect("int", "NULL", &w);
    expect_rc("tinyint", "128", CQLMQ_ERANGE);
    expect_rc("int", "2147483648", CQLMQ_ERANGE);
    expect_rc("bigint", "9223372036854775808", CQLMQ_ERANGE);
    expect_rc("int", "1.5", CQLMQ_ESYNTAX);
    expect_rc("int", "", CQLMQ_ESYNTAX);
    expect_rc("int", "12abc", CQLMQ_ESYNTAX);
    expect_rc("int", "1 2", CQLMQ_ESYNTAX);
    mpk_wr_close(&w);
}

Test(client_literal, parses_varints_and_decimals_of_any_size)
{
    mpk_wr_t w;
    cql_wr_t cw;
    const char *big = "-123456789012345678901234567890123456789";
    mpk_wr_init(&w);
    mpk_wr_int(&w, 5), expect("varint", "5", &w);
    cql_wr_init(&cw);
    cr_assert_eq(wire_put_varint_str(&cw, big, strlen(big)), 0);
    mpk_wr_ext(&w, WIRE_EXT_VARINT, cw.data, cw.len);
    expect("varint", big, &w);
    cql_wr_reset(&cw);
    cr_assert_eq(wire_put_decimal_str(&cw, "123.45", 6), 0);
    mpk_wr_ext(&w, WIRE_EXT_DECIMAL, cw.data, cw.len);
    cr_assert_eq(cw.len, 6); /* scale 2, 0x3039 */
    expect("decimal", "123.45", &w);
    cql_wr_reset(&cw);
    cr_assert_eq(wire_put_decimal_str(&cw, "-1E+3", 5), 0);
    mpk_wr_ext(&w, WIRE_EXT_DECIMAL, cw.data, cw.len);
    expect("decimal", "-1E+3", &w);
    cql_wr_close(&cw);
    expect_rc("varint", "12x", CQLMQ_ESYNTAX);
    expect_rc("decimal", "1.2.3", CQLMQ_ESYNTAX);
    mpk_wr_close(&w);
}

Test(client_literal, parses_floats_with_nan_and_infinity)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_f32(&w, 1.5f), expect("float", "1.5", &w);
    mpk_wr_f64(&w, -2.5e-3), expect("double", "-2.5e-3", &w);
    mpk_wr_f64(&w, 3), expect("double", "3", &w);
    mpk_wr_f64(&w, INFINITY), expect("double", "Infinity", &w);
    mpk_wr_f64(&w, -INFINITY), expect("double", "-Infinity", &w);
    mpk_wr_f32(&w, NAN), expect("float", "NaN", &w);
    expect_rc("float", "1e39", CQLMQ_ERANGE);
    expect_rc("double", "1e400", CQLMQ_ERANGE);
    expect_rc("double", "0x10", CQLMQ_ESYNTAX);
    expect_rc("double", "one", CQLMQ_ESYNTAX);
    mpk_wr_close(&w);
}

Test(client_literal, parses_text_quoted_dollar_quoted_or_bare_at_the_top)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_cstr(&w, "hello world"), expect("text", "hello world", &w);
    mpk_wr_cstr(&w, "it's"), expect("text", "'it''s'", &w);
    mpk_wr_cstr(&w, "a'b"), expect("varchar", "$$a'b$$", &w);
    mpk_wr_cstr(&w, ""), expect("text", "''", &w);
    mpk_wr_cstr(&w, "null"), expect("text", "'null'", &w);
    mpk_wr_nil(&w), expect("text", "null", &w);
    mpk_wr_cstr(&w, "abc"), expect("ascii", "abc", &w);
    expect_rc("ascii", "'\xc3\xa9'", CQLMQ_ERANGE);
    expect_rc("text", "'unterminated", CQLMQ_ESYNTAX);
    expect_rc("text", "'a' trailing", CQLMQ_ESYNTAX);
    mpk_wr_close(&w);
}

Test(client_literal, parses_booleans_blobs_and_uuids)
{
    mpk_wr_t w;
    uint8_t u[16];
    mpk_wr_init(&w);
    mpk_wr_bool(&w, true), expect("boolean", "TRUE", &w);
    mpk_wr_bool(&w, false), expect("boolean", "false", &w);
    expect_rc("boolean", "yes", CQLMQ_ESYNTAX);
    mpk_wr_bin(&w, "\xca\xfe", 2), expect("blob", "0xCAFE", &w);
    mpk_wr_bin(&w, "", 0), expect("blob", "0x", &w);
    expect_rc("blob", "0xcaf", CQLMQ_ESYNTAX);
    expect_rc("blob", "0xzz", CQLMQ_ESYNTAX);
    expect_rc("blob", "cafe", CQLMQ_ESYNTAX);
    const char *s = "550e8400-e29b-41d4-a716-446655440000";
    cr_assert_eq(wire_parse_uuid(s, strlen(s), u), 0);
    mpk_wr_ext(&w, WIRE_EXT_UUID, u, 16), expect("uuid", s, &w);
    mpk_wr_ext(&w, WIRE_EXT_UUID, u, 16), expect("timeuuid", "'550e8400-e29b-41d4-a716-446655440000'", &w);
    expect_rc("uuid", "550e8400-e29b-41d4-a716", CQLMQ_ESYNTAX);
    mpk_wr_close(&w);
}

/* The payload of the one ext value in w. */
static mpk_ext_t ext_of(mpk_wr_t *w)
{
    mpk_rd_t r;
    mpk_ext_t e;
    mpk_rd_init(&r, w->data, w->len);
    cr_assert_eq(mpk_rd_ext(&r, &e), 0);
    cr_assert(mpk_rd_done(&r));
    return e;
}

static int64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return n == 4 ? (int64_t)(int32_t)v : (int64_t)v;
}

Test(client_literal, parses_timestamps_dates_times_durations_and_inets)
{
    mpk_wr_t w;
    char why[160];
    mpk_ext_t e;
    /* 2024-01-02 03:04:05.678 UTC = 1704164645678 ms: the 64-bit form. */
    static const char *const stamps[] = {"2024-01-02 03:04:05.678+0000", "'2024-01-02T03:04:05.678Z'",
                                         "1704164645678"};
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(parse("timestamp", stamps[i], &w, why), 0, "%s: %s", stamps[i], why);
        e = ext_of(&w);
        cr_assert_eq(e.type, -1);
        cr_assert_eq(e.len, 8);
        uint64_t d = (uint64_t)be(e.ptr, 8);
        cr_assert_eq(d & ((UINT64_C(1) << 34) - 1), 1704164645, "%s", stamps[i]);
        cr_assert_eq(d >> 34, 678000000);
        mpk_wr_close(&w);
    }
    cr_assert_eq(parse("timestamp", "-1", &w, why), 0); /* before the epoch: 96-bit */
    e = ext_of(&w);
    cr_assert_eq(e.len, 12);
    cr_assert_eq(be(e.ptr + 4, 8), -1);
    cr_assert_eq(be(e.ptr, 4), 999000000);
    mpk_wr_close(&w);
    expect_rc("timestamp", "2024-13-01", CQLMQ_ESYNTAX);
    expect_rc("timestamp", "yesterday", CQLMQ_ESYNTAX);

    cr_assert_eq(parse("date", "2024-01-02", &w, why), 0);
    e = ext_of(&w);
    cr_assert_eq(e.type, 5);
    cr_assert_eq(be(e.ptr, 4), 19724);
    mpk_wr_close(&w);
    cr_assert_eq(parse("date", "2147483648", &w, why), 0, "a raw date: the epoch");
    cr_assert_eq(be(ext_of(&w).ptr, 4), 0);
    mpk_wr_close(&w);
    cr_assert_eq(parse("date", "'-0001-12-31'", &w, why), 0, "%s", why);
    mpk_wr_close(&w);
    expect_rc("date", "2024-02-30", CQLMQ_ESYNTAX);

    cr_assert_eq(parse("time", "'03:04:05.5'", &w, why), 0);
    e = ext_of(&w);
    cr_assert_eq(e.type, 6);
    cr_assert_eq(be(e.ptr, 8), ((3 * 60 + 4) * 60 + 5) * INT64_C(1000000000) + 500000000);
    mpk_wr_close(&w);
    cr_assert_eq(parse("time", "1000", &w, why), 0);
    cr_assert_eq(be(ext_of(&w).ptr, 8), 1000);
    mpk_wr_close(&w);
    expect_rc("time", "25:00:00", CQLMQ_ESYNTAX);

    cr_assert_eq(parse("duration", "1h30m", &w, why), 0);
    e = ext_of(&w);
    cr_assert_eq(e.type, 7);
    cr_assert_eq(be(e.ptr, 4), 0);
    cr_assert_eq(be(e.ptr + 8, 8), 5400 * INT64_C(1000000000));
    mpk_wr_close(&w);
    cr_assert_eq(parse("duration", "P1Y2D", &w, why), 0);
    e = ext_of(&w);
    cr_assert_eq(be(e.ptr, 4), 12);
    cr_assert_eq(be(e.ptr + 4, 4), 2);
    mpk_wr_close(&w);
    expect_rc("duration", "1parsec", CQLMQ_ESYNTAX);

    cr_assert_eq(parse("inet", "10.0.0.1", &w, why), 0);
    e = ext_of(&w);
    cr_assert_eq(e.type, 8);
    cr_assert_eq(e.len, 4);
    cr_assert_eq(memcmp(e.ptr, "\x0a\x00\x00\x01", 4), 0);
    mpk_wr_close(&w);
    cr_assert_eq(parse("inet", "'::1'", &w, why), 0);
    cr_assert_eq(ext_of(&w).len, 16);
    mpk_wr_close(&w);
    expect_rc("inet", "10.0.0.256", CQLMQ_ESYNTAX);
}

Test(client_literal, parses_collections_tuples_and_nested_types)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_array(&w, 3), mpk_wr_int(&w, 1), mpk_wr_int(&w, 2), mpk_wr_int(&w, 3);
    expect("list<int>", "[1, 2,3]", &w);
    mpk_wr_array(&w, 0), expect("list<int>", "[ ]", &w);
    mpk_wr_array(&w, 2), mpk_wr_cstr(&w, "a"), mpk_wr_cstr(&w, "b");
    expect("set<text>", "{'a', 'b'}", &w);
    mpk_wr_map(&w, 2), mpk_wr_cstr(&w, "a"), mpk_wr_int(&w, 1), mpk_wr_cstr(&w, "b"), mpk_wr_nil(&w);
    expect("map<text, int>", "{'a': 1, 'b': null}", &w);
    mpk_wr_map(&w, 1), mpk_wr_cstr(&w, "a");
    mpk_wr_array(&w, 2), mpk_wr_int(&w, 1), mpk_wr_int(&w, 2);
    expect("map<text, frozen<list<int>>>", "{'a': [1, 2]}", &w);
    mpk_wr_array(&w, 2), mpk_wr_int(&w, 1), mpk_wr_cstr(&w, "x");
    expect("tuple<int, text>", "(1, 'x')", &w);
    mpk_wr_array(&w, 20);
    for (int i = 0; i < 20; i++)
        mpk_wr_int(&w, i);
    expect("list<int>", "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]", &w);
    mpk_wr_map(&w, 1), mpk_wr_int(&w, 7);
    mpk_wr_ext(&w, WIRE_EXT_DATE, "\x00\x00\x00\x00", 4);
    expect("map<int, date>", "{7: '1970-01-01'}", &w);
    expect_rc("list<int>", "[1, 2", CQLMQ_ESYNTAX);
    expect_rc("list<int>", "{1, 2}", CQLMQ_ESYNTAX);
    expect_rc("map<text, int>", "{'a' 1}", CQLMQ_ESYNTAX);
    expect_rc("map<text, int>", "{'a': 'b'}", CQLMQ_ESYNTAX);
    expect_rc("tuple<int, text>", "(1, 'x', 3)", CQLMQ_ESYNTAX);
    expect_rc("list<tinyint>", "[1, 1000]", CQLMQ_ERANGE);
    mpk_wr_close(&w);
}

Test(client_literal, parses_udts_by_field_with_values_typed_by_their_form)
{
    mpk_wr_t w;
    uint8_t u[16];
    mpk_wr_init(&w);
    mpk_wr_map(&w, 4);
    mpk_wr_cstr(&w, "street"), mpk_wr_cstr(&w, "x");
    mpk_wr_cstr(&w, "zip"), mpk_wr_int(&w, 12345);
    mpk_wr_cstr(&w, "Mixed"), mpk_wr_bool(&w, true);
    mpk_wr_cstr(&w, "tags");
    mpk_wr_array(&w, 2), mpk_wr_f64(&w, 1.5), mpk_wr_bin(&w, "\x01", 1);
    expect("frozen<address>", "{street: 'x', ZIP: 12345, \"Mixed\": true, tags: [1.5, 0x01]}", &w);
    /* Untyped sets, maps and uuids inside a UDT. */
    cr_assert_eq(wire_parse_uuid("550e8400-e29b-41d4-a716-446655440000", 36, u), 0);
    mpk_wr_map(&w, 3);
    mpk_wr_cstr(&w, "s"), mpk_wr_array(&w, 2), mpk_wr_int(&w, 1), mpk_wr_int(&w, 2);
    mpk_wr_cstr(&w, "m"), mpk_wr_map(&w, 1), mpk_wr_int(&w, 1), mpk_wr_cstr(&w, "one");
    mpk_wr_cstr(&w, "u"), mpk_wr_ext(&w, WIRE_EXT_UUID, u, 16);
    expect("address", "{s: {1, 2}, m: {1: 'one'}, u: 550e8400-e29b-41d4-a716-446655440000}", &w);
    expect_rc("address", "{street 'x'}", CQLMQ_ESYNTAX);
    expect_rc("address", "{street: 1h}", CQLMQ_ESYNTAX);
    mpk_wr_close(&w);
}

Test(client_literal, bounds_nesting_and_reports_where_it_failed)
{
    char deep[200] = "{f: ";
    for (int i = 0; i < 40; i++)
        strcat(deep, "[");
    for (int i = 0; i < 40; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    expect_rc("address", deep, CQLMQ_ESYNTAX);
    mpk_wr_t w;
    char why[160];
    cr_assert_eq(parse("list<int>", "[1, x]", &w, why), CQLMQ_ESYNTAX);
    cr_assert(strncmp(why, "at 5:", 5) == 0, "%s", why);
    mpk_wr_close(&w);
}

Test(client_literal, builds_params_from_literals_and_keeps_the_first_error)
{
    cqlmq_params_t *p;
    cqlmq_errinfo_t err;
    memset(&err, 0, sizeof err);
    cr_assert_eq(cqlmq_params_new(&p), 0);
    cr_assert_eq(cqlmq_params_literal(p, "int", "1", 1, &err), 0);
    cr_assert_eq(cqlmq_params_literal(p, "list<text>", "['a']", 5, &err), 0);
    cr_assert_eq(cqlmq_params_count(p), 2);
    mpk_wr_t w;
    mpk_wr_init(&w);
    cr_assert_eq(cqlc_params_write(p, &w), 0);
    cr_assert_eq(w.len, 5); /* [1, ["a"]] */
    cr_assert_eq(memcmp(w.data, "\x92\x01\x91\xa1" "a", 5), 0);
    mpk_wr_close(&w);
    cr_assert_eq(cqlmq_params_literal(p, "nosuchtype<", "1", 1, &err), CQLMQ_EBADTYPE);
    cr_assert_eq(cqlmq_params_error(p), CQLMQ_EBADTYPE);
    cr_assert_eq(cqlmq_params_literal(p, "int", "2", 1, &err), CQLMQ_EBADTYPE, "sticky");
    cqlmq_params_reset(p);
    cr_assert_eq(cqlmq_params_literal(p, "int", "x", 1, &err), CQLMQ_ESYNTAX);
    cr_assert_str_eq(err.code, "invalid");
    cr_assert(strstr(err.message, "not an integer") != NULL, "%s", err.message);
    cqlmq_error_clear(&err);
    cqlmq_params_free(&p);
}

Test(client_literal, builds_params_by_hand_by_position_or_by_name)
{
    cqlmq_params_t *p;
    mpk_wr_t w, want;
    cr_assert_eq(cqlmq_params_new(&p), 0);
    cqlmq_params_name(p, "k");
    cqlmq_params_int64(p, 1);
    cqlmq_params_name(p, "v");
    cqlmq_params_map(p, 1);
    cqlmq_params_cstr(p, "a");
    cqlmq_params_list(p, 2);
    cqlmq_params_bool(p, true);
    cqlmq_params_null(p);
    cqlmq_params_name(p, "e");
    cqlmq_params_list(p, 0);
    cr_assert_eq(cqlmq_params_count(p), 3);
    mpk_wr_init(&w);
    mpk_wr_init(&want);
    cr_assert_eq(cqlc_params_write(p, &w), 0);
    mpk_wr_map(&want, 3);
    mpk_wr_cstr(&want, "k"), mpk_wr_int(&want, 1);
    mpk_wr_cstr(&want, "v"), mpk_wr_map(&want, 1), mpk_wr_cstr(&want, "a");
    mpk_wr_array(&want, 2), mpk_wr_bool(&want, true), mpk_wr_nil(&want);
    mpk_wr_cstr(&want, "e"), mpk_wr_array(&want, 0);
    cr_assert_eq(w.len, want.len);
    cr_assert_eq(memcmp(w.data, want.data, w.len), 0);
    /* Misuse: a positional value among named ones; an open container. */
    cqlmq_params_int64(p, 2);
    cr_assert_eq(cqlmq_params_error(p), CQLMQ_EINVAL);
    cqlmq_params_reset(p);
    cqlmq_params_list(p, 2);
    cqlmq_params_int64(p, 1);
    mpk_wr_reset(&w);
    cr_assert_eq(cqlc_params_write(p, &w), CQLMQ_EINVAL);
    cqlmq_params_reset(p);
    cqlmq_params_varint(p, "99999999999999999999999");
    cqlmq_params_decimal(p, "1.5");
    cqlmq_params_timestamp_ms(p, 0);
    uint8_t a4[4] = {127, 0, 0, 1};
    cqlmq_params_inet(p, a4, 4);
    cqlmq_params_inet(p, a4, 3);
    cr_assert_eq(cqlmq_params_error(p), CQLMQ_EINVAL);
    cqlmq_params_reset(p);
    cqlmq_params_varint(p, "12a");
    cr_assert_eq(cqlmq_params_error(p), CQLMQ_EBADTYPE);
    cqlmq_params_reset(p);
    cqlmq_params_msgpack(p, "\xdd\x0f\xff\xff\xff", 5);
    cr_assert_eq(cqlmq_params_error(p), CQLMQ_EMALFORMED);
    mpk_wr_close(&w);
    mpk_wr_close(&want);
    cqlmq_params_free(&p);
    cr_assert_null(p);
}
