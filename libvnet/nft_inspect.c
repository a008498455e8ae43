/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "nft.h"
#include "nft_inspect.h"

#define IFNAME_LEN 16 /* the kernel compares interface names over IFNAMSIZ bytes */
#define JUMP_DEPTH 16 /* the kernel refuses deeper jump stacks, so a deeper walk is a loop */
#define N_REGS     32 /* NFT_REG32_15 is 23; 16-byte registers are 1..4 */

static const char *const hook_names[_VNET_NFT_INSPECT_HOOK_MAX] = {
        [VNET_NFT_INSPECT_FORWARD] = "forward",
        [VNET_NFT_INSPECT_INPUT] = "input",
};

static const char *const what_names[_VNET_NFT_INSPECT_WHAT_MAX] = {
        [VNET_NFT_INSPECT_POLICY_DROP] = "policy drop",
        [VNET_NFT_INSPECT_RULE_DROP] = "rule drop",
        [VNET_NFT_INSPECT_RULE_REJECT] = "rule reject",
};

const char *vnet_nft_inspect_hook_to_string(enum vnet_nft_inspect_hook h)
{
        return (unsigned)h < _VNET_NFT_INSPECT_HOOK_MAX ? hook_names[h] : NULL;
}

const char *vnet_nft_inspect_what_to_string(enum vnet_nft_inspect_what w)
{
        return (unsigned)w < _VNET_NFT_INSPECT_WHAT_MAX ? what_names[w] : NULL;
}

/* ---- the model: what of a rule decides a verdict for guests' packets ---- */

enum field {
        F_IIFNAME,
        F_OIFNAME,
        F_IIF,
        F_OIF,
        F_NFPROTO,
        F_L4PROTO,
        F_DPORT,
        F_CTSTATE,
        F_UNKNOWN, /* a match we do not read: a set, an xtables match, a limit, ... */
};

enum cond_op {
        OP_EQ,
        OP_NEQ,
        OP_ANY_BIT,  /* (value & mask) != 0: nft's `ct state established,related` */
        OP_NO_BIT,   /* (value & mask) == 0 */
};

struct cond {
        enum field field;
        enum cond_op op;
        uint8_t data[IFNAME_LEN];
        uint32_t len;
        uint32_t mask;
};

enum verdict {
        V_NONE, /* no verdict: the next rule */
        V_ACCEPT,
        V_DROP,
        V_REJECT,
        V_JUMP,
        V_GOTO,
        V_RETURN,
        V_UNKNOWN, /* a verdict map, a queue: decided elsewhere */
};

struct rule {
        uint64_t handle;
        struct cond *conds;
        size_t n_conds;
        enum verdict verdict;
        char *target; /* of a jump or goto */
};

struct chain {
        uint32_t family;
        char *table;
        char *name;
        bool base;
        enum vnet_nft_inspect_hook hook; /* for base chains we look at */
        bool watched;                    /* a base chain with a hook we look at */
        int prio;
        bool policy_drop;
        struct rule *rules;
        size_t n_rules, cap_rules;
};

struct vnet_nft_inspect {
        struct chain **chains;
        size_t n_chains, cap_chains;
};

static const char *family_name(uint32_t family)
{
        switch (family) {
        case NFPROTO_IPV4:
                return "ip";
        case NFPROTO_INET:
                return "inet";
        default:
                return NULL; /* families whose chains never see guests' IPv4 */
        }
}

int vnet_nft_inspect_new(struct vnet_nft_inspect **ret)
{
        *ret = calloc(1, sizeof(**ret));
        return *ret ? 0 : -ENOMEM;
}

static void rule_clear(struct rule *r)
{
        free(r->conds);
        free(r->target);
}

static void chain_free(struct chain *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_rules; i++)
                rule_clear(&c->rules[i]);
        free(c->rules);
        free(c->table);
        free(c->name);
        free(c);
}

void vnet_nft_inspect_free(struct vnet_nft_inspect *ins)
{
        if (!ins)
                return;
        for (size_t i = 0; i < ins->n_chains; i++)
                chain_free(ins->chains[i]);
        free(ins->chains);
        free(ins);
}

static bool is_ours(uint32_t family, const char *table)
{
        return family == NFPROTO_INET && strcmp(table, VNET_NFT_TABLE) == 0;
}

static struct chain *chain_find(const struct vnet_nft_inspect *ins, uint32_t family,
                                const char *table, const char *name)
{
        for (size_t i = 0; i < ins->n_chains; i++) {
                struct chain *c = ins->chains[i];

                if (c->family == family && strcmp(c->table, table) == 0 &&
                    strcmp(c->name, name) == 0)
                        return c;
        }
        return NULL;
}

