/*
 * cql_parse_dml: INSERT, UPDATE, DELETE and BATCH.
 *
 *   INSERT INTO t '(' cols ')' VALUES '(' terms ')' [IF NOT EXISTS] [USING ...]
 *   INSERT INTO t JSON value [DEFAULT (NULL|UNSET)] [IF NOT EXISTS] [USING ...]
 *   UPDATE t [USING ...] SET assignment (',' ...)* WHERE relations
 *          [IF EXISTS | IF conditions]
 *   DELETE [target (',' ...)*] FROM t [USING TIMESTAMP x] WHERE relations
 *          [IF EXISTS | IF conditions]
 *   BEGIN [UNLOGGED | COUNTER] BATCH [USING TIMESTAMP x]
 *          (insert | update | delete [';'])* APPLY BATCH
 *
 *   assignment := c '=' term | c '=' c ('+'|'-') term | c '=' term '+' c
 *               | c ('+='|'-=') term | c '[' term ']' '=' term | c '.' f '=' term
 */
#include <string.h>
#include <strings.h>

#include "cql_parser.h"

static cql_stmt_t *new_stmt(cql_parser_t *p, cql_stmt_kind_t kind)
{
    cql_stmt_t *st = cql_p_alloc(p, sizeof(*st));
    if (st)
        st->kind = kind;
    return st;
}

static bool ident_list(cql_parser_t *p, const char ***out, size_t *n)
{
    cql_vec_t v;
    cql_vec_init(&v, sizeof(char *));
    do {
        const char *c = cql_p_ident(p);
        if (c == NULL || !cql_vec_push_ptr(p, &v, (void *)c))
            return false;
    } while (cql_p_accept(p, CQL_TK_COMMA));
    *out = v.data;
    *n = v.n;
    return true;
}

/* [IF NOT EXISTS] and [USING ...] in either order, each at most once. */
static bool insert_tail(cql_parser_t *p, cql_insert_stmt_t *s)
{
    bool using_seen = false;
    for (;;) {
        if (!s->if_not_exists && cql_p_accept_kw(p, "if")) {
            if (!cql_p_expect_kw(p, "not") || !cql_p_expect_kw(p, "exists"))
                return false;
            s->if_not_exists = true;
        } else if (!using_seen && cql_p_accept_kw(p, "using")) {
            if (!cql_p_using(p, &s->using, true))
                return false;
            using_seen = true;
        } else {
            return p->rc == 0;
        }
    }
}

cql_stmt_t *cql_p_insert(cql_parser_t *p)
{
    if (!cql_p_expect_kw(p, "insert") || !cql_p_expect_kw(p, "into"))
        return NULL;
    cql_stmt_t *st = new_stmt(p, CQL_STMT_INSERT);
    if (st == NULL)
        return NULL;
    cql_insert_stmt_t *s = &st->u.insert;
    if (!cql_p_qname(p, &s->table))
        return NULL;
    if (cql_p_accept_kw(p, "json")) {
        s->json = true;
        if (!(cql_p_is(p, CQL_TK_STRING) || cql_p_is(p, CQL_TK_DSTRING) ||
              cql_p_is(p, CQL_TK_QMARK) || cql_p_is(p, CQL_TK_COLON))) {
            cql_p_mismatch(p, "STRING_LITERAL");
            return NULL;
        }
        if ((s->json_value = cql_p_term(p)) == NULL)
            return NULL;
        if (cql_p_accept_kw(p, "default")) {
            if (cql_p_accept_kw(p, "unset"))
                s->json_default_unset = true;
            else if (!cql_p_expect_kw(p, "null"))
                return NULL;
        }
        return insert_tail(p, s) ? st : NULL;
    }
    if (!cql_p_expect(p, CQL_TK_LPAREN) || !ident_list(p, &s->columns, &s->ncolumns) ||
        !cql_p_expect(p, CQL_TK_RPAREN) || !cql_p_expect_kw(p, "values") ||
        !cql_p_expect(p, CQL_TK_LPAREN))
        return NULL;
    cql_vec_t vals;
    cql_vec_init(&vals, sizeof(cql_term_t *));
    do {
        if (!cql_vec_push_ptr(p, &vals, cql_p_term(p)) || p->rc)
            return NULL;
    } while (cql_p_accept(p, CQL_TK_COMMA));
    if (!cql_p_expect(p, CQL_TK_RPAREN))
        return NULL;
    s->values = vals.data;
    s->nvalues = vals.n;
    return insert_tail(p, s) ? st : NULL;
}

