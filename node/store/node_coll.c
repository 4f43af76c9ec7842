/*
 * node_coll: read-modify-write operations on serialized collections.
 * See node_coll_apply in node_store_int.h.
 */
#include <stdlib.h>
#include <string.h>

#include "node_store_int.h"

/* Elements of a collection: n groups of `per` values (per = 2 for maps). */
typedef struct elems {
    cql_bytes_t *v;
    size_t n;   /* groups */
    size_t per;
} elems_t;

static int parse(cql_bytes_t in, size_t per, cql_arena_t *a, elems_t *out)
{
    out->v = NULL;
    out->n = 0;
    out->per = per;
    if (in.len < 0)
        return 0;
    cql_rd_t r;
    cql_rd_init(&r, in.ptr, (size_t)in.len);
    int32_t n;
    if (cql_rd_i32(&r, &n) < 0 || n < 0 || (size_t)n > cql_rd_left(&r) / (4 * per))
        return CQLMQ_EMALFORMED;
    out->v = cql_arena_calloc(a, (size_t)n * per + 1, sizeof(cql_bytes_t));
    if (out->v == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < (size_t)n * per; i++) {
        if (cql_rd_bytes(&r, &out->v[i]) < 0)
            return CQLMQ_EMALFORMED;
        if (out->v[i].len < 0)
            return CQLMQ_EINVAL; /* null inside a collection */
    }
    if (cql_rd_left(&r) != 0)
        return CQLMQ_EMALFORMED;
    out->n = (size_t)n;
    return 0;
}

static int serialize(const elems_t *e, cql_arena_t *a, cql_bytes_t *out)
{
    if (e->n == 0) {
        out->ptr = NULL;
        out->len = CQL_BYTES_NULL;
        return 0;
    }
    uint64_t size = 4;
    for (size_t i = 0; i < e->n * e->per; i++)
        size += 4 + (uint64_t)e->v[i].len;
    if (size > INT32_MAX)
        return CQLMQ_ERANGE;
    uint8_t *p = cql_arena_alloc(a, (size_t)size);
    if (p == NULL)
        return CQLMQ_ENOMEM;
    out->ptr = p;
    out->len = (int32_t)size;
    cql_store_u32(p, (uint32_t)e->n);
    p += 4;
    for (size_t i = 0; i < e->n * e->per; i++) {
        cql_store_u32(p, (uint32_t)e->v[i].len);
        if (e->v[i].len)
            memcpy(p + 4, e->v[i].ptr, (size_t)e->v[i].len);
        p += 4 + e->v[i].len;
    }
    return 0;
}

static bool bytes_eq(cql_bytes_t x, cql_bytes_t y)
{
    return x.len == y.len && (x.len <= 0 || memcmp(x.ptr, y.ptr, (size_t)x.len) == 0);
}

/* qsort_r comparator over pointers to groups: key order, then input order
 * (so that, of equal keys, the last given is last). */
static int cmp_group(const void *x, const void *y, void *ud)
{
    const cql_bytes_t *gx = *(const cql_bytes_t *const *)x;
    const cql_bytes_t *gy = *(const cql_bytes_t *const *)y;
    int r = cql_order_compare((const cql_type_t *)ud, gx[0], gy[0]);
    if (r != 0)
        return r;
    return gx < gy ? -1 : gx > gy;
}

/* Sorts the groups of e by key (type kt) and keeps the LAST of equal keys
 * (a literal with a repeated map key keeps its last value). */
static int sort_unique(elems_t *e, const cql_type_t *kt, cql_arena_t *a)
{
    if (e->n < 2)
        return 0;
    cql_bytes_t **idx = cql_arena_alloc(a, sizeof(*idx) * e->n);
    cql_bytes_t *out = cql_arena_alloc(a, sizeof(cql_bytes_t) * e->per * e->n);
    if (idx == NULL || out == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < e->n; i++)
        idx[i] = e->v + i * e->per;
    qsort_r(idx, e->n, sizeof(*idx), cmp_group, (void *)kt);
    size_t k = 0;
    for (size_t i = 0; i < e->n; i++) {
        if (i + 1 < e->n && cql_order_compare(kt, idx[i][0], idx[i + 1][0]) == 0)
            continue; /* a later equal key follows */
        memcpy(out + k * e->per, idx[i], sizeof(cql_bytes_t) * e->per);
        k++;
    }
    e->v = out;
    e->n = k;
    return 0;
}

/* Merges sorted unique x and y (y wins on equal keys) into out; with
 * `remove`, keeps the groups of x whose key is not in y. */
static int merge(const elems_t *x, const elems_t *y, const cql_type_t *kt, bool remove,
                 cql_arena_t *a, elems_t *out)
{
    size_t per = x->per;
    out->per = per;
    out->n = 0;
    out->v = cql_arena_alloc(a, sizeof(cql_bytes_t) * per * (x->n + y->n + 1));
    if (out->v == NULL)
        return CQLMQ_ENOMEM;
    size_t i = 0, j = 0;
    while (i < x->n || j < y->n) {
        int c = i == x->n ? 1 : j == y->n ? -1
                                          : cql_order_compare(kt, x->v[i * per], y->v[j * per]);
        const cql_bytes_t *take = NULL;
        if (c < 0) {
            take = x->v + i * per;
            i++;
        } else if (c > 0) {
            if (!remove)
                take = y->v + j * per;
            j++;
        } else {
            if (!remove)
                take = y->v + j * per;
            i++;
            j++;
        }
        if (take) {
            memcpy(out->v + out->n * per, take, sizeof(cql_bytes_t) * per);
            out->n++;
        }
    }
    return 0;
}

