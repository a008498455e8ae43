/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control server and the client library, end to end over a real unix socket in a temporary
 * directory: the server's loop runs in a thread, the test talks to it as clients do. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <vnet/vnet.h>

#include "../../netd/loop.h"
#include "../../netd/server.h"
#include "varlink.h"

#define STALL_MS 300

struct harness {
        char dir[64];
        char path[128];
        struct loop *loop;
        struct server *srv;
        int quit_fd;
        pthread_t thread;
        int rc;
        unsigned notes; /* "test.Note" calls seen; touched only by the server thread */
};

static int64_t ms_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

        nanosleep(&ts, NULL);
}

static json_t *handler(void *userdata, const struct server_peer *peer, const char *method,
                       json_t *params)
{
        struct harness *h = userdata;

        if (strcmp(method, "test.Echo") == 0)
                return varlink_reply_new(json_incref(params));
        if (strcmp(method, "test.NotFound") == 0)
                return varlink_error_new("io.vnet.NetworkNotFound",
                                         json_pack("{s:s}", "name", "x"));
        if (strcmp(method, "test.Invalid") == 0)
                return varlink_error_new("io.vnet.InvalidParameter",
                                         json_pack("{s:s,s:s}", "parameter", "ipv4", "message",
                                                   "prefix length 33 is out of range"));
        if (strcmp(method, "test.Weird") == 0)
                return varlink_error_new("com.example.Weird",
                                         json_pack("{s:[i],s:i}", "b", 1, "a", 1));
        if (strcmp(method, "test.Peer") == 0)
                return varlink_reply_new(json_pack("{s:b,s:I,s:I,s:I}", "privileged",
                                                   peer->privileged, "uid",
                                                   (json_int_t)peer->uid, "gid",
                                                   (json_int_t)peer->gid, "pid",
                                                   (json_int_t)peer->pid));
        if (strcmp(method, "test.Note") == 0) {
                h->notes++;
                return varlink_reply_new(NULL); /* dropped by the server for oneway calls */
        }
        if (strcmp(method, "test.Count") == 0)
                return varlink_reply_new(json_pack("{s:i}", "notes", h->notes));
        if (strcmp(method, "test.Big") == 0) {
                size_t n = json_integer_value(json_object_get(params, "size"));
                char *s = malloc(n + 1);
                json_t *r;

                memset(s, 'y', n);
                s[n] = '\0';
                r = varlink_reply_new(json_pack("{s:s}", "s", s));
                free(s);
                return r;
        }
        if (strcmp(method, "test.Sleep") == 0) {
                sleep_ms(json_integer_value(json_object_get(params, "ms")));
                return varlink_reply_new(NULL);
        }
        if (strcmp(method, "test.Len") == 0)
                return varlink_reply_new(json_pack(
                        "{s:I}", "len",
                        (json_int_t)json_string_length(json_object_get(params, "s"))));
        return varlink_error_new("org.varlink.service.MethodNotFound",
                                 json_pack("{s:s}", "method", method));
}

static void on_quit(struct loop *l, int fd, uint32_t events, void *userdata)
{
        uint64_t v;

        (void)events;
        (void)userdata;
        if (read(fd, &v, sizeof(v)) == sizeof(v))
                loop_quit(l, 7);
}

static void *run(void *p)
{
        struct harness *h = p;

        h->rc = loop_run(h->loop);
        return NULL;
}

static void harness_start(struct harness *h, unsigned max_clients, const char *group)
{
        struct server_config cfg = {
                .admin_group = group,
                .stall_timeout_ms = STALL_MS,
                .max_clients = max_clients,
        };

        memset(h, 0, sizeof(*h));
        strcpy(h->dir, "/tmp/vnet-test-server.XXXXXX");
        assert_non_null(mkdtemp(h->dir));
        snprintf(h->path, sizeof(h->path), "%s/vnetd.sock", h->dir);
        cfg.path = h->path;
        assert_int_equal(loop_new(&h->loop), 0);
        assert_int_equal(server_new(h->loop, &cfg, handler, h, &h->srv), 0);
        h->quit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        assert_true(h->quit_fd >= 0);
        assert_int_equal(loop_add(h->loop, h->quit_fd, EPOLLIN, on_quit, NULL), 0);
        assert_int_equal(pthread_create(&h->thread, NULL, run, h), 0);
}

