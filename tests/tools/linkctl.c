/* SPDX-License-Identifier: GPL-2.0-or-later */
/* linkctl: a test CLI over libvnet/link.c. Run it only inside a test network namespace.
 *
 *   linkctl create BR MTU MAC STP CIDR ALIAS   MAC "none": kernel's choice; CIDR "none"
 *   linkctl apply  BR MTU MAC STP CIDR ALIAS   ALIAS "-": leave the alias alone
 *   linkctl get NAME
 *   linkctl del NAME
 *   linkctl conflict CIDR [IGNORE_IFNAME]
 *   linkctl ipforward
 *   linkctl bench N                            timings of create, apply (no change), delete
 *
 * Errors print "linkctl: VERB: ENAME (message)" on stderr and exit 1. */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "link.h"
#include "model.h"

static int fail(const char *verb, int r)
{
        const char *name = strerrorname_np(-r);

        fprintf(stderr, "linkctl: %s: %s (%s)\n", verb, name ? name : "?", strerror(-r));
        return 1;
}

/* Any address and prefix, unlike the model's gateway parser: tests feed the kernel odd ones. */
static int parse_cidr(const char *s, struct vnet_ipv4 *out)
{
        char buf[INET_ADDRSTRLEN + 4], *slash, *end;
        unsigned long p;

        if (strcmp(s, "none") == 0) {
                *out = (struct vnet_ipv4){ 0 };
                return 0;
        }
        if (strlen(s) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, s);
        slash = strchr(buf, '/');
        if (!slash)
                return -EINVAL;
        *slash = '\0';
        p = strtoul(slash + 1, &end, 10);
        if (*end || slash[1] == '\0' || p > 32 || inet_pton(AF_INET, buf, &out->addr) != 1)
                return -EINVAL;
        out->prefix = (unsigned)p;
        return 0;
}

static int parse_spec(char **argv, struct vnet_bridge_spec *s)
{
        struct vnet_err e;
        char *end;

        memset(s, 0, sizeof(*s));
        s->name = argv[0];
        s->mtu = (unsigned)strtoul(argv[1], &end, 10);
        if (*end)
                return -EINVAL;
        if (strcmp(argv[2], "none") != 0 && vnet_parse_mac(argv[2], s->mac, "mac", &e) < 0)
                return -EINVAL;
        if (strcmp(argv[3], "0") != 0 && strcmp(argv[3], "1") != 0)
                return -EINVAL;
        s->stp = argv[3][0] == '1';
        if (parse_cidr(argv[4], &s->ipv4) < 0)
                return -EINVAL;
        s->alias = strcmp(argv[5], "-") == 0 ? NULL : argv[5];
        return 0;
}

static void print_info(const struct vnet_link_info *i)
{
        char mac[18];

        printf("ifindex=%d name=%s kind=%s mtu=%u mac=%s up=%d carrier=%d master=%d alias=%s\n",
               i->ifindex, i->name, i->kind, i->mtu, vnet_mac_format(i->mac, mac), i->up,
               i->carrier, i->master, i->alias);
}

static double now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static double median(double *v, int n)
{
        qsort(v, (size_t)n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int bench(struct vnet_link *l, int n)
{
        struct vnet_bridge_spec s = {
                .name = "vntbench0", .alias = "vnet:bench", .mtu = 1500,
                .mac = { 0x52, 0x54, 0x00, 0xbe, 0x4c, 0x01 }, .stp = false,
        };
        double *t[3], t0;
        int ifindex, r = 0;

        inet_pton(AF_INET, "10.254.0.1", &s.ipv4.addr);
        s.ipv4.prefix = 24;
        for (int k = 0; k < 3; k++)
                t[k] = calloc((size_t)n, sizeof(double));
        for (int i = 0; i < n && r == 0; i++) {
                t0 = now_us();
                r = vnet_bridge_create(l, &s, &ifindex);
                t[0][i] = now_us() - t0;
                if (r < 0)
                        break;
                t0 = now_us();
                r = vnet_bridge_apply(l, ifindex, &s);
                t[1][i] = now_us() - t0;
                t0 = now_us();
                if (vnet_link_delete(l, ifindex) < 0 && r == 0)
                        r = -EIO;
                t[2][i] = now_us() - t0;
        }
        if (r == 0)
                printf("n=%d median_us create+address+up=%.0f apply_nochange=%.0f delete=%.0f\n",
                       n, median(t[0], n), median(t[1], n), median(t[2], n));
        for (int k = 0; k < 3; k++)
                free(t[k]);
        return r;
}

int main(int argc, char **argv)
{
        struct vnet_link *l = NULL;
        struct vnet_link_info info;
        struct vnet_bridge_spec spec;
        struct vnet_ipv4 net;
        const char *verb = argc > 1 ? argv[1] : "";
        char what[128];
        int r, ifindex, ignore = 0;

        if ((strcmp(verb, "create") == 0 || strcmp(verb, "apply") == 0) && argc != 8)
                goto usage;
        if ((strcmp(verb, "get") == 0 || strcmp(verb, "del") == 0 ||
             strcmp(verb, "bench") == 0) && argc != 3)
                goto usage;
        if (strcmp(verb, "conflict") == 0 && argc != 3 && argc != 4)
                goto usage;

        if (strcmp(verb, "ipforward") == 0) {
                r = vnet_sysctl_enable_ip_forward();
                return r < 0 ? fail(verb, r) : 0;
        }
        r = vnet_link_open(&l);
        if (r < 0)
                return fail("open", r);

        if (strcmp(verb, "create") == 0) {
                r = parse_spec(argv + 2, &spec);
                if (r == 0)
                        r = vnet_bridge_create(l, &spec, &ifindex);
                if (r == 0)
                        printf("ifindex=%d\n", ifindex);
        } else if (strcmp(verb, "apply") == 0) {
                r = parse_spec(argv + 2, &spec);
                if (r == 0)
                        r = vnet_link_get(l, spec.name, &info);
                if (r == 0)
                        r = vnet_bridge_apply(l, info.ifindex, &spec);
                if (r == 0)
                        printf("ifindex=%d\n", info.ifindex);
        } else if (strcmp(verb, "get") == 0) {
                r = vnet_link_get(l, argv[2], &info);
                if (r == 0)
                        print_info(&info);
        } else if (strcmp(verb, "del") == 0) {
                r = vnet_link_get(l, argv[2], &info);
                if (r == 0)
                        r = vnet_link_delete(l, info.ifindex);
        } else if (strcmp(verb, "conflict") == 0) {
                r = parse_cidr(argv[2], &net);
                if (r == 0 && argc == 4) {
                        r = vnet_link_get(l, argv[3], &info);
                        ignore = info.ifindex;
                }
                if (r == 0)
                        r = vnet_link_ipv4_conflict(l, vnet_ipv4_network(&net), net.prefix, ignore,
                                                    what, sizeof(what));
                if (r == 1)
                        printf("conflict: %s\n", what);
                else if (r == 0)
                        printf("free\n");
        } else if (strcmp(verb, "bench") == 0) {
                r = bench(l, atoi(argv[2]) > 0 ? atoi(argv[2]) : 1);
        } else {
                vnet_link_close(l);
                goto usage;
        }
        vnet_link_close(l);
        return r < 0 ? fail(verb, r) : 0;
usage:
        fprintf(stderr, "usage: linkctl create|apply BR MTU MAC|none STP(0|1) CIDR|none ALIAS|-\n"
                        "       linkctl get|del NAME\n"
                        "       linkctl conflict CIDR [IGNORE_IFNAME]\n"
                        "       linkctl ipforward | bench N\n");
        return 2;
}
