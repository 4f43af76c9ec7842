/*
 * node_iter: reads. An iterator walks partitions in (token, key) order and
 * the rows of each partition in clustering order (or reversed), yielding
 * live rows as views.
 *
 * Robustness to writes: the iterator remembers the position of the last row
 * it returned (a copy of its keys, in the paging position form) and the
 * table's modification counter. When the counter moved, it seeks again from
 * that position instead of trusting its cursors, so rows present throughout
 * are neither repeated nor skipped. Paging resumes the same way from a
 * position decoded from paging_state.
 *
 * Paging positions (node_iter_position, node_pos_encode) are encoded here
 * too; see the format below.
 *
 * Reads check no tombstones: the store never keeps data that a stored
 * tombstone shadows (see node_delete.c), only expiry is judged at read time.
 */
#include <stdlib.h>
#include <string.h>

#include "cql_murmur3.h"
#include "node_store_int.h"

struct node_iter {
    const node_store_t *s;
    const node_tab_t *t;
    node_scan_t scan;
    bool open;
    bool done;
    node_pkey_t single;        /* scan.pk built (key in keybuf) */
    bool has_single;
    cql_wr_t keybuf;           /* single partition key */
    /* where to continue from: the last row returned or the resume point */
    node_pos_t pos;
    bool has_pos;
    cql_wr_t posbuf;           /* owns pos's bytes */
    /* cursors, valid while mods == t->mods */
    uint64_t mods;
    bool positioned;
    node_bt_cur_t pcur, rcur;
    const node_part_t *part;   /* current partition, or NULL */
    bool in_rows;              /* rcur is set for part */
    bool emitted;              /* a row of part was returned */
    bool returned;             /* pos is the last row returned */
    /* the view */
    node_row_view_t view;
    cql_bytes_t pkv[NODE_MAX_KEY_COLS];
    cql_bytes_t ckv[NODE_MAX_KEY_COLS];
    node_cell_t *cells, *statics;
    size_t capcells, capstatics;
};

int node_iter_new(node_iter_t **out)
{
    node_iter_t *it = calloc(1, sizeof(*it));
    if (it == NULL)
        return CQLMQ_ENOMEM;
    cql_wr_init(&it->keybuf);
    cql_wr_init(&it->posbuf);
    *out = it;
    return 0;
}

void node_iter_free(node_iter_t **itp)
{
    if (itp == NULL || *itp == NULL)
        return;
    node_iter_t *it = *itp;
    cql_wr_close(&it->keybuf);
    cql_wr_close(&it->posbuf);
    free(it->cells);
    free(it->statics);
    free(it);
    *itp = NULL;
}

/* Copies pos into posbuf so that it owns its bytes. */
static int own_pos(node_iter_t *it, const uint8_t *pkey, size_t pklen, const cql_bytes_t *ck,
                   size_t n, bool inclusive)
{
    cql_wr_reset(&it->posbuf);
    node_pos_write(&it->posbuf, pkey, pklen, ck, n, inclusive);
    if (cql_wr_error(&it->posbuf))
        return CQLMQ_ENOMEM;
    it->has_pos = true;
    return node_pos_decode(it->t, it->posbuf.data, it->posbuf.len, true, &it->pos);
}

int node_iter_open(node_iter_t *it, const node_store_t *s, const node_table_t *tp,
                   const node_scan_t *scan)
{
    const node_tab_t *t = node_tab(tp);
    it->s = s;
    it->t = t;
    it->scan = *scan;
    it->open = false;
    it->done = false;
    it->has_single = false;
    it->has_pos = false;
    it->positioned = false;
    it->returned = false;
    it->part = NULL;
    int rc;
    if ((rc = node_ck_check(t, scan->start.ck, scan->start.n)) < 0 ||
        (rc = node_ck_check(t, scan->end.ck, scan->end.n)) < 0)
        return CQLMQ_EINVAL;
    if (scan->pk) {
        rc = node_pkey_build(&it->keybuf, t, scan->pk, &it->single);
        if (rc < 0)
            return rc == CQLMQ_ENOMEM ? rc : CQLMQ_EINVAL;
        it->has_single = true;
    }
    if (scan->resume) {
        node_pos_t p;
        if (node_pos_decode(t, scan->resume, scan->resume_len, false, &p) < 0)
            return CQLMQ_EMALFORMED;
        if ((rc = own_pos(it, p.pk.ptr, p.pk.len, p.ck, p.nck, p.inclusive)) < 0)
            return rc;
    }
    it->open = true;
    return 0;
}

