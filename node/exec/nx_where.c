/*
 * nx_where: a WHERE clause compiled against a table with the request's
 * values. Every relation becomes a predicate (nx_pred_t) that can be
 * checked on a row; the relations on key columns are also summarised into
 * what the scans need: the partition keys (EQ / IN on every partition key
 * column), a token range, the clustering equality prefix and a slice. The
 * scan bounds are a superset; nx_where_match rechecks every predicate, so a
 * shape the bounds cannot express is still answered correctly.
 */
#include <stdlib.h>
#include <string.h>

#include "nx_int.h"

#define MAX_KEYS 65535

cql_bytes_t nx_row_value(const node_row_view_t *row, const node_column_t *c)
{
    cql_bytes_t none = {NULL, CQL_BYTES_NULL};
    switch (c->kind) {
    case NODE_COL_PARTITION_KEY:
        return row->pk[c->position];
    case NODE_COL_CLUSTERING:
        return row->ck != NULL ? row->ck[c->position] : none;
    default: {
        const node_cell_t *cell = node_row_cell(row, c);
        return cell != NULL ? cell->value : none;
    }
    }
}

static int value_of(nx_req_t *r, const cql_term_t *term, const cql_type_t *t, const char *name,
                    cql_bytes_t *out)
{
    int rc = nx_term(r, term, t, name, out);
    if (rc != 0)
        return rc;
    if (out->len == CQL_BYTES_NULL)
        return nx_invalid(r, "Invalid null value in condition for column %s", name);
    if (out->len == CQL_BYTES_NOT_SET)
        return nx_invalid(r, "Invalid unset value for column %s", name);
    return 0;
}

/* IN values: a parenthesised list or one marker bound to a list. */
static int in_values(nx_req_t *r, const cql_relation_t *rel, const cql_type_t *t, const char *name,
                     cql_bytes_t **out, size_t *n)
{
    if (rel->in_list) {
        cql_bytes_t *v = cql_arena_calloc(r->a, rel->nin ? rel->nin : 1, sizeof *v);
        if (v == NULL)
            return CQLMQ_ENOMEM;
        for (size_t i = 0; i < rel->nin; i++) {
            int rc = value_of(r, rel->in_values[i], t, name, &v[i]);
            if (rc != 0)
                return rc;
        }
        *out = v;
        *n = rel->nin;
        return 0;
    }
    cql_bytes_t lst;
    const cql_type_t *lt = nx_type_coll(r, CQL_TYPE_LIST, t, NULL);
    if (lt == NULL)
        return CQLMQ_ENOMEM;
    int rc = value_of(r, rel->value, lt, name, &lst);
    if (rc != 0)
        return rc;
    if (nx_coll_split(r, lst, false, out, n) != 0)
        return nx_invalid(r, "Invalid list of IN values for %s", name);
    return 0;
}

/* Splits a serialized tuple into n components. */
static int tuple_parts(nx_req_t *r, cql_bytes_t v, size_t n, cql_bytes_t **out)
{
    cql_bytes_t *p = cql_arena_calloc(r->a, n, sizeof *p);
    if (p == NULL)
        return CQLMQ_ENOMEM;
    cql_rd_t rd;
    cql_rd_init(&rd, v.ptr, v.len > 0 ? (size_t)v.len : 0);
    for (size_t i = 0; i < n; i++) {
        if (cql_rd_left(&rd) == 0) {
            p[i].len = CQL_BYTES_NULL;
        } else if (cql_rd_bytes(&rd, &p[i]) != 0) {
            return nx_invalid(r, "Invalid tuple value");
        }
    }
    *out = p;
    return 0;
}

