/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Network life-cycle benchmark: what creating, re-moding and destroying a network costs
 * through vnetd (io.vnet.* over the client library), through vnetctl as a process, and with
 * the usual commands (ip, nft) doing the same work. Prints medians and p95; not a timed test:
 * it fails only when something fails outright (an error reply, a command that exits non-zero).
 *
 * Run it inside a throwaway network namespace where vnetd runs (tests/bench/run does): it
 * creates bridges, addresses and nftables rules in the namespace it runs in, and refuses to
 * run in the namespace of PID 1. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vnet/vnet.h>

extern char **environ;

#define N_MAX 2500 /* subnets 10.(base + i/250).(i%250).0/24 stay within one base block of 10 */
#define TABLE "bench" /* the baseline's own table, next to vnetd's "inet vnet" */

enum mode { NAT, ROUTED, ISOLATED };
static const char *const mode_names[] = { [NAT] = "nat", [ROUTED] = "routed",
                                          [ISOLATED] = "isolated" };

struct series {
        double *v; /* milliseconds */
        size_t n, cap;
};

struct stats {
        size_t n;
        double median, p95;
};

static const char *opt_socket;
static const char *opt_vnetctl = "vnetctl";
static bool opt_verbose;
static bool opt_bridge;    /* name each bridge (else vnetd picks the first free virbrN) */
static bool opt_transient; /* transient networks: no definition file written */
static char opt_schedstat[64]; /* /proc/VNETD_PID/schedstat, when -p is given */

/* vnetd's CPU time (user + system, ns resolution) from the scheduler's accounting: unlike
 * wall time it does not move when other work shares the machine, so it shows whether the
 * daemon's own work grows. It leaves out what vnetd waits for (RCU grace periods, the
 * kernel's deferred device cleanup). Negative when unknown. */
static double vnetd_cpu_ms(void)
{
        unsigned long long ns;
        FILE *f;
        int r;

        if (!opt_schedstat[0])
                return -1;
        f = fopen(opt_schedstat, "re");
        if (!f)
                return -1;
        r = fscanf(f, "%llu", &ns);
        fclose(f);
        return r == 1 ? ns / 1e6 : -1;
}

static void die(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "networks: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(1);
}

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void series_add(struct series *s, double v)
{
        if (s->n == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 128;
                s->v = realloc(s->v, s->cap * sizeof(*s->v));
                if (!s->v)
                        die("out of memory");
        }
        s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

/* Over v[from, from+n). p95 by nearest rank. */
static struct stats stats_of(const struct series *s, size_t from, size_t n)
{
        struct stats st = { .n = n, .median = NAN, .p95 = NAN };
        double *v;

        if (from >= s->n || n == 0)
                return (struct stats){ .median = NAN, .p95 = NAN };
        if (from + n > s->n)
                n = st.n = s->n - from;
        v = malloc(n * sizeof(*v));
        if (!v)
                die("out of memory");
        memcpy(v, s->v + from, n * sizeof(*v));
        qsort(v, n, sizeof(*v), cmp_double);
        st.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        st.p95 = v[(size_t)ceil(0.95 * n) - 1];
        free(v);
        return st;
}

static struct stats stats_all(const struct series *s)
{
        return stats_of(s, 0, s->n);
}

static void subnet(char *buf, size_t len, unsigned base, unsigned i, const char *host)
{
        snprintf(buf, len, "10.%u.%u.%s", base + i / 250, i % 250, host);
}

/* ---- vnetd through the client library ---- */

static void vcall(struct vnet_client *c, const char *method, json_t *params)
{
        struct vnet_call_error err = { 0 };
        json_t *reply = NULL;
        int r;

        if (!params)
                die("%s: cannot build the parameters", method);
        r = vnet_client_call(c, method, params, &reply, &err);
        if (r == -EREMOTEIO)
                die("%s: %s: %s", method, err.name, err.message);
        if (r < 0)
                die("%s: %s (%s)", method, strerror(-r), err.message);
        json_decref(reply);
        vnet_call_error_clear(&err);
}

/* Wall time from call to reply; vnetd's CPU time for it goes into @cpu, if known. */
static double vcall_timed(struct vnet_client *c, const char *method, json_t *params,
                          struct series *cpu)
{
        double c0 = vnetd_cpu_ms(), t0 = now_ms(), t, c1;

        vcall(c, method, params);
        t = now_ms() - t0;
        c1 = vnetd_cpu_ms();
        if (c0 >= 0 && c1 >= 0)
                series_add(cpu, c1 - c0);
        return t;
}

/* ---- commands ---- */

/* Runs argv (PATH lookup) with @input on its stdin (if not NULL), stdout to /dev/null and
 * stderr inherited, so a failing command says why. Returns the elapsed time from spawn to
 * reaped exit; dies if it did not exit 0. */
static double run(char *const argv[], const char *input)
{
        posix_spawn_file_actions_t fa;
        int p[2] = { -1, -1 }, status, r;
        double t0;
        pid_t pid;

        if (posix_spawn_file_actions_init(&fa))
                die("posix_spawn_file_actions_init failed");
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        t0 = now_ms();
        if (input) {
                if (pipe2(p, O_CLOEXEC) < 0)
                        die("pipe: %s", strerror(errno));
                posix_spawn_file_actions_adddup2(&fa, p[0], STDIN_FILENO);
        }
        r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r)
                die("cannot run %s: %s", argv[0], strerror(r));
        if (input) {
                size_t len = strlen(input), off = 0;
                close(p[0]);
                while (off < len) {
                        ssize_t w = write(p[1], input + off, len - off);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                break; /* the command will fail and say why */
                        off += (size_t)w;
                }
                close(p[1]);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        die("waitpid: %s", strerror(errno));
        t0 = now_ms() - t0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                if (input)
                        fprintf(stderr, "--- input ---\n%s--- end ---\n", input);
                die("%s %s ... failed (status 0x%x)", argv[0], argv[1] ? argv[1] : "", status);
        }
        return t0;
}

