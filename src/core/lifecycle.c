// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The lifecycle of a service: every change of state is an event through
 * sup_dispatch(), which looks up the action in a [state][event] table (as
 * s6-supervise does); only actions call svc_set_state(). Every pair is
 * written: an event that does not apply in a state has a_ignore, the
 * explicit no-op (logged at debug level). The backend reports from
 * after_poll only, so actions never run inside a libxl call. What follows
 * the end of a domain is one field, s->after. The destroying state's
 * actions are in destroy.c; a stop asks the stop phases (stopping.c), a
 * start from a standby asks standby.c, and the end of a domain tells the
 * stop, idle and health machines, by their events.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "console.h"
#include "base/log.h"
#include "net/net.h"
#include "supervisor.h"
#include "base/util.h"

static void svc_try_start(struct service *);

/* ---- the start timing breakdown ------------------------------------------- */

/* a start decided (a person, autostart, the policy): the clock starts */
static void
timing_begin(struct service *s)
{
	memset(&s->timing, 0, sizeof(s->timing));
	s->timing.asked = mono_ms();
}

const char *
kernel_from_str(enum be_kernel_from k)
{
	switch (k) {
	case BE_KERNEL_AS_IS:		return "as-is";
	case BE_KERNEL_CACHED:		return "cached";
	case BE_KERNEL_EXTRACTED:	return "extracted";
	case BE_KERNEL_FALLBACK:	return "fallback";
	}
	return "?";
}

static void
timing_created(struct service *s, const struct be_event *ev)
{
	struct svc_timing *t = &s->timing;

	t->running_at = mono_ms();
	if (t->asked == 0)
		return;		/* adopted: no start of ours to time */
	t->wait_ms = t->create_at > t->asked ? t->create_at - t->asked : 0;
	/* the builder's time is the kernel's, then libxl's */
	t->kernel_ms = ev->kernel_ms;
	t->kernel_from = ev->kernel_from;
	t->create_ms = ev->create_ms > ev->kernel_ms ? ev->create_ms -
	    ev->kernel_ms : 0;
	t->unpause_ms = ev->unpause_ms;
	t->to_running_ms = t->running_at - t->asked;
	t->from_standby = ev->standby;
	if (t->from_standby) {
		log_info("%s: started in %llu ms: waited %llu, its standby "
		    "renamed and unpaused in %llu", s->conf->name,
		    (unsigned long long)t->to_running_ms,
		    (unsigned long long)t->wait_ms,
		    (unsigned long long)t->unpause_ms);
		return;
	}
	log_info("%s: started in %llu ms: waited %llu, kernel %s in %llu, "
	    "libxl built it in %llu, unpaused in %llu", s->conf->name,
	    (unsigned long long)t->to_running_ms,
	    (unsigned long long)t->wait_ms, kernel_from_str(t->kernel_from),
	    (unsigned long long)t->kernel_ms, (unsigned long long)t->create_ms,
	    (unsigned long long)t->unpause_ms);
}
/* ---- actions ------------------------------------------------------------- */

static void
release_memory(struct service *s)
{
	s->memory_reserved = 0;
}

/* a start from the standby: rename, unpause, and it runs as if created;
 * 0 when there is none to use (a create follows) */
static int
start_from_standby(struct service *s)
{
	struct err e = ERR_INIT;
	struct be_event ev;
	struct sb_in in = { .out = &ev };
	uint8_t uuid[16];
	int rc;

	/* booting (a switch's, booted ahead): the old domain ended first */
	if ((s->sb.state != SB_READY && s->sb.state != SB_BOOTING) ||
	    s->sb.stale)
		return 0;
	svc_set_state(s, ST_STARTING);
	if ((rc = net_service_up(s->sup->net, s->conf, &e)) == -1) {
		memset(&ev, 0, sizeof(ev));
		ev.type = BE_CREATE_FAILED;
		strlcpy_(ev.svc, s->conf->name, sizeof(ev.svc));
		ev.err = e;
		sup_dispatch(s, EV_CREATE_FAILED, &ev);
		return 1;
	}
	s->net_active = rc == 1;
	if (s->log_has_run) {
		console_new_run(svc_logdir(s), s->conf->name);
		s->log_has_run = 0;
	}
	s->timing.create_at = mono_ms();
	memcpy(uuid, s->sb.uuid, 16);
	if (standby_dispatch(s, SBE_ACTIVATE, &in) == 0) {
		/* built afresh instead; the standby goes */
		if (s->net_active) {
			s->net_active = 0;
			net_service_down(s->sup->net);
		}
		return 0;
	}
	memcpy(s->run_uuid, uuid, 16);
	sup_dispatch(s, EV_CREATED, &ev);
	return 1;
}

