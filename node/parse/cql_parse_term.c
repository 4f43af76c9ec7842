/*
 * cql_parse_term: terms — literals, bind markers, collection, tuple and UDT
 * literals, function calls and type hints — plus the USING clause.
 *
 * Every nested term passes cql_p_enter(), so "[[[[..." or "((((..." deeper
 * than CQL_PARSE_MAX_DEPTH is a syntax error, never a deep recursion.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cql_parser.h"

static cql_term_t *new_term(cql_parser_t *p, cql_term_kind_t kind)
{
    cql_term_t *t = cql_p_alloc(p, sizeof(*t));
    if (t) {
        t->kind = kind;
        t->line = p->tok.line;
        t->col = p->tok.col;
    }
    return t;
}

/* Copies the current token's text into t->text and consumes the token. */
static cql_term_t *with_text(cql_parser_t *p, cql_term_t *t)
{
    if (t == NULL)
        return NULL;
    t->len = p->tok.len;
    t->text = cql_p_strndup(p, p->text + p->tok.off, p->tok.len);
    cql_p_advance(p);
    return t->text ? t : NULL;
}

static bool word_eq(const cql_parser_t *p, const cql_token_t *t, const char *w)
{
    size_t n = strlen(w);
    return t->type == CQL_TK_WORD && t->len == n && strncasecmp(p->text + t->off, w, n) == 0;
}

/* true, false, null, nan, infinity: words that are literals. */
static bool constant_word(const cql_parser_t *p, const cql_token_t *t)
{
    return word_eq(p, t, "true") || word_eq(p, t, "false") || word_eq(p, t, "null") ||
           word_eq(p, t, "nan") || word_eq(p, t, "infinity");
}

bool cql_p_at_term(const cql_parser_t *p)
{
    if (p->rc)
        return false;
    cql_token_t next;
    switch (p->tok.type) {
    case CQL_TK_STRING: case CQL_TK_DSTRING: case CQL_TK_INT: case CQL_TK_FLOAT:
    case CQL_TK_HEX: case CQL_TK_UUID: case CQL_TK_DURATION: case CQL_TK_QMARK:
    case CQL_TK_COLON: case CQL_TK_LBRACKET: case CQL_TK_LBRACE: case CQL_TK_LPAREN:
        return true;
    case CQL_TK_MINUS:
        cql_p_peek(p, &next);
        return word_eq(p, &next, "nan") || word_eq(p, &next, "infinity");
    case CQL_TK_WORD:
        if (constant_word(p, &p->tok))
            return true;
        __attribute__((fallthrough)); /* a function call */
    case CQL_TK_QNAME: {
        cql_tok_type_t nt = cql_p_peek(p, NULL);
        return nt == CQL_TK_LPAREN || nt == CQL_TK_DOT;
    }
    default:
        return false;
    }
}

static cql_term_t *int_term(cql_parser_t *p)
{
    cql_term_t *t = with_text(p, new_term(p, CQL_TERM_INT));
    if (t == NULL)
        return NULL;
    const char *s = t->text;
    bool neg = *s == '-';
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    t->i64_ok = true;
    for (s += neg; *s; s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (lim - d) / 10) {
            t->i64_ok = false;
            break;
        }
        v = v * 10 + d;
    }
    if (t->i64_ok)
        t->i64 = neg ? (int64_t)(0 - v) : (int64_t)v;
    t->f64 = strtod(t->text, NULL);
    return t;
}

static cql_term_t *string_term(cql_parser_t *p)
{
    cql_term_t *t = new_term(p, CQL_TERM_STRING);
    if (t == NULL)
        return NULL;
    const char *s = p->text + p->tok.off;
    size_t n = p->tok.len;
    bool dollar = p->tok.type == CQL_TK_DSTRING;
    size_t q = dollar ? 2 : 1; /* quote width */
    char *out = cql_p_strndup(p, s + q, n - 2 * q);
    if (out == NULL)
        return NULL;
    size_t w = n - 2 * q;
    if (!dollar) {
        w = 0;
        for (size_t r = 1; r + 1 < n; r++) {
            out[w++] = s[r];
            if (s[r] == '\'')
                r++; /* '' -> ' */
        }
        out[w] = '\0';
    }
    t->text = out;
    t->len = w;
    cql_p_advance(p);
    return t;
}

