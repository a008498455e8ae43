/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TAP devices for guest ports: persistent, owned, opened later by name by a VMM.
 * See DESIGN.md "Ports and VMMs". The TAP's MAC, MTU, bridge and device group are link
 * attributes, set in one netlink request by vnet_link_enslave() (link.h). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The kernel's MAX_TAP_QUEUES: a multiqueue TAP is allocated with this many queues, of which
 * as many are live as there are open fds attached to it. */
#define VNET_TAP_MAX_QUEUES 256

struct vnet_tap_spec {
        const char *ifname; /* the name to create */
        uid_t owner;        /* (uid_t)-1: none */
        gid_t group;        /* (gid_t)-1: none; at least one of owner/group must be set */
        unsigned queues;    /* 0 or 1: single queue; 2..VNET_TAP_MAX_QUEUES: IFF_MULTI_QUEUE */
        bool vnet_hdr;      /* IFF_VNET_HDR (the bridge helper path) */
        bool no_carrier;    /* vnet_tap_open_transient(): the fd does not raise the carrier
                             * (always so for vnet_tap_create()) */
};

/* The TAP's own MAC: the guest MAC with the first byte 0xFE. Higher than any MAC a guest or
 * a real NIC has, so a bridge without its own MAC never takes it, and still unicast and
 * locally administered. */
void vnet_tap_mac(const uint8_t guest_mac[6], uint8_t tap_mac[6]);

/* Creates a persistent TAP (TUNSETIFF, TUNSETOWNER/TUNSETGROUP, TUNSETPERSIST) in the calling
 * thread's network namespace and closes its fd, so that the owner can open it by name later;
 * a multiqueue TAP then takes one queue per open with IFF_MULTI_QUEUE. -EEXIST if the name is
 * taken (by any interface), -EINVAL if neither owner nor group is set or queues is out of
 * range. On failure nothing is left behind. @ifindex, if not NULL, gets the new TAP's index. */
int vnet_tap_create(const struct vnet_tap_spec *s, int *ifindex);

/* Creates like vnet_tap_create but keeps and returns the open fd (*fd, close-on-exec) instead
 * of closing it; the TAP is not persistent, so it disappears when the last fd is closed. For
 * the bridge helper, which hands the fd to QEMU. */
int vnet_tap_open_transient(const struct vnet_tap_spec *s, int *fd);

/* Makes the TAP that @fd holds persistent: it then outlives the fd. */
int vnet_tap_persist(int fd);

/* Deletes a persistent TAP by name (TUNSETPERSIST 0 on a fresh fd attached to it). -ENODEV
 * if there is no interface of that name, -EINVAL if it is not a TAP, -EBUSY if it is
 * single-queue and a VMM holds it open (vnet_link_delete() removes it anyway). */
int vnet_tap_delete(const char *ifname);

/* Attaches @fd, an open /dev/net/tun, to the existing TAP @ifname as a VMM does (one queue;
 * @multi_queue must match how the TAP was created, else -EINVAL). Never creates a TAP:
 * -ENODEV if there is none of that name. The kernel checks the caller against the TAP's owner
 * and group here (-EPERM), unless it has CAP_NET_ADMIN. Separate from the open so that a
 * caller can open /dev/net/tun first and drop privileges before attaching. */
int vnet_tap_attach(int fd, const char *ifname, bool multi_queue, bool vnet_hdr);

/* Gives the existing persistent single-queue TAP @ifname, of index @ifindex (else -ENODEV),
 * owner @owner and, unless it is -1, group @group, without raising its carrier. The kernel
 * can change an owner or group but not remove one: -EINVAL for owner -1, and a group the TAP
 * had stays when @group is -1. */
int vnet_tap_set_owner(const char *ifname, int ifindex, uid_t owner, gid_t group);

/* Opens /dev/net/tun and vnet_tap_attach()es it; *fd is close-on-exec. */
int vnet_tap_open_by_name(const char *ifname, bool multi_queue, bool vnet_hdr, int *fd);
