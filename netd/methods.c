/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "io_vnet_varlink.h" /* generated from libvnet/io.vnet.varlink */
#include "methods.h"
#include "network_json.h"
#include "varlink.h"

#define VNET_VERSION "0.1"

static const char *const error_names[_MGR_ERR_MAX] = {
        [MGR_ERR_INVALID] = "io.vnet.InvalidParameter",
        [MGR_ERR_NOT_FOUND] = "io.vnet.NetworkNotFound",
        [MGR_ERR_EXISTS] = "io.vnet.NetworkExists",
        [MGR_ERR_ADDRESS_CONFLICT] = "io.vnet.AddressConflict",
        [MGR_ERR_INTERFACE_IN_USE] = "io.vnet.InterfaceInUse",
        [MGR_ERR_SYSTEM] = "io.vnet.SystemError",
};

static json_t *error_reply(const struct mgr_error *e, const char *name)
{
        json_t *p = NULL;

        switch (e->kind) {
        case MGR_ERR_INVALID:
        case MGR_ERR_ADDRESS_CONFLICT:
                p = json_pack("{s:s, s:s}", "parameter", e->err.field, "message", e->err.message);
                break;
        case MGR_ERR_NOT_FOUND:
        case MGR_ERR_EXISTS:
                p = json_pack("{s:s}", "name", name ? name : "");
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

static json_t *network_reply(struct manager *m, const char *name)
{
        json_t *n = manager_network_json(m, name);

        if (!n)
                return varlink_error_new("io.vnet.NetworkNotFound",
                                         json_pack("{s:s}", "name", name));
        return varlink_reply_new(json_pack("{s:o}", "network", n));
}

static json_t *m_create(struct manager *m, json_t *params)
{
        struct vnet_network def;
        struct mgr_error e = { 0 };
        json_t *o = json_object_get(params, "network");

        if (vnet_network_from_json(o, &def, &e.err) < 0)
                return invalid(e.err.field, e.err.message);
        if (manager_create(m, &def, &e) < 0)
                return error_reply(&e, def.name);
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
                return error_reply(&e, name);
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
        return by_name(m, p, NULL, true);
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
                return error_reply(&e, name);
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

static const struct method {
        const char *name;
        json_t *(*fn)(struct manager *m, json_t *params);
        bool changes_state;
} methods[] = {
        { "org.varlink.service.GetInfo", m_get_info, false },
        { "org.varlink.service.GetInterfaceDescription", m_get_description, false },
        { "io.vnet.CreateNetwork", m_create, true },
        { "io.vnet.StartNetwork", m_start, true },
        { "io.vnet.StopNetwork", m_stop, true },
        { "io.vnet.DestroyNetwork", m_destroy, true },
        { "io.vnet.SetMode", m_set_mode, true },
        { "io.vnet.ListNetworks", m_list, false },
        { "io.vnet.GetNetwork", m_get, false },
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
                reply = methods[i].fn(userdata, parameters);
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