static int hexval(char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static uint8_t *hex_decode(cql_parser_t *p, const char *s, size_t nhex, bool dashes)
{
    uint8_t *out = cql_p_alloc(p, nhex / 2 + 1);
    if (out == NULL)
        return NULL;
    size_t k = 0;
    int hi = -1;
    for (size_t i = 0; s[i]; i++) {
        if (dashes && s[i] == '-')
            continue;
        if (hi < 0) {
            hi = hexval(s[i]);
        } else {
            out[k++] = (uint8_t)(hi << 4 | hexval(s[i]));
            hi = -1;
        }
    }
    return out;
}

static cql_term_t *blob_term(cql_parser_t *p)
{
    if ((p->tok.len - 2) % 2 != 0) {
        cql_p_fail(p, "Invalid hex literal '%.*s': odd number of digits",
                   (int)(p->tok.len > 40 ? 40 : p->tok.len), p->text + p->tok.off);
        return NULL;
    }
    cql_term_t *t = with_text(p, new_term(p, CQL_TERM_BLOB));
    if (t == NULL)
        return NULL;
    t->nbytes = (t->len - 2) / 2;
    t->bytes = hex_decode(p, t->text + 2, t->len - 2, false);
    return t->bytes ? t : NULL;
}

static cql_term_t *uuid_term(cql_parser_t *p)
{
    cql_term_t *t = with_text(p, new_term(p, CQL_TERM_UUID));
    if (t == NULL)
        return NULL;
    t->nbytes = 16;
    t->bytes = hex_decode(p, t->text, 32, true);
    return t->bytes ? t : NULL;
}

static cql_term_t *duration_term(cql_parser_t *p)
{
    cql_term_t *t = new_term(p, CQL_TERM_DURATION);
    if (t == NULL)
        return NULL;
    if (cql_duration_decode(p->text + p->tok.off, p->tok.len, &t->months, &t->days,
                            &t->nanos) != 0) {
        cql_p_fail(p, "Invalid duration '%.*s': out of range",
                   (int)(p->tok.len > 40 ? 40 : p->tok.len), p->text + p->tok.off);
        return NULL;
    }
    return with_text(p, t);
}

static cql_term_t *bind_term(cql_parser_t *p)
{
    cql_term_t *t = new_term(p, CQL_TERM_BIND);
    if (t == NULL)
        return NULL;
    if (cql_p_accept(p, CQL_TK_COLON)) {
        t->bind_name = cql_p_ident(p);
        if (t->bind_name == NULL)
            return NULL;
    } else {
        cql_p_advance(p); /* ? */
    }
    return cql_p_add_marker(p, t) ? t : NULL;
}

/* Items separated by ',' until `close`; kv adds ':' value (maps). */
static bool term_list(cql_parser_t *p, cql_term_t *t, cql_tok_type_t close, bool kv)
{
    cql_vec_t items, values;
    cql_vec_init(&items, sizeof(cql_term_t *));
    cql_vec_init(&values, sizeof(cql_term_t *));
    if (!cql_p_is(p, close)) {
        do {
            if (!cql_vec_push_ptr(p, &items, cql_p_term(p)) || p->rc)
                return false;
            if (kv && (!cql_p_expect(p, CQL_TK_COLON) ||
                       !cql_vec_push_ptr(p, &values, cql_p_term(p)) || p->rc))
                return false;
        } while (cql_p_accept(p, CQL_TK_COMMA));
    }
    if (!cql_p_expect(p, close))
        return false;
    t->n = items.n;
    t->items = items.data;
    t->values = values.data;
    return true;
}

static cql_term_t *udt_term(cql_parser_t *p, cql_term_t *t)
{
    cql_vec_t names, items;
    cql_vec_init(&names, sizeof(char *));
    cql_vec_init(&items, sizeof(cql_term_t *));
    t->kind = CQL_TERM_UDT;
    do {
        const char *name = cql_p_ident(p);
        if (name == NULL || !cql_vec_push_ptr(p, &names, (void *)name) ||
            !cql_p_expect(p, CQL_TK_COLON) || !cql_vec_push_ptr(p, &items, cql_p_term(p)) ||
            p->rc)
            return NULL;
    } while (cql_p_accept(p, CQL_TK_COMMA));
    if (!cql_p_expect(p, CQL_TK_RBRACE))
        return NULL;
    t->n = items.n;
    t->items = items.data;
    t->names = names.data;
    return t;
}

static cql_term_t *brace_term(cql_parser_t *p)
{
    cql_term_t *t = new_term(p, CQL_TERM_SET);
    if (t == NULL)
        return NULL;
    cql_p_advance(p); /* { */
    if (cql_p_accept(p, CQL_TK_RBRACE)) {
        t->kind = CQL_TERM_EMPTY_BRACES;
        return t;
    }
    cql_token_t next;
    bool name = p->tok.type == CQL_TK_QNAME ||
                (p->tok.type == CQL_TK_WORD && !constant_word(p, &p->tok));
    if (name && cql_p_peek(p, &next) == CQL_TK_COLON)
        return udt_term(p, t);
    /* Decide set or map after the first element. */
    cql_term_t *first = cql_p_term(p);
    if (first == NULL)
        return NULL;
    bool map = cql_p_is(p, CQL_TK_COLON);
    t->kind = map ? CQL_TERM_MAP : CQL_TERM_SET;
    cql_vec_t items, values;
    cql_vec_init(&items, sizeof(cql_term_t *));
    cql_vec_init(&values, sizeof(cql_term_t *));
    if (!cql_vec_push_ptr(p, &items, first))
        return NULL;
    if (map && (!cql_p_expect(p, CQL_TK_COLON) || !cql_vec_push_ptr(p, &values, cql_p_term(p))))
        return NULL;
    while (p->rc == 0 && cql_p_accept(p, CQL_TK_COMMA)) {
        if (!cql_vec_push_ptr(p, &items, cql_p_term(p)) || p->rc)
            return NULL;
        if (map && (!cql_p_expect(p, CQL_TK_COLON) ||
                    !cql_vec_push_ptr(p, &values, cql_p_term(p)) || p->rc))
            return NULL;
    }
    if (p->rc || !cql_p_expect(p, CQL_TK_RBRACE))
        return NULL;
    t->n = items.n;
    t->items = items.data;
    t->values = values.data;
    return t;
}

/* '(' type ')' term, tried first; on failure the parser is rewound and the
 * parenthesis is a tuple literal. */
static cql_term_t *paren_term(cql_parser_t *p)
{
    cql_term_t *t = new_term(p, CQL_TERM_TUPLE);
    if (t == NULL)
        return NULL;
    cql_p_advance(p); /* ( */
    if (p->tok.type == CQL_TK_WORD || p->tok.type == CQL_TK_QNAME ||
        p->tok.type == CQL_TK_STRING) {
        cql_p_mark_t m;
        cql_p_save(p, &m);
        cql_parse_error_t saved = *p->err;
        const char *raw, *norm;
        if (cql_p_type(p, &raw, &norm) && cql_p_accept(p, CQL_TK_RPAREN)) {
            t->kind = CQL_TERM_TYPE_HINT;
            t->text = norm;
            t->len = strlen(norm);
            t->n = 1;
            t->items = cql_p_alloc(p, sizeof(cql_term_t *));
            if (t->items == NULL || (t->items[0] = cql_p_term(p)) == NULL)
                return NULL;
            return t;
        }
        if (p->rc == CQLMQ_ENOMEM)
            return NULL;
        p->rc = 0; /* not a type: rewind */
        *p->err = saved;
        cql_p_restore(p, &m);
    }
    if (cql_p_is(p, CQL_TK_RPAREN)) {
        cql_p_noviable(p);
        return NULL;
    }
    return term_list(p, t, CQL_TK_RPAREN, false) ? t : NULL;
}

static cql_term_t *function_term(cql_parser_t *p)
{
    cql_term_t *t = new_term(p, CQL_TERM_FUNCTION);
    if (t == NULL)
        return NULL;
    const char *name = cql_p_accept_kw(p, "token") ? "token" : cql_p_ident(p);
    if (name && cql_p_accept(p, CQL_TK_DOT)) {
        t->keyspace = name;
        name = cql_p_accept_kw(p, "token") ? "token" : cql_p_ident(p);
    }
    if (name == NULL || !cql_p_expect(p, CQL_TK_LPAREN))
        return NULL;
    t->text = name;
    t->len = strlen(name);
    return term_list(p, t, CQL_TK_RPAREN, false) ? t : NULL;
}

static cql_term_t *word_term(cql_parser_t *p)
{
    cql_term_t *t;
    if (cql_p_is_kw(p, "true") || cql_p_is_kw(p, "false")) {
        t = new_term(p, CQL_TERM_BOOL);
        if (t)
            t->b = cql_p_is_kw(p, "true");
        cql_p_advance(p);
        return t;
    }
    if (cql_p_is_kw(p, "null")) {
        t = new_term(p, CQL_TERM_NULL);
        cql_p_advance(p);
        return t;
    }
    if (cql_p_is_kw(p, "nan") || cql_p_is_kw(p, "infinity")) {
        t = with_text(p, new_term(p, CQL_TERM_FLOAT));
        if (t)
            t->f64 = (t->text[0] | 0x20) == 'n' ? NAN : INFINITY;
        return t;
    }
    cql_tok_type_t nt = cql_p_peek(p, NULL);
    if (nt == CQL_TK_LPAREN || nt == CQL_TK_DOT)
        return function_term(p);
    cql_p_noviable(p);
    return NULL;
}

static cql_term_t *term_inner(cql_parser_t *p)
{
    cql_term_t *t;
    switch (p->tok.type) {
    case CQL_TK_STRING: case CQL_TK_DSTRING: return string_term(p);
    case CQL_TK_INT: return int_term(p);
    case CQL_TK_FLOAT:
        t = with_text(p, new_term(p, CQL_TERM_FLOAT));
        if (t)
            t->f64 = strtod(t->text, NULL);
        return t;
    case CQL_TK_HEX: return blob_term(p);
    case CQL_TK_UUID: return uuid_term(p);
    case CQL_TK_DURATION: return duration_term(p);
    case CQL_TK_QMARK: case CQL_TK_COLON: return bind_term(p);
    case CQL_TK_LBRACKET:
        t = new_term(p, CQL_TERM_LIST);
        if (t == NULL)
            return NULL;
        cql_p_advance(p);
        return term_list(p, t, CQL_TK_RBRACKET, false) ? t : NULL;
    case CQL_TK_LBRACE: return brace_term(p);
    case CQL_TK_LPAREN: return paren_term(p);
    case CQL_TK_MINUS: {
        cql_token_t next;
        cql_p_peek(p, &next);
        if (!word_eq(p, &next, "nan") && !word_eq(p, &next, "infinity"))
            break;
        t = new_term(p, CQL_TERM_FLOAT);
        if (t == NULL)
            return NULL;
        cql_p_advance(p);
        bool nan = cql_p_is_kw(p, "nan");
        t->text = nan ? "-NaN" : "-Infinity";
        t->len = strlen(t->text);
        t->f64 = nan ? NAN : -INFINITY;
        cql_p_advance(p);
        return t;
    }
    case CQL_TK_WORD: return word_term(p);
    case CQL_TK_QNAME:
        if (cql_p_peek(p, NULL) == CQL_TK_LPAREN || cql_p_peek(p, NULL) == CQL_TK_DOT)
            return function_term(p);
        break;
    default:
        break;
    }
    cql_p_noviable(p);
    return NULL;
}

cql_term_t *cql_p_term(cql_parser_t *p)
{
    if (!cql_p_enter(p))
        return NULL;
    cql_term_t *t = term_inner(p);
    cql_p_leave(p);
    return p->rc ? NULL : t;
}

cql_term_t *cql_p_int_or_marker(cql_parser_t *p)
{
    if (cql_p_is(p, CQL_TK_INT))
        return int_term(p);
    if (cql_p_is(p, CQL_TK_QMARK) || cql_p_is(p, CQL_TK_COLON))
        return bind_term(p);
    cql_p_mismatch(p, "INTEGER");
    return NULL;
}

bool cql_p_using(cql_parser_t *p, cql_using_t *u, bool allow_ttl)
{
    do {
        cql_term_t **slot;
        if (allow_ttl && cql_p_accept_kw(p, "ttl")) {
            slot = &u->ttl;
        } else if (cql_p_accept_kw(p, "timestamp")) {
            slot = &u->timestamp;
        } else {
            cql_p_mismatch(p, "K_TIMESTAMP");
            return false;
        }
        if (*slot != NULL) {
            cql_p_fail(p, "Duplicate USING %s", slot == &u->ttl ? "TTL" : "TIMESTAMP");
            return false;
        }
        *slot = cql_p_int_or_marker(p);
        if (*slot == NULL)
            return false;
    } while (cql_p_accept_kw(p, "and"));
    return true;
}
