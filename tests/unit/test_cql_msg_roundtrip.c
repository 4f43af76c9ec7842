/*
 * Every opcode of CQL_OPCODE_MAP, v3 and v4: a sample message per opcode is
 * encoded, decoded and encoded again (byte-identical); each encoding is then
 * truncated at every length, extended by a byte, and decoded with a tiny
 * arena, and must fail cleanly.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cql_msg.h"
#include "cql_result.h"

#define S(lit) ((cql_str_t){(lit), sizeof(lit) - 1})
#define B(lit) ((cql_bytes_t){(const uint8_t *)(lit), (int32_t)(sizeof(lit) - 1)})

static const uint8_t trace_id[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static cql_str_t strs3[3] = {{"int", 3}, {"text", 4}, {"list<int>", 9}};
static cql_bytes_t vals3[3] = {{(const uint8_t *)"\0\0\0\1", 4}, {NULL, CQL_BYTES_NULL},
                               {(const uint8_t *)"", 0}};
static cql_str_t names3[3] = {{"a", 1}, {"bb", 2}, {"ccc", 3}};

static void sample_meta(cql_arena_t *a, cql_meta_t *m, bool global, int ncols)
{
    memset(m, 0, sizeof(*m));
    m->flags = global ? CQL_MF_GLOBAL_TABLES_SPEC : 0;
    m->ncols = ncols;
    m->keyspace = S("ks");
    m->table = S("tbl");
    m->cols = cql_arena_calloc(a, (size_t)ncols, sizeof(*m->cols));
    static const cql_type_kind_t kinds[] = {CQL_TYPE_INT, CQL_TYPE_VARCHAR, CQL_TYPE_UUID};
    for (int i = 0; i < ncols; i++) {
        m->cols[i].keyspace = m->keyspace;
        m->cols[i].table = m->table;
        m->cols[i].name = names3[i % 3];
        m->cols[i].type = cql_type_new(a, kinds[i % 3]);
        cr_assert_not_null(m->cols[i].type);
    }
}

/* A rich sample of each opcode (variant picks alternatives). */
static void sample(int opcode, int variant, int version, cql_arena_t *a, cql_msg_t *m)
{
    memset(m, 0, sizeof(*m));
    m->opcode = (uint8_t)opcode;
    bool resp = cql_opcode_direction(opcode) == CQL_DIR_RESPONSE;
    if (variant == 1) {
        m->flags = CQL_FLAG_TRACING;
        m->tracing_id = resp ? trace_id : NULL;
        if (version >= 4) {
            m->flags |= CQL_FLAG_CUSTOM_PAYLOAD | (resp ? CQL_FLAG_WARNING : 0);
            m->warnings = (cql_string_list_t){2, strs3};
            static cql_bytes_entry_t cp[2] = {{{"k1", 2}, {(const uint8_t *)"xy", 2}},
                                              {{"k2", 2}, {NULL, CQL_BYTES_NULL}}};
            m->custom_payload = (cql_bytes_map_t){2, cp};
        }
    }
    switch (opcode) {
    case CQL_OP_STARTUP: {
        static cql_string_pair_t kv[2] = {{{"CQL_VERSION", 11}, {"3.0.0", 5}},
                                          {{"DRIVER_NAME", 11}, {"cqlmq", 5}}};
        m->u.startup = (cql_string_map_t){2, kv};
        break;
    }
    case CQL_OP_QUERY:
    case CQL_OP_EXECUTE: {
        cql_query_params_t *p = opcode == CQL_OP_QUERY ? &m->u.query.params
                                                       : &m->u.execute.params;
        if (opcode == CQL_OP_QUERY)
            m->u.query.query = S("SELECT * FROM ks.tbl WHERE a = ?");
        else
            m->u.execute.id = B("\x01\x02\x03\x04");
        p->consistency = CQL_CL_LOCAL_QUORUM;
        p->flags = CQL_QF_VALUES | CQL_QF_PAGE_SIZE | CQL_QF_PAGING_STATE |
                   CQL_QF_SERIAL_CONSISTENCY | CQL_QF_DEFAULT_TIMESTAMP |
                   (variant ? CQL_QF_NAMES | CQL_QF_SKIP_METADATA : 0);
        p->nvalues = 3;
        p->values = vals3;
        p->names = variant ? names3 : NULL;
        p->page_size = 5000;
        p->paging_state = B("\xde\xad");
        p->serial_consistency = CQL_CL_LOCAL_SERIAL;
        p->timestamp = 1700000000000000LL;
        break;
    }
    case CQL_OP_PREPARE:
        m->u.prepare = S("INSERT INTO t (a, b) VALUES (?, ?)");
        break;
    case CQL_OP_BATCH: {
        cql_batch_stmt_t *st = cql_arena_calloc(a, 2, sizeof(*st));
        st[0] = (cql_batch_stmt_t){.kind = CQL_BATCH_KIND_QUERY, .query = S("INSERT 1"),
                                   .nvalues = 3, .values = vals3};
        st[1] = (cql_batch_stmt_t){.kind = CQL_BATCH_KIND_PREPARED, .id = B("\x09\x08")};
        m->u.batch = (cql_msg_batch_t){.type = CQL_BATCH_UNLOGGED, .nstmts = 2, .stmts = st,
                                       .consistency = CQL_CL_QUORUM,
                                       .flags = variant ? CQL_QF_SERIAL_CONSISTENCY |
                                                              CQL_QF_DEFAULT_TIMESTAMP
                                                        : 0,
                                       .serial_consistency = CQL_CL_SERIAL,
                                       .timestamp = 42};
        break;
    }
    case CQL_OP_REGISTER:
        m->u.register_events = (cql_string_list_t){3, strs3};
        break;
    case CQL_OP_AUTH_RESPONSE:
    case CQL_OP_AUTH_CHALLENGE:
    case CQL_OP_AUTH_SUCCESS:
        m->u.token = variant ? (cql_bytes_t){NULL, CQL_BYTES_NULL} : B("\0user\0pass");
        break;
    case CQL_OP_ERROR:
        m->u.error = (cql_msg_error_t){.code = variant ? CQL_ERR_WRITE_TIMEOUT
                                                       : CQL_ERR_ALREADY_EXISTS,
                                       .message = S("boom"), .consistency = CQL_CL_ONE,
                                       .received = 1, .blockfor = 2, .write_type = S("SIMPLE"),
                                       .keyspace = S("ks"), .name = S("tbl")};
        break;
    case CQL_OP_AUTHENTICATE:
        m->u.authenticator = S("org.apache.cassandra.auth.PasswordAuthenticator");
        break;
    case CQL_OP_SUPPORTED: {
        cql_multimap_entry_t *e = cql_arena_calloc(a, 2, sizeof(*e));
        e[0] = (cql_multimap_entry_t){S("CQL_VERSION"), {1, strs3}};
        e[1] = (cql_multimap_entry_t){S("COMPRESSION"), {0, NULL}};
        m->u.supported = (cql_string_multimap_t){2, e};
        break;
    }
    case CQL_OP_RESULT: {
        cql_result_t *r = &m->u.result;
        if (variant == 0) {
            r->kind = CQL_RESULT_PREPARED;
            r->u.prepared.id = B("\xca\xfe");
            sample_meta(a, &r->u.prepared.bind, true, 2);
            if (version >= 4) {
                static uint16_t pk[1] = {1};
                r->u.prepared.bind.npk = 1;
                r->u.prepared.bind.pk_indices = pk;
            }
            sample_meta(a, &r->u.prepared.result, false, 3);
        } else {
            r->kind = CQL_RESULT_ROWS;
            sample_meta(a, &r->u.rows.meta, true, 2);
            r->u.rows.meta.flags |= CQL_MF_HAS_MORE_PAGES;
            r->u.rows.meta.paging_state = B("\x01\x02\x03");
            static const uint8_t content[] = {0, 0, 0, 4, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff,
                                              0, 0, 0, 0, 0, 0, 0, 2, 'h', 'i'};
            r->u.rows.nrows = 2;
            r->u.rows.content = content;
            r->u.rows.content_len = sizeof(content);
        }
        break;
    }
    case CQL_OP_EVENT:
        if (variant == 0) {
            m->u.event.type = CQL_EVENT_STATUS_CHANGE;
            m->u.event.change = CQL_STATUS_DOWN;
            m->u.event.addr = (cql_inet_t){.size = 4, .addr = {127, 0, 0, 2}, .port = 9042};
        } else {
            m->u.event.type = CQL_EVENT_SCHEMA_CHANGE;
            m->u.event.schema = (cql_schema_change_t){.change = CQL_SCHEMA_CREATED,
                                                      .target = CQL_TARGET_TABLE,
                                                      .keyspace = S("ks"), .name = S("t")};
        }
        break;
    default: /* OPTIONS, READY: no body */
        break;
    }
}

