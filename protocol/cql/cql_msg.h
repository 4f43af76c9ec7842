/*
 * cql_msg: every message body of the native protocol v3 and v4, decoded
 * and encoded, for both sides (the gateway is a client, the embedded node a
 * server). No I/O.
 *
 * Tables declared once here (X-macros) and everything else derived from
 * them: consistency levels, error codes with the extra fields each carries,
 * event types, schema change kinds and targets, topology/status changes,
 * result kinds. Opcodes live in cql_frame.h.
 *
 * Decoding borrows: every cql_str_t / cql_bytes_t in a decoded message
 * points into the body that was decoded, and every array (values, names,
 * column specs, batch statements, lists and maps) comes from the caller's
 * arena. A decoded message is valid while both the body and the arena are.
 * Every count is checked against the bytes that remain before anything is
 * allocated, so a body of n bytes never makes the arena grow by more than a
 * small multiple of n.
 *
 * Versions: 3 and 4. The differences handled: v4 adds [value] "not set"
 * (v3 reads any negative length as null), the warning and custom payload
 * envelope, read_failure / function_failure / write_failure errors,
 * pk_indices in Prepared metadata, and FUNCTION / AGGREGATE schema change
 * targets. v5 (not supported yet) would widen the QUERY/BATCH flags to
 * [int], add keyspace / now_in_seconds, the result metadata id and the
 * reason maps of the failure errors: each place is marked "v5:".
 *
 * Rows: cql_result.h has the metadata codec, the row iterator and the row
 * builder a server uses to stream rows into a frame.
 */
#ifndef CQL_MSG_H
#define CQL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cql_arena.h"
#include "cql_buf.h"
#include "cql_frame.h"
#include "cql_type.h"

/* ---- tables ---- */

/* [consistency]: X(NAME, code). The name is the string Cassandra prints. */
#define CQL_CONSISTENCY_MAP(X) \
    X(ANY, 0x0000)             \
    X(ONE, 0x0001)             \
    X(TWO, 0x0002)             \
    X(THREE, 0x0003)           \
    X(QUORUM, 0x0004)          \
    X(ALL, 0x0005)             \
    X(LOCAL_QUORUM, 0x0006)    \
    X(EACH_QUORUM, 0x0007)     \
    X(SERIAL, 0x0008)          \
    X(LOCAL_SERIAL, 0x0009)    \
    X(LOCAL_ONE, 0x000A)

enum {
#define CQL_CL_ENUM_(name, code) CQL_CL_##name = (code),
    CQL_CONSISTENCY_MAP(CQL_CL_ENUM_)
#undef CQL_CL_ENUM_
};
/* "LOCAL_QUORUM" for 6; NULL for an unknown code. */
const char *cql_consistency_name(int code);
/* The code of a name (case-insensitive), or CQLMQ_ENOTFOUND. */
int cql_consistency_from_name(const char *s, size_t len);

/* Extra fields of ERROR bodies, always in this order on the wire when
 * present (every code's layout in spec section 9 is a subsequence). */
enum {
    CQL_EF_CL = 1 << 0,           /* [consistency] consistency */
    CQL_EF_REQUIRED = 1 << 1,     /* [int] required */
    CQL_EF_ALIVE = 1 << 2,        /* [int] alive */
    CQL_EF_RECEIVED = 1 << 3,     /* [int] received */
    CQL_EF_BLOCKFOR = 1 << 4,     /* [int] blockfor */
    CQL_EF_NUMFAILURES = 1 << 5,  /* [int] num_failures (v5: reason map) */
    CQL_EF_DATA_PRESENT = 1 << 6, /* [byte] data_present */
    CQL_EF_WRITE_TYPE = 1 << 7,   /* [string] write_type */
    CQL_EF_KEYSPACE = 1 << 8,     /* [string] keyspace */
    CQL_EF_NAME = 1 << 9,         /* [string] table or function */
    CQL_EF_ARG_TYPES = 1 << 10,   /* [string list] arg_types */
    CQL_EF_ID = 1 << 11,          /* [short bytes] id */
};
#define CQL_EF_CL_RECV_BLOCK (CQL_EF_CL | CQL_EF_RECEIVED | CQL_EF_BLOCKFOR)

