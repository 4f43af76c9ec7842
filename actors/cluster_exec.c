/*
 * cluster_exec: what the cluster actor does with a GW_MSG_EXEC.
 *
 *   accept     decode, admission (max_in_flight), deadline, validation;
 *              PREPARE of a cached statement is answered at once, and so
 *              is PREPARE by handle (a session binding values for a
 *              handle another client prepared) or `unprepared`;
 *   route      choose a host (round-robin, local DC first, a connection
 *              with a free stream id and a compatible keyspace; the host a
 *              re-prepare targets first; hosts already tried last) and a
 *              connection on it; make sure every statement the request
 *              EXECUTEs is prepared there (else park it on the cache
 *              entry and PREPARE once for all waiters); encode the CQL
 *              body with the connection's version; send;
 *   outcome    success went straight to the requester; errors come back
 *              here: UNPREPARED -> forget, re-prepare, retry once;
 *              retryable + idempotent -> another host within the
 *              deadline; otherwise the terminal reply.
 * Nothing waits in a queue: when no connection can take a request the
 * answer is `busy` (or `no_host`) at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "cql_result.h"
#include "gw_reply.h"

#define REDISPATCH_MAX 8

/* ---- replies ---- */

void gwc_exec_fail(cluster_t *c, req_t *r, int status, const char *message)
{
    if (r->parked) {
        gw_pstmt_t *pe = gw_pcache_get(&c->pcache, r->park_handle, GW_HANDLE_LEN);
        if (pe != NULL)
            gw_pstmt_drop_waiter(pe, r->rid);
    }
    if (r->kind == GW_KIND_USER) {
        const char *host = r->host >= 0 && c->hosts->h[r->host].used ? c->hosts->h[r->host].name
                                                                      : NULL;
        (void)gw_reply_status(c->self, r->from, r->corr, status, message, host, r->attempts);
        c->st.replies++;
        if (status == CQLMQ_EBUSY || status == CQLMQ_ELIMIT)
            c->st.busy++;
        else if (status == CQLMQ_ENOHOST || status == CQLMQ_ECLOSED)
            c->st.no_host++;
        else if (status == CQLMQ_ETIMEOUT)
            c->st.timeouts++;
        else
            c->st.errors++;
    }
    gwc_reqs_free(c, r);
}

static void reply_cql_error(cluster_t *c, req_t *r, int version, uint8_t flags,
                            const uint8_t *body, size_t len)
{
    const char *host = r->host >= 0 ? c->hosts->h[r->host].name : NULL;
    (void)gw_reply_cql_error(c->self, r->from, r->corr, version, flags, body, len, host,
                             r->attempts);
    c->st.replies++;
    c->st.errors++;
    gwc_reqs_free(c, r);
}

/* The last failure a retry could not better. */
static void reply_saved(cluster_t *c, req_t *r)
{
    if (r->err_body != NULL)
        reply_cql_error(c, r, r->err_version, r->err_flags, r->err_body, r->err_len);
    else if (r->err_status == CQLMQ_ECLOSED)
        gwc_exec_fail(c, r, CQLMQ_ECLOSED,
                  "connection closed before a response; the request may have been executed");
    else
        gwc_exec_fail(c, r, r->err_status, NULL);
}

static void reply_prepared(cluster_t *c, rt_addr_t to, uint64_t corr, const gw_pstmt_t *pe,
                           const char *host)
{
    gw_result_t res;
    memset(&res, 0, sizeof res);
    res.version = pe->version;
    res.flags = pe->flags;
    res.body = (mpk_bin_t){pe->meta, (uint32_t)pe->meta_len};
    res.handle = (mpk_bin_t){pe->handle, GW_HANDLE_LEN};
    res.present = (uint64_t)1 << gw_result_F_version | (uint64_t)1 << gw_result_F_flags |
                  (uint64_t)1 << gw_result_F_body | (uint64_t)1 << gw_result_F_handle;
    if (host != NULL) {
        res.host = mpk_cstr(host);
        MPK_SET(&res, gw_result, host);
    }
    (void)gw_reply_send(c->self, to, corr, &res);
    c->st.replies++;
}

/* ---- CQL bodies ---- */

/* nvalues [value]s exactly fill values. */
static bool values_ok(mpk_bin_t values, uint32_t n)
{
    cql_rd_t r;
    cql_bytes_t v;
    cql_rd_init(&r, values.ptr, values.len);
    for (uint32_t i = 0; i < n; i++)
        if (cql_rd_value(&r, &v) != 0)
            return false;
    return cql_rd_left(&r) == 0 && n <= UINT16_MAX;
}

