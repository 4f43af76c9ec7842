/*
 * cql_msg_resp: the response bodies other than RESULT (spec v4 section 4.2):
 * ERROR (driven by CQL_ERROR_CODE_MAP's field masks), READY, AUTHENTICATE,
 * SUPPORTED, EVENT, AUTH_CHALLENGE, AUTH_SUCCESS; and the schema change
 * shared by EVENT and RESULT.
 */
#include "cql_msg.h"

#include <string.h>

/* ---- ERROR ---- */

int cql_msg_dec_error(cql_rd_t *r, int version, cql_arena_t *a, cql_msg_t *m)
{
    (void)version;
    cql_msg_error_t *e = &m->u.error;
    int rc = cql_rd_i32(r, &e->code);
    if (rc == 0)
        rc = cql_rd_string(r, &e->message);
    unsigned f = cql_error_code_fields(e->code); /* unknown codes: none */
    uint8_t b = 0;
    if (rc == 0 && (f & CQL_EF_CL))
        rc = cql_rd_u16(r, &e->consistency);
    if (rc == 0 && (f & CQL_EF_REQUIRED))
        rc = cql_rd_i32(r, &e->required);
    if (rc == 0 && (f & CQL_EF_ALIVE))
        rc = cql_rd_i32(r, &e->alive);
    if (rc == 0 && (f & CQL_EF_RECEIVED))
        rc = cql_rd_i32(r, &e->received);
    if (rc == 0 && (f & CQL_EF_BLOCKFOR))
        rc = cql_rd_i32(r, &e->blockfor);
    if (rc == 0 && (f & CQL_EF_NUMFAILURES))
        rc = cql_rd_i32(r, &e->num_failures); /* v5: <reasonmap> */
    if (rc == 0 && (f & CQL_EF_DATA_PRESENT) && (rc = cql_rd_u8(r, &b)) == 0)
        e->data_present = b != 0;
    if (rc == 0 && (f & CQL_EF_WRITE_TYPE))
        rc = cql_rd_string(r, &e->write_type);
    if (rc == 0 && (f & CQL_EF_KEYSPACE))
        rc = cql_rd_string(r, &e->keyspace);
    if (rc == 0 && (f & CQL_EF_NAME))
        rc = cql_rd_string(r, &e->name);
    if (rc == 0 && (f & CQL_EF_ARG_TYPES))
        rc = cql_rd_string_list(r, a, &e->arg_types);
    if (rc == 0 && (f & CQL_EF_ID))
        rc = cql_rd_short_bytes(r, &e->id);
    return rc;
}

int cql_msg_enc_error(cql_wr_t *w, int version, const cql_msg_t *m)
{
    const cql_msg_error_t *e = &m->u.error;
    int32_t code = cql_error_code_for_version(e->code, version);
    unsigned f = cql_error_code_fields(code);
    cql_str_t write_type = e->write_type;
    if (code != e->code && e->code == CQL_ERR_CAS_WRITE_UNKNOWN && write_type.len == 0)
        write_type = (cql_str_t){"CAS", 3}; /* as Cassandra converts it */
    if ((f & CQL_EF_ARG_TYPES) && e->arg_types.n && e->arg_types.items == NULL)
        return CQLMQ_EINVAL;
    if ((f & CQL_EF_ID) && e->id.len < 0)
        return CQLMQ_EINVAL;
    cql_wr_i32(w, code);
    cql_wr_string(w, e->message.ptr, e->message.len);
    if (f & CQL_EF_CL)
        cql_wr_u16(w, e->consistency);
    if (f & CQL_EF_REQUIRED)
        cql_wr_i32(w, e->required);
    if (f & CQL_EF_ALIVE)
        cql_wr_i32(w, e->alive);
    if (f & CQL_EF_RECEIVED)
        cql_wr_i32(w, e->received);
    if (f & CQL_EF_BLOCKFOR)
        cql_wr_i32(w, e->blockfor);
    if (f & CQL_EF_NUMFAILURES)
        cql_wr_i32(w, e->num_failures);
    if (f & CQL_EF_DATA_PRESENT)
        cql_wr_u8(w, e->data_present ? 1 : 0);
    if (f & CQL_EF_WRITE_TYPE)
        cql_wr_string(w, write_type.ptr, write_type.len);
    if (f & CQL_EF_KEYSPACE)
        cql_wr_string(w, e->keyspace.ptr, e->keyspace.len);
    if (f & CQL_EF_NAME)
        cql_wr_string(w, e->name.ptr, e->name.len);
    if (f & CQL_EF_ARG_TYPES)
        cql_wr_string_list(w, &e->arg_types);
    if (f & CQL_EF_ID)
        cql_wr_short_bytes(w, e->id.ptr, (size_t)e->id.len);
    return 0;
}

