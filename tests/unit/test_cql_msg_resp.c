/*
 * Response bodies other than results: ERROR with every code, the tables
 * behind names, EVENT, SUPPORTED, AUTHENTICATE, and the response envelope.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cql_msg.h"

#define S(lit) ((cql_str_t){(lit), sizeof(lit) - 1})

/* READY, v4 response on stream 0: 0x84, no flags, stream 0, opcode 0x02,
 * empty body. */
Test(cql_msg_resp, ready_is_the_golden_nine_byte_frame)
{
    const uint8_t want[] = {0x84, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00};
    cql_msg_t m = {.opcode = CQL_OP_READY};
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(cql_frame_write(&w, 4, 0, &m), 0);
    cr_assert_eq(w.len, 9);
    cr_assert_arr_eq(w.data, want, 9);
    cql_wr_close(&w);
}

/* ERROR unavailable: [int] 0x1000, [string] "no", [consistency] QUORUM,
 * [int] required 3, [int] alive 1. */
static const uint8_t unavailable_body[] = {
    0x00, 0x00, 0x10, 0x00, 0x00, 0x02, 'n', 'o', 0x00, 0x04,
    0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,
};

Test(cql_msg_resp, error_unavailable_matches_the_golden_body_both_ways)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_ERROR, 0, unavailable_body, sizeof(unavailable_body),
                                &a, &m),
                 0);
    const cql_msg_error_t *e = &m.u.error;
    cr_assert_eq(e->code, CQL_ERR_UNAVAILABLE);
    cr_assert(cql_str_eq(e->message, "no"));
    cr_assert_eq(e->consistency, CQL_CL_QUORUM);
    cr_assert_eq(e->required, 3);
    cr_assert_eq(e->alive, 1);
    cql_msg_t enc = {.opcode = CQL_OP_ERROR,
                     .u.error = {.code = CQL_ERR_UNAVAILABLE, .message = S("no"),
                                 .consistency = CQL_CL_QUORUM, .required = 3, .alive = 1,
                                 .received = 99 /* not part of this code: not written */}};
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(cql_msg_encode(&w, 3, &enc), 0);
    cr_assert_eq(w.len, sizeof(unavailable_body));
    cr_assert_arr_eq(w.data, unavailable_body, sizeof(unavailable_body));
    for (size_t n = 0; n < sizeof(unavailable_body); n++)
        cr_assert_eq(cql_msg_decode(4, CQL_OP_ERROR, 0, w.data, n, &a, &m), CQLMQ_ETRUNCATED);
    cql_wr_close(&w);
    cql_arena_close(&a);
}

/* Every code of the table round trips in v4 with every field it carries. */
Test(cql_msg_resp, every_error_code_round_trips_with_its_extra_fields)
{
    static const int32_t codes[] = {
#define CODE_ROW_(name, code, str, ef, v, fb) code,
        CQL_ERROR_CODE_MAP(CODE_ROW_)
#undef CODE_ROW_
    };
    cql_str_t args[2] = {S("int"), S("text")};
    const uint8_t id[] = {0xab, 0xcd};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        cql_msg_t m = {.opcode = CQL_OP_ERROR};
        cql_msg_error_t *e = &m.u.error;
        *e = (cql_msg_error_t){.code = codes[i], .message = S("msg"), .consistency = 5,
                               .required = 6, .alive = 7, .received = 8, .blockfor = 9,
                               .num_failures = 10, .data_present = true,
                               .write_type = S("BATCH_LOG"), .keyspace = S("ks"),
                               .name = S("fn"), .arg_types = {2, args}, .id = {id, 2}};
        cql_wr_t w;
        cql_wr_init(&w);
        cr_assert_eq(cql_msg_encode(&w, 4, &m), 0);
        cql_arena_t a;
        cql_arena_init(&a, 0);
        cql_msg_t d;
        cr_assert_eq(cql_msg_decode(4, CQL_OP_ERROR, 0, w.data, w.len, &a, &d), 0,
                     "%s", cql_error_code_name(codes[i]));
        const cql_msg_error_t *x = &d.u.error;
        int32_t want_code = cql_error_code_for_version(codes[i], 4);
        unsigned f = cql_error_code_fields(want_code);
        cr_assert_eq(x->code, want_code);
        cr_assert(cql_str_eq(x->message, "msg"));
        cr_assert_eq(x->consistency, (f & CQL_EF_CL) ? 5 : 0);
        cr_assert_eq(x->required, (f & CQL_EF_REQUIRED) ? 6 : 0);
        cr_assert_eq(x->alive, (f & CQL_EF_ALIVE) ? 7 : 0);
        cr_assert_eq(x->received, (f & CQL_EF_RECEIVED) ? 8 : 0);
        cr_assert_eq(x->blockfor, (f & CQL_EF_BLOCKFOR) ? 9 : 0);
        cr_assert_eq(x->num_failures, (f & CQL_EF_NUMFAILURES) ? 10 : 0);
        cr_assert_eq(x->data_present, (f & CQL_EF_DATA_PRESENT) != 0);
        cr_assert_eq(x->write_type.len, (f & CQL_EF_WRITE_TYPE) ? 9u : 0u);
        cr_assert_eq(x->keyspace.len, (f & CQL_EF_KEYSPACE) ? 2u : 0u);
        cr_assert_eq(x->name.len, (f & CQL_EF_NAME) ? 2u : 0u);
        cr_assert_eq(x->arg_types.n, (f & CQL_EF_ARG_TYPES) ? 2 : 0);
        cr_assert_eq(x->id.len, (f & CQL_EF_ID) ? 2 : 0);
        cql_arena_close(&a);
        cql_wr_close(&w);
    }
}

