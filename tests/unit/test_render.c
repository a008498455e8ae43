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
#include <time.h>

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

static void test_network_details_allowed(void **state)
{
        json_t *n = network("{\"name\":\"lab\",\"bridge\":\"virbr1\",\"mode\":\"open\","
                            "\"mtu\":1500,\"mac\":\"52:54:00:aa:bb:ce\",\"stp\":false,"
                            "\"autostart\":false,\"transient\":false,\"state\":\"running\","
                            "\"allow_users\":[\"alice\",\"1001\"],\"allow_groups\":[\"kvm\"]}");
        json_t *empty = network("{\"name\":\"x\",\"allow_users\":[],\"allow_groups\":[]}");
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_network_details(c.f, n), 0);
        out = capture_close(&c);
        assert_string_equal(out, "Name:            lab\n"
                                 "State:           running\n"
                                 "Mode:            open\n"
                                 "Bridge:          virbr1\n"
                                 "IPv4:            -\n"
                                 "MTU:             1500\n"
                                 "MAC:             52:54:00:aa:bb:ce\n"
                                 "STP:             off\n"
                                 "Autostart:       no\n"
                                 "Persistent:      yes\n"
                                 "Allowed users:   alice, 1001\n"
                                 "Allowed groups:  kvm\n");
        assert_no_trailing_blanks(out);
        free(out);

        /* Empty lists leave the lines out. */
        capture_open(&c);
        assert_int_equal(render_network_details(c.f, empty), 0);
        out = capture_close(&c);
        assert_null(strstr(out, "Allowed"));
        free(out);
        json_decref(n);
        json_decref(empty);
}

/* Stand-ins for NSS: uid 1000 is alice, gid 36 is kvm, nothing else has a name. */
static const char *fake_user(long uid, char *buf, size_t size)
{
        if (uid != 1000)
                return NULL;
        snprintf(buf, size, "alice");
        return buf;
}

static const char *fake_group(long gid, char *buf, size_t size)
{
        if (gid != 36)
                return NULL;
        snprintf(buf, size, "kvm");
        return buf;
}

#define PORTS                                                                              \
        "[{\"network\":\"default\",\"ifname\":\"vnet0\",\"mac\":\"52:54:00:12:34:56\","    \
        "\"owner\":1000,\"queues\":1,\"adopted\":false,\"state\":\"up\"},"                  \
        "{\"network\":\"default\",\"ifname\":\"vnet12\",\"mac\":\"52:54:00:00:00:0a\","    \
        "\"owner\":1000,\"group\":36,\"queues\":4,\"adopted\":false,\"state\":\"down\"},"  \
        "{\"network\":\"default\",\"ifname\":\"tap-qemu\",\"mac\":\"52:54:00:00:00:0b\","  \
        "\"owner\":null,\"group\":2000,\"queues\":1,\"adopted\":true,\"state\":\"stopped\"},"\
        "{\"network\":\"default\",\"ifname\":\"vnet3\",\"mac\":\"52:54:00:00:00:0c\","     \
        "\"owner\":4000,\"queues\":1,\"adopted\":false,\"state\":\"down\"}]"

static void test_port_table(void **state)
{
        json_t *ports = network(PORTS);
        static const struct render_names names = { fake_user, fake_group };
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_port_table(c.f, ports, &names), 0);
        out = capture_close(&c);
        assert_string_equal(out,
                            "IFNAME    MAC                OWNER      QUEUES  STATE    ADOPTED\n"
                            "vnet0     52:54:00:12:34:56  alice      1       up       no\n"
                            "vnet12    52:54:00:00:00:0a  alice:kvm  4       down     no\n"
                            "tap-qemu  52:54:00:00:00:0b  :2000      1       stopped  yes\n"
                            "vnet3     52:54:00:00:00:0c  4000       1       down     no\n");
        assert_no_trailing_blanks(out);
        free(out);
        json_decref(ports);
}

