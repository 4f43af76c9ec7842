/*
 * cql_parse_select: SELECT statements and their selectors.
 *
 *   SELECT [JSON] [DISTINCT] ('*' | selector [AS alias] (',' ...)*)
 *   FROM [ks.]table [WHERE relations] [GROUP BY cols]
 *   [ORDER BY col [ASC|DESC] (',' ...)*] [PER PARTITION LIMIT n] [LIMIT n]
 *   [ALLOW FILTERING]
 *
 *   selector := COUNT '(' ('*' | 1) ')' | WRITETIME '(' col ')' | TTL '(' col ')'
 *             | CAST '(' selector AS type ')' | [ks '.'] fn '(' [selector, ...] ')'
 *             | col | term ; each optionally followed by '.' field
 */
#include <string.h>

#include "cql_parser.h"

static cql_selector_t *selector(cql_parser_t *p);

static cql_selector_t *new_sel(cql_parser_t *p, cql_sel_kind_t kind)
{
    cql_selector_t *s = cql_p_alloc(p, sizeof(*s));
    if (s)
        s->kind = kind;
    return s;
}

/* True when a function call starts here: name '(' or ks '.' name '('. */
static bool at_function(cql_parser_t *p)
{
    if (!(cql_p_is(p, CQL_TK_WORD) || cql_p_is(p, CQL_TK_QNAME)))
        return false;
    cql_tok_type_t nt = cql_p_peek(p, NULL);
    if (nt == CQL_TK_LPAREN)
        return true;
    if (nt != CQL_TK_DOT)
        return false;
    cql_p_mark_t m;
    cql_p_save(p, &m);
    cql_p_advance(p);
    cql_p_advance(p);
    bool fn = (cql_p_is(p, CQL_TK_WORD) || cql_p_is(p, CQL_TK_QNAME)) &&
              cql_p_peek(p, NULL) == CQL_TK_LPAREN;
    cql_p_restore(p, &m);
    return fn;
}

static const char *fn_name(cql_parser_t *p)
{
    return cql_p_accept_kw(p, "token") ? "token" : cql_p_ident(p);
}

static cql_selector_t *function_sel(cql_parser_t *p)
{
    cql_selector_t *s = new_sel(p, CQL_SEL_FUNCTION);
    if (s == NULL)
        return NULL;
    s->name = fn_name(p);
    if (s->name && cql_p_accept(p, CQL_TK_DOT)) {
        s->keyspace = s->name;
        s->name = fn_name(p);
    }
    if (s->name == NULL || !cql_p_expect(p, CQL_TK_LPAREN))
        return NULL;
    cql_vec_t args;
    cql_vec_init(&args, sizeof(cql_selector_t *));
    if (!cql_p_is(p, CQL_TK_RPAREN)) {
        do {
            if (!cql_vec_push_ptr(p, &args, selector(p)) || p->rc)
                return NULL;
        } while (cql_p_accept(p, CQL_TK_COMMA));
    }
    if (!cql_p_expect(p, CQL_TK_RPAREN))
        return NULL;
    s->args = args.data;
    s->nargs = args.n;
    return s;
}

/* COUNT(*) / COUNT(1); NULL without error when it is count(col). */
static cql_selector_t *count_rows(cql_parser_t *p)
{
    cql_p_mark_t m;
    cql_p_save(p, &m);
    cql_p_advance(p); /* count */
    cql_p_advance(p); /* ( */
    if (cql_p_is(p, CQL_TK_INT) &&
        !(p->tok.len == 1 && p->text[p->tok.off] == '1')) {
        cql_p_fail(p, "Only COUNT(1) is supported, got COUNT(%.*s)",
                   (int)(p->tok.len > 20 ? 20 : p->tok.len), p->text + p->tok.off);
        return NULL;
    }
    if ((cql_p_is(p, CQL_TK_STAR) || cql_p_is(p, CQL_TK_INT)) &&
        cql_p_peek(p, NULL) == CQL_TK_RPAREN) {
        cql_p_advance(p);
        cql_p_advance(p);
        return new_sel(p, CQL_SEL_COUNT_ROWS);
    }
    cql_p_restore(p, &m);
    return NULL;
}

static cql_selector_t *unaliased(cql_parser_t *p)
{
    bool call = cql_p_peek(p, NULL) == CQL_TK_LPAREN;
    if (call && cql_p_is_kw(p, "count")) {
        cql_selector_t *s = count_rows(p);
        if (s || p->rc)
            return s;
    }
    if (call && (cql_p_is_kw(p, "writetime") || cql_p_is_kw(p, "ttl"))) {
        cql_selector_t *s = new_sel(p, cql_p_is_kw(p, "ttl") ? CQL_SEL_TTL : CQL_SEL_WRITETIME);
        cql_p_advance(p);
        if (s == NULL || !cql_p_expect(p, CQL_TK_LPAREN) || (s->name = cql_p_ident(p)) == NULL ||
            !cql_p_expect(p, CQL_TK_RPAREN))
            return NULL;
        return s;
    }
    if (call && cql_p_is_kw(p, "cast")) {
        cql_selector_t *s = new_sel(p, CQL_SEL_CAST);
        const char *raw;
        cql_p_advance(p);
        if (s == NULL || !cql_p_expect(p, CQL_TK_LPAREN))
            return NULL;
        s->name = "cast";
        s->args = cql_p_alloc(p, sizeof(cql_selector_t *));
        if (s->args == NULL || (s->args[0] = selector(p)) == NULL)
            return NULL;
        s->nargs = 1;
        if (!cql_p_expect_kw(p, "as") || !cql_p_type(p, &raw, &s->type) ||
            !cql_p_expect(p, CQL_TK_RPAREN))
            return NULL;
        return s;
    }
    if (at_function(p) || (cql_p_is_kw(p, "token") && call))
        return function_sel(p);
    if (cql_p_at_ident(p)) {
        cql_selector_t *s = new_sel(p, CQL_SEL_COLUMN);
        if (s == NULL || (s->name = cql_p_ident(p)) == NULL)
            return NULL;
        return s;
    }
    if (cql_p_at_term(p)) {
        cql_selector_t *s = new_sel(p, CQL_SEL_TERM);
        if (s == NULL || (s->term = cql_p_term(p)) == NULL)
            return NULL;
        return s;
    }
    cql_p_noviable(p);
    return NULL;
}

