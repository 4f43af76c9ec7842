/*
 * node_btree: B-tree of item pointers (see node_btree.h for the contract).
 *
 * Classic B-tree with items in every node (no separators to keep in sync
 * with items that are freed). Insertion is bottom-up: an overflowing node
 * is split after the item went in; deletion is bottom-up too: a child left
 * with fewer than NODE_BT_MIN items is merged with a sibling when both fit
 * in one node, otherwise it borrows one item through the parent.
 */
#include "node_btree.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "cqlmq/error.h"

typedef struct bt_node {
    uint16_t n;     /* items in use */
    uint16_t cap;   /* item capacity */
    uint8_t leaf;   /* no children */
    void *items[];  /* cap items, then (internal nodes) cap + 1 children */
} bt_node_t;

#define KIDS(nd) ((bt_node_t **)((nd)->items + (nd)->cap))

static bt_node_t *node_alloc(bool leaf, uint16_t cap, int64_t *bytes)
{
    size_t sz = sizeof(bt_node_t) + sizeof(void *) * (cap + (leaf ? 0 : cap + 1u));
    bt_node_t *nd = malloc(sz);
    if (nd == NULL)
        return NULL;
    nd->n = 0;
    nd->cap = cap;
    nd->leaf = leaf;
    if (bytes)
        *bytes += (int64_t)malloc_usable_size(nd);
    return nd;
}

static void node_release(bt_node_t *nd, int64_t *bytes)
{
    if (bytes)
        *bytes -= (int64_t)malloc_usable_size(nd);
    free(nd);
}

/* First index i with cmp(key, items[i]) <= 0 (strict: < 0); *eq when the
 * item at i compares equal. */
static int bsearch_idx(const bt_node_t *nd, const void *key, node_bt_cmp_cb cmp, void *ctx,
                       bool strict, bool *eq)
{
    int lo = 0, hi = nd->n;
    *eq = false;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        int c = cmp(key, nd->items[mid], ctx);
        if (c == 0 && !strict)
            *eq = true;
        if (c < 0 || (c == 0 && !strict))
            hi = mid;
        else
            lo = mid + 1;
    }
    if (*eq && lo < nd->n)
        *eq = cmp(key, nd->items[lo], ctx) == 0;
    return lo;
}

void **node_bt_slot(node_bt_t *bt, const void *key, node_bt_cmp_cb cmp, void *ctx)
{
    if (bt->count == 0)
        return NULL;
    if (bt->count == 1)
        return cmp(key, bt->root, ctx) == 0 ? &bt->root : NULL;
    bt_node_t *nd = bt->root;
    for (;;) {
        bool eq;
        int i = bsearch_idx(nd, key, cmp, ctx, false, &eq);
        if (eq)
            return &nd->items[i];
        if (nd->leaf)
            return NULL;
        nd = KIDS(nd)[i];
    }
}

void *node_bt_find(const node_bt_t *bt, const void *key, node_bt_cmp_cb cmp, void *ctx)
{
    void **slot = node_bt_slot((node_bt_t *)bt, key, cmp, ctx);
    return slot ? *slot : NULL;
}

/* ---- insertion ---------------------------------------------------------- */

typedef struct split {
    void *up;          /* item moving up to the parent */
    bt_node_t *right;  /* new right sibling */
} split_t;

/* Inserts item (and, for internal nodes, child `kid` to the right of it) at
 * index i of nd, which is full, splitting nd into nd and the empty node r.
 * edge: -1 left edge of the tree, +1 right edge, 0 inside. */
