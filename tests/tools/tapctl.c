/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tapctl: a test CLI over libvnet/tap.c and the port calls of libvnet/link.c. Run it only
 * inside a test network namespace: TAPs are made in the namespace of the caller.
 *
 *   tapctl create NAME OWNER GROUP QUEUES VNETHDR  OWNER/GROUP "-": none; VNETHDR 0|1
 *   tapctl transient NAME OWNER GROUP QUEUES       create without persistence, close again
 *   tapctl delete NAME
 *   tapctl enslave NAME BRIDGE GUESTMAC GROUP      GUESTMAC "none": keep the MAC; MTU: the
 *                                                  bridge's; GROUP 0: leave alone
 *   tapctl release NAME
 *   tapctl delete-group GROUP
 *   tapctl open NAME QUEUES [UID GID]              attach QUEUES queues as a VMM would,
 *                                                  after dropping to UID/GID if given
 *   tapctl bench N BRIDGE                          per-port attach cost; group delete
 *   tapctl helper HELPER BR [CMD...]               QEMU's side of -netdev bridge: runs
 *                                                  "HELPER --use-vnet --fd=N --br=BR", takes
 *                                                  the TAP it passes and prints its name;
 *                                                  with CMD, runs it while holding the TAP
 *                                                  ($TAPCTL_IFNAME: its name), then closes it
 *
 * Errors print "tapctl: VERB: ENAME (message)" on stderr and exit 1. helper exits 1 without a
 * line of its own when HELPER or CMD fails: their stderr is tapctl's. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "link.h"
#include "model.h"
#include "tap.h"

#define BENCH_SAMPLES 100
#define BENCH_GROUP_BASE 0xbe01u
#define BENCH_GROUP_SAMPLE 0xbe02u

static int fail(const char *verb, int r)
{
        const char *name = strerrorname_np(-r);

        fprintf(stderr, "tapctl: %s: %s (%s)\n", verb, name ? name : "?", strerror(-r));
        return 1;
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
        char *end;

        errno = 0;
        *out = strtoul(s, &end, 0);
        return (errno || end == s || *end || *out > max) ? -EINVAL : 0;
}

static int parse_id(const char *s, unsigned *out)
{
        unsigned long v;

        if (strcmp(s, "-") == 0) {
                *out = (unsigned)-1;
                return 0;
        }
        if (parse_ulong(s, 0xfffffffeul, &v) < 0)
                return -EINVAL;
        *out = (unsigned)v;
        return 0;
}

static int parse_spec(char **argv, struct vnet_tap_spec *s)
{
        unsigned long q;
        unsigned owner, group;

        if (parse_id(argv[1], &owner) < 0 || parse_id(argv[2], &group) < 0 ||
            parse_ulong(argv[3], VNET_TAP_MAX_QUEUES + 1ul, &q) < 0)
                return -EINVAL;
        *s = (struct vnet_tap_spec){
                .ifname = argv[0], .owner = owner, .group = group, .queues = (unsigned)q,
        };
        return 0;
}

static int ifindex_of(const char *name, int *ifindex)
{
        unsigned i = if_nametoindex(name);

        if (i == 0)
                return -ENODEV;
        *ifindex = (int)i;
        return 0;
}

static int enslave(struct vnet_link *l, const char *name, const char *bridge, const char *mac,
                   const char *group)
{
        struct vnet_port_link p = { 0 };
        struct vnet_link_info br;
        struct vnet_err e;
        uint8_t guest[6];
        unsigned long g;
        int ifindex, r;

        if (parse_ulong(group, 0xfffffffful, &g) < 0)
                return -EINVAL;
        if (strcmp(mac, "none") != 0) {
                if (vnet_parse_mac(mac, guest, "mac", &e) < 0)
                        return -EINVAL;
                vnet_tap_mac(guest, p.mac);
        }
        r = vnet_link_get(l, bridge, &br);
        if (r < 0)
                return r;
        r = ifindex_of(name, &ifindex);
        if (r < 0)
                return r;
        p.master = br.ifindex;
        p.mtu = br.mtu;
        p.group = (uint32_t)g;
        return vnet_link_enslave(l, ifindex, &p);
}

static unsigned count_tx_queues(const char *name)
{
        char path[64];
        struct dirent *d;
        unsigned n = 0;
        DIR *dir;

        snprintf(path, sizeof(path), "/sys/class/net/%s/queues", name);
        dir = opendir(path);
        if (!dir)
                return 0;
        while ((d = readdir(dir)))
                n += strncmp(d->d_name, "tx-", 3) == 0;
        closedir(dir);
        return n;
}

/* /dev/net/tun is opened while still root (it may be 0600), then the ids are dropped, so the
 * kernel's owner check at TUNSETIFF sees the VMM's uid without CAP_NET_ADMIN. */