Test(cql_msg_resp, error_codes_and_names_map_both_ways)
{
    cr_assert_str_eq(cql_error_code_name(0x1000), "unavailable");
    cr_assert_str_eq(cql_error_code_name(0x1200), "read_timeout");
    cr_assert_str_eq(cql_error_code_name(0x2500), "unprepared");
    cr_assert_str_eq(cql_error_code_name(0x1700), "cas_write_unknown");
    cr_assert_null(cql_error_code_name(0x1234));
    cr_assert_eq(cql_error_code_from_name("write_timeout", 13), 0x1100);
    cr_assert_eq(cql_error_code_from_name("SYNTAX_ERROR", 12), 0x2000);
    cr_assert_eq(cql_error_code_from_name("nope", 4), CQLMQ_ENOTFOUND);
    cr_assert_eq(cql_error_code_fields(CQL_ERR_READ_FAILURE),
                 CQL_EF_CL | CQL_EF_RECEIVED | CQL_EF_BLOCKFOR | CQL_EF_NUMFAILURES |
                     CQL_EF_DATA_PRESENT);
    cr_assert_eq(cql_error_code_fields(CQL_ERR_SYNTAX_ERROR), 0);
}

Test(cql_msg_resp, consistency_levels_map_between_codes_and_names)
{
    cr_assert_str_eq(cql_consistency_name(CQL_CL_ANY), "ANY");
    cr_assert_str_eq(cql_consistency_name(0x0006), "LOCAL_QUORUM");
    cr_assert_str_eq(cql_consistency_name(0x000A), "LOCAL_ONE");
    cr_assert_null(cql_consistency_name(0x000B));
    cr_assert_null(cql_consistency_name(-1));
    cr_assert_eq(cql_consistency_from_name("local_serial", 12), CQL_CL_LOCAL_SERIAL);
    cr_assert_eq(cql_consistency_from_name("QUORUMX", 7), CQLMQ_ENOTFOUND);
    for (int c = 0; c <= 0x0A; c++) {
        const char *n = cql_consistency_name(c);
        cr_assert_eq(cql_consistency_from_name(n, strlen(n)), c);
    }
}

Test(cql_msg_resp, errors_a_version_lacks_are_sent_as_cassandra_converts_them)
{
    cr_assert_eq(cql_error_code_for_version(CQL_ERR_READ_FAILURE, 3), CQL_ERR_READ_TIMEOUT);
    cr_assert_eq(cql_error_code_for_version(CQL_ERR_READ_FAILURE, 4), CQL_ERR_READ_FAILURE);
    cr_assert_eq(cql_error_code_for_version(CQL_ERR_FUNCTION_FAILURE, 3), CQL_ERR_INVALID);
    cr_assert_eq(cql_error_code_for_version(CQL_ERR_CAS_WRITE_UNKNOWN, 4),
                 CQL_ERR_WRITE_TIMEOUT);
    cr_assert_eq(cql_error_code_for_version(0x7777, 3), 0x7777);
    /* CAS_WRITE_UNKNOWN on v4 becomes a write_timeout of type CAS. */
    cql_msg_t m = {.opcode = CQL_OP_ERROR,
                   .u.error = {.code = CQL_ERR_CAS_WRITE_UNKNOWN, .message = S("x"),
                               .consistency = CQL_CL_SERIAL, .received = 1, .blockfor = 2}};
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(cql_msg_encode(&w, 4, &m), 0);
    const uint8_t want[] = {0, 0, 0x11, 0, 0, 1, 'x', 0, 8, 0, 0, 0, 1, 0, 0, 0, 2,
                            0, 3, 'C', 'A', 'S'};
    cr_assert_eq(w.len, sizeof(want));
    cr_assert_arr_eq(w.data, want, sizeof(want));
    /* write_failure on v3 becomes write_timeout: num_failures dropped. */
    cql_wr_reset(&w);
    m.u.error = (cql_msg_error_t){.code = CQL_ERR_WRITE_FAILURE, .message = S("x"),
                                  .num_failures = 3, .write_type = S("CAS")};
    cr_assert_eq(cql_msg_encode(&w, 3, &m), 0);
    cr_assert_eq(w.len, sizeof(want));
    cr_assert_eq(cql_load_u32(w.data), CQL_ERR_WRITE_TIMEOUT);
    cql_wr_close(&w);
}

