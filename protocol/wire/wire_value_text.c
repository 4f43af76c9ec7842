/*
 * wire_value_text: the text forms a client may send in `params` instead of
 * an extension type (docs/protocol.md section 8, right column): uuids,
 * ISO 8601 timestamps and dates, times of day, CQL duration literals, inet
 * addresses, and decimal / varint numbers of any size.
 *
 * Every parser is exact: the whole input must match, numbers are range
 * checked with overflow-safe arithmetic, and nothing is allocated (numbers
 * are built in the destination writer's buffer). Inputs are borrowed slices,
 * not NUL-terminated.
 */
#include "wire_value.h"

#include <arpa/inet.h>
#include <ctype.h>

/* ---- calendar (Howard Hinnant's algorithms, proleptic Gregorian) ------- */

int64_t wire_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void wire_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned month_days(int64_t y, unsigned m)
{
    static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* ---- a tiny cursor ---------------------------------------------------- */

typedef struct cur {
    const char *s;
    size_t n, i;
} cur_t;

static bool at_end(const cur_t *c) { return c->i == c->n; }
static bool eat(cur_t *c, char ch)
{
    if (c->i < c->n && c->s[c->i] == ch) {
        c->i++;
        return true;
    }
    return false;
}
/* Exactly `width` digits (width > 0), or 1..18 digits when width == 0. */
static bool digits(cur_t *c, unsigned width, uint64_t *out)
{
    uint64_t v = 0;
    unsigned k = 0;
    while (c->i < c->n && isdigit((unsigned char)c->s[c->i]) && (width == 0 ? k < 18 : k < width)) {
        v = v * 10 + (unsigned)(c->s[c->i] - '0');
        c->i++, k++;
    }
    if (k == 0 || (width != 0 && k != width))
        return false;
    if (width == 0 && c->i < c->n && isdigit((unsigned char)c->s[c->i]))
        return false; /* more than 18 digits */
    *out = v;
    return true;
}

/* [+-]Y{4,9}-MM-DD as days since the epoch. */
static int parse_ymd(cur_t *c, int64_t *days)
{
    bool neg = false;
    uint64_t y = 0, m, d;
    if (eat(c, '-'))
        neg = true;
    else
        eat(c, '+');
    size_t start = c->i;
    while (c->i < c->n && isdigit((unsigned char)c->s[c->i]) && c->i - start < 10)
        y = y * 10 + (unsigned)(c->s[c->i++] - '0');
    size_t nd = c->i - start;
    if (nd < 4 || nd > 9 || !eat(c, '-') || !digits(c, 2, &m) || !eat(c, '-') || !digits(c, 2, &d))
        return CQLMQ_EBADTYPE;
    int64_t year = neg ? -(int64_t)y : (int64_t)y;
    if (m < 1 || m > 12 || d < 1 || d > month_days(year, (unsigned)m))
        return CQLMQ_EBADTYPE;
    *days = wire_days_from_civil(year, (unsigned)m, (unsigned)d);
    return 0;
}

/* HH:MM[:SS[.f{1,9}]] as ns; seconds required when need_sec. */
static int parse_hms(cur_t *c, bool need_sec, int64_t *ns)
{
    uint64_t h, mi, s = 0, frac = 0;
    if (!digits(c, 2, &h) || !eat(c, ':') || !digits(c, 2, &mi))
        return CQLMQ_EBADTYPE;
    if (eat(c, ':')) {
        if (!digits(c, 2, &s))
            return CQLMQ_EBADTYPE;
        if (eat(c, '.')) {
            unsigned k = 0;
            while (c->i < c->n && isdigit((unsigned char)c->s[c->i])) {
                if (k == 9)
                    return CQLMQ_EBADTYPE;
                frac = frac * 10 + (unsigned)(c->s[c->i++] - '0');
                k++;
            }
            if (k == 0)
                return CQLMQ_EBADTYPE;
            for (; k < 9; k++)
                frac *= 10;
        }
    } else if (need_sec) {
        return CQLMQ_EBADTYPE;
    }
    if (h > 23 || mi > 59 || s > 59)
        return CQLMQ_EBADTYPE;
    *ns = (int64_t)((h * 3600 + mi * 60 + s) * 1000000000u + frac);
    return 0;
}

int wire_parse_date(const char *s, size_t n, int32_t *days)
{
    cur_t c = {s, n, 0};
    int64_t d;
    int rc = parse_ymd(&c, &d);
    if (rc != 0 || !at_end(&c))
        return rc != 0 ? rc : CQLMQ_EBADTYPE;
    if (d < INT32_MIN || d > INT32_MAX)
        return CQLMQ_ERANGE;
    *days = (int32_t)d;
    return 0;
}

int wire_parse_time(const char *s, size_t n, int64_t *ns)
{
    cur_t c = {s, n, 0};
    int rc = parse_hms(&c, true, ns);
    if (rc != 0 || !at_end(&c))
        return rc != 0 ? rc : CQLMQ_EBADTYPE;
    return 0;
}

int wire_parse_timestamp(const char *s, size_t n, int64_t *ms)
{
    cur_t c = {s, n, 0};
    int64_t days, ns = 0, off = 0; /* zone offset in seconds */
    int rc = parse_ymd(&c, &days);
    if (rc != 0)
        return rc;
    if (eat(&c, 'T') || eat(&c, 't') || eat(&c, ' ')) {
        if ((rc = parse_hms(&c, false, &ns)) != 0)
            return rc;
        if (eat(&c, 'Z') || eat(&c, 'z')) {
        } else if (c.i < c.n && (c.s[c.i] == '+' || c.s[c.i] == '-')) {
            bool neg = c.s[c.i++] == '-';
            uint64_t zh, zm = 0;
            if (!digits(&c, 2, &zh))
                return CQLMQ_EBADTYPE;
            if (eat(&c, ':')) {
                if (!digits(&c, 2, &zm))
                    return CQLMQ_EBADTYPE;
            } else if (!at_end(&c) && !digits(&c, 2, &zm)) {
                return CQLMQ_EBADTYPE;
            }
            if (zh > 23 || zm > 59)
                return CQLMQ_EBADTYPE;
            off = (int64_t)(zh * 3600 + zm * 60) * (neg ? -1 : 1);
        }
    }
    if (!at_end(&c))
        return CQLMQ_EBADTYPE;
    /* ms = (days * 86400 - off) * 1000 + floor(ns / 1e6), overflow-checked */
    int64_t sec, msec;
    if (__builtin_mul_overflow(days, 86400, &sec) || __builtin_sub_overflow(sec, off, &sec) ||
        __builtin_mul_overflow(sec, 1000, &msec) || __builtin_add_overflow(msec, ns / 1000000, &msec))
        return CQLMQ_ERANGE;
    *ms = msec;
    return 0;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int wire_parse_uuid(const char *s, size_t n, uint8_t out[16])
{
    if (n != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
        return CQLMQ_EBADTYPE;
    size_t k = 0;
    int hi = -1;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            continue;
        int v = hexval(s[i]);
        if (v < 0)
            return CQLMQ_EBADTYPE;
        if (hi < 0) {
            hi = v;
        } else {
            out[k++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return 0;
}

int wire_parse_inet(const char *s, size_t n, uint8_t out[16], uint8_t *size)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf || memchr(s, '\0', n) != NULL)
        return CQLMQ_EBADTYPE;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET, buf, out) == 1) {
        *size = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, out) == 1) {
        *size = 16;
        return 0;
    }
    return CQLMQ_EBADTYPE;
}

