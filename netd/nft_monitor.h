/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nftables events (NFNLGRP_NFTABLES) fed to the manager: when someone else changes table
 * inet vnet (or flushes the whole ruleset), the manager checks it and rebuilds it if it is
 * no longer what vnetd made. vnetd's own transactions are ignored. */
#pragma once

#include "loop.h"
#include "manager.h"

struct nft_monitor;

int nft_monitor_new(struct loop *l, struct manager *m, struct nft_monitor **ret);
void nft_monitor_free(struct nft_monitor *mon);
