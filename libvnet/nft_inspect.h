/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Foreign firewalls: reads every nftables table of the namespace (iptables-nft's too: they are
 * nftables tables, e.g. `ip filter`) and finds the base chains outside `inet vnet` that drop
 * guests' traffic. An accept in vnetd's table cannot override them: a packet passes a hook
 * only if every base chain on it lets it through.
 *
 * The ruleset is reduced to what decides a verdict for guests' packets (interface names and
 * indexes, protocol, destination port, conntrack state, verdicts, jumps), and each network's
 * traffic is walked through every forward and input base chain of families ip and inet (the
 * guests' traffic is IPv4; ip6 chains never see it):
 *   - forward, for nat and routed networks (isolated ones forward nothing): new connections
 *     from the bridge, and what comes back to it (replies for nat, anything for routed);
 *   - input, for networks whose dnsmasq serves them: DHCP (udp 67) and DNS (udp and tcp 53).
 * A finding is "certain" when the traffic meets the drop whatever the rules we cannot read
 * decide (a policy drop no accept rule before it exempts, a drop rule whose every match holds);
 * otherwise (a set lookup, an xtables match, a rate limit ... decides) it "may" drop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct nftnl_chain;
struct nftnl_rule;

enum vnet_nft_inspect_hook {
        VNET_NFT_INSPECT_FORWARD,
        VNET_NFT_INSPECT_INPUT,
        _VNET_NFT_INSPECT_HOOK_MAX,
};

/* What drops the traffic. */
enum vnet_nft_inspect_what {
        VNET_NFT_INSPECT_POLICY_DROP, /* the chain's policy */
        VNET_NFT_INSPECT_RULE_DROP,   /* a rule with verdict drop */
        VNET_NFT_INSPECT_RULE_REJECT, /* a rule that rejects (nft reject, iptables -j REJECT) */
        _VNET_NFT_INSPECT_WHAT_MAX,
};

const char *vnet_nft_inspect_hook_to_string(enum vnet_nft_inspect_hook h);
const char *vnet_nft_inspect_what_to_string(enum vnet_nft_inspect_what w);

/* A network as the check needs it. */
struct vnet_nft_inspect_net {
        const char *name;
        const char *bridge;
        unsigned ifindex; /* the bridge's, for rules that match `iif`; 0: unknown */
        enum vnet_mode mode;
        bool dhcp; /* dnsmasq serves DHCP on it */
        bool dns;  /* dnsmasq serves DNS on it (it has an address) */
};

struct vnet_nft_finding {
        const char *family; /* "ip" or "inet" (static) */
        char *table;
        char *chain; /* the base chain */
        enum vnet_nft_inspect_hook hook;
        int priority;
        enum vnet_nft_inspect_what what;
        bool certain;
        uint64_t handle;  /* the rule's (what is a rule); 0 for the policy */
        char *rule_chain; /* the chain the rule is in, when the base chain jumps there; or NULL */
        char **networks;  /* the affected networks, in the order given */
        size_t n_networks;
        char *remedy;     /* one line: what the user can do (commands to run) */
};

/* The chains and rules of a ruleset (one namespace's, or built by hand in tests). */
struct vnet_nft_inspect;

int vnet_nft_inspect_new(struct vnet_nft_inspect **ret);
void vnet_nft_inspect_free(struct vnet_nft_inspect *ins);

/* Reads every table's chains and rules over a netlink socket of its own (needs
 * CAP_NET_ADMIN). 0 or -errno. */
int vnet_nft_inspect_dump(struct vnet_nft_inspect *ins);

/* Adds one chain, or one rule (to its chain, after those added before: rules come in the
 * order the kernel lists them). What vnet_nft_inspect_dump does with each object of the dump;
 * tests feed objects they built. Objects of other families and of table inet vnet are
 * ignored; a rule of a chain not added yet is -ENOENT. */
int vnet_nft_inspect_add_chain(struct vnet_nft_inspect *ins, const struct nftnl_chain *c);
int vnet_nft_inspect_add_rule(struct vnet_nft_inspect *ins, const struct nftnl_rule *r);

/* The findings for @nets: one per base chain and cause (policy, or a rule), with the
 * networks it affects, in the order the chains were added (the kernel's). Each network
 * appears once per chain, with the surest drop its traffic meets there. */
int vnet_nft_inspect_check(const struct vnet_nft_inspect *ins,
                           const struct vnet_nft_inspect_net *nets, size_t n_nets,
                           struct vnet_nft_finding **ret, size_t *n_ret);
void vnet_nft_findings_free(struct vnet_nft_finding *f, size_t n);

/* One line for people: "table ip filter, chain FORWARD (hook forward, priority 0): its policy
 * drops guests' forwarded traffic" ("may drop" when not certain; "rule handle 7 (in chain X)
 * drops" for a rule). malloc'ed into *ret. */
int vnet_nft_finding_summary(const struct vnet_nft_finding *f, char **ret);
