/*
 * Tests for the reply encoders: each reply of docs/protocol.md encodes to
 * the expected map (golden bytes for the small ones; decoded back through
 * the reply schemas, as the C client will, for the others); error replies
 * built from CQL ERROR bodies carry the code string, cql_code and the
 * details Cassandra sent; the error code table is consistent.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "cql_arena.h"
#include "wire_msg.h"

static mpk_wr_t w;
static cql_arena_t arena;
static void setup(void)
{
    mpk_wr_init(&w);
    cql_arena_init(&arena, 0);
}
static void teardown(void)
{
    mpk_wr_close(&w);
    cql_arena_close(&arena);
}
TestSuite(wire_reply, .init = setup, .fini = teardown);

static void golden(const uint8_t *want, size_t n)
{
    cr_assert_eq(mpk_wr_error(&w), 0);
    if (w.len != n || memcmp(w.data, want, n) != 0) {
        for (size_t i = 0; i < w.len; i++)
            fprintf(stderr, "%02x ", w.data[i]);
        fprintf(stderr, "\n");
        cr_assert_fail("reply differs from the golden bytes");
    }
}
#define GOLDEN(s) golden((const uint8_t *)(s), sizeof(s) - 1)

static mpk_rd_t rd(void)
{
    mpk_rd_t r;
    mpk_rd_init(&r, w.data, w.len);
    return r;
}

static cql_string_list_t warnings1(void)
{
    static cql_str_t items[] = {{"Aggregation query used without partition key", 44}};
    return (cql_string_list_t){1, items};
}

Test(wire_reply, pong_and_done_are_small_maps)
{
    cr_assert_eq(wire_reply_pong(&w, 5), 0);
    GOLDEN("\x82\xa2op\xa4pong\xa2id\x05");
    mpk_wr_reset(&w);
    cr_assert_eq(wire_reply_done(&w, 3, 3, 2417), 0);
    GOLDEN("\x84\xa2op\xa4" "done\xa2id\x03\xa5pages\x03\xa4rows\xcd\x09\x71");
}

Test(wire_reply, hello_carries_server_session_and_limits)
{
    wire_limits_t lim = {0};
    lim.max_message_bytes = 1 << 20;
    lim.max_credit = 8;
    lim.lease_ms = 30000;
    cr_assert_eq(wire_reply_hello(&w, 1, "cqlmqd/0.1.0", mpk_cstr("s1"), &lim), 0);
    mpk_rd_t r = rd();
    wire_hello_rep_t m;
    cr_assert_eq(wire_hello_rep_decode(&r, &m), 0);
    cr_assert(mpk_rd_done(&r));
    cr_assert(mpk_str_eq(m.op, "hello"));
    cr_assert_eq(m.id, 1);
    cr_assert_eq(m.protocol, 1);
    cr_assert(mpk_str_eq(m.server, "cqlmqd/0.1.0"));
    cr_assert(mpk_str_eq(m.session, "s1"));
    cr_assert(MPK_HAS(&m, wire_hello_rep, limits));
    mpk_rd_t lr;
    wire_limits_t got;
    mpk_rd_init(&lr, m.limits.ptr, m.limits.len);
    cr_assert_eq(wire_limits_decode(&lr, &got), 0, "every limit is present");
    cr_assert_eq(got.max_message_bytes, 1 << 20);
    cr_assert_eq(got.max_credit, 8);
    cr_assert_eq(got.lease_ms, 30000);
}

Test(wire_reply, void_and_set_keyspace_results)
{
    cr_assert_eq(wire_reply_void(&w, 2, NULL), 0);
    GOLDEN("\x83\xa2op\xa6result\xa2id\x02\xa4kind\xa4void");
    mpk_wr_reset(&w);
    cql_string_list_t wl = warnings1();
    cr_assert_eq(wire_reply_set_keyspace(&w, 2, (cql_str_t){"app", 3}, &wl), 0);
    mpk_rd_t r = rd();
    wire_result_rep_t m;
    cr_assert_eq(wire_result_rep_decode(&r, &m), 0);
    cr_assert(mpk_str_eq(m.kind, "set_keyspace"));
    cr_assert(mpk_str_eq(m.keyspace, "app"));
    mpk_rd_t wr;
    uint32_t n;
    mpk_str_t s;
    mpk_rd_init(&wr, m.warnings.ptr, m.warnings.len);
    cr_assert_eq(mpk_rd_array(&wr, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(mpk_rd_str(&wr, &s), 0);
    cr_assert(mpk_str_eq(s, "Aggregation query used without partition key"));
}

Test(wire_reply, schema_changes_name_change_target_keyspace_and_name)
{
    cql_schema_change_t sc = {0};
    sc.change = CQL_SCHEMA_CREATED;
    sc.target = CQL_TARGET_TABLE;
    sc.keyspace = (cql_str_t){"app", 3};
    sc.name = (cql_str_t){"users", 5};
    cr_assert_eq(wire_reply_schema_change(&w, 4, &sc, NULL), 0);
    mpk_rd_t r = rd();
    wire_result_rep_t m;
    cr_assert_eq(wire_result_rep_decode(&r, &m), 0);
    cr_assert(mpk_str_eq(m.kind, "schema_change"));
    cr_assert(mpk_str_eq(m.change, "CREATED"));
    cr_assert(mpk_str_eq(m.target, "TABLE"));
    cr_assert(mpk_str_eq(m.keyspace, "app"));
    cr_assert(mpk_str_eq(m.name, "users"));
    /* a keyspace change has no name */
    mpk_wr_reset(&w);
    sc.target = CQL_TARGET_KEYSPACE;
    cr_assert_eq(wire_reply_schema_change(&w, 4, &sc, NULL), 0);
    r = rd();
    cr_assert_eq(wire_result_rep_decode(&r, &m), 0);
    cr_assert_not(MPK_HAS(&m, wire_result_rep, name));
    mpk_wr_reset(&w);
    sc.change = 99;
    cr_assert_eq(wire_reply_schema_change(&w, 4, &sc, NULL), CQLMQ_EINVAL);
    cr_assert_eq(w.len, 0);
}