/* a trial whose start is refused ends there: the other slot, now */
static void
refused_in_trial(struct service *s)
{
	char why[UPD_WHY_MAX];

	msgf(why, sizeof(why), "its start was refused: %s", s->last_error);
	if (update_dispatch(s, UPE_ENDED, why))
		svc_try_start(s);
}

static void
do_create(struct service *s)
{
	struct err e = ERR_INIT;
	struct svc_spec ss;
	char msg[256];
	int rc;

	if (s->pending_conf) {
		/* reload changed what the DomU is made of: use it now */
		service_conf_free(s->conf);
		s->conf = s->pending_conf;
		s->pending_conf = NULL;
		update_reconf(s);
	}
	svc_then(s, AFTER_POLICY);
	if (start_from_standby(s))
		return;
	svc_spec_init(s, &ss);
	if (s->sb.state != SB_NONE)	/* the twin of what it holds */
		be_uuid_twin(ss.spec.uuid, s->sb.uuid);
	if (s->sup->be->ops->check &&
	    s->sup->be->ops->check(s->sup->be, &ss.spec, &e) == -1)
		msgf(msg, sizeof(msg), "%s", e.msg);
	if (e.msg[0] || admission(s, &ss.spec, &s->memory_reserved, msg,
	    sizeof(msg)) == -1) {
		/* not a crash: no restart, no budget */
		svc_spec_dispose(&ss);
		s->last_exit = EXIT_REFUSED;
		strlcpy_(s->last_error, msg, sizeof(s->last_error));
		log_warnx("%s: start refused: %s", s->conf->name, msg);
		svc_set_state(s, ST_STOPPED);
		refused_in_trial(s);
		return;
	}
	svc_set_state(s, ST_STARTING);
	if ((rc = net_service_up(s->sup->net, s->conf, &e)) == -1) {
		struct be_event ev;

		svc_spec_dispose(&ss);
		memset(&ev, 0, sizeof(ev));
		ev.type = BE_CREATE_FAILED;
		strlcpy_(ev.svc, s->conf->name, sizeof(ev.svc));
		ev.err = e;
		sup_dispatch(s, EV_CREATE_FAILED, &ev);
		return;
	}
	s->net_active = rc == 1;
	/* a new run: the log of the one before is kept for logs --previous
	 * (not for a create that fails: that run's story is still there) */
	if (s->log_has_run) {
		console_new_run(svc_logdir(s), s->conf->name);
		s->log_has_run = 0;
	}
	s->timing.create_at = mono_ms();
	memcpy(s->run_uuid, ss.spec.uuid, 16);
	rc = s->sup->be->ops->create(s->sup->be, &ss.spec, &e);
	svc_spec_dispose(&ss);
	if (rc == -1) {
		struct be_event ev;

		if (e.status == EEXIST || e.status == BE_REFUSED) {
			/* someone else's domain has the name, or the machine
			 * cannot do what the configuration asks: not a crash,
			 * no retry (and a domain is neither adopted nor
			 * destroyed) */
			release_memory(s);
			if (s->net_active) {
				s->net_active = 0;
				net_service_down(s->sup->net);
			}
			s->last_exit = EXIT_REFUSED;
			if (e.status == BE_REFUSED)	/* said in the event */
				msgf(s->last_error, sizeof(s->last_error),
				    "start refused: %s", e.msg);
			svc_set_state(s, ST_STOPPED);
			/* which domain, and whose: look now */
			sup_reconcile(s->sup);
			msgf(s->last_error, sizeof(s->last_error), "start "
			    "refused: %s", s->conflict_domid ? s->conflict : e.msg);
			log_warnx("%s: %s", s->conf->name, s->last_error);
			refused_in_trial(s);
			return;
		}
		memset(&ev, 0, sizeof(ev));
		ev.type = BE_CREATE_FAILED;
		strlcpy_(ev.svc, s->conf->name, sizeof(ev.svc));
		ev.err = e;
		sup_dispatch(s, EV_CREATE_FAILED, &ev);
	}
}

