/*
 * node_delete: deletions (partition, row, clustering range), TRUNCATE and
 * the incremental purge.
 *
 * A deletion at ts removes at once every marker and cell with a timestamp
 * <= ts that it covers, freeing rows left empty and then the partition.
 * The tombstone itself is recorded only when opts.tombstone_grace > 0
 * (see node_store.h); node_store_purge drops it once the grace is over.
 * A deletion that runs out of memory while rebuilding a row may be partly
 * applied (rows already processed stay deleted).
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "node_store_int.h"

static void free_row_cb(void *item, void *ud)
{
    node_tab_t *t = ud;
    node_row_free(item, &t->bytes);
}

/* Rebuilds or frees the row at cursor position `it` after r was edited.
 * On removal the cursor is re-seeked after the row's key. Returns the next
 * item to visit through *next, or an error. */
static int commit_row(node_store_t *s, node_tab_t *t, node_part_t *p, node_bt_cur_t *c,
                      uint8_t *old, node_rowrec_t *r, void **next)
{
    cql_bytes_t v[NODE_MAX_KEY_COLS];
    if (!node_rowrec_empty(r)) {
        uint8_t *nw = node_row_build(r, &t->bytes);
        if (nw == NULL)
            return CQLMQ_ENOMEM;
        size_t n = node_ck_decode(r->ck, r->cklen, v, t->pub.nck);
        node_ckey_t k = {v, n};
        void **slot = node_bt_slot(&p->rows, &k, node_row_cmp, t);
        *slot = nw; /* same key: the cursor's nodes are unchanged */
        node_row_free(old, &t->bytes);
        *next = node_bt_next(c);
        return 0;
    }
    /* keep a copy of the key: the row is about to be freed */
    cql_wr_reset(&s->ckw);
    cql_wr_raw(&s->ckw, r->ck, r->cklen);
    if (cql_wr_error(&s->ckw))
        return CQLMQ_ENOMEM;
    size_t n = node_ck_decode(s->ckw.data, s->ckw.len, v, t->pub.nck);
    node_ckey_t k = {v, n};
    node_bt_remove(&p->rows, &k, node_row_cmp, t, &t->bytes);
    node_row_free(old, &t->bytes);
    t->nrows--;
    *next = node_bt_seek(c, &p->rows, &k, node_row_cmp, t, NODE_BT_GT);
    return 0;
}

/* Applies a deletion at ts (ts == NODE_TS_NONE: none, purge only) to the
 * rows of p within [lo, hi] and drops what the grace allows at `now`. */
