/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The network model: one definition struct, validated once, here. Every value that reaches a
 * file, a netlink message or a command line has passed through these functions. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VNET_NAME_MAX   32 /* [A-Za-z0-9][A-Za-z0-9_.-]{0,31} */
#define VNET_IFNAME_MAX 15 /* kernel IFNAMSIZ - 1 */
#define VNET_MTU_MIN    68
#define VNET_MTU_MAX    65535
#define VNET_MTU_DEFAULT 1500

enum vnet_mode {
        VNET_MODE_NAT,
        VNET_MODE_ROUTED,
        VNET_MODE_ISOLATED,
        VNET_MODE_OPEN,
        _VNET_MODE_MAX,
};

/* A validation failure: which field, and why (one line, for people). */
struct vnet_err {
        char field[32];
        char message[200];
};

int vnet_err_set(struct vnet_err *e, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Untrusted input made printable for an error message into @buf: control bytes escaped (they
 * would let a caller forge log lines), long input cut with "...". */
const char *vnet_quote(const char *s, char *buf, size_t len);

struct vnet_ipv4 {
        struct in_addr addr; /* the gateway: the bridge's own address */
        unsigned prefix;     /* 0 when the network has no IPv4 address */
};

#define VNET_ALLOW_MAX 16 /* entries in a network's allow_users or allow_groups */
#define VNET_PRINCIPAL_MAX 32

/* A user or group as given: a name or a numeric id. Resolved when used, so that a user
 * created later is honoured. */
struct vnet_principals {
        unsigned n;
        char v[VNET_ALLOW_MAX][VNET_PRINCIPAL_MAX + 1];
};

/* DHCP and DNS for guests (dhcp.h has the parsers and checks). */
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
        bool enabled;                  /* DHCP */
        bool dns_disabled;             /* no DNS server for guests (with DHCP off: no dnsmasq) */
        struct in_addr start, end;     /* dynamic range, inclusive */
        unsigned lease_seconds;
        char domain[VNET_DOMAIN_MAX + 1];
        struct in_addr forwarders[VNET_DHCP_FORWARDERS_MAX]; /* none: no upstream at all */
        unsigned n_forwarders;
        struct vnet_dhcp_host hosts[VNET_DHCP_HOSTS_MAX];
        unsigned n_hosts;
};

struct vnet_network {
        char name[VNET_NAME_MAX + 1];
        char bridge[VNET_IFNAME_MAX + 1]; /* "" until allocated */
        enum vnet_mode mode;
        struct vnet_ipv4 ipv4;
        unsigned mtu;
        bool has_mac;
        uint8_t mac[6];
        bool stp;
        bool autostart;
        bool transient;
        struct vnet_principals allow_users;  /* may open TAPs through the bridge helper */
        struct vnet_principals allow_groups;
        struct vnet_dhcp dhcp; /* meaningful when the network has an IPv4 address */
};

#define VNET_QUEUES_MAX 64

/* A guest port: a reservation that exists before the VM starts. */
struct vnet_port {
        char network[VNET_NAME_MAX + 1];
        char ifname[VNET_IFNAME_MAX + 1];
        uint8_t mac[6]; /* the guest's MAC */
        long owner;     /* uid, -1 if none */
        long group;     /* gid, -1 if none */
        unsigned queues;
        bool adopted; /* an interface that existed; vnetd did not create it */
};

const char *vnet_mode_to_string(enum vnet_mode m);
/* Returns the mode, or -EINVAL. */
int vnet_mode_from_string(const char *s);

/* Sets defaults: mode nat, MTU 1500, no address, STP off. */
void vnet_network_init(struct vnet_network *n, const char *name);

/* Field parsers. Each returns 0 or -EINVAL and fills @e naming @field. */
int vnet_parse_name(const char *s, const char *field, struct vnet_err *e);
int vnet_parse_ifname(const char *s, const char *field, struct vnet_err *e);
int vnet_parse_ipv4_gateway(const char *s, struct vnet_ipv4 *out, const char *field,
                            struct vnet_err *e);
int vnet_parse_mac(const char *s, uint8_t mac[6], const char *field, struct vnet_err *e);
int vnet_parse_mtu(const char *s, unsigned *mtu, const char *field, struct vnet_err *e);
int vnet_parse_bool(const char *s, bool *b, const char *field, struct vnet_err *e);

/* A user or group name ([A-Za-z_][A-Za-z0-9_.-]*, at most 32) or a numeric id. */
int vnet_parse_principal(const char *s, const char *field, struct vnet_err *e);
/* Adds @s (validated) to @p; refuses duplicates and more than VNET_ALLOW_MAX. */
int vnet_principals_add(struct vnet_principals *p, const char *s, const char *field,
                        struct vnet_err *e);

/* Whole-definition checks that span fields (nat and routed need an address, ...). */
int vnet_network_validate(const struct vnet_network *n, struct vnet_err *e);

/* Network part of an address. */
struct in_addr vnet_ipv4_network(const struct vnet_ipv4 *a);
bool vnet_ipv4_overlap(struct in_addr a, unsigned alen, struct in_addr b, unsigned blen);

/* "aa:bb:cc:dd:ee:ff" into @buf (at least 18 bytes). */
char *vnet_mac_format(const uint8_t mac[6], char *buf);
/* "192.168.122.1/24" into @buf (at least 19 bytes). */
char *vnet_ipv4_format(const struct vnet_ipv4 *a, char *buf);
/* A random locally-administered-looking QEMU-prefix MAC, 52:54:00:xx:xx:xx. */
void vnet_mac_generate(uint8_t mac[6]);
