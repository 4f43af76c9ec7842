/*
 * cqlc_int: the C client's private structures and the functions its files
 * share (prefix cqlc_). Nothing here is public: include/cqlmq/client.h is.
 *
 * Layout of the library:
 *   client.c         lifecycle, sockets, monitor, pollable fd, id table, send
 *   client_io.c      cqlmq_client_process: replies, session, timers, events
 *   client_api.c     request encoders, async submit, blocking wrappers
 *   client_stream.c  blocking streams (page queue, credit on consumption)
 *   client_result.c  reply -> result validation, columns, rows
 *   client_value.c   typed accessors and iteration of msgpack values
 *   client_format.c  values as CQL literals and as JSON
 *   client_params.c  params and batch builders
 *   client_literal.c cqlsh literals -> msgpack (params, the CLI)
 *   client_error.c   error objects and the mapping of codes
 *   client_output.c  table / JSON lines / CSV writers (cqlc_output.h)
 */
#ifndef CQLC_INT_H
#define CQLC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "cqlmq/client.h"
#include "cql_arena.h"
#include "cql_type.h"
#include "mpk.h"
#include "wire_msg.h"

#define CQLC_VERSION "cqlmq-c/0.1.0"
#define CQLC_BATCH 256          /* replies handled per process call */
#define CQLC_NEVER INT64_MAX    /* "no deadline" */

/* ---- columns (shared by a stream's pages: reference counted) ---- */

/* Invariant: names, types and trees have n entries; strings are
 * NUL-terminated copies in arena; trees[i] is NULL when types[i] did not
 * parse (values are then read without a type). */
typedef struct cqlc_cols {
    int refs;             /* owners; freed at 0 */
    uint32_t n;           /* columns */
    char **names;         /* n names */
    char **types;         /* n CQL type strings */
    cql_type_t **trees;   /* n parsed types, or NULL entries */
    cql_arena_t arena;    /* everything above */
} cqlc_cols_t;

/* Parses [[name, type], ...] (raw msgpack) into *out (refs 1); the UDTs
 * the types name get their fields from udts (the reply's `udts` map; len 0
 * when absent; a broken one is ignored: UDTs then have no fields). Returns
 * 0, CQLMQ_EBADTYPE (not that shape), a reader code, CQLMQ_ENOMEM. */
int cqlc_cols_parse(mpk_raw_t raw, mpk_raw_t udts, cqlc_cols_t **out);
cqlc_cols_t *cqlc_cols_ref(cqlc_cols_t *cols);
void cqlc_cols_unref(cqlc_cols_t **cols);

/* ---- results ---- */

/* Invariant: every slice borrows msg, which the result owns; rows holds
 * nrows arrays of cols->n values each (validated on construction). */
struct cqlmq_result {
    zmq_msg_t msg;            /* the reply */
    cqlmq_result_kind_t kind;
    cqlc_cols_t *cols;        /* result columns (a reference), or NULL */
    cqlc_cols_t *params;      /* PREPARED: bind markers, or NULL */
    const uint8_t *rows;      /* items of the rows array (after its header) */
    size_t rows_len;          /* bytes from rows to the end of the array */
    uint32_t nrows;
    mpk_bin_t paging_state;   /* len 0 when absent */
    mpk_bin_t handle;         /* PREPARED: the statement handle */
    uint64_t seq;             /* page: its sequence number */
    /* row cursor (const methods move it: it is a cache, not state) */
    uint32_t cur_row;         /* index of the row at cur_pos */
    size_t cur_pos;           /* offset in rows of row cur_row */
    uint32_t off_row;         /* row whose offsets are in off[], or UINT32_MAX */
    size_t *off;              /* cols->n + 1 offsets of off_row's values */
};

/* Builds a result from a reply message (moved into the result on success;
 * left to the caller on failure). op is the reply's op; stream_cols (may
 * be NULL) supplies the columns of pages after the first. Returns 0,
 * CQLMQ_EMALFORMED / CQLMQ_EBADTYPE / reader codes (the reply breaks the
 * contract; msg says where), CQLMQ_ENOMEM. */
int cqlc_result_from_msg(zmq_msg_t *msg, mpk_str_t op, cqlc_cols_t *stream_cols,
                         cqlmq_result_t **out, char *why, size_t why_cap);

/* ---- requests ---- */

typedef enum cqlc_rq_state {
    CQLC_RQ_WAITING = 0, /* needs a session; not sent (or to be re-sent) */
    CQLC_RQ_SENT,        /* on the wire */
} cqlc_rq_state_t;

typedef struct cqlc_req cqlc_req_t;
typedef struct cqlc_sync cqlc_sync_t;

