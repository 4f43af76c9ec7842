/*
 * Allocation-failure tests of the codec's own memory users: the arena, the
 * writer and the streaming frame decoder (messages: test_cql_failmalloc_msg.c;
 * types and values: test_cql_failmalloc_value.c).
 *
 * Each test sweeps N = 0, 1, 2, ... failing the Nth allocation (see
 * test_cql_failmalloc.h) and checks: the documented code, no leak, the same
 * object works once memory is back, and the successful output equals the
 * output made with the default allocator.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql_arena.h"
#include "cql_frame.h"
#include "test_cql_failmalloc.h"

/* ---- arena ------------------------------------------------------------ */

static const size_t arena_sizes[] = {24, 0, 100, 5000, 1, 16, 70000, 3, 4096, 33};
#define NSIZES (sizeof(arena_sizes) / sizeof(arena_sizes[0]))

/* Fills the blocks of a pass with a pattern and checks they keep it. */
static void fill(uint8_t *p, size_t n, size_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 31 + i);
}
static bool filled(const uint8_t *p, size_t n, size_t seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)(seed * 31 + i))
            return false;
    return true;
}

/* One block of the pass: alloc, calloc or strndup by turn. */
static void *arena_take(cql_arena_t *a, size_t i, size_t n)
{
    static const char text[80] = "the quick brown fox jumps over the lazy dog";
    if (i % 3 == 1)
        return cql_arena_calloc(a, n, 1);
    if (i % 3 == 2 && n < sizeof text)
        return cql_arena_strndup(a, text, n);
    return cql_arena_alloc(a, n);
}

static int run_arena(fm_t *fm, void *ctx)
{
    cql_arena_t a;
    cql_arena_init_mem(&a, 0, &fm->mem);
    cql_arena_set_chunk_size(&a, *(const size_t *)ctx);
    int first = 0;
    for (int pass = 0; pass < 2; pass++) { /* the second after a reset */
        uint8_t *blocks[NSIZES];
        for (size_t i = 0; i < NSIZES; i++) {
            size_t n = arena_sizes[i], used = a.used;
            uint8_t *p = arena_take(&a, i, n);
            if (p == NULL) {
                cr_assert_gt(fm->failures, 0, "NULL without a refused allocation");
                cr_assert_eq(a.used, used, "a failed allocation changed the arena");
                if (first == 0)
                    first = CQLMQ_ENOMEM;
                fm_heal(fm);
                p = arena_take(&a, i, n);
                cr_assert_not_null(p, "the arena does not recover");
            }
            cr_assert_eq((uintptr_t)p % 16, 0);
            if (i % 3 == 1)
                for (size_t k = 0; k < n; k++)
                    cr_assert_eq(p[k], 0, "calloc'd memory is not zero");
            if (i % 3 == 2 && n < 80)
                cr_assert_eq(p[n], '\0');
            fill(p, n, i);
            blocks[i] = p;
        }
        for (size_t i = 0; i < NSIZES; i++)
            cr_assert(filled(blocks[i], arena_sizes[i], i), "block %zu was overwritten", i);
        cql_arena_reset(&a);
    }
    cql_arena_close(&a);
    return first;
}

Test(cql_failmalloc, every_arena_chunk_failure_returns_null_and_leaves_the_arena_usable)
{
    size_t exact = 0, tiny = 16, dflt = 4096;
    cr_assert_geq(fm_sweep("arena exact", run_arena, &exact, CQLMQ_ENOMEM), (long)NSIZES);
    cr_assert_gt(fm_sweep("arena tiny", run_arena, &tiny, CQLMQ_ENOMEM), 2);
    cr_assert_gt(fm_sweep("arena default", run_arena, &dflt, CQLMQ_ENOMEM), 2);
}

/* ---- writer ----------------------------------------------------------- */

/* Notes in *ok how far w got without an error. */
#define OK(w, ok) (cql_wr_error(w) == 0 ? (void)(*(ok) = (w)->len) : (void)0)

/* A few kilobytes through every writer function; *ok gets the length
 * reached before the first error (or the whole length). */
