/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Links, bridges, addresses and routes over rtnetlink (libnl-route-3).
 *
 * Requests go through link_call(), which waits for exactly the answer it asked for and keeps
 * the kernel's own errno (libnl would fold it into its NLE_* codes). The bridge's
 * IFLA_INFO_DATA has no libnl 3.7 API, so RTM_NEWLINK messages are built with the message API;
 * addresses and routes use libnl-route objects. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link.h"

#ifndef IFF_LOWER_UP /* in <linux/if.h>, which clashes with <net/if.h> */
#define IFF_LOWER_UP 0x10000
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

/* Large enough for any skb the kernel builds for a dump (at most 32 KiB), so one recvmsg()
 * per datagram is enough and libnl needs no MSG_PEEK round trip. */
#define LINK_RECV_BUF 65536

struct ipv4_view;

struct vnet_link {
        struct nl_sock *sk;
        struct nl_cb *cb;
        struct ipv4_view *view; /* the host's IPv4 addresses and routes, for conflict checks */
};

enum link_wait {
        LINK_WAIT_ACK,   /* a change: NLM_F_ACK, done at the ack */
        LINK_WAIT_REPLY, /* a get: done at the one reply */
        LINK_WAIT_DUMP,  /* done at NLMSG_DONE */
};

struct link_call {
        int (*parse)(struct nl_msg *msg, void *userdata); /* 0 or -errno */
        void *userdata;
        enum link_wait wait;
        uint32_t seq;
        int error;
        bool done;
};

/* What a RTM_NEWLINK says; the bridge fields only when it carries bridge IFLA_INFO_DATA. */
struct link_state {
        struct vnet_link_info info;
        bool has_br;
        uint32_t stp_state;
        uint32_t forward_delay;
};

static int nlerr_to_errno(int err)
{
        switch (err < 0 ? -err : err) {
        case NLE_SUCCESS: return 0;
        case NLE_INTR: return -EINTR;
        case NLE_BAD_SOCK: return -EBADF;
        case NLE_AGAIN: return -EAGAIN;
        case NLE_NOMEM: return -ENOMEM;
        case NLE_EXIST: return -EEXIST;
        case NLE_INVAL:
        case NLE_MISSING_ATTR:
        case NLE_AF_MISMATCH:
        case NLE_ATTRSIZE:
                return -EINVAL;
        case NLE_RANGE: return -ERANGE;
        case NLE_MSGSIZE: return -EMSGSIZE;
        case NLE_OPNOTSUPP: return -EOPNOTSUPP;
        case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
        case NLE_OBJ_NOTFOUND: return -ENODEV;
        case NLE_NODEV: return -ENODEV;
        case NLE_NOATTR: return -ENODATA;
        case NLE_BUSY: return -EBUSY;
        case NLE_PERM: return -EPERM;
        case NLE_NOACCESS: return -EACCES;
        case NLE_NOADDR: return -EADDRNOTAVAIL;
        case NLE_DUMP_INTR: return -EAGAIN; /* the dump raced a change: worth retrying */
        case NLE_PROTO_MISMATCH: return -EPROTONOSUPPORT;
        case NLE_MSG_TRUNC:
        case NLE_MSG_TOOSHORT:
        case NLE_MSG_OVERFLOW:
        case NLE_MSGTYPE_NOSUPPORT:
        case NLE_SEQ_MISMATCH:
        case NLE_PARSE_ERR:
                return -EPROTO;
        default:
                return -EIO;
        }
}

static int call_seq_check(struct nl_msg *msg, void *arg)
{
        const struct link_call *c = arg;

        /* Anything not answering this request is a leftover of an earlier one: drop it. */
        return nlmsg_hdr(msg)->nlmsg_seq == c->seq ? NL_OK : NL_SKIP;
}

static int call_valid(struct nl_msg *msg, void *arg)
{
        struct link_call *c = arg;

        if (c->parse && c->error == 0) {
                int r = c->parse(msg, c->userdata);
                if (r < 0)
                        c->error = r;
        }
        if (c->wait == LINK_WAIT_REPLY) {
                c->done = true;
                return NL_STOP;
        }
        return NL_OK;
}

static int call_done(struct nl_msg *msg, void *arg)
{
        struct link_call *c = arg;

        (void)msg;
        c->done = true;
        return NL_STOP;
}

static int call_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
        struct link_call *c = arg;

        (void)who;
        if (c->error == 0)
                c->error = e->error;
        c->done = true;
        return NL_STOP;
}

/* Sends @msg (consumed) and receives until its answer is complete; 0 or the first -errno,
 * the kernel's own when it refused. */
static int link_call(struct vnet_link *l, struct nl_msg *msg, enum link_wait wait,
                     int (*parse)(struct nl_msg *, void *), void *userdata)
{
        struct link_call c = { .parse = parse, .userdata = userdata, .wait = wait };
        int r;

        switch (wait) {
        case LINK_WAIT_ACK:
                nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
                break;
        case LINK_WAIT_REPLY:
        case LINK_WAIT_DUMP:
                break;
        }
        nl_cb_set(l->cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, call_seq_check, &c);
        nl_cb_set(l->cb, NL_CB_VALID, NL_CB_CUSTOM, call_valid, &c);
        nl_cb_set(l->cb, NL_CB_FINISH, NL_CB_CUSTOM, call_done, &c);
        nl_cb_set(l->cb, NL_CB_ACK, NL_CB_CUSTOM, call_done, &c);
        nl_cb_err(l->cb, NL_CB_CUSTOM, call_error, &c);

        r = nl_send_auto(l->sk, msg);
        if (r < 0) {
                c.error = nlerr_to_errno(r);
                goto out;
        }
        c.seq = nlmsg_hdr(msg)->nlmsg_seq;
        while (!c.done) {
                r = nl_recvmsgs(l->sk, l->cb);
                /* A kernel error already sits in c.error; anything else is libnl's own. */
                if (r < 0 && c.error == 0)
                        c.error = nlerr_to_errno(r);
                if (c.error < 0)
                        break;
        }
out:
        nlmsg_free(msg);
        return c.error;
}

