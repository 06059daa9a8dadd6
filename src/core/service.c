// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The service model and its supervisor: the services, their names and
 * notes, the history of their states, after= ordering, the user verbs,
 * the daemon's stop, the agent's keepalive and the loop's rounds. The
 * machines that drive a service live beside it, each in its own file
 * (supervisor.h says which). May call: the backend (backend.h), net
 * (address settings, forwards), console and the channel (memres).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "console.h"
#include "boot/kcache.h"
#include "base/log.h"
#include "chan/gio.h"
#include "net/net.h"
#include "supervisor.h"
#include "base/util.h"

const char *
svc_state_str(enum svc_state s)
{
	static const char *const names[ST__N] = {
		[ST_STOPPED] = "stopped", [ST_WAITING] = "waiting",
		[ST_STARTING] = "starting", [ST_RUNNING] = "running",
		[ST_STOPPING] = "stopping", [ST_DESTROYING] = "stopping",
		[ST_BACKOFF] = "backoff", [ST_FAILED] = "failed",
	};

	return (unsigned)s < ST__N ? names[s] : "?";
}

const char *
svc_exit_str(enum svc_exit e)
{
	switch (e) {
	case EXIT_NONE:			return "none";
	case EXIT_STOPPED:		return "stopped";
	case EXIT_STOP_DESTROYED:	return "destroyed after stop_timeout";
	case EXIT_POWEROFF:		return "poweroff";
	case EXIT_REBOOT:		return "reboot";
	case EXIT_CRASH:		return "crash";
	case EXIT_WATCHDOG:		return "watchdog";
	case EXIT_DIED:			return "died";
	case EXIT_CREATE_FAILED:	return "create failed";
	case EXIT_REFUSED:		return "refused";
	case EXIT_DESTROYED_OUTSIDE:	return "destroyed outside domud";
	case EXIT_UNHEALTHY:		return "unhealthy";
	}
	return "?";
}

const char *
svc_logdir(struct service *s)
{
	return s->sup->cfg->d.log_dir;
}

