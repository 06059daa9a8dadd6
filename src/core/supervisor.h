/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_SUPERVISOR_H
#define DOMUD_SUPERVISOR_H

/*
 * What the supervisor's own files share; the rest of core uses service.h.
 * One state machine per file, each with its own [state][event] table and
 * its own sub-struct of struct service, written by that file only; the
 * others ask it for a change by dispatching an event:
 *   lifecycle.c, destroy.c	s->state (sup_dispatch), s->destroy
 *   stopping.c		s->stop (stop_dispatch)
 *   standby.c		s->sb (standby_dispatch)
 *   retire.c		s->rt (retire_dispatch)
 *   idle.c		s->idle (idle_dispatch)
 *   health.c		s->health (health_dispatch, health.h)
 * Beside them: service.c (the services, notes, history, verbs, the loop),
 * spec.c (what the backend builds, admission), adopt.c (adoption, the look
 * at Xen), reload.c, persist.c (state.json), pools.c, view.c (status).
 */
#include "service.h"

typedef void action_fn(struct service *, const struct be_event *);

/* what the backend builds: the configuration, with the network's words on
 * the command line and its keys in xenstore */
struct svc_spec {
	struct be_domain_spec	 spec;
	struct be_disk		 disks[SERVICE_MAX_DISKS];
	char			 diskpath[SERVICE_MAX_DISKS][512];	/* a slot's */
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

/* spec.c */
int		 admission(struct service *, const struct be_domain_spec *,
		    uint64_t *, char *, size_t);
void		 svc_spec_init(struct service *, struct svc_spec *);
void		 svc_spec_dispose(struct svc_spec *);

/* lifecycle.c: the lifecycle table; a_ignore is its explicit no-op */
extern action_fn *const sup_lifecycle[ST__N][EV__N];
action_fn	 a_ignore;

/* destroy.c: the lifecycle's destroying state */
void		 start_destroy(struct service *);
void		 destroy_reset(struct service *);
action_fn	 a_destroy_failed, a_destroy_timer;

/* stopping.c: the stop phases, a table of their own */
enum stop_event {
	SPE_BEGIN,	/* the lifecycle stops a running service */
	SPE_TIMEOUT,	/* the phase under way had its time */
	SPE_GONE,	/* the domain is gone */
	SPE__N
};
/* what the lifecycle does next */
enum stop_next {
	SN_NONE,
	SN_WAIT,	/* stopping, for stop_wait_ms() */
	SN_DESTROY,	/* destroyed after stop_timeout */
};
typedef enum stop_next stop_action(struct service *);
extern stop_action *const stop_table[SP__N][SPE__N];
stop_action	 sp_ignore;
enum stop_next	 stop_dispatch(struct service *, enum stop_event);
uint64_t	 stop_wait_ms(const struct service *);

/* standby.c: standby = yes, a table of its own */
enum sb_event {
	SBE_TICK,		/* the loop's round: build, or drop */
	SBE_BUILT,		/* the backend: its build is done */
	SBE_BUILD_FAILED,
	SBE_GONE,		/* the backend: its domain died, or is destroyed */
	SBE_SHUTDOWN,		/* the backend: its domain shut down */
	SBE_DESTROY_FAILED,
	SBE_ACTIVATE,		/* a start: renamed and unpaused, it runs */
	SBE_DISCARD,		/* its service is gone */
	SBE_LEFTOVER,		/* adoption: a standby of the last domud */
	SBE_STALE,		/* reload: its definition changed */
	SBE_HELLO,		/* booting ahead: its agent answered */
	SBE__N
};
/* what an event brings */
struct sb_in {
	const struct be_event	*ev;	/* the backend's events */
	const struct be_found	*found;	/* SBE_LEFTOVER */
	struct be_event		*out;	/* SBE_ACTIVATE: its created event */
};
/* 1: SBE_ACTIVATE started the service from its standby; otherwise 0 */
typedef int sb_action(struct service *, const struct sb_in *);
extern sb_action *const sb_table[SB__N][SBE__N];
sb_action	 sb_ignore;
int		 standby_dispatch(struct service *, enum sb_event,
		    const struct sb_in *);
/* a backend event about the standby: dispatched, and 1; 0: not its */
int		 standby_event(struct service *, const struct be_event *);
/* the console of a standby booted ahead, in the loop */
void		 standby_before_poll(struct service *, uint64_t now,
		    struct pollfd *, int *nfds, int max, int *timeout_ms);
void		 standby_after_poll(struct service *, struct pollfd *, int nfds);

/* retire.c: a domain handed over by a switch, a table of its own */
enum rt_event {
	RTE_BEGIN,		/* the handover: the service's domain retires */
	RTE_TICK,		/* the loop's round: its deadline */
	RTE_SHUTDOWN,		/* the backend: it shut down */
	RTE_GONE,		/* the backend: it died, or is destroyed */
	RTE_DESTROY_FAILED,
	RTE_LEFTOVER,		/* adoption: one the last domud retired */
	RTE_DISCARD,		/* its service is gone */
	RTE__N
};
/* what an event brings: the domain (RTE_BEGIN, RTE_LEFTOVER) */
struct rt_in {
	uint32_t		 domid;
	int			 shutdown;	/* RTE_LEFTOVER: it has already */
	const struct be_event	*ev;
};
/* RTE_BEGIN: 0 when it retires, -1 when it cannot (it serves on) */
typedef int rt_action(struct service *, const struct rt_in *);
extern rt_action *const rt_table[RT__N][RTE__N];
rt_action	 rt_ignore;
int		 retire_dispatch(struct service *, enum rt_event,
		    const struct rt_in *);
/* a backend event about the retiring domain: dispatched, and 1 */
int		 retire_event(struct service *, const struct be_event *);
void		 retire_before_poll(struct service *, uint64_t now,
		    int *timeout_ms);

/* idle.c: memres idle, a table of its own */
enum idle_event {
	IE_USED,	/* a command: the idle timeout counts from it */
	IE_IDLE,	/* the keepalive: no command for idle_timeout */
	IE_WAKE,	/* a command for a paused one (why: which) */
	IE_RESUMED,	/* Xen runs it again, unpaused outside domud */
	IE_ADOPTED,	/* state.json: the last domud paused it, idle */
	IE_READY,	/* its agent answered */
	IE_GONE,	/* its domain is gone */
	IE__N
};
/* IE_WAKE: 0, or -1 when Xen would not resume it; otherwise 0 */
typedef int idle_action(struct service *, const char *why);
extern idle_action *const idle_table[IDLE__N][IE__N];
idle_action	 idle_ignore;
int		 idle_dispatch(struct service *, enum idle_event, const char *);

/* pools.c: the cpupools of domud.conf */
int		 pools_sync(struct supervisor *);
void		 pools_owned_add(struct supervisor *, const char *);

#endif
