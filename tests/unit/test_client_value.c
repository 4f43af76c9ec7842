/*
 * Results and values of the C client, from reply bytes built here: the
 * validation of replies (malformed ones are errors), typed accessors of
 * every CQL type as the contract maps it, iteration of containers, and the
 * text forms (CQL literal, cqlsh display, JSON).
 */
#include <criterion/criterion.h>

#include "cqlc_int.h"
#include "cqlc_output.h"
#include "wire_value.h"

/* Builds a result from w's bytes as a reply of op; returns the code. */
static int build(mpk_wr_t *w, const char *op, cqlc_cols_t *cols, cqlmq_result_t **out)
{
    zmq_msg_t m;
    char why[160];
    zmq_msg_init_size(&m, w->len);
    memcpy(zmq_msg_data(&m), w->data, w->len);
    int rc = cqlc_result_from_msg(&m, mpk_cstr(op), cols, out, why, sizeof why);
    zmq_msg_close(&m);
    mpk_wr_reset(w);
    return rc;
}

static void head(mpk_wr_t *w, uint32_t n, const char *op)
{
    mpk_wr_map(w, n);
    mpk_wr_cstr(w, "op"), mpk_wr_cstr(w, op);
    mpk_wr_cstr(w, "id"), mpk_wr_uint(w, 1);
}

static void col(mpk_wr_t *w, const char *name, const char *type)
{
    mpk_wr_array(w, 2), mpk_wr_cstr(w, name), mpk_wr_cstr(w, type);
}

#define NCOLS 21
static const char *const names[NCOLS] = {"b", "i", "v", "f", "d", "dec", "t", "bl", "u", "ts",
                                         "dt", "tm", "du", "ip", "l", "s", "m", "tu", "ud", "e",
                                         "n"};
static const char *const types[NCOLS] = {
    "boolean", "bigint", "varint", "float", "double", "decimal", "text", "blob", "uuid",
    "timestamp", "date", "time", "duration", "inet", "list<int>", "set<text>",
    "map<text, int>", "frozen<tuple<int, text>>", "frozen<address>", "int", "text"};

static cqlmq_result_t *typed_row(void)
{
    mpk_wr_t w;
    cql_wr_t cw;
    uint8_t u[16];
    cqlmq_result_t *r = NULL;
    mpk_wr_init(&w);
    cql_wr_init(&cw);
    head(&w, 5, "result");
    mpk_wr_cstr(&w, "kind"), mpk_wr_cstr(&w, "rows");
    mpk_wr_cstr(&w, "columns");
    mpk_wr_array(&w, NCOLS);
    for (int i = 0; i < NCOLS; i++)
        col(&w, names[i], types[i]);
    mpk_wr_cstr(&w, "rows");
    mpk_wr_array(&w, 1);
    mpk_wr_array(&w, NCOLS);
    mpk_wr_bool(&w, true);
    mpk_wr_int(&w, -5);
    wire_put_varint_str(&cw, "123456789012345678901234567890", 30);
    mpk_wr_ext(&w, WIRE_EXT_VARINT, cw.data, cw.len);
    mpk_wr_f32(&w, 1.5f);
    mpk_wr_f64(&w, 0.1);
    cql_wr_reset(&cw);
    wire_put_decimal_str(&cw, "123.45", 6);
    mpk_wr_ext(&w, WIRE_EXT_DECIMAL, cw.data, cw.len);
    mpk_wr_cstr(&w, "it's");
    mpk_wr_bin(&w, "\xca\xfe", 2);
    wire_parse_uuid("550e8400-e29b-41d4-a716-446655440000", 36, u);
    mpk_wr_ext(&w, WIRE_EXT_UUID, u, 16);
    cqlc_put_timestamp(&w, INT64_C(1704164645678));
    cqlc_put_i32_ext(&w, WIRE_EXT_DATE, 19724);
    cqlc_put_i64_ext(&w, WIRE_EXT_TIME, INT64_C(11045500000000));
    cqlc_put_duration(&w, 0, 1, INT64_C(5400000000000));
    mpk_wr_ext(&w, WIRE_EXT_INET, "\x0a\x00\x00\x01", 4);
    mpk_wr_array(&w, 2), mpk_wr_int(&w, 1), mpk_wr_int(&w, 2);
    mpk_wr_array(&w, 2), mpk_wr_cstr(&w, "a"), mpk_wr_cstr(&w, "b");
    mpk_wr_map(&w, 1), mpk_wr_cstr(&w, "a"), mpk_wr_int(&w, 1);
    mpk_wr_array(&w, 2), mpk_wr_int(&w, 1), mpk_wr_nil(&w);
    mpk_wr_map(&w, 2), mpk_wr_cstr(&w, "street"), mpk_wr_cstr(&w, "x");
    mpk_wr_cstr(&w, "Zip"), mpk_wr_int(&w, 7);
    mpk_wr_ext(&w, WIRE_EXT_EMPTY, NULL, 0);
    mpk_wr_nil(&w);
    cr_assert_eq(build(&w, "result", NULL, &r), 0);
    cql_wr_close(&cw);
    mpk_wr_close(&w);
    return r;
}

