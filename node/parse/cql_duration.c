/*
 * cql_duration: recognising and decoding CQL duration literals.
 *
 * Three spellings, as in Cassandra's Duration.from():
 *   units       1y2mo3w4d5h6m7s8ms9us10ns (µs too), any subset, optional '-'
 *   ISO 8601    P1Y2M3DT4H5M6S (components in that order), P3W
 *   alternative P0001-02-03T04:05:06
 * The result is Cassandra's (months, days, nanoseconds) triple, all three
 * with the literal's sign. Letters are case-insensitive.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cql_lex.h"

#define NS_PER_US INT64_C(1000)
#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)
#define NS_PER_M (60 * NS_PER_S)
#define NS_PER_H (60 * NS_PER_M)

/* Which of the three fields a unit adds to, and by how much per unit. */
typedef struct dur_unit {
    size_t len;      /* bytes of the unit text; 0 = no unit here */
    int field;       /* 0 months, 1 days, 2 nanos */
    int64_t mult;    /* multiplier */
} dur_unit_t;

static bool digit(char c) { return c >= '0' && c <= '9'; }

static bool ieq(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)s[i]) != (unsigned char)lit[i])
            return false;
    return true;
}

/* The unit at s (longest match first: "mo" and "ms" before "m"). */
static dur_unit_t unit_at(const char *s, size_t len)
{
    static const struct { const char *text; int field; int64_t mult; } units[] = {
        {"mo", 0, 1},         {"ms", 2, NS_PER_MS}, {"us", 2, NS_PER_US},
        {"\xc2\xb5s", 2, NS_PER_US}, {"ns", 2, 1}, {"y", 0, 12},
        {"w", 1, 7},          {"d", 1, 1},          {"h", 2, NS_PER_H},
        {"m", 2, NS_PER_M},   {"s", 2, NS_PER_S},
    };
    dur_unit_t u = {0, 0, 0};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (ieq(s, len, units[i].text)) {
            u.len = strlen(units[i].text);
            u.field = units[i].field;
            u.mult = units[i].mult;
            return u;
        }
    }
    return u;
}

static size_t digits(const char *s, size_t len, size_t i)
{
    while (i < len && digit(s[i]))
        i++;
    return i;
}

/* Components in increasing rank from `order` ("YMD" or "HMS"), each digits
 * followed by its letter. Returns the new index; *n counts components. */
static size_t iso_part(const char *s, size_t len, size_t i, const char *order, int *n)
{
    int rank = -1;
    while (i < len && digit(s[i])) {
        size_t j = digits(s, len, i);
        if (j >= len)
            break;
        const char *at = strchr(order, toupper((unsigned char)s[j]));
        if (s[j] == '\0' || at == NULL || (int)(at - order) <= rank)
            break;
        rank = (int)(at - order);
        (*n)++;
        i = j + 1;
    }
    return i;
}

static bool alt_form(const char *s, size_t len)
{
    static const char pat[] = "P####-##-##T##:##:##";
    if (len < sizeof(pat) - 1)
        return false;
    for (size_t i = 0; i < sizeof(pat) - 1; i++) {
        char c = s[i];
        if (pat[i] == '#' ? !digit(c) : toupper((unsigned char)c) != pat[i])
            return false;
    }
    return true;
}

static size_t iso_scan(const char *s, size_t len)
{
    if (alt_form(s, len))
        return 20;
    size_t j = digits(s, len, 1);
    if (j > 1 && j < len && toupper((unsigned char)s[j]) == 'W')
        return j + 1;
    int n = 0;
    size_t i = iso_part(s, len, 1, "YMD", &n);
    if (i < len && toupper((unsigned char)s[i]) == 'T') {
        int tn = 0;
        size_t t = iso_part(s, len, i + 1, "HMS", &tn);
        if (tn) {
            i = t;
            n += tn;
        }
    }
    return n ? i : 0;
}

static size_t unit_scan(const char *s, size_t len)
{
    size_t i = 0, done = 0;
    while (i < len && digit(s[i])) {
        size_t j = digits(s, len, i);
        dur_unit_t u = unit_at(s + j, len - j);
        if (u.len == 0)
            break;
        i = j + u.len;
        done = i;
    }
    return done;
}

size_t cql_duration_scan(const char *s, size_t len)
{
    size_t i = 0;
    if (len > 0 && s[0] == '-')
        i = 1;
    if (i >= len)
        return 0;
    size_t n = (s[i] == 'P' || s[i] == 'p') ? iso_scan(s + i, len - i) : unit_scan(s + i, len - i);
    return n ? i + n : 0;
}

/* acc[field] += value * mult, with overflow checks. */
static bool add(int64_t acc[3], int field, const char *s, size_t n, int64_t mult)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = s[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (mult != 0 && v > INT64_MAX / mult)
        return false;
    v *= mult;
    if (acc[field] > INT64_MAX - v)
        return false;
    acc[field] += v;
    return true;
}

static bool decode_alt(const char *s, int64_t acc[3])
{
    return add(acc, 0, s + 1, 4, 12) && add(acc, 0, s + 6, 2, 1) && add(acc, 1, s + 9, 2, 1) &&
           add(acc, 2, s + 12, 2, NS_PER_H) && add(acc, 2, s + 15, 2, NS_PER_M) &&
           add(acc, 2, s + 18, 2, NS_PER_S);
}

/* ISO form after 'P': digits+letter pairs; 'T' switches M to minutes. */
static bool decode_iso(const char *s, size_t len, int64_t acc[3])
{
    bool time = false;
    size_t i = 1;
    while (i < len) {
        if (toupper((unsigned char)s[i]) == 'T' && !time) {
            time = true;
            i++;
            continue;
        }
        size_t j = digits(s, len, i);
        if (j == i || j >= len)
            return false;
        int f;
        int64_t mult;
        switch (toupper((unsigned char)s[j])) {
        case 'Y': f = 0; mult = 12; break;
        case 'M': f = time ? 2 : 0; mult = time ? NS_PER_M : 1; break;
        case 'W': f = 1; mult = 7; break;
        case 'D': f = 1; mult = 1; break;
        case 'H': f = 2; mult = NS_PER_H; break;
        case 'S': f = 2; mult = NS_PER_S; break;
        default: return false;
        }
        if (!add(acc, f, s + i, j - i, mult))
            return false;
        i = j + 1;
    }
    return true;
}

static bool decode_units(const char *s, size_t len, int64_t acc[3])
{
    size_t i = 0;
    while (i < len) {
        size_t j = digits(s, len, i);
        dur_unit_t u = unit_at(s + j, len - j);
        if (j == i || u.len == 0)
            return false;
        if (!add(acc, u.field, s + i, j - i, u.mult))
            return false;
        i = j + u.len;
    }
    return true;
}

int cql_duration_decode(const char *s, size_t len, int32_t *months, int32_t *days,
                        int64_t *nanos)
{
    if (cql_duration_scan(s, len) != len)
        return -1;
    bool neg = s[0] == '-';
    if (neg) {
        s++;
        len--;
    }
    int64_t acc[3] = {0, 0, 0};
    bool ok;
    if (s[0] == 'P' || s[0] == 'p')
        ok = alt_form(s, len) ? decode_alt(s, acc) : decode_iso(s, len, acc);
    else
        ok = decode_units(s, len, acc);
    if (!ok || acc[0] > INT32_MAX || acc[1] > INT32_MAX)
        return -1;
    *months = (int32_t)(neg ? -acc[0] : acc[0]);
    *days = (int32_t)(neg ? -acc[1] : acc[1]);
    *nanos = neg ? -acc[2] : acc[2];
    return 0;
}
