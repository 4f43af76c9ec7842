/*
 * Tests for request decoding (wire_req_decode): every request of
 * docs/protocol.md decodes from hand-built msgpack with its defaults
 * resolved; field order is free and unknown keys are ignored; every kind of
 * bad request gives a precise message naming the field, keeps the id when
 * there was one, and never allocates for what a header merely claims.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "wire_msg.h"

static const wire_limits_t lim = {
    .max_message_bytes = 1 << 20, .max_in_flight = 64, .max_streams = 8, .max_credit = 8,
    .max_page_bytes = 1 << 20, .default_page_size = 100, .default_timeout_ms = 5000,
    .max_timeout_ms = 60000, .lease_ms = 30000,
};

/* A tiny builder: a map of n pairs written with the mpk writer. */
static mpk_wr_t w;
static void setup(void) { mpk_wr_init(&w); }
static void teardown(void) { mpk_wr_close(&w); }
TestSuite(wire_msg, .init = setup, .fini = teardown);

static void kv_str(const char *k, const char *v)
{
    mpk_wr_cstr(&w, k);
    mpk_wr_cstr(&w, v);
}
static void kv_uint(const char *k, uint64_t v)
{
    mpk_wr_cstr(&w, k);
    mpk_wr_uint(&w, v);
}
static void kv_int(const char *k, int64_t v)
{
    mpk_wr_cstr(&w, k);
    mpk_wr_int(&w, v);
}
static void kv_bool(const char *k, bool v)
{
    mpk_wr_cstr(&w, k);
    mpk_wr_bool(&w, v);
}
static void head(uint32_t pairs, const char *op, uint64_t id)
{
    mpk_wr_reset(&w);
    mpk_wr_map(&w, pairs);
    kv_str("op", op);
    kv_uint("id", id);
}

static int dec(wire_req_t *q, wire_diag_t *d)
{
    cr_assert_eq(mpk_wr_error(&w), 0);
    return wire_req_decode(w.data, w.len, &lim, q, d);
}

/* Decodes, expecting failure rc with message msg. */
static void bad(int rc, const char *msg)
{
    wire_req_t q;
    wire_diag_t d;
    int got = dec(&q, &d);
    cr_assert_eq(got, rc, "rc %s, want %s (%s)", cqlmq_err_name(got), cqlmq_err_name(rc), d.msg);
    cr_assert_str_eq(d.msg, msg);
}

Test(wire_msg, hello_decodes_with_protocol_and_client)
{
    wire_req_t q;
    wire_diag_t d;
    head(4, "hello", 1);
    kv_uint("protocol", 1);
    kv_str("client", "test/1");
    cr_assert_eq(dec(&q, &d), 0, "%s", d.msg);
    cr_assert_eq(q.op, WIRE_OP_HELLO);
    cr_assert_eq(q.id, 1);
    cr_assert_eq(q.u.hello.protocol, 1);
    cr_assert(mpk_str_eq(q.u.hello.client, "test/1"));
}

Test(wire_msg, a_query_with_every_field_resolves_them_all)
{
    static const uint8_t params[] = {0x92, 0x01, 0xa1, 'x'};
    wire_req_t q;
    wire_diag_t d;
    head(15, "query", WIRE_ID_MAX);
    kv_str("cql", "SELECT * FROM t WHERE a = ? AND b = ?");
    mpk_wr_cstr(&w, "params");
    mpk_wr_raw(&w, params, sizeof params);
    kv_uint("page_size", 500);
    mpk_wr_cstr(&w, "paging_state");
    mpk_wr_bin(&w, "\x01\x02", 2);
    kv_bool("stream", true);
    kv_uint("credit", 8);
    kv_str("keyspace", "App_1");
    kv_str("consistency", "local_quorum");
    kv_str("serial_consistency", "LOCAL_SERIAL");
    kv_uint("timeout_ms", 60000);
    kv_int("timestamp", -5);
    kv_bool("idempotent", true);
    kv_str("future_field", "ignored");
    cr_assert_eq(dec(&q, &d), 0, "%s", d.msg);
    cr_assert_eq(q.op, WIRE_OP_QUERY);
    cr_assert_eq(q.id, WIRE_ID_MAX);
    cr_assert(mpk_str_eq(q.cql, "SELECT * FROM t WHERE a = ? AND b = ?"));
    cr_assert_eq(q.params.len, sizeof params);
    cr_assert_arr_eq(q.params.ptr, params, sizeof params);
    cr_assert_eq(q.page_size, 500);
    cr_assert_eq(q.paging_state.len, 2);
    cr_assert(q.stream);
    cr_assert_eq(q.credit, 8);
    cr_assert(mpk_str_eq(q.keyspace, "App_1"));
    cr_assert_eq(q.consistency, CQL_CL_LOCAL_QUORUM);
    cr_assert_eq(q.serial_consistency, CQL_CL_LOCAL_SERIAL);
    cr_assert_eq(q.timeout_ms, 60000);
    cr_assert(q.has_timestamp);
    cr_assert_eq(q.timestamp, -5);
    cr_assert(q.idempotent);
    /* slices borrow the frame */
    cr_assert(q.cql.ptr > (const char *)w.data && q.cql.ptr < (const char *)w.data + w.len);
}

