/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The varlink wire format: JSON objects, each terminated by a NUL byte. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Bound on one message, in both directions. A peer that exceeds it is dropped. */
#define VARLINK_MSG_MAX (1024 * 1024)

struct varlink_buf {
        char *data;
        size_t len; /* bytes held, from data + off */
        size_t cap;
        size_t off;  /* consumed bytes at the front, reclaimed on the next append */
        size_t tail; /* held bytes after the last NUL: the pending partial message */
};

void varlink_buf_free(struct varlink_buf *b);

/* Appends received bytes. -EMSGSIZE (and nothing is appended) when a message completed by
 * @data, or the unterminated tail, would exceed VARLINK_MSG_MAX bytes (the NUL not counted). */
int varlink_buf_append(struct varlink_buf *b, const void *data, size_t len);

/* Takes the next complete message off the front: 1 and *msg (a JSON object, new reference);
 * 0 when no complete message is held; -EBADMSG when the next message is not a JSON object
 * (it is consumed). */
int varlink_buf_next(struct varlink_buf *b, json_t **msg);

/* Whether a partial message is pending (bytes held that are not yet a whole message). */
bool varlink_buf_partial(const struct varlink_buf *b);

/* Serialises @msg (an object) with its terminating NUL into a malloc'ed buffer; *len counts the
 * NUL. -EMSGSIZE when it would exceed VARLINK_MSG_MAX. */
int varlink_encode(const json_t *msg, char **out, size_t *len);

/* Message constructors (new references; @params is stolen, NULL means {}). */
json_t *varlink_call_new(const char *method, json_t *params, bool more);
json_t *varlink_reply_new(json_t *params);
json_t *varlink_error_new(const char *error, json_t *params);
