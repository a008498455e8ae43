/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The VMM hooks and the client calls they rest on: the bridge helper's arguments, the name
 * that selects a hook, and whole runs against a fake vnetd (a forked child on a unix socket
 * in a temporary directory) that checks the call it gets and answers with descriptors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* The Makefile links cli objects into vnetctl only; compile the hooks in. */
#include "../../cli/hooks.c"
#include "../../cli/hook_script.c"
#include "../../cli/hook_bridge.c"

/* --- the bridge helper's arguments ------------------------------------------------------- */

static int parse(struct bridge_args *a, char *msg, size_t size, ...)
{
        char *argv[16] = { "vnet-bridge-helper" };
        int argc = 1;
        va_list ap;

        va_start(ap, size);
        while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
                argc++;
        va_end(ap);
        argv[argc] = NULL;
        msg[0] = '\0';
        return bridge_parse_args(argc, argv, a, msg, size);
}

static void test_bridge_args_any_order(void **state)
{
        struct bridge_args a;
        char msg[256];

        (void)state;
        assert_int_equal(parse(&a, msg, sizeof(msg), "--br=virbr0", "--fd=3", "--use-vnet",
                               NULL), 0);
        assert_string_equal(a.br, "virbr0");
        assert_int_equal(a.fd, 3);
        assert_true(a.vnet_hdr);

        /* The order QEMU uses. */
        assert_int_equal(parse(&a, msg, sizeof(msg), "--use-vnet", "--fd=17", "--br=br-lab",
                               NULL), 0);
        assert_string_equal(a.br, "br-lab");
        assert_int_equal(a.fd, 17);
        assert_true(a.vnet_hdr);

        /* Separate values, no --use-vnet. */
        assert_int_equal(parse(&a, msg, sizeof(msg), "--fd", "4", "--br", "default", NULL), 0);
        assert_string_equal(a.br, "default");
        assert_int_equal(a.fd, 4);
        assert_false(a.vnet_hdr);
        assert_false(a.help);

        assert_int_equal(parse(&a, msg, sizeof(msg), "--help", NULL), 0);
        assert_true(a.help);
}

static void expect_refused(const char *why, ...)
{
        char *argv[16] = { "vnet-bridge-helper" };
        struct bridge_args a;
        char msg[256] = "";
        int argc = 1;
        va_list ap;

        va_start(ap, why);
        while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
                argc++;
        va_end(ap);
        argv[argc] = NULL;
        assert_int_equal(bridge_parse_args(argc, argv, &a, msg, sizeof(msg)), -EINVAL);
        if (!strstr(msg, why))
                fail_msg("expected '%s' in '%s'", why, msg);
}

static void test_bridge_args_refused(void **state)
{
        (void)state;
        expect_refused("missing --br", NULL);
        expect_refused("missing --br", "--fd=3", NULL);
        expect_refused("missing --fd", "--br=virbr0", NULL);
        expect_refused("missing --fd", "--use-vnet", "--br=virbr0", NULL);
        expect_refused("invalid --fd 'x'", "--br=virbr0", "--fd=x", NULL);
        expect_refused("invalid --fd ''", "--br=virbr0", "--fd=", NULL);
        expect_refused("invalid --fd '-1'", "--br=virbr0", "--fd=-1", NULL);
        expect_refused("invalid --fd '+3'", "--br=virbr0", "--fd=+3", NULL);
        expect_refused("invalid --fd ' 3'", "--br=virbr0", "--fd= 3", NULL);
        expect_refused("invalid --fd '3x'", "--br=virbr0", "--fd=3x", NULL);
        expect_refused("invalid --fd '99999999999'", "--br=virbr0", "--fd=99999999999", NULL);
        expect_refused("--br given twice", "--br=a", "--fd=3", "--br=b", NULL);
        expect_refused("--fd given twice", "--br=a", "--fd=3", "--fd=3", NULL);
        expect_refused("option '--br' needs a value", "--fd=3", "--br", NULL);
        expect_refused("unknown option '--bogus'", "--br=a", "--fd=3", "--bogus", NULL);
        expect_refused("unexpected argument 'virbr0'", "--fd=3", "virbr0", NULL);
        /* --use-vnet takes no value. */
        expect_refused("--use-vnet", "--br=a", "--fd=3", "--use-vnet=1", NULL);
}

