/*
 * Unit tests: control requests from bytes (node_ctl_decode), "name or
 * number" fields, and the fault rules they describe (node_ctl_build_rule);
 * the add_node / remove_node fields.
 * Malformed input must give an error with a message, never a crash.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "cql_frame.h"
#include "cql_msg.h"
#include "node_ctl.h"

/* The request tables below leave the fields a kind does not use out. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static char err[512];

/* Builds a map from alternating key / value-writer pairs given as a tiny
 * script: "s" string, "i" int, "b" bool, "a" array of strings (count, then
 * items), "n" nil. */
typedef struct kv {
    const char *key;
    char kind;
    const char *s;
    int64_t i;
} kv_t;

static void build(mpk_wr_t *w, const kv_t *kvs, uint32_t n)
{
    mpk_wr_init(w);
    mpk_wr_map(w, n);
    for (uint32_t k = 0; k < n; k++) {
        mpk_wr_cstr(w, kvs[k].key);
        switch (kvs[k].kind) {
        case 's': mpk_wr_cstr(w, kvs[k].s); break;
        case 'i': mpk_wr_int(w, kvs[k].i); break;
        case 'b': mpk_wr_bool(w, kvs[k].i != 0); break;
        case 'n': mpk_wr_nil(w); break;
        case 'a':
            mpk_wr_array(w, (uint32_t)kvs[k].i);
            for (int64_t j = 0; j < kvs[k].i; j++)
                mpk_wr_cstr(w, kvs[k].s);
            break;
        }
    }
}

static int decode(const kv_t *kvs, uint32_t n, node_ctl_req_t *req, mpk_wr_t *w)
{
    build(w, kvs, n);
    err[0] = '\0';
    return node_ctl_decode(w->data, w->len, req, err, sizeof err);
}

#define KVS(...) ((const kv_t[]){__VA_ARGS__}), (uint32_t)(sizeof((const kv_t[]){__VA_ARGS__}) / sizeof(kv_t))

Test(node_ctl, a_well_formed_request_decodes_with_its_optional_fields)
{
    mpk_wr_t w;
    node_ctl_req_t req;
    cr_assert_eq(decode(KVS({"cmd", 's', "stop"}, {"node", 'i', NULL, 2}, {"extra", 's', "x"}),
                        &req, &w),
                 0, "%s", err);
    cr_assert(mpk_str_eq(req.cmd, "stop"));
    cr_assert(MPK_HAS(&req, node_ctl_req, node));
    cr_assert_eq(req.node, 2);
    cr_assert_not(MPK_HAS(&req, node_ctl_req, query));
    mpk_wr_close(&w);
}

Test(node_ctl, an_add_node_request_carries_dc_and_rack_as_strings_only)
{
    mpk_wr_t w;
    node_ctl_req_t req;
    cr_assert_eq(decode(KVS({"cmd", 's', "add_node"}, {"dc", 's', "dc2"}, {"rack", 's', "r1"}),
                        &req, &w),
                 0, "%s", err);
    cr_assert(MPK_HAS(&req, node_ctl_req, dc) && MPK_HAS(&req, node_ctl_req, rack));
    cr_assert(mpk_str_eq(req.dc, "dc2"));
    cr_assert(mpk_str_eq(req.rack, "r1"));
    mpk_wr_close(&w);
    cr_assert_lt(decode(KVS({"cmd", 's', "add_node"}, {"dc", 'i', NULL, 2}), &req, &w), 0);
    cr_assert_neq(err[0], '\0');
    mpk_wr_close(&w);
    cr_assert_eq(decode(KVS({"cmd", 's', "add_node"}, {"rack", 'n'}), &req, &w), 0, "%s", err);
    cr_assert_not(MPK_HAS(&req, node_ctl_req, rack), "nil: absent (the default rack)");
    mpk_wr_close(&w);
}

Test(node_ctl, malformed_requests_are_errors_with_messages)
{
    node_ctl_req_t req;
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"", 0},                          /* nothing */
        {"\xc1", 1},                      /* never-used byte */
        {"\x93\x01\x02\x03", 4},          /* an array, not a map */
        {"\xdd\x0f\xff\xff\xff", 5},      /* array bomb */
        {"\xdf\x0f\xff\xff\xff", 5},      /* map bomb */
        {"\x81\xa3" "cmd", 5},            /* value missing */
        {"\x81\xa3" "cmd\x05", 6},        /* cmd is no string */
        {"\x80", 1},                      /* cmd missing */
        {"\x81\xa3" "cmd\xa4ping\xc0", 11}, /* trailing byte */
        {"\x82\xa3" "cmd\xa4ping\xa4node\xa1x", 17}, /* node is no int */
        {"\x82\xa3" "cmd\xa4ping\xa3" "cmd\xa4ping", 19}, /* duplicate key */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        int rc = node_ctl_decode((const uint8_t *)bad[i].bytes, bad[i].len, &req, err, sizeof err);
        cr_assert_lt(rc, 0, "case %zu accepted", i);
        cr_assert_neq(err[0], '\0', "case %zu has a message", i);
    }
}

