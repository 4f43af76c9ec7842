/*
 * cluster: the cluster actor (cluster.h): lifecycle, the tick, pools and
 * their connections' states, DONE dispatch and stats. The control
 * connection lives in cluster_ctl.c, execs in cluster_exec.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "gw_reply.h"

#define TICK_MS 20

void gw_cluster_config_init(gw_cluster_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->contact_points, sizeof cfg->contact_points, "127.0.0.1");
    cfg->port = 9042;
    cfg->pool_size = 2;
    cfg->max_streams = 1024;
    cfg->max_in_flight = 4096;
    cfg->max_retries = 2;
    cfg->prepared_max = GW_PCACHE_DEFAULT;
    cfg->connect_timeout_ms = 5000;
    cfg->heartbeat_ms = 30000;
    cfg->heartbeat_timeout_ms = 5000;
    cfg->reconnect_base_ms = 100;
    cfg->reconnect_cap_ms = 30000;
    cfg->prepare_timeout_ms = 10000;
    cfg->protocol_version = 4;
    cfg->max_frame = (size_t)256 << 20;
}

/* ---- connections ---- */

pconn_t *gwc_conn_of(cluster_t *c, uint32_t id)
{
    uint32_t slot = id & 0xFFu, host = (id >> 8) & 0xFFu;
    pconn_t *pc;
    if (slot == GW_CTL_SLOT)
        pc = &c->ctl;
    else if (slot < GW_POOL_MAX && host < GW_MAX_HOSTS)
        pc = &c->hs[host].conns[slot];
    else
        return NULL;
    return pc->state != PC_NONE && pc->id == id ? pc : NULL;
}

/* Spawns a connection for pc (host i or the control address). */
int gwc_spawn(cluster_t *c, pconn_t *pc, int host, uint32_t slot,
                  const struct sockaddr_storage *addr, int version)
{
    gw_conn_opts_t o;
    memset(&o, 0, sizeof o);
    o.addr = *addr;
    o.owner = rt_self(c->self);
    pc->gen = (uint16_t)(pc->gen + 1);
    pc->id = (uint32_t)pc->gen << 16 | (uint32_t)(host < 0 ? 0 : host) << 8 | slot;
    o.conn = pc->id;
    o.version = version ? version : c->cfg.protocol_version;
    /* The control connection pipelines a few queries of its own. */
    o.max_streams = slot == GW_CTL_SLOT && c->cfg.max_streams < 64 ? 64 : c->cfg.max_streams;
    o.connect_timeout_ms = c->cfg.connect_timeout_ms;
    o.heartbeat_ms = c->cfg.heartbeat_ms;
    o.heartbeat_timeout_ms = c->cfg.heartbeat_timeout_ms;
    o.handshake_timeout_ms = c->cfg.connect_timeout_ms;
    o.max_frame = c->cfg.max_frame;
    memcpy(o.user, c->cfg.user, sizeof o.user);
    memcpy(o.password, c->cfg.password, sizeof o.password);
    int rc = rt_spawn(rt_actor_loop(c->self), &gw_conn_def, &o, &pc->addr);
    memset(o.password, 0, sizeof o.password);
    if (rc != 0)
        return rc;
    (void)rt_watch(c->self, pc->addr);
    pc->state = PC_CONNECTING;
    pc->host = host;
    pc->was_ready = false;
    pc->inflight = pc->streams = pc->orphans = pc->ks_inflight = 0;
    pc->keyspace[0] = '\0';
    pc->reqs = NULL;
    return 0;
}

void gwc_conn_lost(cluster_t *c, pconn_t *pc)
{
    while (pc->reqs != NULL) {
        req_t *r = pc->reqs;
        gwc_req_unlink_conn(r);
        if (r->kind == GW_KIND_CONTROL)
            gwc_ctl_outcome(c, r, CQLMQ_ECLOSED, -1, 0, 0, NULL, 0);
        else
            gwc_exec_outcome(c, r, CQLMQ_ECLOSED, -1, 0, 0, NULL, 0);
    }
    pc->state = PC_NONE;
    pc->addr = RT_ADDR_NONE;
    pc->inflight = pc->streams = pc->orphans = pc->ks_inflight = 0;
}