/* One request not yet completed. Invariant: it is in the client's id
 * table and list exactly while not completed; msg is the encoded request
 * (kept for re-sending after unknown_session). */
struct cqlc_req {
    uint64_t id;
    wire_op_t op;
    uint8_t *msg;             /* encoded request (owned) */
    size_t msg_len;
    cqlc_rq_state_t state;
    uint64_t epoch;           /* session epoch when last sent */
    uint32_t retries;         /* re-sends after unknown_session */
    uint32_t wait_ms;         /* deadline span: timeout + grace */
    int64_t deadline;         /* µs (CLOCK_MONOTONIC), or CQLC_NEVER */
    int64_t sent_at;          /* µs, when last sent */
    bool cancelled;           /* complete with ECANCELLED at next process */
    bool internal;            /* hello / idle ping: no user callback */
    /* streams */
    bool stream;
    uint64_t next_seq;        /* seq expected next */
    uint64_t granted;         /* pages of credit granted in total */
    uint64_t received;        /* pages received */
    uint64_t rows;            /* rows received */
    cqlc_cols_t *cols;        /* columns from seq 0 (a reference) */
    cqlmq_stream_t *bstream;  /* blocking stream fed by this request */
    /* completion */
    cqlmq_done_cb cb;
    cqlmq_page_cb page_cb;
    void *ud;
    /* links */
    cqlc_req_t *hnext;        /* id table bucket chain */
    cqlc_req_t *prev, *next;  /* the client's list, in submission order */
};

/* ---- the client ---- */

typedef enum cqlc_session {
    CQLC_SS_NONE = 0,  /* no session: the next request sends hello */
    CQLC_SS_HELLO,     /* hello in flight */
    CQLC_SS_READY,
} cqlc_session_t;

/* Invariants: requests in the table == requests in the list == npending;
 * hello_id != 0 exactly while state == CQLC_SS_HELLO; in_callback counts
 * user callbacks running (blocking calls are refused inside them). */
struct cqlmq_client {
    void *ctx;                /* ZeroMQ context */
    bool own_ctx;             /* ctx was made here */
    void *sock;               /* DEALER */
    void *mon;                /* PAIR connected to the monitor, or NULL */
    int epfd;                 /* epoll fd over both ZMQ_FDs, or -1 */
    cqlmq_client_opts_t opts; /* with defaults applied */
    char *client_name;        /* copy of opts.client_name */
    cqlc_session_t state;
    uint64_t epoch;           /* bumped by every successful hello */
    uint64_t hello_id;        /* the hello in flight, or 0 */
    bool have_limits;
    cqlmq_limits_t limits;
    char session[64];         /* session id of the last hello */
    char server[64];          /* server name of the last hello */
    uint64_t next_id;         /* next request id (1 .. WIRE_ID_MAX) */
    cqlc_req_t **buckets;     /* id table */
    size_t nbuckets;          /* power of two */
    size_t npending;
    cqlc_req_t *head, *tail;  /* requests in submission order */
    int64_t next_timer;       /* earliest deadline or ping, µs (may be early) */
    int64_t last_send;        /* µs, for idle pings */
    bool connected;           /* per the monitor */
    int in_callback;          /* user callbacks running */
    size_t ncancelled;        /* requests cancelled, not yet completed */
    uint64_t ignored;         /* replies dropped: unknown id or no head */
    cqlmq_errinfo_t last_error; /* of the last failed blocking call */
};

int64_t cqlc_now_us(void);

/* id table and list */
cqlc_req_t *cqlc_req_find(const cqlmq_client_t *c, uint64_t id);
/* Allocates a request with a fresh id, adds it. NULL when out of memory. */
cqlc_req_t *cqlc_req_add(cqlmq_client_t *c, wire_op_t op);
/* Removes rq from table and list and frees it. */
void cqlc_req_remove(cqlmq_client_t *c, cqlc_req_t *rq);

/* Sends bytes as one single-frame message, never blocking. Returns 0,
 * CQLMQ_EBUSY (queue full: HWM), CQLMQ_EZMQ. */
int cqlc_send(cqlmq_client_t *c, const void *p, size_t n);
/* Sends rq now if the session allows, else leaves it WAITING and makes
 * sure a hello is on its way. Returns 0 or a cqlc_send error. */
int cqlc_dispatch(cqlmq_client_t *c, cqlc_req_t *rq);
/* Sends {op: credit, id, n} and accounts it. */
int cqlc_grant(cqlmq_client_t *c, cqlc_req_t *rq, uint32_t n);
/* Lowers next_timer to t. */
static inline void cqlc_timer_at(cqlmq_client_t *c, int64_t t)
{
    if (t < c->next_timer)
        c->next_timer = t;
}

