/*
 * nx_ddl: schema statements. CREATE/ALTER/DROP KEYSPACE, CREATE/ALTER/DROP
 * TABLE, TRUNCATE, CREATE/DROP TYPE, applied to the catalog of the store.
 * Each successful change bumps the shared schema_version, calls
 * on_schema_change (the server pushes SCHEMA_CHANGE events) and answers a
 * Schema_change result; IF [NOT] EXISTS that changes nothing answers Void.
 * System keyspaces are read-only for clients.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "nx_int.h"

static int changed(nx_req_t *r, cql_schema_change_type_t ch, cql_schema_target_t tg,
                   const char *ks, const char *name)
{
    cql_schema_change_t ev;
    memset(&ev, 0, sizeof ev);
    ev.change = ch;
    ev.target = tg;
    ev.keyspace = (cql_str_t){ks, strlen(ks)};
    if (name != NULL)
        ev.name = (cql_str_t){name, strlen(name)};
    nx_schema_changed(r->db, r->internal ? NULL : &ev);
    if (r->internal)
        return 0;
    return nx_result_schema_change(r, &ev);
}

static int protect(nx_req_t *r, const char *ks)
{
    if (!r->internal && nx_is_system_ks(ks))
        return nx_fail(r, CQL_ERR_UNAUTHORIZED, "%s keyspace is not user-modifiable.", ks);
    return 0;
}

/* ---- option values as text ------------------------------------------------ */

static void put_quoted(cql_wr_t *w, const char *s, size_t n)
{
    cql_wr_u8(w, '\'');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'')
            cql_wr_u8(w, '\'');
        cql_wr_u8(w, (uint8_t)s[i]);
    }
    cql_wr_u8(w, '\'');
}

static void put_scalar(cql_wr_t *w, const cql_term_t *t, bool quote)
{
    const char *s = t->text ? t->text : (t->kind == CQL_TERM_BOOL ? (t->b ? "true" : "false") : "");
    size_t n = t->kind == CQL_TERM_STRING ? t->len : strlen(s);
    if (quote)
        put_quoted(w, s, n);
    else
        cql_wr_raw(w, s, n);
}

/* The text of an option value: scalars raw, maps as a CQL map literal with
 * every key and value quoted (Cassandra keeps map<text, text>). */
static int option_text(nx_req_t *r, const cql_term_t *t, const char **out)
{
    cql_wr_t w;
    cql_wr_init(&w);
    if (t->kind == CQL_TERM_MAP || t->kind == CQL_TERM_EMPTY_BRACES) {
        cql_wr_u8(&w, '{');
        for (size_t i = 0; i < t->n; i++) {
            if (i)
                cql_wr_raw(&w, ", ", 2);
            put_scalar(&w, t->items[i], true);
            cql_wr_raw(&w, ": ", 2);
            put_scalar(&w, t->values[i], true);
        }
        cql_wr_u8(&w, '}');
    } else {
        put_scalar(&w, t, false);
    }
    int rc = cql_wr_error(&w);
    if (rc == 0) {
        *out = cql_arena_strndup(r->a, (const char *)w.data, w.len);
        rc = *out ? 0 : CQLMQ_ENOMEM;
    }
    cql_wr_close(&w);
    return rc;
}

/* ---- keyspaces ----------------------------------------------------------------- */

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NODE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

static int ks_options(nx_req_t *r, const cql_keyspace_stmt_t *k, node_kv_t **repl, size_t *nrepl,
                      bool *durable)
{
    *repl = NULL;
    *nrepl = 0;
    *durable = true;
    for (size_t i = 0; i < k->noptions; i++) {
        const cql_option_t *o = &k->options[i];
        if (strcmp(o->name, "replication") == 0) {
            const cql_term_t *m = o->value;
            if (m->kind != CQL_TERM_MAP)
                return nx_fail(r, CQL_ERR_CONFIG_ERROR, "Missing replication strategy class");
            node_kv_t *kv = cql_arena_calloc(r->a, m->n, sizeof *kv);
            if (kv == NULL)
                return CQLMQ_ENOMEM;
            for (size_t j = 0; j < m->n; j++) {
                int rc = option_text(r, m->items[j], &kv[j].key);
                if (rc == 0)
                    rc = option_text(r, m->values[j], &kv[j].value);
                if (rc != 0)
                    return rc;
                if (strcmp(kv[j].key, "class") == 0 && strchr(kv[j].value, '.') == NULL) {
                    char buf[160];
                    snprintf(buf, sizeof buf, "org.apache.cassandra.locator.%s", kv[j].value);
                    kv[j].value = cql_arena_strndup(r->a, buf, strlen(buf));
                    if (kv[j].value == NULL)
                        return CQLMQ_ENOMEM;
                }
            }
            *repl = kv;
            *nrepl = m->n;
        } else if (strcmp(o->name, "durable_writes") == 0) {
            const cql_term_t *v = o->value;
            *durable = v->kind == CQL_TERM_BOOL ? v->b
                       : v->kind == CQL_TERM_STRING ? strcmp(v->text, "false") != 0
                                                    : true;
        } else {
            return nx_fail(r, CQL_ERR_SYNTAX_ERROR, "Unknown property '%s'", o->name);
        }
    }
    bool has_class = false;
    for (size_t j = 0; j < *nrepl; j++)
        if (strcmp((*repl)[j].key, "class") == 0)
            has_class = true;
    if (!has_class && k->noptions > 0 && *nrepl > 0)
        return nx_fail(r, CQL_ERR_CONFIG_ERROR, "Missing replication strategy class");
    return 0;
}