int gwc_send_req(cluster_t *c, pconn_t *pc, req_t *r, uint8_t opcode, const uint8_t *body,
                     size_t len, const char *ks, size_t ks_len, bool direct)
{
    gw_conn_req_t m;
    memset(&m, 0, sizeof m);
    m.rid = r->rid;
    m.opcode = opcode;
    m.deadline_ms = r->deadline;
    m.body = (mpk_bin_t){body, (uint32_t)len};
    if (ks != NULL && ks_len > 0) {
        m.keyspace = (mpk_str_t){ks, (uint32_t)ks_len};
        MPK_SET(&m, gw_conn_req, keyspace);
    }
    if (direct) {
        m.reply_to = r->from;
        m.reply_corr = r->corr;
        MPK_SET(&m, gw_conn_req, reply_to);
        MPK_SET(&m, gw_conn_req, reply_corr);
    }
    m.attempts = r->attempts + 1;
    MPK_SET(&m, gw_conn_req, attempts);
    int rc = RT_SEND(c->self, pc->addr, GW_MSG_CONN_REQ, gw_conn_req, &m);
    if (rc != 0)
        return rc;
    r->attempts++;
    r->has_ks = ks != NULL && ks_len > 0;
    if (r->has_ks && ks_len <= GW_KS_NAME) {
        memcpy(pc->keyspace, ks, ks_len);
        pc->keyspace[ks_len] = '\0';
    }
    gwc_req_link_conn(r, pc);
    return 0;
}

/* ---- hosts and pools ---- */

void gwc_host_up(cluster_t *c, int i, bool from_event)
{
    gw_host_t *h = &c->hosts->h[i];
    bool was = h->up;
    h->up = true;
    if (from_event || !was) /* a node that comes back forgot its prepared statements */
        gw_pcache_forget_host(&c->pcache, (unsigned)i);
    if (from_event) {
        gw_backoff_reset(&c->hs[i].backoff);
        c->hs[i].next_attempt_ms = 0;
    }
}

void gwc_host_down(cluster_t *c, int i)
{
    c->hosts->h[i].up = false;
    hstate_t *hs = &c->hs[i];
    hs->next_attempt_ms = gw_now_ms() + gw_backoff_next(&hs->backoff);
}

void gwc_drop_host(cluster_t *c, int i)
{
    hstate_t *hs = &c->hs[i];
    for (uint32_t k = 0; k < GW_POOL_MAX; k++) {
        pconn_t *pc = &hs->conns[k];
        if (pc->state == PC_NONE)
            continue;
        (void)rt_unwatch(c->self, pc->addr);
        (void)rt_kill(c->self, pc->addr, CQLMQ_ECLOSED);
        gwc_conn_lost(c, pc);
    }
    gw_pcache_forget_host(&c->pcache, (unsigned)i);
    gw_hosts_remove(c->hosts, i);
    uint16_t gens[GW_POOL_MAX];
    for (uint32_t k = 0; k < GW_POOL_MAX; k++)
        gens[k] = hs->conns[k].gen; /* keep generations: stale ids stay stale */
    memset(hs, 0, sizeof *hs);
    for (uint32_t k = 0; k < GW_POOL_MAX; k++)
        hs->conns[k].gen = gens[k];
    gw_backoff_init(&hs->backoff, c->cfg.reconnect_base_ms, c->cfg.reconnect_cap_ms,
                    gw_rand(&c->rng));
}

void gwc_maintain(cluster_t *c)
{
    uint64_t now = gw_now_ms();
    for (uint32_t i = 0; i < c->hosts->n; i++) {
        gw_host_t *h = &c->hosts->h[i];
        hstate_t *hs = &c->hs[i];
        if (!h->used || now < hs->next_attempt_ms)
            continue;
        for (uint32_t k = 0; k < c->cfg.pool_size; k++) {
            pconn_t *pc = &hs->conns[k];
            if (pc->state != PC_NONE)
                continue;
            if (gwc_spawn(c, pc, (int)i, k, &h->info.addr, hs->version) != 0) {
                hs->next_attempt_ms = now + gw_backoff_next(&hs->backoff);
                break;
            }
        }
    }
}

/* ---- connection messages ---- */

