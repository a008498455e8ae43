/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The table of VMM hooks and what they share: error lines, interface names, calling vnetd. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <vnet/vnet.h>

#include "hooks.h"
#include "model.h"

static const struct hook hooks[] = {
        { "vnet-ifup", "IFNAME", hook_ifup, 2 },
        { "vnet-ifdown", "IFNAME", hook_ifdown, 2 },
        { "vnet-bridge-helper", "[--use-vnet] --br=BRIDGE --fd=FD", hook_bridge_helper, 1 },
};

const struct hook *hook_find(const char *argv0)
{
        const char *base;

        if (!argv0)
                return NULL;
        base = strrchr(argv0, '/');
        base = base ? base + 1 : argv0;
        for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++)
                if (strcmp(hooks[i].name, base) == 0)
                        return &hooks[i];
        return NULL;
}

int hook_main(const struct hook *h, int argc, char **argv)
{
        int r = h->run(h, argc, argv);

        if (r == -EINVAL)
                return h->usage_status;
        return r < 0 ? 1 : 0;
}

int hook_error(const struct hook *h, int r, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "%s: ", h->name);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return r;
}

int hook_check_ifname(const struct hook *h, const char *s, const char *field)
{
        struct vnet_err e = {};

        if (vnet_parse_ifname(s, field, &e) < 0)
                return hook_error(h, -EINVAL, "%s", e.message);
        return 0;
}

int hook_call(const struct hook *h, const char *method, json_t *params, json_t **reply,
              const char *ok_error)
{
        struct vnet_call_error err = {};
        struct vnet_client *client = NULL;
        const char *path = vnet_socket_path(NULL);
        int r;

        r = vnet_client_connect(path, &client);
        if (r < 0) {
                json_decref(params);
                hook_error(h, r, "cannot connect to vnetd at %s: %s", path, strerror(-r));
                goto out;
        }
        r = vnet_client_call(client, method, params, reply, &err);
        if (r == -EREMOTEIO && ok_error && strcmp(err.name, ok_error) == 0) {
                r = 0;
                goto out;
        }
        if (r < 0)
                hook_error(h, r, "%s", *err.message ? err.message : strerror(-r));
out:
        vnet_call_error_clear(&err);
        vnet_client_free(client);
        return r == -EINVAL ? -EIO : r;
}
