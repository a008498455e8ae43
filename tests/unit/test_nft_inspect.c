/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Foreign firewalls: chains and rules built as nft and iptables-nft build them, walked with
 * the networks' traffic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "nft_inspect.h"

static const struct vnet_nft_inspect_net nets[] = {
        { .name = "iso", .bridge = "virbr1", .mode = VNET_MODE_ISOLATED, .dhcp = true,
          .dns = true },
        { .name = "nat", .bridge = "virbr0", .mode = VNET_MODE_NAT, .dhcp = true, .dns = true },
};

static void add_chain(struct vnet_nft_inspect *ins, uint32_t family, const char *table,
                      const char *name, int hook, int prio, uint32_t policy)
{
        struct nftnl_chain *c = nftnl_chain_alloc();

        assert_non_null(c);
        nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, family);
        nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
        nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
        if (hook >= 0) {
                nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
                nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
                nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, policy);
                nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
        }
        assert_int_equal(vnet_nft_inspect_add_chain(ins, c), 0);
        nftnl_chain_free(c);
}

static uint64_t next_handle = 1;

static struct nftnl_rule *rule(uint32_t family, const char *table, const char *chain)
{
        struct nftnl_rule *r = nftnl_rule_alloc();

        assert_non_null(r);
        nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, family);
        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
        nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
        nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, next_handle++);
        return r;
}

static struct nftnl_expr *expr(struct nftnl_rule *r, const char *name)
{
        struct nftnl_expr *e = nftnl_expr_alloc(name);

        assert_non_null(e);
        nftnl_rule_add_expr(r, e);
        return e;
}

static void cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
        struct nftnl_expr *e = expr(r, "cmp");

        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
        nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void meta(struct nftnl_rule *r, uint32_t key)
{
        struct nftnl_expr *e = expr(r, "meta");

        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

/* iifname/oifname NAME, or NAME* when @prefix */
static void m_ifname(struct nftnl_rule *r, uint32_t key, const char *name, bool prefix)
{
        char buf[16] = { 0 };

        strncpy(buf, name, sizeof(buf) - 1);
        meta(r, key);
        cmp(r, NFT_CMP_EQ, buf, prefix ? (uint32_t)strlen(name) : 16);
}

static void payload(struct nftnl_rule *r, uint32_t base, uint32_t offset, uint32_t len)
{
        struct nftnl_expr *e = expr(r, "payload");

        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
}

/* nft's `udp dport N` in inet: meta l4proto, then the port */
static void m_dport(struct nftnl_rule *r, uint8_t proto, uint16_t port)
{
        uint16_t p = htons(port);

        meta(r, NFT_META_L4PROTO);
        cmp(r, NFT_CMP_EQ, &proto, 1);
        payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
        cmp(r, NFT_CMP_EQ, &p, 2);
}

/* iptables-nft's -p udp --dport N: the IPv4 protocol byte, then the port */
static void m_ipt_dport(struct nftnl_rule *r, uint8_t proto, uint16_t port)
{
        uint16_t p = htons(port);

        payload(r, NFT_PAYLOAD_NETWORK_HEADER, 9, 1);
        cmp(r, NFT_CMP_EQ, &proto, 1);
        payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
        cmp(r, NFT_CMP_EQ, &p, 2);
}

/* ct state in @states */
static void m_ct_state(struct nftnl_rule *r, uint32_t states)
{
        struct nftnl_expr *e = expr(r, "ct");
        uint32_t zero = 0;

        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
        e = expr(r, "bitwise");
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &states, 4);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
        cmp(r, NFT_CMP_NEQ, &zero, 4);
}

static void m_set(struct nftnl_rule *r)
{
        struct nftnl_expr *e = expr(r, "lookup");

        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
        nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, "__set0");
}

static void x_counter(struct nftnl_rule *r)
{
        expr(r, "counter");
}

static void x_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
        struct nftnl_expr *e = expr(r, "immediate");

        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
        if (chain)
                nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
}

static void x_target(struct nftnl_rule *r, const char *name)
{
        struct nftnl_expr *e = expr(r, "target");

        nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, name);
        nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 0);
}