/* ---- READY, AUTHENTICATE, SUPPORTED, AUTH_CHALLENGE, AUTH_SUCCESS ---- */

int cql_msg_dec_ready(cql_rd_t *r, int version, cql_arena_t *a, cql_msg_t *m)
{
    (void)r, (void)version, (void)a, (void)m;
    return 0;
}

int cql_msg_enc_ready(cql_wr_t *w, int version, const cql_msg_t *m)
{
    (void)w, (void)version, (void)m;
    return 0;
}

int cql_msg_dec_authenticate(cql_rd_t *r, int version, cql_arena_t *a, cql_msg_t *m)
{
    (void)version, (void)a;
    return cql_rd_string(r, &m->u.authenticator);
}

int cql_msg_enc_authenticate(cql_wr_t *w, int version, const cql_msg_t *m)
{
    (void)version;
    cql_wr_string(w, m->u.authenticator.ptr, m->u.authenticator.len);
    return 0;
}

int cql_msg_dec_supported(cql_rd_t *r, int version, cql_arena_t *a, cql_msg_t *m)
{
    (void)version;
    return cql_rd_string_multimap(r, a, &m->u.supported);
}

int cql_msg_enc_supported(cql_wr_t *w, int version, const cql_msg_t *m)
{
    (void)version;
    const cql_string_multimap_t *s = &m->u.supported;
    if (s->n && s->items == NULL)
        return CQLMQ_EINVAL;
    for (uint16_t i = 0; i < s->n; i++)
        if (s->items[i].values.n && s->items[i].values.items == NULL)
            return CQLMQ_EINVAL;
    cql_wr_string_multimap(w, s);
    return 0;
}

int cql_msg_dec_auth_challenge(cql_rd_t *r, int version, cql_arena_t *a, cql_msg_t *m)
{
    (void)version, (void)a;
    return cql_rd_bytes(r, &m->u.token);
}

int cql_msg_enc_auth_challenge(cql_wr_t *w, int version, const cql_msg_t *m)
{
    (void)version;
    cql_wr_bytes(w, m->u.token);
    return 0;
}

int cql_msg_dec_auth_success(cql_rd_t *r, int version, cql_arena_t *a, cql_msg_t *m)
{
    return cql_msg_dec_auth_challenge(r, version, a, m);
}

int cql_msg_enc_auth_success(cql_wr_t *w, int version, const cql_msg_t *m)
{
    return cql_msg_enc_auth_challenge(w, version, m);
}

/* ---- schema changes and EVENT ---- */

/* Reads a [string] that must be one of the n names of name_of. */
static int rd_enum(cql_rd_t *r, const char *(*name_of)(int), int n, int *out)
{
    cql_str_t s;
    int rc = cql_rd_string(r, &s);
    if (rc)
        return rc;
    *out = cql_name_index(name_of, n, s);
    return *out < 0 ? CQLMQ_EMALFORMED : 0;
}

static void wr_name(cql_wr_t *w, const char *s)
{
    cql_wr_string(w, s, strlen(s));
}

