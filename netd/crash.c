/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "crash.h"
#include "log.h"

void crash_point(const char *step)
{
        const char *at = getenv("VNET_TEST_CRASH_AT");

        if (!at || strcmp(at, step) != 0)
                return;
        log_warning("VNET_TEST_CRASH_AT=%s: dying here", step);
        raise(SIGKILL);
}
