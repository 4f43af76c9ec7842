/*
 * Tests of cql_order: for every type a table of serialized values in
 * ascending order (equal ranks must compare equal), checked on every pair
 * in both directions; multi-column keys with ASC/DESC; the key-type check;
 * and garbage that must still compare antisymmetrically without crashing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql_order.h"
#include "cql_value.h"

static cql_arena_t arena;
static void setup(void) { cql_arena_init(&arena, 0); }
static void teardown(void) { cql_arena_close(&arena); }
TestSuite(cql_order, .init = setup, .fini = teardown);

typedef struct {
    int rank;        /* ascending; equal ranks compare equal */
    const char *hex; /* the serialized value; "N" = null, "" = empty */
} ov_t;

static cql_bytes_t from_hex(const char *hex)
{
    cql_bytes_t b = {NULL, CQL_BYTES_NULL};
    if (strcmp(hex, "N") == 0)
        return b;
    size_t n = strlen(hex) / 2;
    uint8_t *p = cql_arena_alloc(&arena, n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        p[i] = (uint8_t)v;
    }
    b.ptr = p;
    b.len = (int32_t)n;
    return b;
}

static cql_type_t *type_of(const char *s)
{
    cql_type_t *t;
    int rc = cql_type_parse(s, strlen(s), &arena, NULL, NULL, NULL, &t);
    cr_assert_eq(rc, 0, "%s", s);
    return t;
}

static void check_table(const char *type, const ov_t *v, size_t n)
{
    const cql_type_t *t = type_of(type);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            int want = (v[i].rank > v[j].rank) - (v[i].rank < v[j].rank);
            int got = cql_order_compare(t, from_hex(v[i].hex), from_hex(v[j].hex));
            cr_assert_eq(got, want, "%s: %s vs %s gave %d, want %d", type, v[i].hex, v[j].hex,
                         got, want);
        }
    }
}

#define CHECK(type, table) check_table(type, table, sizeof table / sizeof table[0])

Test(cql_order, orders_fixed_size_integers_signed)
{
    static const ov_t i32[] = {{0, "N"},        {1, ""},         {2, "80000000"}, {3, "ffffff00"},
                               {4, "ffffffff"}, {5, "00000000"}, {6, "00000001"}, {7, "000000ff"},
                               {8, "7fffffff"}};
    CHECK("int", i32);
    static const ov_t i8[] = {{0, ""}, {1, "80"}, {2, "ff"}, {3, "00"}, {4, "7f"}};
    CHECK("tinyint", i8);
    static const ov_t i16[] = {{0, "8000"}, {1, "ff00"}, {2, "0000"}, {3, "00ff"}, {4, "7fff"}};
    CHECK("smallint", i16);
    static const ov_t i64[] = {{0, "8000000000000000"}, {1, "ffffffffffffffff"},
                               {2, "0000000000000000"}, {3, "00000000000000ff"},
                               {4, "7fffffffffffffff"}};
    CHECK("bigint", i64);
    CHECK("counter", i64);
    CHECK("timestamp", i64);
    static const ov_t tm[] = {{0, "0000000000000000"}, {1, "0000000000000001"},
                              {2, "00004e94914effff"}};
    CHECK("time", tm);
}

Test(cql_order, orders_dates_as_unsigned_days)
{
    static const ov_t d[] = {{0, ""}, {1, "00000000"}, {2, "7fffffff"}, {3, "80000000"},
                             {4, "80000001"}, {5, "ffffffff"}};
    CHECK("date", d);
}

Test(cql_order, orders_varints_of_any_length_numerically)
{
    static const ov_t v[] = {
        {0, ""},
        {1, "ff00000000000000000000"},  /* -2^80 */
        {2, "8000000000000000"},        /* -2^63 */
        {3, "ff7f"},                    /* -129 */
        {4, "80"},                      /* -128 */
        {4, "ff80"},                    /* -128, padded */
        {5, "ff"},                      /* -1 */
        {5, "ffff"},
        {5, "ffffffffffffffffffffffff"},
        {6, "00"},
        {6, "0000"},
        {7, "01"},
        {8, "7f"},
        {9, "0080"},                    /* 128 */
        {9, "000080"},
        {10, "7fffffffffffffff"},       /* 2^63 - 1 */
        {11, "008000000000000000"},     /* 2^63 */
        {12, "0100000000000000000000"}, /* 2^80 */
        {12, "000100000000000000000000"},
    };
    CHECK("varint", v);
}

