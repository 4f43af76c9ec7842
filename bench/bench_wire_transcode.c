/*
 * Benchmark: a 5,000-row Rows result of mixed types (uuid, text, int,
 * bigint, double, timestamp, boolean, decimal, list<text>, map<text, int>,
 * date, a null) transcoded to the msgpack rows array of a page reply, as
 * the gateway does for every Cassandra page. Reports rows/s and MB/s (of
 * CQL input and of msgpack output), for one array per page and for pages
 * cut at 64 KiB; and, the other way, msgpack params -> CQL values.
 * The writer is reused between iterations, as a gateway reuses its own:
 * after the first page, transcoding allocates nothing.
 *
 * Usage: bench_wire_transcode [--json] [iterations]   (default 200)
 * --json prints one JSON object per measurement instead (bench/run.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cql_arena.h"
#include "cql_result.h"
#include "wire_params.h"
#include "wire_rows.h"
#include "wire_value.h"

#define NROWS 5000

static const char *const col_names[] = {"id", "name", "age", "visits", "score", "created",
                                        "active", "balance", "tags", "attrs", "born", "note"};
static const char *const col_types[] = {"uuid", "text", "int", "bigint", "double", "timestamp",
                                        "boolean", "decimal", "list<text>", "map<text, int>",
                                        "date", "text"};
#define NCOLS (int)(sizeof col_names / sizeof col_names[0])

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One --json line (fields in bench/README.md). */
static void json_line(const char *group, const char *name, double value, const char *unit)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"bench\":\"wire_transcode\",\"group\":\"%s\",\"name\":\"%s\",\"peer\":false,"
           "\"value\":%.6g,\"unit\":\"%s\",\"maxrss_kb\":%ld}\n",
           group, name, value, unit, ru.ru_maxrss);
}

static void cell(cql_wr_t *w, const void *p, int32_t n)
{
    cql_wr_i32(w, n);
    if (n > 0)
        cql_wr_raw(w, p, (size_t)n);
}

static void build_rows(cql_wr_t *w)
{
    uint8_t b[64];
    char s[64];
    for (int i = 0; i < NROWS; i++) {
        for (int k = 0; k < 16; k++)
            b[k] = (uint8_t)(i * 31 + k);
        cell(w, b, 16);
        int n = snprintf(s, sizeof s, "user-%06d@example.org", i);
        cell(w, s, n);
        cql_store_u32(b, (uint32_t)(i % 97));
        cell(w, b, 4);
        cql_store_u64(b, (uint64_t)i * 1000003u);
        cell(w, b, 8);
        double d = i * 1.25;
        memcpy(b, &d, 8);
        uint64_t u;
        memcpy(&u, b, 8);
        cql_store_u64(b, u);
        cell(w, b, 8);
        cql_store_u64(b, (uint64_t)(INT64_C(1700000000000) + i * 1000));
        cell(w, b, 8);
        b[0] = (uint8_t)(i & 1);
        cell(w, b, 1);
        cql_store_u32(b, 2);
        cql_store_u32(b + 4, (uint32_t)(i * 7));
        cell(w, b, 8);
        /* list<text> of 3 */
        cql_wr_i32(w, 4 + 3 * (4 + 5));
        cql_wr_i32(w, 3);
        for (int k = 0; k < 3; k++)
            cell(w, "tag-0", 5);
        /* map<text, int> of 2 */
        cql_wr_i32(w, 4 + 2 * (4 + 1 + 4 + 4));
        cql_wr_i32(w, 2);
        for (int k = 0; k < 2; k++) {
            cell(w, k ? "b" : "a", 1);
            cql_store_u32(b, (uint32_t)k);
            cell(w, b, 4);
        }
        cql_store_u32(b, 0x80000000u + (uint32_t)(i % 20000));
        cell(w, b, 4);
        cql_wr_i32(w, -1); /* note: null */
    }
}

