/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vlclient: a varlink client for tests, well-behaved or not. It holds several connections
 * to one socket at once and runs the steps given on its command line in order, so a test can
 * have one client misbehave while another keeps calling, with the timing under its control.
 *
 *   vlclient [-t MS] SOCKET STEP...
 *
 *   connect N              open connection N (0..15)
 *   send N TEXT            send TEXT; the escapes \0 \n \t \\ \xHH are decoded
 *   sendfile N PATH        send the bytes of a file
 *   sendbig N BYTES [nul]  send a call BYTES long (a string of padding in its parameters);
 *                          with "nul" terminated as a message, else left unterminated. The
 *                          server may close the connection while it is being sent.
 *   call N METHOD [JSON]   send a call (parameters JSON, default {}) and print the reply on
 *                          one line; fails if no reply comes within -t MS (default 2000)
 *   recv N                 print the next message received on N (within -t MS)
 *   eof N MS               wait until the server closes N, at most MS; prints
 *                          "closed N after X ms" (X counted from the last send on N)
 *   open N MS              fail if the server closes N within MS
 *   close N                close N
 *   sleep MS
 *
 * Exit status 0 when every step did what it says, else 1 with one line on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "varlink.h"

#define NCONN 16

struct conn {
        int fd;
        char *buf;
        size_t len, cap;
        long long last_send;
        bool closed; /* the server closed it (seen by a read) */
};

static struct conn conns[NCONN];
static const char *sock_path;
static int timeout_ms = 2000;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "vlclient: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(1);
}

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct conn *conn_arg(const char *s, bool want_open)
{
        char *end;
        long n = strtol(s, &end, 10);

        if (*s == '\0' || *end || n < 0 || n >= NCONN)
                die("bad connection number '%s'", s);
        if (want_open && conns[n].fd < 0)
                die("connection %ld is not open", n);
        return &conns[n];
}

static long num_arg(const char *s)
{
        char *end;
        long n = strtol(s, &end, 10);

        if (*s == '\0' || *end || n < 0)
                die("bad number '%s'", s);
        return n;
}

static void do_connect(struct conn *c)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (c->fd >= 0)
                die("connection already open");
        if (strlen(sock_path) >= sizeof(sa.sun_path))
                die("socket path too long");
        strcpy(sa.sun_path, sock_path);
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                die("connect %s: %s", sock_path, strerror(errno));
        c->len = 0;
        c->closed = false;
        c->last_send = now_ms();
}

/* Sends all of @data; returns the bytes sent before the peer closed (== len if all). */
static size_t send_all(struct conn *c, const char *data, size_t len, bool peer_may_close)
{
        size_t off = 0;

        while (off < len) {
                ssize_t n = send(c->fd, data + off, len - off, MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (peer_may_close && (errno == EPIPE || errno == ECONNRESET))
                                break;
                        die("send: %s", strerror(errno));
                }
                off += (size_t)n;
        }
        c->last_send = now_ms();
        return off;
}

static size_t unescape(const char *s, char *out)
{
        size_t o = 0;

        for (; *s; s++) {
                if (*s != '\\') {
                        out[o++] = *s;
                        continue;
                }
                switch (*++s) {
                case '0':
                        out[o++] = '\0';
                        break;
                case 'n':
                        out[o++] = '\n';
                        break;
                case 't':
                        out[o++] = '\t';
                        break;
                case '\\':
                        out[o++] = '\\';
                        break;
                case 'x': {
                        char hex[3] = { s[1], s[1] ? s[2] : 0, 0 };
                        char *end;
                        long v = strtol(hex, &end, 16);
                        if (!hex[0] || !hex[1] || *end)
                                die("bad \\x escape");
                        out[o++] = (char)v;
                        s += 2;
                        break;
                }
                default:
                        die("bad escape '\\%c'", *s ? *s : '?');
                }
        }
        return o;
}