static void split_insert(bt_node_t *nd, bt_node_t *r, int i, void *item, bt_node_t *kid, int edge,
                         split_t *out)
{
    void *tmp[NODE_BT_MAX + 1];
    bt_node_t *tk[NODE_BT_MAX + 2];
    int n = nd->n;
    memcpy(tmp, nd->items, sizeof(void *) * i);
    tmp[i] = item;
    memcpy(tmp + i + 1, nd->items + i, sizeof(void *) * (n - i));
    if (!nd->leaf) {
        memcpy(tk, KIDS(nd), sizeof(void *) * (i + 1));
        tk[i + 1] = kid;
        memcpy(tk + i + 2, KIDS(nd) + i + 1, sizeof(void *) * (n - i));
    }
    int total = n + 1, left;
    if (edge > 0 && i == n)
        left = total - 2; /* appending: keep the left node full */
    else if (edge < 0 && i == 0)
        left = 1;         /* prepending: keep the right node full */
    else
        left = total / 2;
    int right = total - left - 1;
    memcpy(nd->items, tmp, sizeof(void *) * left);
    nd->n = (uint16_t)left;
    out->up = tmp[left];
    memcpy(r->items, tmp + left + 1, sizeof(void *) * right);
    r->n = (uint16_t)right;
    if (!nd->leaf) {
        memcpy(KIDS(nd), tk, sizeof(void *) * (left + 1));
        memcpy(KIDS(r), tk + left + 1, sizeof(void *) * (right + 1));
    }
    out->right = r;
}

static void insert_at(bt_node_t *nd, int i, void *item, bt_node_t *kid)
{
    memmove(nd->items + i + 1, nd->items + i, sizeof(void *) * (nd->n - i));
    nd->items[i] = item;
    if (!nd->leaf) {
        bt_node_t **k = KIDS(nd);
        memmove(k + i + 2, k + i + 1, sizeof(void *) * (nd->n - i));
        k[i + 1] = kid;
    }
    nd->n++;
}

static int grow_root_leaf(node_bt_t *bt, int64_t *bytes)
{
    bt_node_t *root = bt->root;
    uint16_t cap = root->cap * 2 > NODE_BT_MAX ? NODE_BT_MAX : root->cap * 2;
    size_t old = malloc_usable_size(root);
    bt_node_t *g = realloc(root, sizeof(bt_node_t) + sizeof(void *) * cap);
    if (g == NULL)
        return CQLMQ_ENOMEM;
    if (bytes)
        *bytes += (int64_t)malloc_usable_size(g) - (int64_t)old;
    g->cap = cap;
    bt->root = g;
    return 0;
}

/* Insertion is iterative: descend recording the path, count the splits the
 * insert will cause, allocate their nodes up front (so that ENOMEM leaves
 * the tree untouched), then insert and split bottom-up. */
int node_bt_insert(node_bt_t *bt, void *item, const void *key, node_bt_cmp_cb cmp, void *ctx,
                   int64_t *bytes)
{
    if (bt->count == 0) {
        bt->root = item;
        bt->count = 1;
        return 0;
    }
    if (bt->count == 1) {
        bt_node_t *nd = node_alloc(true, 2, bytes);
        if (nd == NULL)
            return CQLMQ_ENOMEM;
        int c = cmp(key, bt->root, ctx);
        nd->items[c < 0 ? 1 : 0] = bt->root;
        nd->items[c < 0 ? 0 : 1] = item;
        nd->n = 2;
        bt->root = nd;
        bt->count = 2;
        return 0;
    }
    bt_node_t *root = bt->root;
    if (root->leaf && root->n == root->cap && root->cap < NODE_BT_MAX) {
        if (grow_root_leaf(bt, bytes) < 0)
            return CQLMQ_ENOMEM;
        root = bt->root;
    }
    bt_node_t *path[NODE_BT_MAXDEPTH];
    int idx[NODE_BT_MAXDEPTH], edge[NODE_BT_MAXDEPTH];
    int depth = 0;
    bool left_edge = true, right_edge = true;
    for (bt_node_t *nd = root;;) {
        bool eq;
        int i = bsearch_idx(nd, key, cmp, ctx, true, &eq);
        path[depth] = nd;
        idx[depth] = i;
        edge[depth] = right_edge ? 1 : left_edge ? -1 : 0;
        depth++;
        if (nd->leaf)
            break;
        left_edge = left_edge && i == 0;
        right_edge = right_edge && i == nd->n;
        nd = KIDS(nd)[i];
    }
    int need = 0;
    for (int l = depth - 1; l >= 0 && path[l]->n == path[l]->cap; l--)
        need++;
    if (need == depth)
        need++; /* a new root */
    bt_node_t *pool[NODE_BT_MAXDEPTH + 1];
    for (int k = 0; k < need; k++) {
        /* level depth-1-k is split: its new sibling has the same kind */
        bool leaf = k == 0;
        if (k == depth)
            leaf = false;
        pool[k] = node_alloc(leaf, NODE_BT_MAX, bytes);
        if (pool[k] == NULL) {
            while (k-- > 0)
                node_release(pool[k], bytes);
            return CQLMQ_ENOMEM;
        }
    }
    void *up = item;
    bt_node_t *kid = NULL;
    int used = 0;
    for (int l = depth - 1; l >= 0; l--) {
        bt_node_t *nd = path[l];
        if (nd->n < nd->cap) {
            insert_at(nd, idx[l], up, kid);
            kid = NULL;
            break;
        }
        split_t sp;
        split_insert(nd, pool[used++], idx[l], up, kid, edge[l], &sp);
        up = sp.up;
        kid = sp.right;
    }
    if (kid != NULL) {
        bt_node_t *nr = pool[used++];
        nr->items[0] = up;
        KIDS(nr)[0] = root;
        KIDS(nr)[1] = kid;
        nr->n = 1;
        bt->root = nr;
    }
    bt->count++;
    return 0;
}

