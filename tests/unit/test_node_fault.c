/*
 * Unit tests: fault rules (matching, budgets, removal, limits), the ERROR
 * frames they produce, and the activity log ring.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cql_frame.h"
#include "cql_msg.h"
#include "node_actlog.h"
#include "node_fault.h"

static cql_str_t S(const char *s) { return (cql_str_t){s, strlen(s)}; }

static uint32_t add(node_faults_t *f, node_fault_rule_t *r)
{
    uint32_t id = 0;
    cr_assert_eq(node_faults_add(f, &r, &id), 0);
    cr_assert_null(r, "ownership taken");
    return id;
}

Test(node_fault, default_opcode_matches_query_execute_batch_but_not_prepare)
{
    node_faults_t f;
    node_faults_init(&f);
    add(&f, node_fault_rule_new(NODE_FAULT_DROP));
    cql_str_t t = S("SELECT 1");
    cr_assert_not_null(node_faults_match(&f, 0, CQL_OP_QUERY, &t, 1));
    cr_assert_not_null(node_faults_match(&f, 0, CQL_OP_EXECUTE, &t, 1));
    cr_assert_not_null(node_faults_match(&f, 0, CQL_OP_BATCH, &t, 1));
    cr_assert_null(node_faults_match(&f, 0, CQL_OP_PREPARE, &t, 1));
    cr_assert_null(node_faults_match(&f, 0, CQL_OP_OPTIONS, NULL, 0));
    node_faults_close(&f);
}

Test(node_fault, query_substring_is_case_insensitive_and_any_batch_statement_counts)
{
    node_faults_t f;
    node_faults_init(&f);
    node_fault_rule_t *r = node_fault_rule_new(NODE_FAULT_ERROR);
    r->query = strdup("from KS.t");
    uint32_t id = add(&f, r);
    cql_str_t q = S("select * FROM ks.T where k = 1");
    cql_str_t other = S("SELECT * FROM ks.u");
    cql_str_t batch[2] = {S("INSERT INTO ks.u"), S("DELETE FROM ks.t WHERE k=1")};
    cql_str_t unknown = {NULL, 0};
    node_fault_rule_t *hit = node_faults_match(&f, 0, CQL_OP_QUERY, &q, 1);
    cr_assert_not_null(hit);
    cr_assert_eq(hit->id, id);
    cr_assert_null(node_faults_match(&f, 0, CQL_OP_QUERY, &other, 1));
    cr_assert_not_null(node_faults_match(&f, 0, CQL_OP_BATCH, batch, 2));
    cr_assert_null(node_faults_match(&f, 0, CQL_OP_EXECUTE, &unknown, 1));
    cr_assert_eq(hit->hits, 2);
    node_faults_close(&f);
}

Test(node_fault, node_filter_budget_and_order_decide_which_rule_fires)
{
    node_faults_t f;
    node_faults_init(&f);
    node_fault_rule_t *a = node_fault_rule_new(NODE_FAULT_CLOSE);
    a->node = 1;
    a->remaining = 2;
    node_fault_rule_t *b = node_fault_rule_new(NODE_FAULT_DROP);
    b->opcode = CQL_OP_OPTIONS;
    uint32_t ida = add(&f, a), idb = add(&f, b);
    cql_str_t t = S("x");
    cr_assert_null(node_faults_match(&f, 0, CQL_OP_QUERY, &t, 1), "other node");
    cr_assert_eq(node_faults_match(&f, 1, CQL_OP_QUERY, &t, 1)->id, ida);
    cr_assert_eq(node_faults_match(&f, 1, CQL_OP_QUERY, &t, 1)->id, ida);
    cr_assert_null(node_faults_match(&f, 1, CQL_OP_QUERY, &t, 1), "budget spent");
    cr_assert_eq(node_faults_match(&f, 1, CQL_OP_OPTIONS, NULL, 0)->id, idb);
    cr_assert_eq(f.count, 2, "exhausted rules stay listed");
    cr_assert_eq(node_faults_remove(&f, ida), 0);
    cr_assert_eq(node_faults_remove(&f, ida), CQLMQ_ENOTFOUND);
    cr_assert_eq(f.count, 1);
    cr_assert_eq(f.head, f.tail);
    node_faults_clear(&f);
    cr_assert_eq(f.count, 0);
    cr_assert_null(f.head);
    cr_assert_null(node_faults_match(&f, 1, CQL_OP_OPTIONS, NULL, 0));
    node_faults_close(&f);
}

Test(node_fault, invalid_latency_and_too_many_rules_are_refused)
{
    node_faults_t f;
    node_faults_init(&f);
    node_fault_rule_t *r = node_fault_rule_new(NODE_FAULT_LATENCY);
    r->min_ms = 10;
    r->max_ms = 5;
    cr_assert_eq(node_faults_add(&f, &r, NULL), CQLMQ_EINVAL);
    cr_assert_not_null(r, "still the caller's");
    r->min_ms = 0;
    r->max_ms = NODE_FAULT_MAX_LATENCY_MS + 1;
    cr_assert_eq(node_faults_add(&f, &r, NULL), CQLMQ_EINVAL);
    node_fault_rule_free(&r);
    cr_assert_null(r);
    for (int i = 0; i < NODE_FAULT_MAX_RULES; i++)
        add(&f, node_fault_rule_new(NODE_FAULT_DROP));
    r = node_fault_rule_new(NODE_FAULT_DROP);
    cr_assert_eq(node_faults_add(&f, &r, NULL), CQLMQ_ELIMIT);
    node_fault_rule_free(&r);
    node_faults_close(&f);
}

Test(node_fault, action_names_round_trip)
{
    for (int a = 0; a < NODE_FAULT_ACTION_COUNT_; a++) {
        const char *n = node_fault_action_name(a);
        cr_assert_not_null(n);
        cr_assert_eq(node_fault_action_from_name(n, strlen(n)), a);
    }
    cr_assert_null(node_fault_action_name(NODE_FAULT_ACTION_COUNT_));
    cr_assert_eq(node_fault_action_from_name("explode", 7), CQLMQ_ENOTFOUND);
}

/* Encodes rule r as an ERROR frame and decodes it back. */
static void roundtrip(const node_fault_rule_t *r, int version, int cl, cql_bytes_t id,
                      cql_arena_t *a, cql_wr_t *w, cql_msg_t *m)
{
    cr_assert_eq(node_fault_write_error(r, w, version, 77, cl, id), 0);
    cql_frame_header_t h;
    cr_assert_eq(cql_frame_header_decode(w->data, w->len, &h), 0);
    cr_assert_eq(h.stream, 77);
    cr_assert_eq(h.opcode, CQL_OP_ERROR);
    cr_assert(h.response);
    cr_assert_eq(cql_msg_decode(version, h.opcode, h.flags, w->data + CQL_HEADER_SIZE, h.length,
                                a, m),
                 0);
}

