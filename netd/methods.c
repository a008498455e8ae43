/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "io_vnet_varlink.h" /* generated from libvnet/io.vnet.varlink */
#include "methods.h"
#include "dhcp.h"
#include "log.h"
#include "network_json.h"
#include "nft_inspect.h"
#include "varlink.h"
#include <vnet/vnet.h> /* VNET_VERSION */

static const char *const error_names[_MGR_ERR_MAX] = {
        [MGR_ERR_INVALID] = "io.vnet.InvalidParameter",
        [MGR_ERR_NOT_FOUND] = "io.vnet.NetworkNotFound",
        [MGR_ERR_EXISTS] = "io.vnet.NetworkExists",
        [MGR_ERR_ADDRESS_CONFLICT] = "io.vnet.AddressConflict",
        [MGR_ERR_INTERFACE_IN_USE] = "io.vnet.InterfaceInUse",
        [MGR_ERR_SYSTEM] = "io.vnet.SystemError",
        [MGR_ERR_NOT_RUNNING] = "io.vnet.NetworkNotRunning",
        [MGR_ERR_PORT_NOT_FOUND] = "io.vnet.PortNotFound",
        [MGR_ERR_PERMISSION] = "io.vnet.PermissionDenied",
};

static json_t *error_reply(const struct mgr_error *e)
{
        json_t *p = NULL;

        switch (e->kind) {
        case MGR_ERR_INVALID:
        case MGR_ERR_ADDRESS_CONFLICT:
                p = json_pack("{s:s, s:s}", "parameter", e->err.field, "message", e->err.message);
                break;
        case MGR_ERR_NOT_FOUND:
        case MGR_ERR_EXISTS:
        case MGR_ERR_NOT_RUNNING:
                p = json_pack("{s:s}", "name", e->network);
                break;
        case MGR_ERR_PORT_NOT_FOUND:
                p = json_pack("{s:s, s:s}", "network", e->network, "ifname", e->ifname);
                break;
        case MGR_ERR_PERMISSION:
                p = json_pack("{s:s}", "message", e->err.message);
                break;
        case MGR_ERR_INTERFACE_IN_USE:
                p = json_pack("{s:s, s:s}", "interface", e->err.field, "message", e->err.message);
                break;
        case MGR_ERR_SYSTEM:
                p = json_pack("{s:i, s:s}", "errno", e->errnum, "message", e->err.message);
                break;
        case _MGR_ERR_MAX:
                break;
        }
        return varlink_error_new(error_names[e->kind], p);
}

static json_t *invalid(const char *parameter, const char *message)
{
        return varlink_error_new("io.vnet.InvalidParameter",
                                 json_pack("{s:s, s:s}", "parameter", parameter, "message",
                                           message));
}

/* The "name" parameter, checked like any other input. */
static const char *name_param(json_t *params, json_t **err)
{
        struct vnet_err e = { 0 };
        json_t *v = json_object_get(params, "name");

        if (!json_is_string(v)) {
                *err = invalid("name", "missing name");
                return NULL;
        }
        if (vnet_parse_name(json_string_value(v), "name", &e) < 0) {
                *err = invalid("name", e.message);
                return NULL;
        }
        return json_string_value(v);
}

/* --- foreign firewalls --------------------------------------------------------------------- */

/* The networks as the firewall check needs them, from @list (NetworkStatus objects, which
 * must outlive the result). Every defined network counts: a stopped one meets the same
 * chains when it starts. */
static int inspect_nets(const json_t *list, struct vnet_nft_inspect_net **ret, size_t *n_ret)
{
        size_t n = json_array_size(list), k = 0, i;
        struct vnet_nft_inspect_net *v = calloc(n + 1, sizeof(*v));
        const json_t *o;

        if (!v)
                return -ENOMEM;
        json_array_foreach(list, i, o) {
                const char *name = json_string_value(json_object_get(o, "name"));
                const char *bridge = json_string_value(json_object_get(o, "bridge"));
                int mode = vnet_mode_from_string(json_string_value(json_object_get(o, "mode")));

                if (!name || !bridge || mode < 0)
                        continue;
                v[k] = (struct vnet_nft_inspect_net){
                        .name = name,
                        .bridge = bridge,
                        .ifindex = if_nametoindex(bridge),
                        .mode = (enum vnet_mode)mode,
                        .dhcp = json_is_true(json_object_get(o, "dhcp")),
                        /* dnsmasq serves DNS on every network with an address */
                        .dns = json_is_string(json_object_get(o, "ipv4")),
                };
                k++;
        }
        *ret = v;
        *n_ret = k;
        return 0;
}

