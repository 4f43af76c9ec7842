/*
 * cql_msg_req: the request bodies (spec v4 section 4.1): STARTUP, OPTIONS,
 * QUERY, PREPARE, EXECUTE, BATCH, REGISTER, AUTH_RESPONSE, and the
 * <query_parameters> QUERY and EXECUTE share.
 */
#include "cql_msg.h"

#include <string.h>

/* A bound value: [value] in v4 (null, not set), [bytes] in v3 (any
 * negative length is null). */
static int rd_value(cql_rd_t *r, int version, cql_bytes_t *out)
{
    return version >= 4 ? cql_rd_value(r, out) : cql_rd_bytes(r, out);
}

static int wr_value(cql_wr_t *w, int version, cql_bytes_t v)
{
    if (v.len == CQL_BYTES_NOT_SET && version < 4)
        return CQLMQ_EUNSUPPORTED;
    if (v.len > 0 && v.ptr == NULL)
        return CQLMQ_EINVAL;
    cql_wr_bytes(w, v);
    return 0;
}

/* n values, each preceded by a [string] name when names is not NULL. */
static int rd_values(cql_rd_t *r, int version, cql_arena_t *a, bool named, uint16_t *n,
                     cql_bytes_t **values, cql_str_t **names)
{
    int rc = cql_rd_count16(r, named ? 6 : 4, n);
    if (rc)
        return rc;
    *values = NULL;
    *names = NULL;
    if (*n == 0)
        return 0;
    *values = cql_arena_calloc(a, *n, sizeof(**values));
    if (named)
        *names = cql_arena_calloc(a, *n, sizeof(**names));
    if (*values == NULL || (named && *names == NULL))
        return CQLMQ_ENOMEM;
    for (uint16_t i = 0; i < *n; i++) {
        if (named && (rc = cql_rd_string(r, &(*names)[i])) != 0)
            return rc;
        if ((rc = rd_value(r, version, &(*values)[i])) != 0)
            return rc;
    }
    return 0;
}

static int wr_values(cql_wr_t *w, int version, uint16_t n, const cql_bytes_t *values,
                     const cql_str_t *names, bool named)
{
    if (n && (values == NULL || (named && names == NULL)))
        return CQLMQ_EINVAL;
    cql_wr_u16(w, n);
    for (uint16_t i = 0; i < n; i++) {
        if (named)
            cql_wr_string(w, names[i].ptr, names[i].len);
        int rc = wr_value(w, version, values[i]);
        if (rc)
            return rc;
    }
    return 0;
}

int cql_query_params_read(cql_rd_t *r, int version, cql_arena_t *a, cql_query_params_t *p)
{
    memset(p, 0, sizeof(*p));
    int rc = cql_rd_u16(r, &p->consistency);
    if (rc == 0)
        rc = cql_rd_u8(r, &p->flags); /* v5: an [int] */
    if (rc == 0 && (p->flags & CQL_QF_VALUES))
        rc = rd_values(r, version, a, (p->flags & CQL_QF_NAMES) != 0, &p->nvalues, &p->values,
                       &p->names);
    if (rc == 0 && (p->flags & CQL_QF_PAGE_SIZE))
        rc = cql_rd_i32(r, &p->page_size);
    if (rc == 0 && (p->flags & CQL_QF_PAGING_STATE))
        rc = cql_rd_bytes(r, &p->paging_state);
    if (rc == 0 && (p->flags & CQL_QF_SERIAL_CONSISTENCY))
        rc = cql_rd_u16(r, &p->serial_consistency);
    if (rc == 0 && (p->flags & CQL_QF_DEFAULT_TIMESTAMP))
        rc = cql_rd_i64(r, &p->timestamp);
    /* v5: keyspace (0x80), now_in_seconds (0x100). */
    return rc;
}