static cqlmq_value_t value_of(const cqlmq_result_t *r, uint32_t c)
{
    cqlmq_row_t row;
    cqlmq_value_t v;
    cr_assert_eq(cqlmq_result_row(r, 0, &row), 0);
    cr_assert_eq(cqlmq_row_value(&row, c, &v), 0);
    return v;
}

Test(client_value, reads_every_type_with_its_accessor)
{
    cqlmq_result_t *r = typed_row();
    cqlmq_value_t v;
    bool b;
    int64_t i, ms, ns;
    double d;
    const char *s;
    const uint8_t *p;
    size_t n;
    int32_t days, mo, dd;
    uint8_t u[16], a[16];
    char buf[64];

    cr_assert_eq(cqlmq_result_column_count(r), NCOLS);
    v = value_of(r, 0); cr_assert_eq(cqlmq_value_bool(&v, &b), 0); cr_assert(b);
    cr_assert_eq(cqlmq_value_kind(&v), CQLMQ_K_BOOL);
    v = value_of(r, 1); cr_assert_eq(cqlmq_value_int64(&v, &i), 0); cr_assert_eq(i, -5);
    v = value_of(r, 2);
    cr_assert_eq(cqlmq_value_kind(&v), CQLMQ_K_VARINT);
    cr_assert_eq(cqlmq_value_int64(&v, &i), CQLMQ_ERANGE);
    cr_assert_eq(cqlmq_value_number_text(&v, buf, sizeof buf), 30);
    cr_assert_str_eq(buf, "123456789012345678901234567890");
    v = value_of(r, 3); cr_assert_eq(cqlmq_value_double(&v, &d), 0); cr_assert_eq(d, 1.5);
    cr_assert_eq(cqlmq_value_kind(&v), CQLMQ_K_FLOAT);
    v = value_of(r, 4); cr_assert_eq(cqlmq_value_double(&v, &d), 0); cr_assert_eq(d, 0.1);
    v = value_of(r, 5);
    cr_assert_eq(cqlmq_value_kind(&v), CQLMQ_K_DECIMAL);
    cr_assert_eq(cqlmq_value_number_text(&v, buf, sizeof buf), 6);
    cr_assert_str_eq(buf, "123.45");
    v = value_of(r, 6); cr_assert_eq(cqlmq_value_text(&v, &s, &n), 0);
    cr_assert_eq(n, 4); cr_assert_eq(memcmp(s, "it's", 4), 0);
    v = value_of(r, 7); cr_assert_eq(cqlmq_value_bytes(&v, &p, &n), 0);
    cr_assert_eq(n, 2); cr_assert_eq(p[0], 0xca);
    v = value_of(r, 8); cr_assert_eq(cqlmq_value_uuid(&v, u), 0); cr_assert_eq(u[0], 0x55);
    v = value_of(r, 9); cr_assert_eq(cqlmq_value_timestamp_ms(&v, &ms), 0);
    cr_assert_eq(ms, INT64_C(1704164645678));
    v = value_of(r, 10); cr_assert_eq(cqlmq_value_date(&v, &days), 0); cr_assert_eq(days, 19724);
    v = value_of(r, 11); cr_assert_eq(cqlmq_value_time(&v, &ns), 0);
    cr_assert_eq(ns, INT64_C(11045500000000));
    v = value_of(r, 12); cr_assert_eq(cqlmq_value_duration(&v, &mo, &dd, &ns), 0);
    cr_assert_eq(dd, 1); cr_assert_eq(ns, INT64_C(5400000000000));
    v = value_of(r, 13); cr_assert_eq(cqlmq_value_inet(&v, a, &n), 0);
    cr_assert_eq(n, 4); cr_assert_eq(a[3], 1);
    /* Wrong accessors and absent values. */
    v = value_of(r, 13); cr_assert_eq(cqlmq_value_uuid(&v, u), CQLMQ_EBADTYPE);
    v = value_of(r, 6); cr_assert_eq(cqlmq_value_double(&v, &d), CQLMQ_EBADTYPE);
    v = value_of(r, 19);
    cr_assert_eq(cqlmq_value_kind(&v), CQLMQ_K_EMPTY);
    cr_assert_eq(cqlmq_value_int64(&v, &i), CQLMQ_ENOTFOUND);
    v = value_of(r, 20);
    cr_assert(cqlmq_value_is_null(&v));
    cr_assert_eq(cqlmq_value_text(&v, &s, &n), CQLMQ_ENOTFOUND);
    cqlmq_result_free(&r);
}

