/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dhcp.h"
#include "model.h"

static const char *const mode_names[_VNET_MODE_MAX] = {
        [VNET_MODE_NAT] = "nat",
        [VNET_MODE_ROUTED] = "routed",
        [VNET_MODE_ISOLATED] = "isolated",
        [VNET_MODE_OPEN] = "open",
};

const char *vnet_mode_to_string(enum vnet_mode m)
{
        if ((unsigned)m >= _VNET_MODE_MAX)
                return NULL;
        return mode_names[m];
}

int vnet_mode_from_string(const char *s)
{
        if (!s)
                return -EINVAL;
        for (int i = 0; i < _VNET_MODE_MAX; i++)
                if (strcmp(s, mode_names[i]) == 0)
                        return i;
        return -EINVAL;
}

int vnet_err_set(struct vnet_err *e, const char *field, const char *fmt, ...)
{
        va_list ap;

        if (!e)
                return -EINVAL;
        snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof(e->message), fmt, ap);
        va_end(ap);
        return -EINVAL;
}

void vnet_network_init(struct vnet_network *n, const char *name)
{
        memset(n, 0, sizeof(*n));
        if (name)
                snprintf(n->name, sizeof(n->name), "%s", name);
        n->mode = VNET_MODE_NAT;
        n->mtu = VNET_MTU_DEFAULT;
}

/* Printable form of untrusted input for an error message: control bytes would let a
 * caller forge log lines, so they are shown escaped, and long input is cut. */
const char *vnet_quote(const char *s, char *buf, size_t len)
{
        size_t o = 0;

        if (!s)
                s = "";
        for (; *s && o + 5 < len; s++) {
                unsigned char c = (unsigned char)*s;
                if (c < 0x20 || c == 0x7f || c == '\\')
                        o += snprintf(buf + o, len - o, "\\x%02x", c);
                else
                        buf[o++] = (char)c;
        }
        if (*s && o + 4 <= len) {
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o < len ? o : len - 1] = '\0';
        return buf;
}

int vnet_parse_name(const char *s, const char *field, struct vnet_err *e)
{
        char q[64];
        size_t len;

        if (!s || !*s)
                return vnet_err_set(e, field, "invalid %s: must not be empty", field);
        len = strlen(s);
        if (len > VNET_NAME_MAX)
                return vnet_err_set(e, field, "invalid %s '%s': longer than %d characters", field,
                                    vnet_quote(s, q, sizeof(q)), VNET_NAME_MAX);
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9');
                if (alnum || (i > 0 && (c == '_' || c == '.' || c == '-')))
                        continue;
                return vnet_err_set(e, field,
                                    "invalid %s '%s': use letters, digits, '_', '.' and '-', "
                                    "starting with a letter or digit",
                                    field, vnet_quote(s, q, sizeof(q)));
        }
        return 0;
}

int vnet_parse_ifname(const char *s, const char *field, struct vnet_err *e)
{
        char q[64];
        size_t len;

        if (!s || !*s)
                return vnet_err_set(e, field, "invalid %s: must not be empty", field);
        len = strlen(s);
        /* Checked first: the kernel would silently refuse or truncate anything longer. */
        if (len > VNET_IFNAME_MAX)
                return vnet_err_set(e, field,
                                    "invalid %s '%s': interface names have at most %d bytes",
                                    field, vnet_quote(s, q, sizeof(q)), VNET_IFNAME_MAX);
        if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return vnet_err_set(e, field, "invalid %s '%s'", field, s);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c <= 0x20 || c >= 0x7f || c == '/' || c == ':' || c == '%' || c == '\\' ||
                    c == '"' || c == '\'' || c == '*' || c == '?')
                        return vnet_err_set(e, field,
                                            "invalid %s '%s': no spaces, '/', ':', quotes or "
                                            "control characters",
                                            field, vnet_quote(s, q, sizeof(q)));
        }
        return 0;
}

static in_addr_t prefix_mask(unsigned prefix)
{
        return prefix == 0 ? 0 : htonl(~0u << (32 - prefix));
}

struct in_addr vnet_ipv4_network(const struct vnet_ipv4 *a)
{
        struct in_addr r = { .s_addr = a->addr.s_addr & prefix_mask(a->prefix) };
        return r;
}

bool vnet_ipv4_overlap(struct in_addr a, unsigned alen, struct in_addr b, unsigned blen)
{
        in_addr_t m = prefix_mask(alen < blen ? alen : blen);
        return (a.s_addr & m) == (b.s_addr & m);
}

int vnet_parse_ipv4_gateway(const char *s, struct vnet_ipv4 *out, const char *field,
                            struct vnet_err *e)
{
        char q[64], addr[INET_ADDRSTRLEN + 1];
        const char *slash;
        struct in_addr a;
        unsigned long prefix;
        char *end;
        size_t alen;

