/*
 * node_catalog: the schema catalog of the embedded node (keyspaces,
 * user-defined types, tables, columns, table options).
 *
 * The catalog lives inside a node_store_t (node_store.h) together with the
 * data, so that dropping a keyspace or a table drops its data too. It holds
 * everything system_schema.{keyspaces,tables,columns,types} must show.
 *
 * Names are exact, case-sensitive strings: the caller (the executor) has
 * already folded unquoted identifiers to lower case. Every list is kept in
 * name order (strcmp), which is the order system_schema returns.
 *
 * Memory: each keyspace and each table owns a cql_arena_t; names, option
 * strings, column structs and cloned type trees live there. Consequences the
 * caller can rely on:
 *   - a `const node_keyspace_t *`, `const node_table_t *`, `const
 *     node_column_t *` or `const node_udt_t *` stays valid until its
 *     keyspace / table is dropped (a column struct even after the column is
 *     dropped, until its table is dropped);
 *   - the ARRAYS hanging off a table (cols, pk, ck, opts) are replaced by
 *     ALTER TABLE: re-read them from the table after any DDL;
 *   - the types given to the create functions are deep-copied (borrowed for
 *     the call only).
 * node_catalog_version() counts DDL changes so callers can cache lookups.
 *
 * Columns carry a stable `id`, unique within the table and never reused: a
 * column dropped and added again with the same name is a new column and does
 * not see the old data (as in Cassandra).
 *
 * UDT columns hold a copy of the UDT's type tree as it was when the column
 * was created; ALTER TYPE ADD does not reach existing tables (gap).
 */
#ifndef NODE_CATALOG_H
#define NODE_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cql_arena.h"
#include "cql_type.h"

typedef struct node_store node_store_t;

/* A string pair (replication map entry, table option). */
typedef struct node_kv {
    const char *key;
    const char *value;
} node_kv_t;

typedef enum node_col_kind {
    NODE_COL_PARTITION_KEY = 0,
    NODE_COL_CLUSTERING,
    NODE_COL_REGULAR,
    NODE_COL_STATIC
} node_col_kind_t;

typedef enum node_order {
    NODE_ORDER_NONE = 0, /* not a clustering column */
    NODE_ORDER_ASC,
    NODE_ORDER_DESC
} node_order_t;

/* "partition_key", "clustering", "regular", "static" (system_schema.columns.kind). */
const char *node_col_kind_name(node_col_kind_t k);
/* "none", "asc", "desc" (system_schema.columns.clustering_order). */
const char *node_order_name(node_order_t o);

/* A column. Read-only for callers. */
typedef struct node_column {
    const char *name;       /* exact name */
    const cql_type_t *type; /* owned by the table's arena */
    node_col_kind_t kind;
    int position;           /* index among the partition key or clustering
                               columns; -1 for regular and static */
    node_order_t order;     /* clustering: ASC or DESC; others NONE */
    uint16_t id;            /* stable id within the table, never reused */
    bool dropped;           /* true once ALTER TABLE DROP removed it */
} node_column_t;

/* A user-defined type. Read-only for callers. */
typedef struct node_udt {
    const char *keyspace;
    const char *name;
    size_t nfields;
    const char *const *field_names;  /* nfields names */
    const cql_type_t *const *field_types; /* nfields types */
    const cql_type_t *type;          /* the UDT itself (kind CQL_TYPE_UDT) */
} node_udt_t;

/* A keyspace. Read-only for callers; tables and types via the functions
 * below. */
typedef struct node_keyspace {
    const char *name;
    size_t nrepl;
    const node_kv_t *repl;  /* replication map sorted by key, as given
                               (normally includes "class") */
    bool durable_writes;
} node_keyspace_t;

/* A table. Read-only for callers. Invariants: npk >= 1; pk[i]->position ==
 * i and ck[i]->position == i; cols lists the live (not dropped) columns:
 * partition key columns in position order, then clustering columns in
 * position order, then static and regular columns in creation order;
 * opts is sorted by key and holds Cassandra's defaults overridden by what
 * was given. */