static int write_params(cql_wr_t *w, const gw_exec_t *ex)
{
    uint8_t flags = 0;
    uint32_t n = MPK_HAS(ex, gw_exec, nvalues) ? ex->nvalues : 0;
    mpk_bin_t values = MPK_HAS(ex, gw_exec, values) ? ex->values : (mpk_bin_t){NULL, 0};
    if (!values_ok(values, n))
        return CQLMQ_EINVAL;
    if (n > 0)
        flags |= CQL_QF_VALUES;
    if (MPK_HAS(ex, gw_exec, skip_metadata) && ex->skip_metadata)
        flags |= CQL_QF_SKIP_METADATA;
    if (MPK_HAS(ex, gw_exec, page_size))
        flags |= CQL_QF_PAGE_SIZE;
    if (MPK_HAS(ex, gw_exec, paging_state))
        flags |= CQL_QF_PAGING_STATE;
    if (MPK_HAS(ex, gw_exec, serial_consistency))
        flags |= CQL_QF_SERIAL_CONSISTENCY;
    if (MPK_HAS(ex, gw_exec, timestamp))
        flags |= CQL_QF_DEFAULT_TIMESTAMP;
    cql_wr_u16(w, (uint16_t)(MPK_HAS(ex, gw_exec, consistency) ? ex->consistency
                                                                 : CQL_CL_LOCAL_ONE));
    cql_wr_u8(w, flags);
    if (n > 0) {
        cql_wr_u16(w, (uint16_t)n);
        cql_wr_raw(w, values.ptr, values.len);
    }
    if (flags & CQL_QF_PAGE_SIZE)
        cql_wr_i32(w, ex->page_size);
    if (flags & CQL_QF_PAGING_STATE)
        cql_wr_bytes(w, (cql_bytes_t){ex->paging_state.ptr, (int32_t)ex->paging_state.len});
    if (flags & CQL_QF_SERIAL_CONSISTENCY)
        cql_wr_u16(w, (uint16_t)ex->serial_consistency);
    if (flags & CQL_QF_DEFAULT_TIMESTAMP)
        cql_wr_i64(w, ex->timestamp);
    return 0;
}

/* One BATCH statement: [query|nil, handle|nil, nvalues, values]. */
typedef struct bstmt {
    mpk_str_t query;
    mpk_bin_t handle;
    bool is_handle;
    uint32_t nvalues;
    mpk_bin_t values;
} bstmt_t;

static int next_stmt(mpk_rd_t *rd, bstmt_t *s)
{
    uint32_t n;
    memset(s, 0, sizeof *s);
    if (mpk_rd_array(rd, &n) != 0 || n < 4)
        return CQLMQ_EINVAL;
    if (!mpk_rd_try_nil(rd) && mpk_rd_str(rd, &s->query) != 0)
        return CQLMQ_EINVAL;
    if (!mpk_rd_try_nil(rd)) {
        if (mpk_rd_bin(rd, &s->handle) != 0)
            return CQLMQ_EINVAL;
        s->is_handle = true;
    }
    if (mpk_rd_u32(rd, &s->nvalues) != 0 || mpk_rd_bin(rd, &s->values) != 0)
        return CQLMQ_EINVAL;
    for (uint32_t i = 4; i < n; i++)
        if (mpk_rd_skip(rd) != 0)
            return CQLMQ_EINVAL;
    if (s->is_handle == (s->query.ptr != NULL) || !values_ok(s->values, s->nvalues))
        return CQLMQ_EINVAL;
    return 0;
}

/* Walks the batch statements: count them, and find the first handle
 * whose entry is missing (EUNPREPARED) or not on host h (*missing). */
static int batch_scan(cluster_t *c, const gw_exec_t *ex, int h, uint32_t *count,
                      gw_pstmt_t **missing)
{
    mpk_rd_t rd;
    uint32_t n;
    mpk_rd_init(&rd, ex->stmts.ptr, ex->stmts.len);
    if (mpk_rd_array(&rd, &n) != 0 || n == 0 || n > UINT16_MAX)
        return CQLMQ_EINVAL;
    *count = n;
    for (uint32_t i = 0; i < n; i++) {
        bstmt_t s;
        int rc = next_stmt(&rd, &s);
        if (rc != 0)
            return rc;
        if (!s.is_handle)
            continue;
        gw_pstmt_t *pe = gw_pcache_get(&c->pcache, s.handle.ptr, s.handle.len);
        if (pe == NULL || pe->id == NULL)
            return CQLMQ_EUNPREPARED;
        if (h >= 0 && missing != NULL && *missing == NULL && !gw_pstmt_on(pe, (unsigned)h))
            *missing = pe;
    }
    return 0;
}

