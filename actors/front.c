/*
 * front: ROUTER sockets, validation, connection table, leases, drain and
 * client-side counters. See front.h.
 */
#include "front.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "session.h"

#define SWEEP_MIN_MS 20u
#define SWEEP_MAX_MS 1000u
#define HIST_BUCKETS 256 /* 4 per power of two of microseconds */
#define STATS_TIMEOUT_MS 1000u

/* One client connection: a routing id on one socket, and its session.
 * Invariants: in the hash by (sock, rid) and on the lease list (most
 * recently heard first) exactly while it exists; in_flight/streams count
 * this session's accepted requests without a terminal reply yet. */
typedef struct conn {
    uint32_t sock;
    uint32_t rid_len;
    uint8_t rid[GW_RID_MAX];
    uint64_t gen;              /* session serial (gw_client_t.gen) */
    rt_addr_t session;
    uint64_t last_ms;          /* last inbound message */
    uint64_t in_flight;        /* terminal replies owed */
    uint64_t streams;          /* of which streams */
    struct conn *hnext;        /* hash chain */
    struct conn *prev, *next;  /* lease list */
} conn_t;

typedef struct front front_t;

/* A bound socket and its index (the socket callback's ud). */
typedef struct fsock {
    front_t *f;
    uint32_t idx;
    rt_zsock_t *zs;
} fsock_t;

struct front {
    rt_actor_t *self;
    fsock_t socks[GW_FRONT_MAX_BINDS];
    size_t nsocks;
    wire_limits_t limits;
    rt_addr_t cluster;
    char server[64];
    gw_log_cb log;
    void *log_ud;
    gw_drained_cb on_drained;
    gw_closed_cb on_closed;
    void *cb_ud;
    bool own_cluster;

    conn_t **buckets;          /* nbuckets chains */
    size_t nbuckets;           /* power of two */
    size_t nconns;
    conn_t *lru_head, *lru_tail;

    uint64_t next_gen;
    uint8_t sid_salt[8];       /* random prefix of session names */
    uint64_t sweep_timer;

    bool draining, drained;
    uint64_t drain_deadline_ms;

    /* counters */
    uint64_t requests;         /* accepted requests owing a terminal reply */
    uint64_t in_flight;        /* sum over conns */
    uint64_t streams;          /* sum over conns */
    uint64_t errors;           /* error replies sent */
    uint64_t unreachable;      /* sends to gone clients */
    uint64_t overruns;         /* EAGAIN sends */
    uint64_t hist[HIST_BUCKETS];
    uint64_t hist_n;
};

static void flog(front_t *f, int level, const char *msg, const char *detail)
{
    if (f->log != NULL)
        f->log(f->log_ud, level, msg, detail);
}

/* ---- latency histogram ---- */

static unsigned hist_bucket(uint64_t us)
{
    if (us < 4)
        return (unsigned)us;
    unsigned msb = 63u - (unsigned)__builtin_clzll(us);
    unsigned sub = (unsigned)((us >> (msb - 2)) & 3u);
    unsigned b = msb * 4u + sub;
    return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

/* Upper bound of bucket b in microseconds. */
static uint64_t hist_upper(unsigned b)
{
    if (b < 4)
        return b;
    unsigned msb = b / 4u, sub = b % 4u;
    if (msb >= 63)
        return UINT64_MAX;
    return ((uint64_t)(4u + sub + 1u) << (msb - 2)) - 1u;
}

static uint64_t hist_pct(const front_t *f, double q)
{
    if (f->hist_n == 0)
        return 0;
    uint64_t want = (uint64_t)((double)f->hist_n * q);
    if (want >= f->hist_n)
        want = f->hist_n - 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < HIST_BUCKETS; b++) {
        seen += f->hist[b];
        if (seen > want)
            return hist_upper(b);
    }
    return hist_upper(HIST_BUCKETS - 1);
}

/* ---- connection table ---- */

static uint64_t conn_hash(uint32_t sock, const uint8_t *rid, size_t n)
{
    uint64_t h = 1469598103934665603ull ^ sock;
    for (size_t i = 0; i < n; i++) {
        h ^= rid[i];
        h *= 1099511628211ull;
    }
    return h;
}

