/*
 * node_ctl_cmd: the control commands (node_ctl.h), one handler each.
 *
 * A handler gets the decoded request and a writer for the reply's extra
 * fields. It returns the number of key/value pairs it wrote (>= 0), or a
 * negative code with a message in err; node_ctl_handle then wraps the
 * pairs as {"ok": true, ...} or writes {"ok": false, "error": message}.
 * Exactly one reply per request, whatever happens.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "node_ctl.h"
#include "node_internal.h"

typedef int (*ctl_handler_fn)(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w,
                              char *err, size_t errlen);

#define HAS(f) MPK_HAS(req, node_ctl_req, f)

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

/* Writes the member indexes as ranges, e.g. "0..2, 4", into buf. */
static void members_list(const node_cluster_t *c, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < NODE_MAX_NODES && len < n; i++) {
        if (!node_topo_member(&c->topo, i))
            continue;
        int j = i;
        while (j + 1 < NODE_MAX_NODES && node_topo_member(&c->topo, j + 1))
            j++;
        int k = j == i ? snprintf(buf + len, n - len, "%s%d", len ? ", " : "", i)
                       : snprintf(buf + len, n - len, "%s%d..%d", len ? ", " : "", i, j);
        if (k < 0)
            break;
        len += (size_t)k;
        i = j;
    }
}

/* The node of the request: required or optional (-1 = all). */
static int want_node(node_cluster_t *c, const node_ctl_req_t *req, bool required, int *out,
                     char *err, size_t errlen)
{
    if (!HAS(node)) {
        if (required)
            return fail(err, errlen, CQLMQ_EINVAL, "field \"node\" (0-based index) is required");
        *out = -1;
        return 0;
    }
    if (!node_topo_member(&c->topo, req->node)) {
        char list[256];
        members_list(c, list, sizeof list);
        return fail(err, errlen, CQLMQ_ERANGE, "no node %d (nodes are %s)", req->node, list);
    }
    *out = req->node;
    return 0;
}

static void kv_str(mpk_wr_t *w, const char *k, const char *v)
{
    mpk_wr_cstr(w, k);
    if (v)
        mpk_wr_cstr(w, v);
    else
        mpk_wr_nil(w);
}

static void kv_int(mpk_wr_t *w, const char *k, int64_t v)
{
    mpk_wr_cstr(w, k);
    mpk_wr_int(w, v);
}

static void kv_bool(mpk_wr_t *w, const char *k, bool v)
{
    mpk_wr_cstr(w, k);
    mpk_wr_bool(w, v);
}

static int ctl_ping(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w, char *err,
                    size_t errlen)
{
    (void)c, (void)req, (void)w, (void)err, (void)errlen;
    return 0;
}

static int ctl_status(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w, char *err,
                      size_t errlen)
{
    (void)req, (void)err, (void)errlen;
    kv_int(w, "port", c->port);
    mpk_wr_cstr(w, "nodes");
    mpk_wr_array(w, (uint32_t)c->topo.nmembers);
    for (int i = 0; i < NODE_MAX_NODES; i++) {
        if (!node_topo_member(&c->topo, i))
            continue;
        const node_topo_node_t *tn = &c->topo.nodes[i];
        char addr[32], uuid[37];
        snprintf(addr, sizeof addr, "127.0.0.%d", i + 1);
        node_uuid_format(tn->host_id, uuid);
        mpk_wr_map(w, 8);
        kv_int(w, "node", i);
        kv_str(w, "address", addr);
        kv_str(w, "dc", tn->dc);
        kv_str(w, "rack", tn->rack);
        kv_str(w, "host_id", uuid);
        kv_bool(w, "up", c->hosts[i].up);
        kv_bool(w, "paused", c->hosts[i].paused);
        kv_int(w, "connections", (int64_t)c->hosts[i].nconns);
    }
    return 2;
}

static int node_op(node_cluster_t *c, const node_ctl_req_t *req, char *err, size_t errlen,
                   int which)
{
    int node = -1, rc = want_node(c, req, true, &node, err, errlen);
    if (rc)
        return rc;
    switch (which) {
    case 0: rc = node_cluster_stop_node(c, node); break;
    case 1: rc = node_cluster_start_node(c, node); break;
    default: rc = node_cluster_pause_node(c, node, which == 2); break;
    }
    if (rc)
        return fail(err, errlen, rc, "node %d: %s", node, cqlmq_strerror(rc));
    return 0;
}