static int write_batch(cluster_t *c, cql_wr_t *w, const gw_exec_t *ex)
{
    mpk_rd_t rd;
    uint32_t n;
    mpk_rd_init(&rd, ex->stmts.ptr, ex->stmts.len);
    if (mpk_rd_array(&rd, &n) != 0)
        return CQLMQ_EINVAL;
    cql_wr_u8(w, (uint8_t)ex->batch_type);
    cql_wr_u16(w, (uint16_t)n);
    for (uint32_t i = 0; i < n; i++) {
        bstmt_t s;
        if (next_stmt(&rd, &s) != 0)
            return CQLMQ_EINVAL;
        if (s.is_handle) {
            gw_pstmt_t *pe = gw_pcache_get(&c->pcache, s.handle.ptr, s.handle.len);
            if (pe == NULL || pe->id == NULL)
                return CQLMQ_EUNPREPARED;
            cql_wr_u8(w, CQL_BATCH_KIND_PREPARED);
            cql_wr_short_bytes(w, pe->id, pe->id_len);
        } else {
            cql_wr_u8(w, CQL_BATCH_KIND_QUERY);
            cql_wr_long_string(w, s.query.ptr, s.query.len);
        }
        cql_wr_u16(w, (uint16_t)s.nvalues);
        cql_wr_raw(w, s.values.ptr, s.values.len);
    }
    uint8_t flags = 0;
    if (MPK_HAS(ex, gw_exec, serial_consistency))
        flags |= CQL_QF_SERIAL_CONSISTENCY;
    if (MPK_HAS(ex, gw_exec, timestamp))
        flags |= CQL_QF_DEFAULT_TIMESTAMP;
    cql_wr_u16(w, (uint16_t)(MPK_HAS(ex, gw_exec, consistency) ? ex->consistency
                                                                 : CQL_CL_LOCAL_ONE));
    cql_wr_u8(w, flags);
    if (flags & CQL_QF_SERIAL_CONSISTENCY)
        cql_wr_u16(w, (uint16_t)ex->serial_consistency);
    if (flags & CQL_QF_DEFAULT_TIMESTAMP)
        cql_wr_i64(w, ex->timestamp);
    return 0;
}

static int encode_body(cluster_t *c, const req_t *r, cql_wr_t *w)
{
    const gw_exec_t *ex = &r->ex;
    int rc;
    switch (ex->op) {
    case CQL_OP_QUERY:
        cql_wr_long_string(w, ex->query.ptr, ex->query.len);
        rc = write_params(w, ex);
        break;
    case CQL_OP_EXECUTE: {
        gw_pstmt_t *pe = gw_pcache_get(&c->pcache, r->handle, GW_HANDLE_LEN);
        if (pe == NULL || pe->id == NULL)
            return CQLMQ_EUNPREPARED;
        cql_wr_short_bytes(w, pe->id, pe->id_len);
        rc = write_params(w, ex);
        break;
    }
    case CQL_OP_BATCH:
        rc = write_batch(c, w, ex);
        break;
    default:
        return CQLMQ_EINVAL;
    }
    return rc != 0 ? rc : cql_wr_error(w);
}

/* ---- choosing ---- */

typedef struct want {
    cluster_t *c;
    const char *ks;      /* keyspace the request needs, or NULL */
    size_t ks_len;
    const req_t *r;      /* for the tried list, or NULL */
    bool untried_only;
} want_t;

static bool tried(const req_t *r, int h)
{
    for (uint8_t i = 0; i < r->ntried; i++)
        if (r->tried[i] == h)
            return true;
    return false;
}

static bool conn_fits(const cluster_t *c, const pconn_t *pc, const want_t *w)
{
    if (pc->state != PC_READY || pc->inflight + pc->orphans >= c->cfg.max_streams)
        return false;
    if (w->ks == NULL)
        return true;
    bool same = strlen(pc->keyspace) == w->ks_len && memcmp(pc->keyspace, w->ks, w->ks_len) == 0;
    return same || pc->ks_inflight == 0;
}

static pconn_t *choose_conn(cluster_t *c, int h, const want_t *w)
{
    pconn_t *best = NULL;
    bool best_same = false;
    for (uint32_t k = 0; k < c->cfg.pool_size; k++) {
        pconn_t *pc = &c->hs[h].conns[k];
        if (!conn_fits(c, pc, w))
            continue;
        bool same = w->ks != NULL && strlen(pc->keyspace) == w->ks_len &&
                    memcmp(pc->keyspace, w->ks, w->ks_len) == 0;
        if (best == NULL || (same && !best_same) ||
            (same == best_same && pc->inflight < best->inflight)) {
            best = pc;
            best_same = same;
        }
    }
    return best;
}