Test(client_value, iterates_collections_tuples_and_udts_with_item_types)
{
    cqlmq_result_t *r = typed_row();
    cqlmq_value_t v, item, key, val;
    cqlmq_iter_t it;
    int64_t i;
    const char *s;
    size_t n;

    v = value_of(r, 14);
    cr_assert_eq(cqlmq_value_kind(&v), CQLMQ_K_LIST);
    cr_assert_eq(cqlmq_value_iter(&v, &it), 0);
    cr_assert_eq(it.count, 2);
    cr_assert_eq(cqlmq_iter_next_pair(&it, &key, &val), CQLMQ_EBADTYPE);
    cr_assert_eq(cqlmq_iter_next(&it, &item), 1);
    cr_assert_eq(cqlmq_value_int64(&item, &i), 0); cr_assert_eq(i, 1);
    cr_assert_not_null(item.type, "items carry the element type");
    cr_assert_eq(cqlmq_iter_next(&it, &item), 1);
    cr_assert_eq(cqlmq_iter_next(&it, &item), 0);
    v = value_of(r, 15); cr_assert_eq(cqlmq_value_kind(&v), CQLMQ_K_SET);
    v = value_of(r, 16);
    cr_assert_eq(cqlmq_value_kind(&v), CQLMQ_K_MAP);
    cr_assert_eq(cqlmq_value_iter(&v, &it), 0);
    cr_assert_eq(cqlmq_iter_next(&it, &item), CQLMQ_EBADTYPE);
    cr_assert_eq(cqlmq_iter_next_pair(&it, &key, &val), 1);
    cr_assert_eq(cqlmq_value_text(&key, &s, &n), 0);
    cr_assert_eq(cqlmq_value_int64(&val, &i), 0); cr_assert_eq(i, 1);
    cr_assert_eq(cqlmq_iter_next_pair(&it, &key, &val), 0);
    v = value_of(r, 17); cr_assert_eq(cqlmq_value_kind(&v), CQLMQ_K_TUPLE);
    cr_assert_eq(cqlmq_value_iter(&v, &it), 0);
    cr_assert_eq(cqlmq_iter_next(&it, &item), 1);
    cr_assert_eq(cqlmq_iter_next(&it, &item), 1);
    cr_assert(cqlmq_value_is_null(&item));
    v = value_of(r, 18); cr_assert_eq(cqlmq_value_kind(&v), CQLMQ_K_UDT);
    cr_assert_eq(cqlmq_value_iter(&v, &it), 0);
    cr_assert_eq(cqlmq_iter_next_pair(&it, &key, &val), 1);
    cr_assert_eq(cqlmq_value_text(&key, &s, &n), 0);
    cr_assert_eq(n, 6);
    v = value_of(r, 1); cr_assert_eq(cqlmq_value_iter(&v, &it), CQLMQ_EBADTYPE);
    v = value_of(r, 20); cr_assert_eq(cqlmq_value_iter(&v, &it), CQLMQ_ENOTFOUND);
    cqlmq_result_free(&r);
}