static void add_rule(struct vnet_nft_inspect *ins, struct nftnl_rule *r)
{
        assert_int_equal(vnet_nft_inspect_add_rule(ins, r), 0);
        nftnl_rule_free(r);
}

static struct vnet_nft_finding *check(const struct vnet_nft_inspect *ins, size_t *n)
{
        struct vnet_nft_finding *f = NULL;

        assert_int_equal(vnet_nft_inspect_check(ins, nets, 2, &f, n), 0);
        return f;
}

/* Docker's FORWARD: jump DOCKER-USER, accepts for docker0, policy drop. */
static struct vnet_nft_inspect *docker(void)
{
        struct vnet_nft_inspect *ins;
        struct nftnl_rule *r;

        assert_int_equal(vnet_nft_inspect_new(&ins), 0);
        add_chain(ins, NFPROTO_IPV4, "filter", "DOCKER-USER", -1, 0, 0);
        add_chain(ins, NFPROTO_IPV4, "filter", "FORWARD", NF_INET_FORWARD, 0, NF_DROP);
        r = rule(NFPROTO_IPV4, "filter", "FORWARD");
        x_counter(r);
        x_verdict(r, NFT_JUMP, "DOCKER-USER");
        add_rule(ins, r);
        r = rule(NFPROTO_IPV4, "filter", "FORWARD");
        m_ifname(r, NFT_META_OIFNAME, "docker0", false);
        m_ct_state(r, NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED));
        x_verdict(r, NF_ACCEPT, NULL);
        add_rule(ins, r);
        r = rule(NFPROTO_IPV4, "filter", "FORWARD");
        m_ifname(r, NFT_META_IIFNAME, "docker0", false);
        x_verdict(r, NF_ACCEPT, NULL);
        add_rule(ins, r);
        return ins;
}

static void test_docker_forward_policy(void **state)
{
        struct vnet_nft_inspect *ins = docker();
        struct vnet_nft_finding *f;
        char *summary;
        size_t n;

        (void)state;
        f = check(ins, &n);
        assert_int_equal(n, 1);
        assert_string_equal(f[0].family, "ip");
        assert_string_equal(f[0].table, "filter");
        assert_string_equal(f[0].chain, "FORWARD");
        assert_int_equal(f[0].hook, VNET_NFT_INSPECT_FORWARD);
        assert_int_equal(f[0].what, VNET_NFT_INSPECT_POLICY_DROP);
        assert_true(f[0].certain);
        assert_null(f[0].rule_chain);
        /* the isolated network forwards nothing */
        assert_int_equal(f[0].n_networks, 1);
        assert_string_equal(f[0].networks[0], "nat");
        assert_non_null(strstr(f[0].remedy, "iptables -I DOCKER-USER -i virbr0 -j ACCEPT; "
                                            "iptables -I DOCKER-USER -o virbr0 -j ACCEPT"));
        assert_int_equal(vnet_nft_finding_summary(&f[0], &summary), 0);
        assert_string_equal(summary, "table ip filter, chain FORWARD (hook forward, priority 0): "
                                     "its policy drops guests' forwarded traffic");
        free(summary);
        vnet_nft_findings_free(f, n);
        vnet_nft_inspect_free(ins);
}

static void test_docker_remedy_followed(void **state)
{
        struct vnet_nft_inspect *ins = docker();
        struct vnet_nft_finding *f;
        struct nftnl_rule *r;
        size_t n;

        (void)state;
        /* only one direction: what comes back to the guests still meets the policy */
        r = rule(NFPROTO_IPV4, "filter", "DOCKER-USER");
        m_ifname(r, NFT_META_IIFNAME, "virbr", true); /* -i virbr+ */
        x_verdict(r, NF_ACCEPT, NULL);
        add_rule(ins, r);
        f = check(ins, &n);
        assert_int_equal(n, 1);
        vnet_nft_findings_free(f, n);

        r = rule(NFPROTO_IPV4, "filter", "DOCKER-USER");
        m_ifname(r, NFT_META_OIFNAME, "virbr0", false);
        x_verdict(r, NF_ACCEPT, NULL);
        add_rule(ins, r);
        f = check(ins, &n);
        assert_int_equal(n, 0);
        vnet_nft_findings_free(f, n);
        vnet_nft_inspect_free(ins);
}