static bool host_fits(int h, void *ud)
{
    want_t *w = ud;
    if (w->r != NULL && w->untried_only && tried(w->r, h))
        return false;
    return choose_conn(w->c, h, w) != NULL;
}

static int choose_host(cluster_t *c, want_t *w, int prefer)
{
    if (prefer >= 0 && (uint32_t)prefer < c->hosts->n && c->hosts->h[prefer].used &&
        c->hosts->h[prefer].up && host_fits(prefer, w))
        return prefer;
    w->untried_only = w->r != NULL && w->r->ntried > 0;
    int h = gw_hosts_pick(c->hosts, c->cfg.local_dc, host_fits, w);
    w->untried_only = false;
    return h;
}

/* No host can take a request now: busy if some connection is ready. */
static int no_route_status(cluster_t *c)
{
    for (uint32_t i = 0; i < c->hosts->n; i++) {
        if (!c->hosts->h[i].used || !c->hosts->h[i].up)
            continue;
        for (uint32_t k = 0; k < GW_POOL_MAX; k++)
            if (c->hs[i].conns[k].state == PC_READY)
                return CQLMQ_EBUSY;
    }
    return CQLMQ_ENOHOST;
}

/* ---- preparing ---- */

static int start_prepare(cluster_t *c, gw_pstmt_t *pe, int h)
{
    want_t w = {c, pe->ks_len ? pe->keyspace : NULL, pe->ks_len, NULL, false};
    if (h < 0 || !host_fits(h, &w))
        h = choose_host(c, &w, -1);
    if (h < 0)
        return no_route_status(c);
    req_t *pr = gwc_reqs_new(c, GW_KIND_PREPARE);
    if (pr == NULL)
        return CQLMQ_EBUSY;
    memcpy(pr->handle, pe->handle, GW_HANDLE_LEN);
    pr->has_handle = true;
    pr->host = h;
    pr->deadline = gw_now_ms() + c->cfg.prepare_timeout_ms;
    cql_wr_t body;
    cql_wr_init(&body);
    cql_wr_long_string(&body, pe->query, pe->q_len);
    int rc = cql_wr_error(&body);
    if (rc == 0)
        rc = gwc_send_req(c, choose_conn(c, h, &w), pr, CQL_OP_PREPARE, body.data, body.len,
                              w.ks, w.ks_len, false);
    cql_wr_close(&body);
    if (rc != 0) {
        gwc_reqs_free(c, pr);
        return CQLMQ_EBUSY;
    }
    gw_pstmt_set_preparing(pe, (unsigned)h, true);
    c->st.prepares++;
    return 0;
}

static void route(cluster_t *c, req_t *r);

/* Parks r until pe is prepared on host h (one PREPARE for all waiters). */
static void park_for(cluster_t *c, req_t *r, gw_pstmt_t *pe, int h)
{
    int rc = gw_pstmt_wait(pe, r->rid, (uint16_t)h);
    if (rc != 0) {
        gwc_exec_fail(c, r, rc, NULL);
        return;
    }
    memcpy(r->park_handle, pe->handle, GW_HANDLE_LEN);
    gwc_req_park(c, r);
    r->want_host = h;
    if (!gw_pstmt_preparing(pe, (unsigned)h) && (rc = start_prepare(c, pe, h)) != 0)
        gwc_exec_fail(c, r, rc, NULL); /* unparks and drops the waiter */
}

/* ---- routing ---- */

static bool needs_ks(const req_t *r)
{
    return r->ex.op != CQL_OP_EXECUTE && MPK_HAS(&r->ex, gw_exec, keyspace) &&
           r->ex.keyspace.len > 0;
}