/* ---- durations -------------------------------------------------------- */

typedef struct dur {
    int64_t months, days, ns; /* magnitudes so far, checked against INT32/INT64 */
} dur_t;

/* Adds n * unit to the part (0 months, 1 days, 2 ns). */
static int dur_add(dur_t *d, int part, uint64_t n, int64_t unit)
{
    int64_t v, *dst = part == 0 ? &d->months : part == 1 ? &d->days : &d->ns;
    if (n > INT64_MAX || __builtin_mul_overflow((int64_t)n, unit, &v) ||
        __builtin_add_overflow(*dst, v, dst))
        return CQLMQ_ERANGE;
    if (part < 2 && *dst > INT32_MAX)
        return CQLMQ_ERANGE;
    return 0;
}

/* Units of the CQL literal form, longest spelling first where they share a
 * prefix; `rank` enforces the order y mo w d h m s ms us ns. */
static const struct {
    const char *name;
    int part;
    int64_t unit;
    int rank;
} units[] = {
    {"y", 0, 12, 0},           {"mo", 0, 1, 1},          {"w", 1, 7, 2},
    {"d", 1, 1, 3},            {"h", 2, INT64_C(3600000000000), 4},
    {"ms", 2, 1000000, 7},     {"m", 2, INT64_C(60000000000), 5},
    {"s", 2, 1000000000, 6},   {"us", 2, 1000, 8},        {"\xc2\xb5s", 2, 1000, 8},
    {"ns", 2, 1, 9},
};

