/*
 * cluster_int: the cluster actor's private state, shared by its files:
 *   cluster.c       the actor: init/stop, ticks, pools, connection
 *                   states and DONE dispatch, stats
 *   cluster_ctl.c   the control connection: system tables, REGISTER,
 *                   events
 *   cluster_exec.c  execs: admission, routing, CQL bodies, retries,
 *                   prepared statements
 *   reqs.c          the request table (ids with generations)
 * Not a public header.
 */
#ifndef GW_CLUSTER_INT_H
#define GW_CLUSTER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "backoff.h"
#include "cluster.h"
#include "gw_msgs.h"
#include "hosts.h"
#include "prepared.h"

#define GW_TRIED_MAX 8            /* hosts remembered per request */
#define GW_CTL_SLOT 0xFFu         /* conn id slot of the control connection */
#define GW_KS_NAME 48             /* keyspace names, bytes */

typedef struct req req_t;

typedef enum pc_state { PC_NONE = 0, PC_CONNECTING, PC_READY } pc_state_t;

/* One connection as the cluster sees it. Invariants: state != NONE <=>
 * addr names a live (or just dead, CLOSED not yet read) connection actor;
 * inflight counts the requests on reqs; ks_inflight those with a
 * keyspace; keyspace mirrors what the connection will be on once the
 * requests sent to it have run. */
typedef struct pconn {
    rt_addr_t addr;
    uint32_t id;                 /* gen << 16 | host << 8 | slot */
    uint16_t gen;
    pc_state_t state;
    int host;                    /* host index, or -1 (control to a contact) */
    int version;                 /* negotiated (READY) */
    bool was_ready;
    uint32_t inflight;
    uint32_t streams, orphans;   /* last reported by the connection */
    uint32_t ks_inflight;
    char keyspace[GW_KS_NAME + 1];
    req_t *reqs;                 /* in flight here (doubly linked) */
} pconn_t;

/* Pool and health of one host (indexed like gw_hosts_t). */
typedef struct hstate {
    pconn_t conns[GW_POOL_MAX];
    gw_backoff_t backoff;
    uint64_t next_attempt_ms;    /* no connection attempt before */
    int version;                 /* version to connect with (0 = config) */
    uint64_t requests;           /* user requests sent here */
} hstate_t;

/* Control-connection queries. */
enum { CTL_LOCAL = 1, CTL_PEERS_V2, CTL_PEERS, CTL_REGISTER };

/*
 * A request the cluster holds. It is in exactly one place: in flight on a
 * connection (conn != NULL, on conn->reqs), parked on a prepared entry's
 * waiters (parked, on the parked list), or being routed (neither, only
 * inside a handler). Freed when its terminal reply is sent.
 */
struct req {
    uint64_t rid;                /* gen << 32 | slot */
    uint8_t kind;                /* GW_KIND_* */
    uint8_t ctl;                 /* CONTROL: CTL_* */
    rt_addr_t from;              /* USER: requester */
    uint64_t corr;               /* USER: its correlation id */
    uint8_t *payload;            /* USER: copy of the gw_exec payload */
    size_t len;
    gw_exec_t ex;                /* USER: decoded, borrowing payload */
    uint64_t deadline;
    uint8_t handle[GW_HANDLE_LEN]; /* EXECUTE / PREPARE kind: the statement */
    bool has_handle;
    int host;                    /* host of the current / last attempt */
    int want_host;               /* route here first (re-prepare), or -1 */
    pconn_t *conn;               /* in flight on */
    req_t *cprev, *cnext;        /* conn->reqs */
    bool parked;
    req_t *pprev, *pnext;        /* cluster parked list */
    bool has_ks;                 /* sent with a keyspace */
    uint32_t attempts;           /* dispatches to a connection */
    uint32_t redispatch;         /* not-sent bounces */
    uint8_t tried[GW_TRIED_MAX];
    uint8_t ntried;
    bool reprepared;
    uint8_t park_handle[GW_HANDLE_LEN]; /* parked: the entry waited on */
    int err_status;              /* last failure, replied if no retry works */
    uint8_t *err_body;           /* ERROR body of it (owned) */
    size_t err_len;
    uint8_t err_version, err_flags;
};

typedef struct cstats {
    uint64_t requests, replies, busy, no_host, timeouts, retries, errors;
    uint64_t prepares, reprepares, events;
} cstats_t;

