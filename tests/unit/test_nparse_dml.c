/*
 * INSERT, UPDATE, DELETE and BATCH parsing: assignments of every kind,
 * conditions, USING clauses and bind-marker numbering.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "cql_ast.h"

static cql_arena_t arena;

static void setup(void) { cql_arena_init(&arena, 0); }
static void teardown(void) { cql_arena_close(&arena); }

TestSuite(nparse_dml, .init = setup, .fini = teardown);

static cql_stmt_t *ok(const char *q)
{
    cql_stmt_t *st = NULL;
    cql_parse_error_t e;
    int rc = cql_parse(q, strlen(q), &arena, &st, &e);
    cr_assert_eq(rc, 0, "parse failed: %s\n  query: %s", e.msg, q);
    return st;
}

static const char *bad(const char *q)
{
    cql_stmt_t *st = NULL;
    cql_parse_error_t *e = cql_arena_alloc(&arena, sizeof(*e));
    int rc = cql_parse(q, strlen(q), &arena, &st, e);
    cr_assert_eq(rc, CQLMQ_ESYNTAX, "expected a syntax error for: %s", q);
    cr_assert_null(st);
    return e->msg;
}

static const char *fmt(const cql_stmt_t *st)
{
    char *buf = cql_arena_alloc(&arena, 8192);
    cql_stmt_format(st, buf, 8192);
    return buf;
}

Test(nparse_dml, insert_exposes_columns_values_and_options)
{
    cql_stmt_t *st = ok("INSERT INTO ks.t (k, c, v) VALUES (?, 'x', :val) IF NOT EXISTS USING TTL "
                        "? AND TIMESTAMP 123");
    cr_assert_eq(st->kind, CQL_STMT_INSERT);
    const cql_insert_stmt_t *s = &st->u.insert;
    cr_assert_str_eq(s->table.keyspace, "ks");
    cr_assert_eq(s->ncolumns, 3);
    cr_assert_eq(s->nvalues, 3);
    cr_assert_str_eq(s->columns[2], "v");
    cr_assert_eq(s->values[0]->kind, CQL_TERM_BIND);
    cr_assert_eq(s->values[0]->bind_index, 0);
    cr_assert_str_eq(s->values[2]->bind_name, "val");
    cr_assert_eq(s->values[2]->bind_index, 1);
    cr_assert(s->if_not_exists);
    cr_assert_eq(s->using.ttl->kind, CQL_TERM_BIND);
    cr_assert_eq(s->using.ttl->bind_index, 2);
    cr_assert_eq(s->using.timestamp->i64, 123);
    cr_assert_eq(st->nmarkers, 3);
    for (size_t i = 0; i < st->nmarkers; i++)
        cr_assert_eq(st->markers[i]->bind_index, i);
}

Test(nparse_dml, insert_accepts_using_before_if_not_exists)
{
    cql_stmt_t *st = ok("INSERT INTO t (k) VALUES (1) USING TIMESTAMP 5 IF NOT EXISTS");
    cr_assert(st->u.insert.if_not_exists);
    cr_assert_eq(st->u.insert.using.timestamp->i64, 5);
    cr_assert_null(st->u.insert.using.ttl);
}

Test(nparse_dml, insert_keeps_a_value_count_mismatch_for_the_executor)
{
    cql_stmt_t *st = ok("INSERT INTO t (a, b) VALUES (1)");
    cr_assert_eq(st->u.insert.ncolumns, 2);
    cr_assert_eq(st->u.insert.nvalues, 1);
}

Test(nparse_dml, insert_json_with_default_unset)
{
    cql_stmt_t *st = ok("INSERT INTO t JSON '{\"k\": 1}' DEFAULT UNSET");
    cr_assert(st->u.insert.json);
    cr_assert(st->u.insert.json_default_unset);
    cr_assert_str_eq(st->u.insert.json_value->text, "{\"k\": 1}");
    st = ok("INSERT INTO t JSON ? DEFAULT NULL IF NOT EXISTS");
    cr_assert_eq(st->u.insert.json_value->kind, CQL_TERM_BIND);
    cr_assert_not(st->u.insert.json_default_unset);
    cr_assert(st->u.insert.if_not_exists);
    bad("INSERT INTO t JSON 5");
}

Test(nparse_dml, update_reads_every_assignment_kind)
{
    cql_stmt_t *st = ok("UPDATE t USING TTL 5 AND TIMESTAMP ? SET a = 1, l = l + [1], l = [0] + l, "
                        "m['k'] = 'v', m = m + {'a': 1}, s = s - {1}, n = n + 5, n = n - ?, "
                        "l[2] = 7, u.f = 3, x += 1, y -= 2, z = z -1 WHERE k = ? IF EXISTS");
    cr_assert_eq(st->kind, CQL_STMT_UPDATE);
    const cql_update_stmt_t *s = &st->u.update;
    cr_assert_eq(s->using.ttl->i64, 5);
    cr_assert_eq(s->using.timestamp->bind_index, 0);
    cr_assert_eq(s->nassignments, 13);
    const cql_assignment_t *a = s->assignments;
    static const cql_assign_op_t ops[] = {
        CQL_ASSIGN_SET,         CQL_ASSIGN_ADD,       CQL_ASSIGN_PREPEND, CQL_ASSIGN_SET_ELEMENT,
        CQL_ASSIGN_ADD,         CQL_ASSIGN_SUB,       CQL_ASSIGN_ADD,     CQL_ASSIGN_SUB,
        CQL_ASSIGN_SET_ELEMENT, CQL_ASSIGN_SET_FIELD, CQL_ASSIGN_ADD,     CQL_ASSIGN_SUB,
        CQL_ASSIGN_ADD,
    };
    for (size_t i = 0; i < 13; i++)
        cr_assert_eq(a[i].op, ops[i], "assignment %zu", i);
    cr_assert_eq(a[1].value->kind, CQL_TERM_LIST);
    cr_assert_eq(a[2].value->kind, CQL_TERM_LIST);
    cr_assert_str_eq(a[3].column, "m");
    cr_assert_str_eq(a[3].key->text, "k");
    cr_assert_str_eq(a[3].value->text, "v");
    cr_assert_eq(a[4].value->kind, CQL_TERM_MAP);
    cr_assert_eq(a[5].value->kind, CQL_TERM_SET);
    cr_assert_eq(a[7].value->bind_index, 1);
    cr_assert_eq(a[8].key->i64, 2);
    cr_assert_str_eq(a[9].field, "f");
    cr_assert_eq(a[12].value->i64, -1);
    cr_assert(s->if_exists);
    cr_assert_eq(s->where[0]->value->bind_index, 2);
    cr_assert_eq(st->nmarkers, 3);
}

Test(nparse_dml, update_rejects_arithmetic_on_another_column)
{
    const char *m = bad("UPDATE t SET a = b + 1 WHERE k = 1");
    cr_assert(strstr(m, "Only expressions of the form X = X +<value> are supported.") != NULL,
              "%s", m);
    bad("UPDATE t SET a = [1] + b WHERE k = 1");
    bad("UPDATE t SET a = 1 WHERE");
    bad("UPDATE t SET WHERE k = 1");
    bad("UPDATE t SET a = 1");
}

Test(nparse_dml, update_reads_lwt_conditions)
{
    cql_stmt_t *st = ok("UPDATE t SET a = 2 WHERE k = 1 IF a = 1 AND m['x'] != 'y' AND b IN (1, ?) "
                        "AND u.f > 3 AND c IN ?");
    const cql_update_stmt_t *s = &st->u.update;
    cr_assert_not(s->if_exists);
    cr_assert_eq(s->nconditions, 5);
    cr_assert_eq(s->conditions[0]->lhs, CQL_LHS_COLUMN);
    cr_assert_eq(s->conditions[1]->lhs, CQL_LHS_ELEMENT);
    cr_assert_eq(s->conditions[1]->op, CQL_REL_NE);
    cr_assert_eq(s->conditions[2]->op, CQL_REL_IN);
    cr_assert_eq(s->conditions[2]->nin, 2);
    cr_assert_eq(s->conditions[3]->lhs, CQL_LHS_FIELD);
    cr_assert_str_eq(s->conditions[3]->field, "f");
    cr_assert_eq(s->conditions[3]->op, CQL_REL_GT);
    cr_assert_not(s->conditions[4]->in_list);
    cr_assert_eq(st->nmarkers, 2);
}

Test(nparse_dml, delete_reads_targets_using_and_conditions)
{
    cql_stmt_t *st = ok("DELETE a, m['k'], l[?], u.f FROM ks.t USING TIMESTAMP 123 WHERE k = 1 "
                        "AND c = ? IF EXISTS");
    cr_assert_eq(st->kind, CQL_STMT_DELETE);
    const cql_delete_stmt_t *s = &st->u.del;
    cr_assert_eq(s->ntargets, 4);
    cr_assert_str_eq(s->targets[0].column, "a");
    cr_assert_null(s->targets[0].key);
    cr_assert_str_eq(s->targets[1].key->text, "k");
    cr_assert_eq(s->targets[2].key->bind_index, 0);
    cr_assert_str_eq(s->targets[3].field, "f");
    cr_assert_eq(s->using.timestamp->i64, 123);
    cr_assert_eq(s->nwhere, 2);
    cr_assert(s->if_exists);
    st = ok("DELETE FROM t WHERE k = 1 IF a = 5 AND b = 6");
    cr_assert_eq(st->u.del.ntargets, 0);
    cr_assert_eq(st->u.del.nconditions, 2);
}

Test(nparse_dml, delete_refuses_ttl)
{
    const char *m = bad("DELETE FROM t USING TTL 5 WHERE k = 1");
    cr_assert_str_eq(m, "line 1:20 mismatched input 'TTL' expecting K_TIMESTAMP (DELETE FROM t USING [TTL]...)");
}

Test(nparse_dml, batch_numbers_markers_across_its_statements)
{
    cql_stmt_t *st = ok("BEGIN BATCH\n  INSERT INTO t (a, b) VALUES (?, ?);\n  UPDATE t SET b = "
                        ":x WHERE a = ?;\n  DELETE FROM t WHERE a = ?\nAPPLY BATCH;");
    cr_assert_eq(st->kind, CQL_STMT_BATCH);
    const cql_ast_batch_t *b = &st->u.batch;
    cr_assert_eq(b->type, CQL_AST_BATCH_LOGGED);
    cr_assert_eq(b->nstmts, 3);
    cr_assert_eq(b->stmts[0]->kind, CQL_STMT_INSERT);
    cr_assert_eq(b->stmts[1]->kind, CQL_STMT_UPDATE);
    cr_assert_eq(b->stmts[2]->kind, CQL_STMT_DELETE);
    cr_assert_eq(st->nmarkers, 5);
    cr_assert_eq(b->stmts[1]->u.update.assignments[0].value->bind_index, 2);
    cr_assert_str_eq(st->markers[2]->bind_name, "x");
    cr_assert_eq(b->stmts[2]->u.del.where[0]->value->bind_index, 4);
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(b->stmts[i]->nmarkers, 0);
}

Test(nparse_dml, batch_types_and_timestamp)
{
    cql_stmt_t *st = ok("BEGIN UNLOGGED BATCH USING TIMESTAMP 5 INSERT INTO t (a) VALUES (1) "
                        "INSERT INTO t (a) VALUES (2) APPLY BATCH");
    cr_assert_eq(st->u.batch.type, CQL_AST_BATCH_UNLOGGED);
    cr_assert_eq(st->u.batch.using.timestamp->i64, 5);
    cr_assert_eq(st->u.batch.nstmts, 2);
    st = ok("begin counter batch update c set n = n + 1 where k = 1; apply batch");
    cr_assert_eq(st->u.batch.type, CQL_AST_BATCH_COUNTER);
    st = ok("BEGIN BATCH APPLY BATCH");
    cr_assert_eq(st->u.batch.nstmts, 0);
}

Test(nparse_dml, batch_accepts_only_modifications)
{
    const char *m = bad("BEGIN BATCH SELECT * FROM t APPLY BATCH");
    cr_assert_str_eq(m, "line 1:12 mismatched input 'SELECT' expecting K_APPLY (BEGIN BATCH [SELECT]...)");
    bad("BEGIN BATCH INSERT INTO t (a) VALUES (1)");
    bad("BEGIN BATCH USING TTL 1 APPLY BATCH");
}

Test(nparse_dml, canonical_forms_are_stable)
{
    static const struct {
        const char *q, *canon;
    } cases[] = {
        {"insert into T (A,b) values (1,'x') using ttl 10",
         "INSERT INTO t (a, b) VALUES (1, 'x') USING TTL 10"},
        {"UPDATE t SET c = c+1, l=[1]+l WHERE k=1",
         "UPDATE t SET c = c + 1, l = [1] + l WHERE k = 1"},
        {"DELETE m [ 'a' ] FROM t WHERE k=1 IF m['a']='b'",
         "DELETE m['a'] FROM t WHERE k = 1 IF m['a'] = 'b'"},
        {"BEGIN BATCH INSERT INTO t (a) VALUES (?) APPLY BATCH",
         "BEGIN BATCH INSERT INTO t (a) VALUES (?); APPLY BATCH"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_assert_str_eq(fmt(ok(cases[i].q)), cases[i].canon);
}
