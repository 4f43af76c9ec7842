/*
 * node_row: row blocks (encode/decode) and the cell rules. See node_row.h.
 */
#include "node_row.h"

#include <malloc.h>
#include <stdlib.h>

#include "cqlmq/error.h"

#define ROW_MARKER 0x01
#define ROW_MARKER_TTL 0x02
#define ROW_DELETED 0x04
#define CELL_TS0 0x04

#define TS_NONE INT64_MIN

static inline void put(uint8_t **p, const void *v, size_t n)
{
    memcpy(*p, v, n);
    *p += n;
}

static inline void get(const uint8_t **p, void *v, size_t n)
{
    memcpy(v, *p, n);
    *p += n;
}

static size_t uvarint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void put_uvarint(uint8_t **p, uint64_t v)
{
    while (v >= 0x80) {
        *(*p)++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *(*p)++ = (uint8_t)v;
}

static uint64_t get_uvarint(const uint8_t **p)
{
    uint64_t v = 0;
    int shift = 0;
    for (;;) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
        shift += 7;
    }
}

void node_rowrec_reset(node_rowrec_t *r)
{
    r->ck = NULL;
    r->cklen = 0;
    r->mk_ts = TS_NONE;
    r->mk_ttl = 0;
    r->mk_exp = 0;
    r->del_ts = TS_NONE;
    r->del_time = 0;
    r->ncells = 0;
}

void node_rowrec_close(node_rowrec_t *r)
{
    free(r->cells);
    r->cells = NULL;
    r->cap = 0;
    r->ncells = 0;
}

int node_rowrec_reserve(node_rowrec_t *r, size_t n)
{
    if (n <= r->cap)
        return 0;
    size_t cap = r->cap ? r->cap : 8;
    while (cap < n)
        cap *= 2;
    node_cellrec_t *c = realloc(r->cells, cap * sizeof(*c));
    if (c == NULL)
        return CQLMQ_ENOMEM;
    r->cells = c;
    r->cap = cap;
    return 0;
}

/* Reads the header; returns a pointer to the first cell. */
static const uint8_t *read_header(const uint8_t *blob, node_rowrec_t *r, uint16_t *ncells,
                                  int64_t *ts0)
{
    const uint8_t *p = blob + 4;
    uint8_t flags;
    get(&p, ncells, 2);
    get(&p, &flags, 1);
    get(&p, ts0, 8);
    r->mk_ts = (flags & ROW_MARKER) ? *ts0 : TS_NONE;
    r->mk_ttl = 0;
    r->mk_exp = 0;
    if (flags & ROW_MARKER_TTL) {
        get(&p, &r->mk_ttl, 4);
        get(&p, &r->mk_exp, 4);
    }
    r->del_ts = TS_NONE;
    r->del_time = 0;
    if (flags & ROW_DELETED) {
        get(&p, &r->del_ts, 8);
        get(&p, &r->del_time, 4);
    }
    r->cklen = (uint32_t)get_uvarint(&p);
    r->ck = p;
    return p + r->cklen;
}

void node_row_head(const uint8_t *blob, node_rowrec_t *r)
{
    uint16_t n;
    int64_t ts0;
    read_header(blob, r, &n, &ts0);
    r->ncells = 0;
}

void node_row_ck(const uint8_t *blob, const uint8_t **ck, uint32_t *cklen)
{
    node_rowrec_t r;
    uint16_t n;
    int64_t ts0;
    read_header(blob, &r, &n, &ts0);
    *ck = r.ck;
    *cklen = r.cklen;
}

void node_row_cells(const uint8_t *blob, node_cellcur_t *cur)
{
    node_rowrec_t r;
    uint16_t n;
    cur->p = read_header(blob, &r, &n, &cur->ts0);
    cur->left = n;
}