int vnet_link_open(struct vnet_link **ret)
{
        struct vnet_link *l;
        int one = 1, r;

        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->sk = nl_socket_alloc();
        l->cb = nl_cb_alloc(NL_CB_DEFAULT);
        if (!l->sk || !l->cb) {
                r = -ENOMEM;
                goto fail;
        }
        /* Acks are asked for per request: a get's reply is its own answer. */
        nl_socket_disable_auto_ack(l->sk);
        nl_socket_disable_msg_peek(l->sk);
        r = nl_socket_set_msg_buf_size(l->sk, LINK_RECV_BUF);
        if (r < 0) {
                r = nlerr_to_errno(r);
                goto fail;
        }
        r = nl_connect(l->sk, NETLINK_ROUTE);
        if (r < 0) {
                r = nlerr_to_errno(r);
                goto fail;
        }
        /* With strict checking the kernel filters address dumps by interface itself. Older
         * kernels lack it; the dumps are filtered here as well, so failure is harmless. */
        (void)setsockopt(nl_socket_get_fd(l->sk), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one,
                         sizeof(one));
        *ret = l;
        return 0;
fail:
        vnet_link_close(l);
        return r;
}

static void view_free(struct ipv4_view *v);
static void view_forget_link(struct ipv4_view *v, int ifindex);

void vnet_link_close(struct vnet_link *l)
{
        if (!l)
                return;
        view_free(l->view);
        nl_cb_put(l->cb);
        nl_socket_free(l->sk);
        free(l);
}

static struct nl_msg *link_msg(int type, int flags, int ifindex, unsigned ifi_flags,
                               unsigned ifi_change)
{
        struct ifinfomsg ifi = {
                .ifi_family = AF_UNSPEC,
                .ifi_index = ifindex,
                .ifi_flags = ifi_flags,
                .ifi_change = ifi_change,
        };
        struct nl_msg *msg;

        msg = nlmsg_alloc_simple(type, flags);
        if (msg && nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
                nlmsg_free(msg);
                msg = NULL;
        }
        return msg;
}

static int link_parse(struct nl_msg *msg, void *userdata)
{
        static struct nla_policy link_policy[IFLA_MAX + 1] = {
                [IFLA_IFNAME] = { .type = NLA_STRING, .maxlen = IFNAMSIZ },
                [IFLA_IFALIAS] = { .type = NLA_STRING },
                [IFLA_MTU] = { .type = NLA_U32 },
                [IFLA_MASTER] = { .type = NLA_U32 },
                [IFLA_GROUP] = { .type = NLA_U32 },
                [IFLA_LINKINFO] = { .type = NLA_NESTED },
        };
        static struct nla_policy info_policy[IFLA_INFO_MAX + 1] = {
                [IFLA_INFO_KIND] = { .type = NLA_STRING },
                [IFLA_INFO_DATA] = { .type = NLA_NESTED },
        };
        static struct nla_policy br_policy[IFLA_BR_MAX + 1] = {
                [IFLA_BR_FORWARD_DELAY] = { .type = NLA_U32 },
                [IFLA_BR_STP_STATE] = { .type = NLA_U32 },
        };
        struct link_state *st = userdata;
        struct nlmsghdr *nlh = nlmsg_hdr(msg);
        struct nlattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1], *br[IFLA_BR_MAX + 1];
        const struct ifinfomsg *ifi;
        int r;

        if (nlh->nlmsg_type != RTM_NEWLINK)
                return 0;
        r = nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, link_policy);
        if (r < 0)
                return -EPROTO;
        ifi = nlmsg_data(nlh);

        memset(st, 0, sizeof(*st));
        st->info.ifindex = ifi->ifi_index;
        st->info.up = ifi->ifi_flags & IFF_UP;
        st->info.carrier = ifi->ifi_flags & IFF_LOWER_UP;
        if (tb[IFLA_IFNAME])
                nla_strlcpy(st->info.name, tb[IFLA_IFNAME], sizeof(st->info.name));
        if (tb[IFLA_IFALIAS])
                nla_strlcpy(st->info.alias, tb[IFLA_IFALIAS], sizeof(st->info.alias));
        if (tb[IFLA_MTU])
                st->info.mtu = nla_get_u32(tb[IFLA_MTU]);
        if (tb[IFLA_MASTER])
                st->info.master = (int)nla_get_u32(tb[IFLA_MASTER]);
        if (tb[IFLA_GROUP])
                st->info.group = nla_get_u32(tb[IFLA_GROUP]);
        if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == sizeof(st->info.mac))
                memcpy(st->info.mac, nla_data(tb[IFLA_ADDRESS]), sizeof(st->info.mac));
        if (!tb[IFLA_LINKINFO] ||
            nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], info_policy) < 0)
                return 0;
        if (info[IFLA_INFO_KIND])
                nla_strlcpy(st->info.kind, info[IFLA_INFO_KIND], sizeof(st->info.kind));
        if (strcmp(st->info.kind, "bridge") != 0 || !info[IFLA_INFO_DATA] ||
            nla_parse_nested(br, IFLA_BR_MAX, info[IFLA_INFO_DATA], br_policy) < 0)
                return 0;
        if (br[IFLA_BR_STP_STATE] && br[IFLA_BR_FORWARD_DELAY]) {
                st->has_br = true;
                st->stp_state = nla_get_u32(br[IFLA_BR_STP_STATE]);
                st->forward_delay = nla_get_u32(br[IFLA_BR_FORWARD_DELAY]);
        }
        return 0;
}