int vnet_nft_inspect_add_chain(struct vnet_nft_inspect *ins, const struct nftnl_chain *nc)
{
        uint32_t family = nftnl_chain_get_u32(nc, NFTNL_CHAIN_FAMILY);
        const char *table = nftnl_chain_get_str(nc, NFTNL_CHAIN_TABLE);
        const char *name = nftnl_chain_get_str(nc, NFTNL_CHAIN_NAME);
        struct chain *c;

        if (!table || !name)
                return -EINVAL;
        if (!family_name(family) || is_ours(family, table))
                return 0;
        if (ins->n_chains == ins->cap_chains) {
                size_t cap = ins->cap_chains ? ins->cap_chains * 2 : 16;
                struct chain **p = realloc(ins->chains, cap * sizeof(*p));

                if (!p)
                        return -ENOMEM;
                ins->chains = p;
                ins->cap_chains = cap;
        }
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->family = family;
        c->table = strdup(table);
        c->name = strdup(name);
        if (!c->table || !c->name) {
                chain_free(c);
                return -ENOMEM;
        }
        if (nftnl_chain_is_set(nc, NFTNL_CHAIN_HOOKNUM)) {
                uint32_t hook = nftnl_chain_get_u32(nc, NFTNL_CHAIN_HOOKNUM);

                c->base = true;
                c->prio = (int)nftnl_chain_get_s32(nc, NFTNL_CHAIN_PRIO);
                c->policy_drop = nftnl_chain_is_set(nc, NFTNL_CHAIN_POLICY) &&
                                 nftnl_chain_get_u32(nc, NFTNL_CHAIN_POLICY) == NF_DROP;
                c->watched = hook == NF_INET_FORWARD || hook == NF_INET_LOCAL_IN;
                c->hook = hook == NF_INET_FORWARD ? VNET_NFT_INSPECT_FORWARD
                                                  : VNET_NFT_INSPECT_INPUT;
        }
        ins->chains[ins->n_chains++] = c;
        return 0;
}

/* What a register holds, as far as a later cmp needs to know. */
struct reg {
        enum { R_NONE, R_META, R_PAYLOAD, R_CT_STATE } src;
        uint32_t key; /* meta key; payload base */
        uint32_t offset, len;
        bool masked; /* R_CT_STATE through a bitwise and */
        uint32_t mask;
};

struct parse {
        struct reg regs[N_REGS];
        struct rule *rule;
        size_t cap_conds;
        int err;
};

static struct reg *reg_at(struct parse *p, uint32_t n)
{
        return n < N_REGS ? &p->regs[n] : NULL;
}

static void regs_forget(struct parse *p)
{
        memset(p->regs, 0, sizeof(p->regs));
}

static void cond_add(struct parse *p, const struct cond *c)
{
        struct rule *r = p->rule;

        if (p->err)
                return;
        if (r->n_conds == p->cap_conds) {
                size_t cap = p->cap_conds ? p->cap_conds * 2 : 4;
                struct cond *v = realloc(r->conds, cap * sizeof(*v));

                if (!v) {
                        p->err = -ENOMEM;
                        return;
                }
                r->conds = v;
                p->cap_conds = cap;
        }
        r->conds[r->n_conds++] = *c;
}

static void cond_unknown(struct parse *p)
{
        cond_add(p, &(struct cond){ .field = F_UNKNOWN });
}

static void load(struct parse *p, const struct nftnl_expr *e, uint16_t dreg_attr,
                 const struct reg *val)
{
        struct reg *r;

        if (!nftnl_expr_is_set(e, dreg_attr))
                return; /* a statement that sets a value: no match */
        r = reg_at(p, nftnl_expr_get_u32(e, dreg_attr));
        if (r)
                *r = *val;
}

static void parse_cmp(struct parse *p, const struct nftnl_expr *e)
{
        const struct reg *r = reg_at(p, nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG));
        uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP), len = 0;
        const void *data = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
        struct cond c = { .field = F_UNKNOWN, .op = op == NFT_CMP_EQ ? OP_EQ : OP_NEQ };

        if (!r || !data || len > sizeof(c.data) || (op != NFT_CMP_EQ && op != NFT_CMP_NEQ)) {
                cond_unknown(p);
                return;
        }
        memcpy(c.data, data, len);
        c.len = len;
        switch (r->src) {
        case R_META:
                if (r->key == NFT_META_IIFNAME || r->key == NFT_META_OIFNAME)
                        c.field = r->key == NFT_META_IIFNAME ? F_IIFNAME : F_OIFNAME;
                else if ((r->key == NFT_META_IIF || r->key == NFT_META_OIF) && len == 4)
                        c.field = r->key == NFT_META_IIF ? F_IIF : F_OIF;
                else if (r->key == NFT_META_NFPROTO && len == 1)
                        c.field = F_NFPROTO;
                else if (r->key == NFT_META_L4PROTO && len == 1)
                        c.field = F_L4PROTO;
                break;
        case R_PAYLOAD:
                /* iptables-nft's -p is the IPv4 header's protocol byte */
                if (r->key == NFT_PAYLOAD_NETWORK_HEADER && r->offset == 9 && r->len == 1 &&
                    len == 1)
                        c.field = F_L4PROTO;
                else if (r->key == NFT_PAYLOAD_TRANSPORT_HEADER && r->offset == 2 &&
                         r->len == 2 && len == 2)
                        c.field = F_DPORT;
                break;
        case R_CT_STATE:
                if (len != 4)
                        break;
                c.field = F_CTSTATE;
                if (r->masked) {
                        uint32_t v;

                        memcpy(&v, data, 4);
                        if (v != 0)
                                c.field = F_UNKNOWN;
                        c.mask = r->mask;
                        /* state & mask != 0 is "one of these states" */
                        c.op = op == NFT_CMP_NEQ ? OP_ANY_BIT : OP_NO_BIT;
                }
                break;
        case R_NONE:
                break;
        }
        cond_add(p, &c);
}

