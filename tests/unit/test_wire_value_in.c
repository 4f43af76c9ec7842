/*
 * Tests for msgpack -> CQL (wire_value_from_mpk, wire_params_bind): every
 * alternative input form of docs/protocol.md section 8 (strings for uuid,
 * timestamp, date, time, duration, inet, decimal, varint; ints and floats
 * where accepted), range errors with their messages, wrong types, broken
 * msgpack and size bombs, UDT field checks, and binding a request's params
 * by position and by name.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "cql_arena.h"
#include "cql_msg.h"
#include "cql_type.h"
#include "wire_params.h"
#include "wire_value.h"

static cql_arena_t arena;
static void setup(void) { cql_arena_init(&arena, 0); }
static void teardown(void) { cql_arena_close(&arena); }
TestSuite(wire_value_in, .init = setup, .fini = teardown);

static const cql_type_t *ty(const char *s)
{
    cql_type_t *t = NULL;
    cr_assert_eq(cql_type_parse(s, strlen(s), &arena, NULL, NULL, NULL, &t), 0, "type %s", s);
    return t;
}

#define B(...) ((const uint8_t[]){__VA_ARGS__})
#define N(...) sizeof((const uint8_t[]){__VA_ARGS__})

typedef struct out {
    int rc;
    int32_t len;        /* the [value] length */
    uint8_t body[64];   /* its first bytes */
    wire_diag_t d;
} out_t;

static out_t conv(const cql_type_t *t, const uint8_t *mp, size_t n)
{
    out_t o = {0};
    cql_wr_t w;
    mpk_rd_t r;
    cql_wr_init(&w);
    mpk_rd_init(&r, mp, n);
    o.rc = wire_value_from_mpk(&w, t, &r, &o.d);
    if (o.rc == 0) {
        cr_assert(mpk_rd_done(&r), "the whole value is consumed");
        o.len = (int32_t)cql_load_u32(w.data);
        cr_assert_eq(w.len, 4 + (size_t)(o.len > 0 ? o.len : 0));
        memcpy(o.body, w.data + 4, w.len - 4 < sizeof o.body ? w.len - 4 : sizeof o.body);
    } else {
        cr_assert_eq(w.len, 0, "a failed value writes nothing");
        cr_assert_eq(r.pos, 0, "a failed value consumes nothing");
        cr_assert_neq(o.d.msg[0], '\0', "a failed value says why");
    }
    cql_wr_close(&w);
    return o;
}

/* A msgpack str of a C string. */
static out_t conv_str(const char *type, const char *s)
{
    uint8_t buf[300];
    size_t n = strlen(s);
    cr_assert(n < 256);
    buf[0] = 0xd9;
    buf[1] = (uint8_t)n;
    memcpy(buf + 2, s, n);
    return conv(ty(type), buf, n + 2);
}

static void expect(out_t o, const uint8_t *body, size_t n)
{
    cr_assert_eq(o.rc, 0, "rc %s: %s", cqlmq_err_name(o.rc), o.d.msg);
    cr_assert_eq(o.len, (int32_t)n, "length %d, want %zu", o.len, n);
    cr_assert_arr_eq(o.body, body, n);
}
#define EXPECT(o, ...) expect(o, B(__VA_ARGS__), N(__VA_ARGS__))

Test(wire_value_in, nil_is_null_ext_9_is_empty_and_ext_10_is_not_set)
{
    out_t o = conv(ty("int"), B(0xc0), 1);
    cr_assert_eq(o.rc, 0);
    cr_assert_eq(o.len, -1);
    o = conv(ty("int"), B(0xc7, 0x00, 0x09), 3);
    cr_assert_eq(o.len, 0);
    o = conv(ty("uuid"), B(0xc7, 0x00, 0x0a), 3);
    cr_assert_eq(o.rc, 0);
    cr_assert_eq(o.len, -2);
}

Test(wire_value_in, not_set_inside_a_collection_is_refused)
{
    out_t o = conv(ty("list<int>"), B(0x91, 0xc7, 0x00, 0x0a), 4);
    cr_assert_eq(o.rc, CQLMQ_EBADTYPE);
    cr_assert(strstr(o.d.msg, "[0]") != NULL, "%s", o.d.msg);
}