/* One RTM_GETLINK for one link, by index or by name. */
static int link_query(struct vnet_link *l, int ifindex, const char *name, struct link_state *st)
{
        struct nl_msg *msg;

        if (name && (name[0] == '\0' || strlen(name) >= IFNAMSIZ))
                return -EINVAL;
        msg = link_msg(RTM_GETLINK, 0, ifindex, 0, 0);
        if (!msg)
                return -ENOMEM;
        /* Statistics are most of a reply's bytes and nobody here reads them. */
        if ((name && nla_put_string(msg, IFLA_IFNAME, name) < 0) ||
            nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        memset(st, 0, sizeof(*st));
        return link_call(l, msg, LINK_WAIT_REPLY, link_parse, st);
}

int vnet_link_get(struct vnet_link *l, const char *name, struct vnet_link_info *info)
{
        struct link_state st;
        int r;

        if (!name)
                return -EINVAL;
        r = link_query(l, 0, name, &st);
        if (r < 0)
                return r;
        *info = st.info;
        return 0;
}

int vnet_link_get_index(struct vnet_link *l, int ifindex, struct vnet_link_info *info)
{
        struct link_state st;
        int r;

        if (ifindex <= 0)
                return -EINVAL;
        r = link_query(l, ifindex, NULL, &st);
        if (r < 0)
                return r;
        *info = st.info;
        return 0;
}

static int link_delete(struct vnet_link *l, int ifindex, const char *name)
{
        struct nl_msg *msg;

        msg = link_msg(RTM_DELLINK, 0, ifindex, 0, 0);
        if (!msg)
                return -ENOMEM;
        if (!ifindex && nla_put_string(msg, IFLA_IFNAME, name) < 0) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        return link_call(l, msg, LINK_WAIT_ACK, NULL, NULL);
}

int vnet_link_delete(struct vnet_link *l, int ifindex)
{
        int r;

        if (ifindex <= 0)
                return -EINVAL;
        r = link_delete(l, ifindex, NULL);
        /* Its routes go without a word from the kernel (see ipv4_view). */
        if (r == 0)
                view_forget_link(l->view, ifindex);
        return r;
}

static bool mac_is_zero(const uint8_t mac[6])
{
        static const uint8_t zero[6];
        return memcmp(mac, zero, sizeof(zero)) == 0;
}

/* RTM_SETLINK never creates, so a port that vanished is -ENODEV, not a new link. */
int vnet_link_enslave(struct vnet_link *l, int ifindex, const struct vnet_port_link *p)
{
        struct nl_msg *msg;

        if (ifindex <= 0 || p->master <= 0 || p->master == ifindex)
                return -EINVAL;
        msg = link_msg(RTM_SETLINK, 0, ifindex, p->keep_down ? 0 : IFF_UP,
                       p->keep_down ? 0 : IFF_UP);
        if (!msg ||
            (!mac_is_zero(p->mac) && nla_put(msg, IFLA_ADDRESS, sizeof(p->mac), p->mac) < 0) ||
            (p->mtu && nla_put_u32(msg, IFLA_MTU, p->mtu) < 0) ||
            (p->group && nla_put_u32(msg, IFLA_GROUP, p->group) < 0) ||
            nla_put_u32(msg, IFLA_MASTER, (uint32_t)p->master) < 0) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        return link_call(l, msg, LINK_WAIT_ACK, NULL, NULL);
}

int vnet_link_release(struct vnet_link *l, int ifindex)
{
        struct nl_msg *msg;

        if (ifindex <= 0)
                return -EINVAL;
        msg = link_msg(RTM_SETLINK, 0, ifindex, 0, 0);
        if (!msg || nla_put_u32(msg, IFLA_MASTER, 0) < 0) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        return link_call(l, msg, LINK_WAIT_ACK, NULL, NULL);
}

int vnet_link_set_group(struct vnet_link *l, int ifindex, uint32_t group)
{
        struct nl_msg *msg;

        if (ifindex <= 0)
                return -EINVAL;
        msg = link_msg(RTM_SETLINK, 0, ifindex, 0, 0);
        if (!msg || nla_put_u32(msg, IFLA_GROUP, group) < 0) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        return link_call(l, msg, LINK_WAIT_ACK, NULL, NULL);
}

int vnet_link_delete_group(struct vnet_link *l, uint32_t group)
{
        struct nl_msg *msg;

        /* The kernel takes ifindex 0 without a name as "by group", and group 0 holds every
         * link that was never given one. */
        if (group == 0)
                return -EINVAL;
        msg = link_msg(RTM_DELLINK, 0, 0, 0, 0);
        if (!msg || nla_put_u32(msg, IFLA_GROUP, group) < 0) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        return link_call(l, msg, LINK_WAIT_ACK, NULL, NULL);
}

/* The forward delay the kernel keeps for this STP setting: with STP running it clamps the
 * delay to at least BR_MIN_FORWARD_DELAY (2 s, reported in USER_HZ ticks), so "0" with STP on
 * ends as 2 s; converging to anything lower would fail with -ERANGE on every apply. */
static uint32_t bridge_forward_delay(bool stp)
{
        long hz = sysconf(_SC_CLK_TCK);

        return stp ? (uint32_t)(2 * (hz > 0 ? hz : 100)) : 0;
}

/* IFLA_LINKINFO { kind bridge, IFLA_INFO_DATA { the given fields } }; NULL: leave alone. */
static int bridge_put_info(struct nl_msg *msg, const uint32_t *stp_state,
                           const uint32_t *forward_delay)
{
        struct nlattr *linkinfo, *data;

        linkinfo = nla_nest_start(msg, IFLA_LINKINFO);
        if (!linkinfo || nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0)
                return -ENOMEM;
        data = nla_nest_start(msg, IFLA_INFO_DATA);
        if (!data)
                return -ENOMEM;
        /* The kernel applies the forward delay before the STP state, whatever the order. */
        if (forward_delay && nla_put_u32(msg, IFLA_BR_FORWARD_DELAY, *forward_delay) < 0)
                return -ENOMEM;
        if (stp_state && nla_put_u32(msg, IFLA_BR_STP_STATE, *stp_state) < 0)
                return -ENOMEM;
        nla_nest_end(msg, data);
        nla_nest_end(msg, linkinfo);
        return 0;
}

static struct in_addr ipv4_broadcast(const struct vnet_ipv4 *a)
{
        uint32_t mask = a->prefix ? htonl(~0u << (32 - a->prefix)) : 0;

        return (struct in_addr){ .s_addr = a->addr.s_addr | ~mask };
}

/* Like `ip addr add A/P brd +`: no broadcast on /31 and /32, which have no room for one. */
static bool ipv4_has_broadcast(const struct vnet_ipv4 *a)
{
        return a->prefix <= 30;
}

/* RTM_NEWADDR for the wanted address; @flags NLM_F_EXCL or NLM_F_REPLACE. */
static int addr_add(struct vnet_link *l, int ifindex, const struct vnet_ipv4 *a, int flags)
{
        struct rtnl_addr *addr = NULL;
        struct nl_addr *local = NULL, *brd = NULL;
        struct nl_msg *msg = NULL;
        struct in_addr b;
        int r;

        addr = rtnl_addr_alloc();
        local = nl_addr_build(AF_INET, &a->addr, sizeof(a->addr));
        if (!addr || !local) {
                r = -ENOMEM;
                goto out;
        }
        nl_addr_set_prefixlen(local, (int)a->prefix);
        rtnl_addr_set_ifindex(addr, ifindex);
        rtnl_addr_set_family(addr, AF_INET);
        r = rtnl_addr_set_local(addr, local);
        if (r < 0) {
                r = nlerr_to_errno(r);
                goto out;
        }
        if (ipv4_has_broadcast(a)) {
                b = ipv4_broadcast(a);
                brd = nl_addr_build(AF_INET, &b, sizeof(b));
                if (!brd) {
                        r = -ENOMEM;
                        goto out;
                }
                r = rtnl_addr_set_broadcast(addr, brd);
                if (r < 0) {
                        r = nlerr_to_errno(r);
                        goto out;
                }
        }
        r = rtnl_addr_build_add_request(addr, NLM_F_CREATE | flags, &msg);
        if (r < 0) {
                r = nlerr_to_errno(r);
                goto out;
        }
        r = link_call(l, msg, LINK_WAIT_ACK, NULL, NULL);
out:
        nl_addr_put(brd);
        nl_addr_put(local);
        rtnl_addr_put(addr);
        return r;
}

int vnet_bridge_create(struct vnet_link *l, const struct vnet_bridge_spec *s, int *ifindex)
{
        const uint32_t stp = s->stp, fd = 0;
        struct link_state st = { 0 };
        struct nl_msg *msg = NULL;
        bool created = false;
        int r;

        if (!s->name || s->name[0] == '\0' || strlen(s->name) >= IFNAMSIZ || s->ipv4.prefix > 32)
                return -EINVAL;

        /* NLM_F_ECHO hands back the new link, so its index costs no extra request. */
        r = -ENOMEM;
        msg = link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO, 0, 0, 0);
        if (!msg || nla_put_string(msg, IFLA_IFNAME, s->name) < 0 ||
            (s->mtu && nla_put_u32(msg, IFLA_MTU, s->mtu) < 0) ||
            /* Without its own MAC a bridge takes its lowest port's, and changes with ports. */
            (!mac_is_zero(s->mac) && nla_put(msg, IFLA_ADDRESS, sizeof(s->mac), s->mac) < 0) ||
            bridge_put_info(msg, &stp, &fd) < 0)
                goto fail;
        r = link_call(l, msg, LINK_WAIT_ACK, link_parse, &st);
        msg = NULL;
        if (r < 0)
                goto fail;
        created = true;
        if (st.info.ifindex <= 0) {
                /* A kernel that ignores NLM_F_ECHO on RTM_NEWLINK (before 6.1). */
                r = link_query(l, 0, s->name, &st);
                if (r < 0)
                        goto fail;
        }

        /* The kernel ignores IFLA_IFALIAS when it creates a link, so the alias goes in the
         * first change, before the address: whatever a failure leaves is marked as ours. */
        r = -ENOMEM;
        msg = link_msg(RTM_NEWLINK, 0, st.info.ifindex, IFF_UP, IFF_UP);
        if (!msg || (s->alias && nla_put_string(msg, IFLA_IFALIAS, s->alias) < 0))
                goto fail;
        r = link_call(l, msg, LINK_WAIT_ACK, NULL, NULL);
        msg = NULL;
        if (r < 0)
                goto fail;

        if (s->ipv4.prefix > 0) {
                r = addr_add(l, st.info.ifindex, &s->ipv4, NLM_F_EXCL);
                if (r < 0)
                        goto fail;
        }
        if (ifindex)
                *ifindex = st.info.ifindex;
        return 0;
fail:
        nlmsg_free(msg);
        if (created)
                (void)link_delete(l, st.info.ifindex, s->name);
        return r;
}