/* Error codes: X(NAME, code, "name", extra fields, first version, code sent
 * instead to older versions (Cassandra's backward-compatible conversion;
 * -1 when the code exists in every version we speak)). */
#define CQL_ERROR_CODE_MAP(X)                                                          \
    X(SERVER_ERROR, 0x0000, "server_error", 0, 1, -1)                                  \
    X(PROTOCOL_ERROR, 0x000A, "protocol_error", 0, 1, -1)                              \
    X(BAD_CREDENTIALS, 0x0100, "bad_credentials", 0, 1, -1)                            \
    X(UNAVAILABLE, 0x1000, "unavailable", CQL_EF_CL | CQL_EF_REQUIRED | CQL_EF_ALIVE, 1, -1) \
    X(OVERLOADED, 0x1001, "overloaded", 0, 1, -1)                                      \
    X(IS_BOOTSTRAPPING, 0x1002, "is_bootstrapping", 0, 1, -1)                          \
    X(TRUNCATE_ERROR, 0x1003, "truncate_error", 0, 1, -1)                              \
    X(WRITE_TIMEOUT, 0x1100, "write_timeout", CQL_EF_CL_RECV_BLOCK | CQL_EF_WRITE_TYPE, 1, -1) \
    X(READ_TIMEOUT, 0x1200, "read_timeout", CQL_EF_CL_RECV_BLOCK | CQL_EF_DATA_PRESENT, 1, -1) \
    X(READ_FAILURE, 0x1300, "read_failure",                                            \
      CQL_EF_CL_RECV_BLOCK | CQL_EF_NUMFAILURES | CQL_EF_DATA_PRESENT, 4, 0x1200)      \
    X(FUNCTION_FAILURE, 0x1400, "function_failure",                                    \
      CQL_EF_KEYSPACE | CQL_EF_NAME | CQL_EF_ARG_TYPES, 4, 0x2200)                     \
    X(WRITE_FAILURE, 0x1500, "write_failure",                                          \
      CQL_EF_CL_RECV_BLOCK | CQL_EF_NUMFAILURES | CQL_EF_WRITE_TYPE, 4, 0x1100)        \
    X(CDC_WRITE_FAILURE, 0x1600, "cdc_write_failure", 0, 5, 0x2200)                    \
    X(CAS_WRITE_UNKNOWN, 0x1700, "cas_write_unknown", CQL_EF_CL_RECV_BLOCK, 5, 0x1100) \
    X(SYNTAX_ERROR, 0x2000, "syntax_error", 0, 1, -1)                                  \
    X(UNAUTHORIZED, 0x2100, "unauthorized", 0, 1, -1)                                  \
    X(INVALID, 0x2200, "invalid", 0, 1, -1)                                            \
    X(CONFIG_ERROR, 0x2300, "config_error", 0, 1, -1)                                  \
    X(ALREADY_EXISTS, 0x2400, "already_exists", CQL_EF_KEYSPACE | CQL_EF_NAME, 1, -1)  \
    X(UNPREPARED, 0x2500, "unprepared", CQL_EF_ID, 1, -1)

enum {
#define CQL_ERR_ENUM_(name, code, str, ef, v, fb) CQL_ERR_##name = (code),
    CQL_ERROR_CODE_MAP(CQL_ERR_ENUM_)
#undef CQL_ERR_ENUM_
};
/* "read_timeout" for 0x1200; NULL for an unknown code. */
const char *cql_error_code_name(int32_t code);
/* The code of a name as above (case-insensitive), or CQLMQ_ENOTFOUND. */
int32_t cql_error_code_from_name(const char *s, size_t len);
/* The CQL_EF_* mask of a code; 0 for codes without extra fields or unknown. */
unsigned cql_error_code_fields(int32_t code);
/* The code to send on a connection of `version` instead of code (itself
 * when the version knows it, or for unknown codes). */
int32_t cql_error_code_for_version(int32_t code, int version);