/* The foreign base chains that drop the traffic of vnetd's networks. */
static int diagnose(struct manager *m, struct vnet_nft_finding **ret, size_t *n_ret)
{
        struct vnet_nft_inspect *ins = NULL;
        struct vnet_nft_inspect_net *nets = NULL;
        json_t *list = manager_list_json(m);
        size_t n_nets = 0;
        int r = list ? 0 : -ENOMEM;

        if (r == 0)
                r = inspect_nets(list, &nets, &n_nets);
        if (r == 0)
                r = vnet_nft_inspect_new(&ins);
        if (r == 0)
                r = vnet_nft_inspect_dump(ins);
        if (r == 0)
                r = vnet_nft_inspect_check(ins, nets, n_nets, ret, n_ret);
        vnet_nft_inspect_free(ins);
        free(nets);
        json_decref(list);
        return r;
}

static json_t *finding_json(const struct vnet_nft_finding *f)
{
        json_t *o, *nets = json_array();

        for (size_t i = 0; nets && i < f->n_networks; i++)
                json_array_append_new(nets, json_string(f->networks[i]));
        o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:b, s:o, s:s}", "family", f->family,
                      "table", f->table, "chain", f->chain, "hook",
                      vnet_nft_inspect_hook_to_string(f->hook), "priority", f->priority,
                      "what", vnet_nft_inspect_what_to_string(f->what), "certain", f->certain,
                      "networks", nets, "remedy", f->remedy);
        if (o && f->what != VNET_NFT_INSPECT_POLICY_DROP)
                json_object_set_new(o, "rule", json_integer((json_int_t)f->handle));
        if (o && f->rule_chain)
                json_object_set_new(o, "rule_chain", json_string(f->rule_chain));
        return o;
}

static json_t *m_diagnose(struct manager *m, json_t *params)
{
        struct vnet_nft_finding *f = NULL;
        size_t n = 0;
        json_t *a;
        int r;

        (void)params;
        r = diagnose(m, &f, &n);
        if (r < 0)
                return varlink_error_new("io.vnet.SystemError",
                                         json_pack("{s:i, s:s}", "errno", -r, "message",
                                                   "cannot read the nftables ruleset"));
        a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, finding_json(&f[i]));
        vnet_nft_findings_free(f, n);
        return varlink_reply_new(json_pack("{s:o}", "findings", a));
}

/* A running network's "warnings": the foreign chains that drop its guests' traffic. A
 * ruleset that cannot be read costs the warnings, not the reply. */
static void network_warnings(struct manager *m, json_t *network)
{
        const char *name = json_string_value(json_object_get(network, "name"));
        const char *state = json_string_value(json_object_get(network, "state"));
        struct vnet_nft_finding *f = NULL;
        json_t *warnings;
        size_t n = 0;
        int r;

        if (!name || !state || strcmp(state, "running") != 0)
                return;
        r = diagnose(m, &f, &n);
        if (r < 0) {
                log_debug("network %s: cannot check other tables' chains: %s", name,
                          strerror(-r));
                return;
        }
        warnings = json_array();
        for (size_t i = 0; warnings && i < n; i++) {
                char *summary = NULL;

                for (size_t k = 0; k < f[i].n_networks; k++) {
                        if (strcmp(f[i].networks[k], name) != 0)
                                continue;
                        if (vnet_nft_finding_summary(&f[i], &summary) == 0)
                                json_array_append_new(
                                        warnings, json_sprintf("%s; to fix it, %s", summary,
                                                               f[i].remedy));
                        free(summary);
                        break;
                }
        }
        vnet_nft_findings_free(f, n);
        if (json_array_size(warnings) > 0)
                json_object_set_new(network, "warnings", warnings);
        else
                json_decref(warnings);
}

