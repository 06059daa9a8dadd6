/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_SERVICE_H
#define DOMUD_SERVICE_H

/*
 * The service model: one struct service per configured DomU, driven by a
 * [state][event] table of actions (s6-supervise style): every change of
 * state is an event through sup_dispatch(). The supervisor owns the
 * services, the backend, the console captures and, when there is one, the
 * network.
 */
#include <poll.h>
#include <stdint.h>
#include <time.h>

#include <yajl_gen.h>

#include "xen/backend.h"
#include "conf/config.h"
#include "events.h"
#include "health.h"
#include "update.h"

enum svc_state {
	ST_STOPPED,
	ST_WAITING,	/* for the services in after= */
	ST_STARTING,	/* create in flight */
	ST_RUNNING,
	ST_STOPPING,	/* shutdown asked, stop_timeout running */
	ST_DESTROYING,	/* destroy in flight */
	ST_BACKOFF,	/* waiting to restart */
	ST_FAILED,
	ST__N
};

enum svc_event {
	EV_START,
	EV_STOP,
	EV_RESTART,		/* stop (if up), then start again */
	EV_DEPS_READY,
	EV_CREATED,
	EV_CREATE_FAILED,
	EV_SHUTDOWN,
	EV_DIED,
	EV_DESTROYED,
	EV_DESTROY_FAILED,
	EV_TIMER,
	EV_AUTOSTART,		/* queued to start (waiting first) */
	EV_ADOPTED,		/* at start: its domain runs already */
	EV_RESTORE_FAILED,	/* at start: state.json says it failed */
	EV_DESTROY_HALF_MADE,	/* at start: its domain was half made */
	EV_DEADLINE,		/* daemon stop: shutdown_timeout is over */
	EV_UNHEALTHY,		/* its probe failed (health_restart) */
	EV_HANDOVER,		/* a switch: its standby, booted ahead, takes
				 * over; the old domain retires (retire.c) */
	EV__N
};

/* what follows when its domain is gone */
enum svc_after {
	AFTER_POLICY,		/* the guest's own doing: the restart policy */
	AFTER_STOP,		/* a stop was asked: stopped it stays */
	AFTER_RESTART,		/* a restart was asked: start again */
	AFTER_REMOVE,		/* gone from the configuration: dropped */
};

/* hot-plugged run disks take xvdq .. xvdz, which service files leave
 * alone; adoption detaches what a dead domud left there */
#define RUN_VDEV_FIRST	'q'
#define RUN_VDEV_LAST	'z'

/* how the last run ended */
enum svc_exit {
	EXIT_NONE,
	EXIT_STOPPED,		/* by request, the guest obeyed shutdown */
	EXIT_STOP_DESTROYED,	/* by request, destroyed after stop_timeout */
	EXIT_POWEROFF,		/* the guest powered itself off */
	EXIT_REBOOT,
	EXIT_CRASH,
	EXIT_WATCHDOG,
	EXIT_DIED,		/* vanished without a shutdown reason */
	EXIT_CREATE_FAILED,
	EXIT_REFUSED,		/* admission: not enough memory; a name taken */
	EXIT_DESTROYED_OUTSIDE,	/* someone else destroyed it (xl destroy) */
	EXIT_UNHEALTHY,		/* stopped for failing its probe */
};

/* the console lines kept from before a failure (status) */
#define FAIL_TAIL_LINES		20
#define FAIL_TAIL_MAX		4096

/* the supervisor's look at what Xen runs (sup_reconcile) */
#define RECONCILE_MS	2000
/* a pause that lasts this long was someone else's (xl destroy pauses too,
 * for as long as it takes the devices away) */
#define PAUSE_REPORT_MS	5000
/* a destroy not done, or an ended domain still dying, after this is stuck */
#define STUCK_MS	60000
/* retries of a destroy that failed: from this, doubling, up to 5 min */
#define DESTROY_RETRY_MS	5000
#define DESTROY_RETRY_MAX_MS	300000

#define RESTART_HISTORY	64

