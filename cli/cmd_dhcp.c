/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vnetctl host add, host del, hosts and leases: a network's DHCP reservations and leases.
 * MACs, addresses and names go to vnetd as given: the model checks them, against the network's
 * subnet and its other reservations, which only vnetd knows. */
#include <errno.h>
#include <stdio.h>

#include "cli.h"
#include "render.h"

static const char *const network_arg[] = { "NETWORK" };

static const struct cli_option host_add_options[] = {
        { "mac", NULL, CLI_VALUE_STRING, true },
        { "ip", NULL, CLI_VALUE_STRING, true },
        { "name", "hostname", CLI_VALUE_STRING, false },
};

static const struct cli_option host_del_options[] = {
        { "mac", NULL, CLI_VALUE_STRING, true },
};

/* The updated reservations are the reply: --json prints them, people get one line. */
static int host_print(struct cli *cli, const json_t *reply, const char *network,
                      const json_t *host, bool added)
{
        const char *mac = json_string_value(json_object_get(host, "mac"));

        if (!json_is_array(json_object_get(reply, "hosts"))) {
                fprintf(stderr, "vnetctl: malformed reply from vnetd: no 'hosts' array\n");
                return -EBADMSG;
        }
        if (cli->json)
                return cli_output(render_json(stdout, json_object_get(reply, "hosts")));
        if (!added)
                return cli_output(render_host_removed(stdout, network, mac));
        return cli_output(render_host_added(stdout, network, mac,
                                            json_string_value(json_object_get(host, "ip")),
                                            json_string_value(json_object_get(host, "hostname"))));
}

int cmd_host_add(struct cli *cli, int argc, char **argv)
{
        json_t *host, *params = NULL, *reply = NULL;
        char *network;
        int r;

        host = json_object();
        if (!host)
                return cli_oom();
        r = cli_parse_options(cli, argc, argv, host_add_options, CLI_NELEMS(host_add_options), host,
                              network_arg, 1, &network);
        if (r <= 0)
                goto out;
        params = json_pack("{s:s, s:O}", "network", network, "host", host);
        if (!params) {
                r = cli_usage_error(cli, "NETWORK must be valid UTF-8");
                goto out;
        }
        r = cli_call(cli, "io.vnet.AddHost", json_incref(params), &reply);
        if (r < 0)
                goto out;
        r = host_print(cli, reply, network, host, true);
out:
        json_decref(reply);
        json_decref(params);
        json_decref(host);
        return r;
}

int cmd_host_del(struct cli *cli, int argc, char **argv)
{
        json_t *params, *reply = NULL;
        char *network;
        int r;

        params = json_object();
        if (!params)
                return cli_oom();
        r = cli_parse_options(cli, argc, argv, host_del_options, CLI_NELEMS(host_del_options), params,
                              network_arg, 1, &network);
        if (r <= 0)
                goto out;
        r = cli_set_string(cli, params, "network", network, "NETWORK");
        if (r < 0)
                goto out;
        r = cli_call(cli, "io.vnet.RemoveHost", json_incref(params), &reply);
        if (r < 0)
                goto out;
        r = host_print(cli, reply, network, params, false);
out:
        json_decref(reply);
        json_decref(params);
        return r;
}

int cmd_hosts(struct cli *cli, int argc, char **argv)
{
        return cli_list(cli, argc, argv, true, "io.vnet.ListHosts", "hosts", render_host_table, NULL);
}

int cmd_leases(struct cli *cli, int argc, char **argv)
{
        return cli_list(cli, argc, argv, true, "io.vnet.ListLeases", "leases", render_lease_table,
                        NULL);
}
