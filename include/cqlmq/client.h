/*
 * cqlmq client: the C client of the cqlmq client protocol (docs/protocol.md).
 *
 * One client object owns one ZeroMQ DEALER socket connected to one cqlmqd
 * endpoint, and multiplexes any number of requests over it by `id`. It is
 * single-threaded: use a client from one thread at a time (give each thread
 * its own client; they may share a ZeroMQ context through the options).
 *
 * Two ways to use it, freely mixed:
 *
 *   Blocking   cqlmq_query(), cqlmq_execute(), cqlmq_prepare(), cqlmq_batch(),
 *              cqlmq_ping(), cqlmq_stats() send a request and wait for its
 *              terminal reply or its deadline. While waiting they also
 *              process replies of other requests (their callbacks run).
 *              Streams (cqlmq_query_stream) are iterators over pages and rows
 *              that grant credit as the consumer advances: at most
 *              `credit_window` pages are buffered, whatever the result size.
 *
 *   Async      cqlmq_*_async() submit a request and return its id at once;
 *              its callback runs exactly once, from cqlmq_client_process()
 *              (or from a blocking call's wait), with the terminal outcome.
 *              Integrate with an event loop through cqlmq_client_fd() and
 *              cqlmq_client_timeout_ms():
 *
 *                  fd readable, or timeout expired:
 *                      while (cqlmq_client_process(c) > 0) ;
 *
 *              The fd has ZMQ_FD semantics: it is EDGE-TRIGGERED and may
 *              stay unreadable while replies are queued. After it becomes
 *              readable (and after every submit from outside a callback),
 *              call cqlmq_client_process() until it returns 0 ("no more
 *              events"), and call it when cqlmq_client_timeout_ms() expires
 *              (deadlines, idle pings).
 *
 * Session: the first request sends `hello` (or call cqlmq_client_connect()).
 * Requests wait locally until the session is ready. When cqlmqd answers
 * `unknown_session` (it restarted, or the lease expired) the client sends
 * `hello` again and re-sends the request, transparently. When the ZeroMQ
 * connection drops (seen with zmq_socket_monitor), every request in flight
 * fails with code "disconnected" (CQLMQ_ECONNRESET); later requests open a
 * new session once the connection is back. Streams are not resumed: use
 * cqlmq_stream_paging_state() to start again where the last page ended.
 *
 * Deadlines: every request has one: its timeout (sent as `timeout_ms`) plus
 * `deadline_grace_ms`, so a lost gateway is noticed without racing cqlmqd's
 * own `timeout` reply. A stream's deadline runs only while it waits for a
 * page it has credit for.
 *
 * Errors: functions return 0 (or a count) or a negative CQLMQ_E* code
 * (cqlmq/error.h); a failed request also has a cqlmq_errinfo_t with the
 * contract's `code` string, the message, the Cassandra error code and the
 * details. Codes raised by the client itself: "timeout" (CQLMQ_ETIMEOUT),
 * "disconnected" (CQLMQ_ECONNRESET), "cancelled" (CQLMQ_ECANCELLED),
 * "bad_reply" (CQLMQ_EMALFORMED or another codec code: the reply broke the
 * contract), "too_big" (CQLMQ_ETOOBIG), "busy" (CQLMQ_EBUSY: the server's
 * in-flight or stream bound, or a full send queue), "closed" (CQLMQ_ECLOSED:
 * the client was freed), "zmq" (CQLMQ_EZMQ). Server codes map to
 * CQLMQ_ETIMEOUT (timeout), CQLMQ_ECANCELLED (cancelled), CQLMQ_EBUSY
 * (busy), CQLMQ_ENOHOST (no_host), CQLMQ_EUNPREPARED (unprepared),
 * CQLMQ_EAUTH (bad_credentials, unauthorized), CQLMQ_EBADVERSION
 * (unsupported_version), CQLMQ_ESERVER (all others).
 *
 * Values: rows hold msgpack values as the contract maps them (section 8).
 * cqlmq_value_t is a borrowed view of one of them plus its CQL type when
 * known; typed accessors read it, cqlmq_value_format() prints it as a CQL
 * literal (cqlsh style), and containers are walked with cqlmq_iter_t. The
 * fields of a UDT value carry their types when the reply described the UDT
 * in its `udts` map (section 6; cqlmq_result_get(r, "udts") gives the map
 * itself); otherwise they are read by their msgpack form alone.
 */
