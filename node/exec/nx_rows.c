/*
 * nx_rows: the bodies the executor writes: Rows results (columns declared,
 * rows collected in a scratch writer because the paging state, known only
 * after the page is read, precedes them in the metadata), Void,
 * Set_keyspace, Schema_change, and ERROR bodies from the recorded error.
 */
#include <string.h>

#include "nx_int.h"

void nx_rs_init(nx_rs_t *rs, nx_req_t *r, const char *ks, const char *table)
{
    memset(rs, 0, sizeof *rs);
    rs->r = r;
    rs->ks = ks;
    rs->table = table;
    cql_wr_init(&rs->rows);
}

void nx_rs_close(nx_rs_t *rs) { cql_wr_close(&rs->rows); }

static cql_str_t str_of(const char *s)
{
    return (cql_str_t){s, s != NULL ? strlen(s) : 0};
}

int nx_rs_col(nx_rs_t *rs, const char *name, const cql_type_t *type)
{
    if (rs->ncols == rs->capcols) {
        int32_t cap = rs->capcols ? rs->capcols * 2 : 16;
        cql_col_spec_t *v = cql_arena_calloc(rs->r->a, (size_t)cap, sizeof *v);
        if (v == NULL)
            return CQLMQ_ENOMEM;
        if (rs->ncols > 0)
            memcpy(v, rs->cols, (size_t)rs->ncols * sizeof *v);
        rs->cols = v;
        rs->capcols = cap;
    }
    cql_col_spec_t *c = &rs->cols[rs->ncols++];
    c->keyspace = str_of(rs->ks);
    c->table = str_of(rs->table);
    c->name = str_of(name);
    c->type = (cql_type_t *)type;
    return 0;
}

void nx_rs_cell(nx_rs_t *rs, cql_bytes_t v)
{
    if (v.len < 0)
        cql_wr_i32(&rs->rows, -1);
    else
        cql_wr_bytes(&rs->rows, v);
}

void nx_rs_end_row(nx_rs_t *rs) { rs->nrows++; }

void nx_rs_meta(const nx_rs_t *rs, cql_meta_t *m)
{
    memset(m, 0, sizeof *m);
    m->ncols = rs->ncols;
    if (rs->ncols == 0) {
        m->flags = CQL_MF_NO_METADATA;
        return;
    }
    m->flags = CQL_MF_GLOBAL_TABLES_SPEC;
    m->keyspace = str_of(rs->ks);
    m->table = str_of(rs->table);
    m->cols = rs->cols;
}

int nx_rs_finish(nx_rs_t *rs, cql_bytes_t paging_state)
{
    cql_wr_t *w = rs->r->out;
    if (cql_wr_error(&rs->rows)) {
        int e = cql_wr_error(&rs->rows);
        nx_rs_close(rs);
        return e;
    }
    cql_meta_t m;
    nx_rs_meta(rs, &m);
    if (paging_state.len >= 0) {
        m.flags |= CQL_MF_HAS_MORE_PAGES;
        m.paging_state = paging_state;
    }
    cql_wr_i32(w, CQL_RESULT_ROWS);
    int rc = cql_meta_write(w, rs->r->version, CQL_META_ROWS, &m);
    cql_wr_i32(w, rs->nrows);
    cql_wr_raw(w, rs->rows.data, rs->rows.len);
    nx_rs_close(rs);
    if (rc != 0)
        return rc;
    return cql_wr_error(w);
}

int nx_result_void(nx_req_t *r)
{
    cql_wr_i32(r->out, CQL_RESULT_VOID);
    return cql_wr_error(r->out);
}

int nx_result_set_keyspace(nx_req_t *r, const char *ks)
{
    cql_wr_i32(r->out, CQL_RESULT_SET_KEYSPACE);
    cql_wr_cstring(r->out, ks);
    return cql_wr_error(r->out);
}

int nx_result_schema_change(nx_req_t *r, const cql_schema_change_t *sc)
{
    cql_wr_i32(r->out, CQL_RESULT_SCHEMA_CHANGE);
    int rc = cql_schema_change_write(r->out, r->version, sc);
    return rc != 0 ? rc : cql_wr_error(r->out);
}

int nx_write_error(nx_req_t *r)
{
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_ERROR;
    cql_msg_error_t *e = &m.u.error;
    e->code = r->ecode;
    e->message = str_of(r->emsg);
    if (r->ecode == CQL_ERR_ALREADY_EXISTS) {
        e->keyspace = str_of(r->eks ? r->eks : "");
        e->name = str_of(r->ename ? r->ename : "");
    } else if (r->ecode == CQL_ERR_UNPREPARED) {
        e->id = (cql_bytes_t){r->eid, (int32_t)r->eid_len};
    } else if (r->ecode == CQL_ERR_WRITE_TIMEOUT || r->ecode == CQL_ERR_READ_TIMEOUT) {
        e->consistency = r->consistency;
        e->write_type = str_of("SIMPLE");
    }
    return cql_msg_encode(r->out, r->version, &m);
}
