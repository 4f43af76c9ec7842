/*
 * node_cluster: the lifecycle of a simulated cluster and of its nodes
 * (listeners), topology changes (nodes added and removed at run time), and
 * the per-loop-turn flush that coalesces writes.
 *
 * Nodes live in NODE_MAX_NODES fixed slots (hosts[i] is 127.0.0.(i+1)); the
 * topology (node_topo.h) says which slots are members. A removed node's
 * slot keeps no listener and no connection, and is reused by a later add.
 *
 * Coalescing: responses, events and delayed replies are appended to their
 * connection's `out` buffer and the connection goes on the dirty list. A
 * uv_check (after the I/O callbacks of a loop turn) and a uv_prepare (after
 * timers, before the loop blocks) write each dirty connection's buffer with
 * one uv_write. While a write is in flight, new frames collect in `out`
 * and leave together when it completes.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_internal.h"

#define PORT_ATTEMPTS 20

static void on_stop_async(uv_async_t *a) { node_cluster_stop(a->data); }

static void on_flush(uv_handle_t *h) { node_cluster_flush(h->data); }
static void on_prepare(uv_prepare_t *p) { on_flush((uv_handle_t *)p); }
static void on_check(uv_check_t *k) { on_flush((uv_handle_t *)k); }

static void on_sweep(uv_timer_t *t)
{
    node_cluster_t *c = t->data;
    uint64_t now = uv_now(c->loop);
    for (int i = 0; i < NODE_MAX_NODES; i++)
        node_conn_sweep(&c->hosts[i], now);
    node_events_tick(c, now);
    /* Expired cells and tombstones of untouched partitions are freed a few
     * partitions at a time, so a sweep never stalls request handling. */
    node_db_housekeep(c->db, NODE_PURGE_BUDGET);
}

void node_cluster_handle_closed(uv_handle_t *h)
{
    node_cluster_t *c = h->data;
    c->open_handles--;
}

