/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmasq_conf.h"

static const char *ntoa(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
        return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN) ?: "?";
}

/* A path dnsmasq reads as one value: absolute, printable, and free of what its option
 * parser treats specially (',' splits values, '#' starts a comment, quotes and backslashes
 * are unquoted, spaces are trimmed). */
static int check_path(const char *p, const char *field, struct vnet_err *e)
{
        size_t len;

        if (!p || p[0] != '/')
                return vnet_err_set(e, field, "invalid %s: an absolute path is needed", field);
        len = strlen(p);
        if (len >= PATH_MAX)
                return vnet_err_set(e, field, "invalid %s: longer than %d bytes", field,
                                    PATH_MAX - 1);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)p[i];
                if (c <= 0x20 || c >= 0x7f || c == ',' || c == '#' || c == '"' || c == '\'' ||
                    c == '\\')
                        return vnet_err_set(e, field,
                                            "invalid %s: no spaces, ',', '#', quotes, "
                                            "backslashes or non-ASCII bytes in paths given "
                                            "to dnsmasq",
                                            field);
        }
        return 0;
}

static bool hands_out_router(enum vnet_mode m)
{
        switch (m) {
        case VNET_MODE_NAT:
        case VNET_MODE_ROUTED:
        case VNET_MODE_OPEN:
                return true;
        case VNET_MODE_ISOLATED:
        case _VNET_MODE_MAX:
                break;
        }
        return false;
}

static int conf_check(const struct vnet_dnsmasq_conf *c, struct vnet_err *e)
{
        struct vnet_network n;
        int r;

        if (!c->dhcp)
                return vnet_err_set(e, "dhcp", "invalid dhcp: no DHCP/DNS settings given");
        /* The model's own checks for what the network contributes, then the bridge, which
         * the model allows to be unset but dnsmasq cannot do without. */
        vnet_network_init(&n, NULL);
        snprintf(n.name, sizeof(n.name), "%s", c->network ? c->network : "");
        if (c->network && strlen(c->network) >= sizeof(n.name))
                return vnet_err_set(e, "name", "invalid name: longer than %d characters",
                                    VNET_NAME_MAX);
        n.mode = c->mode;
        n.ipv4 = c->ipv4;
        n.mtu = c->mtu;
        n.dhcp = *c->dhcp;
        r = vnet_network_validate(&n, e);
        if (r < 0)
                return r;
        r = vnet_parse_ifname(c->bridge, "bridge", e);
        if (r < 0)
                return r;
        if (c->ipv4.prefix == 0)
                return vnet_err_set(e, "ipv4", "invalid ipv4: dnsmasq serves networks with an "
                                    "IPv4 address only");
        r = check_path(c->pid_file, "pid-file", e);
        if (r < 0 || !c->dhcp->enabled)
                return r;
        r = check_path(c->lease_file, "lease-file", e);
        if (r < 0)
                return r;
        r = check_path(c->hosts_file, "hosts-file", e);
        if (r < 0)
                return r;
        return check_path(c->opts_file, "opts-file", e);
}

static void write_dns(FILE *f, const struct vnet_dnsmasq_conf *c)
{
        const struct vnet_dhcp *d = c->dhcp;
        char a[INET_ADDRSTRLEN];

        fprintf(f, "\n# Guests' names: a DHCP client is known as NAME and NAME.DOMAIN. The "
                   "domain is\n"
                   "# answered here and never forwarded, so a name missing from it fails at once.\n"
                   "domain=%s\n"
                   "local=/%s/\n",
                d->domain, d->domain);
        if (!d->n_forwarders) {
                fprintf(f, "# No upstream resolver given: with no server= and no-resolv there is "
                           "nowhere to\n"
                           "# forward to, so other names are REFUSED at once instead of "
                           "timing out.\n");
                return;
        }
        fprintf(f, "# The upstream resolvers given for this network, and no others. A bare name "
                   "is a\n"
                   "# guest's and stays here, also when no guest has it.\n"
                   "domain-needed\n");
        for (unsigned i = 0; i < d->n_forwarders; i++)
                fprintf(f, "server=%s\n", ntoa(d->forwarders[i], a));
}

