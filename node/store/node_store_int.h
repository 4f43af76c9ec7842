/*
 * node_store_int: private structures shared by the files of node/store.
 * Nothing here is part of the API (node_catalog.h, node_store.h).
 */
#ifndef NODE_STORE_INT_H
#define NODE_STORE_INT_H

#include <stdint.h>

#include "cql_order.h"
#include "node_btree.h"
#include "node_catalog.h"
#include "node_row.h"
#include "node_store.h"

#define NODE_MAX_KEY_COLS 64 /* partition key or clustering columns */

typedef struct node_ks node_ks_t;

/* A table: the public part first (so const node_table_t * casts back).
 * Invariants: byid[id] is the column with that id (dropped ones included),
 * nid ids handed out; cols/pk/ck are heap arrays rebuilt by DDL; ckorder
 * has pub.nck entries; parts holds node_part_t items; nrows counts row
 * blocks in all partitions (static rows excluded). */
typedef struct node_tab {
    node_table_t pub;
    cql_arena_t arena;          /* names, types, columns, option strings */
    node_ks_t *ks;
    node_column_t **byid;       /* heap, nid entries */
    size_t nid;
    const node_column_t **cols; /* heap arrays behind pub.cols/pk/ck */
    const node_column_t **pk;
    const node_column_t **ck;
    node_kv_t *opts;            /* heap array behind pub.opts */
    cql_order_col_t *ckorder;   /* clustering types and directions */
    node_bt_t parts;            /* partitions by (token, key) */
    uint64_t nrows;
    int64_t bytes;              /* data bytes of this table */
    uint64_t mods;              /* bumped by every data change */
} node_tab_t;

/* A keyspace. Invariants: tabs sorted by name, udts sorted by name. */
struct node_ks {
    node_keyspace_t pub;
    cql_arena_t arena;          /* names, replication strings, UDTs */
    node_kv_t *repl;            /* heap array behind pub.repl */
    node_tab_t **tabs;
    size_t ntabs, captabs;
    node_udt_t **udts;
    size_t nudts, capudts;
};

struct node_store {
    node_store_opts_t opts;
    uint64_t version;           /* catalog version */
    uint64_t idgen;             /* table id generator state */
    node_ks_t **ks;             /* sorted by name */
    size_t nks, capks;
    /* scratch for one write at a time */
    cql_wr_t key;               /* partition key being built */
    cql_wr_t ckw;               /* clustering key being built */
    cql_arena_t scratch;        /* collection results; reset per write */
    node_rowrec_t rec;          /* row being edited */
    node_rowrec_t srec;         /* static row being edited */
    /* node_store_purge position */
    size_t purge_ks, purge_tab;
    uint8_t *purge_key;         /* heap copy of the last partition visited */
    size_t purge_keylen;
    int64_t purge_token;
    bool purge_has_pos;
};

/* A range tombstone of a partition (kept only while within the grace). */
typedef struct node_rt {
    uint8_t *bounds;   /* heap: encoded start prefix then end prefix */
    uint32_t slen;     /* bytes of the start prefix */
    uint32_t elen;
    uint16_t sn, en;   /* components in each prefix */
    bool sincl, eincl;
    int64_t ts;
    uint32_t ldt;
} node_rt_t;

/* Rarely present parts of a partition. */
typedef struct node_pext {
    uint8_t *srow;     /* static row block, or NULL */
    int64_t del_ts;    /* partition tombstone, NODE_TS_NONE if none */
    uint32_t del_time;
    size_t nrt;
    node_rt_t *rts;    /* heap array */
} node_pext_t;

/* A partition: one heap block with its key. ext is NULL unless there is a
 * static row or a tombstone. An empty partition (no rows, no ext) is
 * removed from the table at once. */
typedef struct node_part {
    int64_t token;
    node_bt_t rows;    /* row blocks by clustering key; rows.aux is the
                          key length */
    node_pext_t *ext;
    uint8_t key[];
} node_part_t;

/* Search key of a partition. */
typedef struct node_pkey {
    int64_t token;
    const uint8_t *ptr;
    size_t len;
} node_pkey_t;

/* Search key of a row: a (possibly partial) clustering key. */
typedef struct node_ckey {
    const cql_bytes_t *v;
    size_t n;
} node_ckey_t;

static inline node_tab_t *node_tab(const node_table_t *t)
{
    return (node_tab_t *)t;
}

/* Comparators for node_bt (ctx: the node_tab_t). */
int node_part_cmp(const void *key, const void *item, void *ctx);
int node_row_cmp(const void *key, const void *item, void *ctx);