static int ctl_stop(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w, char *err,
                    size_t errlen)
{
    (void)w;
    return node_op(c, req, err, errlen, 0);
}

static int ctl_start(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w, char *err,
                     size_t errlen)
{
    (void)w;
    return node_op(c, req, err, errlen, 1);
}

static int ctl_pause(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w, char *err,
                     size_t errlen)
{
    (void)w;
    return node_op(c, req, err, errlen, 2);
}

static int ctl_resume(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w, char *err,
                      size_t errlen)
{
    (void)w;
    return node_op(c, req, err, errlen, 3);
}

static int ctl_fault(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w, char *err,
                     size_t errlen)
{
    int node = -1, rc = want_node(c, req, false, &node, err, errlen);
    if (rc)
        return rc;
    node_fault_rule_t *r = NULL;
    rc = node_ctl_build_rule(req, &r, err, errlen);
    if (rc)
        return rc;
    uint32_t id;
    rc = node_faults_add(&c->faults, &r, &id);
    if (rc) {
        node_fault_rule_free(&r);
        return fail(err, errlen, rc, "fault: %s", cqlmq_strerror(rc));
    }
    kv_int(w, "id", id);
    return 1;
}

static int ctl_unfault(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w, char *err,
                       size_t errlen)
{
    (void)w;
    if (!HAS(id))
        return fail(err, errlen, CQLMQ_EINVAL, "field \"id\" is required");
    if (node_faults_remove(&c->faults, req->id))
        return fail(err, errlen, CQLMQ_ENOTFOUND, "no fault %u", req->id);
    return 0;
}

static int ctl_faults(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w, char *err,
                      size_t errlen)
{
    (void)req, (void)err, (void)errlen;
    mpk_wr_cstr(w, "faults");
    mpk_wr_array(w, (uint32_t)c->faults.count);
    for (const node_fault_rule_t *r = c->faults.head; r; r = r->next) {
        mpk_wr_map(w, 7);
        kv_int(w, "id", r->id);
        kv_str(w, "action", node_fault_action_name(r->action));
        kv_str(w, "opcode", r->opcode < 0 ? NULL : cql_opcode_name(r->opcode));
        kv_str(w, "query", r->query);
        kv_int(w, "node", r->node);
        kv_int(w, "remaining", r->remaining);
        kv_int(w, "hits", (int64_t)r->hits);
    }
    return 1;
}

static int ctl_clear(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w, char *err,
                     size_t errlen)
{
    (void)req, (void)w;
    int rc = node_cluster_clear_faults(c);
    if (rc)
        return fail(err, errlen, rc, "clear: a node could not be started: %s",
                    cqlmq_strerror(rc));
    return 0;
}

/* Applies fn to the selected connections; returns how many. */
static int for_conns(node_cluster_t *c, const node_ctl_req_t *req, int node, int64_t frames)
{
    int n = 0;
    for (int i = 0; i < NODE_MAX_NODES; i++) {
        if (node >= 0 && i != node)
            continue;
        node_conn_t *conn = c->hosts[i].conns;
        while (conn) {
            node_conn_t *next = conn->next;
            if (!HAS(conn) || conn->id == req->conn) {
                n++;
                if (frames < 0)
                    node_conn_close(conn);
                else
                    conn->close_after = frames;
            }
            conn = next;
        }
    }
    return n;
}

static int ctl_close_after(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w, char *err,
                           size_t errlen)
{
    int node = -1, rc = want_node(c, req, false, &node, err, errlen);
    if (rc)
        return rc;
    if (!HAS(frames) || req->frames < 0)
        return fail(err, errlen, CQLMQ_EINVAL, "field \"frames\" (>= 0) is required");
    kv_int(w, "connections", for_conns(c, req, node, req->frames));
    return 1;
}

static int ctl_disconnect(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w, char *err,
                          size_t errlen)
{
    int node = -1, rc = want_node(c, req, false, &node, err, errlen);
    if (rc)
        return rc;
    kv_int(w, "connections", for_conns(c, req, node, -1));
    return 1;
}

static int ctl_forget_prepared(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w,
                               char *err, size_t errlen)
{
    (void)w;
    int node = -1, rc = want_node(c, req, false, &node, err, errlen);
    if (rc)
        return rc;
    for (int i = 0; i < NODE_MAX_NODES; i++)
        if ((node < 0 && node_topo_member(&c->topo, i)) || i == node)
            node_db_forget_prepared(c->db, i);
    return 0;
}

