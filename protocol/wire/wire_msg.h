/*
 * wire_msg: every request and reply of the client contract
 * (docs/protocol.md), declared once with MPK_SCHEMA; the request decoder
 * the gateway runs on each untrusted ZeroMQ frame; and the reply encoders.
 *
 * Declarations: WIRE_REQUEST_MAP and WIRE_REPLY_MAP list the messages and
 * their field tables; each row becomes a struct wire_<name>_req_t /
 * wire_<name>_rep_t with <T>_encode / <T>_decode (mpk.h), so the C client
 * encodes requests and decodes replies from the same declarations the
 * gateway decodes and encodes them with.
 *
 * Decoding (wire_req_decode): the frame must hold exactly one map; `op`
 * and `id` are found first (so a bad request can still be answered with
 * its id), then the op's schema decodes the map, then fields are checked
 * against the contract and the server's limits and resolved into
 * wire_req_t (defaults applied, consistency names turned into codes).
 * Every slice in a decoded request BORROWS the frame. `params` stay raw
 * msgpack: they are transcoded (wire_value.h, wire_params.h) once the bind
 * types are known. A failure fills a wire_diag_t with the `bad_request`
 * message, which names the field ("field 'page_size' must be an unsigned
 * integer", "missing field 'cql'", "unknown op 'qurey'").
 *
 * Replies whose bulk is rows or metadata (result, page, prepared, hello's
 * limits, error details) are encoded by the schema for their small fields,
 * then the big ones are appended to the same map: no intermediate buffer,
 * no copy of the rows.
 */
#ifndef WIRE_MSG_H
#define WIRE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cql_msg.h"
#include "mpk.h"
#include "wire_error.h"
#include "wire_rows.h"
#include "wire_value.h"

#define WIRE_PROTOCOL_VERSION 1
#define WIRE_ID_MAX ((UINT64_C(1) << 53) - 1)  /* ids are 1 .. 2^53-1 */
#define WIRE_DEFAULT_CREDIT 2                  /* query credit default */
#define WIRE_MAX_BATCH_STATEMENTS 65535        /* a CQL BATCH's [short] */
#define WIRE_MAX_KEYSPACE 48                   /* Cassandra's name limit */

/* ---- limits (the `limits` map of the hello reply) ---- */

#define WIRE_LIMITS_FIELDS(F, T)                    \
    F(T, max_message_bytes, UINT, MPK_REQ)          \
    F(T, max_in_flight, UINT, MPK_REQ)              \
    F(T, max_streams, UINT, MPK_REQ)                \
    F(T, max_credit, UINT, MPK_REQ)                 \
    F(T, max_page_bytes, UINT, MPK_REQ)             \
    F(T, default_page_size, UINT, MPK_REQ)          \
    F(T, default_timeout_ms, UINT, MPK_REQ)         \
    F(T, max_timeout_ms, UINT, MPK_REQ)             \
    F(T, lease_ms, UINT, MPK_REQ)
MPK_SCHEMA(wire_limits, WIRE_LIMITS_FIELDS)

/* ---- requests ---- */

#define WIRE_HEAD_FIELDS(F, T) \
    F(T, op, STR, MPK_REQ)     \
    F(T, id, UINT, MPK_REQ)

/* Common options of query, execute and batch (section 5). */
#define WIRE_OPTS_FIELDS(F, T)                 \
    F(T, keyspace, STR, MPK_OPT)               \
    F(T, consistency, STR, MPK_OPT)            \
    F(T, serial_consistency, STR, MPK_OPT)     \
    F(T, timeout_ms, UINT, MPK_OPT)            \
    F(T, timestamp, INT, MPK_OPT)              \
    F(T, idempotent, BOOL, MPK_OPT)

/* Fields of query and execute beyond cql / handle. */
#define WIRE_PAGING_FIELDS(F, T)               \
    F(T, params, RAW, MPK_OPT)                 \
    F(T, page_size, UINT, MPK_OPT)             \
    F(T, paging_state, BIN, MPK_OPT)           \
    F(T, stream, BOOL, MPK_OPT)                \
    F(T, credit, UINT, MPK_OPT)

#define WIRE_HELLO_REQ_FIELDS(F, T) \
    WIRE_HEAD_FIELDS(F, T) F(T, protocol, UINT, MPK_REQ) F(T, client, STR, MPK_OPT)
