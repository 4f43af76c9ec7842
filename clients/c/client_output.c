/*
 * client_output: results as text, page by page (see cqlc_output.h).
 *
 *   table  cqlsh's layout: " a | b " with a dashed rule under the header;
 *          numbers right-aligned, everything else left-aligned. Widths are
 *          computed per page and only grow, so a long stream stays aligned
 *          without holding more than one page.
 *   json   one JSON object per row and per line (JSON lines), with the value
 *          forms of Cassandra's toJson.
 *   csv    a header line, then one line per row; RFC 4180 quoting; null is
 *          an empty field; lines end with CRLF.
 */
#include <stdlib.h>
#include <string.h>

#include "cqlc_int.h"
#include "cqlc_output.h"

void cqlc_csv_field(cqlc_sb_t *sb, const char *s, size_t n)
{
    bool quote = n > 0 && (s[0] == ' ' || s[n - 1] == ' ');
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        cqlc_sb_put(sb, s, n);
        return;
    }
    cqlc_sb_putc(sb, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '"') {
            cqlc_sb_put(sb, s + run, i + 1 - run);
            cqlc_sb_putc(sb, '"');
            run = i + 1;
        }
    cqlc_sb_put(sb, s + run, n - run);
    cqlc_sb_putc(sb, '"');
}

size_t cqlc_display_width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            w++;
    return w;
}

int cqlc_out_fmt_parse(const char *s, cqlc_out_fmt_t *out)
{
    if (strcmp(s, "table") == 0)
        *out = CQLC_OUT_TABLE;
    else if (strcmp(s, "json") == 0)
        *out = CQLC_OUT_JSON;
    else if (strcmp(s, "csv") == 0)
        *out = CQLC_OUT_CSV;
    else
        return CQLMQ_EINVAL;
    return 0;
}

void cqlc_out_init(cqlc_out_t *o, FILE *f, cqlc_out_fmt_t fmt)
{
    memset(o, 0, sizeof *o);
    o->f = f;
    o->fmt = fmt;
    cqlc_sb_init(&o->line);
}

void cqlc_out_close(cqlc_out_t *o)
{
    free(o->widths);
    o->widths = NULL;
    cqlc_sb_close(&o->line);
}

static int flush(cqlc_out_t *o)
{
    if (o->line.err)
        return o->line.err;
    if (o->line.len > 0 && fwrite(o->line.p, 1, o->line.len, o->f) != o->line.len)
        return CQLMQ_EIO;
    cqlc_sb_reset(&o->line);
    return 0;
}

static bool numeric(const cqlmq_value_t *v)
{
    switch (cqlmq_value_kind(v)) {
    case CQLMQ_K_INT: case CQLMQ_K_VARINT: case CQLMQ_K_FLOAT:
    case CQLMQ_K_DOUBLE: case CQLMQ_K_DECIMAL:
        return true;
    default:
        return false;
    }
}

static int page_json(cqlc_out_t *o, const cqlmq_result_t *page)
{
    uint32_t ncols = cqlmq_result_column_count(page);
    for (uint32_t i = 0; i < cqlmq_result_row_count(page); i++) {
        cqlmq_row_t row;
        int rc = cqlmq_result_row(page, i, &row);
        cqlc_sb_putc(&o->line, '{');
        for (uint32_t c = 0; c < ncols && rc == 0; c++) {
            cqlmq_value_t v;
            const char *name = cqlmq_result_column_name(page, c);
            if (c > 0)
                cqlc_sb_putc(&o->line, ',');
            cqlc_json_string(&o->line, name, strlen(name));
            cqlc_sb_putc(&o->line, ':');
            if ((rc = cqlmq_row_value(&row, c, &v)) == 0)
                rc = cqlc_format(&o->line, &v, CQLC_STYLE_JSON);
        }
        cqlc_sb_puts(&o->line, "}\n");
        if (rc != 0 || (rc = flush(o)) != 0)
            return rc;
        o->rows++;
    }
    return 0;
}

static int page_csv(cqlc_out_t *o, const cqlmq_result_t *page)
{
    uint32_t ncols = cqlmq_result_column_count(page);
    cqlc_sb_t cell;
    int rc = 0;
    if (!o->header_done) {
        for (uint32_t c = 0; c < ncols; c++) {
            const char *name = cqlmq_result_column_name(page, c);
            if (c > 0)
                cqlc_sb_putc(&o->line, ',');
            cqlc_csv_field(&o->line, name, strlen(name));
        }
        cqlc_sb_puts(&o->line, "\r\n");
        o->header_done = true;
        if ((rc = flush(o)) != 0)
            return rc;
    }
    cqlc_sb_init(&cell);
    for (uint32_t i = 0; i < cqlmq_result_row_count(page) && rc == 0; i++) {
        cqlmq_row_t row;
        rc = cqlmq_result_row(page, i, &row);
        for (uint32_t c = 0; c < ncols && rc == 0; c++) {
            cqlmq_value_t v;
            if (c > 0)
                cqlc_sb_putc(&o->line, ',');
            if ((rc = cqlmq_row_value(&row, c, &v)) != 0 || cqlmq_value_is_null(&v))
                continue;
            cqlc_sb_reset(&cell);
            if ((rc = cqlc_format(&cell, &v, CQLC_STYLE_TEXT)) == 0)
                cqlc_csv_field(&o->line, cell.p ? cell.p : "", cell.len);
        }
        cqlc_sb_puts(&o->line, "\r\n");
        if (rc == 0 && (rc = flush(o)) == 0)
            o->rows++;
    }
    cqlc_sb_close(&cell);
    return rc;
}

