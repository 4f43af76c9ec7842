/*
 * node_store: the in-memory storage of the embedded node (data + catalog).
 *
 * One node_store_t holds a catalog (node_catalog.h) and, per table, the data:
 * partitions ordered by (murmur3 token, then partition key bytes unsigned),
 * rows in a partition ordered by their clustering key (cql_order, per column
 * ASC/DESC), one static row per partition. Both levels are B-trees: point
 * reads and writes are O(log n). A row is one heap block holding its
 * clustering key and all its cells (rebuilt on update), so memory per row is
 * close to its payload. Single-threaded; no globals; no clock: every call
 * that needs the time takes `now` (seconds since the epoch, the local
 * deletion/expiry clock), and write timestamps `ts` are microseconds given
 * by the caller.
 *
 * Values are serialized CQL values, exactly as the native protocol carries
 * them (cql_bytes_t: len >= 0 bytes, or CQL_BYTES_NULL / CQL_BYTES_NOT_SET).
 * Key components are validated (cql_value_validate); cell values are stored
 * as given (the executor validates bound values).
 *
 * Semantics (Cassandra's):
 *   - last write wins per cell by timestamp; on equal timestamps a tombstone
 *     (or an expired cell) wins over a live cell, then the greater value
 *     (unsigned bytes) wins, then the later expiry;
 *   - deletions: cell, row, clustering range (prefix bounds, inclusive or
 *     exclusive), partition; a deletion at ts shadows data with ts' <= ts;
 *   - row liveness: an INSERT (`insert` true) writes a row marker (primary
 *     key liveness with the write's ts/ttl); an UPDATE does not, so a row
 *     written only by UPDATE disappears when all its cells are gone, while
 *     an INSERTed row stays with null cells;
 *   - TTL: a cell (or marker) written with ttl > 0 expires at now + ttl and is
 *     judged against the `now` of each read;
 *   - static cells belong to the partition; a partition with live static
 *     cells and no live rows can be read as one "static-only" row.
 *
 * Tombstones: a deletion immediately removes the data it shadows (memory is
 * freed at once). The tombstone itself is kept for opts.tombstone_grace
 * seconds after its deletion time (to reject late writes with older
 * timestamps), then dropped. With the default grace 0 it is dropped at once:
 * a write arriving later with an OLDER timestamp than the deletion then
 * reappears (as in Cassandra after gc_grace_seconds). Expired cells stay
 * until their row is rewritten or node_store_purge() reaches them.
 *
 * Non-frozen collections are stored as ONE cell holding the whole serialized
 * collection, updated read-modify-write (set/map elements kept sorted and
 * unique by cql_order). Gap versus Cassandra's per-element cells: element
 * operations apply on top of the current value and stamp the cell with the
 * max of the timestamps (an element op older than a whole-collection
 * overwrite is applied instead of shadowed), a TTL applies to the whole
 * collection (the last write's), and an empty collection is a deletion.
 * Counters are cells holding a bigint, added read-modify-write.
 *
 * Lifetimes: a row view returned by an iterator borrows from the store and
 * from the iterator; it is valid until the next call on that iterator or
 * any write/delete/DDL on the store. Iterators themselves survive writes
 * (they resume after the last row they returned) but not the drop of their
 * table.
 */
#ifndef NODE_STORE_H
#define NODE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cql_buf.h"
#include "node_catalog.h"

/* No timestamp (absent marker, no deletion). */
#define NODE_TS_NONE INT64_MIN
/* Largest TTL Cassandra accepts (20 years), seconds. */
#define NODE_TTL_MAX 630720000

typedef struct node_store_opts {
    uint32_t tombstone_grace; /* seconds to keep tombstones; 0 = drop at once */
    uint64_t seed;            /* seed for generated table ids */
} node_store_opts_t;

/* A new empty store; opts may be NULL (defaults: grace 0, seed 0).
 * NULL when out of memory. */
node_store_t *node_store_new(const node_store_opts_t *opts);

/* Frees the store, its catalog and all data; accepts NULL / *s == NULL. */
void node_store_free(node_store_t **s);

/* ---- writes ------------------------------------------------------------ */

typedef enum node_op_kind {
    NODE_OP_SET = 0,      /* cell = value; a null value deletes the cell;
                             NOT_SET does nothing. Any type, collections too
                             (overwrite). */
    NODE_OP_DELETE,       /* cell tombstone (DELETE col / col = null) */
    NODE_OP_COUNTER_ADD,  /* counter += delta (counter columns only) */
    NODE_OP_LIST_APPEND,  /* value: serialized list of elements to append */
    NODE_OP_LIST_PREPEND, /* value: serialized list, prepended in its order */
    NODE_OP_LIST_REMOVE,  /* value: serialized list; removes every occurrence */
    NODE_OP_LIST_SET_AT,  /* list[index] = value (one element) */
    NODE_OP_LIST_DEL_AT,  /* DELETE list[index] */
    NODE_OP_SET_ADD,      /* value: serialized set of elements to add */
    NODE_OP_SET_REMOVE,   /* value: serialized set of elements to remove */
    NODE_OP_MAP_PUT,      /* value: serialized map of entries to put */
    NODE_OP_MAP_REMOVE,   /* value: serialized set of keys to remove */
    NODE_OP_MAP_DEL_KEY   /* value: one key (DELETE m[k], m[k] = null) */
} node_op_kind_t;

