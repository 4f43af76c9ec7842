/*
 * Request bodies: golden bytes worked out by hand from the spec, v3/v4
 * differences, hostile counts.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cql_msg.h"

#define S(lit) ((cql_str_t){(lit), sizeof(lit) - 1})

/* STARTUP {CQL_VERSION: 3.0.0} as a v4 frame on stream 0: header (version
 * 0x04, flags 0, stream 0, opcode 0x01, length 22), then a [string map]:
 * [short] 1, [string] "CQL_VERSION", [string] "3.0.0". */
static const uint8_t startup_frame[] = {
    0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x16,
    0x00, 0x01,
    0x00, 0x0b, 'C', 'Q', 'L', '_', 'V', 'E', 'R', 'S', 'I', 'O', 'N',
    0x00, 0x05, '3', '.', '0', '.', '0',
};

/* QUERY "SELECT v FROM t WHERE k=?" at ONE with one int value 42, page size
 * 100 and paging state aa bb cc: [long string], [consistency] 0x0001,
 * [byte] flags 0x0d (values 0x01 | page size 0x04 | paging state 0x08),
 * [short] 1 value, [value] 4 bytes, [int] 100, [bytes] 3 bytes. */
static const uint8_t query_body[] = {
    0x00, 0x00, 0x00, 0x19, 'S', 'E', 'L', 'E', 'C', 'T', ' ', 'v', ' ', 'F', 'R', 'O', 'M',
    ' ', 't', ' ', 'W', 'H', 'E', 'R', 'E', ' ', 'k', '=', '?',
    0x00, 0x01,
    0x0d,
    0x00, 0x01,
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x2a,
    0x00, 0x00, 0x00, 0x64,
    0x00, 0x00, 0x00, 0x03, 0xaa, 0xbb, 0xcc,
};

Test(cql_msg_req, startup_encodes_to_the_golden_frame)
{
    cql_string_pair_t kv = {S("CQL_VERSION"), S("3.0.0")};
    cql_msg_t m = {.opcode = CQL_OP_STARTUP, .u.startup = {1, &kv}};
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(cql_frame_write(&w, 4, 0, &m), 0);
    cr_assert_eq(w.len, sizeof(startup_frame));
    cr_assert_arr_eq(w.data, startup_frame, sizeof(startup_frame));
    cql_wr_close(&w);
}

Test(cql_msg_req, startup_golden_frame_decodes_to_its_options)
{
    cql_frame_header_t h;
    cr_assert_eq(cql_frame_header_decode(startup_frame, sizeof(startup_frame), &h), 0);
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    cr_assert_eq(cql_msg_decode(h.version, h.opcode, h.flags, startup_frame + 9, h.length, &a, &m),
                 0);
    cr_assert_eq(m.u.startup.n, 1);
    cql_str_t v;
    cr_assert(cql_string_map_get(&m.u.startup, "CQL_VERSION", &v));
    cr_assert(cql_str_eq(v, "3.0.0"));
    cr_assert_not(cql_string_map_get(&m.u.startup, "COMPRESSION", &v));
    /* Borrowed, not copied. */
    cr_assert_eq((const uint8_t *)v.ptr, startup_frame + 9 + 2 + 13 + 2);
    cql_arena_close(&a);
}