/* The IPv4 addresses of one interface, as libnl objects (they carry what a delete needs). */
struct addr_list {
        int ifindex;
        struct rtnl_addr **v;
        size_t n, cap;
        int error;
};

static void addr_list_add(struct nl_object *obj, void *arg)
{
        struct addr_list *al = arg;
        struct rtnl_addr *a = (struct rtnl_addr *)obj;
        struct rtnl_addr **v;

        if (al->error || rtnl_addr_get_family(a) != AF_INET ||
            rtnl_addr_get_ifindex(a) != al->ifindex)
                return;
        if (al->n == al->cap) {
                size_t cap = al->cap ? 2 * al->cap : 4;
                v = realloc(al->v, cap * sizeof(*v));
                if (!v) {
                        al->error = -ENOMEM;
                        return;
                }
                al->v = v;
                al->cap = cap;
        }
        nl_object_get(obj);
        al->v[al->n++] = a;
}

static int addr_list_parse(struct nl_msg *msg, void *userdata)
{
        struct addr_list *al = userdata;
        int r;

        r = nl_msg_parse(msg, addr_list_add, al);
        if (r < 0)
                return nlerr_to_errno(r);
        return al->error;
}

static void addr_list_free(struct addr_list *al)
{
        for (size_t i = 0; i < al->n; i++)
                rtnl_addr_put(al->v[i]);
        free(al->v);
}

