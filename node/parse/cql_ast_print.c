/*
 * cql_ast_print: writes a tree back as canonical CQL, for tests and logs.
 *
 * The output is a fixed point: parsing it and printing again gives the same
 * text (the fuzz target checks this). Canonical means upper-case keywords,
 * single spaces, ", " separators, names quoted only when needed, PRIMARY KEY
 * always as a clause and explicit ASC in CLUSTERING ORDER.
 */
#include <stdio.h>
#include <string.h>

#include "cql_parser.h"

/* Output that counts what it could not store (snprintf semantics). */
typedef struct out {
    char *buf;
    size_t cap;
    size_t n; /* bytes the full text needs so far */
} out_t;

static void put(out_t *o, const char *s, size_t len)
{
    if (o->n < o->cap) {
        size_t room = o->cap - o->n - 1;
        memcpy(o->buf + o->n, s, len < room ? len : room);
    }
    o->n += len;
}

static void puts_(out_t *o, const char *s) { put(o, s, strlen(s)); }

static void ident(out_t *o, const char *name)
{
    if (!cql_ident_needs_quotes(name)) {
        puts_(o, name);
        return;
    }
    puts_(o, "\"");
    for (const char *c = name; *c; c++) {
        put(o, c, 1);
        if (*c == '"')
            put(o, c, 1); /* " -> "" */
    }
    puts_(o, "\"");
}

static void qname(out_t *o, const cql_qname_t *q)
{
    if (q->keyspace) {
        ident(o, q->keyspace);
        puts_(o, ".");
    }
    ident(o, q->name);
}

static void term(out_t *o, const cql_term_t *t);

static void terms(out_t *o, cql_term_t *const *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            puts_(o, ", ");
        term(o, items[i]);
    }
}

static void term(out_t *o, const cql_term_t *t)
{
    switch (t->kind) {
    case CQL_TERM_NULL: puts_(o, "null"); break;
    case CQL_TERM_BOOL: puts_(o, t->b ? "true" : "false"); break;
    case CQL_TERM_STRING:
        puts_(o, "'");
        for (size_t i = 0; i < t->len; i++) {
            put(o, t->text + i, 1);
            if (t->text[i] == '\'')
                put(o, "'", 1);
        }
        puts_(o, "'");
        break;
    case CQL_TERM_BIND:
        if (t->bind_name) {
            puts_(o, ":");
            ident(o, t->bind_name);
        } else {
            puts_(o, "?");
        }
        break;
    case CQL_TERM_LIST: puts_(o, "["); terms(o, t->items, t->n); puts_(o, "]"); break;
    case CQL_TERM_SET: puts_(o, "{"); terms(o, t->items, t->n); puts_(o, "}"); break;
    case CQL_TERM_EMPTY_BRACES: puts_(o, "{}"); break;
    case CQL_TERM_TUPLE: puts_(o, "("); terms(o, t->items, t->n); puts_(o, ")"); break;
    case CQL_TERM_MAP:
    case CQL_TERM_UDT:
        puts_(o, "{");
        for (size_t i = 0; i < t->n; i++) {
            if (i)
                puts_(o, ", ");
            if (t->kind == CQL_TERM_MAP)
                term(o, t->items[i]);
            else
                ident(o, t->names[i]);
            puts_(o, ": ");
            term(o, t->kind == CQL_TERM_MAP ? t->values[i] : t->items[i]);
        }
        puts_(o, "}");
        break;
    case CQL_TERM_FUNCTION:
        if (t->keyspace) {
            ident(o, t->keyspace);
            puts_(o, ".");
        }
        if (strcmp(t->text, "token") == 0)
            puts_(o, "token");
        else
            ident(o, t->text);
        puts_(o, "(");
        terms(o, t->items, t->n);
        puts_(o, ")");
        break;
    case CQL_TERM_TYPE_HINT:
        puts_(o, "(");
        puts_(o, t->text);
        puts_(o, ") ");
        term(o, t->items[0]);
        break;
    default: /* INT, FLOAT, BLOB, UUID, DURATION, IDENT: the source text */
        put(o, t->text, t->len);
        break;
    }
}

size_t cql_term_format(const cql_term_t *t, char *buf, size_t cap)
{
    out_t o = {buf, cap, 0};
    term(&o, t);
    if (cap)
        buf[o.n < cap ? o.n : cap - 1] = '\0';
    return o.n;
}

static void names(out_t *o, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            puts_(o, ", ");
        ident(o, v[i]);
    }
}

