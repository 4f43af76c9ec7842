/*
 * connection: the actor owning one TCP connection to a Cassandra node
 * (connection.h has the contract; conn_proto.c the handshake).
 *
 * Exactly one terminal outcome per request it accepts: a direct reply to
 * the requester plus DONE{replied}, or DONE with the outcome (ERROR body,
 * ETIMEOUT, ECLOSED, EBUSY, ESTATE). The table of streams is the single
 * place a request lives while on the wire; a request held for a keyspace
 * switch lives on the hold queue; closing walks both.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_int.h"
#include "gw_reply.h"
#include "hosts.h"

/* ---- messages to the owner ---- */

static void send_done(conn_t *c, uint64_t rid, int status, bool replied, int opcode,
                      uint8_t flags, const uint8_t *body, size_t len, const char *ks)
{
    gw_conn_done_t d;
    memset(&d, 0, sizeof d);
    d.rid = rid;
    d.conn = c->o.conn;
    d.status = status;
    d.streams = c->streams.used;
    d.orphans = c->streams.orphans;
    d.present |= (uint64_t)1 << gw_conn_done_F_streams | (uint64_t)1 << gw_conn_done_F_orphans;
    if (replied) {
        d.replied = true;
        MPK_SET(&d, gw_conn_done, replied);
    }
    if (opcode >= 0) {
        d.opcode = (uint32_t)opcode;
        d.version = (uint32_t)c->version;
        d.flags = flags;
        d.body = (mpk_bin_t){body, (uint32_t)len};
        d.present |= (uint64_t)1 << gw_conn_done_F_opcode | (uint64_t)1 << gw_conn_done_F_version |
                     (uint64_t)1 << gw_conn_done_F_flags | (uint64_t)1 << gw_conn_done_F_body;
    }
    if (ks != NULL) {
        d.keyspace = mpk_cstr(ks);
        MPK_SET(&d, gw_conn_done, keyspace);
    }
    (void)RT_SEND(c->self, c->o.owner, GW_MSG_CONN_DONE, gw_conn_done, &d);
}

static void send_state(conn_t *c, uint32_t state)
{
    gw_conn_state_t s;
    memset(&s, 0, sizeof s);
    s.conn = c->o.conn;
    s.state = state;
    if (state == GW_CONN_READY) {
        s.version = (uint32_t)c->version;
        MPK_SET(&s, gw_conn_state, version);
    } else {
        s.reason = c->close_reason;
        s.message = mpk_cstr(c->close_msg);
        s.version = (uint32_t)c->next_version;
        s.present |= (uint64_t)1 << gw_conn_state_F_reason | (uint64_t)1 << gw_conn_state_F_message |
                     (uint64_t)1 << gw_conn_state_F_version;
    }
    (void)RT_SEND(c->self, c->o.owner, GW_MSG_CONN_STATE, gw_conn_state, &s);
}

/* ---- closing ---- */

void gwconn_fail(conn_t *c, int reason, const char *fmt, ...)
{
    if (c->phase == PH_CLOSING || c->tcp == NULL)
        return;
    c->close_reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->close_msg, sizeof c->close_msg, fmt, ap);
    va_end(ap);
    c->phase = PH_CLOSING;
    rt_tcp_close(c->tcp, reason);
}

static void fail_slot(gw_streams_t *s, int id, gw_slot_t *slot, void *ud)
{
    conn_t *c = ud;
    if (slot->state == GW_SLOT_BUSY && slot->kind == GW_SK_REQUEST) {
        uint64_t rid = slot->rid;
        gw_streams_release(s, id);
        send_done(c, rid, CQLMQ_ECLOSED, false, -1, 0, NULL, 0, NULL);
    } else {
        gw_streams_release(s, id);
    }
}

