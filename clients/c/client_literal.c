/*
 * client_literal: cqlsh literals -> msgpack values of the contract. Given a
 * CQL type (from a prepared statement's bind markers) and the text a user
 * typed, writes the value the gateway binds: 42 -> int, '2024-01-02' ->
 * ext 5, {'a': [1, 2]} -> a map of arrays, and so on for every type
 * (docs/protocol.md section 8). Text forms reuse the wire layer's parsers
 * (wire_parse_uuid, _timestamp, _date, _time, _duration, _inet, the varint
 * and decimal digit converters), so the CLI accepts what the gateway does.
 *
 * Grammar (cqlsh's): 'text' with '' for a quote, $$text$$; numbers; NaN,
 * Infinity; true/false; null; 0xhex; uuids bare; [list], {set},
 * {key: value}, (tuple), {field: value}. At the top level of a text type,
 * input that is not quoted is the text itself; at the top level of other
 * scalar types the quotes are optional ("--param 2024-01-02 10:00").
 *
 * Container headers are written with a 5-byte placeholder and patched to
 * the smallest form once their items are counted. Nesting is bounded.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cqlc_int.h"
#include "cqlc_output.h"
#include "wire_value.h"

#define LIT_MAX_DEPTH 32

typedef struct lit {
    const char *s;  /* the text (borrowed) */
    size_t n;       /* its length */
    size_t pos;     /* next byte; pos <= n */
    mpk_wr_t *w;    /* output */
    char *why;      /* error message buffer */
    size_t why_cap;
} lit_t;

