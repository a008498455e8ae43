/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Start-up benchmark: how long vnetd takes from its start to READY=1 (the sd_notify datagram
 * it sends once every network is up with its dnsmasq, just before it serves requests), in two
 * cases:
 *   adoption   a restart with NETWORKS nat networks (DHCP on) x PORTS ports already running:
 *              vnetd must adopt the bridges, TAPs and dnsmasq processes and re-create
 *              nothing; checked after every restart (ifindexes and dnsmasq pids unchanged);
 *   cold boot  the same number of definition files with Autostart=yes, fresh state and run
 *              directories (so the once-per-boot autostart marker is absent), and a fresh
 *              network namespace with nothing in it: every bridge, rule set and dnsmasq made.
 * This program is the service manager: it binds the $NOTIFY_SOCKET datagram socket, forks and
 * execs vnetd itself, and times fork to the READY=1 datagram (whose sender it checks with
 * SCM_CREDENTIALS). vnetd is stopped with SIGTERM between runs: the networks keep running and
 * the next vnetd adopts them. Prints medians, p95 and per-run figures; not a timed test: it
 * fails only when something fails outright (vnetd exits, a check finds something re-created).
 *
 * Run it inside a throwaway network namespace (tests/bench/run does): the adoption networks
 * live in the namespace it runs in, and it refuses to run in the namespace of PID 1. Each cold
 * boot gets an anonymous namespace of its own (unshare), gone once its processes are. Every
 * process it starts (vnetd, and the dnsmasq processes vnetd leaves running, which come back
 * to this process as their subreaper) is stopped by PID before it exits, also on failure. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define BENCH_NAME "restart"
#include "bench.h"
#include "link.h"

#define NETS_MAX   200 /* subnets 10.77.i.0/24 and 10.78.i.0/24 */
#define PORTS_MAX  50
#define READY_TIMEOUT_MS 60000

/* The goals. */
#define GOAL_ADOPT_MS 200.0
#define GOAL_COLD_MS  1000.0

#define TAIL 0.95 /* the tables' p95 column, by nearest rank (under 20 values: the max) */

/* What a restart must leave as it found it. */
struct snapshot {
        int bridge[NETS_MAX];
        pid_t dnsmasq[NETS_MAX];
        int (*port)[PORTS_MAX]; /* ifindex of port j of network i */
        char (*port_name)[PORTS_MAX][16];
};

/* One vnetd instance and its directories. */
struct instance {
        char dir[1024]; /* DIR/{etc,lib,run}, DIR/vnetd.log */
        char sock[1200];
        int nsfd;       /* the namespace to run it in; -1: this one */
        pid_t pid;
        int pidfd;
};

static const char *opt_vnetd = "vnetd";
static char opt_dir[900]; /* the work directory; every dnsmasq of ours has it in its argv */
static bool opt_verbose;
static unsigned opt_nets = 50, opt_ports = 20;

static int notify_fd = -1;
static char notify_path[1024];
static struct instance *current; /* the vnetd running, for cleanup */

