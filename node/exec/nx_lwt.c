/*
 * nx_lwt: lightweight transactions and batches.
 *
 * A conditional statement (INSERT IF NOT EXISTS, UPDATE/DELETE IF EXISTS or
 * IF <conditions>) is planned like any write, and its conditions are
 * compiled with the statement's bound values. Then the current row is read,
 * the conditions checked and, only if all hold, the writes applied. The
 * node is single-threaded, so this is linearizable by construction.
 *
 * Results, as Cassandra shapes them: a Rows result whose first column is
 * "[applied]" (boolean). When not applied and the row exists, the row's
 * current values follow: every column for IF NOT EXISTS (in SELECT * order),
 * the conditioned columns otherwise (batches add the primary key columns).
 * When not applied because the row does not exist: "[applied]" alone.
 *
 * BATCH: statements from the BATCH message (query strings and prepared ids,
 * each with its values) or from a BEGIN BATCH ... APPLY BATCH text. All are
 * planned first; nothing is written if any fails. A batch with conditions
 * must stay in one partition and is applied all-or-nothing.
 */
#include <stdio.h>
#include <string.h>

#include "nx_int.h"


typedef struct cond {
    const node_column_t *col;
    cql_rel_op_t op;
    bool element;          /* col[key] */
    cql_bytes_t key;
    cql_bytes_t value;     /* may be null */
    cql_bytes_t *in;
    size_t nin;
} cond_t;

typedef enum { CAS_NOT_EXISTS, CAS_EXISTS, CAS_CONDS } cas_kind_t;

typedef struct cas {
    cas_kind_t kind;
    const node_table_t *t;
    const cql_bytes_t *pk;
    const cql_bytes_t *ck;  /* NULL: partition level (statics, whole partition) */
    cond_t *conds;
    size_t nconds;
} cas_t;

typedef struct casv {
    cas_t *v;
    size_t n, cap;
} casv_t;

static int compile_conds(nx_req_t *r, const node_table_t *t, cql_relation_t *const *rels, size_t n,
                         cas_t *c)
{
    c->conds = cql_arena_calloc(r->a, n ? n : 1, sizeof *c->conds);
    if (c->conds == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const cql_relation_t *rel = rels[i];
        cond_t *d = &c->conds[c->nconds++];
        const node_column_t *col = node_table_column(t, rel->columns[0]);
        if (col == NULL)
            return nx_invalid(r, "Undefined column name %s", rel->columns[0]);
        if (col->kind == NODE_COL_PARTITION_KEY || col->kind == NODE_COL_CLUSTERING)
            return nx_invalid(r, "PRIMARY KEY column '%s' cannot have IF conditions", col->name);
        d->col = col;
        d->op = rel->op;
        const cql_type_t *ty = col->type;
        int rc;
        if (rel->lhs == CQL_LHS_ELEMENT) {
            bool list = ty->kind == CQL_TYPE_LIST;
            if (!list && ty->kind != CQL_TYPE_MAP)
                return nx_invalid(r, "Invalid element access on non-collection column %s", col->name);
            d->element = true;
            if ((rc = nx_term_required(r, rel->key, list ? nx_type(r, CQL_TYPE_INT) : ty->sub[0],
                                       col->name, &d->key)) != 0)
                return rc;
            ty = list ? ty->sub[0] : ty->sub[1];
        } else if (rel->lhs != CQL_LHS_COLUMN) {
            return nx_invalid(r, "This kind of IF condition is not supported by this node");
        }
        if (rel->op == CQL_REL_IN) {
            size_t m = rel->in_list ? rel->nin : 0;
            if (!rel->in_list) {
                cql_bytes_t lst;
                if ((rc = nx_term_required(r, rel->value, nx_type_coll(r, CQL_TYPE_LIST, ty, NULL),
                                           col->name, &lst)) != 0)
                    return rc;
                if (nx_coll_split(r, lst, false, &d->in, &d->nin) != 0)
                    return nx_invalid(r, "Invalid IN list for %s", col->name);
                continue;
            }
            d->in = cql_arena_calloc(r->a, m ? m : 1, sizeof *d->in);
            if (d->in == NULL)
                return CQLMQ_ENOMEM;
            for (size_t k = 0; k < m; k++)
                if ((rc = nx_term(r, rel->in_values[k], ty, col->name, &d->in[k])) != 0)
                    return rc;
            d->nin = m;
            continue;
        }
        if (rel->op == CQL_REL_CONTAINS || rel->op == CQL_REL_CONTAINS_KEY || rel->op == CQL_REL_LIKE ||
            rel->op == CQL_REL_IS_NOT_NULL)
            return nx_invalid(r, "Unsupported operator %s in IF condition", cql_rel_op_name(rel->op));
        if ((rc = nx_term(r, rel->value, ty, col->name, &d->value)) != 0)
            return rc;
        if (d->value.len == CQL_BYTES_NOT_SET)
            return nx_invalid(r, "Invalid 'unset' value in condition");
        if (d->value.len < 0 && rel->op != CQL_REL_EQ && rel->op != CQL_REL_NE)
            return nx_invalid(r, "Invalid comparison with null for operator \"%s\"", cql_rel_op_name(rel->op));
    }
    return 0;
}