static int ctl_log(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w, char *err,
                   size_t errlen)
{
    int node = -1, op = -1, rc = 0;
    if (HAS(node) && req->node >= 0 && req->node < NODE_MAX_NODES)
        node = req->node; /* a removed node's entries stay in the log */
    else
        rc = want_node(c, req, false, &node, err, errlen);
    if (rc)
        return rc;
    if (HAS(opcode) && (op = node_ctl_opcode(req->opcode)) < 0)
        return fail(err, errlen, CQLMQ_ENOTFOUND, "log: unknown opcode");
    char query[256] = "";
    if (HAS(query))
        snprintf(query, sizeof query, "%.*s", (int)req->query.len, req->query.ptr);
    uint32_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            mpk_wr_cstr(w, "entries");
            mpk_wr_array(w, n);
        }
        for (size_t i = 0; i < c->log.count; i++) {
            const node_act_entry_t *e = node_actlog_get(&c->log, i);
            if ((node >= 0 && e->node != node) || (op >= 0 && e->opcode != op) ||
                (HAS(since) && e->seq <= req->since))
                continue;
            if (query[0] && !node_fault_text_contains(
                                (cql_str_t){e->query, e->query ? strlen(e->query) : 0}, query))
                continue;
            if (pass == 0) {
                n++;
                continue;
            }
            mpk_wr_map(w, 8);
            kv_int(w, "seq", (int64_t)e->seq);
            kv_int(w, "time_us", e->time_us);
            kv_int(w, "node", e->node);
            kv_int(w, "conn", (int64_t)e->conn);
            kv_int(w, "stream", e->stream);
            kv_str(w, "opcode", cql_opcode_name(e->opcode));
            kv_str(w, "query", e->query);
            kv_str(w, "consistency", e->consistency < 0 ? NULL
                                                         : cql_consistency_name(e->consistency));
        }
    }
    kv_int(w, "dropped", (int64_t)c->log.dropped);
    return 2;
}

static int ctl_clear_log(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w, char *err,
                         size_t errlen)
{
    (void)req, (void)w, (void)err, (void)errlen;
    node_actlog_clear(&c->log);
    return 0;
}

static int ctl_connections(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w, char *err,
                           size_t errlen)
{
    static const char *const states[] = {"new", "auth", "ready"};
    int node = -1, rc = want_node(c, req, false, &node, err, errlen);
    if (rc)
        return rc;
    uint32_t n = 0;
    for (int i = 0; i < NODE_MAX_NODES; i++)
        if (node < 0 || i == node)
            n += (uint32_t)c->hosts[i].nconns;
    mpk_wr_cstr(w, "connections");
    mpk_wr_array(w, n);
    for (int i = 0; i < NODE_MAX_NODES; i++) {
        if (node >= 0 && i != node)
            continue;
        for (node_conn_t *conn = c->hosts[i].conns; conn; conn = conn->next) {
            mpk_wr_map(w, 8);
            kv_int(w, "id", (int64_t)conn->id);
            kv_int(w, "node", i);
            kv_str(w, "peer", conn->peer);
            kv_int(w, "version", conn->version);
            kv_str(w, "state", states[conn->state]);
            mpk_wr_cstr(w, "events");
            uint32_t ne = 0;
            for (int k = 0; k < CQL_EVENT_COUNT_; k++)
                ne += (conn->events >> k) & 1u;
            mpk_wr_array(w, ne);
            for (int k = 0; k < CQL_EVENT_COUNT_; k++)
                if ((conn->events >> k) & 1u)
                    mpk_wr_cstr(w, cql_event_type_name(k));
            kv_int(w, "frames", (int64_t)conn->frames_in);
            kv_bool(w, "paused", c->hosts[i].paused);
        }
    }
    return 1;
}

/* Copies an optional name field (dc, rack) into buf, or leaves *out NULL
 * when absent. */