static cql_meta_t meta(int n, const char **names, const char **types)
{
    cql_meta_t m = {0};
    m.ncols = n;
    m.cols = cql_arena_calloc(&arena, (size_t)(n ? n : 1), sizeof *m.cols);
    for (int i = 0; i < n; i++) {
        m.cols[i].name = (cql_str_t){names[i], strlen(names[i])};
        cr_assert_eq(cql_type_parse(types[i], strlen(types[i]), &arena, NULL, NULL, NULL, &m.cols[i].type), 0);
    }
    return m;
}

Test(wire_reply, prepared_lists_params_and_columns)
{
    cql_meta_t bind = meta(1, (const char *[]){"id"}, (const char *[]){"uuid"});
    cql_meta_t res = meta(2, (const char *[]){"id", "n"}, (const char *[]){"uuid", "int"});
    cr_assert_eq(wire_reply_prepared(&w, 7, (mpk_bin_t){(const uint8_t *)"\x01\x02", 2}, &bind, &res), 0);
    GOLDEN("\x85\xa2op\xa8prepared\xa2id\x07\xa6handle\xc4\x02\x01\x02"
           "\xa6params\x91\x92\xa2id\xa4uuid"
           "\xa7" "columns\x92\x92\xa2id\xa4uuid\x92\xa1n\xa3int");
    /* a result without metadata (an INSERT) has no columns */
    mpk_wr_reset(&w);
    cql_meta_t nometa = {.flags = CQL_MF_NO_METADATA};
    cr_assert_eq(wire_reply_prepared(&w, 7, (mpk_bin_t){(const uint8_t *)"\x01", 1}, &bind, &nometa), 0);
    mpk_rd_t r = rd();
    wire_prepared_rep_t m;
    cr_assert_eq(wire_prepared_rep_decode(&r, &m), 0);
    cr_assert_eq(m.columns.len, 1);
    cr_assert_eq(m.columns.ptr[0], 0x90);
}

/* Two rows (1, "a"), (2, "b") of (k int, v text). */
static cql_result_rows_t two_rows(cql_meta_t *m, cql_wr_t *cw)
{
    *m = meta(2, (const char *[]){"k", "v"}, (const char *[]){"int", "text"});
    cql_wr_init(cw);
    for (int i = 1; i <= 2; i++) {
        cql_wr_i32(cw, 4);
        cql_wr_i32(cw, i);
        cql_wr_i32(cw, 1);
        cql_wr_u8(cw, (uint8_t)('a' + i - 1));
    }
    cql_result_rows_t rows = {.meta = *m, .nrows = 2, .content = cw->data, .content_len = cw->len};
    return rows;
}

