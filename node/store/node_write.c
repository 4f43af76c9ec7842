/*
 * node_write: INSERT/UPDATE of one primary key (node_store_write).
 *
 * The row and the static row are decoded into the store's scratch records,
 * every operation is applied there (last-write-wins, tombstone floors,
 * collections and counters read-modify-write), purgeable tombstones are
 * dropped, and new blocks are built. Only then are the trees touched, in an
 * order that leaves the store unchanged when an allocation fails.
 */
#include <stdlib.h>
#include <string.h>

#include "cql_value.h"
#include "node_store_int.h"

static bool is_coll(const cql_type_t *t)
{
    return t->kind == CQL_TYPE_LIST || t->kind == CQL_TYPE_SET || t->kind == CQL_TYPE_MAP;
}

/* Returns 0 or CQLMQ_EINVAL: op fits its column. */
static int check_op(const node_tab_t *t, const node_cell_op_t *op)
{
    const node_column_t *c = op->col;
    if (c == NULL || c->id >= t->nid || t->byid[c->id] != c || c->dropped)
        return CQLMQ_EINVAL;
    if (c->kind != NODE_COL_REGULAR && c->kind != NODE_COL_STATIC)
        return CQLMQ_EINVAL;
    const cql_type_t *ty = c->type;
    bool counter = ty->kind == CQL_TYPE_COUNTER;
    switch (op->op) {
    case NODE_OP_SET:
        return counter && op->value.len >= 0 ? CQLMQ_EINVAL : 0;
    case NODE_OP_DELETE:
        return 0;
    case NODE_OP_COUNTER_ADD:
        return counter ? 0 : CQLMQ_EINVAL;
    case NODE_OP_LIST_APPEND:
    case NODE_OP_LIST_PREPEND:
    case NODE_OP_LIST_REMOVE:
    case NODE_OP_LIST_SET_AT:
    case NODE_OP_LIST_DEL_AT:
        return ty->kind == CQL_TYPE_LIST && !ty->frozen ? 0 : CQLMQ_EINVAL;
    case NODE_OP_SET_ADD:
    case NODE_OP_SET_REMOVE:
        return ty->kind == CQL_TYPE_SET && !ty->frozen ? 0 : CQLMQ_EINVAL;
    case NODE_OP_MAP_PUT:
    case NODE_OP_MAP_REMOVE:
    case NODE_OP_MAP_DEL_KEY:
        return ty->kind == CQL_TYPE_MAP && !ty->frozen ? 0 : CQLMQ_EINVAL;
    default:
        return CQLMQ_EINVAL;
    }
}

