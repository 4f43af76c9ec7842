/*
 * streams: stream id allocation for one connection (see streams.h).
 * The bitset is searched a 64-bit word at a time from a rotating hint, so
 * taking an id costs O(cap / 64) at worst and O(1) when ids are plentiful;
 * scans for expired deadlines skip whole empty words.
 */
#include <stdlib.h>
#include <string.h>

#include "cqlmq/error.h"
#include "streams.h"

static uint32_t nwords(const gw_streams_t *s) { return (s->cap + 63u) / 64u; }

int gw_streams_init(gw_streams_t *s, uint32_t cap)
{
    memset(s, 0, sizeof *s);
    if (cap == 0)
        cap = 1;
    if (cap > GW_STREAMS_MAX)
        cap = GW_STREAMS_MAX;
    s->cap = cap;
    s->bits = calloc(nwords(s), sizeof *s->bits);
    s->slots = calloc(cap, sizeof *s->slots);
    if (s->bits == NULL || s->slots == NULL) {
        gw_streams_close(s);
        return CQLMQ_ENOMEM;
    }
    /* Bits past cap in the last word are marked taken so they are never
     * handed out. */
    uint32_t extra = nwords(s) * 64u - cap;
    if (extra)
        s->bits[nwords(s) - 1] = ~UINT64_C(0) << (64u - extra);
    return 0;
}

void gw_streams_close(gw_streams_t *s)
{
    free(s->bits);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

int gw_streams_take(gw_streams_t *s, const gw_slot_t *slot)
{
    if (s->used >= s->cap)
        return CQLMQ_EBUSY;
    uint32_t n = nwords(s);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t w = (s->hint + k) % n;
        uint64_t free_bits = ~s->bits[w];
        if (free_bits == 0)
            continue;
        uint32_t id = w * 64u + (uint32_t)__builtin_ctzll(free_bits);
        s->bits[w] |= UINT64_C(1) << (id % 64u);
        s->hint = w;
        s->used++;
        s->slots[id] = *slot;
        s->slots[id].state = GW_SLOT_BUSY;
        return (int)id;
    }
    return CQLMQ_EBUSY; /* unreachable while used is right */
}

gw_slot_t *gw_streams_get(gw_streams_t *s, int id)
{
    if (id < 0 || (uint32_t)id >= s->cap || s->slots[id].state == GW_SLOT_FREE)
        return NULL;
    return &s->slots[id];
}

void gw_streams_release(gw_streams_t *s, int id)
{
    gw_slot_t *slot = gw_streams_get(s, id);
    if (slot == NULL)
        return;
    if (slot->state == GW_SLOT_ORPHAN)
        s->orphans--;
    memset(slot, 0, sizeof *slot);
    s->bits[(uint32_t)id / 64u] &= ~(UINT64_C(1) << ((uint32_t)id % 64u));
    s->used--;
}

void gw_streams_orphan(gw_streams_t *s, int id)
{
    gw_slot_t *slot = gw_streams_get(s, id);
    if (slot == NULL || slot->state != GW_SLOT_BUSY)
        return;
    slot->state = GW_SLOT_ORPHAN;
    s->orphans++;
}

static size_t walk(gw_streams_t *s, bool busy_only, uint64_t now_ms,
                   void (*cb)(gw_streams_t *, int, gw_slot_t *, void *), void *ud)
{
    size_t found = 0;
    uint32_t n = nwords(s);
    for (uint32_t w = 0; w < n; w++) {
        uint64_t bits = s->bits[w];
        if (w == n - 1 && s->cap % 64u)
            bits &= (UINT64_C(1) << (s->cap % 64u)) - 1; /* drop the padding */
        while (bits) {
            uint32_t id = w * 64u + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            gw_slot_t *slot = &s->slots[id];
            if (busy_only && (slot->state != GW_SLOT_BUSY || slot->deadline_ms == 0 ||
                              slot->deadline_ms > now_ms))
                continue;
            found++;
            cb(s, (int)id, slot, ud);
        }
    }
    return found;
}

size_t gw_streams_expired(gw_streams_t *s, uint64_t now_ms,
                          void (*cb)(gw_streams_t *, int, gw_slot_t *, void *), void *ud)
{
    return walk(s, true, now_ms, cb, ud);
}

void gw_streams_each(gw_streams_t *s, void (*cb)(gw_streams_t *, int, gw_slot_t *, void *),
                     void *ud)
{
    (void)walk(s, false, 0, cb, ud);
}
