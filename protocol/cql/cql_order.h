/*
 * cql_order: Cassandra's ordering of SERIALIZED values, for clustering keys.
 *
 * cql_order_compare compares two values of one type straight from their
 * bytes (no tree, no allocation), as the type's AbstractType.compare does in
 * Cassandra:
 *   tinyint smallint int bigint counter timestamp time   signed numeric
 *   varint                   numeric, any length, redundant sign bytes allowed
 *   decimal                  numeric and exact across scales (1.0 == 1.00)
 *   date                     unsigned 32-bit
 *   float double             Java's Float.compare / Double.compare: -0.0 < 0.0,
 *                            NaN above +Infinity, all NaNs equal
 *   boolean                  false < true (any non-zero byte is true)
 *   ascii text blob inet custom  unsigned bytewise, shorter prefix first
 *   uuid                     UUIDType: version nibble first; version 1 by
 *                            timestamp then the low 8 bytes unsigned; other
 *                            versions by the high 8 bytes unsigned then the
 *                            low 8 bytes unsigned
 *   timeuuid                 TimeUUIDType: timestamp (reordered high 8 bytes,
 *                            signed), then the low 8 bytes as SIGNED bytes
 *   list set                 element-wise, then the shorter first
 *   map                      key, value, key, value ..., then the shorter first
 *   tuple udt                component-wise; a null component sorts before
 *                            any value; missing trailing components equal
 *                            null ones
 *   duration                 not orderable in Cassandra (not allowed in keys;
 *                            see cql_order_supported); compared bytewise here
 *                            so the function stays total
 * Markers: a null value sorts before an empty one (0 bytes), which sorts
 * before every other value of every type.
 *
 * Malformed bytes never crash and never read out of bounds: when a value
 * does not have its type's size or structure the comparison falls back to an
 * unsigned bytewise order, which keeps the order total and deterministic.
 * Storage validates values (cql_value_validate) before it keys rows.
 */
#ifndef CQL_ORDER_H
#define CQL_ORDER_H

#include <stdbool.h>
#include <stddef.h>

#include "cql_buf.h"
#include "cql_type.h"

/* <0, 0 or >0 as a sorts before, equal to, or after b under type t. */
int cql_order_compare(const cql_type_t *t, cql_bytes_t a, cql_bytes_t b);

/* Whether Cassandra allows t in a primary key: returns 0, or
 * CQLMQ_EUNSUPPORTED when t is or contains duration or counter, or is a non-frozen
 * collection or UDT (frozen is the flag of a parsed type string; a type read
 * from an [option] has frozen false, so pass `frozen_ok` true for those). */
int cql_order_supported(const cql_type_t *t, bool frozen_ok);

/* One component of a multi-column key. */
typedef struct cql_order_col {
    const cql_type_t *type; /* the component's type (borrowed) */
    bool desc;              /* clustering order DESC: the order is reversed */
} cql_order_col_t;

/* Compares keys a (na components) and b (nb components) under cols
 * (at least max(na, nb) entries), component by component with each one's
 * direction. Only the common prefix min(na, nb) is compared: 0 means the
 * keys agree on it (a slice bound that is a prefix of a row's key "matches"
 * it); callers comparing full keys pass na == nb. */
int cql_order_key_compare(const cql_order_col_t *cols, const cql_bytes_t *a, size_t na,
                          const cql_bytes_t *b, size_t nb);

#endif /* CQL_ORDER_H */
