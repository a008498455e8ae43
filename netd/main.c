/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vnetd: loads the network definitions, converges the kernel to them, and serves the control
 * socket, in one epoll loop. SIGTERM ends the daemon, never the networks. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ini.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <vnet/vnet.h>

#include "fileio.h"
#include "log.h"
#include "loop.h"
#include "manager.h"
#include "methods.h"
#include "monitor.h"
#include "nft_monitor.h"
#include "model.h"
#include "server.h"

struct options {
        bool foreground;
        const char *config_dir;
        const char *state_dir;
        const char *run_dir;
        const char *socket;
};

/* vnetd.conf, [Daemon] section. */
struct daemon_conf {
        char group[64];
        bool zero_dhcp_checksum;
        bool spare_taps;
};

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: vnetd [OPTIONS]\n"
                "Virtual networks for virtual machines: bridges, firewall modes, DHCP and DNS.\n\n"
                "  -f, --foreground       stay in the foreground (default: daemonize)\n"
                "      --config-dir DIR   definitions and vnetd.conf (default /etc/vnet)\n"
                "      --state-dir DIR    persistent state (default /var/lib/vnet)\n"
                "      --run-dir DIR      runtime state (default /run/vnet)\n"
                "      --socket PATH      control socket (default RUN_DIR/vnetd.sock); a second\n"
                "                         one for every user, vnetd-user.sock, sits beside it\n"
                "  -h, --help             this text\n"
                "      --version          print the version\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
        enum { OPT_CONFIG = 256, OPT_STATE, OPT_RUN, OPT_SOCKET, OPT_VERSION };
        static const struct option longopts[] = {
                { "foreground", no_argument, NULL, 'f' },
                { "config-dir", required_argument, NULL, OPT_CONFIG },
                { "state-dir", required_argument, NULL, OPT_STATE },
                { "run-dir", required_argument, NULL, OPT_RUN },
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                {}
        };
        int c;

        *o = (struct options){ .config_dir = "/etc/vnet",
                               .state_dir = "/var/lib/vnet",
                               .run_dir = "/run/vnet" };
        while ((c = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        o->foreground = true;
                        break;
                case OPT_CONFIG:
                        o->config_dir = optarg;
                        break;
                case OPT_STATE:
                        o->state_dir = optarg;
                        break;
                case OPT_RUN:
                        o->run_dir = optarg;
                        break;
                case OPT_SOCKET:
                        o->socket = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        exit(EXIT_SUCCESS);
                case OPT_VERSION:
                        printf("vnetd " VNET_VERSION "\n");
                        exit(EXIT_SUCCESS);
                default:
                        usage(stderr);
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "vnetd: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        return 0;
}

static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
        struct daemon_conf *c = user;

        if (!name)
                return 1;
        if (strcmp(section, "Daemon") == 0 && strcmp(name, "Group") == 0) {
                snprintf(c->group, sizeof(c->group), "%s", value);
                return 1;
        }
        if (strcmp(section, "Daemon") == 0 && strcmp(name, "ZeroDHCPChecksum") == 0) {
                struct vnet_err e = { 0 };
                if (vnet_parse_bool(value, &c->zero_dhcp_checksum, name, &e) == 0)
                        return 1;
                log_error("vnetd.conf: %s", e.message);
                return 0;
        }
        if (strcmp(section, "Daemon") == 0 && strcmp(name, "SpareTAPs") == 0) {
                struct vnet_err e = { 0 };
                if (vnet_parse_bool(value, &c->spare_taps, name, &e) == 0)
                        return 1;
                log_error("vnetd.conf: %s", e.message);
                return 0;
        }
        log_warning("vnetd.conf: unknown key %s in [%s], ignored", name, section);
        return 1;
}

static int load_conf(const char *config_dir, struct daemon_conf *c)
{
        char path[4096];
        int r;

        snprintf(c->group, sizeof(c->group), "vnet");
        c->zero_dhcp_checksum = false;
        c->spare_taps = true;
        snprintf(path, sizeof(path), "%s/vnetd.conf", config_dir);
        r = ini_parse(path, conf_handler, c);
        if (r == -1)
                return 0; /* no file: defaults */
        if (r != 0) {
                log_error("%s: syntax error on line %d", path, r);
                return -EINVAL;
        }
        return 0;
}