static void vlog(const char *fmt, ...)
{
        va_list ap;

        if (!opt_verbose)
                return;
        fprintf(stderr, "# ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

/* ---- processes ---- */

/* Whether @pid is a dnsmasq with an argument inside our work directory: only those are ours
 * to stop. */
static bool is_our_dnsmasq(pid_t pid)
{
        char path[64], buf[8192];
        const char *base;
        size_t len = strlen(opt_dir), off;
        ssize_t n;
        bool ours = false;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        base = strrchr(buf, '/');
        if (strcmp(base ? base + 1 : buf, "dnsmasq") != 0)
                return false;
        for (off = strlen(buf) + 1; off < (size_t)n; off += strlen(buf + off) + 1)
                if (strstr(buf + off, opt_dir) && len)
                        ours = true;
        return ours;
}

/* Waits up to @ms for the process behind @pidfd to exit. */
static bool wait_exit(int pidfd, int ms)
{
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        int r;

        do
                r = poll(&p, 1, ms);
        while (r < 0 && errno == EINTR);
        return r > 0;
}

/* SIGTERM, then SIGKILL after 2 s; reaps it when it is our child (dnsmasq comes back to us
 * as the subreaper once vnetd is gone). */
static void stop_pid(pid_t pid)
{
        int fd = pidfd_open(pid, 0);

        if (fd < 0)
                return;
        if (kill(pid, SIGTERM) == 0 && !wait_exit(fd, 2000)) {
                kill(pid, SIGKILL);
                wait_exit(fd, 2000);
        }
        close(fd);
        waitpid(pid, NULL, WNOHANG);
}

/* Every dnsmasq of ours still running, found through /proc (their pid files may be gone):
 * stopped by PID. Returns how many. */
static unsigned stop_our_dnsmasq(void)
{
        unsigned n = 0;
        struct dirent *de;
        DIR *d = opendir("/proc");

        if (!d)
                return 0;
        while ((de = readdir(d))) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);

                if (*end || pid <= 1 || !is_our_dnsmasq((pid_t)pid))
                        continue;
                stop_pid((pid_t)pid);
                n++;
        }
        closedir(d);
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        return n;
}

static void cleanup(void)
{
        if (current && current->pid > 0) {
                kill(current->pid, SIGTERM);
                if (!wait_exit(current->pidfd, 5000))
                        kill(current->pid, SIGKILL);
                waitpid(current->pid, NULL, 0);
                close(current->pidfd);
                current->pid = 0;
        }
        stop_our_dnsmasq();
        if (notify_fd >= 0) {
                close(notify_fd);
                notify_fd = -1;
                unlink(notify_path);
        }
}

static void on_signal(int sig)
{
        (void)sig;
        cleanup();
        _exit(130);
}

/* ---- vnetd ---- */

static void show_log(const struct instance *in)
{
        char path[1100], buf[4096];
        ssize_t n;
        off_t size;
        int fd;

        snprintf(path, sizeof(path), "%s/vnetd.log", in->dir);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        size = lseek(fd, 0, SEEK_END);
        lseek(fd, size > (off_t)sizeof(buf) ? size - (off_t)sizeof(buf) : 0, SEEK_SET);
        fprintf(stderr, "--- %s (end) ---\n", path);
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                fwrite(buf, 1, (size_t)n, stderr);
        close(fd);
}

