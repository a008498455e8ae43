/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"
#include "fileio.h"
#include "link.h"
#include "log.h"
#include "manager.h"
#include "netconf.h"
#include "network_json.h"
#include "nft.h"
#include "manager_private.h"
#include "ports.h"

static const char *const state_names[_NET_STATE_MAX] = {
        [NET_STOPPED] = "stopped",
        [NET_RUNNING] = "running",
        [NET_FAILED] = "failed",
};

const char *net_state_to_string(enum net_state s)
{
        return (unsigned)s < _NET_STATE_MAX ? state_names[s] : NULL;
}

int mgr_fail(struct mgr_error *e, enum mgr_error_kind kind, int errnum, const char *field,
                const char *fmt, ...)
{
        va_list ap;

        e->kind = kind;
        e->errnum = errnum;
        snprintf(e->err.field, sizeof(e->err.field), "%s", field ? field : "");
        va_start(ap, fmt);
        vsnprintf(e->err.message, sizeof(e->err.message), fmt, ap);
        va_end(ap);
        return errnum ? -errnum : -EINVAL;
}

void mgr_subject(struct mgr_error *e, const char *network, const char *ifname)
{
        snprintf(e->network, sizeof(e->network), "%s", network ? network : "");
        snprintf(e->ifname, sizeof(e->ifname), "%s", ifname ? ifname : "");
}

static char *path_join(const char *a, const char *b)
{
        char *p;

        return asprintf(&p, "%s/%s", a, b) < 0 ? NULL : p;
}

struct net *mgr_find(struct manager *m, const char *name)
{
        for (size_t i = 0; i < m->n_nets; i++)
                if (strcmp(m->nets[i]->def.name, name) == 0)
                        return m->nets[i];
        return NULL;
}

struct net *mgr_find_by_bridge(struct manager *m, const char *bridge)
{
        for (size_t i = 0; i < m->n_nets; i++)
                if (strcmp(m->nets[i]->def.bridge, bridge) == 0)
                        return m->nets[i];
        return NULL;
}

static int add_net(struct manager *m, const struct vnet_network *def, struct net **ret)
{
        struct net **v, *n;

        n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        v = realloc(m->nets, (m->n_nets + 1) * sizeof(*v));
        if (!v) {
                free(n);
                return -ENOMEM;
        }
        n->def = *def;
        m->nets = v;
        m->nets[m->n_nets++] = n;
        if (ret)
                *ret = n;
        return 0;
}

static void remove_net(struct manager *m, struct net *n)
{
        for (size_t i = 0; i < m->n_nets; i++) {
                if (m->nets[i] != n)
                        continue;
                memmove(&m->nets[i], &m->nets[i + 1], (m->n_nets - i - 1) * sizeof(*m->nets));
                m->n_nets--;
                break;
        }
        free(n);
}

/* --- files ------------------------------------------------------------------------------ */

static int def_path(struct manager *m, const struct vnet_network *def, char *buf, size_t len)
{
        const char *dir = def->transient ? m->transient_dir : m->defs_dir;

        return snprintf(buf, len, "%s/%s.conf", dir, def->name) >= (int)len ? -ENAMETOOLONG : 0;
}

int mgr_save_def(struct manager *m, const struct vnet_network *def)
{
        return vnet_netconf_save(def->transient ? m->transient_dir : m->defs_dir, def);
}

static int remove_def(struct manager *m, const struct vnet_network *def)
{
        char path[4096];
        int r = def_path(m, def, path, sizeof(path));

        return r < 0 ? r : vnet_unlink(path);
}

/* The runtime record says "vnetd runs this network on this bridge" and survives vnetd
 * restarts (RUN_DIR) but not reboots, like the bridge itself. It is how the next vnetd knows
 * which bridges are its own. */
static int record_path(struct manager *m, const char *name, char *buf, size_t len)
{
        return snprintf(buf, len, "%s/%s.json", m->records_dir, name) >= (int)len ? -ENAMETOOLONG
                                                                                : 0;
}

int mgr_save_record(struct manager *m, const struct net *n)
{
        char path[4096];
        char *text;
        json_t *o;
        int r;

        r = record_path(m, n->def.name, path, sizeof(path));
        if (r < 0)
                return r;
        o = json_pack("{s:s, s:i}", "bridge", n->def.bridge, "ifindex", (json_int_t)n->ifindex);
        if (o && n->spare.ifname[0] &&
            json_object_set_new(o, "spare", json_string(n->spare.ifname)) < 0) {
                json_decref(o);
                o = NULL;
        }
        if (!o)
                return -ENOMEM;
        text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!text)
                return -ENOMEM;
        /* Runtime state: it lives in RUN_DIR and dies with the bridges at reboot anyway. */
        r = vnet_write_file(path, text, strlen(text), 0644, 0);
        free(text);
        return r;
}

static int remove_record(struct manager *m, const char *name)
{
        char path[4096];
        int r = record_path(m, name, path, sizeof(path));

        return r < 0 ? r : vnet_unlink(path);
}

struct record {
        char bridge[VNET_IFNAME_MAX + 1];
        int ifindex;
        char spare[VNET_IFNAME_MAX + 1]; /* "": none */
};

/* Writes the network's runtime record unless @rec, what is on disk, says the same. */
static int record_bridge(struct manager *m, const struct net *n, const struct record *rec,
                         struct mgr_error *e)
{
        int r;

        if (rec && strcmp(rec->bridge, n->def.bridge) == 0 && rec->ifindex == n->ifindex)
                return 0;
        r = mgr_save_record(m, n);
        if (r < 0)
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, "", "cannot write runtime record: %s",
                                strerror(-r));
        return 0;
}

