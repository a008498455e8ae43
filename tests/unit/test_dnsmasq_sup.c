/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dnsmasq supervision (netd/dnsmasq.c) with the real dnsmasq: start and readiness, restart
 * after a crash with the leases kept, reload without a restart, stop without a zombie,
 * adoption by a new supervisor (a vnetd restart), backoff of a dnsmasq that dies at once,
 * several networks started at once (dnsmasq_start_async, dnsmasq_wait_ready).
 * Needs root; everything runs in a network namespace this process makes for itself
 * (unshare), on a bridge with no ports, and dnsmasq has no upstream: nothing leaves the
 * namespace. Every dnsmasq started is killed by pid at the end, also after a failure.
 * Prints the start (readiness) latency. Exits 77 (skip) without root or dnsmasq. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dhcp.h"
#include "dnsmasq_conf.h"
#include "fileio.h"
#include "link.h"
#include "../../netd/loop.h"
#include "../../netd/dnsmasq.h"

#define NET "dm"
#define BRIDGE "vdm0"
#define NET1 "dm1"      /* a second network, on BRIDGE1 */
#define BRIDGE1 "vdm1"
#define NET_CLASH "dmx" /* on BRIDGE too: its DNS address is NET's, so it cannot start */
#define LEASE_LINE_MAC "52:54:00:12:34:56 10.99.0.50"

static char tmp[64];
static char run_dir[128], state_dir[128];
static const char *binary = DNSMASQ_DEFAULT_BINARY;
static struct loop *lp;
static struct vnet_dhcp dhcp, dhcp1;
static struct vnet_ipv4 net4, net4b;

/* Every pid a supervisor reported, to kill whatever is left at the end. */
static pid_t seen[256];
static unsigned n_seen;

static void track(pid_t pid)
{
        for (unsigned i = 0; i < n_seen; i++)
                if (seen[i] == pid)
                        return;
        if (pid > 0 && n_seen < sizeof(seen) / sizeof(seen[0]))
                seen[n_seen++] = pid;
}

static bool proc_exists(pid_t pid)
{
        char p[64];

        snprintf(p, sizeof(p), "/proc/%d", (int)pid);
        return access(p, F_OK) == 0;
}

/* Ours: its command line names a file in our temporary directory. */
static bool is_ours(pid_t pid)
{
        char p[64], buf[4096];
        ssize_t n;
        int fd;

        snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)pid);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return false;
        for (ssize_t i = 0; i < n; i++)
                if (buf[i] == '\0')
                        buf[i] = ' ';
        buf[n] = '\0';
        return strstr(buf, tmp) != NULL;
}

static void kill_leftovers(void)
{
        for (unsigned i = 0; i < n_seen; i++) {
                if (is_ours(seen[i]))
                        kill(seen[i], SIGKILL);
                waitpid(seen[i], NULL, WNOHANG);
        }
        /* Reap what was killed (all are our children: the supervisors spawned them). */
        for (unsigned i = 0; i < n_seen; i++)
                if (proc_exists(seen[i]))
                        waitpid(seen[i], NULL, 0);
        n_seen = 0;
}

static uint64_t now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void conf_init(struct vnet_dnsmasq_conf *c)
{
        *c = (struct vnet_dnsmasq_conf){ .network = NET,
                                         .bridge = BRIDGE,
                                         .mode = VNET_MODE_NAT,
                                         .ipv4 = net4,
                                         .mtu = 1500,
                                         .dhcp = &dhcp };
}

static struct dnsmasq_status status(struct dnsmasq_sup *s)
{
        struct dnsmasq_status st;

        assert_int_equal(dnsmasq_status(s, NET, &st), 0);
        track(st.pid);
        return st;
}

/* Runs the loop until @cond holds or @timeout_ms passes; returns whether it held. */
struct wait {
        bool (*cond)(struct dnsmasq_sup *s, void *arg);
        struct dnsmasq_sup *s;
        void *arg;
        uint64_t deadline;
        bool met;
};

static void wait_tick(struct loop *l, void *userdata)
{
        struct wait *w = userdata;

        if (w->cond && w->cond(w->s, w->arg)) {
                w->met = true;
                loop_quit(l, 0);
        } else if (now_us() >= w->deadline) {
                loop_quit(l, 0);
        }
}

