/*
 * node_catalog: keyspaces and user-defined types (tables: node_table.c).
 *
 * Keyspaces are a sorted array of pointers in the store; each keyspace has
 * an arena for its strings and UDT trees, and sorted arrays of tables and
 * types. Lookups are binary searches by name.
 */
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "node_store_int.h"

const char *node_col_kind_name(node_col_kind_t k)
{
    static const char *const names[] = {"partition_key", "clustering", "regular", "static"};
    return (unsigned)k < 4 ? names[k] : "regular";
}

const char *node_order_name(node_order_t o)
{
    return o == NODE_ORDER_ASC ? "asc" : o == NODE_ORDER_DESC ? "desc" : "none";
}

uint64_t node_catalog_version(const node_store_t *s)
{
    return s->version;
}

size_t node_name_index(void *const *items, size_t n, size_t name_off, const char *name,
                       bool *hit)
{
    size_t lo = 0, hi = n;
    *hit = false;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *mname = *(const char *const *)((const char *)items[mid] + name_off);
        int c = strcmp(name, mname);
        if (c == 0) {
            *hit = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Index of name in the keyspaces (found: *hit), else the insertion index. */
static size_t ks_index(const node_store_t *s, const char *name, bool *hit)
{
    return node_name_index((void *const *)s->ks, s->nks, offsetof(node_ks_t, pub.name), name,
                           hit);
}

/* Grows a pointer array to hold one more. */
static int grow(void ***arr, size_t n, size_t *cap)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 4;
    void **a = realloc(*arr, nc * sizeof(void *));
    if (a == NULL)
        return CQLMQ_ENOMEM;
    *arr = a;
    *cap = nc;
    return 0;
}

static int kv_cmp(const void *x, const void *y)
{
    return strcmp(((const node_kv_t *)x)->key, ((const node_kv_t *)y)->key);
}

/* Copies n pairs into a (strings) and a new heap array sorted by key.
 * Returns 0, CQLMQ_EINVAL (duplicate or NULL key) or CQLMQ_ENOMEM. */
static int copy_kv(cql_arena_t *a, const node_kv_t *in, size_t n, node_kv_t **out)
{
    node_kv_t *kv = malloc((n ? n : 1) * sizeof(*kv));
    if (kv == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (in[i].key == NULL) {
            free(kv);
            return CQLMQ_EINVAL;
        }
        const char *v = in[i].value ? in[i].value : "";
        kv[i].key = cql_arena_strndup(a, in[i].key, strlen(in[i].key));
        kv[i].value = cql_arena_strndup(a, v, strlen(v));
        if (kv[i].key == NULL || kv[i].value == NULL) {
            free(kv);
            return CQLMQ_ENOMEM;
        }
    }
    qsort(kv, n, sizeof(*kv), kv_cmp);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(kv[i - 1].key, kv[i].key) == 0) {
            free(kv);
            return CQLMQ_EINVAL;
        }
    }
    *out = kv;
    return 0;
}

static node_ks_t *ks_get(const node_store_t *s, const char *name)
{
    bool hit;
    size_t i = ks_index(s, name, &hit);
    return hit ? s->ks[i] : NULL;
}

int node_ks_create(node_store_t *s, const char *name, const node_kv_t *repl, size_t nrepl,
                   bool durable_writes, const node_keyspace_t **out)
{
    if (name == NULL || name[0] == '\0' || (nrepl && repl == NULL))
        return CQLMQ_EINVAL;
    bool hit;
    size_t at = ks_index(s, name, &hit);
    if (hit)
        return CQLMQ_EEXISTS;
    if (grow((void ***)&s->ks, s->nks, &s->capks) < 0)
        return CQLMQ_ENOMEM;
    node_ks_t *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return CQLMQ_ENOMEM;
    cql_arena_init(&k->arena, 0);
    int rc = CQLMQ_ENOMEM;
    k->pub.name = cql_arena_strndup(&k->arena, name, strlen(name));
    if (k->pub.name == NULL || (rc = copy_kv(&k->arena, repl, nrepl, &k->repl)) < 0) {
        cql_arena_close(&k->arena);
        free(k);
        return rc;
    }
    k->pub.repl = k->repl;
    k->pub.nrepl = nrepl;
    k->pub.durable_writes = durable_writes;
    memmove(s->ks + at + 1, s->ks + at, (s->nks - at) * sizeof(*s->ks));
    s->ks[at] = k;
    s->nks++;
    s->version++;
    if (out)
        *out = &k->pub;
    return 0;
}

