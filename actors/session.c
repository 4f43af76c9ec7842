/*
 * session: a client's requests in flight, bounds, prepare-then-execute,
 * batches, streams, cancel. See session.h.
 *
 * A request (req_t) goes through steps, each one exec request to the
 * cluster whose callback continues it:
 *
 *   query / execute, no params   EXEC -> reply (or a pager for a stream)
 *   query with params            PREP (by text) -> bind -> EXEC / pager
 *   execute with params          [PREP by handle, when the session does not
 *                                know the handle's bind types] -> bind ->
 *                                EXEC / pager
 *   prepare                      EXEC (a PREPARE) -> `prepared`
 *   batch                        META for each statement with params (in
 *                                parallel) -> bind all -> EXEC (a BATCH)
 *
 * A PREP or META by handle is a "describe": the cluster answers the cached
 * Prepared RESULT of a handle any client prepared (or `unprepared`). It
 * is single flight per session: requests needing the same unknown handle
 * at once wait on one lookup_t, which answers each of them as its own
 * step (a describe that timed out is asked again for the waiters whose
 * own deadline has not passed).
 *
 * A req is in the id table from acceptance to its terminal reply. A
 * cancelled req leaves the table at once (its id may be reused) and lives
 * on, `answered`, until its outstanding callbacks have run (each step,
 * whether its own exec or a place on a lookup, counts in `pending`).
 */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql_arena.h"
#include "cql_result.h"
#include "pager.h"
#include "protocol/wire/wire_params.h"

#define META_CACHE 128     /* handles whose bind types the session keeps */
#define ARENA_LIMIT (64u << 20)

/* A Prepared RESULT body and the handle it belongs to (heap, one block). */
typedef struct pmeta {
    uint8_t handle[GW_HANDLE_LEN];
    uint8_t version;
    uint8_t flags;
    size_t len;
    uint8_t body[];
} pmeta_t;

enum { ST_EXEC = 1, ST_PREP, ST_META };

typedef struct sess sess_t;
typedef struct req req_t;

/* A batch statement's preparation (ST_META). */
typedef struct bstmt {
    pmeta_t *meta;        /* owned; NULL until known (or not needed) */
    bool needs_meta;      /* it has params */
    bool by_handle;       /* given as a handle (not as text) */
} bstmt_t;

/* A step's callback argument: the request, and the batch statement index
 * for ST_META. */
typedef struct step {
    req_t *rq;
    uint32_t idx;
    uint8_t kind;         /* ST_* */
} step_t;

/* A describe in flight (single flight per session and handle). Each
 * waiter is a step of a request and counts in that request's pending; the
 * lookup is on s->lookups from its send until its callback, which answers
 * every waiter and frees it. */
typedef struct lookup lookup_t;
struct lookup {
    sess_t *s;
    uint8_t handle[GW_HANDLE_LEN];
    step_t *waiters;        /* n, in arrival order */
    uint32_t n, cap;
    lookup_t *next;         /* s->lookups */
};

/* Invariants: linked <=> in s's table; answered => !linked; pending counts
 * outstanding exec callbacks; the req is freed when !linked && pending == 0
 * (or by the session's stop). */
struct req {
    sess_t *s;
    uint64_t id;
    wire_op_t op;
    bool stream;
    bool linked;
    bool answered;
    uint32_t pending;
    uint64_t arrival_us;
    uint64_t deadline_ms;
    rt_addr_t pager;        /* stream: its pager once spawned */
    uint64_t early_credit;  /* stream: credit granted before the pager */
    uint8_t *frame;         /* owned copy for multi-step requests */
    size_t frame_len;
    wire_req_t q;           /* decoded from frame (multi-step) */
    pmeta_t *meta;          /* query/execute with params: the statement */
    bstmt_t *stmts;         /* batch */
    uint32_t nstmts;
    bool failed;            /* batch: a META step failed and was answered */
    req_t *hnext;
};

struct sess {
    rt_actor_t *self;
    gw_client_t client;
    wire_limits_t limits;
    rt_addr_t cluster;
    gw_log_cb log;
    void *log_ud;
    char keyspace[WIRE_MAX_KEYSPACE + 1]; /* "" = none (USE sets it) */
    req_t **buckets;
    size_t nbuckets;        /* power of two */
    size_t nreqs;           /* linked requests */
    size_t nstreams;        /* linked stream requests */
    pmeta_t *metas[META_CACHE];
    size_t meta_next;       /* replacement cursor */
    lookup_t *lookups;      /* describes in flight (few: a short list) */
    cql_arena_t arena;      /* decoding results (reset per use) */
    uint8_t *rx;            /* the current frame's copy, decoded once; a
                               request that keeps its frame takes it */
    size_t rx_cap;          /* bytes at rx; 0 when rx is NULL */
};

/* ---- id table ---- */

static size_t bucket_of(const sess_t *s, uint64_t id)
{
    return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 20) & (s->nbuckets - 1);
}

static req_t *req_find(sess_t *s, uint64_t id)
{
    for (req_t *r = s->buckets[bucket_of(s, id)]; r != NULL; r = r->hnext)
        if (r->id == id)
            return r;
    return NULL;
}

static void req_link(sess_t *s, req_t *r)
{
    if (s->nreqs >= s->nbuckets) {
        size_t n = s->nbuckets * 2;
        req_t **b = calloc(n, sizeof *b);
        if (b != NULL) {
            size_t old = s->nbuckets;
            req_t **ob = s->buckets;
            s->buckets = b;
            s->nbuckets = n;
            for (size_t i = 0; i < old; i++)
                for (req_t *x = ob[i], *next; x != NULL; x = next) {
                    next = x->hnext;
                    size_t k = bucket_of(s, x->id);
                    x->hnext = b[k];
                    b[k] = x;
                }
            free(ob);
        } /* else: chains get longer, nothing breaks */
    }
    size_t k = bucket_of(s, r->id);
    r->hnext = s->buckets[k];
    s->buckets[k] = r;
    r->linked = true;
    s->nreqs++;
    if (r->stream)
        s->nstreams++;
}

