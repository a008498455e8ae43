/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest ports: reservations (ports.c) made real as TAPs on the network's bridge. The
 * reservation is written before the kernel is touched; the kernel follows. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"
#include "log.h"
#include "manager_private.h"
#include "network_json.h"
#include "dhcp.h"
#include "nss.h"
#include "tap.h"

static const char *port_state(struct manager *m, const struct port *pt)
{
        struct net *n = mgr_find(m, pt->p.network);

        if (!n || n->state != NET_RUNNING || pt->ifindex <= 0)
                return "stopped";
        return pt->carrier ? "up" : "down";
}

static json_t *port_json(struct manager *m, const struct port *pt)
{
        json_t *o = vnet_port_to_json(&pt->p);

        if (o)
                json_object_set_new(o, "state", json_string(port_state(m, pt)));
        return o;
}

json_t *manager_port_json(struct manager *m, const char *ifname)
{
        struct port *pt = ports_find(m->ports, ifname);

        return pt ? port_json(m, pt) : NULL;
}

static int cmp_ifname(const void *a, const void *b)
{
        return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "ifname")),
                      json_string_value(json_object_get(*(json_t *const *)b, "ifname")));
}

static void sort_by_ifname(json_t *a)
{
        size_t n = json_array_size(a);
        json_t **v = n ? malloc(n * sizeof(*v)) : NULL;

        if (!v)
                return;
        for (size_t i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(a, i));
        qsort(v, n, sizeof(*v), cmp_ifname);
        json_array_clear(a);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(a, v[i]);
        free(v);
}

json_t *manager_ports_json(struct manager *m, const char *network, struct mgr_error *e)
{
        json_t *a;

        if (!mgr_find(m, network)) {
                mgr_subject(e, network, NULL);
                mgr_fail(e, MGR_ERR_NOT_FOUND, 0, "network", "network '%s' not found", network);
                return NULL;
        }
        a = json_array();
        for (size_t i = 0; a && i < ports_count(m->ports); i++) {
                struct port *pt = ports_at(m->ports, i);
                if (strcmp(pt->p.network, network) == 0)
                        json_array_append_new(a, port_json(m, pt));
        }
        /* By name, as list sorts networks: the same listing before and after a restart. */
        if (a)
                sort_by_ifname(a);
        return a;
}

/* --- kernel side --------------------------------------------------------------------------- */

/* Puts the port's interface @info (as just read) on the bridge of @n with the port's MAC,
 * the bridge's MTU and the network's device group, sending nothing when all of that is
 * already so. */
static int enslave(struct manager *m, struct net *n, struct port *pt,
                   const struct vnet_link_info *info)
{
        struct vnet_port_link pl = { .master = n->ifindex, .mtu = n->def.mtu };

        if (!pt->p.adopted) {
                vnet_tap_mac(pt->p.mac, pl.mac);
                pl.group = (uint32_t)n->ifindex;
        }
        pt->ifindex = info->ifindex;
        pt->carrier = info->carrier;
        if (info->master == pl.master && info->mtu == pl.mtu && info->up &&
            (pt->p.adopted || (memcmp(info->mac, pl.mac, 6) == 0 && info->group == pl.group)))
                return 0;
        /* An adopted TAP takes the guest-derived MAC too when the guest's MAC is known to be
         * this port's: the bridge must never take a port MAC as its own. */
        if (pt->p.adopted && strcmp(info->kind, "tun") == 0)
                vnet_tap_mac(pt->p.mac, pl.mac);
        return vnet_link_enslave(m->link, info->ifindex, &pl);
}

static int create_tap(struct manager *m, struct net *n, struct port *pt)
{
        struct vnet_tap_spec spec = {
                .ifname = pt->p.ifname,
                .owner = pt->p.owner >= 0 ? (uid_t)pt->p.owner : (uid_t)-1,
                .group = pt->p.group >= 0 ? (gid_t)pt->p.group : (gid_t)-1,
                .queues = pt->p.queues,
        };
        struct vnet_link_info info;
        int ifindex = 0, r;

        r = vnet_tap_create(&spec, &ifindex);
        if (r < 0)
                return r;
        /* All of the new TAP is known, yet reading it is worth its cost: the read has the
         * kernel settle the carrier loss of the fd just closed first, so the bridge takes
         * the port in disabled instead of enabling it (STP, multicast timers) and disabling
         * it again right after. Without it, starting a network with 1000 ports took 1.1 s
         * instead of 0.6 s. */
        r = vnet_link_get_index(m->link, ifindex, &info);
        if (r == 0)
                r = enslave(m, n, pt, &info);
        if (r < 0) {
                vnet_link_delete(m->link, ifindex);
                pt->ifindex = 0;
        }
        return r;
}

/* --- spare TAPs ----------------------------------------------------------------------------
 * Most of an attach is the kernel making the TAP: registering a device (sysfs, per-device IPv4
 * and IPv6 state) and adding a bridge port, which costs more with every port the bridge has.
 * A network that has had a port attached keeps one TAP made ahead, right after each attach's
 * reply (manager_idle(), before the next request is read): named and MAC'd as its next port
 * would be, with the bridge's MTU, on the bridge, down, owned by root.
 * An attach that can use it (no name or the spare's, one queue, an owner) only gives it its
 * owner and group and brings it up.
 *
 * The spare is in device group MGR_SPARE_GROUP until then, and the runtime record names it,
 * so a restarted vnetd takes it back (mgr_spare_adopt); a TAP of that name in any other group
 * is a port or someone else's. */

