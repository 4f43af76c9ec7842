/*
 * node_table: tables of the catalog (create, drop, alter, lookup, options).
 *
 * A table owns an arena (names, column structs, type trees, option strings)
 * and heap arrays that DDL replaces (cols, pk, ck, opts, byid). Column
 * structs are never freed before the table: dropped columns stay in byid so
 * that cells still stored under their id are recognised and skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "node_store_int.h"

/* Cassandra 3.11/4.0 defaults, sorted by key. */
static const node_kv_t default_opts[] = {
    {"additional_write_policy", "99p"},
    {"bloom_filter_fp_chance", "0.01"},
    {"caching", "{'keys': 'ALL', 'rows_per_partition': 'NONE'}"},
    {"cdc", "false"},
    {"comment", ""},
    {"compaction", "{'class': 'org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy', "
                   "'max_threshold': '32', 'min_threshold': '4'}"},
    {"compression", "{'chunk_length_in_kb': '16', "
                    "'class': 'org.apache.cassandra.io.compress.LZ4Compressor'}"},
    {"crc_check_chance", "1.0"},
    {"dclocal_read_repair_chance", "0.0"},
    {"default_time_to_live", "0"},
    {"extensions", "{}"},
    {"gc_grace_seconds", "864000"},
    {"max_index_interval", "2048"},
    {"memtable_flush_period_in_ms", "0"},
    {"min_index_interval", "128"},
    {"read_repair", "BLOCKING"},
    {"read_repair_chance", "0.0"},
    {"speculative_retry", "99p"},
};
#define NDEFAULT (sizeof(default_opts) / sizeof(default_opts[0]))

const node_kv_t *node_table_default_opts(size_t *n)
{
    *n = NDEFAULT;
    return default_opts;
}

static size_t tab_index(const node_ks_t *k, const char *name, bool *hit)
{
    return node_name_index((void *const *)k->tabs, k->ntabs, offsetof(node_tab_t, pub.name), name,
                           hit);
}

static node_tab_t *tab_get(const node_store_t *s, const char *ks, const char *name)
{
    node_ks_t *k = node_ks_get(s, ks);
    bool hit = false;
    size_t i = k && name ? tab_index(k, name, &hit) : 0;
    return hit ? k->tabs[i] : NULL;
}

void node_tab_free(node_tab_t *t)
{
    node_tab_clear_data(t);
    free(t->byid);
    free(t->cols);
    free(t->pk);
    free(t->ck);
    free(t->opts);
    cql_arena_close(&t->arena);
    free(t);
}

/* Parses default_time_to_live: 0..NODE_TTL_MAX, else -1. */
static int32_t parse_ttl(const char *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end != '\0' || x < 0 || x > NODE_TTL_MAX)
        return -1;
    return (int32_t)x;
}

/* Merges `given` over the current options (or the defaults) into a new
 * sorted heap array; strings copied into t's arena. Validates
 * default_time_to_live. Returns 0, CQLMQ_EINVAL or CQLMQ_ENOMEM. */
static int merge_opts(node_tab_t *t, const node_kv_t *given, size_t ngiven)
{
    const node_kv_t *base = t->opts ? t->opts : default_opts;
    size_t nbase = t->opts ? t->pub.nopts : NDEFAULT;
    node_kv_t *out = malloc((nbase + ngiven + 1) * sizeof(*out));
    if (out == NULL)
        return CQLMQ_ENOMEM;
    memcpy(out, base, nbase * sizeof(*out));
    size_t n = nbase;
    for (size_t i = 0; i < ngiven; i++) {
        if (given[i].key == NULL || given[i].key[0] == '\0')
            goto inval;
        const char *v = given[i].value ? given[i].value : "";
        node_kv_t kv = {cql_arena_strndup(&t->arena, given[i].key, strlen(given[i].key)),
                        cql_arena_strndup(&t->arena, v, strlen(v))};
        if (kv.key == NULL || kv.value == NULL) {
            free(out);
            return CQLMQ_ENOMEM;
        }
        size_t j = 0;
        while (j < n && strcmp(out[j].key, kv.key) < 0)
            j++;
        if (j < n && strcmp(out[j].key, kv.key) == 0) {
            out[j] = kv;
        } else {
            memmove(out + j + 1, out + j, (n - j) * sizeof(*out));
            out[j] = kv;
            n++;
        }
    }
    int32_t ttl = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(out[i].key, "default_time_to_live") == 0 && (ttl = parse_ttl(out[i].value)) < 0)
            goto inval;
    if (ttl > 0 && t->pub.counter)
        goto inval;
    free(t->opts);
    t->opts = out;
    t->pub.opts = out;
    t->pub.nopts = n;
    t->pub.default_ttl = ttl;
    return 0;