static json_t *network_reply_warn(struct manager *m, const char *name, bool warnings)
{
        json_t *n = manager_network_json(m, name);

        if (!n)
                return varlink_error_new("io.vnet.NetworkNotFound",
                                         json_pack("{s:s}", "name", name));
        if (warnings)
                network_warnings(m, n);
        return varlink_reply_new(json_pack("{s:o}", "network", n));
}

static json_t *network_reply(struct manager *m, const char *name)
{
        return network_reply_warn(m, name, false);
}

static json_t *m_create(struct manager *m, json_t *params)
{
        struct vnet_network def;
        struct mgr_error e = { 0 };
        json_t *o = json_object_get(params, "network");

        if (vnet_network_from_json(o, &def, &e.err) < 0)
                return invalid(e.err.field, e.err.message);
        if (manager_create(m, &def, &e) < 0)
                return error_reply(&e);
        return network_reply(m, def.name);
}

typedef int (*name_op_fn)(struct manager *m, const char *name, struct mgr_error *e);

static json_t *by_name(struct manager *m, json_t *params, name_op_fn op, bool reply_network)
{
        struct mgr_error e = { 0 };
        json_t *err = NULL;
        const char *name = name_param(params, &err);

        if (!name)
                return err;
        if (op && op(m, name, &e) < 0)
                return error_reply(&e);
        return reply_network ? network_reply(m, name) : varlink_reply_new(NULL);
}

static json_t *m_start(struct manager *m, json_t *p)
{
        return by_name(m, p, manager_start_network, true);
}

static json_t *m_stop(struct manager *m, json_t *p)
{
        return by_name(m, p, manager_stop_network, true);
}

static json_t *m_destroy(struct manager *m, json_t *p)
{
        return by_name(m, p, manager_destroy, false);
}

static json_t *m_get(struct manager *m, json_t *p)
{
        json_t *err = NULL;
        const char *name = name_param(p, &err);

        if (!name)
                return err;
        return network_reply_warn(m, name, true);
}

static json_t *m_list(struct manager *m, json_t *p)
{
        (void)p;
        return varlink_reply_new(json_pack("{s:o}", "networks", manager_list_json(m)));
}

static json_t *m_set_mode(struct manager *m, json_t *params)
{
        struct mgr_error e = { 0 };
        json_t *err = NULL, *v;
        const char *name = name_param(params, &err);
        int mode;

        if (!name)
                return err;
        v = json_object_get(params, "mode");
        mode = json_is_string(v) ? vnet_mode_from_string(json_string_value(v)) : -EINVAL;
        if (mode < 0)
                return invalid("mode", "invalid mode: use nat, routed, isolated or open");
        if (manager_set_mode(m, name, (enum vnet_mode)mode, &e) < 0)
                return error_reply(&e);
        return network_reply(m, name);
}

static json_t *m_get_info(struct manager *m, json_t *p)
{
        (void)m, (void)p;
        return varlink_reply_new(json_pack("{s:s, s:s, s:s, s:s, s:[s,s]}", "vendor", "vnet",
                                           "product", "vnetd", "version", VNET_VERSION, "url",
                                           "https://varlink.org", "interfaces",
                                           "org.varlink.service", "io.vnet"));
}

static json_t *m_get_description(struct manager *m, json_t *params)
{
        json_t *v = json_object_get(params, "interface");

        (void)m;
        if (!json_is_string(v))
                return varlink_error_new("org.varlink.service.InvalidParameter",
                                         json_pack("{s:s}", "parameter", "interface"));
        if (strcmp(json_string_value(v), "io.vnet") != 0)
                return varlink_error_new("org.varlink.service.InterfaceNotFound",
                                         json_pack("{s:O}", "interface", v));
        return varlink_reply_new(json_pack("{s:s}", "description", io_vnet_varlink));
}

/* --- ports ------------------------------------------------------------------------------- */

static bool peer_in_group(const void *ctx, gid_t gid)
{
        return server_peer_in_group(ctx, gid);
}