static void req_unlink(sess_t *s, req_t *r)
{
    if (!r->linked)
        return;
    req_t **pp = &s->buckets[bucket_of(s, r->id)];
    while (*pp != r)
        pp = &(*pp)->hnext;
    *pp = r->hnext;
    r->linked = false;
    s->nreqs--;
    if (r->stream)
        s->nstreams--;
}

static void req_free(req_t *r)
{
    if (r->stmts != NULL)
        for (uint32_t i = 0; i < r->nstmts; i++)
            free(r->stmts[i].meta);
    free(r->stmts);
    free(r->meta);
    free(r->frame);
    free(r);
}

/* Frees r if nothing refers to it any more. */
static void req_release(req_t *r)
{
    if (!r->linked && r->pending == 0)
        req_free(r);
}

/* ---- metadata cache ---- */

static pmeta_t *pmeta_new(const uint8_t *handle, uint8_t version, uint8_t flags,
                          const uint8_t *body, size_t len)
{
    pmeta_t *m = malloc(sizeof *m + len);
    if (m == NULL)
        return NULL;
    memcpy(m->handle, handle, GW_HANDLE_LEN);
    m->version = version;
    m->flags = flags;
    m->len = len;
    memcpy(m->body, body, len);
    return m;
}

static pmeta_t *pmeta_dup(const pmeta_t *m)
{
    return m ? pmeta_new(m->handle, m->version, m->flags, m->body, m->len) : NULL;
}

static const pmeta_t *cache_get(const sess_t *s, const uint8_t *h, size_t len)
{
    if (len != GW_HANDLE_LEN)
        return NULL;
    for (size_t i = 0; i < META_CACHE; i++)
        if (s->metas[i] != NULL && memcmp(s->metas[i]->handle, h, GW_HANDLE_LEN) == 0)
            return s->metas[i];
    return NULL;
}

static void cache_put(sess_t *s, const pmeta_t *m)
{
    if (m == NULL || cache_get(s, m->handle, GW_HANDLE_LEN) != NULL)
        return;
    pmeta_t *c = pmeta_dup(m);
    if (c == NULL)
        return;
    free(s->metas[s->meta_next]);
    s->metas[s->meta_next] = c;
    s->meta_next = (s->meta_next + 1) % META_CACHE;
}

/* Decodes a Prepared body into *p (arena a). Returns 0 or a code. */
static int pmeta_decode(const pmeta_t *m, cql_arena_t *a, cql_result_prepared_t *p)
{
    cql_msg_t msg;
    int rc = cql_msg_decode(m->version, CQL_OP_RESULT, m->flags, m->body, m->len, a, &msg);
    if (rc != 0 && rc != CQLMQ_ETRAILING)
        return rc;
    if (msg.u.result.kind != CQL_RESULT_PREPARED)
        return CQLMQ_EMALFORMED;
    *p = msg.u.result.u.prepared;
    return 0;
}

/* ---- replies ---- */

static uint64_t now_us(void) { return uv_hrtime() / 1000u; }

static uint64_t latency_us(const req_t *r)
{
    uint64_t now = now_us();
    return now > r->arrival_us ? now - r->arrival_us : 0;
}

static uint32_t out_flags(const req_t *r, bool error)
{
    return GW_OUT_TERMINAL | (r->stream ? GW_OUT_STREAM : 0) | (error ? GW_OUT_ERROR : 0);
}

/* The terminal error of r; r leaves the table (and is freed when nothing
 * refers to it any more). */
static void fail_req(sess_t *s, req_t *r, const char *code, const char *message,
                     int32_t cql_code, mpk_raw_t details)
{
    mpk_wr_t *w = gw_front_out_begin(s->self, &s->client, out_flags(r, true), latency_us(r));
    (void)gw_write_error(w, r->id, code, message, cql_code, details);
    (void)rt_msg_end(s->self);
    r->answered = true;
    req_unlink(s, r);
    req_release(r);
}

static void fail_code(sess_t *s, req_t *r, wire_error_t code, const char *message)
{
    mpk_raw_t none = {NULL, 0};
    fail_req(s, r, wire_error_name(code), message, -1, none);
}

/* An answer for a request that was never accepted (no req_t). */
static void reject(sess_t *s, uint64_t id, bool stream, uint64_t arrival, wire_error_t code,
                   const char *message)
{
    req_t tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.id = id;
    tmp.stream = stream;
    tmp.arrival_us = arrival;
    mpk_wr_t *w = gw_front_out_begin(s->self, &s->client, out_flags(&tmp, true),
                                     latency_us(&tmp));
    (void)wire_reply_error(w, id, code, message);
    (void)rt_msg_end(s->self);
}

/* The wire code of a gateway status without a code string. */
static wire_error_t status_code(int status)
{
    switch (status) {
    case CQLMQ_EBUSY: return WIRE_ERR_BUSY;
    case CQLMQ_ENOHOST:
    case CQLMQ_ECLOSED:
    case CQLMQ_ENOACTOR: return WIRE_ERR_NO_HOST;
    case CQLMQ_ECONNRESET: return WIRE_ERR_CONNECTION_LOST;
    case CQLMQ_ETIMEOUT: return WIRE_ERR_TIMEOUT;
    case CQLMQ_EUNPREPARED: return WIRE_ERR_UNPREPARED;
    case CQLMQ_EINVAL: return WIRE_ERR_BAD_REQUEST;
    default: return WIRE_ERR_INTERNAL;
    }
}