static int unit_at(cur_t *c)
{
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        size_t len = strlen(units[u].name);
        if (c->n - c->i >= len && strncasecmp(c->s + c->i, units[u].name, len) == 0) {
            c->i += len;
            return (int)u;
        }
    }
    return -1;
}

static int parse_cql_duration(cur_t *c, dur_t *d)
{
    int last = -1, rc;
    while (!at_end(c)) {
        uint64_t v;
        if (!digits(c, 0, &v))
            return CQLMQ_EBADTYPE;
        int u = unit_at(c);
        if (u < 0 || units[u].rank <= last)
            return CQLMQ_EBADTYPE;
        last = units[u].rank;
        if ((rc = dur_add(d, units[u].part, v, units[u].unit)) != 0)
            return rc;
    }
    return last < 0 ? CQLMQ_EBADTYPE : 0;
}

/* After 'P': the designator form, or the alternative YYYY-MM-DDThh:mm:ss. */
static int parse_iso_duration(cur_t *c, dur_t *d)
{
    static const char date_des[] = "YMWD", time_des[] = "HMS";
    static const int64_t date_unit[] = {12, 1, 7, 1};
    static const int date_part[] = {0, 0, 1, 1};
    static const int64_t time_unit[] = {INT64_C(3600000000000), INT64_C(60000000000), 1000000000};
    int rc;
    if (c->n - c->i == 19 && c->s[c->i + 4] == '-') {
        uint64_t y, mo, dd, h, mi, s;
        if (!digits(c, 4, &y) || !eat(c, '-') || !digits(c, 2, &mo) || !eat(c, '-') ||
            !digits(c, 2, &dd) || !eat(c, 'T') || !digits(c, 2, &h) || !eat(c, ':') ||
            !digits(c, 2, &mi) || !eat(c, ':') || !digits(c, 2, &s))
            return CQLMQ_EBADTYPE;
        if (mo > 11 || h > 23 || mi > 59 || s > 59)
            return CQLMQ_EBADTYPE;
        if ((rc = dur_add(d, 0, y, 12)) || (rc = dur_add(d, 0, mo, 1)) || (rc = dur_add(d, 1, dd, 1)) ||
            (rc = dur_add(d, 2, h, time_unit[0])) || (rc = dur_add(d, 2, mi, time_unit[1])) ||
            (rc = dur_add(d, 2, s, time_unit[2])))
            return rc;
        return 0;
    }
    int last = -1;
    bool any = false, in_time = false;
    while (!at_end(c)) {
        if (!in_time && eat(c, 'T')) {
            in_time = true;
            last = -1;
            if (at_end(c))
                return CQLMQ_EBADTYPE;
            continue;
        }
        uint64_t v;
        if (!digits(c, 0, &v) || at_end(c))
            return CQLMQ_EBADTYPE;
        const char *des = in_time ? time_des : date_des;
        const char *hit = memchr(des, toupper((unsigned char)c->s[c->i]), strlen(des));
        if (hit == NULL || hit - des <= last)
            return CQLMQ_EBADTYPE;
        c->i++;
        last = (int)(hit - des);
        rc = in_time ? dur_add(d, 2, v, time_unit[last])
                     : dur_add(d, date_part[last], v, date_unit[last]);
        if (rc != 0)
            return rc;
        any = true;
    }
    return any ? 0 : CQLMQ_EBADTYPE;
}

int wire_parse_duration(const char *s, size_t n, int32_t *months, int32_t *days, int64_t *ns)
{
    cur_t c = {s, n, 0};
    dur_t d = {0, 0, 0};
    bool neg = eat(&c, '-');
    int rc = (eat(&c, 'P') || eat(&c, 'p')) ? parse_iso_duration(&c, &d) : parse_cql_duration(&c, &d);
    if (rc != 0)
        return rc;
    *months = (int32_t)(neg ? -d.months : d.months);
    *days = (int32_t)(neg ? -d.days : d.days);
    *ns = neg ? -d.ns : d.ns;
    return 0;
}