static void harness_stop(struct harness *h)
{
        uint64_t one = 1;
        struct stat st;

        assert_int_equal(write(h->quit_fd, &one, sizeof(one)), sizeof(one));
        assert_int_equal(pthread_join(h->thread, NULL), 0);
        assert_int_equal(h->rc, 7);
        server_free(h->srv);
        /* The server removes its socket. */
        assert_int_equal(lstat(h->path, &st), -1);
        loop_del(h->loop, h->quit_fd);
        close(h->quit_fd);
        loop_free(h->loop);
        assert_int_equal(rmdir(h->dir), 0);
}

static int raw_connect(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        strcpy(sa.sun_path, path);
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        return fd;
}

static int raw_send(int fd, const void *data, size_t len)
{
        const char *p = data;

        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= n;
        }
        return 0;
}

static void raw_send_str(int fd, const char *s)
{
        assert_int_equal(raw_send(fd, s, strlen(s) + 1), 0); /* with the NUL */
}

/* Receives one message within @timeout_ms: 1, 0 on EOF, -ETIMEDOUT. */
static int raw_recv(int fd, struct varlink_buf *b, json_t **msg, int timeout_ms)
{
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                char chunk[65536];
                ssize_t n;
                int r;

                r = varlink_buf_next(b, msg);
                assert_true(r >= 0);
                if (r > 0)
                        return 1;
                if (poll(&p, 1, timeout_ms) == 0)
                        return -ETIMEDOUT;
                n = recv(fd, chunk, sizeof(chunk), 0);
                if (n < 0 && errno == ECONNRESET)
                        return 0;
                assert_true(n >= 0);
                if (n == 0)
                        return 0;
                assert_int_equal(varlink_buf_append(b, chunk, n), 0);
        }
}

/* Whether the server closes @fd within @timeout_ms; whatever it sent first is discarded. */
static bool closed_within(int fd, int timeout_ms)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };
        char chunk[65536];

        while (poll(&p, 1, timeout_ms) > 0) {
                ssize_t n = recv(fd, chunk, sizeof(chunk), 0);

                if (n == 0 || (n < 0 && errno == ECONNRESET))
                        return true;
                assert_true(n > 0);
        }
        return false;
}

/* One echo round trip through the client library on @c. */
static void assert_echo(struct vnet_client *c, int n)
{
        struct vnet_call_error err = {0};
        json_t *reply = NULL;

        assert_int_equal(vnet_client_call(c, "test.Echo", json_pack("{s:i}", "n", n), &reply,
                                          &err),
                         0);
        assert_int_equal(json_integer_value(json_object_get(reply, "n")), n);
        json_decref(reply);
        vnet_call_error_clear(&err);
}

static void test_call_reply(void **state)
{
        struct vnet_call_error err = {0};
        struct vnet_client *c;
        struct harness h;
        json_t *reply;

        (void)state;
        harness_start(&h, 0, NULL);
        assert_int_equal(vnet_client_connect(h.path, &c), 0);
        reply = NULL;
        assert_int_equal(vnet_client_call(c, "test.Echo",
                                          json_pack("{s:s,s:[i,i]}", "name", "default", "l", 1,
                                                    2),
                                          &reply, &err),
                         0);
        assert_string_equal(json_string_value(json_object_get(reply, "name")), "default");
        assert_int_equal(json_array_size(json_object_get(reply, "l")), 2);
        json_decref(reply);

        /* NULL parameters are {} on the wire; the reply's parameters are never NULL. */
        assert_int_equal(vnet_client_call(c, "test.Echo", NULL, &reply, &err), 0);
        assert_true(json_is_object(reply));
        assert_int_equal(json_object_size(reply), 0);
        json_decref(reply);

        for (int i = 0; i < 100; i++)
                assert_echo(c, i);
        vnet_client_free(c);
        vnet_call_error_clear(&err);
        harness_stop(&h);
}

static void expect_error(struct vnet_client *c, const char *method, const char *name,
                         const char *message)
{
        struct vnet_call_error err = {0};
        json_t *reply = (json_t *)1;

        assert_int_equal(vnet_client_call(c, method, NULL, &reply, &err), -EREMOTEIO);
        assert_null(reply);
        assert_string_equal(err.name, name);
        assert_string_equal(err.message, message);
        assert_true(json_is_object(err.parameters));
        vnet_call_error_clear(&err);
}

