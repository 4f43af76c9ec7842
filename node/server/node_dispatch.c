/*
 * node_dispatch: what happens to one request frame.
 *
 *   1. the first frame fixes the connection's protocol version;
 *   2. a "close after N frames" budget may end the connection here;
 *   3. the body is decoded (into the connection's arena, reset per frame);
 *   4. the request is written to the activity log (with its query text:
 *      EXECUTE shows the prepared text, BATCH its statements);
 *   5. the first matching fault rule may replace the reply (error), drop
 *      it, close the connection, or delay it (latency);
 *   6. OPTIONS / STARTUP / AUTH_RESPONSE / REGISTER go to node_proto,
 *      QUERY / PREPARE / EXECUTE / BATCH to the executor (node_exec), which
 *      appends the body right after the header reserved here.
 *
 * Replies are appended to the connection's output in request order; only a
 * latency fault lets a later request overtake an earlier one.
 */
#include <stdio.h>
#include <string.h>

#include "node_internal.h"

static bool is_query_op(int op)
{
    return op == CQL_OP_QUERY || op == CQL_OP_PREPARE || op == CQL_OP_EXECUTE ||
           op == CQL_OP_BATCH;
}

static cql_str_t prepared_text(node_conn_t *conn, cql_bytes_t id)
{
    node_cluster_t *c = conn->host->cluster;
    const char *q = id.len > 0 ? node_db_prepared_query(c->db, conn->host->index, id.ptr,
                                                        (size_t)id.len)
                               : NULL;
    return (cql_str_t){q, q ? strlen(q) : 0};
}

/* The query texts of m (for the log and fault matching): *out points to
 * one slice or to an array in the arena. Returns how many. */
static size_t request_texts(node_conn_t *conn, const cql_msg_t *m, cql_str_t *one,
                            const cql_str_t **out)
{
    *out = one;
    switch (m->opcode) {
    case CQL_OP_QUERY: *one = m->u.query.query; return 1;
    case CQL_OP_PREPARE: *one = m->u.prepare; return 1;
    case CQL_OP_EXECUTE: *one = prepared_text(conn, m->u.execute.id); return 1;
    case CQL_OP_BATCH: {
        const cql_msg_batch_t *b = &m->u.batch;
        cql_str_t *t = cql_arena_calloc(&conn->arena, b->nstmts ? b->nstmts : 1, sizeof *t);
        if (!t)
            return 0;
        for (uint16_t i = 0; i < b->nstmts; i++)
            t[i] = b->stmts[i].kind == CQL_BATCH_KIND_QUERY ? b->stmts[i].query
                                                            : prepared_text(conn, b->stmts[i].id);
        *out = t;
        return b->nstmts;
    }
    default: return 0;
    }
}

static int request_consistency(const cql_msg_t *m)
{
    switch (m->opcode) {
    case CQL_OP_QUERY: return m->u.query.params.consistency;
    case CQL_OP_EXECUTE: return m->u.execute.params.consistency;
    case CQL_OP_BATCH: return m->u.batch.consistency;
    default: return -1;
    }
}

static void log_request(node_conn_t *conn, const cql_frame_t *f, int cl, const cql_str_t *texts,
                        size_t ntexts)
{
    node_cluster_t *c = conn->host->cluster;
    if (c->log.cap == 0)
        return;
    uv_timeval64_t tv = {0, 0};
    uv_gettimeofday(&tv);
    node_act_entry_t e = {
        .time_us = tv.tv_sec * 1000000 + tv.tv_usec,
        .node = conn->host->index,
        .conn = conn->id,
        .stream = f->h.stream,
        .opcode = f->h.opcode,
        .consistency = cl,
    };
    if (ntexts == 0) {
        node_actlog_append(&c->log, &e, NULL, 0);
    } else if (ntexts == 1 || f->h.opcode != CQL_OP_BATCH) {
        node_actlog_append(&c->log, &e, texts[0].ptr, texts[0].len);
    } else {
        char buf[NODE_ACTLOG_TEXT_MAX];
        size_t n = 0;
        for (size_t i = 0; i < ntexts && n < sizeof buf; i++) {
            int k = snprintf(buf + n, sizeof buf - n, "%s%.*s", i ? "; " : "",
                             (int)texts[i].len, texts[i].ptr ? texts[i].ptr : "");
            if (k < 0)
                break;
            n += (size_t)k;
        }
        node_actlog_append(&c->log, &e, buf, n < sizeof buf ? n : sizeof buf - 1);
    }
}

