/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vnetd's log: one line per event on stderr, with a syslog priority prefix when stderr is the
 * journal, so that `journalctl -p err` works. Library code does not log; the daemon does. */
#pragma once

void log_setup(void);
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...)   log_msg(3, __VA_ARGS__)
#define log_warning(...) log_msg(4, __VA_ARGS__)
#define log_info(...)    log_msg(6, __VA_ARGS__)
#define log_debug(...)   log_msg(7, __VA_ARGS__)