/* Answers everything still held (ECLOSED) and reports CLOSED; once. */
static void finish(conn_t *c)
{
    if (c->finished)
        return;
    c->finished = true;
    if (c->close_reason == 0) {
        c->close_reason = CQLMQ_ECLOSED;
        snprintf(c->close_msg, sizeof c->close_msg, "connection closed");
    }
    gw_streams_each(&c->streams, fail_slot, c);
    while (c->qhead != NULL) {
        qreq_t *q = c->qhead;
        c->qhead = q->next;
        send_done(c, q->slot.rid, CQLMQ_ECLOSED, false, -1, 0, NULL, 0, NULL);
        free(q->body);
        free(q);
    }
    c->qtail = NULL;
    c->ks_inflight = 0;
    send_state(c, GW_CONN_CLOSED);
}

static void on_tcp_close(rt_tcp_t *t, int reason, void *ud)
{
    conn_t *c = ud;
    (void)t;
    c->tcp = NULL;
    if (c->close_reason == 0 && reason != 0) {
        c->close_reason = reason;
        snprintf(c->close_msg, sizeof c->close_msg, "connection to %s lost: %s", c->name,
                 cqlmq_strerror(reason));
    }
    finish(c);
    rt_stop(c->self, c->close_reason);
}

/* ---- ticking ---- */

static void set_tick(conn_t *c, bool fast)
{
    if (c->tick_id != 0 && c->tick_fast == fast)
        return;
    if (c->tick_id != 0)
        (void)rt_timer_cancel(c->self, c->tick_id);
    c->tick_id = 0;
    uint64_t ms = fast ? GW_TICK_FAST_MS : GW_TICK_SLOW_MS;
    if (!fast && c->o.heartbeat_ms && c->o.heartbeat_ms / 4 < ms)
        ms = c->o.heartbeat_ms / 4 ? c->o.heartbeat_ms / 4 : 1;
    if (rt_timer_start(c->self, ms, ms, GW_MSG_CONN_TICK, &c->tick_id) == 0)
        c->tick_fast = fast;
}

static void expire_slot(gw_streams_t *s, int id, gw_slot_t *slot, void *ud)
{
    conn_t *c = ud;
    switch (slot->kind) {
    case GW_SK_REQUEST:
        if (slot->has_ks)
            c->ks_inflight--;
        slot->has_ks = false;
        gw_streams_orphan(s, id); /* the id stays taken until the late response */
        send_done(c, slot->rid, CQLMQ_ETIMEOUT, false, -1, 0, NULL, 0, NULL);
        break;
    case GW_SK_HEARTBEAT:
        gwconn_fail(c, CQLMQ_ETIMEOUT, "heartbeat to %s timed out", c->name);
        break;
    default:
        gwconn_fail(c, CQLMQ_ETIMEOUT, "USE on %s timed out", c->name);
        break;
    }
}

static void expire_held(conn_t *c, uint64_t now)
{
    for (qreq_t **pp = &c->qhead; *pp != NULL;) {
        qreq_t *q = *pp;
        if (q->slot.deadline_ms == 0 || q->slot.deadline_ms > now) {
            pp = &q->next;
            continue;
        }
        *pp = q->next;
        if (c->qtail == q)
            c->qtail = NULL;
        send_done(c, q->slot.rid, CQLMQ_ETIMEOUT, false, -1, 0, NULL, 0, NULL);
        free(q->body);
        free(q);
    }
    if (c->qtail == NULL)
        for (qreq_t *q = c->qhead; q != NULL; q = q->next)
            c->qtail = q;
}