static int list_op(node_op_kind_t op, elems_t *cur, const elems_t *arg, cql_bytes_t one,
                   int32_t index, cql_arena_t *a, elems_t *res)
{
    res->per = 1;
    res->n = 0;
    res->v = cql_arena_alloc(a, sizeof(cql_bytes_t) * (cur->n + arg->n + 1));
    if (res->v == NULL)
        return CQLMQ_ENOMEM;
    switch (op) {
    case NODE_OP_LIST_APPEND:
    case NODE_OP_LIST_PREPEND: {
        const elems_t *first = op == NODE_OP_LIST_APPEND ? cur : arg;
        const elems_t *second = op == NODE_OP_LIST_APPEND ? arg : cur;
        for (size_t i = 0; i < first->n; i++)
            res->v[res->n++] = first->v[i];
        for (size_t i = 0; i < second->n; i++)
            res->v[res->n++] = second->v[i];
        return 0;
    }
    case NODE_OP_LIST_REMOVE:
        for (size_t i = 0; i < cur->n; i++) {
            bool drop = false;
            for (size_t j = 0; j < arg->n && !drop; j++)
                drop = bytes_eq(cur->v[i], arg->v[j]);
            if (!drop)
                res->v[res->n++] = cur->v[i];
        }
        return 0;
    case NODE_OP_LIST_SET_AT:
    case NODE_OP_LIST_DEL_AT:
        if (index < 0 || (size_t)index >= cur->n)
            return CQLMQ_ERANGE;
        for (size_t i = 0; i < cur->n; i++) {
            if (i != (size_t)index)
                res->v[res->n++] = cur->v[i];
            else if (op == NODE_OP_LIST_SET_AT)
                res->v[res->n++] = one;
        }
        return 0;
    default:
        return CQLMQ_EINVAL;
    }
}

int node_coll_apply(const cql_type_t *t, node_op_kind_t op, cql_bytes_t cur, cql_bytes_t arg,
                    int32_t index, cql_arena_t *a, cql_bytes_t *out)
{
    bool is_list = t->kind == CQL_TYPE_LIST, is_set = t->kind == CQL_TYPE_SET;
    bool is_map = t->kind == CQL_TYPE_MAP;
    size_t per = is_map ? 2 : 1;
    if (!is_list && !is_set && !is_map)
        return CQLMQ_EINVAL;
    bool ok;
    switch (op) {
    case NODE_OP_SET: ok = true; break;
    case NODE_OP_LIST_APPEND: case NODE_OP_LIST_PREPEND: case NODE_OP_LIST_REMOVE:
    case NODE_OP_LIST_SET_AT: case NODE_OP_LIST_DEL_AT: ok = is_list; break;
    case NODE_OP_SET_ADD: case NODE_OP_SET_REMOVE: ok = is_set; break;
    case NODE_OP_MAP_PUT: case NODE_OP_MAP_REMOVE: case NODE_OP_MAP_DEL_KEY: ok = is_map; break;
    default: ok = false; break;
    }
    if (!ok)
        return CQLMQ_EINVAL;
    const cql_type_t *kt = t->sub[0];
    elems_t c, g, res;
    int rc = parse(cur, per, a, &c);
    if (rc < 0)
        return rc;
    cql_bytes_t one = arg;
    if (op == NODE_OP_LIST_SET_AT || op == NODE_OP_MAP_DEL_KEY) {
        if (arg.len < 0)
            return CQLMQ_EINVAL;
        g.v = &one;
        g.n = 1;
        g.per = 1;
    } else if (op == NODE_OP_LIST_DEL_AT) {
        g.v = NULL;
        g.n = 0;
        g.per = 1;
    } else {
        /* MAP_REMOVE's operand is a set of keys */
        rc = parse(arg, op == NODE_OP_MAP_REMOVE ? 1 : per, a, &g);
        if (rc < 0)
            return rc;
    }
    if (is_list) {
        if (op == NODE_OP_SET)
            return serialize(&g, a, out);
        rc = list_op(op, &c, &g, one, index, a, &res);
        return rc < 0 ? rc : serialize(&res, a, out);
    }
    if ((rc = sort_unique(&g, kt, a)) < 0)
        return rc;
    if (op == NODE_OP_SET)
        return serialize(&g, a, out);
    if (op == NODE_OP_MAP_REMOVE || op == NODE_OP_MAP_DEL_KEY) {
        /* remove: compare keys only; the removal set has per 1 */
        elems_t keys = c;
        res.per = 2;
        res.n = 0;
        res.v = cql_arena_alloc(a, sizeof(cql_bytes_t) * (2 * c.n + 1));
        if (res.v == NULL)
            return CQLMQ_ENOMEM;
        for (size_t i = 0; i < keys.n; i++) {
            bool drop = false;
            for (size_t j = 0; j < g.n && !drop; j++)
                drop = cql_order_compare(kt, c.v[2 * i], g.v[j]) == 0;
            if (!drop) {
                res.v[2 * res.n] = c.v[2 * i];
                res.v[2 * res.n + 1] = c.v[2 * i + 1];
                res.n++;
            }
        }
        return serialize(&res, a, out);
    }
    rc = merge(&c, &g, kt, op == NODE_OP_SET_REMOVE, a, &res);
    return rc < 0 ? rc : serialize(&res, a, out);
}