/* Reads what is there (waiting at most @ms): 1 data read, 0 timeout, -1 closed by peer. */
static int read_some(struct conn *c, int ms)
{
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        char tmp[65536];
        ssize_t n;
        int r;

        if (c->closed)
                return -1;
        r = poll(&p, 1, ms);
        if (r < 0)
                die("poll: %s", strerror(errno));
        if (r == 0)
                return 0;
        n = recv(c->fd, tmp, sizeof(tmp), 0);
        if (n < 0 && errno == ECONNRESET)
                n = 0;
        if (n < 0)
                die("recv: %s", strerror(errno));
        if (n == 0) {
                c->closed = true;
                return -1;
        }
        if (c->len + (size_t)n > c->cap) {
                c->cap = (c->len + (size_t)n) * 2;
                c->buf = realloc(c->buf, c->cap);
                if (!c->buf)
                        die("out of memory");
        }
        memcpy(c->buf + c->len, tmp, (size_t)n);
        c->len += (size_t)n;
        return 1;
}

/* Prints the next whole message as one line. */
static void recv_message(struct conn *c)
{
        long long deadline = now_ms() + timeout_ms;

        for (;;) {
                char *nul = c->len ? memchr(c->buf, '\0', c->len) : NULL;
                long long left;
                int r;

                if (nul) {
                        size_t mlen = (size_t)(nul - c->buf);
                        fwrite(c->buf, 1, mlen, stdout);
                        fputc('\n', stdout);
                        fflush(stdout);
                        memmove(c->buf, nul + 1, c->len - mlen - 1);
                        c->len -= mlen + 1;
                        return;
                }
                left = deadline - now_ms();
                if (left <= 0)
                        die("no reply within %d ms", timeout_ms);
                r = read_some(c, (int)left);
                if (r < 0)
                        die("the server closed the connection instead of replying");
        }
}

static void do_call(struct conn *c, const char *method, const char *params)
{
        json_error_t jerr;
        json_t *p = NULL, *msg;
        char *data;
        size_t len;

        if (params) {
                p = json_loads(params, JSON_DECODE_ANY, &jerr);
                if (!p)
                        die("bad JSON parameters: %s", jerr.text);
        }
        msg = varlink_call_new(method, p, false);
        if (!msg || varlink_encode(msg, &data, &len) < 0)
                die("cannot encode the call");
        json_decref(msg);
        send_all(c, data, len, false);
        free(data);
        recv_message(c);
}

static void do_sendbig(struct conn *c, size_t size, bool nul)
{
        static const char head[] = "{\"method\":\"io.vnet.ListNetworks\",\"parameters\":{\"pad\":\"";
        static const char tail[] = "\"}}";
        size_t hl = sizeof(head) - 1, tl = sizeof(tail) - 1, total, sent;
        char *data;

        if (size < hl + tl)
                size = hl + tl;
        total = size + (nul ? 1 : 0);
        data = malloc(total);
        if (!data)
                die("out of memory");
        memcpy(data, head, hl);
        memset(data + hl, 'a', size - hl - tl);
        memcpy(data + size - tl, tail, tl);
        if (nul)
                data[size] = '\0';
        sent = send_all(c, data, total, true);
        if (sent < total)
                fprintf(stderr, "vlclient: sendbig: the server closed after %zu of %zu bytes\n",
                        sent, total);
        free(data);
}

static void do_eof(struct conn *c, long ms, bool want_eof, int idx)
{
        long long deadline = now_ms() + ms;

        for (;;) {
                long long left = deadline - now_ms();
                int r;

                if (left <= 0) {
                        if (want_eof)
                                die("connection %d still open after %ld ms", idx, ms);
                        return;
                }
                r = read_some(c, (int)left);
                if (r < 0) {
                        if (!want_eof)
                                die("connection %d closed by the server after %lld ms", idx,
                                    now_ms() - c->last_send);
                        printf("closed %d after %lld ms\n", idx, now_ms() - c->last_send);
                        fflush(stdout);
                        return;
                }
                /* Data (replies owed before the offence) is not a close: keep waiting. */
        }
}