static void test_hook_find(void **state)
{
        (void)state;
        assert_string_equal(hook_find("vnet-ifup")->name, "vnet-ifup");
        assert_string_equal(hook_find("/usr/libexec/vnet-ifdown")->name, "vnet-ifdown");
        assert_string_equal(hook_find("./vnet-bridge-helper")->name, "vnet-bridge-helper");
        assert_null(hook_find("vnetctl"));
        assert_null(hook_find("/usr/bin/vnetctl"));
        assert_null(hook_find("vnet-ifup2"));
        assert_null(hook_find("vnet-ifup/"));
        assert_null(hook_find(""));
        assert_null(hook_find(NULL));
}

/* --- a fake vnetd -------------------------------------------------------------------------- */

struct fake {
        char dir[64];
        char path[108]; /* sun_path */
        pid_t pid;
};

static int count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        int n = 0;

        assert_non_null(d);
        while ((e = readdir(d)))
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1; /* the directory's own */
}

static void fd_text(int fd, const char *want)
{
        char buf[64] = "";

        assert_true(pread(fd, buf, sizeof(buf) - 1, 0) >= 0);
        assert_string_equal(buf, want);
}

/* The child: takes one call, checks it is @method with exactly @params, answers @reply with
 * @nfds descriptors ("fd0", "fd1", ...), waits for the client to hang up. Exit status 0 only
 * if the call was the one expected. */
static void fake_serve(int lfd, const char *method, const char *params, const char *reply,
                       int nfds)
{
        char buf[65536];
        size_t len = 0;
        json_t *call, *want;
        int cfd, ok;

        /* A test that failed in the parent must not leave this child waiting forever. */
        alarm(10);
        cfd = accept(lfd, NULL, NULL);
        if (cfd < 0)
                _exit(10);
        while (len == 0 || buf[len - 1] != '\0') {
                ssize_t n = read(cfd, buf + len, sizeof(buf) - len);

                if (n <= 0)
                        _exit(11);
                len += n;
        }
        call = json_loads(buf, 0, NULL);
        want = json_loads(params, 0, NULL);
        ok = call && want &&
             strcmp(json_string_value(json_object_get(call, "method")) ?: "", method) == 0 &&
             json_equal(json_object_get(call, "parameters"), want);
        if (!ok)
                fprintf(stderr, "fake vnetd: unexpected call %s\n", buf);

        {
                union {
                        struct cmsghdr align;
                        char buf[CMSG_SPACE(4 * sizeof(int))];
                } control = {};
                struct iovec iov = { .iov_base = (void *)reply, .iov_len = strlen(reply) + 1 };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
                int fds[4];

                if (nfds > 0) {
                        struct cmsghdr *cm;

                        mh.msg_control = control.buf;
                        mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
                        cm = CMSG_FIRSTHDR(&mh);
                        cm->cmsg_level = SOL_SOCKET;
                        cm->cmsg_type = SCM_RIGHTS;
                        cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
                        for (int i = 0; i < nfds; i++) {
                                char text[8];

                                snprintf(text, sizeof(text), "fd%d", i);
                                fds[i] = memfd_create("fake", 0);
                                if (fds[i] < 0 || write(fds[i], text, strlen(text)) < 0)
                                        _exit(12);
                        }
                        memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
                }
                if (sendmsg(cfd, &mh, MSG_NOSIGNAL) < 0)
                        _exit(13);
        }
        while (read(cfd, buf, sizeof(buf)) > 0)
                ;
        _exit(ok ? 0 : 1);
}

