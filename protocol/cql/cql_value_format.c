/*
 * cql_value_format: a value tree as a CQL literal, the way cqlsh prints it
 * (see cql_value_format in cql_value.h for every form). Decimals follow
 * Java's BigDecimal.toString, durations Cassandra's Duration.toString,
 * floats print the shortest text that reads back to the same bits.
 *
 * Output goes through an snprintf-style accumulator: the full length is
 * always counted, only what fits is stored. Varints and decimals longer than
 * a few dozen bytes take a scratch buffer from the sbuf's cql_mem_t
 * (CQLMQ_ENOMEM when it fails; nothing stays allocated).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cql_sbuf.h"
#include "cql_value.h"


static void sb_printf(cql_sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(cql_sbuf_t *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        cql_sb_putn(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void put_quoted(cql_sbuf_t *b, const char *s, size_t n, char q)
{
    cql_sb_putn(b, &q, 1);
    for (size_t i = 0; i < n; i++) {
        cql_sb_putn(b, s + i, 1);
        if (s[i] == q)
            cql_sb_putn(b, s + i, 1);
    }
    cql_sb_putn(b, &q, 1);
}

static void put_hex(cql_sbuf_t *b, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char two[2] = {hex[p[i] >> 4], hex[p[i] & 15]};
        cql_sb_putn(b, two, 2);
    }
}

/* ---- numbers --------------------------------------------------------- */

/* Decimal digits of a varint with its sign: into small, or a block from
 * mem returned in *heap (free it with mem). */
static int varint_text(const cql_varint_t *v, const cql_mem_t *mem, char *small,
                       size_t smallcap, char **s, char **heap)
{
    *heap = NULL;
    *s = small;
    if (v->ptr == NULL || v->fits) {
        snprintf(small, smallcap, "%" PRId64, v->i64);
        return 0;
    }
    int need = cql_varint_format_mem(v->ptr, v->len, small, smallcap, mem);
    if (need < 0)
        return need;
    if ((size_t)need >= smallcap) {
        if ((*heap = cql_mem_malloc(mem, (size_t)need + 1)) == NULL)
            return CQLMQ_ENOMEM;
        /* The second pass needs its own scratch, which may be refused too:
         * its result must be checked, or the text would be left unwritten. */
        int rc = cql_varint_format_mem(v->ptr, v->len, *heap, (size_t)need + 1, mem);
        if (rc < 0) {
            cql_mem_free(mem, *heap);
            *heap = NULL;
            return rc;
        }
        *s = *heap;
    }
    return 0;
}

static int put_varint(cql_sbuf_t *b, const cql_varint_t *v)
{
    char small[64], *s, *heap;
    int rc = varint_text(v, b->mem, small, sizeof small, &s, &heap);
    if (rc == 0)
        cql_sb_puts(b, s);
    cql_mem_free(b->mem, heap);
    return rc;
}

static void put_zeros(cql_sbuf_t *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        cql_sb_putn(b, "0", 1);
}

/* Java's BigDecimal.toString. */
static int put_decimal(cql_sbuf_t *b, int32_t scale, const cql_varint_t *unscaled)
{
    char small[64], *s, *heap;
    int rc = varint_text(unscaled, b->mem, small, sizeof small, &s, &heap);
    if (rc != 0)
        return rc;
    if (*s == '-') {
        cql_sb_putn(b, "-", 1);
        s++;
    }
    int64_t len = (int64_t)strlen(s);
    int64_t adjusted = -(int64_t)scale + (len - 1);
    if (scale == 0) {
        cql_sb_puts(b, s);
    } else if (scale > 0 && adjusted >= -6) {
        if (len > scale) {
            cql_sb_putn(b, s, (size_t)(len - scale));
            cql_sb_putn(b, ".", 1);
            cql_sb_puts(b, s + (len - scale));
        } else {
            cql_sb_puts(b, "0.");
            put_zeros(b, scale - len);
            cql_sb_puts(b, s);
        }
    } else {
        cql_sb_putn(b, s, 1);
        if (len > 1) {
            cql_sb_putn(b, ".", 1);
            cql_sb_puts(b, s + 1);
        }
        sb_printf(b, "E%s%" PRId64, adjusted > 0 ? "+" : "", adjusted);
    }
    cql_mem_free(b->mem, heap);
    return 0;
}

