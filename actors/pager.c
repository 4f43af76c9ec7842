/*
 * pager: one streamed result, paced by the client's credit. See pager.h.
 *
 * State machine (pump() after every event):
 *   held page   emit client pages while sent < granted; free it once empty
 *   no page     fetch the next Cassandra page if one exists, nothing is in
 *               flight and the client has credit; else `done` when the last
 *               page was emitted
 *   no credit   arm the idle timer (lease_ms), disarm when credit comes
 */
#include "pager.h"

#include <stdlib.h>
#include <string.h>

#include "cql_arena.h"
#include "cql_result.h"
#include "session.h"

#define ARENA_LIMIT (64u << 20)

/* Invariants: held => body holds a Rows result decoded into rows/meta (in
 * arena) and `it` walks it; fetching => one exec request is outstanding;
 * sent <= granted except transiently; ended => the terminal reply went out
 * and the actor is stopping. */
typedef struct pager {
    rt_actor_t *self;
    gw_client_t client;
    rt_addr_t session;
    rt_addr_t cluster;
    uint64_t id;
    uint64_t arrival_us;
    gw_exec_t tmpl;          /* slices point into store */
    uint8_t *store;          /* owned copies of tmpl's strings and bins */
    uint32_t timeout_ms;
    uint64_t max_credit, max_page_bytes, lease_ms;
    uint64_t granted;        /* pages granted so far */
    uint64_t sent;           /* pages sent (= next seq) */
    uint64_t rows_sent;
    uint8_t *ps;             /* paging state of the last Cassandra page */
    size_t ps_len;
    bool has_more;           /* another Cassandra page exists */
    bool started;            /* the first fetch was made */
    bool fetching;
    bool held;
    bool cols_sent;
    bool ended;
    uint8_t *body;           /* held Cassandra page (owned) */
    size_t body_len;
    cql_arena_t arena;
    cql_result_rows_t rows;
    cql_rows_iter_t it;
    uint64_t idle_timer;
    bool idle_armed;
} pager_t;

static void pump(pager_t *p);

/* ---- the end ---- */

static mpk_wr_t *end_begin(pager_t *p, uint32_t flags)
{
    uint64_t now = uv_hrtime() / 1000u;
    mpk_wr_t *w = rt_msg_begin(p->self, p->session, GW_MSG_SESSION_END);
    mpk_wr_array(w, 4);
    mpk_wr_uint(w, p->id);
    mpk_wr_uint(w, flags);
    mpk_wr_uint(w, now > p->arrival_us ? now - p->arrival_us : 0);
    return w;
}

static void end_finish(pager_t *p)
{
    (void)rt_msg_end(p->self);
    p->ended = true;
    rt_stop(p->self, 0);
}

static void end_error(pager_t *p, const char *code, const char *message, int32_t cql_code,
                      mpk_raw_t details)
{
    if (p->ended)
        return;
    mpk_wr_t *w = end_begin(p, GW_OUT_ERROR);
    (void)gw_write_error(w, p->id, code, message, cql_code, details);
    end_finish(p);
}

static void end_code(pager_t *p, wire_error_t code, const char *message)
{
    mpk_raw_t none = {NULL, 0};
    end_error(p, wire_error_name(code), message, -1, none);
}

static void end_done(pager_t *p)
{
    if (p->ended)
        return;
    mpk_wr_t *w = end_begin(p, 0);
    (void)wire_reply_done(w, p->id, p->sent, p->rows_sent);
    end_finish(p);
}

/* ---- pages ---- */

static void release_page(pager_t *p)
{
    free(p->body);
    p->body = NULL;
    p->body_len = 0;
    p->held = false;
    cql_arena_reset(&p->arena);
}

/* Sends one client page from the held Cassandra page. Returns 0 or an
 * encoding error (the stream is ended). */