static int compile_tuple(nx_req_t *r, nx_where_t *w, const cql_relation_t *rel, nx_pred_t *p)
{
    const node_table_t *t = w->t;
    p->kind = NX_P_TUPLE;
    p->ncols = rel->ncolumns;
    p->cols = cql_arena_calloc(r->a, rel->ncolumns, sizeof *p->cols);
    cql_type_t *tt = cql_arena_calloc(r->a, 1, sizeof *tt);
    cql_type_t **subs = cql_arena_calloc(r->a, rel->ncolumns, sizeof *subs);
    if (p->cols == NULL || tt == NULL || subs == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < rel->ncolumns; i++) {
        const node_column_t *c = node_table_column(t, rel->columns[i]);
        if (c == NULL)
            return nx_invalid(r, "Undefined column name %s", rel->columns[i]);
        if (c->kind != NODE_COL_CLUSTERING)
            return nx_invalid(r, "Multi-column relations can only be applied to clustering columns but was applied to: %s",
                              c->name);
        if (i > 0 && c->position != p->cols[i - 1]->position + 1)
            return nx_invalid(r, "Clustering columns must appear in the PRIMARY KEY order in multi-column relations");
        p->cols[i] = c;
        subs[i] = (cql_type_t *)c->type;
    }
    tt->kind = CQL_TYPE_TUPLE;
    tt->nsub = rel->ncolumns;
    tt->sub = subs;
    int rc;
    if (rel->op == CQL_REL_IN) {
        cql_bytes_t *vals;
        size_t n;
        if ((rc = in_values(r, rel, tt, "tuple", &vals, &n)) != 0)
            return rc;
        p->in = cql_arena_calloc(r->a, n * p->ncols + 1, sizeof *p->in);
        if (p->in == NULL)
            return CQLMQ_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            cql_bytes_t *parts;
            if ((rc = tuple_parts(r, vals[i], p->ncols, &parts)) != 0)
                return rc;
            memcpy(&p->in[i * p->ncols], parts, p->ncols * sizeof *parts);
        }
        p->nin = n;
    } else {
        cql_bytes_t v;
        if ((rc = value_of(r, rel->value, tt, "tuple", &v)) != 0)
            return rc;
        if ((rc = tuple_parts(r, v, p->ncols, &p->tuple)) != 0)
            return rc;
        for (size_t i = 0; i < p->ncols; i++)
            if (p->tuple[i].len < 0)
                return nx_invalid(r, "Invalid null value in condition for column %s", p->cols[i]->name);
        if (rel->op == CQL_REL_EQ) {
            for (size_t i = 0; i < p->ncols; i++) {
                int pos = p->cols[i]->position;
                w->ckv[pos] = &p->tuple[i];
                w->nckv[pos] = 1;
            }
        }
    }
    w->ck_restricted = true;
    return 0;
}

