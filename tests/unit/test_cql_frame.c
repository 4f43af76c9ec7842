/*
 * Frame headers, the streaming frame decoder and frame writing.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cql_frame.h"

/* A v4 QUERY request header, stream 5, body of 16 bytes (worked out from
 * spec section 2: version, flags, stream [short], opcode, length [int]). */
static const uint8_t query_hdr[] = {0x04, 0x00, 0x00, 0x05, 0x07, 0x00, 0x00, 0x00, 0x10};

Test(cql_frame, header_encodes_to_the_golden_bytes_of_the_spec_layout)
{
    cql_frame_header_t h = {.version = 4, .flags = 0, .stream = 5, .opcode = CQL_OP_QUERY,
                            .length = 16};
    uint8_t out[CQL_HEADER_SIZE];
    cr_assert_eq(cql_frame_header_encode(out, &h), 9);
    cr_assert_arr_eq(out, query_hdr, 9);
}

Test(cql_frame, header_decodes_direction_flags_negative_stream_and_length)
{
    const uint8_t in[] = {0x84, 0x0a, 0xff, 0xff, 0x0c, 0x00, 0x01, 0x00, 0x00};
    cql_frame_header_t h;
    cr_assert_eq(cql_frame_header_decode(in, sizeof(in), &h), 0);
    cr_assert_eq(h.version, 4);
    cr_assert(h.response);
    cr_assert_eq(h.flags, CQL_FLAG_TRACING | CQL_FLAG_WARNING);
    cr_assert_eq(h.stream, -1);
    cr_assert_eq(h.opcode, CQL_OP_EVENT);
    cr_assert_eq(h.length, 65536);
}

Test(cql_frame, header_decode_needs_all_nine_bytes_and_rejects_a_negative_length)
{
    cql_frame_header_t h;
    for (size_t n = 0; n < 9; n++)
        cr_assert_eq(cql_frame_header_decode(query_hdr, n, &h), CQLMQ_ETRUNCATED, "n=%zu", n);
    const uint8_t neg[] = {0x03, 0, 0, 1, 7, 0x80, 0, 0, 0};
    cr_assert_eq(cql_frame_header_decode(neg, 9, &h), CQLMQ_EMALFORMED);
}

Test(cql_frame, an_unsupported_version_still_reports_its_version_and_stream)
{
    cql_frame_header_t h;
    /* v2: 8-byte header, 1-byte stream at offset 2. */
    const uint8_t v2[] = {0x02, 0x00, 0x07, 0x01, 0, 0, 0, 0};
    cr_assert_eq(cql_frame_header_decode(v2, 3, &h), CQLMQ_EBADVERSION);
    cr_assert_eq(h.version, 2);
    cr_assert_eq(h.stream, 7);
    cr_assert_eq(cql_frame_header_decode(v2, 2, &h), CQLMQ_ETRUNCATED);
    /* v5 and the DSE 0x42: 9-byte layout, stream after 4 bytes. */
    const uint8_t v5[] = {0x05, 0x00, 0x01, 0x02, 0x05};
    cr_assert_eq(cql_frame_header_decode(v5, 4, &h), CQLMQ_EBADVERSION);
    cr_assert_eq(h.version, 5);
    cr_assert_eq(h.stream, 0x0102);
    const uint8_t dse[] = {0x42, 0x00, 0x00, 0x09};
    cr_assert_eq(cql_frame_header_decode(dse, 4, &h), CQLMQ_EBADVERSION);
    cr_assert_eq(h.version, 0x42);
    cr_assert_eq(h.stream, 9);
}

Test(cql_frame, opcodes_have_names_and_directions_from_one_table)
{
    cr_assert_str_eq(cql_opcode_name(CQL_OP_QUERY), "QUERY");
    cr_assert_str_eq(cql_opcode_name(CQL_OP_AUTH_SUCCESS), "AUTH_SUCCESS");
    cr_assert_null(cql_opcode_name(0x04));
    cr_assert_null(cql_opcode_name(0x11));
    cr_assert_null(cql_opcode_name(-1));
    cr_assert_eq(cql_opcode_direction(CQL_OP_STARTUP), CQL_DIR_REQUEST);
    cr_assert_eq(cql_opcode_direction(CQL_OP_RESULT), CQL_DIR_RESPONSE);
    cr_assert_eq(cql_opcode_direction(0x04), -1);
}

