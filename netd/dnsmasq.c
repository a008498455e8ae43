/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Supervision of one dnsmasq per network; see dnsmasq.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dnsmasq.h"
#include "fileio.h"
#include "log.h"

/* dnsmasq is ready in a few ms; this only bounds a start that hangs (e.g. a slow NSS lookup
 * of the "nobody" user). */
#define READY_TIMEOUT_MS 5000
/* dnsmasq exits at once on SIGTERM; longer means it is stuck and gets SIGKILL. */
#define STOP_TIMEOUT_MS 1000
/* A process that ran this long was healthy: its death restarts the backoff from 0 s. */
#define STABLE_MS 10000

/* Delays before restarting after consecutive quick deaths: the first restart is immediate
 * (a crash should cost guests nothing), a dnsmasq that keeps dying (port taken, bad
 * binary) must not become a fork loop. */
static const unsigned backoff_ms[] = { 0, 250, 1000, 5000, 30000 };

extern char **environ;

struct dnsmasq {
        struct dnsmasq_sup *sup;
        struct dnsmasq *next;
        char name[VNET_NAME_MAX + 1];
        struct dnsmasq_paths paths;
        pid_t pid;
        int pidfd;           /* -1: no process */
        int timerfd;         /* -1: no restart pending */
        bool adopted;
        /* A start whose caller is still to be told whether this process became ready
         * (dnsmasq_start_async(), or dnsmasq_start() waiting for it): */
        bool pending;
        int outcome;         /* 1 ready, -ESRCH died, -ETIMEDOUT; 0 not known yet */
        uint64_t deadline_ms; /* of readiness, for a pending start */
        uint64_t started_ms; /* last spawn attempt; 0 when adopted: it ran for long */
        unsigned quick_deaths;
        unsigned restarts;
        char last_exit[128];
        /* What the last start asked for: each (re)start writes what differs on disk first,
         * so a configuration that could not be written once is not lost for good. */
        char *want_conf, *want_hosts, *want_opts;
};

struct dnsmasq_sup {
        struct loop *loop;
        char run_dir[PATH_MAX];
        char state_dir[PATH_MAX];
        char binary[PATH_MAX];
        char conf_dir[PATH_MAX]; /* RUN_DIR/dnsmasq, where pid files appear */
        /* One inotify instance for the supervisor's life: destroying one that has a watch
         * waits for a grace period (6-17 ms here), too much to pay per start. Its watch on
         * conf_dir is there only while a start is pending (see unwatch_pid_files()). */
        int ino;
        int wd; /* -1: no watch */
        struct dnsmasq *instances;
};

static void restart_now(struct dnsmasq *d);

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int dnsmasq_paths(const char *run_dir, const char *state_dir, const char *name,
                  struct dnsmasq_paths *p)
{
        if (snprintf(p->conf, sizeof(p->conf), "%s/dnsmasq/%s.conf", run_dir, name) >=
                    (int)sizeof(p->conf) ||
            snprintf(p->pid, sizeof(p->pid), "%s/dnsmasq/%s.pid", run_dir, name) >=
                    (int)sizeof(p->pid) ||
            snprintf(p->hosts, sizeof(p->hosts), "%s/dnsmasq/%s.hosts", run_dir, name) >=
                    (int)sizeof(p->hosts) ||
            snprintf(p->opts, sizeof(p->opts), "%s/dnsmasq/%s.opts", run_dir, name) >=
                    (int)sizeof(p->opts) ||
            snprintf(p->leases, sizeof(p->leases), "%s/dnsmasq/%s.leases", state_dir, name) >=
                    (int)sizeof(p->leases))
                return -ENAMETOOLONG;
        return 0;
}

