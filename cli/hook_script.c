/* SPDX-License-Identifier: GPL-2.0-or-later */
/* QEMU's script= and downscript= hooks. QEMU passes only the interface name, so the network
 * and the MAC come from the port's reservation in vnetd, else from $VNET_NETWORK and
 * $VNET_MAC (QEMU passes its environment through). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"

/* Exactly one argument, the interface name, checked before anything else. Returns 1 with it
 * in *ifname, 0 after --help, or -EINVAL. */
static int script_parse(const struct hook *h, int argc, char **argv, const char **ifname)
{
        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                printf("usage: %s %s\n", h->name, h->usage);
                return 0;
        }
        if (argc < 2)
                return hook_error(h, -EINVAL, "missing IFNAME (usage: %s %s)", h->name,
                                  h->usage);
        if (argc > 2)
                return hook_error(h, -EINVAL, "unexpected argument '%s' (usage: %s %s)",
                                  argv[2], h->name, h->usage);
        if (hook_check_ifname(h, argv[1], "IFNAME") < 0)
                return -EINVAL;
        *ifname = argv[1];
        return 1;
}

/* An environment variable that is set and not empty, or NULL. */
static const char *script_env(const char *name)
{
        const char *v = getenv(name);

        return v && *v ? v : NULL;
}

static int script_param(const struct hook *h, json_t *params, const char *key, const char *value,
                        const char *source)
{
        if (!value)
                return 0;
        if (json_object_set_new(params, key, json_string(value)) < 0)
                return hook_error(h, -EINVAL, "invalid %s: not valid UTF-8", source);
        return 0;
}

/* Parses IFNAME, adds $VNET_NETWORK and $VNET_MAC if @env, calls @method; @ok_error is an
 * error that counts as success. */
static int script_run(const struct hook *h, int argc, char **argv, const char *method,
                      bool env, const char *ok_error)
{
        json_t *params, *reply = NULL;
        const char *ifname = NULL;
        int r;

        r = script_parse(h, argc, argv, &ifname);
        if (r <= 0)
                return r;
        params = json_pack("{s:s}", "ifname", ifname);
        if (!params)
                return hook_error(h, -ENOMEM, "%s", strerror(ENOMEM));
        /* Values are vnetd's to validate: it names the field it refuses. */
        if (env) {
                r = script_param(h, params, "network", script_env("VNET_NETWORK"),
                                 "$VNET_NETWORK");
                if (r == 0)
                        r = script_param(h, params, "mac", script_env("VNET_MAC"), "$VNET_MAC");
                if (r < 0) {
                        json_decref(params);
                        return r;
                }
        }
        r = hook_call(h, method, params, &reply, ok_error);
        json_decref(reply);
        return r;
}

int hook_ifup(const struct hook *h, int argc, char **argv)
{
        return script_run(h, argc, argv, "io.vnet.PortUp", true, NULL);
}

int hook_ifdown(const struct hook *h, int argc, char **argv)
{
        /* A downscript's goal is "not a port any more": an interface vnetd does not know as a
         * port has reached it (and QEMU could do nothing about it anyway). */
        return script_run(h, argc, argv, "io.vnet.PortDown", false, "io.vnet.PortNotFound");
}