static void write_things(cql_wr_t *w, size_t *ok)
{
    static char big[1500];
    memset(big, 'z', sizeof big);
    for (int i = 0; i < 40; i++) {
        cql_wr_u8(w, (uint8_t)i), OK(w, ok);
        cql_wr_u16(w, (uint16_t)(i * 300)), OK(w, ok);
        cql_wr_i32(w, -i), OK(w, ok);
        cql_wr_i64(w, (int64_t)i << 40), OK(w, ok);
        cql_wr_cstring(w, "a [string]"), OK(w, ok);
        cql_wr_long_string(w, big, (size_t)(i * 37) % sizeof big), OK(w, ok);
        cql_wr_bytes(w, (cql_bytes_t){(const uint8_t *)big, i}), OK(w, ok);
        cql_wr_vint(w, -(int64_t)i * 1000003), OK(w, ok);
        cql_wr_inet(w, &(cql_inet_t){.size = 16, .addr = {0xfe, 0x80}, .port = 9042});
        OK(w, ok);
    }
}

static int run_writer(fm_t *fm, void *ctx)
{
    const cql_wr_t *ref = ctx;
    cql_wr_t w;
    cql_wr_init_mem(&w, &fm->mem);
    size_t ok = 0;
    write_things(&w, &ok);
    int rc = cql_wr_error(&w);
    if (rc != 0) {
        /* What was written before the failing call is all there, intact
         * (a compound item such as a [string] may have left its length
         * prefix: a writer in error is to be discarded or reset). */
        cr_assert_geq(w.len, ok, "the writer lost content: %zu bytes, not %zu", w.len, ok);
        cr_assert_lt(w.len, ref->len);
        cr_assert(w.len == 0 || memcmp(w.data, ref->data, w.len) == 0);
        cr_assert_eq(cql_wr_reserve(&w, 1), rc, "the error is not sticky");
        fm_heal(fm);
        cql_wr_reset(&w);
        write_things(&w, &ok);
        cr_assert_eq(cql_wr_error(&w), 0, "the writer does not recover");
    }
    size_t len;
    uint8_t *out = cql_wr_release(&w, &len);
    cr_assert_eq(len, ref->len);
    cr_assert(memcmp(out, ref->data, len) == 0, "output differs from the default allocator's");
    cql_mem_free(w.mem, out);
    cql_wr_close(&w); /* empty after release: frees nothing */
    return rc;
}

Test(cql_failmalloc, every_writer_growth_failure_is_a_sticky_enomem_that_reset_clears)
{
    cql_wr_t ref;
    size_t ok;
    cql_wr_init(&ref);
    write_things(&ref, &ok);
    cr_assert_eq(ok, ref.len);
    cr_assert_eq(cql_wr_error(&ref), 0);
    cr_assert_gt(fm_sweep("writer", run_writer, &ref, CQLMQ_ENOMEM), 3);
    cql_wr_close(&ref);
}

Test(cql_failmalloc, a_released_buffer_goes_back_through_the_writers_allocator)
{
    fm_t fm;
    fm_init(&fm, -1, false);
    cql_wr_t w;
    cql_wr_init_mem(&w, &fm.mem);
    cql_wr_cstring(&w, "hello");
    size_t len;
    uint8_t *p = cql_wr_release(&w, &len);
    cql_wr_cstring(&w, "again"); /* a released writer keeps its allocator */
    cr_assert_eq(fm.live, 2);
    cql_wr_close(&w);
    cql_mem_free(&fm.mem, p);
    cr_assert_eq(fm.live, 0);
    /* The explicit default table is the C library. */
    cql_wr_init_mem(&w, cql_mem_default());
    cql_wr_cstring(&w, "libc");
    free(cql_wr_release(&w, &len));
    cr_assert_eq(len, 6);
}

/* ---- streaming frame decoder ----------------------------------------- */

typedef struct stream {
    uint8_t *bytes;     /* frames back to back */
    size_t len;
    size_t nframes;
    size_t off[4];      /* body offset of each frame in bytes */
    size_t blen[4];     /* body length of each frame */
    size_t chunk;       /* feed size */
} stream_t;

static void make_stream(stream_t *s, const size_t *bodies, size_t n, size_t chunk)
{
    memset(s, 0, sizeof(*s));
    cql_wr_t w;
    cql_wr_init(&w);
    for (size_t i = 0; i < n; i++) {
        size_t start = cql_frame_begin(&w, 4, 0, (int16_t)i, CQL_OP_QUERY);
        s->off[i] = w.len;
        s->blen[i] = bodies[i];
        cr_assert_eq(cql_wr_reserve(&w, bodies[i]), 0);
        for (size_t k = 0; k < bodies[i]; k++)
            w.data[w.len++] = (uint8_t)(k * 7 + i);
        cr_assert_eq(cql_frame_end(&w, start), 0);
    }
    s->nframes = n;
    s->chunk = chunk;
    s->bytes = cql_wr_release(&w, &s->len);
}