int dnsmasq_sup_new(struct loop *l, const char *run_dir, const char *state_dir,
                    const char *binary, struct dnsmasq_sup **ret)
{
        struct dnsmasq_sup *s;
        char dir[PATH_MAX];
        int r;

        *ret = NULL;
        if (!binary)
                binary = getenv("VNET_DNSMASQ");
        if (!binary || !*binary)
                binary = DNSMASQ_DEFAULT_BINARY;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->loop = l;
        s->wd = -1;
        s->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (s->ino < 0) {
                r = -errno;
                goto fail;
        }
        if (snprintf(s->run_dir, sizeof(s->run_dir), "%s", run_dir) >= (int)sizeof(s->run_dir) ||
            snprintf(s->state_dir, sizeof(s->state_dir), "%s", state_dir) >=
                    (int)sizeof(s->state_dir) ||
            snprintf(s->binary, sizeof(s->binary), "%s", binary) >= (int)sizeof(s->binary) ||
            snprintf(s->conf_dir, sizeof(s->conf_dir), "%s/dnsmasq", run_dir) >=
                    (int)sizeof(s->conf_dir)) {
                r = -ENAMETOOLONG;
                goto fail;
        }
        /* 0755: dnsmasq re-reads the hosts and options files after dropping root. */
        r = vnet_mkdir_p(s->conf_dir, 0755);
        if (r < 0)
                goto fail;
        if (snprintf(dir, sizeof(dir), "%s/dnsmasq", state_dir) >= (int)sizeof(dir)) {
                r = -ENAMETOOLONG;
                goto fail;
        }
        r = vnet_mkdir_p(dir, 0755);
        if (r < 0)
                goto fail;
        *ret = s;
        return 0;
fail:
        if (s->ino >= 0)
                close(s->ino);
        free(s);
        return r;
}

static struct dnsmasq *find(struct dnsmasq_sup *s, const char *name)
{
        for (struct dnsmasq *d = s->instances; d; d = d->next)
                if (strcmp(d->name, name) == 0)
                        return d;
        return NULL;
}

static void unwatch(struct dnsmasq *d)
{
        if (d->pidfd < 0)
                return;
        loop_del(d->sup->loop, d->pidfd);
        close(d->pidfd);
        d->pidfd = -1;
        d->pid = 0;
}

static void cancel_timer(struct dnsmasq *d)
{
        if (d->timerfd < 0)
                return;
        loop_del(d->sup->loop, d->timerfd);
        close(d->timerfd);
        d->timerfd = -1;
}

static void instance_free(struct dnsmasq *d)
{
        struct dnsmasq **pp;

        for (pp = &d->sup->instances; *pp; pp = &(*pp)->next)
                if (*pp == d) {
                        *pp = d->next;
                        break;
                }
        unwatch(d);
        cancel_timer(d);
        free(d->want_conf);
        free(d->want_hosts);
        free(d->want_opts);
        free(d);
}

void dnsmasq_sup_free(struct dnsmasq_sup *s)
{
        if (!s)
                return;
        /* Closing a pidfd does nothing to its process: they all keep serving. */
        while (s->instances)
                instance_free(s->instances);
        close(s->ino);
        free(s);
}

/* Reaps the exited process if it is our child and describes how it ended. One that was
 * adopted is not our child: its new parent reaps it, and its status is not ours to know. */
static void reap(struct dnsmasq *d, char *why, size_t len)
{
        siginfo_t si = { 0 };

        if (waitid((idtype_t)P_PIDFD, (id_t)d->pidfd, &si, WEXITED | WNOHANG) < 0) {
                snprintf(why, len, "exited (not vnetd's child: status unknown)");
                return;
        }
        if (si.si_code == CLD_EXITED)
                snprintf(why, len, "exited with status %d", si.si_status);
        else if (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)
                snprintf(why, len, "killed by signal %d (%s)%s", si.si_status,
                         strsignal(si.si_status), si.si_code == CLD_DUMPED ? ", core dumped" : "");
        else
                snprintf(why, len, "exited");
}

static void on_timer(struct loop *l, int fd, uint32_t events, void *userdata)
{
        struct dnsmasq *d = userdata;
        uint64_t n;

        (void)l, (void)events;
        if (read(fd, &n, sizeof(n)) != sizeof(n))
                return;
        cancel_timer(d);
        restart_now(d);
}

static int arm_timer(struct dnsmasq *d, unsigned ms)
{
        struct itimerspec its = { .it_value = { ms / 1000, (long)(ms % 1000) * 1000000L } };
        int r;

        if (d->timerfd < 0) {
                d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
                if (d->timerfd < 0)
                        return -errno;
                r = loop_add(d->sup->loop, d->timerfd, EPOLLIN, on_timer, d);
                if (r < 0) {
                        close(d->timerfd);
                        d->timerfd = -1;
                        return r;
                }
        }
        if (timerfd_settime(d->timerfd, 0, &its, NULL) < 0) {
                r = -errno;
                cancel_timer(d);
                return r;
        }
        return 0;
}

/* Records why the process is gone and restarts it after the backoff delay. The supervisor
 * decides the restart, so it is the one that logs, once per death. */