Test(wire_msg, a_minimal_query_gets_the_contract_defaults)
{
    wire_req_t q;
    wire_diag_t d;
    mpk_wr_reset(&w);
    /* field order is free: id, cql, op */
    mpk_wr_map(&w, 3);
    kv_uint("id", 9);
    kv_str("cql", "SELECT 1");
    kv_str("op", "query");
    cr_assert_eq(dec(&q, &d), 0, "%s", d.msg);
    cr_assert_eq(q.consistency, CQL_CL_LOCAL_ONE);
    cr_assert_eq(q.serial_consistency, CQL_CL_SERIAL);
    cr_assert_eq(q.timeout_ms, 5000);
    cr_assert_eq(q.page_size, 100);
    cr_assert_not(q.stream);
    cr_assert_eq(q.credit, 0);
    cr_assert_eq(q.params.len, 0);
    cr_assert_eq(q.keyspace.len, 0);
    cr_assert_not(q.has_timestamp);
    /* a stream without credit gets 2 */
    head(4, "query", 9);
    kv_str("cql", "SELECT 1");
    kv_bool("stream", true);
    cr_assert_eq(dec(&q, &d), 0, "%s", d.msg);
    cr_assert_eq(q.credit, WIRE_DEFAULT_CREDIT);
}

Test(wire_msg, nil_optional_fields_count_as_absent)
{
    wire_req_t q;
    wire_diag_t d;
    head(5, "query", 3);
    kv_str("cql", "SELECT 1");
    mpk_wr_cstr(&w, "params");
    mpk_wr_nil(&w);
    mpk_wr_cstr(&w, "consistency");
    mpk_wr_nil(&w);
    cr_assert_eq(dec(&q, &d), 0, "%s", d.msg);
    cr_assert_eq(q.params.len, 0);
    cr_assert_eq(q.consistency, CQL_CL_LOCAL_ONE);
}

Test(wire_msg, serial_consistency_is_accepted_as_a_read_consistency)
{
    wire_req_t q;
    wire_diag_t d;
    head(4, "query", 3);
    kv_str("cql", "SELECT 1");
    kv_str("consistency", "serial");
    cr_assert_eq(dec(&q, &d), 0, "%s", d.msg);
    cr_assert_eq(q.consistency, CQL_CL_SERIAL);
}

Test(wire_msg, prepare_and_execute_decode)
{
    wire_req_t q;
    wire_diag_t d;
    head(4, "prepare", 2);
    kv_str("cql", "INSERT INTO t (a) VALUES (?)");
    kv_str("keyspace", "app");
    cr_assert_eq(dec(&q, &d), 0, "%s", d.msg);
    cr_assert_eq(q.op, WIRE_OP_PREPARE);
    cr_assert(mpk_str_eq(q.keyspace, "app"));

    head(5, "execute", 3);
    mpk_wr_cstr(&w, "handle");
    mpk_wr_bin(&w, "\xaa\xbb", 2);
    mpk_wr_cstr(&w, "params");
    mpk_wr_map(&w, 1);
    kv_uint("a", 1);
    kv_uint("page_size", 10);
    cr_assert_eq(dec(&q, &d), 0, "%s", d.msg);
    cr_assert_eq(q.op, WIRE_OP_EXECUTE);
    cr_assert_eq(q.handle.len, 2);
    cr_assert_eq(q.page_size, 10);
    cr_assert_eq(q.params.ptr[0], 0x81);
}

