/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "nft.h"

#define IFNAME_LEN 16 /* IFNAMSIZ: the kernel compares interface names over all 16 bytes */

/* nft's own numbers for the ifname data type and host byte order: with them in the map's
 * key type and user data, `nft list` prints the keys as interface names. */
#define NFT_DATATYPE_IFNAME 41
#define NFT_BYTEORDER_HOST  1

/* libnftnl writes attributes without bounds checks, so this much is kept free before each
 * message; our largest message (a rule of a dozen expressions) is far below it. */
#define MSG_ROOM 8192

/* Receive-buffer budget per ack: each ack is its own skb, and its truesize (not its 36
 * bytes) is what counts against the buffer; the kernel drops acks that do not fit. */
#define ACK_TRUESIZE 1024

#define CHAIN_NAME_MAX (sizeof("net--from") + VNET_NAME_MAX)

/* The bridges whose DHCP replies leave with a zero UDP checksum, and the base chain that
 * zeroes it. DHCP clients that read raw frames (old dhclient, some PXE ROMs) verify the UDP
 * checksum themselves, and a reply whose checksum the kernel left for offload to finish
 * (CHECKSUM_PARTIAL: a TAP with a vnet header passes it on unfinished) fails their check.
 * Zero means "no checksum" in UDP over IPv4, which every client accepts. */
#define CSUM_SET   "dhcp_csum"
#define CSUM_CHAIN "mangle_postrouting"
#define CSUM_PRIO  (-150) /* NF_IP_PRI_MANGLE, nft's "mangle" */
#define CSUM_SET_ID (_MAP_MAX + 1) /* after the maps' ids */

enum map {
        MAP_TO,
        MAP_FROM,
        MAP_IN,
        MAP_NAT,
        _MAP_MAX,
};

static const struct {
        const char *set;    /* verdict map in the skeleton */
        const char *suffix; /* of the per-network chain it jumps to */
} maps[_MAP_MAX] = {
        [MAP_TO] = { "to_net", "to" },
        [MAP_FROM] = { "from_net", "from" },
        [MAP_IN] = { "in_net", "in" },
        [MAP_NAT] = { "nat_net", "nat" },
};

static const struct {
        const char *name;
        const char *type;
        unsigned hook;
        int prio;
        struct {
                enum nft_meta_keys key;
                enum map map;
        } vmap[2];
        unsigned n_vmap;
} base_chains[] = {
        { "forward", "filter", NF_INET_FORWARD, 0,
          { { NFT_META_OIFNAME, MAP_TO }, { NFT_META_IIFNAME, MAP_FROM } }, 2 },
        { "input", "filter", NF_INET_LOCAL_IN, 0, { { NFT_META_IIFNAME, MAP_IN } }, 1 },
        { "postrouting", "nat", NF_INET_POST_ROUTING, 100, { { NFT_META_IIFNAME, MAP_NAT } }, 1 },
};

struct vnet_nft {
        struct mnl_socket *nl;
        uint32_t portid;
        uint32_t seq;
        int sndbuf; /* what we set, so a commit costs no setsockopt unless the batch grew */
        int rcvbuf;
        char rbuf[32768]; /* a dump message batch is at most 32 KiB (netlink caps it) */
};

struct vnet_nft_batch {
        char *buf;
        size_t len; /* begin and messages; the end message is kept written just after */
        size_t cap;
        size_t end_len;
        size_t n_msg;
};

/* ---- batch buffer ---- */

static int batch_reserve(struct vnet_nft_batch *b)
{
        size_t cap;
        char *p;

        if (b->cap - b->len >= MSG_ROOM)
                return 0;
        cap = b->cap ? b->cap * 2 : 4 * MSG_ROOM;
        p = realloc(b->buf, cap);
        if (!p)
                return -ENOMEM;
        b->buf = p;
        b->cap = cap;
        return 0;
}

static void batch_seal(struct vnet_nft_batch *b)
{
        b->end_len = nftnl_batch_end(b->buf + b->len, 0)->nlmsg_len;
}

/* Header of the next message, at the tail. Every message asks for an ack, so the commit
 * can wait for exactly as many answers as it sent. */
static struct nlmsghdr *batch_hdr(struct vnet_nft_batch *b, uint16_t type, uint16_t flags)
{
        if (batch_reserve(b) < 0)
                return NULL;
        return nftnl_nlmsg_build_hdr(b->buf + b->len, type, NFPROTO_INET, flags | NLM_F_ACK, 0);
}

static void batch_push(struct vnet_nft_batch *b, struct nlmsghdr *nlh)
{
        b->len += NLMSG_ALIGN(nlh->nlmsg_len);
        b->n_msg++;
        batch_seal(b);
}

/* A failed call leaves the batch as it was before the call, so the caller may still send
 * what it built before. */
static void batch_rollback(struct vnet_nft_batch *b, size_t len, size_t n_msg)
{
        b->len = len;
        b->n_msg = n_msg;
        batch_seal(b);
}

int vnet_nft_batch_new(struct vnet_nft_batch **ret)
{
        struct vnet_nft_batch *b = calloc(1, sizeof(*b));

        if (!b || batch_reserve(b) < 0) {
                free(b);
                return -ENOMEM;
        }
        b->len = NLMSG_ALIGN(nftnl_batch_begin(b->buf, 0)->nlmsg_len);
        batch_seal(b);
        *ret = b;
        return 0;
}

void vnet_nft_batch_free(struct vnet_nft_batch *b)
{
        if (!b)
                return;
        free(b->buf);
        free(b);
}

size_t vnet_nft_batch_size(const struct vnet_nft_batch *b)
{
        return b->n_msg;
}

const void *vnet_nft_batch_data(const struct vnet_nft_batch *b, size_t *len)
{
        *len = b->len + b->end_len;
        return b->buf;
}

/* ---- objects ---- */

static int put_table(struct vnet_nft_batch *b, uint16_t type, uint16_t flags)
{
        struct nftnl_table *t = nftnl_table_alloc();
        struct nlmsghdr *nlh;
        int r = -ENOMEM;

        if (!t || nftnl_table_set_str(t, NFTNL_TABLE_NAME, VNET_NFT_TABLE) < 0)
                goto out;
        nlh = batch_hdr(b, type, flags);
        if (!nlh)
                goto out;
        nftnl_table_nlmsg_build_payload(nlh, t);
        batch_push(b, nlh);
        r = 0;
out:
        if (t)
                nftnl_table_free(t);
        return r;
}

