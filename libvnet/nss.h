/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Users and groups through NSS (getpwnam_r and friends) with a buffer that grows until the
 * entry fits: a group with thousands of members (a large /etc/group, LDAP) needs far more
 * than any fixed size, and a lookup that runs out of room must not read as "no such group". */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* 1 and *id set when found; 0 when there is no such entry (or no database answers, which
 * NSS does not tell apart); -ENOMEM, or -ERANGE for an entry past 64 MiB. */
int vnet_user_by_name(const char *name, uid_t *uid);
int vnet_group_by_name(const char *name, gid_t *gid);

/* The name of @uid or @gid into @buf (cut to @size); same returns as above. */
int vnet_user_name(uid_t uid, char *buf, size_t size);
int vnet_group_name(gid_t gid, char *buf, size_t size);
