/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libvnet client API: one call at a time over vnetd's varlink socket. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <vnet/vnet.h>

#include "varlink.h"

struct vnet_client {
        int fd; /* -1 once the connection broke: a half-read reply cannot be resynchronised */
        struct varlink_buf in;
};

void vnet_call_error_clear(struct vnet_call_error *e)
{
        if (!e)
                return;
        json_decref(e->parameters);
        *e = (struct vnet_call_error){0};
}

const char *vnet_socket_path(const char *override)
{
        const char *env;

        if (override)
                return override;
        /* secure_getenv: a privileged program linking libvnet must not let its caller's
         * environment choose whom it talks to. */
        env = secure_getenv("VNET_SOCKET");
        if (env && *env)
                return env;
        return VNET_SOCKET_DEFAULT;
}

/* A connect() interrupted by a signal goes on in the background; wait for its outcome. */
static int connect_finish(int fd)
{
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        socklen_t len = sizeof(int);
        int r, e = 0;

        do
                r = poll(&p, 1, -1);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return -errno;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
                return -errno;
        return -e;
}

void vnet_user_socket_path(const char *path, char *buf, size_t len)
{
        const char *slash = strrchr(path, '/');
        int dirlen = slash ? (int)(slash - path) : 0;

        snprintf(buf, len, "%.*s%svnetd-user.sock", dirlen, path, slash ? "/" : "");
}

static int connect_path(const char *path, int *ret)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
        if (r == -EINTR)
                r = connect_finish(fd);
        if (r < 0) {
                close(fd);
                return r;
        }
        *ret = fd;
        return 0;
}

int vnet_client_connect(const char *path, struct vnet_client **ret)
{
        struct vnet_client *c;
        char user[4096];
        int fd = -1, r;

        *ret = NULL;
        path = vnet_socket_path(path);
        r = connect_path(path, &fd);
        if (r == -EACCES) {
                vnet_user_socket_path(path, user, sizeof(user));
                if (connect_path(user, &fd) == 0)
                        r = 0;
        }
        if (r < 0)
                return r;
        c = calloc(1, sizeof(*c));
        if (!c) {
                close(fd);
                return -ENOMEM;
        }
        c->fd = fd;
        *ret = c;
        return 0;
}

void vnet_client_free(struct vnet_client *c)
{
        if (!c)
                return;
        if (c->fd >= 0)
                close(c->fd);
        varlink_buf_free(&c->in);
        free(c);
}