static conn_t *conn_find(front_t *f, uint32_t sock, const uint8_t *rid, size_t n)
{
    conn_t *c = f->buckets[conn_hash(sock, rid, n) & (f->nbuckets - 1)];
    for (; c != NULL; c = c->hnext)
        if (c->sock == sock && c->rid_len == n && memcmp(c->rid, rid, n) == 0)
            return c;
    return NULL;
}

static void lru_unlink(front_t *f, conn_t *c)
{
    if (c->prev) c->prev->next = c->next;
    else f->lru_head = c->next;
    if (c->next) c->next->prev = c->prev;
    else f->lru_tail = c->prev;
    c->prev = c->next = NULL;
}

static void lru_push(front_t *f, conn_t *c)
{
    c->prev = NULL;
    c->next = f->lru_head;
    if (f->lru_head) f->lru_head->prev = c;
    else f->lru_tail = c;
    f->lru_head = c;
}

static int table_grow(front_t *f)
{
    size_t n = f->nbuckets * 2;
    conn_t **b = calloc(n, sizeof *b);
    if (b == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < f->nbuckets; i++) {
        conn_t *c = f->buckets[i];
        while (c != NULL) {
            conn_t *next = c->hnext;
            size_t k = conn_hash(c->sock, c->rid, c->rid_len) & (n - 1);
            c->hnext = b[k];
            b[k] = c;
            c = next;
        }
    }
    free(f->buckets);
    f->buckets = b;
    f->nbuckets = n;
    return 0;
}

static conn_t *conn_add(front_t *f, uint32_t sock, const uint8_t *rid, size_t n)
{
    if (f->nconns >= f->nbuckets && table_grow(f) != 0)
        return NULL;
    conn_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->sock = sock;
    c->last_ms = gw_now_ms();
    c->rid_len = (uint32_t)n;
    memcpy(c->rid, rid, n);
    size_t k = conn_hash(sock, rid, n) & (f->nbuckets - 1);
    c->hnext = f->buckets[k];
    f->buckets[k] = c;
    lru_push(f, c);
    f->nconns++;
    return c;
}

/* Forgets the session's work in the counters and stops it. */
static void conn_end_session(front_t *f, conn_t *c, int reason)
{
    f->in_flight -= c->in_flight;
    f->streams -= c->streams;
    c->in_flight = c->streams = 0;
    if (c->session != RT_ADDR_NONE)
        (void)rt_kill(f->self, c->session, reason);
    c->session = RT_ADDR_NONE;
}

static void conn_remove(front_t *f, conn_t *c, int reason)
{
    conn_end_session(f, c, reason);
    conn_t **pp = &f->buckets[conn_hash(c->sock, c->rid, c->rid_len) & (f->nbuckets - 1)];
    while (*pp != c)
        pp = &(*pp)->hnext;
    *pp = c->hnext;
    lru_unlink(f, c);
    f->nconns--;
    free(c);
}

/* ---- sending ---- */

static void check_drained(front_t *f);

/* Sends one reply (reply bytes copied; own, if not NULL, is handed over and
 * is the reply buffer). Returns rt_zsock_send_bufs's code after acting on
 * EHOSTUNREACH / EAGAIN for connection c (which may be removed: the caller
 * must not use c after a CQLMQ_EUNREACHABLE). */
static int send_reply(front_t *f, uint32_t sock, conn_t *c, const uint8_t *rid, size_t rid_len,
                      const uint8_t *reply, size_t len, void *own)
{
    if (sock >= f->nsocks || f->socks[sock].zs == NULL) {
        free(own);
        return CQLMQ_ECLOSED;
    }
    const void *bufs[2] = {rid, reply};
    size_t lens[2] = {rid_len, len};
    void *owns[2] = {NULL, own};
    int rc = rt_zsock_send_bufs(f->socks[sock].zs, bufs, lens, owns, 2);
    if (rc == CQLMQ_EUNREACHABLE) {
        f->unreachable++;
        if (c != NULL) {
            flog(f, 0, "client gone", "EHOSTUNREACH: session ended, its work cancelled");
            conn_remove(f, c, CQLMQ_EUNREACHABLE);
        }
    } else if (rc == CQLMQ_EAGAIN) {
        f->overruns++;
        if (c != NULL && c->session != RT_ADDR_NONE) {
            flog(f, 2, "client overran its queue", "EAGAIN: its streams are cancelled");
            (void)rt_send(f->self, c->session, GW_MSG_SESSION_SHED, NULL, 0);
        }
    }
    return rc;
}

