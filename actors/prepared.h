/*
 * prepared: the gateway's shared prepared-statement cache (owned by the
 * cluster actor; no I/O, no time, no runtime).
 *
 * An entry is a statement (keyspace, query text) and:
 *   handle     the gateway's 16-byte handle: two keyed Murmur3 hashes of the
 *              key under secret per-cache salts. Stable for the cache's life
 *              and independent of Cassandra's id, so it survives node
 *              restarts, id changes and even eviction (preparing the same
 *              statement again yields the same handle);
 *   id         Cassandra's current prepared id (replaced if a host returns
 *              a different one: handle -> current id, never assumed equal);
 *   meta       the Prepared RESULT body (bind metadata with pk_indices,
 *              result metadata) as the first successful host sent it, with
 *              its protocol version and frame flags;
 *   on_host    which hosts are known to have it (a host that restarts or
 *              comes back UP forgets them all: gw_pcache_forget_host);
 *   preparing  hosts with a PREPARE in flight for it (single flight per
 *              host: one PREPARE whatever the number of waiters);
 *   waiters    request ids parked until a PREPARE completes, each for one
 *              host or GW_HOST_ANY (the first prepare, before any host has
 *              it).
 *
 * Bound: at most `max` entries. When full, the least recently used entry
 * with no waiters and no PREPARE in flight is evicted (GW_PCACHE_DEFAULT
 * entries by default); if every entry is busy, acquiring a new one fails
 * with CQLMQ_ELIMIT (the cluster answers `busy`).
 *
 * Invariants: count entries are in the hash and on the LRU list (most
 * recently used first); ready <=> id != NULL; npreparing counts the set
 * preparing bits; every waiter's host is < GW_MAX_HOSTS or GW_HOST_ANY.
 */
#ifndef GW_PREPARED_H
#define GW_PREPARED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_msgs.h"

#define GW_MAX_HOSTS 256
#define GW_HOST_ANY 0xFFFFu
#define GW_PCACHE_DEFAULT 10000u

typedef struct gw_pwait {
    uint64_t rid;   /* the cluster's request id */
    uint16_t host;  /* host index, or GW_HOST_ANY */
} gw_pwait_t;

typedef struct gw_pstmt gw_pstmt_t;
struct gw_pstmt {
    uint8_t handle[GW_HANDLE_LEN];
    char *keyspace;                    /* owned, NUL-terminated ("" = none) */
    size_t ks_len;
    char *query;                       /* owned, NUL-terminated */
    size_t q_len;
    uint8_t *id;                       /* Cassandra's id, owned; NULL until ready */
    uint16_t id_len;
    uint8_t *meta;                     /* Prepared RESULT body, owned */
    size_t meta_len;
    uint8_t version;                   /* of meta */
    uint8_t flags;                     /* frame flags of meta */
    uint8_t on_host[GW_MAX_HOSTS / 8];
    uint8_t preparing[GW_MAX_HOSTS / 8];
    uint32_t npreparing;               /* set bits of preparing */
    gw_pwait_t *waiters;               /* nwait, in arrival order */
    uint32_t nwait, capwait;
    uint64_t uses;                     /* lookups, for stats */
    gw_pstmt_t *hnext;                 /* hash chain */
    gw_pstmt_t *lru_prev, *lru_next;
};

typedef struct gw_pcache {
    gw_pstmt_t **buckets;  /* nbuckets chains, keyed by the handle */
    uint32_t nbuckets;     /* power of two */
    uint32_t count;        /* entries */
    uint32_t max;          /* bound on count */
    gw_pstmt_t *lru_head;  /* most recently used */
    gw_pstmt_t *lru_tail;  /* least recently used */
    uint64_t salt[2];      /* keys of the handle hash */
    uint64_t evictions;
} gw_pcache_t;

/* max 0 = GW_PCACHE_DEFAULT. Returns 0 or CQLMQ_ENOMEM. */
int gw_pcache_init(gw_pcache_t *c, uint32_t max, uint64_t salt0, uint64_t salt1);
void gw_pcache_close(gw_pcache_t *c);

/* The handle of (keyspace, query) in this cache. */
void gw_pcache_handle_of(const gw_pcache_t *c, const char *ks, size_t ks_len, const char *q,
                         size_t q_len, uint8_t out[GW_HANDLE_LEN]);

/* The entry of a handle (and marks it recently used), or NULL. */
gw_pstmt_t *gw_pcache_get(gw_pcache_t *c, const uint8_t *handle, size_t len);

/* The entry of (ks, q), created empty (not ready) if absent; *created
 * tells which. Returns 0, CQLMQ_ENOMEM, CQLMQ_ELIMIT (full and nothing
 * evictable) or CQLMQ_EEXISTS (another statement has the same handle: a
 * 128-bit collision). */
int gw_pcache_acquire(gw_pcache_t *c, const char *ks, size_t ks_len, const char *q,
                      size_t q_len, gw_pstmt_t **out, bool *created);

/* Parks request rid on e until a PREPARE on `host` (or GW_HOST_ANY)
 * completes. Returns 0 or CQLMQ_ENOMEM. */
int gw_pstmt_wait(gw_pstmt_t *e, uint64_t rid, uint16_t host);
/* Unparks the oldest waiter for exactly `host`: true and *rid, or false. */
bool gw_pstmt_pop_waiter(gw_pstmt_t *e, uint16_t host, uint64_t *rid);
/* Removes waiter rid wherever it is (its deadline passed). */
void gw_pstmt_drop_waiter(gw_pstmt_t *e, uint64_t rid);

/* Per-host bits. host must be < GW_MAX_HOSTS. */
bool gw_pstmt_on(const gw_pstmt_t *e, unsigned host);
void gw_pstmt_set_on(gw_pstmt_t *e, unsigned host, bool on);
bool gw_pstmt_preparing(const gw_pstmt_t *e, unsigned host);
void gw_pstmt_set_preparing(gw_pstmt_t *e, unsigned host, bool on);

/* Records a successful PREPARE on host: the id (replacing a different
 * one), the metadata when the entry was not ready (copied), on_host set,
 * preparing cleared. Returns 0 or CQLMQ_ENOMEM (nothing changed). */
int gw_pstmt_prepared(gw_pstmt_t *e, unsigned host, const uint8_t *id, uint16_t id_len,
                      const uint8_t *meta, size_t meta_len, uint8_t version, uint8_t flags);

/* Forgets that `host` has any statement (it restarted, came back UP, or
 * its index is reused). */
void gw_pcache_forget_host(gw_pcache_t *c, unsigned host);

/* Removes and frees e (e.g. its first PREPARE failed); e must have no
 * waiters left. */
void gw_pcache_remove(gw_pcache_t *c, gw_pstmt_t *e);

#endif /* GW_PREPARED_H */
