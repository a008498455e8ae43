/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dhcp.h"
#include "fileio.h"
#include "netconf.h"

struct parse_state {
        struct vnet_network *n;
        struct vnet_dhcp_input *dhcp; /* resolved once the whole file, with [IPv4], is read */
        struct vnet_err *e;
        int r;
};

/* One table from key to parser, so reading and writing cannot drift apart. */
enum key_kind {
        KEY_IFNAME,
        KEY_MODE,
        KEY_MTU,
        KEY_MAC,
        KEY_STP,
        KEY_AUTOSTART,
        KEY_IPV4,
        KEY_ALLOW_USERS,
        KEY_ALLOW_GROUPS,
        KEY_DHCP_ENABLED,
        KEY_DHCP_RANGE,
        KEY_LEASE_TIME,
        KEY_HOST,
        KEY_DOMAIN,
        KEY_FORWARDERS,
        KEY_DNS_ENABLED,
};

static const struct key {
        const char *section;
        const char *key;
        const char *field; /* the field's name in errors, as the command line calls it */
        enum key_kind kind;
} keys[] = {
        { "Network", "Bridge", "bridge", KEY_IFNAME },
        { "Network", "Mode", "mode", KEY_MODE },
        { "Network", "MTU", "mtu", KEY_MTU },
        { "Network", "MAC", "mac", KEY_MAC },
        { "Network", "STP", "stp", KEY_STP },
        { "Network", "Autostart", "autostart", KEY_AUTOSTART },
        { "Network", "AllowUsers", "allow_users", KEY_ALLOW_USERS },
        { "Network", "AllowGroups", "allow_groups", KEY_ALLOW_GROUPS },
        { "IPv4", "Address", "ipv4", KEY_IPV4 },
        { "DHCP", "Enabled", "dhcp", KEY_DHCP_ENABLED },
        { "DHCP", "Range", "dhcp", KEY_DHCP_RANGE },
        { "DHCP", "LeaseTime", "lease-time", KEY_LEASE_TIME },
        { "DHCP", "Host", "host", KEY_HOST },
        { "DNS", "Enabled", "dns", KEY_DNS_ENABLED },
        { "DNS", "Domain", "domain", KEY_DOMAIN },
        { "DNS", "Forwarders", "dns-forwarder", KEY_FORWARDERS },
};

static int add_forwarders(struct vnet_dhcp_input *in, const char *v, const char *field,
                          struct vnet_err *e)
{
        char buf[1024], *save = NULL;
        int r = 0;

        if (snprintf(buf, sizeof(buf), "%s", v) >= (int)sizeof(buf))
                return vnet_err_set(e, field, "invalid %s: too long", field);
        for (char *t = strtok_r(buf, " \t", &save); t && r == 0; t = strtok_r(NULL, " \t", &save)) {
                if (in->n_forwarders >= VNET_DHCP_FORWARDERS_MAX)
                        return vnet_err_set(e, field, "invalid %s: at most %d", field,
                                            VNET_DHCP_FORWARDERS_MAX);
                r = vnet_parse_ipv4_addr(t, &in->forwarders[in->n_forwarders], field, e);
                if (r == 0)
                        in->n_forwarders++;
        }
        return r;
}

/* A space-separated list, as systemd writes lists; repeated keys add to it. */
static int add_list(struct vnet_principals *p, const char *v, const char *field,
                    struct vnet_err *e)
{
        char buf[1024], *save = NULL;
        int r = 0;

        if (snprintf(buf, sizeof(buf), "%s", v) >= (int)sizeof(buf))
                return vnet_err_set(e, field, "invalid %s: too long", field);
        for (char *t = strtok_r(buf, " \t", &save); t && r == 0; t = strtok_r(NULL, " \t", &save))
                r = vnet_principals_add(p, t, field, e);
        return r;
}

