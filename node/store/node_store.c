/*
 * node_store: the store object, keys and partitions, and the write path
 * (INSERT/UPDATE). Deletions and purging: node_delete.c; reads: node_iter.c.
 *
 * A write decodes the row (and the static row) into scratch records,
 * applies each cell operation with last-write-wins, filters what the
 * partition's tombstones shadow, drops what may be purged, and builds new
 * blocks. Only then is anything allocated in the trees, so a failing write
 * changes nothing.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "cql_murmur3.h"
#include "cql_value.h"
#include "node_store_int.h"

node_store_t *node_store_new(const node_store_opts_t *opts)
{
    node_store_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    if (opts)
        s->opts = *opts;
    s->idgen = s->opts.seed;
    cql_wr_init(&s->key);
    cql_wr_init(&s->ckw);
    cql_arena_init(&s->scratch, 0);
    node_rowrec_reset(&s->rec);
    node_rowrec_reset(&s->srec);
    return s;
}

void node_store_free(node_store_t **sp)
{
    if (sp == NULL || *sp == NULL)
        return;
    node_store_t *s = *sp;
    node_catalog_close(s);
    cql_wr_close(&s->key);
    cql_wr_close(&s->ckw);
    cql_arena_close(&s->scratch);
    node_rowrec_close(&s->rec);
    node_rowrec_close(&s->srec);
    free(s->purge_key);
    free(s);
    *sp = NULL;
}

/* ---- keys ---------------------------------------------------------------- */

int node_part_cmp(const void *key, const void *item, void *ctx)
{
    const node_pkey_t *k = key;
    const node_part_t *p = item;
    if (k->token != p->token)
        return k->token < p->token ? -1 : 1;
    size_t pl = p->rows.aux, n = k->len < pl ? k->len : pl;
    int c = n ? memcmp(k->ptr, p->key, n) : 0;
    if (c != 0)
        return c;
    return k->len < pl ? -1 : k->len > pl;
}

int node_row_cmp(const void *key, const void *item, void *ctx)
{
    const node_tab_t *t = ctx;
    const node_ckey_t *k = key;
    cql_bytes_t v[NODE_MAX_KEY_COLS];
    const uint8_t *ck;
    uint32_t len;
    node_row_ck(item, &ck, &len);
    size_t n = node_ck_decode(ck, len, v, t->pub.nck);
    return cql_order_key_compare(t->ckorder, k->v, k->n, v, n);
}

int node_pkey_build(cql_wr_t *scratch, const node_tab_t *t, const cql_bytes_t *pk,
                    node_pkey_t *out)
{
    size_t n = t->pub.npk;
    if (pk == NULL)
        return CQLMQ_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (pk[i].len < 0 || cql_value_validate(t->pub.pk[i]->type, pk[i]) < 0)
            return CQLMQ_EINVAL;
        if (pk[i].len > 0xffff)
            return CQLMQ_ERANGE;
    }
    if (n == 1) {
        out->ptr = pk[0].ptr;
        out->len = (size_t)pk[0].len;
    } else {
        cql_wr_reset(scratch);
        int rc = cql_murmur3_key_build(scratch, pk, n);
        if (rc < 0)
            return rc == CQLMQ_ENOMEM ? rc : CQLMQ_EINVAL;
        out->ptr = scratch->data;
        out->len = scratch->len;
    }
    if (out->len == 0)
        return CQLMQ_EINVAL; /* Cassandra: "Key may not be empty" */
    if (out->len > 0xffff)
        return CQLMQ_ERANGE;
    out->token = cql_murmur3_token(out->ptr, out->len);
    return 0;
}

int node_ck_check(const node_tab_t *t, const cql_bytes_t *ck, size_t n)
{
    if (n > t->pub.nck || (n && ck == NULL))
        return CQLMQ_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (ck[i].len < 0 || cql_value_validate(t->pub.ck[i]->type, ck[i]) < 0)
            return CQLMQ_EINVAL;
        if (ck[i].len > 0xffff)
            return CQLMQ_ERANGE;
    }
    return 0;
}

bool node_bounds_contain(const node_tab_t *t, const cql_bytes_t *ck, const cql_bytes_t *lo,
                         size_t nlo, bool lo_incl, const cql_bytes_t *hi, size_t nhi, bool hi_incl)
{
    size_t n = t->pub.nck;
    if (nlo) {
        int c = cql_order_key_compare(t->ckorder, ck, n, lo, nlo);
        if (c < 0 || (c == 0 && !lo_incl))
            return false;
    }
    if (nhi) {
        int c = cql_order_key_compare(t->ckorder, ck, n, hi, nhi);
        if (c > 0 || (c == 0 && !hi_incl))
            return false;
    }
    return true;
}

/* ---- partitions ---------------------------------------------------------- */

