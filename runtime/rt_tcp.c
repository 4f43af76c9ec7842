/*
 * rt_tcp: TCP connections for actors on a loop.
 *
 *   connect   uv_tcp_connect raced by a uv_timer (the timeout);
 *   read      bytes appended to one input buffer, offered to the on_data
 *             streaming decoder, leftovers kept for the next read; bounded
 *             by max_input;
 *   write     pieces queued during a turn (copies gathered into shared
 *             chunks, owned buffers as they are) leave in ONE uv_write with
 *             several bufs from the loop's prepare phase; rt_tcp_queued()
 *             counts queued plus in-flight bytes for backpressure;
 *   close     flagged while any of this connection's callbacks runs and done
 *             when it returns (a handler may close its own connection — the
 *             Redis lesson); memory is freed in the uv close callbacks.
 *   transport a filter between socket and plaintext (rt_transport_ops_t):
 *             NULL is plain TCP; a TLS filter fits in the same two calls.
 */
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

#define CHUNK_MIN 4096
#define READ_MIN 65536

typedef struct piece {
    uint8_t *base;
    size_t len, cap; /* cap > len: a copy chunk with room left */
} piece_t;

struct rt_tcp {
    rt_loop_t *loop;
    uv_tcp_t h;
    uv_connect_t creq;
    uv_timer_t timer;        /* connect timeout */
    rt_tcp_cbs_t cbs;
    void *ud;
    const rt_transport_ops_t *tops;
    void *tctx;
    uint8_t *in;             /* unconsumed input */
    size_t in_len, in_cap, max_input;
    piece_t *pend;           /* queued this turn, in order */
    size_t npend, cappend, pend_bytes;
    size_t inflight_bytes;   /* handed to uv_write, not yet completed */
    uint64_t uv_writes;      /* uv_write calls made (coalescing shows here) */
    int in_cb;               /* depth of our callbacks on the stack */
    int open_handles;
    int close_reason;
    bool connected, closing, close_started, on_flush;
    struct rt_tcp *prev, *next, *flush_next;
};

struct rt_tcp_listener {
    rt_loop_t *loop;
    uv_tcp_t h;
    rt_tcp_accept_cb on_accept;
    void *lud;
    rt_tcp_opts_t opts;
    struct rt_tcp_listener *next;
};

typedef struct wreq {
    uv_write_t req;
    rt_tcp_t *t;
    size_t n, bytes;
    uv_buf_t bufs[];
} wreq_t;

static int uv_err(int e)
{
    switch (e) {
    case UV_ECONNREFUSED: return CQLMQ_ECONNREFUSED;
    case UV_ECONNRESET: case UV_EPIPE: return CQLMQ_ECONNRESET;
    case UV_ETIMEDOUT: return CQLMQ_ETIMEOUT;
    case UV_ENOMEM: return CQLMQ_ENOMEM;
    default: return CQLMQ_EIO;
    }
}

static void do_close(rt_tcp_t *t);

static inline void enter(rt_tcp_t *t) { t->in_cb++; }
static inline void leave(rt_tcp_t *t)
{
    if (--t->in_cb == 0 && t->closing && !t->close_started)
        do_close(t);
}

/* ---- closing ---- */

static void on_closed(uv_handle_t *h)
{
    rt_tcp_t *t = h->data;
    t->loop->closing_handles--;
    if (--t->open_handles > 0)
        return;
    if (t->cbs.on_close != NULL)
        t->cbs.on_close(t, t->close_reason, t->ud);
    for (size_t i = 0; i < t->npend; i++)
        free(t->pend[i].base);
    free(t->pend);
    free(t->in);
    if (t->tops != NULL && t->tops->close != NULL)
        t->tops->close(t->tctx);
    free(t);
}