/* Without a resolver ids show as numbers. */
static void test_port_table_numeric_ids(void **state)
{
        json_t *ports = network(PORTS);
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_port_table(c.f, ports, NULL), 0);
        out = capture_close(&c);
        assert_string_equal(out,
                            "IFNAME    MAC                OWNER    QUEUES  STATE    ADOPTED\n"
                            "vnet0     52:54:00:12:34:56  1000     1       up       no\n"
                            "vnet12    52:54:00:00:00:0a  1000:36  4       down     no\n"
                            "tap-qemu  52:54:00:00:00:0b  :2000    1       stopped  yes\n"
                            "vnet3     52:54:00:00:00:0c  4000     1       down     no\n");
        free(out);
        json_decref(ports);
}

static void test_port_table_empty_and_missing(void **state)
{
        json_t *empty = json_array();
        json_t *odd = network("[{\"ifname\":\"vnet0\",\"owner\":\"root\",\"queues\":\"1\"}, 7]");
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_port_table(c.f, empty, NULL), 0);
        assert_int_equal(render_port_table(c.f, odd, NULL), 0);
        out = capture_close(&c);
        assert_string_equal(out, "IFNAME  MAC  OWNER  QUEUES  STATE  ADOPTED\n"
                                 "IFNAME  MAC  OWNER  QUEUES  STATE  ADOPTED\n"
                                 "vnet0   -    -      -       -      -\n"
                                 "-       -    -      -       -      -\n");
        free(out);
        json_decref(empty);
        json_decref(odd);
}

static void test_port_attached_detached(void **state)
{
        json_t *ports = network(PORTS);
        json_t *bare = json_object();
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_port_attached(c.f, json_array_get(ports, 0)), 0);
        assert_int_equal(render_port_attached(c.f, bare), 0);
        assert_int_equal(render_port_detached(c.f, "default", "vnet0"), 0);
        out = capture_close(&c);
        assert_string_equal(out, "vnet0 52:54:00:12:34:56\n"
                                 "- -\n"
                                 "Port 'vnet0' detached from network 'default'.\n");
        free(out);
        json_decref(ports);
        json_decref(bare);
}

/* A network with DHCP and DNS, as a vnetd that serves them describes it. */
#define NET_DHCP_BEGIN                                                                     \
        "{\"name\":\"default\",\"bridge\":\"virbr0\",\"mode\":\"nat\","                    \
        "\"ipv4\":\"192.168.122.1/24\",\"mtu\":1500,\"mac\":\"52:54:00:aa:bb:cc\","        \
        "\"stp\":false,\"autostart\":true,\"transient\":false,\"state\":\"running\","      \
        "\"allow_users\":[],\"allow_groups\":[],"

static void test_network_details_dhcp(void **state)
{
        json_t *n = network(NET_DHCP_BEGIN
                            "\"dhcp\":true,\"dhcp_range\":\"192.168.122.2-192.168.122.254\","
                            "\"lease_time\":3600,\"domain\":\"default\",\"dns_forwarders\":[],"
                            "\"hosts\":[{\"mac\":\"52:54:00:00:00:01\",\"ip\":\"192.168.122.10\"}],"
                            "\"dnsmasq\":{\"pid\":4242,\"running\":true,\"restarts\":0}}");
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_network_details(c.f, n), 0);
        out = capture_close(&c);
        assert_string_equal(out, "Name:            default\n"
                                 "State:           running\n"
                                 "Mode:            nat\n"
                                 "Bridge:          virbr0\n"
                                 "IPv4:            192.168.122.1/24\n"
                                 "MTU:             1500\n"
                                 "MAC:             52:54:00:aa:bb:cc\n"
                                 "STP:             off\n"
                                 "Autostart:       yes\n"
                                 "Persistent:      yes\n"
                                 "DHCP:            on, 192.168.122.2-192.168.122.254, lease 1h\n"
                                 "Domain:          default\n"
                                 "DNS forwarders:  none\n"
                                 "Hosts:           1\n"
                                 "dnsmasq:         running, pid 4242\n");
        assert_no_trailing_blanks(out);
        free(out);
        json_decref(n);
}

/* Renders @json's details and returns the value of its line @key ("DHCP: ..."); freed by the
 * caller. */
