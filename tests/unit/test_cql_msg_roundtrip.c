/*
 * Every opcode of CQL_OPCODE_MAP, v3 and v4: every sample message of
 * test_cql_samples.h, with and without its envelope, is encoded, decoded and encoded again (byte-identical); each encoding is then
 * truncated at every length, extended by a byte, and decoded with a tiny
 * arena, and must fail cleanly.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cql_msg.h"
#include "cql_result.h"
#include "test_cql_samples.h"

/* Encodes sample i (with its envelope or not) for a version; returns the
 * body, which the caller frees, its length and the frame flags it needs. */
static uint8_t *encode_sample(size_t i, bool env, int version, size_t *len, uint8_t *flags)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    cql_sample_msg(&cql_sample_cases[i], env, version, &a, &m);
    cql_wr_t w;
    cql_wr_init(&w);
    int rc = cql_msg_encode(&w, version, &m);
    cr_assert_eq(rc, 0, "%s/%d v%d: %s", cql_opcode_name(m.opcode),
                 cql_sample_cases[i].variant, version, cqlmq_err_name(rc));
    *flags = m.flags;
    cql_arena_close(&a);
    return cql_wr_release(&w, len);
}

/* Every opcode has at least one sample. */
Test(cql_msg_roundtrip, the_samples_cover_every_opcode)
{
#define OP_ROW_(name, code, lname, dir)                                     \
    {                                                                      \
        bool found = false;                                                \
        for (size_t i = 0; i < CQL_NSAMPLES; i++)                          \
            found |= cql_sample_cases[i].opcode == (code);                 \
        cr_assert(found, "no sample of %s", cql_opcode_name(code));       \
    }
    CQL_OPCODE_MAP(OP_ROW_)
#undef OP_ROW_
}

Test(cql_msg_roundtrip, every_opcode_round_trips_byte_for_byte_in_v3_and_v4)
{
    for (int version = 3; version <= 4; version++)
        for (size_t i = 0; i < CQL_NSAMPLES; i++)
            for (int env = 0; env < 2; env++) {
                int op = cql_sample_cases[i].opcode;
                size_t len;
                uint8_t flags;
                uint8_t *body = encode_sample(i, env, version, &len, &flags);
                cql_arena_t a;
                cql_arena_init(&a, 0);
                cql_msg_t m;
                int rc = cql_msg_decode(version, (uint8_t)op, flags, body, len, &a, &m);
                cr_assert_eq(rc, 0, "%s v%d: %s", cql_opcode_name(op), version,
                             cqlmq_err_name(rc));
                cr_assert_eq(m.opcode, op);
                cql_wr_t w;
                cql_wr_init(&w);
                cr_assert_eq(cql_msg_encode(&w, version, &m), 0);
                cr_assert_eq(w.len, len, "%s v%d", cql_opcode_name(op), version);
                cr_assert(len == 0 || memcmp(w.data, body, len) == 0, "%s v%d",
                          cql_opcode_name(op), version);
                cql_wr_close(&w);
                cql_arena_close(&a);
                free(body);
            }
}

/* Decodes body (and walks rows); returns the first error or 0. */
static int decode_all(int version, int op, uint8_t flags, const uint8_t *body, size_t len,
                      cql_arena_t *a)
{
    cql_msg_t m;
    int rc = cql_msg_decode(version, (uint8_t)op, flags, body, len, a, &m);
    if (rc == 0 && op == CQL_OP_RESULT && m.u.result.kind == CQL_RESULT_ROWS)
        rc = cql_rows_validate(&m.u.result.u.rows);
    return rc;
}

Test(cql_msg_roundtrip, every_truncation_of_every_sample_is_an_error)
{
    for (int version = 3; version <= 4; version++)
        for (size_t i = 0; i < CQL_NSAMPLES; i++)
            for (int env = 0; env < 2; env++) {
                int op = cql_sample_cases[i].opcode;
                size_t len;
                uint8_t flags;
                uint8_t *body = encode_sample(i, env, version, &len, &flags);
                for (size_t n = 0; n < len; n++) {
                    /* A private copy of the prefix, so ASan sees any overread. */
                    uint8_t *copy = malloc(n ? n : 1);
                    memcpy(copy, body, n);
                    cql_arena_t a;
                    cql_arena_init(&a, 0);
                    int rc = decode_all(version, op, flags, copy, n, &a);
                    cr_assert(rc == CQLMQ_ETRUNCATED || rc == CQLMQ_EMALFORMED,
                              "%s v%d cut at %zu/%zu: %s", cql_opcode_name(op), version, n, len,
                              cqlmq_err_name(rc));
                    cql_arena_close(&a);
                    free(copy);
                }
                free(body);
            }
}