static void err_printf(struct vnet_call_error *e, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void err_printf(struct vnet_call_error *e, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(e->message, sizeof(e->message), fmt, ap);
        va_end(ap);
}

static const char *param_str(json_t *params, const char *key)
{
        return json_string_value(json_object_get(params, key));
}

/* For errors that carry a "message" for people: that message, else @fallback. */
static void describe_message(struct vnet_call_error *e, const char *fallback)
{
        const char *m = param_str(e->parameters, "message");

        err_printf(e, "%s", m && *m ? m : fallback);
}

static void describe_invalid_parameter(struct vnet_call_error *e)
{
        const char *p = param_str(e->parameters, "parameter");
        const char *m = param_str(e->parameters, "message");

        /* vnetd's messages already say what is invalid and why ("invalid mtu 10: ..."). */
        if (m && strncmp(m, "invalid ", 8) == 0)
                err_printf(e, "%s", m);
        else if (p && m && *m)
                err_printf(e, "invalid %s: %s", p, m);
        else if (p)
                err_printf(e, "invalid parameter '%s'", p);
        else
                describe_message(e, "invalid parameter");
}

static void describe_network_not_found(struct vnet_call_error *e)
{
        const char *n = param_str(e->parameters, "name");

        err_printf(e, "network '%s' not found", n ? n : "?");
}

static void describe_network_exists(struct vnet_call_error *e)
{
        const char *n = param_str(e->parameters, "name");

        err_printf(e, "network '%s' already exists", n ? n : "?");
}

static void describe_address_conflict(struct vnet_call_error *e)
{
        const char *p = param_str(e->parameters, "parameter");
        const char *m = param_str(e->parameters, "message");

        if (p && m && *m)
                err_printf(e, "%s: %s", p, m);
        else
                describe_message(e, "address conflict");
}

static void describe_interface_in_use(struct vnet_call_error *e)
{
        const char *i = param_str(e->parameters, "interface");
        const char *m = param_str(e->parameters, "message");

        if (m && *m)
                err_printf(e, "%s", m);
        else
                err_printf(e, "interface '%s' is in use", i ? i : "?");
}

static void describe_network_not_running(struct vnet_call_error *e)
{
        const char *n = param_str(e->parameters, "name");

        err_printf(e, "network '%s' is not running", n ? n : "?");
}

static void describe_port_not_found(struct vnet_call_error *e)
{
        const char *n = param_str(e->parameters, "network");
        const char *i = param_str(e->parameters, "ifname");

        if (n && *n)
                err_printf(e, "network '%s' has no port '%s'", n, i ? i : "?");
        else
                err_printf(e, "no port '%s'", i ? i : "?");
}

static void describe_permission_denied(struct vnet_call_error *e)
{
        describe_message(e, "permission denied");
}

static void describe_system_error(struct vnet_call_error *e)
{
        json_int_t n = json_integer_value(json_object_get(e->parameters, "errno"));

        describe_message(e, n > 0 ? strerror((int)n) : "system error");
}

static void describe_method_not_found(struct vnet_call_error *e)
{
        const char *m = param_str(e->parameters, "method");

        err_printf(e, "vnetd does not know the method '%s'", m ? m : "?");
}

static void describe_method_not_implemented(struct vnet_call_error *e)
{
        const char *m = param_str(e->parameters, "method");

        err_printf(e, "vnetd does not implement the method '%s'", m ? m : "?");
}

static void describe_interface_not_found(struct vnet_call_error *e)
{
        const char *i = param_str(e->parameters, "interface");

        err_printf(e, "vnetd does not offer the interface '%s'", i ? i : "?");
}

static const struct {
        const char *name;
        void (*describe)(struct vnet_call_error *e);
} error_table[] = {
        { VNET_INTERFACE ".InvalidParameter", describe_invalid_parameter },
        { VNET_INTERFACE ".NetworkNotFound", describe_network_not_found },
        { VNET_INTERFACE ".NetworkExists", describe_network_exists },
        { VNET_INTERFACE ".NetworkNotRunning", describe_network_not_running },
        { VNET_INTERFACE ".PortNotFound", describe_port_not_found },
        { VNET_INTERFACE ".AddressConflict", describe_address_conflict },
        { VNET_INTERFACE ".InterfaceInUse", describe_interface_in_use },
        { VNET_INTERFACE ".PermissionDenied", describe_permission_denied },
        { VNET_INTERFACE ".SystemError", describe_system_error },
        { "org.varlink.service.InvalidParameter", describe_invalid_parameter },
        { "org.varlink.service.MethodNotFound", describe_method_not_found },
        { "org.varlink.service.MethodNotImplemented", describe_method_not_implemented },
        { "org.varlink.service.InterfaceNotFound", describe_interface_not_found },
};

static void describe_error(struct vnet_call_error *e)
{
        char *json;

        for (size_t i = 0; i < sizeof(error_table) / sizeof(error_table[0]); i++)
                if (strcmp(e->name, error_table[i].name) == 0) {
                        error_table[i].describe(e);
                        return;
                }
        json = json_dumps(e->parameters, JSON_COMPACT | JSON_SORT_KEYS);
        err_printf(e, "%s %s", e->name, json ? json : "{}");
        free(json);
}

static int send_all(int fd, const char *data, size_t len)
{
        while (len > 0) {
                /* MSG_NOSIGNAL: a vnetd that went away must not kill the calling program. */
                ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                data += n;
                len -= n;
        }
        return 0;
}

/* At most this many descriptors are taken from one read; the kernel drops (closes) any more
 * that do not fit, so a peer cannot make us hold descriptors we never asked for. */
#define CLIENT_FDS_MAX 4

/* Keeps the first descriptor received in *fd (if @fd, and none is held yet) and closes every
 * other: a reply carries at most one, and whatever else arrives must not leak. */
static void take_fds(struct msghdr *mh, int *fd)
{
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
                size_t n;

                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        int got;

                        memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
                        if (fd && *fd < 0)
                                *fd = got;
                        else
                                close(got);
                }
        }
}

/* Reads until one whole message is held. With @fd, a descriptor that comes with the message's
 * bytes is stored there (it stays -1 if none came); without, any descriptor is closed. */
static int recv_message(struct vnet_client *c, json_t **msg, int *fd)
{
        char chunk[16384]; /* callers' threads may have small stacks */
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(CLIENT_FDS_MAX * sizeof(int))];
        } control;
        int r;

        for (;;) {
                struct iovec iov = { .iov_base = chunk, .iov_len = sizeof(chunk) };
                struct msghdr mh = {
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof(control.buf),
                };
                ssize_t n;

                r = varlink_buf_next(&c->in, msg);
                if (r != 0)
                        return r;
                /* MSG_CMSG_CLOEXEC: a TAP fd must not leak into programs the caller runs. */
                n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                take_fds(&mh, fd);
                if (n == 0)
                        return -ECONNRESET;
                r = varlink_buf_append(&c->in, chunk, n);
                if (r < 0)
                        return r;
        }
}

