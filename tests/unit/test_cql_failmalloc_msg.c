/*
 * Allocation-failure tests of the message codec, v3 and v4: decoding every
 * message type into an arena whose every allocation is a separate call of a
 * failing allocator, encoding every message type as a whole frame into a
 * writer whose growth fails at every write site, and the rows builder of the
 * server's hot path. Harness: test_cql_failmalloc.h.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cql_msg.h"
#include "cql_result.h"
#include "cql_value.h"
#include "test_cql_failmalloc.h"
#include "test_cql_samples.h"


/* One message: its encodings with the default allocator. */
typedef struct msg_ref {
    const char *what;  /* for messages */
    int version;
    const cql_msg_t *m;
    uint8_t flags;     /* frame flags of the body */
    uint8_t *body;     /* cql_msg_encode */
    size_t body_len;
    uint8_t *frame;    /* cql_frame_write, stream 7 */
    size_t frame_len;
    size_t chunk;      /* arena chunk size for decoding (0: exact) */
    size_t prefix;     /* bytes already in the writer before the frame */
} msg_ref_t;

static uint8_t *encode_ref(const cql_msg_t *m, int version, bool frame, size_t *len)
{
    cql_wr_t w;
    cql_wr_init(&w);
    int rc = frame ? cql_frame_write(&w, version, 7, m) : cql_msg_encode(&w, version, m);
    cr_assert_eq(rc, 0, "%s", cqlmq_err_name(rc));
    return cql_wr_release(&w, len);
}

/* Decodes into a, walks rows; re-encodes and compares with the body. */
static int decode_check(const msg_ref_t *r, cql_arena_t *a, bool compare)
{
    cql_msg_t m;
    int rc = cql_msg_decode(r->version, r->m->opcode, r->flags, r->body, r->body_len, a, &m);
    if (rc != 0 || !compare)
        return rc;
    if (m.opcode == CQL_OP_RESULT && m.u.result.kind == CQL_RESULT_ROWS)
        cr_assert_eq(cql_rows_validate(&m.u.result.u.rows), 0);
    size_t len;
    uint8_t *again = encode_ref(&m, r->version, false, &len);
    cr_assert_eq(len, r->body_len, "%s", r->what);
    cr_assert(len == 0 || memcmp(again, r->body, len) == 0, "%s: decoded message differs",
              r->what);
    free(again);
    return 0;
}

static int run_decode(fm_t *fm, void *ctx)
{
    const msg_ref_t *r = ctx;
    cql_arena_t a;
    cql_arena_init_mem(&a, 0, &fm->mem);
    cql_arena_set_chunk_size(&a, r->chunk);
    int rc = decode_check(r, &a, true);
    if (rc != 0) {
        /* The same arena, reset, decodes the message once memory is back. */
        fm_heal(fm);
        cql_arena_reset(&a);
        cr_assert_eq(decode_check(r, &a, true), 0, "%s: no recovery", r->what);
    }
    cql_arena_close(&a);
    return rc;
}

static void write_prefix(cql_wr_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cql_wr_u8(w, (uint8_t)(0xe0 + i % 16));
}

/* The n prefix bytes are all there (when writing them succeeded) and
 * unchanged. */
static bool prefix_intact(const cql_wr_t *w, size_t n, bool written)
{
    if (written && w->len < n)
        return false;
    for (size_t i = 0; i < n && i < w->len; i++)
        if (w->data[i] != (uint8_t)(0xe0 + i % 16))
            return false;
    return true;
}

static int run_encode(fm_t *fm, void *ctx)
{
    const msg_ref_t *r = ctx;
    cql_wr_t w;
    cql_wr_init_mem(&w, &fm->mem);
    write_prefix(&w, r->prefix);
    bool written = cql_wr_error(&w) == 0;
    int rc = cql_frame_write(&w, r->version, 7, r->m);
    if (rc != 0) {
        cr_assert_eq(cql_wr_error(&w), rc, "%s: error not in the writer", r->what);
        cr_assert(prefix_intact(&w, r->prefix, written), "%s: earlier content damaged", r->what);
        fm_heal(fm);
        cql_wr_reset(&w);
        write_prefix(&w, r->prefix);
        cr_assert_eq(cql_frame_write(&w, r->version, 7, r->m), 0, "%s: no recovery", r->what);
    }
    cr_assert_eq(w.len, r->prefix + r->frame_len, "%s", r->what);
    cr_assert(prefix_intact(&w, r->prefix, true));
    cr_assert(memcmp(w.data + r->prefix, r->frame, r->frame_len) == 0, "%s: frame differs",
              r->what);
    cql_wr_close(&w);
    return rc;
}

/* Calls fn(ref) for every case, version and envelope. */
static void for_each_message(void (*fn)(msg_ref_t *))
{
    for (int version = 3; version <= 4; version++)
        for (size_t i = 0; i < CQL_NSAMPLES; i++)
            for (int env = 0; env < 2; env++) {
                cql_arena_t a;
                cql_arena_init(&a, 0);
                cql_msg_t m;
                cql_sample_msg(&cql_sample_cases[i], env, version, &a, &m);
                char what[64];
                snprintf(what, sizeof what, "%s/%d v%d%s", cql_opcode_name(m.opcode),
                         cql_sample_cases[i].variant, version, env ? " +envelope" : "");
                msg_ref_t r = {.what = what, .version = version, .m = &m, .flags = m.flags};
                r.body = encode_ref(&m, version, false, &r.body_len);
                r.frame = encode_ref(&m, version, true, &r.frame_len);
                fn(&r);
                free(r.body);
                free(r.frame);
                cql_arena_close(&a);
            }
}