static char *details_line(const char *json, const char *key)
{
        json_t *n = network(json);
        struct capture c;
        char *out, *line, *end;

        capture_open(&c);
        assert_int_equal(render_network_details(c.f, n), 0);
        out = capture_close(&c);
        json_decref(n);
        line = strstr(out, key);
        if (!line) {
                free(out);
                return NULL;
        }
        line += strlen(key);
        line += strspn(line, " ");
        end = strchr(line, '\n');
        assert_non_null(end);
        line = strndup(line, (size_t)(end - line));
        free(out);
        return line;
}

static void assert_details_line(const char *json, const char *key, const char *want)
{
        char *got = details_line(json, key);

        if (!want) {
                assert_null(got);
                return;
        }
        assert_non_null(got);
        assert_string_equal(got, want);
        free(got);
}

static void test_network_details_dhcp_variants(void **state)
{
        (void)state;
        assert_details_line(NET_DHCP_BEGIN "\"dhcp\":false,\"dhcp_range\":\"0.0.0.0-0.0.0.0\"}",
                            "\nDHCP:", "off");
        /* The lease time in the unit --lease-time would take. */
        assert_details_line(NET_DHCP_BEGIN "\"dhcp\":true,\"dhcp_range\":\"10.0.0.2-10.0.0.9\","
                                           "\"lease_time\":5400}",
                            "\nDHCP:", "on, 10.0.0.2-10.0.0.9, lease 90m");
        assert_details_line(NET_DHCP_BEGIN "\"dhcp\":true,\"lease_time\":172800}", "\nDHCP:",
                            "on, lease 2d");
        assert_details_line(NET_DHCP_BEGIN "\"dhcp\":true,\"lease_time\":150}", "\nDHCP:",
                            "on, lease 150s");
        assert_details_line(NET_DHCP_BEGIN "\"dns_forwarders\":[\"10.9.9.9\",\"10.9.9.8\"]}",
                            "\nDNS forwarders:", "10.9.9.9, 10.9.9.8");
        assert_details_line(NET_DHCP_BEGIN "\"hosts\":[]}", "\nHosts:", "0");
        assert_details_line(NET_DHCP_BEGIN "\"domain\":\"\"}", "\nDomain:", "-");
        assert_details_line(NET_DHCP_BEGIN "\"dnsmasq\":{\"pid\":0,\"running\":false,"
                                           "\"restarts\":3,\"last_exit\":\"killed by signal 9\"}}",
                            "\ndnsmasq:", "restarted 3 times, last: killed by signal 9");
        assert_details_line(NET_DHCP_BEGIN "\"dnsmasq\":{\"pid\":77,\"running\":true,"
                                           "\"restarts\":1,\"last_exit\":\"exited with status 2\"}}",
                            "\ndnsmasq:", "running, pid 77, restarted 1 time, last: exited with status 2");
        assert_details_line(NET_DHCP_BEGIN "\"dnsmasq\":{\"pid\":0,\"running\":false,"
                                           "\"restarts\":0}}",
                            "\ndnsmasq:", "not running");
        /* A vnetd without DHCP (or a network without an address) has none of the lines. */
        assert_details_line(NET_DEFAULT, "\nDHCP:", NULL);
        assert_details_line(NET_DEFAULT, "\nDomain:", NULL);
        assert_details_line(NET_DEFAULT, "\nDNS forwarders:", NULL);
        assert_details_line(NET_DEFAULT, "\nHosts:", NULL);
        assert_details_line(NET_DEFAULT, "\ndnsmasq:", NULL);
}

#define HOSTS                                                                              \
        "[{\"mac\":\"52:54:00:00:00:01\",\"ip\":\"192.168.122.10\",\"hostname\":\"web\"},"  \
        "{\"mac\":\"52:54:00:00:00:02\",\"ip\":\"192.168.122.100\"},"                      \
        "{\"mac\":\"52:54:00:00:00:03\",\"ip\":\"192.168.122.11\",\"hostname\":\"\"},"     \
        "{\"mac\":7}]"