#define WIRE_QUERY_REQ_FIELDS(F, T) \
    WIRE_HEAD_FIELDS(F, T) F(T, cql, STR, MPK_REQ) WIRE_PAGING_FIELDS(F, T) WIRE_OPTS_FIELDS(F, T)
#define WIRE_PREPARE_REQ_FIELDS(F, T) \
    WIRE_HEAD_FIELDS(F, T) F(T, cql, STR, MPK_REQ) F(T, keyspace, STR, MPK_OPT)
#define WIRE_EXECUTE_REQ_FIELDS(F, T) \
    WIRE_HEAD_FIELDS(F, T) F(T, handle, BIN, MPK_REQ) WIRE_PAGING_FIELDS(F, T) WIRE_OPTS_FIELDS(F, T)
#define WIRE_BATCH_REQ_FIELDS(F, T)                                          \
    WIRE_HEAD_FIELDS(F, T) F(T, kind, STR, MPK_REQ)                          \
    F(T, statements, RAW, MPK_REQ) WIRE_OPTS_FIELDS(F, T)
#define WIRE_CREDIT_REQ_FIELDS(F, T) WIRE_HEAD_FIELDS(F, T) F(T, n, UINT, MPK_REQ)
#define WIRE_CANCEL_REQ_FIELDS(F, T) WIRE_HEAD_FIELDS(F, T)
#define WIRE_PING_REQ_FIELDS(F, T) WIRE_HEAD_FIELDS(F, T)
#define WIRE_STATS_REQ_FIELDS(F, T) WIRE_HEAD_FIELDS(F, T)

/* One statement of a batch: exactly one of cql and handle. */
#define WIRE_BATCH_STMT_FIELDS(F, T) \
    F(T, cql, STR, MPK_OPT) F(T, handle, BIN, MPK_OPT) F(T, params, RAW, MPK_OPT)
MPK_SCHEMA(wire_batch_stmt, WIRE_BATCH_STMT_FIELDS)

/* X(NAME, name, FIELDS): the requests, in no particular order. */
#define WIRE_REQUEST_MAP(X)                            \
    X(HELLO, hello, WIRE_HELLO_REQ_FIELDS)             \
    X(QUERY, query, WIRE_QUERY_REQ_FIELDS)             \
    X(PREPARE, prepare, WIRE_PREPARE_REQ_FIELDS)       \
    X(EXECUTE, execute, WIRE_EXECUTE_REQ_FIELDS)       \
    X(BATCH, batch, WIRE_BATCH_REQ_FIELDS)             \
    X(CREDIT, credit, WIRE_CREDIT_REQ_FIELDS)          \
    X(CANCEL, cancel, WIRE_CANCEL_REQ_FIELDS)          \
    X(PING, ping, WIRE_PING_REQ_FIELDS)                \
    X(STATS, stats, WIRE_STATS_REQ_FIELDS)

#define WIRE_REQ_SCHEMA_(NAME, name, FIELDS) MPK_SCHEMA(wire_##name##_req, FIELDS)
WIRE_REQUEST_MAP(WIRE_REQ_SCHEMA_)
#undef WIRE_REQ_SCHEMA_

typedef enum wire_op {
    WIRE_OP_NONE_ = 0, /* not decoded (yet) */
#define WIRE_OP_ENUM_(NAME, name, FIELDS) WIRE_OP_##NAME,
    WIRE_REQUEST_MAP(WIRE_OP_ENUM_)
#undef WIRE_OP_ENUM_
    WIRE_OP_COUNT_
} wire_op_t;

/* "query" for WIRE_OP_QUERY; NULL when out of range. */
const char *wire_op_name(int op);
/* The op of a name (exact), or CQLMQ_EBADOPCODE. */
int wire_op_from_name(const char *s, size_t len);

/*
 * A decoded request. u holds the op's schema struct exactly as decoded;
 * the fields after it are resolved from it for the gateway: defaults from
 * the limits applied, names turned into CQL codes, absent slices empty
 * (ptr NULL, len 0). Fields that do not apply to the op are zero.
 * Everything borrows the frame.
 */
