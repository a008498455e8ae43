/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libvnet client API for guest ports: AttachPort, DetachPort and OpenTap in one call each,
 * with the reply's Port object turned into a struct vnet_port_info. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <vnet/vnet.h>

static int port_error(struct vnet_call_error *err, int r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Sets a local failure in @err (which may be NULL) and returns @r. */
static int port_error(struct vnet_call_error *err, int r, const char *fmt, ...)
{
        va_list ap;

        if (!err)
                return r;
        vnet_call_error_clear(err);
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
        return r;
}

/* Adds @key to @params unless @value is NULL; -EINVAL for a string that is not UTF-8. */
static int port_param_str(json_t *params, const char *key, const char *value,
                          struct vnet_call_error *err)
{
        if (!value)
                return 0;
        if (json_object_set_new(params, key, json_string(value)) < 0)
                return port_error(err, -EINVAL, "invalid %s: not valid UTF-8", key);
        return 0;
}

static int port_copy_str(const json_t *port, const char *key, char *buf, size_t size,
                         struct vnet_call_error *err)
{
        const char *s = json_string_value(json_object_get(port, key));

        if (!s || strlen(s) >= size)
                return port_error(err, -EBADMSG, "vnetd sent a malformed port: bad '%s'", key);
        memcpy(buf, s, strlen(s) + 1);
        return 0;
}

/* owner and group are optional in a Port: absent or null is -1. */
static int port_copy_id(const json_t *port, const char *key, long *out,
                        struct vnet_call_error *err)
{
        const json_t *v = json_object_get(port, key);

        if (!v || json_is_null(v)) {
                *out = -1;
                return 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > 0xffffffffLL)
                return port_error(err, -EBADMSG, "vnetd sent a malformed port: bad '%s'", key);
        *out = (long)json_integer_value(v);
        return 0;
}

/* Fills @out from @reply's "port" (see io.vnet.Port); -EBADMSG for a reply that lacks a field
 * the struct needs or has one that does not fit, with @err saying which. */
static int port_info_from_reply(const json_t *reply, struct vnet_port_info *out,
                                struct vnet_call_error *err)
{
        const json_t *port = json_object_get(reply, "port");
        struct vnet_port_info p = {};
        const json_t *v;
        int r;

        if (!json_is_object(port))
                return port_error(err, -EBADMSG, "vnetd sent a malformed reply: no 'port'");
        r = port_copy_str(port, "network", p.network, sizeof(p.network), err);
        if (r == 0)
                r = port_copy_str(port, "ifname", p.ifname, sizeof(p.ifname), err);
        if (r == 0)
                r = port_copy_str(port, "mac", p.mac, sizeof(p.mac), err);
        if (r == 0)
                r = port_copy_str(port, "state", p.state, sizeof(p.state), err);
        if (r == 0)
                r = port_copy_id(port, "owner", &p.owner, err);
        if (r == 0)
                r = port_copy_id(port, "group", &p.group, err);
        if (r < 0)
                return r;
        v = json_object_get(port, "queues");
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > 0xffffLL)
                return port_error(err, -EBADMSG, "vnetd sent a malformed port: bad 'queues'");
        p.queues = (unsigned)json_integer_value(v);
        v = json_object_get(port, "adopted");
        if (!json_is_boolean(v))
                return port_error(err, -EBADMSG, "vnetd sent a malformed port: bad 'adopted'");
        p.adopted = json_is_true(v);
        if (out)
                *out = p;
        return 0;
}

int vnet_port_attach(struct vnet_client *c, const struct vnet_port_request *req,
                     struct vnet_port_info *out, struct vnet_call_error *err)
{
        json_t *params = NULL, *reply = NULL;
        int r;

        if (!c || !req || !req->network) {
                r = port_error(err, -EINVAL, "invalid arguments to vnet_port_attach");
                goto out;
        }
        params = json_object();
        if (!params) {
                r = port_error(err, -ENOMEM, "%s", strerror(ENOMEM));
                goto out;
        }
        r = port_param_str(params, "network", req->network, err);
        if (r == 0)
                r = port_param_str(params, "ifname", req->ifname, err);
        if (r == 0)
                r = port_param_str(params, "mac", req->mac, err);
        if (r == 0)
                r = port_param_str(params, "owner", req->owner, err);
        if (r == 0)
                r = port_param_str(params, "group", req->group, err);
        if (r == 0 && req->queues > 0 &&
            json_object_set_new(params, "queues", json_integer(req->queues)) < 0)
                r = port_error(err, -ENOMEM, "%s", strerror(ENOMEM));
        if (r < 0)
                goto out;
        r = vnet_client_call(c, VNET_INTERFACE ".AttachPort", params, &reply, err);
        params = NULL; /* stolen */
        if (r < 0)
                goto out;
        r = port_info_from_reply(reply, out, err);
out:
        json_decref(params);
        json_decref(reply);
        return r;
}

int vnet_port_detach(struct vnet_client *c, const char *network, const char *ifname,
                     struct vnet_call_error *err)
{
        json_t *params, *reply = NULL;
        int r;

        if (!c || !network || !ifname)
                return port_error(err, -EINVAL, "invalid arguments to vnet_port_detach");
        params = json_pack("{s:s, s:s}", "network", network, "ifname", ifname);
        if (!params)
                return port_error(err, -EINVAL, "invalid network or ifname: not valid UTF-8");
        r = vnet_client_call(c, VNET_INTERFACE ".DetachPort", params, &reply, err);
        json_decref(reply);
        return r;
}

int vnet_tap_open(struct vnet_client *c, const char *bridge, int vnet_hdr, int *fd,
                  struct vnet_port_info *out, struct vnet_call_error *err)
{
        json_t *params, *reply = NULL;
        int tap = -1, r;

        if (fd)
                *fd = -1;
        if (!c || !bridge || !fd)
                return port_error(err, -EINVAL, "invalid arguments to vnet_tap_open");
        params = json_pack("{s:s, s:b}", "bridge", bridge, "vnet_hdr", vnet_hdr != 0);
        if (!params)
                return port_error(err, -EINVAL, "invalid bridge: not valid UTF-8");
        r = vnet_client_call_fd(c, VNET_INTERFACE ".OpenTap", params, &reply, &tap, err);
        if (r < 0)
                goto out;
        /* The reply is only half an answer without its descriptor. */
        if (tap < 0) {
                r = port_error(err, -EBADMSG, "vnetd's reply to OpenTap carried no descriptor");
                goto out;
        }
        r = port_info_from_reply(reply, out, err);
        if (r < 0)
                goto out;
        *fd = tap;
        tap = -1;
out:
        if (tap >= 0)
                close(tap);
        json_decref(reply);
        return r;
}