static int emit_page(pager_t *p)
{
    mpk_wr_t *w = gw_front_out_begin(p->self, &p->client, 0, 0);
    wire_rows_reply_t rr;
    memset(&rr, 0, sizeof rr);
    rr.id = p->id;
    rr.seq = p->sent;
    rr.columns = p->cols_sent ? NULL : &p->rows.meta;
    rr.types = &p->rows.meta;
    rr.paging_state.len = CQL_BYTES_NULL;
    if (p->has_more)
        rr.paging_state = (cql_bytes_t){p->ps, (int32_t)p->ps_len};
    rr.cap.max_rows = MPK_HAS(&p->tmpl, gw_exec, page_size) && p->tmpl.page_size > 0
                          ? (uint32_t)p->tmpl.page_size
                          : 0;
    rr.cap.max_bytes = p->max_page_bytes;
    uint32_t n = 0;
    int rc = wire_reply_page(w, &rr, &p->it, &n);
    if (rc != 0) {
        if (w->err == 0)
            w->err = rc; /* abandons the message: rt_msg_end drops it */
        (void)rt_msg_end(p->self);
        end_code(p, WIRE_ERR_INTERNAL, "cannot encode a page of the result");
        return rc;
    }
    rc = rt_msg_end(p->self);
    if (rc != 0) {
        end_code(p, WIRE_ERR_INTERNAL, "cannot hand a page to the front");
        return rc;
    }
    p->sent++;
    p->rows_sent += n;
    p->cols_sent = true;
    return 0;
}

/* ---- fetching ---- */

static void on_fetch(rt_actor_t *self, const rt_msg_t *reply, int err, void *ud);

/* Asks the cluster for the next Cassandra page. Returns 0 or a send error. */
static int fetch_send(pager_t *p)
{
    gw_exec_t ex = p->tmpl;
    ex.deadline_ms = gw_deadline_in(p->timeout_ms);
    if (p->started) {
        MPK_SET(&ex, gw_exec, paging_state);
        ex.paging_state = (mpk_bin_t){p->ps, (uint32_t)p->ps_len};
    }
    (void)gw_exec_encode_compact(rt_request_begin(p->self, p->cluster, GW_MSG_EXEC), &ex);
    int rc = rt_request_end(p->self, gw_request_timeout(&ex), on_fetch, NULL, NULL);
    if (rc != 0)
        return rc;
    p->started = true;
    p->fetching = true;
    return 0;
}

static void fetch(pager_t *p)
{
    int rc = fetch_send(p);
    if (rc != 0)
        end_code(p, WIRE_ERR_BUSY, cqlmq_strerror(rc));
}

