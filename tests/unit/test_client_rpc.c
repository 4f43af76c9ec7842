/*
 * The C client against a fake cqlmqd (test_client_fake.h): blocking round
 * trips, routing of interleaved replies by id, deadlines, server errors,
 * malformed replies, cancellation, params, batches, ping/stats and the
 * async API driven through the pollable fd.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <time.h>

#include "cqlmq/client.h"
#include "test_client_fake.h"

static fake_t fake;
static cqlmq_client_t *cl;

static void setup(void)
{
    fake_start(&fake);
    cqlmq_client_opts_t o;
    cqlmq_client_opts_init(&o);
    o.deadline_grace_ms = 100;
    o.connect_timeout_ms = 2000;
    cr_assert_eq(cqlmq_client_new(fake.endpoint, &o, &cl), 0);
}

static void teardown(void)
{
    cqlmq_client_free(&cl);
    fake_stop(&fake);
}

TestSuite(client, .init = setup, .fini = teardown, .timeout = 20);

Test(client, answers_a_query_with_columns_rows_and_typed_values)
{
    cqlmq_result_t *r = NULL;
    cr_assert_eq(cqlmq_query(cl, "rows 3", NULL, &r), 0, "%s", cqlmq_client_error(cl)->message);
    cr_assert_eq(cqlmq_result_kind(r), CQLMQ_RESULT_ROWS);
    cr_assert_eq(cqlmq_result_column_count(r), 2);
    cr_assert_str_eq(cqlmq_result_column_name(r, 1), "name");
    cr_assert_str_eq(cqlmq_result_column_type(r, 0), "int");
    cr_assert_null(cqlmq_result_column_name(r, 2));
    cr_assert_eq(cqlmq_result_row_count(r), 3);
    for (uint32_t i = 0; i < 3; i++) {
        cqlmq_row_t row;
        cqlmq_value_t v;
        int64_t id;
        const char *s;
        size_t n;
        char want[16];
        cr_assert_eq(cqlmq_result_row(r, i, &row), 0);
        cr_assert_eq(cqlmq_row_value(&row, 0, &v), 0);
        cr_assert_eq(cqlmq_value_int64(&v, &id), 0);
        cr_assert_eq(id, i);
        cr_assert_eq(cqlmq_row_value(&row, 1, &v), 0);
        cr_assert_eq(cqlmq_value_text(&v, &s, &n), 0);
        snprintf(want, sizeof want, "name-%u", i);
        cr_assert_eq(n, strlen(want));
        cr_assert_eq(memcmp(s, want, n), 0);
        cr_assert_eq(cqlmq_value_int64(&v, &id), CQLMQ_EBADTYPE);
        cr_assert_eq(cqlmq_row_value(&row, 2, &v), CQLMQ_ENOTFOUND);
    }
    cqlmq_row_t row;
    cr_assert_eq(cqlmq_result_row(r, 3, &row), CQLMQ_ENOTFOUND);
    cr_assert_str_eq(cqlmq_client_session(cl), "s-1");
    cr_assert_not_null(cqlmq_client_limits(cl));
    cr_assert_eq(cqlmq_client_limits(cl)->max_credit, 4);
    cr_assert_eq(FAKE_GET(&fake, hellos), 1);
    cr_assert_eq(FAKE_GET(&fake, unknown_sessions), 0, "hello must come first");
    cqlmq_result_free(&r);
    cr_assert_null(r);
}

Test(client, sends_the_request_options_the_contract_names)
{
    cqlmq_query_opts_t o = {.consistency = "quorum", .page_size = 7, .timeout_ms = 250};
    cqlmq_result_t *r = NULL;
    cr_assert_eq(cqlmq_query(cl, "rows 0", &o, &r), 0);
    char buf[32];
    cr_assert_str_eq(fake_str(&fake, fake.last_consistency, buf, sizeof buf), "quorum");
    cr_assert_eq(FAKE_GET(&fake, last_page_size), 7);
    cr_assert_eq(FAKE_GET(&fake, last_timeout_ms), 250);
    cr_assert_eq(FAKE_GET(&fake, bad_requests), 0);
    cqlmq_result_free(&r);
}

typedef struct hold_ctx {
    int calls;
    int wrong;
    int order[3];
} hold_ctx_t;

static void hold_cb(cqlmq_client_t *c, uint64_t id, int status, cqlmq_result_t **res,
                    const cqlmq_errinfo_t *err, void *ud)
{
    hold_ctx_t *h = ud;
    cqlmq_row_t row;
    cqlmq_value_t v;
    int64_t got = -1;
    (void)c, (void)err;
    if (status != 0 || cqlmq_result_row(*res, 0, &row) != 0 || cqlmq_row_value(&row, 0, &v) != 0 ||
        cqlmq_value_int64(&v, &got) != 0 || (uint64_t)got != id)
        h->wrong++;
    if (h->calls < 3)
        h->order[h->calls] = (int)id;
    h->calls++;
}

static void drive(cqlmq_client_t *c, const int *calls, int want, int ms)
{
    int fd;
    cr_assert_eq(cqlmq_client_fd(c, &fd), 0);
    for (int waited = 0; *calls < want && waited < ms; waited += 10) {
        while (cqlmq_client_process(c) > 0)
            ;
        if (*calls >= want)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        int t = cqlmq_client_timeout_ms(c);
        poll(&p, 1, t >= 0 && t < 10 ? t : 10);
    }
}

Test(client, routes_interleaved_replies_to_their_requests_by_id)
{
    hold_ctx_t h = {0};
    uint64_t ids[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cqlmq_query_async(cl, "hold", NULL, hold_cb, &h, &ids[i]), 0);
    cr_assert(ids[0] != ids[1] && ids[1] != ids[2]);
    drive(cl, &h.calls, 3, 5000);
    cr_assert_eq(h.calls, 3);
    cr_assert_eq(h.wrong, 0, "a reply went to the wrong request");
    /* The fake answers in reverse order; each callback got its own. */
    cr_assert_eq((uint64_t)h.order[0], ids[2]);
    cr_assert_eq((uint64_t)h.order[2], ids[0]);
    cr_assert_eq(cqlmq_client_pending(cl), 0);
}

