/*
 * wire_reply: the reply encoders of the client contract (see wire_msg.h).
 *
 * Each reply's small fields go through its MPK_SCHEMA encoder; the bulky
 * ones (rows, columns, udts, params, limits, details, warnings) are then appended
 * to the same map with map_add(), which bumps the count in the map's
 * header. The schema encoder writes a fixmap (one header byte) for every
 * reply here, since none has more than 15 fields: the bump is one byte.
 */
#include <string.h>

#include "wire_msg.h"

#include <assert.h>

/* Appends key to the fixmap whose header is at w->data[at]; the caller
 * writes the value next. */
static void map_add(mpk_wr_t *w, size_t at, const char *key)
{
    if (w->err)
        return;
    assert(at < w->len && (w->data[at] & 0xf0) == 0x80 && (w->data[at] & 0x0f) < 15);
    w->data[at]++;
    mpk_wr_cstr(w, key);
}

/* Ends a reply: the writer's error, or rc after undoing the reply. */
static int finish(mpk_wr_t *w, size_t start, int rc)
{
    if (w->err)
        return w->err;
    if (rc != 0)
        mpk_wr_truncate(w, start);
    return rc;
}

static void put_warnings(mpk_wr_t *w, size_t at, const cql_string_list_t *warnings)
{
    if (warnings == NULL || warnings->n == 0)
        return;
    map_add(w, at, "warnings");
    mpk_wr_array(w, warnings->n);
    for (uint16_t i = 0; i < warnings->n; i++)
        mpk_wr_str(w, warnings->items[i].ptr, warnings->items[i].len);
}

/* The op and id every reply starts with. */
#define HEAD(m, opname, id_)           \
    do {                               \
        (m).op = mpk_cstr(opname);     \
        (m).id = (id_);                \
    } while (0)

int wire_reply_hello(mpk_wr_t *w, uint64_t id, const char *server, mpk_str_t session,
                     const wire_limits_t *limits)
{
    size_t start = w->len;
    wire_hello_rep_t m = {0};
    HEAD(m, "hello", id);
    m.protocol = WIRE_PROTOCOL_VERSION;
    m.server = mpk_cstr(server);
    m.session = session;
    wire_hello_rep_encode(w, &m);
    map_add(w, start, "limits");
    wire_limits_encode(w, limits);
    return finish(w, start, 0);
}

int wire_reply_pong(mpk_wr_t *w, uint64_t id)
{
    wire_pong_rep_t m = {0};
    HEAD(m, "pong", id);
    return wire_pong_rep_encode(w, &m);
}

int wire_reply_done(mpk_wr_t *w, uint64_t id, uint64_t pages, uint64_t rows)
{
    wire_done_rep_t m = {0};
    HEAD(m, "done", id);
    m.pages = pages;
    m.rows = rows;
    return wire_done_rep_encode(w, &m);
}

static int result_simple(mpk_wr_t *w, wire_result_rep_t *m, const cql_string_list_t *warnings)
{
    size_t start = w->len;
    wire_result_rep_encode(w, m);
    put_warnings(w, start, warnings);
    return finish(w, start, 0);
}

int wire_reply_void(mpk_wr_t *w, uint64_t id, const cql_string_list_t *warnings)
{
    wire_result_rep_t m = {0};
    HEAD(m, "result", id);
    m.kind = mpk_cstr("void");
    return result_simple(w, &m, warnings);
}

int wire_reply_set_keyspace(mpk_wr_t *w, uint64_t id, cql_str_t keyspace,
                            const cql_string_list_t *warnings)
{
    wire_result_rep_t m = {0};
    HEAD(m, "result", id);
    m.kind = mpk_cstr("set_keyspace");
    m.keyspace = (mpk_str_t){keyspace.ptr, (uint32_t)keyspace.len};
    MPK_SET(&m, wire_result_rep, keyspace);
    return result_simple(w, &m, warnings);
}

