/* SPDX-License-Identifier: GPL-2.0-or-later */
/* varlink framing: NUL-terminated JSON objects, bounded by VARLINK_MSG_MAX. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "varlink.h"

static void append_str(struct varlink_buf *b, const char *s)
{
        assert_int_equal(varlink_buf_append(b, s, strlen(s)), 0);
}

static void append_nul(struct varlink_buf *b)
{
        assert_int_equal(varlink_buf_append(b, "", 1), 0);
}

static json_t *next_ok(struct varlink_buf *b)
{
        json_t *m = NULL;

        assert_int_equal(varlink_buf_next(b, &m), 1);
        assert_non_null(m);
        assert_true(json_is_object(m));
        return m;
}

static void next_none(struct varlink_buf *b)
{
        json_t *m = (json_t *)1;

        assert_int_equal(varlink_buf_next(b, &m), 0);
        assert_null(m);
}

static void test_split_across_appends(void **state)
{
        struct varlink_buf b = {0};
        json_t *m;

        (void)state;
        assert_false(varlink_buf_partial(&b));
        next_none(&b);
        append_str(&b, "{\"meth");
        assert_true(varlink_buf_partial(&b));
        next_none(&b);
        append_str(&b, "od\":\"a.B\",");
        next_none(&b);
        append_str(&b, "\"parameters\":{}}");
        next_none(&b);
        append_nul(&b);
        assert_false(varlink_buf_partial(&b));
        m = next_ok(&b);
        assert_string_equal(json_string_value(json_object_get(m, "method")), "a.B");
        json_decref(m);
        next_none(&b);
        assert_int_equal(b.len, 0);
        varlink_buf_free(&b);
}

static void test_byte_by_byte(void **state)
{
        static const char wire[] = "{\"a\":1}\0{\"b\":2}\0";
        struct varlink_buf b = {0};
        json_t *m;
        int got = 0;

        (void)state;
        for (size_t i = 0; i < sizeof(wire) - 1; i++) {
                assert_int_equal(varlink_buf_append(&b, wire + i, 1), 0);
                while (varlink_buf_next(&b, &m) == 1) {
                        assert_non_null(json_object_get(m, got == 0 ? "a" : "b"));
                        json_decref(m);
                        got++;
                }
        }
        assert_int_equal(got, 2);
        assert_false(varlink_buf_partial(&b));
        varlink_buf_free(&b);
}

static void test_several_in_one_append(void **state)
{
        static const char wire[] = "{\"n\":1}\0{\"n\":2}\0{\"n\":3}\0{\"n\":";
        struct varlink_buf b = {0};

        (void)state;
        assert_int_equal(varlink_buf_append(&b, wire, sizeof(wire) - 1), 0);
        assert_true(varlink_buf_partial(&b));
        for (int i = 1; i <= 3; i++) {
                json_t *m = next_ok(&b);

                assert_int_equal(json_integer_value(json_object_get(m, "n")), i);
                json_decref(m);
        }
        next_none(&b);
        /* The rest arrives later, together with one more message. */
        assert_int_equal(varlink_buf_append(&b, "4}\0{\"n\":5}\0", 11), 0);
        assert_false(varlink_buf_partial(&b));
        for (int i = 4; i <= 5; i++) {
                json_t *m = next_ok(&b);

                assert_int_equal(json_integer_value(json_object_get(m, "n")), i);
                json_decref(m);
        }
        next_none(&b);
        varlink_buf_free(&b);
}

static void test_not_an_object(void **state)
{
        static const char wire[] = "[1,2]\0\"str\"\0" "42\0null\0{\"ok\":true}\0";
        struct varlink_buf b = {0};
        json_t *m;

        (void)state;
        assert_int_equal(varlink_buf_append(&b, wire, sizeof(wire) - 1), 0);
        for (int i = 0; i < 4; i++) {
                m = (json_t *)1;
                assert_int_equal(varlink_buf_next(&b, &m), -EBADMSG);
                assert_null(m);
        }
        /* Each bad message was consumed: the good one behind them is intact. */
        m = next_ok(&b);
        assert_true(json_is_true(json_object_get(m, "ok")));
        json_decref(m);
        varlink_buf_free(&b);
}