/* A verdict map (@map) or a plain set of interface names, keyed like the maps. */
static int put_set(struct vnet_nft_batch *b, const char *name, bool map, uint32_t id)
{
        struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);
        struct nftnl_set *s = nftnl_set_alloc();
        struct nlmsghdr *nlh;
        int r = -ENOMEM;

        if (!s || !ud)
                goto out;
        if (!nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, NFT_BYTEORDER_HOST) ||
            !nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATABYTEORDER, 0))
                goto out;
        if (nftnl_set_set_str(s, NFTNL_SET_TABLE, VNET_NFT_TABLE) < 0 ||
            nftnl_set_set_str(s, NFTNL_SET_NAME, name) < 0 ||
            nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
                               nftnl_udata_buf_len(ud)) < 0)
                goto out;
        nftnl_set_set_u32(s, NFTNL_SET_FLAGS, map ? NFT_SET_MAP : 0);
        nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, NFT_DATATYPE_IFNAME);
        nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, IFNAME_LEN);
        if (map) {
                nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
                nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
        }
        /* the kernel requires an id, unique in the transaction, even if nothing uses it */
        nftnl_set_set_u32(s, NFTNL_SET_ID, id);
        nlh = batch_hdr(b, NFT_MSG_NEWSET, NLM_F_CREATE);
        if (!nlh)
                goto out;
        nftnl_set_nlmsg_build_payload(nlh, s);
        batch_push(b, nlh);
        r = 0;
out:
        if (s)
                nftnl_set_free(s);
        if (ud)
                nftnl_udata_buf_free(ud);
        return r;
}

/* @type NULL: a regular chain. */
static int put_chain(struct vnet_nft_batch *b, uint16_t msg, uint16_t flags, const char *name,
                     const char *type, unsigned hook, int prio)
{
        struct nftnl_chain *c = nftnl_chain_alloc();
        struct nlmsghdr *nlh;
        int r = -ENOMEM;

        if (!c || nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, VNET_NFT_TABLE) < 0 ||
            nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name) < 0)
                goto out;
        if (type) {
                if (nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type) < 0)
                        goto out;
                nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
                nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
                nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
        }
        nlh = batch_hdr(b, msg, flags);
        if (!nlh)
                goto out;
        nftnl_chain_nlmsg_build_payload(nlh, c);
        batch_push(b, nlh);
        r = 0;
out:
        if (c)
                nftnl_chain_free(c);
        return r;
}

/* A DELRULE naming only the chain removes all its rules: the kernel refuses to delete a
 * chain that still has rules when asked the way nft asks, and this does not depend on it. */
static int flush_chain(struct vnet_nft_batch *b, const char *chain)
{
        struct nftnl_rule *ru = nftnl_rule_alloc();
        struct nlmsghdr *nlh;
        int r = -ENOMEM;

        if (!ru || nftnl_rule_set_str(ru, NFTNL_RULE_TABLE, VNET_NFT_TABLE) < 0 ||
            nftnl_rule_set_str(ru, NFTNL_RULE_CHAIN, chain) < 0)
                goto out;
        nlh = batch_hdr(b, NFT_MSG_DELRULE, 0);
        if (!nlh)
                goto out;
        nftnl_rule_nlmsg_build_payload(nlh, ru);
        batch_push(b, nlh);
        r = 0;
out:
        if (ru)
                nftnl_rule_free(ru);
        return r;
}

/* @add false: delete the element. @chain: the jump target of a map element; NULL for an
 * element of a plain set. */
static int put_elem(struct vnet_nft_batch *b, const char *set, const char *ifname, bool add,
                    const char *chain)
{
        struct nftnl_set *s = nftnl_set_alloc();
        struct nftnl_set_elem *e = nftnl_set_elem_alloc();
        char key[IFNAME_LEN] = { 0 };
        struct nlmsghdr *nlh;
        int r = -ENOMEM;

        if (!s || !e)
                goto out;
        memcpy(key, ifname, strnlen(ifname, IFNAME_LEN - 1));
        if (nftnl_set_set_str(s, NFTNL_SET_TABLE, VNET_NFT_TABLE) < 0 ||
            nftnl_set_set_str(s, NFTNL_SET_NAME, set) < 0 ||
            nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, sizeof(key)) < 0)
                goto out;
        if (add && chain) {
                nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, NFT_JUMP);
                if (nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain) < 0)
                        goto out;
        }
        nftnl_set_elem_add(s, e);
        e = NULL; /* owned by the set now */
        /* EXCL: adding a network that is already there is the caller's bug; say so rather
         * than append its rules a second time. */
        nlh = add ? batch_hdr(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL)
                  : batch_hdr(b, NFT_MSG_DELSETELEM, 0);
        if (!nlh)
                goto out;
        nftnl_set_elems_nlmsg_build_payload(nlh, s);
        batch_push(b, nlh);
        r = 0;
out:
        if (e)
                nftnl_set_elem_free(e);
        if (s)
                nftnl_set_free(s);
        return r;
}

/* ---- rules ----
 * A rule is built expression by expression; the first failure sticks in @err and makes
 * every later step a no-op, so a chain's rules read as a list and are checked once. */

struct rb {
        struct vnet_nft_batch *b;
        const char *chain;
        struct nftnl_rule *r;
        int err;
};

static void rule_begin(struct rb *rb)
{
        if (rb->err)
                return;
        rb->r = nftnl_rule_alloc();
        if (!rb->r || nftnl_rule_set_str(rb->r, NFTNL_RULE_TABLE, VNET_NFT_TABLE) < 0 ||
            nftnl_rule_set_str(rb->r, NFTNL_RULE_CHAIN, rb->chain) < 0)
                rb->err = -ENOMEM;
}

static void rule_end(struct rb *rb)
{
        struct nlmsghdr *nlh;

        if (!rb->err) {
                nlh = batch_hdr(rb->b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
                if (nlh) {
                        nftnl_rule_nlmsg_build_payload(nlh, rb->r);
                        batch_push(rb->b, nlh);
                } else {
                        rb->err = -ENOMEM;
                }
        }
        if (rb->r)
                nftnl_rule_free(rb->r);
        rb->r = NULL;
}

static struct nftnl_expr *expr_new(struct rb *rb, const char *name)
{
        struct nftnl_expr *e;

        if (rb->err)
                return NULL;
        e = nftnl_expr_alloc(name);
        if (!e) {
                rb->err = -ENOMEM;
                return NULL;
        }
        nftnl_rule_add_expr(rb->r, e);
        return e;
}

static void x_meta(struct rb *rb, enum nft_meta_keys key)
{
        struct nftnl_expr *e = expr_new(rb, "meta");

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void x_cmp(struct rb *rb, enum nft_cmp_ops op, const void *data, uint32_t len)
{
        struct nftnl_expr *e = expr_new(rb, "cmp");

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
        if (nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len) < 0)
                rb->err = -ENOMEM;
}

static void x_payload(struct rb *rb, enum nft_payload_bases base, uint32_t off, uint32_t len)
{
        struct nftnl_expr *e = expr_new(rb, "payload");

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

/* reg1 = reg1 & mask */
static void x_and(struct rb *rb, const void *mask, uint32_t len)
{
        static const uint8_t zero[16];
        struct nftnl_expr *e = expr_new(rb, "bitwise");

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
        if (nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len) < 0 ||
            nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len) < 0)
                rb->err = -ENOMEM;
}

/* @chain: the target of a jump or goto, else NULL. */
static void x_verdict(struct rb *rb, int verdict, const char *chain)
{
        struct nftnl_expr *e = expr_new(rb, "immediate");

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
        if (chain && nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain) < 0)
                rb->err = -ENOMEM;
}

