/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Batch construction in libvnet/nft.c, without a kernel: every batch is parsed back with
 * libnftnl and checked message by message. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft.h"

#define MAX_MSGS 64

/* One parsed message: what the tests look at. */
struct msg {
        uint16_t type;  /* NFT_MSG_* or NFNL_MSG_BATCH_* */
        uint16_t flags;
        char name[64];  /* table, set, chain; for rules the chain */
        /* chains */
        bool hooked;
        uint32_t hook;
        int32_t prio;
        char chain_type[16];
        /* sets */
        uint32_t set_flags, key_type, key_len, data_type;
        /* elements: one per message is all nft.c sends */
        int n_elems;
        char key[17];
        uint32_t verdict;
        char target[64];
        /* rules */
        int n_exprs;
        char exprs[16][16];
        uint32_t first_meta_key;
        /* the last lookup and the last payload write of a rule */
        char lookup_set[32];
        bool lookup_dreg;
        bool pwrite;
        uint32_t pw_base, pw_off, pw_len, pw_csum_type, pw_csum_off, pw_csum_flags;
        /* the last immediate that loads data (not a verdict) */
        uint32_t imm_len;
        uint8_t imm[16];
};

struct parsed {
        int n;
        struct msg m[MAX_MSGS];
};

static int expr_cb(struct nftnl_expr *e, void *data)
{
        struct msg *m = data;
        const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

        if (m->n_exprs == 0 && strcmp(name, "meta") == 0)
                m->first_meta_key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);
        if (strcmp(name, "lookup") == 0) {
                snprintf(m->lookup_set, sizeof(m->lookup_set), "%s",
                         nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
                m->lookup_dreg = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG);
        }
        if (strcmp(name, "payload") == 0 && nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_SREG)) {
                m->pwrite = true;
                m->pw_base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
                m->pw_off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
                m->pw_len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
                m->pw_csum_type = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_CSUM_TYPE);
                m->pw_csum_off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_CSUM_OFFSET);
                m->pw_csum_flags = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_FLAGS);
        }
        if (strcmp(name, "immediate") == 0 && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_DATA)) {
                uint32_t len = 0;
                const void *d = nftnl_expr_get(e, NFTNL_EXPR_IMM_DATA, &len);

                assert_true(len <= sizeof(m->imm));
                memcpy(m->imm, d, len);
                m->imm_len = len;
        }
        if (m->n_exprs < 16)
                snprintf(m->exprs[m->n_exprs], sizeof(m->exprs[0]), "%s", name);
        m->n_exprs++;
        return 0;
}