/* Builds the partition key of pk components into *out (composite keys
 * are written into scratch, which *out then borrows).
 * Returns 0, CQLMQ_EINVAL (null, unset or invalid component, empty key),
 * CQLMQ_ERANGE or CQLMQ_ENOMEM. */
int node_pkey_build(cql_wr_t *scratch, const node_tab_t *t, const cql_bytes_t *pk,
                    node_pkey_t *out);
/* Validates clustering values against the table's types. */
int node_ck_check(const node_tab_t *t, const cql_bytes_t *ck, size_t n);

/* Whether a clustering key (all nck values) lies within [lo, hi]
 * (bounds in clustering order; n == 0 unbounded). */
bool node_bounds_contain(const node_tab_t *t, const cql_bytes_t *ck, const cql_bytes_t *lo,
                         size_t nlo, bool lo_incl, const cql_bytes_t *hi, size_t nhi,
                         bool hi_incl);

/* Frees all data of a table (trees, rows, partitions). */
void node_tab_clear_data(node_tab_t *t);
/* Frees a partition with everything in it; updates t's counters. */
void node_part_destroy(node_tab_t *t, node_part_t *p);
/* Removes p from t when it holds nothing; returns true if removed. */
bool node_part_drop_if_empty(node_tab_t *t, node_part_t *p);

/* Catalog internals (node_catalog.c, node_table.c). */
node_ks_t *node_ks_get(const node_store_t *s, const char *name);
void node_catalog_close(node_store_t *s);

/* Binary search of `name` in n pointers to structs kept sorted by the C
 * string found at byte offset name_off in each struct: returns the index of
 * the match (*hit = true) or the index where it would be inserted. */
size_t node_name_index(void *const *items, size_t n, size_t name_off, const char *name,
                       bool *hit);
void node_tab_free(node_tab_t *t);

/* A new partition for k, not yet in the table; NULL on ENOMEM. */
node_part_t *node_part_new(node_tab_t *t, const node_pkey_t *k);
/* Frees p->ext when it holds nothing. */
void node_part_trim_ext(node_tab_t *t, node_part_t *p);
/* The partition's ext, created on demand; NULL on ENOMEM. */
node_pext_t *node_part_ext(node_tab_t *t, node_part_t *p);
/* Highest tombstone timestamp covering the row ck of p (ck NULL: the
 * static row); NODE_TS_NONE when none. p may be NULL. */
int64_t node_part_floor(const node_tab_t *t, const node_part_t *p, const cql_bytes_t *ck);

/* A decoded paging position: resume at (inclusive) or after the row
 * (pk, ck[0..nck)); nck 0 = the partition's start (inclusive) or end. */
typedef struct node_pos {
    node_pkey_t pk;
    cql_bytes_t ck[NODE_MAX_KEY_COLS];
    size_t nck;
    bool inclusive;
} node_pos_t;

/* Appends an encoded position to w. */
void node_pos_write(cql_wr_t *w, const uint8_t *pkey, size_t pklen, const cql_bytes_t *ck,
                    size_t n, bool inclusive);
/* Decodes a position of table t (slices borrow from p); trusted skips the
 * type checks of the values (positions the store wrote itself). Returns 0
 * or CQLMQ_EMALFORMED. */
int node_pos_decode(const node_tab_t *t, const uint8_t *p, size_t len, bool trusted,
                    node_pos_t *out);

/* ---- collections (node_coll.c) ----------------------------------------------
 * Non-frozen collections are stored as one serialized value (see
 * node_store.h). Serialized collections are the native protocol v3+ form: an
 * int32 count, then per element (twice per map entry) an int32 length and
 * the bytes. Sets and maps are kept sorted and unique by cql_order on the
 * element (key) type, as Cassandra returns them. */
/* Applies a collection op (NODE_OP_LIST_* / SET_* / MAP_*, or NODE_OP_SET
 * to normalize a whole set/map) to `cur` (the current value; len < 0 when
 * there is none) with operand `arg`, writing the new value into arena a as
 * *out. An empty result is returned as out->len == CQL_BYTES_NULL.
 * Returns 0, CQLMQ_EINVAL (op does not fit the type, null element),
 * CQLMQ_ERANGE (list index), CQLMQ_EMALFORMED (arg or cur is not a
 * serialized collection of t) or CQLMQ_ENOMEM. */
int node_coll_apply(const cql_type_t *t, node_op_kind_t op, cql_bytes_t cur, cql_bytes_t arg,
                    int32_t index, cql_arena_t *a, cql_bytes_t *out);

/* Table ids. */
void node_store_gen_id(node_store_t *s, uint8_t id[16]);

#endif /* NODE_STORE_INT_H */