static void
a_start(struct service *s, const struct be_event *ev)
{
	s->timer_at = 0;	/* from backoff: now, not later */
	svc_try_start(s);
}

/* autostart: all are queued before any starts, so that a service sees
 * the ones it is after= coming */
static void
a_queue(struct service *s, const struct be_event *ev)
{
	timing_begin(s);
	svc_set_state(s, ST_WAITING);
}

/* at start: a domain a previous domud left running is this service's */
static void
a_adopted(struct service *s, const struct be_event *ev)
{
	s->domid = ev->domid;
	svc_set_state(s, ST_RUNNING);
	health_begin(s);
}

/* at start: state.json says it had failed (this boot) */
static void
a_restore_failed(struct service *s, const struct be_event *ev)
{
	svc_set_state(s, ST_FAILED);
}

static void
svc_try_start(struct service *s)
{
	char why[64];

	s->failed_reason[0] = '\0';
	timing_begin(s);
	if (!deps_ready(s, why, sizeof(why))) {
		log_info("%s: waiting for %s", s->conf->name, why);
		svc_set_state(s, ST_WAITING);
		return;
	}
	do_create(s);
}

static void
a_deps_ready(struct service *s, const struct be_event *ev)
{
	do_create(s);
}

static void
a_cancel(struct service *s, const struct be_event *ev)
{
	s->timer_at = 0;
	svc_set_state(s, ST_STOPPED);
}

static void
a_stop_while_starting(struct service *s, const struct be_event *ev)
{
	/* libxl's create cannot be cut short cleanly: stop once it is up */
	svc_then(s, AFTER_STOP);
}

static void
a_created(struct service *s, const struct be_event *ev)
{
	struct err e = ERR_INIT;
	char *tty;

	release_memory(s);
	s->domid = ev->domid;
	s->started_mono = s->sup->now;
	s->last_error[0] = '\0';
	timing_created(s, ev);
	/* said before the state changes: dependents start on that change */
	svc_note(s, "running as domain %u", ev->domid);
	s->log_has_run = 1;
	svc_set_state(s, ST_RUNNING);
	health_begin(s);
	(void)update_dispatch(s, UPE_UP, NULL);
	tty = s->sup->be->ops->console_path(s->sup->be, ev->domid, &e);
	if (tty == NULL)
		log_warnx("%s: no console: %s", s->conf->name, e.msg);
	else {
		s->con = console_open(tty, svc_logdir(s), s->conf->name,
		    s->sup->cfg->d.console_log_max, &e);
		if (s->con == NULL)
			log_warnx("%s: %s", s->conf->name, e.msg);
		free(tty);
		agent_attach(s);
	}
	if (s->after == AFTER_STOP || s->after == AFTER_REMOVE)
		sup_dispatch(s, EV_STOP, NULL);
	else if (s->pending_conf)
		/* reloaded while it was being created: restart on the new one */
		sup_dispatch(s, EV_RESTART, NULL);
}

/* budget: restarts within the window; 1 when it is spent */
static int
budget_spent(struct service *s)
{
	uint64_t since = s->sup->now > s->conf->restart_window_ms ?
	    s->sup->now - s->conf->restart_window_ms : 0;
	unsigned i, n = 0;

	for (i = 0; i < s->nrestart_at && i < RESTART_HISTORY; i++)
		if (s->restart_at[i] >= since)
			n++;
	return s->conf->restart_limit == 0 || n >= s->conf->restart_limit;
}

static void
schedule_restart(struct service *s)
{
	char d[32];

	if (budget_spent(s)) {
		char w[32];

		format_duration(w, sizeof(w), s->conf->restart_window_ms);
		snprintf(s->failed_reason, sizeof(s->failed_reason),
		    "%s, restarted %u times within %s: giving up",
		    svc_exit_str(s->last_exit), s->conf->restart_limit, w);
		svc_note(s, "failed: %s", s->failed_reason);
		svc_set_state(s, ST_FAILED);
		return;
	}
	/* a run that stayed up long enough starts the backoff afresh */
	if (s->backoff_ms == 0 || (s->started_mono && s->sup->now -
	    s->started_mono >= s->conf->restart_stable_ms))
		s->backoff_ms = s->conf->restart_delay_ms;
	s->restart_at[s->nrestart_at++ % RESTART_HISTORY] = s->sup->now;
	s->restarts++;
	s->timer_at = s->sup->now + s->backoff_ms;
	format_duration(d, sizeof(d), s->backoff_ms);
	svc_note(s, "%s; restarting in %s", svc_exit_str(s->last_exit), d);
	s->backoff_ms *= 2;
	if (s->backoff_ms > s->conf->restart_delay_max_ms)
		s->backoff_ms = s->conf->restart_delay_max_ms;
	svc_set_state(s, ST_BACKOFF);
}

