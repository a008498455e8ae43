/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The VMM hooks: vnetctl run under another name (a symlink), like busybox. QEMU's
 * script=/downscript= (vnet-ifup, vnet-ifdown) and its bridge helper (vnet-bridge-helper)
 * each talk to vnetd and nothing else; none needs privileges. */
#pragma once

#include <jansson.h>

struct hook {
        const char *name; /* the base name of argv[0] that selects it; also its error prefix */
        const char *usage;
        /* Returns 0 or -errno, having printed its one line on stderr already; -EINVAL means
         * the command line was wrong. */
        int (*run)(const struct hook *h, int argc, char **argv);
        /* Exit status for a wrong command line: 2 as in vnetctl, but the bridge helper keeps
         * qemu-bridge-helper's 1 for every failure. */
        int usage_status;
};

/* The hook that @argv0 names (by its base name), or NULL: then it is vnetctl. */
const struct hook *hook_find(const char *argv0);

/* Runs @h and returns the process's exit status. */
int hook_main(const struct hook *h, int argc, char **argv);

/* Prints "NAME: message" on stderr and returns @r. */
int hook_error(const struct hook *h, int r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Interface names are checked (15 bytes, no odd characters) before anything else happens, so
 * a bad one never reaches vnetd or a kernel call. -EINVAL with the line printed. */
int hook_check_ifname(const struct hook *h, const char *s, const char *field);

/* Calls @method on vnetd at $VNET_SOCKET or the default socket; on failure prints the one
 * line and returns -errno (never -EINVAL, which means a usage error). @params is stolen. A
 * vnetd error named @ok_error (if not NULL) counts as success: 0 with *reply NULL. */
int hook_call(const struct hook *h, const char *method, json_t *params, json_t **reply,
              const char *ok_error);

/* The hooks, in hook_script.c and hook_bridge.c. */
int hook_ifup(const struct hook *h, int argc, char **argv);
int hook_ifdown(const struct hook *h, int argc, char **argv);
int hook_bridge_helper(const struct hook *h, int argc, char **argv);