/* a note in domud's log and in the service's console log */
static void
vnote(struct service *s, int warn, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void
vnote(struct service *s, int warn, const char *fmt, va_list ap)
{
	char msg[400];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (warn)
		log_warnx("%s: %s", s->conf->name, msg);
	else
		log_info("%s: %s", s->conf->name, msg);
	console_note(svc_logdir(s), s->conf->name, s->sup->cfg->d.console_log_max,
	    "%s", msg);
}

void
svc_note(struct service *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(s, 0, fmt, ap);
	va_end(ap);
}

/* the same, for what someone should look at: a warning in domud's log */
void
svc_warn(struct service *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(s, 1, fmt, ap);
	va_end(ap);
}

static const char *const ev_words[EV__N] = {
	[EV_START] = "start",
	[EV_STOP] = "stop",
	[EV_RESTART] = "restart",
	[EV_DEPS_READY] = "after= ready",
	[EV_CREATED] = "created",
	[EV_CREATE_FAILED] = "create failed",
	[EV_SHUTDOWN] = "shutdown",
	[EV_DIED] = "died",
	[EV_DESTROYED] = "destroyed",
	[EV_DESTROY_FAILED] = "destroy failed",
	[EV_TIMER] = "timer",
	[EV_AUTOSTART] = "autostart",
	[EV_ADOPTED] = "adopted",
	[EV_RESTORE_FAILED] = "failed before domud restarted",
	[EV_DESTROY_HALF_MADE] = "half made",
	[EV_DEADLINE] = "shutdown_timeout",
	[EV_UNHEALTHY] = "unhealthy",
	[EV_HANDOVER] = "handover",
};

/* the states as the history names them: status shows destroying as
 * stopping, the history tells the two apart */
static const char *
ev_state(enum svc_state st)
{
	return st == ST_DESTROYING ? "destroying" : svc_state_str(st);
}

/* the history's entry for a change of state: why, and whose doing */
static void
svc_event_record(struct service *s, enum svc_state to)
{
	struct supervisor *sup = s->sup;
	const struct be_event *bev = sup->in_dispatch ? sup->cur_bev : NULL;
	const char *word = "domud", *actor = "domud";
	char reason[600];	/* events_add cuts it to its own size */

	if (sup->reloading)
		word = "reload";
	else if (sup->in_dispatch) {
		word = ev_words[sup->cur_ev];
		if (sup->cur_ev == EV_TIMER)
			word = s->state == ST_BACKOFF ? "backoff over" :
			    s->state == ST_STOPPING ? "stop_timeout" : "timer";
	}
	if (sup->actor[0])
		actor = sup->actor;
	else if (sup->in_dispatch && sup->cur_ev == EV_UNHEALTHY)
		actor = "health";
	else if (to == ST_BACKOFF || to == ST_FAILED ||
	    (sup->in_dispatch && sup->cur_ev == EV_TIMER &&
	    s->state == ST_BACKOFF))
		actor = "policy";
	else if (bev && (bev->type == BE_SHUTDOWN || bev->type == BE_DIED))
		actor = bev->reason == SR_WATCHDOG ? "xen" :
		    bev->reason == SR_DESTROYED ? "outside domud" : "guest";
	if (to == ST_FAILED && s->failed_reason[0])
		snprintf(reason, sizeof(reason), "%s: %s", word,
		    s->failed_reason);
	else if ((to == ST_BACKOFF || to == ST_STOPPED || to == ST_FAILED ||
	    to == ST_DESTROYING) && s->last_exit != EXIT_NONE) {
		const char *ex = svc_exit_str(s->last_exit);

		/* "create failed", not "create failed: create failed" */
		if (strcmp(word, ex) == 0)
			ex = "";
		snprintf(reason, sizeof(reason), "%s%s%s%s%s", word,
		    ex[0] ? ": " : "", ex, s->last_error[0] ? ": " : "",
		    s->last_error);
	}
	else if (to == ST_RUNNING && sup->in_dispatch &&
	    sup->cur_ev == EV_CREATED && s->timing.asked) {
		const struct svc_timing *t = &s->timing;
		char kern[64] = "";

		if (t->kernel_from != BE_KERNEL_AS_IS)
			snprintf(kern, sizeof(kern), "kernel %s in %llu, ",
			    kernel_from_str(t->kernel_from),
			    (unsigned long long)t->kernel_ms);
		/* the start's phases, as status shows them */
		if (t->from_standby)
			snprintf(reason, sizeof(reason), "%s in %llu ms: "
			    "waited %llu, its standby renamed and unpaused in "
			    "%llu", word, (unsigned long long)t->to_running_ms,
			    (unsigned long long)t->wait_ms,
			    (unsigned long long)t->unpause_ms);
		else
			snprintf(reason, sizeof(reason), "%s in %llu ms: "
			    "waited %llu, %sbuilt with its devices in %llu, "
			    "unpaused in %llu", word,
			    (unsigned long long)t->to_running_ms,
			    (unsigned long long)t->wait_ms, kern,
			    (unsigned long long)t->create_ms,
			    (unsigned long long)t->unpause_ms);
	} else
		snprintf(reason, sizeof(reason), "%s", word);
	events_add(&sup->events, s->conf->name, ev_state(s->state),
	    ev_state(to), reason, actor, mono_ms());
	log_info("event: %s %s -> %s (%s; by %s)", s->conf->name,
	    ev_state(s->state), ev_state(to), reason, actor);
}

void
svc_set_state(struct service *s, enum svc_state st)
{
	if (s->state == st)
		return;
	log_debug("%s: %s -> %s", s->conf->name, svc_state_str(s->state),
	    svc_state_str(st));
	svc_event_record(s, st);
	s->state = st;
	/* adoption and sup_load rebuild what was: nothing new to save */
	if (!s->sup->restoring && (st == ST_RUNNING || st == ST_STOPPED ||
	    st == ST_FAILED))
		(void)sup_save(s->sup);
	/* a service no longer on its way up can release those waiting on it;
	 * one that starts its way up (autostart queues them all first) not */
	if (st != ST_WAITING && st != ST_STARTING && st != ST_BACKOFF)
		sup_kick_waiting(s->sup);
}

/* what follows the end of the domain; a removed service stays removed */
void
svc_then(struct service *s, enum svc_after a)
{
	if (s->after != AFTER_REMOVE)
		s->after = a;
}

int
svc_ready(const struct service *s)
{
	if (s->state != ST_RUNNING)
		return 0;
	switch (s->conf->ready) {
	case READY_AGENT:
		return s->ready;
	case READY_HEALTH:
		return s->health.ready_seen;
	case READY_RUNNING:
		break;
	}
	return 1;
}

const char *
svc_display_state(const struct service *s)
{
	if (s->conf->ready != READY_RUNNING && svc_ready(s))
		return "ready";
	return svc_state_str(s->state);
}

/* ---- memres: the agent ------------------------------------------------------ */

/* not a state of the table, but what after= and `start --wait` wait for */
void
svc_ready_event(struct service *s, const char *why, const char *actor)
{
	char reason[400];

	snprintf(reason, sizeof(reason), "%s", why);
	if (s->timing.running_at && !s->timing.ready_at) {
		s->timing.ready_at = mono_ms();
		s->timing.to_ready_ms = s->timing.ready_at - s->timing.running_at;
		snprintf(reason, sizeof(reason), "%s, %llu ms after running", why,
		    (unsigned long long)s->timing.to_ready_ms);
	}
	if (s->state == ST_RUNNING) {
		events_add(&s->sup->events, s->conf->name, "running", "ready",
		    reason, actor, mono_ms());
		log_info("event: %s running -> ready (%s; by %s)",
		    s->conf->name, reason, actor);
	}
	sup_kick_waiting(s->sup);
}

static void
agent_ready(void *arg)
{
	struct service *s = arg;
	char why[160];

	if (s->ready)
		return;
	s->ready = 1;
	(void)idle_dispatch(s, IE_READY, NULL);
	s->unresponsive = 0;
	svc_note(s, "ready: %s", s->con && s->con->chan ? s->con->chan->agent : "");
	health_agent_ready(s);
	snprintf(why, sizeof(why), "agent answered: %s",
	    s->con && s->con->chan ? s->con->chan->agent : "");
	if (s->conf->ready == READY_AGENT)
		svc_ready_event(s, why, "guest");
}

void
agent_attach(struct service *s)
{
	if (!s->conf->memres || s->con == NULL)
		return;
	console_attach_channel(s->con, s->conf->agent_vxn, agent_ready, s);
	/* an adopted guest's agent said hello long ago: ask it now */
	s->next_ping = s->sup->now;
}

/* ---- dependencies ------------------------------------------------------- */

/* 1 when every after= service is running, or not on its way up at all:
 * ordering never pulls a service in (systemd's After=). */
int
deps_ready(struct service *s, char *why, size_t whysz)
{
	size_t i;

	/* a build waits for the domain a switch retired: it may hold the
	 * disks the new one is given (a start from the standby does not) */
	if (s->rt.state != RT_NONE && (s->sb.stale ||
	    (s->sb.state != SB_READY && s->sb.state != SB_BOOTING))) {
		snprintf(why, whysz, "its retiring domain %u", s->rt.domid);
		return 0;
	}

	for (i = 0; i < s->conf->nafter; i++) {
		struct service *d = sup_find(s->sup, s->conf->after[i]);

		if (d == NULL)
			continue;
		switch (d->state) {
		case ST_WAITING:
		case ST_STARTING:
		case ST_BACKOFF:
			snprintf(why, whysz, "%s", d->conf->name);
			return 0;
		case ST_RUNNING:
			/* up when its agent answers, or its first probe
			 * passes, if its ready= says so */
			if (!svc_ready(d)) {
				snprintf(why, whysz, "%s (%s)", d->conf->name,
				    d->conf->ready == READY_HEALTH ? "health" :
				    "agent");
				return 0;
			}
			break;
		default:
			break;
		}
	}
	return 1;
}

void
sup_kick_waiting(struct supervisor *sup)
{
	char why[64];
	size_t i;

	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];

		if (s->state == ST_WAITING && deps_ready(s, why, sizeof(why)))
			sup_dispatch(s, EV_DEPS_READY, NULL);
	}
}

