/*
 * Allocation-failure tests of the message codec, v3 and v4: decoding every
 * message type into an arena whose every allocation is a separate call of a
 * failing allocator, encoding every message type as a whole frame into a
 * writer whose growth fails at every write site, and the rows builder of the
 * server's hot path. Harness: test_cql_failmalloc.h.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cql_msg.h"
#include "cql_result.h"
#include "cql_value.h"
#include "test_cql_failmalloc.h"

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
    int opcode;
    int variant;
} msg_case_t;

static const msg_case_t cases[] = {
    {CQL_OP_ERROR, 0},  {CQL_OP_ERROR, 1},  {CQL_OP_ERROR, 2},   {CQL_OP_ERROR, 3},
    {CQL_OP_STARTUP, 0}, {CQL_OP_READY, 0}, {CQL_OP_AUTHENTICATE, 0}, {CQL_OP_OPTIONS, 0},
    {CQL_OP_SUPPORTED, 0}, {CQL_OP_QUERY, 0}, {CQL_OP_QUERY, 1}, {CQL_OP_RESULT, 0},
    {CQL_OP_RESULT, 1}, {CQL_OP_RESULT, 2}, {CQL_OP_RESULT, 3}, {CQL_OP_RESULT, 4},
    {CQL_OP_PREPARE, 0}, {CQL_OP_EXECUTE, 0}, {CQL_OP_EXECUTE, 1}, {CQL_OP_REGISTER, 0},
    {CQL_OP_EVENT, 0},  {CQL_OP_EVENT, 1},  {CQL_OP_EVENT, 2},   {CQL_OP_BATCH, 0},
    {CQL_OP_BATCH, 1},  {CQL_OP_AUTH_CHALLENGE, 0}, {CQL_OP_AUTH_RESPONSE, 0},
    {CQL_OP_AUTH_SUCCESS, 0},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static const uint8_t rows_content[] = {0, 0, 0, 4, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff,
                                       0, 0, 0, 0, 0, 0, 0, 2, 'h', 'i'};

static void sample(const msg_case_t *c, bool envelope, int version, cql_arena_t *a,
                   cql_msg_t *m)
{
    memset(m, 0, sizeof(*m));
    m->opcode = (uint8_t)c->opcode;
    int v = c->variant;
    bool resp = cql_opcode_direction(c->opcode) == CQL_DIR_RESPONSE;
    if (envelope) {
        static cql_bytes_entry_t cp[2] = {{{"k1", 2}, {(const uint8_t *)"xy", 2}},
                                          {{"k2", 2}, {NULL, CQL_BYTES_NULL}}};
        m->flags = CQL_FLAG_TRACING | CQL_FLAG_CUSTOM_PAYLOAD | (resp ? CQL_FLAG_WARNING : 0);
        m->tracing_id = resp ? trace_id : NULL;
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

/* One message: its encodings with the default allocator. */
typedef struct msg_ref {
    const char *what;  /* for messages */
    int version;
    const cql_msg_t *m;
    uint8_t flags;     /* frame flags of the body */
    uint8_t *body;     /* cql_msg_encode */
    size_t body_len;
    uint8_t *frame;    /* cql_frame_write, stream 7 */
    size_t frame_len;
    size_t chunk;      /* arena chunk size for decoding (0: exact) */
    size_t prefix;     /* bytes already in the writer before the frame */
} msg_ref_t;

static uint8_t *encode_ref(const cql_msg_t *m, int version, bool frame, size_t *len)
{
    cql_wr_t w;
    cql_wr_init(&w);
    int rc = frame ? cql_frame_write(&w, version, 7, m) : cql_msg_encode(&w, version, m);
    cr_assert_eq(rc, 0, "%s", cqlmq_err_name(rc));
    return cql_wr_release(&w, len);
}

/* Decodes into a, walks rows; re-encodes and compares with the body. */
static int decode_check(const msg_ref_t *r, cql_arena_t *a, bool compare)
{
    cql_msg_t m;
    int rc = cql_msg_decode(r->version, r->m->opcode, r->flags, r->body, r->body_len, a, &m);
    if (rc != 0 || !compare)
        return rc;
    if (m.opcode == CQL_OP_RESULT && m.u.result.kind == CQL_RESULT_ROWS)
        cr_assert_eq(cql_rows_validate(&m.u.result.u.rows), 0);
    size_t len;
    uint8_t *again = encode_ref(&m, r->version, false, &len);
    cr_assert_eq(len, r->body_len, "%s", r->what);
    cr_assert(len == 0 || memcmp(again, r->body, len) == 0, "%s: decoded message differs",
              r->what);
    free(again);
    return 0;
}