bool node_cellcur_next(node_cellcur_t *cur, node_cellrec_t *c)
{
    if (cur->left == 0)
        return false;
    cur->left--;
    const uint8_t *p = cur->p;
    uint8_t f;
    get(&p, &c->id, 2);
    get(&p, &f, 1);
    c->flags = f & (NODE_CELL_DEAD | NODE_CELL_TTL);
    if (f & CELL_TS0)
        c->ts = cur->ts0;
    else
        get(&p, &c->ts, 8);
    c->ttl = 0;
    c->ldt = 0;
    if (f & NODE_CELL_TTL) {
        get(&p, &c->ttl, 4);
        get(&p, &c->ldt, 4);
    }
    c->len = 0;
    c->val = NULL;
    if (f & NODE_CELL_DEAD) {
        get(&p, &c->ldt, 4);
    } else {
        c->len = (uint32_t)get_uvarint(&p);
        c->val = p;
        p += c->len;
    }
    cur->p = p;
    return true;
}

int node_row_decode(const uint8_t *blob, node_rowrec_t *r)
{
    node_cellcur_t cur;
    uint16_t n;
    cur.p = read_header(blob, r, &n, &cur.ts0);
    cur.left = n;
    if (node_rowrec_reserve(r, n) < 0)
        return CQLMQ_ENOMEM;
    r->ncells = 0;
    while (node_cellcur_next(&cur, &r->cells[r->ncells]))
        r->ncells++;
    return 0;
}

static int64_t pick_ts0(const node_rowrec_t *r)
{
    if (r->mk_ts != TS_NONE)
        return r->mk_ts;
    return r->ncells ? r->cells[0].ts : 0;
}

uint8_t *node_row_build(const node_rowrec_t *r, int64_t *bytes)
{
    int64_t ts0 = pick_ts0(r);
    uint64_t size = 4 + 2 + 1 + 8 + uvarint_len(r->cklen) + r->cklen;
    if (r->mk_ts != TS_NONE && r->mk_ttl)
        size += 8;
    if (r->del_ts != TS_NONE)
        size += 12;
    for (size_t i = 0; i < r->ncells; i++) {
        const node_cellrec_t *c = &r->cells[i];
        size += 3 + (c->ts == ts0 ? 0 : 8) + ((c->flags & NODE_CELL_TTL) ? 8 : 0);
        size += (c->flags & NODE_CELL_DEAD) ? 4 : uvarint_len(c->len) + c->len;
    }
    if (size > UINT32_MAX || r->ncells > UINT16_MAX)
        return NULL;
    uint8_t *blob = malloc(size), *p = blob;
    if (blob == NULL)
        return NULL;
    uint32_t sz = (uint32_t)size;
    uint16_t n = (uint16_t)r->ncells;
    uint8_t flags = 0;
    if (r->mk_ts != TS_NONE)
        flags |= ROW_MARKER | (r->mk_ttl ? ROW_MARKER_TTL : 0);
    if (r->del_ts != TS_NONE)
        flags |= ROW_DELETED;
    put(&p, &sz, 4);
    put(&p, &n, 2);
    put(&p, &flags, 1);
    put(&p, &ts0, 8);
    if (flags & ROW_MARKER_TTL) {
        put(&p, &r->mk_ttl, 4);
        put(&p, &r->mk_exp, 4);
    }
    if (flags & ROW_DELETED) {
        put(&p, &r->del_ts, 8);
        put(&p, &r->del_time, 4);
    }
    put_uvarint(&p, r->cklen);
    if (r->cklen)
        put(&p, r->ck, r->cklen);
    for (size_t i = 0; i < r->ncells; i++) {
        const node_cellrec_t *c = &r->cells[i];
        uint8_t f = c->flags | (c->ts == ts0 ? CELL_TS0 : 0);
        put(&p, &c->id, 2);
        put(&p, &f, 1);
        if (c->ts != ts0)
            put(&p, &c->ts, 8);
        if (c->flags & NODE_CELL_TTL) {
            put(&p, &c->ttl, 4);
            put(&p, &c->ldt, 4);
        }
        if (c->flags & NODE_CELL_DEAD) {
            put(&p, &c->ldt, 4);
        } else {
            put_uvarint(&p, c->len);
            if (c->len)
                put(&p, c->val, c->len);
        }
    }
    if (bytes)
        *bytes += (int64_t)malloc_usable_size(blob);
    return blob;
}