/* the service's domains have its UUID or the twin (see backend.h) */
int
svc_uuid_ours(const struct service *s, const uint8_t uuid[16])
{
	uint8_t twin[16];

	be_uuid_twin(twin, s->conf->uuid);
	return memcmp(uuid, s->conf->uuid, 16) == 0 ||
	    memcmp(uuid, twin, 16) == 0;
}
/* ---- user verbs ----------------------------------------------------------- */

/* start clears failed and the budget: a person decided */
static void
svc_clear_for_start(struct service *s)
{
	s->held = 0;
	s->nrestart_at = 0;
	s->backoff_ms = 0;
	s->last_error[0] = '\0';
}

int
sup_start(struct supervisor *sup, struct service *s, struct err *e)
{
	sup->now = mono_ms();
	if (s->conf->errors)
		return err_set(e, EINVAL, "%s has configuration errors (see "
		    "domud -n)", s->conf->name);
	if (sup->shutting_down)
		return err_set(e, ESHUTDOWN, "domud is shutting down");
	switch (s->state) {
	case ST_STOPPED:
	case ST_FAILED:
	case ST_BACKOFF:
		svc_clear_for_start(s);
		sup_dispatch(s, EV_START, NULL);
		/* refused (memory) or failed at once (a missing kernel) */
		if (s->state != ST_STARTING && s->state != ST_WAITING &&
		    s->state != ST_RUNNING)
			return err_set(e, s->last_exit == EXIT_REFUSED ?
			    ENOMEM : EIO, "%s", s->last_error[0] ?
			    s->last_error : svc_exit_str(s->last_exit));
		return 0;
	case ST_STOPPING:
	case ST_DESTROYING:
		return err_set(e, EBUSY, "%s is stopping; start it when it is "
		    "stopped, or use restart", s->conf->name);
	default:
		/* not an error: e->msg says so, e->status stays 0 */
		msgf(e->msg, sizeof(e->msg), "%s is already %s", s->conf->name,
		    svc_state_str(s->state));
		return 0;
	}
}

