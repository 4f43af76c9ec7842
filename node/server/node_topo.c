/*
 * node_topo: the cluster's identity (addresses, host ids, tokens, data
 * centres) as the executor's system tables show it. See node_topo.h.
 */
#include "node_topo.h"

#include <stdio.h>
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

static void host_id(const char *cluster_name, int i, uint8_t out[16])
{
    uint64_t a = mix64(hash_str(cluster_name) ^ (uint64_t)(i + 1));
    uint64_t b = mix64(a ^ 0x5bd1e995ull);
    for (int k = 0; k < 8; k++) {
        out[k] = (uint8_t)(a >> (56 - 8 * k));
        out[8 + k] = (uint8_t)(b >> (56 - 8 * k));
    }
    out[6] = (uint8_t)((out[6] & 0x0F) | 0x40); /* version 4 */
    out[8] = (uint8_t)((out[8] & 0x3F) | 0x80); /* RFC 4122 variant */
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

    for (int i = 0; i < n; i++) {
        node_topo_node_t *nd = &t->nodes[i];
        int dc = node_config_dc_of(cfg, i);
        snprintf(t->dc[i], sizeof t->dc[i], "%s", cfg->dcs[dc].name);
        nd->index = i;
        nd->address.size = 4;
        nd->address.addr[0] = 127;
        nd->address.addr[3] = (uint8_t)(i + 1);
        nd->address.port = cfg->port;
        nd->native_port = cfg->port;
        nd->storage_port = 7000;
        host_id(cfg->cluster_name, i, nd->host_id);
        nd->dc = t->dc[i];
        nd->rack = NODE_DEFAULT_RACK;
        nd->tokens = t->tokens[i];
        nd->ntokens = (size_t)cfg->tokens;
        nd->up = true;
    }
    t->topo.cluster_name = t->cluster_name;
    t->topo.partitioner = "org.apache.cassandra.dht.Murmur3Partitioner";
    t->topo.release_version = t->release_version;
    t->topo.cql_version = "3.4.5";
    t->topo.native_protocol_version = "4";
    t->topo.nnodes = (size_t)n;
    t->topo.nodes = t->nodes;
    return 0;
}

void node_topo_set_port(node_topo_t *t, int port)
{
    for (size_t i = 0; i < t->topo.nnodes; i++) {
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