static void fake_start(struct fake *f, const char *method, const char *params,
                       const char *reply, int nfds)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int lfd;

        snprintf(f->dir, sizeof(f->dir), "/tmp/test_hooks.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/vnetd.sock", f->dir);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
        lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(lfd >= 0);
        assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(lfd, 1), 0);
        fflush(NULL);
        f->pid = fork();
        assert_true(f->pid >= 0);
        if (f->pid == 0)
                fake_serve(lfd, method, params, reply, nfds);
        close(lfd);
        assert_int_equal(setenv("VNET_SOCKET", f->path, 1), 0);
}

/* Asserts that the fake got the call it expected. */
static void fake_finish(struct fake *f)
{
        int status;

        assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
        unlink(f->path);
        rmdir(f->dir);
        unsetenv("VNET_SOCKET");
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

#define PORT_JSON                                                                          \
        "{\"port\":{\"network\":\"default\",\"ifname\":\"vnet7\","                         \
        "\"mac\":\"52:54:00:12:34:56\",\"owner\":1000,\"group\":null,\"queues\":1,"         \
        "\"adopted\":false,\"state\":\"down\"}}"

/* --- the client calls ---------------------------------------------------------------------- */

static void test_tap_open_takes_one_fd_closes_extra(void **state)
{
        struct vnet_call_error err = {};
        struct vnet_port_info info;
        struct vnet_client *c;
        struct fake f;
        int fd = -2, before;

        (void)state;
        fake_start(&f, "io.vnet.OpenTap", "{\"bridge\":\"virbr0\",\"vnet_hdr\":true}",
                   "{\"parameters\":" PORT_JSON "}", 3);
        assert_int_equal(vnet_client_connect(NULL, &c), 0);
        before = count_fds();
        assert_int_equal(vnet_tap_open(c, "virbr0", 1, &fd, &info, &err), 0);
        assert_true(fd >= 0);
        fd_text(fd, "fd0");
        /* MSG_CMSG_CLOEXEC, and the two extra descriptors did not stay. */
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        assert_int_equal(count_fds(), before + 1);
        assert_string_equal(info.network, "default");
        assert_string_equal(info.ifname, "vnet7");
        assert_string_equal(info.mac, "52:54:00:12:34:56");
        assert_int_equal(info.owner, 1000);
        assert_int_equal(info.group, -1);
        assert_int_equal(info.queues, 1);
        assert_false(info.adopted);
        assert_string_equal(info.state, "down");
        close(fd);
        vnet_client_free(c);
        vnet_call_error_clear(&err);
        fake_finish(&f);
}

/* An error reply that (wrongly) carries a descriptor must not leak it to the caller. */
static void test_call_fd_error_reply_closes_fd(void **state)
{
        struct vnet_call_error err = {};
        struct vnet_client *c;
        json_t *reply = NULL;
        struct fake f;
        int fd = -2, before;

        (void)state;
        fake_start(&f, "io.vnet.OpenTap", "{\"bridge\":\"lab\",\"vnet_hdr\":false}",
                   "{\"error\":\"io.vnet.PermissionDenied\","
                   "\"parameters\":{\"message\":\"user 1000 may not use network 'lab'\"}}",
                   1);
        assert_int_equal(vnet_client_connect(NULL, &c), 0);
        before = count_fds();
        assert_int_equal(vnet_client_call_fd(c, "io.vnet.OpenTap",
                                             json_pack("{s:s, s:b}", "bridge", "lab",
                                                       "vnet_hdr", 0),
                                             &reply, &fd, &err),
                         -EREMOTEIO);
        assert_int_equal(fd, -1);
        assert_null(reply);
        assert_int_equal(count_fds(), before);
        assert_string_equal(err.name, "io.vnet.PermissionDenied");
        assert_string_equal(err.message, "user 1000 may not use network 'lab'");
        vnet_client_free(c);
        vnet_call_error_clear(&err);
        fake_finish(&f);
}

static void test_tap_open_without_fd_fails(void **state)
{
        struct vnet_call_error err = {};
        struct vnet_client *c;
        struct fake f;
        int fd = -2;

        (void)state;
        fake_start(&f, "io.vnet.OpenTap", "{\"bridge\":\"virbr0\",\"vnet_hdr\":false}",
                   "{\"parameters\":" PORT_JSON "}", 0);
        assert_int_equal(vnet_client_connect(NULL, &c), 0);
        assert_int_equal(vnet_tap_open(c, "virbr0", 0, &fd, NULL, &err), -EBADMSG);
        assert_int_equal(fd, -1);
        assert_non_null(strstr(err.message, "no descriptor"));
        vnet_client_free(c);
        vnet_call_error_clear(&err);
        fake_finish(&f);
}

/* A plain call closes a descriptor nobody asked for. */
static void test_call_closes_unexpected_fd(void **state)
{
        struct vnet_call_error err = {};
        struct vnet_client *c;
        json_t *reply = NULL;
        struct fake f;
        int before;

        (void)state;
        fake_start(&f, "io.vnet.ListPorts", "{\"network\":\"default\"}",
                   "{\"parameters\":{\"ports\":[]}}", 2);
        assert_int_equal(vnet_client_connect(NULL, &c), 0);
        before = count_fds();
        assert_int_equal(vnet_client_call(c, "io.vnet.ListPorts",
                                          json_pack("{s:s}", "network", "default"), &reply,
                                          &err),
                         0);
        assert_int_equal(count_fds(), before);
        assert_true(json_is_array(json_object_get(reply, "ports")));
        json_decref(reply);
        vnet_client_free(c);
        vnet_call_error_clear(&err);
        fake_finish(&f);
}

static void test_port_attach_sends_given_fields(void **state)
{
        struct vnet_port_request req = {
                .network = "default", .mac = "52:54:00:12:34:56", .owner = "alice",
                .queues = 4,
        };
        struct vnet_call_error err = {};
        struct vnet_port_info info;
        struct vnet_client *c;
        struct fake f;

        (void)state;
        fake_start(&f, "io.vnet.AttachPort",
                   "{\"network\":\"default\",\"mac\":\"52:54:00:12:34:56\","
                   "\"owner\":\"alice\",\"queues\":4}",
                   "{\"parameters\":" PORT_JSON "}", 0);
        assert_int_equal(vnet_client_connect(NULL, &c), 0);
        assert_int_equal(vnet_port_attach(c, &req, &info, &err), 0);
        assert_string_equal(info.ifname, "vnet7");
        vnet_client_free(c);
        vnet_call_error_clear(&err);
        fake_finish(&f);
}

static void test_port_attach_malformed_reply(void **state)
{
        struct vnet_port_request req = { .network = "default" };
        struct vnet_call_error err = {};
        struct vnet_port_info info;
        struct vnet_client *c;
        struct fake f;

        (void)state;
        fake_start(&f, "io.vnet.AttachPort", "{\"network\":\"default\"}",
                   "{\"parameters\":{\"port\":{\"network\":\"default\","
                   "\"ifname\":\"much-too-long-name\",\"mac\":\"52:54:00:12:34:56\","
                   "\"queues\":1,\"adopted\":false,\"state\":\"down\"}}}",
                   0);
        assert_int_equal(vnet_client_connect(NULL, &c), 0);
        assert_int_equal(vnet_port_attach(c, &req, &info, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "'ifname'"));
        vnet_client_free(c);
        vnet_call_error_clear(&err);
        fake_finish(&f);
}

static void test_port_detach(void **state)
{
        struct vnet_call_error err = {};
        struct vnet_client *c;
        struct fake f;

        (void)state;
        fake_start(&f, "io.vnet.DetachPort", "{\"network\":\"default\",\"ifname\":\"vnet7\"}",
                   "{\"error\":\"io.vnet.PortNotFound\","
                   "\"parameters\":{\"network\":\"default\",\"ifname\":\"vnet7\"}}",
                   0);
        assert_int_equal(vnet_client_connect(NULL, &c), 0);
        assert_int_equal(vnet_port_detach(c, "default", "vnet7", &err), -EREMOTEIO);
        assert_string_equal(err.message, "network 'default' has no port 'vnet7'");
        vnet_client_free(c);
        vnet_call_error_clear(&err);
        fake_finish(&f);
}

/* --- whole hooks ------------------------------------------------------------------------- */

static int run_hook(const char *name, ...)
{
        char *argv[16] = { (char *)name };
        int argc = 1;
        va_list ap;

        va_start(ap, name);
        while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
                argc++;
        va_end(ap);
        argv[argc] = NULL;
        return hook_main(hook_find(name), argc, argv);
}

static void test_bridge_helper_passes_tap_to_qemu(void **state)
{
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control;
        char byte = 'x', arg[32];
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1,
                .msg_control = control.buf, .msg_controllen = sizeof(control.buf),
        };
        struct cmsghdr *cm;
        struct fake f;
        int sv[2], fd, before;

        (void)state;
        /* QEMU's side of net_bridge_run_helper(): a socket pair, the helper gets one end. */
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        snprintf(arg, sizeof(arg), "--fd=%d", sv[1]);
        fake_start(&f, "io.vnet.OpenTap", "{\"bridge\":\"virbr0\",\"vnet_hdr\":true}",
                   "{\"parameters\":" PORT_JSON "}", 1);
        before = count_fds();
        assert_int_equal(run_hook("/usr/libexec/vnet-bridge-helper", "--use-vnet", arg,
                                  "--br=virbr0", NULL),
                         0);
        /* It closed its end and its copy of the TAP. */
        assert_int_equal(count_fds(), before - 1);
        fake_finish(&f);

        assert_int_equal(recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC), 1);
        assert_int_equal(byte, 0);
        cm = CMSG_FIRSTHDR(&mh);
        assert_non_null(cm);
        assert_int_equal(cm->cmsg_type, SCM_RIGHTS);
        assert_int_equal(cm->cmsg_len, CMSG_LEN(sizeof(int)));
        memcpy(&fd, CMSG_DATA(cm), sizeof(int));
        fd_text(fd, "fd0");
        close(fd);
        close(sv[0]);
}

