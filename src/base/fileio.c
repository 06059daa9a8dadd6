// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Whole small files: the atomic write and the bounded read that the state
 * file (core/state.c) and the leases (net/lease.c) share. Bottom layer: it
 * calls only libc, log and util.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "util.h"

static int
write_replace(const char *dir, const char *name, const void *data, size_t len,
    mode_t mode, int durable, struct err *e);

int
fileio_write_atomic(const char *dir, const char *name, const void *data,
    size_t len, mode_t mode, struct err *e)
{
	return write_replace(dir, name, data, len, mode, 1, e);
}

int
fileio_write_replace(const char *dir, const char *name, const void *data,
    size_t len, mode_t mode, struct err *e)
{
	return write_replace(dir, name, data, len, mode, 0, e);
}

static int
write_replace(const char *dir, const char *name, const void *data, size_t len,
    mode_t mode, int durable, struct err *e)
{
	char tmp[512];
	struct stat st;
	int fd = -1, dfd, rc = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= (int)sizeof(tmp))
		return err_set(e, ENAMETOOLONG, "%s/%s: name too long", dir,
		    name);
	/* every step by the directory's descriptor, names within it only:
	 * whoever else may write there (a collector's own directory) can
	 * swap no path component under us */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return err_set(e, errno, "%s: %s", dir, strerror(errno));
	if (fstat(dfd, &st) == -1 || (st.st_mode & S_IWOTH)) {
		err_set(e, EPERM, "%s: writable by anyone (mode %04o): domud "
		    "writes no file there", dir, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	/* a fresh file of ours: never through a link someone left there */
	(void)unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode);
	if (fd == -1) {
		err_set(e, errno, "%s/%s: %s", dir, tmp, strerror(errno));
		goto out;
	}
	if (write_all(fd, data, len) == -1 || write_all(fd,
	    (const unsigned char *)"\n", 1) == -1 || (durable &&
	    fsync(fd) == -1)) {
		err_set(e, errno, "%s/%s: %s", dir, tmp, strerror(errno));
		(void)unlinkat(dfd, tmp, 0);
		goto out;
	}
	/* the mode asked for, whatever the umask */
	(void)fchmod(fd, mode);
	/* the rename is the commit; the directory fsync makes it durable */
	if (renameat(dfd, tmp, dfd, name) == -1) {
		err_set(e, errno, "rename %s/%s: %s", dir, tmp, strerror(errno));
		(void)unlinkat(dfd, tmp, 0);
		goto out;
	}
	/* the rename is durable only with its directory: a caller that
	 * removes what the old file named must know it is not */
	if (durable && fsync(dfd) == -1) {
		err_set(e, errno, "fsync of %s: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	close(dfd);
	return rc;
}

char *
fileio_read(const char *path, size_t max)
{
	struct stat st;
	char *text;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_warn("state: %s", path);
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)max) {
		log_warnx("state: %s: unreadable or too large; ignored", path);
		close(fd);
		return NULL;
	}
	text = xcalloc(1, (size_t)st.st_size + 1);
	n = read(fd, text, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		log_warnx("state: %s: short read; ignored", path);
		free(text);
		return NULL;
	}
	return text;
}

int
fileio_check_dir(const char *path, struct err *e)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return err_set(e, errno, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ENOTDIR, "%s: not a directory", path);
	if (st.st_uid != geteuid())
		return err_set(e, EPERM, "%s: owned by uid %u, not by us (uid %u): "
		    "fix its owner", path, (unsigned)st.st_uid,
		    (unsigned)geteuid());
	if (st.st_mode & S_IWOTH)
		return err_set(e, EPERM, "%s: writable by others (mode %04o): "
		    "fix its mode", path, (unsigned)(st.st_mode & 07777));
	return 0;
}
