/*
 * node_btree: an in-memory B-tree of opaque item pointers, ordered by a
 * caller-supplied comparator (internal to node/store).
 *
 * Used twice by the store: the partitions of a table (by token, key) and
 * the rows of a partition (by clustering key). Items are the caller's heap
 * blocks; the tree only stores pointers, so an item can be replaced in place
 * (node_bt_slot) when it is rebuilt with the same key.
 *
 * Memory: a tree of one item stores the item pointer in `root` and
 * allocates nothing; a tree that is one leaf grows its node by doubling up
 * to NODE_BT_MAX items; bigger trees use full-size nodes. Splits at the
 * right (left) edge of the tree keep the left (right) node full, so keys
 * inserted in order pack nodes densely. Deletion merges and borrows, so
 * memory follows the item count down.
 *
 * Invariants: count == number of items; count == 0 => root == NULL;
 * count == 1 => root is the item itself; count >= 2 => root is a node; all
 * leaves at the same depth; items strictly increasing under the comparator.
 * Cursors are invalidated by any insert or remove on their tree.
 */
#ifndef NODE_BTREE_H
#define NODE_BTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODE_BT_MAX 63      /* items per full node */
#define NODE_BT_MIN 31      /* fewest items in a non-root node after a delete */
#define NODE_BT_MAXDEPTH 16 /* 31^15 items is beyond any memory */

/* <0, 0, >0 as key sorts before, equal to (or, for prefix keys, matching),
 * or after item. */
typedef int (*node_bt_cmp_cb)(const void *key, const void *item, void *ctx);

typedef struct node_bt {
    void *root;     /* NULL, the only item, or a node (see invariants) */
    uint32_t count; /* items */
    uint32_t aux;   /* free for the owner; the tree never touches it */
} node_bt_t;

typedef enum node_bt_seek {
    NODE_BT_GE, /* first item with cmp(key, item) <= 0 */
    NODE_BT_GT, /* first item with cmp(key, item) < 0 */
    NODE_BT_LE, /* last item with cmp(key, item) >= 0 */
    NODE_BT_LT  /* last item with cmp(key, item) > 0 */
} node_bt_seek_t;

typedef struct node_bt_cur {
    const node_bt_t *bt;
    int top;            /* index of the current level in path; -1 at end */
    struct {
        void *node;     /* a node */
        int idx;        /* child index (ancestors) or item index (top) */
    } path[NODE_BT_MAXDEPTH];
} node_bt_cur_t;

/* Empties the header (aux is kept). */
static inline void node_bt_init(node_bt_t *bt)
{
    bt->root = NULL;
    bt->count = 0;
}

/* The item equal to key, or NULL. */
void *node_bt_find(const node_bt_t *bt, const void *key, node_bt_cmp_cb cmp, void *ctx);

/* The slot holding the item equal to key (to replace it by an item with the
 * same key), or NULL. Valid until the next insert or remove. */
void **node_bt_slot(node_bt_t *bt, const void *key, node_bt_cmp_cb cmp, void *ctx);

/* Inserts item, whose key (key) must not be in the tree. *bytes (may be
 * NULL) is adjusted by the node memory allocated. Returns 0 or
 * CQLMQ_ENOMEM (the tree is unchanged). */
int node_bt_insert(node_bt_t *bt, void *item, const void *key, node_bt_cmp_cb cmp, void *ctx,
                   int64_t *bytes);

/* Removes and returns the item equal to key, or NULL. */
void *node_bt_remove(node_bt_t *bt, const void *key, node_bt_cmp_cb cmp, void *ctx,
                     int64_t *bytes);

/* Frees every node; calls free_cb (may be NULL) on every item first. */
void node_bt_clear(node_bt_t *bt, void (*free_cb)(void *item, void *ud), void *ud,
                   int64_t *bytes);

/* Cursor positioning; each returns the current item or NULL (at end). */
void *node_bt_first(node_bt_cur_t *c, const node_bt_t *bt);
void *node_bt_last(node_bt_cur_t *c, const node_bt_t *bt);
void *node_bt_seek(node_bt_cur_t *c, const node_bt_t *bt, const void *key, node_bt_cmp_cb cmp,
                   void *ctx, node_bt_seek_t mode);
void *node_bt_next(node_bt_cur_t *c);
void *node_bt_prev(node_bt_cur_t *c);
void *node_bt_cur_item(const node_bt_cur_t *c);

#endif /* NODE_BTREE_H */