static int allocate_ifname(struct manager *m, char out[VNET_IFNAME_MAX + 1], struct mgr_error *e);

static void spare_forget(struct net *n)
{
        memset(&n->spare, 0, sizeof(n->spare));
}

/* The network whose spare is @ifname, if any. */
static struct net *spare_holder(struct manager *m, const char *ifname)
{
        for (size_t i = 0; i < m->n_nets; i++)
                if (m->nets[i]->spare.ifindex > 0 && strcmp(m->nets[i]->spare.ifname, ifname) == 0)
                        return m->nets[i];
        return NULL;
}

static void spare_delete(struct manager *m, struct net *n)
{
        int r;

        if (n->spare.ifindex > 0) {
                r = vnet_link_delete(m->link, n->spare.ifindex);
                if (r < 0 && r != -ENODEV)
                        log_warning("network %s: cannot delete spare TAP %s: %s", n->def.name,
                                    n->spare.ifname, strerror(-r));
        }
        spare_forget(n);
}

static int spare_make(struct manager *m, struct net *n)
{
        struct mgr_error e = { 0 };
        struct vnet_port_link pl = { .master = n->ifindex, .mtu = n->def.mtu,
                                     .group = MGR_SPARE_GROUP, .keep_down = true };
        struct vnet_tap_spec spec = { .owner = 0, .group = (gid_t)-1, .queues = 1,
                                      .no_carrier = true };
        struct vnet_link_info info;
        struct spare s = { 0 };
        uint8_t guest[6];
        int fd = -1, r;

        r = allocate_ifname(m, s.ifname, &e);
        if (r < 0)
                return r;
        ports_mac_for(m->ports, n->def.name, s.ifname, guest);
        vnet_tap_mac(guest, s.mac);
        memcpy(pl.mac, s.mac, 6);
        /* Named in the record before it exists, and persistent only once it is in the spare
         * group: until then our fd is all that holds it. A vnetd that dies at any point
         * leaves either nothing or a spare that the next one recognises. */
        n->spare = s;
        r = mgr_save_record(m, n);
        crash_point("spare:named");
        spec.ifname = s.ifname;
        if (r == 0)
                r = vnet_tap_open_transient(&spec, &fd);
        /* Settles the carrier, as in create_tap(): the port must come up disabled. */
        if (r == 0)
                r = vnet_link_get(m->link, s.ifname, &info);
        if (r == 0)
                r = vnet_link_enslave(m->link, info.ifindex, &pl);
        crash_point("spare:enslaved");
        if (r == 0)
                r = vnet_tap_persist(fd);
        if (fd >= 0)
                close(fd);
        if (r < 0) {
                spare_forget(n);
                return r;
        }
        s.ifindex = info.ifindex;
        n->spare = s;
        return 0;
}

/* The spare of @n becomes the TAP of its new port @pt, which has the spare's name: owner and
 * group, MAC (only if the port's differs), the port's device group, up. It is no longer a
 * spare whatever happens; on failure it is deleted and the caller makes a TAP as usual. */
static int spare_take(struct manager *m, struct net *n, struct port *pt)
{
        struct vnet_port_link pl = { .master = n->ifindex, .mtu = n->def.mtu,
                                     .group = (uint32_t)n->ifindex };
        struct spare s = n->spare;
        uint8_t mac[6];
        int r;

        spare_forget(n);
        vnet_tap_mac(pt->p.mac, mac);
        if (memcmp(mac, s.mac, 6) != 0)
                memcpy(pl.mac, mac, 6);
        r = vnet_tap_set_owner(s.ifname, s.ifindex, (uid_t)pt->p.owner,
                               pt->p.group >= 0 ? (gid_t)pt->p.group : (gid_t)-1);
        if (r == 0)
                r = vnet_link_enslave(m->link, s.ifindex, &pl);
        if (r < 0) {
                log_warning("network %s: spare TAP %s unusable (%s); making a new one",
                            n->def.name, s.ifname, strerror(-r));
                if (r != -ENODEV)
                        vnet_link_delete(m->link, s.ifindex);
                return r;
        }
        pt->ifindex = s.ifindex;
        pt->carrier = false;
        return 0;
}

/* Spare @n (@info: its link as just read) as it should be: on the bridge, down, with the
 * bridge's MTU, in the spare group; deleted if someone brought it up. */
static void spare_fix(struct manager *m, struct net *n, const struct vnet_link_info *info)
{
        struct vnet_port_link pl = { .master = n->ifindex, .mtu = n->def.mtu,
                                     .group = MGR_SPARE_GROUP, .keep_down = true };

        if (info->master == n->ifindex && info->mtu == n->def.mtu && !info->up &&
            info->group == MGR_SPARE_GROUP)
                return;
        if (info->up || vnet_link_enslave(m->link, info->ifindex, &pl) < 0)
                spare_delete(m, n);
}

/* The spare after its bridge was made again (repair) or its MTU changed; forgotten if it is
 * gone. */
static void spare_converge(struct manager *m, struct net *n)
{
        struct vnet_link_info info;

        if (n->spare.ifindex <= 0)
                return;
        if (vnet_link_get_index(m->link, n->spare.ifindex, &info) < 0 ||
            strcmp(info.name, n->spare.ifname) != 0) {
                spare_forget(n);
                return;
        }
        spare_fix(m, n, &info);
}

