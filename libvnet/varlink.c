/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The varlink wire format: JSON objects, each terminated by a NUL byte. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "varlink.h"

void varlink_buf_free(struct varlink_buf *b)
{
        free(b->data);
        *b = (struct varlink_buf){0};
}

/* Checks every message @data completes, and the tail it leaves, against the bound, without
 * changing @b; returns the new tail length in *tail. */
static int varlink_buf_check(const struct varlink_buf *b, const char *data, size_t len,
                             size_t *tail)
{
        size_t pending = b->tail; /* bytes of the message being received so far */
        const char *p = data, *end = data + len;
        const char *nul;

        while ((nul = memchr(p, 0, end - p))) {
                if (pending + (size_t)(nul - p) > VARLINK_MSG_MAX)
                        return -EMSGSIZE;
                pending = 0;
                p = nul + 1;
        }
        if (pending + (size_t)(end - p) > VARLINK_MSG_MAX)
                return -EMSGSIZE;
        *tail = pending + (end - p);
        return 0;
}

int varlink_buf_append(struct varlink_buf *b, const void *data, size_t len)
{
        size_t tail;
        int r;

        r = varlink_buf_check(b, data, len, &tail);
        if (r < 0)
                return r;
        if (len == 0)
                return 0;
        /* Reclaiming the consumed front here, once per append, keeps taking messages off the
         * front O(1) each instead of moving the rest of the buffer every time. */
        if (b->off > 0) {
                memmove(b->data, b->data + b->off, b->len);
                b->off = 0;
        }
        if (b->len + len > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                char *n;

                while (cap < b->len + len)
                        cap *= 2;
                n = realloc(b->data, cap);
                if (!n)
                        return -ENOMEM;
                b->data = n;
                b->cap = cap;
        }
        memcpy(b->data + b->len, data, len);
        b->len += len;
        b->tail = tail;
        return 0;
}

int varlink_buf_next(struct varlink_buf *b, json_t **msg)
{
        const char *start, *nul;
        json_t *v;
        size_t n;

        *msg = NULL;
        if (b->len == b->tail)
                return 0;
        start = b->data + b->off;
        /* Found for certain: the held bytes before the tail end with a NUL. */
        nul = memchr(start, 0, b->len - b->tail);
        n = nul - start;
        v = json_loadb(start, n, JSON_REJECT_DUPLICATES, NULL);
        b->off += n + 1;
        b->len -= n + 1;
        if (b->len == 0)
                b->off = 0;
        if (!v || !json_is_object(v)) {
                json_decref(v);
                return -EBADMSG;
        }
        *msg = v;
        return 1;
}

bool varlink_buf_partial(const struct varlink_buf *b)
{
        return b->tail > 0;
}

int varlink_encode(const json_t *msg, char **out, size_t *len)
{
        char *s;
        size_t n;

        *out = NULL;
        *len = 0;
        if (!json_is_object(msg))
                return -EINVAL;
        /* jansson escapes NUL inside strings, so the only raw NUL is the terminator. */
        s = json_dumps(msg, JSON_COMPACT);
        if (!s)
                return -ENOMEM;
        n = strlen(s);
        if (n > VARLINK_MSG_MAX) {
                free(s);
                return -EMSGSIZE;
        }
        *out = s;
        *len = n + 1;
        return 0;
}

/* Builds {key: value, "parameters": params}; steals @params. */
static json_t *varlink_msg_new(const char *key, const char *value, json_t *params)
{
        json_t *m = NULL;

        if (!params)
                params = json_object();
        if (!value || !json_is_object(params))
                goto fail;
        m = json_object();
        if (!m)
                goto fail;
        if (key && json_object_set_new(m, key, json_string(value)) < 0)
                goto fail;
        if (json_object_set_new(m, "parameters", params) < 0) {
                params = NULL; /* set_new releases it on failure */
                goto fail;
        }
        return m;
fail:
        json_decref(params);
        json_decref(m);
        return NULL;
}

json_t *varlink_call_new(const char *method, json_t *params, bool more)
{
        json_t *m = varlink_msg_new("method", method, params);

        if (m && more && json_object_set_new(m, "more", json_true()) < 0) {
                json_decref(m);
                return NULL;
        }
        return m;
}

json_t *varlink_reply_new(json_t *params)
{
        return varlink_msg_new(NULL, "", params);
}

json_t *varlink_error_new(const char *error, json_t *params)
{
        return varlink_msg_new("error", error, params);
}
