/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libvnet client API: talk to vnetd over its varlink socket from C, without running vnetctl.
 *
 *   struct vnet_client *c;
 *   if (vnet_client_connect(NULL, &c) < 0) ...            // $VNET_SOCKET or the default
 *   json_t *reply; struct vnet_call_error err = {0};
 *   r = vnet_client_call(c, "io.vnet.GetNetwork", json_pack("{s:s}", "name", "default"),
 *                        &reply, &err);
 *
 * Functions return 0 or a negative errno. */
#pragma once

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VNET_SOCKET_DEFAULT "/run/vnet/vnetd.sock"
#define VNET_INTERFACE      "io.vnet"

struct vnet_client;

/* A varlink error reply: its qualified name ("io.vnet.NetworkNotFound"), its parameters, and
 * a one-line description made from them for people. */
struct vnet_call_error {
        char name[128];
        char message[512];
        json_t *parameters; /* owned; released by vnet_call_error_clear() */
};

void vnet_call_error_clear(struct vnet_call_error *e);

/* @override if not NULL, else $VNET_SOCKET if set and not empty, else VNET_SOCKET_DEFAULT. */
const char *vnet_socket_path(const char *override);

int vnet_client_connect(const char *path, struct vnet_client **ret);
void vnet_client_free(struct vnet_client *c);

/* Calls @method with @params (a JSON object, or NULL for {}; the reference is stolen).
 * 0: *reply holds the reply's parameters (a new reference, never NULL).
 * -EREMOTEIO: vnetd answered with an error, described in @err.
 * Any other -errno: the connection failed (and @err->message says how). */
int vnet_client_call(struct vnet_client *c, const char *method, json_t *params, json_t **reply,
                     struct vnet_call_error *err);

#ifdef __cplusplus
}
#endif