/* Plans st (appending to muts) and its condition (to cas). */
static int plan_cas(nx_req_t *r, const cql_stmt_t *st, int64_t ts, nx_muts_t *muts, casv_t *cv)
{
    size_t first = muts->n;
    int rc = nx_plan_write(r, st, ts, muts);
    if (rc != 0 || !nx_stmt_conditional(st))
        return rc;
    if (muts->n - first != 1)
        return nx_invalid(r, "IN on the partition key or clustering key is not supported with conditional updates");
    if (cv->n == cv->cap) {
        size_t cap = cv->cap ? cv->cap * 2 : 4;
        cas_t *v = cql_arena_calloc(r->a, cap, sizeof *v);
        if (v == NULL)
            return CQLMQ_ENOMEM;
        if (cv->n)
            memcpy(v, cv->v, cv->n * sizeof *v);
        cv->v = v;
        cv->cap = cap;
    }
    cas_t *c = &cv->v[cv->n++];
    memset(c, 0, sizeof *c);
    const nx_mut_t *m = &muts->v[first];
    c->t = m->t;
    c->pk = m->w.pk;
    c->ck = (m->kind == NX_M_WRITE || m->kind == NX_M_DEL_ROW) ? m->w.ck : NULL;
    if (m->kind == NX_M_DEL_RANGE)
        return nx_invalid(r, "DELETE statements must restrict all PRIMARY KEY columns with equality relations in order to use IF conditions");
    if (st->kind == CQL_STMT_INSERT) {
        c->kind = CAS_NOT_EXISTS;
        return 0;
    }
    bool if_exists = st->kind == CQL_STMT_UPDATE ? st->u.update.if_exists : st->u.del.if_exists;
    if (if_exists) {
        c->kind = CAS_EXISTS;
        return 0;
    }
    c->kind = CAS_CONDS;
    if (st->kind == CQL_STMT_UPDATE)
        return compile_conds(r, c->t, st->u.update.conditions, st->u.update.nconditions, c);
    return compile_conds(r, c->t, st->u.del.conditions, st->u.del.nconditions, c);
}

/* The current row of a condition, or NULL. */
static int read_row(nx_req_t *r, const cas_t *c, const node_row_view_t **row)
{
    *row = NULL;
    int64_t now = r->now_us / 1000000;
    if (c->ck != NULL || c->t->nck == 0) {
        int rc = node_store_get(r->db->iter2, r->db->store, c->t, c->pk, c->ck, now, row);
        if (rc == CQLMQ_ENOTFOUND) {
            *row = NULL;
            rc = 0;
        }
        return rc;
    }
    node_scan_t sc;
    memset(&sc, 0, sizeof sc);
    sc.pk = c->pk;
    sc.static_rows = true;
    sc.now = now;
    int rc = node_iter_open(r->db->iter2, r->db->store, c->t, &sc);
    if (rc == 0)
        rc = node_iter_next(r->db->iter2, row);
    if (rc == 0)
        *row = NULL;
    return rc < 0 ? rc : 0;
}

static bool cond_holds(nx_req_t *r, const cond_t *d, const node_row_view_t *row)
{
    cql_bytes_t cur = row ? nx_row_value(row, d->col) : (cql_bytes_t){NULL, CQL_BYTES_NULL};
    const cql_type_t *ty = d->col->type;
    if (d->element) {
        bool map = ty->kind == CQL_TYPE_MAP;
        cql_bytes_t *items;
        size_t n;
        cql_bytes_t found = {NULL, CQL_BYTES_NULL};
        if (cur.len >= 0 && nx_coll_split(r, cur, map, &items, &n) == 0) {
            if (map) {
                for (size_t i = 0; i < n; i++)
                    if (cql_order_compare(ty->sub[0], items[2 * i], d->key) == 0)
                        found = items[2 * i + 1];
            } else {
                int32_t idx = (int32_t)cql_load_u32(d->key.ptr);
                if (idx >= 0 && (size_t)idx < n)
                    found = items[idx];
            }
        }
        cur = found;
        ty = map ? ty->sub[1] : ty->sub[0];
    }
    if (d->op == CQL_REL_IN) {
        for (size_t i = 0; i < d->nin; i++) {
            if (d->in[i].len < 0 ? cur.len < 0
                                 : (cur.len >= 0 && cql_order_compare(ty, cur, d->in[i]) == 0))
                return true;
        }
        return false;
    }
    if (d->value.len < 0 || cur.len < 0) {
        bool both_null = d->value.len < 0 && cur.len < 0;
        if (d->op == CQL_REL_EQ)
            return both_null;
        if (d->op == CQL_REL_NE)
            return !both_null;
        return false;
    }
    int c = cql_order_compare(ty, cur, d->value);
    switch (d->op) {
    case CQL_REL_EQ:
        return c == 0;
    case CQL_REL_NE:
        return c != 0;
    case CQL_REL_LT:
        return c < 0;
    case CQL_REL_LE:
        return c <= 0;
    case CQL_REL_GT:
        return c > 0;
    case CQL_REL_GE:
        return c >= 0;
    default:
        return false;
    }
}

