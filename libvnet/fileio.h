/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Writes @path atomically: a temporary file in the same directory, fsync, rename, fsync of
 * the directory. Readers see the old content or the new, never a part. */
int vnet_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* mkdir -p with @mode for the directories it creates. */
int vnet_mkdir_p(const char *path, mode_t mode);

/* Unlinks @path; a missing file is success. */
int vnet_unlink(const char *path);
