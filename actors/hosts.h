/*
 * hosts: the cluster actor's table of Cassandra hosts, the load-balancing
 * choice over it, and the parsing of system.local / system.peers(_v2) rows
 * into host descriptions. No I/O.
 *
 * A host has a stable index (0 .. GW_MAX_HOSTS-1) for as long as it is in
 * the table; pools, prepared-statement bits and stats are keyed by it. A
 * removed host's index may be reused, so whoever keys data by index must
 * forget it on removal (gw_pcache_forget_host).
 *
 * Choice (gw_hosts_pick): round-robin over hosts that are up and accepted
 * by the caller's predicate (e.g. "has a connection with a free stream
 * id"), hosts of local_dc first; hosts of other DCs only when no local one
 * qualifies. Tokens are kept (sorted) so token-aware routing can be added.
 *
 * Invariants: used hosts are at indexes < n; a used host has addr set;
 * tokens holds ntokens values, sorted ascending.
 */
#ifndef GW_HOSTS_H
#define GW_HOSTS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cql_msg.h"
#include "prepared.h" /* GW_MAX_HOSTS */

#define GW_NAME_MAX 48    /* dc and rack names */
#define GW_ADDR_STR 64    /* "ip:port" */

/* A host as a system table row describes it. */
typedef struct gw_peer {
    struct sockaddr_storage addr; /* where its native transport listens */
    uint8_t host_id[16];
    bool has_host_id;
    char dc[GW_NAME_MAX + 1];
    char rack[GW_NAME_MAX + 1];
    int64_t *tokens;              /* heap, sorted; owned by whoever holds the peer */
    uint32_t ntokens;
} gw_peer_t;

typedef struct gw_host {
    bool used;                    /* slot holds a host */
    bool up;                      /* routable: not marked down */
    bool seen;                    /* found by the current refresh */
    gw_peer_t info;               /* address, id, dc, rack, tokens */
    char name[GW_ADDR_STR];       /* "ip:port" */
} gw_host_t;

typedef struct gw_hosts {
    gw_host_t h[GW_MAX_HOSTS];
    uint32_t n;                   /* 1 + highest used index, or 0 */
    uint32_t rr;                  /* round-robin cursor */
} gw_hosts_t;

void gw_hosts_init(gw_hosts_t *t);
void gw_hosts_close(gw_hosts_t *t);

/* Formats "ip:port" (IPv6 as "[ip]:port"). */
void gw_addr_format(const struct sockaddr *sa, char *out, size_t outlen);
/* Parses "ip", "ip:port", "[ip6]:port" with default_port. Returns 0 or
 * CQLMQ_EINVAL. */
int gw_addr_parse(const char *s, size_t n, int default_port, struct sockaddr_storage *out);
/* Same address and port. */
bool gw_addr_equal(const struct sockaddr *a, const struct sockaddr *b);

/* Index of the host at addr, or -1. */
int gw_hosts_find(const gw_hosts_t *t, const struct sockaddr *addr);
/* Adds a host (up, no info beyond the address) or finds it; *created
 * tells. Returns the index (>= 0) or CQLMQ_ELIMIT (table full). */
int gw_hosts_add(gw_hosts_t *t, const struct sockaddr *addr, bool *created);
/* Replaces host i's description with *p (the tokens move: p->tokens
 * becomes NULL). */
void gw_hosts_set_info(gw_hosts_t *t, int i, gw_peer_t *p);
/* Removes host i; its index may be reused. */
void gw_hosts_remove(gw_hosts_t *t, int i);
/* Hosts that are used / used and up. */
uint32_t gw_hosts_count(const gw_hosts_t *t, bool up_only);

/* The next host by round-robin (see above): up, accept(i, ud) true, local
 * DC first. -1 when none qualifies. local_dc NULL or "" = no preference. */
int gw_hosts_pick(gw_hosts_t *t, const char *local_dc, bool (*accept)(int i, void *ud),
                  void *ud);

/* Parses every row of a system.local (local = true) or system.peers /
 * system.peers_v2 RESULT (decoded rows) and calls cb once per usable row.
 * The local row's address is ctl_addr (the address the control connection
 * reached); a peer's is native_address:native_port (peers_v2) or
 * rpc_address:default_port (peers; 0.0.0.0 means `peer`). Rows without an
 * address are skipped. cb takes the peer (it may steal tokens). Returns
 * 0, CQLMQ_EMALFORMED (a cell of the wrong size) or CQLMQ_ENOMEM. */
int gw_hosts_parse_rows(const cql_result_rows_t *rows, bool local,
                        const struct sockaddr *ctl_addr, int default_port,
                        void (*cb)(gw_peer_t *p, void *ud), void *ud);

#endif /* GW_HOSTS_H */
