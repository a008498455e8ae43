/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "log.h"
#include "monitor.h"

/* The latest event of one link in the messages read so far. */
struct link_event {
        int ifindex;
        bool deleted;
        int master;
        bool carrier;
        bool went_down; /* down or deleted in any of the events read */
};

struct monitor {
        struct loop *loop;
        struct manager *m;
        struct nl_sock *sk;
        int fd;
        /* Events are handled once the socket is drained, the latest of each link only: an
         * attach announces a TAP first without its bridge, then on it, and only the state
         * the link is in now should count (and cost a look at the link, if anything). */
        struct link_event *pending;
        size_t n_pending, cap_pending;
};

static void note(struct monitor *mon, const struct link_event *ev)
{
        struct link_event *v;

        for (size_t i = 0; i < mon->n_pending; i++) {
                if (mon->pending[i].ifindex == ev->ifindex) {
                        bool down = mon->pending[i].went_down;
                        mon->pending[i] = *ev;
                        mon->pending[i].went_down |= down;
                        return;
                }
        }
        if (mon->n_pending == mon->cap_pending) {
                size_t cap = mon->cap_pending ? 2 * mon->cap_pending : 16;
                v = realloc(mon->pending, cap * sizeof(*v));
                if (!v) {
                        /* Handle it now rather than lose it. */
                        if (ev->went_down)
                                manager_link_down(mon->m, ev->ifindex);
                        manager_link_event(mon->m, ev->ifindex, ev->deleted, ev->master,
                                           ev->carrier);
                        return;
                }
                mon->pending = v;
                mon->cap_pending = cap;
        }
        mon->pending[mon->n_pending++] = *ev;
}

static void dispatch(struct monitor *mon)
{
        /* Handlers do not read the socket, so nothing is added while this runs. */
        for (size_t i = 0; i < mon->n_pending; i++) {
                const struct link_event *ev = &mon->pending[i];
                if (ev->went_down)
                        manager_link_down(mon->m, ev->ifindex);
                manager_link_event(mon->m, ev->ifindex, ev->deleted, ev->master, ev->carrier);
        }
        mon->n_pending = 0;
}

static int on_msg(struct nl_msg *msg, void *arg)
{
        struct monitor *mon = arg;
        struct nlmsghdr *nlh = nlmsg_hdr(msg);
        struct nlattr *tb[IFLA_MAX + 1];
        struct ifinfomsg *ifi;
        struct link_event ev = { 0 };

        if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
                return NL_OK;
        if (nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
                return NL_OK;
        ifi = nlmsg_data(nlh);
        /* A port leaving a bridge is announced as an AF_BRIDGE RTM_DELLINK: the link itself
         * stays. Only the generic family speaks of links as such. */
        if (ifi->ifi_family != AF_UNSPEC)
                return NL_OK;
        ev.ifindex = ifi->ifi_index;
        ev.deleted = nlh->nlmsg_type == RTM_DELLINK;
        if (tb[IFLA_MASTER])
                ev.master = (int)nla_get_u32(tb[IFLA_MASTER]);
        ev.carrier = (ifi->ifi_flags & IFF_LOWER_UP) != 0;
        /* Down now, and IFF_UP among the flags that changed: the kernel announces a new
         * link, down, with every flag "changed" (~0), and that flushed nothing. */
        ev.went_down = ev.deleted || (!(ifi->ifi_flags & IFF_UP) && (ifi->ifi_change & IFF_UP) &&
                                      ifi->ifi_change != ~0u);
        note(mon, &ev);
        return NL_OK;
}

static void on_readable(struct loop *l, int fd, uint32_t events, void *userdata)
{
        struct monitor *mon = userdata;
        int r;

        (void)l, (void)fd, (void)events;
        for (;;) {
                r = nl_recvmsgs_default(mon->sk);
                if (r >= 0)
                        continue;
                if (r == -NLE_AGAIN)
                        break;
                /* Events were lost (the socket overran): look at every port afresh. */
                if (r == -NLE_NOMEM || r == -NLE_MSG_OVERFLOW) {
                        log_warning("link events were lost; re-reading ports");
                        dispatch(mon);
                        manager_link_down(mon->m, 0); /* and a link may have gone down */
                        manager_link_resync(mon->m);
                        continue;
                }
                log_warning("link events: %s", nl_geterror(r));
                break;
        }
        dispatch(mon);
}

int monitor_new(struct loop *l, struct manager *m, struct monitor **ret)
{
        struct monitor *mon = calloc(1, sizeof(*mon));
        int r = -ENOMEM;

        if (!mon)
                return -ENOMEM;
        mon->loop = l;
        mon->m = m;
        mon->fd = -1;
        mon->sk = nl_socket_alloc();
        if (!mon->sk)
                goto fail;
        nl_socket_disable_seq_check(mon->sk);
        nl_socket_modify_cb(mon->sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, mon);
        r = nl_connect(mon->sk, NETLINK_ROUTE);
        if (r == 0)
                r = nl_socket_add_memberships(mon->sk, RTNLGRP_LINK, 0);
        if (r == 0)
                r = nl_socket_set_nonblocking(mon->sk);
        if (r == 0)
                r = nl_socket_set_buffer_size(mon->sk, 4 * 1024 * 1024, 0);
        if (r < 0) {
                r = -EIO;
                goto fail;
        }
        mon->fd = nl_socket_get_fd(mon->sk);
        r = loop_add(l, mon->fd, EPOLLIN, on_readable, mon);
        if (r < 0)
                goto fail;
        *ret = mon;
        return 0;
fail:
        if (mon->sk)
                nl_socket_free(mon->sk);
        free(mon);
        return r;
}

void monitor_free(struct monitor *mon)
{
        if (!mon)
                return;
        loop_del(mon->loop, mon->fd);
        nl_socket_free(mon->sk);
        free(mon->pending);
        free(mon);
}
