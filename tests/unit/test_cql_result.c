/*
 * RESULT bodies: metadata, the row iterator, the row builder, Prepared
 * metadata in v3 and v4, and hostile counts.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cql_result.h"

#define S(lit) ((cql_str_t){(lit), sizeof(lit) - 1})

/* Rows result with 2 columns (k int, v text) in ks.t and 2 rows
 * (1, 'a') and (2, null), worked out from spec 4.2.5.2:
 * [int] kind 2; [int] flags 0x0001 (global tables spec); [int] 2 columns;
 * [string] "ks" [string] "t"; [string] "k" [option] 0x0009 int;
 * [string] "v" [option] 0x000D varchar; [int] 2 rows; then 4 [bytes]. */
static const uint8_t rows_body[] = {
    0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x02,
    0x00, 0x02, 'k', 's', 0x00, 0x01, 't',
    0x00, 0x01, 'k', 0x00, 0x09,
    0x00, 0x01, 'v', 0x00, 0x0d,
    0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 'a',
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, 0xff, 0xff, 0xff, 0xff,
};
#define ROWS_CONTENT_OFF 33

static void golden_meta(cql_arena_t *a, cql_meta_t *m, cql_col_spec_t cols[2])
{
    memset(m, 0, sizeof(*m));
    m->flags = CQL_MF_GLOBAL_TABLES_SPEC;
    m->ncols = 2;
    m->keyspace = S("ks");
    m->table = S("t");
    m->cols = cols;
    cols[0] = (cql_col_spec_t){S("ks"), S("t"), S("k"), cql_type_new(a, CQL_TYPE_INT)};
    cols[1] = (cql_col_spec_t){S("ks"), S("t"), S("v"), cql_type_new(a, CQL_TYPE_VARCHAR)};
}

Test(cql_result, golden_rows_decode_into_metadata_and_iterated_cells)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_RESULT, 0, rows_body, sizeof(rows_body), &a, &m), 0);
    cr_assert_eq(m.u.result.kind, CQL_RESULT_ROWS);
    const cql_result_rows_t *rows = &m.u.result.u.rows;
    cr_assert_eq(rows->meta.ncols, 2);
    cr_assert(cql_str_eq(rows->meta.cols[1].keyspace, "ks"), "global spec copied to columns");
    cr_assert(cql_str_eq(rows->meta.cols[1].table, "t"));
    cr_assert(cql_str_eq(rows->meta.cols[0].name, "k"));
    cr_assert_eq(rows->meta.cols[0].type->kind, CQL_TYPE_INT);
    cr_assert_eq(rows->meta.cols[1].type->kind, CQL_TYPE_VARCHAR);
    cr_assert_eq(rows->nrows, 2);
    cr_assert_eq(rows->content, rows_body + ROWS_CONTENT_OFF);
    cql_rows_iter_t it;
    cql_bytes_t cells[2];
    cql_rows_iter_init(&it, rows);
    cr_assert_eq(cql_rows_next(&it, cells), 1);
    cr_assert_eq(cql_load_u32(cells[0].ptr), 1);
    cr_assert_eq(cells[1].len, 1);
    cr_assert_eq(cells[1].ptr[0], 'a');
    cr_assert_eq(cql_rows_next(&it, cells), 1);
    cr_assert_eq(cql_load_u32(cells[0].ptr), 2);
    cr_assert_eq(cells[1].len, CQL_BYTES_NULL);
    cr_assert_null(cells[1].ptr);
    cr_assert_eq(cql_rows_next(&it, cells), 0);
    cr_assert_eq(cql_rows_next(&it, cells), 0);
    cr_assert_eq(cql_rows_validate(rows), 0);
    cql_arena_close(&a);
}