/* Fills *params from a reply or error; 0, or -EBADMSG for a reply that is not varlink. */
static int reply_parameters(json_t *msg, json_t **params)
{
        json_t *p = json_object_get(msg, "parameters");

        if (!p)
                p = json_object();
        else if (json_is_object(p))
                json_incref(p);
        else
                return -EBADMSG;
        if (!p)
                return -ENOMEM;
        *params = p;
        return 0;
}

static void describe_io_error(struct vnet_call_error *e, int r)
{
        switch (r) {
        case -EMSGSIZE:
                err_printf(e, "the reply from vnetd exceeds %d bytes", VARLINK_MSG_MAX);
                break;
        case -EBADMSG:
                err_printf(e, "vnetd sent a malformed reply");
                break;
        case -ECONNRESET:
        case -EPIPE:
                err_printf(e, "vnetd closed the connection");
                break;
        case -ENOTCONN:
                err_printf(e, "the connection to vnetd was lost in an earlier call");
                break;
        default:
                err_printf(e, "talking to vnetd: %s", strerror(-r));
                break;
        }
}

/* The one implementation of a call; @fd NULL: the reply carries no descriptor. */
static int client_call(struct vnet_client *c, const char *method, json_t *params, json_t **reply,
                       int *fd, struct vnet_call_error *err)
{
        struct vnet_call_error dummy = {0};
        json_t *call = NULL, *msg = NULL, *e;
        char *data = NULL;
        size_t len;
        int r;

        /* Reusing one error struct across calls must not leak the previous parameters. */
        if (!err)
                err = &dummy;
        vnet_call_error_clear(err);
        if (reply)
                *reply = NULL;
        if (fd)
                *fd = -1;
        if (!c || !method || !reply || (params && !json_is_object(params))) {
                err_printf(err, "invalid arguments to %s%s",
                           fd ? "vnet_client_call_fd" : "vnet_client_call",
                           params && !json_is_object(params) ? ": parameters must be an object"
                                                             : "");
                json_decref(params);
                r = -EINVAL;
                goto out;
        }
        if (c->fd < 0) {
                json_decref(params);
                r = -ENOTCONN;
                goto io_fail;
        }
        call = varlink_call_new(method, params, false);
        if (!call) {
                r = -ENOMEM;
                err_printf(err, "cannot build the call to %s", method);
                goto out;
        }
        r = varlink_encode(call, &data, &len);
        if (r < 0) {
                err_printf(err, "cannot encode the call to %s: %s", method,
                           r == -EMSGSIZE ? "too large" : strerror(-r));
                goto out;
        }
        r = send_all(c->fd, data, len);
        if (r < 0)
                goto broken;
        r = recv_message(c, &msg, fd);
        if (r < 0)
                goto broken;

        e = json_object_get(msg, "error");
        if (e) {
                const char *name = json_string_value(e);

                r = name ? reply_parameters(msg, &err->parameters) : -EBADMSG;
                if (r < 0)
                        goto broken;
                snprintf(err->name, sizeof(err->name), "%s", name);
                describe_error(err);
                r = -EREMOTEIO;
                goto out;
        }
        r = reply_parameters(msg, reply);
        if (r < 0)
                goto broken;
        goto out;

broken:
        close(c->fd);
        c->fd = -1;
io_fail:
        describe_io_error(err, r);
out:
        /* Only a successful reply hands its descriptor to the caller. */
        if (r < 0 && fd && *fd >= 0) {
                close(*fd);
                *fd = -1;
        }
        json_decref(msg);
        json_decref(call);
        free(data);
        vnet_call_error_clear(&dummy);
        return r;
}

int vnet_client_call(struct vnet_client *c, const char *method, json_t *params, json_t **reply,
                     struct vnet_call_error *err)
{
        return client_call(c, method, params, reply, NULL, err);
}

int vnet_client_call_fd(struct vnet_client *c, const char *method, json_t *params,
                        json_t **reply, int *fd, struct vnet_call_error *err)
{
        if (!fd) {
                json_decref(params);
                if (reply)
                        *reply = NULL;
                if (err) {
                        vnet_call_error_clear(err);
                        err_printf(err, "invalid arguments to vnet_client_call_fd");
                }
                return -EINVAL;
        }
        return client_call(c, method, params, reply, fd, err);
}