static void fmt_is(const cqlmq_result_t *r, uint32_t c, cqlc_style_t style, const char *want)
{
    cqlmq_value_t v = value_of(r, c);
    cqlc_sb_t sb;
    cqlc_sb_init(&sb);
    cr_assert_eq(cqlc_format(&sb, &v, style), 0, "column %s", names[c]);
    cr_assert_str_eq(sb.p ? sb.p : "", want, "column %s style %d", names[c], style);
    cqlc_sb_close(&sb);
}

Test(client_value, formats_values_as_cql_literals_as_cqlsh_and_as_json)
{
    cqlmq_result_t *r = typed_row();
    static const char *const lit[NCOLS] = {
        "true", "-5", "123456789012345678901234567890", "1.5", "0.1", "123.45", "'it''s'",
        "0xcafe", "550e8400-e29b-41d4-a716-446655440000", "'2024-01-02 03:04:05.678000+0000'",
        "'2024-01-02'", "'03:04:05.500000000'", "1d1h30m", "'10.0.0.1'", "[1, 2]", "{'a', 'b'}",
        "{'a': 1}", "(1, null)", "{street: 'x', \"Zip\": 7}", "blobAsInt(0x)", "null"};
    static const char *const text[NCOLS] = {
        "true", "-5", "123456789012345678901234567890", "1.5", "0.1", "123.45", "it's",
        "0xcafe", "550e8400-e29b-41d4-a716-446655440000", "2024-01-02 03:04:05.678000+0000",
        "2024-01-02", "03:04:05.500000000", "1d1h30m", "10.0.0.1", "[1, 2]", "{'a', 'b'}",
        "{'a': 1}", "(1, null)", "{street: 'x', \"Zip\": 7}", "blobAsInt(0x)", "null"};
    static const char *const json[NCOLS] = {
        "true", "-5", "123456789012345678901234567890", "1.5", "0.1", "123.45", "\"it's\"",
        "\"0xcafe\"", "\"550e8400-e29b-41d4-a716-446655440000\"",
        "\"2024-01-02 03:04:05.678000+0000\"", "\"2024-01-02\"", "\"03:04:05.500000000\"",
        "\"1d1h30m\"", "\"10.0.0.1\"", "[1,2]", "[\"a\",\"b\"]", "{\"a\":1}", "[1,null]",
        "{\"street\":\"x\",\"Zip\":7}", "null", "null"};
    for (uint32_t c = 0; c < NCOLS; c++) {
        fmt_is(r, c, CQLC_STYLE_LITERAL, lit[c]);
        fmt_is(r, c, CQLC_STYLE_TEXT, text[c]);
        fmt_is(r, c, CQLC_STYLE_JSON, json[c]);
    }
    char small[8];
    cqlmq_value_t v = value_of(r, 9);
    cr_assert_eq(cqlmq_value_format(&v, small, sizeof small), 33, "the length it needs");
    cr_assert_str_eq(small, "'2024-0", "truncated like snprintf");
    cqlmq_result_free(&r);
}