static void on_conn_state(rt_actor_t *self, const rt_msg_t *msg)
{
    cluster_t *c = rt_state(self);
    gw_conn_state_t s;
    mpk_rd_t r;
    mpk_rd_init(&r, msg->data, msg->len);
    if (gw_conn_state_decode(&r, &s) != 0)
        return;
    pconn_t *pc = gwc_conn_of(c, s.conn);
    if (pc == NULL || pc->addr != msg->from)
        return;
    if (s.state == GW_CONN_READY) {
        pc->state = PC_READY;
        pc->was_ready = true;
        pc->version = (int)s.version;
        if (pc == &c->ctl) {
            gwc_ctl_on_ready(c);
            return;
        }
        gw_backoff_reset(&c->hs[pc->host].backoff);
        c->hs[pc->host].version = pc->version;
        gwc_host_up(c, pc->host, false);
        return;
    }
    bool was_ready = pc->was_ready;
    (void)rt_unwatch(self, pc->addr);
    gwc_conn_lost(c, pc);
    if (pc == &c->ctl) {
        gwc_ctl_on_closed(c);
        return;
    }
    hstate_t *hs = &c->hs[pc->host];
    if (s.reason == CQLMQ_EBADVERSION && s.version >= 3) {
        hs->version = (int)s.version; /* reconnect at once, one version down */
        hs->next_attempt_ms = 0;
    } else if (!was_ready) {
        bool any_ready = false;
        for (uint32_t k = 0; k < GW_POOL_MAX; k++)
            any_ready |= hs->conns[k].state == PC_READY;
        if (!any_ready)
            gwc_host_down(c, pc->host);
        else
            hs->next_attempt_ms = gw_now_ms() + gw_backoff_next(&hs->backoff);
    } else {
        bool any_ready = false;
        for (uint32_t k = 0; k < GW_POOL_MAX; k++)
            any_ready |= hs->conns[k].state == PC_READY;
        if (!any_ready) /* every connection lost: stop routing until one is back */
            c->hosts->h[pc->host].up = false;
        hs->next_attempt_ms = gw_now_ms() + gw_backoff_next(&hs->backoff);
    }
}

static void on_conn_done(rt_actor_t *self, const rt_msg_t *msg)
{
    cluster_t *c = rt_state(self);
    gw_conn_done_t d;
    mpk_rd_t r;
    mpk_rd_init(&r, msg->data, msg->len);
    if (gw_conn_done_decode(&r, &d) != 0)
        return;
    pconn_t *pc = gwc_conn_of(c, d.conn);
    if (pc == NULL || pc->addr != msg->from)
        return;
    pc->streams = d.streams;
    pc->orphans = d.orphans;
    if (MPK_HAS(&d, gw_conn_done, keyspace) && d.keyspace.len <= GW_KS_NAME) {
        memcpy(pc->keyspace, d.keyspace.ptr, d.keyspace.len);
        pc->keyspace[d.keyspace.len] = '\0';
    }
    if (d.rid == 0)
        return;
    req_t *q = gwc_reqs_get(c, d.rid);
    if (q == NULL || q->conn != pc)
        return;
    gwc_req_unlink_conn(q);
    if (d.replied) {
        c->st.replies++;
        gwc_reqs_free(c, q);
        return;
    }
    int opcode = MPK_HAS(&d, gw_conn_done, opcode) ? (int)d.opcode : -1;
    if (q->kind == GW_KIND_CONTROL)
        gwc_ctl_outcome(c, q, d.status, opcode, (int)d.version, (uint8_t)d.flags, d.body.ptr,
                    d.body.len);
    else
        gwc_exec_outcome(c, q, d.status, opcode, (int)d.version, (uint8_t)d.flags, d.body.ptr,
                     d.body.len);
}

static void on_conn_event(rt_actor_t *self, const rt_msg_t *msg)
{
    cluster_t *c = rt_state(self);
    gw_conn_event_t e;
    mpk_rd_t r;
    mpk_rd_init(&r, msg->data, msg->len);
    if (gw_conn_event_decode(&r, &e) != 0 || msg->from != c->ctl.addr)
        return;
    gwc_ctl_on_event(c, (int)e.version, e.body.ptr, e.body.len);
}

/* A connection actor stopped: normally its CLOSED came first and this
 * finds nothing; otherwise (it was killed) clean up the same way. */