static int
exit_is_failure(enum svc_exit x)
{
	return x == EXIT_CRASH || x == EXIT_WATCHDOG || x == EXIT_DIED ||
	    x == EXIT_DESTROYED_OUTSIDE || x == EXIT_UNHEALTHY;
}

/* a failure: what the console said last is kept for status (the whole
 * run stays in the log until the next run, then in logs --previous) */
static void
fail_tail_take(struct service *s)
{
	struct err e = ERR_INIT;
	char *t;
	size_t n;

	if (s->con) {
		(void)console_read(s->con);	/* its last words first */
		console_settle(s->con);
	}
	t = console_tail(svc_logdir(s), s->conf->name, FAIL_TAIL_LINES, 0, 0, &e);
	n = strlen(t);
	free(s->fail_tail);
	if (n > FAIL_TAIL_MAX) {
		/* the newest bytes, from a line's start if there is one */
		const char *from = t + n - FAIL_TAIL_MAX, *nl = strchr(from, '\n');

		s->fail_tail = xstrdup(nl && nl[1] ? nl + 1 : from);
		free(t);
	} else
		s->fail_tail = t;
	s->fail_exit = s->last_exit;
	s->fail_wall = (int64_t)time(NULL);
}

/* what the service held of the domain that ran (health ended first) */
static void
run_release(struct service *s)
{
	s->domid = INVALID_DOMID_;
	console_close(s->con);
	s->con = NULL;
	s->console_retry_at = 0;
	s->ready = s->unresponsive = 0;
	s->paused = 0;
	s->paused_since = 0;
	(void)idle_dispatch(s, IE_GONE, NULL);
	destroy_reset(s);
	(void)stop_dispatch(s, SPE_GONE);
	if (s->net_active) {
		s->net_active = 0;
		net_service_down(s->sup->net);
	}
}

/* the domain is gone: decide what comes next */
static void
after_end(struct service *s)
{
	int failure;

	health_end(s);
	if (s->health_stop) {
		s->health_stop = 0;
		if (s->after == AFTER_POLICY)
			s->last_exit = EXIT_UNHEALTHY;
	}
	if (s->after == AFTER_POLICY && exit_is_failure(s->last_exit))
		fail_tail_take(s);
	run_release(s);
	switch (s->after) {
	case AFTER_REMOVE:
		svc_set_state(s, ST_STOPPED);
		return;
	case AFTER_RESTART:
		s->after = AFTER_POLICY;
		svc_try_start(s);
		return;
	case AFTER_POLICY:
		/* reload changed what it is made of: the new one, now */
		if (s->pending_conf && !s->sup->shutting_down) {
			svc_try_start(s);
			return;
		}
		if (!s->sup->shutting_down)
			break;
		/* FALLTHROUGH */
	case AFTER_STOP:
		s->after = AFTER_POLICY;
		if (!s->sup->shutting_down)
			(void)update_dispatch(s, UPE_STOPPED, NULL);
		svc_note(s, "stopped (%s; phase %s)", svc_exit_str(s->last_exit),
		    stop_phase_str(s->stop.stopped_in));
		svc_set_state(s, ST_STOPPED);
		return;
	}
	/* a trial that ends, by a reboot too (a guest that reboots in its
	 * trial is not proven): the other slot, before any policy */
	if (update_dispatch(s, UPE_ENDED, svc_exit_str(s->last_exit))) {
		svc_try_start(s);
		return;
	}
	if (s->last_exit == EXIT_REBOOT) {
		/* an in-guest reboot is the same service again, not a failure */
		svc_note(s, "rebooted by the guest");
		svc_try_start(s);
		return;
	}
	failure = s->last_exit != EXIT_POWEROFF;
	if (s->conf->restart == RESTART_ALWAYS ||
	    (s->conf->restart == RESTART_ON_FAILURE && failure)) {
		schedule_restart(s);
		return;
	}
	if (failure) {
		snprintf(s->failed_reason, sizeof(s->failed_reason), "%s",
		    svc_exit_str(s->last_exit));
		svc_note(s, "failed: %s (restart=%s)", s->failed_reason,
		    restart_policy_str(s->conf->restart));
		svc_set_state(s, ST_FAILED);
	} else {
		svc_note(s, "stopped (%s)", svc_exit_str(s->last_exit));
		svc_set_state(s, ST_STOPPED);
	}
}

