/*
 * cql_result: the RESULT body (spec v4 section 4.2.5: Void, Rows,
 * Set_keyspace, Prepared, Schema_change), the <metadata> of Rows and
 * Prepared results, the row iterator (client hot path) and the row builder
 * (server hot path).
 */
#include "cql_result.h"

#include <string.h>

/* ---- metadata ---- */

int cql_meta_read(cql_rd_t *r, int version, cql_meta_kind_t kind, cql_arena_t *a,
                  cql_meta_t *out)
{
    size_t save = r->pos;
    int rc;
    memset(out, 0, sizeof(*out));
    bool bind4 = kind == CQL_META_BIND && version >= 4;
    if ((rc = cql_rd_i32(r, &out->flags)) != 0 || (rc = cql_rd_i32(r, &out->ncols)) != 0)
        goto fail;
    if (out->ncols < 0) {
        rc = CQLMQ_EMALFORMED;
        goto fail;
    }
    if (bind4) {
        /* v4 bind metadata knows only GLOBAL_TABLES_SPEC. */
        out->flags &= CQL_MF_GLOBAL_TABLES_SPEC;
        if ((rc = cql_rd_count32(r, 2, &out->npk)) != 0)
            goto fail;
        if (out->npk) {
            out->pk_indices = cql_arena_calloc(a, (size_t)out->npk, sizeof(uint16_t));
            if (out->pk_indices == NULL) {
                rc = CQLMQ_ENOMEM;
                goto fail;
            }
            for (int32_t i = 0; i < out->npk; i++)
                (void)cql_rd_u16(r, &out->pk_indices[i]); /* counted above */
        }
    } else {
        if ((out->flags & CQL_MF_HAS_MORE_PAGES) &&
            (rc = cql_rd_bytes(r, &out->paging_state)) != 0)
            goto fail;
        if (out->flags & CQL_MF_NO_METADATA) {
            if (out->ncols > CQL_MAX_COLUMNS) {
                rc = CQLMQ_EMALFORMED;
                goto fail;
            }
            return 0;
        }
    }
    bool global = (out->flags & CQL_MF_GLOBAL_TABLES_SPEC) != 0;
    if (global && ((rc = cql_rd_string(r, &out->keyspace)) != 0 ||
                   (rc = cql_rd_string(r, &out->table)) != 0))
        goto fail;
    if (out->ncols == 0)
        return 0;
    /* A spec is at least name(2) + option(2), plus two strings when not global. */
    size_t min_spec = global ? 4 : 8;
    if ((size_t)out->ncols > cql_rd_left(r) / min_spec) {
        rc = CQLMQ_ETRUNCATED;
        goto fail;
    }
    out->cols = cql_arena_calloc(a, (size_t)out->ncols, sizeof(*out->cols));
    if (out->cols == NULL) {
        rc = CQLMQ_ENOMEM;
        goto fail;
    }
    for (int32_t i = 0; i < out->ncols; i++) {
        cql_col_spec_t *c = &out->cols[i];
        if (global) {
            c->keyspace = out->keyspace;
            c->table = out->table;
        } else if ((rc = cql_rd_string(r, &c->keyspace)) != 0 ||
                   (rc = cql_rd_string(r, &c->table)) != 0) {
            goto fail;
        }
        if ((rc = cql_rd_string(r, &c->name)) != 0 || (rc = cql_type_read(r, a, &c->type)) != 0)
            goto fail;
    }
    return 0;
fail:
    r->pos = save;
    return rc;
}

int cql_meta_write(cql_wr_t *w, int version, cql_meta_kind_t kind, const cql_meta_t *m)
{
    bool bind4 = kind == CQL_META_BIND && version >= 4;
    int32_t flags = bind4 ? (m->flags & CQL_MF_GLOBAL_TABLES_SPEC) : m->flags;
    if (m->ncols < 0 || (bind4 && m->npk < 0) || (bind4 && m->npk && !m->pk_indices))
        return CQLMQ_EINVAL;
    bool specs = bind4 || !(flags & CQL_MF_NO_METADATA);
    if (specs && m->ncols && m->cols == NULL)
        return CQLMQ_EINVAL;
    if (m->ncols > CQL_MAX_COLUMNS && !specs)
        return CQLMQ_EINVAL;
    cql_wr_i32(w, flags);
    cql_wr_i32(w, m->ncols);
    if (bind4) {
        cql_wr_i32(w, m->npk);
        for (int32_t i = 0; i < m->npk; i++)
            cql_wr_u16(w, m->pk_indices[i]);
    } else {
        if (flags & CQL_MF_HAS_MORE_PAGES)
            cql_wr_bytes(w, m->paging_state);
        if (!specs)
            return cql_wr_error(w);
    }
    bool global = (flags & CQL_MF_GLOBAL_TABLES_SPEC) != 0;
    if (global) {
        cql_wr_string(w, m->keyspace.ptr, m->keyspace.len);
        cql_wr_string(w, m->table.ptr, m->table.len);
    }
    for (int32_t i = 0; i < m->ncols; i++) {
        const cql_col_spec_t *c = &m->cols[i];
        if (c->type == NULL)
            return CQLMQ_EINVAL;
        if (!global) {
            cql_wr_string(w, c->keyspace.ptr, c->keyspace.len);
            cql_wr_string(w, c->table.ptr, c->table.len);
        }
        cql_wr_string(w, c->name.ptr, c->name.len);
        cql_type_write_version(w, c->type, version);
    }
    return cql_wr_error(w);
}

