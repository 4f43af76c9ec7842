/*
 * cql_parser: state and helpers shared by the parser's files (internal to
 * node/parse). The grammar is split by statement family:
 *   cql_lex.c, cql_duration.c  tokens; duration literals
 *   cql_parse.c         entry point, token helpers, errors, arena helpers
 *   cql_parse_names.c   identifiers, qualified names, types, WITH options
 *   cql_parse_term.c    terms, literals, USING
 *   cql_parse_where.c   relations (WHERE) and conditions (IF)
 *   cql_parse_select.c  SELECT and its selectors
 *   cql_parse_dml.c     INSERT, UPDATE, DELETE, BATCH
 *   cql_parse_ddl.c     CREATE statements, USE, unsupported statements
 *   cql_parse_alter.c   ALTER, DROP, TRUNCATE
 *   cql_ast_print.c     canonical printing (cql_stmt_format)
 *
 * Error discipline: the first error is recorded in p->rc (sticky) with its
 * message; every parse function returns NULL / false once p->rc is set and
 * callers return at once. Nothing needs freeing: all memory is arena memory.
 */
#ifndef CQL_PARSER_H
#define CQL_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "cql_ast.h"
#include "cql_lex.h"

#define CQL_PARSER_RECENT 5 /* tokens kept for error snippets */

typedef struct cql_parser {
    const char *text;          /* the statement */
    size_t len;
    cql_lex_t lx;              /* positioned after `tok` */
    cql_token_t tok;           /* current (lookahead) token */
    size_t recent[CQL_PARSER_RECENT]; /* offsets of the last consumed tokens */
    size_t nconsumed;          /* tokens consumed so far */
    size_t prev_end;           /* byte offset just past the last consumed token */
    cql_arena_t *arena;
    int rc;                    /* 0 or the first error (sticky) */
    int depth;                 /* current nesting, <= CQL_PARSE_MAX_DEPTH */
    cql_parse_error_t *err;    /* never NULL inside the parser */
    cql_term_t **markers;      /* every bind marker so far */
    size_t nmarkers;
    size_t markers_cap;
} cql_parser_t;

/* A growable array in the arena. Growth copies (the old block is left in
 * the arena), so the total is at most twice the final size. */
typedef struct cql_vec {
    void *data;
    size_t n;                  /* elements used */
    size_t cap;                /* elements allocated */
    size_t esize;              /* bytes per element */
} cql_vec_t;

/* ---- cql_parse.c ---------------------------------------------------------- */

void cql_p_advance(cql_parser_t *p);
bool cql_p_is(const cql_parser_t *p, cql_tok_type_t t);
bool cql_p_accept(cql_parser_t *p, cql_tok_type_t t);
bool cql_p_expect(cql_parser_t *p, cql_tok_type_t t);
/* Keywords: unquoted words compared case-insensitively; kw is lower case. */
bool cql_p_is_kw(const cql_parser_t *p, const char *kw);
bool cql_p_accept_kw(cql_parser_t *p, const char *kw);
bool cql_p_expect_kw(cql_parser_t *p, const char *kw);
/* Type and keyword check of the token after the current one. */
cql_tok_type_t cql_p_peek(const cql_parser_t *p, cql_token_t *out);
bool cql_p_peek_is_kw(const cql_parser_t *p, const char *kw);

/* Saved position for the rare backtracking (type hints). */
typedef struct cql_p_mark {
    cql_lex_t lx;
    cql_token_t tok;
    size_t nconsumed;
    size_t prev_end;
    size_t recent[CQL_PARSER_RECENT];
} cql_p_mark_t;
void cql_p_save(const cql_parser_t *p, cql_p_mark_t *m);
void cql_p_restore(cql_parser_t *p, const cql_p_mark_t *m);

/* Errors: "mismatched input 'x' expecting WHAT", "no viable alternative at
 * input 'x'", or a custom message at the current token. */