int cql_query_params_write(cql_wr_t *w, int version, const cql_query_params_t *p)
{
    cql_wr_u16(w, p->consistency);
    cql_wr_u8(w, p->flags);
    if (p->flags & CQL_QF_VALUES) {
        int rc = wr_values(w, version, p->nvalues, p->values, p->names,
                           (p->flags & CQL_QF_NAMES) != 0);
        if (rc)
            return rc;
    }
    if (p->flags & CQL_QF_PAGE_SIZE)
        cql_wr_i32(w, p->page_size);
    if (p->flags & CQL_QF_PAGING_STATE)
        cql_wr_bytes(w, p->paging_state);
    if (p->flags & CQL_QF_SERIAL_CONSISTENCY)
        cql_wr_u16(w, p->serial_consistency);
    if (p->flags & CQL_QF_DEFAULT_TIMESTAMP)
        cql_wr_i64(w, p->timestamp);
    return 0;
}

/* ---- STARTUP, OPTIONS, REGISTER, AUTH_RESPONSE ---- */

int cql_msg_dec_startup(cql_rd_t *r, int version, cql_arena_t *a, cql_msg_t *m)
{
    (void)version;
    return cql_rd_string_map(r, a, &m->u.startup);
}

int cql_msg_enc_startup(cql_wr_t *w, int version, const cql_msg_t *m)
{
    (void)version;
    if (m->u.startup.n && m->u.startup.items == NULL)
        return CQLMQ_EINVAL;
    cql_wr_string_map(w, &m->u.startup);
    return 0;
}

int cql_msg_dec_options(cql_rd_t *r, int version, cql_arena_t *a, cql_msg_t *m)
{
    (void)r, (void)version, (void)a, (void)m;
    return 0;
}

int cql_msg_enc_options(cql_wr_t *w, int version, const cql_msg_t *m)
{
    (void)w, (void)version, (void)m;
    return 0;
}

int cql_msg_dec_register(cql_rd_t *r, int version, cql_arena_t *a, cql_msg_t *m)
{
    (void)version;
    return cql_rd_string_list(r, a, &m->u.register_events);
}

int cql_msg_enc_register(cql_wr_t *w, int version, const cql_msg_t *m)
{
    (void)version;
    if (m->u.register_events.n && m->u.register_events.items == NULL)
        return CQLMQ_EINVAL;
    cql_wr_string_list(w, &m->u.register_events);
    return 0;
}

int cql_msg_dec_auth_response(cql_rd_t *r, int version, cql_arena_t *a, cql_msg_t *m)
{
    (void)version, (void)a;
    return cql_rd_bytes(r, &m->u.token);
}

int cql_msg_enc_auth_response(cql_wr_t *w, int version, const cql_msg_t *m)
{
    (void)version;
    cql_wr_bytes(w, m->u.token);
    return 0;
}

/* ---- QUERY, PREPARE, EXECUTE ---- */

int cql_msg_dec_query(cql_rd_t *r, int version, cql_arena_t *a, cql_msg_t *m)
{
    int rc = cql_rd_long_string(r, &m->u.query.query);
    if (rc == 0)
        rc = cql_query_params_read(r, version, a, &m->u.query.params);
    return rc;
}

int cql_msg_enc_query(cql_wr_t *w, int version, const cql_msg_t *m)
{
    cql_wr_long_string(w, m->u.query.query.ptr, m->u.query.query.len);
    return cql_query_params_write(w, version, &m->u.query.params);
}

int cql_msg_dec_prepare(cql_rd_t *r, int version, cql_arena_t *a, cql_msg_t *m)
{
    (void)version, (void)a;
    return cql_rd_long_string(r, &m->u.prepare); /* v5: + flags, keyspace */
}

int cql_msg_enc_prepare(cql_wr_t *w, int version, const cql_msg_t *m)
{
    (void)version;
    cql_wr_long_string(w, m->u.prepare.ptr, m->u.prepare.len);
    return 0;
}

int cql_msg_dec_execute(cql_rd_t *r, int version, cql_arena_t *a, cql_msg_t *m)
{
    int rc = cql_rd_short_bytes(r, &m->u.execute.id); /* v5: + result_metadata_id */
    if (rc == 0)
        rc = cql_query_params_read(r, version, a, &m->u.execute.params);
    return rc;
}

int cql_msg_enc_execute(cql_wr_t *w, int version, const cql_msg_t *m)
{
    const cql_msg_execute_t *e = &m->u.execute;
    if (e->id.len < 0)
        return CQLMQ_EINVAL;
    cql_wr_short_bytes(w, e->id.ptr, (size_t)e->id.len);
    return cql_query_params_write(w, version, &e->params);
}

