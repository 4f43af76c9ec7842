/*
 * cluster_ctl: the cluster actor's control connection.
 *
 * One connection actor, not part of any pool, to one host at a time
 * (first the up hosts of the table, round-robin, then the contact points).
 * Once READY it sends, pipelined:
 *   REGISTER [TOPOLOGY_CHANGE, STATUS_CHANGE, SCHEMA_CHANGE]
 *   SELECT * FROM system.local WHERE key='local'
 *   SELECT * FROM system.peers_v2     (system.peers after an Invalid)
 * and rebuilds the host table from the two answers: new hosts are added
 * (their pools open), hosts in neither answer are dropped. Events then
 * keep it current:
 *   STATUS_CHANGE UP      host up, backoff reset, pool reopened now,
 *                         its prepared statements forgotten
 *   STATUS_CHANGE DOWN    host down: no more routing there
 *   NEW_NODE, MOVED_NODE  refresh (the tables say where and which DC)
 *   REMOVED_NODE          host dropped, its pool closed
 *   SCHEMA_CHANGE         counted (prepared metadata refresh: later)
 * When the control connection closes, another host is tried at once if
 * it had been ready, else after the control backoff.
 */
#include <string.h>

#include "cluster_int.h"
#include "cql_result.h"
#include "gw_reply.h"

/* ---- sending ---- */

static void ctl_send(cluster_t *c, uint8_t kind, const cql_msg_t *m)
{
    cql_wr_t w;
    cql_wr_init(&w);
    int rc = cql_msg_encode(&w, c->ctl.version, m);
    req_t *r = rc == 0 && cql_wr_error(&w) == 0 ? gwc_reqs_new(c, GW_KIND_CONTROL) : NULL;
    if (r != NULL) {
        r->ctl = kind;
        r->deadline = gw_now_ms() + c->cfg.prepare_timeout_ms;
        if (gwc_send_req(c, &c->ctl, r, m->opcode, w.data, w.len, NULL, 0, false) != 0) {
            gwc_reqs_free(c, r);
            r = NULL;
        }
    }
    cql_wr_close(&w);
    if (r == NULL && kind != CTL_REGISTER && c->refresh_pending > 0) {
        c->refresh_pending--; /* an answer that will never come */
        c->refresh_ok = false;
    }
}

static void ctl_query(cluster_t *c, uint8_t kind, const char *q)
{
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_QUERY;
    m.u.query.query = (cql_str_t){q, strlen(q)};
    m.u.query.params.consistency = CQL_CL_ONE;
    ctl_send(c, kind, &m);
}

void gwc_ctl_refresh(cluster_t *c)
{
    if (c->ctl.state != PC_READY)
        return;
    if (c->refresh_pending > 0) {
        c->refresh_again = true;
        return;
    }
    c->refresh_again = false;
    for (uint32_t i = 0; i < c->hosts->n; i++)
        c->hosts->h[i].seen = false;
    c->refresh_pending = 2;
    c->refresh_ok = true;
    ctl_query(c, CTL_LOCAL, "SELECT * FROM system.local WHERE key='local'");
    ctl_query(c, c->peers_v1 ? CTL_PEERS : CTL_PEERS_V2,
              c->peers_v1 ? "SELECT * FROM system.peers" : "SELECT * FROM system.peers_v2");
}

void gwc_ctl_on_ready(cluster_t *c)
{
    static const cql_str_t events[3] = {
        {"TOPOLOGY_CHANGE", 15}, {"STATUS_CHANGE", 13}, {"SCHEMA_CHANGE", 13}};
    gw_backoff_reset(&c->ctl_backoff);
    c->ctl_registered = false;
    c->refresh_pending = 0;
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_REGISTER;
    m.u.register_events.n = 3;
    m.u.register_events.items = (cql_str_t *)events;
    ctl_send(c, CTL_REGISTER, &m);
    gwc_ctl_refresh(c);
}

/* ---- connecting ---- */

void gwc_ctl_maintain(cluster_t *c)
{
    if (c->ctl.state != PC_NONE || gw_now_ms() < c->ctl_next_ms)
        return;
    uint32_t total = c->hosts->n + (uint32_t)c->ncontacts;
    for (uint32_t k = 0; k < total; k++) {
        uint32_t idx = (c->ctl_cursor + k) % total;
        const struct sockaddr_storage *addr;
        if (idx < c->hosts->n) {
            gw_host_t *h = &c->hosts->h[idx];
            if (!h->used || !h->up)
                continue;
            addr = &h->info.addr;
        } else {
            addr = &c->contacts[idx - c->hosts->n];
        }
        c->ctl_cursor = idx + 1;
        c->ctl_addr = *addr;
        c->ctl.gen = c->ctl_gen;
        int rc = gwc_spawn(c, &c->ctl, -1, GW_CTL_SLOT, addr, 0);
        c->ctl_gen = c->ctl.gen;
        if (rc == 0)
            return;
    }
    c->ctl_next_ms = gw_now_ms() + gw_backoff_next(&c->ctl_backoff);
}

void gwc_ctl_on_closed(cluster_t *c)
{
    bool was_ready = c->ctl.was_ready;
    c->ctl_registered = false;
    c->refresh_pending = 0;
    c->refresh_again = false;
    c->ctl_next_ms = was_ready ? 0 : gw_now_ms() + gw_backoff_next(&c->ctl_backoff);
    gwc_ctl_maintain(c);
}

