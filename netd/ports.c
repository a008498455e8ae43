/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "network_json.h"
#include "ports.h"

/* The reservations live in one journal, STATE_DIR/ports.journal: a line of JSON per change,
 * {"port": {...}} for a reservation made or changed (a later one of the same ifname replaces
 * it) and {"removed": "IFNAME"} for one gone. An attach appends a line to a file that exists
 * instead of creating one (on ext4 a new inode costs more than the rest of the attach), and
 * a line is written whole by one write(2) on an O_APPEND descriptor. Loading replays the
 * journal, then compacts it (one line per live reservation, written to a temporary file and
 * renamed over it); so does an append once dead lines outnumber live ones.
 *
 * Not synced, like the files before it: a crash of vnetd loses nothing (the page cache
 * survives it); a power cut within seconds of an attach may forget it. A torn last line (a
 * power cut in the middle of an append) is skipped when loading. */
#define JOURNAL "ports.journal"
#define COMPACT_SLACK 64 /* dead lines allowed beyond the live ones before compacting */

struct ports {
        char *path;       /* STATE_DIR/ports.journal */
        char *legacy_dir; /* STATE_DIR/ports: a file per reservation, read once and removed */
        int fd;           /* the journal, O_APPEND; -1 until loaded */
        size_t lines;     /* in the journal */
        uint8_t salt[16];
        struct port **v;
        size_t n;
};

static int load_salt(const char *state_dir, uint8_t salt[16])
{
        char path[4096];
        ssize_t n = -1;
        int fd, r;

        snprintf(path, sizeof(path), "%s/mac-salt", state_dir);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                n = read(fd, salt, 16);
                close(fd);
        }
        if (n == 16)
                return 0;
        if (getrandom(salt, 16, 0) != 16)
                return -EIO;
        r = vnet_write_file_atomic(path, salt, 16, 0600);
        return r;
}

int ports_new(const char *state_dir, struct ports **ret)
{
        struct ports *ps = calloc(1, sizeof(*ps));
        int r;

        if (!ps)
                return -ENOMEM;
        ps->fd = -1;
        if (asprintf(&ps->path, "%s/" JOURNAL, state_dir) < 0) {
                ps->path = NULL;
                ports_free(ps);
                return -ENOMEM;
        }
        if (asprintf(&ps->legacy_dir, "%s/ports", state_dir) < 0) {
                ps->legacy_dir = NULL;
                ports_free(ps);
                return -ENOMEM;
        }
        r = vnet_mkdir_p(state_dir, 0755);
        if (r == 0)
                r = load_salt(state_dir, ps->salt);
        if (r < 0) {
                ports_free(ps);
                return r;
        }
        *ret = ps;
        return 0;
}

void ports_free(struct ports *ps)
{
        if (!ps)
                return;
        if (ps->fd >= 0)
                close(ps->fd);
        for (size_t i = 0; i < ps->n; i++)
                free(ps->v[i]);
        free(ps->v);
        free(ps->path);
        free(ps->legacy_dir);
        free(ps);
}

static int append(struct ports *ps, const struct vnet_port *p, struct port **ret)
{
        struct port **v, *pt = calloc(1, sizeof(*pt));

        if (!pt)
                return -ENOMEM;
        v = realloc(ps->v, (ps->n + 1) * sizeof(*v));
        if (!v) {
                free(pt);
                return -ENOMEM;
        }
        pt->p = *p;
        ps->v = v;
        ps->v[ps->n++] = pt;
        if (ret)
                *ret = pt;
        return 0;
}

static void drop(struct ports *ps, struct port *pt)
{
        for (size_t i = 0; i < ps->n; i++) {
                if (ps->v[i] != pt)
                        continue;
                memmove(&ps->v[i], &ps->v[i + 1], (ps->n - i - 1) * sizeof(*ps->v));
                ps->n--;
                break;
        }
        free(pt);
}

/* Makes @p the reservation of its ifname, replacing an earlier one. */
static int upsert(struct ports *ps, const struct vnet_port *p)
{
        struct port *old = ports_find(ps, p->ifname);

        if (old) {
                old->p = *p;
                return 0;
        }
        return append(ps, p, NULL);
}

