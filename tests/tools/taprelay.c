/* SPDX-License-Identifier: GPL-2.0-or-later */
/* taprelay TAPNAME VETHNAME: plays a VMM for tests. Opens the existing TAP by name (never
 * creates one) and an AF_PACKET socket bound to VETHNAME, and copies frames both ways until
 * SIGTERM or SIGINT (exit 0). With the veth's peer in a guest namespace, that namespace's
 * stack is the guest behind the TAP; opening the TAP gives it carrier, as a VMM does.
 *
 * Both ends carry a virtio_net_hdr (IFF_VNET_HDR, PACKET_VNET_HDR), like QEMU's virtio-net
 * backend: a frame from the guest's veth may still need its checksum filled in or be a
 * GSO super-frame, and the header says so to the TAP instead of the relay having to do it.
 * The TAP gets no offloads (no TUNSETOFFLOAD), so what comes out of it is finished frames. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"

#define RELAY_BUF (128 * 1024) /* a 64 KiB GSO frame and its header */
#define RELAY_BURST 64         /* frames moved per wake-up per direction, for fairness */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

static int fail(const char *what, int r)
{
        const char *name = strerrorname_np(-r);

        fprintf(stderr, "taprelay: %s: %s (%s)\n", what, name ? name : "?", strerror(-r));
        return 1;
}

/* The veth end the relay reads is a wire, not an interface of the host: were it to answer
 * ARP (the host answers for all its addresses on every interface), a guest could take it for
 * its gateway and send around the bridge, where vnetd's rules never see its traffic. */
static int make_wire(int fd, const char *ifname)
{
        struct ifreq ifr = { 0 };

        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        ifr.ifr_flags |= IFF_NOARP;
        return ioctl(fd, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

static int open_packet(const char *ifname, int *ret)
{
        struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
        int one = 1, fd, r = 0;

        sll.sll_ifindex = (int)if_nametoindex(ifname);
        if (sll.sll_ifindex == 0)
                return -ENODEV;
        fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
        if (fd < 0)
                return -errno;
        /* Without PACKET_IGNORE_OUTGOING the socket also reads what leaves the veth toward
         * the guest, i.e. frames that came from the TAP. */
        r = make_wire(fd, ifname);
        if (r == 0 && (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0 ||
            setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0))
                r = -errno;
        if (r < 0)
                close(fd);
        else
                *ret = fd;
        return r;
}

/* Moves up to RELAY_BURST frames; a frame the other side refuses is dropped, as a NIC would.
 * 0, or -errno when reading fails for good. */
static int pump(int from, int to, unsigned char *buf)
{
        for (int i = 0; i < RELAY_BURST; i++) {
                ssize_t n = read(from, buf, RELAY_BUF);

                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                (void)!write(to, buf, (size_t)n);
        }
        return 0;
}

int main(int argc, char **argv)
{
        static unsigned char buf[RELAY_BUF];
        struct sigaction sa = { .sa_handler = on_signal };
        sigset_t block, empty;
        struct pollfd p[2];
        int tap = -1, pkt = -1, r;

        if (argc != 3) {
                fprintf(stderr, "usage: taprelay TAPNAME VETHNAME\n");
                return 2;
        }
        /* Blocked except inside ppoll, so a signal cannot slip in between check and wait. */
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGINT);
        sigemptyset(&empty);
        sigprocmask(SIG_BLOCK, &block, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        r = vnet_tap_open_by_name(argv[1], false, true, &tap);
        if (r == -EINVAL) /* a multiqueue TAP: take one queue */
                r = vnet_tap_open_by_name(argv[1], true, true, &tap);
        if (r < 0)
                return fail(argv[1], r);
        r = open_packet(argv[2], &pkt);
        if (r < 0) {
                close(tap);
                return fail(argv[2], r);
        }
        if (fcntl(tap, F_SETFL, fcntl(tap, F_GETFL) | O_NONBLOCK) < 0) {
                r = -errno;
                goto out;
        }
        p[0] = (struct pollfd){ .fd = tap, .events = POLLIN };
        p[1] = (struct pollfd){ .fd = pkt, .events = POLLIN };
        while (!stop) {
                if (ppoll(p, 2, NULL, &empty) < 0) {
                        r = errno == EINTR ? 0 : -errno;
                        if (r < 0)
                                break;
                        continue;
                }
                if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
                        r = -EIO; /* the TAP was deleted under us */
                        break;
                }
                /* The veth went down (the socket reports ENETDOWN, cleared by reading it) or
                 * away: without this the error would make every ppoll return at once. */
                if (p[1].revents & (POLLERR | POLLHUP | POLLNVAL)) {
                        int err = 0;
                        socklen_t len = sizeof(err);
                        (void)getsockopt(pkt, SOL_SOCKET, SO_ERROR, &err, &len);
                        if ((p[1].revents & (POLLHUP | POLLNVAL)) || !if_nametoindex(argv[2])) {
                                r = -ENODEV;
                                break;
                        }
                }
                if ((p[0].revents & POLLIN) && (r = pump(tap, pkt, buf)) < 0)
                        break;
                if ((p[1].revents & POLLIN) && (r = pump(pkt, tap, buf)) < 0)
                        break;
        }
out:
        close(pkt);
        close(tap);
        return r < 0 ? fail("relay", r) : 0;
}