static void drain_notify(void)
{
        char buf[512];

        while (recv(notify_fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
                ;
}

/* Forks and execs vnetd (in @in->nsfd's namespace if set) and waits for its READY=1.
 * Returns the milliseconds from fork to the datagram; *cpu gets vnetd's CPU time by then. */
static double vnetd_start(struct instance *in, double *cpu)
{
        char etc[1100], lib[1100], run[1100], log[1100];
        char *argv[] = { (char *)opt_vnetd, "--foreground", "--config-dir", etc, "--state-dir",
                         lib, "--run-dir", run, NULL };
        struct pollfd p[2];
        double t0, t;
        int logfd;

        snprintf(etc, sizeof(etc), "%s/etc", in->dir);
        snprintf(lib, sizeof(lib), "%s/lib", in->dir);
        snprintf(run, sizeof(run), "%s/run", in->dir);
        snprintf(log, sizeof(log), "%s/vnetd.log", in->dir);
        logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (logfd < 0)
                bench_die("cannot open %s: %s", log, strerror(errno));
        drain_notify();

        t0 = bench_now_ms();
        in->pid = fork();
        if (in->pid < 0)
                bench_die("fork: %s", strerror(errno));
        if (in->pid == 0) {
                if (in->nsfd >= 0 && setns(in->nsfd, CLONE_NEWNET) < 0)
                        _exit(126);
                dup2(logfd, STDOUT_FILENO);
                dup2(logfd, STDERR_FILENO);
                execv(opt_vnetd, argv);
                _exit(127);
        }
        close(logfd);
        current = in;
        /* Race-free: an unreaped child keeps its pid. */
        in->pidfd = pidfd_open(in->pid, 0);
        if (in->pidfd < 0)
                bench_die("pidfd_open: %s", strerror(errno));

        p[0] = (struct pollfd){ .fd = notify_fd, .events = POLLIN };
        p[1] = (struct pollfd){ .fd = in->pidfd, .events = POLLIN };
        for (;;) {
                char buf[512], cbuf[CMSG_SPACE(sizeof(struct ucred))];
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                                     .msg_controllen = sizeof(cbuf) };
                struct cmsghdr *cm;
                pid_t sender = 0;
                ssize_t n;
                int left = READY_TIMEOUT_MS - (int)(bench_now_ms() - t0), r;

                if (left <= 0)
                        bench_die("vnetd gave no READY=1 within %d ms", READY_TIMEOUT_MS);
                r = poll(p, 2, left);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        bench_die("poll: %s", strerror(errno));
                if (p[0].revents & POLLIN) {
                        n = recvmsg(notify_fd, &mh, MSG_DONTWAIT);
                        t = bench_now_ms() - t0;
                        if (n < 0)
                                continue;
                        buf[n] = '\0';
                        for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
                                if (cm->cmsg_level == SOL_SOCKET &&
                                    cm->cmsg_type == SCM_CREDENTIALS)
                                        sender = ((struct ucred *)CMSG_DATA(cm))->pid;
                        if (sender == in->pid &&
                            (strncmp(buf, "READY=1", 7) == 0 || strstr(buf, "\nREADY=1"))) {
                                *cpu = bench_cpu_ms(in->pid);
                                return t;
                        }
                        continue;
                }
                if (p[1].revents) {
                        int status = 0;
                        waitpid(in->pid, &status, 0);
                        in->pid = 0;
                        current = NULL;
                        show_log(in);
                        bench_die("vnetd exited before READY=1 (status 0x%x)", status);
                }
        }
}

/* SIGTERM: vnetd exits, its networks stay. It must exit 0. Returns the ms it took. */
static double vnetd_stop(struct instance *in)
{
        double t0 = bench_now_ms();
        int status;

        if (kill(in->pid, SIGTERM) < 0)
                bench_die("kill vnetd %d: %s", (int)in->pid, strerror(errno));
        if (!wait_exit(in->pidfd, 10000)) {
                kill(in->pid, SIGKILL);
                waitpid(in->pid, NULL, 0);
                in->pid = 0;
                bench_die("vnetd did not exit within 10 s of SIGTERM");
        }
        waitpid(in->pid, &status, 0);
        t0 = bench_now_ms() - t0;
        /* Its STOPPING=1 now: a datagram not yet read holds its sender's socket, and with it
         * vnetd's network namespace, whose teardown would then start only when the next
         * start drains the socket, and take the networking lock from under that start. */
        drain_notify();
        close(in->pidfd);
        in->pid = 0;
        current = NULL;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                show_log(in);
                bench_die("vnetd exited with status 0x%x after SIGTERM", status);
        }
        return t0;
}

static void instance_init(struct instance *in, const char *name, int nsfd)
{
        char path[1100];

        snprintf(in->dir, sizeof(in->dir), "%s/%s", opt_dir, name);
        snprintf(in->sock, sizeof(in->sock), "%s/run/vnetd.sock", in->dir);
        in->nsfd = nsfd;
        in->pid = 0;
        in->pidfd = -1;
        if (mkdir(in->dir, 0755) < 0)
                bench_die("cannot create %s: %s", in->dir, strerror(errno));
        /* 0755 all the way: dnsmasq, as nobody, re-reads its hosts file under run/. */
        snprintf(path, sizeof(path), "%s/etc", in->dir);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/etc/networks", in->dir);
        mkdir(path, 0755);
}

/* ---- vnetd through the client library ---- */

/* ListNetworks: all @n networks running, each with a running dnsmasq whose pid goes to
 * @pids[i] (networks named PREFIX%02u). */