Test(cql_frame, begin_and_end_write_a_whole_frame_with_its_length_patched)
{
    cql_wr_t w;
    cql_wr_init(&w);
    cql_wr_u8(&w, 0xee); /* something before: offsets must be relative */
    size_t f = cql_frame_begin(&w, 4, CQL_FLAG_TRACING, 300, CQL_OP_RESULT);
    cql_wr_i32(&w, 1);
    cr_assert_eq(cql_frame_end(&w, f), 0);
    const uint8_t want[] = {0xee, 0x84, 0x02, 0x01, 0x2c, 0x08, 0, 0, 0, 4, 0, 0, 0, 1};
    cr_assert_eq(w.len, sizeof(want));
    cr_assert_arr_eq(w.data, want, sizeof(want));
    /* An 8-byte v2 header for answering an old client. */
    cql_wr_reset(&w);
    f = cql_frame_begin(&w, 2, 0, 3, CQL_OP_ERROR);
    cql_wr_i32(&w, 10);
    cr_assert_eq(cql_frame_end(&w, f), 0);
    const uint8_t want2[] = {0x82, 0, 3, 0, 0, 0, 0, 4, 0, 0, 0, 10};
    cr_assert_arr_eq(w.data, want2, sizeof(want2));
    cql_wr_close(&w);
}

/* Three frames back to back: empty body, small body, 5000-byte body. */
static uint8_t *three_frames(size_t *len)
{
    cql_wr_t w;
    cql_wr_init(&w);
    size_t f = cql_frame_begin(&w, 4, 0, 1, CQL_OP_OPTIONS);
    cql_frame_end(&w, f);
    f = cql_frame_begin(&w, 4, 0, 2, CQL_OP_PREPARE);
    cql_wr_long_string(&w, "SELECT 1", 8);
    cql_frame_end(&w, f);
    f = cql_frame_begin(&w, 4, 0, 3, CQL_OP_AUTH_RESPONSE);
    cql_wr_i32(&w, 4996);
    for (int i = 0; i < 4996; i++)
        cql_wr_u8(&w, (uint8_t)i);
    cr_assert_eq(cql_frame_end(&w, f), 0);
    return cql_wr_release(&w, len);
}

static void check_three(const cql_frame_t *fr, int i)
{
    static const uint8_t ops[] = {CQL_OP_OPTIONS, CQL_OP_PREPARE, CQL_OP_AUTH_RESPONSE};
    static const uint32_t lens[] = {0, 12, 5000};
    cr_assert_eq(fr->h.stream, i + 1);
    cr_assert_eq(fr->h.opcode, ops[i]);
    cr_assert_eq(fr->h.length, lens[i]);
    if (i == 1)
        cr_assert_eq(memcmp(fr->body + 4, "SELECT 1", 8), 0);
    if (i == 2)
        for (int k = 0; k < 4996; k++)
            cr_assert_eq(fr->body[4 + k], (uint8_t)k);
}

/* Feeds data in chunks of `step` bytes (0 = varying) and checks the frames. */
static void feed_in_chunks(const uint8_t *data, size_t len, size_t step)
{
    cql_frame_decoder_t d;
    cql_frame_decoder_init(&d, 0);
    int got = 0;
    size_t pos = 0, k = 0;
    while (pos < len) {
        size_t n = step ? step : 1 + (k++ * 7919) % 777;
        if (n > len - pos)
            n = len - pos;
        cql_frame_decoder_feed(&d, data + pos, n);
        pos += n;
        cql_frame_t fr;
        int rc;
        while ((rc = cql_frame_decoder_next(&d, &fr)) == 0) {
            cr_assert_lt(got, 3);
            check_three(&fr, got++);
        }
        cr_assert_eq(rc, CQLMQ_EAGAIN);
    }
    cr_assert_eq(got, 3);
    cr_assert_eq(cql_frame_decoder_pending(&d), 0);
    cql_frame_decoder_close(&d);
}