static int load_record(struct manager *m, const char *name, struct record *rec)
{
        char path[4096];
        json_error_t jerr;
        const char *br = NULL, *spare = NULL;
        json_int_t idx = 0;
        json_t *o;
        int r;

        r = record_path(m, name, path, sizeof(path));
        if (r < 0)
                return r;
        o = json_load_file(path, 0, &jerr);
        if (!o)
                return access(path, F_OK) == 0 ? -EBADMSG : -ENOENT;
        r = json_unpack(o, "{s:s, s?I, s?s}", "bridge", &br, "ifindex", &idx, "spare",
                        &spare) < 0
                    ? -EBADMSG
                    : 0;
        if (r == 0 && (vnet_parse_ifname(br, "bridge", NULL) < 0 ||
                       (spare && vnet_parse_ifname(spare, "spare", NULL) < 0)))
                r = -EBADMSG;
        if (r == 0) {
                snprintf(rec->bridge, sizeof(rec->bridge), "%s", br);
                rec->ifindex = (int)idx;
                snprintf(rec->spare, sizeof(rec->spare), "%s", spare ? spare : "");
        }
        json_decref(o);
        return r;
}

/* --- checks ----------------------------------------------------------------------------- */

static int check_subnet(struct manager *m, const struct vnet_network *def, int ignore_ifindex,
                        struct mgr_error *e)
{
        struct in_addr net = vnet_ipv4_network(&def->ipv4);
        char ip[32], what[160];
        int r;

        if (!def->ipv4.prefix)
                return 0;
        for (size_t i = 0; i < m->n_nets; i++) {
                const struct vnet_network *o = &m->nets[i]->def;
                if (strcmp(o->name, def->name) == 0 || !o->ipv4.prefix)
                        continue;
                if (vnet_ipv4_overlap(net, def->ipv4.prefix, o->ipv4.addr, o->ipv4.prefix))
                        return mgr_fail(e, MGR_ERR_ADDRESS_CONFLICT, 0, "ipv4",
                                    "ipv4 %s overlaps network '%s' (%s)",
                                    vnet_ipv4_format(&def->ipv4, ip), o->name,
                                    vnet_ipv4_format(&o->ipv4, what));
        }
        r = vnet_link_ipv4_conflict(m->link, net, def->ipv4.prefix, ignore_ifindex, what,
                                    sizeof(what));
        if (r < 0)
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, "ipv4", "cannot list host addresses: %s",
                            strerror(-r));
        if (r > 0)
                return mgr_fail(e, MGR_ERR_ADDRESS_CONFLICT, 0, "ipv4",
                            "ipv4 %s overlaps %s on this host", vnet_ipv4_format(&def->ipv4, ip),
                            what);
        return 0;
}

/* Whether @bridge is free for network @self: not another network's, and not a foreign
 * interface. 0 if free or our own bridge (then *ifindex is set), else an error. */
static int check_bridge(struct manager *m, const struct net *self, const char *bridge,
                        const struct record *rec, int *ifindex, struct mgr_error *e)
{
        struct vnet_link_info info;
        struct net *other = mgr_find_by_bridge(m, bridge);
        char alias[sizeof(info.alias)];
        int r;

        *ifindex = 0;
        if (other && other != self)
                return mgr_fail(e, MGR_ERR_INTERFACE_IN_USE, 0, "bridge",
                            "bridge %s is used by network '%s'", bridge, other->def.name);
        r = vnet_link_get(m->link, bridge, &info);
        if (r == -ENODEV)
                return 0;
        if (r < 0)
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, "bridge", "cannot look up %s: %s", bridge,
                            strerror(-r));
        /* Ours if the record of our last run names this very device, or, when we died
         * between creating it and recording its index, if it carries our alias. */
        snprintf(alias, sizeof(alias), VNET_ALIAS_PREFIX "%s", self ? self->def.name : "");
        if (self && strcmp(info.kind, "bridge") == 0 &&
            ((rec && rec->ifindex == info.ifindex && strcmp(rec->bridge, bridge) == 0) ||
             (rec && rec->ifindex == 0 && strcmp(info.alias, alias) == 0) ||
             (self->state == NET_RUNNING && self->ifindex == info.ifindex))) {
                *ifindex = info.ifindex;
                return 0;
        }
        return mgr_fail(e, MGR_ERR_INTERFACE_IN_USE, 0, "bridge",
                    "bridge %s: an interface of that name exists and does not belong to vnet",
                    bridge);
}

static int allocate_bridge(struct manager *m, struct vnet_network *def, struct mgr_error *e)
{
        struct vnet_link_info info;

        for (unsigned i = 0; i < 10000; i++) {
                char name[VNET_IFNAME_MAX + 1];
                snprintf(name, sizeof(name), "virbr%u", i);
                if (mgr_find_by_bridge(m, name))
                        continue;
                int r = vnet_link_get(m->link, name, &info);
                if (r == 0)
                        continue;
                if (r != -ENODEV)
                        return mgr_fail(e, MGR_ERR_SYSTEM, -r, "bridge", "cannot look up %s: %s",
                                    name, strerror(-r));
                snprintf(def->bridge, sizeof(def->bridge), "%s", name);
                return 0;
        }
        return mgr_fail(e, MGR_ERR_SYSTEM, ENOSPC, "bridge", "no free virbrN name");
}

static void allocate_mac(struct manager *m, struct vnet_network *def)
{
        for (;;) {
                bool used = false;
                vnet_mac_generate(def->mac);
                for (size_t i = 0; i < m->n_nets && !used; i++)
                        used = m->nets[i]->def.has_mac &&
                               memcmp(m->nets[i]->def.mac, def->mac, 6) == 0;
                if (!used)
                        break;
        }
        def->has_mac = true;
}

/* --- data plane ------------------------------------------------------------------------- */

static void nft_net_of(struct manager *m, const struct vnet_network *def,
                       struct vnet_nft_net *out)
{
        *out = (struct vnet_nft_net){
                .name = def->name,
                .bridge = def->bridge,
                .mode = def->mode,
                .ipv4 = def->ipv4,
                .keep_dhcp_checksum = !m->zero_dhcp_checksum,
        };
}

