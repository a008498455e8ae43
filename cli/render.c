/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vnetctl output for people (aligned tables, key/value lines) and for scripts (JSON). */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render.h"

static int render_status(FILE *f)
{
        return ferror(f) ? -EIO : 0;
}

static void render_row(FILE *f, const char *const *row, const size_t *width, size_t ncols)
{
        for (size_t c = 0; c < ncols; c++) {
                const char *s = row[c] ? row[c] : RENDER_NONE;

                /* The last column is not padded: trailing blanks only confuse diff and grep. */
                if (c + 1 < ncols)
                        fprintf(f, "%-*s  ", (int)width[c], s);
                else
                        fprintf(f, "%s\n", s);
        }
}

int render_table(FILE *f, const char *const *header, size_t ncols, const char *const *cells,
                 size_t nrows)
{
        size_t *width;

        if (ncols == 0)
                return 0;
        width = calloc(ncols, sizeof(*width));
        if (!width)
                return -ENOMEM;
        for (size_t c = 0; c < ncols; c++)
                width[c] = strlen(header[c]);
        for (size_t r = 0; r < nrows; r++)
                for (size_t c = 0; c < ncols; c++) {
                        const char *s = cells[r * ncols + c];
                        size_t w = strlen(s ? s : RENDER_NONE);

                        if (w > width[c])
                                width[c] = w;
                }
        render_row(f, header, width, ncols);
        for (size_t r = 0; r < nrows; r++)
                render_row(f, cells + r * ncols, width, ncols);
        free(width);
        return render_status(f);
}

int render_kv(FILE *f, const struct render_kv *kv, size_t n)
{
        size_t w = 0;

        for (size_t i = 0; i < n; i++)
                if (strlen(kv[i].key) > w)
                        w = strlen(kv[i].key);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s:%*s%s\n", kv[i].key, (int)(w - strlen(kv[i].key) + 2), "",
                        kv[i].value ? kv[i].value : RENDER_NONE);
        return render_status(f);
}

int render_json(FILE *f, const json_t *j)
{
        if (json_dumpf(j, f, JSON_INDENT(2)) < 0)
                return -EIO;
        fputc('\n', f);
        return render_status(f);
}

/* Replies come from another program: a field of the wrong type is shown as missing rather
 * than trusted. */
static const char *field_str(const json_t *o, const char *key)
{
        const json_t *v = json_object_get(o, key);

        return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *field_bool(const json_t *o, const char *key, const char *yes, const char *no)
{
        const json_t *v = json_object_get(o, key);

        if (!json_is_boolean(v))
                return NULL;
        return json_is_true(v) ? yes : no;
}

static const char *or_none(const char *s)
{
        return s ? s : RENDER_NONE;
}

static const char *field_int(const json_t *o, const char *key, char *buf, size_t size)
{
        const json_t *v = json_object_get(o, key);

        if (!json_is_integer(v))
                return NULL;
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
}

enum {
        COL_NAME,
        COL_STATE,
        COL_MODE,
        COL_BRIDGE,
        COL_IPV4,
        COL_AUTOSTART,
        COL_PERSISTENT,
        _COL_MAX,
};

int render_network_table(FILE *f, const json_t *networks)
{
        static const char *const header[_COL_MAX] = {
                [COL_NAME] = "NAME",       [COL_STATE] = "STATE",
                [COL_MODE] = "MODE",       [COL_BRIDGE] = "BRIDGE",
                [COL_IPV4] = "IPV4",       [COL_AUTOSTART] = "AUTOSTART",
                [COL_PERSISTENT] = "PERSISTENT",
        };
        size_t n = json_array_size(networks);
        const char **cells;
        int r;

        /* calloc(0) may return NULL; one spare row keeps "no networks" apart from ENOMEM. */
        cells = calloc((n + 1) * _COL_MAX, sizeof(*cells));
        if (!cells)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const json_t *o = json_array_get(networks, i);
                const char **row = cells + i * _COL_MAX;

                row[COL_NAME] = field_str(o, "name");
                row[COL_STATE] = field_str(o, "state");
                row[COL_MODE] = field_str(o, "mode");
                row[COL_BRIDGE] = field_str(o, "bridge");
                row[COL_IPV4] = field_str(o, "ipv4");
                row[COL_AUTOSTART] = field_bool(o, "autostart", "yes", "no");
                row[COL_PERSISTENT] = field_bool(o, "transient", "no", "yes");
        }
        r = render_table(f, header, _COL_MAX, cells, n);
        free(cells);
        return r;
}

