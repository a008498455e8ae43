/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vnetctl: the command line of vnetd. Global options, then a verb from the table below; each
 * verb lives in its own cmd_*.c, its output in render.c. Run as vnet-ifup, vnet-ifdown or
 * vnet-bridge-helper (symlinks), it is that VMM hook instead (hooks.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <vnet/vnet.h>

#include "cli.h"
#include "hooks.h"

static int cmd_help(struct cli *cli, int argc, char **argv);

static const struct cli_verb verbs[] = {
        { "create",
          "NAME [--bridge BR] [--mode nat|routed|isolated|open] [--ipv4 ADDR/PREFIX] [--mtu N] "
          "[--mac MAC] [--stp on|off] [--autostart] [--transient] [--allow-user USER]... "
          "[--allow-group GROUP]...",
          "Define a network and start it. The allowed users and groups (names or ids) may "
          "open TAPs on it through vnet-bridge-helper.",
          cmd_create },
        { "start", "NAME", "Start a defined network.", cmd_start },
        { "stop", "NAME", "Take a network down; its definition stays.", cmd_stop },
        { "destroy", "NAME", "Stop a network and remove its definition.", cmd_destroy },
        { "list", "", "List the networks.", cmd_list },
        { "show", "NAME", "Show a network's definition and state.", cmd_show },
        { "mode", "NAME MODE", "Change a network's mode (nat, routed, isolated, open).",
          cmd_mode },
        { "attach",
          "NETWORK [--ifname NAME] [--mac MAC] [--owner USER|UID] [--group GROUP|GID] "
          "[--queues N]",
          "Make a guest port: a TAP the owner can open by name (an existing interface is "
          "adopted). Prints \"IFNAME MAC\": give both to the VMM.",
          cmd_attach },
        { "detach", "NETWORK IFNAME", "Remove a guest port.", cmd_detach },
        { "ports", "NETWORK", "List a network's guest ports.", cmd_ports },
        { "help", "[COMMAND]", "Show this help, or a command's usage.", cmd_help },
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static const struct cli_verb *verb_find(const char *name)
{
        for (size_t i = 0; i < NVERBS; i++)
                if (strcmp(verbs[i].name, name) == 0)
                        return &verbs[i];
        return NULL;
}

static void usage(FILE *f)
{
        fprintf(f, "usage: vnetctl [-s SOCKET] [-j|--json] [-h|--help] [--version] COMMAND [ARGS...]\n"
                   "\n"
                   "Commands:\n");
        for (size_t i = 0; i < NVERBS; i++)
                fprintf(f, "  %s%s%s\n      %s\n", verbs[i].name, *verbs[i].args ? " " : "",
                        verbs[i].args, verbs[i].help);
        fprintf(f, "\n"
                   "Options:\n"
                   "  -s, --socket SOCKET  vnetd's socket (default: $VNET_SOCKET, else %s)\n"
                   "  -j, --json           print one JSON document, for scripts\n"
                   "  -h, --help           show this help\n"
                   "      --version        show the version\n"
                   "\n"
                   "Run as vnet-ifup IFNAME, vnet-ifdown IFNAME or vnet-bridge-helper (symlinks to\n"
                   "vnetctl), it is QEMU's script=, downscript= or bridge helper=.\n",
                VNET_SOCKET_DEFAULT);
}

static int cmd_help(struct cli *cli, int argc, char **argv)
{
        const struct cli_verb *v;

        if (argc > 2)
                return cli_usage_error(cli, "unexpected argument '%s'", argv[2]);
        if (argc < 2) {
                usage(stdout);
                return 0;
        }
        v = verb_find(argv[1]);
        if (!v)
                return cli_usage_error(cli, "unknown command '%s'", argv[1]);
        cli_verb_usage(v, stdout);
        printf("%s\n", v->help);
        return 0;
}

int main(int argc, char **argv)
{
        enum { ARG_VERSION = 0x100 };
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        const struct hook *hook = hook_find(argv[0]);
        struct cli cli = {};
        int c, r;

        if (hook)
                return hook_main(hook, argc, argv);

        /* "+": stop at the verb, whose options are its own. */
        while ((c = getopt_long(argc, argv, "+:s:jh", options, NULL)) != -1) {
                switch (c) {
                case 's':
                        cli.socket = optarg;
                        break;
                case 'j':
                        cli.json = true;
                        break;
                case 'h':
                        usage(stdout);
                        r = 0;
                        goto out;
                case ARG_VERSION:
                        printf("vnetctl %s\n", VNET_VERSION);
                        r = 0;
                        goto out;
                default:
                        r = cli_option_error(&cli, c, argc, argv);
                        goto out;
                }
        }
        if (optind >= argc) {
                r = cli_usage_error(&cli, "missing COMMAND");
                goto out;
        }
        cli.verb = verb_find(argv[optind]);
        if (!cli.verb) {
                r = cli_usage_error(&cli, "unknown command '%s'", argv[optind]);
                goto out;
        }
        r = cli.verb->run(&cli, argc - optind, argv + optind);
out:
        /* stdout is buffered: a full disk or a closed pipe shows only now. */
        if (r >= 0 && fflush(stdout) != 0) {
                fprintf(stderr, "vnetctl: cannot write the output: %m\n");
                r = -EIO;
        }
        if (r == -EINVAL)
                return CLI_EXIT_USAGE;
        return r < 0 ? CLI_EXIT_FAILURE : 0;
}