static long decode_allocs; /* allocations of all clean exact-chunk runs */

static void sweep_decode(msg_ref_t *r)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cr_assert_eq(decode_check(r, &a, true), 0, "%s", r->what);
    cql_arena_close(&a);
    r->chunk = 0;
    decode_allocs += fm_sweep(r->what, run_decode, r, CQLMQ_ENOMEM);
    r->chunk = 4096; /* the arena as callers use it */
    fm_sweep(r->what, run_decode, r, CQLMQ_ENOMEM);
}

Test(cql_failmalloc_msg, decoding_every_message_fails_with_enomem_at_every_arena_allocation)
{
    for_each_message(sweep_decode);
    cr_assert_gt(decode_allocs, 200, "the sweep reached few allocation sites");
}

static void sweep_encode(msg_ref_t *r)
{
    /* The writer grows at 256, 512, ...: a prefix of every length below 256
     * makes the growth (and so the failure) land on every write site of
     * a frame shorter than 256 bytes, and on a spread of sites of longer
     * ones. */
    for (size_t k = 0; k < 256; k++) {
        r->prefix = k;
        fm_sweep(r->what, run_encode, r, CQLMQ_ENOMEM);
    }
}

Test(cql_failmalloc_msg, encoding_every_message_fails_with_enomem_at_every_write_site)
{
    for_each_message(sweep_encode);
}

/* ---- the rows builder -------------------------------------------------- */

typedef struct rows_ref {
    const cql_meta_t *meta; /* int, text, list<int> */
    const cql_type_t *list_type;
    uint8_t *frame;
    size_t len;
    size_t prefix;
} rows_ref_t;

#define NROWS 40

/* A Rows frame with the envelope: even rows whole, odd rows cell by cell
 * (the list cell encoded in place). Returns the first error. */
static int build_rows(cql_wr_t *w, const rows_ref_t *r)
{
    static const char text[] = "some text that takes room in the frame";
    cql_msg_t env = {.opcode = CQL_OP_RESULT, .flags = CQL_FLAG_TRACING | CQL_FLAG_WARNING,
                     .tracing_id = trace_id, .warnings = {1, strs3}};
    size_t start = cql_frame_begin(w, 4, env.flags, 3, CQL_OP_RESULT);
    int rc = cql_envelope_write(w, 4, &env);
    cql_rows_builder_t b;
    if (rc == 0)
        rc = cql_rows_begin(&b, w, 4, r->meta);
    if (rc != 0)
        return rc;
    for (int i = 0; i < NROWS; i++) {
        uint8_t num[4];
        cql_store_u32(num, (uint32_t)i);
        cql_bytes_t t = {(const uint8_t *)text, (int32_t)(i % (int)sizeof text)};
        if (i % 2 == 0) {
            cql_bytes_t cells[3] = {{num, 4}, t, {NULL, CQL_BYTES_NULL}};
            cql_rows_add_row(&b, cells);
            continue;
        }
        cql_rows_add(&b, (cql_bytes_t){num, 4});
        cql_rows_add(&b, t);
        cql_value_t items[3] = {cql_value_int(i), cql_value_int(-i), cql_value_int(7)};
        cql_value_t list = {.state = CQL_VALUE_SET, .kind = CQL_TYPE_LIST,
                            .u.coll = {(size_t)(i % 4), items}};
        size_t off = cql_rows_cell_begin(&b);
        cql_value_encode_body(w, r->list_type, &list);
        cql_rows_cell_end(&b, off);
    }
    rc = cql_rows_finish(&b);
    return rc ? rc : cql_frame_end(w, start);
}

static int run_rows(fm_t *fm, void *ctx)
{
    const rows_ref_t *r = ctx;
    cql_wr_t w;
    cql_wr_init_mem(&w, &fm->mem);
    write_prefix(&w, r->prefix);
    bool written = cql_wr_error(&w) == 0;
    int rc = build_rows(&w, r);
    if (rc != 0) {
        cr_assert_eq(cql_wr_error(&w), rc);
        cr_assert(prefix_intact(&w, r->prefix, written), "earlier content damaged");
        fm_heal(fm);
        cql_wr_reset(&w);
        write_prefix(&w, r->prefix);
        cr_assert_eq(build_rows(&w, r), 0, "the rows builder does not recover");
    }
    cr_assert_eq(w.len, r->prefix + r->len);
    cr_assert(memcmp(w.data + r->prefix, r->frame, r->len) == 0, "rows frame differs");
    cql_wr_close(&w);
    return rc;
}

Test(cql_failmalloc_msg, the_rows_builder_fails_with_enomem_at_every_growth_and_recovers)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_meta_t meta;
    sample_meta(&a, &meta, true, 3);
    static const char *const ts[3] = {"int", "text", "list<int>"};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cql_type_parse(ts[i], strlen(ts[i]), &a, NULL, NULL, NULL,
                                    &meta.cols[i].type), 0);
    rows_ref_t r = {.meta = &meta, .list_type = meta.cols[2].type};
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(build_rows(&w, &r), 0);
    r.frame = cql_wr_release(&w, &r.len);
    cr_assert_gt(r.len, 1024);
    for (r.prefix = 0; r.prefix < 256; r.prefix += 5)
        cr_assert_geq(fm_sweep("rows", run_rows, &r, CQLMQ_ENOMEM), 3);
    free(r.frame);
    cql_arena_close(&a);
}
