/* SPDX-License-Identifier: GPL-2.0-or-later */
/* DHCP and DNS for a network's guests: the model. Range, lease time, domain, upstream
 * forwarders and static reservations, validated here against the network's IPv4 address so
 * that the dnsmasq files generated from them (dnsmasq_conf.c) carry nothing unchecked. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "model.h"

#define VNET_HOSTNAME_MAX        63  /* one DNS label (RFC 1123) */
#define VNET_DOMAIN_MAX          253 /* a DNS name in text form, without the final dot */
#define VNET_DHCP_FORWARDERS_MAX 8
/* Fixed so that struct vnet_dhcp copies by value like struct vnet_network; a /24 has 253
 * guest addresses, so every one of them can be reserved. */
#define VNET_DHCP_HOSTS_MAX      256
/* dnsmasq raises anything shorter to 2 minutes anyway ("leases of a minute or less confuse
 * some clients"); a year bounds how long a stale lease can pin an address. */
#define VNET_LEASE_MIN           120u
#define VNET_LEASE_MAX           (365u * 24 * 3600)
#define VNET_LEASE_DEFAULT       3600u

/* A static reservation: this MAC always gets this address (and this name, when given). */
struct vnet_dhcp_host {
        uint8_t mac[6];
        struct in_addr ip;
        char hostname[VNET_HOSTNAME_MAX + 1]; /* "" for none */
};

struct vnet_dhcp {
        bool enabled;                  /* DHCP; DNS is served whenever dnsmasq runs */
        struct in_addr start, end;     /* dynamic range, inclusive */
        unsigned lease_seconds;
        char domain[VNET_DOMAIN_MAX + 1];
        struct in_addr forwarders[VNET_DHCP_FORWARDERS_MAX]; /* none: no upstream at all */
        unsigned n_forwarders;
        struct vnet_dhcp_host hosts[VNET_DHCP_HOSTS_MAX];
        unsigned n_hosts;
};

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
const struct vnet_dhcp_host *vnet_dhcp_host_find_ip(const struct vnet_dhcp *d,
                                                    struct in_addr ip);

/* Adds an upstream resolver: -EINVAL when it is the gateway itself (dnsmasq would ask
 * itself), -EEXIST when listed already, -ENOSPC past VNET_DHCP_FORWARDERS_MAX; @e is filled
 * with field "dns-forwarder". */
int vnet_dhcp_forwarder_add(struct vnet_dhcp *d, const struct vnet_ipv4 *net, struct in_addr a,
                            struct vnet_err *e);

/* Number of addresses in the dynamic range (0 when DHCP is off). */
unsigned vnet_dhcp_range_size(const struct vnet_dhcp *d);