int
sup_stop(struct supervisor *sup, struct service *s, struct err *e)
{
	sup->now = mono_ms();
	if (s->after == AFTER_RESTART)
		s->after = AFTER_STOP;
	/* autostart leaves it stopped until a person starts it (this boot);
	 * saved now: a domud killed before the domain is down must not
	 * start it again */
	if (!sup->shutting_down && !s->held) {
		s->held = 1;
		(void)sup_save(sup);
	}
	switch (s->state) {
	case ST_STOPPED:
		msgf(e->msg, sizeof(e->msg), "%s is already stopped",
		    s->conf->name);
		(void)sup_save(sup);
		return 0;
	case ST_STOPPING:
	case ST_DESTROYING:
		svc_then(s, AFTER_STOP);
		return 0;
	default:
		sup_dispatch(s, EV_STOP, NULL);
		return 0;
	}
}

int
sup_restart(struct supervisor *sup, struct service *s, struct err *e)
{
	sup->now = mono_ms();
	switch (s->state) {
	case ST_RUNNING:
	case ST_STOPPING:
	case ST_DESTROYING:
		sup_dispatch(s, EV_RESTART, NULL);
		return 0;
	case ST_STARTING:
	case ST_WAITING:
		msgf(e->msg, sizeof(e->msg), "%s is %s", s->conf->name,
		    svc_state_str(s->state));
		return 0;
	default:
		return sup_start(sup, s, e);
	}
}

/* ---- supervisor ---------------------------------------------------------- */

/* health's verdicts the service acts on */
static void
svc_health_report(struct service *s, enum health_report r, const char *why)
{
	switch (r) {
	case HR_READY:
		svc_ready_event(s, why, "health");
		break;
	case HR_UNHEALTHY:
		svc_unhealthy(s, why);
		break;
	}
}