int node_ks_alter(node_store_t *s, const char *name, const node_kv_t *repl, size_t nrepl,
                  bool durable_writes)
{
    node_ks_t *k = ks_get(s, name);
    if (k == NULL)
        return CQLMQ_ENOTFOUND;
    if (nrepl && repl == NULL)
        return CQLMQ_EINVAL;
    node_kv_t *kv;
    int rc = copy_kv(&k->arena, repl, nrepl, &kv);
    if (rc < 0)
        return rc;
    free(k->repl);
    k->repl = kv;
    k->pub.repl = kv;
    k->pub.nrepl = nrepl;
    k->pub.durable_writes = durable_writes;
    s->version++;
    return 0;
}

void node_tab_free(node_tab_t *t); /* node_table.c */

static void ks_free(node_ks_t *k)
{
    for (size_t i = 0; i < k->ntabs; i++)
        node_tab_free(k->tabs[i]);
    free(k->tabs);
    free(k->udts);
    free(k->repl);
    cql_arena_close(&k->arena);
    free(k);
}

void node_catalog_close(node_store_t *s)
{
    for (size_t i = 0; i < s->nks; i++)
        ks_free(s->ks[i]);
    free(s->ks);
    s->ks = NULL;
    s->nks = s->capks = 0;
}

int node_ks_drop(node_store_t *s, const char *name)
{
    bool hit;
    size_t at = ks_index(s, name, &hit);
    if (!hit)
        return CQLMQ_ENOTFOUND;
    ks_free(s->ks[at]);
    memmove(s->ks + at, s->ks + at + 1, (s->nks - at - 1) * sizeof(*s->ks));
    s->nks--;
    s->purge_has_pos = false;
    s->version++;
    return 0;
}

const node_keyspace_t *node_ks_find(const node_store_t *s, const char *name)
{
    node_ks_t *k = name ? ks_get(s, name) : NULL;
    return k ? &k->pub : NULL;
}

size_t node_ks_count(const node_store_t *s)
{
    return s->nks;
}

const node_keyspace_t *node_ks_at(const node_store_t *s, size_t i)
{
    return i < s->nks ? &s->ks[i]->pub : NULL;
}

/* Exposed to node_table.c. */
node_ks_t *node_ks_get(const node_store_t *s, const char *name)
{
    return name ? ks_get(s, name) : NULL;
}

/* ---- user-defined types ------------------------------------------------ */

static size_t udt_index(const node_ks_t *k, const char *name, bool *hit)
{
    return node_name_index((void *const *)k->udts, k->nudts, offsetof(node_udt_t, name), name,
                           hit);
}

/* Builds a UDT (struct and type tree) in k's arena; NULL on ENOMEM. */
static node_udt_t *udt_build(node_ks_t *k, const char *name, const char *const *fields,
                             const cql_type_t *const *types, size_t n)
{
    cql_arena_t *a = &k->arena;
    node_udt_t *u = cql_arena_calloc(a, 1, sizeof(*u));
    cql_type_t *t = cql_arena_calloc(a, 1, sizeof(*t));
    char **fn = cql_arena_calloc(a, n, sizeof(char *));
    cql_type_t **ft = cql_arena_calloc(a, n, sizeof(cql_type_t *));
    if (!u || !t || !fn || !ft)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        fn[i] = cql_arena_strndup(a, fields[i], strlen(fields[i]));
        ft[i] = cql_type_clone(types[i], a);
        if (fn[i] == NULL || ft[i] == NULL)
            return NULL;
    }
    u->keyspace = k->pub.name;
    u->name = cql_arena_strndup(a, name, strlen(name));
    if (u->name == NULL)
        return NULL;
    u->nfields = n;
    u->field_names = (const char *const *)fn;
    u->field_types = (const cql_type_t *const *)ft;
    t->kind = CQL_TYPE_UDT;
    t->frozen = false;
    t->nsub = n;
    t->sub = ft;
    t->field_names = fn;
    t->keyspace = u->keyspace;
    t->name = u->name;
    u->type = t;
    return u;
}

