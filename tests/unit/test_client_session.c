/*
 * The C client's session and stream behaviour against a fake cqlmqd:
 * transparent re-hello after unknown_session, `disconnected` when the
 * server goes, and streams whose credit follows the consumer.
 */
#include <criterion/criterion.h>
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
    o.credit_window = 2;
    cr_assert_eq(cqlmq_client_new(fake.endpoint, &o, &cl), 0);
}

static void teardown(void)
{
    cqlmq_client_free(&cl);
    fake_stop(&fake);
}

TestSuite(client_session, .init = setup, .fini = teardown, .timeout = 20);

Test(client_session, re_sends_hello_after_unknown_session_transparently)
{
    cqlmq_result_t *r = NULL;
    cr_assert_eq(cqlmq_client_connect(cl), 0);
    cr_assert_eq(FAKE_GET(&fake, hellos), 1);
    fake_restart(&fake);
    cr_assert_eq(cqlmq_query(cl, "rows 2", NULL, &r), 0, "%s", cqlmq_client_error(cl)->message);
    cr_assert_eq(cqlmq_result_row_count(r), 2);
    cr_assert_eq(FAKE_GET(&fake, unknown_sessions), 1);
    cr_assert_eq(FAKE_GET(&fake, hellos), 2);
    cqlmq_result_free(&r);
    /* Twice in a row works as well. */
    fake_restart(&fake);
    cr_assert_eq(cqlmq_ping(cl, NULL), 0);
    cr_assert_eq(FAKE_GET(&fake, hellos), 3);
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

Test(client_session, re_sends_every_request_of_a_lost_session_once)
{
    count_ctx_t k[4] = {{0}};
    cr_assert_eq(cqlmq_client_connect(cl), 0);
    fake_restart(&fake);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cqlmq_query_async(cl, "rows 1", NULL, count_cb, &k[i], NULL), 0);
    for (int i = 0; i < 400 && cqlmq_client_pending(cl) > 0; i++) {
        while (cqlmq_client_process(cl) > 0)
            ;
        fake_sleep_ms(5);
    }
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(k[i].calls, 1);
        cr_assert_eq(k[i].status, 0, "request %d: %s", i, k[i].code);
    }
    cr_assert_eq(FAKE_GET(&fake, unknown_sessions), 4);
    cr_assert_eq(FAKE_GET(&fake, hellos), 2, "one hello for the lost session, not one each");
}