int main(int argc, char **argv)
{
    bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
    if (json)
        argc--, argv++;
    int iters = argc > 1 ? atoi(argv[1]) : 200;
    cql_arena_t arena;
    cql_arena_init(&arena, 0);
    cql_meta_t meta = {0};
    meta.ncols = NCOLS;
    meta.cols = cql_arena_calloc(&arena, NCOLS, sizeof *meta.cols);
    for (int i = 0; i < NCOLS; i++) {
        meta.cols[i].name = (cql_str_t){col_names[i], strlen(col_names[i])};
        if (cql_type_parse(col_types[i], strlen(col_types[i]), &arena, NULL, NULL, NULL,
                           &meta.cols[i].type) != 0)
            return 1;
    }
    cql_wr_t content;
    cql_wr_init(&content);
    build_rows(&content);
    cql_result_rows_t rows = {.meta = meta, .nrows = NROWS, .content = content.data,
                              .content_len = content.len};

    mpk_wr_t w;
    mpk_wr_init(&w);
    size_t out_bytes = 0;
    for (int mode = 0; mode < 2; mode++) {
        wire_rows_cap_t cap = {0, mode ? (size_t)64 << 10 : 0};
        uint64_t pages = 0;
        double t0 = now();
        for (int it_n = 0; it_n < iters; it_n++) {
            cql_rows_iter_t it;
            cql_rows_iter_init(&it, &rows);
            while (wire_rows_left(&it) > 0) {
                uint32_t n;
                mpk_wr_reset(&w);
                int rc = wire_rows_write(&w, &it, &meta, &cap, &n);
                if (rc != 0) {
                    fprintf(stderr, "transcode failed: %s\n", cqlmq_err_name(rc));
                    return 1;
                }
                out_bytes = mode ? out_bytes : w.len;
                pages++;
            }
        }
        double dt = now() - t0;
        double rows_s = (double)NROWS * iters / dt;
        if (json) {
            json_line("CQL rows -> msgpack page, 5000 rows x 12 mixed cols",
                      mode ? "pages cut at 64 KiB" : "one array per result", rows_s, "rows/s");
            continue;
        }
        printf("rows -> msgpack (%s): %d x %d rows x %d cols in %.3f s: %.2f M rows/s, "
               "%.0f MB/s CQL in, %.0f MB/s msgpack out, %.1f pages/result\n",
               mode ? "64 KiB pages" : "one array", iters, NROWS, NCOLS, dt, rows_s / 1e6,
               (double)content.len * iters / dt / 1e6, (double)out_bytes * iters / dt / 1e6,
               (double)pages / iters);
    }
    if (!json)
        printf("one result: %zu bytes of CQL rows content, %zu bytes of msgpack\n", content.len, out_bytes);

    /* msgpack -> CQL: bind the first 11 columns of each row from a params array */
    mpk_wr_reset(&w);
    mpk_wr_array(&w, NCOLS);
    mpk_wr_ext(&w, WIRE_EXT_UUID, "0123456789abcdef", 16);
    mpk_wr_cstr(&w, "user-000001@example.org");
    mpk_wr_int(&w, 42);
    mpk_wr_int(&w, 1000003);
    mpk_wr_f64(&w, 1.25);
    mpk_wr_cstr(&w, "2024-02-29T12:34:56.789Z");
    mpk_wr_bool(&w, true);
    mpk_wr_cstr(&w, "123.45");
    mpk_wr_array(&w, 3);
    for (int k = 0; k < 3; k++)
        mpk_wr_cstr(&w, "tag-0");
    mpk_wr_map(&w, 2);
    mpk_wr_cstr(&w, "a");
    mpk_wr_int(&w, 0);
    mpk_wr_cstr(&w, "b");
    mpk_wr_int(&w, 1);
    mpk_wr_cstr(&w, "1970-01-02");
    mpk_wr_nil(&w);
    cql_wr_t cw;
    cql_bytes_t values[NCOLS];
    wire_diag_t d;
    cql_wr_init(&cw);
    int binds = iters * 500;
    double t0 = now();
    for (int i = 0; i < binds; i++) {
        cql_wr_reset(&cw);
        if (wire_params_bind(&cw, &meta, (mpk_raw_t){w.data, w.len}, values, &d) != 0) {
            fprintf(stderr, "bind failed: %s\n", d.msg);
            return 1;
        }
    }
    double dt = now() - t0;
    if (json)
        json_line("msgpack params -> CQL values, 12 mixed", "bind", (double)binds * NCOLS / dt,
                  "values/s");
    else
        printf("params -> CQL: %d binds of %d mixed values (text timestamp and decimal) in %.3f s: "
               "%.2f M values/s\n", binds, NCOLS, dt, (double)binds * NCOLS / dt / 1e6);

    cql_wr_close(&cw);
    mpk_wr_close(&w);
    cql_wr_close(&content);
    cql_arena_close(&arena);
    return 0;
}
