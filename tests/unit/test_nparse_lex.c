/*
 * The tokenizer: longest-match rules (uuids, durations, numbers), comments,
 * quoted constructs, positions and lexical errors.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "cql_lex.h"

/* Lexes s fully; returns the token types (up to max) and their count. */
static size_t lex_all(const char *s, cql_tok_type_t *types, cql_token_t *toks, size_t max)
{
    cql_lex_t lx;
    cql_lex_init(&lx, s, strlen(s));
    size_t n = 0;
    for (;;) {
        cql_token_t t;
        cql_tok_type_t ty = cql_lex_next(&lx, &t);
        cr_assert_lt(n, max, "too many tokens in %s", s);
        types[n] = ty;
        if (toks)
            toks[n] = t;
        n++;
        if (ty == CQL_TK_EOF || ty == CQL_TK_ERROR)
            return n;
    }
}

static const struct {
    const char *in;
    cql_tok_type_t out[8];
} cases[] = {
    {"select", {CQL_TK_WORD, CQL_TK_EOF}},
    {"42 -7 3.5 1e9 2.e3 -1.5E-2", {CQL_TK_INT, CQL_TK_INT, CQL_TK_FLOAT, CQL_TK_FLOAT, CQL_TK_FLOAT,
                                    CQL_TK_FLOAT, CQL_TK_EOF}},
    {"0xCAFE 0x", {CQL_TK_HEX, CQL_TK_HEX, CQL_TK_EOF}},
    {"123e4567-e89b-12d3-a456-426614174000", {CQL_TK_UUID, CQL_TK_EOF}},
    {"deadbeef-dead-beef-dead-beefdeadbeef", {CQL_TK_UUID, CQL_TK_EOF}},
    {"deadbeef", {CQL_TK_WORD, CQL_TK_EOF}},
    {"1h30m 2mo -3d P1D PT5M P2W p1y", {CQL_TK_DURATION, CQL_TK_DURATION, CQL_TK_DURATION,
                                        CQL_TK_DURATION, CQL_TK_DURATION, CQL_TK_DURATION,
                                        CQL_TK_DURATION, CQL_TK_EOF}},
    {"P0001-02-03T04:05:06", {CQL_TK_DURATION, CQL_TK_EOF}},
    {"p pk p1 P1DX", {CQL_TK_WORD, CQL_TK_WORD, CQL_TK_WORD, CQL_TK_WORD, CQL_TK_EOF}},
    {"'a''b' $$x$$ \"Q\"\"n\"", {CQL_TK_STRING, CQL_TK_DSTRING, CQL_TK_QNAME, CQL_TK_EOF}},
    {"( ) [ ] { } , ; . :", {CQL_TK_LPAREN, CQL_TK_RPAREN, CQL_TK_LBRACKET, CQL_TK_RBRACKET,
                             CQL_TK_LBRACE, CQL_TK_RBRACE, CQL_TK_COMMA, CQL_TK_SEMI}},
    {"= != < <= > >= + - * += -= ?", {CQL_TK_EQ, CQL_TK_NE, CQL_TK_LT, CQL_TK_LE, CQL_TK_GT,
                                      CQL_TK_GE, CQL_TK_PLUS, CQL_TK_MINUS}},
    {"a--c\nb//d\n/* x\ny */c", {CQL_TK_WORD, CQL_TK_WORD, CQL_TK_WORD, CQL_TK_EOF}},
    {"list<frozen<int>>", {CQL_TK_WORD, CQL_TK_LT, CQL_TK_WORD, CQL_TK_LT, CQL_TK_WORD, CQL_TK_GT,
                           CQL_TK_GT, CQL_TK_EOF}},
    {"a-b", {CQL_TK_WORD, CQL_TK_MINUS, CQL_TK_WORD, CQL_TK_EOF}},
    {"c -1", {CQL_TK_WORD, CQL_TK_INT, CQL_TK_EOF}},
};

Test(nparse_lex, longest_match_rules_pick_the_right_token)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cql_tok_type_t got[32];
        size_t n = lex_all(cases[i].in, got, NULL, 32);
        for (size_t k = 0; k < 8; k++) {
            cr_assert_lt(k, n, "input %s: too few tokens", cases[i].in);
            cr_assert_eq(got[k], cases[i].out[k], "input %s token %zu: %s", cases[i].in, k,
                         cql_tok_name(got[k]));
            if (cases[i].out[k] == CQL_TK_EOF)
                break;
        }
    }
}