static bool needs_forwarding(enum vnet_mode mode)
{
        switch (mode) {
        case VNET_MODE_NAT:
        case VNET_MODE_ROUTED:
                return true;
        case VNET_MODE_ISOLATED:
        case VNET_MODE_OPEN:
        case _VNET_MODE_MAX:
                break;
        }
        return false;
}

/* One transaction: the rules of @del out and those of @add in (either may be NULL). */
static int apply_rules(struct manager *m, const struct vnet_network *del,
                       const struct vnet_network *add)
{
        struct vnet_nft_batch *b = NULL;
        struct vnet_nft_net nn;
        int r;

        r = vnet_nft_batch_new(&b);
        if (r == 0 && del) {
                nft_net_of(m, del, &nn);
                r = vnet_nft_batch_del_network(b, &nn);
        }
        if (r == 0 && add) {
                nft_net_of(m, add, &nn);
                r = vnet_nft_batch_add_network(b, &nn);
        }
        if (r == 0)
                r = vnet_nft_commit(m->nft, b);
        vnet_nft_batch_free(b);
        return r;
}

static void bridge_spec_of(const struct vnet_network *def, char *alias, size_t alias_len,
                           struct vnet_bridge_spec *s)
{
        snprintf(alias, alias_len, VNET_ALIAS_PREFIX "%s", def->name);
        *s = (struct vnet_bridge_spec){
                .name = def->bridge,
                .alias = alias,
                .mtu = def->mtu,
                .stp = def->stp,
                .ipv4 = def->ipv4,
        };
        memcpy(s->mac, def->mac, 6);
}

/* Brings the bridge of @n to its definition: adopts (@ifindex > 0) or creates it. */
static int converge_bridge(struct manager *m, struct net *n, int ifindex, struct mgr_error *e)
{
        struct vnet_bridge_spec spec;
        char alias[64];
        int r;

        bridge_spec_of(&n->def, alias, sizeof(alias), &spec);
        if (ifindex > 0) {
                r = vnet_bridge_apply(m->link, ifindex, &spec);
                if (r < 0)
                        return mgr_fail(e, MGR_ERR_SYSTEM, -r, "bridge", "cannot update bridge %s: %s",
                                    n->def.bridge, strerror(-r));
                n->ifindex = ifindex;
                return 0;
        }
        r = vnet_bridge_create(m->link, &spec, &n->ifindex);
        if (r == -EEXIST)
                return mgr_fail(e, MGR_ERR_INTERFACE_IN_USE, 0, "bridge",
                            "bridge %s: an interface of that name exists and does not belong "
                            "to vnet",
                            n->def.bridge);
        if (r < 0)
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, "bridge", "cannot create bridge %s: %s",
                            n->def.bridge, strerror(-r));
        return 0;
}

static int enable_forwarding(struct mgr_error *e)
{
        int r = vnet_sysctl_enable_ip_forward();

        if (r < 0)
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, "mode", "cannot enable IP forwarding: %s",
                            strerror(-r));
        return 0;
}

/* Start one network: record the intent, bridge, rules in one transaction, forwarding. */
static int bring_up(struct manager *m, struct net *n, bool subnet_checked, struct mgr_error *e)
{
        struct record rec, *recp = NULL;
        int ifindex, r;
        bool created;

        if (load_record(m, n->def.name, &rec) == 0)
                recp = &rec;
        r = check_bridge(m, n, n->def.bridge, recp, &ifindex, e);
        if (r < 0)
                return r;
        if (!subnet_checked) {
                r = check_subnet(m, &n->def, ifindex, e);
                if (r < 0)
                        return r;
        }
        created = ifindex == 0;
        n->ifindex = ifindex;
        /* The intent, unless it is on disk already (create wrote it before the definition). */
        r = record_bridge(m, n, recp, e);
        if (r < 0)
                return r;
        crash_point("up:record");
        r = converge_bridge(m, n, ifindex, e);
        if (r < 0)
                goto fail_record;
        crash_point("up:bridge");
        /* A bridge just made: the record gets its index. */
        if (created && (r = record_bridge(m, n, NULL, e)) < 0)
                goto fail_bridge;
        if (needs_forwarding(n->def.mode)) {
                r = enable_forwarding(e);
                if (r < 0)
                        goto fail_bridge;
        }
        /* DHCP and DNS answer before the network is reported up. */
        r = mgr_dns_start(m, n, e);
        if (r < 0)
                goto fail_dns;
        crash_point("up:dns");
        r = apply_rules(m, NULL, &n->def);
        if (r < 0) {
                mgr_fail(e, MGR_ERR_SYSTEM, -r, "", "cannot install firewall rules: %s",
                     strerror(-r));
                goto fail_dns;
        }
        crash_point("up:rules");
        n->state = NET_RUNNING;
        n->error[0] = '\0';
        mgr_ports_converge(m, n);
        return 0;

fail_dns:
        mgr_dns_stop(m, n);
fail_bridge:
        if (created)
                vnet_link_delete(m->link, n->ifindex);
fail_record:
        if (created)
                remove_record(m, n->def.name);
        n->ifindex = 0;
        return r;
}

static int bring_down(struct manager *m, struct net *n, struct mgr_error *e)
{
        int r;

        mgr_ports_down(m, n);
        crash_point("down:ports");
        mgr_dns_stop(m, n);
        crash_point("down:dns");
        /* Bridge first: once it is gone nothing can pass, so there is no moment in which the
         * bridge forwards without its rules. */
        if (n->ifindex > 0) {
                r = vnet_link_delete(m->link, n->ifindex);
                if (r < 0 && r != -ENODEV)
                        return mgr_fail(e, MGR_ERR_SYSTEM, -r, "", "cannot delete bridge %s: %s",
                                    n->def.bridge, strerror(-r));
        }
        n->ifindex = 0;
        crash_point("down:bridge");
        /* A failed network never got its rules. */
        if (n->state == NET_RUNNING) {
                r = apply_rules(m, &n->def, NULL);
                if (r < 0)
                        log_warning("network %s: cannot remove its firewall rules: %s",
                                    n->def.name, strerror(-r));
        }
        crash_point("down:rules");
        r = remove_record(m, n->def.name);
        if (r < 0)
                log_warning("network %s: cannot remove runtime record: %s", n->def.name,
                            strerror(-r));
        n->state = NET_STOPPED;
        n->error[0] = '\0';
        return 0;
}

