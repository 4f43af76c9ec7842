/*
 * bench_nstore_points: point writes and point reads per second of the
 * embedded node's store, for N rows (default 1,000,000; argv[1] overrides).
 *
 *   kv   table (k int PRIMARY KEY, v text): N partitions of one row
 *   clu  table (k int, c bigint, v text, PRIMARY KEY (k, c)): 1000
 *        partitions of N/1000 rows
 * Phases: insert, random point read, random update, full scan in pages of
 * 5000 (resumed from paging positions), delete of every row. Each prints
 * ops/s; memory per row comes from node_store_stats.
 * Usage: bench_nstore_points [--json] [rows]. --json prints one JSON object
 * per measurement instead of the text (fields in bench/README.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cql_type.h"
#include "node_store.h"
#include "bench_util.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const node_table_t *make(node_store_t *s, cql_arena_t *a, const char *name, bool clu)
{
    node_column_def_t cols[3] = {
        {"k", cql_type_new(a, CQL_TYPE_INT), NODE_COL_PARTITION_KEY, NODE_ORDER_NONE},
        {"c", cql_type_new(a, CQL_TYPE_BIGINT), NODE_COL_CLUSTERING, NODE_ORDER_ASC},
        {"v", cql_type_new(a, CQL_TYPE_VARCHAR), NODE_COL_REGULAR, NODE_ORDER_NONE},
    };
    if (!clu)
        cols[1] = cols[2];
    node_table_def_t d = {"bench", name, NULL, cols, clu ? 3 : 2, NULL, 0};
    const node_table_t *t = NULL;
    if (node_table_create(s, &d, &t) < 0) {
        fprintf(stderr, "cannot create %s\n", name);
        exit(1);
    }
    return t;
}

/* How run() reports: the text table by default, JSON lines with --json. */
typedef struct out {
    bool json;
    const char *group; /* JSON group of the table being measured */
} out_t;

/* One --json line (fields in bench/README.md). */
static void json_line(const char *group, const char *name, double value, const char *unit)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"bench\":\"nstore_points\",\"group\":\"%s\",\"name\":\"%s\",\"peer\":false,"
           "\"value\":%.6g,\"unit\":\"%s\",\"maxrss_kb\":%ld}\n",
           group, name, value, unit, ru.ru_maxrss);
}

static void report(const out_t *o, const char *what, long n, double secs)
{
    if (o->json)
        json_line(o->group, what, n / secs, "ops/s");
    else
        printf("%-28s %10.0f ops/s  (%ld ops, %.2f s)\n", what, n / secs, n, secs);
}