/* ---- deletion ----------------------------------------------------------- */

/* Child c of nd has fewer than NODE_BT_MIN items: merge it with a sibling
 * when both fit in one node, else borrow one item through nd. */
static void fix_child(bt_node_t *nd, int c, int64_t *bytes)
{
    bt_node_t **k = KIDS(nd);
    int li = c > 0 ? c - 1 : c; /* merge/borrow between kids li and li+1 */
    bt_node_t *l = k[li], *r = k[li + 1];
    if (l->n + r->n + 1 <= NODE_BT_MAX) {
        l->items[l->n] = nd->items[li];
        memcpy(l->items + l->n + 1, r->items, sizeof(void *) * r->n);
        if (!l->leaf)
            memcpy(KIDS(l) + l->n + 1, KIDS(r), sizeof(void *) * (r->n + 1));
        l->n += r->n + 1;
        memmove(nd->items + li, nd->items + li + 1, sizeof(void *) * (nd->n - li - 1));
        memmove(k + li + 1, k + li + 2, sizeof(void *) * (nd->n - li - 1));
        nd->n--;
        node_release(r, bytes);
        return;
    }
    if (c > 0) { /* borrow the last item of the left sibling */
        memmove(r->items + 1, r->items, sizeof(void *) * r->n);
        r->items[0] = nd->items[li];
        if (!r->leaf) {
            memmove(KIDS(r) + 1, KIDS(r), sizeof(void *) * (r->n + 1));
            KIDS(r)[0] = KIDS(l)[l->n];
        }
        r->n++;
        nd->items[li] = l->items[l->n - 1];
        l->n--;
    } else { /* borrow the first item of the right sibling */
        l->items[l->n] = nd->items[li];
        if (!l->leaf)
            KIDS(l)[l->n + 1] = KIDS(r)[0];
        l->n++;
        nd->items[li] = r->items[0];
        memmove(r->items, r->items + 1, sizeof(void *) * (r->n - 1));
        if (!r->leaf)
            memmove(KIDS(r), KIDS(r) + 1, sizeof(void *) * r->n);
        r->n--;
    }
}

static void *remove_max(bt_node_t *nd, int64_t *bytes)
{
    if (nd->leaf)
        return nd->items[--nd->n];
    void *it = remove_max(KIDS(nd)[nd->n], bytes);
    if (KIDS(nd)[nd->n]->n < NODE_BT_MIN)
        fix_child(nd, nd->n, bytes);
    return it;
}