Test(wire_reply, a_rows_result_has_columns_rows_and_its_paging_state)
{
    cql_meta_t m;
    cql_wr_t cw;
    cql_result_rows_t rows = two_rows(&m, &cw);
    cql_rows_iter_t it;
    cql_rows_iter_init(&it, &rows);
    wire_rows_reply_t rr = {.id = 2, .columns = &m, .types = &m,
                            .paging_state = {(const uint8_t *)"\x09", 1}};
    uint32_t n;
    cr_assert_eq(wire_reply_rows(&w, &rr, &it, &n), 0);
    cr_assert_eq(n, 2);
    GOLDEN("\x86\xa2op\xa6result\xa2id\x02\xa4kind\xa4rows"
           "\xa7" "columns\x92\x92\xa1k\xa3int\x92\xa1v\xa4text"
           "\xa4rows\x92\x92\x01\xa1" "a\x92\x02\xa1" "b"
           "\xacpaging_state\xc4\x01\x09");
    cql_wr_close(&cw);
}

Test(wire_reply, pages_carry_seq_and_paging_state_only_at_the_cassandra_page_end)
{
    cql_meta_t m;
    cql_wr_t cw;
    cql_result_rows_t rows = two_rows(&m, &cw);
    cql_rows_iter_t it;
    cql_rows_iter_init(&it, &rows);
    wire_rows_reply_t rr = {.id = 3, .seq = 0, .columns = &m, .types = &m,
                            .paging_state = {(const uint8_t *)"\x09", 1}, .cap = {1, 0}};
    uint32_t n;
    cr_assert_eq(wire_reply_page(&w, &rr, &it, &n), 0);
    cr_assert_eq(n, 1);
    mpk_rd_t r = rd();
    wire_page_rep_t p;
    cr_assert_eq(wire_page_rep_decode(&r, &p), 0);
    cr_assert(mpk_str_eq(p.op, "page"));
    cr_assert_eq(p.seq, 0);
    cr_assert(MPK_HAS(&p, wire_page_rep, columns));
    cr_assert(MPK_HAS(&p, wire_page_rep, rows));
    cr_assert_not(MPK_HAS(&p, wire_page_rep, paging_state), "rows remain in this Cassandra page");

    mpk_wr_reset(&w);
    rr.seq = 1;
    rr.columns = NULL;
    cr_assert_eq(wire_reply_page(&w, &rr, &it, &n), 0);
    cr_assert_eq(n, 1);
    GOLDEN("\x85\xa2op\xa4page\xa2id\x03\xa3seq\x01"
           "\xa4rows\x91\x92\x02\xa1" "b"
           "\xacpaging_state\xc4\x01\x09");
    cql_wr_close(&cw);
}

/* The UDT addr (street text, tags frozen<set<text>>) of keyspace ks. */
static int lookup_addr(void *ud, const char *ks, const char *name, cql_arena_t *a, cql_type_t **out)
{
    (void)ud;
    (void)ks;
    if (strcmp(name, "addr") != 0)
        return CQLMQ_ENOTFOUND;
    cql_type_t *t = cql_arena_calloc(a, 1, sizeof *t);
    t->kind = CQL_TYPE_UDT;
    t->keyspace = "ks";
    t->name = "addr";
    t->nsub = 2;
    t->sub = cql_arena_calloc(a, 2, sizeof *t->sub);
    t->field_names = cql_arena_calloc(a, 2, sizeof *t->field_names);
    t->field_names[0] = "street";
    t->field_names[1] = "tags";
    cr_assert_eq(cql_type_parse("text", 4, a, NULL, NULL, NULL, &t->sub[0]), 0);
    cr_assert_eq(cql_type_parse("set<text>", 9, a, NULL, NULL, NULL, &t->sub[1]), 0);
    *out = t;
    return 0;
}