static void route(cluster_t *c, req_t *r)
{
    while (r->redispatch <= REDISPATCH_MAX) {
        if (r->deadline <= gw_now_ms()) {
            gwc_exec_fail(c, r, CQLMQ_ETIMEOUT, "deadline passed before the request could be sent");
            return;
        }
        want_t w = {c, needs_ks(r) ? r->ex.keyspace.ptr : NULL,
                    needs_ks(r) ? r->ex.keyspace.len : 0, r, false};
        int h = choose_host(c, &w, r->want_host);
        if (h < 0) {
            if (r->ntried > 0 && (r->err_status != 0 || r->err_body != NULL))
                reply_saved(c, r);
            else
                gwc_exec_fail(c, r, no_route_status(c), NULL);
            return;
        }
        gw_pstmt_t *missing = NULL;
        int rc = 0;
        if (r->ex.op == CQL_OP_EXECUTE) {
            gw_pstmt_t *pe = gw_pcache_get(&c->pcache, r->handle, GW_HANDLE_LEN);
            if (pe == NULL || pe->id == NULL)
                rc = CQLMQ_EUNPREPARED;
            else if (!gw_pstmt_on(pe, (unsigned)h))
                missing = pe;
        } else if (r->ex.op == CQL_OP_BATCH) {
            uint32_t n;
            rc = batch_scan(c, &r->ex, h, &n, &missing);
        }
        if (rc != 0) {
            gwc_exec_fail(c, r, rc, rc == CQLMQ_EUNPREPARED
                                    ? "unknown gateway handle (evicted or never prepared): "
                                      "prepare the statement again"
                                    : "malformed exec");
            return;
        }
        if (missing != NULL) {
            park_for(c, r, missing, h);
            return;
        }
        pconn_t *pc = choose_conn(c, h, &w);
        cql_wr_t body;
        cql_wr_init(&body);
        rc = encode_body(c, r, &body);
        if (rc == 0) {
            r->host = h;
            rc = gwc_send_req(c, pc, r, (uint8_t)r->ex.op, body.data, body.len, w.ks,
                                  w.ks_len, true);
        }
        cql_wr_close(&body);
        if (rc == 0) {
            c->hs[h].requests++;
            r->want_host = -1;
            if (!tried(r, h) && r->ntried < GW_TRIED_MAX)
                r->tried[r->ntried++] = (uint8_t)h;
            return;
        }
        if (rc != CQLMQ_ENOACTOR) {
            gwc_exec_fail(c, r, rc == CQLMQ_EMAILBOXFULL ? CQLMQ_EBUSY : rc,
                      rc == CQLMQ_EINVAL ? "malformed values or statements" : NULL);
            return;
        }
        /* The connection actor is gone (its CLOSED is on the way): skip it. */
        pc->state = PC_CONNECTING;
        r->redispatch++;
    }
    gwc_exec_fail(c, r, CQLMQ_EBUSY, NULL);
}

/* ---- accepting ---- */

static void reject(cluster_t *c, const rt_msg_t *msg, int status, const char *message)
{
    (void)gw_reply_status(c->self, msg->from, msg->corr, status, message, NULL, 0);
    c->st.replies++;
    if (status == CQLMQ_EBUSY)
        c->st.busy++;
    else if (status == CQLMQ_ENOHOST)
        c->st.no_host++;
    else if (status == CQLMQ_ETIMEOUT)
        c->st.timeouts++;
    else
        c->st.errors++;
}

/* Parks a PREPARE requester on pe until its first PREPARE completes (the
 * waiters for GW_HOST_ANY are answered `prepared` by prepare_outcome),
 * sending that PREPARE unless one is in flight. created: pe was made for
 * this request (removed again if nothing can wait on it). */
static void park_first_prepare(cluster_t *c, const rt_msg_t *msg, uint64_t deadline,
                               gw_pstmt_t *pe, bool created)
{
    req_t *r = gwc_reqs_new(c, GW_KIND_USER);
    if (r == NULL || gw_pstmt_wait(pe, r->rid, GW_HOST_ANY) != 0) {
        if (r != NULL)
            gwc_reqs_free(c, r);
        if (created)
            gw_pcache_remove(&c->pcache, pe);
        reject(c, msg, CQLMQ_EBUSY, NULL);
        return;
    }
    r->from = msg->from;
    r->corr = msg->corr;
    r->deadline = deadline;
    r->ex.op = CQL_OP_PREPARE;
    memcpy(r->park_handle, pe->handle, GW_HANDLE_LEN);
    gwc_req_park(c, r);
    int rc;
    if (pe->npreparing == 0 && (rc = start_prepare(c, pe, -1)) != 0) {
        uint64_t rid;
        while (gw_pstmt_pop_waiter(pe, GW_HOST_ANY, &rid)) {
            req_t *q = gwc_reqs_get(c, rid);
            if (q != NULL) {
                gwc_req_unpark(c, q);
                gwc_exec_fail(c, q, rc, NULL);
            }
        }
        if (pe->nwait == 0 && pe->id == NULL)
            gw_pcache_remove(&c->pcache, pe);
    }
}