static void parse_bitwise(struct parse *p, const struct nftnl_expr *e)
{
        const struct reg *s = reg_at(p, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG));
        struct reg *d = reg_at(p, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG));
        uint32_t mlen = 0, xlen = 0, xor = 0;
        const void *mask = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &mlen);
        const void *x = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_XOR, &xlen);
        bool boolean = !nftnl_expr_is_set(e, NFTNL_EXPR_BITWISE_OP) ||
                       nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_OP) == NFT_BITWISE_BOOL;
        struct reg r = { .src = R_NONE };

        if (!d)
                return;
        if (x && xlen == 4)
                memcpy(&xor, x, 4);
        if (s && s->src == R_CT_STATE && !s->masked && boolean && mask && mlen == 4 &&
            xor == 0) {
                r = *s;
                r.masked = true;
                memcpy(&r.mask, mask, 4);
        }
        *d = r;
}

static void parse_verdict(struct parse *p, const struct nftnl_expr *e)
{
        struct rule *r = p->rule;
        const char *chain;

        switch ((int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT)) {
        case NF_ACCEPT:
                r->verdict = V_ACCEPT;
                break;
        case NF_DROP:
                r->verdict = V_DROP;
                break;
        case NFT_JUMP:
        case NFT_GOTO:
                chain = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
                r->verdict = V_UNKNOWN;
                if (!chain)
                        break;
                free(r->target);
                r->target = strdup(chain);
                if (!r->target) {
                        p->err = -ENOMEM;
                        break;
                }
                r->verdict = (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT) == NFT_JUMP
                                     ? V_JUMP
                                     : V_GOTO;
                break;
        case NFT_RETURN:
                r->verdict = V_RETURN;
                break;
        case NFT_CONTINUE:
                break;
        default:
                r->verdict = V_UNKNOWN; /* queue, stolen, break */
                break;
        }
}

/* Expressions that only act (count, log, translate) and decide nothing. */
static bool is_statement(const char *name)
{
        static const char *const names[] = { "counter", "log", "notrack", "nat", "masq",
                                             "redir", "dup", "fwd", "last", "dynset",
                                             "objref", "quota_stmt" };

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strcmp(name, names[i]) == 0)
                        return true;
        return false;
}

static void parse_expr(struct parse *p, const struct nftnl_expr *e)
{
        const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

        if (!name) {
                cond_unknown(p);
                return;
        }
        if (strcmp(name, "meta") == 0) {
                load(p, e, NFTNL_EXPR_META_DREG,
                     &(struct reg){ .src = R_META,
                                    .key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY) });
        } else if (strcmp(name, "payload") == 0) {
                load(p, e, NFTNL_EXPR_PAYLOAD_DREG,
                     &(struct reg){ .src = R_PAYLOAD,
                                    .key = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE),
                                    .offset = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET),
                                    .len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN) });
        } else if (strcmp(name, "ct") == 0) {
                bool state = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY) == NFT_CT_STATE &&
                             !nftnl_expr_is_set(e, NFTNL_EXPR_CT_DIR);

                load(p, e, NFTNL_EXPR_CT_DREG, &(struct reg){ .src = state ? R_CT_STATE : R_NONE });
        } else if (strcmp(name, "bitwise") == 0) {
                parse_bitwise(p, e);
        } else if (strcmp(name, "cmp") == 0) {
                parse_cmp(p, e);
        } else if (strcmp(name, "immediate") == 0) {
                if (nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG) == NFT_REG_VERDICT)
                        parse_verdict(p, e);
                else
                        load(p, e, NFTNL_EXPR_IMM_DREG, &(struct reg){ .src = R_NONE });
        } else if (strcmp(name, "reject") == 0) {
                p->rule->verdict = V_REJECT;
        } else if (strcmp(name, "target") == 0) {
                const char *tg = nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME);

                /* iptables-nft's -j REJECT; other targets mark, log or clamp and go on */
                if (tg && strcmp(tg, "REJECT") == 0)
                        p->rule->verdict = V_REJECT;
                else if (tg && strcmp(tg, "NFQUEUE") == 0)
                        p->rule->verdict = V_UNKNOWN;
        } else if (strcmp(name, "queue") == 0) {
                p->rule->verdict = V_UNKNOWN;
        } else if (strcmp(name, "lookup") == 0) {
                if (!nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG))
                        cond_unknown(p); /* set membership */
                else if (nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG) == NFT_REG_VERDICT)
                        p->rule->verdict = V_UNKNOWN; /* verdict map */
                else
                        load(p, e, NFTNL_EXPR_LOOKUP_DREG, &(struct reg){ .src = R_NONE });
        } else if (!is_statement(name)) {
                /* range, limit, quota, connlimit, xtables matches, fib, socket ...: a match,
                 * or a load we do not follow, so no register is known any more */
                regs_forget(p);
                cond_unknown(p);
        }
}

