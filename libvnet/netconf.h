/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Network definition files, CONFIG_DIR/networks/NAME.conf: INI in systemd style.
 *
 *   [Network]
 *   Bridge=virbr0
 *   Mode=nat
 *   Autostart=yes
 *   [IPv4]
 *   Address=192.168.122.1/24
 *
 * The network's name is the file's name. Every value goes through the model's parsers. */
#pragma once

#include <stdio.h>

#include "model.h"

/* Parses @f as the definition of network @name. On error @e names the key, with the line. */
int vnet_netconf_parse(FILE *f, const char *name, struct vnet_network *n, struct vnet_err *e);
/* Parses DIR/NAME.conf given its path; the name is taken from the file name. */
int vnet_netconf_load(const char *path, struct vnet_network *n, struct vnet_err *e);
/* The file's text, malloc'ed. */
int vnet_netconf_format(const struct vnet_network *n, char **out);
/* Writes DIR/NAME.conf atomically. */
int vnet_netconf_save(const char *dir, const struct vnet_network *n);
