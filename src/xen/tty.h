/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_XEN_TTY_H
#define DOMUD_XEN_TTY_H

#include <stddef.h>

#include "base/err.h"

/*
 * The console tty path a domain's xenstore names (console/tty, written by
 * xenconsoled) is not trusted: it must resolve (realpath) to a pty slave,
 * /dev/pts/N, that is a character device of a Unix98 pty major on a devpts
 * file system (where nobody can put a symlink or another node). On 0 the
 * resolved path is in out; on -1 e says why, naming the path.
 */
int	xen_tty_check(const char *path, char *out, size_t outsz, struct err *e);

#endif
