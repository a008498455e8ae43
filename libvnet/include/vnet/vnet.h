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
#define VNET_VERSION        "0.1"

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

/* The socket open to every user that sits beside the admin socket @path: vnetd-user.sock in
 * the same directory. It serves reading and what the networks' allow lists permit. */
void vnet_user_socket_path(const char *path, char *buf, size_t len);

/* Connects to @path (see vnet_socket_path). When that is refused for lack of permission, the
 * user socket beside it is tried, so a user outside the admin group can still read and use
 * what the networks allow. */
int vnet_client_connect(const char *path, struct vnet_client **ret);
void vnet_client_free(struct vnet_client *c);

/* Calls @method with @params (a JSON object, or NULL for {}; the reference is stolen).
 * 0: *reply holds the reply's parameters (a new reference, never NULL).
 * -EREMOTEIO: vnetd answered with an error, described in @err.
 * Any other -errno: the connection failed (and @err->message says how). */
int vnet_client_call(struct vnet_client *c, const char *method, json_t *params, json_t **reply,
                     struct vnet_call_error *err);

/* Like vnet_client_call, for methods whose reply carries a file descriptor (OpenTap): *fd is
 * the descriptor received with the reply (SCM_RIGHTS), or -1 if none came. */
int vnet_client_call_fd(struct vnet_client *c, const char *method, json_t *params,
                        json_t **reply, int *fd, struct vnet_call_error *err);

/* --- guest ports: attach a VM's NIC in one call ------------------------------------------ */

struct vnet_port_request {
        const char *network; /* required */
        const char *ifname;  /* NULL: allocated (vnetN); an existing interface is adopted */
        const char *mac;     /* NULL: allocated, 52:54:00:xx:xx:xx */
        const char *owner;   /* user name or uid; NULL and no group: the caller */
        const char *group;   /* group name or gid */
        unsigned queues;     /* 0 or 1: single queue */
};

struct vnet_port_info {
        char network[33];
        char ifname[16];
        char mac[18]; /* the guest MAC, for the VMM's NIC */
        long owner;   /* -1 if none */
        long group;   /* -1 if none */
        unsigned queues;
        int adopted;
        char state[16]; /* up, down, stopped */
};

int vnet_port_attach(struct vnet_client *c, const struct vnet_port_request *req,
                     struct vnet_port_info *out, struct vnet_call_error *err);
int vnet_port_detach(struct vnet_client *c, const char *network, const char *ifname,
                     struct vnet_call_error *err);
/* The bridge helper's call: a TAP fd for the caller on @bridge (network or bridge name). */
int vnet_tap_open(struct vnet_client *c, const char *bridge, int vnet_hdr, int *fd,
                  struct vnet_port_info *out, struct vnet_call_error *err);

#ifdef __cplusplus
}
#endif