/* The strings of @key's array joined with ", " into a malloc'ed string; NULL when the array is
 * missing or empty (the line is then left out), and *r = -ENOMEM when memory ran out. */
static char *field_list(const json_t *o, const char *key, int *r)
{
        const json_t *a = json_object_get(o, key), *v;
        char *buf = NULL;
        size_t len = 0, i;
        FILE *m;

        if (json_array_size(a) == 0)
                return NULL;
        m = open_memstream(&buf, &len);
        if (!m) {
                *r = -ENOMEM;
                return NULL;
        }
        json_array_foreach(a, i, v)
                fprintf(m, "%s%s", i ? ", " : "",
                        json_is_string(v) ? json_string_value(v) : RENDER_NONE);
        if (fclose(m) != 0) {
                free(buf);
                *r = -ENOMEM;
                return NULL;
        }
        return buf;
}

/* Seconds in the largest unit that divides them, as --lease-time takes them: 1h, 90m, 150s. */
static void render_duration(json_int_t secs, char *buf, size_t size)
{
        static const struct {
                json_int_t seconds;
                char suffix;
        } units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' } };

        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
                if (secs > 0 && secs % units[i].seconds == 0) {
                        snprintf(buf, size, "%" JSON_INTEGER_FORMAT "%c", secs / units[i].seconds,
                                 units[i].suffix);
                        return;
                }
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT "s", secs);
}

/* "off", or "on" with the range and the lease time the reply has; NULL without "dhcp". */
static const char *details_dhcp(const json_t *network, char *buf, size_t size)
{
        const json_t *on = json_object_get(network, "dhcp");
        const json_t *lease = json_object_get(network, "lease_time");
        const char *range = field_str(network, "dhcp_range");
        char dur[32] = "";

        if (!json_is_boolean(on))
                return NULL;
        if (json_is_false(on))
                return "off";
        if (json_is_integer(lease))
                render_duration(json_integer_value(lease), dur, sizeof(dur));
        snprintf(buf, size, "on%s%s%s%s", range ? ", " : "", range ? range : "",
                 *dur ? ", lease " : "", dur);
        return buf;
}

/* The supervisor's view of dnsmasq; NULL when the reply has none. */
static const char *details_dnsmasq(const json_t *network, char *buf, size_t size)
{
        const json_t *d = json_object_get(network, "dnsmasq");
        const json_t *restarts = json_object_get(d, "restarts");
        const char *last = field_str(d, "last_exit");
        json_int_t n = json_is_integer(restarts) ? json_integer_value(restarts) : 0;
        char pid[32], again[192] = "";

        if (!json_is_object(d))
                return NULL;
        /* Restarts say that something is wrong even when the current process is fine. */
        if (n > 0)
                snprintf(again, sizeof(again), "restarted %" JSON_INTEGER_FORMAT " time%s%s%s", n,
                         n == 1 ? "" : "s", last ? ", last: " : "", last ? last : "");
        if (json_is_true(json_object_get(d, "running")))
                snprintf(buf, size, "running, pid %s%s%s",
                         or_none(field_int(d, "pid", pid, sizeof(pid))), *again ? ", " : "",
                         again);
        else if (*again)
                snprintf(buf, size, "%s", again);
        else
                snprintf(buf, size, "not running%s%s", last ? ", last: " : "", last ? last : "");
        return buf;
}