#ifndef CQLMQ_CLIENT_H
#define CQLMQ_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cqlmq/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cqlmq_client cqlmq_client_t;
typedef struct cqlmq_result cqlmq_result_t;
typedef struct cqlmq_stream cqlmq_stream_t;
typedef struct cqlmq_params cqlmq_params_t;
typedef struct cqlmq_batch cqlmq_batch_t;
struct cql_type; /* protocol/cql/cql_type.h; opaque here */

/* ------------------------------------------------------------------ */
/* Errors                                                              */

#define CQLMQ_ERROR_CODE_MAX 32
#define CQLMQ_ERROR_MESSAGE_MAX 512

/* The outcome of a failed request. details is owned by the object that
 * holds the error (clear it with cqlmq_error_clear). */
typedef struct cqlmq_errinfo {
    int rc;                                 /* 0 or a negative CQLMQ_E* code */
    char code[CQLMQ_ERROR_CODE_MAX];        /* "read_timeout", "disconnected"... */
    char message[CQLMQ_ERROR_MESSAGE_MAX];  /* human-readable, NUL-terminated */
    int32_t cql_code;                       /* Cassandra's error code, or -1 */
    uint8_t *details;                       /* msgpack map, or NULL (owned) */
    size_t details_len;                     /* bytes at details */
} cqlmq_errinfo_t;

/* Frees details and resets e to "no error". */
void cqlmq_error_clear(cqlmq_errinfo_t *e);
/* Deep copy (dst is cleared first). Returns 0 or CQLMQ_ENOMEM. */
int cqlmq_error_copy(cqlmq_errinfo_t *dst, const cqlmq_errinfo_t *src);
/* A detail of the error by key: an integer, or a string (borrowed from e).
 * Return 0, CQLMQ_ENOTFOUND (no such key, or no details) or
 * CQLMQ_EBADTYPE (the value has another type). */
int cqlmq_error_detail_int(const cqlmq_errinfo_t *e, const char *key, int64_t *out);
int cqlmq_error_detail_str(const cqlmq_errinfo_t *e, const char *key, const char **p, size_t *n);

/* Retry advice for an error code (docs/protocol.md section 9). */
typedef enum cqlmq_retry {
    CQLMQ_RETRY_NO = 0,        /* fix the request; or unknown codes */
    CQLMQ_RETRY_AFTER_HELLO,   /* the client does this by itself */
    CQLMQ_RETRY_LATER,         /* with backoff, or elsewhere */
    CQLMQ_RETRY_IF_IDEMPOTENT, /* only an idempotent request */
} cqlmq_retry_t;
cqlmq_retry_t cqlmq_error_retry(const cqlmq_errinfo_t *e);

/* ------------------------------------------------------------------ */
/* Client                                                              */

/* Limits the server announced in its hello reply. */
typedef struct cqlmq_limits {
    uint64_t max_message_bytes;  /* requests larger than this fail locally */
    uint64_t max_in_flight;
    uint64_t max_streams;
    uint64_t max_credit;         /* the credit window is clamped to it */
    uint64_t max_page_bytes;
    uint64_t default_page_size;
    uint64_t default_timeout_ms;
    uint64_t max_timeout_ms;     /* timeouts are clamped to it */
    uint64_t lease_ms;           /* idle pings go out every lease_ms / 3 */
} cqlmq_limits_t;

