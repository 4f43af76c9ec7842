/*
 * nx_select: the selection of a SELECT. Column names and types as Cassandra
 * reports them ("count", "writetime(v)", "ttl(v)", "system.token(k)"),
 * SELECT * in Cassandra's order (partition key, clustering, then static and
 * regular columns by name), the projection of one row, and aggregates
 * (count, min, max) over all rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nx_sel.h"

static int by_name(const void *a, const void *b)
{
    const node_column_t *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

size_t nx_table_select_order(nx_req_t *r, const node_table_t *t, const node_column_t ***out)
{
    const node_column_t **v = cql_arena_calloc(r->a, t->ncols + 1, sizeof *v);
    if (v == NULL) {
        *out = NULL;
        return 0;
    }
    size_t n = 0;
    for (size_t i = 0; i < t->npk; i++)
        v[n++] = t->pk[i];
    for (size_t i = 0; i < t->nck; i++)
        v[n++] = t->ck[i];
    size_t s0 = n;
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i]->kind == NODE_COL_STATIC)
            v[n++] = t->cols[i];
    qsort(v + s0, n - s0, sizeof *v, by_name);
    size_t r0 = n;
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i]->kind == NODE_COL_REGULAR)
            v[n++] = t->cols[i];
    qsort(v + r0, n - r0, sizeof *v, by_name);
    *out = v;
    return n;
}

static const char *fmt_name(nx_req_t *r, const char *fmt, const char *a)
{
    char buf[300];
    snprintf(buf, sizeof buf, fmt, a);
    return cql_arena_strndup(r->a, buf, strlen(buf));
}

static int sel_column(nx_req_t *r, const node_table_t *t, const cql_selector_t *s,
                      const node_column_t **out)
{
    if (s->kind != CQL_SEL_COLUMN)
        return nx_invalid(r, "Only column names are supported as arguments of %s here", s->name ? s->name : "this function");
    const node_column_t *c = node_table_column(t, s->name);
    if (c == NULL)
        return nx_invalid(r, "Undefined column name %s", s->name);
    *out = c;
    return 0;
}

static int build_one(nx_req_t *r, const node_table_t *t, const cql_selector_t *s, nx_sel_t *o)
{
    const node_column_t *c = NULL;
    int rc;
    memset(o, 0, sizeof *o);
    switch (s->kind) {
    case CQL_SEL_COLUMN:
        if ((rc = sel_column(r, t, s, &c)) != 0)
            return rc;
        o->kind = NX_SEL_COL;
        o->col = c;
        o->type = c->type;
        o->name = c->name;
        break;
    case CQL_SEL_COUNT_ROWS:
        o->kind = NX_SEL_COUNT;
        o->type = nx_type(r, CQL_TYPE_BIGINT);
        o->name = "count";
        break;
    case CQL_SEL_WRITETIME:
    case CQL_SEL_TTL: {
        bool wt = s->kind == CQL_SEL_WRITETIME;
        c = node_table_column(t, s->name);
        if (c == NULL)
            return nx_invalid(r, "Undefined column name %s", s->name);
        if (c->kind == NODE_COL_PARTITION_KEY || c->kind == NODE_COL_CLUSTERING)
            return nx_invalid(r, "Cannot use selection function %s on PRIMARY KEY part %s",
                              wt ? "writeTime" : "ttl", c->name);
        if (c->type->kind == CQL_TYPE_COUNTER)
            return nx_invalid(r, "Cannot use selection function %s on counter column %s",
                              wt ? "writeTime" : "ttl", c->name);
        o->kind = wt ? NX_SEL_WRITETIME : NX_SEL_TTL;
        o->col = c;
        o->type = nx_type(r, wt ? CQL_TYPE_BIGINT : CQL_TYPE_INT);
        o->name = fmt_name(r, wt ? "writetime(%s)" : "ttl(%s)", c->name);
        break;
    }
    case CQL_SEL_FIELD: {
        if (s->nargs != 1 || (rc = sel_column(r, t, s->args[0], &c)) != 0)
            return s->nargs != 1 ? nx_invalid(r, "Invalid field selection") : rc;
        if (c->type->kind != CQL_TYPE_UDT)
            return nx_invalid(r, "Invalid field selection: %s of type %s is not a user type", c->name,
                              cql_type_kind_name(c->type->kind));
        size_t f;
        for (f = 0; f < c->type->nsub; f++)
            if (strcmp(c->type->field_names[f], s->name) == 0)
                break;
        if (f == c->type->nsub)
            return nx_invalid(r, "%s of type %s has no field %s", c->name, c->type->name, s->name);
        o->kind = NX_SEL_FIELD;
        o->col = c;
        o->field = f;
        o->type = c->type->sub[f];
        char buf[300];
        snprintf(buf, sizeof buf, "%s.%s", c->name, s->name);
        o->name = cql_arena_strndup(r->a, buf, strlen(buf));
        break;
    }
    case CQL_SEL_FUNCTION: {
        const char *f = s->name;
        if (strcmp(f, "token") == 0) {
            if (s->nargs != t->npk)
                return nx_invalid(r, "Invalid number of arguments in call to function system.token: %zu required but %zu provided",
                                  t->npk, s->nargs);
            char buf[300] = "system.token(";
            for (size_t i = 0; i < s->nargs; i++) {
                if ((rc = sel_column(r, t, s->args[i], &c)) != 0)
                    return rc;
                if (c != t->pk[i])
                    return nx_invalid(r, "The token function arguments must be in the partition key order");
                snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? ", " : "", c->name);
            }
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ")");
            o->kind = NX_SEL_TOKEN;
            o->type = nx_type(r, CQL_TYPE_BIGINT);
            o->name = cql_arena_strndup(r->a, buf, strlen(buf));
            break;
        }
        if (strcmp(f, "count") == 0 || strcmp(f, "min") == 0 || strcmp(f, "max") == 0) {
            if (s->nargs != 1)
                return nx_invalid(r, "Invalid number of arguments in call to function system.%s", f);
            if ((rc = sel_column(r, t, s->args[0], &c)) != 0)
                return rc;
            o->kind = f[0] == 'c' ? NX_SEL_COUNT_COL : f[1] == 'i' ? NX_SEL_MIN : NX_SEL_MAX;
            o->col = c;
            o->type = o->kind == NX_SEL_COUNT_COL ? nx_type(r, CQL_TYPE_BIGINT) : c->type;
            char buf[300];
            snprintf(buf, sizeof buf, "system.%s(%s)", f, c->name);
            o->name = cql_arena_strndup(r->a, buf, strlen(buf));
            break;
        }
        return nx_invalid(r, "Unknown function '%s'", f);
    }
    default:
        return nx_invalid(r, "This kind of selector is not supported by this node");
    }
    if (s->alias != NULL)
        o->name = s->alias;
    return (o->type == NULL || o->name == NULL) ? CQLMQ_ENOMEM : 0;
}

int nx_sel_build(nx_req_t *r, const cql_select_stmt_t *s, const node_table_t *t,
                 nx_selection_t *out)
{
    memset(out, 0, sizeof *out);
    if (s->json)
        return nx_invalid(r, "SELECT JSON is not supported by this node");
    if (s->ngroup_by > 0)
        return nx_invalid(r, "GROUP BY is not supported by this node");
    out->only_static_pk = true;
    if (s->star) {
        const node_column_t **cols;
        size_t n = nx_table_select_order(r, t, &cols);
        if (cols == NULL)
            return CQLMQ_ENOMEM;
        out->v = cql_arena_calloc(r->a, n + 1, sizeof *out->v);
        if (out->v == NULL)
            return CQLMQ_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            out->v[i] = (nx_sel_t){.kind = NX_SEL_COL, .col = cols[i], .type = cols[i]->type,
                                   .name = cols[i]->name};
            if (cols[i]->kind != NODE_COL_PARTITION_KEY && cols[i]->kind != NODE_COL_STATIC)
                out->only_static_pk = false;
        }
        out->n = n;
        return 0;
    }
    out->v = cql_arena_calloc(r->a, s->nselectors + 1, sizeof *out->v);
    if (out->v == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < s->nselectors; i++) {
        int rc = build_one(r, t, s->selectors[i], &out->v[i]);
        if (rc != 0)
            return rc;
        nx_sel_t *o = &out->v[i];
        if (o->kind == NX_SEL_COUNT || o->kind == NX_SEL_COUNT_COL || o->kind == NX_SEL_MIN ||
            o->kind == NX_SEL_MAX)
            out->aggregate = true;
        if (o->col != NULL && o->col->kind != NODE_COL_PARTITION_KEY && o->col->kind != NODE_COL_STATIC)
            out->only_static_pk = false;
    }
    out->n = s->nselectors;
    return 0;
}

int nx_sel_declare(nx_rs_t *rs, const nx_selection_t *sel)
{
    for (size_t i = 0; i < sel->n; i++) {
        int rc = nx_rs_col(rs, sel->v[i].name, sel->v[i].type);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int nx_select_columns(nx_req_t *r, const cql_select_stmt_t *s, const node_table_t *t, nx_rs_t *rs)
{
    nx_selection_t sel;
    int rc = nx_sel_build(r, s, t, &sel);
    return rc != 0 ? rc : nx_sel_declare(rs, &sel);
}

/* The field f of a serialized UDT value, or null. */
static cql_bytes_t udt_field(cql_bytes_t v, size_t f)
{
    cql_bytes_t none = {NULL, CQL_BYTES_NULL};
    if (v.len <= 0)
        return none;
    cql_rd_t rd;
    cql_rd_init(&rd, v.ptr, (size_t)v.len);
    for (size_t i = 0; i <= f; i++) {
        cql_bytes_t b;
        if (cql_rd_left(&rd) == 0 || cql_rd_bytes(&rd, &b) != 0)
            return none;
        if (i == f)
            return b;
    }
    return none;
}