/* ---- big numbers ------------------------------------------------------ */

/* Appends the minimal two's complement of +/- the decimal digits of the
 * runs a[0..na) and b[0..nb) (concatenated; all digits) to w. */
static int put_digits(cql_wr_t *w, bool neg, const char *a, size_t na, const char *b, size_t nb)
{
    size_t nd = na + nb;
    if (nd == 0)
        return CQLMQ_EBADTYPE;
    if (nd > WIRE_MAX_DIGITS)
        return CQLMQ_ERANGE;
    /* bytes for the magnitude: log(10)/log(256) < 0.4153 per digit, + sign */
    size_t cap = nd * 4153 / 10000 + 2;
    if (cql_wr_reserve(w, cap) != 0)
        return w->err;
    uint8_t *m = w->data + w->len; /* magnitude, big endian, m[0..cap) */
    memset(m, 0, cap);
    uint64_t chunk = 0, mul = 1;
    for (size_t i = 0; i < nd; i++) {
        char ch = i < na ? a[i] : b[i - na];
        chunk = chunk * 10 + (unsigned)(ch - '0');
        mul *= 10;
        if (mul == 1000000000u || i + 1 == nd) {
            uint64_t carry = chunk;
            for (size_t k = cap; k-- > 0;) {
                uint64_t v = (uint64_t)m[k] * mul + carry;
                m[k] = (uint8_t)v;
                carry = v >> 8;
            }
            chunk = 0, mul = 1;
        }
    }
    if (neg) { /* two's complement: invert and add one */
        unsigned carry = 1;
        for (size_t k = cap; k-- > 0;) {
            unsigned v = (uint8_t)~m[k] + carry;
            m[k] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    size_t skip = 0; /* drop redundant sign bytes; cap >= 2 keeps one */
    while (skip + 1 < cap && ((m[skip] == 0x00 && !(m[skip + 1] & 0x80)) ||
                              (m[skip] == 0xff && (m[skip + 1] & 0x80))))
        skip++;
    memmove(m, m + skip, cap - skip);
    w->len += cap - skip;
    return 0;
}

static size_t digit_run(const char *s, size_t n, size_t i)
{
    size_t j = i;
    while (j < n && s[j] >= '0' && s[j] <= '9')
        j++;
    return j - i;
}

int wire_put_varint_str(cql_wr_t *w, const char *s, size_t n)
{
    size_t i = 0;
    bool neg = false;
    if (n > 0 && (s[0] == '-' || s[0] == '+'))
        neg = s[0] == '-', i = 1;
    size_t nd = digit_run(s, n, i);
    if (nd == 0 || i + nd != n)
        return CQLMQ_EBADTYPE;
    return put_digits(w, neg, s + i, nd, NULL, 0);
}

int wire_put_decimal_str(cql_wr_t *w, const char *s, size_t n)
{
    size_t i = 0;
    bool neg = false;
    if (n > 0 && (s[0] == '-' || s[0] == '+'))
        neg = s[0] == '-', i = 1;
    size_t ni = digit_run(s, n, i), int_at = i, nf = 0, frac_at;
    i += ni;
    if (i < n && s[i] == '.') {
        i++;
        nf = digit_run(s, n, i);
    }
    frac_at = i;
    i += nf;
    if (ni + nf == 0)
        return CQLMQ_EBADTYPE;
    int64_t exp = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        bool eneg = false;
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        size_t ne = digit_run(s, n, i);
        if (ne == 0)
            return CQLMQ_EBADTYPE;
        if (ne > 12)
            return CQLMQ_ERANGE;
        for (size_t k = 0; k < ne; k++)
            exp = exp * 10 + (s[i + k] - '0');
        exp = eneg ? -exp : exp;
        i += ne;
    }
    if (i != n)
        return CQLMQ_EBADTYPE;
    int64_t scale = (int64_t)nf - exp;
    if (scale < INT32_MIN || scale > INT32_MAX)
        return CQLMQ_ERANGE;
    size_t at = w->len;
    cql_wr_i32(w, (int32_t)scale);
    int rc = put_digits(w, neg, s + int_at, ni, s + frac_at, nf);
    if (rc != 0 && !w->err)
        w->len = at;
    return rc;
}