static void note_death(struct dnsmasq *d, pid_t pid, const char *why)
{
        uint64_t ran = d->started_ms ? now_ms() - d->started_ms : UINT64_MAX;
        size_t n = sizeof(backoff_ms) / sizeof(backoff_ms[0]);
        unsigned delay;
        int r;

        snprintf(d->last_exit, sizeof(d->last_exit), "%s", why);
        if (ran >= STABLE_MS)
                d->quick_deaths = 0;
        delay = backoff_ms[d->quick_deaths < n ? d->quick_deaths : n - 1];
        d->quick_deaths++;
        if (pid > 0)
                log_warning("network %s: dnsmasq (pid %d) %s; restarting in %u.%03u s", d->name,
                            (int)pid, why, delay / 1000, delay % 1000);
        else
                log_warning("network %s: dnsmasq %s; retrying in %u.%03u s", d->name, why,
                            delay / 1000, delay % 1000);
        if (delay == 0) {
                restart_now(d);
                return;
        }
        r = arm_timer(d, delay);
        if (r < 0)
                log_error("network %s: cannot schedule the restart of dnsmasq: %s; it stays down",
                          d->name, strerror(-r));
}

/* The process is gone: a start waiting for it has its answer, and the supervisor restarts
 * it. */
static void died(struct dnsmasq *d)
{
        char why[sizeof(d->last_exit)];
        pid_t pid = d->pid;

        reap(d, why, sizeof(why));
        unwatch(d);
        if (d->pending && d->outcome == 0)
                d->outcome = -ESRCH;
        note_death(d, pid, why);
}

static void on_exit_event(struct loop *l, int fd, uint32_t events, void *userdata)
{
        (void)l, (void)fd, (void)events;
        died(userdata);
}

/* Runs dnsmasq in the foreground, in its own session (a ^C on vnetd's terminal is not for
 * it), with default signal handling and an empty mask (vnetd blocks the signals it reads from
 * a signalfd, and ignores SIGPIPE; both would be inherited), and none of vnetd's fds. */
static int spawn(struct dnsmasq *d)
{
        char conf_arg[PATH_MAX + 16];
        char *argv[] = { d->sup->binary, "--keep-in-foreground", conf_arg, NULL };
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t all, none;
        pid_t pid;
        int r, fd = -1;

        /* Also when the spawn fails: the backoff measures from each attempt. */
        d->started_ms = now_ms();
        snprintf(conf_arg, sizeof(conf_arg), "--conf-file=%s", d->paths.conf);
        /* A pid file left from before would pass for the readiness of the new process. */
        r = vnet_unlink(d->paths.pid);
        if (r < 0)
                return r;
        sigfillset(&all);
        sigemptyset(&none);
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                                POSIX_SPAWN_SETSIGDEF);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        /* stdout and stderr stay vnetd's (the journal): dnsmasq's start-up errors land there. */
        posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
        /* glibc's posix_spawn waits for the exec, so a missing binary is an error here. */
        r = -posix_spawn(&pid, d->sup->binary, &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (r < 0)
                return r;
        /* Race-free: an unreaped child keeps its pid. */
        fd = pidfd_open(pid, 0);
        if (fd < 0) {
                r = -errno;
                goto fail;
        }
        r = loop_add(d->sup->loop, fd, EPOLLIN, on_exit_event, d);
        if (r < 0)
                goto fail;
        d->pid = pid;
        d->pidfd = fd;
        d->adopted = false;
        return 0;
fail:
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (fd >= 0)
                close(fd);
        return r;
}

static bool file_equals(const char *path, const char *text);

