/*
 * Names and messages for the error table in include/cqlmq/error.h.
 */
#include "cqlmq/error.h"

const char *cqlmq_err_name(int err)
{
    switch (err) {
    case 0:
        return "CQLMQ_OK";
#define CQLMQ_ERROR_NAME_(name, value, msg) \
    case (value):                           \
        return "CQLMQ_E" #name;
        CQLMQ_ERROR_MAP(CQLMQ_ERROR_NAME_)
#undef CQLMQ_ERROR_NAME_
    default:
        return "unknown";
    }
}

const char *cqlmq_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define CQLMQ_ERROR_MSG_(name, value, msg) \
    case (value):                          \
        return msg;
        CQLMQ_ERROR_MAP(CQLMQ_ERROR_MSG_)
#undef CQLMQ_ERROR_MSG_
    default:
        return "unknown error";
    }
}