/* Sends what the writer holds (a whole reply) and resets it. */
static void send_wr(front_t *f, uint32_t sock, conn_t *c, const uint8_t *rid, size_t rid_len,
                    mpk_wr_t *w)
{
    size_t len;
    uint8_t *buf = mpk_wr_release(w, &len);
    if (buf == NULL)
        return; /* out of memory while encoding: nothing to send */
    (void)send_reply(f, sock, c, rid, rid_len, buf, len, buf);
}

int gw_write_error(mpk_wr_t *w, uint64_t id, const char *code, const char *message,
                   int32_t cql_code, mpk_raw_t details)
{
    wire_error_rep_t e;
    memset(&e, 0, sizeof e);
    e.op = mpk_cstr("error");
    e.id = id;
    e.code = mpk_cstr(code);
    e.message = mpk_cstr(message != NULL ? message : code);
    if (cql_code >= 0) {
        MPK_SET(&e, wire_error_rep, cql_code);
        e.cql_code = cql_code;
    }
    if (details.len > 0) {
        MPK_SET(&e, wire_error_rep, details);
        e.details = details;
    }
    return wire_error_rep_encode(w, &e);
}

static void send_error(front_t *f, uint32_t sock, conn_t *c, const uint8_t *rid, size_t rid_len,
                       uint64_t id, wire_error_t code, const char *message)
{
    mpk_wr_t w;
    mpk_wr_init(&w);
    (void)wire_reply_error(&w, id, code, message);
    f->errors++;
    send_wr(f, sock, c, rid, rid_len, &w);
}

/* ---- inbound ---- */

static void hello(front_t *f, uint32_t sock, conn_t *c, const uint8_t *rid, size_t rid_len,
                  const wire_req_t *q)
{
    if (q->u.hello.protocol != WIRE_PROTOCOL_VERSION) {
        mpk_wr_t w;
        mpk_wr_init(&w);
        (void)wire_reply_unsupported_version(&w, q->id);
        f->errors++;
        send_wr(f, sock, c, rid, rid_len, &w);
        return;
    }
    if (c == NULL && (c = conn_add(f, sock, rid, rid_len)) == NULL) {
        send_error(f, sock, NULL, rid, rid_len, q->id, WIRE_ERR_BUSY, "out of memory");
        return;
    }
    conn_end_session(f, c, CQLMQ_ECLOSED); /* a new hello replaces the session */
    c->gen = ++f->next_gen;
    gw_session_cfg_t sc;
    memset(&sc, 0, sizeof sc);
    sc.client.front = rt_self(f->self);
    sc.client.gen = c->gen;
    sc.client.sock = sock;
    sc.client.rid_len = (uint32_t)rid_len;
    memcpy(sc.client.rid, rid, rid_len);
    sc.limits = f->limits;
    sc.cluster = f->cluster;
    sc.log = f->log;
    sc.log_ud = f->log_ud;
    int rc = rt_spawn(rt_actor_loop(f->self), &gw_session_def, &sc, &c->session);
    if (rc != 0) {
        c->session = RT_ADDR_NONE;
        send_error(f, sock, c, rid, rid_len, q->id, WIRE_ERR_BUSY, cqlmq_strerror(rc));
        conn_remove(f, c, rc);
        return;
    }
    char sid[40];
    snprintf(sid, sizeof sid, "%02x%02x%02x%02x%02x%02x%02x%02x%016llx", f->sid_salt[0],
             f->sid_salt[1], f->sid_salt[2], f->sid_salt[3], f->sid_salt[4], f->sid_salt[5],
             f->sid_salt[6], f->sid_salt[7], (unsigned long long)c->gen);
    mpk_wr_t w;
    mpk_wr_init(&w);
    (void)wire_reply_hello(&w, q->id, f->server, mpk_cstr(sid), &f->limits);
    send_wr(f, sock, c, rid, rid_len, &w);
}