static int open_queues(char **argv, int argc)
{
        unsigned long q, uid = 0, gid = 0;
        int fds[VNET_TAP_MAX_QUEUES], n = 0, r = 0;

        if (parse_ulong(argv[1], VNET_TAP_MAX_QUEUES, &q) < 0 || q == 0 ||
            (argc == 4 && (parse_ulong(argv[2], 0xfffffffeul, &uid) < 0 ||
                           parse_ulong(argv[3], 0xfffffffeul, &gid) < 0)))
                return -EINVAL;
        for (; n < (int)q; n++) {
                fds[n] = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
                if (fds[n] < 0) {
                        r = -errno;
                        goto out;
                }
        }
        if (argc == 4 && (setgroups(0, NULL) < 0 ||
                          setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0 ||
                          setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)) {
                r = -errno;
                goto out;
        }
        for (int i = 0; i < n && r == 0; i++)
                r = vnet_tap_attach(fds[i], argv[0], q > 1, false);
        if (r == 0)
                printf("queues=%u\n", count_tx_queues(argv[0]));
out:
        for (int i = 0; i < n; i++)
                close(fds[i]);
        return r;
}

static int transient(char **argv)
{
        struct vnet_tap_spec s;
        int fd, r;

        r = parse_spec(argv, &s);
        if (r == 0)
                r = vnet_tap_open_transient(&s, &fd);
        if (r < 0)
                return r;
        printf("open: exists=%d", if_nametoindex(argv[0]) != 0);
        close(fd);
        printf(" closed: exists=%d\n", if_nametoindex(argv[0]) != 0);
        return 0;
}

/* Runs argv[0] (with $TAPCTL_IFNAME if @ifname) and waits: 0 if it exited 0, else 1. */
static int run(char **argv, int keep_fd, const char *ifname)
{
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if ((keep_fd >= 0 && fcntl(keep_fd, F_SETFD, 0) < 0) ||
                    (ifname && setenv("TAPCTL_IFNAME", ifname, 1) < 0))
                        _exit(127);
                execvp(argv[0], argv);
                fprintf(stderr, "tapctl: helper: cannot run %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/* What QEMU's net_bridge_run_helper() does: one end of a socket pair for the helper (its only
 * descriptor without close-on-exec), then one byte of data carrying the TAP. */
static int helper(char **argv, int argc)
{
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        char byte, fdarg[32], *brarg = NULL, *args[5];
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf) };
        struct cmsghdr *cm;
        struct ifreq ifr = { 0 };
        int sv[2], tap = -1, r;
        ssize_t n;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        snprintf(fdarg, sizeof(fdarg), "--fd=%d", sv[1]);
        if (asprintf(&brarg, "--br=%s", argv[1]) < 0) {
                brarg = NULL;
                r = -ENOMEM;
                goto out;
        }
        args[0] = argv[0];
        args[1] = "--use-vnet";
        args[2] = fdarg;
        args[3] = brarg;
        args[4] = NULL;
        /* The helper has exited when run() returns; what it sent waits in the socket. */
        r = run(args, sv[1], NULL);
        close(sv[1]);
        sv[1] = -1;
        if (r != 0)
                goto out;
        do
                n = recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
        if (n < 0)
                r = -errno;
        else if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
                 cm->cmsg_len != CMSG_LEN(sizeof(int)) || (mh.msg_flags & MSG_CTRUNC))
                r = -EBADMSG; /* exit status 0 and no descriptor: QEMU would fail too */
        if (r < 0)
                goto out;
        memcpy(&tap, CMSG_DATA(cm), sizeof(int));
        if (ioctl(tap, TUNGETIFF, &ifr) < 0) {
                r = -errno;
                goto out;
        }
        printf("%s\n", ifr.ifr_name);
        fflush(stdout);
        if (argc > 2)
                r = run(argv + 2, -1, ifr.ifr_name);
out:
        if (tap >= 0)
                close(tap);
        if (sv[1] >= 0)
                close(sv[1]);
        close(sv[0]);
        free(brarg);
        return r;
}

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

/* Nearest rank on a sorted array. */
static double pct(const double *v, int n, int p)
{
        int k = (p * n + 99) / 100;
        return v[k > 0 ? k - 1 : 0];
}