const char *sup_helper_exe;
int sup_guest_io_inline;

struct service *
svc_new(struct supervisor *sup, struct service_conf *conf)
{
	struct service *s = xcalloc(1, sizeof(*s));

	s->conf = conf;
	s->sup = sup;
	s->domid = INVALID_DOMID_;
	s->state = ST_STOPPED;
	health_init(s, svc_health_report);
	/* a log from before domud started is an earlier run's */
	s->log_has_run = 1;
	update_open(s);
	return s;
}

void
svc_free(struct service *s)
{
	if (s == NULL)
		return;
	health_end(s);
	(void)standby_dispatch(s, SBE_DISCARD, NULL);
	(void)retire_dispatch(s, RTE_DISCARD, NULL);
	update_close(s);
	console_close(s->con);
	free(s->fail_tail);
	service_conf_free(s->conf);
	service_conf_free(s->pending_conf);
	free(s);
}

/* the cpupools, and state.json when the names domud owns changed */
void
sup_pools_sync(struct supervisor *sup)
{
	if (pools_sync(sup) && !sup->restoring)
		(void)sup_save(sup);
}

/* The supervisor takes the services of cfg (cfg keeps the rest). */
struct supervisor *
sup_new(struct backend *be, struct config *cfg)
{
	struct supervisor *sup = xcalloc(1, sizeof(*sup));
	size_t i;

	sup->be = be;
	sup->cfg = cfg;
	be->notify = sup_be_notify;
	be->notify_arg = sup;
	sup->svcs = xcalloc(cfg->nsvcs, sizeof(*sup->svcs));
	for (i = 0; i < cfg->nsvcs; i++) {
		sup->svcs[sup->nsvcs++] = svc_new(sup, cfg->svcs[i]);
		cfg->svcs[i] = NULL;
	}
	cfg->nsvcs = 0;
	sup->now = mono_ms();
	events_init(&sup->events, sup->cfg->d.events_max);
	{
		char *dir;

		if (asprintf(&dir, "%s/kernels", cfg->d.state_dir) < 0)
			fatal("asprintf");
		sup->kcache = kcache_new(dir, cfg->d.kernel_cache_max);
		/* images are undone by domud's own binary, as nobody */
		sup->kcache->helper = sup_helper_exe;
		free(dir);
	}
	/* and the guests' consoles parsed by another of its runs */
	sup->gio = gio_new(sup_helper_exe, sup_guest_io_inline);
	console_set_gio(sup->gio);
	return sup;
}

/* for net: the configurations of the services whose forwards are in */
static const struct service_conf **
sup_net_active(void *arg, size_t *n)
{
	struct supervisor *sup = arg;
	const struct service_conf **v;
	size_t i;

	v = xcalloc(sup->nsvcs + 1, sizeof(*v));
	*n = 0;
	for (i = 0; i < sup->nsvcs; i++)
		if (sup->svcs[i]->net_active)
			v[(*n)++] = sup->svcs[i]->conf;
	return v;
}

void
sup_set_net(struct supervisor *sup, struct net *net)
{
	sup->net = net;
	if (net)
		net_set_active(net, sup_net_active, sup);
}

void
sup_free(struct supervisor *sup)
{
	size_t i;

	if (sup == NULL)
		return;
	for (i = 0; i < sup->nsvcs; i++)
		svc_free(sup->svcs[i]);
	free(sup->svcs);
	config_free(sup->cfg);
	events_free(&sup->events);
	kcache_free(sup->kcache);
	console_set_gio(NULL);
	gio_free(sup->gio);
	free(sup);
}

struct service *
sup_find(struct supervisor *sup, const char *name)
{
	size_t i;

	for (i = 0; i < sup->nsvcs; i++)
		if (strcmp(sup->svcs[i]->conf->name, name) == 0)
			return sup->svcs[i];
	return NULL;
}