static void
a_create_failed(struct service *s, const struct be_event *ev)
{
	release_memory(s);
	s->last_exit = EXIT_CREATE_FAILED;
	strlcpy_(s->last_error, ev ? ev->err.msg : "create failed",
	    sizeof(s->last_error));
	svc_note(s, "create failed: %s", s->last_error);
	s->started_mono = 0;
	after_end(s);
}
static enum svc_exit
exit_of(enum shutdown_reason r)
{
	switch (r) {
	case SR_DESTROYED:
		return EXIT_DESTROYED_OUTSIDE;
	case SR_POWEROFF:
		return EXIT_POWEROFF;
	case SR_REBOOT:
		return EXIT_REBOOT;
	case SR_CRASH:
		return EXIT_CRASH;
	case SR_WATCHDOG:
		return EXIT_WATCHDOG;
	default:
		return EXIT_DIED;
	}
}

static void
a_shutdown(struct service *s, const struct be_event *ev)
{
	/* asked to stop and it obeyed (any reason) vs. the guest's own doing */
	s->last_exit = s->state == ST_STOPPING ? EXIT_STOPPED :
	    exit_of(ev->reason);
	start_destroy(s);
}

/*
 * The domain is gone. Someone else's destroy (SR_DESTROYED) is a death
 * like any other, so the restart policy applies, but it says whose it was;
 * a stop that was asked for stays a stop.
 */
static void
a_died(struct service *s, const struct be_event *ev)
{
	if (ev && ev->reason == SR_DESTROYED && s->state != ST_DESTROYING) {
		s->last_exit = EXIT_DESTROYED_OUTSIDE;
		snprintf(s->last_error, sizeof(s->last_error), "domain %u was "
		    "destroyed outside domud", ev->domid);
		svc_warn(s, "%s (not by domud: xl destroy?)", s->last_error);
	} else if (s->state == ST_STOPPING)
		s->last_exit = EXIT_STOPPED;
	else if (s->state != ST_DESTROYING)
		s->last_exit = ev && ev->reason != SR_NONE ?
		    exit_of(ev->reason) : EXIT_DIED;
	s->timer_at = 0;
	after_end(s);
}

/*
 * destroying, and Xen says the domain is dead: libxl's destroy may still
 * be taking its devices down (their hotplug scripts). The next domain
 * waits for that: its own block script would wait on the old one's lock,
 * and a slow board times it out.
 */
static void
a_died_destroying(struct service *s, const struct be_event *ev)
{
	if (s->destroy.inflight) {
		log_info("%s: domain %u is dead; its destroy finishes first",
		    s->conf->name, s->domid);
		return;
	}
	a_died(s, ev);
}

static void
a_destroyed(struct service *s, const struct be_event *ev)
{
	after_end(s);
}
/* what the stop machine says comes next */
static void
stop_follow(struct service *s, enum stop_next next)
{
	switch (next) {
	case SN_NONE:
		break;
	case SN_WAIT:
		s->timer_at = s->sup->now + stop_wait_ms(s);
		svc_set_state(s, ST_STOPPING);
		break;
	case SN_DESTROY:
		s->last_exit = EXIT_STOP_DESTROYED;
		start_destroy(s);
		break;
	}
}

static void
a_stop(struct service *s, const struct be_event *ev)
{
	svc_then(s, AFTER_STOP);
	/* paused while idle: its agent must run to sync and power off */
	(void)svc_wake(s, "stop");
	stop_follow(s, stop_dispatch(s, SPE_BEGIN));
}

static void
a_stop_timeout(struct service *s, const struct be_event *ev)
{
	stop_follow(s, stop_dispatch(s, SPE_TIMEOUT));
}

