/*
 * cql_value: CQL values as a decoded tree, for every CQL type.
 *
 * A cql_value_t is the decoded form of one serialized value (native protocol
 * v4 section 6; the duration type of v5). It is produced by cql_value_decode
 * from bytes and a cql_type_t, or built in code with the constructors below,
 * and goes back to bytes with cql_value_encode and to a CQL literal (cqlsh
 * style) with cql_value_format.
 *
 * Ownership: decoded strings, blobs, custom payloads and varint bytes BORROW
 * the input buffer; arrays of a collection, tuple or UDT live in the arena
 * given to the decoder (or to cql_value_coll_new). A decoded tree is valid
 * while both its input and its arena are. Constructors borrow their pointer
 * arguments the same way.
 *
 * Four states, kept distinct as the protocol does:
 *   CQL_VALUE_SET      a value (for ascii, text, blob and custom this
 *                      includes the zero-length value)
 *   CQL_VALUE_NULL     [value] length -1 (also: a missing trailing field of
 *                      a tuple or UDT after decoding)
 *   CQL_VALUE_NOT_SET  [value] length -2 (bound variables only)
 *   CQL_VALUE_EMPTY    length 0 for a type where 0 bytes is not a value of
 *                      the type (int, uuid, list, ...): Cassandra's "empty"
 *
 * Error codes of the decoder (one rule, used everywhere):
 *   CQLMQ_EBADTYPE   a scalar whose bytes cannot be of its type: wrong fixed
 *                    size (int of 3 bytes), inet not 4/16 bytes, time out of
 *                    0..86399999999999, ascii byte > 127, decimal shorter
 *                    than 5 bytes, duration parts out of int32 range or of
 *                    mixed signs, vint running past the value
 *   CQLMQ_EUTF8      text that is not well-formed UTF-8 (RFC 3629: no
 *                    overlongs, no surrogates, nothing above U+10FFFF)
 *   CQLMQ_EMALFORMED the structure of a collection, tuple or UDT is broken:
 *                    negative count, count larger than the bytes can hold,
 *                    element length below -1, element running past the end,
 *                    bytes left over after the last element/field
 *   CQLMQ_ELIMIT     nesting deeper than CQL_VALUE_MAX_DEPTH
 *   CQLMQ_ENOMEM     the arena is exhausted
 * Element lengths: -1 is a null element (the spec's [bytes] allows it in
 * collections, tuples and UDTs); anything below -1 is EMALFORMED.
 */
#ifndef CQL_VALUE_H
#define CQL_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cql_arena.h"
#include "cql_buf.h"
#include "cql_mem.h"
#include "cql_type.h"

#define CQL_VALUE_MAX_DEPTH CQL_TYPE_MAX_DEPTH

/* The date value of 1970-01-01 (dates are unsigned days centred at 2^31). */
#define CQL_DATE_EPOCH 2147483648u
/* Largest valid time value: 23:59:59.999999999 in nanoseconds. */
#define CQL_TIME_MAX INT64_C(86399999999999)

typedef enum cql_value_state {
    CQL_VALUE_SET = 0,
    CQL_VALUE_NULL,
    CQL_VALUE_NOT_SET,
    CQL_VALUE_EMPTY
} cql_value_state_t;

/* An arbitrary-precision integer in two's complement, big endian.
 * Invariant: when ptr != NULL, len >= 1 bytes at ptr are the value (not
 * necessarily minimal: 0x0001 is 1) and i64/fits agree with them; when ptr
 * is NULL the value is i64 (fits is true) and the encoder writes it in the
 * minimal number of bytes. */
typedef struct cql_varint {
    const uint8_t *ptr; /* borrowed bytes, or NULL (value is i64) */
    size_t len;         /* number of bytes at ptr; 0 when ptr is NULL */
    int64_t i64;        /* the value when fits, else 0 */
    bool fits;          /* the value is within int64 */
} cql_varint_t;

typedef struct cql_value cql_value_t;
struct cql_value {
    cql_value_state_t state; /* see above; the union is meaningful only when SET */
    cql_type_kind_t kind;    /* kind of the type this value is for */
    union {
        bool b;      /* BOOLEAN */
        int64_t i;   /* TINYINT SMALLINT INT BIGINT COUNTER TIMESTAMP(ms) TIME(ns) */
        uint32_t date; /* DATE: unsigned days, CQL_DATE_EPOCH = 1970-01-01 */
        float f;     /* FLOAT */
        double d;    /* DOUBLE */
        struct {
            const uint8_t *ptr; /* borrowed; may be NULL when len is 0 */
            size_t len;
        } raw;       /* ASCII VARCHAR BLOB CUSTOM */
        uint8_t uuid[16]; /* UUID TIMEUUID, network order */
        struct {
            uint8_t size;      /* 4 or 16 */
            uint8_t addr[16];  /* network order */
        } inet;      /* INET */
        cql_varint_t varint; /* VARINT */
        struct {
            int32_t scale;       /* value = unscaled * 10^-scale */
            cql_varint_t unscaled;
        } decimal;   /* DECIMAL */
        struct {
            int32_t months;
            int32_t days;
            int64_t nanos;  /* all three >= 0 or all three <= 0 */
        } duration;  /* DURATION */
        struct {
            size_t n;            /* elements (LIST SET), pairs (MAP), components
                                    (TUPLE) or fields (UDT) */
            cql_value_t *items;  /* n items; MAP: 2n items, key then value */
        } coll;      /* LIST SET MAP TUPLE UDT */
    } u;
};

