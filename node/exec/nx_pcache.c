/*
 * nx_pcache: the prepared statements of one node.
 *
 * Cassandra keeps prepared statements per node; the id is MD5(keyspace +
 * query), so the same statement has the same id on every node, but a node
 * that never saw the PREPARE (or forgot it: restart, eviction, the
 * forget-prepared fault) answers Unprepared and the driver re-prepares.
 *
 * A chained hash table keyed by the id. Each entry owns an arena holding
 * its parsed statement. When the cache is full the oldest entry is evicted
 * (a linear scan, only then).
 *
 * Invariants: n entries are reachable from the buckets; every entry is in
 * the bucket of its id's first bytes; stamps are unique and increasing.
 */
#include <stdlib.h>
#include <string.h>

#include "nx_int.h"

#define NBUCKETS 1024

typedef struct entry {
    nx_prepared_t p;
    struct entry *next; /* bucket chain */
} entry_t;

struct nx_pcache {
    entry_t *buckets[NBUCKETS];
    size_t n;          /* entries */
    uint64_t clock;    /* last stamp */
};

static size_t bucket_of(const uint8_t id[16])
{
    return ((size_t)id[0] << 8 | id[1]) % NBUCKETS;
}

nx_pcache_t *nx_pcache_get(node_db_t *db, int node, bool create)
{
    if (node < 0 || node > 4096)
        return NULL;
    if ((size_t)node >= db->npcache) {
        if (!create)
            return NULL;
        size_t n = (size_t)node + 1;
        nx_pcache_t **v = realloc(db->pcache, n * sizeof *v);
        if (v == NULL)
            return NULL;
        for (size_t i = db->npcache; i < n; i++)
            v[i] = NULL;
        db->pcache = v;
        db->npcache = n;
    }
    if (db->pcache[node] == NULL && create)
        db->pcache[node] = calloc(1, sizeof(nx_pcache_t));
    return db->pcache[node];
}

static void entry_free(entry_t *e)
{
    cql_arena_close(&e->p.arena);
    free(e->p.query);
    free(e);
}

void nx_pcache_clear(nx_pcache_t *pc)
{
    if (pc == NULL)
        return;
    for (size_t b = 0; b < NBUCKETS; b++) {
        entry_t *e = pc->buckets[b];
        while (e != NULL) {
            entry_t *next = e->next;
            entry_free(e);
            e = next;
        }
        pc->buckets[b] = NULL;
    }
    pc->n = 0;
}

void nx_pcache_free(nx_pcache_t **pc)
{
    if (pc == NULL || *pc == NULL)
        return;
    nx_pcache_clear(*pc);
    free(*pc);
    *pc = NULL;
}

nx_prepared_t *nx_pcache_find(nx_pcache_t *pc, const uint8_t id[16])
{
    if (pc == NULL)
        return NULL;
    for (entry_t *e = pc->buckets[bucket_of(id)]; e != NULL; e = e->next)
        if (memcmp(e->p.id, id, 16) == 0)
            return &e->p;
    return NULL;
}

static void evict_oldest(nx_pcache_t *pc)
{
    entry_t **best = NULL;
    for (size_t b = 0; b < NBUCKETS; b++)
        for (entry_t **pe = &pc->buckets[b]; *pe != NULL; pe = &(*pe)->next)
            if (best == NULL || (*pe)->p.stamp < (*best)->p.stamp)
                best = pe;
    if (best != NULL) {
        entry_t *e = *best;
        *best = e->next;
        entry_free(e);
        pc->n--;
    }
}

int nx_pcache_add(nx_pcache_t *pc, size_t max, nx_prepared_t **out, const uint8_t id[16])
{
    nx_prepared_t *p = nx_pcache_find(pc, id);
    if (p != NULL) {
        *out = p;
        return 0;
    }
    if (max == 0)
        max = 10000;
    while (pc->n >= max)
        evict_oldest(pc);
    entry_t *e = calloc(1, sizeof *e);
    if (e == NULL)
        return CQLMQ_ENOMEM;
    memcpy(e->p.id, id, 16);
    cql_arena_init(&e->p.arena, 0);
    e->p.stamp = ++pc->clock;
    size_t b = bucket_of(id);
    e->next = pc->buckets[b];
    pc->buckets[b] = e;
    pc->n++;
    *out = &e->p;
    return 0;
}

void nx_pcache_remove(nx_pcache_t *pc, const uint8_t id[16])
{
    for (entry_t **pe = &pc->buckets[bucket_of(id)]; *pe != NULL; pe = &(*pe)->next) {
        if (memcmp((*pe)->p.id, id, 16) == 0) {
            entry_t *e = *pe;
            *pe = e->next;
            entry_free(e);
            pc->n--;
            return;
        }
    }
}
