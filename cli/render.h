/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vnetctl output: turns replies that were already fetched into text for people or JSON for
 * scripts. Nothing here talks to vnetd, so tests render into an open_memstream(). */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* Shown for a value a reply does not have, so columns never collapse. */
#define RENDER_NONE "-"

/* Columns left aligned, each as wide as its widest cell, two spaces apart, no trailing
 * blanks. @cells is row-major, @nrows * @ncols; a NULL cell shows RENDER_NONE. */
int render_table(FILE *f, const char *const *header, size_t ncols, const char *const *cells,
                 size_t nrows);

struct render_kv {
        const char *key;
        const char *value; /* NULL shows RENDER_NONE */
};

/* "Key:   value" lines with the values aligned. */
int render_kv(FILE *f, const struct render_kv *kv, size_t n);

/* One indented JSON document and a newline. */
int render_json(FILE *f, const json_t *j);

/* NetworkStatus objects (see io.vnet.varlink); missing fields show RENDER_NONE. */
int render_network_table(FILE *f, const json_t *networks);
int render_network_details(FILE *f, const json_t *network);
/* One line for people after a change: "Network 'x' is running on bridge virbr0 (nat, ...)." */
int render_network_summary(FILE *f, const json_t *network);
int render_network_destroyed(FILE *f, const char *name);

/* The allowed users and groups, when a network has any, show as "Allowed users:" and
 * "Allowed groups:" lines in render_network_details. So do, when the reply has them, "DHCP:"
 * ("on, START-END, lease 1h" or "off"), "Domain:", "DNS forwarders:" ("none" when empty),
 * "Hosts:" (the number of reservations) and "dnsmasq:" ("running, pid N", "restarted N times,
 * last: REASON", "not running"). */

/* A "warnings" array (GetNetwork of a running network) shows as "Warning: TEXT" lines after
 * the key/value lines of render_network_details. */

/* Finding objects (Diagnose, see io.vnet.varlink): a paragraph each, what drops which
 * networks' traffic and "To fix it, REMEDY."; "No problems found." for none. */
int render_findings(FILE *f, const json_t *findings);

/* Names for the uids and gids of port owners; a function returns NULL for an id that has no
 * name. Looking names up is the caller's business (NSS), so tests can pass their own. */
struct render_names {
        const char *(*user)(long uid, char *buf, size_t size);
        const char *(*group)(long gid, char *buf, size_t size);
};

/* Port objects (see io.vnet.varlink): IFNAME MAC OWNER QUEUES STATE ADOPTED. OWNER is the
 * user, then ":group" when the port has a group; ids without a name (or @names NULL) show as
 * numbers. */
int render_port_table(FILE *f, const json_t *ports, const struct render_names *names);
/* For scripts and people alike: one line "IFNAME MAC". */
int render_port_attached(FILE *f, const json_t *port);
int render_port_detached(FILE *f, const char *network, const char *ifname);

/* Host objects (static DHCP reservations): MAC IP HOSTNAME. */
int render_host_table(FILE *f, const json_t *hosts);
/* One line for people after host add / host del; @hostname may be NULL. */
int render_host_added(FILE *f, const char *network, const char *mac, const char *ip,
                      const char *hostname);
int render_host_removed(FILE *f, const char *network, const char *mac);

/* Lease objects: MAC ADDRESS HOSTNAME EXPIRES, the expiry in local time
 * ("YYYY-MM-DD HH:MM:SS", "never" for 0). */
int render_lease_table(FILE *f, const json_t *leases);