static void accept_prepare(cluster_t *c, const rt_msg_t *msg, const gw_exec_t *ex)
{
    const char *ks = MPK_HAS(ex, gw_exec, keyspace) ? ex->keyspace.ptr : NULL;
    size_t ks_len = ks ? ex->keyspace.len : 0;
    gw_pstmt_t *pe;
    bool created;
    int rc = gw_pcache_acquire(&c->pcache, ks, ks_len, ex->query.ptr, ex->query.len, &pe,
                               &created);
    if (rc != 0) {
        reject(c, msg, rc == CQLMQ_ELIMIT ? CQLMQ_EBUSY : rc, NULL);
        return;
    }
    if (pe->id != NULL) { /* the shared cache: no round trip */
        reply_prepared(c, msg->from, msg->corr, pe, NULL);
        return;
    }
    park_first_prepare(c, msg, ex->deadline_ms, pe, created);
}

/* PREPARE by handle (no query): the cached Prepared RESULT of a statement
 * any requester prepared, so that a session which did not prepare it can
 * bind values for it. Answered from the cache without a round trip; an
 * entry whose first PREPARE is in flight (or failed transiently) waits
 * for it like a PREPARE by text; an unknown or evicted handle is
 * `unprepared` (its text left with the entry: the client prepares again,
 * which makes the same handle valid again). */
static void accept_describe(cluster_t *c, const rt_msg_t *msg, const gw_exec_t *ex)
{
    gw_pstmt_t *pe = gw_pcache_get(&c->pcache, ex->handle.ptr, ex->handle.len);
    if (pe == NULL) {
        reject(c, msg, CQLMQ_EUNPREPARED,
               "unknown gateway handle (evicted or never prepared): prepare the statement again");
        return;
    }
    if (pe->id != NULL) {
        reply_prepared(c, msg->from, msg->corr, pe, NULL);
        return;
    }
    park_first_prepare(c, msg, ex->deadline_ms, pe, false);
}

void gwc_exec_on_request(cluster_t *c, const rt_msg_t *msg)
{
    if (!(msg->flags & RT_F_REQUEST) || msg->from == RT_ADDR_NONE)
        return; /* nobody to answer: not an exec we can accept */
    c->st.requests++;
    /* The payload is kept for retries: copied once, decoded once, from the
     * copy (ex borrows it; it becomes r->payload or is freed). */
    uint8_t *copy = malloc(msg->len ? msg->len : 1);
    if (copy == NULL) {
        reject(c, msg, CQLMQ_EBUSY, NULL);
        return;
    }
    memcpy(copy, msg->data, msg->len);
    gw_exec_t ex;
    mpk_rd_t rd;
    mpk_rd_init(&rd, copy, msg->len);
    if (gw_exec_decode(&rd, &ex) != 0) {
        free(copy);
        reject(c, msg, CQLMQ_EINVAL, "malformed exec");
        return;
    }
    bool ok = (ex.op == CQL_OP_QUERY && MPK_HAS(&ex, gw_exec, query)) ||
              (ex.op == CQL_OP_PREPARE &&
               (MPK_HAS(&ex, gw_exec, query) || MPK_HAS(&ex, gw_exec, handle))) ||
              (ex.op == CQL_OP_EXECUTE && MPK_HAS(&ex, gw_exec, handle)) ||
              (ex.op == CQL_OP_BATCH && MPK_HAS(&ex, gw_exec, stmts));
    if (!ok || (MPK_HAS(&ex, gw_exec, keyspace) && ex.keyspace.len > GW_KS_NAME)) {
        free(copy);
        reject(c, msg, CQLMQ_EINVAL, "exec: missing or invalid fields for its op");
        return;
    }
    if (c->user_live >= c->cfg.max_in_flight) {
        free(copy);
        reject(c, msg, CQLMQ_EBUSY, "the gateway's in-flight bound is reached");
        return;
    }
    if (ex.deadline_ms <= gw_now_ms()) {
        free(copy);
        reject(c, msg, CQLMQ_ETIMEOUT, "deadline passed on arrival");
        return;
    }
    if (ex.op == CQL_OP_PREPARE) {
        if (MPK_HAS(&ex, gw_exec, query))
            accept_prepare(c, msg, &ex);
        else
            accept_describe(c, msg, &ex);
        free(copy);
        return;
    }
    if (ex.op == CQL_OP_EXECUTE && gw_pcache_get(&c->pcache, ex.handle.ptr, ex.handle.len) == NULL) {
        free(copy);
        reject(c, msg, CQLMQ_EUNPREPARED,
               "unknown gateway handle (evicted or never prepared): prepare the statement again");
        return;
    }
    req_t *r = gwc_reqs_new(c, GW_KIND_USER);
    if (r == NULL) {
        free(copy);
        reject(c, msg, CQLMQ_EBUSY, NULL);
        return;
    }
    r->payload = copy;
    r->len = msg->len;
    r->from = msg->from;
    r->corr = msg->corr;
    r->ex = ex; /* its slices point into copy, now r->payload */
    r->deadline = r->ex.deadline_ms;
    if (r->ex.op == CQL_OP_EXECUTE) {
        memcpy(r->handle, r->ex.handle.ptr, GW_HANDLE_LEN);
        r->has_handle = true;
    }
    route(c, r);
}

