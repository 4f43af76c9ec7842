/*
 * nx_write: INSERT, UPDATE and DELETE planned as mutations (nx_mut_t) and
 * then applied to the store. Planning checks everything a statement can get
 * wrong (columns, key restrictions, values, TTL) before anything is written,
 * so a BATCH or an LWT can plan all its statements first and apply them
 * only when every one is valid and the conditions hold.
 */
#include <stdio.h>
#include <string.h>

#include "nx_int.h"

int nx_check_writable(nx_req_t *r, const node_table_t *t)
{
    if (!r->internal && nx_is_system_ks(t->keyspace))
        return nx_fail(r, CQL_ERR_UNAUTHORIZED, "%s keyspace is not user-modifiable.", t->keyspace);
    return 0;
}

static nx_mut_t *push(nx_req_t *r, nx_muts_t *m)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        nx_mut_t *v = cql_arena_calloc(r->a, cap, sizeof *v);
        if (v == NULL)
            return NULL;
        if (m->n)
            memcpy(v, m->v, m->n * sizeof *v);
        m->v = v;
        m->cap = cap;
    }
    nx_mut_t *x = &m->v[m->n++];
    memset(x, 0, sizeof *x);
    return x;
}

static int using_ts_ttl(nx_req_t *r, const cql_using_t *u, const node_table_t *t, int64_t dflt_ts,
                        int64_t *ts, int32_t *ttl)
{
    bool set;
    *ts = dflt_ts;
    int rc;
    if (u->timestamp != NULL) {
        int64_t v;
        if ((rc = nx_term_i64(r, u->timestamp, "[timestamp]", &v, &set)) != 0)
            return rc;
        if (set)
            *ts = v;
    }
    if (ttl == NULL) {
        if (u->ttl != NULL)
            return nx_invalid(r, "TTL is not supported on DELETE statements");
        return 0;
    }
    *ttl = t->counter ? 0 : t->default_ttl;
    if (u->ttl != NULL) {
        int32_t v;
        if ((rc = nx_term_i32(r, u->ttl, "[ttl]", &v, &set)) != 0)
            return rc;
        if (set) {
            if (v < 0)
                return nx_invalid(r, "A TTL must be greater or equal to 0, but was %d", v);
            if (v > NODE_TTL_MAX)
                return nx_invalid(r, "ttl is too large. requested (%d) maximum (%d)", v, NODE_TTL_MAX);
            if (t->counter && v > 0)
                return nx_invalid(r, "Cannot provide custom TTL for counter updates");
            *ttl = v;
        }
    }
    return 0;
}

static int add_op(nx_req_t *r, node_cell_op_t **ops, size_t *n, size_t *cap, node_cell_op_t op)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        node_cell_op_t *v = cql_arena_calloc(r->a, c, sizeof *v);
        if (v == NULL)
            return CQLMQ_ENOMEM;
        if (*n)
            memcpy(v, *ops, *n * sizeof *v);
        *ops = v;
        *cap = c;
    }
    (*ops)[(*n)++] = op;
    return 0;
}

/* ---- INSERT ----------------------------------------------------------------- */

