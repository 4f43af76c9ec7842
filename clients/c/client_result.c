/*
 * client_result: replies -> result objects. A result owns its reply message
 * and is validated once, when it is built: the reply's fields have the
 * contract's types (the wire schemas of wire_msg.h decode them), columns are
 * [[name, type], ...], and rows are arrays of exactly one value per column,
 * each a complete msgpack value within the nesting bound; the UDTs the
 * column types name take their fields from the reply's `udts` (a UDT value's
 * fields are then typed). Everything later
 * (rows, values, formatting) reads validated bytes, and still checks every
 * read, so a hostile reply is an error and never a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqlc_int.h"

/* ---- type strings ---------------------------------------------------- */

/* UDT names in type strings carry no fields: a field-less UDT node stands
 * for them (values of it are read as maps of field name -> value). */
static int udt_placeholder(void *ud, const char *keyspace, const char *name, cql_arena_t *a,
                           cql_type_t **out)
{
    (void)ud;
    cql_type_t *t = cql_arena_calloc(a, 1, sizeof *t);
    if (t == NULL)
        return CQLMQ_ENOMEM;
    t->kind = CQL_TYPE_UDT;
    t->keyspace = cql_arena_strndup(a, keyspace, strlen(keyspace));
    t->name = cql_arena_strndup(a, name, strlen(name));
    if (t->keyspace == NULL || t->name == NULL)
        return CQLMQ_ENOMEM;
    *out = t;
    return 0;
}

cql_type_t *cqlc_type_parse(const char *s, size_t n, cql_arena_t *a)
{
    cql_type_t *t = NULL;
    if (cql_type_parse(s, n, a, "", udt_placeholder, NULL, &t) != 0)
        return NULL;
    return t;
}

/* ---- UDTs from a reply's `udts` map ------------------------------------ */

/* Resolves UDT names met in type strings with the reply's `udts`
 * ({name: [[field, type], ...]}, docs/protocol.md section 6): each entry's
 * tree is built once (later uses share it), an entry met again while it is
 * being built (a UDT that contains itself: a hostile map) or nested deeper
 * than CQL_TYPE_MAX_DEPTH falls back to the field-less placeholder, and so
 * does a name the map lacks or an entry that does not parse. Work and
 * memory are linear in the map's size. Invariant: names, fields, trees and
 * state have n entries, in the cols arena. */
enum { UDT_NEW = 0, UDT_BUSY, UDT_DONE, UDT_BAD };
typedef struct udt_resolver {
    uint32_t n;          /* entries of the map */
    char **names;        /* each key as cql_type_parse names it (unquoted) */
    mpk_raw_t *fields;   /* each value: [[field, type], ...] */
    cql_type_t **trees;  /* built trees (UDT_DONE) */
    uint8_t *state;      /* UDT_* */
    int depth;           /* entries being built, nested */
} udt_resolver_t;

/* key as the type string parser passes it: "Quoted ""x""" unquoted and
 * unescaped, a plain name folded to lower case. NULL when out of memory. */
static char *udt_key_name(cql_arena_t *a, mpk_str_t k)
{
    char *out = cql_arena_strndup(a, k.ptr, k.len);
    if (out == NULL)
        return NULL;
    if (k.len >= 2 && k.ptr[0] == '"' && k.ptr[k.len - 1] == '"') {
        size_t o = 0;
        for (size_t i = 1; i + 1 < k.len; i++) {
            out[o++] = k.ptr[i];
            if (k.ptr[i] == '"' && k.ptr[i + 1] == '"' && i + 2 < k.len)
                i++;
        }
        out[o] = '\0';
    } else {
        for (char *c = out; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
    }
    return out;
}

/* Reads the map (a missing or broken one gives no entries: the types then
 * fall back to placeholders, as before `udts` existed). */
static int udt_resolver_init(udt_resolver_t *u, mpk_raw_t udts, cql_arena_t *a)
{
    mpk_rd_t r;
    uint32_t n;
    memset(u, 0, sizeof *u);
    if (udts.ptr == NULL || udts.len == 0)
        return 0;
    mpk_rd_init(&r, udts.ptr, udts.len);
    if (mpk_rd_map(&r, &n) != 0 || n == 0 || n > udts.len / 2)
        return 0; /* an entry takes 2 bytes at least */
    u->names = cql_arena_calloc(a, n, sizeof *u->names);
    u->fields = cql_arena_calloc(a, n, sizeof *u->fields);
    u->trees = cql_arena_calloc(a, n, sizeof *u->trees);
    u->state = cql_arena_calloc(a, n, sizeof *u->state);
    if (u->names == NULL || u->fields == NULL || u->trees == NULL || u->state == NULL)
        return CQLMQ_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        mpk_str_t k;
        mpk_raw_t v;
        bool is_str = mpk_rd_str(&r, &k) == 0;
        if ((!is_str && mpk_rd_skip(&r) != 0) || mpk_rd_raw(&r, &v) != 0)
            break;
        if (!is_str)
            continue;
        if ((u->names[u->n] = udt_key_name(a, k)) == NULL)
            return CQLMQ_ENOMEM;
        u->fields[u->n++] = v;
    }
    return 0;
}