static bool same_partition(const cas_t *a, const cas_t *b)
{
    if (a->t != b->t)
        return false;
    for (size_t i = 0; i < a->t->npk; i++)
        if (a->pk[i].len != b->pk[i].len ||
            (a->pk[i].len > 0 && memcmp(a->pk[i].ptr, b->pk[i].ptr, (size_t)a->pk[i].len) != 0))
            return false;
    return true;
}

static bool has_col(const node_column_t **v, size_t n, const node_column_t *c)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == c)
            return true;
    return false;
}

/* Checks every condition, applies on success, writes the [applied] result. */
static int finish_cas(nx_req_t *r, casv_t *cv, nx_muts_t *muts, bool batch)
{
    for (size_t i = 1; i < cv->n; i++)
        if (!same_partition(&cv->v[0], &cv->v[i]))
            return nx_invalid(r, "Batch with conditions cannot span multiple partitions");
    const node_table_t *t = cv->v[0].t;
    bool applied = true;
    const node_row_view_t **rows = cql_arena_calloc(r->a, cv->n, sizeof *rows);
    if (rows == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < cv->n; i++) {
        cas_t *c = &cv->v[i];
        /* rows are read one at a time: a view is valid until the next read */
        int rc = read_row(r, c, &rows[i]);
        if (rc != 0)
            return rc;
        bool ok;
        if (c->kind == CAS_NOT_EXISTS)
            ok = rows[i] == NULL;
        else if (c->kind == CAS_EXISTS)
            ok = rows[i] != NULL;
        else {
            ok = true;
            for (size_t k = 0; k < c->nconds && ok; k++)
                ok = cond_holds(r, &c->conds[k], rows[i]);
        }
        if (!ok)
            applied = false;
    }
    nx_rs_t rs;
    nx_rs_init(&rs, r, t->keyspace, t->name);
    int rc = nx_rs_col(&rs, "[applied]", nx_type(r, CQL_TYPE_BOOLEAN));
    if (rc != 0)
        goto out;
    uint8_t b = applied ? 1 : 0;
    if (applied) {
        if ((rc = nx_apply(r, muts->v, muts->n)) != 0)
            goto out;
        nx_rs_cell(&rs, (cql_bytes_t){&b, 1});
        nx_rs_end_row(&rs);
        rc = nx_rs_finish(&rs, (cql_bytes_t){NULL, CQL_BYTES_NULL});
        return rc;
    }
    /* which columns to show */
    const node_column_t **cols = cql_arena_calloc(r->a, t->ncols + 1, sizeof *cols);
    size_t ncols = 0;
    if (cols == NULL) {
        rc = CQLMQ_ENOMEM;
        goto out;
    }
    bool any_row = false;
    for (size_t i = 0; i < cv->n; i++)
        any_row |= rows[i] != NULL;
    if (any_row) {
        if (batch)
            for (size_t i = 0; i < t->npk + t->nck; i++)
                cols[ncols++] = i < t->npk ? t->pk[i] : t->ck[i - t->npk];
        for (size_t i = 0; i < cv->n; i++) {
            const cas_t *c = &cv->v[i];
            if (c->kind == CAS_NOT_EXISTS) {
                const node_column_t **all;
                size_t n = nx_table_select_order(r, t, &all);
                for (size_t k = 0; k < n; k++)
                    if (!has_col(cols, ncols, all[k]))
                        cols[ncols++] = all[k];
            }
            for (size_t k = 0; k < c->nconds; k++)
                if (!has_col(cols, ncols, c->conds[k].col))
                    cols[ncols++] = c->conds[k].col;
        }
    }
    for (size_t k = 0; k < ncols; k++)
        if ((rc = nx_rs_col(&rs, cols[k]->name, cols[k]->type)) != 0)
            goto out;
    /* one row: the first existing row (re-read: views do not survive) */
    const node_row_view_t *row = NULL;
    for (size_t i = 0; i < cv->n && row == NULL; i++)
        if (rows[i] != NULL && (rc = read_row(r, &cv->v[i], &row)) != 0)
            goto out;
    nx_rs_cell(&rs, (cql_bytes_t){&b, 1});
    for (size_t k = 0; k < ncols; k++)
        nx_rs_cell(&rs, row ? nx_row_value(row, cols[k]) : (cql_bytes_t){NULL, CQL_BYTES_NULL});
    nx_rs_end_row(&rs);
    return nx_rs_finish(&rs, (cql_bytes_t){NULL, CQL_BYTES_NULL});
out:
    nx_rs_close(&rs);
    return rc;
}