Test(cql_msg_req, query_with_values_and_paging_matches_the_golden_body)
{
    static const uint8_t v42[] = {0, 0, 0, 42}, ps[] = {0xaa, 0xbb, 0xcc};
    cql_bytes_t val = {v42, 4};
    cql_msg_t m = {.opcode = CQL_OP_QUERY};
    m.u.query.query = S("SELECT v FROM t WHERE k=?");
    m.u.query.params = (cql_query_params_t){
        .consistency = CQL_CL_ONE,
        .flags = CQL_QF_VALUES | CQL_QF_PAGE_SIZE | CQL_QF_PAGING_STATE,
        .nvalues = 1, .values = &val, .page_size = 100, .paging_state = {ps, 3}};
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(cql_msg_encode(&w, 4, &m), 0);
    cr_assert_eq(w.len, sizeof(query_body));
    cr_assert_arr_eq(w.data, query_body, sizeof(query_body));
    cql_wr_close(&w);

    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t d;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_QUERY, 0, query_body, sizeof(query_body), &a, &d), 0);
    const cql_query_params_t *p = &d.u.query.params;
    cr_assert(cql_str_eq(d.u.query.query, "SELECT v FROM t WHERE k=?"));
    cr_assert_eq(p->consistency, CQL_CL_ONE);
    cr_assert_eq(p->nvalues, 1);
    cr_assert_eq(p->values[0].len, 4);
    cr_assert_eq(cql_load_u32(p->values[0].ptr), 42);
    cr_assert_null(p->names);
    cr_assert_eq(p->page_size, 100);
    cr_assert_eq(p->paging_state.len, 3);
    cr_assert_eq(p->paging_state.ptr[2], 0xcc);
    cr_assert_eq(p->serial_consistency, 0, "absent fields stay zero");
    cql_arena_close(&a);
}

Test(cql_msg_req, the_golden_query_truncated_anywhere_is_an_error)
{
    for (size_t n = 0; n < sizeof(query_body); n++) {
        uint8_t *copy = malloc(n + 1);
        memcpy(copy, query_body, n);
        cql_arena_t a;
        cql_arena_init(&a, 0);
        cql_msg_t m;
        cr_assert_eq(cql_msg_decode(4, CQL_OP_QUERY, 0, copy, n, &a, &m), CQLMQ_ETRUNCATED,
                     "n=%zu", n);
        cql_arena_close(&a);
        free(copy);
    }
}

/* QUERY "q" at ONE with one value whose [int] length is `len`. */
static size_t one_value_query(uint8_t *buf, int32_t len)
{
    const uint8_t head[] = {0, 0, 0, 1, 'q', 0, 1, CQL_QF_VALUES, 0, 1};
    memcpy(buf, head, sizeof(head));
    cql_store_u32(buf + sizeof(head), (uint32_t)len);
    return sizeof(head) + 4;
}

Test(cql_msg_req, v4_values_may_be_not_set_but_v3_reads_every_negative_length_as_null)
{
    uint8_t buf[32];
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    size_t n = one_value_query(buf, -2);
    cr_assert_eq(cql_msg_decode(4, CQL_OP_QUERY, 0, buf, n, &a, &m), 0);
    cr_assert_eq(m.u.query.params.values[0].len, CQL_BYTES_NOT_SET);
    cr_assert_eq(cql_msg_decode(3, CQL_OP_QUERY, 0, buf, n, &a, &m), 0);
    cr_assert_eq(m.u.query.params.values[0].len, CQL_BYTES_NULL);
    n = one_value_query(buf, -3);
    cr_assert_eq(cql_msg_decode(4, CQL_OP_QUERY, 0, buf, n, &a, &m), CQLMQ_EMALFORMED);
    cr_assert_eq(cql_msg_decode(3, CQL_OP_QUERY, 0, buf, n, &a, &m), 0);
    cr_assert_eq(m.u.query.params.values[0].len, CQL_BYTES_NULL);
    cql_arena_close(&a);
}

Test(cql_msg_req, an_unset_value_cannot_be_encoded_for_v3)
{
    cql_bytes_t unset = {NULL, CQL_BYTES_NOT_SET};
    cql_msg_t m = {.opcode = CQL_OP_EXECUTE};
    m.u.execute.id = (cql_bytes_t){(const uint8_t *)"id", 2};
    m.u.execute.params = (cql_query_params_t){.flags = CQL_QF_VALUES, .nvalues = 1,
                                              .values = &unset};
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(cql_msg_encode(&w, 3, &m), CQLMQ_EUNSUPPORTED);
    cr_assert_eq(w.len, 0);
    cr_assert_eq(cql_msg_encode(&w, 4, &m), 0);
    cr_assert_eq(cql_load_u32(w.data + w.len - 4), (uint32_t)-2);
    cql_wr_close(&w);
}

