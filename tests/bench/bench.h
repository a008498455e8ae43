/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What vnet's benchmarks (the programs in tests/bench) share: dying with a message, timing,
 * series of measurements and their statistics, vnetd's CPU time, varlink calls that die on
 * error, running commands, the check that refuses to run in the machine's own network
 * namespace, and the rows of the results tables.
 *
 * The Makefile builds each .c file here into a program of its own, from that one file and
 * libvnet, so what they share lives here rather than in a .c file of its own. Everything is
 * static inline: a program uses only some of it, and inline keeps the rest from warning as
 * unused.
 *
 * Define BENCH_NAME (the program's name, for its messages) before including this. */
#ifndef VNET_TESTS_BENCH_H
#define VNET_TESTS_BENCH_H

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vnet/vnet.h>

#ifndef BENCH_NAME
#error "define BENCH_NAME (the program's name, for its messages) before including bench.h"
#endif

extern char **environ;

/* ---- failing ---- */

/* Run by bench_die() before it exits, when set: a benchmark that starts processes of its own
 * (restart.c) stops them here, so that a failure leaves none behind. */
static void (*bench_at_die)(void);

/* Prints "BENCH_NAME: MESSAGE" to stderr and exits 1: a benchmark fails only when something
 * fails outright, and then there is nothing left to measure. */
__attribute__((format(printf, 1, 2), noreturn)) static inline void bench_die(const char *fmt,
                                                                             ...)
{
        va_list ap;

        fprintf(stderr, BENCH_NAME ": ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        if (bench_at_die)
                bench_at_die();
        exit(1);
}

/* ---- time ---- */

/* Milliseconds on the monotonic clock: differences are durations that a change of the
 * wall clock cannot distort. */
static inline double bench_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline void bench_sleep_ms(unsigned ms)
{
        nanosleep(&(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L },
                  NULL);
}

/* Between phases: lets the kernel finish deferred work of the last phase (device cleanup,
 * RCU callbacks) so that it is not charged to the first calls of the next. */
static inline void bench_settle(void)
{
        bench_sleep_ms(300);
}

/* ---- series and statistics ---- */

/* Measurements in the order they were taken (the order matters: the first and the last of
 * a run are compared), in milliseconds. Zero-initialised is empty. */
struct bench_series {
        double *v;
        size_t n, cap;
};

struct bench_stats {
        size_t n;
        double median, tail, min, max; /* tail: the quantile asked for (p95, p99) */
};

static inline void bench_series_add(struct bench_series *s, double v)
{
        if (s->n == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 128;
                s->v = realloc(s->v, s->cap * sizeof(*s->v));
                if (!s->v)
                        bench_die("out of memory");
        }
        s->v[s->n++] = v;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

/* Over s[from, from+n) (cut to what there is; all NAN when nothing is): median, min, max,
 * and the @q quantile (0.95: p95) by nearest rank, so always a measured value; with fewer
 * than 1 / (1 - q) values it is the largest. */
static inline struct bench_stats bench_stats_of(const struct bench_series *s, size_t from,
                                                size_t n, double q)
{
        struct bench_stats st = { .n = 0, .median = NAN, .tail = NAN, .min = NAN, .max = NAN };
        double *v;

        if (from >= s->n || n == 0)
                return st;
        if (from + n > s->n)
                n = s->n - from;
        /* Sorted in a copy: the series keeps its order. */
        v = malloc(n * sizeof(*v));
        if (!v)
                bench_die("out of memory");
        memcpy(v, s->v + from, n * sizeof(*v));
        qsort(v, n, sizeof(*v), bench_cmp_double);
        st.n = n;
        st.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        st.tail = v[(size_t)ceil(q * n) - 1];
        st.min = v[0];
        st.max = v[n - 1];
        free(v);
        return st;
}

static inline struct bench_stats bench_stats_all(const struct bench_series *s, double q)
{
        return bench_stats_of(s, 0, s->n, q);
}

static inline double bench_median_of(const struct bench_series *s, size_t from, size_t n)
{
        return bench_stats_of(s, from, n, 0.5).median;
}

static inline double bench_median(const struct bench_series *s)
{
        return bench_median_of(s, 0, s->n);
}

/* ---- vnetd's CPU time ---- */

/* The CPU time (user + system, ns resolution) that the scheduler has accounted to process
 * @pid, in ms; -1 when unknown (no pid given, or no such process). Unlike wall time it does
 * not move when other work shares the machine, so it shows whether the daemon's own work
 * grows. It leaves out what vnetd waits for (RCU grace periods, the kernel's deferred device
 * cleanup) and the work of its children (dnsmasq). */
static inline double bench_cpu_ms(pid_t pid)
{
        unsigned long long ns;
        char path[64];
        FILE *f;
        int r;

        if (pid <= 0)
                return -1;
        snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        r = fscanf(f, "%llu", &ns);
        fclose(f);
        return r == 1 ? ns / 1e6 : -1;
}

/* Adds the CPU time between two bench_cpu_ms() readings to @cpu, when both are known (and
 * @cpu is not NULL): without -p the CPU columns stay empty. */
static inline void bench_cpu_add(struct bench_series *cpu, double c0, double c1)
{
        if (cpu && c0 >= 0 && c1 >= 0)
                bench_series_add(cpu, c1 - c0);
}

/* ---- vnetd through the client library ---- */

static inline struct vnet_client *bench_connect(const char *socket)
{
        struct vnet_client *c;
        int r = vnet_client_connect(socket, &c);

        if (r < 0)
                bench_die("cannot connect to %s: %s", socket, strerror(-r));
        return c;
}

/* Calls @method with @params (taken; NULL, as json_pack() returns on failure, dies) and dies
 * on an error reply. The reply goes to *@reply (the caller's to free) when @reply is not
 * NULL. */
static inline void bench_vcall(struct vnet_client *c, const char *method, json_t *params,
                               json_t **reply)
{
        struct vnet_call_error err = { 0 };
        json_t *rep = NULL;
        int r;

        if (!params)
                bench_die("%s: cannot build the parameters", method);
        r = vnet_client_call(c, method, params, &rep, &err);
        if (r == -EREMOTEIO)
                bench_die("%s: %s: %s", method, err.name, err.message);
        if (r < 0)
                bench_die("%s: %s (%s)", method, strerror(-r), err.message);
        if (reply)
                *reply = rep;
        else
                json_decref(rep);
        vnet_call_error_clear(&err);
}

/* bench_vcall() timed: returns the wall time from call to reply; the CPU time vnetd @vnetd
 * spent meanwhile goes to @cpu, if known. The CPU readings stay outside the timed span. */
static inline double bench_vcall_timed(struct vnet_client *c, pid_t vnetd, const char *method,
                                       json_t *params, struct bench_series *cpu)
{
        double c0 = bench_cpu_ms(vnetd), t0 = bench_now_ms(), t;

        bench_vcall(c, method, params, NULL);
        t = bench_now_ms() - t0;
        bench_cpu_add(cpu, c0, bench_cpu_ms(vnetd));
        return t;
}

/* Dies with vnet_port_attach's or vnet_port_detach's error, as @what says. */
__attribute__((noreturn)) static inline void bench_die_port(const char *what,
                                                           const struct vnet_call_error *err,
                                                           int r)
{
        bench_die("%s: %s%s%s", what, err->name, err->name[0] ? ": " : "",
                  err->message[0] ? err->message : strerror(-r));
}

/* ---- commands ---- */

/* Runs argv (PATH lookup) with stderr inherited, so that a failing command says why. Its
 * stdin is @input when not NULL; its stdout goes to @out (up to @len - 1 bytes,
 * NUL-terminated) when not NULL, else to /dev/null. Not both: the input is written whole
 * before the output is read, which could deadlock. Returns the elapsed time from spawn to
 * reaped exit; dies if it did not exit 0. */
static inline double bench_run_io(char *const argv[], const char *input, char *out, size_t len)
{
        posix_spawn_file_actions_t fa;
        int in[2] = { -1, -1 }, op[2] = { -1, -1 }, status, r;
        size_t off = 0;
        double t0;
        pid_t pid;

        if (input && out)
                bench_die("bench_run_io: both input and output for %s", argv[0]);
        if (posix_spawn_file_actions_init(&fa))
                bench_die("posix_spawn_file_actions_init failed");
        t0 = bench_now_ms();
        if (input) {
                if (pipe2(in, O_CLOEXEC) < 0)
                        bench_die("pipe: %s", strerror(errno));
                posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
        }
        if (out) {
                if (pipe2(op, O_CLOEXEC) < 0)
                        bench_die("pipe: %s", strerror(errno));
                posix_spawn_file_actions_adddup2(&fa, op[1], STDOUT_FILENO);
        } else {
                posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        }
        r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r)
                bench_die("cannot run %s: %s", argv[0], strerror(r));
        if (input) {
                size_t ilen = strlen(input), ioff = 0;

                close(in[0]);
                while (ioff < ilen) {
                        ssize_t w = write(in[1], input + ioff, ilen - ioff);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                break; /* the command will fail and say why */
                        ioff += (size_t)w;
                }
                close(in[1]);
        }
        if (out) {
                close(op[1]);
                for (;;) {
                        /* Past @len the rest is read and dropped: the command must not
                         * block on a full pipe. */
                        char sink[256];
                        char *dst = off + 1 < len ? out + off : sink;
                        size_t room = off + 1 < len ? len - 1 - off : sizeof(sink);
                        ssize_t n = read(op[0], dst, room);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                break;
                        if (dst != sink)
                                off += (size_t)n;
                }
                out[off] = '\0';
                close(op[0]);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        bench_die("waitpid: %s", strerror(errno));
        t0 = bench_now_ms() - t0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                if (input)
                        fprintf(stderr, "--- input ---\n%s--- end ---\n", input);
                bench_die("%s %s ... failed (status 0x%x)", argv[0], argv[1] ? argv[1] : "",
                          status);
        }
        return t0;
}

/* bench_run_io() with stdin from @input (or inherited, when NULL) and stdout discarded. */
static inline double bench_run(char *const argv[], const char *input)
{
        return bench_run_io(argv, input, NULL, 0);
}

/* ---- safety ---- */

/* Everything the benchmarks do changes the network namespace they run in: never let that be
 * the machine's own. */
static inline void bench_check_namespace(void)
{
        struct stat self, init;

        if (stat("/proc/self/ns/net", &self) < 0)
                bench_die("cannot stat /proc/self/ns/net: %s", strerror(errno));
        if (stat("/proc/1/ns/net", &init) < 0)
                return; /* cannot tell (no access to PID 1): the caller made the namespace */
        if (self.st_ino == init.st_ino && self.st_dev == init.st_dev)
                bench_die("refusing to run in the network namespace of PID 1; run it through "
                          "tests/bench/run, which makes a throwaway namespace");
}

/* ---- output ---- */

/* A row of a results table: WHAT, then the count, median and @q quantile of s[from,
 * from+n), then, when @cpu (may be NULL) has values, the median of vnetd's CPU time over the
 * same calls. The columns match the headers the benchmarks print. */
static inline void bench_row_part(const char *what, const struct bench_series *s,
                                  const struct bench_series *cpu, size_t from, size_t n,
                                  double q)
{
        struct bench_stats st = bench_stats_of(s, from, n, q);

        printf("  %-44s %5zu %9.3f %9.3f", what, st.n, st.median, st.tail);
        if (cpu && cpu->n)
                printf(" %11.3f", bench_median_of(cpu, from, n));
        putchar('\n');
}

static inline void bench_row(const char *what, const struct bench_series *s,
                             const struct bench_series *cpu, double q)
{
        bench_row_part(what, s, cpu, 0, s->n, q);
}

/* A line of a summary: the goal, the figure, and whether it was met. The column widths are
 * each benchmark's own, so that its report reads as it always has. */
static inline void bench_goal(int what_width, int value_width, const char *what,
                              const char *value, bool met)
{
        printf("  %-*s %-*s %s\n", what_width, what, value_width, value, met ? "met" : "NOT met");
}

#endif /* VNET_TESTS_BENCH_H */