/* --- start-up: load + reconcile ----------------------------------------------------------- */

static int load_defs_from(struct manager *m, const char *dir, bool transient)
{
        struct dirent *de;
        DIR *d = opendir(dir);

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                struct vnet_network def;
                struct vnet_err err = { 0 };
                size_t len = strlen(de->d_name);
                char *path;
                int r;

                if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".conf"))
                        continue;
                path = path_join(dir, de->d_name);
                if (!path)
                        continue;
                r = vnet_netconf_load(path, &def, &err);
                if (r < 0) {
                        log_error("%s: %s", path, r == -EINVAL ? err.message : strerror(-r));
                        free(path);
                        continue;
                }
                free(path);
                def.transient = transient;
                if (mgr_find(m, def.name)) {
                        log_error("network %s is defined twice; ignoring the transient one",
                                  def.name);
                        continue;
                }
                if (def.bridge[0] && mgr_find_by_bridge(m, def.bridge)) {
                        log_error("network %s: bridge %s is already used by network %s; ignored",
                                  def.name, def.bridge, mgr_find_by_bridge(m, def.bridge)->def.name);
                        continue;
                }
                r = add_net(m, &def, NULL);
                if (r < 0) {
                        closedir(d);
                        return r;
                }
        }
        closedir(d);
        return 0;
}

/* A definition written by hand may lack a bridge or MAC: settle them once, and write them
 * back so that they stay the same from now on. */
static void settle_def(struct manager *m, struct net *n)
{
        struct mgr_error e = { 0 };
        bool changed = false;
        int r;

        if (!n->def.bridge[0]) {
                if (allocate_bridge(m, &n->def, &e) < 0)
                        return;
                changed = true;
        }
        if (!n->def.has_mac) {
                allocate_mac(m, &n->def);
                changed = true;
        }
        if (changed && (r = mgr_save_def(m, &n->def)) < 0)
                log_warning("network %s: cannot save its settled definition: %s", n->def.name,
                            strerror(-r));
}

/* Removes what a previous vnetd ran for a network that is no longer defined. */
static void reap_orphan_record(struct manager *m, const char *name)
{
        struct vnet_link_info info;
        struct record rec;

        if (load_record(m, name, &rec) == 0 && rec.ifindex > 0 &&
            vnet_link_get_index(m->link, rec.ifindex, &info) == 0 &&
            strcmp(info.name, rec.bridge) == 0 && strcmp(info.kind, "bridge") == 0) {
                log_info("network %s is no longer defined; removing bridge %s", name, rec.bridge);
                vnet_link_delete(m->link, rec.ifindex);
        }
        remove_record(m, name);
}

static int load_records(struct manager *m)
{
        struct dirent *de;
        DIR *d = opendir(m->records_dir);

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                char name[VNET_NAME_MAX + 1];
                struct net *n;

                if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json") ||
                    len - 5 > VNET_NAME_MAX)
                        continue;
                memcpy(name, de->d_name, len - 5);
                name[len - 5] = '\0';
                n = mgr_find(m, name);
                if (!n) {
                        reap_orphan_record(m, name);
                        continue;
                }
                /* Marked as wanted; converged below. */
                n->state = NET_FAILED;
        }
        closedir(d);
        return 0;
}

/* Brings an already-running network to its definition in place: the bridge is adopted and
 * only what differs is changed. Its dnsmasq is started, not waited for: manager_start()
 * waits for all of them at once. */
static int adopt(struct manager *m, struct net *n, struct mgr_error *e)
{
        struct record rec, *recp = NULL;
        int ifindex, r;

        if (load_record(m, n->def.name, &rec) == 0)
                recp = &rec;
        /* Checked once the ports are known (mgr_spare_adopt). */
        if (recp)
                snprintf(n->spare.ifname, sizeof(n->spare.ifname), "%s", rec.spare);
        /* A renamed bridge in the definition: the old one is ours to remove. */
        if (recp && strcmp(rec.bridge, n->def.bridge) != 0) {
                struct vnet_link_info info;
                if (rec.ifindex > 0 && vnet_link_get_index(m->link, rec.ifindex, &info) == 0 &&
                    strcmp(info.name, rec.bridge) == 0)
                        vnet_link_delete(m->link, rec.ifindex);
                recp = NULL;
        }
        r = check_bridge(m, n, n->def.bridge, recp, &ifindex, e);
        if (r < 0)
                return r;
        if (ifindex == 0) {
                r = check_subnet(m, &n->def, 0, e);
                if (r < 0)
                        return r;
        }
        n->ifindex = ifindex;
        r = record_bridge(m, n, recp, e);
        if (r == 0)
                r = converge_bridge(m, n, ifindex, e);
        if (r == 0 && ifindex == 0)
                r = record_bridge(m, n, NULL, e);
        if (r == 0 && needs_forwarding(n->def.mode))
                r = enable_forwarding(e);
        if (r < 0)
                return r;
        /* A dnsmasq that will not start does not take the network down with it: its
         * supervisor keeps trying, and show tells why. */
        r = mgr_dns_start_async(m, n, e);
        if (r < 0)
                log_error("network %s: %s", n->def.name, e->err.message);
        n->state = NET_RUNNING;
        return 0;
}

/* The whole table in one transaction: the old one goes and the new one appears at once, so
 * packets never meet a moment without rules. */
