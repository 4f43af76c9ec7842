#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cql_arena.h"
#include "cql_buf.h"

Test(cql_buf, reads_every_fixed_width_notation_big_endian)
{
    const uint8_t in[] = {0x7f, 0x01, 0x02, 0xff, 0xff, 0xff, 0xfe,
                          0x80, 0, 0, 0, 0, 0, 0, 1};
    cql_rd_t r;
    cql_rd_init(&r, in, sizeof(in));
    uint8_t b;
    uint16_t s;
    int32_t i;
    int64_t l;
    cr_assert_eq(cql_rd_u8(&r, &b), 0);
    cr_assert_eq(b, 0x7f);
    cr_assert_eq(cql_rd_u16(&r, &s), 0);
    cr_assert_eq(s, 0x0102);
    cr_assert_eq(cql_rd_i32(&r, &i), 0);
    cr_assert_eq(i, -2);
    cr_assert_eq(cql_rd_i64(&r, &l), 0);
    cr_assert_eq((uint64_t)l, 0x8000000000000001ull);
    cr_assert_eq(cql_rd_left(&r), 0);
    cr_assert_eq(cql_rd_u8(&r, &b), CQLMQ_ETRUNCATED);
}

Test(cql_buf, a_truncated_item_consumes_nothing)
{
    const uint8_t in[] = {0x00, 0x05, 'a', 'b'};
    cql_rd_t r;
    cql_rd_init(&r, in, sizeof(in));
    cql_str_t str;
    cr_assert_eq(cql_rd_string(&r, &str), CQLMQ_ETRUNCATED);
    cr_assert_eq(r.pos, 0);
    const uint8_t in2[] = {0x00, 0x00, 0x00, 0x09, 1};
    cql_rd_init(&r, in2, sizeof(in2));
    cql_bytes_t by;
    cr_assert_eq(cql_rd_bytes(&r, &by), CQLMQ_ETRUNCATED);
    cr_assert_eq(r.pos, 0);
}

Test(cql_buf, value_distinguishes_null_not_set_and_invalid)
{
    const uint8_t nul[] = {0xff, 0xff, 0xff, 0xff};
    const uint8_t unset[] = {0xff, 0xff, 0xff, 0xfe};
    const uint8_t bad[] = {0xff, 0xff, 0xff, 0xfd};
    cql_rd_t r;
    cql_bytes_t v;
    cql_rd_init(&r, nul, 4);
    cr_assert_eq(cql_rd_value(&r, &v), 0);
    cr_assert_eq(v.len, CQL_BYTES_NULL);
    cql_rd_init(&r, unset, 4);
    cr_assert_eq(cql_rd_value(&r, &v), 0);
    cr_assert_eq(v.len, CQL_BYTES_NOT_SET);
    cql_rd_init(&r, bad, 4);
    cr_assert_eq(cql_rd_value(&r, &v), CQLMQ_EMALFORMED);
    /* [bytes] treats every negative length as null. */
    cql_rd_init(&r, bad, 4);
    cr_assert_eq(cql_rd_bytes(&r, &v), 0);
    cr_assert_eq(v.len, CQL_BYTES_NULL);
}

Test(cql_buf, negative_long_string_is_malformed)
{
    const uint8_t in[] = {0x80, 0, 0, 0};
    cql_rd_t r;
    cql_rd_init(&r, in, sizeof(in));
    cql_str_t s;
    cr_assert_eq(cql_rd_long_string(&r, &s), CQLMQ_EMALFORMED);
}

Test(cql_buf, inet_rejects_sizes_other_than_4_and_16)
{
    const uint8_t in[] = {5, 1, 2, 3, 4, 5, 0, 0, 0x23, 0x52};
    cql_rd_t r;
    cql_rd_init(&r, in, sizeof(in));
    cql_inet_t a;
    cr_assert_eq(cql_rd_inet(&r, &a), CQLMQ_EMALFORMED);
    const uint8_t ok[] = {4, 127, 0, 0, 1, 0, 0, 0x23, 0x52};
    cql_rd_init(&r, ok, sizeof(ok));
    cr_assert_eq(cql_rd_inet(&r, &a), 0);
    cr_assert_eq(a.size, 4);
    cr_assert_eq(a.port, 9042);
    cr_assert_eq(a.addr[0], 127);
}