int vnet_nft_inspect_add_rule(struct vnet_nft_inspect *ins, const struct nftnl_rule *nr)
{
        uint32_t family = nftnl_rule_get_u32(nr, NFTNL_RULE_FAMILY);
        const char *table = nftnl_rule_get_str(nr, NFTNL_RULE_TABLE);
        const char *name = nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN);
        struct parse p = { 0 };
        struct nftnl_expr_iter *it;
        struct nftnl_expr *e;
        struct chain *c;

        if (!table || !name)
                return -EINVAL;
        if (!family_name(family) || is_ours(family, table))
                return 0;
        c = chain_find(ins, family, table, name);
        if (!c)
                return -ENOENT;
        if (c->n_rules == c->cap_rules) {
                size_t cap = c->cap_rules ? c->cap_rules * 2 : 8;
                struct rule *v = realloc(c->rules, cap * sizeof(*v));

                if (!v)
                        return -ENOMEM;
                c->rules = v;
                c->cap_rules = cap;
        }
        p.rule = &c->rules[c->n_rules];
        *p.rule = (struct rule){ .handle = nftnl_rule_get_u64(nr, NFTNL_RULE_HANDLE) };
        it = nftnl_expr_iter_create(nr);
        if (!it)
                return -ENOMEM;
        while (!p.err && (e = nftnl_expr_iter_next(it)))
                parse_expr(&p, e);
        nftnl_expr_iter_destroy(it);
        if (p.err) {
                rule_clear(p.rule);
                return p.err;
        }
        c->n_rules++;
        return 0;
}

/* ---- reading the kernel's ruleset ---- */

struct dump {
        struct vnet_nft_inspect *ins;
        bool rules;
        int err;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
        struct dump *d = data;
        int r;

        if (d->rules) {
                struct nftnl_rule *nr = nftnl_rule_alloc();

                if (!nr)
                        r = -ENOMEM;
                else if (nftnl_rule_nlmsg_parse(nlh, nr) < 0)
                        r = -EBADMSG;
                else
                        r = vnet_nft_inspect_add_rule(d->ins, nr);
                if (nr)
                        nftnl_rule_free(nr);
                /* a chain added between the two dumps */
                if (r == -ENOENT)
                        r = 0;
        } else {
                struct nftnl_chain *nc = nftnl_chain_alloc();

                if (!nc)
                        r = -ENOMEM;
                else if (nftnl_chain_nlmsg_parse(nlh, nc) < 0)
                        r = -EBADMSG;
                else
                        r = vnet_nft_inspect_add_chain(d->ins, nc);
                if (nc)
                        nftnl_chain_free(nc);
        }
        if (r < 0) {
                d->err = r;
                return MNL_CB_ERROR;
        }
        return MNL_CB_OK;
}

static int dump_all(struct mnl_socket *nl, uint16_t type, struct dump *d, char *buf,
                    size_t size)
{
        uint32_t portid = mnl_socket_get_portid(nl), seq = (uint32_t)time(NULL) + type;
        struct nlmsghdr *nlh;
        int r;

        nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_UNSPEC, NLM_F_DUMP, seq);
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl, buf, size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                d->err = 0;
                r = mnl_cb_run(buf, (size_t)n, seq, portid, dump_cb, d);
                if (r == MNL_CB_ERROR)
                        return d->err ? d->err : -errno;
                if (r == MNL_CB_STOP)
                        return 0;
        }
}

int vnet_nft_inspect_dump(struct vnet_nft_inspect *ins)
{
        /* a dump's parts are as large as the receive buffer lets them be */
        const size_t size = 65536;
        struct dump d = { .ins = ins };
        struct mnl_socket *nl;
        char *buf = malloc(size);
        int r;

        if (!buf)
                return -ENOMEM;
        nl = mnl_socket_open(NETLINK_NETFILTER);
        if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                r = -errno;
                goto out;
        }
        r = dump_all(nl, NFT_MSG_GETCHAIN, &d, buf, size);
        if (r == 0) {
                d.rules = true;
                r = dump_all(nl, NFT_MSG_GETRULE, &d, buf, size);
        }
