/*
 * client_params: builders of bind parameters and batches, and the msgpack
 * forms of the contract's extension values (docs/protocol.md section 8),
 * shared with the literal parser.
 *
 * A params object writes its top-level values (and, by name, their keys)
 * into one buffer and counts them; the array or map header is written in
 * front when a request is encoded, since msgpack headers carry counts.
 * Containers are opened with their item count; a stack of "items still to
 * come" closes each one after its last item.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql_value.h"
#include "cqlc_int.h"
#include "wire_value.h"

#define PARAMS_MAX_DEPTH 32

/* Invariants: depth <= PARAMS_MAX_DEPTH; left[0..depth) > 0; named is set
 * once a name was written and then every top-level value has a name. */
struct cqlmq_params {
    mpk_wr_t body;                    /* names and values, no header */
    uint32_t count;                   /* top-level values */
    bool named;                       /* a map by name */
    bool name_pending;                /* a name waits for its value */
    int err;                          /* first error, sticky */
    uint32_t depth;                   /* open containers */
    uint32_t left[PARAMS_MAX_DEPTH];  /* items still to come in each */
};

/* ---- extension values ------------------------------------------------ */

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}
static void be64(uint8_t *p, uint64_t v)
{
    be32(p, (uint32_t)(v >> 32));
    be32(p + 4, (uint32_t)v);
}

void cqlc_put_timestamp(mpk_wr_t *w, int64_t ms)
{
    int64_t sec = ms / 1000, rem = ms % 1000;
    if (rem < 0)
        rem += 1000, sec -= 1;
    uint32_t nsec = (uint32_t)rem * 1000000u;
    uint8_t b[12];
    if (sec >= 0 && sec < (INT64_C(1) << 34)) {
        be64(b, ((uint64_t)nsec << 34) | (uint64_t)sec);
        mpk_wr_ext(w, WIRE_EXT_TIMESTAMP, b, 8);
    } else {
        be32(b, nsec);
        be64(b + 4, (uint64_t)sec);
        mpk_wr_ext(w, WIRE_EXT_TIMESTAMP, b, 12);
    }
}

void cqlc_put_i32_ext(mpk_wr_t *w, int8_t type, int32_t v)
{
    uint8_t b[4];
    be32(b, (uint32_t)v);
    mpk_wr_ext(w, type, b, 4);
}

void cqlc_put_i64_ext(mpk_wr_t *w, int8_t type, int64_t v)
{
    uint8_t b[8];
    be64(b, (uint64_t)v);
    mpk_wr_ext(w, type, b, 8);
}

void cqlc_put_duration(mpk_wr_t *w, int32_t months, int32_t days, int64_t ns)
{
    uint8_t b[16];
    be32(b, (uint32_t)months);
    be32(b + 4, (uint32_t)days);
    be64(b + 8, (uint64_t)ns);
    mpk_wr_ext(w, WIRE_EXT_DURATION, b, 16);
}

static bool parse_i64(const char *s, size_t n, int64_t *out)
{
    char buf[32];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno != 0 || *end != '\0' || buf[0] == ' ')
        return false;
    *out = v;
    return true;
}

int cqlc_put_varint_text(mpk_wr_t *w, const char *s, size_t n)
{
    int64_t v;
    if (parse_i64(s, n, &v)) {
        mpk_wr_int(w, v);
        return 0;
    }
    cql_wr_t cw;
    cql_wr_init(&cw);
    int rc = wire_put_varint_str(&cw, s, n);
    if (rc == 0 && (rc = cql_wr_error(&cw)) == 0)
        mpk_wr_ext(w, WIRE_EXT_VARINT, cw.data, cw.len);
    cql_wr_close(&cw);
    return rc;
}

int cqlc_put_decimal_text(mpk_wr_t *w, const char *s, size_t n)
{
    cql_wr_t cw;
    cql_wr_init(&cw);
    int rc = wire_put_decimal_str(&cw, s, n);
    if (rc == 0 && (rc = cql_wr_error(&cw)) == 0)
        mpk_wr_ext(w, WIRE_EXT_DECIMAL, cw.data, cw.len);
    cql_wr_close(&cw);
    return rc;
}