/* Answers the error a gw_result carries. */
static void fail_result(sess_t *s, req_t *r, const gw_result_t *res)
{
    char code[40], msg[512];
    const char *c = wire_error_name(status_code(res->status));
    if (MPK_HAS(res, gw_result, code) && res->code.len > 0 && res->code.len < sizeof code) {
        memcpy(code, res->code.ptr, res->code.len);
        code[res->code.len] = '\0';
        c = code;
    }
    const char *m = NULL;
    if (MPK_HAS(res, gw_result, message)) {
        size_t n = res->message.len < sizeof msg - 1 ? res->message.len : sizeof msg - 1;
        memcpy(msg, res->message.ptr, n);
        msg[n] = '\0';
        m = msg;
    }
    mpk_raw_t details = {NULL, 0};
    if (MPK_HAS(res, gw_result, details))
        details = res->details;
    int32_t cql = MPK_HAS(res, gw_result, cql_code) ? res->cql_code : -1;
    fail_req(s, r, c, m != NULL ? m : cqlmq_strerror(res->status), cql, details);
}

/* Writes the terminal reply of a successful RESULT body. */
static void reply_result(sess_t *s, req_t *r, const gw_result_t *res)
{
    cql_arena_reset(&s->arena);
    cql_msg_t msg;
    int rc = cql_msg_decode((int)res->version, CQL_OP_RESULT, (uint8_t)res->flags, res->body.ptr,
                            res->body.len, &s->arena, &msg);
    if (rc != 0 && rc != CQLMQ_ETRAILING) {
        fail_code(s, r, WIRE_ERR_INTERNAL, "undecodable result from Cassandra");
        return;
    }
    const cql_string_list_t *warn = msg.warnings.n > 0 ? &msg.warnings : NULL;
    const cql_result_t *res_ = &msg.u.result;
    mpk_wr_t *w = gw_front_out_begin(s->self, &s->client, out_flags(r, false), latency_us(r));
    size_t mark = w->len;
    switch (res_->kind) {
    case CQL_RESULT_ROWS: {
        const cql_result_rows_t *rows = &res_->u.rows;
        wire_rows_reply_t rr;
        memset(&rr, 0, sizeof rr);
        rr.id = r->id;
        rr.columns = &rows->meta;
        rr.types = &rows->meta;
        rr.paging_state.len = CQL_BYTES_NULL;
        if (rows->meta.flags & CQL_MF_HAS_MORE_PAGES)
            rr.paging_state = rows->meta.paging_state;
        rr.warnings = warn;
        cql_rows_iter_t it;
        cql_rows_iter_init(&it, rows);
        uint32_t n;
        rc = wire_reply_rows(w, &rr, &it, &n);
        break;
    }
    case CQL_RESULT_VOID:
        rc = wire_reply_void(w, r->id, warn);
        break;
    case CQL_RESULT_SET_KEYSPACE: {
        cql_str_t ks = res_->u.keyspace;
        if (ks.len <= WIRE_MAX_KEYSPACE) {
            memcpy(s->keyspace, ks.ptr, ks.len);
            s->keyspace[ks.len] = '\0';
        }
        rc = wire_reply_set_keyspace(w, r->id, ks, warn);
        break;
    }
    case CQL_RESULT_SCHEMA_CHANGE:
        rc = wire_reply_schema_change(w, r->id, &res_->u.schema_change, warn);
        break;
    case CQL_RESULT_PREPARED: {
        mpk_bin_t h = {NULL, 0};
        if (MPK_HAS(res, gw_result, handle) && res->handle.len == GW_HANDLE_LEN) {
            h = res->handle;
            pmeta_t *m = pmeta_new(h.ptr, (uint8_t)res->version, (uint8_t)res->flags,
                                   res->body.ptr, res->body.len);
            cache_put(s, m);
            free(m);
        }
        rc = h.len ? wire_reply_prepared(w, r->id, h, &res_->u.prepared.bind,
                                         &res_->u.prepared.result)
                   : CQLMQ_EINVAL;
        break;
    }
    default:
        rc = CQLMQ_EMALFORMED;
        break;
    }
    if (rc != 0) { /* nothing usable was written: answer `internal` instead */
        if (w->err != 0) {
            (void)rt_msg_end(s->self); /* fails and drops the broken message */
            w = gw_front_out_begin(s->self, &s->client, out_flags(r, true), latency_us(r));
        } else {
            mpk_wr_truncate(w, mark);
        }
        char m[96];
        snprintf(m, sizeof m, "cannot encode the result: %s", cqlmq_strerror(rc));
        mpk_raw_t none = {NULL, 0};
        (void)gw_write_error(w, r->id, "internal", m, -1, none);
    }
    (void)rt_msg_end(s->self);
    r->answered = true;
    req_unlink(s, r);
    req_release(r);
}

/* ---- exec requests ---- */

static void on_step(rt_actor_t *self, const rt_msg_t *reply, int err, void *ud);

/* The common exec fields of r (deadline, keyspace, options). */
static void exec_common(const sess_t *s, const req_t *r, const wire_req_t *q, gw_exec_t *ex)
{
    memset(ex, 0, sizeof *ex);
    ex->deadline_ms = r->deadline_ms;
    if (q->keyspace.len > 0) {
        MPK_SET(ex, gw_exec, keyspace);
        ex->keyspace = q->keyspace;
    } else if (s->keyspace[0] != '\0') {
        MPK_SET(ex, gw_exec, keyspace);
        ex->keyspace = mpk_cstr(s->keyspace);
    }
    if (q->op == WIRE_OP_PREPARE)
        return;
    MPK_SET(ex, gw_exec, idempotent);
    ex->idempotent = q->idempotent;
    MPK_SET(ex, gw_exec, consistency);
    ex->consistency = q->consistency;
    MPK_SET(ex, gw_exec, serial_consistency);
    ex->serial_consistency = q->serial_consistency;
    if (q->has_timestamp) {
        MPK_SET(ex, gw_exec, timestamp);
        ex->timestamp = q->timestamp;
    }
    if (q->op == WIRE_OP_BATCH)
        return;
    MPK_SET(ex, gw_exec, page_size);
    ex->page_size = (int32_t)q->page_size;
    if (q->paging_state.len > 0) {
        MPK_SET(ex, gw_exec, paging_state);
        ex->paging_state = q->paging_state;
    }
}

