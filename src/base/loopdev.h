/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_LOOPDEV_H
#define DOMUD_LOOPDEV_H

/*
 * A read-only loop device bound to a file descriptor: what domud checked is
 * what a guest gets, whatever happens to the path afterwards.
 */
#include <stddef.h>

#include "err.h"

/* bind fd (a regular file) read-only to a free loop device; returns the
 * loop device's fd (keep it until release) and its path in path */
int	 loopdev_bind(int fd, char *path, size_t pathsz, struct err *);
/* unbind (deferred by the kernel while the device is still in use) */
void	 loopdev_release(int loopfd);

#endif
