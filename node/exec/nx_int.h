/*
 * nx_int: internals of the node executor shared by the files of node/exec/.
 *
 * Layout of the executor (one purpose per file):
 *   nx_db.c        node_db_t, sessions, clock, uuids, node_exec dispatch
 *   nx_pcache.c    per-node prepared statement caches;  nx_md5.c  MD5
 *   nx_run.c       one statement: bind values, dispatch by kind, USE
 *   nx_infer.c     bind marker types and names, pk_indices, PREPARE
 *   nx_term.c      terms (literals, collections, markers) to serialized values
 *   nx_func.c      function calls in terms: now(), uuid(), toTimestamp(), ...
 *   nx_text.c      text forms of dates, times, timestamps, numbers, inet
 *   nx_where.c     WHERE relations compiled to predicates, keys, bounds
 *   nx_ddl.c       CREATE/ALTER/DROP KEYSPACE/TABLE/TYPE, TRUNCATE
 *   nx_write.c     INSERT/UPDATE/DELETE planned as mutations, applied
 *   nx_lwt.c       IF conditions, [applied] results, BATCH
 *   nx_select.c    SELECT: selectors, metadata, projection
 *   nx_scan.c      SELECT: scanning, filtering, limits, paging state
 *   nx_rows.c      result bodies (Rows, Void, Prepared, Schema_change), errors
 *   nx_systab.c    system keyspaces, system.local / peers / peers_v2
 *   nx_schematab.c system_schema.* generated from the catalog
 *
 * Error convention inside the executor: functions return 0 or a negative
 * CQLMQ_E* code. NX_EFAIL means "a CQL error was recorded in the request"
 * (nx_fail): the dispatcher turns it into an ERROR body. Any other code is
 * turned into a ServerError, except CQLMQ_ENOMEM from the output writer.
 */
#ifndef NX_INT_H
#define NX_INT_H

#include "cql_ast.h"
#include "cql_msg.h"
#include "cql_result.h"
#include "node_exec.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cql_murmur3.h"
#include "cql_order.h"
#include "cql_type.h"
#include "cql_value.h"
#include "node_catalog.h"
#include "node_store.h"

#define NX_EFAIL CQLMQ_ESERVER /* a CQL error is recorded in the request */
#define NX_MSG_MAX 512

/* ---- db ------------------------------------------------------------------ */

typedef struct nx_pcache nx_pcache_t;

/* Invariants: last_ts is the largest write timestamp handed out;
 * schema_rows_version is the catalog version the system_schema rows were
 * generated from (UINT64_MAX: never). */
struct node_db {
    node_db_config_t cfg;       /* copied from node_db_new */
    node_store_t *store;        /* data and catalog */
    uint8_t schema_version[16]; /* shared by every node */
    int64_t last_ts;            /* monotonic write timestamps, us */
    int64_t last_uuid_ts;       /* timeuuid clock, 100 ns units */
    uint64_t rng;               /* xorshift64* state */
    nx_pcache_t **pcache;       /* per node index, grown on demand */
    size_t npcache;
    cql_arena_t arena;          /* per request; reset after each */
    node_iter_t *iter;          /* reused by scans */
    node_iter_t *iter2;         /* reused by point reads */
    uint64_t schema_rows_version;
};

uint64_t nx_rand(node_db_t *db);
void nx_uuid4(node_db_t *db, uint8_t out[16]);
/* A version 1 uuid for time `us`, unique within the db. */
void nx_timeuuid(node_db_t *db, int64_t us, uint8_t out[16]);
int64_t nx_clock_us(node_db_t *db);
/* New schema version + event (the event is not sent when ev is NULL). */
void nx_schema_changed(node_db_t *db, const cql_schema_change_t *ev);

/* ---- requests --------------------------------------------------------- */

/* The receiver of one bind marker: its name and type for Prepared metadata,
 * and the table it belongs to. */
typedef struct nx_spec {
    const char *ks;
    const char *table;
    const char *name;
    const cql_type_t *type;
} nx_spec_t;

