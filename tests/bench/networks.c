/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Network life-cycle benchmark: what creating, re-moding and destroying a network costs
 * through vnetd (io.vnet.* over the client library), through vnetctl as a process, and with
 * the usual commands (ip, nft) doing the same work. Prints medians and p95; not a timed test:
 * it fails only when something fails outright (an error reply, a command that exits non-zero).
 *
 * Run it inside a throwaway network namespace where vnetd runs (tests/bench/run does): it
 * creates bridges, addresses and nftables rules in the namespace it runs in, and refuses to
 * run in the namespace of PID 1. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_NAME "networks"
#include "bench.h"

#define N_MAX 2500 /* subnets 10.(base + i/250).(i%250).0/24 stay within one base block of 10 */
#define TABLE "bench" /* the baseline's own table, next to vnetd's "inet vnet" */
#define TAIL 0.95 /* the tables' last column: p95, by nearest rank */

enum mode { NAT, ROUTED, ISOLATED };
static const char *const mode_names[] = { [NAT] = "nat", [ROUTED] = "routed",
                                          [ISOLATED] = "isolated" };

static const char *opt_socket;
static const char *opt_vnetctl = "vnetctl";
static bool opt_verbose;
static bool opt_bridge;    /* name each bridge (else vnetd picks the first free virbrN) */
static bool opt_transient; /* transient networks: no definition file written */
static pid_t opt_vnetd_pid = -1; /* -p: report this vnetd's CPU time per call */

static void subnet(char *buf, size_t len, unsigned base, unsigned i, const char *host)
{
        snprintf(buf, len, "10.%u.%u.%s", base + i / 250, i % 250, host);
}

/* vnetctl as a process; vnetd's CPU time for the call goes into @cpu, if known. */
static double vnetctl(char *const argv[], struct bench_series *cpu)
{
        double c0 = bench_cpu_ms(opt_vnetd_pid), t = bench_run(argv, NULL);

        bench_cpu_add(cpu, c0, bench_cpu_ms(opt_vnetd_pid));
        return t;
}

/* ---- the baseline's rules, equivalent to what vnetd installs per network ---- */

struct buf {
        char s[8192];
        size_t len;
};

static void bprintf(struct buf *b, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vsnprintf(b->s + b->len, sizeof(b->s) - b->len, fmt, ap);
        va_end(ap);
        if (r < 0 || (size_t)r >= sizeof(b->s) - b->len)
                bench_die("nft script too long");
        b->len += (size_t)r;
}

#define T "inet " TABLE

static void nft_skeleton(void)
{
        struct buf b = { 0 };

        bprintf(&b, "add table " T "\n");
        bprintf(&b, "delete table " T "\n");
        bprintf(&b, "table " T " {\n");
        bprintf(&b, "  map to_net { type ifname : verdict; }\n");
        bprintf(&b, "  map from_net { type ifname : verdict; }\n");
        bprintf(&b, "  map in_net { type ifname : verdict; }\n");
        bprintf(&b, "  map nat_net { type ifname : verdict; }\n");
        bprintf(&b, "  chain forward { type filter hook forward priority filter; policy accept;\n"
                    "    oifname vmap @to_net\n    iifname vmap @from_net\n  }\n");
        bprintf(&b, "  chain input { type filter hook input priority filter; policy accept;\n"
                    "    iifname vmap @in_net\n  }\n");
        bprintf(&b, "  chain postrouting { type nat hook postrouting priority srcnat; "
                    "policy accept;\n    iifname vmap @nat_net\n  }\n");
        bprintf(&b, "}\n");
        bench_run((char *[]){ "nft", "-f", "-", NULL }, b.s);
}

/* Rules of the to/from/in chains (already existing and empty) for @mode, and the nat chain
 * with its map element when @mode is nat. */