static void x_imm_data(struct rb *rb, enum nft_registers reg, const void *data, uint32_t len)
{
        struct nftnl_expr *e = expr_new(rb, "immediate");

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
        if (nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len) < 0)
                rb->err = -ENOMEM;
}

static void x_vmap(struct rb *rb, enum nft_meta_keys key, enum map m)
{
        struct nftnl_expr *e;

        x_meta(rb, key);
        e = expr_new(rb, "lookup");
        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
        if (nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, maps[m].set) < 0)
                rb->err = -ENOMEM;
}

/* reg1 in the set @set: the rule goes on only if it is */
static void m_in_set(struct rb *rb, const char *set)
{
        struct nftnl_expr *e = expr_new(rb, "lookup");

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
        if (nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set) < 0)
                rb->err = -ENOMEM;
}

/* Writes reg1 over the transport header's @len bytes at @off, fixing the checksum at
 * @csum_off as nft does for `udp … set`. */
static void x_payload_write(struct rb *rb, uint32_t off, uint32_t len, uint32_t csum_off)
{
        struct nftnl_expr *e = expr_new(rb, "payload");

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_CSUM_TYPE, NFT_PAYLOAD_CSUM_INET);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_CSUM_OFFSET, csum_off);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_FLAGS, 0);
}

static void m_ifname(struct rb *rb, enum nft_meta_keys key, const char *ifname)
{
        char name[IFNAME_LEN] = { 0 };

        memcpy(name, ifname, strnlen(ifname, IFNAME_LEN - 1));
        x_meta(rb, key);
        x_cmp(rb, NFT_CMP_EQ, name, sizeof(name));
}

/* In an inet chain, network-header offsets mean nothing until the family is known. */
static void m_ipv4(struct rb *rb)
{
        uint8_t proto = NFPROTO_IPV4;

        x_meta(rb, NFT_META_NFPROTO);
        x_cmp(rb, NFT_CMP_EQ, &proto, sizeof(proto));
}

/* @off: 12 source, 16 destination. Byte-aligned prefixes load only their bytes, the way nft
 * does, so `nft list` prints them back as the same prefix. */
static void m_addr(struct rb *rb, uint32_t off, struct in_addr net, unsigned prefix,
                   enum nft_cmp_ops op)
{
        uint32_t mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
        uint32_t a = net.s_addr & mask;

        if (prefix % 8 == 0) {
                x_payload(rb, NFT_PAYLOAD_NETWORK_HEADER, off, prefix / 8);
                x_cmp(rb, op, &a, prefix / 8);
                return;
        }
        x_payload(rb, NFT_PAYLOAD_NETWORK_HEADER, off, sizeof(a));
        x_and(rb, &mask, sizeof(mask));
        x_cmp(rb, op, &a, sizeof(a));
}

static void m_l4proto(struct rb *rb, uint8_t proto)
{
        x_meta(rb, NFT_META_L4PROTO);
        x_cmp(rb, NFT_CMP_EQ, &proto, sizeof(proto));
}

static void m_dport(struct rb *rb, uint8_t proto, uint16_t port)
{
        uint16_t p = htons(port);

        m_l4proto(rb, proto);
        x_payload(rb, NFT_PAYLOAD_TRANSPORT_HEADER, 2, sizeof(p));
        x_cmp(rb, NFT_CMP_EQ, &p, sizeof(p));
}

static void m_ct_replies(struct rb *rb)
{
        uint32_t bits = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
        uint32_t zero = 0;
        struct nftnl_expr *e = expr_new(rb, "ct");

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
        x_and(rb, &bits, sizeof(bits));
        x_cmp(rb, NFT_CMP_NEQ, &zero, sizeof(zero));
}

/* icmpx: one reject that answers IPv4 and IPv6 alike, as `reject with icmpx
 * admin-prohibited` does. */
static void x_reject(struct rb *rb)
{
        struct nftnl_expr *e = expr_new(rb, "reject");

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH);
        nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, NFT_REJECT_ICMPX_ADMIN_PROHIBITED);
}

/* Source ports 1024-65535 for tcp/udp keep guests' connections off the host's privileged
 * ports, as libvirt does. */
static void x_masq(struct rb *rb, bool ports)
{
        uint16_t lo = htons(1024), hi = htons(65535);
        struct nftnl_expr *e;

        if (ports) {
                x_imm_data(rb, NFT_REG_1, &lo, sizeof(lo));
                x_imm_data(rb, NFT_REG_2, &hi, sizeof(hi));
        }
        e = expr_new(rb, "masq");
        if (!e || !ports)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_MASQ_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
        nftnl_expr_set_u32(e, NFTNL_EXPR_MASQ_REG_PROTO_MIN, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_MASQ_REG_PROTO_MAX, NFT_REG_2);
}

/* ---- the skeleton ---- */

/* `oifname @dhcp_csum udp dport 68 udp checksum set 0`, in the expressions nft makes of it.
 * The checksum field is written last, so it ends up 0 whatever the INET fix-up (which nft
 * asks for with any udp field) did to it. On a packet whose checksum is left to offload
 * (CHECKSUM_PARTIAL) the kernel skips the fix-up and writes only the field; if such a packet
 * then leaves through a port without checksum offload, the kernel completes it from that 0
 * and the guest gets a wrong checksum (nft cannot tell partial packets apart). */
static int csum_rule(struct vnet_nft_batch *b)
{
        const uint16_t zero = 0;
        struct rb rb = { .b = b, .chain = CSUM_CHAIN };

        rule_begin(&rb);
        x_meta(&rb, NFT_META_OIFNAME);
        m_in_set(&rb, CSUM_SET);
        m_dport(&rb, IPPROTO_UDP, 68); /* bootpc: replies to the client */
        x_imm_data(&rb, NFT_REG_1, &zero, sizeof(zero));
        x_payload_write(&rb, 6, sizeof(zero), 6);
        rule_end(&rb);
        return rb.err;
}

int vnet_nft_batch_rebuild(struct vnet_nft_batch *b)
{
        size_t len0 = b->len, n0 = b->n_msg;
        struct rb rb = { .b = b };
        int r;

        r = put_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE);
        if (r == 0)
                r = put_table(b, NFT_MSG_DELTABLE, 0);
        if (r == 0)
                r = put_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE);
        for (unsigned m = 0; r == 0 && m < _MAP_MAX; m++)
                r = put_set(b, maps[m].set, true, m + 1);
        if (r == 0)
                r = put_set(b, CSUM_SET, false, CSUM_SET_ID);
        for (size_t i = 0; r == 0 && i < sizeof(base_chains) / sizeof(base_chains[0]); i++) {
                r = put_chain(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, base_chains[i].name,
                              base_chains[i].type, base_chains[i].hook, base_chains[i].prio);
                rb.chain = base_chains[i].name;
                for (unsigned v = 0; r == 0 && v < base_chains[i].n_vmap; v++) {
                        rule_begin(&rb);
                        x_vmap(&rb, base_chains[i].vmap[v].key, base_chains[i].vmap[v].map);
                        rule_end(&rb);
                        r = rb.err;
                }
        }
        if (r == 0)
                r = put_chain(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, CSUM_CHAIN, "filter",
                              NF_INET_POST_ROUTING, CSUM_PRIO);
        if (r == 0)
                r = csum_rule(b);
        if (r < 0)
                batch_rollback(b, len0, n0);
        return r;
}

