/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dhcp.h"
#include "netconf.h"
#include "network_json.h"

static int parse_text(const char *name, const char *text, struct vnet_network *n,
                      struct vnet_err *e)
{
        FILE *f = fmemopen((void *)text, strlen(text), "r");
        int r;

        assert_non_null(f);
        r = vnet_netconf_parse(f, name, n, e);
        fclose(f);
        return r;
}

static void shipped_default(void **state)
{
        struct vnet_network n;
        struct vnet_err e = { 0 };
        char buf[32];
        (void)state;
        /* The file the project ships must stay a valid, libvirt-compatible definition. */
        assert_int_equal(vnet_netconf_load("config/networks/default.conf", &n, &e), 0);
        assert_string_equal(n.name, "default");
        assert_string_equal(n.bridge, "virbr0");
        assert_int_equal(n.mode, VNET_MODE_NAT);
        assert_string_equal(vnet_ipv4_format(&n.ipv4, buf), "192.168.122.1/24");
        assert_true(n.autostart);
        assert_false(n.stp);
        assert_int_equal(n.mtu, 1500);
        assert_false(n.has_mac);
}

static void round_trip(void **state)
{
        struct vnet_network n, back;
        struct vnet_err e = { 0 };
        char *text = NULL;
        (void)state;
        vnet_network_init(&n, "lab.1");
        strcpy(n.bridge, "vbr-lab");
        n.mode = VNET_MODE_ROUTED;
        n.mtu = 9000;
        n.stp = true;
        n.autostart = false;
        assert_int_equal(vnet_parse_mac("52:54:00:aa:bb:cc", n.mac, "mac", &e), 0);
        n.has_mac = true;
        assert_int_equal(vnet_parse_ipv4_gateway("10.20.0.1/16", &n.ipv4, "ipv4", &e), 0);
        assert_int_equal(vnet_dhcp_init_defaults(&n.dhcp, n.name, &n.ipv4), 0);
        struct vnet_dhcp_host h = { .mac = { 0x52, 0x54, 0, 1, 2, 3 } };
        assert_int_equal(vnet_parse_ipv4_addr("10.20.0.9", &h.ip, "ip", &e), 0);
        strcpy(h.hostname, "web");
        assert_int_equal(vnet_dhcp_host_add(&n.dhcp, &n.ipv4, &h, &e), 0);
        n.dhcp.lease_seconds = 7200;
        assert_int_equal(vnet_parse_ipv4_addr("10.99.0.53", &n.dhcp.forwarders[0], "f", &e), 0);
        n.dhcp.n_forwarders = 1;
        assert_int_equal(vnet_principals_add(&n.allow_users, "alice", "allow_users", &e), 0);
        assert_int_equal(vnet_principals_add(&n.allow_users, "1000", "allow_users", &e), 0);
        assert_int_equal(vnet_principals_add(&n.allow_groups, "kvm", "allow_groups", &e), 0);
        assert_int_equal(vnet_netconf_format(&n, &text), 0);
        assert_non_null(strstr(text, "AllowUsers=alice 1000\n"));
        assert_int_equal(parse_text("lab.1", text, &back, &e), 0);
        free(text);
        assert_memory_equal(&n, &back, sizeof(n));
}

static void save_atomic(void **state)
{
        char dir[] = "/tmp/vnet-netconf-XXXXXX", path[128];
        struct vnet_network n, back;
        struct vnet_err e = { 0 };
        (void)state;
        assert_non_null(mkdtemp(dir));
        vnet_network_init(&n, "iso");
        n.mode = VNET_MODE_ISOLATED;
        assert_int_equal(vnet_netconf_save(dir, &n), 0);
        snprintf(path, sizeof(path), "%s/iso.conf", dir);
        assert_int_equal(vnet_netconf_load(path, &back, &e), 0);
        assert_int_equal(back.mode, VNET_MODE_ISOLATED);
        assert_int_equal(back.ipv4.prefix, 0);
        unlink(path);
        assert_int_equal(rmdir(dir), 0); /* no temporary file left behind */
}

static void bad_files(void **state)
{
        static const struct {
                const char *text, *field;
        } cases[] = {
                { "[Network]\nMode=bridge\n[IPv4]\nAddress=10.0.0.1/24\n", "mode" },
                { "[Network]\nMTU=70000\n[IPv4]\nAddress=10.0.0.1/24\n", "mtu" },
                { "[Network]\nMAC=01:00:00:00:00:01\n[IPv4]\nAddress=10.0.0.1/24\n", "mac" },
                { "[Network]\nBridge=a/b\n[IPv4]\nAddress=10.0.0.1/24\n", "bridge" },
                { "[Network]\nBridge=0123456789abcdef\n", "bridge" },
                { "[IPv4]\nAddress=10.0.0.0/24\n", "ipv4" },
                { "[Network]\nMode=nat\n", "ipv4" },
                { "[Network]\nColour=blue\n", "Colour" },
                { "[Network]\nSTP=perhaps\n[IPv4]\nAddress=10.0.0.1/24\n", "stp" },
                { "[Network]\nMode=open\nAllowUsers=alice bad/name\n", "allow_users" },
                { "[Network]\nMode=open\nAllowGroups=kvm kvm\n", "allow_groups" },
                { "[IPv4]\nAddress=10.0.0.1/24\n[DHCP]\nRange=10.0.1.2-10.0.1.9\n", "dhcp" },
                { "[IPv4]\nAddress=10.0.0.1/24\n[DHCP]\nRange=10.0.0.9-10.0.0.2\n", "dhcp" },
                { "[IPv4]\nAddress=10.0.0.1/24\n[DHCP]\nLeaseTime=10s\n", "lease-time" },
                { "[IPv4]\nAddress=10.0.0.1/24\n[DHCP]\nHost=52:54:00:00:00:01,10.0.0.1\n",
                  "address" },
                { "[IPv4]\nAddress=10.0.0.1/24\n[DHCP]\nHost=52:54:00:00:00:01,10.0.0.5,a b\n",
                  "host" },
                { "[IPv4]\nAddress=10.0.0.1/24\n[DNS]\nDomain=-bad-\n", "domain" },
                { "[IPv4]\nAddress=10.0.0.1/24\n[DNS]\nForwarders=1.2.3\n", "dns-forwarder" },
                { "[Network]\nMode=isolated\n[DHCP]\nEnabled=yes\n", "dhcp" },
        };
        struct vnet_network n;
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct vnet_err e = { 0 };
                if (parse_text("x", cases[i].text, &n, &e) != -EINVAL)
                        fail_msg("accepted: %s", cases[i].text);
                if (strcmp(e.field, cases[i].field) != 0)
                        fail_msg("field %s, expected %s (%s)", e.field, cases[i].field,
                                 e.message);
        }
        struct vnet_err e = { 0 };
        assert_int_equal(parse_text("x", "[Network]\nMode=bridge\n", &n, &e), -EINVAL);
        assert_non_null(strstr(e.message, "line 2"));
        assert_int_equal(parse_text("bad name", "[Network]\nMode=open\n", &n, &e), -EINVAL);
        assert_string_equal(e.field, "name");
}

