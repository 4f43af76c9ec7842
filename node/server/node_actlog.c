/*
 * node_actlog: a bounded ring of received requests (see node_actlog.h).
 */
#include "node_actlog.h"

#include <stdlib.h>
#include <string.h>

#include "cqlmq/error.h"

int node_actlog_init(node_actlog_t *l, size_t cap)
{
    memset(l, 0, sizeof *l);
    l->next_seq = 1;
    if (cap == 0)
        return 0;
    l->ring = calloc(cap, sizeof *l->ring);
    if (!l->ring)
        return CQLMQ_ENOMEM;
    l->cap = cap;
    return 0;
}

void node_actlog_clear(node_actlog_t *l)
{
    for (size_t i = 0; i < l->count; i++) {
        node_act_entry_t *e = &l->ring[(l->head + i) % l->cap];
        free(e->query);
        e->query = NULL;
    }
    l->head = 0;
    l->count = 0;
    l->dropped = 0;
}

void node_actlog_close(node_actlog_t *l)
{
    if (l->ring)
        node_actlog_clear(l);
    free(l->ring);
    memset(l, 0, sizeof *l);
}

void node_actlog_append(node_actlog_t *l, const node_act_entry_t *e, const char *text,
                        size_t len)
{
    if (l->cap == 0)
        return;
    node_act_entry_t *slot;
    if (l->count == l->cap) {
        slot = &l->ring[l->head];
        free(slot->query);
        l->head = (l->head + 1) % l->cap;
        l->count--;
        l->dropped++;
    }
    slot = &l->ring[(l->head + l->count) % l->cap];
    *slot = *e;
    slot->seq = l->next_seq++;
    slot->query = NULL;
    if (text) {
        if (len > NODE_ACTLOG_TEXT_MAX)
            len = NODE_ACTLOG_TEXT_MAX;
        slot->query = malloc(len + 1);
        if (slot->query) {
            memcpy(slot->query, text, len);
            slot->query[len] = '\0';
        }
    }
    l->count++;
}

const node_act_entry_t *node_actlog_get(const node_actlog_t *l, size_t i)
{
    if (i >= l->count)
        return NULL;
    return &l->ring[(l->head + i) % l->cap];
}
