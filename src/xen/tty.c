// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The check of a console tty path from xenstore before domud opens it
 * (audit finding 10). Kept out of xenbe.c so that the unit tests can reach
 * it without libxl.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "tty.h"

#define PTS_DIR			"/dev/pts/"
#define DEVPTS_MAGIC		0x1cd1		/* linux/magic.h */
#define PTY_SLAVE_MAJOR_FIRST	136		/* UNIX98_PTY_SLAVE_MAJOR */
#define PTY_SLAVE_MAJORS	8		/* UNIX98_PTY_MAJOR_COUNT */

static const char *
kind_of(mode_t m)
{
	if (S_ISREG(m))
		return "a regular file";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	return "not a device";
}

int
xen_tty_check(const char *path, char *out, size_t outsz, struct err *e)
{
	char real[PATH_MAX];
	struct statfs sfs;
	struct stat st;
	const char *n;

	if (path == NULL || path[0] != '/')
		return err_set(e, EINVAL, "console tty '%s' from xenstore is not "
		    "an absolute path: refused", path ? path : "");
	if (realpath(path, real) == NULL)
		return err_set(e, errno, "console tty %s from xenstore: %s: "
		    "refused", path, strerror(errno));
	/* /dev/pts/N and nothing else: not ptmx, not a path further down */
	n = real + strlen(PTS_DIR);
	if (strncmp(real, PTS_DIR, strlen(PTS_DIR)) != 0 || *n == '\0' ||
	    strspn(n, "0123456789") != strlen(n))
		return err_set(e, EPERM, "console tty %s from xenstore resolves "
		    "to %s, not a pty under %s: refused", path, real, PTS_DIR);
	if (stat(real, &st) == -1)
		return err_set(e, errno, "console tty %s: %s: refused", real,
		    strerror(errno));
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) < PTY_SLAVE_MAJOR_FIRST ||
	    major(st.st_rdev) >= PTY_SLAVE_MAJOR_FIRST + PTY_SLAVE_MAJORS)
		return err_set(e, EPERM, "console tty %s from xenstore is %s "
		    "(%u:%u), not a pty slave: refused", real, kind_of(st.st_mode),
		    major(st.st_rdev), minor(st.st_rdev));
	if (statfs(PTS_DIR, &sfs) == -1 || sfs.f_type != DEVPTS_MAGIC)
		return err_set(e, EPERM, "console tty %s: %s is not a devpts "
		    "file system: refused", real, PTS_DIR);
	if (strlcpy_(out, real, outsz) >= outsz)
		return err_set(e, ENAMETOOLONG, "console tty %s: path too long",
		    real);
	return 0;
}
