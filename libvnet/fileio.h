/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Writes @path atomically: a temporary file in the same directory, fsync, rename, fsync of
 * the directory. Readers see the old content or the new, never a part. */
int vnet_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

enum {
        /* Content on disk before the rename: after a power loss the file is the old one or
         * the new one, never empty; the rename itself may be lost. */
        VNET_FILE_SYNC = 1 << 0,
        /* Also the directory: once the call returns, the new file survives a power loss. */
        VNET_FILE_SYNC_DIR = 1 << 1,
};

/* vnet_write_file_atomic with a choice of durability: runtime state under /run needs none
 * (it does not outlive a reboot), and a process crash never needs any. */
int vnet_write_file(const char *path, const void *data, size_t len, mode_t mode,
                    unsigned flags);

/* mkdir -p with @mode for the directories it creates. */
int vnet_mkdir_p(const char *path, mode_t mode);

/* Unlinks @path; a missing file is success. */
int vnet_unlink(const char *path);
