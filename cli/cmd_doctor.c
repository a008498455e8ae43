/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor: what outside vnetd keeps guests' traffic from flowing (other firewalls' chains). */
#include <errno.h>
#include <stdio.h>

#include "cli.h"
#include "render.h"

int cmd_doctor(struct cli *cli, int argc, char **argv)
{
        const json_t *findings;
        json_t *reply = NULL;
        size_t n;
        int r;

        r = cli_parse_positional(cli, argc, argv, NULL, 0, NULL);
        if (r <= 0)
                return r;
        r = cli_call(cli, "io.vnet.Diagnose", NULL, &reply);
        if (r < 0)
                return r;
        r = cli_print_array(cli, reply, "findings", render_findings);
        findings = json_object_get(reply, "findings");
        n = json_array_size(findings);
        json_decref(reply);
        if (r < 0 || n == 0)
                return r;
        /* Like a linter (systemd-analyze verify): findings make the exit status 1, so that
         * scripts and CI can gate on it. */
        fprintf(stderr, "vnetctl: doctor: %zu problem%s found\n", n, n == 1 ? "" : "s");
        return -EHOSTUNREACH;
}