/* Event types: X(NAME). The wire string is the name. */
#define CQL_EVENT_MAP(X) X(TOPOLOGY_CHANGE) X(STATUS_CHANGE) X(SCHEMA_CHANGE)
/* Changes of TOPOLOGY_CHANGE and STATUS_CHANGE events ("MOVED_NODE" is not
 * in the spec text but Cassandra sends it). */
#define CQL_TOPOLOGY_MAP(X) X(NEW_NODE) X(REMOVED_NODE) X(MOVED_NODE)
#define CQL_STATUS_MAP(X) X(UP) X(DOWN)
/* Schema changes: X(NAME) for the change, X(NAME, min version) for the
 * target (FUNCTION and AGGREGATE exist from v4). */
#define CQL_SCHEMA_CHANGE_MAP(X) X(CREATED) X(UPDATED) X(DROPPED)
#define CQL_SCHEMA_TARGET_MAP(X) \
    X(KEYSPACE, 3) X(TABLE, 3) X(TYPE, 3) X(FUNCTION, 4) X(AGGREGATE, 4)

#define CQL_NAME_ENUM_(name) CQL_EVENT_##name,
typedef enum { CQL_EVENT_MAP(CQL_NAME_ENUM_) CQL_EVENT_COUNT_ } cql_event_type_t;
#undef CQL_NAME_ENUM_
#define CQL_NAME_ENUM_(name) CQL_TOPOLOGY_##name,
typedef enum { CQL_TOPOLOGY_MAP(CQL_NAME_ENUM_) CQL_TOPOLOGY_COUNT_ } cql_topology_change_t;
#undef CQL_NAME_ENUM_
#define CQL_NAME_ENUM_(name) CQL_STATUS_##name,
typedef enum { CQL_STATUS_MAP(CQL_NAME_ENUM_) CQL_STATUS_COUNT_ } cql_status_change_t;
#undef CQL_NAME_ENUM_
#define CQL_NAME_ENUM_(name) CQL_SCHEMA_##name,
typedef enum { CQL_SCHEMA_CHANGE_MAP(CQL_NAME_ENUM_) CQL_SCHEMA_CHANGE_COUNT_ } cql_schema_change_type_t;
#undef CQL_NAME_ENUM_
#define CQL_NAME_ENUM_(name, v) CQL_TARGET_##name,
typedef enum { CQL_SCHEMA_TARGET_MAP(CQL_NAME_ENUM_) CQL_TARGET_COUNT_ } cql_schema_target_t;
#undef CQL_NAME_ENUM_

/* Wire names of the enums above; NULL when out of range. */
const char *cql_event_type_name(int v);
const char *cql_topology_change_name(int v);
const char *cql_status_change_name(int v);
const char *cql_schema_change_name(int v);
const char *cql_schema_target_name(int v);

/* Result kinds: X(NAME, code). */
#define CQL_RESULT_KIND_MAP(X) \
    X(VOID, 0x0001) X(ROWS, 0x0002) X(SET_KEYSPACE, 0x0003) X(PREPARED, 0x0004) \
    X(SCHEMA_CHANGE, 0x0005)
enum {
#define CQL_KIND_ENUM_(name, code) CQL_RESULT_##name = (code),
    CQL_RESULT_KIND_MAP(CQL_KIND_ENUM_)
#undef CQL_KIND_ENUM_
};

/* QUERY / EXECUTE flags (a [byte] in v3/v4; v5: an [int]). */
enum {
    CQL_QF_VALUES = 0x01,
    CQL_QF_SKIP_METADATA = 0x02,
    CQL_QF_PAGE_SIZE = 0x04,
    CQL_QF_PAGING_STATE = 0x08,
    CQL_QF_SERIAL_CONSISTENCY = 0x10,
    CQL_QF_DEFAULT_TIMESTAMP = 0x20,
    CQL_QF_NAMES = 0x40,
};
/* BATCH: the batch flags use the same masks (0x10, 0x20, 0x40 only). */
enum { CQL_BATCH_LOGGED = 0, CQL_BATCH_UNLOGGED = 1, CQL_BATCH_COUNTER = 2 };
enum { CQL_BATCH_KIND_QUERY = 0, CQL_BATCH_KIND_PREPARED = 1 };

/* ---- compound notations ---- */

