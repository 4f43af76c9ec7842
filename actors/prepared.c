/*
 * prepared: the shared prepared-statement cache (see prepared.h). A hash
 * of chains keyed by the handle (itself a hash of the key, so lookups by
 * key compute the handle and compare the key), an LRU list, and per-entry
 * host bitsets and waiter arrays.
 */
#include <stdlib.h>
#include <string.h>

#include "cql_murmur3.h"
#include "prepared.h"

static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint64_t keyed(uint64_t salt, const char *ks, size_t ks_len, const char *q, size_t q_len)
{
    cql_murmur3_t m;
    uint8_t len[4] = {(uint8_t)(ks_len >> 24), (uint8_t)(ks_len >> 16), (uint8_t)(ks_len >> 8),
                      (uint8_t)ks_len};
    cql_murmur3_init(&m);
    cql_murmur3_update(&m, &salt, sizeof salt);
    cql_murmur3_update(&m, len, sizeof len); /* the length keeps (ks, q) splits apart */
    cql_murmur3_update(&m, ks, ks_len);
    cql_murmur3_update(&m, q, q_len);
    return (uint64_t)cql_murmur3_final(&m);
}

void gw_pcache_handle_of(const gw_pcache_t *c, const char *ks, size_t ks_len, const char *q,
                         size_t q_len, uint8_t out[GW_HANDLE_LEN])
{
    uint64_t a = keyed(c->salt[0], ks, ks_len, q, q_len);
    uint64_t b = keyed(c->salt[1], ks, ks_len, q, q_len);
    memcpy(out, &a, 8);
    memcpy(out + 8, &b, 8);
}

int gw_pcache_init(gw_pcache_t *c, uint32_t max, uint64_t salt0, uint64_t salt1)
{
    memset(c, 0, sizeof *c);
    c->max = max ? max : GW_PCACHE_DEFAULT;
    c->nbuckets = 64;
    while (c->nbuckets < c->max && c->nbuckets < (1u << 20))
        c->nbuckets *= 2;
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    if (c->buckets == NULL)
        return CQLMQ_ENOMEM;
    c->salt[0] = salt0;
    c->salt[1] = salt1 ^ UINT64_C(0x5bd1e9955bd1e995);
    return 0;
}

static void entry_free(gw_pstmt_t *e)
{
    free(e->keyspace);
    free(e->query);
    free(e->id);
    free(e->meta);
    free(e->waiters);
    free(e);
}

void gw_pcache_close(gw_pcache_t *c)
{
    gw_pstmt_t *e = c->lru_head;
    while (e != NULL) {
        gw_pstmt_t *next = e->lru_next;
        entry_free(e);
        e = next;
    }
    free(c->buckets);
    memset(c, 0, sizeof *c);
}

static gw_pstmt_t **bucket(gw_pcache_t *c, const uint8_t *handle)
{
    return &c->buckets[load64(handle) & (c->nbuckets - 1)];
}