static void do_close(rt_tcp_t *t)
{
    rt_loop_t *loop = t->loop;
    t->close_started = true;
    if (t->prev) t->prev->next = t->next;
    else loop->tcps = t->next;
    if (t->next) t->next->prev = t->prev;
    if (t->on_flush) {
        for (rt_tcp_t **pp = &loop->tcp_flush; *pp; pp = &(*pp)->flush_next)
            if (*pp == t) {
                *pp = t->flush_next;
                break;
            }
        t->on_flush = false;
    }
    uv_timer_stop(&t->timer);
    t->open_handles = 2;
    loop->closing_handles += 2;
    uv_close((uv_handle_t *)&t->h, on_closed); /* in-flight writes get ECANCELED */
    uv_close((uv_handle_t *)&t->timer, on_closed);
}

void rt_tcp_close(rt_tcp_t *t, int reason)
{
    if (t->closing)
        return;
    t->closing = true;
    t->close_reason = reason;
    if (t->in_cb == 0)
        do_close(t);
}

/* ---- creation ---- */

static int tcp_create(rt_loop_t *loop, const rt_tcp_opts_t *opts, rt_tcp_t **out)
{
    rt_tcp_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        return CQLMQ_ENOMEM;
    t->loop = loop;
    t->max_input = opts && opts->max_input ? opts->max_input : (16u << 20);
    t->tops = opts ? opts->transport : NULL;
    if (uv_tcp_init(&loop->uv, &t->h) != 0) {
        free(t);
        return CQLMQ_EUV;
    }
    /* Small pipelined requests must not wait for Nagle: libuv keeps the flag
     * and applies it when the socket is connected or accepted. */
    uv_tcp_nodelay(&t->h, 1);
    uv_timer_init(&loop->uv, &t->timer);
    t->h.data = t->timer.data = t;
    t->next = loop->tcps;
    if (loop->tcps)
        loop->tcps->prev = t;
    loop->tcps = t;
    if (t->tops != NULL && t->tops->open != NULL) {
        int rc = t->tops->open(t, opts->transport_cfg, &t->tctx);
        if (rc != 0) {
            t->tops = NULL; /* nothing to close */
            rt_tcp_close(t, rc);
            return rc;
        }
    }
    *out = t;
    return 0;
}

/* ---- reading ---- */

int rt_tcp_deliver(rt_tcp_t *t, const uint8_t *p, size_t n)
{
    if (t->closing)
        return CQLMQ_ECLOSED;
    if (p != NULL && n > 0) { /* p == NULL: the bytes are in t->in already */
        if (t->in_len + n > t->in_cap) {
            size_t cap = t->in_cap ? t->in_cap : READ_MIN;
            while (cap < t->in_len + n)
                cap *= 2;
            uint8_t *q = realloc(t->in, cap);
            if (q == NULL) {
                rt_tcp_close(t, CQLMQ_ENOMEM);
                return CQLMQ_ENOMEM;
            }
            t->in = q;
            t->in_cap = cap;
        }
        memcpy(t->in + t->in_len, p, n);
        t->in_len += n;
    }
    size_t off = 0;
    enter(t);
    while (off < t->in_len && !t->closing && t->cbs.on_data != NULL) {
        long c = t->cbs.on_data(t, t->in + off, t->in_len - off, t->ud);
        if (c < 0) {
            rt_tcp_close(t, (int)c);
            break;
        }
        if (c == 0)
            break;
        off += (size_t)c > t->in_len - off ? t->in_len - off : (size_t)c;
    }
    if (off > 0) {
        memmove(t->in, t->in + off, t->in_len - off);
        t->in_len -= off;
    }
    if (!t->closing && t->in_len > t->max_input)
        rt_tcp_close(t, CQLMQ_ETOOBIG);
    leave(t);
    return 0;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    rt_tcp_t *t = h->data;
    (void)hint;
    if (t->in_cap - t->in_len < READ_MIN) {
        size_t cap = t->in_cap ? t->in_cap : READ_MIN;
        while (cap - t->in_len < READ_MIN)
            cap *= 2;
        uint8_t *q = realloc(t->in, cap);
        if (q == NULL) {
            buf->base = NULL;
            buf->len = 0; /* libuv reports UV_ENOBUFS */
            return;
        }
        t->in = q;
        t->in_cap = cap;
    }
    buf->base = (char *)t->in + t->in_len;
    buf->len = t->in_cap - t->in_len;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    rt_tcp_t *t = s->data;
    (void)buf;
    if (t->closing)
        return;
    if (nread < 0) {
        rt_tcp_close(t, nread == UV_EOF ? CQLMQ_ECLOSED : uv_err((int)nread));
        return;
    }
    if (nread == 0)
        return;
    if (t->tops == NULL || t->tops->on_read == NULL) {
        t->in_len += (size_t)nread;
        (void)rt_tcp_deliver(t, NULL, 0);
        return;
    }
    /* A transport reads ciphertext: take it out of the input buffer. */
    size_t n = (size_t)nread;
    uint8_t *copy = malloc(n);
    if (copy == NULL) {
        rt_tcp_close(t, CQLMQ_ENOMEM);
        return;
    }
    memcpy(copy, t->in + t->in_len, n);
    enter(t);
    int rc = t->tops->on_read(t, t->tctx, copy, n);
    if (rc < 0)
        rt_tcp_close(t, rc);
    leave(t);
    free(copy);
}