/* After the key/value lines, not among them: a warning is a sentence, too long to align. */
static int render_warnings(FILE *f, const json_t *network)
{
        const json_t *v;
        size_t i;

        json_array_foreach(json_object_get(network, "warnings"), i, v)
                if (json_is_string(v))
                        fprintf(f, "Warning: %s\n", json_string_value(v));
        return render_status(f);
}

int render_network_details(FILE *f, const json_t *network)
{
        struct render_kv kv[20];
        const char *error = field_str(network, "error");
        const json_t *hosts = json_object_get(network, "hosts");
        char mtu[32], dhcp[160], dnsmasq[320], nhosts[32], *users, *groups, *forwarders;
        const char *domain = field_str(network, "domain"), *line;
        size_t n = 0;
        int r = 0;

        kv[n++] = (struct render_kv){ "Name", field_str(network, "name") };
        kv[n++] = (struct render_kv){ "State", field_str(network, "state") };
        if (error && *error)
                kv[n++] = (struct render_kv){ "Error", error };
        kv[n++] = (struct render_kv){ "Mode", field_str(network, "mode") };
        kv[n++] = (struct render_kv){ "Bridge", field_str(network, "bridge") };
        kv[n++] = (struct render_kv){ "IPv4", field_str(network, "ipv4") };
        kv[n++] = (struct render_kv){ "MTU", field_int(network, "mtu", mtu, sizeof(mtu)) };
        kv[n++] = (struct render_kv){ "MAC", field_str(network, "mac") };
        kv[n++] = (struct render_kv){ "STP", field_bool(network, "stp", "on", "off") };
        kv[n++] = (struct render_kv){ "Autostart", field_bool(network, "autostart", "yes", "no") };
        kv[n++] = (struct render_kv){ "Persistent",
                                      field_bool(network, "transient", "no", "yes") };
        users = field_list(network, "allow_users", &r);
        groups = field_list(network, "allow_groups", &r);
        if (users)
                kv[n++] = (struct render_kv){ "Allowed users", users };
        if (groups)
                kv[n++] = (struct render_kv){ "Allowed groups", groups };
        /* The DHCP and DNS lines come only from a vnetd that knows about them, and only for a
         * network that has them (one with an address). */
        if ((line = details_dhcp(network, dhcp, sizeof(dhcp))))
                kv[n++] = (struct render_kv){ "DHCP", line };
        if (json_object_get(network, "domain"))
                kv[n++] = (struct render_kv){ "Domain", domain && *domain ? domain : NULL };
        forwarders = field_list(network, "dns_forwarders", &r);
        if (json_is_array(json_object_get(network, "dns_forwarders")))
                kv[n++] = (struct render_kv){ "DNS forwarders", forwarders ? forwarders : "none" };
        if (json_is_array(hosts)) {
                snprintf(nhosts, sizeof(nhosts), "%zu", json_array_size(hosts));
                kv[n++] = (struct render_kv){ "Hosts", nhosts };
        }
        if ((line = details_dnsmasq(network, dnsmasq, sizeof(dnsmasq))))
                kv[n++] = (struct render_kv){ "dnsmasq", line };
        if ((line = field_str(network, "spare_tap")))
                kv[n++] = (struct render_kv){ "Spare TAP", line };
        if (r == 0)
                r = render_kv(f, kv, n);
        if (r == 0)
                r = render_warnings(f, network);
        free(users);
        free(groups);
        free(forwarders);
        return r;
}