static void lru_unlink(gw_pcache_t *c, gw_pstmt_t *e)
{
    if (e->lru_prev) e->lru_prev->lru_next = e->lru_next;
    else c->lru_head = e->lru_next;
    if (e->lru_next) e->lru_next->lru_prev = e->lru_prev;
    else c->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push(gw_pcache_t *c, gw_pstmt_t *e)
{
    e->lru_prev = NULL;
    e->lru_next = c->lru_head;
    if (c->lru_head) c->lru_head->lru_prev = e;
    else c->lru_tail = e;
    c->lru_head = e;
}

static void touch(gw_pcache_t *c, gw_pstmt_t *e)
{
    e->uses++;
    if (c->lru_head != e) {
        lru_unlink(c, e);
        lru_push(c, e);
    }
}

gw_pstmt_t *gw_pcache_get(gw_pcache_t *c, const uint8_t *handle, size_t len)
{
    if (handle == NULL || len != GW_HANDLE_LEN)
        return NULL;
    for (gw_pstmt_t *e = *bucket(c, handle); e != NULL; e = e->hnext)
        if (memcmp(e->handle, handle, GW_HANDLE_LEN) == 0) {
            touch(c, e);
            return e;
        }
    return NULL;
}

void gw_pcache_remove(gw_pcache_t *c, gw_pstmt_t *e)
{
    for (gw_pstmt_t **pp = bucket(c, e->handle); *pp != NULL; pp = &(*pp)->hnext)
        if (*pp == e) {
            *pp = e->hnext;
            break;
        }
    lru_unlink(c, e);
    c->count--;
    entry_free(e);
}

static bool evict_one(gw_pcache_t *c)
{
    for (gw_pstmt_t *e = c->lru_tail; e != NULL; e = e->lru_prev)
        if (e->nwait == 0 && e->npreparing == 0 && e->id != NULL) {
            gw_pcache_remove(c, e);
            c->evictions++;
            return true;
        }
    return false;
}

static char *dup0(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        if (n)
            memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

int gw_pcache_acquire(gw_pcache_t *c, const char *ks, size_t ks_len, const char *q,
                      size_t q_len, gw_pstmt_t **out, bool *created)
{
    uint8_t h[GW_HANDLE_LEN];
    if (ks == NULL)
        ks_len = 0;
    gw_pcache_handle_of(c, ks ? ks : "", ks_len, q, q_len, h);
    gw_pstmt_t *e = gw_pcache_get(c, h, sizeof h);
    if (e != NULL) {
        if (e->ks_len != ks_len || e->q_len != q_len ||
            (ks_len && memcmp(e->keyspace, ks, ks_len) != 0) || memcmp(e->query, q, q_len) != 0)
            return CQLMQ_EEXISTS;
        *out = e;
        *created = false;
        return 0;
    }
    if (c->count >= c->max && !evict_one(c))
        return CQLMQ_ELIMIT;
    e = calloc(1, sizeof *e);
    if (e == NULL)
        return CQLMQ_ENOMEM;
    e->keyspace = dup0(ks ? ks : "", ks_len);
    e->query = dup0(q, q_len);
    if (e->keyspace == NULL || e->query == NULL) {
        entry_free(e);
        return CQLMQ_ENOMEM;
    }
    e->ks_len = ks_len;
    e->q_len = q_len;
    memcpy(e->handle, h, sizeof h);
    gw_pstmt_t **b = bucket(c, h);
    e->hnext = *b;
    *b = e;
    lru_push(c, e);
    c->count++;
    *out = e;
    *created = true;
    return 0;
}

int gw_pstmt_wait(gw_pstmt_t *e, uint64_t rid, uint16_t host)
{
    if (e->nwait == e->capwait) {
        uint32_t cap = e->capwait ? e->capwait * 2 : 4;
        gw_pwait_t *w = realloc(e->waiters, cap * sizeof *w);
        if (w == NULL)
            return CQLMQ_ENOMEM;
        e->waiters = w;
        e->capwait = cap;
    }
    e->waiters[e->nwait++] = (gw_pwait_t){rid, host};
    return 0;
}

static void drop_at(gw_pstmt_t *e, uint32_t i)
{
    memmove(&e->waiters[i], &e->waiters[i + 1], (e->nwait - i - 1) * sizeof *e->waiters);
    e->nwait--;
}

bool gw_pstmt_pop_waiter(gw_pstmt_t *e, uint16_t host, uint64_t *rid)
{
    for (uint32_t i = 0; i < e->nwait; i++)
        if (e->waiters[i].host == host) {
            *rid = e->waiters[i].rid;
            drop_at(e, i);
            return true;
        }
    return false;
}

void gw_pstmt_drop_waiter(gw_pstmt_t *e, uint64_t rid)
{
    for (uint32_t i = 0; i < e->nwait; i++)
        if (e->waiters[i].rid == rid) {
            drop_at(e, i);
            return;
        }
}

static bool bit(const uint8_t *set, unsigned i) { return (set[i / 8] >> (i % 8)) & 1u; }
static void set_bit(uint8_t *set, unsigned i, bool on)
{
    if (on)
        set[i / 8] |= (uint8_t)(1u << (i % 8));
    else
        set[i / 8] &= (uint8_t)~(1u << (i % 8));
}

bool gw_pstmt_on(const gw_pstmt_t *e, unsigned host)
{
    return host < GW_MAX_HOSTS && bit(e->on_host, host);
}

void gw_pstmt_set_on(gw_pstmt_t *e, unsigned host, bool on)
{
    if (host < GW_MAX_HOSTS)
        set_bit(e->on_host, host, on);
}

bool gw_pstmt_preparing(const gw_pstmt_t *e, unsigned host)
{
    return host < GW_MAX_HOSTS && bit(e->preparing, host);
}

void gw_pstmt_set_preparing(gw_pstmt_t *e, unsigned host, bool on)
{
    if (host >= GW_MAX_HOSTS || bit(e->preparing, host) == on)
        return;
    set_bit(e->preparing, host, on);
    if (on)
        e->npreparing++;
    else
        e->npreparing--;
}

int gw_pstmt_prepared(gw_pstmt_t *e, unsigned host, const uint8_t *id, uint16_t id_len,
                      const uint8_t *meta, size_t meta_len, uint8_t version, uint8_t flags)
{
    if (e->id == NULL || e->id_len != id_len || memcmp(e->id, id, id_len) != 0) {
        uint8_t *copy = malloc(id_len ? id_len : 1);
        if (copy == NULL)
            return CQLMQ_ENOMEM;
        if (id_len)
            memcpy(copy, id, id_len);
        free(e->id);
        e->id = copy;
        e->id_len = id_len;
    }
    if (e->meta == NULL) {
        e->meta = malloc(meta_len ? meta_len : 1);
        if (e->meta == NULL)
            return CQLMQ_ENOMEM;
        if (meta_len)
            memcpy(e->meta, meta, meta_len);
        e->meta_len = meta_len;
        e->version = version;
        e->flags = flags;
    }
    gw_pstmt_set_on(e, host, true);
    gw_pstmt_set_preparing(e, host, false);
    return 0;
}

void gw_pcache_forget_host(gw_pcache_t *c, unsigned host)
{
    for (gw_pstmt_t *e = c->lru_head; e != NULL; e = e->lru_next)
        gw_pstmt_set_on(e, host, false);
}