static int rebuild_rules(struct manager *m)
{
        struct vnet_nft_batch *b = NULL;
        int r;

        r = vnet_nft_batch_new(&b);
        if (r == 0)
                r = vnet_nft_batch_rebuild(b);
        for (size_t i = 0; r == 0 && i < m->n_nets; i++) {
                struct vnet_nft_net nn;
                if (m->nets[i]->state != NET_RUNNING)
                        continue;
                nft_net_of(m, &m->nets[i]->def, &nn);
                r = vnet_nft_batch_add_network(b, &nn);
        }
        if (r == 0)
                r = vnet_nft_commit(m->nft, b);
        vnet_nft_batch_free(b);
        return r;
}

static bool rules_in_place(struct manager *m)
{
        struct vnet_nft_net *nets = calloc(m->n_nets ? m->n_nets : 1, sizeof(*nets));
        size_t n = 0;
        int r;

        if (!nets)
                return false;
        for (size_t i = 0; i < m->n_nets; i++)
                if (m->nets[i]->state == NET_RUNNING)
                        nft_net_of(m, &m->nets[i]->def, &nets[n++]);
        r = vnet_nft_verify(m->nft, nets, n);
        free(nets);
        return r > 0;
}

int manager_start(struct manager *m)
{
        char *marker = path_join(m->run_dir, "autostarted");
        bool first_start;
        int r;

        if (!marker)
                return -ENOMEM;
        r = load_defs_from(m, m->defs_dir, false);
        if (r == 0)
                r = load_defs_from(m, m->transient_dir, true);
        if (r == 0)
                r = load_records(m);
        if (r < 0)
                goto out;
        /* Autostart once per boot: RUN_DIR is emptied at boot, so a restarted vnetd leaves
         * networks that the user stopped on purpose alone. */
        first_start = access(marker, F_OK) != 0;
        for (size_t i = 0; i < m->n_nets; i++) {
                struct net *n = m->nets[i];
                struct mgr_error e = { 0 };

                if (n->state != NET_FAILED && !(first_start && n->def.autostart))
                        continue;
                settle_def(m, n);
                if (!n->def.bridge[0] || !n->def.has_mac) {
                        n->state = NET_FAILED;
                        snprintf(n->error, sizeof(n->error), "no bridge name or MAC available");
                        continue;
                }
                r = adopt(m, n, &e);
                if (r < 0) {
                        memset(&n->spare, 0, sizeof(n->spare));
                        n->state = NET_FAILED;
                        snprintf(n->error, sizeof(n->error), "%s", e.err.message);
                        log_error("network %s: %s", n->def.name, e.err.message);
                }
        }
        /* READY means every network answers DHCP and DNS; their dnsmasq started together
         * above, so this costs about what the slowest one takes. */
        mgr_dns_wait(m);
        /* Rules that are already exactly right stay as they are: a restart causes no churn. */
        r = rules_in_place(m) ? 0 : rebuild_rules(m);
        if (r < 0) {
                log_error("cannot install firewall rules: %s", strerror(-r));
                goto out;
        }
        mgr_ports_reap_orphans(m);
        for (size_t i = 0; i < m->n_nets; i++) {
                if (m->nets[i]->state != NET_RUNNING)
                        continue;
                mgr_ports_converge(m, m->nets[i]);
                mgr_spare_adopt(m, m->nets[i]);
        }
        if (first_start) {
                r = vnet_write_file(marker, "", 0, 0644, 0);
                if (r < 0)
                        log_warning("cannot write %s: %s", marker, strerror(-r));
        }
        r = 0;
out:
        free(marker);
        return r;
}

/* --- operations --------------------------------------------------------------------------- */

static struct net *lookup(struct manager *m, const char *name, struct mgr_error *e)
{
        struct net *n = mgr_find(m, name);

        if (!n) {
                mgr_subject(e, name, NULL);
                mgr_fail(e, MGR_ERR_NOT_FOUND, 0, "name", "network '%s' not found", name);
        }
        return n;
}

int manager_create(struct manager *m, const struct vnet_network *in, struct mgr_error *e)
{
        struct vnet_network def = *in;
        struct net *n;
        int ifindex, r;

        r = vnet_network_validate(&def, &e->err);
        if (r < 0) {
                e->kind = MGR_ERR_INVALID;
                return r;
        }
        if (mgr_find(m, def.name)) {
                mgr_subject(e, def.name, NULL);
                return mgr_fail(e, MGR_ERR_EXISTS, 0, "name", "network '%s' already exists",
                                def.name);
        }
        if (def.bridge[0]) {
                r = check_bridge(m, NULL, def.bridge, NULL, &ifindex, e);
                if (r < 0)
                        return r;
        } else {
                r = allocate_bridge(m, &def, e);
                if (r < 0)
                        return r;
        }
        r = check_subnet(m, &def, 0, e);
        if (r < 0)
                return r;
        if (!def.has_mac)
                allocate_mac(m, &def);
        for (size_t i = 0; i < m->n_nets; i++)
                if (m->nets[i]->def.has_mac && !memcmp(m->nets[i]->def.mac, def.mac, 6))
                        return mgr_fail(e, MGR_ERR_INVALID, 0, "mac",
                                    "invalid mac: already the MAC of network '%s'",
                                    m->nets[i]->def.name);

        /* Desired state first, all of it: "running" (the runtime record), then the
         * definition, then the kernel. A crash after the definition finishes the network
         * at the next start instead of leaving it defined but down. */
        r = add_net(m, &def, &n);
        if (r < 0)
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, "", "%s", strerror(-r));
        r = mgr_save_record(m, n);
        if (r == 0)
                r = mgr_save_def(m, &def);
        if (r < 0) {
                remove_record(m, def.name);
                remove_net(m, n);
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, "", "cannot write the definition: %s",
                                strerror(-r));
        }
        crash_point("create:defined");
        r = bring_up(m, n, true, e);
        if (r < 0) {
                /* Refused as a whole: nothing of the network remains. */
                remove_def(m, &n->def);
                remove_record(m, n->def.name);
                remove_net(m, n);
                return r;
        }
        log_info("network %s created: bridge %s, mode %s", def.name, def.bridge,
                 vnet_mode_to_string(def.mode));
        return 0;
}