static void *remove_rec(bt_node_t *nd, const void *key, node_bt_cmp_cb cmp, void *ctx,
                        int64_t *bytes)
{
    bool eq;
    int i = bsearch_idx(nd, key, cmp, ctx, false, &eq);
    if (nd->leaf) {
        if (!eq)
            return NULL;
        void *it = nd->items[i];
        memmove(nd->items + i, nd->items + i + 1, sizeof(void *) * (nd->n - i - 1));
        nd->n--;
        return it;
    }
    void *it;
    if (eq) {
        it = nd->items[i];
        nd->items[i] = remove_max(KIDS(nd)[i], bytes);
    } else {
        it = remove_rec(KIDS(nd)[i], key, cmp, ctx, bytes);
        if (it == NULL)
            return NULL;
    }
    if (KIDS(nd)[i]->n < NODE_BT_MIN)
        fix_child(nd, i, bytes);
    return it;
}

void *node_bt_remove(node_bt_t *bt, const void *key, node_bt_cmp_cb cmp, void *ctx,
                     int64_t *bytes)
{
    if (bt->count == 0)
        return NULL;
    if (bt->count == 1) {
        if (cmp(key, bt->root, ctx) != 0)
            return NULL;
        void *it = bt->root;
        node_bt_init(bt);
        return it;
    }
    bt_node_t *root = bt->root;
    void *it = remove_rec(root, key, cmp, ctx, bytes);
    if (it == NULL)
        return NULL;
    bt->count--;
    if (!root->leaf && root->n == 0) {
        bt->root = KIDS(root)[0];
        node_release(root, bytes);
        root = bt->root;
    }
    if (bt->count == 1) {
        /* back to the allocation-free form */
        bt->root = root->items[0];
        node_release(root, bytes);
    } else if (root->leaf && root->cap > 4 && root->n <= root->cap / 4) {
        size_t old = malloc_usable_size(root);
        uint16_t cap = root->cap / 2;
        bt_node_t *g = realloc(root, sizeof(bt_node_t) + sizeof(void *) * cap);
        if (g != NULL) { /* shrinking may fail harmlessly */
            if (bytes)
                *bytes += (int64_t)malloc_usable_size(g) - (int64_t)old;
            g->cap = cap;
            bt->root = g;
        }
    }
    return it;
}

static void clear_rec(bt_node_t *nd, void (*free_cb)(void *, void *), void *ud, int64_t *bytes)
{
    for (int i = 0; i < nd->n; i++)
        if (free_cb)
            free_cb(nd->items[i], ud);
    if (!nd->leaf)
        for (int i = 0; i <= nd->n; i++)
            clear_rec(KIDS(nd)[i], free_cb, ud, bytes);
    node_release(nd, bytes);
}

void node_bt_clear(node_bt_t *bt, void (*free_cb)(void *item, void *ud), void *ud,
                   int64_t *bytes)
{
    if (bt->count == 1) {
        if (free_cb)
            free_cb(bt->root, ud);
    } else if (bt->count > 1) {
        clear_rec(bt->root, free_cb, ud, bytes);
    }
    node_bt_init(bt);
}

/* ---- cursors --------------------------------------------------------------
 * path[0..top-1] are ancestors (idx = child index taken), path[top] holds
 * the current item (idx = item index). A one-item tree is path[0].node ==
 * NULL. top == -1 is the end. */

void *node_bt_cur_item(const node_bt_cur_t *c)
{
    if (c->top < 0)
        return NULL;
    bt_node_t *nd = c->path[c->top].node;
    return nd ? nd->items[c->path[c->top].idx] : c->bt->root;
}

/* From path[top] (an ancestor entry whose child subtree is exhausted going
 * forward) climb to the next item. */
static void *climb_fwd(node_bt_cur_t *c)
{
    while (c->top > 0) {
        c->top--;
        bt_node_t *nd = c->path[c->top].node;
        if (c->path[c->top].idx < nd->n)
            return nd->items[c->path[c->top].idx];
    }
    c->top = -1;
    return NULL;
}