/* daemon stop: the overall deadline overrides each stop_timeout */
static void
a_deadline(struct service *s, const struct be_event *ev)
{
	svc_note(s, "shutdown_timeout reached: destroying");
	s->last_exit = EXIT_STOP_DESTROYED;
	start_destroy(s);
}

/* restart a running service: stop it, then start it again */
static void
a_restart(struct service *s, const struct be_event *ev)
{
	a_stop(s, ev);
	svc_then(s, AFTER_RESTART);
}

/*
 * A switch whose new domain booted ahead (update.c): the old one retires
 * aside (retire.c) and the new one takes the name, so the downtime is a
 * rename and an unpause, not the old one's stop. Without a booted standby,
 * or when the old domain cannot step aside, a restart: stop, then start.
 */
static void
a_handover(struct service *s, const struct be_event *ev)
{
	struct rt_in in = { .domid = s->domid };

	if (s->sb.state != SB_READY || !s->sb.booted || s->sb.stale ||
	    retire_dispatch(s, RTE_BEGIN, &in) == -1) {
		a_restart(s, ev);
		return;
	}
	health_end(s);
	s->last_exit = EXIT_STOPPED;
	run_release(s);
	svc_then(s, AFTER_POLICY);
	timing_begin(s);
	/* a standby that fails its activation goes: a build follows, once
	 * the retiring domain is gone (deps_ready) */
	if (!start_from_standby(s))
		svc_try_start(s);
}

/* already going down: start it again once it is */
static void
a_restart_when_down(struct service *s, const struct be_event *ev)
{
	svc_then(s, AFTER_RESTART);
}

static void
a_backoff_done(struct service *s, const struct be_event *ev)
{
	s->timer_at = 0;
	svc_try_start(s);
}

/* adoption: a domain of ours that was half made when domud died */
static void
a_destroy_half_made(struct service *s, const struct be_event *ev)
{
	start_destroy(s);
}

/* health_restart: down through the normal stop, then the policy, as a
 * failure (after_end makes it EXIT_UNHEALTHY) */
static void
a_unhealthy(struct service *s, const struct be_event *ev)
{
	a_stop(s, ev);
	svc_then(s, AFTER_POLICY);
	s->health_stop = 1;
}

void
svc_unhealthy(struct service *s, const char *why)
{
	strlcpy_(s->last_error, why, sizeof(s->last_error));
	svc_warn(s, "%s: stopping (health_restart)", why);
	sup_dispatch(s, EV_UNHEALTHY, NULL);
}

/* the explicit no-op of the table: the event does not apply (sup_dispatch
 * logs it at debug level) */
void
a_ignore(struct service *s, const struct be_event *ev)
{
}

/*
 * Every pair is written: an action, or a_ignore where the event does not
 * apply in that state (a stop of a stopped service, a late backend event).
 * test_tables.c checks that no cell is left empty.
 */
