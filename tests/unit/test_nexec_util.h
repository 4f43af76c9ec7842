/*
 * Helpers for the executor's tests: a db over a fake 3-node topology with a
 * fake clock, requests built as decoded messages (what the server hands
 * node_exec), responses decoded back with the codec.
 */
#ifndef TEST_NEXEC_UTIL_H
#define TEST_NEXEC_UTIL_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql_result.h"
#include "node_exec.h"

#define TX_MAX_EVENTS 32

typedef struct tx {
    node_db_t *db;
    node_topology_t topo;
    node_topo_node_t nodes[3];
    int64_t tokens[3][2];
    int64_t now_us;              /* the fake clock */
    node_session_t s;
    cql_arena_t a;               /* decoded responses */
    cql_wr_t out;
    uint8_t *body;               /* copy of the last response body */
    size_t body_len;
    int opcode;                  /* of the last response */
    cql_msg_t resp;              /* decoded last response */
    int nevents;
    char events[TX_MAX_EVENTS][160];
} tx_t;

static inline int64_t tx_clock(void *ud) { return ((tx_t *)ud)->now_us; }

static inline void tx_on_schema(void *ud, const cql_schema_change_t *ev)
{
    tx_t *t = ud;
    if (t->nevents < TX_MAX_EVENTS) {
        snprintf(t->events[t->nevents], sizeof t->events[0], "%s %s %.*s %.*s",
                 cql_schema_change_name(ev->change), cql_schema_target_name(ev->target),
                 (int)ev->keyspace.len, ev->keyspace.ptr, (int)ev->name.len,
                 ev->name.ptr ? ev->name.ptr : "");
    }
    t->nevents++;
}

static inline void tx_init_v(tx_t *t, int version)
{
    memset(t, 0, sizeof *t);
    t->now_us = INT64_C(1700000000000000);
    static const char *dcs[] = {"dc1", "dc1", "dc1"};
    for (int i = 0; i < 3; i++) {
        node_topo_node_t *n = &t->nodes[i];
        n->index = i;
        n->address.size = 4;
        n->address.addr[0] = 127;
        n->address.addr[3] = (uint8_t)(i + 1);
        n->native_port = 9042;
        for (int k = 0; k < 16; k++)
            n->host_id[k] = (uint8_t)(0x10 * (i + 1) + k);
        n->host_id[6] = 0x40;
        n->host_id[8] = 0x80;
        n->dc = dcs[i];
        n->rack = "rack1";
        t->tokens[i][0] = INT64_MIN / 3 * (1 - i);
        t->tokens[i][1] = t->tokens[i][0] + 12345;
        n->tokens = t->tokens[i];
        n->ntokens = 2;
        n->up = true;
    }
    t->topo.cluster_name = "test cluster";
    t->topo.nnodes = 3;
    t->topo.nodes = t->nodes;
    node_db_config_t cfg = {.topology = &t->topo, .now_us = tx_clock, .clock_ud = t,
                            .on_schema_change = tx_on_schema, .event_ud = t, .seed = 42};
    t->db = node_db_new(&cfg);
    cr_assert_not_null(t->db, "node_db_new failed");
    node_session_init(&t->s, version, 0);
    cql_arena_init(&t->a, 0);
    cql_wr_init(&t->out);
}

static inline void tx_init(tx_t *t) { tx_init_v(t, 4); }

static inline void tx_fini(tx_t *t)
{
    node_db_free(&t->db);
    cr_assert_null(t->db);
    cql_arena_close(&t->a);
    cql_wr_close(&t->out);
    free(t->body);
}

/* Runs one request and decodes the response into t->resp. */
static inline int tx_exec(tx_t *t, int opcode, const cql_msg_t *m)
{
    cql_wr_reset(&t->out);
    int op = -1;
    int rc = node_exec(t->db, &t->s, opcode, m, &t->out, &op);
    cr_assert_eq(rc, 0, "node_exec returned %d", rc);
    free(t->body);
    t->body = malloc(t->out.len ? t->out.len : 1);
    memcpy(t->body, t->out.data, t->out.len);
    t->body_len = t->out.len;
    cql_arena_reset(&t->a);
    t->opcode = op;
    rc = cql_msg_decode(t->s.version, (uint8_t)op, 0, t->body, t->body_len, &t->a, &t->resp);
    cr_assert_eq(rc, 0, "response does not decode: %d", rc);
    return op;
}