static void selector(out_t *o, const cql_selector_t *s)
{
    switch (s->kind) {
    case CQL_SEL_COLUMN: ident(o, s->name); break;
    case CQL_SEL_COUNT_ROWS: puts_(o, "COUNT(*)"); break;
    case CQL_SEL_WRITETIME:
    case CQL_SEL_TTL:
        puts_(o, s->kind == CQL_SEL_TTL ? "TTL(" : "WRITETIME(");
        ident(o, s->name);
        puts_(o, ")");
        break;
    case CQL_SEL_FUNCTION:
        if (s->keyspace) {
            ident(o, s->keyspace);
            puts_(o, ".");
        }
        if (strcmp(s->name, "token") == 0)
            puts_(o, "token");
        else
            ident(o, s->name);
        puts_(o, "(");
        for (size_t i = 0; i < s->nargs; i++) {
            if (i)
                puts_(o, ", ");
            selector(o, s->args[i]);
        }
        puts_(o, ")");
        break;
    case CQL_SEL_CAST:
        puts_(o, "CAST(");
        selector(o, s->args[0]);
        puts_(o, " AS ");
        puts_(o, s->type);
        puts_(o, ")");
        break;
    case CQL_SEL_FIELD:
        selector(o, s->args[0]);
        puts_(o, ".");
        ident(o, s->name);
        break;
    case CQL_SEL_TERM: term(o, s->term); break;
    }
}

static void relation(out_t *o, const cql_relation_t *r)
{
    switch (r->lhs) {
    case CQL_LHS_COLUMN: ident(o, r->columns[0]); break;
    case CQL_LHS_ELEMENT:
        ident(o, r->columns[0]);
        puts_(o, "[");
        term(o, r->key);
        puts_(o, "]");
        break;
    case CQL_LHS_FIELD:
        ident(o, r->columns[0]);
        puts_(o, ".");
        ident(o, r->field);
        break;
    case CQL_LHS_TOKEN:
    case CQL_LHS_TUPLE:
        puts_(o, r->lhs == CQL_LHS_TOKEN ? "token(" : "(");
        names(o, r->columns, r->ncolumns);
        puts_(o, ")");
        break;
    }
    puts_(o, " ");
    puts_(o, cql_rel_op_name(r->op));
    if (r->op == CQL_REL_IS_NOT_NULL)
        return;
    puts_(o, " ");
    if (r->op == CQL_REL_IN && r->in_list) {
        puts_(o, "(");
        terms(o, r->in_values, r->nin);
        puts_(o, ")");
    } else {
        term(o, r->value);
    }
}

static void relations(out_t *o, const char *kw, cql_relation_t *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        puts_(o, i ? " AND " : kw);
        relation(o, v[i]);
    }
}

static void using_(out_t *o, const cql_using_t *u)
{
    if (u->ttl) {
        puts_(o, " USING TTL ");
        term(o, u->ttl);
    }
    if (u->timestamp) {
        puts_(o, u->ttl ? " AND TIMESTAMP " : " USING TIMESTAMP ");
        term(o, u->timestamp);
    }
}

static void options(out_t *o, const char *kw, const cql_option_t *v, size_t n, bool first)
{
    for (size_t i = 0; i < n; i++) {
        puts_(o, first && i == 0 ? kw : " AND ");
        ident(o, v[i].name);
        puts_(o, " = ");
        term(o, v[i].value);
    }
}

static void coldefs(out_t *o, const cql_column_def_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            puts_(o, ", ");
        ident(o, c[i].name);
        puts_(o, " ");
        puts_(o, c[i].type_raw);
        if (c[i].is_static)
            puts_(o, " STATIC");
    }
}

static void select_(out_t *o, const cql_select_stmt_t *s)
{
    puts_(o, "SELECT ");
    if (s->json)
        puts_(o, "JSON ");
    if (s->distinct)
        puts_(o, "DISTINCT ");
    if (s->star)
        puts_(o, "*");
    for (size_t i = 0; i < s->nselectors; i++) {
        if (i)
            puts_(o, ", ");
        selector(o, s->selectors[i]);
        if (s->selectors[i]->alias) {
            puts_(o, " AS ");
            ident(o, s->selectors[i]->alias);
        }
    }
    puts_(o, " FROM ");
    qname(o, &s->table);
    relations(o, " WHERE ", s->where, s->nwhere);
    if (s->ngroup_by) {
        puts_(o, " GROUP BY ");
        names(o, s->group_by, s->ngroup_by);
    }
    for (size_t i = 0; i < s->norder_by; i++) {
        puts_(o, i ? ", " : " ORDER BY ");
        ident(o, s->order_by[i].column);
        puts_(o, s->order_by[i].desc ? " DESC" : " ASC");
    }
    if (s->per_partition_limit) {
        puts_(o, " PER PARTITION LIMIT ");
        term(o, s->per_partition_limit);
    }
    if (s->limit) {
        puts_(o, " LIMIT ");
        term(o, s->limit);
    }
    if (s->allow_filtering)
        puts_(o, " ALLOW FILTERING");
}

