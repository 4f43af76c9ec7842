/*
 * cql_type: CQL data types as a tree.
 *
 * A type comes from three places and goes back to each: the [option] of
 * result and prepared metadata (cql_type_read / cql_type_write), a CQL type
 * string as found in schema tables and DDL ("map<text, frozen<list<int>>>",
 * cql_type_parse / cql_type_format), and code (cql_type_new_*).
 *
 * Trees live in a cql_arena_t owned by the caller: a decoded type is valid
 * until its arena is reset. Strings inside a tree are NUL-terminated copies
 * in the same arena (they never borrow from the input).
 *
 * Invariants:
 *   LIST, SET: nsub == 1 (element type).   MAP: nsub == 2 (key, value).
 *   TUPLE: nsub >= 1 (component types).    UDT: nsub == number of fields,
 *          field_names[i] names sub[i]; keyspace and name are set.
 *   CUSTOM: custom_class is set (a Java class name), nsub == 0.
 *   frozen only matters for collections and UDTs in CQL type strings; the
 *   native protocol does not carry it (cql_type_read leaves it false).
 */
#ifndef CQL_TYPE_H
#define CQL_TYPE_H

#include <stdbool.h>
#include <stddef.h>

#include "cql_arena.h"
#include "cql_buf.h"

/* Option ids of the native protocol (v4 section 4.2.5.2). */
#define CQL_TYPE_MAP(X)            \
    X(CUSTOM, 0x0000, "custom")    \
    X(ASCII, 0x0001, "ascii")      \
    X(BIGINT, 0x0002, "bigint")    \
    X(BLOB, 0x0003, "blob")        \
    X(BOOLEAN, 0x0004, "boolean")  \
    X(COUNTER, 0x0005, "counter")  \
    X(DECIMAL, 0x0006, "decimal")  \
    X(DOUBLE, 0x0007, "double")    \
    X(FLOAT, 0x0008, "float")      \
    X(INT, 0x0009, "int")          \
    X(TIMESTAMP, 0x000B, "timestamp") \
    X(UUID, 0x000C, "uuid")        \
    X(VARCHAR, 0x000D, "text")     \
    X(VARINT, 0x000E, "varint")    \
    X(TIMEUUID, 0x000F, "timeuuid") \
    X(INET, 0x0010, "inet")        \
    X(DATE, 0x0011, "date")        \
    X(TIME, 0x0012, "time")        \
    X(SMALLINT, 0x0013, "smallint") \
    X(TINYINT, 0x0014, "tinyint")  \
    X(DURATION, 0x0015, "duration") \
    X(LIST, 0x0020, "list")        \
    X(MAP, 0x0021, "map")          \
    X(SET, 0x0022, "set")          \
    X(UDT, 0x0030, "udt")          \
    X(TUPLE, 0x0031, "tuple")

typedef enum cql_type_kind {
#define CQL_TYPE_ENUM_(name, id, str) CQL_TYPE_##name = (id),
    CQL_TYPE_MAP(CQL_TYPE_ENUM_)
#undef CQL_TYPE_ENUM_
} cql_type_kind_t;

typedef struct cql_type cql_type_t;
struct cql_type {
    cql_type_kind_t kind;
    bool frozen;               /* frozen<...> in CQL strings */
    size_t nsub;               /* number of sub-types, see invariants */
    cql_type_t **sub;          /* nsub sub-types, or NULL */
    char **field_names;        /* UDT: nsub names; otherwise NULL */
    const char *keyspace;      /* UDT: keyspace; otherwise NULL */
    const char *name;          /* UDT: type name; otherwise NULL */
    const char *custom_class;  /* CUSTOM: class name; otherwise NULL */
};

/* The CQL name of a kind ("text" for VARCHAR, "list" for LIST...), or NULL
 * for an id that is not a known kind. */
const char *cql_type_kind_name(int kind);

/* A native type (no sub-types) allocated in a; NULL when out of memory or
 * when kind needs sub-types. */
cql_type_t *cql_type_new(cql_arena_t *a, cql_type_kind_t kind);

/* Reads an [option] type. Nesting deeper than CQL_TYPE_MAX_DEPTH is
 * EMALFORMED. Returns 0, CQLMQ_ETRUNCATED, CQLMQ_EMALFORMED (unknown id, bad
 * count) or CQLMQ_ENOMEM (arena exhausted). On error the reader is left
 * where it was. */
#define CQL_TYPE_MAX_DEPTH 32
int cql_type_read(cql_rd_t *r, cql_arena_t *a, cql_type_t **out);

/* Writes t as an [option] with the ids of protocol v5 (duration = 0x0015).
 * Errors go to the writer's sticky error: CQLMQ_ENOMEM, or CQLMQ_ERANGE for
 * a tree deeper than CQL_TYPE_MAX_DEPTH or with more than 65535 components.
 * The frozen flag is not written. */
void cql_type_write(cql_wr_t *w, const cql_type_t *t);

/* The Java class that protocol v3/v4 use for duration, a custom type there;
 * cql_type_read turns it into CQL_TYPE_DURATION. */
#define CQL_DURATION_CLASS "org.apache.cassandra.db.marshal.DurationType"

/* cql_type_write for a protocol version: before v5, duration is written as
 * the custom type CQL_DURATION_CLASS, as Cassandra does. Same errors. */
void cql_type_write_version(cql_wr_t *w, const cql_type_t *t, int version);

/* Parses a CQL type string: native names (case-insensitive, "varchar" is
 * text), list<>, set<>, map<,>, tuple<...>, frozen<>, a quoted custom class
 * ('org.apache...'), and, when udt_keyspace is not NULL, a bare identifier as
 * a UDT name whose fields are resolved by the lookup callback (which may be
 * NULL: then a UDT name gives CQLMQ_ENOTFOUND). Also accepts the Java
 * marshal class names found in older schemas
 * (org.apache.cassandra.db.marshal.Int32Type, ...; see cql_type_parse.c).
 * Nesting deeper than CQL_TYPE_MAX_DEPTH is CQLMQ_ESYNTAX. The lookup
 * callback's tree must live in a; the parser copies its top node before
 * marking it frozen. A non-zero return of the callback is passed through.
 * Returns 0, CQLMQ_ESYNTAX, CQLMQ_ENOTFOUND or CQLMQ_ENOMEM. */
typedef int (*cql_udt_lookup_cb)(void *ud, const char *keyspace, const char *name,
                                 cql_arena_t *a, cql_type_t **out);
int cql_type_parse(const char *s, size_t len, cql_arena_t *a, const char *udt_keyspace,
                   cql_udt_lookup_cb lookup, void *lookup_ud, cql_type_t **out);

/* Formats t as Cassandra prints it in system_schema: "map<text, frozen<list<int>>>",
 * UDTs by bare name (double-quoted when not a plain lower-case identifier),
 * custom types as quoted class names. Tuples always print as
 * frozen<tuple<...>>, collections and UDTs nested in another type always as
 * frozen<...>, a top-level collection or UDT as frozen<...> when t->frozen. Writes at most cap
 * bytes including the NUL; returns the length the full string needs (like
 * snprintf), or a negative code. */
int cql_type_format(const cql_type_t *t, char *buf, size_t cap);

/* Deep copy into another arena; NULL when out of memory. */
cql_type_t *cql_type_clone(const cql_type_t *t, cql_arena_t *a);

/* Structural equality (names of UDT fields included, frozen ignored). */
bool cql_type_equal(const cql_type_t *x, const cql_type_t *y);

#endif /* CQL_TYPE_H */
