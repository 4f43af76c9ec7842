/*
 * cqlmq error codes: the one table every module returns from.
 *
 * A function that can fail returns 0 on success or one of the negative codes
 * below; its comment lists which. The table is an X-macro so that the enum,
 * the names and the messages cannot drift apart (the libuv model).
 *
 * Codes are grouped by the layer that usually raises them, but any layer may
 * return any code. New codes are appended inside their group; values never
 * change once released, because they appear in logs and on the wire.
 */
#ifndef CQLMQ_ERROR_H
#define CQLMQ_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, "message") */
#define CQLMQ_ERROR_MAP(X)                                                     \
    /* generic */                                                              \
    X(NOMEM,        -1,  "out of memory")                                      \
    X(INVAL,        -2,  "invalid argument")                                   \
    X(STATE,        -3,  "operation not valid in the current state")           \
    X(NOTFOUND,     -4,  "not found")                                          \
    X(EXISTS,       -5,  "already exists")                                     \
    X(RANGE,        -6,  "value out of range")                                 \
    X(LIMIT,        -7,  "configured limit exceeded")                          \
    X(IO,           -8,  "input/output error")                                 \
    X(AGAIN,        -9,  "resource temporarily unavailable; try again")        \
    X(TIMEOUT,      -10, "timed out")                                          \
    X(CANCELLED,    -11, "cancelled")                                          \
    X(CLOSED,       -12, "closed")                                             \
    X(BUSY,         -13, "busy: in-flight bound reached")                      \
    X(UNREACHABLE,  -14, "peer unreachable")                                   \
    X(CONFIG,       -15, "invalid configuration")                              \
    X(UNSUPPORTED,  -16, "not supported")                                      \
    /* codecs: bytes that came from a socket or a file */                      \
    X(TRUNCATED,    -32, "input truncated: more bytes needed")                 \
    X(MALFORMED,    -33, "malformed input")                                    \
    X(TOOBIG,       -34, "input larger than the configured maximum")           \
    X(BADVERSION,   -35, "unsupported protocol version")                       \
    X(BADOPCODE,    -36, "unknown or unexpected opcode")                       \
    X(BADTYPE,      -37, "value does not match its type")                      \
    X(TRAILING,     -38, "unexpected bytes after the end of a message")        \
    X(SYNTAX,       -39, "syntax error")                                       \
    X(UTF8,         -40, "invalid UTF-8")                                      \
    /* runtime and sockets */                                                  \
    X(ZMQ,          -64, "ZeroMQ call failed")                                 \
    X(UV,           -65, "libuv call failed")                                  \
    X(NOACTOR,      -66, "no such actor")                                      \
    X(MAILBOXFULL,  -67, "mailbox full")                                       \
    X(CONNREFUSED,  -68, "connection refused")                                 \
    X(CONNRESET,    -69, "connection reset by peer")                           \
    X(TLS,          -70, "TLS error")                                          \
    /* Cassandra and the gateway */                                            \
    X(SERVER,       -96, "the server replied with an error")                   \
    X(NOHOST,       -97, "no host available")                                  \
    X(UNPREPARED,   -98, "statement not prepared on this host")                \
    X(AUTH,         -99, "authentication failed")

typedef enum cqlmq_error {
    CQLMQ_OK = 0,
#define CQLMQ_ERROR_ENUM_(name, value, msg) CQLMQ_E##name = (value),
    CQLMQ_ERROR_MAP(CQLMQ_ERROR_ENUM_)
#undef CQLMQ_ERROR_ENUM_
} cqlmq_error_t;

/* "CQLMQ_ETRUNCATED" for CQLMQ_ETRUNCATED; "CQLMQ_OK" for 0; "unknown" otherwise.
 * The returned string is static. */
const char *cqlmq_err_name(int err);

/* A human-readable message for err; "success" for 0; static storage. */
const char *cqlmq_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif /* CQLMQ_ERROR_H */
