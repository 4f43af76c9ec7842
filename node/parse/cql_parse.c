/*
 * cql_parse: the parser's entry point, token handling, error messages and
 * arena helpers. Statement families live in the cql_parse_*.c files.
 *
 * Error messages imitate Cassandra's ANTLR messages: "line L:C <what>" and a
 * snippet of the statement around the offending token, which is shown in
 * brackets: "(SELECT * [FROMM]...)". Lines are 1-based, columns 0-based.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cql_parser.h"

#define SNIPPET_BEFORE 120 /* bytes of context before the offending token */
#define TOKEN_SHOWN 64     /* bytes of the offending token shown */

/* ---- tokens ----------------------------------------------------------------- */

void cql_p_advance(cql_parser_t *p)
{
    if (p->tok.type == CQL_TK_EOF || p->tok.type == CQL_TK_ERROR)
        return; /* never step past the end or over a lexical error */
    p->recent[p->nconsumed % CQL_PARSER_RECENT] = p->tok.off;
    p->nconsumed++;
    p->prev_end = p->tok.off + p->tok.len;
    cql_lex_next(&p->lx, &p->tok);
}

bool cql_p_is(const cql_parser_t *p, cql_tok_type_t t) { return p->tok.type == t; }

bool cql_p_accept(cql_parser_t *p, cql_tok_type_t t)
{
    if (p->rc || p->tok.type != t)
        return false;
    cql_p_advance(p);
    return true;
}

bool cql_p_expect(cql_parser_t *p, cql_tok_type_t t)
{
    if (p->rc)
        return false;
    if (cql_p_accept(p, t))
        return true;
    cql_p_mismatch(p, cql_tok_name(t));
    return false;
}

static bool word_is(const char *text, const cql_token_t *t, const char *kw)
{
    size_t n = strlen(kw);
    return t->type == CQL_TK_WORD && t->len == n && strncasecmp(text + t->off, kw, n) == 0;
}

bool cql_p_is_kw(const cql_parser_t *p, const char *kw)
{
    return p->rc == 0 && word_is(p->text, &p->tok, kw);
}

bool cql_p_accept_kw(cql_parser_t *p, const char *kw)
{
    if (!cql_p_is_kw(p, kw))
        return false;
    cql_p_advance(p);
    return true;
}

bool cql_p_expect_kw(cql_parser_t *p, const char *kw)
{
    if (p->rc)
        return false;
    if (cql_p_accept_kw(p, kw))
        return true;
    char what[40];
    size_t i;
    for (i = 0; kw[i] && i < sizeof(what) - 3; i++)
        what[i + 2] = (char)(kw[i] >= 'a' && kw[i] <= 'z' ? kw[i] - 32 : kw[i]);
    what[0] = 'K';
    what[1] = '_';
    what[i + 2] = '\0';
    cql_p_mismatch(p, what);
    return false;
}

cql_tok_type_t cql_p_peek(const cql_parser_t *p, cql_token_t *out)
{
    cql_lex_t lx = p->lx;
    cql_token_t t;
    cql_lex_next(&lx, &t);
    if (out)
        *out = t;
    return t.type;
}

bool cql_p_peek_is_kw(const cql_parser_t *p, const char *kw)
{
    cql_token_t t;
    cql_p_peek(p, &t);
    return word_is(p->text, &t, kw);
}

void cql_p_save(const cql_parser_t *p, cql_p_mark_t *m)
{
    m->lx = p->lx;
    m->tok = p->tok;
    m->nconsumed = p->nconsumed;
    m->prev_end = p->prev_end;
    memcpy(m->recent, p->recent, sizeof(m->recent));
}

void cql_p_restore(cql_parser_t *p, const cql_p_mark_t *m)
{
    p->lx = m->lx;
    p->tok = m->tok;
    p->nconsumed = m->nconsumed;
    p->prev_end = m->prev_end;
    memcpy(p->recent, m->recent, sizeof(p->recent));
}

/* ---- errors ------------------------------------------------------------------- */

/* Appends s[0..n) to buf (at *pos, capacity cap) as clean text: newlines are
 * dropped (as Cassandra joins lines), other control bytes become spaces and
 * invalid UTF-8 becomes '?'. */