static int addr_dump(struct vnet_link *l, int ifindex, int (*parse)(struct nl_msg *, void *),
                     void *userdata)
{
        struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_index = ifindex };
        struct nl_msg *msg;

        msg = nlmsg_alloc_simple(RTM_GETADDR, NLM_F_DUMP);
        if (!msg || nlmsg_append(msg, &ifa, sizeof(ifa), NLMSG_ALIGNTO) < 0) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        return link_call(l, msg, LINK_WAIT_DUMP, parse, userdata);
}

static bool nl_addr_get_ipv4(const struct nl_addr *a, struct in_addr *out)
{
        if (!a || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != sizeof(*out))
                return false;
        memcpy(out, nl_addr_get_binary_addr(a), sizeof(*out));
        return true;
}

static bool nl_addr_is_ipv4(const struct nl_addr *a, struct in_addr want)
{
        return a && nl_addr_get_family(a) == AF_INET && nl_addr_get_len(a) == sizeof(want) &&
               memcmp(nl_addr_get_binary_addr(a), &want, sizeof(want)) == 0;
}

static bool addr_matches(struct rtnl_addr *a, const struct vnet_ipv4 *want)
{
        struct nl_addr *peer = rtnl_addr_get_peer(a);
        struct nl_addr *brd = rtnl_addr_get_broadcast(a);

        if (rtnl_addr_get_prefixlen(a) != (int)want->prefix ||
            !nl_addr_is_ipv4(rtnl_addr_get_local(a), want->addr) ||
            (peer && !nl_addr_is_ipv4(peer, want->addr)))
                return false;
        if (ipv4_has_broadcast(want))
                return nl_addr_is_ipv4(brd, ipv4_broadcast(want));
        return !brd;
}

static bool addr_same_subnet(struct rtnl_addr *a, const struct vnet_ipv4 *want)
{
        struct in_addr local;

        return nl_addr_get_ipv4(rtnl_addr_get_local(a), &local) &&
               rtnl_addr_get_prefixlen(a) == (int)want->prefix &&
               vnet_ipv4_overlap(local, want->prefix, want->addr, want->prefix);
}

/* Removes every other IPv4 address first, then adds the wanted one if it is missing: added
 * first, a new address in the old one's subnet would become its secondary and go with it. */
static int bridge_apply_addresses(struct vnet_link *l, int ifindex, const struct vnet_ipv4 *want)
{
        struct addr_list al = { .ifindex = ifindex };
        bool found = false, deleted_primary = false;
        int r;

        r = addr_dump(l, ifindex, addr_list_parse, &al);
        if (r < 0)
                goto out;
        for (size_t i = 0; i < al.n; i++) {
                struct nl_msg *msg = NULL;

                if (want->prefix > 0 && addr_matches(al.v[i], want)) {
                        found = true;
                        continue;
                }
                r = rtnl_addr_build_delete_request(al.v[i], 0, &msg);
                if (r < 0) {
                        r = nlerr_to_errno(r);
                        goto out;
                }
                r = link_call(l, msg, LINK_WAIT_ACK, NULL, NULL);
                /* It may already have gone with a primary deleted just before. */
                if (r == -EADDRNOTAVAIL)
                        r = 0;
                if (r < 0)
                        goto out;
                if (!(rtnl_addr_get_flags(al.v[i]) & IFA_F_SECONDARY) &&
                    addr_same_subnet(al.v[i], want))
                        deleted_primary = true;
        }
        /* Deleting a primary takes its secondaries along (unless promote_secondaries), which
         * may have included the wanted address: replace is exact in both cases. */
        if (want->prefix > 0 && (!found || deleted_primary))
                r = addr_add(l, ifindex, want, NLM_F_REPLACE);
out:
        addr_list_free(&al);
        return r;
}

int vnet_bridge_apply(struct vnet_link *l, int ifindex, const struct vnet_bridge_spec *s)
{
        struct link_state st;
        uint32_t want_stp = s->stp, want_fd = bridge_forward_delay(s->stp);
        bool cur_stp, set_mtu, set_mac, set_alias, set_up, set_stp, set_fd, fd_later;
        struct nl_msg *msg = NULL;
        int r;

        if (ifindex <= 0 || s->ipv4.prefix > 32)
                return -EINVAL;
        r = link_query(l, ifindex, NULL, &st);
        if (r < 0)
                return r;
        if (strcmp(st.info.kind, "bridge") != 0 || !st.has_br)
                return -EINVAL;

        cur_stp = st.stp_state != 0;
        set_mtu = s->mtu && st.info.mtu != s->mtu;
        set_mac = !mac_is_zero(s->mac) && memcmp(st.info.mac, s->mac, sizeof(s->mac)) != 0;
        set_alias = s->alias && strcmp(st.info.alias, s->alias) != 0;
        set_up = !st.info.up;
        set_stp = cur_stp != s->stp;
        set_fd = st.forward_delay != want_fd;
        /* While STP runs the kernel refuses a delay below 2 s, and it applies the delay
         * before the STP state: turning STP off and the delay to 0 takes two messages. */
        fd_later = set_fd && cur_stp && !s->stp;

        if (set_mtu || set_mac || set_alias || set_up || set_stp || (set_fd && !fd_later)) {
                msg = link_msg(RTM_NEWLINK, 0, ifindex, set_up ? IFF_UP : 0, set_up ? IFF_UP : 0);
                if (!msg ||
                    (set_mtu && nla_put_u32(msg, IFLA_MTU, s->mtu) < 0) ||
                    (set_mac && nla_put(msg, IFLA_ADDRESS, sizeof(s->mac), s->mac) < 0) ||
                    (set_alias && nla_put_string(msg, IFLA_IFALIAS, s->alias) < 0) ||
                    ((set_stp || (set_fd && !fd_later)) &&
                     bridge_put_info(msg, set_stp ? &want_stp : NULL,
                                     set_fd && !fd_later ? &want_fd : NULL) < 0)) {
                        r = -ENOMEM;
                        goto out;
                }
                r = link_call(l, msg, LINK_WAIT_ACK, NULL, NULL);
                msg = NULL;
                if (r < 0)
                        goto out;
        }
        if (fd_later) {
                msg = link_msg(RTM_NEWLINK, 0, ifindex, 0, 0);
                if (!msg || bridge_put_info(msg, NULL, &want_fd) < 0) {
                        r = -ENOMEM;
                        goto out;
                }
                r = link_call(l, msg, LINK_WAIT_ACK, NULL, NULL);
                msg = NULL;
                if (r < 0)
                        goto out;
        }
        r = bridge_apply_addresses(l, ifindex, &s->ipv4);
out:
        nlmsg_free(msg);
        return r;
}