/* ---- BATCH ---- */

/* "the 4 rightmost bits must always be 0" (spec 4.1.7) */
#define BATCH_FORBIDDEN_FLAGS 0x0f

int cql_msg_dec_batch(cql_rd_t *r, int version, cql_arena_t *a, cql_msg_t *m)
{
    cql_msg_batch_t *b = &m->u.batch;
    int rc = cql_rd_u8(r, &b->type);
    if (rc)
        return rc;
    if (b->type > CQL_BATCH_COUNTER)
        return CQLMQ_EMALFORMED;
    /* A statement is at least kind(1) + an empty id (2) + its count (2). */
    if ((rc = cql_rd_count16(r, 5, &b->nstmts)) != 0)
        return rc;
    if (b->nstmts) {
        b->stmts = cql_arena_calloc(a, b->nstmts, sizeof(*b->stmts));
        if (b->stmts == NULL)
            return CQLMQ_ENOMEM;
    }
    for (uint16_t i = 0; i < b->nstmts; i++) {
        cql_batch_stmt_t *s = &b->stmts[i];
        cql_str_t *no_names;
        if ((rc = cql_rd_u8(r, &s->kind)) != 0)
            return rc;
        if (s->kind == CQL_BATCH_KIND_QUERY)
            rc = cql_rd_long_string(r, &s->query);
        else if (s->kind == CQL_BATCH_KIND_PREPARED)
            rc = cql_rd_short_bytes(r, &s->id);
        else
            rc = CQLMQ_EMALFORMED;
        if (rc == 0)
            rc = rd_values(r, version, a, false, &s->nvalues, &s->values, &no_names);
        if (rc)
            return rc;
    }
    if ((rc = cql_rd_u16(r, &b->consistency)) != 0 || (rc = cql_rd_u8(r, &b->flags)) != 0)
        return rc;
    if (b->flags & BATCH_FORBIDDEN_FLAGS)
        return CQLMQ_EMALFORMED;
    if (b->flags & CQL_QF_NAMES)
        return CQLMQ_EUNSUPPORTED;
    if (b->flags & CQL_QF_SERIAL_CONSISTENCY)
        rc = cql_rd_u16(r, &b->serial_consistency);
    if (rc == 0 && (b->flags & CQL_QF_DEFAULT_TIMESTAMP))
        rc = cql_rd_i64(r, &b->timestamp);
    return rc; /* v5: keyspace, now_in_seconds */
}

int cql_msg_enc_batch(cql_wr_t *w, int version, const cql_msg_t *m)
{
    const cql_msg_batch_t *b = &m->u.batch;
    if (b->type > CQL_BATCH_COUNTER || (b->nstmts && b->stmts == NULL) ||
        (b->flags & BATCH_FORBIDDEN_FLAGS))
        return CQLMQ_EINVAL;
    if (b->flags & CQL_QF_NAMES)
        return CQLMQ_EUNSUPPORTED;
    cql_wr_u8(w, b->type);
    cql_wr_u16(w, b->nstmts);
    for (uint16_t i = 0; i < b->nstmts; i++) {
        const cql_batch_stmt_t *s = &b->stmts[i];
        cql_wr_u8(w, s->kind);
        if (s->kind == CQL_BATCH_KIND_QUERY)
            cql_wr_long_string(w, s->query.ptr, s->query.len);
        else if (s->kind == CQL_BATCH_KIND_PREPARED && s->id.len >= 0)
            cql_wr_short_bytes(w, s->id.ptr, (size_t)s->id.len);
        else
            return CQLMQ_EINVAL;
        int rc = wr_values(w, version, s->nvalues, s->values, NULL, false);
        if (rc)
            return rc;
    }
    cql_wr_u16(w, b->consistency);
    cql_wr_u8(w, b->flags);
    if (b->flags & CQL_QF_SERIAL_CONSISTENCY)
        cql_wr_u16(w, b->serial_consistency);
    if (b->flags & CQL_QF_DEFAULT_TIMESTAMP)
        cql_wr_i64(w, b->timestamp);
    return 0;
}
