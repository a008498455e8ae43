/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Network-up benchmark with DHCP/DNS: what io.vnet.CreateNetwork costs when the reply comes
 * after the network's dnsmasq is ready to answer, next to the same call with DHCP off
 * ("dhcp": false, dnsmasq for DNS only) and for a network without an address (no dnsmasq).
 * After each reply the gateway is sent a DNS query at once: the figure counts only if it is
 * answered (within 50 ms), i.e. "up" means "answering". The guests' side (udhcpc to bound)
 * is measured by tests/bench/run, which runs this. Prints medians and p95; fails only when
 * something fails outright.
 *
 * Run it inside a throwaway network namespace where vnetd runs (tests/bench/run does): it
 * creates networks there, and refuses to run in the namespace of PID 1. */
#include <arpa/inet.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BENCH_NAME "dhcp"
#include "bench.h"

#define N_MAX 200
#define ANSWER_MS 50
#define TAIL 0.95 /* the table's last column: p95, by nearest rank */

enum kind { WITH_DHCP, NO_DHCP, NO_ADDRESS, _KIND_MAX };
static const char *const kind_label[] = {
        [WITH_DHCP] = "with DHCP (dnsmasq ready)",
        [NO_DHCP] = "dhcp: false (dnsmasq, DNS only)",
        [NO_ADDRESS] = "no address, isolated (no dnsmasq)",
};

/* A DNS query for "gw.NAME" (the network's own domain: answered locally) to @gw:53; the
 * time to its answer in ms, or -1 if none came within ANSWER_MS. */
static double dns_answer_ms(const char *gw, const char *name)
{
        unsigned char q[64], a[512];
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
        size_t len = 0;
        double t0 = bench_now_ms(), t = -1;
        int fd;

        inet_pton(AF_INET, gw, &sa.sin_addr);
        memcpy(q, "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
        len = 12;
        q[len++] = 2;
        memcpy(q + len, "gw", 2);
        len += 2;
        q[len++] = (unsigned char)strlen(name);
        memcpy(q + len, name, strlen(name));
        len += strlen(name);
        memcpy(q + len, "\x00\x00\x01\x00\x01", 5);
        len += 5;
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                bench_die("socket: %s", strerror(errno));
        if (sendto(fd, q, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                goto out;
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int left = (int)(t0 + ANSWER_MS - bench_now_ms());
                if (left <= 0 || poll(&p, 1, left) <= 0)
                        break;
                if (recv(fd, a, sizeof(a), 0) >= 12 && a[0] == 0x12 && a[1] == 0x34) {
                        t = bench_now_ms() - t0;
                        break;
                }
        }
out:
        close(fd);
        return t;
}

static void usage(void)
{
        fprintf(stderr, "usage: dhcp -s SOCKET [-n NETWORKS]\n");
        exit(2);
}

int main(int argc, char **argv)
{
        const char *sock = NULL;
        unsigned n = 30;
        struct bench_series up[_KIND_MAX] = { 0 }, dns = { 0 };
        unsigned answered = 0;
        struct vnet_client *c;
        char name[32], br[16], gw[32], ipv4[40];
        int opt;

        while ((opt = getopt(argc, argv, "s:n:h")) != -1) {
                switch (opt) {
                case 's':
                        sock = optarg;
                        break;
                case 'n':
                        n = (unsigned)atoi(optarg);
                        break;
                default:
                        usage();
                }
        }
        if (!sock || optind != argc || n < 1 || n > N_MAX)
                usage();
        bench_check_namespace();
        setvbuf(stdout, NULL, _IOLBF, 0);
        c = bench_connect(sock);

        /* Interleaved, so that each kind sees the same host: kind k of round i is network
         * dK-i on 10.(70+k).i.0/24. Each is destroyed before the next round (untimed). */
        for (unsigned i = 0; i < n; i++) {
                for (int k = 0; k < _KIND_MAX; k++) {
                        json_t *def;
                        double t0;

                        snprintf(name, sizeof(name), "d%d-%u", k, i);
                        snprintf(br, sizeof(br), "vd%d-%u", k, i);
                        snprintf(gw, sizeof(gw), "10.%d.%u.1", 70 + k, i);
                        snprintf(ipv4, sizeof(ipv4), "%s/24", gw);
                        /* nat needs an address: the one without is isolated. */
                        def = json_pack("{s:s, s:s, s:s}", "name", name, "bridge", br, "mode",
                                        k == NO_ADDRESS ? "isolated" : "nat");
                        if (!def)
                                bench_die("out of memory");
                        if (k != NO_ADDRESS)
                                json_object_set_new(def, "ipv4", json_string(ipv4));
                        if (k == NO_DHCP)
                                json_object_set_new(def, "dhcp", json_false());
                        t0 = bench_now_ms();
                        bench_vcall(c, "io.vnet.CreateNetwork",
                                    json_pack("{s:o}", "network", def), NULL);
                        bench_series_add(&up[k], bench_now_ms() - t0);
                        if (k == WITH_DHCP) {
                                double a = dns_answer_ms(gw, name);
                                if (a >= 0) {
                                        answered++;
                                        bench_series_add(&dns, a);
                                }
                        }
                }
                for (int k = 0; k < _KIND_MAX; k++) {
                        snprintf(name, sizeof(name), "d%d-%u", k, i);
                        bench_vcall(c, "io.vnet.DestroyNetwork",
                                    json_pack("{s:s}", "name", name), NULL);
                }
        }
        vnet_client_free(c);

        printf("\nvnet DHCP benchmark: network up (io.vnet.CreateNetwork; nat, isolated without an address), "
               "%u of each kind, interleaved\n", n);
        printf("times in ms, call to reply\n\n");
        printf("  %-44s %5s %9s %9s\n", "figure", "n", "median", "p95");
        for (int k = 0; k < _KIND_MAX; k++) {
                char what[64];

                snprintf(what, sizeof(what), "network up, %s", kind_label[k]);
                bench_row(what, &up[k], NULL, TAIL);
        }
        if (dns.n)
                bench_row("  then DNS query to the gateway answered in", &dns, NULL, TAIL);
        printf("  DNS answered within %d ms of the reply: %u of %u\n", ANSWER_MS, answered, n);
        {
                double med = bench_median(&up[WITH_DHCP]);
                char val[64];

                snprintf(val, sizeof(val), "median %.3f ms", med);
                printf("\nsummary\n");
                bench_goal(50, 26, "network up with DHCP, answering: median <= 12 ms", val,
                           med <= 12.0 && answered == n);
        }
        return answered == n ? 0 : 1;
}
