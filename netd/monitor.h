/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Link events (rtnetlink RTNLGRP_LINK) fed to the manager: a VMM opening or closing a TAP
 * (carrier), a port taken off its bridge, an interface that disappears. */
#pragma once

#include "loop.h"
#include "manager.h"

struct monitor;

int monitor_new(struct loop *l, struct manager *m, struct monitor **ret);
void monitor_free(struct monitor *mon);
