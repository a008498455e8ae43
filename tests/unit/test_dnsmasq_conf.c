/* SPDX-License-Identifier: GPL-2.0-or-later */
/* DHCP/DNS model (dhcp.c) and the dnsmasq files generated from it (dnsmasq_conf.c).
 * Generated text is compared byte for byte with tests/golden/dnsmasq/; after an intended
 * change, VNET_UPDATE_GOLDEN=1 rewrites the golden files (review the diff before committing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "dhcp.h"
#include "dnsmasq_conf.h"

static struct in_addr ip(const char *s)
{
        struct in_addr a;
        assert_int_equal(inet_pton(AF_INET, s, &a), 1);
        return a;
}

static struct vnet_ipv4 net(const char *gw, unsigned prefix)
{
        struct vnet_ipv4 n = { .addr = ip(gw), .prefix = prefix };
        return n;
}

static void assert_ip(struct in_addr a, const char *s)
{
        assert_string_equal(inet_ntoa(a), s);
}

/* The field named, and a message that is one line. */
static void assert_field(const struct vnet_err *e, const char *field)
{
        assert_string_equal(e->field, field);
        assert_true(strlen(e->message) > 0);
        assert_null(strchr(e->message, '\n'));
}

static struct vnet_dhcp_host host(const char *mac, const char *addr, const char *name)
{
        struct vnet_dhcp_host h = { 0 };
        unsigned v[6];
        /* Not vnet_parse_mac: tests also need MACs that it refuses. */
        assert_int_equal(sscanf(mac, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4],
                                &v[5]), 6);
        for (int i = 0; i < 6; i++)
                h.mac[i] = (uint8_t)v[i];
        h.ip = ip(addr);
        snprintf(h.hostname, sizeof(h.hostname), "%s", name ? name : "");
        return h;
}

static void ipv4_addrs(void **state)
{
        struct vnet_err e = { 0 };
        struct in_addr a;
        (void)state;
        assert_int_equal(vnet_parse_ipv4_addr("192.168.122.10", &a, "dns-forwarder", &e), 0);
        assert_ip(a, "192.168.122.10");
        assert_int_equal(vnet_parse_ipv4_addr("127.0.0.53", &a, "dns-forwarder", &e), 0);
        const char *bad[] = { "", "1.2.3", "1.2.3.4.5", "300.1.1.1", "0.0.0.0", "0.1.2.3",
                              "224.0.0.1", "255.255.255.255", "240.0.0.1", " 1.2.3.4",
                              "1.2.3.4 ", "010.1.1.1", "1.2.3.4\n", "::1" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                memset(&e, 0, sizeof(e));
                if (vnet_parse_ipv4_addr(bad[i], &a, "dns-forwarder", &e) != -EINVAL)
                        fail_msg("accepted '%s'", bad[i]);
                assert_field(&e, "dns-forwarder");
        }
        assert_int_equal(vnet_parse_ipv4_addr(NULL, &a, "dns-forwarder", &e), -EINVAL);
}

static void hostnames(void **state)
{
        struct vnet_err e = { 0 };
        char max[64], over[65];
        (void)state;
        memset(max, 'a', 63);
        max[63] = '\0';
        memset(over, 'a', 64);
        over[64] = '\0';
        const char *good[] = { "web", "a", "web-1", "Web01", "1web", "x86", max, "db2h-x",
                               "h", "2hx" };
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                if (vnet_parse_hostname(good[i], "hostname", &e) != 0)
                        fail_msg("refused '%s': %s", good[i], e.message);
        const char *bad[] = { "", over, "a\nb", "web\n", "a,b", "a b", "a=b", "-a", "a-", "-",
                              "a.b", "a_b", "a/b", "a#b", "a\"b", "caf\xc3\xa9", "1", "123",
                              "90s", "2h", "7d", "1w", "infinite", "ignore", "IGNORE", "a\tb" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                memset(&e, 0, sizeof(e));
                if (vnet_parse_hostname(bad[i], "hostname", &e) != -EINVAL)
                        fail_msg("accepted '%s'", bad[i]);
                assert_field(&e, "hostname");
        }
        vnet_parse_hostname(over, "hostname", &e);
        assert_non_null(strstr(e.message, "63"));
        assert_int_equal(vnet_parse_hostname(NULL, "hostname", &e), -EINVAL);
}

