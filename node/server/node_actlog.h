/*
 * node_actlog: the activity log of received requests, read and cleared by
 * tests through the control socket ("log", "clear_log").
 *
 * A ring of `cap` entries: when full, the oldest entry is dropped (and
 * `dropped` counts it), so memory is bounded by cap entries plus their
 * query texts (each cut at NODE_ACTLOG_TEXT_MAX bytes). cap 0 disables
 * the log. seq numbers increase by one per appended entry, so a reader can
 * tell whether entries were dropped between two reads.
 *
 * Invariants: count <= cap; the entries are ring[(head + i) % cap] for
 * i in [0, count), oldest first; each entry's query is owned (or NULL).
 */
#ifndef NODE_ACTLOG_H
#define NODE_ACTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODE_ACTLOG_TEXT_MAX 4096

typedef struct node_act_entry {
    uint64_t seq;        /* 1, 2, ... in arrival order */
    int64_t time_us;     /* when the request was read */
    int node;            /* node index */
    uint64_t conn;       /* connection id */
    int16_t stream;      /* stream id */
    uint8_t opcode;      /* CQL_OP_* */
    int consistency;     /* CQL_CL_*, or -1 when the request has none */
    char *query;         /* query text (EXECUTE: the prepared text; BATCH:
                            statements joined by "; "), or NULL */
} node_act_entry_t;

typedef struct node_actlog {
    node_act_entry_t *ring; /* cap entries, or NULL when cap == 0 */
    size_t cap;             /* capacity */
    size_t head;            /* index of the oldest entry */
    size_t count;           /* entries held */
    uint64_t next_seq;      /* seq of the next entry */
    uint64_t dropped;       /* entries pushed out since the last clear */
} node_actlog_t;

/* Returns 0 or CQLMQ_ENOMEM. */
int node_actlog_init(node_actlog_t *l, size_t cap);
void node_actlog_close(node_actlog_t *l);

/* Appends an entry; e->query is ignored and text[0..len) copied instead
 * (text NULL = no query). Without memory for the text the entry is kept
 * with query NULL. */
void node_actlog_append(node_actlog_t *l, const node_act_entry_t *e, const char *text,
                        size_t len);

/* The i-th entry, oldest first, or NULL when i >= count. */
const node_act_entry_t *node_actlog_get(const node_actlog_t *l, size_t i);

/* Forgets every entry (seq numbers keep increasing). */
void node_actlog_clear(node_actlog_t *l);

#endif /* NODE_ACTLOG_H */