static void on_tick(rt_actor_t *self, const rt_msg_t *msg)
{
    conn_t *c = rt_state(self);
    uint64_t now = gw_now_ms();
    (void)msg;
    if (c->phase == PH_CLOSING)
        return;
    if (c->phase != PH_READY) {
        if (c->phase_deadline_ms && now >= c->phase_deadline_ms)
            gwconn_fail(c, CQLMQ_ETIMEOUT, "handshake with %s timed out", c->name);
        return;
    }
    gw_streams_expired(&c->streams, now, expire_slot, c);
    expire_held(c, now);
    if (c->phase != PH_READY)
        return;
    if (c->streams.orphans > 8 && c->streams.orphans > c->streams.cap / 4) {
        gwconn_fail(c, CQLMQ_ETIMEOUT, "%u requests on %s never answered", c->streams.orphans,
                  c->name);
        return;
    }
    if (c->o.heartbeat_ms && c->hb_stream < 0 && now - c->last_read_ms >= c->o.heartbeat_ms) {
        uint64_t tmo = c->o.heartbeat_timeout_ms ? c->o.heartbeat_timeout_ms : 5000;
        gw_slot_t slot = {.kind = GW_SK_HEARTBEAT, .opcode = CQL_OP_OPTIONS,
                          .deadline_ms = now + tmo};
        int id = gw_streams_take(&c->streams, &slot);
        if (id >= 0) {
            c->hb_stream = id;
            if (gwconn_write_frame(c, (int16_t)id, CQL_OP_OPTIONS, NULL, 0) != 0)
                gwconn_fail(c, CQLMQ_ECLOSED, "write failed");
        }
    }
    set_tick(c, c->streams.used > 0 || c->qhead != NULL);
}

/* ---- sending ---- */

/* Puts a request on the wire. Returns 0 or an error (no DONE sent). */
static int send_now(conn_t *c, const gw_slot_t *slot, const uint8_t *body, size_t len)
{
    int id = gw_streams_take(&c->streams, slot);
    if (id < 0)
        return id;
    int rc = gwconn_write_frame(c, (int16_t)id, slot->opcode, body, len);
    if (rc != 0) {
        gw_streams_release(&c->streams, id);
        return rc;
    }
    if (slot->has_ks)
        c->ks_inflight++;
    set_tick(c, true);
    return 0;
}

static int hold(conn_t *c, const gw_slot_t *slot, const uint8_t *body, size_t len)
{
    qreq_t *q = calloc(1, sizeof *q);
    if (q == NULL || (q->body = malloc(len ? len : 1)) == NULL) {
        free(q);
        return CQLMQ_ENOMEM;
    }
    if (len)
        memcpy(q->body, body, len);
    q->len = len;
    q->slot = *slot;
    if (c->qtail) c->qtail->next = q;
    else c->qhead = q;
    c->qtail = q;
    set_tick(c, true);
    return 0;
}

/* Sends USE "ks" (quotes doubled) on its own stream. */
static int start_switch(conn_t *c, const char *ks, size_t n)
{
    char q[2 * GW_KS_MAX + 8];
    size_t k = 0;
    memcpy(q, "USE \"", 5);
    k = 5;
    for (size_t i = 0; i < n; i++) {
        if (ks[i] == '"')
            q[k++] = '"';
        q[k++] = ks[i];
    }
    q[k++] = '"';
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_QUERY;
    m.u.query.query = (cql_str_t){q, k};
    m.u.query.params.consistency = CQL_CL_ONE;
    cql_wr_t w;
    cql_wr_init(&w);
    int rc = cql_msg_encode(&w, c->version, &m);
    if (rc == 0)
        rc = cql_wr_error(&w);
    gw_slot_t slot = {.kind = GW_SK_USE, .opcode = CQL_OP_QUERY,
                      .deadline_ms = gw_now_ms() + (c->o.heartbeat_timeout_ms
                                                        ? c->o.heartbeat_timeout_ms : 5000)};
    if (rc == 0)
        rc = send_now(c, &slot, w.data, w.len);
    cql_wr_close(&w);
    if (rc == 0) {
        memcpy(c->ks_pending, ks, n);
        c->ks_pending[n] = '\0';
        c->switching = true;
    }
    return rc;
}

static bool ks_is(const char *have, mpk_str_t want)
{
    return strlen(have) == want.len && memcmp(have, want.ptr, want.len) == 0;
}