static const int all_opcodes[] = {
#define OP_ROW_(name, code, lname, dir) code,
    CQL_OPCODE_MAP(OP_ROW_)
#undef OP_ROW_
};
#define NOPS (sizeof(all_opcodes) / sizeof(all_opcodes[0]))

/* Encodes the sample; the caller frees the result. */
static uint8_t *encode_sample(int op, int variant, int version, size_t *len)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    sample(op, variant, version, &a, &m);
    cql_wr_t w;
    cql_wr_init(&w);
    int rc = cql_msg_encode(&w, version, &m);
    cr_assert_eq(rc, 0, "%s v%d variant %d: %s", cql_opcode_name(op), version, variant,
                 cqlmq_err_name(rc));
    cql_arena_close(&a);
    return cql_wr_release(&w, len);
}

Test(cql_msg_roundtrip, every_opcode_round_trips_byte_for_byte_in_v3_and_v4)
{
    for (int version = 3; version <= 4; version++)
        for (size_t i = 0; i < NOPS; i++)
            for (int variant = 0; variant < 2; variant++) {
                int op = all_opcodes[i];
                size_t len;
                uint8_t *body = encode_sample(op, variant, version, &len);
                uint8_t flags = variant ? CQL_FLAG_TRACING : 0;
                if (variant && version >= 4)
                    flags |= CQL_FLAG_CUSTOM_PAYLOAD | CQL_FLAG_WARNING;
                cql_arena_t a;
                cql_arena_init(&a, 0);
                cql_msg_t m;
                int rc = cql_msg_decode(version, (uint8_t)op, flags, body, len, &a, &m);
                cr_assert_eq(rc, 0, "%s v%d: %s", cql_opcode_name(op), version,
                             cqlmq_err_name(rc));
                cr_assert_eq(m.opcode, op);
                cql_wr_t w;
                cql_wr_init(&w);
                cr_assert_eq(cql_msg_encode(&w, version, &m), 0);
                cr_assert_eq(w.len, len, "%s v%d", cql_opcode_name(op), version);
                cr_assert(len == 0 || memcmp(w.data, body, len) == 0, "%s v%d",
                          cql_opcode_name(op), version);
                cql_wr_close(&w);
                cql_arena_close(&a);
                free(body);
            }
}