Test(cql_msg_req, named_values_carry_their_names)
{
    const uint8_t body[] = {0, 0, 0, 1, 'q', 0, 4, CQL_QF_VALUES | CQL_QF_NAMES, 0, 2,
                            0, 1, 'x', 0, 0, 0, 1, 7, 0, 2, 'y', 'z', 0xff, 0xff, 0xff, 0xff};
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_QUERY, 0, body, sizeof(body), &a, &m), 0);
    const cql_query_params_t *p = &m.u.query.params;
    cr_assert_eq(p->consistency, CQL_CL_QUORUM);
    cr_assert_eq(p->nvalues, 2);
    cr_assert(cql_str_eq(p->names[0], "x"));
    cr_assert(cql_str_eq(p->names[1], "yz"));
    cr_assert_eq(p->values[0].ptr[0], 7);
    cr_assert_eq(p->values[1].len, CQL_BYTES_NULL);
    cql_arena_close(&a);
}

Test(cql_msg_req, a_huge_value_count_fails_before_allocating)
{
    /* 65535 values announced, 4 bytes present: the count is checked against
     * the bytes left, so a 64-byte arena is never even asked. */
    const uint8_t body[] = {0, 0, 0, 1, 'q', 0, 1, CQL_QF_VALUES, 0xff, 0xff, 0, 0, 0, 0};
    cql_arena_t a;
    cql_arena_init(&a, 64);
    cql_msg_t m;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_QUERY, 0, body, sizeof(body), &a, &m),
                 CQLMQ_ETRUNCATED);
    cr_assert_eq(a.used, 0);
    const uint8_t reg[] = {0xff, 0xff, 0, 1, 'x'};
    cr_assert_eq(cql_msg_decode(4, CQL_OP_REGISTER, 0, reg, sizeof(reg), &a, &m),
                 CQLMQ_ETRUNCATED);
    const uint8_t batch[] = {0, 0xff, 0xff, 0, 0, 0, 0, 0};
    cr_assert_eq(cql_msg_decode(4, CQL_OP_BATCH, 0, batch, sizeof(batch), &a, &m),
                 CQLMQ_ETRUNCATED);
    cr_assert_eq(a.used, 0);
    cql_arena_close(&a);
}

/* BATCH, unlogged, one query "q" with one value, one prepared id 0x0102 with
 * none, at QUORUM with default timestamp 5. */
static const uint8_t batch_body[] = {
    0x01, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x00, 0x01, 'q', 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x09,
    0x01, 0x00, 0x02, 0x01, 0x02, 0x00, 0x00,
    0x00, 0x04, 0x20, 0, 0, 0, 0, 0, 0, 0, 5,
};

Test(cql_msg_req, batch_decodes_query_and_prepared_statements)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    cr_assert_eq(cql_msg_decode(3, CQL_OP_BATCH, 0, batch_body, sizeof(batch_body), &a, &m), 0);
    const cql_msg_batch_t *b = &m.u.batch;
    cr_assert_eq(b->type, CQL_BATCH_UNLOGGED);
    cr_assert_eq(b->nstmts, 2);
    cr_assert_eq(b->stmts[0].kind, CQL_BATCH_KIND_QUERY);
    cr_assert(cql_str_eq(b->stmts[0].query, "q"));
    cr_assert_eq(b->stmts[0].nvalues, 1);
    cr_assert_eq(b->stmts[0].values[0].ptr[0], 9);
    cr_assert_eq(b->stmts[1].kind, CQL_BATCH_KIND_PREPARED);
    cr_assert_eq(b->stmts[1].id.len, 2);
    cr_assert_eq(b->stmts[1].nvalues, 0);
    cr_assert_eq(b->consistency, CQL_CL_QUORUM);
    cr_assert_eq(b->flags, CQL_QF_DEFAULT_TIMESTAMP);
    cr_assert_eq(b->timestamp, 5);
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(cql_msg_encode(&w, 3, &m), 0);
    cr_assert_arr_eq(w.data, batch_body, sizeof(batch_body));
    cql_wr_close(&w);
    cql_arena_close(&a);
}