int wire_reply_schema_change(mpk_wr_t *w, uint64_t id, const cql_schema_change_t *sc,
                             const cql_string_list_t *warnings)
{
    const char *change = cql_schema_change_name((int)sc->change);
    const char *target = cql_schema_target_name((int)sc->target);
    if (change == NULL || target == NULL)
        return CQLMQ_EINVAL;
    wire_result_rep_t m = {0};
    HEAD(m, "result", id);
    m.kind = mpk_cstr("schema_change");
    m.change = mpk_cstr(change);
    m.target = mpk_cstr(target);
    m.keyspace = (mpk_str_t){sc->keyspace.ptr, (uint32_t)sc->keyspace.len};
    MPK_SET(&m, wire_result_rep, change);
    MPK_SET(&m, wire_result_rep, target);
    MPK_SET(&m, wire_result_rep, keyspace);
    if (sc->target != CQL_TARGET_KEYSPACE) {
        m.name = (mpk_str_t){sc->name.ptr, (uint32_t)sc->name.len};
        MPK_SET(&m, wire_result_rep, name);
    }
    return result_simple(w, &m, warnings);
}

int wire_reply_prepared(mpk_wr_t *w, uint64_t id, mpk_bin_t handle, const cql_meta_t *bind,
                        const cql_meta_t *result)
{
    static const cql_meta_t none = {0};
    size_t start = w->len;
    int rc;
    if (bind->cols == NULL && bind->ncols > 0)
        return CQLMQ_EINVAL;
    if (result == NULL || result->cols == NULL)
        result = &none;
    wire_prepared_rep_t m = {0};
    HEAD(m, "prepared", id);
    m.handle = handle;
    wire_prepared_rep_encode(w, &m);
    map_add(w, start, "params");
    if ((rc = wire_columns_write(w, bind)) == 0) {
        map_add(w, start, "columns");
        rc = wire_columns_write(w, result);
    }
    if (rc == 0 && (wire_meta_has_udt(bind) || wire_meta_has_udt(result))) {
        const cql_meta_t *metas[2] = {bind, result};
        map_add(w, start, "udts");
        rc = wire_udts_write(w, metas, 2);
    }
    return finish(w, start, rc);
}

/* The shared body of result (kind rows) and page: fields, then columns,
 * rows, and paging_state when this reply ends the iterator. */
static int rows_reply(mpk_wr_t *w, size_t start, const wire_rows_reply_t *rr, cql_rows_iter_t *it,
                      uint32_t *nrows)
{
    int rc = 0;
    *nrows = 0;
    if (rr->columns != NULL) {
        map_add(w, start, "columns");
        if ((rc = wire_columns_write(w, rr->columns)) != 0)
            return finish(w, start, rc);
        if (wire_meta_has_udt(rr->columns)) {
            map_add(w, start, "udts");
            if ((rc = wire_udts_write(w, &rr->columns, 1)) != 0)
                return finish(w, start, rc);
        }
    }
    map_add(w, start, "rows");
    if ((rc = wire_rows_write(w, it, rr->types, &rr->cap, nrows)) != 0)
        return finish(w, start, rc);
    if (it->left == 0 && rr->paging_state.len >= 0) {
        map_add(w, start, "paging_state");
        mpk_wr_bin(w, rr->paging_state.ptr, (size_t)rr->paging_state.len);
    }
    return finish(w, start, 0);
}

int wire_reply_rows(mpk_wr_t *w, const wire_rows_reply_t *rr, cql_rows_iter_t *it, uint32_t *nrows)
{
    size_t start = w->len;
    wire_result_rep_t m = {0};
    HEAD(m, "result", rr->id);
    m.kind = mpk_cstr("rows");
    wire_result_rep_encode(w, &m);
    put_warnings(w, start, rr->warnings);
    return rows_reply(w, start, rr, it, nrows);
}

int wire_reply_page(mpk_wr_t *w, const wire_rows_reply_t *rr, cql_rows_iter_t *it, uint32_t *nrows)
{
    size_t start = w->len;
    wire_page_rep_t m = {0};
    HEAD(m, "page", rr->id);
    m.seq = rr->seq;
    wire_page_rep_encode(w, &m);
    return rows_reply(w, start, rr, it, nrows);
}

/* ---- errors ----------------------------------------------------------- */

static void error_head(mpk_wr_t *w, uint64_t id, wire_error_t code, mpk_str_t message, int32_t cql)
{
    wire_error_rep_t m = {0};
    HEAD(m, "error", id);
    m.code = mpk_cstr(wire_error_name(code));
    m.message = message;
    if (cql >= 0) {
        m.cql_code = cql;
        MPK_SET(&m, wire_error_rep, cql_code);
    }
    wire_error_rep_encode(w, &m);
}