static void test_bridge_helper_refuses_before_calling(void **state)
{
        int sv[2];
        char arg[32];

        (void)state;
        /* No fake vnetd: a call would fail differently, and these must not get that far. */
        assert_int_equal(setenv("VNET_SOCKET", "/nonexistent/vnetd.sock", 1), 0);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        snprintf(arg, sizeof(arg), "--fd=%d", sv[1]);
        assert_int_equal(run_hook("vnet-bridge-helper", arg, "--br=abcdefghijklmnop", NULL), 1);
        assert_int_equal(run_hook("vnet-bridge-helper", arg, NULL), 1);
        /* Not a socket. */
        assert_int_equal(run_hook("vnet-bridge-helper", "--fd=0", "--br=virbr0", NULL), 1);
        /* Nothing was sent, and the helper left QEMU's end open. */
        assert_int_equal(fcntl(sv[1], F_GETFD) >= 0, 1);
        assert_int_equal(recv(sv[0], arg, sizeof(arg), MSG_DONTWAIT), -1);
        assert_int_equal(errno, EAGAIN);
        close(sv[0]);
        close(sv[1]);
        unsetenv("VNET_SOCKET");
}

static void test_ifup_sends_environment(void **state)
{
        struct fake f;

        (void)state;
        fake_start(&f, "io.vnet.PortUp",
                   "{\"ifname\":\"tap0\",\"network\":\"lab\",\"mac\":\"52:54:00:00:00:01\"}",
                   "{\"parameters\":" PORT_JSON "}", 0);
        setenv("VNET_NETWORK", "lab", 1);
        setenv("VNET_MAC", "52:54:00:00:00:01", 1);
        assert_int_equal(run_hook("vnet-ifup", "tap0", NULL), 0);
        unsetenv("VNET_NETWORK");
        unsetenv("VNET_MAC");
        fake_finish(&f);

        /* Empty means unset. */
        fake_start(&f, "io.vnet.PortUp", "{\"ifname\":\"tap0\"}",
                   "{\"parameters\":" PORT_JSON "}", 0);
        setenv("VNET_NETWORK", "", 1);
        assert_int_equal(run_hook("vnet-ifup", "tap0", NULL), 0);
        unsetenv("VNET_NETWORK");
        fake_finish(&f);
}

