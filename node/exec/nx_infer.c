/*
 * nx_infer: the receiver (name, type) of every bind marker of a statement,
 * as Cassandra reports them in Prepared metadata and matches named values:
 *   k = ?              "k", the column's type
 *   k IN ?             "in(k)", list<type>
 *   token(k) > ?       "partition key token", bigint
 *   LIMIT ?            "[limit]", int;  PER PARTITION LIMIT ?  "[per_partition_limit]"
 *   USING TTL ?        "[ttl]", int;    USING TIMESTAMP ?      "[timestamp]", bigint
 *   m[?] = ?           "key(m)" / "idx(l)", then "value(m)"
 *   (a, b) > ?         "(a,b)", tuple<...>
 *   :name              the name as written
 * and the Prepared result: bind metadata with pk_indices (the markers that
 * bind the partition key columns by equality, in key order) and the result
 * set metadata of SELECTs.
 */
#include <stdio.h>
#include <string.h>

#include "nx_int.h"


typedef struct ictx {
    nx_req_t *r;
    const node_table_t *t;     /* current table */
    int pk_marker[64];         /* per pk position: marker index or -1 */
    bool single_table;
    const node_table_t *first; /* first table seen */
} ictx_t;

static const char *aprintf(nx_req_t *r, const char *fmt, const char *a)
{
    char buf[256];
    snprintf(buf, sizeof buf, fmt, a);
    return cql_arena_strndup(r->a, buf, strlen(buf));
}

static void set_spec(ictx_t *c, const cql_term_t *m, const char *name, const cql_type_t *type)
{
    nx_req_t *r = c->r;
    if (m->bind_index >= r->nspecs)
        return;
    nx_spec_t *s = &r->specs[m->bind_index];
    s->ks = c->t ? c->t->keyspace : "";
    s->table = c->t ? c->t->name : "";
    s->name = m->bind_name ? m->bind_name : name;
    s->type = type;
}

static void infer_term(ictx_t *c, const cql_term_t *term, const cql_type_t *type, const char *name)
{
    if (term == NULL || type == NULL)
        return;
    switch (term->kind) {
    case CQL_TERM_BIND:
        set_spec(c, term, name, type);
        break;
    case CQL_TERM_LIST:
    case CQL_TERM_SET:
        if (type->nsub >= 1)
            for (size_t i = 0; i < term->n; i++)
                infer_term(c, term->items[i], type->sub[0], name);
        break;
    case CQL_TERM_MAP:
        if (type->kind == CQL_TYPE_MAP)
            for (size_t i = 0; i < term->n; i++) {
                infer_term(c, term->items[i], type->sub[0], name);
                infer_term(c, term->values[i], type->sub[1], name);
            }
        break;
    case CQL_TERM_TUPLE:
        for (size_t i = 0; i < term->n && i < type->nsub; i++)
            infer_term(c, term->items[i], type->sub[i], name);
        break;
    case CQL_TERM_UDT:
        if (type->kind == CQL_TYPE_UDT)
            for (size_t i = 0; i < term->n; i++)
                for (size_t f = 0; f < type->nsub; f++)
                    if (strcmp(type->field_names[f], term->names[i]) == 0)
                        infer_term(c, term->items[i], type->sub[f], name);
        break;
    case CQL_TERM_TYPE_HINT: {
        cql_type_t *h;
        if (cql_type_parse(term->text, strlen(term->text), c->r->a, NULL, NULL, NULL, &h) == 0)
            infer_term(c, term->items[0], h, name);
        break;
    }
    case CQL_TERM_FUNCTION:
        for (size_t i = 0; i < term->n; i++)
            infer_term(c, term->items[i], nx_type(c->r, CQL_TYPE_BLOB), name);
        break;
    default:
        break;
    }
}

static int column(ictx_t *c, const char *name, const node_column_t **out)
{
    const node_column_t *col = node_table_column(c->t, name);
    if (col == NULL)
        return nx_invalid(c->r, "Undefined column name %s", name);
    *out = col;
    return 0;
}

