/*
 * conn_proto: the connection actor's handshake and frame helpers.
 *
 * Handshake (as the DataStax drivers do it):
 *   OPTIONS            -> SUPPORTED (CQL_VERSION read, first offered kept)
 *   STARTUP {CQL_VERSION, DRIVER_NAME, DRIVER_VERSION}
 *                      -> READY, or
 *                      -> AUTHENTICATE -> AUTH_RESPONSE "\0user\0password"
 *                         (SASL PLAIN) -> AUTH_SUCCESS
 * An ERROR before READY that mentions the protocol version (0x000A,
 * "Invalid or unsupported protocol version") makes the connection close
 * with CQLMQ_EBADVERSION and next_version = version - 1 (down to 3), so
 * the owner reconnects with it; other errors close with CQLMQ_EAUTH (bad
 * credentials) or CQLMQ_ESERVER. Every step has a deadline
 * (handshake_timeout_ms), checked by the tick.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "conn_int.h"
#include "cql_msg.h"

int gwconn_write_frame(conn_t *c, int16_t stream, uint8_t opcode, const uint8_t *body,
                     size_t len)
{
    uint8_t hdr[CQL_HEADER_SIZE];
    cql_frame_header_t h = {.version = (uint8_t)c->version, .response = false, .flags = 0,
                            .stream = stream, .opcode = opcode, .length = (uint32_t)len};
    if (c->tcp == NULL || len > INT32_MAX)
        return CQLMQ_ECLOSED;
    size_t n = cql_frame_header_encode(hdr, &h);
    int rc = rt_tcp_write(c->tcp, hdr, n);
    if (rc == 0 && len > 0)
        rc = rt_tcp_write(c->tcp, body, len);
    return rc;
}

/* Encodes m's body and writes it as a frame on stream 0 (handshake). */
static void send_msg(conn_t *c, const cql_msg_t *m)
{
    cql_wr_t w;
    cql_wr_init(&w);
    int rc = cql_msg_encode(&w, c->version, m);
    if (rc == 0)
        rc = cql_wr_error(&w);
    if (rc == 0)
        rc = gwconn_write_frame(c, 0, m->opcode, w.data, w.len);
    cql_wr_close(&w);
    if (rc != 0)
        gwconn_fail(c, rc, "handshake: cannot send %s", cql_opcode_name(m->opcode));
    c->phase_deadline_ms = gw_now_ms() + (c->o.handshake_timeout_ms ? c->o.handshake_timeout_ms
                                                                     : 5000);
}

void gwconn_handshake_start(conn_t *c)
{
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_OPTIONS;
    c->phase = PH_OPTIONS;
    send_msg(c, &m);
}

static void send_startup(conn_t *c, cql_str_t cql_version)
{
    cql_string_pair_t opts[3] = {
        {{"CQL_VERSION", 11}, cql_version},
        {{"DRIVER_NAME", 11}, {"cqlmq", 5}},
        {{"DRIVER_VERSION", 14}, {"0.1.0", 5}},
    };
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_STARTUP;
    m.u.startup.n = 3;
    m.u.startup.items = opts;
    c->phase = PH_STARTUP;
    send_msg(c, &m);
}

static void send_auth(conn_t *c)
{
    uint8_t token[2 * GW_CRED_MAX + 2];
    size_t ul = strlen(c->o.user), pl = strlen(c->o.password);
    token[0] = 0;
    memcpy(token + 1, c->o.user, ul);
    token[1 + ul] = 0;
    memcpy(token + 2 + ul, c->o.password, pl);
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_AUTH_RESPONSE;
    m.u.token = (cql_bytes_t){token, (int32_t)(2 + ul + pl)};
    c->phase = PH_AUTH;
    send_msg(c, &m);
    memset(token, 0, sizeof token);
}

/* Case-insensitive "protocol version" in s. */
static bool mentions_version(cql_str_t s)
{
    static const char needle[] = "protocol version";
    size_t n = sizeof needle - 1;
    for (size_t i = 0; i + n <= s.len; i++) {
        size_t k = 0;
        while (k < n && tolower((unsigned char)s.ptr[i + k]) == needle[k])
            k++;
        if (k == n)
            return true;
    }
    return false;
}

static void handshake_error(conn_t *c, const cql_msg_error_t *e, uint8_t hdr_version)
{
    int msg_len = e->message.len > 120 ? 120 : (int)e->message.len;
    if (e->code == CQL_ERR_PROTOCOL_ERROR &&
        (mentions_version(e->message) || hdr_version != c->version)) {
        int next = hdr_version < c->version && hdr_version >= CQL_VERSION_MIN ? hdr_version
                                                                              : c->version - 1;
        if (next >= CQL_VERSION_MIN) {
            c->next_version = next;
            gwconn_fail(c, CQLMQ_EBADVERSION, "protocol v%d refused: %.*s", c->version, msg_len,
                      e->message.ptr);
            return;
        }
    }
    if (e->code == CQL_ERR_BAD_CREDENTIALS) {
        gwconn_fail(c, CQLMQ_EAUTH, "authentication failed: %.*s", msg_len, e->message.ptr);
        return;
    }
    gwconn_fail(c, CQLMQ_ESERVER, "handshake error 0x%04x: %.*s", (unsigned)e->code, msg_len,
              e->message.ptr);
}

