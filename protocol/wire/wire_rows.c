/*
 * wire_rows: Rows results -> msgpack (see wire_rows.h).
 *
 * The row array's count is known only at the end (a byte cap may stop it
 * early), so its header is reserved for the largest count possible (the
 * rows left, capped by max_rows) and patched afterwards; when the real
 * count needs a shorter header the rows are moved down by 2 or 4 bytes, so
 * the output is always in msgpack's smallest form.
 */
#include "wire_rows.h"

#include <stdlib.h>

#include "wire_value.h"

/* Cells of one row live on the stack up to this many columns; wider rows
 * take one heap array per call (never per row). */
#define WIRE_ROWS_STACK_COLS 64

static size_t array_hdr_size(uint64_t count)
{
    return count <= 15 ? 1 : count <= UINT16_MAX ? 3 : 5;
}

static void array_hdr_put(uint8_t *p, size_t size, uint32_t count)
{
    if (size == 1) {
        p[0] = (uint8_t)(0x90 | count);
    } else if (size == 3) {
        p[0] = 0xdc;
        cql_store_u16(p + 1, (uint16_t)count);
    } else {
        p[0] = 0xdd;
        cql_store_u32(p + 1, count);
    }
}

int wire_columns_write(mpk_wr_t *w, const cql_meta_t *meta)
{
    if (meta->cols == NULL && meta->ncols > 0)
        return CQLMQ_EINVAL;
    mpk_wr_array(w, (uint32_t)meta->ncols);
    for (int32_t i = 0; i < meta->ncols; i++) {
        const cql_col_spec_t *c = &meta->cols[i];
        if (c->type == NULL)
            return CQLMQ_EINVAL;
        mpk_wr_array(w, 2);
        mpk_wr_str(w, c->name.ptr, c->name.len);
        /* format the type string straight into the writer */
        int n = cql_type_format(c->type, NULL, 0);
        if (n < 0)
            return n;
        mpk_wr_str_hdr(w, (uint32_t)n);
        if (mpk_wr_reserve(w, (size_t)n + 1) != 0)
            return w->err;
        cql_type_format(c->type, (char *)w->data + w->len, (size_t)n + 1);
        w->len += (size_t)n;
    }
    return w->err;
}

/* One row: an array of ncols transcoded cells. */
static int put_row(mpk_wr_t *w, const cql_meta_t *types, const cql_bytes_t *cells, int32_t ncols)
{
    mpk_wr_array(w, (uint32_t)ncols);
    for (int32_t i = 0; i < ncols; i++) {
        int rc = wire_value_to_mpk(w, types->cols[i].type, cells[i]);
        if (rc != 0)
            return rc;
    }
    return w->err;
}

int wire_rows_write(mpk_wr_t *w, cql_rows_iter_t *it, const cql_meta_t *types,
                    const wire_rows_cap_t *cap, uint32_t *nrows)
{
    cql_bytes_t stack_cells[WIRE_ROWS_STACK_COLS];
    cql_bytes_t *cells = stack_cells;
    size_t start = w->len;
    uint32_t n = 0;
    int rc = 0;

    *nrows = 0;
    if (w->err)
        return w->err;
    if (types->cols == NULL || types->ncols != it->ncols || it->ncols < 0)
        return CQLMQ_EINVAL;
    for (int32_t i = 0; i < types->ncols; i++)
        if (types->cols[i].type == NULL)
            return CQLMQ_EINVAL;
    if (it->ncols > WIRE_ROWS_STACK_COLS) {
        cells = malloc((size_t)it->ncols * sizeof *cells);
        if (cells == NULL)
            return CQLMQ_ENOMEM;
    }

    uint64_t bound = it->left > 0 ? (uint64_t)it->left : 0;
    if (cap->max_rows != 0 && cap->max_rows < bound)
        bound = cap->max_rows;
    if (bound > UINT32_MAX)
        bound = UINT32_MAX;
    size_t hdr = array_hdr_size(bound);
    if (mpk_wr_reserve(w, hdr) != 0)
        goto fail;
    w->len += hdr;

    while (n < bound && it->left > 0) {
        cql_rows_iter_t saved = *it;
        size_t row_at = w->len;
        int got = cql_rows_next(it, cells);
        if (got < 0) {
            rc = got;
            goto fail;
        }
        if (got == 0)
            break;
        if ((rc = put_row(w, types, cells, it->ncols)) != 0)
            goto fail;
        if (n > 0 && cap->max_bytes != 0 && w->len - start > cap->max_bytes) {
            mpk_wr_truncate(w, row_at); /* this row opens the next page */
            *it = saved;
            break;
        }
        n++;
    }
    if (it->left == 0) { /* the end: make the iterator check trailing bytes */
        int got = cql_rows_next(it, cells);
        if (got != 0) {
            rc = got < 0 ? got : CQLMQ_ETRAILING;
            goto fail;
        }
    }

    size_t real = array_hdr_size(n);
    if (real < hdr) {
        memmove(w->data + start + real, w->data + start + hdr, w->len - start - hdr);
        w->len -= hdr - real;
    }
    array_hdr_put(w->data + start, real, n);
    *nrows = n;
    if (cells != stack_cells)
        free(cells);
    return 0;

fail:
    if (rc == 0)
        rc = w->err;
    if (!w->err)
        mpk_wr_truncate(w, start);
    if (cells != stack_cells)
        free(cells);
    return rc;
}
