/*
 * Tests for the MPK_SCHEMA facility: one declaration gives a struct, a map
 * and a compact encoder, a decoder that accepts both, and a name; the
 * decoder rejects missing required fields, duplicates, wrong types and
 * truncations, and skips what it does not know.
 */
#include <criterion/criterion.h>

#include "mpk.h"

#define QUERY_FIELDS(F, T)           \
    F(T, id, UINT, MPK_REQ)          \
    F(T, cql, STR, MPK_REQ)          \
    F(T, page_rows, I32, MPK_OPT)    \
    F(T, stream, BOOL, MPK_OPT)      \
    F(T, params, RAW, MPK_OPT)       \
    F(T, ratio, F64, MPK_OPT)        \
    F(T, token, BIN, MPK_OPT)        \
    F(T, uuid, EXT, MPK_OPT)         \
    F(T, delta, INT, MPK_OPT)        \
    F(T, small, U32, MPK_OPT)
MPK_SCHEMA(query, QUERY_FIELDS)

static query_t sample(void)
{
    static const uint8_t uuid[16] = {1, 2, 3};
    static const uint8_t params[] = {0x92, 0x01, 0xa1, 'x'}; /* [1,"x"] */
    query_t q = {0};
    q.id = 42;
    q.cql = mpk_cstr("SELECT * FROM t");
    q.page_rows = 5000;
    q.stream = true;
    q.params = (mpk_raw_t){params, sizeof params};
    q.uuid = (mpk_ext_t){2, uuid, 16};
    q.delta = -7;
    MPK_SET(&q, query, page_rows);
    MPK_SET(&q, query, stream);
    MPK_SET(&q, query, params);
    MPK_SET(&q, query, uuid);
    MPK_SET(&q, query, delta);
    return q;
}

static void check_sample(const query_t *d)
{
    cr_assert_eq(d->id, 42);
    cr_assert(mpk_str_eq(d->cql, "SELECT * FROM t"));
    cr_assert(MPK_HAS(d, query, page_rows));
    cr_assert_eq(d->page_rows, 5000);
    cr_assert(MPK_HAS(d, query, stream) && d->stream);
    cr_assert(MPK_HAS(d, query, params));
    cr_assert_eq(d->params.len, 4);
    cr_assert_eq(d->uuid.type, 2);
    cr_assert_eq(d->uuid.len, 16);
    cr_assert_eq(d->delta, -7);
    cr_assert_not(MPK_HAS(d, query, ratio));
    cr_assert_not(MPK_HAS(d, query, token));
    cr_assert_not(MPK_HAS(d, query, small));
}

Test(wire_mpk_schema, map_form_round_trips)
{
    query_t q = sample(), d;
    mpk_wr_t w;
    mpk_rd_t r;
    mpk_wr_init(&w);
    cr_assert_eq(query_encode(&w, &q), 0);
    mpk_rd_init(&r, w.data, w.len);
    cr_assert_eq(query_decode(&r, &d), 0);
    cr_assert(mpk_rd_done(&r));
    check_sample(&d);
    cr_assert_str_eq(query_name(), "query");
    cr_assert_eq(query_schema()->nfields, 10);
    mpk_wr_close(&w);
}

Test(wire_mpk_schema, compact_form_round_trips_and_is_smaller)
{
    query_t q = sample(), d;
    mpk_wr_t w1, w2;
    mpk_rd_t r;
    mpk_wr_init(&w1);
    mpk_wr_init(&w2);
    query_encode(&w1, &q);
    cr_assert_eq(query_encode_compact(&w2, &q), 0);
    cr_assert_lt(w2.len, w1.len);
    cr_assert_eq(w2.data[0], 0x9a, "an array of 10");
    mpk_rd_init(&r, w2.data, w2.len);
    cr_assert_eq(query_decode(&r, &d), 0);
    check_sample(&d);
    mpk_wr_close(&w1);
    mpk_wr_close(&w2);
}

Test(wire_mpk_schema, unknown_keys_are_skipped)
{
    mpk_wr_t w;
    mpk_rd_t r;
    query_t d;
    mpk_wr_init(&w);
    mpk_wr_map(&w, 4);
    mpk_wr_cstr(&w, "future");
    mpk_wr_map(&w, 1);
    mpk_wr_cstr(&w, "x");
    mpk_wr_array(&w, 0);
    mpk_wr_cstr(&w, "cql");
    mpk_wr_cstr(&w, "SELECT 1");
    mpk_wr_uint(&w, 17); /* an integer key: ignored */
    mpk_wr_nil(&w);
    mpk_wr_cstr(&w, "id");
    mpk_wr_uint(&w, 3);
    mpk_rd_init(&r, w.data, w.len);
    cr_assert_eq(query_decode(&r, &d), 0);
    cr_assert_eq(d.id, 3);
    cr_assert(mpk_str_eq(d.cql, "SELECT 1"));
    cr_assert_eq(d.present, (1u << query_F_id) | (1u << query_F_cql));
    mpk_wr_close(&w);
}

