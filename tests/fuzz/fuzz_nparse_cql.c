/*
 * fuzz_nparse_cql: cql_parse() on arbitrary bytes.
 *
 * Properties checked on every input:
 *   - no crash, no leak, no read outside the input (sanitizers);
 *   - a failure leaves *out NULL and a NUL-terminated message with a known
 *     code;
 *   - a success prints (cql_stmt_format) to text that parses again, with the
 *     same kind and marker count, and prints to the very same text (the
 *     canonical form is a fixed point);
 *   - under a tiny arena limit the parser fails cleanly with ENOMEM.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql_ast.h"

#define FUZZ_ARENA_LIMIT (64u << 20)

static void check(int cond, const char *what, const uint8_t *data, size_t size)
{
    if (cond)
        return;
    fprintf(stderr, "fuzz_nparse_cql: %s\ninput: %.*s\n", what, (int)size, (const char *)data);
    abort();
}

/* The canonical text; *len counts its bytes (string literals may hold NUL). */
static char *format(const cql_stmt_t *st, size_t *len)
{
    size_t n = cql_stmt_format(st, NULL, 0);
    char *buf = malloc(n + 1);
    if (buf == NULL || cql_stmt_format(st, buf, n + 1) != n || buf[n] != '\0')
        abort();
    *len = n;
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cql_arena_t a;
    cql_arena_init(&a, FUZZ_ARENA_LIMIT);
    cql_stmt_t *st = (cql_stmt_t *)&a;
    cql_parse_error_t e;
    int rc = cql_parse((const char *)data, size, &a, &st, &e);
    check(memchr(e.msg, '\0', sizeof(e.msg)) != NULL, "unterminated message", data, size);
    check(e.code == rc, "error code mismatch", data, size);
    if (rc != 0) {
        check(st == NULL, "failure left a statement", data, size);
        check(rc == CQLMQ_ESYNTAX || rc == CQLMQ_ETOOBIG || rc == CQLMQ_ENOMEM, "unexpected code",
              data, size);
        check(e.msg[0] != '\0', "empty message", data, size);
        cql_arena_close(&a);
        return 0;
    }
    for (size_t i = 0; i < st->nmarkers; i++)
        check(st->markers[i]->kind == CQL_TERM_BIND && st->markers[i]->bind_index == i,
              "marker numbering", data, size);

    size_t n1, n2;
    char *once = format(st, &n1);
    cql_arena_t b;
    cql_arena_init(&b, FUZZ_ARENA_LIMIT);
    cql_stmt_t *st2 = NULL;
    cql_parse_error_t e2;
    rc = cql_parse(once, n1, &b, &st2, &e2);
    if (rc != 0)
        fprintf(stderr, "canonical text: %s\nerror: %s\n", once, e2.msg);
    check(rc == 0, "canonical form does not parse", data, size);
    check(st2->kind == st->kind, "kind changed", data, size);
    check(st2->nmarkers == st->nmarkers, "marker count changed", data, size);
    char *twice = format(st2, &n2);
    bool same = n1 == n2 && memcmp(once, twice, n1) == 0;
    if (!same)
        fprintf(stderr, "first:  %s\nsecond: %s\n", once, twice);
    check(same, "canonical form is not a fixed point", data, size);
    free(once);
    free(twice);
    cql_arena_close(&b);

    /* The same input under a tight arena must fail cleanly or succeed. */
    cql_arena_t c;
    cql_arena_init(&c, 256);
    st2 = NULL;
    rc = cql_parse((const char *)data, size, &c, &st2, &e2);
    check(rc == 0 || rc == CQLMQ_ENOMEM, "tight arena: unexpected code", data, size);
    check(rc != 0 || st2 != NULL, "tight arena: success without statement", data, size);
    cql_arena_close(&c);
    cql_arena_close(&a);
    return 0;
}
