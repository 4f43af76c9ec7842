/*
 * Tests for wire_value: every CQL type goes CQL -> msgpack -> CQL, and the
 * msgpack in the middle is compared with golden bytes worked out by hand
 * from docs/protocol.md section 8 and the msgpack spec. Edge cases: the
 * 64-bit integer limits, varints beyond 64 bits of both signs, negative
 * dates, timestamps before 1970 and past the 64-bit form, NaN and -0.0,
 * empty values, nulls in collections, nested frozen types, UDTs with
 * missing trailing fields; and malformed CQL bytes, which give codes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "cql_arena.h"
#include "cql_type.h"
#include "wire_value.h"

static cql_arena_t arena;

static void setup(void) { cql_arena_init(&arena, 0); }
static void teardown(void) { cql_arena_close(&arena); }

TestSuite(wire_value, .init = setup, .fini = teardown);

static const cql_type_t *ty(const char *s)
{
    cql_type_t *t = NULL;
    int rc = cql_type_parse(s, strlen(s), &arena, NULL, NULL, NULL, &t);
    cr_assert_eq(rc, 0, "type %s: %d", s, rc);
    return t;
}

/* udt<street text, zip int> named "address" */
static const cql_type_t *address_type(void)
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

static void hexdump(const char *what, const uint8_t *p, size_t n)
{
    fprintf(stderr, "%s (%zu):", what, n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, " %02x", p[i]);
    fprintf(stderr, "\n");
}

/* CQL bytes -> msgpack equals mp; msgpack -> CQL gives back the bytes. */
static void golden_t(const cql_type_t *t, const uint8_t *cql, int32_t cql_len, const uint8_t *mp,
                     size_t mp_len, bool back)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    cql_bytes_t v = {cql_len >= 0 ? cql : NULL, cql_len};
    int rc = wire_value_to_mpk(&w, t, v);
    cr_assert_eq(rc, 0, "to_mpk: %s", cqlmq_err_name(rc));
    if (w.len != mp_len || memcmp(w.data, mp, mp_len) != 0) {
        hexdump("got", w.data, w.len);
        hexdump("want", mp, mp_len);
        cr_assert_fail("msgpack differs from the golden bytes");
    }
    mpk_wr_close(&w);
    if (!back)
        return;

    cql_wr_t cw;
    mpk_rd_t r;
    wire_diag_t d;
    cql_wr_init(&cw);
    mpk_rd_init(&r, mp, mp_len);
    rc = wire_value_from_mpk(&cw, t, &r, &d);
    cr_assert_eq(rc, 0, "from_mpk: %s (%s)", cqlmq_err_name(rc), d.msg);
    cr_assert(mpk_rd_done(&r));
    cr_assert_eq(cw.len, 4 + (size_t)(cql_len > 0 ? cql_len : 0));
    cr_assert_eq((int32_t)cql_load_u32(cw.data), cql_len);
    if (cql_len > 0 && memcmp(cw.data + 4, cql, (size_t)cql_len) != 0) {
        hexdump("got", cw.data + 4, (size_t)cql_len);
        hexdump("want", cql, (size_t)cql_len);
        cr_assert_fail("CQL bytes differ after the round trip");
    }
    cql_wr_close(&cw);
}

#define B(...) ((const uint8_t[]){__VA_ARGS__})
#define N(...) sizeof((const uint8_t[]){__VA_ARGS__})
/* GOLD(type, {cql bytes}, {msgpack bytes}) */
#define GOLD(type, CQL, MP) golden_t(ty(type), B CQL, (int32_t)(N CQL), B MP, N MP, true)

Test(wire_value, booleans_become_msgpack_bools)
{
    GOLD("boolean", (0x01), (0xc3));
    GOLD("boolean", (0x00), (0xc2));
}

