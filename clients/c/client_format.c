/*
 * client_format: values as text. Scalars are turned into the codec's
 * cql_value_t and printed by cql_value_format, so the client prints CQL
 * literals exactly as the rest of cqlmq does (floats that read back to the
 * same bits, decimals as Java's BigDecimal.toString, cqlsh timestamps);
 * containers are walked here, with the column type telling a set from a
 * list and a UDT from a map (values of unknown type print by their msgpack
 * form). Three styles: CQL literal, cqlsh display, JSON (toJson forms).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql_value.h"
#include "cqlc_int.h"
#include "cqlc_output.h"
#include "wire_value.h"

/* ---- string builder ------------------------------------------------ */

void cqlc_sb_init(cqlc_sb_t *sb) { memset(sb, 0, sizeof *sb); }
void cqlc_sb_close(cqlc_sb_t *sb)
{
    free(sb->p);
    memset(sb, 0, sizeof *sb);
}
void cqlc_sb_reset(cqlc_sb_t *sb)
{
    sb->len = 0;
    sb->err = 0;
    if (sb->p)
        sb->p[0] = '\0';
}

static bool reserve(cqlc_sb_t *sb, size_t n)
{
    if (sb->err)
        return false;
    if (sb->len + n + 1 <= sb->cap)
        return true;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < sb->len + n + 1)
        cap *= 2;
    char *p = realloc(sb->p, cap);
    if (p == NULL) {
        sb->err = CQLMQ_ENOMEM;
        return false;
    }
    sb->p = p;
    sb->cap = cap;
    return true;
}

void cqlc_sb_put(cqlc_sb_t *sb, const char *s, size_t n)
{
    if (!reserve(sb, n))
        return;
    memcpy(sb->p + sb->len, s, n);
    sb->len += n;
    sb->p[sb->len] = '\0';
}
void cqlc_sb_puts(cqlc_sb_t *sb, const char *s) { cqlc_sb_put(sb, s, strlen(s)); }
void cqlc_sb_putc(cqlc_sb_t *sb, char c) { cqlc_sb_put(sb, &c, 1); }

