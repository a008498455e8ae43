/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket: accepts varlink clients, frames their messages, identifies them with
 * SO_PEERCRED, and drops the ones that misbehave without affecting anyone else. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <vnet/vnet.h>

#include "log.h"
#include "nss.h"
#include "server.h"
#include "varlink.h"

#define SERVER_READ_CHUNK 65536
/* Calls handled per client per loop round, so that one client pipelining many calls takes
 * turns with the others instead of holding the loop. */
#define SERVER_BATCH 16
/* Replies queued for a client beyond this mean it is not reading them. */
#define SERVER_OUT_MAX (2 * (size_t)VARLINK_MSG_MAX)
#define SERVER_STALL_DEFAULT_MS 5000
#define SERVER_MAX_CLIENTS_DEFAULT 128
#define SERVER_ACCEPT_BATCH 32

struct conn {
        struct server *s;
        struct conn *prev, *next;
        int fd;
        struct server_peer peer;
        struct varlink_buf in;
        uint64_t partial_since; /* ms: when the pending partial message began to arrive */
        char *out;
        size_t out_off, out_len, out_cap; /* unsent bytes: out[out_off .. out_len) */
        uint64_t out_since; /* ms: last progress writing while output is pending */
        uint32_t events;
        bool eof;
        const char *why; /* reason to log when dropping; NULL drops quietly */
        int pass_fd;     /* a descriptor the handler sends with its reply, or -1 */
};

struct server {
        struct loop *loop;
        int fd;
        char *path;
        bool bound;
        dev_t dev;
        ino_t ino;
        bool have_admin;
        bool unprivileged; /* the socket for everyone: nobody is privileged on it */
        gid_t admin_gid;
        unsigned stall_ms;
        unsigned max_clients;
        server_handler_fn fn;
        void *userdata;
        struct conn *conns;
        unsigned n_conns;
        bool accept_paused;
        bool refusing; /* at max_clients; refusals are logged once per episode */
        bool timer;      /* the tick runs: only while there is something to watch */
        unsigned tick_ms;
};

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool conn_backlog(const struct conn *c)
{
        return c->in.len > c->in.tail; /* a complete message is held */
}

static size_t conn_out_pending(const struct conn *c)
{
        return c->out_len - c->out_off;
}

static void server_tick(struct loop *l, void *userdata);

/* The stall checks and the resumption of accept() need the tick; an idle daemon (no client,
 * accepting) sleeps until something happens. */
static void server_timer_update(struct server *s)
{
        bool want = s->n_conns > 0 || s->accept_paused;
        int r;

        if (want == s->timer)
                return;
        if (!want) {
                loop_del_timer(s->loop, server_tick, s);
                s->timer = false;
                return;
        }
        r = loop_add_timer(s->loop, s->tick_ms, server_tick, s);
        if (r < 0)
                log_error("cannot watch clients for stalls: %s", strerror(-r));
        else
                s->timer = true;
}

static void conn_drop(struct conn *c)
{
        struct server *s = c->s;

        /* Replies to the calls before the offence are owed; one try, without waiting. */
        if (c->out_len > c->out_off)
                (void)send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                           MSG_DONTWAIT | MSG_NOSIGNAL);
        if (c->why)
                log_warning("dropping client pid %d: %s", (int)c->peer.pid, c->why);
        if (c->pass_fd >= 0)
                close(c->pass_fd);
        loop_del(s->loop, c->fd);
        close(c->fd);
        if (c->prev)
                c->prev->next = c->next;
        else
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_conns--;
        varlink_buf_free(&c->in);
        free(c->out);
        free(c);
        server_timer_update(s);
}

static void conn_update_events(struct conn *c)
{
        uint32_t want = 0;

        /* While a complete message waits, reading more would only grow the buffer; the
         * writable event doubles as "continue with the next batch" and stops when the client
         * stops reading its replies. */
        if (!conn_backlog(c) && !c->eof)
                want |= EPOLLIN;
        if (conn_out_pending(c) > 0 || conn_backlog(c))
                want |= EPOLLOUT;
        if (want != c->events && loop_mod(c->s->loop, c->fd, want) == 0)
                c->events = want;
}

static int conn_flush(struct conn *c)
{
        while (conn_out_pending(c) > 0) {
                ssize_t n = send(c->fd, c->out + c->out_off, conn_out_pending(c),
                                 MSG_DONTWAIT | MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        if (errno != EPIPE && errno != ECONNRESET)
                                c->why = "write failed";
                        return -errno;
                }
                c->out_off += n;
                c->out_since = now_ms();
        }
        c->out_off = c->out_len = 0;
        /* Give back the memory of an occasional large reply. */
        if (c->out_cap > SERVER_READ_CHUNK) {
                free(c->out);
                c->out = NULL;
                c->out_cap = 0;
        }
        return 0;
}