void mgr_spare_adopt(struct manager *m, struct net *n)
{
        struct vnet_link_info info;

        if (!n->spare.ifname[0] || n->spare.ifindex > 0)
                return;
        if (ports_find(m->ports, n->spare.ifname) ||
            vnet_link_get(m->link, n->spare.ifname, &info) < 0 ||
            strcmp(info.kind, "tun") != 0 || info.group != MGR_SPARE_GROUP) {
                spare_forget(n);
                return;
        }
        n->spare.ifindex = info.ifindex;
        memcpy(n->spare.mac, info.mac, 6);
        if (!m->spare_taps) { /* no longer wanted (SpareTAPs=no) */
                spare_delete(m, n);
                return;
        }
        spare_fix(m, n, &info);
        n->spare_wanted = n->spare.ifindex > 0;
}

bool manager_idle(struct manager *m)
{
        for (size_t i = 0; i < m->n_nets; i++) {
                struct net *n = m->nets[i];
                int r;

                if (n->state != NET_RUNNING || !n->spare_wanted || n->spare.ifindex > 0)
                        continue;
                r = spare_make(m, n);
                if (r < 0) {
                        /* Until the next attach: no retrying in a loop. */
                        n->spare_wanted = false;
                        log_warning("network %s: cannot make a spare TAP: %s", n->def.name,
                                    strerror(-r));
                }
                /* One at a time, so that requests come first. */
                return true;
        }
        return false;
}

static void release(struct manager *m, struct port *pt, const char *why)
{
        log_info("port %s of network %s released: %s", pt->p.ifname, pt->p.network, why);
        ports_remove(m->ports, pt);
}

void mgr_ports_converge(struct manager *m, struct net *n)
{
        for (size_t i = 0; i < ports_count(m->ports);) {
                struct port *pt = ports_at(m->ports, i);
                struct vnet_link_info info;
                int r;

                if (strcmp(pt->p.network, n->def.name) != 0) {
                        i++;
                        continue;
                }
                r = vnet_link_get(m->link, pt->p.ifname, &info);
                /* A reservation is desired state: its TAP is made again when missing, also
                 * after a crash between deleting it and forgetting it (a stop or detach that
                 * was never acknowledged). Only a link event at run time, someone deleting
                 * the TAP while vnetd watches, releases a port. */
                if (r == -ENODEV && !pt->p.adopted) {
                        r = create_tap(m, n, pt);
                        if (r < 0)
                                log_error("port %s: cannot create its TAP: %s", pt->p.ifname,
                                          strerror(-r));
                        i++;
                        continue;
                }
                if (r == -ENODEV) {
                        release(m, pt, "its interface has gone");
                        continue;
                }
                r = r < 0 ? r : enslave(m, n, pt, &info);
                if (r < 0)
                        log_error("port %s: cannot put it on %s: %s", pt->p.ifname,
                                  n->def.bridge, strerror(-r));
                i++;
        }
        spare_converge(m, n);
}

void mgr_ports_down(struct manager *m, struct net *n)
{
        bool any = false;
        int r;

        for (size_t i = 0; i < ports_count(m->ports); i++) {
                struct port *pt = ports_at(m->ports, i);
                if (strcmp(pt->p.network, n->def.name) != 0)
                        continue;
                /* Forget the index first: the deletions below come back as link events. */
                pt->ifindex = 0;
                pt->carrier = false;
                any = any || !pt->p.adopted;
        }
        n->spare_wanted = false;
        /* The spare joins the ports' group: one batch for all. */
        if (n->spare.ifindex > 0 && n->ifindex > 0 &&
            vnet_link_set_group(m->link, n->spare.ifindex, (uint32_t)n->ifindex) == 0)
                any = true;
        else
                spare_delete(m, n);
        spare_forget(n);
        if (!any || n->ifindex <= 0)
                return;
        /* All TAPs of the network in one unregister batch; adopted interfaces leave the bridge
         * when it goes. */
        r = vnet_link_delete_group(m->link, (uint32_t)n->ifindex);
        if (r < 0 && r != -ENODEV)
                log_warning("network %s: cannot delete its TAPs: %s", n->def.name, strerror(-r));
}

static void delete_port_link(struct manager *m, struct port *pt, int ifindex)
{
        int r;

        if (ifindex <= 0)
                return;
        r = pt->p.adopted ? vnet_link_release(m->link, ifindex) : vnet_link_delete(m->link, ifindex);
        if (r < 0 && r != -ENODEV)
                log_warning("port %s: %s", pt->p.ifname, strerror(-r));
}

void mgr_ports_forget(struct manager *m, struct net *n)
{
        for (size_t i = 0; i < ports_count(m->ports);) {
                struct port *pt = ports_at(m->ports, i);
                if (strcmp(pt->p.network, n->def.name) != 0) {
                        i++;
                        continue;
                }
                ports_remove(m->ports, pt);
        }
}

void mgr_ports_reap_orphans(struct manager *m)
{
        for (size_t i = 0; i < ports_count(m->ports);) {
                struct port *pt = ports_at(m->ports, i);
                struct vnet_link_info info;

                if (mgr_find(m, pt->p.network)) {
                        i++;
                        continue;
                }
                if (!pt->p.adopted && vnet_link_get(m->link, pt->p.ifname, &info) == 0 &&
                    strcmp(info.kind, "tun") == 0)
                        delete_port_link(m, pt, info.ifindex);
                release(m, pt, "its network is no longer defined");
        }
}

/* --- requests ------------------------------------------------------------------------------ */