/* Options; start from cqlmq_client_opts_init(). Zero means "default". */
typedef struct cqlmq_client_opts {
    const char *client_name;     /* hello `client` ("cqlmq-c/0.1.0"); copied */
    void *zmq_ctx;               /* a ZeroMQ context to share (needed for
                                    inproc:// endpoints), or NULL: the client
                                    makes and owns one */
    uint32_t timeout_ms;         /* request timeout sent to cqlmqd; 0: the
                                    server's default_timeout_ms */
    uint32_t deadline_grace_ms;  /* client deadline = timeout + this (500) */
    uint32_t connect_timeout_ms; /* hello deadline (5000) */
    uint32_t credit_window;      /* stream pages granted ahead (2; at most
                                    max_credit) */
    uint32_t page_size;          /* rows per page; 0: the server's default */
    uint32_t heartbeat_ivl_ms;   /* ZMTP heartbeat interval (5000) */
    uint32_t heartbeat_ttl_ms;   /* and time-to-live / timeout (15000) */
    uint32_t ping_idle_ms;       /* ping when idle this long (lease_ms / 3) */
    int64_t max_reply_bytes;     /* ZMQ_MAXMSGSIZE (256 MiB); -1: no limit */
    uint32_t session_retries;    /* re-sends after unknown_session (2) */
} cqlmq_client_opts_t;

void cqlmq_client_opts_init(cqlmq_client_opts_t *o);

/* Creates a client and connects its socket to endpoint (tcp://, ipc://,
 * inproc://). Nothing is sent until the first request. opts may be NULL.
 * Returns 0, CQLMQ_EINVAL (NULL endpoint), CQLMQ_ENOMEM or CQLMQ_EZMQ (the
 * endpoint was refused by ZeroMQ, e.g. malformed). */
int cqlmq_client_new(const char *endpoint, const cqlmq_client_opts_t *opts,
                     cqlmq_client_t **out);
/* Completes every pending request with CQLMQ_ECLOSED (callbacks run), closes
 * the socket and frees the client; *c becomes NULL. Accepts NULL. Must not
 * be called from a callback. Open blocking streams stay valid to free. */
void cqlmq_client_free(cqlmq_client_t **c);

/* Blocking hello: opens the session now (otherwise the first request does).
 * Returns 0 or the error of the hello request (cqlmq_client_error). */
int cqlmq_client_connect(cqlmq_client_t *c);
/* The server's limits, or NULL before the first successful hello. Borrowed
 * from the client; updated by every hello. */
const cqlmq_limits_t *cqlmq_client_limits(const cqlmq_client_t *c);
/* Session id and server name of the current session ("" when none). */
const char *cqlmq_client_session(const cqlmq_client_t *c);
const char *cqlmq_client_server(const cqlmq_client_t *c);
/* The error of the last failed blocking call (borrowed from the client). */
const cqlmq_errinfo_t *cqlmq_client_error(const cqlmq_client_t *c);
/* Requests not yet completed (streams included). */
size_t cqlmq_client_pending(const cqlmq_client_t *c);

/* ------------------------------------------------------------------ */
/* Bind parameters                                                     */

/* A builder of a `params` value: positional (an array) or, once
 * cqlmq_params_name() was used, by name (a map). Containers are opened
 * with their item count and close themselves after that many values.
 * Writes never fail one by one: the first error is sticky and reported by
 * cqlmq_params_error() and by the request that uses the params. */
int cqlmq_params_new(cqlmq_params_t **out);              /* 0 or CQLMQ_ENOMEM */
void cqlmq_params_free(cqlmq_params_t **p);
/* Forgets every value (and the error). */
void cqlmq_params_reset(cqlmq_params_t *p);
/* 0, or the first error: CQLMQ_ENOMEM, CQLMQ_EINVAL (misuse: a name inside
 * a container, mixing named and positional values, a container left
 * open), CQLMQ_ELIMIT (containers nested deeper than 32), or a literal's
 * parse error (cqlmq_params_literal). */
int cqlmq_params_error(const cqlmq_params_t *p);
/* Top-level values added so far. */
uint32_t cqlmq_params_count(const cqlmq_params_t *p);

