/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_RUNDISK_H
#define DOMUD_RUNDISK_H

/* run: a command from a hot-plugged read-only image (rundisk.c) */
#include "chan/channel.h"
#include "control.h"

/* the phases of a run job (control_job.run_phase) */
enum { RUN_NONE, RUN_ATTACH, RUN_EXEC, RUN_DETACH };

control_handler	 rundisk_run;
/* an image a run may attach (DIR/NAME, checked); its fd, or -1 with e */
int		 rundisk_open_image(const char *dir, const char *path,
		    struct err *);
/* the backend finished an attach or a detach (supervisor's disk_done) */
void		 rundisk_disk_done(void *control, const struct be_event *);
/* the connection of a run goes: keep the job to its detach; 0 if it
 * cannot be kept */
int		 rundisk_orphan(struct control *, struct control_job *);
/* the command ended: detach, then answer */
void		 rundisk_exec_done(struct control_job *,
		    const struct chan_result *);

#endif
