/*
 * wire_rows: a Rows result -> msgpack, the body of every `result` (kind
 * rows) and `page` reply (docs/protocol.md sections 6 and 7).
 *
 *   columns  [[name, type-string], ...]        wire_columns_write
 *   udts     {name: [[field, type-string], ...], ...}   wire_udts_write,
 *            only when wire_meta_has_udt (a column type mentions a UDT)
 *   rows     [[v1, v2, ...], ...]              wire_rows_write
 *
 * wire_rows_write walks the codec's row iterator (cql_result.h) and stops at
 * a row boundary when another row would take the array past a byte cap or
 * a row cap: the iterator is left on the first row not written, so one
 * Cassandra page can be cut into several client pages by calling it again.
 * No allocation per row or per cell: cells are slices of the frame and are
 * transcoded straight into the writer (wire_value_to_mpk).
 */
#ifndef WIRE_ROWS_H
#define WIRE_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cql_result.h"
#include "mpk.h"

/* Writes meta's columns as [[name, type], ...] with the CQL type strings
 * of cql_type_format ("map<text, frozen<list<int>>>"). Returns 0,
 * CQLMQ_EINVAL (meta has no column specs: NO_METADATA), a code of
 * cql_type_format, or the writer's sticky error. */
int wire_columns_write(mpk_wr_t *w, const cql_meta_t *meta);

/* Whether a column type of meta mentions a user-defined type, at any
 * depth. Cheap: native column types are one comparison each; only
 * collections and tuples are walked. false for a meta without specs. */
bool wire_meta_has_udt(const cql_meta_t *meta);

/* Writes the `udts` map of docs/protocol.md section 6 for the column types
 * of metas[0..n) (NULL entries and metas without specs are skipped): one
 * entry per distinct UDT name, keyed by the name exactly as it appears in
 * the type strings of wire_columns_write (double-quoted when not a plain
 * lower-case identifier), whose value is the UDT's fields in order as
 * [[field, type-string], ...]. Field types print as nested types do
 * (collections and UDTs as frozen<...>). UDTs inside UDT fields are
 * entries too, so every UDT name in the map's type strings is a key of it.
 * The UDTs of one statement belong to one keyspace, so names are unique;
 * should two differ under one name, the first met is written. Returns 0,
 * CQLMQ_ELIMIT (a type nested too deeply), CQLMQ_ENOMEM, a code of
 * cql_type_format, or the writer's sticky error. */
int wire_udts_write(mpk_wr_t *w, const cql_meta_t *const *metas, size_t n);

/* Caps of one call of wire_rows_write. */
typedef struct wire_rows_cap {
    uint32_t max_rows;  /* rows per call; 0 = no cap */
    size_t max_bytes;   /* encoded bytes of the array; 0 = no cap. The first
                           row is always written, however large (a single
                           larger row travels alone). */
} wire_rows_cap_t;

/* Writes the array of the rows it yields, transcoding each cell with the
 * type of its column in types (which must have specs for it->ncols
 * columns: the Rows metadata, or the prepared result metadata when the
 * Rows came with NO_METADATA). *nrows gets the number written (0 when the
 * iterator was already at its end: an empty array). On error the writer is
 * put back where it was and the iterator is unspecified. Returns:
 *   0
 *   CQLMQ_EINVAL      types lacks specs or does not match it->ncols
 *   CQLMQ_ETRUNCATED, CQLMQ_ETRAILING  the rows content is broken (from
 *                     cql_rows_next)
 *   a code of wire_value_to_mpk (CQLMQ_EBADTYPE, CQLMQ_EUTF8,
 *   CQLMQ_EMALFORMED, CQLMQ_ELIMIT) for a malformed cell
 *   CQLMQ_ENOMEM, CQLMQ_ERANGE  the writer's sticky error */
int wire_rows_write(mpk_wr_t *w, cql_rows_iter_t *it, const cql_meta_t *types,
                    const wire_rows_cap_t *cap, uint32_t *nrows);

/* Rows the iterator has not yielded yet. */
static inline int32_t wire_rows_left(const cql_rows_iter_t *it) { return it->left; }

#endif /* WIRE_ROWS_H */