/* The stats request in flight to the cluster (its reply completes it). */
typedef struct stats_req {
    uint32_t sock;
    uint32_t rid_len;
    uint8_t rid[GW_RID_MAX];
    uint64_t id;
} stats_req_t;

static void stats_reply(front_t *f, const stats_req_t *sr, int64_t hosts_up)
{
    wire_stats_rep_t s;
    memset(&s, 0, sizeof s);
    s.op = mpk_cstr("stats");
    s.id = sr->id;
#define SET_(field, v) (MPK_SET(&s, wire_stats_rep, field), s.field = (v))
    SET_(requests, f->requests);
    SET_(in_flight, f->in_flight);
    SET_(streams, f->streams);
    SET_(sessions, f->nconns);
    if (hosts_up >= 0)
        SET_(hosts_up, (uint64_t)hosts_up);
    SET_(errors, f->errors);
    SET_(latency_p50_us, hist_pct(f, 0.50));
    SET_(latency_p99_us, hist_pct(f, 0.99));
    SET_(latency_p999_us, hist_pct(f, 0.999));
#undef SET_
    mpk_wr_t w;
    mpk_wr_init(&w);
    (void)wire_stats_rep_encode(&w, &s);
    conn_t *c = conn_find(f, sr->sock, sr->rid, sr->rid_len);
    send_wr(f, sr->sock, c, sr->rid, sr->rid_len, &w);
}

static void on_cluster_stats(rt_actor_t *self, const rt_msg_t *reply, int err, void *ud)
{
    front_t *f = rt_state(self);
    stats_req_t *sr = ud;
    int64_t up = -1;
    if (err == 0) {
        gw_stats_t st;
        mpk_rd_t r;
        mpk_rd_init(&r, reply->data, reply->len);
        if (gw_stats_decode(&r, &st) == 0)
            up = (int64_t)st.hosts_up;
    }
    if (err != CQLMQ_ECANCELLED && f != NULL)
        stats_reply(f, sr, up);
    free(sr);
}

static void stats(front_t *f, uint32_t sock, const uint8_t *rid, size_t rid_len, uint64_t id)
{
    stats_req_t *sr = calloc(1, sizeof *sr);
    if (sr == NULL)
        return;
    sr->sock = sock;
    sr->rid_len = (uint32_t)rid_len;
    memcpy(sr->rid, rid, rid_len);
    sr->id = id;
    if (f->cluster != RT_ADDR_NONE) {
        (void)rt_request_begin(f->self, f->cluster, GW_MSG_STATS);
        if (rt_request_end(f->self, STATS_TIMEOUT_MS, on_cluster_stats, sr, NULL) == 0)
            return;
    }
    stats_reply(f, sr, -1);
    free(sr);
}

static bool owes_terminal(wire_op_t op)
{
    return op == WIRE_OP_QUERY || op == WIRE_OP_PREPARE || op == WIRE_OP_EXECUTE ||
           op == WIRE_OP_BATCH;
}

static void forward(front_t *f, conn_t *c, const wire_req_t *q, const uint8_t *frame,
                    size_t len)
{
    mpk_wr_t *w = rt_msg_begin(f->self, c->session, GW_MSG_SESSION_REQ);
    mpk_wr_array(w, 2);
    mpk_wr_uint(w, uv_hrtime() / 1000u);
    mpk_wr_bin(w, frame, len);
    int rc = rt_msg_end(f->self);
    if (rc != 0) {
        if (owes_terminal(q->op))
            send_error(f, c->sock, c, c->rid, c->rid_len, q->id, WIRE_ERR_BUSY,
                       "session mailbox full");
        return;
    }
    if (owes_terminal(q->op)) {
        f->requests++;
        c->in_flight++;
        f->in_flight++;
        if (q->stream && q->op != WIRE_OP_PREPARE && q->op != WIRE_OP_BATCH) {
            c->streams++;
            f->streams++;
        }
    }
}

