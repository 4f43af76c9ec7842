/*
 * Tests for the bounded msgpack reader and the writer (protocol/wire/mpk.h):
 * smallest-form encodings checked byte for byte, interoperability with
 * msgpack-c in both directions, and hostile input (size bombs, truncation at
 * every byte, reserved bytes, deep nesting).
 */
#include <criterion/criterion.h>
#include <msgpack.h>
#include <stdlib.h>

#include "mpk.h"

static void expect_bytes(const mpk_wr_t *w, const char *hex)
{
    size_t n = strlen(hex) / 2;
    cr_assert_eq(w->len, n, "length %zu, expected %zu", w->len, n);
    for (size_t i = 0; i < n; i++) {
        unsigned b;
        sscanf(hex + 2 * i, "%2x", &b);
        cr_assert_eq(w->data[i], b, "byte %zu: %02x, expected %02x", i, w->data[i], b);
    }
}

#define ENC(call, hex)       \
    do {                     \
        mpk_wr_reset(&w);    \
        call;                \
        expect_bytes(&w, hex); \
    } while (0)

Test(wire_mpk, writer_uses_the_smallest_integer_form)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    ENC(mpk_wr_uint(&w, 0), "00");
    ENC(mpk_wr_uint(&w, 127), "7f");
    ENC(mpk_wr_uint(&w, 128), "cc80");
    ENC(mpk_wr_uint(&w, 256), "cd0100");
    ENC(mpk_wr_uint(&w, 65536), "ce00010000");
    ENC(mpk_wr_uint(&w, 1ull << 32), "cf0000000100000000");
    ENC(mpk_wr_int(&w, -1), "ff");
    ENC(mpk_wr_int(&w, -32), "e0");
    ENC(mpk_wr_int(&w, -33), "d0df");
    ENC(mpk_wr_int(&w, -129), "d1ff7f");
    ENC(mpk_wr_int(&w, INT32_MIN), "d280000000");
    ENC(mpk_wr_int(&w, INT64_MIN), "d38000000000000000");
    ENC(mpk_wr_int(&w, 5), "05");
    mpk_wr_close(&w);
}

Test(wire_mpk, writer_encodes_headers_and_scalars)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    ENC(mpk_wr_nil(&w), "c0");
    ENC(mpk_wr_bool(&w, true), "c3");
    ENC(mpk_wr_cstr(&w, "ab"), "a26162");
    ENC(mpk_wr_str_hdr(&w, 32), "d920");
    ENC(mpk_wr_bin(&w, "\x01", 1), "c40101");
    ENC(mpk_wr_ext(&w, 2, "\x01\x02\x03\x04", 4), "d60201020304");
    ENC(mpk_wr_ext_hdr(&w, -1, 12), "c70cff");
    ENC(mpk_wr_array(&w, 3), "93");
    ENC(mpk_wr_array(&w, 16), "dc0010");
    ENC(mpk_wr_map(&w, 70000), "df00011170");
    ENC(mpk_wr_f64(&w, 1.5), "cb3ff8000000000000");
    ENC(mpk_wr_f32(&w, 1.5f), "ca3fc00000");
    mpk_wr_close(&w);
}

Test(wire_mpk, release_hands_over_the_encoded_buffer_without_copy)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_cstr(&w, "hello");
    const uint8_t *before = w.data;
    size_t len;
    uint8_t *buf = mpk_wr_release(&w, &len);
    cr_assert_eq(buf, before);
    cr_assert_eq(len, 6);
    cr_assert_null(w.data);
    mpk_free_cb(buf, NULL);
}

Test(wire_mpk, release_of_a_failed_writer_returns_null)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_uint(&w, 1);
    w.err = CQLMQ_ENOMEM;
    size_t len = 99;
    cr_assert_null(mpk_wr_release(&w, &len));
    cr_assert_eq(len, 0);
}

