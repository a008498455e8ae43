/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NSS lookups with a growing buffer (see nss.h). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>

#include "nss.h"

#define NSS_BUF_FIRST 1024
#define NSS_BUF_MAX (64u << 20)

/* The buffer for the next try: NSS_BUF_FIRST bytes, then twice as many each time. */
static int grow(char **buf, size_t *size)
{
        char *n;

        *size = *buf ? *size * 2 : NSS_BUF_FIRST;
        if (*size > NSS_BUF_MAX)
                return -ERANGE;
        n = realloc(*buf, *size);
        if (!n)
                return -ENOMEM;
        *buf = n;
        return 0;
}

enum nss_what { USER_BY_NAME, GROUP_BY_NAME, USER_BY_ID, GROUP_BY_ID };

/* One lookup (@what: a user or a group, by @name or by @id), its buffer grown until the entry
 * fits; the id to *@id_out, the name to @name_out. 1 found, 0 not, or -errno. */
static int lookup(enum nss_what what, const char *name, unsigned id, unsigned *id_out,
                  char *name_out, size_t name_size)
{
        struct passwd pw, *pwr = NULL;
        struct group gr, *grr = NULL;
        size_t size = 0;
        char *buf = NULL;
        int r;

        for (;;) {
                r = grow(&buf, &size);
                if (r < 0)
                        goto out;
                switch (what) {
                case USER_BY_NAME:
                        r = getpwnam_r(name, &pw, buf, size, &pwr);
                        break;
                case USER_BY_ID:
                        r = getpwuid_r((uid_t)id, &pw, buf, size, &pwr);
                        break;
                case GROUP_BY_NAME:
                        r = getgrnam_r(name, &gr, buf, size, &grr);
                        break;
                case GROUP_BY_ID:
                        r = getgrgid_r((gid_t)id, &gr, buf, size, &grr);
                        break;
                }
                if (r != ERANGE)
                        break;
        }
        /* Lookups that fail for want of a database say "no such entry" in many ways. */
        if (r != 0 || (!pwr && !grr)) {
                r = 0;
                goto out;
        }
        if (id_out)
                *id_out = pwr ? (unsigned)pwr->pw_uid : (unsigned)grr->gr_gid;
        if (name_out)
                snprintf(name_out, name_size, "%s", pwr ? pwr->pw_name : grr->gr_name);
        r = 1;
out:
        free(buf);
        return r;
}

int vnet_user_by_name(const char *name, uid_t *uid)
{
        unsigned id = 0;
        int r = lookup(USER_BY_NAME, name, 0, &id, NULL, 0);

        if (r > 0)
                *uid = (uid_t)id;
        return r;
}

int vnet_group_by_name(const char *name, gid_t *gid)
{
        unsigned id = 0;
        int r = lookup(GROUP_BY_NAME, name, 0, &id, NULL, 0);

        if (r > 0)
                *gid = (gid_t)id;
        return r;
}

int vnet_user_name(uid_t uid, char *buf, size_t size)
{
        return lookup(USER_BY_ID, NULL, (unsigned)uid, NULL, buf, size);
}

int vnet_group_name(gid_t gid, char *buf, size_t size)
{
        return lookup(GROUP_BY_ID, NULL, (unsigned)gid, NULL, buf, size);
}
