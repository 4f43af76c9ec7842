/*
 * cql_parse_where: relations of WHERE clauses and conditions of IF clauses.
 *
 *   relation  := col op term | col IN in_rhs | col CONTAINS [KEY] term
 *              | col '[' term ']' op term | col LIKE term | col IS NOT NULL
 *              | TOKEN '(' cols ')' op term | '(' cols ')' op term
 *              | '(' cols ')' IN in_rhs | '(' relation ')'
 *   condition := col op term | col IN in_rhs | col '[' term ']' op term
 *              | col '.' field op term
 *   in_rhs    := '(' [term (',' term)*] ')' | term
 */
#include <string.h>

#include "cql_parser.h"

static cql_relation_t *relation(cql_parser_t *p, bool condition);

static bool comparison(cql_parser_t *p, cql_rel_op_t *op)
{
    switch (p->tok.type) {
    case CQL_TK_EQ: *op = CQL_REL_EQ; break;
    case CQL_TK_NE: *op = CQL_REL_NE; break;
    case CQL_TK_LT: *op = CQL_REL_LT; break;
    case CQL_TK_LE: *op = CQL_REL_LE; break;
    case CQL_TK_GT: *op = CQL_REL_GT; break;
    case CQL_TK_GE: *op = CQL_REL_GE; break;
    default: return false;
    }
    cql_p_advance(p);
    return true;
}

/* '(' ident (',' ident)* ')', or after TOKEN. */
static bool ident_tuple(cql_parser_t *p, cql_relation_t *r)
{
    cql_vec_t cols;
    cql_vec_init(&cols, sizeof(char *));
    if (!cql_p_expect(p, CQL_TK_LPAREN))
        return false;
    do {
        const char *c = cql_p_ident(p);
        if (c == NULL || !cql_vec_push_ptr(p, &cols, (void *)c))
            return false;
    } while (cql_p_accept(p, CQL_TK_COMMA));
    if (!cql_p_expect(p, CQL_TK_RPAREN))
        return false;
    r->columns = cols.data;
    r->ncolumns = cols.n;
    return true;
}

static bool in_rhs(cql_parser_t *p, cql_relation_t *r)
{
    r->op = CQL_REL_IN;
    if (!cql_p_is(p, CQL_TK_LPAREN)) {
        r->value = cql_p_term(p);
        return r->value != NULL;
    }
    cql_p_advance(p);
    r->in_list = true;
    cql_vec_t vals;
    cql_vec_init(&vals, sizeof(cql_term_t *));
    if (!cql_p_is(p, CQL_TK_RPAREN)) {
        do {
            if (!cql_vec_push_ptr(p, &vals, cql_p_term(p)) || p->rc)
                return false;
        } while (cql_p_accept(p, CQL_TK_COMMA));
    }
    if (!cql_p_expect(p, CQL_TK_RPAREN))
        return false;
    r->in_values = vals.data;
    r->nin = vals.n;
    return true;
}

/* The operator and right-hand side after a single-column left side. */
static bool column_rhs(cql_parser_t *p, cql_relation_t *r, bool condition)
{
    if (comparison(p, &r->op)) {
        r->value = cql_p_term(p);
        return r->value != NULL;
    }
    if (cql_p_accept_kw(p, "in"))
        return in_rhs(p, r);
    if (!condition && r->lhs == CQL_LHS_COLUMN) {
        if (cql_p_accept_kw(p, "contains")) {
            r->op = cql_p_accept_kw(p, "key") ? CQL_REL_CONTAINS_KEY : CQL_REL_CONTAINS;
            r->value = cql_p_term(p);
            return r->value != NULL;
        }
        if (cql_p_accept_kw(p, "like")) {
            r->op = CQL_REL_LIKE;
            r->value = cql_p_term(p);
            return r->value != NULL;
        }
        if (cql_p_accept_kw(p, "is")) {
            r->op = CQL_REL_IS_NOT_NULL;
            return cql_p_expect_kw(p, "not") && cql_p_expect_kw(p, "null");
        }
    }
    cql_p_noviable(p);
    return false;
}

