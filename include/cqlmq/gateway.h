/*
 * cqlmq gateway: the embeddable gateway (what cqlmqd runs), started on a
 * runtime the application owns.
 *
 *   cqlmq_runtime_t *rt;            cqlmq_runtime_new(NULL, &rt);
 *   cqlmq_gateway_opts_t o;         cqlmq_gateway_opts_init(&o);
 *   o.binds[0] = "inproc://cqlmq";  o.binds[1] = "tcp://127.0.0.1:5570";
 *   o.nbinds = 2;                   o.contact_points = "10.0.0.1:9042";
 *   cqlmq_gateway_t *gw;            cqlmq_gateway_start(rt, &o, &gw);
 *   cqlmq_runtime_start(rt);
 *   ... clients: DEALER sockets (docs/protocol.md); in this process they
 *       may use the runtime's context (cqlmq_runtime_zmq_ctx) and inproc://
 *   cqlmq_gateway_drain(gw, 10000); // stop taking work, let it finish
 *   cqlmq_gateway_free(&gw);         // close sockets, stop the actors
 *   cqlmq_runtime_free(&rt);
 *
 * The gateway is two kinds of actors on the runtime's loops: the cluster
 * actor (Cassandra connections, on cluster_loop) and the front with its
 * sessions and pagers (clients, on front_loop). Nothing is global: several
 * gateways may share a process (each with its own endpoints).
 *
 * Threads: every function here is for threads that are not loop threads.
 */
#ifndef CQLMQ_GATEWAY_H
#define CQLMQ_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "cqlmq/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CQLMQ_GATEWAY_MAX_BINDS 16
#define CQLMQ_GATEWAY_ENDPOINT_MAX 256

typedef struct cqlmq_gateway cqlmq_gateway_t;

/* Log lines from the gateway: level 0 debug, 1 info, 2 warn, 3 error. */
typedef void (*cqlmq_gateway_log_cb)(void *ud, int level, const char *msg, const char *detail);

typedef struct cqlmq_gateway_opts {
    const char *binds[CQLMQ_GATEWAY_MAX_BINDS]; /* tcp://, ipc://, inproc:// */
    size_t nbinds;                              /* >= 1 */
    const char *contact_points;  /* "host:port[,host:port...]" (NULL: 127.0.0.1:9042) */
    const char *local_dc;        /* NULL or "": no preference */
    /* client limits (docs/protocol.md `limits`); 0 = the default */
    uint64_t max_message_bytes;  /* 4 MiB */
    uint64_t max_in_flight;      /* 1024 per client */
    uint64_t max_streams;        /* 32 per client */
    uint64_t max_credit;         /* 16 pages per stream */
    uint64_t max_page_bytes;     /* 1 MiB */
    uint64_t default_page_size;  /* 5000 rows */
    uint64_t default_timeout_ms; /* 10 s */
    uint64_t max_timeout_ms;     /* 120 s */
    uint64_t lease_ms;           /* 30 s */
    unsigned front_loop;         /* loop of the client side (0) */
    unsigned cluster_loop;       /* loop of the Cassandra side (the last) */
    uint32_t pool_size;          /* connections per host (0: the cluster's default) */
    cqlmq_gateway_log_cb log;    /* NULL: silent */
    void *log_ud;
} cqlmq_gateway_opts_t;

/* The defaults: no endpoint, every limit 0 (= default), cluster_loop
 * UINT32_MAX (= the runtime's last loop). */
void cqlmq_gateway_opts_init(cqlmq_gateway_opts_t *o);

/* Spawns the cluster actor and the front (which binds every endpoint) on
 * rt, started or not. Returns 0, CQLMQ_EINVAL (no endpoint, bad limits,
 * loop out of range), CQLMQ_ECONFIG (no usable contact point), CQLMQ_EZMQ
 * (an endpoint could not be bound; the log says which), CQLMQ_ENOMEM,
 * CQLMQ_EUV, CQLMQ_ESTATE (rt is stopping, or called from a loop thread). */
int cqlmq_gateway_start(cqlmq_runtime_t *rt, const cqlmq_gateway_opts_t *o,
                        cqlmq_gateway_t **out);

/* Endpoint i as bound (a tcp://...:* wildcard resolved to its port), or
 * NULL when i is out of range. Borrowed from gw. */
const char *cqlmq_gateway_endpoint(const cqlmq_gateway_t *gw, size_t i);

/* The cluster actor's address (exec requests, gw_msgs.h). */
rt_addr_t cqlmq_gateway_cluster(const cqlmq_gateway_t *gw);

/* Drains: new requests are answered `shutting_down` while requests in
 * flight (streams included) finish; returns when none is left or drain_ms
 * passed. The runtime must be running. Returns 0 (all finished),
 * CQLMQ_ETIMEOUT (some were still running: they are abandoned when the
 * gateway is freed), or a send error of cqlmq_runtime_send. */
int cqlmq_gateway_drain(cqlmq_gateway_t *gw, uint64_t drain_ms);

/* Closes the sockets, stops the front, its sessions and pagers and the
 * cluster actor, and frees; *gw = NULL; accepts NULL. Call it while the
 * runtime runs or after it was stopped and joined. */
void cqlmq_gateway_free(cqlmq_gateway_t **gw);

#ifdef __cplusplus
}
#endif
#endif /* CQLMQ_GATEWAY_H */