static void test_error_reply(void **state)
{
        struct vnet_call_error err = {0};
        struct vnet_client *c;
        struct harness h;
        json_t *reply;

        (void)state;
        harness_start(&h, 0, NULL);
        assert_int_equal(vnet_client_connect(h.path, &c), 0);
        expect_error(c, "test.NotFound", "io.vnet.NetworkNotFound", "network 'x' not found");
        expect_error(c, "test.Invalid", "io.vnet.InvalidParameter",
                     "invalid ipv4: prefix length 33 is out of range");
        expect_error(c, "test.Weird", "com.example.Weird", "com.example.Weird {\"a\":1,\"b\":[1]}");
        expect_error(c, "test.Nope", "org.varlink.service.MethodNotFound",
                     "vnetd does not know the method 'test.Nope'");

        /* One error struct reused over calls: each call clears it first (ASan sees leaks). */
        assert_int_equal(vnet_client_call(c, "test.NotFound", NULL, &reply, &err), -EREMOTEIO);
        assert_string_equal(json_string_value(json_object_get(err.parameters, "name")), "x");
        assert_int_equal(vnet_client_call(c, "test.Echo", NULL, &reply, &err), 0);
        assert_string_equal(err.name, "");
        assert_null(err.parameters);
        json_decref(reply);
        /* The connection is still good after errors. */
        assert_echo(c, 1);
        vnet_client_free(c);
        harness_stop(&h);
}

static void test_pipelined(void **state)
{
        static const char wire[] = "{\"method\":\"test.Echo\",\"parameters\":{\"i\":1}}\0"
                                   "{\"method\":\"test.Note\",\"oneway\":true}\0"
                                   "{\"method\":\"test.Echo\",\"parameters\":{\"i\":2}}\0"
                                   "{\"parameters\":{}}\0"
                                   "{\"method\":\"test.Count\"}\0";
        struct varlink_buf b = {0};
        struct harness h;
        char *many = NULL;
        size_t many_len = 0;
        json_t *m;
        int fd;

        (void)state;
        harness_start(&h, 0, NULL);
        fd = raw_connect(h.path);
        assert_int_equal(raw_send(fd, wire, sizeof(wire) - 1), 0);

        assert_int_equal(raw_recv(fd, &b, &m, 2000), 1);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "parameters"),
                                                            "i")),
                         1);
        json_decref(m);
        /* The oneway call got no reply: the next one is the second echo. */
        assert_int_equal(raw_recv(fd, &b, &m, 2000), 1);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "parameters"),
                                                            "i")),
                         2);
        json_decref(m);
        /* A call without a method is answered with an error, and the connection stays. */
        assert_int_equal(raw_recv(fd, &b, &m, 2000), 1);
        assert_string_equal(json_string_value(json_object_get(m, "error")),
                            "org.varlink.service.InvalidParameter");
        assert_string_equal(json_string_value(json_object_get(json_object_get(m, "parameters"),
                                                              "parameter")),
                            "method");
        json_decref(m);
        assert_int_equal(raw_recv(fd, &b, &m, 2000), 1);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "parameters"),
                                                            "notes")),
                         1);
        json_decref(m);
        assert_int_equal(raw_recv(fd, &b, &m, 100), -ETIMEDOUT);

        /* Far more calls in one write than the server handles per round: all answered, in
         * order. */
        for (int i = 0; i < 500; i++) {
                char call[128];
                int n = snprintf(call, sizeof(call),
                                 "{\"method\":\"test.Echo\",\"parameters\":{\"i\":%d}}", i);

                many = realloc(many, many_len + n + 1);
                memcpy(many + many_len, call, n + 1);
                many_len += n + 1;
        }
        assert_int_equal(raw_send(fd, many, many_len), 0);
        for (int i = 0; i < 500; i++) {
                assert_int_equal(raw_recv(fd, &b, &m, 2000), 1);
                assert_int_equal(
                        json_integer_value(json_object_get(json_object_get(m, "parameters"),
                                                           "i")),
                        i);
                json_decref(m);
        }
        free(many);
        close(fd);
        varlink_buf_free(&b);
        harness_stop(&h);
}