static void test_ifup_failure(void **state)
{
        struct fake f;

        (void)state;
        fake_start(&f, "io.vnet.PortUp", "{\"ifname\":\"tap0\"}",
                   "{\"error\":\"io.vnet.NetworkNotFound\",\"parameters\":{\"name\":\"default\"}}",
                   0);
        assert_int_equal(run_hook("vnet-ifup", "tap0", NULL), 1);
        fake_finish(&f);
}

static void test_script_hooks_check_name_first(void **state)
{
        (void)state;
        /* Usage errors exit 2; a failure to connect would exit 1. */
        assert_int_equal(setenv("VNET_SOCKET", "/nonexistent/vnetd.sock", 1), 0);
        assert_int_equal(run_hook("vnet-ifup", "abcdefghijklmnop", NULL), 2);
        assert_int_equal(run_hook("vnet-ifdown", "abcdefghijklmnop", NULL), 2);
        assert_int_equal(run_hook("vnet-ifup", "tap/0", NULL), 2);
        assert_int_equal(run_hook("vnet-ifup", "", NULL), 2);
        assert_int_equal(run_hook("vnet-ifup", NULL), 2);
        assert_int_equal(run_hook("vnet-ifup", "tap0", "tap1", NULL), 2);
        /* 15 bytes is the limit, not over it: this one gets as far as connecting. */
        assert_int_equal(run_hook("vnet-ifup", "abcdefghijklmno", NULL), 1);
        unsetenv("VNET_SOCKET");
}