static void on_frame(rt_zsock_t *zs, zmq_msg_t *parts, size_t n, void *ud)
{
    fsock_t *fs = ud;
    front_t *f = fs->f;
    if (n < 2 || zmq_msg_size(&parts[0]) == 0 || zmq_msg_size(&parts[0]) > GW_RID_MAX)
        return; /* a ROUTER always prepends a routing id */
    const uint8_t *rid = zmq_msg_data(&parts[0]);
    size_t rid_len = zmq_msg_size(&parts[0]);
    const uint8_t *frame = zmq_msg_data(&parts[1]);
    size_t len = zmq_msg_size(&parts[1]);
    conn_t *c = conn_find(f, fs->idx, rid, rid_len);
    if (c != NULL) { /* any message renews the lease */
        c->last_ms = gw_now_ms();
        lru_unlink(f, c);
        lru_push(f, c);
    }
    mpk_str_t op;
    uint64_t id = 0;
    if (n != 2) {
        if (wire_peek_head(frame, len, &op, &id) != 0 || id > WIRE_ID_MAX)
            id = 0;
        send_error(f, fs->idx, c, rid, rid_len, id, WIRE_ERR_BAD_REQUEST,
                   "a request is one ZeroMQ frame holding one msgpack map");
        return;
    }
    if (len > f->limits.max_message_bytes) {
        if (wire_peek_head(frame, len, &op, &id) != 0 || id > WIRE_ID_MAX)
            id = 0;
        char m[128];
        snprintf(m, sizeof m, "message of %zu bytes exceeds max_message_bytes (%llu)", len,
                 (unsigned long long)f->limits.max_message_bytes);
        send_error(f, fs->idx, c, rid, rid_len, id, WIRE_ERR_BAD_REQUEST, m);
        return;
    }
    wire_req_t q;
    wire_diag_t d;
    d.msg[0] = '\0';
    int rc = wire_req_decode(frame, len, &f->limits, &q, &d);
    if (rc != 0) {
        send_error(f, fs->idx, c, rid, rid_len, q.id, WIRE_ERR_BAD_REQUEST,
                   d.msg[0] ? d.msg : cqlmq_strerror(rc));
        return;
    }
    if (q.op == WIRE_OP_HELLO) {
        if (f->draining)
            send_error(f, fs->idx, c, rid, rid_len, q.id, WIRE_ERR_SHUTTING_DOWN,
                       "cqlmqd is draining");
        else
            hello(f, fs->idx, c, rid, rid_len, &q);
        return;
    }
    if (c == NULL || c->session == RT_ADDR_NONE) {
        send_error(f, fs->idx, c, rid, rid_len, q.id, WIRE_ERR_UNKNOWN_SESSION,
                   "no session: send hello first");
        return;
    }
    switch (q.op) {
    case WIRE_OP_PING: {
        mpk_wr_t w;
        mpk_wr_init(&w);
        (void)wire_reply_pong(&w, q.id);
        send_wr(f, fs->idx, c, rid, rid_len, &w);
        return;
    }
    case WIRE_OP_STATS:
        stats(f, fs->idx, rid, rid_len, q.id);
        return;
    default:
        break;
    }
    if (f->draining && owes_terminal(q.op)) {
        send_error(f, fs->idx, c, rid, rid_len, q.id, WIRE_ERR_SHUTTING_DOWN,
                   "cqlmqd is draining");
        return;
    }
    forward(f, c, &q, frame, len);
}

/* ---- actor messages ---- */

static void on_out(rt_actor_t *self, const rt_msg_t *m)
{
    front_t *f = rt_state(self);
    gw_front_out_t o;
    mpk_rd_t r;
    mpk_rd_init(&r, m->data, m->len);
    if (gw_front_out_decode(&r, &o) != 0 || o.rid.len == 0 || o.rid.len > GW_RID_MAX)
        return;
    conn_t *c = conn_find(f, o.sock, o.rid.ptr, o.rid.len);
    if (c == NULL || c->gen != o.gen)
        return; /* the session ended or was replaced: its replies go nowhere */
    if (o.flags & GW_OUT_TERMINAL) {
        if (c->in_flight > 0) {
            c->in_flight--;
            f->in_flight--;
        }
        if ((o.flags & GW_OUT_STREAM) && c->streams > 0) {
            c->streams--;
            f->streams--;
        }
        f->hist[hist_bucket(o.latency_us)]++;
        f->hist_n++;
    }
    if (o.flags & GW_OUT_ERROR)
        f->errors++;
    (void)send_reply(f, o.sock, c, o.rid.ptr, o.rid.len, o.reply.ptr, o.reply.len, NULL);
    if (f->draining)
        check_drained(f);
}