Test(wire_value_in, integers_are_range_checked_with_a_message)
{
    out_t o = conv(ty("tinyint"), B(0xcd, 0x01, 0x2c), 3); /* 300 */
    cr_assert_eq(o.rc, CQLMQ_ERANGE);
    cr_assert_str_eq(o.d.msg, "300 is out of range for tinyint");
    cr_assert_eq(conv(ty("tinyint"), B(0xd0, 0x80), 2).rc, 0);                  /* -128 */
    cr_assert_eq(conv(ty("tinyint"), B(0xd1, 0xff, 0x7f), 3).rc, CQLMQ_ERANGE); /* -129 */
    cr_assert_eq(conv(ty("smallint"), B(0xcd, 0x80, 0x00), 3).rc, CQLMQ_ERANGE);
    cr_assert_eq(conv(ty("int"), B(0xce, 0x80, 0, 0, 0), 5).rc, CQLMQ_ERANGE);
    cr_assert_eq(conv(ty("bigint"), B(0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0), 9).rc, CQLMQ_ERANGE);
    EXPECT(conv(ty("bigint"), B(0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0), 9), 0x80, 0, 0, 0, 0, 0, 0, 0);
    EXPECT(conv(ty("smallint"), B(0xd1, 0x80, 0x00), 3), 0x80, 0x00);
    EXPECT(conv(ty("counter"), B(0x2a), 1), 0, 0, 0, 0, 0, 0, 0, 42);
}

Test(wire_value_in, a_value_of_the_wrong_msgpack_type_names_both_types)
{
    out_t o = conv(ty("int"), B(0xa1, 0x31), 2);
    cr_assert_eq(o.rc, CQLMQ_EBADTYPE);
    cr_assert_str_eq(o.d.msg, "expected int, got str");
    o = conv(ty("boolean"), B(0x01), 1);
    cr_assert_str_eq(o.d.msg, "expected boolean, got int");
    o = conv(ty("uuid"), B(0xd6, 0x05, 0, 0, 0, 0), 6);
    cr_assert_str_eq(o.d.msg, "expected uuid, got ext 5");
    cr_assert_eq(conv(ty("blob"), B(0xa1, 0x31), 2).rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv(ty("text"), B(0xc4, 0x01, 0x31), 3).rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv(ty("list<int>"), B(0x80), 1).rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv(ty("map<int, int>"), B(0x90), 1).rc, CQLMQ_EBADTYPE);
}