/* ---- the host's IPv4 addresses and main-table routes, kept up to date ----
 *
 * A conflict check used to dump every address and route, and with a hundred networks most of
 * what it read was vnet's own: each network up cost more than the last. The view is dumped
 * once, then follows the kernel's address and route notifications (RTNLGRP_IPV4_IFADDR and
 * _ROUTE on a socket of its own), which a check reads to the end first: every change made
 * before the check is in the socket by then, so the view is exact when it is used.
 *
 * Two things send no notification, and make the next check dump again: the socket overran
 * (ENOBUFS), or an interface that routes go through went down or away (IPv4 flushes such
 * routes silently). vnetd's link monitor tells the view of the second through
 * vnet_link_note_down(); a link vnet_link_delete() removes takes its routes out of the view
 * there and then, without a dump. */

#define VIEW_MAX_NH 8 /* next hops kept per route; a route with more keeps its first ones */

struct v4_entry {
        bool is_route;
        struct in_addr addr; /* address, or route destination */
        unsigned plen;
        int ifindex;         /* address: its interface; route: see nh */
        /* routes: what tells one from another, and its next hops' interfaces */
        uint32_t priority;
        uint8_t tos;
        unsigned n_nh;
        int nh[VIEW_MAX_NH];
        bool has_gw;
        struct in_addr gw;
};

static int route_dump(struct vnet_link *l, int (*parse)(struct nl_msg *, void *), void *userdata);

struct ipv4_view {
        struct nl_sock *sk;
        bool stale; /* dump before the next use */
        struct v4_entry *v;
        size_t n, cap;
        int error; /* while applying a batch */
};

static void view_free(struct ipv4_view *v)
{
        if (!v)
                return;
        if (v->sk)
                nl_socket_free(v->sk);
        free(v->v);
        free(v);
}

static bool same_entry(const struct v4_entry *a, const struct v4_entry *b)
{
        if (a->is_route != b->is_route || a->addr.s_addr != b->addr.s_addr || a->plen != b->plen)
                return false;
        if (!a->is_route)
                return a->ifindex == b->ifindex;
        return a->priority == b->priority && a->tos == b->tos && a->n_nh == b->n_nh &&
               memcmp(a->nh, b->nh, a->n_nh * sizeof(a->nh[0])) == 0;
}

/* A route that replaces another takes its place: same destination, TOS and metric. */
static bool same_route_key(const struct v4_entry *a, const struct v4_entry *b)
{
        return a->is_route && b->is_route && a->addr.s_addr == b->addr.s_addr &&
               a->plen == b->plen && a->priority == b->priority && a->tos == b->tos;
}

static void view_remove_if(struct ipv4_view *v, const struct v4_entry *e,
                           bool (*match)(const struct v4_entry *, const struct v4_entry *))
{
        for (size_t i = 0; i < v->n;) {
                if (match(&v->v[i], e))
                        v->v[i] = v->v[--v->n];
                else
                        i++;
        }
}

/* @fresh: from a dump into an empty view, where nothing repeats; a notification may repeat
 * what a dump already read. */
static void view_add(struct ipv4_view *v, const struct v4_entry *e, bool fresh)
{
        for (size_t i = 0; !fresh && i < v->n; i++)
                if (same_entry(&v->v[i], e))
                        return;
        if (v->n == v->cap) {
                size_t cap = v->cap ? 2 * v->cap : 32;
                struct v4_entry *nv = realloc(v->v, cap * sizeof(*nv));
                if (!nv) {
                        v->error = -ENOMEM;
                        return;
                }
                v->v = nv;
                v->cap = cap;
        }
        v->v[v->n++] = *e;
}

/* What the view keeps of an address: IPv4 ones. */
static bool entry_of_addr(struct rtnl_addr *a, struct v4_entry *e)
{
        *e = (struct v4_entry){ .plen = (unsigned)rtnl_addr_get_prefixlen(a),
                                .ifindex = rtnl_addr_get_ifindex(a) };
        return rtnl_addr_get_family(a) == AF_INET &&
               nl_addr_get_ipv4(rtnl_addr_get_local(a), &e->addr);
}

/* And of a route: what the main table routes, default routes included (they tell an uplink).
 * Local and broadcast entries belong to addresses, which are kept as such. */
static bool entry_of_route(struct rtnl_route *rt, struct v4_entry *e)
{
        struct nl_addr *dst = rtnl_route_get_dst(rt);
        unsigned n;

        *e = (struct v4_entry){ .is_route = true };
        if (rtnl_route_get_family(rt) != AF_INET || rtnl_route_get_table(rt) != RT_TABLE_MAIN ||
            rtnl_route_get_type(rt) != RTN_UNICAST || !dst)
                return false;
        e->plen = (unsigned)nl_addr_get_prefixlen(dst);
        /* A default route's destination may come without an address at all. */
        if (!nl_addr_get_ipv4(dst, &e->addr) && (e->plen != 0 || nl_addr_get_len(dst) != 0))
                return false;
        e->priority = rtnl_route_get_priority(rt);
        e->tos = rtnl_route_get_tos(rt);
        n = (unsigned)rtnl_route_get_nnexthops(rt);
        for (unsigned i = 0; i < n && e->n_nh < VIEW_MAX_NH; i++) {
                struct rtnl_nexthop *h = rtnl_route_nexthop_n(rt, (int)i);
                e->nh[e->n_nh++] = rtnl_route_nh_get_ifindex(h);
                if (i == 0)
                        e->has_gw = nl_addr_get_ipv4(rtnl_route_nh_get_gateway(h), &e->gw);
        }
        return true;
}