Test(wire_mpk, msgpack_c_decodes_what_the_writer_encodes)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_map(&w, 3);
    mpk_wr_cstr(&w, "n");
    mpk_wr_int(&w, -300000);
    mpk_wr_cstr(&w, "s");
    mpk_wr_str(&w, "xyz", 3);
    mpk_wr_cstr(&w, "a");
    mpk_wr_array(&w, 2);
    mpk_wr_uint(&w, UINT64_MAX);
    mpk_wr_f64(&w, -2.25);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    cr_assert_eq(msgpack_unpack_next(&u, (const char *)w.data, w.len, &off),
                 MSGPACK_UNPACK_SUCCESS);
    cr_assert_eq(off, w.len);
    msgpack_object m = u.data;
    cr_assert_eq(m.type, MSGPACK_OBJECT_MAP);
    cr_assert_eq(m.via.map.size, 3);
    cr_assert_eq(m.via.map.ptr[0].val.via.i64, -300000);
    cr_assert_eq(m.via.map.ptr[1].val.via.str.size, 3);
    cr_assert_eq(m.via.map.ptr[2].val.via.array.ptr[0].via.u64, UINT64_MAX);
    cr_assert_float_eq(m.via.map.ptr[2].val.via.array.ptr[1].via.f64, -2.25, 0);
    msgpack_unpacked_destroy(&u);
    mpk_wr_close(&w);
}

Test(wire_mpk, reader_decodes_what_msgpack_c_encodes)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 6);
    msgpack_pack_int64(&pk, INT64_MIN);
    msgpack_pack_uint64(&pk, 40000);
    msgpack_pack_float(&pk, 0.5f);
    msgpack_pack_bin(&pk, 3);
    msgpack_pack_bin_body(&pk, "\0\1\2", 3);
    msgpack_pack_ext(&pk, 5, 9);
    msgpack_pack_ext_body(&pk, "\x01\x02\x03\x04\x05", 5);
    msgpack_pack_true(&pk);

    mpk_rd_t r;
    uint32_t n;
    int64_t i;
    uint32_t u;
    double d;
    mpk_bin_t b;
    mpk_ext_t e;
    bool t;
    mpk_rd_init(&r, sb.data, sb.size);
    cr_assert_eq(mpk_rd_array(&r, &n), 0);
    cr_assert_eq(n, 6);
    cr_assert_eq(mpk_rd_int(&r, &i), 0);
    cr_assert_eq(i, INT64_MIN);
    cr_assert_eq(mpk_rd_u32(&r, &u), 0);
    cr_assert_eq(u, 40000);
    cr_assert_eq(mpk_rd_f64(&r, &d), 0);
    cr_assert_float_eq(d, 0.5, 0);
    cr_assert_eq(mpk_rd_bin(&r, &b), 0);
    cr_assert_eq(b.len, 3);
    cr_assert_eq(b.ptr[2], 2);
    cr_assert_eq(mpk_rd_ext(&r, &e), 0);
    cr_assert_eq(e.type, 9);
    cr_assert_eq(e.len, 5);
    cr_assert_eq(mpk_rd_bool(&r, &t), 0);
    cr_assert(t);
    cr_assert(mpk_rd_done(&r));
    msgpack_sbuffer_destroy(&sb);
}

Test(wire_mpk, array_header_claiming_250_million_items_is_an_error)
{
    static const uint8_t bomb[] = {0xdd, 0x0e, 0xe6, 0xb2, 0x80}; /* 250,000,000 */
    mpk_rd_t r;
    uint32_t n = 7;
    mpk_rd_init(&r, bomb, sizeof bomb);
    cr_assert_eq(mpk_rd_array(&r, &n), CQLMQ_ETRUNCATED);
    cr_assert_eq(n, 7, "nothing returned");
    cr_assert_eq(r.pos, 0, "nothing consumed");
    cr_assert_eq(mpk_rd_skip(&r), CQLMQ_ETRUNCATED);
    static const uint8_t map_bomb[] = {0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02};
    mpk_rd_init(&r, map_bomb, sizeof map_bomb);
    cr_assert_eq(mpk_rd_map(&r, &n), CQLMQ_ETRUNCATED);
    static const uint8_t str_bomb[] = {0xdb, 0x7f, 0xff, 0xff, 0xff, 'a'};
    mpk_str_t s;
    mpk_rd_init(&r, str_bomb, sizeof str_bomb);
    cr_assert_eq(mpk_rd_str(&r, &s), CQLMQ_ETRUNCATED);
}

