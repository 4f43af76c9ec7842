/*
 * cql_ast: the syntax tree of one CQL statement, and the parser that builds it.
 *
 * cql_parse() turns CQL text (as sent in a QUERY or PREPARE) into a tree of
 * plain structs. Every node and every string lives in a cql_arena_t owned by
 * the caller: the tree does not borrow from the input text, and it is freed
 * all at once with the arena. Strings are NUL-terminated; string literals
 * also carry a length because they may contain NUL bytes.
 *
 * Names: unquoted identifiers are folded to lower case, "quoted" identifiers
 * keep their case (with "" unescaped). A qualified name keeps its keyspace
 * (NULL when absent: the executor applies the session keyspace).
 *
 * Bind markers: every `?` and `:name` gets an index in order of appearance
 * over the whole statement (a BATCH numbers across its children), and the
 * statement lists them all in cql_stmt_t.markers (markers[i]->bind_index ==
 * i). Types are not resolved here: the executor infers each marker's type
 * from where the marker sits in the tree.
 *
 * What the parser checks: syntax, limits, literal well-formedness (hex blobs
 * of even length, uuids, durations), and the few rules that need no schema
 * (one PRIMARY KEY definition, COUNT(1) only). Everything that needs the
 * schema (columns exist, types match, key restrictions) is the executor's.
 *
 * Lists: an array `x` with count `nx` is NULL when nx == 0.
 */
#ifndef CQL_AST_H
#define CQL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cql_arena.h"
#include "cqlmq/error.h"

/* ---- limits ------------------------------------------------------------ */
/* Memory: the tree takes at most about 90 arena bytes per input byte (the
 * worst case is a long list of one-character terms such as [1,1,1,...]), so
 * a 1 MiB statement may need ~90 MiB. Give the arena a limit (for example
 * 32 MiB) to turn such input into CQLMQ_ENOMEM; typical statements take a
 * few KiB. */

#define CQL_PARSE_MAX_LEN (1u << 20)   /* bytes of statement text */
#define CQL_PARSE_MAX_DEPTH 64         /* nesting of terms, types, selectors */
#define CQL_PARSE_MAX_ITEMS 65535      /* elements of any one list */
#define CQL_PARSE_MAX_MARKERS 65535    /* bind markers per statement ([short]) */
#define CQL_PARSE_MAX_BATCH 65535      /* statements in a BATCH */
#define CQL_PARSE_MSG_MAX 512          /* bytes of cql_parse_error_t.msg */

/* ---- statement kinds ---------------------------------------------------- */

/* X(NAME, "printed name") */
#define CQL_STMT_MAP(X)                          \
    X(SELECT, "SELECT")                          \
    X(INSERT, "INSERT")                          \
    X(UPDATE, "UPDATE")                          \
    X(DELETE, "DELETE")                          \
    X(BATCH, "BATCH")                            \
    X(USE, "USE")                                \
    X(CREATE_KEYSPACE, "CREATE KEYSPACE")        \
    X(ALTER_KEYSPACE, "ALTER KEYSPACE")          \
    X(DROP_KEYSPACE, "DROP KEYSPACE")            \
    X(CREATE_TABLE, "CREATE TABLE")              \
    X(ALTER_TABLE, "ALTER TABLE")                \
    X(DROP_TABLE, "DROP TABLE")                  \
    X(TRUNCATE, "TRUNCATE")                      \
    X(CREATE_TYPE, "CREATE TYPE")                \
    X(DROP_TYPE, "DROP TYPE")                    \
    X(UNSUPPORTED, "UNSUPPORTED")

typedef enum cql_stmt_kind {
#define CQL_STMT_ENUM_(name, str) CQL_STMT_##name,
    CQL_STMT_MAP(CQL_STMT_ENUM_)
#undef CQL_STMT_ENUM_
    CQL_STMT_COUNT_
} cql_stmt_kind_t;

/* ---- terms -------------------------------------------------------------- */

