/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp.h"
#include "network_json.h"

static json_t *principals_json(const struct vnet_principals *p)
{
        json_t *a = json_array();

        for (unsigned i = 0; a && i < p->n; i++)
                json_array_append_new(a, json_string(p->v[i]));
        return a;
}

static int principals_from_json(const json_t *v, struct vnet_principals *p, const char *field,
                                struct vnet_err *e)
{
        size_t i;
        json_t *x;
        int r;

        if (!json_is_array(v))
                return vnet_err_set(e, field, "invalid %s: expected a list of names", field);
        json_array_foreach(v, i, x) {
                if (!json_is_string(x))
                        return vnet_err_set(e, field, "invalid %s: expected a list of names",
                                            field);
                r = vnet_principals_add(p, json_string_value(x), field, e);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int want_string(const json_t *v, const char *field, struct vnet_err *e)
{
        if (!json_is_string(v))
                return vnet_err_set(e, field, "invalid %s: expected a string", field);
        return 0;
}

static int want_bool(const json_t *v, bool *b, const char *field, struct vnet_err *e)
{
        if (!json_is_boolean(v))
                return vnet_err_set(e, field, "invalid %s: expected true or false", field);
        *b = json_is_true(v);
        return 0;
}

static void dhcp_json(json_t *o, const struct vnet_dhcp *d)
{
        char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], range[2 * INET_ADDRSTRLEN + 1], mac[18];
        json_t *fw = json_array(), *hosts = json_array();

        snprintf(range, sizeof(range), "%s-%s", inet_ntop(AF_INET, &d->start, a, sizeof(a)),
                 inet_ntop(AF_INET, &d->end, b, sizeof(b)));
        for (unsigned i = 0; fw && i < d->n_forwarders; i++)
                json_array_append_new(fw, json_string(inet_ntop(AF_INET, &d->forwarders[i], a,
                                                                sizeof(a))));
        for (unsigned i = 0; hosts && i < d->n_hosts; i++) {
                const struct vnet_dhcp_host *h = &d->hosts[i];
                json_t *x = json_pack("{s:s, s:s}", "mac", vnet_mac_format(h->mac, mac), "ip",
                                      inet_ntop(AF_INET, &h->ip, a, sizeof(a)));
                if (x && h->hostname[0])
                        json_object_set_new(x, "hostname", json_string(h->hostname));
                json_array_append_new(hosts, x);
        }
        json_object_set_new(o, "dhcp", json_boolean(d->enabled));
        json_object_set_new(o, "dns", json_boolean(!d->dns_disabled));
        json_object_set_new(o, "dhcp_range", json_string(range));
        json_object_set_new(o, "lease_time", json_integer(d->lease_seconds));
        json_object_set_new(o, "domain", json_string(d->domain));
        json_object_set_new(o, "dns_forwarders", fw);
        json_object_set_new(o, "hosts", hosts);
}

/* A reservation object {mac, ip, hostname?}, checked on its own. */
int vnet_dhcp_host_from_json(const json_t *o, struct vnet_dhcp_host *h, struct vnet_err *e)
{
        const char *mac = NULL, *ip = NULL, *name = NULL;
        int r;

        memset(h, 0, sizeof(*h));
        if (!json_is_object(o) ||
            json_unpack((json_t *)o, "{s:s, s:s, s?s}", "mac", &mac, "ip", &ip, "hostname",
                        &name) < 0)
                return vnet_err_set(e, "host", "invalid host: expected {mac, ip, hostname}");
        r = vnet_parse_mac(mac, h->mac, "mac", e) ?: vnet_parse_ipv4_addr(ip, &h->ip, "ip", e);
        if (r == 0 && name) {
                r = vnet_parse_hostname(name, "hostname", e);
                if (r == 0)
                        snprintf(h->hostname, sizeof(h->hostname), "%s", name);
        }
        return r;
}

static int dhcp_field_from_json(const char *key, json_t *v, struct vnet_dhcp_input *d,
                                struct vnet_err *e)
{
        size_t i;
        json_t *x;
        int r = 0;

