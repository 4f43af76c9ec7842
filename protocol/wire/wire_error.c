/*
 * wire_error: lookups over WIRE_ERROR_MAP and the consistency names (see
 * wire_error.h). Const tables only.
 */
#include "wire_error.h"

#include <ctype.h>
#include <string.h>

static const struct {
    const char *name;
    int32_t cql;
    wire_retry_t retry;
} errors[WIRE_ERR_COUNT_] = {
#define WIRE_ERROR_ROW_(name, str, cql, retry) {str, cql, retry},
    WIRE_ERROR_MAP(WIRE_ERROR_ROW_)
#undef WIRE_ERROR_ROW_
};

const char *wire_error_name(int code)
{
    return code >= 0 && code < WIRE_ERR_COUNT_ ? errors[code].name : NULL;
}

int wire_error_from_name(const char *s, size_t len)
{
    for (int i = 0; i < WIRE_ERR_COUNT_; i++)
        if (strlen(errors[i].name) == len && memcmp(errors[i].name, s, len) == 0)
            return i;
    return CQLMQ_ENOTFOUND;
}

int32_t wire_error_cql_code(int code)
{
    return code >= 0 && code < WIRE_ERR_COUNT_ ? errors[code].cql : -1;
}

wire_error_t wire_error_from_cql(int32_t cql_code)
{
    for (int i = 0; i < WIRE_ERR_COUNT_; i++)
        if (errors[i].cql == cql_code && cql_code >= 0)
            return (wire_error_t)i;
    return WIRE_ERR_SERVER_ERROR;
}

wire_retry_t wire_error_retry(int code)
{
    return code >= 0 && code < WIRE_ERR_COUNT_ ? errors[code].retry : WIRE_RETRY_NO;
}

const char *wire_consistency_name(int code, char buf[WIRE_CONSISTENCY_NAME_MAX])
{
    const char *s = cql_consistency_name(code);
    size_t i = 0;
    if (s == NULL)
        return NULL;
    for (; s[i] != '\0' && i + 1 < WIRE_CONSISTENCY_NAME_MAX; i++)
        buf[i] = (char)tolower((unsigned char)s[i]);
    buf[i] = '\0';
    return buf;
}

int wire_consistency_parse(const char *s, size_t len)
{
    return cql_consistency_from_name(s, len);
}