out:
        if (nl)
                mnl_socket_close(nl);
        free(buf);
        return r;
}

/* ---- walking guests' traffic through the chains ---- */

/* A kind of guests' packet. A field that is NULL or -1 is "generic": whatever value no rule
 * names (the uplink, a port nobody filters), so an accept that names one value does not
 * take it, and a drop that names one drops only some of the traffic. */
struct probe {
        enum vnet_nft_inspect_hook hook;
        const char *iif, *oif;
        unsigned iifindex, oifindex; /* for a named side: 0 is unknown */
        int l4proto;
        int dport;
        uint32_t ctstate; /* NF_CT_STATE_BIT of the packet's state */
};

enum tri {
        T_FALSE,
        T_TRUE,
        T_GENERIC, /* true for some of the traffic */
        T_UNKNOWN, /* we cannot tell */
};

static enum tri tri_of(bool v, enum cond_op op)
{
        return (op == OP_EQ) == v ? T_TRUE : T_FALSE;
}

static enum tri cond_ifname(const struct cond *c, const char *name)
{
        uint8_t padded[IFNAME_LEN] = { 0 };

        if (!name)
                return T_GENERIC;
        strncpy((char *)padded, name, sizeof(padded) - 1);
        /* shorter data is a prefix: iptables' -i virbr+, nft's "virbr*" */
        return tri_of(memcmp(padded, c->data, c->len) == 0, c->op);
}

static enum tri cond_ifindex(const struct cond *c, const char *name, unsigned index)
{
        uint32_t v;

        if (!name)
                return T_GENERIC;
        if (!index)
                return T_UNKNOWN;
        memcpy(&v, c->data, 4);
        return tri_of(v == index, c->op);
}

static enum tri cond_eval(const struct cond *c, const struct probe *p)
{
        uint16_t port;

        switch (c->field) {
        case F_IIFNAME:
                return cond_ifname(c, p->iif);
        case F_OIFNAME:
                return cond_ifname(c, p->oif);
        case F_IIF:
                return cond_ifindex(c, p->iif, p->iifindex);
        case F_OIF:
                return cond_ifindex(c, p->oif, p->oifindex);
        case F_NFPROTO:
                return tri_of(c->data[0] == NFPROTO_IPV4, c->op);
        case F_L4PROTO:
                if (p->l4proto < 0)
                        return T_GENERIC;
                return tri_of(c->data[0] == p->l4proto, c->op);
        case F_DPORT:
                if (p->dport < 0)
                        return T_GENERIC;
                memcpy(&port, c->data, 2);
                return tri_of(ntohs(port) == p->dport, c->op);
        case F_CTSTATE:
                switch (c->op) {
                case OP_ANY_BIT:
                        return (p->ctstate & c->mask) ? T_TRUE : T_FALSE;
                case OP_NO_BIT:
                        return (p->ctstate & c->mask) ? T_FALSE : T_TRUE;
                case OP_EQ:
                case OP_NEQ: {
                        uint32_t v;

                        memcpy(&v, c->data, 4);
                        return tri_of(v == p->ctstate, c->op);
                }
                }
                return T_UNKNOWN;
        case F_UNKNOWN:
                return T_UNKNOWN;
        }
        return T_UNKNOWN;
}

/* Whether the rule's matches hold: false if one does not, else the weakest. */
static enum tri rule_match(const struct rule *r, const struct probe *p)
{
        enum tri m = T_TRUE;

        for (size_t i = 0; i < r->n_conds; i++) {
                enum tri t = cond_eval(&r->conds[i], p);

                if (t == T_FALSE)
                        return T_FALSE;
                if (t == T_UNKNOWN || (t == T_GENERIC && m == T_TRUE))
                        m = t;
        }
        return m;
}

/* How surely the traffic reaches a point: all of it, some of it, or perhaps. */
static enum tri reach(enum tri ctx, enum tri m)
{
        if (ctx == T_UNKNOWN || m == T_UNKNOWN)
                return T_UNKNOWN;
        if (ctx == T_GENERIC || m == T_GENERIC)
                return T_GENERIC;
        return T_TRUE;
}

struct cause {
        bool set;
        const struct chain *chain; /* the rule's */
        const struct rule *rule;   /* NULL: the base chain's policy */
};

struct walk {
        const struct vnet_nft_inspect *ins;
        const struct probe *p;
        bool uncertain;     /* an accept or return we cannot read may have taken the traffic */
        struct cause maybe; /* the first drop that takes some of the traffic, or perhaps */
        struct cause drop;  /* the drop that takes all of it */
};

enum outcome {
        O_FALLTHROUGH,
        O_ACCEPT,
        O_DROP,
};