/* Sends ex for r as step `kind` (idx: batch statement). On failure r is
 * answered. Returns 0 or the error (r answered). */
static int send_step(sess_t *s, req_t *r, const gw_exec_t *ex, uint8_t kind, uint32_t idx)
{
    step_t *st = malloc(sizeof *st);
    int rc = CQLMQ_ENOMEM;
    if (st != NULL) {
        st->rq = r;
        st->idx = idx;
        st->kind = kind;
        (void)gw_exec_encode_compact(rt_request_begin(s->self, s->cluster, GW_MSG_EXEC), ex);
        rc = rt_request_end(s->self, gw_request_timeout(ex), on_step, st, NULL);
    }
    if (rc != 0) {
        free(st);
        if (!r->answered)
            fail_code(s, r, rc == CQLMQ_ENOMEM ? WIRE_ERR_INTERNAL : WIRE_ERR_BUSY,
                      cqlmq_strerror(rc));
        return rc;
    }
    r->pending++;
    return 0;
}

/* Spawns the pager of a streamed request with ex as its template. */
static void start_pager(sess_t *s, req_t *r, const wire_req_t *q, const gw_exec_t *ex)
{
    gw_pager_cfg_t pc;
    memset(&pc, 0, sizeof pc);
    pc.client = s->client;
    pc.session = rt_self(s->self);
    pc.cluster = s->cluster;
    pc.id = r->id;
    pc.arrival_us = r->arrival_us;
    pc.exec = ex;
    pc.timeout_ms = q->timeout_ms;
    uint64_t credit = (uint64_t)q->credit + r->early_credit;
    pc.credit = credit > UINT32_MAX ? UINT32_MAX : (uint32_t)credit;
    pc.max_credit = s->limits.max_credit;
    pc.max_page_bytes = s->limits.max_page_bytes;
    pc.lease_ms = s->limits.lease_ms;
    int rc = rt_spawn(rt_actor_loop(s->self), &gw_pager_def, &pc, &r->pager);
    if (rc != 0) {
        r->pager = RT_ADDR_NONE;
        fail_code(s, r, WIRE_ERR_BUSY, cqlmq_strerror(rc));
    }
}

/* The final step of a query / execute: a stream's pager, or one exec. */
static void run_statement(sess_t *s, req_t *r, const wire_req_t *q, gw_exec_t *ex)
{
    if (gw_now_ms() >= r->deadline_ms) {
        fail_code(s, r, WIRE_ERR_TIMEOUT, "deadline passed before the statement was sent");
        return;
    }
    if (r->stream)
        start_pager(s, r, q, ex);
    else
        (void)send_step(s, r, ex, ST_EXEC, 0);
}

/* Binds q's params with m's bind types into vals (a cql writer). On error r
 * is answered and false returned. */
static bool bind_params(sess_t *s, req_t *r, const pmeta_t *m, mpk_raw_t params, cql_wr_t *vals,
                        uint32_t *nvalues)
{
    cql_arena_reset(&s->arena);
    cql_result_prepared_t p;
    if (pmeta_decode(m, &s->arena, &p) != 0) {
        fail_code(s, r, WIRE_ERR_INTERNAL, "undecodable prepared metadata");
        return false;
    }
    cql_bytes_t *v = p.bind.ncols > 0 ? calloc((size_t)p.bind.ncols, sizeof *v) : NULL;
    if (p.bind.ncols > 0 && v == NULL) {
        fail_code(s, r, WIRE_ERR_INTERNAL, "out of memory");
        return false;
    }
    wire_diag_t d;
    d.msg[0] = '\0';
    int rc = wire_params_bind(vals, &p.bind, params, v, &d);
    free(v);
    if (rc != 0) {
        fail_code(s, r, WIRE_ERR_INVALID, d.msg[0] ? d.msg : cqlmq_strerror(rc));
        return false;
    }
    *nvalues = (uint32_t)p.bind.ncols;
    return true;
}

/* query / execute with params, once the statement's metadata is known. */
static void continue_bound(sess_t *s, req_t *r)
{
    const wire_req_t *q = &r->q;
    cql_wr_t vals;
    cql_wr_init(&vals);
    uint32_t nvalues = 0;
    if (bind_params(s, r, r->meta, q->params, &vals, &nvalues)) {
        gw_exec_t ex;
        exec_common(s, r, q, &ex);
        ex.op = CQL_OP_EXECUTE;
        MPK_SET(&ex, gw_exec, handle);
        ex.handle = (mpk_bin_t){r->meta->handle, GW_HANDLE_LEN};
        MPK_SET(&ex, gw_exec, nvalues);
        ex.nvalues = nvalues;
        MPK_SET(&ex, gw_exec, values);
        ex.values = (mpk_bin_t){vals.data, (uint32_t)vals.len};
        run_statement(s, r, q, &ex);
    }
    cql_wr_close(&vals);
}

/* Asks the cluster to prepare a statement by text (its metadata and
 * handle come back). On failure r is answered. Returns 0 or the error. */
static int send_prepare(sess_t *s, req_t *r, mpk_str_t cql, mpk_str_t ks, uint8_t kind,
                        uint32_t idx)
{
    gw_exec_t ex;
    memset(&ex, 0, sizeof ex);
    ex.op = CQL_OP_PREPARE;
    ex.deadline_ms = r->deadline_ms;
    MPK_SET(&ex, gw_exec, query);
    ex.query = cql;
    if (ks.len > 0) {
        MPK_SET(&ex, gw_exec, keyspace);
        ex.keyspace = ks;
    } else if (s->keyspace[0] != '\0') {
        MPK_SET(&ex, gw_exec, keyspace);
        ex.keyspace = mpk_cstr(s->keyspace);
    }
    return send_step(s, r, &ex, kind, idx);
}