static void nft_mode_rules(struct buf *b, const char *name, const char *br, const char *net,
                           enum mode mode)
{
        bprintf(b, "add rule " T " net-%s-to iifname \"%s\" accept\n", name, br);
        if (mode == NAT)
                bprintf(b, "add rule " T " net-%s-to ip daddr %s ct state established,related "
                           "accept\n", name, net);
        if (mode == ROUTED)
                bprintf(b, "add rule " T " net-%s-to ip daddr %s accept\n", name, net);
        bprintf(b, "add rule " T " net-%s-to reject with icmpx admin-prohibited\n", name);
        bprintf(b, "add rule " T " net-%s-from oifname \"%s\" accept\n", name, br);
        if (mode != ISOLATED)
                bprintf(b, "add rule " T " net-%s-from ip saddr %s accept\n", name, net);
        bprintf(b, "add rule " T " net-%s-from reject with icmpx admin-prohibited\n", name);
        bprintf(b, "add rule " T " net-%s-in udp dport 67 accept\n", name);
        bprintf(b, "add rule " T " net-%s-in udp dport 53 accept\n", name);
        bprintf(b, "add rule " T " net-%s-in tcp dport 53 accept\n", name);
        if (mode != NAT)
                return;
        bprintf(b, "add chain " T " net-%s-nat\n", name);
        bprintf(b, "add rule " T " net-%s-nat ip saddr %s ip daddr 224.0.0.0/24 return\n", name,
                net);
        bprintf(b, "add rule " T " net-%s-nat ip saddr %s ip daddr 255.255.255.255 return\n",
                name, net);
        bprintf(b, "add rule " T " net-%s-nat ip saddr %s ip daddr != %s meta l4proto tcp "
                   "masquerade to :1024-65535\n", name, net, net);
        bprintf(b, "add rule " T " net-%s-nat ip saddr %s ip daddr != %s meta l4proto udp "
                   "masquerade to :1024-65535\n", name, net, net);
        bprintf(b, "add rule " T " net-%s-nat ip saddr %s ip daddr != %s masquerade\n", name,
                net, net);
        bprintf(b, "add element " T " nat_net { \"%s\" : jump net-%s-nat }\n", br, name);
}

static void nft_add_network(struct buf *b, const char *name, const char *br, const char *net)
{
        static const char *const sfx[] = { "to", "from", "in" };
        static const char *const map[] = { "to_net", "from_net", "in_net" };

        for (int k = 0; k < 3; k++)
                bprintf(b, "add chain " T " net-%s-%s\n", name, sfx[k]);
        nft_mode_rules(b, name, br, net, NAT);
        for (int k = 0; k < 3; k++)
                bprintf(b, "add element " T " %s { \"%s\" : jump net-%s-%s }\n", map[k], br,
                        name, sfx[k]);
}

/* What vnetd does in one transaction: the old mode's rules out, the new mode's in. */
static void nft_set_mode(struct buf *b, const char *name, const char *br, const char *net,
                         enum mode from, enum mode to)
{
        bprintf(b, "flush chain " T " net-%s-to\n", name);
        bprintf(b, "flush chain " T " net-%s-from\n", name);
        bprintf(b, "flush chain " T " net-%s-in\n", name);
        if (from == NAT) {
                bprintf(b, "delete element " T " nat_net { \"%s\" }\n", br);
                bprintf(b, "flush chain " T " net-%s-nat\n", name);
                bprintf(b, "delete chain " T " net-%s-nat\n", name);
        }
        nft_mode_rules(b, name, br, net, to);
}

static void nft_del_network(struct buf *b, const char *name, const char *br, bool nat)
{
        static const char *const sfx[] = { "to", "from", "in", "nat" };
        static const char *const map[] = { "to_net", "from_net", "in_net", "nat_net" };
        int n = nat ? 4 : 3;

        for (int k = 0; k < n; k++)
                bprintf(b, "delete element " T " %s { \"%s\" }\n", map[k], br);
        for (int k = 0; k < n; k++)
                bprintf(b, "flush chain " T " net-%s-%s\n", name, sfx[k]);
        for (int k = 0; k < n; k++)
                bprintf(b, "delete chain " T " net-%s-%s\n", name, sfx[k]);
}

/* ---- output ---- */

static void compare(const char *what, const struct bench_series *v,
                    const struct bench_series *c)
{
        double a = bench_median(v), b = bench_median(c);

        printf("  %-28s %10.3f %12.3f %12.1fx\n", what, a, b, b / a);
}

static void goal(const char *what, const char *value, bool met)
{
        bench_goal(50, 26, what, value, met);
}

static void usage(void)
{
        fprintf(stderr,
                "usage: networks -s SOCKET [-c VNETCTL] [-n NETWORKS] [-m MODE_CHANGES] "
                "[-k CLI_RUNS] [-p VNETD_PID] [-b] [-t] [-v]\n"
                "  -p  also report vnetd's CPU time per call (from /proc/PID/schedstat)\n"
                "  -b  name each bridge (default: vnetd picks the first free virbrN)\n"
                "  -t  transient networks (no definition file)\n");
        exit(2);
}