static int udt_lookup(void *ud, const char *keyspace, const char *name, cql_arena_t *a,
                      cql_type_t **out);

/* Builds entry i's UDT node from its [[field, type], ...]. Returns 0,
 * CQLMQ_EBADTYPE (not that shape, or a type that does not parse) or
 * CQLMQ_ENOMEM. */
static int udt_build(udt_resolver_t *u, uint32_t i, const char *keyspace, const char *name,
                     cql_arena_t *a, cql_type_t **out)
{
    mpk_rd_t r;
    uint32_t n;
    int rc;
    mpk_rd_init(&r, u->fields[i].ptr, u->fields[i].len);
    if ((rc = mpk_rd_array(&r, &n)) != 0)
        return rc;
    if (n > u->fields[i].len / 3)
        return CQLMQ_EBADTYPE; /* a field takes 3 bytes at least */
    cql_type_t *t = cql_arena_calloc(a, 1, sizeof *t);
    if (t == NULL)
        return CQLMQ_ENOMEM;
    t->kind = CQL_TYPE_UDT;
    t->keyspace = cql_arena_strndup(a, keyspace, strlen(keyspace));
    t->name = cql_arena_strndup(a, name, strlen(name));
    t->nsub = n;
    t->sub = cql_arena_calloc(a, n ? n : 1, sizeof *t->sub);
    t->field_names = cql_arena_calloc(a, n ? n : 1, sizeof *t->field_names);
    if (t->keyspace == NULL || t->name == NULL || t->sub == NULL || t->field_names == NULL)
        return CQLMQ_ENOMEM;
    for (uint32_t f = 0; f < n; f++) {
        uint32_t m;
        mpk_str_t fname, ftype;
        if ((rc = mpk_rd_array(&r, &m)) != 0 || (m < 2 && (rc = CQLMQ_EBADTYPE) != 0) ||
            (rc = mpk_rd_str(&r, &fname)) != 0 || (rc = mpk_rd_str(&r, &ftype)) != 0)
            return rc;
        for (uint32_t k = 2; k < m; k++)
            if ((rc = mpk_rd_skip(&r)) != 0)
                return rc;
        if ((t->field_names[f] = cql_arena_strndup(a, fname.ptr, fname.len)) == NULL)
            return CQLMQ_ENOMEM;
        rc = cql_type_parse(ftype.ptr, ftype.len, a, keyspace, udt_lookup, u, &t->sub[f]);
        if (rc != 0)
            return rc == CQLMQ_ENOMEM ? rc : CQLMQ_EBADTYPE;
    }
    *out = t;
    return 0;
}

static int udt_lookup(void *ud, const char *keyspace, const char *name, cql_arena_t *a,
                      cql_type_t **out)
{
    udt_resolver_t *u = ud;
    for (uint32_t i = 0; i < u->n; i++) {
        if (strcmp(u->names[i], name) != 0)
            continue;
        if (u->state[i] == UDT_DONE) {
            *out = u->trees[i];
            return 0;
        }
        if (u->state[i] != UDT_NEW || u->depth >= CQL_TYPE_MAX_DEPTH)
            break;
        u->state[i] = UDT_BUSY;
        u->depth++;
        int rc = udt_build(u, i, keyspace, name, a, &u->trees[i]);
        u->depth--;
        if (rc == CQLMQ_ENOMEM)
            return rc;
        u->state[i] = rc == 0 ? UDT_DONE : UDT_BAD;
        if (rc == 0) {
            *out = u->trees[i];
            return 0;
        }
        break;
    }
    return udt_placeholder(NULL, keyspace, name, a, out);
}