static void on_lookup(rt_actor_t *self, const rt_msg_t *reply, int err, void *ud);

static void fail_unprepared(sess_t *s, req_t *r)
{
    mpk_raw_t none = {NULL, 0};
    fail_req(s, r, "unprepared",
             "unknown handle (evicted or never prepared): prepare the statement again", -1,
             none);
}

/* Asks the cluster for the metadata of a handle this session does not
 * know (a describe), joining the one in flight for it if any. Step `kind`
 * (ST_PREP, or ST_META for batch statement idx) of r continues when it is
 * answered. On failure r is answered. Returns 0 or the error. */
static int ask_meta(sess_t *s, req_t *r, mpk_bin_t handle, uint8_t kind, uint32_t idx)
{
    if (handle.len != GW_HANDLE_LEN) { /* no gateway handle looks like that */
        fail_unprepared(s, r);
        return CQLMQ_EUNPREPARED;
    }
    lookup_t *lk = s->lookups;
    while (lk != NULL && memcmp(lk->handle, handle.ptr, GW_HANDLE_LEN) != 0)
        lk = lk->next;
    if (lk == NULL) {
        lk = calloc(1, sizeof *lk);
        if (lk == NULL || (lk->waiters = malloc(4 * sizeof *lk->waiters)) == NULL) {
            free(lk);
            fail_code(s, r, WIRE_ERR_INTERNAL, "out of memory");
            return CQLMQ_ENOMEM;
        }
        lk->s = s;
        lk->cap = 4;
        memcpy(lk->handle, handle.ptr, GW_HANDLE_LEN);
        gw_exec_t ex;
        memset(&ex, 0, sizeof ex);
        ex.op = CQL_OP_PREPARE;
        ex.deadline_ms = r->deadline_ms;
        MPK_SET(&ex, gw_exec, handle);
        ex.handle = (mpk_bin_t){lk->handle, GW_HANDLE_LEN};
        (void)gw_exec_encode_compact(rt_request_begin(s->self, s->cluster, GW_MSG_EXEC), &ex);
        int rc = rt_request_end(s->self, gw_request_timeout(&ex), on_lookup, lk, NULL);
        if (rc != 0) {
            free(lk->waiters);
            free(lk);
            fail_code(s, r, rc == CQLMQ_ENOMEM ? WIRE_ERR_INTERNAL : WIRE_ERR_BUSY,
                      cqlmq_strerror(rc));
            return rc;
        }
        lk->next = s->lookups;
        s->lookups = lk;
    }
    if (lk->n == lk->cap) {
        step_t *w = realloc(lk->waiters, 2 * (size_t)lk->cap * sizeof *w);
        if (w == NULL) {
            fail_code(s, r, WIRE_ERR_INTERNAL, "out of memory");
            return CQLMQ_ENOMEM;
        }
        lk->waiters = w;
        lk->cap *= 2;
    }
    lk->waiters[lk->n++] = (step_t){r, idx, kind};
    r->pending++;
    return 0;
}

/* ---- batch ---- */

/* Builds and sends the BATCH once every statement's metadata is known. */
static void batch_send(sess_t *s, req_t *r)
{
    const wire_req_t *q = &r->q;
    mpk_wr_t stmts;
    mpk_wr_init(&stmts);
    cql_wr_t vals;
    cql_wr_init(&vals);
    mpk_wr_array(&stmts, q->nstatements);
    wire_batch_iter_t it;
    wire_batch_iter_init(&it, q);
    wire_batch_stmt_t st;
    bool ok = true;
    for (uint32_t i = 0; ok && i < r->nstmts && wire_batch_next(&it, &st) == 1; i++) {
        mpk_wr_array(&stmts, 4);
        if (r->stmts[i].needs_meta) {
            cql_wr_reset(&vals);
            uint32_t nv = 0;
            ok = bind_params(s, r, r->stmts[i].meta, st.params, &vals, &nv);
            if (!ok)
                break;
            mpk_wr_nil(&stmts);
            mpk_wr_bin(&stmts, r->stmts[i].meta->handle, GW_HANDLE_LEN);
            mpk_wr_uint(&stmts, nv);
            mpk_wr_bin(&stmts, vals.data, vals.len);
        } else if (MPK_HAS(&st, wire_batch_stmt, cql)) {
            mpk_wr_str(&stmts, st.cql.ptr, st.cql.len);
            mpk_wr_nil(&stmts);
            mpk_wr_uint(&stmts, 0);
            mpk_wr_bin(&stmts, NULL, 0);
        } else {
            mpk_wr_nil(&stmts);
            mpk_wr_bin(&stmts, st.handle.ptr, st.handle.len);
            mpk_wr_uint(&stmts, 0);
            mpk_wr_bin(&stmts, NULL, 0);
        }
    }
    if (ok) {
        if (mpk_wr_error(&stmts) != 0) {
            fail_code(s, r, WIRE_ERR_INTERNAL, "out of memory");
        } else if (gw_now_ms() >= r->deadline_ms) {
            fail_code(s, r, WIRE_ERR_TIMEOUT, "deadline passed before the batch was sent");
        } else {
            gw_exec_t ex;
            exec_common(s, r, q, &ex);
            ex.op = CQL_OP_BATCH;
            MPK_SET(&ex, gw_exec, batch_type);
            ex.batch_type = q->batch_kind;
            MPK_SET(&ex, gw_exec, stmts);
            ex.stmts = (mpk_raw_t){stmts.data, stmts.len};
            (void)send_step(s, r, &ex, ST_EXEC, 0);
        }
    }
    cql_wr_close(&vals);
    mpk_wr_close(&stmts);
}