static void row_free_cb(void *item, void *ud)
{
    node_tab_t *t = ud;
    node_row_free(item, &t->bytes);
    t->nrows--;
}

void node_part_destroy(node_tab_t *t, node_part_t *p)
{
    node_bt_clear(&p->rows, row_free_cb, t, &t->bytes);
    if (p->ext) {
        node_row_free(p->ext->srow, &t->bytes);
        for (size_t i = 0; i < p->ext->nrt; i++) {
            t->bytes -= (int64_t)malloc_usable_size(p->ext->rts[i].bounds);
            free(p->ext->rts[i].bounds);
        }
        t->bytes -= (int64_t)malloc_usable_size(p->ext->rts);
        free(p->ext->rts);
        t->bytes -= (int64_t)malloc_usable_size(p->ext);
        free(p->ext);
    }
    t->bytes -= (int64_t)malloc_usable_size(p);
    free(p);
}

static void part_free_cb(void *item, void *ud)
{
    node_part_destroy(ud, item);
}

void node_tab_clear_data(node_tab_t *t)
{
    node_bt_clear(&t->parts, part_free_cb, t, &t->bytes);
    t->mods++;
}

bool node_part_drop_if_empty(node_tab_t *t, node_part_t *p)
{
    if (p->rows.count)
        return false;
    if (p->ext && (p->ext->srow || p->ext->del_ts != NODE_TS_NONE || p->ext->nrt))
        return false;
    node_pkey_t k = {p->token, p->key, p->rows.aux};
    node_bt_remove(&t->parts, &k, node_part_cmp, t, &t->bytes);
    node_part_destroy(t, p);
    t->mods++;
    return true;
}

/* A new, detached partition for key k; NULL on ENOMEM. */
node_part_t *node_part_new(node_tab_t *t, const node_pkey_t *k)
{
    node_part_t *p = malloc(sizeof(*p) + k->len);
    if (p == NULL)
        return NULL;
    p->token = k->token;
    node_bt_init(&p->rows);
    p->rows.aux = (uint32_t)k->len;
    p->ext = NULL;
    memcpy(p->key, k->ptr, k->len);
    t->bytes += (int64_t)malloc_usable_size(p);
    return p;
}

/* The partition's ext, created on demand; NULL on ENOMEM. */
node_pext_t *node_part_ext(node_tab_t *t, node_part_t *p)
{
    if (p->ext == NULL) {
        p->ext = calloc(1, sizeof(*p->ext));
        if (p->ext == NULL)
            return NULL;
        p->ext->del_ts = NODE_TS_NONE;
        t->bytes += (int64_t)malloc_usable_size(p->ext);
    }
    return p->ext;
}

/* Highest tombstone timestamp covering a row of p with clustering ck
 * (NULL: the static row, which range tombstones do not cover). */
int64_t node_part_floor(const node_tab_t *t, const node_part_t *p, const cql_bytes_t *ck)
{
    if (p == NULL || p->ext == NULL)
        return NODE_TS_NONE;
    int64_t f = p->ext->del_ts;
    if (ck == NULL)
        return f;
    for (size_t i = 0; i < p->ext->nrt; i++) {
        const node_rt_t *rt = &p->ext->rts[i];
        if (rt->ts <= f)
            continue;
        cql_bytes_t lo[NODE_MAX_KEY_COLS], hi[NODE_MAX_KEY_COLS];
        size_t nlo = node_ck_decode(rt->bounds, rt->slen, lo, rt->sn);
        size_t nhi = node_ck_decode(rt->bounds + rt->slen, rt->elen, hi, rt->en);
        if (node_bounds_contain(t, ck, lo, nlo, rt->sincl, hi, nhi, rt->eincl))
            f = rt->ts;
    }
    return f;
}

void node_part_trim_ext(node_tab_t *t, node_part_t *p)
{
    node_pext_t *e = p->ext;
    if (e && e->srow == NULL && e->del_ts == NODE_TS_NONE && e->nrt == 0) {
        t->bytes -= (int64_t)malloc_usable_size(e->rts);
        free(e->rts);
        t->bytes -= (int64_t)malloc_usable_size(e);
        free(e);
        p->ext = NULL;
    }
}

/* ---- statistics ------------------------------------------------------------ */

static void tab_stats(const node_tab_t *t, node_store_stats_t *out)
{
    out->partitions += t->parts.count;
    out->rows += t->nrows;
    out->bytes += (uint64_t)t->bytes; /* never negative: accounting is exact */
}

void node_store_stats(const node_store_t *s, const node_table_t *t, node_store_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    if (t) {
        tab_stats(node_tab(t), out);
        return;
    }
    for (size_t i = 0; i < s->nks; i++)
        for (size_t j = 0; j < s->ks[i]->ntabs; j++)
            tab_stats(s->ks[i]->tabs[j], out);
}