int manager_start_network(struct manager *m, const char *name, struct mgr_error *e)
{
        struct net *n = lookup(m, name, e);
        int r;

        if (!n)
                return -ENOENT;
        if (n->state == NET_RUNNING)
                return 0;
        r = bring_up(m, n, false, e);
        if (r < 0)
                return r;
        log_info("network %s started", name);
        return 0;
}

int manager_stop_network(struct manager *m, const char *name, struct mgr_error *e)
{
        struct net *n = lookup(m, name, e);
        int r;

        if (!n)
                return -ENOENT;
        if (n->state == NET_STOPPED)
                return 0;
        r = bring_down(m, n, e);
        if (r < 0)
                return r;
        log_info("network %s stopped", name);
        return 0;
}

int manager_destroy(struct manager *m, const char *name, struct mgr_error *e)
{
        struct net *n = lookup(m, name, e);
        int r;

        if (!n)
                return -ENOENT;
        if (n->state != NET_STOPPED) {
                r = bring_down(m, n, e);
                if (r < 0)
                        return r;
        }
        crash_point("destroy:stopped");
        r = remove_def(m, &n->def);
        if (r < 0)
                return mgr_fail(e, MGR_ERR_SYSTEM, -r, "", "cannot remove the definition: %s",
                            strerror(-r));
        mgr_ports_forget(m, n);
        struct dnsmasq_paths dp;
        if (dnsmasq_paths(m->run_dir, m->state_dir, n->def.name, &dp) == 0)
                vnet_unlink(dp.leases);
        log_info("network %s destroyed", name);
        remove_net(m, n);
        return 0;
}

int manager_set_mode(struct manager *m, const char *name, enum vnet_mode mode,
                     struct mgr_error *e)
{
        struct vnet_network old;
        struct net *n = lookup(m, name, e);
        int r;

        if (!n)
                return -ENOENT;
        if (n->def.mode == mode)
                return 0;
        old = n->def;
        n->def.mode = mode;
        r = vnet_network_validate(&n->def, &e->err);
        if (r < 0) {
                e->kind = MGR_ERR_INVALID;
                snprintf(e->err.field, sizeof(e->err.field), "mode");
                goto restore;
        }
        r = mgr_save_def(m, &n->def);
        if (r < 0) {
                mgr_fail(e, MGR_ERR_SYSTEM, -r, "", "cannot write the definition: %s", strerror(-r));
                goto restore;
        }
        crash_point("mode:defined");
        if (n->state != NET_RUNNING)
                goto done;
        if (needs_forwarding(mode)) {
                r = enable_forwarding(e);
                if (r < 0)
                        goto restore_file;
        }
        /* Old rules out and new rules in within one transaction: no moment in between. */
        r = apply_rules(m, &old, &n->def);
        if (r < 0) {
                mgr_fail(e, MGR_ERR_SYSTEM, -r, "mode", "cannot change firewall rules: %s",
                     strerror(-r));
                goto restore_file;
        }
        crash_point("mode:rules");
        /* Isolated networks hand out no router: dnsmasq follows the mode. */
        if (mgr_dns_start(m, n, e) < 0)
                log_warning("network %s: %s", name, e->err.message);
done:
        log_info("network %s: mode %s", name, vnet_mode_to_string(mode));
        return 0;

restore_file:
        if (mgr_save_def(m, &old) < 0)
                log_error("network %s: cannot restore its definition file", name);
restore:
        n->def = old;
        return r;
}

/* --- views ---------------------------------------------------------------------------------- */

static json_t *status_json(struct manager *m, const struct net *n)
{
        struct dnsmasq_status st;
        json_t *o = vnet_network_to_json(&n->def);

        if (!o)
                return NULL;
        json_object_set_new(o, "state", json_string(net_state_to_string(n->state)));
        if (n->error[0])
                json_object_set_new(o, "error", json_string(n->error));
        if (n->state == NET_RUNNING && dnsmasq_status(m->dns, n->def.name, &st) == 0) {
                json_t *d = json_pack("{s:i, s:b, s:i}", "pid", (json_int_t)st.pid, "running",
                                      st.running, "restarts", (json_int_t)st.restarts);
                if (d && st.last_exit[0])
                        json_object_set_new(d, "last_exit", json_string(st.last_exit));
                json_object_set_new(o, "dnsmasq", d);
        }
        if (n->state == NET_RUNNING && n->spare.ifindex > 0)
                json_object_set_new(o, "spare_tap", json_string(n->spare.ifname));
        return o;
}

static int cmp_net(const void *a, const void *b)
{
        return strcmp((*(struct net *const *)a)->def.name, (*(struct net *const *)b)->def.name);
}

json_t *manager_network_json(struct manager *m, const char *name)
{
        struct net *n = mgr_find(m, name);

        return n ? status_json(m, n) : NULL;
}

json_t *manager_list_json(struct manager *m)
{
        json_t *a = json_array();

        /* qsort() wants a valid pointer even for no elements; nets is NULL until the first. */
        if (m->n_nets)
                qsort(m->nets, m->n_nets, sizeof(*m->nets), cmp_net);
        for (size_t i = 0; a && i < m->n_nets; i++)
                json_array_append_new(a, status_json(m, m->nets[i]));
        return a;
}

/* --- life cycle ----------------------------------------------------------------------------- */

