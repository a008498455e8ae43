/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verbs that act on a network by name, and list. */
#include <errno.h>
#include <stdio.h>

#include "cli.h"
#include "render.h"

/* @params is NULL only when json_pack() refused an argument; of the arguments we pack, only
 * a string that is not UTF-8 can make it do that. */
static int network_check_params(struct cli *cli, const json_t *params)
{
        return params ? 0 : cli_usage_error(cli, "arguments must be valid UTF-8");
}

/* Calls @method and prints the NetworkStatus it returns. @params is stolen. */
static int network_call(struct cli *cli, const char *method, json_t *params,
                        cli_text_fn text)
{
        json_t *reply = NULL;
        int r;

        r = network_check_params(cli, params);
        if (r < 0)
                return r;
        r = cli_call(cli, method, params, &reply);
        if (r < 0)
                return r;
        r = cli_print(cli, reply, "network", text);
        json_decref(reply);
        return r;
}

static const char *const name_arg[] = { "NAME" };

static int network_by_name(struct cli *cli, int argc, char **argv, const char *method,
                           cli_text_fn text)
{
        char *name;
        int r;

        r = cli_parse_positional(cli, argc, argv, name_arg, 1, &name);
        if (r <= 0)
                return r;
        return network_call(cli, method, json_pack("{s:s}", "name", name), text);
}

int cmd_start(struct cli *cli, int argc, char **argv)
{
        return network_by_name(cli, argc, argv, "io.vnet.StartNetwork", render_network_summary);
}

int cmd_stop(struct cli *cli, int argc, char **argv)
{
        return network_by_name(cli, argc, argv, "io.vnet.StopNetwork", render_network_summary);
}

int cmd_show(struct cli *cli, int argc, char **argv)
{
        return network_by_name(cli, argc, argv, "io.vnet.GetNetwork", render_network_details);
}

int cmd_mode(struct cli *cli, int argc, char **argv)
{
        static const char *const names[] = { "NAME", "MODE" };
        char *arg[2];
        int r;

        r = cli_parse_positional(cli, argc, argv, names, 2, arg);
        if (r <= 0)
                return r;
        /* The mode is the daemon's to check: one table of modes, in the model. */
        return network_call(cli, "io.vnet.SetMode",
                            json_pack("{s:s, s:s}", "name", arg[0], "mode", arg[1]),
                            render_network_summary);
}

int cmd_destroy(struct cli *cli, int argc, char **argv)
{
        char *name;
        json_t *params, *reply = NULL;
        int r;

        r = cli_parse_positional(cli, argc, argv, name_arg, 1, &name);
        if (r <= 0)
                return r;
        params = json_pack("{s:s}", "name", name);
        r = network_check_params(cli, params);
        if (r < 0)
                return r;
        r = cli_call(cli, "io.vnet.DestroyNetwork", params, &reply);
        if (r < 0)
                return r;
        r = cli_output(cli->json ? render_json(stdout, reply)
                                 : render_network_destroyed(stdout, name));
        json_decref(reply);
        return r;
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
        return cli_list(cli, argc, argv, false, "io.vnet.ListNetworks", "networks",
                        render_network_table, NULL);
}

int cmd_reload(struct cli *cli, int argc, char **argv)
{
        json_t *reply = NULL;
        int r;

        r = cli_parse_positional(cli, argc, argv, NULL, 0, NULL);
        if (r <= 0)
                return r;
        r = cli_call(cli, "io.vnet.Reload", NULL, &reply);
        if (r < 0)
                return r;
        r = cli_output(cli->json ? render_json(stdout, reply)
                                 : fprintf(stdout, "Definitions reloaded.\n") < 0 ? -EIO : 0);
        json_decref(reply);
        return r;
}