/* Names the next top-level value (makes the params a map). */
void cqlmq_params_name(cqlmq_params_t *p, const char *name);
void cqlmq_params_null(cqlmq_params_t *p);
void cqlmq_params_unset(cqlmq_params_t *p);              /* leave the column unchanged */
void cqlmq_params_bool(cqlmq_params_t *p, bool v);
void cqlmq_params_int64(cqlmq_params_t *p, int64_t v);   /* every integer type */
void cqlmq_params_float(cqlmq_params_t *p, float v);
void cqlmq_params_double(cqlmq_params_t *p, double v);
void cqlmq_params_text(cqlmq_params_t *p, const char *s, size_t n);
void cqlmq_params_cstr(cqlmq_params_t *p, const char *s);
void cqlmq_params_blob(cqlmq_params_t *p, const void *b, size_t n);
void cqlmq_params_uuid(cqlmq_params_t *p, const uint8_t u[16]);
void cqlmq_params_timestamp_ms(cqlmq_params_t *p, int64_t ms);
void cqlmq_params_date(cqlmq_params_t *p, int32_t days_since_epoch);
void cqlmq_params_time(cqlmq_params_t *p, int64_t ns_since_midnight);
void cqlmq_params_duration(cqlmq_params_t *p, int32_t months, int32_t days, int64_t ns);
void cqlmq_params_inet(cqlmq_params_t *p, const uint8_t *addr, size_t size); /* 4 or 16 */
/* Numbers of any size as decimal text ("-1.5e3", "123456789012345678901"). */
void cqlmq_params_decimal(cqlmq_params_t *p, const char *text);
void cqlmq_params_varint(cqlmq_params_t *p, const char *text);
/* Containers: the next n values (n pairs for a map: key, value, key, ...)
 * are its items. A UDT is a map from field name (text) to value; a tuple
 * is a list. */
void cqlmq_params_list(cqlmq_params_t *p, uint32_t n);
void cqlmq_params_map(cqlmq_params_t *p, uint32_t npairs);
/* One value already encoded as msgpack (validated). */
void cqlmq_params_msgpack(cqlmq_params_t *p, const void *mp, size_t len);
/* One value written as cqlsh writes a literal of the CQL type `type`
 * ("int", "map<text, frozen<list<int>>>", ...): 42, -1.5, NaN, 'it''s',
 * bare text at the top level of text types, true, null, uuids, 0xcafe,
 * '2024-01-02 03:04:05+0000' or milliseconds, '2024-01-02', '03:04:05.5',
 * 1h30m / P1DT2H, '10.0.0.1', decimals and varints of any size,
 * [1, 2], {1, 2}, {'a': 1}, (1, 'x'), {street: 'x'}. A UDT's fields are
 * written as their literals look (the type string names no fields).
 * On error the params get the sticky error and, when err is not NULL, err
 * says where ("at 7: expected ',' or ']'"). Returns the error: 0,
 * CQLMQ_ESYNTAX (not a literal of the type), CQLMQ_ERANGE (out of the
 * type's range), CQLMQ_EBADTYPE (the type string is not a CQL type). */
int cqlmq_params_literal(cqlmq_params_t *p, const char *type, const char *text, size_t n,
                         cqlmq_errinfo_t *err);

/* ------------------------------------------------------------------ */
/* Requests                                                            */

/* Per-request options for query, execute and batch. Zeroed = defaults. */
typedef struct cqlmq_query_opts {
    const char *keyspace;            /* NULL: the session's */
    const char *consistency;         /* "quorum"...; NULL: local_one */
    const char *serial_consistency;  /* "serial" / "local_serial" */
    uint32_t timeout_ms;             /* 0: the client's timeout_ms */
    bool has_timestamp;
    int64_t timestamp;               /* write timestamp, µs since the epoch */
    bool idempotent;
    uint32_t page_size;              /* 0: the client's page_size */
    const uint8_t *paging_state;     /* resume from here (borrowed) */
    size_t paging_state_len;
    const cqlmq_params_t *params;    /* bind values, or NULL */
    const uint8_t *params_msgpack;   /* or pre-encoded: one array or map */
    size_t params_msgpack_len;
    uint32_t credit;                 /* streams: initial credit; 0: the
                                        client's credit_window */
} cqlmq_query_opts_t;

