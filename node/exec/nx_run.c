/*
 * nx_run: one statement from start to result: marker receivers (nx_infer),
 * the request's values bound to the markers (positionally or by name), and
 * the dispatch by statement kind. Also USE.
 */
#include <string.h>
#include <strings.h>

#include "nx_int.h"

int nx_bind_values(nx_req_t *r, const cql_stmt_t *st)
{
    size_t n = st->nmarkers;
    cql_bytes_t *v = cql_arena_calloc(r->a, n ? n : 1, sizeof *v);
    if (v == NULL)
        return CQLMQ_ENOMEM;
    r->values = v;
    if (r->rnames == NULL) {
        if (r->nrvalues != n)
            return nx_invalid(r, "Invalid amount of bind variables: expected %zu, got %zu", n,
                              r->nrvalues);
        for (size_t i = 0; i < n; i++)
            v[i] = r->rvalues[i];
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const char *want = r->specs[i].name;
        size_t j;
        for (j = 0; j < r->nrvalues; j++)
            if (cql_str_eq(r->rnames[j], want))
                break;
        if (j == r->nrvalues)
            for (j = 0; j < r->nrvalues; j++)
                if (r->rnames[j].len == strlen(want) &&
                    strncasecmp(r->rnames[j].ptr, want, r->rnames[j].len) == 0)
                    break;
        if (j == r->nrvalues)
            return nx_invalid(r, "No value has been provided for bind variable %s", want);
        v[i] = r->rvalues[j];
    }
    return 0;
}

int nx_use(nx_req_t *r, const cql_stmt_t *st)
{
    const char *ks = st->u.keyspace.name;
    if (node_ks_find(r->db->store, ks) == NULL)
        return nx_invalid(r, "Keyspace '%s' does not exist", ks);
    if (r->s != NULL) {
        size_t n = strlen(ks);
        if (n > NODE_NAME_MAX)
            return nx_invalid(r, "Keyspace name too long");
        memcpy(r->s->keyspace, ks, n + 1);
    }
    return nx_result_set_keyspace(r, ks);
}

int nx_run(nx_req_t *r, const cql_stmt_t *st)
{
    int rc = nx_infer(r, st);
    if (rc == 0)
        rc = nx_bind_values(r, st);
    if (rc != 0)
        return rc;
    switch (st->kind) {
    case CQL_STMT_SELECT:
        return nx_select(r, st);
    case CQL_STMT_INSERT:
    case CQL_STMT_UPDATE:
    case CQL_STMT_DELETE:
        return nx_modify(r, st);
    case CQL_STMT_BATCH:
        return nx_batch_stmt(r, st);
    case CQL_STMT_USE:
        return nx_use(r, st);
    case CQL_STMT_CREATE_KEYSPACE:
    case CQL_STMT_ALTER_KEYSPACE:
    case CQL_STMT_DROP_KEYSPACE:
    case CQL_STMT_CREATE_TABLE:
    case CQL_STMT_ALTER_TABLE:
    case CQL_STMT_DROP_TABLE:
    case CQL_STMT_TRUNCATE:
    case CQL_STMT_CREATE_TYPE:
    case CQL_STMT_DROP_TYPE:
        return nx_ddl(r, st);
    default:
        return nx_invalid(r, "%s statements are not supported by this node",
                          st->unsupported ? st->unsupported : cql_stmt_kind_name(st->kind));
    }
}
