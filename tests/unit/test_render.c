/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vnetctl's renderers: column widths, alignment, empty lists and missing fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The Makefile links cli objects into vnetctl only; the renderer is pure, so compile it in. */
#include "../../cli/render.c"

struct capture {
        FILE *f;
        char *buf;
        size_t len;
};

static void capture_open(struct capture *c)
{
        *c = (struct capture){};
        c->f = open_memstream(&c->buf, &c->len);
        assert_non_null(c->f);
}

/* Closes the stream and returns what was written; the caller frees it. */
static char *capture_close(struct capture *c)
{
        assert_int_equal(fclose(c->f), 0);
        return c->buf;
}

static json_t *network(const char *json)
{
        json_error_t e;
        json_t *j = json_loads(json, 0, &e);

        if (!j)
                fail_msg("bad test JSON: %s", e.text);
        return j;
}

static void assert_no_trailing_blanks(const char *s)
{
        for (const char *p = s; (p = strchr(p, '\n')); p++)
                if (p > s)
                        assert_true(p[-1] != ' ');
}

static void test_table_widths_from_data(void **state)
{
        static const char *const header[] = { "A", "LONGHEADER", "C" };
        static const char *const cells[] = {
                "longvalue", "x", "1",
                "s", NULL, "22",
        };
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_table(c.f, header, 3, cells, 2), 0);
        out = capture_close(&c);
        assert_string_equal(out, "A          LONGHEADER  C\n"
                                 "longvalue  x           1\n"
                                 "s          -           22\n");
        assert_no_trailing_blanks(out);
        free(out);
}

static void test_table_no_rows_prints_header(void **state)
{
        static const char *const header[] = { "NAME", "STATE" };
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_table(c.f, header, 2, NULL, 0), 0);
        out = capture_close(&c);
        assert_string_equal(out, "NAME  STATE\n");
        free(out);
}

static void test_kv_aligned(void **state)
{
        static const struct render_kv kv[] = {
                { "Name", "default" },
                { "Persistent", "yes" },
                { "IPv4", NULL },
        };
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_kv(c.f, kv, 3), 0);
        out = capture_close(&c);
        assert_string_equal(out, "Name:        default\n"
                                 "Persistent:  yes\n"
                                 "IPv4:        -\n");
        free(out);
}

#define NET_DEFAULT                                                                        \
        "{\"name\":\"default\",\"bridge\":\"virbr0\",\"mode\":\"nat\","                    \
        "\"ipv4\":\"192.168.122.1/24\",\"mtu\":1500,\"mac\":\"52:54:00:aa:bb:cc\","        \
        "\"stp\":false,\"autostart\":true,\"transient\":false,\"state\":\"running\"}"
#define NET_ISOLATED                                                                       \
        "{\"name\":\"lab-isolated\",\"bridge\":\"virbr12\",\"mode\":\"isolated\","         \
        "\"mtu\":9000,\"mac\":\"52:54:00:aa:bb:cd\",\"stp\":true,\"autostart\":false,"     \
        "\"transient\":true,\"state\":\"failed\",\"error\":\"dnsmasq exited\"}"

static void test_network_table(void **state)
{
        json_t *list = network("[" NET_DEFAULT "," NET_ISOLATED "]");
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_network_table(c.f, list), 0);
        out = capture_close(&c);
        assert_string_equal(
                out,
                "NAME          STATE    MODE      BRIDGE   IPV4              AUTOSTART  PERSISTENT\n"
                "default       running  nat       virbr0   192.168.122.1/24  yes        yes\n"
                "lab-isolated  failed   isolated  virbr12  -                 no         no\n");
        assert_no_trailing_blanks(out);
        free(out);
        json_decref(list);
}

static void test_network_table_empty(void **state)
{
        json_t *list = json_array();
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_network_table(c.f, list), 0);
        out = capture_close(&c);
        assert_string_equal(out, "NAME  STATE  MODE  BRIDGE  IPV4  AUTOSTART  PERSISTENT\n");
        free(out);
        json_decref(list);
}

