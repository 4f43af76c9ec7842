/*
 * cqlc_output: text renderings of values and results, shared by the cqlmq
 * CLI and the tests (not part of the public API).
 *
 *   cqlc_format   one value as a CQL literal (cqlsh style), as cqlsh shows
 *                 it in a table (top-level text and dates unquoted), or as
 *                 JSON (the forms of Cassandra's toJson)
 *   cqlc_out_*    a result, page by page, as an aligned table, JSON lines
 *                 (one object per row) or CSV (RFC 4180 quoting, CRLF)
 *
 * Output is written page by page: memory is one page of text, whatever the
 * number of rows.
 */
#ifndef CQLC_OUTPUT_H
#define CQLC_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cqlmq/client.h"

/* A growable string with a sticky error (CQLMQ_ENOMEM). Invariant: p is
 * NUL-terminated when cap > 0. */
typedef struct cqlc_sb {
    char *p;     /* heap buffer or NULL */
    size_t len;  /* bytes used, NUL excluded */
    size_t cap;  /* bytes allocated */
    int err;     /* first error, sticky */
} cqlc_sb_t;

void cqlc_sb_init(cqlc_sb_t *sb);
void cqlc_sb_close(cqlc_sb_t *sb);
void cqlc_sb_reset(cqlc_sb_t *sb);
void cqlc_sb_put(cqlc_sb_t *sb, const char *s, size_t n);
void cqlc_sb_puts(cqlc_sb_t *sb, const char *s);
void cqlc_sb_putc(cqlc_sb_t *sb, char c);
void cqlc_sb_printf(cqlc_sb_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef enum cqlc_style {
    CQLC_STYLE_LITERAL = 0, /* 'it''s', '2024-01-02', [1, 2] */
    CQLC_STYLE_TEXT,        /* it's, 2024-01-02, [1, 2] (top level unquoted) */
    CQLC_STYLE_JSON,        /* "it's", "2024-01-02", [1,2] */
} cqlc_style_t;

/* Appends v to sb. Returns 0, CQLMQ_EBADTYPE (broken encoding),
 * CQLMQ_ELIMIT (too deep) or CQLMQ_ENOMEM. */
int cqlc_format(cqlc_sb_t *sb, const cqlmq_value_t *v, cqlc_style_t style);

/* Field quoting of RFC 4180: quoted when it holds , " CR or LF (or starts
 * or ends with a space), quotes doubled. */
void cqlc_csv_field(cqlc_sb_t *sb, const char *s, size_t n);
/* A JSON string literal with its escapes. */
void cqlc_json_string(cqlc_sb_t *sb, const char *s, size_t n);
/* Terminal columns of UTF-8 text (one per code point). */
size_t cqlc_display_width(const char *s, size_t n);

typedef enum cqlc_out_fmt { CQLC_OUT_TABLE = 0, CQLC_OUT_JSON, CQLC_OUT_CSV } cqlc_out_fmt_t;

/* Invariant: widths has ncols entries once the header is known. */
typedef struct cqlc_out {
    FILE *f;              /* borrowed */
    cqlc_out_fmt_t fmt;
    bool header_done;     /* table / CSV header written */
    uint32_t ncols;
    size_t *widths;       /* table: column widths so far (they only grow) */
    uint64_t rows;        /* rows written */
    cqlc_sb_t line;       /* scratch */
} cqlc_out_t;

void cqlc_out_init(cqlc_out_t *o, FILE *f, cqlc_out_fmt_t fmt);
/* Writes every row of a ROWS result or page. Returns 0, CQLMQ_EIO (the
 * stream failed), CQLMQ_ENOMEM or a cqlc_format code. */
int cqlc_out_page(cqlc_out_t *o, const cqlmq_result_t *page);
/* Table: the "(N rows)" footer. Returns 0 or CQLMQ_EIO. */
int cqlc_out_finish(cqlc_out_t *o);
void cqlc_out_close(cqlc_out_t *o);
/* Parses "table", "json" or "csv". Returns 0 or CQLMQ_EINVAL. */
int cqlc_out_fmt_parse(const char *s, cqlc_out_fmt_t *out);

#endif /* CQLC_OUTPUT_H */
