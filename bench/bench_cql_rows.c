/*
 * bench_cql_rows: speed of the Rows hot paths.
 *
 * Builds a Rows result of 5,000 rows with mixed columns (int, bigint, text
 * of 20-40 bytes, uuid, timestamp, double, boolean, blob of 64 bytes,
 * list<int> of 3), then times
 *   decode: cql_msg_decode (metadata once) + cql_rows_next over every row,
 *           touching every cell (the gateway's path);
 *   validate: the same, plus cql_value_validate of every cell by its type;
 *   encode: cql_rows_begin + cql_rows_add_row per row + cql_rows_finish into
 *           a reused writer (the node's path).
 * Prints rows/s and MB/s of body. Usage: bench_cql_rows [--json] [iterations]
 * --json prints one JSON object per measurement instead (bench/run.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cql_result.h"
#include "cql_value.h"

#define NROWS 5000
#define NCOLS 9

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
    printf("{\"bench\":\"cql_rows\",\"group\":\"%s\",\"name\":\"%s\",\"peer\":false,"
           "\"value\":%.6g,\"unit\":\"%s\",\"maxrss_kb\":%ld}\n",
           group, name, value, unit, ru.ru_maxrss);
}

/* The cells of every row, in one heap block the cells point into. */
typedef struct dataset {
    cql_bytes_t cells[NROWS][NCOLS];
    uint8_t *store;
} dataset_t;

static void make_dataset(dataset_t *d)
{
    d->store = malloc((size_t)NROWS * 256);
    uint8_t *p = d->store;
    uint64_t x = 88172645463325252ull;
    for (int r = 0; r < NROWS; r++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        cql_bytes_t *c = d->cells[r];
        cql_store_u32(p, (uint32_t)r); /* int */
        c[0] = (cql_bytes_t){p, 4}, p += 4;
        cql_store_u64(p, x); /* bigint */
        c[1] = (cql_bytes_t){p, 8}, p += 8;
        int tl = 20 + (int)(x % 21); /* text */
        for (int i = 0; i < tl; i++)
            p[i] = (uint8_t)('a' + (x >> (i % 50)) % 26);
        c[2] = (cql_bytes_t){p, tl}, p += tl;
        for (int i = 0; i < 16; i++) /* uuid */
            p[i] = (uint8_t)(x >> (i * 4));
        c[3] = (cql_bytes_t){p, 16}, p += 16;
        cql_store_u64(p, 1700000000000ull + (uint64_t)r); /* timestamp */
        c[4] = (cql_bytes_t){p, 8}, p += 8;
        double dv = (double)r * 1.5;
        uint64_t bits;
        memcpy(&bits, &dv, 8);
        cql_store_u64(p, bits); /* double */
        c[5] = (cql_bytes_t){p, 8}, p += 8;
        *p = (uint8_t)(r & 1); /* boolean */
        c[6] = (cql_bytes_t){p, 1}, p += 1;
        for (int i = 0; i < 64; i++) /* blob */
            p[i] = (uint8_t)(x >> (i % 56));
        c[7] = (cql_bytes_t){p, 64}, p += 64;
        if (r % 10 == 9) { /* list<int>, null now and then */
            c[8] = (cql_bytes_t){NULL, CQL_BYTES_NULL};
        } else {
            cql_store_u32(p, 3);
            for (int i = 0; i < 3; i++) {
                cql_store_u32(p + 4 + 8 * i, 4);
                cql_store_u32(p + 8 + 8 * i, (uint32_t)(r + i));
            }
            c[8] = (cql_bytes_t){p, 28}, p += 28;
        }
    }
}

static void make_meta(cql_arena_t *a, cql_meta_t *m)
{
    static const struct {
        const char *name;
        cql_type_kind_t kind;
    } cols[NCOLS] = {{"id", CQL_TYPE_INT},       {"big", CQL_TYPE_BIGINT},
                     {"name", CQL_TYPE_VARCHAR}, {"uid", CQL_TYPE_UUID},
                     {"ts", CQL_TYPE_TIMESTAMP}, {"score", CQL_TYPE_DOUBLE},
                     {"flag", CQL_TYPE_BOOLEAN}, {"data", CQL_TYPE_BLOB},
                     {"tags", CQL_TYPE_LIST}};
    memset(m, 0, sizeof(*m));
    m->flags = CQL_MF_GLOBAL_TABLES_SPEC;
    m->ncols = NCOLS;
    m->keyspace = (cql_str_t){"bench", 5};
    m->table = (cql_str_t){"wide", 4};
    m->cols = cql_arena_calloc(a, NCOLS, sizeof(*m->cols));
    for (int i = 0; i < NCOLS; i++) {
        cql_type_t *t;
        if (cols[i].kind == CQL_TYPE_LIST) {
            t = cql_arena_calloc(a, 1, sizeof(*t));
            t->kind = CQL_TYPE_LIST;
            t->nsub = 1;
            t->sub = cql_arena_calloc(a, 1, sizeof(*t->sub));
            t->sub[0] = cql_type_new(a, CQL_TYPE_INT);
        } else {
            t = cql_type_new(a, cols[i].kind);
        }
        m->cols[i] = (cql_col_spec_t){m->keyspace, m->table,
                                      {cols[i].name, strlen(cols[i].name)}, t};
    }
}