Test(cql_buf, counts_that_the_remaining_bytes_cannot_hold_are_refused)
{
    /* A [short] count of 65535 strings followed by 3 bytes. */
    const uint8_t in[] = {0xff, 0xff, 0, 0, 0};
    cql_rd_t r;
    cql_rd_init(&r, in, sizeof(in));
    uint16_t n;
    cr_assert_eq(cql_rd_count16(&r, 2, &n), CQLMQ_ETRUNCATED);
    cr_assert_eq(r.pos, 0);
    const uint8_t in32[] = {0x0f, 0xff, 0xff, 0xff, 0};
    cql_rd_init(&r, in32, sizeof(in32));
    int32_t m;
    cr_assert_eq(cql_rd_count32(&r, 4, &m), CQLMQ_ETRUNCATED);
    const uint8_t neg[] = {0xff, 0xff, 0xff, 0xff};
    cql_rd_init(&r, neg, sizeof(neg));
    cr_assert_eq(cql_rd_count32(&r, 4, &m), CQLMQ_EMALFORMED);
}

static void roundtrip_uvint(uint64_t v, size_t expect_len)
{
    cql_wr_t w;
    cql_wr_init(&w);
    cql_wr_uvint(&w, v);
    cr_assert_eq(cql_wr_error(&w), 0);
    cr_assert_eq(w.len, expect_len, "uvint %llu took %zu bytes", (unsigned long long)v, w.len);
    cql_rd_t r;
    cql_rd_init(&r, w.data, w.len);
    uint64_t got;
    cr_assert_eq(cql_rd_uvint(&r, &got), 0);
    cr_assert_eq(got, v);
    cr_assert_eq(cql_rd_left(&r), 0);
    cql_wr_close(&w);
}

Test(cql_buf, unsigned_vints_use_cassandras_length_prefix)
{
    roundtrip_uvint(0, 1);
    roundtrip_uvint(127, 1);
    roundtrip_uvint(128, 2);
    roundtrip_uvint((1ull << 14) - 1, 2);
    roundtrip_uvint(1ull << 14, 3);
    roundtrip_uvint((1ull << 56) - 1, 8);
    roundtrip_uvint(1ull << 56, 9);
    roundtrip_uvint(UINT64_MAX, 9);
    /* golden: 300 = 0x012c -> 0x81 0x2c */
    cql_wr_t w;
    cql_wr_init(&w);
    cql_wr_uvint(&w, 300);
    cr_assert_eq(w.len, 2);
    cr_assert_eq(w.data[0], 0x81);
    cr_assert_eq(w.data[1], 0x2c);
    cql_wr_close(&w);
}

Test(cql_buf, signed_vints_zigzag)
{
    const int64_t vals[] = {0, -1, 1, -64, 64, INT64_MIN, INT64_MAX, -1000000};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        cql_wr_t w;
        cql_wr_init(&w);
        cql_wr_vint(&w, vals[i]);
        cql_rd_t r;
        cql_rd_init(&r, w.data, w.len);
        int64_t got;
        cr_assert_eq(cql_rd_vint(&r, &got), 0);
        cr_assert_eq(got, vals[i]);
        cql_wr_close(&w);
    }
    cql_wr_t w;
    cql_wr_init(&w);
    cql_wr_vint(&w, -1); /* zigzag 1 */
    cr_assert_eq(w.len, 1);
    cr_assert_eq(w.data[0], 1);
    cql_wr_close(&w);
}