static int run_decode(fm_t *fm, void *ctx)
{
    const msg_ref_t *r = ctx;
    cql_arena_t a;
    cql_arena_init_mem(&a, 0, &fm->mem);
    cql_arena_set_chunk_size(&a, r->chunk);
    int rc = decode_check(r, &a, true);
    if (rc != 0) {
        /* The same arena, reset, decodes the message once memory is back. */
        fm_heal(fm);
        cql_arena_reset(&a);
        cr_assert_eq(decode_check(r, &a, true), 0, "%s: no recovery", r->what);
    }
    cql_arena_close(&a);
    return rc;
}

static void write_prefix(cql_wr_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cql_wr_u8(w, (uint8_t)(0xe0 + i % 16));
}

/* The n prefix bytes are all there (when writing them succeeded) and
 * unchanged. */
static bool prefix_intact(const cql_wr_t *w, size_t n, bool written)
{
    if (written && w->len < n)
        return false;
    for (size_t i = 0; i < n && i < w->len; i++)
        if (w->data[i] != (uint8_t)(0xe0 + i % 16))
            return false;
    return true;
}

static int run_encode(fm_t *fm, void *ctx)
{
    const msg_ref_t *r = ctx;
    cql_wr_t w;
    cql_wr_init_mem(&w, &fm->mem);
    write_prefix(&w, r->prefix);
    bool written = cql_wr_error(&w) == 0;
    int rc = cql_frame_write(&w, r->version, 7, r->m);
    if (rc != 0) {
        cr_assert_eq(cql_wr_error(&w), rc, "%s: error not in the writer", r->what);
        cr_assert(prefix_intact(&w, r->prefix, written), "%s: earlier content damaged", r->what);
        fm_heal(fm);
        cql_wr_reset(&w);
        write_prefix(&w, r->prefix);
        cr_assert_eq(cql_frame_write(&w, r->version, 7, r->m), 0, "%s: no recovery", r->what);
    }
    cr_assert_eq(w.len, r->prefix + r->frame_len, "%s", r->what);
    cr_assert(prefix_intact(&w, r->prefix, true));
    cr_assert(memcmp(w.data + r->prefix, r->frame, r->frame_len) == 0, "%s: frame differs",
              r->what);
    cql_wr_close(&w);
    return rc;
}

/* Calls fn(ref) for every case, version and envelope. */
static void for_each_message(void (*fn)(msg_ref_t *))
{
    for (int version = 3; version <= 4; version++)
        for (size_t i = 0; i < NCASES; i++)
            for (int env = 0; env < 2; env++) {
                cql_arena_t a;
                cql_arena_init(&a, 0);
                cql_msg_t m;
                sample(&cases[i], env && version >= 4, version, &a, &m);
                if (env && version < 4)
                    m.flags = CQL_FLAG_TRACING; /* v3 knows only tracing */
                if (env && m.flags & CQL_FLAG_TRACING && m.tracing_id == NULL &&
                    cql_opcode_direction(m.opcode) == CQL_DIR_RESPONSE)
                    m.tracing_id = trace_id;
                char what[64];
                snprintf(what, sizeof what, "%s/%d v%d%s", cql_opcode_name(m.opcode),
                         cases[i].variant, version, env ? " +envelope" : "");
                msg_ref_t r = {.what = what, .version = version, .m = &m, .flags = m.flags};
                r.body = encode_ref(&m, version, false, &r.body_len);
                r.frame = encode_ref(&m, version, true, &r.frame_len);
                fn(&r);
                free(r.body);
                free(r.frame);
                cql_arena_close(&a);
            }
}

static long decode_allocs; /* allocations of all clean exact-chunk runs */

static void sweep_decode(msg_ref_t *r)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cr_assert_eq(decode_check(r, &a, true), 0, "%s", r->what);
    cql_arena_close(&a);
    r->chunk = 0;
    decode_allocs += fm_sweep(r->what, run_decode, r, CQLMQ_ENOMEM);
    r->chunk = 4096; /* the arena as callers use it */
    fm_sweep(r->what, run_decode, r, CQLMQ_ENOMEM);
}

Test(cql_failmalloc_msg, decoding_every_message_fails_with_enomem_at_every_arena_allocation)
{
    for_each_message(sweep_decode);
    cr_assert_gt(decode_allocs, 200, "the sweep reached few allocation sites");
}

