/*
 * cql_msg_codec: the tables of cql_msg.h turned into names and lookups, the
 * compound notations (string list / map / multimap, bytes map), the body
 * envelope (tracing id, warnings, custom payload) and the dispatch of
 * cql_msg_decode / cql_msg_encode / cql_frame_write over CQL_OPCODE_MAP.
 */
#include "cql_msg.h"

#include <string.h>
#include <strings.h>

/* ---- names ---- */

static const char *const consistency_names[] = {
#define CL_ROW_(name, code) [code] = #name,
    CQL_CONSISTENCY_MAP(CL_ROW_)
#undef CL_ROW_
};
#define NCONSISTENCY ((int)(sizeof(consistency_names) / sizeof(consistency_names[0])))

const char *cql_consistency_name(int code)
{
    return (code >= 0 && code < NCONSISTENCY) ? consistency_names[code] : NULL;
}

static bool name_ieq(const char *name, const char *s, size_t len)
{
    return strlen(name) == len && strncasecmp(name, s, len) == 0;
}

int cql_consistency_from_name(const char *s, size_t len)
{
    for (int i = 0; i < NCONSISTENCY; i++)
        if (consistency_names[i] && name_ieq(consistency_names[i], s, len))
            return i;
    return CQLMQ_ENOTFOUND;
}

typedef struct errdef {
    int32_t code;
    const char *name;
    unsigned fields;   /* CQL_EF_* */
    int min_version;   /* first version that knows the code */
    int32_t fallback;  /* code sent to older versions, or -1 */
} errdef_t;

static const errdef_t errdefs[] = {
#define ERR_ROW_(name, code, str, ef, v, fb) {(code), (str), (ef), (v), (fb)},
    CQL_ERROR_CODE_MAP(ERR_ROW_)
#undef ERR_ROW_
};
#define NERRDEFS (sizeof(errdefs) / sizeof(errdefs[0]))

static const errdef_t *errdef_find(int32_t code)
{
    for (size_t i = 0; i < NERRDEFS; i++)
        if (errdefs[i].code == code)
            return &errdefs[i];
    return NULL;
}

const char *cql_error_code_name(int32_t code)
{
    const errdef_t *d = errdef_find(code);
    return d ? d->name : NULL;
}

int32_t cql_error_code_from_name(const char *s, size_t len)
{
    for (size_t i = 0; i < NERRDEFS; i++)
        if (name_ieq(errdefs[i].name, s, len))
            return errdefs[i].code;
    return CQLMQ_ENOTFOUND;
}

unsigned cql_error_code_fields(int32_t code)
{
    const errdef_t *d = errdef_find(code);
    return d ? d->fields : 0;
}

int32_t cql_error_code_for_version(int32_t code, int version)
{
    const errdef_t *d = errdef_find(code);
    while (d && version < d->min_version && d->fallback >= 0) {
        code = d->fallback;
        d = errdef_find(code);
    }
    return code;
}

#define NAME_FN_(fn, map, row, count)                         \
    static const char *const fn##_tab[] = {map(row)};        \
    const char *fn(int v)                                     \
    {                                                         \
        return (v >= 0 && v < (count)) ? fn##_tab[v] : NULL;  \
    }
#define NAME_ROW_(name) #name,
#define NAME_ROW2_(name, v) #name,
NAME_FN_(cql_event_type_name, CQL_EVENT_MAP, NAME_ROW_, CQL_EVENT_COUNT_)
NAME_FN_(cql_topology_change_name, CQL_TOPOLOGY_MAP, NAME_ROW_, CQL_TOPOLOGY_COUNT_)
NAME_FN_(cql_status_change_name, CQL_STATUS_MAP, NAME_ROW_, CQL_STATUS_COUNT_)
NAME_FN_(cql_schema_change_name, CQL_SCHEMA_CHANGE_MAP, NAME_ROW_, CQL_SCHEMA_CHANGE_COUNT_)
NAME_FN_(cql_schema_target_name, CQL_SCHEMA_TARGET_MAP, NAME_ROW2_, CQL_TARGET_COUNT_)
#undef NAME_ROW_
#undef NAME_ROW2_
#undef NAME_FN_

int cql_name_index(const char *(*name_of)(int), int n, cql_str_t s)
{
    for (int i = 0; i < n; i++)
        if (cql_str_eq(s, name_of(i)))
            return i;
    return -1;
}

/* ---- compound notations ---- */

int cql_rd_string_list(cql_rd_t *r, cql_arena_t *a, cql_string_list_t *out)
{
    size_t save = r->pos;
    uint16_t n;
    int rc = cql_rd_count16(r, 2, &n);
    if (rc)
        return rc;
    cql_str_t *items = n ? cql_arena_calloc(a, n, sizeof(*items)) : NULL;
    if (n && items == NULL) {
        r->pos = save;
        return CQLMQ_ENOMEM;
    }
    for (uint16_t i = 0; i < n; i++) {
        if ((rc = cql_rd_string(r, &items[i])) != 0) {
            r->pos = save;
            return rc;
        }
    }
    out->n = n;
    out->items = items;
    return 0;
}