/* ---- networks ---- */

static unsigned mode_maps(enum vnet_mode mode)
{
        const unsigned filter = 1u << MAP_TO | 1u << MAP_FROM | 1u << MAP_IN;

        switch (mode) {
        case VNET_MODE_NAT:
                return filter | 1u << MAP_NAT;
        case VNET_MODE_ROUTED:
        case VNET_MODE_ISOLATED:
                return filter;
        case VNET_MODE_OPEN:
        case _VNET_MODE_MAX:
                break;
        }
        return 0;
}

/* DHCP needs an address to serve from; open mode wants nothing of ours. */
static bool wants_csum(const struct vnet_nft_net *n)
{
        return n->mode != VNET_MODE_OPEN && n->ipv4.prefix != 0 && !n->keep_dhcp_checksum;
}

/* The model validated these; this only keeps a bad caller from building a wrong batch. */
static int net_check(const struct vnet_nft_net *n)
{
        size_t nl, bl;

        if (!n || !n->name || !n->bridge || (unsigned)n->mode >= _VNET_MODE_MAX)
                return -EINVAL;
        nl = strlen(n->name);
        bl = strlen(n->bridge);
        if (nl == 0 || nl > VNET_NAME_MAX || bl == 0 || bl > VNET_IFNAME_MAX)
                return -EINVAL;
        if (n->ipv4.prefix > 32)
                return -EINVAL;
        if ((n->mode == VNET_MODE_NAT || n->mode == VNET_MODE_ROUTED) && n->ipv4.prefix == 0)
                return -EINVAL;
        return 0;
}

static void chain_name(char *buf, const struct vnet_nft_net *n, enum map m)
{
        snprintf(buf, CHAIN_NAME_MAX, "net-%s-%s", n->name, maps[m].suffix);
}

static int net_rules(struct vnet_nft_batch *b, const struct vnet_nft_net *n, enum map m,
                     const char *chain)
{
        const struct in_addr mcast = { .s_addr = htonl(0xe0000000) }; /* 224.0.0.0/24 */
        const struct in_addr bcast = { .s_addr = htonl(0xffffffff) };
        const struct in_addr sub = n->ipv4.addr;
        const unsigned plen = n->ipv4.prefix;
        const bool routes = n->mode == VNET_MODE_NAT || n->mode == VNET_MODE_ROUTED;
        struct rb rb = { .b = b, .chain = chain };

        switch (m) {
        case MAP_TO:
                /* What the destination's network allows returns, so that the source's network
                 * (MAP_FROM, the next rule of the forward chain) decides too: an accept here
                 * would let an isolated guest's packets into a routed network. Only what
                 * both allow reaches the chain's policy, accept. With br_netfilter,
                 * guest-to-guest frames on one bridge come here too. */
                rule_begin(&rb);
                m_ifname(&rb, NFT_META_IIFNAME, n->bridge);
                x_verdict(&rb, NFT_RETURN, NULL);
                rule_end(&rb);
                if (routes) {
                        rule_begin(&rb);
                        m_ipv4(&rb);
                        m_addr(&rb, 16, sub, plen, NFT_CMP_EQ);
                        if (n->mode == VNET_MODE_NAT)
                                m_ct_replies(&rb);
                        x_verdict(&rb, NFT_RETURN, NULL);
                        rule_end(&rb);
                }
                rule_begin(&rb);
                x_reject(&rb);
                rule_end(&rb);
                break;
        case MAP_FROM:
                rule_begin(&rb);
                m_ifname(&rb, NFT_META_OIFNAME, n->bridge);
                x_verdict(&rb, NFT_RETURN, NULL);
                rule_end(&rb);
                if (routes) {
                        rule_begin(&rb);
                        m_ipv4(&rb);
                        m_addr(&rb, 12, sub, plen, NFT_CMP_EQ);
                        x_verdict(&rb, NFT_RETURN, NULL);
                        rule_end(&rb);
                }
                rule_begin(&rb);
                x_reject(&rb);
                rule_end(&rb);
                break;
        case MAP_IN: {
                static const struct {
                        uint8_t proto;
                        uint16_t port;
                } open_ports[] = { { IPPROTO_UDP, 67 }, { IPPROTO_UDP, 53 }, { IPPROTO_TCP, 53 } };

                for (size_t i = 0; i < sizeof(open_ports) / sizeof(open_ports[0]); i++) {
                        rule_begin(&rb);
                        m_dport(&rb, open_ports[i].proto, open_ports[i].port);
                        x_verdict(&rb, NF_ACCEPT, NULL);
                        rule_end(&rb);
                }
                break;
        }
        case MAP_NAT:
                rule_begin(&rb);
                m_ipv4(&rb);
                m_addr(&rb, 12, sub, plen, NFT_CMP_EQ);
                m_addr(&rb, 16, mcast, 24, NFT_CMP_EQ);
                x_verdict(&rb, NFT_RETURN, NULL);
                rule_end(&rb);

                rule_begin(&rb);
                m_ipv4(&rb);
                m_addr(&rb, 12, sub, plen, NFT_CMP_EQ);
                m_addr(&rb, 16, bcast, 32, NFT_CMP_EQ);
                x_verdict(&rb, NFT_RETURN, NULL);
                rule_end(&rb);

                for (int i = 0; i < 3; i++) {
                        static const uint8_t proto[2] = { IPPROTO_TCP, IPPROTO_UDP };

                        rule_begin(&rb);
                        m_ipv4(&rb);
                        m_addr(&rb, 12, sub, plen, NFT_CMP_EQ);
                        m_addr(&rb, 16, sub, plen, NFT_CMP_NEQ);
                        if (i < 2)
                                m_l4proto(&rb, proto[i]);
                        x_masq(&rb, i < 2);
                        rule_end(&rb);
                }
                break;
        case _MAP_MAX:
                break;
        }
        return rb.err;
}

int vnet_nft_batch_add_network(struct vnet_nft_batch *b, const struct vnet_nft_net *n)
{
        size_t len0 = b->len, n0 = b->n_msg;
        char chain[CHAIN_NAME_MAX];
        unsigned want;
        int r;

        r = net_check(n);
        if (r < 0)
                return r;
        want = mode_maps(n->mode);
        /* chains and their rules first: the elements jump to them */
        for (unsigned m = 0; r == 0 && m < _MAP_MAX; m++) {
                if (!(want & 1u << m))
                        continue;
                chain_name(chain, n, m);
                r = put_chain(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, chain, NULL, 0, 0);
                if (r == 0)
                        r = net_rules(b, n, m, chain);
        }
        for (unsigned m = 0; r == 0 && m < _MAP_MAX; m++) {
                if (!(want & 1u << m))
                        continue;
                chain_name(chain, n, m);
                r = put_elem(b, maps[m].set, n->bridge, true, chain);
        }
        if (r == 0 && wants_csum(n))
                r = put_elem(b, CSUM_SET, n->bridge, true, NULL);
        if (r < 0)
                batch_rollback(b, len0, n0);
        return r;
}