int render_network_summary(FILE *f, const json_t *network)
{
        const char *name = or_none(field_str(network, "name"));
        const char *state = or_none(field_str(network, "state"));
        const char *bridge = or_none(field_str(network, "bridge"));
        const char *mode = or_none(field_str(network, "mode"));
        const char *ipv4 = field_str(network, "ipv4");
        const char *error = field_str(network, "error");

        if (strcmp(state, "failed") == 0 && error && *error)
                fprintf(f, "Network '%s' has failed: %s\n", name, error);
        else if (strcmp(state, "running") == 0)
                fprintf(f, "Network '%s' is running on bridge %s (%s%s%s).\n", name, bridge,
                        mode, ipv4 ? ", " : "", ipv4 ? ipv4 : "");
        else
                fprintf(f, "Network '%s' is %s (bridge %s, %s%s%s).\n", name, state, bridge,
                        mode, ipv4 ? ", " : "", ipv4 ? ipv4 : "");
        return render_status(f);
}

int render_network_destroyed(FILE *f, const char *name)
{
        fprintf(f, "Network '%s' destroyed.\n", name);
        return render_status(f);
}

enum {
        PORT_COL_IFNAME,
        PORT_COL_MAC,
        PORT_COL_OWNER,
        PORT_COL_QUEUES,
        PORT_COL_STATE,
        PORT_COL_ADOPTED,
        _PORT_COL_MAX,
};

/* Room for "user:group" with names of any length NSS gives, truncated rather than refused. */
#define PORT_OWNER_MAX 160

static const char *port_id(const json_t *port, const char *key,
                           const char *(*name)(long id, char *buf, size_t size), char *buf,
                           size_t size)
{
        const json_t *v = json_object_get(port, key);
        const char *s = NULL;
        long id;

        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return NULL;
        id = (long)json_integer_value(v);
        if (name)
                s = name(id, buf, size);
        if (!s) {
                snprintf(buf, size, "%ld", id);
                s = buf;
        }
        return s;
}

/* "user", "user:group" or ":group" into @buf; NULL when the port has neither. */
static const char *port_owner(const json_t *port, const struct render_names *names, char *buf,
                              size_t size)
{
        char ubuf[PORT_OWNER_MAX / 2], gbuf[PORT_OWNER_MAX / 2];
        const char *user = port_id(port, "owner", names ? names->user : NULL, ubuf, sizeof(ubuf));
        const char *group = port_id(port, "group", names ? names->group : NULL, gbuf,
                                    sizeof(gbuf));

        if (!user && !group)
                return NULL;
        snprintf(buf, size, "%s%s%s", user ? user : "", group ? ":" : "", group ? group : "");
        return buf;
}

int render_port_table(FILE *f, const json_t *ports, const struct render_names *names)
{
        static const char *const header[_PORT_COL_MAX] = {
                [PORT_COL_IFNAME] = "IFNAME", [PORT_COL_MAC] = "MAC",
                [PORT_COL_OWNER] = "OWNER",   [PORT_COL_QUEUES] = "QUEUES",
                [PORT_COL_STATE] = "STATE",   [PORT_COL_ADOPTED] = "ADOPTED",
        };
        size_t n = json_array_size(ports);
        const char **cells = NULL;
        char (*owner)[PORT_OWNER_MAX] = NULL, (*queues)[32] = NULL;
        int r = -ENOMEM;

        /* One spare row each, as in render_network_table: calloc(0) may return NULL. */
        cells = calloc((n + 1) * _PORT_COL_MAX, sizeof(*cells));
        owner = calloc(n + 1, sizeof(*owner));
        queues = calloc(n + 1, sizeof(*queues));
        if (!cells || !owner || !queues)
                goto out;
        for (size_t i = 0; i < n; i++) {
                const json_t *o = json_array_get(ports, i);
                const char **row = cells + i * _PORT_COL_MAX;

                row[PORT_COL_IFNAME] = field_str(o, "ifname");
                row[PORT_COL_MAC] = field_str(o, "mac");
                row[PORT_COL_OWNER] = port_owner(o, names, owner[i], sizeof(owner[i]));
                row[PORT_COL_QUEUES] = field_int(o, "queues", queues[i], sizeof(queues[i]));
                row[PORT_COL_STATE] = field_str(o, "state");
                row[PORT_COL_ADOPTED] = field_bool(o, "adopted", "yes", "no");
        }
        r = render_table(f, header, _PORT_COL_MAX, cells, n);
out:
        free(cells);
        free(owner);
        free(queues);
        return r;
}

