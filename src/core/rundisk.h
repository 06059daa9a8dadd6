/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_RUNDISK_H
#define DOMUD_RUNDISK_H

/* run: a command from a hot-plugged read-only image (rundisk.c), a job
 * (jobs.h) whose owner is rundisk.c */
#include "base/err.h"
#include "control.h"
#include "xen/backend.h"

control_handler	 rundisk_run;
/* an image a run may attach (DIR/NAME, checked); its fd, or -1 with e */
int		 rundisk_open_image(const char *dir, const char *path,
		    struct err *);
/* the backend finished an attach or a detach (supervisor's disk_done) */
void		 rundisk_disk_done(void *control, const struct be_event *);

#endif