/* ---- paging positions -------------------------------------------------------
 * The opaque bytes the executor puts in paging_state. Format (all lengths unsigned vints as in protocol v5):
 *   u8  version (1)
 *   u8  flags: bit 0 inclusive
 *   vint pklen, pk bytes       the serialized partition key (1..65535)
 *   vint n                     clustering values (0..nck)
 *   n x (vint len, bytes)      each 0..65535
 * The token is not stored: it is recomputed from the key, so a position is
 * valid on any node and a forged one cannot lie about it. Decoding checks
 * everything (the bytes come from a client).
 */

#define POS_VERSION 1
#define POS_INCLUSIVE 0x01

void node_pos_write(cql_wr_t *w, const uint8_t *pkey, size_t pklen, const cql_bytes_t *ck,
                    size_t n, bool inclusive)
{
    cql_wr_u8(w, POS_VERSION);
    cql_wr_u8(w, inclusive ? POS_INCLUSIVE : 0);
    cql_wr_uvint(w, pklen);
    cql_wr_raw(w, pkey, pklen);
    cql_wr_uvint(w, n);
    for (size_t i = 0; i < n; i++) {
        cql_wr_uvint(w, (uint64_t)ck[i].len);
        cql_wr_raw(w, ck[i].ptr, (size_t)ck[i].len);
    }
}

int node_pos_decode(const node_tab_t *t, const uint8_t *p, size_t len, bool trusted,
                    node_pos_t *out)
{
    cql_rd_t r;
    cql_rd_init(&r, p, len);
    uint8_t ver, flags;
    uint64_t pklen, n;
    const uint8_t *pk;
    if (cql_rd_u8(&r, &ver) < 0 || ver != POS_VERSION || cql_rd_u8(&r, &flags) < 0 ||
        (flags & ~POS_INCLUSIVE) || cql_rd_uvint(&r, &pklen) < 0 || pklen == 0 ||
        pklen > 0xffff || cql_rd_raw(&r, (size_t)pklen, &pk) < 0 || cql_rd_uvint(&r, &n) < 0 ||
        n > t->pub.nck)
        return CQLMQ_EMALFORMED;
    for (size_t i = 0; i < n; i++) {
        uint64_t l;
        const uint8_t *v;
        if (cql_rd_uvint(&r, &l) < 0 || l > 0xffff || cql_rd_raw(&r, (size_t)l, &v) < 0)
            return CQLMQ_EMALFORMED;
        out->ck[i].ptr = v;
        out->ck[i].len = (int32_t)l;
    }
    if (cql_rd_left(&r) != 0 || (!trusted && node_ck_check(t, out->ck, (size_t)n) < 0))
        return CQLMQ_EMALFORMED;
    out->pk.ptr = pk;
    out->pk.len = (size_t)pklen;
    out->pk.token = cql_murmur3_token(pk, (size_t)pklen);
    out->nck = (size_t)n;
    out->inclusive = flags & POS_INCLUSIVE;
    return 0;
}

int node_pos_encode(cql_wr_t *w, const node_table_t *tp, const cql_bytes_t *pk,
                    const cql_bytes_t *ck, size_t nck, bool inclusive)
{
    node_tab_t *t = node_tab(tp);
    int rc;
    if (nck > t->pub.nck || (rc = node_ck_check(t, ck, nck)) < 0)
        return CQLMQ_EINVAL;
    /* build the key without a store: a local writer */
    cql_wr_t kw;
    cql_wr_init(&kw);
    node_pkey_t k;
    if (t->pub.npk == 1) {
        if (pk == NULL || pk[0].len <= 0) {
            cql_wr_close(&kw);
            return CQLMQ_EINVAL;
        }
        k.ptr = pk[0].ptr;
        k.len = (size_t)pk[0].len;
    } else {
        rc = pk ? cql_murmur3_key_build(&kw, pk, t->pub.npk) : CQLMQ_EINVAL;
        if (rc < 0) {
            cql_wr_close(&kw);
            return rc == CQLMQ_ENOMEM ? rc : CQLMQ_EINVAL;
        }
        k.ptr = kw.data;
        k.len = kw.len;
    }
    node_pos_write(w, k.ptr, k.len, ck, nck, inclusive);
    cql_wr_close(&kw);
    return cql_wr_error(w);
}