static void insert_(out_t *o, const cql_insert_stmt_t *s)
{
    puts_(o, "INSERT INTO ");
    qname(o, &s->table);
    if (s->json) {
        puts_(o, " JSON ");
        term(o, s->json_value);
        if (s->json_default_unset)
            puts_(o, " DEFAULT UNSET");
    } else {
        puts_(o, " (");
        names(o, s->columns, s->ncolumns);
        puts_(o, ") VALUES (");
        terms(o, s->values, s->nvalues);
        puts_(o, ")");
    }
    if (s->if_not_exists)
        puts_(o, " IF NOT EXISTS");
    using_(o, &s->using);
}

static void assignment(out_t *o, const cql_assignment_t *a)
{
    ident(o, a->column);
    switch (a->op) {
    case CQL_ASSIGN_SET: puts_(o, " = "); break;
    case CQL_ASSIGN_SET_ELEMENT:
        puts_(o, "[");
        term(o, a->key);
        puts_(o, "] = ");
        break;
    case CQL_ASSIGN_SET_FIELD:
        puts_(o, ".");
        ident(o, a->field);
        puts_(o, " = ");
        break;
    case CQL_ASSIGN_ADD:
    case CQL_ASSIGN_SUB:
        puts_(o, " = ");
        ident(o, a->column);
        puts_(o, a->op == CQL_ASSIGN_ADD ? " + " : " - ");
        break;
    case CQL_ASSIGN_PREPEND:
        puts_(o, " = ");
        term(o, a->value);
        puts_(o, " + ");
        ident(o, a->column);
        return;
    }
    term(o, a->value);
}

static void if_(out_t *o, bool exists, cql_relation_t *const *conds, size_t n)
{
    if (exists)
        puts_(o, " IF EXISTS");
    relations(o, " IF ", conds, n);
}

static void update_(out_t *o, const cql_update_stmt_t *s)
{
    puts_(o, "UPDATE ");
    qname(o, &s->table);
    using_(o, &s->using);
    for (size_t i = 0; i < s->nassignments; i++) {
        puts_(o, i ? ", " : " SET ");
        assignment(o, &s->assignments[i]);
    }
    relations(o, " WHERE ", s->where, s->nwhere);
    if_(o, s->if_exists, s->conditions, s->nconditions);
}

static void delete_(out_t *o, const cql_delete_stmt_t *s)
{
    puts_(o, "DELETE");
    for (size_t i = 0; i < s->ntargets; i++) {
        puts_(o, i ? ", " : " ");
        ident(o, s->targets[i].column);
        if (s->targets[i].key) {
            puts_(o, "[");
            term(o, s->targets[i].key);
            puts_(o, "]");
        } else if (s->targets[i].field) {
            puts_(o, ".");
            ident(o, s->targets[i].field);
        }
    }
    puts_(o, " FROM ");
    qname(o, &s->table);
    using_(o, &s->using);
    relations(o, " WHERE ", s->where, s->nwhere);
    if_(o, s->if_exists, s->conditions, s->nconditions);
}

static void stmt(out_t *o, const cql_stmt_t *st);

static void batch_(out_t *o, const cql_ast_batch_t *b)
{
    puts_(o, b->type == CQL_AST_BATCH_UNLOGGED  ? "BEGIN UNLOGGED BATCH"
             : b->type == CQL_AST_BATCH_COUNTER ? "BEGIN COUNTER BATCH"
                                                : "BEGIN BATCH");
    using_(o, &b->using);
    for (size_t i = 0; i < b->nstmts; i++) {
        puts_(o, " ");
        stmt(o, b->stmts[i]);
        puts_(o, ";");
    }
    puts_(o, " APPLY BATCH");
}

static void create_table_(out_t *o, const cql_create_table_stmt_t *s)
{
    puts_(o, s->if_not_exists ? "CREATE TABLE IF NOT EXISTS " : "CREATE TABLE ");
    qname(o, &s->table);
    puts_(o, " (");
    coldefs(o, s->columns, s->ncolumns);
    puts_(o, s->ncolumns ? ", PRIMARY KEY ((" : "PRIMARY KEY ((");
    names(o, s->partition_key, s->npartition_key);
    puts_(o, ")");
    for (size_t i = 0; i < s->nclustering; i++) {
        puts_(o, ", ");
        ident(o, s->clustering[i]);
    }
    puts_(o, "))");
    bool first = true;
    for (size_t i = 0; i < s->nclustering_order; i++) {
        puts_(o, i ? ", " : first ? " WITH CLUSTERING ORDER BY (" : " AND CLUSTERING ORDER BY (");
        ident(o, s->clustering_order[i].column);
        puts_(o, s->clustering_order[i].desc ? " DESC" : " ASC");
    }
    if (s->nclustering_order) {
        puts_(o, ")");
        first = false;
    }
    if (s->compact_storage) {
        puts_(o, first ? " WITH COMPACT STORAGE" : " AND COMPACT STORAGE");
        first = false;
    }
    options(o, " WITH ", s->options, s->noptions, first);
}

