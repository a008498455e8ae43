/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every vnetctl verb shares: argument errors and calling vnetd. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <vnet/vnet.h>

#include "cli.h"
#include "render.h"

int cli_usage_error(struct cli *cli, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "vnetctl: %s%s", cli->verb ? cli->verb->name : "",
                cli->verb ? ": " : "");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (see 'vnetctl help')\n");
        return -EINVAL;
}

int cli_option_error(struct cli *cli, int c, int argc, char **argv)
{
        const char *arg = optind - 1 < argc ? argv[optind - 1] : "";

        if (c == ':')
                return cli_usage_error(cli, "option '%s' needs a value", arg);
        /* An unknown short option sets optopt; an unknown long one leaves it 0. */
        if (optopt)
                return cli_usage_error(cli, "unknown option '-%c'", optopt);
        return cli_usage_error(cli, "unknown option '%s'", arg);
}

void cli_verb_usage(const struct cli_verb *v, FILE *f)
{
        fprintf(f, "usage: vnetctl [-s SOCKET] [-j|--json] %s%s%s\n", v->name,
                *v->args ? " " : "", v->args);
}

int cli_parse_positional(struct cli *cli, int argc, char **argv, const char *const *names,
                         int n, char **out)
{
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, 'j' },
                {}
        };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, ":hj", options, NULL)) != -1) {
                switch (c) {
                case 'j':
                        cli->json = true;
                        break;
                case 'h':
                        cli_verb_usage(cli->verb, stdout);
                        return 0;
                default:
                        return cli_option_error(cli, c, argc, argv);
                }
        }
        if (argc - optind < n)
                return cli_usage_error(cli, "missing %s", names[argc - optind]);
        if (argc - optind > n)
                return cli_usage_error(cli, "unexpected argument '%s'", argv[optind + n]);
        for (int i = 0; i < n; i++)
                out[i] = argv[optind + i];
        return 1;
}

int cli_call(struct cli *cli, const char *method, json_t *params, json_t **reply)
{
        struct vnet_call_error err = {};
        struct vnet_client *client = NULL;
        const char *path = vnet_socket_path(cli->socket);
        int r;

        r = vnet_client_connect(path, &client);
        if (r < 0) {
                json_decref(params);
                fprintf(stderr, "vnetctl: cannot connect to vnetd at %s: %s\n", path,
                        strerror(-r));
                goto out;
        }
        r = vnet_client_call(client, method, params, reply, &err);
        if (r < 0)
                fprintf(stderr, "vnetctl: %s\n",
                        *err.message ? err.message : strerror(-r));
out:
        vnet_call_error_clear(&err);
        if (client)
                vnet_client_free(client);
        return r == -EINVAL ? -EIO : r;
}

int cli_output(int r)
{
        if (r < 0)
                fprintf(stderr, "vnetctl: cannot write the output: %s\n", strerror(-r));
        return r == -EINVAL ? -EIO : r;
}

int cli_print(struct cli *cli, const json_t *reply, const char *key, cli_text_fn text)
{
        const json_t *v = json_object_get(reply, key);

        if (!v) {
                fprintf(stderr, "vnetctl: malformed reply from vnetd: no '%s'\n", key);
                return -EBADMSG;
        }
        return cli_output(cli->json ? render_json(stdout, v) : text(stdout, v));
}