static int create_keyspace(nx_req_t *r, const cql_keyspace_stmt_t *k)
{
    if (!valid_name(k->name))
        return nx_invalid(r, "Keyspace name must not be empty, more than %d characters long, or "
                             "contain non-alphanumeric-underscore characters (got \"%s\")",
                          NODE_NAME_MAX, k->name);
    int rc = protect(r, k->name);
    node_kv_t *repl;
    size_t nrepl;
    bool durable;
    if (rc == 0)
        rc = ks_options(r, k, &repl, &nrepl, &durable);
    if (rc != 0)
        return rc;
    if (nrepl == 0)
        return nx_fail(r, CQL_ERR_SYNTAX_ERROR, "Missing mandatory option 'replication'");
    if (node_ks_find(r->db->store, k->name) != NULL) {
        if (k->if_not_exists)
            return nx_result_void(r);
        r->eks = k->name;
        r->ename = "";
        return nx_fail(r, CQL_ERR_ALREADY_EXISTS, "Cannot add existing keyspace \"%s\"", k->name);
    }
    rc = node_ks_create(r->db->store, k->name, repl, nrepl, durable, NULL);
    if (rc != 0)
        return nx_store_err(r, rc, "Invalid keyspace definition");
    return changed(r, CQL_SCHEMA_CREATED, CQL_TARGET_KEYSPACE, k->name, NULL);
}

static int alter_keyspace(nx_req_t *r, const cql_keyspace_stmt_t *k)
{
    int rc = protect(r, k->name);
    if (rc != 0)
        return rc;
    const node_keyspace_t *ks = node_ks_find(r->db->store, k->name);
    if (ks == NULL)
        return nx_invalid(r, "Keyspace '%s' does not exist", k->name);
    node_kv_t *repl;
    size_t nrepl;
    bool durable;
    if ((rc = ks_options(r, k, &repl, &nrepl, &durable)) != 0)
        return rc;
    if (nrepl == 0) {
        repl = (node_kv_t *)ks->repl;
        nrepl = ks->nrepl;
    }
    rc = node_ks_alter(r->db->store, k->name, repl, nrepl, durable);
    if (rc != 0)
        return nx_store_err(r, rc, "Invalid keyspace definition");
    return changed(r, CQL_SCHEMA_UPDATED, CQL_TARGET_KEYSPACE, k->name, NULL);
}

static int drop_keyspace(nx_req_t *r, const cql_keyspace_stmt_t *k)
{
    int rc = protect(r, k->name);
    if (rc != 0)
        return rc;
    if (node_ks_find(r->db->store, k->name) == NULL) {
        if (k->if_exists)
            return nx_result_void(r);
        return nx_fail(r, CQL_ERR_CONFIG_ERROR, "Cannot drop non existing keyspace '%s'.", k->name);
    }
    node_ks_drop(r->db->store, k->name);
    return changed(r, CQL_SCHEMA_DROPPED, CQL_TARGET_KEYSPACE, k->name, NULL);
}

/* ---- tables ----------------------------------------------------------------- */

static int parse_type(nx_req_t *r, const char *ks, const cql_column_def_t *c, cql_type_t **out)
{
    int rc = cql_type_parse(c->type, strlen(c->type), r->a, ks, node_udt_lookup, r->db->store, out);
    if (rc == CQLMQ_ENOTFOUND)
        return nx_invalid(r, "Unknown type %s.%s", ks, c->type);
    if (rc == CQLMQ_ENOMEM)
        return rc;
    if (rc != 0)
        return nx_invalid(r, "Invalid type %s for column %s", c->type_raw ? c->type_raw : c->type,
                          c->name);
    return 0;
}

