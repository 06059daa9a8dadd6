// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loop devices through their ioctls (LOOP_CTL_GET_FREE, LOOP_CONFIGURE or
 * LOOP_SET_FD + LOOP_SET_STATUS64): read-only, and cleared by the kernel
 * once the last user closes it (autoclear), so that a domud that dies does
 * not leak them. Bottom layer: libc and the kernel's uapi header.
 */
#include <sys/ioctl.h>

#include <linux/loop.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "loopdev.h"

#define LOOPDEV_TRIES	8	/* another program may take the free one */

int
loopdev_bind(int fd, char *path, size_t pathsz, struct err *e)
{
	struct loop_info64 info;
	int ctl, lfd = -1, n, i;

	if ((ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC)) == -1)
		return err_set(e, errno, "/dev/loop-control: %s",
		    strerror(errno));
	for (i = 0; i < LOOPDEV_TRIES; i++) {
		if ((n = ioctl(ctl, LOOP_CTL_GET_FREE)) < 0) {
			err_set(e, errno, "no free loop device: %s",
			    strerror(errno));
			break;
		}
		snprintf(path, pathsz, "/dev/loop%d", n);
		if ((lfd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
			err_set(e, errno, "%s: %s", path, strerror(errno));
			break;
		}
		if (ioctl(lfd, LOOP_SET_FD, fd) == 0)
			break;
		/* taken meanwhile: the next free one */
		err_set(e, errno, "%s: %s", path, strerror(errno));
		close(lfd);
		lfd = -1;
		if (errno != EBUSY)
			break;
	}
	close(ctl);
	if (lfd == -1)
		return -1;
	memset(&info, 0, sizeof(info));
	/* read-only comes from fd (opened O_RDONLY) */
	info.lo_flags = LO_FLAGS_AUTOCLEAR;
	if (ioctl(lfd, LOOP_SET_STATUS64, &info) == -1) {
		err_set(e, errno, "%s: status: %s", path, strerror(errno));
		(void)ioctl(lfd, LOOP_CLR_FD, 0);
		close(lfd);
		return -1;
	}
	return lfd;
}

void
loopdev_release(int loopfd)
{
	if (loopfd < 0)
		return;
	(void)ioctl(loopfd, LOOP_CLR_FD, 0);
	close(loopfd);
}