static void test_ifdown_port_gone_is_success(void **state)
{
        struct fake f;

        (void)state;
        fake_start(&f, "io.vnet.PortDown", "{\"ifname\":\"tap0\"}", "{\"parameters\":{}}", 0);
        assert_int_equal(run_hook("vnet-ifdown", "tap0", NULL), 0);
        fake_finish(&f);

        fake_start(&f, "io.vnet.PortDown", "{\"ifname\":\"tap0\"}",
                   "{\"error\":\"io.vnet.PortNotFound\","
                   "\"parameters\":{\"network\":\"\",\"ifname\":\"tap0\"}}",
                   0);
        assert_int_equal(run_hook("vnet-ifdown", "tap0", NULL), 0);
        fake_finish(&f);

        fake_start(&f, "io.vnet.PortDown", "{\"ifname\":\"tap0\"}",
                   "{\"error\":\"io.vnet.PermissionDenied\",\"parameters\":{\"message\":\"no\"}}",
                   0);
        assert_int_equal(run_hook("vnet-ifdown", "tap0", NULL), 1);
        fake_finish(&f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bridge_args_any_order),
                cmocka_unit_test(test_bridge_args_refused),
                cmocka_unit_test(test_hook_find),
                cmocka_unit_test(test_tap_open_takes_one_fd_closes_extra),
                cmocka_unit_test(test_call_fd_error_reply_closes_fd),
                cmocka_unit_test(test_tap_open_without_fd_fails),
                cmocka_unit_test(test_call_closes_unexpected_fd),
                cmocka_unit_test(test_port_attach_sends_given_fields),
                cmocka_unit_test(test_port_attach_malformed_reply),
                cmocka_unit_test(test_port_detach),
                cmocka_unit_test(test_bridge_helper_passes_tap_to_qemu),
                cmocka_unit_test(test_bridge_helper_refuses_before_calling),
                cmocka_unit_test(test_ifup_sends_environment),
                cmocka_unit_test(test_ifup_failure),
                cmocka_unit_test(test_script_hooks_check_name_first),
                cmocka_unit_test(test_ifdown_port_gone_is_success),
        };

        /* A hook that writes to a closed socket must fail, not kill the test. */
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