        if (!s || !*s)
                return vnet_err_set(e, field, "invalid %s: must not be empty", field);
        slash = strchr(s, '/');
        if (!slash)
                return vnet_err_set(e, field,
                                    "invalid %s '%s': expected ADDRESS/PREFIX, e.g. "
                                    "192.168.122.1/24",
                                    field, vnet_quote(s, q, sizeof(q)));
        alen = (size_t)(slash - s);
        if (alen == 0 || alen >= sizeof(addr))
                return vnet_err_set(e, field, "invalid %s '%s': not an IPv4 address", field,
                                    vnet_quote(s, q, sizeof(q)));
        memcpy(addr, s, alen);
        addr[alen] = '\0';
        /* inet_pton takes exactly dotted quads: no "10.1", no octal, no 300.1.1.1. */
        if (inet_pton(AF_INET, addr, &a) != 1)
                return vnet_err_set(e, field, "invalid %s '%s': not an IPv4 address", field,
                                    vnet_quote(s, q, sizeof(q)));
        errno = 0;
        if (slash[1] < '0' || slash[1] > '9')
                return vnet_err_set(e, field, "invalid %s '%s': prefix length is not a number",
                                    field, vnet_quote(s, q, sizeof(q)));
        prefix = strtoul(slash + 1, &end, 10);
        if (errno || *end)
                return vnet_err_set(e, field, "invalid %s '%s': prefix length is not a number",
                                    field, vnet_quote(s, q, sizeof(q)));
        if (prefix < 1 || prefix > 30)
                return vnet_err_set(e, field,
                                    "invalid %s '%s': prefix length must be 1..30 for a "
                                    "network with guests",
                                    field, vnet_quote(s, q, sizeof(q)));

        uint32_t h = ntohl(a.s_addr);
        uint32_t host = h & ~ntohl(prefix_mask((unsigned)prefix));
        uint32_t first = h >> 24;
        if (first == 0 || first == 127 || first >= 224)
                return vnet_err_set(e, field,
                                    "invalid %s '%s': not a unicast address usable on a bridge",
                                    field, vnet_quote(s, q, sizeof(q)));
        if (host == 0)
                return vnet_err_set(e, field,
                                    "invalid %s '%s': this is the network address; give the "
                                    "gateway, e.g. the first host address",
                                    field, vnet_quote(s, q, sizeof(q)));
        if (host == ~ntohl(prefix_mask((unsigned)prefix)))
                return vnet_err_set(e, field, "invalid %s '%s': this is the broadcast address",
                                    field, vnet_quote(s, q, sizeof(q)));
        out->addr = a;
        out->prefix = (unsigned)prefix;
        return 0;
}

int vnet_parse_mac(const char *s, uint8_t mac[6], const char *field, struct vnet_err *e)
{
        char q[64];
        unsigned v[6];
        int n = -1;

        if (!s || strlen(s) != 17 ||
            sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                   &n) != 6 ||
            n != 17)
                return vnet_err_set(e, field,
                                    "invalid %s '%s': expected six hex bytes like "
                                    "52:54:00:12:34:56",
                                    field, s ? vnet_quote(s, q, sizeof(q)) : "");
        for (int i = 0; i < 17; i++)
                if ((i % 3 == 2) ? s[i] != ':' : !strchr("0123456789abcdefABCDEF", s[i]))
                        return vnet_err_set(e, field,
                                            "invalid %s '%s': expected six hex bytes like "
                                            "52:54:00:12:34:56",
                                            field, vnet_quote(s, q, sizeof(q)));
        if (v[0] & 1)
                return vnet_err_set(e, field, "invalid %s '%s': a multicast address", field, s);
        if ((v[0] | v[1] | v[2] | v[3] | v[4] | v[5]) == 0)
                return vnet_err_set(e, field, "invalid %s '%s': the zero address", field, s);
        for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t)v[i];
        return 0;
}

static int parse_uint(const char *s, unsigned long *v)
{
        char *end;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        *v = strtoul(s, &end, 10);
        if (errno || *end)
                return -EINVAL;
        return 0;
}

int vnet_parse_mtu(const char *s, unsigned *mtu, const char *field, struct vnet_err *e)
{
        char q[64];
        unsigned long v;

        if (parse_uint(s, &v) < 0 || v < VNET_MTU_MIN || v > VNET_MTU_MAX)
                return vnet_err_set(e, field, "invalid %s '%s': must be a number in %d..%d",
                                    field, s ? vnet_quote(s, q, sizeof(q)) : "", VNET_MTU_MIN,
                                    VNET_MTU_MAX);
        *mtu = (unsigned)v;
        return 0;
}

int vnet_parse_bool(const char *s, bool *b, const char *field, struct vnet_err *e)
{
        static const char *const yes[] = { "yes", "true", "on", "1" };
        static const char *const no[] = { "no", "false", "off", "0" };
        char q[64];

        for (size_t i = 0; s && i < 4; i++) {
                if (strcasecmp(s, yes[i]) == 0) {
                        *b = true;
                        return 0;
                }
                if (strcasecmp(s, no[i]) == 0) {
                        *b = false;
                        return 0;
                }
        }
        return vnet_err_set(e, field, "invalid %s '%s': expected yes or no", field,
                            s ? vnet_quote(s, q, sizeof(q)) : "");
}

