/*
 * nx_scan: running a SELECT. Chooses the scan (a list of partitions from
 * EQ/IN on the partition key, in token order, or a token range), enforces
 * Cassandra's rules (ALLOW FILTERING, ORDER BY, DISTINCT), walks the rows
 * with LIMIT / PER PARTITION LIMIT / page size, and writes a Rows result.
 *
 * Paging state (opaque to clients, valid on every node since the store is
 * shared): magic, version, remaining LIMIT, rows already returned in the
 * current partition, index in the partition list, that partition's key,
 * and the store's resume position. A state that does not decode, or whose
 * position does not belong to the table, is a ProtocolError, never a crash.
 */
#include <string.h>

#include "nx_sel.h"

#define PS_MAGIC 0xC7
#define PS_VERSION 1

static const char FILTER_MSG[] =
    "Cannot execute this query as it might involve data filtering and thus may have "
    "unpredictable performance. If you want to execute this query despite the performance "
    "unpredictability, use ALLOW FILTERING";

typedef struct pstate {
    int32_t limit;        /* remaining LIMIT, -1 none */
    int32_t in_part;      /* rows returned in partition `pkey` */
    uint32_t pidx;        /* index in the partition list */
    cql_bytes_t pkey;     /* partition of in_part (len -1 none) */
    cql_bytes_t pos;      /* store position (len 0: start of pidx) */
} pstate_t;

static int bad_state(nx_req_t *r)
{
    return nx_fail(r, CQL_ERR_PROTOCOL_ERROR, "Invalid value for the paging state");
}

static int decode_state(nx_req_t *r, cql_bytes_t in, pstate_t *ps)
{
    cql_rd_t rd;
    cql_rd_init(&rd, in.ptr, in.len > 0 ? (size_t)in.len : 0);
    uint8_t magic, ver;
    cql_bytes_t pkey, pos;
    if (cql_rd_u8(&rd, &magic) != 0 || cql_rd_u8(&rd, &ver) != 0 || magic != PS_MAGIC ||
        ver != PS_VERSION || cql_rd_i32(&rd, &ps->limit) != 0 ||
        cql_rd_i32(&rd, &ps->in_part) != 0 || cql_rd_i32(&rd, (int32_t *)&ps->pidx) != 0 ||
        cql_rd_bytes(&rd, &pkey) != 0 || cql_rd_bytes(&rd, &pos) != 0 || cql_rd_left(&rd) != 0 ||
        ps->limit < -1 || ps->in_part < 0 || pos.len < 0)
        return bad_state(r);
    ps->pkey = pkey;
    ps->pos = pos;
    return 0;
}

static void encode_state(cql_wr_t *w, int32_t limit, int32_t in_part, uint32_t pidx,
                         cql_bytes_t pkey, const cql_wr_t *pos)
{
    cql_wr_u8(w, PS_MAGIC);
    cql_wr_u8(w, PS_VERSION);
    cql_wr_i32(w, limit);
    cql_wr_i32(w, in_part);
    cql_wr_i32(w, (int32_t)pidx);
    cql_wr_bytes(w, pkey);
    cql_wr_bytes(w, (cql_bytes_t){pos->data, (int32_t)pos->len});
}

static bool same_bytes(cql_bytes_t a, const uint8_t *p, size_t n, bool have)
{
    return have && a.len >= 0 && (size_t)a.len == n && (n == 0 || memcmp(a.ptr, p, n) == 0);
}

/* The query as planned. */
typedef struct plan {
    const node_table_t *t;
    nx_selection_t sel;
    nx_where_t w;
    cql_bytes_t **pks;    /* partition list, or NULL: token range scan */
    size_t npks;
    node_scan_t scan;     /* template */
    int32_t limit;        /* -1 none */
    int32_t ppl;          /* per partition limit, -1 none */
} plan_t;

