/*
 * nx_text: CQL's text forms of values that literals give as strings or
 * numbers: timestamps ('2024-01-02 03:04:05.678+0000'), dates, times, inet
 * addresses, arbitrary-size integers (varint) and decimals. All parsers
 * take (pointer, length), never read past it, and return false on any text
 * Cassandra would reject.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "nx_int.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

typedef struct cur {
    const char *p, *end;
} cur_t;

static bool digits(cur_t *c, int min, int max, int64_t *out)
{
    int n = 0;
    int64_t v = 0;
    while (c->p < c->end && n < max && *c->p >= '0' && *c->p <= '9') {
        v = v * 10 + (*c->p - '0');
        c->p++;
        n++;
    }
    *out = v;
    return n >= min;
}

static bool lit(cur_t *c, char ch)
{
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

static bool parse_date_part(cur_t *c, int64_t *days)
{
    int64_t y, m, d;
    bool neg = lit(c, '-');
    if (!digits(c, 1, 9, &y) || !lit(c, '-') || !digits(c, 1, 2, &m) || !lit(c, '-') ||
        !digits(c, 1, 2, &d))
        return false;
    if (neg)
        y = -y;
    if (m < 1 || m > 12 || d < 1 || d > 31)
        return false;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return false;
    *days = days_from_civil(y, (unsigned)m, (unsigned)d);
    return true;
}

/* hh:mm[:ss[.fraction]] -> nanoseconds; frac_max digits of fraction. */
static bool parse_time_part(cur_t *c, bool need_seconds, int frac_max, int64_t *ns)
{
    int64_t h, mi, s = 0, frac = 0;
    if (!digits(c, 1, 2, &h) || !lit(c, ':') || !digits(c, 1, 2, &mi))
        return false;
    if (lit(c, ':')) {
        if (!digits(c, 1, 2, &s))
            return false;
        if (lit(c, '.')) {
            int n = 0;
            while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
                if (n < 9) {
                    frac = frac * 10 + (*c->p - '0');
                    n++;
                } else if (n >= frac_max) {
                    return false;
                }
                c->p++;
            }
            if (n == 0 || n > frac_max)
                return false;
            for (; n < 9; n++)
                frac *= 10;
        }
    } else if (need_seconds) {
        return false;
    }
    if (h > 23 || mi > 59 || s > 59)
        return false;
    *ns = ((h * 60 + mi) * 60 + s) * INT64_C(1000000000) + frac;
    return true;
}

static bool all_digits(const char *s, size_t n, bool sign_ok)
{
    size_t i = 0;
    if (n > 0 && sign_ok && s[0] == '-')
        i = 1;
    if (i == n)
        return false;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool nx_parse_timestamp(const char *s, size_t n, int64_t *ms)
{
    if (all_digits(s, n, true) && n < 19) {
        int64_t v = 0;
        size_t i = s[0] == '-' ? 1 : 0;
        for (; i < n; i++)
            v = v * 10 + (s[i] - '0');
        *ms = s[0] == '-' ? -v : v;
        return true;
    }
    cur_t c = {s, s + n};
    int64_t days, ns = 0;
    if (!parse_date_part(&c, &days))
        return false;
    if (lit(&c, ' ') || lit(&c, 'T')) {
        if (!parse_time_part(&c, false, 3, &ns))
            return false;
    }
    int64_t off_min = 0;
    while (c.p < c.end && *c.p == ' ')
        c.p++;
    if (lit(&c, 'Z')) {
    } else if (c.p < c.end && (*c.p == '+' || *c.p == '-')) {
        int sign = *c.p == '-' ? -1 : 1;
        c.p++;
        int64_t hh, mm = 0;
        if (!digits(&c, 2, 2, &hh))
            return false;
        lit(&c, ':');
        if (c.p < c.end && !digits(&c, 2, 2, &mm))
            return false;
        off_min = sign * (hh * 60 + mm);
    }
    if (c.p != c.end)
        return false;
    *ms = days * 86400000 + ns / 1000000 - off_min * 60000;
    return true;
}

bool nx_parse_date(const char *s, size_t n, uint32_t *raw)
{
    if (all_digits(s, n, false) && n <= 10) {
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++)
            v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > UINT32_MAX)
            return false;
        *raw = (uint32_t)v;
        return true;
    }
    cur_t c = {s, s + n};
    int64_t days;
    if (!parse_date_part(&c, &days) || c.p != c.end)
        return false;
    int64_t v = days + (int64_t)CQL_DATE_EPOCH;
    if (v < 0 || v > (int64_t)UINT32_MAX)
        return false;
    *raw = (uint32_t)v;
    return true;
}