static void check_running(const struct instance *in, const char *prefix, unsigned n,
                          pid_t *pids)
{
        struct vnet_client *c = bench_connect(in->sock);
        json_t *reply = NULL, *net;
        unsigned seen = 0;
        size_t i;

        bench_vcall(c, "io.vnet.ListNetworks", json_object(), &reply);
        json_array_foreach(json_object_get(reply, "networks"), i, net) {
                const char *name = json_string_value(json_object_get(net, "name"));
                const char *state = json_string_value(json_object_get(net, "state"));
                json_t *dm = json_object_get(net, "dnsmasq");
                size_t plen = strlen(prefix);
                unsigned k;

                if (!name || strncmp(name, prefix, plen) != 0)
                        continue;
                k = (unsigned)atoi(name + plen);
                if (k >= n)
                        continue;
                if (!state || strcmp(state, "running") != 0)
                        bench_die("network %s is %s after start-up", name, state ? state : "?");
                if (!dm || !json_is_true(json_object_get(dm, "running")))
                        bench_die("network %s has no running dnsmasq after start-up", name);
                pids[k] = (pid_t)json_integer_value(json_object_get(dm, "pid"));
                seen++;
        }
        json_decref(reply);
        vnet_client_free(c);
        if (seen != n)
                bench_die("%u of %u networks listed after start-up", seen, n);
}

/* ---- namespaces ---- */

/* A new, empty network namespace with lo up, as at boot; returns a descriptor that keeps it
 * (this process stays where it is). It goes away once that descriptor is closed and no
 * process is left in it. */
static int new_netns(void)
{
        struct ifreq ifr = { .ifr_name = "lo" };
        int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), fd, s;

        if (home < 0)
                bench_die("cannot open /proc/self/ns/net: %s", strerror(errno));
        if (unshare(CLONE_NEWNET) < 0)
                bench_die("unshare(CLONE_NEWNET): %s", strerror(errno));
        fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
                bench_die("new namespace: %s", strerror(errno));
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
                bench_die("new namespace: lo up: %s", strerror(errno));
        close(s);
        if (setns(home, CLONE_NEWNET) < 0)
                bench_die("setns back: %s", strerror(errno));
        close(home);
        return fd;
}

/* if_nametoindex in namespace @nsfd (-1: this one). */
static void ifindexes_in(int nsfd, char (*names)[16], int *out, size_t n)
{
        int home = -1;

        if (nsfd >= 0) {
                home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
                if (home < 0 || setns(nsfd, CLONE_NEWNET) < 0)
                        bench_die("setns: %s", strerror(errno));
        }
        for (size_t i = 0; i < n; i++)
                out[i] = (int)if_nametoindex(names[i]);
        if (home >= 0) {
                if (setns(home, CLONE_NEWNET) < 0)
                        bench_die("setns back: %s", strerror(errno));
                close(home);
        }
}

/* The pid in RUN_DIR/dnsmasq/NAME.pid when that process is one of our dnsmasq, else 0. */
static pid_t dnsmasq_pid(const struct instance *in, const char *name)
{
        char path[1200];
        long pid = 0;
        FILE *f;

        snprintf(path, sizeof(path), "%s/run/dnsmasq/%s.pid", in->dir, name);
        f = fopen(path, "re");
        if (!f)
                return 0;
        if (fscanf(f, "%ld", &pid) != 1)
                pid = 0;
        fclose(f);
        return pid > 0 && is_our_dnsmasq((pid_t)pid) ? (pid_t)pid : 0;
}

/* ---- adoption ---- */

static void net_name(char *buf, size_t len, const char *prefix, unsigned i)
{
        snprintf(buf, len, "%s%02u", prefix, i);
}

