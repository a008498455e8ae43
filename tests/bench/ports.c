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

#define NETWORK  "bports"
#define BRIDGE   "bpbr0"
#define GATEWAY  "10.240.0.1/16"
/* A Linux bridge numbers its ports in 10 bits (BR_MAX_PORTS): 1023 at most; the fill, the
 * port measured and the baseline's TAP must fit. */
#define FILL_MAX 1020
#define N_LEVELS 3

struct series {
        double *v; /* milliseconds */
        size_t n, cap;
};

struct stats {
        size_t n;
        double median, p99;
};

/* One way of attaching and detaching, at one fill level: wall times and vnetd's CPU. */
struct pair_series {
        struct series attach, detach, attach_cpu, detach_cpu;
};

static const char *opt_socket;
static const char *opt_vnetctl = "vnetctl";
static bool opt_verbose;
static char opt_schedstat[64]; /* /proc/VNETD_PID/schedstat, when -p is given */

/* vnetd's CPU time (user + system) from the scheduler's accounting; see networks.c. It leaves
 * out what vnetd waits for (RCU grace periods, deferred device cleanup). Negative when
 * unknown. */
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

        fprintf(stderr, "ports: ");
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

/* Over v[from, from+n). p99 by nearest rank (with under 100 values: the largest). */
static struct stats stats_of(const struct series *s, size_t from, size_t n)
{
        struct stats st = { .n = n, .median = NAN, .p99 = NAN };
        double *v;

        if (from >= s->n || n == 0)
                return (struct stats){ .median = NAN, .p99 = NAN };
        if (from + n > s->n)
                n = st.n = s->n - from;
        v = malloc(n * sizeof(*v));
        if (!v)
                die("out of memory");
        memcpy(v, s->v + from, n * sizeof(*v));
        qsort(v, n, sizeof(*v), cmp_double);
        st.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        st.p99 = v[(size_t)ceil(0.99 * n) - 1];
        free(v);
        return st;
}

static struct stats stats_all(const struct series *s)
{
        return stats_of(s, 0, s->n);
}

/* Adds the difference of two vnetd_cpu_ms() readings to @cpu, when both are known. */
static void cpu_add(struct series *cpu, double c0, double c1)
{
        if (c0 >= 0 && c1 >= 0)
                series_add(cpu, c1 - c0);
}

/* ---- vnetd through the client library ---- */

static void vcall(struct vnet_client *c, const char *method, json_t *params, json_t **reply)
{
        struct vnet_call_error err = { 0 };
        json_t *rep = NULL;
        int r;

        if (!params)
                die("%s: cannot build the parameters", method);
        r = vnet_client_call(c, method, params, &rep, &err);
        if (r == -EREMOTEIO)
                die("%s: %s: %s", method, err.name, err.message);
        if (r < 0)
                die("%s: %s (%s)", method, strerror(-r), err.message);
        if (reply)
                *reply = rep;
        else
                json_decref(rep);
        vnet_call_error_clear(&err);
}

/* Wall time from call to reply; vnetd's CPU time for it goes to *@cpu (-1 if unknown). */
static double vcall_timed(struct vnet_client *c, const char *method, json_t *params,
                          double *cpu)
{
        double c0 = vnetd_cpu_ms(), t0 = now_ms(), t, c1;

        vcall(c, method, params, NULL);
        t = now_ms() - t0;
        c1 = vnetd_cpu_ms();
        *cpu = c0 >= 0 && c1 >= 0 ? c1 - c0 : -1;
        return t;
}

/* vnet_port_attach with the MAC and owner (the caller) chosen by vnetd, and the interface
 * name too unless @want is given; the TAP's name goes to @ifname. */
static double lib_attach(struct vnet_client *c, const char *want, char ifname[16],
                         struct series *cpu)
{
        struct vnet_port_request req = { .network = NETWORK, .ifname = want };
        struct vnet_call_error err = { 0 };
        struct vnet_port_info info;
        double c0 = vnetd_cpu_ms(), t0 = now_ms(), t;
        int r;

        r = vnet_port_attach(c, &req, &info, &err);
        t = now_ms() - t0;
        cpu_add(cpu, c0, vnetd_cpu_ms());
        if (r < 0)
                die("vnet_port_attach: %s%s%s", err.name, err.name[0] ? ": " : "",
                    err.message[0] ? err.message : strerror(-r));
        vnet_call_error_clear(&err);
        memcpy(ifname, info.ifname, 16);
        return t;
}