static int plan_insert(nx_req_t *r, const cql_insert_stmt_t *s, int64_t dts, nx_muts_t *muts)
{
    const node_table_t *t;
    int rc = nx_resolve_table(r, &s->table, &t);
    if (rc == 0)
        rc = nx_check_writable(r, t);
    if (rc != 0)
        return rc;
    if (s->json)
        return nx_invalid(r, "INSERT JSON is not supported by this node");
    if (t->counter)
        return nx_invalid(r, "INSERT statements are not allowed on counter tables, use UPDATE instead");
    if (s->ncolumns != s->nvalues)
        return nx_invalid(r, "Unmatched column names/values");
    cql_bytes_t *pk = cql_arena_calloc(r->a, t->npk, sizeof *pk);
    cql_bytes_t *ck = cql_arena_calloc(r->a, t->nck + 1, sizeof *ck);
    char *seen = cql_arena_calloc(r->a, s->ncolumns + 1, 1);
    if (pk == NULL || ck == NULL || seen == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < t->npk; i++)
        pk[i].len = CQL_BYTES_NOT_SET;
    for (size_t i = 0; i < t->nck; i++)
        ck[i].len = CQL_BYTES_NOT_SET;
    node_cell_op_t *ops = NULL;
    size_t nops = 0, cap = 0;
    for (size_t i = 0; i < s->ncolumns; i++) {
        const node_column_t *c = node_table_column(t, s->columns[i]);
        if (c == NULL)
            return nx_invalid(r, "Undefined column name %s", s->columns[i]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->columns[j], s->columns[i]) == 0)
                return nx_invalid(r, "Multiple definitions found for column %s", c->name);
        cql_bytes_t v;
        if (c->kind == NODE_COL_PARTITION_KEY || c->kind == NODE_COL_CLUSTERING) {
            if ((rc = nx_term(r, s->values[i], c->type, c->name, &v)) != 0)
                return rc;
            if (v.len == CQL_BYTES_NULL)
                return nx_invalid(r, "Invalid null value in condition for column %s", c->name);
            if (v.len == CQL_BYTES_NOT_SET)
                return nx_invalid(r, "Invalid unset value for column %s", c->name);
            (c->kind == NODE_COL_PARTITION_KEY ? pk : ck)[c->position] = v;
            continue;
        }
        if ((rc = nx_term(r, s->values[i], c->type, c->name, &v)) != 0)
            return rc;
        if (v.len == CQL_BYTES_NOT_SET)
            continue;
        node_cell_op_t op = {.col = c, .op = NODE_OP_SET, .value = v};
        if ((rc = add_op(r, &ops, &nops, &cap, op)) != 0)
            return rc;
    }
    for (size_t i = 0; i < t->npk; i++)
        if (pk[i].len == CQL_BYTES_NOT_SET)
            return nx_invalid(r, "Some partition key parts are missing: %s", t->pk[i]->name);
    for (size_t i = 0; i < t->nck; i++)
        if (ck[i].len == CQL_BYTES_NOT_SET)
            return nx_invalid(r, "Some clustering keys are missing: %s", t->ck[i]->name);
    nx_mut_t *m = push(r, muts);
    if (m == NULL)
        return CQLMQ_ENOMEM;
    m->kind = NX_M_WRITE;
    m->t = t;
    m->w.pk = pk;
    m->w.ck = t->nck ? ck : NULL;
    m->w.ops = ops;
    m->w.nops = nops;
    m->w.insert = true;
    return using_ts_ttl(r, &s->using, t, dts, &m->w.ts, &m->w.ttl);
}

/* ---- UPDATE ------------------------------------------------------------------ */

