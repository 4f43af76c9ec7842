/*
 * wire_req: decoding and validating client requests (see wire_msg.h).
 *
 * Three steps over the untrusted frame:
 *   1. head: the frame is one map and nothing after it; find `op` and `id`.
 *   2. schema: the op's MPK_SCHEMA decodes the map into out->u. When it
 *      fails, diagnose() walks the map again with the same field table to
 *      name the field at fault (the schema engine reports only a code).
 *   3. contract: bounds, names and cross-field rules; resolved values go
 *      into the wire_req_t fields the gateway reads.
 */
#include "wire_msg.h"

#include <ctype.h>
#include <stdio.h>

static const char *const op_names[WIRE_OP_COUNT_] = {
    [WIRE_OP_NONE_] = NULL,
#define WIRE_OP_NAME_(NAME, name, FIELDS) [WIRE_OP_##NAME] = #name,
    WIRE_REQUEST_MAP(WIRE_OP_NAME_)
#undef WIRE_OP_NAME_
};

const char *wire_op_name(int op)
{
    return op > WIRE_OP_NONE_ && op < WIRE_OP_COUNT_ ? op_names[op] : NULL;
}

int wire_op_from_name(const char *s, size_t len)
{
    for (int i = WIRE_OP_NONE_ + 1; i < WIRE_OP_COUNT_; i++)
        if (strlen(op_names[i]) == len && memcmp(op_names[i], s, len) == 0)
            return i;
    return CQLMQ_EBADOPCODE;
}

/* ---- step 1: head ----------------------------------------------------- */

static int clip(uint32_t len) { return len > 40 ? 40 : (int)len; }

int wire_peek_head(const void *frame, size_t len, mpk_str_t *op, uint64_t *id)
{
    mpk_rd_t r;
    uint32_t n;
    bool have_op = false, have_id = false;
    int rc;
    mpk_rd_init(&r, frame, len);
    if ((rc = mpk_rd_map(&r, &n)) != 0)
        return rc == CQLMQ_EBADTYPE ? CQLMQ_EMALFORMED : rc;
    for (uint32_t i = 0; i < n; i++) {
        mpk_str_t key;
        if (mpk_rd_str(&r, &key) != 0) {
            if ((rc = mpk_rd_skip(&r)) != 0 || (rc = mpk_rd_skip(&r)) != 0)
                return rc;
            continue;
        }
        if (mpk_str_eq(key, "op") && !have_op) {
            if ((rc = mpk_rd_str(&r, op)) != 0)
                return rc;
            have_op = true;
        } else if (mpk_str_eq(key, "id") && !have_id) {
            if ((rc = mpk_rd_uint(&r, id)) != 0)
                return rc;
            have_id = true;
        } else if ((rc = mpk_rd_skip(&r)) != 0) {
            return rc;
        }
    }
    return have_op && have_id ? 0 : CQLMQ_EMALFORMED;
}

