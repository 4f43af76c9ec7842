/*
 * node_proto: the connection-level part of the native protocol: version
 * negotiation, OPTIONS/SUPPORTED, STARTUP/READY, the PasswordAuthenticator
 * (AUTHENTICATE, SASL PLAIN in AUTH_RESPONSE, AUTH_SUCCESS), REGISTER, and
 * the replies to frames the decoder refused.
 *
 * Version negotiation follows what the drivers expect (test-node-compat.md
 * section 1): a first frame of a version we do not speak gets ERROR 0x000A
 * "Invalid or unsupported protocol version (N); supported versions are
 * (3/v3, 4/v4)" with version 4 in the header and the frame's stream id, and
 * the connection is then closed (gracefully, so the reply arrives). The
 * first frame fixes the connection's version; a later frame of another
 * version is a protocol error too.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "node_internal.h"

#define AUTHENTICATOR "org.apache.cassandra.auth.PasswordAuthenticator"

void node_proto_error(node_conn_t *conn, cql_wr_t *w, int version, int16_t stream,
                      int32_t code, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    (void)conn;
    if (version < CQL_VERSION_MIN || version > CQL_VERSION_MAX)
        version = CQL_VERSION_MAX;
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_ERROR;
    m.u.error.code = code;
    m.u.error.message = (cql_str_t){text, strlen(text)};
    cql_frame_write(w, version, stream, &m); /* a failure stays in w's sticky error */
}

void node_proto_bad_frame(node_conn_t *conn, int rc, const cql_frame_header_t *h)
{
    node_cluster_t *c = conn->host->cluster;
    bool known = h->version >= CQL_VERSION_MIN && h->version <= CQL_VERSION_MAX;
    int v = conn->version ? conn->version : (known ? h->version : CQL_VERSION_MAX);
    switch (rc) {
    case CQLMQ_EBADVERSION:
        if (conn->version && known)
            node_proto_error(conn, &conn->out, v, h->stream, CQL_ERR_PROTOCOL_ERROR,
                             "Invalid message version. Got %d but previous messages on this "
                             "connection had version %d",
                             h->version, conn->version);
        else
            node_proto_error(conn, &conn->out, v, h->stream, CQL_ERR_PROTOCOL_ERROR,
                             "Invalid or unsupported protocol version (%d); supported versions "
                             "are (3/v3, 4/v4)",
                             h->version);
        node_conn_close_after_flush(conn);
        return;
    case CQLMQ_ETOOBIG:
        /* Cassandra answers and skips the body; the stream stays in sync. */
        node_proto_error(conn, &conn->out, v, h->stream, CQL_ERR_PROTOCOL_ERROR,
                         "Request is too big: length %u exceeds maximum allowed length %zu",
                         (unsigned)h->length, c->cfg.max_frame);
        if (cql_frame_decoder_discard(&conn->dec))
            node_conn_close_after_flush(conn);
        node_cluster_mark_dirty(c, conn);
        return;
    default:
        node_proto_error(conn, &conn->out, v, h->stream, CQL_ERR_PROTOCOL_ERROR,
                         "Invalid frame: %s", cqlmq_strerror(rc));
        node_conn_close_after_flush(conn);
        return;
    }
}

static void write_supported(cql_wr_t *w, int version, int16_t stream)
{
    static const cql_str_t cql_versions[] = {{"3.4.5", 5}};
    static const cql_str_t protocol_versions[] = {{"3/v3", 4}, {"4/v4", 4}};
    cql_multimap_entry_t entries[3] = {
        {{"CQL_VERSION", 11}, {1, (cql_str_t *)cql_versions}},
        {{"COMPRESSION", 11}, {0, NULL}},
        {{"PROTOCOL_VERSIONS", 17}, {2, (cql_str_t *)protocol_versions}},
    };
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = CQL_OP_SUPPORTED;
    m.u.supported.n = 3;
    m.u.supported.items = entries;
    cql_frame_write(w, version, stream, &m);
}

static void write_simple(cql_wr_t *w, int version, int16_t stream, uint8_t opcode)
{
    cql_msg_t m;
    memset(&m, 0, sizeof m);
    m.opcode = opcode;
    if (opcode == CQL_OP_AUTHENTICATE)
        m.u.authenticator = (cql_str_t){AUTHENTICATOR, sizeof AUTHENTICATOR - 1};
    if (opcode == CQL_OP_AUTH_SUCCESS)
        m.u.token = (cql_bytes_t){NULL, CQL_BYTES_NULL};
    cql_frame_write(w, version, stream, &m);
}