static cql_bytes_t sel_value(const nx_sel_t *s, const node_row_view_t *row, uint8_t buf[8])
{
    cql_bytes_t none = {NULL, CQL_BYTES_NULL};
    switch (s->kind) {
    case NX_SEL_COL:
        return nx_row_value(row, s->col);
    case NX_SEL_WRITETIME:
    case NX_SEL_TTL: {
        const node_cell_t *c = node_row_cell(row, s->col);
        if (c == NULL)
            return none;
        if (s->kind == NX_SEL_WRITETIME) {
            cql_store_u64(buf, (uint64_t)c->ts);
            return (cql_bytes_t){buf, 8};
        }
        if (c->ttl <= 0)
            return none;
        cql_store_u32(buf, (uint32_t)c->ttl);
        return (cql_bytes_t){buf, 4};
    }
    case NX_SEL_TOKEN:
        cql_store_u64(buf, (uint64_t)row->token);
        return (cql_bytes_t){buf, 8};
    case NX_SEL_FIELD:
        return udt_field(nx_row_value(row, s->col), s->field);
    case NX_SEL_CONST:
        return s->value;
    default:
        return none;
    }
}

void nx_sel_project(nx_rs_t *rs, const nx_selection_t *sel, const node_row_view_t *row)
{
    uint8_t buf[8];
    for (size_t i = 0; i < sel->n; i++)
        nx_rs_cell(rs, sel_value(&sel->v[i], row, buf));
    nx_rs_end_row(rs);
}