static void put_clean(char *buf, size_t cap, size_t *pos, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && *pos + 5 < cap) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (c >= 0x80) {
            bool ok = k > 0 && i + k <= n;
            for (size_t j = 1; ok && j < k; j++)
                ok = ((unsigned char)s[i + j] & 0xC0) == 0x80;
            if (!ok) {
                buf[(*pos)++] = '?';
                i++;
                continue;
            }
            memcpy(buf + *pos, s + i, k);
            *pos += k;
            i += k;
            continue;
        }
        if (c != '\n')
            buf[(*pos)++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
        i++;
    }
    buf[*pos] = '\0';
}

static void put_str(char *buf, size_t cap, size_t *pos, const char *s)
{
    put_clean(buf, cap, pos, s, strlen(s));
}

/* Start of a UTF-8 character at or after s + off (for cut snippets). */
static size_t char_start(const char *s, size_t off, size_t limit)
{
    while (off < limit && ((unsigned char)s[off] & 0xC0) == 0x80)
        off++;
    return off;
}

static void record(cql_parser_t *p, int code, const cql_token_t *at, const char *what)
{
    if (p->rc)
        return;
    p->rc = code;
    cql_parse_error_t *e = p->err;
    e->code = code;
    e->line = at->line;
    e->col = at->col;
    e->offset = at->off;
    char *buf = e->msg;
    size_t cap = sizeof(e->msg), pos = 0;
    int n = snprintf(buf, cap, "line %u:%u ", at->line, at->col);
    pos = n > 0 && (size_t)n < cap ? (size_t)n : 0;
    put_str(buf, cap, &pos, what);
    if (code != CQLMQ_ESYNTAX)
        return;
    /* Snippet: a few tokens before, the offending token in brackets. */
    size_t from = p->nconsumed >= CQL_PARSER_RECENT ? p->recent[p->nconsumed % CQL_PARSER_RECENT]
                                                     : 0;
    if (from > at->off)
        from = 0;
    if (at->off - from > SNIPPET_BEFORE)
        from = char_start(p->text, at->off - SNIPPET_BEFORE, at->off);
    size_t tlen = at->len > TOKEN_SHOWN ? TOKEN_SHOWN : at->len;
    put_str(buf, cap, &pos, from > 0 ? " (..." : " (");
    put_clean(buf, cap, &pos, p->text + from, at->off - from);
    put_str(buf, cap, &pos, "[");
    put_clean(buf, cap, &pos, p->text + at->off, tlen);
    put_str(buf, cap, &pos, "]");
    if (at->off + at->len < p->len || tlen < at->len)
        put_str(buf, cap, &pos, "...");
    put_str(buf, cap, &pos, ")");
}

/* The offending token's text for messages, bounded. */
static void tok_text(const cql_parser_t *p, const cql_token_t *t, char *out, size_t cap)
{
    size_t pos = 0;
    if (t->type == CQL_TK_EOF) {
        snprintf(out, cap, "<EOF>");
        return;
    }
    size_t n = t->len > TOKEN_SHOWN ? TOKEN_SHOWN : t->len;
    put_clean(out, cap, &pos, p->text + t->off, n);
}

/* Where an unterminated construct hits the end of the input. */
static cql_token_t eof_token(const cql_parser_t *p, const cql_token_t *from)
{
    cql_token_t t = {CQL_TK_EOF, p->len, 0, from->line, from->col};
    for (size_t i = from->off; i < p->len; i++) {
        unsigned char c = (unsigned char)p->text[i];
        if (c == '\n') {
            t.line++;
            t.col = 0;
        } else if ((c & 0xC0) != 0x80) {
            t.col++;
        }
    }
    return t;
}

/* A lexical error at the current token. */
static void lex_error(cql_parser_t *p)
{
    char tt[TOKEN_SHOWN + 8], what[160];
    tok_text(p, &p->tok, tt, sizeof(tt));
    const char *expect = NULL;
    switch (p->lx.errkind) {
    case CQL_LEXERR_STRING: expect = "'''"; break;
    case CQL_LEXERR_DSTRING: expect = "'$$'"; break;
    case CQL_LEXERR_QNAME: expect = "'\"'"; break;
    case CQL_LEXERR_COMMENT: expect = "'*/'"; break;
    case CQL_LEXERR_EMPTY_QNAME:
        snprintf(what, sizeof(what), "no viable alternative at input '\"\"' (empty quoted names are not allowed)");
        record(p, CQLMQ_ESYNTAX, &p->tok, what);
        return;
    default:
        snprintf(what, sizeof(what), "token recognition error at: '%s'", tt);
        record(p, CQLMQ_ESYNTAX, &p->tok, what);
        return;
    }
    cql_token_t end = eof_token(p, &p->tok);
    snprintf(what, sizeof(what), "mismatched character '<EOF>' expecting %s", expect);
    record(p, CQLMQ_ESYNTAX, &end, what);
}