/* One reservation as the journal and the old files hold it; @where names it in messages. */
static int port_parse(const json_t *o, struct vnet_port *p, const char *where)
{
        struct vnet_err err = { 0 };
        int r = vnet_port_from_json(o, p, &err);

        if (r < 0)
                log_error("%s: %s; ignored", where, err.message);
        return r;
}

/* The reservation files of vnetd before the journal, STATE_DIR/ports/IFNAME.json. */
static int load_legacy(struct ports *ps, bool *found)
{
        struct dirent *de;
        DIR *d = opendir(ps->legacy_dir);

        *found = d != NULL;
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                struct vnet_port p;
                json_error_t jerr;
                char path[4096];
                json_t *o;
                int r;

                if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json"))
                        continue;
                snprintf(path, sizeof(path), "%s/%s", ps->legacy_dir, de->d_name);
                o = json_load_file(path, 0, &jerr);
                if (!o) {
                        log_error("%s: %s", path, jerr.text);
                        continue;
                }
                r = port_parse(o, &p, path);
                json_decref(o);
                if (r == 0 && (r = upsert(ps, &p)) < 0) {
                        closedir(d);
                        return r;
                }
        }
        closedir(d);
        return 0;
}

static void remove_legacy(struct ports *ps)
{
        struct dirent *de;
        DIR *d = opendir(ps->legacy_dir);

        if (!d)
                return;
        while ((de = readdir(d))) {
                char path[4096];

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", ps->legacy_dir, de->d_name);
                vnet_unlink(path);
        }
        closedir(d);
        if (rmdir(ps->legacy_dir) < 0)
                log_error("%s: cannot remove: %s", ps->legacy_dir, strerror(errno));
}

/* Applies one journal line; a bad line is logged and skipped. */
static int replay_line(struct ports *ps, const char *line, size_t len, unsigned no)
{
        json_error_t jerr;
        json_t *o = json_loadb(line, len, 0, &jerr), *v;
        char where[4200];
        struct vnet_port p;
        int r = 0;

        snprintf(where, sizeof(where), "%s:%u", ps->path, no);
        if (!o) {
                log_error("%s: %s; ignored", where, jerr.text);
                return 0;
        }
        if ((v = json_object_get(o, "port"))) {
                if (port_parse(v, &p, where) == 0)
                        r = upsert(ps, &p);
        } else if ((v = json_object_get(o, "removed")) && json_is_string(v)) {
                struct port *pt = ports_find(ps, json_string_value(v));
                if (pt)
                        drop(ps, pt);
        } else {
                log_error("%s: neither a port nor a removal; ignored", where);
        }
        json_decref(o);
        return r;
}

static int replay(struct ports *ps)
{
        FILE *f = fopen(ps->path, "re");
        char *line = NULL;
        size_t cap = 0;
        unsigned no = 0;
        ssize_t len;
        int r = 0;

        if (!f)
                return errno == ENOENT ? 0 : -errno;
        while (r == 0 && (len = getline(&line, &cap, f)) > 0) {
                no++;
                /* A power cut in the middle of an append leaves a last line without its end. */
                if (line[len - 1] != '\n') {
                        log_error("%s:%u: incomplete last line (an interrupted write); ignored",
                                  ps->path, no);
                        break;
                }
                r = replay_line(ps, line, (size_t)len - 1, no);
        }
        if (r == 0 && ferror(f))
                r = -EIO;
        free(line);
        fclose(f);
        return r;
}

static char *line_of(json_t *o)
{
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL, *line = NULL;

        json_decref(o);
        if (text && asprintf(&line, "%s\n", text) < 0)
                line = NULL;
        free(text);
        return line;
}

static char *port_line(const struct vnet_port *p)
{
        return line_of(json_pack("{s:o}", "port", vnet_port_to_json(p)));
}

static int reopen(struct ports *ps)
{
        int fd = open(ps->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

        if (fd < 0)
                return -errno;
        if (ps->fd >= 0)
                close(ps->fd);
        ps->fd = fd;
        return 0;
}

/* Rewrites the journal as one line per live reservation, atomically. */
static int compact(struct ports *ps)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        int r = 0;

        if (!m)
                return -ENOMEM;
        for (size_t i = 0; r == 0 && i < ps->n; i++) {
                char *line = port_line(&ps->v[i]->p);
                if (!line || fputs(line, m) < 0)
                        r = -ENOMEM;
                free(line);
        }
        if (fclose(m) != 0 && r == 0)
                r = -ENOMEM;
        if (r == 0)
                r = vnet_write_file(ps->path, buf ? buf : "", len, 0644, 0);
        free(buf);
        if (r == 0) {
                ps->lines = ps->n;
                r = reopen(ps);
        }
        return r;
}