Test(client_session, fails_requests_in_flight_with_disconnected_when_the_server_goes)
{
    count_ctx_t k = {0};
    cqlmq_query_opts_t o = {.timeout_ms = 10000};
    cr_assert_eq(cqlmq_client_connect(cl), 0);
    cr_assert_eq(cqlmq_query_async(cl, "silent", &o, count_cb, &k, NULL), 0);
    for (int i = 0; i < 100 && FAKE_GET(&fake, requests) < 1; i++) {
        cqlmq_client_process(cl);
        fake_sleep_ms(5);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fake_kill(&fake);
    for (int i = 0; i < 400 && k.calls == 0; i++) {
        while (cqlmq_client_process(cl) > 0)
            ;
        fake_sleep_ms(5);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    cr_assert_eq(k.calls, 1);
    cr_assert_eq(k.status, CQLMQ_ECONNRESET);
    cr_assert_str_eq(k.code, "disconnected");
    cr_assert_lt(ms, 1500, "noticed after %.0f ms, long before the 10 s deadline", ms);
    /* With no server, a new request waits for a session and then fails by
     * its deadline, never hangs. */
    o.timeout_ms = 100;
    cqlmq_result_t *r = NULL;
    int rc = cqlmq_query(cl, "rows 1", &o, &r);
    cr_assert(rc == CQLMQ_ETIMEOUT || rc == CQLMQ_ECONNRESET, "rc %d", rc);
}

Test(client_session, streams_grant_credit_as_the_consumer_advances)
{
    cqlmq_stream_t *s = NULL;
    const cqlmq_result_t *page;
    cqlmq_query_opts_t o = {.credit = 2};
    cr_assert_eq(cqlmq_query_stream(cl, "stream 10 5", NULL, &o, &s), 0);
    cr_assert_eq(cqlmq_stream_next_page(s, &page), 1);
    cr_assert_eq(cqlmq_result_column_count(page), 2);
    cr_assert_str_eq(cqlmq_result_column_name(page, 0), "id");
    /* The consumer holds page 0: the server may have sent 2, no more. */
    fake_sleep_ms(100);
    cqlmq_client_process(cl);
    cr_assert_eq(FAKE_GET(&fake, credit_msgs), 0, "no credit before a page is consumed");
    pthread_mutex_lock(&fake.mu);
    uint64_t sent = fake.streams[0].sent;
    pthread_mutex_unlock(&fake.mu);
    cr_assert_eq(sent, 2);
    uint64_t rows = cqlmq_result_row_count(page), pages = 1;
    int rc;
    while ((rc = cqlmq_stream_next_page(s, &page)) == 1) {
        pages++;
        rows += cqlmq_result_row_count(page);
        /* Rows of later pages use the first page's columns. */
        cqlmq_row_t row;
        cqlmq_value_t v;
        int64_t id;
        cr_assert_eq(cqlmq_result_row(page, 0, &row), 0);
        cr_assert_eq(cqlmq_row_value(&row, 0, &v), 0);
        cr_assert_eq(cqlmq_value_int64(&v, &id), 0);
        cr_assert_eq(id, (int64_t)(pages - 1) * 5);
        cr_assert_str_eq(cqlmq_result_column_type(page, 1), "text");
    }
    cr_assert_eq(rc, 0, "%s", cqlmq_stream_error(s)->message);
    cr_assert_eq(pages, 10);
    cr_assert_eq(rows, 50);
    uint64_t tp, tr;
    cqlmq_stream_totals(s, &tp, &tr);
    cr_assert_eq(tp, 10);
    cr_assert_eq(tr, 50);
    /* One credit per consumed page, never beyond: 8 or 9 while the stream
     * ran, and a 10th when the consumer moves past the last page before
     * `done` has arrived (the client cannot know the stream ended; this
     * happens under load). */
    cr_assert_geq(FAKE_GET(&fake, credit_total), 8);
    cr_assert_leq(FAKE_GET(&fake, credit_total), 10);
    cr_assert_leq(FAKE_GET(&fake, max_outstanding), 2);
    const uint8_t *ps;
    size_t n;
    cr_assert_eq(cqlmq_stream_paging_state(s, &ps, &n), 0);
    cr_assert_eq(n, 4);
    cr_assert_eq(memcmp(ps, "ps-8", 4), 0, "the last paging_state seen");
    cr_assert_eq(cqlmq_stream_next_page(s, &page), 0, "the end stays the end");
    cqlmq_stream_free(&s);
    cr_assert_null(s);
    cr_assert_eq(cqlmq_client_pending(cl), 0);
}

Test(client_session, streams_row_by_row)
{
    cqlmq_stream_t *s = NULL;
    cqlmq_row_t row;
    int64_t want = 0;
    int rc;
    cr_assert_eq(cqlmq_query_stream(cl, "stream 3 4", NULL, NULL, &s), 0);
    while ((rc = cqlmq_stream_next_row(s, &row)) == 1) {
        cqlmq_value_t v;
        int64_t id;
        cr_assert_eq(cqlmq_row_value(&row, 0, &v), 0);
        cr_assert_eq(cqlmq_value_int64(&v, &id), 0);
        cr_assert_eq(id, want++);
    }
    cr_assert_eq(rc, 0);
    cr_assert_eq(want, 12);
    cqlmq_stream_free(&s);
}

Test(client_session, cancels_a_stream_and_tells_the_server)
{
    cqlmq_stream_t *s = NULL;
    const cqlmq_result_t *page;
    cr_assert_eq(cqlmq_query_stream(cl, "stream 100 1", NULL, NULL, &s), 0);
    cr_assert_eq(cqlmq_stream_next_page(s, &page), 1);
    cr_assert_eq(cqlmq_stream_cancel(s), 0);
    cr_assert_eq(cqlmq_stream_next_page(s, &page), CQLMQ_ECANCELLED);
    cr_assert_str_eq(cqlmq_stream_error(s)->code, "cancelled");
    cr_assert_eq(cqlmq_stream_cancel(s), CQLMQ_ENOTFOUND);
    for (int i = 0; i < 100 && FAKE_GET(&fake, cancels) < 1; i++)
        fake_sleep_ms(5);
    cr_assert_eq(FAKE_GET(&fake, cancels), 1);
    cr_assert_eq(FAKE_GET(&fake, last_cancel_id), cqlmq_stream_id(s));
    cqlmq_stream_free(&s);
    /* Freeing a running stream cancels it too. */
    cr_assert_eq(cqlmq_query_stream(cl, "stream 100 1", NULL, NULL, &s), 0);
    cr_assert_eq(cqlmq_stream_next_page(s, &page), 1);
    cqlmq_stream_free(&s);
    cr_assert_eq(cqlmq_ping(cl, NULL), 0);
    cr_assert_eq(FAKE_GET(&fake, cancels), 2);
    cr_assert_eq(cqlmq_client_pending(cl), 0);
}

Test(client_session, fails_a_stream_whose_pages_stop_coming)
{
    cqlmq_stream_t *s = NULL;
    const cqlmq_result_t *page;
    cqlmq_query_opts_t o = {.timeout_ms = 100};
    cr_assert_eq(cqlmq_query_stream(cl, "stall", NULL, &o, &s), 0);
    cr_assert_eq(cqlmq_stream_next_page(s, &page), 1);
    cr_assert_eq(cqlmq_stream_next_page(s, &page), CQLMQ_ETIMEOUT);
    cr_assert_str_eq(cqlmq_stream_error(s)->code, "timeout");
    cqlmq_stream_free(&s);
}

typedef struct astream {
    int pages, rows, done, status;
} astream_t;

static void apage_cb(cqlmq_client_t *c, uint64_t id, const cqlmq_result_t *page, void *ud)
{
    astream_t *a = ud;
    (void)c, (void)id;
    a->pages++;
    a->rows += (int)cqlmq_result_row_count(page);
}

static void adone_cb(cqlmq_client_t *c, uint64_t id, int status, cqlmq_result_t **res,
                     const cqlmq_errinfo_t *err, void *ud)
{
    astream_t *a = ud;
    (void)c, (void)id, (void)err;
    a->done++;
    a->status = status;
    cqlmq_value_t v;
    int64_t n = -1;
    if (status == 0 && cqlmq_result_get(*res, "rows", &v) == 0)
        cqlmq_value_int64(&v, &n);
    if (n != a->rows)
        a->status = -1000;
}

Test(client_session, async_streams_call_back_per_page_then_once_at_the_end)
{
    astream_t a = {0};
    cr_assert_eq(cqlmq_query_stream_async(cl, "stream 6 3", NULL, NULL, apage_cb, adone_cb, &a, NULL), 0);
    for (int i = 0; i < 400 && a.done == 0; i++) {
        while (cqlmq_client_process(cl) > 0)
            ;
        fake_sleep_ms(2);
    }
    cr_assert_eq(a.done, 1);
    cr_assert_eq(a.status, 0);
    cr_assert_eq(a.pages, 6);
    cr_assert_eq(a.rows, 18);
    cr_assert_leq(FAKE_GET(&fake, max_outstanding), 2);
}

Test(client_session, executes_a_prepared_statement_as_a_stream)
{
    cqlmq_result_t *prep = NULL;
    cqlmq_stream_t *s = NULL;
    cqlmq_row_t row;
    int n = 0, rc;
    cr_assert_eq(cqlmq_prepare(cl, "SELECT * FROM t", NULL, &prep), 0);
    cr_assert_eq(cqlmq_query_stream(cl, NULL, prep, NULL, &s), 0);
    while ((rc = cqlmq_stream_next_row(s, &row)) == 1)
        n++;
    cr_assert_eq(rc, 0);
    cr_assert_eq(n, 4);
    cqlmq_stream_free(&s);
    cqlmq_result_free(&prep);
}