Test(wire_mpk, counts_are_checked_against_the_remaining_bytes)
{
    /* map of 2 pairs needs 4 bytes after the header: 3 is not enough. */
    static const uint8_t m3[] = {0x82, 0x01, 0x02, 0x03};
    static const uint8_t m4[] = {0x82, 0x01, 0x02, 0x03, 0x04};
    mpk_rd_t r;
    uint32_t n;
    mpk_rd_init(&r, m3, sizeof m3);
    cr_assert_eq(mpk_rd_map(&r, &n), CQLMQ_ETRUNCATED);
    mpk_rd_init(&r, m4, sizeof m4);
    cr_assert_eq(mpk_rd_map(&r, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(mpk_rd_need(&r, 4, 1), 0);
    cr_assert_eq(mpk_rd_need(&r, 5, 1), CQLMQ_ETRUNCATED);
    cr_assert_eq(mpk_rd_need(&r, UINT64_MAX, 8), CQLMQ_ETRUNCATED);
}

Test(wire_mpk, every_truncation_of_a_valid_value_fails_cleanly)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_map(&w, 2);
    mpk_wr_cstr(&w, "k");
    mpk_wr_array(&w, 3);
    mpk_wr_int(&w, -1000000);
    mpk_wr_str(&w, "a longer string of text, more than 31 bytes", 43);
    mpk_wr_ext(&w, -1, "12345678", 8);
    mpk_wr_uint(&w, 1);
    mpk_wr_f64(&w, 3.0);
    for (size_t cut = 0; cut < w.len; cut++) {
        mpk_rd_t r;
        mpk_rd_init(&r, w.data, cut);
        cr_assert_eq(mpk_rd_skip(&r), CQLMQ_ETRUNCATED, "cut at %zu", cut);
        cr_assert_eq(r.pos, 0);
        size_t len;
        cr_assert_eq(mpk_frame(w.data, cut, 1024, &len), CQLMQ_ETRUNCATED);
    }
    size_t len;
    cr_assert_eq(mpk_frame(w.data, w.len, 1024, &len), 0);
    cr_assert_eq(len, w.len);
    cr_assert_eq(mpk_frame(w.data, w.len, w.len - 1, &len), CQLMQ_ETOOBIG);
    mpk_wr_close(&w);
}

Test(wire_mpk, reserved_byte_and_wrong_types_are_rejected_without_consuming)
{
    static const uint8_t c1[] = {0xc1};
    static const uint8_t s[] = {0xa1, 'x'};
    mpk_rd_t r;
    mpk_type_t t;
    int64_t i;
    mpk_rd_init(&r, c1, 1);
    cr_assert_eq(mpk_rd_peek(&r, &t), CQLMQ_EMALFORMED);
    cr_assert_eq(mpk_rd_skip(&r), CQLMQ_EMALFORMED);
    mpk_rd_init(&r, s, sizeof s);
    cr_assert_eq(mpk_rd_int(&r, &i), CQLMQ_EBADTYPE);
    cr_assert_eq(mpk_rd_nil(&r), CQLMQ_EBADTYPE);
    cr_assert_not(mpk_rd_try_nil(&r));
    cr_assert_eq(r.pos, 0);
    cr_assert_eq(mpk_rd_peek(&r, &t), 0);
    cr_assert_eq(t, MPK_STR);
}

Test(wire_mpk, integers_that_do_not_fit_are_range_errors)
{
    static const uint8_t big[] = {0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t neg[] = {0xff};
    static const uint8_t i33[] = {0xce, 0x80, 0x00, 0x00, 0x00};
    mpk_rd_t r;
    int64_t i;
    uint64_t u;
    int32_t i32;
    uint32_t u32;
    mpk_rd_init(&r, big, sizeof big);
    cr_assert_eq(mpk_rd_int(&r, &i), CQLMQ_ERANGE);
    cr_assert_eq(mpk_rd_uint(&r, &u), 0);
    cr_assert_eq(u, UINT64_MAX);
    mpk_rd_init(&r, neg, 1);
    cr_assert_eq(mpk_rd_uint(&r, &u), CQLMQ_ERANGE);
    cr_assert_eq(mpk_rd_u32(&r, &u32), CQLMQ_ERANGE);
    cr_assert_eq(mpk_rd_i32(&r, &i32), 0);
    cr_assert_eq(i32, -1);
    mpk_rd_init(&r, i33, sizeof i33);
    cr_assert_eq(mpk_rd_i32(&r, &i32), CQLMQ_ERANGE);
    cr_assert_eq(r.pos, 0);
    cr_assert_eq(mpk_rd_u32(&r, &u32), 0);
    cr_assert_eq(u32, 0x80000000u);
}

Test(wire_mpk, skip_enforces_the_depth_limit)
{
    uint8_t buf[MPK_MAX_DEPTH + 2];
    memset(buf, 0x91, sizeof buf); /* [[[[...]]]] */
    buf[MPK_MAX_DEPTH] = 0x01;     /* 64 arrays deep, then an int */
    mpk_rd_t r;
    mpk_rd_init(&r, buf, MPK_MAX_DEPTH + 1);
    cr_assert_eq(mpk_rd_skip(&r), 0);
    cr_assert_eq(r.pos, MPK_MAX_DEPTH + 1);
    buf[MPK_MAX_DEPTH] = 0x91;
    buf[MPK_MAX_DEPTH + 1] = 0x01; /* 65 deep */
    mpk_rd_init(&r, buf, sizeof buf);
    cr_assert_eq(mpk_rd_skip(&r), CQLMQ_ELIMIT);
    cr_assert_eq(r.pos, 0);
}

Test(wire_mpk, raw_returns_the_bytes_of_one_whole_value)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_array(&w, 2);
    mpk_wr_map(&w, 1);
    mpk_wr_cstr(&w, "a");
    mpk_wr_nil(&w);
    mpk_wr_bin(&w, "zz", 2);
    size_t first = w.len;
    mpk_wr_uint(&w, 9);
    mpk_rd_t r;
    mpk_raw_t raw;
    mpk_rd_init(&r, w.data, w.len);
    cr_assert_eq(mpk_rd_raw(&r, &raw), 0);
    cr_assert_eq(raw.ptr, w.data);
    cr_assert_eq(raw.len, first);
    uint64_t u;
    cr_assert_eq(mpk_rd_uint(&r, &u), 0);
    cr_assert_eq(u, 9);
    mpk_wr_close(&w);
}

Test(wire_mpk, any_reports_items_and_headers)
{
    static const uint8_t in[] = {0x92, 0xc0, 0xd6, 0xff, 0, 0, 0, 1};
    mpk_rd_t r;
    mpk_obj_t o;
    mpk_rd_init(&r, in, sizeof in);
    cr_assert_eq(mpk_rd_any(&r, &o), 0);
    cr_assert_eq(o.type, MPK_ARRAY);
    cr_assert_eq(o.v.count, 2);
    cr_assert_eq(mpk_rd_any(&r, &o), 0);
    cr_assert_eq(o.type, MPK_NIL);
    cr_assert_eq(mpk_rd_any(&r, &o), 0);
    cr_assert_eq(o.type, MPK_EXT);
    cr_assert_eq(o.v.ext.type, -1);
    cr_assert_eq(o.v.ext.len, 4);
    cr_assert(mpk_rd_done(&r));
    cr_assert_eq(mpk_rd_any(&r, &o), CQLMQ_ETRUNCATED);
}
