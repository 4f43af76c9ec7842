/*
 * wire_rows: Rows results -> msgpack (see wire_rows.h).
 *
 * The row array's count is known only at the end (a byte cap may stop it
 * early), so its header is reserved for the largest count possible (the
 * rows left, capped by max_rows) and patched afterwards; when the real
 * count needs a shorter header the rows are moved down by 2 or 4 bytes, so
 * the output is always in msgpack's smallest form.
 *
 * udts: the UDTs of the column types are gathered in one walk (distinct by
 * name, in the order met, nested ones included) and written as a map. The
 * walk runs only for metadata that has a UDT (wire_meta_has_udt, which
 * looks at nothing but the column kinds for native columns).
 */
#include "wire_rows.h"

#include <stdlib.h>
#include <string.h>

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

/* Formats t's CQL type string straight into the writer as a msgpack str. */
static int put_type(mpk_wr_t *w, const cql_type_t *t)
{
    int n = cql_type_format(t, NULL, 0);
    if (n < 0)
        return n;
    mpk_wr_str_hdr(w, (uint32_t)n);
    if (mpk_wr_reserve(w, (size_t)n + 1) != 0)
        return w->err;
    cql_type_format(t, (char *)w->data + w->len, (size_t)n + 1);
    w->len += (size_t)n;
    return 0;
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
        int rc = put_type(w, c->type);
        if (rc != 0)
            return rc;
    }
    return w->err;
}

/* ---- udts ------------------------------------------------------------ */

/* Deeper than any tree cql_type_read or cql_type_parse builds. */
#define WIRE_UDT_MAX_DEPTH (2 * CQL_TYPE_MAX_DEPTH)

static bool type_has_udt(const cql_type_t *t, int depth)
{
    if (t == NULL || depth >= WIRE_UDT_MAX_DEPTH)
        return false;
    switch (t->kind) {
    case CQL_TYPE_UDT:
        return true;
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET:
    case CQL_TYPE_MAP:
    case CQL_TYPE_TUPLE:
        for (size_t i = 0; i < t->nsub; i++)
            if (type_has_udt(t->sub[i], depth + 1))
                return true;
        return false;
    default:
        return false;
    }
}

bool wire_meta_has_udt(const cql_meta_t *meta)
{
    if (meta == NULL || meta->cols == NULL)
        return false;
    for (int32_t i = 0; i < meta->ncols; i++) {
        const cql_type_t *t = meta->cols[i].type;
        if (t != NULL && t->nsub > 0 && type_has_udt(t, 0))
            return true;
    }
    return false;
}

/* The distinct UDTs met so far, by name, in the order met. Invariant:
 * n <= cap; v is stack or a heap array of cap entries. */
typedef struct udt_set {
    const cql_type_t **v;            /* n UDT nodes with distinct names */
    size_t n, cap;
    const cql_type_t *stack[16];     /* v while n <= 16 */
} udt_set_t;

static const char *udt_name(const cql_type_t *t) { return t->name != NULL ? t->name : ""; }

static int udt_set_add(udt_set_t *s, const cql_type_t *t)
{
    if (s->n == s->cap) {
        size_t cap = s->cap * 2;
        const cql_type_t **v = malloc(cap * sizeof *v);
        if (v == NULL)
            return CQLMQ_ENOMEM;
        memcpy(v, s->v, s->n * sizeof *v);
        if (s->v != s->stack)
            free(s->v);
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = t;
    return 0;
}

/* Adds the UDTs of t (and of their fields) not met yet. */
static int collect_udts(udt_set_t *s, const cql_type_t *t, int depth)
{
    if (t == NULL)
        return CQLMQ_EINVAL;
    if (depth >= WIRE_UDT_MAX_DEPTH)
        return CQLMQ_ELIMIT;
    if (t->kind == CQL_TYPE_UDT) {
        for (size_t i = 0; i < s->n; i++)
            if (strcmp(udt_name(s->v[i]), udt_name(t)) == 0)
                return 0; /* met: its fields were collected then */
        if (t->nsub > 0 && t->field_names == NULL)
            return CQLMQ_EINVAL;
        int rc = udt_set_add(s, t);
        if (rc != 0)
            return rc;
    } else if (t->kind != CQL_TYPE_LIST && t->kind != CQL_TYPE_SET && t->kind != CQL_TYPE_MAP &&
               t->kind != CQL_TYPE_TUPLE) {
        return 0;
    }
    for (size_t i = 0; i < t->nsub; i++) {
        int rc = collect_udts(s, t->sub[i], depth + 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* A UDT field's type as a nested type prints: collections and UDTs
 * frozen (tuples always are). */
static int put_field_type(mpk_wr_t *w, const cql_type_t *t)
{
    if (!t->frozen && (t->kind == CQL_TYPE_LIST || t->kind == CQL_TYPE_SET ||
                       t->kind == CQL_TYPE_MAP || t->kind == CQL_TYPE_UDT)) {
        cql_type_t frozen = *t;
        frozen.frozen = true;
        return put_type(w, &frozen);
    }
    return put_type(w, t);
}

static int put_udts(mpk_wr_t *w, const udt_set_t *s)
{
    mpk_wr_map(w, (uint32_t)s->n);
    for (size_t i = 0; i < s->n; i++) {
        const cql_type_t *u = s->v[i];
        cql_type_t key = *u; /* the name as a top-level type string prints it */
        key.frozen = false;
        int rc = put_type(w, &key);
        if (rc != 0)
            return rc;
        mpk_wr_array(w, (uint32_t)u->nsub);
        for (size_t f = 0; f < u->nsub; f++) {
            mpk_wr_array(w, 2);
            mpk_wr_cstr(w, u->field_names[f] != NULL ? u->field_names[f] : "");
            if ((rc = put_field_type(w, u->sub[f])) != 0)
                return rc;
        }
    }
    return w->err;
}

int wire_udts_write(mpk_wr_t *w, const cql_meta_t *const *metas, size_t n)
{
    udt_set_t s;
    s.v = s.stack;
    s.n = 0;
    s.cap = sizeof s.stack / sizeof s.stack[0];
    int rc = 0;
    for (size_t m = 0; m < n && rc == 0; m++) {
        const cql_meta_t *meta = metas[m];
        if (meta == NULL || meta->cols == NULL)
            continue;
        for (int32_t i = 0; i < meta->ncols && rc == 0; i++)
            rc = collect_udts(&s, meta->cols[i].type, 0);
    }
    if (rc == 0)
        rc = put_udts(w, &s);
    if (s.v != s.stack)
        free(s.v);
    return rc;
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