int nx_where_compile(nx_req_t *r, const node_table_t *t, cql_relation_t *const *rels, size_t n,
                     nx_where_t *w)
{
    memset(w, 0, sizeof *w);
    w->t = t;
    w->preds = cql_arena_calloc(r->a, n ? n : 1, sizeof *w->preds);
    w->pkv = cql_arena_calloc(r->a, t->npk, sizeof *w->pkv);
    w->npkv = cql_arena_calloc(r->a, t->npk, sizeof *w->npkv);
    w->ckv = cql_arena_calloc(r->a, t->nck + 1, sizeof *w->ckv);
    w->nckv = cql_arena_calloc(r->a, t->nck + 1, sizeof *w->nckv);
    if (w->preds == NULL || w->pkv == NULL || w->npkv == NULL || w->ckv == NULL || w->nckv == NULL)
        return CQLMQ_ENOMEM;
    int rc;
    for (size_t i = 0; i < n; i++) {
        const cql_relation_t *rel = rels[i];
        nx_pred_t *p = &w->preds[w->npreds++];
        p->op = rel->op;
        if (rel->op == CQL_REL_NE || rel->op == CQL_REL_LIKE || rel->op == CQL_REL_IS_NOT_NULL)
            return nx_invalid(r, "Unsupported \"%s\" relation", cql_rel_op_name(rel->op));
        if (rel->lhs == CQL_LHS_TOKEN) {
            if (rel->ncolumns != t->npk)
                goto bad_token;
            for (size_t j = 0; j < t->npk; j++)
                if (strcmp(rel->columns[j], t->pk[j]->name) != 0)
                    goto bad_token;
            p->kind = NX_P_TOKEN;
            if ((rc = value_of(r, rel->value, nx_type(r, CQL_TYPE_BIGINT), "partition key token",
                               &p->value)) != 0)
                return rc;
            if (p->value.len != 8)
                return nx_invalid(r, "Invalid token value");
            int64_t tok = (int64_t)cql_load_u64(p->value.ptr);
            w->has_token = true;
            if (rel->op == CQL_REL_GT || rel->op == CQL_REL_GE || rel->op == CQL_REL_EQ) {
                if (!w->has_start || tok > w->start_token ||
                    (tok == w->start_token && rel->op == CQL_REL_GT)) {
                    w->has_start = true;
                    w->start_token = tok;
                    w->start_incl = rel->op != CQL_REL_GT;
                }
            }
            if (rel->op == CQL_REL_LT || rel->op == CQL_REL_LE || rel->op == CQL_REL_EQ) {
                if (!w->has_end || tok < w->end_token ||
                    (tok == w->end_token && rel->op == CQL_REL_LT)) {
                    w->has_end = true;
                    w->end_token = tok;
                    w->end_incl = rel->op != CQL_REL_LT;
                }
            }
            if (rel->op == CQL_REL_IN || rel->op == CQL_REL_CONTAINS || rel->op == CQL_REL_CONTAINS_KEY)
                return nx_invalid(r, "%s cannot be used with the token function", cql_rel_op_name(rel->op));
            continue;
        }
        if (rel->lhs == CQL_LHS_TUPLE) {
            if ((rc = compile_tuple(r, w, rel, p)) != 0)
                return rc;
            continue;
        }
        const node_column_t *c = node_table_column(t, rel->columns[0]);
        if (c == NULL)
            return nx_invalid(r, "Undefined column name %s", rel->columns[0]);
        p->col = c;
        const cql_type_t *ty = c->type;
        if (rel->lhs == CQL_LHS_ELEMENT) {
            bool list = ty->kind == CQL_TYPE_LIST;
            if (ty->kind != CQL_TYPE_MAP && !list)
                return nx_invalid(r, "Invalid element access on non-collection column %s", c->name);
            p->kind = NX_P_ELEMENT;
            if ((rc = value_of(r, rel->key, list ? nx_type(r, CQL_TYPE_INT) : ty->sub[0], c->name,
                               &p->key)) != 0)
                return rc;
            ty = list ? ty->sub[0] : ty->sub[1];
            w->needs_filter = true;
        } else if (rel->lhs == CQL_LHS_FIELD) {
            return nx_invalid(r, "Field restrictions are not supported in WHERE");
        } else {
            p->kind = NX_P_COLUMN;
        }
        if (rel->op == CQL_REL_CONTAINS || rel->op == CQL_REL_CONTAINS_KEY) {
            bool key = rel->op == CQL_REL_CONTAINS_KEY;
            if (ty->nsub == 0 || ty->kind == CQL_TYPE_TUPLE || ty->kind == CQL_TYPE_UDT ||
                (key && ty->kind != CQL_TYPE_MAP))
                return nx_invalid(r, "Cannot use %s on non-collection column %s",
                                  key ? "CONTAINS KEY" : "CONTAINS", c->name);
            ty = ty->kind == CQL_TYPE_MAP && !key ? ty->sub[1] : ty->sub[0];
            if ((rc = value_of(r, rel->value, ty, c->name, &p->value)) != 0)
                return rc;
            w->needs_filter = true;
            continue;
        }
        if (rel->op == CQL_REL_IN) {
            if ((rc = in_values(r, rel, ty, c->name, &p->in, &p->nin)) != 0)
                return rc;
        } else if ((rc = value_of(r, rel->value, ty, c->name, &p->value)) != 0) {
            return rc;
        }
        if (p->kind == NX_P_ELEMENT)
            continue;
        bool eq = rel->op == CQL_REL_EQ || rel->op == CQL_REL_IN;
        cql_bytes_t *vals = rel->op == CQL_REL_IN ? p->in : &p->value;
        size_t nv = rel->op == CQL_REL_IN ? p->nin : 1;
        switch (c->kind) {
        case NODE_COL_PARTITION_KEY:
            if (eq) {
                if (w->pkv[c->position] != NULL)
                    return nx_invalid(r, "%s cannot be restricted by more than one relation if it includes an Equal",
                                      c->name);
                w->pkv[c->position] = vals;
                w->npkv[c->position] = nv;
                w->npk_restricted++;
            } else {
                w->pk_other = true;
            }
            break;
        case NODE_COL_CLUSTERING:
            w->ck_restricted = true;
            if (eq) {
                if (w->ckv[c->position] != NULL)
                    return nx_invalid(r, "%s cannot be restricted by more than one relation if it includes an Equal",
                                      c->name);
                w->ckv[c->position] = vals;
                w->nckv[c->position] = nv;
            }
            break;
        default:
            w->needs_filter = true;
            break;
        }
    }
    /* clustering shape: EQ/IN prefix, then at most a slice on the next */
    size_t pre = 0;
    while (pre < t->nck && w->ckv[pre] != NULL)
        pre++;
    w->ck_eq_prefix = pre;
    for (size_t i = 0; i < w->npreds; i++) {
        const nx_pred_t *p = &w->preds[i];
        int pos = -1;
        if (p->kind == NX_P_COLUMN && p->col->kind == NODE_COL_CLUSTERING)
            pos = p->col->position;
        else if (p->kind == NX_P_TUPLE)
            pos = p->cols[0]->position;
        else
            continue;
        bool slice = p->op != CQL_REL_EQ && p->op != CQL_REL_IN;
        if ((size_t)pos < pre && !(p->kind == NX_P_TUPLE && !slice && p->op == CQL_REL_EQ))
            continue;
        if ((size_t)pos == pre && slice) {
            if (p->op == CQL_REL_GT || p->op == CQL_REL_GE)
                w->ck_slice[0] = p;
            else
                w->ck_slice[1] = p;
            continue;
        }
        if (p->kind == NX_P_TUPLE && p->op == CQL_REL_EQ && (size_t)pos < pre)
            continue;
        if (p->kind == NX_P_TUPLE && p->op == CQL_REL_IN && (size_t)pos == pre)
            continue; /* filtered per row; a legal restriction */
        w->ck_needs_filter = true;
    }
    return 0;
bad_token:
    return nx_invalid(r, "The token function arguments must be in the partition key order: %s",
                      t->pk[0]->name);
}

