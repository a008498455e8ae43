/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dhcp.h"

static uint32_t host_order(struct in_addr a)
{
        return ntohl(a.s_addr);
}

static uint32_t mask_of(unsigned prefix)
{
        return prefix == 0 ? 0 : ~0u << (32 - prefix);
}

static const char *ntoa(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
        return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN) ?: "?";
}

static bool unicast(uint32_t h)
{
        uint32_t first = h >> 24;
        return first != 0 && first < 224;
}

int vnet_parse_ipv4_addr(const char *s, struct in_addr *out, const char *field,
                         struct vnet_err *e)
{
        char q[64];
        struct in_addr a;

        if (!s || !*s)
                return vnet_err_set(e, field, "invalid %s: must not be empty", field);
        /* inet_pton takes exactly dotted quads: no "10.1", no octal, no 300.1.1.1. */
        if (inet_pton(AF_INET, s, &a) != 1)
                return vnet_err_set(e, field, "invalid %s '%s': not an IPv4 address", field,
                                    vnet_quote(s, q, sizeof(q)));
        if (!unicast(host_order(a)))
                return vnet_err_set(e, field, "invalid %s '%s': not a unicast host address",
                                    field, vnet_quote(s, q, sizeof(q)));
        *out = a;
        return 0;
}

static bool label_ok(const char *s, size_t len)
{
        if (len < 1 || len > VNET_HOSTNAME_MAX || s[0] == '-' || s[len - 1] == '-')
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-'))
                        return false;
        }
        return true;
}

/* In a dhcp-host line dnsmasq reads a field of digits with an optional unit as a lease time
 * and "infinite" and "ignore" as keywords, before it considers a hostname. */