inval:
    free(out);
    return CQLMQ_EINVAL;
}

/* Rebuilds cols/pk/ck from byid (live columns only). */
static int rebuild_arrays(node_tab_t *t)
{
    size_t n = 0, npk = 0, nck = 0, nst = 0;
    for (size_t i = 0; i < t->nid; i++) {
        const node_column_t *c = t->byid[i];
        if (c->dropped)
            continue;
        n++;
        npk += c->kind == NODE_COL_PARTITION_KEY;
        nck += c->kind == NODE_COL_CLUSTERING;
        nst += c->kind == NODE_COL_STATIC;
    }
    const node_column_t **cols = malloc((n + 1) * sizeof(*cols));
    const node_column_t **pk = malloc((npk + 1) * sizeof(*pk));
    const node_column_t **ck = malloc((nck + 1) * sizeof(*ck));
    if (!cols || !pk || !ck) {
        free(cols);
        free(pk);
        free(ck);
        return CQLMQ_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < t->nid; i++) {
        const node_column_t *c = t->byid[i];
        if (c->dropped)
            continue;
        if (c->kind == NODE_COL_PARTITION_KEY)
            pk[c->position] = c;
        else if (c->kind == NODE_COL_CLUSTERING)
            ck[c->position] = c;
    }
    for (size_t i = 0; i < npk; i++)
        cols[k++] = pk[i];
    for (size_t i = 0; i < nck; i++)
        cols[k++] = ck[i];
    for (size_t i = 0; i < t->nid; i++)
        if (!t->byid[i]->dropped && t->byid[i]->position < 0)
            cols[k++] = t->byid[i];
    free(t->cols);
    free(t->pk);
    free(t->ck);
    t->cols = cols;
    t->pk = pk;
    t->ck = ck;
    t->pub.cols = cols;
    t->pub.ncols = n;
    t->pub.pk = pk;
    t->pub.npk = npk;
    t->pub.ck = ck;
    t->pub.nck = nck;
    t->pub.nstatic = nst;
    return 0;
}

/* Appends a column to byid. Returns 0 or CQLMQ_EINVAL (too many) or
 * CQLMQ_ENOMEM. */
static int add_col(node_tab_t *t, const char *name, const cql_type_t *type, node_col_kind_t kind,
                   int position, node_order_t order)
{
    if (t->nid >= UINT16_MAX)
        return CQLMQ_EINVAL;
    node_column_t **b = realloc(t->byid, (t->nid + 1) * sizeof(*b));
    if (b == NULL)
        return CQLMQ_ENOMEM;
    t->byid = b;
    node_column_t *c = cql_arena_calloc(&t->arena, 1, sizeof(*c));
    if (c == NULL)
        return CQLMQ_ENOMEM;
    c->name = cql_arena_strndup(&t->arena, name, strlen(name));
    c->type = cql_type_clone(type, &t->arena);
    if (c->name == NULL || c->type == NULL)
        return CQLMQ_ENOMEM;
    c->kind = kind;
    c->position = position;
    c->order = kind == NODE_COL_CLUSTERING ? (order == NODE_ORDER_DESC ? NODE_ORDER_DESC
                                                                        : NODE_ORDER_ASC)
                                           : NODE_ORDER_NONE;
    c->id = (uint16_t)t->nid;
    t->byid[t->nid++] = c;
    return 0;
}

static int check_defs(const node_table_def_t *d, size_t *npk, size_t *nck, int *counter)
{
    size_t nst = 0, ncounter = 0, nplain = 0;
    *npk = *nck = 0;
    for (size_t i = 0; i < d->ncols; i++) {
        const node_column_def_t *c = &d->cols[i];
        if (c->name == NULL || c->name[0] == '\0' || c->type == NULL)
            return CQLMQ_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->name, d->cols[j].name) == 0)
                return CQLMQ_EINVAL;
        bool is_counter = c->type->kind == CQL_TYPE_COUNTER;
        switch (c->kind) {
        case NODE_COL_PARTITION_KEY:
        case NODE_COL_CLUSTERING:
            if (is_counter || cql_order_supported(c->type, false) != 0)
                return CQLMQ_EINVAL;
            if (c->kind == NODE_COL_PARTITION_KEY)
                ++*npk;
            else
                ++*nck;
            break;
        case NODE_COL_STATIC:
            nst++;
            /* fallthrough */
        case NODE_COL_REGULAR:
            if (is_counter)
                ncounter++;
            else
                nplain++;
            break;
        default:
            return CQLMQ_EINVAL;
        }
    }
    if (*npk == 0 || *npk > NODE_MAX_KEY_COLS || *nck > NODE_MAX_KEY_COLS)
        return CQLMQ_EINVAL;
    if ((nst && *nck == 0) || (ncounter && nplain) || d->ncols >= UINT16_MAX)
        return CQLMQ_EINVAL;
    *counter = ncounter > 0;
    return 0;
}

