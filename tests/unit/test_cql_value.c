/*
 * Tests of cql_value: golden bytes for every native type (hand-worked from
 * the spec), decode/encode round trips of nested values, markers (null, not
 * set, empty), malformed input for each type with the documented codes,
 * count and depth bombs, checks, equality and the CQL literal formatter.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cql_value.h"

static cql_arena_t arena;
static void setup(void) { cql_arena_init(&arena, 0); }
static void teardown(void) { cql_arena_close(&arena); }
TestSuite(cql_value, .init = setup, .fini = teardown);

static cql_bytes_t hex(const char *h)
{
    size_t n = strlen(h) / 2;
    uint8_t *p = cql_arena_alloc(&arena, n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        p[i] = (uint8_t)v;
    }
    cql_bytes_t b = {p, (int32_t)n};
    return b;
}

static const char *to_hex(const uint8_t *p, size_t n)
{
    static char buf[4096];
    for (size_t i = 0; i < n && 2 * i + 2 < sizeof buf; i++)
        sprintf(buf + 2 * i, "%02x", p[i]);
    buf[2 * n < sizeof buf ? 2 * n : sizeof buf - 1] = '\0';
    return buf;
}

static int udt_lookup(void *ud, const char *ks, const char *name, cql_arena_t *a,
                      cql_type_t **out)
{
    if (strcmp(name, "address") != 0)
        return CQLMQ_ENOTFOUND;
    cql_type_t *t = cql_arena_calloc(a, 1, sizeof *t);
    t->kind = CQL_TYPE_UDT;
    t->keyspace = "ks";
    t->name = "address";
    t->nsub = 3;
    t->sub = cql_arena_calloc(a, 3, sizeof *t->sub);
    t->field_names = cql_arena_calloc(a, 3, sizeof *t->field_names);
    t->sub[0] = cql_type_new(a, CQL_TYPE_VARCHAR);
    t->sub[1] = cql_type_new(a, CQL_TYPE_INT);
    t->sub[2] = cql_type_new(a, CQL_TYPE_VARCHAR);
    t->field_names[0] = "street";
    t->field_names[1] = "Zip";
    t->field_names[2] = "city";
    *out = t;
    return 0;
}

static const cql_type_t *ty(const char *s)
{
    cql_type_t *t;
    int rc = cql_type_parse(s, strlen(s), &arena, "ks", udt_lookup, NULL, &t);
    cr_assert_eq(rc, 0, "%s", s);
    return t;
}

static const char *fmt(const char *type, const cql_value_t *v)
{
    static char buf[1024];
    int n = cql_value_format(ty(type), v, buf, sizeof buf);
    cr_assert(n >= 0 && (size_t)n < sizeof buf, "format of %s gave %d", type, n);
    cr_assert_eq(strlen(buf), (size_t)n);
    return buf;
}

/* Encodes v's body, compares with want, decodes it back and compares. */
static void golden(const char *type, cql_value_t v, const char *want_hex, const char *want_text)
{
    const cql_type_t *t = ty(type);
    cr_assert_eq(cql_value_check(t, &v), 0, "%s check", type);
    cql_wr_t w;
    cql_wr_init(&w);
    cql_value_encode_body(&w, t, &v);
    cr_assert_eq(cql_wr_error(&w), 0);
    cr_assert_str_eq(to_hex(w.data, w.len), want_hex, "%s", type);
    cql_value_t back;
    cql_bytes_t in = {w.data, (int32_t)w.len};
    cr_assert_eq(cql_value_decode(t, in, &arena, &back), 0, "%s decode", type);
    cr_assert(cql_value_equal(&v, &back), "%s round trip", type);
    cr_assert_eq(cql_value_validate(t, in), 0);
    cr_assert_str_eq(fmt(type, &back), want_text);
    cql_wr_close(&w);
}