static void parse_one(const struct nlmsghdr *nlh, struct msg *m)
{
        memset(m, 0, sizeof(*m));
        m->flags = nlh->nlmsg_flags;
        if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN || nlh->nlmsg_type == NFNL_MSG_BATCH_END) {
                m->type = nlh->nlmsg_type;
                return;
        }
        assert_int_equal(nlh->nlmsg_type >> 8, NFNL_SUBSYS_NFTABLES);
        assert_int_equal(((const struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))->nfgen_family,
                         NFPROTO_INET);
        m->type = nlh->nlmsg_type & 0xff;
        switch (m->type) {
        case NFT_MSG_NEWTABLE:
        case NFT_MSG_DELTABLE: {
                struct nftnl_table *t = nftnl_table_alloc();

                assert_int_equal(nftnl_table_nlmsg_parse(nlh, t), 0);
                snprintf(m->name, sizeof(m->name), "%s", nftnl_table_get_str(t, NFTNL_TABLE_NAME));
                nftnl_table_free(t);
                break;
        }
        case NFT_MSG_NEWSET: {
                struct nftnl_set *s = nftnl_set_alloc();

                assert_int_equal(nftnl_set_nlmsg_parse(nlh, s), 0);
                assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_TABLE), "vnet");
                snprintf(m->name, sizeof(m->name), "%s", nftnl_set_get_str(s, NFTNL_SET_NAME));
                m->set_flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
                m->key_type = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
                m->key_len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
                m->data_type = nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE);
                nftnl_set_free(s);
                break;
        }
        case NFT_MSG_NEWSETELEM:
        case NFT_MSG_DELSETELEM: {
                struct nftnl_set *s = nftnl_set_alloc();
                struct nftnl_set_elems_iter *it;
                struct nftnl_set_elem *e;

                assert_int_equal(nftnl_set_elems_nlmsg_parse(nlh, s), 0);
                assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_TABLE), "vnet");
                snprintf(m->name, sizeof(m->name), "%s", nftnl_set_get_str(s, NFTNL_SET_NAME));
                it = nftnl_set_elems_iter_create(s);
                while ((e = nftnl_set_elems_iter_next(it))) {
                        uint32_t len = 0;
                        const char *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

                        assert_int_equal(len, 16);
                        memcpy(m->key, key, 16);
                        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT))
                                m->verdict = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT);
                        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN))
                                snprintf(m->target, sizeof(m->target), "%s",
                                         nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN));
                        m->n_elems++;
                }
                nftnl_set_elems_iter_destroy(it);
                nftnl_set_free(s);
                break;
        }
        case NFT_MSG_NEWCHAIN:
        case NFT_MSG_DELCHAIN: {
                struct nftnl_chain *c = nftnl_chain_alloc();

                assert_int_equal(nftnl_chain_nlmsg_parse(nlh, c), 0);
                assert_string_equal(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), "vnet");
                snprintf(m->name, sizeof(m->name), "%s", nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
                m->hooked = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM);
                if (m->hooked) {
                        m->hook = nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM);
                        m->prio = nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO);
                        snprintf(m->chain_type, sizeof(m->chain_type), "%s",
                                 nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE));
                        assert_int_equal(nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY), NF_ACCEPT);
                }
                nftnl_chain_free(c);
                break;
        }
        case NFT_MSG_NEWRULE:
        case NFT_MSG_DELRULE: {
                struct nftnl_rule *r = nftnl_rule_alloc();

                assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
                assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), "vnet");
                snprintf(m->name, sizeof(m->name), "%s", nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
                nftnl_expr_foreach(r, expr_cb, m);
                nftnl_rule_free(r);
                break;
        }
        default:
                fail_msg("unexpected message type %u", m->type);
        }
}

/* Parses the whole batch and checks its frame: begin first, end last, nothing else of
 * theirs in between, and an ack asked for on every message. */
static void parse(const struct vnet_nft_batch *b, struct parsed *p)
{
        size_t len;
        const void *data = vnet_nft_batch_data(b, &len);
        const struct nlmsghdr *nlh = data;
        int left = (int)len;

        p->n = 0;
        for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
                assert_true(p->n < MAX_MSGS);
                parse_one(nlh, &p->m[p->n++]);
        }
        assert_int_equal(left, 0);
        assert_true(p->n >= 2);
        assert_int_equal(p->m[0].type, NFNL_MSG_BATCH_BEGIN);
        assert_int_equal(p->m[p->n - 1].type, NFNL_MSG_BATCH_END);
        for (int i = 1; i < p->n - 1; i++) {
                assert_int_not_equal(p->m[i].type, NFNL_MSG_BATCH_BEGIN);
                assert_int_not_equal(p->m[i].type, NFNL_MSG_BATCH_END);
                assert_true(p->m[i].flags & NLM_F_ACK);
        }
        assert_int_equal((size_t)(p->n - 2), vnet_nft_batch_size(b));
}

static int count(const struct parsed *p, uint16_t type, const char *name)
{
        int n = 0;

        for (int i = 0; i < p->n; i++)
                if (p->m[i].type == type && (!name || strcmp(p->m[i].name, name) == 0))
                        n++;
        return n;
}

static int find(const struct parsed *p, uint16_t type, const char *name)
{
        for (int i = 0; i < p->n; i++)
                if (p->m[i].type == type && strcmp(p->m[i].name, name) == 0)
                        return i;
        return -1;
}

static struct vnet_nft_net net(const char *name, const char *br, enum vnet_mode mode,
                               const char *addr, unsigned prefix)
{
        struct vnet_nft_net n = { .name = name, .bridge = br, .mode = mode };

        if (addr) {
                assert_int_equal(inet_pton(AF_INET, addr, &n.ipv4.addr), 1);
                n.ipv4.prefix = prefix;
        }
        return n;
}

static struct vnet_nft_batch *batch(void)
{
        struct vnet_nft_batch *b = NULL;

        assert_int_equal(vnet_nft_batch_new(&b), 0);
        assert_non_null(b);
        return b;
}

static void test_empty(void **state)
{
        struct vnet_nft_batch *b = batch();
        struct parsed p;

        (void)state;
        assert_int_equal(vnet_nft_batch_size(b), 0);
        parse(b, &p);
        assert_int_equal(p.n, 2);
        vnet_nft_batch_free(b);
}