static struct vnet_nft_inspect *hostfw(void)
{
        struct vnet_nft_inspect *ins;
        struct nftnl_rule *r;

        assert_int_equal(vnet_nft_inspect_new(&ins), 0);
        add_chain(ins, NFPROTO_INET, "hostfw", "input", NF_INET_LOCAL_IN, 0, NF_DROP);
        r = rule(NFPROTO_INET, "hostfw", "input");
        m_ct_state(r, NF_CT_STATE_BIT(IP_CT_ESTABLISHED));
        x_verdict(r, NF_ACCEPT, NULL);
        add_rule(ins, r);
        r = rule(NFPROTO_INET, "hostfw", "input");
        m_ifname(r, NFT_META_IIFNAME, "lo", false);
        x_verdict(r, NF_ACCEPT, NULL);
        add_rule(ins, r);
        return ins;
}

static void test_input_policy_and_remedy(void **state)
{
        struct vnet_nft_inspect *ins = hostfw();
        struct vnet_nft_finding *f;
        struct nftnl_rule *r;
        size_t n;

        (void)state;
        f = check(ins, &n);
        assert_int_equal(n, 1);
        assert_int_equal(f[0].hook, VNET_NFT_INSPECT_INPUT);
        assert_true(f[0].certain);
        assert_int_equal(f[0].n_networks, 2);
        assert_non_null(strstr(f[0].remedy, "nft insert rule inet hostfw input iifname virbr1 "
                                            "udp dport 67 accept; "));
        assert_non_null(strstr(f[0].remedy, "iifname virbr0 tcp dport 53 accept"));
        vnet_nft_findings_free(f, n);

        /* DHCP and DNS accepted for virbr0 (nft's way, and iptables-nft's for one) */
        r = rule(NFPROTO_INET, "hostfw", "input");
        m_ifname(r, NFT_META_IIFNAME, "virbr0", false);
        m_dport(r, IPPROTO_UDP, 67);
        x_verdict(r, NF_ACCEPT, NULL);
        add_rule(ins, r);
        r = rule(NFPROTO_INET, "hostfw", "input");
        m_ifname(r, NFT_META_IIFNAME, "virbr0", false);
        m_ipt_dport(r, IPPROTO_UDP, 53);
        x_verdict(r, NF_ACCEPT, NULL);
        add_rule(ins, r);
        f = check(ins, &n);
        assert_int_equal(n, 1); /* tcp 53 still dropped */
        assert_int_equal(f[0].n_networks, 2);
        vnet_nft_findings_free(f, n);
        r = rule(NFPROTO_INET, "hostfw", "input");
        m_ifname(r, NFT_META_IIFNAME, "virbr0", false);
        m_dport(r, IPPROTO_TCP, 53);
        x_verdict(r, NF_ACCEPT, NULL);
        add_rule(ins, r);
        f = check(ins, &n);
        assert_int_equal(n, 1);
        assert_int_equal(f[0].n_networks, 1);
        assert_string_equal(f[0].networks[0], "iso");
        vnet_nft_findings_free(f, n);
        vnet_nft_inspect_free(ins);
}

