/*
 * cqlmq-node: runs an embedded Cassandra-compatible test cluster until
 * SIGINT or SIGTERM.
 *
 * Prints one line on stdout once every listener is bound, which scripts
 * (node/python/cqlmq_node.py) wait for:
 *     cqlmq-node ready port=P control=ENDPOINT nodes=N
 * Exit status: 0 after a clean stop, 1 when the cluster cannot start
 * (port in use, ...), 2 for bad flags (with a message on stderr).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "node_server.h"

typedef struct app {
    node_cluster_t *cluster;
    uv_signal_t sigint, sigterm;
} app_t;

static void on_signal(uv_signal_t *s, int signum)
{
    app_t *app = s->data;
    (void)signum;
    node_cluster_stop(app->cluster);
    uv_close((uv_handle_t *)&app->sigint, NULL);
    uv_close((uv_handle_t *)&app->sigterm, NULL);
}

int main(int argc, char **argv)
{
    node_config_t cfg;
    char err[256];
    node_config_init(&cfg);
    int rc = node_config_parse(&cfg, argc, argv, err, sizeof err);
    if (rc == NODE_CONFIG_HELP) {
        fputs(node_config_usage(), stdout);
        return 0;
    }
    if (rc) {
        fprintf(stderr, "cqlmq-node: %s\n", err);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    uv_loop_t loop;
    if (uv_loop_init(&loop)) {
        fprintf(stderr, "cqlmq-node: cannot create the event loop\n");
        return 1;
    }
    app_t app;
    memset(&app, 0, sizeof app);
    rc = node_cluster_new(&loop, &cfg, &app.cluster);
    if (rc) {
        fprintf(stderr, "cqlmq-node: %s\n", cqlmq_strerror(rc));
        uv_loop_close(&loop);
        return 1;
    }
    int status = 0;
    rc = node_cluster_start(app.cluster);
    if (rc) {
        fprintf(stderr, "cqlmq-node: cannot start: %s (port %d, control \"%s\")\n",
                cqlmq_strerror(rc), cfg.port, cfg.control);
        node_cluster_stop(app.cluster);
        status = 1;
    } else {
        uv_signal_init(&loop, &app.sigint);
        uv_signal_init(&loop, &app.sigterm);
        app.sigint.data = app.sigterm.data = &app;
        uv_signal_start(&app.sigint, on_signal, SIGINT);
        uv_signal_start(&app.sigterm, on_signal, SIGTERM);
        if (!cfg.quiet) {
            const char *ep = node_cluster_control_endpoint(app.cluster);
            printf("cqlmq-node ready port=%d control=%s nodes=%d\n",
                   node_cluster_port(app.cluster), ep[0] ? ep : "-", cfg.nnodes);
            fflush(stdout);
        }
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    node_cluster_free(&app.cluster);
    if (uv_loop_close(&loop) != 0)
        fprintf(stderr, "cqlmq-node: warning: loop closed with open handles\n");
    return status;
}