static void domains(void **state)
{
        struct vnet_err e = { 0 };
        char longest[254], over[255], label64[80];
        (void)state;
        /* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
        memset(longest, 'a', 253);
        longest[63] = longest[127] = longest[191] = '.';
        longest[253] = '\0';
        memcpy(over, longest, 253);
        over[253] = 'a';
        over[254] = '\0';
        memset(label64, 'b', 64);
        strcpy(label64 + 64, ".com");
        const char *good[] = { "default", "example.com", "a-b.c0", "lab.example.internal",
                               "Example.COM", "1.2", longest };
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                if (vnet_parse_domain(good[i], "domain", &e) != 0)
                        fail_msg("refused '%s': %s", good[i], e.message);
        const char *bad[] = { "", ".", "a..b", "a.", ".a", "-a.com", "a-.com", "a.-b",
                              label64, over, "a_b", "a b", "a/b", "a\nb", "a,b", "a=b",
                              "a#b", "*.example" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                memset(&e, 0, sizeof(e));
                if (vnet_parse_domain(bad[i], "domain", &e) != -EINVAL)
                        fail_msg("accepted '%s'", bad[i]);
                assert_field(&e, "domain");
        }
        vnet_parse_domain(over, "domain", &e);
        assert_non_null(strstr(e.message, "253"));
}

static void lease_times(void **state)
{
        struct vnet_err e = { 0 };
        unsigned s = 0;
        (void)state;
        const struct {
                const char *in;
                unsigned out;
        } good[] = { { "120", 120 },   { "3600", 3600 },      { "2m", 120 },
                     { "90m", 5400 },  { "1h", 3600 },        { "12h", 43200 },
                     { "1d", 86400 },  { "365d", 31536000 },  { "31536000", 31536000 },
                     { "600s", 600 },  { "0002m", 120 } };
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                if (vnet_parse_lease_time(good[i].in, &s, "lease-time", &e) != 0)
                        fail_msg("refused '%s': %s", good[i].in, e.message);
                assert_int_equal(s, good[i].out);
        }
        const char *bad[] = { "", "119", "1m", "0", "366d", "31536001", "8761h", "h", "1x",
                              "1hh", "-1", "+120", " 120", "120 ", "1.5h", "1H", "1w",
                              "infinite", "99999999999999999999", "18446744073709551615d",
                              "4294967296", "120\n" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                memset(&e, 0, sizeof(e));
                s = 7;
                if (vnet_parse_lease_time(bad[i], &s, "lease-time", &e) != -EINVAL)
                        fail_msg("accepted '%s'", bad[i]);
                assert_field(&e, "lease-time");
                assert_int_equal(s, 7);
        }
        vnet_parse_lease_time("60", &s, "lease-time", &e);
        assert_non_null(strstr(e.message, "2 minutes"));
        assert_int_equal(vnet_parse_lease_time(NULL, &s, "lease-time", &e), -EINVAL);
}

static void ranges(void **state)
{
        struct vnet_err e = { 0 };
        struct vnet_ipv4 n = net("192.168.122.1", 24), none = { 0 };
        struct in_addr a, b;
        (void)state;
        assert_int_equal(vnet_parse_dhcp_range("192.168.122.2-192.168.122.254", &n, &a, &b,
                                               "dhcp", &e), 0);
        assert_ip(a, "192.168.122.2");
        assert_ip(b, "192.168.122.254");
        assert_int_equal(vnet_parse_dhcp_range("192.168.122.100-192.168.122.100", &n, &a, &b,
                                               "dhcp", &e), 0);
        const struct {
                const char *in, *why;
        } bad[] = {
                { "192.168.123.2-192.168.123.254", "outside" },
                { "192.168.122.2-192.168.123.254", "outside" },
                { "10.0.0.2-10.0.0.9", "outside" },
                { "192.168.122.254-192.168.122.2", "after" },
                { "192.168.122.1-192.168.122.254", "gateway" },
                { "192.168.122.0-192.168.122.254", "network address" },
                { "192.168.122.2-192.168.122.255", "broadcast" },
                { "192.168.122.2", "START-END" },
                { "192.168.122.2-", "START-END" },
                { "-192.168.122.2", "START-END" },
                { "192.168.122.2 - 192.168.122.9", "START-END" },
                { "192.168.122.2-192.168.122.9-192.168.122.10", "START-END" },
                { "a-b", "START-END" },
                { "192.168.122.2-192.168.122.9\n", "START-END" },
                { "", "empty" },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                memset(&e, 0, sizeof(e));
                if (vnet_parse_dhcp_range(bad[i].in, &n, &a, &b, "dhcp", &e) != -EINVAL)
                        fail_msg("accepted '%s'", bad[i].in);
                assert_field(&e, "dhcp");
                if (!strstr(e.message, bad[i].why))
                        fail_msg("'%s': message '%s' lacks '%s'", bad[i].in, e.message,
                                 bad[i].why);
        }
        /* A gateway in the middle of the range is refused too, not only at its ends. */
        n = net("192.168.122.100", 24);
        assert_int_equal(vnet_parse_dhcp_range("192.168.122.2-192.168.122.254", &n, &a, &b,
                                               "dhcp", &e), -EINVAL);
        assert_non_null(strstr(e.message, "gateway"));
        assert_int_equal(vnet_parse_dhcp_range("192.168.122.2-192.168.122.9", &none, &a, &b,
                                               "dhcp", &e), -EINVAL);
        assert_field(&e, "dhcp");
}

static void host_specs(void **state)
{
        struct vnet_err e = { 0 };
        struct vnet_dhcp_host h;
        char m[18];
        (void)state;
        assert_int_equal(vnet_parse_dhcp_host("52:54:00:12:34:56,192.168.122.10,web", &h,
                                              "dhcp-host", &e), 0);
        assert_string_equal(vnet_mac_format(h.mac, m), "52:54:00:12:34:56");
        assert_ip(h.ip, "192.168.122.10");
        assert_string_equal(h.hostname, "web");
        assert_int_equal(vnet_parse_dhcp_host("52:54:00:12:34:57,192.168.122.11", &h,
                                              "dhcp-host", &e), 0);
        assert_string_equal(h.hostname, "");
        const char *bad[] = { "", "52:54:00:12:34:56", "52:54:00:12:34:56,",
                              "52:54:00:12:34:56,192.168.122.10,", "x,192.168.122.10,web",
                              "52:54:00:12:34:56,300.1.1.1,web",
                              "52:54:00:12:34:56,192.168.122.10,a b",
                              "52:54:00:12:34:56,192.168.122.10,web,extra",
                              "52:54:00:12:34:56,192.168.122.10,web\nx",
                              "01:00:5e:00:00:01,192.168.122.10,web" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                memset(&e, 0, sizeof(e));
                if (vnet_parse_dhcp_host(bad[i], &h, "dhcp-host", &e) != -EINVAL)
                        fail_msg("accepted '%s'", bad[i]);
                assert_field(&e, "dhcp-host");
        }
}