typedef struct cluster {
    rt_actor_t *self;
    gw_cluster_config_t cfg;
    struct sockaddr_storage contacts[GW_CONTACTS_MAX];
    int ncontacts;
    gw_hosts_t *hosts;           /* heap: large */
    hstate_t *hs;                /* [GW_MAX_HOSTS] */
    uint64_t rng;
    /* control connection */
    pconn_t ctl;
    struct sockaddr_storage ctl_addr;
    uint16_t ctl_gen;
    gw_backoff_t ctl_backoff;
    uint64_t ctl_next_ms;
    uint32_t ctl_cursor;         /* next candidate (hosts, then contacts) */
    bool ctl_registered;
    bool peers_v1;               /* peers_v2 was Invalid */
    int refresh_pending;         /* system table answers awaited */
    bool refresh_again;          /* a refresh was asked meanwhile */
    bool refresh_ok;             /* every answer of this refresh was read */
    /* requests */
    req_t **reqs;                /* slot table */
    uint32_t *gens;
    uint32_t *free_next;
    uint32_t nslots, capslots, free_head;
    uint32_t user_live;          /* USER requests held (admission) */
    req_t *parked;               /* parked list */
    gw_pcache_t pcache;
    uint64_t tick_id;
    cstats_t st;
} cluster_t;

/* ---- reqs.c ---- */
int gwc_reqs_init(cluster_t *c, uint32_t cap);
void gwc_reqs_close(cluster_t *c);
/* A zeroed request with a fresh rid, or NULL (table full: CQLMQ_ELIMIT,
 * or no memory). */
req_t *gwc_reqs_new(cluster_t *c, uint8_t kind);
req_t *gwc_reqs_get(cluster_t *c, uint64_t rid);
/* Unlinks (conn list, parked list) and frees. */
void gwc_reqs_free(cluster_t *c, req_t *r);
void gwc_req_link_conn(req_t *r, pconn_t *pc);
void gwc_req_unlink_conn(req_t *r);
void gwc_req_park(cluster_t *c, req_t *r);
void gwc_req_unpark(cluster_t *c, req_t *r);

/* ---- cluster.c ---- */
pconn_t *gwc_conn_of(cluster_t *c, uint32_t id);
/* Spawns a connection actor for pc: pool slot `slot` of host `host`, or
 * the control connection (slot GW_CTL_SLOT, host -1). Returns rt_spawn's
 * code. */
int gwc_spawn(cluster_t *c, pconn_t *pc, int host, uint32_t slot,
                  const struct sockaddr_storage *addr, int version);
/* Keeps every host's pool at pool_size (spawns what is due). */
void gwc_maintain(cluster_t *c);
/* Closes host i's pool and removes it from the table. */
void gwc_drop_host(cluster_t *c, int i);
/* A host is (again) reachable / not: pools, prepared bits, backoff. */
void gwc_host_up(cluster_t *c, int i, bool from_event);
void gwc_host_down(cluster_t *c, int i);
/* Sends a CONN_REQ. Returns rt_msg_end's code. */
int gwc_send_req(cluster_t *c, pconn_t *pc, req_t *r, uint8_t opcode, const uint8_t *body,
                     size_t len, const char *ks, size_t ks_len, bool direct);
/* A connection is gone: every request on it ends with ECLOSED. */
void gwc_conn_lost(cluster_t *c, pconn_t *pc);

/* ---- cluster_ctl.c ---- */
void gwc_ctl_maintain(cluster_t *c);
void gwc_ctl_on_ready(cluster_t *c);
void gwc_ctl_on_closed(cluster_t *c);
void gwc_ctl_outcome(cluster_t *c, req_t *r, int status, int opcode, int version, uint8_t flags,
                 const uint8_t *body, size_t len);
void gwc_ctl_on_event(cluster_t *c, int version, const uint8_t *body, size_t len);
/* Re-reads system.local and peers. */
void gwc_ctl_refresh(cluster_t *c);

/* ---- cluster_exec.c ---- */
void gwc_exec_on_request(cluster_t *c, const rt_msg_t *msg);
/* The outcome of a USER or PREPARE-kind request (DONE, or ECLOSED). */
void gwc_exec_outcome(cluster_t *c, req_t *r, int status, int opcode, int version, uint8_t flags,
                  const uint8_t *body, size_t len);
/* Parked requests whose deadline passed are answered `timeout`. */
void gwc_exec_sweep(cluster_t *c, uint64_t now);
/* Ends a USER request with a gateway status (frees it). */
void gwc_exec_fail(cluster_t *c, req_t *r, int status, const char *message);

#endif /* GW_CLUSTER_INT_H */
