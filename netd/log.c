/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static bool journal;
static int max_priority = 6;

void log_setup(void)
{
        const char *lvl = getenv("VNET_LOG_LEVEL");

        /* systemd sets JOURNAL_STREAM when stderr goes to the journal. */
        journal = getenv("JOURNAL_STREAM") != NULL;
        if (lvl && *lvl >= '0' && *lvl <= '7')
                max_priority = *lvl - '0';
}

void log_msg(int priority, const char *fmt, ...)
{
        static const char *const tags[8] = { "emerg", "alert", "crit", "error",
                                             "warning", "notice", "info", "debug" };
        va_list ap;

        if (priority > max_priority)
                return;
        if (journal)
                fprintf(stderr, "<%d>", priority);
        else
                fprintf(stderr, "vnetd: %s: ", tags[priority & 7]);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}