static void test_rebuild(void **state)
{
        static const struct {
                uint16_t type;
                const char *name;
        } want[] = {
                { NFT_MSG_NEWTABLE, "vnet" },    { NFT_MSG_DELTABLE, "vnet" },
                { NFT_MSG_NEWTABLE, "vnet" },    { NFT_MSG_NEWSET, "to_net" },
                { NFT_MSG_NEWSET, "from_net" },  { NFT_MSG_NEWSET, "in_net" },
                { NFT_MSG_NEWSET, "nat_net" },   { NFT_MSG_NEWSET, "dhcp_csum" },
                { NFT_MSG_NEWCHAIN, "forward" },
                { NFT_MSG_NEWRULE, "forward" },  { NFT_MSG_NEWRULE, "forward" },
                { NFT_MSG_NEWCHAIN, "input" },   { NFT_MSG_NEWRULE, "input" },
                { NFT_MSG_NEWCHAIN, "postrouting" }, { NFT_MSG_NEWRULE, "postrouting" },
                { NFT_MSG_NEWCHAIN, "mangle_postrouting" },
                { NFT_MSG_NEWRULE, "mangle_postrouting" },
        };
        /* `oifname @dhcp_csum udp dport 68 udp checksum set 0`, as nft builds it */
        static const char *const csum_exprs[] = { "meta", "lookup", "meta",      "cmp",
                                                  "payload", "cmp", "immediate", "payload" };
        static const uint8_t zero[2];
        struct vnet_nft_batch *b = batch();
        struct parsed p;
        int i;

        (void)state;
        assert_int_equal(vnet_nft_batch_rebuild(b), 0);
        parse(b, &p);
        assert_int_equal(p.n - 2, sizeof(want) / sizeof(want[0]));
        for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
                assert_int_equal(p.m[k + 1].type, want[k].type);
                assert_string_equal(p.m[k + 1].name, want[k].name);
        }
        for (i = 4; i <= 7; i++) {
                assert_int_equal(p.m[i].set_flags, NFT_SET_MAP);
                assert_int_equal(p.m[i].key_type, 41); /* nft's ifname */
                assert_int_equal(p.m[i].key_len, 16);
                assert_int_equal(p.m[i].data_type, NFT_DATA_VERDICT);
        }
        /* a plain set of interface names, keyed like the maps */
        i = find(&p, NFT_MSG_NEWSET, "dhcp_csum");
        assert_int_equal(p.m[i].set_flags, 0);
        assert_int_equal(p.m[i].key_type, 41);
        assert_int_equal(p.m[i].key_len, 16);
        assert_int_equal(p.m[i].data_type, 0);
        i = find(&p, NFT_MSG_NEWCHAIN, "forward");
        assert_true(p.m[i].hooked);
        assert_int_equal(p.m[i].hook, NF_INET_FORWARD);
        assert_int_equal(p.m[i].prio, 0);
        assert_string_equal(p.m[i].chain_type, "filter");
        i = find(&p, NFT_MSG_NEWCHAIN, "input");
        assert_int_equal(p.m[i].hook, NF_INET_LOCAL_IN);
        assert_string_equal(p.m[i].chain_type, "filter");
        i = find(&p, NFT_MSG_NEWCHAIN, "postrouting");
        assert_int_equal(p.m[i].hook, NF_INET_POST_ROUTING);
        assert_int_equal(p.m[i].prio, 100);
        assert_string_equal(p.m[i].chain_type, "nat");
        /* the dispatch rules: meta load, then lookup in the map */
        i = find(&p, NFT_MSG_NEWRULE, "forward");
        assert_int_equal(p.m[i].n_exprs, 2);
        assert_int_equal(p.m[i].first_meta_key, NFT_META_OIFNAME);
        assert_string_equal(p.m[i].exprs[1], "lookup");
        assert_int_equal(p.m[i + 1].first_meta_key, NFT_META_IIFNAME);

        i = find(&p, NFT_MSG_NEWCHAIN, "mangle_postrouting");
        assert_true(p.m[i].hooked);
        assert_int_equal(p.m[i].hook, NF_INET_POST_ROUTING);
        assert_int_equal(p.m[i].prio, -150); /* mangle */
        assert_string_equal(p.m[i].chain_type, "filter");
        i = find(&p, NFT_MSG_NEWRULE, "mangle_postrouting");
        assert_int_equal(count(&p, NFT_MSG_NEWRULE, "mangle_postrouting"), 1);
        assert_int_equal(p.m[i].n_exprs, sizeof(csum_exprs) / sizeof(csum_exprs[0]));
        for (size_t k = 0; k < sizeof(csum_exprs) / sizeof(csum_exprs[0]); k++)
                assert_string_equal(p.m[i].exprs[k], csum_exprs[k]);
        assert_int_equal(p.m[i].first_meta_key, NFT_META_OIFNAME);
        assert_string_equal(p.m[i].lookup_set, "dhcp_csum");
        assert_false(p.m[i].lookup_dreg); /* a set, not a map */
        assert_int_equal(p.m[i].imm_len, 2);
        assert_memory_equal(p.m[i].imm, zero, 2);
        assert_true(p.m[i].pwrite);
        assert_int_equal(p.m[i].pw_base, NFT_PAYLOAD_TRANSPORT_HEADER);
        assert_int_equal(p.m[i].pw_off, 6); /* the UDP checksum */
        assert_int_equal(p.m[i].pw_len, 2);
        assert_int_equal(p.m[i].pw_csum_type, NFT_PAYLOAD_CSUM_INET);
        assert_int_equal(p.m[i].pw_csum_off, 6);
        assert_int_equal(p.m[i].pw_csum_flags, 0);
        vnet_nft_batch_free(b);
}