/* Completes rq (removes and frees it): runs its callback or feeds its
 * blocking stream. res may be NULL (error), *res is freed unless taken. */
void cqlc_complete(cqlmq_client_t *c, cqlc_req_t *rq, int status, cqlmq_result_t **res,
                   const cqlmq_errinfo_t *err);
/* Completes rq with a local error (code string, printf message). */
void cqlc_fail(cqlmq_client_t *c, cqlc_req_t *rq, int rc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* What a request asks (client_api.c encodes it). */
typedef struct cqlc_args {
    wire_op_t op;                 /* QUERY EXECUTE PREPARE BATCH PING STATS */
    const char *cql;              /* QUERY, PREPARE */
    const cqlmq_result_t *prep;   /* EXECUTE: the prepared statement */
    const char *keyspace;         /* PREPARE */
    const cqlmq_batch_t *batch;   /* BATCH */
    const cqlmq_query_opts_t *o;  /* may be NULL */
    bool stream;
} cqlc_args_t;

/* Encodes and submits a request. bs: the blocking stream it feeds, or
 * NULL. Returns 0 (and *id) or an error (nothing was submitted). */
int cqlc_submit(cqlmq_client_t *c, const cqlc_args_t *a, cqlmq_done_cb cb, cqlmq_page_cb page_cb,
                void *ud, cqlmq_stream_t *bs, uint64_t *id);
/* Starts a hello, or joins the one in flight (cb runs at its end). */
int cqlc_hello(cqlmq_client_t *c, cqlmq_done_cb cb, void *ud);

/* Waits (blocking) until *done is set by a completion. Returns 0 or
 * CQLMQ_EZMQ. */
int cqlc_wait(cqlmq_client_t *c, const bool *done);

/* Blocking streams (client_stream.c): a page arrived / the request ended. */
void cqlc_stream_on_page(cqlmq_stream_t *s, cqlmq_result_t **page);
void cqlc_stream_on_done(cqlmq_stream_t *s, int status, cqlmq_result_t **res,
                         const cqlmq_errinfo_t *err);

/* Errors (client_error.c) */
void cqlc_error_set(cqlmq_errinfo_t *e, int rc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Fills e from an error reply; returns the rc for its code. */
int cqlc_error_from_reply(cqlmq_errinfo_t *e, const wire_error_rep_t *m);
/* The CQLMQ_E* code a contract error code maps to. */
int cqlc_rc_for_code(const char *code, size_t len);

/* Params and batches (client_params.c): writes the params value (array
 * or map) to w. Returns 0 or the params' error (CQLMQ_EINVAL when a
 * container or a name was left open). */
int cqlc_params_write(const cqlmq_params_t *p, mpk_wr_t *w);
/* Extension values of the contract (section 8), big-endian payloads. */
void cqlc_put_timestamp(mpk_wr_t *w, int64_t ms);
void cqlc_put_i32_ext(mpk_wr_t *w, int8_t type, int32_t v);   /* date */
void cqlc_put_i64_ext(mpk_wr_t *w, int8_t type, int64_t v);   /* time */
void cqlc_put_duration(mpk_wr_t *w, int32_t months, int32_t days, int64_t ns);
/* A varint / decimal from text: int when it fits, else ext 4 / ext 1.
 * Returns 0, CQLMQ_EBADTYPE (not a number), CQLMQ_ERANGE, CQLMQ_ENOMEM. */
int cqlc_put_varint_text(mpk_wr_t *w, const char *s, size_t n);
int cqlc_put_decimal_text(mpk_wr_t *w, const char *s, size_t n);
/* Writes the batch's statements array. */
int cqlc_batch_write(const cqlmq_batch_t *b, mpk_wr_t *w, const char **kind);

/* Values (client_value.c): the type of the i-th item of a container. */
const cql_type_t *cqlc_item_type(const cql_type_t *t, uint32_t index, bool key);
const cql_type_t *cqlc_udt_field_type(const cql_type_t *t, const char *name, size_t n);

/* Literal parsing (client_literal.c): writes the msgpack form of one cqlsh
 * literal of type t (NULL: infer from the literal's form) to w. top: at
 * the top level, where bare text is accepted for text types. Returns 0,
 * CQLMQ_ESYNTAX, CQLMQ_ERANGE, CQLMQ_ENOMEM; why gets "at N: ...". */
int cqlc_literal_to_mpk(mpk_wr_t *w, const cql_type_t *t, const char *s, size_t n, char *why,
                        size_t why_cap);

/* Type strings (client_result.c): parses with UDT names resolved to
 * field-less UDT nodes. NULL when it does not parse. */
cql_type_t *cqlc_type_parse(const char *s, size_t n, cql_arena_t *a);

#endif /* CQLC_INT_H */
