/*
 * gw_embedded: the embedded node on a thread of its own. See embedded.h.
 */
#include "embedded.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cqlmq/error.h"
#include "node_server.h"

struct gw_embedded {
    uv_loop_t loop;
    node_cluster_t *cluster;
    pthread_t thread;
    int nodes;
    int port;
    char control[NODE_ENDPOINT_MAX + 1];
};

static void *run(void *arg)
{
    gw_embedded_t *e = arg;
    uv_run(&e->loop, UV_RUN_DEFAULT);
    return NULL;
}

int gw_embedded_start(int nodes, int port, gw_embedded_t **out)
{
    *out = NULL;
    if (nodes < 1 || nodes > NODE_MAX_NODES || port < 0 || port > 65535)
        return CQLMQ_ECONFIG;
    signal(SIGPIPE, SIG_IGN); /* the node writes to peers that may be gone */
    gw_embedded_t *e = calloc(1, sizeof *e);
    if (e == NULL)
        return CQLMQ_ENOMEM;
    node_config_t cfg;
    node_config_init(&cfg);
    cfg.nnodes = nodes;
    cfg.dcs[0].count = nodes;
    cfg.port = port;
    cfg.quiet = true;
    snprintf(cfg.control, sizeof cfg.control, "tcp://127.0.0.1:*");
    int rc = uv_loop_init(&e->loop) == 0 ? 0 : CQLMQ_EUV;
    if (rc != 0) {
        free(e);
        return rc;
    }
    rc = node_cluster_new(&e->loop, &cfg, &e->cluster);
    if (rc == 0)
        rc = node_cluster_start(e->cluster);
    if (rc == 0 && pthread_create(&e->thread, NULL, run, e) != 0)
        rc = CQLMQ_EIO;
    if (rc != 0) {
        if (e->cluster != NULL) {
            node_cluster_stop(e->cluster);
            uv_run(&e->loop, UV_RUN_DEFAULT); /* run the close callbacks */
            node_cluster_free(&e->cluster);
        }
        uv_loop_close(&e->loop);
        free(e);
        return rc;
    }
    e->nodes = nodes;
    e->port = node_cluster_port(e->cluster);
    snprintf(e->control, sizeof e->control, "%s", node_cluster_control_endpoint(e->cluster));
    *out = e;
    return 0;
}

int gw_embedded_port(const gw_embedded_t *e) { return e->port; }

const char *gw_embedded_control(const gw_embedded_t *e) { return e->control; }

void gw_embedded_contact_points(const gw_embedded_t *e, char *buf, size_t len)
{
    size_t k = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (int i = 0; i < e->nodes && k < len; i++) {
        int n = snprintf(buf + k, len - k, "%s127.0.0.%d:%d", i ? "," : "", i + 1, e->port);
        if (n < 0)
            break;
        k += (size_t)n;
    }
}

void gw_embedded_stop(gw_embedded_t **ep)
{
    gw_embedded_t *e = *ep;
    if (e == NULL)
        return;
    *ep = NULL;
    (void)node_cluster_request_stop(e->cluster);
    pthread_join(e->thread, NULL);
    node_cluster_free(&e->cluster);
    uv_loop_close(&e->loop);
    free(e);
}