action_fn *const sup_lifecycle[ST__N][EV__N] = {
	[ST_STOPPED] = {
		[EV_START] = a_start,
		[EV_STOP] = a_ignore,
		[EV_RESTART] = a_start,
		[EV_DEPS_READY] = a_ignore,
		[EV_CREATED] = a_ignore,
		[EV_CREATE_FAILED] = a_ignore,
		[EV_SHUTDOWN] = a_ignore,
		[EV_DIED] = a_ignore,
		[EV_DESTROYED] = a_ignore,
		[EV_DESTROY_FAILED] = a_ignore,
		[EV_TIMER] = a_ignore,
		[EV_AUTOSTART] = a_queue,
		[EV_ADOPTED] = a_adopted,
		[EV_RESTORE_FAILED] = a_restore_failed,
		[EV_DESTROY_HALF_MADE] = a_destroy_half_made,
		[EV_DEADLINE] = a_ignore,
		[EV_UNHEALTHY] = a_ignore,
		[EV_HANDOVER] = a_start,
	},
	[ST_WAITING] = {
		[EV_START] = a_ignore,
		[EV_STOP] = a_cancel,
		[EV_RESTART] = a_ignore,
		[EV_DEPS_READY] = a_deps_ready,
		[EV_CREATED] = a_ignore,
		[EV_CREATE_FAILED] = a_ignore,
		[EV_SHUTDOWN] = a_ignore,
		[EV_DIED] = a_ignore,
		[EV_DESTROYED] = a_ignore,
		[EV_DESTROY_FAILED] = a_ignore,
		[EV_TIMER] = a_ignore,
		[EV_AUTOSTART] = a_ignore,
		[EV_ADOPTED] = a_ignore,
		[EV_RESTORE_FAILED] = a_ignore,
		[EV_DESTROY_HALF_MADE] = a_ignore,
		[EV_DEADLINE] = a_ignore,
		[EV_UNHEALTHY] = a_ignore,
		[EV_HANDOVER] = a_ignore,
	},
	[ST_STARTING] = {
		[EV_START] = a_ignore,
		[EV_STOP] = a_stop_while_starting,
		[EV_RESTART] = a_ignore,
		[EV_DEPS_READY] = a_ignore,
		[EV_CREATED] = a_created,
		[EV_CREATE_FAILED] = a_create_failed,
		[EV_SHUTDOWN] = a_ignore,
		[EV_DIED] = a_ignore,
		[EV_DESTROYED] = a_ignore,
		[EV_DESTROY_FAILED] = a_ignore,
		[EV_TIMER] = a_ignore,
		[EV_AUTOSTART] = a_ignore,
		[EV_ADOPTED] = a_ignore,
		[EV_RESTORE_FAILED] = a_ignore,
		[EV_DESTROY_HALF_MADE] = a_ignore,
		[EV_DEADLINE] = a_ignore,
		[EV_UNHEALTHY] = a_ignore,
		[EV_HANDOVER] = a_ignore,
	},
	[ST_RUNNING] = {
		[EV_START] = a_ignore,
		[EV_STOP] = a_stop,
		[EV_RESTART] = a_restart,
		[EV_DEPS_READY] = a_ignore,
		[EV_CREATED] = a_ignore,
		[EV_CREATE_FAILED] = a_ignore,
		[EV_SHUTDOWN] = a_shutdown,
		[EV_DIED] = a_died,
		[EV_DESTROYED] = a_ignore,
		[EV_DESTROY_FAILED] = a_ignore,
		[EV_TIMER] = a_ignore,
		[EV_AUTOSTART] = a_ignore,
		[EV_ADOPTED] = a_ignore,
		[EV_RESTORE_FAILED] = a_ignore,
		[EV_DESTROY_HALF_MADE] = a_ignore,
		[EV_DEADLINE] = a_ignore,
		[EV_UNHEALTHY] = a_unhealthy,
		[EV_HANDOVER] = a_handover,
	},
	[ST_STOPPING] = {
		[EV_START] = a_ignore,
		[EV_STOP] = a_ignore,
		[EV_RESTART] = a_restart_when_down,
		[EV_DEPS_READY] = a_ignore,
		[EV_CREATED] = a_ignore,
		[EV_CREATE_FAILED] = a_ignore,
		[EV_SHUTDOWN] = a_shutdown,
		[EV_DIED] = a_died,
		[EV_DESTROYED] = a_ignore,
		[EV_DESTROY_FAILED] = a_ignore,
		[EV_TIMER] = a_stop_timeout,
		[EV_AUTOSTART] = a_ignore,
		[EV_ADOPTED] = a_ignore,
		[EV_RESTORE_FAILED] = a_ignore,
		[EV_DESTROY_HALF_MADE] = a_ignore,
		[EV_DEADLINE] = a_deadline,
		[EV_UNHEALTHY] = a_ignore,
		[EV_HANDOVER] = a_restart_when_down,
	},
	[ST_DESTROYING] = {
		[EV_START] = a_ignore,
		[EV_STOP] = a_ignore,
		[EV_RESTART] = a_restart_when_down,
		[EV_DEPS_READY] = a_ignore,
		[EV_CREATED] = a_ignore,
		[EV_CREATE_FAILED] = a_ignore,
		[EV_SHUTDOWN] = a_ignore,
		[EV_DIED] = a_died_destroying,
		[EV_DESTROYED] = a_destroyed,
		[EV_DESTROY_FAILED] = a_destroy_failed,
		[EV_TIMER] = a_destroy_timer,
		[EV_AUTOSTART] = a_ignore,
		[EV_ADOPTED] = a_ignore,
		[EV_RESTORE_FAILED] = a_ignore,
		[EV_DESTROY_HALF_MADE] = a_ignore,
		[EV_DEADLINE] = a_ignore,
		[EV_UNHEALTHY] = a_ignore,
		[EV_HANDOVER] = a_restart_when_down,
	},
	[ST_BACKOFF] = {
		[EV_START] = a_start,
		[EV_STOP] = a_cancel,
		[EV_RESTART] = a_start,
		[EV_DEPS_READY] = a_ignore,
		[EV_CREATED] = a_ignore,
		[EV_CREATE_FAILED] = a_ignore,
		[EV_SHUTDOWN] = a_ignore,
		[EV_DIED] = a_ignore,
		[EV_DESTROYED] = a_ignore,
		[EV_DESTROY_FAILED] = a_ignore,
		[EV_TIMER] = a_backoff_done,
		[EV_AUTOSTART] = a_ignore,
		[EV_ADOPTED] = a_ignore,
		[EV_RESTORE_FAILED] = a_ignore,
		[EV_DESTROY_HALF_MADE] = a_ignore,
		[EV_DEADLINE] = a_ignore,
		[EV_UNHEALTHY] = a_ignore,
		[EV_HANDOVER] = a_start,
	},
	[ST_FAILED] = {
		[EV_START] = a_start,
		[EV_STOP] = a_cancel,
		[EV_RESTART] = a_start,
		[EV_DEPS_READY] = a_ignore,
		[EV_CREATED] = a_ignore,
		[EV_CREATE_FAILED] = a_ignore,
		[EV_SHUTDOWN] = a_ignore,
		[EV_DIED] = a_ignore,
		[EV_DESTROYED] = a_ignore,
		[EV_DESTROY_FAILED] = a_ignore,
		[EV_TIMER] = a_ignore,
		[EV_AUTOSTART] = a_ignore,
		[EV_ADOPTED] = a_ignore,
		[EV_RESTORE_FAILED] = a_ignore,
		[EV_DESTROY_HALF_MADE] = a_ignore,
		[EV_DEADLINE] = a_ignore,
		[EV_UNHEALTHY] = a_ignore,
		[EV_HANDOVER] = a_start,
	},
};