static void take_snapshot(const struct instance *in, struct snapshot *s)
{
        char names[NETS_MAX][16];

        for (unsigned i = 0; i < opt_nets; i++)
                snprintf(names[i], sizeof(names[i]), "rsbr%u", i);
        ifindexes_in(in->nsfd, names, s->bridge, opt_nets);
        for (unsigned i = 0; i < opt_nets; i++) {
                char name[32];
                net_name(name, sizeof(name), "rs", i);
                s->dnsmasq[i] = dnsmasq_pid(in, name);
                ifindexes_in(in->nsfd, s->port_name[i], s->port[i], opt_ports);
        }
}

/* Everything as before the restart: same bridges, same TAPs, same dnsmasq processes, and
 * vnetd reports the same dnsmasq for each network. */
static void compare_snapshot(const struct instance *in, const struct snapshot *want,
                             struct snapshot *got, unsigned run)
{
        pid_t listed[NETS_MAX] = { 0 };

        take_snapshot(in, got);
        check_running(in, "rs", opt_nets, listed);
        for (unsigned i = 0; i < opt_nets; i++) {
                if (got->bridge[i] != want->bridge[i])
                        bench_die("restart %u: bridge rsbr%u re-created (ifindex %d, was %d)",
                                  run, i, got->bridge[i], want->bridge[i]);
                if (got->dnsmasq[i] != want->dnsmasq[i] || listed[i] != want->dnsmasq[i])
                        bench_die("restart %u: dnsmasq of rs%02u is pid %d (listed %d), was %d",
                                  run, i, (int)got->dnsmasq[i], (int)listed[i],
                                  (int)want->dnsmasq[i]);
                for (unsigned j = 0; j < opt_ports; j++)
                        if (got->port[i][j] != want->port[i][j])
                                bench_die("restart %u: port %s re-created (ifindex %d, was %d)",
                                          run, want->port_name[i][j], got->port[i][j],
                                          want->port[i][j]);
        }
}

static void snapshot_alloc(struct snapshot *s)
{
        s->port = calloc(NETS_MAX, sizeof(*s->port));
        s->port_name = calloc(NETS_MAX, sizeof(*s->port_name));
        if (!s->port || !s->port_name)
                bench_die("out of memory");
}

struct adopt_result {
        double first_start, first_cpu, setup;
        struct bench_series start, cpu, stop;
};

static void run_adoption(unsigned n_restarts, struct adopt_result *res)
{
        struct snapshot want = { 0 }, got = { 0 };
        struct instance in;
        struct vnet_client *c;
        double t0, cpu;

        snapshot_alloc(&want);
        snapshot_alloc(&got);
        instance_init(&in, "adopt", -1);
        res->first_start = vnetd_start(&in, &res->first_cpu);

        vlog("adoption: %u networks x %u ports", opt_nets, opt_ports);
        t0 = bench_now_ms();
        c = bench_connect(in.sock);
        for (unsigned i = 0; i < opt_nets; i++) {
                char name[32], bridge[16], ipv4[32], range[64];

                net_name(name, sizeof(name), "rs", i);
                snprintf(bridge, sizeof(bridge), "rsbr%u", i);
                snprintf(ipv4, sizeof(ipv4), "10.77.%u.1/24", i);
                snprintf(range, sizeof(range), "10.77.%u.10-10.77.%u.250", i, i);
                bench_vcall(c, "io.vnet.CreateNetwork",
                            json_pack("{s:{s:s, s:s, s:s, s:s, s:b, s:s}}", "network", "name",
                                      name, "bridge", bridge, "mode", "nat", "ipv4", ipv4,
                                      "dhcp", 1, "dhcp_range", range),
                            NULL);
                for (unsigned j = 0; j < opt_ports; j++) {
                        struct vnet_port_request req = { .network = name };
                        struct vnet_call_error err = { 0 };
                        struct vnet_port_info info;
                        int r = vnet_port_attach(c, &req, &info, &err);

                        if (r < 0) {
                                char what[64];

                                snprintf(what, sizeof(what), "vnet_port_attach %s", name);
                                bench_die_port(what, &err, r);
                        }
                        vnet_call_error_clear(&err);
                        memcpy(want.port_name[i][j], info.ifname, 16);
                        memcpy(got.port_name[i][j], info.ifname, 16);
                }
        }
        vnet_client_free(c);
        res->setup = bench_now_ms() - t0;
        take_snapshot(&in, &want);
        for (unsigned i = 0; i < opt_nets; i++) {
                if (want.bridge[i] <= 0)
                        bench_die("bridge rsbr%u missing after setup", i);
                if (want.dnsmasq[i] <= 0)
                        bench_die("network rs%02u has no dnsmasq after setup", i);
                for (unsigned j = 0; j < opt_ports; j++)
                        if (want.port[i][j] <= 0)
                                bench_die("port %s missing after setup", want.port_name[i][j]);
        }

        for (unsigned k = 1; k <= n_restarts; k++) {
                bench_series_add(&res->stop, vnetd_stop(&in));
                /* Nothing was deleted: no deferred kernel work to wait for; a short pause
                 * lets the exit's own work (closing sockets) finish first. */
                bench_sleep_ms(50);
                bench_series_add(&res->start, vnetd_start(&in, &cpu));
                bench_series_add(&res->cpu, cpu);
                compare_snapshot(&in, &want, &got, k);
                vlog("restart %u: %.3f ms to READY (vnetd pid %d)", k,
                     res->start.v[res->start.n - 1], (int)in.pid);
        }
        vnetd_stop(&in);
        vlog("adoption: stopping %u dnsmasq", stop_our_dnsmasq());
        free(want.port);
        free(want.port_name);
        free(got.port);
        free(got.port_name);
}