/* Feeds the whole stream to d; checks every frame against the stream;
 * steals the body of buffered odd frames. Returns 0 or the first error. */
static int drain(cql_frame_decoder_t *d, const stream_t *s, const cql_mem_t *mem)
{
    size_t got = 0;
    for (size_t pos = 0; pos < s->len; pos += s->chunk) {
        size_t n = s->len - pos < s->chunk ? s->len - pos : s->chunk;
        cql_frame_decoder_feed(d, s->bytes + pos, n);
        for (;;) {
            cql_frame_t f;
            int rc = cql_frame_decoder_next(d, &f);
            if (rc == CQLMQ_EAGAIN)
                break;
            if (rc != 0)
                return rc;
            cr_assert_lt(got, s->nframes);
            cr_assert_eq(f.h.stream, (int16_t)got);
            cr_assert_eq(f.h.length, s->blen[got]);
            cr_assert(memcmp(f.body, s->bytes + s->off[got], s->blen[got]) == 0,
                      "frame %zu differs", got);
            if (f.buffered && got % 2 == 1) {
                uint8_t *own = cql_frame_decoder_steal(d);
                cr_assert_eq(own, f.body);
                cql_mem_free(mem, own);
            }
            got++;
        }
    }
    cr_assert_eq(got, s->nframes);
    cr_assert_eq(cql_frame_decoder_pending(d), 0);
    return 0;
}

static int run_decoder(fm_t *fm, void *ctx)
{
    const stream_t *s = ctx;
    cql_frame_decoder_t d;
    cql_frame_decoder_init_mem(&d, 0, &fm->mem);
    int rc = drain(&d, s, &fm->mem);
    if (rc != 0) {
        cr_assert_eq(rc, CQLMQ_ENOMEM, "%s", cqlmq_err_name(rc));
        size_t pending = cql_frame_decoder_pending(&d);
        cql_frame_t f;
        cr_assert_eq(cql_frame_decoder_next(&d, &f), CQLMQ_ENOMEM, "ENOMEM is documented sticky");
        cr_assert_null(f.body);
        cr_assert_eq(cql_frame_decoder_pending(&d), pending);
        /* Recovery is a new decoder in the same place, with memory back. */
        cql_frame_decoder_close(&d);
        fm_heal(fm);
        cql_frame_decoder_init_mem(&d, 0, &fm->mem);
        cr_assert_eq(drain(&d, s, &fm->mem), 0, "the decoder does not recover");
    }
    cql_frame_decoder_close(&d);
    return rc;
}

Test(cql_failmalloc, every_body_buffer_failure_of_the_frame_decoder_is_enomem_without_leaks)
{
    /* 20000 spans chunks; 300000 outgrows the kept buffer (freed after it);
     * 10 fits; 5000 spans again with a fresh buffer. */
    static const size_t bodies[] = {20000, 300000, 10, 5000};
    static const size_t chunks[] = {997, 65536, 4096 + 9};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        stream_t s;
        make_stream(&s, bodies, 4, chunks[i]);
        cql_frame_decoder_t d;
        cql_frame_decoder_init(&d, 0);
        cr_assert_eq(drain(&d, &s, NULL), 0); /* the default allocator's run */
        cql_frame_decoder_close(&d);
        char what[64];
        snprintf(what, sizeof what, "decoder chunk %zu", chunks[i]);
        cr_assert_gt(fm_sweep(what, run_decoder, &s, CQLMQ_ENOMEM), 3);
        free(s.bytes);
    }
}

Test(cql_failmalloc, a_frame_fed_one_byte_at_a_time_survives_every_allocation_failure)
{
    static const size_t bodies[] = {9000, 3, 4100};
    stream_t s;
    make_stream(&s, bodies, 3, 1);
    cr_assert_gt(fm_sweep("decoder byte by byte", run_decoder, &s, CQLMQ_ENOMEM), 3);
    free(s.bytes);
}