void
sup_dispatch(struct service *s, enum svc_event ev, const struct be_event *bev)
{
	action_fn *fn = sup_lifecycle[s->state][ev];

	struct supervisor *sup = s->sup;
	const struct be_event *saved_bev = sup->cur_bev;
	enum svc_event saved_ev = sup->cur_ev;
	int saved_in = sup->in_dispatch;

	if (fn == a_ignore) {
		log_debug("%s: event %d ignored in state %s", s->conf->name, ev,
		    svc_state_str(s->state));
		return;
	}
	/* an action may dispatch again (a stop that finds nothing to stop):
	 * the inner event is the cause of what it changes */
	sup->cur_ev = ev;
	sup->cur_bev = bev;
	sup->in_dispatch = 1;
	fn(s, bev);
	sup->cur_ev = saved_ev;
	sup->cur_bev = saved_bev;
	sup->in_dispatch = saved_in;
}

void
sup_be_notify(void *arg, const struct be_event *ev)
{
	static const enum svc_event map[] = {
		[BE_CREATED] = EV_CREATED,
		[BE_CREATE_FAILED] = EV_CREATE_FAILED,
		[BE_SHUTDOWN] = EV_SHUTDOWN,
		[BE_DIED] = EV_DIED,
		[BE_DESTROYED] = EV_DESTROYED,
		[BE_DESTROY_FAILED] = EV_DESTROY_FAILED,
	};
	struct supervisor *sup = arg;
	struct service *s;

	sup->now = mono_ms();
	if (ev->type == BE_DISK_DONE) {
		if (sup->disk_done)
			sup->disk_done(sup->disk_arg, ev);
		return;
	}
	if ((size_t)ev->type >= nitems(map) ||
	    (s = sup_find(sup, ev->svc)) == NULL) {
		log_debug("%s: event %d for an unknown service", ev->svc,
		    ev->type);
		return;
	}
	if (standby_event(s, ev) || retire_event(s, ev))
		return;
	/* a late event about a domain this service no longer runs */
	if (ev->type != BE_CREATED && ev->type != BE_CREATE_FAILED &&
	    ev->domid != s->domid) {
		log_debug("%s: stale event %d for domain %u", ev->svc,
		    ev->type, ev->domid);
		return;
	}
	sup_dispatch(s, map[ev->type], ev);
}
