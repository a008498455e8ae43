/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The manager keeps the desired state (network definitions, which networks run), writes it to
 * disk before acting, and converges the kernel to it. Start-up is load + reconcile. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

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
        _MGR_ERR_MAX,
};

struct mgr_error {
        enum mgr_error_kind kind;
        int errnum; /* positive errno for MGR_ERR_SYSTEM */
        struct vnet_err err;
};

struct manager_config {
        const char *config_dir; /* definitions in CONFIG_DIR/networks */
        const char *state_dir;
        const char *run_dir; /* runtime records in RUN_DIR/networks, transient definitions */
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