typedef enum cql_term_kind {
    CQL_TERM_NULL,      /* null */
    CQL_TERM_BOOL,      /* b */
    CQL_TERM_INT,       /* text = digits with optional '-'; i64, i64_ok */
    CQL_TERM_FLOAT,     /* text = source ("1.5e3", "NaN", "-Infinity"); f64 */
    CQL_TERM_STRING,    /* text/len = unescaped content ('...' or $$...$$) */
    CQL_TERM_BLOB,      /* text = source ("0xCAFE"); bytes/nbytes decoded */
    CQL_TERM_UUID,      /* text = source; bytes/nbytes = the 16 bytes */
    CQL_TERM_DURATION,  /* text = source; months, days, nanos decoded */
    CQL_TERM_BIND,      /* bind_index; bind_name (NULL for `?`) */
    CQL_TERM_LIST,      /* [a, b]: items[n] */
    CQL_TERM_SET,       /* {a, b}: items[n], n >= 1 */
    CQL_TERM_MAP,       /* {k: v}: items[n] keys, values[n], n >= 1 */
    CQL_TERM_EMPTY_BRACES, /* {}: empty set or empty map (context decides) */
    CQL_TERM_TUPLE,     /* (a, b): items[n], n >= 1 */
    CQL_TERM_UDT,       /* {f: v}: names[n] field names, items[n] values */
    CQL_TERM_FUNCTION,  /* text = function name (folded); keyspace or NULL;
                           items[n] arguments (now(), token(a, b), blobAsInt(x)) */
    CQL_TERM_TYPE_HINT, /* (type) term: text = normalized type, items[0] = term */
    CQL_TERM_IDENT      /* option value given as a bare word (only in WITH
                           options: compaction = LeveledCompactionStrategy): text */
} cql_term_kind_t;

typedef struct cql_term cql_term_t;

/* A term: a literal, a bind marker, a collection, or a function call.
 * Invariant: only the fields named for `kind` above are meaningful; the
 * others are zero. `text` is never NULL for INT, FLOAT, STRING, BLOB, UUID,
 * DURATION, FUNCTION, TYPE_HINT and IDENT. */
struct cql_term {
    cql_term_kind_t kind;
    uint32_t line;           /* 1-based line of the term's first token */
    uint32_t col;            /* 0-based column of the term's first token */
    const char *text;        /* see kinds; NUL-terminated */
    size_t len;              /* bytes of text (STRING may contain NUL) */
    bool b;                  /* BOOL */
    bool i64_ok;             /* INT: the value fits in int64 (i64 valid) */
    int64_t i64;             /* INT */
    double f64;              /* FLOAT (NaN, +-Infinity included); INT too */
    const uint8_t *bytes;    /* BLOB, UUID: decoded bytes */
    size_t nbytes;           /* BLOB: any; UUID: 16 */
    int32_t months;          /* DURATION: all three share one sign */
    int32_t days;            /* DURATION */
    int64_t nanos;           /* DURATION */
    uint32_t bind_index;     /* BIND: 0-based position among all markers */
    const char *bind_name;   /* BIND: `:name` name, NULL for `?` */
    const char *keyspace;    /* FUNCTION: "system" in system.now(), or NULL */
    size_t n;                /* items (and values, names) count */
    cql_term_t **items;      /* see kinds */
    cql_term_t **values;     /* MAP: values[i] belongs to items[i] */
    const char **names;      /* UDT: names[i] names items[i] */
};

/* ---- names, options, orderings ----------------------------------------- */

/* [keyspace.]name. keyspace NULL when not given. */
typedef struct cql_qname {
    const char *keyspace;    /* folded/unquoted, or NULL */
    const char *name;        /* folded/unquoted, never NULL */
} cql_qname_t;

/* name = value in WITH clauses (replication = {...}, comment = 'x',
 * durable_writes = true, gc_grace_seconds = 10, caching = {...}). Names are
 * folded to lower case. value is a term (MAP/EMPTY_BRACES for maps). */
typedef struct cql_option {
    const char *name;
    cql_term_t *value;
} cql_option_t;

/* A column with a direction (ORDER BY, CLUSTERING ORDER BY). */
typedef struct cql_ordering {
    const char *column;
    bool desc;               /* DESC; false for ASC or no direction */
} cql_ordering_t;

/* USING TTL x AND TIMESTAMP y; each NULL when absent (INT or BIND terms). */
typedef struct cql_using {
    cql_term_t *ttl;
    cql_term_t *timestamp;
} cql_using_t;

/* ---- relations (WHERE) and conditions (IF) ------------------------------ */

typedef enum cql_lhs_kind {
    CQL_LHS_COLUMN,   /* col op ... : columns[0] */
    CQL_LHS_ELEMENT,  /* col[key] op ... : columns[0], key */
    CQL_LHS_FIELD,    /* col.field op ... (conditions): columns[0], field */
    CQL_LHS_TOKEN,    /* token(a, b) op ... : columns[ncolumns] */
    CQL_LHS_TUPLE     /* (a, b) op ... : columns[ncolumns] (multi-column) */
} cql_lhs_kind_t;