/* Decodes body (and walks rows); returns the first error or 0. */
static int decode_all(int version, int op, uint8_t flags, const uint8_t *body, size_t len,
                      cql_arena_t *a)
{
    cql_msg_t m;
    int rc = cql_msg_decode(version, (uint8_t)op, flags, body, len, a, &m);
    if (rc == 0 && op == CQL_OP_RESULT && m.u.result.kind == CQL_RESULT_ROWS)
        rc = cql_rows_validate(&m.u.result.u.rows);
    return rc;
}

Test(cql_msg_roundtrip, every_truncation_of_every_sample_is_an_error)
{
    for (int version = 3; version <= 4; version++)
        for (size_t i = 0; i < NOPS; i++)
            for (int variant = 0; variant < 2; variant++) {
                int op = all_opcodes[i];
                size_t len;
                uint8_t *body = encode_sample(op, variant, version, &len);
                uint8_t flags = variant ? CQL_FLAG_TRACING : 0;
                if (variant && version >= 4)
                    flags |= CQL_FLAG_CUSTOM_PAYLOAD | CQL_FLAG_WARNING;
                for (size_t n = 0; n < len; n++) {
                    /* A private copy of the prefix, so ASan sees any overread. */
                    uint8_t *copy = malloc(n ? n : 1);
                    memcpy(copy, body, n);
                    cql_arena_t a;
                    cql_arena_init(&a, 0);
                    int rc = decode_all(version, op, flags, copy, n, &a);
                    cr_assert(rc == CQLMQ_ETRUNCATED || rc == CQLMQ_EMALFORMED,
                              "%s v%d cut at %zu/%zu: %s", cql_opcode_name(op), version, n, len,
                              cqlmq_err_name(rc));
                    cql_arena_close(&a);
                    free(copy);
                }
                free(body);
            }
}

Test(cql_msg_roundtrip, a_byte_after_any_message_is_trailing_but_the_message_is_kept)
{
    for (size_t i = 0; i < NOPS; i++) {
        int op = all_opcodes[i];
        size_t len;
        uint8_t *body = encode_sample(op, 0, 4, &len);
        uint8_t *more = malloc(len + 1);
        if (len)
            memcpy(more, body, len);
        more[len] = 0x5a;
        cql_arena_t a;
        cql_arena_init(&a, 0);
        cql_msg_t m;
        int rc = cql_msg_decode(4, (uint8_t)op, 0, more, len + 1, &a, &m);
        if (op == CQL_OP_RESULT && m.u.result.kind == CQL_RESULT_ROWS)
            rc = cql_rows_validate(&m.u.result.u.rows);
        cr_assert_eq(rc, CQLMQ_ETRAILING, "%s: %s", cql_opcode_name(op), cqlmq_err_name(rc));
        cql_wr_t w;
        cql_wr_init(&w);
        cr_assert_eq(cql_msg_encode(&w, 4, &m), 0);
        cr_assert_eq(w.len, len);
        cr_assert(len == 0 || memcmp(w.data, body, len) == 0);
        cql_wr_close(&w);
        cql_arena_close(&a);
        free(more);
        free(body);
    }
}