static cql_selector_t *selector(cql_parser_t *p)
{
    if (!cql_p_enter(p))
        return NULL;
    cql_selector_t *s = unaliased(p);
    while (s && s->kind != CQL_SEL_TERM && cql_p_accept(p, CQL_TK_DOT)) {
        cql_selector_t *f = new_sel(p, CQL_SEL_FIELD);
        if (f == NULL || (f->args = cql_p_alloc(p, sizeof(cql_selector_t *))) == NULL)
            return NULL;
        f->args[0] = s;
        f->nargs = 1;
        f->name = cql_p_ident(p);
        s = f->name ? f : NULL;
    }
    cql_p_leave(p);
    return p->rc ? NULL : s;
}

static bool selectors(cql_parser_t *p, cql_select_stmt_t *s)
{
    if (cql_p_accept(p, CQL_TK_STAR)) {
        s->star = true;
        return true;
    }
    cql_vec_t sels;
    cql_vec_init(&sels, sizeof(cql_selector_t *));
    do {
        cql_selector_t *sel = selector(p);
        if (sel == NULL)
            return false;
        if (cql_p_accept_kw(p, "as") && (sel->alias = cql_p_ident(p)) == NULL)
            return false;
        if (!cql_vec_push_ptr(p, &sels, sel))
            return false;
    } while (cql_p_accept(p, CQL_TK_COMMA));
    s->selectors = sels.data;
    s->nselectors = sels.n;
    return true;
}

/* JSON / DISTINCT are modifiers unless they are a column name themselves. */
static bool modifier(cql_parser_t *p, const char *kw)
{
    if (!cql_p_is_kw(p, kw))
        return false;
    cql_token_t next;
    cql_tok_type_t nt = cql_p_peek(p, &next);
    if (nt == CQL_TK_COMMA || nt == CQL_TK_DOT || cql_p_peek_is_kw(p, "from") ||
        cql_p_peek_is_kw(p, "as"))
        return false;
    cql_p_advance(p);
    return true;
}

static bool order_by(cql_parser_t *p, cql_select_stmt_t *s)
{
    cql_vec_t ords;
    cql_vec_init(&ords, sizeof(cql_ordering_t));
    do {
        cql_ordering_t *o = cql_vec_push(p, &ords);
        if (o == NULL || (o->column = cql_p_ident(p)) == NULL)
            return false;
        if (cql_p_accept_kw(p, "desc"))
            o->desc = true;
        else
            cql_p_accept_kw(p, "asc");
    } while (cql_p_accept(p, CQL_TK_COMMA));
    s->order_by = ords.data;
    s->norder_by = ords.n;
    return true;
}

static bool group_by(cql_parser_t *p, cql_select_stmt_t *s)
{
    cql_vec_t cols;
    cql_vec_init(&cols, sizeof(char *));
    do {
        const char *c = cql_p_ident(p);
        if (c == NULL || !cql_vec_push_ptr(p, &cols, (void *)c))
            return false;
    } while (cql_p_accept(p, CQL_TK_COMMA));
    s->group_by = cols.data;
    s->ngroup_by = cols.n;
    return true;
}

cql_stmt_t *cql_p_select(cql_parser_t *p)
{
    if (!cql_p_expect_kw(p, "select"))
        return NULL;
    cql_stmt_t *st = cql_p_alloc(p, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->kind = CQL_STMT_SELECT;
    cql_select_stmt_t *s = &st->u.select;
    s->json = modifier(p, "json");
    s->distinct = modifier(p, "distinct");
    if (!selectors(p, s) || !cql_p_expect_kw(p, "from") || !cql_p_qname(p, &s->table))
        return NULL;
    if (cql_p_accept_kw(p, "where") && !cql_p_relations(p, &s->where, &s->nwhere, false))
        return NULL;
    if (cql_p_accept_kw(p, "group") && (!cql_p_expect_kw(p, "by") || !group_by(p, s)))
        return NULL;
    if (cql_p_accept_kw(p, "order") && (!cql_p_expect_kw(p, "by") || !order_by(p, s)))
        return NULL;
    if (cql_p_accept_kw(p, "per")) {
        if (!cql_p_expect_kw(p, "partition") || !cql_p_expect_kw(p, "limit") ||
            (s->per_partition_limit = cql_p_int_or_marker(p)) == NULL)
            return NULL;
    }
    if (cql_p_accept_kw(p, "limit") && (s->limit = cql_p_int_or_marker(p)) == NULL)
        return NULL;
    if (cql_p_accept_kw(p, "allow")) {
        if (!cql_p_expect_kw(p, "filtering"))
            return NULL;
        s->allow_filtering = true;
    }
    return p->rc ? NULL : st;
}
