/*
 * streams: the stream ids of one CQL connection and what each one carries.
 *
 * A bitset allocator over ids 0 .. cap-1 (cap <= GW_STREAMS_MAX = 32768,
 * the v3+ limit of a signed 16-bit id) and a slot per id. A slot is
 *   FREE      the id may be handed out;
 *   BUSY      a request is on the wire; a response will free it;
 *   ORPHAN    its request timed out and its owner was answered already, but
 *             the node may still answer: the id stays taken until that late
 *             response arrives or the connection closes (reusing it earlier
 *             would hand a stale response to a new request).
 * No I/O, no time source: the connection passes "now" in.
 *
 * Invariants: bit i set <=> slots[i].state != FREE; used counts the set
 * bits; orphans counts ORPHAN slots; hint < cap.
 */
#ifndef GW_STREAMS_H
#define GW_STREAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cqlmq/error.h"

#define GW_STREAMS_MAX 32768u

enum { GW_SLOT_FREE = 0, GW_SLOT_BUSY, GW_SLOT_ORPHAN };

/* What a stream carries (the connection's own requests use kinds too). */
enum {
    GW_SK_REQUEST = 0, /* a cluster request (rid) */
    GW_SK_HEARTBEAT,   /* OPTIONS sent on an idle connection */
    GW_SK_USE,         /* USE <keyspace> before queued requests */
    GW_SK_HANDSHAKE,   /* OPTIONS / STARTUP / AUTH_RESPONSE */
};

typedef struct gw_slot {
    uint8_t state;        /* GW_SLOT_* */
    uint8_t kind;         /* GW_SK_* */
    uint8_t opcode;       /* CQL opcode sent */
    bool has_ks;          /* the request depended on the keyspace */
    uint64_t rid;         /* the cluster's request id (GW_SK_REQUEST) */
    uint64_t deadline_ms; /* 0 = none */
    uint64_t reply_to;    /* requester for a direct reply, or 0 */
    uint64_t reply_corr;  /* its correlation id */
    uint32_t attempts;    /* reported in the reply */
} gw_slot_t;

typedef struct gw_streams {
    uint32_t cap;      /* usable ids: 0 .. cap-1 */
    uint32_t used;     /* ids taken (BUSY or ORPHAN) */
    uint32_t orphans;  /* ORPHAN ids */
    uint32_t hint;     /* word to start searching from */
    uint64_t *bits;    /* cap bits, 1 = taken */
    gw_slot_t *slots;  /* cap slots */
} gw_streams_t;

/* cap is clamped to 1 .. GW_STREAMS_MAX. Returns 0 or CQLMQ_ENOMEM. */
int gw_streams_init(gw_streams_t *s, uint32_t cap);
void gw_streams_close(gw_streams_t *s);

/* Takes a free id, fills its slot from *slot (state becomes BUSY) and
 * returns the id (>= 0), or CQLMQ_EBUSY when every id is taken. */
int gw_streams_take(gw_streams_t *s, const gw_slot_t *slot);

/* The slot of id if it is taken (BUSY or ORPHAN), else NULL (free or out
 * of range: a response on such a stream is a peer's protocol error). */
gw_slot_t *gw_streams_get(gw_streams_t *s, int id);

/* Frees id (a response arrived). No-op for a free id. */
void gw_streams_release(gw_streams_t *s, int id);

/* Marks a BUSY id ORPHAN (its owner was answered; the id stays taken). */
void gw_streams_orphan(gw_streams_t *s, int id);

/* Ids free now. */
static inline uint32_t gw_streams_free_count(const gw_streams_t *s) { return s->cap - s->used; }

/* Calls cb for every BUSY id whose deadline (non-zero) is <= now_ms. The
 * callback may orphan or release the id it is given. Returns how many
 * were found. */
size_t gw_streams_expired(gw_streams_t *s, uint64_t now_ms,
                          void (*cb)(gw_streams_t *s, int id, gw_slot_t *slot, void *ud),
                          void *ud);

/* Calls cb for every taken id (BUSY and ORPHAN), e.g. to fail them all
 * when the connection closes; the callback may release the id. */
void gw_streams_each(gw_streams_t *s,
                     void (*cb)(gw_streams_t *s, int id, gw_slot_t *slot, void *ud), void *ud);

#endif /* GW_STREAMS_H */