typedef struct cql_string_list {
    uint16_t n;
    cql_str_t *items; /* n strings (arena), NULL when n == 0 */
} cql_string_list_t;

typedef struct cql_string_pair {
    cql_str_t key;
    cql_str_t value;
} cql_string_pair_t;

typedef struct cql_string_map {
    uint16_t n;
    cql_string_pair_t *items; /* n pairs, in wire order */
} cql_string_map_t;

typedef struct cql_multimap_entry {
    cql_str_t key;
    cql_string_list_t values;
} cql_multimap_entry_t;

typedef struct cql_string_multimap {
    uint16_t n;
    cql_multimap_entry_t *items;
} cql_string_multimap_t;

typedef struct cql_bytes_entry {
    cql_str_t key;
    cql_bytes_t value;
} cql_bytes_entry_t;

typedef struct cql_bytes_map {
    uint16_t n;
    cql_bytes_entry_t *items;
} cql_bytes_map_t;

/* Readers: 0, CQLMQ_ETRUNCATED, CQLMQ_EMALFORMED or CQLMQ_ENOMEM; the reader
 * is left where it was on error. Writers report to the sticky error. */
int cql_rd_string_list(cql_rd_t *r, cql_arena_t *a, cql_string_list_t *out);
int cql_rd_string_map(cql_rd_t *r, cql_arena_t *a, cql_string_map_t *out);
int cql_rd_string_multimap(cql_rd_t *r, cql_arena_t *a, cql_string_multimap_t *out);
int cql_rd_bytes_map(cql_rd_t *r, cql_arena_t *a, cql_bytes_map_t *out);
void cql_wr_string_list(cql_wr_t *w, const cql_string_list_t *l);
void cql_wr_string_map(cql_wr_t *w, const cql_string_map_t *m);
void cql_wr_string_multimap(cql_wr_t *w, const cql_string_multimap_t *m);
void cql_wr_bytes_map(cql_wr_t *w, const cql_bytes_map_t *m);
/* A value of a string map by key (exact match), or false. */
bool cql_string_map_get(const cql_string_map_t *m, const char *key, cql_str_t *out);

/* ---- RESULT bodies (the rows API is in cql_result.h) ---- */

/* Rows metadata flags ([int]). */
enum {
    CQL_MF_GLOBAL_TABLES_SPEC = 0x0001,
    CQL_MF_HAS_MORE_PAGES = 0x0002,
    CQL_MF_NO_METADATA = 0x0004,
};
/* Column counts without column specs (NO_METADATA) are capped here, since
 * nothing else in the body bounds them and callers size arrays by them. */
#define CQL_MAX_COLUMNS 65535

typedef struct cql_col_spec {
    cql_str_t keyspace;  /* the global one when GLOBAL_TABLES_SPEC */
    cql_str_t table;     /* idem */
    cql_str_t name;
    cql_type_t *type;    /* in the arena */
} cql_col_spec_t;

/*
 * Metadata of Rows results (<metadata>), of the bind variables of Prepared
 * results, and of their result set.
 * Invariants: cols is NULL exactly when NO_METADATA is set (or ncols == 0);
 * with GLOBAL_TABLES_SPEC every cols[i].keyspace/table equals
 * keyspace/table (the encoder writes the global pair, not the per-column
 * ones); pk_indices only in v4 bind metadata.
 */
typedef struct cql_meta {
    int32_t flags;             /* CQL_MF_* */
    int32_t ncols;             /* columns (rows) or bind markers (prepared) */
    cql_bytes_t paging_state;  /* HAS_MORE_PAGES */
    cql_str_t keyspace;        /* GLOBAL_TABLES_SPEC */
    cql_str_t table;           /* GLOBAL_TABLES_SPEC */
    cql_col_spec_t *cols;      /* ncols specs, or NULL (NO_METADATA) */
    int32_t npk;               /* v4 bind metadata: partition key indices */
    uint16_t *pk_indices;      /* npk bind marker indices */
} cql_meta_t;

/* Rows: metadata, then nrows rows of meta.ncols [bytes] each. The content
 * is kept as one slice and walked by cql_rows_next. */