/* QUERY / PREPARE / EXECUTE / BATCH through the executor, into w. */
static void execute(node_conn_t *conn, cql_wr_t *w, int16_t stream, const cql_msg_t *m)
{
    node_cluster_t *c = conn->host->cluster;
    int v = conn->version;
    if (conn->state != NODE_CONN_READY) {
        node_proto_error(conn, w, v, stream, CQL_ERR_PROTOCOL_ERROR,
                         "Unexpected message %s, expecting %s", cql_opcode_name(m->opcode),
                         conn->state == NODE_CONN_AUTH ? "AUTH_RESPONSE" : "STARTUP");
        return;
    }
    size_t start = w->len;
    size_t fo = cql_frame_begin(w, v, 0, stream, CQL_OP_RESULT);
    int op = CQL_OP_RESULT;
    int rc = cql_wr_error(w);
    if (rc == 0)
        rc = node_exec(c->db, &conn->session, m->opcode, m, w, &op);
    if (rc == 0) {
        w->data[fo + 4] = (uint8_t)op;
        rc = cql_frame_end(w, fo);
    }
    if (rc) {
        w->len = start;
        w->err = 0;
        node_proto_error(conn, w, v, stream, CQL_ERR_SERVER_ERROR, "%s", cqlmq_strerror(rc));
    }
}

static void reply(node_conn_t *conn, cql_wr_t *w, int16_t stream, const cql_msg_t *m)
{
    if (is_query_op(m->opcode))
        execute(conn, w, stream, m);
    else
        node_proto_handshake(conn, w, stream, m);
}

void node_dispatch_frame(node_conn_t *conn, const cql_frame_t *f)
{
    node_cluster_t *c = conn->host->cluster;
    int16_t stream = f->h.stream;
    if (conn->version == 0) {
        conn->version = f->h.version;
        cql_frame_decoder_set_versions(&conn->dec, f->h.version, f->h.version);
    }
    int v = conn->version;
    conn->frames_in++;
    if (conn->close_after == 0) { /* the budget is spent: replies so far still go out */
        node_conn_close_after_flush(conn);
        return;
    }
    if (conn->close_after > 0)
        conn->close_after--;
    node_cluster_mark_dirty(c, conn);
    if (f->h.response) {
        node_proto_error(conn, &conn->out, v, stream, CQL_ERR_PROTOCOL_ERROR,
                         "Unexpected response frame (direction bit set) from a client");
        node_conn_close_after_flush(conn);
        return;
    }

    cql_msg_t m;
    cql_arena_reset(&conn->arena);
    int rc = cql_msg_decode_frame(f, &conn->arena, &m);
    if (rc == CQLMQ_ETRAILING)
        rc = 0; /* lenient, as the spec allows extensions at the end */
    if (rc) {
        log_request(conn, f, -1, NULL, 0);
        const char *nm = cql_opcode_name(f->h.opcode);
        if (rc == CQLMQ_EBADOPCODE)
            node_proto_error(conn, &conn->out, v, stream, CQL_ERR_PROTOCOL_ERROR,
                             "Unknown opcode %d", f->h.opcode);
        else if (rc == CQLMQ_EUNSUPPORTED)
            node_proto_error(conn, &conn->out, v, stream, CQL_ERR_PROTOCOL_ERROR,
                             "Compressed frame but no compression was negotiated");
        else
            node_proto_error(conn, &conn->out, v, stream, CQL_ERR_PROTOCOL_ERROR,
                             "Invalid %s message: %s", nm ? nm : "?", cqlmq_strerror(rc));
        return;
    }

    cql_str_t one = {NULL, 0};
    const cql_str_t *texts = NULL;
    size_t ntexts = request_texts(conn, &m, &one, &texts);
    int cl = request_consistency(&m);
    log_request(conn, f, cl, texts, ntexts);

    node_fault_rule_t *rule =
        node_faults_match(&c->faults, conn->host->index, m.opcode, texts, ntexts);
    if (!rule) {
        reply(conn, &conn->out, stream, &m);
        return;
    }
    switch (rule->action) {
    case NODE_FAULT_CLOSE: node_conn_close(conn); return;
    case NODE_FAULT_DROP: return;
    case NODE_FAULT_ERROR: {
        cql_bytes_t id = {NULL, CQL_BYTES_NULL};
        if (m.opcode == CQL_OP_EXECUTE)
            id = m.u.execute.id;
        if (node_fault_write_error(rule, &conn->out, v, stream, cl, id))
            node_proto_error(conn, &conn->out, v, stream, CQL_ERR_SERVER_ERROR,
                             "fault %u: cannot encode its error", rule->id);
        return;
    }
    case NODE_FAULT_LATENCY:
    default: {
        uint32_t span = rule->max_ms - rule->min_ms;
        uint32_t ms = rule->min_ms + (span ? (uint32_t)(node_cluster_random(c) % (span + 1u)) : 0);
        cql_wr_reset(&c->scratch);
        reply(conn, &c->scratch, stream, &m);
        if (cql_wr_error(&c->scratch)) {
            cql_wr_reset(&c->scratch);
            node_proto_error(conn, &conn->out, v, stream, CQL_ERR_SERVER_ERROR,
                             "out of memory");
            return;
        }
        node_conn_delay(conn, c->scratch.data, c->scratch.len, ms);
        return;
    }
    }
}
