/*
 * node_ctl_decode: control requests from bytes to values, with no cluster
 * involved (so the unit tests can feed it anything): the bounded msgpack
 * decode of the request map, "name or number" fields, and the fault rule a
 * "fault" request describes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql_frame.h"
#include "cql_msg.h"
#include "node_ctl.h"

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int node_ctl_decode(const uint8_t *p, size_t n, node_ctl_req_t *req, char *err, size_t errlen)
{
    mpk_rd_t r;
    mpk_type_t t;
    mpk_rd_init(&r, p, n);
    int rc = mpk_rd_peek(&r, &t);
    if (rc)
        return fail(err, errlen, rc, "request is not msgpack: %s", cqlmq_strerror(rc));
    if (t != MPK_MAP)
        return fail(err, errlen, CQLMQ_EBADTYPE, "request must be a msgpack map");
    rc = node_ctl_req_decode(&r, req);
    if (rc)
        return fail(err, errlen, rc, "bad request: %s (fields: cmd string, node int, ...)",
                    cqlmq_strerror(rc));
    if (!mpk_rd_done(&r))
        return fail(err, errlen, CQLMQ_ETRAILING, "bytes after the request map");
    return 0;
}

/* A str or an integer in a raw value. */
static int raw_str_or_int(mpk_raw_t v, mpk_str_t *s, int64_t *i, bool *is_str)
{
    mpk_rd_t r;
    mpk_type_t t;
    mpk_rd_init(&r, v.ptr, v.len);
    if (mpk_rd_peek(&r, &t))
        return CQLMQ_EMALFORMED;
    if (t == MPK_STR) {
        *is_str = true;
        return mpk_rd_str(&r, s);
    }
    if (t == MPK_INT || t == MPK_UINT) {
        *is_str = false;
        return mpk_rd_int(&r, i);
    }
    return CQLMQ_EBADTYPE;
}

static bool str_ieq(mpk_str_t s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char a = s.ptr[i], b = lit[i];
        if (a >= 'a' && a <= 'z')
            a = (char)(a - 32);
        if (b >= 'a' && b <= 'z')
            b = (char)(b - 32);
        if (a != b)
            return false;
    }
    return true;
}

int node_ctl_opcode(mpk_raw_t v)
{
    mpk_str_t s;
    int64_t i;
    bool is_str;
    int rc = raw_str_or_int(v, &s, &i, &is_str);
    if (rc)
        return rc;
    if (!is_str)
        return (i >= 0 && i < CQL_OPCODE_LIMIT && cql_opcode_name((int)i)) ? (int)i
                                                                            : CQLMQ_ENOTFOUND;
    for (int op = 0; op < CQL_OPCODE_LIMIT; op++) {
        const char *nm = cql_opcode_name(op);
        if (nm && str_ieq(s, nm))
            return op;
    }
    return CQLMQ_ENOTFOUND;
}

int32_t node_ctl_error_code(mpk_raw_t v, int *rc)
{
    mpk_str_t s;
    int64_t i;
    bool is_str;
    *rc = raw_str_or_int(v, &s, &i, &is_str);
    if (*rc)
        return 0;
    int32_t code = CQLMQ_ENOTFOUND;
    if (is_str)
        code = cql_error_code_from_name(s.ptr, s.len);
    else if (i >= 0 && i <= 0xFFFF && cql_error_code_name((int32_t)i))
        code = (int32_t)i;
    if (code < 0)
        *rc = CQLMQ_ENOTFOUND;
    return code < 0 ? 0 : code;
}

int node_ctl_consistency(mpk_raw_t v)
{
    mpk_str_t s;
    int64_t i;
    bool is_str;
    int rc = raw_str_or_int(v, &s, &i, &is_str);
    if (rc)
        return rc;
    if (is_str)
        return cql_consistency_from_name(s.ptr, s.len);
    return (i >= 0 && i <= 0xFFFF && cql_consistency_name((int)i)) ? (int)i : CQLMQ_ENOTFOUND;
}

static char *dup_str(mpk_str_t s)
{
    char *p = malloc((size_t)s.len + 1);
    if (p) {
        memcpy(p, s.ptr, s.len);
        p[s.len] = '\0';
    }
    return p;
}

#define HAS(f) MPK_HAS(req, node_ctl_req, f)

