/*
 * cql_value_num: arithmetic on serialized numbers — varint conversion and
 * comparison, exact decimal comparison across scales, varint to decimal
 * text — and UTF-8 validation. Shared by cql_value (decode, format) and
 * cql_order (clustering order).
 *
 * Varints are two's complement big endian of any length and may carry
 * redundant sign bytes (0x0001 is 1, 0xFFFF is -1); every function here
 * accepts them.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cql_value.h"

/* Index of the first significant byte: redundant sign bytes are skipped. */
static size_t vstrip(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i + 1 < n && ((p[i] == 0x00 && !(p[i + 1] & 0x80)) ||
                         (p[i] == 0xff && (p[i + 1] & 0x80))))
        i++;
    return i;
}

static bool vneg(const uint8_t *p) { return (p[0] & 0x80) != 0; }

static bool vzero(const uint8_t *p, size_t n)
{
    size_t i = vstrip(p, n);
    return n - i == 1 && p[i] == 0;
}

bool cql_varint_to_i64(const uint8_t *p, size_t n, int64_t *out)
{
    *out = 0;
    if (n == 0)
        return false;
    size_t i = vstrip(p, n);
    if (n - i > 8)
        return false;
    uint64_t v = vneg(p) ? UINT64_MAX : 0;
    for (; i < n; i++)
        v = (v << 8) | p[i];
    *out = (int64_t)v;
    return true;
}

size_t cql_varint_from_i64(int64_t v, uint8_t buf[8])
{
    uint8_t full[8];
    cql_store_u64(full, (uint64_t)v);
    size_t i = vstrip(full, 8);
    memcpy(buf, full + i, 8 - i);
    return 8 - i;
}

int cql_varint_compare(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    bool a_neg = vneg(a), b_neg = vneg(b);
    if (a_neg != b_neg)
        return a_neg ? -1 : 1;
    size_t ia = vstrip(a, na), ib = vstrip(b, nb);
    size_t la = na - ia, lb = nb - ib;
    if (la != lb) /* more significant bytes: further from zero */
        return (la < lb) != a_neg ? -1 : 1;
    /* same sign, same length: the sign bits agree, so unsigned bytewise
     * order is numeric order */
    int c = memcmp(a + ia, b + ib, la);
    return (c > 0) - (c < 0);
}

/* ---- big magnitudes -------------------------------------------------- */

/* Writes the decimal digits of |p| (no sign, no leading zeros, "0" for
 * zero) into out, which has room for 3 * n + 2 bytes. limbs has room for
 * n / 4 + 2 words. Returns the number of digits. */