static void put_double(cql_sbuf_t *b, double d, bool is_float)
{
    if (isnan(d)) {
        cql_sb_puts(b, "NaN");
        return;
    }
    if (isinf(d)) {
        cql_sb_puts(b, d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (is_float ? strtof(tmp, NULL) == (float)d : strtod(tmp, NULL) == d)
            break;
    }
    if (d == 0 && signbit(d)) /* "-0" would read back as the integer 0 */
        snprintf(tmp, sizeof tmp, "-0.0");
    cql_sb_puts(b, tmp);
}

/* ---- dates and times ------------------------------------------------- */

/* Proleptic Gregorian date of a day count from 1970-01-01 (H. Hinnant). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static void put_timestamp(cql_sbuf_t *b, int64_t ms)
{
    int64_t days = ms / 86400000, rem = ms % 86400000;
    if (rem < 0) { /* floor, without overflowing near INT64_MIN */
        rem += 86400000;
        days--;
    }
    int64_t y;
    int mo, d;
    civil_from_days(days, &y, &mo, &d);
    if (y < 1 || y > 9999) {
        sb_printf(b, "%" PRId64, ms);
        return;
    }
    sb_printf(b, "'%04d-%02d-%02d %02d:%02d:%02d.%06d+0000'", (int)y, mo, d,
              (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
              (int)(rem % 1000) * 1000);
}

static void put_date(cql_sbuf_t *b, uint32_t raw)
{
    int64_t y;
    int mo, d;
    civil_from_days((int64_t)raw - CQL_DATE_EPOCH, &y, &mo, &d);
    if (y < 1 || y > 9999)
        sb_printf(b, "%" PRIu32, raw);
    else
        sb_printf(b, "'%04d-%02d-%02d'", (int)y, mo, d);
}

static void put_time(cql_sbuf_t *b, int64_t ns)
{
    if (ns < 0 || ns > CQL_TIME_MAX) {
        sb_printf(b, "%" PRId64, ns);
        return;
    }
    int64_t s = ns / 1000000000;
    sb_printf(b, "'%02d:%02d:%02d.%09d'", (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60),
              (int)(ns % 1000000000));
}

/* Appends q units of v (as Cassandra's Duration.append); returns the rest. */
static uint64_t dur_part(cql_sbuf_t *b, uint64_t v, uint64_t unit, const char *name)
{
    if (v == 0 || v < unit)
        return v;
    sb_printf(b, "%" PRIu64 "%s", v / unit, name);
    return v % unit;
}

