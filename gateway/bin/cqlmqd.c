/*
 * cqlmqd: the cqlmq gateway as a program. A thin shell over gateway.h:
 * configuration (config.h: flags > CQLMQ_* environment > config file),
 * JSON logs on stderr (log.h), the embedded node with --embedded
 * (embedded.h), and signals: SIGTERM / SIGINT drain (new requests get
 * `shutting_down`, work in flight has drain_ms to finish), then exit.
 *
 * Exit status: 0 after a drain (also one cut short by drain_ms), 1 when
 * the gateway cannot start, 2 for bad configuration.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cqlmq/gateway.h"
#include "embedded.h"
#include "log.h"

extern char **environ;

int main(int argc, char **argv)
{
    static gw_config_t cfg;
    char err[512];
    gw_config_init(&cfg);
    int rc = gw_config_parse(&cfg, argc, argv, environ, err, sizeof err);
    if (rc == GW_CONFIG_HELP) {
        static char usage[8192];
        gw_config_usage(usage, sizeof usage);
        fputs(usage, stdout);
        return 0;
    }
    if (rc != 0) {
        fprintf(stderr, "cqlmqd: %s\n", err);
        return 2;
    }

    gw_log_t lg;
    gw_log_init(&lg, (gw_log_level_t)cfg.log_level, stderr);

    /* Every thread created from here on inherits this mask: the signals
     * are taken by sigwait below only. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    gw_embedded_t *node = NULL;
    char contacts[GW_CFG_HOSTS_MAX + 1];
    snprintf(contacts, sizeof contacts, "%s",
             cfg.contact_points[0] ? cfg.contact_points : GW_DEFAULT_CONTACT);
    if (cfg.embedded) {
        rc = gw_embedded_start((int)cfg.nodes, (int)cfg.embedded_port, &node);
        if (rc != 0) {
            gw_log(&lg, GW_LOG_ERROR, "embedded node failed to start",
                   GW_LS("error", cqlmq_strerror(rc)), GW_LOG_END);
            return 1;
        }
        gw_embedded_contact_points(node, contacts, sizeof contacts);
        gw_log(&lg, GW_LOG_INFO, "embedded node started", GW_LI("nodes", cfg.nodes),
               GW_LI("port", gw_embedded_port(node)),
               GW_LS("control", gw_embedded_control(node)), GW_LOG_END);
    }

    cqlmq_runtime_t *rt = NULL;
    cqlmq_runtime_opts_t ro = {.loops = (unsigned)cfg.loops};
    rc = cqlmq_runtime_new(&ro, &rt);
    cqlmq_gateway_t *gw = NULL;
    if (rc == 0) {
        cqlmq_gateway_opts_t o;
        cqlmq_gateway_opts_init(&o);
        if (cfg.nbinds == 0) {
            o.binds[0] = GW_DEFAULT_BIND;
            o.nbinds = 1;
        }
        for (int i = 0; i < cfg.nbinds; i++)
            o.binds[o.nbinds++] = cfg.binds[i];
        o.contact_points = contacts;
        o.local_dc = cfg.local_dc[0] ? cfg.local_dc : NULL;
        o.max_message_bytes = cfg.max_message_bytes;
        o.max_in_flight = cfg.max_in_flight;
        o.max_streams = cfg.max_streams;
        o.max_credit = cfg.max_credit;
        o.max_page_bytes = cfg.max_page_bytes;
        o.default_page_size = cfg.default_page_size;
        o.default_timeout_ms = cfg.default_timeout_ms;
        o.max_timeout_ms = cfg.max_timeout_ms;
        o.lease_ms = cfg.lease_ms;
        o.log = gw_log_hook;
        o.log_ud = &lg;
        rc = cqlmq_gateway_start(rt, &o, &gw);
    }
    if (rc == 0)
        rc = cqlmq_runtime_start(rt);
    if (rc != 0) {
        gw_log(&lg, GW_LOG_ERROR, "cqlmqd failed to start", GW_LS("error", cqlmq_strerror(rc)),
               GW_LOG_END);
        cqlmq_runtime_free(&rt);
        gw_embedded_stop(&node);
        gw_log_close(&lg);
        return 1;
    }
    for (size_t i = 0; cqlmq_gateway_endpoint(gw, i) != NULL; i++)
        gw_log(&lg, GW_LOG_INFO, "ready", GW_LS("endpoint", cqlmq_gateway_endpoint(gw, i)),
               GW_LS("contact_points", contacts), GW_LI("pid", getpid()), GW_LOG_END);

    int sig = 0;
    while (sigwait(&sigs, &sig) != 0)
        ;
    gw_log(&lg, GW_LOG_INFO, "signal: draining", GW_LS("signal", strsignal(sig)),
           GW_LI("drain_ms", cfg.drain_ms), GW_LOG_END);
    rc = cqlmq_gateway_drain(gw, cfg.drain_ms);
    gw_log(&lg, rc == 0 ? GW_LOG_INFO : GW_LOG_WARN,
           rc == 0 ? "drained" : "drain deadline passed: work abandoned", GW_LOG_END);
    cqlmq_gateway_free(&gw);
    cqlmq_runtime_stop(rt);
    (void)cqlmq_runtime_join(rt);
    cqlmq_runtime_free(&rt);
    gw_embedded_stop(&node);
    gw_log(&lg, GW_LOG_INFO, "stopped", GW_LOG_END);
    gw_log_close(&lg);
    return 0;
}