static void finish_drain(front_t *f, uint64_t abandoned)
{
    if (f->drained)
        return;
    f->drained = true;
    char d[64];
    snprintf(d, sizeof d, "abandoned=%llu", (unsigned long long)abandoned);
    flog(f, abandoned ? 2 : 1, "drain finished", d);
    if (f->on_drained != NULL)
        f->on_drained(f->cb_ud, abandoned);
}

static void check_drained(front_t *f)
{
    if (!f->draining || f->drained)
        return;
    if (f->in_flight == 0)
        finish_drain(f, 0);
    else if (gw_now_ms() >= f->drain_deadline_ms)
        finish_drain(f, f->in_flight);
}

static void on_drain(rt_actor_t *self, const rt_msg_t *m)
{
    front_t *f = rt_state(self);
    uint64_t ms = 0;
    mpk_rd_t r;
    mpk_rd_init(&r, m->data, m->len);
    uint32_t n;
    if (mpk_rd_array(&r, &n) == 0 && n >= 1)
        (void)mpk_rd_uint(&r, &ms);
    if (!f->draining) {
        f->draining = true;
        f->drain_deadline_ms = gw_now_ms() + ms;
        flog(f, 1, "draining", NULL);
    }
    check_drained(f);
}

static void on_sweep(rt_actor_t *self, const rt_msg_t *m)
{
    front_t *f = rt_state(self);
    uint64_t now = gw_now_ms();
    while (f->lru_tail != NULL && now - f->lru_tail->last_ms > f->limits.lease_ms) {
        flog(f, 0, "session lease expired", NULL);
        conn_remove(f, f->lru_tail, CQLMQ_ETIMEOUT);
    }
    check_drained(f);
}

static void close_sockets(front_t *f)
{
    for (size_t i = 0; i < f->nsocks; i++)
        rt_zsock_close(&f->socks[i].zs);
}

static void on_stop_msg(rt_actor_t *self, const rt_msg_t *m)
{
    front_t *f = rt_state(self);
    while (f->lru_head != NULL)
        conn_remove(f, f->lru_head, CQLMQ_ECLOSED);
    close_sockets(f);
    if (f->own_cluster && f->cluster != RT_ADDR_NONE)
        (void)rt_kill(self, f->cluster, 0);
    rt_stop(self, 0);
}

/* ---- lifecycle ---- */

static int setopt_int(void *s, int opt, int v) { return zmq_setsockopt(s, opt, &v, sizeof v); }

static int open_socket(front_t *f, const char *ep, char *bound)
{
    fsock_t *fs = &f->socks[f->nsocks];
    fs->f = f;
    fs->idx = (uint32_t)f->nsocks;
    int rc = rt_zsock_new(rt_actor_loop(f->self), ZMQ_ROUTER, 0, on_frame, fs, &fs->zs);
    if (rc != 0)
        return rc;
    void *s = rt_zsock_handle(fs->zs);
    const wire_limits_t *l = &f->limits;
    /* a little above the announced limit: such messages are answered
     * bad_request; far beyond it ZeroMQ drops the connection */
    int64_t maxmsg = (int64_t)(l->max_message_bytes * 2 + 65536);
    uint64_t hwm = l->max_in_flight + l->max_streams * (l->max_credit + 1) + 1024;
    int ok = setopt_int(s, ZMQ_ROUTER_MANDATORY, 1) | setopt_int(s, ZMQ_LINGER, 0) |
             setopt_int(s, ZMQ_HANDSHAKE_IVL, 5000) |
             setopt_int(s, ZMQ_HEARTBEAT_IVL, 5000) |
             setopt_int(s, ZMQ_HEARTBEAT_TIMEOUT, 15000) |
             setopt_int(s, ZMQ_SNDHWM, hwm > 1000000 ? 1000000 : (int)hwm) |
             setopt_int(s, ZMQ_RCVHWM, hwm > 1000000 ? 1000000 : (int)hwm) |
             zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (ok != 0 || zmq_bind(s, ep) != 0) {
        char d[GW_FRONT_ENDPOINT_MAX + 64];
        snprintf(d, sizeof d, "%s: %s", ep, zmq_strerror(zmq_errno()));
        flog(f, 3, "cannot bind", d);
        rt_zsock_close(&fs->zs);
        return CQLMQ_EZMQ;
    }
    char last[GW_FRONT_ENDPOINT_MAX];
    size_t ln = sizeof last;
    if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, last, &ln) != 0)
        snprintf(last, sizeof last, "%s", ep);
    if (bound != NULL)
        snprintf(bound, GW_FRONT_ENDPOINT_MAX, "%s", last);
    flog(f, 1, "listening", last);
    f->nsocks++;
    return 0;
}