/* how a stop proceeds (memres: the agent first) */
enum stop_phase { SP_NONE, SP_AGENT, SP_PV, SP_DESTROY, SP__N };

/* the stop under way, phase by phase (stopping.c) */
struct svc_stop {
	enum stop_phase		 phase;		/* of the stop in progress */
	enum stop_phase		 stopped_in;	/* the phase that ended the last */
};

/* the destroy under way, ST_DESTROYING (destroy.c) */
struct svc_destroy {
	uint64_t		 started;
	uint64_t		 retry_ms;	/* the next retry's delay */
	int			 inflight;
	int			 stuck;		/* not done within STUCK_MS */
};

/* memres: idle, stopped or paused for it (idle.c) */
enum idle_state {
	IDLE_AWAKE,
	IDLE_PAUSED,	/* paused by us, for being idle; the next command
			 * resumes it */
	IDLE_STOPPED,	/* stopped for it; the next exec starts it */
	IDLE__N
};

struct svc_idle {
	enum idle_state		 state;
	uint64_t		 last_used;	/* last command, monotonic */
};

/* standby = yes: the next domain, built and paused (standby.c) */
enum sb_state {
	SB_NONE,
	SB_BUILDING,	/* create in flight */
	SB_READY,	/* built, paused: a start is an unpause */
	SB_DESTROYING,	/* stale or not wanted: being destroyed */
	SB_BOOTING,	/* a switch's, booted ahead (update_ahead = boot):
			 * running until its agent answers, then ready */
	SB__N
};

/* a domain handed over by a switch, powering off aside (retire.c) */
enum rt_state {
	RT_NONE,
	RT_STOPPING,	/* renamed NAME@retiring, asked to shut down */
	RT_DESTROYING,	/* shut down, or past stop_timeout */
	RT__N
};

struct svc_retiring {
	enum rt_state		 state;
	uint32_t		 domid;
	uint64_t		 deadline;	/* mono ms: destroyed then */
	uint64_t		 retry_at;	/* a destroy that failed */
};

struct console;

struct svc_standby {
	enum sb_state		 state;
	uint32_t		 domid;
	uint8_t			 uuid[16];	/* the UUID the standby holds */
	uint64_t		 reserved;	/* admission, while building */
	uint64_t		 retry_at;	/* after a failed build, mono ms */
	uint64_t		 built_ms;	/* the build took */
	int			 said;		/* the refusal below, said once */
	char			 error[160];	/* why there is none */
	int			 stale;		/* built from a definition since
						 * changed: destroyed, not used */
	/* booted ahead: its console (log NAME.log.next) and agent */
	struct console		*con;
	uint64_t		 boot_at, boot_by;	/* mono ms */
	int			 booted;	/* ready: booted, then paused */
	int			 pause_failed;	/* dropped at the next round */
};
struct supervisor;

struct service {
	struct service_conf	*conf;
	struct supervisor	*sup;
	enum svc_state		 state;
	uint32_t		 domid;
	uint64_t		 timer_at;	/* monotonic ms, 0 = none */
	uint64_t		 started_mono;	/* when it became running */
	uint64_t		 memory_reserved; /* admission, while starting */

	int			 held;		/* a person stopped it */
	enum svc_after		 after;		/* when the domain is gone */
	enum svc_exit		 last_exit;
	char			 last_error[256];
	char			 failed_reason[256];

	unsigned		 restarts;	/* automatic restarts, total */
	uint64_t		 backoff_ms;	/* the next delay */
	uint64_t		 restart_at[RESTART_HISTORY];
	unsigned		 nrestart_at;

	int			 net_active;	/* its forwards are in the rules */
	int			 ready;		/* memres: the agent answered */
	int			 unresponsive;	/* memres: a ping went unanswered */
	uint64_t		 next_ping;	/* monotonic ms */
	struct svc_stop		 stop;		/* stopping.c */
	struct svc_destroy	 destroy;	/* destroy.c */
	struct svc_idle		 idle;		/* idle.c */
	struct service_conf	*pending_conf;	/* reload: apply at restart */
	struct console		*con;
	uint64_t		 console_retry_at; /* lost console: reopen, ms */

