/*
 * reqs: the cluster actor's request table. A request id is (generation <<
 * 32 | slot): a DONE for a request that already ended (or whose slot was
 * reused) finds nothing, so a late or duplicate outcome can never answer a
 * newer request. Slots are recycled through a free list; the table grows
 * by doubling up to its cap (max_in_flight plus room for the cache's and
 * the control connection's own requests).
 */
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"

#define NO_SLOT UINT32_MAX

int gwc_reqs_init(cluster_t *c, uint32_t cap)
{
    c->capslots = cap;
    c->nslots = 0;
    c->free_head = NO_SLOT;
    c->reqs = calloc(cap, sizeof *c->reqs);
    c->gens = calloc(cap, sizeof *c->gens);
    c->free_next = calloc(cap, sizeof *c->free_next);
    if (c->reqs == NULL || c->gens == NULL || c->free_next == NULL) {
        gwc_reqs_close(c);
        return CQLMQ_ENOMEM;
    }
    return 0;
}

void gwc_reqs_close(cluster_t *c)
{
    for (uint32_t i = 0; c->reqs != NULL && i < c->nslots; i++)
        if (c->reqs[i] != NULL) {
            free(c->reqs[i]->payload);
            free(c->reqs[i]->err_body);
            free(c->reqs[i]);
        }
    free(c->reqs);
    free(c->gens);
    free(c->free_next);
    c->reqs = NULL;
    c->gens = NULL;
    c->free_next = NULL;
}

req_t *gwc_reqs_new(cluster_t *c, uint8_t kind)
{
    uint32_t slot;
    if (c->free_head != NO_SLOT) {
        slot = c->free_head;
        c->free_head = c->free_next[slot];
    } else if (c->nslots < c->capslots) {
        slot = c->nslots++;
        c->gens[slot] = 1;
    } else {
        return NULL;
    }
    req_t *r = calloc(1, sizeof *r);
    if (r == NULL) {
        c->free_next[slot] = c->free_head;
        c->free_head = slot;
        return NULL;
    }
    r->rid = (uint64_t)c->gens[slot] << 32 | slot;
    r->kind = kind;
    r->host = -1;
    r->want_host = -1;
    c->reqs[slot] = r;
    if (kind == GW_KIND_USER)
        c->user_live++;
    return r;
}

req_t *gwc_reqs_get(cluster_t *c, uint64_t rid)
{
    uint32_t slot = (uint32_t)rid;
    if (slot >= c->nslots || c->reqs[slot] == NULL || c->reqs[slot]->rid != rid)
        return NULL;
    return c->reqs[slot];
}

void gwc_req_link_conn(req_t *r, pconn_t *pc)
{
    r->conn = pc;
    r->cprev = NULL;
    r->cnext = pc->reqs;
    if (pc->reqs)
        pc->reqs->cprev = r;
    pc->reqs = r;
    pc->inflight++;
    if (r->has_ks)
        pc->ks_inflight++;
}

void gwc_req_unlink_conn(req_t *r)
{
    pconn_t *pc = r->conn;
    if (pc == NULL)
        return;
    if (r->cprev) r->cprev->cnext = r->cnext;
    else pc->reqs = r->cnext;
    if (r->cnext)
        r->cnext->cprev = r->cprev;
    pc->inflight--;
    if (r->has_ks)
        pc->ks_inflight--;
    r->conn = NULL;
    r->cprev = r->cnext = NULL;
}

void gwc_req_park(cluster_t *c, req_t *r)
{
    if (r->parked)
        return;
    r->parked = true;
    r->pprev = NULL;
    r->pnext = c->parked;
    if (c->parked)
        c->parked->pprev = r;
    c->parked = r;
}

void gwc_req_unpark(cluster_t *c, req_t *r)
{
    if (!r->parked)
        return;
    if (r->pprev) r->pprev->pnext = r->pnext;
    else c->parked = r->pnext;
    if (r->pnext)
        r->pnext->pprev = r->pprev;
    r->parked = false;
    r->pprev = r->pnext = NULL;
}

void gwc_reqs_free(cluster_t *c, req_t *r)
{
    uint32_t slot = (uint32_t)r->rid;
    gwc_req_unlink_conn(r);
    gwc_req_unpark(c, r);
    if (r->kind == GW_KIND_USER)
        c->user_live--;
    c->reqs[slot] = NULL;
    uint32_t g = c->gens[slot] + 1;
    c->gens[slot] = g ? g : 1;
    c->free_next[slot] = c->free_head;
    c->free_head = slot;
    free(r->payload);
    free(r->err_body);
    free(r);
}
