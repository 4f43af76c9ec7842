/*
 * node_conn: one client connection of a simulated node: accepting, reading
 * (bytes -> frames with the streaming decoder), coalesced writing, delayed
 * responses (latency faults) and closing.
 *
 * Reading: every chunk is fed to the frame decoder and all complete frames
 * in it are dispatched before the callback returns, so the single read
 * buffer can be reused and frame bodies never outlive the chunk.
 *
 * Writing: see node_cluster.c (out collects, one uv_write per loop turn).
 * When the output held for a client passes NODE_OUT_HIGH_WATER (a client
 * that pipelines but does not read), reading stops until it drains.
 *
 * Closing: node_conn_close is immediate (faults, node stop, errors).
 * node_conn_close_after_flush is graceful, for protocol errors that end a
 * connection: the error reply is written, the write side shut down, and
 * input discarded until EOF (or NODE_LINGER_MS), so the kernel does not
 * answer unread input with a reset that could destroy the reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_internal.h"

static void on_conn_closed(uv_handle_t *h)
{
    node_conn_t *conn = h->data;
    node_cluster_t *c = conn->host->cluster;
    if (conn->dirty) { /* unlink from the dirty list */
        for (node_conn_t **p = &c->dirty; *p; p = &(*p)->dirty_next)
            if (*p == conn) {
                *p = conn->dirty_next;
                break;
            }
    }
    cql_frame_decoder_close(&conn->dec);
    cql_arena_close(&conn->arena);
    cql_wr_close(&conn->out);
    cql_wr_close(&conn->wbuf);
    free(conn->rbuf);
    free(conn);
    c->open_handles--;
}

static void on_delay_closed(uv_handle_t *h)
{
    node_delay_t *d = h->data;
    d->cluster->open_handles--;
    free(d);
}

static void delay_unlink(node_delay_t *d)
{
    node_conn_t *conn = d->conn;
    if (d->prev)
        d->prev->next = d->next;
    else
        conn->delays = d->next;
    if (d->next)
        d->next->prev = d->prev;
    d->prev = d->next = NULL;
    d->conn = NULL;
}

void node_conn_close(node_conn_t *conn)
{
    if (conn->closing)
        return;
    conn->closing = true;
    if (conn->linked) {
        node_host_t *h = conn->host;
        if (conn->prev)
            conn->prev->next = conn->next;
        else
            h->conns = conn->next;
        if (conn->next)
            conn->next->prev = conn->prev;
        h->nconns--;
        conn->linked = false;
    }
    while (conn->delays) {
        node_delay_t *d = conn->delays;
        delay_unlink(d);
        uv_timer_stop(&d->timer);
        uv_close((uv_handle_t *)&d->timer, on_delay_closed);
    }
    uv_close((uv_handle_t *)&conn->tcp, on_conn_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    node_conn_t *conn = h->data;
    (void)suggested;
    buf->base = conn->rbuf;
    buf->len = NODE_READ_BUF;
}

static size_t pending_out(const node_conn_t *conn)
{
    return conn->out.len + (conn->writing ? conn->wbuf.len : 0);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    node_conn_t *conn = s->data;
    if (nread == 0 || conn->closing)
        return;
    if (nread < 0) {
        node_conn_close(conn);
        return;
    }
    if (conn->close_when_flushed)
        return; /* draining before a graceful close */
    cql_frame_decoder_feed(&conn->dec, buf->base, (size_t)nread);
    for (;;) {
        cql_frame_t f;
        int rc = cql_frame_decoder_next(&conn->dec, &f);
        if (rc == CQLMQ_EAGAIN)
            break;
        if (rc == 0)
            node_dispatch_frame(conn, &f);
        else
            node_proto_bad_frame(conn, rc, &f.h);
        if (conn->closing || conn->close_when_flushed)
            return;
    }
    if (pending_out(conn) > NODE_OUT_HIGH_WATER && !conn->throttled) {
        conn->throttled = true;
        node_conn_update_reading(conn);
    }
}

void node_conn_update_reading(node_conn_t *conn)
{
    if (conn->closing)
        return;
    bool want = conn->close_when_flushed || (!conn->host->paused && !conn->throttled);
    if (want && !conn->reading) {
        if (uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read) == 0)
            conn->reading = true;
        else
            node_conn_close(conn);
    } else if (!want && conn->reading) {
        uv_read_stop((uv_stream_t *)&conn->tcp);
        conn->reading = false;
    }
}