int nx_agg_init(nx_req_t *r, const nx_selection_t *sel, nx_agg_t *agg)
{
    agg->counts = cql_arena_calloc(r->a, sel->n + 1, sizeof *agg->counts);
    agg->vals = cql_arena_calloc(r->a, sel->n + 1, sizeof *agg->vals);
    agg->any = false;
    if (agg->counts == NULL || agg->vals == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < sel->n; i++)
        agg->vals[i].len = CQL_BYTES_NULL;
    return 0;
}

int nx_agg_add(nx_req_t *r, const nx_selection_t *sel, nx_agg_t *agg, const node_row_view_t *row)
{
    uint8_t buf[8];
    for (size_t i = 0; i < sel->n; i++) {
        const nx_sel_t *s = &sel->v[i];
        cql_bytes_t v;
        switch (s->kind) {
        case NX_SEL_COUNT:
            agg->counts[i]++;
            break;
        case NX_SEL_COUNT_COL:
            if (nx_row_value(row, s->col).len >= 0)
                agg->counts[i]++;
            break;
        case NX_SEL_MIN:
        case NX_SEL_MAX:
            v = nx_row_value(row, s->col);
            if (v.len < 0)
                break;
            if (agg->vals[i].len < 0 ||
                (cql_order_compare(s->type, v, agg->vals[i]) < 0) == (s->kind == NX_SEL_MIN)) {
                agg->vals[i] = nx_bytes_dup(r, v.ptr, (size_t)v.len);
                if (agg->vals[i].ptr == NULL)
                    return CQLMQ_ENOMEM;
            }
            break;
        default:
            if (!agg->any) {
                v = sel_value(s, row, buf);
                if (v.len >= 0) {
                    agg->vals[i] = nx_bytes_dup(r, v.ptr, (size_t)v.len);
                    if (agg->vals[i].ptr == NULL)
                        return CQLMQ_ENOMEM;
                }
            }
            break;
        }
    }
    agg->any = true;
    return 0;
}

void nx_agg_emit(nx_rs_t *rs, const nx_selection_t *sel, const nx_agg_t *agg)
{
    for (size_t i = 0; i < sel->n; i++) {
        const nx_sel_t *s = &sel->v[i];
        if (s->kind == NX_SEL_COUNT || s->kind == NX_SEL_COUNT_COL) {
            uint8_t b[8];
            cql_store_u64(b, (uint64_t)agg->counts[i]);
            nx_rs_cell(rs, (cql_bytes_t){b, 8});
        } else {
            nx_rs_cell(rs, agg->vals[i]);
        }
    }
    nx_rs_end_row(rs);
}