/* ---- partition bounds ------------------------------------------------------- */

static bool token_after_start(const node_scan_t *sc, int64_t tok)
{
    if (!sc->has_start_token)
        return true;
    return sc->start_token_incl ? tok >= sc->start_token : tok > sc->start_token;
}

static bool token_before_end(const node_scan_t *sc, int64_t tok)
{
    if (!sc->has_end_token)
        return true;
    return sc->end_token_incl ? tok <= sc->end_token : tok < sc->end_token;
}

static bool part_in_range(const node_iter_t *it, const node_part_t *p)
{
    if (it->has_single)
        return node_part_cmp(&it->single, p, NULL) == 0;
    return token_after_start(&it->scan, p->token) && token_before_end(&it->scan, p->token);
}

/* First partition to visit, from the position or the start bound. */
static const node_part_t *seek_part(node_iter_t *it)
{
    const node_bt_t *parts = &it->t->parts;
    const node_part_t *p;
    if (it->has_single) {
        p = node_bt_seek(&it->pcur, parts, &it->single, node_part_cmp, NULL, NODE_BT_GE);
        if (p == NULL || node_part_cmp(&it->single, p, NULL) != 0)
            return NULL;
        if (it->has_pos && node_part_cmp(&it->pos.pk, p, NULL) > 0)
            return NULL; /* the position is past this partition */
        return p;
    }
    if (it->has_pos) {
        p = node_bt_seek(&it->pcur, parts, &it->pos.pk, node_part_cmp, NULL, NODE_BT_GE);
        if (p == NULL || token_after_start(&it->scan, p->token))
            return p;
    }
    if (!it->scan.has_start_token)
        return node_bt_first(&it->pcur, parts);
    int64_t tok = it->scan.start_token;
    if (!it->scan.start_token_incl) {
        if (tok == INT64_MAX)
            return NULL;
        tok++;
    }
    node_pkey_t k = {tok, NULL, 0};
    return node_bt_seek(&it->pcur, parts, &k, node_part_cmp, NULL, NODE_BT_GE);
}

/* ---- rows ---------------------------------------------------------------------- */

static size_t row_ck(const node_iter_t *it, const uint8_t *row, cql_bytes_t *v)
{
    const uint8_t *ck;
    uint32_t len;
    node_row_ck(row, &ck, &len);
    return node_ck_decode(ck, len, v, it->t->pub.nck);
}

/* Where row lies against the slice, in scan direction: -1 before the near
 * bound, 0 inside, 1 beyond the far bound. */
static int slice_side(const node_iter_t *it, const uint8_t *row)
{
    const node_tab_t *t = it->t;
    const node_scan_t *sc = &it->scan;
    cql_bytes_t v[NODE_MAX_KEY_COLS];
    size_t n = row_ck(it, row, v);
    int before = 0, after = 0;
    if (sc->start.n) {
        int c = cql_order_key_compare(t->ckorder, v, n, sc->start.ck, sc->start.n);
        before = c < 0 || (c == 0 && !sc->start.inclusive);
    }
    if (sc->end.n) {
        int c = cql_order_key_compare(t->ckorder, v, n, sc->end.ck, sc->end.n);
        after = c > 0 || (c == 0 && !sc->end.inclusive);
    }
    if (sc->reversed)
        return after ? -1 : before ? 1 : 0;
    return before ? -1 : after ? 1 : 0;
}

static const uint8_t *step(node_iter_t *it)
{
    return it->scan.reversed ? node_bt_prev(&it->rcur) : node_bt_next(&it->rcur);
}