Test(cql_order, orders_decimals_exactly_across_scales)
{
    static const ov_t v[] = {
        {0, ""},
        {1, "80000000ff"},                         /* -1E+2147483648 */
        {2, "fffffffdda0d8c6cc24a900000"},         /* -7E+23 as -7E20 scale -3 */
        {2, "00000000ff6bc4ec88d6f342800000"},     /* -700000000000000000000000 */
        {3, "fffffff6ff"},                         /* -1E+10 */
        {4, "00000001f1"},                         /* -1.5 */
        {5, "00000000ff"},                         /* -1 */
        {5, "000000029c"},                         /* -1.00 */
        {6, "0000000000"},                         /* 0 */
        {6, "0000000200"},                         /* 0.00 */
        {6, "fffffffb00"},                         /* 0E+5 */
        {7, "7fffffff01"},                         /* 1E-2147483647 */
        {8, "0000000a01"},                         /* 1E-10 */
        {9, "0000000105"},                         /* 0.5 */
        {10, "0000000001"},                        /* 1 */
        {10, "000000010a"},                        /* 1.0 */
        {10, "0000001e0c9f2c9cd04674edea40000000"}, /* 10^30 scale 30 */
        {11, "0000001800d3c21bcecceda1000001"},    /* 1.000000000000000000000001 */
        {12, "0000000002"},                        /* 2 */
        {13, "ffffffe401"},                        /* 1E+28 */
        {13, "00000000204fce5e3e25026110000000"},  /* 10^28 */
        {14, "0000000027e41b3246bec9b16e398115"},  /* 12345678901234567890123456789 */
        {14, "00000001018ee90ff6c373e0ee4e3f0ad2"}, /* the same, scale 1 */
        {15, "ffffffd801"},                        /* 1E+40 */
    };
    CHECK("decimal", v);
}

Test(cql_order, orders_floats_like_java_compare)
{
    static const ov_t f[] = {
        {0, ""},         {1, "ff800000"}, /* -inf */
        {2, "bfc00000"}, /* -1.5 */
        {3, "80000000"}, /* -0.0 */
        {4, "00000000"}, /* 0.0 */
        {5, "00000001"}, /* smallest denormal */
        {6, "3f800000"}, /* 1 */
        {7, "7f800000"}, /* +inf */
        {8, "7fc00000"}, /* NaN */
        {8, "7fc00001"}, /* another NaN */
        {8, "ffc00000"}, /* negative NaN */
    };
    CHECK("float", f);
    static const ov_t d[] = {
        {0, "fff0000000000000"}, {1, "bff8000000000000"}, {2, "8000000000000000"},
        {3, "0000000000000000"}, {4, "0000000000000001"}, {5, "3ff0000000000000"},
        {6, "7ff0000000000000"}, {7, "7ff8000000000000"}, {7, "fff8000000000001"},
    };
    CHECK("double", d);
}

Test(cql_order, orders_booleans_false_before_true)
{
    static const ov_t b[] = {{0, "N"}, {1, ""}, {2, "00"}, {3, "01"}, {3, "02"}, {3, "ff"}};
    CHECK("boolean", b);
}

Test(cql_order, orders_text_blob_and_inet_bytewise_unsigned)
{
    static const ov_t s[] = {{0, "N"},  {1, ""},   {2, "41"},     {3, "4141"},
                             {4, "42"}, {5, "61"}, {6, "7f"},     {7, "c3a9"}};
    CHECK("text", s);
    CHECK("ascii", s);
    CHECK("blob", s);
    static const ov_t ip[] = {{0, "0a000001"}, {1, "0a000002"}, {2, "7f000001"},
                              {3, "c0a80001"}, {4, "fe800000000000000000000000000001"}};
    CHECK("inet", ip);
}