int main(int argc, char **argv)
{
        int i = 1;

        for (int k = 0; k < NCONN; k++)
                conns[k].fd = -1;
        if (argc > 2 && strcmp(argv[1], "-t") == 0) {
                timeout_ms = (int)num_arg(argv[2]);
                i = 3;
        }
        if (i >= argc)
                die("usage: vlclient [-t MS] SOCKET STEP...");
        sock_path = argv[i++];

#define NEED(n)                                                                                  \
        do {                                                                                     \
                if (i + (n) > argc)                                                              \
                        die("%s: missing arguments", step);                                      \
        } while (0)

        while (i < argc) {
                const char *step = argv[i++];

                if (strcmp(step, "connect") == 0) {
                        NEED(1);
                        do_connect(conn_arg(argv[i++], false));
                } else if (strcmp(step, "send") == 0) {
                        struct conn *c;
                        char *buf;
                        size_t len;
                        NEED(2);
                        c = conn_arg(argv[i++], true);
                        buf = malloc(strlen(argv[i]) + 1);
                        if (!buf)
                                die("out of memory");
                        len = unescape(argv[i++], buf);
                        send_all(c, buf, len, false);
                        free(buf);
                } else if (strcmp(step, "sendfile") == 0) {
                        struct conn *c;
                        char buf[65536];
                        ssize_t n;
                        int fd;
                        NEED(2);
                        c = conn_arg(argv[i++], true);
                        fd = open(argv[i], O_RDONLY | O_CLOEXEC);
                        if (fd < 0)
                                die("%s: %s", argv[i], strerror(errno));
                        i++;
                        while ((n = read(fd, buf, sizeof(buf))) > 0)
                                send_all(c, buf, (size_t)n, true);
                        close(fd);
                } else if (strcmp(step, "sendbig") == 0) {
                        struct conn *c;
                        size_t size;
                        bool nul = false;
                        NEED(2);
                        c = conn_arg(argv[i++], true);
                        size = (size_t)num_arg(argv[i++]);
                        if (i < argc && strcmp(argv[i], "nul") == 0) {
                                nul = true;
                                i++;
                        }
                        do_sendbig(c, size, nul);
                } else if (strcmp(step, "call") == 0) {
                        struct conn *c;
                        const char *method, *params = NULL;
                        NEED(2);
                        c = conn_arg(argv[i++], true);
                        method = argv[i++];
                        if (i < argc && (argv[i][0] == '{' || argv[i][0] == '[' ||
                                         strcmp(argv[i], "null") == 0))
                                params = argv[i++];
                        do_call(c, method, params);
                } else if (strcmp(step, "recv") == 0) {
                        NEED(1);
                        recv_message(conn_arg(argv[i++], true));
                } else if (strcmp(step, "eof") == 0 || strcmp(step, "open") == 0) {
                        struct conn *c;
                        int idx;
                        NEED(2);
                        idx = (int)num_arg(argv[i]);
                        c = conn_arg(argv[i++], true);
                        do_eof(c, num_arg(argv[i++]), step[0] == 'e', idx);
                } else if (strcmp(step, "close") == 0) {
                        struct conn *c;
                        NEED(1);
                        c = conn_arg(argv[i++], true);
                        close(c->fd);
                        c->fd = -1;
                        c->len = 0;
                } else if (strcmp(step, "sleep") == 0) {
                        long ms;
                        NEED(1);
                        ms = num_arg(argv[i++]);
                        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
                        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                                ;
                } else {
                        die("unknown step '%s'", step);
                }
        }
        for (int k = 0; k < NCONN; k++) {
                if (conns[k].fd >= 0)
                        close(conns[k].fd);
                free(conns[k].buf);
        }
        return 0;
}
