/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "dhcp.h"
#include "model.h"

static void names(void **state)
{
        struct vnet_err e = { 0 };
        (void)state;
        assert_int_equal(vnet_parse_name("default", "name", &e), 0);
        assert_int_equal(vnet_parse_name("a", "name", &e), 0);
        assert_int_equal(vnet_parse_name("net-1_x.y", "name", &e), 0);
        assert_int_equal(vnet_parse_name("0123456789abcdef0123456789abcdef", "name", &e), 0);
        assert_int_equal(vnet_parse_name("0123456789abcdef0123456789abcdef0", "name", &e), -EINVAL);
        assert_string_equal(e.field, "name");
        assert_int_equal(vnet_parse_name("", "name", &e), -EINVAL);
        assert_int_equal(vnet_parse_name("-x", "name", &e), -EINVAL);
        assert_int_equal(vnet_parse_name(".x", "name", &e), -EINVAL);
        assert_int_equal(vnet_parse_name("a b", "name", &e), -EINVAL);
        assert_int_equal(vnet_parse_name("a/b", "name", &e), -EINVAL);
        assert_int_equal(vnet_parse_name("a\nb", "name", &e), -EINVAL);
        /* The message never carries the raw control byte. */
        assert_null(strchr(e.message, '\n'));
        assert_int_equal(vnet_parse_name("caf\xc3\xa9", "name", &e), -EINVAL);
}

static void ifnames(void **state)
{
        struct vnet_err e = { 0 };
        (void)state;
        assert_int_equal(vnet_parse_ifname("virbr0", "bridge", &e), 0);
        assert_int_equal(vnet_parse_ifname("123456789012345", "bridge", &e), 0);
        assert_int_equal(vnet_parse_ifname("1234567890123456", "bridge", &e), -EINVAL);
        assert_string_equal(e.field, "bridge");
        assert_non_null(strstr(e.message, "15"));
        assert_int_equal(vnet_parse_ifname("br/0", "bridge", &e), -EINVAL);
        assert_int_equal(vnet_parse_ifname("br 0", "bridge", &e), -EINVAL);
        assert_int_equal(vnet_parse_ifname("br\n0", "bridge", &e), -EINVAL);
        assert_int_equal(vnet_parse_ifname("", "bridge", &e), -EINVAL);
        assert_int_equal(vnet_parse_ifname("..", "bridge", &e), -EINVAL);
        assert_int_equal(vnet_parse_ifname("br:1", "bridge", &e), -EINVAL);
}

static void gateways(void **state)
{
        struct vnet_err e = { 0 };
        struct vnet_ipv4 a;
        char buf[32];
        (void)state;
        assert_int_equal(vnet_parse_ipv4_gateway("192.168.122.1/24", &a, "ipv4", &e), 0);
        assert_int_equal(a.prefix, 24);
        assert_string_equal(vnet_ipv4_format(&a, buf), "192.168.122.1/24");
        struct in_addr n = vnet_ipv4_network(&a);
        assert_string_equal(inet_ntoa(n), "192.168.122.0");
        assert_int_equal(vnet_parse_ipv4_gateway("10.0.0.254/8", &a, "ipv4", &e), 0);
        assert_int_equal(vnet_parse_ipv4_gateway("10.1.2.1/30", &a, "ipv4", &e), 0);

        const char *bad[] = { "192.168.122.1/33", "300.1.1.1/24", "192.168.122.0/24",
                              "192.168.122.255/24", "192.168.122.1", "192.168.122.1/",
                              "192.168.122.1/x", "192.168.122.1/24x", "/24", "10.1/8",
                              "192.168.122.1/0", "192.168.122.1/31", "224.0.0.1/24",
                              "127.0.0.1/8", "0.1.2.3/8", "192.168.122.1/-1", "", "1.2.3.4/ 24",
                              "010.1.1.1/24" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                memset(&e, 0, sizeof(e));
                if (vnet_parse_ipv4_gateway(bad[i], &a, "ipv4", &e) != -EINVAL)
                        fail_msg("accepted %s", bad[i]);
                assert_string_equal(e.field, "ipv4");
                assert_true(strlen(e.message) > 0);
        }
        vnet_parse_ipv4_gateway("192.168.122.0/24", &a, "ipv4", &e);
        assert_non_null(strstr(e.message, "network address"));
        vnet_parse_ipv4_gateway("192.168.122.255/24", &a, "ipv4", &e);
        assert_non_null(strstr(e.message, "broadcast"));
}