static struct mgr_caller caller_of(const struct server_peer *peer)
{
        return (struct mgr_caller){ .uid = peer->uid,
                                    .gid = peer->gid,
                                    .privileged = peer->privileged,
                                    .in_group = peer_in_group,
                                    .ctx = peer };
}

/* An optional string parameter: NULL when absent or null, an error when of another type. */
static int opt_string(json_t *params, const char *key, const char **out, json_t **err)
{
        json_t *v = json_object_get(params, key);

        *out = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v)) {
                *err = invalid(key, "expected a string");
                return -EINVAL;
        }
        *out = json_string_value(v);
        return 0;
}

static json_t *port_reply(struct manager *m, const char *ifname)
{
        json_t *p = manager_port_json(m, ifname);

        if (!p)
                return varlink_error_new("io.vnet.SystemError",
                                         json_pack("{s:i, s:s}", "errno", ENOENT, "message",
                                                   "the port went away"));
        return varlink_reply_new(json_pack("{s:o}", "port", p));
}

static json_t *m_attach(struct manager *m, const struct server_peer *peer, json_t *params)
{
        struct mgr_caller caller = caller_of(peer);
        struct mgr_port_request req = { 0 };
        struct mgr_error e = { 0 };
        char ifname[VNET_IFNAME_MAX + 1];
        json_t *err = NULL, *q;

        if (opt_string(params, "network", &req.network, &err) < 0 ||
            opt_string(params, "ifname", &req.ifname, &err) < 0 ||
            opt_string(params, "mac", &req.mac, &err) < 0 ||
            opt_string(params, "owner", &req.owner, &err) < 0 ||
            opt_string(params, "group", &req.group, &err) < 0 ||
            opt_string(params, "ip", &req.ip, &err) < 0 ||
            opt_string(params, "hostname", &req.hostname, &err) < 0)
                return err;
        if (!req.network)
                return invalid("network", "missing network");
        q = json_object_get(params, "queues");
        if (q && !json_is_null(q)) {
                if (!json_is_integer(q) || json_integer_value(q) < 1 ||
                    json_integer_value(q) > VNET_QUEUES_MAX)
                        return invalid("queues", "invalid queues: must be a number in 1..64");
                req.queues = (unsigned)json_integer_value(q);
        }
        if (manager_port_attach(m, &req, &caller, ifname, &e) < 0)
                return error_reply(&e);
        return port_reply(m, ifname);
}

static json_t *m_detach(struct manager *m, const struct server_peer *peer, json_t *params)
{
        struct mgr_error e = { 0 };
        const char *net = NULL, *ifname = NULL;
        json_t *err = NULL;

        (void)peer;
        if (opt_string(params, "network", &net, &err) < 0 ||
            opt_string(params, "ifname", &ifname, &err) < 0)
                return err;
        if (!net)
                return invalid("network", "missing network");
        if (!ifname)
                return invalid("ifname", "missing ifname");
        if (manager_port_detach(m, net, ifname, &e) < 0)
                return error_reply(&e);
        return varlink_reply_new(NULL);
}

static json_t *m_ports(struct manager *m, const struct server_peer *peer, json_t *params)
{
        struct mgr_error e = { 0 };
        const char *net = NULL;
        json_t *err = NULL, *a;

        (void)peer;
        if (opt_string(params, "network", &net, &err) < 0)
                return err;
        if (!net)
                return invalid("network", "missing network");
        a = manager_ports_json(m, net, &e);
        if (!a)
                return error_reply(&e);
        return varlink_reply_new(json_pack("{s:o}", "ports", a));
}

static json_t *m_port_up(struct manager *m, const struct server_peer *peer, json_t *params)
{
        struct mgr_caller caller = caller_of(peer);
        struct mgr_error e = { 0 };
        const char *ifname = NULL, *net = NULL, *mac = NULL;
        char out[VNET_IFNAME_MAX + 1];
        json_t *err = NULL;

        if (opt_string(params, "ifname", &ifname, &err) < 0 ||
            opt_string(params, "network", &net, &err) < 0 ||
            opt_string(params, "mac", &mac, &err) < 0)
                return err;
        if (!ifname)
                return invalid("ifname", "missing ifname");
        if (manager_port_up(m, ifname, net, mac, &caller, out, &e) < 0)
                return error_reply(&e);
        return port_reply(m, out);
}