/* ---- columns --------------------------------------------------------- */

cqlc_cols_t *cqlc_cols_ref(cqlc_cols_t *cols)
{
    if (cols != NULL)
        cols->refs++;
    return cols;
}

void cqlc_cols_unref(cqlc_cols_t **cp)
{
    cqlc_cols_t *cols = *cp;
    *cp = NULL;
    if (cols == NULL || --cols->refs > 0)
        return;
    cql_arena_close(&cols->arena);
    free(cols);
}

int cqlc_cols_parse(mpk_raw_t raw, mpk_raw_t udts, cqlc_cols_t **out)
{
    mpk_rd_t r;
    uint32_t n;
    int rc;
    udt_resolver_t res;
    *out = NULL;
    mpk_rd_init(&r, raw.ptr, raw.len);
    if ((rc = mpk_rd_array(&r, &n)) != 0)
        return rc;
    cqlc_cols_t *cols = calloc(1, sizeof *cols);
    if (cols == NULL)
        return CQLMQ_ENOMEM;
    cols->refs = 1;
    /* Bounded by the input: names and types are copies, trees O(length). */
    cql_arena_init(&cols->arena, 64 * (raw.len + udts.len) + 65536);
    if ((rc = udt_resolver_init(&res, udts, &cols->arena)) != 0)
        goto fail;
    cols->n = n;
    cols->names = cql_arena_calloc(&cols->arena, n + 1, sizeof(char *));
    cols->types = cql_arena_calloc(&cols->arena, n + 1, sizeof(char *));
    cols->trees = cql_arena_calloc(&cols->arena, n + 1, sizeof(cql_type_t *));
    if (cols->names == NULL || cols->types == NULL || cols->trees == NULL) {
        rc = CQLMQ_ENOMEM;
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t m;
        mpk_str_t name, type;
        if ((rc = mpk_rd_array(&r, &m)) != 0)
            goto fail;
        if (m < 2) {
            rc = CQLMQ_EBADTYPE;
            goto fail;
        }
        if ((rc = mpk_rd_str(&r, &name)) != 0 || (rc = mpk_rd_str(&r, &type)) != 0)
            goto fail;
        for (uint32_t k = 2; k < m; k++)
            if ((rc = mpk_rd_skip(&r)) != 0)
                goto fail;
        cols->names[i] = cql_arena_strndup(&cols->arena, name.ptr, name.len);
        cols->types[i] = cql_arena_strndup(&cols->arena, type.ptr, type.len);
        if (cols->names[i] == NULL || cols->types[i] == NULL) {
            rc = CQLMQ_ENOMEM;
            goto fail;
        }
        /* An unknown (newer) type string is no error, nor a type beyond
         * the arena's bound: values are self-describing enough to read and
         * print without it. UDTs get their fields from udts. */
        cols->trees[i] = NULL;
        if (cql_type_parse(type.ptr, type.len, &cols->arena, "", udt_lookup, &res,
                           &cols->trees[i]) != 0)
            cols->trees[i] = NULL;
    }
    *out = cols;
    return 0;
fail:
    cqlc_cols_unref(&cols);
    return rc;
}

/* ---- results --------------------------------------------------------- */

/* Checks rows: an array of arrays of ncols values. */
static int check_rows(cqlmq_result_t *res, mpk_raw_t raw, uint32_t ncols, char *why, size_t cap)
{
    mpk_rd_t r;
    uint32_t n;
    int rc;
    mpk_rd_init(&r, raw.ptr, raw.len);
    if ((rc = mpk_rd_array(&r, &n)) != 0) {
        snprintf(why, cap, "rows is not an array");
        return rc;
    }
    res->rows = r.p + r.pos;
    res->rows_len = mpk_rd_left(&r);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t m;
        if ((rc = mpk_rd_array(&r, &m)) != 0) {
            snprintf(why, cap, "row %u is not an array", i);
            return rc;
        }
        if (m != ncols) {
            snprintf(why, cap, "row %u has %u values for %u columns", i, m, ncols);
            return CQLMQ_EMALFORMED;
        }
        for (uint32_t k = 0; k < m; k++)
            if ((rc = mpk_rd_skip(&r)) != 0) {
                snprintf(why, cap, "row %u, column %u: %s", i, k, cqlmq_strerror(rc));
                return rc;
            }
    }
    res->nrows = n;
    return 0;
}

