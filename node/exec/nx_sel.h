/*
 * nx_sel: the selection of a SELECT (what each result column is), shared
 * by nx_select.c (building, metadata, projection) and nx_scan.c (running).
 */
#ifndef NX_SEL_H
#define NX_SEL_H

#include "nx_int.h"

typedef enum {
    NX_SEL_COL,       /* a column's value */
    NX_SEL_WRITETIME, /* writetime(col): bigint */
    NX_SEL_TTL,       /* ttl(col): int, null when not expiring */
    NX_SEL_TOKEN,     /* token(pk...): bigint */
    NX_SEL_FIELD,     /* col.field of a UDT */
    NX_SEL_COUNT,     /* count(*) / count(1): bigint, aggregate */
    NX_SEL_COUNT_COL, /* count(col): bigint, aggregate */
    NX_SEL_MIN,       /* min(col), aggregate */
    NX_SEL_MAX,       /* max(col), aggregate */
    NX_SEL_CONST      /* a literal: value */
} nx_sel_kind_t;

/* One result column. Invariant: col is set for every kind except COUNT,
 * TOKEN and CONST. */
typedef struct nx_sel {
    nx_sel_kind_t kind;
    const node_column_t *col;
    const cql_type_t *type;   /* result type */
    const char *name;         /* result column name */
    size_t field;             /* FIELD: index in the UDT */
    cql_bytes_t value;        /* CONST */
} nx_sel_t;

typedef struct nx_selection {
    nx_sel_t *v;
    size_t n;
    bool aggregate;           /* any COUNT / COUNT_COL / MIN / MAX */
    bool only_static_pk;      /* every selected column is a pk or static column */
} nx_selection_t;

/* Builds the selection of s on table t. Invalid for unknown columns and
 * functions. */
int nx_sel_build(nx_req_t *r, const cql_select_stmt_t *s, const node_table_t *t,
                 nx_selection_t *out);
/* Declares the result columns. */
int nx_sel_declare(nx_rs_t *rs, const nx_selection_t *sel);
/* Appends one projected row (non-aggregate selections). */
void nx_sel_project(nx_rs_t *rs, const nx_selection_t *sel, const node_row_view_t *row);

/* Aggregation state over rows. */
typedef struct nx_agg {
    int64_t *counts;          /* per selector */
    cql_bytes_t *vals;        /* per selector: first-row values, min/max */
    bool any;                 /* a row was seen */
} nx_agg_t;

int nx_agg_init(nx_req_t *r, const nx_selection_t *sel, nx_agg_t *agg);
int nx_agg_add(nx_req_t *r, const nx_selection_t *sel, nx_agg_t *agg, const node_row_view_t *row);
void nx_agg_emit(nx_rs_t *rs, const nx_selection_t *sel, const nx_agg_t *agg);

#endif /* NX_SEL_H */