static json_t *m_port_down(struct manager *m, const struct server_peer *peer, json_t *params)
{
        struct mgr_caller caller = caller_of(peer);
        struct mgr_error e = { 0 };
        const char *ifname = NULL;
        json_t *err = NULL;

        if (opt_string(params, "ifname", &ifname, &err) < 0)
                return err;
        if (!ifname)
                return invalid("ifname", "missing ifname");
        if (manager_port_down(m, ifname, &caller, &e) < 0)
                return error_reply(&e);
        return varlink_reply_new(NULL);
}

static json_t *m_open_tap(struct manager *m, const struct server_peer *peer, json_t *params)
{
        struct mgr_caller caller = caller_of(peer);
        struct mgr_error e = { 0 };
        const char *bridge = NULL;
        char ifname[VNET_IFNAME_MAX + 1];
        json_t *err = NULL, *reply;
        int fd = -1;

        if (opt_string(params, "bridge", &bridge, &err) < 0)
                return err;
        if (!bridge)
                return invalid("bridge", "missing bridge");
        if (manager_open_tap(m, bridge, json_is_true(json_object_get(params, "vnet_hdr")),
                             &caller, &fd, ifname, &e) < 0)
                return error_reply(&e);
        reply = port_reply(m, ifname);
        server_reply_fd(peer, fd);
        return reply;
}

/* --- DHCP reservations and leases ---------------------------------------------------------- */

static json_t *hosts_reply(struct manager *m, const char *net)
{
        struct mgr_error e = { 0 };
        json_t *a = manager_hosts_json(m, net, &e);

        if (!a)
                return error_reply(&e);
        return varlink_reply_new(json_pack("{s:o}", "hosts", a));
}

static json_t *m_host_add(struct manager *m, const struct server_peer *peer, json_t *params)
{
        struct vnet_dhcp_host h;
        struct mgr_error e = { 0 };
        const char *net = NULL;
        json_t *err = NULL;

        (void)peer;
        if (opt_string(params, "network", &net, &err) < 0)
                return err;
        if (!net)
                return invalid("network", "missing network");
        if (vnet_dhcp_host_from_json(json_object_get(params, "host"), &h, &e.err) < 0)
                return invalid(e.err.field, e.err.message);
        if (manager_host_add(m, net, &h, &e) < 0)
                return error_reply(&e);
        return hosts_reply(m, net);
}

static json_t *m_host_remove(struct manager *m, const struct server_peer *peer, json_t *params)
{
        struct mgr_error e = { 0 };
        const char *net = NULL, *mac = NULL;
        uint8_t addr[6];
        json_t *err = NULL;

        (void)peer;
        if (opt_string(params, "network", &net, &err) < 0 ||
            opt_string(params, "mac", &mac, &err) < 0)
                return err;
        if (!net)
                return invalid("network", "missing network");
        if (vnet_parse_mac(mac, addr, "mac", &e.err) < 0)
                return invalid("mac", mac ? e.err.message : "missing mac");
        if (manager_host_remove(m, net, addr, &e) < 0)
                return error_reply(&e);
        return hosts_reply(m, net);
}

static json_t *m_hosts(struct manager *m, const struct server_peer *peer, json_t *params)
{
        const char *net = NULL;
        json_t *err = NULL;

        (void)peer;
        if (opt_string(params, "network", &net, &err) < 0)
                return err;
        if (!net)
                return invalid("network", "missing network");
        return hosts_reply(m, net);
}

static json_t *m_leases(struct manager *m, const struct server_peer *peer, json_t *params)
{
        struct mgr_error e = { 0 };
        const char *net = NULL;
        json_t *err = NULL, *a;

        (void)peer;
        if (opt_string(params, "network", &net, &err) < 0)
                return err;
        if (!net)
                return invalid("network", "missing network");
        a = manager_leases_json(m, net, &e);
        if (!a)
                return error_reply(&e);
        return varlink_reply_new(json_pack("{s:o}", "leases", a));
}