typedef struct wire_req {
    wire_op_t op;                  /* WIRE_OP_NONE_ until known */
    uint64_t id;                   /* 0 until known; then 1..WIRE_ID_MAX */
    union {
#define WIRE_REQ_MEMBER_(NAME, name, FIELDS) wire_##name##_req_t name;
        WIRE_REQUEST_MAP(WIRE_REQ_MEMBER_)
#undef WIRE_REQ_MEMBER_
    } u;
    /* query, execute, batch (keyspace: prepare too) */
    mpk_str_t keyspace;            /* len 0: the session's */
    uint16_t consistency;          /* CQL_CL_*; default LOCAL_ONE */
    uint16_t serial_consistency;   /* CQL_CL_SERIAL or LOCAL_SERIAL */
    uint32_t timeout_ms;           /* 1..max_timeout_ms; default from limits */
    bool has_timestamp;            /* timestamp given */
    int64_t timestamp;             /* microseconds since the epoch */
    bool idempotent;
    /* query, prepare / execute */
    mpk_str_t cql;                 /* query, prepare */
    mpk_bin_t handle;              /* execute */
    mpk_raw_t params;              /* array or map; len 0 when absent or nil */
    uint32_t page_size;            /* 1..INT32_MAX; default from limits */
    mpk_bin_t paging_state;        /* len 0 when absent */
    bool stream;
    uint32_t credit;               /* stream: initial credit, 0..max_credit;
                                      credit op: n, 1..max_credit */
    /* batch */
    uint8_t batch_kind;            /* CQL_BATCH_LOGGED / UNLOGGED / COUNTER */
    uint32_t nstatements;          /* 1..WIRE_MAX_BATCH_STATEMENTS */
} wire_req_t;

/* Decodes and validates one request frame of len bytes against lim.
 * out->op and out->id are set as soon as they are known, even on failure
 * (a bad_request reply carries the id when there was one). Returns:
 *   0
 *   CQLMQ_EMALFORMED   not a map, a required field missing or nil, a
 *                      field given twice, a batch statement with neither
 *                      or both of cql / handle
 *   CQLMQ_EBADOPCODE   `op` is not a known operation
 *   CQLMQ_EBADTYPE     a field of the wrong msgpack type
 *   CQLMQ_ERANGE       id, page_size, credit, n, timeout_ms out of bounds
 *   CQLMQ_EINVAL       an unknown consistency / batch kind, a keyspace that
 *                      is no keyspace name, an empty cql or batch
 *   CQLMQ_ETRUNCATED, CQLMQ_ELIMIT  broken or too deeply nested msgpack
 *   CQLMQ_ETRAILING    bytes after the map
 * d (may be NULL) receives the message for the `bad_request` reply. */
int wire_req_decode(const void *frame, size_t len, const wire_limits_t *lim, wire_req_t *out,
                    wire_diag_t *d);

/* Walks the statements of a decoded batch (already validated). */
typedef struct wire_batch_iter {
    mpk_rd_t r;      /* over the statements array, after its header */
    uint32_t left;   /* statements not yet yielded */
} wire_batch_iter_t;

void wire_batch_iter_init(wire_batch_iter_t *it, const wire_req_t *req);
/* Yields the next statement into *out (params absent when nil). Returns 1,
 * 0 at the end, or a decoder code if the request was not validated. */
int wire_batch_next(wire_batch_iter_t *it, wire_batch_stmt_t *out);

/* ---- replies ---- */

#define WIRE_HELLO_REP_FIELDS(F, T)                                       \
    WIRE_HEAD_FIELDS(F, T) F(T, protocol, UINT, MPK_REQ)                  \
    F(T, server, STR, MPK_REQ) F(T, session, STR, MPK_REQ)                \
    F(T, limits, RAW, MPK_OPT) /* wire_limits_t map, appended */
#define WIRE_RESULT_REP_FIELDS(F, T)                                      \
    WIRE_HEAD_FIELDS(F, T) F(T, kind, STR, MPK_REQ)                       \
    F(T, keyspace, STR, MPK_OPT) F(T, change, STR, MPK_OPT)               \
    F(T, target, STR, MPK_OPT) F(T, name, STR, MPK_OPT)                   \
    F(T, paging_state, BIN, MPK_OPT) F(T, warnings, RAW, MPK_OPT)         \
    F(T, columns, RAW, MPK_OPT) F(T, rows, RAW, MPK_OPT)                  \
    F(T, udts, RAW, MPK_OPT) /* with columns that mention a UDT */
