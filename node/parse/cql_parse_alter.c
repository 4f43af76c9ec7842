/*
 * cql_parse_alter: ALTER KEYSPACE / TABLE, DROP KEYSPACE / TABLE / TYPE and
 * TRUNCATE (the CREATE forms are in cql_parse_ddl.c).
 *
 *   ALTER KEYSPACE ks WITH options
 *   ALTER TABLE t ADD c type [STATIC] [, c type ...] | ADD '(' c type, ... ')'
 *               | DROP c [, c ...] | DROP '(' c, ... ')'
 *               | RENAME a TO b [AND c TO d ...] | ALTER c TYPE type | WITH options
 *   DROP (KEYSPACE | TABLE | COLUMNFAMILY | TYPE) [IF EXISTS] name
 *   TRUNCATE [TABLE | COLUMNFAMILY] t
 */
#include "cql_parser.h"

static cql_stmt_t *new_stmt(cql_parser_t *p, cql_stmt_kind_t kind)
{
    cql_stmt_t *st = cql_p_alloc(p, sizeof(*st));
    if (st)
        st->kind = kind;
    return st;
}

static bool add_columns(cql_parser_t *p, cql_alter_table_stmt_t *s)
{
    bool paren = cql_p_accept(p, CQL_TK_LPAREN);
    cql_vec_t cols;
    cql_vec_init(&cols, sizeof(cql_column_def_t));
    do {
        cql_column_def_t *c = cql_vec_push(p, &cols);
        if (c == NULL || (c->name = cql_p_ident(p)) == NULL ||
            !cql_p_type(p, &c->type_raw, &c->type))
            return false;
        c->is_static = cql_p_accept_kw(p, "static");
    } while (cql_p_accept(p, CQL_TK_COMMA));
    if (paren && !cql_p_expect(p, CQL_TK_RPAREN))
        return false;
    s->columns = cols.data;
    s->ncolumns = cols.n;
    return true;
}

static bool drop_columns(cql_parser_t *p, cql_alter_table_stmt_t *s)
{
    bool paren = cql_p_accept(p, CQL_TK_LPAREN);
    cql_vec_t names;
    cql_vec_init(&names, sizeof(char *));
    do {
        const char *c = cql_p_ident(p);
        if (c == NULL || !cql_vec_push_ptr(p, &names, (void *)c))
            return false;
    } while (cql_p_accept(p, CQL_TK_COMMA));
    if (paren && !cql_p_expect(p, CQL_TK_RPAREN))
        return false;
    s->names = names.data;
    s->nnames = names.n;
    return true;
}

static bool rename_columns(cql_parser_t *p, cql_alter_table_stmt_t *s)
{
    cql_vec_t from, to;
    cql_vec_init(&from, sizeof(char *));
    cql_vec_init(&to, sizeof(char *));
    do {
        const char *a = cql_p_ident(p);
        if (a == NULL || !cql_vec_push_ptr(p, &from, (void *)a) || !cql_p_expect_kw(p, "to"))
            return false;
        const char *b = cql_p_ident(p);
        if (b == NULL || !cql_vec_push_ptr(p, &to, (void *)b))
            return false;
    } while (cql_p_accept_kw(p, "and"));
    s->names = from.data;
    s->renames = to.data;
    s->nnames = from.n;
    return true;
}

static bool alter_type(cql_parser_t *p, cql_alter_table_stmt_t *s)
{
    s->names = cql_p_alloc(p, sizeof(char *));
    s->columns = cql_p_alloc(p, sizeof(cql_column_def_t));
    if (s->names == NULL || s->columns == NULL || (s->names[0] = cql_p_ident(p)) == NULL ||
        !cql_p_expect_kw(p, "type"))
        return false;
    s->nnames = s->ncolumns = 1;
    s->columns[0].name = s->names[0];
    return cql_p_type(p, &s->columns[0].type_raw, &s->columns[0].type);
}