static void put_duration(cql_sbuf_t *b, int32_t months, int32_t days, int64_t nanos)
{
    if (months == 0 && days == 0 && nanos == 0) {
        cql_sb_puts(b, "0s");
        return;
    }
    if (months < 0 || days < 0 || nanos < 0)
        cql_sb_putn(b, "-", 1);
    uint64_t m = months < 0 ? (uint64_t)0 - (uint64_t)(int64_t)months : (uint64_t)months;
    uint64_t d = days < 0 ? (uint64_t)0 - (uint64_t)(int64_t)days : (uint64_t)days;
    uint64_t n = nanos < 0 ? (uint64_t)0 - (uint64_t)nanos : (uint64_t)nanos;
    dur_part(b, dur_part(b, m, 12, "y"), 1, "mo");
    dur_part(b, d, 1, "d");
    static const struct {
        uint64_t unit;
        const char *name;
    } units[] = {{UINT64_C(3600000000000), "h"}, {UINT64_C(60000000000), "m"},
                 {1000000000, "s"}, {1000000, "ms"}, {1000, "us"}, {1, "ns"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        n = dur_part(b, n, units[i].unit, units[i].name);
}

static void put_uuid(cql_sbuf_t *b, const uint8_t *u)
{
    put_hex(b, u, 4);
    cql_sb_putn(b, "-", 1);
    put_hex(b, u + 4, 2);
    cql_sb_putn(b, "-", 1);
    put_hex(b, u + 6, 2);
    cql_sb_putn(b, "-", 1);
    put_hex(b, u + 8, 2);
    cql_sb_putn(b, "-", 1);
    put_hex(b, u + 10, 6);
}

/* ---- the walk -------------------------------------------------------- */

static bool is_int_kind(cql_type_kind_t k)
{
    return k == CQL_TYPE_TINYINT || k == CQL_TYPE_SMALLINT || k == CQL_TYPE_INT ||
           k == CQL_TYPE_BIGINT || k == CQL_TYPE_COUNTER || k == CQL_TYPE_VARINT;
}

static bool kinds_fit(cql_type_kind_t t, cql_type_kind_t v)
{
    if (t == v)
        return true;
    if (is_int_kind(t) && is_int_kind(v))
        return true;
    if ((t == CQL_TYPE_ASCII || t == CQL_TYPE_VARCHAR) &&
        (v == CQL_TYPE_ASCII || v == CQL_TYPE_VARCHAR))
        return true;
    return (t == CQL_TYPE_UUID || t == CQL_TYPE_TIMEUUID) &&
           (v == CQL_TYPE_UUID || v == CQL_TYPE_TIMEUUID);
}

static bool needs_quotes(const char *s)
{
    if (!(s[0] >= 'a' && s[0] <= 'z'))
        return true;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return true;
    return false;
}

static int fmt_rec(cql_sbuf_t *b, const cql_type_t *t, const cql_value_t *v, int depth);

static int fmt_items(cql_sbuf_t *b, const cql_type_t *t, const cql_value_t *v, int depth)
{
    const char *open = "[", *close = "]";
    if (t->kind == CQL_TYPE_SET || t->kind == CQL_TYPE_MAP || t->kind == CQL_TYPE_UDT)
        open = "{", close = "}";
    else if (t->kind == CQL_TYPE_TUPLE)
        open = "(", close = ")";
    size_t per = t->kind == CQL_TYPE_MAP ? 2 : 1;
    size_t n = v->u.coll.n;
    if ((t->kind == CQL_TYPE_TUPLE || t->kind == CQL_TYPE_UDT) && n > t->nsub)
        return CQLMQ_EBADTYPE;
    if (per != 1 && t->nsub != 2)
        return CQLMQ_EBADTYPE;
    cql_sb_puts(b, open);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            cql_sb_puts(b, ", ");
        int rc;
        if (t->kind == CQL_TYPE_UDT) {
            const char *f = t->field_names[i];
            if (needs_quotes(f))
                put_quoted(b, f, strlen(f), '"');
            else
                cql_sb_puts(b, f);
            cql_sb_puts(b, ": ");
        }
        if (per == 2) {
            if ((rc = fmt_rec(b, t->sub[0], &v->u.coll.items[2 * i], depth + 1)) != 0)
                return rc;
            cql_sb_puts(b, ": ");
            rc = fmt_rec(b, t->sub[1], &v->u.coll.items[2 * i + 1], depth + 1);
        } else {
            const cql_type_t *st = t->kind == CQL_TYPE_LIST || t->kind == CQL_TYPE_SET ? t->sub[0]
                                                                                     : t->sub[i];
            rc = fmt_rec(b, st, &v->u.coll.items[i], depth + 1);
        }
        if (rc != 0)
            return rc;
    }
    cql_sb_puts(b, close);
    return 0;
}

static int fmt_rec(cql_sbuf_t *b, const cql_type_t *t, const cql_value_t *v, int depth)
{
    if (depth >= CQL_VALUE_MAX_DEPTH)
        return CQLMQ_ELIMIT;
    if (v->state == CQL_VALUE_NULL || v->state == CQL_VALUE_NOT_SET) {
        cql_sb_puts(b, "null");
        return 0;
    }
    if (v->state == CQL_VALUE_EMPTY) {
        const char *name = cql_type_kind_name(t->kind);
        if (t->kind >= CQL_TYPE_LIST || t->kind == CQL_TYPE_CUSTOM || name == NULL) {
            cql_sb_puts(b, "null");
        } else {
            char cap[16];
            snprintf(cap, sizeof cap, "%s", name);
            cap[0] = (char)(cap[0] - 'a' + 'A');
            sb_printf(b, "blobAs%s(0x)", cap);
        }
        return 0;
    }
    if (!kinds_fit(t->kind, v->kind))
        return CQLMQ_EBADTYPE;
    switch (v->kind) {
    case CQL_TYPE_ASCII:
    case CQL_TYPE_VARCHAR:
        put_quoted(b, (const char *)v->u.raw.ptr, v->u.raw.len, '\'');
        return 0;
    case CQL_TYPE_BLOB:
    case CQL_TYPE_CUSTOM:
        cql_sb_puts(b, "0x");
        put_hex(b, v->u.raw.ptr, v->u.raw.len);
        return 0;
    case CQL_TYPE_BOOLEAN:
        cql_sb_puts(b, v->u.b ? "true" : "false");
        return 0;
    case CQL_TYPE_TINYINT:
    case CQL_TYPE_SMALLINT:
    case CQL_TYPE_INT:
    case CQL_TYPE_BIGINT:
    case CQL_TYPE_COUNTER:
        sb_printf(b, "%" PRId64, v->u.i);
        return 0;
    case CQL_TYPE_VARINT:
        return put_varint(b, &v->u.varint);
    case CQL_TYPE_DECIMAL:
        return put_decimal(b, v->u.decimal.scale, &v->u.decimal.unscaled);
    case CQL_TYPE_FLOAT:
        put_double(b, v->u.f, true);
        return 0;
    case CQL_TYPE_DOUBLE:
        put_double(b, v->u.d, false);
        return 0;
    case CQL_TYPE_TIMESTAMP:
        put_timestamp(b, v->u.i);
        return 0;
    case CQL_TYPE_DATE:
        put_date(b, v->u.date);
        return 0;
    case CQL_TYPE_TIME:
        put_time(b, v->u.i);
        return 0;
    case CQL_TYPE_DURATION:
        put_duration(b, v->u.duration.months, v->u.duration.days, v->u.duration.nanos);
        return 0;
    case CQL_TYPE_UUID:
    case CQL_TYPE_TIMEUUID:
        put_uuid(b, v->u.uuid);
        return 0;
    case CQL_TYPE_INET: {
        char tmp[INET6_ADDRSTRLEN];
        if (inet_ntop(v->u.inet.size == 16 ? AF_INET6 : AF_INET, v->u.inet.addr, tmp,
                      sizeof tmp) == NULL)
            return CQLMQ_EBADTYPE;
        put_quoted(b, tmp, strlen(tmp), '\'');
        return 0;
    }
    case CQL_TYPE_LIST:
    case CQL_TYPE_SET:
    case CQL_TYPE_MAP:
    case CQL_TYPE_TUPLE:
    case CQL_TYPE_UDT:
        return fmt_items(b, t, v, depth);
    default:
        return CQLMQ_EBADTYPE;
    }
}

int cql_value_format(const cql_type_t *t, const cql_value_t *v, char *buf, size_t cap)
{
    return cql_value_format_mem(t, v, buf, cap, NULL);
}

int cql_value_format_mem(const cql_type_t *t, const cql_value_t *v, char *buf, size_t cap,
                         const cql_mem_t *mem)
{
    cql_sbuf_t b = {buf, buf != NULL ? cap : 0, 0, mem};
    int rc = fmt_rec(&b, t, v, 0);
    if (b.cap > 0)
        b.buf[b.len < b.cap ? b.len : b.cap - 1] = '\0';
    if (rc != 0)
        return rc;
    return b.len > INT_MAX ? CQLMQ_ERANGE : (int)b.len;
}