static int resolve_id(const char *s, bool user, long *id, const char *field, struct mgr_error *e)
{
        uid_t uid;
        gid_t gid;
        int r;

        r = vnet_parse_principal(s, field, &e->err);
        if (r < 0) {
                e->kind = MGR_ERR_INVALID;
                return r;
        }
        if (s[0] >= '0' && s[0] <= '9') {
                *id = strtol(s, NULL, 10);
                return 0;
        }
        r = user ? vnet_user_by_name(s, &uid) : vnet_group_by_name(s, &gid);
        if (r > 0) {
                *id = user ? (long)uid : (long)gid;
                return 0;
        }
        if (r < 0)
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, field, "cannot look up %s '%s': %s",
                                user ? "user" : "group", s, strerror(-r));
        return mgr_fail(e, MGR_ERR_INVALID, 0, field, "invalid %s '%s': no such %s", field, s,
                        user ? "user" : "group");
}

static struct net *running_net(struct manager *m, const char *name, struct mgr_error *e)
{
        struct net *n = mgr_find(m, name);

        mgr_subject(e, name, NULL);
        if (!n) {
                mgr_fail(e, MGR_ERR_NOT_FOUND, 0, "network", "network '%s' not found", name);
                return NULL;
        }
        if (n->state != NET_RUNNING) {
                mgr_fail(e, MGR_ERR_NOT_RUNNING, 0, "network", "network '%s' is not running",
                         name);
                return NULL;
        }
        return n;
}

/* The lowest vnetN that no port holds and no interface has. The ports' numbers are marked
 * once (a scan per candidate would make the 1000th attach cost a million compares). */
static int allocate_ifname(struct manager *m, char out[VNET_IFNAME_MAX + 1], struct mgr_error *e)
{
        size_t n = ports_count(m->ports) + 1, cap = n + 1;
        bool *used = calloc(cap, sizeof(*used));
        int r = 0;

        if (!used)
                return -ENOMEM;
        for (size_t i = 0; i < n - 1; i++) {
                const char *name = ports_at(m->ports, i)->p.ifname;
                char *end;
                unsigned long k;

                if (strncmp(name, "vnet", 4) != 0 || name[4] < '0' || name[4] > '9')
                        continue;
                k = strtoul(name + 4, &end, 10);
                if (!*end && k < cap)
                        used[k] = true;
        }
        /* More candidates than ports: one of the first n+1 is free of ports; interfaces of
         * other owners may take some, so go on past them if need be. */
        for (unsigned long k = 0; k < 100000; k++) {
                if (k < cap && used[k])
                        continue;
                snprintf(out, VNET_IFNAME_MAX + 1, "vnet%lu", k);
                if (k >= cap && ports_find(m->ports, out))
                        continue;
                /* An ioctl, not a netlink round trip: only whether the name is taken. */
                if (if_nametoindex(out) != 0)
                        continue;
                r = errno == ENODEV ? 0 : mgr_fail(e, MGR_ERR_SYSTEM, errno, "ifname",
                                                   "cannot look up %s: %s", out, strerror(errno));
                goto out;
        }
        r = mgr_fail(e, MGR_ERR_SYSTEM, ENOSPC, "ifname", "no free vnetN name");
out:
        free(used);
        return r;
}

/* An existing interface may become a port only if it is no one else's: not a bridge, not on
 * another bridge, and not the host's own uplink (it carries addresses or routes). */
static int check_adoptable(struct manager *m, struct net *n, const struct vnet_link_info *info,
                           struct mgr_error *e)
{
        char what[160];
        int r;

        if (info->ifindex == 1 || strcmp(info->kind, "bridge") == 0)
                return mgr_fail(e, MGR_ERR_INVALID, 0, "ifname",
                                "invalid ifname '%s': a %s cannot be a port", info->name,
                                info->ifindex == 1 ? "loopback" : "bridge");
        if (info->master > 0 && info->master != n->ifindex) {
                struct vnet_link_info br;
                const char *brname =
                        vnet_link_get_index(m->link, info->master, &br) == 0 ? br.name : "?";
                return mgr_fail(e, MGR_ERR_INVALID, 0, "ifname",
                                "invalid ifname '%s': already a port of bridge %s", info->name,
                                brname);
        }
        r = vnet_link_in_use(m->link, info->ifindex, what, sizeof(what));
        if (r < 0)
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, "ifname", "cannot inspect %s: %s",
                                info->name, strerror(-r));
        if (r > 0)
                return mgr_fail(e, MGR_ERR_INVALID, 0, "ifname",
                                "invalid ifname '%s': it carries %s; an uplink cannot be a port",
                                info->name, what);
        return 0;
}

static int pick_mac(struct manager *m, const char *network, const char *ifname, const char *mac,
                    uint8_t out[6], struct mgr_error *e)
{
        int r;

        if (!mac) {
                ports_mac_for(m->ports, network, ifname, out);
                return 0;
        }
        r = vnet_parse_mac(mac, out, "mac", &e->err);
        if (r < 0) {
                e->kind = MGR_ERR_INVALID;
                return r;
        }
        struct port *o = ports_find_mac(m->ports, out);
        if (o)
                return mgr_fail(e, MGR_ERR_INVALID, 0, "mac",
                                "invalid mac %s: already the MAC of port %s", mac, o->p.ifname);
        return 0;
}