static cql_meta_t meta_udt(int n, const char **names, const char **types)
{
    cql_meta_t m = {0};
    m.ncols = n;
    m.cols = cql_arena_calloc(&arena, (size_t)(n ? n : 1), sizeof *m.cols);
    for (int i = 0; i < n; i++) {
        m.cols[i].name = (cql_str_t){names[i], strlen(names[i])};
        cr_assert_eq(cql_type_parse(types[i], strlen(types[i]), &arena, "ks", lookup_addr, NULL,
                                    &m.cols[i].type), 0);
    }
    return m;
}

#define ADDR_UDTS "\xa4udts\x81\xa4" "addr\x92\x92\xa6street\xa4text\x92\xa4tags\xb1" "frozen<set<text>>"

Test(wire_reply, columns_that_mention_a_udt_come_with_its_fields_in_udts)
{
    cql_meta_t m = meta_udt(2, (const char *[]){"k", "a"}, (const char *[]){"int", "list<frozen<addr>>"});
    cql_wr_t cw;
    cql_wr_init(&cw);
    cql_result_rows_t rows = {.meta = m, .nrows = 0, .content = cw.data, .content_len = 0};
    cql_rows_iter_t it;
    cql_rows_iter_init(&it, &rows);
    wire_rows_reply_t rr = {.id = 2, .columns = &m, .types = &m, .paging_state = {NULL, -1}};
    uint32_t n;
    cr_assert_eq(wire_reply_rows(&w, &rr, &it, &n), 0);
    GOLDEN("\x86\xa2op\xa6result\xa2id\x02\xa4kind\xa4rows"
           "\xa7" "columns\x92\x92\xa1k\xa3int\x92\xa1" "a\xb2list<frozen<addr>>"
           ADDR_UDTS "\xa4rows\x90");
    mpk_rd_t r = rd();
    wire_result_rep_t res;
    cr_assert_eq(wire_result_rep_decode(&r, &res), 0);
    cr_assert(MPK_HAS(&res, wire_result_rep, udts));

    /* a stream: udts with the columns of page 0, not after */
    mpk_wr_reset(&w);
    cql_rows_iter_init(&it, &rows);
    rr.seq = 0;
    cr_assert_eq(wire_reply_page(&w, &rr, &it, &n), 0);
    r = rd();
    wire_page_rep_t p;
    cr_assert_eq(wire_page_rep_decode(&r, &p), 0);
    cr_assert(MPK_HAS(&p, wire_page_rep, udts));
    cr_assert_eq(p.udts.len, sizeof ADDR_UDTS - 1 - 5);
    cr_assert_arr_eq(p.udts.ptr, ADDR_UDTS + 5, p.udts.len);
    mpk_wr_reset(&w);
    cql_rows_iter_init(&it, &rows);
    rr.seq = 1;
    rr.columns = NULL;
    cr_assert_eq(wire_reply_page(&w, &rr, &it, &n), 0);
    r = rd();
    cr_assert_eq(wire_page_rep_decode(&r, &p), 0);
    cr_assert_not(MPK_HAS(&p, wire_page_rep, udts));
    cql_wr_close(&cw);
}