static int encode_rows(cql_wr_t *w, const cql_meta_t *meta, const dataset_t *d)
{
    cql_rows_builder_t b;
    int rc = cql_rows_begin(&b, w, 4, meta);
    for (int r = 0; r < NROWS && rc == 0; r++)
        cql_rows_add_row(&b, d->cells[r]);
    return rc ? rc : cql_rows_finish(&b);
}

int main(int argc, char **argv)
{
    bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
    if (json)
        argc--, argv++;
    int iters = argc > 1 ? atoi(argv[1]) : 2000;
    const char *group = "CQL Rows, 5000 rows x 9 mixed cols (200 B/row)";
    if (iters < 1)
        iters = 1;
    static dataset_t d;
    make_dataset(&d);
    cql_arena_t ma;
    cql_arena_init(&ma, 0);
    cql_meta_t meta;
    make_meta(&ma, &meta);
    cql_wr_t w;
    cql_wr_init(&w);
    if (encode_rows(&w, &meta, &d) != 0) {
        fprintf(stderr, "encode failed\n");
        return 1;
    }
    size_t body = w.len;

    /* decode */
    cql_arena_t a;
    cql_arena_init(&a, 0);
    uint64_t touch = 0;
    double t0 = now();
    for (int it = 0; it < iters; it++) {
        cql_arena_reset(&a);
        cql_msg_t m;
        if (cql_msg_decode(4, CQL_OP_RESULT, 0, w.data, w.len, &a, &m) != 0)
            return 1;
        cql_rows_iter_t ri;
        cql_bytes_t cells[NCOLS];
        cql_rows_iter_init(&ri, &m.u.result.u.rows);
        int rc;
        while ((rc = cql_rows_next(&ri, cells)) == 1)
            for (int c = 0; c < NCOLS; c++)
                touch += cells[c].len > 0 ? cells[c].ptr[cells[c].len - 1] : 1;
        if (rc != 0)
            return 1;
    }
    double dt = now() - t0;
    double rows = (double)NROWS * iters;
    if (json) {
        json_line(group, "decode+iterate", rows / dt, "rows/s");
    } else {
        printf("rows result: %d rows x %d cols, %zu bytes (%.0f bytes/row)\n", NROWS, NCOLS, body,
               (double)body / NROWS);
        printf("decode+iterate: %8.1f Mrows/s  %8.1f MB/s   (%d iterations, %.3f s, check %llu)\n",
               rows / dt / 1e6, (double)body * iters / dt / 1e6, iters, dt,
               (unsigned long long)(touch % 1000));
    }

    /* decode + typed check of every cell (UTF-8, sizes, collection
     * structure): what a consumer that trusts nothing pays. */
    t0 = now();
    for (int it = 0; it < iters / 4 + 1; it++) {
        cql_arena_reset(&a);
        cql_msg_t m;
        if (cql_msg_decode(4, CQL_OP_RESULT, 0, w.data, w.len, &a, &m) != 0)
            return 1;
        const cql_meta_t *md = &m.u.result.u.rows.meta;
        cql_rows_iter_t ri;
        cql_bytes_t cells[NCOLS];
        cql_rows_iter_init(&ri, &m.u.result.u.rows);
        int rc;
        while ((rc = cql_rows_next(&ri, cells)) == 1)
            for (int c = 0; c < NCOLS; c++)
                if (cql_value_validate(md->cols[c].type, cells[c]) != 0)
                    return 1;
        if (rc != 0)
            return 1;
    }
    dt = now() - t0;
    rows = (double)NROWS * (iters / 4 + 1);
    if (json)
        json_line(group, "decode+validate", rows / dt, "rows/s");
    else
        printf("decode+validate:%8.1f Mrows/s  %8.1f MB/s\n", rows / dt / 1e6,
               (double)body * (iters / 4 + 1) / dt / 1e6);

    /* encode */
    rows = (double)NROWS * iters;
    t0 = now();
    for (int it = 0; it < iters; it++) {
        cql_wr_reset(&w);
        if (encode_rows(&w, &meta, &d) != 0)
            return 1;
    }
    dt = now() - t0;
    if (json)
        json_line(group, "build rows", rows / dt, "rows/s");
    else
        printf("build rows:     %8.1f Mrows/s  %8.1f MB/s\n", rows / dt / 1e6,
               (double)body * iters / dt / 1e6);

    cql_wr_close(&w);
    cql_arena_close(&a);
    cql_arena_close(&ma);
    free(d.store);
    return 0;
}