static int decode_head(mpk_rd_t *r, wire_req_t *out, wire_diag_t *d)
{
    mpk_rd_t scan = *r;
    mpk_str_t op = {NULL, 0};
    uint32_t n;
    int rc, id_rc = CQLMQ_EMALFORMED;
    bool have_op = false;
    uint64_t id = 0;

    if ((rc = mpk_rd_map(&scan, &n)) != 0) {
        wire_diag_set(d, rc == CQLMQ_EBADTYPE ? "a request must be a msgpack map"
                                              : "malformed msgpack");
        return rc == CQLMQ_EBADTYPE ? CQLMQ_EMALFORMED : rc;
    }
    for (uint32_t i = 0; i < n; i++) {
        mpk_str_t key;
        int krc = mpk_rd_str(&scan, &key);
        if (krc == 0 && mpk_str_eq(key, "op") && !have_op) {
            if ((rc = mpk_rd_str(&scan, &op)) != 0) {
                wire_diag_set(d, "field 'op' must be a string");
                return rc;
            }
            have_op = true;
            continue;
        }
        if (krc == 0 && mpk_str_eq(key, "id") && id_rc == CQLMQ_EMALFORMED) {
            mpk_rd_t v = scan;
            id_rc = mpk_rd_uint(&v, &id);
            if (id_rc == 0 && (id == 0 || id > WIRE_ID_MAX))
                id_rc = CQLMQ_ERANGE;
        }
        if ((krc != 0 && (rc = mpk_rd_skip(&scan)) != 0) || (rc = mpk_rd_skip(&scan)) != 0) {
            wire_diag_set(d, "malformed msgpack");
            return rc;
        }
    }
    if (!mpk_rd_done(&scan)) {
        wire_diag_set(d, "bytes after the end of the message map");
        return CQLMQ_ETRAILING;
    }
    if (id_rc == 0)
        out->id = id;
    if (!have_op) {
        wire_diag_set(d, "missing field 'op'");
        return CQLMQ_EMALFORMED;
    }
    if ((rc = wire_op_from_name(op.ptr, op.len)) < 0) {
        wire_diag_set(d, "unknown op '%.*s'", clip(op.len), op.ptr);
        return rc;
    }
    out->op = (wire_op_t)rc;
    switch (id_rc) {
    case 0: return 0;
    case CQLMQ_EMALFORMED: wire_diag_set(d, "missing field 'id'"); return id_rc;
    case CQLMQ_ERANGE: wire_diag_set(d, "field 'id' must be between 1 and 2^53-1"); return id_rc;
    default: wire_diag_set(d, "field 'id' must be an unsigned integer"); return CQLMQ_EBADTYPE;
    }
}

/* ---- step 2: schema, and the diagnosis of its failures ----------------- */

static const char *kind_desc(mpk_kind_t k)
{
    switch (k) {
    case MPK_K_BOOL: return "a boolean";
    case MPK_K_INT:
    case MPK_K_I32: return "an integer";
    case MPK_K_UINT:
    case MPK_K_U32: return "an unsigned integer";
    case MPK_K_F64: return "a number";
    case MPK_K_STR: return "a string";
    case MPK_K_BIN: return "a binary";
    case MPK_K_EXT: return "an extension";
    case MPK_K_RAW: return "a value";
    }
    return "?";
}

static int check_kind(mpk_rd_t *r, mpk_kind_t k)
{
    union {
        bool b;
        int64_t i;
        uint64_t u;
        int32_t i32;
        uint32_t u32;
        double f;
        mpk_str_t s;
        mpk_bin_t bin;
        mpk_ext_t e;
    } v;
    switch (k) {
    case MPK_K_BOOL: return mpk_rd_bool(r, &v.b);
    case MPK_K_INT: return mpk_rd_int(r, &v.i);
    case MPK_K_UINT: return mpk_rd_uint(r, &v.u);
    case MPK_K_I32: return mpk_rd_i32(r, &v.i32);
    case MPK_K_U32: return mpk_rd_u32(r, &v.u32);
    case MPK_K_F64: return mpk_rd_f64(r, &v.f);
    case MPK_K_STR: return mpk_rd_str(r, &v.s);
    case MPK_K_BIN: return mpk_rd_bin(r, &v.bin);
    case MPK_K_EXT: return mpk_rd_ext(r, &v.e);
    case MPK_K_RAW: return mpk_rd_skip(r);
    }
    return CQLMQ_EBADTYPE;
}

/* Re-walks the map the schema refused and says which field is at fault;
 * returns the code to report (the schema's rc when nothing better). `what`
 * prefixes field names ("statements[2]."). */
