/*
 * Tests of cql_murmur3: every vector of test-node-compat.md section 7, every
 * tail length 0..32 with ASCII and with high (sign-extended) bytes, the
 * INT64_MIN mapping, streaming in pieces, and composite keys.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "cql_murmur3.h"

static int64_t h(const void *p, size_t n) { return cql_murmur3_hash(p, n); }

Test(cql_murmur3, matches_every_vector_of_the_compat_notes)
{
    uint8_t buf[64];
    cr_assert_eq(h("123", 3), INT64_C(-7468325962851647638));
    for (int i = 0; i < 10; i++)
        memcpy(buf + 5 * i, "\x00\xff\x10\xfa\x99", 5);
    cr_assert_eq(h(buf, 50), INT64_C(5837342703291459765));
    memset(buf, 0xfe, 8);
    cr_assert_eq(h(buf, 8), INT64_C(-8927430733708461935));
    memset(buf, 0x10, 8);
    cr_assert_eq(h(buf, 8), INT64_C(1446172840243228796));
    cr_assert_eq(h("9223372036854775807", 19), INT64_C(7162290910810015547));
    cr_assert_eq(h("hello", 5), INT64_C(-3758069500696749310));
    const char *fox = "The quick brown fox jumps over the lazy dog.";
    cr_assert_eq(h(fox, strlen(fox)), INT64_C(-3631792323850337591));
    cr_assert_eq(h("", 0), 0);
    cr_assert_eq(h(NULL, 0), 0);
    cr_assert_eq(h("0123456789", 10), INT64_C(4581940570640870180));
    static const uint8_t composite[] = {0x00, 0x10, 0x43, 0x27, 0x52, 0x9f, 0xb6, 0x45, 0xdd,
                                        0x00, 0xb8, 0x83, 0xec, 0x39, 0xae, 0x44, 0x8b, 0xb8,
                                        0x00, 0x00, 0x04, 0x00, 0x06, 0x6a, 0x6b, 0x00};
    cr_assert_eq(h(composite, sizeof composite), INT64_C(-9223371632693506265));
    cr_assert_eq(cql_murmur3_token("\x00\x00\x00\x01", 4), INT64_C(-4069959284402364209));
    cr_assert_eq(cql_murmur3_token("\x00\x00\x00\x00", 4), INT64_C(-3485513579396041028));
    cr_assert_eq(cql_murmur3_token("\x00\x00\x00\x00\x00\x00\x00\x01", 8),
                 INT64_C(6292367497774912474));
}

/* Computed with python-driver 3.25 (cassandra.murmur3), prefixes of
 * "0123456789abcdefgh". */
static const int64_t ascii_tails[19] = {
    0,
    INT64_C(3083240331115144064),  INT64_C(7250318944307867790),
    INT64_C(-3573335766539617317), INT64_C(1122932861426696788),
    INT64_C(1082240882612060097),  INT64_C(-8592682110383420889),
    INT64_C(1435416519508424614),  INT64_C(-9064053233843489459),
    INT64_C(5484970180828674234),  INT64_C(4581940570640870180),
    INT64_C(5459465340194096681),  INT64_C(7364840649933077671),
    INT64_C(6823790006015202078),  INT64_C(550741065919493914),
    INT64_C(-6472281833689111727), INT64_C(5467490433528156583),
    INT64_C(-8200385122730116642), INT64_C(-4246381367331849496),
};

/* Same, prefixes of the bytes 0x80, 0x81, ... (every tail byte negative). */
static const int64_t high_tails[33] = {
    0,
    INT64_C(-5284281814142962636), INT64_C(3479874077480803178),
    INT64_C(4805209697930042770),  INT64_C(-3443090708941767951),
    INT64_C(5082927503400334641),  INT64_C(2501425557546660757),
    INT64_C(690902581674979450),   INT64_C(-6062263109623760877),
    INT64_C(7770289513489161555),  INT64_C(-7623170703309721106),
    INT64_C(4237241090754518618),  INT64_C(-5351185824061215367),
    INT64_C(255722452590173982),   INT64_C(-3501484581142773634),
    INT64_C(63099782945186636),    INT64_C(7217206371623098675),
    INT64_C(-3616694464407856223), INT64_C(-5426630927970410053),
    INT64_C(-2321390140336213615), INT64_C(4445046086399922156),
    INT64_C(6573721208026541422),  INT64_C(7542982577064699236),
    INT64_C(9144087934241854682),  INT64_C(-8535103944179837470),
    INT64_C(-6273854752894398747), INT64_C(2508067736658357677),
    INT64_C(3048272121591114314),  INT64_C(-5926478496653958546),
    INT64_C(-4393242355911335604), INT64_C(4052339114363354864),
    INT64_C(-9222542793393665168), INT64_C(-61479015959055060),
};