/* One port as vnetd makes it: persistent TAP, then MAC, MTU, group, up and bridge at once. */
static int bench_attach(struct vnet_link *l, const struct vnet_link_info *br, const char *prefix,
                        int i, uint32_t group, double *t_create, double *t_enslave)
{
        uint8_t guest[6] = { 0x52, 0x54, 0x00, (uint8_t)(group & 0xff), (uint8_t)(i >> 8),
                             (uint8_t)i };
        struct vnet_port_link p = { .master = br->ifindex, .mtu = br->mtu, .group = group };
        struct vnet_tap_spec s = { .owner = 4711, .group = (gid_t)-1, .queues = 1 };
        char name[IFNAMSIZ];
        double t0 = now_ms(), t1;
        int ifindex, r;

        snprintf(name, sizeof(name), "%s%d", prefix, i);
        s.ifname = name;
        vnet_tap_mac(guest, p.mac);
        r = vnet_tap_create(&s, NULL);
        if (r < 0)
                return r;
        t1 = now_ms();
        r = ifindex_of(name, &ifindex);
        if (r == 0)
                r = vnet_link_enslave(l, ifindex, &p);
        if (t_create)
                *t_create = t1 - t0;
        if (t_enslave)
                *t_enslave = now_ms() - t1;
        return r < 0 ? r : ifindex;
}

static int bench(struct vnet_link *l, int n, const char *bridge)
{
        static const int levels[] = { 1, 100, 1000 };
        double tot[BENCH_SAMPLES], cr[BENCH_SAMPLES], en[BENCH_SAMPLES], t0, t_group;
        double *grow = NULL;
        struct vnet_link_info br;
        int base = 0, m = n < BENCH_SAMPLES ? n : BENCH_SAMPLES, r;

        r = vnet_link_get(l, bridge, &br);
        if (r < 0)
                return r;
        for (size_t k = 0; k < sizeof(levels) / sizeof(levels[0]) && levels[k] <= n; k++) {
                /* The bridge holds levels[k] - 1 ports; each sample is the levels[k]-th. */
                for (; base < levels[k] - 1 && r >= 0; base++)
                        r = bench_attach(l, &br, "bb", base, BENCH_GROUP_BASE, NULL, NULL);
                for (int i = 0; i < BENCH_SAMPLES && r >= 0; i++) {
                        r = bench_attach(l, &br, "bs", i, BENCH_GROUP_SAMPLE, &cr[i], &en[i]);
                        tot[i] = cr[i] + en[i];
                        if (r >= 0)
                                r = vnet_link_delete(l, r);
                }
                if (r < 0)
                        goto out;
                qsort(tot, BENCH_SAMPLES, sizeof(double), cmp_double);
                qsort(cr, BENCH_SAMPLES, sizeof(double), cmp_double);
                qsort(en, BENCH_SAMPLES, sizeof(double), cmp_double);
                printf("attach at %4d ports: median %.3f ms  p99 %.3f ms  (median create %.3f + "
                       "enslave %.3f; %d samples)\n",
                       levels[k], pct(tot, BENCH_SAMPLES, 50), pct(tot, BENCH_SAMPLES, 99),
                       pct(cr, BENCH_SAMPLES, 50), pct(en, BENCH_SAMPLES, 50), BENCH_SAMPLES);
        }
        for (; base < n && r >= 0; base++)
                r = bench_attach(l, &br, "bb", base, BENCH_GROUP_BASE, NULL, NULL);
        if (r < 0)
                goto out;
        t0 = now_ms();
        r = vnet_link_delete_group(l, BENCH_GROUP_BASE);
        if (r < 0)
                goto out;
        printf("delete %d TAPs by group: %.1f ms\n", n, now_ms() - t0);

        /* The same growth without a delete between samples, which leaves the kernel work
         * (RCU callbacks) that the next create may wait for. */
        grow = calloc((size_t)n, sizeof(double));
        if (!grow) {
                r = -ENOMEM;
                goto out;
        }
        for (int i = 0; i < n && r >= 0; i++) {
                r = bench_attach(l, &br, "bb", i, BENCH_GROUP_BASE, &cr[0], &en[0]);
                grow[i] = cr[0] + en[0];
        }
        if (r < 0)
                goto out;
        /* The first and the last m ports of the growth. */
        for (int w = 0, from = 0; w < (n > m ? 2 : 1); w++, from = n - m) {
                memcpy(tot, grow + from, (size_t)m * sizeof(double));
                qsort(tot, (size_t)m, sizeof(double), cmp_double);
                printf("attach growing, ports %4d-%4d: median %.3f ms  p99 %.3f ms\n", from + 1,
                       from + m, pct(tot, m, 50), pct(tot, m, 99));
        }
        r = vnet_link_delete_group(l, BENCH_GROUP_BASE);
        if (r < 0)
                goto out;

        for (int i = 0; i < m && r >= 0; i++)
                r = bench_attach(l, &br, "bs", i, BENCH_GROUP_SAMPLE, NULL, NULL);
        if (r < 0)
                goto out;
        t0 = now_ms();
        r = vnet_link_delete_group(l, BENCH_GROUP_SAMPLE);
        if (r < 0)
                goto out;
        t_group = now_ms() - t0;
        for (int i = 0; i < m && r >= 0; i++)
                r = bench_attach(l, &br, "bs", i, BENCH_GROUP_SAMPLE, NULL, NULL);
        t0 = now_ms();
        for (int i = 0; i < m && r >= 0; i++) {
                char name[IFNAMSIZ];
                int ifindex;

                snprintf(name, sizeof(name), "bs%d", i);
                r = ifindex_of(name, &ifindex);
                if (r == 0)
                        r = vnet_link_delete(l, ifindex);
        }
        if (r < 0)
                goto out;
        printf("delete %d TAPs: by group %.1f ms, one by one %.1f ms\n", m, t_group,
               now_ms() - t0);
        r = 0;
out:
        /* Whatever is left of either group; -ENODEV when it is already empty. */
        (void)vnet_link_delete_group(l, BENCH_GROUP_BASE);
        (void)vnet_link_delete_group(l, BENCH_GROUP_SAMPLE);
        free(grow);
        return r < 0 ? r : 0;
}