static json_t *m_reload(struct manager *m, json_t *params)
{
        int r;

        (void)params;
        r = manager_reload(m);
        if (r < 0)
                return varlink_error_new("io.vnet.SystemError",
                                         json_pack("{s:i, s:s}", "errno", -r, "message",
                                                   "cannot read the definitions"));
        return varlink_reply_new(NULL);
}

/* Methods that do not look at the caller. */
#define PLAIN(fn)                                                                              \
        static json_t *fn##_p(struct manager *m, const struct server_peer *peer, json_t *p)   \
        {                                                                                      \
                (void)peer;                                                                    \
                return fn(m, p);                                                               \
        }
PLAIN(m_get_info)
PLAIN(m_get_description)
PLAIN(m_create)
PLAIN(m_start)
PLAIN(m_stop)
PLAIN(m_destroy)
PLAIN(m_set_mode)
PLAIN(m_list)
PLAIN(m_get)
PLAIN(m_reload)
PLAIN(m_diagnose)

static const struct method {
        const char *name;
        json_t *(*fn)(struct manager *m, const struct server_peer *peer, json_t *params);
        bool changes_state; /* needs root or the admin group */
} methods[] = {
        { "org.varlink.service.GetInfo", m_get_info_p, false },
        { "org.varlink.service.GetInterfaceDescription", m_get_description_p, false },
        { "io.vnet.CreateNetwork", m_create_p, true },
        { "io.vnet.StartNetwork", m_start_p, true },
        { "io.vnet.StopNetwork", m_stop_p, true },
        { "io.vnet.DestroyNetwork", m_destroy_p, true },
        { "io.vnet.SetMode", m_set_mode_p, true },
        { "io.vnet.ListNetworks", m_list_p, false },
        { "io.vnet.GetNetwork", m_get_p, false },
        { "io.vnet.Reload", m_reload_p, true },
        { "io.vnet.AttachPort", m_attach, true },
        { "io.vnet.DetachPort", m_detach, true },
        { "io.vnet.ListPorts", m_ports, false },
        { "io.vnet.AddHost", m_host_add, true },
        { "io.vnet.RemoveHost", m_host_remove, true },
        { "io.vnet.ListHosts", m_hosts, false },
        { "io.vnet.ListLeases", m_leases, false },
        /* Reads the ruleset with vnetd's CAP_NET_ADMIN, which the caller need not have. */
        { "io.vnet.Diagnose", m_diagnose_p, false },
        /* These check the caller against the network's allow lists themselves. */
        { "io.vnet.PortUp", m_port_up, false },
        { "io.vnet.PortDown", m_port_down, false },
        { "io.vnet.OpenTap", m_open_tap, false },
};

json_t *methods_handle(void *userdata, const struct server_peer *peer, const char *method,
                       json_t *parameters)
{
        json_t *empty = NULL, *reply;

        for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
                if (strcmp(methods[i].name, method) != 0)
                        continue;
                if (methods[i].changes_state && !peer->privileged)
                        return varlink_error_new(
                                "io.vnet.PermissionDenied",
                                json_pack("{s:s}", "message",
                                          "permission denied: changing networks needs root or "
                                          "membership of vnetd's group"));
                if (!json_is_object(parameters))
                        parameters = empty = json_object();
                reply = methods[i].fn(userdata, peer, parameters);
                json_decref(empty);
                return reply;
        }
        if (strncmp(method, "io.vnet.", 8) != 0 && strncmp(method, "org.varlink.service.", 20)) {
                /* The interface is the method's name without its last component. */
                const char *dot = strrchr(method, '.');
                int len = dot ? (int)(dot - method) : (int)strlen(method);
                return varlink_error_new("org.varlink.service.InterfaceNotFound",
                                         json_pack("{s:s%}", "interface", method, (size_t)len));
        }
        return varlink_error_new("org.varlink.service.MethodNotFound",
                                 json_pack("{s:s}", "method", method));
}