Test(client_value, rejects_replies_that_break_the_contract)
{
    mpk_wr_t w;
    cqlmq_result_t *r = NULL;
    mpk_wr_init(&w);
    /* rows without columns */
    head(&w, 4, "result"), mpk_wr_cstr(&w, "kind"), mpk_wr_cstr(&w, "rows");
    mpk_wr_cstr(&w, "rows"), mpk_wr_array(&w, 0);
    cr_assert_eq(build(&w, "result", NULL, &r), CQLMQ_EMALFORMED);
    /* a column that is not [name, type] */
    head(&w, 4, "result"), mpk_wr_cstr(&w, "kind"), mpk_wr_cstr(&w, "rows");
    mpk_wr_cstr(&w, "columns"), mpk_wr_array(&w, 1), mpk_wr_array(&w, 1), mpk_wr_cstr(&w, "a");
    cr_assert_lt(build(&w, "result", NULL, &r), 0);
    /* a row with too many values */
    head(&w, 5, "result"), mpk_wr_cstr(&w, "kind"), mpk_wr_cstr(&w, "rows");
    mpk_wr_cstr(&w, "columns"), mpk_wr_array(&w, 1), col(&w, "a", "int");
    mpk_wr_cstr(&w, "rows"), mpk_wr_array(&w, 1), mpk_wr_array(&w, 2);
    mpk_wr_int(&w, 1), mpk_wr_int(&w, 2);
    cr_assert_eq(build(&w, "result", NULL, &r), CQLMQ_EMALFORMED);
    /* a value cut short (str of 10 bytes with 2 present) */
    head(&w, 5, "result"), mpk_wr_cstr(&w, "kind"), mpk_wr_cstr(&w, "rows");
    mpk_wr_cstr(&w, "columns"), mpk_wr_array(&w, 1), col(&w, "a", "text");
    mpk_wr_cstr(&w, "rows"), mpk_wr_array(&w, 1), mpk_wr_array(&w, 1);
    mpk_wr_raw(&w, "\xaa" "ab", 3);
    cr_assert_lt(build(&w, "result", NULL, &r), 0);
    /* values nested beyond the bound */
    head(&w, 5, "result"), mpk_wr_cstr(&w, "kind"), mpk_wr_cstr(&w, "rows");
    mpk_wr_cstr(&w, "columns"), mpk_wr_array(&w, 1), col(&w, "a", "list<int>");
    mpk_wr_cstr(&w, "rows"), mpk_wr_array(&w, 1), mpk_wr_array(&w, 1);
    for (int i = 0; i < 100; i++)
        mpk_wr_array(&w, 1);
    mpk_wr_nil(&w);
    cr_assert_eq(build(&w, "result", NULL, &r), CQLMQ_ELIMIT);
    /* bytes after the map, unknown kind, kind of the wrong type */
    head(&w, 3, "result"), mpk_wr_cstr(&w, "kind"), mpk_wr_cstr(&w, "void"), mpk_wr_nil(&w);
    cr_assert_eq(build(&w, "result", NULL, &r), CQLMQ_ETRAILING);
    head(&w, 3, "result"), mpk_wr_cstr(&w, "kind"), mpk_wr_cstr(&w, "sideways");
    cr_assert_eq(build(&w, "result", NULL, &r), CQLMQ_EMALFORMED);
    head(&w, 3, "result"), mpk_wr_cstr(&w, "kind"), mpk_wr_int(&w, 1);
    cr_assert_eq(build(&w, "result", NULL, &r), CQLMQ_EBADTYPE);
    /* a page after the first: no columns, rows need the stream's */
    head(&w, 4, "page"), mpk_wr_cstr(&w, "seq"), mpk_wr_uint(&w, 1);
    mpk_wr_cstr(&w, "rows"), mpk_wr_array(&w, 1), mpk_wr_array(&w, 1), mpk_wr_int(&w, 1);
    cr_assert_eq(build(&w, "page", NULL, &r), CQLMQ_EMALFORMED);
    cr_assert_null(r);
    mpk_wr_close(&w);
}