Test(wire_reply, prepared_udts_cover_bind_markers_and_columns)
{
    cql_meta_t bind = meta_udt(2, (const char *[]){"k", "a"}, (const char *[]){"int", "addr"});
    cql_meta_t nometa = {.flags = CQL_MF_NO_METADATA};
    cr_assert_eq(wire_reply_prepared(&w, 7, (mpk_bin_t){(const uint8_t *)"\x01", 1}, &bind, &nometa), 0);
    GOLDEN("\x86\xa2op\xa8prepared\xa2id\x07\xa6handle\xc4\x01\x01"
           "\xa6params\x92\x92\xa1k\xa3int\x92\xa1" "a\xa4" "addr"
           "\xa7" "columns\x90" ADDR_UDTS);
    /* from the result columns only; one entry for a UDT in both */
    mpk_wr_reset(&w);
    cql_meta_t plain = meta(1, (const char *[]){"k"}, (const char *[]){"int"});
    cql_meta_t res = meta_udt(1, (const char *[]){"m"}, (const char *[]){"map<frozen<addr>, int>"});
    cr_assert_eq(wire_reply_prepared(&w, 7, (mpk_bin_t){(const uint8_t *)"\x01", 1}, &plain, &res), 0);
    mpk_rd_t r = rd();
    wire_prepared_rep_t m;
    cr_assert_eq(wire_prepared_rep_decode(&r, &m), 0);
    cr_assert(MPK_HAS(&m, wire_prepared_rep, udts));
    cr_assert_arr_eq(m.udts.ptr, ADDR_UDTS + 5, m.udts.len);
    mpk_wr_reset(&w);
    cr_assert_eq(wire_reply_prepared(&w, 7, (mpk_bin_t){(const uint8_t *)"\x01", 1}, &bind, &res), 0);
    r = rd();
    cr_assert_eq(wire_prepared_rep_decode(&r, &m), 0);
    cr_assert_eq(m.udts.len, sizeof ADDR_UDTS - 1 - 5);
    /* without a UDT: no udts */
    mpk_wr_reset(&w);
    cr_assert_eq(wire_reply_prepared(&w, 7, (mpk_bin_t){(const uint8_t *)"\x01", 1}, &plain, &nometa), 0);
    r = rd();
    cr_assert_eq(wire_prepared_rep_decode(&r, &m), 0);
    cr_assert_not(MPK_HAS(&m, wire_prepared_rep, udts));
}

Test(wire_reply, a_bad_cell_undoes_the_whole_reply)
{
    cql_meta_t m;
    cql_wr_t cw;
    cql_result_rows_t rows = two_rows(&m, &cw);
    cw.data[3] = 3; /* first cell: an int of 3 bytes */
    cw.data[7] = 0; /* keep the total length: 3 bytes + the next cell's prefix shifted */
    cql_rows_iter_t it;
    cql_rows_iter_init(&it, &rows);
    wire_rows_reply_t rr = {.id = 2, .columns = &m, .types = &m, .paging_state = {NULL, -1}};
    uint32_t n;
    mpk_wr_cstr(&w, "x");
    cr_assert_neq(wire_reply_rows(&w, &rr, &it, &n), 0);
    cr_assert_eq(w.len, 2, "only what came before is left");
    cql_wr_close(&cw);
}

Test(wire_reply, plain_errors_carry_code_and_message)
{
    cr_assert_eq(wire_reply_error(&w, 9, WIRE_ERR_BAD_REQUEST, "missing field 'cql'"), 0);
    GOLDEN("\x84\xa2op\xa5\x65rror\xa2id\x09\xa4\x63ode\xab\x62\x61\x64_request"
           "\xa7message\xb3missing field 'cql'");
    mpk_wr_reset(&w);
    cr_assert_eq(wire_reply_error(&w, 9, WIRE_ERR_BUSY, NULL), 0);
    mpk_rd_t r = rd();
    wire_error_rep_t e;
    cr_assert_eq(wire_error_rep_decode(&r, &e), 0);
    cr_assert(mpk_str_eq(e.code, "busy"));
    cr_assert(mpk_str_eq(e.message, "busy"));
    cr_assert_not(MPK_HAS(&e, wire_error_rep, cql_code));
    cr_assert_eq(wire_reply_error(&w, 9, WIRE_ERR_COUNT_, NULL), CQLMQ_EINVAL);
}

static void decode_error(wire_error_rep_t *e, wire_error_details_t *det)
{
    mpk_rd_t r = rd();
    cr_assert_eq(wire_error_rep_decode(&r, e), 0);
    cr_assert(mpk_rd_done(&r));
    memset(det, 0, sizeof *det);
    if (MPK_HAS(e, wire_error_rep, details)) {
        mpk_rd_t dr;
        mpk_rd_init(&dr, e->details.ptr, e->details.len);
        cr_assert_eq(wire_error_details_decode(&dr, det), 0);
    }
}

