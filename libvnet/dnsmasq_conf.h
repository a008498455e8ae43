/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The files a network's dnsmasq reads, generated as text: its configuration (the only one it
 * reads: start it with --conf-file=PATH), its DHCP hosts file (the static reservations) and
 * its DHCP options file (the options that follow the network's mode); dnsmasq re-reads the
 * last two on SIGHUP, and the configuration depends on neither the reservations nor the
 * mode, so changing those keeps the process. Pure: nothing here touches a file or a
 * process. Every input is validated again before a byte is written, so the text carries
 * only checked values. */
#pragma once

#include "dhcp.h"
#include "model.h"

struct vnet_dnsmasq_conf {
        const char *network;    /* the network's name, for the header */
        const char *bridge;     /* the only interface dnsmasq serves */
        enum vnet_mode mode;    /* isolated networks hand out no router (options file) */
        struct vnet_ipv4 ipv4;  /* gateway and prefix; required */
        unsigned mtu;           /* other than 1500: pushed to guests (DHCP option 26) */
        const struct vnet_dhcp *dhcp;
        /* Absolute paths. pid_file always (dnsmasq's default is the host's own dnsmasq's);
         * lease_file (in STATE_DIR), hosts_file and opts_file (in RUN_DIR) when DHCP is on. */
        const char *pid_file;
        const char *lease_file;
        const char *hosts_file;
        const char *opts_file;
};

/* The configuration text into *@out (malloc'ed, NUL-terminated; the caller frees it).
 * Returns 0, -EINVAL with @e naming the bad field, or -ENOMEM. The text is the same for
 * every mode: what a mode changes is in the options file. */
int vnet_dnsmasq_conf_render(const struct vnet_dnsmasq_conf *c, char **out, struct vnet_err *e);

/* The dhcp-optsfile text: one dhcp-option value per line (the router, or an empty router
 * option for an isolated network), from the same @c, checked as vnet_dnsmasq_conf_render()
 * checks it. Rendered with DHCP off too, though dnsmasq then reads no options file.
 * Returns 0, -EINVAL with @e filled, or -ENOMEM. */
int vnet_dnsmasq_opts_render(const struct vnet_dnsmasq_conf *c, char **out, struct vnet_err *e);

/* The dhcp-hostsfile text: one "MAC,ADDRESS[,HOSTNAME]" line per reservation, in table
 * order; empty when there are none (the file still exists, so that adding the first
 * reservation is a rewrite and a SIGHUP too). Returns 0, -EINVAL with @e filled, or
 * -ENOMEM. */
int vnet_dnsmasq_hosts_render(const struct vnet_dhcp *d, const struct vnet_ipv4 *net,
                              char **out, struct vnet_err *e);