static void start_batch(sess_t *s, req_t *r)
{
    const wire_req_t *q = &r->q;
    r->nstmts = q->nstatements;
    r->stmts = calloc(r->nstmts ? r->nstmts : 1, sizeof *r->stmts);
    if (r->stmts == NULL) {
        fail_code(s, r, WIRE_ERR_INTERNAL, "out of memory");
        return;
    }
    wire_batch_iter_t it;
    wire_batch_iter_init(&it, q);
    wire_batch_stmt_t st;
    uint32_t i = 0;
    for (; i < r->nstmts && wire_batch_next(&it, &st) == 1; i++) {
        if (!MPK_HAS(&st, wire_batch_stmt, params))
            continue;
        r->stmts[i].needs_meta = true;
        r->stmts[i].by_handle = !MPK_HAS(&st, wire_batch_stmt, cql);
        if (!MPK_HAS(&st, wire_batch_stmt, cql)) {
            const pmeta_t *m = cache_get(s, st.handle.ptr, st.handle.len);
            if (m != NULL) {
                r->stmts[i].meta = pmeta_dup(m);
                if (r->stmts[i].meta == NULL) {
                    fail_code(s, r, WIRE_ERR_INTERNAL, "out of memory");
                    return;
                }
                continue;
            }
            if (ask_meta(s, r, st.handle, ST_META, i) != 0)
                return;
        } else if (send_prepare(s, r, st.cql, q->keyspace, ST_META, i) != 0) {
            return;
        }
    }
    if (r->pending == 0)
        batch_send(s, r);
}

/* ---- step callbacks ---- */

/* Step st of its request ended: with res (the cluster's reply), or err (the
 * runtime's error; CQLMQ_EMALFORMED: the reply did not decode). */
static void step_done(sess_t *s, step_t st, const gw_result_t *res, int err)
{
    req_t *r = st.rq;
    r->pending--;
    if (err == CQLMQ_ECANCELLED) { /* the session is stopping: free quietly */
        req_unlink(s, r);
        req_release(r);
        return;
    }
    if (r->answered) { /* cancelled, or a sibling step failed */
        req_release(r);
        return;
    }
    if (err == CQLMQ_EMALFORMED) {
        fail_code(s, r, WIRE_ERR_INTERNAL, "undecodable reply from the cluster actor");
        return;
    }
    if (err != 0) {
        fail_code(s, r, err == CQLMQ_ETIMEOUT ? WIRE_ERR_TIMEOUT : status_code(err),
                  err == CQLMQ_ETIMEOUT ? "no answer before the deadline" : cqlmq_strerror(err));
        return;
    }
    if (res->status != 0) {
        /* a handle the cluster cannot describe is `unprepared` */
        bool by_handle = (st.kind == ST_PREP && r->op == WIRE_OP_EXECUTE) ||
                         (st.kind == ST_META && r->stmts[st.idx].by_handle);
        if (by_handle && res->status == CQLMQ_EUNPREPARED) {
            fail_unprepared(s, r);
            return;
        }
        fail_result(s, r, res);
        return;
    }
    if (st.kind == ST_EXEC) {
        reply_result(s, r, res);
        return;
    }
    if (!MPK_HAS(res, gw_result, handle) || res->handle.len != GW_HANDLE_LEN ||
        !MPK_HAS(res, gw_result, body)) {
        fail_code(s, r, WIRE_ERR_INTERNAL, "prepare reply without handle or metadata");
        return;
    }
    pmeta_t *m = pmeta_new(res->handle.ptr, (uint8_t)res->version, (uint8_t)res->flags,
                           res->body.ptr, res->body.len);
    if (m == NULL) {
        fail_code(s, r, WIRE_ERR_INTERNAL, "out of memory");
        return;
    }
    cache_put(s, m);
    if (st.kind == ST_PREP) {
        free(r->meta);
        r->meta = m;
        continue_bound(s, r);
        return;
    }
    free(r->stmts[st.idx].meta);
    r->stmts[st.idx].meta = m;
    if (r->pending == 0)
        batch_send(s, r);
}

/* Decodes an exec reply: 0, or err / CQLMQ_EMALFORMED (for step_done). */
static int decode_reply(const rt_msg_t *reply, int err, gw_result_t *res)
{
    if (err != 0)
        return err;
    mpk_rd_t rd;
    mpk_rd_init(&rd, reply->data, reply->len);
    return gw_result_decode(&rd, res) == 0 ? 0 : CQLMQ_EMALFORMED;
}

static void on_step(rt_actor_t *self, const rt_msg_t *reply, int err, void *ud)
{
    (void)self;
    step_t st = *(step_t *)ud;
    free(ud);
    gw_result_t res;
    err = decode_reply(reply, err, &res);
    step_done(st.rq->s, st, err == 0 ? &res : NULL, err);
}

/* A describe ended: every waiter continues as if it had been its own
 * step. After a timeout, a waiter whose own deadline is still ahead asks
 * again (it may have joined a describe sent with an earlier deadline). */
static void on_lookup(rt_actor_t *self, const rt_msg_t *reply, int err, void *ud)
{
    (void)self;
    lookup_t *lk = ud;
    sess_t *s = lk->s;
    lookup_t **pp = &s->lookups;
    while (*pp != lk)
        pp = &(*pp)->next;
    *pp = lk->next;
    gw_result_t res;
    err = decode_reply(reply, err, &res);
    bool timed_out = err == CQLMQ_ETIMEOUT || (err == 0 && res.status == CQLMQ_ETIMEOUT);
    uint64_t now = gw_now_ms();
    /* Each waiter not yet handled holds a count in its req's pending, so
     * a req waiting twice (a batch) stays alive until its last waiter. */
    for (uint32_t i = 0; i < lk->n; i++) {
        step_t w = lk->waiters[i];
        req_t *r = w.rq;
        if (timed_out && !r->answered && r->deadline_ms > now) {
            r->pending--;
            (void)ask_meta(s, r, (mpk_bin_t){lk->handle, GW_HANDLE_LEN}, w.kind, w.idx);
            continue;
        }
        step_done(s, w, err == 0 ? &res : NULL, err);
    }
    free(lk->waiters);
    free(lk);
}

