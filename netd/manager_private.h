/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the manager's files share: manager.c (networks) and manager_ports.c (guest ports). */
#pragma once

#include "dnsmasq.h"
#include "link.h"
#include "manager.h"
#include "nft.h"
#include "ports.h"

/* The device group of spare TAPs (manager_ports.c): made by vnetd, not yet any port's. */
#define MGR_SPARE_GROUP 0x766e6574u /* "vnet" */

/* A TAP made ahead for a network's next port (manager_ports.c). */
struct spare {
        char ifname[VNET_IFNAME_MAX + 1]; /* "": none */
        int ifindex;                      /* 0: named by the runtime record, not yet seen */
        uint8_t mac[6];                   /* the TAP's own MAC (vnet_tap_mac()) */
};

/* One network: its definition and what vnetd knows of it in the kernel. */
struct net {
        struct vnet_network def;
        enum net_state state;
        char error[256];
        int ifindex; /* the bridge vnetd made or adopted, when running; also the device
                      * group of the TAPs vnetd made for it */
        struct spare spare;
        bool spare_wanted; /* it has had a port attached since it came up */
};

struct manager {
        char *state_dir, *run_dir;
        char *defs_dir;      /* CONFIG_DIR/networks */
        char *transient_dir; /* RUN_DIR/transient */
        char *records_dir;   /* RUN_DIR/networks: one record per running network */
        struct vnet_link *link;
        struct vnet_nft *nft;
        struct net **nets;
        size_t n_nets;
        struct ports *ports;
        struct dnsmasq_sup *dns;
        bool zero_dhcp_checksum;
        bool spare_taps;
};


int mgr_fail(struct mgr_error *e, enum mgr_error_kind kind, int errnum, const char *field,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));
struct net *mgr_find(struct manager *m, const char *name);
/* Writes the definition where it belongs (CONFIG_DIR, or RUN_DIR when transient). */
int mgr_save_def(struct manager *m, const struct vnet_network *def);
struct net *mgr_find_by_bridge(struct manager *m, const char *bridge);

/* Writes @n's runtime record (bridge, its index, the spare's name). */
int mgr_save_record(struct manager *m, const struct net *n);

/* Root, or a user or group in the network's allow lists. */
bool mgr_caller_allowed(const struct net *n, const struct mgr_caller *c);

/* Ports of network @n after it came up: adopts the interfaces that are there, re-creates the
 * TAPs of reservations whose TAP is missing, releases adopted ports whose interface has gone;
 * and puts its spare TAP back on the bridge if it left it. */
void mgr_ports_converge(struct manager *m, struct net *n);
/* Before the bridge of @n goes: deletes its TAPs and its spare in one kernel batch;
 * reservations stay. */
void mgr_ports_down(struct manager *m, struct net *n);
/* The network is destroyed: its reservations go too. */
void mgr_ports_forget(struct manager *m, struct net *n);
/* At start-up, for a running network whose runtime record names a spare: takes the TAP back
 * as its spare if it still is one, else forgets it. */
void mgr_spare_adopt(struct manager *m, struct net *n);

/* At start-up: reservations of networks that are no longer defined go, with their TAPs. */
void mgr_ports_reap_orphans(struct manager *m);

/* dnsmasq of network @n: started (or adopted, or reconfigured) to match its definition;
 * nothing for a network without an address. */
int mgr_dns_start(struct manager *m, struct net *n, struct mgr_error *e);
/* mgr_dns_start() that returns once dnsmasq is spawned, so that the networks' dnsmasq start
 * together; mgr_dns_wait() then waits for all of them. */
int mgr_dns_start_async(struct manager *m, struct net *n, struct mgr_error *e);
/* Waits until every dnsmasq started by mgr_dns_start_async() is ready; one that is not is
 * logged and left to its supervisor, which keeps retrying: its network stays running. */
void mgr_dns_wait(struct manager *m);
void mgr_dns_stop(struct manager *m, struct net *n);
/* The lease of @mac on @n, if any, is given back (dhcp_release), so the address is free. */
void mgr_dns_release(struct manager *m, struct net *n, const uint8_t mac[6]);
/* Saves @n's definition after a change of its reservations, and tells dnsmasq. */
int mgr_dns_hosts_changed(struct manager *m, struct net *n, const struct vnet_dhcp *old,
                          struct mgr_error *e);

/* A link event about the bridge of a running network: true if @ifindex is one (and, when
 * @deleted, the bridge has been made again). */
bool mgr_network_link_event(struct manager *m, int ifindex, bool deleted);
/* Link events were lost: repairs the running networks whose bridge is gone. */
void mgr_networks_resync(struct manager *m);