static void defaults(void **state)
{
        struct vnet_dhcp d;
        struct vnet_err e = { 0 };
        struct vnet_ipv4 n = net("192.168.122.1", 24);
        (void)state;
        assert_int_equal(vnet_dhcp_init_defaults(&d, "default", &n), 0);
        assert_true(d.enabled);
        assert_ip(d.start, "192.168.122.2");
        assert_ip(d.end, "192.168.122.254");
        assert_int_equal(d.lease_seconds, 3600);
        assert_string_equal(d.domain, "default");
        assert_int_equal(d.n_forwarders, 0);
        assert_int_equal(d.n_hosts, 0);
        assert_int_equal(vnet_dhcp_range_size(&d), 253);
        assert_int_equal(vnet_dhcp_validate(&d, &n, &e), 0);

        n = net("192.168.122.254", 24);
        assert_int_equal(vnet_dhcp_init_defaults(&d, "default", &n), 0);
        assert_ip(d.start, "192.168.122.1");
        assert_ip(d.end, "192.168.122.253");
        assert_int_equal(vnet_dhcp_validate(&d, &n, &e), 0);

        n = net("10.1.2.1", 30);
        assert_int_equal(vnet_dhcp_init_defaults(&d, "p2p", &n), 0);
        assert_ip(d.start, "10.1.2.2");
        assert_ip(d.end, "10.1.2.2");
        assert_int_equal(vnet_dhcp_validate(&d, &n, &e), 0);

        n = net("10.0.0.1", 8);
        assert_int_equal(vnet_dhcp_init_defaults(&d, "big", &n), 0);
        assert_ip(d.start, "10.0.0.2");
        assert_ip(d.end, "10.255.255.254");

        /* No address: nothing to hand out, but DNS settings still make sense. */
        struct vnet_ipv4 none = { 0 };
        assert_int_equal(vnet_dhcp_init_defaults(&d, "bare", &none), 0);
        assert_false(d.enabled);
        assert_string_equal(d.domain, "bare");
        assert_int_equal(vnet_dhcp_init_defaults(&d, "bare", NULL), 0);
        assert_false(d.enabled);

        /* A network name that is no DNS name is made one; failing that, "vnet". */
        n = net("192.168.122.1", 24);
        assert_int_equal(vnet_dhcp_init_defaults(&d, "my_net", &n), 0);
        assert_string_equal(d.domain, "my-net");
        assert_int_equal(vnet_dhcp_validate(&d, &n, &e), 0);
        assert_int_equal(vnet_dhcp_init_defaults(&d, "-x_", &n), 0);
        assert_string_equal(d.domain, "vnet");
        d.domain[0] = '\0';
        assert_int_equal(vnet_dhcp_validate(&d, &n, &e), -EINVAL);
        assert_field(&e, "domain");

        n = net("192.168.122.1", 31);
        assert_int_equal(vnet_dhcp_init_defaults(&d, "x", &n), -EINVAL);
}