Test(client_value, pages_after_the_first_share_the_streams_columns)
{
    mpk_wr_t w;
    cqlc_cols_t *cols = NULL;
    cqlmq_result_t *r = NULL;
    mpk_wr_init(&w);
    mpk_wr_array(&w, 1), col(&w, "k", "bigint");
    cr_assert_eq(cqlc_cols_parse((mpk_raw_t){w.data, w.len}, (mpk_raw_t){NULL, 0}, &cols), 0);
    mpk_wr_reset(&w);
    head(&w, 5, "page"), mpk_wr_cstr(&w, "seq"), mpk_wr_uint(&w, 3);
    mpk_wr_cstr(&w, "paging_state"), mpk_wr_bin(&w, "ps", 2);
    mpk_wr_cstr(&w, "rows"), mpk_wr_array(&w, 2);
    mpk_wr_array(&w, 1), mpk_wr_int(&w, 10), mpk_wr_array(&w, 1), mpk_wr_int(&w, 11);
    cr_assert_eq(build(&w, "page", cols, &r), 0);
    cqlc_cols_unref(&cols); /* the page holds its own reference */
    cr_assert_str_eq(cqlmq_result_column_type(r, 0), "bigint");
    cr_assert_eq(cqlmq_result_row_count(r), 2);
    cqlmq_row_t row;
    cqlmq_value_t v;
    int64_t i;
    /* Random access, backwards too. */
    cr_assert_eq(cqlmq_result_row(r, 1, &row), 0);
    cr_assert_eq(cqlmq_row_value(&row, 0, &v), 0);
    cr_assert_eq(cqlmq_value_int64(&v, &i), 0); cr_assert_eq(i, 11);
    cr_assert_eq(cqlmq_result_row(r, 0, &row), 0);
    cr_assert_eq(cqlmq_row_value(&row, 0, &v), 0);
    cr_assert_eq(cqlmq_value_int64(&v, &i), 0); cr_assert_eq(i, 10);
    const uint8_t *ps;
    size_t n;
    cr_assert_eq(cqlmq_result_paging_state(r, &ps, &n), 0);
    cr_assert_eq(n, 2);
    cqlmq_result_free(&r);
    mpk_wr_close(&w);
}

Test(client_value, reads_broken_values_as_errors_not_crashes)
{
    static const uint8_t bad_uuid[] = {0xd6, 2, 1, 2, 3, 4};        /* ext 2 of 4 bytes */
    static const uint8_t bad_ts[] = {0xc7, 5, 0xff, 0, 0, 0, 0, 0}; /* ext -1 of 5 bytes */
    static const uint8_t cut[] = {0x92, 0x01, 0xa5, 'a'};           /* [1, <cut str>] */
    static const uint8_t c1[] = {0xc1};
    uint8_t u[16];
    int64_t ms;
    cqlmq_iter_t it;
    cqlmq_value_t item;
    char buf[32];
    cqlmq_value_t v = {bad_uuid, sizeof bad_uuid, NULL};
    cr_assert_eq(cqlmq_value_uuid(&v, u), CQLMQ_EBADTYPE);
    cr_assert_lt(cqlmq_value_format(&v, buf, sizeof buf), 0);
    v = (cqlmq_value_t){bad_ts, sizeof bad_ts, NULL};
    cr_assert_eq(cqlmq_value_timestamp_ms(&v, &ms), CQLMQ_EBADTYPE);
    v = (cqlmq_value_t){cut, sizeof cut, NULL};
    cr_assert_eq(cqlmq_value_iter(&v, &it), 0);
    cr_assert_eq(cqlmq_iter_next(&it, &item), 1);
    cr_assert_lt(cqlmq_iter_next(&it, &item), 0);
    cr_assert_lt(cqlmq_value_format(&v, buf, sizeof buf), 0);
    v = (cqlmq_value_t){c1, sizeof c1, NULL};
    cr_assert_eq(cqlmq_value_kind(&v), CQLMQ_K_UNKNOWN);
    cr_assert_eq(cqlmq_value_int64(&v, &ms), CQLMQ_EBADTYPE);
    v = (cqlmq_value_t){NULL, 0, NULL};
    cr_assert_eq(cqlmq_value_int64(&v, &ms), CQLMQ_ENOTFOUND);
}