static void test_invalid_json(void **state)
{
        static const char *bad[] = {
                "{nope}", "{\"a\":1", "{\"a\":1}}", "", "{\"a\":1,\"a\":2}", "{\"a\":\"\\u0000\"}",
        };
        struct varlink_buf b = {0};
        json_t *m;

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                append_str(&b, bad[i]);
                append_nul(&b);
                assert_int_equal(varlink_buf_next(&b, &m), -EBADMSG);
                next_none(&b);
        }
        /* Bytes after the NUL are not part of the message: "{} x" is invalid, "{}" then " x"
         * is a valid message and a partial one. */
        assert_int_equal(varlink_buf_append(&b, "{}\0 x", 5), 0);
        json_decref(next_ok(&b));
        assert_true(varlink_buf_partial(&b));
        varlink_buf_free(&b);
}

/* A JSON object of exactly @size bytes: {"s":"xxx…"}. */
static char *object_of_size(size_t size)
{
        char *s = malloc(size + 1);

        assert_non_null(s);
        assert_true(size >= 8);
        memcpy(s, "{\"s\":\"", 6);
        memset(s + 6, 'x', size - 8);
        memcpy(s + size - 2, "\"}", 3);
        return s;
}

static void test_oversize(void **state)
{
        struct varlink_buf b = {0};
        char *big = malloc(VARLINK_MSG_MAX + 16);
        json_t *m;

        (void)state;
        assert_non_null(big);
        memset(big, ' ', VARLINK_MSG_MAX + 2);

        /* In one append, no NUL: refused, nothing kept. */
        assert_int_equal(varlink_buf_append(&b, big, VARLINK_MSG_MAX + 1), -EMSGSIZE);
        assert_int_equal(b.len, 0);

        /* In pieces: the bound is reached, one more byte is refused. */
        assert_int_equal(varlink_buf_append(&b, big, VARLINK_MSG_MAX - 10), 0);
        assert_int_equal(varlink_buf_append(&b, big, 10), 0);
        assert_int_equal(varlink_buf_append(&b, big, 1), -EMSGSIZE);
        assert_int_equal(b.len, VARLINK_MSG_MAX);
        varlink_buf_free(&b);

        /* A whole message over the bound, NUL included in the same append, is refused too. */
        big[VARLINK_MSG_MAX + 1] = '\0';
        assert_int_equal(varlink_buf_append(&b, big, VARLINK_MSG_MAX + 2), -EMSGSIZE);
        assert_int_equal(b.len, 0);

        /* So is one completed by a later append, even though no tail ever exceeded it. */
        assert_int_equal(varlink_buf_append(&b, big, VARLINK_MSG_MAX - 5), 0);
        memcpy(big, "      \0{}\0", 10);
        assert_int_equal(varlink_buf_append(&b, big, 10), -EMSGSIZE);

        /* Messages before an oversize one in the same append do not make it pass. */
        varlink_buf_free(&b);
        memset(big, ' ', VARLINK_MSG_MAX + 16);
        memcpy(big, "{}\0", 3);
        big[3 + VARLINK_MSG_MAX + 1] = '\0';
        assert_int_equal(varlink_buf_append(&b, big, 3 + VARLINK_MSG_MAX + 2), -EMSGSIZE);
        assert_int_equal(varlink_buf_next(&b, &m), 0);
        big[3 + VARLINK_MSG_MAX] = '\0'; /* one byte shorter: exactly at the bound */
        assert_int_equal(varlink_buf_append(&b, big, 3 + VARLINK_MSG_MAX + 1), 0);
        json_decref(next_ok(&b));
        assert_int_equal(varlink_buf_next(&b, &m), -EBADMSG); /* spaces are no object */

        varlink_buf_free(&b);
        free(big);
}

static void test_exactly_at_bound(void **state)
{
        struct varlink_buf b = {0};
        char *s = object_of_size(VARLINK_MSG_MAX);
        json_t *m, *v;
        char *out;
        size_t len;

        (void)state;
        /* Across appends, as a socket would deliver it. */
        for (size_t off = 0; off < VARLINK_MSG_MAX; off += 65536) {
                size_t n = VARLINK_MSG_MAX - off < 65536 ? VARLINK_MSG_MAX - off : 65536;

                assert_int_equal(varlink_buf_append(&b, s + off, n), 0);
        }
        append_nul(&b);
        m = next_ok(&b);
        assert_int_equal(json_string_length(json_object_get(m, "s")), VARLINK_MSG_MAX - 8);

        /* The encoder has the same bound. */
        assert_int_equal(varlink_encode(m, &out, &len), 0);
        assert_int_equal(len, VARLINK_MSG_MAX + 1);
        assert_int_equal(out[len - 1], '\0');
        free(out);
        v = json_string("");
        json_object_set_new(m, "t", v);
        assert_int_equal(varlink_encode(m, &out, &len), -EMSGSIZE);
        assert_null(out);

        json_decref(m);
        varlink_buf_free(&b);
        free(s);
}