static int set_value(const struct key *k, const char *v, struct parse_state *st)
{
        struct vnet_network *n = st->n;
        struct vnet_dhcp_input *d = st->dhcp;
        struct vnet_err *e = st->e;
        bool b;
        int r = 0;

        switch (k->kind) {
        case KEY_IFNAME:
                r = vnet_parse_ifname(v, k->field, e);
                if (r == 0)
                        snprintf(n->bridge, sizeof(n->bridge), "%s", v);
                break;
        case KEY_MODE:
                r = vnet_mode_from_string(v);
                if (r < 0) {
                        char q[48];
                        return vnet_err_set(e, k->field,
                                            "invalid mode '%s': use nat, routed, isolated or open",
                                            vnet_quote(v, q, sizeof(q)));
                }
                n->mode = (enum vnet_mode)r;
                r = 0;
                break;
        case KEY_MTU:
                r = vnet_parse_mtu(v, &n->mtu, k->field, e);
                break;
        case KEY_MAC:
                r = vnet_parse_mac(v, n->mac, k->field, e);
                n->has_mac = r == 0;
                break;
        case KEY_STP:
                r = vnet_parse_bool(v, &n->stp, k->field, e);
                break;
        case KEY_AUTOSTART:
                r = vnet_parse_bool(v, &n->autostart, k->field, e);
                break;
        case KEY_IPV4:
                r = vnet_parse_ipv4_gateway(v, &n->ipv4, k->field, e);
                break;
        case KEY_ALLOW_USERS:
                r = add_list(&n->allow_users, v, k->field, e);
                break;
        case KEY_ALLOW_GROUPS:
                r = add_list(&n->allow_groups, v, k->field, e);
                break;
        case KEY_DHCP_ENABLED:
                r = vnet_parse_bool(v, &b, k->field, e);
                d->enabled = b;
                break;
        case KEY_DHCP_RANGE:
                if (snprintf(d->range, sizeof(d->range), "%s", v) >= (int)sizeof(d->range))
                        r = vnet_err_set(e, k->field, "invalid dhcp range: too long");
                break;
        case KEY_LEASE_TIME:
                r = vnet_parse_lease_time(v, &d->lease_seconds, k->field, e);
                break;
        case KEY_HOST:
                if (d->n_hosts >= VNET_DHCP_HOSTS_MAX)
                        return vnet_err_set(e, k->field, "invalid host: at most %d",
                                            VNET_DHCP_HOSTS_MAX);
                r = vnet_parse_dhcp_host(v, &d->hosts[d->n_hosts], k->field, e);
                if (r == 0)
                        d->n_hosts++;
                break;
        case KEY_DOMAIN:
                r = vnet_parse_domain(v, k->field, e);
                if (r == 0) {
                        d->has_domain = true;
                        snprintf(d->domain, sizeof(d->domain), "%s", v);
                }
                break;
        case KEY_FORWARDERS:
                r = add_forwarders(d, v, k->field, e);
                break;
        case KEY_DNS_ENABLED:
                r = vnet_parse_bool(v, &b, k->field, e);
                d->dns = b;
                break;
        }
        return r;
}

static int handle(void *user, const char *section, const char *name, const char *value)
{
        struct parse_state *st = user;

        /* inih goes on after an error; keep the first one, it is the line it reports. */
        if (st->r < 0)
                return 0;
        if (!name) /* a section header on its own */
                return 1;
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                if (strcmp(section, keys[i].section) != 0 || strcmp(name, keys[i].key) != 0)
                        continue;
                st->r = set_value(&keys[i], value, st);
                return st->r == 0;
        }
        st->r = vnet_err_set(st->e, name, "unknown key '%.40s' in section [%.40s]", name,
                             section);
        return 0;
}

int vnet_netconf_parse(FILE *f, const char *name, struct vnet_network *n, struct vnet_err *e)
{
        struct vnet_dhcp_input dhcp;
        struct parse_state st = { .n = n, .dhcp = &dhcp, .e = e };
        char msg[sizeof(e->message)], field[sizeof(e->field)];
        int line, r;


        vnet_network_init(n, NULL);
        r = vnet_parse_name(name, "name", e);
        if (r < 0)
                return r;
        snprintf(n->name, sizeof(n->name), "%s", name);
        vnet_dhcp_input_init(&dhcp);
        line = ini_parse_file(f, handle, &st);
        if (line < 0)
                return line == -1 ? -EIO : -ENOMEM;
        if (line > 0) {
                if (st.r == 0)
                        vnet_err_set(e, "", "syntax error");
                snprintf(msg, sizeof(msg), "%s", e->message);
                snprintf(field, sizeof(field), "%s", e->field);
                vnet_err_set(e, field, "line %d: %s", line, msg);
                return -EINVAL;
        }
        r = vnet_dhcp_resolve(&dhcp, n->name, &n->ipv4, &n->dhcp, e);
        if (r < 0)
                return r;
        return vnet_network_validate(n, e);
}