Test(wire_msg, batch_decodes_and_its_statements_iterate)
{
    wire_req_t q;
    wire_diag_t d;
    head(5, "batch", 4);
    kv_str("kind", "unlogged");
    kv_str("consistency", "QUORUM");
    mpk_wr_cstr(&w, "statements");
    mpk_wr_array(&w, 3);
    mpk_wr_map(&w, 2);
    kv_str("cql", "INSERT INTO t (a) VALUES (?)");
    mpk_wr_cstr(&w, "params");
    mpk_wr_array(&w, 1);
    mpk_wr_uint(&w, 1);
    mpk_wr_map(&w, 2);
    mpk_wr_cstr(&w, "handle");
    mpk_wr_bin(&w, "\x01", 1);
    mpk_wr_cstr(&w, "params");
    mpk_wr_nil(&w);
    mpk_wr_map(&w, 1);
    kv_str("cql", "DELETE FROM t WHERE a = 1");
    cr_assert_eq(dec(&q, &d), 0, "%s", d.msg);
    cr_assert_eq(q.op, WIRE_OP_BATCH);
    cr_assert_eq(q.batch_kind, CQL_BATCH_UNLOGGED);
    cr_assert_eq(q.consistency, CQL_CL_QUORUM);
    cr_assert_eq(q.nstatements, 3);

    wire_batch_iter_t it;
    wire_batch_stmt_t st;
    wire_batch_iter_init(&it, &q);
    cr_assert_eq(wire_batch_next(&it, &st), 1);
    cr_assert(MPK_HAS(&st, wire_batch_stmt, cql));
    cr_assert(MPK_HAS(&st, wire_batch_stmt, params));
    cr_assert_eq(st.params.len, 2);
    cr_assert_eq(wire_batch_next(&it, &st), 1);
    cr_assert(MPK_HAS(&st, wire_batch_stmt, handle));
    cr_assert_not(MPK_HAS(&st, wire_batch_stmt, params), "nil params are absent");
    cr_assert_eq(wire_batch_next(&it, &st), 1);
    cr_assert(mpk_str_eq(st.cql, "DELETE FROM t WHERE a = 1"));
    cr_assert_eq(wire_batch_next(&it, &st), 0);
}

Test(wire_msg, credit_cancel_ping_and_stats_decode)
{
    wire_req_t q;
    wire_diag_t d;
    head(3, "credit", 5);
    kv_uint("n", 3);
    cr_assert_eq(dec(&q, &d), 0, "%s", d.msg);
    cr_assert_eq(q.op, WIRE_OP_CREDIT);
    cr_assert_eq(q.credit, 3);
    static const char *ops[] = {"cancel", "ping", "stats"};
    static const wire_op_t codes[] = {WIRE_OP_CANCEL, WIRE_OP_PING, WIRE_OP_STATS};
    for (int i = 0; i < 3; i++) {
        head(2, ops[i], 6);
        cr_assert_eq(dec(&q, &d), 0, "%s", d.msg);
        cr_assert_eq(q.op, codes[i]);
        cr_assert_eq(q.id, 6);
        cr_assert_str_eq(wire_op_name(q.op), ops[i]);
    }
}

Test(wire_msg, a_request_encoded_by_the_schema_decodes_back)
{
    wire_query_req_t m = {0};
    wire_req_t q;
    wire_diag_t d;
    m.op = mpk_cstr("query");
    m.id = 77;
    m.cql = mpk_cstr("SELECT 2");
    m.page_size = 7;
    MPK_SET(&m, wire_query_req, page_size);
    mpk_wr_reset(&w);
    cr_assert_eq(wire_query_req_encode(&w, &m), 0);
    cr_assert_eq(dec(&q, &d), 0, "%s", d.msg);
    cr_assert_eq(q.id, 77);
    cr_assert_eq(q.page_size, 7);
}

/* ---- bad requests ---- */

Test(wire_msg, a_request_that_is_not_a_map_is_refused)
{
    mpk_wr_reset(&w);
    mpk_wr_array(&w, 1);
    mpk_wr_uint(&w, 1);
    bad(CQLMQ_EMALFORMED, "a request must be a msgpack map");
}

Test(wire_msg, op_problems_are_named)
{
    mpk_wr_reset(&w);
    mpk_wr_map(&w, 1);
    kv_uint("id", 1);
    bad(CQLMQ_EMALFORMED, "missing field 'op'");
    head(2, "qurey", 1);
    bad(CQLMQ_EBADOPCODE, "unknown op 'qurey'");
    mpk_wr_reset(&w);
    mpk_wr_map(&w, 2);
    kv_uint("op", 1);
    kv_uint("id", 1);
    bad(CQLMQ_EBADTYPE, "field 'op' must be a string");
}