Test(cql_order, orders_uuids_by_version_then_time_then_unsigned_bytes)
{
    static const ov_t u[] = {
        {0, ""},
        /* version 1: time_low, time_mid, time_hi; time_hi is most significant */
        {1, "ffffffff000010008000000000000000"},
        {2, "00000000000110000000000000000000"},
        {3, "00000000000010017f00000000000000"},
        {4, "00000000000010018000000000000000"}, /* low bytes unsigned: 0x80 > 0x7f */
        {5, "00000000000010018000000000000001"},
        /* version 4 after every version 1, then plain unsigned bytes */
        {6, "00000000000040000000000000000000"},
        {7, "00000000000040008000000000000000"},
        {8, "ffffffffffff4fffffffffffffffffff"},
    };
    CHECK("uuid", u);
}

Test(cql_order, orders_timeuuids_by_time_then_signed_bytes)
{
    static const ov_t u[] = {
        {0, ""},
        {1, "ffffffff000010008000000000000000"},
        {2, "00000000000110000000000000000000"},
        {3, "00000000000010018000000000000000"}, /* low bytes signed: 0x80 first */
        {4, "0000000000001001ff00000000000000"},
        {5, "00000000000010010000000000000000"},
        {6, "00000000000010010001000000000000"},
        {7, "00000000000010010000000000000000ff"}, /* malformed 17 bytes: bytewise */
    };
    /* the malformed row only checks totality: drop it from the ranking */
    check_table("timeuuid", u, 7);
}

Test(cql_order, orders_frozen_lists_sets_and_maps_element_by_element)
{
    static const ov_t l[] = {
        {0, ""},
        {1, "00000000"},                                   /* [] */
        {2, "0000000100000004ffffffff"},                   /* [-1] */
        {3, "0000000200000004ffffffff0000000400000000"},   /* [-1, 0] */
        {4, "000000010000000400000000"},                   /* [0] */
        {5, "00000002000000040000000000000004ffffffff"},   /* [0, -1] */
        {6, "000000020000000400000000000000040000000000"}, /* [0, 0] (bad tail) */
        {7, "000000010000000400000001"},                   /* [1] */
    };
    check_table("frozen<list<int>>", l, 6); /* row 6 is malformed */
    check_table("frozen<set<int>>", l, 6);
    static const ov_t l2[] = {
        {0, "00000000"},
        {1, "000000010000000400000000"},
        {2, "000000010000000400000001"},
    };
    CHECK("frozen<list<int>>", l2);
    static const ov_t m[] = {
        {0, "00000000"},                                         /* {} */
        {1, "00000001000000040000000100000001" "61"},            /* {1: 'a'} */
        {2, "00000001000000040000000100000001" "62"},            /* {1: 'b'} */
        {3, "00000002000000040000000100000001" "62"
            "000000040000000200000001" "61"},                    /* {1: 'b', 2: 'a'} */
        {4, "0000000100000004000000020000000" "0"},              /* {2: ''} */
    };
    CHECK("frozen<map<int, text>>", m);
}

Test(cql_order, orders_tuples_with_nulls_first_and_missing_components_as_null)
{
    static const ov_t t[] = {
        {0, ""},
        {1, "ffffffff000000017a"},                 /* (null, 'z') */
        {2, "0000000400000000ffffffff"},           /* (0, null) */
        {2, "0000000400000000"},                   /* (0) */
        {3, "000000040000000000000000"},           /* (0, '') */
        {4, "00000004000000000000000161"},         /* (0, 'a') */
        {5, "0000000400000001"},                   /* (1) */
        {5, "0000000400000001ffffffff"},           /* (1, null) */
        {6, "000000040000000100000000"},           /* (1, '') */
    };
    CHECK("tuple<int, text>", t);
}

