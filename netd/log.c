/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
        int saved = errno; /* for a %m in @fmt */
        char line[1024];
        va_list ap;
        int n;

        if (priority > max_priority)
                return;
        n = journal ? snprintf(line, sizeof(line), "<%d>", priority)
                    : snprintf(line, sizeof(line), "vnetd: %s: ", tags[priority & 7]);
        va_start(ap, fmt);
        errno = saved;
        vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
        va_end(ap);
        /* One write: stderr is shared with the dnsmasq children, and a line in pieces could
         * lose its priority prefix in the journal. A longer line is cut. */
        n = (int)strlen(line);
        line[n++] = '\n';
        (void)!write(STDERR_FILENO, line, (size_t)n);
        errno = saved;
}
