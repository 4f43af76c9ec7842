/*
 * nx_schematab: system_schema.* generated from the catalog, as Cassandra
 * 4.0 lays it out: keyspaces (replication map with the full class name),
 * tables (flags {'compound'}, the options converted to their column types,
 * id), columns (kind, position, clustering_order, type string), types.
 * functions, aggregates, triggers, indexes and views stay empty.
 * Keyspace system_virtual_schema is not listed (Cassandra shows virtual
 * keyspaces only in system_virtual_schema).
 */
#include <stdlib.h>
#include <string.h>

#include "nx_int.h"

static const char *const SCHEMA_TABLES[] = {"keyspaces", "tables",  "columns", "dropped_columns",
                                            "types",     "functions", "aggregates", "triggers",
                                            "indexes",   "views"};

static cql_bytes_t b_str(const char *s) { return (cql_bytes_t){(const uint8_t *)s, (int32_t)strlen(s)}; }

/* Parses a map literal "{'a': 'b', 'c': 4}" into a serialized map<text, X>
 * (values kept as text bytes). */
static int map_literal(nx_req_t *r, const char *s, const cql_type_t *mt, cql_bytes_t *out)
{
    size_t n = strlen(s), i = 0, cap = 8, cnt = 0;
    cql_bytes_t *items = cql_arena_calloc(r->a, 2 * cap, sizeof *items);
    if (items == NULL)
        return CQLMQ_ENOMEM;
    while (i < n && s[i] != '{')
        i++;
    i++;
    for (;;) {
        while (i < n && (s[i] == ' ' || s[i] == ',' || s[i] == ':'))
            i++;
        if (i >= n || s[i] == '}')
            break;
        if (cnt * 2 + 2 > cap * 2) {
            cql_bytes_t *v = cql_arena_calloc(r->a, 4 * cap, sizeof *v);
            if (v == NULL)
                return CQLMQ_ENOMEM;
            memcpy(v, items, cnt * 2 * sizeof *v);
            items = v;
            cap *= 2;
        }
        char *buf = cql_arena_alloc(r->a, n + 1);
        if (buf == NULL)
            return CQLMQ_ENOMEM;
        size_t bl = 0;
        if (s[i] == '\'') {
            i++;
            while (i < n) {
                if (s[i] == '\'' && i + 1 < n && s[i + 1] == '\'') {
                    buf[bl++] = '\'';
                    i += 2;
                } else if (s[i] == '\'') {
                    i++;
                    break;
                } else {
                    buf[bl++] = s[i++];
                }
            }
        } else {
            while (i < n && s[i] != ',' && s[i] != ':' && s[i] != '}' && s[i] != ' ')
                buf[bl++] = s[i++];
        }
        items[cnt++] = (cql_bytes_t){(const uint8_t *)buf, (int32_t)bl};
    }
    if (cnt % 2 != 0)
        cnt--;
    return nx_coll_build(r, items, cnt / 2, true, mt->sub[0], true, out);
}

/* An option's text converted to the type of its system_schema column. */
static int option_value(nx_req_t *r, const cql_type_t *t, const char *v, cql_bytes_t *out)
{
    uint8_t b[8];
    switch (t->kind) {
    case CQL_TYPE_VARCHAR:
    case CQL_TYPE_ASCII:
        *out = b_str(v);
        return 0;
    case CQL_TYPE_INT:
        cql_store_u32(b, (uint32_t)(int32_t)strtol(v, NULL, 10));
        *out = nx_bytes_dup(r, b, 4);
        break;
    case CQL_TYPE_DOUBLE: {
        double d = strtod(v, NULL);
        uint64_t bits;
        memcpy(&bits, &d, 8);
        cql_store_u64(b, bits);
        *out = nx_bytes_dup(r, b, 8);
        break;
    }
    case CQL_TYPE_BOOLEAN:
        b[0] = strcmp(v, "true") == 0 ? 1 : 0;
        *out = nx_bytes_dup(r, b, 1);
        break;
    case CQL_TYPE_MAP:
        return map_literal(r, v, t, out);
    default:
        out->len = CQL_BYTES_NULL;
        return 0;
    }
    return out->ptr ? 0 : CQLMQ_ENOMEM;
}

static int text_list(nx_req_t *r, const char *const *v, size_t n, cql_bytes_t *out)
{
    cql_bytes_t *items = cql_arena_calloc(r->a, n + 1, sizeof *items);
    if (items == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < n; i++)
        items[i] = b_str(v[i]);
    return nx_coll_build(r, items, n, false, NULL, false, out);
}

static const char *type_string(nx_req_t *r, const cql_type_t *t)
{
    char buf[512];
    int n = cql_type_format(t, buf, sizeof buf);
    if (n < 0)
        return "blob";
    if ((size_t)n >= sizeof buf) {
        char *big = cql_arena_alloc(r->a, (size_t)n + 1);
        if (big == NULL || cql_type_format(t, big, (size_t)n + 1) < 0)
            return NULL;
        return big;
    }
    return cql_arena_strndup(r->a, buf, (size_t)n);
}

