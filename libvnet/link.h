/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Links, bridges, addresses and routes over rtnetlink (libnl-route-3). */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "model.h"

#define VNET_ALIAS_PREFIX "vnet:" /* ifalias of a bridge vnetd made: "vnet:NETWORK" */

struct vnet_link; /* a libnl route socket */

struct vnet_bridge_spec {
        const char *name;  /* bridge interface name */
        const char *alias; /* IFLA_IFALIAS to set, e.g. "vnet:default" */
        unsigned mtu;
        uint8_t mac[6];
        bool stp;              /* forward delay is always 0 */
        struct vnet_ipv4 ipv4; /* prefix 0: no address */
};

struct vnet_link_info {
        int ifindex;
        char name[16];
        char kind[16]; /* "bridge", "tun", "veth", "" */
        char alias[64];
        unsigned mtu;
        uint8_t mac[6];
        bool up;      /* IFF_UP */
        bool carrier; /* IFF_LOWER_UP */
        int master;   /* ifindex of the bridge it is enslaved to, 0 if none */
        uint32_t group; /* device group, 0 the default */
};

int vnet_link_open(struct vnet_link **ret);
void vnet_link_close(struct vnet_link *l);

/* 0 and @info filled, -ENODEV if no such interface, or -errno. */
int vnet_link_get(struct vnet_link *l, const char *name, struct vnet_link_info *info);
int vnet_link_get_index(struct vnet_link *l, int ifindex, struct vnet_link_info *info);

/* Creates the bridge with MAC, MTU, STP state, forward delay 0, alias and address, up.
 * -EEXIST if the name is taken. On failure nothing is left behind. */
int vnet_bridge_create(struct vnet_link *l, const struct vnet_bridge_spec *s, int *ifindex);

/* Converges an existing bridge to @s in place (never deletes it): MTU, MAC, STP, forward
 * delay, alias, the address (adds it; removes other IPv4 addresses), up. Touches only what
 * differs, so a bridge that already matches sees no change at all. */
int vnet_bridge_apply(struct vnet_link *l, int ifindex, const struct vnet_bridge_spec *s);

int vnet_link_delete(struct vnet_link *l, int ifindex);

/* What a port's interface gets when it joins a bridge. */
struct vnet_port_link {
        int master;     /* ifindex of the bridge */
        unsigned mtu;   /* the bridge's; 0: leave alone */
        uint8_t mac[6]; /* the interface's own MAC (vnet_tap_mac()); all zero: leave alone,
                         * as for an adopted veth whose MAC belongs to its container */
        uint32_t group; /* device group (vnet_link_delete_group()); 0: leave alone */
        bool keep_down; /* do not bring it up (a spare TAP waiting for its port) */
};

/* Sets MAC, MTU and group, brings the link up (unless @p->keep_down) and enslaves it to the
 * bridge, in one RTM_SETLINK. The kernel applies them in that order (MAC, MTU, group, up,
 * master) and stops at the first it refuses without undoing the earlier ones: on failure the
 * link may carry the new MAC, MTU and group and be up, but it is on no new bridge
 * (-EOPNOTSUPP: @master is no bridge). Not free when nothing differs (the kernel still sends
 * link events): a reconcile compares with vnet_link_get() first. */
int vnet_link_enslave(struct vnet_link *l, int ifindex, const struct vnet_port_link *p);

/* Takes the link off its bridge (nomaster); it stays up. For adopted interfaces, which are
 * not ours to delete. 0 also if it was on no bridge. */
int vnet_link_release(struct vnet_link *l, int ifindex);

/* Moves the link to device group @group (0 is the default group). */
int vnet_link_set_group(struct vnet_link *l, int ifindex, uint32_t group);

/* Deletes every link of device group @group in one RTM_DELLINK: one unregister batch, so one
 * RCU grace period for all of them instead of one each. -EINVAL for group 0 (the default
 * group: every link of the namespace), -ENODEV if the group has no link, -EOPNOTSUPP (and
 * nothing deleted) if one of them is a device that cannot be deleted (lo). */
int vnet_link_delete_group(struct vnet_link *l, uint32_t group);

/* Whether @subnet/@prefix overlaps an IPv4 address or route in this namespace on any interface
 * other than @ignore_ifindex (0: none ignored). Returns 1 and describes the conflicting object
 * in @what ("address 10.0.0.1/24 on eth0", "route 10.0.0.0/8 via eth1"), 0 if free, -errno. */
int vnet_link_ipv4_conflict(struct vnet_link *l, struct in_addr subnet, unsigned prefix,
                            int ignore_ifindex, char *what, size_t what_len);

/* Interface @ifindex went down or away: IPv4 drops the routes through it without a
 * notification, so the conflict check reads them afresh if it knew any. vnet_link_delete()
 * forgets what went with the link itself; the link monitor tells of what others do.
 * @ifindex 0: some interface, not known which (link events were lost). */
void vnet_link_note_down(struct vnet_link *l, int ifindex);

/* Whether interface @ifindex carries an IPv4 address or a main-table route (then it is some
 * host's uplink, not a guest's port): 1 with a description in @what, 0, or -errno. */
int vnet_link_in_use(struct vnet_link *l, int ifindex, char *what, size_t what_len);

/* Sets net.ipv4.ip_forward=1 in the current namespace. */
int vnet_sysctl_enable_ip_forward(void);