/* State of one request. values[i] is the value of marker i after named
 * values were resolved. */
typedef struct nx_req {
    node_db_t *db;
    node_session_t *s;
    cql_arena_t *a;               /* == &db->arena */
    cql_wr_t *out;                /* response body goes here */
    int version;
    const char *keyspace;         /* default keyspace, or NULL */
    int64_t now_us;               /* clock at the start of the request */
    /* parameters */
    uint16_t consistency;
    int32_t page_size;            /* <= 0: no paging */
    cql_bytes_t paging_state;     /* len < 0: none */
    bool has_ts;                  /* default timestamp given */
    int64_t ts;
    const cql_bytes_t *rvalues;   /* as received */
    const cql_str_t *rnames;      /* as received (QF_NAMES) or NULL */
    size_t nrvalues;
    bool has_values;              /* the request carried a values list */
    /* markers */
    nx_spec_t *specs;             /* one per marker (nx_infer) */
    size_t nspecs;
    const cql_bytes_t *values;    /* one per marker, resolved */
    bool internal;                /* may write system keyspaces */
    bool in_batch;                /* statement of a batch: no result */
    /* the CQL error, when a function returned NX_EFAIL */
    int32_t ecode;
    char emsg[NX_MSG_MAX];
    const char *eks, *ename;      /* AlreadyExists */
    uint8_t eid[16];              /* Unprepared */
    size_t eid_len;
} nx_req_t;