static void test_garbage_dropped(void **state)
{
        struct vnet_client *good;
        struct harness h;
        int bad;

        (void)state;
        harness_start(&h, 0, NULL);
        assert_int_equal(vnet_client_connect(h.path, &good), 0);
        assert_echo(good, 1);

        bad = raw_connect(h.path);
        raw_send_str(bad, "{\"method\": nope");
        assert_true(closed_within(bad, 2000));
        close(bad);
        assert_echo(good, 2);

        /* Valid JSON that is not an object is as bad. */
        bad = raw_connect(h.path);
        raw_send_str(bad, "[\"io.vnet.ListNetworks\"]");
        assert_true(closed_within(bad, 2000));
        close(bad);

        /* A good call pipelined before the garbage is still answered first. */
        bad = raw_connect(h.path);
        assert_int_equal(raw_send(bad, "{\"method\":\"test.Echo\"}\0}{\0", 26), 0);
        {
                struct varlink_buf b = {0};
                json_t *m;

                assert_int_equal(raw_recv(bad, &b, &m, 2000), 1);
                assert_null(json_object_get(m, "error"));
                json_decref(m);
                assert_int_equal(raw_recv(bad, &b, &m, 2000), 0);
                varlink_buf_free(&b);
        }
        close(bad);

        assert_echo(good, 3);
        vnet_client_free(good);
        harness_stop(&h);
}

static void test_oversize_dropped(void **state)
{
        struct vnet_client *good;
        struct harness h;
        char *big, *at_bound;
        size_t n;
        int bad, fd;

        (void)state;
        harness_start(&h, 0, NULL);
        assert_int_equal(vnet_client_connect(h.path, &good), 0);

        big = malloc(VARLINK_MSG_MAX + 2);
        memset(big, ' ', VARLINK_MSG_MAX + 1);
        big[0] = '{';
        bad = raw_connect(h.path);
        /* The server drops us before reading it all, so the send may fail: that is fine. */
        (void)raw_send(bad, big, VARLINK_MSG_MAX + 1);
        assert_true(closed_within(bad, 3000));
        close(bad);
        assert_echo(good, 1);

        /* A call of exactly the bound is served. */
        at_bound = malloc(VARLINK_MSG_MAX + 1);
        n = snprintf(at_bound, VARLINK_MSG_MAX, "{\"method\":\"test.Len\",\"parameters\":{\"s\":\"");
        memset(at_bound + n, 'z', VARLINK_MSG_MAX - n - 3);
        memcpy(at_bound + VARLINK_MSG_MAX - 3, "\"}}", 4);
        assert_int_equal(strlen(at_bound), VARLINK_MSG_MAX);
        fd = raw_connect(h.path);
        raw_send_str(fd, at_bound);
        {
                struct varlink_buf b = {0};
                json_t *m;

                assert_int_equal(raw_recv(fd, &b, &m, 3000), 1);
                assert_int_equal(json_integer_value(json_object_get(
                                         json_object_get(m, "parameters"), "len")),
                                 VARLINK_MSG_MAX - n - 3);
                json_decref(m);
                varlink_buf_free(&b);
        }
        close(fd);

        free(at_bound);
        free(big);
        assert_echo(good, 2);
        vnet_client_free(good);
        harness_stop(&h);
}

static void test_stalled_dropped(void **state)
{
        struct vnet_client *good, *idle;
        struct harness h;
        int64_t start;
        int stalled, slow;

        (void)state;
        harness_start(&h, 0, NULL);
        assert_int_equal(vnet_client_connect(h.path, &good), 0);
        assert_int_equal(vnet_client_connect(h.path, &idle), 0);

        stalled = raw_connect(h.path);
        start = ms_now();
        assert_int_equal(raw_send(stalled, "{\"method\":\"test.Ec", 18), 0);
        slow = raw_connect(h.path);
        assert_int_equal(raw_send(slow, "{\"method\":", 10), 0);

        /* Others are served meanwhile, and nobody is dropped before the timeout. */
        for (int i = 0; i < 10; i++)
                assert_echo(good, i);
        assert_false(closed_within(stalled, STALL_MS / 3));
        /* A message that takes a while but completes in time is fine. */
        raw_send_str(slow, "\"test.Echo\"}");
        {
                struct varlink_buf b = {0};
                json_t *m;

                assert_int_equal(raw_recv(slow, &b, &m, 2000), 1);
                json_decref(m);
                varlink_buf_free(&b);
        }

        assert_true(closed_within(stalled, 5000));
        assert_true(ms_now() - start >= STALL_MS);
        close(stalled);

        /* Trickling bytes does not reset the clock: the message as a whole must arrive. */
        stalled = raw_connect(h.path);
        start = ms_now();
        for (int i = 0; i < 2 * STALL_MS / 50 && raw_send(stalled, " ", 1) == 0; i++)
                sleep_ms(50);
        assert_true(closed_within(stalled, 5000));
        close(stalled);

        /* A connection with nothing pending is not stalled, however long it idles. */
        sleep_ms(STALL_MS * 2);
        assert_echo(idle, 1);
        assert_echo(good, 99);
        close(slow);
        vnet_client_free(idle);
        vnet_client_free(good);
        harness_stop(&h);
}

