/* The error table of core/err.h: every row has a distinct code, name and
 * message; the HTTP status and CLI exit code mappings for a few codes and
 * for values outside the table; rs_diag_fail formats into the diagnostic,
 * truncates safely, returns the code and accepts a NULL diagnostic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "core/err.h"

typedef struct row {
    rs_err code;
    const char *name;
    const char *msg;
    int http, exit_code;
} row;

/* An independent copy of the table, expanded from the same X-macro, so that
 * every row is checked through the public lookup functions. */
static const row table[] = {
#define ROW(name, code, msg, http, exit) {RS_##name, #name, msg, http, exit},
    RS_ERR_MAP(ROW)
#undef ROW
};

static void test_rows_distinct(void **state)
{
    (void)state;
    size_t n = RS_ARRAY_LEN(table);
    assert_true(n >= 17);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            assert_int_not_equal(table[i].code, table[j].code);
            assert_string_not_equal(table[i].name, table[j].name);
            assert_string_not_equal(table[i].msg, table[j].msg);
            assert_string_not_equal(rs_err_name(table[i].code), rs_err_name(table[j].code));
            assert_string_not_equal(rs_err_str(table[i].code), rs_err_str(table[j].code));
        }
    }
}

static void test_rows_lookup(void **state)
{
    (void)state;
    for (size_t i = 0; i < RS_ARRAY_LEN(table); i++) {
        const row *r = &table[i];
        /* 0 is success and every error is negative. */
        if (i == 0)
            assert_int_equal(r->code, 0);
        else
            assert_true(r->code < 0);
        assert_string_equal(rs_err_name(r->code), r->name);
        assert_string_equal(rs_err_str(r->code), r->msg);
        assert_true(strlen(r->msg) > 0);
        assert_int_equal(rs_err_http_status(r->code), r->http);
        assert_int_equal(rs_err_exit_code(r->code), r->exit_code);
        /* Exit codes are within the documented set. */
        assert_true(r->exit_code >= 0 && r->exit_code <= 4);
        /* Every error maps to a 4xx or 5xx; success to 200. */
        if (r->code == RS_OK)
            assert_int_equal(r->http, 200);
        else
            assert_true(r->http >= 400 && r->http <= 599);
    }
}

static void test_known_mappings(void **state)
{
    (void)state;
    assert_string_equal(rs_err_name(RS_OK), "OK");
    assert_string_equal(rs_err_str(RS_OK), "success");
    assert_int_equal(rs_err_exit_code(RS_OK), 0);

    assert_string_equal(rs_err_name(RS_EPARSE), "EPARSE");
    assert_string_equal(rs_err_str(RS_EPARSE), "malformed input");
    assert_int_equal(rs_err_http_status(RS_EPARSE), 400);
    assert_int_equal(rs_err_exit_code(RS_EPARSE), 3);

    assert_int_equal(rs_err_http_status(RS_EINVAL), 400);
    assert_int_equal(rs_err_exit_code(RS_EINVAL), 2);

    assert_int_equal(rs_err_http_status(RS_ENOTFOUND), 404);
    assert_int_equal(rs_err_exit_code(RS_ENOTFOUND), 4);

    assert_int_equal(rs_err_http_status(RS_ETOOBIG), 413);
    assert_int_equal(rs_err_http_status(RS_EAUTH), 401);
    assert_int_equal(rs_err_http_status(RS_ECONFLICT), 409);
    assert_int_equal(rs_err_http_status(RS_EUNSUPPORTED), 501);
    assert_int_equal(rs_err_http_status(RS_ENOMEM), 503);
    assert_int_equal(rs_err_exit_code(RS_EINTERNAL), 1);
}

static void test_unknown_code(void **state)
{
    (void)state;
    rs_err odd[] = {(rs_err)-17, (rs_err)-1000, (rs_err)1, (rs_err)42};
    for (size_t i = 0; i < RS_ARRAY_LEN(odd); i++) {
        assert_string_equal(rs_err_name(odd[i]), "EUNKNOWN");
        assert_non_null(rs_err_str(odd[i]));
        assert_true(strlen(rs_err_str(odd[i])) > 0);
        assert_int_equal(rs_err_http_status(odd[i]), 500);
        assert_int_equal(rs_err_exit_code(odd[i]), 1);
    }
}

static void test_diag_fail_formats(void **state)
{
    (void)state;
    rs_diag d = {{0}};
    rs_err e = rs_diag_fail(&d, RS_EPARSE, "line %d: expected %u fields, got %s", 1042, 4u,
                            "three");
    assert_int_equal(e, RS_EPARSE);
    assert_string_equal(d.msg, "line 1042: expected 4 fields, got three");

    /* A second failure replaces the first message. */
    e = rs_diag_fail(&d, RS_ENOTFOUND, "no user %s", "u1");
    assert_int_equal(e, RS_ENOTFOUND);
    assert_string_equal(d.msg, "no user u1");
}

static void test_diag_fail_null(void **state)
{
    (void)state;
    assert_int_equal(rs_diag_fail(NULL, RS_EIO, "ignored %d", 1), RS_EIO);
    assert_int_equal(rs_diag_fail(NULL, RS_OK, "ok"), RS_OK);
}

static void test_diag_fail_truncates(void **state)
{
    (void)state;
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    rs_diag d;
    memset(&d, 0x55, sizeof d);
    assert_int_equal(rs_diag_fail(&d, RS_ETOOBIG, "%s", big), RS_ETOOBIG);
    assert_int_equal(strlen(d.msg), sizeof d.msg - 1);
    assert_int_equal(d.msg[0], 'x');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_distinct),
        cmocka_unit_test(test_rows_lookup),
        cmocka_unit_test(test_known_mappings),
        cmocka_unit_test(test_unknown_code),
        cmocka_unit_test(test_diag_fail_formats),
        cmocka_unit_test(test_diag_fail_null),
        cmocka_unit_test(test_diag_fail_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