/* What a terminal reply holds. */
typedef enum cqlmq_result_kind {
    CQLMQ_RESULT_ROWS = 1,     /* query / execute / batch, or a stream page */
    CQLMQ_RESULT_VOID,
    CQLMQ_RESULT_SET_KEYSPACE, /* get "keyspace" */
    CQLMQ_RESULT_SCHEMA_CHANGE,/* get "change", "target", "keyspace", "name" */
    CQLMQ_RESULT_PREPARED,     /* a statement handle for execute */
    CQLMQ_RESULT_PONG,
    CQLMQ_RESULT_STATS,        /* get any counter: "requests", "in_flight"... */
    CQLMQ_RESULT_HELLO,
} cqlmq_result_kind_t;

/* Blocking calls. Each sends one request and waits for its terminal reply;
 * *out (freed with cqlmq_result_free) gets the result. They return 0 or
 * the request's error code, whose cqlmq_errinfo_t is cqlmq_client_error(c);
 * also CQLMQ_EINVAL (bad arguments), CQLMQ_ESTATE (called from a callback),
 * CQLMQ_ETOOBIG (request above max_message_bytes), or the params' error. */
int cqlmq_query(cqlmq_client_t *c, const char *cql, const cqlmq_query_opts_t *o,
                cqlmq_result_t **out);
int cqlmq_prepare(cqlmq_client_t *c, const char *cql, const char *keyspace,
                  cqlmq_result_t **out);
/* prepared: a CQLMQ_RESULT_PREPARED result (borrowed for the call). */
int cqlmq_execute(cqlmq_client_t *c, const cqlmq_result_t *prepared,
                  const cqlmq_query_opts_t *o, cqlmq_result_t **out);
int cqlmq_batch(cqlmq_client_t *c, const cqlmq_batch_t *b, const cqlmq_query_opts_t *o,
                cqlmq_result_t **out);
/* Round trip of a ping in microseconds (rtt_us may be NULL). */
int cqlmq_ping(cqlmq_client_t *c, uint64_t *rtt_us);
int cqlmq_stats(cqlmq_client_t *c, cqlmq_result_t **out);

/* Batches: kind "logged", "unlogged" or "counter". */
int cqlmq_batch_new(const char *kind, cqlmq_batch_t **out); /* 0, EINVAL, ENOMEM */
void cqlmq_batch_free(cqlmq_batch_t **b);
/* Adds a statement (params may be NULL). Returns 0, CQLMQ_EINVAL (NULL cql,
 * a result that is not PREPARED, params with an error), CQLMQ_ENOMEM. */
int cqlmq_batch_add(cqlmq_batch_t *b, const char *cql, const cqlmq_params_t *params);
int cqlmq_batch_add_prepared(cqlmq_batch_t *b, const cqlmq_result_t *prepared,
                             const cqlmq_params_t *params);

/* Async calls. On success they return 0 and *id (may be NULL) gets the
 * request id; cb then runs exactly once with the terminal outcome. On
 * failure they return the error (as the blocking calls) and cb never runs.
 * In cb: status is 0 or the error code; on success *res is the result,
 * which cb may keep by taking it (`keep = *res; *res = NULL;`), otherwise it
 * is freed after cb returns; on failure res is NULL and err says why
 * (borrowed for the call). cb may submit and cancel requests; it must not
 * call blocking functions or free the client. */
typedef void (*cqlmq_done_cb)(cqlmq_client_t *c, uint64_t id, int status, cqlmq_result_t **res,
                              const cqlmq_errinfo_t *err, void *ud);
/* One page of a stream, borrowed for the call; credit for one more page is
 * granted when the callback returns. */
typedef void (*cqlmq_page_cb)(cqlmq_client_t *c, uint64_t id, const cqlmq_result_t *page,
                              void *ud);