/* vnetctl as a process; vnetd's CPU time for the call goes into @cpu, if known. */
static double vnetctl(char *const argv[], struct series *cpu)
{
        double c0 = vnetd_cpu_ms(), t = run(argv, NULL), c1 = vnetd_cpu_ms();

        if (c0 >= 0 && c1 >= 0)
                series_add(cpu, c1 - c0);
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
                die("nft script too long");
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
        run((char *[]){ "nft", "-f", "-", NULL }, b.s);
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

/* ---- safety ---- */

/* Everything here changes the namespace it runs in: never let that be the machine's own. */
static void check_namespace(void)
{
        struct stat self, init;

        if (stat("/proc/self/ns/net", &self) < 0)
                die("cannot stat /proc/self/ns/net: %s", strerror(errno));
        if (stat("/proc/1/ns/net", &init) < 0)
                return; /* cannot tell (no access to PID 1): the caller made the namespace */
        if (self.st_ino == init.st_ino && self.st_dev == init.st_dev)
                die("refusing to run in the network namespace of PID 1; run it through "
                    "tests/bench/run, which makes a throwaway namespace");
}

/* Between phases: lets the kernel finish deferred work of the last phase (device cleanup,
 * RCU callbacks) so that it is not charged to the first calls of the next. */
static void settle(void)
{
        nanosleep(&(struct timespec){ .tv_nsec = 300 * 1000 * 1000 }, NULL);
}

/* ---- output ---- */

/* @cpu (may be NULL or empty): vnetd's CPU time for the same calls. */
static void row_part(const char *what, const struct series *s, const struct series *cpu,
                     size_t from, size_t n)
{
        struct stats st = stats_of(s, from, n);

        printf("  %-44s %5zu %9.3f %9.3f", what, st.n, st.median, st.p95);
        if (cpu && cpu->n)
                printf(" %11.3f", stats_of(cpu, from, n).median);
        putchar('\n');
}

static void row(const char *what, const struct series *s, const struct series *cpu)
{
        row_part(what, s, cpu, 0, s->n);
}

static void compare(const char *what, const struct series *v, const struct series *c)
{
        double a = stats_all(v).median, b = stats_all(c).median;

        printf("  %-28s %10.3f %12.3f %12.1fx\n", what, a, b, b / a);
}

static void goal(const char *what, const char *value, bool met)
{
        printf("  %-50s %-26s %s\n", what, value, met ? "met" : "NOT met");
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
        struct series up = { 0 }, mode = { 0 }, mode_tr[3] = { 0 }, down = { 0 };
        struct series cup = { 0 }, cmode = { 0 }, cdown = { 0 };
        struct series cli_create = { 0 }, cli_destroy = { 0 };
        struct series up_cpu = { 0 }, mode_cpu = { 0 }, down_cpu = { 0 };
        struct series cli_create_cpu = { 0 }, cli_destroy_cpu = { 0 };
        struct vnet_client *c;
        char name[32], br[16], gw[32], net[32], s1[32];
        double t0, total0 = now_ms();
        int opt, r;

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
                        snprintf(opt_schedstat, sizeof(opt_schedstat), "/proc/%d/schedstat",
                                 atoi(optarg));
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
        check_namespace();
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (opt_schedstat[0] && vnetd_cpu_ms() < 0)
                die("cannot read %s", opt_schedstat);

        r = vnet_client_connect(opt_socket, &c);
        if (r < 0)
                die("cannot connect to %s: %s", opt_socket, strerror(-r));

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
                series_add(&up, vcall_timed(c, "io.vnet.CreateNetwork",
                                            def ? json_pack("{s:o}", "network", def) : NULL,
                                            &up_cpu));
        }

        /* 2. vnetd: mode changes on one network while all N exist. */
        if (opt_verbose)
                fprintf(stderr, "# vnetd: %u mode changes\n", n_modes);
        for (unsigned i = 0; i < n_modes; i++) {
                enum mode to = (enum mode)((i + 1) % 3);
                double t = vcall_timed(c, "io.vnet.SetMode",
                                       json_pack("{s:s, s:s}", "name", "n0000", "mode",
                                                 mode_names[to]),
                                       &mode_cpu);
                series_add(&mode, t);
                series_add(&mode_tr[i % 3], t);
        }
        /* Back to nat, so every network goes down from the same mode. */
        if (n_modes % 3)
                vcall(c, "io.vnet.SetMode", json_pack("{s:s, s:s}", "name", "n0000", "mode", "nat"));

        settle();

        /* 3. vnetd: N networks down. */
        if (opt_verbose)
                fprintf(stderr, "# vnetd: destroying %u networks\n", n_nets);
        for (unsigned i = 0; i < n_nets; i++) {
                snprintf(name, sizeof(name), "n%04u", i);
                series_add(&down, vcall_timed(c, "io.vnet.DestroyNetwork",
                                              json_pack("{s:s}", "name", name), &down_cpu));
        }

        settle();

        /* 5. vnetctl as a process: the command line's own cost. Creates in a row, then
         * destroys, as above: a create right after a destroy would wait for the kernel's
         * deferred cleanup of the deleted bridge and charge it to the command line. */
        if (opt_verbose)
                fprintf(stderr, "# vnetctl: %u create, %u destroy\n", n_cli, n_cli);
        for (unsigned i = 0; i < n_cli; i++) {
                snprintf(name, sizeof(name), "c%04u", i);
                subnet(gw, sizeof(gw), 200, i, "1/24");
                series_add(&cli_create,
                           vnetctl((char *[]){ (char *)opt_vnetctl, "-s", (char *)opt_socket,
                                               "create", name, "--mode", "nat", "--ipv4", gw, "--no-dhcp", "--no-dns",
                                               NULL },
                                   &cli_create_cpu));
        }
        settle();
        for (unsigned i = 0; i < n_cli; i++) {
                snprintf(name, sizeof(name), "c%04u", i);
                series_add(&cli_destroy,
                           vnetctl((char *[]){ (char *)opt_vnetctl, "-s", (char *)opt_socket,
                                               "destroy", name, NULL },
                                   &cli_destroy_cpu));
        }
        vnet_client_free(c);
        settle();

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
                t0 = now_ms();
                run((char *[]){ "ip", "link", "add", br, "address", s1, "type", "bridge", NULL },
                    NULL);
                run((char *[]){ "ip", "addr", "add", gw, "dev", br, NULL }, NULL);
                run((char *[]){ "ip", "link", "set", br, "up", NULL }, NULL);
                run((char *[]){ "nft", "-f", "-", NULL }, b.s);
                series_add(&cup, now_ms() - t0);
        }
        settle();
        for (unsigned i = 0; i < n_modes; i++) {
                struct buf b = { 0 };
                nft_set_mode(&b, "b0000", "bb0000", "10.100.0.0/24", (enum mode)(i % 3),
                             (enum mode)((i + 1) % 3));
                series_add(&cmode, run((char *[]){ "nft", "-f", "-", NULL }, b.s));
        }
        if (n_modes % 3) {
                struct buf b = { 0 };
                nft_set_mode(&b, "b0000", "bb0000", "10.100.0.0/24", (enum mode)(n_modes % 3),
                             NAT);
                run((char *[]){ "nft", "-f", "-", NULL }, b.s);
        }
        settle();
        for (unsigned i = 0; i < n_nets; i++) {
                struct buf b = { 0 };
                snprintf(name, sizeof(name), "b%04u", i);
                snprintf(br, sizeof(br), "bb%04u", i);
                nft_del_network(&b, name, br, true);
                t0 = now_ms();
                run((char *[]){ "ip", "link", "del", br, NULL }, NULL);
                run((char *[]){ "nft", "-f", "-", NULL }, b.s);
                series_add(&cdown, now_ms() - t0);
        }
        run((char *[]){ "nft", "delete", "table", T, NULL }, NULL);

        /* ---- report ---- */
        unsigned k = n_nets >= 20 ? 10 : (n_nets + 1) / 2;
        double first = stats_of(&up, 0, k).median, last = stats_of(&up, n_nets - k, k).median;
        double cfirst = stats_of(&cup, 0, k).median, clast = stats_of(&cup, n_nets - k, k).median;
        struct stats smode = stats_all(&mode), sdown = stats_all(&down);
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
        row("  network up     io.vnet.CreateNetwork", &up, &up_cpu);
        row_part(first_lbl, &up, &up_cpu, 0, k);
        row_part(last_lbl, &up, &up_cpu, n_nets - k, k);
        row("  mode change    io.vnet.SetMode", &mode, &mode_cpu);
        for (int t = 0; t < 3; t++) {
                snprintf(lbl, sizeof(lbl), "    %s -> %s", mode_names[t],
                         mode_names[(t + 1) % 3]);
                row(lbl, &mode_tr[t], NULL);
        }
        row("  network down   io.vnet.DestroyNetwork", &down, &down_cpu);
        row_part(dfirst_lbl, &down, &down_cpu, 0, k);
        row_part(dlast_lbl, &down, &down_cpu, n_nets - k, k);
        printf("  vnetctl, a process per call\n");
        row("  vnetctl create", &cli_create, &cli_create_cpu);
        row("  vnetctl destroy", &cli_destroy, &cli_destroy_cpu);
        printf("  commands (baseline): ip, nft\n");
        row("  network up     3x ip + nft -f", &cup, NULL);
        row_part(first_lbl, &cup, NULL, 0, k);
        row_part(last_lbl, &cup, NULL, n_nets - k, k);
        row("  mode change    nft -f (flush + add)", &cmode, NULL);
        row("  network down   ip link del + nft -f", &cdown, NULL);
        row_part(dfirst_lbl, &cdown, NULL, 0, k);
        row_part(dlast_lbl, &cdown, NULL, n_nets - k, k);

        printf("\n  %-28s %10s %12s %13s\n", "medians", "vnet", "commands", "commands/vnet");
        compare("network up", &up, &cup);
        compare("mode change", &mode, &cmode);
        compare("network down", &down, &cdown);
        printf("  %-28s %10.3f %12s   (vnetctl create median - CreateNetwork first %u)\n",
               "vnetctl process overhead", stats_all(&cli_create).median - first, "", k);

        printf("\nsummary\n");
        snprintf(val, sizeof(val), "%.3f / %.3f = %.2fx", last, first, last / first);
        snprintf(lbl, sizeof(lbl), "network up: last %u <= 1.2x first %u (wall)", k, k);
        goal(lbl, val, last <= 1.2 * first);
        if (up_cpu.n) {
                double a = stats_of(&up_cpu, 0, k).median, b = stats_of(&up_cpu, n_nets - k, k).median;
                snprintf(val, sizeof(val), "%.3f / %.3f = %.2fx", b, a, b / a);
                snprintf(lbl, sizeof(lbl), "network up: last %u <= 1.2x first %u (vnetd cpu)", k, k);
                goal(lbl, val, b <= 1.2 * a);
        }
        snprintf(val, sizeof(val), "median %.3f ms", smode.median);
        goal("mode change: median <= 2 ms", val, smode.median <= 2.0);
        snprintf(val, sizeof(val), "median %.3f ms", sdown.median);
        goal("network down: median <= 50 ms", val, sdown.median <= 50.0);
        printf("  (commands, for reference: network up last/first %.2fx)\n", clast / cfirst);
        printf("  total run %.1f s\n", (now_ms() - total0) / 1e3);
        return 0;
}
