/* SPDX-License-Identifier: GPL-2.0-or-later */
/* netprobe: tiny TCP/UDP endpoints that tell each side what the other saw, so a test can
 * check addresses and ports after NAT. Run it only inside a test network namespace.
 *
 *   netprobe tcp-serve PORT                  accept; write the peer's "IP:PORT\n"; close
 *   netprobe udp-serve PORT                  answer each datagram with its sender's "IP:PORT\n"
 *   netprobe tcp-connect ADDR PORT [TIMEOUT_MS]
 *   netprobe udp-send SRCPORT ADDR PORT [TIMEOUT_MS]    SRCPORT 0: the kernel's choice
 *   netprobe udp-send-raw SRCADDR SRCPORT ADDR PORT     one datagram, checksummed here
 *   netprobe udp-capture PORT [TIMEOUT_MS]   print the UDP checksum of what arrives for PORT
 *
 * The servers print "ready\n" on stdout once they listen, so a test can wait for them, then
 * each peer they served as "IP:PORT\n", so a test can tell what reached them.
 * The clients print what the server sent and exit 0; if the connection fails or no answer
 * comes within TIMEOUT_MS (default 1000), they say why on stderr
 * ("netprobe: tcp-connect 10.0.0.2:80: EHOSTUNREACH (No route to host)") and exit 1.
 * udp-send with TIMEOUT_MS 0 sends and exits 0 without waiting for an answer.
 * udp-send-raw sends through a raw socket, so the kernel neither computes the UDP checksum
 * nor leaves it to offload (the packet is CHECKSUM_NONE, complete as it leaves).
 * udp-capture reads IPv4 frames on every interface of the namespace (AF_PACKET), prints
 * "ready\n", then for the first UDP datagram that arrives for PORT prints one line
 * "checksum 0xHHHH VERDICT STATE": VERDICT "zero" (no checksum), "valid" or "invalid" (checked
 * over the pseudo-header), STATE "partial" when the kernel marks the checksum as not yet
 * computed (CHECKSUM_PARTIAL: the field holds only the pseudo-header sum, so it checks
 * invalid) or "complete". Exits 1 if nothing comes within TIMEOUT_MS (default 2000).
 * Usage errors exit 2. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *verb = "netprobe";
static char target[64] = "";

static int fail(int err)
{
        const char *name = strerrorname_np(err);

        fprintf(stderr, "netprobe: %s%s%s: %s (%s)\n", verb, target[0] ? " " : "", target,
                name ? name : "?", strerror(err));
        return 1;
}

static int usage(void)
{
        fprintf(stderr, "usage: netprobe tcp-serve PORT | udp-serve PORT |\n"
                        "       tcp-connect ADDR PORT [TIMEOUT_MS] |\n"
                        "       udp-send SRCPORT ADDR PORT [TIMEOUT_MS] |\n"
                        "       udp-send-raw SRCADDR SRCPORT ADDR PORT |\n"
                        "       udp-capture PORT [TIMEOUT_MS]\n");
        return 2;
}

static int parse_num(const char *s, long lo, long hi, long *out)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < lo || v > hi)
                return -1;
        *out = v;
        return 0;
}

static int parse_addr(const char *addr, const char *port, struct sockaddr_in *sa)
{
        long p;

        memset(sa, 0, sizeof(*sa));
        sa->sin_family = AF_INET;
        if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1 || parse_num(port, 1, 65535, &p) < 0)
                return -1;
        sa->sin_port = htons((uint16_t)p);
        snprintf(target, sizeof(target), "%s:%ld", addr, p);
        return 0;
}

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Waits for @events on @fd until @deadline (ms, monotonic); 0 when ready, else -errno. */
static int wait_fd(int fd, short events, long long deadline)
{
        struct pollfd p = { .fd = fd, .events = events };

        for (;;) {
                long long left = deadline - now_ms();
                int n;

                if (left <= 0)
                        return -ETIMEDOUT;
                n = poll(&p, 1, (int)left);
                if (n > 0)
                        return 0;
                if (n < 0 && errno != EINTR)
                        return -errno;
        }
}

static void peer_str(const struct sockaddr_in *sa, char *buf, size_t len)
{
        char ip[INET_ADDRSTRLEN];

        inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof(ip));
        snprintf(buf, len, "%s:%u\n", ip, ntohs(sa->sin_port));
}

static int bound_socket(int type, long port)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        int one = 1;
        int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        return fd;
}

static int tcp_serve(long port)
{
        int fd = bound_socket(SOCK_STREAM, port);

        if (fd < 0)
                return fail(-fd);
        if (listen(fd, 64) < 0)
                return fail(errno);
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                struct sockaddr_in peer;
                socklen_t len = sizeof(peer);
                char buf[64];
                int c = accept(fd, (struct sockaddr *)&peer, &len);

                if (c < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        return fail(errno);
                }
                peer_str(&peer, buf, sizeof(buf));
                (void)!write(c, buf, strlen(buf));
                fputs(buf, stdout); /* a log of who came, for negative checks */
                fflush(stdout);
                close(c);
        }
}

