/*
 * The allocation-failure harness of the codec's tests (after nghttp2's
 * tests/failmalloc_test.c): a cql_mem_t that counts every allocation and
 * refuses the Nth one, and a sweep that runs an operation with N = 0, 1, 2,
 * ... until a run needs no failure.
 *
 * Each block carries a header naming the fm_t that made it, so a block freed
 * through another allocator (or libc) fails the test instead of going
 * unnoticed; live/frees make leaks visible without a leak checker.
 */
#ifndef TEST_CQL_FAILMALLOC_H
#define TEST_CQL_FAILMALLOC_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cql_mem.h"
#include "cqlmq/error.h"

#define FM_MAGIC UINT64_C(0x666d616c6c6f6321)
#define FM_HDR 16 /* keeps the user pointer 16-byte aligned */
#define FM_MAX_SWEEP 100000

/*
 * A failing allocator. Invariants: live == blocks made - blocks freed;
 * failures counts the refused attempts; calls counts every attempt (a
 * realloc of an existing block is an attempt too).
 */
typedef struct fm {
    cql_mem_t mem;  /* the table handed to the codec; ud points here */
    long fail_at;   /* index (from 0) of the attempt to refuse; -1: none */
    bool sticky;    /* refuse every attempt from fail_at on, not just one */
    long calls;     /* attempts so far */
    long failures;  /* attempts refused */
    long live;      /* blocks held by the code under test */
    long frees;     /* blocks given back */
} fm_t;

typedef struct fm_hdr {
    uint64_t magic; /* FM_MAGIC while the block is live */
    fm_t *owner;    /* the allocator that made it */
} fm_hdr_t;

static bool fm_refuse(fm_t *fm)
{
    long i = fm->calls++;
    bool no = fm->fail_at >= 0 && (i == fm->fail_at || (fm->sticky && i > fm->fail_at));
    if (no)
        fm->failures++;
    return no;
}

static fm_hdr_t *fm_hdr_of(fm_t *fm, void *p)
{
    fm_hdr_t *h = (fm_hdr_t *)((char *)p - FM_HDR);
    cr_assert_eq(h->magic, FM_MAGIC, "a block not from a live fm allocation was given back");
    cr_assert_eq(h->owner, fm, "a block was given back to another allocator");
    return h;
}

static void *fm_malloc(size_t size, void *ud)
{
    fm_t *fm = ud;
    cr_assert(size > 0, "malloc of 0 bytes");
    if (fm_refuse(fm))
        return NULL;
    fm_hdr_t *h = malloc(FM_HDR + size);
    cr_assert_not_null(h);
    h->magic = FM_MAGIC;
    h->owner = fm;
    fm->live++;
    return (char *)h + FM_HDR;
}

static void *fm_realloc(void *p, size_t size, void *ud)
{
    fm_t *fm = ud;
    cr_assert(size > 0, "realloc to 0 bytes");
    if (p == NULL)
        return fm_malloc(size, ud);
    fm_hdr_t *h = fm_hdr_of(fm, p);
    if (fm_refuse(fm))
        return NULL;
    fm_hdr_t *n = realloc(h, FM_HDR + size);
    cr_assert_not_null(n);
    return (char *)n + FM_HDR;
}

static void fm_free(void *p, void *ud)
{
    fm_t *fm = ud;
    if (p == NULL)
        return;
    fm_hdr_t *h = fm_hdr_of(fm, p);
    h->magic = 0;
    fm->live--;
    fm->frees++;
    free(h);
}

/* An allocator that refuses attempt fail_at (and all later ones if
 * sticky); fail_at -1 never refuses. */
static void fm_init(fm_t *fm, long fail_at, bool sticky)
{
    memset(fm, 0, sizeof(*fm));
    fm->mem = (cql_mem_t){fm_malloc, fm_realloc, fm_free, fm};
    fm->fail_at = fail_at;
    fm->sticky = sticky;
}

/* Lets every later attempt succeed (to check recovery after a failure). */
static void fm_heal(fm_t *fm) { fm->fail_at = -1; }

/*
 * One run of an operation under test with allocator fm. It must: do the
 * operation; if it failed, check the code is the documented one, heal fm,
 * do the documented recovery and check that the same object then gives the
 * reference output; on success check the output is the reference; free
 * everything. It returns the operation's first result (0 or an error).
 */
typedef int (*fm_run_fn)(fm_t *fm, void *ctx);

/*
 * Runs `run` with attempt N refused for N = 0, 1, ... until a run sees no
 * refusal, in both modes (only the Nth attempt; the Nth and all after).
 * Checks after every run: blocks balance (nothing leaked), a run that saw a
 * refusal returned `want` (CQLMQ_ENOMEM, or the code the entry point
 * documents), a run that saw none returned 0. Returns the number of
 * allocation attempts of the clean run.
 */
static long fm_sweep(const char *what, fm_run_fn run, void *ctx, int want)
{
    long clean = -1;
    for (int sticky = 0; sticky < 2; sticky++) {
        for (long n = 0;; n++) {
            cr_assert_lt(n, FM_MAX_SWEEP, "%s: no clean run", what);
            fm_t fm;
            fm_init(&fm, n, sticky);
            int rc = run(&fm, ctx);
            cr_assert_eq(fm.live, 0, "%s: N=%ld%s leaks %ld block(s)", what, n,
                         sticky ? "+" : "", fm.live);
            if (fm.failures == 0) {
                cr_assert_eq(rc, 0, "%s: clean run gives %s", what, cqlmq_err_name(rc));
                cr_assert(clean < 0 || clean == fm.calls, "%s: runs differ", what);
                clean = fm.calls;
                break;
            }
            cr_assert_eq(rc, want, "%s: N=%ld%s of %ld gives %s, not %s", what, n,
                         sticky ? "+" : "", fm.calls, cqlmq_err_name(rc),
                         cqlmq_err_name(want));
        }
    }
    return clean;
}

#endif /* TEST_CQL_FAILMALLOC_H */
