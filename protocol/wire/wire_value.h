/*
 * wire_value: CQL values <-> msgpack, the transcoder of the client contract
 * (docs/protocol.md section 8). No I/O, no value trees: it works straight
 * from serialized CQL bytes to a msgpack writer and from a msgpack reader to
 * serialized CQL bytes, guided by a cql_type_t.
 *
 *   CQL -> msgpack   wire_value_to_mpk: one cell of a Rows result (or any
 *                    [bytes]) becomes one msgpack value. Malformed CQL bytes
 *                    are an error code, never a crash or an over-read.
 *   msgpack -> CQL   wire_value_from_mpk: one bind parameter from a client
 *                    becomes one [value] (int32 length + body, -1 null,
 *                    -2 not set), accepting every form of the table's right
 *                    column (ints, strings in ISO 8601, CQL duration
 *                    literals, ...). Errors come with a short message naming
 *                    where in the value it went wrong ("[2].zip: expected
 *                    int, got str") for the gateway's `invalid` reply.
 *
 * The extension codes are declared once in WIRE_EXT_MAP. Every integer
 * inside an extension payload is big-endian.
 *
 * Bounds: recursion follows the type tree (at most WIRE_VALUE_MAX_DEPTH
 * levels, CQLMQ_ELIMIT beyond); every count is checked against the bytes
 * that remain before it is used, so neither direction allocates more than
 * a small multiple of its input (the writers grow with what is written).
 */
#ifndef WIRE_VALUE_H
#define WIRE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cql_buf.h"
#include "cql_type.h"
#include "mpk.h"

/* Extension types: X(NAME, code, payload). */
#define WIRE_EXT_MAP(X)                                                        \
    X(DECIMAL, 1, "int32 scale, unscaled two's-complement bytes")              \
    X(UUID, 2, "16 bytes (uuid and timeuuid)")                                 \
    X(VARINT, 4, "two's-complement bytes (values beyond 64 bits)")             \
    X(DATE, 5, "int32 days since 1970-01-01")                                  \
    X(TIME, 6, "int64 nanoseconds since midnight")                             \
    X(DURATION, 7, "int32 months, int32 days, int64 nanoseconds")              \
    X(INET, 8, "4 or 16 address bytes")                                        \
    X(EMPTY, 9, "empty value of a non-text type (length 0)")                   \
    X(NOT_SET, 10, "bind parameter left unset (length 0, params only)")        \
    X(TIMESTAMP, -1, "msgpack timestamp: 64-bit or 96-bit form")

enum {
#define WIRE_EXT_ENUM_(name, code, what) WIRE_EXT_##name = (code),
    WIRE_EXT_MAP(WIRE_EXT_ENUM_)
#undef WIRE_EXT_ENUM_
};

/* Nesting of collections, tuples and UDTs (the type tree bounds it too). */
#define WIRE_VALUE_MAX_DEPTH CQL_TYPE_MAX_DEPTH

/* Decimal digits accepted in a varint or decimal string: longer numbers
 * must come as ext 4 / ext 1 (bounds the quadratic base conversion). */
#define WIRE_MAX_DIGITS 2048

/* A short human-readable reason for a failed conversion. msg is always
 * NUL-terminated (empty when nothing was said). */
#define WIRE_DIAG_MAX 160
typedef struct wire_diag {
    char msg[WIRE_DIAG_MAX];
} wire_diag_t;