int cqlmq_query_async(cqlmq_client_t *c, const char *cql, const cqlmq_query_opts_t *o,
                      cqlmq_done_cb cb, void *ud, uint64_t *id);
int cqlmq_prepare_async(cqlmq_client_t *c, const char *cql, const char *keyspace,
                        cqlmq_done_cb cb, void *ud, uint64_t *id);
int cqlmq_execute_async(cqlmq_client_t *c, const cqlmq_result_t *prepared,
                        const cqlmq_query_opts_t *o, cqlmq_done_cb cb, void *ud, uint64_t *id);
int cqlmq_batch_async(cqlmq_client_t *c, const cqlmq_batch_t *b, const cqlmq_query_opts_t *o,
                      cqlmq_done_cb cb, void *ud, uint64_t *id);
int cqlmq_ping_async(cqlmq_client_t *c, cqlmq_done_cb cb, void *ud, uint64_t *id);
int cqlmq_stats_async(cqlmq_client_t *c, cqlmq_done_cb cb, void *ud, uint64_t *id);
/* Streams: page_cb for each page, then cb once: status 0 with a result
 * whose kind is ROWS and no rows (get "pages", "rows") at `done`, the
 * query's own result when it returned no rows, or the error. prepared may
 * be NULL for cqlmq_query_stream_async (cql is then required). */
int cqlmq_query_stream_async(cqlmq_client_t *c, const char *cql, const cqlmq_result_t *prepared,
                             const cqlmq_query_opts_t *o, cqlmq_page_cb page_cb, cqlmq_done_cb cb,
                             void *ud, uint64_t *id);

/* Cancels request id: cqlmqd is told, and the request completes with
 * CQLMQ_ECANCELLED (code "cancelled") at the next process call; any later
 * reply is ignored. Returns 0 or CQLMQ_ENOTFOUND (no such request, or it
 * already completed). */
int cqlmq_cancel(cqlmq_client_t *c, uint64_t id);

/* The pollable fd (readable = maybe events; edge-triggered, see the file
 * comment). One fd covers the socket and its disconnect monitor. Returns
 * 0 or CQLMQ_EZMQ. */
int cqlmq_client_fd(cqlmq_client_t *c, int *fd);
/* Handles what is pending: deferred completions, disconnect events, up to
 * a bounded batch of replies, deadlines and idle pings. Returns the number
 * of events handled: call again until it returns 0. Negative: CQLMQ_ESTATE
 * (called from a callback). */
int cqlmq_client_process(cqlmq_client_t *c);
/* Milliseconds until the next deadline or ping (0: process now), or -1 when
 * nothing is timed. */
int cqlmq_client_timeout_ms(const cqlmq_client_t *c);

/* ------------------------------------------------------------------ */
/* Blocking streams                                                    */

/* Starts a streamed query (prepared may be NULL; else cql is ignored).
 * Returns 0 and *out, or the errors of the blocking calls. Errors of the
 * stream itself come from cqlmq_stream_next_page / _next_row. */
int cqlmq_query_stream(cqlmq_client_t *c, const char *cql, const cqlmq_result_t *prepared,
                       const cqlmq_query_opts_t *o, cqlmq_stream_t **out);
/* Waits for the next page. The previous page is released and its credit
 * granted. Returns 1 and *page (borrowed until the next call or free), 0 at
 * the end of the stream, or the stream's error (cqlmq_stream_error). */
int cqlmq_stream_next_page(cqlmq_stream_t *s, const cqlmq_result_t **page);
/* Row by row over the pages. Returns 1 and *row (valid until the next
 * call), 0 at the end, or the stream's error. */
typedef struct cqlmq_row {
    const cqlmq_result_t *res; /* the page the row belongs to */
    uint32_t index;            /* row number within the page */
} cqlmq_row_t;
int cqlmq_stream_next_row(cqlmq_stream_t *s, cqlmq_row_t *row);
/* The stream's error (rc 0 while none). Borrowed from the stream. */
const cqlmq_errinfo_t *cqlmq_stream_error(const cqlmq_stream_t *s);
/* The last paging_state a page carried: where a new query resumes. Returns
 * 0 or CQLMQ_ENOTFOUND (none yet). Borrowed until the next call. */
