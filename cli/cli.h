/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vnetctl: the verb table and what every verb shares (global options, calling vnetd). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#ifndef VNET_VERSION
#define VNET_VERSION "0.1"
#endif

/* Exit statuses: 2 is reserved for the command line itself being wrong, so scripts can tell
 * "you called me wrong" from "vnetd said no". */
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE   2

struct cli_verb;

struct cli {
        const char *socket; /* -s; NULL: $VNET_SOCKET or the default */
        bool json;          /* -j before the verb, or after it as in "vnetctl show x --json" */
        const struct cli_verb *verb;
};

/* A verb returns 0 or -errno, having printed its one line on stderr already. -EINVAL means
 * the command line was wrong (exit 2); anything else is a failure to do the work (exit 1). */
struct cli_verb {
        const char *name;
        const char *args;
        const char *help;
        int (*run)(struct cli *cli, int argc, char **argv);
};

/* Prints "vnetctl: VERB: message" on stderr and returns -EINVAL. */
int cli_usage_error(struct cli *cli, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Parses the arguments of a verb that takes only positional arguments (and -j, -h): exactly
 * @n of them, named in @names for the error that says which one is missing. Returns 1 with
 * them in @out, 0 if --help was printed (the caller exits successfully), or -EINVAL. */
int cli_parse_positional(struct cli *cli, int argc, char **argv, const char *const *names,
                         int n, char **out);

/* getopt_long() leaves the offending option in different places for short, long and
 * missing-argument cases; this names it in one usage error. */
int cli_option_error(struct cli *cli, int c, int argc, char **argv);

void cli_verb_usage(const struct cli_verb *v, FILE *f);

/* Reports a failure to write the output (the one error line) and returns @r. */
int cli_output(int r);

typedef int (*cli_text_fn)(FILE *f, const json_t *v);

/* Prints @reply's member @key: as JSON with --json, else with @text. */
int cli_print(struct cli *cli, const json_t *reply, const char *key, cli_text_fn text);

/* Calls @method on vnetd; on failure prints the one error line and returns -errno (never
 * -EINVAL, which means a usage error). @params is stolen. */
int cli_call(struct cli *cli, const char *method, json_t *params, json_t **reply);

/* The verbs, one file per group: cmd_create.c, cmd_network.c, cmd_port.c. */
int cmd_create(struct cli *cli, int argc, char **argv);
int cmd_start(struct cli *cli, int argc, char **argv);
int cmd_stop(struct cli *cli, int argc, char **argv);
int cmd_destroy(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_show(struct cli *cli, int argc, char **argv);
int cmd_mode(struct cli *cli, int argc, char **argv);
int cmd_attach(struct cli *cli, int argc, char **argv);
int cmd_detach(struct cli *cli, int argc, char **argv);
int cmd_ports(struct cli *cli, int argc, char **argv);
