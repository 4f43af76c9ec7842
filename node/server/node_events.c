/*
 * node_events: EVENT pushes (stream -1) to connections that REGISTERed:
 * SCHEMA_CHANGE, STATUS_CHANGE and TOPOLOGY_CHANGE.
 *
 * Events are queued, not written at once: a SCHEMA_CHANGE is raised by the
 * executor while it is appending a response to some connection's output,
 * and an event frame must not land in the middle of that frame. Each event
 * is encoded once per protocol version (v3 and v4 differ, e.g. for
 * FUNCTION targets) into cluster->ev[] and recorded in cluster->evq;
 * node_events_deliver (after each request, and at every flush) copies the
 * frames to every connection that registered for the event's type, and
 * only to the connections of nodes that are up.
 *
 * STATUS_CHANGE of node i goes to the connections of the other nodes (the
 * node's own connections are closed when it stops); the address is
 * 127.0.0.(i+1) with the CQL port, which is how drivers name the host.
 *
 * TOPOLOGY_CHANGE NEW_NODE / REMOVED_NODE of node i also goes to the other
 * nodes' connections (a new node has none yet; a removed node's were closed
 * just before, so the drivers see the EOF first and the event cancels
 * their reconnection attempts), with the same address form. It is queued
 * after the topology changed, so a driver refreshing its peers on the event
 * already sees the new node listed (or the removed one gone).
 *
 * DOWN is sent NODE_DOWN_EVENT_DELAY_MS after the node's sockets closed, as
 * gossip lags a real node's shutdown: the python driver ignores a DOWN
 * event while its pool to that host still looks open (Cluster.on_down), so
 * an event that overtook the connection's EOF would be lost.
 */
#include <stdlib.h>
#include <string.h>

#include "node_internal.h"

/* Encodes m for v3 and v4 and queues it. Without memory the event is lost
 * (drivers also poll the system tables, so they recover). */
static void queue_event(node_cluster_t *c, const cql_msg_t *m, int exclude_node)
{
    if (c->nevq == c->evq_cap) {
        size_t cap = c->evq_cap ? c->evq_cap * 2 : 8;
        node_ev_pending_t *q = realloc(c->evq, cap * sizeof *q);
        if (!q)
            return;
        c->evq = q;
        c->evq_cap = cap;
    }
    node_ev_pending_t *e = &c->evq[c->nevq];
    e->type = m->u.event.type;
    e->exclude_node = exclude_node;
    for (int k = 0; k < 2; k++) {
        cql_wr_t *w = &c->ev[k];
        size_t start = w->len;
        int rc = cql_frame_write(w, 3 + k, -1, m);
        if (rc) {
            w->len = start;
            w->err = 0;
        }
        e->off[k] = start;
        e->len[k] = w->len - start;
    }
    c->nevq++;
}

void node_events_on_schema_change(void *ud, const cql_schema_change_t *ev)
{
    node_cluster_t *c = ud;
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_EVENT;
    m.u.event.type = CQL_EVENT_SCHEMA_CHANGE;
    m.u.event.schema = *ev;
    queue_event(c, &m, -1);
}

static void queue_status(node_cluster_t *c, int i, bool up)
{
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_EVENT;
    m.u.event.type = CQL_EVENT_STATUS_CHANGE;
    m.u.event.change = up ? CQL_STATUS_UP : CQL_STATUS_DOWN;
    m.u.event.addr = node_topo_inet(&c->topo, i);
    queue_event(c, &m, i);
}

void node_events_status(node_cluster_t *c, int i, bool up)
{
    node_host_t *h = &c->hosts[i];
    if (!up) {
        h->down_event_due = uv_now(c->loop) + NODE_DOWN_EVENT_DELAY_MS;
        return;
    }
    if (h->down_event_due) {
        h->down_event_due = 0;
        queue_status(c, i, false);
    }
    queue_status(c, i, true);
}

void node_events_topology(node_cluster_t *c, int i, int change)
{
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_EVENT;
    m.u.event.type = CQL_EVENT_TOPOLOGY_CHANGE;
    m.u.event.change = change;
    m.u.event.addr = node_topo_inet(&c->topo, i);
    queue_event(c, &m, i);
}

void node_events_tick(node_cluster_t *c, uint64_t now_ms)
{
    for (int i = 0; i < NODE_MAX_NODES; i++) {
        node_host_t *h = &c->hosts[i];
        if (h->down_event_due && now_ms >= h->down_event_due) {
            h->down_event_due = 0;
            queue_status(c, i, false);
        }
    }
    node_events_deliver(c);
}

void node_events_deliver(node_cluster_t *c)
{
    if (c->nevq == 0)
        return;
    for (int i = 0; i < NODE_MAX_NODES; i++) {
        node_host_t *h = &c->hosts[i];
        if (!h->up)
            continue;
        for (node_conn_t *conn = h->conns; conn; conn = conn->next) {
            if (!conn->events || conn->closing || conn->close_when_flushed ||
                conn->state != NODE_CONN_READY)
                continue;
            int k = conn->version == 3 ? 0 : 1;
            bool any = false;
            for (size_t e = 0; e < c->nevq; e++) {
                const node_ev_pending_t *ev = &c->evq[e];
                if (!(conn->events & (1u << ev->type)) || ev->exclude_node == i ||
                    ev->len[k] == 0)
                    continue;
                cql_wr_raw(&conn->out, c->ev[k].data + ev->off[k], ev->len[k]);
                any = true;
            }
            if (any)
                node_cluster_mark_dirty(c, conn);
        }
    }
    c->nevq = 0;
    cql_wr_reset(&c->ev[0]);
    cql_wr_reset(&c->ev[1]);
}
