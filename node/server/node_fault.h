/*
 * node_fault: the registry of request faults ("rules") and their matching.
 * No I/O: the dispatcher asks node_faults_match() for every request and
 * applies what it gets; the control socket adds and removes rules.
 *
 * A rule = a match and an action.
 *   match   opcode (a CQL_OP_*, or NODE_FAULT_ANY_OPCODE = QUERY, EXECUTE
 *           and BATCH but not PREPARE, so a driver can still prepare the
 *           statement it is about to fail: SimulaCron's ignore_on_prepare),
 *           a case-insensitive substring of the query text (EXECUTE: the
 *           prepared text; BATCH: any statement), a node index, and a budget
 *           ("first N only"; -1 = unlimited).
 *   action  ERROR (reply this CQL error instead of executing), LATENCY
 *           (execute now, send the reply after a fixed or random delay),
 *           CLOSE (close the connection, no reply) or DROP (no reply).
 *
 * Rules are tried in the order they were added; the first live match wins
 * and its budget is decremented. Exhausted rules stay listed (remaining 0)
 * until removed or cleared, so a returned rule pointer stays valid until
 * the next node_faults_remove / node_faults_clear.
 *
 * Invariants: ids are unique and increasing; head..tail is the list in
 * insertion order; count is its length.
 */
#ifndef NODE_FAULT_H
#define NODE_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cql_buf.h"

#define NODE_FAULT_ANY_OPCODE (-1)
#define NODE_FAULT_ANY_NODE (-1)
#define NODE_FAULT_UNLIMITED (-1)
#define NODE_FAULT_MAX_RULES 1024
#define NODE_FAULT_MAX_LATENCY_MS 600000u

/* X(NAME, "name") */
#define NODE_FAULT_ACTION_MAP(X) \
    X(ERROR, "error")            \
    X(LATENCY, "latency")        \
    X(CLOSE, "close")            \
    X(DROP, "drop")

typedef enum node_fault_action {
#define NODE_FA_ENUM_(name, str) NODE_FAULT_##name,
    NODE_FAULT_ACTION_MAP(NODE_FA_ENUM_)
#undef NODE_FA_ENUM_
    NODE_FAULT_ACTION_COUNT_
} node_fault_action_t;

/* "latency" for NODE_FAULT_LATENCY; NULL out of range. */
const char *node_fault_action_name(int a);
/* The action of a name, or CQLMQ_ENOTFOUND. */
int node_fault_action_from_name(const char *s, size_t n);

/* The ERROR reply of a rule: a CQL error code and every extra field any
 * code may carry (cql_error_code_fields says which are sent). Strings are
 * owned (heap, NUL-terminated) or NULL for the defaults. */
typedef struct node_fault_err {
    int32_t code;          /* CQL_ERR_* */
    char *message;         /* NULL: "injected <code name>" */
    int consistency;       /* CQL_CL_*, or -1 = the request's consistency */
    int32_t required, alive, received, blockfor, num_failures;
    bool data_present;
    char *write_type;      /* NULL: "SIMPLE" */
    char *keyspace;        /* NULL: "" */
    char *name;            /* table / function; NULL: "" */
    char **arg_types;      /* narg_types strings */
    uint16_t narg_types;
    uint8_t *id;           /* unprepared id; NULL: the request's id */
    uint16_t id_len;
} node_fault_err_t;

typedef struct node_fault_rule {
    uint32_t id;                  /* unique, assigned by node_faults_add */
    node_fault_action_t action;
    int opcode;                   /* CQL_OP_* or NODE_FAULT_ANY_OPCODE */
    char *query;                  /* substring to find, or NULL = any */
    int node;                     /* node index or NODE_FAULT_ANY_NODE */
    int64_t remaining;            /* firings left; NODE_FAULT_UNLIMITED */
    uint64_t hits;                /* times it fired */
    uint32_t min_ms, max_ms;      /* LATENCY: delay in [min_ms, max_ms] */
    node_fault_err_t err;         /* ERROR */
    struct node_fault_rule *next; /* list, insertion order */
} node_fault_rule_t;

typedef struct node_faults {
    node_fault_rule_t *head;  /* first rule, or NULL */
    node_fault_rule_t *tail;  /* last rule, or NULL */
    size_t count;             /* rules in the list */
    uint32_t next_id;         /* id of the next rule added */
} node_faults_t;

void node_faults_init(node_faults_t *f);
/* Frees every rule. */
void node_faults_close(node_faults_t *f);

/* A zeroed rule with the defaults (any opcode/node/query, unlimited,
 * err.consistency -1) from the heap, or NULL without memory. */
node_fault_rule_t *node_fault_rule_new(node_fault_action_t action);
/* Frees a rule not (or no longer) in a registry; accepts NULL. */
void node_fault_rule_free(node_fault_rule_t **r);

/* Appends *rule (taking ownership; *rule becomes NULL) and stores its id in
 * *out_id. Returns 0, CQLMQ_EINVAL (latency min > max or above
 * NODE_FAULT_MAX_LATENCY_MS, bad action) or CQLMQ_ELIMIT (more than
 * NODE_FAULT_MAX_RULES rules); on error *rule is left to the caller. */
int node_faults_add(node_faults_t *f, node_fault_rule_t **rule, uint32_t *out_id);

/* Removes and frees rule id. Returns 0 or CQLMQ_ENOTFOUND. */
int node_faults_remove(node_faults_t *f, uint32_t id);
/* Removes every rule. */
void node_faults_clear(node_faults_t *f);

/* The first live rule matching a request on `node` with `opcode` whose
 * query texts are texts[0..ntexts) (a text with ptr NULL is unknown and
 * matches only rules without a query), after charging it one firing; NULL
 * when none matches. */
node_fault_rule_t *node_faults_match(node_faults_t *f, int node, int opcode,
                                     const cql_str_t *texts, size_t ntexts);

/* Writes a whole ERROR frame for rule r (action ERROR) on `stream` into w.
 * req_cl is the request's consistency (used when the rule has none) and
 * req_id its prepared id (EXECUTE; used for unprepared without an id).
 * Returns 0, CQLMQ_EINVAL (r is no ERROR rule) or cql_frame_write's codes. */
int node_fault_write_error(const node_fault_rule_t *r, cql_wr_t *w, int version, int16_t stream,
                           int req_cl, cql_bytes_t req_id);

/* Case-insensitive (ASCII) substring test. An empty needle matches. */
bool node_fault_text_contains(cql_str_t hay, const char *needle);

#endif /* NODE_FAULT_H */
