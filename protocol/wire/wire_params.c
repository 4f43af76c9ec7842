/*
 * wire_params: binding a request's params to prepared bind markers (see
 * wire_params.h). While values are written the writer may move its buffer,
 * so each value's offset is parked in values[i].len and turned into a slice
 * only at the end.
 */
#include "wire_params.h"

#include <stdio.h>
#include <strings.h>

static void name_diag(wire_diag_t *d, int32_t i, const cql_meta_t *bind)
{
    if (d == NULL)
        return;
    char inner[WIRE_DIAG_MAX];
    memcpy(inner, d->msg, sizeof inner);
    const cql_str_t *n = &bind->cols[i].name;
    wire_diag_set(d, "parameter %d (%.*s): %s", (int)i, n->len > 40 ? 40 : (int)n->len, n->ptr, inner);
}

static bool same_name(mpk_str_t key, cql_str_t name, bool fold)
{
    if (key.len != name.len)
        return false;
    return fold ? strncasecmp(key.ptr, name.ptr, key.len) == 0 : memcmp(key.ptr, name.ptr, key.len) == 0;
}

/* Finds the value of marker i in the map at m (positioned on its header):
 * positions *r on the value and returns true, or false if absent. */
static bool find_named(const mpk_rd_t *m, uint32_t count, cql_str_t name, mpk_rd_t *r)
{
    for (int fold = 0; fold < 2; fold++) {
        mpk_rd_t s = *m;
        for (uint32_t k = 0; k < count; k++) {
            mpk_str_t key;
            bool is_str = mpk_rd_str(&s, &key) == 0;
            if (!is_str && mpk_rd_skip(&s) != 0)
                return false;
            if (is_str && same_name(key, name, fold)) {
                *r = s;
                return true;
            }
            if (mpk_rd_skip(&s) != 0)
                return false;
        }
    }
    return false;
}

/* Every key of the map must name a marker (exactly or ignoring case). */
static int check_names(const mpk_rd_t *m, uint32_t count, const cql_meta_t *bind, wire_diag_t *d)
{
    mpk_rd_t s = *m;
    for (uint32_t k = 0; k < count; k++) {
        mpk_str_t key;
        if (mpk_rd_str(&s, &key) != 0) {
            wire_diag_set(d, "params names must be strings");
            return CQLMQ_EBADTYPE;
        }
        bool known = false;
        for (int32_t i = 0; i < bind->ncols && !known; i++)
            known = same_name(key, bind->cols[i].name, true);
        if (!known) {
            wire_diag_set(d, "unknown parameter '%.*s'", key.len > 40 ? 40 : (int)key.len, key.ptr);
            return CQLMQ_EBADTYPE;
        }
        int rc = mpk_rd_skip(&s);
        if (rc != 0) {
            wire_diag_set(d, "malformed msgpack in params");
            return rc;
        }
    }
    return 0;
}

int wire_params_bind(cql_wr_t *w, const cql_meta_t *bind, mpk_raw_t params, cql_bytes_t *values,
                     wire_diag_t *d)
{
    size_t start = w->len;
    uint32_t count = 0;
    mpk_type_t t = MPK_NIL;
    mpk_rd_t r;
    int rc = 0;

    if (d != NULL)
        d->msg[0] = '\0';
    if (bind->ncols > 0 && bind->cols == NULL)
        return CQLMQ_EINVAL;
    mpk_rd_init(&r, params.ptr, params.len);
    if (params.len > 0 && (rc = mpk_rd_peek(&r, &t)) != 0) {
        wire_diag_set(d, "malformed msgpack in params");
        return rc;
    }
    if (t == MPK_NIL) {
        if (bind->ncols > 0) {
            wire_diag_set(d, "the statement has %d parameters, none given", (int)bind->ncols);
            return CQLMQ_EBADTYPE;
        }
        return 0;
    }
    if (t == MPK_ARRAY) {
        mpk_rd_array(&r, &count);
        if (count != (uint32_t)bind->ncols) {
            wire_diag_set(d, "the statement has %d parameters, %u given", (int)bind->ncols,
                          (unsigned)count);
            return CQLMQ_EBADTYPE;
        }
    } else if (t == MPK_MAP) {
        mpk_rd_map(&r, &count);
        if ((rc = check_names(&r, count, bind, d)) != 0)
            return rc;
    } else {
        wire_diag_set(d, "params must be an array or a map");
        return CQLMQ_EBADTYPE;
    }

    for (int32_t i = 0; i < bind->ncols; i++) {
        size_t off = w->len;
        if (t == MPK_MAP) {
            mpk_rd_t v;
            if (!find_named(&r, count, bind->cols[i].name, &v)) {
                cql_wr_i32(w, CQL_BYTES_NOT_SET);
            } else if ((rc = wire_value_from_mpk(w, bind->cols[i].type, &v, d)) != 0) {
                name_diag(d, i, bind);
                break;
            }
        } else if ((rc = wire_value_from_mpk(w, bind->cols[i].type, &r, d)) != 0) {
            name_diag(d, i, bind);
            break;
        }
        if (off - start > INT32_MAX) {
            wire_diag_set(d, "params larger than 2 GB");
            rc = CQLMQ_ERANGE;
            break;
        }
        values[i].ptr = NULL;
        values[i].len = (int32_t)(off - start); /* offset for now */
    }
    if (rc == 0 && w->err)
        rc = w->err;
    if (rc != 0) {
        if (!w->err)
            w->len = start;
        return rc;
    }
    for (int32_t i = 0; i < bind->ncols; i++) {
        const uint8_t *p = w->data + start + (size_t)values[i].len;
        int32_t len = (int32_t)cql_load_u32(p);
        values[i].len = len;
        values[i].ptr = len >= 0 ? p + 4 : NULL;
    }
    return 0;
}
