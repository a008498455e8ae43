/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The port registry: every guest port reservation on the host, kept in a journal,
 * STATE_DIR/ports.journal (written before the kernel is touched), and the guest MACs they
 * hold. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct port {
        struct vnet_port p;
        int ifindex;  /* its interface while attached, else 0 */
        bool carrier; /* a VMM holds the TAP */
};

struct ports;

int ports_new(const char *state_dir, struct ports **ret);
void ports_free(struct ports *ps);

/* Replays the journal (and the file-per-port directory of older vnetd, which it then
 * removes) and compacts it; invalid records are logged and skipped. */
int ports_load(struct ports *ps);

size_t ports_count(const struct ports *ps);
struct port *ports_at(struct ports *ps, size_t i);
struct port *ports_find(struct ports *ps, const char *ifname);
struct port *ports_find_index(struct ports *ps, int ifindex);

/* The port that holds guest MAC @mac, or NULL. */
struct port *ports_find_mac(struct ports *ps, const uint8_t mac[6]);

/* The guest MAC for NETWORK/IFNAME: derived from a per-host secret and the names, so the same
 * reservation gets the same MAC back after a detach, without a file that only grows; the
 * next candidate is taken while another port holds one. */
void ports_mac_for(struct ports *ps, const char *network, const char *ifname, uint8_t mac[6]);

/* Records a new reservation (journal first) and returns it. */
int ports_add(struct ports *ps, const struct vnet_port *p, struct port **ret);
/* Forgets the reservation (in the journal too); @pt is freed. */
int ports_remove(struct ports *ps, struct port *pt);