static void test_encode_round_trip(void **state)
{
        struct varlink_buf b = {0};
        json_t *call, *m;
        char *out;
        size_t len;

        (void)state;
        call = varlink_call_new("io.vnet.GetNetwork",
                                json_pack("{s:s,s:s,s:[i,b,n],s:f}", "name", "default", "text",
                                          "quote \" newline \n tab \t \xc3\xa9", "list", 1, 1,
                                          "x", 0.5),
                                false);
        assert_non_null(call);
        assert_int_equal(varlink_encode(call, &out, &len), 0);
        assert_int_equal(out[len - 1], '\0');
        assert_int_equal(strlen(out), len - 1);

        assert_int_equal(varlink_buf_append(&b, out, len), 0);
        assert_int_equal(varlink_buf_append(&b, out, len), 0);
        for (int i = 0; i < 2; i++) {
                m = next_ok(&b);
                assert_true(json_equal(m, call));
                json_decref(m);
        }
        next_none(&b);
        free(out);
        json_decref(call);

        /* A NUL inside a string is escaped, so the frame stays intact; the decoder refuses it,
         * since no value of this protocol may hold one (C strings would cut it short). */
        m = varlink_reply_new(json_pack("{s:s%}", "nul", "a\0b", (size_t)3));
        assert_int_equal(varlink_encode(m, &out, &len), 0);
        assert_int_equal(strlen(out), len - 1);
        assert_int_equal(varlink_buf_append(&b, out, len), 0);
        assert_int_equal(varlink_buf_next(&b, &call), -EBADMSG);
        free(out);
        json_decref(m);

        m = json_array();
        assert_int_equal(varlink_encode(m, &out, &len), -EINVAL);
        json_decref(m);
        varlink_buf_free(&b);
}

static void test_constructors(void **state)
{
        json_t *m;

        (void)state;
        m = varlink_call_new("a.B", NULL, false);
        assert_non_null(m);
        assert_string_equal(json_string_value(json_object_get(m, "method")), "a.B");
        assert_true(json_is_object(json_object_get(m, "parameters")));
        assert_int_equal(json_object_size(json_object_get(m, "parameters")), 0);
        assert_null(json_object_get(m, "more"));
        json_decref(m);

        m = varlink_call_new("a.B", json_pack("{s:i}", "x", 1), true);
        assert_true(json_is_true(json_object_get(m, "more")));
        assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "parameters"),
                                                            "x")),
                         1);
        json_decref(m);

        m = varlink_reply_new(json_pack("{s:s}", "k", "v"));
        assert_non_null(m);
        assert_int_equal(json_object_size(m), 1);
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(m, "parameters"), "k")), "v");
        json_decref(m);

        m = varlink_reply_new(NULL);
        assert_int_equal(json_object_size(json_object_get(m, "parameters")), 0);
        json_decref(m);

        m = varlink_error_new("io.vnet.NetworkNotFound", json_pack("{s:s}", "name", "x"));
        assert_string_equal(json_string_value(json_object_get(m, "error")),
                            "io.vnet.NetworkNotFound");
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(m, "parameters"), "name")),
                "x");
        json_decref(m);

        /* Refused arguments: the stolen parameters are released (ASan checks for leaks). */
        assert_null(varlink_call_new(NULL, json_object(), false));
        assert_null(varlink_call_new("a.B", json_array(), false));
        assert_null(varlink_error_new(NULL, json_object()));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_split_across_appends),
                cmocka_unit_test(test_byte_by_byte),
                cmocka_unit_test(test_several_in_one_append),
                cmocka_unit_test(test_not_an_object),
                cmocka_unit_test(test_invalid_json),
                cmocka_unit_test(test_oversize),
                cmocka_unit_test(test_exactly_at_bound),
                cmocka_unit_test(test_encode_round_trip),
                cmocka_unit_test(test_constructors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
