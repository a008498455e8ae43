/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test-only crash points: with VNET_TEST_CRASH_AT=STEP in vnetd's environment, vnetd kills
 * itself (SIGKILL, no clean-up) when it reaches STEP, so that tests can check that every
 * step of every operation leaves a state the next vnetd recovers from. Unset, this costs one
 * getenv per call. */
#pragma once

void crash_point(const char *step);