Test(wire_msg, id_problems_are_named_and_a_valid_id_is_kept_on_failure)
{
    mpk_wr_reset(&w);
    mpk_wr_map(&w, 1);
    kv_str("op", "ping");
    bad(CQLMQ_EMALFORMED, "missing field 'id'");
    head(2, "ping", 0);
    bad(CQLMQ_ERANGE, "field 'id' must be between 1 and 2^53-1");
    head(2, "ping", WIRE_ID_MAX + 1);
    bad(CQLMQ_ERANGE, "field 'id' must be between 1 and 2^53-1");
    mpk_wr_reset(&w);
    mpk_wr_map(&w, 2);
    kv_str("op", "ping");
    kv_int("id", -4);
    bad(CQLMQ_ERANGE, "field 'id' must be between 1 and 2^53-1");
    mpk_wr_reset(&w);
    mpk_wr_map(&w, 2);
    kv_str("op", "ping");
    kv_str("id", "4");
    bad(CQLMQ_EBADTYPE, "field 'id' must be an unsigned integer");

    wire_req_t q;
    wire_diag_t d;
    head(2, "query", 42);
    cr_assert_eq(dec(&q, &d), CQLMQ_EMALFORMED);
    cr_assert_str_eq(d.msg, "missing field 'cql'");
    cr_assert_eq(q.id, 42);
    cr_assert_eq(q.op, WIRE_OP_QUERY);
}

Test(wire_msg, fields_of_the_wrong_type_are_named)
{
    head(4, "query", 1);
    kv_str("cql", "SELECT 1");
    kv_str("page_size", "10");
    bad(CQLMQ_EBADTYPE, "field 'page_size' must be an unsigned integer");
    head(3, "query", 1);
    mpk_wr_cstr(&w, "cql");
    mpk_wr_bin(&w, "x", 1);
    bad(CQLMQ_EBADTYPE, "field 'cql' must be a string");
    head(4, "query", 1);
    kv_str("cql", "SELECT 1");
    kv_uint("stream", 1);
    bad(CQLMQ_EBADTYPE, "field 'stream' must be a boolean");
    head(3, "hello", 1);
    kv_int("protocol", -1);
    bad(CQLMQ_ERANGE, "field 'protocol' must be an unsigned integer");
    head(4, "query", 1);
    kv_str("cql", "SELECT 1");
    kv_uint("params", 5);
    bad(CQLMQ_EBADTYPE, "field 'params' must be an array or a map");
}

Test(wire_msg, nil_required_and_duplicate_fields_are_named)
{
    head(3, "query", 1);
    mpk_wr_cstr(&w, "cql");
    mpk_wr_nil(&w);
    bad(CQLMQ_EMALFORMED, "field 'cql' must not be nil");
    head(4, "query", 1);
    kv_str("cql", "SELECT 1");
    kv_str("cql", "SELECT 2");
    bad(CQLMQ_EMALFORMED, "field 'cql' given twice");
    head(3, "query", 1);
    kv_str("cql", "");
    bad(CQLMQ_EINVAL, "field 'cql' is empty");
}

Test(wire_msg, bounds_come_from_the_limits)
{
    head(4, "query", 1);
    kv_str("cql", "SELECT 1");
    kv_uint("page_size", 0);
    bad(CQLMQ_ERANGE, "field 'page_size' must be between 1 and 2147483647");
    head(4, "query", 1);
    kv_str("cql", "SELECT 1");
    kv_uint("timeout_ms", 60001);
    bad(CQLMQ_ERANGE, "field 'timeout_ms' must be between 1 and 60000");
    head(5, "query", 1);
    kv_str("cql", "SELECT 1");
    kv_bool("stream", true);
    kv_uint("credit", 9);
    bad(CQLMQ_ERANGE, "field 'credit' must be between 0 and 8");
    head(3, "credit", 1);
    kv_uint("n", 0);
    bad(CQLMQ_ERANGE, "field 'n' must be between 1 and 8");
}

Test(wire_msg, names_that_mean_nothing_are_named)
{
    head(4, "query", 1);
    kv_str("cql", "SELECT 1");
    kv_str("consistency", "fast");
    bad(CQLMQ_EINVAL, "field 'consistency': unknown consistency 'fast'");
    head(4, "query", 1);
    kv_str("cql", "SELECT 1");
    kv_str("serial_consistency", "quorum");
    bad(CQLMQ_EINVAL, "field 'serial_consistency' must be 'serial' or 'local_serial'");
    head(4, "query", 1);
    kv_str("cql", "SELECT 1");
    kv_str("keyspace", "ks; DROP TABLE x");
    bad(CQLMQ_EINVAL, "field 'keyspace': 'ks; DROP TABLE x' is not a keyspace name");
}