Test(cql_msg_roundtrip, a_tiny_arena_makes_decoding_fail_with_enomem_not_crash)
{
    for (size_t i = 0; i < NOPS; i++)
        for (int variant = 0; variant < 2; variant++) {
            int op = all_opcodes[i];
            size_t len;
            uint8_t *body = encode_sample(op, variant, 4, &len);
            uint8_t flags = variant ? CQL_FLAG_TRACING | CQL_FLAG_CUSTOM_PAYLOAD |
                                          CQL_FLAG_WARNING
                                    : 0;
            bool saw_enomem = false;
            for (size_t limit = 1; limit < 2048; limit += 16) {
                cql_arena_t a;
                cql_arena_init(&a, limit);
                int rc = decode_all(4, op, flags, body, len, &a);
                cr_assert(rc == 0 || rc == CQLMQ_ENOMEM, "%s limit %zu: %s", cql_opcode_name(op),
                          limit, cqlmq_err_name(rc));
                saw_enomem |= rc == CQLMQ_ENOMEM;
                cql_arena_close(&a);
            }
            cql_arena_t a;
            cql_arena_init(&a, 1);
            bool allocates = decode_all(4, op, flags, body, len, &a) == CQLMQ_ENOMEM;
            cr_assert_eq(saw_enomem, allocates);
            cql_arena_close(&a);
            free(body);
        }
}

Test(cql_msg_roundtrip, a_whole_frame_goes_through_writer_decoder_and_back)
{
    cql_wr_t w;
    cql_wr_init(&w);
    for (size_t i = 0; i < NOPS; i++) {
        cql_arena_t a;
        cql_arena_init(&a, 0);
        cql_msg_t m;
        sample(all_opcodes[i], 1, 4, &a, &m);
        cr_assert_eq(cql_frame_write(&w, 4, (int16_t)i, &m), 0);
        cql_arena_close(&a);
    }
    cql_frame_decoder_t d;
    cql_frame_decoder_init(&d, 0);
    cql_frame_decoder_feed(&d, w.data, w.len);
    cql_frame_t f;
    for (size_t i = 0; i < NOPS; i++) {
        cr_assert_eq(cql_frame_decoder_next(&d, &f), 0);
        cr_assert_eq(f.h.stream, (int16_t)i);
        cr_assert_eq(f.h.response, cql_opcode_direction(all_opcodes[i]) == CQL_DIR_RESPONSE);
        cql_arena_t a;
        cql_arena_init(&a, 0);
        cql_msg_t m;
        cr_assert_eq(cql_msg_decode_frame(&f, &a, &m), 0, "%s", cql_opcode_name(all_opcodes[i]));
        cr_assert_eq(m.opcode, all_opcodes[i]);
        cql_arena_close(&a);
    }
    cr_assert_eq(cql_frame_decoder_next(&d, &f), CQLMQ_EAGAIN);
    cql_frame_decoder_close(&d);
    cql_wr_close(&w);
}

Test(cql_msg_roundtrip, bad_versions_opcodes_and_compression_are_refused)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_msg_t m;
    cr_assert_eq(cql_msg_decode(2, CQL_OP_READY, 0, NULL, 0, &a, &m), CQLMQ_EBADVERSION);
    cr_assert_eq(cql_msg_decode(5, CQL_OP_READY, 0, NULL, 0, &a, &m), CQLMQ_EBADVERSION);
    cr_assert_eq(cql_msg_decode(4, 0x04, 0, NULL, 0, &a, &m), CQLMQ_EBADOPCODE);
    cr_assert_eq(cql_msg_decode(4, 0x11, 0, NULL, 0, &a, &m), CQLMQ_EBADOPCODE);
    cr_assert_eq(cql_msg_decode(4, CQL_OP_READY, CQL_FLAG_COMPRESSION, NULL, 0, &a, &m),
                 CQLMQ_EUNSUPPORTED);
    cr_assert_eq(cql_msg_decode(4, CQL_OP_READY, CQL_FLAG_BETA, NULL, 0, &a, &m), 0);
    cql_wr_t w;
    cql_wr_init(&w);
    memset(&m, 0, sizeof(m));
    m.opcode = 0x04;
    cr_assert_eq(cql_msg_encode(&w, 4, &m), CQLMQ_EBADOPCODE);
    m.opcode = CQL_OP_READY;
    cr_assert_eq(cql_frame_write(&w, 1, 0, &m), CQLMQ_EBADVERSION);
    m.flags = CQL_FLAG_COMPRESSION;
    cr_assert_eq(cql_frame_write(&w, 4, 0, &m), CQLMQ_EUNSUPPORTED);
    cr_assert_eq(w.len, 0, "nothing left behind");
    cql_wr_close(&w);
    cql_arena_close(&a);
}