static int diagnose(mpk_rd_t r, const mpk_schema_t *s, int rc, const char *what, wire_diag_t *d)
{
    uint32_t n;
    uint64_t seen = 0;
    if (mpk_rd_map(&r, &n) != 0) {
        wire_diag_set(d, "%s must be a map", *what ? what : "a request");
        return CQLMQ_EBADTYPE;
    }
    for (uint32_t i = 0; i < n; i++) {
        mpk_str_t key;
        int idx = -1;
        if (mpk_rd_str(&r, &key) == 0) {
            for (uint32_t f = 0; f < s->nfields; f++)
                if (s->fields[f].name_len == key.len && memcmp(s->fields[f].name, key.ptr, key.len) == 0)
                    idx = (int)f;
        } else if (mpk_rd_skip(&r) != 0) {
            break;
        }
        if (idx < 0) {
            if (mpk_rd_skip(&r) != 0)
                break;
            continue;
        }
        const mpk_field_t *f = &s->fields[idx];
        if (seen >> idx & 1) {
            wire_diag_set(d, "field '%s%s' given twice", what, f->name);
            return CQLMQ_EMALFORMED;
        }
        seen |= (uint64_t)1 << idx;
        if (f->kind != MPK_K_RAW && mpk_rd_try_nil(&r)) {
            if (f->required) {
                wire_diag_set(d, "field '%s%s' must not be nil", what, f->name);
                return CQLMQ_EMALFORMED;
            }
            seen &= ~((uint64_t)1 << idx);
            continue;
        }
        int frc = check_kind(&r, (mpk_kind_t)f->kind);
        if (frc == CQLMQ_EBADTYPE || frc == CQLMQ_ERANGE) {
            bool narrow = f->kind == MPK_K_I32 || f->kind == MPK_K_U32;
            wire_diag_set(d, "field '%s%s' must be %s%s", what, f->name, kind_desc((mpk_kind_t)f->kind),
                          narrow ? " of 32 bits" : "");
            return frc;
        }
        if (frc != 0) {
            wire_diag_set(d, "field '%s%s': malformed msgpack", what, f->name);
            return frc;
        }
    }
    for (uint32_t f = 0; f < s->nfields; f++)
        if (s->fields[f].required && !(seen >> f & 1)) {
            wire_diag_set(d, "missing field '%s%s'", what, s->fields[f].name);
            return CQLMQ_EMALFORMED;
        }
    wire_diag_set(d, "malformed message");
    return rc;
}

static const mpk_schema_t *req_schema(wire_op_t op)
{
    switch (op) {
#define WIRE_REQ_SCHEMA_CASE_(NAME, name, FIELDS) \
    case WIRE_OP_##NAME: return wire_##name##_req_schema();
        WIRE_REQUEST_MAP(WIRE_REQ_SCHEMA_CASE_)
#undef WIRE_REQ_SCHEMA_CASE_
    default: return NULL;
    }
}

/* ---- step 3: the contract --------------------------------------------- */

/* Present bit of a named field in the op's schema struct. */
#define HAS(req, name, field) MPK_HAS(&(req)->u.name, wire_##name##_req, field)

static int field_range(wire_diag_t *d, const char *field, uint64_t lo, uint64_t hi)
{
    wire_diag_set(d, "field '%s' must be between %llu and %llu", field, (unsigned long long)lo,
                  (unsigned long long)hi);
    return CQLMQ_ERANGE;
}

static int check_keyspace(mpk_str_t ks, wire_diag_t *d)
{
    bool ok = ks.len >= 1 && ks.len <= WIRE_MAX_KEYSPACE;
    for (uint32_t i = 0; ok && i < ks.len; i++)
        ok = isalnum((unsigned char)ks.ptr[i]) || ks.ptr[i] == '_';
    if (!ok) {
        wire_diag_set(d, "field 'keyspace': '%.*s' is not a keyspace name", clip(ks.len), ks.ptr);
        return CQLMQ_EINVAL;
    }
    return 0;
}

/* The common options, from the fields named alike in query, execute and
 * batch (passed as pointers into the op's struct). */
typedef struct opts_in {
    bool has_ks, has_cl, has_serial, has_timeout, has_ts, has_idem;
    mpk_str_t ks, cl, serial;
    uint64_t timeout;
    int64_t ts;
    bool idem;
} opts_in_t;