/* A rows result of columns (a addr, s set<frozen<addr>>) with the udts map
 * written by put_udts (or none), one row of addr values. */
static int udt_result(void (*put_udts)(mpk_wr_t *), cqlmq_result_t **r)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    head(&w, put_udts ? 6 : 5, "result");
    mpk_wr_cstr(&w, "kind"), mpk_wr_cstr(&w, "rows");
    mpk_wr_cstr(&w, "columns"), mpk_wr_array(&w, 2);
    col(&w, "a", "addr"), col(&w, "s", "set<frozen<addr>>");
    if (put_udts) {
        mpk_wr_cstr(&w, "udts");
        put_udts(&w);
    }
    mpk_wr_cstr(&w, "rows"), mpk_wr_array(&w, 1), mpk_wr_array(&w, 2);
    for (int i = 0; i < 2; i++) {
        if (i == 1)
            mpk_wr_array(&w, 1);
        mpk_wr_map(&w, 3);
        mpk_wr_cstr(&w, "loc"), mpk_wr_array(&w, 2), mpk_wr_int(&w, 1), mpk_wr_int(&w, 2);
        mpk_wr_cstr(&w, "tags"), mpk_wr_array(&w, 1), mpk_wr_cstr(&w, "t");
        mpk_wr_cstr(&w, "home"), mpk_wr_map(&w, 1), mpk_wr_cstr(&w, "n"), mpk_wr_int(&w, 7);
    }
    int rc = build(&w, "result", NULL, r);
    mpk_wr_close(&w);
    return rc;
}

static void addr_udts(mpk_wr_t *w)
{
    mpk_wr_map(w, 2);
    mpk_wr_cstr(w, "addr"), mpk_wr_array(w, 3);
    col(w, "loc", "frozen<tuple<int, int>>"), col(w, "tags", "frozen<set<text>>");
    col(w, "home", "frozen<place>");
    mpk_wr_cstr(w, "place"), mpk_wr_array(w, 1), col(w, "n", "int");
}

static void cyclic_udts(mpk_wr_t *w)
{
    mpk_wr_map(w, 2);
    mpk_wr_cstr(w, "addr"), mpk_wr_array(w, 2);
    col(w, "home", "frozen<place>"), col(w, "tags", "frozen<set<text>>");
    mpk_wr_cstr(w, "place"), mpk_wr_array(w, 1), col(w, "back", "frozen<list<frozen<addr>>>");
}

static void junk_udts(mpk_wr_t *w)
{
    mpk_wr_map(w, 3);
    mpk_wr_int(w, 5), mpk_wr_cstr(w, "x");                   /* a key that is no str */
    mpk_wr_cstr(w, "place"), mpk_wr_cstr(w, "not fields");
    mpk_wr_cstr(w, "addr"), mpk_wr_array(w, 2);
    col(w, "loc", "tuple<int"), mpk_wr_array(w, 1), mpk_wr_cstr(w, "tags");
}