/* The chains and map elements of one added network; @rules the rule count per chain
 * (to, from, in, nat), 0 for a chain that must not exist; @csum whether its bridge must be
 * in dhcp_csum. */
static void check_added(const struct parsed *p, const char *name, const char *br,
                        const int rules[4], bool csum)
{
        int e = find(p, NFT_MSG_NEWSETELEM, "dhcp_csum");

        static const char *const suffix[4] = { "to", "from", "in", "nat" };
        static const char *const map[4] = { "to_net", "from_net", "in_net", "nat_net" };
        int last_chain = -1;

        for (int k = 0; k < 4; k++) {
                char chain[80];
                int c, e;

                snprintf(chain, sizeof(chain), "net-%s-%s", name, suffix[k]);
                c = find(p, NFT_MSG_NEWCHAIN, chain);
                e = find(p, NFT_MSG_NEWSETELEM, map[k]);
                assert_int_equal(count(p, NFT_MSG_NEWRULE, chain), rules[k]);
                if (!rules[k]) {
                        assert_int_equal(c, -1);
                        assert_int_equal(e, -1);
                        continue;
                }
                assert_true(c > 0);
                assert_false(p->m[c].hooked);
                assert_true(p->m[c].flags & NLM_F_EXCL);
                assert_true(e > 0);
                assert_int_equal(p->m[e].n_elems, 1);
                assert_string_equal(p->m[e].key, br);
                assert_int_equal(p->m[e].verdict, (uint32_t)NFT_JUMP);
                assert_string_equal(p->m[e].target, chain);
                if (c > last_chain)
                        last_chain = c;
        }
        assert_int_equal(count(p, NFT_MSG_NEWSETELEM, "dhcp_csum"), csum);
        if (csum) {
                assert_int_equal(p->m[e].n_elems, 1);
                assert_string_equal(p->m[e].key, br);
                assert_int_equal(p->m[e].verdict, 0);
                assert_string_equal(p->m[e].target, "");
                assert_true(p->m[e].flags & NLM_F_EXCL);
        }
        /* an element may only jump to a chain that exists: all chains come first */
        for (int i = 0; i < p->n; i++)
                if (p->m[i].type == NFT_MSG_NEWSETELEM)
                        assert_true(i > last_chain);
}