#define OPTS_IN(req, name)                                                                  \
    ((opts_in_t){HAS(req, name, keyspace), HAS(req, name, consistency),                     \
                 HAS(req, name, serial_consistency), HAS(req, name, timeout_ms),            \
                 HAS(req, name, timestamp), HAS(req, name, idempotent), (req)->u.name.keyspace, \
                 (req)->u.name.consistency, (req)->u.name.serial_consistency,               \
                 (req)->u.name.timeout_ms, (req)->u.name.timestamp, (req)->u.name.idempotent})

static int resolve_opts(wire_req_t *q, const opts_in_t *o, const wire_limits_t *lim, wire_diag_t *d)
{
    int rc;
    q->consistency = CQL_CL_LOCAL_ONE;
    q->serial_consistency = CQL_CL_SERIAL;
    q->timeout_ms = (uint32_t)(lim->default_timeout_ms > UINT32_MAX ? UINT32_MAX : lim->default_timeout_ms);
    if (o->has_ks) {
        if ((rc = check_keyspace(o->ks, d)) != 0)
            return rc;
        q->keyspace = o->ks;
    }
    if (o->has_cl) {
        if ((rc = wire_consistency_parse(o->cl.ptr, o->cl.len)) < 0) {
            wire_diag_set(d, "field 'consistency': unknown consistency '%.*s'", clip(o->cl.len), o->cl.ptr);
            return CQLMQ_EINVAL;
        }
        q->consistency = (uint16_t)rc;
    }
    if (o->has_serial) {
        rc = wire_consistency_parse(o->serial.ptr, o->serial.len);
        if (rc != CQL_CL_SERIAL && rc != CQL_CL_LOCAL_SERIAL) {
            wire_diag_set(d, "field 'serial_consistency' must be 'serial' or 'local_serial'");
            return CQLMQ_EINVAL;
        }
        q->serial_consistency = (uint16_t)rc;
    }
    if (o->has_timeout) {
        uint64_t max = lim->max_timeout_ms > UINT32_MAX ? UINT32_MAX : lim->max_timeout_ms;
        if (o->timeout < 1 || o->timeout > max)
            return field_range(d, "timeout_ms", 1, max);
        q->timeout_ms = (uint32_t)o->timeout;
    }
    q->has_timestamp = o->has_ts;
    q->timestamp = o->ts;
    q->idempotent = o->has_idem && o->idem;
    return 0;
}

static int check_params(mpk_raw_t raw, mpk_raw_t *out, const char *field, wire_diag_t *d)
{
    mpk_rd_t r;
    mpk_type_t t;
    mpk_rd_init(&r, raw.ptr, raw.len);
    if (raw.len == 0 || mpk_rd_peek(&r, &t) != 0 || t == MPK_NIL)
        return 0; /* absent or nil */
    if (t != MPK_ARRAY && t != MPK_MAP) {
        wire_diag_set(d, "field '%s' must be an array or a map", field);
        return CQLMQ_EBADTYPE;
    }
    *out = raw;
    return 0;
}

typedef struct paging_in {
    bool has_page_size, has_paging_state, has_stream, has_credit, has_params;
    uint64_t page_size, credit;
    mpk_bin_t paging_state;
    bool stream;
    mpk_raw_t params;
} paging_in_t;

#define PAGING_IN(req, name)                                                                    \
    ((paging_in_t){HAS(req, name, page_size), HAS(req, name, paging_state), HAS(req, name, stream), \
                   HAS(req, name, credit), HAS(req, name, params), (req)->u.name.page_size,         \
                   (req)->u.name.credit, (req)->u.name.paging_state, (req)->u.name.stream,          \
                   (req)->u.name.params})