Test(node_fault, error_rules_encode_every_detail)
{
    cql_arena_t a;
    cql_wr_t w;
    cql_msg_t m;
    cql_arena_init(&a, 0);
    cql_wr_init(&w);
    node_fault_rule_t *r = node_fault_rule_new(NODE_FAULT_ERROR);
    r->err.code = CQL_ERR_WRITE_TIMEOUT;
    r->err.received = 1;
    r->err.blockfor = 3;
    r->err.write_type = strdup("BATCH_LOG");
    roundtrip(r, 4, CQL_CL_QUORUM, (cql_bytes_t){NULL, CQL_BYTES_NULL}, &a, &w, &m);
    cr_assert_eq(m.u.error.code, CQL_ERR_WRITE_TIMEOUT);
    cr_assert_eq(m.u.error.consistency, CQL_CL_QUORUM, "the request's consistency");
    cr_assert_eq(m.u.error.received, 1);
    cr_assert_eq(m.u.error.blockfor, 3);
    cr_assert(cql_str_eq(m.u.error.write_type, "BATCH_LOG"));
    cr_assert(cql_str_eq(m.u.error.message, "injected write_timeout"));
    node_fault_rule_free(&r);

    r = node_fault_rule_new(NODE_FAULT_ERROR);
    r->err.code = CQL_ERR_UNPREPARED;
    cql_wr_reset(&w);
    roundtrip(r, 4, -1, (cql_bytes_t){(const uint8_t *)"\x01\x02\x03", 3}, &a, &w, &m);
    cr_assert_eq(m.u.error.id.len, 3, "the request's prepared id");
    cr_assert_eq(memcmp(m.u.error.id.ptr, "\x01\x02\x03", 3), 0);
    node_fault_rule_free(&r);

    r = node_fault_rule_new(NODE_FAULT_ERROR);
    r->err.code = CQL_ERR_READ_FAILURE;
    r->err.message = strdup("custom");
    r->err.consistency = CQL_CL_ALL;
    r->err.num_failures = 2;
    r->err.data_present = true;
    cql_wr_reset(&w);
    roundtrip(r, 4, CQL_CL_ONE, (cql_bytes_t){NULL, CQL_BYTES_NULL}, &a, &w, &m);
    cr_assert_eq(m.u.error.code, CQL_ERR_READ_FAILURE);
    cr_assert_eq(m.u.error.consistency, CQL_CL_ALL);
    cr_assert_eq(m.u.error.num_failures, 2);
    cr_assert(m.u.error.data_present);
    cr_assert(cql_str_eq(m.u.error.message, "custom"));
    cql_wr_reset(&w);
    roundtrip(r, 3, CQL_CL_ONE, (cql_bytes_t){NULL, CQL_BYTES_NULL}, &a, &w, &m);
    cr_assert_eq(m.u.error.code, CQL_ERR_READ_TIMEOUT, "v3 has no read_failure");
    node_fault_rule_free(&r);

    /* CAS_WRITE_UNKNOWN is v5's: v4 clients get a write timeout of type CAS. */
    r = node_fault_rule_new(NODE_FAULT_ERROR);
    r->err.code = CQL_ERR_CAS_WRITE_UNKNOWN;
    cql_wr_reset(&w);
    roundtrip(r, 4, CQL_CL_SERIAL, (cql_bytes_t){NULL, CQL_BYTES_NULL}, &a, &w, &m);
    cr_assert_eq(m.u.error.code, CQL_ERR_WRITE_TIMEOUT);
    cr_assert(cql_str_eq(m.u.error.write_type, "CAS"), "write type %.*s",
              (int)m.u.error.write_type.len, m.u.error.write_type.ptr);
    node_fault_rule_free(&r);

    r = node_fault_rule_new(NODE_FAULT_DROP);
    cr_assert_eq(node_fault_write_error(r, &w, 4, 1, 0, (cql_bytes_t){NULL, -1}), CQLMQ_EINVAL);
    node_fault_rule_free(&r);
    cql_wr_close(&w);
    cql_arena_close(&a);
}