Test(wire_msg, batch_problems_name_the_statement)
{
    head(4, "batch", 1);
    kv_str("kind", "fast");
    mpk_wr_cstr(&w, "statements");
    mpk_wr_array(&w, 0);
    bad(CQLMQ_EINVAL, "field 'kind' must be 'logged', 'unlogged' or 'counter'");
    head(4, "batch", 1);
    kv_str("kind", "logged");
    mpk_wr_cstr(&w, "statements");
    mpk_wr_array(&w, 0);
    bad(CQLMQ_EINVAL, "field 'statements' must hold 1 to 65535 statements");
    head(4, "batch", 1);
    kv_str("kind", "logged");
    kv_str("statements", "INSERT");
    bad(CQLMQ_EBADTYPE, "field 'statements' must be an array");
    head(4, "batch", 1);
    kv_str("kind", "logged");
    mpk_wr_cstr(&w, "statements");
    mpk_wr_array(&w, 2);
    mpk_wr_map(&w, 1);
    kv_str("cql", "INSERT");
    mpk_wr_map(&w, 1);
    kv_uint("cql", 5);
    bad(CQLMQ_EBADTYPE, "field 'statements[1].cql' must be a string");
    head(4, "batch", 1);
    kv_str("kind", "logged");
    mpk_wr_cstr(&w, "statements");
    mpk_wr_array(&w, 1);
    mpk_wr_map(&w, 0);
    bad(CQLMQ_EMALFORMED, "statements[0] needs exactly one of 'cql' and 'handle'");
    head(4, "batch", 1);
    kv_str("kind", "logged");
    mpk_wr_cstr(&w, "statements");
    mpk_wr_array(&w, 1);
    mpk_wr_uint(&w, 1);
    bad(CQLMQ_EBADTYPE, "field 'statements[0]' must be a map");
    head(3, "batch", 1);
    kv_str("kind", "logged");
    bad(CQLMQ_EMALFORMED, "missing field 'statements'");
}

Test(wire_msg, trailing_truncated_and_impossible_bytes_are_refused)
{
    head(2, "ping", 1);
    mpk_wr_uint(&w, 0);
    bad(CQLMQ_ETRAILING, "bytes after the end of the message map");
    head(2, "ping", 1);
    w.len -= 1;
    bad(CQLMQ_ETRUNCATED, "malformed msgpack");
    static const uint8_t impossible[] = {0x81, 0xc1, 0x01};
    wire_req_t q;
    wire_diag_t d;
    cr_assert_eq(wire_req_decode(impossible, sizeof impossible, &lim, &q, &d), CQLMQ_EMALFORMED);
    cr_assert_eq(wire_req_decode(NULL, 0, &lim, &q, &d), CQLMQ_ETRUNCATED);
}

Test(wire_msg, huge_headers_are_refused_without_allocation)
{
    /* map 32 claiming 2^32-1 pairs; array 32 of statements claiming as many */
    static const uint8_t bomb[] = {0xdf, 0xff, 0xff, 0xff, 0xff, 0xa2, 'o', 'p', 0xa4, 'p', 'i', 'n', 'g'};
    wire_req_t q;
    wire_diag_t d;
    cr_assert_eq(wire_req_decode(bomb, sizeof bomb, &lim, &q, &d), CQLMQ_ETRUNCATED);
    head(4, "batch", 1);
    kv_str("kind", "logged");
    mpk_wr_cstr(&w, "statements");
    mpk_wr_raw(&w, "\xdd\xff\xff\xff\xff\x80", 6);
    cr_assert_eq(dec(&q, &d), CQLMQ_ETRUNCATED);
}

Test(wire_msg, the_head_of_any_message_can_be_peeked)
{
    mpk_str_t op;
    uint64_t id;
    head(3, "page", 12);
    kv_uint("seq", 0);
    cr_assert_eq(wire_peek_head(w.data, w.len, &op, &id), 0);
    cr_assert(mpk_str_eq(op, "page"));
    cr_assert_eq(id, 12);
    mpk_wr_reset(&w);
    mpk_wr_map(&w, 1);
    kv_uint("id", 1);
    cr_assert_eq(wire_peek_head(w.data, w.len, &op, &id), CQLMQ_EMALFORMED);
}

Test(wire_msg, op_names_and_codes_correspond)
{
    for (int op = WIRE_OP_NONE_ + 1; op < WIRE_OP_COUNT_; op++) {
        const char *name = wire_op_name(op);
        cr_assert_not_null(name);
        cr_assert_eq(wire_op_from_name(name, strlen(name)), op);
    }
    cr_assert_null(wire_op_name(WIRE_OP_NONE_));
    cr_assert_null(wire_op_name(WIRE_OP_COUNT_));
    cr_assert_eq(wire_op_from_name("QUERY", 5), CQLMQ_EBADOPCODE);
}