static void run(const out_t *o, node_store_t *s, const node_table_t *t, long n, bool clu)
{
    const node_column_t *v = node_table_column(t, "v");
    long parts = clu ? 1000 : n;
    uint8_t kb[4], cb[8];
    char vb[32];
    node_iter_t *it;
    if (node_iter_new(&it) < 0)
        exit(1);
    double t0 = bench_now_s();
    for (long i = 0; i < n; i++) {
        cql_store_u32(kb, (uint32_t)(i % parts));
        cql_store_u64(cb, (uint64_t)(i / parts));
        cql_bytes_t k = {kb, 4}, ck = {cb, 8};
        snprintf(vb, sizeof(vb), "value-%014ld", i);
        node_cell_op_t op = {v, NODE_OP_SET, {(const uint8_t *)vb, 20}, 0, 0};
        node_write_t w = {&k, clu ? &ck : NULL, &op, 1, true, 1000 + i, 0, 100};
        if (node_store_write(s, t, &w) < 0)
            exit(1);
    }
    report(o, clu ? "clustered insert" : "insert (new partitions)", n, bench_now_s() - t0);
    node_store_stats_t st;
    node_store_stats(s, t, &st);
    if (o->json)
        json_line("store memory per row", clu ? "clustered (k, c) -> text(20)" : "kv: int -> text(20)",
                  (double)st.bytes / (double)st.rows, "B/row");
    else
        printf("%-28s %10.1f bytes/row\n", "memory", (double)st.bytes / (double)st.rows);
    long found = 0;
    t0 = bench_now_s();
    for (long j = 0; j < n; j++) {
        long i = (long)(rnd() % (uint64_t)n);
        cql_store_u32(kb, (uint32_t)(i % parts));
        cql_store_u64(cb, (uint64_t)(i / parts));
        cql_bytes_t k = {kb, 4}, ck = {cb, 8};
        const node_row_view_t *r;
        if (node_store_get(it, s, t, &k, clu ? &ck : NULL, 100, &r) == 0)
            found++;
    }
    report(o, clu ? "clustered point read" : "point read (random)", n, bench_now_s() - t0);
    if (found != n)
        fprintf(stderr, "only %ld of %ld rows found\n", found, n);
    t0 = bench_now_s();
    for (long j = 0; j < n; j++) {
        long i = (long)(rnd() % (uint64_t)n);
        cql_store_u32(kb, (uint32_t)(i % parts));
        cql_store_u64(cb, (uint64_t)(i / parts));
        cql_bytes_t k = {kb, 4}, ck = {cb, 8};
        snprintf(vb, sizeof(vb), "other-%014ld", j);
        node_cell_op_t op = {v, NODE_OP_SET, {(const uint8_t *)vb, 20}, 0, 0};
        node_write_t w = {&k, clu ? &ck : NULL, &op, 1, false, 5000000 + j, 0, 100};
        if (node_store_write(s, t, &w) < 0)
            exit(1);
    }
    report(o, clu ? "clustered update" : "update (random, existing)", n, bench_now_s() - t0);
    /* full scan in pages, as the executor pages a SELECT * */
    cql_wr_t pos;
    cql_wr_init(&pos);
    long rows = 0, got = 5000;
    t0 = bench_now_s();
    for (bool first = true; got == 5000; first = false) {
        node_scan_t sc = {.now = 100};
        if (!first) {
            sc.resume = pos.data;
            sc.resume_len = pos.len;
        }
        const node_row_view_t *r;
        if (node_iter_open(it, s, t, &sc) < 0)
            exit(1);
        for (got = 0; got < 5000 && node_iter_next(it, &r) == 1; got++)
            rows++;
        cql_wr_reset(&pos);
        if (got == 5000 && node_iter_position(it, &pos) < 0)
            exit(1);
    }
    report(o, clu ? "clustered scan (rows)" : "scan, pages of 5000 (rows)", rows, bench_now_s() - t0);
    cql_wr_close(&pos);
    t0 = bench_now_s();
    for (long i = 0; i < n; i++) {
        cql_store_u32(kb, (uint32_t)(i % parts));
        cql_store_u64(cb, (uint64_t)(i / parts));
        cql_bytes_t k = {kb, 4}, ck = {cb, 8};
        int rc = clu ? node_store_delete_row(s, t, &k, &ck, 9000000, 100)
                     : node_store_delete_partition(s, t, &k, 9000000, 100);
        if (rc < 0)
            exit(1);
    }
    report(o, clu ? "clustered row delete" : "partition delete", n, bench_now_s() - t0);
    node_store_stats(s, t, &st);
    if (o->json)
        json_line("store memory left after deleting every row",
                  clu ? "clustered (k, c) -> text(20)" : "kv: int -> text(20)", (double)st.bytes, "B");
    else
        printf("%-28s %10llu bytes\n", "memory left", (unsigned long long)st.bytes);
    node_iter_free(&it);
}

int main(int argc, char **argv)
{
    bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
    if (json)
        argc--, argv++;
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    if (n < 1000)
        n = 1000;
    node_store_t *s = node_store_new(NULL);
    cql_arena_t a;
    cql_arena_init(&a, 0);
    if (s == NULL || node_ks_create(s, "bench", NULL, 0, true, NULL) < 0)
        return 1;
    out_t kv = {json, "store ops, kv: 1 row per partition"};
    out_t clu = {json, "store ops, clustered: 1000 partitions"};
    if (!json)
        printf("bench_nstore_points: %ld rows\n", n);
    run(&kv, s, make(s, &a, "kv", false), n, false);
    run(&clu, s, make(s, &a, "clu", true), n, true);
    node_store_free(&s);
    cql_arena_close(&a);
    return 0;
}
