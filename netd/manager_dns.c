/* SPDX-License-Identifier: GPL-2.0-or-later */
/* DHCP and DNS of the networks: their dnsmasq (dnsmasq.c supervises it), static reservations
 * and leases. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "manager_private.h"
#include "network_json.h"

#define DHCP_RELEASE_DEFAULT "/usr/bin/dhcp_release"

static int dns_failed(struct manager *m, struct net *n, int r, struct mgr_error *e)
{
        struct dnsmasq_status st = { 0 };

        dnsmasq_status(m->dns, n->def.name, &st);
        return mgr_fail(e, MGR_ERR_SYSTEM, -r, "", "dnsmasq for %s did not start%s%s",
                        n->def.bridge, st.last_exit[0] ? ": " : "", st.last_exit);
}

static int dns_start(struct manager *m, struct net *n, bool wait, struct mgr_error *e)
{
        struct vnet_dnsmasq_conf c = {
                .network = n->def.name,
                .bridge = n->def.bridge,
                .mode = n->def.mode,
                .ipv4 = n->def.ipv4,
                .mtu = n->def.mtu,
                .dhcp = &n->def.dhcp,
        };
        int r;

        if (!n->def.ipv4.prefix)
                return 0;
        /* Nothing to serve: no process. */
        if (!n->def.dhcp.enabled && n->def.dhcp.dns_disabled) {
                mgr_dns_stop(m, n);
                return 0;
        }
        if (wait)
                r = dnsmasq_start(m->dns, n->def.name, &c, &e->err);
        else
                r = dnsmasq_start_async(m->dns, n->def.name, &c, &e->err);
        if (r == -EINVAL) {
                e->kind = MGR_ERR_INVALID;
                return r;
        }
        if (r < 0)
                return dns_failed(m, n, r, e);
        return 0;
}

int mgr_dns_start(struct manager *m, struct net *n, struct mgr_error *e)
{
        return dns_start(m, n, true, e);
}

int mgr_dns_start_async(struct manager *m, struct net *n, struct mgr_error *e)
{
        return dns_start(m, n, false, e);
}

static void on_ready(const char *name, int r, void *userdata)
{
        struct manager *m = userdata;
        struct mgr_error e = { 0 };
        struct net *n = mgr_find(m, name);

        if (r == 0 || !n)
                return;
        dns_failed(m, n, r, &e);
        log_error("network %s: %s", name, e.err.message);
}

void mgr_dns_wait(struct manager *m)
{
        int r = dnsmasq_wait_ready(m->dns, on_ready, m);

        if (r < 0)
                log_error("cannot wait for dnsmasq to be ready: %s", strerror(-r));
}

void mgr_dns_stop(struct manager *m, struct net *n)
{
        int r = dnsmasq_stop(m->dns, n->def.name);

        if (r < 0 && r != -ENOENT)
                log_warning("network %s: cannot stop its dnsmasq: %s", n->def.name,
                            strerror(-r));
}

struct lease {
        long long expires;
        uint8_t mac[6];
        char address[INET_ADDRSTRLEN];
        char hostname[VNET_HOSTNAME_MAX + 1];
};

/* dnsmasq's lease file: "EXPIRY MAC ADDRESS HOSTNAME CLIENT-ID" per line, "*" for none;
 * DHCPv6 lines (after "duid") are not ours. Calls @fn for each; stops when it returns < 0. */
static int read_leases(struct manager *m, const char *name,
                       int (*fn)(const struct lease *l, void *ud), void *ud)
{
        struct dnsmasq_paths p;
        char line[512];
        FILE *f;
        int r;

        r = dnsmasq_paths(m->run_dir, m->state_dir, name, &p);
        if (r < 0)
                return r;
        f = fopen(p.leases, "re");
        if (!f)
                return errno == ENOENT ? 0 : -errno;
        while (fgets(line, sizeof(line), f)) {
                char mac[32], addr[64], host[256];
                struct lease l = { 0 };
                struct in_addr a;

                if (strncmp(line, "duid ", 5) == 0)
                        break;
                if (sscanf(line, "%lld %31s %63s %255s", &l.expires, mac, addr, host) != 4)
                        continue;
                if (vnet_parse_mac(mac, l.mac, "mac", NULL) < 0 ||
                    inet_pton(AF_INET, addr, &a) != 1)
                        continue;
                inet_ntop(AF_INET, &a, l.address, sizeof(l.address));
                /* The name a guest sent is shown only if it is a name: it comes from the
                 * guest, and a table for people is no place for its bytes. */
                if (strcmp(host, "*") != 0 && vnet_parse_hostname(host, "hostname", NULL) == 0)
                        snprintf(l.hostname, sizeof(l.hostname), "%.*s", VNET_HOSTNAME_MAX, host);
                r = fn(&l, ud);
                if (r < 0)
                        break;
        }
        fclose(f);
        return r < 0 ? r : 0;
}

static int lease_to_json(const struct lease *l, void *ud)
{
        char mac[18];
        json_t *o = json_pack("{s:s, s:s, s:I}", "mac", vnet_mac_format(l->mac, mac), "address",
                              l->address, "expires", (json_int_t)l->expires);

        if (!o)
                return -ENOMEM;
        json_object_set_new(o, "hostname", l->hostname[0] ? json_string(l->hostname) : json_null());
        return json_array_append_new(ud, o) < 0 ? -ENOMEM : 0;
}

static struct net *find_net(struct manager *m, const char *network, struct mgr_error *e)
{
        struct net *n = mgr_find(m, network);