static int conn_queue(struct conn *c, json_t *reply)
{
        char *data = NULL;
        size_t len;
        int r;

        r = varlink_encode(reply, &data, &len);
        if (r == -EMSGSIZE) {
                json_t *e = varlink_error_new(VNET_INTERFACE ".SystemError",
                                              json_pack("{s:i,s:s}", "errno", EMSGSIZE,
                                                        "message", "the reply is too large"));

                log_error("reply to client pid %d exceeds %d bytes", (int)c->peer.pid,
                          VARLINK_MSG_MAX);
                r = e ? varlink_encode(e, &data, &len) : -ENOMEM;
                json_decref(e);
        }
        if (r < 0) {
                c->why = "cannot encode a reply";
                goto out;
        }
        if (conn_out_pending(c) + len > SERVER_OUT_MAX) {
                c->why = "too many replies queued: not reading them";
                r = -ENOBUFS;
                goto out;
        }
        if (conn_out_pending(c) == 0)
                c->out_since = now_ms();
        if (c->out_off > 0) {
                memmove(c->out, c->out + c->out_off, conn_out_pending(c));
                c->out_len -= c->out_off;
                c->out_off = 0;
        }
        if (c->out_len + len > c->out_cap) {
                size_t cap = c->out_cap ? c->out_cap : 4096;
                char *n;

                while (cap < c->out_len + len)
                        cap *= 2;
                n = realloc(c->out, cap);
                if (!n) {
                        c->why = "out of memory";
                        r = -ENOMEM;
                        goto out;
                }
                c->out = n;
                c->out_cap = cap;
        }
        memcpy(c->out + c->out_len, data, len);
        c->out_len += len;
out:
        free(data);
        return r;
}

static bool peer_in_group(int fd, gid_t gid);

static struct conn *conn_of(const struct server_peer *peer)
{
        return (struct conn *)((char *)peer - offsetof(struct conn, peer));
}

void server_reply_fd(const struct server_peer *peer, int fd)
{
        struct conn *c = conn_of(peer);

        if (c->pass_fd >= 0)
                close(c->pass_fd);
        c->pass_fd = fd;
}

bool server_peer_in_group(const struct server_peer *peer, gid_t gid)
{
        return peer->gid == gid || peer_in_group(conn_of(peer)->fd, gid);
}

/* A reply that carries a descriptor: the descriptor must travel with the reply's first byte,
 * so whatever is queued goes first and the reply is sent at once; a client that has not read
 * its earlier replies by then gets no descriptor. */
static int conn_send_with_fd(struct conn *c, json_t *reply)
{
        char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
        struct iovec iov;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                             .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        char *data = NULL;
        size_t len;
        ssize_t n;
        int r, fd = c->pass_fd;

        c->pass_fd = -1;
        r = conn_flush(c);
        if (r == 0 && conn_out_pending(c) > 0)
                r = -EAGAIN;
        if (r == 0)
                r = varlink_encode(reply, &data, &len);
        if (r < 0) {
                c->why = "cannot send a descriptor: replies not read";
                goto out;
        }
        iov = (struct iovec){ .iov_base = data, .iov_len = len };
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        do
                n = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                r = -errno;
                c->why = "cannot send a descriptor";
                goto out;
        }
        /* The descriptor went with the first byte; the rest, if any, is ordinary output. */
        if ((size_t)n < len) {
                if (c->out_len + (len - n) > c->out_cap) {
                        char *p = realloc(c->out, c->out_len + (len - n));
                        if (!p) {
                                r = -ENOMEM;
                                goto out;
                        }
                        c->out = p;
                        c->out_cap = c->out_len + (len - n);
                }
                memcpy(c->out + c->out_len, data + n, len - n);
                c->out_len += len - n;
                c->out_since = now_ms();
        }
out:
        free(data);
        close(fd);
        return r;
}

static json_t *invalid_parameter(const char *name)
{
        return varlink_error_new("org.varlink.service.InvalidParameter",
                                 json_pack("{s:s}", "parameter", name));
}

static int conn_handle(struct conn *c, json_t *msg)
{
        json_t *method = json_object_get(msg, "method");
        json_t *params = json_object_get(msg, "parameters");
        bool oneway = json_is_true(json_object_get(msg, "oneway"));
        json_t *reply, *empty = NULL;
        int r = 0;

        if (!json_is_string(method)) {
                reply = invalid_parameter("method");
        } else if (params && !json_is_object(params)) {
                reply = invalid_parameter("parameters");
        } else {
                /* Handlers always get an object, so they need not check for a missing one. */
                if (!params)
                        params = empty = json_object();
                reply = params ? c->s->fn(c->s->userdata, &c->peer,
                                          json_string_value(method), params)
                               : NULL;
        }
        if (reply && !oneway && c->pass_fd >= 0)
                r = conn_send_with_fd(c, reply);
        else if (reply && !oneway)
                r = conn_queue(c, reply);
        if (c->pass_fd >= 0) { /* a oneway call, or no reply: nobody to give it to */
                close(c->pass_fd);
                c->pass_fd = -1;
        }
        json_decref(reply);
        json_decref(empty);
        return r;
}