/* ---- cold boot ---- */

static void write_definitions(const struct instance *in)
{
        for (unsigned i = 0; i < opt_nets; i++) {
                char path[1200];
                FILE *f;

                snprintf(path, sizeof(path), "%s/etc/networks/cb%02u.conf", in->dir, i);
                f = fopen(path, "we");
                if (!f)
                        bench_die("cannot write %s: %s", path, strerror(errno));
                /* As vnetd writes them, MAC included (it is written on first creation). */
                fprintf(f,
                        "[Network]\nBridge=cbbr%u\nMode=nat\nMTU=1500\n"
                        "MAC=52:54:00:78:%02x:01\nSTP=no\nAutostart=yes\n\n"
                        "[IPv4]\nAddress=10.78.%u.1/24\n\n"
                        "[DHCP]\nEnabled=yes\nRange=10.78.%u.10-10.78.%u.250\n",
                        i, i, i, i, i);
                if (fclose(f) != 0)
                        bench_die("cannot write %s", path);
        }
}

/* Returns once the kernel's networking lock (RTNL) is free: ten requests in a row, 20 ms
 * apart, that need it (lo's device group set to what it is, in this namespace: nothing
 * changes) each answered within 2 ms. At most 30 s. */
static void wait_rtnl_idle(unsigned run)
{
        double t0 = bench_now_ms();
        struct vnet_link *l;
        int quick = 0;

        if (vnet_link_open(&l) < 0)
                bench_die("cannot open rtnetlink");
        bench_sleep_ms(200);
        while (quick < 10 && bench_now_ms() - t0 < 30000) {
                double t = bench_now_ms();
                if (vnet_link_set_group(l, 1, 0) < 0)
                        bench_die("cannot set lo's device group");
                quick = bench_now_ms() - t < 2.0 ? quick + 1 : 0;
                bench_sleep_ms(20);
        }
        vnet_link_close(l);
        vlog("cold boot %u: teardown done after %.0f ms", run, bench_now_ms() - t0);
}

struct cold_result {
        struct bench_series start, cpu;
};

