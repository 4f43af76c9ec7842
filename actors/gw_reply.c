/*
 * gw_reply: gw_result replies (see gw_reply.h). CQL errors become the
 * client contract's codes and details with the wire library's tables
 * (wire_error.h), so the session can forward `code`, `cql_code` and
 * `details` unchanged.
 */
#include <string.h>

#include "gw_reply.h"
#include "wire_msg.h"

const char *gw_status_code(int status)
{
    switch (status) {
    case 0:
    case CQLMQ_ESERVER: return NULL;
    case CQLMQ_EBUSY:
    case CQLMQ_ELIMIT:
    case CQLMQ_EMAILBOXFULL: return "busy";
    case CQLMQ_ENOHOST:
    case CQLMQ_ECONNREFUSED: return "no_host";
    /* Sent, then the connection dropped: the outcome is unknown. */
    case CQLMQ_ECLOSED:
    case CQLMQ_ECONNRESET: return "connection_lost";
    case CQLMQ_ETIMEOUT: return "timeout";
    case CQLMQ_EUNPREPARED: return "unprepared";
    case CQLMQ_EINVAL:
    case CQLMQ_EBADTYPE: return "bad_request";
    case CQLMQ_ECANCELLED: return "cancelled";
    default: return "internal";
    }
}

mpk_wr_t *gw_reply_begin(rt_actor_t *self, rt_addr_t to, uint64_t corr)
{
    rt_msg_t req;
    memset(&req, 0, sizeof req);
    req.from = to;
    req.corr = corr;
    req.type = GW_MSG_EXEC;
    req.flags = RT_F_REQUEST;
    return rt_reply_begin(self, &req, GW_MSG_EXEC);
}

int gw_reply_send(rt_actor_t *self, rt_addr_t to, uint64_t corr, const gw_result_t *res)
{
    gw_result_encode_compact(gw_reply_begin(self, to, corr), res);
    return rt_msg_end(self);
}

static void set_host(gw_result_t *res, const char *host, uint32_t attempts)
{
    if (host != NULL) {
        res->host = mpk_cstr(host);
        MPK_SET(res, gw_result, host);
    }
    if (attempts) {
        res->attempts = attempts;
        MPK_SET(res, gw_result, attempts);
    }
}

int gw_reply_status(rt_actor_t *self, rt_addr_t to, uint64_t corr, int status,
                    const char *message, const char *host, uint32_t attempts)
{
    gw_result_t res;
    memset(&res, 0, sizeof res);
    res.status = status;
    const char *code = gw_status_code(status);
    res.code = mpk_cstr(code ? code : "internal");
    MPK_SET(&res, gw_result, code);
    res.message = mpk_cstr(message ? message : cqlmq_strerror(status));
    MPK_SET(&res, gw_result, message);
    set_host(&res, host, attempts);
    return gw_reply_send(self, to, corr, &res);
}

static mpk_str_t mstr(cql_str_t s) { return (mpk_str_t){s.ptr, (uint32_t)s.len}; }

int gw_reply_cql_error(rt_actor_t *self, rt_addr_t to, uint64_t corr, int version,
                       uint8_t flags, const uint8_t *body, size_t len, const char *host,
                       uint32_t attempts)
{
    cql_arena_t arena;
    cql_msg_t m;
    cql_arena_init(&arena, 4 * len + 4096);
    int rc = cql_msg_decode(version, CQL_OP_ERROR, flags, body, len, &arena, &m);
    if (rc != 0 && rc != CQLMQ_ETRAILING) {
        cql_arena_close(&arena);
        return gw_reply_status(self, to, corr, CQLMQ_EMALFORMED,
                               "undecodable ERROR from Cassandra", host, attempts);
    }
    const cql_msg_error_t *e = &m.u.error;
    mpk_wr_t det;
    mpk_wr_init(&det);
    wire_error_details_write(&det, e);
    gw_result_t res;
    memset(&res, 0, sizeof res);
    res.status = CQLMQ_ESERVER;
    res.code = mpk_cstr(wire_error_name(wire_error_from_cql(e->code)));
    res.message = mstr(e->message);
    res.cql_code = e->code;
    res.present |= (uint64_t)1 << gw_result_F_code | (uint64_t)1 << gw_result_F_message |
                   (uint64_t)1 << gw_result_F_cql_code;
    if (det.err == 0 && det.len > 1) { /* an empty map is one byte: skip it */
        res.details = (mpk_raw_t){det.data, det.len};
        MPK_SET(&res, gw_result, details);
    }
    set_host(&res, host, attempts);
    rc = gw_reply_send(self, to, corr, &res);
    mpk_wr_close(&det);
    cql_arena_close(&arena);
    return rc;
}

int32_t gw_error_code_of(int version, uint8_t flags, const uint8_t *body, size_t len)
{
    cql_arena_t arena;
    cql_msg_t m;
    cql_arena_init(&arena, 4 * len + 4096);
    int rc = cql_msg_decode(version, CQL_OP_ERROR, flags, body, len, &arena, &m);
    int32_t code = rc == 0 || rc == CQLMQ_ETRAILING ? m.u.error.code : -1;
    cql_arena_close(&arena);
    return code;
}