Test(cql_msg_resp, an_unknown_error_code_keeps_code_and_message_and_flags_the_rest)
{
    const uint8_t body[] = {0, 0, 0x77, 0x77, 0, 1, 'm', 1, 2, 3};
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_ERROR, 0, body, sizeof(body), &a, &m),
                 CQLMQ_ETRAILING);
    cr_assert_eq(m.u.error.code, 0x7777);
    cr_assert(cql_str_eq(m.u.error.message, "m"));
    cr_assert_eq(cql_msg_decode(4, CQL_OP_ERROR, 0, body, 7, &a, &m), 0);
    cql_arena_close(&a);
}

Test(cql_msg_resp, response_envelope_carries_tracing_id_warnings_and_payload_in_order)
{
    const uint8_t tid[16] = {0xf0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0x0f};
    cql_str_t warn = S("w!");
    cql_bytes_entry_t cp = {S("k"), {(const uint8_t *)"v", 1}};
    cql_msg_t m = {.opcode = CQL_OP_RESULT,
                   .flags = CQL_FLAG_TRACING | CQL_FLAG_WARNING | CQL_FLAG_CUSTOM_PAYLOAD,
                   .tracing_id = tid, .warnings = {1, &warn}, .custom_payload = {1, &cp},
                   .u.result = {.kind = CQL_RESULT_VOID}};
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(cql_frame_write(&w, 4, 1, &m), 0);
    uint8_t want[9 + 16 + 6 + 10 + 4] = {0x84, 0x0e, 0, 1, 8, 0, 0, 0, 36};
    memcpy(want + 9, tid, 16);
    memcpy(want + 25, "\0\1\0\2w!", 6);
    memcpy(want + 31, "\0\1\0\1k\0\0\0\1v", 10);
    memcpy(want + 41, "\0\0\0\1", 4);
    cr_assert_eq(w.len, sizeof(want));
    cr_assert_arr_eq(w.data, want, sizeof(want));
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t d;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_RESULT, 0x0e, w.data + 9, w.len - 9, &a, &d), 0);
    cr_assert_eq(memcmp(d.tracing_id, tid, 16), 0);
    cr_assert(cql_str_eq(d.warnings.items[0], "w!"));
    cr_assert(cql_str_eq(d.custom_payload.items[0].key, "k"));
    cr_assert_eq(d.u.result.kind, CQL_RESULT_VOID);
    /* v3: the tracing id is read, the warning flag does not exist. */
    uint8_t v3[20];
    memcpy(v3, tid, 16);
    memcpy(v3 + 16, "\0\0\0\1", 4);
    cr_assert_eq(cql_msg_decode(3, CQL_OP_RESULT, 0x0a, v3, 20, &a, &d), 0);
    cr_assert_eq(d.flags, CQL_FLAG_TRACING);
    cr_assert_eq(d.tracing_id, v3);
    cql_wr_reset(&w);
    cr_assert_eq(cql_msg_encode(&w, 3, &m), CQLMQ_EUNSUPPORTED);
    m.flags = CQL_FLAG_TRACING;
    m.tracing_id = NULL;
    cr_assert_eq(cql_msg_encode(&w, 4, &m), CQLMQ_EINVAL);
    cql_arena_close(&a);
    cql_wr_close(&w);
}

Test(cql_msg_resp, status_and_topology_events_carry_an_inet)
{
    const uint8_t body[] = {0, 15, 'T', 'O', 'P', 'O', 'L', 'O', 'G', 'Y', '_', 'C', 'H', 'A',
                            'N', 'G', 'E', 0, 8, 'N', 'E', 'W', '_', 'N', 'O', 'D', 'E',
                            4, 10, 0, 0, 3, 0, 0, 0x23, 0x52};
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_EVENT, 0, body, sizeof(body), &a, &m), 0);
    cr_assert_eq(m.u.event.type, CQL_EVENT_TOPOLOGY_CHANGE);
    cr_assert_eq(m.u.event.change, CQL_TOPOLOGY_NEW_NODE);
    cr_assert_eq(m.u.event.addr.size, 4);
    cr_assert_eq(m.u.event.addr.addr[3], 3);
    cr_assert_eq(m.u.event.addr.port, 9042);
    uint8_t bad[sizeof(body)];
    memcpy(bad, body, sizeof(bad));
    bad[19] = 'X'; /* XEW_NODE */
    cr_assert_eq(cql_msg_decode(4, CQL_OP_EVENT, 0, bad, sizeof(bad), &a, &m), CQLMQ_EMALFORMED);
    memcpy(bad, body, sizeof(bad));
    bad[27] = 5; /* inet of 5 bytes */
    cr_assert_eq(cql_msg_decode(4, CQL_OP_EVENT, 0, bad, sizeof(bad), &a, &m), CQLMQ_EMALFORMED);
    cql_arena_close(&a);
}