/* Sends @count calls for replies of @size bytes, as long as the server takes them. */
static void send_big_calls(int fd, int size, int count)
{
        char call[128];

        snprintf(call, sizeof(call), "{\"method\":\"test.Big\",\"parameters\":{\"size\":%d}}",
                 size);
        for (int i = 0; i < count; i++) {
                struct pollfd p = { .fd = fd, .events = POLLOUT };

                if (poll(&p, 1, 100) == 0)
                        break;
                raw_send_str(fd, call);
        }
}

static void test_nonreader_dropped(void **state)
{
        struct vnet_client *good;
        struct harness h;
        int slow, flood;

        (void)state;
        harness_start(&h, 0, NULL);
        assert_int_equal(vnet_client_connect(h.path, &good), 0);
        /* A few replies that do not fit in the socket buffer, never read: dropped after the
         * stall timeout. */
        slow = raw_connect(h.path);
        send_big_calls(slow, 100 * 1024, 4);
        /* Replies far beyond the output bound: dropped when it is crossed. */
        flood = raw_connect(h.path);
        send_big_calls(flood, 256 * 1024, 64);
        for (int i = 0; i < 10; i++)
                assert_echo(good, i);
        /* Draining now ends in EOF instead of more replies. */
        sleep_ms(STALL_MS * 3);
        assert_true(closed_within(slow, 3000));
        assert_true(closed_within(flood, 3000));
        close(slow);
        close(flood);
        assert_echo(good, 100);
        vnet_client_free(good);
        harness_stop(&h);
}

static void test_oneway_then_close(void **state)
{
        struct vnet_call_error err = {0};
        struct vnet_client *c;
        struct harness h;
        json_int_t notes = 0;
        int fd;

        (void)state;
        harness_start(&h, 0, NULL);
        fd = raw_connect(h.path);
        raw_send_str(fd, "{\"method\":\"test.Note\",\"oneway\":true}");
        close(fd);
        assert_int_equal(vnet_client_connect(h.path, &c), 0);
        for (int i = 0; i < 100 && notes == 0; i++) {
                json_t *reply;

                assert_int_equal(vnet_client_call(c, "test.Count", NULL, &reply, &err), 0);
                notes = json_integer_value(json_object_get(reply, "notes"));
                json_decref(reply);
                if (notes == 0)
                        sleep_ms(10);
        }
        assert_int_equal(notes, 1);
        vnet_client_free(c);
        harness_stop(&h);
}

static void test_max_clients(void **state)
{
        struct vnet_client *a, *b, *c = NULL;
        struct harness h;
        int refused;

        (void)state;
        harness_start(&h, 2, NULL);
        assert_int_equal(vnet_client_connect(h.path, &a), 0);
        assert_int_equal(vnet_client_connect(h.path, &b), 0);
        assert_echo(a, 1);
        assert_echo(b, 1);
        refused = raw_connect(h.path);
        assert_true(closed_within(refused, 2000));
        close(refused);
        assert_echo(a, 2);

        /* A slot that frees up can be taken again. */
        vnet_client_free(a);
        for (int i = 0; i < 100; i++) {
                struct vnet_call_error err = {0};
                json_t *reply;
                int r;

                assert_int_equal(vnet_client_connect(h.path, &c), 0);
                r = vnet_client_call(c, "test.Echo", NULL, &reply, &err);
                vnet_call_error_clear(&err);
                if (r == 0) {
                        json_decref(reply);
                        break;
                }
                vnet_client_free(c);
                c = NULL;
                sleep_ms(10);
        }
        assert_non_null(c);
        vnet_client_free(c);
        vnet_client_free(b);
        harness_stop(&h);
}