/* ---- RESULT kinds ---- */

static int dec_rows(cql_rd_t *r, int version, cql_arena_t *a, cql_result_rows_t *rows)
{
    int rc = cql_meta_read(r, version, CQL_META_ROWS, a, &rows->meta);
    if (rc)
        return rc;
    /* Each row holds ncols [bytes] of at least 4 bytes each. */
    size_t min_row = (size_t)rows->meta.ncols * 4;
    if ((rc = cql_rd_count32(r, min_row, &rows->nrows)) != 0)
        return rc;
    if (rows->meta.ncols == 0 && rows->nrows > 0)
        return CQLMQ_EMALFORMED; /* rows of nothing: only a CPU sink */
    rows->content = cql_rd_cur(r);
    rows->content_len = cql_rd_left(r);
    r->pos = r->len; /* the content is walked by cql_rows_next */
    return 0;
}

int cql_msg_dec_result(cql_rd_t *r, int version, cql_arena_t *a, cql_msg_t *m)
{
    cql_result_t *res = &m->u.result;
    int rc = cql_rd_i32(r, &res->kind);
    if (rc)
        return rc;
    switch (res->kind) {
    case CQL_RESULT_VOID:
        return 0;
    case CQL_RESULT_ROWS:
        return dec_rows(r, version, a, &res->u.rows);
    case CQL_RESULT_SET_KEYSPACE:
        return cql_rd_string(r, &res->u.keyspace);
    case CQL_RESULT_PREPARED: {
        cql_result_prepared_t *p = &res->u.prepared;
        if ((rc = cql_rd_short_bytes(r, &p->id)) != 0) /* v5: + result_metadata_id */
            return rc;
        if ((rc = cql_meta_read(r, version, CQL_META_BIND, a, &p->bind)) != 0)
            return rc;
        return cql_meta_read(r, version, CQL_META_ROWS, a, &p->result);
    }
    case CQL_RESULT_SCHEMA_CHANGE:
        return cql_schema_change_read(r, version, a, &res->u.schema_change);
    default:
        return CQLMQ_EMALFORMED;
    }
}

int cql_msg_enc_result(cql_wr_t *w, int version, const cql_msg_t *m)
{
    const cql_result_t *res = &m->u.result;
    int rc;
    switch (res->kind) {
    case CQL_RESULT_VOID:
        cql_wr_i32(w, res->kind);
        return 0;
    case CQL_RESULT_ROWS: {
        const cql_result_rows_t *rows = &res->u.rows;
        if (rows->nrows < 0 || (rows->content_len && rows->content == NULL))
            return CQLMQ_EINVAL;
        cql_wr_i32(w, res->kind);
        if ((rc = cql_meta_write(w, version, CQL_META_ROWS, &rows->meta)) != 0)
            return rc;
        cql_wr_i32(w, rows->nrows);
        cql_wr_raw(w, rows->content, rows->content_len);
        return 0;
    }
    case CQL_RESULT_SET_KEYSPACE:
        cql_wr_i32(w, res->kind);
        cql_wr_string(w, res->u.keyspace.ptr, res->u.keyspace.len);
        return 0;
    case CQL_RESULT_PREPARED: {
        const cql_result_prepared_t *p = &res->u.prepared;
        if (p->id.len < 0)
            return CQLMQ_EINVAL;
        cql_wr_i32(w, res->kind);
        cql_wr_short_bytes(w, p->id.ptr, (size_t)p->id.len);
        if ((rc = cql_meta_write(w, version, CQL_META_BIND, &p->bind)) != 0)
            return rc;
        return cql_meta_write(w, version, CQL_META_ROWS, &p->result);
    }
    case CQL_RESULT_SCHEMA_CHANGE:
        cql_wr_i32(w, res->kind);
        return cql_schema_change_write(w, version, &res->u.schema_change);
    default:
        return CQLMQ_EINVAL;
    }
}

/* ---- reading rows ---- */

static const uint8_t no_content[1];

void cql_rows_iter_init(cql_rows_iter_t *it, const cql_result_rows_t *rows)
{
    it->p = rows->content ? rows->content : no_content;
    it->end = it->p + (rows->content ? rows->content_len : 0);
    it->ncols = rows->meta.ncols;
    it->left = rows->nrows;
    it->err = 0;
}

