/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vnet-bridge-helper: qemu-bridge-helper's contract without its setuid bit. QEMU runs
 * "HELPER --use-vnet --fd=N --br=BRIDGE" with N one end of a unix socket pair and waits for
 * one TAP fd (SCM_RIGHTS, with at least one byte of data) and exit status 0. Here vnetd makes
 * the TAP, after checking us (SO_PEERCRED) against the network's allowed users and groups,
 * and hands the fd over; we only pass it on. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vnet/vnet.h>

#include "hooks.h"

struct bridge_args {
        const char *br; /* network or bridge name, as QEMU's br= gave it */
        int fd;         /* QEMU's end of the socket pair; -1 until given */
        bool vnet_hdr;  /* --use-vnet: QEMU wants IFF_VNET_HDR */
        bool help;
};

/* Parses the helper's arguments in any order, "--br=X" or "--br X" alike. 0, or -EINVAL with
 * the reason in @msg. Pure, so that tests can call it. */
static int bridge_parse_args(int argc, char **argv, struct bridge_args *a, char *msg,
                             size_t size)
{
        enum { OPT_USE_VNET = 0x100, OPT_BR, OPT_FD, OPT_HELP };
        static const struct option options[] = {
                { "use-vnet", no_argument, NULL, OPT_USE_VNET },
                { "br", required_argument, NULL, OPT_BR },
                { "fd", required_argument, NULL, OPT_FD },
                { "help", no_argument, NULL, OPT_HELP },
                {}
        };
        int c, r = -EINVAL;
        char *end;
        long n;

        *a = (struct bridge_args){ .fd = -1 };
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
                switch (c) {
                case OPT_USE_VNET:
                        a->vnet_hdr = true;
                        break;
                case OPT_BR:
                        /* Two different answers to "which bridge" must not be guessed at. */
                        if (a->br) {
                                snprintf(msg, size, "--br given twice");
                                goto out;
                        }
                        a->br = optarg;
                        break;
                case OPT_FD:
                        if (a->fd >= 0) {
                                snprintf(msg, size, "--fd given twice");
                                goto out;
                        }
                        errno = 0;
                        n = strtol(optarg, &end, 10);
                        /* Digits only: strtol() would take " 3", "+3" and "-0". */
                        if (!(*optarg >= '0' && *optarg <= '9') || *end || errno ||
                            n > INT_MAX) {
                                snprintf(msg, size, "invalid --fd '%s': not a descriptor number",
                                         optarg);
                                goto out;
                        }
                        a->fd = (int)n;
                        break;
                case OPT_HELP:
                        a->help = true;
                        r = 0;
                        goto out;
                case ':':
                        snprintf(msg, size, "option '%s' needs a value",
                                 optind - 1 < argc ? argv[optind - 1] : "");
                        goto out;
                default:
                        snprintf(msg, size, "unknown option '%s'",
                                 optind - 1 < argc ? argv[optind - 1] : "");
                        goto out;
                }
        }
        if (optind < argc)
                snprintf(msg, size, "unexpected argument '%s'", argv[optind]);
        else if (!a->br)
                snprintf(msg, size, "missing --br=BRIDGE");
        else if (a->fd < 0)
                snprintf(msg, size, "missing --fd=FD");
        else
                r = 0;
out:
        return r;
}

/* What QEMU's recv_fd() expects: one byte of data carrying the descriptor. */
static int bridge_send_fd(int sock, int fd)
{
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        char byte = 0;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = control.buf,
                .msg_controllen = sizeof(control.buf),
        };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        ssize_t n;

        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        do
                /* MSG_NOSIGNAL: a QEMU that gave up gets an error line, not a silent death. */
                n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        return n < 0 ? -errno : 0;
}

/* The descriptor QEMU passed must be a socket; checked before vnetd makes a TAP for nothing. */
static int bridge_check_fd(const struct hook *h, int fd)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return hook_error(h, -EINVAL, "invalid --fd=%d: %s", fd, strerror(errno));
        if (!S_ISSOCK(st.st_mode))
                return hook_error(h, -EINVAL, "invalid --fd=%d: not a socket", fd);
        return 0;
}

int hook_bridge_helper(const struct hook *h, int argc, char **argv)
{
        struct vnet_call_error err = {};
        struct vnet_client *client = NULL;
        struct bridge_args a;
        const char *path = vnet_socket_path(NULL);
        char msg[256];
        int tap = -1, r;

        r = bridge_parse_args(argc, argv, &a, msg, sizeof(msg));
        if (r < 0) {
                hook_error(h, r, "%s (usage: %s %s)", msg, h->name, h->usage);
                goto out;
        }
        if (a.help) {
                printf("usage: %s %s\n", h->name, h->usage);
                goto out;
        }
        r = hook_check_ifname(h, a.br, "--br");
        if (r < 0)
                goto out;
        r = bridge_check_fd(h, a.fd);
        if (r < 0)
                goto out;
        r = vnet_client_connect(path, &client);
        if (r < 0) {
                hook_error(h, r, "cannot connect to vnetd at %s: %s", path, strerror(-r));
                goto out;
        }
        r = vnet_tap_open(client, a.br, a.vnet_hdr, &tap, NULL, &err);
        if (r < 0) {
                hook_error(h, r, "%s", *err.message ? err.message : strerror(-r));
                goto out;
        }
        r = bridge_send_fd(a.fd, tap);
        if (r < 0)
                hook_error(h, r, "cannot pass the TAP to QEMU (--fd=%d): %s", a.fd,
                           strerror(-r));
out:
        /* Once sent, QEMU holds the TAP through its own descriptor. */
        if (tap >= 0)
                close(tap);
        if (r == 0 && !a.help)
                close(a.fd);
        vnet_call_error_clear(&err);
        vnet_client_free(client);
        return r;
}