int vnet_nft_batch_del_network(struct vnet_nft_batch *b, const struct vnet_nft_net *n)
{
        size_t len0 = b->len, n0 = b->n_msg;
        char chain[CHAIN_NAME_MAX];
        unsigned want;
        int r;

        r = net_check(n);
        if (r < 0)
                return r;
        want = mode_maps(n->mode);
        /* elements first: a chain that a map still jumps to cannot be deleted */
        for (unsigned m = 0; r == 0 && m < _MAP_MAX; m++)
                if (want & 1u << m)
                        r = put_elem(b, maps[m].set, n->bridge, false, NULL);
        if (r == 0 && wants_csum(n))
                r = put_elem(b, CSUM_SET, n->bridge, false, NULL);
        for (unsigned m = 0; r == 0 && m < _MAP_MAX; m++) {
                if (!(want & 1u << m))
                        continue;
                chain_name(chain, n, m);
                r = flush_chain(b, chain);
                if (r == 0)
                        r = put_chain(b, NFT_MSG_DELCHAIN, 0, chain, NULL, 0, 0);
        }
        if (r < 0)
                batch_rollback(b, len0, n0);
        return r;
}

/* ---- the socket ---- */

int vnet_nft_open(struct vnet_nft **ret)
{
        struct vnet_nft *nft = calloc(1, sizeof(*nft));
        int one = 1, r;

        if (!nft)
                return -ENOMEM;
        nft->nl = mnl_socket_open(NETLINK_NETFILTER);
        if (!nft->nl || mnl_socket_bind(nft->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                r = -errno;
                goto fail;
        }
        /* Acks of failed messages would otherwise echo the whole message back; we only
         * need the error. Older kernels lack the option, which costs only buffer space. */
        (void)mnl_socket_setsockopt(nft->nl, NETLINK_CAP_ACK, &one, sizeof(one));
        nft->portid = mnl_socket_get_portid(nft->nl);
        *ret = nft;
        return 0;
fail:
        if (nft->nl)
                mnl_socket_close(nft->nl);
        free(nft);
        return r;
}

void vnet_nft_close(struct vnet_nft *nft)
{
        if (!nft)
                return;
        mnl_socket_close(nft->nl);
        free(nft);
}

/* The whole batch goes in one sendmsg (the kernel treats a batch split over two as
 * unterminated) and all its acks are queued before sendmsg returns, so both buffers must
 * hold a whole batch. FORCE passes the system maxima, which are far too small for a
 * rebuild with hundreds of networks; it needs CAP_NET_ADMIN, which nf_tables needs anyway. */
static int sock_buf_grow(struct vnet_nft *nft, int force_opt, int opt, int *have, size_t want)
{
        int fd = mnl_socket_get_fd(nft->nl), v;

        if (want <= (size_t)*have)
                return 0;
        if (want > INT_MAX / 2)
                return -EMSGSIZE;
        v = (int)want;
        if (setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof(v)) < 0 &&
            setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)) < 0)
                return -errno;
        *have = v;
        return 0;
}

/* Leftovers of an earlier exchange that ended early would be taken for our answers. */
static void sock_drain(struct vnet_nft *nft)
{
        int fd = mnl_socket_get_fd(nft->nl);

        while (recv(fd, nft->rbuf, sizeof(nft->rbuf), MSG_DONTWAIT) > 0 || errno == EINTR)
                ;
}

static bool seq_in(uint32_t seq, uint32_t first, uint32_t last)
{
        return seq - first <= last - first; /* unsigned: right across wrap-around */
}

int vnet_nft_commit(struct vnet_nft *nft, struct vnet_nft_batch *b)
{
        struct nlmsghdr *nlh;
        uint32_t first, last;
        size_t len, acks = 0;
        int fd, r, err = 0;
        int left;

        if (b->n_msg == 0)
                return 0;
        vnet_nft_batch_data(b, &len);
        if (len > INT_MAX)
                return -EMSGSIZE;
        /* numbered here, not while building, so one batch can go to any socket, or twice */
        first = nft->seq + 1;
        left = (int)len;
        for (nlh = (struct nlmsghdr *)b->buf; mnl_nlmsg_ok(nlh, left);
             nlh = mnl_nlmsg_next(nlh, &left))
                nlh->nlmsg_seq = ++nft->seq;
        last = nft->seq;

        r = sock_buf_grow(nft, SO_SNDBUFFORCE, SO_SNDBUF, &nft->sndbuf, len + 4096);
        if (r == 0)
                r = sock_buf_grow(nft, SO_RCVBUFFORCE, SO_RCVBUF, &nft->rcvbuf,
                                  b->n_msg * ACK_TRUESIZE + 65536);
        if (r < 0)
                return r;
        sock_drain(nft);
        if (mnl_socket_sendto(nft->nl, b->buf, len) < 0)
                return -errno;

        /* nfnetlink handles the batch inside sendmsg, so every ack is queued by now: read
         * without waiting, and a missing ack cannot hang us. */
        fd = mnl_socket_get_fd(nft->nl);
        while (acks < b->n_msg) {
                ssize_t n = recv(fd, nft->rbuf, sizeof(nft->rbuf), MSG_DONTWAIT);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        /* EAGAIN: the kernel gave up on the batch as a whole (ENOMEM, or an
                         * error on the begin message) */
                        r = errno == EAGAIN ? -EPROTO : -errno;
                        break;
                }
                left = (int)n;
                for (nlh = (struct nlmsghdr *)nft->rbuf; mnl_nlmsg_ok(nlh, left);
                     nlh = mnl_nlmsg_next(nlh, &left)) {
                        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

                        if (nlh->nlmsg_type != NLMSG_ERROR || !seq_in(nlh->nlmsg_seq, first, last))
                                continue;
                        if (e->error < 0 && err == 0)
                                err = e->error;
                        if (nlh->nlmsg_seq != first && nlh->nlmsg_seq != last)
                                acks++;
                }
        }
        return err ? err : r;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
        if ((nlh->nlmsg_type & 0xff) == NFT_MSG_NEWTABLE)
                *(bool *)data = true;
        return MNL_CB_OK;
}