Test(wire_value, small_integers_use_the_smallest_msgpack_form)
{
    GOLD("tinyint", (0xff), (0xff));
    GOLD("tinyint", (0x7f), (0x7f));
    GOLD("tinyint", (0x80), (0xd0, 0x80));
    GOLD("smallint", (0x01, 0x2c), (0xcd, 0x01, 0x2c));
    GOLD("int", (0xff, 0xff, 0xff, 0xdf), (0xd0, 0xdf));
    GOLD("int", (0x7f, 0xff, 0xff, 0xff), (0xce, 0x7f, 0xff, 0xff, 0xff));
    GOLD("counter", (0, 0, 0, 0, 0, 0, 0, 5), (0x05));
}

Test(wire_value, bigint_limits_survive_the_round_trip)
{
    GOLD("bigint", (0x80, 0, 0, 0, 0, 0, 0, 0), (0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0));
    GOLD("bigint", (0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
         (0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
    GOLD("bigint", (0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), (0xff));
}

Test(wire_value, varints_within_64_bits_are_ints_and_beyond_are_ext_4)
{
    GOLD("varint", (0x00), (0x00));
    GOLD("varint", (0x00, 0x80), (0xcc, 0x80));
    GOLD("varint", (0xff, 0x7f), (0xd1, 0xff, 0x7f));
    GOLD("varint", (0x80, 0, 0, 0, 0, 0, 0, 0), (0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0));
    /* 2^63 fits msgpack's uint 64 */
    GOLD("varint", (0x00, 0x80, 0, 0, 0, 0, 0, 0, 0), (0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0));
    /* 2^64 and -2^64 do not */
    GOLD("varint", (0x01, 0, 0, 0, 0, 0, 0, 0, 0), (0xc7, 0x09, 0x04, 0x01, 0, 0, 0, 0, 0, 0, 0, 0));
    GOLD("varint", (0xff, 0, 0, 0, 0, 0, 0, 0, 0), (0xc7, 0x09, 0x04, 0xff, 0, 0, 0, 0, 0, 0, 0, 0));
    /* -2^63 - 1 */
    GOLD("varint", (0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
         (0xc7, 0x09, 0x04, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
}

Test(wire_value, padded_varints_are_written_minimal)
{
    golden_t(ty("varint"), B(0x00, 0x00, 0x01), 3, B(0x01), 1, false);
    golden_t(ty("varint"), B(0xff, 0xff, 0x80), 3, B(0xd0, 0x80), 2, false);
    golden_t(ty("varint"), B(0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0), 10,
             B(0xc7, 0x09, 0x04, 0x01, 0, 0, 0, 0, 0, 0, 0, 0), 12, false);
}

Test(wire_value, floats_keep_their_bits_including_nan_and_negative_zero)
{
    GOLD("float", (0x3f, 0xc0, 0, 0), (0xca, 0x3f, 0xc0, 0, 0));
    GOLD("float", (0x7f, 0xc0, 0, 0), (0xca, 0x7f, 0xc0, 0, 0));
    GOLD("float", (0x80, 0, 0, 0), (0xca, 0x80, 0, 0, 0));
    GOLD("double", (0x80, 0, 0, 0, 0, 0, 0, 0), (0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0));
    GOLD("double", (0x7f, 0xf8, 0, 0, 0, 0, 0, 1), (0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1));
    GOLD("double", (0xff, 0xf0, 0, 0, 0, 0, 0, 0), (0xcb, 0xff, 0xf0, 0, 0, 0, 0, 0, 0));
}

Test(wire_value, decimals_are_ext_1_with_scale_then_unscaled_bytes)
{
    /* 123.45 = 12345 (0x3039) * 10^-2 */
    GOLD("decimal", (0, 0, 0, 2, 0x30, 0x39), (0xc7, 0x06, 0x01, 0, 0, 0, 2, 0x30, 0x39));
    /* -1E+3 = -1 * 10^3: scale -3 */
    GOLD("decimal", (0xff, 0xff, 0xff, 0xfd, 0xff), (0xc7, 0x05, 0x01, 0xff, 0xff, 0xff, 0xfd, 0xff));
}

Test(wire_value, strings_and_blobs_map_to_str_and_bin)
{
    GOLD("text", (0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f), (0xa6, 0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f));
    GOLD("ascii", (0x61, 0x62), (0xa2, 0x61, 0x62));
    GOLD("blob", (0xde, 0xad), (0xc4, 0x02, 0xde, 0xad));
    GOLD("'org.example.Point'", (0x01, 0x02), (0xc4, 0x02, 0x01, 0x02));
}

Test(wire_value, empty_strings_stay_strings_but_empty_numbers_are_ext_9)
{
    golden_t(ty("text"), B(0), 0, B(0xa0), 1, true);
    golden_t(ty("blob"), B(0), 0, B(0xc4, 0x00), 2, true);
    golden_t(ty("int"), B(0), 0, B(0xc7, 0x00, 0x09), 3, true);
    golden_t(ty("uuid"), B(0), 0, B(0xc7, 0x00, 0x09), 3, true);
    golden_t(ty("list<int>"), B(0), 0, B(0xc7, 0x00, 0x09), 3, true);
}

Test(wire_value, null_is_nil_for_every_type)
{
    golden_t(ty("int"), NULL, CQL_BYTES_NULL, B(0xc0), 1, true);
    golden_t(ty("text"), NULL, CQL_BYTES_NULL, B(0xc0), 1, true);
    golden_t(ty("map<int, text>"), NULL, CQL_BYTES_NULL, B(0xc0), 1, true);
}

Test(wire_value, uuids_are_ext_2_with_16_bytes)
{
    GOLD("uuid", (0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef),
         (0xd8, 0x02, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef));
    GOLD("timeuuid", (0, 0, 0, 0, 0, 0, 0x11, 0, 0x80, 0, 0, 0, 0, 0, 0, 0),
         (0xd8, 0x02, 0, 0, 0, 0, 0, 0, 0x11, 0, 0x80, 0, 0, 0, 0, 0, 0, 0));
}

Test(wire_value, timestamps_use_the_64_bit_form_between_1970_and_2514)
{
    GOLD("timestamp", (0, 0, 0, 0, 0, 0, 0x03, 0xe8), (0xd7, 0xff, 0, 0, 0, 0, 0, 0, 0, 1));
    /* 1500 ms: nanos 500000000 << 34 | 1 */
    GOLD("timestamp", (0, 0, 0, 0, 0, 0, 0x05, 0xdc), (0xd7, 0xff, 0x77, 0x35, 0x94, 0, 0, 0, 0, 1));
    GOLD("timestamp", (0, 0, 0, 0, 0, 0, 0, 0), (0xd7, 0xff, 0, 0, 0, 0, 0, 0, 0, 0));
    /* 2300-01-01T00:00:00Z = 10413792000 s, after int64 nanoseconds end */
    GOLD("timestamp", (0, 0, 0x09, 0x78, 0xa6, 0x5f, 0x78, 0x00),
         (0xd7, 0xff, 0, 0, 0, 0x02, 0x6c, 0xb5, 0xdb, 0x00));
}

Test(wire_value, timestamps_before_1970_and_after_2514_use_the_96_bit_form)
{
    /* -1 ms: seconds -1, nanoseconds 999000000 (0x3b8b87c0) */
    GOLD("timestamp", (0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
         (0xc7, 0x0c, 0xff, 0x3b, 0x8b, 0x87, 0xc0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
    /* 2^34 s exactly = 2^32 * 4000 ms */
    GOLD("timestamp", (0, 0, 0x0f, 0xa0, 0, 0, 0, 0),
         (0xc7, 0x0c, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x04, 0, 0, 0, 0));
    /* INT64_MIN ms still converts: floor division keeps nanos positive */
    mpk_wr_t w;
    mpk_wr_init(&w);
    cql_bytes_t v = {B(0x80, 0, 0, 0, 0, 0, 0, 0), 8};
    cr_assert_eq(wire_value_to_mpk(&w, ty("timestamp"), v), 0);
    cr_assert_eq(w.len, 15);
    mpk_wr_close(&w);
}

Test(wire_value, dates_are_signed_days_since_the_epoch)
{
    GOLD("date", (0x80, 0, 0, 0), (0xd6, 0x05, 0, 0, 0, 0));
    GOLD("date", (0x7f, 0xff, 0xff, 0xff), (0xd6, 0x05, 0xff, 0xff, 0xff, 0xff));
    GOLD("date", (0, 0, 0, 0), (0xd6, 0x05, 0x80, 0, 0, 0));
    GOLD("date", (0xff, 0xff, 0xff, 0xff), (0xd6, 0x05, 0x7f, 0xff, 0xff, 0xff));
}

Test(wire_value, times_are_ext_6_nanoseconds)
{
    GOLD("time", (0, 0, 0, 0, 0, 0, 0, 1), (0xd7, 0x06, 0, 0, 0, 0, 0, 0, 0, 1));
    /* 86399999999999 = 0x4e94914effff */
    GOLD("time", (0, 0, 0x4e, 0x94, 0x91, 0x4e, 0xff, 0xff),
         (0xd7, 0x06, 0, 0, 0x4e, 0x94, 0x91, 0x4e, 0xff, 0xff));
}

Test(wire_value, durations_turn_vints_into_fixed_ext_7)
{
    /* 1mo 2d 3ns: zigzag vints 02 04 06 */
    GOLD("duration", (0x02, 0x04, 0x06),
         (0xd8, 0x07, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3));
    /* -1mo -1d -1ns */
    GOLD("duration", (0x01, 0x01, 0x01),
         (0xd8, 0x07, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0xff));
    /* 0, 0, 200 ns: zigzag 400 = 0x190 -> vint 0x81 0x90 */
    GOLD("duration", (0x00, 0x00, 0x81, 0x90),
         (0xd8, 0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0xc8));
}

Test(wire_value, inets_are_ext_8_of_4_or_16_bytes)
{
    GOLD("inet", (127, 0, 0, 1), (0xd6, 0x08, 127, 0, 0, 1));
    GOLD("inet", (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
         (0xd8, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
}

Test(wire_value, lists_and_sets_are_arrays_with_nulls_as_nil)
{
    GOLD("list<int>", (0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff), (0x92, 0x01, 0xc0));
    GOLD("set<text>", (0, 0, 0, 1, 0, 0, 0, 1, 0x61), (0x91, 0xa1, 0x61));
    GOLD("list<int>", (0, 0, 0, 0), (0x90));
}

Test(wire_value, maps_are_maps_with_any_key_type)
{
    GOLD("map<text, int>", (0, 0, 0, 1, 0, 0, 0, 1, 0x61, 0, 0, 0, 4, 0, 0, 0, 1), (0x81, 0xa1, 0x61, 0x01));
    GOLD("map<int, boolean>", (0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 1, 1), (0x81, 0x07, 0xc3));
}

Test(wire_value, nested_frozen_collections_recurse)
{
    /* list<frozen<map<int, frozen<list<text>>>>>: [{1: ["a"]}] */
    GOLD("list<frozen<map<int, frozen<list<text>>>>>",
         (0, 0, 0, 1,                                  /* one map */
          0, 0, 0, 25,                                 /* its bytes */
          0, 0, 0, 1,                                  /* one pair */
          0, 0, 0, 4, 0, 0, 0, 1,                      /* key 1 */
          0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 1, 0x61),   /* ["a"] */
         (0x91, 0x81, 0x01, 0x91, 0xa1, 0x61));
}

Test(wire_value, tuples_are_arrays_and_missing_components_are_nil)
{
    GOLD("tuple<int, text>", (0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1, 0x78), (0x92, 0x01, 0xa1, 0x78));
    GOLD("tuple<int, text>", (0, 0, 0, 4, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff), (0x92, 0x01, 0xc0));
    /* a tuple value shorter than its type: the rest is nil */
    golden_t(ty("tuple<int, text>"), B(0, 0, 0, 4, 0, 0, 0, 1), 8, B(0x92, 0x01, 0xc0), 3, false);
}

Test(wire_value, udts_are_maps_of_field_names_and_missing_trailing_fields_are_nil)
{
    const cql_type_t *t = address_type();
    golden_t(t, B(0, 0, 0, 1, 0x78, 0, 0, 0, 4, 0, 0, 0, 9), 13,
             B(0x82, 0xa6, 's', 't', 'r', 'e', 'e', 't', 0xa1, 0x78, 0xa3, 'z', 'i', 'p', 0x09), 15, true);
    golden_t(t, B(0, 0, 0, 1, 0x78), 5,
             B(0x82, 0xa6, 's', 't', 'r', 'e', 'e', 't', 0xa1, 0x78, 0xa3, 'z', 'i', 'p', 0xc0), 15, false);
}

/* ---- malformed CQL bytes ---- */

static int to_mpk(const char *type, const uint8_t *p, int32_t n)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    int rc = wire_value_to_mpk(&w, ty(type), (cql_bytes_t){p, n});
    if (rc != 0)
        cr_assert_eq(w.len, 0, "a failed value leaves nothing behind");
    mpk_wr_close(&w);
    return rc;
}

Test(wire_value, scalars_of_the_wrong_size_are_badtype)
{
    cr_assert_eq(to_mpk("int", B(1, 2, 3), 3), CQLMQ_EBADTYPE);
    cr_assert_eq(to_mpk("bigint", B(1, 2, 3, 4), 4), CQLMQ_EBADTYPE);
    cr_assert_eq(to_mpk("boolean", B(1, 1), 2), CQLMQ_EBADTYPE);
    cr_assert_eq(to_mpk("uuid", B(1, 2, 3), 3), CQLMQ_EBADTYPE);
    cr_assert_eq(to_mpk("inet", B(1, 2, 3, 4, 5), 5), CQLMQ_EBADTYPE);
    cr_assert_eq(to_mpk("decimal", B(0, 0, 0, 1), 4), CQLMQ_EBADTYPE);
    cr_assert_eq(to_mpk("date", B(1, 2), 2), CQLMQ_EBADTYPE);
    cr_assert_eq(to_mpk("float", B(1, 2, 3, 4, 5, 6, 7, 8), 8), CQLMQ_EBADTYPE);
}

Test(wire_value, out_of_range_times_and_bad_durations_are_badtype)
{
    cr_assert_eq(to_mpk("time", B(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 8), CQLMQ_EBADTYPE);
    cr_assert_eq(to_mpk("time", B(0, 0, 0x4e, 0x94, 0x91, 0x4f, 0, 0), 8), CQLMQ_EBADTYPE);
    cr_assert_eq(to_mpk("duration", B(0x02, 0x01, 0x00), 3), CQLMQ_EBADTYPE, "mixed signs");
    cr_assert_eq(to_mpk("duration", B(0x02, 0x02), 2), CQLMQ_EBADTYPE, "two vints");
    cr_assert_eq(to_mpk("duration", B(0x02, 0x02, 0x02, 0x02), 4), CQLMQ_EBADTYPE, "four vints");
    cr_assert_eq(to_mpk("duration", B(0x02, 0x02, 0x81), 3), CQLMQ_EBADTYPE, "vint cut short");
    /* months = 2^31 (zigzag 2^32: vint f0 ff ff ff ff... ) */
    cr_assert_eq(to_mpk("duration", B(0xf1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00), 7), CQLMQ_EBADTYPE);
}

Test(wire_value, text_must_be_utf8_and_ascii_must_be_ascii)
{
    cr_assert_eq(to_mpk("text", B(0xc3, 0x28), 2), CQLMQ_EUTF8);
    cr_assert_eq(to_mpk("text", B(0xed, 0xa0, 0x80), 3), CQLMQ_EUTF8, "surrogate");
    cr_assert_eq(to_mpk("ascii", B(0x61, 0xe9), 2), CQLMQ_EBADTYPE);
}

Test(wire_value, broken_collections_are_malformed_not_read_past)
{
    /* count claims 2^31-1 elements in 4 bytes */
    cr_assert_eq(to_mpk("list<int>", B(0x7f, 0xff, 0xff, 0xff), 4), CQLMQ_EMALFORMED);
    cr_assert_eq(to_mpk("list<int>", B(0xff, 0xff, 0xff, 0xff), 4), CQLMQ_EMALFORMED, "negative count");
    /* element length runs past the end */
    cr_assert_eq(to_mpk("list<int>", B(0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 1), 12), CQLMQ_EMALFORMED);
    /* element length below -1 */
    cr_assert_eq(to_mpk("list<int>", B(0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe), 8), CQLMQ_EMALFORMED);
    /* a byte left over */
    cr_assert_eq(to_mpk("list<int>", B(0, 0, 0, 0, 0), 5), CQLMQ_EMALFORMED);
    cr_assert_eq(to_mpk("map<int, int>", B(0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 1), 12), CQLMQ_EMALFORMED);
    cr_assert_eq(to_mpk("tuple<int>", B(0, 0, 0, 4, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff), 12),
                 CQLMQ_EMALFORMED, "more components than the type");
    cr_assert_eq(to_mpk("list<int>", B(0, 0, 0, 1, 0, 0, 0, 3, 1, 2, 3), 11), CQLMQ_EBADTYPE,
                 "a bad element is the element's error");
}

Test(wire_value, nesting_deeper_than_the_bound_is_elimit)
{
    /* list<list<...<int>>> 40 levels deep, built by hand (the parser stops at 32) */
    cql_type_t *t = (cql_type_t *)ty("int");
    for (int i = 0; i < 40; i++) {
        cql_type_t *l = cql_arena_calloc(&arena, 1, sizeof *l);
        l->kind = CQL_TYPE_LIST;
        l->nsub = 1;
        l->sub = cql_arena_calloc(&arena, 1, sizeof *l->sub);
        l->sub[0] = t;
        t = l;
    }
    /* [[[...[1]...]]]: each level one element holding the next */
    cql_wr_t cw;
    cql_wr_init(&cw);
    uint8_t inner[4] = {0, 0, 0, 1};
    uint8_t *cur = inner;
    size_t cur_len = 4;
    for (int i = 0; i < 40; i++) {
        cql_wr_reset(&cw);
        cql_wr_i32(&cw, 1);
        cql_wr_i32(&cw, (int32_t)cur_len);
        cql_wr_raw(&cw, cur, cur_len);
        if (cur != inner)
            free(cur);
        cur = malloc(cw.len);
        memcpy(cur, cw.data, cw.len);
        cur_len = cw.len;
    }
    mpk_wr_t w;
    mpk_wr_init(&w);
    cr_assert_eq(wire_value_to_mpk(&w, t, (cql_bytes_t){cur, (int32_t)cur_len}), CQLMQ_ELIMIT);
    cr_assert_eq(w.len, 0);
    mpk_wr_close(&w);
    cql_wr_close(&cw);
    free(cur);
}

Test(wire_value, a_failed_value_leaves_earlier_output_intact)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_array(&w, 2);
    cr_assert_eq(wire_value_to_mpk(&w, ty("int"), (cql_bytes_t){B(0, 0, 0, 7), 4}), 0);
    cr_assert_eq(wire_value_to_mpk(&w, ty("list<int>"), (cql_bytes_t){B(0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 1, 9), 13}),
                 CQLMQ_EMALFORMED);
    cr_assert_eq(w.len, 2);
    cr_assert_eq(w.data[0], 0x92);
    cr_assert_eq(w.data[1], 0x07);
    mpk_wr_close(&w);
}