/* Writes the files of what the last start asked for where they differ from the disk. */
static int write_wanted(struct dnsmasq *d)
{
        const struct {
                const char *path, *text;
        } f[] = { { d->paths.hosts, d->want_hosts },
                  { d->paths.opts, d->want_opts },
                  { d->paths.conf, d->want_conf } };

        for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
                int r;
                if (!f[i].text || file_equals(f[i].path, f[i].text))
                        continue;
                /* RUN_DIR: atomic, not synced; these files do not outlive a reboot anyway. */
                r = vnet_write_file(f[i].path, f[i].text, strlen(f[i].text), 0644, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void restart_now(struct dnsmasq *d)
{
        char why[sizeof(d->last_exit)];
        int r;

        d->restarts++;
        r = write_wanted(d);
        if (r < 0) {
                snprintf(why, sizeof(why), "cannot write its configuration: %s", strerror(-r));
                note_death(d, 0, why);
                return;
        }
        r = spawn(d);
        if (r < 0) {
                snprintf(why, sizeof(why), "cannot be started: %s", strerror(-r));
                note_death(d, 0, why);
        }
}

/* The pid in @path, or -errno (-EINVAL: not a pid, e.g. written halfway). */
static pid_t read_pid_file(const char *path)
{
        char buf[32];
        ssize_t n;
        long v;
        char *end;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return n < 0 ? -errno : -EINVAL;
        buf[n] = '\0';
        errno = 0;
        v = strtol(buf, &end, 10);
        if (errno || end == buf || (*end != '\n' && *end != '\0') || v <= 0 || v > INT_MAX)
                return -EINVAL;
        return (pid_t)v;
}

/* Watching before the spawn: the pid file may come before we look. Added at each start:
 * that costs ~1 us when the watch is there, and follows a RUN_DIR/dnsmasq made anew. */
static int watch_pid_files(struct dnsmasq_sup *s)
{
        int wd = inotify_add_watch(s->ino, s->conf_dir, IN_CLOSE_WRITE | IN_MOVED_TO);

        if (wd < 0)
                return -errno;
        s->wd = wd;
        return 0;
}

static bool undecided(const struct dnsmasq *d)
{
        return d->pending && d->outcome == 0;
}

/* dnsmasq writes its pid file after binding its DHCP and DNS sockets and opening the lease
 * file: the file naming this pid means it answers. */
static void check_ready(struct dnsmasq *d)
{
        if (undecided(d) && d->pidfd >= 0 && read_pid_file(d->paths.pid) == d->pid)
                d->outcome = 1;
}

/* Reads what inotify queued and checks the pid file of each pending start that an event
 * names (of every one after an overflow). Events are read for all pending starts at once,
 * whoever waits: none is lost to another's wait. */
static void read_events(struct dnsmasq_sup *s)
{
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t len;

        while ((len = read(s->ino, buf, sizeof(buf))) > 0) {
                for (char *p = buf; p < buf + len;) {
                        const struct inotify_event *ev = (const struct inotify_event *)p;
                        char name[VNET_NAME_MAX + 1];
                        struct dnsmasq *d;
                        size_t n;

                        p += sizeof(*ev) + ev->len;
                        if (ev->mask & IN_Q_OVERFLOW) {
                                for (d = s->instances; d; d = d->next)
                                        check_ready(d);
                                continue;
                        }
                        n = ev->len ? strlen(ev->name) : 0;
                        if (n <= 4 || n - 4 > VNET_NAME_MAX || strcmp(ev->name + n - 4, ".pid"))
                                continue;
                        memcpy(name, ev->name, n - 4);
                        name[n - 4] = '\0';
                        d = find(s, name);
                        if (d)
                                check_ready(d);
                }
        }
}

/* With no start pending, the watch goes: events would pile up unread in the kernel, and
 * vnetd's exit would pay the grace period of an instance destroyed with a watch. Removing
 * a watch costs ~5 us; its mark is freed later, asynchronously. */
static void unwatch_pid_files(struct dnsmasq_sup *s)
{
        for (struct dnsmasq *d = s->instances; d; d = d->next)
                if (undecided(d))
                        return;
        if (s->wd < 0)
                return;
        /* EINVAL: the directory went, and its watch with it. */
        inotify_rm_watch(s->ino, s->wd);
        s->wd = -1;
        read_events(s);
}

/* Waits until the pending start of @only (of every instance when NULL) is decided: its pid
 * file names its process, the process died, or its deadline passed. inotify and the pidfds,
 * not polling: a dnsmasq that fails at once is seen at once. */
static int wait_outcomes(struct dnsmasq_sup *s, struct dnsmasq *only)
{
        struct dnsmasq **who = NULL;
        struct pollfd *p = NULL;
        size_t cap = 1;
        int r = 0;

        for (struct dnsmasq *d = s->instances; d; d = d->next)
                cap++;
        p = calloc(cap, sizeof(*p));
        who = calloc(cap, sizeof(*who));
        if (!p || !who) {
                r = -ENOMEM;
                goto out;
        }
        /* Events read by an earlier wait, or before the process was ours to know. */
        for (struct dnsmasq *d = s->instances; d; d = d->next)
                check_ready(d);
        for (;;) {
                uint64_t now = now_ms(), deadline = UINT64_MAX;
                size_t n = 1;
                int k;

                p[0] = (struct pollfd){ .fd = s->ino, .events = POLLIN };
                for (struct dnsmasq *d = s->instances; d; d = d->next) {
                        if (!undecided(d) || (only && d != only))
                                continue;
                        if (now >= d->deadline_ms) {
                                d->outcome = -ETIMEDOUT;
                                continue;
                        }
                        if (d->deadline_ms < deadline)
                                deadline = d->deadline_ms;
                        who[n] = d;
                        p[n++] = (struct pollfd){ .fd = d->pidfd, .events = POLLIN };
                }
                if (n == 1)
                        break;
                k = poll(p, n, (int)(deadline - now));
                if (k < 0 && errno != EINTR) {
                        r = -errno;
                        goto out;
                }
                if (k <= 0)
                        continue;
                /* The pid file first: a process that wrote it and died at once was ready;
                 * its death is the supervisor's, not this start's. */
                if (p[0].revents)
                        read_events(s);
                for (size_t i = 1; i < n; i++)
                        if (p[i].revents && undecided(who[i]))
                                died(who[i]);
        }
out:
        free(p);
        free(who);
        return r;
}

static int wait_exit(int pidfd, int timeout_ms)
{
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

        for (;;) {
                uint64_t now = now_ms();
                int n;

                if (now >= deadline)
                        return -ETIMEDOUT;
                n = poll(&p, 1, (int)(deadline - now));
                if (n > 0)
                        return 0;
                if (n < 0 && errno != EINTR)
                        return -errno;
        }
}

/* Ends the process, bounded: SIGTERM, then SIGKILL. Not a death: no log, no restart. */
static int terminate(struct dnsmasq *d)
{
        char why[sizeof(d->last_exit)];
        int r;

        if (d->pidfd < 0)
                return 0;
        if (pidfd_send_signal(d->pidfd, SIGTERM, NULL, 0) < 0 && errno != ESRCH)
                return -errno;
        r = wait_exit(d->pidfd, STOP_TIMEOUT_MS);
        if (r < 0) {
                log_warning("network %s: dnsmasq (pid %d) ignored SIGTERM for %d ms; killing it",
                            d->name, (int)d->pid, STOP_TIMEOUT_MS);
                if (pidfd_send_signal(d->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                        return -errno;
                r = wait_exit(d->pidfd, STOP_TIMEOUT_MS);
                if (r < 0)
                        return r;
        }
        reap(d, why, sizeof(why));
        unwatch(d);
        return 0;
}

/* Whether /proc/@pid/cmdline is a dnsmasq started with our --conf-file: the pid file may be
 * stale and its pid reused by anything. */
static bool cmdline_matches(struct dnsmasq *d, pid_t pid)
{
        char path[64], buf[8192], want[PATH_MAX + 16];
        const char *argv0, *base, *ours;
        bool found = false;
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
        snprintf(want, sizeof(want), "--conf-file=%s", d->paths.conf);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        argv0 = buf;
        base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
        ours = strrchr(d->sup->binary, '/') ? strrchr(d->sup->binary, '/') + 1 : d->sup->binary;
        if (strcmp(base, "dnsmasq") != 0 && strcmp(base, ours) != 0)
                return false;
        for (const char *a = buf; a < buf + n; a += strlen(a) + 1)
                if (strcmp(a, want) == 0)
                        found = true;
        return found;
}

/* Takes over the dnsmasq a previous vnetd left running, found through its pid file.
 * Returns 1 when adopted, 0 when there is none, or -errno. */
static int adopt(struct dnsmasq *d)
{
        pid_t pid;
        int fd, r;

        pid = read_pid_file(d->paths.pid);
        if (pid < 0)
                return 0;
        /* The pidfd first, then the checks, then "still alive": if it is alive after the
         * checks, they read this process and not a later one with the same pid. */
        fd = pidfd_open(pid, 0);
        if (fd < 0)
                return errno == ESRCH ? 0 : -errno;
        if (!cmdline_matches(d, pid) || pidfd_send_signal(fd, 0, NULL, 0) < 0) {
                close(fd);
                return 0;
        }
        r = loop_add(d->sup->loop, fd, EPOLLIN, on_exit_event, d);
        if (r < 0) {
                close(fd);
                return r;
        }
        d->pid = pid;
        d->pidfd = fd;
        d->adopted = true;
        d->started_ms = 0;
        return 1;
}

/* Whether @path holds exactly @text; a missing or unreadable file does not. */
static bool file_equals(const char *path, const char *text)
{
        size_t len = strlen(text);
        struct stat st;
        bool eq = false;
        char *buf = NULL;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        if (fstat(fd, &st) < 0 || (size_t)st.st_size != len)
                goto out;
        buf = malloc(len + 1);
        if (!buf || read(fd, buf, len + 1) != (ssize_t)len)
                goto out;
        eq = memcmp(buf, text, len) == 0;
out:
        free(buf);
        close(fd);
        return eq;
}

static int signal_hup(struct dnsmasq *d)
{
        /* ESRCH: it just died; its restart reads the new file. */
        if (d->pidfd >= 0 && pidfd_send_signal(d->pidfd, SIGHUP, NULL, 0) < 0 && errno != ESRCH)
                return -errno;
        return 0;
}

int dnsmasq_start_async(struct dnsmasq_sup *s, const char *name,
                        const struct vnet_dnsmasq_conf *c, struct vnet_err *e)
{
        struct vnet_dnsmasq_conf cc = *c;
        struct dnsmasq_paths p;
        struct dnsmasq *d;
        char *conf = NULL, *hosts = NULL, *opts = NULL;
        bool created = false, hosts_same, opts_same;
        int r, r2;

        /* The name becomes file names: checked here too, not only in the model. */
        r = vnet_parse_name(name, "name", e);
        if (r < 0)
                return r;
        r = dnsmasq_paths(s->run_dir, s->state_dir, name, &p);
        if (r < 0)
                return r;
        cc.pid_file = p.pid;
        cc.lease_file = p.leases;
        cc.hosts_file = p.hosts;
        cc.opts_file = p.opts;
        r = vnet_dnsmasq_conf_render(&cc, &conf, e);
        if (r < 0)
                goto out;
        r = vnet_dnsmasq_hosts_render(cc.dhcp, &cc.ipv4, &hosts, e);
        if (r < 0)
                goto out;
        r = vnet_dnsmasq_opts_render(&cc, &opts, e);
        if (r < 0)
                goto out;

        d = find(s, name);
        if (!d) {
                d = calloc(1, sizeof(*d));
                if (!d) {
                        r = -ENOMEM;
                        goto out;
                }
                d->sup = s;
                d->pidfd = d->timerfd = -1;
                snprintf(d->name, sizeof(d->name), "%s", name);
                d->paths = p;
                d->next = s->instances;
                s->instances = d;
                created = true;
                r = adopt(d);
                if (r < 0)
                        goto out;
                if (r > 0)
                        log_info("network %s: adopted running dnsmasq (pid %d)", name,
                                 (int)d->pid);
        }

        /* Kept for restarts, which write them again if they could not be written now. */
        free(d->want_conf);
        free(d->want_hosts);
        free(d->want_opts);
        d->want_conf = conf;
        d->want_hosts = hosts;
        d->want_opts = opts;
        conf = hosts = opts = NULL;

        hosts_same = file_equals(p.hosts, d->want_hosts);
        opts_same = file_equals(p.opts, d->want_opts);
        /* RUN_DIR: atomic, not synced; these files do not outlive a reboot anyway. Each is
         * replaced whole; a new process reads them, a running one on SIGHUP. */
        r = hosts_same ? 0
                       : vnet_write_file(p.hosts, d->want_hosts, strlen(d->want_hosts), 0644, 0);
        r2 = opts_same ? 0
                       : vnet_write_file(p.opts, d->want_opts, strlen(d->want_opts), 0644, 0);
        r = r < 0 ? r : r2;
        /* Reservations and the mode live in those files: when only they differ, the process
         * stays and keeps answering, told with one signal for both (also after a failed
         * write, which leaves its file as it was: the other file may be new). */
        if (d->pidfd >= 0 && file_equals(p.conf, d->want_conf)) {
                if (!hosts_same || !opts_same) {
                        r2 = signal_hup(d);
                        r = r < 0 ? r : r2;
                }
                goto out;
        }
        if (r < 0)
                goto out;
        r = watch_pid_files(s);
        if (r < 0)
                goto out;
        if (d->pidfd >= 0) {
                log_info("network %s: dnsmasq configuration changed; replacing pid %d", name,
                         (int)d->pid);
                r = terminate(d);
                if (r < 0)
                        goto out;
        }
        cancel_timer(d);
        created = false; /* from here on it is supervised, also when the start fails */
        /* A start supersedes one still pending: its caller learns this one's outcome. */
        d->pending = false;
        d->quick_deaths = 0;
        r = write_wanted(d);
        if (r == 0)
                r = spawn(d);
        if (r < 0) {
                /* Supervised from here: it is tried again, its configuration written again
                 * first if it could not be written now. */
                char why[sizeof(d->last_exit)];
                snprintf(why, sizeof(why), "cannot be started: %s", strerror(-r));
                note_death(d, 0, why);
                goto out;
        }
        d->pending = true;
        d->outcome = 0;
        d->deadline_ms = d->started_ms + READY_TIMEOUT_MS;
out:
        if (r < 0 && created)
                instance_free(d);
        free(conf);
        free(hosts);
        free(opts);
        return r;
}

int dnsmasq_start(struct dnsmasq_sup *s, const char *name, const struct vnet_dnsmasq_conf *c,
                  struct vnet_err *e)
{
        struct dnsmasq *d;
        int r;

        r = dnsmasq_start_async(s, name, c, e);
        if (r < 0)
                goto out;
        d = find(s, name);
        if (!d->pending)
                goto out;
        r = wait_outcomes(s, d);
        if (r == 0)
                r = d->outcome > 0 ? 0 : d->outcome;
        d->pending = false;
out:
        unwatch_pid_files(s);
        return r;
}

static struct dnsmasq *first_decided(struct dnsmasq_sup *s)
{
        for (struct dnsmasq *d = s->instances; d; d = d->next)
                if (d->pending && d->outcome != 0)
                        return d;
        return NULL;
}

int dnsmasq_wait_ready(struct dnsmasq_sup *s, dnsmasq_ready_fn fn, void *userdata)
{
        char name[VNET_NAME_MAX + 1];
        struct dnsmasq *d;
        int r, outcome;

        r = wait_outcomes(s, NULL);
        if (r < 0)
                return r;
        /* From the head each time: @fn may stop an instance, or start one. */
        while ((d = first_decided(s))) {
                d->pending = false;
                outcome = d->outcome > 0 ? 0 : d->outcome;
                snprintf(name, sizeof(name), "%s", d->name);
                fn(name, outcome, userdata);
        }
        unwatch_pid_files(s);
        return 0;
}

int dnsmasq_reload_hosts(struct dnsmasq_sup *s, const char *name, const struct vnet_dhcp *dh,
                         const struct vnet_ipv4 *net, struct vnet_err *e)
{
        struct dnsmasq *d = find(s, name);
        char *hosts = NULL;
        int r;

        if (!d)
                return -ENOENT;
        r = vnet_dnsmasq_hosts_render(dh, net, &hosts, e);
        if (r < 0)
                return r;
        r = vnet_write_file(d->paths.hosts, hosts, strlen(hosts), 0644, 0);
        if (r == 0)
                r = signal_hup(d);
        free(hosts);
        return r;
}

int dnsmasq_stop(struct dnsmasq_sup *s, const char *name)
{
        struct dnsmasq *d = find(s, name);
        int r, r2;

        if (!d)
                return -ENOENT;
        cancel_timer(d);
        r = terminate(d);
        if (r < 0)
                return r;
        /* Each is attempted; the first error is the one reported. */
        r = vnet_unlink(d->paths.conf);
        r2 = vnet_unlink(d->paths.pid);
        r = r < 0 ? r : r2;
        r2 = vnet_unlink(d->paths.hosts);
        r = r < 0 ? r : r2;
        r2 = vnet_unlink(d->paths.opts);
        r = r < 0 ? r : r2;
        instance_free(d);
        /* It may have been the last pending start. */
        unwatch_pid_files(s);
        return r;
}

int dnsmasq_status(struct dnsmasq_sup *s, const char *name, struct dnsmasq_status *st)
{
        struct dnsmasq *d = find(s, name);

        if (!d)
                return -ENOENT;
        *st = (struct dnsmasq_status){ .pid = d->pid,
                                       .running = d->pidfd >= 0,
                                       .adopted = d->adopted,
                                       .restarts = d->restarts };
        snprintf(st->last_exit, sizeof(st->last_exit), "%s", d->last_exit);
        return 0;
}