static void on_down(rt_actor_t *self, const rt_msg_t *msg)
{
    cluster_t *c = rt_state(self);
    rt_addr_t who;
    int reason;
    if (rt_down_decode(msg, &who, &reason) != 0)
        return;
    if (c->ctl.state != PC_NONE && c->ctl.addr == who) {
        gwc_conn_lost(c, &c->ctl);
        gwc_ctl_on_closed(c);
        return;
    }
    for (uint32_t i = 0; i < c->hosts->n; i++)
        for (uint32_t k = 0; k < GW_POOL_MAX; k++) {
            pconn_t *pc = &c->hs[i].conns[k];
            if (pc->state != PC_NONE && pc->addr == who) {
                gwc_conn_lost(c, pc);
                c->hs[i].next_attempt_ms = gw_now_ms() + gw_backoff_next(&c->hs[i].backoff);
                return;
            }
        }
}

/* ---- tick and stats ---- */

static void on_tick(rt_actor_t *self, const rt_msg_t *msg)
{
    cluster_t *c = rt_state(self);
    (void)msg;
    gwc_exec_sweep(c, gw_now_ms());
    gwc_ctl_maintain(c);
    gwc_maintain(c);
}

static void on_stats(rt_actor_t *self, const rt_msg_t *msg)
{
    cluster_t *c = rt_state(self);
    gw_stats_t s;
    memset(&s, 0, sizeof s);
    s.requests = c->st.requests;
    s.replies = c->st.replies;
    s.in_flight = c->user_live;
    s.busy = c->st.busy;
    s.no_host = c->st.no_host;
    s.timeouts = c->st.timeouts;
    s.retries = c->st.retries;
    s.errors = c->st.errors;
    s.prepares = c->st.prepares;
    s.reprepares = c->st.reprepares;
    s.prepared = c->pcache.count;
    s.hosts = gw_hosts_count(c->hosts, false);
    s.control = c->ctl.state == PC_READY && c->ctl_registered;
    s.events = c->st.events;
    mpk_wr_t ph;
    mpk_wr_init(&ph);
    mpk_wr_array(&ph, s.hosts);
    for (uint32_t i = 0; i < c->hosts->n; i++) {
        gw_host_t *h = &c->hosts->h[i];
        if (!h->used)
            continue;
        uint32_t ready = 0;
        for (uint32_t k = 0; k < GW_POOL_MAX; k++) {
            pconn_t *pc = &c->hs[i].conns[k];
            ready += pc->state == PC_READY;
            s.streams += pc->state != PC_NONE ? pc->streams : 0;
            s.orphans += pc->state != PC_NONE ? pc->orphans : 0;
        }
        s.conns += ready;
        s.hosts_up += h->up;
        mpk_wr_map(&ph, 5);
        mpk_wr_cstr(&ph, "host");
        mpk_wr_cstr(&ph, h->name);
        mpk_wr_cstr(&ph, "dc");
        mpk_wr_cstr(&ph, h->info.dc);
        mpk_wr_cstr(&ph, "up");
        mpk_wr_bool(&ph, h->up);
        mpk_wr_cstr(&ph, "conns");
        mpk_wr_uint(&ph, ready);
        mpk_wr_cstr(&ph, "requests");
        mpk_wr_uint(&ph, c->hs[i].requests);
    }
    if (ph.err == 0) {
        s.per_host = (mpk_raw_t){ph.data, ph.len};
        MPK_SET(&s, gw_stats, per_host);
    }
    gw_stats_encode(rt_reply_begin(self, msg, GW_MSG_STATS), &s);
    (void)rt_msg_end(self);
    mpk_wr_close(&ph);
}

static void on_exec(rt_actor_t *self, const rt_msg_t *msg)
{
    gwc_exec_on_request(rt_state(self), msg);
}

/* ---- lifecycle ---- */

static int parse_contacts(cluster_t *c)
{
    const char *p = c->cfg.contact_points;
    while (*p != '\0' && c->ncontacts < GW_CONTACTS_MAX) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        if (gw_addr_parse(p, n, c->cfg.port, &c->contacts[c->ncontacts]) != 0)
            return CQLMQ_ECONFIG;
        c->ncontacts++;
        p += n;
    }
    return c->ncontacts > 0 ? 0 : CQLMQ_ECONFIG;
}