int cqlmq_stream_paging_state(const cqlmq_stream_t *s, const uint8_t **p, size_t *n);
/* Pages and rows received so far. */
void cqlmq_stream_totals(const cqlmq_stream_t *s, uint64_t *pages, uint64_t *rows);
/* The request id of the stream. */
uint64_t cqlmq_stream_id(const cqlmq_stream_t *s);
/* Cancels a running stream; next_page then returns CQLMQ_ECANCELLED.
 * Returns 0 or CQLMQ_ENOTFOUND (already ended). */
int cqlmq_stream_cancel(cqlmq_stream_t *s);
/* Cancels the stream if still running and frees it. Accepts NULL. */
void cqlmq_stream_free(cqlmq_stream_t **s);

/* ------------------------------------------------------------------ */
/* Results, rows and values                                            */

void cqlmq_result_free(cqlmq_result_t **r);
cqlmq_result_kind_t cqlmq_result_kind(const cqlmq_result_t *r);
/* Columns of a ROWS result or page (a PREPARED result: of its result
 * rows). Names and CQL type strings are NUL-terminated, borrowed from r;
 * NULL when i is out of range. */
uint32_t cqlmq_result_column_count(const cqlmq_result_t *r);
const char *cqlmq_result_column_name(const cqlmq_result_t *r, uint32_t i);
const char *cqlmq_result_column_type(const cqlmq_result_t *r, uint32_t i);
/* Bind markers of a PREPARED result, the same way. */
uint32_t cqlmq_result_param_count(const cqlmq_result_t *r);
const char *cqlmq_result_param_name(const cqlmq_result_t *r, uint32_t i);
const char *cqlmq_result_param_type(const cqlmq_result_t *r, uint32_t i);
uint32_t cqlmq_result_row_count(const cqlmq_result_t *r);
/* paging_state of a ROWS result or page: 0 or CQLMQ_ENOTFOUND. */
int cqlmq_result_paging_state(const cqlmq_result_t *r, const uint8_t **p, size_t *n);

typedef struct cqlmq_value {
    const uint8_t *ptr;          /* the value's msgpack encoding (borrowed) */
    size_t len;                  /* its length */
    const struct cql_type *type; /* its CQL type, or NULL when unknown */
} cqlmq_value_t;

/* Any top-level field of the reply ("keyspace", "warnings", "requests"...).
 * Returns 0, CQLMQ_ENOTFOUND. */
int cqlmq_result_get(const cqlmq_result_t *r, const char *key, cqlmq_value_t *out);
/* The whole reply map, for walking every field (cqlmq_value_iter). */
void cqlmq_result_message(const cqlmq_result_t *r, cqlmq_value_t *out);
/* Row i (0-based) of the result: 0 or CQLMQ_ENOTFOUND. Sequential access
 * is O(1) per row, random access O(distance) from the last row read. */
int cqlmq_result_row(const cqlmq_result_t *r, uint32_t i, cqlmq_row_t *row);
/* Value of column col of the row: 0 or CQLMQ_ENOTFOUND (col out of range).
 * Valid while the result is. */
int cqlmq_row_value(const cqlmq_row_t *row, uint32_t col, cqlmq_value_t *out);

typedef enum cqlmq_kind {
    CQLMQ_K_NULL = 0, CQLMQ_K_EMPTY, CQLMQ_K_BOOL, CQLMQ_K_INT, CQLMQ_K_VARINT,
    CQLMQ_K_FLOAT, CQLMQ_K_DOUBLE, CQLMQ_K_DECIMAL, CQLMQ_K_TEXT, CQLMQ_K_BLOB,
    CQLMQ_K_UUID, CQLMQ_K_TIMESTAMP, CQLMQ_K_DATE, CQLMQ_K_TIME, CQLMQ_K_DURATION,
    CQLMQ_K_INET, CQLMQ_K_LIST, CQLMQ_K_SET, CQLMQ_K_MAP, CQLMQ_K_TUPLE, CQLMQ_K_UDT,
    CQLMQ_K_UNKNOWN,
} cqlmq_kind_t;

