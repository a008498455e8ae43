/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest port benchmark: what attaching and detaching a port costs on one network whose bridge
 * already has ~0, ~100 and ~1000 other ports, through the client library
 * (vnet_port_attach/vnet_port_detach), through vnetctl as a process, and with the usual
 * commands (ip tuntap add + ip link set master + up; ip link del) at the same fill levels in
 * the same run; then stopping and starting the full network. Prints medians and p99; not a
 * timed test: it fails only when something fails outright (an error reply, a command that
 * exits non-zero).
 *
 * Run it inside a throwaway network namespace where vnetd runs (tests/bench/run does): it
 * creates a network, TAPs and a bridge's ports in the namespace it runs in, and refuses to run
 * in the namespace of PID 1. */
#include <getopt.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_NAME "ports"
#include "bench.h"
#include "link.h"
#include "tap.h"

#define NETWORK  "bports"
#define BRIDGE   "bpbr0"
#define GATEWAY  "10.240.0.1/16"
/* A Linux bridge numbers its ports in 10 bits (BR_MAX_PORTS): 1023 at most; the fill, the
 * port measured and the baseline's TAP must fit. */
#define FILL_MAX 1020
#define N_LEVELS 3
#define TAIL 0.99 /* the tables' last column: p99, by nearest rank (under 100 values: the max) */

/* One way of attaching and detaching, at one fill level: wall times and vnetd's CPU. */
struct pair_series {
        struct bench_series attach, detach, attach_cpu, detach_cpu;
};

static const char *opt_socket;
static const char *opt_vnetctl = "vnetctl";
static bool opt_verbose;
static pid_t opt_vnetd_pid = -1; /* -p: report this vnetd's CPU time per call */

/* ---- vnetd through the client library ---- */

/* vnet_port_attach with the MAC and owner (the caller) chosen by vnetd, and the interface
 * name too unless @want is given; the TAP's name goes to @ifname. */
static double lib_attach(struct vnet_client *c, const char *want, char ifname[16],
                         struct bench_series *cpu)
{
        struct vnet_port_request req = { .network = NETWORK, .ifname = want };
        struct vnet_call_error err = { 0 };
        struct vnet_port_info info;
        double c0 = bench_cpu_ms(opt_vnetd_pid), t0 = bench_now_ms(), t;
        int r;

        r = vnet_port_attach(c, &req, &info, &err);
        t = bench_now_ms() - t0;
        bench_cpu_add(cpu, c0, bench_cpu_ms(opt_vnetd_pid));
        if (r < 0)
                bench_die_port("vnet_port_attach", &err, r);
        vnet_call_error_clear(&err);
        memcpy(ifname, info.ifname, 16);
        return t;
}

static double lib_detach(struct vnet_client *c, const char *ifname, struct bench_series *cpu)
{
        struct vnet_call_error err = { 0 };
        double c0 = bench_cpu_ms(opt_vnetd_pid), t0 = bench_now_ms(), t;
        int r;

        r = vnet_port_detach(c, NETWORK, ifname, &err);
        t = bench_now_ms() - t0;
        bench_cpu_add(cpu, c0, bench_cpu_ms(opt_vnetd_pid));
        if (r < 0) {
                char what[64];

                snprintf(what, sizeof(what), "vnet_port_detach %s", ifname);
                bench_die_port(what, &err, r);
        }
        vnet_call_error_clear(&err);
        return t;
}

/* ---- commands ---- */

/* `vnetctl attach NETWORK`, which prints "IFNAME MAC"; the name goes to @ifname. */
static double cli_attach(char ifname[16], struct bench_series *cpu)
{
        char out[256];
        double c0 = bench_cpu_ms(opt_vnetd_pid), t;

        t = bench_run_io((char *[]){ (char *)opt_vnetctl, "-s", (char *)opt_socket, "attach",
                                     NETWORK, NULL },
                         NULL, out, sizeof(out));
        bench_cpu_add(cpu, c0, bench_cpu_ms(opt_vnetd_pid));
        if (sscanf(out, "%15s", ifname) != 1)
                bench_die("vnetctl attach printed no interface name: '%s'", out);
        return t;
}

static double cli_detach(const char *ifname, struct bench_series *cpu)
{
        double c0 = bench_cpu_ms(opt_vnetd_pid), t;

        t = bench_run((char *[]){ (char *)opt_vnetctl, "-s", (char *)opt_socket, "detach",
                                  NETWORK, (char *)ifname, NULL },
                      NULL);
        bench_cpu_add(cpu, c0, bench_cpu_ms(opt_vnetd_pid));
        return t;
}