/* ---- answers ---- */

static void upsert(gw_peer_t *p, void *ud)
{
    cluster_t *c = ud;
    bool created;
    int i = gw_hosts_add(c->hosts, (const struct sockaddr *)&p->addr, &created);
    if (i < 0)
        return; /* table full: the host is not used */
    if (created)
        gw_pcache_forget_host(&c->pcache, (unsigned)i); /* the index may be reused */
    gw_hosts_set_info(c->hosts, i, p);
    c->hosts->h[i].seen = true;
}

static bool read_rows(cluster_t *c, bool local, int version, uint8_t flags, const uint8_t *body,
                      size_t len)
{
    cql_arena_t arena;
    cql_msg_t m;
    cql_arena_init(&arena, 8 * len + 4096);
    int rc = cql_msg_decode(version, CQL_OP_RESULT, flags, body, len, &arena, &m);
    bool ok = (rc == 0 || rc == CQLMQ_ETRAILING) && m.u.result.kind == CQL_RESULT_ROWS &&
              gw_hosts_parse_rows(&m.u.result.u.rows, local,
                                  (const struct sockaddr *)&c->ctl_addr, c->cfg.port, upsert,
                                  c) == 0;
    cql_arena_close(&arena);
    return ok;
}

static void refresh_step(cluster_t *c, bool ok)
{
    if (!ok)
        c->refresh_ok = false;
    if (--c->refresh_pending > 0)
        return;
    if (c->refresh_ok) { /* both answers read: hosts in neither are gone */
        for (uint32_t i = 0; i < c->hosts->n; i++)
            if (c->hosts->h[i].used && !c->hosts->h[i].seen)
                gwc_drop_host(c, (int)i);
    }
    gwc_maintain(c);
    if (c->refresh_again)
        gwc_ctl_refresh(c);
}

void gwc_ctl_outcome(cluster_t *c, req_t *r, int status, int opcode, int version, uint8_t flags,
                 const uint8_t *body, size_t len)
{
    uint8_t kind = r->ctl;
    gwc_reqs_free(c, r);
    if (status != 0 && kind != CTL_REGISTER && c->refresh_pending > 0) {
        c->refresh_pending--;
        c->refresh_ok = false;
    }
    if (status == CQLMQ_ECLOSED)
        return; /* gwc_ctl_on_closed follows */
    if (status != 0) {
        /* A control query that times out: the connection is not healthy. */
        if (c->ctl.state != PC_NONE)
            (void)rt_kill(c->self, c->ctl.addr, CQLMQ_ETIMEOUT);
        return;
    }
    switch (kind) {
    case CTL_REGISTER:
        c->ctl_registered = opcode == CQL_OP_READY;
        return;
    case CTL_PEERS_V2:
        if (opcode == CQL_OP_ERROR &&
            gw_error_code_of(version, flags, body, len) == CQL_ERR_INVALID) {
            c->peers_v1 = true; /* an older Cassandra: ask system.peers instead */
            ctl_query(c, CTL_PEERS, "SELECT * FROM system.peers");
            return;
        }
        /* fall through */
    case CTL_PEERS:
    case CTL_LOCAL: {
        bool ok = opcode == CQL_OP_RESULT &&
                  read_rows(c, kind == CTL_LOCAL, version, flags, body, len);
        refresh_step(c, ok);
        return;
    }
    default:
        return;
    }
}

/* ---- events ---- */

static void inet_to_sockaddr(const cql_inet_t *a, struct sockaddr_storage *sa)
{
    memset(sa, 0, sizeof *sa);
    if (a->size == 4) {
        struct sockaddr_in *s = (struct sockaddr_in *)sa;
        s->sin_family = AF_INET;
        s->sin_port = htons((uint16_t)a->port);
        memcpy(&s->sin_addr, a->addr, 4);
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)sa;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons((uint16_t)a->port);
        memcpy(&s->sin6_addr, a->addr, 16);
    }
}

void gwc_ctl_on_event(cluster_t *c, int version, const uint8_t *body, size_t len)
{
    cql_arena_t arena;
    cql_msg_t m;
    cql_arena_init(&arena, 4 * len + 4096);
    int rc = cql_msg_decode(version, CQL_OP_EVENT, 0, body, len, &arena, &m);
    if (rc != 0 && rc != CQLMQ_ETRAILING) {
        cql_arena_close(&arena);
        return;
    }
    c->st.events++;
    const cql_msg_event_t *e = &m.u.event;
    struct sockaddr_storage sa;
    int i = -1;
    if (e->type != CQL_EVENT_SCHEMA_CHANGE) {
        inet_to_sockaddr(&e->addr, &sa);
        i = gw_hosts_find(c->hosts, (const struct sockaddr *)&sa);
    }
    switch (e->type) {
    case CQL_EVENT_STATUS_CHANGE:
        if (i < 0) {
            gwc_ctl_refresh(c);
        } else if (e->change == CQL_STATUS_UP) {
            gwc_host_up(c, i, true);
            gwc_maintain(c);
        } else {
            gwc_host_down(c, i);
        }
        break;
    case CQL_EVENT_TOPOLOGY_CHANGE:
        if (e->change == CQL_TOPOLOGY_REMOVED_NODE) {
            if (i >= 0)
                gwc_drop_host(c, i);
        } else {
            gwc_ctl_refresh(c);
        }
        break;
    default:
        break;
    }
    cql_arena_close(&arena);
}