int render_port_attached(FILE *f, const json_t *port)
{
        fprintf(f, "%s %s\n", or_none(field_str(port, "ifname")), or_none(field_str(port, "mac")));
        return render_status(f);
}

int render_port_detached(FILE *f, const char *network, const char *ifname)
{
        fprintf(f, "Port '%s' detached from network '%s'.\n", ifname, network);
        return render_status(f);
}

enum {
        HOST_COL_MAC,
        HOST_COL_IP,
        HOST_COL_HOSTNAME,
        _HOST_COL_MAX,
};

int render_host_table(FILE *f, const json_t *hosts)
{
        static const char *const header[_HOST_COL_MAX] = {
                [HOST_COL_MAC] = "MAC",
                [HOST_COL_IP] = "IP",
                [HOST_COL_HOSTNAME] = "HOSTNAME",
        };
        size_t n = json_array_size(hosts);
        const char **cells;
        int r;

        /* One spare row, as in render_network_table: calloc(0) may return NULL. */
        cells = calloc((n + 1) * _HOST_COL_MAX, sizeof(*cells));
        if (!cells)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const json_t *o = json_array_get(hosts, i);
                const char **row = cells + i * _HOST_COL_MAX;

                row[HOST_COL_MAC] = field_str(o, "mac");
                row[HOST_COL_IP] = field_str(o, "ip");
                row[HOST_COL_HOSTNAME] = field_str(o, "hostname");
                /* An empty name is no name: "-" keeps the column readable. */
                if (row[HOST_COL_HOSTNAME] && !*row[HOST_COL_HOSTNAME])
                        row[HOST_COL_HOSTNAME] = NULL;
        }
        r = render_table(f, header, _HOST_COL_MAX, cells, n);
        free(cells);
        return r;
}

int render_host_added(FILE *f, const char *network, const char *mac, const char *ip,
                      const char *hostname)
{
        fprintf(f, "Reserved %s for %s%s%s%s on network '%s'.\n", ip, mac,
                hostname ? " (" : "", hostname ? hostname : "", hostname ? ")" : "", network);
        return render_status(f);
}

int render_host_removed(FILE *f, const char *network, const char *mac)
{
        fprintf(f, "Removed the reservation of %s on network '%s'.\n", mac, network);
        return render_status(f);
}

enum {
        LEASE_COL_MAC,
        LEASE_COL_ADDRESS,
        LEASE_COL_HOSTNAME,
        LEASE_COL_EXPIRES,
        _LEASE_COL_MAX,
};

#define LEASE_TIME_MAX sizeof("-9223372036854775808-12-31 23:59:59")

/* Unix time in local time, "never" for 0 (dnsmasq's infinite leases); NULL when the value is
 * not a time. */