uint64_t node_cluster_random(node_cluster_t *c)
{
    uint64_t x = c->rng; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static int64_t real_clock(void *ud)
{
    (void)ud;
    uv_timeval64_t tv;
    if (uv_gettimeofday(&tv) != 0)
        return 0;
    return tv.tv_sec * 1000000 + tv.tv_usec;
}

int node_cluster_new(uv_loop_t *loop, const node_config_t *cfg, node_cluster_t **out)
{
    if (!loop || !cfg || !out || node_config_validate(cfg, NULL, 0))
        return CQLMQ_ECONFIG;
    node_cluster_t *c = calloc(1, sizeof *c);
    if (!c)
        return CQLMQ_ENOMEM;
    c->loop = loop;
    c->cfg = *cfg;
    node_topo_build(&c->topo, &c->cfg);
    node_faults_init(&c->faults);
    cql_wr_init(&c->scratch);
    cql_wr_init(&c->ev[0]);
    cql_wr_init(&c->ev[1]);
    c->rng = (uv_hrtime() ^ (uint64_t)(uintptr_t)c) | 1;
    if (node_actlog_init(&c->log, cfg->log_size))
        goto fail_log;
    node_db_config_t dbc = {
        .topology = &c->topo.topo,
        .now_us = real_clock,
        .on_schema_change = node_events_on_schema_change,
        .event_ud = c,
        .seed = uv_hrtime(),
    };
    c->db = node_db_new(&dbc);
    if (!c->db)
        goto fail_db;
    for (int i = 0; i < NODE_MAX_NODES; i++) {
        c->hosts[i].cluster = c;
        c->hosts[i].index = i;
    }
    if (uv_async_init(loop, &c->stop_async, on_stop_async))
        goto fail_async;
    c->stop_async.data = c;
    c->open_handles++;
    uv_prepare_init(loop, &c->flush_prepare);
    uv_check_init(loop, &c->flush_check);
    uv_timer_init(loop, &c->sweep);
    c->flush_prepare.data = c->flush_check.data = c->sweep.data = c;
    c->open_handles += 3;
    uv_prepare_start(&c->flush_prepare, on_prepare);
    uv_check_start(&c->flush_check, on_check);
    uv_unref((uv_handle_t *)&c->flush_prepare);
    uv_unref((uv_handle_t *)&c->flush_check);
    uv_unref((uv_handle_t *)&c->sweep);
    *out = c;
    return 0;

fail_async:
    node_db_free(&c->db);
fail_db:
    node_actlog_close(&c->log);
fail_log:
    free(c);
    return CQLMQ_ENOMEM;
}

static void on_listener_closed(uv_handle_t *h)
{
    node_host_t *host = h->data;
    host->cluster->open_handles--;
    free(h);
}

static void on_connection(uv_stream_t *server, int status)
{
    node_host_t *h = server->data;
    if (status == 0 && h->up)
        node_conn_accept(h);
}

/* Binds node h on port; *bound gets the port the kernel chose. */
static int host_listen(node_host_t *h, int port, int *bound)
{
    node_cluster_t *c = h->cluster;
    char ip[32];
    struct sockaddr_in addr;
    struct sockaddr_storage got;
    int len = sizeof got;
    snprintf(ip, sizeof ip, "127.0.0.%d", h->index + 1);
    if (uv_ip4_addr(ip, port, &addr))
        return CQLMQ_EUV;
    uv_tcp_t *l = malloc(sizeof *l);
    if (!l)
        return CQLMQ_ENOMEM;
    uv_tcp_init(c->loop, l);
    l->data = h;
    c->open_handles++;
    if (uv_tcp_bind(l, (const struct sockaddr *)&addr, 0) ||
        uv_listen((uv_stream_t *)l, 511, on_connection) ||
        uv_tcp_getsockname(l, (struct sockaddr *)&got, &len)) {
        uv_close((uv_handle_t *)l, on_listener_closed);
        return CQLMQ_EUV;
    }
    *bound = ntohs(((struct sockaddr_in *)&got)->sin_port);
    h->listener = l;
    h->up = true;
    return 0;
}

/* Closes node h's listener and connections; no events. */
static void host_shutdown(node_host_t *h)
{
    if (h->listener) {
        uv_close((uv_handle_t *)h->listener, on_listener_closed);
        h->listener = NULL;
    }
    h->up = false;
    while (h->conns)
        node_conn_close(h->conns); /* unlinks itself */
}

static int bind_all(node_cluster_t *c)
{
    for (int attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
        int port = c->cfg.port, rc = 0;
        for (int i = 0; i < c->cfg.nnodes && rc == 0; i++) {
            int bound = 0;
            rc = host_listen(&c->hosts[i], port, &bound);
            if (rc == 0)
                port = bound;
        }
        if (rc == 0) {
            c->port = port;
            return 0;
        }
        for (int i = 0; i < c->cfg.nnodes; i++)
            host_shutdown(&c->hosts[i]);
        if (c->cfg.port != 0)
            return rc; /* a fixed port: no retry */
    }
    return CQLMQ_EUV;
}

int node_cluster_start(node_cluster_t *c)
{
    if (c->started || c->stopping)
        return CQLMQ_ESTATE;
    int rc = bind_all(c);
    if (rc)
        return rc;
    node_topo_set_port(&c->topo, c->port);
    if (c->cfg.control[0]) {
        rc = node_control_open(c, c->cfg.control);
        if (rc) {
            for (int i = 0; i < c->cfg.nnodes; i++)
                host_shutdown(&c->hosts[i]);
            return rc;
        }
    }
    uv_timer_start(&c->sweep, on_sweep, NODE_SWEEP_MS, NODE_SWEEP_MS);
    c->started = true;
    return 0;
}

void node_cluster_stop(node_cluster_t *c)
{
    if (c->stopping)
        return;
    c->stopping = true;
    for (int i = 0; i < NODE_MAX_NODES; i++)
        host_shutdown(&c->hosts[i]);
    node_control_close(c);
    uv_close((uv_handle_t *)&c->stop_async, node_cluster_handle_closed);
    uv_close((uv_handle_t *)&c->flush_prepare, node_cluster_handle_closed);
    uv_close((uv_handle_t *)&c->flush_check, node_cluster_handle_closed);
    uv_close((uv_handle_t *)&c->sweep, node_cluster_handle_closed);
}

int node_cluster_request_stop(node_cluster_t *c)
{
    return uv_async_send(&c->stop_async) ? CQLMQ_EUV : 0;
}

bool node_cluster_closed(const node_cluster_t *c) { return c->open_handles == 0; }

void node_cluster_free(node_cluster_t **cp)
{
    node_cluster_t *c = cp ? *cp : NULL;
    if (!c)
        return;
    assert(c->open_handles == 0 && "node_cluster_free: stop the cluster and run the loop first");
    node_db_free(&c->db);
    node_faults_close(&c->faults);
    node_actlog_close(&c->log);
    cql_wr_close(&c->scratch);
    cql_wr_close(&c->ev[0]);
    cql_wr_close(&c->ev[1]);
    free(c->evq);
    free(c);
    *cp = NULL;
}

int node_cluster_port(const node_cluster_t *c) { return c->port; }
const char *node_cluster_control_endpoint(const node_cluster_t *c) { return c->control_endpoint; }
int node_cluster_size(const node_cluster_t *c) { return c->topo.nmembers; }
bool node_cluster_has_node(const node_cluster_t *c, int i)
{
    return node_topo_member(&c->topo, i);
}
node_db_t *node_cluster_db(node_cluster_t *c) { return c->db; }

int node_cluster_stop_node(node_cluster_t *c, int i)
{
    if (!node_topo_member(&c->topo, i))
        return CQLMQ_ERANGE;
    if (!c->started || c->stopping)
        return CQLMQ_ESTATE;
    node_host_t *h = &c->hosts[i];
    if (!h->up)
        return 0;
    host_shutdown(h);
    node_topo_set_up(&c->topo, i, false);
    node_events_status(c, i, false);
    node_events_deliver(c);
    return 0;
}

int node_cluster_start_node(node_cluster_t *c, int i)
{
    if (!node_topo_member(&c->topo, i))
        return CQLMQ_ERANGE;
    if (!c->started || c->stopping)
        return CQLMQ_ESTATE;
    node_host_t *h = &c->hosts[i];
    if (h->up)
        return 0;
    int bound;
    int rc = host_listen(h, c->port, &bound);
    if (rc)
        return rc;
    node_topo_set_up(&c->topo, i, true);
    node_events_status(c, i, true);
    node_events_deliver(c);
    return 0;
}

int node_cluster_pause_node(node_cluster_t *c, int i, bool paused)
{
    if (!node_topo_member(&c->topo, i))
        return CQLMQ_ERANGE;
    node_host_t *h = &c->hosts[i];
    h->paused = paused;
    for (node_conn_t *conn = h->conns; conn; conn = conn->next)
        node_conn_update_reading(conn);
    return 0;
}

int node_cluster_add_node(node_cluster_t *c, const char *dc, const char *rack, int *index)
{
    if (!c->started || c->stopping)
        return CQLMQ_ESTATE;
    if (c->topo.nmembers >= NODE_MAX_NODES)
        return CQLMQ_ELIMIT;
    if (!dc)
        dc = c->cfg.dcs[0].name;
    if (!rack)
        rack = NODE_DEFAULT_RACK;
    size_t dlen = strnlen(dc, NODE_DC_NAME_MAX + 1), rlen = strnlen(rack, NODE_DC_NAME_MAX + 1);
    if (dlen > NODE_DC_NAME_MAX || rlen > NODE_DC_NAME_MAX || !node_config_name_ok(dc, dlen) ||
        !node_config_name_ok(rack, rlen))
        return CQLMQ_EINVAL;
    int i = 0;
    while (node_topo_member(&c->topo, i))
        i++; /* a free slot exists: fewer than NODE_MAX_NODES members */
    node_host_t *h = &c->hosts[i];
    assert(!h->listener && !h->conns);
    int bound;
    int rc = host_listen(h, c->port, &bound);
    if (rc)
        return rc; /* nothing changed */
    rc = node_topo_add(&c->topo, i, dc, rack);
    assert(rc == 0); /* the slot is free and the names were checked */
    (void)rc;
    h->paused = false;
    h->down_event_due = 0;
    node_db_forget_prepared(c->db, i); /* a reused slot starts empty */
    node_events_topology(c, i, CQL_TOPOLOGY_NEW_NODE);
    node_events_deliver(c);
    if (index)
        *index = i;
    return 0;
}

int node_cluster_remove_node(node_cluster_t *c, int i)
{
    if (!node_topo_member(&c->topo, i))
        return CQLMQ_ERANGE;
    if (!c->started || c->stopping)
        return CQLMQ_ESTATE;
    if (c->topo.nmembers <= 1)
        return CQLMQ_ELIMIT;
    node_host_t *h = &c->hosts[i];
    host_shutdown(h);
    h->paused = false;
    h->down_event_due = 0; /* a pending DOWN is superseded by REMOVED_NODE */
    node_topo_remove(&c->topo, i);
    node_db_forget_prepared(c->db, i);
    node_events_topology(c, i, CQL_TOPOLOGY_REMOVED_NODE);
    node_events_deliver(c);
    return 0;
}

int node_cluster_clear_faults(node_cluster_t *c)
{
    int rc = 0;
    node_faults_clear(&c->faults);
    for (int i = 0; i < NODE_MAX_NODES; i++) {
        if (!node_topo_member(&c->topo, i))
            continue;
        node_cluster_pause_node(c, i, false);
        for (node_conn_t *conn = c->hosts[i].conns; conn; conn = conn->next)
            conn->close_after = -1;
        if (!c->hosts[i].up && c->started && !c->stopping) {
            int r = node_cluster_start_node(c, i);
            if (r && !rc)
                rc = r;
        }
    }
    return rc;
}

void node_cluster_mark_dirty(node_cluster_t *c, node_conn_t *conn)
{
    if (conn->dirty || conn->closing)
        return;
    conn->dirty = true;
    conn->dirty_next = c->dirty;
    c->dirty = conn;
}

void node_cluster_flush(node_cluster_t *c)
{
    node_events_deliver(c);
    while (c->dirty) {
        node_conn_t *conn = c->dirty;
        c->dirty = conn->dirty_next;
        conn->dirty_next = NULL;
        conn->dirty = false;
        node_conn_flush(conn);
    }
}