Test(wire_reply, a_read_timeout_carries_its_details)
{
    cql_msg_error_t ce = {0};
    ce.code = CQL_ERR_READ_TIMEOUT;
    ce.message = (cql_str_t){"Operation timed out", 19};
    ce.consistency = CQL_CL_LOCAL_QUORUM;
    ce.received = 1;
    ce.blockfor = 2;
    ce.data_present = true;
    cr_assert_eq(wire_reply_cql_error(&w, 11, &ce), 0);
    wire_error_rep_t e;
    wire_error_details_t d;
    decode_error(&e, &d);
    cr_assert(mpk_str_eq(e.code, "read_timeout"));
    cr_assert_eq(e.cql_code, 0x1200);
    cr_assert(mpk_str_eq(e.message, "Operation timed out"));
    cr_assert(mpk_str_eq(d.consistency, "local_quorum"));
    cr_assert_eq(d.received, 1);
    cr_assert_eq(d.block_for, 2);
    cr_assert(MPK_HAS(&d, wire_error_details, data_present) && d.data_present);
    cr_assert_not(MPK_HAS(&d, wire_error_details, write_type));
    cr_assert_not(MPK_HAS(&d, wire_error_details, alive));
}

Test(wire_reply, write_timeouts_unavailables_and_failures_carry_theirs)
{
    cql_msg_error_t ce = {0};
    wire_error_rep_t e;
    wire_error_details_t d;
    ce.code = CQL_ERR_WRITE_TIMEOUT;
    ce.consistency = CQL_CL_QUORUM;
    ce.write_type = (cql_str_t){"CAS", 3};
    cr_assert_eq(wire_reply_cql_error(&w, 1, &ce), 0);
    decode_error(&e, &d);
    cr_assert(mpk_str_eq(d.write_type, "CAS"));
    cr_assert(mpk_str_eq(d.consistency, "quorum"));

    mpk_wr_reset(&w);
    memset(&ce, 0, sizeof ce);
    ce.code = CQL_ERR_UNAVAILABLE;
    ce.consistency = CQL_CL_ALL;
    ce.required = 3;
    ce.alive = 2;
    cr_assert_eq(wire_reply_cql_error(&w, 1, &ce), 0);
    decode_error(&e, &d);
    cr_assert(mpk_str_eq(e.code, "unavailable"));
    cr_assert_eq(d.required, 3);
    cr_assert_eq(d.alive, 2);

    mpk_wr_reset(&w);
    memset(&ce, 0, sizeof ce);
    ce.code = CQL_ERR_WRITE_FAILURE;
    ce.num_failures = 1;
    ce.write_type = (cql_str_t){"SIMPLE", 6};
    cr_assert_eq(wire_reply_cql_error(&w, 1, &ce), 0);
    decode_error(&e, &d);
    cr_assert_eq(d.num_failures, 1);
}

Test(wire_reply, schema_errors_name_keyspace_table_function_and_statement)
{
    cql_msg_error_t ce = {0};
    wire_error_rep_t e;
    wire_error_details_t d;
    ce.code = CQL_ERR_ALREADY_EXISTS;
    ce.keyspace = (cql_str_t){"app", 3};
    ce.name = (cql_str_t){"users", 5};
    cr_assert_eq(wire_reply_cql_error(&w, 1, &ce), 0);
    decode_error(&e, &d);
    cr_assert(mpk_str_eq(e.code, "already_exists"));
    cr_assert(mpk_str_eq(d.keyspace, "app"));
    cr_assert(mpk_str_eq(d.table, "users"));

    mpk_wr_reset(&w);
    static cql_str_t args[] = {{"int", 3}, {"text", 4}};
    memset(&ce, 0, sizeof ce);
    ce.code = CQL_ERR_FUNCTION_FAILURE;
    ce.keyspace = (cql_str_t){"app", 3};
    ce.name = (cql_str_t){"f", 1};
    ce.arg_types = (cql_string_list_t){2, args};
    cr_assert_eq(wire_reply_cql_error(&w, 1, &ce), 0);
    decode_error(&e, &d);
    cr_assert(mpk_str_eq(d.function, "f"));
    cr_assert_not(MPK_HAS(&d, wire_error_details, table));
    mpk_rd_t ar;
    uint32_t n;
    mpk_str_t s;
    mpk_rd_init(&ar, d.arg_types.ptr, d.arg_types.len);
    cr_assert_eq(mpk_rd_array(&ar, &n), 0);
    cr_assert_eq(n, 2);
    mpk_rd_str(&ar, &s);
    cr_assert(mpk_str_eq(s, "int"));

    mpk_wr_reset(&w);
    memset(&ce, 0, sizeof ce);
    ce.code = CQL_ERR_UNPREPARED;
    ce.id = (cql_bytes_t){(const uint8_t *)"\xca\xfe", 2};
    cr_assert_eq(wire_reply_cql_error(&w, 1, &ce), 0);
    decode_error(&e, &d);
    cr_assert(mpk_str_eq(e.code, "unprepared"));
    cr_assert_eq(d.statement_id.len, 2);
}