Test(cql_result, the_builder_writes_the_golden_rows_inside_a_frame)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_meta_t meta;
    cql_col_spec_t cols[2];
    golden_meta(&a, &meta, cols);
    cql_wr_t w;
    cql_wr_init(&w);
    size_t f = cql_frame_begin(&w, 4, 0, 7, CQL_OP_RESULT);
    cql_rows_builder_t b;
    cr_assert_eq(cql_rows_begin(&b, &w, 4, &meta), 0);
    const uint8_t one[] = {0, 0, 0, 1}, two[] = {0, 0, 0, 2};
    cql_bytes_t row[2] = {{one, 4}, {(const uint8_t *)"a", 1}};
    cql_rows_add_row(&b, row);
    cql_rows_add(&b, (cql_bytes_t){two, 4}); /* second row cell by cell */
    cql_rows_add(&b, (cql_bytes_t){NULL, CQL_BYTES_NULL});
    cr_assert_eq(cql_rows_finish(&b), 0);
    cr_assert_eq(cql_frame_end(&w, f), 0);
    cr_assert_eq(w.len, 9 + sizeof(rows_body));
    cr_assert_arr_eq(w.data + 9, rows_body, sizeof(rows_body));
    cr_assert_eq(cql_load_u32(w.data + 5), sizeof(rows_body));
    cr_assert_eq(w.data[0], 0x84);
    cql_wr_close(&w);
    cql_arena_close(&a);
}

Test(cql_result, cells_can_be_written_in_place_and_a_partial_row_is_refused)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_meta_t meta;
    cql_col_spec_t cols[2];
    golden_meta(&a, &meta, cols);
    cql_wr_t w;
    cql_wr_init(&w);
    cql_rows_builder_t b;
    cr_assert_eq(cql_rows_begin(&b, &w, 4, &meta), 0);
    size_t c = cql_rows_cell_begin(&b);
    cql_wr_i32(&w, 1);
    cql_rows_cell_end(&b, c);
    c = cql_rows_cell_begin(&b);
    cql_wr_raw(&w, "a", 1);
    cql_rows_cell_end(&b, c);
    cql_rows_add(&b, (cql_bytes_t){(const uint8_t *)"\0\0\0\2", 4});
    cr_assert_eq(cql_rows_finish(&b), CQLMQ_EINVAL, "second row has one cell of two");
    cql_rows_add(&b, (cql_bytes_t){NULL, CQL_BYTES_NULL});
    cr_assert_eq(cql_rows_finish(&b), 0);
    cr_assert_eq(w.len, sizeof(rows_body));
    cr_assert_arr_eq(w.data, rows_body, sizeof(rows_body));
    meta.ncols = 0;
    cr_assert_eq(cql_rows_begin(&b, &w, 4, &meta), CQLMQ_EINVAL);
    cr_assert_eq(w.len, sizeof(rows_body), "nothing written on error");
    cql_wr_close(&w);
    cql_arena_close(&a);
}

Test(cql_result, truncated_or_padded_rows_are_reported_by_the_iterator)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    cql_bytes_t cells[2];
    for (size_t n = ROWS_CONTENT_OFF; n < sizeof(rows_body); n++) {
        uint8_t *copy = malloc(n);
        memcpy(copy, rows_body, n);
        int drc = cql_msg_decode(4, CQL_OP_RESULT, 0, copy, n, &a, &m);
        if (drc != 0) { /* the row count already exceeds what the bytes can hold */
            cr_assert_eq(drc, CQLMQ_ETRUNCATED);
            cr_assert_lt(n, ROWS_CONTENT_OFF + 2 * 8);
            free(copy);
            continue;
        }
        cql_rows_iter_t it;
        cql_rows_iter_init(&it, &m.u.result.u.rows);
        int rc;
        while ((rc = cql_rows_next(&it, cells)) == 1)
            ;
        cr_assert_eq(rc, CQLMQ_ETRUNCATED, "n=%zu", n);
        cr_assert_eq(cql_rows_next(&it, cells), CQLMQ_ETRUNCATED, "sticky");
        cr_assert_eq(cql_rows_validate(&m.u.result.u.rows), CQLMQ_ETRUNCATED);
        free(copy);
    }
    for (size_t n = 0; n < ROWS_CONTENT_OFF; n++)
        cr_assert_eq(cql_msg_decode(4, CQL_OP_RESULT, 0, rows_body, n, &a, &m),
                     CQLMQ_ETRUNCATED, "n=%zu", n);
    uint8_t padded[sizeof(rows_body) + 1];
    memcpy(padded, rows_body, sizeof(rows_body));
    cr_assert_eq(cql_msg_decode(4, CQL_OP_RESULT, 0, padded, sizeof(padded), &a, &m), 0);
    cql_rows_iter_t it;
    cql_rows_iter_init(&it, &m.u.result.u.rows);
    cr_assert_eq(cql_rows_next(&it, cells), 1);
    cr_assert_eq(cql_rows_next(&it, cells), 1);
    cr_assert_eq(cql_rows_next(&it, cells), CQLMQ_ETRAILING);
    cql_arena_close(&a);
}