static cql_stmt_t *alter_table(cql_parser_t *p)
{
    cql_stmt_t *st = new_stmt(p, CQL_STMT_ALTER_TABLE);
    if (st == NULL)
        return NULL;
    cql_alter_table_stmt_t *s = &st->u.alter_table;
    if (!cql_p_qname(p, &s->table))
        return NULL;
    bool ok;
    if (cql_p_accept_kw(p, "add")) {
        s->op = CQL_ALTER_ADD;
        ok = add_columns(p, s);
    } else if (cql_p_accept_kw(p, "drop")) {
        s->op = CQL_ALTER_DROP;
        ok = drop_columns(p, s);
    } else if (cql_p_accept_kw(p, "rename")) {
        s->op = CQL_ALTER_RENAME;
        ok = rename_columns(p, s);
    } else if (cql_p_accept_kw(p, "alter")) {
        s->op = CQL_ALTER_ALTER;
        ok = alter_type(p, s);
    } else if (cql_p_accept_kw(p, "with")) {
        s->op = CQL_ALTER_WITH;
        cql_vec_t opts;
        cql_vec_init(&opts, sizeof(cql_option_t));
        ok = cql_p_options(p, &opts, NULL, NULL);
        s->options = opts.data;
        s->noptions = opts.n;
    } else {
        cql_p_noviable(p);
        return NULL;
    }
    return ok && p->rc == 0 ? st : NULL;
}

cql_stmt_t *cql_p_alter(cql_parser_t *p)
{
    if (!cql_p_expect_kw(p, "alter"))
        return NULL;
    const char *what = cql_p_unsupported_what(p, "alter");
    if (what)
        return cql_p_unsupported(p, what);
    if (cql_p_accept_kw(p, "table") || cql_p_accept_kw(p, "columnfamily"))
        return alter_table(p);
    if (!cql_p_accept_kw(p, "keyspace") && !cql_p_accept_kw(p, "schema")) {
        cql_p_noviable(p);
        return NULL;
    }
    cql_stmt_t *st = new_stmt(p, CQL_STMT_ALTER_KEYSPACE);
    if (st == NULL || (st->u.keyspace.name = cql_p_ident(p)) == NULL ||
        !cql_p_expect_kw(p, "with"))
        return NULL;
    cql_vec_t opts;
    cql_vec_init(&opts, sizeof(cql_option_t));
    if (!cql_p_options(p, &opts, NULL, NULL))
        return NULL;
    st->u.keyspace.options = opts.data;
    st->u.keyspace.noptions = opts.n;
    return st;
}

static bool if_exists(cql_parser_t *p, bool *flag)
{
    if (!cql_p_accept_kw(p, "if"))
        return true;
    *flag = true;
    return cql_p_expect_kw(p, "exists");
}

cql_stmt_t *cql_p_drop(cql_parser_t *p)
{
    if (!cql_p_expect_kw(p, "drop"))
        return NULL;
    const char *what = cql_p_unsupported_what(p, "drop");
    if (what)
        return cql_p_unsupported(p, what);
    cql_stmt_t *st;
    if (cql_p_accept_kw(p, "keyspace") || cql_p_accept_kw(p, "schema")) {
        st = new_stmt(p, CQL_STMT_DROP_KEYSPACE);
        if (st == NULL || !if_exists(p, &st->u.keyspace.if_exists) ||
            (st->u.keyspace.name = cql_p_ident(p)) == NULL)
            return NULL;
        return st;
    }
    if (cql_p_accept_kw(p, "table") || cql_p_accept_kw(p, "columnfamily")) {
        st = new_stmt(p, CQL_STMT_DROP_TABLE);
        if (st == NULL || !if_exists(p, &st->u.table.if_exists) ||
            !cql_p_qname(p, &st->u.table.table))
            return NULL;
        return st;
    }
    if (cql_p_accept_kw(p, "type")) {
        st = new_stmt(p, CQL_STMT_DROP_TYPE);
        if (st == NULL || !if_exists(p, &st->u.type.if_exists) ||
            !cql_p_qname(p, &st->u.type.name))
            return NULL;
        return st;
    }
    cql_p_noviable(p);
    return NULL;
}

cql_stmt_t *cql_p_truncate(cql_parser_t *p)
{
    if (!cql_p_expect_kw(p, "truncate"))
        return NULL;
    if (!cql_p_accept_kw(p, "table"))
        cql_p_accept_kw(p, "columnfamily");
    cql_stmt_t *st = new_stmt(p, CQL_STMT_TRUNCATE);
    if (st == NULL || !cql_p_qname(p, &st->u.table.table))
        return NULL;
    return st;
}
