/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TAP devices over /dev/net/tun ioctls.
 *
 * A TAP lives as long as an fd is attached to it or it is persistent. Creation therefore sets
 * everything (owner, group) before TUNSETPERSIST: until then, closing the fd is the whole
 * rollback. TUNSETIFF both creates and attaches, so every path says which one it means:
 * IFF_TUN_EXCL when creating, an ifindex check when only attaching. */

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tap.h"

#define TUN_PATH "/dev/net/tun"

/* Linux 6.0: TUNSETIFF leaves the carrier off instead of turning it on. Older kernels drop
 * flags they do not know, so it costs nothing there. */
#ifndef IFF_NO_CARRIER
#define IFF_NO_CARRIER 0x0040
#endif

void vnet_tap_mac(const uint8_t guest_mac[6], uint8_t tap_mac[6])
{
        memmove(tap_mac, guest_mac, 6);
        tap_mac[0] = 0xfe;
}

static bool tap_name_ok(const char *ifname)
{
        return ifname && ifname[0] != '\0' && strlen(ifname) < IFNAMSIZ;
}

static int tap_setiff(int fd, const char *ifname, short flags)
{
        struct ifreq ifr = { .ifr_flags = flags };

        memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
        return ioctl(fd, TUNSETIFF, &ifr) < 0 ? -errno : 0;
}

static int tap_open_dev(int *fd)
{
        *fd = open(TUN_PATH, O_RDWR | O_CLOEXEC);
        return *fd < 0 ? -errno : 0;
}

/* Creates the TAP and returns its fd; persistent or not, nothing is left on failure. */
static int tap_create_fd(const struct vnet_tap_spec *s, bool persist, int *ret_fd)
{
        short flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL;
        int fd = -1, r;

        /* Without owner and group any user may open a persistent TAP; a transient one handed
         * out for a multiqueue VMM could get foreign queues the same way. */
        if (!tap_name_ok(s->ifname) || (s->owner == (uid_t)-1 && s->group == (gid_t)-1) ||
            s->queues > VNET_TAP_MAX_QUEUES)
                return -EINVAL;
        if (s->queues > 1)
                flags |= IFF_MULTI_QUEUE;
        if (s->vnet_hdr)
                flags |= IFF_VNET_HDR;
        /* Only a VMM's fd should ever raise a persistent TAP's carrier. Ours would for the
         * moment until it is closed, and a carrier that just fell is not settled yet when the
         * TAP joins a bridge: the bridge then enables the port and disables it again. */
        if (persist || s->no_carrier)
                flags |= IFF_NO_CARRIER;

        r = tap_open_dev(&fd);
        if (r < 0)
                goto fail;
        r = tap_setiff(fd, s->ifname, flags);
        /* IFF_TUN_EXCL: the name exists, whatever kind of interface it is. */
        if (r == -EBUSY)
                r = -EEXIST;
        if (r < 0)
                goto fail;
        if (s->owner != (uid_t)-1 && ioctl(fd, TUNSETOWNER, (unsigned long)s->owner) < 0) {
                r = -errno;
                goto fail;
        }
        if (s->group != (gid_t)-1 && ioctl(fd, TUNSETGROUP, (unsigned long)s->group) < 0) {
                r = -errno;
                goto fail;
        }
        if (persist && ioctl(fd, TUNSETPERSIST, 1UL) < 0) {
                r = -errno;
                goto fail;
        }
        *ret_fd = fd;
        return 0;
fail:
        if (fd >= 0)
                close(fd);
        return r;
}

int vnet_tap_create(const struct vnet_tap_spec *s, int *ifindex)
{
        unsigned idx = 0;
        int fd, r;

        r = tap_create_fd(s, true, &fd);
        if (r < 0)
                return r;
        /* While the fd holds it, the name is this TAP's. */
        if (ifindex && (idx = if_nametoindex(s->ifname)) == 0) {
                r = -errno;
                (void)ioctl(fd, TUNSETPERSIST, 0UL);
        }
        close(fd);
        if (r == 0 && ifindex)
                *ifindex = (int)idx;
        return r;
}

int vnet_tap_open_transient(const struct vnet_tap_spec *s, int *fd)
{
        return tap_create_fd(s, false, fd);
}

/* TUNSETIFF on the existing TAP @ifname, or -ENODEV; also if it is not the one of index
 * @ifindex, when that is given. */
static int tap_attach_existing(int fd, const char *ifname, int ifindex, short flags)
{
        unsigned before;
        int r;

        if (!tap_name_ok(ifname))
                return -EINVAL;
        before = if_nametoindex(ifname);
        if (before == 0 || (ifindex > 0 && before != (unsigned)ifindex))
                return -ENODEV;
        r = tap_setiff(fd, ifname, flags);
        if (r < 0)
                return r;
        /* The TAP went away in between and TUNSETIFF made a new, transient one: it goes when
         * the caller closes the fd. */
        if (if_nametoindex(ifname) != before)
                return -ENODEV;
        return 0;
}

int vnet_tap_persist(int fd)
{
        return ioctl(fd, TUNSETPERSIST, 1UL) < 0 ? -errno : 0;
}

int vnet_tap_attach(int fd, const char *ifname, bool multi_queue, bool vnet_hdr)
{
        short flags = IFF_TAP | IFF_NO_PI;

        if (multi_queue)
                flags |= IFF_MULTI_QUEUE;
        if (vnet_hdr)
                flags |= IFF_VNET_HDR;
        return tap_attach_existing(fd, ifname, 0, flags);
}

int vnet_tap_set_owner(const char *ifname, int ifindex, uid_t owner, gid_t group)
{
        int fd = -1, r;

        /* The kernel takes no "none": an owner can be changed, not removed. */
        if (owner == (uid_t)-1)
                return -EINVAL;
        r = tap_open_dev(&fd);
        if (r < 0)
                return r;
        /* No carrier: the TAP is persistent and nobody else holds it (see tap_create_fd). */
        r = tap_attach_existing(fd, ifname, ifindex, IFF_TAP | IFF_NO_PI | IFF_NO_CARRIER);
        if (r == 0 && ioctl(fd, TUNSETOWNER, (unsigned long)owner) < 0)
                r = -errno;
        if (r == 0 && group != (gid_t)-1 && ioctl(fd, TUNSETGROUP, (unsigned long)group) < 0)
                r = -errno;
        close(fd);
        return r;
}

int vnet_tap_open_by_name(const char *ifname, bool multi_queue, bool vnet_hdr, int *ret_fd)
{
        int fd = -1, r;

        r = tap_open_dev(&fd);
        if (r < 0)
                goto fail;
        r = vnet_tap_attach(fd, ifname, multi_queue, vnet_hdr);
        if (r < 0)
                goto fail;
        *ret_fd = fd;
        return 0;
fail:
        if (fd >= 0)
                close(fd);
        return r;
}

int vnet_tap_delete(const char *ifname)
{
        int fd = -1, r;

        r = tap_open_dev(&fd);
        if (r < 0)
                goto out;
        /* The queue mode must match the TAP's; a failed TUNSETIFF leaves the fd unattached. */
        r = vnet_tap_attach(fd, ifname, false, false);
        if (r == -EINVAL)
                r = vnet_tap_attach(fd, ifname, true, false);
        if (r < 0)
                goto out;
        if (ioctl(fd, TUNSETPERSIST, 0UL) < 0)
                r = -errno;
out:
        /* With persistence off, closing the last fd unregisters the device. */
        if (fd >= 0)
                close(fd);
        return r;
}