static int assign_op(nx_req_t *r, const node_table_t *t, const cql_assignment_t *as,
                     node_cell_op_t *op, bool *skip)
{
    *skip = false;
    const node_column_t *c = node_table_column(t, as->column);
    if (c == NULL)
        return nx_invalid(r, "Undefined column name %s", as->column);
    if (c->kind == NODE_COL_PARTITION_KEY || c->kind == NODE_COL_CLUSTERING)
        return nx_invalid(r, "PRIMARY KEY part %s found in SET part", c->name);
    const cql_type_t *ty = c->type;
    bool coll = ty->kind == CQL_TYPE_LIST || ty->kind == CQL_TYPE_SET || ty->kind == CQL_TYPE_MAP;
    memset(op, 0, sizeof *op);
    op->col = c;
    cql_bytes_t v;
    int rc;
    switch (as->op) {
    case CQL_ASSIGN_SET:
        if (ty->kind == CQL_TYPE_COUNTER)
            return nx_invalid(r, "Cannot set the value of counter column %s (counters can only be incremented/decremented, not set)",
                              c->name);
        if ((rc = nx_term(r, as->value, ty, c->name, &v)) != 0)
            return rc;
        op->op = NODE_OP_SET;
        op->value = v;
        *skip = v.len == CQL_BYTES_NOT_SET;
        return 0;
    case CQL_ASSIGN_ADD:
    case CQL_ASSIGN_SUB:
    case CQL_ASSIGN_PREPEND: {
        bool sub = as->op == CQL_ASSIGN_SUB;
        if (ty->kind == CQL_TYPE_COUNTER && as->op != CQL_ASSIGN_PREPEND) {
            if ((rc = nx_term(r, as->value, nx_type(r, CQL_TYPE_BIGINT), c->name, &v)) != 0)
                return rc;
            if (v.len == CQL_BYTES_NOT_SET) {
                *skip = true;
                return 0;
            }
            if (v.len != 8)
                return nx_invalid(r, "Invalid null value for counter increment");
            int64_t d = (int64_t)cql_load_u64(v.ptr);
            op->op = NODE_OP_COUNTER_ADD;
            op->delta = sub ? -d : d;
            return 0;
        }
        if (!coll)
            return nx_invalid(r, "Invalid operation (%s = %s %s ?) for non counter column %s", c->name,
                              c->name, sub ? "-" : "+", c->name);
        if (ty->frozen)
            return nx_invalid(r, "Invalid operation for frozen collection column %s", c->name);
        if (as->op == CQL_ASSIGN_PREPEND && ty->kind != CQL_TYPE_LIST)
            return nx_invalid(r, "Invalid operation (%s = ? + %s) for non list column %s", c->name,
                              c->name, c->name);
        const cql_type_t *vt = ty;
        if (ty->kind == CQL_TYPE_MAP && sub)
            vt = nx_type_coll(r, CQL_TYPE_SET, ty->sub[0], NULL);
        if ((rc = nx_term(r, as->value, vt, c->name, &v)) != 0)
            return rc;
        if (v.len < 0) {
            *skip = true;
            return 0;
        }
        op->value = v;
        if (ty->kind == CQL_TYPE_LIST)
            op->op = as->op == CQL_ASSIGN_PREPEND ? NODE_OP_LIST_PREPEND
                     : sub                         ? NODE_OP_LIST_REMOVE
                                                   : NODE_OP_LIST_APPEND;
        else if (ty->kind == CQL_TYPE_SET)
            op->op = sub ? NODE_OP_SET_REMOVE : NODE_OP_SET_ADD;
        else
            op->op = sub ? NODE_OP_MAP_REMOVE : NODE_OP_MAP_PUT;
        return 0;
    }
    case CQL_ASSIGN_SET_ELEMENT: {
        if (ty->kind != CQL_TYPE_LIST && ty->kind != CQL_TYPE_MAP)
            return nx_invalid(r, "Invalid operation (%s[?] = ?) for non list/map column %s", c->name,
                              c->name);
        if (ty->frozen)
            return nx_invalid(r, "Invalid operation for frozen collection column %s", c->name);
        cql_bytes_t k;
        bool list = ty->kind == CQL_TYPE_LIST;
        if ((rc = nx_term_required(r, as->key, list ? nx_type(r, CQL_TYPE_INT) : ty->sub[0],
                                   c->name, &k)) != 0)
            return rc;
        if ((rc = nx_term(r, as->value, list ? ty->sub[0] : ty->sub[1], c->name, &v)) != 0)
            return rc;
        if (v.len == CQL_BYTES_NOT_SET) {
            *skip = true;
            return 0;
        }
        if (list) {
            op->index = (int32_t)cql_load_u32(k.ptr);
            op->op = v.len < 0 ? NODE_OP_LIST_DEL_AT : NODE_OP_LIST_SET_AT;
            op->value = v;
            return 0;
        }
        if (v.len < 0) {
            op->op = NODE_OP_MAP_DEL_KEY;
            op->value = k;
            return 0;
        }
        cql_bytes_t items[2] = {k, v};
        op->op = NODE_OP_MAP_PUT;
        return nx_coll_build(r, items, 1, true, ty->sub[0], false, &op->value);
    }
    default:
        return nx_invalid(r, "Setting a field of a user defined type is not supported by this node");
    }
}