/* ---- params ---------------------------------------------------------- */

int cqlmq_params_new(cqlmq_params_t **out)
{
    *out = calloc(1, sizeof **out);
    if (*out == NULL)
        return CQLMQ_ENOMEM;
    mpk_wr_init(&(*out)->body);
    return 0;
}

void cqlmq_params_free(cqlmq_params_t **pp)
{
    cqlmq_params_t *p = pp ? *pp : NULL;
    if (p == NULL)
        return;
    *pp = NULL;
    mpk_wr_close(&p->body);
    free(p);
}

void cqlmq_params_reset(cqlmq_params_t *p)
{
    mpk_wr_reset(&p->body);
    p->count = 0;
    p->named = p->name_pending = false;
    p->err = 0;
    p->depth = 0;
}

int cqlmq_params_error(const cqlmq_params_t *p) { return p->err ? p->err : p->body.err; }
uint32_t cqlmq_params_count(const cqlmq_params_t *p) { return p->count; }

static void set_err(cqlmq_params_t *p, int rc)
{
    if (p->err == 0)
        p->err = rc;
}

/* May a value be written now? */
static bool begin(cqlmq_params_t *p)
{
    if (p->err != 0)
        return false;
    if (p->depth == 0 && p->named && !p->name_pending) {
        set_err(p, CQLMQ_EINVAL); /* a positional value among named ones */
        return false;
    }
    return true;
}

/* A whole value was written: account it in its container(s). */
static void end(cqlmq_params_t *p)
{
    for (;;) {
        if (p->depth == 0) {
            p->count++;
            p->name_pending = false;
            return;
        }
        if (--p->left[p->depth - 1] > 0)
            return;
        p->depth--; /* the container is complete: one value of its parent */
    }
}

void cqlmq_params_name(cqlmq_params_t *p, const char *name)
{
    if (p->err != 0)
        return;
    if (name == NULL || p->depth != 0 || p->name_pending || (!p->named && p->count > 0)) {
        set_err(p, CQLMQ_EINVAL);
        return;
    }
    p->named = true;
    p->name_pending = true;
    mpk_wr_cstr(&p->body, name);
}

#define SCALAR(body_)   \
    do {                \
        if (!begin(p))  \
            return;     \
        body_;          \
        end(p);         \
    } while (0)

void cqlmq_params_null(cqlmq_params_t *p) { SCALAR(mpk_wr_nil(&p->body)); }
void cqlmq_params_unset(cqlmq_params_t *p)
{
    SCALAR(mpk_wr_ext(&p->body, WIRE_EXT_NOT_SET, NULL, 0));
}
void cqlmq_params_bool(cqlmq_params_t *p, bool v) { SCALAR(mpk_wr_bool(&p->body, v)); }
void cqlmq_params_int64(cqlmq_params_t *p, int64_t v) { SCALAR(mpk_wr_int(&p->body, v)); }
void cqlmq_params_float(cqlmq_params_t *p, float v) { SCALAR(mpk_wr_f32(&p->body, v)); }
void cqlmq_params_double(cqlmq_params_t *p, double v) { SCALAR(mpk_wr_f64(&p->body, v)); }
void cqlmq_params_text(cqlmq_params_t *p, const char *s, size_t n)
{
    SCALAR(mpk_wr_str(&p->body, s, n));
}
void cqlmq_params_cstr(cqlmq_params_t *p, const char *s) { cqlmq_params_text(p, s, strlen(s)); }
void cqlmq_params_blob(cqlmq_params_t *p, const void *b, size_t n)
{
    SCALAR(mpk_wr_bin(&p->body, b, n));
}
void cqlmq_params_uuid(cqlmq_params_t *p, const uint8_t u[16])
{
    SCALAR(mpk_wr_ext(&p->body, WIRE_EXT_UUID, u, 16));
}
void cqlmq_params_timestamp_ms(cqlmq_params_t *p, int64_t ms)
{
    SCALAR(cqlc_put_timestamp(&p->body, ms));
}
void cqlmq_params_date(cqlmq_params_t *p, int32_t days)
{
    SCALAR(cqlc_put_i32_ext(&p->body, WIRE_EXT_DATE, days));
}
void cqlmq_params_time(cqlmq_params_t *p, int64_t ns)
{
    SCALAR(cqlc_put_i64_ext(&p->body, WIRE_EXT_TIME, ns));
}
void cqlmq_params_duration(cqlmq_params_t *p, int32_t months, int32_t days, int64_t ns)
{
    SCALAR(cqlc_put_duration(&p->body, months, days, ns));
}
void cqlmq_params_inet(cqlmq_params_t *p, const uint8_t *addr, size_t size)
{
    if (size != 4 && size != 16) {
        set_err(p, CQLMQ_EINVAL);
        return;
    }
    SCALAR(mpk_wr_ext(&p->body, WIRE_EXT_INET, addr, size));
}

