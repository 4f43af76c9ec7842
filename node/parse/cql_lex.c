/*
 * cql_lex: the CQL tokenizer. See cql_lex.h for the contract.
 */
#include "cql_lex.h"

#include <stdbool.h>
#include <string.h>

void cql_lex_init(cql_lex_t *lx, const char *src, size_t len)
{
    lx->src = src;
    lx->len = len;
    lx->pos = 0;
    lx->line = 1;
    lx->col = 0;
    lx->errkind = CQL_LEXERR_NONE;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_word(int c) { return is_alpha(c) || is_digit(c) || c == '_'; }
static bool is_hex(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Byte at pos + k, or -1 past the end. */
static int at(const cql_lex_t *lx, size_t k)
{
    return lx->pos + k < lx->len ? (unsigned char)lx->src[lx->pos + k] : -1;
}

/* Moves n bytes forward, keeping line and column. */
static void advance(cql_lex_t *lx, size_t n)
{
    for (size_t i = 0; i < n && lx->pos < lx->len; i++) {
        unsigned char c = (unsigned char)lx->src[lx->pos++];
        if (c == '\n') {
            lx->line++;
            lx->col = 0;
        } else if ((c & 0xC0) != 0x80) {
            lx->col++;
        }
    }
}

/* True when a uuid (8-4-4-4-12 hex) starts at pos and no word char follows. */
static bool uuid_at(const cql_lex_t *lx)
{
    static const unsigned char groups[] = {8, 4, 4, 4, 12};
    size_t k = 0;
    for (int g = 0; g < 5; g++) {
        if (g > 0 && at(lx, k++) != '-')
            return false;
        for (int i = 0; i < groups[g]; i++)
            if (!is_hex(at(lx, k++)))
                return false;
    }
    int next = at(lx, k);
    return next < 0 || !is_word(next);
}

/* Skips whitespace and comments. Returns false (errkind set, *start at the
 * comment) on an unterminated block comment. */
static bool skip_space(cql_lex_t *lx, size_t *start, uint32_t *line, uint32_t *col)
{
    for (;;) {
        int c = at(lx, 0);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            advance(lx, 1);
        } else if ((c == '-' && at(lx, 1) == '-') || (c == '/' && at(lx, 1) == '/')) {
            size_t n = 0;
            while (lx->pos + n < lx->len && lx->src[lx->pos + n] != '\n')
                n++;
            advance(lx, n);
        } else if (c == '/' && at(lx, 1) == '*') {
            *start = lx->pos;
            *line = lx->line;
            *col = lx->col;
            const char *end = NULL;
            if (lx->len - lx->pos > 2)
                end = memmem(lx->src + lx->pos + 2, lx->len - lx->pos - 2, "*/", 2);
            if (end == NULL) {
                lx->errkind = CQL_LEXERR_COMMENT;
                return false;
            }
            advance(lx, (size_t)(end - (lx->src + lx->pos)) + 2);
        } else {
            return true;
        }
    }
}

/* Length of a quoted construct starting at pos with quote q, where a doubled
 * quote is an escape; 0 when unterminated. */
static size_t quoted_len(const cql_lex_t *lx, char q)
{
    size_t i = lx->pos + 1;
    while (i < lx->len) {
        if (lx->src[i] == q) {
            if (i + 1 < lx->len && lx->src[i + 1] == q) {
                i += 2;
                continue;
            }
            return i + 1 - lx->pos;
        }
        i++;
    }
    return 0;
}

/* Numbers, hex blobs and unit durations; pos is at a digit or at '-'
 * followed by a digit. */
static cql_tok_type_t lex_number(const cql_lex_t *lx, size_t *n)
{
    if (at(lx, 0) == '0' && (at(lx, 1) == 'x' || at(lx, 1) == 'X')) {
        size_t k = 2;
        while (is_hex(at(lx, k)))
            k++;
        *n = k;
        return CQL_TK_HEX;
    }
    size_t d = cql_duration_scan(lx->src + lx->pos, lx->len - lx->pos);
    if (d > 0 && !is_word(at(lx, d))) {
        *n = d;
        return CQL_TK_DURATION;
    }
    size_t k = at(lx, 0) == '-' ? 1 : 0;
    while (is_digit(at(lx, k)))
        k++;
    bool flt = false;
    if (at(lx, k) == '.') {
        flt = true;
        k++;
        while (is_digit(at(lx, k)))
            k++;
    }
    int e = at(lx, k);
    if (e == 'e' || e == 'E') {
        size_t j = k + 1;
        if (at(lx, j) == '+' || at(lx, j) == '-')
            j++;
        if (is_digit(at(lx, j))) {
            while (is_digit(at(lx, j)))
                j++;
            k = j;
            flt = true;
        }
    }
    *n = k;
    return flt ? CQL_TK_FLOAT : CQL_TK_INT;
}

/* Punctuation; returns CQL_TK_ERROR for an unknown character. */
static cql_tok_type_t lex_punct(const cql_lex_t *lx, size_t *n)
{
    int c = at(lx, 0), c1 = at(lx, 1);
    *n = 1;
    switch (c) {
    case '?': return CQL_TK_QMARK;
    case ':': return CQL_TK_COLON;
    case '(': return CQL_TK_LPAREN;
    case ')': return CQL_TK_RPAREN;
    case '[': return CQL_TK_LBRACKET;
    case ']': return CQL_TK_RBRACKET;
    case '{': return CQL_TK_LBRACE;
    case '}': return CQL_TK_RBRACE;
    case ',': return CQL_TK_COMMA;
    case ';': return CQL_TK_SEMI;
    case '.': return CQL_TK_DOT;
    case '=': return CQL_TK_EQ;
    case '*': return CQL_TK_STAR;
    case '!':
        if (c1 == '=') {
            *n = 2;
            return CQL_TK_NE;
        }
        break;
    case '<':
        if (c1 == '=') {
            *n = 2;
            return CQL_TK_LE;
        }
        return CQL_TK_LT;
    case '>':
        if (c1 == '=') {
            *n = 2;
            return CQL_TK_GE;
        }
        return CQL_TK_GT;
    case '+':
        if (c1 == '=') {
            *n = 2;
            return CQL_TK_PLUSEQ;
        }
        return CQL_TK_PLUS;
    case '-':
        if (c1 == '=') {
            *n = 2;
            return CQL_TK_MINUSEQ;
        }
        return CQL_TK_MINUS;
    default:
        break;
    }
    /* Cover a whole UTF-8 sequence so the message shows the character. */
    if (c >= 0xC0) {
        size_t k = 1;
        while (k < 4 && at(lx, k) >= 0x80 && at(lx, k) < 0xC0)
            k++;
        *n = k;
    }
    return CQL_TK_ERROR;
}

static cql_tok_type_t lex_token(cql_lex_t *lx, size_t *n)
{
    int c = at(lx, 0), c1 = at(lx, 1);
    if (c == '\'') {
        *n = quoted_len(lx, '\'');
        if (*n == 0)
            lx->errkind = CQL_LEXERR_STRING;
        return *n ? CQL_TK_STRING : CQL_TK_ERROR;
    }
    if (c == '"') {
        *n = quoted_len(lx, '"');
        if (*n == 0)
            lx->errkind = CQL_LEXERR_QNAME;
        else if (*n == 2)
            lx->errkind = CQL_LEXERR_EMPTY_QNAME;
        return lx->errkind == CQL_LEXERR_NONE ? CQL_TK_QNAME : CQL_TK_ERROR;
    }
    if (c == '$' && c1 == '$') {
        const char *end = NULL;
        if (lx->len - lx->pos > 2)
            end = memmem(lx->src + lx->pos + 2, lx->len - lx->pos - 2, "$$", 2);
        if (end == NULL) {
            lx->errkind = CQL_LEXERR_DSTRING;
            return CQL_TK_ERROR;
        }
        *n = (size_t)(end - (lx->src + lx->pos)) + 2;
        return CQL_TK_DSTRING;
    }
    if (is_hex(c) && uuid_at(lx)) {
        *n = 36;
        return CQL_TK_UUID;
    }
    if (is_digit(c) || (c == '-' && is_digit(c1)))
        return lex_number(lx, n);
    if (is_alpha(c) || (c == '-' && (c1 == 'P' || c1 == 'p'))) {
        size_t d = cql_duration_scan(lx->src + lx->pos, lx->len - lx->pos);
        if (d > 0 && !is_word(at(lx, d))) {
            *n = d;
            return CQL_TK_DURATION;
        }
        if (is_alpha(c)) {
            size_t k = 1;
            while (is_word(at(lx, k)))
                k++;
            *n = k;
            return CQL_TK_WORD;
        }
    }
    cql_tok_type_t t = lex_punct(lx, n);
    if (t == CQL_TK_ERROR)
        lx->errkind = CQL_LEXERR_CHAR;
    return t;
}

cql_tok_type_t cql_lex_next(cql_lex_t *lx, cql_token_t *tok)
{
    size_t cstart = 0;
    uint32_t cline = 0, ccol = 0;
    lx->errkind = CQL_LEXERR_NONE;
    if (!skip_space(lx, &cstart, &cline, &ccol)) {
        tok->type = CQL_TK_ERROR;
        tok->off = cstart;
        tok->len = lx->len - cstart;
        tok->line = cline;
        tok->col = ccol;
        return tok->type;
    }
    tok->off = lx->pos;
    tok->line = lx->line;
    tok->col = lx->col;
    if (lx->pos >= lx->len) {
        tok->type = CQL_TK_EOF;
        tok->len = 0;
        return tok->type;
    }
    size_t n = 0;
    tok->type = lex_token(lx, &n);
    if (tok->type == CQL_TK_ERROR && lx->errkind != CQL_LEXERR_CHAR &&
        lx->errkind != CQL_LEXERR_EMPTY_QNAME)
        n = lx->len - lx->pos; /* unterminated: runs to the end */
    tok->len = n;
    if (tok->type != CQL_TK_ERROR)
        advance(lx, n);
    return tok->type;
}

const char *cql_tok_name(cql_tok_type_t t)
{
    switch (t) {
    case CQL_TK_EOF: return "<EOF>";
    case CQL_TK_ERROR: return "<error>";
    case CQL_TK_WORD: return "IDENT";
    case CQL_TK_QNAME: return "QUOTED_NAME";
    case CQL_TK_STRING: return "STRING_LITERAL";
    case CQL_TK_DSTRING: return "STRING_LITERAL";
    case CQL_TK_INT: return "INTEGER";
    case CQL_TK_FLOAT: return "FLOAT";
    case CQL_TK_HEX: return "HEXNUMBER";
    case CQL_TK_UUID: return "UUID";
    case CQL_TK_DURATION: return "DURATION";
    case CQL_TK_QMARK: return "'?'";
    case CQL_TK_COLON: return "':'";
    case CQL_TK_LPAREN: return "'('";
    case CQL_TK_RPAREN: return "')'";
    case CQL_TK_LBRACKET: return "'['";
    case CQL_TK_RBRACKET: return "']'";
    case CQL_TK_LBRACE: return "'{'";
    case CQL_TK_RBRACE: return "'}'";
    case CQL_TK_COMMA: return "','";
    case CQL_TK_SEMI: return "';'";
    case CQL_TK_DOT: return "'.'";
    case CQL_TK_EQ: return "'='";
    case CQL_TK_NE: return "'!='";
    case CQL_TK_LT: return "'<'";
    case CQL_TK_LE: return "'<='";
    case CQL_TK_GT: return "'>'";
    case CQL_TK_GE: return "'>='";
    case CQL_TK_PLUS: return "'+'";
    case CQL_TK_MINUS: return "'-'";
    case CQL_TK_STAR: return "'*'";
    case CQL_TK_PLUSEQ: return "'+='";
    case CQL_TK_MINUSEQ: return "'-='";
    }
    return "?";
}