static void on_req(rt_actor_t *self, const rt_msg_t *msg)
{
    conn_t *c = rt_state(self);
    gw_conn_req_t r;
    mpk_rd_t rd;
    mpk_rd_init(&rd, msg->data, msg->len);
    if (gw_conn_req_decode(&rd, &r) != 0)
        return; /* only the owner sends these; nothing to answer to */
    if (c->phase != PH_READY) {
        send_done(c, r.rid, CQLMQ_ESTATE, false, -1, 0, NULL, 0, NULL);
        return;
    }
    if (r.deadline_ms && r.deadline_ms <= gw_now_ms()) {
        send_done(c, r.rid, CQLMQ_ETIMEOUT, false, -1, 0, NULL, 0, NULL);
        return;
    }
    bool has_ks = MPK_HAS(&r, gw_conn_req, keyspace) && r.keyspace.len > 0;
    gw_slot_t slot = {.kind = GW_SK_REQUEST, .opcode = (uint8_t)r.opcode, .has_ks = has_ks,
                      .rid = r.rid, .deadline_ms = r.deadline_ms,
                      .reply_to = MPK_HAS(&r, gw_conn_req, reply_to) ? r.reply_to : 0,
                      .reply_corr = r.reply_corr, .attempts = r.attempts};
    int rc;
    if (!has_ks) {
        rc = send_now(c, &slot, r.body.ptr, r.body.len);
    } else if (r.keyspace.len > GW_KS_MAX) {
        rc = CQLMQ_EINVAL;
    } else if (c->switching) {
        rc = ks_is(c->ks_pending, r.keyspace) ? hold(c, &slot, r.body.ptr, r.body.len)
                                              : CQLMQ_EBUSY;
    } else if (ks_is(c->keyspace, r.keyspace)) {
        rc = send_now(c, &slot, r.body.ptr, r.body.len);
    } else if (c->ks_inflight > 0) {
        rc = CQLMQ_EBUSY; /* requests of the current keyspace still run */
    } else {
        rc = start_switch(c, r.keyspace.ptr, r.keyspace.len);
        if (rc == 0)
            rc = hold(c, &slot, r.body.ptr, r.body.len);
    }
    if (rc != 0)
        send_done(c, r.rid, rc, false, -1, 0, NULL, 0, NULL);
}

/* ---- receiving ---- */

static void switch_done(conn_t *c, const cql_frame_header_t *h, const uint8_t *body)
{
    char ks[GW_KS_MAX + 1];
    c->switching = false;
    if (h->opcode == CQL_OP_RESULT && gwconn_result_keyspace(c->version, h->flags, body,
                                                           h->length, ks)) {
        snprintf(c->keyspace, sizeof c->keyspace, "%s", ks);
        while (c->qhead != NULL && !c->switching) {
            qreq_t *q = c->qhead;
            c->qhead = q->next;
            int rc = send_now(c, &q->slot, q->body, q->len);
            if (rc != 0)
                send_done(c, q->slot.rid, rc, false, -1, 0, NULL, 0, NULL);
            free(q->body);
            free(q);
        }
        c->qtail = NULL;
        return;
    }
    /* USE failed (no such keyspace, ...): the held requests get its error. */
    c->keyspace[0] = '\0';
    while (c->qhead != NULL) {
        qreq_t *q = c->qhead;
        c->qhead = q->next;
        if (h->opcode == CQL_OP_ERROR)
            send_done(c, q->slot.rid, 0, false, CQL_OP_ERROR, h->flags, body, h->length, NULL);
        else
            send_done(c, q->slot.rid, CQLMQ_EMALFORMED, false, -1, 0, NULL, 0, NULL);
        free(q->body);
        free(q);
    }
    c->qtail = NULL;
}