static void number(cqlmq_params_t *p, const char *text, bool decimal)
{
    if (!begin(p))
        return;
    if (text == NULL) {
        set_err(p, CQLMQ_EINVAL);
        return;
    }
    size_t at = p->body.len;
    int rc = decimal ? cqlc_put_decimal_text(&p->body, text, strlen(text))
                     : cqlc_put_varint_text(&p->body, text, strlen(text));
    if (rc != 0) {
        mpk_wr_truncate(&p->body, at);
        set_err(p, rc);
        return;
    }
    end(p);
}
void cqlmq_params_decimal(cqlmq_params_t *p, const char *text) { number(p, text, true); }
void cqlmq_params_varint(cqlmq_params_t *p, const char *text) { number(p, text, false); }

static void open_container(cqlmq_params_t *p, uint32_t items, bool map, uint32_t n)
{
    if (!begin(p))
        return;
    if (items > 0 && p->depth >= PARAMS_MAX_DEPTH) {
        set_err(p, CQLMQ_ELIMIT);
        return;
    }
    if (map)
        mpk_wr_map(&p->body, n);
    else
        mpk_wr_array(&p->body, n);
    if (items == 0)
        end(p);
    else
        p->left[p->depth++] = items;
}
void cqlmq_params_list(cqlmq_params_t *p, uint32_t n) { open_container(p, n, false, n); }
void cqlmq_params_map(cqlmq_params_t *p, uint32_t npairs)
{
    if (npairs > UINT32_MAX / 2) {
        set_err(p, CQLMQ_EINVAL);
        return;
    }
    open_container(p, npairs * 2, true, npairs);
}

void cqlmq_params_msgpack(cqlmq_params_t *p, const void *mp, size_t len)
{
    mpk_rd_t r;
    if (!begin(p))
        return;
    mpk_rd_init(&r, mp, len);
    if (mp == NULL || mpk_rd_skip(&r) != 0 || !mpk_rd_done(&r)) {
        set_err(p, CQLMQ_EMALFORMED);
        return;
    }
    mpk_wr_raw(&p->body, mp, len);
    end(p);
}

int cqlmq_params_literal(cqlmq_params_t *p, const char *type, const char *text, size_t n,
                         cqlmq_errinfo_t *err)
{
    char why[160] = "";
    cql_arena_t a;
    int rc;
    if (!begin(p))
        return p->err;
    cql_arena_init(&a, 0);
    cql_type_t *t = type ? cqlc_type_parse(type, strlen(type), &a) : NULL;
    if (type != NULL && t == NULL) {
        rc = CQLMQ_EBADTYPE;
        snprintf(why, sizeof why, "'%s' is not a CQL type", type);
    } else {
        size_t at = p->body.len;
        rc = cqlc_literal_to_mpk(&p->body, t, text, n, why, sizeof why);
        if (rc != 0)
            mpk_wr_truncate(&p->body, at);
    }
    cql_arena_close(&a);
    if (rc != 0) {
        set_err(p, rc);
        if (err != NULL)
            cqlc_error_set(err, rc, "invalid", "%s", why);
        return rc;
    }
    end(p);
    return 0;
}

