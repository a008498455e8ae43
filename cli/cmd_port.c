/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vnetctl attach, detach and ports: a network's guest ports. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "render.h"

static const struct attach_option {
        const char *option; /* also the member's name in AttachPort's parameters */
        bool number;        /* sent as an integer (queues) */
} attach_options[] = {
        { "ifname", false },
        { "mac", false },
        /* Names or ids as given: vnetd resolves them, in its own view of the users. */
        { "owner", false },
        { "group", false },
        { "queues", true },
};

#define ATTACH_NOPTIONS (sizeof(attach_options) / sizeof(attach_options[0]))
#define ATTACH_OPT_BASE 0x100

static int port_oom(void)
{
        fprintf(stderr, "vnetctl: %s\n", strerror(ENOMEM));
        return -ENOMEM;
}

static int attach_value(struct cli *cli, const struct attach_option *o, const char *arg,
                        json_t **ret)
{
        char *end;
        long long n;

        *ret = NULL;
        if (o->number) {
                /* Only what JSON needs: the range is the daemon's to check. */
                errno = 0;
                n = strtoll(arg, &end, 10);
                if (end == arg || *end || errno)
                        return cli_usage_error(cli, "invalid --%s '%s': not a number",
                                               o->option, arg);
                *ret = json_integer(n);
        } else {
                *ret = json_string(arg);
        }
        if (!*ret)
                return cli_usage_error(cli, "invalid --%s: not valid UTF-8", o->option);
        return 0;
}

int cmd_attach(struct cli *cli, int argc, char **argv)
{
        struct option options[ATTACH_NOPTIONS + 3];
        json_t *params, *reply = NULL, *v;
        size_t i;
        int c, r = 0;

        params = json_object();
        if (!params)
                return port_oom();
        for (i = 0; i < ATTACH_NOPTIONS; i++)
                options[i] = (struct option){ attach_options[i].option, required_argument, NULL,
                                              ATTACH_OPT_BASE + (int)i };
        options[i++] = (struct option){ "help", no_argument, NULL, 'h' };
        options[i++] = (struct option){ "json", no_argument, NULL, 'j' };
        options[i] = (struct option){};

        optind = 0;
        while ((c = getopt_long(argc, argv, ":hj", options, NULL)) != -1) {
                if (c >= ATTACH_OPT_BASE && c < ATTACH_OPT_BASE + (int)ATTACH_NOPTIONS) {
                        const struct attach_option *o = &attach_options[c - ATTACH_OPT_BASE];

                        r = attach_value(cli, o, optarg, &v);
                        if (r < 0)
                                goto out;
                        if (json_object_set_new(params, o->option, v) < 0) {
                                r = port_oom();
                                goto out;
                        }
                } else if (c == 'j') {
                        cli->json = true;
                } else if (c == 'h') {
                        cli_verb_usage(cli->verb, stdout);
                        goto out;
                } else {
                        r = cli_option_error(cli, c, argc, argv);
                        goto out;
                }
        }
        if (optind >= argc) {
                r = cli_usage_error(cli, "missing NETWORK");
                goto out;
        }
        if (argc - optind > 1) {
                r = cli_usage_error(cli, "unexpected argument '%s'", argv[optind + 1]);
                goto out;
        }
        if (json_object_set_new(params, "network", json_string(argv[optind])) < 0) {
                r = cli_usage_error(cli, "NETWORK must be valid UTF-8");
                goto out;
        }
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

/* Lookup buffers: the size glibc suggests is a hint, and 16 KiB covers every real entry. */
#define PORT_NSS_BUF 16384

static const char *port_user_name(long uid, char *buf, size_t size)
{
        struct passwd pw, *res = NULL;
        char *tmp = malloc(PORT_NSS_BUF);
        const char *name = NULL;

        if (tmp && getpwuid_r((uid_t)uid, &pw, tmp, PORT_NSS_BUF, &res) == 0 && res) {
                snprintf(buf, size, "%s", res->pw_name);
                name = buf;
        }
        free(tmp);
        return name;
}

static const char *port_group_name(long gid, char *buf, size_t size)
{
        struct group gr, *res = NULL;
        char *tmp = malloc(PORT_NSS_BUF);
        const char *name = NULL;

        if (tmp && getgrgid_r((gid_t)gid, &gr, tmp, PORT_NSS_BUF, &res) == 0 && res) {
                snprintf(buf, size, "%s", res->gr_name);
                name = buf;
        }
        free(tmp);
        return name;
}

static int port_table_text(FILE *f, const json_t *ports)
{
        static const struct render_names nss = { port_user_name, port_group_name };

        return render_port_table(f, ports, &nss);
}

int cmd_ports(struct cli *cli, int argc, char **argv)
{
        static const char *const names[] = { "NETWORK" };
        json_t *params, *reply = NULL;
        char *network;
        int r;

        r = cli_parse_positional(cli, argc, argv, names, 1, &network);
        if (r <= 0)
                return r;
        params = json_pack("{s:s}", "network", network);
        if (!params)
                return cli_usage_error(cli, "arguments must be valid UTF-8");
        r = cli_call(cli, "io.vnet.ListPorts", params, &reply);
        if (r < 0)
                return r;
        if (!json_is_array(json_object_get(reply, "ports"))) {
                fprintf(stderr, "vnetctl: malformed reply from vnetd: no 'ports' array\n");
                r = -EBADMSG;
                goto out;
        }
        r = cli_print(cli, reply, "ports", port_table_text);
out:
        json_decref(reply);
        return r;
}