Test(wire_reply, syntax_errors_and_unknown_cql_codes_map_as_documented)
{
    cql_msg_error_t ce = {0};
    wire_error_rep_t e;
    wire_error_details_t d;
    ce.code = CQL_ERR_SYNTAX_ERROR;
    ce.message = (cql_str_t){"line 1:0", 8};
    cr_assert_eq(wire_reply_cql_error(&w, 1, &ce), 0);
    decode_error(&e, &d);
    cr_assert(mpk_str_eq(e.code, "syntax"));
    cr_assert_eq(e.cql_code, 0x2000);
    cr_assert_not(MPK_HAS(&e, wire_error_rep, details));

    mpk_wr_reset(&w);
    ce.code = 0x1600; /* cdc_write_failure: not in the contract */
    cr_assert_eq(wire_reply_cql_error(&w, 1, &ce), 0);
    decode_error(&e, &d);
    cr_assert(mpk_str_eq(e.code, "server_error"));
    cr_assert_eq(e.cql_code, 0x1600);
}

Test(wire_reply, unsupported_version_lists_the_supported_ones)
{
    cr_assert_eq(wire_reply_unsupported_version(&w, 1), 0);
    wire_error_rep_t e;
    wire_error_details_t d;
    decode_error(&e, &d);
    cr_assert(mpk_str_eq(e.code, "unsupported_version"));
    cr_assert_eq(d.supported.len, 2);
    cr_assert_eq(d.supported.ptr[0], 0x91);
    cr_assert_eq(d.supported.ptr[1], 0x01);
}

Test(wire_reply, the_error_table_round_trips_and_matches_the_cql_table)
{
    for (int c = 0; c < WIRE_ERR_COUNT_; c++) {
        const char *name = wire_error_name(c);
        cr_assert_not_null(name);
        cr_assert_eq(wire_error_from_name(name, strlen(name)), c, "%s", name);
        int32_t cql = wire_error_cql_code(c);
        if (cql >= 0) {
            cr_assert_eq(wire_error_from_cql(cql), c, "%s", name);
            const char *cname = cql_error_code_name(cql);
            cr_assert_not_null(cname);
            if (c != WIRE_ERR_SYNTAX)
                cr_assert_str_eq(cname, name, "same name as the codec's table");
        }
    }
    cr_assert_eq(wire_error_from_name("nope", 4), CQLMQ_ENOTFOUND);
    cr_assert_eq(wire_error_retry(WIRE_ERR_UNKNOWN_SESSION), WIRE_RETRY_AFTER_HELLO);
    cr_assert_eq(wire_error_retry(WIRE_ERR_READ_TIMEOUT), WIRE_RETRY_IF_IDEMPOTENT);
    cr_assert_eq(wire_error_retry(WIRE_ERR_BUSY), WIRE_RETRY_LATER);
    cr_assert_not(wire_error_retryable(WIRE_ERR_CAS_WRITE_UNKNOWN));
    cr_assert_not(wire_error_retryable(WIRE_ERR_BAD_REQUEST));
    cr_assert_not(wire_error_retryable(1000), "unknown codes are not retryable");
}

Test(wire_reply, consistency_names_are_lower_case_and_parse_back)
{
    char buf[WIRE_CONSISTENCY_NAME_MAX];
    cr_assert_str_eq(wire_consistency_name(CQL_CL_LOCAL_QUORUM, buf), "local_quorum");
    cr_assert_str_eq(wire_consistency_name(CQL_CL_EACH_QUORUM, buf), "each_quorum");
    cr_assert_null(wire_consistency_name(77, buf));
    for (int c = 0; c <= CQL_CL_LOCAL_ONE; c++) {
        const char *n = wire_consistency_name(c, buf);
        cr_assert_eq(wire_consistency_parse(n, strlen(n)), c);
    }
    cr_assert_eq(wire_consistency_parse("fast", 4), CQLMQ_ENOTFOUND);
}