static void on_fetch(rt_actor_t *self, const rt_msg_t *reply, int err, void *ud)
{
    pager_t *p = rt_state(self);
    if (err == CQLMQ_ECANCELLED || p == NULL || p->ended)
        return;
    p->fetching = false;
    if (err != 0) {
        end_code(p, err == CQLMQ_ETIMEOUT ? WIRE_ERR_TIMEOUT : WIRE_ERR_NO_HOST,
                 cqlmq_strerror(err));
        return;
    }
    gw_result_t res;
    mpk_rd_t rd;
    mpk_rd_init(&rd, reply->data, reply->len);
    if (gw_result_decode(&rd, &res) != 0) {
        end_code(p, WIRE_ERR_INTERNAL, "undecodable reply from the cluster actor");
        return;
    }
    if (res.status != 0) {
        char code[40] = "internal";
        if (MPK_HAS(&res, gw_result, code) && res.code.len > 0 && res.code.len < sizeof code) {
            memcpy(code, res.code.ptr, res.code.len);
            code[res.code.len] = '\0';
        }
        char msg[512];
        snprintf(msg, sizeof msg, "%.*s",
                 MPK_HAS(&res, gw_result, message) ? (int)res.message.len : 0,
                 MPK_HAS(&res, gw_result, message) ? res.message.ptr : "");
        mpk_raw_t details = {NULL, 0};
        if (MPK_HAS(&res, gw_result, details))
            details = res.details;
        end_error(p, code, msg[0] ? msg : cqlmq_strerror(res.status),
                  MPK_HAS(&res, gw_result, cql_code) ? res.cql_code : -1, details);
        return;
    }
    /* keep the page: decoded once, then cut into client pages */
    p->body = malloc(res.body.len ? res.body.len : 1);
    if (p->body == NULL) {
        end_code(p, WIRE_ERR_INTERNAL, "out of memory");
        return;
    }
    memcpy(p->body, res.body.ptr, res.body.len);
    p->body_len = res.body.len;
    cql_msg_t msg;
    int rc = cql_msg_decode((int)res.version, CQL_OP_RESULT, (uint8_t)res.flags, p->body,
                            p->body_len, &p->arena, &msg);
    if (rc != 0 && rc != CQLMQ_ETRAILING) {
        release_page(p);
        end_code(p, WIRE_ERR_INTERNAL, "undecodable result from Cassandra");
        return;
    }
    if (msg.u.result.kind != CQL_RESULT_ROWS) { /* not a SELECT: nothing to stream */
        release_page(p);
        p->has_more = false;
        pump(p);
        return;
    }
    p->rows = msg.u.result.u.rows;
    free(p->ps);
    p->ps = NULL;
    p->ps_len = 0;
    p->has_more = (p->rows.meta.flags & CQL_MF_HAS_MORE_PAGES) && p->rows.meta.paging_state.len > 0;
    if (p->has_more) {
        p->ps = malloc((size_t)p->rows.meta.paging_state.len);
        if (p->ps == NULL) {
            release_page(p);
            end_code(p, WIRE_ERR_INTERNAL, "out of memory");
            return;
        }
        memcpy(p->ps, p->rows.meta.paging_state.ptr, (size_t)p->rows.meta.paging_state.len);
        p->ps_len = (size_t)p->rows.meta.paging_state.len;
    }
    if (p->rows.meta.cols == NULL) {
        release_page(p);
        end_code(p, WIRE_ERR_INTERNAL, "rows without metadata");
        return;
    }
    cql_rows_iter_init(&p->it, &p->rows);
    p->held = p->rows.nrows > 0;
    if (!p->held)
        release_page(p);
    pump(p);
}

/* ---- the pump ---- */

static void set_idle(pager_t *p, bool on)
{
    if (on && !p->idle_armed) {
        if (rt_timer_start(p->self, p->lease_ms, 0, GW_MSG_PAGER_IDLE, &p->idle_timer) == 0)
            p->idle_armed = true;
    } else if (!on && p->idle_armed) {
        (void)rt_timer_cancel(p->self, p->idle_timer);
        p->idle_armed = false;
    }
}

static void pump(pager_t *p)
{
    while (!p->ended && p->held && p->sent < p->granted) {
        if (emit_page(p) != 0)
            return;
        if (wire_rows_left(&p->it) <= 0)
            release_page(p);
    }
    if (p->ended)
        return;
    if (!p->held && !p->fetching) {
        if (p->started && !p->has_more) {
            end_done(p);
            return;
        }
        if (p->sent < p->granted)
            fetch(p);
    }
    if (!p->ended)
        set_idle(p, p->sent >= p->granted);
}

/* ---- messages ---- */

static void on_credit(rt_actor_t *self, const rt_msg_t *m)
{
    pager_t *p = rt_state(self);
    mpk_rd_t rd;
    uint32_t n;
    uint64_t k = 0;
    mpk_rd_init(&rd, m->data, m->len);
    if (mpk_rd_array(&rd, &n) != 0 || n < 1 || mpk_rd_uint(&rd, &k) != 0)
        return;
    p->granted += k;
    if (p->granted - p->sent > p->max_credit) {
        end_code(p, WIRE_ERR_BAD_REQUEST, "outstanding credit above max_credit");
        return;
    }
    pump(p);
}