struct view_msg {
        struct ipv4_view *v;
        int type;
        bool replace;
        bool dump; /* a dump's answer, not a notification */
};

static void view_apply(struct nl_object *obj, void *arg)
{
        struct view_msg *m = arg;
        struct v4_entry e;

        switch (m->type) {
        case RTM_NEWADDR:
        case RTM_DELADDR:
                if (!entry_of_addr((struct rtnl_addr *)obj, &e))
                        return;
                break;
        case RTM_NEWROUTE:
        case RTM_DELROUTE:
                if (!entry_of_route((struct rtnl_route *)obj, &e))
                        return;
                break;
        default:
                return;
        }
        if (m->type == RTM_DELADDR || m->type == RTM_DELROUTE) {
                view_remove_if(m->v, &e, same_entry);
                return;
        }
        if (m->replace)
                view_remove_if(m->v, &e, same_route_key);
        view_add(m->v, &e, m->dump);
}

static int view_parse(struct nl_msg *msg, struct ipv4_view *v, bool dump)
{
        struct view_msg m = { .v = v, .type = nlmsg_hdr(msg)->nlmsg_type, .dump = dump,
                              .replace = (nlmsg_hdr(msg)->nlmsg_flags & NLM_F_REPLACE) != 0 };

        (void)nl_msg_parse(msg, view_apply, &m);
        return v->error;
}

/* Dumps fill an empty view: no entry is looked for first, so a large table reads in
 * linear time. */
static int view_parse_dump(struct nl_msg *msg, void *arg)
{
        return view_parse(msg, arg, true);
}

static int view_event(struct nl_msg *msg, void *arg)
{
        (void)view_parse(msg, arg, false);
        return NL_OK;
}

static int view_open(struct ipv4_view **ret)
{
        const int rcvbuf = 1024 * 1024;
        struct ipv4_view *v = calloc(1, sizeof(*v));
        int r = -ENOMEM;

        if (!v)
                return -ENOMEM;
        v->stale = true;
        v->sk = nl_socket_alloc();
        if (!v->sk)
                goto fail;
        nl_socket_disable_seq_check(v->sk);
        nl_socket_modify_cb(v->sk, NL_CB_VALID, NL_CB_CUSTOM, view_event, v);
        r = nl_connect(v->sk, NETLINK_ROUTE);
        if (r == 0)
                r = nl_socket_add_memberships(v->sk, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE, 0);
        if (r == 0)
                r = nl_socket_set_nonblocking(v->sk);
        if (r < 0) {
                r = nlerr_to_errno(r);
                goto fail;
        }
        /* Past rmem_max if we may (root): an overrun costs a full dump. */
        if (setsockopt(nl_socket_get_fd(v->sk), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
                       sizeof(rcvbuf)) < 0)
                (void)nl_socket_set_buffer_size(v->sk, rcvbuf, 0);
        *ret = v;
        return 0;
fail:
        view_free(v);
        return r;
}

/* Reads every notification queued; stale if some were lost. */
static void view_drain(struct ipv4_view *v)
{
        for (;;) {
                int r = nl_recvmsgs_default(v->sk);
                if (r >= 0)
                        continue;
                if (r == -NLE_AGAIN)
                        break;
                /* An overrun (ENOBUFS) comes before the messages still queued, which are
                 * older than the ones lost: read them out too, or a dump would be followed by
                 * stale news. Anything else: dump again, and hope. */
                v->stale = true;
                if (r != -NLE_NOMEM)
                        break;
        }
        if (v->error) {
                v->error = 0;
                v->stale = true;
        }
}

static int view_dump(struct vnet_link *l, struct ipv4_view *v)
{
        int r = 0;

        /* A dump that raced a change is incomplete; a few tries settle it. Notifications
         * queued meanwhile are applied afterwards: adding what is there, or removing what is
         * not, changes nothing. */
        for (int attempt = 0; attempt < 3; attempt++) {
                v->n = 0;
                v->error = 0;
                r = addr_dump(l, 0, view_parse_dump, v);
                if (r == 0)
                        r = route_dump(l, view_parse_dump, v);
                if (r != -EAGAIN)
                        break;
        }
        if (r == 0)
                v->stale = false;
        return r;
}

/* The view, up to date; NULL and -errno in *err if it cannot be made. */
static struct ipv4_view *view_get(struct vnet_link *l, int *err)
{
        struct ipv4_view *v = l->view;

        *err = 0;
        if (!v) {
                *err = view_open(&l->view);
                if (*err < 0)
                        return NULL;
                v = l->view;
        }
        view_drain(v);
        if (v->stale) {
                *err = view_dump(l, v);
                if (*err < 0)
                        return NULL;
                view_drain(v);
                if (v->stale && (*err = view_dump(l, v)) < 0)
                        return NULL;
        }
        return v;
}

void vnet_link_note_down(struct vnet_link *l, int ifindex)
{
        struct ipv4_view *v = l ? l->view : NULL;

        if (!v)
                return;
        if (ifindex <= 0) {
                v->stale = true;
                return;
        }
        /* Routes through it may still be in the socket, not yet in the view. */
        view_drain(v);
        for (size_t i = 0; !v->stale && i < v->n; i++) {
                const struct v4_entry *e = &v->v[i];
                for (unsigned k = 0; e->is_route && k < e->n_nh; k++)
                        if (e->nh[k] == ifindex)
                                v->stale = true;
        }
}