        if (!n) {
                mgr_subject(e, network, NULL);
                mgr_fail(e, MGR_ERR_NOT_FOUND, 0, "network", "network '%s' not found", network);
        }
        return n;
}

json_t *manager_leases_json(struct manager *m, const char *network, struct mgr_error *e)
{
        json_t *a;
        int r;

        if (!find_net(m, network, e))
                return NULL;
        a = json_array();
        if (!a)
                return NULL;
        r = read_leases(m, network, lease_to_json, a);
        if (r < 0) {
                json_decref(a);
                mgr_fail(e, MGR_ERR_SYSTEM, -r, "", "cannot read the leases: %s", strerror(-r));
                return NULL;
        }
        return a;
}

struct find_lease {
        const uint8_t *mac;
        struct lease found;
        bool have;
};

static int match_lease(const struct lease *l, void *ud)
{
        struct find_lease *f = ud;

        if (memcmp(l->mac, f->mac, 6) != 0)
                return 0;
        f->found = *l;
        f->have = true;
        return -1; /* stop */
}

void mgr_dns_release(struct manager *m, struct net *n, const uint8_t mac[6])
{
        const char *bin = getenv("VNET_DHCP_RELEASE");
        struct find_lease f = { .mac = mac };
        char macs[18];
        pid_t pid;
        int status;

        if (!n->def.ipv4.prefix || n->state != NET_RUNNING)
                return;
        read_leases(m, n->def.name, match_lease, &f);
        if (!f.have)
                return;
        /* dnsmasq's own tool sends the DHCPRELEASE as the guest would, on the bridge. */
        if (!bin || !*bin)
                bin = DHCP_RELEASE_DEFAULT;
        vnet_mac_format(mac, macs);
        pid = fork();
        if (pid == 0) {
                execl(bin, bin, n->def.bridge, f.found.address, macs, (char *)NULL);
                _exit(127);
        }
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
                log_warning("network %s: cannot release the lease of %s (%s)", n->def.name,
                            macs, f.found.address);
        else
                log_info("network %s: lease %s of %s released", n->def.name, f.found.address,
                         macs);
}

static json_t *hosts_json(const struct vnet_dhcp *d)
{
        char mac[18], ip[INET_ADDRSTRLEN];
        json_t *a = json_array();

        for (unsigned i = 0; a && i < d->n_hosts; i++) {
                const struct vnet_dhcp_host *h = &d->hosts[i];
                json_t *o = json_pack("{s:s, s:s}", "mac", vnet_mac_format(h->mac, mac), "ip",
                                      inet_ntop(AF_INET, &h->ip, ip, sizeof(ip)));
                if (o && h->hostname[0])
                        json_object_set_new(o, "hostname", json_string(h->hostname));
                json_array_append_new(a, o);
        }
        return a;
}

json_t *manager_hosts_json(struct manager *m, const char *network, struct mgr_error *e)
{
        struct net *n = find_net(m, network, e);

        return n ? hosts_json(&n->def.dhcp) : NULL;
}

int mgr_dns_hosts_changed(struct manager *m, struct net *n, const struct vnet_dhcp *old,
                          struct mgr_error *e)
{
        int r;

        /* Desired state first: the definition on disk, then dnsmasq. */
        r = mgr_save_def(m, &n->def);
        if (r < 0) {
                n->def.dhcp = *old;
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, "", "cannot write the definition: %s",
                                strerror(-r));
        }
        if (n->state != NET_RUNNING || !n->def.ipv4.prefix)
                return 0;
        r = dnsmasq_reload_hosts(m->dns, n->def.name, &n->def.dhcp, &n->def.ipv4, &e->err);
        if (r < 0 && r != -ENOENT)
                log_warning("network %s: dnsmasq did not take the new reservations: %s",
                            n->def.name, strerror(-r));
        return 0;
}

int manager_host_add(struct manager *m, const char *network, const struct vnet_dhcp_host *h,
                     struct mgr_error *e)
{
        struct net *n = find_net(m, network, e);
        struct vnet_dhcp *old;
        int r;

        if (!n)
                return -ENOENT;
        if (!n->def.ipv4.prefix)
                return mgr_fail(e, MGR_ERR_INVALID, 0, "ip",
                                "network '%s' has no IPv4 address to reserve from", network);
        old = malloc(sizeof(*old));
        if (!old)
                return -ENOMEM;
        *old = n->def.dhcp;
        r = vnet_dhcp_host_add(&n->def.dhcp, &n->def.ipv4, h, &e->err);
        if (r < 0) {
                e->kind = MGR_ERR_INVALID;
                free(old);
                return -EINVAL;
        }
        r = mgr_dns_hosts_changed(m, n, old, e);
        free(old);
        return r;
}

int manager_host_remove(struct manager *m, const char *network, const uint8_t mac[6],
                        struct mgr_error *e)
{
        struct net *n = find_net(m, network, e);
        struct vnet_dhcp *old;
        char macs[18];
        int r;

        if (!n)
                return -ENOENT;
        if (!vnet_dhcp_host_find_mac(&n->def.dhcp, mac))
                return mgr_fail(e, MGR_ERR_INVALID, 0, "mac",
                                "invalid mac %s: no reservation on network '%s'",
                                vnet_mac_format(mac, macs), network);
        old = malloc(sizeof(*old));
        if (!old)
                return -ENOMEM;
        *old = n->def.dhcp;
        vnet_dhcp_host_remove(&n->def.dhcp, mac);
        r = mgr_dns_hosts_changed(m, n, old, e);
        free(old);
        return r;
}