void node_store_gen_id(node_store_t *s, uint8_t id[16])
{
    for (int half = 0; half < 2; half++) {
        uint64_t z = (s->idgen += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        cql_store_u64(id + 8 * half, z);
    }
    id[6] = (uint8_t)((id[6] & 0x0f) | 0x40); /* version 4 */
    id[8] = (uint8_t)((id[8] & 0x3f) | 0x80); /* IETF variant */
}

static int build_ckorder(node_tab_t *t)
{
    t->ckorder = cql_arena_calloc(&t->arena, t->pub.nck + 1, sizeof(cql_order_col_t));
    if (t->ckorder == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < t->pub.nck; i++) {
        t->ckorder[i].type = t->pub.ck[i]->type;
        t->ckorder[i].desc = t->pub.ck[i]->order == NODE_ORDER_DESC;
    }
    return 0;
}

int node_table_create(node_store_t *s, const node_table_def_t *d, const node_table_t **out)
{
    if (d == NULL || d->name == NULL || d->name[0] == '\0' || (d->ncols && d->cols == NULL) ||
        (d->nopts && d->opts == NULL))
        return CQLMQ_EINVAL;
    node_ks_t *k = node_ks_get(s, d->keyspace);
    if (k == NULL)
        return CQLMQ_ENOTFOUND;
    bool hit;
    size_t at = tab_index(k, d->name, &hit);
    if (hit)
        return CQLMQ_EEXISTS;
    size_t npk, nck;
    int counter;
    int rc = check_defs(d, &npk, &nck, &counter);
    if (rc < 0)
        return rc;
    if (k->ntabs == k->captabs) {
        size_t nc = k->captabs ? k->captabs * 2 : 4;
        node_tab_t **a = realloc(k->tabs, nc * sizeof(*a));
        if (a == NULL)
            return CQLMQ_ENOMEM;
        k->tabs = a;
        k->captabs = nc;
    }
    node_tab_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return CQLMQ_ENOMEM;
    cql_arena_init(&t->arena, 0);
    node_bt_init(&t->parts);
    t->ks = k;
    t->pub.keyspace = k->pub.name;
    t->pub.counter = counter;
    rc = CQLMQ_ENOMEM;
    t->pub.name = cql_arena_strndup(&t->arena, d->name, strlen(d->name));
    if (t->pub.name == NULL)
        goto fail;
    if (d->id)
        memcpy(t->pub.id, d->id, 16);
    else
        node_store_gen_id(s, t->pub.id);
    /* key columns first (ids in key order), then the others */
    static const node_col_kind_t order[] = {NODE_COL_PARTITION_KEY, NODE_COL_CLUSTERING,
                                            NODE_COL_STATIC};
    for (int pass = 0; pass < 3; pass++) {
        int pos = 0;
        for (size_t i = 0; i < d->ncols; i++) {
            const node_column_def_t *c = &d->cols[i];
            bool key = c->kind == NODE_COL_PARTITION_KEY || c->kind == NODE_COL_CLUSTERING;
            if (pass < 2 ? c->kind != order[pass] : key)
                continue;
            rc = add_col(t, c->name, c->type, c->kind, key ? pos++ : -1, c->order);
            if (rc < 0)
                goto fail;
        }
    }
    if ((rc = rebuild_arrays(t)) < 0 || (rc = build_ckorder(t)) < 0 ||
        (rc = merge_opts(t, d->opts, d->nopts)) < 0)
        goto fail;
    memmove(k->tabs + at + 1, k->tabs + at, (k->ntabs - at) * sizeof(*k->tabs));
    k->tabs[at] = t;
    k->ntabs++;
    s->version++;
    if (out)
        *out = &t->pub;
    return 0;
fail:
    node_tab_free(t);
    return rc;
}

int node_table_drop(node_store_t *s, const char *ks, const char *name)
{
    node_ks_t *k = node_ks_get(s, ks);
    bool hit = false;
    size_t at = k && name ? tab_index(k, name, &hit) : 0;
    if (!hit)
        return CQLMQ_ENOTFOUND;
    node_tab_free(k->tabs[at]);
    memmove(k->tabs + at, k->tabs + at + 1, (k->ntabs - at - 1) * sizeof(*k->tabs));
    k->ntabs--;
    s->purge_has_pos = false;
    s->version++;
    return 0;
}

int node_table_add_column(node_store_t *s, const char *ks, const char *table, const char *name,
                          const cql_type_t *type, bool is_static)
{
    node_tab_t *t = tab_get(s, ks, table);
    if (t == NULL)
        return CQLMQ_ENOTFOUND;
    if (name == NULL || name[0] == '\0' || type == NULL)
        return CQLMQ_EINVAL;
    if (node_table_column(&t->pub, name))
        return CQLMQ_EEXISTS;
    if (is_static && t->pub.nck == 0)
        return CQLMQ_EINVAL;
    bool is_counter = type->kind == CQL_TYPE_COUNTER;
    bool has_values = t->pub.ncols > t->pub.npk + t->pub.nck;
    if (has_values && is_counter != t->pub.counter)
        return CQLMQ_EINVAL;
    if (is_counter && t->pub.default_ttl > 0)
        return CQLMQ_EINVAL;
    int rc = add_col(t, name, type, is_static ? NODE_COL_STATIC : NODE_COL_REGULAR, -1,
                     NODE_ORDER_NONE);
    if (rc < 0)
        return rc;
    if ((rc = rebuild_arrays(t)) < 0) {
        t->nid--; /* forget the column: nothing refers to it yet */
        return rc;
    }
    t->pub.counter = is_counter;
    s->version++;
    return 0;
}

int node_table_drop_column(node_store_t *s, const char *ks, const char *table, const char *name)
{
    node_tab_t *t = tab_get(s, ks, table);
    if (t == NULL || name == NULL)
        return CQLMQ_ENOTFOUND;
    node_column_t *c = (node_column_t *)node_table_column(&t->pub, name);
    if (c == NULL)
        return CQLMQ_ENOTFOUND;
    if (c->kind == NODE_COL_PARTITION_KEY || c->kind == NODE_COL_CLUSTERING)
        return CQLMQ_EINVAL;
    c->dropped = true;
    int rc = rebuild_arrays(t);
    if (rc < 0) {
        c->dropped = false;
        return rc;
    }
    if (t->pub.ncols == t->pub.npk + t->pub.nck)
        t->pub.counter = false;
    t->mods++;
    s->version++;
    return 0;
}

int node_table_set_opts(node_store_t *s, const char *ks, const char *table, const node_kv_t *opts,
                        size_t nopts)
{
    node_tab_t *t = tab_get(s, ks, table);
    if (t == NULL)
        return CQLMQ_ENOTFOUND;
    if (nopts && opts == NULL)
        return CQLMQ_EINVAL;
    int rc = merge_opts(t, opts, nopts);
    if (rc == 0)
        s->version++;
    return rc;
}

const node_table_t *node_table_find(const node_store_t *s, const char *ks, const char *name)
{
    node_tab_t *t = tab_get(s, ks, name);
    return t ? &t->pub : NULL;
}

size_t node_table_count(const node_store_t *s, const char *ks)
{
    node_ks_t *k = node_ks_get(s, ks);
    return k ? k->ntabs : 0;
}

const node_table_t *node_table_at(const node_store_t *s, const char *ks, size_t i)
{
    node_ks_t *k = node_ks_get(s, ks);
    return k && i < k->ntabs ? &k->tabs[i]->pub : NULL;
}

const node_column_t *node_table_column(const node_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i]->name, name) == 0)
            return t->cols[i];
    return NULL;
}

const node_column_t *node_table_column_by_id(const node_table_t *t, uint16_t id)
{
    const node_tab_t *tt = node_tab(t);
    return id < tt->nid ? tt->byid[id] : NULL;
}

const char *node_table_opt(const node_table_t *t, const char *key)
{
    size_t lo = 0, hi = t->nopts;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(key, t->opts[mid].key);
        if (c == 0)
            return t->opts[mid].value;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