        if (strcmp(key, "dhcp") == 0) {
                bool b = false;
                r = want_bool(v, &b, key, e);
                d->enabled = b;
        } else if (strcmp(key, "dns") == 0) {
                bool b = true;
                r = want_bool(v, &b, key, e);
                d->dns = b;
        } else if (strcmp(key, "dhcp_range") == 0) {
                r = want_string(v, key, e);
                if (r == 0 && snprintf(d->range, sizeof(d->range), "%s", json_string_value(v)) >=
                                      (int)sizeof(d->range))
                        r = vnet_err_set(e, "dhcp", "invalid dhcp range: too long");
        } else if (strcmp(key, "lease_time") == 0) {
                char buf[32];
                if (json_is_integer(v))
                        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                else if (json_is_string(v))
                        snprintf(buf, sizeof(buf), "%s", json_string_value(v));
                else
                        return vnet_err_set(e, "lease-time", "invalid lease-time: expected "
                                            "seconds or a string like 1h");
                r = vnet_parse_lease_time(buf, &d->lease_seconds, "lease-time", e);
        } else if (strcmp(key, "domain") == 0) {
                r = want_string(v, key, e) ?: vnet_parse_domain(json_string_value(v), key, e);
                if (r == 0) {
                        d->has_domain = true;
                        snprintf(d->domain, sizeof(d->domain), "%s", json_string_value(v));
                }
        } else if (strcmp(key, "dns_forwarders") == 0) {
                if (!json_is_array(v) || json_array_size(v) > VNET_DHCP_FORWARDERS_MAX)
                        return vnet_err_set(e, "dns-forwarder", "invalid dns-forwarder: expected "
                                            "a list of at most %d addresses",
                                            VNET_DHCP_FORWARDERS_MAX);
                json_array_foreach(v, i, x) {
                        if (!json_is_string(x))
                                return vnet_err_set(e, "dns-forwarder",
                                                    "invalid dns-forwarder: expected an address");
                        r = vnet_parse_ipv4_addr(json_string_value(x),
                                                 &d->forwarders[d->n_forwarders], "dns-forwarder",
                                                 e);
                        if (r < 0)
                                return r;
                        d->n_forwarders++;
                }
        } else if (strcmp(key, "hosts") == 0) {
                if (!json_is_array(v) || json_array_size(v) > VNET_DHCP_HOSTS_MAX)
                        return vnet_err_set(e, "host", "invalid hosts: expected a list");
                json_array_foreach(v, i, x) {
                        r = vnet_dhcp_host_from_json(x, &d->hosts[d->n_hosts], e);
                        if (r < 0)
                                return r;
                        d->n_hosts++;
                }
        } else {
                return 1; /* not a DHCP field */
        }
        return r;
}

json_t *vnet_network_to_json(const struct vnet_network *n)
{
        char mac[18] = "", ip[32];
        json_t *o;

        if (n->has_mac)
                vnet_mac_format(n->mac, mac);
        o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:b, s:b, s:b}", "name", n->name, "bridge",
                      n->bridge, "mode", vnet_mode_to_string(n->mode), "mtu", (json_int_t)n->mtu,
                      "mac", mac, "stp", n->stp, "autostart", n->autostart, "transient",
                      n->transient);
        if (o && n->ipv4.prefix)
                json_object_set_new(o, "ipv4", json_string(vnet_ipv4_format(&n->ipv4, ip)));
        if (o) {
                json_object_set_new(o, "allow_users", principals_json(&n->allow_users));
                json_object_set_new(o, "allow_groups", principals_json(&n->allow_groups));
        }
        if (o && n->ipv4.prefix)
                dhcp_json(o, &n->dhcp);
        return o;
}