static int check_where_keys_only(nx_req_t *r, const nx_where_t *w, const char *what)
{
    for (size_t i = 0; i < w->npreds; i++) {
        const nx_pred_t *p = &w->preds[i];
        if (p->kind == NX_P_TOKEN)
            return nx_invalid(r, "The token function cannot be used in WHERE clauses for %s statements", what);
        if (p->kind == NX_P_ELEMENT ||
            (p->kind == NX_P_COLUMN && (p->col->kind == NODE_COL_REGULAR || p->col->kind == NODE_COL_STATIC)))
            return nx_invalid(r, "Non PRIMARY KEY columns found in where clause: %s", p->col->name);
        if (p->op == CQL_REL_CONTAINS || p->op == CQL_REL_CONTAINS_KEY)
            return nx_invalid(r, "Cannot use CONTAINS on %s statements", what);
    }
    if (w->pk_other)
        return nx_invalid(r, "Only EQ and IN relation are supported on the partition key (unless you use the token() function)");
    return 0;
}

static int plan_update(nx_req_t *r, const cql_update_stmt_t *s, int64_t dts, nx_muts_t *muts)
{
    const node_table_t *t;
    int rc = nx_resolve_table(r, &s->table, &t);
    if (rc == 0)
        rc = nx_check_writable(r, t);
    if (rc != 0)
        return rc;
    nx_where_t w;
    if ((rc = nx_where_compile(r, t, s->where, s->nwhere, &w)) != 0 ||
        (rc = check_where_keys_only(r, &w, "UPDATE")) != 0)
        return rc;
    node_cell_op_t *ops = NULL;
    size_t nops = 0, cap = 0;
    bool only_static = true;
    for (size_t i = 0; i < s->nassignments; i++) {
        node_cell_op_t op;
        bool skip;
        if ((rc = assign_op(r, t, &s->assignments[i], &op, &skip)) != 0)
            return rc;
        if (op.col->kind != NODE_COL_STATIC)
            only_static = false;
        if (!skip && (rc = add_op(r, &ops, &nops, &cap, op)) != 0)
            return rc;
    }
    int64_t ts;
    int32_t ttl;
    if ((rc = using_ts_ttl(r, &s->using, t, dts, &ts, &ttl)) != 0)
        return rc;
    cql_bytes_t **pks, **cks = NULL;
    size_t npks, ncks = 1;
    if ((rc = nx_where_partitions(r, &w, &pks, &npks)) != 0)
        return rc;
    bool need_ck = t->nck > 0 && !(only_static && s->nassignments > 0 && !w.ck_restricted);
    if (need_ck) {
        for (size_t i = 0; i < w.npreds; i++)
            if (w.preds[i].op != CQL_REL_EQ && w.preds[i].op != CQL_REL_IN)
                return nx_invalid(r, "Slice restrictions are not supported on the clustering columns in UPDATE statements");
        if ((rc = nx_where_rows(r, &w, &cks, &ncks)) != 0)
            return rc;
    }
    for (size_t i = 0; i < npks; i++)
        for (size_t j = 0; j < ncks; j++) {
            nx_mut_t *m = push(r, muts);
            if (m == NULL)
                return CQLMQ_ENOMEM;
            m->kind = NX_M_WRITE;
            m->t = t;
            m->w.pk = pks[i];
            m->w.ck = need_ck ? cks[j] : NULL;
            m->w.ops = ops;
            m->w.nops = nops;
            m->w.ts = ts;
            m->w.ttl = ttl;
        }
    return 0;
}