static int resolve_paging(wire_req_t *q, const paging_in_t *p, const wire_limits_t *lim, wire_diag_t *d)
{
    int rc;
    q->page_size = (uint32_t)(lim->default_page_size > INT32_MAX ? INT32_MAX : lim->default_page_size);
    if (q->page_size == 0)
        q->page_size = 1;
    if (p->has_page_size) {
        if (p->page_size < 1 || p->page_size > INT32_MAX)
            return field_range(d, "page_size", 1, INT32_MAX);
        q->page_size = (uint32_t)p->page_size;
    }
    if (p->has_paging_state)
        q->paging_state = p->paging_state;
    q->stream = p->has_stream && p->stream;
    uint64_t max_credit = lim->max_credit > UINT32_MAX ? UINT32_MAX : lim->max_credit;
    q->credit = q->stream ? (uint32_t)(WIRE_DEFAULT_CREDIT < max_credit ? WIRE_DEFAULT_CREDIT : max_credit) : 0;
    if (p->has_credit) {
        if (p->credit > max_credit)
            return field_range(d, "credit", 0, max_credit);
        if (q->stream)
            q->credit = (uint32_t)p->credit;
    }
    if (p->has_params && (rc = check_params(p->params, &q->params, "params", d)) != 0)
        return rc;
    return 0;
}

static int resolve_batch(wire_req_t *q, wire_diag_t *d)
{
    const wire_batch_req_t *b = &q->u.batch;
    static const char *const kinds[] = {"logged", "unlogged", "counter"};
    int kind = -1;
    for (int i = 0; i < 3; i++)
        if (mpk_str_eq(b->kind, kinds[i]))
            kind = i;
    if (kind < 0) {
        wire_diag_set(d, "field 'kind' must be 'logged', 'unlogged' or 'counter'");
        return CQLMQ_EINVAL;
    }
    q->batch_kind = (uint8_t)kind; /* CQL_BATCH_LOGGED, UNLOGGED, COUNTER in order */

    mpk_rd_t r;
    uint32_t n;
    mpk_rd_init(&r, b->statements.ptr, b->statements.len);
    if (mpk_rd_array(&r, &n) != 0) {
        wire_diag_set(d, "field 'statements' must be an array");
        return CQLMQ_EBADTYPE;
    }
    if (n < 1 || n > WIRE_MAX_BATCH_STATEMENTS) {
        wire_diag_set(d, "field 'statements' must hold 1 to %d statements", WIRE_MAX_BATCH_STATEMENTS);
        return n < 1 ? CQLMQ_EINVAL : CQLMQ_ERANGE;
    }
    for (uint32_t i = 0; i < n; i++) {
        char what[32];
        wire_batch_stmt_t st;
        mpk_rd_t at = r;
        snprintf(what, sizeof what, "statements[%u].", (unsigned)i);
        mpk_type_t t;
        int rc = mpk_rd_peek(&r, &t);
        if (rc == 0 && t != MPK_MAP) {
            wire_diag_set(d, "field 'statements[%u]' must be a map", (unsigned)i);
            return CQLMQ_EBADTYPE;
        }
        if (rc == 0)
            rc = wire_batch_stmt_decode(&r, &st);
        if (rc != 0)
            return diagnose(at, wire_batch_stmt_schema(), rc, what, d);
        bool has_cql = MPK_HAS(&st, wire_batch_stmt, cql), has_handle = MPK_HAS(&st, wire_batch_stmt, handle);
        if (has_cql == has_handle) {
            wire_diag_set(d, "statements[%u] needs exactly one of 'cql' and 'handle'", (unsigned)i);
            return CQLMQ_EMALFORMED;
        }
        if (has_cql && st.cql.len == 0) {
            wire_diag_set(d, "field 'statements[%u].cql' is empty", (unsigned)i);
            return CQLMQ_EINVAL;
        }
        mpk_raw_t params = {NULL, 0};
        if (MPK_HAS(&st, wire_batch_stmt, params)) {
            snprintf(what, sizeof what, "statements[%u].params", (unsigned)i);
            if ((rc = check_params(st.params, &params, what, d)) != 0)
                return rc;
        }
    }
    q->nstatements = n;
    return 0;
}