static double lib_detach(struct vnet_client *c, const char *ifname, struct series *cpu)
{
        struct vnet_call_error err = { 0 };
        double c0 = vnetd_cpu_ms(), t0 = now_ms(), t;
        int r;

        r = vnet_port_detach(c, NETWORK, ifname, &err);
        t = now_ms() - t0;
        cpu_add(cpu, c0, vnetd_cpu_ms());
        if (r < 0)
                die("vnet_port_detach %s: %s%s%s", ifname, err.name, err.name[0] ? ": " : "",
                    err.message[0] ? err.message : strerror(-r));
        vnet_call_error_clear(&err);
        return t;
}

/* ---- commands ---- */

/* Runs argv (PATH lookup), stderr inherited so that a failing command says why; its stdout
 * goes to @out (up to @len - 1 bytes, NUL-terminated) when @out is not NULL, else to
 * /dev/null. Returns the elapsed time from spawn to reaped exit; dies if it did not exit 0. */
static double run(char *const argv[], char *out, size_t len)
{
        posix_spawn_file_actions_t fa;
        int p[2] = { -1, -1 }, status, r;
        size_t off = 0;
        double t0;
        pid_t pid;

        if (posix_spawn_file_actions_init(&fa))
                die("posix_spawn_file_actions_init failed");
        t0 = now_ms();
        if (out) {
                if (pipe2(p, O_CLOEXEC) < 0)
                        die("pipe: %s", strerror(errno));
                posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
        } else {
                posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        }
        r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r)
                die("cannot run %s: %s", argv[0], strerror(r));
        if (out) {
                close(p[1]);
                for (;;) {
                        char sink[256];
                        char *dst = off + 1 < len ? out + off : sink;
                        size_t room = off + 1 < len ? len - 1 - off : sizeof(sink);
                        ssize_t n = read(p[0], dst, room);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                break;
                        if (dst != sink)
                                off += (size_t)n;
                }
                out[off] = '\0';
                close(p[0]);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        die("waitpid: %s", strerror(errno));
        t0 = now_ms() - t0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                die("%s %s ... failed (status 0x%x)", argv[0], argv[1] ? argv[1] : "", status);
        return t0;
}

/* `vnetctl attach NETWORK`, which prints "IFNAME MAC"; the name goes to @ifname. */
static double cli_attach(char ifname[16], struct series *cpu)
{
        char out[256];
        double c0 = vnetd_cpu_ms(), t;

        t = run((char *[]){ (char *)opt_vnetctl, "-s", (char *)opt_socket, "attach", NETWORK,
                            NULL },
                out, sizeof(out));
        cpu_add(cpu, c0, vnetd_cpu_ms());
        if (sscanf(out, "%15s", ifname) != 1)
                die("vnetctl attach printed no interface name: '%s'", out);
        return t;
}

static double cli_detach(const char *ifname, struct series *cpu)
{
        double c0 = vnetd_cpu_ms(), t;

        t = run((char *[]){ (char *)opt_vnetctl, "-s", (char *)opt_socket, "detach", NETWORK,
                            (char *)ifname, NULL },
                NULL, 0);
        cpu_add(cpu, c0, vnetd_cpu_ms());
        return t;
}

/* The baseline: what an admin or a script does by hand for a guest's TAP. vnetd sets the
 * TAP's MAC, MTU and device group as well, in the same netlink request as the master. */
static double cmd_attach(const char *ifname)
{
        double t;

        t = run((char *[]){ "ip", "tuntap", "add", (char *)ifname, "mode", "tap", "user", "0",
                            NULL },
                NULL, 0);
        t += run((char *[]){ "ip", "link", "set", (char *)ifname, "master", BRIDGE, NULL }, NULL,
                 0);
        t += run((char *[]){ "ip", "link", "set", (char *)ifname, "up", NULL }, NULL, 0);
        return t;
}