static void json_round_trip(void **state)
{
        struct vnet_network n, back;
        struct vnet_err e = { 0 };
        json_t *o;
        (void)state;
        vnet_network_init(&n, "default");
        strcpy(n.bridge, "virbr0");
        assert_int_equal(vnet_parse_ipv4_gateway("192.168.122.1/24", &n.ipv4, "ipv4", &e), 0);
        assert_int_equal(vnet_dhcp_init_defaults(&n.dhcp, n.name, &n.ipv4), 0);
        struct vnet_dhcp_host h = { .mac = { 0x52, 0x54, 0, 9, 9, 9 } };
        assert_int_equal(vnet_parse_ipv4_addr("192.168.122.50", &h.ip, "ip", &e), 0);
        assert_int_equal(vnet_dhcp_host_add(&n.dhcp, &n.ipv4, &h, &e), 0);
        assert_int_equal(vnet_parse_mac("52:54:00:01:02:03", n.mac, "mac", &e), 0);
        n.has_mac = true;
        n.autostart = true;
        assert_int_equal(vnet_principals_add(&n.allow_groups, "kvm", "allow_groups", &e), 0);
        o = vnet_network_to_json(&n);
        assert_string_equal(json_string_value(json_object_get(o, "ipv4")), "192.168.122.1/24");
        assert_string_equal(json_string_value(json_object_get(o, "mode")), "nat");
        assert_int_equal(vnet_network_from_json(o, &back, &e), 0);
        json_decref(o);
        assert_memory_equal(&n, &back, sizeof(n));
}

static void json_bad(void **state)
{
        static const struct {
                const char *json, *field;
        } cases[] = {
                { "{\"name\":\"a b\",\"ipv4\":\"10.0.0.1/24\"}", "name" },
                { "{\"ipv4\":\"10.0.0.1/24\"}", "name" },
                { "{\"name\":1}", "name" },
                { "{\"name\":\"x\",\"ipv4\":\"10.0.0.1/33\"}", "ipv4" },
                { "{\"name\":\"x\",\"ipv4\":\"10.0.0.1/24\",\"mode\":\"bogus\"}", "mode" },
                { "{\"name\":\"x\",\"ipv4\":\"10.0.0.1/24\",\"mtu\":67}", "mtu" },
                { "{\"name\":\"x\",\"ipv4\":\"10.0.0.1/24\",\"mtu\":\"1500\"}", "mtu" },
                { "{\"name\":\"x\",\"ipv4\":\"10.0.0.1/24\",\"mac\":\"00:00:00:00:00:00\"}", "mac" },
                { "{\"name\":\"x\",\"ipv4\":\"10.0.0.1/24\",\"bridge\":\"br\\n0\"}", "bridge" },
                { "{\"name\":\"x\",\"ipv4\":\"10.0.0.1/24\",\"stp\":\"on\"}", "stp" },
                { "{\"name\":\"x\",\"ipv4\":\"10.0.0.1/24\",\"colour\":1}", "colour" },
                { "{\"name\":\"x\",\"mode\":\"open\",\"allow_users\":\"bob\"}", "allow_users" },
                { "{\"name\":\"x\",\"mode\":\"open\",\"allow_users\":[\"a b\"]}", "allow_users" },
                { "{\"name\":\"x\",\"mode\":\"open\",\"allow_groups\":[1]}", "allow_groups" },
                { "{\"name\":\"x\",\"ipv4\":\"10.0.0.1/24\",\"autostart\":true,\"transient\":true}",
                  "autostart" },
        };
        struct vnet_network n;
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct vnet_err e = { 0 };
                json_t *o = json_loads(cases[i].json, 0, NULL);
                assert_non_null(o);
                if (vnet_network_from_json(o, &n, &e) != -EINVAL)
                        fail_msg("accepted: %s", cases[i].json);
                if (strcmp(e.field, cases[i].field) != 0)
                        fail_msg("field %s, expected %s (%s)", e.field, cases[i].field,
                                 e.message);
                json_decref(o);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(shipped_default), cmocka_unit_test(round_trip),
                cmocka_unit_test(save_atomic),     cmocka_unit_test(bad_files),
                cmocka_unit_test(json_round_trip), cmocka_unit_test(json_bad),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