void gwconn_handshake_frame(conn_t *c, const cql_frame_header_t *h, const uint8_t *body)
{
    cql_arena_t arena;
    cql_msg_t m;
    cql_arena_init(&arena, 4 * (size_t)h->length + 4096);
    int version = h->version >= CQL_VERSION_MIN && h->version <= CQL_VERSION_MAX ? h->version
                                                                                   : c->version;
    int rc = cql_msg_decode(version, h->opcode, h->flags, body, h->length, &arena, &m);
    if (rc != 0 && rc != CQLMQ_ETRAILING) {
        gwconn_fail(c, CQLMQ_EMALFORMED, "handshake: undecodable %s",
                  cql_opcode_name(h->opcode) ? cql_opcode_name(h->opcode) : "frame");
        goto out;
    }
    if (h->opcode == CQL_OP_ERROR) {
        handshake_error(c, &m.u.error, h->version);
        goto out;
    }
    switch (c->phase) {
    case PH_OPTIONS:
        if (h->opcode != CQL_OP_SUPPORTED)
            break;
        {
            cql_str_t v = {"3.0.0", 5};
            for (uint16_t i = 0; i < m.u.supported.n; i++)
                if (cql_str_eq(m.u.supported.items[i].key, "CQL_VERSION") &&
                    m.u.supported.items[i].values.n > 0)
                    v = m.u.supported.items[i].values.items[0];
            send_startup(c, v);
        }
        goto out;
    case PH_STARTUP:
        if (h->opcode == CQL_OP_READY) {
            gwconn_ready(c);
            goto out;
        }
        if (h->opcode != CQL_OP_AUTHENTICATE)
            break;
        if (c->o.user[0] == '\0') {
            gwconn_fail(c, CQLMQ_EAUTH, "the node requires authentication (%.*s)",
                      (int)(m.u.authenticator.len > 100 ? 100 : m.u.authenticator.len),
                      m.u.authenticator.ptr);
            goto out;
        }
        send_auth(c);
        goto out;
    case PH_AUTH:
        if (h->opcode == CQL_OP_AUTH_SUCCESS) {
            gwconn_ready(c);
            goto out;
        }
        if (h->opcode == CQL_OP_AUTH_CHALLENGE) {
            gwconn_fail(c, CQLMQ_EAUTH, "unexpected SASL challenge (PLAIN has none)");
            goto out;
        }
        break;
    default:
        break;
    }
    gwconn_fail(c, CQLMQ_EMALFORMED, "handshake: unexpected %s",
              cql_opcode_name(h->opcode) ? cql_opcode_name(h->opcode) : "opcode");
out:
    cql_arena_close(&arena);
}

/* Skips the envelope of a response body (tracing id, warnings, custom
 * payload) as the frame flags announce it. */
static int skip_envelope(cql_rd_t *r, int version, uint8_t flags)
{
    const uint8_t *skip;
    uint16_t n;
    cql_str_t s;
    cql_bytes_t b;
    if ((flags & CQL_FLAG_TRACING) && cql_rd_raw(r, 16, &skip) != 0)
        return CQLMQ_ETRUNCATED;
    if (version >= 4 && (flags & CQL_FLAG_WARNING)) {
        if (cql_rd_u16(r, &n) != 0)
            return CQLMQ_ETRUNCATED;
        for (uint16_t i = 0; i < n; i++)
            if (cql_rd_string(r, &s) != 0)
                return CQLMQ_ETRUNCATED;
    }
    if (version >= 4 && (flags & CQL_FLAG_CUSTOM_PAYLOAD)) {
        if (cql_rd_u16(r, &n) != 0)
            return CQLMQ_ETRUNCATED;
        for (uint16_t i = 0; i < n; i++)
            if (cql_rd_string(r, &s) != 0 || cql_rd_bytes(r, &b) != 0)
                return CQLMQ_ETRUNCATED;
    }
    return 0;
}

bool gwconn_result_keyspace(int version, uint8_t flags, const uint8_t *body, size_t len,
                          char *out)
{
    cql_rd_t r;
    int32_t kind;
    cql_str_t ks;
    cql_rd_init(&r, body, len);
    if (skip_envelope(&r, version, flags) != 0 || cql_rd_i32(&r, &kind) != 0 ||
        kind != CQL_RESULT_SET_KEYSPACE || cql_rd_string(&r, &ks) != 0 || ks.len > GW_KS_MAX)
        return false;
    memcpy(out, ks.ptr, ks.len);
    out[ks.len] = '\0';
    return true;
}