Test(cql_frame, decoder_accepts_concatenated_frames_one_byte_at_a_time)
{
    size_t len;
    uint8_t *data = three_frames(&len);
    feed_in_chunks(data, len, 1);
    free(data);
}

Test(cql_frame, decoder_accepts_chunks_of_every_size)
{
    size_t len;
    uint8_t *data = three_frames(&len);
    for (size_t step = 2; step < 40; step++)
        feed_in_chunks(data, len, step);
    feed_in_chunks(data, len, 0);
    feed_in_chunks(data, len, len);
    free(data);
}

Test(cql_frame, a_frame_inside_one_chunk_is_yielded_without_copy)
{
    size_t len;
    uint8_t *data = three_frames(&len);
    cql_frame_decoder_t d;
    cql_frame_decoder_init(&d, 0);
    cql_frame_decoder_feed(&d, data, len);
    cql_frame_t fr;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(cql_frame_decoder_next(&d, &fr), 0);
        check_three(&fr, i);
        cr_assert_not(fr.buffered);
        if (fr.h.length)
            cr_assert(fr.body > data && fr.body < data + len);
    }
    cr_assert_eq(cql_frame_decoder_next(&d, &fr), CQLMQ_EAGAIN);
    cr_assert_null(d.buf, "nothing was buffered");
    cql_frame_decoder_close(&d);
    free(data);
}

Test(cql_frame, a_body_spanning_chunks_is_buffered_and_can_be_stolen)
{
    size_t len;
    uint8_t *data = three_frames(&len);
    size_t cut = len - 100; /* inside the 5000-byte body */
    cql_frame_decoder_t d;
    cql_frame_decoder_init(&d, 0);
    cql_frame_t fr;
    cql_frame_decoder_feed(&d, data, cut);
    cr_assert_eq(cql_frame_decoder_next(&d, &fr), 0);
    cr_assert_eq(cql_frame_decoder_next(&d, &fr), 0);
    cr_assert_eq(cql_frame_decoder_next(&d, &fr), CQLMQ_EAGAIN);
    cr_assert_eq(cql_frame_decoder_pending(&d), 9 + 4900);
    cql_frame_decoder_feed(&d, data + cut, len - cut);
    cr_assert_eq(cql_frame_decoder_next(&d, &fr), 0);
    cr_assert(fr.buffered);
    check_three(&fr, 2);
    uint8_t *owned = cql_frame_decoder_steal(&d);
    cr_assert_eq(owned, fr.body);
    cr_assert_null(cql_frame_decoder_steal(&d));
    cr_assert_eq(cql_frame_decoder_next(&d, &fr), CQLMQ_EAGAIN);
    free(owned);
    cql_frame_decoder_close(&d);
    free(data);
}

Test(cql_frame, an_oversize_frame_is_rejected_before_its_body_is_buffered)
{
    size_t len;
    uint8_t *data = three_frames(&len);
    cql_frame_decoder_t d;
    cql_frame_decoder_init(&d, 1024);
    cql_frame_t fr;
    cql_frame_decoder_feed(&d, data, len - 4000);
    cr_assert_eq(cql_frame_decoder_next(&d, &fr), 0);
    cr_assert_eq(cql_frame_decoder_next(&d, &fr), 0);
    cr_assert_eq(cql_frame_decoder_next(&d, &fr), CQLMQ_ETOOBIG);
    cr_assert_eq(fr.h.stream, 3);
    cr_assert_eq(fr.h.length, 5000);
    cr_assert_null(d.buf);
    cr_assert_eq(cql_frame_decoder_next(&d, &fr), CQLMQ_ETOOBIG, "sticky");
    cql_frame_decoder_close(&d);
    free(data);
}

