/*
 * wire_params: a request's `params` (raw msgpack, by position or by name)
 * -> the [value]s of an EXECUTE or a BATCH statement, given the bind
 * markers of the prepared statement (cql_meta_t from the Prepared result).
 *
 *   array  one value per bind marker, in order; the counts must match
 *   map    values by marker name (exact match first, then ignoring case,
 *          as CQL folds unquoted names); a marker without a value is
 *          "not set" (v4 leaves the column unchanged); a key that names no
 *          marker is an error; a name used by several markers binds them
 *          all
 *
 * The values are transcoded with wire_value_from_mpk straight into one
 * writer; the slices handed back point into that writer's buffer.
 */
#ifndef WIRE_PARAMS_H
#define WIRE_PARAMS_H

#include "cql_msg.h"
#include "mpk.h"
#include "wire_value.h"

/* Appends bind->ncols [value]s to w and sets values[i] (an array of
 * bind->ncols the caller provides) to slices of w->data: valid until w is
 * written to again. params.len == 0 means none were given. On error w is
 * put back where it was and d says which parameter and why ("parameter 2
 * (zip): expected int, got str"). Returns:
 *   0
 *   CQLMQ_EINVAL      bind has no specs for its markers
 *   CQLMQ_EBADTYPE    wrong count, unknown name, params neither array nor
 *                     map, or a value of the wrong type
 *   a code of wire_value_from_mpk (CQLMQ_ERANGE, CQLMQ_EMALFORMED, ...) */
int wire_params_bind(cql_wr_t *w, const cql_meta_t *bind, mpk_raw_t params, cql_bytes_t *values,
                     wire_diag_t *d);

#endif /* WIRE_PARAMS_H */