/* Answers from the address the datagram was sent to (IP_PKTINFO): a wildcard socket would
 * answer from the outgoing interface's address, which the client's connected socket drops. */
static int udp_serve(long port)
{
        int one = 1;
        int fd = bound_socket(SOCK_DGRAM, port);

        if (fd < 0)
                return fail(-fd);
        if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0)
                return fail(errno);
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                struct sockaddr_in peer;
                char buf[512];
                char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
                struct msghdr msg = {
                        .msg_name = &peer,
                        .msg_namelen = sizeof(peer),
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = cbuf,
                        .msg_controllen = sizeof(cbuf),
                };
                struct in_pktinfo *pi = NULL;
                ssize_t n = recvmsg(fd, &msg, 0);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return fail(errno);
                }
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
                                pi = (struct in_pktinfo *)CMSG_DATA(c);
                peer_str(&peer, buf, sizeof(buf));
                iov.iov_len = strlen(buf);
                fputs(buf, stdout);
                fflush(stdout);
                if (pi) {
                        /* reply from the address asked for, whatever the interface */
                        pi->ipi_ifindex = 0;
                        msg.msg_controllen = CMSG_SPACE(sizeof(*pi));
                } else {
                        msg.msg_control = NULL;
                        msg.msg_controllen = 0;
                }
                (void)!sendmsg(fd, &msg, 0);
        }
}

/* Prints what arrives on @fd until EOF (stream) or one datagram, within @deadline. */
static int relay_answer(int fd, bool stream, long long deadline)
{
        char buf[512];

        for (;;) {
                ssize_t n;
                int r = wait_fd(fd, POLLIN, deadline);

                if (r < 0)
                        return fail(-r);
                n = recv(fd, buf, sizeof(buf), 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return fail(errno);
                }
                if (n == 0)
                        return 0;
                fwrite(buf, 1, (size_t)n, stdout);
                fflush(stdout);
                if (!stream)
                        return 0;
        }
}

static int tcp_connect(const struct sockaddr_in *sa, long timeout)
{
        long long deadline = now_ms() + timeout;
        socklen_t len = sizeof(int);
        int fd, err = 0, r;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return fail(errno);
        if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 && errno != EINPROGRESS)
                return fail(errno);
        r = wait_fd(fd, POLLOUT, deadline);
        if (r < 0)
                return fail(-r);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                return fail(errno);
        if (err)
                return fail(err);
        return relay_answer(fd, true, deadline);
}

static int udp_send(long sport, const struct sockaddr_in *sa, long timeout)
{
        long long deadline = now_ms() + timeout;
        int fd = bound_socket(SOCK_DGRAM, sport);

        if (fd < 0)
                return fail(-fd);
        /* connected: ICMP errors (a reject) come back as errors of recv */
        if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
                return fail(errno);
        if (send(fd, "probe\n", 6, 0) < 0)
                return fail(errno);
        if (timeout == 0)
                return 0;
        return relay_answer(fd, false, deadline);
}

/* One's complement sum of @len bytes, added to @sum (RFC 1071). */
static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
        const uint8_t *p = data;

        for (size_t i = 0; i + 1 < len; i += 2)
                sum += (uint32_t)p[i] << 8 | p[i + 1];
        if (len & 1)
                sum += (uint32_t)p[len - 1] << 8;
        return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return (uint16_t)sum;
}

/* The UDP checksum sum over pseudo-header, header and data, folded, not complemented:
 * 0xffff when the datagram's checksum is right. */
static uint16_t udp_sum(struct in_addr src, struct in_addr dst, const void *udp, size_t len)
{
        uint8_t pseudo[12];
        uint16_t ulen = htons((uint16_t)len);

        memcpy(pseudo, &src, 4);
        memcpy(pseudo + 4, &dst, 4);
        pseudo[8] = 0;
        pseudo[9] = IPPROTO_UDP;
        memcpy(pseudo + 10, &ulen, 2);
        return csum_fold(csum_add(csum_add(0, pseudo, sizeof(pseudo)), udp, len));
}