static void pad(cqlc_sb_t *sb, size_t n)
{
    while (n-- > 0)
        cqlc_sb_putc(sb, ' ');
}

static int page_table(cqlc_out_t *o, const cqlmq_result_t *page)
{
    uint32_t ncols = cqlmq_result_column_count(page), nrows = cqlmq_result_row_count(page);
    if (ncols == 0)
        return 0;
    if (o->widths == NULL) {
        o->ncols = ncols;
        o->widths = calloc(ncols, sizeof *o->widths);
        if (o->widths == NULL)
            return CQLMQ_ENOMEM;
        for (uint32_t c = 0; c < ncols; c++) {
            const char *name = cqlmq_result_column_name(page, c);
            o->widths[c] = cqlc_display_width(name, strlen(name));
        }
    }
    if (ncols != o->ncols)
        return CQLMQ_EINVAL;
    /* One page of cells: text in one buffer, (offset, length, right) each. */
    cqlc_sb_t text;
    size_t ncells = (size_t)nrows * ncols;
    size_t *cells = calloc(ncells ? ncells * 3 : 1, sizeof *cells);
    int rc = cells ? 0 : CQLMQ_ENOMEM;
    cqlc_sb_init(&text);
    for (uint32_t i = 0; i < nrows && rc == 0; i++) {
        cqlmq_row_t row;
        rc = cqlmq_result_row(page, i, &row);
        for (uint32_t c = 0; c < ncols && rc == 0; c++) {
            cqlmq_value_t v;
            size_t k = ((size_t)i * ncols + c) * 3, start = text.len;
            if ((rc = cqlmq_row_value(&row, c, &v)) != 0 ||
                (rc = cqlc_format(&text, &v, CQLC_STYLE_TEXT)) != 0)
                break;
            cells[k] = start;
            cells[k + 1] = text.len - start;
            cells[k + 2] = numeric(&v);
            size_t w = cqlc_display_width(text.p + start, text.len - start);
            if (w > o->widths[c])
                o->widths[c] = w;
        }
    }
    if (rc == 0 && text.err)
        rc = text.err;
    if (rc == 0 && !o->header_done) {
        for (uint32_t c = 0; c < ncols; c++) {
            const char *name = cqlmq_result_column_name(page, c);
            size_t w = cqlc_display_width(name, strlen(name));
            cqlc_sb_puts(&o->line, c ? " | " : " ");
            cqlc_sb_puts(&o->line, name);
            if (c + 1 < ncols)
                pad(&o->line, o->widths[c] - w);
        }
        cqlc_sb_puts(&o->line, "\n");
        for (uint32_t c = 0; c < ncols; c++) {
            if (c > 0)
                cqlc_sb_putc(&o->line, '+');
            for (size_t k = 0; k < o->widths[c] + 2; k++)
                cqlc_sb_putc(&o->line, '-');
        }
        cqlc_sb_puts(&o->line, "\n");
        o->header_done = true;
        rc = flush(o);
    }
    for (uint32_t i = 0; i < nrows && rc == 0; i++) {
        for (uint32_t c = 0; c < ncols; c++) {
            size_t k = ((size_t)i * ncols + c) * 3;
            const char *s = text.p ? text.p + cells[k] : "";
            size_t w = cqlc_display_width(s, cells[k + 1]);
            cqlc_sb_puts(&o->line, c ? " | " : " ");
            if (cells[k + 2])
                pad(&o->line, o->widths[c] - w);
            cqlc_sb_put(&o->line, s, cells[k + 1]);
            if (!cells[k + 2] && c + 1 < ncols)
                pad(&o->line, o->widths[c] - w);
        }
        cqlc_sb_putc(&o->line, '\n');
        if ((rc = flush(o)) == 0)
            o->rows++;
    }
    free(cells);
    cqlc_sb_close(&text);
    return rc;
}

int cqlc_out_page(cqlc_out_t *o, const cqlmq_result_t *page)
{
    if (cqlmq_result_kind(page) != CQLMQ_RESULT_ROWS)
        return 0;
    switch (o->fmt) {
    case CQLC_OUT_JSON: return page_json(o, page);
    case CQLC_OUT_CSV: return page_csv(o, page);
    default: return page_table(o, page);
    }
}

int cqlc_out_finish(cqlc_out_t *o)
{
    if (o->fmt == CQLC_OUT_TABLE && o->header_done) {
        cqlc_sb_printf(&o->line, "\n(%llu rows)\n", (unsigned long long)o->rows);
        int rc = flush(o);
        if (rc != 0)
            return rc;
    }
    return fflush(o->f) == 0 ? 0 : CQLMQ_EIO;
}