Test(cql_result, hostile_column_and_row_counts_allocate_nothing)
{
    cql_arena_t a;
    cql_arena_init(&a, 256);
    cql_msg_t m;
    /* 2^31-1 column specs announced in 8 bytes. */
    const uint8_t many_cols[] = {0, 0, 0, 2, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff,
                                 0, 1, 'x', 0, 9, 0, 0, 0, 0};
    cr_assert_eq(cql_msg_decode(4, CQL_OP_RESULT, 0, many_cols, sizeof(many_cols), &a, &m),
                 CQLMQ_ETRUNCATED);
    /* NO_METADATA: nothing bounds the count but CQL_MAX_COLUMNS. */
    const uint8_t nometa[] = {0, 0, 0, 2, 0, 0, 0, 4, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    cr_assert_eq(cql_msg_decode(4, CQL_OP_RESULT, 0, nometa, sizeof(nometa), &a, &m),
                 CQLMQ_EMALFORMED);
    /* 2^31-1 rows of one column in 4 bytes. */
    const uint8_t many_rows[] = {0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff,
                                 0, 0, 0, 0};
    cr_assert_eq(cql_msg_decode(4, CQL_OP_RESULT, 0, many_rows, sizeof(many_rows), &a, &m),
                 CQLMQ_ETRUNCATED);
    /* Rows of zero columns: refused, they would only burn CPU. */
    const uint8_t zero_cols[] = {0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff};
    cr_assert_eq(cql_msg_decode(4, CQL_OP_RESULT, 0, zero_cols, sizeof(zero_cols), &a, &m),
                 CQLMQ_EMALFORMED);
    /* Negative counts. */
    const uint8_t neg[] = {0, 0, 0, 2, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    cr_assert_eq(cql_msg_decode(4, CQL_OP_RESULT, 0, neg, sizeof(neg), &a, &m), CQLMQ_EMALFORMED);
    /* 65535 pk indices announced, two present. */
    const uint8_t pks[] = {0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                           0, 0, 0xff, 0xff, 0, 1};
    cr_assert_eq(cql_msg_decode(4, CQL_OP_RESULT, 0, pks, sizeof(pks), &a, &m), CQLMQ_ETRUNCATED);
    cr_assert_eq(a.used, 0);
    const uint8_t kind[] = {0, 0, 0, 9};
    cr_assert_eq(cql_msg_decode(4, CQL_OP_RESULT, 0, kind, 4, &a, &m), CQLMQ_EMALFORMED);
    cql_arena_close(&a);
}

/* Prepared: id 0xbeef, bind metadata (1 marker "k" int in ks.t, pk index 0
 * in v4), result metadata NO_METADATA with 1 column. */
static size_t prepared_body(uint8_t *out, int version)
{
    static const uint8_t head[] = {0, 0, 0, 4, 0, 2, 0xbe, 0xef, 0, 0, 0, 1, 0, 0, 0, 1};
    static const uint8_t pk[] = {0, 0, 0, 1, 0, 0};
    static const uint8_t specs[] = {0, 2, 'k', 's', 0, 1, 't', 0, 1, 'k', 0, 9,
                                    0, 0, 0, 4, 0, 0, 0, 1};
    size_t n = 0;
    memcpy(out, head, sizeof(head));
    n += sizeof(head);
    if (version >= 4) {
        memcpy(out + n, pk, sizeof(pk));
        n += sizeof(pk);
    }
    memcpy(out + n, specs, sizeof(specs));
    return n + sizeof(specs);
}

Test(cql_result, prepared_metadata_has_pk_indices_in_v4_only)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    for (int version = 3; version <= 4; version++) {
        uint8_t body[64];
        size_t n = prepared_body(body, version);
        cql_msg_t m;
        cr_assert_eq(cql_msg_decode(version, CQL_OP_RESULT, 0, body, n, &a, &m), 0, "v%d",
                     version);
        const cql_result_prepared_t *p = &m.u.result.u.prepared;
        cr_assert_eq(p->id.len, 2);
        cr_assert_eq(p->bind.ncols, 1);
        cr_assert(cql_str_eq(p->bind.cols[0].name, "k"));
        cr_assert_eq(p->bind.npk, version >= 4 ? 1 : 0);
        if (version >= 4)
            cr_assert_eq(p->bind.pk_indices[0], 0);
        cr_assert_eq(p->result.flags, CQL_MF_NO_METADATA);
        cr_assert_eq(p->result.ncols, 1);
        cr_assert_null(p->result.cols);
        cql_wr_t w;
        cql_wr_init(&w);
        cr_assert_eq(cql_msg_encode(&w, version, &m), 0);
        cr_assert_eq(w.len, n);
        cr_assert_arr_eq(w.data, body, n);
        cql_wr_close(&w);
    }
    cql_arena_close(&a);
}

Test(cql_result, paging_state_and_per_column_table_specs_round_trip)
{
    const uint8_t body[] = {0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0xab, 0xcd,
                            0, 1, 'a', 0, 1, 'b', 0, 1, 'c', 0, 0x20, 0, 9,
                            0, 0, 0, 0};
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_RESULT, 0, body, sizeof(body), &a, &m), 0);
    const cql_meta_t *meta = &m.u.result.u.rows.meta;
    cr_assert_eq(meta->flags, CQL_MF_HAS_MORE_PAGES);
    cr_assert_eq(meta->paging_state.len, 2);
    cr_assert(cql_str_eq(meta->cols[0].keyspace, "a"));
    cr_assert(cql_str_eq(meta->cols[0].table, "b"));
    cr_assert(cql_str_eq(meta->cols[0].name, "c"));
    cr_assert_eq(meta->cols[0].type->kind, CQL_TYPE_LIST);
    cr_assert_eq(meta->cols[0].type->sub[0]->kind, CQL_TYPE_INT);
    cr_assert_eq(m.u.result.u.rows.nrows, 0);
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(cql_msg_encode(&w, 4, &m), 0);
    cr_assert_arr_eq(w.data, body, sizeof(body));
    cql_wr_close(&w);
    cql_arena_close(&a);
}