/* A bare column name on the right of '=' (c = c + x), as opposed to a term. */
static bool at_column_ref(cql_parser_t *p)
{
    if (!cql_p_at_ident(p) || cql_p_at_term(p))
        return false;
    return true;
}

static bool same_column(cql_parser_t *p, const char *col)
{
    const char *other = cql_p_ident(p);
    if (other == NULL)
        return false;
    if (strcmp(other, col) != 0) {
        cql_p_fail(p, "Only expressions of the form X = <value> + X are supported.");
        return false;
    }
    return true;
}

static bool assignment(cql_parser_t *p, cql_assignment_t *a)
{
    if ((a->column = cql_p_ident(p)) == NULL)
        return false;
    if (cql_p_accept(p, CQL_TK_LBRACKET)) {
        a->op = CQL_ASSIGN_SET_ELEMENT;
        if ((a->key = cql_p_term(p)) == NULL || !cql_p_expect(p, CQL_TK_RBRACKET))
            return false;
    } else if (cql_p_accept(p, CQL_TK_DOT)) {
        a->op = CQL_ASSIGN_SET_FIELD;
        if ((a->field = cql_p_ident(p)) == NULL)
            return false;
    } else if (cql_p_accept(p, CQL_TK_PLUSEQ) || cql_p_accept(p, CQL_TK_MINUSEQ)) {
        a->op = p->text[p->prev_end - 2] == '+' ? CQL_ASSIGN_ADD : CQL_ASSIGN_SUB;
        return (a->value = cql_p_term(p)) != NULL;
    }
    if (!cql_p_expect(p, CQL_TK_EQ))
        return false;
    if (a->op != CQL_ASSIGN_SET) /* element or field */
        return (a->value = cql_p_term(p)) != NULL;
    if (at_column_ref(p)) {
        const char *other = cql_p_ident(p);
        if (other == NULL)
            return false;
        if (strcmp(other, a->column) != 0) {
            cql_p_fail(p, "Only expressions of the form X = X +<value> are supported.");
            return false;
        }
        if (cql_p_accept(p, CQL_TK_PLUS)) {
            a->op = CQL_ASSIGN_ADD;
        } else if (cql_p_accept(p, CQL_TK_MINUS)) {
            a->op = CQL_ASSIGN_SUB;
        } else if ((cql_p_is(p, CQL_TK_INT) || cql_p_is(p, CQL_TK_FLOAT)) &&
                   p->text[p->tok.off] == '-') {
            a->op = CQL_ASSIGN_ADD; /* "c = c -1" lexes as c, -1: add the negative */
        } else {
            cql_p_mismatch(p, "'+'");
            return false;
        }
        return (a->value = cql_p_term(p)) != NULL;
    }
    if ((a->value = cql_p_term(p)) == NULL)
        return false;
    if (cql_p_accept(p, CQL_TK_PLUS)) {
        a->op = CQL_ASSIGN_PREPEND;
        return same_column(p, a->column);
    }
    return true;
}

/* [IF EXISTS | IF condition (AND condition)*] */
static bool if_clause(cql_parser_t *p, bool *if_exists, cql_relation_t ***conds, size_t *n)
{
    if (!cql_p_accept_kw(p, "if"))
        return true;
    if (cql_p_accept_kw(p, "exists")) {
        *if_exists = true;
        return true;
    }
    return cql_p_relations(p, conds, n, true);
}