int vnet_parse_principal(const char *s, const char *field, struct vnet_err *e)
{
        char q[64];
        size_t len = s ? strlen(s) : 0;
        bool numeric = len > 0;

        for (size_t i = 0; i < len; i++)
                numeric = numeric && s[i] >= '0' && s[i] <= '9';
        /* (uid_t)-1 means "no id" to the kernel: the largest id is one less. */
        if (numeric)
                return len <= 10 && strtoull(s, NULL, 10) <= 0xfffffffeULL
                               ? 0
                               : vnet_err_set(e, field, "invalid %s '%s': id out of range",
                                              field, vnet_quote(s, q, sizeof(q)));
        if (len == 0 || len > VNET_PRINCIPAL_MAX)
                return vnet_err_set(e, field, "invalid %s '%s': expected a name or an id of at "
                                    "most %d characters", field, s ? vnet_quote(s, q, sizeof(q)) : "",
                                    VNET_PRINCIPAL_MAX);
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                          (i > 0 && ((c >= '0' && c <= '9') || c == '.' || c == '-'));
                if (!ok)
                        return vnet_err_set(e, field, "invalid %s '%s': not a user or group name",
                                            field, vnet_quote(s, q, sizeof(q)));
        }
        return 0;
}

int vnet_principals_add(struct vnet_principals *p, const char *s, const char *field,
                        struct vnet_err *e)
{
        int r = vnet_parse_principal(s, field, e);

        if (r < 0)
                return r;
        for (unsigned i = 0; i < p->n; i++)
                if (strcmp(p->v[i], s) == 0)
                        return vnet_err_set(e, field, "invalid %s: '%s' is given twice", field, s);
        if (p->n >= VNET_ALLOW_MAX)
                return vnet_err_set(e, field, "invalid %s: at most %d entries", field,
                                    VNET_ALLOW_MAX);
        snprintf(p->v[p->n++], sizeof(p->v[0]), "%s", s);
        return 0;
}

int vnet_network_validate(const struct vnet_network *n, struct vnet_err *e)
{
        char ifn[VNET_IFNAME_MAX + 1];
        int r;

        r = vnet_parse_name(n->name, "name", e);
        if (r < 0)
                return r;
        if (n->bridge[0]) {
                r = vnet_parse_ifname(n->bridge, "bridge", e);
                if (r < 0)
                        return r;
        }
        if ((unsigned)n->mode >= _VNET_MODE_MAX)
                return vnet_err_set(e, "mode", "invalid mode: use nat, routed, isolated or open");
        if (n->mtu < VNET_MTU_MIN || n->mtu > VNET_MTU_MAX)
                return vnet_err_set(e, "mtu", "invalid mtu %u: must be in %d..%d", n->mtu,
                                    VNET_MTU_MIN, VNET_MTU_MAX);
        if (n->has_mac && ((n->mac[0] & 1) || !(n->mac[0] | n->mac[1] | n->mac[2] | n->mac[3] |
                                                n->mac[4] | n->mac[5])))
                return vnet_err_set(e, "mac", "invalid mac: multicast or zero address");
        if (n->ipv4.prefix) {
                char buf[32];
                struct vnet_ipv4 tmp;
                snprintf(buf, sizeof(buf), "%s/%u", inet_ntop(AF_INET, &n->ipv4.addr, ifn,
                                                              sizeof(ifn)) ?: "", n->ipv4.prefix);
                r = vnet_parse_ipv4_gateway(buf, &tmp, "ipv4", e);
                if (r < 0)
                        return r;
                r = vnet_dhcp_validate(&n->dhcp, &n->ipv4, e);
                if (r < 0)
                        return r;
        } else if (n->mode == VNET_MODE_NAT || n->mode == VNET_MODE_ROUTED) {
                return vnet_err_set(e, "ipv4", "invalid ipv4: a %s network needs an address, "
                                    "e.g. --ipv4 192.168.100.1/24",
                                    vnet_mode_to_string(n->mode));
        }
        return 0;
}

char *vnet_mac_format(const uint8_t mac[6], char *buf)
{
        sprintf(buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
                mac[5]);
        return buf;
}

char *vnet_ipv4_format(const struct vnet_ipv4 *a, char *buf)
{
        char s[INET_ADDRSTRLEN];

        if (!a->prefix) {
                buf[0] = '\0';
                return buf;
        }
        inet_ntop(AF_INET, &a->addr, s, sizeof(s));
        sprintf(buf, "%s/%u", s, a->prefix);
        return buf;
}

void vnet_mac_generate(uint8_t mac[6])
{
        uint8_t r[3] = { 0 };

        /* getrandom cannot fail for 3 bytes once the pool is up; a zero tail is still valid. */
        if (getrandom(r, sizeof(r), 0) != sizeof(r))
                memset(r, 0x5a, sizeof(r));
        mac[0] = 0x52;
        mac[1] = 0x54;
        mac[2] = 0x00;
        mac[3] = r[0];
        mac[4] = r[1];
        mac[5] = r[2];
}