static void run_cold(unsigned runs, struct cold_result *res)
{
        for (unsigned k = 1; k <= runs; k++) {
                char name[32], bridges[NETS_MAX][16];
                int idx[NETS_MAX];
                pid_t listed[NETS_MAX] = { 0 };
                struct instance in;
                double t, cpu;

                snprintf(name, sizeof(name), "cold%u", k);
                instance_init(&in, name, new_netns());
                write_definitions(&in);
                bench_sleep_ms(100);
                t = vnetd_start(&in, &cpu);
                bench_series_add(&res->start, t);
                bench_series_add(&res->cpu, cpu);

                /* Everything up: bridges in the new namespace, one dnsmasq per network. */
                for (unsigned i = 0; i < opt_nets; i++)
                        snprintf(bridges[i], sizeof(bridges[i]), "cbbr%u", i);
                ifindexes_in(in.nsfd, bridges, idx, opt_nets);
                check_running(&in, "cb", opt_nets, listed);
                for (unsigned i = 0; i < opt_nets; i++) {
                        char net[32];
                        net_name(net, sizeof(net), "cb", i);
                        if (idx[i] <= 0)
                                bench_die("cold boot %u: bridge %s missing", k, bridges[i]);
                        if (dnsmasq_pid(&in, net) != listed[i] || listed[i] <= 0)
                                bench_die("cold boot %u: network %s has no dnsmasq of its own",
                                          k, net);
                }
                vlog("cold boot %u: %.3f ms to READY (vnetd pid %d)", k, t, (int)in.pid);

                /* Teardown: vnetd, then its dnsmasq by PID; the namespace (and its links)
                 * goes with its last process and descriptor. */
                vnetd_stop(&in);
                stop_our_dnsmasq();
                close(in.nsfd);
                /* The kernel removes the namespace's devices in the background once its last
                 * reference is gone (vnetd's unread STOPPING=1 was one: see vnetd_stop()),
                 * holding the networking lock all along: an RCU barrier (~16 ms) per bridge,
                 * about a second for 50. Wait until the lock is free, so that every run
                 * measures a boot, not the last one's teardown. */
                wait_rtnl_idle(k);
        }
}

/* ---- output ---- */

static void row(const char *what, const struct bench_series *s)
{
        struct bench_stats st = bench_stats_all(s, TAIL);

        printf("  %-46s %4zu %9.3f %9.3f %9.3f %9.3f\n", what, st.n, st.median, st.tail, st.min,
               st.max);
}

static void per_run(const char *what, const struct bench_series *s)
{
        printf("  %s:", what);
        for (size_t i = 0; i < s->n; i++)
                printf("%s%.1f", i % 10 ? " " : (i ? "\n    " : " "), s->v[i]);
        putchar('\n');
}

static void goal(const char *what, const char *value, bool met)
{
        bench_goal(52, 26, what, value, met);
}

static void usage(void)
{
        fprintf(stderr,
                "usage: restart -d VNETD -w WORKDIR [-n NETWORKS] [-p PORTS] [-r RESTARTS] "
                "[-k COLD_RUNS] [-v]\n"
                "  -w  an empty directory for the vnetd instances' files\n"
                "  -n  networks (default 50, at most %d); -p ports per network (default 20,\n"
                "      at most %d); -r restarts measured (default 20); -k cold boots (default 5;\n"
                "      0: none)\n",
                NETS_MAX, PORTS_MAX);
        exit(2);
}