static int conn_process(struct conn *c)
{
        bool had_backlog = conn_backlog(c);

        for (int i = 0; i < SERVER_BATCH; i++) {
                json_t *msg;
                int r;

                r = varlink_buf_next(&c->in, &msg);
                if (r == 0)
                        break;
                if (r < 0) {
                        c->why = "malformed message";
                        return r;
                }
                r = conn_handle(c, msg);
                json_decref(msg);
                if (r < 0)
                        return r;
        }
        /* The rest of a partial message may have waited in the socket while we held a backlog;
         * its time starts when we read again. */
        if (had_backlog && !conn_backlog(c) && varlink_buf_partial(&c->in))
                c->partial_since = now_ms();
        return 0;
}

static int conn_read(struct conn *c)
{
        char buf[SERVER_READ_CHUNK];
        bool was_partial = varlink_buf_partial(&c->in);
        ssize_t n;
        int r;

        n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return 0;
                if (errno != ECONNRESET)
                        c->why = "read failed";
                return -errno;
        }
        if (n == 0) {
                c->eof = true;
                return 0;
        }
        r = varlink_buf_append(&c->in, buf, n);
        if (r < 0) {
                c->why = r == -EMSGSIZE ? "message too large" : "out of memory";
                return r;
        }
        if (varlink_buf_partial(&c->in) && (!was_partial || memchr(buf, 0, n)))
                c->partial_since = now_ms();
        return 0;
}

static void conn_io(struct loop *l, int fd, uint32_t events, void *userdata)
{
        struct conn *c = userdata;
        int r;

        (void)l;
        (void)fd;
        if (events & EPOLLOUT) {
                r = conn_flush(c);
                if (r < 0)
                        goto drop;
        }
        /* EPOLLHUP comes with data still to read (a oneway call, then close): read it. */
        if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !conn_backlog(c) && !c->eof) {
                r = conn_read(c);
                if (r < 0)
                        goto drop;
        }
        r = conn_process(c);
        if (r < 0)
                goto drop;
        r = conn_flush(c);
        if (r < 0)
                goto drop;
        if (c->eof && !conn_backlog(c) && conn_out_pending(c) == 0)
                goto drop;
        conn_update_events(c);
        return;
drop:
        conn_drop(c);
}

static bool peer_in_group(int fd, gid_t gid)
{
        gid_t small[64], *groups = small;
        socklen_t len = sizeof(small);
        bool found = false;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
                /* ERANGE reports the size needed in len. */
                if (errno != ERANGE)
                        return false;
                groups = malloc(len);
                if (!groups)
                        return false;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
                        goto out;
        }
        for (size_t i = 0; i < len / sizeof(gid_t); i++)
                if (groups[i] == gid) {
                        found = true;
                        break;
                }
out:
        if (groups != small)
                free(groups);
        return found;
}

static int conn_new(struct server *s, int fd)
{
        struct ucred uc;
        socklen_t len = sizeof(uc);
        struct conn *c;
        int r;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
                return -errno;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->s = s;
        c->fd = fd;
        c->pass_fd = -1;
        c->peer.pid = uc.pid;
        c->peer.uid = uc.uid;
        c->peer.gid = uc.gid;
        c->peer.privileged = !s->unprivileged &&
                             (uc.uid == 0 || (s->have_admin &&
                              (uc.gid == s->admin_gid || peer_in_group(fd, s->admin_gid))));
        c->events = EPOLLIN;
        r = loop_add(s->loop, fd, c->events, conn_io, c);
        if (r < 0) {
                free(c);
                return r;
        }
        c->next = s->conns;
        if (s->conns)
                s->conns->prev = c;
        s->conns = c;
        s->n_conns++;
        server_timer_update(s);
        return 0;
}

static void server_pause_accept(struct server *s, bool pause)
{
        if (loop_mod(s->loop, s->fd, pause ? 0 : EPOLLIN) == 0)
                s->accept_paused = pause;
        server_timer_update(s);
}