void cql_p_mismatch(cql_parser_t *p, const char *expecting)
{
    if (p->rc)
        return;
    if (p->tok.type == CQL_TK_ERROR) {
        lex_error(p);
        return;
    }
    char tt[TOKEN_SHOWN + 8], what[TOKEN_SHOWN + 128];
    tok_text(p, &p->tok, tt, sizeof(tt));
    snprintf(what, sizeof(what), "mismatched input '%s' expecting %s", tt, expecting);
    record(p, CQLMQ_ESYNTAX, &p->tok, what);
}

void cql_p_noviable(cql_parser_t *p)
{
    if (p->rc)
        return;
    if (p->tok.type == CQL_TK_ERROR) {
        lex_error(p);
        return;
    }
    char tt[TOKEN_SHOWN + 8], what[TOKEN_SHOWN + 64];
    tok_text(p, &p->tok, tt, sizeof(tt));
    snprintf(what, sizeof(what), "no viable alternative at input '%s'", tt);
    record(p, CQLMQ_ESYNTAX, &p->tok, what);
}

void cql_p_fail(cql_parser_t *p, const char *fmt, ...)
{
    if (p->rc)
        return;
    if (p->tok.type == CQL_TK_ERROR) {
        lex_error(p);
        return;
    }
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    record(p, CQLMQ_ESYNTAX, &p->tok, what);
}

void cql_p_nomem(cql_parser_t *p)
{
    record(p, CQLMQ_ENOMEM, &p->tok, "out of memory while parsing (arena limit reached)");
}

bool cql_p_enter(cql_parser_t *p)
{
    if (p->rc)
        return false;
    if (p->depth >= CQL_PARSE_MAX_DEPTH) {
        cql_p_fail(p, "nesting deeper than %d levels at input '%.*s'", CQL_PARSE_MAX_DEPTH,
                   (int)(p->tok.len > 16 ? 16 : p->tok.len), p->text + p->tok.off);
        return false;
    }
    p->depth++;
    return true;
}

void cql_p_leave(cql_parser_t *p) { p->depth--; }

/* ---- memory ------------------------------------------------------------------ */

void *cql_p_alloc(cql_parser_t *p, size_t size)
{
    if (p->rc)
        return NULL;
    void *m = cql_arena_calloc(p->arena, 1, size);
    if (m == NULL)
        cql_p_nomem(p);
    return m;
}

char *cql_p_strndup(cql_parser_t *p, const char *s, size_t len)
{
    if (p->rc)
        return NULL;
    char *m = cql_arena_strndup(p->arena, s, len);
    if (m == NULL)
        cql_p_nomem(p);
    return m;
}

void cql_vec_init(cql_vec_t *v, size_t esize)
{
    v->data = NULL;
    v->n = v->cap = 0;
    v->esize = esize;
}

void *cql_vec_push(cql_parser_t *p, cql_vec_t *v)
{
    if (p->rc)
        return NULL;
    if (v->n >= CQL_PARSE_MAX_ITEMS) {
        cql_p_fail(p, "too many items in a list (maximum %d)", CQL_PARSE_MAX_ITEMS);
        return NULL;
    }
    if (v->n == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 4;
        void *nd = cql_arena_calloc(p->arena, ncap, v->esize);
        if (nd == NULL) {
            cql_p_nomem(p);
            return NULL;
        }
        if (v->n)
            memcpy(nd, v->data, v->n * v->esize);
        v->data = nd;
        v->cap = ncap;
    }
    return (char *)v->data + v->esize * v->n++;
}

bool cql_vec_push_ptr(cql_parser_t *p, cql_vec_t *v, void *ptr)
{
    void **slot = cql_vec_push(p, v);
    if (slot == NULL)
        return false;
    *slot = ptr;
    return true;
}