Test(client, fails_a_request_with_timeout_at_its_deadline)
{
    cqlmq_query_opts_t o = {.timeout_ms = 100};
    cqlmq_result_t *r = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(cqlmq_query(cl, "silent", &o, &r), CQLMQ_ETIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    cr_assert_null(r);
    cr_assert_str_eq(cqlmq_client_error(cl)->code, "timeout");
    cr_assert(ms >= 190 && ms < 2000, "deadline after %.0f ms (timeout 100 + grace 100)", ms);
    cr_assert_eq(cqlmq_client_pending(cl), 0);
    /* The client is still usable. */
    cr_assert_eq(cqlmq_ping(cl, NULL), 0);
}

Test(client, reports_server_errors_with_code_cql_code_and_details)
{
    cqlmq_result_t *r = NULL;
    cr_assert_eq(cqlmq_query(cl, "error read_timeout", NULL, &r), CQLMQ_ESERVER);
    const cqlmq_errinfo_t *e = cqlmq_client_error(cl);
    cr_assert_str_eq(e->code, "read_timeout");
    cr_assert_str_eq(e->message, "boom");
    cr_assert_eq(e->cql_code, 0x1200);
    int64_t req;
    const char *s;
    size_t n;
    cr_assert_eq(cqlmq_error_detail_int(e, "required", &req), 0);
    cr_assert_eq(req, 3);
    cr_assert_eq(cqlmq_error_detail_str(e, "consistency", &s, &n), 0);
    cr_assert_eq(n, 6);
    cr_assert_eq(memcmp(s, "quorum", 6), 0);
    cr_assert_eq(cqlmq_error_detail_int(e, "missing", &req), CQLMQ_ENOTFOUND);
    cr_assert_eq(cqlmq_error_detail_int(e, "consistency", &req), CQLMQ_EBADTYPE);
    cr_assert_eq(cqlmq_error_retry(e), CQLMQ_RETRY_IF_IDEMPOTENT);
    /* Codes with a return code of their own. */
    cr_assert_eq(cqlmq_query(cl, "error timeout", NULL, &r), CQLMQ_ETIMEOUT);
    cr_assert_eq(cqlmq_query(cl, "error busy", NULL, &r), CQLMQ_EBUSY);
    cr_assert_eq(cqlmq_error_retry(cqlmq_client_error(cl)), CQLMQ_RETRY_LATER);
    cr_assert_eq(cqlmq_query(cl, "error no_host", NULL, &r), CQLMQ_ENOHOST);
    cr_assert_eq(cqlmq_query(cl, "error some_future_code", NULL, &r), CQLMQ_ESERVER);
    cr_assert_eq(cqlmq_error_retry(cqlmq_client_error(cl)), CQLMQ_RETRY_NO);
}

Test(client, turns_malformed_replies_into_errors_and_keeps_working)
{
    static const char *const bad[] = {"bomb", "wrongtype", "shortrow", "unexpected"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cqlmq_result_t *r = NULL;
        int rc = cqlmq_query(cl, bad[i], NULL, &r);
        cr_assert_lt(rc, 0, "%s accepted", bad[i]);
        cr_assert_null(r);
        cr_assert_str_eq(cqlmq_client_error(cl)->code, "bad_reply", "%s: %s", bad[i],
                         cqlmq_client_error(cl)->code);
    }
    cr_assert_eq(cqlmq_ping(cl, NULL), 0);
}

Test(client, ignores_a_reply_without_an_id_and_times_out)
{
    cqlmq_query_opts_t o = {.timeout_ms = 50};
    cqlmq_result_t *r = NULL;
    cr_assert_eq(cqlmq_query(cl, "noid", &o, &r), CQLMQ_ETIMEOUT);
    cr_assert_eq(cqlmq_ping(cl, NULL), 0);
}

typedef struct count_ctx {
    int calls;
    int status;
    char code[32];
} count_ctx_t;

static void count_cb(cqlmq_client_t *c, uint64_t id, int status, cqlmq_result_t **res,
                     const cqlmq_errinfo_t *err, void *ud)
{
    count_ctx_t *k = ud;
    (void)c, (void)id, (void)res;
    k->calls++;
    k->status = status;
    if (err != NULL)
        snprintf(k->code, sizeof k->code, "%s", err->code);
}

Test(client, cancel_completes_once_and_ignores_the_late_reply)
{
    count_ctx_t k = {0};
    uint64_t id;
    cr_assert_eq(cqlmq_client_connect(cl), 0);
    cr_assert_eq(cqlmq_query_async(cl, "silent", NULL, count_cb, &k, &id), 0);
    for (int i = 0; i < 20 && FAKE_GET(&fake, requests) < 1; i++)
        fake_sleep_ms(5);
    cr_assert_eq(cqlmq_cancel(cl, id), 0);
    cr_assert_eq(cqlmq_cancel(cl, id), CQLMQ_ENOTFOUND, "cancelled twice");
    cr_assert_eq(k.calls, 0, "the callback runs from process, not from cancel");
    while (cqlmq_client_process(cl) > 0)
        ;
    cr_assert_eq(k.calls, 1);
    cr_assert_eq(k.status, CQLMQ_ECANCELLED);
    cr_assert_str_eq(k.code, "cancelled");
    for (int i = 0; i < 100 && FAKE_GET(&fake, cancels) < 1; i++)
        fake_sleep_ms(5);
    cr_assert_eq(FAKE_GET(&fake, cancels), 1);
    cr_assert_eq(FAKE_GET(&fake, last_cancel_id), id);
    /* The fake's `cancelled` error for it arrives and is ignored. */
    cr_assert_eq(cqlmq_ping(cl, NULL), 0);
    cr_assert_eq(k.calls, 1);
    cr_assert_eq(cqlmq_cancel(cl, 999999), CQLMQ_ENOTFOUND);
}

static void get_array(const uint8_t *p, size_t n, mpk_rd_t *r, uint32_t *count)
{
    mpk_rd_init(r, p, n);
    cr_assert_eq(mpk_rd_array(r, count), 0);
}

Test(client, prepares_then_executes_with_params_built_by_type)
{
    cqlmq_result_t *prep = NULL, *r = NULL;
    cqlmq_params_t *p = NULL;
    cr_assert_eq(cqlmq_prepare(cl, "SELECT * FROM t WHERE k = ? AND tags = ?", "ks", &prep), 0);
    cr_assert_eq(cqlmq_result_kind(prep), CQLMQ_RESULT_PREPARED);
    cr_assert_eq(cqlmq_result_param_count(prep), 2);
    cr_assert_str_eq(cqlmq_result_param_name(prep, 1), "tags");
    cr_assert_str_eq(cqlmq_result_param_type(prep, 1), "map<text, frozen<list<int>>>");
    cr_assert_eq(cqlmq_params_new(&p), 0);
    cr_assert_eq(cqlmq_params_literal(p, cqlmq_result_param_type(prep, 0), "42", 2, NULL), 0);
    const char *lit = "{'a': [1, 2]}";
    cr_assert_eq(cqlmq_params_literal(p, cqlmq_result_param_type(prep, 1), lit, strlen(lit), NULL), 0);
    cqlmq_query_opts_t o = {.params = p, .consistency = "local_quorum"};
    cr_assert_eq(cqlmq_execute(cl, prep, &o, &r), 0, "%s", cqlmq_client_error(cl)->message);
    cr_assert_eq(cqlmq_result_row_count(r), 2);
    char buf[32];
    cr_assert_str_eq(fake_str(&fake, fake.last_consistency, buf, sizeof buf), "local_quorum");
    /* The params the fake received: [42, {"a": [1, 2]}]. */
    pthread_mutex_lock(&fake.mu);
    mpk_rd_t rd;
    uint32_t n;
    int64_t v;
    mpk_str_t key;
    get_array(fake.last_params, fake.last_params_len, &rd, &n);
    cr_assert_eq(n, 2);
    cr_assert_eq(mpk_rd_int(&rd, &v), 0);
    cr_assert_eq(v, 42);
    cr_assert_eq(mpk_rd_map(&rd, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(mpk_rd_str(&rd, &key), 0);
    cr_assert(mpk_str_eq(key, "a"));
    cr_assert_eq(mpk_rd_array(&rd, &n), 0);
    cr_assert_eq(n, 2);
    pthread_mutex_unlock(&fake.mu);
    cqlmq_result_free(&r);
    /* A stale params object with an error is refused before sending. */
    cr_assert_eq(cqlmq_params_literal(p, "int", "x", 1, NULL), CQLMQ_ESYNTAX);
    cr_assert_eq(cqlmq_execute(cl, prep, &o, &r), CQLMQ_ESYNTAX);
    cr_assert_eq(cqlmq_execute(cl, NULL, NULL, &r), CQLMQ_EINVAL);
    cqlmq_params_free(&p);
    cqlmq_result_free(&prep);
}

Test(client, sends_batches_and_pre_encoded_params)
{
    cqlmq_batch_t *b = NULL;
    cqlmq_params_t *p = NULL;
    cqlmq_result_t *r = NULL;
    cr_assert_eq(cqlmq_batch_new("sideways", &b), CQLMQ_EINVAL);
    cr_assert_eq(cqlmq_batch_new("unlogged", &b), 0);
    cr_assert_eq(cqlmq_params_new(&p), 0);
    cqlmq_params_int64(p, 1);
    cqlmq_params_cstr(p, "x");
    cr_assert_eq(cqlmq_batch_add(b, "INSERT INTO t (k, v) VALUES (?, ?)", p), 0);
    cr_assert_eq(cqlmq_batch_add(b, "DELETE FROM t WHERE k = 2", NULL), 0);
    cr_assert_eq(cqlmq_batch(cl, b, NULL, &r), 0, "%s", cqlmq_client_error(cl)->message);
    cr_assert_eq(cqlmq_result_kind(r), CQLMQ_RESULT_VOID);
    cr_assert_eq(FAKE_GET(&fake, last_batch_statements), 2);
    cqlmq_result_free(&r);
    static const uint8_t pre[] = {0x92, 0x01, 0xa1, 'y'}; /* [1, "y"] */
    cqlmq_query_opts_t o = {.params_msgpack = pre, .params_msgpack_len = sizeof pre};
    cr_assert_eq(cqlmq_query(cl, "rows 1", &o, &r), 0);
    cr_assert_eq(FAKE_GET(&fake, last_params_len), sizeof pre);
    cqlmq_result_free(&r);
    static const uint8_t notarray[] = {0x01};
    o.params_msgpack = notarray;
    o.params_msgpack_len = 1;
    cr_assert_eq(cqlmq_query(cl, "rows 1", &o, &r), CQLMQ_EINVAL);
    cqlmq_params_free(&p);
    cqlmq_batch_free(&b);
    cr_assert_null(b);
}

Test(client, pings_and_reads_stats)
{
    uint64_t rtt = 0;
    cqlmq_result_t *r = NULL;
    cr_assert_eq(cqlmq_ping(cl, &rtt), 0);
    cr_assert_gt(rtt, 0);
    cr_assert_lt(rtt, 1000000);
    cr_assert_str_eq(cqlmq_client_server(cl), "fake/1");
    cr_assert_eq(cqlmq_stats(cl, &r), 0);
    cr_assert_eq(cqlmq_result_kind(r), CQLMQ_RESULT_STATS);
    cqlmq_value_t v;
    int64_t n;
    cr_assert_eq(cqlmq_result_get(r, "requests", &v), 0);
    cr_assert_eq(cqlmq_value_int64(&v, &n), 0);
    cr_assert_geq(n, 1);
    cr_assert_eq(cqlmq_result_get(r, "nope", &v), CQLMQ_ENOTFOUND);
    cqlmq_result_free(&r);
}

Test(client, refuses_requests_larger_than_the_server_accepts)
{
    cr_assert_eq(cqlmq_client_connect(cl), 0);
    size_t big = (1 << 20) + 16;
    char *cql = malloc(big + 1);
    memset(cql, 'x', big);
    cql[big] = '\0';
    cqlmq_result_t *r = NULL;
    cr_assert_eq(cqlmq_query(cl, cql, NULL, &r), CQLMQ_ETOOBIG);
    cr_assert_str_eq(cqlmq_client_error(cl)->code, "too_big");
    cr_assert_eq(cqlmq_client_pending(cl), 0);
    free(cql);
}

Test(client, completes_pending_requests_with_closed_when_freed)
{
    count_ctx_t k = {0};
    cr_assert_eq(cqlmq_query_async(cl, "silent", NULL, count_cb, &k, NULL), 0);
    cqlmq_client_free(&cl);
    cr_assert_null(cl);
    cr_assert_eq(k.calls, 1);
    cr_assert_eq(k.status, CQLMQ_ECLOSED);
    cqlmq_client_free(&cl); /* NULL is fine */
}