int vnet_nft_table_exists(struct vnet_nft *nft)
{
        char req[256];
        struct nftnl_table *t = nftnl_table_alloc();
        struct nlmsghdr *nlh;
        bool found = false;
        uint32_t seq;
        int r = -ENOMEM;

        if (!t || nftnl_table_set_str(t, NFTNL_TABLE_NAME, VNET_NFT_TABLE) < 0)
                goto out;
        seq = ++nft->seq;
        nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, seq);
        nftnl_table_nlmsg_build_payload(nlh, t);
        sock_drain(nft);
        if (mnl_socket_sendto(nft->nl, nlh, nlh->nlmsg_len) < 0) {
                r = -errno;
                goto out;
        }
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nft->nl, nft->rbuf, sizeof(nft->rbuf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        goto out;
                }
                r = mnl_cb_run(nft->rbuf, (size_t)n, seq, nft->portid, table_cb, &found);
                if (r == MNL_CB_ERROR) {
                        r = errno == ENOENT ? 0 : -errno;
                        goto out;
                }
                if (r == MNL_CB_STOP)
                        break;
        }
        r = found ? 1 : 0;
out:
        if (t)
                nftnl_table_free(t);
        return r;
}

/* ---- verify ----
 * The table and the batch that would make it are both brought to one canonical form: a
 * line per object, without handles and positions, sorted, so that the kernel's order (hash
 * sets, chain lists) does not matter. Rules keep their place in their chain: each rule line
 * carries its index there. The same parser reads the batch and the dump, so the two sides
 * can only differ where the objects do. */

struct cline {
        char *key;    /* "r CHAIN" for rules, the whole line for other objects */
        char *text;   /* a rule's expressions; "" otherwise */
        size_t order; /* arrival, so a chain's rules keep their order through the sort */
        size_t idx;   /* place among the lines with the same key */
};

struct canon {
        struct cline *v;
        size_t n, cap;
        size_t order;
        bool table;
        uint32_t table_flags;
        char (*sets)[NFT_SET_MAXNAMELEN]; /* names seen in NEWSET, for the element dumps */
        size_t n_sets, cap_sets;
        int err;
};

static void canon_clear(struct canon *c)
{
        for (size_t i = 0; i < c->n; i++)
                free(c->v[i].key);
        c->n = 0;
        c->n_sets = 0;
        c->table = false;
        c->table_flags = 0;
}

static void canon_free(struct canon *c)
{
        canon_clear(c);
        free(c->v);
        free(c->sets);
}

/* The line's key and text live in one allocation. */
static void canon_add(struct canon *c, const char *key, const char *text)
{
        size_t kl = strlen(key), tl = strlen(text);
        char *p;

        if (c->err)
                return;
        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 256;
                struct cline *v = realloc(c->v, cap * sizeof(*v));

                if (!v) {
                        c->err = -ENOMEM;
                        return;
                }
                c->v = v;
                c->cap = cap;
        }
        p = malloc(kl + tl + 2);
        if (!p) {
                c->err = -ENOMEM;
                return;
        }
        memcpy(p, key, kl + 1);
        memcpy(p + kl + 1, text, tl + 1);
        c->v[c->n++] = (struct cline){ .key = p, .text = p + kl + 1, .order = c->order++ };
}

static void canon_add_set_name(struct canon *c, const char *name)
{
        if (c->err)
                return;
        if (c->n_sets == c->cap_sets) {
                size_t cap = c->cap_sets ? c->cap_sets * 2 : 8;
                char(*v)[NFT_SET_MAXNAMELEN] = realloc(c->sets, cap * sizeof(*v));

                if (!v) {
                        c->err = -ENOMEM;
                        return;
                }
                c->sets = v;
                c->cap_sets = cap;
        }
        snprintf(c->sets[c->n_sets++], NFT_SET_MAXNAMELEN, "%s", name);
}

static void hex(char *out, size_t size, const void *data, uint32_t len)
{
        const uint8_t *d = data;
        size_t o = 0;

        out[0] = '\0';
        for (uint32_t i = 0; i < len && o + 3 <= size; i++)
                o += (size_t)snprintf(out + o, size - o, "%02x", d[i]);
}

static uint32_t elem_u32(struct nftnl_set_elem *e, uint16_t attr)
{
        uint32_t len = 0;
        const void *p = nftnl_set_elem_get(e, attr, &len);
        uint32_t v = 0;

        if (p && len == sizeof(v))
                memcpy(&v, p, sizeof(v));
        return v;
}

static bool ours(const char *table)
{
        return table && strcmp(table, VNET_NFT_TABLE) == 0;
}

struct expr_buf {
        char *p;
        size_t len, cap;
        int err;
};

static int expr_cb(struct nftnl_expr *e, void *data)
{
        struct expr_buf *eb = data;
        int k;

        /* the kernel reports lookup flags even when 0, and libnftnl prints them only if
         * present: what we send and what we read back must print alike */
        if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "lookup") == 0 &&
            !nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS))
                nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, 0);

        for (;;) {
                size_t room = eb->cap - eb->len;

                if (room > 1) {
                        k = snprintf(eb->p + eb->len, room, "[%s ",
                                     nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
                        if (k >= 0 && (size_t)k < room) {
                                int k2 = nftnl_expr_snprintf(eb->p + eb->len + k, room - k, e,
                                                             NFTNL_OUTPUT_DEFAULT, 0);

                                if (k2 >= 0 && (size_t)(k + k2 + 2) < room) {
                                        eb->len += (size_t)(k + k2);
                                        eb->p[eb->len++] = ']';
                                        eb->p[eb->len] = '\0';
                                        return MNL_CB_OK;
                                }
                        }
                }
                {
                        size_t cap = eb->cap ? eb->cap * 2 : 1024;
                        char *p = realloc(eb->p, cap);

                        if (!p || cap > (1u << 20)) {
                                if (p)
                                        eb->p = p;
                                eb->err = -ENOMEM;
                                return MNL_CB_ERROR;
                        }
                        eb->p = p;
                        eb->cap = cap;
                        eb->p[eb->len] = '\0';
                }
        }
}

static void canon_table(struct canon *c, const struct nlmsghdr *nlh, bool del)
{
        struct nftnl_table *t = nftnl_table_alloc();

        if (!t) {
                c->err = -ENOMEM;
                return;
        }
        if (nftnl_table_nlmsg_parse(nlh, t) < 0)
                c->err = -EPROTO;
        else if (ours(nftnl_table_get_str(t, NFTNL_TABLE_NAME))) {
                /* the batch deletes the table before it makes it again: start over */
                canon_clear(c);
                if (!del) {
                        c->table = true;
                        c->table_flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS);
                }
        }
        nftnl_table_free(t);
}

static void canon_chain(struct canon *c, const struct nlmsghdr *nlh)
{
        struct nftnl_chain *ch = nftnl_chain_alloc();
        char line[256];

        if (!ch) {
                c->err = -ENOMEM;
                return;
        }
        if (nftnl_chain_nlmsg_parse(nlh, ch) < 0) {
                c->err = -EPROTO;
        } else if (ours(nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE))) {
                int k = snprintf(line, sizeof(line), "c %s",
                                 nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME));

                if (nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM) && k > 0 &&
                    (size_t)k < sizeof(line))
                        snprintf(line + k, sizeof(line) - k, " type %s hook %u prio %d policy %u",
                                 nftnl_chain_is_set(ch, NFTNL_CHAIN_TYPE)
                                         ? nftnl_chain_get_str(ch, NFTNL_CHAIN_TYPE)
                                         : "-",
                                 nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM),
                                 nftnl_chain_get_s32(ch, NFTNL_CHAIN_PRIO),
                                 nftnl_chain_get_u32(ch, NFTNL_CHAIN_POLICY));
                canon_add(c, line, "");
        }
        nftnl_chain_free(ch);
}