static int table_options(nx_req_t *r, const cql_option_t *opts, size_t n, node_kv_t **out)
{
    node_kv_t *kv = cql_arena_calloc(r->a, n ? n : 1, sizeof *kv);
    if (kv == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        kv[i].key = opts[i].name;
        int rc = option_text(r, opts[i].value, &kv[i].value);
        if (rc != 0)
            return rc;
    }
    *out = kv;
    return 0;
}

static int find_def(const cql_create_table_stmt_t *c, const char *name)
{
    for (size_t i = 0; i < c->ncolumns; i++)
        if (strcmp(c->columns[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int create_table(nx_req_t *r, const cql_create_table_stmt_t *c)
{
    const char *ks = NULL;
    int rc = nx_resolve_ks(r, c->table.keyspace, &ks);
    if (rc == 0)
        rc = protect(r, ks);
    if (rc != 0)
        return rc;
    if (node_ks_find(r->db->store, ks) == NULL)
        return nx_invalid(r, "Keyspace '%s' does not exist", ks);
    if (!valid_name(c->table.name))
        return nx_invalid(r, "Table name must not be empty, more than %d characters long, or "
                             "contain non-alphanumeric-underscore characters (got \"%s\")",
                          NODE_NAME_MAX, c->table.name);
    if (node_table_find(r->db->store, ks, c->table.name) != NULL) {
        if (c->if_not_exists)
            return nx_result_void(r);
        r->eks = ks;
        r->ename = c->table.name;
        return nx_fail(r, CQL_ERR_ALREADY_EXISTS,
                       "Cannot add already existing table \"%s\" to keyspace \"%s\"",
                       c->table.name, ks);
    }
    if (c->compact_storage)
        return nx_invalid(r, "Compact tables are not allowed in Cassandra starting with 4.0 version.");
    for (size_t i = 0; i < c->ncolumns; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->columns[i].name, c->columns[j].name) == 0)
                return nx_invalid(r, "Multiple definition of identifier %s", c->columns[i].name);

    node_column_def_t *defs = cql_arena_calloc(r->a, c->ncolumns + 1, sizeof *defs);
    char *used = cql_arena_calloc(r->a, c->ncolumns + 1, 1);
    if (defs == NULL || used == NULL)
        return CQLMQ_ENOMEM;
    size_t nd = 0;
    for (int pass = 0; pass < 2; pass++) {
        const char **names = pass == 0 ? c->partition_key : c->clustering;
        size_t n = pass == 0 ? c->npartition_key : c->nclustering;
        for (size_t i = 0; i < n; i++) {
            int d = find_def(c, names[i]);
            if (d < 0)
                return nx_invalid(r, "Unknown definition %s referenced in PRIMARY KEY", names[i]);
            if (used[d])
                return nx_invalid(r, "Duplicate definition %s in PRIMARY KEY", names[i]);
            used[d] = 1;
            const cql_column_def_t *cd = &c->columns[d];
            if (cd->is_static)
                return nx_invalid(r, "Static column %s cannot be part of the PRIMARY KEY", cd->name);
            cql_type_t *ty;
            if ((rc = parse_type(r, ks, cd, &ty)) != 0)
                return rc;
            if (cql_order_supported(ty, false) != 0)
                return nx_invalid(r, "Invalid non-frozen collection type for PRIMARY KEY component %s",
                                  cd->name);
            if (ty->kind == CQL_TYPE_COUNTER)
                return nx_invalid(r, "counter type is not supported for PRIMARY KEY column '%s'",
                                  cd->name);
            defs[nd].name = cd->name;
            defs[nd].type = ty;
            defs[nd].kind = pass == 0 ? NODE_COL_PARTITION_KEY : NODE_COL_CLUSTERING;
            defs[nd].order = pass == 0 ? NODE_ORDER_NONE : NODE_ORDER_ASC;
            nd++;
        }
    }
    for (size_t i = 0; i < c->nclustering_order; i++) {
        const cql_ordering_t *o = &c->clustering_order[i];
        if (i >= c->nclustering || strcmp(c->clustering[i], o->column) != 0) {
            if (find_def(c, o->column) < 0 || i >= c->nclustering)
                return nx_invalid(r, "Only clustering key columns can be defined in CLUSTERING ORDER directive");
            return nx_invalid(r, "The order of columns in the CLUSTERING ORDER directive must be the one of the clustering key (%s must appear before %s)",
                              c->clustering[i], o->column);
        }
        defs[c->npartition_key + i].order = o->desc ? NODE_ORDER_DESC : NODE_ORDER_ASC;
    }
    bool has_static = false;
    for (size_t i = 0; i < c->ncolumns; i++) {
        if (used[i])
            continue;
        const cql_column_def_t *cd = &c->columns[i];
        cql_type_t *ty;
        if ((rc = parse_type(r, ks, cd, &ty)) != 0)
            return rc;
        defs[nd].name = cd->name;
        defs[nd].type = ty;
        defs[nd].kind = cd->is_static ? NODE_COL_STATIC : NODE_COL_REGULAR;
        has_static |= cd->is_static;
        nd++;
    }
    if (has_static && c->nclustering == 0)
        return nx_invalid(r, "Static columns are only useful (and thus allowed) if the table has at least one clustering column");
    node_kv_t *opts;
    if ((rc = table_options(r, c->options, c->noptions, &opts)) != 0)
        return rc;
    node_table_def_t def = {.keyspace = ks,
                            .name = c->table.name,
                            .cols = defs,
                            .ncols = nd,
                            .opts = opts,
                            .nopts = c->noptions};
    rc = node_table_create(r->db->store, &def, NULL);
    if (rc == CQLMQ_EINVAL)
        return nx_invalid(r, "Invalid table definition for %s.%s (counter columns must be all "
                             "non-key columns, keys must be orderable, options valid)",
                          ks, c->table.name);
    if (rc != 0)
        return nx_store_err(r, rc, "Invalid table definition");
    return changed(r, CQL_SCHEMA_CREATED, CQL_TARGET_TABLE, ks, c->table.name);
}

static int alter_table(nx_req_t *r, const cql_alter_table_stmt_t *a)
{
    const node_table_t *t;
    int rc = nx_resolve_table(r, &a->table, &t);
    if (rc == 0)
        rc = protect(r, t->keyspace);
    if (rc != 0)
        return rc;
    const char *ks = t->keyspace, *name = t->name;
    switch (a->op) {
    case CQL_ALTER_ADD:
        for (size_t i = 0; i < a->ncolumns; i++) {
            cql_type_t *ty;
            if ((rc = parse_type(r, ks, &a->columns[i], &ty)) != 0)
                return rc;
            rc = node_table_add_column(r->db->store, ks, name, a->columns[i].name, ty,
                                       a->columns[i].is_static);
            if (rc == CQLMQ_EEXISTS)
                return nx_invalid(r, "Column with name '%s' already exists", a->columns[i].name);
            if (rc == CQLMQ_EINVAL)
                return nx_invalid(r, "Cannot add column %s to %s.%s", a->columns[i].name, ks, name);
            if (rc != 0)
                return nx_store_err(r, rc, "ALTER TABLE");
        }
        break;
    case CQL_ALTER_DROP:
        for (size_t i = 0; i < a->nnames; i++) {
            rc = node_table_drop_column(r->db->store, ks, name, a->names[i]);
            if (rc == CQLMQ_ENOTFOUND)
                return nx_invalid(r, "Column %s was not found in table %s", a->names[i], name);
            if (rc == CQLMQ_EINVAL)
                return nx_invalid(r, "Cannot drop PRIMARY KEY part %s", a->names[i]);
            if (rc != 0)
                return nx_store_err(r, rc, "ALTER TABLE");
        }
        break;
    case CQL_ALTER_WITH: {
        node_kv_t *opts;
        if ((rc = table_options(r, a->options, a->noptions, &opts)) != 0)
            return rc;
        rc = node_table_set_opts(r->db->store, ks, name, opts, a->noptions);
        if (rc != 0)
            return nx_store_err(r, rc, "Invalid table option");
        break;
    }
    default:
        return nx_invalid(r, "ALTER TABLE ... %s is not supported by this node",
                          a->op == CQL_ALTER_RENAME ? "RENAME" : "ALTER TYPE");
    }
    return changed(r, CQL_SCHEMA_UPDATED, CQL_TARGET_TABLE, ks, name);
}

static int drop_table(nx_req_t *r, const cql_table_stmt_t *d)
{
    const char *ks = NULL;
    int rc = nx_resolve_ks(r, d->table.keyspace, &ks);
    if (rc == 0)
        rc = protect(r, ks);
    if (rc != 0)
        return rc;
    if (node_table_find(r->db->store, ks, d->table.name) == NULL) {
        if (d->if_exists)
            return nx_result_void(r);
        if (node_ks_find(r->db->store, ks) == NULL)
            return nx_invalid(r, "Keyspace '%s' does not exist", ks);
        return nx_invalid(r, "Table '%s.%s' doesn't exist", ks, d->table.name);
    }
    node_table_drop(r->db->store, ks, d->table.name);
    return changed(r, CQL_SCHEMA_DROPPED, CQL_TARGET_TABLE, ks, d->table.name);
}

static int do_truncate(nx_req_t *r, const cql_table_stmt_t *d)
{
    const node_table_t *t;
    int rc = nx_resolve_table(r, &d->table, &t);
    if (rc == 0)
        rc = protect(r, t->keyspace);
    if (rc != 0)
        return rc;
    node_store_truncate(r->db->store, t);
    return nx_result_void(r);
}

/* ---- types -------------------------------------------------------------------- */

static int create_type(nx_req_t *r, const cql_type_stmt_t *ts)
{
    const char *ks = NULL;
    int rc = nx_resolve_ks(r, ts->name.keyspace, &ks);
    if (rc == 0)
        rc = protect(r, ks);
    if (rc != 0)
        return rc;
    if (node_ks_find(r->db->store, ks) == NULL)
        return nx_invalid(r, "Keyspace '%s' does not exist", ks);
    if (node_udt_find(r->db->store, ks, ts->name.name) != NULL) {
        if (ts->if_not_exists)
            return nx_result_void(r);
        return nx_invalid(r, "A user type with name '%s' already exists", ts->name.name);
    }
    const char **names = cql_arena_calloc(r->a, ts->nfields + 1, sizeof *names);
    const cql_type_t **types = cql_arena_calloc(r->a, ts->nfields + 1, sizeof *types);
    if (names == NULL || types == NULL)
        return CQLMQ_ENOMEM;
    for (size_t i = 0; i < ts->nfields; i++) {
        cql_type_t *ty;
        if ((rc = parse_type(r, ks, &ts->fields[i], &ty)) != 0)
            return rc;
        names[i] = ts->fields[i].name;
        types[i] = ty;
    }
    rc = node_udt_create(r->db->store, ks, ts->name.name, names, types, ts->nfields, NULL);
    if (rc == CQLMQ_EINVAL)
        return nx_invalid(r, "Invalid definition of type %s (duplicate or empty field names?)",
                          ts->name.name);
    if (rc != 0)
        return nx_store_err(r, rc, "CREATE TYPE");
    return changed(r, CQL_SCHEMA_CREATED, CQL_TARGET_TYPE, ks, ts->name.name);
}

static int drop_type(nx_req_t *r, const cql_type_stmt_t *ts)
{
    const char *ks = NULL;
    int rc = nx_resolve_ks(r, ts->name.keyspace, &ks);
    if (rc == 0)
        rc = protect(r, ks);
    if (rc != 0)
        return rc;
    rc = node_udt_drop(r->db->store, ks, ts->name.name);
    if (rc == CQLMQ_ENOTFOUND) {
        if (ts->if_exists)
            return nx_result_void(r);
        return nx_invalid(r, "No user type named '%s' exists.", ts->name.name);
    }
    if (rc == CQLMQ_ESTATE)
        return nx_invalid(r, "Cannot drop user type %s.%s as it is still used", ks, ts->name.name);
    if (rc != 0)
        return nx_store_err(r, rc, "DROP TYPE");
    return changed(r, CQL_SCHEMA_DROPPED, CQL_TARGET_TYPE, ks, ts->name.name);
}

int nx_ddl(nx_req_t *r, const cql_stmt_t *st)
{
    switch (st->kind) {
    case CQL_STMT_CREATE_KEYSPACE:
        return create_keyspace(r, &st->u.keyspace);
    case CQL_STMT_ALTER_KEYSPACE:
        return alter_keyspace(r, &st->u.keyspace);
    case CQL_STMT_DROP_KEYSPACE:
        return drop_keyspace(r, &st->u.keyspace);
    case CQL_STMT_CREATE_TABLE:
        return create_table(r, &st->u.create_table);
    case CQL_STMT_ALTER_TABLE:
        return alter_table(r, &st->u.alter_table);
    case CQL_STMT_DROP_TABLE:
        return drop_table(r, &st->u.table);
    case CQL_STMT_TRUNCATE:
        return do_truncate(r, &st->u.table);
    case CQL_STMT_CREATE_TYPE:
        return create_type(r, &st->u.type);
    case CQL_STMT_DROP_TYPE:
        return drop_type(r, &st->u.type);
    default:
        return nx_invalid(r, "not a schema statement");
    }
}