bool cql_p_add_marker(cql_parser_t *p, cql_term_t *t)
{
    if (p->rc)
        return false;
    if (p->nmarkers >= CQL_PARSE_MAX_MARKERS) {
        cql_p_fail(p, "too many bind markers (maximum %d)", CQL_PARSE_MAX_MARKERS);
        return false;
    }
    if (p->nmarkers == p->markers_cap) {
        size_t ncap = p->markers_cap ? p->markers_cap * 2 : 8;
        cql_term_t **nm = cql_arena_calloc(p->arena, ncap, sizeof(*nm));
        if (nm == NULL) {
            cql_p_nomem(p);
            return false;
        }
        if (p->nmarkers)
            memcpy(nm, p->markers, p->nmarkers * sizeof(*nm));
        p->markers = nm;
        p->markers_cap = ncap;
    }
    t->bind_index = (uint32_t)p->nmarkers;
    p->markers[p->nmarkers++] = t;
    return true;
}

/* ---- statements ------------------------------------------------------------------ */

static cql_stmt_t *statement(cql_parser_t *p)
{
    static const struct { const char *kw, *what; } unsupported[] = {
        {"grant", "GRANT"}, {"revoke", "REVOKE"}, {"list", "LIST"},
        {"describe", "DESCRIBE"}, {"desc", "DESCRIBE"},
    };
    if (cql_p_is_kw(p, "select"))
        return cql_p_select(p);
    if (cql_p_is_kw(p, "insert"))
        return cql_p_insert(p);
    if (cql_p_is_kw(p, "update"))
        return cql_p_update(p);
    if (cql_p_is_kw(p, "delete"))
        return cql_p_delete(p);
    if (cql_p_is_kw(p, "begin"))
        return cql_p_batch(p);
    if (cql_p_is_kw(p, "use"))
        return cql_p_use(p);
    if (cql_p_is_kw(p, "create"))
        return cql_p_create(p);
    if (cql_p_is_kw(p, "alter"))
        return cql_p_alter(p);
    if (cql_p_is_kw(p, "drop"))
        return cql_p_drop(p);
    if (cql_p_is_kw(p, "truncate"))
        return cql_p_truncate(p);
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
        if (cql_p_is_kw(p, unsupported[i].kw))
            return cql_p_unsupported(p, unsupported[i].what);
    cql_p_noviable(p);
    return NULL;
}

int cql_parse(const char *text, size_t len, cql_arena_t *arena, cql_stmt_t **out,
              cql_parse_error_t *err)
{
    cql_parse_error_t local;
    if (err == NULL)
        err = &local;
    memset(err, 0, sizeof(*err));
    if (out)
        *out = NULL;
    if (out == NULL || arena == NULL || (text == NULL && len > 0)) {
        err->code = CQLMQ_EINVAL;
        snprintf(err->msg, sizeof(err->msg), "invalid argument");
        return err->code;
    }
    if (len > CQL_PARSE_MAX_LEN) {
        err->code = CQLMQ_ETOOBIG;
        snprintf(err->msg, sizeof(err->msg),
                 "statement of %zu bytes is longer than the maximum of %u bytes", len,
                 (unsigned)CQL_PARSE_MAX_LEN);
        return err->code;
    }
    cql_parser_t p;
    memset(&p, 0, sizeof(p));
    p.text = text ? text : "";
    p.len = len;
    p.arena = arena;
    p.err = err;
    cql_lex_init(&p.lx, p.text, len);
    cql_lex_next(&p.lx, &p.tok);
    cql_stmt_t *st = statement(&p);
    if (p.rc == 0) {
        cql_p_accept(&p, CQL_TK_SEMI);
        if (!cql_p_is(&p, CQL_TK_EOF))
            cql_p_mismatch(&p, "EOF");
    }
    if (p.rc == 0 && st == NULL)
        cql_p_noviable(&p); /* defensive: a parse function returned NULL silently */
    if (p.rc) {
        err->code = p.rc;
        return p.rc;
    }
    st->markers = p.markers;
    st->nmarkers = p.nmarkers;
    *out = st;
    return 0;
}

const char *cql_stmt_kind_name(int kind)
{
    static const char *const names[] = {
#define CQL_STMT_NAME_(name, str) str,
        CQL_STMT_MAP(CQL_STMT_NAME_)
#undef CQL_STMT_NAME_
    };
    if (kind < 0 || kind >= CQL_STMT_COUNT_)
        return "?";
    return names[kind];
}