/* What the value holds, from its msgpack form and its type. */
cqlmq_kind_t cqlmq_value_kind(const cqlmq_value_t *v);
bool cqlmq_value_is_null(const cqlmq_value_t *v);

/* Typed accessors. Each returns 0, CQLMQ_ENOTFOUND (the value is null or
 * empty), CQLMQ_EBADTYPE (it holds another kind, or its encoding is broken)
 * or CQLMQ_ERANGE (does not fit the C type). Slices borrow the result. */
int cqlmq_value_bool(const cqlmq_value_t *v, bool *out);
int cqlmq_value_int64(const cqlmq_value_t *v, int64_t *out);   /* any integer */
int cqlmq_value_double(const cqlmq_value_t *v, double *out);   /* float, double, int */
int cqlmq_value_text(const cqlmq_value_t *v, const char **p, size_t *n);
int cqlmq_value_bytes(const cqlmq_value_t *v, const uint8_t **p, size_t *n); /* blob */
int cqlmq_value_uuid(const cqlmq_value_t *v, uint8_t out[16]);
int cqlmq_value_timestamp_ms(const cqlmq_value_t *v, int64_t *ms);
int cqlmq_value_date(const cqlmq_value_t *v, int32_t *days_since_epoch);
int cqlmq_value_time(const cqlmq_value_t *v, int64_t *ns_since_midnight);
int cqlmq_value_duration(const cqlmq_value_t *v, int32_t *months, int32_t *days, int64_t *ns);
int cqlmq_value_inet(const cqlmq_value_t *v, uint8_t addr[16], size_t *size);
/* Integers, varints, decimals and floats as exact decimal text
 * ("-12345678901234567890123", "1.50"). Returns the length the text needs
 * (like snprintf: buf gets at most cap - 1 bytes and a NUL), or
 * CQLMQ_ENOTFOUND, CQLMQ_EBADTYPE, CQLMQ_ENOMEM. */
int cqlmq_value_number_text(const cqlmq_value_t *v, char *buf, size_t cap);
/* The value as a CQL literal, cqlsh style ('it''s', [1, 2], {k: 'v'},
 * '2024-01-02 03:04:05.678000+0000', null). Returns the length needed
 * (like snprintf) or CQLMQ_EBADTYPE (broken encoding), CQLMQ_ENOMEM,
 * CQLMQ_ELIMIT (nested too deep). */
int cqlmq_value_format(const cqlmq_value_t *v, char *buf, size_t cap);

/* Containers: lists, sets and tuples yield items; maps and UDTs yield
 * (key, value) pairs (a UDT's keys are its field names, as text). */
typedef struct cqlmq_iter {
    const uint8_t *p;            /* the container's bytes after its header */
    size_t len;                  /* bytes at p */
    size_t pos;                  /* bytes consumed */
    uint32_t count;              /* items, or pairs */
    uint32_t index;              /* items (pairs) yielded so far */
    bool pairs;                  /* map or UDT */
    const struct cql_type *type; /* the container's type, or NULL */
} cqlmq_iter_t;
/* Returns 0, CQLMQ_ENOTFOUND (null) or CQLMQ_EBADTYPE (not a container). */
int cqlmq_value_iter(const cqlmq_value_t *v, cqlmq_iter_t *it);
/* Return 1 and the next item (pair), 0 at the end, CQLMQ_EBADTYPE (next on
 * a map, next_pair on a list) or a codec error for broken bytes. */
int cqlmq_iter_next(cqlmq_iter_t *it, cqlmq_value_t *item);
int cqlmq_iter_next_pair(cqlmq_iter_t *it, cqlmq_value_t *key, cqlmq_value_t *val);

#ifdef __cplusplus
}
#endif
#endif /* CQLMQ_CLIENT_H */