static bool run_loop(struct dnsmasq_sup *s, bool (*cond)(struct dnsmasq_sup *, void *),
                     void *arg, unsigned timeout_ms)
{
        struct wait w = { cond, s, arg, now_us() + timeout_ms * 1000ull, false };

        assert_int_equal(loop_add_timer(lp, 2, wait_tick, &w), 0);
        loop_run(lp);
        assert_int_equal(loop_del_timer(lp, wait_tick, &w), 0);
        return w.met;
}

static bool restarted_from(struct dnsmasq_sup *s, void *arg)
{
        struct dnsmasq_status st = status(s);

        return st.running && st.pid != *(pid_t *)arg;
}

static bool file_contains(const char *path, const char *what)
{
        char buf[8192];
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n < 0)
                return false;
        buf[n] = '\0';
        return strstr(buf, what) != NULL;
}

static pid_t pid_file(const char *path)
{
        char buf[32] = "";
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -1;
        if (read(fd, buf, sizeof(buf) - 1) < 0)
                buf[0] = '\0';
        close(fd);
        return (pid_t)atoi(buf);
}

/* The supervisor of the running test: a failed test leaves it to teardown(), which stops
 * its dnsmasq (else its pidfd, still in the loop, would restart one in the next test). */
static struct dnsmasq_sup *cur;

static struct dnsmasq_sup *sup_new(void)
{
        assert_int_equal(dnsmasq_sup_new(lp, run_dir, state_dir, binary, &cur), 0);
        return cur;
}

/* vnetd's exit: the supervisor goes, its dnsmasq stays. */
static void sup_free(struct dnsmasq_sup *s)
{
        dnsmasq_sup_free(s);
        cur = NULL;
}

static void start_ok(struct dnsmasq_sup *s, const struct vnet_dnsmasq_conf *c)
{
        struct vnet_err e = { 0 };
        int r = dnsmasq_start(s, NET, c, &e);

        if (r < 0)
                fail_msg("dnsmasq_start: %s %s", strerror(-r), e.message);
        status(s);
}

static void lifecycle(void **state)
{
        struct vnet_dnsmasq_conf c;
        struct dnsmasq_paths p;
        struct dnsmasq_status st;
        struct dnsmasq_sup *s;
        struct vnet_dhcp_host h = { .mac = { 0x52, 0x54, 0, 0xab, 0xcd, 0xef } };
        struct vnet_err e = { 0 };
        char lease[128];
        uint64_t t0;
        pid_t pid1, pid2;

        (void)state;
        assert_int_equal(dnsmasq_paths(run_dir, state_dir, NET, &p), 0);
        /* A lease from "before": it must survive the crash and the restart. */
        snprintf(lease, sizeof(lease), "%ld " LEASE_LINE_MAC " guest1 *\n",
                 (long)time(NULL) + 3600);
        s = sup_new();
        assert_int_equal(vnet_write_file_atomic(p.leases, lease, strlen(lease), 0644), 0);

        conf_init(&c);
        t0 = now_us();
        start_ok(s, &c);
        printf("# first start (render, write, spawn, ready): %.2f ms\n",
               (double)(now_us() - t0) / 1000);
        st = status(s);
        pid1 = st.pid;
        assert_true(st.running);
        assert_false(st.adopted);
        assert_int_equal(st.restarts, 0);
        assert_string_equal(st.last_exit, "");
        assert_true(is_ours(pid1));
        assert_int_equal(pid_file(p.pid), pid1);
        assert_true(file_contains(p.conf, "interface=" BRIDGE));

        /* A crash: restarted at once, as a new process; the old one is reaped. */
        t0 = now_us();
        assert_int_equal(kill(pid1, SIGKILL), 0);
        assert_true(run_loop(s, restarted_from, &pid1, 1000));
        /* "Ready" for the restarted one too: its pid file names it. */
        st = status(s);
        pid2 = st.pid;
        for (int i = 0; i < 200 && pid_file(p.pid) != pid2; i++)
                run_loop(s, NULL, NULL, 5);
        printf("# restart after SIGKILL, until ready: %.2f ms\n",
               (double)(now_us() - t0) / 1000);
        assert_int_equal(pid_file(p.pid), pid2);
        assert_int_not_equal(pid2, pid1);
        assert_int_equal(st.restarts, 1);
        assert_non_null(strstr(st.last_exit, "killed by signal 9"));
        assert_false(proc_exists(pid1));
        assert_true(file_contains(p.leases, LEASE_LINE_MAC));

        /* Reload: same process, new reservations. */
        inet_pton(AF_INET, "10.99.0.77", &h.ip);
        snprintf(h.hostname, sizeof(h.hostname), "reserved");
        assert_int_equal(vnet_dhcp_host_add(&dhcp, &net4, &h, &e), 0);
        assert_int_equal(dnsmasq_reload_hosts(s, NET, &dhcp, &net4, &e), 0);
        assert_true(file_contains(p.hosts, "52:54:00:ab:cd:ef,10.99.0.77,reserved"));
        run_loop(s, NULL, NULL, 200);
        st = status(s);
        assert_true(st.running);
        assert_int_equal(st.pid, pid2);
        assert_int_equal(st.restarts, 1);
        assert_true(proc_exists(pid2));

        /* Stop: gone and reaped, its files removed, the leases kept. */
        assert_int_equal(dnsmasq_stop(s, NET), 0);
        assert_false(proc_exists(pid2));
        assert_int_equal(access(p.conf, F_OK), -1);
        assert_int_equal(access(p.pid, F_OK), -1);
        assert_int_equal(access(p.hosts, F_OK), -1);
        assert_int_equal(access(p.leases, F_OK), 0);
        assert_int_equal(dnsmasq_status(s, NET, &st), -ENOENT);
        assert_int_equal(dnsmasq_stop(s, NET), -ENOENT);
        sup_free(s);
        assert_int_equal(vnet_dhcp_host_remove(&dhcp, h.mac), 0);
}