/* ---- keys ---------------------------------------------------------------------- */

typedef struct keyent {
    int64_t token;
    cql_bytes_t *parts;
    size_t n;
} keyent_t;

static int key_cmp(const void *a, const void *b)
{
    const keyent_t *x = a, *y = b;
    if (x->token != y->token)
        return x->token < y->token ? -1 : 1;
    for (size_t i = 0; i < x->n; i++) {
        int32_t lx = x->parts[i].len, ly = y->parts[i].len;
        size_t m = (size_t)(lx < ly ? lx : ly);
        int c = m ? memcmp(x->parts[i].ptr, y->parts[i].ptr, m) : 0;
        if (c != 0)
            return c;
        if (lx != ly)
            return lx < ly ? -1 : 1;
    }
    return 0;
}

static int cartesian(nx_req_t *r, cql_bytes_t **vals, const size_t *nv, size_t ncols,
                     cql_bytes_t ***out, size_t *nout)
{
    size_t total = 1;
    for (size_t i = 0; i < ncols; i++) {
        total *= nv[i];
        if (total > MAX_KEYS)
            return nx_invalid(r, "IN restrictions create too many keys (more than %d)", MAX_KEYS);
    }
    cql_bytes_t **keys = cql_arena_calloc(r->a, total ? total : 1, sizeof *keys);
    if (keys == NULL)
        return CQLMQ_ENOMEM;
    for (size_t k = 0; k < total; k++) {
        keys[k] = cql_arena_calloc(r->a, ncols ? ncols : 1, sizeof **keys);
        if (keys[k] == NULL)
            return CQLMQ_ENOMEM;
        size_t rem = k;
        for (size_t i = ncols; i-- > 0;) {
            keys[k][i] = vals[i][rem % nv[i]];
            rem /= nv[i];
        }
    }
    *out = keys;
    *nout = total;
    return 0;
}