/* Appends @line (freed here) whole, or leaves the journal as it was. */
static int journal(struct ports *ps, char *line)
{
        size_t len = line ? strlen(line) : 0;
        ssize_t w;
        int r = 0;

        if (!line)
                return -ENOMEM;
        if (ps->fd < 0)
                r = reopen(ps);
        if (r == 0) {
                w = write(ps->fd, line, len);
                if (w < 0)
                        r = -errno;
                else if ((size_t)w != len)
                        r = -ENOSPC;
        }
        free(line);
        if (r < 0) {
                /* Part of a line would spoil the next one: rewrite the journal from memory
                 * (which a removal has already left, and an addition not yet reached). */
                if (compact(ps) < 0)
                        log_error("%s: cannot rewrite after a failed append", ps->path);
                return r;
        }
        ps->lines++;
        return 0;
}

static void maybe_compact(struct ports *ps)
{
        int r;

        if (ps->lines <= 2 * ps->n + COMPACT_SLACK)
                return;
        r = compact(ps);
        if (r < 0)
                log_error("%s: cannot compact: %s", ps->path, strerror(-r));
}

int ports_load(struct ports *ps)
{
        bool legacy;
        int r;

        r = replay(ps);
        if (r == 0)
                r = load_legacy(ps, &legacy);
        if (r == 0)
                r = compact(ps);
        if (r == 0 && legacy)
                remove_legacy(ps);
        return r;
}

size_t ports_count(const struct ports *ps)
{
        return ps->n;
}

struct port *ports_at(struct ports *ps, size_t i)
{
        return i < ps->n ? ps->v[i] : NULL;
}

struct port *ports_find(struct ports *ps, const char *ifname)
{
        for (size_t i = 0; i < ps->n; i++)
                if (strcmp(ps->v[i]->p.ifname, ifname) == 0)
                        return ps->v[i];
        return NULL;
}

struct port *ports_find_index(struct ports *ps, int ifindex)
{
        for (size_t i = 0; ifindex > 0 && i < ps->n; i++)
                if (ps->v[i]->ifindex == ifindex)
                        return ps->v[i];
        return NULL;
}

struct port *ports_find_mac(struct ports *ps, const uint8_t mac[6])
{
        for (size_t i = 0; i < ps->n; i++)
                if (memcmp(ps->v[i]->p.mac, mac, 6) == 0)
                        return ps->v[i];
        return NULL;
}

/* FNV-1a: not a secret-keeping hash, but the salt only has to make hosts differ. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
        const uint8_t *p = data;

        for (size_t i = 0; i < len; i++) {
                h ^= p[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

void ports_mac_for(struct ports *ps, const char *network, const char *ifname, uint8_t mac[6])
{
        for (uint32_t k = 0;; k++) {
                uint64_t h = 0xcbf29ce484222325ULL;
                h = fnv1a(h, ps->salt, sizeof(ps->salt));
                h = fnv1a(h, network, strlen(network) + 1);
                h = fnv1a(h, ifname, strlen(ifname) + 1);
                h = fnv1a(h, &k, sizeof(k));
                mac[0] = 0x52;
                mac[1] = 0x54;
                mac[2] = 0x00;
                mac[3] = (uint8_t)(h >> 16);
                mac[4] = (uint8_t)(h >> 8);
                mac[5] = (uint8_t)h;
                if (!ports_find_mac(ps, mac))
                        return;
        }
}

int ports_add(struct ports *ps, const struct vnet_port *p, struct port **ret)
{
        int r;

        if (ports_find(ps, p->ifname))
                return -EEXIST;
        r = journal(ps, port_line(p));
        if (r < 0)
                return r;
        r = append(ps, p, ret);
        if (r < 0)
                journal(ps, line_of(json_pack("{s:s}", "removed", p->ifname)));
        return r;
}

int ports_remove(struct ports *ps, struct port *pt)
{
        char *line = line_of(json_pack("{s:s}", "removed", pt->p.ifname));
        int r;

        drop(ps, pt);
        r = journal(ps, line);
        if (r == 0)
                maybe_compact(ps);
        return r;
}