void
sup_autostart(struct supervisor *sup)
{
	size_t i;

	sup->now = mono_ms();
	/* independent services start together; after= holds back the rest */
	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];

		if (s->conf->errors) {
			log_warnx("%s: not started: configuration errors",
			    s->conf->name);
			continue;
		}
		if (s->held) {
			log_info("%s: stopped by a person earlier: not started",
			    s->conf->name);
			continue;
		}
		if (s->conf->autostart)
			sup_dispatch(s, EV_AUTOSTART, NULL);
	}
	sup_kick_waiting(sup);
	for (i = 0; i < sup->nsvcs; i++) {
		char why[64];

		if (sup->svcs[i]->state == ST_WAITING &&
		    !deps_ready(sup->svcs[i], why, sizeof(why)))
			log_info("%s: waiting for %s", sup->svcs[i]->conf->name,
			    why);
	}
}

/* a service's domain is running: watch it, capture its console */

/* a service is stopped on daemon shutdown once nothing after= it is up */
static int
has_live_dependents(struct supervisor *sup, struct service *s)
{
	size_t i, a;

	for (i = 0; i < sup->nsvcs; i++) {
		struct service *d = sup->svcs[i];

		if (d->state == ST_STOPPED || d->state == ST_FAILED)
			continue;
		for (a = 0; a < d->conf->nafter; a++)
			if (strcmp(d->conf->after[a], s->conf->name) == 0)
				return 1;
	}
	return 0;
}

void
sup_shutdown(struct supervisor *sup)
{
	struct err e = ERR_INIT;
	size_t i;

	sup->now = mono_ms();
	if (!sup->shutting_down) {
		sup->shutting_down = 1;
		sup->keep_running = sup->cfg->d.keep_running;
		sup->shutdown_deadline = sup->now + sup->cfg->d.shutdown_timeout_ms;
		if (sup->keep_running)
			log_info("keep_running: leaving the DomUs running for the "
			    "next domud");
	}
	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];

		if (sup->keep_running) {
			/* nothing new starts; what runs stays */
			if (s->state == ST_WAITING || s->state == ST_BACKOFF)
				sup_dispatch(s, EV_STOP, NULL);
			continue;
		}
		switch (s->state) {
		case ST_WAITING:
		case ST_BACKOFF:
			sup_dispatch(s, EV_STOP, NULL);
			break;
		case ST_RUNNING:
			if (!has_live_dependents(sup, s) &&
			    sup_stop(sup, s, &e) == -1)
				log_warnx("%s: stop: %s", s->conf->name, e.msg);
			break;
		case ST_STARTING:
			/* stopped once it is up */
			sup_dispatch(s, EV_STOP, NULL);
			break;
		case ST_STOPPING:
			if (sup->now >= sup->shutdown_deadline)
				sup_dispatch(s, EV_DEADLINE, NULL);
			break;
		default:
			break;
		}
	}
}

int
sup_idle(struct supervisor *sup)
{
	size_t i;

	for (i = 0; i < sup->nsvcs; i++) {
		/* a standby is never left behind (adoption would destroy it),
		 * nor a retiring domain */
		if (sup->svcs[i]->sb.state != SB_NONE ||
		    sup->svcs[i]->rt.state != RT_NONE)
			return 0;
		if (sup->keep_running && (sup->svcs[i]->state == ST_RUNNING ||
		    sup->svcs[i]->state == ST_STOPPING))
			continue;
		if (sup->svcs[i]->state != ST_STOPPED &&
		    sup->svcs[i]->state != ST_FAILED)
			return 0;
	}
	return 1;
}

int
svc_cmp_name(const void *a, const void *b)
{
	const struct service *const *x = a, *const *y = b;

	return strcmp((*x)->conf->name, (*y)->conf->name);
}