static void test_privileged_root(void **state)
{
        struct vnet_call_error err = {0};
        struct vnet_client *c;
        struct harness h;
        json_t *reply;

        (void)state;
        if (geteuid() != 0)
                skip();
        harness_start(&h, 0, NULL);
        assert_int_equal(vnet_client_connect(h.path, &c), 0);
        assert_int_equal(vnet_client_call(c, "test.Peer", NULL, &reply, &err), 0);
        assert_true(json_is_true(json_object_get(reply, "privileged")));
        assert_int_equal(json_integer_value(json_object_get(reply, "uid")), 0);
        assert_int_equal(json_integer_value(json_object_get(reply, "pid")), getpid());
        json_decref(reply);
        vnet_client_free(c);
        harness_stop(&h);
}

/* In a child (fork of a threaded process, so only system calls and no malloc): becomes
 * uid 65534 with @gid and @groups, calls test.Peer and exits 0 if the reply reports
 * @expect_privileged. */
static int peer_as(const char *path, gid_t gid, const gid_t *groups, size_t n_groups,
                   bool expect_privileged)
{
        static const char call[] = "{\"method\":\"test.Peer\"}";
        const char *want = expect_privileged ? "\"privileged\":true" : "\"privileged\":false";
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char reply[4096];
        size_t got = 0;
        int status, fd;
        pid_t pid;

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (setgroups(n_groups, groups) < 0 || setgid(gid) < 0 || setuid(65534) < 0)
                        _exit(10);
                fd = socket(AF_UNIX, SOCK_STREAM, 0);
                memcpy(sa.sun_path, path, strlen(path) + 1);
                if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                        _exit(11);
                if (write(fd, call, sizeof(call)) != sizeof(call))
                        _exit(12);
                while (got < sizeof(reply) - 1 && memchr(reply, 0, got) == NULL) {
                        ssize_t n = read(fd, reply + got, sizeof(reply) - 1 - got);

                        if (n <= 0)
                                _exit(13);
                        got += n;
                }
                reply[got] = '\0';
                _exit(strstr(reply, want) && strstr(reply, "\"uid\":65534") ? 0 : 14);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

static void test_privileged_nonroot(void **state)
{
        struct group *gr;
        struct harness h;
        struct stat st;
        gid_t admin, nogroup = 65534;

        (void)state;
        if (geteuid() != 0)
                skip();
        /* Any group other than root's and nobody's serves as the admin group. */
        gr = getgrnam("daemon");
        if (!gr)
                gr = getgrnam("adm");
        if (!gr)
                skip();
        admin = gr->gr_gid;
        harness_start(&h, 0, gr->gr_name);

        assert_int_equal(stat(h.path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0660);
        assert_int_equal(st.st_gid, admin);
        /* The permissions keep nobody out; open them up so that the credentials decide. */
        assert_int_equal(chmod(h.dir, 0755), 0);
        assert_int_equal(chmod(h.path, 0666), 0);

        assert_int_equal(peer_as(h.path, nogroup, NULL, 0, false), 0);
        assert_int_equal(peer_as(h.path, nogroup, &admin, 1, true), 0);
        assert_int_equal(peer_as(h.path, admin, NULL, 0, true), 0);
        {
                gid_t several[] = { 4, 5, admin, 100 };

                assert_int_equal(peer_as(h.path, nogroup, several, 4, true), 0);
        }
        harness_stop(&h);
}

static void test_socket_file(void **state)
{
        struct server_config cfg = { .stall_timeout_ms = STALL_MS };
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct server *second;
        struct harness h;
        char path[160];
        struct loop *l;
        int fd;

        (void)state;
        harness_start(&h, 0, NULL);
        assert_int_equal(loop_new(&l), 0);

        /* A live socket is not taken over. */
        cfg.path = h.path;
        assert_int_equal(server_new(l, &cfg, handler, NULL, &second), -EADDRINUSE);
        {
                struct vnet_client *c;

                assert_int_equal(vnet_client_connect(h.path, &c), 0);
                assert_echo(c, 1);
                vnet_client_free(c);
        }

        /* A stale one, left by a process that is gone, is replaced. */
        snprintf(path, sizeof(path), "%s/stale.sock", h.dir);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        strcpy(sa.sun_path, path);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        close(fd);
        cfg.path = path;
        assert_int_equal(server_new(l, &cfg, handler, NULL, &second), 0);
        server_free(second);
        assert_int_equal(access(path, F_OK), -1);

        /* Something that is not a socket is left alone. */
        snprintf(path, sizeof(path), "%s/file", h.dir);
        fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        close(fd);
        assert_int_equal(server_new(l, &cfg, handler, NULL, &second), -EEXIST);
        assert_int_equal(access(path, F_OK), 0);
        unlink(path);

        loop_free(l);
        harness_stop(&h);
}

static void test_client_errors(void **state)
{
        struct vnet_call_error err = {0};
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct vnet_client *c;
        char dir[] = "/tmp/vnet-test-client.XXXXXX";
        json_t *reply;
        int lfd, sfd, r;

        (void)state;
        assert_non_null(mkdtemp(dir));
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s.sock", dir);
        assert_int_equal(vnet_client_connect(sa.sun_path, &c), -ENOENT);
        assert_null(c);
        assert_int_equal(vnet_client_call(NULL, "a.B", json_array(), &reply, &err), -EINVAL);
        assert_non_null(strstr(err.message, "must be an object"));

        assert_string_equal(vnet_socket_path("/x"), "/x");
        setenv("VNET_SOCKET", "/y", 1);
        assert_string_equal(vnet_socket_path(NULL), "/y");
        setenv("VNET_SOCKET", "", 1);
        assert_string_equal(vnet_socket_path(NULL), VNET_SOCKET_DEFAULT);
        unsetenv("VNET_SOCKET");

        /* A peer that is not vnetd: a listening socket the test answers by hand. */
        lfd = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(lfd, 4), 0);

        /* A reply that is not JSON. */
        assert_int_equal(vnet_client_connect(sa.sun_path, &c), 0);
        sfd = accept(lfd, NULL, NULL);
        assert_int_equal(raw_send(sfd, "oops\0", 5), 0);
        assert_int_equal(vnet_client_call(c, "a.B", NULL, &reply, &err), -EBADMSG);
        assert_string_equal(err.message, "vnetd sent a malformed reply");
        /* The connection is unusable after that. */
        assert_int_equal(vnet_client_call(c, "a.B", NULL, &reply, &err), -ENOTCONN);
        assert_true(strlen(err.message) > 0);
        vnet_client_free(c);
        close(sfd);

        /* The peer goes away without answering. */
        assert_int_equal(vnet_client_connect(sa.sun_path, &c), 0);
        sfd = accept(lfd, NULL, NULL);
        close(sfd);
        r = vnet_client_call(c, "a.B", json_object(), &reply, &err);
        assert_true(r == -ECONNRESET || r == -EPIPE); /* the send may already fail */
        assert_string_equal(err.message, "vnetd closed the connection");
        vnet_client_free(c);

        /* A reply whose "parameters" is not an object. */
        assert_int_equal(vnet_client_connect(sa.sun_path, &c), 0);
        sfd = accept(lfd, NULL, NULL);
        raw_send_str(sfd, "{\"parameters\":[]}");
        assert_int_equal(vnet_client_call(c, "a.B", NULL, &reply, &err), -EBADMSG);
        vnet_client_free(c);
        close(sfd);

        vnet_call_error_clear(&err);
        close(lfd);
        unlink(sa.sun_path);
        rmdir(dir);
}

struct flood {
        int fd;
        size_t len;
};

static void *flood_run(void *p)
{
        struct flood *f = p;
        char *buf = malloc(f->len);

        memset(buf, ' ', f->len);
        buf[0] = '{';
        (void)raw_send(f->fd, buf, f->len);
        free(buf);
        return NULL;
}

static void test_client_reply_too_large(void **state)
{
        struct vnet_call_error err = {0};
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char dir[] = "/tmp/vnet-test-client.XXXXXX";
        struct flood f = { .len = VARLINK_MSG_MAX + 100 };
        struct vnet_client *c;
        pthread_t t;
        json_t *reply;
        int lfd;

        (void)state;
        assert_non_null(mkdtemp(dir));
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s.sock", dir);
        lfd = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(lfd, 4), 0);
        assert_int_equal(vnet_client_connect(sa.sun_path, &c), 0);
        f.fd = accept(lfd, NULL, NULL);
        assert_int_equal(pthread_create(&t, NULL, flood_run, &f), 0);
        assert_int_equal(vnet_client_call(c, "a.B", NULL, &reply, &err), -EMSGSIZE);
        assert_non_null(strstr(err.message, "exceeds"));
        vnet_client_free(c); /* unblocks the flooder */
        pthread_join(t, NULL);
        close(f.fd);
        vnet_call_error_clear(&err);
        close(lfd);
        unlink(sa.sun_path);
        rmdir(dir);
}