static int plan_select(nx_req_t *r, const cql_select_stmt_t *s, plan_t *p)
{
    memset(p, 0, sizeof *p);
    const node_table_t *t;
    int rc = nx_resolve_table(r, &s->table, &t);
    if (rc != 0)
        return rc;
    if (nx_is_system_ks(t->keyspace) && (rc = nx_systab_refresh(r, t)) != 0)
        return rc;
    p->t = t;
    if ((rc = nx_sel_build(r, s, t, &p->sel)) != 0)
        return rc;
    if ((rc = nx_where_compile(r, t, s->where, s->nwhere, &p->w)) != 0)
        return rc;
    nx_where_t *w = &p->w;
    bool full_pk = w->npk_restricted == t->npk;
    bool needs = w->needs_filter || w->pk_other || (w->npk_restricted > 0 && !full_pk) ||
                 w->ck_needs_filter || (w->ck_restricted && !full_pk);
    if (needs && !s->allow_filtering)
        return nx_invalid(r, "%s", FILTER_MSG);
    if (w->has_token && full_pk)
        return nx_invalid(r, "Token restrictions cannot be combined with partition key equality restrictions");
    if (s->distinct) {
        if (!p->sel.only_static_pk)
            return nx_invalid(r, "SELECT DISTINCT queries must only request partition key columns and/or static columns");
        if (w->ck_restricted)
            return nx_invalid(r, "SELECT DISTINCT with WHERE clause only supports restriction by partition key and/or static columns.");
    }
    p->limit = -1;
    p->ppl = s->distinct ? 1 : -1;
    bool set;
    if (s->limit != NULL) {
        int32_t v;
        if ((rc = nx_term_i32(r, s->limit, "[limit]", &v, &set)) != 0)
            return rc;
        if (set && v <= 0)
            return nx_invalid(r, "LIMIT must be strictly positive");
        if (set)
            p->limit = v;
    }
    if (s->per_partition_limit != NULL) {
        int32_t v;
        if ((rc = nx_term_i32(r, s->per_partition_limit, "[per_partition_limit]", &v, &set)) != 0)
            return rc;
        if (set && v <= 0)
            return nx_invalid(r, "PER PARTITION LIMIT must be strictly positive");
        if (set)
            p->ppl = v;
    }
    node_scan_t *sc = &p->scan;
    sc->now = r->now_us / 1000000;
    if (s->norder_by > 0) {
        if (!full_pk)
            return nx_invalid(r, "ORDER BY is only supported when the partition key is restricted by an EQ or an IN.");
        bool rev = false;
        for (size_t i = 0; i < s->norder_by; i++) {
            const node_column_t *c = node_table_column(t, s->order_by[i].column);
            if (c == NULL)
                return nx_invalid(r, "Undefined column name %s", s->order_by[i].column);
            if (c->kind != NODE_COL_CLUSTERING)
                return nx_invalid(r, "Order by is currently only supported on the clustered columns of the PRIMARY KEY, got %s",
                                  c->name);
            if ((size_t)c->position != i)
                return nx_invalid(r, "Order by currently only supports the ordering of columns following their declared order in the PRIMARY KEY");
            bool r_i = s->order_by[i].desc != (c->order == NODE_ORDER_DESC);
            if (i > 0 && r_i != rev)
                return nx_invalid(r, "Unsupported order by relation");
            rev = r_i;
        }
        sc->reversed = rev;
    }
    if (full_pk) {
        if ((rc = nx_where_partitions(r, w, &p->pks, &p->npks)) != 0)
            return rc;
    } else {
        sc->has_start_token = w->has_start;
        sc->start_token_incl = w->start_incl;
        sc->start_token = w->start_token;
        sc->has_end_token = w->has_end;
        sc->end_token_incl = w->end_incl;
        sc->end_token = w->end_token;
    }
    if ((rc = nx_where_bounds(r, w, &sc->start, &sc->end)) != 0)
        return rc;
    sc->static_rows = t->nstatic > 0 && !w->ck_restricted;
    return 0;
}

/* Runs the scan; rows go to rs. *more is set when a page ended early and
 * `pos_out` then holds the paging state. */