static bool dnsmasq_keyword(const char *s)
{
        size_t len = strlen(s), digits = len;

        if (strcasecmp(s, "infinite") == 0 || strcasecmp(s, "ignore") == 0)
                return true;
        if (len > 1 && strchr("sSmMhHdDwW", s[len - 1]))
                digits--;
        for (size_t i = 0; i < digits; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

int vnet_parse_hostname(const char *s, const char *field, struct vnet_err *e)
{
        char q[80];
        size_t len;

        if (!s || !*s)
                return vnet_err_set(e, field, "invalid %s: must not be empty", field);
        len = strlen(s);
        if (len > VNET_HOSTNAME_MAX)
                return vnet_err_set(e, field, "invalid %s '%s': longer than %d bytes", field,
                                    vnet_quote(s, q, sizeof(q)), VNET_HOSTNAME_MAX);
        if (!label_ok(s, len))
                return vnet_err_set(e, field,
                                    "invalid %s '%s': use letters, digits and '-', not at the "
                                    "start or end",
                                    field, vnet_quote(s, q, sizeof(q)));
        if (dnsmasq_keyword(s))
                return vnet_err_set(e, field,
                                    "invalid %s '%s': a number, a lease time or a dnsmasq "
                                    "keyword cannot be a hostname",
                                    field, vnet_quote(s, q, sizeof(q)));
        return 0;
}

int vnet_parse_domain(const char *s, const char *field, struct vnet_err *e)
{
        char q[80];
        const char *label;
        size_t len;

        if (!s || !*s)
                return vnet_err_set(e, field, "invalid %s: must not be empty", field);
        len = strlen(s);
        if (len > VNET_DOMAIN_MAX)
                return vnet_err_set(e, field, "invalid %s '%s': longer than %d bytes", field,
                                    vnet_quote(s, q, sizeof(q)), VNET_DOMAIN_MAX);
        label = s;
        for (;;) {
                const char *dot = strchr(label, '.');
                size_t llen = dot ? (size_t)(dot - label) : strlen(label);
                if (!label_ok(label, llen))
                        return vnet_err_set(e, field,
                                            "invalid %s '%s': labels of 1 to 63 letters, "
                                            "digits and '-' (not at their start or end), "
                                            "separated by single dots",
                                            field, vnet_quote(s, q, sizeof(q)));
                if (!dot)
                        break;
                label = dot + 1;
        }
        return 0;
}

int vnet_parse_lease_time(const char *s, unsigned *seconds, const char *field,
                          struct vnet_err *e)
{
        static const struct {
                char suffix;
                unsigned long unit;
        } units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
        char q[64], *end;
        unsigned long v = 0, unit = 0;

        if (s && *s >= '0' && *s <= '9') {
                errno = 0;
                v = strtoul(s, &end, 10);
                /* An overflowing count is out of range, not unreadable. */
                if (errno)
                        v = ULONG_MAX;
                if (!*end)
                        unit = 1;
                for (size_t i = 0; *end && !end[1] && i < sizeof(units) / sizeof(units[0]); i++)
                        if (*end == units[i].suffix)
                                unit = units[i].unit;
        }
        if (!unit)
                return vnet_err_set(e, field,
                                    "invalid %s '%s': expected seconds, or a number with m, h "
                                    "or d, e.g. 3600 or 1h",
                                    field, s ? vnet_quote(s, q, sizeof(q)) : "");
        /* Compared before multiplying so that a huge count cannot wrap into range. */
        if (v > VNET_LEASE_MAX / unit || v * unit < VNET_LEASE_MIN)
                return vnet_err_set(e, field,
                                    "invalid %s '%s': must be between 2 minutes and 1 year",
                                    field, vnet_quote(s, q, sizeof(q)));
        *seconds = (unsigned)(v * unit);
        return 0;
}

/* Why a reservation or range address cannot be used on @net, or NULL. */
static const char *subnet_problem(struct in_addr a, const struct vnet_ipv4 *net)
{
        uint32_t m = mask_of(net->prefix), h = host_order(a), gw = host_order(net->addr);

        if ((h & m) != (gw & m))
                return "outside the network's subnet";
        if ((h & ~m) == 0)
                return "the network address";
        if ((h & ~m) == ~m)
                return "the broadcast address";
        return NULL;
}

static int need_ipv4(const struct vnet_ipv4 *net, const char *field, struct vnet_err *e)
{
        if (!net || net->prefix == 0)
                return vnet_err_set(e, field,
                                    "invalid %s: the network has no IPv4 address to serve", field);
        if (net->prefix > 30)
                return vnet_err_set(e, field, "invalid %s: the network's prefix /%u leaves no "
                                    "address for guests", field, net->prefix);
        return 0;
}

static int check_range(struct in_addr start, struct in_addr end, const struct vnet_ipv4 *net,
                       const char *field, struct vnet_err *e)
{
        char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
        const char *why;
        int r;

        r = need_ipv4(net, field, e);
        if (r < 0)
                return r;
        ntoa(start, a);
        ntoa(end, b);
        ntoa(net->addr, g);
        why = subnet_problem(start, net);
        if (why)
                return vnet_err_set(e, field, "invalid %s %s-%s: the start %s is %s (%s/%u)",
                                    field, a, b, a, why, g, net->prefix);
        why = subnet_problem(end, net);
        if (why)
                return vnet_err_set(e, field, "invalid %s %s-%s: the end %s is %s (%s/%u)",
                                    field, a, b, b, why, g, net->prefix);
        if (host_order(start) > host_order(end))
                return vnet_err_set(e, field, "invalid %s %s-%s: the start is after the end",
                                    field, a, b);
        if (host_order(start) <= host_order(net->addr) && host_order(net->addr) <= host_order(end))
                return vnet_err_set(e, field,
                                    "invalid %s %s-%s: contains the gateway %s; leave it out "
                                    "of the range",
                                    field, a, b, g);
        return 0;
}

int vnet_parse_dhcp_range(const char *s, const struct vnet_ipv4 *net, struct in_addr *start,
                          struct in_addr *end, const char *field, struct vnet_err *e)
{
        char q[64], first[INET_ADDRSTRLEN + 1];
        struct in_addr a, b;
        const char *dash;
        size_t len;
        int r;

        if (!s || !*s)
                return vnet_err_set(e, field, "invalid %s: must not be empty", field);
        dash = strchr(s, '-');
        len = dash ? (size_t)(dash - s) : 0;
        if (!dash || len == 0 || len >= sizeof(first))
                return vnet_err_set(e, field,
                                    "invalid %s '%s': expected START-END, e.g. "
                                    "192.168.122.2-192.168.122.254",
                                    field, vnet_quote(s, q, sizeof(q)));
        memcpy(first, s, len);
        first[len] = '\0';
        if (inet_pton(AF_INET, first, &a) != 1 || inet_pton(AF_INET, dash + 1, &b) != 1)
                return vnet_err_set(e, field,
                                    "invalid %s '%s': expected two IPv4 addresses as START-END",
                                    field, vnet_quote(s, q, sizeof(q)));
        r = check_range(a, b, net, field, e);
        if (r < 0)
                return r;
        *start = a;
        *end = b;
        return 0;
}

int vnet_parse_dhcp_host(const char *s, struct vnet_dhcp_host *out, const char *field,
                         struct vnet_err *e)
{
        char q[80], buf[18 + INET_ADDRSTRLEN + VNET_HOSTNAME_MAX + 2];
        struct vnet_dhcp_host h = { 0 };
        char *ip, *name;
        int r;

        if (!s || strlen(s) >= sizeof(buf) || !strchr(s, ','))
                return vnet_err_set(e, field,
                                    "invalid %s '%s': expected MAC,ADDRESS[,HOSTNAME], e.g. "
                                    "52:54:00:12:34:56,192.168.122.10,web",
                                    field, s ? vnet_quote(s, q, sizeof(q)) : "");
        strcpy(buf, s);
        ip = strchr(buf, ',');
        *ip++ = '\0';
        name = strchr(ip, ',');
        if (name)
                *name++ = '\0';
        r = vnet_parse_mac(buf, h.mac, field, e);
        if (r < 0)
                return r;
        r = vnet_parse_ipv4_addr(ip, &h.ip, field, e);
        if (r < 0)
                return r;
        if (name) {
                r = vnet_parse_hostname(name, field, e);
                if (r < 0)
                        return r;
                strcpy(h.hostname, name);
        }
        *out = h;
        return 0;
}

unsigned vnet_dhcp_range_size(const struct vnet_dhcp *d)
{
        if (!d->enabled || host_order(d->end) < host_order(d->start))
                return 0;
        return host_order(d->end) - host_order(d->start) + 1;
}

int vnet_dhcp_init_defaults(struct vnet_dhcp *d, const char *netname,
                            const struct vnet_ipv4 *net)
{
        memset(d, 0, sizeof(*d));
        d->lease_seconds = VNET_LEASE_DEFAULT;
        /* The network's name, made a DNS name if it is not one ('_' is not allowed there),
         * so that every network has a domain without being asked for one. */
        if (netname) {
                snprintf(d->domain, sizeof(d->domain), "%s", netname);
                for (char *p = d->domain; *p; p++)
                        if (*p == '_')
                                *p = '-';
                if (vnet_parse_domain(d->domain, "domain", NULL) < 0)
                        snprintf(d->domain, sizeof(d->domain), "vnet");
        }
        if (!net || net->prefix == 0)
                return 0;
        if (net->prefix > 30)
                return -EINVAL;

        uint32_t m = mask_of(net->prefix), gw = host_order(net->addr);
        uint32_t first = (gw & m) + 1, last = (gw | ~m) - 1;
        /* The gateway splits the subnet in two; the larger side is the one a gateway at
         * either end of the subnet (the usual choice) leaves whole. */
        bool below = gw - first > last - gw;
        d->start.s_addr = htonl(below ? first : gw + 1);
        d->end.s_addr = htonl(below ? gw - 1 : last);
        d->enabled = true;
        return 0;
}

static bool same_mac(const uint8_t a[6], const uint8_t b[6])
{
        return memcmp(a, b, 6) == 0;
}

/* One reservation on its own: MAC, address within the network, hostname. */
static int check_host(const struct vnet_dhcp_host *h, const struct vnet_ipv4 *net,
                      struct vnet_err *e)
{
        char a[INET_ADDRSTRLEN], m[18], g[INET_ADDRSTRLEN];
        const char *why;
        int r;

        vnet_mac_format(h->mac, m);
        if ((h->mac[0] & 1) || !(h->mac[0] | h->mac[1] | h->mac[2] | h->mac[3] | h->mac[4] |
                                 h->mac[5]))
                return vnet_err_set(e, "mac", "invalid mac %s of a DHCP reservation: multicast "
                                    "or zero address", m);
        r = need_ipv4(net, "address", e);
        if (r < 0)
                return r;
        ntoa(h->ip, a);
        ntoa(net->addr, g);
        why = subnet_problem(h->ip, net);
        if (why)
                return vnet_err_set(e, "address", "invalid address %s reserved for %s: %s "
                                    "(%s/%u)", a, m, why, g, net->prefix);
        if (h->ip.s_addr == net->addr.s_addr)
                return vnet_err_set(e, "address", "invalid address %s reserved for %s: it is the "
                                    "gateway", a, m);
        /* A struct read from elsewhere may lack the terminator its parser would have put. */
        if (!memchr(h->hostname, '\0', sizeof(h->hostname)))
                return vnet_err_set(e, "hostname", "invalid hostname reserved for %s: longer "
                                    "than %d bytes", m, VNET_HOSTNAME_MAX);
        if (h->hostname[0])
                return vnet_parse_hostname(h->hostname, "hostname", e);
        return 0;
}

/* -EEXIST when @h clashes with one of the first @n reservations of @d. */
static int check_unique(const struct vnet_dhcp *d, unsigned n, const struct vnet_dhcp_host *h,
                        struct vnet_err *e)
{
        char a[INET_ADDRSTRLEN], m[18], o[18];

        vnet_mac_format(h->mac, m);
        for (unsigned i = 0; i < n; i++) {
                const struct vnet_dhcp_host *x = &d->hosts[i];
                if (same_mac(x->mac, h->mac)) {
                        vnet_err_set(e, "mac", "invalid mac %s: it has a DHCP reservation "
                                     "already", m);
                        return -EEXIST;
                }
                if (x->ip.s_addr == h->ip.s_addr) {
                        vnet_err_set(e, "address", "invalid address %s for %s: reserved for "
                                     "%s already", ntoa(h->ip, a), m, vnet_mac_format(x->mac, o));
                        return -EEXIST;
                }
                if (h->hostname[0] && strcasecmp(x->hostname, h->hostname) == 0) {
                        vnet_err_set(e, "hostname", "invalid hostname %s for %s: reserved for "
                                     "%s already", h->hostname, m, vnet_mac_format(x->mac, o));
                        return -EEXIST;
                }
        }
        return 0;
}

static int check_forwarder(struct in_addr a, const struct vnet_ipv4 *net, struct vnet_err *e)
{
        char s[INET_ADDRSTRLEN];

        if (!unicast(host_order(a)))
                return vnet_err_set(e, "dns-forwarder", "invalid dns-forwarder %s: not a "
                                    "unicast host address", ntoa(a, s));
        if (net && net->prefix && a.s_addr == net->addr.s_addr)
                return vnet_err_set(e, "dns-forwarder", "invalid dns-forwarder %s: it is this "
                                    "network's own DNS server", ntoa(a, s));
        return 0;
}

int vnet_dhcp_validate(const struct vnet_dhcp *d, const struct vnet_ipv4 *net,
                       struct vnet_err *e)
{
        char s[INET_ADDRSTRLEN];
        int r;

        if (d->lease_seconds < VNET_LEASE_MIN || d->lease_seconds > VNET_LEASE_MAX)
                return vnet_err_set(e, "lease-time", "invalid lease-time %us: must be between "
                                    "2 minutes and 1 year", d->lease_seconds);
        if (!memchr(d->domain, '\0', sizeof(d->domain)))
                return vnet_err_set(e, "domain", "invalid domain: longer than %d bytes",
                                    VNET_DOMAIN_MAX);
        if (!d->domain[0])
                return vnet_err_set(e, "domain", "invalid domain: none given, and the network "
                                    "name is not a DNS name; give one, e.g. --domain lab");
        r = vnet_parse_domain(d->domain, "domain", e);
        if (r < 0)
                return r;

        if (d->n_forwarders > VNET_DHCP_FORWARDERS_MAX)
                return vnet_err_set(e, "dns-forwarder", "invalid dns-forwarder: at most %d",
                                    VNET_DHCP_FORWARDERS_MAX);
        for (unsigned i = 0; i < d->n_forwarders; i++) {
                r = check_forwarder(d->forwarders[i], net, e);
                if (r < 0)
                        return r;
                for (unsigned j = 0; j < i; j++)
                        if (d->forwarders[j].s_addr == d->forwarders[i].s_addr)
                                return vnet_err_set(e, "dns-forwarder", "invalid dns-forwarder "
                                                    "%s: listed twice",
                                                    ntoa(d->forwarders[i], s));
        }

        if (d->enabled) {
                r = check_range(d->start, d->end, net, "dhcp", e);
                if (r < 0)
                        return r;
        }

        if (d->n_hosts > VNET_DHCP_HOSTS_MAX)
                return vnet_err_set(e, "address", "too many DHCP reservations: at most %d",
                                    VNET_DHCP_HOSTS_MAX);
        for (unsigned i = 0; i < d->n_hosts; i++) {
                r = check_host(&d->hosts[i], net, e);
                if (r < 0)
                        return r;
                if (check_unique(d, i, &d->hosts[i], e) < 0)
                        return -EINVAL;
        }
        return 0;
}

int vnet_dhcp_host_add(struct vnet_dhcp *d, const struct vnet_ipv4 *net,
                       const struct vnet_dhcp_host *h, struct vnet_err *e)
{
        int r;

        r = check_host(h, net, e);
        if (r < 0)
                return r;
        r = check_unique(d, d->n_hosts, h, e);
        if (r < 0)
                return r;
        if (d->n_hosts >= VNET_DHCP_HOSTS_MAX) {
                vnet_err_set(e, "address", "too many DHCP reservations: at most %d",
                             VNET_DHCP_HOSTS_MAX);
                return -ENOSPC;
        }
        d->hosts[d->n_hosts++] = *h;
        return 0;
}

int vnet_dhcp_host_remove(struct vnet_dhcp *d, const uint8_t mac[6])
{
        const struct vnet_dhcp_host *h = vnet_dhcp_host_find_mac(d, mac);
        unsigned i;

        if (!h)
                return -ENOENT;
        i = (unsigned)(h - d->hosts);
        /* Order kept: the hosts file then changes only where the reservation was. */
        memmove(&d->hosts[i], &d->hosts[i + 1], (d->n_hosts - i - 1) * sizeof(d->hosts[0]));
        d->n_hosts--;
        memset(&d->hosts[d->n_hosts], 0, sizeof(d->hosts[0]));
        return 0;
}

const struct vnet_dhcp_host *vnet_dhcp_host_find_mac(const struct vnet_dhcp *d,
                                                     const uint8_t mac[6])
{
        for (unsigned i = 0; i < d->n_hosts && i < VNET_DHCP_HOSTS_MAX; i++)
                if (same_mac(d->hosts[i].mac, mac))
                        return &d->hosts[i];
        return NULL;
}

int vnet_dhcp_forwarder_add(struct vnet_dhcp *d, const struct vnet_ipv4 *net, struct in_addr a,
                            struct vnet_err *e)
{
        char s[INET_ADDRSTRLEN];
        int r;

        r = check_forwarder(a, net, e);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < d->n_forwarders; i++)
                if (d->forwarders[i].s_addr == a.s_addr) {
                        vnet_err_set(e, "dns-forwarder", "invalid dns-forwarder %s: listed "
                                     "twice", ntoa(a, s));
                        return -EEXIST;
                }
        if (d->n_forwarders >= VNET_DHCP_FORWARDERS_MAX) {
                vnet_err_set(e, "dns-forwarder", "invalid dns-forwarder %s: at most %d",
                             ntoa(a, s), VNET_DHCP_FORWARDERS_MAX);
                return -ENOSPC;
        }
        d->forwarders[d->n_forwarders++] = a;
        return 0;
}

void vnet_dhcp_input_init(struct vnet_dhcp_input *in)
{
        memset(in, 0, sizeof(*in));
        in->enabled = -1;
        in->dns = -1;
}

int vnet_dhcp_resolve(const struct vnet_dhcp_input *in, const char *netname,
                      const struct vnet_ipv4 *net, struct vnet_dhcp *out, struct vnet_err *e)
{
        int r;

        r = vnet_dhcp_init_defaults(out, netname, net);
        if (r < 0)
                return vnet_err_set(e, "ipv4", "invalid ipv4: no room for guests");
        if (!net || !net->prefix) {
                if (in->enabled == 1 || in->range[0] || in->n_hosts)
                        return vnet_err_set(e, "dhcp", "invalid dhcp: the network has no IPv4 "
                                            "address to serve");
                out->enabled = false;
                return 0;
        }
        if (in->enabled >= 0)
                out->enabled = in->enabled;
        if (in->dns >= 0)
                out->dns_disabled = !in->dns;
        if (in->range[0]) {
                r = vnet_parse_dhcp_range(in->range, net, &out->start, &out->end, "dhcp", e);
                if (r < 0)
                        return r;
        }
        if (in->lease_seconds)
                out->lease_seconds = in->lease_seconds;
        if (in->has_domain)
                snprintf(out->domain, sizeof(out->domain), "%s", in->domain);
        for (unsigned i = 0; i < in->n_forwarders; i++) {
                r = vnet_dhcp_forwarder_add(out, net, in->forwarders[i], e);
                if (r < 0)
                        return r;
        }
        for (unsigned i = 0; i < in->n_hosts; i++) {
                r = vnet_dhcp_host_add(out, net, &in->hosts[i], e);
                if (r < 0)
                        return r == -EINVAL ? r : -EINVAL;
        }
        return vnet_dhcp_validate(out, net, e);
}