Test(node_ctl, names_or_numbers_resolve_opcodes_errors_and_consistencies)
{
    mpk_wr_t w;
    node_ctl_req_t req;
    cr_assert_eq(decode(KVS({"cmd", 's', "x"}, {"opcode", 's', "execute"}, {"error", 'i', NULL,
                                                                           0x1200},
                            {"consistency", 's', "local_quorum"}),
                        &req, &w),
                 0);
    cr_assert_eq(node_ctl_opcode(req.opcode), CQL_OP_EXECUTE);
    int rc;
    cr_assert_eq(node_ctl_error_code(req.error, &rc), CQL_ERR_READ_TIMEOUT);
    cr_assert_eq(rc, 0);
    cr_assert_eq(node_ctl_consistency(req.consistency), CQL_CL_LOCAL_QUORUM);
    mpk_wr_close(&w);
    cr_assert_eq(decode(KVS({"cmd", 's', "x"}, {"opcode", 'i', NULL, 0x04},
                            {"error", 's', "nope"}, {"consistency", 'i', NULL, 99}),
                        &req, &w),
                 0);
    cr_assert_lt(node_ctl_opcode(req.opcode), 0);
    node_ctl_error_code(req.error, &rc);
    cr_assert_lt(rc, 0);
    cr_assert_lt(node_ctl_consistency(req.consistency), 0);
    mpk_wr_close(&w);
    cr_assert_eq(decode(KVS({"cmd", 's', "x"}, {"opcode", 'b', NULL, 1}), &req, &w), 0);
    cr_assert_eq(node_ctl_opcode(req.opcode), CQLMQ_EBADTYPE);
    mpk_wr_close(&w);
}

Test(node_ctl, an_error_fault_request_builds_a_complete_rule)
{
    mpk_wr_t w;
    node_ctl_req_t req;
    node_fault_rule_t *r = NULL;
    cr_assert_eq(decode(KVS({"cmd", 's', "fault"}, {"action", 's', "error"},
                            {"error", 's', "function_failure"}, {"query", 's', "ks.t"},
                            {"node", 'i', NULL, 1}, {"count", 'i', NULL, 3},
                            {"keyspace", 's', "ks"}, {"function", 's', "f"},
                            {"arg_types", 'a', "int", 2}, {"consistency", 's', "TWO"},
                            {"message", 's', "boom"}),
                        &req, &w),
                 0, "%s", err);
    cr_assert_eq(node_ctl_build_rule(&req, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(r->action, NODE_FAULT_ERROR);
    cr_assert_eq(r->opcode, NODE_FAULT_ANY_OPCODE);
    cr_assert_str_eq(r->query, "ks.t");
    cr_assert_eq(r->node, 1);
    cr_assert_eq(r->remaining, 3);
    cr_assert_eq(r->err.code, CQL_ERR_FUNCTION_FAILURE);
    cr_assert_str_eq(r->err.keyspace, "ks");
    cr_assert_str_eq(r->err.name, "f");
    cr_assert_eq(r->err.narg_types, 2);
    cr_assert_str_eq(r->err.arg_types[1], "int");
    cr_assert_eq(r->err.consistency, CQL_CL_TWO);
    cr_assert_str_eq(r->err.message, "boom");
    node_fault_rule_free(&r);
    mpk_wr_close(&w);
}

Test(node_ctl, latency_requests_take_a_fixed_or_random_delay)
{
    mpk_wr_t w;
    node_ctl_req_t req;
    node_fault_rule_t *r = NULL;
    cr_assert_eq(decode(KVS({"cmd", 's', "fault"}, {"action", 's', "latency"},
                            {"ms", 'i', NULL, 250}, {"opcode", 's', "QUERY"}),
                        &req, &w),
                 0);
    cr_assert_eq(node_ctl_build_rule(&req, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(r->min_ms, 250);
    cr_assert_eq(r->max_ms, 250);
    cr_assert_eq(r->opcode, CQL_OP_QUERY);
    node_fault_rule_free(&r);
    mpk_wr_close(&w);
    cr_assert_eq(decode(KVS({"cmd", 's', "fault"}, {"action", 's', "latency"},
                            {"min_ms", 'i', NULL, 5}, {"max_ms", 'i', NULL, 50}),
                        &req, &w),
                 0);
    cr_assert_eq(node_ctl_build_rule(&req, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(r->min_ms, 5);
    cr_assert_eq(r->max_ms, 50);
    node_fault_rule_free(&r);
    mpk_wr_close(&w);
}

Test(node_ctl, invalid_fault_requests_are_refused_with_messages)
{
    mpk_wr_t w;
    node_ctl_req_t req;
    node_fault_rule_t *r = NULL;
    struct {
        kv_t kv[3];
        uint32_t n;
        const char *needle;
    } cases[] = {
        {{{"cmd", 's', "fault"}}, 1, "action"},
        {{{"cmd", 's', "fault"}, {"action", 's', "explode"}}, 2, "unknown action"},
        {{{"cmd", 's', "fault"}, {"action", 's', "error"}}, 2, "\"error\""},
        {{{"cmd", 's', "fault"}, {"action", 's', "error"}, {"error", 's', "bogus"}}, 3,
         "unknown error"},
        {{{"cmd", 's', "fault"}, {"action", 's', "latency"}}, 2, "ms"},
        {{{"cmd", 's', "fault"}, {"action", 's', "latency"}, {"ms", 'i', NULL, 700000}}, 3,
         "max_ms"},
        {{{"cmd", 's', "fault"}, {"action", 's', "drop"}, {"count", 'i', NULL, 0}}, 3, "count"},
        {{{"cmd", 's', "fault"}, {"action", 's', "drop"}, {"opcode", 's', "NOPE"}}, 3, "opcode"},
        {{{"cmd", 's', "fault"}, {"action", 's', "drop"}, {"node", 'i', NULL, -2}}, 3, "node"},
        {{{"cmd", 's', "fault"}, {"action", 's', "error"}, {"arg_types", 'i', NULL, 3}}, 3,
         "\"error\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(decode(cases[i].kv, cases[i].n, &req, &w), 0);
        err[0] = '\0';
        cr_assert_lt(node_ctl_build_rule(&req, &r, err, sizeof err), 0, "case %zu", i);
        cr_assert_null(r);
        cr_assert(strstr(err, cases[i].needle), "case %zu: \"%s\" lacks %s", i, err,
                  cases[i].needle);
        mpk_wr_close(&w);
    }
}