typedef struct tx_params {
    const cql_bytes_t *values;
    size_t nvalues;
    const char *const *names;
    int32_t page_size;           /* 0: flag absent */
    cql_bytes_t paging_state;    /* ptr NULL: absent */
    bool has_ts;
    int64_t ts;
    uint16_t consistency;
} tx_params_t;

static inline void tx_fill_params(tx_t *t, cql_query_params_t *p, const tx_params_t *x)
{
    memset(p, 0, sizeof *p);
    p->consistency = x && x->consistency ? x->consistency : CQL_CL_ONE;
    if (x == NULL)
        return;
    if (x->values != NULL || x->nvalues > 0) {
        p->flags |= CQL_QF_VALUES;
        p->nvalues = (uint16_t)x->nvalues;
        p->values = (cql_bytes_t *)x->values;
        if (x->names != NULL) {
            p->flags |= CQL_QF_NAMES;
            p->names = cql_arena_calloc(&t->a, x->nvalues + 1, sizeof *p->names);
            for (size_t i = 0; i < x->nvalues; i++)
                p->names[i] = (cql_str_t){x->names[i], strlen(x->names[i])};
        }
    }
    if (x->page_size != 0) {
        p->flags |= CQL_QF_PAGE_SIZE;
        p->page_size = x->page_size;
    }
    if (x->paging_state.ptr != NULL) {
        p->flags |= CQL_QF_PAGING_STATE;
        p->paging_state = x->paging_state;
    }
    if (x->has_ts) {
        p->flags |= CQL_QF_DEFAULT_TIMESTAMP;
        p->timestamp = x->ts;
    }
}

static inline int tx_query_p(tx_t *t, const char *q, const tx_params_t *x)
{
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_QUERY;
    m.u.query.query = (cql_str_t){q, strlen(q)};
    tx_fill_params(t, &m.u.query.params, x);
    return tx_exec(t, CQL_OP_QUERY, &m);
}

static inline int tx_query(tx_t *t, const char *q) { return tx_query_p(t, q, NULL); }

static inline const char *tx_errmsg(tx_t *t)
{
    static char buf[1024];
    if (t->opcode != CQL_OP_ERROR)
        return "";
    snprintf(buf, sizeof buf, "0x%04x %.*s", t->resp.u.error.code, (int)t->resp.u.error.message.len,
             t->resp.u.error.message.ptr);
    return buf;
}

/* The query must succeed; returns the result kind. */
static inline int tx_ok_p(tx_t *t, const char *q, const tx_params_t *x)
{
    int op = tx_query_p(t, q, x);
    cr_assert_eq(op, CQL_OP_RESULT, "%s -> %s", q, tx_errmsg(t));
    return t->resp.u.result.kind;
}

static inline int tx_ok(tx_t *t, const char *q) { return tx_ok_p(t, q, NULL); }

/* The query must fail with code and a message containing `part`. */
static inline void tx_err_p(tx_t *t, const char *q, const tx_params_t *x, int32_t code, const char *part)
{
    int op = tx_query_p(t, q, x);
    cr_assert_eq(op, CQL_OP_ERROR, "%s succeeded, expected 0x%04x", q, code);
    const cql_msg_error_t *e = &t->resp.u.error;
    cr_assert_eq(e->code, code, "%s -> %s (expected 0x%04x)", q, tx_errmsg(t), code);
    if (part != NULL) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%.*s", (int)e->message.len, e->message.ptr);
        cr_assert(strstr(msg, part) != NULL, "%s -> '%s' lacks '%s'", q, msg, part);
    }
}

static inline void tx_err(tx_t *t, const char *q, int32_t code, const char *part)
{
    tx_err_p(t, q, NULL, code, part);
}

/* ---- rows ---- */

static inline const cql_result_rows_t *tx_rows(tx_t *t)
{
    cr_assert_eq(t->opcode, CQL_OP_RESULT, "not a result: %s", tx_errmsg(t));
    cr_assert_eq(t->resp.u.result.kind, CQL_RESULT_ROWS, "not rows: kind %d", t->resp.u.result.kind);
    return &t->resp.u.result.u.rows;
}

static inline int32_t tx_nrows(tx_t *t) { return tx_rows(t)->nrows; }

/* Index of a result column by name, or -1. */
static inline int tx_col(tx_t *t, const char *name)
{
    const cql_result_rows_t *r = tx_rows(t);
    for (int32_t i = 0; i < r->meta.ncols; i++)
        if (cql_str_eq(r->meta.cols[i].name, name))
            return i;
    return -1;
}