static void response(conn_t *c, const cql_frame_header_t *h, const uint8_t *body)
{
    gw_slot_t *sp = gw_streams_get(&c->streams, h->stream);
    if (sp == NULL)
        return; /* a stream we did not use: ignored, as drivers do */
    gw_slot_t slot = *sp;
    gw_streams_release(&c->streams, h->stream);
    if (slot.state == GW_SLOT_ORPHAN) {
        /* The late answer of a timed-out request frees its id; tell the
         * owner the new counts. */
        send_done(c, 0, 0, false, -1, 0, NULL, 0, NULL);
        return;
    }
    if (slot.kind == GW_SK_HEARTBEAT) {
        c->hb_stream = -1;
        return;
    }
    if (slot.kind == GW_SK_USE) {
        switch_done(c, h, body);
        return;
    }
    if (slot.has_ks)
        c->ks_inflight--;
    char ks[GW_KS_MAX + 1];
    bool ks_changed = h->opcode == CQL_OP_RESULT &&
                      gwconn_result_keyspace(c->version, h->flags, body, h->length, ks);
    if (ks_changed)
        snprintf(c->keyspace, sizeof c->keyspace, "%s", ks);
    if (h->opcode == CQL_OP_RESULT && slot.reply_to != 0) {
        gw_result_t res;
        memset(&res, 0, sizeof res);
        res.version = (uint32_t)c->version;
        res.flags = h->flags;
        res.body = (mpk_bin_t){body, h->length};
        res.host = mpk_cstr(c->name);
        res.attempts = slot.attempts ? slot.attempts : 1;
        res.present = (uint64_t)1 << gw_result_F_version | (uint64_t)1 << gw_result_F_flags |
                      (uint64_t)1 << gw_result_F_body | (uint64_t)1 << gw_result_F_host |
                      (uint64_t)1 << gw_result_F_attempts;
        int rc = gw_reply_send(c->self, slot.reply_to, slot.reply_corr, &res);
        if (rc == 0 || rc == CQLMQ_ENOACTOR) { /* a requester that is gone is answered too */
            send_done(c, slot.rid, 0, true, -1, 0, NULL, 0, ks_changed ? ks : NULL);
            return;
        }
        /* The reply could not be queued (mailbox full, too big): let the
         * owner answer with the error. */
        send_done(c, slot.rid, rc, false, -1, 0, NULL, 0, ks_changed ? ks : NULL);
        return;
    }
    send_done(c, slot.rid, 0, false, h->opcode, h->flags, body, h->length,
              ks_changed ? ks : NULL);
}

static void frame(conn_t *c, const cql_frame_header_t *h, const uint8_t *body)
{
    c->last_read_ms = gw_now_ms();
    if (h->flags & CQL_FLAG_COMPRESSION) {
        gwconn_fail(c, CQLMQ_EUNSUPPORTED, "compressed frame from %s (never negotiated)", c->name);
        return;
    }
    if (c->phase != PH_READY) {
        gwconn_handshake_frame(c, h, body);
        return;
    }
    if (h->version != c->version) {
        gwconn_fail(c, CQLMQ_EBADVERSION, "frame of version %d on a v%d connection", h->version,
                  c->version);
        return;
    }
    if (h->stream == -1) {
        if (h->opcode == CQL_OP_EVENT) {
            gw_conn_event_t e = {.conn = c->o.conn, .version = (uint32_t)c->version,
                                 .body = {body, h->length}};
            (void)RT_SEND(c->self, c->o.owner, GW_MSG_CONN_EVENT, gw_conn_event, &e);
        }
        return;
    }
    response(c, h, body);
}

static long on_data(rt_tcp_t *t, const uint8_t *p, size_t n, void *ud)
{
    conn_t *c = ud;
    size_t off = 0;
    size_t max = c->o.max_frame ? c->o.max_frame : ((size_t)256 << 20);
    (void)t;
    while (n - off >= CQL_HEADER_SIZE && c->phase != PH_CLOSING) {
        cql_frame_header_t h;
        int rc = cql_frame_header_decode(p + off, n - off, &h);
        if (rc != 0)
            return rc == CQLMQ_ETRUNCATED ? (long)off : rc;
        if (!h.response)
            return CQLMQ_EMALFORMED;
        if (h.length > max - CQL_HEADER_SIZE)
            return CQLMQ_ETOOBIG;
        if (n - off < CQL_HEADER_SIZE + (size_t)h.length)
            break; /* the rest of the body comes later; rt_tcp keeps it */
        frame(c, &h, p + off + CQL_HEADER_SIZE);
        off += CQL_HEADER_SIZE + h.length;
    }
    return (long)off;
}