static int resolve(wire_req_t *q, const wire_limits_t *lim, wire_diag_t *d)
{
    int rc;
    opts_in_t o;
    paging_in_t p;
    switch (q->op) {
    case WIRE_OP_QUERY:
        o = OPTS_IN(q, query);
        p = PAGING_IN(q, query);
        q->cql = q->u.query.cql;
        if (q->cql.len == 0) {
            wire_diag_set(d, "field 'cql' is empty");
            return CQLMQ_EINVAL;
        }
        if ((rc = resolve_opts(q, &o, lim, d)) != 0)
            return rc;
        return resolve_paging(q, &p, lim, d);
    case WIRE_OP_EXECUTE:
        o = OPTS_IN(q, execute);
        p = PAGING_IN(q, execute);
        q->handle = q->u.execute.handle;
        if (q->handle.len == 0) {
            wire_diag_set(d, "field 'handle' is empty");
            return CQLMQ_EINVAL;
        }
        if ((rc = resolve_opts(q, &o, lim, d)) != 0)
            return rc;
        return resolve_paging(q, &p, lim, d);
    case WIRE_OP_BATCH:
        o = OPTS_IN(q, batch);
        if ((rc = resolve_opts(q, &o, lim, d)) != 0)
            return rc;
        return resolve_batch(q, d);
    case WIRE_OP_PREPARE:
        q->cql = q->u.prepare.cql;
        if (q->cql.len == 0) {
            wire_diag_set(d, "field 'cql' is empty");
            return CQLMQ_EINVAL;
        }
        if (HAS(q, prepare, keyspace)) {
            if ((rc = check_keyspace(q->u.prepare.keyspace, d)) != 0)
                return rc;
            q->keyspace = q->u.prepare.keyspace;
        }
        return 0;
    case WIRE_OP_CREDIT: {
        uint64_t max = lim->max_credit > UINT32_MAX ? UINT32_MAX : lim->max_credit;
        if (q->u.credit.n < 1 || q->u.credit.n > max)
            return field_range(d, "n", 1, max);
        q->credit = (uint32_t)q->u.credit.n;
        return 0;
    }
    default: return 0; /* hello (version checked by the gateway), cancel, ping, stats */
    }
}

int wire_req_decode(const void *frame, size_t len, const wire_limits_t *lim, wire_req_t *out,
                    wire_diag_t *d)
{
    mpk_rd_t r;
    int rc;
    memset(out, 0, sizeof *out);
    if (d != NULL)
        d->msg[0] = '\0';
    mpk_rd_init(&r, frame, len);
    if ((rc = decode_head(&r, out, d)) != 0)
        return rc;

    const mpk_schema_t *s = req_schema(out->op);
    mpk_rd_t at = r;
    if ((rc = mpk_schema_decode(&r, s, &out->u)) != 0)
        return diagnose(at, s, rc, "", d);
    return resolve(out, lim, d);
}

/* ---- batch statements ------------------------------------------------- */

void wire_batch_iter_init(wire_batch_iter_t *it, const wire_req_t *req)
{
    uint32_t n = 0;
    mpk_rd_init(&it->r, req->u.batch.statements.ptr, req->u.batch.statements.len);
    if (req->op != WIRE_OP_BATCH || mpk_rd_array(&it->r, &n) != 0)
        n = 0;
    it->left = n;
}

int wire_batch_next(wire_batch_iter_t *it, wire_batch_stmt_t *out)
{
    if (it->left == 0)
        return 0;
    int rc = wire_batch_stmt_decode(&it->r, out);
    if (rc != 0)
        return rc;
    it->left--;
    if (MPK_HAS(out, wire_batch_stmt, params) && out->params.len == 1 && out->params.ptr[0] == 0xc0)
        out->present &= ~((uint64_t)1 << wire_batch_stmt_F_params);
    return 1;
}