static void write_dhcp(FILE *f, const struct vnet_dnsmasq_conf *c)
{
        const struct vnet_dhcp *d = c->dhcp;
        char s[INET_ADDRSTRLEN], t[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN];
        struct in_addr mask = { .s_addr = htonl(~0u << (32 - c->ipv4.prefix)) };

        if (!d->enabled) {
                fprintf(f, "\n# DHCP is off for this network: DNS only.\n");
                return;
        }
        fprintf(f, "\n# DHCP. The netmask is given so that the range does not depend on the "
                   "addresses\n"
                   "# the bridge happens to have when dnsmasq starts.\n"
                   "dhcp-range=%s,%s,%s,%u\n",
                ntoa(d->start, s), ntoa(d->end, t), ntoa(mask, m), d->lease_seconds);
        /* Not counted from the reservations held now: a reservation change must stay a
         * hosts-file rewrite and a SIGHUP, with the configuration (and the process) as is. */
        fprintf(f, "# dnsmasq caps leases at 1000 unless told: room for the range and as many "
                   "reservations\n# as a network may have.\n"
                   "dhcp-lease-max=%u\n",
                vnet_dhcp_range_size(d) + VNET_DHCP_HOSTS_MAX);
        if (c->mtu != VNET_MTU_DEFAULT)
                fprintf(f, "# Guests must use the bridge's MTU: larger frames would be dropped, "
                           "smaller ones\n"
                           "# waste the path (option 26).\n"
                           "dhcp-option=option:mtu,%u\n",
                        c->mtu);
        fprintf(f, "# The only DHCP server on this bridge: a client asking for a lease dnsmasq "
                   "does not\n"
                   "# know (lost lease file, moved guest) gets an answer, not a timeout, and "
                   "the lease\n"
                   "# database rebuilds itself from renewals.\n"
                   "dhcp-authoritative\n"
                   "# One round trip (DISCOVER, ACK) for clients that ask for it (RFC 4039); "
                   "safe because\n"
                   "# no other server can have offered the address.\n"
                   "dhcp-rapid-commit\n"
                   "# By default dnsmasq pings an address before offering it and waits 3 s, "
                   "answering\n"
                   "# nothing else; the addresses of this bridge are vnet's to give.\n"
                   "no-ping\n");
        fprintf(f, "# Leases outlive dnsmasq and vnetd restarts (state directory). dnsmasq "
                   "rewrites and\n"
                   "# fsyncs this file on every lease change; it has no option to skip that.\n"
                   "dhcp-leasefile=%s\n"
                   "# Reservations live in their own file: changing one is a rewrite and a "
                   "SIGHUP, not a\n"
                   "# restart that would drop DNS for every guest.\n"
                   "dhcp-hostsfile=%s\n"
                   "# So do the options that follow the mode (the router: isolated networks "
                   "hand out\n"
                   "# none), so that nothing here depends on the mode and a mode change is a "
                   "rewrite and\n"
                   "# a SIGHUP too.\n"
                   "dhcp-optsfile=%s\n",
                c->lease_file, c->hosts_file, c->opts_file);
}