static void test_fairness(void **state)
{
        struct vnet_client *good;
        struct harness h;
        char *calls = NULL;
        size_t len = 0;
        int64_t start;
        int busy;

        (void)state;
        harness_start(&h, 0, NULL);
        assert_int_equal(vnet_client_connect(h.path, &good), 0);
        busy = raw_connect(h.path);
        /* 2 s of work in one write... */
        for (int i = 0; i < 200; i++) {
                static const char call[] = "{\"method\":\"test.Sleep\",\"parameters\":{\"ms\":10}}";

                calls = realloc(calls, len + sizeof(call));
                memcpy(calls + len, call, sizeof(call));
                len += sizeof(call);
        }
        assert_int_equal(raw_send(busy, calls, len), 0);
        sleep_ms(20);
        /* ...does not keep another client waiting for all of it. */
        start = ms_now();
        assert_echo(good, 1);
        assert_true(ms_now() - start < 1000);
        free(calls);
        close(busy);
        vnet_client_free(good);
        harness_stop(&h);
}

struct loop_test {
        int fds[2];
        int calls;
        int ticks;
};

static void loop_test_io(struct loop *l, int fd, uint32_t events, void *userdata)
{
        struct loop_test *t = userdata;

        (void)events;
        t->calls++;
        /* Both fds are ready in the same batch: remove both, the other one's pending event
         * included, and reuse the other's number for a new watch that must not inherit it. */
        for (int i = 0; i < 2; i++) {
                assert_int_equal(loop_del(l, t->fds[i]), 0);
                close(t->fds[i]);
        }
        assert_int_equal(loop_del(l, fd), -ENOENT);
        t->fds[0] = eventfd(0, EFD_CLOEXEC);
        t->fds[1] = eventfd(0, EFD_CLOEXEC);
        assert_int_equal(loop_add(l, t->fds[0], EPOLLIN, loop_test_io, t), 0);
        assert_int_equal(loop_add(l, t->fds[1], EPOLLIN, loop_test_io, t), 0);
        loop_quit(l, 3);
}