typedef enum cql_rel_op {
    CQL_REL_EQ,           /* = */
    CQL_REL_NE,           /* != */
    CQL_REL_LT,           /* < */
    CQL_REL_LE,           /* <= */
    CQL_REL_GT,           /* > */
    CQL_REL_GE,           /* >= */
    CQL_REL_IN,           /* IN (...) or IN ? */
    CQL_REL_CONTAINS,     /* CONTAINS */
    CQL_REL_CONTAINS_KEY, /* CONTAINS KEY */
    CQL_REL_LIKE,         /* LIKE */
    CQL_REL_IS_NOT_NULL   /* IS NOT NULL (no value) */
} cql_rel_op_t;

/* One relation of a WHERE clause, or one condition of an IF clause.
 * Invariants: for op IN, either in_list is true and in_values[nin] holds the
 * parenthesised terms (nin may be 0: `IN ()`), or in_list is false and
 * `value` is a single term (normally a BIND: `IN ?`). For other ops except
 * IS_NOT_NULL, value is set. For LHS_TUPLE, value is a TUPLE or BIND term and
 * IN items are TUPLE or BIND terms. */
typedef struct cql_relation {
    cql_lhs_kind_t lhs;
    cql_rel_op_t op;
    const char **columns;    /* column names, see cql_lhs_kind_t */
    size_t ncolumns;
    cql_term_t *key;         /* LHS_ELEMENT: the subscript term */
    const char *field;       /* LHS_FIELD: the field name */
    cql_term_t *value;       /* right-hand side (see invariants) */
    bool in_list;            /* IN with a parenthesised list */
    cql_term_t **in_values;  /* IN list */
    size_t nin;
} cql_relation_t;

/* ---- SELECT -------------------------------------------------------------- */

typedef enum cql_sel_kind {
    CQL_SEL_COLUMN,     /* name */
    CQL_SEL_COUNT_ROWS, /* COUNT(*) or COUNT(1) */
    CQL_SEL_WRITETIME,  /* WRITETIME(col): name = col */
    CQL_SEL_TTL,        /* TTL(col): name = col */
    CQL_SEL_FUNCTION,   /* name(args...) with keyspace or NULL; includes
                           count(col), token(a), toJson(x), now() */
    CQL_SEL_CAST,       /* CAST(args[0] AS type) */
    CQL_SEL_FIELD,      /* args[0].name (UDT field) */
    CQL_SEL_TERM        /* a literal or bind marker: term */
} cql_sel_kind_t;

typedef struct cql_selector cql_selector_t;
struct cql_selector {
    cql_sel_kind_t kind;
    const char *name;        /* column, function or field name (folded) */
    const char *keyspace;    /* FUNCTION: qualifier or NULL */
    cql_selector_t **args;   /* FUNCTION arguments; CAST, FIELD: args[0] */
    size_t nargs;
    const char *type;        /* CAST: normalized target type */
    cql_term_t *term;        /* TERM */
    const char *alias;       /* AS alias, or NULL */
};

typedef struct cql_select_stmt {
    cql_qname_t table;
    bool json;               /* SELECT JSON */
    bool distinct;           /* SELECT DISTINCT */
    bool star;               /* SELECT * (then nselectors == 0) */
    cql_selector_t **selectors;
    size_t nselectors;
    cql_relation_t **where;
    size_t nwhere;
    const char **group_by;   /* GROUP BY columns */
    size_t ngroup_by;
    cql_ordering_t *order_by;
    size_t norder_by;
    cql_term_t *per_partition_limit; /* INT or BIND, or NULL */
    cql_term_t *limit;       /* INT or BIND, or NULL */
    bool allow_filtering;
} cql_select_stmt_t;

/* ---- INSERT, UPDATE, DELETE, BATCH --------------------------------------- */

typedef struct cql_insert_stmt {
    cql_qname_t table;
    const char **columns;    /* (a, b, c); not set for JSON */
    size_t ncolumns;
    cql_term_t **values;     /* VALUES (...); nvalues may differ from ncolumns:
                                the executor reports the mismatch */
    size_t nvalues;
    bool json;               /* INSERT ... JSON: json_value is STRING or BIND */
    cql_term_t *json_value;
    bool json_default_unset; /* JSON ... DEFAULT UNSET (default is NULL) */
    bool if_not_exists;
    cql_using_t using;
} cql_insert_stmt_t;