static void test_add_nat(void **state)
{
        static const int rules[4] = { 3, 3, 3, 5 };
        struct vnet_nft_net n = net("web", "vbr0", VNET_MODE_NAT, "192.168.122.1", 24);
        struct vnet_nft_batch *b = batch();
        struct parsed p;
        int i;

        (void)state;
        assert_int_equal(vnet_nft_batch_add_network(b, &n), 0);
        parse(b, &p);
        assert_int_equal(p.n - 2, 4 + 14 + 4 + 1);
        check_added(&p, "web", "vbr0", rules, true);

        /* ip matches in an inet chain must check the family first */
        i = find(&p, NFT_MSG_NEWRULE, "net-web-to");
        assert_int_equal(p.m[i].first_meta_key, NFT_META_IIFNAME);
        assert_int_equal(p.m[i + 1].first_meta_key, NFT_META_NFPROTO);
        assert_string_equal(p.m[i + 1].exprs[2], "payload");
        assert_string_equal(p.m[i + 1].exprs[4], "ct");
        assert_string_equal(p.m[i + 2].exprs[0], "reject");
        assert_int_equal(p.m[i + 2].n_exprs, 1);
        i = find(&p, NFT_MSG_NEWRULE, "net-web-in");
        assert_int_equal(p.m[i].first_meta_key, NFT_META_L4PROTO);
        i = find(&p, NFT_MSG_NEWRULE, "net-web-nat");
        for (int k = 0; k < 5; k++)
                assert_int_equal(p.m[i + k].first_meta_key, NFT_META_NFPROTO);
        assert_string_equal(p.m[i].exprs[p.m[i].n_exprs - 1], "immediate");
        assert_string_equal(p.m[i + 2].exprs[p.m[i + 2].n_exprs - 1], "masq");
        assert_string_equal(p.m[i + 4].exprs[p.m[i + 4].n_exprs - 1], "masq");
        vnet_nft_batch_free(b);
}

static void test_add_routed(void **state)
{
        static const int rules[4] = { 3, 3, 3, 0 };
        struct vnet_nft_net n = net("r1", "vbr1", VNET_MODE_ROUTED, "10.1.16.1", 20);
        struct vnet_nft_batch *b = batch();
        struct parsed p;

        (void)state;
        assert_int_equal(vnet_nft_batch_add_network(b, &n), 0);
        parse(b, &p);
        assert_int_equal(p.n - 2, 3 + 9 + 3 + 1);
        check_added(&p, "r1", "vbr1", rules, true);
        assert_int_equal(count(&p, NFT_MSG_NEWSETELEM, "nat_net"), 0);
        vnet_nft_batch_free(b);
}

/* Without an address there is no DHCP to fix, so no dhcp_csum element. */
static void test_add_isolated(void **state)
{
        static const int rules[4] = { 2, 2, 3, 0 };
        struct vnet_nft_net n = net("iso", "vbr2", VNET_MODE_ISOLATED, NULL, 0);
        struct vnet_nft_net a = net("iso4", "vbr4", VNET_MODE_ISOLATED, "10.4.0.1", 24);
        struct vnet_nft_batch *b = batch();
        struct parsed p;

        (void)state;
        assert_int_equal(vnet_nft_batch_add_network(b, &n), 0);
        parse(b, &p);
        assert_int_equal(p.n - 2, 3 + 7 + 3);
        check_added(&p, "iso", "vbr2", rules, false);
        vnet_nft_batch_free(b);

        b = batch();
        assert_int_equal(vnet_nft_batch_add_network(b, &a), 0);
        parse(b, &p);
        assert_int_equal(p.n - 2, 3 + 7 + 3 + 1);
        check_added(&p, "iso4", "vbr4", rules, true);
        vnet_nft_batch_free(b);

        b = batch();
        assert_int_equal(vnet_nft_batch_del_network(b, &a), 0);
        parse(b, &p);
        assert_int_equal(p.n - 2, 3 + 1 + 3 * 2);
        assert_int_equal(count(&p, NFT_MSG_DELSETELEM, "dhcp_csum"), 1);
        vnet_nft_batch_free(b);
}

static void test_add_open(void **state)
{
        struct vnet_nft_net n = net("o", "vbr3", VNET_MODE_OPEN, "10.2.0.1", 24);
        struct vnet_nft_batch *b = batch();
        struct parsed p;

        (void)state;
        assert_int_equal(vnet_nft_batch_add_network(b, &n), 0);
        assert_int_equal(vnet_nft_batch_size(b), 0);
        assert_int_equal(vnet_nft_batch_del_network(b, &n), 0);
        assert_int_equal(vnet_nft_batch_size(b), 0);
        parse(b, &p);
        assert_int_equal(p.n, 2);
        vnet_nft_batch_free(b);
}

