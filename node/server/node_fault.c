/*
 * node_fault: the fault rule registry and its matching (see node_fault.h).
 */
#include "node_fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql_frame.h"
#include "cql_msg.h"
#include "cqlmq/error.h"

static const char *const action_names[] = {
#define NODE_FA_NAME_(name, str) str,
    NODE_FAULT_ACTION_MAP(NODE_FA_NAME_)
#undef NODE_FA_NAME_
};

const char *node_fault_action_name(int a)
{
    if (a < 0 || a >= NODE_FAULT_ACTION_COUNT_)
        return NULL;
    return action_names[a];
}

int node_fault_action_from_name(const char *s, size_t n)
{
    for (int i = 0; i < NODE_FAULT_ACTION_COUNT_; i++)
        if (strlen(action_names[i]) == n && strncmp(action_names[i], s, n) == 0)
            return i;
    return CQLMQ_ENOTFOUND;
}

void node_faults_init(node_faults_t *f)
{
    memset(f, 0, sizeof *f);
    f->next_id = 1;
}

node_fault_rule_t *node_fault_rule_new(node_fault_action_t action)
{
    node_fault_rule_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->action = action;
    r->opcode = NODE_FAULT_ANY_OPCODE;
    r->node = NODE_FAULT_ANY_NODE;
    r->remaining = NODE_FAULT_UNLIMITED;
    r->err.consistency = -1;
    return r;
}

void node_fault_rule_free(node_fault_rule_t **rp)
{
    node_fault_rule_t *r = rp ? *rp : NULL;
    if (!r)
        return;
    free(r->query);
    free(r->err.message);
    free(r->err.write_type);
    free(r->err.keyspace);
    free(r->err.name);
    for (uint16_t i = 0; i < r->err.narg_types; i++)
        free(r->err.arg_types[i]);
    free(r->err.arg_types);
    free(r->err.id);
    free(r);
    *rp = NULL;
}

void node_faults_clear(node_faults_t *f)
{
    node_fault_rule_t *r = f->head;
    while (r) {
        node_fault_rule_t *next = r->next;
        node_fault_rule_free(&r);
        r = next;
    }
    f->head = f->tail = NULL;
    f->count = 0;
}

void node_faults_close(node_faults_t *f) { node_faults_clear(f); }

int node_faults_add(node_faults_t *f, node_fault_rule_t **rule, uint32_t *out_id)
{
    node_fault_rule_t *r = *rule;
    if ((int)r->action < 0 || r->action >= NODE_FAULT_ACTION_COUNT_)
        return CQLMQ_EINVAL;
    if (r->action == NODE_FAULT_LATENCY &&
        (r->min_ms > r->max_ms || r->max_ms > NODE_FAULT_MAX_LATENCY_MS))
        return CQLMQ_EINVAL;
    if (f->count >= NODE_FAULT_MAX_RULES)
        return CQLMQ_ELIMIT;
    r->id = f->next_id++;
    r->next = NULL;
    if (f->tail)
        f->tail->next = r;
    else
        f->head = r;
    f->tail = r;
    f->count++;
    if (out_id)
        *out_id = r->id;
    *rule = NULL;
    return 0;
}

int node_faults_remove(node_faults_t *f, uint32_t id)
{
    node_fault_rule_t *prev = NULL;
    for (node_fault_rule_t *r = f->head; r; prev = r, r = r->next) {
        if (r->id != id)
            continue;
        if (prev)
            prev->next = r->next;
        else
            f->head = r->next;
        if (f->tail == r)
            f->tail = prev;
        f->count--;
        node_fault_rule_free(&r);
        return 0;
    }
    return CQLMQ_ENOTFOUND;
}

static inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

bool node_fault_text_contains(cql_str_t hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return true;
    if (!hay.ptr || hay.len < n)
        return false;
    char first = lower(needle[0]);
    for (size_t i = 0; i + n <= hay.len; i++) {
        if (lower(hay.ptr[i]) != first)
            continue;
        size_t k = 1;
        while (k < n && lower(hay.ptr[i + k]) == lower(needle[k]))
            k++;
        if (k == n)
            return true;
    }
    return false;
}

static bool opcode_matches(int rule_op, int opcode)
{
    if (rule_op == NODE_FAULT_ANY_OPCODE)
        return opcode == CQL_OP_QUERY || opcode == CQL_OP_EXECUTE || opcode == CQL_OP_BATCH;
    return rule_op == opcode;
}

node_fault_rule_t *node_faults_match(node_faults_t *f, int node, int opcode,
                                     const cql_str_t *texts, size_t ntexts)
{
    for (node_fault_rule_t *r = f->head; r; r = r->next) {
        if (r->remaining == 0 || !opcode_matches(r->opcode, opcode))
            continue;
        if (r->node != NODE_FAULT_ANY_NODE && r->node != node)
            continue;
        if (r->query) {
            bool hit = false;
            for (size_t i = 0; i < ntexts && !hit; i++)
                hit = node_fault_text_contains(texts[i], r->query);
            if (!hit)
                continue;
        }
        if (r->remaining > 0)
            r->remaining--;
        r->hits++;
        return r;
    }
    return NULL;
}

int node_fault_write_error(const node_fault_rule_t *r, cql_wr_t *w, int version, int16_t stream,
                           int req_cl, cql_bytes_t req_id)
{
    if (r->action != NODE_FAULT_ERROR)
        return CQLMQ_EINVAL;
    const node_fault_err_t *e = &r->err;
    char msgbuf[96];
    const char *message = e->message;
    if (!message) {
        const char *nm = cql_error_code_name(e->code);
        snprintf(msgbuf, sizeof msgbuf, "injected %s", nm ? nm : "error");
        message = msgbuf;
    }
    cql_str_t args[64];
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_ERROR;
    cql_msg_error_t *me = &m.u.error;
    me->code = e->code;
    me->message = (cql_str_t){message, strlen(message)};
    me->consistency = (uint16_t)(e->consistency >= 0 ? e->consistency
                                                     : (req_cl >= 0 ? req_cl : CQL_CL_ONE));
    me->required = e->required;
    me->alive = e->alive;
    me->received = e->received;
    me->blockfor = e->blockfor;
    me->num_failures = e->num_failures;
    me->data_present = e->data_present;
    /* A CAS outcome is what CAS_WRITE_UNKNOWN is about; protocol v3/v4 carry
     * it as a write timeout, whose write type must then say CAS. */
    const char *wt = e->write_type                          ? e->write_type
                     : e->code == CQL_ERR_CAS_WRITE_UNKNOWN ? "CAS"
                                                            : "SIMPLE";
    me->write_type = (cql_str_t){wt, strlen(wt)};
    const char *ks = e->keyspace ? e->keyspace : "";
    me->keyspace = (cql_str_t){ks, strlen(ks)};
    const char *nm = e->name ? e->name : "";
    me->name = (cql_str_t){nm, strlen(nm)};
    uint16_t na = e->narg_types < 64 ? e->narg_types : 64;
    for (uint16_t i = 0; i < na; i++)
        args[i] = (cql_str_t){e->arg_types[i], strlen(e->arg_types[i])};
    me->arg_types.n = na;
    me->arg_types.items = na ? args : NULL;
    if (e->id)
        me->id = (cql_bytes_t){e->id, e->id_len};
    else if (req_id.len >= 0 && req_id.ptr)
        me->id = req_id;
    else
        me->id = (cql_bytes_t){(const uint8_t *)"", 0};
    return cql_frame_write(w, version, stream, &m);
}