Test(wire_value_in, varints_accept_ints_ext_4_and_decimal_strings)
{
    EXPECT(conv(ty("varint"), B(0xcc, 0x80), 2), 0x00, 0x80);
    EXPECT(conv(ty("varint"), B(0xff), 1), 0xff);
    EXPECT(conv(ty("varint"), B(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 9),
           0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    EXPECT(conv(ty("varint"), B(0xc7, 0x02, 0x04, 0x01, 0x00), 5), 0x01, 0x00);
    EXPECT(conv_str("varint", "-123456789012345678901234567890"),
           0xfe, 0x71, 0x16, 0xf0, 0x09, 0x3c, 0x8c, 0x1f, 0x11, 0xb1, 0xc0, 0xf5, 0x2e);
    EXPECT(conv_str("varint", "18446744073709551616"), 0x01, 0, 0, 0, 0, 0, 0, 0, 0);
    EXPECT(conv_str("varint", "128"), 0x00, 0x80);
    EXPECT(conv_str("varint", "-128"), 0x80);
    EXPECT(conv_str("varint", "-129"), 0xff, 0x7f);
    EXPECT(conv_str("varint", "+0"), 0x00);
    EXPECT(conv_str("varint", "000000000000000000000000000000000000001"), 0x01);
    cr_assert_eq(conv_str("varint", "12a").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("varint", "").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("varint", "-").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv(ty("varint"), B(0xc7, 0x00, 0x04), 3).rc, CQLMQ_EBADTYPE);
}

Test(wire_value_in, numbers_longer_than_the_digit_bound_are_erange)
{
    size_t n = WIRE_MAX_DIGITS + 1;
    uint8_t *buf = malloc(n + 3);
    buf[0] = 0xda;
    buf[1] = (uint8_t)(n >> 8);
    buf[2] = (uint8_t)n;
    memset(buf + 3, '9', n);
    cr_assert_eq(conv(ty("varint"), buf, n + 3).rc, CQLMQ_ERANGE);
    buf[2] = (uint8_t)(n - 1); /* exactly the bound: fine */
    out_t o = conv(ty("varint"), buf, n + 2);
    cr_assert_eq(o.rc, 0);
    cr_assert_gt(o.len, 800);
    free(buf);
}

Test(wire_value_in, floats_and_doubles_accept_ints_and_check_float_range)
{
    EXPECT(conv(ty("float"), B(0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0), 9), 0x3f, 0xc0, 0, 0); /* 1.5 */
    EXPECT(conv(ty("float"), B(0x02), 1), 0x40, 0, 0, 0);
    EXPECT(conv(ty("double"), B(0xca, 0x3f, 0xc0, 0, 0), 5), 0x3f, 0xf8, 0, 0, 0, 0, 0, 0);
    EXPECT(conv(ty("double"), B(0xd0, 0xfe), 2), 0xc0, 0, 0, 0, 0, 0, 0, 0); /* -2 */
    /* 1e300 does not fit a float; infinity does */
    cr_assert_eq(conv(ty("float"), B(0xcb, 0x7e, 0x37, 0xe4, 0x3c, 0x88, 0x00, 0x75, 0x9c), 9).rc, CQLMQ_ERANGE);
    EXPECT(conv(ty("float"), B(0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0), 9), 0x7f, 0x80, 0, 0);
    cr_assert_eq(conv(ty("double"), B(0xa1, 0x31), 2).rc, CQLMQ_EBADTYPE);
}

Test(wire_value_in, decimals_accept_ext_1_strings_ints_and_floats)
{
    EXPECT(conv_str("decimal", "123.45"), 0, 0, 0, 2, 0x30, 0x39);
    EXPECT(conv_str("decimal", "-1.5e3"), 0xff, 0xff, 0xff, 0xfe, 0xf1);  /* -15 * 10^2 */
    EXPECT(conv_str("decimal", "0.001"), 0, 0, 0, 3, 0x01);
    EXPECT(conv_str("decimal", "1E+3"), 0xff, 0xff, 0xff, 0xfd, 0x01);
    EXPECT(conv_str("decimal", ".5"), 0, 0, 0, 1, 0x05);
    EXPECT(conv(ty("decimal"), B(0x07), 1), 0, 0, 0, 0, 0x07);
    EXPECT(conv(ty("decimal"), B(0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a), 9), /* 0.1 */
           0, 0, 0, 1, 0x01);
    EXPECT(conv(ty("decimal"), B(0xc7, 0x05, 0x01, 0, 0, 0, 1, 0x0f), 8), 0, 0, 0, 1, 0x0f);
    cr_assert_eq(conv_str("decimal", "1.2.3").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("decimal", "NaN").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("decimal", "1e99999999999").rc, CQLMQ_ERANGE);
    cr_assert_eq(conv(ty("decimal"), B(0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0), 9).rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv(ty("decimal"), B(0xd6, 0x01, 0, 0, 0, 1), 6).rc, CQLMQ_EBADTYPE, "ext 1 too short");
}

Test(wire_value_in, uuids_accept_the_8_4_4_4_12_string_in_either_case)
{
    EXPECT(conv_str("uuid", "01234567-89ab-CDEF-0123-456789abcdef"), 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
           0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef);
    out_t o = conv_str("timeuuid", "0123456789abcdef0123456789abcdef");
    cr_assert_eq(o.rc, CQLMQ_EBADTYPE);
    cr_assert(strstr(o.d.msg, "not a valid uuid") != NULL, "%s", o.d.msg);
    cr_assert_eq(conv_str("uuid", "01234567-89ab-cdef-0123-456789abcdeg").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("uuid", "-1234567-89ab-cdef-0123-456789abcdef").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("uuid", "01234567-89ab-cdef-0123-456789abcde-").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv(ty("uuid"), B(0xd6, 0x02, 1, 2, 3, 4), 6).rc, CQLMQ_EBADTYPE, "ext 2 of 4 bytes");
}

Test(wire_value_in, timestamps_accept_ext_minus_1_in_all_three_forms)
{
    EXPECT(conv(ty("timestamp"), B(0xd6, 0xff, 0, 0, 0, 2), 6), 0, 0, 0, 0, 0, 0, 0x07, 0xd0);
    EXPECT(conv(ty("timestamp"), B(0xd7, 0xff, 0x77, 0x35, 0x94, 0, 0, 0, 0, 1), 10),
           0, 0, 0, 0, 0, 0, 0x05, 0xdc);
    EXPECT(conv(ty("timestamp"),
                B(0xc7, 0x0c, 0xff, 0x3b, 0x8b, 0x87, 0xc0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 15),
           0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    /* sub-millisecond nanoseconds are truncated: 1 s + 999999 ns = 1000 ms */
    EXPECT(conv(ty("timestamp"), B(0xd7, 0xff, 0x00, 0x3d, 0x08, 0xfc, 0, 0, 0, 1), 10),
           0, 0, 0, 0, 0, 0, 0x03, 0xe8);
    /* nanoseconds above 999999999 */
    cr_assert_eq(conv(ty("timestamp"), B(0xc7, 0x0c, 0xff, 0x3b, 0x9a, 0xca, 0x00, 0, 0, 0, 0, 0, 0, 0, 0), 15).rc,
                 CQLMQ_EBADTYPE);
    /* seconds whose milliseconds overflow int64 */
    cr_assert_eq(conv(ty("timestamp"), B(0xc7, 0x0c, 0xff, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 15).rc,
                 CQLMQ_ERANGE);
    cr_assert_eq(conv(ty("timestamp"), B(0xd5, 0xff, 0, 0), 4).rc, CQLMQ_EBADTYPE);
}

/* The 96-bit ext -1 of ms milliseconds as msgpack floor seconds and
 * positive nanoseconds (what wire_value_to_mpk and the clients send). */
static size_t ts96(uint8_t out[15], int64_t sec, uint32_t nsec)
{
    out[0] = 0xc7;
    out[1] = 0x0c;
    out[2] = 0xff;
    cql_store_u32(out + 3, nsec);
    cql_store_u64(out + 7, (uint64_t)sec);
    return 15;
}

static void expect_ms(out_t o, int64_t ms)
{
    cr_assert_eq(o.rc, 0, "rc %s: %s", cqlmq_err_name(o.rc), o.d.msg);
    cr_assert_eq(o.len, 8);
    cr_assert_eq((int64_t)cql_load_u64(o.body), ms, "got %lld, want %lld",
                 (long long)(int64_t)cql_load_u64(o.body), (long long)ms);
}

Test(wire_value_in, timestamps_reach_both_ends_of_int64_milliseconds_and_no_further)
{
    uint8_t b[15];
    /* INT64_MIN ms = -9223372036854776 s + 192000000 ns (floor seconds) */
    expect_ms(conv(ty("timestamp"), b, ts96(b, -9223372036854776LL, 192000000u)), INT64_MIN);
    /* INT64_MIN + 807 ms: still below sec * 1000 alone */
    expect_ms(conv(ty("timestamp"), b, ts96(b, -9223372036854776LL, 999000000u)), INT64_MIN + 807);
    expect_ms(conv(ty("timestamp"), b, ts96(b, -9223372036854775LL, 0)), INT64_MIN + 808);
    /* INT64_MAX ms = 9223372036854775 s + 807000000 ns */
    expect_ms(conv(ty("timestamp"), b, ts96(b, 9223372036854775LL, 807000000u)), INT64_MAX);
    /* a negative instant below a millisecond floors: -0.5 ms is -1 ms */
    expect_ms(conv(ty("timestamp"), b, ts96(b, -1, 999500000u)), -1);
    expect_ms(conv(ty("timestamp"), b, ts96(b, -1, 0)), -1000);

    /* one millisecond beyond either end */
    out_t o = conv(ty("timestamp"), b, ts96(b, -9223372036854776LL, 191000000u));
    cr_assert_eq(o.rc, CQLMQ_ERANGE);
    cr_assert(strstr(o.d.msg, "-9223372036854776 seconds") != NULL, "%s", o.d.msg);
    cr_assert_eq(conv(ty("timestamp"), b, ts96(b, -9223372036854776LL, 0)).rc, CQLMQ_ERANGE);
    cr_assert_eq(conv(ty("timestamp"), b, ts96(b, 9223372036854775LL, 808000000u)).rc, CQLMQ_ERANGE);
    cr_assert_eq(conv(ty("timestamp"), b, ts96(b, 9223372036854776LL, 0)).rc, CQLMQ_ERANGE);
    cr_assert_eq(conv(ty("timestamp"), b, ts96(b, INT64_MIN, 999999999u)).rc, CQLMQ_ERANGE);
}

Test(wire_value_in, timestamps_at_both_ends_round_trip_through_the_reply_form)
{
    static const int64_t cases[] = {INT64_MIN, INT64_MIN + 1, INT64_MIN + 807, INT64_MIN + 808,
                                    -62135596800000LL, -1, 0, 1, 253402300799999LL, INT64_MAX};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t cell[8];
        cql_store_u64(cell, (uint64_t)cases[i]);
        mpk_wr_t w;
        mpk_wr_init(&w);
        cr_assert_eq(wire_value_to_mpk(&w, ty("timestamp"), (cql_bytes_t){cell, 8}), 0);
        bool ext_m1 = (w.len == 6 && w.data[0] == 0xd6 && w.data[1] == 0xff) ||
                      (w.len == 10 && w.data[0] == 0xd7 && w.data[1] == 0xff) ||
                      (w.len == 15 && w.data[0] == 0xc7 && w.data[1] == 12 && w.data[2] == 0xff);
        cr_assert(ext_m1, "case %zu: not a msgpack timestamp", i);
        if (cases[i] < 0 || cases[i] > INT64_C(17179869183999))
            cr_assert_eq(w.len, 15, "case %zu: the 96-bit form", i);
        expect_ms(conv(ty("timestamp"), w.data, w.len), cases[i]);
        mpk_wr_close(&w);
    }
}

Test(wire_value_in, timestamps_accept_milliseconds_and_iso_8601)
{
    EXPECT(conv(ty("timestamp"), B(0xcd, 0x05, 0xdc), 3), 0, 0, 0, 0, 0, 0, 0x05, 0xdc);
    EXPECT(conv_str("timestamp", "1970-01-01T00:00:01.5Z"), 0, 0, 0, 0, 0, 0, 0x05, 0xdc);
    EXPECT(conv_str("timestamp", "1970-01-01 00:00:01.500999"), 0, 0, 0, 0, 0, 0, 0x05, 0xdc);
    EXPECT(conv_str("timestamp", "1970-01-01"), 0, 0, 0, 0, 0, 0, 0, 0);
    EXPECT(conv_str("timestamp", "1969-12-31T23:59:59.999Z"), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    EXPECT(conv_str("timestamp", "1970-01-01T01:00:00+01:00"), 0, 0, 0, 0, 0, 0, 0, 0);
    EXPECT(conv_str("timestamp", "1970-01-01T00:00-0130"), 0, 0, 0, 0, 0, 0x52, 0x65, 0xc0);
    EXPECT(conv_str("timestamp", "2300-01-01T00:00:00Z"), 0, 0, 0x09, 0x78, 0xa6, 0x5f, 0x78, 0x00);
    int64_t ms;
    cr_assert_eq(wire_parse_timestamp("2024-02-29T12:34:56.789Z", 24, &ms), 0);
    cr_assert_eq(ms, INT64_C(1709210096789));
    cr_assert_eq(wire_parse_timestamp("-0001-01-01", 11, &ms), 0);
    cr_assert_eq(ms, INT64_C(-62198755200000));
    cr_assert_eq(conv_str("timestamp", "2023-02-29").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("timestamp", "2024-01-01T24:00:00Z").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("timestamp", "2024-01-01T10:00:00Q").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("timestamp", "2024-1-01").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("timestamp", "999999999-01-01").rc, CQLMQ_ERANGE);
}

Test(wire_value_in, dates_accept_ext_5_and_yyyy_mm_dd)
{
    EXPECT(conv(ty("date"), B(0xd6, 0x05, 0, 0, 0, 0), 6), 0x80, 0, 0, 0);
    EXPECT(conv(ty("date"), B(0xd6, 0x05, 0x80, 0, 0, 0), 6), 0, 0, 0, 0);
    EXPECT(conv_str("date", "1970-01-01"), 0x80, 0, 0, 0);
    EXPECT(conv_str("date", "1969-12-31"), 0x7f, 0xff, 0xff, 0xff);
    EXPECT(conv_str("date", "2000-03-01"), 0x80, 0, 0x2b, 0x09); /* day 11017 */
    EXPECT(conv_str("date", "-5877641-06-23"), 0, 0, 0, 0);       /* the spec's raw 0 */
    cr_assert_eq(conv_str("date", "-5877641-06-22").rc, CQLMQ_ERANGE);
    cr_assert_eq(conv_str("date", "2001-02-29").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("date", "2001-13-01").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("date", "2001-01-01T00:00").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv(ty("date"), B(0x05), 1).rc, CQLMQ_EBADTYPE);
}

Test(wire_value_in, times_accept_ext_6_nanoseconds_and_hh_mm_ss)
{
    EXPECT(conv(ty("time"), B(0xd7, 0x06, 0, 0, 0, 0, 0, 0, 0, 1), 10), 0, 0, 0, 0, 0, 0, 0, 1);
    EXPECT(conv(ty("time"), B(0x01), 1), 0, 0, 0, 0, 0, 0, 0, 1);
    EXPECT(conv_str("time", "00:00:00.000000001"), 0, 0, 0, 0, 0, 0, 0, 1);
    EXPECT(conv_str("time", "23:59:59.999999999"), 0, 0, 0x4e, 0x94, 0x91, 0x4e, 0xff, 0xff);
    EXPECT(conv_str("time", "00:00:01.5"), 0, 0, 0, 0, 0x59, 0x68, 0x2f, 0x00);
    cr_assert_eq(conv_str("time", "24:00:00").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("time", "12:00").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("time", "00:00:00.0000000001").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv(ty("time"), B(0xff), 1).rc, CQLMQ_ERANGE);
    cr_assert_eq(conv(ty("time"), B(0xd7, 0x06, 0, 0, 0x4e, 0x94, 0x91, 0x4f, 0, 0), 10).rc, CQLMQ_ERANGE);
}

Test(wire_value_in, durations_accept_ext_7_and_every_cql_literal_form)
{
    EXPECT(conv(ty("duration"), B(0xd8, 0x07, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3), 18),
           0x02, 0x04, 0x06);
    EXPECT(conv_str("duration", "1mo2d3ns"), 0x02, 0x04, 0x06);
    EXPECT(conv_str("duration", "-1mo1d1ns"), 0x01, 0x01, 0x01);
    int32_t mo, d;
    int64_t ns;
    cr_assert_eq(wire_parse_duration("1y2mo3w4d5h6m7s8ms9us10ns", 25, &mo, &d, &ns), 0);
    cr_assert_eq(mo, 14);
    cr_assert_eq(d, 25);
    cr_assert_eq(ns, INT64_C(5) * 3600000000000 + INT64_C(6) * 60000000000 + INT64_C(7) * 1000000000 +
                         8000000 + 9000 + 10);
    cr_assert_eq(wire_parse_duration("2H30M", 5, &mo, &d, &ns), 0);
    cr_assert_eq(ns, INT64_C(9000000000000));
    cr_assert_eq(wire_parse_duration("5\xc2\xb5s", 4, &mo, &d, &ns), 0);
    cr_assert_eq(ns, 5000);
    cr_assert_eq(wire_parse_duration("P1Y2M3DT4H5M6S", 14, &mo, &d, &ns), 0);
    cr_assert_eq(mo, 14);
    cr_assert_eq(d, 3);
    cr_assert_eq(ns, INT64_C(4) * 3600000000000 + INT64_C(5) * 60000000000 + INT64_C(6) * 1000000000);
    cr_assert_eq(wire_parse_duration("-P2W", 4, &mo, &d, &ns), 0);
    cr_assert_eq(d, -14);
    cr_assert_eq(wire_parse_duration("PT1M", 4, &mo, &d, &ns), 0);
    cr_assert_eq(mo, 0);
    cr_assert_eq(ns, INT64_C(60000000000));
    cr_assert_eq(wire_parse_duration("P0001-02-03T04:05:06", 20, &mo, &d, &ns), 0);
    cr_assert_eq(mo, 14);
    cr_assert_eq(d, 3);
    cr_assert_eq(conv_str("duration", "1h1y").rc, CQLMQ_EBADTYPE, "units out of order");
    cr_assert_eq(conv_str("duration", "1d1d").rc, CQLMQ_EBADTYPE, "a unit twice");
    cr_assert_eq(conv_str("duration", "1x").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("duration", "").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("duration", "P").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("duration", "PT").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("duration", "3000000000mo").rc, CQLMQ_ERANGE);
    cr_assert_eq(conv_str("duration", "999999999999999999h").rc, CQLMQ_ERANGE);
    /* an ext 7 with mixed signs */
    cr_assert_eq(conv(ty("duration"), B(0xd8, 0x07, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0), 18).rc,
                 CQLMQ_EBADTYPE);
}

Test(wire_value_in, inets_accept_ext_8_and_address_strings)
{
    EXPECT(conv_str("inet", "10.0.0.1"), 10, 0, 0, 1);
    EXPECT(conv_str("inet", "::1"), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
    EXPECT(conv(ty("inet"), B(0xd6, 0x08, 127, 0, 0, 1), 6), 127, 0, 0, 1);
    cr_assert_eq(conv_str("inet", "10.0.0").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv_str("inet", "example.com").rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv(ty("inet"), B(0xd5, 0x08, 1, 2), 4).rc, CQLMQ_EBADTYPE);
}

Test(wire_value_in, text_must_be_valid_utf8_and_ascii_ascii)
{
    EXPECT(conv(ty("text"), B(0xa2, 0xc3, 0xa9), 3), 0xc3, 0xa9);
    cr_assert_eq(conv(ty("text"), B(0xa2, 0xc3, 0x28), 3).rc, CQLMQ_EBADTYPE);
    cr_assert_eq(conv(ty("ascii"), B(0xa2, 0xc3, 0xa9), 3).rc, CQLMQ_EBADTYPE);
    EXPECT(conv(ty("ascii"), B(0xa1, 0x41), 2), 0x41);
}

Test(wire_value_in, collections_write_counts_and_element_lengths)
{
    EXPECT(conv(ty("list<int>"), B(0x92, 0x01, 0xc0), 3), 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff);
    EXPECT(conv(ty("map<text, int>"), B(0x81, 0xa1, 0x61, 0x01), 4), 0, 0, 0, 1, 0, 0, 0, 1, 0x61, 0, 0, 0, 4, 0, 0, 0,
           1);
    EXPECT(conv(ty("tuple<int, text, int>"), B(0x91, 0x05), 2), 0, 0, 0, 4, 0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0xff,
           0xff, 0xff, 0xff);
    out_t o = conv(ty("tuple<int>"), B(0x92, 0x01, 0x02), 3);
    cr_assert_eq(o.rc, CQLMQ_EBADTYPE);
}

Test(wire_value_in, errors_deep_inside_a_value_name_the_path)
{
    out_t o = conv(ty("map<text, frozen<list<int>>>"), B(0x81, 0xa1, 0x61, 0x92, 0x01, 0xa1, 0x78), 7);
    cr_assert_eq(o.rc, CQLMQ_EBADTYPE);
    cr_assert_str_eq(o.d.msg, "[0][1]: expected int, got str");
    o = conv(ty("map<int, int>"), B(0x81, 0xa1, 0x61, 0x01), 4);
    cr_assert_str_eq(o.d.msg, "{key 0}: expected int, got str");
}

static cql_type_t *address_type(void)
{
    cql_type_t *t = cql_arena_calloc(&arena, 1, sizeof *t);
    t->kind = CQL_TYPE_UDT;
    t->nsub = 2;
    t->sub = cql_arena_calloc(&arena, 2, sizeof *t->sub);
    t->sub[0] = (cql_type_t *)ty("text");
    t->sub[1] = (cql_type_t *)ty("int");
    t->field_names = cql_arena_calloc(&arena, 2, sizeof(char *));
    t->field_names[0] = cql_arena_strndup(&arena, "street", 6);
    t->field_names[1] = cql_arena_strndup(&arena, "zip", 3);
    t->keyspace = "ks";
    t->name = "address";
    return t;
}

Test(wire_value_in, udts_take_fields_in_any_order_and_fill_missing_ones_with_null)
{
    const cql_type_t *t = address_type();
    /* {zip: 9, street: "x"} */
    EXPECT(conv(t, B(0x82, 0xa3, 'z', 'i', 'p', 0x09, 0xa6, 's', 't', 'r', 'e', 'e', 't', 0xa1, 'x'), 15),
           0, 0, 0, 1, 'x', 0, 0, 0, 4, 0, 0, 0, 9);
    /* {zip: 9} */
    EXPECT(conv(t, B(0x81, 0xa3, 'z', 'i', 'p', 0x09), 6), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 4, 0, 0, 0, 9);
}

Test(wire_value_in, udts_refuse_unknown_and_repeated_fields)
{
    const cql_type_t *t = address_type();
    out_t o = conv(t, B(0x81, 0xa4, 'c', 'i', 't', 'y', 0x09), 7);
    cr_assert_eq(o.rc, CQLMQ_EBADTYPE);
    cr_assert_str_eq(o.d.msg, "unknown field 'city'");
    o = conv(t, B(0x82, 0xa3, 'z', 'i', 'p', 0x09, 0xa3, 'z', 'i', 'p', 0x08), 11);
    cr_assert_eq(o.rc, CQLMQ_EBADTYPE);
    cr_assert_str_eq(o.d.msg, "field 'zip' given twice");
    o = conv(t, B(0x81, 0xa3, 'z', 'i', 'p', 0xa1, 'x'), 7);
    cr_assert_str_eq(o.d.msg, ".zip: expected int, got str");
    cr_assert_eq(conv(t, B(0x83, 0xa3, 'z', 'i', 'p', 1, 0xa3, 'z', 'i', 'p', 1, 0xa3, 'z', 'i', 'p', 1), 16).rc,
                 CQLMQ_EBADTYPE, "more fields than the type");
    cr_assert_eq(conv(t, B(0x81, 0x01, 0x01), 3).rc, CQLMQ_EBADTYPE, "a non-string key");
}

Test(wire_value_in, truncated_and_impossible_msgpack_are_errors)
{
    cr_assert_eq(conv(ty("int"), B(0xce, 0x00), 2).rc, CQLMQ_ETRUNCATED);
    cr_assert_eq(conv(ty("int"), B(0xc1), 1).rc, CQLMQ_EMALFORMED);
    cr_assert_eq(conv(ty("int"), B(0), 0).rc, CQLMQ_ETRUNCATED);
    cr_assert_eq(conv(ty("list<int>"), B(0x92, 0x01), 2).rc, CQLMQ_ETRUNCATED);
}

Test(wire_value_in, huge_container_headers_are_refused_before_any_allocation)
{
    /* array 32 of 2^32-1 items, map 32 of 2^32-1 pairs, str 32 of 4 GB */
    cr_assert_eq(conv(ty("list<int>"), B(0xdd, 0xff, 0xff, 0xff, 0xff, 0x01), 6).rc, CQLMQ_ETRUNCATED);
    cr_assert_eq(conv(ty("map<int, int>"), B(0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01), 7).rc, CQLMQ_ETRUNCATED);
    cr_assert_eq(conv(ty("text"), B(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61), 6).rc, CQLMQ_ETRUNCATED);
    cr_assert_eq(conv(ty("blob"), B(0xc6, 0xff, 0xff, 0xff, 0xff, 0x61), 6).rc, CQLMQ_ETRUNCATED);
    cr_assert_eq(conv(ty("decimal"), B(0xc9, 0xff, 0xff, 0xff, 0xff, 0x01, 0), 7).rc, CQLMQ_ETRUNCATED);
}

/* ---- params ---- */

static cql_meta_t bind_meta(int n, const char **names, const char **types)
{
    cql_meta_t m = {0};
    m.ncols = n;
    m.cols = cql_arena_calloc(&arena, (size_t)n, sizeof *m.cols);
    for (int i = 0; i < n; i++) {
        m.cols[i].name = (cql_str_t){names[i], strlen(names[i])};
        m.cols[i].type = (cql_type_t *)ty(types[i]);
    }
    return m;
}

Test(wire_params, positional_params_bind_in_order)
{
    cql_meta_t m = bind_meta(2, (const char *[]){"id", "name"}, (const char *[]){"int", "text"});
    cql_wr_t w;
    cql_bytes_t v[2];
    wire_diag_t d;
    cql_wr_init(&w);
    cql_wr_u8(&w, 0xaa); /* something before */
    int rc = wire_params_bind(&w, &m, (mpk_raw_t){B(0x92, 0x07, 0xa2, 'h', 'i'), 5}, v, &d);
    cr_assert_eq(rc, 0, "%s", d.msg);
    cr_assert_eq(v[0].len, 4);
    cr_assert_eq(cql_load_u32(v[0].ptr), 7);
    cr_assert_eq(v[1].len, 2);
    cr_assert_eq(memcmp(v[1].ptr, "hi", 2), 0);
    cr_assert_eq(w.len, 1 + 8 + 6);
    cql_wr_close(&w);
}

Test(wire_params, named_params_bind_by_name_and_leave_the_rest_unset)
{
    cql_meta_t m = bind_meta(3, (const char *[]){"a", "userid", "a"}, (const char *[]){"int", "int", "int"});
    cql_wr_t w;
    cql_bytes_t v[3];
    wire_diag_t d;
    cql_wr_init(&w);
    /* {"a": 1}: both markers named a get 1, userid is not set */
    int rc = wire_params_bind(&w, &m, (mpk_raw_t){B(0x81, 0xa1, 'a', 0x01), 4}, v, &d);
    cr_assert_eq(rc, 0, "%s", d.msg);
    cr_assert_eq(v[0].len, 4);
    cr_assert_eq(v[1].len, CQL_BYTES_NOT_SET);
    cr_assert_null(v[1].ptr);
    cr_assert_eq(v[2].len, 4);
    /* names fold case like CQL's unquoted identifiers */
    cql_wr_reset(&w);
    rc = wire_params_bind(&w, &m, (mpk_raw_t){B(0x81, 0xa6, 'u', 's', 'e', 'r', 'I', 'd', 0x02), 9}, v, &d);
    cr_assert_eq(rc, 0, "%s", d.msg);
    cr_assert_eq(cql_load_u32(v[1].ptr), 2);
    cql_wr_close(&w);
}

Test(wire_params, wrong_counts_unknown_names_and_bad_values_name_the_parameter)
{
    cql_meta_t m = bind_meta(2, (const char *[]){"id", "zip"}, (const char *[]){"int", "tinyint"});
    cql_wr_t w;
    cql_bytes_t v[2];
    wire_diag_t d;
    cql_wr_init(&w);
    cr_assert_eq(wire_params_bind(&w, &m, (mpk_raw_t){B(0x91, 0x01), 2}, v, &d), CQLMQ_EBADTYPE);
    cr_assert_str_eq(d.msg, "the statement has 2 parameters, 1 given");
    cr_assert_eq(wire_params_bind(&w, &m, (mpk_raw_t){NULL, 0}, v, &d), CQLMQ_EBADTYPE);
    cr_assert_eq(wire_params_bind(&w, &m, (mpk_raw_t){B(0x81, 0xa1, 'q', 0x01), 4}, v, &d), CQLMQ_EBADTYPE);
    cr_assert_str_eq(d.msg, "unknown parameter 'q'");
    cr_assert_eq(wire_params_bind(&w, &m, (mpk_raw_t){B(0x92, 0x01, 0xcd, 0x01, 0x2c), 5}, v, &d), CQLMQ_ERANGE);
    cr_assert_str_eq(d.msg, "parameter 1 (zip): 300 is out of range for tinyint");
    cr_assert_eq(wire_params_bind(&w, &m, (mpk_raw_t){B(0x01), 1}, v, &d), CQLMQ_EBADTYPE);
    cr_assert_eq(w.len, 0, "failures write nothing");
    cql_meta_t none = {0};
    cr_assert_eq(wire_params_bind(&w, &none, (mpk_raw_t){NULL, 0}, v, &d), 0);
    cql_wr_close(&w);
}