Test(node_actlog, the_ring_keeps_the_newest_entries_with_increasing_seq)
{
    node_actlog_t l;
    cr_assert_eq(node_actlog_init(&l, 3), 0);
    node_act_entry_t e = {.node = 1, .conn = 9, .opcode = CQL_OP_QUERY, .consistency = 1};
    const char *texts[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++)
        node_actlog_append(&l, &e, texts[i], 1);
    cr_assert_eq(l.count, 3);
    cr_assert_eq(l.dropped, 2);
    cr_assert_str_eq(node_actlog_get(&l, 0)->query, "c");
    cr_assert_str_eq(node_actlog_get(&l, 2)->query, "e");
    cr_assert_eq(node_actlog_get(&l, 2)->seq, 5);
    cr_assert_null(node_actlog_get(&l, 3));
    node_actlog_clear(&l);
    cr_assert_eq(l.count, 0);
    node_actlog_append(&l, &e, NULL, 0);
    cr_assert_null(node_actlog_get(&l, 0)->query);
    cr_assert_eq(node_actlog_get(&l, 0)->seq, 6, "seq survives clear");
    node_actlog_close(&l);
}

Test(node_actlog, long_texts_are_cut_and_a_zero_capacity_log_keeps_nothing)
{
    node_actlog_t l;
    cr_assert_eq(node_actlog_init(&l, 2), 0);
    size_t n = NODE_ACTLOG_TEXT_MAX + 100;
    char *big = malloc(n);
    memset(big, 'q', n);
    node_act_entry_t e = {.consistency = -1};
    node_actlog_append(&l, &e, big, n);
    cr_assert_eq(strlen(node_actlog_get(&l, 0)->query), NODE_ACTLOG_TEXT_MAX);
    free(big);
    node_actlog_close(&l);
    cr_assert_eq(node_actlog_init(&l, 0), 0);
    node_actlog_append(&l, &e, "x", 1);
    cr_assert_eq(l.count, 0);
    cr_assert_null(node_actlog_get(&l, 0));
    node_actlog_close(&l);
}