/* ---- DELETE --------------------------------------------------------------------- */

static int plan_delete(nx_req_t *r, const cql_delete_stmt_t *s, int64_t dts, nx_muts_t *muts)
{
    const node_table_t *t;
    int rc = nx_resolve_table(r, &s->table, &t);
    if (rc == 0)
        rc = nx_check_writable(r, t);
    if (rc != 0)
        return rc;
    nx_where_t w;
    if ((rc = nx_where_compile(r, t, s->where, s->nwhere, &w)) != 0 ||
        (rc = check_where_keys_only(r, &w, "DELETE")) != 0)
        return rc;
    int64_t ts;
    if ((rc = using_ts_ttl(r, &s->using, t, dts, &ts, NULL)) != 0)
        return rc;
    node_cell_op_t *ops = NULL;
    size_t nops = 0, cap = 0;
    bool only_static = true;
    for (size_t i = 0; i < s->ntargets; i++) {
        const cql_delete_target_t *dt = &s->targets[i];
        const node_column_t *c = node_table_column(t, dt->column);
        if (c == NULL)
            return nx_invalid(r, "Undefined column name %s", dt->column);
        if (c->kind == NODE_COL_PARTITION_KEY || c->kind == NODE_COL_CLUSTERING)
            return nx_invalid(r, "Invalid identifier %s for deletion (should not be a PRIMARY KEY part)",
                              c->name);
        if (c->kind != NODE_COL_STATIC)
            only_static = false;
        node_cell_op_t op = {.col = c, .op = NODE_OP_DELETE};
        if (dt->field != NULL)
            return nx_invalid(r, "Deleting a field of a user defined type is not supported by this node");
        if (dt->key != NULL) {
            bool list = c->type->kind == CQL_TYPE_LIST;
            if (!list && c->type->kind != CQL_TYPE_MAP)
                return nx_invalid(r, "Invalid element deletion on non list/map column %s", c->name);
            if ((rc = nx_term_required(r, dt->key, list ? nx_type(r, CQL_TYPE_INT) : c->type->sub[0],
                                       c->name, &op.value)) != 0)
                return rc;
            if (list) {
                op.op = NODE_OP_LIST_DEL_AT;
                op.index = (int32_t)cql_load_u32(op.value.ptr);
            } else {
                op.op = NODE_OP_MAP_DEL_KEY;
            }
        }
        if ((rc = add_op(r, &ops, &nops, &cap, op)) != 0)
            return rc;
    }
    cql_bytes_t **pks;
    size_t npks;
    if ((rc = nx_where_partitions(r, &w, &pks, &npks)) != 0)
        return rc;
    bool full_ck = true;
    for (size_t i = 0; i < t->nck; i++)
        if (w.ckv[i] == NULL)
            full_ck = false;
    if (s->ntargets > 0 || (full_ck && t->nck > 0)) {
        cql_bytes_t **cks = NULL;
        size_t ncks = 1;
        bool need_ck = t->nck > 0 && !(s->ntargets > 0 && only_static && !w.ck_restricted);
        if (need_ck && (rc = nx_where_rows(r, &w, &cks, &ncks)) != 0)
            return rc;
        for (size_t i = 0; i < npks; i++)
            for (size_t j = 0; j < ncks; j++) {
                nx_mut_t *m = push(r, muts);
                if (m == NULL)
                    return CQLMQ_ENOMEM;
                m->t = t;
                m->w.pk = pks[i];
                m->w.ck = need_ck ? cks[j] : NULL;
                m->w.ts = ts;
                if (s->ntargets > 0) {
                    m->kind = NX_M_WRITE;
                    m->w.ops = ops;
                    m->w.nops = nops;
                } else {
                    m->kind = NX_M_DEL_ROW;
                }
            }
        return 0;
    }
    node_bound_t start = {0}, end = {0};
    bool range = w.ck_restricted;
    if (range) {
        if (w.ck_needs_filter)
            return nx_invalid(r, "PRIMARY KEY column cannot be restricted as a preceding column is not restricted");
        for (size_t i = 0; i < w.ck_eq_prefix; i++)
            if (w.nckv[i] != 1)
                return nx_invalid(r, "IN restrictions are not supported on range deletions");
        if ((rc = nx_where_bounds(r, &w, &start, &end)) != 0)
            return rc;
    }
    for (size_t i = 0; i < npks; i++) {
        nx_mut_t *m = push(r, muts);
        if (m == NULL)
            return CQLMQ_ENOMEM;
        m->kind = range ? NX_M_DEL_RANGE : NX_M_DEL_PARTITION;
        m->t = t;
        m->w.pk = pks[i];
        m->w.ts = ts;
        m->start = start;
        m->end = end;
    }
    return 0;
}

