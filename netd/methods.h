/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The varlink methods vnetd serves: a table from method name to handler over the manager. */
#pragma once

#include <jansson.h>

#include "manager.h"
#include "server.h"

/* A server_handler_fn; @userdata is the struct manager. */
json_t *methods_handle(void *userdata, const struct server_peer *peer, const char *method,
                       json_t *parameters);