static void cluster_free(cluster_t *c)
{
    gw_pcache_close(&c->pcache);
    gwc_reqs_close(c);
    if (c->hosts != NULL)
        gw_hosts_close(c->hosts);
    free(c->hosts);
    free(c->hs);
    free(c);
}

static int cluster_init(rt_actor_t *self, void *arg)
{
    const gw_cluster_config_t *cfg = arg;
    cluster_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return CQLMQ_ENOMEM;
    c->self = self;
    c->cfg = *cfg;
    gw_cluster_config_t *k = &c->cfg;
    if (k->port <= 0)
        k->port = 9042;
    if (k->pool_size == 0)
        k->pool_size = 1;
    if (k->pool_size > GW_POOL_MAX || k->max_in_flight == 0 || k->max_streams == 0 ||
        k->max_streams > 32768 || (k->protocol_version != 0 && (k->protocol_version < 3 ||
                                                               k->protocol_version > 4))) {
        free(c);
        return CQLMQ_ECONFIG;
    }
    c->rng = k->seed ? k->seed : uv_hrtime() ^ (uintptr_t)c;
    int rc = parse_contacts(c);
    c->hosts = calloc(1, sizeof *c->hosts);
    c->hs = calloc(GW_MAX_HOSTS, sizeof *c->hs);
    if (rc == 0 && (c->hosts == NULL || c->hs == NULL))
        rc = CQLMQ_ENOMEM;
    if (rc == 0)
        rc = gwc_reqs_init(c, k->max_in_flight + 2 * GW_MAX_HOSTS + 64);
    if (rc == 0)
        rc = gw_pcache_init(&c->pcache, k->prepared_max, gw_rand(&c->rng), gw_rand(&c->rng));
    if (rc == 0)
        rc = rt_timer_start(self, TICK_MS, TICK_MS, GW_MSG_CLUSTER_TICK, &c->tick_id);
    if (rc != 0) {
        cluster_free(c);
        return rc;
    }
    gw_hosts_init(c->hosts);
    for (uint32_t i = 0; i < GW_MAX_HOSTS; i++)
        gw_backoff_init(&c->hs[i].backoff, k->reconnect_base_ms, k->reconnect_cap_ms,
                        gw_rand(&c->rng));
    gw_backoff_init(&c->ctl_backoff, k->reconnect_base_ms, k->reconnect_cap_ms, gw_rand(&c->rng));
    rt_set_state(self, c);
    gwc_ctl_maintain(c); /* connect the control connection now */
    return 0;
}

static void cluster_stop(rt_actor_t *self, int reason)
{
    cluster_t *c = rt_state(self);
    (void)reason;
    if (c == NULL)
        return;
    /* Every request still held ends now: the connections die with us. */
    for (uint32_t i = 0; i < c->nslots; i++) {
        req_t *r = c->reqs[i];
        if (r != NULL && r->kind == GW_KIND_USER)
            gwc_exec_fail(c, r, CQLMQ_ECANCELLED, "the gateway's cluster actor stopped");
    }
    if (c->ctl.state != PC_NONE)
        (void)rt_kill(self, c->ctl.addr, CQLMQ_ECLOSED);
    for (uint32_t i = 0; i < c->hosts->n; i++)
        for (uint32_t k = 0; k < GW_POOL_MAX; k++)
            if (c->hs[i].conns[k].state != PC_NONE)
                (void)rt_kill(self, c->hs[i].conns[k].addr, CQLMQ_ECLOSED);
    rt_set_state(self, NULL);
    cluster_free(c);
}

static const rt_handler_cb handlers[GW_MSG_LIMIT_] = {
    [GW_MSG_EXEC] = on_exec,
    [GW_MSG_STATS] = on_stats,
    [GW_MSG_CONN_DONE] = on_conn_done,
    [GW_MSG_CONN_STATE] = on_conn_state,
    [GW_MSG_CONN_EVENT] = on_conn_event,
    [GW_MSG_CLUSTER_TICK] = on_tick,
};

const rt_actor_def_t gw_cluster_def = {
    .name = "gw_cluster",
    .handlers = handlers,
    .nhandlers = GW_MSG_LIMIT_,
    .on_down = on_down,
    .init = cluster_init,
    .stop = cluster_stop,
};
