/*
 * nx_func: the CQL functions a term may call: now(), uuid(),
 * currentTimestamp() / currentDate() / currentTime() / currentTimeUUID(),
 * toTimestamp(), toDate(), toUnixTimestamp(), dateOf(), minTimeuuid(),
 * maxTimeuuid(), and the <type>AsBlob / blobAs<type> conversions. The
 * result must fit the receiver's type (a timeuuid fits a uuid).
 */
#include <string.h>

#include "nx_int.h"

static bool kinds_compatible(cql_type_kind_t want, cql_type_kind_t got)
{
    if (want == got)
        return true;
    if (want == CQL_TYPE_UUID && got == CQL_TYPE_TIMEUUID)
        return true;
    if ((want == CQL_TYPE_BLOB || want == CQL_TYPE_CUSTOM) && got == CQL_TYPE_BLOB)
        return true;
    return false;
}

/* The timestamp (ms) of a version 1 uuid. */
static int64_t timeuuid_ms(const uint8_t *u)
{
    uint64_t t = (uint64_t)(cql_load_u16(u + 6) & 0x0fff) << 48 | (uint64_t)cql_load_u16(u + 4) << 32 |
                 cql_load_u32(u);
    return ((int64_t)t - INT64_C(0x01B21DD213814000)) / 10000;
}

static int func_arg(nx_req_t *r, const cql_term_t *term, cql_type_kind_t k, cql_bytes_t *out)
{
    if (term->n != 1)
        return nx_invalid(r, "Invalid number of arguments in call to function %s: 1 required but %zu provided",
                          term->text, term->n);
    return nx_term_required(r, term->items[0], nx_type(r, k), term->text, out);
}

int nx_term_function(nx_req_t *r, const cql_term_t *term, const cql_type_t *t,
                         const char *name, cql_bytes_t *out)
{
    const char *f = term->text;
    cql_type_kind_t rk;
    uint8_t buf[16];
    cql_bytes_t a;
    int rc;
    int64_t ms = r->now_us / 1000;
    if (strcmp(f, "now") == 0 || strcmp(f, "currenttimeuuid") == 0) {
        nx_timeuuid(r->db, r->now_us, buf);
        *out = nx_bytes_dup(r, buf, 16);
        rk = CQL_TYPE_TIMEUUID;
    } else if (strcmp(f, "uuid") == 0) {
        nx_uuid4(r->db, buf);
        *out = nx_bytes_dup(r, buf, 16);
        rk = CQL_TYPE_UUID;
    } else if (strcmp(f, "currenttimestamp") == 0 ||
               ((strcmp(f, "totimestamp") == 0 || strcmp(f, "dateof") == 0 ||
                 strcmp(f, "tounixtimestamp") == 0 || strcmp(f, "todate") == 0 ||
                 strcmp(f, "currentdate") == 0) &&
                term->n <= 1)) {
        if (term->n == 1) {
            rc = func_arg(r, term, CQL_TYPE_TIMEUUID, &a);
            if (rc != 0) {
                /* toTimestamp(date) / toDate(timestamp) */
                r->ecode = 0;
                rc = func_arg(r, term, CQL_TYPE_TIMESTAMP, &a);
                if (rc != 0)
                    return rc;
                ms = (int64_t)cql_load_u64(a.ptr);
            } else {
                ms = timeuuid_ms(a.ptr);
            }
        }
        if (strcmp(f, "todate") == 0 || strcmp(f, "currentdate") == 0) {
            int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
            rc = nx_be_int(r, days + (int64_t)CQL_DATE_EPOCH, 4, out);
            rk = CQL_TYPE_DATE;
        } else {
            rc = nx_be_int(r, ms, 8, out);
            rk = strcmp(f, "tounixtimestamp") == 0 ? CQL_TYPE_BIGINT : CQL_TYPE_TIMESTAMP;
        }
        if (rc != 0)
            return rc;
    } else if (strcmp(f, "currenttime") == 0) {
        int64_t ns = (r->now_us % INT64_C(86400000000)) * 1000;
        if ((rc = nx_be_int(r, ns, 8, out)) != 0)
            return rc;
        rk = CQL_TYPE_TIME;
    } else if (strcmp(f, "mintimeuuid") == 0 || strcmp(f, "maxtimeuuid") == 0) {
        if ((rc = func_arg(r, term, CQL_TYPE_TIMESTAMP, &a)) != 0)
            return rc;
        uint64_t tt = (uint64_t)((int64_t)cql_load_u64(a.ptr) * 10000 + INT64_C(0x01B21DD213814000));
        cql_store_u32(buf, (uint32_t)tt);
        cql_store_u16(buf + 4, (uint16_t)(tt >> 32));
        cql_store_u16(buf + 6, (uint16_t)(((tt >> 48) & 0x0fff) | 0x1000));
        bool mx = f[1] == 'a';
        memset(buf + 8, mx ? 0x7f : 0x80, 8);
        if (mx)
            buf[8] = 0xbf, memset(buf + 9, 0x7f, 7);
        else
            buf[8] = 0x80, memset(buf + 9, 0x80, 7);
        *out = nx_bytes_dup(r, buf, 16);
        rk = CQL_TYPE_TIMEUUID;
    } else if (strncmp(f, "blobas", 6) == 0 || (strlen(f) > 6 && strcmp(f + strlen(f) - 6, "asblob") == 0)) {
        bool to_blob = strncmp(f, "blobas", 6) != 0;
        char tn[32];
        size_t l = strlen(f) - 6;
        if (l >= sizeof tn)
            return nx_invalid(r, "Unknown function '%s'", f);
        memcpy(tn, to_blob ? f : f + 6, l);
        tn[l] = '\0';
        cql_type_t *ty;
        if (cql_type_parse(tn, l, r->a, NULL, NULL, NULL, &ty) != 0 || ty->nsub != 0)
            return nx_invalid(r, "Unknown function '%s'", f);
        if (to_blob) {
            if ((rc = func_arg(r, term, ty->kind, &a)) != 0)
                return rc;
            rk = CQL_TYPE_BLOB;
        } else {
            if ((rc = func_arg(r, term, CQL_TYPE_BLOB, &a)) != 0)
                return rc;
            if ((rc = nx_value_check(r, ty, a, name)) != 0)
                return rc;
            rk = ty->kind;
        }
        *out = a;
    } else if (strcmp(f, "token") == 0) {
        return nx_invalid(r, "token() is only allowed in the WHERE clause of a SELECT");
    } else {
        return nx_invalid(r, "Unknown function '%s'", f);
    }
    if (out->ptr == NULL && out->len >= 0)
        return CQLMQ_ENOMEM;
    if (!kinds_compatible(t->kind, rk))
        return nx_invalid(r, "Type error: cannot assign result of function %s (type %s) to %s (type %s)",
                          f, cql_type_kind_name(rk), name ? name : "?", nx_type_str(r, t));
    return 0;
}