/* The baseline: what an admin or a script does by hand for a guest's TAP. vnetd sets the
 * TAP's MAC, MTU and device group as well, in the same netlink request as the master. */
static double cmd_attach(const char *ifname)
{
        double t;

        t = bench_run((char *[]){ "ip", "tuntap", "add", (char *)ifname, "mode", "tap", "user",
                                  "0", NULL },
                      NULL);
        t += bench_run((char *[]){ "ip", "link", "set", (char *)ifname, "master", BRIDGE, NULL },
                       NULL);
        t += bench_run((char *[]){ "ip", "link", "set", (char *)ifname, "up", NULL }, NULL);
        return t;
}

static double cmd_detach(const char *ifname)
{
        return bench_run((char *[]){ "ip", "link", "del", (char *)ifname, NULL }, NULL);
}

/* ---- the kernel's part alone ----
 * The same kernel work vnetd does for an attach, done here in-process through libvnet: the
 * TAP made (TUNSETIFF, TUNSETOWNER, TUNSETPERSIST, close), read once (RTM_GETLINK), and put on
 * the bridge with its MAC, MTU, group and up in one RTM_SETLINK; removed with one RTM_DELLINK. No daemon, no socket,
 * no reservation: what is left of an attach when vnetd costs nothing. */

static struct vnet_link *kern_link;

static double kern_attach(const char *ifname, int bridge, unsigned mtu, int *ifindex)
{
        static const uint8_t guest[6] = { 0x52, 0x54, 0x00, 0xbe, 0x4c, 0x01 };
        struct vnet_tap_spec s = { .ifname = ifname, .owner = 0, .group = (gid_t)-1,
                                   .queues = 1 };
        struct vnet_port_link pl = { .master = bridge, .mtu = mtu, .group = (uint32_t)bridge };
        double t0 = bench_now_ms();
        int r;

        vnet_tap_mac(guest, pl.mac);
        r = vnet_tap_create(&s, ifindex);
        /* vnetd reads the new link before it enslaves it (see create_tap), so does this. */
        if (r == 0) {
                struct vnet_link_info info;
                r = vnet_link_get_index(kern_link, *ifindex, &info);
        }
        if (r == 0)
                r = vnet_link_enslave(kern_link, *ifindex, &pl);
        if (r < 0)
                bench_die("kernel attach of %s: %s", ifname, strerror(-r));
        return bench_now_ms() - t0;
}

static double kern_detach(int ifindex)
{
        double t0 = bench_now_ms();
        int r = vnet_link_delete(kern_link, ifindex);

        if (r < 0)
                bench_die("kernel detach: %s", strerror(-r));
        return bench_now_ms() - t0;
}

/* vnetd's resident set (VmRSS) in KiB, or -1. */
static long rss_kib(pid_t pid)
{
        char path[64], line[256];
        long kib = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "r");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
                        break;
        fclose(f);
        return kib;
}

/* ---- output ---- */

/* A row for a single call: no percentile; @cpu holds vnetd's CPU time for it, if known. */
static void row1(const char *what, double ms, const struct bench_series *cpu)
{
        printf("  %-44s %5d %9.3f %9s", what, 1, ms, "");
        if (cpu->n)
                printf(" %11.3f", cpu->v[0]);
        putchar('\n');
}

static void goal(const char *what, const char *value, bool met)
{
        bench_goal(52, 28, what, value, met);
}

static void usage(void)
{
        fprintf(stderr,
                "usage: ports -s SOCKET [-c VNETCTL] [-n PAIRS] [-f FILL] [-p VNETD_PID] [-v]\n"
                "  -n  attach+detach pairs per way and fill level (default 100)\n"
                "  -f  ports on the bridge at the last fill level (default 1000, at most 1020;\n"
                "      the others are 0 and 100)\n"
                "  -p  also report vnetd's CPU time per call (from /proc/PID/schedstat)\n");
        exit(2);
}