/* ---- decoding and encoding ------------------------------------------ */

/* Decodes in (a [value] body: in.len >= 0 bytes, or CQL_BYTES_NULL /
 * CQL_BYTES_NOT_SET) as type t into *out. Tuple and UDT values with fewer
 * components than the type get NULL for the missing ones (out->u.coll.n is
 * then the type's count). Returns 0, CQLMQ_EBADTYPE, CQLMQ_EUTF8,
 * CQLMQ_EMALFORMED, CQLMQ_ELIMIT or CQLMQ_ENOMEM (see the file comment). On
 * error *out is unspecified and the arena may hold partial allocations. */
int cql_value_decode(const cql_type_t *t, cql_bytes_t in, cql_arena_t *a, cql_value_t *out);

/* Validates a serialized value without building a tree (nothing allocated).
 * Same rules and codes as cql_value_decode, minus CQLMQ_ENOMEM. */
int cql_value_validate(const cql_type_t *t, cql_bytes_t in);

/* Writes v as a [value]: int32 length then the body, or -1 (NULL), -2
 * (NOT_SET), 0 (EMPTY). A value that does not fit t (see cql_value_check)
 * sets the writer's sticky error to CQLMQ_EBADTYPE (or CQLMQ_ERANGE for an
 * integer out of the type's range); other errors are the writer's. */
void cql_value_encode(cql_wr_t *w, const cql_type_t *t, const cql_value_t *v);

/* Writes only the body of v (no length prefix). NULL, NOT_SET and EMPTY
 * write nothing. Errors as cql_value_encode. */
void cql_value_encode_body(cql_wr_t *w, const cql_type_t *t, const cql_value_t *v);

/* Checks that v can be encoded as t: kinds match (integer kinds TINYINT,
 * SMALLINT, INT, BIGINT, COUNTER and VARINT are interchangeable when the
 * number is in range; VARCHAR and ASCII are interchangeable when ASCII;
 * UUID and TIMEUUID are interchangeable), strings are valid, counts match
 * (a tuple or UDT value may have fewer items than the type).
 * Returns 0, CQLMQ_EBADTYPE, CQLMQ_ERANGE, CQLMQ_EUTF8 or CQLMQ_ELIMIT. */
int cql_value_check(const cql_type_t *t, const cql_value_t *v);

/* ---- building values ------------------------------------------------- */
/* Scalar constructors return a SET value of the named kind by value.
 * Pointer arguments are borrowed (see the ownership rule above). */
cql_value_t cql_value_null(void);
cql_value_t cql_value_not_set(void);
cql_value_t cql_value_empty(cql_type_kind_t kind);
cql_value_t cql_value_boolean(bool v);
cql_value_t cql_value_tinyint(int8_t v);
cql_value_t cql_value_smallint(int16_t v);
cql_value_t cql_value_int(int32_t v);
cql_value_t cql_value_bigint(int64_t v);
cql_value_t cql_value_counter(int64_t v);
cql_value_t cql_value_timestamp(int64_t ms_since_epoch);
cql_value_t cql_value_time(int64_t ns_since_midnight);
cql_value_t cql_value_date(uint32_t raw);               /* raw: 2^31 = 1970-01-01 */
cql_value_t cql_value_date_days(int32_t days_since_epoch);
cql_value_t cql_value_float(float v);
cql_value_t cql_value_double(double v);
cql_value_t cql_value_text(const char *s);              /* NUL-terminated, borrowed */
cql_value_t cql_value_textn(const char *s, size_t n);
cql_value_t cql_value_ascii(const char *s);
cql_value_t cql_value_blob(const void *p, size_t n);
cql_value_t cql_value_custom(const void *p, size_t n);
cql_value_t cql_value_uuid(const uint8_t u[16]);
cql_value_t cql_value_timeuuid(const uint8_t u[16]);
cql_value_t cql_value_inet(const uint8_t *addr, size_t size); /* size 4 or 16 */
cql_value_t cql_value_varint(int64_t v);
/* A varint from n >= 1 big-endian two's complement bytes (borrowed). */
cql_value_t cql_value_varint_bytes(const uint8_t *p, size_t n);
cql_value_t cql_value_decimal(int32_t scale, int64_t unscaled);
cql_value_t cql_value_decimal_bytes(int32_t scale, const uint8_t *p, size_t n);
cql_value_t cql_value_duration(int32_t months, int32_t days, int64_t nanos);