Test(cql_msg_roundtrip, a_byte_after_any_message_is_trailing_but_the_message_is_kept)
{
    for (size_t i = 0; i < CQL_NSAMPLES; i++) {
        int op = cql_sample_cases[i].opcode;
        size_t len;
        uint8_t flags;
        uint8_t *body = encode_sample(i, false, 4, &len, &flags);
        uint8_t *more = malloc(len + 1);
        if (len)
            memcpy(more, body, len);
        more[len] = 0x5a;
        cql_arena_t a;
        cql_arena_init(&a, 0);
        cql_msg_t m;
        int rc = cql_msg_decode(4, (uint8_t)op, flags, more, len + 1, &a, &m);
        if (op == CQL_OP_RESULT && m.u.result.kind == CQL_RESULT_ROWS)
            rc = cql_rows_validate(&m.u.result.u.rows);
        cr_assert_eq(rc, CQLMQ_ETRAILING, "%s: %s", cql_opcode_name(op), cqlmq_err_name(rc));
        cql_wr_t w;
        cql_wr_init(&w);
        cr_assert_eq(cql_msg_encode(&w, 4, &m), 0);
        /* Rows are read lazily: the byte stays in the unread row content
         * (cql_rows_validate said ETRAILING above) and re-encodes with it. */
        bool rows = op == CQL_OP_RESULT && m.u.result.kind == CQL_RESULT_ROWS;
        cr_assert_eq(w.len, rows ? len + 1 : len, "%s/%d", cql_opcode_name(op),
                     cql_sample_cases[i].variant);
        cr_assert(len == 0 || memcmp(w.data, body, len) == 0);
        cql_wr_close(&w);
        cql_arena_close(&a);
        free(more);
        free(body);
    }
}

Test(cql_msg_roundtrip, a_tiny_arena_makes_decoding_fail_with_enomem_not_crash)
{
    for (size_t i = 0; i < CQL_NSAMPLES; i++)
        for (int env = 0; env < 2; env++) {
            int op = cql_sample_cases[i].opcode;
            size_t len;
            uint8_t flags;
            uint8_t *body = encode_sample(i, env, 4, &len, &flags);
            bool saw_enomem = false;
            for (size_t limit = 1; limit < 2048; limit += 16) {
                cql_arena_t a;
                cql_arena_init(&a, limit);
                int rc = decode_all(4, op, flags, body, len, &a);
                cr_assert(rc == 0 || rc == CQLMQ_ENOMEM, "%s limit %zu: %s", cql_opcode_name(op),
                          limit, cqlmq_err_name(rc));
                saw_enomem |= rc == CQLMQ_ENOMEM;
                cql_arena_close(&a);
            }
            cql_arena_t a;
            cql_arena_init(&a, 1);
            bool allocates = decode_all(4, op, flags, body, len, &a) == CQLMQ_ENOMEM;
            cr_assert_eq(saw_enomem, allocates);
            cql_arena_close(&a);
            free(body);
        }
}

Test(cql_msg_roundtrip, a_whole_frame_goes_through_writer_decoder_and_back)
{
    cql_wr_t w;
    cql_wr_init(&w);
    for (size_t i = 0; i < CQL_NSAMPLES; i++) {
        cql_arena_t a;
        cql_arena_init(&a, 0);
        cql_msg_t m;
        cql_sample_msg(&cql_sample_cases[i], true, 4, &a, &m);
        cr_assert_eq(cql_frame_write(&w, 4, (int16_t)i, &m), 0);
        cql_arena_close(&a);
    }
    cql_frame_decoder_t d;
    cql_frame_decoder_init(&d, 0);
    cql_frame_decoder_feed(&d, w.data, w.len);
    cql_frame_t f;
    for (size_t i = 0; i < CQL_NSAMPLES; i++) {
        int op = cql_sample_cases[i].opcode;
        cr_assert_eq(cql_frame_decoder_next(&d, &f), 0);
        cr_assert_eq(f.h.stream, (int16_t)i);
        cr_assert_eq(f.h.response, cql_opcode_direction(op) == CQL_DIR_RESPONSE);
        cql_arena_t a;
        cql_arena_init(&a, 0);
        cql_msg_t m;
        cr_assert_eq(cql_msg_decode_frame(&f, &a, &m), 0, "%s", cql_opcode_name(op));
        cr_assert_eq(m.opcode, op);
        cql_arena_close(&a);
    }
    cr_assert_eq(cql_frame_decoder_next(&d, &f), CQLMQ_EAGAIN);
    cql_frame_decoder_close(&d);
    cql_wr_close(&w);
}

Test(cql_msg_roundtrip, bad_versions_opcodes_and_compression_are_refused)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    cr_assert_eq(cql_msg_decode(2, CQL_OP_READY, 0, NULL, 0, &a, &m), CQLMQ_EBADVERSION);
    cr_assert_eq(cql_msg_decode(5, CQL_OP_READY, 0, NULL, 0, &a, &m), CQLMQ_EBADVERSION);
    cr_assert_eq(cql_msg_decode(4, 0x04, 0, NULL, 0, &a, &m), CQLMQ_EBADOPCODE);
    cr_assert_eq(cql_msg_decode(4, 0x11, 0, NULL, 0, &a, &m), CQLMQ_EBADOPCODE);
    cr_assert_eq(cql_msg_decode(4, CQL_OP_READY, CQL_FLAG_COMPRESSION, NULL, 0, &a, &m),
                 CQLMQ_EUNSUPPORTED);
    cr_assert_eq(cql_msg_decode(4, CQL_OP_READY, CQL_FLAG_BETA, NULL, 0, &a, &m), 0);
    cql_wr_t w;
    cql_wr_init(&w);
    memset(&m, 0, sizeof(m));
    m.opcode = 0x04;
    cr_assert_eq(cql_msg_encode(&w, 4, &m), CQLMQ_EBADOPCODE);
    m.opcode = CQL_OP_READY;
    cr_assert_eq(cql_frame_write(&w, 1, 0, &m), CQLMQ_EBADVERSION);
    m.flags = CQL_FLAG_COMPRESSION;
    cr_assert_eq(cql_frame_write(&w, 4, 0, &m), CQLMQ_EUNSUPPORTED);
    cr_assert_eq(w.len, 0, "nothing left behind");
    cql_wr_close(&w);
    cql_arena_close(&a);
}