static enum outcome walk_chain(struct walk *w, const struct chain *c, enum tri ctx, int depth)
{
        for (size_t i = 0; i < c->n_rules; i++) {
                const struct rule *r = &c->rules[i];
                enum tri m = rule_match(r, w->p), at;
                const struct chain *t;
                enum outcome o;

                if (m == T_FALSE)
                        continue;
                at = reach(ctx, m);
                switch (r->verdict) {
                case V_NONE:
                        break;
                case V_ACCEPT:
                        if (at == T_TRUE)
                                return O_ACCEPT;
                        if (at == T_UNKNOWN)
                                w->uncertain = true;
                        break;
                case V_DROP:
                case V_REJECT:
                        if (at == T_TRUE) {
                                w->drop = (struct cause){ true, c, r };
                                return O_DROP;
                        }
                        if (!w->maybe.set)
                                w->maybe = (struct cause){ true, c, r };
                        break;
                case V_JUMP:
                case V_GOTO:
                        t = chain_find(w->ins, c->family, c->table, r->target);
                        if (!t || depth >= JUMP_DEPTH) {
                                w->uncertain = true;
                                break;
                        }
                        o = walk_chain(w, t, at, depth + 1);
                        if (o != O_FALLTHROUGH || (r->verdict == V_GOTO && at == T_TRUE))
                                return o;
                        break;
                case V_RETURN:
                        if (at == T_TRUE)
                                return O_FALLTHROUGH;
                        if (at == T_UNKNOWN)
                                w->uncertain = true;
                        break;
                case V_UNKNOWN:
                        w->uncertain = true;
                        break;
                }
        }
        return O_FALLTHROUGH;
}

/* The cause of the drop the probe meets in base chain @c, if any; *certain says whether
 * it surely does. */
static bool walk_base(const struct vnet_nft_inspect *ins, const struct chain *c,
                      const struct probe *p, struct cause *cause, bool *certain)
{
        struct walk w = { .ins = ins, .p = p };

        switch (walk_chain(&w, c, T_TRUE, 0)) {
        case O_DROP:
                *cause = w.drop;
                *certain = !w.uncertain;
                return true;
        case O_FALLTHROUGH:
                if (c->policy_drop) {
                        *cause = (struct cause){ true, c, NULL };
                        *certain = !w.uncertain;
                        return true;
                }
                break;
        case O_ACCEPT:
                break;
        }
        if (w.maybe.set) {
                *cause = w.maybe;
                *certain = false;
                return true;
        }
        return false;
}

#define MAX_PROBES 4

/* The kinds of the network's traffic that pass @hook. */
static size_t probes_of(const struct vnet_nft_inspect_net *n, enum vnet_nft_inspect_hook hook,
                        struct probe *out)
{
        const uint32_t new = NF_CT_STATE_BIT(IP_CT_NEW);
        const uint32_t est = NF_CT_STATE_BIT(IP_CT_ESTABLISHED);
        const struct probe base = { .hook = hook, .l4proto = -1, .dport = -1, .ctstate = new };
        size_t k = 0;

        switch (hook) {
        case VNET_NFT_INSPECT_FORWARD:
                if (n->mode != VNET_MODE_NAT && n->mode != VNET_MODE_ROUTED)
                        break;
                out[k] = base;
                out[k].iif = n->bridge;
                out[k++].iifindex = n->ifindex;
                out[k] = base;
                out[k].oif = n->bridge;
                out[k].oifindex = n->ifindex;
                /* what comes back to a nat network is replies */
                if (n->mode == VNET_MODE_NAT)
                        out[k].ctstate = est;
                k++;
                break;
        case VNET_NFT_INSPECT_INPUT:
                if (n->dhcp) {
                        out[k] = base;
                        out[k].iif = n->bridge;
                        out[k].iifindex = n->ifindex;
                        out[k].l4proto = IPPROTO_UDP;
                        out[k++].dport = 67;
                }
                for (int i = 0; n->dns && i < 2; i++) {
                        out[k] = base;
                        out[k].iif = n->bridge;
                        out[k].iifindex = n->ifindex;
                        out[k].l4proto = i ? IPPROTO_TCP : IPPROTO_UDP;
                        out[k++].dport = 53;
                }
                break;
        case _VNET_NFT_INSPECT_HOOK_MAX:
                break;
        }
        return k;
}

/* ---- findings ---- */

struct found {
        struct vnet_nft_finding *v;
        size_t n, cap;
};

static int strv_add(char ***v, size_t *n, const char *s)
{
        char **p;

        for (size_t i = 0; i < *n; i++)
                if (strcmp((*v)[i], s) == 0)
                        return 0;
        p = realloc(*v, (*n + 1) * sizeof(*p));
        if (!p)
                return -ENOMEM;
        *v = p;
        p[*n] = strdup(s);
        if (!p[*n])
                return -ENOMEM;
        (*n)++;
        return 0;
}

static void finding_clear(struct vnet_nft_finding *f)
{
        free(f->table);
        free(f->chain);
        free(f->rule_chain);
        for (size_t i = 0; i < f->n_networks; i++)
                free(f->networks[i]);
        free(f->networks);
        free(f->remedy);
}