static void server_accept(struct loop *l, int fd, uint32_t events, void *userdata)
{
        struct server *s = userdata;

        (void)l;
        (void)events;
        for (int i = 0; i < SERVER_ACCEPT_BATCH; i++) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                int r;

                if (cfd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        if (errno == EAGAIN)
                                return;
                        /* Out of descriptors or memory: the listening socket stays readable,
                         * so stop watching it until the next tick instead of spinning. */
                        log_error("accept: %s", strerror(errno));
                        server_pause_accept(s, true);
                        return;
                }
                if (s->n_conns >= s->max_clients) {
                        if (!s->refusing)
                                log_warning("refusing clients: %u connected", s->n_conns);
                        s->refusing = true;
                        close(cfd);
                        continue;
                }
                s->refusing = false;
                r = conn_new(s, cfd);
                if (r < 0) {
                        log_error("cannot accept a client: %s", strerror(-r));
                        close(cfd);
                }
        }
}

static void server_tick(struct loop *l, void *userdata)
{
        struct server *s = userdata;
        uint64_t now = now_ms();
        struct conn *c, *next;

        (void)l;
        for (c = s->conns; c; c = next) {
                next = c->next;
                if (varlink_buf_partial(&c->in) && !conn_backlog(c) && !c->eof &&
                    now - c->partial_since >= s->stall_ms) {
                        c->why = "stalled in the middle of a message";
                        conn_drop(c);
                } else if (conn_out_pending(c) > 0 && now - c->out_since >= s->stall_ms) {
                        c->why = "not reading its replies";
                        conn_drop(c);
                }
        }
        if (s->accept_paused)
                server_pause_accept(s, false);
}

/* 1 and *gid when the group exists, 0 when it does not, or -errno. */
/* Replaces a socket left by a vnetd that is gone; refuses to replace a live one, or a file
 * that is not a socket. */
static int remove_stale(const struct sockaddr_un *sa)
{
        struct stat st;
        int fd, r;

        if (lstat(sa->sun_path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ? -errno : 0;
        close(fd);
        if (r == 0 || r == -EAGAIN)
                return -EADDRINUSE;
        if (r != -ECONNREFUSED && r != -ENOENT)
                return r;
        if (unlink(sa->sun_path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int server_new(struct loop *l, const struct server_config *cfg, server_handler_fn fn,
               void *userdata, struct server **ret)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct server *s = NULL;
        struct stat st;
        unsigned tick;
        int r;

        *ret = NULL;
        if (!l || !cfg || !cfg->path || !fn)
                return -EINVAL;
        if (strlen(cfg->path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, cfg->path, strlen(cfg->path) + 1);

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->loop = l;
        s->fd = -1;
        s->fn = fn;
        s->userdata = userdata;
        s->stall_ms = cfg->stall_timeout_ms ? cfg->stall_timeout_ms : SERVER_STALL_DEFAULT_MS;
        s->max_clients = cfg->max_clients ? cfg->max_clients : SERVER_MAX_CLIENTS_DEFAULT;
        s->path = strdup(cfg->path);
        if (!s->path) {
                r = -ENOMEM;
                goto fail;
        }
        s->unprivileged = cfg->unprivileged;
        if (!cfg->unprivileged && cfg->admin_group && *cfg->admin_group) {
                r = vnet_group_by_name(cfg->admin_group, &s->admin_gid);
                if (r < 0)
                        goto fail;
                s->have_admin = r > 0;
        }

        r = remove_stale(&sa);
        if (r < 0)
                goto fail;
        s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s->fd < 0) {
                r = -errno;
                goto fail;
        }
        if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = -errno;
                goto fail;
        }
        if (lstat(s->path, &st) < 0) {
                r = -errno;
                goto fail;
        }
        s->bound = true;
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        /* Permissions are final before listen(): until then nobody can connect. */
        if (s->have_admin && chown(s->path, (uid_t)-1, s->admin_gid) < 0) {
                r = -errno;
                goto fail;
        }
        if (chmod(s->path, cfg->unprivileged ? 0666 : 0660) < 0) {
                r = -errno;
                goto fail;
        }
        if (listen(s->fd, SOMAXCONN) < 0) {
                r = -errno;
                goto fail;
        }
        r = loop_add(l, s->fd, EPOLLIN, server_accept, s);
        if (r < 0)
                goto fail;
        /* Checked several times per timeout, so a stalled client goes within ~1.25 of it. */
        tick = s->stall_ms / 4;
        s->tick_ms = tick < 10 ? 10 : tick > 250 ? 250 : tick;
        *ret = s;
        return 0;
fail:
        server_free(s);
        return r;
}

void server_free(struct server *s)
{
        struct stat st;

        if (!s)
                return;
        while (s->conns) {
                s->conns->why = NULL;
                conn_drop(s->conns);
        }
        if (s->timer)
                loop_del_timer(s->loop, server_tick, s);
        if (s->fd >= 0) {
                loop_del(s->loop, s->fd); /* -ENOENT when it never got that far */
                close(s->fd);
        }
        /* Only our own socket: another vnetd may have replaced it meanwhile. */
        if (s->bound && lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
                unlink(s->path);
        free(s->path);
        free(s);
}