#define WIRE_PREPARED_REP_FIELDS(F, T)                                    \
    WIRE_HEAD_FIELDS(F, T) F(T, handle, BIN, MPK_REQ)                     \
    F(T, params, RAW, MPK_OPT) F(T, columns, RAW, MPK_OPT)                \
    F(T, udts, RAW, MPK_OPT)
#define WIRE_PAGE_REP_FIELDS(F, T)                                        \
    WIRE_HEAD_FIELDS(F, T) F(T, seq, UINT, MPK_REQ)                       \
    F(T, paging_state, BIN, MPK_OPT) F(T, columns, RAW, MPK_OPT)          \
    F(T, rows, RAW, MPK_OPT) F(T, udts, RAW, MPK_OPT)
#define WIRE_DONE_REP_FIELDS(F, T) \
    WIRE_HEAD_FIELDS(F, T) F(T, pages, UINT, MPK_REQ) F(T, rows, UINT, MPK_REQ)
#define WIRE_PONG_REP_FIELDS(F, T) WIRE_HEAD_FIELDS(F, T)
/* Gateway counters and gauges (docs/operations.md; additive). */
#define WIRE_STATS_REP_FIELDS(F, T)                                       \
    WIRE_HEAD_FIELDS(F, T) F(T, requests, UINT, MPK_OPT)                  \
    F(T, in_flight, UINT, MPK_OPT) F(T, streams, UINT, MPK_OPT)           \
    F(T, sessions, UINT, MPK_OPT) F(T, hosts_up, UINT, MPK_OPT)           \
    F(T, errors, UINT, MPK_OPT) F(T, latency_p50_us, UINT, MPK_OPT)       \
    F(T, latency_p99_us, UINT, MPK_OPT) F(T, latency_p999_us, UINT, MPK_OPT)
#define WIRE_ERROR_REP_FIELDS(F, T)                                       \
    WIRE_HEAD_FIELDS(F, T) F(T, code, STR, MPK_REQ)                       \
    F(T, message, STR, MPK_REQ) F(T, cql_code, I32, MPK_OPT)              \
    F(T, details, RAW, MPK_OPT) /* wire_error_details_t map, appended */

/* The `details` of an error reply (section 9). */
#define WIRE_ERROR_DETAILS_FIELDS(F, T)                                   \
    F(T, consistency, STR, MPK_OPT) F(T, required, INT, MPK_OPT)          \
    F(T, alive, INT, MPK_OPT) F(T, received, INT, MPK_OPT)                \
    F(T, block_for, INT, MPK_OPT) F(T, write_type, STR, MPK_OPT)          \
    F(T, data_present, BOOL, MPK_OPT) F(T, num_failures, INT, MPK_OPT)    \
    F(T, keyspace, STR, MPK_OPT) F(T, table, STR, MPK_OPT)                \
    F(T, function, STR, MPK_OPT) F(T, arg_types, RAW, MPK_OPT)            \
    F(T, statement_id, BIN, MPK_OPT) F(T, supported, RAW, MPK_OPT)
MPK_SCHEMA(wire_error_details, WIRE_ERROR_DETAILS_FIELDS)

/* X(NAME, name, FIELDS): the replies. */
#define WIRE_REPLY_MAP(X)                              \
    X(HELLO, hello, WIRE_HELLO_REP_FIELDS)             \
    X(RESULT, result, WIRE_RESULT_REP_FIELDS)          \
    X(PREPARED, prepared, WIRE_PREPARED_REP_FIELDS)    \
    X(PAGE, page, WIRE_PAGE_REP_FIELDS)                \
    X(DONE, done, WIRE_DONE_REP_FIELDS)                \
    X(PONG, pong, WIRE_PONG_REP_FIELDS)                \
    X(STATS, stats, WIRE_STATS_REP_FIELDS)             \
    X(ERROR, error, WIRE_ERROR_REP_FIELDS)

#define WIRE_REP_SCHEMA_(NAME, name, FIELDS) MPK_SCHEMA(wire_##name##_rep, FIELDS)
WIRE_REPLY_MAP(WIRE_REP_SCHEMA_)
#undef WIRE_REP_SCHEMA_