static int set_cols(cqlmq_result_t *res, bool has, mpk_raw_t raw, mpk_raw_t udts,
                    cqlc_cols_t **dst, const char *what, char *why, size_t cap)
{
    if (!has)
        return 0;
    int rc = cqlc_cols_parse(raw, udts, dst);
    if (rc != 0)
        snprintf(why, cap, "%s: %s", what, cqlmq_strerror(rc));
    (void)res;
    return rc;
}

static int build(cqlmq_result_t *res, mpk_str_t op, cqlc_cols_t *stream_cols, char *why,
                 size_t cap)
{
    mpk_rd_t r;
    int rc;
    bool has_rows = false;
    mpk_raw_t rows = {NULL, 0};
    mpk_rd_init(&r, zmq_msg_data(&res->msg), zmq_msg_size(&res->msg));
    snprintf(why, cap, "%s", "fields of the wrong type");
    if (mpk_str_eq(op, "result")) {
        wire_result_rep_t m;
        if ((rc = wire_result_rep_decode(&r, &m)) != 0)
            return rc;
        if (mpk_str_eq(m.kind, "rows"))
            res->kind = CQLMQ_RESULT_ROWS;
        else if (mpk_str_eq(m.kind, "void"))
            res->kind = CQLMQ_RESULT_VOID;
        else if (mpk_str_eq(m.kind, "set_keyspace"))
            res->kind = CQLMQ_RESULT_SET_KEYSPACE;
        else if (mpk_str_eq(m.kind, "schema_change"))
            res->kind = CQLMQ_RESULT_SCHEMA_CHANGE;
        else {
            snprintf(why, cap, "unknown result kind");
            return CQLMQ_EMALFORMED;
        }
        if (res->kind == CQLMQ_RESULT_ROWS && !MPK_HAS(&m, wire_result_rep, columns)) {
            snprintf(why, cap, "rows without columns");
            return CQLMQ_EMALFORMED;
        }
        mpk_raw_t udts = MPK_HAS(&m, wire_result_rep, udts) ? m.udts : (mpk_raw_t){NULL, 0};
        if ((rc = set_cols(res, MPK_HAS(&m, wire_result_rep, columns), m.columns, udts,
                           &res->cols, "columns", why, cap)) != 0)
            return rc;
        if (MPK_HAS(&m, wire_result_rep, paging_state))
            res->paging_state = m.paging_state;
        has_rows = MPK_HAS(&m, wire_result_rep, rows);
        rows = m.rows;
    } else if (mpk_str_eq(op, "page")) {
        wire_page_rep_t m;
        if ((rc = wire_page_rep_decode(&r, &m)) != 0)
            return rc;
        res->kind = CQLMQ_RESULT_ROWS;
        res->seq = m.seq;
        if (MPK_HAS(&m, wire_page_rep, columns)) {
            mpk_raw_t udts = MPK_HAS(&m, wire_page_rep, udts) ? m.udts : (mpk_raw_t){NULL, 0};
            if ((rc = set_cols(res, true, m.columns, udts, &res->cols, "columns", why, cap)) != 0)
                return rc;
        } else {
            res->cols = cqlc_cols_ref(stream_cols);
        }
        if (MPK_HAS(&m, wire_page_rep, paging_state))
            res->paging_state = m.paging_state;
        has_rows = MPK_HAS(&m, wire_page_rep, rows);
        rows = m.rows;
    } else if (mpk_str_eq(op, "done")) {
        wire_done_rep_t m;
        if ((rc = wire_done_rep_decode(&r, &m)) != 0)
            return rc;
        res->kind = CQLMQ_RESULT_ROWS;
    } else if (mpk_str_eq(op, "prepared")) {
        wire_prepared_rep_t m;
        if ((rc = wire_prepared_rep_decode(&r, &m)) != 0)
            return rc;
        res->kind = CQLMQ_RESULT_PREPARED;
        res->handle = m.handle;
        mpk_raw_t udts = MPK_HAS(&m, wire_prepared_rep, udts) ? m.udts : (mpk_raw_t){NULL, 0};
        if ((rc = set_cols(res, MPK_HAS(&m, wire_prepared_rep, params), m.params, udts,
                           &res->params, "params", why, cap)) != 0 ||
            (rc = set_cols(res, MPK_HAS(&m, wire_prepared_rep, columns), m.columns, udts,
                           &res->cols, "columns", why, cap)) != 0)
            return rc;
    } else if (mpk_str_eq(op, "pong")) {
        wire_pong_rep_t m;
        if ((rc = wire_pong_rep_decode(&r, &m)) != 0)
            return rc;
        res->kind = CQLMQ_RESULT_PONG;
    } else if (mpk_str_eq(op, "stats")) {
        wire_stats_rep_t m;
        if ((rc = wire_stats_rep_decode(&r, &m)) != 0)
            return rc;
        res->kind = CQLMQ_RESULT_STATS;
    } else if (mpk_str_eq(op, "hello")) {
        wire_hello_rep_t m;
        if ((rc = wire_hello_rep_decode(&r, &m)) != 0)
            return rc;
        res->kind = CQLMQ_RESULT_HELLO;
    } else {
        snprintf(why, cap, "unknown reply op");
        return CQLMQ_EBADOPCODE;
    }
    if (!mpk_rd_done(&r)) {
        snprintf(why, cap, "bytes after the reply");
        return CQLMQ_ETRAILING;
    }
    if (has_rows) {
        if (res->cols == NULL) {
            snprintf(why, cap, "rows without columns");
            return CQLMQ_EMALFORMED;
        }
        if ((rc = check_rows(res, rows, res->cols->n, why, cap)) != 0)
            return rc;
    }
    uint32_t ncols = res->cols ? res->cols->n : 0;
    res->off = calloc((size_t)ncols + 1, sizeof *res->off);
    if (res->off == NULL)
        return CQLMQ_ENOMEM;
    res->off_row = UINT32_MAX;
    snprintf(why, cap, "%s", "");
    return 0;
}