/* After '(': a tuple of columns or a parenthesised relation. */
static cql_relation_t *paren_relation(cql_parser_t *p, cql_relation_t *r, bool condition)
{
    cql_token_t next;
    cql_tok_type_t nt = cql_p_peek(p, &next);
    bool tuple = false;
    if (nt == CQL_TK_WORD || nt == CQL_TK_QNAME) {
        cql_p_mark_t m;
        cql_p_save(p, &m);
        cql_p_advance(p); /* ( */
        cql_p_advance(p); /* name */
        tuple = cql_p_is(p, CQL_TK_COMMA) || cql_p_is(p, CQL_TK_RPAREN);
        cql_p_restore(p, &m);
    }
    if (!tuple) {
        if (!cql_p_enter(p))
            return NULL;
        cql_p_advance(p); /* ( */
        cql_relation_t *inner = relation(p, condition);
        cql_p_leave(p);
        return inner && cql_p_expect(p, CQL_TK_RPAREN) ? inner : NULL;
    }
    r->lhs = CQL_LHS_TUPLE;
    if (!ident_tuple(p, r))
        return NULL;
    if (cql_p_accept_kw(p, "in"))
        return in_rhs(p, r) ? r : NULL;
    if (!comparison(p, &r->op)) {
        cql_p_noviable(p);
        return NULL;
    }
    r->value = cql_p_term(p);
    return r->value ? r : NULL;
}

static cql_relation_t *relation(cql_parser_t *p, bool condition)
{
    cql_relation_t *r = cql_p_alloc(p, sizeof(*r));
    if (r == NULL)
        return NULL;
    if (!condition && cql_p_is_kw(p, "token") && cql_p_peek(p, NULL) == CQL_TK_LPAREN) {
        cql_p_advance(p);
        r->lhs = CQL_LHS_TOKEN;
        if (!ident_tuple(p, r))
            return NULL;
        if (!comparison(p, &r->op)) {
            cql_p_noviable(p);
            return NULL;
        }
        r->value = cql_p_term(p);
        return r->value ? r : NULL;
    }
    if (!condition && cql_p_is(p, CQL_TK_LPAREN))
        return paren_relation(p, r, condition);
    const char *col = cql_p_ident(p);
    if (col == NULL)
        return NULL;
    r->columns = cql_p_alloc(p, sizeof(char *));
    if (r->columns == NULL)
        return NULL;
    r->columns[0] = col;
    r->ncolumns = 1;
    r->lhs = CQL_LHS_COLUMN;
    if (cql_p_accept(p, CQL_TK_LBRACKET)) {
        r->lhs = CQL_LHS_ELEMENT;
        r->key = cql_p_term(p);
        if (r->key == NULL || !cql_p_expect(p, CQL_TK_RBRACKET))
            return NULL;
    } else if (condition && cql_p_accept(p, CQL_TK_DOT)) {
        r->lhs = CQL_LHS_FIELD;
        r->field = cql_p_ident(p);
        if (r->field == NULL)
            return NULL;
    }
    return column_rhs(p, r, condition) ? r : NULL;
}

bool cql_p_relations(cql_parser_t *p, cql_relation_t ***out, size_t *n, bool condition)
{
    cql_vec_t rels;
    cql_vec_init(&rels, sizeof(cql_relation_t *));
    do {
        cql_relation_t *r = relation(p, condition);
        if (r == NULL || !cql_vec_push_ptr(p, &rels, r))
            return false;
    } while (cql_p_accept_kw(p, "and"));
    *out = rels.data;
    *n = rels.n;
    return p->rc == 0;
}

const char *cql_rel_op_name(int op)
{
    static const char *const names[] = {
        "=", "!=", "<", "<=", ">", ">=", "IN", "CONTAINS", "CONTAINS KEY", "LIKE", "IS NOT NULL",
    };
    if (op < 0 || (size_t)op >= sizeof(names) / sizeof(names[0]))
        return "?";
    return names[op];
}