static void front_free(front_t *f)
{
    if (f == NULL)
        return;
    close_sockets(f);
    while (f->lru_head != NULL)
        conn_remove(f, f->lru_head, CQLMQ_ECLOSED);
    free(f->buckets);
    free(f);
}

static int front_init(rt_actor_t *self, void *arg)
{
    const gw_front_cfg_t *cfg = arg;
    const wire_limits_t *l = &cfg->limits;
    if (cfg->nbinds == 0 || cfg->nbinds > GW_FRONT_MAX_BINDS || l->max_message_bytes == 0 ||
        l->max_in_flight == 0 || l->max_streams == 0 || l->max_credit == 0 ||
        l->max_page_bytes == 0 || l->default_page_size == 0 || l->lease_ms == 0 ||
        l->default_timeout_ms == 0 || l->default_timeout_ms > l->max_timeout_ms)
        return CQLMQ_EINVAL;
    front_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return CQLMQ_ENOMEM;
    f->self = self;
    f->limits = *l;
    f->cluster = cfg->cluster;
    snprintf(f->server, sizeof f->server, "%s", cfg->server ? cfg->server : "cqlmqd/0.1.0");
    f->log = cfg->log;
    f->log_ud = cfg->log_ud;
    f->on_drained = cfg->on_drained;
    f->on_closed = cfg->on_closed;
    f->cb_ud = cfg->cb_ud;
    f->own_cluster = cfg->own_cluster;
    f->nbuckets = 64;
    f->buckets = calloc(f->nbuckets, sizeof *f->buckets);
    if (f->buckets == NULL) {
        free(f);
        return CQLMQ_ENOMEM;
    }
    if (getrandom(f->sid_salt, sizeof f->sid_salt, 0) != (ssize_t)sizeof f->sid_salt) {
        uint64_t t = uv_hrtime();
        memcpy(f->sid_salt, &t, sizeof f->sid_salt);
    }
    rt_set_state(self, f);
    int rc = 0;
    for (size_t i = 0; i < cfg->nbinds && rc == 0; i++)
        rc = open_socket(f, cfg->binds[i], cfg->bound ? cfg->bound[i] : NULL);
    uint64_t sweep = l->lease_ms / 8;
    sweep = sweep < SWEEP_MIN_MS ? SWEEP_MIN_MS : sweep > SWEEP_MAX_MS ? SWEEP_MAX_MS : sweep;
    if (rc == 0)
        rc = rt_timer_start(self, sweep, sweep, GW_MSG_FRONT_SWEEP, &f->sweep_timer);
    if (rc != 0) {
        rt_set_state(self, NULL);
        front_free(f);
    }
    return rc;
}

static void front_stop(rt_actor_t *self, int reason)
{
    front_t *f = rt_state(self);
    rt_set_state(self, NULL);
    if (f == NULL)
        return;
    gw_closed_cb cb = f->on_closed;
    void *ud = f->cb_ud;
    front_free(f);
    if (cb != NULL)
        cb(ud);
}

static const rt_handler_cb front_handlers[GW_CLIENT_MSG_LIMIT_] = {
    [GW_MSG_FRONT_OUT] = on_out,
    [GW_MSG_FRONT_DRAIN] = on_drain,
    [GW_MSG_FRONT_SWEEP] = on_sweep,
    [GW_MSG_FRONT_STOP] = on_stop_msg,
};

const rt_actor_def_t gw_front_def = {
    "front", front_handlers, GW_CLIENT_MSG_LIMIT_, NULL, NULL, front_init, front_stop,
};