int nx_plan_write(nx_req_t *r, const cql_stmt_t *st, int64_t ts, nx_muts_t *muts)
{
    switch (st->kind) {
    case CQL_STMT_INSERT:
        return plan_insert(r, &st->u.insert, ts, muts);
    case CQL_STMT_UPDATE:
        return plan_update(r, &st->u.update, ts, muts);
    case CQL_STMT_DELETE:
        return plan_delete(r, &st->u.del, ts, muts);
    default:
        return nx_invalid(r, "Only INSERT, UPDATE and DELETE statements are allowed here");
    }
}

int nx_apply(nx_req_t *r, const nx_mut_t *muts, size_t n)
{
    node_store_t *s = r->db->store;
    int64_t now = r->now_us / 1000000;
    for (size_t i = 0; i < n; i++) {
        const nx_mut_t *m = &muts[i];
        int rc;
        switch (m->kind) {
        case NX_M_WRITE: {
            node_write_t w = m->w;
            w.now = now;
            rc = node_store_write(s, m->t, &w);
            if (rc == CQLMQ_ERANGE) {
                for (size_t k = 0; k < w.nops; k++)
                    if (w.ops[k].op == NODE_OP_LIST_SET_AT || w.ops[k].op == NODE_OP_LIST_DEL_AT)
                        return nx_invalid(r, "List index %d out of bound", w.ops[k].index);
            }
            break;
        }
        case NX_M_DEL_PARTITION:
            rc = node_store_delete_partition(s, m->t, m->w.pk, m->w.ts, now);
            break;
        case NX_M_DEL_ROW:
            rc = node_store_delete_row(s, m->t, m->w.pk, m->w.ck, m->w.ts, now);
            break;
        default:
            rc = node_store_delete_range(s, m->t, m->w.pk, &m->start, &m->end, m->w.ts, now);
            break;
        }
        if (rc != 0)
            return nx_store_err(r, rc, "Invalid write");
    }
    return 0;
}

bool nx_stmt_conditional(const cql_stmt_t *st)
{
    switch (st->kind) {
    case CQL_STMT_INSERT:
        return st->u.insert.if_not_exists;
    case CQL_STMT_UPDATE:
        return st->u.update.if_exists || st->u.update.nconditions > 0;
    case CQL_STMT_DELETE:
        return st->u.del.if_exists || st->u.del.nconditions > 0;
    default:
        return false;
    }
}

int nx_modify(nx_req_t *r, const cql_stmt_t *st)
{
    int64_t ts = nx_write_ts(r);
    if (nx_stmt_conditional(st))
        return nx_lwt(r, &st, 1, ts);
    nx_muts_t muts = {0};
    int rc = nx_plan_write(r, st, ts, &muts);
    if (rc == 0)
        rc = nx_apply(r, muts.v, muts.n);
    if (rc == 0 && !r->in_batch)
        rc = nx_result_void(r);
    return rc;
}