static void write_conf(FILE *f, const struct vnet_dnsmasq_conf *c)
{
        fprintf(f, "# dnsmasq for vnet network %s, generated by vnetd: changes here are "
                   "overwritten.\n"
                   "# Started as `dnsmasq --conf-file=THIS`: naming the file keeps "
                   "/etc/dnsmasq.conf\n"
                   "# (and the /etc/dnsmasq.d it may include) out.\n"
                   "\n"
                   "# vnetd supervises and reaps it; a daemonized dnsmasq would be "
                   "reparented to PID 1.\n"
                   "keep-in-foreground\n"
                   "# Not the default pid file, which is the host's own dnsmasq's; vnetd "
                   "finds this\n"
                   "# instance by it when vnetd restarts.\n"
                   "pid-file=%s\n",
                c->network, c->pid_file);
        fprintf(f, "\n# The bridge alone: a dnsmasq or resolver of the host keeps ports 53 and "
                   "67 on every\n"
                   "# other interface. interface= adds lo implicitly, hence except-interface. "
                   "bind-dynamic\n"
                   "# binds the bridge's addresses only, and follows them as they come and go.\n"
                   "interface=%s\n"
                   "except-interface=lo\n"
                   "bind-dynamic\n",
                c->bridge);
        fprintf(f, "\n# Guests see what the network defines, not the host's names (/etc/hosts) "
                   "or its\n"
                   "# resolvers (/etc/resolv.conf).\n"
                   "no-hosts\n"
                   "no-resolv\n");
        if (c->dhcp->dns_disabled)
                fprintf(f, "\n# DNS is off for this network: no DNS server at all.\nport=0\n");
        else
                write_dns(f, c);
        write_dhcp(f, c);
}

/* Runs @write into a fresh string; the one place that owns the stream and its buffer. */
static int render(void (*write)(FILE *, const void *), const void *arg, char **out)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f;
        int r = 0;

        f = open_memstream(&buf, &len);
        if (!f)
                return -errno;
        write(f, arg);
        if (ferror(f))
                r = -ENOMEM;
        if (fclose(f) != 0 && r == 0)
                r = -ENOMEM;
        if (r < 0) {
                free(buf);
                return r;
        }
        *out = buf;
        return 0;
}

static void write_conf_any(FILE *f, const void *c)
{
        write_conf(f, c);
}

static void write_hosts(FILE *f, const void *arg)
{
        const struct vnet_dhcp *d = arg;
        char m[18], a[INET_ADDRSTRLEN];

        for (unsigned i = 0; i < d->n_hosts; i++) {
                const struct vnet_dhcp_host *h = &d->hosts[i];
                fprintf(f, "%s,%s%s%s\n", vnet_mac_format(h->mac, m), ntoa(h->ip, a),
                        h->hostname[0] ? "," : "", h->hostname);
        }
}

/* The options that depend on the mode, nothing else: the configuration must not. */
static void write_opts(FILE *f, const void *arg)
{
        const struct vnet_dnsmasq_conf *c = arg;
        char a[INET_ADDRSTRLEN];

        fprintf(f, "# DHCP options of vnet network %s that follow its mode, generated by "
                   "vnetd: changes\n"
                   "# here are overwritten. One dhcp-option value a line; re-read on SIGHUP.\n",
                c->network);
        if (hands_out_router(c->mode))
                fprintf(f, "# Guests reach the outside through the gateway.\n"
                           "option:router,%s\n",
                        ntoa(c->ipv4.addr, a));
        else
                fprintf(f, "# Isolated: nothing is forwarded, so no default route. An empty "
                           "option 3 stops\n"
                           "# dnsmasq from offering its own address as the router.\n"
                           "option:router\n");
}

int vnet_dnsmasq_conf_render(const struct vnet_dnsmasq_conf *c, char **out, struct vnet_err *e)
{
        int r;

        r = conf_check(c, e);
        if (r < 0)
                return r;
        return render(write_conf_any, c, out);
}

int vnet_dnsmasq_hosts_render(const struct vnet_dhcp *d, const struct vnet_ipv4 *net,
                              char **out, struct vnet_err *e)
{
        int r;

        r = vnet_dhcp_validate(d, net, e);
        if (r < 0)
                return r;
        return render(write_hosts, d, out);
}

int vnet_dnsmasq_opts_render(const struct vnet_dnsmasq_conf *c, char **out, struct vnet_err *e)
{
        int r;

        r = conf_check(c, e);
        if (r < 0)
                return r;
        return render(write_opts, c, out);
}
