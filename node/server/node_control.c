/*
 * node_control: the fault-control ZeroMQ ROUTER socket, polled by the
 * cluster's libuv loop.
 *
 * ZMQ_FD is edge-triggered and signals any state change, so after every
 * wake-up the socket is drained while ZMQ_EVENTS reports POLLIN (reading
 * ZMQ_EVENTS also processes pending commands; it is re-read after each send
 * too). Control traffic is small and test-driven, so the drain is not
 * bounded: a bounded batch with uv_poll alone can stall (see
 * zeromq-libuv-msgpack-notes.md section 6).
 *
 * Messages: [routing id][optional empty delimiter][payload]. At most
 * MAX_PARTS parts are kept; the payload is the last part; the reply goes
 * back with the same envelope. ROUTER_MANDATORY plus ZMQ_DONTWAIT on every
 * send: a reply to a peer that left is dropped, never blocking the loop.
 * MAXMSGSIZE bounds each part (an oversize part disconnects its sender, a
 * ZeroMQ behaviour).
 *
 * Closing: uv_close the poll handle first, zmq_close in its close callback
 * (a closed polled fd could otherwise alias another), then terminate the
 * context (LINGER 0, so it does not block).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "node_ctl.h"
#include "node_internal.h"

#define MAX_PARTS 4

struct node_control {
    node_cluster_t *cluster;
    void *ctx;        /* owned ZeroMQ context */
    void *sock;       /* ROUTER */
    uv_poll_t poll;   /* on ZMQ_FD; poll.data = this */
    mpk_wr_t reply;   /* reused for every reply */
};

static void on_poll_closed(uv_handle_t *h)
{
    node_control_t *ctl = h->data;
    node_cluster_t *c = ctl->cluster;
    zmq_close(ctl->sock);
    zmq_ctx_term(ctl->ctx);
    mpk_wr_close(&ctl->reply);
    free(ctl);
    c->open_handles--;
}

/* Receives one whole message (all its parts) and answers it. Returns false
 * when nothing could be received. */
static bool serve_one(node_control_t *ctl)
{
    zmq_msg_t parts[MAX_PARTS];
    int n = 0;
    bool more = true, overflow = false;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, ctl->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            if (n == 0)
                return false;
            break; /* cannot happen: parts arrive atomically */
        }
        more = zmq_msg_more(&part);
        if (n < MAX_PARTS) {
            parts[n++] = part;
        } else {
            overflow = true;
            zmq_msg_close(&part);
        }
    }
    mpk_wr_t *w = &ctl->reply;
    if (overflow || n < 2) {
        mpk_wr_reset(w);
        mpk_wr_map(w, 2);
        mpk_wr_cstr(w, "ok");
        mpk_wr_bool(w, false);
        mpk_wr_cstr(w, "error");
        mpk_wr_cstr(w, "control messages are one msgpack map in one frame");
    } else {
        zmq_msg_t *payload = &parts[n - 1];
        node_ctl_handle(ctl->cluster, zmq_msg_data(payload), zmq_msg_size(payload), w);
    }
    /* envelope: every part but the payload (or all parts when too few) */
    int env = n >= 2 ? n - 1 : n;
    bool ok = true;
    for (int i = 0; i < env && ok; i++)
        ok = zmq_msg_send(&parts[i], ctl->sock, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0;
    if (ok) {
        size_t len;
        uint8_t *buf = mpk_wr_release(w, &len);
        zmq_msg_t out;
        if (buf && zmq_msg_init_data(&out, buf, len, mpk_free_cb, NULL) == 0) {
            if (zmq_msg_send(&out, ctl->sock, ZMQ_DONTWAIT) < 0)
                zmq_msg_close(&out);
        } else {
            free(buf);
        }
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close(&parts[i]); /* sent parts are empty: closing is harmless */
    return true;
}

static void drain(node_control_t *ctl)
{
    for (;;) {
        int events = 0;
        size_t len = sizeof events;
        if (zmq_getsockopt(ctl->sock, ZMQ_EVENTS, &events, &len) != 0)
            return;
        if (!(events & ZMQ_POLLIN) || !serve_one(ctl))
            return;
        node_cluster_flush(ctl->cluster); /* events a command raised */
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    (void)status, (void)events;
    drain(p->data);
}

int node_control_open(node_cluster_t *c, const char *endpoint)
{
    node_control_t *ctl = calloc(1, sizeof *ctl);
    if (!ctl)
        return CQLMQ_ENOMEM;
    ctl->cluster = c;
    mpk_wr_init(&ctl->reply);
    ctl->ctx = zmq_ctx_new();
    if (!ctl->ctx)
        goto fail_ctx;
    ctl->sock = zmq_socket(ctl->ctx, ZMQ_ROUTER);
    if (!ctl->sock)
        goto fail_sock;
    int zero = 0, one = 1, hwm = 10000;
    int64_t maxmsg = NODE_CTL_MAX_REQUEST;
    zmq_setsockopt(ctl->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(ctl->sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt(ctl->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(ctl->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(ctl->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_bind(ctl->sock, endpoint) != 0)
        goto fail_bind;
    size_t len = sizeof c->control_endpoint;
    if (zmq_getsockopt(ctl->sock, ZMQ_LAST_ENDPOINT, c->control_endpoint, &len) != 0)
        snprintf(c->control_endpoint, sizeof c->control_endpoint, "%s", endpoint);
    int fd;
    len = sizeof fd;
    if (zmq_getsockopt(ctl->sock, ZMQ_FD, &fd, &len) != 0)
        goto fail_bind;
    if (uv_poll_init(c->loop, &ctl->poll, fd) != 0)
        goto fail_bind;
    ctl->poll.data = ctl;
    c->open_handles++;
    c->control = ctl;
    uv_poll_start(&ctl->poll, UV_READABLE, on_poll);
    drain(ctl);
    return 0;

fail_bind:
    zmq_close(ctl->sock);
fail_sock:
    zmq_ctx_term(ctl->ctx);
fail_ctx:
    mpk_wr_close(&ctl->reply);
    free(ctl);
    c->control_endpoint[0] = '\0';
    return CQLMQ_EZMQ;
}

void node_control_close(node_cluster_t *c)
{
    node_control_t *ctl = c->control;
    if (!ctl)
        return;
    c->control = NULL;
    uv_poll_stop(&ctl->poll);
    uv_close((uv_handle_t *)&ctl->poll, on_poll_closed);
}