/* A reply from a newer or broken vnetd: missing and mistyped fields show "-". */
static void test_network_table_missing_fields(void **state)
{
        json_t *list = network("[{\"name\":\"x\",\"mode\":7}, 3]");
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_network_table(c.f, list), 0);
        out = capture_close(&c);
        assert_string_equal(out, "NAME  STATE  MODE  BRIDGE  IPV4  AUTOSTART  PERSISTENT\n"
                                 "x     -      -     -       -     -          -\n"
                                 "-     -      -     -       -     -          -\n");
        free(out);
        json_decref(list);
}

static void test_network_details(void **state)
{
        json_t *n = network(NET_DEFAULT);
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_network_details(c.f, n), 0);
        out = capture_close(&c);
        assert_string_equal(out, "Name:        default\n"
                                 "State:       running\n"
                                 "Mode:        nat\n"
                                 "Bridge:      virbr0\n"
                                 "IPv4:        192.168.122.1/24\n"
                                 "MTU:         1500\n"
                                 "MAC:         52:54:00:aa:bb:cc\n"
                                 "STP:         off\n"
                                 "Autostart:   yes\n"
                                 "Persistent:  yes\n");
        free(out);
        json_decref(n);
}

static void test_network_details_error_and_no_ipv4(void **state)
{
        json_t *n = network(NET_ISOLATED);
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_network_details(c.f, n), 0);
        out = capture_close(&c);
        assert_string_equal(out, "Name:        lab-isolated\n"
                                 "State:       failed\n"
                                 "Error:       dnsmasq exited\n"
                                 "Mode:        isolated\n"
                                 "Bridge:      virbr12\n"
                                 "IPv4:        -\n"
                                 "MTU:         9000\n"
                                 "MAC:         52:54:00:aa:bb:cd\n"
                                 "STP:         on\n"
                                 "Autostart:   no\n"
                                 "Persistent:  no\n");
        free(out);
        json_decref(n);
}

static void test_network_summary(void **state)
{
        json_t *running = network(NET_DEFAULT);
        json_t *failed = network(NET_ISOLATED);
        json_t *stopped = network("{\"name\":\"iso\",\"bridge\":\"virbr3\",\"mode\":\"isolated\","
                                  "\"state\":\"stopped\",\"ipv4\":null}");
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_network_summary(c.f, running), 0);
        assert_int_equal(render_network_summary(c.f, failed), 0);
        assert_int_equal(render_network_summary(c.f, stopped), 0);
        assert_int_equal(render_network_destroyed(c.f, "default"), 0);
        out = capture_close(&c);
        assert_string_equal(out,
                            "Network 'default' is running on bridge virbr0 (nat, 192.168.122.1/24).\n"
                            "Network 'lab-isolated' has failed: dnsmasq exited\n"
                            "Network 'iso' is stopped (bridge virbr3, isolated).\n"
                            "Network 'default' destroyed.\n");
        free(out);
        json_decref(running);
        json_decref(failed);
        json_decref(stopped);
}

static void test_json_one_indented_document(void **state)
{
        json_t *list = network("[{\"name\":\"a\",\"mtu\":1500}]");
        json_t *empty = json_object();
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_json(c.f, list), 0);
        assert_int_equal(render_json(c.f, empty), 0);
        out = capture_close(&c);
        assert_string_equal(out, "[\n"
                                 "  {\n"
                                 "    \"name\": \"a\",\n"
                                 "    \"mtu\": 1500\n"
                                 "  }\n"
                                 "]\n"
                                 "{}\n");
        free(out);
        json_decref(list);
        json_decref(empty);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table_widths_from_data),
                cmocka_unit_test(test_table_no_rows_prints_header),
                cmocka_unit_test(test_kv_aligned),
                cmocka_unit_test(test_network_table),
                cmocka_unit_test(test_network_table_empty),
                cmocka_unit_test(test_network_table_missing_fields),
                cmocka_unit_test(test_network_details),
                cmocka_unit_test(test_network_details_error_and_no_ipv4),
                cmocka_unit_test(test_network_summary),
                cmocka_unit_test(test_json_one_indented_document),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