/* ---- inbound requests ---- */

/* A frame larger than this is not kept in s->rx once handled. */
#define RX_KEEP_MAX 65536u

/* Copies the frame into s->rx (grown as needed) and decodes it there, once:
 * a request that keeps its frame then takes the buffer (keep_frame) instead
 * of copying and decoding it again. Returns wire_req_decode's code, or
 * CQLMQ_ENOMEM with q decoded from the borrowed frame instead. */
static int decode_frame(sess_t *s, mpk_bin_t frame, wire_req_t *q, wire_diag_t *d, bool *in_rx)
{
    size_t need = frame.len ? frame.len : 1;
    *in_rx = false;
    if (s->rx_cap < need) {
        free(s->rx);
        s->rx_cap = 0;
        if ((s->rx = malloc(need)) == NULL) {
            int rc = wire_req_decode(frame.ptr, frame.len, &s->limits, q, d);
            return rc != 0 ? rc : CQLMQ_ENOMEM;
        }
        s->rx_cap = need;
    }
    memcpy(s->rx, frame.ptr, frame.len);
    *in_rx = true;
    return wire_req_decode(s->rx, frame.len, &s->limits, q, d);
}

/* Gives r its frame (multi-step requests): the decoded copy in s->rx when
 * there is one (q borrows it), else a fresh copy decoded again. */
static bool keep_frame(sess_t *s, req_t *r, mpk_bin_t frame, const wire_req_t *q, bool in_rx)
{
    if (in_rx) {
        r->frame = s->rx;
        r->frame_len = frame.len;
        r->q = *q;
        s->rx = NULL;
        s->rx_cap = 0;
        return true;
    }
    r->frame = malloc(frame.len ? frame.len : 1);
    if (r->frame == NULL)
        return false;
    memcpy(r->frame, frame.ptr, frame.len);
    r->frame_len = frame.len;
    return wire_req_decode(r->frame, r->frame_len, &s->limits, &r->q, NULL) == 0;
}

/* After a frame is handled: a large copy is not held on to. */
static void rx_trim(sess_t *s)
{
    if (s->rx_cap > RX_KEEP_MAX) {
        free(s->rx);
        s->rx = NULL;
        s->rx_cap = 0;
    }
}

static void handle_req(sess_t *s, const gw_session_req_t *inp, const wire_req_t *qp,
                       bool in_rx);

static void on_req(rt_actor_t *self, const rt_msg_t *m)
{
    sess_t *s = rt_state(self);
    gw_session_req_t in;
    mpk_rd_t rd;
    mpk_rd_init(&rd, m->data, m->len);
    if (gw_session_req_decode(&rd, &in) != 0)
        return;
    wire_req_t q;
    wire_diag_t d;
    d.msg[0] = '\0';
    bool in_rx;
    int rc = decode_frame(s, in.frame, &q, &d, &in_rx);
    if (rc != 0 && rc != CQLMQ_ENOMEM)
        return; /* the front validated it */
    handle_req(s, &in, &q, in_rx);
    rx_trim(s);
}

/* One decoded request frame; q borrows s->rx when in_rx, else in->frame. */
static void handle_req(sess_t *s, const gw_session_req_t *inp, const wire_req_t *qp, bool in_rx)
{
    rt_actor_t *self = s->self;
    gw_session_req_t in = *inp;
    wire_req_t q = *qp;
    req_t *r = req_find(s, q.id);
    switch (q.op) {
    case WIRE_OP_CREDIT:
        if (r != NULL && r->stream && r->pager != RT_ADDR_NONE) {
            mpk_wr_t *w = rt_msg_begin(self, r->pager, GW_MSG_PAGER_CREDIT);
            mpk_wr_array(w, 1);
            mpk_wr_uint(w, q.credit);
            (void)rt_msg_end(self);
        } else if (r != NULL && r->stream) {
            r->early_credit += q.credit; /* still preparing: the pager gets it */
        }
        return; /* credit for an ended request is ignored */
    case WIRE_OP_CANCEL:
        if (r == NULL)
            return;
        if (r->stream && r->pager != RT_ADDR_NONE) {
            mpk_wr_t *w = rt_msg_begin(self, r->pager, GW_MSG_PAGER_CANCEL);
            mpk_wr_array(w, 1);
            mpk_wr_uint(w, WIRE_ERR_CANCELLED);
            (void)rt_msg_end(self);
        } else {
            fail_code(s, r, WIRE_ERR_CANCELLED, "cancelled by the client");
        }
        return;
    case WIRE_OP_QUERY:
    case WIRE_OP_EXECUTE:
    case WIRE_OP_PREPARE:
    case WIRE_OP_BATCH:
        break;
    default:
        return; /* hello, ping, stats: the front's */
    }
    bool stream = q.stream && (q.op == WIRE_OP_QUERY || q.op == WIRE_OP_EXECUTE);
    if (r != NULL) {
        reject(s, q.id, stream, in.arrival_us, WIRE_ERR_BAD_REQUEST,
               "id already in flight");
        return;
    }
    if (s->nreqs >= s->limits.max_in_flight) {
        reject(s, q.id, stream, in.arrival_us, WIRE_ERR_BUSY, "max_in_flight reached");
        return;
    }
    if (stream && s->nstreams >= s->limits.max_streams) {
        reject(s, q.id, stream, in.arrival_us, WIRE_ERR_BUSY, "max_streams reached");
        return;
    }
    r = calloc(1, sizeof *r);
    if (r == NULL) {
        reject(s, q.id, stream, in.arrival_us, WIRE_ERR_BUSY, "out of memory");
        return;
    }
    r->s = s;
    r->id = q.id;
    r->op = q.op;
    r->stream = stream;
    r->arrival_us = in.arrival_us;
    uint64_t timeout = q.timeout_ms ? q.timeout_ms : s->limits.default_timeout_ms;
    r->deadline_ms = in.arrival_us / 1000u + timeout;
    req_link(s, r);
    if (gw_now_ms() >= r->deadline_ms) {
        fail_code(s, r, WIRE_ERR_TIMEOUT, "deadline passed before the request was handled");
        return;
    }
    bool params = q.params.len > 0;
    if (params || q.op == WIRE_OP_BATCH) {
        if (!keep_frame(s, r, in.frame, &q, in_rx)) {
            fail_code(s, r, WIRE_ERR_INTERNAL, "out of memory");
            return;
        }
    }
    gw_exec_t ex;
    switch (q.op) {
    case WIRE_OP_PREPARE:
        (void)send_prepare(s, r, q.cql, q.keyspace, ST_EXEC, 0);
        return;
    case WIRE_OP_BATCH:
        start_batch(s, r);
        return;
    case WIRE_OP_QUERY:
        if (params) {
            (void)send_prepare(s, r, r->q.cql, r->q.keyspace, ST_PREP, 0);
            return;
        }
        exec_common(s, r, &q, &ex);
        ex.op = CQL_OP_QUERY;
        MPK_SET(&ex, gw_exec, query);
        ex.query = q.cql;
        run_statement(s, r, &q, &ex);
        return;
    case WIRE_OP_EXECUTE:
        if (params) {
            const pmeta_t *pm = cache_get(s, q.handle.ptr, q.handle.len);
            if (pm == NULL) { /* prepared by another client, or evicted here */
                (void)ask_meta(s, r, r->q.handle, ST_PREP, 0);
                return;
            }
            if ((r->meta = pmeta_dup(pm)) == NULL) {
                fail_code(s, r, WIRE_ERR_INTERNAL, "out of memory");
                return;
            }
            continue_bound(s, r);
            return;
        }
        exec_common(s, r, &q, &ex);
        ex.op = CQL_OP_EXECUTE;
        MPK_SET(&ex, gw_exec, handle);
        ex.handle = q.handle;
        run_statement(s, r, &q, &ex);
        return;
    default:
        return;
    }
}

