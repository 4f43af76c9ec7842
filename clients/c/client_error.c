/*
 * client_error: the error objects of the C client. An error reply's `code`
 * string maps to a CQLMQ_E* return code through one table (CODE_RC); the
 * client's own failures use the same object with client codes
 * ("disconnected", "bad_reply", ...). `details` are kept as the msgpack map
 * the server sent (a heap copy) and read back by key.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqlc_int.h"
#include "wire_error.h"

/* X(code string, rc): contract codes with a return code of their own;
 * everything else from the server is CQLMQ_ESERVER. */
#define CODE_RC(X)                          \
    X("timeout", CQLMQ_ETIMEOUT)            \
    X("cancelled", CQLMQ_ECANCELLED)        \
    X("busy", CQLMQ_EBUSY)                  \
    X("no_host", CQLMQ_ENOHOST)             \
    X("unprepared", CQLMQ_EUNPREPARED)      \
    X("bad_credentials", CQLMQ_EAUTH)       \
    X("unauthorized", CQLMQ_EAUTH)          \
    X("unsupported_version", CQLMQ_EBADVERSION)

int cqlc_rc_for_code(const char *code, size_t len)
{
#define CODE_RC_CASE_(s, rc)                                   \
    if (len == sizeof(s) - 1 && memcmp(code, s, len) == 0)    \
        return rc;
    CODE_RC(CODE_RC_CASE_)
#undef CODE_RC_CASE_
    return CQLMQ_ESERVER;
}

void cqlmq_error_clear(cqlmq_errinfo_t *e)
{
    if (e == NULL)
        return;
    free(e->details);
    memset(e, 0, sizeof *e);
    e->cql_code = -1;
}

int cqlmq_error_copy(cqlmq_errinfo_t *dst, const cqlmq_errinfo_t *src)
{
    cqlmq_error_clear(dst);
    *dst = *src;
    dst->details = NULL;
    dst->details_len = 0;
    if (src->details != NULL && src->details_len > 0) {
        dst->details = malloc(src->details_len);
        if (dst->details == NULL)
            return CQLMQ_ENOMEM;
        memcpy(dst->details, src->details, src->details_len);
        dst->details_len = src->details_len;
    }
    return 0;
}

static void copy_str(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

void cqlc_error_set(cqlmq_errinfo_t *e, int rc, const char *code, const char *fmt, ...)
{
    va_list ap;
    cqlmq_error_clear(e);
    e->rc = rc;
    copy_str(e->code, sizeof e->code, code, strlen(code));
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

int cqlc_error_from_reply(cqlmq_errinfo_t *e, const wire_error_rep_t *m)
{
    cqlmq_error_clear(e);
    e->rc = cqlc_rc_for_code(m->code.ptr, m->code.len);
    copy_str(e->code, sizeof e->code, m->code.ptr, m->code.len);
    copy_str(e->message, sizeof e->message, m->message.ptr, m->message.len);
    if (MPK_HAS(m, wire_error_rep, cql_code))
        e->cql_code = m->cql_code;
    if (MPK_HAS(m, wire_error_rep, details) && m->details.len > 0) {
        /* Only a map is kept: the details' keys are read back by name. */
        mpk_rd_t r;
        uint32_t n;
        mpk_rd_init(&r, m->details.ptr, m->details.len);
        if (mpk_rd_map(&r, &n) == 0 && (e->details = malloc(m->details.len)) != NULL) {
            memcpy(e->details, m->details.ptr, m->details.len);
            e->details_len = m->details.len;
        }
    }
    return e->rc;
}

/* Finds key in the details map; r is left on its value. */
static int find_detail(const cqlmq_errinfo_t *e, const char *key, mpk_rd_t *r)
{
    uint32_t n;
    if (e == NULL || e->details == NULL || key == NULL)
        return CQLMQ_ENOTFOUND;
    mpk_rd_init(r, e->details, e->details_len);
    if (mpk_rd_map(r, &n) != 0)
        return CQLMQ_ENOTFOUND;
    for (uint32_t i = 0; i < n; i++) {
        mpk_str_t k;
        if (mpk_rd_str(r, &k) == 0) {
            if (mpk_str_eq(k, key))
                return 0;
        } else if (mpk_rd_skip(r) != 0) {
            return CQLMQ_ENOTFOUND;
        }
        if (mpk_rd_skip(r) != 0)
            return CQLMQ_ENOTFOUND;
    }
    return CQLMQ_ENOTFOUND;
}

int cqlmq_error_detail_int(const cqlmq_errinfo_t *e, const char *key, int64_t *out)
{
    mpk_rd_t r;
    int rc = find_detail(e, key, &r);
    if (rc != 0)
        return rc;
    return mpk_rd_int(&r, out) == 0 ? 0 : CQLMQ_EBADTYPE;
}

int cqlmq_error_detail_str(const cqlmq_errinfo_t *e, const char *key, const char **p, size_t *n)
{
    mpk_rd_t r;
    mpk_str_t s;
    int rc = find_detail(e, key, &r);
    if (rc != 0)
        return rc;
    if (mpk_rd_str(&r, &s) != 0)
        return CQLMQ_EBADTYPE;
    *p = s.ptr;
    *n = s.len;
    return 0;
}

cqlmq_retry_t cqlmq_error_retry(const cqlmq_errinfo_t *e)
{
    if (e == NULL)
        return CQLMQ_RETRY_NO;
    /* The client's own codes. */
    if (strcmp(e->code, "disconnected") == 0)
        return CQLMQ_RETRY_IF_IDEMPOTENT;
    if (strcmp(e->code, "busy") == 0)
        return CQLMQ_RETRY_LATER;
    int code = wire_error_from_name(e->code, strlen(e->code));
    if (code < 0)
        return CQLMQ_RETRY_NO;
    switch (wire_error_retry(code)) {
    case WIRE_RETRY_AFTER_HELLO:
        return CQLMQ_RETRY_AFTER_HELLO;
    case WIRE_RETRY_LATER:
        return CQLMQ_RETRY_LATER;
    case WIRE_RETRY_IF_IDEMPOTENT:
        return CQLMQ_RETRY_IF_IDEMPOTENT;
    default:
        return CQLMQ_RETRY_NO;
    }
}