/* ---- connecting ---- */

static void start_reading(rt_tcp_t *t)
{
    t->connected = true;
    int rc = uv_read_start((uv_stream_t *)&t->h, on_alloc, on_read);
    if (rc != 0)
        rt_tcp_close(t, uv_err(rc));
}

static void schedule_flush(rt_tcp_t *t)
{
    if (t->on_flush || !t->connected || t->closing)
        return;
    t->on_flush = true;
    t->flush_next = t->loop->tcp_flush;
    t->loop->tcp_flush = t;
}

static void on_connect(uv_connect_t *req, int status)
{
    rt_tcp_t *t = req->data;
    if (status == UV_ECANCELED || t->closing)
        return; /* closed (or timed out) before the connection was made */
    uv_timer_stop(&t->timer);
    enter(t);
    if (status < 0) {
        int rc = uv_err(status);
        if (t->cbs.on_connect)
            t->cbs.on_connect(t, rc, t->ud);
        rt_tcp_close(t, rc);
    } else {
        start_reading(t);
        if (!t->closing && t->cbs.on_connect)
            t->cbs.on_connect(t, 0, t->ud);
        if (t->npend > 0)
            schedule_flush(t);
    }
    leave(t);
}

static void on_connect_timeout(uv_timer_t *h)
{
    rt_tcp_t *t = h->data;
    if (t->connected || t->closing)
        return;
    enter(t);
    if (t->cbs.on_connect)
        t->cbs.on_connect(t, CQLMQ_ETIMEOUT, t->ud);
    rt_tcp_close(t, CQLMQ_ETIMEOUT);
    leave(t);
}

int rt_tcp_connect(rt_loop_t *loop, const struct sockaddr *addr, const rt_tcp_opts_t *opts,
                   const rt_tcp_cbs_t *cbs, void *ud, rt_tcp_t **out)
{
    rt_tcp_t *t;
    if (addr == NULL || cbs == NULL || loop->stopping)
        return loop->stopping ? CQLMQ_ESTATE : CQLMQ_EINVAL;
    int rc = tcp_create(loop, opts, &t);
    if (rc != 0)
        return rc;
    t->cbs = *cbs;
    t->ud = ud;
    t->creq.data = t;
    rc = uv_tcp_connect(&t->creq, &t->h, addr, on_connect);
    if (rc != 0) {
        t->cbs.on_close = NULL; /* errors returned here have no callbacks */
        rt_tcp_close(t, uv_err(rc));
        return rc == UV_EINVAL || rc == UV_EAFNOSUPPORT ? CQLMQ_EINVAL : uv_err(rc);
    }
    uint64_t ms = opts && opts->connect_timeout_ms ? opts->connect_timeout_ms : 10000;
    uv_timer_start(&t->timer, on_connect_timeout, ms, 0);
    *out = t;
    return 0;
}