typedef enum cql_assign_op {
    CQL_ASSIGN_SET,          /* c = value */
    CQL_ASSIGN_SET_ELEMENT,  /* c[key] = value (map entry, list index) */
    CQL_ASSIGN_SET_FIELD,    /* c.field = value (non-frozen UDT) */
    CQL_ASSIGN_ADD,          /* c = c + value, c += value: list append, set
                                union, map merge, counter increment */
    CQL_ASSIGN_PREPEND,      /* c = value + c: list prepend */
    CQL_ASSIGN_SUB           /* c = c - value, c -= value: list/set/map
                                removal, counter decrement */
} cql_assign_op_t;

typedef struct cql_assignment {
    cql_assign_op_t op;
    const char *column;
    cql_term_t *key;         /* SET_ELEMENT: subscript term */
    const char *field;       /* SET_FIELD: field name */
    cql_term_t *value;
} cql_assignment_t;

typedef struct cql_update_stmt {
    cql_qname_t table;
    cql_using_t using;
    cql_assignment_t *assignments;
    size_t nassignments;
    cql_relation_t **where;
    size_t nwhere;
    bool if_exists;          /* IF EXISTS */
    cql_relation_t **conditions; /* IF c = v AND ... (LHS COLUMN/ELEMENT/FIELD) */
    size_t nconditions;
} cql_update_stmt_t;

/* One item of DELETE's column list: c, c[key] or c.field. */
typedef struct cql_delete_target {
    const char *column;
    cql_term_t *key;         /* c[key], or NULL */
    const char *field;       /* c.field, or NULL */
} cql_delete_target_t;

typedef struct cql_delete_stmt {
    cql_qname_t table;
    cql_delete_target_t *targets; /* empty: delete whole rows */
    size_t ntargets;
    cql_using_t using;       /* only timestamp can be set */
    cql_relation_t **where;
    size_t nwhere;
    bool if_exists;
    cql_relation_t **conditions;
    size_t nconditions;
} cql_delete_stmt_t;

typedef enum cql_ast_batch_type {
    CQL_AST_BATCH_LOGGED = 0,   /* same values as the protocol's BATCH type */
    CQL_AST_BATCH_UNLOGGED = 1,
    CQL_AST_BATCH_COUNTER = 2
} cql_ast_batch_type_t;

typedef struct cql_stmt cql_stmt_t;

typedef struct cql_ast_batch {
    cql_ast_batch_type_t type;
    cql_using_t using;       /* only timestamp can be set */
    cql_stmt_t **stmts;      /* INSERT, UPDATE or DELETE; their `markers`
                                lists are empty: the batch holds them all */
    size_t nstmts;
} cql_ast_batch_t;

/* ---- DDL ----------------------------------------------------------------- */

/* A column (CREATE TABLE, ALTER TABLE ADD) or a UDT field (CREATE TYPE). */
typedef struct cql_column_def {
    const char *name;
    const char *type_raw;    /* the type exactly as written */
    const char *type;        /* normalized for cql_type_parse():
                                "map<text, frozen<list<int>>>"; natives lower
                                case (varchar -> text), ", " between
                                parameters, UDT names as "name" or "ks.name"
                                (double-quoted only when they need it, as
                                Cassandra prints them), custom types as the
                                single-quoted class string */
    bool is_static;          /* STATIC */
    bool primary_key;        /* declared `col type PRIMARY KEY` */
} cql_column_def_t;

typedef struct cql_keyspace_stmt {     /* CREATE / ALTER / DROP KEYSPACE, USE */
    const char *name;
    bool if_not_exists;      /* CREATE */
    bool if_exists;          /* DROP */
    cql_option_t *options;   /* CREATE, ALTER: replication, durable_writes */
    size_t noptions;
} cql_keyspace_stmt_t;

typedef struct cql_create_table_stmt {
    cql_qname_t table;
    bool if_not_exists;
    cql_column_def_t *columns;
    size_t ncolumns;
    const char **partition_key; /* resolved from inline PRIMARY KEY or the
                                   PRIMARY KEY (...) clause; npartition >= 1 */
    size_t npartition_key;
    const char **clustering;    /* clustering columns in key order */
    size_t nclustering;
    cql_ordering_t *clustering_order; /* WITH CLUSTERING ORDER BY (...) */
    size_t nclustering_order;
    bool compact_storage;       /* WITH COMPACT STORAGE */
    cql_option_t *options;      /* other WITH options */
    size_t noptions;
} cql_create_table_stmt_t;

typedef enum cql_alter_op {
    CQL_ALTER_ADD,     /* ADD col type [, ...] / ADD (c1 t1, c2 t2): columns */
    CQL_ALTER_DROP,    /* DROP col / DROP (c1, c2): names */
    CQL_ALTER_RENAME,  /* RENAME a TO b [AND c TO d]: names[i] -> renames[i] */
    CQL_ALTER_ALTER,   /* ALTER col TYPE t: names[0], columns[0].type */
    CQL_ALTER_WITH     /* WITH options */
} cql_alter_op_t;