static int udp_send_raw(const struct sockaddr_in *src, const struct sockaddr_in *dst)
{
        struct {
                struct udphdr h;
                char data[6];
        } __attribute__((packed)) d = { .data = { 'p', 'r', 'o', 'b', 'e', '\n' } };
        struct sockaddr_in bind_sa = *src;
        uint16_t c;
        int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP);

        if (fd < 0)
                return fail(errno);
        bind_sa.sin_port = 0;
        if (bind(fd, (const struct sockaddr *)&bind_sa, sizeof(bind_sa)) < 0)
                return fail(errno);
        d.h.source = src->sin_port;
        d.h.dest = dst->sin_port;
        d.h.len = htons(sizeof(d));
        d.h.check = 0;
        c = (uint16_t)~udp_sum(src->sin_addr, dst->sin_addr, &d, sizeof(d));
        d.h.check = htons(c ? c : 0xffff); /* 0 would mean "no checksum" */
        if (sendto(fd, &d, sizeof(d), 0, (const struct sockaddr *)dst, sizeof(*dst)) < 0)
                return fail(errno);
        return 0;
}

static int udp_capture(long port, long timeout)
{
        long long deadline = now_ms() + timeout;
        int one = 1;
        int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));

        if (fd < 0)
                return fail(errno);
        if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0)
                return fail(errno);
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                uint8_t buf[2048];
                char cbuf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
                struct sockaddr_ll from;
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
                struct msghdr msg = {
                        .msg_name = &from,
                        .msg_namelen = sizeof(from),
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = cbuf,
                        .msg_controllen = sizeof(cbuf),
                };
                bool partial = false;
                struct iphdr ip;
                struct udphdr udp;
                size_t ihl, ulen;
                const char *verdict;
                ssize_t n;
                int r = wait_fd(fd, POLLIN, deadline);

                if (r < 0)
                        return fail(-r);
                n = recvmsg(fd, &msg, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return fail(errno);
                }
                if (from.sll_pkttype == PACKET_OUTGOING || (size_t)n < sizeof(ip))
                        continue;
                memcpy(&ip, buf, sizeof(ip));
                ihl = ip.ihl * 4u;
                if (ip.version != 4 || ip.protocol != IPPROTO_UDP || ihl < sizeof(ip) ||
                    (ntohs(ip.frag_off) & 0x3fff) || (size_t)n < ihl + sizeof(udp))
                        continue;
                memcpy(&udp, buf + ihl, sizeof(udp));
                ulen = ntohs(udp.len);
                if (ntohs(udp.dest) != port || ulen < sizeof(udp) || ihl + ulen > (size_t)n)
                        continue;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                        struct tpacket_auxdata aux;

                        if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
                                continue;
                        memcpy(&aux, CMSG_DATA(c), sizeof(aux));
                        partial = aux.tp_status & TP_STATUS_CSUMNOTREADY;
                }
                if (udp.check == 0)
                        verdict = "zero";
                else if (udp_sum((struct in_addr){ ip.saddr }, (struct in_addr){ ip.daddr },
                                 buf + ihl, ulen) == 0xffff)
                        verdict = "valid";
                else
                        verdict = "invalid";
                printf("checksum 0x%04x %s %s\n", ntohs(udp.check), verdict,
                       partial ? "partial" : "complete");
                fflush(stdout);
                return 0;
        }
}

int main(int argc, char **argv)
{
        struct sockaddr_in sa;
        long port, timeout = 1000;

        if (argc < 2)
                return usage();
        verb = argv[1];
        if ((!strcmp(verb, "tcp-serve") || !strcmp(verb, "udp-serve")) && argc == 3) {
                if (parse_num(argv[2], 1, 65535, &port) < 0)
                        return usage();
                return verb[0] == 't' ? tcp_serve(port) : udp_serve(port);
        }
        if (!strcmp(verb, "tcp-connect") && (argc == 4 || argc == 5)) {
                if (parse_addr(argv[2], argv[3], &sa) < 0 ||
                    (argc == 5 && parse_num(argv[4], 1, 600000, &timeout) < 0))
                        return usage();
                return tcp_connect(&sa, timeout);
        }
        if (!strcmp(verb, "udp-send") && (argc == 5 || argc == 6)) {
                if (parse_num(argv[2], 0, 65535, &port) < 0 || parse_addr(argv[3], argv[4], &sa) < 0 ||
                    (argc == 6 && parse_num(argv[5], 0, 600000, &timeout) < 0))
                        return usage();
                return udp_send(port, &sa, timeout);
        }
        if (!strcmp(verb, "udp-send-raw") && argc == 6) {
                struct sockaddr_in src;

                if (parse_addr(argv[2], argv[3], &src) < 0 || parse_addr(argv[4], argv[5], &sa) < 0)
                        return usage();
                return udp_send_raw(&src, &sa);
        }
        if (!strcmp(verb, "udp-capture") && (argc == 3 || argc == 4)) {
                timeout = 2000;
                if (parse_num(argv[2], 1, 65535, &port) < 0 ||
                    (argc == 4 && parse_num(argv[3], 1, 600000, &timeout) < 0))
                        return usage();
                return udp_capture(port, timeout);
        }
        return usage();
}