static void overlap(void **state)
{
        struct in_addr a, b;
        (void)state;
        inet_pton(AF_INET, "10.0.0.0", &a);
        inet_pton(AF_INET, "10.1.0.0", &b);
        assert_true(vnet_ipv4_overlap(a, 8, b, 16));
        assert_true(vnet_ipv4_overlap(b, 16, a, 8));
        assert_false(vnet_ipv4_overlap(a, 16, b, 16));
        inet_pton(AF_INET, "192.168.122.128", &b);
        inet_pton(AF_INET, "192.168.122.0", &a);
        assert_true(vnet_ipv4_overlap(a, 24, b, 25));
        assert_false(vnet_ipv4_overlap(a, 25, b, 25));
}

static void macs(void **state)
{
        struct vnet_err e = { 0 };
        uint8_t m[6];
        char buf[18];
        (void)state;
        assert_int_equal(vnet_parse_mac("52:54:00:12:34:AB", m, "mac", &e), 0);
        assert_string_equal(vnet_mac_format(m, buf), "52:54:00:12:34:ab");
        const char *bad[] = { "01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00",
                              "52:54:00:12:34", "52:54:00:12:34:5", "52:54:00:12:34:567",
                              "52-54-00-12-34-56", "52:54:00:12:34:zz", " 52:54:00:12:34:5",
                              "52:54:00:12:34:56:" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (vnet_parse_mac(bad[i], m, "mac", &e) != -EINVAL)
                        fail_msg("accepted %s", bad[i]);
        vnet_parse_mac("01:00:5e:00:00:01", m, "mac", &e);
        assert_non_null(strstr(e.message, "multicast"));
        vnet_parse_mac("00:00:00:00:00:00", m, "mac", &e);
        assert_non_null(strstr(e.message, "zero"));
        for (int i = 0; i < 100; i++) {
                vnet_mac_generate(m);
                assert_int_equal(m[0], 0x52);
                assert_int_equal(m[1], 0x54);
                assert_int_equal(m[2], 0x00);
        }
}

static void mtus_bools_modes(void **state)
{
        struct vnet_err e = { 0 };
        unsigned mtu;
        bool b;
        (void)state;
        assert_int_equal(vnet_parse_mtu("68", &mtu, "mtu", &e), 0);
        assert_int_equal(vnet_parse_mtu("65535", &mtu, "mtu", &e), 0);
        assert_int_equal(mtu, 65535);
        assert_int_equal(vnet_parse_mtu("67", &mtu, "mtu", &e), -EINVAL);
        assert_int_equal(vnet_parse_mtu("65536", &mtu, "mtu", &e), -EINVAL);
        assert_int_equal(vnet_parse_mtu("-1", &mtu, "mtu", &e), -EINVAL);
        assert_int_equal(vnet_parse_mtu("1500x", &mtu, "mtu", &e), -EINVAL);
        assert_int_equal(vnet_parse_mtu("99999999999999999999", &mtu, "mtu", &e), -EINVAL);
        assert_string_equal(e.field, "mtu");
        assert_int_equal(vnet_parse_bool("yes", &b, "stp", &e), 0);
        assert_true(b);
        assert_int_equal(vnet_parse_bool("off", &b, "stp", &e), 0);
        assert_false(b);
        assert_int_equal(vnet_parse_bool("maybe", &b, "stp", &e), -EINVAL);
        for (int i = 0; i < _VNET_MODE_MAX; i++)
                assert_int_equal(vnet_mode_from_string(vnet_mode_to_string(i)), i);
        assert_int_equal(vnet_mode_from_string("bridge"), -EINVAL);
        assert_int_equal(vnet_mode_from_string("NAT"), -EINVAL);
}

static void principals(void **state)
{
        struct vnet_principals p = { 0 };
        struct vnet_err e = { 0 };
        (void)state;
        assert_int_equal(vnet_parse_principal("alice", "owner", &e), 0);
        assert_int_equal(vnet_parse_principal("_svc-1.x", "owner", &e), 0);
        assert_int_equal(vnet_parse_principal("1000", "owner", &e), 0);
        assert_int_equal(vnet_parse_principal("99999999999", "owner", &e), -EINVAL);
        /* 10 digits, but past what a uid_t holds; (uid_t)-1 is "no id" */
        assert_int_equal(vnet_parse_principal("9999999999", "owner", &e), -EINVAL);
        assert_int_equal(vnet_parse_principal("4294967295", "owner", &e), -EINVAL);
        assert_int_equal(vnet_parse_principal("4294967294", "owner", &e), 0);
        assert_int_equal(vnet_parse_principal("", "owner", &e), -EINVAL);
        assert_int_equal(vnet_parse_principal("-x", "owner", &e), -EINVAL);
        assert_int_equal(vnet_parse_principal("a b", "owner", &e), -EINVAL);
        assert_int_equal(vnet_parse_principal("a\nb", "owner", &e), -EINVAL);
        assert_string_equal(e.field, "owner");
        for (int i = 0; i < VNET_ALLOW_MAX; i++) {
                char n[8];
                snprintf(n, sizeof(n), "u%d", i);
                assert_int_equal(vnet_principals_add(&p, n, "allow_users", &e), 0);
        }
        assert_int_equal(vnet_principals_add(&p, "extra", "allow_users", &e), -EINVAL);
        assert_int_equal(vnet_principals_add(&p, "u1", "allow_users", &e), -EINVAL);
}

static void validate(void **state)
{
        struct vnet_network n;
        struct vnet_err e = { 0 };
        (void)state;
        vnet_network_init(&n, "default");
        /* nat needs an address */
        assert_int_equal(vnet_network_validate(&n, &e), -EINVAL);
        assert_string_equal(e.field, "ipv4");
        n.mode = VNET_MODE_ISOLATED;
        assert_int_equal(vnet_network_validate(&n, &e), 0);
        n.mode = VNET_MODE_NAT;
        assert_int_equal(vnet_parse_ipv4_gateway("10.0.0.1/24", &n.ipv4, "ipv4", &e), 0);
        /* An address brings DHCP settings, checked with the rest. */
        assert_int_equal(vnet_network_validate(&n, &e), -EINVAL);
        assert_string_equal(e.field, "lease-time");
        assert_int_equal(vnet_dhcp_init_defaults(&n.dhcp, n.name, &n.ipv4), 0);
        assert_int_equal(vnet_network_validate(&n, &e), 0);
        n.mtu = 10;
        assert_int_equal(vnet_network_validate(&n, &e), -EINVAL);
        assert_string_equal(e.field, "mtu");
        n.mtu = 1500;
        n.has_mac = true;
        memcpy(n.mac, "\x01\x02\x03\x04\x05\x06", 6);
        assert_int_equal(vnet_network_validate(&n, &e), -EINVAL);
        assert_string_equal(e.field, "mac");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(names),    cmocka_unit_test(ifnames),
                cmocka_unit_test(gateways), cmocka_unit_test(overlap),
                cmocka_unit_test(macs),     cmocka_unit_test(mtus_bools_modes),
                cmocka_unit_test(principals), cmocka_unit_test(validate),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