Test(cql_buf, writer_round_trips_strings_bytes_and_inets)
{
    cql_wr_t w;
    cql_wr_init(&w);
    cql_wr_cstring(&w, "CQL_VERSION");
    cql_wr_long_string(&w, "SELECT 1", 8);
    cql_wr_bytes(&w, (cql_bytes_t){(const uint8_t *)"\x01\x02", 2});
    cql_wr_bytes(&w, (cql_bytes_t){NULL, CQL_BYTES_NOT_SET});
    cql_inet_t a = {.size = 16, .port = 7000};
    a.addr[15] = 1;
    cql_wr_inet(&w, &a);
    cr_assert_eq(cql_wr_error(&w), 0);
    cql_rd_t r;
    cql_rd_init(&r, w.data, w.len);
    cql_str_t s;
    cr_assert_eq(cql_rd_string(&r, &s), 0);
    cr_assert(cql_str_eq(s, "CQL_VERSION"));
    cr_assert_eq(cql_rd_long_string(&r, &s), 0);
    cr_assert(cql_str_eq(s, "SELECT 1"));
    cr_assert_not(cql_str_eq(s, "SELECT"));
    cql_bytes_t b;
    cr_assert_eq(cql_rd_value(&r, &b), 0);
    cr_assert_eq(b.len, 2);
    cr_assert_eq(b.ptr[1], 2);
    cr_assert_eq(cql_rd_value(&r, &b), 0);
    cr_assert_eq(b.len, CQL_BYTES_NOT_SET);
    cql_inet_t got;
    cr_assert_eq(cql_rd_inet(&r, &got), 0);
    cr_assert_eq(got.size, 16);
    cr_assert_eq(got.port, 7000);
    cr_assert_eq(memcmp(got.addr, a.addr, 16), 0);
    cr_assert_eq(cql_rd_left(&r), 0);
    cql_wr_close(&w);
}

Test(cql_buf, writer_error_is_sticky_and_release_returns_null)
{
    cql_wr_t w;
    cql_wr_init(&w);
    char *big = calloc(70000, 1);
    cql_wr_string(&w, big, 70000);
    cr_assert_eq(cql_wr_error(&w), CQLMQ_ERANGE);
    cql_wr_u8(&w, 1);
    size_t len;
    cr_assert_null(cql_wr_release(&w, &len));
    cr_assert_eq(len, 0);
    free(big);
}

Test(cql_buf, patch_overwrites_a_length_prefix)
{
    cql_wr_t w;
    cql_wr_init(&w);
    cql_wr_i32(&w, 0);
    cql_wr_raw(&w, "abc", 3);
    cql_wr_patch_i32(&w, 0, 3);
    cr_assert_eq(cql_load_u32(w.data), 3);
    size_t len;
    uint8_t *p = cql_wr_release(&w, &len);
    cr_assert_eq(len, 7);
    free(p);
}

Test(cql_arena, respects_its_limit_and_alignment)
{
    cql_arena_t a;
    cql_arena_init(&a, 1024);
    void *p = cql_arena_alloc(&a, 1);
    cr_assert_not_null(p);
    cr_assert_eq((uintptr_t)p % 16, 0);
    void *q = cql_arena_alloc(&a, 3);
    cr_assert_eq((uintptr_t)q % 16, 0);
    cr_assert_null(cql_arena_alloc(&a, 2000));
    cr_assert_null(cql_arena_calloc(&a, SIZE_MAX / 2, 4));
    char *s = cql_arena_strndup(&a, "hello", 5);
    cr_assert_str_eq(s, "hello");
    cql_arena_reset(&a);
    cr_assert_eq(a.used, 0);
    cr_assert_not_null(cql_arena_alloc(&a, 1000));
    cql_arena_close(&a);
}

Test(cql_arena, grows_across_chunks_without_limit)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    for (int i = 0; i < 1000; i++) {
        int *p = cql_arena_alloc(&a, 100);
        cr_assert_not_null(p);
        *p = i;
    }
    void *big = cql_arena_alloc(&a, 1 << 20);
    cr_assert_not_null(big);
    cql_arena_close(&a);
}