/* The sd_notify protocol, its documented datagram, so vnetd needs no libsystemd. */
static void notify(const char *state)
{
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len;
        int fd;

        if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
                return;
        len = strlen(path);
        memcpy(sa.sun_path, path, len);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
                   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
                log_warning("sd_notify failed: %m");
        close(fd);
}

/* One vnetd per run directory: two would fight over the same bridges and table. */
static int take_lock(const char *run_dir)
{
        char path[4096];
        int fd;

        snprintf(path, sizeof(path), "%s/vnetd.lock", run_dir);
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* Forks into the background. The first process waits until the daemon reports ready (or
 * dies), so that `vnetd && vnetctl list` works and an init script sees start-up failures. */
static int daemonize(const char *run_dir, int *ready_fd)
{
        char path[4096], buf[32];
        int pipefd[2], fd;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid > 0) {
                char c;
                close(pipefd[1]);
                _exit(read(pipefd[0], &c, 1) == 1 ? EXIT_SUCCESS : EXIT_FAILURE);
        }
        close(pipefd[0]);
        if (setsid() < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid > 0)
                _exit(EXIT_SUCCESS);
        fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
                dup2(fd, STDIN_FILENO);
                dup2(fd, STDOUT_FILENO);
                close(fd);
        }
        *ready_fd = pipefd[1];
        snprintf(path, sizeof(path), "%s/vnetd.pid", run_dir);
        snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
        return vnet_write_file_atomic(path, buf, strlen(buf), 0644);
}

static void on_signal(struct loop *l, int fd, uint32_t events, void *userdata)
{
        struct signalfd_siginfo si;

        (void)events;
        while (read(fd, &si, sizeof(si)) == sizeof(si)) {
                switch (si.ssi_signo) {
                case SIGTERM:
                case SIGINT:
                        log_info("signal %d: exiting; networks keep running", (int)si.ssi_signo);
                        loop_quit(l, 0);
                        break;
                case SIGHUP: {
                        int r = manager_reload(userdata);
                        if (r < 0)
                                log_error("reload failed: %s", strerror(-r));
                        else
                                log_info("SIGHUP: definitions reloaded");
                        break;
                }
                }
        }
}