	/* what Xen does that domud did not ask for (sup_reconcile) */
	int			 paused;	/* paused, not by domud: reported */
	uint64_t		 paused_since;	/* first seen paused, monotonic */
	/* Xen's figures for its domain, from the periodic listing: the
	 * last two samples make the CPU share */
	/* the last start, phase by phase (ms; 0 = not reached) */
	struct svc_timing {
		uint64_t	 asked;		/* mono: start decided */
		uint64_t	 create_at;	/* mono: handed to the backend */
		uint64_t	 running_at, ready_at;
		uint64_t	 wait_ms;	/* after=, admission, network */
		uint64_t	 kernel_ms;	/* the kernel cache */
		enum be_kernel_from kernel_from;
		uint64_t	 create_ms;	/* libxl: build and devices */
		uint64_t	 unpause_ms;
		uint64_t	 to_running_ms, to_ready_ms;
		int		 from_standby;	/* an unpause of its standby */
	}			 timing;
	struct svc_stats {
		uint32_t	 domid;		/* whose figures these are */
		uint64_t	 cpu_ns, at_ms;
		uint64_t	 prev_cpu_ns, prev_at_ms;
		uint64_t	 mem_bytes, max_mem_bytes;
		int		 vcpus_online;
	}			 stats;
	struct svc_health	 health;
	int			 health_stop;	/* the stop under way is health's */
	int			 log_has_run;	/* its log has a run since the last
						 * rotation (logs --previous) */
	char			*fail_tail;	/* console lines before the last */
	enum svc_exit		 fail_exit;	/* failure, neutralised */
	int64_t			 fail_wall;
	uint32_t		 conflict_domid; /* has its name, not its domain; 0 = none */
	char			 conflict[160];
	uint32_t		 dying_domid;	/* an ended domain of its, dying; 0 = none */
	uint64_t		 dying_since;
	int			 dying_reported;
	uint8_t			 run_uuid[16];	/* the UUID its domain holds */
	struct svc_standby	 sb;		/* standby.c */
	struct svc_retiring	 rt;		/* retire.c */
	struct svc_update	 upd;		/* update.c, updstore.c */
};

struct net;

struct supervisor {
	struct backend		*be;
	struct net		*net;		/* NULL: no networking (tests) */
	struct config		*cfg;
	struct service		**svcs;
	size_t			 nsvcs;
	int			 shutting_down;
	int			 keep_running;	/* this stop leaves DomUs up */
	int			 restoring;	/* adopting, loading: no saves */
	uint64_t		 shutdown_deadline;
	uint64_t		 now;		/* monotonic ms, this iteration */
	uint64_t		 next_reconcile; /* monotonic ms */
	/* disk attach/detach completions go to whoever asked (control) */
	void			(*disk_done)(void *, const struct be_event *);
	void			*disk_arg;
	/* the history; what is being dispatched and for whom, for its
	 * reasons and actors */
	struct events		 events;
	char			 actor[32];	/* "uid N" during a request */
	int			 in_dispatch;
	enum svc_event		 cur_ev;
	const struct be_event	*cur_bev;
	int			 reloading;
	int			 metrics_failing; /* said once, until it works */
	struct kcache		*kcache;	/* plain kernels (boot/kcache.h) */
	struct gio		*gio;		/* guest I/O (chan/gio.h) */
	/* cpupools (core/pools.c): the ones domud made or adopted for
	 * domud.conf (state.json keeps them, so that one dropped from the
	 * configuration is taken away), and why a configured one is not
	 * there */
	char			 pools_owned[CPUPOOLS_MAX * 2][64];
	size_t			 npools_owned;
	char			 pool_error[CPUPOOLS_MAX][160];
	int			 pools_pending;	/* a dropped pool still busy */
	int			 pools_synced;	/* once since domud started */
};

