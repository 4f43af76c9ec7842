/*
 * test_cql_samples: one rich sample message per case of every opcode (four
 * ERROR layouts, every RESULT kind, every EVENT kind, batches, queries with
 * names), with column types that make the metadata decoder build real type
 * trees. Shared by the codec's round-trip and failing-allocation tests, so
 * both cover the same messages.
 */
#ifndef TEST_CQL_SAMPLES_H
#define TEST_CQL_SAMPLES_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <string.h>

#include "cql_msg.h"
#include "cql_result.h"
#include "cql_type.h"

#define S(lit) ((cql_str_t){(lit), sizeof(lit) - 1})
#define B(lit) ((cql_bytes_t){(const uint8_t *)(lit), (int32_t)(sizeof(lit) - 1)})

static const uint8_t trace_id[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static cql_str_t strs3[3] = {{"int", 3}, {"text", 4}, {"list<int>", 9}};
static cql_bytes_t vals3[3] = {{(const uint8_t *)"\0\0\0\1", 4}, {NULL, CQL_BYTES_NULL},
                               {(const uint8_t *)"", 0}};
static cql_str_t names3[3] = {{"a", 1}, {"bb", 2}, {"ccc", 3}};

/* Column types that make the metadata decoder build real trees. */
static const char *const col_types[] = {
    "int",
    "map<text, frozen<list<frozen<tuple<int, varint, decimal>>>>>",
    "org.apache.cassandra.db.marshal.UserType(ks,61646472,"
    "737472656574:org.apache.cassandra.db.marshal.UTF8Type,"
    "6c6f63:org.apache.cassandra.db.marshal.SetType("
    "org.apache.cassandra.db.marshal.DoubleType))",
    "'org.example.Custom'",
    "duration",
};
#define NCOLTYPES (sizeof(col_types) / sizeof(col_types[0]))

static void sample_meta(cql_arena_t *a, cql_meta_t *m, bool global, int ncols)
{
    memset(m, 0, sizeof(*m));
    m->flags = global ? CQL_MF_GLOBAL_TABLES_SPEC : 0;
    m->ncols = ncols;
    m->keyspace = S("ks");
    m->table = S("tbl");
    m->cols = cql_arena_calloc(a, (size_t)ncols, sizeof(*m->cols));
    for (int i = 0; i < ncols; i++) {
        const char *ts = col_types[i % NCOLTYPES];
        m->cols[i].keyspace = global ? m->keyspace : S("other_ks");
        m->cols[i].table = global ? m->table : S("other_tbl");
        m->cols[i].name = names3[i % 3];
        cr_assert_eq(cql_type_parse(ts, strlen(ts), a, NULL, NULL, NULL, &m->cols[i].type), 0);
    }
}

/* Cases: one or more per opcode (variant picks alternatives); every case
 * also runs with the v4 envelope (tracing, warnings, custom payload). */
typedef struct msg_case {
    int opcode;  /* the message */
    int variant; /* which sample of it */
} msg_case_t;

static const msg_case_t cql_sample_cases[] = {
    {CQL_OP_ERROR, 0},  {CQL_OP_ERROR, 1},  {CQL_OP_ERROR, 2},   {CQL_OP_ERROR, 3},
    {CQL_OP_STARTUP, 0}, {CQL_OP_READY, 0}, {CQL_OP_AUTHENTICATE, 0}, {CQL_OP_OPTIONS, 0},
    {CQL_OP_SUPPORTED, 0}, {CQL_OP_QUERY, 0}, {CQL_OP_QUERY, 1}, {CQL_OP_RESULT, 0},
    {CQL_OP_RESULT, 1}, {CQL_OP_RESULT, 2}, {CQL_OP_RESULT, 3}, {CQL_OP_RESULT, 4},
    {CQL_OP_PREPARE, 0}, {CQL_OP_EXECUTE, 0}, {CQL_OP_EXECUTE, 1}, {CQL_OP_REGISTER, 0},
    {CQL_OP_EVENT, 0},  {CQL_OP_EVENT, 1},  {CQL_OP_EVENT, 2},   {CQL_OP_BATCH, 0},
    {CQL_OP_BATCH, 1},  {CQL_OP_AUTH_CHALLENGE, 0}, {CQL_OP_AUTH_RESPONSE, 0},
    {CQL_OP_AUTH_SUCCESS, 0},
};
#define CQL_NSAMPLES (sizeof(cql_sample_cases) / sizeof(cql_sample_cases[0]))

static const uint8_t rows_content[] = {0, 0, 0, 4, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff,
                                       0, 0, 0, 0, 0, 0, 0, 2, 'h', 'i'};

/* The sample of case c for a protocol version, with the envelope or not:
 * v4 gets tracing, warnings (responses) and a custom payload, v3 tracing
 * only. Arrays come from a; the message borrows static data. */
static void cql_sample_msg(const msg_case_t *c, bool envelope, int version, cql_arena_t *a,
                           cql_msg_t *m)
{
    memset(m, 0, sizeof(*m));
    m->opcode = (uint8_t)c->opcode;
    int v = c->variant;
    bool resp = cql_opcode_direction(c->opcode) == CQL_DIR_RESPONSE;
    if (envelope) {
        m->flags = CQL_FLAG_TRACING;
        m->tracing_id = resp ? trace_id : NULL;
    }
    if (envelope && version >= 4) {
        static cql_bytes_entry_t cp[2] = {{{"k1", 2}, {(const uint8_t *)"xy", 2}},
                                          {{"k2", 2}, {NULL, CQL_BYTES_NULL}}};
        m->flags |= CQL_FLAG_CUSTOM_PAYLOAD | (resp ? CQL_FLAG_WARNING : 0);
        m->warnings = (cql_string_list_t){2, strs3};
        m->custom_payload = (cql_bytes_map_t){2, cp};
    }
    switch (c->opcode) {
    case CQL_OP_STARTUP: {
        static cql_string_pair_t kv[2] = {{{"CQL_VERSION", 11}, {"3.0.0", 5}},
                                          {{"DRIVER_NAME", 11}, {"cqlmq", 5}}};
        m->u.startup = (cql_string_map_t){2, kv};
        break;
    }
    case CQL_OP_QUERY:
    case CQL_OP_EXECUTE: {
        bool q = c->opcode == CQL_OP_QUERY;
        cql_query_params_t *p = q ? &m->u.query.params : &m->u.execute.params;
        if (q)
            m->u.query.query = S("SELECT * FROM ks.tbl WHERE a = ?");
        else
            m->u.execute.id = B("\x01\x02\x03\x04");
        p->consistency = CQL_CL_LOCAL_QUORUM;
        p->flags = CQL_QF_VALUES | CQL_QF_PAGE_SIZE | CQL_QF_PAGING_STATE |
                   CQL_QF_SERIAL_CONSISTENCY | CQL_QF_DEFAULT_TIMESTAMP |
                   (v ? CQL_QF_NAMES | CQL_QF_SKIP_METADATA : 0);
        p->nvalues = 3;
        p->values = vals3;
        p->names = v ? names3 : NULL;
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
        cql_batch_stmt_t *st = cql_arena_calloc(a, 3, sizeof(*st));
        st[0] = (cql_batch_stmt_t){.kind = CQL_BATCH_KIND_QUERY, .query = S("INSERT 1"),
                                   .nvalues = 3, .values = vals3};
        st[1] = (cql_batch_stmt_t){.kind = CQL_BATCH_KIND_PREPARED, .id = B("\x09\x08")};
        st[2] = (cql_batch_stmt_t){.kind = CQL_BATCH_KIND_PREPARED, .id = B("\x07"),
                                   .nvalues = 2, .values = vals3 + 1};
        m->u.batch = (cql_msg_batch_t){
            .type = CQL_BATCH_UNLOGGED, .nstmts = 3, .stmts = st, .consistency = CQL_CL_QUORUM,
            .flags = v ? CQL_QF_SERIAL_CONSISTENCY | CQL_QF_DEFAULT_TIMESTAMP : 0,
            .serial_consistency = CQL_CL_SERIAL, .timestamp = 42};
        break;
    }
    case CQL_OP_REGISTER:
        m->u.register_events = (cql_string_list_t){3, strs3};
        break;
    case CQL_OP_AUTH_RESPONSE:
    case CQL_OP_AUTH_CHALLENGE:
    case CQL_OP_AUTH_SUCCESS:
        m->u.token = B("\0user\0pass");
        break;
    case CQL_OP_ERROR: {
        static const int32_t codes[] = {CQL_ERR_UNAVAILABLE, CQL_ERR_READ_FAILURE,
                                        CQL_ERR_FUNCTION_FAILURE, CQL_ERR_UNPREPARED};
        m->u.error = (cql_msg_error_t){
            .code = codes[v], .message = S("boom"), .consistency = CQL_CL_ONE, .required = 3,
            .alive = 1, .received = 1, .blockfor = 2, .num_failures = 1, .data_present = true,
            .write_type = S("SIMPLE"), .keyspace = S("ks"), .name = S("fn"),
            .arg_types = {3, strs3}, .id = B("\xca\xfe")};
        break;
    }
    case CQL_OP_AUTHENTICATE:
        m->u.authenticator = S("org.apache.cassandra.auth.PasswordAuthenticator");
        break;
    case CQL_OP_SUPPORTED: {
        cql_multimap_entry_t *e = cql_arena_calloc(a, 3, sizeof(*e));
        e[0] = (cql_multimap_entry_t){S("CQL_VERSION"), {1, strs3}};
        e[1] = (cql_multimap_entry_t){S("COMPRESSION"), {0, NULL}};
        e[2] = (cql_multimap_entry_t){S("PROTOCOL_VERSIONS"), {3, strs3}};
        m->u.supported = (cql_string_multimap_t){3, e};
        break;
    }
    case CQL_OP_RESULT: {
        cql_result_t *r = &m->u.result;
        static const int32_t kinds[] = {CQL_RESULT_PREPARED, CQL_RESULT_ROWS, CQL_RESULT_VOID,
                                        CQL_RESULT_SET_KEYSPACE, CQL_RESULT_SCHEMA_CHANGE};
        r->kind = kinds[v];
        if (r->kind == CQL_RESULT_PREPARED) {
            r->u.prepared.id = B("\xca\xfe");
            sample_meta(a, &r->u.prepared.bind, true, 4);
            if (version >= 4) {
                static uint16_t pk[2] = {1, 3};
                r->u.prepared.bind.npk = 2;
                r->u.prepared.bind.pk_indices = pk;
            }
            sample_meta(a, &r->u.prepared.result, false, 5);
        } else if (r->kind == CQL_RESULT_ROWS) {
            sample_meta(a, &r->u.rows.meta, true, 2);
            r->u.rows.meta.flags |= CQL_MF_HAS_MORE_PAGES;
            r->u.rows.meta.paging_state = B("\x01\x02\x03");
            r->u.rows.nrows = 2;
            r->u.rows.content = rows_content;
            r->u.rows.content_len = sizeof(rows_content);
        } else if (r->kind == CQL_RESULT_SET_KEYSPACE) {
            r->u.keyspace = S("ks");
        } else if (r->kind == CQL_RESULT_SCHEMA_CHANGE) {
            r->u.schema_change = (cql_schema_change_t){
                .change = CQL_SCHEMA_CREATED, .target = CQL_TARGET_FUNCTION,
                .keyspace = S("ks"), .name = S("f"), .arg_types = {2, strs3}};
        }
        break;
    }
    case CQL_OP_EVENT:
        if (v == 0) {
            m->u.event.type = CQL_EVENT_STATUS_CHANGE;
            m->u.event.change = CQL_STATUS_DOWN;
            m->u.event.addr = (cql_inet_t){.size = 4, .addr = {127, 0, 0, 2}, .port = 9042};
        } else if (v == 1) {
            m->u.event.type = CQL_EVENT_TOPOLOGY_CHANGE;
            m->u.event.change = CQL_TOPOLOGY_NEW_NODE;
            m->u.event.addr = (cql_inet_t){.size = 16, .addr = {0xfe, 0x80}, .port = 9042};
        } else {
            m->u.event.type = CQL_EVENT_SCHEMA_CHANGE;
            m->u.event.schema = (cql_schema_change_t){
                .change = CQL_SCHEMA_UPDATED, .target = CQL_TARGET_AGGREGATE,
                .keyspace = S("ks"), .name = S("agg"), .arg_types = {3, strs3}};
        }
        break;
    default: /* OPTIONS, READY: no body */
        break;
    }
}

#endif /* TEST_CQL_SAMPLES_H */