static void on_connect(rt_tcp_t *t, int status, void *ud)
{
    conn_t *c = ud;
    (void)t;
    if (status != 0) {
        c->close_reason = status;
        snprintf(c->close_msg, sizeof c->close_msg, "cannot connect to %s: %s", c->name,
                 cqlmq_strerror(status));
        return; /* on_close follows */
    }
    c->last_read_ms = gw_now_ms();
    gwconn_handshake_start(c);
}

void gwconn_ready(conn_t *c)
{
    c->phase = PH_READY;
    c->phase_deadline_ms = 0;
    send_state(c, GW_CONN_READY);
    set_tick(c, false);
}

/* ---- the actor ---- */

static const rt_tcp_cbs_t tcp_cbs = {on_connect, on_data, on_tcp_close};

static int conn_init(rt_actor_t *self, void *arg)
{
    const gw_conn_opts_t *o = arg;
    conn_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return CQLMQ_ENOMEM;
    c->self = self;
    c->o = *o;
    c->version = o->version >= CQL_VERSION_MIN && o->version <= CQL_VERSION_MAX ? o->version
                                                                                : CQL_VERSION_MAX;
    c->hb_stream = -1;
    gw_addr_format((const struct sockaddr *)&o->addr, c->name, sizeof c->name);
    int rc = gw_streams_init(&c->streams, o->max_streams ? o->max_streams : 1024);
    if (rc != 0) {
        free(c);
        return rc;
    }
    size_t max = o->max_frame ? o->max_frame : ((size_t)256 << 20);
    rt_tcp_opts_t topts = {.connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms
                                                                       : 5000,
                           .max_input = max + 65536};
    rt_set_state(self, c);
    rc = rt_tcp_connect(rt_actor_loop(self), (const struct sockaddr *)&o->addr, &topts, &tcp_cbs,
                        c, &c->tcp);
    if (rc != 0) {
        gw_streams_close(&c->streams);
        rt_set_state(self, NULL);
        free(c);
        return rc;
    }
    c->phase = PH_CONNECTING;
    c->phase_deadline_ms = gw_now_ms() + topts.connect_timeout_ms +
                           (o->handshake_timeout_ms ? o->handshake_timeout_ms : 5000);
    set_tick(c, true); /* handshake deadlines; slowed down once READY */
    return 0;
}

static void conn_stop(rt_actor_t *self, int reason)
{
    conn_t *c = rt_state(self);
    if (c == NULL)
        return;
    if (c->tcp != NULL) { /* stopped from outside (owner, runtime shutdown) */
        rt_tcp_abandon(c->tcp);
        c->tcp = NULL;
        if (c->close_reason == 0) {
            c->close_reason = reason ? reason : CQLMQ_ECLOSED;
            snprintf(c->close_msg, sizeof c->close_msg, "connection to %s stopped", c->name);
        }
    }
    finish(c);
    gw_streams_close(&c->streams);
    free(c);
    rt_set_state(self, NULL);
}

static const rt_handler_cb handlers[GW_MSG_LIMIT_] = {
    [GW_MSG_CONN_REQ] = on_req,
    [GW_MSG_CONN_TICK] = on_tick,
};

const rt_actor_def_t gw_conn_def = {
    .name = "gw_connection",
    .handlers = handlers,
    .nhandlers = GW_MSG_LIMIT_,
    .init = conn_init,
    .stop = conn_stop,
};