bool nx_parse_time(const char *s, size_t n, int64_t *ns)
{
    if (all_digits(s, n, false) && n <= 14) {
        int64_t v = 0;
        for (size_t i = 0; i < n; i++)
            v = v * 10 + (s[i] - '0');
        if (v > CQL_TIME_MAX)
            return false;
        *ns = v;
        return true;
    }
    cur_t c = {s, s + n};
    return parse_time_part(&c, true, 9, ns) && c.p == c.end;
}

bool nx_parse_inet(const char *s, size_t n, uint8_t addr[16], uint8_t *size)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET, buf, addr) == 1) {
        *size = 4;
        return true;
    }
    if (inet_pton(AF_INET6, buf, addr) == 1) {
        *size = 16;
        return true;
    }
    return false;
}

/* Magnitude digits (decimal text, no sign) -> little-endian base-256
 * bytes in mag[cap]; returns the count or 0 on overflow. */
static size_t mag_from_digits(const char *d, size_t nd, uint8_t *mag, size_t cap)
{
    size_t len = 1;
    mag[0] = 0;
    for (size_t i = 0; i < nd; i++) {
        unsigned carry = (unsigned)(d[i] - '0');
        for (size_t j = 0; j < len; j++) {
            unsigned v = mag[j] * 10u + carry;
            mag[j] = (uint8_t)v;
            carry = v >> 8;
        }
        if (carry) {
            if (len == cap)
                return 0;
            mag[len++] = (uint8_t)carry;
        }
    }
    return len;
}

/* Magnitude + sign -> minimal big-endian two's complement in the arena. */
static bool mag_to_varint(nx_req_t *r, uint8_t *mag, size_t len, bool neg, cql_bytes_t *out)
{
    /* room for a sign byte */
    uint8_t *be = cql_arena_alloc(r->a, len + 1);
    if (be == NULL)
        return false;
    be[0] = 0;
    for (size_t i = 0; i < len; i++)
        be[len - i] = mag[i];
    size_t n = len + 1;
    if (neg) {
        int carry = 1;
        for (size_t i = n; i-- > 0;) {
            int v = (uint8_t)~be[i] + carry;
            be[i] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    size_t off = 0;
    while (n - off > 1 && ((be[off] == 0x00 && !(be[off + 1] & 0x80)) ||
                           (be[off] == 0xff && (be[off + 1] & 0x80))))
        off++;
    *out = (cql_bytes_t){be + off, (int32_t)(n - off)};
    return true;
}

bool nx_parse_varint(nx_req_t *r, const char *s, size_t n, cql_bytes_t *out)
{
    bool neg = n > 0 && s[0] == '-';
    size_t i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    if (!all_digits(s + i, n - i, false) || n - i > 4096)
        return false;
    uint8_t *mag = cql_arena_alloc(r->a, n + 8);
    if (mag == NULL)
        return false;
    size_t len = mag_from_digits(s + i, n - i, mag, n + 8);
    return len > 0 && mag_to_varint(r, mag, len, neg, out);
}

bool nx_parse_decimal(nx_req_t *r, const char *s, size_t n, cql_bytes_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    char *dig = cql_arena_alloc(r->a, n + 1);
    if (dig == NULL || n > 4096)
        return false;
    size_t nd = 0;
    int64_t scale = 0;
    bool any = false, dot = false;
    for (; i < n; i++) {
        char ch = s[i];
        if (ch >= '0' && ch <= '9') {
            dig[nd++] = ch;
            any = true;
            if (dot)
                scale++;
        } else if (ch == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (!any)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        int64_t e = 0;
        size_t st = i;
        while (i < n && s[i] >= '0' && s[i] <= '9' && e < 100000000)
            e = e * 10 + (s[i++] - '0');
        if (i == st)
            return false;
        scale += eneg ? e : -e;
    }
    if (i != n || scale > INT32_MAX || scale < INT32_MIN)
        return false;
    uint8_t *mag = cql_arena_alloc(r->a, nd + 8);
    if (mag == NULL)
        return false;
    size_t len = mag_from_digits(dig, nd, mag, nd + 8);
    cql_bytes_t v;
    if (len == 0 || !mag_to_varint(r, mag, len, neg, &v))
        return false;
    uint8_t *body = cql_arena_alloc(r->a, 4 + (size_t)v.len);
    if (body == NULL)
        return false;
    cql_store_u32(body, (uint32_t)(int32_t)scale);
    memcpy(body + 4, v.ptr, (size_t)v.len);
    *out = (cql_bytes_t){body, 4 + v.len};
    return true;
}

void nx_uuid_str(const uint8_t u[16], char out[37])
{
    static const char hx[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hx[u[i] >> 4];
        out[o++] = hx[u[i] & 15];
    }
    out[o] = '\0';
}