static void adoption(void **state)
{
        struct vnet_dnsmasq_conf c;
        struct dnsmasq_paths p;
        struct dnsmasq_status st;
        struct dnsmasq_sup *s;
        struct vnet_dhcp_host h = { .mac = { 0x52, 0x54, 0, 0x11, 0x22, 0x33 } };
        struct vnet_err e = { 0 };
        pid_t pid, pid2;

        (void)state;
        assert_int_equal(dnsmasq_paths(run_dir, state_dir, NET, &p), 0);
        inet_pton(AF_INET, "10.99.0.88", &h.ip);
        snprintf(h.hostname, sizeof(h.hostname), "named");
        assert_int_equal(vnet_dhcp_host_add(&dhcp, &net4, &h, &e), 0);
        conf_init(&c);
        s = sup_new();
        start_ok(s, &c);
        pid = status(s).pid;
        assert_true(file_contains(p.hosts, "52:54:00:11:22:33,10.99.0.88,named\n"));

        /* vnetd exits: dnsmasq keeps serving. */
        sup_free(s);
        usleep(50 * 1000);
        assert_true(is_ours(pid));

        /* The next vnetd adopts it: same process. */
        s = sup_new();
        start_ok(s, &c);
        st = status(s);
        assert_int_equal(st.pid, pid);
        assert_true(st.running);
        assert_true(st.adopted);

        /* A reservation renamed while no vnetd ran: adopted and sent SIGHUP, not replaced.
         * (Renamed, not added: dhcp-lease-max counts the reservations, so adding one
         * changes the configuration, and that is a restart.) */
        sup_free(s);
        dhcp.hosts[0].hostname[0] = '\0';
        s = sup_new();
        start_ok(s, &c);
        st = status(s);
        assert_int_equal(st.pid, pid);
        assert_true(st.adopted);
        assert_true(file_contains(p.hosts, "52:54:00:11:22:33,10.99.0.88\n"));
        run_loop(s, NULL, NULL, 100);
        assert_int_equal(status(s).pid, pid);
        assert_true(is_ours(pid));

        /* A configuration that changed while no vnetd ran: adopted, then replaced. */
        sup_free(s);
        dhcp.lease_seconds = 7200;
        s = sup_new();
        start_ok(s, &c);
        st = status(s);
        pid2 = st.pid;
        assert_int_not_equal(pid2, pid);
        assert_false(st.adopted);
        assert_int_equal(st.restarts, 0);
        assert_false(proc_exists(pid));
        assert_true(file_contains(p.conf, ",7200\n"));

        /* An adopted process that dies is restarted as our child. */
        sup_free(s);
        s = sup_new();
        start_ok(s, &c);
        assert_true(status(s).adopted);
        assert_int_equal(kill(pid2, SIGKILL), 0);
        assert_true(run_loop(s, restarted_from, &pid2, 1000));
        st = status(s);
        assert_false(st.adopted);
        assert_int_equal(st.restarts, 1);
        /* It was in fact this process's child: reaped all the same, no zombie. */
        assert_false(proc_exists(pid2));

        /* A stale pid file naming another process is not adopted. */
        pid = st.pid;
        assert_int_equal(dnsmasq_stop(s, NET), 0);
        assert_false(proc_exists(pid));
        {
                char buf[32];
                snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
                assert_int_equal(vnet_write_file_atomic(p.pid, buf, strlen(buf), 0644), 0);
        }
        start_ok(s, &c);
        st = status(s);
        assert_false(st.adopted);
        assert_int_not_equal(st.pid, getpid());
        pid = st.pid;
        assert_int_equal(dnsmasq_stop(s, NET), 0);
        assert_false(proc_exists(pid));
        sup_free(s);
        dhcp.lease_seconds = VNET_LEASE_DEFAULT;
        assert_int_equal(vnet_dhcp_host_remove(&dhcp, h.mac), 0);
}

