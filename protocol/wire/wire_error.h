/*
 * wire_error: the `code` strings of the client contract's error replies
 * (docs/protocol.md section 9), declared once with the CQL error code each
 * stands for and the retry advice clients follow; and the consistency
 * names of requests and error details ("local_quorum"), which reuse the
 * codec's consistency table (cql_msg.h).
 */
#ifndef WIRE_ERROR_H
#define WIRE_ERROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cql_msg.h"

/* What a client may do after an error. */
typedef enum wire_retry {
    WIRE_RETRY_NO = 0,         /* fix the request, or nothing to retry */
    WIRE_RETRY_AFTER_HELLO,    /* send hello, then retry */
    WIRE_RETRY_LATER,          /* retry later, with backoff (or elsewhere) */
    WIRE_RETRY_IF_IDEMPOTENT,  /* retry only an idempotent request */
} wire_retry_t;

/* X(NAME, "code", CQL error code or -1 (raised by cqlmqd itself), retry).
 * The CQL codes come from CQL_ERROR_CODE_MAP; CQL codes not listed here
 * (a newer Cassandra's) map to server_error with their cql_code kept. */
#define WIRE_ERROR_MAP(X)                                                                   \
    X(BAD_REQUEST, "bad_request", -1, WIRE_RETRY_NO)                                        \
    X(UNKNOWN_SESSION, "unknown_session", -1, WIRE_RETRY_AFTER_HELLO)                       \
    X(UNSUPPORTED_VERSION, "unsupported_version", -1, WIRE_RETRY_NO)                        \
    X(BUSY, "busy", -1, WIRE_RETRY_LATER)                                                   \
    X(TIMEOUT, "timeout", -1, WIRE_RETRY_IF_IDEMPOTENT)                                     \
    X(CANCELLED, "cancelled", -1, WIRE_RETRY_NO)                                            \
    X(NO_HOST, "no_host", -1, WIRE_RETRY_LATER)                                             \
    X(CONNECTION_LOST, "connection_lost", -1, WIRE_RETRY_IF_IDEMPOTENT)                     \
    X(SHUTTING_DOWN, "shutting_down", -1, WIRE_RETRY_LATER)                                 \
    X(SERVER_ERROR, "server_error", CQL_ERR_SERVER_ERROR, WIRE_RETRY_NO)                    \
    X(PROTOCOL_ERROR, "protocol_error", CQL_ERR_PROTOCOL_ERROR, WIRE_RETRY_NO)              \
    X(BAD_CREDENTIALS, "bad_credentials", CQL_ERR_BAD_CREDENTIALS, WIRE_RETRY_NO)           \
    X(OVERLOADED, "overloaded", CQL_ERR_OVERLOADED, WIRE_RETRY_LATER)                       \
    X(IS_BOOTSTRAPPING, "is_bootstrapping", CQL_ERR_IS_BOOTSTRAPPING, WIRE_RETRY_LATER)     \
    X(TRUNCATE_ERROR, "truncate_error", CQL_ERR_TRUNCATE_ERROR, WIRE_RETRY_NO)              \
    X(UNAVAILABLE, "unavailable", CQL_ERR_UNAVAILABLE, WIRE_RETRY_IF_IDEMPOTENT)            \
    X(WRITE_TIMEOUT, "write_timeout", CQL_ERR_WRITE_TIMEOUT, WIRE_RETRY_IF_IDEMPOTENT)      \
    X(READ_TIMEOUT, "read_timeout", CQL_ERR_READ_TIMEOUT, WIRE_RETRY_IF_IDEMPOTENT)         \
    X(READ_FAILURE, "read_failure", CQL_ERR_READ_FAILURE, WIRE_RETRY_NO)                    \
    X(WRITE_FAILURE, "write_failure", CQL_ERR_WRITE_FAILURE, WIRE_RETRY_NO)                 \
    X(FUNCTION_FAILURE, "function_failure", CQL_ERR_FUNCTION_FAILURE, WIRE_RETRY_NO)        \
    X(CAS_WRITE_UNKNOWN, "cas_write_unknown", CQL_ERR_CAS_WRITE_UNKNOWN, WIRE_RETRY_NO)     \
    X(SYNTAX, "syntax", CQL_ERR_SYNTAX_ERROR, WIRE_RETRY_NO)                                \
    X(UNAUTHORIZED, "unauthorized", CQL_ERR_UNAUTHORIZED, WIRE_RETRY_NO)                    \
    X(INVALID, "invalid", CQL_ERR_INVALID, WIRE_RETRY_NO)                                   \
    X(CONFIG_ERROR, "config_error", CQL_ERR_CONFIG_ERROR, WIRE_RETRY_NO)                    \
    X(ALREADY_EXISTS, "already_exists", CQL_ERR_ALREADY_EXISTS, WIRE_RETRY_NO)              \
    X(UNPREPARED, "unprepared", CQL_ERR_UNPREPARED, WIRE_RETRY_NO)                          \
    X(INTERNAL, "internal", -1, WIRE_RETRY_NO)

typedef enum wire_error {
#define WIRE_ERROR_ENUM_(name, str, cql, retry) WIRE_ERR_##name,
    WIRE_ERROR_MAP(WIRE_ERROR_ENUM_)
#undef WIRE_ERROR_ENUM_
    WIRE_ERR_COUNT_
} wire_error_t;

/* "read_timeout" for WIRE_ERR_READ_TIMEOUT; NULL when out of range. */
const char *wire_error_name(int code);
/* The code of an exact name, or CQLMQ_ENOTFOUND. */
int wire_error_from_name(const char *s, size_t len);
/* The CQL error code a code stands for, or -1. */
int32_t wire_error_cql_code(int code);
/* The code for a CQL error code (server_error for one not in the table). */
wire_error_t wire_error_from_cql(int32_t cql_code);
/* Retry advice (WIRE_RETRY_NO for codes out of range, as the contract
 * tells clients to treat unknown codes). */
wire_retry_t wire_error_retry(int code);
static inline bool wire_error_retryable(int code) { return wire_error_retry(code) != WIRE_RETRY_NO; }

/* Consistency names of the contract: the codec's names in lower case
 * ("local_quorum"). Parsing is case-insensitive. */
#define WIRE_CONSISTENCY_NAME_MAX 16
/* Writes the name of a CQL_CL_* code into buf; returns buf, or NULL for an
 * unknown code. */
const char *wire_consistency_name(int code, char buf[WIRE_CONSISTENCY_NAME_MAX]);
/* The CQL_CL_* code of a name, or CQLMQ_ENOTFOUND. */
int wire_consistency_parse(const char *s, size_t len);

#endif /* WIRE_ERROR_H */