void node_row_free(uint8_t *blob, int64_t *bytes)
{
    if (blob == NULL)
        return;
    if (bytes)
        *bytes -= (int64_t)malloc_usable_size(blob);
    free(blob);
}

int node_ck_encode(cql_wr_t *w, const cql_bytes_t *ck, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ck[i].len < 0)
            return CQLMQ_EINVAL;
        if (ck[i].len > 0xffff)
            return CQLMQ_ERANGE;
        cql_wr_u16(w, (uint16_t)ck[i].len);
        cql_wr_raw(w, ck[i].ptr, (size_t)ck[i].len);
    }
    return cql_wr_error(w);
}

size_t node_ck_decode(const uint8_t *ck, size_t len, cql_bytes_t *out, size_t max)
{
    size_t n = 0, off = 0;
    while (off + 2 <= len && n < max) {
        uint16_t l = cql_load_u16(ck + off);
        out[n].ptr = ck + off + 2;
        out[n].len = l;
        off += 2u + l;
        n++;
    }
    return n;
}

/* ---- cell rules -------------------------------------------------------- */

int node_cell_reconcile(const node_cellrec_t *a, const node_cellrec_t *b, int64_t now)
{
    if (a->ts != b->ts)
        return a->ts > b->ts ? 1 : -1;
    bool la = node_cell_live(a, now), lb = node_cell_live(b, now);
    if (la != lb)
        return la ? -1 : 1;
    if (!la) /* both dead or expired: the later deletion time */
        return a->ldt >= b->ldt ? 1 : -1;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->val, b->val, n) : 0;
    if (c == 0 && a->len != b->len)
        c = a->len > b->len ? 1 : -1;
    if (c != 0)
        return c;
    int64_t ea = (a->flags & NODE_CELL_TTL) ? a->ldt : INT64_MAX;
    int64_t eb = (b->flags & NODE_CELL_TTL) ? b->ldt : INT64_MAX;
    return ea >= eb ? 1 : -1;
}

void node_rowrec_shadow(node_rowrec_t *r, int64_t ts)
{
    if (r->mk_ts != TS_NONE && r->mk_ts <= ts)
        r->mk_ts = TS_NONE;
    size_t k = 0;
    for (size_t i = 0; i < r->ncells; i++)
        if (r->cells[i].ts > ts)
            r->cells[k++] = r->cells[i];
    r->ncells = k;
}

bool node_rowrec_purge(node_rowrec_t *r, int64_t now, uint32_t grace)
{
    bool any = false;
    if (r->del_ts != TS_NONE && (int64_t)r->del_time + grace <= now) {
        r->del_ts = TS_NONE;
        any = true;
    }
    if (r->mk_ts != TS_NONE && r->mk_ttl && (int64_t)r->mk_exp + grace <= now) {
        r->mk_ts = TS_NONE;
        any = true;
    }
    size_t k = 0;
    for (size_t i = 0; i < r->ncells; i++) {
        const node_cellrec_t *c = &r->cells[i];
        bool gone = (c->flags & (NODE_CELL_DEAD | NODE_CELL_TTL)) && (int64_t)c->ldt + grace <= now;
        if (gone)
            any = true;
        else
            r->cells[k++] = *c;
    }
    r->ncells = k;
    return any;
}

int64_t node_row_max_ts(const uint8_t *blob)
{
    node_rowrec_t r;
    node_cellcur_t cur;
    uint16_t n;
    cur.p = read_header(blob, &r, &n, &cur.ts0);
    cur.left = n;
    int64_t m = r.mk_ts > r.del_ts ? r.mk_ts : r.del_ts;
    node_cellrec_t c;
    while (node_cellcur_next(&cur, &c))
        if (c.ts > m)
            m = c.ts;
    return m;
}