void node_conn_accept(node_host_t *h)
{
    node_cluster_t *c = h->cluster;
    node_conn_t *conn = calloc(1, sizeof *conn);
    char *rbuf = malloc(NODE_READ_BUF);
    if (!conn || !rbuf) {
        /* Without memory the pending connection stays in the backlog. */
        free(conn);
        free(rbuf);
        return;
    }
    conn->rbuf = rbuf;
    conn->host = h;
    conn->id = ++c->next_conn_id;
    conn->close_after = -1;
    cql_frame_decoder_init(&conn->dec, c->cfg.max_frame);
    cql_arena_init(&conn->arena, c->cfg.max_frame * 4 + (1u << 20));
    cql_wr_init(&conn->out);
    cql_wr_init(&conn->wbuf);
    uv_tcp_init(c->loop, &conn->tcp);
    conn->tcp.data = conn;
    c->open_handles++;
    if (uv_accept((uv_stream_t *)h->listener, (uv_stream_t *)&conn->tcp)) {
        node_conn_close(conn);
        return;
    }
    uv_tcp_nodelay(&conn->tcp, 1);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&ss, &len) == 0 &&
        ss.ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
        char ip[INET_ADDRSTRLEN] = "?";
        uv_ip4_name(sin, ip, sizeof ip);
        snprintf(conn->peer, sizeof conn->peer, "%s:%d", ip, ntohs(sin->sin_port));
    }
    conn->next = h->conns;
    if (h->conns)
        h->conns->prev = conn;
    h->conns = conn;
    h->nconns++;
    conn->linked = true;
    node_conn_update_reading(conn);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)req;
    (void)status; /* EOF from the client (or the sweep) finishes the close */
}

static void begin_linger(node_conn_t *conn)
{
    if (conn->lingering)
        return;
    conn->lingering = true;
    if (uv_shutdown(&conn->sreq, (uv_stream_t *)&conn->tcp, on_shutdown))
        node_conn_close(conn);
}

static void on_write(uv_write_t *req, int status)
{
    node_conn_t *conn = req->handle->data;
    conn->writing = false;
    if (conn->closing)
        return;
    if (status < 0) {
        node_conn_close(conn);
        return;
    }
    if (conn->wbuf.cap > (4u << 20)) { /* give a burst's memory back */
        cql_wr_close(&conn->wbuf);
        cql_wr_init(&conn->wbuf);
    } else {
        cql_wr_reset(&conn->wbuf);
    }
    if (conn->throttled && pending_out(conn) < NODE_OUT_HIGH_WATER / 2) {
        conn->throttled = false;
        node_conn_update_reading(conn);
    }
    node_conn_flush(conn);
}

void node_conn_flush(node_conn_t *conn)
{
    if (conn->closing || conn->writing)
        return;
    if (cql_wr_error(&conn->out)) { /* a response could not be built */
        node_conn_close(conn);
        return;
    }
    if (conn->out.len == 0) {
        if (conn->close_when_flushed)
            begin_linger(conn);
        return;
    }
    cql_wr_t tmp = conn->wbuf;
    conn->wbuf = conn->out;
    conn->out = tmp;
    uv_buf_t b = uv_buf_init((char *)conn->wbuf.data, (unsigned)conn->wbuf.len);
    if (uv_write(&conn->wreq, (uv_stream_t *)&conn->tcp, &b, 1, on_write)) {
        node_conn_close(conn);
        return;
    }
    conn->writing = true;
}

void node_conn_close_after_flush(node_conn_t *conn)
{
    if (conn->closing || conn->close_when_flushed)
        return;
    conn->close_when_flushed = true;
    conn->linger_deadline = uv_now(conn->host->cluster->loop) + NODE_LINGER_MS;
    node_conn_update_reading(conn);
    node_cluster_mark_dirty(conn->host->cluster, conn);
}

void node_conn_sweep(node_host_t *h, uint64_t now_ms)
{
    node_conn_t *conn = h->conns;
    while (conn) {
        node_conn_t *next = conn->next;
        if (conn->close_when_flushed && now_ms >= conn->linger_deadline)
            node_conn_close(conn);
        conn = next;
    }
}

static void on_delay(uv_timer_t *t)
{
    node_delay_t *d = t->data;
    node_conn_t *conn = d->conn;
    if (conn) {
        delay_unlink(d);
        if (!conn->closing) {
            cql_wr_raw(&conn->out, (const uint8_t *)(d + 1), d->len);
            node_conn_flush(conn); /* timers run before poll: write now */
        }
    }
    uv_close((uv_handle_t *)&d->timer, on_delay_closed);
}

int node_conn_delay(node_conn_t *conn, const uint8_t *data, size_t len, uint32_t ms)
{
    node_cluster_t *c = conn->host->cluster;
    node_delay_t *d = malloc(sizeof *d + len);
    if (!d) {
        cql_wr_raw(&conn->out, data, len);
        node_cluster_mark_dirty(c, conn);
        return CQLMQ_ENOMEM;
    }
    memset(d, 0, sizeof *d);
    memcpy(d + 1, data, len);
    d->len = len;
    d->cluster = c;
    d->conn = conn;
    uv_timer_init(c->loop, &d->timer);
    d->timer.data = d;
    c->open_handles++;
    d->next = conn->delays;
    if (conn->delays)
        conn->delays->prev = d;
    conn->delays = d;
    uv_timer_start(&d->timer, on_delay, ms, 0);
    return 0;
}
