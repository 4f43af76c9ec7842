/*
 * cql_result: result metadata and rows, the hot path of the codec.
 *
 * Client side (the gateway): cql_msg_decode gives a cql_result_rows_t whose
 * metadata was decoded once (column specs and types in the arena) and whose
 * rows stay one slice of the body; cql_rows_next then yields each row's
 * cells as slices, with no allocation and one bounds check per cell.
 *
 * Server side (the node): cql_rows_begin writes the kind and the metadata of
 * a Rows result into a writer (typically right after cql_frame_begin), rows
 * are appended cell by cell or row by row, and cql_rows_finish patches the
 * row count; cql_frame_end then patches the frame length. The rows go
 * straight into the outgoing frame.
 *
 *   size_t f = cql_frame_begin(&w, 4, 0, stream, CQL_OP_RESULT);
 *   cql_rows_builder_t b;
 *   cql_rows_begin(&b, &w, 4, &meta);
 *   for each row: cql_rows_add_row(&b, cells);
 *   rc = cql_rows_finish(&b);   then   rc = cql_frame_end(&w, f);
 *
 * Metadata, row and cell data types are declared in cql_msg.h.
 */
#ifndef CQL_RESULT_H
#define CQL_RESULT_H

#include "cql_msg.h"

/* Which <metadata> layout: a Rows result's (also a Prepared result set's),
 * or a Prepared result's bind markers (v4: with pk indices; v3: as rows). */
typedef enum cql_meta_kind {
    CQL_META_ROWS = 0,
    CQL_META_BIND = 1,
} cql_meta_kind_t;

/* Reads <metadata>. Returns 0, CQLMQ_ETRUNCATED, CQLMQ_EMALFORMED (negative
 * count, NO_METADATA column count above CQL_MAX_COLUMNS, bad type) or
 * CQLMQ_ENOMEM. */
int cql_meta_read(cql_rd_t *r, int version, cql_meta_kind_t kind, cql_arena_t *a,
                  cql_meta_t *out);
/* Writes <metadata>: the flags say what is written (paging state with
 * HAS_MORE_PAGES, no specs with NO_METADATA, the global table spec).
 * Returns 0, CQLMQ_EINVAL (specs missing, negative counts, no type) or the
 * writer's sticky error. */
int cql_meta_write(cql_wr_t *w, int version, cql_meta_kind_t kind, const cql_meta_t *m);

/* ---- reading rows ---- */

/* Walks <rows_content>. Invariants: p <= end; left rows remain; err is
 * sticky. */
typedef struct cql_rows_iter {
    const uint8_t *p;   /* next cell */
    const uint8_t *end; /* end of the content */
    int32_t ncols;      /* cells per row */
    int32_t left;       /* rows not yet yielded */
    int err;            /* first error, then returned for ever */
} cql_rows_iter_t;

void cql_rows_iter_init(cql_rows_iter_t *it, const cql_result_rows_t *rows);

/* Yields the next row: cells[0..ncols) become slices of the content (len
 * CQL_BYTES_NULL for nulls). Returns 1 for a row, 0 after the last one (and
 * only if no byte is left over), or CQLMQ_ETRUNCATED (a cell runs past the
 * end) / CQLMQ_ETRAILING (bytes after the last row); cells are unspecified
 * then. */
int cql_rows_next(cql_rows_iter_t *it, cql_bytes_t *cells);

/* Checks the whole content (one walk without yielding). Returns 0,
 * CQLMQ_ETRUNCATED or CQLMQ_ETRAILING. */
int cql_rows_validate(const cql_result_rows_t *rows);

/* ---- writing rows ---- */

/* Invariants: 0 <= col < ncols; nrows counts complete rows; count_off is
 * where the <rows_count> placeholder sits in w. */
typedef struct cql_rows_builder {
    cql_wr_t *w;        /* borrowed for the builder's life */
    size_t count_off;   /* offset of <rows_count> */
    int32_t ncols;      /* cells per row */
    int32_t nrows;      /* complete rows written */
    int32_t col;        /* cells written in the current row */
    int err;            /* first error (besides the writer's) */
} cql_rows_builder_t;

/* Writes [int] ROWS, <metadata> and a <rows_count> placeholder into w. The
 * envelope (tracing id, warnings), if any, must already be written: see
 * cql_envelope_write in cql_msg.h. Returns 0, CQLMQ_EINVAL (bad metadata, ncols < 1) or
 * the writer's error. */
int cql_rows_begin(cql_rows_builder_t *b, cql_wr_t *w, int version, const cql_meta_t *meta);

/* Appends one cell (a [bytes]: null when len < 0). Errors (writer's, or
 * more than INT32_MAX rows) surface in cql_rows_finish. */
void cql_rows_add(cql_rows_builder_t *b, cql_bytes_t cell);
/* Appends a whole row of b->ncols cells with one reservation; calling it
 * in the middle of a row begun cell by cell makes cql_rows_finish return
 * CQLMQ_EINVAL. */
void cql_rows_add_row(cql_rows_builder_t *b, const cql_bytes_t *cells);
/* Writes a cell in place: cql_rows_cell_begin reserves its length prefix
 * and returns its offset; the caller writes the value into b->w; then
 * cql_rows_cell_end patches the length. */
size_t cql_rows_cell_begin(cql_rows_builder_t *b);
void cql_rows_cell_end(cql_rows_builder_t *b, size_t off);

/* Patches the row count. Returns 0, CQLMQ_EINVAL (last row incomplete),
 * CQLMQ_ERANGE (more than INT32_MAX rows or a cell longer than INT32_MAX),
 * or the writer's error. */
int cql_rows_finish(cql_rows_builder_t *b);

#endif /* CQL_RESULT_H */