int main(int argc, char **argv)
{
        unsigned n_restarts = 20, n_cold = 5;
        struct adopt_result ad = { 0 };
        struct cold_result cold = { 0 };
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        double total0 = bench_now_ms();
        char val[64], lbl[96];
        int opt, one = 1;

        /* From here on a failure stops what this process started before it exits. */
        bench_at_die = cleanup;
        while ((opt = getopt(argc, argv, "d:w:n:p:r:k:vh")) != -1) {
                switch (opt) {
                case 'd':
                        opt_vnetd = optarg;
                        break;
                case 'w':
                        snprintf(opt_dir, sizeof(opt_dir), "%s", optarg);
                        break;
                case 'n':
                        opt_nets = (unsigned)atoi(optarg);
                        break;
                case 'p':
                        opt_ports = (unsigned)atoi(optarg);
                        break;
                case 'r':
                        n_restarts = (unsigned)atoi(optarg);
                        break;
                case 'k':
                        n_cold = (unsigned)atoi(optarg);
                        break;
                case 'v':
                        opt_verbose = true;
                        break;
                default:
                        usage();
                }
        }
        if (!opt_dir[0] || opt_dir[0] != '/' || optind != argc || opt_nets < 1 ||
            opt_nets > NETS_MAX || opt_ports > PORTS_MAX || n_restarts < 1)
                usage();
        bench_check_namespace();
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (access(opt_vnetd, X_OK) < 0)
                bench_die("%s: %s", opt_vnetd, strerror(errno));

        /* dnsmasq outlives each vnetd: as the subreaper we get it back and reap it. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                bench_die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGPIPE, SIG_IGN);

        /* A path, not an abstract name: abstract sockets belong to a network namespace and
         * the cold-boot vnetd runs in another one. */
        snprintf(notify_path, sizeof(notify_path), "%s/notify.sock", opt_dir);
        if (strlen(notify_path) >= sizeof(sa.sun_path))
                bench_die("work directory path too long for a socket");
        memcpy(sa.sun_path, notify_path, strlen(notify_path));
        notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (notify_fd < 0 || bind(notify_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            setsockopt(notify_fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
                bench_die("cannot bind %s: %s", notify_path, strerror(errno));
        setenv("NOTIFY_SOCKET", notify_path, 1);

        run_adoption(n_restarts, &ad);
        bench_sleep_ms(300);
        run_cold(n_cold, &cold);
        cleanup();

        /* ---- report ---- */
        printf("\nvnet restart benchmark: vnetd start (fork) to READY=1 on $NOTIFY_SOCKET\n");
        printf("times in ms; vnetd cpu = its own CPU time by READY (its dnsmasq children not "
               "included)\n\n");
        printf("  %-46s %4s %9s %9s %9s %9s\n", "figure", "n", "median", "p95", "min", "max");
        printf("  adoption: %u nat networks (DHCP, dnsmasq each) x %u ports already running\n",
               opt_nets, opt_ports);
        row("  start to READY", &ad.start);
        row("  vnetd cpu by READY", &ad.cpu);
        row("  SIGTERM to exit", &ad.stop);
        printf("    (checked after each: bridge and TAP ifindexes, dnsmasq pids unchanged)\n");
        if (n_cold) {
                printf("  cold boot: %u Autostart=yes definitions, empty namespace and run "
                       "dir\n", opt_nets);
                row("  start to READY", &cold.start);
                row("  vnetd cpu by READY", &cold.cpu);
        }
        printf("\n");
        per_run("adoption, start to READY per restart", &ad.start);
        if (n_cold)
                per_run("cold boot, start to READY per run", &cold.start);
        printf("  first start (empty config), to READY: %.3f ms (vnetd cpu %.3f)\n",
               ad.first_start, ad.first_cpu);
        printf("  setup: %u CreateNetwork + %u vnet_port_attach: %.1f ms\n", opt_nets,
               opt_nets * opt_ports, ad.setup);

        struct bench_stats a = bench_stats_all(&ad.start, TAIL);
        struct bench_stats c = bench_stats_all(&cold.start, TAIL);
        printf("\nsummary\n");
        snprintf(lbl, sizeof(lbl), "restart, %u nets x %u ports: median <= %.0f ms", opt_nets,
                 opt_ports, GOAL_ADOPT_MS);
        snprintf(val, sizeof(val), "median %.1f ms (p95 %.1f)", a.median, a.tail);
        goal(lbl, val, a.median <= GOAL_ADOPT_MS);
        if (n_cold) {
                snprintf(lbl, sizeof(lbl), "cold boot, %u autostart nets: median <= %.0f ms",
                         opt_nets, GOAL_COLD_MS);
                snprintf(val, sizeof(val), "median %.1f ms (max %.1f)", c.median, c.max);
                goal(lbl, val, c.median <= GOAL_COLD_MS);
        }
        printf("  total run %.1f s\n", (bench_now_ms() - total0) / 1e3);
        return 0;
}