int node_udt_create(node_store_t *s, const char *ks, const char *name, const char *const *fields,
                    const cql_type_t *const *types, size_t n, const node_udt_t **out)
{
    node_ks_t *k = node_ks_get(s, ks);
    if (k == NULL)
        return CQLMQ_ENOTFOUND;
    if (name == NULL || name[0] == '\0' || n == 0 || fields == NULL || types == NULL)
        return CQLMQ_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (fields[i] == NULL || fields[i][0] == '\0' || types[i] == NULL)
            return CQLMQ_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(fields[i], fields[j]) == 0)
                return CQLMQ_EINVAL;
    }
    bool hit;
    size_t at = udt_index(k, name, &hit);
    if (hit)
        return CQLMQ_EEXISTS;
    if (grow((void ***)&k->udts, k->nudts, &k->capudts) < 0)
        return CQLMQ_ENOMEM;
    node_udt_t *u = udt_build(k, name, fields, types, n);
    if (u == NULL)
        return CQLMQ_ENOMEM;
    memmove(k->udts + at + 1, k->udts + at, (k->nudts - at) * sizeof(*k->udts));
    k->udts[at] = u;
    k->nudts++;
    s->version++;
    if (out)
        *out = u;
    return 0;
}

int node_udt_add_field(node_store_t *s, const char *ks, const char *name, const char *field,
                       const cql_type_t *type)
{
    node_ks_t *k = node_ks_get(s, ks);
    bool hit = false;
    size_t at = k && name ? udt_index(k, name, &hit) : 0;
    if (!hit)
        return CQLMQ_ENOTFOUND;
    if (field == NULL || field[0] == '\0' || type == NULL)
        return CQLMQ_EINVAL;
    node_udt_t *old = k->udts[at];
    const char *fn[old->nfields + 1];
    const cql_type_t *ft[old->nfields + 1];
    for (size_t i = 0; i < old->nfields; i++) {
        if (strcmp(old->field_names[i], field) == 0)
            return CQLMQ_EEXISTS;
        fn[i] = old->field_names[i];
        ft[i] = old->field_types[i];
    }
    fn[old->nfields] = field;
    ft[old->nfields] = type;
    node_udt_t *u = udt_build(k, old->name, fn, ft, old->nfields + 1);
    if (u == NULL)
        return CQLMQ_ENOMEM;
    k->udts[at] = u; /* the old one stays in the arena until the keyspace goes */
    s->version++;
    return 0;
}

/* Whether type t mentions UDT ks.name anywhere. */
static bool uses_udt(const cql_type_t *t, const char *ks, const char *name)
{
    if (t->kind == CQL_TYPE_UDT && t->name && strcmp(t->name, name) == 0 &&
        (t->keyspace == NULL || strcmp(t->keyspace, ks) == 0))
        return true;
    for (size_t i = 0; i < t->nsub; i++)
        if (uses_udt(t->sub[i], ks, name))
            return true;
    return false;
}

int node_udt_drop(node_store_t *s, const char *ks, const char *name)
{
    node_ks_t *k = node_ks_get(s, ks);
    bool hit = false;
    size_t at = k && name ? udt_index(k, name, &hit) : 0;
    if (!hit)
        return CQLMQ_ENOTFOUND;
    for (size_t i = 0; i < k->nudts; i++)
        if (i != at && uses_udt(k->udts[i]->type, ks, name))
            return CQLMQ_ESTATE;
    for (size_t i = 0; i < k->ntabs; i++) {
        const node_table_t *t = &k->tabs[i]->pub;
        for (size_t c = 0; c < t->ncols; c++)
            if (uses_udt(t->cols[c]->type, ks, name))
                return CQLMQ_ESTATE;
    }
    memmove(k->udts + at, k->udts + at + 1, (k->nudts - at - 1) * sizeof(*k->udts));
    k->nudts--;
    s->version++;
    return 0;
}

const node_udt_t *node_udt_find(const node_store_t *s, const char *ks, const char *name)
{
    node_ks_t *k = node_ks_get(s, ks);
    bool hit = false;
    size_t at = k && name ? udt_index(k, name, &hit) : 0;
    return hit ? k->udts[at] : NULL;
}

size_t node_udt_count(const node_store_t *s, const char *ks)
{
    node_ks_t *k = node_ks_get(s, ks);
    return k ? k->nudts : 0;
}

const node_udt_t *node_udt_at(const node_store_t *s, const char *ks, size_t i)
{
    node_ks_t *k = node_ks_get(s, ks);
    return k && i < k->nudts ? k->udts[i] : NULL;
}

int node_udt_lookup(void *store, const char *ks, const char *name, cql_arena_t *a,
                    cql_type_t **out)
{
    const node_udt_t *u = node_udt_find(store, ks, name);
    if (u == NULL)
        return CQLMQ_ENOTFOUND;
    *out = cql_type_clone(u->type, a);
    return *out ? 0 : CQLMQ_ENOMEM;
}