Test(cql_msg_resp, function_schema_changes_carry_arg_types_and_fall_back_in_v3)
{
    cql_str_t args[2] = {S("int"), S("frozen<list<text>>")};
    cql_msg_t m = {.opcode = CQL_OP_EVENT};
    m.u.event.type = CQL_EVENT_SCHEMA_CHANGE;
    m.u.event.schema = (cql_schema_change_t){.change = CQL_SCHEMA_DROPPED,
                                             .target = CQL_TARGET_FUNCTION, .keyspace = S("ks"),
                                             .name = S("f"), .arg_types = {2, args}};
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(cql_msg_encode(&w, 4, &m), 0);
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t d;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_EVENT, 0, w.data, w.len, &a, &d), 0);
    const cql_schema_change_t *s = &d.u.event.schema;
    cr_assert_eq(s->change, CQL_SCHEMA_DROPPED);
    cr_assert_eq(s->target, CQL_TARGET_FUNCTION);
    cr_assert(cql_str_eq(s->name, "f"));
    cr_assert(cql_str_eq(s->arg_types.items[1], "frozen<list<text>>"));
    cql_wr_reset(&w);
    cr_assert_eq(cql_msg_encode(&w, 3, &m), 0);
    cr_assert_eq(cql_msg_decode(3, CQL_OP_EVENT, 0, w.data, w.len, &a, &d), 0);
    cr_assert_eq(s->change, CQL_SCHEMA_UPDATED);
    cr_assert_eq(s->target, CQL_TARGET_KEYSPACE);
    cr_assert(cql_str_eq(s->keyspace, "ks"));
    cql_arena_close(&a);
    cql_wr_close(&w);
}

Test(cql_msg_resp, supported_and_authenticate_decode_their_bodies)
{
    const uint8_t sup[] = {0, 1, 0, 11, 'C', 'Q', 'L', '_', 'V', 'E', 'R', 'S', 'I', 'O', 'N',
                           0, 2, 0, 5, '3', '.', '4', '.', '5', 0, 0};
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    cr_assert_eq(cql_msg_decode(4, CQL_OP_SUPPORTED, 0, sup, sizeof(sup), &a, &m), 0);
    cr_assert_eq(m.u.supported.n, 1);
    cr_assert_eq(m.u.supported.items[0].values.n, 2);
    cr_assert(cql_str_eq(m.u.supported.items[0].values.items[0], "3.4.5"));
    cr_assert_eq(m.u.supported.items[0].values.items[1].len, 0);
    const uint8_t auth[] = {0, 1, 'A'};
    cr_assert_eq(cql_msg_decode(4, CQL_OP_AUTHENTICATE, 0, auth, 3, &a, &m), 0);
    cr_assert(cql_str_eq(m.u.authenticator, "A"));
    cql_arena_close(&a);
}

Test(cql_msg_resp, enum_names_come_from_their_tables)
{
    cr_assert_str_eq(cql_event_type_name(CQL_EVENT_SCHEMA_CHANGE), "SCHEMA_CHANGE");
    cr_assert_str_eq(cql_topology_change_name(CQL_TOPOLOGY_MOVED_NODE), "MOVED_NODE");
    cr_assert_str_eq(cql_status_change_name(CQL_STATUS_UP), "UP");
    cr_assert_str_eq(cql_schema_change_name(CQL_SCHEMA_CREATED), "CREATED");
    cr_assert_str_eq(cql_schema_target_name(CQL_TARGET_AGGREGATE), "AGGREGATE");
    cr_assert_null(cql_schema_target_name(CQL_TARGET_COUNT_));
    cr_assert_null(cql_event_type_name(-1));
    cr_assert_eq(cql_name_index(cql_schema_target_name, CQL_TARGET_COUNT_, S("TYPE")),
                 CQL_TARGET_TYPE);
    cr_assert_eq(cql_name_index(cql_schema_target_name, CQL_TARGET_COUNT_, S("TYP")), -1);
}