int cql_schema_change_read(cql_rd_t *r, int version, cql_arena_t *a, cql_schema_change_t *out)
{
    (void)version; /* FUNCTION/AGGREGATE are v4, but accepted from anyone */
    int change, target;
    int rc = rd_enum(r, cql_schema_change_name, CQL_SCHEMA_CHANGE_COUNT_, &change);
    if (rc == 0)
        rc = rd_enum(r, cql_schema_target_name, CQL_TARGET_COUNT_, &target);
    if (rc)
        return rc;
    out->change = (cql_schema_change_type_t)change;
    out->target = (cql_schema_target_t)target;
    rc = cql_rd_string(r, &out->keyspace);
    if (rc == 0 && target != CQL_TARGET_KEYSPACE)
        rc = cql_rd_string(r, &out->name);
    if (rc == 0 && (target == CQL_TARGET_FUNCTION || target == CQL_TARGET_AGGREGATE))
        rc = cql_rd_string_list(r, a, &out->arg_types);
    return rc;
}

int cql_schema_change_write(cql_wr_t *w, int version, const cql_schema_change_t *s)
{
    const char *change = cql_schema_change_name((int)s->change);
    const char *target = cql_schema_target_name((int)s->target);
    if (change == NULL || target == NULL)
        return CQLMQ_EINVAL;
    bool fn = s->target == CQL_TARGET_FUNCTION || s->target == CQL_TARGET_AGGREGATE;
    if (fn && s->arg_types.n && s->arg_types.items == NULL)
        return CQLMQ_EINVAL;
    if (fn && version < 4) {
        /* v3 has no such target: Cassandra reports the keyspace updated. */
        wr_name(w, cql_schema_change_name(CQL_SCHEMA_UPDATED));
        wr_name(w, cql_schema_target_name(CQL_TARGET_KEYSPACE));
        cql_wr_string(w, s->keyspace.ptr, s->keyspace.len);
        return 0;
    }
    wr_name(w, change);
    wr_name(w, target);
    cql_wr_string(w, s->keyspace.ptr, s->keyspace.len);
    if (s->target != CQL_TARGET_KEYSPACE)
        cql_wr_string(w, s->name.ptr, s->name.len);
    if (fn)
        cql_wr_string_list(w, &s->arg_types);
    return 0;
}

int cql_msg_dec_event(cql_rd_t *r, int version, cql_arena_t *a, cql_msg_t *m)
{
    cql_msg_event_t *ev = &m->u.event;
    int type;
    int rc = rd_enum(r, cql_event_type_name, CQL_EVENT_COUNT_, &type);
    if (rc)
        return rc;
    ev->type = (cql_event_type_t)type;
    switch (ev->type) {
    case CQL_EVENT_TOPOLOGY_CHANGE:
        rc = rd_enum(r, cql_topology_change_name, CQL_TOPOLOGY_COUNT_, &ev->change);
        break;
    case CQL_EVENT_STATUS_CHANGE:
        rc = rd_enum(r, cql_status_change_name, CQL_STATUS_COUNT_, &ev->change);
        break;
    default:
        return cql_schema_change_read(r, version, a, &ev->schema);
    }
    if (rc == 0)
        rc = cql_rd_inet(r, &ev->addr);
    return rc;
}

int cql_msg_enc_event(cql_wr_t *w, int version, const cql_msg_t *m)
{
    const cql_msg_event_t *ev = &m->u.event;
    const char *type = cql_event_type_name((int)ev->type);
    const char *change = NULL;
    if (ev->type == CQL_EVENT_TOPOLOGY_CHANGE)
        change = cql_topology_change_name(ev->change);
    else if (ev->type == CQL_EVENT_STATUS_CHANGE)
        change = cql_status_change_name(ev->change);
    if (type == NULL)
        return CQLMQ_EINVAL;
    if (ev->type == CQL_EVENT_SCHEMA_CHANGE) {
        wr_name(w, type);
        return cql_schema_change_write(w, version, &ev->schema);
    }
    if (change == NULL || (ev->addr.size != 4 && ev->addr.size != 16))
        return CQLMQ_EINVAL;
    wr_name(w, type);
    wr_name(w, change);
    cql_wr_inet(w, &ev->addr);
    return 0;
}