/* ---- outcomes ---- */

static bool retryable(int32_t code)
{
    return code == CQL_ERR_OVERLOADED || code == CQL_ERR_IS_BOOTSTRAPPING ||
           code == CQL_ERR_UNAVAILABLE || code == CQL_ERR_READ_TIMEOUT;
}

static bool may_retry(const cluster_t *c, const req_t *r)
{
    return MPK_HAS(&r->ex, gw_exec, idempotent) && r->ex.idempotent &&
           r->attempts <= c->cfg.max_retries && r->deadline > gw_now_ms();
}

static void save_error(req_t *r, int status, int version, uint8_t flags, const uint8_t *body,
                       size_t len)
{
    free(r->err_body);
    r->err_body = NULL;
    r->err_status = status;
    if (body != NULL && (r->err_body = malloc(len ? len : 1)) != NULL) {
        memcpy(r->err_body, body, len);
        r->err_len = len;
        r->err_version = (uint8_t)version;
        r->err_flags = flags;
    }
}

/* Forgets that host h has the statements r executes (UNPREPARED). */
static void forget_on(cluster_t *c, req_t *r, int h)
{
    if (r->ex.op == CQL_OP_EXECUTE) {
        gw_pstmt_t *pe = gw_pcache_get(&c->pcache, r->handle, GW_HANDLE_LEN);
        if (pe != NULL)
            gw_pstmt_set_on(pe, (unsigned)h, false);
        return;
    }
    mpk_rd_t rd;
    uint32_t n;
    mpk_rd_init(&rd, r->ex.stmts.ptr, r->ex.stmts.len);
    if (mpk_rd_array(&rd, &n) != 0)
        return;
    for (uint32_t i = 0; i < n; i++) {
        bstmt_t s;
        if (next_stmt(&rd, &s) != 0)
            return;
        gw_pstmt_t *pe = s.is_handle ? gw_pcache_get(&c->pcache, s.handle.ptr, s.handle.len)
                                     : NULL;
        if (pe != NULL)
            gw_pstmt_set_on(pe, (unsigned)h, false);
    }
}

static void prepare_outcome(cluster_t *c, req_t *pr, int status, int opcode, int version,
                            uint8_t flags, const uint8_t *body, size_t len)
{
    gw_pstmt_t *pe = gw_pcache_get(&c->pcache, pr->handle, GW_HANDLE_LEN);
    int h = pr->host;
    gwc_reqs_free(c, pr);
    if (pe == NULL)
        return;
    gw_pstmt_set_preparing(pe, (unsigned)h, false);
    uint64_t rid;
    req_t *r;
    if (status == 0 && opcode == CQL_OP_RESULT) {
        cql_arena_t arena;
        cql_msg_t m;
        cql_arena_init(&arena, 8 * len + 4096);
        int rc = cql_msg_decode(version, CQL_OP_RESULT, flags, body, len, &arena, &m);
        if ((rc == 0 || rc == CQLMQ_ETRAILING) && m.u.result.kind == CQL_RESULT_PREPARED) {
            cql_bytes_t id = m.u.result.u.prepared.id;
            status = gw_pstmt_prepared(pe, (unsigned)h, id.ptr, (uint16_t)id.len, body, len,
                                       (uint8_t)version, flags);
        } else {
            status = CQLMQ_EMALFORMED;
        }
        cql_arena_close(&arena);
        if (status == 0) {
            while (gw_pstmt_pop_waiter(pe, (uint16_t)h, &rid))
                if ((r = gwc_reqs_get(c, rid)) != NULL) {
                    gwc_req_unpark(c, r);
                    route(c, r);
                }
            while (gw_pstmt_pop_waiter(pe, GW_HOST_ANY, &rid))
                if ((r = gwc_reqs_get(c, rid)) != NULL) {
                    reply_prepared(c, r->from, r->corr, pe, c->hosts->h[h].name);
                    gwc_reqs_free(c, r);
                }
            return;
        }
    }
    if (status == 0 && opcode == CQL_OP_ERROR) {
        /* Cassandra refused the statement: every waiter gets its error. */
        for (int pass = 0; pass < 2; pass++)
            while (gw_pstmt_pop_waiter(pe, pass ? GW_HOST_ANY : (uint16_t)h, &rid))
                if ((r = gwc_reqs_get(c, rid)) != NULL) {
                    gwc_req_unpark(c, r);
                    r->host = h;
                    reply_cql_error(c, r, version, flags, body, len);
                }
    } else {
        /* Transient (connection lost, timeout, not sent): waiters for h
         * route again (nothing was executed); the first prepare's waiters
         * get one more PREPARE elsewhere, within their deadlines. */
        while (gw_pstmt_pop_waiter(pe, (uint16_t)h, &rid))
            if ((r = gwc_reqs_get(c, rid)) != NULL) {
                gwc_req_unpark(c, r);
                r->want_host = -1;
                r->redispatch++;
                route(c, r);
            }
        bool again = pe->id == NULL && pe->nwait > 0 && pe->npreparing == 0;
        for (uint32_t i = 0; again && i < pe->nwait; i++)
            if ((r = gwc_reqs_get(c, pe->waiters[i].rid)) != NULL && ++r->redispatch > 3)
                again = false;
        int rc = again ? start_prepare(c, pe, -1) : status;
        if (rc != 0 || !again)
            while (gw_pstmt_pop_waiter(pe, GW_HOST_ANY, &rid))
                if ((r = gwc_reqs_get(c, rid)) != NULL) {
                    gwc_req_unpark(c, r);
                    gwc_exec_fail(c, r, rc ? rc : CQLMQ_ECLOSED, NULL);
                }
    }
    if (pe->id == NULL && pe->nwait == 0 && pe->npreparing == 0)
        gw_pcache_remove(&c->pcache, pe);
}