static void host_table(void **state)
{
        struct vnet_dhcp d, before;
        struct vnet_err e = { 0 };
        struct vnet_ipv4 n = net("192.168.122.1", 24);
        struct vnet_dhcp_host h;
        uint8_t mac[6];
        (void)state;
        vnet_dhcp_init_defaults(&d, "default", &n);
        h = host("52:54:00:00:00:01", "192.168.122.10", "web");
        assert_int_equal(vnet_dhcp_host_add(&d, &n, &h, &e), 0);
        h = host("52:54:00:00:00:02", "192.168.122.11", NULL);
        assert_int_equal(vnet_dhcp_host_add(&d, &n, &h, &e), 0);
        h = host("52:54:00:00:00:03", "192.168.122.12", "db");
        assert_int_equal(vnet_dhcp_host_add(&d, &n, &h, &e), 0);
        assert_int_equal(d.n_hosts, 3);
        assert_int_equal(vnet_dhcp_validate(&d, &n, &e), 0);

        /* Every refusal leaves the table as it was. */
        const struct {
                struct vnet_dhcp_host h;
                int err;
                const char *field, *why;
        } bad[] = {
                { host("52:54:00:00:00:01", "192.168.122.20", NULL), -EEXIST, "mac", "already" },
                { host("52:54:00:00:00:09", "192.168.122.10", NULL), -EEXIST, "address",
                  "already" },
                { host("52:54:00:00:00:09", "192.168.122.20", "WEB"), -EEXIST, "hostname",
                  "already" },
                { host("52:54:00:00:00:09", "192.168.123.20", NULL), -EINVAL, "address",
                  "outside" },
                { host("52:54:00:00:00:09", "10.0.0.5", NULL), -EINVAL, "address", "outside" },
                { host("52:54:00:00:00:09", "192.168.122.1", NULL), -EINVAL, "address",
                  "gateway" },
                { host("52:54:00:00:00:09", "192.168.122.0", NULL), -EINVAL, "address",
                  "network address" },
                { host("52:54:00:00:00:09", "192.168.122.255", NULL), -EINVAL, "address",
                  "broadcast" },
                { host("52:54:00:00:00:09", "192.168.122.20", "a b"), -EINVAL, "hostname",
                  "letters" },
                { host("52:54:00:00:00:09", "192.168.122.20", "a,b"), -EINVAL, "hostname",
                  "letters" },
                { host("52:54:00:00:00:09", "192.168.122.20", "a=b"), -EINVAL, "hostname",
                  "letters" },
                { host("52:54:00:00:00:09", "192.168.122.20", "a\nb"), -EINVAL, "hostname",
                  "letters" },
                { host("52:54:00:00:00:09", "192.168.122.20", "3600"), -EINVAL, "hostname",
                  "lease time" },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                memset(&e, 0, sizeof(e));
                before = d;
                int r = vnet_dhcp_host_add(&d, &n, &bad[i].h, &e);
                if (r != bad[i].err)
                        fail_msg("case %zu: %d, not %d (%s)", i, r, bad[i].err, e.message);
                assert_field(&e, bad[i].field);
                if (!strstr(e.message, bad[i].why))
                        fail_msg("case %zu: message '%s' lacks '%s'", i, e.message, bad[i].why);
                assert_memory_equal(&before, &d, sizeof(d));
        }
        /* Bytes the parsers would refuse, placed in the struct directly. */
        h = host("01:00:5e:00:00:01", "192.168.122.20", NULL);
        assert_int_equal(vnet_dhcp_host_add(&d, &n, &h, &e), -EINVAL);
        assert_field(&e, "mac");
        h = host("52:54:00:00:00:09", "192.168.122.20", NULL);
        memset(h.hostname, 'a', sizeof(h.hostname));
        assert_int_equal(vnet_dhcp_host_add(&d, &n, &h, &e), -EINVAL);
        assert_field(&e, "hostname");
        struct vnet_ipv4 none = { 0 };
        h = host("52:54:00:00:00:09", "192.168.122.20", NULL);
        assert_int_equal(vnet_dhcp_host_add(&d, &none, &h, &e), -EINVAL);
        assert_field(&e, "address");

        /* Lookup and removal; the others keep their order. */
        vnet_parse_mac("52:54:00:00:00:02", mac, "mac", &e);
        assert_non_null(vnet_dhcp_host_find_mac(&d, mac));
        assert_int_equal(vnet_dhcp_host_remove(&d, mac), 0);
        assert_null(vnet_dhcp_host_find_mac(&d, mac));
        assert_int_equal(vnet_dhcp_host_remove(&d, mac), -ENOENT);
        assert_int_equal(d.n_hosts, 2);
        assert_string_equal(d.hosts[0].hostname, "web");
        assert_string_equal(d.hosts[1].hostname, "db");
        /* The freed address and MAC can be reserved again. */
        h = host("52:54:00:00:00:02", "192.168.122.11", "app");
        assert_int_equal(vnet_dhcp_host_add(&d, &n, &h, &e), 0);

        /* A full table, in a network big enough to hold more. */
        n = net("10.0.0.1", 16);
        vnet_dhcp_init_defaults(&d, "big", &n);
        for (unsigned i = 0; i < VNET_DHCP_HOSTS_MAX; i++) {
                h = host("52:54:00:00:00:01", "10.0.0.1", NULL);
                h.mac[4] = (uint8_t)(i >> 8);
                h.mac[5] = (uint8_t)i;
                h.ip.s_addr = htonl(ntohl(ip("10.0.1.0").s_addr) + i);
                assert_int_equal(vnet_dhcp_host_add(&d, &n, &h, &e), 0);
        }
        assert_int_equal(vnet_dhcp_validate(&d, &n, &e), 0);
        h = host("52:54:00:ff:ff:ff", "10.0.200.1", NULL);
        assert_int_equal(vnet_dhcp_host_add(&d, &n, &h, &e), -ENOSPC);
        assert_true(strlen(e.message) > 0);
}