int cqlc_result_from_msg(zmq_msg_t *msg, mpk_str_t op, cqlc_cols_t *stream_cols,
                         cqlmq_result_t **out, char *why, size_t why_cap)
{
    *out = NULL;
    cqlmq_result_t *res = calloc(1, sizeof *res);
    char opbuf[16];
    if (res == NULL)
        return CQLMQ_ENOMEM;
    /* op borrows msg: copy it before the move (small messages live inside
     * the zmq_msg_t, so their bytes move with it). */
    size_t n = op.len < sizeof opbuf - 1 ? op.len : sizeof opbuf - 1;
    memcpy(opbuf, op.ptr, n);
    opbuf[n] = '\0';
    zmq_msg_init(&res->msg);
    zmq_msg_move(&res->msg, msg);
    int rc = build(res, mpk_cstr(opbuf), stream_cols, why, why_cap);
    if (rc != 0) {
        cqlmq_result_free(&res);
        return rc;
    }
    *out = res;
    return 0;
}

void cqlmq_result_free(cqlmq_result_t **rp)
{
    cqlmq_result_t *r = rp ? *rp : NULL;
    if (r == NULL)
        return;
    *rp = NULL;
    cqlc_cols_unref(&r->cols);
    cqlc_cols_unref(&r->params);
    free(r->off);
    zmq_msg_close(&r->msg);
    free(r);
}

cqlmq_result_kind_t cqlmq_result_kind(const cqlmq_result_t *r) { return r->kind; }

uint32_t cqlmq_result_column_count(const cqlmq_result_t *r) { return r->cols ? r->cols->n : 0; }

const char *cqlmq_result_column_name(const cqlmq_result_t *r, uint32_t i)
{
    return r->cols && i < r->cols->n ? r->cols->names[i] : NULL;
}
const char *cqlmq_result_column_type(const cqlmq_result_t *r, uint32_t i)
{
    return r->cols && i < r->cols->n ? r->cols->types[i] : NULL;
}
uint32_t cqlmq_result_param_count(const cqlmq_result_t *r) { return r->params ? r->params->n : 0; }
const char *cqlmq_result_param_name(const cqlmq_result_t *r, uint32_t i)
{
    return r->params && i < r->params->n ? r->params->names[i] : NULL;
}
const char *cqlmq_result_param_type(const cqlmq_result_t *r, uint32_t i)
{
    return r->params && i < r->params->n ? r->params->types[i] : NULL;
}
uint32_t cqlmq_result_row_count(const cqlmq_result_t *r) { return r->nrows; }