static int name_field(bool has, mpk_str_t v, const char *what, char *buf, const char **out,
                      char *err, size_t errlen)
{
    *out = NULL;
    if (!has)
        return 0;
    if (v.len < 1 || v.len > NODE_DC_NAME_MAX || !node_config_name_ok(v.ptr, v.len))
        return fail(err, errlen, CQLMQ_EINVAL,
                    "add_node: %s must be 1..%d characters of [A-Za-z0-9_.-]", what,
                    NODE_DC_NAME_MAX);
    memcpy(buf, v.ptr, v.len);
    buf[v.len] = '\0';
    *out = buf;
    return 0;
}

static int ctl_add_node(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w, char *err,
                        size_t errlen)
{
    char dcbuf[NODE_DC_NAME_MAX + 1], rackbuf[NODE_DC_NAME_MAX + 1];
    const char *dc, *rack;
    int rc = name_field(HAS(dc), req->dc, "dc", dcbuf, &dc, err, errlen);
    if (rc == 0)
        rc = name_field(HAS(rack), req->rack, "rack", rackbuf, &rack, err, errlen);
    if (rc)
        return rc;
    int i = -1;
    rc = node_cluster_add_node(c, dc, rack, &i);
    if (rc == CQLMQ_ELIMIT)
        return fail(err, errlen, rc, "add_node: the cluster already has %d nodes, the most "
                    "there can be", NODE_MAX_NODES);
    if (rc)
        return fail(err, errlen, rc, "add_node: %s", cqlmq_strerror(rc));
    const node_topo_node_t *tn = &c->topo.nodes[i];
    char addr[32], uuid[37];
    snprintf(addr, sizeof addr, "127.0.0.%d", i + 1);
    node_uuid_format(tn->host_id, uuid);
    kv_int(w, "node", i);
    kv_str(w, "address", addr);
    kv_str(w, "host_id", uuid);
    kv_str(w, "dc", tn->dc);
    kv_str(w, "rack", tn->rack);
    mpk_wr_cstr(w, "tokens");
    mpk_wr_array(w, (uint32_t)tn->ntokens);
    for (size_t k = 0; k < tn->ntokens; k++)
        mpk_wr_int(w, tn->tokens[k]);
    return 6;
}

static int ctl_remove_node(node_cluster_t *c, const node_ctl_req_t *req, mpk_wr_t *w, char *err,
                           size_t errlen)
{
    int node = -1, rc = want_node(c, req, true, &node, err, errlen);
    if (rc)
        return rc;
    rc = node_cluster_remove_node(c, node);
    if (rc == CQLMQ_ELIMIT)
        return fail(err, errlen, rc, "remove_node: node %d is the last node of the cluster",
                    node);
    if (rc)
        return fail(err, errlen, rc, "remove_node %d: %s", node, cqlmq_strerror(rc));
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.%d", node + 1);
    kv_int(w, "node", node);
    kv_str(w, "address", addr);
    return 2;
}

static const struct {
    const char *name;
    ctl_handler_fn fn;
} commands[] = {
#define NODE_CTL_ROW_(name) {#name, ctl_##name},
    NODE_CTL_COMMAND_MAP(NODE_CTL_ROW_)
#undef NODE_CTL_ROW_
};

void node_ctl_handle(node_cluster_t *c, const uint8_t *p, size_t n, mpk_wr_t *reply)
{
    char err[512] = "";
    node_ctl_req_t req;
    mpk_wr_t body;
    mpk_wr_init(&body);
    int rc = node_ctl_decode(p, n, &req, err, sizeof err);
    if (rc == 0) {
        ctl_handler_fn fn = NULL;
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (mpk_str_eq(req.cmd, commands[i].name))
                fn = commands[i].fn;
        if (fn)
            rc = fn(c, &req, &body, err, sizeof err);
        else
            rc = fail(err, sizeof err, CQLMQ_ENOTFOUND, "unknown command \"%.*s\"",
                      (int)(req.cmd.len > 64 ? 64 : req.cmd.len), req.cmd.ptr);
    }
    if (rc >= 0 && mpk_wr_error(&body)) {
        rc = mpk_wr_error(&body);
        snprintf(err, sizeof err, "reply: %s", cqlmq_strerror(rc));
    }
    mpk_wr_reset(reply);
    if (rc >= 0) {
        mpk_wr_map(reply, (uint32_t)rc + 1);
        kv_bool(reply, "ok", true);
        mpk_wr_raw(reply, body.data, body.len);
    } else {
        mpk_wr_map(reply, 2);
        kv_bool(reply, "ok", false);
        kv_str(reply, "error", err);
    }
    mpk_wr_close(&body);
}