static void failing_binary(void **state)
{
        struct vnet_dnsmasq_conf c;
        struct dnsmasq_status st;
        struct dnsmasq_sup *s;
        struct vnet_err e = { 0 };
        int r;

        (void)state;
        conf_init(&c);
        /* Through the environment, as the integration tests would. */
        setenv("VNET_DNSMASQ", "/bin/false", 1);
        r = dnsmasq_sup_new(lp, run_dir, state_dir, NULL, &cur);
        s = cur;
        unsetenv("VNET_DNSMASQ");
        assert_int_equal(r, 0);
        assert_int_equal(dnsmasq_start(s, NET, &c, &e), -ESRCH);
        st = status(s);
        assert_string_equal(st.last_exit, "exited with status 1");
        /* 0 s, 0.25 s, 1 s, then 5 s: three restarts in 2 s, not a fork loop. */
        run_loop(s, NULL, NULL, 2000);
        st = status(s);
        printf("# /bin/false: %u restarts in 2 s\n", st.restarts);
        assert_in_range(st.restarts, 2, 4);
        assert_string_equal(st.last_exit, "exited with status 1");
        assert_int_equal(dnsmasq_stop(s, NET), 0);
        sup_free(s);

        /* A binary that does not exist: an error from the start, retried with backoff. */
        assert_int_equal(dnsmasq_sup_new(lp, run_dir, state_dir, "/nonexistent/dnsmasq", &cur), 0);
        s = cur;
        assert_int_equal(dnsmasq_start(s, NET, &c, &e), -ENOENT);
        st = status(s);
        assert_false(st.running);
        assert_non_null(strstr(st.last_exit, "cannot be started"));
        run_loop(s, NULL, NULL, 100);
        assert_in_range(status(s).restarts, 1, 2);
        assert_int_equal(dnsmasq_stop(s, NET), 0);
        sup_free(s);
}

/* inotify watches this process holds, over all its inotify instances. */
static int inotify_watches(void)
{
        struct dirent *de;
        DIR *dir = opendir("/proc/self/fdinfo");
        char path[300], line[512];
        int n = 0;

        assert_non_null(dir);
        while ((de = readdir(dir))) {
                FILE *f;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", de->d_name);
                f = fopen(path, "re");
                if (!f)
                        continue;
                while (fgets(line, sizeof(line), f))
                        if (strncmp(line, "inotify wd:", 11) == 0)
                                n++;
                fclose(f);
        }
        closedir(dir);
        return n;
}

struct told {
        int r[3]; /* NET, NET1, NET_CLASH */
        unsigned calls;
};

static void on_ready(const char *name, int r, void *userdata)
{
        struct told *t = userdata;

        t->calls++;
        if (strcmp(name, NET) == 0)
                t->r[0] = r;
        else if (strcmp(name, NET1) == 0)
                t->r[1] = r;
        else if (strcmp(name, NET_CLASH) == 0)
                t->r[2] = r;
        else
                fail_msg("told about unknown network %s", name);
}

