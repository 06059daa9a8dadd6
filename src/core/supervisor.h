/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_SUPERVISOR_H
#define DOMUD_SUPERVISOR_H

/*
 * What the supervisor's own files share (service.c, lifecycle.c,
 * stopping.c, standby.c, idle.c, adopt.c, reload.c, view.c); the rest of
 * core uses service.h.
 */
#include "service.h"

typedef void action_fn(struct service *, const struct be_event *);

/* what the backend builds: the configuration, with the network's words on
 * the command line and its keys in xenstore */
struct svc_spec {
	struct be_domain_spec	 spec;
	struct be_disk		 disks[SERVICE_MAX_DISKS];
	struct be_vif		 vif;
	char			*cmdline;
	char			**xsdata;
};

/* service.c */
const char	*svc_logdir(struct service *);
/* a note in domud's log and in the service's console log; svc_warn for
 * what someone should look at */
void		 svc_note(struct service *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 svc_warn(struct service *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 svc_set_state(struct service *, enum svc_state);
void		 svc_then(struct service *, enum svc_after);
int		 svc_uuid_ours(const struct service *, const uint8_t [16]);
void		 agent_attach(struct service *);
int		 deps_ready(struct service *, char *, size_t);
void		 sup_kick_waiting(struct supervisor *);
struct service	*svc_new(struct supervisor *, struct service_conf *);
void		 svc_free(struct service *);
int		 svc_cmp_name(const void *, const void *);

/* lifecycle.c */
int		 admission(struct service *, const struct be_domain_spec *,
		    uint64_t *, char *, size_t);
void		 svc_spec_init(struct service *, struct svc_spec *);
void		 svc_spec_dispose(struct svc_spec *);
void		 svc_try_start(struct service *);
/* the lifecycle table; a_ignore is its explicit no-op */
extern action_fn *const sup_lifecycle[ST__N][EV__N];
action_fn	 a_ignore;

/* stopping.c */
void		 start_destroy(struct service *);
action_fn	 a_stop, a_stop_timeout, a_destroy_failed, a_destroy_timer,
		 a_deadline;

/* standby.c */
void		 standby_tick(struct service *);
int		 standby_event(struct service *, const struct be_event *);
int		 standby_start(struct service *);
void		 standby_destroy(struct service *, const char *);

/* idle.c */
void		 agent_keepalive(struct service *);

#endif
