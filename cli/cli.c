/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every vnetctl verb shares: argument errors and calling vnetd. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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
        /* An unknown long option leaves optopt 0; a known one given a value it does not take
         * ("--json=1") sets it to the option's val, which need not be a character. */
        if (strncmp(arg, "--", 2) == 0) {
                if (optopt)
                        return cli_usage_error(cli, "option '%.*s' takes no value",
                                               (int)strcspn(arg, "="), arg);
                return cli_usage_error(cli, "unknown option '%s'", arg);
        }
        /* An unknown short option sets optopt. */
        return cli_usage_error(cli, "unknown option '-%c'", optopt);
}

void cli_verb_usage(const struct cli_verb *v, FILE *f)
{
        if (!v->sub) {
                fprintf(f, "usage: vnetctl [-s SOCKET] [-j|--json] %s%s%s\n", v->name,
                        *v->args ? " " : "", v->args);
                return;
        }
        for (size_t i = 0; i < v->nsub; i++)
                cli_verb_usage(&v->sub[i], f);
}

int cli_oom(void)
{
        fprintf(stderr, "vnetctl: %s\n", strerror(ENOMEM));
        return -ENOMEM;
}

int cli_list(struct cli *cli, int argc, char **argv, bool by_network, const char *method,
             const char *key, cli_text_fn text, size_t *count)
{
        static const char *const names[] = { "NETWORK" };
        json_t *params = NULL, *reply = NULL;
        char *network = NULL;
        int r;

        r = cli_parse_positional(cli, argc, argv, by_network ? names : NULL, by_network,
                                 &network);
        if (r <= 0)
                return r;
        if (by_network) {
                params = json_object();
                if (!params)
                        return cli_oom();
                r = cli_set_string(cli, params, "network", network, "NETWORK");
                if (r < 0) {
                        json_decref(params);
                        return r;
                }
        }
        r = cli_call(cli, method, params, &reply);
        if (r < 0)
                return r;
        /* --json passes vnetd's objects through: fields it adds reach scripts unchanged. */
        r = cli_print_array(cli, reply, key, text);
        if (count)
                *count = json_array_size(json_object_get(reply, key));
        json_decref(reply);
        return r;
}

int cli_set_string(struct cli *cli, json_t *params, const char *key, const char *value,
                   const char *what)
{
        /* json_string() refuses what is not UTF-8; nothing else can make it fail but memory. */
        json_t *v = json_string(value);

        if (!v)
                return cli_usage_error(cli, "%s must be valid UTF-8", what);
        if (json_object_set_new(params, key, v) < 0)
                return cli_oom();
        return 0;
}

/* getopt_long() values for the options of a table: their index, above every character. */
#define CLI_OPT_BASE 0x100

static int option_value(struct cli *cli, const struct cli_option *o, const char *arg,
                        json_t *params)
{
        json_t *v = NULL;
        char *end;
        long long n;

        switch (o->value) {
        case CLI_VALUE_STRING:
                v = json_string(arg);
                /* json_string() refuses what is not UTF-8. */
                if (!v)
                        return cli_usage_error(cli, "invalid --%s: not valid UTF-8", o->name);
                break;
        case CLI_VALUE_INT:
                /* Only what JSON needs: the range is the daemon's to check. */
                errno = 0;
                n = strtoll(arg, &end, 10);
                if (end == arg || *end || errno)
                        return cli_usage_error(cli, "invalid --%s '%s': not a number", o->name,
                                               arg);
                v = json_integer(n);
                break;
        }
        /* A repeated option: the last one wins, as with most tools. */
        if (!v || json_object_set_new(params, o->member ? o->member : o->name, v) < 0)
                return cli_oom();
        return 0;
}

int cli_parse_options(struct cli *cli, int argc, char **argv, const struct cli_option *opts,
                      size_t nopts, json_t *params, const char *const *names, int n,
                      char **out)
{
        struct option *options;
        size_t i;
        int c, r = 1;

        /* The table, then --help, --json and the terminator. */
        options = calloc(nopts + 3, sizeof(*options));
        if (!options)
                return cli_oom();
        for (i = 0; i < nopts; i++)
                options[i] = (struct option){ opts[i].name, required_argument, NULL,
                                              CLI_OPT_BASE + (int)i };
        options[i++] = (struct option){ "help", no_argument, NULL, 'h' };
        options[i++] = (struct option){ "json", no_argument, NULL, 'j' };

        optind = 0;
        while ((c = getopt_long(argc, argv, ":hj", options, NULL)) != -1) {
                if (c >= CLI_OPT_BASE && c < CLI_OPT_BASE + (int)nopts) {
                        r = option_value(cli, &opts[c - CLI_OPT_BASE], optarg, params);
                        if (r < 0)
                                goto out;
                        r = 1;
                } else if (c == 'j') {
                        cli->json = true;
                } else if (c == 'h') {
                        cli_verb_usage(cli->verb, stdout);
                        r = 0;
                        goto out;
                } else {
                        r = cli_option_error(cli, c, argc, argv);
                        goto out;
                }
        }
        /* The arguments before the options: a missing NETWORK is the first thing to fix. */
        if (argc - optind < n) {
                r = cli_usage_error(cli, "missing %s", names[argc - optind]);
                goto out;
        }
        if (argc - optind > n) {
                r = cli_usage_error(cli, "unexpected argument '%s'", argv[optind + n]);
                goto out;
        }
        for (i = 0; i < nopts; i++)
                if (opts[i].required &&
                    !json_object_get(params, opts[i].member ? opts[i].member : opts[i].name)) {
                        r = cli_usage_error(cli, "missing --%s", opts[i].name);
                        goto out;
                }
        for (int k = 0; k < n; k++)
                out[k] = argv[optind + k];
out:
        free(options);
        return r;
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

int cli_print_array(struct cli *cli, const json_t *reply, const char *key, cli_text_fn text)
{
        if (!json_is_array(json_object_get(reply, key))) {
                fprintf(stderr, "vnetctl: malformed reply from vnetd: no '%s' array\n", key);
                return -EBADMSG;
        }
        return cli_print(cli, reply, key, text);
}