/* Adopts the existing interface @info as a port of @n. */
static int adopt_port(struct manager *m, struct net *n, const struct vnet_link_info *info,
                      const uint8_t mac[6], long owner, long group, struct mgr_error *e)
{
        struct vnet_port p = { .owner = owner, .group = group, .queues = 1, .adopted = true };
        struct port *pt;
        int r;

        r = check_adoptable(m, n, info, e);
        if (r < 0)
                return r;
        snprintf(p.network, sizeof(p.network), "%s", n->def.name);
        snprintf(p.ifname, sizeof(p.ifname), "%s", info->name);
        memcpy(p.mac, mac, 6);
        r = ports_add(m->ports, &p, &pt);
        if (r < 0)
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, "", "cannot record the port: %s",
                                strerror(-r));
        r = enslave(m, n, pt, info);
        if (r < 0) {
                ports_remove(m->ports, pt);
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, "ifname", "cannot put %s on %s: %s",
                                info->name, n->def.bridge, strerror(-r));
        }
        log_info("port %s adopted on network %s", info->name, n->def.name);
        return 0;
}

/* The static reservation asked for with a port (--ip, --hostname), checked against the
 * network before anything is made: *out is the network's DHCP settings with it added, or NULL
 * when none was asked for. */
static int plan_reservation(struct net *n, const struct mgr_port_request *req,
                            const uint8_t mac[6], struct vnet_dhcp **out, struct mgr_error *e)
{
        struct vnet_dhcp_host h = { 0 };
        int r;

        *out = NULL;
        if (!req->ip && !req->hostname)
                return 0;
        if (!req->ip)
                return mgr_fail(e, MGR_ERR_INVALID, 0, "hostname",
                                "invalid hostname: a reservation needs an address (ip)");
        if (!n->def.ipv4.prefix)
                return mgr_fail(e, MGR_ERR_INVALID, 0, "ip",
                                "invalid ip: network '%s' has no IPv4 address", n->def.name);
        memcpy(h.mac, mac, 6);
        r = vnet_parse_ipv4_addr(req->ip, &h.ip, "ip", &e->err);
        if (r == 0 && req->hostname) {
                r = vnet_parse_hostname(req->hostname, "hostname", &e->err);
                if (r == 0)
                        snprintf(h.hostname, sizeof(h.hostname), "%s", req->hostname);
        }
        if (r < 0) {
                e->kind = MGR_ERR_INVALID;
                return -EINVAL;
        }
        *out = malloc(sizeof(**out));
        if (!*out)
                return -ENOMEM;
        **out = n->def.dhcp;
        /* A reservation this MAC already had is replaced by the one asked for now. */
        vnet_dhcp_host_remove(*out, mac);
        r = vnet_dhcp_host_add(*out, &n->def.ipv4, &h, &e->err);
        if (r < 0) {
                free(*out);
                *out = NULL;
                e->kind = MGR_ERR_INVALID;
                return -EINVAL;
        }
        return 0;
}

/* Puts the reservation planned by plan_reservation() in place (it takes @planned): the
 * definition on disk, then dnsmasq. *undo gets what was there before, for undo_reservation(),
 * or NULL when nothing was planned. On failure nothing has changed. */
static int commit_reservation(struct manager *m, struct net *n, struct vnet_dhcp *planned,
                              struct vnet_dhcp **undo, struct mgr_error *e)
{
        int r;

        *undo = NULL;
        if (!planned)
                return 0;
        *undo = malloc(sizeof(**undo));
        if (!*undo) {
                free(planned);
                return mgr_fail(e, MGR_ERR_SYSTEM, ENOMEM, "", "%s", strerror(ENOMEM));
        }
        **undo = n->def.dhcp;
        n->def.dhcp = *planned;
        free(planned);
        /* On failure it puts the old reservations back itself. */
        r = mgr_dns_hosts_changed(m, n, *undo, e);
        if (r < 0) {
                free(*undo);
                *undo = NULL;
        }
        return r;
}

/* The port did not come about after all: its reservation goes again (takes @undo). */
static void undo_reservation(struct manager *m, struct net *n, struct vnet_dhcp *undo)
{
        struct mgr_error e = { 0 };
        struct vnet_dhcp *cur;

        if (!undo)
                return;
        cur = malloc(sizeof(*cur));
        if (cur) {
                *cur = n->def.dhcp;
                n->def.dhcp = *undo;
                if (mgr_dns_hosts_changed(m, n, cur, &e) < 0)
                        log_error("network %s: the reservation of a port that failed stays: %s",
                                  n->def.name, e.err.message);
        }
        free(cur);
        free(undo);
}

