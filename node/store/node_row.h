/*
 * node_row: the encoding of one stored row as a single heap block, and the
 * cell rules (liveness, last-write-wins). Internal to node/store.
 *
 * A row block (and a partition's static row, which has an empty key):
 *   u32 size            bytes of the whole block
 *   u16 ncells
 *   u8  flags           ROW_MARKER, ROW_MARKER_TTL, ROW_DELETED
 *   i64 ts0             marker timestamp if any, else the first cell's;
 *                       cells with CELL_TS0 share it
 *   [i32 ttl, u32 exp]  marker TTL and local expiry (ROW_MARKER_TTL)
 *   [i64 ts, u32 ldt]   row tombstone (ROW_DELETED)
 *   uvarint cklen, ck   clustering key: per component u16 BE length + bytes
 *   cells, by increasing column id:
 *     u16 id, u8 flags (CELL_DEAD, CELL_TTL, CELL_TS0)
 *     [i64 ts]          unless CELL_TS0
 *     [i32 ttl, u32 exp] CELL_TTL
 *     [u32 ldt]         CELL_DEAD: local deletion time
 *     [uvarint len, bytes] unless CELL_DEAD
 * Multi-byte fields are host order (the block never leaves the process).
 *
 * To change a row, decode it into a node_rowrec_t (cells point into the old
 * block or into scratch memory), edit the record, and build a new block.
 */
#ifndef NODE_ROW_H
#define NODE_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cql_buf.h"

#define NODE_CELL_DEAD 0x01 /* tombstone (no value) */
#define NODE_CELL_TTL 0x02  /* expiring */

/* One cell, decoded. */
typedef struct node_cellrec {
    uint16_t id;        /* column id */
    uint8_t flags;      /* NODE_CELL_DEAD, NODE_CELL_TTL */
    int32_t ttl;        /* CELL_TTL: seconds */
    int64_t ts;         /* write timestamp */
    uint32_t ldt;       /* DEAD: deletion time; TTL: expiry time (seconds) */
    uint32_t len;       /* value bytes (0 when DEAD) */
    const uint8_t *val; /* value, borrowed */
} node_cellrec_t;

/* One row, decoded. Invariant: cells sorted by id, ids unique. */
typedef struct node_rowrec {
    const uint8_t *ck;  /* encoded clustering key, borrowed */
    uint32_t cklen;
    int64_t mk_ts;      /* row marker timestamp, NODE_TS_NONE if none */
    int32_t mk_ttl;     /* 0 = not expiring */
    uint32_t mk_exp;    /* marker expiry (when mk_ttl) */
    int64_t del_ts;     /* row tombstone timestamp, NODE_TS_NONE if none */
    uint32_t del_time;  /* its local deletion time */
    size_t ncells;
    size_t cap;         /* capacity of cells (heap, owned by the record) */
    node_cellrec_t *cells;
} node_rowrec_t;

/* Block size: first field. */
static inline uint32_t node_row_size(const uint8_t *blob)
{
    uint32_t v;
    memcpy(&v, blob, 4);
    return v;
}

/* Empties r (keeps its cells array). */
void node_rowrec_reset(node_rowrec_t *r);
/* Frees r's cells array. */
void node_rowrec_close(node_rowrec_t *r);
/* Makes room for n cells. Returns 0 or CQLMQ_ENOMEM. */
int node_rowrec_reserve(node_rowrec_t *r, size_t n);

/* Decodes blob into r (r's cells array is reused). Returns 0 or
 * CQLMQ_ENOMEM. */
int node_row_decode(const uint8_t *blob, node_rowrec_t *r);

/* Builds a block from r; *bytes += its usable size. NULL on ENOMEM or when
 * the row is too big (> 4 GiB). */
uint8_t *node_row_build(const node_rowrec_t *r, int64_t *bytes);

/* Frees a block; *bytes -= its usable size. Accepts NULL. */
void node_row_free(uint8_t *blob, int64_t *bytes);

/* The header of a block (marker, tombstone, key) into r; no cells. */
void node_row_head(const uint8_t *blob, node_rowrec_t *r);

/* The encoded clustering key of a block. */
void node_row_ck(const uint8_t *blob, const uint8_t **ck, uint32_t *cklen);

/* Walks the cells of a block without decoding the whole row. */
typedef struct node_cellcur {
    const uint8_t *p;   /* next cell */
    size_t left;        /* cells left */
    int64_t ts0;
} node_cellcur_t;
void node_row_cells(const uint8_t *blob, node_cellcur_t *cur);
bool node_cellcur_next(node_cellcur_t *cur, node_cellrec_t *out);

/* Encodes n clustering values into w (u16 BE length + bytes each).
 * Returns 0, CQLMQ_ERANGE (a value > 65535 bytes), CQLMQ_EINVAL (a null
 * value) or the writer's error. */
int node_ck_encode(cql_wr_t *w, const cql_bytes_t *ck, size_t n);
/* Splits an encoded key into at most max values; returns the count. */
size_t node_ck_decode(const uint8_t *ck, size_t len, cql_bytes_t *out, size_t max);

/* ---- cell rules ------------------------------------------------------- */

/* Live at `now`: not a tombstone and not expired. */
static inline bool node_cell_live(const node_cellrec_t *c, int64_t now)
{
    if (c->flags & NODE_CELL_DEAD)
        return false;
    return !(c->flags & NODE_CELL_TTL) || (int64_t)c->ldt > now;
}

/* Last write wins: >0 when a supersedes b, <0 when b supersedes a.
 * Higher ts; on a tie a dead (or expired) cell; two dead: the later
 * deletion time; two live: the greater value (unsigned bytes), then the
 * later expiry (non-expiring counts as latest). */
int node_cell_reconcile(const node_cellrec_t *a, const node_cellrec_t *b, int64_t now);

/* Marker liveness (Cassandra's LivenessInfo). */
static inline bool node_marker_live(const node_rowrec_t *r, int64_t now)
{
    return r->mk_ts != INT64_MIN && (r->mk_ttl == 0 || (int64_t)r->mk_exp > now);
}

/* Whether the row record holds nothing (no marker, cells or tombstone). */
static inline bool node_rowrec_empty(const node_rowrec_t *r)
{
    return r->mk_ts == INT64_MIN && r->del_ts == INT64_MIN && r->ncells == 0;
}

/* Applies a deletion at ts (time ldt) to r: drops the marker and cells with
 * timestamp <= ts. Does not record the tombstone itself. */
void node_rowrec_shadow(node_rowrec_t *r, int64_t ts);

/* Drops what may go at `now`: tombstones (row, cells) whose deletion time +
 * grace <= now, expired cells and marker whose expiry + grace <= now.
 * Returns true when something was dropped. */
bool node_rowrec_purge(node_rowrec_t *r, int64_t now, uint32_t grace);

/* Highest timestamp in the block (marker, cells, row tombstone). */
int64_t node_row_max_ts(const uint8_t *blob);

#endif /* NODE_ROW_H */