/* A pager's terminal reply: free the id, then forward. */
static void on_end(rt_actor_t *self, const rt_msg_t *m)
{
    sess_t *s = rt_state(self);
    gw_session_end_t e;
    mpk_rd_t rd;
    mpk_rd_init(&rd, m->data, m->len);
    if (gw_session_end_decode(&rd, &e) != 0)
        return;
    req_t *r = req_find(s, e.id);
    if (r == NULL || r->pager != m->from)
        return;
    mpk_wr_t *w = gw_front_out_begin(self, &s->client, e.flags | GW_OUT_TERMINAL | GW_OUT_STREAM,
                                     e.latency_us);
    mpk_wr_raw(w, e.reply.ptr, e.reply.len);
    (void)rt_msg_end(self);
    r->answered = true;
    req_unlink(s, r);
    req_release(r);
}

/* The client overran its queue: end every stream. */
static void on_shed(rt_actor_t *self, const rt_msg_t *m)
{
    sess_t *s = rt_state(self);
    for (size_t i = 0; i < s->nbuckets; i++)
        for (req_t *r = s->buckets[i]; r != NULL; r = r->hnext)
            if (r->stream && r->pager != RT_ADDR_NONE) {
                mpk_wr_t *w = rt_msg_begin(self, r->pager, GW_MSG_PAGER_CANCEL);
                mpk_wr_array(w, 1);
                mpk_wr_uint(w, WIRE_ERR_CANCELLED);
                (void)rt_msg_end(self);
            }
}

/* ---- lifecycle ---- */

static int session_init(rt_actor_t *self, void *arg)
{
    const gw_session_cfg_t *cfg = arg;
    sess_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return CQLMQ_ENOMEM;
    s->nbuckets = 16;
    s->buckets = calloc(s->nbuckets, sizeof *s->buckets);
    if (s->buckets == NULL) {
        free(s);
        return CQLMQ_ENOMEM;
    }
    s->self = self;
    s->client = cfg->client;
    s->limits = cfg->limits;
    s->cluster = cfg->cluster;
    s->log = cfg->log;
    s->log_ud = cfg->log_ud;
    cql_arena_init(&s->arena, ARENA_LIMIT);
    rt_set_state(self, s);
    return 0;
}

/* Stopped (lease, client gone, new hello, shutdown): nothing is sent; the
 * pagers are stopped; every request is freed. Callbacks of exec requests
 * ran already (with CQLMQ_ECANCELLED), freeing theirs. */
static void session_stop(rt_actor_t *self, int reason)
{
    sess_t *s = rt_state(self);
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nbuckets; i++) {
        req_t *r = s->buckets[i];
        while (r != NULL) {
            req_t *next = r->hnext;
            if (r->pager != RT_ADDR_NONE)
                (void)rt_kill(self, r->pager, reason ? reason : CQLMQ_ECLOSED);
            r->linked = false;
            if (r->pending == 0)
                req_free(r);
            r = next;
        }
    }
    for (size_t i = 0; i < META_CACHE; i++)
        free(s->metas[i]);
    free(s->buckets);
    free(s->rx);
    cql_arena_close(&s->arena);
    free(s);
    rt_set_state(self, NULL);
}

static const rt_handler_cb session_handlers[GW_CLIENT_MSG_LIMIT_] = {
    [GW_MSG_SESSION_REQ] = on_req,
    [GW_MSG_SESSION_SHED] = on_shed,
    [GW_MSG_SESSION_END] = on_end,
};

const rt_actor_def_t gw_session_def = {
    "session", session_handlers, GW_CLIENT_MSG_LIMIT_, NULL, NULL, session_init, session_stop,
};