int cql_rows_next(cql_rows_iter_t *it, cql_bytes_t *cells)
{
    if (it->err)
        return it->err;
    const uint8_t *p = it->p;
    const uint8_t *end = it->end;
    if (it->left <= 0) {
        if (p != end)
            return it->err = CQLMQ_ETRAILING;
        return 0;
    }
    for (int32_t i = 0, n = it->ncols; i < n; i++) {
        if (end - p < 4)
            return it->err = CQLMQ_ETRUNCATED;
        int32_t len = (int32_t)cql_load_u32(p);
        p += 4;
        if (len < 0) {
            cells[i].ptr = NULL;
            cells[i].len = CQL_BYTES_NULL;
            continue;
        }
        if ((size_t)(end - p) < (size_t)len)
            return it->err = CQLMQ_ETRUNCATED;
        cells[i].ptr = p;
        cells[i].len = len;
        p += len;
    }
    it->p = p;
    it->left--;
    return 1;
}

int cql_rows_validate(const cql_result_rows_t *rows)
{
    cql_rows_iter_t it;
    cql_rows_iter_init(&it, rows);
    const uint8_t *p = it.p;
    const uint8_t *end = it.end;
    for (int64_t cells = (int64_t)it.left * it.ncols; cells > 0; cells--) {
        if (end - p < 4)
            return CQLMQ_ETRUNCATED;
        int32_t len = (int32_t)cql_load_u32(p);
        p += 4;
        if (len > 0) {
            if ((size_t)(end - p) < (size_t)len)
                return CQLMQ_ETRUNCATED;
            p += len;
        }
    }
    return p == end ? 0 : CQLMQ_ETRAILING;
}

/* ---- writing rows ---- */

int cql_rows_begin(cql_rows_builder_t *b, cql_wr_t *w, int version, const cql_meta_t *meta)
{
    memset(b, 0, sizeof(*b));
    b->w = w;
    b->ncols = meta->ncols;
    if (meta->ncols < 1)
        return b->err = CQLMQ_EINVAL;
    size_t start = w->len;
    cql_wr_i32(w, CQL_RESULT_ROWS);
    int rc = cql_meta_write(w, version, CQL_META_ROWS, meta);
    if (rc) {
        if (!cql_wr_error(w))
            w->len = start;
        return b->err = rc;
    }
    b->count_off = w->len;
    cql_wr_i32(w, 0);
    return cql_wr_error(w);
}

static inline void cell_done(cql_rows_builder_t *b)
{
    if (++b->col == b->ncols) {
        b->col = 0;
        if (b->nrows == INT32_MAX && b->err == 0)
            b->err = CQLMQ_ERANGE;
        else
            b->nrows++;
    }
}

void cql_rows_add(cql_rows_builder_t *b, cql_bytes_t cell)
{
    cql_wr_t *w = b->w;
    size_t n = cell.len > 0 ? (size_t)cell.len : 0;
    if (cql_wr_reserve(w, 4 + n))
        return;
    uint8_t *p = w->data + w->len;
    cql_store_u32(p, (uint32_t)(cell.len < 0 ? CQL_BYTES_NULL : cell.len));
    if (n)
        memcpy(p + 4, cell.ptr, n);
    w->len += 4 + n;
    cell_done(b);
}

void cql_rows_add_row(cql_rows_builder_t *b, const cql_bytes_t *cells)
{
    cql_wr_t *w = b->w;
    if (b->col != 0) { /* a row started cell by cell */
        if (b->err == 0)
            b->err = CQLMQ_EINVAL;
        return;
    }
    size_t total = 0;
    for (int32_t i = 0; i < b->ncols; i++)
        total += 4 + (cells[i].len > 0 ? (size_t)cells[i].len : 0);
    if (cql_wr_reserve(w, total))
        return;
    uint8_t *p = w->data + w->len;
    for (int32_t i = 0; i < b->ncols; i++) {
        int32_t len = cells[i].len;
        cql_store_u32(p, (uint32_t)(len < 0 ? CQL_BYTES_NULL : len));
        p += 4;
        if (len > 0) {
            memcpy(p, cells[i].ptr, (size_t)len);
            p += len;
        }
    }
    w->len += total;
    b->col = b->ncols - 1;
    cell_done(b);
}

size_t cql_rows_cell_begin(cql_rows_builder_t *b)
{
    size_t off = b->w->len;
    cql_wr_i32(b->w, 0);
    return off;
}

void cql_rows_cell_end(cql_rows_builder_t *b, size_t off)
{
    cql_wr_t *w = b->w;
    if (cql_wr_error(w))
        return;
    size_t n = w->len - off - 4;
    if (n > INT32_MAX) {
        if (b->err == 0)
            b->err = CQLMQ_ERANGE;
        return;
    }
    cql_wr_patch_i32(w, off, (int32_t)n);
    cell_done(b);
}

int cql_rows_finish(cql_rows_builder_t *b)
{
    if (cql_wr_error(b->w))
        return cql_wr_error(b->w);
    if (b->err)
        return b->err;
    if (b->col != 0)
        return CQLMQ_EINVAL;
    cql_wr_patch_i32(b->w, b->count_off, b->nrows);
    return 0;
}