static void loop_test_tick(struct loop *l, void *userdata)
{
        struct loop_test *t = userdata;

        if (++t->ticks == 3) {
                assert_int_equal(loop_del_timer(l, loop_test_tick, t), 0);
                loop_quit(l, 5);
        }
}

static void test_loop(void **state)
{
        struct loop_test t = {0};
        uint64_t one = 1;
        struct loop *l;

        (void)state;
        assert_int_equal(loop_new(&l), 0);
        for (int i = 0; i < 2; i++) {
                t.fds[i] = eventfd(0, EFD_CLOEXEC);
                assert_int_equal(write(t.fds[i], &one, sizeof(one)), sizeof(one));
                assert_int_equal(loop_add(l, t.fds[i], EPOLLIN, loop_test_io, &t), 0);
        }
        assert_int_equal(loop_add(l, t.fds[0], EPOLLIN, loop_test_io, &t), -EEXIST);
        assert_int_equal(loop_run(l), 3);
        assert_int_equal(t.calls, 1);

        /* The timer fires repeatedly and can remove itself. */
        assert_int_equal(loop_add_timer(l, 10, loop_test_tick, &t), 0);
        assert_int_equal(loop_run(l), 5);
        assert_int_equal(t.ticks, 3);
        assert_int_equal(loop_del_timer(l, loop_test_tick, &t), -ENOENT);
        assert_int_equal(t.calls, 1);

        for (int i = 0; i < 2; i++) {
                assert_int_equal(loop_del(l, t.fds[i]), 0);
                close(t.fds[i]);
        }
        loop_free(l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_loop),
                cmocka_unit_test(test_call_reply),
                cmocka_unit_test(test_error_reply),
                cmocka_unit_test(test_pipelined),
                cmocka_unit_test(test_garbage_dropped),
                cmocka_unit_test(test_oversize_dropped),
                cmocka_unit_test(test_stalled_dropped),
                cmocka_unit_test(test_nonreader_dropped),
                cmocka_unit_test(test_fairness),
                cmocka_unit_test(test_oneway_then_close),
                cmocka_unit_test(test_max_clients),
                cmocka_unit_test(test_privileged_root),
                cmocka_unit_test(test_privileged_nonroot),
                cmocka_unit_test(test_socket_file),
                cmocka_unit_test(test_client_errors),
                cmocka_unit_test(test_client_reply_too_large),
        };

        /* A dropped connection must fail a send, not kill the test. */
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