int cql_rd_string_map(cql_rd_t *r, cql_arena_t *a, cql_string_map_t *out)
{
    size_t save = r->pos;
    uint16_t n;
    int rc = cql_rd_count16(r, 4, &n);
    if (rc)
        return rc;
    cql_string_pair_t *items = n ? cql_arena_calloc(a, n, sizeof(*items)) : NULL;
    if (n && items == NULL) {
        r->pos = save;
        return CQLMQ_ENOMEM;
    }
    for (uint16_t i = 0; i < n; i++) {
        if ((rc = cql_rd_string(r, &items[i].key)) != 0 ||
            (rc = cql_rd_string(r, &items[i].value)) != 0) {
            r->pos = save;
            return rc;
        }
    }
    out->n = n;
    out->items = items;
    return 0;
}

int cql_rd_string_multimap(cql_rd_t *r, cql_arena_t *a, cql_string_multimap_t *out)
{
    size_t save = r->pos;
    uint16_t n;
    int rc = cql_rd_count16(r, 4, &n);
    if (rc)
        return rc;
    cql_multimap_entry_t *items = n ? cql_arena_calloc(a, n, sizeof(*items)) : NULL;
    if (n && items == NULL) {
        r->pos = save;
        return CQLMQ_ENOMEM;
    }
    for (uint16_t i = 0; i < n; i++) {
        if ((rc = cql_rd_string(r, &items[i].key)) != 0 ||
            (rc = cql_rd_string_list(r, a, &items[i].values)) != 0) {
            r->pos = save;
            return rc;
        }
    }
    out->n = n;
    out->items = items;
    return 0;
}

int cql_rd_bytes_map(cql_rd_t *r, cql_arena_t *a, cql_bytes_map_t *out)
{
    size_t save = r->pos;
    uint16_t n;
    int rc = cql_rd_count16(r, 6, &n);
    if (rc)
        return rc;
    cql_bytes_entry_t *items = n ? cql_arena_calloc(a, n, sizeof(*items)) : NULL;
    if (n && items == NULL) {
        r->pos = save;
        return CQLMQ_ENOMEM;
    }
    for (uint16_t i = 0; i < n; i++) {
        if ((rc = cql_rd_string(r, &items[i].key)) != 0 ||
            (rc = cql_rd_bytes(r, &items[i].value)) != 0) {
            r->pos = save;
            return rc;
        }
    }
    out->n = n;
    out->items = items;
    return 0;
}

void cql_wr_string_list(cql_wr_t *w, const cql_string_list_t *l)
{
    cql_wr_u16(w, l->n);
    for (uint16_t i = 0; i < l->n; i++)
        cql_wr_string(w, l->items[i].ptr, l->items[i].len);
}

void cql_wr_string_map(cql_wr_t *w, const cql_string_map_t *m)
{
    cql_wr_u16(w, m->n);
    for (uint16_t i = 0; i < m->n; i++) {
        cql_wr_string(w, m->items[i].key.ptr, m->items[i].key.len);
        cql_wr_string(w, m->items[i].value.ptr, m->items[i].value.len);
    }
}

void cql_wr_string_multimap(cql_wr_t *w, const cql_string_multimap_t *m)
{
    cql_wr_u16(w, m->n);
    for (uint16_t i = 0; i < m->n; i++) {
        cql_wr_string(w, m->items[i].key.ptr, m->items[i].key.len);
        cql_wr_string_list(w, &m->items[i].values);
    }
}

void cql_wr_bytes_map(cql_wr_t *w, const cql_bytes_map_t *m)
{
    cql_wr_u16(w, m->n);
    for (uint16_t i = 0; i < m->n; i++) {
        cql_wr_string(w, m->items[i].key.ptr, m->items[i].key.len);
        cql_wr_bytes(w, m->items[i].value);
    }
}

bool cql_string_map_get(const cql_string_map_t *m, const char *key, cql_str_t *out)
{
    for (uint16_t i = 0; i < m->n; i++) {
        if (cql_str_eq(m->items[i].key, key)) {
            *out = m->items[i].value;
            return true;
        }
    }
    return false;
}

/* ---- envelope and dispatch ---- */

typedef int (*dec_fn)(cql_rd_t *, int, cql_arena_t *, cql_msg_t *);
typedef int (*enc_fn)(cql_wr_t *, int, const cql_msg_t *);

static const struct {
    dec_fn dec;
    enc_fn enc;
} codecs[CQL_OPCODE_LIMIT] = {
#define CODEC_ROW_(name, code, lname, dir) [code] = {cql_msg_dec_##lname, cql_msg_enc_##lname},
    CQL_OPCODE_MAP(CODEC_ROW_)
#undef CODEC_ROW_
};