static void alter_table_(out_t *o, const cql_alter_table_stmt_t *s)
{
    puts_(o, "ALTER TABLE ");
    qname(o, &s->table);
    switch (s->op) {
    case CQL_ALTER_ADD:
        puts_(o, " ADD (");
        coldefs(o, s->columns, s->ncolumns);
        puts_(o, ")");
        break;
    case CQL_ALTER_DROP:
        puts_(o, " DROP (");
        names(o, s->names, s->nnames);
        puts_(o, ")");
        break;
    case CQL_ALTER_RENAME:
        for (size_t i = 0; i < s->nnames; i++) {
            puts_(o, i ? " AND " : " RENAME ");
            ident(o, s->names[i]);
            puts_(o, " TO ");
            ident(o, s->renames[i]);
        }
        break;
    case CQL_ALTER_ALTER:
        puts_(o, " ALTER ");
        ident(o, s->names[0]);
        puts_(o, " TYPE ");
        puts_(o, s->columns[0].type_raw);
        break;
    case CQL_ALTER_WITH: options(o, " WITH ", s->options, s->noptions, true); break;
    }
}

static void keyspace_(out_t *o, const cql_stmt_t *st)
{
    const cql_keyspace_stmt_t *k = &st->u.keyspace;
    puts_(o, cql_stmt_kind_name(st->kind));
    puts_(o, " ");
    if (k->if_not_exists)
        puts_(o, "IF NOT EXISTS ");
    if (k->if_exists)
        puts_(o, "IF EXISTS ");
    ident(o, k->name);
    options(o, " WITH ", k->options, k->noptions, true);
}

static void stmt(out_t *o, const cql_stmt_t *st)
{
    switch (st->kind) {
    case CQL_STMT_SELECT: select_(o, &st->u.select); break;
    case CQL_STMT_INSERT: insert_(o, &st->u.insert); break;
    case CQL_STMT_UPDATE: update_(o, &st->u.update); break;
    case CQL_STMT_DELETE: delete_(o, &st->u.del); break;
    case CQL_STMT_BATCH: batch_(o, &st->u.batch); break;
    case CQL_STMT_USE:
    case CQL_STMT_CREATE_KEYSPACE:
    case CQL_STMT_ALTER_KEYSPACE:
    case CQL_STMT_DROP_KEYSPACE: keyspace_(o, st); break;
    case CQL_STMT_CREATE_TABLE: create_table_(o, &st->u.create_table); break;
    case CQL_STMT_ALTER_TABLE: alter_table_(o, &st->u.alter_table); break;
    case CQL_STMT_DROP_TABLE:
    case CQL_STMT_TRUNCATE:
        puts_(o, st->kind == CQL_STMT_TRUNCATE ? "TRUNCATE TABLE " : "DROP TABLE ");
        if (st->u.table.if_exists)
            puts_(o, "IF EXISTS ");
        qname(o, &st->u.table.table);
        break;
    case CQL_STMT_CREATE_TYPE:
    case CQL_STMT_DROP_TYPE:
        puts_(o, st->kind == CQL_STMT_DROP_TYPE ? "DROP TYPE " : "CREATE TYPE ");
        if (st->u.type.if_exists)
            puts_(o, "IF EXISTS ");
        if (st->u.type.if_not_exists)
            puts_(o, "IF NOT EXISTS ");
        qname(o, &st->u.type.name);
        if (st->kind == CQL_STMT_CREATE_TYPE) {
            puts_(o, " (");
            coldefs(o, st->u.type.fields, st->u.type.nfields);
            puts_(o, ")");
        }
        break;
    case CQL_STMT_UNSUPPORTED: puts_(o, st->unsupported); break;
    default: puts_(o, "?"); break;
    }
}

size_t cql_stmt_format(const cql_stmt_t *st, char *buf, size_t cap)
{
    out_t o = {buf, cap, 0};
    stmt(&o, st);
    if (cap)
        buf[o.n < cap ? o.n : cap - 1] = '\0';
    return o.n;
}