Test(cql_result, set_keyspace_void_and_schema_change_results_decode)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    const uint8_t ks[] = {0, 0, 0, 3, 0, 2, 'k', 's'};
    cr_assert_eq(cql_msg_decode(4, CQL_OP_RESULT, 0, ks, sizeof(ks), &a, &m), 0);
    cr_assert(cql_str_eq(m.u.result.u.keyspace, "ks"));
    const uint8_t v[] = {0, 0, 0, 1};
    cr_assert_eq(cql_msg_decode(4, CQL_OP_RESULT, 0, v, 4, &a, &m), 0);
    cr_assert_eq(m.u.result.kind, CQL_RESULT_VOID);
    const uint8_t sc[] = {0, 0, 0, 5, 0, 7, 'C', 'R', 'E', 'A', 'T', 'E', 'D', 0, 8, 'K', 'E', 'Y',
                          'S', 'P', 'A', 'C', 'E', 0, 2, 'k', 's'};
    cr_assert_eq(cql_msg_decode(4, CQL_OP_RESULT, 0, sc, sizeof(sc), &a, &m), 0);
    cr_assert_eq(m.u.result.u.schema_change.change, CQL_SCHEMA_CREATED);
    cr_assert_eq(m.u.result.u.schema_change.target, CQL_TARGET_KEYSPACE);
    cr_assert(cql_str_eq(m.u.result.u.schema_change.keyspace, "ks"));
    cql_arena_close(&a);
}

Test(cql_result, metadata_without_types_or_specs_is_refused_when_encoding)
{
    cql_col_spec_t col = {S("ks"), S("t"), S("c"), NULL};
    cql_meta_t meta = {.ncols = 1, .cols = &col};
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(cql_meta_write(&w, 4, CQL_META_ROWS, &meta), CQLMQ_EINVAL);
    meta.cols = NULL;
    cr_assert_eq(cql_meta_write(&w, 4, CQL_META_ROWS, &meta), CQLMQ_EINVAL);
    meta.flags = CQL_MF_NO_METADATA;
    cql_wr_reset(&w);
    cr_assert_eq(cql_meta_write(&w, 4, CQL_META_ROWS, &meta), 0);
    cr_assert_eq(w.len, 8);
    cql_wr_close(&w);
}