typedef struct cql_result_rows {
    cql_meta_t meta;
    int32_t nrows;             /* <rows_count> */
    const uint8_t *content;    /* <rows_content> */
    size_t content_len;        /* its bytes (to the end of the body) */
} cql_result_rows_t;

typedef struct cql_result_prepared {
    cql_bytes_t id;            /* [short bytes]; v5: + result_metadata_id */
    cql_meta_t bind;           /* bind markers (v4: with pk_indices) */
    cql_meta_t result;         /* result set metadata (maybe NO_METADATA) */
} cql_result_prepared_t;

/* Schema_change results and SCHEMA_CHANGE events. */
typedef struct cql_schema_change {
    cql_schema_change_type_t change;
    cql_schema_target_t target;
    cql_str_t keyspace;            /* every target */
    cql_str_t name;                /* TABLE, TYPE, FUNCTION, AGGREGATE */
    cql_string_list_t arg_types;   /* FUNCTION, AGGREGATE: CQL type strings */
} cql_schema_change_t;

typedef struct cql_result {
    int32_t kind;                  /* CQL_RESULT_* */
    union {
        cql_result_rows_t rows;
        cql_str_t keyspace;        /* SET_KEYSPACE */
        cql_result_prepared_t prepared;
        cql_schema_change_t schema_change;
    } u;                           /* VOID: nothing */
} cql_result_t;

/* ---- messages ---- */

/* <query_parameters> of QUERY and EXECUTE. flags decide which fields are
 * present on the wire; fields whose flag is clear are ignored (and zero
 * after decoding). */
typedef struct cql_query_params {
    uint16_t consistency;        /* CQL_CL_* */
    uint8_t flags;               /* CQL_QF_* */
    uint16_t nvalues;            /* QF_VALUES: number of values */
    cql_bytes_t *values;         /* nvalues values (v4: NOT_SET allowed) */
    cql_str_t *names;            /* QF_VALUES|QF_NAMES: nvalues names; else NULL */
    int32_t page_size;           /* QF_PAGE_SIZE */
    cql_bytes_t paging_state;    /* QF_PAGING_STATE */
    uint16_t serial_consistency; /* QF_SERIAL_CONSISTENCY */
    int64_t timestamp;           /* QF_DEFAULT_TIMESTAMP, microseconds */
} cql_query_params_t;

typedef struct cql_msg_query {
    cql_str_t query; /* [long string] */
    cql_query_params_t params;
} cql_msg_query_t;

typedef struct cql_msg_execute {
    cql_bytes_t id; /* [short bytes] prepared id */
    cql_query_params_t params;
} cql_msg_execute_t;

/* One statement of a BATCH. */
typedef struct cql_batch_stmt {
    uint8_t kind;        /* CQL_BATCH_KIND_QUERY or _PREPARED */
    cql_str_t query;     /* KIND_QUERY */
    cql_bytes_t id;      /* KIND_PREPARED */
    uint16_t nvalues;
    cql_bytes_t *values; /* nvalues values (v4: NOT_SET allowed) */
} cql_batch_stmt_t;

/* The batch flag QF_NAMES ("names for values") is refused both ways with
 * CQLMQ_EUNSUPPORTED: the spec itself says it cannot be implemented (the
 * flag comes after the statements it changes; CASSANDRA-10246). */

typedef struct cql_msg_batch {
    uint8_t type;                /* CQL_BATCH_LOGGED / UNLOGGED / COUNTER */
    uint16_t nstmts;
    cql_batch_stmt_t *stmts;
    uint16_t consistency;
    uint8_t flags;               /* CQL_QF_SERIAL_CONSISTENCY | DEFAULT_TIMESTAMP */
    uint16_t serial_consistency; /* QF_SERIAL_CONSISTENCY */
    int64_t timestamp;           /* QF_DEFAULT_TIMESTAMP */
} cql_msg_batch_t;