static bool version_ok(int version)
{
    return version >= CQL_VERSION_MIN && version <= CQL_VERSION_MAX;
}

static bool opcode_ok(int opcode)
{
    return opcode >= 0 && opcode < CQL_OPCODE_LIMIT && codecs[opcode].dec != NULL;
}

/* The frame flags that shape the body of a message of this version and
 * direction; the others are ignored, as the spec says. */
static uint8_t body_flags(int version, int dir)
{
    uint8_t f = CQL_FLAG_TRACING;
    if (version >= 4)
        f |= CQL_FLAG_CUSTOM_PAYLOAD | (dir == CQL_DIR_RESPONSE ? CQL_FLAG_WARNING : 0);
    return f;
}

int cql_msg_decode(int version, uint8_t opcode, uint8_t flags, const uint8_t *body, size_t len,
                   cql_arena_t *arena, cql_msg_t *out)
{
    if (!version_ok(version))
        return CQLMQ_EBADVERSION;
    if (!opcode_ok(opcode))
        return CQLMQ_EBADOPCODE;
    if (flags & CQL_FLAG_COMPRESSION)
        return CQLMQ_EUNSUPPORTED;
    memset(out, 0, sizeof(*out));
    int dir = cql_opcode_direction(opcode);
    out->opcode = opcode;
    out->flags = flags & body_flags(version, dir);
    cql_rd_t r;
    cql_rd_init(&r, body, len);
    int rc = 0;
    if (dir == CQL_DIR_RESPONSE && (out->flags & CQL_FLAG_TRACING))
        rc = cql_rd_uuid(&r, &out->tracing_id);
    if (rc == 0 && (out->flags & CQL_FLAG_WARNING))
        rc = cql_rd_string_list(&r, arena, &out->warnings);
    if (rc == 0 && (out->flags & CQL_FLAG_CUSTOM_PAYLOAD))
        rc = cql_rd_bytes_map(&r, arena, &out->custom_payload);
    if (rc == 0)
        rc = codecs[opcode].dec(&r, version, arena, out);
    if (rc == 0 && cql_rd_left(&r) != 0)
        rc = CQLMQ_ETRAILING;
    return rc;
}

int cql_msg_decode_frame(const cql_frame_t *f, cql_arena_t *arena, cql_msg_t *out)
{
    return cql_msg_decode(f->h.version, f->h.opcode, f->h.flags, f->body, f->h.length, arena,
                          out);
}

int cql_envelope_write(cql_wr_t *w, int version, const cql_msg_t *m)
{
    int dir = cql_opcode_direction(m->opcode);
    if (m->flags & CQL_FLAG_COMPRESSION)
        return CQLMQ_EUNSUPPORTED;
    if (version < 4 && (m->flags & (CQL_FLAG_WARNING | CQL_FLAG_CUSTOM_PAYLOAD)))
        return CQLMQ_EUNSUPPORTED;
    if (dir == CQL_DIR_RESPONSE && (m->flags & CQL_FLAG_TRACING)) {
        if (m->tracing_id == NULL)
            return CQLMQ_EINVAL;
        cql_wr_uuid(w, m->tracing_id);
    }
    if (m->flags & CQL_FLAG_WARNING) {
        if (dir != CQL_DIR_RESPONSE)
            return CQLMQ_EINVAL;
        cql_wr_string_list(w, &m->warnings);
    }
    if (m->flags & CQL_FLAG_CUSTOM_PAYLOAD)
        cql_wr_bytes_map(w, &m->custom_payload);
    return cql_wr_error(w);
}

int cql_msg_encode(cql_wr_t *w, int version, const cql_msg_t *m)
{
    if (!version_ok(version))
        return CQLMQ_EBADVERSION;
    if (!opcode_ok(m->opcode))
        return CQLMQ_EBADOPCODE;
    size_t start = w->len;
    int rc = cql_envelope_write(w, version, m);
    if (rc == 0)
        rc = codecs[m->opcode].enc(w, version, m);
    if (rc == 0)
        rc = cql_wr_error(w);
    if (rc && !cql_wr_error(w))
        w->len = start;
    return rc;
}

int cql_frame_write(cql_wr_t *w, int version, int16_t stream, const cql_msg_t *m)
{
    if (!version_ok(version))
        return CQLMQ_EBADVERSION;
    if (!opcode_ok(m->opcode))
        return CQLMQ_EBADOPCODE;
    size_t start = cql_frame_begin(w, version, m->flags, stream, m->opcode);
    int rc = cql_msg_encode(w, version, m);
    if (rc == 0)
        rc = cql_frame_end(w, start);
    if (rc && !cql_wr_error(w))
        w->len = start;
    return rc;
}
