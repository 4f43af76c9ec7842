/*
 * gateway: the embedding API (include/cqlmq/gateway.h): spawns the cluster
 * actor and the front on a runtime, waits for drains, stops them.
 *
 * The front calls back from its loop thread (drained, closed); the
 * caller's thread waits on a condition variable. The struct outlives the
 * front: it is freed only after the front's closed callback ran.
 */
#include "cqlmq/gateway.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "front.h"

#define STOP_WAIT_MS 5000u
#define DRAIN_SLACK_MS 2000u

struct cqlmq_gateway {
    cqlmq_runtime_t *rt;
    rt_addr_t front;
    rt_addr_t cluster;
    char bound[CQLMQ_GATEWAY_MAX_BINDS][GW_FRONT_ENDPOINT_MAX];
    size_t nbound;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool drained;          /* guarded by mu */
    uint64_t abandoned;    /* guarded by mu */
    bool closed;           /* guarded by mu: the front has stopped */
};

_Static_assert(CQLMQ_GATEWAY_ENDPOINT_MAX == GW_FRONT_ENDPOINT_MAX, "endpoint sizes");
_Static_assert(CQLMQ_GATEWAY_MAX_BINDS == GW_FRONT_MAX_BINDS, "bind counts");

void cqlmq_gateway_opts_init(cqlmq_gateway_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->cluster_loop = UINT32_MAX;
}

static void on_drained(void *ud, uint64_t abandoned)
{
    cqlmq_gateway_t *gw = ud;
    pthread_mutex_lock(&gw->mu);
    gw->drained = true;
    gw->abandoned = abandoned;
    pthread_cond_broadcast(&gw->cv);
    pthread_mutex_unlock(&gw->mu);
}

static void on_closed(void *ud)
{
    cqlmq_gateway_t *gw = ud;
    pthread_mutex_lock(&gw->mu);
    gw->closed = true;
    pthread_cond_broadcast(&gw->cv);
    pthread_mutex_unlock(&gw->mu);
}

#define DEF_(v, d) ((v) ? (v) : (d))

int cqlmq_gateway_start(cqlmq_runtime_t *rt, const cqlmq_gateway_opts_t *o,
                        cqlmq_gateway_t **out)
{
    *out = NULL;
    unsigned nloops = cqlmq_runtime_loops(rt);
    unsigned cl = o->cluster_loop == UINT32_MAX ? nloops - 1 : o->cluster_loop;
    if (o->nbinds == 0 || o->nbinds > CQLMQ_GATEWAY_MAX_BINDS || o->front_loop >= nloops ||
        cl >= nloops)
        return CQLMQ_EINVAL;

    gw_cluster_config_t cc;
    gw_cluster_config_init(&cc);
    const char *cp = o->contact_points ? o->contact_points : "127.0.0.1:9042";
    if (strlen(cp) >= sizeof cc.contact_points)
        return CQLMQ_EINVAL;
    snprintf(cc.contact_points, sizeof cc.contact_points, "%s", cp);
    if (o->local_dc != NULL) {
        if (strlen(o->local_dc) >= sizeof cc.local_dc)
            return CQLMQ_EINVAL;
        snprintf(cc.local_dc, sizeof cc.local_dc, "%s", o->local_dc);
    }
    if (o->pool_size)
        cc.pool_size = o->pool_size;

    gw_front_cfg_t fc;
    memset(&fc, 0, sizeof fc);
    wire_limits_t *l = &fc.limits;
    l->max_message_bytes = DEF_(o->max_message_bytes, 4u << 20);
    l->max_in_flight = DEF_(o->max_in_flight, 1024);
    l->max_streams = DEF_(o->max_streams, 32);
    l->max_credit = DEF_(o->max_credit, 16);
    l->max_page_bytes = DEF_(o->max_page_bytes, 1u << 20);
    l->default_page_size = DEF_(o->default_page_size, 5000);
    l->default_timeout_ms = DEF_(o->default_timeout_ms, 10000);
    l->max_timeout_ms = DEF_(o->max_timeout_ms, 120000);
    l->lease_ms = DEF_(o->lease_ms, 30000);
    if (l->default_timeout_ms > l->max_timeout_ms)
        return CQLMQ_EINVAL;

    cqlmq_gateway_t *gw = calloc(1, sizeof *gw);
    if (gw == NULL)
        return CQLMQ_ENOMEM;
    gw->rt = rt;
    pthread_mutex_init(&gw->mu, NULL);
    pthread_cond_init(&gw->cv, NULL);

    int rc = cqlmq_runtime_spawn(rt, cl, &gw_cluster_def, &cc, &gw->cluster);
    if (rc != 0)
        goto fail;
    for (size_t i = 0; i < o->nbinds; i++)
        fc.binds[i] = o->binds[i];
    fc.nbinds = o->nbinds;
    fc.cluster = gw->cluster;
    fc.server = "cqlmqd/0.1.0";
    fc.log = o->log;
    fc.log_ud = o->log_ud;
    fc.on_drained = on_drained;
    fc.on_closed = on_closed;
    fc.cb_ud = gw;
    fc.own_cluster = true;
    fc.bound = gw->bound;
    rc = cqlmq_runtime_spawn(rt, o->front_loop, &gw_front_def, &fc, &gw->front);
    if (rc != 0) {
        /* the cluster actor is stopped with the runtime; nothing refers
         * to gw */
        goto fail;
    }
    gw->nbound = o->nbinds;
    *out = gw;
    return 0;
fail:
    pthread_cond_destroy(&gw->cv);
    pthread_mutex_destroy(&gw->mu);
    free(gw);
    return rc;
}