Test(cql_order, compares_multi_column_keys_with_per_column_direction)
{
    cql_order_col_t cols[2] = {{type_of("int"), false}, {type_of("text"), true}};
    cql_bytes_t k1[2] = {from_hex("00000001"), from_hex("62")}; /* (1, 'b') */
    cql_bytes_t k2[2] = {from_hex("00000001"), from_hex("61")}; /* (1, 'a') */
    cql_bytes_t k3[2] = {from_hex("00000002"), from_hex("7a")}; /* (2, 'z') */
    cr_assert_lt(cql_order_key_compare(cols, k1, 2, k2, 2), 0, "DESC text: 'b' first");
    cr_assert_gt(cql_order_key_compare(cols, k2, 2, k1, 2), 0);
    cr_assert_lt(cql_order_key_compare(cols, k2, 2, k3, 2), 0);
    cr_assert_eq(cql_order_key_compare(cols, k1, 2, k1, 2), 0);
    cr_assert_eq(cql_order_key_compare(cols, k1, 1, k2, 2), 0, "prefix matches");
    cr_assert_lt(cql_order_key_compare(cols, k1, 1, k3, 2), 0);
    cr_assert_eq(cql_order_key_compare(cols, k1, 0, k3, 2), 0);
}

Test(cql_order, accepts_only_types_cassandra_allows_in_keys)
{
    cr_assert_eq(cql_order_supported(type_of("int"), false), 0);
    cr_assert_eq(cql_order_supported(type_of("frozen<list<int>>"), false), 0);
    cr_assert_eq(cql_order_supported(type_of("tuple<int, text>"), false), 0);
    cr_assert_eq(cql_order_supported(type_of("list<int>"), false), CQLMQ_EUNSUPPORTED);
    cr_assert_eq(cql_order_supported(type_of("list<int>"), true), 0);
    cr_assert_eq(cql_order_supported(type_of("duration"), true), CQLMQ_EUNSUPPORTED);
    cr_assert_eq(cql_order_supported(type_of("frozen<list<duration>>"), true),
                 CQLMQ_EUNSUPPORTED);
    cr_assert_eq(cql_order_supported(type_of("tuple<int, duration>"), true), CQLMQ_EUNSUPPORTED);
    cr_assert_eq(cql_order_supported(type_of("counter"), true), CQLMQ_EUNSUPPORTED);
}

Test(cql_order, stays_total_and_antisymmetric_on_garbage)
{
    static const char *types[] = {"int", "bigint", "varint", "decimal", "float", "double",
                                  "uuid", "timeuuid", "boolean", "text", "duration",
                                  "frozen<list<int>>", "frozen<map<text, varint>>",
                                  "tuple<int, frozen<list<decimal>>>", "date", "time"};
    uint64_t seed = 12345;
    uint8_t bufs[2][48];
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const cql_type_t *t = type_of(types[ti]);
        for (int iter = 0; iter < 3000; iter++) {
            cql_bytes_t v[2];
            for (int k = 0; k < 2; k++) {
                seed = seed * 6364136223846793005u + 1442695040888963407u;
                size_t n = (size_t)(seed >> 59) + ((seed >> 20) & 1 ? 0 : 16);
                for (size_t i = 0; i < n; i++) {
                    seed = seed * 6364136223846793005u + 1442695040888963407u;
                    uint8_t byte = (uint8_t)(seed >> 56);
                    bufs[k][i] = (seed >> 30) & 1 ? byte : (byte & 0x0f) ? 0 : 0x04;
                }
                /* a copy on the heap so ASan sees any overread */
                uint8_t *p = cql_arena_alloc(&arena, n ? n : 1);
                memcpy(p, bufs[k], n);
                v[k].ptr = p;
                v[k].len = (int32_t)n;
            }
            int ab = cql_order_compare(t, v[0], v[1]);
            int ba = cql_order_compare(t, v[1], v[0]);
            cr_assert(ab >= -1 && ab <= 1);
            cr_assert_eq(ab, -ba, "%s not antisymmetric", types[ti]);
            cr_assert_eq(cql_order_compare(t, v[0], v[0]), 0);
        }
    }
}