static double cmd_detach(const char *ifname)
{
        return run((char *[]){ "ip", "link", "del", (char *)ifname, NULL }, NULL, 0);
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

static void row(const char *what, const struct series *s, const struct series *cpu)
{
        struct stats st = stats_all(s);

        printf("  %-44s %5zu %9.3f %9.3f", what, st.n, st.median, st.p99);
        if (cpu && cpu->n)
                printf(" %11.3f", stats_all(cpu).median);
        putchar('\n');
}

static void row_part(const char *what, const struct series *s, const struct series *cpu,
                     size_t from, size_t n)
{
        struct stats st = stats_of(s, from, n);

        printf("  %-44s %5zu %9.3f %9.3f", what, st.n, st.median, st.p99);
        if (cpu && cpu->n)
                printf(" %11.3f", stats_of(cpu, from, n).median);
        putchar('\n');
}

static void row1(const char *what, double ms, double cpu)
{
        printf("  %-44s %5d %9.3f %9s", what, 1, ms, "");
        if (cpu >= 0)
                printf(" %11.3f", cpu);
        putchar('\n');
}

static void goal(const char *what, const char *value, bool met)
{
        printf("  %-52s %-28s %s\n", what, value, met ? "met" : "NOT met");
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
        struct pair_series cli[N_LEVELS] = { 0 }, cmd[N_LEVELS] = { 0 };
        struct series fill = { 0 }, fill_cpu = { 0 };
        char (*filled)[16] = NULL, ifname[16], lbl[96], val[64];
        double total0 = now_ms(), t_stop, t_start, t_destroy;
        double cpu_stop, cpu_start, cpu_destroy;
        struct vnet_client *c;
        unsigned n_filled = 0;
        json_t *reply = NULL;
        int opt, r;

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
                        snprintf(opt_schedstat, sizeof(opt_schedstat), "/proc/%d/schedstat",
                                 atoi(optarg));
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
        check_namespace();
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (opt_schedstat[0] && vnetd_cpu_ms() < 0)
                die("cannot read %s", opt_schedstat);
        filled = calloc(fill_max, sizeof(*filled));
        if (!filled)
                die("out of memory");

        r = vnet_client_connect(opt_socket, &c);
        if (r < 0)
                die("cannot connect to %s: %s", opt_socket, strerror(-r));

        /* One nat network, as the default network is, with a /16 so that its size is never
         * what limits the ports. */
        vcall(c, "io.vnet.CreateNetwork",
              json_pack("{s:{s:s, s:s, s:s, s:s}}", "network", "name", NETWORK, "bridge", BRIDGE,
                        "mode", "nat", "ipv4", GATEWAY),
              NULL);
        settle();

        for (unsigned l = 0; l < N_LEVELS; l++) {
                /* Fill the bridge up to this level with ports that stay (library attaches,
                 * timed too: the attach cost as the bridge grows, one port at a time). */
                if (opt_verbose)
                        fprintf(stderr, "# filling the bridge to %u ports\n", levels[l]);
                for (; n_filled < levels[l]; n_filled++)
                        series_add(&fill, lib_attach(c, NULL, filled[n_filled], &fill_cpu));
                settle();

                if (opt_verbose)
                        fprintf(stderr, "# %u ports: %u pairs each way\n", levels[l], n_pairs);
                for (unsigned i = 0; i < n_pairs; i++) {
                        series_add(&lib[l].attach,
                                   lib_attach(c, NULL, ifname, &lib[l].attach_cpu));
                        series_add(&lib[l].detach, lib_detach(c, ifname, &lib[l].detach_cpu));
                }
                settle();
                /* The same with the name given, as a VMM that names its TAPs does: shows what
                 * choosing a free vnetN name costs vnetd at this size. */
                for (unsigned i = 0; i < n_pairs; i++) {
                        series_add(&named[l].attach,
                                   lib_attach(c, "vmtap0", ifname, &named[l].attach_cpu));
                        series_add(&named[l].detach, lib_detach(c, ifname, &named[l].detach_cpu));
                }
                settle();
                for (unsigned i = 0; i < n_pairs; i++) {
                        series_add(&cli[l].attach, cli_attach(ifname, &cli[l].attach_cpu));
                        series_add(&cli[l].detach, cli_detach(ifname, &cli[l].detach_cpu));
                }
                settle();
                for (unsigned i = 0; i < n_pairs; i++) {
                        snprintf(ifname, sizeof(ifname), "bt%u", i);
                        series_add(&cmd[l].attach, cmd_attach(ifname));
                        series_add(&cmd[l].detach, cmd_detach(ifname));
                }
                settle();
        }

        /* The full network down and up again: StopNetwork deletes its TAPs (the ports stay
         * reserved), StartNetwork makes all of them again. */
        if (opt_verbose)
                fprintf(stderr, "# stop and start the network with %u ports\n", n_filled);
        t_stop = vcall_timed(c, "io.vnet.StopNetwork", json_pack("{s:s}", "name", NETWORK),
                             &cpu_stop);
        settle();
        t_start = vcall_timed(c, "io.vnet.StartNetwork", json_pack("{s:s}", "name", NETWORK),
                              &cpu_start);
        vcall(c, "io.vnet.ListPorts", json_pack("{s:s}", "network", NETWORK), &reply);
        size_t n_ports = json_array_size(json_object_get(reply, "ports"));
        json_decref(reply);
        if (n_ports != n_filled)
                die("after StartNetwork: %zu ports listed, %u expected", n_ports, n_filled);
        settle();
        t_destroy = vcall_timed(c, "io.vnet.DestroyNetwork",
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
               "ip link set up, ip link del; each attach follows a detach\n\n");
        printf("  %-44s %5s %9s %9s %11s\n", "figure", "n", "median", "p99",
               have_cpu ? "vnetd cpu" : "");
        for (unsigned l = 0; l < N_LEVELS; l++) {
                printf("  %u ports on the bridge\n", levels[l]);
                row("  attach  vnet_port_attach", &lib[l].attach, &lib[l].attach_cpu);
                row("  detach  vnet_port_detach", &lib[l].detach, &lib[l].detach_cpu);
                row("  attach  vnet_port_attach, ifname given", &named[l].attach,
                    &named[l].attach_cpu);
                row("  detach  vnet_port_detach", &named[l].detach, &named[l].detach_cpu);
                row("  attach  vnetctl attach", &cli[l].attach, &cli[l].attach_cpu);
                row("  detach  vnetctl detach", &cli[l].detach, &cli[l].detach_cpu);
                row("  attach  3x ip (tuntap add, master, up)", &cmd[l].attach, NULL);
                row("  detach  ip link del", &cmd[l].detach, NULL);
        }
        printf("  filling the bridge, vnet_port_attach (no detach in between)\n");
        snprintf(lbl, sizeof(lbl), "    ports 1-%u", k);
        row_part(lbl, &fill, &fill_cpu, 0, k);
        snprintf(lbl, sizeof(lbl), "    ports %zu-%zu", fill.n - k + 1, fill.n);
        row_part(lbl, &fill, &fill_cpu, fill.n - k, k);
        printf("  the network with %u ports\n", n_filled);
        row1("  io.vnet.StopNetwork", t_stop, cpu_stop);
        row1("  io.vnet.StartNetwork (re-creates the TAPs)", t_start, cpu_start);
        row1("  io.vnet.DestroyNetwork", t_destroy, cpu_destroy);

        printf("\n  %-28s %10s %10s %10s %12s\n", "attach medians", "library", "vnetctl",
               "commands", "commands/lib");
        for (unsigned l = 0; l < N_LEVELS; l++) {
                double a = stats_all(&lib[l].attach).median, b = stats_all(&cli[l].attach).median;
                double d = stats_all(&cmd[l].attach).median;
                snprintf(lbl, sizeof(lbl), "%u ports", levels[l]);
                printf("  %-28s %10.3f %10.3f %10.3f %11.1fx\n", lbl, a, b, d, d / a);
        }
        printf("  %-28s %10s %10s %10s %12s\n", "detach medians", "library", "vnetctl",
               "commands", "commands/lib");
        for (unsigned l = 0; l < N_LEVELS; l++) {
                double a = stats_all(&lib[l].detach).median, b = stats_all(&cli[l].detach).median;
                double d = stats_all(&cmd[l].detach).median;
                snprintf(lbl, sizeof(lbl), "%u ports", levels[l]);
                printf("  %-28s %10.3f %10.3f %10.3f %11.1fx\n", lbl, a, b, d, d / a);
        }

        double a0 = stats_all(&lib[0].attach).median, aN = stats_all(&lib[N_LEVELS - 1].attach).median;
        double cli_worst = 0;
        unsigned cli_worst_l = 0;
        for (unsigned l = 0; l < N_LEVELS; l++) {
                double m = stats_all(&cli[l].attach).median;
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
                double x = stats_all(&lib[0].attach_cpu).median;
                double y = stats_all(&lib[N_LEVELS - 1].attach_cpu).median;
                snprintf(val, sizeof(val), "%.3f / %.3f = %.2fx", y, x, y / x);
                snprintf(lbl, sizeof(lbl), "library attach, %u ports: <= 1.5x at %u (vnetd cpu)",
                         levels[2], levels[0]);
                goal(lbl, val, y <= 1.5 * x);
        }
        snprintf(val, sizeof(val), "worst median %.3f ms (%u)", cli_worst, cli_worst_l);
        goal("vnetctl attach: median <= 3 ms at every fill level", val, cli_worst <= 3.0);
        snprintf(val, sizeof(val), "%.3f ms", t_stop);
        snprintf(lbl, sizeof(lbl), "StopNetwork with %u ports <= 1 s", n_filled);
        goal(lbl, val, t_stop <= 1000.0);
        printf("  (StartNetwork with %u ports: %.3f ms, %.3f ms per port)\n", n_filled, t_start,
               t_start / n_filled);
        printf("  total run %.1f s\n", (now_ms() - total0) / 1e3);
        free(filled);
        return 0;
}