static int put_keyspace(nx_req_t *r, const node_table_t *tk, const node_keyspace_t *ks)
{
    cql_bytes_t *items = cql_arena_calloc(r->a, 2 * ks->nrepl + 1, sizeof *items);
    if (items == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < ks->nrepl; i++) {
        items[2 * i] = b_str(ks->repl[i].key);
        items[2 * i + 1] = b_str(ks->repl[i].value);
    }
    cql_bytes_t repl;
    int rc = nx_coll_build(r, items, ks->nrepl, true, nx_type(r, CQL_TYPE_VARCHAR), true, &repl);
    if (rc != 0)
        return rc;
    uint8_t dw = ks->durable_writes ? 1 : 0;
    const char *names[] = {"keyspace_name", "durable_writes", "replication"};
    cql_bytes_t vals[] = {b_str(ks->name), nx_bytes_dup(r, &dw, 1), repl};
    return nx_systab_put(r, tk, names, vals, 3);
}

static int put_table(nx_req_t *r, const node_table_t *tt, const node_table_t *t)
{
    size_t cap = t->nopts + 4, n = 0;
    const char **names = cql_arena_calloc(r->a, cap, sizeof *names);
    cql_bytes_t *vals = cql_arena_calloc(r->a, cap, sizeof *vals);
    if (names == NULL || vals == NULL)
        return CQLMQ_ENOMEM;
    const char *compound = "compound";
    cql_bytes_t flags;
    int rc = text_list(r, &compound, 1, &flags);
    if (rc != 0)
        return rc;
    names[n] = "keyspace_name", vals[n++] = b_str(t->keyspace);
    names[n] = "table_name", vals[n++] = b_str(t->name);
    names[n] = "id", vals[n++] = (cql_bytes_t){t->id, 16};
    names[n] = "flags", vals[n++] = flags;
    for (size_t i = 0; i < t->nopts; i++) {
        const node_column_t *c = node_table_column(tt, t->opts[i].key);
        if (c == NULL || c->kind != NODE_COL_REGULAR || strcmp(c->name, "flags") == 0 ||
            strcmp(c->name, "id") == 0)
            continue;
        cql_bytes_t v;
        if ((rc = option_value(r, c->type, t->opts[i].value, &v)) != 0)
            return rc;
        names[n] = c->name;
        vals[n++] = v;
    }
    return nx_systab_put(r, tt, names, vals, n);
}

static int put_columns(nx_req_t *r, const node_table_t *tc, const node_table_t *t)
{
    for (size_t i = 0; i < t->ncols; i++) {
        const node_column_t *c = t->cols[i];
        const char *ty = type_string(r, c->type);
        if (ty == NULL)
            return CQLMQ_ENOMEM;
        uint8_t pos[4];
        cql_store_u32(pos, (uint32_t)(int32_t)c->position);
        const char *names[] = {"keyspace_name", "table_name", "column_name", "clustering_order",
                               "column_name_bytes", "kind", "position", "type"};
        cql_bytes_t vals[] = {b_str(t->keyspace), b_str(t->name), b_str(c->name),
                              b_str(node_order_name(c->order)), b_str(c->name),
                              b_str(node_col_kind_name(c->kind)), nx_bytes_dup(r, pos, 4),
                              b_str(ty)};
        int rc = nx_systab_put(r, tc, names, vals, 8);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int put_type(nx_req_t *r, const node_table_t *ty, const node_udt_t *u)
{
    const char **types = cql_arena_calloc(r->a, u->nfields + 1, sizeof *types);
    if (types == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < u->nfields; i++)
        if ((types[i] = type_string(r, u->field_types[i])) == NULL)
            return CQLMQ_ENOMEM;
    cql_bytes_t fn, ft;
    int rc = text_list(r, (const char *const *)u->field_names, u->nfields, &fn);
    if (rc == 0)
        rc = text_list(r, types, u->nfields, &ft);
    if (rc != 0)
        return rc;
    const char *names[] = {"keyspace_name", "type_name", "field_names", "field_types"};
    cql_bytes_t vals[] = {b_str(u->keyspace), b_str(u->name), fn, ft};
    return nx_systab_put(r, ty, names, vals, 4);
}

int nx_schematab_rebuild(nx_req_t *r)
{
    node_store_t *s = r->db->store;
    const node_table_t *tabs[sizeof SCHEMA_TABLES / sizeof SCHEMA_TABLES[0]];
    for (size_t i = 0; i < sizeof SCHEMA_TABLES / sizeof SCHEMA_TABLES[0]; i++) {
        tabs[i] = node_table_find(s, "system_schema", SCHEMA_TABLES[i]);
        if (tabs[i] == NULL)
            return CQLMQ_ESTATE;
        node_store_truncate(s, tabs[i]);
    }
    int rc = 0;
    for (size_t k = 0; k < node_ks_count(s) && rc == 0; k++) {
        const node_keyspace_t *ks = node_ks_at(s, k);
        if (strcmp(ks->name, "system_virtual_schema") == 0)
            continue;
        rc = put_keyspace(r, tabs[0], ks);
        for (size_t i = 0; i < node_udt_count(s, ks->name) && rc == 0; i++)
            rc = put_type(r, tabs[4], node_udt_at(s, ks->name, i));
        for (size_t i = 0; i < node_table_count(s, ks->name) && rc == 0; i++) {
            const node_table_t *t = node_table_at(s, ks->name, i);
            rc = put_table(r, tabs[1], t);
            if (rc == 0)
                rc = put_columns(r, tabs[2], t);
        }
    }
    if (rc != 0)
        return rc == NX_EFAIL || rc == CQLMQ_ENOMEM ? rc : nx_store_err(r, rc, "system_schema");
    r->db->schema_rows_version = node_catalog_version(s);
    return 0;
}