int manager_port_attach(struct manager *m, const struct mgr_port_request *req,
                        const struct mgr_caller *caller, char *ifname_out, struct mgr_error *e)
{
        struct vnet_port p = { .owner = -1, .group = -1, .queues = req->queues ? req->queues : 1 };
        struct vnet_dhcp *planned = NULL, *undo = NULL;
        struct vnet_link_info info;
        struct port *pt, *other;
        struct net *n;
        int r;

        /* Names first, before any policy decision or lookup. */
        if (req->ifname) {
                r = vnet_parse_ifname(req->ifname, "ifname", &e->err);
                if (r < 0) {
                        e->kind = MGR_ERR_INVALID;
                        return r;
                }
        }
        if (p.queues > VNET_QUEUES_MAX)
                return mgr_fail(e, MGR_ERR_INVALID, 0, "queues",
                                "invalid queues %u: must be in 1..%d", p.queues, VNET_QUEUES_MAX);
        if (req->owner && (r = resolve_id(req->owner, true, &p.owner, "owner", e)) < 0)
                return r;
        if (req->group && (r = resolve_id(req->group, false, &p.group, "group", e)) < 0)
                return r;
        if (!req->owner && !req->group)
                p.owner = (long)caller->uid;
        n = running_net(m, req->network, e);
        if (!n)
                return -ENOENT;
        if (req->ifname && (other = ports_find(m->ports, req->ifname)))
                return mgr_fail(e, MGR_ERR_INVALID, 0, "ifname",
                                "invalid ifname '%s': already a port of network '%s'",
                                req->ifname, other->p.network);
        /* The spare serves a plain port: one queue, an owner (it has root as owner, which
         * can be changed but not removed), and the name it has or none asked for. */
        struct net *holder = req->ifname ? spare_holder(m, req->ifname) : NULL;
        bool spare = p.queues == 1 && p.owner >= 0 && n->spare.ifindex > 0 &&
                     (!req->ifname || holder == n);
        if (spare) {
                snprintf(p.ifname, sizeof(p.ifname), "%s", n->spare.ifname);
                holder = NULL;
        } else if (holder) {
                /* A spare that cannot serve: it gives up the name (below, once the request is
                 * known to be good), and a TAP is made. */
                snprintf(p.ifname, sizeof(p.ifname), "%s", req->ifname);
        } else if (req->ifname) {
                r = vnet_link_get(m->link, req->ifname, &info);
                if (r == 0) {
                        if (p.queues > 1)
                                return mgr_fail(e, MGR_ERR_INVALID, 0, "queues",
                                                "invalid queues: an adopted interface keeps its "
                                                "own queues");
                        r = pick_mac(m, n->def.name, req->ifname, req->mac, p.mac, e);
                        if (r == 0)
                                r = plan_reservation(n, req, p.mac, &planned, e);
                        if (r == 0)
                                r = commit_reservation(m, n, planned, &undo, e);
                        if (r < 0)
                                return r;
                        r = adopt_port(m, n, &info, p.mac, p.owner, p.group, e);
                        if (r < 0) {
                                undo_reservation(m, n, undo);
                                return r;
                        }
                        free(undo);
                        snprintf(ifname_out, VNET_IFNAME_MAX + 1, "%s", req->ifname);
                        return 0;
                }
                if (r != -ENODEV)
                        return mgr_fail(e, MGR_ERR_SYSTEM, -r, "ifname", "cannot look up %s: %s",
                                        req->ifname, strerror(-r));
                snprintf(p.ifname, sizeof(p.ifname), "%s", req->ifname);
        } else {
                r = allocate_ifname(m, p.ifname, e);
                if (r < 0)
                        return r;
        }
        r = pick_mac(m, n->def.name, p.ifname, req->mac, p.mac, e);
        if (r == 0)
                r = plan_reservation(n, req, p.mac, &planned, e);
        if (r < 0)
                return r;
        snprintf(p.network, sizeof(p.network), "%s", n->def.name);

        r = ports_add(m->ports, &p, &pt);
        if (r < 0) {
                free(planned);
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, "", "cannot record the port: %s",
                                strerror(-r));
        }
        crash_point("attach:reserved");
        /* The address reservation before the kernel: a definition that cannot be written
         * refuses the attach with nothing made. */
        r = commit_reservation(m, n, planned, &undo, e);
        if (r < 0) {
                ports_remove(m->ports, pt);
                return r;
        }
        if (holder)
                spare_delete(m, holder);
        r = spare ? spare_take(m, n, pt) : -ENODEV;
        if (r < 0)
                r = create_tap(m, n, pt);
        if (r < 0) {
                undo_reservation(m, n, undo);
                ports_remove(m->ports, pt);
                if (r == -EEXIST)
                        return mgr_fail(e, MGR_ERR_INVALID, 0, "ifname",
                                        "invalid ifname '%s': the name is taken", p.ifname);
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, "", "cannot create TAP %s: %s", p.ifname,
                                strerror(-r));
        }
        crash_point("attach:tap");
        free(undo);
        snprintf(ifname_out, VNET_IFNAME_MAX + 1, "%s", p.ifname);
        log_info("port %s attached to network %s", p.ifname, n->def.name);
        n->spare_wanted = m->spare_taps;
        return 0;
}

int manager_port_detach(struct manager *m, const char *network, const char *ifname,
                        struct mgr_error *e)
{
        char net[sizeof(((struct vnet_port *)0)->network)];
        struct port *pt;
        int ifindex, r;

        r = vnet_parse_ifname(ifname, "ifname", &e->err);
        if (r < 0) {
                e->kind = MGR_ERR_INVALID;
                return r;
        }
        mgr_subject(e, network, ifname);
        if (!mgr_find(m, network))
                return mgr_fail(e, MGR_ERR_NOT_FOUND, 0, "network", "network '%s' not found",
                                network);
        pt = ports_find(m->ports, ifname);
        if (!pt || strcmp(pt->p.network, network) != 0)
                return mgr_fail(e, MGR_ERR_PORT_NOT_FOUND, 0, "ifname",
                                "%s is not a port of network '%s'", ifname, network);
        /* @network may be the port's own (manager_port_down), which goes with it below. */
        snprintf(net, sizeof(net), "%s", network);
        ifindex = pt->ifindex;
        pt->ifindex = 0; /* its deletion comes back as an event; it is no news */
        /* The dynamic lease goes with the port, so the address is free again; a static
         * reservation of the MAC stays. */
        mgr_dns_release(m, mgr_find(m, network), pt->p.mac);
        if (ifindex <= 0 && !pt->p.adopted) {
                struct vnet_link_info info;
                if (vnet_link_get(m->link, ifname, &info) == 0 && strcmp(info.kind, "tun") == 0)
                        ifindex = info.ifindex;
        }
        delete_port_link(m, pt, ifindex);
        crash_point("detach:tap");
        r = ports_remove(m->ports, pt);
        if (r < 0)
                log_warning("port %s: cannot remove its reservation file: %s", ifname,
                            strerror(-r));
        log_info("port %s detached from network %s", ifname, net);
        return 0;
}