/* ERROR. Which fields are meaningful is cql_error_code_fields(code). */
typedef struct cql_msg_error {
    int32_t code;                /* CQL_ERR_* (unknown codes are kept) */
    cql_str_t message;
    uint16_t consistency;        /* EF_CL */
    int32_t required;            /* EF_REQUIRED */
    int32_t alive;               /* EF_ALIVE */
    int32_t received;            /* EF_RECEIVED */
    int32_t blockfor;            /* EF_BLOCKFOR */
    int32_t num_failures;        /* EF_NUMFAILURES */
    bool data_present;           /* EF_DATA_PRESENT */
    cql_str_t write_type;        /* EF_WRITE_TYPE: "SIMPLE", "BATCH", ... */
    cql_str_t keyspace;          /* EF_KEYSPACE */
    cql_str_t name;              /* EF_NAME: table (already_exists), function */
    cql_string_list_t arg_types; /* EF_ARG_TYPES */
    cql_bytes_t id;              /* EF_ID: unknown prepared id */
} cql_msg_error_t;

/* EVENT. */
typedef struct cql_msg_event {
    cql_event_type_t type;
    int change;                  /* cql_topology_change_t / cql_status_change_t */
    cql_inet_t addr;             /* TOPOLOGY_CHANGE, STATUS_CHANGE */
    cql_schema_change_t schema;  /* SCHEMA_CHANGE */
} cql_msg_event_t;

/*
 * A message: the opcode, the envelope the frame flags announce, and one
 * body per opcode.
 *
 * flags holds the frame flags that shape the body: CQL_FLAG_TRACING,
 * CQL_FLAG_WARNING and CQL_FLAG_CUSTOM_PAYLOAD (v4 only for the last two).
 * Decoding copies them from the frame (dropping those the version or the
 * direction gives no meaning); encoding writes the envelope they announce,
 * and cql_frame_write puts them in the header.
 *   tracing_id      responses with TRACING: 16 bytes; requests carry none
 *   warnings        responses with WARNING (v4)
 *   custom_payload  CUSTOM_PAYLOAD (v4), either direction
 */
typedef struct cql_msg {
    uint8_t opcode;                 /* CQL_OP_* */
    uint8_t flags;                  /* see above */
    const uint8_t *tracing_id;      /* 16 bytes, or NULL */
    cql_string_list_t warnings;
    cql_bytes_map_t custom_payload;
    union {
        cql_string_map_t startup;          /* STARTUP options */
        cql_msg_query_t query;             /* QUERY */
        cql_str_t prepare;                 /* PREPARE: the query */
        cql_msg_execute_t execute;         /* EXECUTE */
        cql_msg_batch_t batch;             /* BATCH */
        cql_string_list_t register_events; /* REGISTER */
        cql_bytes_t token;                 /* AUTH_RESPONSE, AUTH_CHALLENGE, AUTH_SUCCESS */
        cql_msg_error_t error;             /* ERROR */
        cql_str_t authenticator;           /* AUTHENTICATE: class name */
        cql_string_multimap_t supported;   /* SUPPORTED */
        cql_result_t result;               /* RESULT */
        cql_msg_event_t event;             /* EVENT */
    } u;                                   /* OPTIONS, READY: no body */
} cql_msg_t;

/* Decodes a frame body. Returns:
 *   0                   *out is the message
 *   CQLMQ_EBADVERSION   version is not 3 or 4
 *   CQLMQ_EBADOPCODE    not an opcode (0x04, > 0x10)
 *   CQLMQ_EUNSUPPORTED  the compression flag is set (we never negotiate it)
 *   CQLMQ_ETRUNCATED    the body ends inside an item
 *   CQLMQ_EMALFORMED    an impossible item (negative count, unknown result
 *                       kind / event / schema target, value < -2, ...)
 *   CQLMQ_ENOMEM        the arena refused (limit or memory)
 *   CQLMQ_ETRAILING     the whole message decoded into *out (usable by a
 *                       lenient peer: the spec allows extensions at the end)
 *                       but bytes remained after it
 * Except for ETRAILING, *out is unspecified on error. Rows content is not
 * walked here: cql_rows_next checks it (see cql_result.h). */
int cql_msg_decode(int version, uint8_t opcode, uint8_t flags, const uint8_t *body, size_t len,
                   cql_arena_t *arena, cql_msg_t *out);
