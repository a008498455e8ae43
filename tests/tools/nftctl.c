/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nftctl: drives libvnet/nft.c by hand, for tests/integration/test_nft.sh and for timing.
 * Run it only inside a network namespace made for the purpose.
 *
 *   nftctl rebuild [COUNT]                      skeleton (plus COUNT nat networks n0.. on vb0..)
 *   nftctl exists                               prints 1 or 0
 *   nftctl add NAME BR MODE [CIDR]
 *   nftctl del NAME BR MODE [CIDR]
 *   nftctl mode NAME BR OLDMODE NEWMODE [CIDR]  del + add in one batch
 *   nftctl bench NAME BR CIDR RUNS              median commit times: add, mode change, del
 *   nftctl verify [NAME BR MODE CIDR|-]...      prints 1 if the table is exactly rebuild + add
 *                                               of these networks, else 0
 *   nftctl verify-bench COUNT RUNS              median/max verify time against rebuild COUNT
 *
 * Exit 0 on success; otherwise the error on stderr and exit 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include "model.h"
#include "nft.h"

static int parse_net(struct vnet_nft_net *n, const char *name, const char *br, const char *mode,
                     const char *cidr)
{
        struct vnet_err e;
        int m = vnet_mode_from_string(mode);

        if (m < 0) {
                fprintf(stderr, "nftctl: bad mode '%s'\n", mode);
                return -EINVAL;
        }
        memset(n, 0, sizeof(*n));
        n->name = name;
        n->bridge = br;
        n->mode = m;
        if (cidr && vnet_parse_ipv4_gateway(cidr, &n->ipv4, "cidr", &e) < 0) {
                fprintf(stderr, "nftctl: %s: %s\n", e.field, e.message);
                return -EINVAL;
        }
        return 0;
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

/* Builds with @build, commits, and returns the commit time in @ms. */
static int timed(struct vnet_nft *nft, int (*build)(struct vnet_nft_batch *, const void *),
                 const void *arg, double *ms)
{
        struct vnet_nft_batch *b = NULL;
        double t0;
        int r;

        r = vnet_nft_batch_new(&b);
        if (r == 0)
                r = build(b, arg);
        if (r == 0) {
                t0 = now_ms();
                r = vnet_nft_commit(nft, b);
                *ms = now_ms() - t0;
        }
        vnet_nft_batch_free(b);
        return r;
}

static int build_add(struct vnet_nft_batch *b, const void *n)
{
        return vnet_nft_batch_add_network(b, n);
}

static int build_del(struct vnet_nft_batch *b, const void *n)
{
        return vnet_nft_batch_del_network(b, n);
}

static int build_mode(struct vnet_nft_batch *b, const void *arg)
{
        const struct vnet_nft_net *n = arg; /* [0] old, [1] new */
        int r = vnet_nft_batch_del_network(b, &n[0]);

        return r < 0 ? r : vnet_nft_batch_add_network(b, &n[1]);
}

static int bench(struct vnet_nft *nft, const char *name, const char *br, const char *cidr,
                 int runs)
{
        struct vnet_nft_net n[2];
        double *t[3];
        int r = -ENOMEM;

        t[0] = calloc(runs, sizeof(double));
        t[1] = calloc(runs, sizeof(double));
        t[2] = calloc(runs, sizeof(double));
        if (!t[0] || !t[1] || !t[2])
                goto out;
        r = parse_net(&n[0], name, br, "nat", cidr);
        if (r == 0)
                r = parse_net(&n[1], name, br, "routed", cidr);
        for (int i = 0; r == 0 && i < runs; i++) {
                r = timed(nft, build_add, &n[0], &t[0][i]);
                if (r == 0)
                        r = timed(nft, build_mode, n, &t[1][i]);
                if (r == 0)
                        r = timed(nft, build_del, &n[1], &t[2][i]);
        }
        if (r < 0)
                goto out;
        for (int k = 0; k < 3; k++)
                qsort(t[k], runs, sizeof(double), cmp_double);
        printf("runs %d median ms: add(nat) %.3f  mode(nat->routed) %.3f  del(routed) %.3f\n",
               runs, t[0][runs / 2], t[1][runs / 2], t[2][runs / 2]);
        printf("runs %d max ms:    add(nat) %.3f  mode(nat->routed) %.3f  del(routed) %.3f\n",
               runs, t[0][runs - 1], t[1][runs - 1], t[2][runs - 1]);
out:
        free(t[0]);
        free(t[1]);
        free(t[2]);
        return r;
}

/* The COUNT nat networks of `rebuild COUNT`, n0.. on vb0.., 10.0.I.1/24; names in @names. */
static void count_nets(struct vnet_nft_net *n, char (*names)[2][32], int count)
{
        for (int i = 0; i < count; i++) {
                snprintf(names[i][0], sizeof(names[i][0]), "n%d", i);
                snprintf(names[i][1], sizeof(names[i][1]), "vb%d", i);
                memset(&n[i], 0, sizeof(n[i]));
                n[i].name = names[i][0];
                n[i].bridge = names[i][1];
                n[i].mode = VNET_MODE_NAT;
                n[i].ipv4.addr.s_addr = htonl(0x0a000001u + ((unsigned)i << 8));
                n[i].ipv4.prefix = 24;
        }
}

static int rebuild(struct vnet_nft_batch *b, int count)
{
        struct vnet_nft_net *n = calloc(count > 0 ? count : 1, sizeof(*n));
        char(*names)[2][32] = calloc(count > 0 ? count : 1, sizeof(*names));
        int r = n && names ? vnet_nft_batch_rebuild(b) : -ENOMEM;

        if (r == 0)
                count_nets(n, names, count);
        for (int i = 0; r == 0 && i < count; i++)
                r = vnet_nft_batch_add_network(b, &n[i]);
        free(n);
        free(names);
        return r;
}

/* argv: groups of NAME BR MODE CIDR ("-" for none). */
static int verify(struct vnet_nft *nft, int argc, char **argv)
{
        struct vnet_nft_net *n = calloc(argc / 4 + 1, sizeof(*n));
        double t0 = now_ms();
        int r = n ? 0 : -ENOMEM;

        if (argc % 4 != 0) {
                fprintf(stderr, "nftctl: verify takes groups of NAME BR MODE CIDR\n");
                r = -EINVAL;
        }
        for (int i = 0; r == 0 && i < argc / 4; i++) {
                char **a = argv + 4 * i;

                r = parse_net(&n[i], a[0], a[1], a[2], strcmp(a[3], "-") == 0 ? NULL : a[3]);
        }
        if (r == 0)
                r = vnet_nft_verify(nft, n, (size_t)argc / 4);
        if (r >= 0) {
                printf("%d\n", r);
                if (getenv("NFTCTL_TIME"))
                        printf("verify %.3f ms\n", now_ms() - t0);
        } else {
                fprintf(stderr, "nftctl: verify: %s\n", strerror(-r));
        }
        free(n);
        return r;
}

static int verify_bench(struct vnet_nft *nft, int count, int runs)
{
        struct vnet_nft_net *n = calloc(count > 0 ? count : 1, sizeof(*n));
        char(*names)[2][32] = calloc(count > 0 ? count : 1, sizeof(*names));
        double *t = calloc(runs > 0 ? runs : 1, sizeof(double));
        int r = n && names && t && runs > 0 ? 0 : -ENOMEM;

        if (r == 0)
                count_nets(n, names, count);
        for (int i = 0; r == 0 && i < runs; i++) {
                double t0 = now_ms();

                r = vnet_nft_verify(nft, n, (size_t)count);
                t[i] = now_ms() - t0;
                /* the table must be what `rebuild COUNT` made */
                r = r == 1 ? 0 : r == 0 ? -ESTALE : r;
        }
        if (r == 0) {
                qsort(t, runs, sizeof(double), cmp_double);
                printf("verify %d networks, %d runs: median %.3f ms, max %.3f ms\n", count, runs,
                       t[runs / 2], t[runs - 1]);
        } else {
                fprintf(stderr, "nftctl: verify-bench: %s\n", strerror(-r));
        }
        free(n);
        free(names);
        free(t);
        return r;
}

int main(int argc, char **argv)
{
        struct vnet_nft_batch *b = NULL;
        struct vnet_nft *nft = NULL;
        struct vnet_nft_net n[2];
        const char *cmd = argc > 1 ? argv[1] : "";
        double ms = 0;
        int r;

        r = vnet_nft_open(&nft);
        if (r == 0)
                r = vnet_nft_batch_new(&b);
        if (r < 0)
                goto out;
        if (strcmp(cmd, "rebuild") == 0 && argc <= 3) {
                r = rebuild(b, argc == 3 ? atoi(argv[2]) : 0);
        } else if (strcmp(cmd, "exists") == 0 && argc == 2) {
                r = vnet_nft_table_exists(nft);
                if (r >= 0)
                        printf("%d\n", r);
                goto out;
        } else if ((strcmp(cmd, "add") == 0 || strcmp(cmd, "del") == 0) &&
                   (argc == 5 || argc == 6)) {
                r = parse_net(&n[0], argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
                if (r == 0)
                        r = cmd[0] == 'a' ? vnet_nft_batch_add_network(b, &n[0])
                                          : vnet_nft_batch_del_network(b, &n[0]);
        } else if (strcmp(cmd, "mode") == 0 && (argc == 6 || argc == 7)) {
                const char *cidr = argc == 7 ? argv[6] : NULL;

                r = parse_net(&n[0], argv[2], argv[3], argv[4], cidr);
                if (r == 0)
                        r = parse_net(&n[1], argv[2], argv[3], argv[5], cidr);
                if (r == 0)
                        r = build_mode(b, n);
        } else if (strcmp(cmd, "verify") == 0) {
                r = verify(nft, argc - 2, argv + 2);
                r = r < 0 ? r : 0;
                goto out;
        } else if (strcmp(cmd, "verify-bench") == 0 && argc == 4) {
                r = verify_bench(nft, atoi(argv[2]), atoi(argv[3]));
                goto out;
        } else if (strcmp(cmd, "bench") == 0 && argc == 6) {
                r = bench(nft, argv[2], argv[3], argv[4], atoi(argv[5]));
                goto out;
        } else {
                fprintf(stderr, "usage: nftctl rebuild [COUNT] | exists | add|del NAME BR MODE "
                                "[CIDR] | mode NAME BR OLD NEW [CIDR] | bench NAME BR CIDR RUNS | "
                                "verify [NAME BR MODE CIDR|-]... | verify-bench COUNT RUNS\n");
                r = -EINVAL;
                goto out;
        }
        if (r < 0) {
                fprintf(stderr, "nftctl: building the batch: %s\n", strerror(-r));
                goto out;
        }
        {
                double t0 = now_ms();

                r = vnet_nft_commit(nft, b);
                ms = now_ms() - t0;
        }
        if (r < 0)
                fprintf(stderr, "nftctl: commit: %s\n", strerror(-r));
        else if (getenv("NFTCTL_TIME"))
                printf("%zu messages, commit %.3f ms\n", vnet_nft_batch_size(b), ms);
out:
        if (r < 0 && strcmp(cmd, "bench") == 0)
                fprintf(stderr, "nftctl: bench: %s\n", strerror(-r));
        vnet_nft_batch_free(b);
        vnet_nft_close(nft);
        return r < 0 ? 1 : 0;
}