static void sweep_encode(msg_ref_t *r)
{
    /* The writer grows at 256, 512, ...: a prefix of every length below 256
     * makes the growth (and so the failure) land on every write site of
     * a frame shorter than 256 bytes, and on a spread of sites of longer
     * ones. */
    for (size_t k = 0; k < 256; k++) {
        r->prefix = k;
        fm_sweep(r->what, run_encode, r, CQLMQ_ENOMEM);
    }
}

Test(cql_failmalloc_msg, encoding_every_message_fails_with_enomem_at_every_write_site)
{
    for_each_message(sweep_encode);
}

/* ---- the rows builder -------------------------------------------------- */

typedef struct rows_ref {
    const cql_meta_t *meta; /* int, text, list<int> */
    const cql_type_t *list_type;
    uint8_t *frame;
    size_t len;
    size_t prefix;
} rows_ref_t;

#define NROWS 40

/* A Rows frame with the envelope: even rows whole, odd rows cell by cell
 * (the list cell encoded in place). Returns the first error. */
static int build_rows(cql_wr_t *w, const rows_ref_t *r)
{
    static const char text[] = "some text that takes room in the frame";
    cql_msg_t env = {.opcode = CQL_OP_RESULT, .flags = CQL_FLAG_TRACING | CQL_FLAG_WARNING,
                     .tracing_id = trace_id, .warnings = {1, strs3}};
    size_t start = cql_frame_begin(w, 4, env.flags, 3, CQL_OP_RESULT);
    int rc = cql_envelope_write(w, 4, &env);
    cql_rows_builder_t b;
    if (rc == 0)
        rc = cql_rows_begin(&b, w, 4, r->meta);
    if (rc != 0)
        return rc;
    for (int i = 0; i < NROWS; i++) {
        uint8_t num[4];
        cql_store_u32(num, (uint32_t)i);
        cql_bytes_t t = {(const uint8_t *)text, (int32_t)(i % (int)sizeof text)};
        if (i % 2 == 0) {
            cql_bytes_t cells[3] = {{num, 4}, t, {NULL, CQL_BYTES_NULL}};
            cql_rows_add_row(&b, cells);
            continue;
        }
        cql_rows_add(&b, (cql_bytes_t){num, 4});
        cql_rows_add(&b, t);
        cql_value_t items[3] = {cql_value_int(i), cql_value_int(-i), cql_value_int(7)};
        cql_value_t list = {.state = CQL_VALUE_SET, .kind = CQL_TYPE_LIST,
                            .u.coll = {(size_t)(i % 4), items}};
        size_t off = cql_rows_cell_begin(&b);
        cql_value_encode_body(w, r->list_type, &list);
        cql_rows_cell_end(&b, off);
    }
    rc = cql_rows_finish(&b);
    return rc ? rc : cql_frame_end(w, start);
}

static int run_rows(fm_t *fm, void *ctx)
{
    const rows_ref_t *r = ctx;
    cql_wr_t w;
    cql_wr_init_mem(&w, &fm->mem);
    write_prefix(&w, r->prefix);
    bool written = cql_wr_error(&w) == 0;
    int rc = build_rows(&w, r);
    if (rc != 0) {
        cr_assert_eq(cql_wr_error(&w), rc);
        cr_assert(prefix_intact(&w, r->prefix, written), "earlier content damaged");
        fm_heal(fm);
        cql_wr_reset(&w);
        write_prefix(&w, r->prefix);
        cr_assert_eq(build_rows(&w, r), 0, "the rows builder does not recover");
    }
    cr_assert_eq(w.len, r->prefix + r->len);
    cr_assert(memcmp(w.data + r->prefix, r->frame, r->len) == 0, "rows frame differs");
    cql_wr_close(&w);
    return rc;
}

Test(cql_failmalloc_msg, the_rows_builder_fails_with_enomem_at_every_growth_and_recovers)
{
    cql_arena_t a;
    cql_arena_init(&a, 0);
    cql_meta_t meta;
    sample_meta(&a, &meta, true, 3);
    static const char *const ts[3] = {"int", "text", "list<int>"};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cql_type_parse(ts[i], strlen(ts[i]), &a, NULL, NULL, NULL,
                                    &meta.cols[i].type), 0);
    rows_ref_t r = {.meta = &meta, .list_type = meta.cols[2].type};
    cql_wr_t w;
    cql_wr_init(&w);
    cr_assert_eq(build_rows(&w, &r), 0);
    r.frame = cql_wr_release(&w, &r.len);
    cr_assert_gt(r.len, 1024);
    for (r.prefix = 0; r.prefix < 256; r.prefix += 5)
        cr_assert_geq(fm_sweep("rows", run_rows, &r, CQLMQ_ENOMEM), 3);
    free(r.frame);
    cql_arena_close(&a);
}