int main(int argc, char **argv)
{
        unsigned n_pairs = 100, fill_max = 1000, levels[N_LEVELS] = { 0, 100, 1000 };
        struct pair_series lib[N_LEVELS] = { 0 }, named[N_LEVELS] = { 0 };
        struct pair_series cli[N_LEVELS] = { 0 }, cmd[N_LEVELS] = { 0 }, kern[N_LEVELS] = { 0 };
        long rss[N_LEVELS] = { 0 };
        struct bench_series fill = { 0 }, fill_cpu = { 0 };
        char (*filled)[16] = NULL, ifname[16], lbl[96], val[64];
        double total0 = bench_now_ms(), t_stop, t_start, t_destroy;
        struct bench_series cpu_stop = { 0 }, cpu_start = { 0 }, cpu_destroy = { 0 };
        struct vnet_client *c;
        unsigned n_filled = 0;
        json_t *reply = NULL;
        int opt;

        while ((opt = getopt(argc, argv, "s:c:n:f:p:vh")) != -1) {
                switch (opt) {
                case 's':
                        opt_socket = optarg;
                        break;
                case 'c':
                        opt_vnetctl = optarg;
                        break;
                case 'n':
                        n_pairs = (unsigned)atoi(optarg);
                        break;
                case 'f':
                        fill_max = (unsigned)atoi(optarg);
                        break;
                case 'p':
                        opt_vnetd_pid = (pid_t)atoi(optarg);
                        break;
                case 'v':
                        opt_verbose = true;
                        break;
                default:
                        usage();
                }
        }
        if (!opt_socket || optind != argc || n_pairs < 1 || n_pairs > 10000 || fill_max < 2 ||
            fill_max > FILL_MAX)
                usage();
        levels[2] = fill_max;
        if (levels[1] >= fill_max)
                levels[1] = fill_max / 2;
        bench_check_namespace();
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (opt_vnetd_pid != -1 && bench_cpu_ms(opt_vnetd_pid) < 0)
                bench_die("cannot read /proc/%d/schedstat", (int)opt_vnetd_pid);
        filled = calloc(fill_max, sizeof(*filled));
        if (!filled)
                bench_die("out of memory");

        c = bench_connect(opt_socket);

        /* One nat network, as the default network is, with a /16 so that its size is never
         * what limits the ports. */
        bench_vcall(c, "io.vnet.CreateNetwork",
                    json_pack("{s:{s:s, s:s, s:s, s:s}}", "network", "name", NETWORK, "bridge",
                              BRIDGE, "mode", "nat", "ipv4", GATEWAY),
                    NULL);
        bench_settle();
        if (vnet_link_open(&kern_link) < 0)
                bench_die("cannot open rtnetlink");
        int br_index = (int)if_nametoindex(BRIDGE);
        if (br_index <= 0)
                bench_die("no bridge %s", BRIDGE);

        for (unsigned l = 0; l < N_LEVELS; l++) {
                /* Fill the bridge up to this level with ports that stay (library attaches,
                 * timed too: the attach cost as the bridge grows, one port at a time). */
                if (opt_verbose)
                        fprintf(stderr, "# filling the bridge to %u ports\n", levels[l]);
                for (; n_filled < levels[l]; n_filled++)
                        bench_series_add(&fill,
                                         lib_attach(c, NULL, filled[n_filled], &fill_cpu));
                bench_settle();

                if (opt_verbose)
                        fprintf(stderr, "# %u ports: %u pairs each way\n", levels[l], n_pairs);
                for (unsigned i = 0; i < n_pairs; i++) {
                        bench_series_add(&lib[l].attach,
                                         lib_attach(c, NULL, ifname, &lib[l].attach_cpu));
                        bench_series_add(&lib[l].detach,
                                         lib_detach(c, ifname, &lib[l].detach_cpu));
                }
                bench_settle();
                /* The same with the name given, as a VMM that names its TAPs does: shows what
                 * choosing a free vnetN name costs vnetd at this size. */
                for (unsigned i = 0; i < n_pairs; i++) {
                        bench_series_add(&named[l].attach,
                                         lib_attach(c, "vmtap0", ifname, &named[l].attach_cpu));
                        bench_series_add(&named[l].detach,
                                         lib_detach(c, ifname, &named[l].detach_cpu));
                }
                bench_settle();
                for (unsigned i = 0; i < n_pairs; i++) {
                        bench_series_add(&cli[l].attach, cli_attach(ifname, &cli[l].attach_cpu));
                        bench_series_add(&cli[l].detach, cli_detach(ifname, &cli[l].detach_cpu));
                }
                bench_settle();
                for (unsigned i = 0; i < n_pairs; i++) {
                        snprintf(ifname, sizeof(ifname), "bt%u", i);
                        bench_series_add(&cmd[l].attach, cmd_attach(ifname));
                        bench_series_add(&cmd[l].detach, cmd_detach(ifname));
                }
                bench_settle();
                for (unsigned i = 0; i < n_pairs; i++) {
                        int idx = 0;
                        bench_series_add(&kern[l].attach, kern_attach("bk0", br_index, 1500, &idx));
                        bench_series_add(&kern[l].detach, kern_detach(idx));
                }
                bench_settle();
                if (opt_vnetd_pid != -1)
                        rss[l] = rss_kib(opt_vnetd_pid);
        }
        vnet_link_close(kern_link);

        /* The full network down and up again: StopNetwork deletes its TAPs (the ports stay
         * reserved), StartNetwork makes all of them again. */
        if (opt_verbose)
                fprintf(stderr, "# stop and start the network with %u ports\n", n_filled);
        t_stop = bench_vcall_timed(c, opt_vnetd_pid, "io.vnet.StopNetwork",
                                   json_pack("{s:s}", "name", NETWORK), &cpu_stop);
        bench_settle();
        t_start = bench_vcall_timed(c, opt_vnetd_pid, "io.vnet.StartNetwork",
                                    json_pack("{s:s}", "name", NETWORK), &cpu_start);
        bench_vcall(c, "io.vnet.ListPorts", json_pack("{s:s}", "network", NETWORK), &reply);
        size_t n_ports = json_array_size(json_object_get(reply, "ports"));
        json_decref(reply);
        if (n_ports != n_filled)
                bench_die("after StartNetwork: %zu ports listed, %u expected", n_ports, n_filled);
        bench_settle();
        t_destroy = bench_vcall_timed(c, opt_vnetd_pid, "io.vnet.DestroyNetwork",
                                      json_pack("{s:s}", "name", NETWORK), &cpu_destroy);
        vnet_client_free(c);

        /* ---- report ---- */
        bool have_cpu = fill_cpu.n > 0;
        unsigned k = fill.n >= 200 ? 100 : (unsigned)(fill.n + 1) / 2;

        printf("\nvnet ports benchmark: one nat network, %u attach+detach pairs per way at %u, "
               "%u and %u ports on the bridge\n", n_pairs, levels[0], levels[1], levels[2]);
        printf("times in ms; wall = call to reply (or spawn to exit); "
               "vnetd cpu = the daemon's own CPU time (median)\n");
        printf("library: vnet_port_attach with name (vnetN), MAC and owner chosen by vnetd, and "
               "with the name given;\ncommands: ip tuntap add + ip link set master + "
               "ip link set up, ip link del; each attach follows a detach\n");
        printf("spare TAP: after an attach, vnetd makes the network's next TAP ahead (after the "
               "reply, before\nreading the next request); an attach with no name takes it. An "
               "attach with a name other than\nthe spare's, and back-to-back attaches (filling), "
               "show the cost without one. An attach's vnetd\ncpu leaves out making the next "
               "spare: it shows in the next call's figure (the detach).\n\n");
        printf("  %-44s %5s %9s %9s %11s\n", "figure", "n", "median", "p99",
               have_cpu ? "vnetd cpu" : "");
        for (unsigned l = 0; l < N_LEVELS; l++) {
                printf("  %u ports on the bridge\n", levels[l]);
                bench_row("  attach  vnet_port_attach", &lib[l].attach, &lib[l].attach_cpu,
                          TAIL);
                bench_row("  detach  vnet_port_detach", &lib[l].detach, &lib[l].detach_cpu,
                          TAIL);
                bench_row("  attach  vnet_port_attach, ifname given", &named[l].attach,
                          &named[l].attach_cpu, TAIL);
                bench_row("  detach  vnet_port_detach", &named[l].detach, &named[l].detach_cpu,
                          TAIL);
                bench_row("  attach  vnetctl attach", &cli[l].attach, &cli[l].attach_cpu, TAIL);
                bench_row("  detach  vnetctl detach", &cli[l].detach, &cli[l].detach_cpu, TAIL);
                bench_row("  attach  3x ip (tuntap add, master, up)", &cmd[l].attach, NULL, TAIL);
                bench_row("  detach  ip link del", &cmd[l].detach, NULL, TAIL);
                bench_row("  attach  kernel work alone (libvnet, in-process)", &kern[l].attach,
                          NULL, TAIL);
                bench_row("  detach  kernel work alone (RTM_DELLINK)", &kern[l].detach, NULL,
                          TAIL);
                if (rss[l] > 0)
                        printf("    vnetd resident memory (VmRSS)                %9.2f MiB\n",
                               rss[l] / 1024.0);
        }
        printf("  filling the bridge, vnet_port_attach (no detach in between)\n");
        snprintf(lbl, sizeof(lbl), "    ports 1-%u", k);
        bench_row_part(lbl, &fill, &fill_cpu, 0, k, TAIL);
        snprintf(lbl, sizeof(lbl), "    ports %zu-%zu", fill.n - k + 1, fill.n);
        bench_row_part(lbl, &fill, &fill_cpu, fill.n - k, k, TAIL);
        printf("  the network with %u ports\n", n_filled);
        row1("  io.vnet.StopNetwork", t_stop, &cpu_stop);
        row1("  io.vnet.StartNetwork (re-creates the TAPs)", t_start, &cpu_start);
        row1("  io.vnet.DestroyNetwork", t_destroy, &cpu_destroy);

        printf("\n  %-28s %10s %10s %10s %12s %10s %10s\n", "attach medians", "library",
               "vnetctl", "commands", "commands/lib", "kernel", "lib-kernel");
        /* kernel: making a TAP in-process, as vnetd does without a spare. */
        for (unsigned l = 0; l < N_LEVELS; l++) {
                double a = bench_median(&lib[l].attach), b = bench_median(&cli[l].attach);
                double d = bench_median(&cmd[l].attach), k0 = bench_median(&kern[l].attach);
                snprintf(lbl, sizeof(lbl), "%u ports", levels[l]);
                printf("  %-28s %10.3f %10.3f %10.3f %11.1fx %10.3f %10.3f\n", lbl, a, b, d,
                       d / a, k0, a - k0);
        }
        printf("  %-28s %10s %10s %10s %12s\n", "detach medians", "library", "vnetctl",
               "commands", "commands/lib");
        for (unsigned l = 0; l < N_LEVELS; l++) {
                double a = bench_median(&lib[l].detach), b = bench_median(&cli[l].detach);
                double d = bench_median(&cmd[l].detach);
                snprintf(lbl, sizeof(lbl), "%u ports", levels[l]);
                printf("  %-28s %10.3f %10.3f %10.3f %11.1fx\n", lbl, a, b, d, d / a);
        }

        double a0 = bench_median(&lib[0].attach), aN = bench_median(&lib[N_LEVELS - 1].attach);
        double cli_worst = 0;
        unsigned cli_worst_l = 0;
        for (unsigned l = 0; l < N_LEVELS; l++) {
                double m = bench_median(&cli[l].attach);
                if (m > cli_worst) {
                        cli_worst = m;
                        cli_worst_l = levels[l];
                }
        }
        printf("\nsummary\n");
        snprintf(val, sizeof(val), "median %.3f ms", a0);
        snprintf(lbl, sizeof(lbl), "library attach, %u ports: median <= 0.5 ms", levels[0]);
        goal(lbl, val, a0 <= 0.5);
        snprintf(val, sizeof(val), "%.3f / %.3f = %.2fx", aN, a0, aN / a0);
        snprintf(lbl, sizeof(lbl), "library attach, %u ports: <= 1.5x at %u (wall)", levels[2],
                 levels[0]);
        goal(lbl, val, aN <= 1.5 * a0);
        if (have_cpu) {
                double x = bench_median(&lib[0].attach_cpu);
                double y = bench_median(&lib[N_LEVELS - 1].attach_cpu);
                snprintf(val, sizeof(val), "%.3f / %.3f = %.2fx", y, x, y / x);
                snprintf(lbl, sizeof(lbl), "library attach, %u ports: <= 1.5x at %u (vnetd cpu)",
                         levels[2], levels[0]);
                goal(lbl, val, y <= 1.5 * x);
        }
        double k0 = bench_median(&kern[0].attach), kN = bench_median(&kern[N_LEVELS - 1].attach);
        double n0 = bench_median(&named[0].attach);
        double nN = bench_median(&named[N_LEVELS - 1].attach);
        printf("  (without a spare, the name given: %.3f ms at %u ports, %.3f ms at %u = %.2fx;\n"
               "   the kernel making a TAP alone: %.3f ms and %.3f ms = %.2fx)\n", n0, levels[0],
               nN, levels[2], nN / n0, k0, kN, kN / k0);
        snprintf(val, sizeof(val), "worst median %.3f ms (%u)", cli_worst, cli_worst_l);
        goal("vnetctl attach: median <= 3 ms at every fill level", val, cli_worst <= 3.0);
        snprintf(val, sizeof(val), "%.3f ms", t_stop);
        snprintf(lbl, sizeof(lbl), "StopNetwork with %u ports <= 1 s", n_filled);
        goal(lbl, val, t_stop <= 1000.0);
        printf("  (StartNetwork with %u ports: %.3f ms, %.3f ms per port)\n", n_filled, t_start,
               t_start / n_filled);
        if (rss[N_LEVELS - 1] > 0) {
                snprintf(val, sizeof(val), "%.2f MiB", rss[N_LEVELS - 1] / 1024.0);
                snprintf(lbl, sizeof(lbl), "vnetd RSS with %u ports <= 8 MiB", levels[2]);
                goal(lbl, val, rss[N_LEVELS - 1] <= 8 * 1024);
        }
        printf("  total run %.1f s\n", (bench_now_ms() - total0) / 1e3);
        free(filled);
        return 0;
}
