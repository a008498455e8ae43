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

static const struct cli_verb host_verbs[] = {
        { "host add", "NETWORK --mac MAC --ip ADDR [--name HOSTNAME]",
          "Reserve an address (and a DNS name) for a guest MAC; dnsmasq takes it at once.",
          cmd_host_add },
        { "host del", "NETWORK --mac MAC", "Remove a guest MAC's reservation.", cmd_host_del },
};

static const struct cli_verb verbs[] = {
        { "create",
          "NAME [--bridge BR] [--mode nat|routed|isolated|open] [--ipv4 ADDR/PREFIX] [--mtu N] "
          "[--mac MAC] [--stp on|off] [--autostart] [--transient] [--allow-user USER]... "
          "[--allow-group GROUP]... [--dhcp START-END | --no-dhcp] [--no-dns] [--lease-time T] "
          "[--domain NAME] [--dns-forwarder ADDR]...",
          "Define a network and start it. The allowed users and groups (names or ids) may "
          "open TAPs on it through vnet-bridge-helper. DHCP is on over the subnet by default; "
          "a lease time is seconds or a number with m, h or d; guests' names resolve in the "
          "domain (default: the network's name), others through the DNS forwarders.",
          cmd_create },
        { "start", "NAME", "Start a defined network.", cmd_start },
        { "stop", "NAME", "Take a network down; its definition stays.", cmd_stop },
        { "destroy", "NAME", "Stop a network and remove its definition.", cmd_destroy },
        { "list", "", "List the networks.", cmd_list },
        { "reload", "",
          "Re-read the definitions in vnetd's configuration directory and apply what changed "
          "(as SIGHUP does).",
          cmd_reload },
        { "show", "NAME", "Show a network's definition and state.", cmd_show },
        { "mode", "NAME MODE", "Change a network's mode (nat, routed, isolated, open).",
          cmd_mode },
        { "attach",
          "NETWORK [--ifname NAME] [--mac MAC] [--owner USER|UID] [--group GROUP|GID] "
          "[--queues N] [--ip ADDR] [--hostname NAME]",
          "Make a guest port: a TAP the owner can open by name (an existing interface is "
          "adopted). Prints \"IFNAME MAC\": give both to the VMM. --ip (and --hostname) "
          "reserve the guest's address for its MAC; the reservation outlives the port.",
          cmd_attach },
        { "detach", "NETWORK IFNAME", "Remove a guest port.", cmd_detach },
        { "ports", "NETWORK", "List a network's guest ports.", cmd_ports },
        { "host", "add|del ...", "Add or remove a static DHCP reservation.", NULL, host_verbs,
          CLI_NELEMS(host_verbs) },
        { "hosts", "NETWORK", "List a network's static DHCP reservations.", cmd_hosts },
        { "leases", "NETWORK", "List the DHCP leases dnsmasq handed out on a network.",
          cmd_leases },
        { "doctor", "",
          "Look for what outside vnetd drops guests' traffic: other tables' forward and input "
          "chains (iptables' and Docker's included) whose policy or rules drop it, and say "
          "what to do. Exit status 1 when something was found.",
          cmd_doctor },
        { "help", "[COMMAND [SUBCOMMAND]]", "Show this help, or a command's usage.", cmd_help },
};

/* A name among @n verbs of @table; a sub-verb is named by its last word. */
static const struct cli_verb *verb_find_in(const struct cli_verb *table, size_t n,
                                           const char *name)
{
        for (size_t i = 0; i < n; i++) {
                const char *word = strrchr(table[i].name, ' ');

                if (strcmp(word ? word + 1 : table[i].name, name) == 0)
                        return &table[i];
        }
        return NULL;
}

static const struct cli_verb *verb_find(const char *name)
{
        return verb_find_in(verbs, CLI_NELEMS(verbs), name);
}

/* "add or del": the sub-verbs a usage error offers. */
static void verb_sub_words(const struct cli_verb *v, char *buf, size_t size)
{
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < v->nsub && len < size; i++) {
                const char *word = strrchr(v->sub[i].name, ' ');

                len += snprintf(buf + len, size - len, "%s%s",
                                i == 0 ? "" : i + 1 == v->nsub ? " or " : ", ",
                                word ? word + 1 : v->sub[i].name);
        }
}

/* Runs @argv[0] (already looked up as cli->verb), or its sub-verb named by @argv[1]. */
static int verb_run(struct cli *cli, int argc, char **argv)
{
        const struct cli_verb *v = cli->verb;
        char words[64];

        if (!v->sub)
                return v->run(cli, argc, argv);
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                cli_verb_usage(v, stdout);
                return 0;
        }
        verb_sub_words(v, words, sizeof(words));
        if (argc < 2)
                return cli_usage_error(cli, "missing SUBCOMMAND (%s)", words);
        cli->verb = verb_find_in(v->sub, v->nsub, argv[1]);
        if (!cli->verb) {
                cli->verb = v;
                return cli_usage_error(cli, "unknown subcommand '%s' (%s)", argv[1], words);
        }
        /* The sub-verb parses its arguments as a verb does its own: from argv[1]. */
        return cli->verb->run(cli, argc - 1, argv + 1);
}

static void usage_verb(FILE *f, const struct cli_verb *v)
{
        if (v->sub) {
                for (size_t i = 0; i < v->nsub; i++)
                        usage_verb(f, &v->sub[i]);
                return;
        }
        fprintf(f, "  %s%s%s\n      %s\n", v->name, *v->args ? " " : "", v->args, v->help);
}

static void usage(FILE *f)
{
        fprintf(f, "usage: vnetctl [-s SOCKET] [-j|--json] [-h|--help] [--version] COMMAND [ARGS...]\n"
                   "\n"
                   "Commands:\n");
        for (size_t i = 0; i < CLI_NELEMS(verbs); i++)
                usage_verb(f, &verbs[i]);
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
        const struct cli_verb *v, *sub = NULL;

        if (argc < 2) {
                usage(stdout);
                return 0;
        }
        v = verb_find(argv[1]);
        if (!v)
                return cli_usage_error(cli, "unknown command '%s'", argv[1]);
        if (argc > 2) {
                sub = v->sub ? verb_find_in(v->sub, v->nsub, argv[2]) : NULL;
                if (!v->sub || argc > 3)
                        return cli_usage_error(cli, "unexpected argument '%s'",
                                               argv[v->sub ? 3 : 2]);
                if (!sub)
                        return cli_usage_error(cli, "unknown subcommand '%s %s'", argv[1],
                                               argv[2]);
                v = sub;
        }
        cli_verb_usage(v, stdout);
        printf("%s\n", v->help);
        for (size_t i = 0; i < v->nsub; i++)
                printf("  %s: %s\n", v->sub[i].name, v->sub[i].help);
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
        r = verb_run(&cli, argc - optind, argv + optind);
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