void vnet_nft_findings_free(struct vnet_nft_finding *f, size_t n)
{
        if (!f)
                return;
        for (size_t i = 0; i < n; i++)
                finding_clear(&f[i]);
        free(f);
}

static bool finding_is(const struct vnet_nft_finding *f, const struct chain *base,
                       const struct cause *cause, bool certain)
{
        uint64_t handle = cause->rule ? cause->rule->handle : 0;
        const char *rc = cause->rule && cause->chain != base ? cause->chain->name : NULL;

        return f->certain == certain && f->handle == handle &&
               strcmp(f->family, family_name(base->family)) == 0 &&
               strcmp(f->table, base->table) == 0 && strcmp(f->chain, base->name) == 0 &&
               (f->what == VNET_NFT_INSPECT_POLICY_DROP) == !cause->rule &&
               ((!rc && !f->rule_chain) || (rc && f->rule_chain && strcmp(rc, f->rule_chain) == 0));
}

static int finding_add(struct found *fd, const struct chain *base, const struct cause *cause,
                       bool certain, const char *network)
{
        struct vnet_nft_finding *f = NULL;

        for (size_t i = 0; i < fd->n && !f; i++)
                if (finding_is(&fd->v[i], base, cause, certain))
                        f = &fd->v[i];
        if (!f) {
                if (fd->n == fd->cap) {
                        size_t cap = fd->cap ? fd->cap * 2 : 4;
                        struct vnet_nft_finding *v = realloc(fd->v, cap * sizeof(*v));

                        if (!v)
                                return -ENOMEM;
                        fd->v = v;
                        fd->cap = cap;
                }
                f = &fd->v[fd->n++];
                *f = (struct vnet_nft_finding){
                        .family = family_name(base->family),
                        .table = strdup(base->table),
                        .chain = strdup(base->name),
                        .hook = base->hook,
                        .priority = base->prio,
                        .what = !cause->rule                        ? VNET_NFT_INSPECT_POLICY_DROP
                                : cause->rule->verdict == V_REJECT ? VNET_NFT_INSPECT_RULE_REJECT
                                                                    : VNET_NFT_INSPECT_RULE_DROP,
                        .certain = certain,
                        .handle = cause->rule ? cause->rule->handle : 0,
                };
                if (cause->rule && cause->chain != base)
                        f->rule_chain = strdup(cause->chain->name);
                if (!f->table || !f->chain || (cause->rule && cause->chain != base && !f->rule_chain))
                        return -ENOMEM;
        }
        return strv_add(&f->networks, &f->n_networks, network);
}

/* A shell word: names of tables and chains are printed bare when the shell and nft take
 * them so, else quoted for both. */
static void put_name(FILE *m, const char *s)
{
        static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";

        if (*s && strchr(letters, *s) &&
            strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789-.") ==
                    strlen(s))
                fputs(s, m);
        else
                fprintf(m, "'\"%s\"'", s);
}

static void remedy_nft(FILE *m, const struct vnet_nft_finding *f, const char *bridge, bool dhcp,
                       bool *first)
{
        static const struct {
                bool input, dhcp;
                const char *match;
        } rules[] = {
                { false, false, "iifname %s accept" },
                { false, false, "oifname %s accept" },
                { true, true, "iifname %s udp dport 67 accept" },
                { true, false, "iifname %s udp dport 53 accept" },
                { true, false, "iifname %s tcp dport 53 accept" },
        };

        for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
                if (rules[i].input != (f->hook == VNET_NFT_INSPECT_INPUT) ||
                    (rules[i].dhcp && !dhcp))
                        continue;
                fprintf(m, "%snft insert rule %s ", *first ? "" : "; ", f->family);
                put_name(m, f->table);
                fputc(' ', m);
                put_name(m, f->chain);
                fputc(' ', m);
                fprintf(m, rules[i].match, bridge);
                *first = false;
        }
}

static void remedy_iptables(FILE *m, const struct vnet_nft_finding *f, const char *chain,
                            const char *bridge, bool dhcp, bool *first)
{
        static const struct {
                bool input, dhcp;
                const char *match;
        } rules[] = {
                { false, false, "-i %s -j ACCEPT" },
                { false, false, "-o %s -j ACCEPT" },
                { true, true, "-i %s -p udp --dport 67 -j ACCEPT" },
                { true, false, "-i %s -p udp --dport 53 -j ACCEPT" },
                { true, false, "-i %s -p tcp --dport 53 -j ACCEPT" },
        };

        for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
                if (rules[i].input != (f->hook == VNET_NFT_INSPECT_INPUT) ||
                    (rules[i].dhcp && !dhcp))
                        continue;
                fprintf(m, "%siptables -I ", *first ? "" : "; ");
                put_name(m, chain);
                fputc(' ', m);
                fprintf(m, rules[i].match, bridge);
                *first = false;
        }
}