void cqlc_sb_printf(cqlc_sb_t *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(sb, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(sb->p + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void cqlc_json_string(cqlc_sb_t *sb, const char *s, size_t n)
{
    cqlc_sb_putc(sb, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        cqlc_sb_put(sb, s + run, i - run);
        run = i + 1;
        switch (ch) {
        case '"': cqlc_sb_puts(sb, "\\\""); break;
        case '\\': cqlc_sb_puts(sb, "\\\\"); break;
        case '\n': cqlc_sb_puts(sb, "\\n"); break;
        case '\r': cqlc_sb_puts(sb, "\\r"); break;
        case '\t': cqlc_sb_puts(sb, "\\t"); break;
        default: cqlc_sb_printf(sb, "\\u%04x", ch); break;
        }
    }
    cqlc_sb_put(sb, s + run, n - run);
    cqlc_sb_putc(sb, '"');
}

/* ---- scalars --------------------------------------------------------- */

/* Prints a codec value with cql_value_format into sb. */
static int put_cql(cqlc_sb_t *sb, cql_type_kind_t kind, const cql_value_t *cv)
{
    cql_type_t t = {.kind = kind};
    char small[96];
    int n = cql_value_format(&t, cv, small, sizeof small);
    if (n < 0)
        return n;
    if ((size_t)n < sizeof small) {
        cqlc_sb_put(sb, small, (size_t)n);
        return 0;
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL)
        return CQLMQ_ENOMEM;
    n = cql_value_format(&t, cv, big, (size_t)n + 1);
    if (n >= 0)
        cqlc_sb_put(sb, big, (size_t)n);
    free(big);
    return n < 0 ? n : 0;
}

/* A literal in single quotes without them (the forms used never hold a
 * quote inside). */
static int put_unquoted(cqlc_sb_t *sb, cql_type_kind_t kind, const cql_value_t *cv)
{
    size_t at = sb->len;
    int rc = put_cql(sb, kind, cv);
    if (rc == 0 && sb->len >= at + 2 && sb->p[at] == '\'' && sb->p[sb->len - 1] == '\'') {
        memmove(sb->p + at, sb->p + at + 1, sb->len - at - 2);
        sb->len -= 2;
        sb->p[sb->len] = '\0';
    }
    return rc;
}

static void put_quoted_text(cqlc_sb_t *sb, const char *s, size_t n)
{
    cqlc_sb_putc(sb, '\'');
    size_t run = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\'') {
            cqlc_sb_put(sb, s + run, i + 1 - run);
            cqlc_sb_putc(sb, '\'');
            run = i + 1;
        }
    cqlc_sb_put(sb, s + run, n - run);
    cqlc_sb_putc(sb, '\'');
}

static int put_ext(cqlc_sb_t *sb, const cqlmq_value_t *v, const mpk_ext_t *e, cqlc_style_t style,
                   bool top)
{
    cql_value_t cv;
    cql_type_kind_t kind;
    int rc;
    bool quoted_kind = false;
    switch (e->type) {
    case WIRE_EXT_DECIMAL:
    case WIRE_EXT_VARINT: {
        char small[64];
        int n = cqlmq_value_number_text(v, small, sizeof small);
        if (n < 0)
            return n;
        if ((size_t)n < sizeof small) {
            cqlc_sb_put(sb, small, (size_t)n);
            return 0;
        }
        char *big = malloc((size_t)n + 1);
        if (big == NULL)
            return CQLMQ_ENOMEM;
        n = cqlmq_value_number_text(v, big, (size_t)n + 1);
        if (n >= 0)
            cqlc_sb_put(sb, big, (size_t)n);
        free(big);
        return n < 0 ? n : 0;
    }
    case WIRE_EXT_UUID: {
        uint8_t u[16];
        if ((rc = cqlmq_value_uuid(v, u)) != 0)
            return CQLMQ_EBADTYPE;
        cv = cql_value_uuid(u), kind = CQL_TYPE_UUID;
        break;
    }
    case WIRE_EXT_TIMESTAMP: {
        int64_t ms;
        if ((rc = cqlmq_value_timestamp_ms(v, &ms)) != 0)
            return CQLMQ_EBADTYPE;
        cv = cql_value_timestamp(ms), kind = CQL_TYPE_TIMESTAMP, quoted_kind = true;
        break;
    }
    case WIRE_EXT_DATE: {
        int32_t d;
        if ((rc = cqlmq_value_date(v, &d)) != 0)
            return CQLMQ_EBADTYPE;
        cv = cql_value_date_days(d), kind = CQL_TYPE_DATE, quoted_kind = true;
        break;
    }
    case WIRE_EXT_TIME: {
        int64_t ns;
        if ((rc = cqlmq_value_time(v, &ns)) != 0 || ns < 0 || ns > CQL_TIME_MAX)
            return CQLMQ_EBADTYPE;
        cv = cql_value_time(ns), kind = CQL_TYPE_TIME, quoted_kind = true;
        break;
    }
    case WIRE_EXT_DURATION: {
        int32_t mo, d;
        int64_t ns;
        if ((rc = cqlmq_value_duration(v, &mo, &d, &ns)) != 0)
            return CQLMQ_EBADTYPE;
        cv = cql_value_duration(mo, d, ns), kind = CQL_TYPE_DURATION;
        break;
    }
    case WIRE_EXT_INET: {
        uint8_t a[16];
        size_t n;
        if ((rc = cqlmq_value_inet(v, a, &n)) != 0)
            return CQLMQ_EBADTYPE;
        cv = cql_value_inet(a, n), kind = CQL_TYPE_INET, quoted_kind = true;
        break;
    }
    case WIRE_EXT_EMPTY:
        if (style == CQLC_STYLE_JSON) {
            cqlc_sb_puts(sb, "null");
            return 0;
        }
        if (v->type == NULL) {
            cqlc_sb_puts(sb, style == CQLC_STYLE_TEXT && top ? "" : "null");
            return 0;
        }
        cv = cql_value_empty(v->type->kind), kind = v->type->kind;
        return put_cql(sb, kind, &cv);
    default:
        return CQLMQ_EBADTYPE;
    }
    if (style == CQLC_STYLE_JSON) {
        /* toJson: strings of the text forms (durations too). */
        cqlc_sb_t tmp;
        cqlc_sb_init(&tmp);
        rc = quoted_kind ? put_unquoted(&tmp, kind, &cv) : put_cql(&tmp, kind, &cv);
        if (rc == 0 && tmp.err == 0)
            cqlc_json_string(sb, tmp.p ? tmp.p : "", tmp.len);
        rc = rc ? rc : tmp.err;
        cqlc_sb_close(&tmp);
        return rc;
    }
    if (quoted_kind && style == CQLC_STYLE_TEXT && top)
        return put_unquoted(sb, kind, &cv);
    return put_cql(sb, kind, &cv);
}

/* ---- values ---------------------------------------------------------- */

/* UDT field names: bare when a plain lower-case identifier. */
static void put_field_name(cqlc_sb_t *sb, const char *s, size_t n)
{
    bool plain = n > 0 && s[0] >= 'a' && s[0] <= 'z';
    for (size_t i = 0; i < n && plain; i++)
        plain = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_';
    if (plain) {
        cqlc_sb_put(sb, s, n);
        return;
    }
    cqlc_sb_putc(sb, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            cqlc_sb_putc(sb, '"');
        cqlc_sb_putc(sb, s[i]);
    }
    cqlc_sb_putc(sb, '"');
}

static int format(cqlc_sb_t *sb, const cqlmq_value_t *v, cqlc_style_t style, bool top, int depth);

static int put_container(cqlc_sb_t *sb, const cqlmq_value_t *v, cqlc_style_t style, int depth)
{
    cqlmq_iter_t it;
    int rc = cqlmq_value_iter(v, &it);
    bool json = style == CQLC_STYLE_JSON;
    if (rc != 0)
        return CQLMQ_EBADTYPE;
    cqlc_style_t inner = json ? CQLC_STYLE_JSON : CQLC_STYLE_LITERAL;
    const char *sep = json ? "," : ", ";
    if (!it.pairs) {
        cql_type_kind_t k = v->type ? v->type->kind : CQL_TYPE_LIST;
        const char *open = json ? "[" : k == CQL_TYPE_SET ? "{" : k == CQL_TYPE_TUPLE ? "(" : "[";
        const char *close = json ? "]" : k == CQL_TYPE_SET ? "}" : k == CQL_TYPE_TUPLE ? ")" : "]";
        cqlmq_value_t item;
        cqlc_sb_puts(sb, open);
        while ((rc = cqlmq_iter_next(&it, &item)) == 1) {
            if (it.index > 1)
                cqlc_sb_puts(sb, sep);
            if ((rc = format(sb, &item, inner, false, depth + 1)) != 0)
                return rc;
        }
        cqlc_sb_puts(sb, close);
        return rc < 0 ? rc : 0;
    }
    bool udt = v->type != NULL && v->type->kind == CQL_TYPE_UDT;
    cqlmq_value_t key, val;
    cqlc_sb_putc(sb, '{');
    while ((rc = cqlmq_iter_next_pair(&it, &key, &val)) == 1) {
        const char *s;
        size_t n;
        if (it.index > 1)
            cqlc_sb_puts(sb, sep);
        if (json) {
            /* Object keys are strings: text as is, others in text form. */
            if (cqlmq_value_text(&key, &s, &n) == 0) {
                cqlc_json_string(sb, s, n);
            } else {
                cqlc_sb_t tmp;
                cqlc_sb_init(&tmp);
                rc = format(&tmp, &key, CQLC_STYLE_TEXT, true, depth + 1);
                if (rc == 0 && tmp.err == 0)
                    cqlc_json_string(sb, tmp.p ? tmp.p : "", tmp.len);
                rc = rc ? rc : tmp.err;
                cqlc_sb_close(&tmp);
                if (rc != 0)
                    return rc;
            }
            cqlc_sb_putc(sb, ':');
        } else {
            if (udt && cqlmq_value_text(&key, &s, &n) == 0)
                put_field_name(sb, s, n);
            else if ((rc = format(sb, &key, CQLC_STYLE_LITERAL, false, depth + 1)) != 0)
                return rc;
            cqlc_sb_puts(sb, ": ");
        }
        if ((rc = format(sb, &val, inner, false, depth + 1)) != 0)
            return rc;
    }
    cqlc_sb_putc(sb, '}');
    return rc < 0 ? rc : 0;
}

static int format(cqlc_sb_t *sb, const cqlmq_value_t *v, cqlc_style_t style, bool top, int depth)
{
    mpk_rd_t r;
    mpk_obj_t o;
    cql_value_t cv;
    bool json = style == CQLC_STYLE_JSON;
    if (depth > MPK_MAX_DEPTH)
        return CQLMQ_ELIMIT;
    mpk_rd_init(&r, v->ptr, v->len);
    if (v->ptr == NULL || mpk_rd_any(&r, &o) != 0)
        return CQLMQ_EBADTYPE;
    switch (o.type) {
    case MPK_NIL:
        cqlc_sb_puts(sb, "null"); /* cqlsh shows null too */
        return 0;
    case MPK_BOOL: cqlc_sb_puts(sb, o.v.b ? "true" : "false"); return 0;
    case MPK_INT: cqlc_sb_printf(sb, "%lld", (long long)o.v.i); return 0;
    case MPK_UINT: cqlc_sb_printf(sb, "%llu", (unsigned long long)o.v.u); return 0;
    case MPK_F32:
    case MPK_F64: {
        double d = o.type == MPK_F32 ? (double)o.v.f32 : o.v.f64;
        bool finite = d == d && d - d == 0;
        if (json && !finite)
            cqlc_sb_putc(sb, '"');
        cv = o.type == MPK_F32 ? cql_value_float(o.v.f32) : cql_value_double(o.v.f64);
        int rc = put_cql(sb, o.type == MPK_F32 ? CQL_TYPE_FLOAT : CQL_TYPE_DOUBLE, &cv);
        if (json && !finite)
            cqlc_sb_putc(sb, '"');
        return rc;
    }
    case MPK_STR:
        if (json)
            cqlc_json_string(sb, o.v.str.ptr, o.v.str.len);
        else if (style == CQLC_STYLE_TEXT && top)
            cqlc_sb_put(sb, o.v.str.ptr, o.v.str.len);
        else
            put_quoted_text(sb, o.v.str.ptr, o.v.str.len);
        return 0;
    case MPK_BIN:
        if (json)
            cqlc_sb_putc(sb, '"');
        cqlc_sb_puts(sb, "0x");
        for (uint32_t i = 0; i < o.v.bin.len; i++)
            cqlc_sb_printf(sb, "%02x", o.v.bin.ptr[i]);
        if (json)
            cqlc_sb_putc(sb, '"');
        return 0;
    case MPK_EXT:
        return put_ext(sb, v, &o.v.ext, style, top);
    case MPK_ARRAY:
    case MPK_MAP:
        return put_container(sb, v, style, depth);
    }
    return CQLMQ_EBADTYPE;
}

int cqlc_format(cqlc_sb_t *sb, const cqlmq_value_t *v, cqlc_style_t style)
{
    size_t at = sb->len;
    int rc = format(sb, v, style, true, 0);
    if (rc == 0)
        rc = sb->err;
    if (rc != 0 && sb->err == 0) {
        sb->len = at;
        if (sb->p)
            sb->p[at] = '\0';
    }
    return rc;
}

int cqlmq_value_format(const cqlmq_value_t *v, char *buf, size_t cap)
{
    cqlc_sb_t sb;
    cqlc_sb_init(&sb);
    int rc = cqlc_format(&sb, v, CQLC_STYLE_LITERAL);
    if (rc == 0) {
        if (cap > 0) {
            size_t n = sb.len < cap - 1 ? sb.len : cap - 1;
            memcpy(buf, sb.p ? sb.p : "", n);
            buf[n] = '\0';
        }
        rc = sb.len > INT32_MAX ? CQLMQ_ERANGE : (int)sb.len;
    }
    cqlc_sb_close(&sb);
    return rc;
}