static void canon_rule(struct canon *c, const struct nlmsghdr *nlh)
{
        struct nftnl_rule *ru = nftnl_rule_alloc();
        struct expr_buf eb = { 0 };
        char key[CHAIN_NAME_MAX + 64];

        if (!ru) {
                c->err = -ENOMEM;
                return;
        }
        if (nftnl_rule_nlmsg_parse(nlh, ru) < 0) {
                c->err = -EPROTO;
        } else if (ours(nftnl_rule_get_str(ru, NFTNL_RULE_TABLE))) {
                snprintf(key, sizeof(key), "r %s", nftnl_rule_get_str(ru, NFTNL_RULE_CHAIN));
                if (nftnl_expr_foreach(ru, expr_cb, &eb) < 0 || eb.err)
                        c->err = eb.err ? eb.err : -EPROTO;
                else
                        canon_add(c, key, eb.p ? eb.p : "");
        }
        free(eb.p);
        nftnl_rule_free(ru);
}

static void canon_set(struct canon *c, const struct nlmsghdr *nlh)
{
        struct nftnl_set *s = nftnl_set_alloc();
        char line[256];

        if (!s) {
                c->err = -ENOMEM;
                return;
        }
        if (nftnl_set_nlmsg_parse(nlh, s) < 0) {
                c->err = -EPROTO;
        } else if (ours(nftnl_set_get_str(s, NFTNL_SET_TABLE))) {
                const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);
                uint32_t dtype = nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE);

                /* a verdict's length is the kernel's business: it reports its own */
                snprintf(line, sizeof(line), "s %s flags 0x%x key %u/%u data %u/%u", name,
                         nftnl_set_get_u32(s, NFTNL_SET_FLAGS),
                         nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE),
                         nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN),
                         dtype,
                         dtype == NFT_DATA_VERDICT ? 0 : nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN));
                canon_add(c, line, "");
                canon_add_set_name(c, name);
        }
        nftnl_set_free(s);
}

static void canon_elems(struct canon *c, const struct nlmsghdr *nlh)
{
        struct nftnl_set *s = nftnl_set_alloc();
        struct nftnl_set_elems_iter *it = NULL;
        struct nftnl_set_elem *e;
        char line[512], key[2 * 64 + 1], data[2 * 64 + 1];

        if (!s) {
                c->err = -ENOMEM;
                return;
        }
        if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
                c->err = -EPROTO;
                goto out;
        }
        if (!ours(nftnl_set_get_str(s, NFTNL_SET_TABLE)))
                goto out;
        it = nftnl_set_elems_iter_create(s);
        if (!it) {
                c->err = -ENOMEM;
                goto out;
        }
        while ((e = nftnl_set_elems_iter_next(it))) {
                uint32_t len = 0;
                const void *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

                hex(key, sizeof(key), k, k ? len : 0);
                data[0] = '\0';
                if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_DATA)) {
                        const void *d = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &len);

                        hex(data, sizeof(data), d, d ? len : 0);
                }
                snprintf(line, sizeof(line), "e %s %s flags 0x%x verdict %s%d %s data %s",
                         nftnl_set_get_str(s, NFTNL_SET_NAME), key,
                         elem_u32(e, NFTNL_SET_ELEM_FLAGS),
                         nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT) ? "" : "-",
                         (int)elem_u32(e, NFTNL_SET_ELEM_VERDICT),
                         nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN)
                                 ? nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN)
                                 : "-",
                         data);
                canon_add(c, line, "");
        }
out:
        if (it)
                nftnl_set_elems_iter_destroy(it);
        nftnl_set_free(s);
}

/* One message of a batch (as we build them) or of a dump. Anything that is not a plain
 * "new object" cannot be part of what we compare. */
static void canon_msg(struct canon *c, const struct nlmsghdr *nlh)
{
        if (c->err)
                return;
        if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN || nlh->nlmsg_type == NFNL_MSG_BATCH_END)
                return;
        if (nlh->nlmsg_type >> 8 != NFNL_SUBSYS_NFTABLES) {
                c->err = -EPROTO;
                return;
        }
        switch (nlh->nlmsg_type & 0xff) {
        case NFT_MSG_NEWTABLE:
                canon_table(c, nlh, false);
                break;
        case NFT_MSG_DELTABLE:
                canon_table(c, nlh, true);
                break;
        case NFT_MSG_NEWCHAIN:
                canon_chain(c, nlh);
                break;
        case NFT_MSG_NEWRULE:
                canon_rule(c, nlh);
                break;
        case NFT_MSG_NEWSET:
                canon_set(c, nlh);
                break;
        case NFT_MSG_NEWSETELEM:
                canon_elems(c, nlh);
                break;
        default:
                /* nlmsg_type is not an enum here: other types are outside the comparison */
                c->err = -EPROTO;
                break;
        }
}

static int cline_cmp(const void *a, const void *b)
{
        const struct cline *x = a, *y = b;
        int r = strcmp(x->key, y->key);

        if (r)
                return r;
        return (x->order > y->order) - (x->order < y->order);
}

/* Sorted by key and arrival; a line's index is its place among those with its key. */
static void canon_finish(struct canon *c)
{
        if (c->n)
                qsort(c->v, c->n, sizeof(*c->v), cline_cmp);
        for (size_t i = 0; i < c->n; i++)
                c->v[i].idx = i && strcmp(c->v[i].key, c->v[i - 1].key) == 0 ? c->v[i - 1].idx + 1
                                                                              : 0;
}

