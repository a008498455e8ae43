/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "log.h"
#include "nft.h"
#include "nft_monitor.h"

/* A burst of events (one `nft -f` of many commands, a flush) is checked once. */
#define SETTLE_MS 50

struct nft_monitor {
        struct loop *loop;
        struct manager *m;
        struct mnl_socket *nl;
        int fd;
        int timer_fd;
        bool armed;
        /* events of table inet vnet seen since the last NEWGEN: the transaction is not over
         * until its NEWGEN, which names the process that made it */
        bool touched;
        pid_t self;
        char buf[32768]; /* the largest netlink message batch the kernel sends */
};

static void arm(struct nft_monitor *mon)
{
        struct itimerspec its = { .it_value = { .tv_nsec = SETTLE_MS * 1000000L } };

        if (mon->armed)
                return;
        if (timerfd_settime(mon->timer_fd, 0, &its, NULL) < 0) {
                /* cannot wait: check now rather than not at all */
                manager_rules_check(mon->m);
                return;
        }
        mon->armed = true;
}

static void on_timer(struct loop *l, int fd, uint32_t events, void *userdata)
{
        struct nft_monitor *mon = userdata;
        uint64_t n;

        (void)l, (void)events;
        while (read(fd, &n, sizeof(n)) < 0 && errno == EINTR)
                ;
        mon->armed = false;
        manager_rules_check(mon->m);
}

static int attr_cb(const struct nlattr *a, void *data)
{
        const struct nlattr **tb = data;
        uint16_t type = mnl_attr_get_type(a);

        if (type <= NFTA_GEN_MAX) /* the largest index we read below */
                tb[type] = a;
        return MNL_CB_OK;
}

/* Every object message names its table in attribute 1 (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE,
 * NFTA_RULE_TABLE, NFTA_SET_TABLE, NFTA_SET_ELEM_LIST_TABLE, NFTA_OBJ_TABLE,
 * NFTA_FLOWTABLE_TABLE). */
static bool names_our_table(const struct nlmsghdr *nlh)
{
        const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *tb[NFTA_GEN_MAX + 1] = { 0 };

        if (g->nfgen_family != NFPROTO_INET)
                return false;
        if (mnl_attr_parse(nlh, sizeof(*g), attr_cb, tb) < 0 || !tb[1] ||
            mnl_attr_validate(tb[1], MNL_TYPE_NUL_STRING) < 0)
                return false;
        return strcmp(mnl_attr_get_str(tb[1]), VNET_NFT_TABLE) == 0;
}

static int on_event(const struct nlmsghdr *nlh, void *data)
{
        struct nft_monitor *mon = data;

        if (nlh->nlmsg_type >> 8 != NFNL_SUBSYS_NFTABLES)
                return MNL_CB_OK;
        switch (nlh->nlmsg_type & 0xff) {
        case NFT_MSG_NEWTABLE:
        case NFT_MSG_DELTABLE:
        case NFT_MSG_NEWCHAIN:
        case NFT_MSG_DELCHAIN:
        case NFT_MSG_NEWRULE:
        case NFT_MSG_DELRULE:
        case NFT_MSG_NEWSET:
        case NFT_MSG_DELSET:
        case NFT_MSG_NEWSETELEM:
        case NFT_MSG_DELSETELEM:
        case NFT_MSG_NEWOBJ:
        case NFT_MSG_DELOBJ:
        case NFT_MSG_NEWFLOWTABLE:
        case NFT_MSG_DELFLOWTABLE:
                if (names_our_table(nlh))
                        mon->touched = true;
                break;
        case NFT_MSG_NEWGEN: {
                const struct nlattr *tb[NFTA_GEN_MAX + 1] = { 0 };
                pid_t pid = 0;

                /* The end of a transaction. Its events were ours if the process that made
                 * it is this one; without the attribute, be safe and check. */
                if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, tb) >= 0 &&
                    tb[NFTA_GEN_PROC_PID] && mnl_attr_validate(tb[NFTA_GEN_PROC_PID], MNL_TYPE_U32) == 0)
                        pid = (pid_t)ntohl(mnl_attr_get_u32(tb[NFTA_GEN_PROC_PID]));
                if (mon->touched && pid != mon->self)
                        arm(mon);
                mon->touched = false;
                break;
        }
        default: /* an int, not an enum: other messages are not about objects */
                break;
        }
        return MNL_CB_OK;
}

static void on_readable(struct loop *l, int fd, uint32_t events, void *userdata)
{
        struct nft_monitor *mon = userdata;

        (void)l, (void)events;
        for (;;) {
                ssize_t n = recv(fd, mon->buf, sizeof(mon->buf), MSG_DONTWAIT);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == ENOBUFS) {
                        /* events were lost, possibly someone else's: look at the table */
                        log_warning("nftables events were lost; checking the firewall table");
                        mon->touched = false;
                        arm(mon);
                        continue;
                }
                if (n < 0) {
                        if (errno != EAGAIN)
                                log_warning("nftables events: %m");
                        break;
                }
                /* seq 0, portid 0: events are nobody's answer */
                if (mnl_cb_run(mon->buf, (size_t)n, 0, 0, on_event, mon) < 0 && errno != 0)
                        log_debug("nftables events: %m");
        }
}

int nft_monitor_new(struct loop *l, struct manager *m, struct nft_monitor **ret)
{
        struct nft_monitor *mon = calloc(1, sizeof(*mon));
        int group = NFNLGRP_NFTABLES, size = 4 * 1024 * 1024, r;

        if (!mon)
                return -ENOMEM;
        mon->loop = l;
        mon->m = m;
        mon->fd = -1;
        mon->self = getpid();
        mon->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (mon->timer_fd < 0) {
                r = -errno;
                goto fail;
        }
        mon->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (!mon->nl || mnl_socket_bind(mon->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
            mnl_socket_setsockopt(mon->nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
                r = -errno;
                goto fail;
        }
        mon->fd = mnl_socket_get_fd(mon->nl);
        /* a flush of a big table is thousands of events; ENOBUFS is handled, but costs a check */
        if (setsockopt(mon->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
                (void)setsockopt(mon->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        r = loop_add(l, mon->timer_fd, EPOLLIN, on_timer, mon);
        if (r < 0)
                goto fail;
        r = loop_add(l, mon->fd, EPOLLIN, on_readable, mon);
        if (r < 0) {
                loop_del(l, mon->timer_fd);
                goto fail;
        }
        *ret = mon;
        return 0;
fail:
        if (mon->nl)
                mnl_socket_close(mon->nl);
        if (mon->timer_fd >= 0)
                close(mon->timer_fd);
        free(mon);
        return r;
}

void nft_monitor_free(struct nft_monitor *mon)
{
        if (!mon)
                return;
        loop_del(mon->loop, mon->fd);
        loop_del(mon->loop, mon->timer_fd);
        mnl_socket_close(mon->nl);
        close(mon->timer_fd);
        free(mon);
}