/* Positions the row cursor on the first row of p to visit. */
static const uint8_t *enter_rows(node_iter_t *it, const node_part_t *p)
{
    const node_scan_t *sc = &it->scan;
    void *ctx = (void *)it->t;
    bool rev = sc->reversed;
    it->in_rows = true;
    it->emitted = false;
    if (it->has_pos && node_part_cmp(&it->pos.pk, p, NULL) == 0) {
        if (it->pos.nck == 0 && !it->pos.inclusive) {
            it->emitted = true; /* the whole partition was returned */
            it->rcur.top = -1;
            return NULL;
        }
        if (it->pos.nck) {
            it->emitted = true;
            node_ckey_t k = {it->pos.ck, it->pos.nck};
            bool incl = it->pos.inclusive;
            node_bt_seek_t m = rev ? (incl ? NODE_BT_LE : NODE_BT_LT)
                                   : (incl ? NODE_BT_GE : NODE_BT_GT);
            const uint8_t *r = node_bt_seek(&it->rcur, &p->rows, &k, node_row_cmp, ctx, m);
            if (r == NULL || slice_side(it, r) >= 0)
                return r;
        }
    }
    const node_bound_t *near = rev ? &sc->end : &sc->start;
    if (near->n == 0)
        return rev ? node_bt_last(&it->rcur, &p->rows) : node_bt_first(&it->rcur, &p->rows);
    node_ckey_t k = {near->ck, near->n};
    node_bt_seek_t m = rev ? (near->inclusive ? NODE_BT_LE : NODE_BT_LT)
                           : (near->inclusive ? NODE_BT_GE : NODE_BT_GT);
    return node_bt_seek(&it->rcur, &p->rows, &k, node_row_cmp, ctx, m);
}

/* ---- views ----------------------------------------------------------------- */

/* Collects the live cells of block b (live columns only) into *arr. */
static int live_cells(const node_iter_t *it, const uint8_t *b, node_cell_t **arr, size_t *cap,
                      size_t *n)
{
    node_cellcur_t cur;
    node_cellrec_t c;
    *n = 0;
    if (b == NULL)
        return 0;
    node_row_cells(b, &cur);
    if (cur.left > *cap) {
        node_cell_t *a = realloc(*arr, cur.left * sizeof(*a));
        if (a == NULL)
            return CQLMQ_ENOMEM;
        *arr = a;
        *cap = cur.left;
    }
    int64_t now = it->scan.now;
    while (node_cellcur_next(&cur, &c)) {
        const node_column_t *col = c.id < it->t->nid ? it->t->byid[c.id] : NULL;
        if (col == NULL || col->dropped || !node_cell_live(&c, now))
            continue;
        node_cell_t *o = &(*arr)[(*n)++];
        o->col = col;
        o->value.ptr = c.val;
        o->value.len = (int32_t)c.len;
        o->ts = c.ts;
        o->ttl = (c.flags & NODE_CELL_TTL) ? (int32_t)((int64_t)c.ldt - now) : 0;
    }
    return 0;
}

/* Fills the partition part of the view. */
static void view_part(node_iter_t *it, const node_part_t *p)
{
    node_row_view_t *v = &it->view;
    size_t npk = it->t->pub.npk, klen = p->rows.aux;
    v->token = p->token;
    v->pkey.ptr = p->key;
    v->pkey.len = (int32_t)klen;
    if (npk == 1) {
        it->pkv[0] = v->pkey;
    } else {
        size_t off = 0;
        for (size_t i = 0; i < npk; i++) {
            uint16_t l = off + 2 <= klen ? cql_load_u16(p->key + off) : 0;
            it->pkv[i].ptr = p->key + off + 2;
            it->pkv[i].len = l;
            off += 3u + l;
        }
    }
    v->pk = it->pkv;
}

/* Builds the view of row (NULL: the static-only row). Returns 1 when the
 * row is live, 0 when it is not, or CQLMQ_ENOMEM. */