int wire_reply_error(mpk_wr_t *w, uint64_t id, wire_error_t code, const char *message)
{
    if (wire_error_name((int)code) == NULL)
        return CQLMQ_EINVAL;
    error_head(w, id, code, mpk_cstr(message != NULL ? message : wire_error_name((int)code)), -1);
    return w->err;
}

int wire_reply_unsupported_version(mpk_wr_t *w, uint64_t id)
{
    size_t start = w->len;
    error_head(w, id, WIRE_ERR_UNSUPPORTED_VERSION, mpk_cstr("unsupported protocol version"), -1);
    map_add(w, start, "details");
    size_t dat = w->len;
    wire_error_details_t det = {0};
    wire_error_details_encode(w, &det);
    map_add(w, dat, "supported");
    mpk_wr_array(w, 1);
    mpk_wr_uint(w, WIRE_PROTOCOL_VERSION);
    return finish(w, start, 0);
}

static mpk_str_t mstr(cql_str_t s) { return (mpk_str_t){s.ptr, (uint32_t)s.len}; }

/* The details e carries, as the schema struct (arg_types, a list, is not in
 * it). Strings borrow from e and from clbuf. */
static void details_of(const cql_msg_error_t *e, wire_error_details_t *det,
                       char clbuf[WIRE_CONSISTENCY_NAME_MAX])
{
    unsigned ef = cql_error_code_fields(e->code);
    memset(det, 0, sizeof *det);
    if (ef & CQL_EF_CL) {
        const char *cl = wire_consistency_name(e->consistency, clbuf);
        if (cl != NULL) {
            det->consistency = mpk_cstr(cl);
            MPK_SET(det, wire_error_details, consistency);
        }
    }
#define DETAIL_(flag, field, src)                      \
    if (ef & (flag)) {                                 \
        det->field = (src);                            \
        MPK_SET(det, wire_error_details, field);       \
    }
    DETAIL_(CQL_EF_REQUIRED, required, e->required)
    DETAIL_(CQL_EF_ALIVE, alive, e->alive)
    DETAIL_(CQL_EF_RECEIVED, received, e->received)
    DETAIL_(CQL_EF_BLOCKFOR, block_for, e->blockfor)
    DETAIL_(CQL_EF_NUMFAILURES, num_failures, e->num_failures)
    DETAIL_(CQL_EF_DATA_PRESENT, data_present, e->data_present)
    DETAIL_(CQL_EF_WRITE_TYPE, write_type, mstr(e->write_type))
    DETAIL_(CQL_EF_KEYSPACE, keyspace, mstr(e->keyspace))
#undef DETAIL_
    if ((ef & CQL_EF_NAME) && e->name.len > 0) {
        if (e->code == CQL_ERR_FUNCTION_FAILURE) {
            det->function = mstr(e->name);
            MPK_SET(det, wire_error_details, function);
        } else {
            det->table = mstr(e->name);
            MPK_SET(det, wire_error_details, table);
        }
    }
    if ((ef & CQL_EF_ID) && e->id.len >= 0) {
        det->statement_id = (mpk_bin_t){e->id.ptr, (uint32_t)e->id.len};
        MPK_SET(det, wire_error_details, statement_id);
    }
}

uint32_t wire_error_details_write(mpk_wr_t *w, const cql_msg_error_t *e)
{
    char clbuf[WIRE_CONSISTENCY_NAME_MAX];
    wire_error_details_t det;
    details_of(e, &det, clbuf);
    size_t at = w->len;
    wire_error_details_encode(w, &det);
    uint32_t n = (uint32_t)__builtin_popcountll(det.present);
    if (cql_error_code_fields(e->code) & CQL_EF_ARG_TYPES) {
        map_add(w, at, "arg_types");
        mpk_wr_array(w, e->arg_types.n);
        for (uint16_t i = 0; i < e->arg_types.n; i++)
            mpk_wr_str(w, e->arg_types.items[i].ptr, e->arg_types.items[i].len);
        n++;
    }
    return n;
}

int wire_reply_cql_error(mpk_wr_t *w, uint64_t id, const cql_msg_error_t *e)
{
    size_t start = w->len;
    error_head(w, id, wire_error_from_cql(e->code), mstr(e->message), e->code);
    size_t key = w->len;
    map_add(w, start, "details");
    if (wire_error_details_write(w, e) == 0 && w->err == 0) {
        mpk_wr_truncate(w, key); /* no details: no key either */
        w->data[start]--;
    }
    return finish(w, start, 0);
}