Test(cql_murmur3, covers_every_tail_length_with_ascii_bytes)
{
    const char *s = "0123456789abcdefgh";
    for (size_t n = 0; n <= 18; n++)
        cr_assert_eq(h(s, n), ascii_tails[n], "length %zu", n);
}

Test(cql_murmur3, sign_extends_tail_bytes_like_java)
{
    uint8_t buf[33];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(0x80 + i);
    for (size_t n = 0; n <= 32; n++)
        cr_assert_eq(h(buf, n), high_tails[n], "length %zu", n);
}

Test(cql_murmur3, gives_the_same_hash_when_fed_in_pieces)
{
    uint8_t buf[200];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 37 + 11);
    for (size_t total = 0; total <= sizeof buf; total += 7) {
        int64_t whole = h(buf, total);
        for (size_t step = 1; step <= 17; step += 4) {
            cql_murmur3_t m;
            cql_murmur3_init(&m);
            for (size_t off = 0; off < total; off += step)
                cql_murmur3_update(&m, buf + off, total - off < step ? total - off : step);
            cr_assert_eq(cql_murmur3_final(&m), whole, "total %zu step %zu", total, step);
        }
    }
}

Test(cql_murmur3, token_maps_only_int64_min_to_int64_max)
{
    cr_assert_eq(cql_murmur3_hash_to_token(INT64_MIN), INT64_MAX);
    cr_assert_eq(cql_murmur3_hash_to_token(INT64_MIN + 1), INT64_MIN + 1);
    cr_assert_eq(cql_murmur3_hash_to_token(INT64_MAX), INT64_MAX);
    cr_assert_eq(cql_murmur3_hash_to_token(0), 0);
    cr_assert_eq(cql_murmur3_token("hello", 5), INT64_C(-3758069500696749310));
    cr_assert_eq(cql_murmur3_token("", 0), 0);
}

Test(cql_murmur3, builds_and_hashes_composite_keys)
{
    cql_bytes_t parts[2] = {{(const uint8_t *)"\x00\x00\x00\x01", 4},
                            {(const uint8_t *)"ab", 2}};
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(cql_murmur3_key_build(&w, parts, 2), 0);
    static const uint8_t want[] = {0, 4, 0, 0, 0, 1, 0, 0, 2, 'a', 'b', 0};
    cr_assert_eq(w.len, sizeof want);
    cr_assert_arr_eq(w.data, want, sizeof want);
    int64_t tok;
    cr_assert_eq(cql_murmur3_token_parts(parts, 2, &tok), 0);
    cr_assert_eq(tok, INT64_C(4996121422650625275)); /* python-driver 3.25 */
    cr_assert_eq(tok, cql_murmur3_token(w.data, w.len));
    cql_wr_close(&w);

    /* one component: the bytes themselves, no composite framing */
    cql_wr_init(&w);
    cr_assert_eq(cql_murmur3_key_build(&w, parts, 1), 0);
    cr_assert_eq(w.len, 4);
    cr_assert_eq(cql_murmur3_token_parts(parts, 1, &tok), 0);
    cr_assert_eq(tok, INT64_C(-4069959284402364209));
    cql_wr_close(&w);
}

Test(cql_murmur3, rejects_null_empty_lists_and_oversized_components)
{
    int64_t tok = 42;
    cql_bytes_t null = {NULL, CQL_BYTES_NULL};
    cr_assert_eq(cql_murmur3_token_parts(&null, 1, &tok), CQLMQ_EINVAL);
    cr_assert_eq(cql_murmur3_token_parts(&null, 0, &tok), CQLMQ_EINVAL);
    static uint8_t big[70000];
    cql_bytes_t parts[2] = {{big, 70000}, {big, 1}};
    cr_assert_eq(cql_murmur3_token_parts(parts, 2, &tok), CQLMQ_ERANGE);
    cr_assert_eq(cql_murmur3_token_parts(parts, 1, &tok), 0); /* single: no limit */
    cr_assert_eq(tok, cql_murmur3_token(big, 70000));
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(cql_murmur3_key_build(&w, parts, 2), CQLMQ_ERANGE);
    cr_assert_eq(cql_wr_error(&w), CQLMQ_ERANGE);
    cql_wr_close(&w);
}
