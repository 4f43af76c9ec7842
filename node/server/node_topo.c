/*
 * node_topo: the cluster's identity (addresses, host ids, tokens, data
 * centres) as the executor's system tables show it. See node_topo.h.
 */
#include "node_topo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqlmq/error.h"

/* splitmix64: a small mixing function, used to derive host ids. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The host id of the node with host-id serial `serial` (initial node i has
 * serial i). */
static void host_id(const char *cluster_name, uint64_t serial, uint8_t out[16])
{
    uint64_t a = mix64(hash_str(cluster_name) ^ (serial + 1));
    uint64_t b = mix64(a ^ 0x5bd1e995ull);
    for (int k = 0; k < 8; k++) {
        out[k] = (uint8_t)(a >> (56 - 8 * k));
        out[8 + k] = (uint8_t)(b >> (56 - 8 * k));
    }
    out[6] = (uint8_t)((out[6] & 0x0F) | 0x40); /* version 4 */
    out[8] = (uint8_t)((out[8] & 0x3F) | 0x80); /* RFC 4122 variant */
}

/* Fills slot i (tokens already in t->tokens[i]) as an up member. */
static void fill_node(node_topo_t *t, int i, uint64_t serial, const char *dc, const char *rack)
{
    node_topo_node_t *nd = &t->nodes[i];
    snprintf(t->dc[i], sizeof t->dc[i], "%s", dc);
    snprintf(t->rack[i], sizeof t->rack[i], "%s", rack);
    memset(nd, 0, sizeof *nd);
    nd->index = i;
    nd->address.size = 4;
    nd->address.addr[0] = 127;
    nd->address.addr[3] = (uint8_t)(i + 1);
    nd->address.port = t->port;
    nd->native_port = t->port;
    nd->storage_port = 7000;
    host_id(t->cluster_name, serial, nd->host_id);
    nd->dc = t->dc[i];
    nd->rack = t->rack[i];
    nd->tokens = t->tokens[i];
    nd->ntokens = (size_t)t->ntokens;
    nd->up = true;
    nd->removed = false;
}

int node_topo_build(node_topo_t *t, const node_config_t *cfg)
{
    if (node_config_validate(cfg, NULL, 0))
        return CQLMQ_ECONFIG;
    memset(t, 0, sizeof *t);
    snprintf(t->cluster_name, sizeof t->cluster_name, "%s", cfg->cluster_name);
    snprintf(t->release_version, sizeof t->release_version, "%s", cfg->release_version);

    int n = cfg->nnodes;
    uint64_t total = (uint64_t)n * (uint64_t)cfg->tokens;
    /* 2^64 / total without overflowing: (2^64 - total) / total + 1. */
    uint64_t step = (0 - total) / total + 1;
    for (uint64_t k = 0; k < total; k++) {
        int node = (int)(k % (uint64_t)n);
        int slot = (int)(k / (uint64_t)n);
        t->tokens[node][slot] = (int64_t)(0x8000000000000000ull + k * step);
    }

    t->port = cfg->port;
    t->ntokens = cfg->tokens;
    for (int i = 0; i < NODE_MAX_NODES; i++) {
        t->nodes[i].index = i;
        t->nodes[i].removed = i >= n; /* free slots */
    }
    for (int i = 0; i < n; i++)
        fill_node(t, i, i, cfg->dcs[node_config_dc_of(cfg, i)].name, NODE_DEFAULT_RACK);
    t->nmembers = n;
    t->next_serial = (uint64_t)n;
    t->topo.cluster_name = t->cluster_name;
    t->topo.partitioner = "org.apache.cassandra.dht.Murmur3Partitioner";
    t->topo.release_version = t->release_version;
    t->topo.cql_version = "3.4.5";
    t->topo.native_protocol_version = "4";
    t->topo.nnodes = (size_t)n;
    t->topo.nodes = t->nodes;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Picks t->ntokens new tokens for slot i: each is the midpoint of the widest
 * gap of the ring (the members' tokens and those already picked), the first
 * of equal gaps in token order. An empty ring starts at -2^63, as ccm. */
static void pick_tokens(node_topo_t *t, int i)
{
    int64_t ring[NODE_MAX_NODES * NODE_MAX_TOKENS];
    size_t n = 0;
    for (int k = 0; k < NODE_MAX_NODES; k++)
        if (k != i && node_topo_member(t, k))
            for (size_t j = 0; j < t->nodes[k].ntokens; j++)
                ring[n++] = t->nodes[k].tokens[j];
    for (int j = 0; j < t->ntokens; j++) {
        int64_t tok = INT64_MIN;
        if (n > 0) {
            qsort(ring, n, sizeof ring[0], cmp_i64);
            /* gaps as unsigned distances; the last one wraps around */
            size_t best = n - 1;
            uint64_t widest = (uint64_t)ring[0] - (uint64_t)ring[n - 1];
            if (n == 1)
                widest = UINT64_MAX; /* the whole ring but one token */
            for (size_t k = 0; k + 1 < n; k++) {
                uint64_t gap = (uint64_t)ring[k + 1] - (uint64_t)ring[k];
                if (gap > widest || (gap == widest && k < best)) {
                    widest = gap;
                    best = k;
                }
            }
            tok = (int64_t)((uint64_t)ring[best] + widest / 2 + (widest & 1));
        }
        t->tokens[i][j] = tok;
        ring[n++] = tok;
    }
}

bool node_topo_member(const node_topo_t *t, int i)
{
    return i >= 0 && i < NODE_MAX_NODES && !t->nodes[i].removed;
}

int node_topo_add(node_topo_t *t, int i, const char *dc, const char *rack)
{
    if (i < 0 || i >= NODE_MAX_NODES || node_topo_member(t, i))
        return CQLMQ_ERANGE;
    size_t dlen = strnlen(dc, NODE_DC_NAME_MAX + 1), rlen = strnlen(rack, NODE_DC_NAME_MAX + 1);
    if (dlen > NODE_DC_NAME_MAX || rlen > NODE_DC_NAME_MAX || !node_config_name_ok(dc, dlen) ||
        !node_config_name_ok(rack, rlen))
        return CQLMQ_EINVAL;
    pick_tokens(t, i);
    fill_node(t, i, t->next_serial++, dc, rack);
    t->nmembers++;
    if ((size_t)i >= t->topo.nnodes)
        t->topo.nnodes = (size_t)i + 1;
    return 0;
}

int node_topo_remove(node_topo_t *t, int i)
{
    if (!node_topo_member(t, i))
        return CQLMQ_ERANGE;
    t->nodes[i].removed = true;
    t->nodes[i].up = false;
    t->nmembers--;
    while (t->topo.nnodes > 0 && t->nodes[t->topo.nnodes - 1].removed)
        t->topo.nnodes--;
    return 0;
}

void node_topo_set_port(node_topo_t *t, int port)
{
    t->port = port;
    for (size_t i = 0; i < NODE_MAX_NODES; i++) {
        t->nodes[i].native_port = port;
        t->nodes[i].address.port = port;
    }
}

void node_topo_set_up(node_topo_t *t, int i, bool up)
{
    if (i >= 0 && (size_t)i < t->topo.nnodes)
        t->nodes[i].up = up;
}

cql_inet_t node_topo_inet(const node_topo_t *t, int i)
{
    cql_inet_t a = t->nodes[i].address;
    a.port = t->nodes[i].native_port;
    return a;
}

void node_uuid_format(const uint8_t u[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[u[i] >> 4];
        out[o++] = hex[u[i] & 15];
    }
    out[o] = '\0';
}
