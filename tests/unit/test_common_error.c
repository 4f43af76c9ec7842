#include <criterion/criterion.h>
#include <string.h>

#include "cqlmq/error.h"

Test(error, every_code_has_a_distinct_name_and_a_message)
{
    static const int codes[] = {
#define X(name, value, msg) value,
        CQLMQ_ERROR_MAP(X)
#undef X
    };
    size_t n = sizeof(codes) / sizeof(codes[0]);
    for (size_t i = 0; i < n; i++) {
        cr_assert_lt(codes[i], 0, "codes are negative");
        cr_assert_str_neq(cqlmq_err_name(codes[i]), "unknown");
        cr_assert_str_neq(cqlmq_strerror(codes[i]), "unknown error");
        for (size_t j = i + 1; j < n; j++) {
            cr_assert_neq(codes[i], codes[j], "duplicate value %d", codes[i]);
            cr_assert_str_neq(cqlmq_err_name(codes[i]), cqlmq_err_name(codes[j]));
        }
    }
}

Test(error, names_match_the_enum_spelling)
{
    cr_assert_str_eq(cqlmq_err_name(CQLMQ_ETRUNCATED), "CQLMQ_ETRUNCATED");
    cr_assert_str_eq(cqlmq_err_name(CQLMQ_ENOMEM), "CQLMQ_ENOMEM");
    cr_assert_str_eq(cqlmq_err_name(0), "CQLMQ_OK");
    cr_assert_str_eq(cqlmq_strerror(0), "success");
}

Test(error, unknown_codes_say_so_instead_of_crashing)
{
    cr_assert_str_eq(cqlmq_err_name(-12345), "unknown");
    cr_assert_str_eq(cqlmq_strerror(42), "unknown error");
}