/* Index of cell id in r (sorted), or where it would go. */
static size_t find_cell(const node_rowrec_t *r, uint16_t id, bool *found)
{
    size_t lo = 0, hi = r->ncells;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->cells[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < r->ncells && r->cells[lo].id == id;
    return lo;
}

static int put_cell(node_rowrec_t *r, size_t i, bool found, const node_cellrec_t *c)
{
    if (!found) {
        if (node_rowrec_reserve(r, r->ncells + 1) < 0)
            return CQLMQ_ENOMEM;
        memmove(r->cells + i + 1, r->cells + i, (r->ncells - i) * sizeof(*c));
        r->ncells++;
    }
    r->cells[i] = *c;
    return 0;
}

static void set_value(node_cellrec_t *c, cql_bytes_t v)
{
    c->flags = 0;
    c->val = v.ptr;
    c->len = (uint32_t)v.len;
}

static void set_dead(node_cellrec_t *c)
{
    c->flags = NODE_CELL_DEAD;
    c->val = NULL;
    c->len = 0;
}

/* Applies one op to r. floor: the highest tombstone covering the row. */
static int apply_op(node_store_t *s, const node_write_t *w, const node_cell_op_t *op,
                    node_rowrec_t *r, int64_t floor)
{
    const cql_type_t *ty = op->col->type;
    bool found;
    size_t i = find_cell(r, op->col->id, &found);
    const node_cellrec_t *ex = found ? &r->cells[i] : NULL;
    bool ex_live = ex && node_cell_live(ex, w->now);
    node_cellrec_t c = {.id = op->col->id, .ts = w->ts};
    bool merged = false; /* the result already includes the existing cell */
    cql_bytes_t out;
    int rc;
    switch (op->op) {
    case NODE_OP_SET:
        if (op->value.len == CQL_BYTES_NOT_SET)
            return 0;
        if (op->value.len < 0) {
            set_dead(&c);
            break;
        }
        out = op->value;
        if (is_coll(ty) && (ty->kind != CQL_TYPE_LIST || !ty->frozen)) {
            rc = node_coll_apply(ty, NODE_OP_SET, (cql_bytes_t){NULL, CQL_BYTES_NULL}, op->value,
                                 0, &s->scratch, &out);
            if (rc < 0)
                return rc;
            if (out.len < 0 && ty->frozen)
                out = op->value; /* a frozen empty collection is a value */
        }
        if (out.len < 0)
            set_dead(&c);
        else
            set_value(&c, out);
        break;
    case NODE_OP_DELETE:
        set_dead(&c);
        break;
    case NODE_OP_COUNTER_ADD: {
        if (ex && !ex_live && ex->ts >= w->ts)
            return 0;
        int64_t base = 0;
        if (ex_live && ex->len == 8)
            base = (int64_t)cql_load_u64(ex->val);
        uint8_t *v = cql_arena_alloc(&s->scratch, 8);
        if (v == NULL)
            return CQLMQ_ENOMEM;
        cql_store_u64(v, (uint64_t)base + (uint64_t)op->delta);
        set_value(&c, (cql_bytes_t){v, 8});
        merged = true;
        break;
    }
    default:
        if (ex && !ex_live && ex->ts >= w->ts)
            return 0; /* the collection was deleted after this op */
        rc = node_coll_apply(ty, op->op,
                             ex_live ? (cql_bytes_t){ex->val, (int32_t)ex->len}
                                     : (cql_bytes_t){NULL, CQL_BYTES_NULL},
                             op->value, op->index, &s->scratch, &out);
        if (rc < 0)
            return rc;
        if (out.len < 0)
            set_dead(&c);
        else
            set_value(&c, out);
        merged = true;
        break;
    }
    if (merged && ex_live && ex->ts > c.ts)
        c.ts = ex->ts;
    if (c.ts <= floor)
        return 0; /* shadowed by a partition, range or row tombstone */
    if (c.flags & NODE_CELL_DEAD) {
        c.ldt = (uint32_t)w->now;
    } else if (w->ttl > 0) {
        c.flags |= NODE_CELL_TTL;
        c.ttl = w->ttl;
        c.ldt = (uint32_t)(w->now + w->ttl);
    }
    if (ex && !merged && node_cell_reconcile(ex, &c, w->now) >= 0)
        return 0; /* the existing cell wins */
    return put_cell(r, i, found, &c);
}

/* The row marker of an INSERT, by Cassandra's LivenessInfo.supersedes. */
static void apply_marker(const node_write_t *w, node_rowrec_t *r, int64_t floor)
{
    if (w->ts <= floor)
        return;
    bool take;
    if (r->mk_ts == NODE_TS_NONE || w->ts != r->mk_ts) {
        take = r->mk_ts == NODE_TS_NONE || w->ts > r->mk_ts;
    } else {
        bool ex_expired = r->mk_ttl && (int64_t)r->mk_exp <= w->now;
        bool ex_exp = r->mk_ttl != 0, new_exp = w->ttl > 0;
        if (ex_expired)
            take = false;
        else if (ex_exp == new_exp)
            take = new_exp && w->now + w->ttl > (int64_t)r->mk_exp;
        else
            take = new_exp;
    }
    if (!take)
        return;
    r->mk_ts = w->ts;
    r->mk_ttl = w->ttl;
    r->mk_exp = w->ttl ? (uint32_t)(w->now + w->ttl) : 0;
}

/* Applies the ops of one kind (static or not) to r and builds the block
 * (NULL when the row ends up empty). */
static int edit_row(node_store_t *s, node_tab_t *t, const node_write_t *w, node_rowrec_t *r,
                    bool statics, int64_t floor, uint8_t **out)
{
    int rc;
    if (r->del_ts > floor)
        floor = r->del_ts;
    if (!statics && w->insert)
        apply_marker(w, r, floor);
    for (size_t i = 0; i < w->nops; i++) {
        const node_cell_op_t *op = &w->ops[i];
        if ((op->col->kind == NODE_COL_STATIC) != statics)
            continue;
        if ((rc = apply_op(s, w, op, r, floor)) < 0)
            return rc;
    }
    node_rowrec_purge(r, w->now, s->opts.tombstone_grace);
    *out = NULL;
    if (node_rowrec_empty(r))
        return 0;
    *out = node_row_build(r, &t->bytes);
    return *out ? 0 : CQLMQ_ENOMEM;
}

int node_store_write(node_store_t *s, const node_table_t *tp, const node_write_t *w)
{
    node_tab_t *t = node_tab(tp);
    if (w == NULL || (w->nops && w->ops == NULL) || w->ttl < 0 || w->ttl > NODE_TTL_MAX)
        return CQLMQ_EINVAL;
    if (t->pub.counter && (w->insert || w->ttl))
        return CQLMQ_EINVAL;
    bool want_row = w->insert, want_static = false, any_regular = false;
    for (size_t i = 0; i < w->nops; i++) {
        if (check_op(t, &w->ops[i]) < 0)
            return CQLMQ_EINVAL;
        if (w->ops[i].col->kind == NODE_COL_STATIC)
            want_static = true;
        else
            any_regular = true;
    }
    want_row = want_row || any_regular;
    size_t nck = t->pub.nck;
    if (want_row && nck && w->ck == NULL) {
        if (any_regular || !want_static)
            return CQLMQ_EINVAL;
        want_row = false; /* INSERT of the partition key and statics only */
    }
    if (!want_row && !want_static)
        return 0;
    node_pkey_t pk;
    int rc = node_pkey_build(&s->key, t, w->pk, &pk);
    if (rc < 0)
        return rc;
    if (want_row) {
        if ((rc = node_ck_check(t, w->ck, nck)) < 0)
            return rc;
        cql_wr_reset(&s->ckw);
        if ((rc = node_ck_encode(&s->ckw, w->ck, nck)) < 0)
            return rc;
    }
    cql_arena_reset(&s->scratch);
    node_part_t *p = node_bt_find(&t->parts, &pk, node_part_cmp, t);
    node_ckey_t ckey = {w->ck, nck};
    void **slot = NULL;
    uint8_t *oldrow = NULL, *newrow = NULL, *newsrow = NULL;
    if (want_row) {
        node_rowrec_reset(&s->rec);
        slot = p ? node_bt_slot(&p->rows, &ckey, node_row_cmp, t) : NULL;
        if (slot) {
            oldrow = *slot;
            if (node_row_decode(oldrow, &s->rec) < 0)
                return CQLMQ_ENOMEM;
        } else {
            s->rec.ck = s->ckw.data;
            s->rec.cklen = (uint32_t)s->ckw.len;
        }
        rc = edit_row(s, t, w, &s->rec, false, node_part_floor(t, p, w->ck), &newrow);
        if (rc < 0)
            return rc;
        if (!slot && !newrow)
            want_row = false; /* nothing to store, nothing to remove */
    }
    if (want_static) {
        node_rowrec_reset(&s->srec);
        if (p && p->ext && p->ext->srow && node_row_decode(p->ext->srow, &s->srec) < 0)
            rc = CQLMQ_ENOMEM;
        else
            rc = edit_row(s, t, w, &s->srec, true, node_part_floor(t, p, NULL), &newsrow);
        if (rc < 0)
            goto fail;
    }
    if (p == NULL) {
        if (newrow == NULL && newsrow == NULL)
            return 0;
        if ((p = node_part_new(t, &pk)) == NULL)
            goto nomem;
        if (newsrow) {
            if (node_part_ext(t, p) == NULL) {
                node_part_destroy(t, p);
                goto nomem;
            }
            p->ext->srow = newsrow;
        }
        if (newrow) { /* an empty tree takes its first item without allocating */
            node_bt_insert(&p->rows, newrow, &ckey, node_row_cmp, t, &t->bytes);
            t->nrows++;
        }
        if (node_bt_insert(&t->parts, p, &pk, node_part_cmp, t, &t->bytes) < 0) {
            node_part_destroy(t, p); /* frees newrow and newsrow too */
            return CQLMQ_ENOMEM;
        }
        t->mods++;
        return 0;
    }
    if (want_static && newsrow && node_part_ext(t, p) == NULL)
        goto nomem;
    if (want_row) {
        if (slot && newrow) {
            *slot = newrow;
        } else if (slot) {
            node_bt_remove(&p->rows, &ckey, node_row_cmp, t, &t->bytes);
            t->nrows--;
        } else if (node_bt_insert(&p->rows, newrow, &ckey, node_row_cmp, t, &t->bytes) < 0) {
            goto nomem;
        } else {
            t->nrows++;
        }
        node_row_free(oldrow, &t->bytes);
    }
    if (want_static) {
        if (p->ext) {
            node_row_free(p->ext->srow, &t->bytes);
            p->ext->srow = newsrow;
        }
        node_part_trim_ext(t, p);
    }
    t->mods++;
    node_part_drop_if_empty(t, p);
    return 0;
nomem:
    rc = CQLMQ_ENOMEM;
fail:
    node_row_free(newrow, &t->bytes);
    node_row_free(newsrow, &t->bytes);
    return rc;
}