int manager_port_up(struct manager *m, const char *ifname, const char *network,
                    const char *mac, const struct mgr_caller *caller, char *ifname_out,
                    struct mgr_error *e)
{
        struct vnet_link_info info;
        struct port *pt;
        struct net *n;
        uint8_t gmac[6];
        int r;

        r = vnet_parse_ifname(ifname, "ifname", &e->err);
        if (r < 0) {
                e->kind = MGR_ERR_INVALID;
                return r;
        }
        snprintf(ifname_out, VNET_IFNAME_MAX + 1, "%s", ifname);
        pt = ports_find(m->ports, ifname);
        if (pt) { /* the reservation decides; make sure it is on its bridge */
                n = running_net(m, pt->p.network, e);
                if (!n)
                        return -ENOENT;
                r = vnet_link_get(m->link, ifname, &info);
                if (r == -ENODEV && !pt->p.adopted)
                        r = create_tap(m, n, pt);
                else if (r == 0)
                        r = enslave(m, n, pt, &info);
                if (r < 0)
                        return mgr_fail(e, MGR_ERR_SYSTEM, -r, "ifname",
                                        "cannot put %s on %s: %s", ifname, n->def.bridge,
                                        strerror(-r));
                return 0;
        }
        n = running_net(m, network ? network : "default", e);
        if (!n)
                return -ENOENT;
        struct net *holder = spare_holder(m, ifname);
        if (holder)
                return mgr_fail(e, MGR_ERR_INVALID, 0, "ifname",
                                "invalid ifname '%s': vnetd made it for the next port of network "
                                "'%s'; reserve it with 'vnetctl attach %s --ifname %s', or use "
                                "another name",
                                ifname, holder->def.name, holder->def.name, ifname);
        if (!caller->privileged && !mgr_caller_allowed(n, caller))
                return mgr_fail(e, MGR_ERR_PERMISSION, 0, "network",
                                "permission denied: not allowed on network '%s'", n->def.name);
        r = vnet_link_get(m->link, ifname, &info);
        if (r == -ENODEV)
                return mgr_fail(e, MGR_ERR_INVALID, 0, "ifname",
                                "invalid ifname '%s': no such interface and no reservation",
                                ifname);
        if (r < 0)
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, "ifname", "cannot look up %s: %s", ifname,
                                strerror(-r));
        r = pick_mac(m, n->def.name, ifname, mac, gmac, e);
        if (r < 0)
                return r;
        return adopt_port(m, n, &info, gmac, (long)caller->uid, -1, e);
}

int manager_port_down(struct manager *m, const char *ifname, const struct mgr_caller *caller,
                      struct mgr_error *e)
{
        struct port *pt;
        int r;

        r = vnet_parse_ifname(ifname, "ifname", &e->err);
        if (r < 0) {
                e->kind = MGR_ERR_INVALID;
                return r;
        }
        pt = ports_find(m->ports, ifname);
        /* A reservation outlives the VMM; only what PortUp adopted goes with it. */
        if (!pt || !pt->p.adopted)
                return 0;
        /* Unprivileged callers may only let go of what they brought up themselves. */
        if (!caller->privileged && pt->p.owner != (long)caller->uid)
                return mgr_fail(e, MGR_ERR_PERMISSION, 0, "ifname",
                                "permission denied: not your port");
        return manager_port_detach(m, pt->p.network, ifname, e);
}

static bool principal_matches(const char *s, bool user, const struct mgr_caller *c)
{
        struct mgr_error e = { 0 };
        long id;

        if (resolve_id(s, user, &id, user ? "allow_users" : "allow_groups", &e) < 0)
                return false;
        if (user)
                return (uid_t)id == c->uid;
        return (gid_t)id == c->gid || (c->in_group && c->in_group(c->ctx, (gid_t)id));
}

bool mgr_caller_allowed(const struct net *n, const struct mgr_caller *c)
{
        if (c->uid == 0)
                return true;
        for (unsigned i = 0; i < n->def.allow_users.n; i++)
                if (principal_matches(n->def.allow_users.v[i], true, c))
                        return true;
        for (unsigned i = 0; i < n->def.allow_groups.n; i++)
                if (principal_matches(n->def.allow_groups.v[i], false, c))
                        return true;
        return false;
}

int manager_open_tap(struct manager *m, const char *bridge, bool vnet_hdr,
                     const struct mgr_caller *caller, int *fd, char *ifname_out,
                     struct mgr_error *e)
{
        struct vnet_link_info info;
        struct port *pt = NULL;
        struct net *n;
        int r;

        /* Checked before any policy decision: an overlong name is an error of its own. */
        r = vnet_parse_ifname(bridge, "bridge", &e->err);
        if (r < 0) {
                e->kind = MGR_ERR_INVALID;
                return r;
        }
        n = mgr_find_by_bridge(m, bridge);
        if (!n)
                n = mgr_find(m, bridge);
        mgr_subject(e, n ? n->def.name : bridge, NULL);
        if (!n)
                return mgr_fail(e, MGR_ERR_NOT_FOUND, 0, "bridge",
                                "no network named or bridged by '%s'", bridge);
        if (!mgr_caller_allowed(n, caller))
                return mgr_fail(e, MGR_ERR_PERMISSION, 0, "bridge",
                                "permission denied: uid %u is not allowed on network '%s'",
                                (unsigned)caller->uid, n->def.name);
        if (n->state != NET_RUNNING)
                return mgr_fail(e, MGR_ERR_NOT_RUNNING, 0, "bridge",
                                "network '%s' is not running", n->def.name);