/* ---- writing ---- */

int rt_tcp_queue_wire(rt_tcp_t *t, const uint8_t *p, size_t n)
{
    if (t->closing)
        return CQLMQ_ECLOSED;
    if (n == 0)
        return 0;
    piece_t *last = t->npend ? &t->pend[t->npend - 1] : NULL;
    if (last == NULL || last->cap - last->len < n) {
        if (t->npend == t->cappend) {
            size_t cap = t->cappend ? t->cappend * 2 : 8;
            piece_t *q = realloc(t->pend, cap * sizeof *q);
            if (q == NULL)
                return CQLMQ_ENOMEM;
            t->pend = q;
            t->cappend = cap;
        }
        size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
        uint8_t *b = malloc(cap);
        if (b == NULL)
            return CQLMQ_ENOMEM;
        last = &t->pend[t->npend++];
        last->base = b;
        last->len = 0;
        last->cap = cap;
    }
    memcpy(last->base + last->len, p, n);
    last->len += n;
    t->pend_bytes += n;
    schedule_flush(t);
    return 0;
}

int rt_tcp_write(rt_tcp_t *t, const void *p, size_t n)
{
    if (t->closing)
        return CQLMQ_ECLOSED;
    if (t->tops != NULL && t->tops->on_write != NULL)
        return t->tops->on_write(t, t->tctx, p, n);
    return rt_tcp_queue_wire(t, p, n);
}

int rt_tcp_write_owned(rt_tcp_t *t, uint8_t **buf, size_t n)
{
    uint8_t *b = *buf;
    *buf = NULL;
    if (t->closing || (t->tops != NULL && t->tops->on_write != NULL) || n < CHUNK_MIN) {
        int rc = rt_tcp_write(t, b, n); /* small or filtered: copy */
        free(b);
        return rc;
    }
    if (t->npend == t->cappend) {
        size_t cap = t->cappend ? t->cappend * 2 : 8;
        piece_t *q = realloc(t->pend, cap * sizeof *q);
        if (q == NULL) {
            free(b);
            return CQLMQ_ENOMEM;
        }
        t->pend = q;
        t->cappend = cap;
    }
    t->pend[t->npend++] = (piece_t){b, n, n}; /* full: no copy goes after it */
    t->pend_bytes += n;
    schedule_flush(t);
    return 0;
}

static void on_write(uv_write_t *req, int status)
{
    wreq_t *w = (wreq_t *)req;
    rt_tcp_t *t = w->t;
    t->inflight_bytes -= w->bytes;
    for (size_t i = 0; i < w->n; i++)
        free(w->bufs[i].base);
    free(w);
    if (status < 0 && status != UV_ECANCELED && !t->closing)
        rt_tcp_close(t, uv_err(status));
}

static void flush(rt_tcp_t *t)
{
    if (t->npend == 0 || t->closing)
        return;
    wreq_t *w = malloc(sizeof *w + t->npend * sizeof(uv_buf_t));
    if (w == NULL) {
        rt_tcp_close(t, CQLMQ_ENOMEM);
        return;
    }
    w->t = t;
    w->n = t->npend;
    w->bytes = t->pend_bytes;
    for (size_t i = 0; i < t->npend; i++)
        w->bufs[i] = uv_buf_init((char *)t->pend[i].base, (unsigned)t->pend[i].len);
    t->npend = 0;
    t->pend_bytes = 0;
    t->inflight_bytes += w->bytes;
    t->uv_writes++;
    int rc = uv_write(&w->req, (uv_stream_t *)&t->h, w->bufs, (unsigned)w->n, on_write);
    if (rc != 0) {
        on_write(&w->req, UV_ECANCELED);
        rt_tcp_close(t, uv_err(rc));
    }
}

