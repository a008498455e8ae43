/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor: what outside vnetd keeps guests' traffic from flowing (other firewalls' chains). */
#include <errno.h>
#include <stdio.h>

#include "cli.h"
#include "render.h"

int cmd_doctor(struct cli *cli, int argc, char **argv)
{
        size_t n = 0;
        int r;

        r = cli_list(cli, argc, argv, false, "io.vnet.Diagnose", "findings", render_findings, &n);
        /* After --help, n stays 0. */
        if (r < 0 || n == 0)
                return r;
        /* Like a linter (systemd-analyze verify): findings make the exit status 1, so that
         * scripts and CI can gate on it. */
        fprintf(stderr, "vnetctl: doctor: %zu problem%s found\n", n, n == 1 ? "" : "s");
        return -EHOSTUNREACH;
}