        /* A reservation the caller made ahead (vnetctl attach --owner) carries the MAC the
         * guest is meant to have; use the first that no VMM holds. */
        for (size_t i = 0; i < ports_count(m->ports); i++) {
                struct port *c = ports_at(m->ports, i);
                if (strcmp(c->p.network, n->def.name) == 0 && !c->p.adopted &&
                    c->p.owner == (long)caller->uid && c->ifindex > 0 && !c->carrier) {
                        pt = c;
                        break;
                }
        }
        if (pt) {
                r = vnet_tap_open_by_name(pt->p.ifname, pt->p.queues > 1, vnet_hdr, fd);
                if (r < 0)
                        return mgr_fail(e, MGR_ERR_SYSTEM, -r, "bridge", "cannot open %s: %s",
                                        pt->p.ifname, strerror(-r));
                snprintf(ifname_out, VNET_IFNAME_MAX + 1, "%s", pt->p.ifname);
                return 0;
        }

        /* Otherwise a TAP of the caller's that lives as long as the VMM holds it: not
         * persistent, so it goes when QEMU exits, and the link event releases the port. */
        struct vnet_port p = { .owner = (long)caller->uid, .group = -1, .queues = 1,
                               .adopted = true };
        r = allocate_ifname(m, p.ifname, e);
        if (r < 0)
                return r;
        snprintf(p.network, sizeof(p.network), "%s", n->def.name);
        ports_mac_for(m->ports, p.network, p.ifname, p.mac);
        struct vnet_tap_spec spec = { .ifname = p.ifname, .owner = caller->uid,
                                      .group = (gid_t)-1, .queues = 1, .vnet_hdr = vnet_hdr };
        r = ports_add(m->ports, &p, &pt);
        if (r < 0)
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, "", "cannot record the port: %s",
                                strerror(-r));
        r = vnet_tap_open_transient(&spec, fd);
        if (r == 0) {
                r = vnet_link_get(m->link, p.ifname, &info);
                if (r == 0)
                        r = enslave(m, n, pt, &info);
                if (r < 0) {
                        close(*fd);
                        *fd = -1;
                }
        }
        if (r < 0) {
                ports_remove(m->ports, pt);
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, "", "cannot create a TAP: %s",
                                strerror(-r));
        }
        snprintf(ifname_out, VNET_IFNAME_MAX + 1, "%s", p.ifname);
        log_info("port %s opened for uid %u on network %s", p.ifname, (unsigned)caller->uid,
                 n->def.name);
        return 0;
}

void manager_link_event(struct manager *m, int ifindex, bool deleted, int master, bool carrier)
{
        struct port *pt = ports_find_index(m->ports, ifindex);
        struct net *n;
        int r;

        if (!pt) {
                for (size_t i = 0; deleted && i < m->n_nets; i++)
                        if (m->nets[i]->spare.ifindex == ifindex) {
                                log_info("network %s: spare TAP %s has gone",
                                         m->nets[i]->def.name, m->nets[i]->spare.ifname);
                                spare_forget(m->nets[i]);
                        }
                mgr_network_link_event(m, ifindex, deleted);
                return;
        }
        if (deleted) {
                release(m, pt, "its interface has gone");
                return;
        }
        if (pt->carrier != carrier)
                log_info("port %s: %s", pt->p.ifname, carrier ? "up" : "down");
        pt->carrier = carrier;
        n = mgr_find(m, pt->p.network);
        if (!n || n->state != NET_RUNNING || master == n->ifindex)
                return;
        /* Events describe the past: our own enslaving of a fresh TAP shows up after it as
         * "no master". Only the link as it is now counts. */
        struct vnet_link_info info;
        if (vnet_link_get_index(m->link, ifindex, &info) < 0) {
                release(m, pt, "its interface has gone");
                return;
        }
        pt->carrier = info.carrier;
        if (strcmp(info.name, pt->p.ifname) != 0) {
                release(m, pt, "its interface was renamed");
                return;
        }
        if (info.master == n->ifindex)
                return;
        log_warning("port %s was taken off bridge %s; putting it back", pt->p.ifname,
                    n->def.bridge);
        r = enslave(m, n, pt, &info);
        if (r < 0)
                log_error("port %s: cannot put it back on %s: %s", pt->p.ifname, n->def.bridge,
                          strerror(-r));
}

void manager_link_down(struct manager *m, int ifindex)
{
        vnet_link_note_down(m->link, ifindex);
}

void manager_link_resync(struct manager *m)
{
        /* Bridges first: their ports are put back on them below. */
        mgr_networks_resync(m);
        for (size_t i = 0; i < ports_count(m->ports);) {
                struct port *pt = ports_at(m->ports, i);
                struct vnet_link_info info;
                size_t before = ports_count(m->ports);

                if (pt->ifindex > 0) {
                        if (vnet_link_get_index(m->link, pt->ifindex, &info) == 0)
                                manager_link_event(m, pt->ifindex, false, info.master, info.carrier);
                        else
                                manager_link_event(m, pt->ifindex, true, 0, false);
                }
                if (ports_count(m->ports) == before)
                        i++;
        }
}