/* Whether a socket can be made at @path: a name that fits, in a directory that exists. */
static int check_socket_path(const char *path)
{
        struct sockaddr_un sa;
        char dir[4096], *slash;
        struct stat st;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        snprintf(dir, sizeof(dir), "%s", path);
        slash = strrchr(dir, '/');
        if (!slash)
                return 0; /* the working directory */
        if (slash == dir)
                return 0; /* "/" */
        *slash = '\0';
        if (stat(dir, &st) < 0)
                return -errno;
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* Deferred work after each batch of events: the spare TAPs networks want (manager_idle()). */
static bool on_idle(struct loop *l, void *userdata)
{
        (void)l;
        return manager_idle(userdata);
}

int main(int argc, char **argv)
{
        struct options o;
        struct daemon_conf conf;
        struct manager *m = NULL;
        struct server *srv = NULL, *user_srv = NULL;
        struct monitor *mon = NULL;
        struct nft_monitor *nft_mon = NULL;
        struct loop *l = NULL;
        char sock[4096], user_sock[4096];
        sigset_t mask;
        int r, sfd = -1, lock = -1, ready_fd = -1;

        log_setup();
        if (parse_args(argc, argv, &o) < 0)
                return 2;
        if (load_conf(o.config_dir, &conf) < 0)
                return 1;
        if (o.socket)
                snprintf(sock, sizeof(sock), "%s", o.socket);
        else
                snprintf(sock, sizeof(sock), "%s/vnetd.sock", o.run_dir);
        umask(022);
        r = vnet_mkdir_p(o.run_dir, 0755);
        if (r < 0) {
                log_error("cannot create %s: %s", o.run_dir, strerror(-r));
                return 1;
        }
        /* Checked before any network is brought up: a vnetd that cannot listen exits
         * without having touched the host. */
        r = check_socket_path(sock);
        if (r < 0) {
                log_error("cannot listen on %s: %s", sock, strerror(-r));
                return 1;
        }
        lock = take_lock(o.run_dir);
        if (lock < 0) {
                log_error(lock == -EBUSY ? "another vnetd is running with run directory %s"
                                         : "cannot lock run directory %s",
                          o.run_dir);
                return 1;
        }
        if (!o.foreground) {
                r = daemonize(o.run_dir, &ready_fd);
                if (r < 0) {
                        log_error("cannot daemonize: %s", strerror(-r));
                        return 1;
                }
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        r = sfd < 0 ? -errno : loop_new(&l);
        if (r < 0) {
                log_error("cannot set up the event loop: %s", strerror(-r));
                goto out;
        }
        r = manager_new(&(struct manager_config){ .config_dir = o.config_dir,
                                                  .state_dir = o.state_dir,
                                                  .run_dir = o.run_dir,
                                                  .loop = l,
                                                  .zero_dhcp_checksum =
                                                          conf.zero_dhcp_checksum,
                                                  .spare_taps = conf.spare_taps },
                        &m);
        if (r < 0) {
                log_error("cannot initialise: %s", strerror(-r));
                goto out;
        }
        r = loop_add(l, sfd, EPOLLIN, on_signal, m);
        if (r < 0) {
                log_error("cannot watch signals: %s", strerror(-r));
                goto out;
        }
        /* Listening before the start-up reconcile: a VMM that goes away meanwhile is seen. */
        r = monitor_new(l, m, &mon);
        if (r < 0) {
                log_error("cannot watch links: %s", strerror(-r));
                goto out;
        }
        /* Someone else's change to table inet vnet is repaired, as a deleted bridge is. */
        r = nft_monitor_new(l, m, &nft_mon);
        if (r < 0) {
                log_error("cannot watch nftables: %s", strerror(-r));
                goto out;
        }
        r = manager_start(m);
        if (r < 0) {
                log_error("cannot bring up networks: %s", strerror(-r));
                goto out;
        }
        r = server_new(l,
                       &(struct server_config){ .path = sock,
                                                .admin_group = conf.group,
                                                .stall_timeout_ms = 5000,
                                                .max_clients = 256 },
                       methods_handle, m, &srv);
        if (r < 0) {
                log_error("cannot listen on %s: %s", sock, strerror(-r));
                goto out;
        }
        /* The socket for everyone: reading, and the bridge helper of users the networks allow,
         * without making them members of the admin group. */
        vnet_user_socket_path(sock, user_sock, sizeof(user_sock));
        r = server_new(l,
                       &(struct server_config){ .path = user_sock,
                                                .stall_timeout_ms = 5000,
                                                .max_clients = 256,
                                                .unprivileged = true },
                       methods_handle, m, &user_srv);
        if (r < 0) {
                log_error("cannot listen on %s: %s", user_sock, strerror(-r));
                goto out;
        }
        notify("READY=1\nSTATUS=Networks up; listening");
        if (ready_fd >= 0) {
                if (write(ready_fd, "", 1) != 1)
                        log_warning("cannot tell the parent process that vnetd is ready");
                close(ready_fd);
                ready_fd = -1;
        }
        log_info("ready; listening on %s", sock);
        loop_set_idle(l, on_idle, m);
        r = loop_run(l);
        notify("STOPPING=1");
out:
        server_free(user_srv);
        server_free(srv);
        nft_monitor_free(nft_mon);
        monitor_free(mon);
        manager_free(m);
        loop_free(l);
        if (sfd >= 0)
                close(sfd);
        if (ready_fd >= 0)
                close(ready_fd);
        if (!o.foreground) {
                char pidfile[4096];
                snprintf(pidfile, sizeof(pidfile), "%s/vnetd.pid", o.run_dir);
                vnet_unlink(pidfile);
        }
        if (lock >= 0)
                close(lock);
        return r < 0 ? 1 : 0;
}