Test(wire_mpk_schema, missing_required_field_is_malformed)
{
    mpk_wr_t w;
    mpk_rd_t r;
    query_t d;
    mpk_wr_init(&w);
    mpk_wr_map(&w, 1);
    mpk_wr_cstr(&w, "id");
    mpk_wr_uint(&w, 3);
    mpk_rd_init(&r, w.data, w.len);
    cr_assert_eq(query_decode(&r, &d), CQLMQ_EMALFORMED);
    mpk_wr_reset(&w);
    mpk_wr_array(&w, 2);
    mpk_wr_uint(&w, 3);
    mpk_wr_nil(&w); /* required cql as nil */
    mpk_rd_init(&r, w.data, w.len);
    cr_assert_eq(query_decode(&r, &d), CQLMQ_EMALFORMED);
    mpk_wr_close(&w);
}

Test(wire_mpk_schema, duplicate_key_is_malformed)
{
    mpk_wr_t w;
    mpk_rd_t r;
    query_t d;
    mpk_wr_init(&w);
    mpk_wr_map(&w, 3);
    mpk_wr_cstr(&w, "id");
    mpk_wr_uint(&w, 1);
    mpk_wr_cstr(&w, "cql");
    mpk_wr_cstr(&w, "x");
    mpk_wr_cstr(&w, "id");
    mpk_wr_uint(&w, 2);
    mpk_rd_init(&r, w.data, w.len);
    cr_assert_eq(query_decode(&r, &d), CQLMQ_EMALFORMED);
    mpk_wr_close(&w);
}

Test(wire_mpk_schema, wrong_types_and_ranges_are_reported)
{
    mpk_wr_t w;
    mpk_rd_t r;
    query_t d;
    mpk_wr_init(&w);
    mpk_wr_map(&w, 2);
    mpk_wr_cstr(&w, "id");
    mpk_wr_cstr(&w, "not a number");
    mpk_wr_cstr(&w, "cql");
    mpk_wr_cstr(&w, "x");
    mpk_rd_init(&r, w.data, w.len);
    cr_assert_eq(query_decode(&r, &d), CQLMQ_EBADTYPE);
    mpk_wr_reset(&w);
    mpk_wr_array(&w, 3);
    mpk_wr_uint(&w, 1);
    mpk_wr_cstr(&w, "x");
    mpk_wr_int(&w, (int64_t)INT32_MAX + 1);
    mpk_rd_init(&r, w.data, w.len);
    cr_assert_eq(query_decode(&r, &d), CQLMQ_ERANGE);
    mpk_wr_reset(&w);
    mpk_wr_uint(&w, 1);
    mpk_rd_init(&r, w.data, w.len);
    cr_assert_eq(query_decode(&r, &d), CQLMQ_EBADTYPE, "not a map or array");
    mpk_wr_close(&w);
}

Test(wire_mpk_schema, every_truncation_fails_without_crashing)
{
    query_t q = sample(), d;
    mpk_wr_t w;
    mpk_wr_init(&w);
    query_encode(&w, &q);
    for (size_t cut = 0; cut < w.len; cut++) {
        mpk_rd_t r;
        mpk_rd_init(&r, w.data, cut);
        int rc = query_decode(&r, &d);
        cr_assert(rc == CQLMQ_ETRUNCATED, "cut %zu: %d", cut, rc);
    }
    mpk_wr_close(&w);
}

Test(wire_mpk_schema, extra_array_items_are_skipped)
{
    mpk_wr_t w;
    mpk_rd_t r;
    query_t d;
    mpk_wr_init(&w);
    mpk_wr_array(&w, 11);
    mpk_wr_uint(&w, 1);
    mpk_wr_cstr(&w, "q");
    for (int i = 0; i < 7; i++)
        mpk_wr_nil(&w);
    mpk_wr_uint(&w, 77); /* small */
    mpk_wr_cstr(&w, "extra");
    mpk_rd_init(&r, w.data, w.len);
    cr_assert_eq(query_decode(&r, &d), 0);
    cr_assert(mpk_rd_done(&r));
    cr_assert(MPK_HAS(&d, query, small));
    cr_assert_eq(d.small, 77);
    cr_assert_not(MPK_HAS(&d, query, params), "nil is absent, for RAW fields too");
    mpk_wr_close(&w);
}