Test(cql_frame, an_oversize_frame_can_be_discarded_and_decoding_goes_on)
{
    size_t len;
    uint8_t *data = three_frames(&len);
    cql_wr_t w; /* the big frame, then a small one */
    cql_wr_init(&w);
    cql_wr_raw(&w, data + 9 + 9 + 12, len - 30);
    cql_wr_raw(&w, data, 9);
    cql_frame_decoder_t d;
    cql_frame_decoder_init(&d, 1024);
    cql_frame_t fr;
    cr_assert_eq(cql_frame_decoder_discard(&d), CQLMQ_ESTATE);
    int toobig = 0, ok = 0;
    for (size_t i = 0; i < w.len; i += 300) {
        cql_frame_decoder_feed(&d, w.data + i, w.len - i < 300 ? w.len - i : 300);
        int rc;
        while ((rc = cql_frame_decoder_next(&d, &fr)) != CQLMQ_EAGAIN) {
            if (rc == CQLMQ_ETOOBIG) {
                toobig++;
                cr_assert_eq(cql_frame_decoder_discard(&d), 0);
            } else {
                cr_assert_eq(rc, 0);
                cr_assert_eq(fr.h.opcode, CQL_OP_OPTIONS);
                ok++;
            }
        }
    }
    cr_assert_eq(toobig, 1);
    cr_assert_eq(ok, 1);
    cql_frame_decoder_close(&d);
    cql_wr_close(&w);
    free(data);
}

Test(cql_frame, decoder_reports_an_unsupported_version_fed_byte_by_byte)
{
    const uint8_t v1[] = {0x01, 0x00, 0x2a, 0x01, 0x00, 0x00, 0x00, 0x16};
    cql_frame_decoder_t d;
    cql_frame_decoder_init(&d, 0);
    cql_frame_t fr;
    int rc = CQLMQ_EAGAIN;
    size_t i = 0;
    for (; i < sizeof(v1) && rc == CQLMQ_EAGAIN; i++) {
        cql_frame_decoder_feed(&d, v1 + i, 1);
        rc = cql_frame_decoder_next(&d, &fr);
    }
    cr_assert_eq(rc, CQLMQ_EBADVERSION);
    cr_assert_eq(i, 3, "known after the stream byte");
    cr_assert_eq(fr.h.version, 1);
    cr_assert_eq(fr.h.stream, 42);
    cql_frame_decoder_close(&d);

    const uint8_t v5[] = {0x05, 0x00, 0x00, 0x07, 0x05, 0, 0, 0, 0};
    cql_frame_decoder_init(&d, 0);
    cql_frame_decoder_feed(&d, v5, sizeof(v5));
    cr_assert_eq(cql_frame_decoder_next(&d, &fr), CQLMQ_EBADVERSION);
    cr_assert_eq(fr.h.version, 5);
    cr_assert_eq(fr.h.stream, 7);
    cr_assert_eq(cql_frame_decoder_set_framing(&d, CQL_FRAMING_V5_SEGMENTS), CQLMQ_EUNSUPPORTED);
    cql_frame_decoder_close(&d);
}

Test(cql_frame, decoder_accepts_a_version_range_set_by_the_caller)
{
    const uint8_t v3[] = {0x03, 0x00, 0x00, 0x01, 0x05, 0, 0, 0, 0};
    cql_frame_decoder_t d;
    cql_frame_decoder_init(&d, 0);
    cql_frame_decoder_set_versions(&d, 4, 4);
    cql_frame_t fr;
    cql_frame_decoder_feed(&d, v3, sizeof(v3));
    cr_assert_eq(cql_frame_decoder_next(&d, &fr), CQLMQ_EBADVERSION);
    cr_assert_eq(fr.h.version, 3);
    cql_frame_decoder_close(&d);
}

Test(cql_frame, a_negative_body_length_is_malformed)
{
    const uint8_t bad[] = {0x04, 0x00, 0x00, 0x01, 0x05, 0xff, 0xff, 0xff, 0xff};
    cql_frame_decoder_t d;
    cql_frame_decoder_init(&d, 0);
    cql_frame_t fr;
    cql_frame_decoder_feed(&d, bad, sizeof(bad));
    cr_assert_eq(cql_frame_decoder_next(&d, &fr), CQLMQ_EMALFORMED);
    cql_frame_decoder_close(&d);
}