/* One operation on one cell. */
typedef struct node_cell_op {
    const node_column_t *col; /* a live regular or static column of the table */
    node_op_kind_t op;
    cql_bytes_t value;        /* see node_op_kind_t */
    int32_t index;            /* LIST_SET_AT, LIST_DEL_AT */
    int64_t delta;            /* COUNTER_ADD */
} node_cell_op_t;

/* One INSERT/UPDATE of one primary key (a row and/or its partition's static
 * row). */
typedef struct node_write {
    const cql_bytes_t *pk;     /* table->npk components, position order */
    const cql_bytes_t *ck;     /* table->nck components; may be NULL when the
                                  table has none or when only static cells
                                  are written (and insert is false or the
                                  write has only static ops) */
    const node_cell_op_t *ops;
    size_t nops;
    bool insert;               /* INSERT: write the row marker */
    int64_t ts;                /* write timestamp, microseconds */
    int32_t ttl;               /* effective TTL in seconds (the executor
                                  applies the table default), 0 = none */
    int64_t now;               /* local time, seconds */
} node_write_t;

/* Applies a write atomically (all ops or none).
 * Returns 0, or:
 *   CQLMQ_EINVAL     a key component is null/unset or of the wrong type,
 *                    the partition key is empty, ck missing when needed, an
 *                    op on a key/dropped/foreign column, an op that does not
 *                    fit the column type (COUNTER_ADD on a non-counter, SET
 *                    on a counter, list op on a set...), ttl < 0 or
 *                    > NODE_TTL_MAX, a marker or TTL on a counter table
 *   CQLMQ_ERANGE     LIST_SET_AT / LIST_DEL_AT index out of bounds (the list
 *                    is unchanged), or a key component > 65535 bytes
 *   CQLMQ_EMALFORMED a collection operand that is not a serialized
 *                    collection of the column's type
 *   CQLMQ_ENOMEM */
int node_store_write(node_store_t *s, const node_table_t *t, const node_write_t *w);

/* A bound of a clustering slice: the first n clustering values (a prefix; n
 * == 0 means unbounded). Bounds are in CLUSTERING order (a DESC column
 * reverses the value order): `start` is the low end of the table's order.
 * inclusive: rows whose key starts with the prefix are inside the slice. */
typedef struct node_bound {
    const cql_bytes_t *ck;
    size_t n;
    bool inclusive;
} node_bound_t;

/* DELETE FROM t WHERE pk = ...: everything in the partition with ts' <= ts.
 * Returns 0, CQLMQ_EINVAL (bad key), CQLMQ_ERANGE or CQLMQ_ENOMEM. */
int node_store_delete_partition(node_store_t *s, const node_table_t *t, const cql_bytes_t *pk,
                                int64_t ts, int64_t now);

/* Deletes one row (ck: all table->nck components). Errors as above. */
int node_store_delete_row(node_store_t *s, const node_table_t *t, const cql_bytes_t *pk,
                          const cql_bytes_t *ck, int64_t ts, int64_t now);

/* Range tombstone over [start, end] of one partition (a prefix delete
 * `c1 = x` is start = end = {x} inclusive). Static cells are not touched.
 * Errors as above. */
int node_store_delete_range(node_store_t *s, const node_table_t *t, const cql_bytes_t *pk,
                            const node_bound_t *start, const node_bound_t *end, int64_t ts,
                            int64_t now);

/* TRUNCATE: frees all data of the table (no tombstones kept). Returns 0. */
int node_store_truncate(node_store_t *s, const node_table_t *t);

/* Incremental clean-up: visits up to `budget` partitions (round-robin over
 * all tables, continuing where the last call stopped; one call stops at the
 * end of a full round), drops expired cells and markers and tombstones
 * older than the grace, frees empty rows and partitions. Call it from a
 * timer to bound the memory of data nobody touches any more. Returns the
 * number of partitions visited (0: no tables or no partitions). */
size_t node_store_purge(node_store_t *s, int64_t now, size_t budget);

/* ---- reads ------------------------------------------------------------- */

