/*
 * nx_db: the database object (node_db_t), sessions, the clock and uuids,
 * and node_exec: the dispatch of QUERY / PREPARE / EXECUTE / BATCH and the
 * conversion of internal failures into ERROR bodies.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nx_int.h"


#define DEFAULT_REQUEST_MEM ((size_t)64 << 20)

/* ---- clock, randomness, uuids ------------------------------------------- */

int64_t nx_clock_us(node_db_t *db)
{
    if (db->cfg.now_us != NULL)
        return db->cfg.now_us(db->cfg.clock_ud);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

size_t node_db_housekeep(node_db_t *db, size_t budget)
{
    return node_store_purge(db->store, nx_clock_us(db) / 1000000, budget);
}

uint64_t nx_rand(node_db_t *db)
{
    uint64_t x = db->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    db->rng = x;
    return x * UINT64_C(2685821657736338717);
}

void nx_uuid4(node_db_t *db, uint8_t out[16])
{
    cql_store_u64(out, nx_rand(db));
    cql_store_u64(out + 8, nx_rand(db));
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

void nx_timeuuid(node_db_t *db, int64_t us, uint8_t out[16])
{
    /* 100 ns intervals since 1582-10-15 */
    int64_t t = us * 10 + INT64_C(0x01B21DD213814000);
    if (t <= db->last_uuid_ts)
        t = db->last_uuid_ts + 1;
    db->last_uuid_ts = t;
    uint64_t u = (uint64_t)t;
    uint32_t low = (uint32_t)u;
    uint16_t mid = (uint16_t)(u >> 32);
    uint16_t hi = (uint16_t)((u >> 48) & 0x0fff) | 0x1000;
    cql_store_u32(out, low);
    cql_store_u16(out + 4, mid);
    cql_store_u16(out + 6, hi);
    uint64_t r = nx_rand(db);
    cql_store_u64(out + 8, r);
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

void nx_schema_changed(node_db_t *db, const cql_schema_change_t *ev)
{
    nx_uuid4(db, db->schema_version);
    if (ev != NULL && db->cfg.on_schema_change != NULL)
        db->cfg.on_schema_change(db->cfg.event_ud, ev);
}

int64_t nx_write_ts(nx_req_t *r)
{
    if (r->has_ts)
        return r->ts;
    int64_t ts = r->db->cfg.now_us != NULL ? nx_clock_us(r->db) : r->now_us;
    if (ts <= r->db->last_ts)
        ts = r->db->last_ts + 1;
    r->db->last_ts = ts;
    return ts;
}

/* ---- errors --------------------------------------------------------------- */

int nx_fail(nx_req_t *r, int32_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->emsg, sizeof r->emsg, fmt, ap);
    va_end(ap);
    r->ecode = code;
    return NX_EFAIL;
}

int nx_store_err(nx_req_t *r, int rc, const char *what)
{
    switch (rc) {
    case 0:
        return 0;
    case NX_EFAIL:
    case CQLMQ_ENOMEM:
        return rc;
    case CQLMQ_ERANGE:
        return nx_invalid(r, "%s: value out of range", what);
    case CQLMQ_EMALFORMED:
        return nx_invalid(r, "%s: malformed value", what);
    default:
        return nx_invalid(r, "%s: %s", what, cqlmq_strerror(rc));
    }
}

bool nx_is_system_ks(const char *ks)
{
    return strcmp(ks, "system") == 0 || strcmp(ks, "system_schema") == 0 ||
           strcmp(ks, "system_auth") == 0 || strcmp(ks, "system_distributed") == 0 ||
           strcmp(ks, "system_traces") == 0 || strcmp(ks, "system_virtual_schema") == 0 ||
           strcmp(ks, "system_views") == 0;
}

int nx_resolve_ks(nx_req_t *r, const char *ks, const char **out)
{
    if (ks == NULL)
        ks = r->keyspace;
    if (ks == NULL || ks[0] == '\0')
        return nx_invalid(r, "No keyspace has been specified. USE a keyspace, or explicitly "
                             "specify keyspace.tablename");
    *out = ks;
    return 0;
}

int nx_resolve_table(nx_req_t *r, const cql_qname_t *q, const node_table_t **out)
{
    const char *ks = NULL;
    int rc = nx_resolve_ks(r, q->keyspace, &ks);
    if (rc != 0)
        return rc;
    if (node_ks_find(r->db->store, ks) == NULL)
        return nx_invalid(r, "Keyspace '%s' does not exist", ks);
    const node_table_t *t = node_table_find(r->db->store, ks, q->name);
    if (t == NULL)
        return nx_invalid(r, "unconfigured table %s", q->name);
    *out = t;
    return 0;
}

/* ---- db ------------------------------------------------------------------- */

node_db_t *node_db_new(const node_db_config_t *cfg)
{
    if (cfg == NULL || cfg->topology == NULL)
        return NULL;
    node_db_t *db = calloc(1, sizeof *db);
    if (db == NULL)
        return NULL;
    db->cfg = *cfg;
    node_store_opts_t so = {.tombstone_grace = cfg->tombstone_grace, .seed = cfg->seed};
    db->store = node_store_new(&so);
    cql_arena_init(&db->arena, cfg->max_request_mem ? cfg->max_request_mem : DEFAULT_REQUEST_MEM);
    db->rng = cfg->seed ? cfg->seed : UINT64_C(0x9E3779B97F4A7C15);
    db->last_ts = INT64_MIN;
    db->schema_rows_version = UINT64_MAX;
    if (db->store == NULL || node_iter_new(&db->iter) != 0 || node_iter_new(&db->iter2) != 0)
        goto fail;
    nx_uuid4(db, db->schema_version);

    nx_req_t r;
    memset(&r, 0, sizeof r);
    cql_wr_t w;
    cql_wr_init(&w);
    r.db = db;
    r.a = &db->arena;
    r.out = &w;
    r.version = 4;
    r.internal = true;
    r.now_us = nx_clock_us(db);
    int rc = nx_systab_init(&r);
    cql_wr_close(&w);
    cql_arena_reset(&db->arena);
    if (rc != 0)
        goto fail;
    return db;
fail:
    node_db_free(&db);
    return NULL;
}

void node_db_free(node_db_t **pdb)
{
    if (pdb == NULL || *pdb == NULL)
        return;
    node_db_t *db = *pdb;
    for (size_t i = 0; i < db->npcache; i++)
        nx_pcache_free(&db->pcache[i]);
    free(db->pcache);
    node_iter_free(&db->iter);
    node_iter_free(&db->iter2);
    node_store_free(&db->store);
    cql_arena_close(&db->arena);
    free(db);
    *pdb = NULL;
}

const uint8_t *node_db_schema_version(const node_db_t *db) { return db->schema_version; }

struct node_store *node_db_store(node_db_t *db) { return db->store; }

void node_db_forget_prepared(node_db_t *db, int node_index)
{
    nx_pcache_clear(nx_pcache_get(db, node_index, false));
}

const char *node_db_prepared_query(const node_db_t *db, int node_index, const uint8_t *id,
                                   size_t id_len)
{
    if (id == NULL || id_len != 16 || node_index < 0 || (size_t)node_index >= db->npcache)
        return NULL;
    nx_prepared_t *p = nx_pcache_find(db->pcache[node_index], id);
    return p != NULL ? p->query : NULL;
}

void node_session_init(node_session_t *s, int version, int node_index)
{
    memset(s, 0, sizeof *s);
    s->version = version;
    s->node_index = node_index;
}

/* ---- requests ---------------------------------------------------------------- */

static void take_params(nx_req_t *r, const cql_query_params_t *p)
{
    r->consistency = p->consistency;
    r->page_size = (p->flags & CQL_QF_PAGE_SIZE) ? p->page_size : 5000;
    r->paging_state = (p->flags & CQL_QF_PAGING_STATE) ? p->paging_state
                                                       : (cql_bytes_t){NULL, CQL_BYTES_NULL};
    r->has_ts = (p->flags & CQL_QF_DEFAULT_TIMESTAMP) != 0;
    r->ts = p->timestamp;
    r->has_values = (p->flags & CQL_QF_VALUES) != 0;
    r->rvalues = r->has_values ? p->values : NULL;
    r->nrvalues = r->has_values ? p->nvalues : 0;
    r->rnames = (r->has_values && (p->flags & CQL_QF_NAMES)) ? p->names : NULL;
}

int nx_parse(nx_req_t *r, const char *text, size_t len, cql_stmt_t **out)
{
    cql_parse_error_t pe;
    int rc = cql_parse(text, len, r->a, out, &pe);
    if (rc == 0)
        return 0;
    if (rc == CQLMQ_ENOMEM)
        return rc;
    if (rc == CQLMQ_ETOOBIG)
        return nx_invalid(r, "Query string is too long");
    return nx_fail(r, CQL_ERR_SYNTAX_ERROR, "%s", pe.msg[0] ? pe.msg : "syntax error");
}

static int do_query(nx_req_t *r, const cql_msg_query_t *q)
{
    take_params(r, &q->params);
    cql_stmt_t *st;
    int rc = nx_parse(r, q->query.ptr, q->query.len, &st);
    if (rc != 0)
        return rc;
    return nx_run(r, st);
}

static int do_prepare(nx_req_t *r, cql_str_t q)
{
    nx_pcache_t *pc = nx_pcache_get(r->db, r->s->node_index, true);
    if (pc == NULL)
        return CQLMQ_ENOMEM;
    uint8_t id[16];
    nx_prepared_id(r->s->keyspace[0] ? r->s->keyspace : NULL, q.ptr, q.len, id);
    nx_prepared_t *p = nx_pcache_find(pc, id);
    if (p == NULL) {
        /* parse into the request arena first: a syntax error caches nothing */
        cql_stmt_t *tmp;
        int rc = nx_parse(r, q.ptr, q.len, &tmp);
        if (rc != 0)
            return rc;
        rc = nx_pcache_add(pc, r->db->cfg.max_prepared, &p, id);
        if (rc != 0)
            return rc;
        cql_parse_error_t pe;
        p->query = malloc(q.len + 1);
        if (p->query == NULL || cql_parse(q.ptr, q.len, &p->arena, &p->stmt, &pe) != 0) {
            nx_pcache_remove(pc, id);
            return CQLMQ_ENOMEM;
        }
        memcpy(p->query, q.ptr, q.len);
        p->query[q.len] = '\0';
        p->query_len = q.len;
        memcpy(p->keyspace, r->s->keyspace, sizeof p->keyspace);
    }
    r->keyspace = p->keyspace[0] ? p->keyspace : NULL;
    int rc = nx_infer(r, p->stmt);
    if (rc != 0) {
        nx_pcache_remove(pc, id);
        return rc;
    }
    return nx_prepared_result(r, p->stmt, id);
}

static int unprepared(nx_req_t *r, cql_bytes_t id)
{
    size_t n = id.len > 0 ? (size_t)id.len : 0;
    if (n > sizeof r->eid)
        n = sizeof r->eid;
    memcpy(r->eid, id.ptr, n);
    r->eid_len = n;
    char hex[33] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", id.ptr[i]);
    return nx_fail(r, CQL_ERR_UNPREPARED,
                   "Prepared query with ID %s not found (either the query was not prepared on "
                   "this host (maybe the host has been restarted?) or you have prepared too many "
                   "queries and it has been evicted from the internal cache)",
                   hex);
}

int nx_find_prepared(nx_req_t *r, cql_bytes_t id, nx_prepared_t **out)
{
    nx_pcache_t *pc = nx_pcache_get(r->db, r->s->node_index, false);
    nx_prepared_t *p = NULL;
    if (id.len == 16)
        p = nx_pcache_find(pc, id.ptr);
    if (p == NULL)
        return unprepared(r, id);
    *out = p;
    return 0;
}

static int do_execute(nx_req_t *r, const cql_msg_execute_t *e)
{
    take_params(r, &e->params);
    nx_prepared_t *p;
    int rc = nx_find_prepared(r, e->id, &p);
    if (rc != 0)
        return rc;
    if (p->keyspace[0])
        r->keyspace = p->keyspace;
    return nx_run(r, p->stmt);
}

int node_exec(node_db_t *db, node_session_t *s, int opcode, const cql_msg_t *req, cql_wr_t *out,
              int *out_opcode)
{
    if (db == NULL || s == NULL || req == NULL || out == NULL || out_opcode == NULL)
        return CQLMQ_EINVAL;
    if (cql_wr_error(out))
        return CQLMQ_ENOMEM;
    size_t start = out->len;
    nx_req_t r;
    memset(&r, 0, sizeof r);
    r.db = db;
    r.s = s;
    r.a = &db->arena;
    r.out = out;
    r.version = s->version == 3 ? 3 : 4;
    r.keyspace = s->keyspace[0] ? s->keyspace : NULL;
    r.now_us = nx_clock_us(db);
    r.page_size = -1;
    r.paging_state.len = CQL_BYTES_NULL;
    cql_arena_reset(&db->arena);

    int rc;
    switch (opcode) {
    case CQL_OP_QUERY:
        rc = do_query(&r, &req->u.query);
        break;
    case CQL_OP_PREPARE:
        rc = do_prepare(&r, req->u.prepare);
        break;
    case CQL_OP_EXECUTE:
        rc = do_execute(&r, &req->u.execute);
        break;
    case CQL_OP_BATCH:
        rc = nx_batch_msg(&r, req);
        break;
    default:
        rc = nx_fail(&r, CQL_ERR_PROTOCOL_ERROR, "Unexpected message %s",
                     cql_opcode_name(opcode) ? cql_opcode_name(opcode) : "?");
        break;
    }
    if (rc == 0 && !cql_wr_error(out)) {
        *out_opcode = CQL_OP_RESULT;
        cql_arena_reset(&db->arena);
        return 0;
    }
    if (cql_wr_error(out)) {
        out->len = start;
        cql_arena_reset(&db->arena);
        return CQLMQ_ENOMEM;
    }
    out->len = start;
    if (rc != NX_EFAIL)
        nx_fail(&r, CQL_ERR_SERVER_ERROR, "%s", cqlmq_strerror(rc));
    rc = nx_write_error(&r);
    cql_arena_reset(&db->arena);
    if (rc != 0 || cql_wr_error(out)) {
        out->len = start;
        return CQLMQ_ENOMEM;
    }
    *out_opcode = CQL_OP_ERROR;
    return 0;
}