int nx_lwt(nx_req_t *r, const cql_stmt_t *const *stmts, size_t n, int64_t ts)
{
    nx_muts_t muts = {0};
    casv_t cv = {0};
    for (size_t i = 0; i < n; i++) {
        int rc = plan_cas(r, stmts[i], ts, &muts, &cv);
        if (rc != 0)
            return rc;
    }
    return finish_cas(r, &cv, &muts, n > 1);
}

/* ---- batches ------------------------------------------------------------------ */

static int check_counter_mix(nx_req_t *r, int type, const nx_mut_t *m)
{
    if (m->t == NULL)
        return 0;
    if (type == CQL_BATCH_COUNTER && !m->t->counter)
        return nx_invalid(r, "Cannot include non-counter statement in a counter batch");
    if (type != CQL_BATCH_COUNTER && m->t->counter)
        return nx_invalid(r, "Counter and non-counter mutations cannot exist in the same batch");
    return 0;
}

static int finish_batch(nx_req_t *r, int type, nx_muts_t *muts, casv_t *cv, bool conditional)
{
    for (size_t i = 0; i < muts->n; i++) {
        int rc = check_counter_mix(r, type, &muts->v[i]);
        if (rc != 0)
            return rc;
    }
    if (conditional)
        return finish_cas(r, cv, muts, true);
    int rc = nx_apply(r, muts->v, muts->n);
    return rc != 0 ? rc : nx_result_void(r);
}

static int batch_ts(nx_req_t *r, const cql_using_t *u, int64_t *ts)
{
    *ts = nx_write_ts(r);
    if (u != NULL && u->timestamp != NULL) {
        bool set;
        int64_t v;
        int rc = nx_term_i64(r, u->timestamp, "[timestamp]", &v, &set);
        if (rc != 0)
            return rc;
        if (set)
            *ts = v;
    }
    return 0;
}

int nx_batch_stmt(nx_req_t *r, const cql_stmt_t *st)
{
    const __typeof__(st->u.batch) *b = &st->u.batch;
    int64_t ts;
    int rc = batch_ts(r, &b->using, &ts);
    if (rc != 0)
        return rc;
    nx_muts_t muts = {0};
    casv_t cv = {0};
    bool cond = false;
    for (size_t i = 0; i < b->nstmts; i++) {
        cond |= nx_stmt_conditional(b->stmts[i]);
        if ((rc = plan_cas(r, b->stmts[i], ts, &muts, &cv)) != 0)
            return rc;
    }
    return finish_batch(r, (int)b->type, &muts, &cv, cond);
}

int nx_batch_msg(nx_req_t *r, const cql_msg_t *m)
{
    const cql_msg_batch_t *b = &m->u.batch;
    r->consistency = b->consistency;
    r->has_ts = (b->flags & CQL_QF_DEFAULT_TIMESTAMP) != 0;
    r->ts = b->timestamp;
    int64_t ts = nx_write_ts(r);
    const char *session_ks = r->keyspace;
    nx_muts_t muts = {0};
    casv_t cv = {0};
    bool cond = false;
    for (size_t i = 0; i < b->nstmts; i++) {
        const __typeof__(b->stmts[0]) *bs = &b->stmts[i];
        cql_stmt_t *st;
        int rc;
        r->keyspace = session_ks;
        if (bs->kind == CQL_BATCH_KIND_QUERY) {
            if ((rc = nx_parse(r, bs->query.ptr, bs->query.len, &st)) != 0)
                return rc;
        } else {
            nx_prepared_t *p;
            if ((rc = nx_find_prepared(r, bs->id, &p)) != 0)
                return rc;
            st = p->stmt;
            if (p->keyspace[0])
                r->keyspace = p->keyspace;
        }
        if (st->kind != CQL_STMT_INSERT && st->kind != CQL_STMT_UPDATE && st->kind != CQL_STMT_DELETE)
            return nx_invalid(r, "Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed.");
        r->rvalues = bs->values;
        r->nrvalues = bs->nvalues;
        r->rnames = NULL;
        if ((rc = nx_infer(r, st)) != 0 || (rc = nx_bind_values(r, st)) != 0)
            return rc;
        cond |= nx_stmt_conditional(st);
        if ((rc = plan_cas(r, st, ts, &muts, &cv)) != 0)
            return rc;
    }
    return finish_batch(r, b->type, &muts, &cv, cond);
}