static void test_del_nat(void **state)
{
        static const char *const map[4] = { "to_net", "from_net", "in_net", "nat_net" };
        static const char *const chain[4] = { "net-web-to", "net-web-from", "net-web-in",
                                              "net-web-nat" };
        struct vnet_nft_net n = net("web", "vbr0", VNET_MODE_NAT, "192.168.122.1", 24);
        struct vnet_nft_batch *b = batch();
        struct parsed p;

        (void)state;
        assert_int_equal(vnet_nft_batch_del_network(b, &n), 0);
        parse(b, &p);
        assert_int_equal(p.n - 2, 5 + 4 * 2);
        /* elements go first: a chain a map still jumps to cannot be deleted */
        for (int k = 0; k < 5; k++) {
                const struct msg *m = &p.m[1 + k];

                assert_int_equal(m->type, NFT_MSG_DELSETELEM);
                assert_string_equal(m->name, k < 4 ? map[k] : "dhcp_csum");
                assert_int_equal(m->n_elems, 1);
                assert_string_equal(m->key, "vbr0");
        }
        for (int k = 0; k < 4; k++) {
                const struct msg *flush = &p.m[6 + 2 * k], *del = &p.m[7 + 2 * k];

                assert_int_equal(flush->type, NFT_MSG_DELRULE);
                assert_string_equal(flush->name, chain[k]);
                assert_int_equal(flush->n_exprs, 0);
                assert_int_equal(del->type, NFT_MSG_DELCHAIN);
                assert_string_equal(del->name, chain[k]);
        }
        vnet_nft_batch_free(b);
}

static void test_del_isolated(void **state)
{
        struct vnet_nft_net n = net("iso", "vbr2", VNET_MODE_ISOLATED, NULL, 0);
        struct vnet_nft_batch *b = batch();
        struct parsed p;

        (void)state;
        assert_int_equal(vnet_nft_batch_del_network(b, &n), 0);
        parse(b, &p);
        assert_int_equal(p.n - 2, 3 + 3 * 2);
        assert_int_equal(count(&p, NFT_MSG_DELSETELEM, "nat_net"), 0);
        assert_int_equal(count(&p, NFT_MSG_DELSETELEM, "dhcp_csum"), 0); /* no address */
        assert_int_equal(count(&p, NFT_MSG_DELCHAIN, "net-iso-nat"), 0);
        assert_int_equal(count(&p, NFT_MSG_DELCHAIN, NULL), 3);
        vnet_nft_batch_free(b);
}

/* A mode change is del(old) + add(new) in one batch: one begin, one end. */
static void test_mode_change(void **state)
{
        static const int rules[4] = { 3, 3, 3, 0 };
        struct vnet_nft_net old = net("web", "vbr0", VNET_MODE_NAT, "192.168.122.1", 24);
        struct vnet_nft_net new = net("web", "vbr0", VNET_MODE_ROUTED, "192.168.122.1", 24);
        struct vnet_nft_batch *b = batch();
        struct parsed p;

        (void)state;
        assert_int_equal(vnet_nft_batch_del_network(b, &old), 0);
        assert_int_equal(vnet_nft_batch_add_network(b, &new), 0);
        parse(b, &p);
        assert_int_equal(p.n - 2, 13 + 16);
        assert_int_equal(count(&p, NFNL_MSG_BATCH_BEGIN, NULL), 1);
        assert_int_equal(count(&p, NFNL_MSG_BATCH_END, NULL), 1);
        assert_true(find(&p, NFT_MSG_DELCHAIN, "net-web-to") <
                    find(&p, NFT_MSG_NEWCHAIN, "net-web-to"));
        /* the bridge leaves dhcp_csum and comes back in the same transaction */
        assert_true(find(&p, NFT_MSG_DELSETELEM, "dhcp_csum") <
                    find(&p, NFT_MSG_NEWSETELEM, "dhcp_csum"));
        check_added(&p, "web", "vbr0", rules, true);
        vnet_nft_batch_free(b);

        /* to open: out of dhcp_csum with everything else, nothing added */
        b = batch();
        old = new;
        new.mode = VNET_MODE_OPEN;
        assert_int_equal(vnet_nft_batch_del_network(b, &old), 0);
        assert_int_equal(vnet_nft_batch_add_network(b, &new), 0);
        parse(b, &p);
        assert_int_equal(p.n - 2, 4 + 3 * 2);
        assert_int_equal(count(&p, NFT_MSG_DELSETELEM, "dhcp_csum"), 1);
        assert_int_equal(count(&p, NFT_MSG_NEWSETELEM, NULL), 0);
        vnet_nft_batch_free(b);
}

