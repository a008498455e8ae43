/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vnetctl: the verb table and what every verb shares (global options, calling vnetd). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <vnet/vnet.h> /* VNET_VERSION */

#define CLI_NELEMS(a) (sizeof(a) / sizeof((a)[0]))

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
 * the command line was wrong (exit 2); anything else is a failure to do the work (exit 1).
 * A verb of two words ("host add") is a sub-verb in the table of its first word, which has no
 * run of its own; the sub-verb's name is both words, so that its errors and usage say them. */
struct cli_verb {
        const char *name;
        const char *args;
        const char *help;
        int (*run)(struct cli *cli, int argc, char **argv);
        const struct cli_verb *sub;
        size_t nsub;
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

enum cli_value {
        CLI_VALUE_STRING, /* sent as given */
        CLI_VALUE_INT,    /* must be a number to be sent as one; the range is vnetd's */
};

/* An option of a verb that sends each option as one member of its parameters. */
struct cli_option {
        const char *name;   /* --NAME */
        const char *member; /* its name in the parameters; NULL: NAME */
        enum cli_value value;
        bool required;      /* missing: usage error "missing --NAME" */
};

/* Parses a verb's arguments: the options in @opts (and -j, -h) into members of @params, and
 * exactly @n positional arguments, named in @names for the errors, into @out. Returns 1, 0 if
 * --help was printed (the caller exits successfully), or -errno (-EINVAL: usage error). */
int cli_parse_options(struct cli *cli, int argc, char **argv, const struct cli_option *opts,
                      size_t nopts, json_t *params, const char *const *names, int n,
                      char **out);

/* Sets @params' member @key to the string @value, an argument called @what in errors. */
int cli_set_string(struct cli *cli, json_t *params, const char *key, const char *value,
                   const char *what);

/* The usage line of @v, or one per sub-verb. */
void cli_verb_usage(const struct cli_verb *v, FILE *f);

/* Prints "vnetctl: out of memory" and returns -ENOMEM. */
int cli_oom(void);

/* Reports a failure to write the output (the one error line) and returns @r. */
int cli_output(int r);

typedef int (*cli_text_fn)(FILE *f, const json_t *v);

/* Prints @reply's member @key: as JSON with --json, else with @text. */
int cli_print(struct cli *cli, const json_t *reply, const char *key, cli_text_fn text);
/* The same for a member that must be an array (a list verb's reply). */
int cli_print_array(struct cli *cli, const json_t *reply, const char *key, cli_text_fn text);

/* A list verb: no argument, or NETWORK if @by_network ({"network": NETWORK} is sent);
 * calls @method and prints its reply's array @key (with @text, or as JSON). *@count, if not
 * NULL, gets the array's length (0 after --help). Returns 0 or -errno. */
int cli_list(struct cli *cli, int argc, char **argv, bool by_network, const char *method,
             const char *key, cli_text_fn text, size_t *count);

/* Calls @method on vnetd; on failure prints the one error line and returns -errno (never
 * -EINVAL, which means a usage error). @params is stolen. */
int cli_call(struct cli *cli, const char *method, json_t *params, json_t **reply);

/* The verbs, one file per group: cmd_create.c, cmd_network.c, cmd_port.c, cmd_dhcp.c,
 * cmd_doctor.c. */
int cmd_create(struct cli *cli, int argc, char **argv);
int cmd_start(struct cli *cli, int argc, char **argv);
int cmd_stop(struct cli *cli, int argc, char **argv);
int cmd_destroy(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_reload(struct cli *cli, int argc, char **argv);
int cmd_show(struct cli *cli, int argc, char **argv);
int cmd_mode(struct cli *cli, int argc, char **argv);
int cmd_attach(struct cli *cli, int argc, char **argv);
int cmd_detach(struct cli *cli, int argc, char **argv);
int cmd_ports(struct cli *cli, int argc, char **argv);
int cmd_host_add(struct cli *cli, int argc, char **argv);
int cmd_host_del(struct cli *cli, int argc, char **argv);
int cmd_hosts(struct cli *cli, int argc, char **argv);
int cmd_leases(struct cli *cli, int argc, char **argv);
/* Exits 1 when it found problems (after printing them), 0 when none. */
int cmd_doctor(struct cli *cli, int argc, char **argv);