void
sup_before_poll(struct supervisor *sup, struct pollfd *fds, int *nfds,
    int max, int *timeout_ms)
{
	uint64_t now = mono_ms();
	size_t i;

	gio_before_poll(sup->gio, fds, nfds, max, timeout_ms);
	if (sup->be->ops->list) {
		uint64_t left = sup->next_reconcile > now ?
		    sup->next_reconcile - now : 0;

		if (*timeout_ms < 0 || left < (uint64_t)*timeout_ms)
			*timeout_ms = (int)left;
	}
	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];

		if (s->con == NULL && s->console_retry_at) {
			uint64_t left = s->console_retry_at > now ?
			    s->console_retry_at - now : 0;

			if (*timeout_ms < 0 || left < (uint64_t)*timeout_ms)
				*timeout_ms = (int)left;
		}
		if (s->timer_at) {
			uint64_t left = s->timer_at > now ? s->timer_at - now : 0;

			if (*timeout_ms < 0 || left < (uint64_t)*timeout_ms)
				*timeout_ms = (int)(left > 60000 ? 60000 : left);
		}
		health_before_poll(s, fds, nfds, max, timeout_ms);
		update_before_poll(s, fds, nfds, max, timeout_ms);
		standby_before_poll(s, now, fds, nfds, max, timeout_ms);
		retire_before_poll(s, now, timeout_ms);
		if (s->con && !s->con->hup && *nfds < max) {
			fds[*nfds].fd = s->con->fd;
			fds[*nfds].events = console_want_read(s->con) ? POLLIN :
			    0;
			if (console_want_write(s->con))
				fds[*nfds].events |= POLLOUT;
			fds[*nfds].revents = 0;
			(*nfds)++;
		}
		if (s->con && s->con->chan) {
			uint64_t t = 0, left;

			if (s->next_ping && (t == 0 || s->next_ping < t))
				t = s->next_ping;
			if (s->conf->idle_timeout_ms && s->ready) {
				uint64_t idle = s->idle.last_used +
				    s->conf->idle_timeout_ms;

				if (t == 0 || idle < t)
					t = idle;
			}
			if (t) {
				left = t > now ? t - now : 0;
				if (*timeout_ms < 0 || left < (uint64_t)*timeout_ms)
					*timeout_ms = (int)(left > 60000 ? 60000 :
					    left);
			}
		}
	}
}
/* memres keepalive: a ping every ping_interval; unanswered for
 * ping_timeout, the agent is unresponsive (and, if so configured, the
 * service restarts) */
static void
agent_keepalive(struct service *s)
{
	struct gio_chan *ch = s->con->chan;
	uint64_t now = s->sup->now;

	/* a paused guest cannot answer: no verdict on it, no idle stop */
	if (s->state != ST_RUNNING || s->paused || s->idle.state == IDLE_PAUSED)
		return;
	if (ch->ping_sent == 0 && s->unresponsive) {
		s->unresponsive = 0;
		svc_note(s, "agent answers again");
	}
	if (ch->ping_sent && now - ch->ping_sent >= s->conf->ping_timeout_ms &&
	    !s->unresponsive) {
		char d[32];

		s->unresponsive = 1;
		format_duration(d, sizeof(d), s->conf->ping_timeout_ms);
		svc_note(s, "agent unresponsive: no answer to a ping for %s%s", d,
		    s->conf->ping_restart ? ": restarting" : "");
		if (s->conf->ping_restart) {
			s->last_exit = EXIT_DIED;
			sup_dispatch(s, EV_RESTART, NULL);
			return;
		}
	}
	if (s->next_ping && now >= s->next_ping) {
		(void)gio_ping(ch, now);
		s->next_ping = now + s->conf->ping_interval_ms;
	}
	/* idle: no command for idle_timeout; the next exec starts it again */
	/* last_used may be a little after this round's now: no subtraction */
	if (s->conf->idle_timeout_ms && s->ready && !gio_busy(ch) &&
	    s->idle.last_used + s->conf->idle_timeout_ms <= now)
		(void)idle_dispatch(s, IE_IDLE, NULL);
}

/* memres paused while idle: resumed (idle.c), and the time it was paused
 * is not the agent's silence */
int
svc_wake(struct service *s, const char *why)
{
	uint64_t now;

	if (s->idle.state != IDLE_PAUSED)
		return 0;
	if (idle_dispatch(s, IE_WAKE, why) == -1)
		return -1;
	now = mono_ms();
	if (s->con && s->con->chan)
		gio_ping_reset(s->con->chan, now);
	s->next_ping = now + s->conf->ping_interval_ms;
	return 0;
}

