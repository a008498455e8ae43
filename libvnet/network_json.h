/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A network definition as JSON: the protocol's Network type. */
#pragma once

#include <jansson.h>

#include "model.h"

/* All fields of the definition (name, bridge, mode, ipv4, mtu, mac, stp, autostart,
 * transient). A new reference. */
json_t *vnet_network_to_json(const struct vnet_network *n);

/* Fills @n from a Network object: defaults for what is absent, every value through the
 * model's parsers, unknown or mistyped fields refused by name. Does not allocate a bridge or a
 * MAC; that is the manager's job. */
int vnet_network_from_json(const json_t *o, struct vnet_network *n, struct vnet_err *e);

/* A port reservation as JSON: network, ifname, mac, owner, group (absent when -1), queues,
 * adopted. The form of the state files and the core of the protocol's Port type. */
json_t *vnet_port_to_json(const struct vnet_port *p);
int vnet_port_from_json(const json_t *o, struct vnet_port *p, struct vnet_err *e);

/* A reservation object {mac, ip, hostname?}, each value checked on its own. */
int vnet_dhcp_host_from_json(const json_t *o, struct vnet_dhcp_host *h, struct vnet_err *e);
