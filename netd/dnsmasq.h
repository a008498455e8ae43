/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Supervision of one dnsmasq per network: vnetd writes its files, runs it in the foreground
 * as its own child (a daemonized dnsmasq is reparented to PID 1, which reaps slowly here),
 * watches it through a pidfd in the event loop, reaps it, restarts it with backoff when it
 * dies, and leaves it running when vnetd exits so that guests keep DHCP and DNS; the next
 * vnetd adopts it through its pid file. main.c needs no SIGCHLD handling: pidfds tell.
 *
 * Files, per network NAME (dnsmasq_paths()):
 *   RUN_DIR/dnsmasq/NAME.conf    the configuration, its only one (--conf-file=)
 *   RUN_DIR/dnsmasq/NAME.pid     written by dnsmasq once its sockets are bound: readiness,
 *                                and how the next vnetd finds it
 *   RUN_DIR/dnsmasq/NAME.hosts   static reservations, re-read on SIGHUP
 *   RUN_DIR/dnsmasq/NAME.opts    DHCP options that follow the mode (the router), re-read on
 *                                SIGHUP
 *   STATE_DIR/dnsmasq/NAME.leases  dnsmasq's lease database; never touched here
 * dnsmasq drops root for "nobody" after start-up and then re-reads the hosts and options
 * files as that user: RUN_DIR must be searchable by others (0755, as vnetd makes it). */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "dnsmasq_conf.h"
#include "loop.h"

#define DNSMASQ_DEFAULT_BINARY "/usr/sbin/dnsmasq"

struct dnsmasq_sup;

struct dnsmasq_paths {
        char conf[PATH_MAX];
        char pid[PATH_MAX];
        char hosts[PATH_MAX];
        char opts[PATH_MAX];
        char leases[PATH_MAX];
};

/* The files of network @name. -ENAMETOOLONG if a path does not fit. */
int dnsmasq_paths(const char *run_dir, const char *state_dir, const char *name,
                  struct dnsmasq_paths *p);

struct dnsmasq_status {
        pid_t pid;          /* 0 when no process runs (waiting to restart) */
        bool running;
        bool adopted;       /* found running at start-up, not started by this vnetd */
        unsigned restarts;  /* restarts after deaths (not those for a configuration change) */
        char last_exit[128]; /* why the last process ended ("killed by signal 9 (Killed)"),
                              * "" if none has */
};

/* Creates the supervisor. @binary is the dnsmasq to run; NULL means $VNET_DNSMASQ when set,
 * else DNSMASQ_DEFAULT_BINARY. Creates RUN_DIR/dnsmasq and STATE_DIR/dnsmasq (0755).
 * Returns 0 or -errno. */
int dnsmasq_sup_new(struct loop *l, const char *run_dir, const char *state_dir,
                    const char *binary, struct dnsmasq_sup **ret);

/* For vnetd's exit: stops watching, and leaves every dnsmasq running (networks keep
 * serving; the next vnetd adopts them). An instance waiting for its restart stays down
 * until the next vnetd starts it. */
void dnsmasq_sup_free(struct dnsmasq_sup *s);

/* Makes network @name's dnsmasq run with the configuration @c (its pid_file, lease_file,
 * hosts_file and opts_file are ignored: the supervisor's own paths, dnsmasq_paths(), are
 * used) and returns once it is ready to answer (its pid file written, which dnsmasq does
 * after binding its sockets). Idempotent, and how adoption works: when a dnsmasq of this network already runs
 * (watched by this supervisor, or found through the pid file and /proc/PID/cmdline), it is
 * kept if its configuration is the one @c renders, sent SIGHUP if only the reservations or
 * the options that follow the mode differ (a mode change), and replaced (stop, start)
 * otherwise.
 * Returns 0; -EINVAL with @e filled for a bad @c; -ESRCH when dnsmasq exited before it was
 * ready (why: dnsmasq_status().last_exit); -ETIMEDOUT when it was not ready within 5 s; or
 * another -errno (files, spawning). After -ESRCH, -ETIMEDOUT or a spawn failure the instance
 * stays supervised and is retried with backoff: call dnsmasq_stop() to give up. */
int dnsmasq_start(struct dnsmasq_sup *s, const char *name, const struct vnet_dnsmasq_conf *c,
                  struct vnet_err *e);

/* dnsmasq_start() without the wait, so that many networks' dnsmasq come up at once (at
 * vnetd's start): returns once the process is spawned, or at once when the running one is
 * kept. A spawned one is *pending* until dnsmasq_wait_ready() tells its outcome; a later
 * start or stop of the same network supersedes it. Returns what dnsmasq_start() returns,
 * but never -ESRCH or -ETIMEDOUT: those come from dnsmasq_wait_ready(). */
int dnsmasq_start_async(struct dnsmasq_sup *s, const char *name,
                        const struct vnet_dnsmasq_conf *c, struct vnet_err *e);

/* Told for each pending start: @r is 0 (ready), -ESRCH or -ETIMEDOUT, as from
 * dnsmasq_start(). */
typedef void (*dnsmasq_ready_fn)(const char *name, int r, void *userdata);

/* Waits until every pending start is ready, has died, or has had its 5 s, and calls @fn once
 * for each. They started concurrently, so waiting for N costs about what the slowest one
 * takes. Returns 0, or -errno if waiting failed (those not told yet stay pending). */
int dnsmasq_wait_ready(struct dnsmasq_sup *s, dnsmasq_ready_fn fn, void *userdata);

/* Rewrites the hosts file from @d and sends SIGHUP: same process, reservations re-read.
 * When no process runs (waiting to restart) the next one reads the new file. Returns 0,
 * -ENOENT for a network not started here, -EINVAL with @e filled, or -errno. */
int dnsmasq_reload_hosts(struct dnsmasq_sup *s, const char *name, const struct vnet_dhcp *d,
                         const struct vnet_ipv4 *net, struct vnet_err *e);

/* SIGTERM, up to 1 s for it to exit, then SIGKILL; reaps it; removes the configuration, pid,
 * hosts and options files (the lease file stays). Returns 0, -ENOENT for a network not
 * started here, or -errno if the process could not be made to exit (then the instance is
 * kept). */
int dnsmasq_stop(struct dnsmasq_sup *s, const char *name);

/* 0 and @st filled, or -ENOENT. */
int dnsmasq_status(struct dnsmasq_sup *s, const char *name, struct dnsmasq_status *st);