static void on_cancel(rt_actor_t *self, const rt_msg_t *m)
{
    pager_t *p = rt_state(self);
    end_code(p, WIRE_ERR_CANCELLED, "cancelled");
}

static void on_idle(rt_actor_t *self, const rt_msg_t *m)
{
    pager_t *p = rt_state(self);
    p->idle_armed = false;
    if (p->sent >= p->granted)
        end_code(p, WIRE_ERR_TIMEOUT, "no credit for lease_ms");
}

/* ---- lifecycle ---- */

/* Copies a slice into the store at *off. */
static const uint8_t *stash(uint8_t *store, size_t *off, const void *ptr, size_t len)
{
    uint8_t *d = store + *off;
    if (len > 0)
        memcpy(d, ptr, len);
    *off += len;
    return d;
}

static int pager_init(rt_actor_t *self, void *arg)
{
    const gw_pager_cfg_t *cfg = arg;
    const gw_exec_t *ex = cfg->exec;
    pager_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return CQLMQ_ENOMEM;
    size_t need = ex->query.len + ex->handle.len + ex->keyspace.len + ex->values.len +
                  ex->paging_state.len + 1;
    p->store = malloc(need);
    if (p->store == NULL) {
        free(p);
        return CQLMQ_ENOMEM;
    }
    p->tmpl = *ex;
    size_t off = 0;
    p->tmpl.query.ptr = (const char *)stash(p->store, &off, ex->query.ptr, ex->query.len);
    p->tmpl.handle.ptr = stash(p->store, &off, ex->handle.ptr, ex->handle.len);
    p->tmpl.keyspace.ptr = (const char *)stash(p->store, &off, ex->keyspace.ptr, ex->keyspace.len);
    p->tmpl.values.ptr = stash(p->store, &off, ex->values.ptr, ex->values.len);
    p->tmpl.paging_state.ptr = stash(p->store, &off, ex->paging_state.ptr, ex->paging_state.len);
    p->tmpl.stmts.ptr = NULL;
    p->tmpl.stmts.len = 0;
    p->self = self;
    p->client = cfg->client;
    p->session = cfg->session;
    p->cluster = cfg->cluster;
    p->id = cfg->id;
    p->arrival_us = cfg->arrival_us;
    p->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 10000;
    p->max_credit = cfg->max_credit;
    p->max_page_bytes = cfg->max_page_bytes;
    p->lease_ms = cfg->lease_ms ? cfg->lease_ms : 60000;
    p->granted = cfg->credit;
    p->has_more = true;
    cql_arena_init(&p->arena, ARENA_LIMIT);
    rt_set_state(self, p);
    if (p->granted > 0) {
        int rc = fetch_send(p);
        if (rc != 0) { /* could not even ask: refuse the spawn */
            rt_set_state(self, NULL);
            cql_arena_close(&p->arena);
            free(p->store);
            free(p);
            return rc;
        }
    } else {
        set_idle(p, true);
    }
    return 0;
}

static void pager_stop(rt_actor_t *self, int reason)
{
    pager_t *p = rt_state(self);
    if (p == NULL)
        return;
    rt_set_state(self, NULL);
    release_page(p);
    cql_arena_close(&p->arena);
    free(p->ps);
    free(p->store);
    free(p);
}

static const rt_handler_cb pager_handlers[GW_CLIENT_MSG_LIMIT_] = {
    [GW_MSG_PAGER_CREDIT] = on_credit,
    [GW_MSG_PAGER_CANCEL] = on_cancel,
    [GW_MSG_PAGER_IDLE] = on_idle,
};

const rt_actor_def_t gw_pager_def = {
    "pager", pager_handlers, GW_CLIENT_MSG_LIMIT_, NULL, NULL, pager_init, pager_stop,
};