int manager_new(const struct manager_config *cfg, struct manager **ret)
{
        struct manager *m = calloc(1, sizeof(*m));
        int r = -ENOMEM;

        if (!m)
                return -ENOMEM;
        m->zero_dhcp_checksum = cfg->zero_dhcp_checksum;
        m->spare_taps = cfg->spare_taps;
        m->state_dir = strdup(cfg->state_dir);
        m->run_dir = strdup(cfg->run_dir);
        if (!m->state_dir || !m->run_dir)
                goto fail;
        m->defs_dir = path_join(cfg->config_dir, "networks");
        m->transient_dir = path_join(cfg->run_dir, "transient");
        m->records_dir = path_join(cfg->run_dir, "networks");
        if (!m->defs_dir || !m->transient_dir || !m->records_dir)
                goto fail;
        if ((r = vnet_mkdir_p(m->defs_dir, 0755)) < 0 ||
            (r = vnet_mkdir_p(m->state_dir, 0755)) < 0 ||
            (r = vnet_mkdir_p(m->transient_dir, 0755)) < 0 ||
            (r = vnet_mkdir_p(m->records_dir, 0755)) < 0)
                goto fail;
        r = vnet_link_open(&m->link);
        if (r < 0)
                goto fail;
        r = vnet_nft_open(&m->nft);
        if (r < 0)
                goto fail;
        r = dnsmasq_sup_new(cfg->loop, m->run_dir, m->state_dir, NULL, &m->dns);
        if (r < 0)
                goto fail;
        r = ports_new(m->state_dir, &m->ports);
        if (r == 0)
                r = ports_load(m->ports);
        if (r < 0)
                goto fail;
        *ret = m;
        return 0;
fail:
        manager_free(m);
        return r;
}

void manager_free(struct manager *m)
{
        if (!m)
                return;
        for (size_t i = 0; i < m->n_nets; i++)
                free(m->nets[i]);
        free(m->nets);
        if (m->link)
                vnet_link_close(m->link);
        if (m->nft)
                vnet_nft_close(m->nft);
        ports_free(m->ports);
        dnsmasq_sup_free(m->dns);
        free(m->state_dir);
        free(m->run_dir);
        free(m->defs_dir);
        free(m->transient_dir);
        free(m->records_dir);
        free(m);
}

/* --- reload: the definitions on disk, converged to ------------------------------------------ */

static bool dhcp_equal(const struct vnet_dhcp *a, const struct vnet_dhcp *b)
{
        if (a->enabled != b->enabled || a->dns_disabled != b->dns_disabled ||
            a->start.s_addr != b->start.s_addr ||
            a->end.s_addr != b->end.s_addr || a->lease_seconds != b->lease_seconds ||
            strcmp(a->domain, b->domain) != 0 || a->n_forwarders != b->n_forwarders ||
            a->n_hosts != b->n_hosts)
                return false;
        for (unsigned i = 0; i < a->n_forwarders; i++)
                if (a->forwarders[i].s_addr != b->forwarders[i].s_addr)
                        return false;
        for (unsigned i = 0; i < a->n_hosts; i++)
                if (memcmp(a->hosts[i].mac, b->hosts[i].mac, 6) != 0 ||
                    a->hosts[i].ip.s_addr != b->hosts[i].ip.s_addr ||
                    strcmp(a->hosts[i].hostname, b->hosts[i].hostname) != 0)
                        return false;
        return true;
}

/* What the kernel sees of a network: the bridge, its address, the rules. */
static bool kernel_equal(const struct vnet_network *a, const struct vnet_network *b)
{
        return strcmp(a->bridge, b->bridge) == 0 && a->mode == b->mode &&
               a->ipv4.addr.s_addr == b->ipv4.addr.s_addr && a->ipv4.prefix == b->ipv4.prefix &&
               a->mtu == b->mtu && a->stp == b->stp && a->has_mac == b->has_mac &&
               (!a->has_mac || memcmp(a->mac, b->mac, 6) == 0);
}

/* Changes a running network in place to @def: the bridge converged (same device), the rules
 * replaced in one transaction when mode or address changed, dnsmasq reconfigured. A new
 * bridge name means a new bridge: down, then up. */
static int change_running(struct manager *m, struct net *n, const struct vnet_network *def,
                          struct mgr_error *e)
{
        struct vnet_network old = n->def;
        int r;

        if (strcmp(old.bridge, def->bridge) != 0) {
                r = bring_down(m, n, e);
                if (r < 0) {
                        /* The old bridge and its rules stay: give it back its ports and
                         * dnsmasq, which went first. */
                        struct mgr_error ignored = { 0 };
                        mgr_ports_converge(m, n);
                        if (n->def.ipv4.prefix)
                                mgr_dns_start(m, n, &ignored);
                        return r;
                }
                n->def = *def;
                r = bring_up(m, n, false, e);
                if (r < 0) {
                        n->state = NET_FAILED;
                        snprintf(n->error, sizeof(n->error), "%s", e->err.message);
                }
                return r;
        }
        if (def->ipv4.prefix && (def->ipv4.addr.s_addr != old.ipv4.addr.s_addr ||
                                 def->ipv4.prefix != old.ipv4.prefix)) {
                r = check_subnet(m, def, n->ifindex, e);
                if (r < 0)
                        return r;
        }
        n->def = *def;
        r = converge_bridge(m, n, n->ifindex, e);
        if (r < 0)
                goto fail;
        if (old.mode != def->mode || old.ipv4.addr.s_addr != def->ipv4.addr.s_addr ||
            old.ipv4.prefix != def->ipv4.prefix) {
                if (needs_forwarding(def->mode) && (r = enable_forwarding(e)) < 0)
                        goto fail;
                r = apply_rules(m, &old, def);
                if (r < 0) {
                        mgr_fail(e, MGR_ERR_SYSTEM, -r, "", "cannot change firewall rules: %s",
                                 strerror(-r));
                        goto fail;
                }
        }
        if (!def->ipv4.prefix)
                mgr_dns_stop(m, n);
        else if ((r = mgr_dns_start(m, n, e)) < 0)
                log_warning("network %s: %s", n->def.name, e->err.message);
        return 0;
fail:
        n->def = old;
        converge_bridge(m, n, n->ifindex, &(struct mgr_error){ 0 });
        return r;
}

