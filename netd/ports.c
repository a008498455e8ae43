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

struct ports {
        char *dir; /* STATE_DIR/ports */
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
        if (asprintf(&ps->dir, "%s/ports", state_dir) < 0) {
                free(ps);
                return -ENOMEM;
        }
        r = vnet_mkdir_p(ps->dir, 0755);
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
        for (size_t i = 0; i < ps->n; i++)
                free(ps->v[i]);
        free(ps->v);
        free(ps->dir);
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

int ports_load(struct ports *ps)
{
        struct dirent *de;
        DIR *d = opendir(ps->dir);

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                struct vnet_err err = { 0 };
                struct vnet_port p;
                size_t len = strlen(de->d_name);
                json_error_t jerr;
                char path[4096];
                json_t *o;
                int r;

                if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json"))
                        continue;
                snprintf(path, sizeof(path), "%s/%s", ps->dir, de->d_name);
                o = json_load_file(path, 0, &jerr);
                if (!o) {
                        log_error("%s: %s", path, jerr.text);
                        continue;
                }
                r = vnet_port_from_json(o, &p, &err);
                json_decref(o);
                if (r == 0 && (strlen(p.ifname) != len - 5 || strncmp(p.ifname, de->d_name, len - 5)))
                        r = vnet_err_set(&err, "ifname", "the file name does not match ifname");
                if (r == 0 && ports_find(ps, p.ifname))
                        r = vnet_err_set(&err, "ifname", "a second reservation of %s", p.ifname);
                if (r < 0) {
                        log_error("%s: %s; ignored", path, err.message);
                        continue;
                }
                r = append(ps, &p, NULL);
                if (r < 0) {
                        closedir(d);
                        return r;
                }
        }
        closedir(d);
        return 0;
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

bool ports_mac_used(struct ports *ps, const uint8_t mac[6], const struct port *except)
{
        for (size_t i = 0; i < ps->n; i++)
                if (ps->v[i] != except && memcmp(ps->v[i]->p.mac, mac, 6) == 0)
                        return true;
        return false;
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
                if (!ports_mac_used(ps, mac, NULL))
                        return;
        }
}

static int path_of(struct ports *ps, const char *ifname, char *buf, size_t len)
{
        return snprintf(buf, len, "%s/%s.json", ps->dir, ifname) >= (int)len ? -ENAMETOOLONG : 0;
}

static int write_port(struct ports *ps, const struct vnet_port *p)
{
        char path[4096], *text;
        json_t *o;
        int r;

        r = path_of(ps, p->ifname, path, sizeof(path));
        if (r < 0)
                return r;
        o = vnet_port_to_json(p);
        text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!text)
                return -ENOMEM;
        /* Atomic but not synced: a crash of vnetd loses nothing (the page cache survives it),
         * and an attach must cost what the kernel work costs, not a disk flush. A power cut
         * within seconds of an attach may forget the reservation, never corrupt it. */
        r = vnet_write_file(path, text, strlen(text), 0644, 0);
        free(text);
        return r;
}

int ports_add(struct ports *ps, const struct vnet_port *p, struct port **ret)
{
        int r = write_port(ps, p);

        if (r < 0)
                return r;
        r = append(ps, p, ret);
        if (r < 0) {
                char path[4096];
                if (path_of(ps, p->ifname, path, sizeof(path)) == 0)
                        vnet_unlink(path);
        }
        return r;
}

int ports_save(struct ports *ps, struct port *pt)
{
        return write_port(ps, &pt->p);
}

int ports_remove(struct ports *ps, struct port *pt)
{
        char path[4096];
        int r = path_of(ps, pt->p.ifname, path, sizeof(path));

        if (r == 0)
                r = vnet_unlink(path);
        for (size_t i = 0; i < ps->n; i++) {
                if (ps->v[i] != pt)
                        continue;
                memmove(&ps->v[i], &ps->v[i + 1], (ps->n - i - 1) * sizeof(*ps->v));
                ps->n--;
                break;
        }
        free(pt);
        return r;
}