void rt_tcp_flush_all(rt_loop_t *loop)
{
    while (loop->tcp_flush != NULL) {
        rt_tcp_t *t = loop->tcp_flush;
        loop->tcp_flush = t->flush_next;
        t->on_flush = false;
        flush(t);
    }
}

uint64_t rt_tcp_uv_writes(const rt_tcp_t *t) { return t->uv_writes; }

size_t rt_tcp_queued(const rt_tcp_t *t)
{
    return t->pend_bytes + t->inflight_bytes;
}

void rt_tcp_abandon(rt_tcp_t *t)
{
    memset(&t->cbs, 0, sizeof t->cbs);
    rt_tcp_close(t, 0);
}

bool rt_tcp_connected(const rt_tcp_t *t) { return t->connected && !t->closing; }

/* ---- listening ---- */

static void on_connection(uv_stream_t *server, int status)
{
    rt_tcp_listener_t *l = server->data;
    rt_tcp_t *t;
    void *ud = NULL;
    if (status < 0 || tcp_create(l->loop, &l->opts, &t) != 0)
        return;
    if (uv_accept(server, (uv_stream_t *)&t->h) != 0) {
        rt_tcp_close(t, CQLMQ_EIO);
        return;
    }
    const rt_tcp_cbs_t *cbs = l->on_accept(l, t, l->lud, &ud);
    if (cbs == NULL) {
        rt_tcp_close(t, 0);
        return;
    }
    t->cbs = *cbs;
    t->ud = ud;
    start_reading(t);
}

int rt_tcp_listen(rt_loop_t *loop, const struct sockaddr *addr, const rt_tcp_opts_t *opts,
                  rt_tcp_accept_cb on_accept, void *lud, rt_tcp_listener_t **out,
                  int *port_out)
{
    rt_tcp_listener_t *l = calloc(1, sizeof *l);
    if (l == NULL)
        return CQLMQ_ENOMEM;
    l->loop = loop;
    l->on_accept = on_accept;
    l->lud = lud;
    if (opts != NULL)
        l->opts = *opts;
    uv_tcp_init(&loop->uv, &l->h);
    l->h.data = l;
    int rc = uv_tcp_bind(&l->h, addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&l->h, 128, on_connection);
    if (rc != 0) {
        rt_tcp_listener_close(&l);
        return CQLMQ_EUV;
    }
    if (port_out != NULL) {
        struct sockaddr_storage ss;
        int len = sizeof ss;
        uv_tcp_getsockname(&l->h, (struct sockaddr *)&ss, &len);
        *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                   : ((struct sockaddr_in *)&ss)->sin_port);
    }
    l->next = loop->listeners;
    loop->listeners = l;
    *out = l;
    return 0;
}

static void on_listener_closed(uv_handle_t *h)
{
    rt_tcp_listener_t *l = h->data;
    l->loop->closing_handles--;
    free(l);
}

void rt_tcp_listener_close(rt_tcp_listener_t **pl)
{
    rt_tcp_listener_t *l = *pl;
    *pl = NULL;
    if (l == NULL)
        return;
    for (rt_tcp_listener_t **pp = &l->loop->listeners; *pp; pp = &(*pp)->next)
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    l->loop->closing_handles++;
    uv_close((uv_handle_t *)&l->h, on_listener_closed);
}

void rt_tcp_close_all(rt_loop_t *loop)
{
    while (loop->listeners != NULL) {
        rt_tcp_listener_t *l = loop->listeners;
        rt_tcp_listener_close(&l);
    }
    while (loop->tcps != NULL) {
        rt_tcp_t *t = loop->tcps;
        if (!t->closing) {
            t->closing = true;
            t->close_reason = CQLMQ_ECLOSED;
        }
        do_close(t); /* no callback of ours is running during shutdown */
    }
}
