/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vnetctl create: one option per field of io.vnet.Network; only the given ones are sent, so
 * the daemon's defaults and its validation (the model's) stay the only ones. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dhcp.h"
#include "model.h"
#include "render.h"

enum create_kind {
        CREATE_STRING, /* sent as given */
        CREATE_INT,    /* must be a number to be sent as one */
        CREATE_BOOL,   /* on|off, through the model's one table of booleans */
        CREATE_FLAG,   /* no value: true */
        CREATE_NOFLAG, /* no value: false (--no-X) */
        CREATE_LIST,   /* repeatable: each value is appended to an array */
        CREATE_LEASE,  /* 3600, 60m, 1h...: sent as seconds, so vnetd sees one form */
};

static const struct create_field {
        const char *option;
        enum create_kind kind;
        const char *field; /* its name in io.vnet.Network; NULL: the option's */
} create_fields[] = {
        { "bridge", CREATE_STRING },
        { "mode", CREATE_STRING },
        { "ipv4", CREATE_STRING },
        { "mtu", CREATE_INT },
        { "mac", CREATE_STRING },
        { "stp", CREATE_BOOL },
        { "autostart", CREATE_FLAG },
        { "transient", CREATE_FLAG },
        /* Names or ids, resolved by vnetd: it decides who the bridge helper serves. */
        { "allow-user", CREATE_LIST, "allow_users" },
        { "allow-group", CREATE_LIST, "allow_groups" },
        { "dhcp", CREATE_STRING, "dhcp_range" },
        { "no-dhcp", CREATE_NOFLAG, "dhcp" },
        { "no-dns", CREATE_NOFLAG, "dns" },
        { "lease-time", CREATE_LEASE, "lease_time" },
        { "domain", CREATE_STRING },
        { "dns-forwarder", CREATE_LIST, "dns_forwarders" },
};

#define CREATE_NFIELDS (sizeof(create_fields) / sizeof(create_fields[0]))
/* getopt_long() values for the fields: their index, above every character. */
#define CREATE_OPT_BASE 0x100

static int create_value(struct cli *cli, const struct create_field *fd, const char *arg,
                        json_t **ret)
{
        struct vnet_err e = {};
        char option[32], *end;
        long long n;
        unsigned secs;
        bool b;

        *ret = NULL;
        snprintf(option, sizeof(option), "--%s", fd->option);
        switch (fd->kind) {
        case CREATE_STRING:
        case CREATE_LIST:
                *ret = json_string(arg);
                break;
        case CREATE_INT:
                /* Only what JSON needs: the range is the daemon's to check. */
                errno = 0;
                n = strtoll(arg, &end, 10);
                if (end == arg || *end || errno)
                        return cli_usage_error(cli, "invalid --%s '%s': not a number",
                                               fd->option, arg);
                *ret = json_integer(n);
                break;
        case CREATE_BOOL:
                if (vnet_parse_bool(arg, &b, option, &e) < 0)
                        return cli_usage_error(cli, "%s", e.message);
                *ret = json_boolean(b);
                break;
        case CREATE_FLAG:
                *ret = json_true();
                break;
        case CREATE_NOFLAG:
                *ret = json_false();
                break;
        case CREATE_LEASE:
                /* The protocol's lease_time is an int: the suffixes exist only here. */
                if (vnet_parse_lease_time(arg, &secs, option, &e) < 0)
                        return cli_usage_error(cli, "%s", e.message);
                *ret = json_integer(secs);
                break;
        }
        /* json_string() refuses what is not UTF-8. */
        if (!*ret)
                return cli_usage_error(cli, "invalid --%s: not valid UTF-8", fd->option);
        return 0;
}

/* Stores @v (stolen) as @fd's member of @network. */
static int create_set(json_t *network, const struct create_field *fd, json_t *v)
{
        const char *field = fd->field ? fd->field : fd->option;
        json_t *list;

        if (fd->kind != CREATE_LIST) {
                /* A repeated option: the last one wins, as with most tools. */
                if (json_object_set_new(network, field, v) < 0)
                        return cli_oom();
                return 0;
        }
        list = json_object_get(network, field);
        if (!list) {
                list = json_array();
                if (!list || json_object_set_new(network, field, list) < 0) {
                        json_decref(v);
                        return cli_oom();
                }
        }
        if (json_array_append_new(list, v) < 0)
                return cli_oom();
        return 0;
}

static int create_has_arg(enum create_kind kind)
{
        switch (kind) {
        case CREATE_STRING:
        case CREATE_INT:
        case CREATE_BOOL:
        case CREATE_LIST:
        case CREATE_LEASE:
                return required_argument;
        case CREATE_FLAG:
        case CREATE_NOFLAG:
                return no_argument;
        }
        return required_argument;
}

static void create_options(struct option *options)
{
        size_t i;

        for (i = 0; i < CREATE_NFIELDS; i++)
                options[i] = (struct option){
                        create_fields[i].option,
                        create_has_arg(create_fields[i].kind),
                        NULL, CREATE_OPT_BASE + (int)i,
                };
        options[i++] = (struct option){ "help", no_argument, NULL, 'h' };
        options[i++] = (struct option){ "json", no_argument, NULL, 'j' };
        options[i] = (struct option){};
}

int cmd_create(struct cli *cli, int argc, char **argv)
{
        struct option options[CREATE_NFIELDS + 3];
        json_t *network, *reply = NULL, *v;
        int c, r = 0;

        network = json_object();
        if (!network)
                return cli_oom();
        create_options(options);
        optind = 0;
        while ((c = getopt_long(argc, argv, ":hj", options, NULL)) != -1) {
                if (c >= CREATE_OPT_BASE && c < CREATE_OPT_BASE + (int)CREATE_NFIELDS) {
                        const struct create_field *fd = &create_fields[c - CREATE_OPT_BASE];

                        r = create_value(cli, fd, optarg, &v);
                        if (r < 0)
                                goto out;
                        r = create_set(network, fd, v);
                        if (r < 0)
                                goto out;
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
                r = cli_usage_error(cli, "missing NAME");
                goto out;
        }
        if (argc - optind > 1) {
                r = cli_usage_error(cli, "unexpected argument '%s'", argv[optind + 1]);
                goto out;
        }
        if (json_object_set_new(network, "name", json_string(argv[optind])) < 0) {
                r = cli_usage_error(cli, "NAME must be valid UTF-8");
                goto out;
        }

        v = json_pack("{s:O}", "network", network);
        if (!v) {
                r = cli_oom();
                goto out;
        }
        r = cli_call(cli, "io.vnet.CreateNetwork", v, &reply);
        if (r < 0)
                goto out;
        r = cli_print(cli, reply, "network", render_network_summary);
out:
        json_decref(reply);
        json_decref(network);
        return r;
}