/* A live cell as a reader sees it. */
typedef struct node_cell {
    const node_column_t *col;
    cql_bytes_t value;  /* serialized value (never null: null cells are absent) */
    int64_t ts;         /* write timestamp (writetime()) */
    int32_t ttl;        /* remaining seconds (ttl()), 0 when not expiring */
} node_cell_t;

/* A live row. All pointers borrow (see Lifetimes in the file comment). */
typedef struct node_row_view {
    int64_t token;
    cql_bytes_t pkey;           /* serialized partition key (hashed bytes) */
    const cql_bytes_t *pk;      /* table->npk components */
    const cql_bytes_t *ck;      /* table->nck components; NULL when static_only */
    bool static_only;           /* synthetic row of a partition with live
                                   statics and no live rows */
    bool has_marker;            /* live row marker (row was INSERTed) */
    int64_t marker_ts;
    int32_t marker_ttl;         /* remaining seconds, 0 = none */
    size_t ncells;
    const node_cell_t *cells;   /* live regular cells, by column id */
    size_t nstatic;
    const node_cell_t *statics; /* live static cells of the partition */
} node_row_view_t;

/* The live cell of col (regular or static) in row r, or NULL (null). */
const node_cell_t *node_row_cell(const node_row_view_t *r, const node_column_t *col);

/* What an iterator visits. Partitions come in token order (then key bytes);
 * rows in clustering order, or reversed. Zero-initialise, then set fields. */
typedef struct node_scan {
    const cql_bytes_t *pk;      /* one partition (table->npk components), or
                                   NULL: all partitions within the tokens */
    bool has_start_token;       /* token(pk) > / >= start_token */
    bool start_token_incl;
    int64_t start_token;
    bool has_end_token;         /* token(pk) < / <= end_token */
    bool end_token_incl;
    int64_t end_token;
    node_bound_t start, end;    /* clustering slice (n == 0: unbounded) */
    bool reversed;              /* reverse clustering order in a partition */
    bool static_rows;           /* yield static-only rows (see view) */
    const uint8_t *resume;      /* paging position (node_iter_position), or NULL */
    size_t resume_len;
    int64_t now;                /* local time for TTLs, seconds */
} node_scan_t;

typedef struct node_iter node_iter_t;

/* A new iterator, not yet open. Returns 0 or CQLMQ_ENOMEM. */
int node_iter_new(node_iter_t **out);
/* Frees it; accepts NULL. */
void node_iter_free(node_iter_t **it);

/* (Re)starts the iterator on table t of s with scan (copied; its pointers,
 * resume included, must stay valid until the next open or free).
 * Returns 0, CQLMQ_EINVAL (bad pk component, bound longer than nck),
 * CQLMQ_EMALFORMED (resume is not a position of this table) or
 * CQLMQ_ENOMEM. */
int node_iter_open(node_iter_t *it, const node_store_t *s, const node_table_t *t,
                   const node_scan_t *scan);

/* The next live row: returns 1 and sets *row, 0 at the end, or
 * CQLMQ_ENOMEM / CQLMQ_ESTATE (not open). */
int node_iter_next(node_iter_t *it, const node_row_view_t **row);

/* Appends to w the paging position just after the last row returned
 * (opaque bytes for paging_state; resume with node_scan_t.resume: no row
 * present throughout is returned twice or skipped, whatever is written in
 * between). Returns 0, CQLMQ_ESTATE (no row returned yet) or the writer's
 * error. */
int node_iter_position(const node_iter_t *it, cql_wr_t *w);

/* Builds a position by hand: resume at (inclusive) or after the primary key
 * (pk, first nck clustering values; nck 0 = the partition's start when
 * inclusive, its end when not). Returns 0, CQLMQ_EINVAL or the writer's
 * error. */
int node_pos_encode(cql_wr_t *w, const node_table_t *t, const cql_bytes_t *pk,
                    const cql_bytes_t *ck, size_t nck, bool inclusive);

/* Point read of one row (ck: all components; NULL when nck is 0), using the
 * iterator `it` (re-opened) for its buffers; *row borrows from it.
 * Returns 0 and sets *row, CQLMQ_ENOTFOUND (no live row), CQLMQ_EINVAL or
 * CQLMQ_ENOMEM. */
int node_store_get(node_iter_t *it, const node_store_t *s, const node_table_t *t,
                   const cql_bytes_t *pk, const cql_bytes_t *ck, int64_t now,
                   const node_row_view_t **row);

/* ---- statistics -------------------------------------------------------- */

typedef struct node_store_stats {
    uint64_t partitions; /* stored partitions */
    uint64_t rows;       /* stored rows (tombstone-only and expired included) */
    uint64_t bytes;      /* heap bytes held by data (usable sizes) */
} node_store_stats_t;

/* Totals of the store (t NULL) or of one table. */
void node_store_stats(const node_store_t *s, const node_table_t *t, node_store_stats_t *out);

#endif /* NODE_STORE_H */