/* Formats into d (NULL is allowed and ignored). */
void wire_diag_set(wire_diag_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends a path step ("[3]", ".name", "{key}") to d's message. */
void wire_diag_prefix(wire_diag_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- CQL -> msgpack -------------------------------------------------- */

/* Writes the msgpack form of the serialized value v of type t (v.len < 0 is
 * null -> nil). On error the writer is put back to where it was (its
 * sticky error aside). Returns:
 *   0
 *   CQLMQ_EBADTYPE    scalar bytes that cannot be of the type (wrong size,
 *                     time out of range, duration with mixed signs, ascii
 *                     above 127, decimal shorter than 5 bytes, ...)
 *   CQLMQ_EUTF8       text that is not UTF-8 (msgpack str must be)
 *   CQLMQ_EMALFORMED  a broken collection, tuple or UDT (bad count,
 *                     element running past the end, bytes left over)
 *   CQLMQ_ELIMIT      nesting deeper than WIRE_VALUE_MAX_DEPTH
 *   CQLMQ_ENOMEM, CQLMQ_ERANGE  the writer's sticky error */
int wire_value_to_mpk(mpk_wr_t *w, const cql_type_t *t, cql_bytes_t v);

/* ---- msgpack -> CQL -------------------------------------------------- */

/* Reads one msgpack value from r (a bind parameter) and appends it to w as
 * a [value] of type t: int32 length and body; nil -> -1 (null); ext 10 ->
 * -2 (not set, top level only); ext 9 -> 0 (empty). On success r is past
 * the value. On error r and w are put back where they were, and d (may be
 * NULL) says why. Returns:
 *   0
 *   CQLMQ_EBADTYPE    the msgpack value cannot be of the type (a str that
 *                     is not a uuid, a map for a list, bad ext length, an
 *                     unknown UDT field, invalid UTF-8 ...)
 *   CQLMQ_ERANGE      a number outside the type's range (300 for tinyint,
 *                     a date beyond int32 days, more than WIRE_MAX_DIGITS
 *                     digits ...)
 *   CQLMQ_EMALFORMED, CQLMQ_ETRUNCATED  the msgpack itself is broken
 *   CQLMQ_ELIMIT      nesting deeper than WIRE_VALUE_MAX_DEPTH
 *   CQLMQ_ENOMEM      the writer's error (CQLMQ_ERANGE too: a value longer
 *                     than INT32_MAX bytes) */
int wire_value_from_mpk(cql_wr_t *w, const cql_type_t *t, mpk_rd_t *r, wire_diag_t *d);

/* ---- text forms (exposed for tests and for the C client) -------------- */
/* Each returns 0, CQLMQ_EBADTYPE (not of the form) or CQLMQ_ERANGE (of the
 * form, out of range). Inputs are not NUL-terminated. */

/* "8-4-4-4-12" hex digits, either case. */
int wire_parse_uuid(const char *s, size_t n, uint8_t out[16]);
/* ISO 8601: [+-]YYYY-MM-DD[(T| )HH:MM[:SS[.f{1,9}]]][Z|(+|-)HH[[:]MM]];
 * no zone means UTC. Milliseconds since the epoch, fractions truncated
 * toward minus infinity. */
int wire_parse_timestamp(const char *s, size_t n, int64_t *ms);
/* [+-]YYYY-MM-DD: days since 1970-01-01 (int32). */
int wire_parse_date(const char *s, size_t n, int32_t *days);
/* HH:MM:SS[.f{1,9}]: nanoseconds since midnight. */
int wire_parse_time(const char *s, size_t n, int64_t *ns);
/* CQL duration literals: [-]1y2mo3w4d5h6m7s8ms9us10ns (units once each, in
 * this order, case-insensitive, "µs" too), ISO 8601 P[nY][nM][nW][nD][T[nH]
 * [nM][nS]] and the alternative PYYYY-MM-DDThh:mm:ss. */
int wire_parse_duration(const char *s, size_t n, int32_t *months, int32_t *days, int64_t *ns);
/* IPv4 dotted quad or IPv6 text: *size 4 or 16. */
int wire_parse_inet(const char *s, size_t n, uint8_t out[16], uint8_t *size);

/* Appends the minimal two's-complement bytes of a decimal integer string
 * ([+-]digits) to w (no length prefix). */
int wire_put_varint_str(cql_wr_t *w, const char *s, size_t n);
/* Appends a decimal body (int32 scale, unscaled bytes) for a decimal
 * string: [+-]digits[.digits][(e|E)[+-]digits]. */
int wire_put_decimal_str(cql_wr_t *w, const char *s, size_t n);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t wire_days_from_civil(int64_t y, unsigned m, unsigned d);
void wire_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif /* WIRE_VALUE_H */
