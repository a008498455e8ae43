/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nftables for vnet: one table, `inet vnet`, built with libnftnl and sent over libmnl.
 *
 * A fixed skeleton of base chains dispatches to per-network regular chains through verdict
 * maps keyed by interface name, so a network costs a few elements and chains, and every change
 * is one netlink batch (one transaction). See DESIGN.md "Data plane, by mode". */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define VNET_NFT_TABLE "vnet"

/* What the data plane needs to know of a network. */
struct vnet_nft_net {
        const char *name;   /* network name, used in chain names */
        const char *bridge; /* interface name keyed in the verdict maps */
        enum vnet_mode mode;
        struct vnet_ipv4 ipv4; /* prefix 0: no address (only isolated/open allow that) */
        /* Leave DHCP replies' UDP checksums alone (no dhcp_csum element). Zeroing suits guests
         * that get complete frames; it breaks those behind a TAP without offloads, whose
         * kernel completes a partial checksum from the zeroed field. */
        bool keep_dhcp_checksum;
};

struct vnet_nft;       /* a netlink socket to nf_tables */
struct vnet_nft_batch; /* one transaction being built */

int vnet_nft_open(struct vnet_nft **ret);
void vnet_nft_close(struct vnet_nft *nft);

int vnet_nft_batch_new(struct vnet_nft_batch **ret);
void vnet_nft_batch_free(struct vnet_nft_batch *b);

/* Makes the batch start from an empty table whatever exists now: adds the table (so the
 * delete cannot fail), deletes it, then adds the skeleton. Still one transaction, so there is
 * no moment without rules. Used at start-up and for repair. */
int vnet_nft_batch_rebuild(struct vnet_nft_batch *b);

/* The network's chains and map elements, and its bridge in the set `dhcp_csum` (DHCP
 * replies to guests leave with a zero UDP checksum) if it has an IPv4 address. Nothing for
 * mode open. */
int vnet_nft_batch_add_network(struct vnet_nft_batch *b, const struct vnet_nft_net *n);
/* Removes what add_network added (elements, then flushes and deletes the chains); @n must be
 * what was added (mode and whether it has an address). */
int vnet_nft_batch_del_network(struct vnet_nft_batch *b, const struct vnet_nft_net *n);

/* Number of messages in the batch (not counting begin/end); 0 means nothing to send. */
size_t vnet_nft_batch_size(const struct vnet_nft_batch *b);

/* Sends the batch as one transaction and waits for every ack. 0 or -errno (the first
 * error the kernel reported; the transaction is then rolled back whole). */
int vnet_nft_commit(struct vnet_nft *nft, struct vnet_nft_batch *b);

/* Whether table inet vnet is exactly what rebuild + add_network of @nets (the running
 * networks) makes: 1 if so, 0 if it differs or is missing, -errno if it cannot be read. */
int vnet_nft_verify(struct vnet_nft *nft, const struct vnet_nft_net *nets, size_t n);

/* The comparison verify makes, on message streams (for unit tests): @want a batch as the
 * builders make it, @have messages as a dump returns them (or another batch); only the
 * table `vnet`'s new-object messages count, and a DELTABLE of it starts over. 1 if both make
 * the same table (the same chains, sets, elements, and rules in the same order in each
 * chain), 0 if not, -EPROTO for a message outside what is compared. */
int vnet_nft_compare(const void *want, size_t want_len, const void *have, size_t have_len);

/* 1 if table inet vnet exists, 0 if not, or -errno. */
int vnet_nft_table_exists(struct vnet_nft *nft);

/* The raw batch bytes (for unit tests that parse the messages back). */
const void *vnet_nft_batch_data(const struct vnet_nft_batch *b, size_t *len);