Test(nparse_lex, tokens_carry_offsets_lines_and_character_columns)
{
    cql_tok_type_t ty[8];
    cql_token_t t[8];
    size_t n = lex_all("a\n\t'\xc3\xa9' bc\n  ?", ty, t, 8);
    cr_assert_eq(n, 5);
    cr_assert_eq(t[0].line, 1);
    cr_assert_eq(t[0].col, 0);
    cr_assert_eq(t[1].line, 2);
    cr_assert_eq(t[1].col, 1);
    cr_assert_eq(t[1].len, 4);
    cr_assert_eq(t[2].col, 5); /* é counts as one character */
    cr_assert_eq(t[2].off, 8);
    cr_assert_eq(t[3].line, 3);
    cr_assert_eq(t[3].col, 2);
    cr_assert_eq(t[4].type, CQL_TK_EOF);
}

Test(nparse_lex, lexical_errors_name_their_kind)
{
    static const struct {
        const char *in;
        cql_lex_err_t err;
    } errs[] = {
        {"'abc", CQL_LEXERR_STRING},       {"$$abc$", CQL_LEXERR_DSTRING},
        {"\"abc", CQL_LEXERR_QNAME},       {"\"\"", CQL_LEXERR_EMPTY_QNAME},
        {"/* abc *", CQL_LEXERR_COMMENT},  {"#", CQL_LEXERR_CHAR},
        {"$", CQL_LEXERR_CHAR},            {"!", CQL_LEXERR_CHAR},
    };
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        cql_lex_t lx;
        cql_lex_init(&lx, errs[i].in, strlen(errs[i].in));
        cql_token_t t;
        cr_assert_eq(cql_lex_next(&lx, &t), CQL_TK_ERROR, "%s", errs[i].in);
        cr_assert_eq(lx.errkind, errs[i].err, "%s", errs[i].in);
        /* An error is sticky: the lexer does not move past it. */
        cr_assert_eq(cql_lex_next(&lx, &t), CQL_TK_ERROR);
    }
}

Test(nparse_lex, eof_repeats_and_never_reads_past_the_buffer)
{
    const char buf[] = {'a', 'b', '\''}; /* not NUL-terminated */
    cql_lex_t lx;
    cql_lex_init(&lx, buf, 2);
    cql_token_t t;
    cr_assert_eq(cql_lex_next(&lx, &t), CQL_TK_WORD);
    cr_assert_eq(t.len, 2);
    cr_assert_eq(cql_lex_next(&lx, &t), CQL_TK_EOF);
    cr_assert_eq(cql_lex_next(&lx, &t), CQL_TK_EOF);
}

Test(nparse_lex, duration_scan_and_decode_agree)
{
    int32_t mo, d;
    int64_t ns;
    cr_assert_eq(cql_duration_scan("1h30mx", 6), 5);
    cr_assert_eq(cql_duration_scan("12", 2), 0);
    cr_assert_eq(cql_duration_scan("P", 1), 0);
    cr_assert_eq(cql_duration_scan("PT", 2), 0);
    cr_assert_eq(cql_duration_scan("P1DT", 4), 3);
    cr_assert_eq(cql_duration_scan("P1M1Y", 5), 3); /* out of order: stops at 1M */
    cr_assert_eq(cql_duration_decode("1h30m", 5, &mo, &d, &ns), 0);
    cr_assert_eq(ns, 5400000000000LL);
    cr_assert_eq(cql_duration_decode("P1Y", 3, &mo, &d, &ns), 0);
    cr_assert_eq(mo, 12);
    cr_assert_eq(cql_duration_decode("1x", 2, &mo, &d, &ns), -1);
    cr_assert_eq(cql_duration_decode("2147483648mo", 12, &mo, &d, &ns), -1);
    cr_assert_eq(cql_duration_decode("2147483647mo", 12, &mo, &d, &ns), 0);
    cr_assert_eq(cql_duration_decode("9223372036854775807ns", 21, &mo, &d, &ns), 0);
    cr_assert_eq(ns, INT64_MAX);
    cr_assert_eq(cql_duration_decode("9223372036854775808ns", 21, &mo, &d, &ns), -1);
    cr_assert_eq(cql_duration_decode("106751991167301d", 16, &mo, &d, &ns), -1);
}