static int run(nx_req_t *r, plan_t *p, nx_rs_t *rs, nx_agg_t *agg, const pstate_t *resume,
               int32_t page, bool *more, cql_wr_t *state_out)
{
    *more = false;
    int32_t limit = resume ? resume->limit : p->limit;
    int32_t in_part = resume ? resume->in_part : 0;
    uint32_t pidx = resume ? resume->pidx : 0;
    cql_wr_t cur_pkey, pos;
    cql_wr_init(&cur_pkey);
    cql_wr_init(&pos);
    bool have_pkey = false;
    if (resume && resume->pkey.len >= 0) {
        cql_wr_raw(&cur_pkey, resume->pkey.ptr, (size_t)resume->pkey.len);
        have_pkey = true;
    }
    int32_t emitted = 0;
    int rc = 0;
    if (p->pks != NULL && pidx > p->npks) {
        rc = bad_state(r);
        goto out;
    }
    if (limit == 0)
        goto out;
    for (;;) {
        if (p->pks != NULL && pidx >= p->npks)
            break;
        node_scan_t sc = p->scan;
        if (p->pks != NULL)
            sc.pk = p->pks[pidx];
        if (resume != NULL && resume->pos.len > 0) {
            sc.resume = resume->pos.ptr;
            sc.resume_len = (size_t)resume->pos.len;
        }
        resume = NULL;
        rc = node_iter_open(r->db->iter, r->db->store, p->t, &sc);
        if (rc == CQLMQ_EMALFORMED || rc == CQLMQ_EINVAL) {
            rc = sc.resume ? bad_state(r) : nx_invalid(r, "Invalid key in query");
            goto out;
        }
        if (rc != 0)
            goto out;
        const node_row_view_t *row;
        for (;;) {
            rc = node_iter_next(r->db->iter, &row);
            if (rc < 0)
                goto out;
            if (rc == 0)
                break;
            if (!same_bytes(row->pkey, cur_pkey.data, cur_pkey.len, have_pkey)) {
                cql_wr_reset(&cur_pkey);
                cql_wr_raw(&cur_pkey, row->pkey.ptr, (size_t)row->pkey.len);
                have_pkey = true;
                in_part = 0;
            }
            if (p->ppl >= 0 && in_part >= p->ppl)
                continue;
            bool ok;
            if ((rc = nx_where_match(r, &p->w, row, &ok)) != 0)
                goto out;
            if (!ok)
                continue;
            in_part++;
            if (agg != NULL) {
                if ((rc = nx_agg_add(r, &p->sel, agg, row)) != 0)
                    goto out;
            } else {
                nx_sel_project(rs, &p->sel, row);
            }
            emitted++;
            if (limit > 0 && --limit == 0)
                goto out;
            if (page > 0 && emitted >= page) {
                cql_wr_reset(&pos);
                if ((rc = node_iter_position(r->db->iter, &pos)) != 0)
                    goto out;
                /* more rows? one step of look-ahead (then pages may end empty) */
                const node_row_view_t *next;
                int la = node_iter_next(r->db->iter, &next);
                if (la < 0) {
                    rc = la;
                    goto out;
                }
                if (la == 0 && !(p->pks != NULL && pidx + 1 < p->npks))
                    goto out;
                *more = true;
                encode_state(state_out, limit, in_part, pidx,
                             (cql_bytes_t){cur_pkey.data, (int32_t)cur_pkey.len}, &pos);
                goto out;
            }
        }
        if (p->pks == NULL)
            break;
        pidx++;
    }
out:
    if (rc == 0)
        rc = cql_wr_error(&cur_pkey) ? cql_wr_error(&cur_pkey) : cql_wr_error(&pos);
    cql_wr_close(&cur_pkey);
    cql_wr_close(&pos);
    return rc;
}

int nx_select(nx_req_t *r, const cql_stmt_t *st)
{
    const cql_select_stmt_t *s = &st->u.select;
    plan_t p;
    int rc = plan_select(r, s, &p);
    if (rc != 0)
        return rc;
    pstate_t ps, *resume = NULL;
    if (r->paging_state.len >= 0 && !p.sel.aggregate) {
        if ((rc = decode_state(r, r->paging_state, &ps)) != 0)
            return rc;
        resume = &ps;
    }
    nx_rs_t rs;
    nx_rs_init(&rs, r, p.t->keyspace, p.t->name);
    cql_wr_t state;
    cql_wr_init(&state);
    bool more = false;
    if ((rc = nx_sel_declare(&rs, &p.sel)) != 0)
        goto fail;
    if (p.sel.aggregate) {
        nx_agg_t agg;
        if ((rc = nx_agg_init(r, &p.sel, &agg)) != 0 ||
            (rc = run(r, &p, &rs, &agg, NULL, -1, &more, &state)) != 0)
            goto fail;
        nx_agg_emit(&rs, &p.sel, &agg);
    } else {
        int32_t page = r->page_size;
        if (page <= 0)
            page = -1;
        if ((rc = run(r, &p, &rs, NULL, resume, page, &more, &state)) != 0)
            goto fail;
    }
    if (cql_wr_error(&state)) {
        rc = cql_wr_error(&state);
        goto fail;
    }
    rc = nx_rs_finish(&rs, more ? (cql_bytes_t){state.data, (int32_t)state.len}
                                : (cql_bytes_t){NULL, CQL_BYTES_NULL});
    cql_wr_close(&state);
    return rc;
fail:
    nx_rs_close(&rs);
    cql_wr_close(&state);
    return rc;
}