static void validation(void **state)
{
        struct vnet_dhcp d, good;
        struct vnet_err e = { 0 };
        struct vnet_ipv4 n = net("192.168.122.1", 24);
        (void)state;
        vnet_dhcp_init_defaults(&good, "default", &n);
        assert_int_equal(vnet_dhcp_forwarder_add(&good, &n, ip("192.0.2.53"), &e), 0);
        assert_int_equal(vnet_dhcp_validate(&good, &n, &e), 0);

#define REFUSED(field)                                                                          \
        do {                                                                                    \
                memset(&e, 0, sizeof(e));                                                       \
                assert_int_equal(vnet_dhcp_validate(&d, &n, &e), -EINVAL);                      \
                assert_field(&e, field);                                                        \
                d = good;                                                                       \
        } while (0)

        d = good;
        d.lease_seconds = 119;
        REFUSED("lease-time");
        d.lease_seconds = VNET_LEASE_MAX + 1;
        REFUSED("lease-time");
        snprintf(d.domain, sizeof(d.domain), "bad..domain");
        REFUSED("domain");
        d.domain[0] = '\0';
        REFUSED("domain");
        memset(d.domain, 'a', sizeof(d.domain));
        REFUSED("domain");
        d.start = ip("192.168.122.200");
        d.end = ip("192.168.122.100");
        REFUSED("dhcp");
        d.start = ip("192.168.122.1");
        REFUSED("dhcp");
        d.end = ip("192.168.123.5");
        REFUSED("dhcp");
        d.forwarders[d.n_forwarders++] = ip("192.0.2.53");
        REFUSED("dns-forwarder");
        d.forwarders[d.n_forwarders++] = ip("192.168.122.1");
        REFUSED("dns-forwarder");
        d.forwarders[d.n_forwarders++] = ip("224.0.0.251");
        REFUSED("dns-forwarder");
        d.n_forwarders = VNET_DHCP_FORWARDERS_MAX + 1;
        REFUSED("dns-forwarder");
        d.hosts[0] = host("52:54:00:00:00:01", "192.168.122.10", "web");
        d.hosts[1] = host("52:54:00:00:00:01", "192.168.122.11", "app");
        d.n_hosts = 2;
        REFUSED("mac");
        d.hosts[0] = host("52:54:00:00:00:01", "192.168.122.10", "web");
        d.hosts[1] = host("52:54:00:00:00:02", "192.168.122.10", "app");
        d.n_hosts = 2;
        REFUSED("address");
        d.hosts[0] = host("52:54:00:00:00:01", "192.168.122.10", "web");
        d.hosts[1] = host("52:54:00:00:00:02", "192.168.122.11", "web");
        d.n_hosts = 2;
        REFUSED("hostname");
        d.hosts[0] = host("52:54:00:00:00:01", "192.168.122.1", "gw");
        d.n_hosts = 1;
        REFUSED("address");
        d.n_hosts = VNET_DHCP_HOSTS_MAX + 1;
        REFUSED("address");

        /* DHCP off: the range is not looked at, DNS settings still are. */
        d.enabled = false;
        d.start = ip("10.9.9.9");
        assert_int_equal(vnet_dhcp_validate(&d, &n, &e), 0);
        struct vnet_ipv4 none = { 0 };
        assert_int_equal(vnet_dhcp_validate(&d, &none, &e), 0);
        d.enabled = true;
        REFUSED("dhcp");
#undef REFUSED

        /* Forwarders one at a time, as --dns-forwarder repeats. */
        vnet_dhcp_init_defaults(&d, "default", &n);
        for (unsigned i = 0; i < VNET_DHCP_FORWARDERS_MAX; i++) {
                struct in_addr a = { .s_addr = htonl(ntohl(ip("192.0.2.1").s_addr) + i) };
                assert_int_equal(vnet_dhcp_forwarder_add(&d, &n, a, &e), 0);
        }
        assert_int_equal(vnet_dhcp_forwarder_add(&d, &n, ip("198.51.100.1"), &e), -ENOSPC);
        assert_field(&e, "dns-forwarder");
        assert_int_equal(vnet_dhcp_forwarder_add(&d, &n, ip("192.0.2.1"), &e), -EEXIST);
        assert_field(&e, "dns-forwarder");
        assert_int_equal(vnet_dhcp_forwarder_add(&d, &n, ip("192.168.122.1"), &e), -EINVAL);
        assert_field(&e, "dns-forwarder");
        assert_int_equal(d.n_forwarders, VNET_DHCP_FORWARDERS_MAX);
}

/* Golden files */

static char *golden_path(const char *name, const char *ext)
{
        static char buf[4096];
        const char *dir = getenv("VNET_GOLDEN_DIR");
        char src[] = __FILE__;

        if (dir)
                snprintf(buf, sizeof(buf), "%s/%s.%s", dir, name, ext);
        else
                snprintf(buf, sizeof(buf), "%s/../golden/dnsmasq/%s.%s", dirname(src), name,
                         ext);
        return buf;
}

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "r");
        char *buf = NULL;
        size_t len = 0;

        if (!f)
                return NULL;
        FILE *m = open_memstream(&buf, &len);
        assert_non_null(m);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                fwrite(chunk, 1, n, m);
        fclose(f);
        fclose(m);
        return buf;
}

static void compare_golden(const char *name, const char *ext, const char *text)
{
        const char *path = golden_path(name, ext);
        const char *update = getenv("VNET_UPDATE_GOLDEN");

        if (update && strcmp(update, "1") == 0) {
                FILE *f = fopen(path, "w");
                if (!f)
                        fail_msg("cannot write %s: %s", path, strerror(errno));
                fputs(text, f);
                assert_int_equal(fclose(f), 0);
                return;
        }
        char *want = slurp(path);
        if (!want)
                fail_msg("%s missing (VNET_UPDATE_GOLDEN=1 writes it)", path);
        if (strcmp(want, text) != 0) {
                size_t line = 1, i = 0;
                for (; want[i] && want[i] == text[i]; i++)
                        if (want[i] == '\n')
                                line++;
                fprintf(stderr, "--- generated %s.%s ---\n%s--- end ---\n", name, ext, text);
                free(want);
                fail_msg("%s differs from the generated text at line %zu", path, line);
        }
        free(want);
}