/* The error part of an "error" rule. */
static int build_error(const node_ctl_req_t *req, node_fault_err_t *e, char *err, size_t errlen)
{
    int rc;
    if (!HAS(error))
        return fail(err, errlen, CQLMQ_EINVAL, "fault error: field \"error\" (a name such as "
                                               "\"read_timeout\" or a code) is required");
    e->code = node_ctl_error_code(req->error, &rc);
    if (rc)
        return fail(err, errlen, CQLMQ_ENOTFOUND, "fault error: unknown error code");
    if (HAS(consistency)) {
        e->consistency = node_ctl_consistency(req->consistency);
        if (e->consistency < 0)
            return fail(err, errlen, CQLMQ_ENOTFOUND, "fault error: unknown consistency");
    }
    e->required = req->required;
    e->alive = req->alive;
    e->received = req->received;
    e->blockfor = req->block_for;
    e->num_failures = req->num_failures;
    e->data_present = req->data_present;
    if ((HAS(message) && !(e->message = dup_str(req->message))) ||
        (HAS(write_type) && !(e->write_type = dup_str(req->write_type))) ||
        (HAS(keyspace) && !(e->keyspace = dup_str(req->keyspace))))
        return fail(err, errlen, CQLMQ_ENOMEM, "out of memory");
    if (HAS(table) || HAS(function)) {
        if (!(e->name = dup_str(HAS(table) ? req->table : req->function)))
            return fail(err, errlen, CQLMQ_ENOMEM, "out of memory");
    }
    if (HAS(prepared_id)) {
        if (req->prepared_id.len > 0xFFFF)
            return fail(err, errlen, CQLMQ_EINVAL, "fault error: prepared_id too long");
        e->id = malloc(req->prepared_id.len ? req->prepared_id.len : 1);
        if (!e->id)
            return fail(err, errlen, CQLMQ_ENOMEM, "out of memory");
        memcpy(e->id, req->prepared_id.ptr, req->prepared_id.len);
        e->id_len = (uint16_t)req->prepared_id.len;
    }
    if (HAS(arg_types)) {
        mpk_rd_t r;
        uint32_t n;
        mpk_rd_init(&r, req->arg_types.ptr, req->arg_types.len);
        if (mpk_rd_array(&r, &n) || n > 64)
            return fail(err, errlen, CQLMQ_EINVAL, "fault error: arg_types must be an array "
                                                   "of at most 64 strings");
        e->arg_types = calloc(n ? n : 1, sizeof *e->arg_types);
        if (!e->arg_types)
            return fail(err, errlen, CQLMQ_ENOMEM, "out of memory");
        for (uint32_t i = 0; i < n; i++) {
            mpk_str_t s;
            if (mpk_rd_str(&r, &s))
                return fail(err, errlen, CQLMQ_EINVAL, "fault error: arg_types[%u] is no string",
                            i);
            if (!(e->arg_types[i] = dup_str(s)))
                return fail(err, errlen, CQLMQ_ENOMEM, "out of memory");
            e->narg_types = (uint16_t)(i + 1);
        }
    }
    return 0;
}

int node_ctl_build_rule(const node_ctl_req_t *req, node_fault_rule_t **out, char *err,
                        size_t errlen)
{
    if (!HAS(action))
        return fail(err, errlen, CQLMQ_EINVAL,
                    "fault: field \"action\" is required (error, latency, close, drop)");
    int action = node_fault_action_from_name(req->action.ptr, req->action.len);
    if (action < 0)
        return fail(err, errlen, CQLMQ_EINVAL,
                    "fault: unknown action \"%.*s\" (error, latency, close, drop)",
                    (int)(req->action.len > 32 ? 32 : req->action.len), req->action.ptr);
    node_fault_rule_t *r = node_fault_rule_new((node_fault_action_t)action);
    if (!r)
        return fail(err, errlen, CQLMQ_ENOMEM, "out of memory");
    int rc = 0;
    if (HAS(opcode)) {
        r->opcode = node_ctl_opcode(req->opcode);
        if (r->opcode < 0) {
            rc = fail(err, errlen, CQLMQ_ENOTFOUND, "fault: unknown opcode");
            goto out;
        }
    }
    if (HAS(query) && req->query.len > 0 && !(r->query = dup_str(req->query))) {
        rc = fail(err, errlen, CQLMQ_ENOMEM, "out of memory");
        goto out;
    }
    if (HAS(node)) {
        if (req->node < 0) {
            rc = fail(err, errlen, CQLMQ_EINVAL, "fault: node must be >= 0");
            goto out;
        }
        r->node = req->node;
    }
    if (HAS(count)) {
        if (req->count < 1) {
            rc = fail(err, errlen, CQLMQ_EINVAL, "fault: count must be >= 1");
            goto out;
        }
        r->remaining = req->count;
    }
    if (action == NODE_FAULT_LATENCY) {
        if (HAS(ms)) {
            r->min_ms = r->max_ms = req->ms;
        } else if (HAS(max_ms)) {
            r->min_ms = HAS(min_ms) ? req->min_ms : 0;
            r->max_ms = req->max_ms;
        } else {
            rc = fail(err, errlen, CQLMQ_EINVAL, "fault latency: give ms, or min_ms and max_ms");
            goto out;
        }
        if (r->min_ms > r->max_ms || r->max_ms > NODE_FAULT_MAX_LATENCY_MS) {
            rc = fail(err, errlen, CQLMQ_EINVAL,
                      "fault latency: need min_ms <= max_ms <= %u", NODE_FAULT_MAX_LATENCY_MS);
            goto out;
        }
    }
    if (action == NODE_FAULT_ERROR)
        rc = build_error(req, &r->err, err, errlen);
out:
    if (rc) {
        node_fault_rule_free(&r);
        return rc;
    }
    *out = r;
    return 0;
}
