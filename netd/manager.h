/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The manager keeps the desired state (network definitions, which networks run), writes it to
 * disk before acting, and converges the kernel to it. Start-up is load + reconcile. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "dhcp.h"
#include "loop.h"
#include "model.h"

struct manager;

enum net_state {
        NET_STOPPED,
        NET_RUNNING,
        NET_FAILED, /* wanted running, but could not be brought up; see error */
        _NET_STATE_MAX,
};

/* Why an operation was refused; methods.c turns it into a varlink error. */
enum mgr_error_kind {
        MGR_ERR_INVALID,          /* err.field names the parameter */
        MGR_ERR_NOT_FOUND,        /* no network of that name */
        MGR_ERR_EXISTS,           /* a network of that name exists */
        MGR_ERR_ADDRESS_CONFLICT, /* overlapping subnet */
        MGR_ERR_INTERFACE_IN_USE, /* the bridge name is a foreign interface */
        MGR_ERR_SYSTEM,           /* the kernel or a file refused; errnum says why */
        MGR_ERR_NOT_RUNNING,      /* the network is not running */
        MGR_ERR_PORT_NOT_FOUND,   /* no such port on that network */
        MGR_ERR_PERMISSION,       /* the caller may not do this */
        _MGR_ERR_MAX,
};

struct mgr_error {
        enum mgr_error_kind kind;
        int errnum; /* positive errno for MGR_ERR_SYSTEM */
        struct vnet_err err;
        /* What a not-found, exists or not-running error is about, as the caller named it
         * (set with mgr_subject() where the error is made). */
        char network[64];
        char ifname[64];
};

/* Names what the error @e is about: a network (or the bridge the caller named) and a port. */
void mgr_subject(struct mgr_error *e, const char *network, const char *ifname);

struct manager_config {
        const char *config_dir; /* definitions in CONFIG_DIR/networks */
        const char *state_dir;
        const char *run_dir; /* runtime records in RUN_DIR/networks, transient definitions */
        struct loop *loop;   /* for the dnsmasq children */
        /* vnetd.conf ZeroDHCPChecksum=: zero the UDP checksum of DHCP replies to guests. */
        bool zero_dhcp_checksum;
        /* vnetd.conf SpareTAPs=: keep a TAP made ahead for each network's next port. */
        bool spare_taps;
};

int manager_new(const struct manager_config *cfg, struct manager **ret);
/* Forgets the in-memory state; networks keep running (the next vnetd adopts them). */
void manager_free(struct manager *m);

/* Loads definitions and runtime records and converges: adopts what runs, brings up autostart
 * networks once per boot, removes what vnetd owns and no longer wants. Failures of single
 * networks are logged and recorded in their state; only a failure of the whole (e.g. no
 * netlink) is returned. */
int manager_start(struct manager *m);

int manager_create(struct manager *m, const struct vnet_network *def, struct mgr_error *e);
int manager_start_network(struct manager *m, const char *name, struct mgr_error *e);
int manager_stop_network(struct manager *m, const char *name, struct mgr_error *e);
int manager_destroy(struct manager *m, const char *name, struct mgr_error *e);
int manager_set_mode(struct manager *m, const char *name, enum vnet_mode mode,
                     struct mgr_error *e);

/* NetworkStatus objects (new references); NULL from manager_network_json if unknown. */
json_t *manager_network_json(struct manager *m, const char *name);
json_t *manager_list_json(struct manager *m);

const char *net_state_to_string(enum net_state s);

/* --- guest ports --------------------------------------------------------------------------- */

/* Who is calling, for defaults (the owner of a new port) and for the networks' allow lists. */
struct mgr_caller {
        uid_t uid;
        gid_t gid;
        bool privileged; /* root or the admin group */
        bool (*in_group)(const void *ctx, gid_t gid); /* supplementary groups */
        const void *ctx;
};

struct mgr_port_request {
        const char *ip;       /* with hostname: a static DHCP reservation for the port's MAC */
        const char *hostname;
        const char *network;
        const char *ifname; /* NULL: allocate vnetN */
        const char *mac;    /* NULL: allocate */
        const char *owner;  /* name or uid */
        const char *group;  /* name or gid */
        unsigned queues;    /* 0: 1 */
};

/* Each returns 0 and sets *ifname_out (a buffer of 16) to the port's interface, or fails with
 * @e filled and nothing changed. */
int manager_port_attach(struct manager *m, const struct mgr_port_request *req,
                        const struct mgr_caller *caller, char *ifname_out, struct mgr_error *e);
int manager_port_detach(struct manager *m, const char *network, const char *ifname,
                        struct mgr_error *e);
int manager_port_up(struct manager *m, const char *ifname, const char *network,
                    const char *mac, const struct mgr_caller *caller, char *ifname_out,
                    struct mgr_error *e);
int manager_port_down(struct manager *m, const char *ifname, const struct mgr_caller *caller,
                      struct mgr_error *e);
/* A TAP fd for the caller on the network named, or whose bridge is named, @bridge. */
int manager_open_tap(struct manager *m, const char *bridge, bool vnet_hdr,
                     const struct mgr_caller *caller, int *fd, char *ifname_out,
                     struct mgr_error *e);

/* Work for when no request waits (loop_set_idle()): makes the spare TAPs that networks want,
 * one per call. True while more remains. */
bool manager_idle(struct manager *m);

/* Port objects (protocol's Port); NULL if unknown. */
json_t *manager_port_json(struct manager *m, const char *ifname);
/* The ports of @network; NULL and @e filled if the network is unknown. */
json_t *manager_ports_json(struct manager *m, const char *network, struct mgr_error *e);

/* A link changed or went away (rtnetlink); keeps ports in step with the kernel. */
void manager_link_event(struct manager *m, int ifindex, bool deleted, int master, bool carrier);
/* Link events were lost: repairs networks whose bridge is gone, then re-reads every port. */
void manager_link_resync(struct manager *m);
/* Interface @ifindex (0: some interface) went down or away: IPv4 routes through it are gone
 * without a word. */
void manager_link_down(struct manager *m, int ifindex);

/* --- DHCP reservations and leases ------------------------------------------------------------ */

int manager_host_add(struct manager *m, const char *network, const struct vnet_dhcp_host *h,
                     struct mgr_error *e);
int manager_host_remove(struct manager *m, const char *network, const uint8_t mac[6],
                        struct mgr_error *e);
/* Host objects of @network, or NULL with @e filled. */
json_t *manager_hosts_json(struct manager *m, const char *network, struct mgr_error *e);
/* Lease objects (mac, address, hostname, expires) from dnsmasq's lease file. */
json_t *manager_leases_json(struct manager *m, const char *network, struct mgr_error *e);

/* Re-reads the definitions in CONFIG_DIR and converges to them: new ones are defined (and
 * started when Autostart=yes), changed ones are applied in place, removed ones are destroyed;
 * what did not change is not touched. A broken file keeps the network's old definition. */
int manager_reload(struct manager *m);

/* The firewall table may have been changed by someone else (an nftables event): if it no
 * longer is what vnetd made, it is rebuilt in one transaction. */
void manager_rules_check(struct manager *m);