static void test_host_table(void **state)
{
        json_t *hosts = network(HOSTS);
        json_t *empty = json_array();
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_host_table(c.f, hosts), 0);
        assert_int_equal(render_host_table(c.f, empty), 0);
        out = capture_close(&c);
        assert_string_equal(out, "MAC                IP               HOSTNAME\n"
                                 "52:54:00:00:00:01  192.168.122.10   web\n"
                                 "52:54:00:00:00:02  192.168.122.100  -\n"
                                 "52:54:00:00:00:03  192.168.122.11   -\n"
                                 "-                  -                -\n"
                                 "MAC  IP  HOSTNAME\n");
        assert_no_trailing_blanks(out);
        free(out);
        json_decref(hosts);
        json_decref(empty);
}

static void test_host_added_removed(void **state)
{
        struct capture c;
        char *out;

        (void)state;
        capture_open(&c);
        assert_int_equal(render_host_added(c.f, "default", "52:54:00:00:00:01", "192.168.122.10",
                                           "web"),
                         0);
        assert_int_equal(render_host_added(c.f, "default", "52:54:00:00:00:02", "192.168.122.11",
                                           NULL),
                         0);
        assert_int_equal(render_host_removed(c.f, "default", "52:54:00:00:00:01"), 0);
        out = capture_close(&c);
        assert_string_equal(out,
                            "Reserved 192.168.122.10 for 52:54:00:00:00:01 (web) on network 'default'.\n"
                            "Reserved 192.168.122.11 for 52:54:00:00:00:02 on network 'default'.\n"
                            "Removed the reservation of 52:54:00:00:00:01 on network 'default'.\n");
        free(out);
}

#define LEASES                                                                             \
        "[{\"mac\":\"52:54:00:00:00:01\",\"address\":\"192.168.122.10\","                  \
        "\"hostname\":\"web\",\"expires\":1700000000},"                                     \
        "{\"mac\":\"52:54:00:00:00:02\",\"address\":\"192.168.122.57\",\"expires\":0},"    \
        "{\"mac\":\"52:54:00:00:00:03\",\"address\":\"192.168.122.58\",\"hostname\":\"\","\
        "\"expires\":\"soon\"},"                                                           \
        "{\"mac\":\"52:54:00:00:00:04\",\"address\":\"192.168.122.59\",\"expires\":-5}]"

static void test_lease_table(void **state)
{
        json_t *leases = network(LEASES);
        json_t *empty = json_array();
        struct capture c;
        char *out;

        (void)state;
        /* Expiry is local time: pin the zone so the fixed timestamp has one rendering. */
        assert_int_equal(setenv("TZ", "UTC", 1), 0);
        tzset();
        capture_open(&c);
        assert_int_equal(render_lease_table(c.f, leases), 0);
        assert_int_equal(render_lease_table(c.f, empty), 0);
        out = capture_close(&c);
        assert_string_equal(out,
                            "MAC                ADDRESS         HOSTNAME  EXPIRES\n"
                            "52:54:00:00:00:01  192.168.122.10  web       2023-11-14 22:13:20\n"
                            "52:54:00:00:00:02  192.168.122.57  -         never\n"
                            "52:54:00:00:00:03  192.168.122.58  -         -\n"
                            "52:54:00:00:00:04  192.168.122.59  -         -\n"
                            "MAC  ADDRESS  HOSTNAME  EXPIRES\n");
        assert_no_trailing_blanks(out);
        free(out);

        /* And in another zone, the same instant in that zone's time. */
        assert_int_equal(setenv("TZ", "UTC-2", 1), 0);
        tzset();
        capture_open(&c);
        assert_int_equal(render_lease_table(c.f, leases), 0);
        out = capture_close(&c);
        assert_non_null(strstr(out, "2023-11-15 00:13:20"));
        free(out);
        assert_int_equal(setenv("TZ", "UTC", 1), 0);
        tzset();
        json_decref(leases);
        json_decref(empty);
}

/* render() of @fn over the JSON @json, as a string the caller frees. */
static char *render_str(int (*fn)(FILE *, const json_t *), const char *json)
{
        json_t *j = network(json);
        struct capture c;

        capture_open(&c);
        assert_int_equal(fn(c.f, j), 0);
        json_decref(j);
        return capture_close(&c);
}