/* Records a CQL error and returns NX_EFAIL. */
int nx_fail(nx_req_t *r, int32_t code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Invalid request with message. */
#define nx_invalid(r, ...) nx_fail((r), CQL_ERR_INVALID, __VA_ARGS__)

/* Maps a store/catalog code to an error reply where it is the client's
 * fault (EINVAL, ERANGE, EMALFORMED -> Invalid with `what`). */
int nx_store_err(nx_req_t *r, int rc, const char *what);

/* The keyspace of a qualified name, or the request's default, or fails. */
int nx_resolve_ks(nx_req_t *r, const char *ks, const char **out);
/* The table of a qualified name: Invalid when keyspace/table unknown. */
int nx_resolve_table(nx_req_t *r, const cql_qname_t *q, const node_table_t **out);
bool nx_is_system_ks(const char *ks);

/* ---- running statements (nx_run.c) --------------------------------------- */

/* Runs a parsed statement with the request's values; writes the result. */
int nx_run(nx_req_t *r, const cql_stmt_t *st);
/* Resolves request values to markers (positional or by name) after
 * nx_infer filled the specs. */
int nx_bind_values(nx_req_t *r, const cql_stmt_t *st);
/* Parse text; SyntaxError on failure. */
int nx_parse(nx_req_t *r, const char *text, size_t len, cql_stmt_t **out);

/* ---- markers (nx_infer.c) --------------------------------------------- */

/* Fills r->specs for every marker of st. Fails like execution would for
 * unknown keyspaces, tables and columns. */
int nx_infer(nx_req_t *r, const cql_stmt_t *st);
/* Writes a Prepared result for st (id given). */
int nx_prepared_result(nx_req_t *r, const cql_stmt_t *st, const uint8_t id[16]);

/* ---- terms (nx_term.c) --------------------------------------------------- */

/* Converts a term to the serialized value of type t for receiver `name`
 * (for messages). Bind markers take r->values and are validated.
 * *out may be NULL / NOT_SET markers. */
int nx_term(nx_req_t *r, const cql_term_t *term, const cql_type_t *t, const char *name,
            cql_bytes_t *out);
/* Like nx_term, but NOT_SET and NULL are refused ("Invalid unset/null value
 * for <what>"). */
int nx_term_required(nx_req_t *r, const cql_term_t *term, const cql_type_t *t, const char *name,
                     cql_bytes_t *out);
/* An int32 from an INT literal or an int marker (LIMIT, TTL); *set false
 * when the marker is unset. */
int nx_term_i32(nx_req_t *r, const cql_term_t *term, const char *name, int32_t *out, bool *set);
int nx_term_i64(nx_req_t *r, const cql_term_t *term, const char *name, int64_t *out, bool *set);
/* Cassandra's message for a bound value that does not validate. */
int nx_value_check(nx_req_t *r, const cql_type_t *t, cql_bytes_t v, const char *name);
/* A function call term (nx_func.c). */
int nx_term_function(nx_req_t *r, const cql_term_t *term, const cql_type_t *t, const char *name,
                     cql_bytes_t *out);
/* v as a size-byte big-endian integer in the arena. */
int nx_be_int(nx_req_t *r, int64_t v, size_t size, cql_bytes_t *out);
/* A type as CQL text (arena), "?" on failure. */
const char *nx_type_str(nx_req_t *r, const cql_type_t *t);
/* Natural types (arena) used for markers and computed columns. */
const cql_type_t *nx_type(nx_req_t *r, cql_type_kind_t k);
cql_type_t *nx_type_coll(nx_req_t *r, cql_type_kind_t k, const cql_type_t *a,
                         const cql_type_t *b);
/* Copies bytes into the arena. */
cql_bytes_t nx_bytes_dup(nx_req_t *r, const void *p, size_t n);
/* Splits a serialized collection body into elements (MAP: 2n items) in
 * the arena. Returns 0, CQLMQ_EMALFORMED or CQLMQ_ENOMEM. */
int nx_coll_split(nx_req_t *r, cql_bytes_t v, bool map, cql_bytes_t **items, size_t *n);
/* Builds a collection body from n items (2n for maps), sorting and
 * deduplicating sets/maps by key with `key_type`. */
int nx_coll_build(nx_req_t *r, cql_bytes_t *items, size_t n, bool map, const cql_type_t *key_type,
                  bool sort, cql_bytes_t *out);

/* ---- text forms (nx_text.c) ---------------------------------------------- */

bool nx_parse_timestamp(const char *s, size_t n, int64_t *ms);
bool nx_parse_date(const char *s, size_t n, uint32_t *raw);
bool nx_parse_time(const char *s, size_t n, int64_t *ns);
bool nx_parse_inet(const char *s, size_t n, uint8_t addr[16], uint8_t *size);
/* Decimal integer text to minimal two's complement bytes (arena). */
bool nx_parse_varint(nx_req_t *r, const char *s, size_t n, cql_bytes_t *out);
/* Decimal text ("-1.5e3") to the body of a decimal value (arena). */
bool nx_parse_decimal(nx_req_t *r, const char *s, size_t n, cql_bytes_t *out);
/* Formats a uuid as 36 chars + NUL. */
void nx_uuid_str(const uint8_t u[16], char out[37]);

/* ---- WHERE (nx_where.c) -------------------------------------------------- */

typedef enum { NX_P_COLUMN, NX_P_TOKEN, NX_P_TUPLE, NX_P_ELEMENT } nx_pred_kind_t;

/* One compiled relation. Invariants: IN predicates have nin values (TUPLE:
 * nin * ncols components in in[]); other ops have value (TUPLE: ncols
 * components in tuple[]). */
typedef struct nx_pred {
    nx_pred_kind_t kind;
    cql_rel_op_t op;
    const node_column_t *col;    /* COLUMN, ELEMENT: the column */
    const node_column_t **cols;  /* TUPLE: ncols clustering columns */
    size_t ncols;
    cql_bytes_t value;           /* single value (TOKEN: bigint) */
    cql_bytes_t *tuple;          /* TUPLE */
    cql_bytes_t *in;             /* IN */
    size_t nin;
    cql_bytes_t key;             /* ELEMENT subscript */
} nx_pred_t;

/* A WHERE clause compiled against a table with the request's values. */
typedef struct nx_where {
    const node_table_t *t;
    nx_pred_t *preds;
    size_t npreds;
    /* partition key: per pk position, the values (EQ: 1, IN: n), or NULL */
    cql_bytes_t **pkv;
    size_t *npkv;
    size_t npk_restricted;       /* pk columns with EQ/IN */
    bool pk_other;               /* pk column with another op */
    bool has_token;
    bool start_incl, end_incl, has_start, has_end;
    int64_t start_token, end_token;
    /* clustering */
    cql_bytes_t **ckv;           /* per ck position: EQ/IN values or NULL */
    size_t *nckv;
    size_t ck_eq_prefix;         /* leading ck columns with EQ/IN */
    bool ck_restricted;          /* any clustering restriction */
    bool ck_needs_filter;        /* restriction that is not a prefix+slice */
    const nx_pred_t *ck_slice[2];/* slice on column ck_eq_prefix (lo, hi) or
                                    a multi-column slice, or NULL */
    bool needs_filter;           /* regular column / partial key / contains */
} nx_where_t;

int nx_where_compile(nx_req_t *r, const node_table_t *t, cql_relation_t *const *rels, size_t n,
                     nx_where_t *w);
/* All pk combinations (cartesian product), sorted by token, deduplicated:
 * keys[i] has t->npk components. Fails when the partition key is not fully
 * restricted by EQ/IN. */
int nx_where_partitions(nx_req_t *r, const nx_where_t *w, cql_bytes_t ***keys, size_t *n);
/* All full clustering key combinations (EQ/IN on every ck column). */
int nx_where_rows(nx_req_t *r, const nx_where_t *w, cql_bytes_t ***keys, size_t *n);
/* Scan bounds for the clustering restrictions (a conservative superset;
 * the predicates are rechecked per row). Buffers live in the arena. */
int nx_where_bounds(nx_req_t *r, const nx_where_t *w, node_bound_t *start, node_bound_t *end);
/* Whether a row satisfies every predicate (token and pk ones included). */
int nx_where_match(nx_req_t *r, const nx_where_t *w, const node_row_view_t *row, bool *ok);
/* The value of a column in a row: key components or the live cell; NULL
 * marker when absent. */
cql_bytes_t nx_row_value(const node_row_view_t *row, const node_column_t *c);

/* ---- statements -------------------------------------------------------- */

int nx_ddl(nx_req_t *r, const cql_stmt_t *st);
int nx_use(nx_req_t *r, const cql_stmt_t *st);
int nx_select(nx_req_t *r, const cql_stmt_t *st);

/* A planned change to the store (nx_write.c). */
typedef enum { NX_M_WRITE, NX_M_DEL_PARTITION, NX_M_DEL_ROW, NX_M_DEL_RANGE } nx_mut_kind_t;
typedef struct nx_mut {
    nx_mut_kind_t kind;
    const node_table_t *t;
    node_write_t w;           /* WRITE: pk, ck, ops, insert, ts, ttl; DEL_*: pk, ck, ts */
    node_bound_t start, end;  /* DEL_RANGE */
} nx_mut_t;

typedef struct nx_muts {
    nx_mut_t *v;
    size_t n, cap;
} nx_muts_t;

/* Plans INSERT/UPDATE/DELETE st into muts (appended). ts: the timestamp
 * to use when the statement has no USING TIMESTAMP. */
int nx_plan_write(nx_req_t *r, const cql_stmt_t *st, int64_t ts, nx_muts_t *muts);
int nx_apply(nx_req_t *r, const nx_mut_t *m, size_t n);
/* The write timestamp of the request: default timestamp or the clock. */
int64_t nx_write_ts(nx_req_t *r);
/* INSERT / UPDATE / DELETE as a statement (conditions go to nx_lwt). */
int nx_modify(nx_req_t *r, const cql_stmt_t *st);
bool nx_stmt_conditional(const cql_stmt_t *st);
int nx_lwt(nx_req_t *r, const cql_stmt_t *const *stmts, size_t n, int64_t ts);
int nx_batch_stmt(nx_req_t *r, const cql_stmt_t *st);
/* BATCH message. */
int nx_batch_msg(nx_req_t *r, const cql_msg_t *m);
/* Checks that DML may touch table t (system keyspaces are read-only). */
int nx_check_writable(nx_req_t *r, const node_table_t *t);

/* ---- results (nx_rows.c) ------------------------------------------------- */

/* A Rows result under construction: columns first, then rows into a
 * scratch writer, then nx_rs_finish writes kind + metadata + rows. */
typedef struct nx_rs {
    nx_req_t *r;
    const char *ks, *table;
    cql_col_spec_t *cols;
    int32_t ncols, capcols;
    cql_wr_t rows;            /* row content */
    int32_t nrows;
} nx_rs_t;

void nx_rs_init(nx_rs_t *rs, nx_req_t *r, const char *ks, const char *table);
int nx_rs_col(nx_rs_t *rs, const char *name, const cql_type_t *type);
void nx_rs_cell(nx_rs_t *rs, cql_bytes_t v);
void nx_rs_end_row(nx_rs_t *rs);
/* Writes the result; paging_state len < 0 for none. Frees the scratch. */
int nx_rs_finish(nx_rs_t *rs, cql_bytes_t paging_state);
void nx_rs_close(nx_rs_t *rs);
/* Rows metadata (no paging) of the columns, for Prepared results. */
void nx_rs_meta(const nx_rs_t *rs, cql_meta_t *m);

int nx_result_void(nx_req_t *r);
int nx_result_set_keyspace(nx_req_t *r, const char *ks);
int nx_result_schema_change(nx_req_t *r, const cql_schema_change_t *sc);
/* Writes the recorded error (r->ecode...) to r->out. */
int nx_write_error(nx_req_t *r);

/* ---- system tables -------------------------------------------------------- */

/* Creates the system keyspaces and tables (at node_db_new). */
int nx_systab_init(nx_req_t *r);
/* Before reading ks.table: refreshes node-local tables (system.local,
 * peers, peers_v2) for the session's node, and system_schema rows when
 * the catalog changed. */
int nx_systab_refresh(nx_req_t *r, const node_table_t *t);
int nx_schematab_rebuild(nx_req_t *r);
/* Writes one row of serialized cells (by column name) into a system table.
 * names/values: n pairs; missing columns stay null. */
int nx_systab_put(nx_req_t *r, const node_table_t *t, const char *const *names,
                  const cql_bytes_t *values, size_t n);

/* ---- prepared cache (nx_pcache.c) ------------------------------------------ */

typedef struct nx_prepared {
    uint8_t id[16];
    char *query;              /* NUL-terminated copy */
    size_t query_len;
    char keyspace[NODE_NAME_MAX + 1];
    cql_arena_t arena;        /* the parsed statement */
    cql_stmt_t *stmt;
    uint64_t stamp;           /* insertion order, for eviction */
} nx_prepared_t;

nx_pcache_t *nx_pcache_get(node_db_t *db, int node, bool create);
void nx_pcache_free(nx_pcache_t **pc);
void nx_pcache_clear(nx_pcache_t *pc);
nx_prepared_t *nx_pcache_find(nx_pcache_t *pc, const uint8_t id[16]);
/* Adds (or returns the existing) statement; evicts the oldest when full.
 * Returns 0 or CQLMQ_ENOMEM; the parse error is the caller's. */
int nx_pcache_add(nx_pcache_t *pc, size_t max, nx_prepared_t **out, const uint8_t id[16]);

void nx_pcache_remove(nx_pcache_t *pc, const uint8_t id[16]);
/* The prepared statement of id on the session's node, or Unprepared. */
int nx_find_prepared(nx_req_t *r, cql_bytes_t id, nx_prepared_t **out);

/* SELECT * order: partition key, clustering, statics then regulars by name. */
size_t nx_table_select_order(nx_req_t *r, const node_table_t *t, const node_column_t ***out);
/* Declares the result columns of a SELECT (Prepared result metadata). */
int nx_select_columns(nx_req_t *r, const cql_select_stmt_t *s, const node_table_t *t, nx_rs_t *rs);

void nx_md5(const void *p, size_t n, uint8_t out[16]);
/* md5(ks + query) as Cassandra computes prepared ids. */
void nx_prepared_id(const char *ks, const char *q, size_t qlen, uint8_t out[16]);

#endif /* NX_INT_H */
