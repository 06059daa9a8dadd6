/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_FILEIO_H
#define DOMUD_FILEIO_H

/*
 * Small files that must be whole: domud's state and the network leases.
 * A write is a temporary file, fsync, rename, fsync of the directory, so a
 * crash leaves the old file or the new one, never a mix.
 */
#include <sys/types.h>

#include <stddef.h>

#include "err.h"

/* dir/name with data and a final newline, with mode; 0, or -1 with e */
int	 fileio_write_atomic(const char *dir, const char *name, const void *,
	    size_t, mode_t, struct err *);
/* the same, whole for readers but not made durable (no fsync): what is
 * rewritten every few seconds and worthless after a power cut */
int	 fileio_write_replace(const char *dir, const char *name, const void *,
	    size_t, mode_t, struct err *);
/* a whole file of at most max bytes, NUL-terminated, malloc'd; NULL when
 * missing (quietly) or unreadable, too large, short (logged) */
char	*fileio_read(const char *path, size_t max);

/* a directory domud keeps files in: ours, and not writable by others
 * (else someone could swap what we write or read there); -1 with e */
int	 fileio_check_dir(const char *path, struct err *);

#endif
