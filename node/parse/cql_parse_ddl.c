/*
 * cql_parse_ddl: schema statements.
 *
 *   USE ks
 *   CREATE KEYSPACE [IF NOT EXISTS] ks WITH options
 *   ALTER KEYSPACE ks WITH options
 *   DROP KEYSPACE [IF EXISTS] ks
 *   CREATE TABLE [IF NOT EXISTS] t '(' coldef | PRIMARY KEY '(' pk ')' , ... ')'
 *          [WITH options | CLUSTERING ORDER BY (...) | COMPACT STORAGE ...]
 *   ALTER TABLE t (ADD ... | DROP ... | RENAME a TO b ... | ALTER c TYPE t | WITH ...)
 *   DROP TABLE [IF EXISTS] t         TRUNCATE [TABLE] t
 *   CREATE TYPE [IF NOT EXISTS] t '(' field type, ... ')'     DROP TYPE [IF EXISTS] t
 * Indexes, views, functions, aggregates, triggers, roles, users and
 * permissions are recognised and returned as CQL_STMT_UNSUPPORTED.
 */
#include <string.h>

#include "cql_parser.h"

static cql_stmt_t *new_stmt(cql_parser_t *p, cql_stmt_kind_t kind)
{
    cql_stmt_t *st = cql_p_alloc(p, sizeof(*st));
    if (st)
        st->kind = kind;
    return st;
}

static bool if_not_exists(cql_parser_t *p, bool *flag)
{
    if (!cql_p_accept_kw(p, "if"))
        return true;
    *flag = true;
    return cql_p_expect_kw(p, "not") && cql_p_expect_kw(p, "exists");
}

cql_stmt_t *cql_p_unsupported(cql_parser_t *p, const char *what)
{
    cql_stmt_t *st = new_stmt(p, CQL_STMT_UNSUPPORTED);
    if (st == NULL)
        return NULL;
    st->unsupported = what;
    while (!cql_p_is(p, CQL_TK_EOF)) {
        if (cql_p_is(p, CQL_TK_ERROR)) {
            cql_p_noviable(p);
            return NULL;
        }
        cql_p_advance(p);
    }
    return st;
}

cql_stmt_t *cql_p_use(cql_parser_t *p)
{
    cql_stmt_t *st = new_stmt(p, CQL_STMT_USE);
    if (st == NULL || !cql_p_expect_kw(p, "use"))
        return NULL;
    st->u.keyspace.name = cql_p_ident(p);
    return st->u.keyspace.name ? st : NULL;
}

/* name WITH options (CREATE KEYSPACE). */
static cql_stmt_t *keyspace_with(cql_parser_t *p, cql_stmt_t *st)
{
    cql_keyspace_stmt_t *k = &st->u.keyspace;
    if ((k->name = cql_p_ident(p)) == NULL || !cql_p_expect_kw(p, "with"))
        return NULL;
    cql_vec_t opts;
    cql_vec_init(&opts, sizeof(cql_option_t));
    if (!cql_p_options(p, &opts, NULL, NULL))
        return NULL;
    k->options = opts.data;
    k->noptions = opts.n;
    return st;
}

/* name type [STATIC] [PRIMARY KEY]; inline_pk allows the last part. */
static bool column_def(cql_parser_t *p, cql_column_def_t *c, bool inline_pk)
{
    if ((c->name = cql_p_ident(p)) == NULL || !cql_p_type(p, &c->type_raw, &c->type))
        return false;
    if (cql_p_accept_kw(p, "static"))
        c->is_static = true;
    if (inline_pk && cql_p_accept_kw(p, "primary")) {
        if (!cql_p_expect_kw(p, "key"))
            return false;
        c->primary_key = true;
    }
    return p->rc == 0;
}

static bool push_name(cql_parser_t *p, cql_vec_t *v)
{
    const char *c = cql_p_ident(p);
    return c != NULL && cql_vec_push_ptr(p, v, (void *)c);
}