typedef struct node_table {
    const char *keyspace;
    const char *name;
    uint8_t id[16];          /* table uuid */
    size_t ncols;
    const node_column_t *const *cols;
    size_t npk;
    const node_column_t *const *pk;
    size_t nck;
    const node_column_t *const *ck;
    size_t nstatic;          /* live static columns */
    size_t nopts;
    const node_kv_t *opts;
    bool counter;            /* all regular/static columns are counters */
    int32_t default_ttl;     /* option default_time_to_live, parsed */
} node_table_t;

/* ---- catalog as a whole ----------------------------------------------- */

/* Incremented by every successful create/drop/alter of anything. */
uint64_t node_catalog_version(const node_store_t *s);

/* ---- keyspaces -------------------------------------------------------- */

/* Creates a keyspace. repl: n pairs (copied; duplicate keys are EINVAL).
 * Returns 0, CQLMQ_EINVAL (empty name, duplicate key), CQLMQ_EEXISTS or
 * CQLMQ_ENOMEM. *out (may be NULL) receives the keyspace. */
int node_ks_create(node_store_t *s, const char *name, const node_kv_t *repl, size_t nrepl,
                   bool durable_writes, const node_keyspace_t **out);

/* Replaces the replication map and durable_writes of a keyspace.
 * Returns 0, CQLMQ_ENOTFOUND, CQLMQ_EINVAL (duplicate key) or CQLMQ_ENOMEM. */
int node_ks_alter(node_store_t *s, const char *name, const node_kv_t *repl, size_t nrepl,
                  bool durable_writes);

/* Drops a keyspace with its types, tables and all their data (memory is
 * freed). Returns 0 or CQLMQ_ENOTFOUND. */
int node_ks_drop(node_store_t *s, const char *name);

/* The keyspace, or NULL. */
const node_keyspace_t *node_ks_find(const node_store_t *s, const char *name);

/* Keyspaces in name order: index 0 .. node_ks_count()-1; NULL past the end. */
size_t node_ks_count(const node_store_t *s);
const node_keyspace_t *node_ks_at(const node_store_t *s, size_t i);

/* ---- user-defined types ------------------------------------------------ */

/* Creates type ks.name with n fields (names and types copied). A field
 * type may itself be a UDT (it is copied as given).
 * Returns 0, CQLMQ_ENOTFOUND (keyspace), CQLMQ_EEXISTS, CQLMQ_EINVAL (n == 0,
 * empty or duplicate field name) or CQLMQ_ENOMEM. */
int node_udt_create(node_store_t *s, const char *ks, const char *name, const char *const *fields,
                    const cql_type_t *const *types, size_t n, const node_udt_t **out);

/* ALTER TYPE ... ADD field. Existing table columns keep their old copy.
 * Returns 0, CQLMQ_ENOTFOUND (keyspace or type), CQLMQ_EEXISTS (field) or
 * CQLMQ_ENOMEM. */
int node_udt_add_field(node_store_t *s, const char *ks, const char *name, const char *field,
                       const cql_type_t *type);

/* Drops a type. Returns 0, CQLMQ_ENOTFOUND, or CQLMQ_ESTATE when a table
 * column or another type of the keyspace still uses it. */
int node_udt_drop(node_store_t *s, const char *ks, const char *name);

const node_udt_t *node_udt_find(const node_store_t *s, const char *ks, const char *name);
/* Types of a keyspace in name order; NULL past the end or unknown keyspace. */
size_t node_udt_count(const node_store_t *s, const char *ks);
const node_udt_t *node_udt_at(const node_store_t *s, const char *ks, size_t i);

/* A cql_udt_lookup_cb for cql_type_parse: pass the store as `ud`. Clones
 * the UDT's type into arena a. Returns 0, CQLMQ_ENOTFOUND or CQLMQ_ENOMEM. */
int node_udt_lookup(void *store, const char *ks, const char *name, cql_arena_t *a,
                    cql_type_t **out);