cql_stmt_t *cql_p_update(cql_parser_t *p)
{
    if (!cql_p_expect_kw(p, "update"))
        return NULL;
    cql_stmt_t *st = new_stmt(p, CQL_STMT_UPDATE);
    if (st == NULL)
        return NULL;
    cql_update_stmt_t *s = &st->u.update;
    if (!cql_p_qname(p, &s->table))
        return NULL;
    if (cql_p_accept_kw(p, "using") && !cql_p_using(p, &s->using, true))
        return NULL;
    if (!cql_p_expect_kw(p, "set"))
        return NULL;
    cql_vec_t as;
    cql_vec_init(&as, sizeof(cql_assignment_t));
    do {
        cql_assignment_t *a = cql_vec_push(p, &as);
        if (a == NULL || !assignment(p, a))
            return NULL;
    } while (cql_p_accept(p, CQL_TK_COMMA));
    s->assignments = as.data;
    s->nassignments = as.n;
    if (!cql_p_expect_kw(p, "where") || !cql_p_relations(p, &s->where, &s->nwhere, false) ||
        !if_clause(p, &s->if_exists, &s->conditions, &s->nconditions))
        return NULL;
    return st;
}

static bool delete_target(cql_parser_t *p, cql_delete_target_t *t)
{
    if ((t->column = cql_p_ident(p)) == NULL)
        return false;
    if (cql_p_accept(p, CQL_TK_LBRACKET))
        return (t->key = cql_p_term(p)) != NULL && cql_p_expect(p, CQL_TK_RBRACKET);
    if (cql_p_accept(p, CQL_TK_DOT))
        return (t->field = cql_p_ident(p)) != NULL;
    return true;
}

cql_stmt_t *cql_p_delete(cql_parser_t *p)
{
    if (!cql_p_expect_kw(p, "delete"))
        return NULL;
    cql_stmt_t *st = new_stmt(p, CQL_STMT_DELETE);
    if (st == NULL)
        return NULL;
    cql_delete_stmt_t *s = &st->u.del;
    if (!cql_p_is_kw(p, "from")) {
        cql_vec_t ts;
        cql_vec_init(&ts, sizeof(cql_delete_target_t));
        do {
            cql_delete_target_t *t = cql_vec_push(p, &ts);
            if (t == NULL || !delete_target(p, t))
                return NULL;
        } while (cql_p_accept(p, CQL_TK_COMMA));
        s->targets = ts.data;
        s->ntargets = ts.n;
    }
    if (!cql_p_expect_kw(p, "from") || !cql_p_qname(p, &s->table))
        return NULL;
    if (cql_p_accept_kw(p, "using") && !cql_p_using(p, &s->using, false))
        return NULL;
    if (!cql_p_expect_kw(p, "where") || !cql_p_relations(p, &s->where, &s->nwhere, false) ||
        !if_clause(p, &s->if_exists, &s->conditions, &s->nconditions))
        return NULL;
    return st;
}

cql_stmt_t *cql_p_batch(cql_parser_t *p)
{
    if (!cql_p_expect_kw(p, "begin"))
        return NULL;
    cql_stmt_t *st = new_stmt(p, CQL_STMT_BATCH);
    if (st == NULL)
        return NULL;
    cql_ast_batch_t *b = &st->u.batch;
    if (cql_p_accept_kw(p, "unlogged"))
        b->type = CQL_AST_BATCH_UNLOGGED;
    else if (cql_p_accept_kw(p, "counter"))
        b->type = CQL_AST_BATCH_COUNTER;
    if (!cql_p_expect_kw(p, "batch"))
        return NULL;
    if (cql_p_accept_kw(p, "using") && !cql_p_using(p, &b->using, false))
        return NULL;
    cql_vec_t stmts;
    cql_vec_init(&stmts, sizeof(cql_stmt_t *));
    while (p->rc == 0 && !cql_p_is_kw(p, "apply")) {
        cql_stmt_t *child;
        if (cql_p_is_kw(p, "insert"))
            child = cql_p_insert(p);
        else if (cql_p_is_kw(p, "update"))
            child = cql_p_update(p);
        else if (cql_p_is_kw(p, "delete"))
            child = cql_p_delete(p);
        else {
            cql_p_mismatch(p, "K_APPLY");
            return NULL;
        }
        if (child == NULL || !cql_vec_push_ptr(p, &stmts, child))
            return NULL;
        cql_p_accept(p, CQL_TK_SEMI);
    }
    if (!cql_p_expect_kw(p, "apply") || !cql_p_expect_kw(p, "batch"))
        return NULL;
    b->stmts = stmts.data;
    b->nstmts = stmts.n;
    return st;
}