Test(cql_msg_req, batch_rejects_bad_types_kinds_and_the_unimplementable_names_flag)
{
    uint8_t body[sizeof(batch_body)];
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    memcpy(body, batch_body, sizeof(body));
    body[0] = 3;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_BATCH, 0, body, sizeof(body), &a, &m),
                 CQLMQ_EMALFORMED);
    memcpy(body, batch_body, sizeof(body));
    body[3] = 2;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_BATCH, 0, body, sizeof(body), &a, &m),
                 CQLMQ_EMALFORMED);
    memcpy(body, batch_body, sizeof(body));
    body[25] = 0x40;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_BATCH, 0, body, sizeof(body) - 8, &a, &m),
                 CQLMQ_EUNSUPPORTED);
    cql_msg_t e = {.opcode = CQL_OP_BATCH, .u.batch = {.flags = CQL_QF_NAMES}};
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(cql_msg_encode(&w, 4, &e), CQLMQ_EUNSUPPORTED);
    e.u.batch.flags = CQL_QF_PAGE_SIZE;
    cr_assert_eq(cql_msg_encode(&w, 4, &e), CQLMQ_EINVAL);
    cql_wr_close(&w);
    cql_arena_close(&a);
}

Test(cql_msg_req, a_traced_request_has_no_tracing_id_in_its_body)
{
    cql_msg_t m = {.opcode = CQL_OP_PREPARE, .flags = CQL_FLAG_TRACING, .u.prepare = S("q")};
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(cql_frame_write(&w, 4, 9, &m), 0);
    const uint8_t want[] = {0x04, 0x02, 0x00, 0x09, 0x09, 0, 0, 0, 5, 0, 0, 0, 1, 'q'};
    cr_assert_eq(w.len, sizeof(want));
    cr_assert_arr_eq(w.data, want, sizeof(want));
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t d;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_PREPARE, CQL_FLAG_TRACING, want + 9, 5, &a, &d), 0);
    cr_assert_eq(d.flags, CQL_FLAG_TRACING);
    cr_assert_null(d.tracing_id);
    cql_arena_close(&a);
    cql_wr_close(&w);
}

Test(cql_msg_req, v3_ignores_the_custom_payload_flag_and_v4_reads_the_payload)
{
    const uint8_t body[] = {0, 1, 0, 1, 'k', 0, 0, 0, 1, 'v', 0, 0, 0, 1, 'q'};
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_PREPARE, CQL_FLAG_CUSTOM_PAYLOAD, body, sizeof(body),
                                &a, &m),
                 0);
    cr_assert_eq(m.custom_payload.n, 1);
    cr_assert(cql_str_eq(m.custom_payload.items[0].key, "k"));
    cr_assert(cql_str_eq(m.u.prepare, "q"));
    /* In v3 the flag means nothing: the body is the message alone. */
    cr_assert_eq(cql_msg_decode(3, CQL_OP_PREPARE, CQL_FLAG_CUSTOM_PAYLOAD, body + 10, 5, &a, &m),
                 0);
    cr_assert_eq(m.flags, 0);
    m.flags = CQL_FLAG_CUSTOM_PAYLOAD;
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(cql_msg_encode(&w, 3, &m), CQLMQ_EUNSUPPORTED);
    cql_wr_close(&w);
    cql_arena_close(&a);
}

Test(cql_msg_req, register_and_auth_response_decode_their_single_item)
{
    const uint8_t reg[] = {0, 2, 0, 13, 'S', 'T', 'A', 'T', 'U', 'S', '_', 'C', 'H', 'A', 'N',
                           'G', 'E', 0, 1, 'X'};
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_REGISTER, 0, reg, sizeof(reg), &a, &m), 0);
    cr_assert_eq(m.u.register_events.n, 2);
    cr_assert(cql_str_eq(m.u.register_events.items[0], "STATUS_CHANGE"));
    const uint8_t tok[] = {0xff, 0xff, 0xff, 0xfe};
    cr_assert_eq(cql_msg_decode(4, CQL_OP_AUTH_RESPONSE, 0, tok, 4, &a, &m), 0);
    cr_assert_eq(m.u.token.len, CQL_BYTES_NULL, "[bytes]: any negative length is null");
    cql_arena_close(&a);
}