void cql_p_mismatch(cql_parser_t *p, const char *what);
void cql_p_noviable(cql_parser_t *p);
void cql_p_fail(cql_parser_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cql_p_nomem(cql_parser_t *p);
bool cql_p_enter(cql_parser_t *p); /* depth + 1; false (error) past the limit */
void cql_p_leave(cql_parser_t *p);

void *cql_p_alloc(cql_parser_t *p, size_t size); /* zeroed; NULL on ENOMEM */
char *cql_p_strndup(cql_parser_t *p, const char *s, size_t len);
void cql_vec_init(cql_vec_t *v, size_t esize);
void *cql_vec_push(cql_parser_t *p, cql_vec_t *v); /* zeroed slot or NULL */
bool cql_vec_push_ptr(cql_parser_t *p, cql_vec_t *v, void *ptr);

/* True when name must be written "quoted" to read back as itself: not
 * [a-z][a-z0-9_]*, reserved, or spelled like a duration literal (p1d). */
bool cql_ident_needs_quotes(const char *name);
/* True when the word is reserved and so cannot be an unquoted name. */
bool cql_is_reserved(const char *s, size_t len);
/* An identifier: unreserved word (folded) or quoted name (unescaped).
 * NULL on error. */
const char *cql_p_ident(cql_parser_t *p);
/* True when the current token can start an identifier. */
bool cql_p_at_ident(const cql_parser_t *p);
/* [ks.]name */
bool cql_p_qname(cql_parser_t *p, cql_qname_t *out);
/* A CQL type: fills raw text and normalized text. */
bool cql_p_type(cql_parser_t *p, const char **raw, const char **norm);
/* name = value (AND name = value)*; CREATE TABLE passes hooks for its
 * CLUSTERING ORDER / COMPACT STORAGE properties (NULL elsewhere). */
typedef bool (*cql_p_prop_cb)(cql_parser_t *p, void *ud); /* true if consumed */
bool cql_p_options(cql_parser_t *p, cql_vec_t *opts, cql_p_prop_cb special, void *ud);
/* Registers a bind marker term and assigns its index. */
bool cql_p_add_marker(cql_parser_t *p, cql_term_t *t);

/* ---- other files ------------------------------------------------------------ */

cql_term_t *cql_p_term(cql_parser_t *p);
/* True when the current token can start a term. */
bool cql_p_at_term(const cql_parser_t *p);
/* INT literal or bind marker (LIMIT, TTL, TIMESTAMP). */
cql_term_t *cql_p_int_or_marker(cql_parser_t *p);
/* USING TTL x AND TIMESTAMP y; allow_ttl false for DELETE and BATCH. */
bool cql_p_using(cql_parser_t *p, cql_using_t *u, bool allow_ttl);

/* relation (AND relation)*; condition = true for IF clauses. */
bool cql_p_relations(cql_parser_t *p, cql_relation_t ***out, size_t *n, bool condition);

cql_stmt_t *cql_p_select(cql_parser_t *p);
cql_stmt_t *cql_p_insert(cql_parser_t *p);
cql_stmt_t *cql_p_update(cql_parser_t *p);
cql_stmt_t *cql_p_delete(cql_parser_t *p);
cql_stmt_t *cql_p_batch(cql_parser_t *p);
cql_stmt_t *cql_p_use(cql_parser_t *p);
cql_stmt_t *cql_p_create(cql_parser_t *p);
cql_stmt_t *cql_p_alter(cql_parser_t *p);
cql_stmt_t *cql_p_drop(cql_parser_t *p);
cql_stmt_t *cql_p_truncate(cql_parser_t *p);
cql_stmt_t *cql_p_unsupported(cql_parser_t *p, const char *what);
/* "CREATE INDEX" etc. when the current word after `verb` ("create",
 * "alter", "drop") starts an unsupported statement; NULL otherwise. */
const char *cql_p_unsupported_what(cql_parser_t *p, const char *verb);

#endif /* CQL_PARSER_H */