static void concurrent(void **state)
{
        struct vnet_dnsmasq_conf c, c1, cx;
        struct dnsmasq_paths p1;
        struct dnsmasq_status st;
        struct dnsmasq_sup *s;
        struct vnet_err e = { 0 };
        struct told t = { .r = { 1, 1, 1 } };
        uint64_t t0;
        pid_t pid, pid1;

        (void)state;
        conf_init(&c);
        c1 = c;
        c1.network = NET1;
        c1.bridge = BRIDGE1;
        c1.ipv4 = net4b;
        c1.dhcp = &dhcp1;
        cx = c;
        cx.network = NET_CLASH;
        assert_int_equal(dnsmasq_paths(run_dir, state_dir, NET1, &p1), 0);
        s = sup_new();
        assert_int_equal(inotify_watches(), 0);
        start_ok(s, &c);
        pid = status(s).pid;
        /* The watch is there only while a start waits. */
        assert_int_equal(inotify_watches(), 0);

        /* Kept as it is: nothing pending, nothing to tell. */
        assert_int_equal(dnsmasq_start_async(s, NET, &c, &e), 0);
        t0 = now_us();
        assert_int_equal(dnsmasq_start_async(s, NET1, &c1, &e), 0);
        assert_int_equal(dnsmasq_start_async(s, NET_CLASH, &cx, &e), 0);
        assert_int_equal(dnsmasq_status(s, NET1, &st), 0);
        pid1 = st.pid;
        track(pid1);
        assert_int_equal(dnsmasq_status(s, NET_CLASH, &st), 0);
        track(st.pid);
        assert_int_equal(inotify_watches(), 1);
        assert_int_equal(dnsmasq_wait_ready(s, on_ready, &t), 0);
        printf("# two started at once, until both told: %.2f ms\n",
               (double)(now_us() - t0) / 1000);
        assert_int_equal(t.calls, 2);
        assert_int_equal(t.r[0], 1); /* not told: it was not started */
        assert_int_equal(t.r[1], 0);
        assert_int_equal(t.r[2], -ESRCH);
        assert_int_equal(inotify_watches(), 0);
        /* Ready means its pid file names it. */
        assert_int_equal(dnsmasq_status(s, NET1, &st), 0);
        assert_int_equal(st.pid, pid1);
        assert_true(st.running);
        assert_int_equal(pid_file(p1.pid), pid1);
        /* The one that could not start is the supervisor's to retry. */
        assert_int_equal(dnsmasq_status(s, NET_CLASH, &st), 0);
        track(st.pid);
        assert_string_not_equal(st.last_exit, "");
        assert_int_equal(status(s).pid, pid);
        /* Told once: a second wait has nothing to tell. */
        t.calls = 0;
        assert_int_equal(dnsmasq_wait_ready(s, on_ready, &t), 0);
        assert_int_equal(t.calls, 0);

        assert_int_equal(dnsmasq_stop(s, NET_CLASH), 0);
        assert_int_equal(dnsmasq_stop(s, NET1), 0);
        assert_false(proc_exists(pid1));
        assert_int_equal(dnsmasq_stop(s, NET), 0);
        assert_false(proc_exists(pid));
        sup_free(s);
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

/* Not a timed test: prints the figures. */
static void latency(void **state)
{
        enum { N = 30 };
        uint64_t start[N], stop[N];
        struct vnet_dnsmasq_conf c;
        struct dnsmasq_sup *s;

        (void)state;
        conf_init(&c);
        s = sup_new();
        for (int i = 0; i < N; i++) {
                uint64_t t0 = now_us();
                pid_t pid;

                start_ok(s, &c);
                start[i] = now_us() - t0;
                pid = status(s).pid;
                t0 = now_us();
                assert_int_equal(dnsmasq_stop(s, NET), 0);
                stop[i] = now_us() - t0;
                assert_false(proc_exists(pid));
        }
        sup_free(s);
        qsort(start, N, sizeof(start[0]), cmp_u64);
        qsort(stop, N, sizeof(stop[0]), cmp_u64);
        printf("# dnsmasq_start until ready, %d runs: median %.2f ms, min %.2f, max %.2f\n", N,
               (double)start[N / 2] / 1000, (double)start[0] / 1000,
               (double)start[N - 1] / 1000);
        printf("# dnsmasq_stop until reaped: median %.2f ms, max %.2f\n",
               (double)stop[N / 2] / 1000, (double)stop[N - 1] / 1000);
}

static int teardown(void **state)
{
        (void)state;
        if (cur) {
                dnsmasq_stop(cur, NET);
                dnsmasq_stop(cur, NET1);
                dnsmasq_stop(cur, NET_CLASH);
                sup_free(cur);
        }
        kill_leftovers();
        return 0;
}

static int lo_up(void)
{
        struct ifreq ifr = { 0 };
        int fd, r = 0;

        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                r = -errno;
        ifr.ifr_flags |= IFF_UP;
        if (r == 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                r = -errno;
        close(fd);
        return r;
}

static ino_t netns_ino(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* A namespace of our own with a bridge 10.99.0.1/24: dnsmasq binds there and nowhere else. */
static int setup_namespace(void)
{
        struct vnet_bridge_spec b = { .name = BRIDGE,
                                      .alias = "vnet:" NET,
                                      .mtu = 1500,
                                      .mac = { 0x52, 0x54, 0x00, 0x99, 0x00, 0x01 } };
        struct vnet_link *nl = NULL;
        int ifindex, r;

        if (unshare(CLONE_NEWNET) < 0) {
                printf("unshare(CLONE_NEWNET): %m\n");
                return -1;
        }
        if (netns_ino("/proc/self/ns/net") == netns_ino("/proc/1/ns/net"))
                return -1;
        if (lo_up() < 0)
                return -1;
        inet_pton(AF_INET, "10.99.0.1", &net4.addr);
        net4.prefix = 24;
        b.ipv4 = net4;
        r = vnet_link_open(&nl);
        if (r == 0)
                r = vnet_bridge_create(nl, &b, &ifindex);
        if (r == 0) {
                inet_pton(AF_INET, "10.99.1.1", &net4b.addr);
                net4b.prefix = 24;
                b.name = BRIDGE1;
                b.alias = "vnet:" NET1;
                b.mac[5] = 0x02;
                b.ipv4 = net4b;
                r = vnet_bridge_create(nl, &b, &ifindex);
        }
        vnet_link_close(nl);
        if (r < 0) {
                printf("bridge: %s\n", strerror(-r));
                return -1;
        }
        if (vnet_dhcp_init_defaults(&dhcp, NET, &net4) < 0 ||
            vnet_dhcp_init_defaults(&dhcp1, NET1, &net4b) < 0)
                return -1;
        snprintf(tmp, sizeof(tmp), "%s/vnet-dnsmasq.XXXXXX",
                 getenv("TMPDIR") && strlen(getenv("TMPDIR")) < 32 ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(tmp))
                return -1;
        /* dnsmasq re-reads the hosts file as "nobody". */
        chmod(tmp, 0755);
        snprintf(run_dir, sizeof(run_dir), "%s/run", tmp);
        snprintf(state_dir, sizeof(state_dir), "%s/lib", tmp);
        return 0;
}

static int group_setup(void **state)
{
        (void)state;
        return loop_new(&lp) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
        (void)state;
        kill_leftovers();
        loop_free(lp);
        return 0;
}

/* After the tests, whatever happened to them (a crash included): kill every process whose
 * command line names our directory, and reap everything (we are the subreaper). */
static void sweep(void)
{
        struct dirent *de;
        DIR *dir = opendir("/proc");
        char cmd[128];

        while (dir && (de = readdir(dir))) {
                pid_t pid = (pid_t)atoi(de->d_name);

                if (pid > 0 && pid != getpid() && is_ours(pid)) {
                        printf("# killing leftover dnsmasq %d\n", (int)pid);
                        kill(pid, SIGKILL);
                }
        }
        if (dir)
                closedir(dir);
        while (waitpid(-1, NULL, 0) > 0)
                ;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
        if (system(cmd) != 0)
                printf("cannot remove %s\n", tmp);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(lifecycle, teardown),
                cmocka_unit_test_teardown(adoption, teardown),
                cmocka_unit_test_teardown(failing_binary, teardown),
                cmocka_unit_test_teardown(concurrent, teardown),
                cmocka_unit_test_teardown(latency, teardown),
        };
        pid_t child;
        int status;

        if (getenv("VNET_DNSMASQ"))
                binary = getenv("VNET_DNSMASQ");
        if (geteuid() != 0) {
                printf("needs root (a network namespace of its own)\n");
                return 77;
        }
        if (access(binary, X_OK) != 0) {
                printf("no %s (Debian package dnsmasq-base)\n", binary);
                return 77;
        }
        if (setup_namespace() < 0)
                return 1;
        /* The tests run in a child; this process stays to clean up after them, and as
         * subreaper it inherits (and reaps) any dnsmasq they leave behind. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return 1;
        fflush(stdout);
        child = fork();
        if (child < 0)
                return 1;
        /* exit(), not _exit(): LeakSanitizer checks at exit. */
        if (child == 0)
                exit(cmocka_run_group_tests(tests, group_setup, group_teardown));
        if (waitpid(child, &status, 0) < 0)
                status = 1 << 8;
        sweep();
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