int cqlmq_result_paging_state(const cqlmq_result_t *r, const uint8_t **p, size_t *n)
{
    if (r->paging_state.ptr == NULL)
        return CQLMQ_ENOTFOUND;
    *p = r->paging_state.ptr;
    *n = r->paging_state.len;
    return 0;
}

int cqlmq_result_get(const cqlmq_result_t *r, const char *key, cqlmq_value_t *out)
{
    mpk_rd_t rd;
    uint32_t n;
    mpk_rd_init(&rd, zmq_msg_data((zmq_msg_t *)&r->msg), zmq_msg_size((zmq_msg_t *)&r->msg));
    if (mpk_rd_map(&rd, &n) != 0)
        return CQLMQ_ENOTFOUND;
    for (uint32_t i = 0; i < n; i++) {
        mpk_str_t k = {NULL, 0};
        bool is_str = mpk_rd_str(&rd, &k) == 0;
        if (!is_str && mpk_rd_skip(&rd) != 0)
            return CQLMQ_ENOTFOUND;
        bool match = is_str && mpk_str_eq(k, key);
        mpk_raw_t v;
        if (mpk_rd_raw(&rd, &v) != 0)
            return CQLMQ_ENOTFOUND;
        if (match) {
            out->ptr = v.ptr;
            out->len = v.len;
            out->type = NULL;
            return 0;
        }
    }
    return CQLMQ_ENOTFOUND;
}

void cqlmq_result_message(const cqlmq_result_t *r, cqlmq_value_t *out)
{
    out->ptr = zmq_msg_data((zmq_msg_t *)&r->msg);
    out->len = zmq_msg_size((zmq_msg_t *)&r->msg);
    out->type = NULL;
}

/* ---- rows ------------------------------------------------------------ */

int cqlmq_result_row(const cqlmq_result_t *r, uint32_t i, cqlmq_row_t *row)
{
    if (i >= r->nrows)
        return CQLMQ_ENOTFOUND;
    row->res = r;
    row->index = i;
    return 0;
}

/* Moves the cursor to row i (validated rows: the skips cannot fail, but
 * are checked anyway). */
static int seek(cqlmq_result_t *r, uint32_t i)
{
    if (i < r->cur_row) {
        r->cur_row = 0;
        r->cur_pos = 0;
    }
    mpk_rd_t rd;
    mpk_rd_init(&rd, r->rows, r->rows_len);
    rd.pos = r->cur_pos;
    while (r->cur_row < i) {
        if (mpk_rd_skip(&rd) != 0)
            return CQLMQ_EMALFORMED;
        r->cur_row++;
        r->cur_pos = rd.pos;
    }
    return 0;
}

int cqlmq_row_value(const cqlmq_row_t *row, uint32_t col, cqlmq_value_t *out)
{
    cqlmq_result_t *r = (cqlmq_result_t *)row->res; /* cursor and offsets are a cache */
    uint32_t ncols = r->cols ? r->cols->n : 0;
    if (col >= ncols || row->index >= r->nrows)
        return CQLMQ_ENOTFOUND;
    if (r->off_row != row->index) {
        mpk_rd_t rd;
        uint32_t m;
        if (seek(r, row->index) != 0)
            return CQLMQ_EMALFORMED;
        mpk_rd_init(&rd, r->rows, r->rows_len);
        rd.pos = r->cur_pos;
        if (mpk_rd_array(&rd, &m) != 0 || m != ncols)
            return CQLMQ_EMALFORMED;
        for (uint32_t k = 0; k < ncols; k++) {
            r->off[k] = rd.pos;
            if (mpk_rd_skip(&rd) != 0)
                return CQLMQ_EMALFORMED;
        }
        r->off[ncols] = rd.pos;
        r->off_row = row->index;
    }
    out->ptr = r->rows + r->off[col];
    out->len = r->off[col + 1] - r->off[col];
    out->type = r->cols->trees[col];
    return 0;
}