struct golden_case {
        const char *name;
        const char *bridge;
        enum vnet_mode mode;
        const char *gw;
        unsigned prefix;
        unsigned mtu;
        void (*tweak)(struct vnet_dhcp *d, const struct vnet_ipv4 *n);
};

static void no_dhcp(struct vnet_dhcp *d, const struct vnet_ipv4 *n)
{
        (void)n;
        d->enabled = false;
        d->n_forwarders = 1;
        d->forwarders[0] = ip("192.0.2.53");
}

static void static_hosts(struct vnet_dhcp *d, const struct vnet_ipv4 *n)
{
        struct vnet_err e = { 0 };
        struct vnet_dhcp_host h;
        /* A reservation outside the dynamic range and one inside it, one without a name. */
        assert_int_equal(vnet_parse_dhcp_range("10.30.0.100-10.30.0.199", n, &d->start,
                                               &d->end, "dhcp", &e), 0);
        assert_int_equal(vnet_parse_dhcp_host("52:54:00:aa:00:01,10.30.0.10,web", &h, "h", &e), 0);
        assert_int_equal(vnet_dhcp_host_add(d, n, &h, &e), 0);
        assert_int_equal(vnet_parse_dhcp_host("52:54:00:AA:00:02,10.30.0.11,db-1", &h, "h", &e), 0);
        assert_int_equal(vnet_dhcp_host_add(d, n, &h, &e), 0);
        assert_int_equal(vnet_parse_dhcp_host("52:54:00:aa:00:03,10.30.0.150", &h, "h", &e), 0);
        assert_int_equal(vnet_dhcp_host_add(d, n, &h, &e), 0);
}

static void forwarders(struct vnet_dhcp *d, const struct vnet_ipv4 *n)
{
        struct vnet_err e = { 0 };
        assert_int_equal(vnet_dhcp_forwarder_add(d, n, ip("192.0.2.53"), &e), 0);
        assert_int_equal(vnet_dhcp_forwarder_add(d, n, ip("198.51.100.53"), &e), 0);
        assert_int_equal(vnet_dhcp_forwarder_add(d, n, ip("127.0.0.53"), &e), 0);
}

static void custom_domain(struct vnet_dhcp *d, const struct vnet_ipv4 *n)
{
        struct vnet_err e = { 0 };
        snprintf(d->domain, sizeof(d->domain), "lab.example.internal");
        assert_int_equal(vnet_parse_lease_time("12h", &d->lease_seconds, "lease-time", &e), 0);
        assert_int_equal(vnet_parse_dhcp_range("172.16.5.10-172.16.5.60", n, &d->start,
                                               &d->end, "dhcp", &e), 0);
}

static const struct golden_case cases[] = {
        { "nat", "virbr0", VNET_MODE_NAT, "192.168.122.1", 24, 1500, NULL },
        { "routed", "vnbr-routed", VNET_MODE_ROUTED, "10.10.0.1", 24, 1500, NULL },
        { "isolated", "vnbr-iso", VNET_MODE_ISOLATED, "10.20.0.1", 24, 1500, NULL },
        { "open", "vnbr-open", VNET_MODE_OPEN, "10.21.0.254", 24, 1500, NULL },
        { "nodhcp", "vnbr-nodhcp", VNET_MODE_NAT, "10.22.0.1", 24, 1500, no_dhcp },
        { "hosts", "vnbr-hosts", VNET_MODE_NAT, "10.30.0.1", 24, 1500, static_hosts },
        { "mtu9000", "vnbr-jumbo", VNET_MODE_ROUTED, "10.40.0.1", 22, 9000, NULL },
        { "forwarders", "vnbr-fwd", VNET_MODE_NAT, "10.50.0.1", 24, 1500, forwarders },
        { "domain", "vnbr-dom", VNET_MODE_NAT, "172.16.5.1", 24, 1500, custom_domain },
};

static void golden(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct golden_case *g = &cases[i];
                struct vnet_ipv4 n = net(g->gw, g->prefix);
                struct vnet_dhcp d;
                struct vnet_err e = { 0 };
                char pid[128], leases[128], hostsf[128], optsf[128], *text = NULL;

                assert_int_equal(vnet_dhcp_init_defaults(&d, g->name, &n), 0);
                if (g->tweak)
                        g->tweak(&d, &n);
                snprintf(pid, sizeof(pid), "/run/vnet/dnsmasq/%s.pid", g->name);
                snprintf(leases, sizeof(leases), "/var/lib/vnet/dnsmasq/%s.leases", g->name);
                snprintf(hostsf, sizeof(hostsf), "/run/vnet/dnsmasq/%s.hosts", g->name);
                snprintf(optsf, sizeof(optsf), "/run/vnet/dnsmasq/%s.opts", g->name);
                struct vnet_dnsmasq_conf c = {
                        .network = g->name, .bridge = g->bridge, .mode = g->mode, .ipv4 = n,
                        .mtu = g->mtu, .dhcp = &d, .pid_file = pid, .lease_file = leases,
                        .hosts_file = hostsf, .opts_file = optsf,
                };
                if (vnet_dnsmasq_conf_render(&c, &text, &e) != 0)
                        fail_msg("%s: %s: %s", g->name, e.field, e.message);
                compare_golden(g->name, "conf", text);
                free(text);
                text = NULL;
                assert_int_equal(vnet_dnsmasq_hosts_render(&d, &n, &text, &e), 0);
                if (d.n_hosts)
                        compare_golden(g->name, "hosts", text);
                else
                        assert_string_equal(text, "");
                free(text);
                text = NULL;
                /* Rendered also with DHCP off, but read only with it on. */
                assert_int_equal(vnet_dnsmasq_opts_render(&c, &text, &e), 0);
                if (d.enabled)
                        compare_golden(g->name, "opts", text);
                free(text);
        }
}