static int infer_rel(ictx_t *c, const cql_relation_t *rel)
{
    nx_req_t *r = c->r;
    const node_column_t *col = NULL;
    int rc;
    switch (rel->lhs) {
    case CQL_LHS_TOKEN:
        infer_term(c, rel->value, nx_type(r, CQL_TYPE_BIGINT), "partition key token");
        return 0;
    case CQL_LHS_TUPLE: {
        cql_type_t *tt = cql_arena_calloc(r->a, 1, sizeof *tt);
        cql_type_t **subs = cql_arena_calloc(r->a, rel->ncolumns + 1, sizeof *subs);
        if (tt == NULL || subs == NULL)
            return CQLMQ_ENOMEM;
        char nm[256] = "(";
        for (size_t i = 0; i < rel->ncolumns; i++) {
            if ((rc = column(c, rel->columns[i], &col)) != 0)
                return rc;
            subs[i] = (cql_type_t *)col->type;
            snprintf(nm + strlen(nm), sizeof nm - strlen(nm), "%s%s", i ? "," : "", col->name);
        }
        snprintf(nm + strlen(nm), sizeof nm - strlen(nm), ")");
        tt->kind = CQL_TYPE_TUPLE;
        tt->nsub = rel->ncolumns;
        tt->sub = subs;
        const char *name = cql_arena_strndup(r->a, nm, strlen(nm));
        if (rel->op == CQL_REL_IN) {
            if (rel->in_list) {
                for (size_t i = 0; i < rel->nin; i++)
                    infer_term(c, rel->in_values[i], tt, name);
            } else {
                infer_term(c, rel->value, nx_type_coll(r, CQL_TYPE_LIST, tt, NULL),
                           aprintf(r, "in%s", name));
            }
        } else {
            infer_term(c, rel->value, tt, name);
        }
        return 0;
    }
    default:
        break;
    }
    if ((rc = column(c, rel->columns[0], &col)) != 0)
        return rc;
    const cql_type_t *ty = col->type;
    if (rel->lhs == CQL_LHS_ELEMENT) {
        bool list = ty->kind == CQL_TYPE_LIST;
        if (ty->kind != CQL_TYPE_MAP && !list)
            return nx_invalid(r, "Invalid element access on non-collection column %s", col->name);
        infer_term(c, rel->key, list ? nx_type(r, CQL_TYPE_INT) : ty->sub[0],
                   aprintf(r, list ? "idx(%s)" : "key(%s)", col->name));
        ty = list ? ty->sub[0] : ty->sub[1];
    } else if (rel->lhs == CQL_LHS_FIELD) {
        const cql_type_t *ft = NULL;
        for (size_t f = 0; ty->kind == CQL_TYPE_UDT && f < ty->nsub; f++)
            if (strcmp(ty->field_names[f], rel->field) == 0)
                ft = ty->sub[f];
        if (ft == NULL)
            return nx_invalid(r, "Unknown field %s for column %s", rel->field, col->name);
        ty = ft;
    }
    if (rel->op == CQL_REL_CONTAINS) {
        ty = ty->kind == CQL_TYPE_MAP ? ty->sub[1] : ty->nsub ? ty->sub[0] : ty;
    } else if (rel->op == CQL_REL_CONTAINS_KEY) {
        ty = ty->nsub ? ty->sub[0] : ty;
    }
    if (rel->op == CQL_REL_IN) {
        if (rel->in_list) {
            for (size_t i = 0; i < rel->nin; i++)
                infer_term(c, rel->in_values[i], ty, col->name);
        } else {
            infer_term(c, rel->value, nx_type_coll(r, CQL_TYPE_LIST, ty, NULL),
                       aprintf(r, "in(%s)", col->name));
        }
        return 0;
    }
    if (rel->lhs == CQL_LHS_COLUMN && rel->op == CQL_REL_EQ && col->kind == NODE_COL_PARTITION_KEY &&
        rel->value && rel->value->kind == CQL_TERM_BIND && col->position < 64 && c->t == c->first)
        c->pk_marker[col->position] = (int)rel->value->bind_index;
    infer_term(c, rel->value, ty, col->name);
    return 0;
}