/* A refused call leaves the batch exactly as it was. */
static void test_invalid(void **state)
{
        struct vnet_nft_net good = net("web", "vbr0", VNET_MODE_NAT, "192.168.122.1", 24);
        struct vnet_nft_net bad[] = {
                net("web", "vbr0", VNET_MODE_NAT, NULL, 0),    /* nat needs an address */
                net("web", "vbr0", VNET_MODE_ROUTED, NULL, 0), /* routed too */
                net("web", "vbr0", VNET_MODE_NAT, "10.0.0.1", 33),
                net("", "vbr0", VNET_MODE_ISOLATED, NULL, 0),
                net("web", "", VNET_MODE_ISOLATED, NULL, 0),
                net("web", "a-very-long-bridge-name", VNET_MODE_ISOLATED, NULL, 0),
                net("this-network-name-is-longer-than-32", "vbr0", VNET_MODE_ISOLATED, NULL, 0),
                net("web", "vbr0", _VNET_MODE_MAX, NULL, 0),
        };
        struct vnet_nft_batch *b = batch();
        const void *data;
        size_t len0, len, n0;
        char *copy;

        (void)state;
        assert_int_equal(vnet_nft_batch_add_network(b, &good), 0);
        n0 = vnet_nft_batch_size(b);
        data = vnet_nft_batch_data(b, &len0);
        copy = malloc(len0);
        assert_non_null(copy);
        memcpy(copy, data, len0);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(vnet_nft_batch_add_network(b, &bad[i]), -EINVAL);
                assert_int_equal(vnet_nft_batch_del_network(b, &bad[i]), -EINVAL);
                assert_int_equal(vnet_nft_batch_size(b), n0);
                data = vnet_nft_batch_data(b, &len);
                assert_int_equal(len, len0);
                assert_memory_equal(data, copy, len0);
        }
        free(copy);
        vnet_nft_batch_free(b);
}

/* Many networks in one batch: the buffer grows and stays one well-formed batch. */
static void test_many(void **state)
{
        struct vnet_nft_batch *b = batch();
        char name[16], br[16];
        size_t len;
        const struct nlmsghdr *nlh;
        int left, n = 0;

        (void)state;
        assert_int_equal(vnet_nft_batch_rebuild(b), 0);
        for (int i = 0; i < 300; i++) {
                struct vnet_nft_net x;

                snprintf(name, sizeof(name), "n%d", i);
                snprintf(br, sizeof(br), "vb%d", i);
                x = net(name, br, VNET_MODE_NAT, "10.0.0.1", 24);
                assert_int_equal(vnet_nft_batch_add_network(b, &x), 0);
        }
        assert_int_equal(vnet_nft_batch_size(b), 17 + 300 * 23);
        nlh = vnet_nft_batch_data(b, &len);
        left = (int)len;
        for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
                n++;
        assert_int_equal(left, 0);
        assert_int_equal(n, 17 + 300 * 23 + 2);
        vnet_nft_batch_free(b);
}

/* ---- the comparison behind vnet_nft_verify, on batches instead of dumps ---- */

static const struct vnet_nft_net cmp_nets[3] = {
        { .name = "web", .bridge = "vbr0", .mode = VNET_MODE_NAT,
          .ipv4 = { .addr = { .s_addr = 0x017aa8c0 }, .prefix = 24 } }, /* 192.168.122.1 */
        { .name = "iso", .bridge = "vbr1", .mode = VNET_MODE_ISOLATED },
        { .name = "r1", .bridge = "vbr2", .mode = VNET_MODE_ROUTED,
          .ipv4 = { .addr = { .s_addr = 0x0110010a }, .prefix = 20 } }, /* 10.1.16.1 */
};

/* rebuild + add of @nets in the order @order (indexes into cmp_nets), @n of them */
static struct vnet_nft_batch *table_of(const int *order, size_t n)
{
        struct vnet_nft_batch *b = batch();

        assert_int_equal(vnet_nft_batch_rebuild(b), 0);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(vnet_nft_batch_add_network(b, &cmp_nets[order[i]]), 0);
        return b;
}

static int compare(const struct vnet_nft_batch *want, const struct vnet_nft_batch *have)
{
        size_t wl, hl;
        const void *w = vnet_nft_batch_data(want, &wl), *h = vnet_nft_batch_data(have, &hl);

        return vnet_nft_compare(w, wl, h, hl);
}