/* The mode is in the options file only: the configuration of a network is the same text
 * in every mode, which is what keeps its dnsmasq across a mode change (a SIGHUP, not a
 * restart). */
static void conf_same_in_every_mode(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct golden_case *g = &cases[i];
                struct vnet_ipv4 n = net(g->gw, g->prefix);
                struct vnet_dhcp d;
                struct vnet_err e = { 0 };
                char *first = NULL, *text = NULL, *opts[_VNET_MODE_MAX] = { 0 };

                assert_int_equal(vnet_dhcp_init_defaults(&d, g->name, &n), 0);
                if (g->tweak)
                        g->tweak(&d, &n);
                struct vnet_dnsmasq_conf c = {
                        .network = g->name, .bridge = g->bridge, .ipv4 = n, .mtu = g->mtu,
                        .dhcp = &d, .pid_file = "/run/p", .lease_file = "/var/l",
                        .hosts_file = "/run/h", .opts_file = "/run/o",
                };
                for (int m = 0; m < _VNET_MODE_MAX; m++) {
                        c.mode = (enum vnet_mode)m;
                        assert_int_equal(vnet_dnsmasq_conf_render(&c, &text, &e), 0);
                        assert_null(strstr(text, "option:router"));
                        if (!first)
                                first = text;
                        else if (strcmp(first, text) != 0)
                                fail_msg("%s: the configuration differs in mode %s", g->name,
                                         vnet_mode_to_string(c.mode));
                        else
                                free(text);
                        text = NULL;
                        assert_int_equal(vnet_dnsmasq_opts_render(&c, &opts[m], &e), 0);
                }
                /* ... and the options file does follow the mode. */
                assert_string_not_equal(opts[VNET_MODE_ISOLATED], opts[VNET_MODE_NAT]);
                assert_string_equal(opts[VNET_MODE_NAT], opts[VNET_MODE_ROUTED]);
                assert_string_equal(opts[VNET_MODE_NAT], opts[VNET_MODE_OPEN]);
                for (int m = 0; m < _VNET_MODE_MAX; m++)
                        free(opts[m]);
                free(first);
        }
}

/* Directives that must hold whatever the golden files say. */
static void conf_invariants(void **state)
{
        struct vnet_ipv4 n = net("192.168.122.1", 24);
        struct vnet_dhcp d;
        struct vnet_err e = { 0 };
        char *text = NULL;
        (void)state;
        vnet_dhcp_init_defaults(&d, "default", &n);
        struct vnet_dnsmasq_conf c = {
                .network = "default", .bridge = "virbr0", .mode = VNET_MODE_NAT, .ipv4 = n,
                .mtu = 1500, .dhcp = &d, .pid_file = "/run/p", .lease_file = "/var/l",
                .hosts_file = "/run/h", .opts_file = "/run/o",
        };
        assert_int_equal(vnet_dnsmasq_conf_render(&c, &text, &e), 0);
        const char *must[] = { "\nkeep-in-foreground\n", "\ninterface=virbr0\n",
                               "\nexcept-interface=lo\n", "\nbind-dynamic\n", "\nno-hosts\n",
                               "\nno-resolv\n", "\ndomain=default\n", "\nlocal=/default/\n",
                               "\ndhcp-range=192.168.122.2,192.168.122.254,255.255.255.0,3600\n",
                               "\nno-ping\n", "\ndhcp-rapid-commit\n",
                               "\ndhcp-authoritative\n", "\ndhcp-leasefile=/var/l\n",
                               "\ndhcp-hostsfile=/run/h\n", "\ndhcp-optsfile=/run/o\n",
                               "\npid-file=/run/p\n" };
        for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
                if (!strstr(text, must[i]))
                        fail_msg("missing %s", must[i] + 1);
        assert_null(strstr(text, "\nserver="));
        assert_null(strstr(text, "option:mtu"));
        /* The router is the options file's (see conf_same_in_every_mode). */
        assert_null(strstr(text, "option:router"));
        /* Nothing points dnsmasq at the host's own files. */
        assert_null(strstr(text, "=/etc"));
        free(text);

        /* The options file: dhcp-option values, one a line, no "dhcp-option=" prefix. */
        assert_int_equal(vnet_dnsmasq_opts_render(&c, &text, &e), 0);
        assert_non_null(strstr(text, "\noption:router,192.168.122.1\n"));
        assert_null(strstr(text, "dhcp-option="));
        free(text);
        c.mode = VNET_MODE_ISOLATED;
        assert_int_equal(vnet_dnsmasq_opts_render(&c, &text, &e), 0);
        assert_non_null(strstr(text, "\noption:router\n"));
        assert_null(strstr(text, "option:router,"));
        free(text);
}