/* Every encoder below appends one whole reply map to w and returns 0 or
 * an error; on error w is put back where it was (unless the error is the
 * writer's sticky one: CQLMQ_ENOMEM / CQLMQ_ERANGE). Warnings (NULL or
 * empty: none) are Cassandra's, written as `warnings: [str]`. */

int wire_reply_hello(mpk_wr_t *w, uint64_t id, const char *server, mpk_str_t session,
                     const wire_limits_t *limits);
int wire_reply_pong(mpk_wr_t *w, uint64_t id);
int wire_reply_done(mpk_wr_t *w, uint64_t id, uint64_t pages, uint64_t rows);
/* Result of kind void / set_keyspace / schema_change. Returns 0, CQLMQ_EINVAL
 * (schema change with an unknown change or target), or the writer's error. */
int wire_reply_void(mpk_wr_t *w, uint64_t id, const cql_string_list_t *warnings);
int wire_reply_set_keyspace(mpk_wr_t *w, uint64_t id, cql_str_t keyspace,
                            const cql_string_list_t *warnings);
int wire_reply_schema_change(mpk_wr_t *w, uint64_t id, const cql_schema_change_t *sc,
                             const cql_string_list_t *warnings);
/* {op: prepared, id, handle, params: [[name, type]...], columns: [...],
 * udts?}: udts (wire_udts_write) when a type of params or columns mentions
 * a UDT. result may be NULL or without specs (NO_METADATA): columns is then
 * []. Returns 0, CQLMQ_EINVAL (bind without specs) or a wire_columns_write /
 * wire_udts_write code. */
int wire_reply_prepared(mpk_wr_t *w, uint64_t id, mpk_bin_t handle, const cql_meta_t *bind,
                        const cql_meta_t *result);

/* A reply carrying rows: a result of kind rows, or a stream page. */
typedef struct wire_rows_reply {
    uint64_t id;
    uint64_t seq;                       /* page: its sequence number */
    const cql_meta_t *columns;          /* write `columns` (and `udts` when a type
                                           mentions a UDT) from it, or NULL (pages
                                           after the first; a result always has it) */
    const cql_meta_t *types;            /* types of the cells (specs required) */
    cql_bytes_t paging_state;           /* len >= 0: written when this reply takes
                                           the iterator to its end */
    const cql_string_list_t *warnings;  /* result only */
    wire_rows_cap_t cap;                /* page_size / max_page_bytes */
} wire_rows_reply_t;

/* Both write the rows the iterator yields within rr->cap (wire_rows_write;
 * *nrows gets their number) and leave the iterator on the first row not
 * sent. Returns 0 or a code of wire_rows_write / wire_columns_write /
 * wire_udts_write. */
int wire_reply_rows(mpk_wr_t *w, const wire_rows_reply_t *rr, cql_rows_iter_t *it,
                    uint32_t *nrows);
int wire_reply_page(mpk_wr_t *w, const wire_rows_reply_t *rr, cql_rows_iter_t *it,
                    uint32_t *nrows);

/* {op: error, id, code, message}. message may be NULL (the code's name is
 * used). Returns 0, CQLMQ_EINVAL (code out of range) or the writer's. */
int wire_reply_error(mpk_wr_t *w, uint64_t id, wire_error_t code, const char *message);
/* The error reply for a Cassandra ERROR body: code from the table,
 * cql_code, message, and details from the fields that code carries. */
int wire_reply_cql_error(mpk_wr_t *w, uint64_t id, const cql_msg_error_t *e);
/* Writes the `details` map of a CQL error (docs/protocol.md section 9) into
 * w: every field e carries, arg_types included; an empty map when it
 * carries none. Errors go to the writer's sticky error. Returns the number
 * of entries written. */
uint32_t wire_error_details_write(mpk_wr_t *w, const cql_msg_error_t *e);
/* unsupported_version with details {supported: [WIRE_PROTOCOL_VERSION]}. */
int wire_reply_unsupported_version(mpk_wr_t *w, uint64_t id);

/* The op and id of any message (request or reply) without decoding the
 * rest: for routing replies in the C client. Returns 0, CQLMQ_EMALFORMED
 * (no op or id, not a map), CQLMQ_EBADTYPE or a reader code. */
int wire_peek_head(const void *frame, size_t len, mpk_str_t *op, uint64_t *id);

#endif /* WIRE_MSG_H */
