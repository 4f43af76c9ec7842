/*
 * cql_lex: the CQL tokenizer (internal to node/parse).
 *
 * Produces one token at a time from a byte buffer, skipping whitespace and
 * comments (-- and // to end of line, non-nesting block comments). Tokens
 * are slices of the input: the lexer copies nothing and allocates nothing;
 * the parser unescapes strings and names when it copies them into the arena.
 *
 * Like Cassandra's ANTLR lexer, it takes the longest match, so "123e4567-
 * e89b-12d3-a456-426614174000" is one UUID token, "1h30m" and "P1D" are
 * DURATION tokens and "-12" is one INT token.
 *
 * Invariants: src[0..len) is never read past; pos <= len; line is 1-based,
 * col 0-based and counted in characters (UTF-8 continuation bytes do not
 * advance it). A lexer is a small value: copying it saves its position.
 */
#ifndef CQL_LEX_H
#define CQL_LEX_H

#include <stddef.h>
#include <stdint.h>

typedef enum cql_tok_type {
    CQL_TK_EOF,
    CQL_TK_ERROR,     /* see cql_lex_t.errkind */
    CQL_TK_WORD,      /* unquoted identifier or keyword */
    CQL_TK_QNAME,     /* "quoted name" (slice includes the quotes) */
    CQL_TK_STRING,    /* 'text' (slice includes the quotes) */
    CQL_TK_DSTRING,   /* $$text$$ (slice includes the dollars) */
    CQL_TK_INT,       /* -?[0-9]+ */
    CQL_TK_FLOAT,     /* -?[0-9]+(.[0-9]*)?([eE][+-]?[0-9]+)? with . or e */
    CQL_TK_HEX,       /* 0x[0-9a-fA-F]* */
    CQL_TK_UUID,      /* 8-4-4-4-12 hex */
    CQL_TK_DURATION,  /* 1h30m, -2d, P1Y2M, PT5S, P2W, P0001-02-03T04:05:06 */
    CQL_TK_QMARK,     /* ? */
    CQL_TK_COLON,     /* : */
    CQL_TK_LPAREN, CQL_TK_RPAREN,       /* ( ) */
    CQL_TK_LBRACKET, CQL_TK_RBRACKET,   /* [ ] */
    CQL_TK_LBRACE, CQL_TK_RBRACE,       /* { } */
    CQL_TK_COMMA, CQL_TK_SEMI, CQL_TK_DOT, /* , ; . */
    CQL_TK_EQ, CQL_TK_NE,               /* = != */
    CQL_TK_LT, CQL_TK_LE, CQL_TK_GT, CQL_TK_GE, /* < <= > >= */
    CQL_TK_PLUS, CQL_TK_MINUS, CQL_TK_STAR,     /* + - * */
    CQL_TK_PLUSEQ, CQL_TK_MINUSEQ               /* += -= */
} cql_tok_type_t;

/* Why the lexer returned CQL_TK_ERROR. */
typedef enum cql_lex_err {
    CQL_LEXERR_NONE,
    CQL_LEXERR_CHAR,          /* a character no token starts with */
    CQL_LEXERR_STRING,        /* unterminated '...' */
    CQL_LEXERR_DSTRING,       /* unterminated $$...$$ */
    CQL_LEXERR_QNAME,         /* unterminated "..." */
    CQL_LEXERR_EMPTY_QNAME,   /* "" */
    CQL_LEXERR_COMMENT        /* unterminated comment */
} cql_lex_err_t;

typedef struct cql_token {
    cql_tok_type_t type;
    size_t off;               /* byte offset of the first byte */
    size_t len;               /* bytes (EOF: 0) */
    uint32_t line;            /* 1-based */
    uint32_t col;             /* 0-based, in characters */
} cql_token_t;

typedef struct cql_lex {
    const char *src;          /* input, not NUL-terminated */
    size_t len;               /* bytes of input */
    size_t pos;               /* next byte to read */
    uint32_t line;            /* line of src[pos] */
    uint32_t col;             /* column of src[pos] */
    cql_lex_err_t errkind;    /* set with CQL_TK_ERROR */
} cql_lex_t;

void cql_lex_init(cql_lex_t *lx, const char *src, size_t len);

/* Reads the next token into *tok. At the end it returns CQL_TK_EOF (again
 * and again). On a lexical error it returns CQL_TK_ERROR, sets errkind, and
 * tok covers the offending character or the unterminated construct (from
 * its opening to the end of the input). */
cql_tok_type_t cql_lex_next(cql_lex_t *lx, cql_token_t *tok);

/* Printable name of a token type for messages: "'('", "IDENT", ... */
const char *cql_tok_name(cql_tok_type_t t);

/* Length of the duration literal at s[0..len) (digit form "-1h30m" or ISO
 * forms "P1DT2H", "P3W", "P0001-02-03T04:05:06", case-insensitive), or 0
 * when s does not start with one. The caller checks what follows. */
size_t cql_duration_scan(const char *s, size_t len);

/* Checks a word or DURATION slice against the duration grammar and decodes
 * it. Returns 0, or -1 when the text is not a duration or overflows
 * Cassandra's ranges (int32 months and days, int64 nanoseconds). */
int cql_duration_decode(const char *s, size_t len, int32_t *months, int32_t *days,
                        int64_t *nanos);

#endif /* CQL_LEX_H */