/* The link @ifindex is gone for good (we deleted it): what went with it leaves the view
 * without a dump. A route with another next hop may outlive it, so that one makes a dump. */
static void view_forget_link(struct ipv4_view *v, int ifindex)
{
        if (!v)
                return;
        view_drain(v);
        for (size_t i = 0; !v->stale && i < v->n;) {
                const struct v4_entry *e = &v->v[i];
                unsigned on = 0;

                for (unsigned k = 0; e->is_route && k < e->n_nh; k++)
                        on += e->nh[k] == ifindex;
                if (!e->is_route ? e->ifindex == ifindex : on > 0 && on == e->n_nh) {
                        v->v[i] = v->v[--v->n];
                        continue;
                }
                if (on > 0)
                        v->stale = true;
                i++;
        }
}

/* Whether @e overlaps the subnet and is not only on @ignore_ifindex. A route counts unless
 * every one of its next hops is on the ignored interface. */
static bool entry_conflicts(const struct v4_entry *e, struct in_addr subnet, unsigned prefix,
                            int ignore_ifindex, int *dev)
{
        /* A default route "overlaps" every subnet: it is no conflict. */
        if ((e->is_route && e->plen == 0) || !vnet_ipv4_overlap(e->addr, e->plen, subnet, prefix))
                return false;
        if (!e->is_route) {
                *dev = e->ifindex;
                return e->ifindex != ignore_ifindex;
        }
        *dev = 0;
        for (unsigned k = 0; k < e->n_nh; k++) {
                if (!ignore_ifindex || e->nh[k] != ignore_ifindex) {
                        *dev = e->nh[k];
                        return true;
                }
        }
        return e->n_nh == 0;
}

static void conflict_describe(struct vnet_link *l, const struct v4_entry *e, int ifindex,
                              char *what, size_t what_len)
{
        struct vnet_link_info info;
        char addr[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN + 5] = "", dev[32] = "";

        inet_ntop(AF_INET, &e->addr, addr, sizeof(addr));
        if (e->is_route && e->has_gw) {
                memcpy(gw, " via ", 6);
                inet_ntop(AF_INET, &e->gw, gw + 5, sizeof(gw) - 5);
        }
        if (ifindex > 0) {
                if (vnet_link_get_index(l, ifindex, &info) == 0)
                        snprintf(dev, sizeof(dev), "%s", info.name);
                else
                        snprintf(dev, sizeof(dev), "ifindex %d", ifindex);
        }
        if (!e->is_route)
                snprintf(what, what_len, "address %s/%u on %s", addr, e->plen, dev);
        else if (dev[0])
                snprintf(what, what_len, "route %s/%u%s dev %s", addr, e->plen, gw, dev);
        else
                snprintf(what, what_len, "route %s/%u%s", addr, e->plen, gw);
}

static int route_dump(struct vnet_link *l, int (*parse)(struct nl_msg *, void *), void *userdata)
{
        /* Only the main table, filtered by the kernel (strict checking is on): the local
         * table holds two entries per address, which the callers skip anyway. A table with no
         * route yet does not exist: -ENOENT, an empty answer. */
        struct rtmsg rtm = { .rtm_family = AF_INET, .rtm_type = RTN_UNICAST,
                             .rtm_table = RT_TABLE_MAIN };
        struct nl_msg *msg;
        int r;

        msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_DUMP);
        if (!msg || nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
            nla_put_u32(msg, RTA_TABLE, RT_TABLE_MAIN) < 0) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        r = link_call(l, msg, LINK_WAIT_DUMP, parse, userdata);
        return r == -ENOENT ? 0 : r;
}

int vnet_link_ipv4_conflict(struct vnet_link *l, struct in_addr subnet, unsigned prefix,
                            int ignore_ifindex, char *what, size_t what_len)
{
        struct ipv4_view *v;
        int r, dev = 0;

        if (prefix > 32)
                return -EINVAL;
        v = view_get(l, &r);
        if (!v)
                return r;
        /* Addresses first: they say more about what is in the way than their routes. */
        for (int routes = 0; routes < 2; routes++) {
                for (size_t i = 0; i < v->n; i++) {
                        const struct v4_entry *e = &v->v[i];
                        if (e->is_route != routes ||
                            !entry_conflicts(e, subnet, prefix, ignore_ifindex, &dev))
                                continue;
                        if (what && what_len > 0)
                                conflict_describe(l, e, dev, what, what_len);
                        return 1;
                }
        }
        return 0;
}

/* From the view: its first address on @ifindex, else its first route through it. */
int vnet_link_in_use(struct vnet_link *l, int ifindex, char *what, size_t what_len)
{
        const struct v4_entry *found = NULL;
        char addr[INET_ADDRSTRLEN];
        struct ipv4_view *v;
        int r;

        v = view_get(l, &r);
        if (!v)
                return r;
        for (size_t i = 0; i < v->n && !(found && !found->is_route); i++) {
                const struct v4_entry *e = &v->v[i];
                bool on = !e->is_route && e->ifindex == ifindex;

                for (unsigned k = 0; e->is_route && k < e->n_nh; k++)
                        on = on || e->nh[k] == ifindex;
                if (on && (!found || !e->is_route))
                        found = e;
        }
        if (!found)
                return 0;
        inet_ntop(AF_INET, &found->addr, addr, sizeof(addr));
        if (what && what_len > 0)
                snprintf(what, what_len, "%s %s/%u", found->is_route ? "route" : "address",
                         found->is_route && found->plen == 0 ? "default" : addr, found->plen);
        return 1;
}

int vnet_sysctl_enable_ip_forward(void)
{
        const char *path = "/proc/sys/net/ipv4/ip_forward";
        char cur = 0;
        int fd, r = 0;

        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* Already on is success even where /proc/sys is read-only (a container). */
        if (pread(fd, &cur, 1, 0) < 0)
                r = -errno;
        else if (cur != '1' && pwrite(fd, "1\n", 2, 0) < 0)
                r = -errno;
        close(fd);
        return r;
}