static const uint8_t uuid4[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0x4d, 0xef,
                                  0x81, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
static const uint8_t uuid1[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                  0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

Test(cql_value, encodes_every_native_type_to_the_spec_bytes)
{
    golden("int", cql_value_int(1), "00000001", "1");
    golden("int", cql_value_int(INT32_MIN), "80000000", "-2147483648");
    golden("int", cql_value_int(INT32_MAX), "7fffffff", "2147483647");
    golden("bigint", cql_value_bigint(INT64_MAX), "7fffffffffffffff", "9223372036854775807");
    golden("bigint", cql_value_bigint(INT64_MIN), "8000000000000000", "-9223372036854775808");
    golden("counter", cql_value_counter(5), "0000000000000005", "5");
    golden("smallint", cql_value_smallint(-2), "fffe", "-2");
    golden("smallint", cql_value_smallint(INT16_MIN), "8000", "-32768");
    golden("tinyint", cql_value_tinyint(-128), "80", "-128");
    golden("tinyint", cql_value_tinyint(127), "7f", "127");
    golden("boolean", cql_value_boolean(true), "01", "true");
    golden("boolean", cql_value_boolean(false), "00", "false");
    golden("float", cql_value_float(1.5f), "3fc00000", "1.5");
    golden("float", cql_value_float(0.1f), "3dcccccd", "0.1");
    golden("float", cql_value_float(INFINITY), "7f800000", "Infinity");
    golden("double", cql_value_double(-0.0), "8000000000000000", "-0.0");
    golden("double", cql_value_double(0.1), "3fb999999999999a", "0.1");
    golden("double", cql_value_double(-INFINITY), "fff0000000000000", "-Infinity");
    golden("double", cql_value_double(NAN), "7ff8000000000000", "NaN");
    golden("double", cql_value_double(1e300), "7e37e43c8800759c", "1e+300");
    golden("text", cql_value_text("it's"), "69742773", "'it''s'");
    golden("text", cql_value_text("h\xc3\xa9"), "68c3a9", "'h\xc3\xa9'");
    golden("text", cql_value_text(""), "", "''");
    golden("varchar", cql_value_text("x"), "78", "'x'");
    golden("ascii", cql_value_ascii("abc"), "616263", "'abc'");
    golden("blob", cql_value_blob("\xca\xfe", 2), "cafe", "0xcafe");
    golden("blob", cql_value_blob(NULL, 0), "", "0x");
    golden("uuid", cql_value_uuid(uuid4), "0123456789ab4def8123456789abcdef",
           "01234567-89ab-4def-8123-456789abcdef");
    golden("timeuuid", cql_value_timeuuid(uuid1), "6ba7b8109dad11d180b400c04fd430c8",
           "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
    golden("inet", cql_value_inet((const uint8_t *)"\x0a\x00\x00\x01", 4), "0a000001",
           "'10.0.0.1'");
    golden("inet", cql_value_inet((const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16),
           "00000000000000000000000000000001", "'::1'");
    golden("timestamp", cql_value_timestamp(INT64_C(1704164645678)), "0000018cc820db2e",
           "'2024-01-02 03:04:05.678000+0000'");
    golden("timestamp", cql_value_timestamp(-1), "ffffffffffffffff",
           "'1969-12-31 23:59:59.999000+0000'");
    golden("timestamp", cql_value_timestamp(INT64_MAX), "7fffffffffffffff",
           "9223372036854775807");
    golden("date", cql_value_date_days(19724), "80004d0c", "'2024-01-02'");
    golden("date", cql_value_date(CQL_DATE_EPOCH), "80000000", "'1970-01-01'");
    golden("date", cql_value_date(0), "00000000", "0");
    golden("time", cql_value_time(INT64_C(11045678901234)), "00000a0bc5c467f2",
           "'03:04:05.678901234'");
    golden("time", cql_value_time(CQL_TIME_MAX), "00004e94914effff", "'23:59:59.999999999'");
    golden("varint", cql_value_varint(0), "00", "0");
    golden("varint", cql_value_varint(127), "7f", "127");
    golden("varint", cql_value_varint(128), "0080", "128");
    golden("varint", cql_value_varint(-1), "ff", "-1");
    golden("varint", cql_value_varint(-128), "80", "-128");
    golden("varint", cql_value_varint(-129), "ff7f", "-129");
    golden("varint", cql_value_varint(INT64_MIN), "8000000000000000", "-9223372036854775808");
    golden("decimal", cql_value_decimal(2, 150), "0000000200" "96", "1.50");
    golden("decimal", cql_value_decimal(-3, 1), "fffffffd01", "1E+3");
    golden("decimal", cql_value_decimal(8, 1), "0000000801", "1E-8");
    golden("decimal", cql_value_decimal(7, 1), "0000000701", "1E-7");
    golden("decimal", cql_value_decimal(6, 1), "0000000601", "0.000001");
    golden("decimal", cql_value_decimal(0, -5), "00000000fb", "-5");
    golden("decimal", cql_value_decimal(3, -12345), "00000003cfc7", "-12.345");
    golden("decimal", cql_value_decimal(-2, 0), "fffffffe00", "0E+2");
    golden("decimal", cql_value_decimal(4, 123), "000000047b", "0.0123");
    golden("decimal", cql_value_decimal(1, 123), "000000017b", "12.3");
    golden("decimal", cql_value_decimal(-1, 123), "ffffffff7b", "1.23E+3");
    golden("duration", cql_value_duration(1, 2, 3), "020406", "1mo2d3ns");
    golden("duration", cql_value_duration(0, 0, 0), "000000", "0s");
    golden("duration", cql_value_duration(-14, -1, -INT64_C(10800000000000)),
           "1b01" "fc13a52453bfff", "-1y2mo1d3h");
}

Test(cql_value, formats_and_round_trips_varints_of_1_to_20_bytes)
{
    static const struct {
        const char *hex, *text;
    } v[] = {
        {"010000000000000000", "18446744073709551616"},
        {"ff0000000000000000", "-18446744073709551616"},
        {"7fffffffffffffffffffffffffffffff", "170141183460469231731687303715884105727"},
        {"80000000000000000000000000000000", "-170141183460469231731687303715884105728"},
        {"118427b3b4a05bc8a8a4de845986800000000000",
         "100000000000000000000000000000000000000000000000"},
        {"ee7bd84c4b5fa437575b217ba679800000000001",
         "-99999999999999999999999999999999999999999999999"},
        {"7fffffffffffffffffffffffffffffffffffffff",
         "730750818665451459101842416358141509827966271487"},
        {"8000000000000000000000000000000000000000",
         "-730750818665451459101842416358141509827966271488"},
        {"0000000000000000000001", "1"},
        {"ffffffffffffffffffffff", "-1"},
    };
    const cql_type_t *t = ty("varint");
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        cql_bytes_t in = hex(v[i].hex);
        cql_value_t out;
        cr_assert_eq(cql_value_decode(t, in, &arena, &out), 0);
        cr_assert_str_eq(fmt("varint", &out), v[i].text);
        cr_assert_eq(out.u.varint.fits, strlen(v[i].text) <= 2);
        cql_wr_t w;
        cql_wr_init(&w);
        cql_value_encode_body(&w, t, &out);
        cr_assert_str_eq(to_hex(w.data, w.len), v[i].hex, "raw bytes are kept");
        cql_wr_close(&w);
    }
    /* every length 1..20, positive and negative, survives a round trip and
     * fits int64 exactly when it should */
    uint8_t buf[20];
    for (size_t n = 1; n <= 20; n++) {
        for (int neg = 0; neg < 2; neg++) {
            for (size_t i = 0; i < n; i++)
                buf[i] = (uint8_t)(0x11 * (i + 1) + n);
            buf[0] = neg ? 0x80 | buf[0] : 0x7f & buf[0];
            cql_value_t out;
            cql_bytes_t in = {buf, (int32_t)n};
            cr_assert_eq(cql_value_decode(t, in, &arena, &out), 0);
            cr_assert_eq(out.u.varint.fits, n <= 8, "n %zu", n);
            char text[64];
            int len = cql_varint_format(buf, n, text, sizeof text);
            cr_assert_gt(len, 0);
            cr_assert_eq(text[0] == '-', neg == 1);
            if (n <= 8) {
                char want[32];
                snprintf(want, sizeof want, "%lld", (long long)out.u.varint.i64);
                cr_assert_str_eq(text, want);
            }
        }
    }
}

static cql_value_t decoded(const char *type, const char *h)
{
    cql_value_t v;
    int rc = cql_value_decode(ty(type), hex(h), &arena, &v);
    cr_assert_eq(rc, 0, "%s %s: %s", type, h, cqlmq_err_name(rc));
    return v;
}

static void round_trip(const char *type, const char *h, const char *text)
{
    cql_value_t v = decoded(type, h);
    cr_assert_str_eq(fmt(type, &v), text);
    cql_wr_t w;
    cql_wr_init(&w);
    cql_value_encode_body(&w, ty(type), &v);
    cr_assert_eq(cql_wr_error(&w), 0);
    cr_assert_str_eq(to_hex(w.data, w.len), h, "%s", type);
    cql_wr_close(&w);
    cr_assert_eq(cql_value_check(ty(type), &v), 0);
}

Test(cql_value, round_trips_collections_tuples_and_udts)
{
    round_trip("list<int>", "00000002000000040000000100000004ffffffff", "[1, -1]");
    round_trip("set<int>", "00000002000000040000000100000004ffffffff", "{1, -1}");
    round_trip("list<int>", "00000000", "[]");
    round_trip("list<int>", "00000002ffffffff0000000400000001", "[null, 1]");
    round_trip("list<int>", "0000000100000000", "[blobAsInt(0x)]");
    round_trip("map<text, int>", "00000001000000016100000004" "00000001", "{'a': 1}");
    round_trip("map<text, frozen<list<int>>>",
               "00000002" "0000000161" "0000000c" "00000001" "00000004" "00000007"
               "0000000162" "00000004" "00000000",
               "{'a': [7], 'b': []}");
    round_trip("tuple<int, text, boolean>", "00000004000000010000000178ffffffff",
               "(1, 'x', null)");
    round_trip("set<frozen<tuple<int, text>>>",
               "00000001" "0000000d" "ffffffff" "00000005" "68656c6c6f",
               "{(null, 'hello')}");
    round_trip("frozen<address>", "000000017800000004000003e8ffffffff",
               "{street: 'x', \"Zip\": 1000, city: null}");
    round_trip("map<frozen<address>, frozen<map<int, text>>>",
               "00000001" "0000000d" "0000000178ffffffffffffffff"
               "00000011" "00000001" "0000000400000002" "0000000161",
               "{{street: 'x', \"Zip\": null, city: null}: {2: 'a'}}");
}

Test(cql_value, fills_missing_trailing_udt_and_tuple_fields_with_null)
{
    cql_value_t v = decoded("frozen<address>", "0000000178");
    cr_assert_eq(v.u.coll.n, 3);
    cr_assert_eq(v.u.coll.items[0].state, CQL_VALUE_SET);
    cr_assert_eq(v.u.coll.items[1].state, CQL_VALUE_NULL);
    cr_assert_eq(v.u.coll.items[2].state, CQL_VALUE_NULL);
    cr_assert_eq(v.u.coll.items[2].kind, CQL_TYPE_VARCHAR);
    cr_assert_str_eq(fmt("frozen<address>", &v), "{street: 'x', \"Zip\": null, city: null}");
    cql_value_t t = decoded("tuple<int, text>", "0000000400000001");
    cr_assert_eq(t.u.coll.n, 2);
    cr_assert_eq(t.u.coll.items[1].state, CQL_VALUE_NULL);
    /* a tuple built with fewer items encodes only those, and equals its
     * decoded, null-padded self */
    cql_value_t built;
    cr_assert_eq(cql_value_coll_new(&arena, CQL_TYPE_TUPLE, 1, &built), 0);
    built.u.coll.items[0] = cql_value_int(1);
    cr_assert(cql_value_equal(&built, &t));
    cql_wr_t w;
    cql_wr_init(&w);
    cql_value_encode_body(&w, ty("tuple<int, text>"), &built);
    cr_assert_str_eq(to_hex(w.data, w.len), "0000000400000001");
    cql_wr_close(&w);
}

Test(cql_value, keeps_null_not_set_and_empty_distinct)
{
    const cql_type_t *it = ty("int"), *tt = ty("text");
    cql_bytes_t null = {NULL, CQL_BYTES_NULL}, unset = {NULL, CQL_BYTES_NOT_SET};
    cql_bytes_t empty = {(const uint8_t *)"", 0}, bad = {NULL, -3};
    cql_value_t v;
    cr_assert_eq(cql_value_decode(it, null, &arena, &v), 0);
    cr_assert_eq(v.state, CQL_VALUE_NULL);
    cr_assert_eq(cql_value_decode(it, unset, &arena, &v), 0);
    cr_assert_eq(v.state, CQL_VALUE_NOT_SET);
    cr_assert_eq(cql_value_decode(it, empty, &arena, &v), 0);
    cr_assert_eq(v.state, CQL_VALUE_EMPTY);
    cr_assert_str_eq(fmt("int", &v), "blobAsInt(0x)");
    cr_assert_eq(cql_value_decode(ty("list<int>"), empty, &arena, &v), 0);
    cr_assert_eq(v.state, CQL_VALUE_EMPTY);
    cr_assert_eq(cql_value_decode(tt, empty, &arena, &v), 0);
    cr_assert_eq(v.state, CQL_VALUE_SET, "empty text is a value");
    cr_assert_eq(v.u.raw.len, 0);
    cr_assert_eq(cql_value_decode(it, bad, &arena, &v), CQLMQ_EMALFORMED);

    cql_value_t n = cql_value_null(), u = cql_value_not_set(), e = cql_value_empty(CQL_TYPE_INT);
    cql_value_t one = cql_value_int(1);
    cql_wr_t w;
    cql_wr_init(&w);
    cql_value_encode(&w, it, &n);
    cql_value_encode(&w, it, &u);
    cql_value_encode(&w, it, &e);
    cql_value_encode(&w, it, &one);
    cr_assert_eq(cql_wr_error(&w), 0);
    cr_assert_str_eq(to_hex(w.data, w.len), "ffffffff" "fffffffe" "00000000" "0000000400000001");
    cql_wr_close(&w);
    cr_assert_not(cql_value_equal(&n, &u));
    cr_assert_not(cql_value_equal(&n, &e));
    cr_assert_not(cql_value_equal(&e, &one));
    cr_assert_str_eq(fmt("int", &n), "null");
    cr_assert_str_eq(fmt("int", &u), "null");
}

typedef struct {
    const char *type, *hex;
    int err;
} bad_t;

static const bad_t bad[] = {
    {"int", "000001", CQLMQ_EBADTYPE},
    {"int", "0000000001", CQLMQ_EBADTYPE},
    {"bigint", "00000000000001", CQLMQ_EBADTYPE},
    {"smallint", "01", CQLMQ_EBADTYPE},
    {"tinyint", "0001", CQLMQ_EBADTYPE},
    {"boolean", "0001", CQLMQ_EBADTYPE},
    {"float", "000000", CQLMQ_EBADTYPE},
    {"double", "00000000", CQLMQ_EBADTYPE},
    {"timestamp", "00", CQLMQ_EBADTYPE},
    {"date", "000000", CQLMQ_EBADTYPE},
    {"time", "ffffffffffffffff", CQLMQ_EBADTYPE},
    {"time", "00004e94914f0000", CQLMQ_EBADTYPE},
    {"uuid", "0123456789abcdef0123456789abcd", CQLMQ_EBADTYPE},
    {"timeuuid", "0123456789ab4def8123456789abcdef", CQLMQ_EBADTYPE},
    {"inet", "0a0000", CQLMQ_EBADTYPE},
    {"inet", "0a00000100", CQLMQ_EBADTYPE},
    {"decimal", "00000001", CQLMQ_EBADTYPE},
    {"decimal", "000001", CQLMQ_EBADTYPE},
    {"duration", "02", CQLMQ_EBADTYPE},
    {"duration", "020406" "00", CQLMQ_EBADTYPE},
    {"duration", "0201" "06", CQLMQ_EBADTYPE},          /* 1mo -1d 3ns: mixed signs */
    {"duration", "f100000000" "00" "00", CQLMQ_EBADTYPE}, /* months beyond int32 */
    {"duration", "ff", CQLMQ_EBADTYPE},
    {"ascii", "6180", CQLMQ_EBADTYPE},
    {"text", "c080", CQLMQ_EUTF8},          /* overlong */
    {"text", "eda080", CQLMQ_EUTF8},        /* surrogate */
    {"text", "f4908080", CQLMQ_EUTF8},      /* above U+10FFFF */
    {"text", "80", CQLMQ_EUTF8},            /* lone continuation */
    {"text", "e282", CQLMQ_EUTF8},          /* truncated */
    {"text", "ff", CQLMQ_EUTF8},
    {"list<int>", "000000", CQLMQ_EMALFORMED},
    {"list<int>", "ffffffff", CQLMQ_EMALFORMED},                 /* negative count */
    {"list<int>", "7fffffff00000004", CQLMQ_EMALFORMED},         /* count too big */
    {"list<int>", "00000001fffffffe", CQLMQ_EMALFORMED},         /* element length -2 */
    {"list<int>", "000000010000000500000001", CQLMQ_EMALFORMED}, /* runs past the end */
    {"list<int>", "00000001000000040000000100", CQLMQ_EMALFORMED}, /* trailing byte */
    {"list<int>", "0000000100000003000001", CQLMQ_EBADTYPE},     /* bad element */
    {"list<text>", "0000000100000001ff", CQLMQ_EUTF8},
    {"map<int, int>", "000000010000000400000001", CQLMQ_EMALFORMED}, /* value missing */
    {"map<int, int>", "7fffffff", CQLMQ_EMALFORMED},
    {"tuple<int>", "000000040000000100000000", CQLMQ_EMALFORMED},    /* extra component */
    {"tuple<int, int>", "00000004000000", CQLMQ_EMALFORMED},
    {"tuple<int, int>", "80000000", CQLMQ_EMALFORMED},
    {"frozen<address>", "0000000178000000040000000100000000" "00000000", CQLMQ_EMALFORMED},
};

Test(cql_value, rejects_malformed_values_with_the_documented_codes)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const cql_type_t *t = ty(bad[i].type);
        cql_bytes_t in = hex(bad[i].hex);
        cql_value_t v;
        int rc = cql_value_decode(t, in, &arena, &v);
        cr_assert_eq(rc, bad[i].err, "%s %s: got %s want %s", bad[i].type, bad[i].hex,
                     cqlmq_err_name(rc), cqlmq_err_name(bad[i].err));
        cr_assert_eq(cql_value_validate(t, in), bad[i].err, "validate %s %s", bad[i].type,
                     bad[i].hex);
    }
}

Test(cql_value, checks_counts_before_allocating)
{
    cql_arena_t small;
    cql_arena_init(&small, 4096);
    cql_value_t v;
    /* 2^31-1 elements claimed by 12 bytes: refused before any allocation */
    cr_assert_eq(cql_value_decode(ty("list<int>"), hex("7fffffff0000000400000001"), &small, &v),
                 CQLMQ_EMALFORMED);
    cr_assert_eq(small.used, 0);
    /* a legitimate 1000-element list does not fit 4096 bytes: ENOMEM */
    cql_wr_t w;
    cql_wr_init(&w);
    cql_wr_i32(&w, 1000);
    for (int i = 0; i < 1000; i++) {
        cql_wr_i32(&w, 4);
        cql_wr_i32(&w, i);
    }
    cql_bytes_t in = {w.data, (int32_t)w.len};
    cr_assert_eq(cql_value_decode(ty("list<int>"), in, &small, &v), CQLMQ_ENOMEM);
    cr_assert_eq(cql_value_validate(ty("list<int>"), in), 0, "validation allocates nothing");
    cr_assert_eq(cql_value_decode(ty("list<int>"), in, &arena, &v), 0);
    cr_assert_eq(v.u.coll.n, 1000);
    cr_assert_eq(v.u.coll.items[999].u.i, 999);
    cql_wr_close(&w);
    cql_arena_close(&small);
}

Test(cql_value, bounds_nesting_depth)
{
    /* a type built in code, deeper than any [option] may be */
    cql_type_t *t = cql_type_new(&arena, CQL_TYPE_INT);
    for (int i = 0; i < 40; i++) {
        cql_type_t *l = cql_arena_calloc(&arena, 1, sizeof *l);
        l->kind = CQL_TYPE_LIST;
        l->nsub = 1;
        l->sub = cql_arena_calloc(&arena, 1, sizeof *l->sub);
        l->sub[0] = t;
        t = l;
    }
    /* each level: count 1, element length; innermost an int */
    cql_wr_t w;
    cql_wr_init(&w);
    for (int i = 0; i < 40; i++) {
        cql_wr_i32(&w, 1);
        cql_wr_i32(&w, 4 + 8 * (39 - i) + 4 + 4 - 4); /* patched below */
    }
    cql_wr_i32(&w, 7);
    /* fix the element lengths: each is the size of everything after it */
    for (int i = 0; i < 40; i++)
        cql_wr_patch_i32(&w, (size_t)(8 * i + 4), (int32_t)(w.len - (size_t)(8 * i + 8)));
    cql_bytes_t in = {w.data, (int32_t)w.len};
    cql_value_t v;
    cr_assert_eq(cql_value_decode(t, in, &arena, &v), CQLMQ_ELIMIT);
    cr_assert_eq(cql_value_validate(t, in), CQLMQ_ELIMIT);
    /* 20 levels are fine */
    cql_type_t *t20 = t;
    for (int i = 0; i < 20; i++)
        t20 = t20->sub[0];
    cql_bytes_t in20 = {w.data + 8 * 20, (int32_t)(w.len - 8 * 20)};
    cr_assert_eq(cql_value_decode(t20, in20, &arena, &v), 0);
    cql_wr_close(&w);
}

Test(cql_value, preserves_float_bits_and_compares_them)
{
    cql_value_t a = decoded("double", "7ff8000000000001");
    cql_value_t b = decoded("double", "7ff8000000000001");
    cql_value_t c = decoded("double", "7ff8000000000000");
    cr_assert(isnan(a.u.d));
    cr_assert(cql_value_equal(&a, &b));
    cr_assert_not(cql_value_equal(&a, &c), "different NaN payloads");
    cql_value_t pz = cql_value_double(0.0), nz = cql_value_double(-0.0);
    cr_assert_not(cql_value_equal(&pz, &nz));
    round_trip("double", "7ff8000000000001", "NaN");
    round_trip("float", "ff800000", "-Infinity");
    round_trip("float", "80000000", "-0.0");
    round_trip("float", "00000001", "1e-45");
    round_trip("double", "0000000000000001", "5e-324");
    round_trip("double", "3ff0000000000000", "1");
}

Test(cql_value, compares_numbers_by_value_and_decimals_by_scale)
{
    cql_value_t padded = decoded("varint", "0001");
    cql_value_t one = cql_value_varint(1), i1 = cql_value_int(1), b1 = cql_value_bigint(1);
    cr_assert(cql_value_equal(&padded, &one));
    cr_assert(cql_value_equal(&one, &i1));
    cr_assert(cql_value_equal(&i1, &b1));
    cql_value_t two = cql_value_int(2);
    cr_assert_not(cql_value_equal(&i1, &two));
    cql_value_t d10 = cql_value_decimal(1, 10), d100 = cql_value_decimal(2, 100);
    cr_assert_not(cql_value_equal(&d10, &d100), "1.0 is not 1.00 as a value tree");
    cql_value_t big1 = decoded("varint", "010000000000000000");
    cql_value_t big2 = decoded("varint", "00010000000000000000");
    cr_assert(cql_value_equal(&big1, &big2));
    cr_assert_not(cql_value_equal(&big1, &one));
    cql_value_t t1 = cql_value_text("a"), a1 = cql_value_ascii("a"), t2 = cql_value_text("b");
    cr_assert_not(cql_value_equal(&t1, &t2));
    cr_assert_not(cql_value_equal(&t1, &a1), "kinds differ");
}

Test(cql_value, check_and_encode_reject_values_that_do_not_fit_the_type)
{
    cql_value_t big = cql_value_int(40000), txt = cql_value_text("x");
    cr_assert_eq(cql_value_check(ty("smallint"), &big), CQLMQ_ERANGE);
    cr_assert_eq(cql_value_check(ty("bigint"), &big), 0, "integer kinds convert");
    cr_assert_eq(cql_value_check(ty("varint"), &big), 0);
    cr_assert_eq(cql_value_check(ty("int"), &txt), CQLMQ_EBADTYPE);
    cr_assert_eq(cql_value_check(ty("ascii"), &txt), 0);
    cql_value_t hi = cql_value_text("\xc3\xa9"), badu = cql_value_textn("\xc0\x80", 2);
    cr_assert_eq(cql_value_check(ty("ascii"), &hi), CQLMQ_EBADTYPE);
    cr_assert_eq(cql_value_check(ty("text"), &badu), CQLMQ_EUTF8);
    cql_value_t v4 = cql_value_uuid(uuid4), v1 = cql_value_uuid(uuid1);
    cr_assert_eq(cql_value_check(ty("timeuuid"), &v4), CQLMQ_EBADTYPE);
    cr_assert_eq(cql_value_check(ty("timeuuid"), &v1), 0);
    cql_value_t late = cql_value_time(CQL_TIME_MAX + 1);
    cr_assert_eq(cql_value_check(ty("time"), &late), CQLMQ_ERANGE);
    cql_value_t mixed = cql_value_duration(1, -1, 0);
    cr_assert_eq(cql_value_check(ty("duration"), &mixed), CQLMQ_EBADTYPE);
    cql_value_t huge = decoded("varint", "010000000000000000");
    cr_assert_eq(cql_value_check(ty("bigint"), &huge), CQLMQ_ERANGE);

    cql_value_t l;
    cr_assert_eq(cql_value_coll_new(&arena, CQL_TYPE_LIST, 2, &l), 0);
    l.u.coll.items[0] = cql_value_int(1);
    l.u.coll.items[1] = cql_value_not_set();
    cr_assert_eq(cql_value_check(ty("list<int>"), &l), CQLMQ_EBADTYPE, "not set inside");
    l.u.coll.items[1] = cql_value_int(2);
    cr_assert_eq(cql_value_check(ty("list<int>"), &l), 0);
    cr_assert_eq(cql_value_check(ty("set<int>"), &l), CQLMQ_EBADTYPE, "list is not a set");
    cr_assert_eq(cql_value_coll_new(&arena, CQL_TYPE_INT, 2, &l), CQLMQ_EINVAL);

    cql_wr_t w;
    cql_wr_init(&w);
    cql_value_encode(&w, ty("int"), &txt);
    cr_assert_eq(cql_wr_error(&w), CQLMQ_EBADTYPE);
    cql_wr_close(&w);
    cql_wr_init(&w);
    cql_value_encode(&w, ty("tinyint"), &big);
    cr_assert_eq(cql_wr_error(&w), CQLMQ_ERANGE);
    cql_wr_close(&w);
    cr_assert_eq(cql_value_format(ty("int"), &txt, NULL, 0), CQLMQ_EBADTYPE);
}

Test(cql_value, builds_values_in_code_that_encode_like_decoded_ones)
{
    cql_value_t m;
    cr_assert_eq(cql_value_coll_new(&arena, CQL_TYPE_MAP, 2, &m), 0);
    m.u.coll.items[0] = cql_value_text("a");
    m.u.coll.items[1] = cql_value_int(1);
    m.u.coll.items[2] = cql_value_text("b");
    m.u.coll.items[3] = cql_value_empty(CQL_TYPE_INT);
    cql_wr_t w;
    cql_wr_init(&w);
    cql_value_encode(&w, ty("map<text, int>"), &m);
    cr_assert_eq(cql_wr_error(&w), 0);
    cr_assert_str_eq(to_hex(w.data, w.len),
                     "0000001a" "00000002" "0000000161" "0000000400000001"
                     "0000000162" "00000000");
    cql_value_t back;
    cql_bytes_t in = {w.data + 4, (int32_t)w.len - 4};
    cr_assert_eq(cql_value_decode(ty("map<text, int>"), in, &arena, &back), 0);
    cr_assert(cql_value_equal(&m, &back));
    cr_assert_str_eq(fmt("map<text, int>", &back), "{'a': 1, 'b': blobAsInt(0x)}");
    cql_wr_close(&w);
}

Test(cql_value, format_counts_like_snprintf)
{
    cql_value_t v = cql_value_text("hello");
    char buf[4];
    cr_assert_eq(cql_value_format(ty("text"), &v, buf, sizeof buf), 7);
    cr_assert_str_eq(buf, "'he");
    cr_assert_eq(cql_value_format(ty("text"), &v, NULL, 0), 7);
    char big[64];
    cql_value_t d = decoded("decimal", "0000001800d3c21bcecceda1000001");
    cr_assert_eq(cql_value_format(ty("decimal"), &d, big, sizeof big), 26);
    cr_assert_str_eq(big, "1.000000000000000000000001");
    cql_value_t old = cql_value_date(1);
    cr_assert_str_eq(fmt("date", &old), "1");
    cql_value_t dur = cql_value_duration(0, 0, INT64_C(3723004005006));
    cr_assert_str_eq(fmt("duration", &dur), "1h2m3s4ms5us6ns");
    cql_value_t longer = cql_value_duration(25, 0, 0);
    cr_assert_str_eq(fmt("duration", &longer), "2y1mo");
}