int nx_where_partitions(nx_req_t *r, const nx_where_t *w, cql_bytes_t ***keys, size_t *n)
{
    const node_table_t *t = w->t;
    if (w->npk_restricted != t->npk)
        return nx_invalid(r, "Some partition key parts are missing: %s", t->pk[0]->name);
    cql_bytes_t **k;
    size_t nk;
    int rc = cartesian(r, w->pkv, w->npkv, t->npk, &k, &nk);
    if (rc != 0)
        return rc;
    keyent_t *e = calloc(nk ? nk : 1, sizeof *e);
    if (e == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < nk; i++) {
        e[i].parts = k[i];
        e[i].n = t->npk;
        if (cql_murmur3_token_parts(k[i], t->npk, &e[i].token) != 0) {
            free(e);
            return nx_invalid(r, "Invalid partition key");
        }
    }
    qsort(e, nk, sizeof *e, key_cmp);
    size_t o = 0;
    for (size_t i = 0; i < nk; i++) {
        if (o > 0 && key_cmp(&e[o - 1], &e[i]) == 0)
            continue;
        k[o++] = e[i].parts;
    }
    free(e);
    *keys = k;
    *n = o;
    return 0;
}

int nx_where_rows(nx_req_t *r, const nx_where_t *w, cql_bytes_t ***keys, size_t *n)
{
    const node_table_t *t = w->t;
    for (size_t i = 0; i < t->nck; i++)
        if (w->ckv[i] == NULL)
            return nx_invalid(r, "Some clustering keys are missing: %s", t->ck[i]->name);
    return cartesian(r, w->ckv, w->nckv, t->nck, keys, n);
}

int nx_where_bounds(nx_req_t *r, const nx_where_t *w, node_bound_t *start, node_bound_t *end)
{
    const node_table_t *t = w->t;
    size_t pre = 0;
    while (pre < w->ck_eq_prefix && w->nckv[pre] == 1)
        pre++;
    cql_bytes_t *lo = cql_arena_calloc(r->a, t->nck + 1, sizeof *lo);
    cql_bytes_t *hi = cql_arena_calloc(r->a, t->nck + 1, sizeof *hi);
    if (lo == NULL || hi == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < pre; i++)
        lo[i] = hi[i] = w->ckv[i][0];
    *start = (node_bound_t){lo, pre, true};
    *end = (node_bound_t){hi, pre, true};
    if (pre != w->ck_eq_prefix)
        return 0;
    for (int s = 0; s < 2; s++) {
        const nx_pred_t *p = w->ck_slice[s];
        if (p == NULL)
            continue;
        const node_column_t *first = p->kind == NX_P_TUPLE ? p->cols[0] : p->col;
        size_t nc = p->kind == NX_P_TUPLE ? p->ncols : 1;
        const cql_bytes_t *vals = p->kind == NX_P_TUPLE ? p->tuple : &p->value;
        bool desc = first->order == NODE_ORDER_DESC;
        for (size_t i = 1; i < nc; i++)
            if ((p->cols[i]->order == NODE_ORDER_DESC) != desc)
                return 0; /* mixed directions: filter only */
        bool is_lo = p->op == CQL_REL_GT || p->op == CQL_REL_GE;
        bool incl = p->op == CQL_REL_GE || p->op == CQL_REL_LE;
        node_bound_t *b = (is_lo != desc) ? start : end;
        cql_bytes_t *dst = (is_lo != desc) ? lo : hi;
        for (size_t i = 0; i < nc && pre + i < t->nck; i++)
            dst[pre + i] = vals[i];
        b->n = pre + nc;
        b->inclusive = incl;
    }
    return 0;
}

/* ---- matching --------------------------------------------------------------------- */