static int make_view(node_iter_t *it, const node_part_t *p, const uint8_t *row)
{
    node_row_view_t *v = &it->view;
    int rc = live_cells(it, p->ext ? p->ext->srow : NULL, &it->statics, &it->capstatics,
                        &v->nstatic);
    if (rc < 0)
        return rc;
    v->statics = it->statics;
    v->has_marker = false;
    v->marker_ts = NODE_TS_NONE;
    v->marker_ttl = 0;
    if (row == NULL) {
        if (v->nstatic == 0)
            return 0;
        v->static_only = true;
        v->ck = NULL;
        v->ncells = 0;
        v->cells = it->cells;
        view_part(it, p);
        return 1;
    }
    node_rowrec_t h;
    node_row_head(row, &h);
    if ((rc = live_cells(it, row, &it->cells, &it->capcells, &v->ncells)) < 0)
        return rc;
    v->cells = it->cells;
    if (node_marker_live(&h, it->scan.now)) {
        v->has_marker = true;
        v->marker_ts = h.mk_ts;
        v->marker_ttl = h.mk_ttl ? (int32_t)((int64_t)h.mk_exp - it->scan.now) : 0;
    }
    if (!v->has_marker && v->ncells == 0)
        return 0;
    v->static_only = false;
    node_ck_decode(h.ck, h.cklen, it->ckv, it->t->pub.nck);
    v->ck = it->ckv;
    view_part(it, p);
    return 1;
}

const node_cell_t *node_row_cell(const node_row_view_t *r, const node_column_t *col)
{
    const node_cell_t *a = col->kind == NODE_COL_STATIC ? r->statics : r->cells;
    size_t lo = 0, hi = col->kind == NODE_COL_STATIC ? r->nstatic : r->ncells;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a[mid].col->id == col->id)
            return a[mid].col == col ? &a[mid] : NULL;
        if (a[mid].col->id < col->id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- stepping ---------------------------------------------------------------- */

/* Remembers the row just put in the view as the position to continue from. */
static int remember(node_iter_t *it)
{
    const node_row_view_t *v = &it->view;
    size_t n = v->static_only ? 0 : it->t->pub.nck;
    int rc = own_pos(it, v->pkey.ptr, (size_t)v->pkey.len, v->ck, n, false);
    if (rc < 0)
        return rc;
    it->returned = true;
    /* own_pos rewrote posbuf, but the view still points into the store */
    return 0;
}

int node_iter_next(node_iter_t *it, const node_row_view_t **out)
{
    if (!it->open)
        return CQLMQ_ESTATE;
    if (it->done)
        return 0;
    const node_tab_t *t = it->t;
    if (!it->positioned || it->mods != t->mods) {
        it->part = seek_part(it);
        it->in_rows = false;
        it->positioned = true;
        it->mods = t->mods;
    }
    for (;;) {
        const node_part_t *p = it->part;
        if (p == NULL || !part_in_range(it, p)) {
            it->done = true;
            return 0;
        }
        const uint8_t *row = it->in_rows ? step(it) : enter_rows(it, p);
        for (; row; row = step(it)) {
            int side = slice_side(it, row);
            if (side > 0)
                break;
            if (side < 0)
                continue;
            int rc = make_view(it, p, row);
            if (rc < 0)
                return rc;
            if (rc == 1) {
                it->emitted = true;
                if ((rc = remember(it)) < 0)
                    return rc;
                *out = &it->view;
                return 1;
            }
        }
        it->rcur.top = -1; /* rows of p are done */
        if (!it->emitted && it->scan.static_rows) {
            it->emitted = true;
            int rc = make_view(it, p, NULL);
            if (rc < 0)
                return rc;
            if (rc == 1) {
                if ((rc = remember(it)) < 0)
                    return rc;
                *out = &it->view;
                return 1;
            }
        }
        it->part = it->has_single ? NULL : node_bt_next(&it->pcur);
        it->in_rows = false;
    }
}

int node_iter_position(const node_iter_t *it, cql_wr_t *w)
{
    if (!it->open || !it->returned)
        return CQLMQ_ESTATE;
    cql_wr_raw(w, it->posbuf.data, it->posbuf.len);
    return cql_wr_error(w);
}

int node_store_get(node_iter_t *it, const node_store_t *s, const node_table_t *t,
                   const cql_bytes_t *pk, const cql_bytes_t *ck, int64_t now,
                   const node_row_view_t **row)
{
    if (t->nck && ck == NULL)
        return CQLMQ_EINVAL;
    node_scan_t sc;
    memset(&sc, 0, sizeof(sc));
    sc.pk = pk;
    sc.start = (node_bound_t){ck, t->nck, true};
    sc.end = sc.start;
    sc.now = now;
    int rc = node_iter_open(it, s, t, &sc);
    if (rc < 0)
        return rc;
    rc = node_iter_next(it, row);
    return rc < 0 ? rc : rc == 1 ? 0 : CQLMQ_ENOTFOUND;
}