/* Cell (row, col) of the last Rows result. */
static inline cql_bytes_t tx_cell(tx_t *t, int32_t row, int col)
{
    const cql_result_rows_t *r = tx_rows(t);
    cr_assert(row < r->nrows, "row %d of %d", row, r->nrows);
    cr_assert(col >= 0 && col < r->meta.ncols, "column %d", col);
    cql_rows_iter_t it;
    cql_rows_iter_init(&it, r);
    cql_bytes_t *cells = cql_arena_calloc(&t->a, (size_t)r->meta.ncols, sizeof *cells);
    for (int32_t i = 0; i <= row; i++)
        cr_assert_eq(cql_rows_next(&it, cells), 1);
    return cells[col];
}

static inline cql_bytes_t tx_cell_n(tx_t *t, int32_t row, const char *name)
{
    int c = tx_col(t, name);
    cr_assert(c >= 0, "no column %s", name);
    return tx_cell(t, row, c);
}

static inline int32_t tx_i32(cql_bytes_t b)
{
    cr_assert_eq(b.len, 4, "int cell of %d bytes", b.len);
    return (int32_t)cql_load_u32(b.ptr);
}

static inline int64_t tx_i64(cql_bytes_t b)
{
    cr_assert_eq(b.len, 8, "bigint cell of %d bytes", b.len);
    return (int64_t)cql_load_u64(b.ptr);
}

static inline bool tx_str_is(cql_bytes_t b, const char *s)
{
    return b.len >= 0 && (size_t)b.len == strlen(s) && memcmp(b.ptr, s, (size_t)b.len) == 0;
}

/* ---- values ---- */

typedef struct tx_vals {
    uint8_t buf[4096];
    size_t used;
    cql_bytes_t v[64];
    size_t n;
} tx_vals_t;

static inline void tv_raw(tx_vals_t *x, const void *p, int32_t n)
{
    if (n < 0) {
        x->v[x->n++] = (cql_bytes_t){NULL, n};
        return;
    }
    memcpy(x->buf + x->used, p, (size_t)n);
    x->v[x->n++] = (cql_bytes_t){x->buf + x->used, n};
    x->used += (size_t)n;
}

static inline void tv_int(tx_vals_t *x, int32_t v)
{
    uint8_t b[4];
    cql_store_u32(b, (uint32_t)v);
    tv_raw(x, b, 4);
}

static inline void tv_bigint(tx_vals_t *x, int64_t v)
{
    uint8_t b[8];
    cql_store_u64(b, (uint64_t)v);
    tv_raw(x, b, 8);
}

static inline void tv_text(tx_vals_t *x, const char *s) { tv_raw(x, s, (int32_t)strlen(s)); }

static inline tx_params_t tv_params(tx_vals_t *x)
{
    tx_params_t p;
    memset(&p, 0, sizeof p);
    p.values = x->v;
    p.nvalues = x->n;
    return p;
}

/* ---- prepared ---- */

typedef struct tx_prep {
    uint8_t id[16];
    cql_meta_t bind;        /* copied; arrays in the tx arena (valid until next request) */
    int32_t ncols_result;
    int32_t npk;
    uint16_t pk[8];
    int32_t nbind;
} tx_prep_t;

static inline void tx_prepare(tx_t *t, const char *q, tx_prep_t *p)
{
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_PREPARE;
    m.u.prepare = (cql_str_t){q, strlen(q)};
    int op = tx_exec(t, CQL_OP_PREPARE, &m);
    cr_assert_eq(op, CQL_OP_RESULT, "PREPARE %s -> %s", q, tx_errmsg(t));
    cr_assert_eq(t->resp.u.result.kind, CQL_RESULT_PREPARED);
    const cql_result_prepared_t *r = &t->resp.u.result.u.prepared;
    cr_assert_eq(r->id.len, 16);
    memcpy(p->id, r->id.ptr, 16);
    p->bind = r->bind;
    p->nbind = r->bind.ncols;
    p->npk = r->bind.npk;
    for (int32_t i = 0; i < r->bind.npk && i < 8; i++)
        p->pk[i] = r->bind.pk_indices[i];
    p->ncols_result = r->result.ncols;
}

static inline int tx_execute(tx_t *t, const uint8_t id[16], const tx_params_t *x)
{
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_EXECUTE;
    m.u.execute.id = (cql_bytes_t){id, 16};
    tx_fill_params(t, &m.u.execute.params, x);
    return tx_exec(t, CQL_OP_EXECUTE, &m);
}

#endif /* TEST_NEXEC_UTIL_H */