typedef struct cql_alter_table_stmt {
    cql_qname_t table;
    cql_alter_op_t op;
    cql_column_def_t *columns;
    size_t ncolumns;
    const char **names;
    const char **renames;
    size_t nnames;
    cql_option_t *options;
    size_t noptions;
} cql_alter_table_stmt_t;

typedef struct cql_table_stmt {        /* DROP TABLE, TRUNCATE */
    cql_qname_t table;
    bool if_exists;
} cql_table_stmt_t;

typedef struct cql_type_stmt {         /* CREATE TYPE, DROP TYPE */
    cql_qname_t name;
    bool if_not_exists;
    bool if_exists;
    cql_column_def_t *fields;          /* CREATE: fields (is_static false) */
    size_t nfields;
} cql_type_stmt_t;

/* ---- the statement -------------------------------------------------------- */

struct cql_stmt {
    cql_stmt_kind_t kind;
    union {
        cql_select_stmt_t select;
        cql_insert_stmt_t insert;
        cql_update_stmt_t update;
        cql_delete_stmt_t del;
        cql_ast_batch_t batch;
        cql_keyspace_stmt_t keyspace;   /* USE, CREATE/ALTER/DROP KEYSPACE */
        cql_create_table_stmt_t create_table;
        cql_alter_table_stmt_t alter_table;
        cql_table_stmt_t table;         /* DROP TABLE, TRUNCATE */
        cql_type_stmt_t type;           /* CREATE TYPE, DROP TYPE */
    } u;
    const char *unsupported;  /* UNSUPPORTED: "CREATE INDEX", "GRANT", ... */
    cql_term_t **markers;     /* every bind marker, markers[i]->bind_index == i */
    size_t nmarkers;
};

/* ---- parsing ---------------------------------------------------------------- */

/* Where and why parsing failed. msg reads like Cassandra's, for example
 * "line 1:9 no viable alternative at input 'FROMM' (SELECT * [FROMM]...)". */
typedef struct cql_parse_error {
    int code;                /* 0 or the code cql_parse returned */
    uint32_t line;           /* 1-based line of the offending token */
    uint32_t col;            /* 0-based column (characters, not bytes) */
    size_t offset;           /* byte offset of the offending token */
    char msg[CQL_PARSE_MSG_MAX]; /* NUL-terminated; "" on success */
} cql_parse_error_t;

/* Parses exactly one statement (an optional trailing `;` and comments
 * allowed) from text[0..len) into *out, allocating from arena. err may be
 * NULL; when given it is always filled (code 0 and msg "" on success).
 * Recognised but unsupported statements (CREATE INDEX, GRANT, ...) parse
 * successfully as kind CQL_STMT_UNSUPPORTED.
 * Returns 0; CQLMQ_ESYNTAX (bad input, including nesting deeper than
 * CQL_PARSE_MAX_DEPTH, lists longer than CQL_PARSE_MAX_ITEMS and bad
 * literals); CQLMQ_ETOOBIG (len > CQL_PARSE_MAX_LEN); CQLMQ_ENOMEM (the
 * arena is exhausted or at its limit); CQLMQ_EINVAL (NULL text with len > 0,
 * NULL arena or out). On error *out is NULL; what was allocated stays in
 * the arena until it is reset. */
int cql_parse(const char *text, size_t len, cql_arena_t *arena, cql_stmt_t **out,
              cql_parse_error_t *err);

/* "SELECT", "CREATE TABLE", ...; "?" for an unknown kind. Static storage. */
const char *cql_stmt_kind_name(int kind);

/* Name of a relation operator: "=", "<=", "IN", "CONTAINS KEY", ... */
const char *cql_rel_op_name(int op);

/* Writes stmt back as canonical CQL (keywords upper case, single spaces,
 * identifiers quoted when needed, markers as `?` or `:name`) so that
 * parsing the output gives an equal tree. For tests and logs. Writes at
 * most cap bytes including the NUL; returns the length the full text needs
 * (like snprintf). */
size_t cql_stmt_format(const cql_stmt_t *stmt, char *buf, size_t cap);

/* The same for one term ("[1, 2]", "{'a': ?}", "now()"). */
size_t cql_term_format(const cql_term_t *t, char *buf, size_t cap);

#endif /* CQL_AST_H */
