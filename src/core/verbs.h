/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_VERBS_H
#define DOMUD_VERBS_H

/*
 * The verbs answered at once (verbs.c), and the wiring of the control
 * layers: verbs.c is their top, and the only place that names all of
 * control.c (bottom), jobs.c and rundisk.c together.
 */
#include "control.h"

control_handler	 verb_ping, verb_status, verb_logs, verb_net, verb_reload,
		 verb_start, verb_stop, verb_restart, verb_events, verb_metrics,
		 verb_cpupools;
/* updverbs.c */
control_handler	 verb_update_stage, verb_update_switch, verb_update_rollback,
		 verb_update_status, verb_logs_slot;

/* the verb table and the jobs' hooks to c (c->sup set), and the
 * supervisor's disk, console and event taps to jobs.c and rundisk.c:
 * before control_listen or control_dispatch */
void	 verbs_setup(struct control *);
/* Reload from conf_path: on any error keep the old configuration.
 * Returns the checked config's diagnostics through *checked (caller
 * frees the config), 0 if applied. */
int	 control_reload(struct control *, struct config **checked);

#endif