int manager_reload(struct manager *m)
{
        struct vnet_network *def = malloc(sizeof(*def));
        char **seen = NULL;
        size_t n_seen = 0;
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (!def)
                return -ENOMEM;
        d = opendir(m->defs_dir);
        if (!d) {
                free(def);
                return -errno;
        }
        while ((de = readdir(d))) {
                struct mgr_error e = { 0 };
                size_t len = strlen(de->d_name);
                struct vnet_err err = { 0 };
                char path[4096];
                struct net *n;
                char **v;

                if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".conf"))
                        continue;
                snprintf(path, sizeof(path), "%s/%s", m->defs_dir, de->d_name);
                /* A file that exists counts as seen even when it is broken: a typo must not
                 * destroy a network; its old definition stays in force. */
                v = realloc(seen, (n_seen + 1) * sizeof(*seen));
                if (!v || !(v[n_seen] = strndup(de->d_name, len - 5))) {
                        seen = v ? v : seen;
                        r = -ENOMEM;
                        break;
                }
                seen = v;
                n_seen++;
                r = vnet_netconf_load(path, def, &err);
                if (r < 0) {
                        log_error("%s: %s; the network keeps its definition", path,
                                  r == -EINVAL ? err.message : strerror(-r));
                        r = 0;
                        continue;
                }
                n = mgr_find(m, def->name);
                if (n && n->def.transient) {
                        log_error("%s: a transient network of that name exists; ignored", path);
                        continue;
                }
                if (def->bridge[0] && mgr_find_by_bridge(m, def->bridge) &&
                    mgr_find_by_bridge(m, def->bridge) != n) {
                        log_error("%s: bridge %s belongs to network %s; ignored", path,
                                  def->bridge, mgr_find_by_bridge(m, def->bridge)->def.name);
                        continue;
                }
                if (!n) {
                        if (add_net(m, def, &n) < 0)
                                continue;
                        settle_def(m, n);
                        log_info("network %s defined", n->def.name);
                        if (n->def.autostart && bring_up(m, n, false, &e) < 0) {
                                n->state = NET_FAILED;
                                snprintf(n->error, sizeof(n->error), "%s", e.err.message);
                                log_error("network %s: %s", n->def.name, e.err.message);
                        }
                        continue;
                }
                /* What a hand-written file leaves out stays as it was settled. */
                if (!def->bridge[0])
                        snprintf(def->bridge, sizeof(def->bridge), "%s", n->def.bridge);
                if (!def->has_mac) {
                        def->has_mac = n->def.has_mac;
                        memcpy(def->mac, n->def.mac, 6);
                }
                if (kernel_equal(&n->def, def) && dhcp_equal(&n->def.dhcp, &def->dhcp)) {
                        n->def = *def; /* autostart, allowed users: no kernel change */
                        continue;
                }
                if (n->state != NET_RUNNING) {
                        n->def = *def;
                        log_info("network %s: definition changed", n->def.name);
                        continue;
                }
                if (change_running(m, n, def, &e) < 0)
                        log_error("network %s: cannot apply its new definition: %s",
                                  n->def.name, e.err.message);
                else
                        log_info("network %s: new definition applied", n->def.name);
        }
        closedir(d);
        /* Persistent networks whose file is gone are gone. */
        for (size_t i = 0; r == 0 && i < m->n_nets;) {
                struct net *n = m->nets[i];
                struct mgr_error e = { 0 };
                bool found = n->def.transient;

                for (size_t j = 0; !found && j < n_seen; j++)
                        found = strcmp(seen[j], n->def.name) == 0;
                if (found) {
                        i++;
                        continue;
                }
                log_info("network %s: its definition was removed", n->def.name);
                if (manager_destroy(m, n->def.name, &e) < 0) {
                        log_error("network %s: %s", n->def.name, e.err.message);
                        i++;
                }
        }
        for (size_t j = 0; j < n_seen; j++)
                free(seen[j]);
        free(seen);
        free(def);
        return r;
}

/* --- repair ------------------------------------------------------------------------------- */

/* The bridge of running network @n was deleted by someone: make it again (a new device, the
 * same name, address and MAC), with its dnsmasq and its ports. The rules are keyed by the
 * bridge's name and stand as they are. */
static void repair_bridge(struct manager *m, struct net *n)
{
        struct mgr_error e = { 0 };
        int r;

        log_warning("network %s: bridge %s was deleted; making it again", n->def.name,
                    n->def.bridge);
        n->ifindex = 0;
        r = converge_bridge(m, n, 0, &e);
        if (r == 0)
                r = mgr_save_record(m, n);
        if (r < 0) {
                n->state = NET_FAILED;
                snprintf(n->error, sizeof(n->error), "bridge deleted and not made again: %s",
                         e.err.message[0] ? e.err.message : strerror(-r));
                log_error("network %s: %s", n->def.name, n->error);
                return;
        }
        if (mgr_dns_start(m, n, &e) < 0)
                log_warning("network %s: %s", n->def.name, e.err.message);
        mgr_ports_converge(m, n);
        log_info("network %s: repaired (bridge %s)", n->def.name, n->def.bridge);
}

bool mgr_network_link_event(struct manager *m, int ifindex, bool deleted)
{
        for (size_t i = 0; i < m->n_nets; i++) {
                struct net *n = m->nets[i];
                if (n->state != NET_RUNNING || n->ifindex != ifindex)
                        continue;
                if (deleted)
                        repair_bridge(m, n);
                return true;
        }
        return false;
}

void mgr_networks_resync(struct manager *m)
{
        for (size_t i = 0; i < m->n_nets; i++) {
                struct net *n = m->nets[i];
                struct vnet_link_info info;

                if (n->state == NET_RUNNING && n->ifindex > 0 &&
                    vnet_link_get_index(m->link, n->ifindex, &info) == -ENODEV)
                        repair_bridge(m, n);
        }
}

void manager_rules_check(struct manager *m)
{
        int r;

        if (rules_in_place(m))
                return;
        log_warning("the firewall table inet vnet is not what vnetd made; rebuilding it");
        r = rebuild_rules(m);
        if (r < 0)
                log_error("cannot rebuild the firewall table: %s", strerror(-r));
        else
                log_info("firewall table inet vnet repaired");
}