static bool canon_equal(struct canon *a, struct canon *b)
{
        canon_finish(a);
        canon_finish(b);
        if (a->table != b->table || a->table_flags != b->table_flags || a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (a->v[i].idx != b->v[i].idx || strcmp(a->v[i].key, b->v[i].key) != 0 ||
                    strcmp(a->v[i].text, b->v[i].text) != 0)
                        return false;
        return true;
}

static void canon_stream(struct canon *c, const void *data, size_t len)
{
        const struct nlmsghdr *nlh = data;
        int left = len > INT_MAX ? INT_MAX : (int)len;

        for (; !c->err && mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
                canon_msg(c, nlh);
        if (!c->err && left != 0)
                c->err = -EPROTO;
}

int vnet_nft_compare(const void *want, size_t want_len, const void *have, size_t have_len)
{
        struct canon a = { 0 }, b = { 0 };
        int r;

        canon_stream(&a, want, want_len);
        canon_stream(&b, have, have_len);
        r = a.err ? a.err : b.err;
        if (r == 0)
                r = canon_equal(&a, &b) ? 1 : 0;
        canon_free(&a);
        canon_free(&b);
        return r;
}

/* The batch that rebuild + add_network of @nets would send, in canonical form. */
static int canon_want(struct canon *c, const struct vnet_nft_net *nets, size_t n)
{
        struct vnet_nft_batch *b = NULL;
        const void *data;
        size_t len;
        int r;

        r = vnet_nft_batch_new(&b);
        if (r == 0)
                r = vnet_nft_batch_rebuild(b);
        for (size_t i = 0; r == 0 && i < n; i++)
                r = vnet_nft_batch_add_network(b, &nets[i]);
        if (r == 0) {
                data = vnet_nft_batch_data(b, &len);
                canon_stream(c, data, len);
                r = c->err;
        }
        vnet_nft_batch_free(b);
        return r;
}

struct dump_ctx {
        struct canon *c;
        uint32_t gen;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
        struct dump_ctx *d = data;

        if ((nlh->nlmsg_type & 0xff) == NFT_MSG_NEWGEN) {
                struct nftnl_gen *g = nftnl_gen_alloc();

                if (!g) {
                        d->c->err = -ENOMEM;
                        return MNL_CB_ERROR;
                }
                if (nftnl_gen_nlmsg_parse(nlh, g) == 0)
                        d->gen = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
                nftnl_gen_free(g);
                return MNL_CB_OK;
        }
        canon_msg(d->c, nlh);
        return d->c->err ? MNL_CB_ERROR : MNL_CB_OK;
}

/* Sends the request @nlh (a get or a dump) and feeds every answer to dump_cb. */
static int request(struct vnet_nft *nft, struct nlmsghdr *nlh, struct dump_ctx *d)
{
        uint32_t seq = ++nft->seq;
        int r;

        nlh->nlmsg_seq = seq;
        sock_drain(nft);
        if (mnl_socket_sendto(nft->nl, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nft->nl, nft->rbuf, sizeof(nft->rbuf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                errno = 0;
                r = mnl_cb_run(nft->rbuf, (size_t)n, seq, nft->portid, dump_cb, d);
                if (r == MNL_CB_ERROR)
                        return d->c->err ? d->c->err : (errno ? -errno : -EPROTO);
                if (r == MNL_CB_STOP)
                        return 0;
        }
}

/* Object requests name the table: the kernel then dumps only ours (chains it dumps per
 * family, so canon_msg skips other tables' chains itself). */
static int dump_kind(struct vnet_nft *nft, struct dump_ctx *d, uint16_t type, const char *set)
{
        char req[512];
        struct nlmsghdr *nlh;
        uint16_t flags = type == NFT_MSG_GETTABLE || type == NFT_MSG_GETGEN ? NLM_F_ACK
                                                                            : NLM_F_DUMP;
        int r = -ENOMEM;

        nlh = nftnl_nlmsg_build_hdr(req, type, type == NFT_MSG_GETGEN ? AF_UNSPEC : NFPROTO_INET,
                                    flags, 0);
        switch (type) {
        case NFT_MSG_GETTABLE: {
                struct nftnl_table *t = nftnl_table_alloc();

                if (!t || nftnl_table_set_str(t, NFTNL_TABLE_NAME, VNET_NFT_TABLE) < 0)
                        goto table_out;
                nftnl_table_nlmsg_build_payload(nlh, t);
                r = 0;
table_out:
                if (t)
                        nftnl_table_free(t);
                break;
        }
        case NFT_MSG_GETRULE: {
                struct nftnl_rule *ru = nftnl_rule_alloc();

                if (!ru || nftnl_rule_set_str(ru, NFTNL_RULE_TABLE, VNET_NFT_TABLE) < 0)
                        goto rule_out;
                nftnl_rule_nlmsg_build_payload(nlh, ru);
                r = 0;
rule_out:
                if (ru)
                        nftnl_rule_free(ru);
                break;
        }
        case NFT_MSG_GETSET:
        case NFT_MSG_GETSETELEM: {
                struct nftnl_set *s = nftnl_set_alloc();

                if (!s || nftnl_set_set_str(s, NFTNL_SET_TABLE, VNET_NFT_TABLE) < 0 ||
                    (set && nftnl_set_set_str(s, NFTNL_SET_NAME, set) < 0))
                        goto set_out;
                if (type == NFT_MSG_GETSET)
                        nftnl_set_nlmsg_build_payload(nlh, s);
                else
                        nftnl_set_elems_nlmsg_build_payload(nlh, s);
                r = 0;
set_out:
                if (s)
                        nftnl_set_free(s);
                break;
        }
        default: /* GETCHAIN (all of the family) and GETGEN have no payload */
                r = 0;
                break;
        }
        if (r == 0)
                r = request(nft, nlh, d);
        return r;
}

/* The table as it is, in canonical form; -ENOENT if there is none. @gen: the ruleset
 * generation before the first dump. */
static int canon_have(struct vnet_nft *nft, struct canon *c, uint32_t *gen)
{
        struct dump_ctx d = { .c = c };
        int r;

        r = dump_kind(nft, &d, NFT_MSG_GETGEN, NULL);
        *gen = d.gen;
        if (r == 0)
                r = dump_kind(nft, &d, NFT_MSG_GETTABLE, NULL);
        if (r == 0)
                r = dump_kind(nft, &d, NFT_MSG_GETCHAIN, NULL);
        if (r == 0)
                r = dump_kind(nft, &d, NFT_MSG_GETSET, NULL);
        if (r == 0)
                r = dump_kind(nft, &d, NFT_MSG_GETRULE, NULL);
        /* canon_add_set_name grows c->sets while we walk it: index, never a pointer */
        for (size_t i = 0, n_sets = c->n_sets; r == 0 && i < n_sets; i++) {
                char name[NFT_SET_MAXNAMELEN];

                snprintf(name, sizeof(name), "%s", c->sets[i]);
                r = dump_kind(nft, &d, NFT_MSG_GETSETELEM, name);
        }
        return r;
}

static uint32_t current_gen(struct vnet_nft *nft, int *r)
{
        struct canon c = { 0 };
        struct dump_ctx d = { .c = &c };

        *r = dump_kind(nft, &d, NFT_MSG_GETGEN, NULL);
        canon_free(&c);
        return d.gen;
}

int vnet_nft_verify(struct vnet_nft *nft, const struct vnet_nft_net *nets, size_t n)
{
        struct canon want = { 0 }, have = { 0 };
        uint32_t gen0, gen1 = 0;
        int r;

        r = canon_want(&want, nets, n);
        /* The dumps are separate reads: a change between them (someone else's transaction)
         * would show a table that never was. Read again then. */
        for (int tries = 0; r == 0; tries++) {
                canon_clear(&have);
                r = canon_have(nft, &have, &gen0);
                if (r == -ENOENT) {
                        r = 0; /* no table: differs */
                        goto out;
                }
                if (r == 0)
                        gen1 = current_gen(nft, &r);
                if (r < 0 || gen1 == gen0)
                        break;
                if (tries == 3)
                        r = -EAGAIN;
        }
        if (r == 0)
                r = canon_equal(&want, &have) ? 1 : 0;
out:
        canon_free(&want);
        canon_free(&have);
        return r;
}
