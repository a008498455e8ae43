/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vnetctl attach, detach and ports: a network's guest ports. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nss.h"
#include "render.h"

static const struct cli_option attach_options[] = {
        { "ifname" },
        { "mac" },
        /* Names or ids as given: vnetd resolves them, in its own view of the users. */
        { "owner" },
        { "group" },
        { "queues", NULL, CLI_VALUE_INT },
        /* A reservation for the guest's MAC, made with the port so the VM boots with it. */
        { "ip" },
        { "hostname" },
};

int cmd_attach(struct cli *cli, int argc, char **argv)
{
        static const char *const names[] = { "NETWORK" };
        json_t *params, *reply = NULL;
        char *network;
        int r;

        params = json_object();
        if (!params)
                return cli_oom();
        r = cli_parse_options(cli, argc, argv, attach_options,
                              CLI_NELEMS(attach_options), params, names,
                              1, &network);
        if (r <= 0)
                goto out;
        r = cli_set_string(cli, params, "network", network, "NETWORK");
        if (r < 0)
                goto out;
        r = cli_call(cli, "io.vnet.AttachPort", json_incref(params), &reply);
        if (r < 0)
                goto out;
        r = cli_print(cli, reply, "port", render_port_attached);
out:
        json_decref(reply);
        json_decref(params);
        return r;
}

int cmd_detach(struct cli *cli, int argc, char **argv)
{
        static const char *const names[] = { "NETWORK", "IFNAME" };
        json_t *params, *reply = NULL;
        char *arg[2];
        int r;

        r = cli_parse_positional(cli, argc, argv, names, 2, arg);
        if (r <= 0)
                return r;
        params = json_pack("{s:s, s:s}", "network", arg[0], "ifname", arg[1]);
        if (!params)
                return cli_usage_error(cli, "arguments must be valid UTF-8");
        r = cli_call(cli, "io.vnet.DetachPort", params, &reply);
        if (r < 0)
                return r;
        r = cli_output(cli->json ? render_json(stdout, reply)
                                 : render_port_detached(stdout, arg[0], arg[1]));
        json_decref(reply);
        return r;
}

static const char *port_user_name(long uid, char *buf, size_t size)
{
        return vnet_user_name((uid_t)uid, buf, size) > 0 ? buf : NULL;
}

static const char *port_group_name(long gid, char *buf, size_t size)
{
        return vnet_group_name((gid_t)gid, buf, size) > 0 ? buf : NULL;
}

static int port_table_text(FILE *f, const json_t *ports)
{
        static const struct render_names nss = { port_user_name, port_group_name };

        return render_port_table(f, ports, &nss);
}

int cmd_ports(struct cli *cli, int argc, char **argv)
{
        return cli_list(cli, argc, argv, true, "io.vnet.ListPorts", "ports", port_table_text,
                        NULL);
}