static void startup(node_conn_t *conn, cql_wr_t *w, int16_t stream, const cql_msg_t *m)
{
    node_cluster_t *c = conn->host->cluster;
    int v = conn->version;
    cql_str_t s;
    if (conn->state != NODE_CONN_NEW) {
        node_proto_error(conn, w, v, stream, CQL_ERR_PROTOCOL_ERROR,
                         "Unexpected message STARTUP, the connection is already started");
        return;
    }
    if (!cql_string_map_get(&m->u.startup, "CQL_VERSION", &s)) {
        node_proto_error(conn, w, v, stream, CQL_ERR_PROTOCOL_ERROR,
                         "Missing value CQL_VERSION in STARTUP message");
        return;
    }
    if (s.len < 2 || s.ptr[0] != '3' || s.ptr[1] != '.') {
        node_proto_error(conn, w, v, stream, CQL_ERR_PROTOCOL_ERROR,
                         "Invalid or unsupported CQL version: %.*s (supported: 3.4.5)",
                         (int)(s.len > 64 ? 64 : s.len), s.ptr);
        return;
    }
    if (cql_string_map_get(&m->u.startup, "COMPRESSION", &s) && s.len > 0) {
        node_proto_error(conn, w, v, stream, CQL_ERR_PROTOCOL_ERROR,
                         "Unknown compression algorithm: %.*s", (int)(s.len > 64 ? 64 : s.len),
                         s.ptr);
        return;
    }
    node_session_init(&conn->session, v, conn->host->index);
    if (c->cfg.nusers > 0) {
        conn->state = NODE_CONN_AUTH;
        write_simple(w, v, stream, CQL_OP_AUTHENTICATE);
    } else {
        conn->state = NODE_CONN_READY;
        write_simple(w, v, stream, CQL_OP_READY);
    }
}

/* SASL PLAIN: [authzid] NUL authcid NUL password. */
static void auth_response(node_conn_t *conn, cql_wr_t *w, int16_t stream, const cql_msg_t *m)
{
    node_cluster_t *c = conn->host->cluster;
    int v = conn->version;
    if (conn->state != NODE_CONN_AUTH) {
        node_proto_error(conn, w, v, stream, CQL_ERR_PROTOCOL_ERROR,
                         "Unexpected message AUTH_RESPONSE");
        return;
    }
    cql_bytes_t t = m->u.token;
    const char *p = (const char *)t.ptr;
    size_t n = t.len > 0 ? (size_t)t.len : 0;
    const char *nul1 = n ? memchr(p, '\0', n) : NULL;
    const char *nul2 = nul1 ? memchr(nul1 + 1, '\0', n - (size_t)(nul1 + 1 - p)) : NULL;
    if (!nul2) {
        node_proto_error(conn, w, v, stream, CQL_ERR_BAD_CREDENTIALS,
                         "Authentication failed: malformed SASL PLAIN token");
        return;
    }
    const char *user = nul1 + 1, *pass = nul2 + 1;
    size_t ulen = (size_t)(nul2 - user), plen = n - (size_t)(pass - p);
    if (!node_config_check_user(&c->cfg, user, ulen, pass, plen)) {
        node_proto_error(conn, w, v, stream, CQL_ERR_BAD_CREDENTIALS,
                         "Provided username %.*s and/or password are incorrect",
                         (int)(ulen > 128 ? 128 : ulen), user);
        return;
    }
    conn->state = NODE_CONN_READY;
    write_simple(w, v, stream, CQL_OP_AUTH_SUCCESS);
}

static void register_events(node_conn_t *conn, cql_wr_t *w, int16_t stream, const cql_msg_t *m)
{
    int v = conn->version;
    unsigned mask = 0;
    if (conn->state != NODE_CONN_READY) {
        node_proto_error(conn, w, v, stream, CQL_ERR_PROTOCOL_ERROR,
                         "Unexpected message REGISTER before STARTUP completed");
        return;
    }
    const cql_string_list_t *l = &m->u.register_events;
    for (uint16_t i = 0; i < l->n; i++) {
        int t = -1;
        for (int k = 0; k < CQL_EVENT_COUNT_; k++)
            if (cql_str_eq(l->items[i], cql_event_type_name(k)))
                t = k;
        if (t < 0) {
            node_proto_error(conn, w, v, stream, CQL_ERR_PROTOCOL_ERROR,
                             "Invalid value '%.*s' for Event.Type",
                             (int)(l->items[i].len > 64 ? 64 : l->items[i].len),
                             l->items[i].ptr);
            return;
        }
        mask |= 1u << t;
    }
    conn->events |= mask;
    write_simple(w, v, stream, CQL_OP_READY);
}

void node_proto_handshake(node_conn_t *conn, cql_wr_t *w, int16_t stream, const cql_msg_t *m)
{
    switch (m->opcode) {
    case CQL_OP_OPTIONS: write_supported(w, conn->version, stream); return;
    case CQL_OP_STARTUP: startup(conn, w, stream, m); return;
    case CQL_OP_AUTH_RESPONSE: auth_response(conn, w, stream, m); return;
    case CQL_OP_REGISTER: register_events(conn, w, stream, m); return;
    default: {
        const char *nm = cql_opcode_name(m->opcode);
        node_proto_error(conn, w, conn->version, stream, CQL_ERR_PROTOCOL_ERROR,
                         "Unexpected message %s", nm ? nm : "?");
        return;
    }
    }
}