/* PRIMARY KEY '(' (col | '(' col, ... ')') (',' col)* ')' */
static bool pk_clause(cql_parser_t *p, cql_create_table_stmt_t *s)
{
    cql_vec_t part, clus;
    cql_vec_init(&part, sizeof(char *));
    cql_vec_init(&clus, sizeof(char *));
    if (!cql_p_expect(p, CQL_TK_LPAREN))
        return false;
    if (cql_p_accept(p, CQL_TK_LPAREN)) {
        do {
            if (!push_name(p, &part))
                return false;
        } while (cql_p_accept(p, CQL_TK_COMMA));
        if (!cql_p_expect(p, CQL_TK_RPAREN))
            return false;
    } else if (!push_name(p, &part)) {
        return false;
    }
    while (cql_p_accept(p, CQL_TK_COMMA))
        if (!push_name(p, &clus))
            return false;
    if (!cql_p_expect(p, CQL_TK_RPAREN))
        return false;
    s->partition_key = part.data;
    s->npartition_key = part.n;
    s->clustering = clus.data;
    s->nclustering = clus.n;
    return true;
}

/* CLUSTERING ORDER BY (...) and COMPACT STORAGE inside CREATE TABLE's WITH. */
static bool table_prop(cql_parser_t *p, void *ud)
{
    cql_create_table_stmt_t *s = ud;
    if (cql_p_is_kw(p, "compact") && cql_p_peek_is_kw(p, "storage")) {
        cql_p_advance(p);
        cql_p_advance(p);
        s->compact_storage = true;
        return true;
    }
    if (!(cql_p_is_kw(p, "clustering") && cql_p_peek_is_kw(p, "order")))
        return false;
    cql_p_advance(p);
    cql_p_advance(p);
    if (!cql_p_expect_kw(p, "by") || !cql_p_expect(p, CQL_TK_LPAREN))
        return true;
    cql_vec_t ords;
    cql_vec_init(&ords, sizeof(cql_ordering_t));
    do {
        cql_ordering_t *o = cql_vec_push(p, &ords);
        if (o == NULL || (o->column = cql_p_ident(p)) == NULL)
            return true;
        if (cql_p_accept_kw(p, "desc"))
            o->desc = true;
        else if (!cql_p_accept_kw(p, "asc")) {
            cql_p_mismatch(p, "K_ASC");
            return true;
        }
    } while (cql_p_accept(p, CQL_TK_COMMA));
    if (cql_p_expect(p, CQL_TK_RPAREN)) {
        s->clustering_order = ords.data;
        s->nclustering_order = ords.n;
    }
    return true;
}

static cql_stmt_t *create_table(cql_parser_t *p, cql_stmt_t *st)
{
    cql_create_table_stmt_t *s = &st->u.create_table;
    if (!if_not_exists(p, &s->if_not_exists) || !cql_p_qname(p, &s->table) ||
        !cql_p_expect(p, CQL_TK_LPAREN))
        return NULL;
    cql_vec_t cols;
    cql_vec_init(&cols, sizeof(cql_column_def_t));
    int npk = 0;
    const char *inline_pk = NULL;
    do {
        if (cql_p_is(p, CQL_TK_RPAREN) && cols.n > 0)
            break; /* trailing comma */
        if (cql_p_is_kw(p, "primary") && cql_p_peek_is_kw(p, "key")) {
            cql_p_advance(p);
            cql_p_advance(p);
            if (!pk_clause(p, s))
                return NULL;
            npk++;
            continue;
        }
        cql_column_def_t *c = cql_vec_push(p, &cols);
        if (c == NULL || !column_def(p, c, true))
            return NULL;
        if (c->primary_key) {
            npk++;
            inline_pk = c->name;
        }
    } while (cql_p_accept(p, CQL_TK_COMMA));
    if (!cql_p_expect(p, CQL_TK_RPAREN))
        return NULL;
    if (npk != 1) {
        cql_p_fail(p, npk ? "Multiple PRIMARY KEYs specified (exactly one required)"
                          : "No PRIMARY KEY specified (exactly one required)");
        return NULL;
    }
    if (inline_pk) {
        s->partition_key = cql_p_alloc(p, sizeof(char *));
        if (s->partition_key == NULL)
            return NULL;
        s->partition_key[0] = inline_pk;
        s->npartition_key = 1;
    }
    s->columns = cols.data;
    s->ncolumns = cols.n;
    if (cql_p_accept_kw(p, "with")) {
        cql_vec_t opts;
        cql_vec_init(&opts, sizeof(cql_option_t));
        if (!cql_p_options(p, &opts, table_prop, s))
            return NULL;
        s->options = opts.data;
        s->noptions = opts.n;
    }
    return st;
}