struct supervisor *sup_new(struct backend *, struct config *);
/* the binary the kernel cache runs to undo an image and the guest I/O
 * process is (domud's own, set by its main before sup_new); NULL (unit
 * tests): images undone in this process, the guest I/O in a fork of it */
extern const char *sup_helper_exe;
/* domud -I: the guests' bytes parsed in the daemon (to measure the
 * split against); never for a device */
extern int sup_guest_io_inline;
void		 sup_free(struct supervisor *);
/* networking (NULL: none, as in tests); net asks us which services are up */
void		 sup_set_net(struct supervisor *, struct net *);
struct service	*sup_find(struct supervisor *, const char *);
void		 sup_adopt(struct supervisor *);
/* what a service file alone gives the backend (no network, no cache) */
void		 svc_conf_spec(const struct service_conf *, struct be_domain_spec *);
/* make the cpupools of the configuration, take away dropped ones */
void		 sup_pools_sync(struct supervisor *);
/* state.json (persist.c): write what the services are; at start, apply
 * what it says to them (after adoption) */
int		 sup_save(struct supervisor *);
void		 sup_load(struct supervisor *);
void		 sup_autostart(struct supervisor *);
/* user verbs: 0, or -1 with e saying why; on 0, e->msg may still hold a
 * note for the user ("already running") with e->status 0 */
int		 sup_start(struct supervisor *, struct service *, struct err *);
int		 sup_stop(struct supervisor *, struct service *, struct err *);
int		 sup_restart(struct supervisor *, struct service *, struct err *);
/* daemon stop: stop everything in reverse order under one deadline, or,
 * with keep_running, leave every DomU running for the next domud */
void		 sup_shutdown(struct supervisor *);
/* 1 when the daemon may exit */
int		 sup_idle(struct supervisor *);
/* replace the configuration (already checked) */
void		 sup_reload(struct supervisor *, struct config *);

void		 sup_before_poll(struct supervisor *, struct pollfd *, int *nfds,
		    int max, int *timeout_ms);
void		 sup_after_poll(struct supervisor *, struct pollfd *, int nfds);
void		 sup_dispatch(struct service *, enum svc_event, const struct be_event *);
/* compare what Xen runs with what the services think (every RECONCILE_MS
 * from sup_after_poll): pauses, conflicts, domains stuck dying */
void		 sup_reconcile(struct supervisor *);
void		 sup_be_notify(void *, const struct be_event *);

const char	*svc_state_str(enum svc_state);
/* CPU use over the last sample interval, per mille of one vCPU; -1 when
 * not known yet */
int		 svc_cpu_permille(const struct service *);
/* memres: a command starts or ends (the idle timeout counts from it) */
void		 svc_used(struct service *);
const char	*stop_phase_str(enum stop_phase);
/* "ready" for a running service that is up by its ready= (the agent
 * answered, the first probe passed) */
const char	*svc_display_state(const struct service *);
/* running, and up as its ready= says */
int		 svc_ready(const struct service *);
/* it became ready (health.c, the agent): the event, and who waits on it */
void		 svc_ready_event(struct service *, const char *why,
		    const char *actor);
/* memres paused while idle: resume it (an admin's command); 0, or -1
 * when Xen would not (logged). why: what woke it, for the events */
int		 svc_wake(struct service *, const char *why);
/* state.json says the domain adopted paused was paused for being idle */
void		 svc_idle_adopted(struct service *);
/* health_restart: stop it through the normal path, as a failure */
void		 svc_unhealthy(struct service *, const char *why);
const char	*svc_exit_str(enum svc_exit);
const char	*kernel_from_str(enum be_kernel_from);
/* flags: SJ_DEVICES, its devices' counters (they cost a look at
 * xenstore, sysfs and netlink); SJ_FAILURE, the console's last lines
 * before its last failure (up to 4 KiB) */
#define SJ_DEVICES	0x1
#define SJ_FAILURE	0x2
#define SJ_PLACEMENT	0x4	/* its pool, affinity, scheduling, devices */
void		 svc_status_json(struct service *, yajl_gen, int flags);

#endif
