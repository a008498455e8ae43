/* SPDX-License-Identifier: GPL-2.0-or-later */
/* DHCP and DNS for a network's guests: the model. Range, lease time, domain, upstream
 * forwarders and static reservations, validated here against the network's IPv4 address so
 * that the dnsmasq files generated from them (dnsmasq_conf.c) carry nothing unchecked. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "model.h"

/* struct vnet_dhcp and its limits are part of the network model (model.h). */

/* Field parsers, in model.h's style: each returns 0 or -EINVAL and fills @e naming @field. */

/* A dotted quad that can be a host: not 0.0.0.0/8, multicast, reserved or broadcast.
 * Loopback is accepted: a forwarder may be the host's own resolver. */
int vnet_parse_ipv4_addr(const char *s, struct in_addr *out, const char *field,
                         struct vnet_err *e);
/* One RFC 1123 label, 1..63 of letters, digits and '-', not starting or ending with '-', and
 * not a word dnsmasq's host syntax would take for something else (a lease time such as "90"
 * or "2h", "infinite", "ignore"). */
int vnet_parse_hostname(const char *s, const char *field, struct vnet_err *e);
/* A DNS name: labels as for hostnames joined by '.', at most 253 bytes, no final dot. */
int vnet_parse_domain(const char *s, const char *field, struct vnet_err *e);
/* Seconds, or a number with an s, m, h or d suffix; VNET_LEASE_MIN..VNET_LEASE_MAX. */
int vnet_parse_lease_time(const char *s, unsigned *seconds, const char *field,
                          struct vnet_err *e);
/* "START-END" inside @net's subnet, START <= END, neither the network nor the broadcast
 * address, and not containing the gateway (@net->addr). */
int vnet_parse_dhcp_range(const char *s, const struct vnet_ipv4 *net, struct in_addr *start,
                          struct in_addr *end, const char *field, struct vnet_err *e);
/* "MAC,ADDRESS[,HOSTNAME]". Only the syntax: vnet_dhcp_host_add checks it against the network
 * and the other reservations. */
int vnet_parse_dhcp_host(const char *s, struct vnet_dhcp_host *out, const char *field,
                         struct vnet_err *e);

/* Defaults for a network: DHCP on over the larger side of the subnet around the gateway
 * (.2-.254 for a .1/24 gateway, as libvirt does), 1 hour leases, the network name as domain,
 * no forwarders, no reservations. A network without an IPv4 address gets DHCP off. When
 * @netname is not a valid DNS name the domain stays empty and vnet_dhcp_validate asks for
 * one. Returns 0, or -EINVAL for an address no network may have (prefix over 30). */
int vnet_dhcp_init_defaults(struct vnet_dhcp *d, const char *netname,
                            const struct vnet_ipv4 *net);

/* Whole-object checks against the network's address: every field again (the struct may have
 * come from a file or a peer) and the consistency of the reservations. Fields named in @e:
 * "dhcp" (range), "lease-time", "domain", "dns-forwarder", and for reservations "mac",
 * "address" and "hostname". Returns 0 or -EINVAL. */
int vnet_dhcp_validate(const struct vnet_dhcp *d, const struct vnet_ipv4 *net,
                       struct vnet_err *e);

/* Adds a reservation after checking it against @net and the table: -EINVAL for a bad
 * reservation, -EEXIST when its MAC, address or hostname is already reserved, -ENOSPC when
 * the table is full; @e names the field in every case, and @d is unchanged on failure. */
int vnet_dhcp_host_add(struct vnet_dhcp *d, const struct vnet_ipv4 *net,
                       const struct vnet_dhcp_host *h, struct vnet_err *e);
/* Removes the reservation of @mac, keeping the order of the others: 0 or -ENOENT. */
int vnet_dhcp_host_remove(struct vnet_dhcp *d, const uint8_t mac[6]);
const struct vnet_dhcp_host *vnet_dhcp_host_find_mac(const struct vnet_dhcp *d,
                                                     const uint8_t mac[6]);

/* Adds an upstream resolver: -EINVAL when it is the gateway itself (dnsmasq would ask
 * itself), -EEXIST when listed already, -ENOSPC past VNET_DHCP_FORWARDERS_MAX; @e is filled
 * with field "dns-forwarder". */
int vnet_dhcp_forwarder_add(struct vnet_dhcp *d, const struct vnet_ipv4 *net, struct in_addr a,
                            struct vnet_err *e);

/* Number of addresses in the dynamic range (0 when DHCP is off). */
unsigned vnet_dhcp_range_size(const struct vnet_dhcp *d);

/* DHCP and DNS settings as given (command line, protocol, definition file), each already
 * checked on its own, before the network's address is known to check them against. */
struct vnet_dhcp_input {
        int enabled;             /* -1: the default, on when the network has an address */
        int dns;                 /* -1: the default, on */
        char range[48];          /* "START-END"; "": the default */
        unsigned lease_seconds;  /* 0: the default */
        bool has_domain;
        char domain[VNET_DOMAIN_MAX + 1];
        struct in_addr forwarders[VNET_DHCP_FORWARDERS_MAX];
        unsigned n_forwarders;
        struct vnet_dhcp_host hosts[VNET_DHCP_HOSTS_MAX];
        unsigned n_hosts;
};

void vnet_dhcp_input_init(struct vnet_dhcp_input *in);

/* The network's DHCP settings: defaults for what @in leaves out, then everything checked
 * against the network's address @net (prefix 0: no address, and then nothing may be asked). */
int vnet_dhcp_resolve(const struct vnet_dhcp_input *in, const char *netname,
                      const struct vnet_ipv4 *net, struct vnet_dhcp *out, struct vnet_err *e);
