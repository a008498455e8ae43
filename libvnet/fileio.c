/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

static int fsync_dir_of(const char *path)
{
        char *copy = strdup(path);
        int fd, r = 0;

        if (!copy)
                return -ENOMEM;
        fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
                r = -errno;
        if (fd >= 0)
                close(fd);
        free(copy);
        return r;
}

int vnet_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
        return vnet_write_file(path, data, len, mode, VNET_FILE_SYNC | VNET_FILE_SYNC_DIR);
}

int vnet_write_file(const char *path, const void *data, size_t len, mode_t mode,
                    unsigned flags)
{
        char tmp[4096];
        const char *p = data;
        int fd, r = 0;

        if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
                return -ENAMETOOLONG;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        goto fail;
                }
                p += n;
                len -= (size_t)n;
        }
        if (fchmod(fd, mode) < 0 || ((flags & VNET_FILE_SYNC) && fsync(fd) < 0)) {
                r = -errno;
                goto fail;
        }
        if (close(fd) < 0) {
                fd = -1;
                r = -errno;
                goto fail;
        }
        fd = -1;
        if (rename(tmp, path) < 0) {
                r = -errno;
                goto fail;
        }
        return (flags & VNET_FILE_SYNC_DIR) ? fsync_dir_of(path) : 0;
fail:
        if (fd >= 0)
                close(fd);
        unlink(tmp);
        return r;
}

int vnet_mkdir_p(const char *path, mode_t mode)
{
        char buf[4096];
        size_t len = strlen(path);

        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, path, len + 1);
        for (char *p = buf + 1; ; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char c = *p;
                *p = '\0';
                if (mkdir(buf, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = c;
                if (c == '\0')
                        break;
        }
        return 0;
}

int vnet_unlink(const char *path)
{
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}