static int sweep_rows(node_store_t *s, node_tab_t *t, node_part_t *p, const node_bound_t *lo,
                      const node_bound_t *hi, int64_t ts, int64_t now)
{
    node_bt_cur_t c;
    if (ts != NODE_TS_NONE && lo->n == 0 && hi->n == 0) {
        bool all = true; /* fast path: the whole partition goes */
        for (void *it = node_bt_first(&c, &p->rows); it && all; it = node_bt_next(&c))
            all = node_row_max_ts(it) <= ts;
        if (all) {
            t->nrows -= p->rows.count;
            uint32_t aux = p->rows.aux;
            node_bt_clear(&p->rows, free_row_cb, t, &t->bytes);
            p->rows.aux = aux;
            return 0;
        }
    }
    node_ckey_t lk = {lo->ck, lo->n};
    void *it = lo->n ? node_bt_seek(&c, &p->rows, &lk, node_row_cmp, t,
                                    lo->inclusive ? NODE_BT_GE : NODE_BT_GT)
                     : node_bt_first(&c, &p->rows);
    while (it) {
        cql_bytes_t v[NODE_MAX_KEY_COLS];
        const uint8_t *ck;
        uint32_t cklen;
        node_row_ck(it, &ck, &cklen);
        size_t n = node_ck_decode(ck, cklen, v, t->pub.nck);
        if (hi->n) {
            int cmp = cql_order_key_compare(t->ckorder, v, n, hi->ck, hi->n);
            if (cmp > 0 || (cmp == 0 && !hi->inclusive))
                break;
        }
        if (node_row_decode(it, &s->rec) < 0)
            return CQLMQ_ENOMEM;
        bool changed = false;
        if (ts != NODE_TS_NONE) {
            size_t before = s->rec.ncells;
            int64_t mk = s->rec.mk_ts;
            node_rowrec_shadow(&s->rec, ts);
            changed = before != s->rec.ncells || mk != s->rec.mk_ts;
        }
        changed |= node_rowrec_purge(&s->rec, now, s->opts.tombstone_grace);
        if (!changed) {
            it = node_bt_next(&c);
            continue;
        }
        int rc = commit_row(s, t, p, &c, it, &s->rec, &it);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Shadows and purges the static row of p. */
static int sweep_static(node_store_t *s, node_tab_t *t, node_part_t *p, int64_t ts, int64_t now)
{
    if (p->ext == NULL || p->ext->srow == NULL)
        return 0;
    if (node_row_decode(p->ext->srow, &s->srec) < 0)
        return CQLMQ_ENOMEM;
    bool changed = false;
    if (ts != NODE_TS_NONE) {
        size_t before = s->srec.ncells;
        node_rowrec_shadow(&s->srec, ts);
        changed = before != s->srec.ncells;
    }
    changed |= node_rowrec_purge(&s->srec, now, s->opts.tombstone_grace);
    if (!changed)
        return 0;
    uint8_t *nw = NULL;
    if (!node_rowrec_empty(&s->srec) && (nw = node_row_build(&s->srec, &t->bytes)) == NULL)
        return CQLMQ_ENOMEM;
    node_row_free(p->ext->srow, &t->bytes);
    p->ext->srow = nw;
    return 0;
}

/* Drops the partition tombstone and range tombstones past the grace, and
 * range tombstones a partition tombstone covers. */
static void sweep_tombstones(node_tab_t *t, node_part_t *p, int64_t now, uint32_t grace)
{
    node_pext_t *e = p->ext;
    if (e == NULL)
        return;
    if (e->del_ts != NODE_TS_NONE && (int64_t)e->del_time + grace <= now)
        e->del_ts = NODE_TS_NONE;
    size_t k = 0;
    for (size_t i = 0; i < e->nrt; i++) {
        node_rt_t *rt = &e->rts[i];
        if ((int64_t)rt->ldt + grace <= now || rt->ts <= e->del_ts) {
            t->bytes -= (int64_t)malloc_usable_size(rt->bounds);
            free(rt->bounds);
        } else {
            e->rts[k++] = *rt;
        }
    }
    e->nrt = k;
}

/* Finds the partition of pk, creating it when `create` (to hold a
 * tombstone). *out NULL when absent and not created. */
static int get_part(node_store_t *s, node_tab_t *t, const cql_bytes_t *pk, bool create,
                    node_part_t **out)
{
    node_pkey_t k;
    int rc = node_pkey_build(&s->key, t, pk, &k);
    if (rc < 0)
        return rc;
    *out = node_bt_find(&t->parts, &k, node_part_cmp, t);
    if (*out || !create)
        return 0;
    node_part_t *p = node_part_new(t, &k);
    if (p == NULL)
        return CQLMQ_ENOMEM;
    if (node_part_ext(t, p) == NULL || node_bt_insert(&t->parts, p, &k, node_part_cmp, t,
                                                      &t->bytes) < 0) {
        node_part_destroy(t, p);
        return CQLMQ_ENOMEM;
    }
    *out = p;
    return 0;
}

static void finish(node_tab_t *t, node_part_t *p)
{
    node_part_trim_ext(t, p);
    node_part_drop_if_empty(t, p);
    t->mods++;
}

int node_store_delete_partition(node_store_t *s, const node_table_t *tp, const cql_bytes_t *pk,
                                int64_t ts, int64_t now)
{
    node_tab_t *t = node_tab(tp);
    bool keep = s->opts.tombstone_grace > 0;
    node_part_t *p;
    int rc = get_part(s, t, pk, keep, &p);
    if (rc < 0 || p == NULL)
        return rc;
    if (keep && node_part_ext(t, p) && ts > p->ext->del_ts) {
        p->ext->del_ts = ts;
        p->ext->del_time = (uint32_t)now;
    }
    node_bound_t none = {NULL, 0, false};
    rc = sweep_rows(s, t, p, &none, &none, ts, now);
    if (rc == 0)
        rc = sweep_static(s, t, p, ts, now);
    sweep_tombstones(t, p, now, s->opts.tombstone_grace);
    finish(t, p);
    return rc;
}

int node_store_delete_range(node_store_t *s, const node_table_t *tp, const cql_bytes_t *pk,
                            const node_bound_t *start, const node_bound_t *end, int64_t ts,
                            int64_t now)
{
    node_tab_t *t = node_tab(tp);
    node_bound_t none = {NULL, 0, false};
    if (start == NULL)
        start = &none;
    if (end == NULL)
        end = &none;
    int rc;
    if ((rc = node_ck_check(t, start->ck, start->n)) < 0 ||
        (rc = node_ck_check(t, end->ck, end->n)) < 0)
        return rc;
    bool keep = s->opts.tombstone_grace > 0;
    node_part_t *p;
    if ((rc = get_part(s, t, pk, keep, &p)) < 0 || p == NULL)
        return rc;
    if (keep) {
        cql_wr_reset(&s->ckw);
        node_ck_encode(&s->ckw, start->ck, start->n);
        size_t slen = s->ckw.len;
        node_ck_encode(&s->ckw, end->ck, end->n);
        node_pext_t *e = node_part_ext(t, p);
        size_t old = e ? malloc_usable_size(e->rts) : 0;
        node_rt_t *rts = e ? realloc(e->rts, (e->nrt + 1) * sizeof(*rts)) : NULL;
        uint8_t *b = malloc(s->ckw.len ? s->ckw.len : 1);
        if (rts) {
            t->bytes += (int64_t)malloc_usable_size(rts) - (int64_t)old;
            e->rts = rts;
        }
        if (cql_wr_error(&s->ckw) || rts == NULL || b == NULL) {
            free(b);
            finish(t, p);
            return CQLMQ_ENOMEM;
        }
        memcpy(b, s->ckw.data, s->ckw.len);
        t->bytes += (int64_t)malloc_usable_size(b);
        e->rts[e->nrt++] = (node_rt_t){b, (uint32_t)slen, (uint32_t)(s->ckw.len - slen),
                                       (uint16_t)start->n, (uint16_t)end->n, start->inclusive,
                                       end->inclusive, ts, (uint32_t)now};
    }
    rc = sweep_rows(s, t, p, start, end, ts, now);
    sweep_tombstones(t, p, now, s->opts.tombstone_grace);
    finish(t, p);
    return rc;
}

int node_store_delete_row(node_store_t *s, const node_table_t *tp, const cql_bytes_t *pk,
                          const cql_bytes_t *ck, int64_t ts, int64_t now)
{
    node_tab_t *t = node_tab(tp);
    size_t nck = t->pub.nck;
    int rc = node_ck_check(t, ck, nck);
    if (rc < 0)
        return rc;
    bool keep = s->opts.tombstone_grace > 0;
    node_part_t *p;
    if ((rc = get_part(s, t, pk, keep, &p)) < 0 || p == NULL)
        return rc;
    node_ckey_t k = {ck, nck};
    void **slot = node_bt_slot(&p->rows, &k, node_row_cmp, t);
    uint8_t *old = slot ? *slot : NULL;
    node_rowrec_reset(&s->rec);
    if (old && node_row_decode(old, &s->rec) < 0) {
        finish(t, p);
        return CQLMQ_ENOMEM;
    }
    if (old == NULL) {
        cql_wr_reset(&s->ckw);
        if (node_ck_encode(&s->ckw, ck, nck) < 0) {
            finish(t, p);
            return CQLMQ_ENOMEM;
        }
        s->rec.ck = s->ckw.data;
        s->rec.cklen = (uint32_t)s->ckw.len;
    }
    node_rowrec_shadow(&s->rec, ts);
    if (keep && ts > s->rec.del_ts) {
        s->rec.del_ts = ts;
        s->rec.del_time = (uint32_t)now;
    }
    node_rowrec_purge(&s->rec, now, s->opts.tombstone_grace);
    uint8_t *nw = NULL;
    if (!node_rowrec_empty(&s->rec) && (nw = node_row_build(&s->rec, &t->bytes)) == NULL) {
        finish(t, p);
        return CQLMQ_ENOMEM;
    }
    if (slot && nw) {
        *slot = nw;
    } else if (slot) {
        node_bt_remove(&p->rows, &k, node_row_cmp, t, &t->bytes);
        t->nrows--;
    } else if (nw) {
        if (node_bt_insert(&p->rows, nw, &k, node_row_cmp, t, &t->bytes) < 0) {
            node_row_free(nw, &t->bytes);
            finish(t, p);
            return CQLMQ_ENOMEM;
        }
        t->nrows++;
    }
    node_row_free(old, &t->bytes);
    finish(t, p);
    return 0;
}

int node_store_truncate(node_store_t *s, const node_table_t *tp)
{
    node_tab_t *t = node_tab(tp);
    node_tab_clear_data(t);
    t->nrows = 0;
    s->purge_has_pos = false;
    return 0;
}

/* Remembers p as the purge position. */
static int purge_mark(node_store_t *s, const node_part_t *p)
{
    if (p->rows.aux > s->purge_keylen || s->purge_key == NULL) {
        uint8_t *k = realloc(s->purge_key, p->rows.aux ? p->rows.aux : 1);
        if (k == NULL)
            return CQLMQ_ENOMEM;
        s->purge_key = k;
    }
    memcpy(s->purge_key, p->key, p->rows.aux);
    s->purge_keylen = p->rows.aux;
    s->purge_token = p->token;
    s->purge_has_pos = true;
    return 0;
}

size_t node_store_purge(node_store_t *s, int64_t now, size_t budget)
{
    size_t total = 0, seen = 0, visited = 0;
    for (size_t i = 0; i < s->nks; i++)
        total += s->ks[i]->ntabs;
    while (total && visited < budget && seen < total) {
        if (s->purge_ks >= s->nks) {
            s->purge_ks = 0;
            s->purge_tab = 0;
            s->purge_has_pos = false;
        }
        node_ks_t *k = s->ks[s->purge_ks];
        if (s->purge_tab >= k->ntabs) {
            s->purge_ks++;
            s->purge_tab = 0;
            s->purge_has_pos = false;
            continue;
        }
        node_tab_t *t = k->tabs[s->purge_tab];
        node_bt_cur_t c;
        node_part_t *p;
        if (s->purge_has_pos) {
            node_pkey_t pk = {s->purge_token, s->purge_key, s->purge_keylen};
            p = node_bt_seek(&c, &t->parts, &pk, node_part_cmp, t, NODE_BT_GT);
        } else {
            p = node_bt_first(&c, &t->parts);
        }
        if (p == NULL) {
            s->purge_tab++;
            s->purge_has_pos = false;
            seen++;
            continue;
        }
        if (purge_mark(s, p) < 0)
            break;
        node_bound_t none = {NULL, 0, false};
        sweep_tombstones(t, p, now, s->opts.tombstone_grace);
        if (sweep_static(s, t, p, NODE_TS_NONE, now) == 0)
            sweep_rows(s, t, p, &none, &none, NODE_TS_NONE, now);
        finish(t, p);
        visited++;
    }
    return visited;
}