static const char *lease_expires(const json_t *lease, char *buf, size_t size)
{
        const json_t *v = json_object_get(lease, "expires");
        struct tm tm;
        time_t t;

        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return NULL;
        if (json_integer_value(v) == 0)
                return "never";
        t = (time_t)json_integer_value(v);
        if (!localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                return NULL;
        return buf;
}

int render_lease_table(FILE *f, const json_t *leases)
{
        static const char *const header[_LEASE_COL_MAX] = {
                [LEASE_COL_MAC] = "MAC",
                [LEASE_COL_ADDRESS] = "ADDRESS",
                [LEASE_COL_HOSTNAME] = "HOSTNAME",
                [LEASE_COL_EXPIRES] = "EXPIRES",
        };
        size_t n = json_array_size(leases);
        const char **cells = NULL;
        char (*expires)[LEASE_TIME_MAX] = NULL;
        int r = -ENOMEM;

        /* One spare row each, as in render_network_table: calloc(0) may return NULL. */
        cells = calloc((n + 1) * _LEASE_COL_MAX, sizeof(*cells));
        expires = calloc(n + 1, sizeof(*expires));
        if (!cells || !expires)
                goto out;
        for (size_t i = 0; i < n; i++) {
                const json_t *o = json_array_get(leases, i);
                const char **row = cells + i * _LEASE_COL_MAX;

                row[LEASE_COL_MAC] = field_str(o, "mac");
                row[LEASE_COL_ADDRESS] = field_str(o, "address");
                row[LEASE_COL_HOSTNAME] = field_str(o, "hostname");
                if (row[LEASE_COL_HOSTNAME] && !*row[LEASE_COL_HOSTNAME])
                        row[LEASE_COL_HOSTNAME] = NULL;
                row[LEASE_COL_EXPIRES] = lease_expires(o, expires[i], sizeof(expires[i]));
        }
        r = render_table(f, header, _LEASE_COL_MAX, cells, n);
out:
        free(cells);
        free(expires);
        return r;
}

/* "its policy drops", "rule 12 (in chain DOCKER-USER) may reject" */
static void finding_cause(FILE *f, const json_t *o)
{
        const char *what = or_none(field_str(o, "what"));
        const char *in = field_str(o, "rule_chain");
        bool certain = json_is_true(json_object_get(o, "certain"));
        bool reject = strcmp(what, "rule reject") == 0;
        char handle[32];

        if (strcmp(what, "policy drop") == 0) {
                fprintf(f, "its policy %s", certain ? "drops" : "may drop");
                return;
        }
        if (!reject && strcmp(what, "rule drop") != 0) {
                fprintf(f, "%s (%s)", what, certain ? "certain" : "possible");
                return;
        }
        fprintf(f, "rule %s%s%s%s %s%s", or_none(field_int(o, "rule", handle, sizeof(handle))),
                in ? " (in chain " : "", in ? in : "", in ? ")" : "", certain ? "" : "may ",
                reject ? (certain ? "rejects" : "reject") : (certain ? "drops" : "drop"));
}

int render_findings(FILE *f, const json_t *findings)
{
        const json_t *o;
        size_t i;

        if (json_array_size(findings) == 0) {
                fprintf(f, "No problems found.\n");
                return render_status(f);
        }
        json_array_foreach(findings, i, o) {
                const char *hook = or_none(field_str(o, "hook"));
                const json_t *nets = json_object_get(o, "networks"), *v;
                char prio[32];
                size_t k;

                fprintf(f, "%sTable %s %s, chain %s (hook %s, priority %s): ", i ? "\n" : "",
                        or_none(field_str(o, "family")), or_none(field_str(o, "table")),
                        or_none(field_str(o, "chain")), hook,
                        or_none(field_int(o, "priority", prio, sizeof(prio))));
                finding_cause(f, o);
                if (strcmp(hook, "input") == 0)
                        fprintf(f, " the DHCP and DNS requests to the host from");
                else
                        fprintf(f, " the %s traffic of",
                                strcmp(hook, "forward") == 0 ? "forwarded" : hook);
                fprintf(f, " network%s ", json_array_size(nets) == 1 ? "" : "s");
                json_array_foreach(nets, k, v)
                        fprintf(f, "%s%s", k ? ", " : "",
                                json_is_string(v) ? json_string_value(v) : RENDER_NONE);
                if (json_array_size(nets) == 0)
                        fprintf(f, "%s", RENDER_NONE);
                fprintf(f, ".\n  To fix it, %s.\n", or_none(field_str(o, "remedy")));
        }
        fprintf(f, "\nA packet passes a hook only if every base chain on it lets it through: "
                   "an accept in vnetd's table cannot override these.\n");
        return render_status(f);
}