static size_t mag_digits(const uint8_t *p, size_t n, uint32_t *limbs, char *out)
{
    bool neg = vneg(p);
    size_t nl = (n + 3) / 4;
    /* big-endian 32-bit limbs of the two's complement, sign-extended */
    memset(limbs, neg ? 0xff : 0, nl * sizeof *limbs);
    for (size_t i = 0; i < n; i++) {
        size_t bit = (n - 1 - i) * 8; /* position of byte i from the right */
        size_t li = nl - 1 - bit / 32;
        uint32_t shift = (uint32_t)(bit % 32);
        limbs[li] &= ~((uint32_t)0xff << shift);
        limbs[li] |= (uint32_t)p[i] << shift;
    }
    if (neg) { /* magnitude = ~x + 1 */
        uint64_t carry = 1;
        for (size_t i = nl; i-- > 0;) {
            uint64_t v = (uint64_t)(uint32_t)~limbs[i] + carry;
            limbs[i] = (uint32_t)v;
            carry = v >> 32;
        }
    }
    size_t start = 0, nd = 0;
    while (start < nl && limbs[start] == 0)
        start++;
    while (start < nl) {
        uint64_t rem = 0;
        for (size_t i = start; i < nl; i++) {
            uint64_t cur = (rem << 32) | limbs[i];
            limbs[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        while (start < nl && limbs[start] == 0)
            start++;
        for (int k = 0; k < 9; k++) {
            out[nd++] = (char)('0' + rem % 10);
            rem /= 10;
            if (start == nl && rem == 0)
                break;
        }
    }
    if (nd == 0)
        out[nd++] = '0';
    for (size_t i = 0; i < nd / 2; i++) {
        char t = out[i];
        out[i] = out[nd - 1 - i];
        out[nd - 1 - i] = t;
    }
    return nd;
}

/* Scratch for mag_digits: on the stack for small numbers, else the heap. */
typedef struct digits {
    char *s;        /* digits of the magnitude */
    size_t n;       /* number of digits */
    void *heap;     /* block to free, or NULL */
    char small[96]; /* room for up to 24-byte inputs */
    uint32_t small_limbs[8];
} digits_t;

static int digits_of(const uint8_t *p, size_t n, digits_t *d, const cql_mem_t *mem)
{
    d->heap = NULL;
    char *out = d->small;
    uint32_t *limbs = d->small_limbs;
    if (n > 24) {
        size_t lbytes = (n / 4 + 2) * sizeof(uint32_t);
        d->heap = cql_mem_malloc(mem, lbytes + 3 * n + 2);
        if (d->heap == NULL)
            return CQLMQ_ENOMEM;
        limbs = d->heap;
        out = (char *)d->heap + lbytes;
    }
    d->s = out;
    d->n = mag_digits(p, n, limbs, out);
    return 0;
}

int cql_varint_format(const uint8_t *p, size_t n, char *buf, size_t cap)
{
    return cql_varint_format_mem(p, n, buf, cap, NULL);
}

int cql_varint_format_mem(const uint8_t *p, size_t n, char *buf, size_t cap,
                          const cql_mem_t *mem)
{
    if (cap > 0)
        buf[0] = '\0';
    if (n == 0)
        return CQLMQ_EINVAL;
    digits_t d;
    int rc = digits_of(p, n, &d, mem);
    if (rc != 0)
        return rc;
    bool neg = vneg(p);
    size_t need = d.n + (neg ? 1 : 0);
    if (cap > 0) {
        size_t k = 0;
        if (neg && k + 1 < cap)
            buf[k++] = '-';
        for (size_t i = 0; i < d.n && k + 1 < cap; i++)
            buf[k++] = d.s[i];
        buf[k] = '\0';
    }
    cql_mem_free(mem, d.heap);
    return need > INT_MAX ? CQLMQ_ERANGE : (int)need;
}

/* |a| * 10^-sa versus |b| * 10^-sb, both non-zero, from their digits. */
static int cmp_scaled(const digits_t *da, int32_t sa, const digits_t *db, int32_t sb)
{
    /* adjusted exponent: the power of ten of the leading digit */
    int64_t ea = (int64_t)da->n - 1 - sa, eb = (int64_t)db->n - 1 - sb;
    if (ea != eb)
        return ea < eb ? -1 : 1;
    size_t n = da->n > db->n ? da->n : db->n;
    for (size_t i = 0; i < n; i++) {
        char x = i < da->n ? da->s[i] : '0';
        char y = i < db->n ? db->s[i] : '0';
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

int cql_decimal_compare(int32_t sa, const uint8_t *a, size_t na, int32_t sb, const uint8_t *b,
                        size_t nb)
{
    return cql_decimal_compare_mem(sa, a, na, sb, b, nb, NULL);
}

int cql_decimal_compare_mem(int32_t sa, const uint8_t *a, size_t na, int32_t sb,
                            const uint8_t *b, size_t nb, const cql_mem_t *mem)
{
    if (sa == sb)
        return cql_varint_compare(a, na, b, nb);
    bool za = vzero(a, na), zb = vzero(b, nb);
    int sign_a = za ? 0 : vneg(a) ? -1 : 1;
    int sign_b = zb ? 0 : vneg(b) ? -1 : 1;
    if (sign_a != sign_b)
        return sign_a < sign_b ? -1 : 1;
    if (sign_a == 0)
        return 0;
    int64_t ia, ib;
    int64_t diff = (int64_t)sa - sb;
    if (cql_varint_to_i64(a, na, &ia) && cql_varint_to_i64(b, nb, &ib) && diff >= -18 &&
        diff <= 18) {
        /* a*10^-sa vs b*10^-sb  <=>  a*10^(sb'..) : scale the one with the
         * smaller scale up; |v| < 2^63 and 10^18 < 2^60 fit in 128 bits */
        __int128 x = ia, y = ib;
        int64_t p = 1;
        for (int64_t k = 0; k < (diff < 0 ? -diff : diff); k++)
            p *= 10;
        if (diff > 0)
            y *= p;
        else
            x *= p;
        return (x > y) - (x < y);
    }
    digits_t da, db;
    if (digits_of(a, na, &da, mem) != 0)
        return cql_varint_compare(a, na, b, nb); /* out of memory: stay total */
    if (digits_of(b, nb, &db, mem) != 0) {
        cql_mem_free(mem, da.heap);
        return cql_varint_compare(a, na, b, nb);
    }
    int c = cmp_scaled(&da, sa, &db, sb);
    cql_mem_free(mem, da.heap);
    cql_mem_free(mem, db.heap);
    return sign_a > 0 ? c : -c;
}

/* ---- UTF-8 ------------------------------------------------------------ */

int cql_utf8_validate(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return CQLMQ_EUTF8;
        }
        if (n - i < len)
            return CQLMQ_EUTF8;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return CQLMQ_EUTF8;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return CQLMQ_EUTF8;
        i += len;
    }
    return 0;
}