int main(int argc, char **argv)
{
        struct vnet_link *l = NULL;
        struct vnet_tap_spec spec;
        const char *verb = argc > 1 ? argv[1] : "";
        unsigned long v;
        int r, ifindex;

        if ((strcmp(verb, "create") == 0 && argc != 7) ||
            (strcmp(verb, "transient") == 0 && argc != 6) ||
            ((strcmp(verb, "delete") == 0 || strcmp(verb, "release") == 0 ||
              strcmp(verb, "delete-group") == 0) && argc != 3) ||
            (strcmp(verb, "enslave") == 0 && argc != 6) ||
            (strcmp(verb, "open") == 0 && argc != 4 && argc != 6) ||
            (strcmp(verb, "bench") == 0 && argc != 4) ||
            (strcmp(verb, "helper") == 0 && argc < 4))
                goto usage;

        /* The ioctl verbs need no netlink socket. */
        if (strcmp(verb, "create") == 0) {
                r = parse_spec(argv + 2, &spec);
                if (r == 0 && strcmp(argv[6], "0") != 0 && strcmp(argv[6], "1") != 0)
                        r = -EINVAL;
                spec.vnet_hdr = argv[6][0] == '1';
                if (r == 0)
                        r = vnet_tap_create(&spec, NULL);
                return r < 0 ? fail(verb, r) : 0;
        }
        if (strcmp(verb, "transient") == 0) {
                r = transient(argv + 2);
                return r < 0 ? fail(verb, r) : 0;
        }
        if (strcmp(verb, "delete") == 0) {
                r = vnet_tap_delete(argv[2]);
                return r < 0 ? fail(verb, r) : 0;
        }
        if (strcmp(verb, "open") == 0) {
                r = open_queues(argv + 2, argc - 2);
                return r < 0 ? fail(verb, r) : 0;
        }
        if (strcmp(verb, "helper") == 0) {
                r = helper(argv + 2, argc - 2);
                return r < 0 ? fail(verb, r) : r;
        }

        r = vnet_link_open(&l);
        if (r < 0)
                return fail("open", r);
        if (strcmp(verb, "enslave") == 0) {
                r = enslave(l, argv[2], argv[3], argv[4], argv[5]);
        } else if (strcmp(verb, "release") == 0) {
                r = ifindex_of(argv[2], &ifindex);
                if (r == 0)
                        r = vnet_link_release(l, ifindex);
        } else if (strcmp(verb, "delete-group") == 0) {
                r = parse_ulong(argv[2], 0xfffffffful, &v);
                if (r == 0)
                        r = vnet_link_delete_group(l, (uint32_t)v);
        } else if (strcmp(verb, "bench") == 0) {
                r = parse_ulong(argv[2], 100000, &v);
                if (r == 0 && v == 0)
                        r = -EINVAL;
                if (r == 0)
                        r = bench(l, (int)v, argv[3]);
        } else {
                vnet_link_close(l);
                goto usage;
        }
        vnet_link_close(l);
        return r < 0 ? fail(verb, r) : 0;
usage:
        fprintf(stderr, "usage: tapctl create NAME OWNER|- GROUP|- QUEUES VNETHDR(0|1)\n"
                        "       tapctl transient NAME OWNER|- GROUP|- QUEUES\n"
                        "       tapctl delete|release NAME\n"
                        "       tapctl enslave NAME BRIDGE GUESTMAC|none GROUP\n"
                        "       tapctl delete-group GROUP\n"
                        "       tapctl open NAME QUEUES [UID GID]\n"
                        "       tapctl bench N BRIDGE\n"
                        "       tapctl helper HELPER BR [CMD...]\n");
        return 2;
}