static void *climb_back(node_bt_cur_t *c)
{
    while (c->top > 0) {
        c->top--;
        if (c->path[c->top].idx > 0) {
            c->path[c->top].idx--;
            return node_bt_cur_item(c);
        }
    }
    c->top = -1;
    return NULL;
}

static void *descend(node_bt_cur_t *c, bt_node_t *nd, bool leftmost)
{
    for (;;) {
        c->top++;
        c->path[c->top].node = nd;
        c->path[c->top].idx = leftmost ? 0 : nd->n - (nd->leaf ? 1 : 0);
        if (nd->leaf)
            return nd->items[c->path[c->top].idx];
        nd = KIDS(nd)[c->path[c->top].idx];
    }
}

static bool single(node_bt_cur_t *c, const node_bt_t *bt)
{
    c->bt = bt;
    c->top = -1;
    if (bt->count != 1)
        return false;
    c->top = 0;
    c->path[0].node = NULL;
    c->path[0].idx = 0;
    return true;
}

void *node_bt_first(node_bt_cur_t *c, const node_bt_t *bt)
{
    if (single(c, bt))
        return bt->root;
    return bt->count ? descend(c, bt->root, true) : NULL;
}

void *node_bt_last(node_bt_cur_t *c, const node_bt_t *bt)
{
    if (single(c, bt))
        return bt->root;
    return bt->count ? descend(c, bt->root, false) : NULL;
}

void *node_bt_next(node_bt_cur_t *c)
{
    if (c->top < 0)
        return NULL;
    bt_node_t *nd = c->path[c->top].node;
    if (nd == NULL) {
        c->top = -1;
        return NULL;
    }
    if (!nd->leaf) {
        c->path[c->top].idx++; /* now a child index */
        return descend(c, KIDS(nd)[c->path[c->top].idx], true);
    }
    if (++c->path[c->top].idx < nd->n)
        return nd->items[c->path[c->top].idx];
    return climb_fwd(c);
}

void *node_bt_prev(node_bt_cur_t *c)
{
    if (c->top < 0)
        return NULL;
    bt_node_t *nd = c->path[c->top].node;
    if (nd == NULL) {
        c->top = -1;
        return NULL;
    }
    if (!nd->leaf) /* idx (item i) becomes child i */
        return descend(c, KIDS(nd)[c->path[c->top].idx], false);
    if (--c->path[c->top].idx >= 0)
        return nd->items[c->path[c->top].idx];
    return climb_back(c);
}

void *node_bt_seek(node_bt_cur_t *c, const node_bt_t *bt, const void *key, node_bt_cmp_cb cmp,
                   void *ctx, node_bt_seek_t mode)
{
    if (single(c, bt)) {
        int r = cmp(key, bt->root, ctx);
        bool ok = mode == NODE_BT_GE   ? r <= 0
                  : mode == NODE_BT_GT ? r < 0
                  : mode == NODE_BT_LE ? r >= 0
                                       : r > 0;
        if (!ok)
            c->top = -1;
        return ok ? bt->root : NULL;
    }
    if (bt->count == 0)
        return NULL;
    /* forward modes: first i with cmp <= 0 (GE) / < 0 (GT); backward: LE
     * takes the item before the first with cmp < 0, LT before cmp <= 0 */
    bool strict = mode == NODE_BT_GT || mode == NODE_BT_LE;
    bool fwd = mode == NODE_BT_GE || mode == NODE_BT_GT;
    for (bt_node_t *nd = bt->root;;) {
        bool eq;
        int i = bsearch_idx(nd, key, cmp, ctx, strict, &eq);
        c->top++;
        c->path[c->top].node = nd;
        if (!nd->leaf) {
            c->path[c->top].idx = i;
            nd = KIDS(nd)[i];
            continue;
        }
        if (fwd) {
            c->path[c->top].idx = i;
            return i < nd->n ? nd->items[i] : climb_fwd(c);
        }
        c->path[c->top].idx = i - 1;
        return i > 0 ? nd->items[i - 1] : climb_back(c);
    }
}