int cqlc_params_write(const cqlmq_params_t *p, mpk_wr_t *w)
{
    int rc = cqlmq_params_error(p);
    if (rc != 0)
        return rc;
    if (p->depth != 0 || p->name_pending)
        return CQLMQ_EINVAL;
    if (p->named)
        mpk_wr_map(w, p->count);
    else
        mpk_wr_array(w, p->count);
    mpk_wr_raw(w, p->body.data, p->body.len);
    return 0;
}

/* ---- batches --------------------------------------------------------- */

/* Invariant: stmts holds n complete statement maps. */
struct cqlmq_batch {
    char kind[16];  /* logged, unlogged or counter */
    mpk_wr_t stmts; /* the statements, without the array header */
    uint32_t n;
};

int cqlmq_batch_new(const char *kind, cqlmq_batch_t **out)
{
    *out = NULL;
    if (kind == NULL || (strcmp(kind, "logged") && strcmp(kind, "unlogged") && strcmp(kind, "counter")))
        return CQLMQ_EINVAL;
    cqlmq_batch_t *b = calloc(1, sizeof *b);
    if (b == NULL)
        return CQLMQ_ENOMEM;
    strcpy(b->kind, kind);
    mpk_wr_init(&b->stmts);
    *out = b;
    return 0;
}

void cqlmq_batch_free(cqlmq_batch_t **bp)
{
    cqlmq_batch_t *b = bp ? *bp : NULL;
    if (b == NULL)
        return;
    *bp = NULL;
    mpk_wr_close(&b->stmts);
    free(b);
}

static int add(cqlmq_batch_t *b, const char *cql, const mpk_bin_t *handle,
               const cqlmq_params_t *params)
{
    if (params != NULL && (cqlmq_params_error(params) || params->depth || params->name_pending))
        return CQLMQ_EINVAL;
    mpk_wr_map(&b->stmts, params ? 2 : 1);
    if (cql != NULL) {
        mpk_wr_cstr(&b->stmts, "cql");
        mpk_wr_cstr(&b->stmts, cql);
    } else {
        mpk_wr_cstr(&b->stmts, "handle");
        mpk_wr_bin(&b->stmts, handle->ptr, handle->len);
    }
    if (params != NULL) {
        mpk_wr_cstr(&b->stmts, "params");
        cqlc_params_write(params, &b->stmts);
    }
    if (mpk_wr_error(&b->stmts)) {
        int rc = mpk_wr_error(&b->stmts);
        mpk_wr_reset(&b->stmts); /* out of memory: the batch starts over */
        b->n = 0;
        return rc;
    }
    b->n++;
    return 0;
}

int cqlmq_batch_add(cqlmq_batch_t *b, const char *cql, const cqlmq_params_t *params)
{
    if (cql == NULL)
        return CQLMQ_EINVAL;
    return add(b, cql, NULL, params);
}

int cqlmq_batch_add_prepared(cqlmq_batch_t *b, const cqlmq_result_t *prepared,
                             const cqlmq_params_t *params)
{
    if (prepared == NULL || prepared->kind != CQLMQ_RESULT_PREPARED)
        return CQLMQ_EINVAL;
    return add(b, NULL, &prepared->handle, params);
}

int cqlc_batch_write(const cqlmq_batch_t *b, mpk_wr_t *w, const char **kind)
{
    if (b->n == 0)
        return CQLMQ_EINVAL;
    *kind = b->kind;
    mpk_wr_array(w, b->n);
    mpk_wr_raw(w, b->stmts.data, b->stmts.len);
    return 0;
}