static void test_compare(void **state)
{
        static const int fwd[3] = { 0, 1, 2 }, rev[3] = { 2, 1, 0 };
        struct vnet_nft_batch *want = table_of(fwd, 3), *b;
        struct vnet_nft_net other;

        (void)state;
        /* the same table, built in another order */
        b = table_of(rev, 3);
        assert_int_equal(compare(want, b), 1);
        vnet_nft_batch_free(b);

        /* a network less */
        b = table_of(fwd, 2);
        assert_int_equal(compare(want, b), 0);
        vnet_nft_batch_free(b);

        /* the same networks, one in another mode */
        b = table_of(fwd, 2);
        other = cmp_nets[2];
        other.mode = VNET_MODE_NAT;
        assert_int_equal(vnet_nft_batch_add_network(b, &other), 0);
        assert_int_equal(compare(want, b), 0);
        vnet_nft_batch_free(b);

        /* another address */
        b = table_of(fwd, 2);
        other = cmp_nets[2];
        other.ipv4.prefix = 24;
        assert_int_equal(vnet_nft_batch_add_network(b, &other), 0);
        assert_int_equal(compare(want, b), 0);
        vnet_nft_batch_free(b);

        /* a second rebuild in the stream starts over: only what follows it counts */
        b = table_of(rev, 1);
        assert_int_equal(vnet_nft_batch_rebuild(b), 0);
        for (int i = 0; i < 3; i++)
                assert_int_equal(vnet_nft_batch_add_network(b, &cmp_nets[i]), 0);
        assert_int_equal(compare(want, b), 1);
        vnet_nft_batch_free(b);

        /* no table at all */
        b = batch();
        assert_int_equal(compare(want, b), 0);
        vnet_nft_batch_free(b);

        /* a deletion is not something a table can be compared with */
        b = table_of(fwd, 3);
        assert_int_equal(vnet_nft_batch_del_network(b, &cmp_nets[0]), 0);
        assert_int_equal(compare(want, b), -EPROTO);
        vnet_nft_batch_free(b);
        vnet_nft_batch_free(want);
}

/* Rules keep their order within a chain: two networks' nat chains with the same rules in
 * another order differ, the same rules in two chains do not mix. */
static void test_compare_rule_order(void **state)
{
        static const int one[1] = { 0 };
        struct vnet_nft_batch *want = table_of(one, 1), *b = table_of(one, 1);
        size_t wl, hl;
        const void *w = vnet_nft_batch_data(want, &wl);
        struct nlmsghdr *nlh, *prev = NULL, *first = NULL;
        char *h;
        int left;

        (void)state;
        assert_int_equal(compare(want, b), 1);
        /* swap the first two rules of net-web-nat in @b's bytes: find two adjacent NEWRULE
         * messages of that chain (same length is not needed: rebuild the buffer) */
        h = (char *)vnet_nft_batch_data(b, &hl);
        left = (int)hl;
        for (nlh = (struct nlmsghdr *)h; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
                struct msg m;

                parse_one(nlh, &m);
                if (m.type == NFT_MSG_NEWRULE && strcmp(m.name, "net-web-nat") == 0) {
                        if (prev) {
                                first = prev;
                                break;
                        }
                        prev = nlh;
                } else {
                        prev = NULL;
                }
        }
        assert_non_null(first);
        {
                size_t l1 = NLMSG_ALIGN(first->nlmsg_len), l2 = NLMSG_ALIGN(nlh->nlmsg_len);
                char *tmp = malloc(l1 + l2);

                assert_non_null(tmp);
                memcpy(tmp, (char *)nlh, l2);
                memcpy(tmp + l2, (char *)first, l1);
                memcpy((char *)first, tmp, l1 + l2);
                free(tmp);
        }
        assert_int_equal(vnet_nft_compare(w, wl, h, hl), 0);
        vnet_nft_batch_free(b);
        vnet_nft_batch_free(want);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_rebuild),
                cmocka_unit_test(test_add_nat),
                cmocka_unit_test(test_add_routed),
                cmocka_unit_test(test_add_isolated),
                cmocka_unit_test(test_add_open),
                cmocka_unit_test(test_del_nat),
                cmocka_unit_test(test_del_isolated),
                cmocka_unit_test(test_mode_change),
                cmocka_unit_test(test_invalid),
                cmocka_unit_test(test_many),
                cmocka_unit_test(test_compare),
                cmocka_unit_test(test_compare_rule_order),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