static void test_network_details_warnings(void **state)
{
        char *out;

        (void)state;
        out = render_str(render_network_details,
                         "{\"name\": \"default\", \"state\": \"running\", \"warnings\": "
                         "[\"table ip filter, chain FORWARD: its policy drops\", 7, "
                         "\"second\"]}");
        assert_non_null(strstr(out, "Name:        default\n"));
        /* after the key/value lines, one each, what is not a string left out */
        assert_non_null(strstr(out, "\nWarning: table ip filter, chain FORWARD: its policy drops\n"
                                    "Warning: second\n"));
        assert_null(strstr(out, "Warning: 7"));
        /* the last lines are the warnings */
        assert_string_equal(out + strlen(out) - strlen("Warning: second\n"), "Warning: second\n");
        assert_no_trailing_blanks(out);
        free(out);

        out = render_str(render_network_details, "{\"name\": \"x\", \"warnings\": []}");
        assert_null(strstr(out, "Warning"));
        free(out);
}

static void test_findings_none(void **state)
{
        char *out;

        (void)state;
        out = render_str(render_findings, "[]");
        assert_string_equal(out, "No problems found.\n");
        free(out);
}

static void test_findings_paragraphs(void **state)
{
        char *out;

        (void)state;
        out = render_str(render_findings,
                         "[{\"family\": \"ip\", \"table\": \"filter\", \"chain\": \"FORWARD\", "
                         "\"hook\": \"forward\", \"priority\": 0, \"what\": \"policy drop\", "
                         "\"certain\": true, \"networks\": [\"default\"], "
                         "\"remedy\": \"allow it: iptables -I FORWARD -i virbr0 -j ACCEPT\"},"
                         " {\"family\": \"inet\", \"table\": \"fw\", \"chain\": \"in\", "
                         "\"hook\": \"input\", \"priority\": -10, \"what\": \"rule reject\", "
                         "\"rule\": 12, \"rule_chain\": \"checks\", \"certain\": false, "
                         "\"networks\": [\"a\", \"b\"], \"remedy\": \"accept DHCP\"},"
                         " {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"c\", "
                         "\"hook\": \"forward\", \"priority\": 0, \"what\": \"rule drop\", "
                         "\"rule\": 3, \"certain\": true, \"networks\": [\"a\"]}]");
        assert_string_equal(
                out,
                "Table ip filter, chain FORWARD (hook forward, priority 0): its policy drops the "
                "forwarded traffic of network default.\n"
                "  To fix it, allow it: iptables -I FORWARD -i virbr0 -j ACCEPT.\n"
                "\n"
                "Table inet fw, chain in (hook input, priority -10): rule 12 (in chain checks) may "
                "reject the DHCP and DNS requests to the host from networks a, b.\n"
                "  To fix it, accept DHCP.\n"
                "\n"
                "Table inet t, chain c (hook forward, priority 0): rule 3 drops the forwarded "
                "traffic of network a.\n"
                "  To fix it, -.\n"
                "\n"
                "A packet passes a hook only if every base chain on it lets it through: an accept "
                "in vnetd's table cannot override these.\n");
        assert_no_trailing_blanks(out);
        free(out);
}

static void test_findings_missing_fields(void **state)
{
        char *out;

        (void)state;
        out = render_str(render_findings, "[{\"hook\": 5, \"networks\": \"x\"}]");
        assert_non_null(strstr(out, "Table - -, chain - (hook -, priority -): - (possible) the - "
                                    "traffic of networks -.\n  To fix it, -.\n"));
        free(out);
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
                cmocka_unit_test(test_network_details_allowed),
                cmocka_unit_test(test_port_table),
                cmocka_unit_test(test_port_table_numeric_ids),
                cmocka_unit_test(test_port_table_empty_and_missing),
                cmocka_unit_test(test_port_attached_detached),
                cmocka_unit_test(test_network_details_dhcp),
                cmocka_unit_test(test_network_details_dhcp_variants),
                cmocka_unit_test(test_host_table),
                cmocka_unit_test(test_host_added_removed),
                cmocka_unit_test(test_lease_table),
                cmocka_unit_test(test_network_details_warnings),
                cmocka_unit_test(test_findings_none),
                cmocka_unit_test(test_findings_paragraphs),
                cmocka_unit_test(test_findings_missing_fields),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