static void test_rules(void **state)
{
        struct vnet_nft_inspect *ins;
        struct vnet_nft_finding *f;
        struct nftnl_rule *r;
        uint64_t set_rule;
        char *summary;
        size_t n;

        (void)state;
        assert_int_equal(vnet_nft_inspect_new(&ins), 0);
        add_chain(ins, NFPROTO_INET, "fw", "fwd", NF_INET_FORWARD, -10, NF_ACCEPT);
        add_chain(ins, NFPROTO_INET, "fw", "checks", -1, 0, 0);
        /* harmless: invalid packets, and traffic between two other interfaces (a drop that
         * names only the uplink side might be the guests' uplink: that one "may" drop) */
        r = rule(NFPROTO_INET, "fw", "fwd");
        m_ct_state(r, NF_CT_STATE_INVALID_BIT);
        x_verdict(r, NF_DROP, NULL);
        add_rule(ins, r);
        r = rule(NFPROTO_INET, "fw", "fwd");
        m_ifname(r, NFT_META_IIFNAME, "eth9", false);
        m_ifname(r, NFT_META_OIFNAME, "eth8", false);
        x_verdict(r, NF_DROP, NULL);
        add_rule(ins, r);
        f = check(ins, &n);
        assert_int_equal(n, 0);
        vnet_nft_findings_free(f, n);

        /* a set decides: may drop */
        set_rule = next_handle;
        r = rule(NFPROTO_INET, "fw", "fwd");
        meta(r, NFT_META_IIFNAME);
        m_set(r);
        x_verdict(r, NF_DROP, NULL);
        add_rule(ins, r);
        f = check(ins, &n);
        assert_int_equal(n, 1);
        assert_false(f[0].certain);
        assert_int_equal(f[0].what, VNET_NFT_INSPECT_RULE_DROP);
        assert_int_equal(f[0].handle, set_rule);
        assert_int_equal(f[0].priority, -10);
        vnet_nft_findings_free(f, n);

        /* an unconditional reject (iptables-nft's -j REJECT) in a chain jumped to: certain */
        r = rule(NFPROTO_INET, "fw", "fwd");
        x_verdict(r, NFT_JUMP, "checks");
        add_rule(ins, r);
        r = rule(NFPROTO_INET, "fw", "checks");
        x_counter(r);
        x_target(r, "REJECT");
        add_rule(ins, r);
        f = check(ins, &n);
        assert_int_equal(n, 1);
        assert_true(f[0].certain);
        assert_int_equal(f[0].what, VNET_NFT_INSPECT_RULE_REJECT);
        assert_string_equal(f[0].rule_chain, "checks");
        assert_string_equal(f[0].chain, "fwd");
        assert_int_equal(vnet_nft_finding_summary(&f[0], &summary), 0);
        assert_non_null(strstr(summary, "rule handle"));
        assert_non_null(strstr(summary, "(in chain checks) rejects guests' forwarded traffic"));
        free(summary);
        vnet_nft_findings_free(f, n);
        vnet_nft_inspect_free(ins);
}

static void test_uncertain_accept_and_ignored_tables(void **state)
{
        struct vnet_nft_inspect *ins;
        struct vnet_nft_finding *f;
        struct nftnl_rule *r;
        size_t n;

        (void)state;
        assert_int_equal(vnet_nft_inspect_new(&ins), 0);
        /* vnetd's own table, IPv6 and netdev chains never count */
        add_chain(ins, NFPROTO_INET, "vnet", "forward", NF_INET_FORWARD, 0, NF_DROP);
        add_chain(ins, NFPROTO_IPV6, "filter", "FORWARD", NF_INET_FORWARD, 0, NF_DROP);
        add_chain(ins, NFPROTO_IPV4, "t", "fwd", NF_INET_FORWARD, 0, NF_DROP);
        r = rule(NFPROTO_INET, "vnet", "forward");
        x_verdict(r, NF_DROP, NULL);
        add_rule(ins, r);
        /* a rule of a chain nobody added */
        r = rule(NFPROTO_IPV4, "t", "nope");
        assert_int_equal(vnet_nft_inspect_add_rule(ins, r), -ENOENT);
        nftnl_rule_free(r);
        /* an accept a set decides: the policy may drop */
        r = rule(NFPROTO_IPV4, "t", "fwd");
        meta(r, NFT_META_IIFNAME);
        m_set(r);
        x_verdict(r, NF_ACCEPT, NULL);
        add_rule(ins, r);
        f = check(ins, &n);
        assert_int_equal(n, 1);
        assert_string_equal(f[0].table, "t");
        assert_int_equal(f[0].what, VNET_NFT_INSPECT_POLICY_DROP);
        assert_false(f[0].certain);
        assert_non_null(strstr(f[0].remedy, "nft insert rule ip t fwd iifname virbr0 accept"));
        vnet_nft_findings_free(f, n);
        vnet_nft_inspect_free(ins);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_docker_forward_policy),
                cmocka_unit_test(test_docker_remedy_followed),
                cmocka_unit_test(test_input_policy_and_remedy),
                cmocka_unit_test(test_rules),
                cmocka_unit_test(test_uncertain_accept_and_ignored_tables),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