static int infer_rels(ictx_t *c, cql_relation_t *const *rels, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = infer_rel(c, rels[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void infer_using(ictx_t *c, const cql_using_t *u)
{
    if (u->ttl)
        infer_term(c, u->ttl, nx_type(c->r, CQL_TYPE_INT), "[ttl]");
    if (u->timestamp)
        infer_term(c, u->timestamp, nx_type(c->r, CQL_TYPE_BIGINT), "[timestamp]");
}

static int use_table(ictx_t *c, const cql_qname_t *q)
{
    int rc = nx_resolve_table(c->r, q, &c->t);
    if (rc != 0)
        return rc;
    if (c->first == NULL)
        c->first = c->t;
    else if (c->first != c->t)
        c->single_table = false;
    return 0;
}

static int infer_assign(ictx_t *c, const cql_assignment_t *as)
{
    nx_req_t *r = c->r;
    const node_column_t *col = NULL;
    int rc = column(c, as->column, &col);
    if (rc != 0)
        return rc;
    const cql_type_t *ty = col->type;
    switch (as->op) {
    case CQL_ASSIGN_SET_ELEMENT: {
        bool list = ty->kind == CQL_TYPE_LIST;
        if (ty->kind != CQL_TYPE_MAP && !list)
            return nx_invalid(r, "Invalid operation (%s[?] = ?) for non list/map column %s",
                              col->name, col->name);
        infer_term(c, as->key, list ? nx_type(r, CQL_TYPE_INT) : ty->sub[0],
                   aprintf(r, list ? "idx(%s)" : "key(%s)", col->name));
        infer_term(c, as->value, list ? ty->sub[0] : ty->sub[1], aprintf(r, "value(%s)", col->name));
        return 0;
    }
    case CQL_ASSIGN_SET_FIELD:
        for (size_t f = 0; ty->kind == CQL_TYPE_UDT && f < ty->nsub; f++)
            if (strcmp(ty->field_names[f], as->field) == 0)
                infer_term(c, as->value, ty->sub[f], as->field);
        return 0;
    case CQL_ASSIGN_ADD:
    case CQL_ASSIGN_SUB:
    case CQL_ASSIGN_PREPEND:
        if (ty->kind == CQL_TYPE_COUNTER)
            ty = nx_type(r, CQL_TYPE_BIGINT);
        else if (ty->kind == CQL_TYPE_MAP && as->op == CQL_ASSIGN_SUB)
            ty = nx_type_coll(r, CQL_TYPE_SET, ty->sub[0], NULL);
        infer_term(c, as->value, ty, col->name);
        return 0;
    default:
        infer_term(c, as->value, ty, col->name);
        return 0;
    }
}

static int infer_stmt(ictx_t *c, const cql_stmt_t *st)
{
    nx_req_t *r = c->r;
    int rc = 0;
    switch (st->kind) {
    case CQL_STMT_SELECT: {
        const cql_select_stmt_t *s = &st->u.select;
        if ((rc = use_table(c, &s->table)) != 0)
            return rc;
        if ((rc = infer_rels(c, s->where, s->nwhere)) != 0)
            return rc;
        if (s->limit)
            infer_term(c, s->limit, nx_type(r, CQL_TYPE_INT), "[limit]");
        if (s->per_partition_limit)
            infer_term(c, s->per_partition_limit, nx_type(r, CQL_TYPE_INT), "[per_partition_limit]");
        for (size_t i = 0; i < s->nselectors; i++)
            if (s->selectors[i]->kind == CQL_SEL_TERM)
                infer_term(c, s->selectors[i]->term, nx_type(r, CQL_TYPE_BLOB), "[selection]");
        return 0;
    }
    case CQL_STMT_INSERT: {
        const cql_insert_stmt_t *s = &st->u.insert;
        if ((rc = use_table(c, &s->table)) != 0)
            return rc;
        infer_using(c, &s->using);
        if (s->json) {
            infer_term(c, s->json_value, nx_type(r, CQL_TYPE_VARCHAR), "[json]");
            return 0;
        }
        for (size_t i = 0; i < s->ncolumns && i < s->nvalues; i++) {
            const node_column_t *col = NULL;
            if ((rc = column(c, s->columns[i], &col)) != 0)
                return rc;
            if (col->kind == NODE_COL_PARTITION_KEY && s->values[i]->kind == CQL_TERM_BIND &&
                col->position < 64 && c->t == c->first)
                c->pk_marker[col->position] = (int)s->values[i]->bind_index;
            infer_term(c, s->values[i], col->type, col->name);
        }
        return 0;
    }
    case CQL_STMT_UPDATE: {
        const cql_update_stmt_t *s = &st->u.update;
        if ((rc = use_table(c, &s->table)) != 0)
            return rc;
        infer_using(c, &s->using);
        for (size_t i = 0; i < s->nassignments; i++)
            if ((rc = infer_assign(c, &s->assignments[i])) != 0)
                return rc;
        if ((rc = infer_rels(c, s->where, s->nwhere)) != 0)
            return rc;
        return infer_rels(c, s->conditions, s->nconditions);
    }
    case CQL_STMT_DELETE: {
        const cql_delete_stmt_t *s = &st->u.del;
        if ((rc = use_table(c, &s->table)) != 0)
            return rc;
        infer_using(c, &s->using);
        for (size_t i = 0; i < s->ntargets; i++) {
            const cql_delete_target_t *dt = &s->targets[i];
            const node_column_t *col = NULL;
            if ((rc = column(c, dt->column, &col)) != 0)
                return rc;
            if (dt->key != NULL) {
                bool list = col->type->kind == CQL_TYPE_LIST;
                infer_term(c, dt->key,
                           list ? nx_type(r, CQL_TYPE_INT) : col->type->nsub ? col->type->sub[0] : col->type,
                           aprintf(r, list ? "idx(%s)" : "key(%s)", col->name));
            }
        }
        if ((rc = infer_rels(c, s->where, s->nwhere)) != 0)
            return rc;
        return infer_rels(c, s->conditions, s->nconditions);
    }
    case CQL_STMT_BATCH:
        infer_using(c, &st->u.batch.using);
        for (size_t i = 0; i < st->u.batch.nstmts; i++)
            if ((rc = infer_stmt(c, st->u.batch.stmts[i])) != 0)
                return rc;
        return 0;
    default:
        return 0;
    }
}

int nx_infer(nx_req_t *r, const cql_stmt_t *st)
{
    r->nspecs = st->nmarkers;
    r->specs = cql_arena_calloc(r->a, st->nmarkers ? st->nmarkers : 1, sizeof *r->specs);
    if (r->specs == NULL)
        return CQLMQ_ENOMEM;
    ictx_t c;
    memset(&c, 0, sizeof c);
    c.r = r;
    c.single_table = true;
    for (size_t i = 0; i < 64; i++)
        c.pk_marker[i] = -1;
    int rc = infer_stmt(&c, st);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < r->nspecs; i++) {
        if (r->specs[i].type == NULL) {
            r->specs[i].type = nx_type(r, CQL_TYPE_BLOB);
            r->specs[i].name = st->markers[i]->bind_name ? st->markers[i]->bind_name : "?";
            r->specs[i].ks = c.first ? c.first->keyspace : "";
            r->specs[i].table = c.first ? c.first->name : "";
        }
        if (r->specs[i].type == NULL || r->specs[i].name == NULL)
            return CQLMQ_ENOMEM;
    }
    return 0;
}

/* Fills the pk_indices of st into m (arena). */
static int pk_indices(nx_req_t *r, const cql_stmt_t *st, cql_meta_t *m)
{
    ictx_t c;
    memset(&c, 0, sizeof c);
    c.r = r;
    c.single_table = true;
    for (size_t i = 0; i < 64; i++)
        c.pk_marker[i] = -1;
    if (st->kind == CQL_STMT_BATCH || infer_stmt(&c, st) != 0 || c.first == NULL ||
        c.first->npk > 64)
        return 0;
    uint16_t *idx = cql_arena_calloc(r->a, c.first->npk, sizeof *idx);
    if (idx == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < c.first->npk; i++) {
        if (c.pk_marker[i] < 0)
            return 0;
        idx[i] = (uint16_t)c.pk_marker[i];
    }
    m->npk = (int32_t)c.first->npk;
    m->pk_indices = idx;
    return 0;
}

int nx_prepared_result(nx_req_t *r, const cql_stmt_t *st, const uint8_t id[16])
{
    cql_meta_t bind;
    memset(&bind, 0, sizeof bind);
    bind.ncols = (int32_t)r->nspecs;
    if (r->nspecs > 0) {
        bind.cols = cql_arena_calloc(r->a, r->nspecs, sizeof *bind.cols);
        if (bind.cols == NULL)
            return CQLMQ_ENOMEM;
        bool same = true;
        for (size_t i = 0; i < r->nspecs; i++) {
            nx_spec_t *s = &r->specs[i];
            bind.cols[i].keyspace = (cql_str_t){s->ks, strlen(s->ks)};
            bind.cols[i].table = (cql_str_t){s->table, strlen(s->table)};
            bind.cols[i].name = (cql_str_t){s->name, strlen(s->name)};
            bind.cols[i].type = (cql_type_t *)s->type;
            if (strcmp(s->ks, r->specs[0].ks) != 0 || strcmp(s->table, r->specs[0].table) != 0)
                same = false;
        }
        if (same) {
            bind.flags = CQL_MF_GLOBAL_TABLES_SPEC;
            bind.keyspace = bind.cols[0].keyspace;
            bind.table = bind.cols[0].table;
        }
    }
    int rc = pk_indices(r, st, &bind);
    if (rc != 0)
        return rc;
    r->ecode = 0;

    nx_rs_t rs;
    const node_table_t *t = NULL;
    nx_rs_init(&rs, r, "", "");
    if (st->kind == CQL_STMT_SELECT && nx_resolve_table(r, &st->u.select.table, &t) == 0) {
        nx_rs_init(&rs, r, t->keyspace, t->name);
        if ((rc = nx_select_columns(r, &st->u.select, t, &rs)) != 0) {
            nx_rs_close(&rs);
            return rc;
        }
    }
    cql_meta_t res;
    nx_rs_meta(&rs, &res);
    nx_rs_close(&rs);

    cql_wr_t *w = r->out;
    cql_wr_i32(w, CQL_RESULT_PREPARED);
    cql_wr_short_bytes(w, id, 16);
    rc = cql_meta_write(w, r->version, CQL_META_BIND, &bind);
    if (rc == 0)
        rc = cql_meta_write(w, r->version, CQL_META_ROWS, &res);
    return rc != 0 ? rc : cql_wr_error(w);
}