/*
 * The console hung up while the domain lives: xenconsoled restarted (it
 * gives the domain a new PTY). Commands in flight fail now, the agent is
 * not ready until it answers on the new console.
 */
static void
console_lost(struct service *s)
{
	svc_note(s, "its console hung up while the domain runs (xenconsoled "
	    "restarted?): reopening");
	if (s->con->chan)	/* its commands fail now, saying why */
		gio_abort(s->con->chan, "the console was lost (xenconsoled "
		    "restarted?)");
	console_close(s->con);
	s->con = NULL;
	s->ready = 0;
	s->console_retry_at = s->sup->now;
}

/* the console of a running domain, again (the tty may be a new one) */
static void
console_reopen(struct service *s)
{
	struct err e = ERR_INIT;
	char *tty;

	s->console_retry_at = 0;
	if (s->state != ST_RUNNING && s->state != ST_STOPPING)
		return;
	if ((tty = s->sup->be->ops->console_path(s->sup->be, s->domid,
	    &e)) != NULL) {
		s->con = console_open(tty, svc_logdir(s), s->conf->name,
		    s->sup->cfg->d.console_log_max, &e);
		free(tty);
	}
	if (s->con == NULL) {
		/* xenconsoled may not be back yet */
		log_debug("%s: console: %s; again in 1s", s->conf->name, e.msg);
		s->console_retry_at = s->sup->now + 1000;
		return;
	}
	svc_note(s, "console reopened");
	agent_attach(s);
}

void
sup_after_poll(struct supervisor *sup, struct pollfd *fds, int nfds)
{
	size_t i;
	int k;

	sup->now = mono_ms();
	/* what the guest I/O process found, before the consoles' new bytes */
	gio_after_poll(sup->gio, fds, nfds);
	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];

		standby_after_poll(s, fds, nfds);
		if (s->con == NULL)
			continue;
		for (k = 0; k < nfds; k++) {
			if (fds[k].fd != s->con->fd || !fds[k].revents)
				continue;
			if (fds[k].revents & POLLOUT)
				(void)console_write(s->con);
			if (fds[k].revents & (POLLIN | POLLHUP | POLLERR))
				(void)console_read(s->con);
		}
		if (s->con && s->con->hup && (s->state == ST_RUNNING ||
		    s->state == ST_STOPPING))
			console_lost(s);
		if (s->con && s->con->chan) {
			agent_keepalive(s);
			/* what the channel queued this round goes out now */
			(void)console_write(s->con);
		}
	}
	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];

		if (s->con == NULL && s->console_retry_at &&
		    s->console_retry_at <= sup->now)
			console_reopen(s);
		health_after_poll(s, fds, nfds);
		if (s->timer_at && s->timer_at <= sup->now) {
			s->timer_at = 0;
			sup_dispatch(s, EV_TIMER, NULL);
		}
		(void)standby_dispatch(s, SBE_TICK, NULL);
		(void)retire_dispatch(s, RTE_TICK, NULL);
		update_after_poll(s, fds, nfds);
	}
	if (sup->be->ops->list && sup->now >= sup->next_reconcile) {
		sup_reconcile(sup);
		/* a dropped pool goes once its last domain has */
		if (sup->pools_pending)
			sup_pools_sync(sup);
		sup->next_reconcile = sup->now + RECONCILE_MS;
	}
	/* drop services removed by reload once they are down */
	for (i = 0; i < sup->nsvcs; ) {
		struct service *s = sup->svcs[i];

		if (s->after == AFTER_REMOVE && s->state == ST_STOPPED &&
		    s->rt.state == RT_NONE) {
			svc_free(s);
			memmove(&sup->svcs[i], &sup->svcs[i + 1],
			    (sup->nsvcs - i - 1) * sizeof(*sup->svcs));
			sup->nsvcs--;
			continue;
		}
		i++;
	}
	if (sup->shutting_down)
		sup_shutdown(sup);
	qsort(sup->svcs, sup->nsvcs, sizeof(*sup->svcs), svc_cmp_name);
}