int vnet_netconf_load(const char *path, struct vnet_network *n, struct vnet_err *e)
{
        char name[VNET_NAME_MAX + 8];
        const char *base = strrchr(path, '/');
        size_t len;
        FILE *f;
        int r;

        base = base ? base + 1 : path;
        len = strlen(base);
        if (len < 6 || strcmp(base + len - 5, ".conf") != 0 || len - 5 >= sizeof(name))
                return vnet_err_set(e, "name", "invalid file name '%.64s': expected NAME.conf",
                                    base);
        memcpy(name, base, len - 5);
        name[len - 5] = '\0';
        f = fopen(path, "re");
        if (!f)
                return -errno;
        r = vnet_netconf_parse(f, name, n, e);
        fclose(f);
        return r;
}

static void write_list(FILE *f, const char *key, const struct vnet_principals *p)
{
        if (!p->n)
                return;
        fprintf(f, "%s=", key);
        for (unsigned i = 0; i < p->n; i++)
                fprintf(f, "%s%s", i ? " " : "", p->v[i]);
        fputc('\n', f);
}

static void write_dhcp(FILE *f, const struct vnet_dhcp *d)
{
        char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], mac[18];

        fprintf(f, "\n[DHCP]\nEnabled=%s\n", d->enabled ? "yes" : "no");
        fprintf(f, "Range=%s-%s\n", inet_ntop(AF_INET, &d->start, a, sizeof(a)),
                inet_ntop(AF_INET, &d->end, b, sizeof(b)));
        fprintf(f, "LeaseTime=%u\n", d->lease_seconds);
        for (unsigned i = 0; i < d->n_hosts; i++) {
                const struct vnet_dhcp_host *h = &d->hosts[i];
                fprintf(f, "Host=%s,%s%s%s\n", vnet_mac_format(h->mac, mac),
                        inet_ntop(AF_INET, &h->ip, a, sizeof(a)), h->hostname[0] ? "," : "",
                        h->hostname);
        }
        fprintf(f, "\n[DNS]\nEnabled=%s\nDomain=%s\n", d->dns_disabled ? "no" : "yes",
                d->domain);
        if (d->n_forwarders) {
                fprintf(f, "Forwarders=");
                for (unsigned i = 0; i < d->n_forwarders; i++)
                        fprintf(f, "%s%s", i ? " " : "",
                                inet_ntop(AF_INET, &d->forwarders[i], a, sizeof(a)));
                fputc('\n', f);
        }
}

int vnet_netconf_format(const struct vnet_network *n, char **out)
{
        char mac[18], ip[32];
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return -ENOMEM;
        fprintf(f, "# vnet network '%s'. Written by vnetd; edits take effect on reload.\n",
                n->name);
        fprintf(f, "[Network]\n");
        if (n->bridge[0])
                fprintf(f, "Bridge=%s\n", n->bridge);
        fprintf(f, "Mode=%s\n", vnet_mode_to_string(n->mode));
        fprintf(f, "MTU=%u\n", n->mtu);
        if (n->has_mac)
                fprintf(f, "MAC=%s\n", vnet_mac_format(n->mac, mac));
        fprintf(f, "STP=%s\n", n->stp ? "yes" : "no");
        fprintf(f, "Autostart=%s\n", n->autostart ? "yes" : "no");
        write_list(f, "AllowUsers", &n->allow_users);
        write_list(f, "AllowGroups", &n->allow_groups);
        if (n->ipv4.prefix) {
                fprintf(f, "\n[IPv4]\nAddress=%s\n", vnet_ipv4_format(&n->ipv4, ip));
                write_dhcp(f, &n->dhcp);
        }
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *out = buf;
        return 0;
}

int vnet_netconf_save(const char *dir, const struct vnet_network *n)
{
        char path[4096];
        char *text = NULL;
        int r;

        if (snprintf(path, sizeof(path), "%s/%s.conf", dir, n->name) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        r = vnet_netconf_format(n, &text);
        if (r < 0)
                return r;
        /* The content is always on disk before the rename. The directory is synced only for
         * a new file: losing a replacing rename in a power cut leaves the previous definition,
         * whole, and saves a sync on every change (a mode change is benchmarked at 2 ms). */
        r = vnet_write_file(path, text, strlen(text), 0644,
                            VNET_FILE_SYNC | (access(path, F_OK) == 0 ? 0 : VNET_FILE_SYNC_DIR));
        free(text);
        return r;
}