void gwc_exec_outcome(cluster_t *c, req_t *r, int status, int opcode, int version, uint8_t flags,
                  const uint8_t *body, size_t len)
{
    if (r->kind == GW_KIND_PREPARE) {
        prepare_outcome(c, r, status, opcode, version, flags, body, len);
        return;
    }
    if (status == 0 && opcode == CQL_OP_RESULT) { /* the direct reply could not be made */
        gw_result_t res;
        memset(&res, 0, sizeof res);
        res.version = (uint32_t)version;
        res.flags = flags;
        res.body = (mpk_bin_t){body, (uint32_t)len};
        res.present = (uint64_t)1 << gw_result_F_version | (uint64_t)1 << gw_result_F_flags |
                      (uint64_t)1 << gw_result_F_body;
        (void)gw_reply_send(c->self, r->from, r->corr, &res);
        c->st.replies++;
        gwc_reqs_free(c, r);
        return;
    }
    if (status == 0 && opcode == CQL_OP_ERROR) {
        int32_t code = gw_error_code_of(version, flags, body, len);
        if (code == CQL_ERR_UNPREPARED && !r->reprepared &&
            (r->ex.op == CQL_OP_EXECUTE || r->ex.op == CQL_OP_BATCH) && r->host >= 0) {
            /* The node forgot the statement: prepare it there, run again. */
            r->reprepared = true;
            c->st.reprepares++;
            forget_on(c, r, r->host);
            r->want_host = r->host;
            route(c, r);
            return;
        }
        if (retryable(code) && may_retry(c, r)) {
            save_error(r, CQLMQ_ESERVER, version, flags, body, len);
            c->st.retries++;
            route(c, r);
            return;
        }
        reply_cql_error(c, r, version, flags, body, len);
        return;
    }
    switch (status) {
    case CQLMQ_ECLOSED:
        if (may_retry(c, r)) {
            save_error(r, CQLMQ_ECLOSED, 0, 0, NULL, 0);
            c->st.retries++;
            route(c, r);
            return;
        }
        gwc_exec_fail(c, r, CQLMQ_ECLOSED,
                  "connection closed before a response; the request may have been executed");
        return;
    case CQLMQ_ETIMEOUT:
        gwc_exec_fail(c, r, CQLMQ_ETIMEOUT, "deadline passed while waiting for Cassandra");
        return;
    case CQLMQ_EBUSY:
    case CQLMQ_ESTATE:
    case CQLMQ_EMAILBOXFULL:
        r->redispatch++; /* not sent: try another connection */
        route(c, r);
        return;
    default:
        gwc_exec_fail(c, r, status, NULL);
        return;
    }
}

void gwc_exec_sweep(cluster_t *c, uint64_t now)
{
    req_t *r = c->parked;
    while (r != NULL) {
        req_t *next = r->pnext;
        if (r->deadline <= now && r->kind == GW_KIND_USER)
            gwc_exec_fail(c, r, CQLMQ_ETIMEOUT, "deadline passed while the statement was prepared");
        r = next;
    }
}