const char *cqlmq_gateway_endpoint(const cqlmq_gateway_t *gw, size_t i)
{
    return i < gw->nbound ? gw->bound[i] : NULL;
}

rt_addr_t cqlmq_gateway_cluster(const cqlmq_gateway_t *gw) { return gw->cluster; }

static struct timespec deadline_in(uint64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

int cqlmq_gateway_drain(cqlmq_gateway_t *gw, uint64_t drain_ms)
{
    uint8_t payload[16];
    mpk_wr_t w;
    mpk_wr_init(&w);
    mpk_wr_array(&w, 1);
    mpk_wr_uint(&w, drain_ms);
    size_t len = w.len < sizeof payload ? w.len : sizeof payload;
    memcpy(payload, w.data, len);
    mpk_wr_close(&w);
    int rc = cqlmq_runtime_send(gw->rt, gw->front, GW_MSG_FRONT_DRAIN, payload, len);
    if (rc != 0)
        return rc;
    struct timespec until = deadline_in(drain_ms + DRAIN_SLACK_MS);
    pthread_mutex_lock(&gw->mu);
    while (!gw->drained && !gw->closed) {
        if (pthread_cond_timedwait(&gw->cv, &gw->mu, &until) != 0)
            break;
    }
    rc = gw->drained && gw->abandoned == 0 ? 0 : CQLMQ_ETIMEOUT;
    pthread_mutex_unlock(&gw->mu);
    return rc;
}

void cqlmq_gateway_free(cqlmq_gateway_t **gwp)
{
    cqlmq_gateway_t *gw = *gwp;
    if (gw == NULL)
        return;
    *gwp = NULL;
    pthread_mutex_lock(&gw->mu);
    bool closed = gw->closed;
    pthread_mutex_unlock(&gw->mu);
    if (!closed)
        (void)cqlmq_runtime_send(gw->rt, gw->front, GW_MSG_FRONT_STOP, NULL, 0);
    struct timespec until = deadline_in(STOP_WAIT_MS);
    pthread_mutex_lock(&gw->mu);
    while (!gw->closed)
        if (pthread_cond_timedwait(&gw->cv, &gw->mu, &until) != 0)
            break;
    closed = gw->closed;
    pthread_mutex_unlock(&gw->mu);
    if (!closed)
        return; /* the front still refers to gw (runtime never ran): keep it */
    pthread_cond_destroy(&gw->cv);
    pthread_mutex_destroy(&gw->mu);
    free(gw);
}