int vnet_network_from_json(const json_t *o, struct vnet_network *n, struct vnet_err *e)
{
        struct vnet_dhcp_input *dhcp = NULL;
        const char *key;
        json_t *v;
        int r;

        if (!json_is_object(o))
                return vnet_err_set(e, "network", "invalid network: expected an object");
        v = json_object_get(o, "name");
        if (!v)
                return vnet_err_set(e, "name", "missing name");
        r = want_string(v, "name", e);
        if (r < 0)
                return r;
        r = vnet_parse_name(json_string_value(v), "name", e);
        if (r < 0)
                return r;
        vnet_network_init(n, json_string_value(v));
        dhcp = malloc(sizeof(*dhcp));
        if (!dhcp)
                return -ENOMEM;
        vnet_dhcp_input_init(dhcp);

        json_object_foreach((json_t *)o, key, v) {
                if (strcmp(key, "name") == 0)
                        continue;
                if (json_is_null(v)) /* varlink's way of saying "not given" */
                        continue;
                if (strcmp(key, "bridge") == 0) {
                        r = want_string(v, key, e) ?: vnet_parse_ifname(json_string_value(v), key, e);
                        if (r == 0)
                                snprintf(n->bridge, sizeof(n->bridge), "%s", json_string_value(v));
                } else if (strcmp(key, "mode") == 0) {
                        r = want_string(v, key, e);
                        if (r == 0) {
                                r = vnet_mode_from_string(json_string_value(v));
                                if (r < 0)
                                        /* Not echoed: it may hold control characters. */
                                        r = vnet_err_set(e, key,
                                                         "invalid mode: use nat, routed, "
                                                         "isolated or open");
                                else
                                        n->mode = (enum vnet_mode)r, r = 0;
                        }
                } else if (strcmp(key, "ipv4") == 0) {
                        r = want_string(v, key, e) ?:
                                vnet_parse_ipv4_gateway(json_string_value(v), &n->ipv4, key, e);
                } else if (strcmp(key, "mtu") == 0) {
                        json_int_t m = json_integer_value(v);
                        if (!json_is_integer(v) || m < VNET_MTU_MIN || m > VNET_MTU_MAX)
                                r = vnet_err_set(e, key, "invalid mtu: must be a number in %d..%d",
                                                 VNET_MTU_MIN, VNET_MTU_MAX);
                        else
                                n->mtu = (unsigned)m;
                } else if (strcmp(key, "mac") == 0) {
                        r = want_string(v, key, e) ?:
                                vnet_parse_mac(json_string_value(v), n->mac, key, e);
                        n->has_mac = r == 0;
                } else if (strcmp(key, "stp") == 0) {
                        r = want_bool(v, &n->stp, key, e);
                } else if (strcmp(key, "autostart") == 0) {
                        r = want_bool(v, &n->autostart, key, e);
                } else if (strcmp(key, "transient") == 0) {
                        r = want_bool(v, &n->transient, key, e);
                } else if (strcmp(key, "allow_users") == 0) {
                        r = principals_from_json(v, &n->allow_users, key, e);
                } else if (strcmp(key, "allow_groups") == 0) {
                        r = principals_from_json(v, &n->allow_groups, key, e);
                } else {
                        r = dhcp_field_from_json(key, v, dhcp, e);
                        if (r > 0)
                                r = vnet_err_set(e, key, "unknown field '%.40s'", key);
                }
                if (r < 0)
                        goto out;
        }
        r = -EINVAL;
        if (n->autostart && n->transient) {
                vnet_err_set(e, "autostart",
                             "invalid autostart: a transient network cannot autostart");
                goto out;
        }
        r = vnet_dhcp_resolve(dhcp, n->name, &n->ipv4, &n->dhcp, e);
        if (r == 0)
                r = vnet_network_validate(n, e);
out:
        free(dhcp);
        return r;
}



json_t *vnet_port_to_json(const struct vnet_port *p)
{
        char mac[18];
        json_t *o;

        o = json_pack("{s:s, s:s, s:s, s:i, s:b}", "network", p->network, "ifname", p->ifname,
                      "mac", vnet_mac_format(p->mac, mac), "queues", (json_int_t)p->queues,
                      "adopted", p->adopted);
        if (o && p->owner >= 0)
                json_object_set_new(o, "owner", json_integer(p->owner));
        if (o && p->group >= 0)
                json_object_set_new(o, "group", json_integer(p->group));
        return o;
}

static int id_from_json(const json_t *v, long *id, const char *field, struct vnet_err *e)
{
        if (!v || json_is_null(v)) {
                *id = -1;
                return 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > 0xfffffffeLL)
                return vnet_err_set(e, field, "invalid %s: expected a numeric id", field);
        *id = (long)json_integer_value(v);
        return 0;
}

int vnet_port_from_json(const json_t *o, struct vnet_port *p, struct vnet_err *e)
{
        const char *net = NULL, *ifname = NULL, *mac = NULL;
        json_int_t queues = 1;
        int adopted = 0, r;

        memset(p, 0, sizeof(*p));
        if (json_unpack((json_t *)o, "{s:s, s:s, s:s, s?I, s?b}", "network", &net, "ifname",
                        &ifname, "mac", &mac, "queues", &queues, "adopted", &adopted) < 0)
                return vnet_err_set(e, "port", "invalid port: network, ifname and mac needed");
        r = vnet_parse_name(net, "network", e) ?: vnet_parse_ifname(ifname, "ifname", e) ?:
            vnet_parse_mac(mac, p->mac, "mac", e) ?:
            id_from_json(json_object_get(o, "owner"), &p->owner, "owner", e) ?:
            id_from_json(json_object_get(o, "group"), &p->group, "group", e);
        if (r < 0)
                return r;
        if (queues < 1 || queues > VNET_QUEUES_MAX)
                return vnet_err_set(e, "queues", "invalid queues: must be in 1..%d",
                                    VNET_QUEUES_MAX);
        snprintf(p->network, sizeof(p->network), "%s", net);
        snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
        p->queues = (unsigned)queues;
        p->adopted = adopted;
        return 0;
}