static bool cmp_ok(cql_rel_op_t op, int c)
{
    switch (op) {
    case CQL_REL_EQ:
    case CQL_REL_IN:
        return c == 0;
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

static int match_pred(nx_req_t *r, const nx_pred_t *p, const node_row_view_t *row, bool *ok)
{
    *ok = false;
    switch (p->kind) {
    case NX_P_TOKEN: {
        int64_t tok = (int64_t)cql_load_u64(p->value.ptr);
        *ok = cmp_ok(p->op, row->token < tok ? -1 : row->token > tok ? 1 : 0);
        return 0;
    }
    case NX_P_TUPLE: {
        if (row->ck == NULL)
            return 0;
        cql_order_col_t oc[64];
        cql_bytes_t rv[64];
        if (p->ncols > 64)
            return 0;
        for (size_t i = 0; i < p->ncols; i++) {
            oc[i].type = p->cols[i]->type;
            oc[i].desc = false;
            rv[i] = row->ck[p->cols[i]->position];
        }
        if (p->op == CQL_REL_IN) {
            for (size_t k = 0; k < p->nin && !*ok; k++)
                *ok = cql_order_key_compare(oc, rv, p->ncols, &p->in[k * p->ncols], p->ncols) == 0;
            return 0;
        }
        *ok = cmp_ok(p->op, cql_order_key_compare(oc, rv, p->ncols, p->tuple, p->ncols));
        return 0;
    }
    case NX_P_ELEMENT: {
        cql_bytes_t v = nx_row_value(row, p->col);
        if (v.len < 0)
            return 0;
        bool map = p->col->type->kind == CQL_TYPE_MAP;
        cql_bytes_t *items;
        size_t n;
        if (nx_coll_split(r, v, map, &items, &n) != 0)
            return 0;
        cql_bytes_t found = {NULL, CQL_BYTES_NULL};
        if (map) {
            for (size_t i = 0; i < n; i++)
                if (cql_order_compare(p->col->type->sub[0], items[2 * i], p->key) == 0)
                    found = items[2 * i + 1];
        } else if (p->key.len == 4) {
            int32_t idx = (int32_t)cql_load_u32(p->key.ptr);
            if (idx >= 0 && (size_t)idx < n)
                found = items[idx];
        }
        if (found.len < 0)
            return 0;
        const cql_type_t *et = map ? p->col->type->sub[1] : p->col->type->sub[0];
        *ok = cmp_ok(p->op, cql_order_compare(et, found, p->value));
        return 0;
    }
    case NX_P_COLUMN:
        break;
    }
    cql_bytes_t v = nx_row_value(row, p->col);
    if (v.len < 0)
        return 0;
    const cql_type_t *ty = p->col->type;
    if (p->op == CQL_REL_CONTAINS || p->op == CQL_REL_CONTAINS_KEY) {
        bool map = ty->kind == CQL_TYPE_MAP;
        cql_bytes_t *items;
        size_t n;
        if (nx_coll_split(r, v, map, &items, &n) != 0)
            return 0;
        size_t stride = map ? 2 : 1, off = (map && p->op == CQL_REL_CONTAINS) ? 1 : 0;
        const cql_type_t *et = ty->kind == CQL_TYPE_MAP && off ? ty->sub[1] : ty->sub[0];
        for (size_t i = 0; i < n && !*ok; i++)
            *ok = cql_order_compare(et, items[i * stride + off], p->value) == 0;
        return 0;
    }
    if (p->op == CQL_REL_IN) {
        for (size_t i = 0; i < p->nin && !*ok; i++)
            *ok = cql_order_compare(ty, v, p->in[i]) == 0;
        return 0;
    }
    *ok = cmp_ok(p->op, cql_order_compare(ty, v, p->value));
    return 0;
}

int nx_where_match(nx_req_t *r, const nx_where_t *w, const node_row_view_t *row, bool *ok)
{
    for (size_t i = 0; i < w->npreds; i++) {
        int rc = match_pred(r, &w->preds[i], row, ok);
        if (rc != 0 || !*ok)
            return rc;
    }
    *ok = true;
    return 0;
}