static int fail(lit_t *p, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(lit_t *p, int rc, const char *fmt, ...)
{
    char msg[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->why != NULL && p->why_cap > 0)
        snprintf(p->why, p->why_cap, "at %zu: %s", p->pos, msg);
    return rc;
}

static void skip_ws(lit_t *p)
{
    while (p->pos < p->n && isspace((unsigned char)p->s[p->pos]))
        p->pos++;
}
static bool at(const lit_t *p, char c) { return p->pos < p->n && p->s[p->pos] == c; }
static bool eat(lit_t *p, char c)
{
    skip_ws(p);
    if (!at(p, c))
        return false;
    p->pos++;
    return true;
}

static bool is_delim(char c)
{
    return c == ',' || c == ']' || c == '}' || c == ')' || c == ':' || isspace((unsigned char)c);
}

/* A bare token: the rest (trimmed) at the top level, else up to a delimiter. */
static void bare(lit_t *p, bool top, const char **s, size_t *n)
{
    skip_ws(p);
    size_t start = p->pos, end = p->pos;
    if (top) {
        end = p->n;
        while (end > start && isspace((unsigned char)p->s[end - 1]))
            end--;
    } else {
        while (end < p->n && !is_delim(p->s[end]))
            end++;
    }
    *s = p->s + start;
    *n = end - start;
    p->pos = end;
}

/* Case-insensitive keyword followed by a delimiter or the end. */
static bool keyword(lit_t *p, const char *kw)
{
    skip_ws(p);
    size_t k = strlen(kw);
    if (p->n - p->pos < k || strncasecmp(p->s + p->pos, kw, k) != 0)
        return false;
    if (p->pos + k < p->n && !is_delim(p->s[p->pos + k]))
        return false;
    p->pos += k;
    return true;
}

/* 'text' ('' is a quote) or $$text$$, into sb. */
static int quoted(lit_t *p, cqlc_sb_t *sb)
{
    skip_ws(p);
    if (p->n - p->pos >= 2 && p->s[p->pos] == '$' && p->s[p->pos + 1] == '$') {
        const char *end = NULL;
        for (size_t i = p->pos + 2; i + 1 < p->n; i++)
            if (p->s[i] == '$' && p->s[i + 1] == '$') {
                end = p->s + i;
                break;
            }
        if (end == NULL)
            return fail(p, CQLMQ_ESYNTAX, "unterminated $$ string");
        cqlc_sb_put(sb, p->s + p->pos + 2, (size_t)(end - (p->s + p->pos + 2)));
        p->pos = (size_t)(end - p->s) + 2;
        return sb->err;
    }
    if (!at(p, '\''))
        return fail(p, CQLMQ_ESYNTAX, "expected a quoted string");
    size_t i = p->pos + 1;
    for (;;) {
        if (i >= p->n)
            return fail(p, CQLMQ_ESYNTAX, "unterminated string");
        if (p->s[i] == '\'') {
            if (i + 1 < p->n && p->s[i + 1] == '\'') {
                cqlc_sb_putc(sb, '\'');
                i += 2;
                continue;
            }
            break;
        }
        cqlc_sb_putc(sb, p->s[i++]);
    }
    p->pos = i + 1;
    return sb->err;
}

static bool starts_quoted(lit_t *p)
{
    skip_ws(p);
    return at(p, '\'') || (p->n - p->pos >= 2 && p->s[p->pos] == '$' && p->s[p->pos + 1] == '$');
}

/* A scalar's text: quoted, or a bare token. *sb holds it. */
static int scalar_text(lit_t *p, bool top, cqlc_sb_t *sb)
{
    if (starts_quoted(p))
        return quoted(p, sb);
    const char *s;
    size_t n;
    bare(p, top, &s, &n);
    if (n == 0)
        return fail(p, CQLMQ_ESYNTAX, "expected a value");
    cqlc_sb_put(sb, s, n);
    return sb->err;
}

/* ---- container headers ---------------------------------------------- */

static size_t open_hdr(lit_t *p, bool map)
{
    size_t where = p->w->len;
    uint8_t h[5] = {map ? 0xdf : 0xdd, 0, 0, 0, 0};
    mpk_wr_raw(p->w, h, 5);
    return where;
}

static void close_hdr(lit_t *p, size_t where, bool map, uint32_t count)
{
    mpk_wr_t *w = p->w;
    if (mpk_wr_error(w))
        return;
    uint8_t h[5];
    size_t hn;
    if (count <= 15) {
        h[0] = (uint8_t)((map ? 0x80 : 0x90) | count), hn = 1;
    } else if (count <= 0xffff) {
        h[0] = map ? 0xde : 0xdc, h[1] = (uint8_t)(count >> 8), h[2] = (uint8_t)count, hn = 3;
    } else {
        h[0] = map ? 0xdf : 0xdd, hn = 5;
        h[1] = (uint8_t)(count >> 24), h[2] = (uint8_t)(count >> 16);
        h[3] = (uint8_t)(count >> 8), h[4] = (uint8_t)count;
    }
    size_t body = w->len - where - 5;
    memmove(w->data + where + hn, w->data + where + 5, body);
    memcpy(w->data + where, h, hn);
    mpk_wr_truncate(w, where + hn + body);
}

/* ---- values ---------------------------------------------------------- */

static int value(lit_t *p, const cql_type_t *t, bool top, int depth);

static int map_wire_rc(lit_t *p, int rc, const char *what)
{
    if (rc == CQLMQ_ERANGE)
        return fail(p, CQLMQ_ERANGE, "%s out of range", what);
    if (rc == CQLMQ_ENOMEM)
        return rc;
    return fail(p, CQLMQ_ESYNTAX, "not a %s", what);
}

static int integer(lit_t *p, const cql_type_t *t, bool top)
{
    const char *s;
    size_t n;
    char buf[32];
    bare(p, top, &s, &n);
    if (t->kind == CQL_TYPE_VARINT) {
        int rc = n ? cqlc_put_varint_text(p->w, s, n) : CQLMQ_EBADTYPE;
        return rc ? map_wire_rc(p, rc, "varint") : 0;
    }
    if (n == 0 || n >= sizeof buf)
        return fail(p, n ? CQLMQ_ERANGE : CQLMQ_ESYNTAX, "expected an integer");
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (*end != '\0' || !(isdigit((unsigned char)buf[0]) || buf[0] == '-' || buf[0] == '+'))
        return fail(p, CQLMQ_ESYNTAX, "'%s' is not an integer", buf);
    int64_t lo = INT64_MIN, hi = INT64_MAX;
    if (t->kind == CQL_TYPE_TINYINT)
        lo = -128, hi = 127;
    else if (t->kind == CQL_TYPE_SMALLINT)
        lo = -32768, hi = 32767;
    else if (t->kind == CQL_TYPE_INT)
        lo = INT32_MIN, hi = INT32_MAX;
    if (errno == ERANGE || v < lo || v > hi)
        return fail(p, CQLMQ_ERANGE, "%s out of range for %s", buf, cql_type_kind_name(t->kind));
    mpk_wr_int(p->w, v);
    return 0;
}

static int floating(lit_t *p, const cql_type_t *t, bool top)
{
    const char *s;
    size_t n;
    char buf[64];
    bare(p, top, &s, &n);
    if (n == 0 || n >= sizeof buf)
        return fail(p, CQLMQ_ESYNTAX, "expected a number");
    memcpy(buf, s, n);
    buf[n] = '\0';
    double d;
    if (strcmp(buf, "NaN") == 0) {
        d = NAN;
    } else if (strcmp(buf, "Infinity") == 0 || strcmp(buf, "+Infinity") == 0) {
        d = INFINITY;
    } else if (strcmp(buf, "-Infinity") == 0) {
        d = -INFINITY;
    } else {
        char *end;
        for (size_t i = 0; i < n; i++)
            if (!(isdigit((unsigned char)buf[i]) || strchr("+-.eE", buf[i])))
                return fail(p, CQLMQ_ESYNTAX, "'%s' is not a number", buf);
        errno = 0;
        d = strtod(buf, &end);
        if (*end != '\0' || end == buf)
            return fail(p, CQLMQ_ESYNTAX, "'%s' is not a number", buf);
        if (errno == ERANGE && isinf(d))
            return fail(p, CQLMQ_ERANGE, "%s out of range", buf);
    }
    if (t->kind == CQL_TYPE_FLOAT) {
        if (isfinite(d) && fabs(d) > 3.4028234663852886e38)
            return fail(p, CQLMQ_ERANGE, "%s out of range for float", buf);
        mpk_wr_f32(p->w, (float)d);
    } else {
        mpk_wr_f64(p->w, d);
    }
    return 0;
}

static int blob(lit_t *p, bool top)
{
    const char *s;
    size_t n;
    bare(p, top, &s, &n);
    if (n < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || (n - 2) % 2 != 0)
        return fail(p, CQLMQ_ESYNTAX, "expected 0x and pairs of hex digits");
    size_t len = (n - 2) / 2;
    mpk_wr_bin_hdr(p->w, (uint32_t)len);
    for (size_t i = 0; i < len; i++) {
        char hex[3] = {s[2 + 2 * i], s[3 + 2 * i], 0};
        if (!isxdigit((unsigned char)hex[0]) || !isxdigit((unsigned char)hex[1]))
            return fail(p, CQLMQ_ESYNTAX, "bad hex digit");
        uint8_t b = (uint8_t)strtoul(hex, NULL, 16);
        mpk_wr_raw(p->w, &b, 1);
    }
    return 0;
}

/* Scalars whose text form the wire layer parses. */
static int text_form(lit_t *p, const cql_type_t *t, bool top)
{
    cqlc_sb_t sb;
    int rc;
    cqlc_sb_init(&sb);
    if ((rc = scalar_text(p, top, &sb)) != 0)
        goto out;
    const char *s = sb.p;
    size_t n = sb.len;
    bool digits = n > 0;
    for (size_t i = (n > 0 && s[0] == '-') ? 1 : 0; i < n && digits; i++)
        digits = isdigit((unsigned char)s[i]);
    switch (t->kind) {
    case CQL_TYPE_UUID:
    case CQL_TYPE_TIMEUUID: {
        uint8_t u[16];
        if ((rc = wire_parse_uuid(s, n, u)) != 0)
            rc = map_wire_rc(p, rc, "uuid");
        else
            mpk_wr_ext(p->w, WIRE_EXT_UUID, u, 16);
        break;
    }
    case CQL_TYPE_TIMESTAMP: {
        int64_t ms;
        if (digits && n < 20) {
            cqlc_put_timestamp(p->w, strtoll(s, NULL, 10));
        } else if ((rc = wire_parse_timestamp(s, n, &ms)) != 0) {
            rc = map_wire_rc(p, rc, "timestamp");
        } else {
            cqlc_put_timestamp(p->w, ms);
        }
        break;
    }
    case CQL_TYPE_DATE: {
        int32_t days;
        if (digits && s[0] != '-' && n < 11) {
            /* A raw date: unsigned days with 1970-01-01 at 2^31. */
            unsigned long long raw = strtoull(s, NULL, 10);
            if (raw > UINT32_MAX)
                rc = fail(p, CQLMQ_ERANGE, "date out of range");
            else
                cqlc_put_i32_ext(p->w, WIRE_EXT_DATE, (int32_t)((int64_t)raw - 2147483648LL));
        } else if ((rc = wire_parse_date(s, n, &days)) != 0) {
            rc = map_wire_rc(p, rc, "date");
        } else {
            cqlc_put_i32_ext(p->w, WIRE_EXT_DATE, days);
        }
        break;
    }
    case CQL_TYPE_TIME: {
        int64_t ns;
        if (digits && s[0] != '-' && n < 20) {
            ns = strtoll(s, NULL, 10);
            if (ns > INT64_C(86399999999999))
                rc = fail(p, CQLMQ_ERANGE, "time out of range");
            else
                cqlc_put_i64_ext(p->w, WIRE_EXT_TIME, ns);
        } else if ((rc = wire_parse_time(s, n, &ns)) != 0) {
            rc = map_wire_rc(p, rc, "time");
        } else {
            cqlc_put_i64_ext(p->w, WIRE_EXT_TIME, ns);
        }
        break;
    }
    case CQL_TYPE_DURATION: {
        int32_t mo, d;
        int64_t ns;
        if ((rc = wire_parse_duration(s, n, &mo, &d, &ns)) != 0)
            rc = map_wire_rc(p, rc, "duration");
        else
            cqlc_put_duration(p->w, mo, d, ns);
        break;
    }
    case CQL_TYPE_INET: {
        uint8_t a[16], size;
        if ((rc = wire_parse_inet(s, n, a, &size)) != 0)
            rc = map_wire_rc(p, rc, "inet address");
        else
            mpk_wr_ext(p->w, WIRE_EXT_INET, a, size);
        break;
    }
    case CQL_TYPE_DECIMAL:
        if ((rc = cqlc_put_decimal_text(p->w, s, n)) != 0)
            rc = map_wire_rc(p, rc, "decimal");
        break;
    default:
        rc = fail(p, CQLMQ_ESYNTAX, "unsupported type");
        break;
    }
out:
    rc = rc ? rc : sb.err;
    cqlc_sb_close(&sb);
    return rc;
}

static int text(lit_t *p, const cql_type_t *t, bool top)
{
    cqlc_sb_t sb;
    int rc;
    cqlc_sb_init(&sb);
    if (top && !starts_quoted(p)) {
        /* Bare text at the top level is the text itself, as typed. */
        cqlc_sb_put(&sb, p->s + p->pos, p->n - p->pos);
        p->pos = p->n;
        rc = sb.err;
    } else {
        rc = quoted(p, &sb);
    }
    if (rc == 0 && t != NULL && t->kind == CQL_TYPE_ASCII)
        for (size_t i = 0; i < sb.len; i++)
            if ((unsigned char)sb.p[i] > 127) {
                rc = fail(p, CQLMQ_ERANGE, "non-ASCII character in an ascii value");
                break;
            }
    if (rc == 0)
        mpk_wr_str(p->w, sb.p ? sb.p : "", sb.len);
    cqlc_sb_close(&sb);
    return rc;
}

/* A UDT field name: identifier (folded to lower case) or "quoted". */
static int field_name(lit_t *p, cqlc_sb_t *sb)
{
    skip_ws(p);
    if (at(p, '"')) {
        size_t i = p->pos + 1;
        for (;;) {
            if (i >= p->n)
                return fail(p, CQLMQ_ESYNTAX, "unterminated quoted name");
            if (p->s[i] == '"') {
                if (i + 1 < p->n && p->s[i + 1] == '"') {
                    cqlc_sb_putc(sb, '"');
                    i += 2;
                    continue;
                }
                break;
            }
            cqlc_sb_putc(sb, p->s[i++]);
        }
        p->pos = i + 1;
        return sb->err;
    }
    size_t start = p->pos;
    while (p->pos < p->n && (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_'))
        cqlc_sb_putc(sb, (char)tolower((unsigned char)p->s[p->pos++]));
    if (p->pos == start || isdigit((unsigned char)p->s[start]))
        return fail(p, CQLMQ_ESYNTAX, "expected a field name");
    return sb->err;
}

/* [a, b] (list), {a, b} (set), (a, b) (tuple): items of t's sub-types. */
static int sequence(lit_t *p, const cql_type_t *t, char open, char close, int depth)
{
    if (!eat(p, open))
        return fail(p, CQLMQ_ESYNTAX, "expected '%c'", open);
    size_t where = open_hdr(p, false);
    uint32_t count = 0;
    if (!eat(p, close)) {
        for (;;) {
            if (t != NULL && t->kind == CQL_TYPE_TUPLE && count >= t->nsub)
                return fail(p, CQLMQ_ESYNTAX, "too many tuple components");
            int rc = value(p, cqlc_item_type(t, count, false), false, depth + 1);
            if (rc != 0)
                return rc;
            count++;
            if (eat(p, close))
                break;
            if (!eat(p, ','))
                return fail(p, CQLMQ_ESYNTAX, "expected ',' or '%c'", close);
        }
    }
    close_hdr(p, where, false, count);
    return 0;
}

/* {k: v, ...}: a map (t MAP), a UDT (t UDT), or untyped (identifier keys
 * are field names). */
static int pairs(lit_t *p, const cql_type_t *t, int depth)
{
    if (!eat(p, '{'))
        return fail(p, CQLMQ_ESYNTAX, "expected '{'");
    size_t where = open_hdr(p, true);
    uint32_t count = 0;
    bool udt = t == NULL || t->kind == CQL_TYPE_UDT;
    if (!eat(p, '}')) {
        for (;;) {
            const cql_type_t *vt;
            int rc;
            skip_ws(p);
            if (udt && (at(p, '"') || (p->pos < p->n && (isalpha((unsigned char)p->s[p->pos]) ||
                                                         p->s[p->pos] == '_')))) {
                cqlc_sb_t name;
                cqlc_sb_init(&name);
                rc = field_name(p, &name);
                if (rc == 0)
                    mpk_wr_str(p->w, name.p ? name.p : "", name.len);
                vt = rc == 0 ? cqlc_udt_field_type(t, name.p ? name.p : "", name.len) : NULL;
                cqlc_sb_close(&name);
            } else {
                rc = value(p, cqlc_item_type(t, count, true), false, depth + 1);
                vt = cqlc_item_type(t, count, false);
            }
            if (rc != 0)
                return rc;
            if (!eat(p, ':'))
                return fail(p, CQLMQ_ESYNTAX, "expected ':'");
            if ((rc = value(p, vt, false, depth + 1)) != 0)
                return rc;
            count++;
            if (eat(p, '}'))
                break;
            if (!eat(p, ','))
                return fail(p, CQLMQ_ESYNTAX, "expected ',' or '}'");
        }
    }
    close_hdr(p, where, true, count);
    return 0;
}

/* No type known (a UDT's fields): the literal's form decides. */
static int untyped(lit_t *p, int depth)
{
    skip_ws(p);
    if (p->pos >= p->n)
        return fail(p, CQLMQ_ESYNTAX, "expected a value");
    char c = p->s[p->pos];
    if (starts_quoted(p))
        return text(p, NULL, false);
    if (c == '[')
        return sequence(p, NULL, '[', ']', depth);
    if (c == '(')
        return sequence(p, NULL, '(', ')', depth);
    if (c == '{') {
        /* A set unless its first item is followed by ':'. */
        lit_t probe = *p;
        mpk_wr_t scratch;
        mpk_wr_init(&scratch);
        probe.w = &scratch;
        probe.why = NULL;
        probe.pos++;
        bool is_map = eat(&probe, '}');
        if (!is_map) {
            lit_t q = probe;
            cqlc_sb_t name;
            cqlc_sb_init(&name);
            is_map = field_name(&q, &name) == 0 && eat(&q, ':');
            cqlc_sb_close(&name);
            if (!is_map) {
                q = probe;
                is_map = value(&q, NULL, false, depth + 1) == 0 && eat(&q, ':');
            }
        }
        mpk_wr_close(&scratch);
        return is_map ? pairs(p, NULL, depth) : sequence(p, NULL, '{', '}', depth);
    }
    if (keyword(p, "true") || keyword(p, "false")) {
        mpk_wr_bool(p->w, tolower((unsigned char)c) == 't');
        return 0;
    }
    const char *s;
    size_t n;
    size_t save = p->pos;
    bare(p, false, &s, &n);
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        p->pos = save;
        return blob(p, false);
    }
    uint8_t u[16];
    if (wire_parse_uuid(s, n, u) == 0) {
        mpk_wr_ext(p->w, WIRE_EXT_UUID, u, 16);
        return 0;
    }
    bool integral = n > 0;
    for (size_t i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0; i < n && integral; i++)
        integral = isdigit((unsigned char)s[i]);
    if (integral && n > ((s[0] == '-' || s[0] == '+') ? 1u : 0u)) {
        int rc = cqlc_put_varint_text(p->w, s, n);
        return rc ? map_wire_rc(p, rc, "number") : 0;
    }
    p->pos = save;
    cql_type_t dbl = {.kind = CQL_TYPE_DOUBLE};
    int rc = floating(p, &dbl, false);
    if (rc != 0)
        return fail(p, CQLMQ_ESYNTAX, "cannot tell the type of '%.*s' (quote text)",
                    (int)(n > 40 ? 40 : n), s);
    return 0;
}

static int value(lit_t *p, const cql_type_t *t, bool top, int depth)
{
    if (depth > LIT_MAX_DEPTH)
        return fail(p, CQLMQ_ESYNTAX, "nested too deep");
    skip_ws(p);
    if (keyword(p, "null")) {
        mpk_wr_nil(p->w);
        return 0;
    }
    if (t == NULL)
        return untyped(p, depth);
    switch (t->kind) {
    case CQL_TYPE_BOOLEAN:
        if (keyword(p, "true"))
            mpk_wr_bool(p->w, true);
        else if (keyword(p, "false"))
            mpk_wr_bool(p->w, false);
        else
            return fail(p, CQLMQ_ESYNTAX, "expected true or false");
        return 0;
    case CQL_TYPE_TINYINT:
    case CQL_TYPE_SMALLINT:
    case CQL_TYPE_INT:
    case CQL_TYPE_BIGINT:
    case CQL_TYPE_COUNTER:
    case CQL_TYPE_VARINT:
        return integer(p, t, top);
    case CQL_TYPE_FLOAT:
    case CQL_TYPE_DOUBLE:
        return floating(p, t, top);
    case CQL_TYPE_ASCII:
    case CQL_TYPE_VARCHAR:
        return text(p, t, top);
    case CQL_TYPE_BLOB:
    case CQL_TYPE_CUSTOM:
        return blob(p, top);
    case CQL_TYPE_LIST:
        return sequence(p, t, '[', ']', depth);
    case CQL_TYPE_SET:
        return sequence(p, t, '{', '}', depth);
    case CQL_TYPE_TUPLE:
        return sequence(p, t, '(', ')', depth);
    case CQL_TYPE_MAP:
    case CQL_TYPE_UDT:
        return pairs(p, t, depth);
    default:
        return text_form(p, t, top);
    }
}

int cqlc_literal_to_mpk(mpk_wr_t *w, const cql_type_t *t, const char *s, size_t n, char *why,
                        size_t why_cap)
{
    lit_t p = {s, n, 0, w, why, why_cap};
    size_t start = w->len;
    if (why != NULL && why_cap > 0)
        why[0] = '\0';
    int rc = value(&p, t, true, 0);
    if (rc == 0) {
        skip_ws(&p);
        if (p.pos != p.n)
            rc = fail(&p, CQLMQ_ESYNTAX, "unexpected text after the value");
    }
    if (rc == 0 && mpk_wr_error(w))
        rc = mpk_wr_error(w);
    if (rc != 0 && !mpk_wr_error(w))
        mpk_wr_truncate(w, start);
    return rc;
}