static cql_stmt_t *create_type(cql_parser_t *p, cql_stmt_t *st)
{
    cql_type_stmt_t *s = &st->u.type;
    if (!if_not_exists(p, &s->if_not_exists) || !cql_p_qname(p, &s->name) ||
        !cql_p_expect(p, CQL_TK_LPAREN))
        return NULL;
    cql_vec_t fields;
    cql_vec_init(&fields, sizeof(cql_column_def_t));
    do {
        cql_column_def_t *f = cql_vec_push(p, &fields);
        if (f == NULL || (f->name = cql_p_ident(p)) == NULL ||
            !cql_p_type(p, &f->type_raw, &f->type))
            return NULL;
    } while (cql_p_accept(p, CQL_TK_COMMA));
    if (!cql_p_expect(p, CQL_TK_RPAREN))
        return NULL;
    s->fields = fields.data;
    s->nfields = fields.n;
    return st;
}

/* Statements we recognise but do not execute, by verb and second word. */
static const struct {
    const char *verb, *kw, *what;
} unsupported[] = {
    {"create", "index", "CREATE INDEX"},
    {"create", "custom", "CREATE INDEX"},
    {"create", "materialized", "CREATE MATERIALIZED VIEW"},
    {"create", "function", "CREATE FUNCTION"},
    {"create", "aggregate", "CREATE AGGREGATE"},
    {"create", "or", "CREATE OR REPLACE"},
    {"create", "trigger", "CREATE TRIGGER"},
    {"create", "role", "CREATE ROLE"},
    {"create", "user", "CREATE USER"},
    {"alter", "materialized", "ALTER MATERIALIZED VIEW"},
    {"alter", "type", "ALTER TYPE"},
    {"alter", "role", "ALTER ROLE"},
    {"alter", "user", "ALTER USER"},
    {"drop", "index", "DROP INDEX"},
    {"drop", "materialized", "DROP MATERIALIZED VIEW"},
    {"drop", "function", "DROP FUNCTION"},
    {"drop", "aggregate", "DROP AGGREGATE"},
    {"drop", "trigger", "DROP TRIGGER"},
    {"drop", "role", "DROP ROLE"},
    {"drop", "user", "DROP USER"},
};

const char *cql_p_unsupported_what(cql_parser_t *p, const char *verb)
{
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
        if (strcmp(unsupported[i].verb, verb) == 0 && cql_p_is_kw(p, unsupported[i].kw))
            return unsupported[i].what;
    return NULL;
}

cql_stmt_t *cql_p_create(cql_parser_t *p)
{
    if (!cql_p_expect_kw(p, "create"))
        return NULL;
    const char *what = cql_p_unsupported_what(p, "create");
    if (what)
        return cql_p_unsupported(p, what);
    if (cql_p_accept_kw(p, "keyspace") || cql_p_accept_kw(p, "schema")) {
        cql_stmt_t *st = new_stmt(p, CQL_STMT_CREATE_KEYSPACE);
        if (st == NULL || !if_not_exists(p, &st->u.keyspace.if_not_exists))
            return NULL;
        return keyspace_with(p, st);
    }
    if (cql_p_accept_kw(p, "table") || cql_p_accept_kw(p, "columnfamily")) {
        cql_stmt_t *st = new_stmt(p, CQL_STMT_CREATE_TABLE);
        return st ? create_table(p, st) : NULL;
    }
    if (cql_p_accept_kw(p, "type")) {
        cql_stmt_t *st = new_stmt(p, CQL_STMT_CREATE_TYPE);
        return st ? create_type(p, st) : NULL;
    }
    cql_p_noviable(p);
    return NULL;
}