static void conf_refusals(void **state)
{
        struct vnet_ipv4 n = net("192.168.122.1", 24);
        struct vnet_dhcp d;
        struct vnet_err e;
        struct vnet_dnsmasq_conf c, good;
        char *text;
        (void)state;
        vnet_dhcp_init_defaults(&d, "default", &n);
        good = (struct vnet_dnsmasq_conf){
                .network = "default", .bridge = "virbr0", .mode = VNET_MODE_NAT, .ipv4 = n,
                .mtu = 1500, .dhcp = &d, .pid_file = "/run/p", .lease_file = "/var/l",
                .hosts_file = "/run/h", .opts_file = "/run/o",
        };

/* Refused by both renderers: the options file is checked as the configuration is. */
#define REFUSED(field)                                                                          \
        do {                                                                                    \
                memset(&e, 0, sizeof(e));                                                       \
                text = NULL;                                                                    \
                assert_int_equal(vnet_dnsmasq_conf_render(&c, &text, &e), -EINVAL);             \
                assert_null(text);                                                              \
                assert_field(&e, field);                                                        \
                memset(&e, 0, sizeof(e));                                                       \
                assert_int_equal(vnet_dnsmasq_opts_render(&c, &text, &e), -EINVAL);             \
                assert_null(text);                                                              \
                assert_field(&e, field);                                                        \
                c = good;                                                                       \
        } while (0)

        c = good;
        c.network = "bad\nname";
        REFUSED("name");
        c.network = NULL;
        REFUSED("name");
        c.network = "0123456789abcdef0123456789abcdef-too-long";
        REFUSED("name");
        c.bridge = "";
        REFUSED("bridge");
        c.bridge = NULL;
        REFUSED("bridge");
        c.bridge = "br0\ninterface=eth0";
        REFUSED("bridge");
        c.bridge = "0123456789abcdef";
        REFUSED("bridge");
        c.mode = _VNET_MODE_MAX;
        REFUSED("mode");
        c.ipv4 = (struct vnet_ipv4){ 0 };
        c.mode = VNET_MODE_ISOLATED;
        REFUSED("ipv4");
        c.ipv4 = net("192.168.122.0", 24);
        REFUSED("ipv4");
        c.mtu = 9;
        REFUSED("mtu");
        c.dhcp = NULL;
        REFUSED("dhcp");
        c.pid_file = NULL;
        REFUSED("pid-file");
        c.pid_file = "run/p";
        REFUSED("pid-file");
        c.pid_file = "/run/p\ndhcp-script=/tmp/x";
        REFUSED("pid-file");
        c.lease_file = "/var/l,x";
        REFUSED("lease-file");
        c.lease_file = "/var/my leases";
        REFUSED("lease-file");
        c.lease_file = NULL;
        REFUSED("lease-file");
        c.hosts_file = "/run/h#x";
        REFUSED("hosts-file");
        c.hosts_file = "/run/\xc3\xa9";
        REFUSED("hosts-file");
        c.opts_file = NULL;
        REFUSED("opts-file");
        c.opts_file = "/run/o,tag:x";
        REFUSED("opts-file");
        c.opts_file = "run/o";
        REFUSED("opts-file");

        /* The DHCP settings are validated again here, against this network. */
        struct vnet_dhcp bad = d;
        c.dhcp = &bad;
        bad.lease_seconds = 1;
        REFUSED("lease-time");
        bad = d;
        c.dhcp = &bad;
        bad.start = ip("192.168.122.1");
        REFUSED("dhcp");
        bad = d;
        c.dhcp = &bad;
        snprintf(bad.hosts[0].hostname, sizeof(bad.hosts[0].hostname), "a\nb");
        bad.hosts[0].mac[0] = 0x52;
        bad.hosts[0].ip = ip("192.168.122.9");
        bad.n_hosts = 1;
        REFUSED("hostname");
        bad = d;
        c.dhcp = &bad;
        c.ipv4 = net("10.0.0.1", 24);
        REFUSED("dhcp");
#undef REFUSED

        /* DHCP off needs no lease or hosts file. */
        struct vnet_dhcp off = d;
        off.enabled = false;
        c = good;
        c.dhcp = &off;
        c.lease_file = c.hosts_file = c.opts_file = NULL;
        text = NULL;
        assert_int_equal(vnet_dnsmasq_conf_render(&c, &text, &e), 0);
        assert_null(strstr(text, "dhcp-"));
        free(text);

        /* The hosts file refuses what the configuration would. */
        bad = d;
        bad.hosts[0] = host("52:54:00:00:00:01", "192.168.122.10", "web");
        bad.hosts[1] = host("52:54:00:00:00:02", "192.168.122.10", "app");
        bad.n_hosts = 2;
        text = NULL;
        assert_int_equal(vnet_dnsmasq_hosts_render(&bad, &n, &text, &e), -EINVAL);
        assert_null(text);
        assert_field(&e, "address");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(ipv4_addrs),   cmocka_unit_test(hostnames),
                cmocka_unit_test(domains),      cmocka_unit_test(lease_times),
                cmocka_unit_test(ranges),       cmocka_unit_test(host_specs),
                cmocka_unit_test(defaults),     cmocka_unit_test(host_table),
                cmocka_unit_test(validation),   cmocka_unit_test(golden),
                cmocka_unit_test(conf_invariants), cmocka_unit_test(conf_refusals),
                cmocka_unit_test(conf_same_in_every_mode),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