int main(int argc, char **argv)
{
        unsigned n_nets = 100, n_modes = 120, n_cli = 30;
        struct bench_series up = { 0 }, mode = { 0 }, mode_tr[3] = { 0 }, down = { 0 };
        struct bench_series cup = { 0 }, cmode = { 0 }, cdown = { 0 };
        struct bench_series cli_create = { 0 }, cli_destroy = { 0 };
        struct bench_series up_cpu = { 0 }, mode_cpu = { 0 }, down_cpu = { 0 };
        struct bench_series cli_create_cpu = { 0 }, cli_destroy_cpu = { 0 };
        struct vnet_client *c;
        char name[32], br[16], gw[32], net[32], s1[32];
        double t0, total0 = bench_now_ms();
        int opt;

        while ((opt = getopt(argc, argv, "s:c:n:m:k:p:btvh")) != -1) {
                switch (opt) {
                case 's':
                        opt_socket = optarg;
                        break;
                case 'c':
                        opt_vnetctl = optarg;
                        break;
                case 'n':
                        n_nets = (unsigned)atoi(optarg);
                        break;
                case 'm':
                        n_modes = (unsigned)atoi(optarg);
                        break;
                case 'k':
                        n_cli = (unsigned)atoi(optarg);
                        break;
                case 'p':
                        opt_vnetd_pid = (pid_t)atoi(optarg);
                        break;
                case 'b':
                        opt_bridge = true;
                        break;
                case 't':
                        opt_transient = true;
                        break;
                case 'v':
                        opt_verbose = true;
                        break;
                default:
                        usage();
                }
        }
        if (!opt_socket || optind != argc || n_nets < 1 || n_nets > N_MAX || n_modes < 3 ||
            n_cli > N_MAX)
                usage();
        bench_check_namespace();
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (opt_vnetd_pid != -1 && bench_cpu_ms(opt_vnetd_pid) < 0)
                bench_die("cannot read /proc/%d/schedstat", (int)opt_vnetd_pid);

        c = bench_connect(opt_socket);

        /* 1. vnetd: N networks up, one after another, each with its own /24. */
        if (opt_verbose)
                fprintf(stderr, "# vnetd: creating %u networks\n", n_nets);
        for (unsigned i = 0; i < n_nets; i++) {
                snprintf(name, sizeof(name), "n%04u", i);
                subnet(gw, sizeof(gw), 0, i, "1/24");
                /* Without DHCP and DNS, so without dnsmasq: the figure is the network itself
                 * (bridge, address, rules); the DHCP benchmark measures it with dnsmasq. */
                json_t *def = json_pack("{s:s, s:s, s:s, s:b, s:b}", "name", name, "mode", "nat",
                                        "ipv4", gw, "dhcp", 0, "dns", 0);
                if (def && opt_bridge) {
                        snprintf(br, sizeof(br), "vn%04u", i);
                        json_object_set_new(def, "bridge", json_string(br));
                }
                if (def && opt_transient)
                        json_object_set_new(def, "transient", json_true());
                bench_series_add(&up, bench_vcall_timed(c, opt_vnetd_pid, "io.vnet.CreateNetwork",
                                                        def ? json_pack("{s:o}", "network", def)
                                                            : NULL,
                                                        &up_cpu));
        }

        /* 2. vnetd: mode changes on one network while all N exist. */
        if (opt_verbose)
                fprintf(stderr, "# vnetd: %u mode changes\n", n_modes);
        for (unsigned i = 0; i < n_modes; i++) {
                enum mode to = (enum mode)((i + 1) % 3);
                double t = bench_vcall_timed(c, opt_vnetd_pid, "io.vnet.SetMode",
                                             json_pack("{s:s, s:s}", "name", "n0000", "mode",
                                                       mode_names[to]),
                                             &mode_cpu);
                bench_series_add(&mode, t);
                bench_series_add(&mode_tr[i % 3], t);
        }
        /* Back to nat, so every network goes down from the same mode. */
        if (n_modes % 3)
                bench_vcall(c, "io.vnet.SetMode",
                            json_pack("{s:s, s:s}", "name", "n0000", "mode", "nat"), NULL);

        bench_settle();

        /* 3. vnetd: N networks down. */
        if (opt_verbose)
                fprintf(stderr, "# vnetd: destroying %u networks\n", n_nets);
        for (unsigned i = 0; i < n_nets; i++) {
                snprintf(name, sizeof(name), "n%04u", i);
                bench_series_add(&down, bench_vcall_timed(c, opt_vnetd_pid,
                                                          "io.vnet.DestroyNetwork",
                                                          json_pack("{s:s}", "name", name),
                                                          &down_cpu));
        }

        bench_settle();

        /* 5. vnetctl as a process: the command line's own cost. Creates in a row, then
         * destroys, as above: a create right after a destroy would wait for the kernel's
         * deferred cleanup of the deleted bridge and charge it to the command line. */
        if (opt_verbose)
                fprintf(stderr, "# vnetctl: %u create, %u destroy\n", n_cli, n_cli);
        for (unsigned i = 0; i < n_cli; i++) {
                snprintf(name, sizeof(name), "c%04u", i);
                subnet(gw, sizeof(gw), 200, i, "1/24");
                bench_series_add(&cli_create,
                                 vnetctl((char *[]){ (char *)opt_vnetctl, "-s", (char *)opt_socket,
                                                     "create", name, "--mode", "nat", "--ipv4", gw,
                                                     "--no-dhcp", "--no-dns", NULL },
                                         &cli_create_cpu));
        }
        bench_settle();
        for (unsigned i = 0; i < n_cli; i++) {
                snprintf(name, sizeof(name), "c%04u", i);
                bench_series_add(&cli_destroy,
                                 vnetctl((char *[]){ (char *)opt_vnetctl, "-s", (char *)opt_socket,
                                                     "destroy", name, NULL },
                                         &cli_destroy_cpu));
        }
        vnet_client_free(c);
        bench_settle();

        /* 4. The same with commands: ip for the bridge, nft -f for the rules, in a table of
         * their own with the same skeleton (made once, untimed, as vnetd's is at start). */
        if (opt_verbose)
                fprintf(stderr, "# commands: %u networks up, %u mode changes, down\n", n_nets,
                        n_modes);
        nft_skeleton();
        for (unsigned i = 0; i < n_nets; i++) {
                struct buf b = { 0 };
                snprintf(name, sizeof(name), "b%04u", i);
                snprintf(br, sizeof(br), "bb%04u", i);
                subnet(gw, sizeof(gw), 100, i, "1/24");
                subnet(net, sizeof(net), 100, i, "0/24");
                snprintf(s1, sizeof(s1), "52:54:00:ee:%02x:%02x", i >> 8, i & 0xff);
                nft_add_network(&b, name, br, net);
                t0 = bench_now_ms();
                bench_run((char *[]){ "ip", "link", "add", br, "address", s1, "type", "bridge",
                                      NULL },
                          NULL);
                bench_run((char *[]){ "ip", "addr", "add", gw, "dev", br, NULL }, NULL);
                bench_run((char *[]){ "ip", "link", "set", br, "up", NULL }, NULL);
                bench_run((char *[]){ "nft", "-f", "-", NULL }, b.s);
                bench_series_add(&cup, bench_now_ms() - t0);
        }
        bench_settle();
        for (unsigned i = 0; i < n_modes; i++) {
                struct buf b = { 0 };
                nft_set_mode(&b, "b0000", "bb0000", "10.100.0.0/24", (enum mode)(i % 3),
                             (enum mode)((i + 1) % 3));
                bench_series_add(&cmode, bench_run((char *[]){ "nft", "-f", "-", NULL }, b.s));
        }
        if (n_modes % 3) {
                struct buf b = { 0 };
                nft_set_mode(&b, "b0000", "bb0000", "10.100.0.0/24", (enum mode)(n_modes % 3),
                             NAT);
                bench_run((char *[]){ "nft", "-f", "-", NULL }, b.s);
        }
        bench_settle();
        for (unsigned i = 0; i < n_nets; i++) {
                struct buf b = { 0 };
                snprintf(name, sizeof(name), "b%04u", i);
                snprintf(br, sizeof(br), "bb%04u", i);
                nft_del_network(&b, name, br, true);
                t0 = bench_now_ms();
                bench_run((char *[]){ "ip", "link", "del", br, NULL }, NULL);
                bench_run((char *[]){ "nft", "-f", "-", NULL }, b.s);
                bench_series_add(&cdown, bench_now_ms() - t0);
        }
        bench_run((char *[]){ "nft", "delete", "table", T, NULL }, NULL);

        /* ---- report ---- */
        unsigned k = n_nets >= 20 ? 10 : (n_nets + 1) / 2;
        double first = bench_median_of(&up, 0, k), last = bench_median_of(&up, n_nets - k, k);
        double cfirst = bench_median_of(&cup, 0, k), clast = bench_median_of(&cup, n_nets - k, k);
        double mode_median = bench_median(&mode), down_median = bench_median(&down);
        char lbl[64], val[64], first_lbl[64], last_lbl[64], dfirst_lbl[64], dlast_lbl[64];

        snprintf(first_lbl, sizeof(first_lbl), "    first %u created", k);
        snprintf(last_lbl, sizeof(last_lbl), "    last %u created (%u exist)", k, n_nets);
        snprintf(dfirst_lbl, sizeof(dfirst_lbl), "    first %u destroyed (%u exist)", k, n_nets);
        snprintf(dlast_lbl, sizeof(dlast_lbl), "    last %u destroyed", k);

        printf("\nvnet networks benchmark: %u networks (nat, one /24 each), %u mode changes, "
               "%u vnetctl runs\n", n_nets, n_modes, n_cli);
        printf("vnetd's networks: %s; %s\n",
               opt_bridge ? "bridge names given" : "bridges virbrN chosen by vnetd",
               opt_transient ? "transient" : "persistent (definition file written)");
        printf("times in ms; wall = call to reply (or spawn to exit); "
               "vnetd cpu = the daemon's own CPU time\n\n");
        printf("  %-44s %5s %9s %9s %11s\n", "figure", "n", "median", "p95",
               up_cpu.n ? "vnetd cpu" : "");
        printf("  vnetd through libvnet (vnet_client_call)\n");
        bench_row("  network up     io.vnet.CreateNetwork", &up, &up_cpu, TAIL);
        bench_row_part(first_lbl, &up, &up_cpu, 0, k, TAIL);
        bench_row_part(last_lbl, &up, &up_cpu, n_nets - k, k, TAIL);
        bench_row("  mode change    io.vnet.SetMode", &mode, &mode_cpu, TAIL);
        for (int t = 0; t < 3; t++) {
                snprintf(lbl, sizeof(lbl), "    %s -> %s", mode_names[t],
                         mode_names[(t + 1) % 3]);
                bench_row(lbl, &mode_tr[t], NULL, TAIL);
        }
        bench_row("  network down   io.vnet.DestroyNetwork", &down, &down_cpu, TAIL);
        bench_row_part(dfirst_lbl, &down, &down_cpu, 0, k, TAIL);
        bench_row_part(dlast_lbl, &down, &down_cpu, n_nets - k, k, TAIL);
        printf("  vnetctl, a process per call\n");
        bench_row("  vnetctl create", &cli_create, &cli_create_cpu, TAIL);
        bench_row("  vnetctl destroy", &cli_destroy, &cli_destroy_cpu, TAIL);
        printf("  commands (baseline): ip, nft\n");
        bench_row("  network up     3x ip + nft -f", &cup, NULL, TAIL);
        bench_row_part(first_lbl, &cup, NULL, 0, k, TAIL);
        bench_row_part(last_lbl, &cup, NULL, n_nets - k, k, TAIL);
        bench_row("  mode change    nft -f (flush + add)", &cmode, NULL, TAIL);
        bench_row("  network down   ip link del + nft -f", &cdown, NULL, TAIL);
        bench_row_part(dfirst_lbl, &cdown, NULL, 0, k, TAIL);
        bench_row_part(dlast_lbl, &cdown, NULL, n_nets - k, k, TAIL);

        printf("\n  %-28s %10s %12s %13s\n", "medians", "vnet", "commands", "commands/vnet");
        compare("network up", &up, &cup);
        compare("mode change", &mode, &cmode);
        compare("network down", &down, &cdown);
        printf("  %-28s %10.3f %12s   (vnetctl create median - CreateNetwork first %u)\n",
               "vnetctl process overhead", bench_median(&cli_create) - first, "", k);

        printf("\nsummary\n");
        snprintf(val, sizeof(val), "%.3f / %.3f = %.2fx", last, first, last / first);
        snprintf(lbl, sizeof(lbl), "network up: last %u <= 1.2x first %u (wall)", k, k);
        goal(lbl, val, last <= 1.2 * first);
        if (up_cpu.n) {
                double a = bench_median_of(&up_cpu, 0, k);
                double b = bench_median_of(&up_cpu, n_nets - k, k);
                snprintf(val, sizeof(val), "%.3f / %.3f = %.2fx", b, a, b / a);
                snprintf(lbl, sizeof(lbl), "network up: last %u <= 1.2x first %u (vnetd cpu)", k,
                         k);
                goal(lbl, val, b <= 1.2 * a);
        }
        snprintf(val, sizeof(val), "median %.3f ms", mode_median);
        goal("mode change: median <= 2 ms", val, mode_median <= 2.0);
        snprintf(val, sizeof(val), "median %.3f ms", down_median);
        goal("network down: median <= 50 ms", val, down_median <= 50.0);
        printf("  (commands, for reference: network up last/first %.2fx)\n", clast / cfirst);
        printf("  total run %.1f s\n", (bench_now_ms() - total0) / 1e3);
        return 0;
}