/* Prepares a LIST, SET, MAP, TUPLE or UDT value with n items (n pairs for
 * MAP) allocated in a, all NULL, for the caller to fill in
 * out->u.coll.items. Returns 0, CQLMQ_EINVAL (kind is not one of those) or
 * CQLMQ_ENOMEM. */
int cql_value_coll_new(cql_arena_t *a, cql_type_kind_t kind, size_t n, cql_value_t *out);

/* ---- comparing and printing ----------------------------------------- */

/* Structural equality of two trees: same state and, when SET, the same
 * value. Numbers compare by value (varint 0x0001 equals 1; integer kinds
 * compare across kinds), floats by bits (NaN equals the same NaN, -0.0 is not
 * 0.0), decimals by (scale, unscaled) so 1.0 is not 1.00. */
bool cql_value_equal(const cql_value_t *x, const cql_value_t *y);

/* Formats v of type t as a CQL literal, cqlsh style:
 *   'it''s'  0xcafe  123  -1.5  NaN  -Infinity  true
 *   2f1a...(uuid, bare)  '2024-01-02 03:04:05.678000+0000'  '2024-01-02'
 *   '03:04:05.678901234'  '10.0.0.1'  1y2mo3d4h5m6s7ms8us9ns
 *   1.50  1E+3 (decimals as Java's BigDecimal.toString: exact)
 *   [1, 2]  {1, 2}  {'a': 1}  (1, 'x', null)  {street: 'x', "Zip": null}
 *   null (NULL and NOT_SET), blobAsInt(0x) (EMPTY of a non-string type)
 * Timestamps outside years 1..9999 print as integer milliseconds, dates
 * outside years 1..9999 as their raw unsigned integer (both valid CQL
 * literals). Floats print the shortest text that reads back to the same
 * bits. The zero duration prints 0s.
 * Writes at most cap bytes including the NUL; returns the length the full
 * text needs (like snprintf) or CQLMQ_EBADTYPE (v does not fit t),
 * CQLMQ_ELIMIT (too deep) or CQLMQ_ENOMEM (scratch for a varint or decimal
 * of more than a few dozen bytes comes from malloc). */
int cql_value_format(const cql_type_t *t, const cql_value_t *v, char *buf, size_t cap);
/* The same with the scratch from mem (NULL means the C library). Every block
 * is freed before it returns; on CQLMQ_ENOMEM buf holds a NUL-terminated
 * prefix of the text. */
int cql_value_format_mem(const cql_type_t *t, const cql_value_t *v, char *buf, size_t cap,
                         const cql_mem_t *mem);

/* ---- numbers on serialized bytes (shared with cql_order) ------------ */

/* Reads a two's complement varint of n >= 1 bytes into *out; returns false
 * when it does not fit int64 (then *out is 0). */
bool cql_varint_to_i64(const uint8_t *p, size_t n, int64_t *out);

/* Writes v in the minimal number of two's complement bytes (1..8) to buf[8],
 * returns that number. */
size_t cql_varint_from_i64(int64_t v, uint8_t buf[8]);

/* Numeric comparison of two varints (n >= 1 bytes each, any padding):
 * <0, 0 or >0. */
int cql_varint_compare(const uint8_t *a, size_t na, const uint8_t *b, size_t nb);

/* Numeric comparison of two decimals given as (scale, unscaled varint):
 * exact for any scales (1.0 == 1.00). Same scales, or int64 values whose
 * scales differ by at most 18, compare without allocating; otherwise the
 * digits are computed in a heap scratch buffer (if that fails, the result
 * falls back to comparing the unscaled values, which stays deterministic). */
int cql_decimal_compare(int32_t sa, const uint8_t *a, size_t na, int32_t sb, const uint8_t *b,
                        size_t nb);
/* The same with the scratch from mem (NULL means the C library). */
int cql_decimal_compare_mem(int32_t sa, const uint8_t *a, size_t na, int32_t sb,
                            const uint8_t *b, size_t nb, const cql_mem_t *mem);

/* Writes the decimal digits of a varint ("-123456789012345678901234567890")
 * into buf (cap bytes incl. NUL); returns the length needed, like snprintf,
 * or CQLMQ_EINVAL (n == 0) or CQLMQ_ENOMEM (inputs over 24 bytes use a
 * heap scratch buffer). */
int cql_varint_format(const uint8_t *p, size_t n, char *buf, size_t cap);
/* The same with the scratch from mem (NULL means the C library). On
 * CQLMQ_ENOMEM buf (when cap > 0) holds the empty string. */
int cql_varint_format_mem(const uint8_t *p, size_t n, char *buf, size_t cap,
                          const cql_mem_t *mem);

/* Checks UTF-8 (RFC 3629). Returns 0 or CQLMQ_EUTF8. */
int cql_utf8_validate(const uint8_t *p, size_t n);

#endif /* CQL_VALUE_H */
