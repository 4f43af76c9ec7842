/*
 * cluster: the actor that owns the gateway's view of a Cassandra cluster
 * and is the one door for CQL requests (GW_MSG_EXEC, see gw_msgs.h).
 *
 * It owns:
 *   - the control connection: system.local + system.peers_v2 (system.peers
 *     when peers_v2 is Invalid) build the host table; REGISTER for
 *     TOPOLOGY_CHANGE, STATUS_CHANGE, SCHEMA_CHANGE keeps it current; when
 *     the control connection dies another host is used (backoff);
 *   - the pools: pool_size connection actors per host (connection.h),
 *     opened eagerly, reconnected with exponential backoff and full
 *     jitter per host (backoff.h), reopened at once on STATUS_CHANGE UP;
 *   - load balancing: round-robin over up hosts, local_dc first (other DCs
 *     only when no local host can take the request), skipping connections
 *     without a free stream id (hosts.h keeps tokens for token-awareness);
 *   - admission: at most max_in_flight execs at once and per-connection
 *     stream caps; when nothing can take a request it is answered `busy`
 *     at once (or `no_host` when no host has a ready connection): there is
 *     no queue, except requests parked while their statement is prepared
 *     on the chosen host (bounded by max_in_flight, deadline-checked);
 *   - retries within the request's deadline, for idempotent requests, on
 *     another host, after: connection closed before a response,
 *     overloaded, is_bootstrapping, unavailable, read_timeout (at most
 *     max_retries); and one transparent re-prepare + retry after
 *     UNPREPARED, for every EXECUTE;
 *   - the shared prepared-statement cache (prepared.h), single flight.
 *
 * Threads: the cluster actor and its connection actors share one loop
 * (rt_spawn is per loop); requesters may live on any loop.
 */
#ifndef GW_CLUSTER_H
#define GW_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "connection.h"
#include "cqlmq/runtime.h"
#include "hosts.h"

#define GW_POOL_MAX 8
#define GW_CONTACTS_MAX 16

typedef struct gw_cluster_config {
    char contact_points[512];    /* "ip[:port][,ip[:port]...]"; required */
    int port;                    /* port of contact points without one (9042) */
    char local_dc[GW_NAME_MAX + 1]; /* "" = no DC preference */
    uint32_t pool_size;          /* connections per host, 1..GW_POOL_MAX (2) */
    uint32_t max_streams;        /* stream ids per connection, 1..32768 (1024) */
    uint32_t max_in_flight;      /* execs accepted at once (4096) */
    uint32_t max_retries;        /* retries of one request (2) */
    uint32_t prepared_max;       /* prepared cache entries (10000) */
    uint64_t connect_timeout_ms; /* (5000) */
    uint64_t heartbeat_ms;       /* idle time before an OPTIONS (30000; 0 = none) */
    uint64_t heartbeat_timeout_ms; /* (5000) */
    uint64_t reconnect_base_ms;  /* backoff: first ceiling (100) */
    uint64_t reconnect_cap_ms;   /* backoff: largest ceiling (30000) */
    uint64_t prepare_timeout_ms; /* the cache's own PREPAREs (10000) */
    int protocol_version;        /* first version tried: 4 (falls back to 3) */
    size_t max_frame;            /* largest response frame (256 MiB) */
    char user[GW_CRED_MAX + 1];  /* SASL PLAIN credentials, "" = none */
    char password[GW_CRED_MAX + 1];
    uint64_t seed;               /* randomness (handle salts, jitter); 0 = clock */
} gw_cluster_config_t;

/* The defaults above, with contact_points "127.0.0.1". */
void gw_cluster_config_init(gw_cluster_config_t *cfg);

/* The actor type. Spawn argument: const gw_cluster_config_t * (copied),
 * e.g. cqlmq_runtime_spawn(rt, 0, &gw_cluster_def, &cfg, &addr) or
 * rt_spawn(loop, &gw_cluster_def, &cfg, &addr). init returns
 * CQLMQ_ECONFIG (no usable contact point, bad limits), CQLMQ_ENOMEM or
 * CQLMQ_EUV. */
extern const rt_actor_def_t gw_cluster_def;

#endif /* GW_CLUSTER_H */
