/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket: accepts varlink clients, frames their messages, identifies them with
 * SO_PEERCRED, and drops the ones that misbehave (malformed JSON, oversized messages, stalls)
 * without affecting anyone else. What a method does is the handler's business. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "loop.h"

struct server;

struct server_peer {
        pid_t pid;
        uid_t uid;
        gid_t gid;
        bool privileged; /* root, or a member of the admin group */
};

/* Handles one call. Returns the whole reply message ({"parameters":…} or {"error":…}), a new
 * reference; NULL when no reply is due (a "oneway" call). */
typedef json_t *(*server_handler_fn)(void *userdata, const struct server_peer *peer,
                                     const char *method, json_t *parameters);

struct server_config {
        const char *path;       /* socket path; its directory must exist */
        const char *admin_group; /* group whose members may change state; NULL or "" for none;
                                  * ignored if the group does not exist */
        unsigned stall_timeout_ms; /* a client holding a partial message this long is dropped */
        unsigned max_clients;
        /* A socket for everyone (mode 0666) on which no caller is privileged, not even root:
         * reading, and what the networks' allow lists permit (the bridge helper). */
        bool unprivileged;
};

/* Called by a handler: @fd (ownership passes to the server) is sent with the reply to this
 * call as SCM_RIGHTS, then closed. */
void server_reply_fd(const struct server_peer *peer, int fd);

/* Whether the peer's primary or a supplementary group is @gid (SO_PEERGROUPS). */
bool server_peer_in_group(const struct server_peer *peer, gid_t gid);

/* Binds and listens (mode 0660, group admin_group when it exists), replacing a stale socket. */
int server_new(struct loop *l, const struct server_config *cfg, server_handler_fn fn,
               void *userdata, struct server **ret);
/* Closes every connection and the listening socket, and unlinks the socket. */
void server_free(struct server *s);