static void fmt_col(const cqlmq_result_t *r, uint32_t c, const char *want)
{
    cqlmq_value_t v = value_of(r, c);
    char buf[256];
    cr_assert_gt(cqlmq_value_format(&v, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, want);
}

Test(client_value, udt_fields_are_typed_by_the_udts_of_the_reply)
{
    cqlmq_result_t *r = NULL;
    cr_assert_eq(udt_result(addr_udts, &r), 0);
    cqlmq_value_t v = value_of(r, 0), key, val;
    cqlmq_iter_t it;
    cr_assert_eq(cqlmq_value_kind(&v), CQLMQ_K_UDT);
    cr_assert_eq(cqlmq_value_iter(&v, &it), 0);
    cqlmq_kind_t want[] = {CQLMQ_K_TUPLE, CQLMQ_K_SET, CQLMQ_K_UDT};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(cqlmq_iter_next_pair(&it, &key, &val), 1);
        cr_assert_eq(cqlmq_value_kind(&val), want[i], "field %d", i);
        cr_assert_not_null(val.type);
    }
    fmt_col(r, 0, "{loc: (1, 2), tags: {'t'}, home: {n: 7}}");
    fmt_col(r, 1, "{{loc: (1, 2), tags: {'t'}, home: {n: 7}}}");
    cqlmq_result_free(&r);

    /* without udts (an older server): untyped fields, read as they come */
    cr_assert_eq(udt_result(NULL, &r), 0);
    fmt_col(r, 0, "{loc: [1, 2], tags: ['t'], home: {'n': 7}}");
    cqlmq_result_free(&r);
}

Test(client_value, hostile_udts_maps_fall_back_to_untyped_fields)
{
    cqlmq_result_t *r = NULL;
    /* a UDT that contains itself: resolved once, the inner use untyped */
    cr_assert_eq(udt_result(cyclic_udts, &r), 0);
    cqlmq_value_t v = value_of(r, 0), key, val;
    cqlmq_iter_t it;
    cr_assert_eq(cqlmq_value_iter(&v, &it), 0);
    cr_assert_eq(cqlmq_iter_next_pair(&it, &key, &val), 1); /* loc: no such field */
    cr_assert_null(val.type);
    cr_assert_eq(cqlmq_iter_next_pair(&it, &key, &val), 1);
    cr_assert_eq(cqlmq_value_kind(&val), CQLMQ_K_SET);
    cqlmq_result_free(&r);
    /* junk entries: ignored, the reply still reads */
    cr_assert_eq(udt_result(junk_udts, &r), 0);
    fmt_col(r, 0, "{loc: [1, 2], tags: ['t'], home: {'n': 7}}");
    cqlmq_result_free(&r);
}

Test(client_value, prepared_params_and_columns_share_the_udts)
{
    mpk_wr_t w;
    cqlmq_result_t *r = NULL;
    mpk_wr_init(&w);
    head(&w, 6, "prepared");
    mpk_wr_cstr(&w, "handle"), mpk_wr_bin(&w, "h", 1);
    mpk_wr_cstr(&w, "params"), mpk_wr_array(&w, 1), col(&w, "a", "frozen<addr>");
    mpk_wr_cstr(&w, "columns"), mpk_wr_array(&w, 1), col(&w, "h", "frozen<place>");
    mpk_wr_cstr(&w, "udts"), addr_udts(&w);
    cr_assert_eq(build(&w, "prepared", NULL, &r), 0);
    cr_assert_str_eq(cqlmq_result_param_type(r, 0), "frozen<addr>");
    cr_assert_eq(r->params->trees[0]->kind, CQL_TYPE_UDT);
    cr_assert_eq(r->params->trees[0]->nsub, 3, "addr's fields");
    cr_assert_eq(r->params->trees[0]->sub[2]->nsub, 1, "place's field, nested");
    cr_assert_eq(r->cols->trees[0]->nsub, 1, "place's field");
    cqlmq_value_t u;
    cr_assert_eq(cqlmq_result_get(r, "udts", &u), 0);
    cr_assert_eq(cqlmq_value_kind(&u), CQLMQ_K_MAP);
    cqlmq_result_free(&r);
    mpk_wr_close(&w);
}