/* The same for a frame from cql_frame_decoder_next. */
int cql_msg_decode_frame(const cql_frame_t *f, cql_arena_t *arena, cql_msg_t *out);

/* Appends the body of m (envelope included) to w. Returns:
 *   0
 *   CQLMQ_EBADVERSION   version is not 3 or 4
 *   CQLMQ_EBADOPCODE    m->opcode is not an opcode
 *   CQLMQ_EUNSUPPORTED  m uses what version lacks (v3: not-set values,
 *                       warnings, custom payload)
 *   CQLMQ_EINVAL        m is inconsistent (unknown kind or enum, names
 *                       missing, a row count that does not match, ...)
 *   CQLMQ_ERANGE, CQLMQ_ENOMEM  from the writer
 * On error other than the writer's own, w->len is put back where it was.
 * ERROR bodies are converted for older versions as Cassandra does (see
 * cql_error_code_for_version); v3 FUNCTION/AGGREGATE schema changes are
 * sent as "UPDATED KEYSPACE", as Cassandra does. */
int cql_msg_encode(cql_wr_t *w, int version, const cql_msg_t *m);

/* Writes a whole frame (header with m->flags, body) into w with no
 * intermediate copy. Errors as cql_msg_encode, plus CQLMQ_ETOOBIG. */
int cql_frame_write(cql_wr_t *w, int version, int16_t stream, const cql_msg_t *m);

/* Writes the part of a body before the message: tracing id (responses with
 * TRACING), warnings (WARNING), custom payload (CUSTOM_PAYLOAD), as
 * m->flags and m->opcode say. Returns 0, CQLMQ_EUNSUPPORTED (v3 with
 * warnings or custom payload), CQLMQ_EINVAL (TRACING on a response without
 * tracing_id) or the writer's error. */
int cql_envelope_write(cql_wr_t *w, int version, const cql_msg_t *m);

/* ---- per-opcode codecs, generated from CQL_OPCODE_MAP; the dispatch of
 * cql_msg_decode / cql_msg_encode calls them (cql_msg_req.c,
 * cql_msg_resp.c, cql_result.c). The decoder reads the message after the
 * envelope; the encoder writes it. Error codes as cql_msg_decode /
 * cql_msg_encode, except ETRAILING which only the dispatch reports. ---- */
#define CQL_MSG_CODEC_DECL_(name, code, lname, dir)                                     \
    int cql_msg_dec_##lname(cql_rd_t *r, int version, cql_arena_t *a, cql_msg_t *m);   \
    int cql_msg_enc_##lname(cql_wr_t *w, int version, const cql_msg_t *m);
CQL_OPCODE_MAP(CQL_MSG_CODEC_DECL_)
#undef CQL_MSG_CODEC_DECL_

/* <query_parameters>, shared by QUERY and EXECUTE. read: 0,
 * CQLMQ_ETRUNCATED, CQLMQ_EMALFORMED (v4 value < -2), CQLMQ_ENOMEM. write:
 * 0, CQLMQ_EUNSUPPORTED (v3 not-set value), CQLMQ_EINVAL (values or names
 * missing); writer errors stay in w. */
int cql_query_params_read(cql_rd_t *r, int version, cql_arena_t *a, cql_query_params_t *p);
int cql_query_params_write(cql_wr_t *w, int version, const cql_query_params_t *p);
/* A schema change after its event type / result kind (shared by RESULT
 * Schema_change and EVENT SCHEMA_CHANGE). read: 0, CQLMQ_ETRUNCATED,
 * CQLMQ_EMALFORMED (unknown change or target), CQLMQ_ENOMEM. write: 0 or
 * CQLMQ_EINVAL (enum out of range, arg types missing). */
int cql_schema_change_read(cql_rd_t *r, int version, cql_arena_t *a, cql_schema_change_t *out);
int cql_schema_change_write(cql_wr_t *w, int version, const cql_schema_change_t *s);
/* The v in [0, n) whose name_of(v) equals s exactly, or -1: turns a wire
 * string back into one of the enums above (name_of is one of the
 * cql_*_name functions). */
int cql_name_index(const char *(*name_of)(int), int n, cql_str_t s);

#endif /* CQL_MSG_H */
