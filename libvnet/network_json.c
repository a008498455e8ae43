/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

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
        return o;
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

int vnet_network_from_json(const json_t *o, struct vnet_network *n, struct vnet_err *e)
{
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
                        r = vnet_err_set(e, key, "unknown field '%.40s'", key);
                }
                if (r < 0)
                        return r;
        }
        if (n->autostart && n->transient)
                return vnet_err_set(e, "autostart",
                                    "invalid autostart: a transient network cannot autostart");
        return vnet_network_validate(n, e);
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