/* ---- tables ------------------------------------------------------------ */

/* A column of a table definition. */
typedef struct node_column_def {
    const char *name;
    const cql_type_t *type;  /* borrowed for the call (deep-copied) */
    node_col_kind_t kind;
    node_order_t order;      /* clustering columns: ASC (or NONE = ASC) or DESC */
} node_column_def_t;

/* A table definition. Partition key and clustering columns take their
 * positions from their order in `cols` among columns of the same kind. */
typedef struct node_table_def {
    const char *keyspace;
    const char *name;
    const uint8_t *id;             /* 16 bytes, or NULL to generate one */
    const node_column_def_t *cols;
    size_t ncols;
    const node_kv_t *opts;         /* options given (copied), may be NULL */
    size_t nopts;
} node_table_def_t;

/* Cassandra's default table options, sorted by key; *n receives the count.
 * Values are text: numbers in decimal, strings raw (comment ""), maps as CQL
 * map literals ("{'keys': 'ALL', 'rows_per_partition': 'NONE'}"). */
const node_kv_t *node_table_default_opts(size_t *n);

/* Creates a table. Rules checked (CQLMQ_EINVAL): at least one partition key
 * column; unique non-empty column names; no static column without
 * clustering columns; key columns of an orderable type (cql_order_supported
 * with frozen_ok false: a collection or UDT in a key must be frozen<>) and
 * not counters; counter columns either all regular
 * columns or none (a counter table has no static non-counter either);
 * default_time_to_live an integer >= 0 and not set on a counter table; at
 * most 65535 columns.
 * Returns 0, CQLMQ_ENOTFOUND (keyspace), CQLMQ_EEXISTS, CQLMQ_EINVAL or
 * CQLMQ_ENOMEM. *out (may be NULL) receives the table. */
int node_table_create(node_store_t *s, const node_table_def_t *def, const node_table_t **out);

/* Drops a table and its data. Returns 0 or CQLMQ_ENOTFOUND. */
int node_table_drop(node_store_t *s, const char *ks, const char *name);

/* ALTER TABLE ADD: a regular (is_static false) or static column.
 * Returns 0, CQLMQ_ENOTFOUND (keyspace/table), CQLMQ_EEXISTS (name in use),
 * CQLMQ_EINVAL (static without clustering columns, counter mixing, too many
 * columns) or CQLMQ_ENOMEM. */
int node_table_add_column(node_store_t *s, const char *ks, const char *table, const char *name,
                          const cql_type_t *type, bool is_static);

/* ALTER TABLE DROP: the column's data becomes invisible at once (and is
 * reclaimed when its rows are rewritten). Returns 0, CQLMQ_ENOTFOUND
 * (keyspace, table or column) or CQLMQ_EINVAL (a primary key column). */
int node_table_drop_column(node_store_t *s, const char *ks, const char *table, const char *name);

/* ALTER TABLE WITH: sets options (merged over the current ones).
 * Returns 0, CQLMQ_ENOTFOUND, CQLMQ_EINVAL (bad default_time_to_live) or
 * CQLMQ_ENOMEM. */
int node_table_set_opts(node_store_t *s, const char *ks, const char *table, const node_kv_t *opts,
                        size_t nopts);

const node_table_t *node_table_find(const node_store_t *s, const char *ks, const char *name);
/* Tables of a keyspace in name order; NULL past the end or unknown keyspace. */
size_t node_table_count(const node_store_t *s, const char *ks);
const node_table_t *node_table_at(const node_store_t *s, const char *ks, size_t i);

/* A live column by name, or NULL. */
const node_column_t *node_table_column(const node_table_t *t, const char *name);
/* A column (live or dropped) by id, or NULL. */
const node_column_t *node_table_column_by_id(const node_table_t *t, uint16_t id);
/* The value of option key, or NULL. */
const char *node_table_opt(const node_table_t *t, const char *key);

#endif /* NODE_CATALOG_H */