static int remedy(const struct vnet_nft_inspect *ins, struct vnet_nft_finding *f,
                  const struct vnet_nft_inspect_net *nets, size_t n_nets)
{
        /* iptables-nft's tables: iptables is what their owner uses to change them */
        bool iptables = strcmp(f->family, "ip") == 0 && strcmp(f->table, "filter") == 0;
        bool docker = iptables && f->hook == VNET_NFT_INSPECT_FORWARD &&
                      chain_find(ins, NFPROTO_IPV4, "filter", "DOCKER-USER");
        const char *chain = docker ? "DOCKER-USER" : f->chain;
        bool first = true;
        size_t len = 0;
        FILE *m;

        m = open_memstream(&f->remedy, &len);
        if (!m)
                return -ENOMEM;
        if (docker)
                fputs("allow the bridge's traffic in DOCKER-USER, the chain Docker keeps for "
                      "your rules and jumps to first: ", m);
        else if (f->hook == VNET_NFT_INSPECT_FORWARD)
                fputs("allow the bridge's traffic in that chain: ", m);
        else
                fputs("accept DHCP (udp 67) and DNS (udp and tcp 53) from the bridge in that "
                      "chain: ", m);
        for (size_t i = 0; i < f->n_networks; i++)
                for (size_t k = 0; k < n_nets; k++) {
                        if (strcmp(nets[k].name, f->networks[i]) != 0)
                                continue;
                        if (iptables)
                                remedy_iptables(m, f, chain, nets[k].bridge, nets[k].dhcp, &first);
                        else
                                remedy_nft(m, f, nets[k].bridge, nets[k].dhcp, &first);
                        break;
                }
        fputs(" (and the same in that firewall's saved configuration, to keep it after a "
              "reboot)", m);
        if (fclose(m) != 0) {
                free(f->remedy);
                f->remedy = NULL;
                return -ENOMEM;
        }
        return 0;
}

int vnet_nft_inspect_check(const struct vnet_nft_inspect *ins,
                           const struct vnet_nft_inspect_net *nets, size_t n_nets,
                           struct vnet_nft_finding **ret, size_t *n_ret)
{
        struct found fd = { 0 };
        int r = 0;

        for (size_t i = 0; r == 0 && i < ins->n_chains; i++) {
                const struct chain *c = ins->chains[i];

                if (!c->base || !c->watched)
                        continue;
                for (size_t k = 0; r == 0 && k < n_nets; k++) {
                        struct probe probes[MAX_PROBES];
                        size_t np = probes_of(&nets[k], c->hook, probes);
                        struct cause cause, found = { 0 };
                        bool certain, found_certain = false;

                        /* one finding per network and chain: the surest drop */
                        for (size_t j = 0; j < np; j++) {
                                if (!walk_base(ins, c, &probes[j], &cause, &certain))
                                        continue;
                                if (!found.set || (certain && !found_certain)) {
                                        found = cause;
                                        found_certain = certain;
                                }
                        }
                        if (found.set)
                                r = finding_add(&fd, c, &found, found_certain, nets[k].name);
                }
        }
        for (size_t i = 0; r == 0 && i < fd.n; i++)
                r = remedy(ins, &fd.v[i], nets, n_nets);
        if (r < 0) {
                vnet_nft_findings_free(fd.v, fd.n);
                return r;
        }
        *ret = fd.v;
        *n_ret = fd.n;
        return 0;
}

int vnet_nft_finding_summary(const struct vnet_nft_finding *f, char **ret)
{
        const char *traffic = f->hook == VNET_NFT_INSPECT_FORWARD
                                      ? "guests' forwarded traffic"
                                      : "guests' DHCP and DNS requests to the host";
        const char *verb = f->certain ? "drops" : "may drop";
        char cause[160];

        switch (f->what) {
        case VNET_NFT_INSPECT_POLICY_DROP:
                snprintf(cause, sizeof(cause), "its policy %s", verb);
                break;
        case VNET_NFT_INSPECT_RULE_DROP:
        case VNET_NFT_INSPECT_RULE_REJECT:
                snprintf(cause, sizeof(cause), "rule handle %llu%s%s%s %s",
                         (unsigned long long)f->handle, f->rule_chain ? " (in chain " : "",
                         f->rule_chain ? f->rule_chain : "", f->rule_chain ? ")" : "",
                         f->what == VNET_NFT_INSPECT_RULE_REJECT
                                 ? (f->certain ? "rejects" : "may reject")
                                 : verb);
                break;
        case _VNET_NFT_INSPECT_WHAT_MAX:
                return -EINVAL;
        }
        if (asprintf(ret, "table %s %s, chain %s (hook %s, priority %d): %s %s", f->family,
                     f->table, f->chain, vnet_nft_inspect_hook_to_string(f->hook), f->priority,
                     cause, traffic) < 0)
                return -ENOMEM;
        return 0;
}
