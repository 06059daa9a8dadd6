// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A stop, phase by phase (memres: the agent first, then PV shutdown, then
 * destroy), and the destroy that ends it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "boot/kcache.h"
#include "health.h"
#include "conf/partition.h"
#include "base/json.h"
#include "base/log.h"
#include "proto/proto.h"
#include "chan/channel.h"
#include "net/net.h"
#include "state.h"
#include "supervisor.h"
#include "base/util.h"

/*
 * A destroy is bounded: one that fails is tried again after 5 s, doubling
 * up to 5 min (never a tight loop); one that is not done within STUCK_MS
 * (a backend holds the domain, a hotplug script hangs) is reported with
 * what Xen says of the domain, once. Either way the service stays in
 * destroying (the name is not free until the domain is gone); the others
 * go on: nothing waits on a service that is going down.
 */
static void destroy_retry_later(struct service *);

static void
destroy_attempt(struct service *s)
{
	struct err e = ERR_INIT;

	s->stop.destroy_inflight = 1;
	if (s->sup->be->ops->destroy(s->sup->be, s->conf->name, s->domid,
	    &e) == -1) {
		s->stop.destroy_inflight = 0;
		log_warnx("%s: destroy: %s", s->conf->name, e.msg);
		strlcpy_(s->last_error, e.msg, sizeof(s->last_error));
		/* the domain may be gone already; the next event settles it,
		 * or the retry does */
		destroy_retry_later(s);
		return;
	}
	/* a look once the bound is over, if nothing came by then */
	s->timer_at = s->stop.destroy_started + STUCK_MS;
	if (s->timer_at <= s->sup->now)
		s->timer_at = s->sup->now + STUCK_MS;
}

void
start_destroy(struct service *s)
{
	s->timer_at = 0;
	if (s->state != ST_DESTROYING) {
		s->stop.destroy_started = s->sup->now;
		s->stop.destroy_retry_ms = 0;
		s->stop.destroy_stuck = 0;
	}
	svc_set_state(s, ST_DESTROYING);
	destroy_attempt(s);
}

/* past the bound: say so once, with the domain's state in Xen */
static void
destroy_check_stuck(struct service *s)
{
	struct be_dominfo di;
	struct err e = ERR_INIT;
	char d[32], st[64];

	if (s->stop.destroy_stuck || s->sup->now - s->stop.destroy_started < STUCK_MS)
		return;
	s->stop.destroy_stuck = 1;
	if (s->sup->be->ops->dominfo(s->sup->be, s->domid, &di, &e) == -1)
		snprintf(st, sizeof(st), "no longer listed");
	else
		snprintf(st, sizeof(st), "%s%s%s", di.dying ? "dying" :
		    "not dying", di.paused ? ", paused" : "", di.shutdown ?
		    ", shut down" : "");
	format_duration(d, sizeof(d), s->sup->now - s->stop.destroy_started);
	snprintf(s->last_error, sizeof(s->last_error), "domain %u is not gone "
	    "%s after its destroy (Xen: %s)%s", s->domid, d, st,
	    s->stop.destroy_inflight ? "; the destroy is still under way: a "
	    "backend may hold the domain" : "");
	svc_warn(s, "%s", s->last_error);
}

static void
destroy_retry_later(struct service *s)
{
	char d[32];

	if (s->stop.destroy_retry_ms == 0)
		s->stop.destroy_retry_ms = DESTROY_RETRY_MS;
	s->timer_at = s->sup->now + s->stop.destroy_retry_ms;
	format_duration(d, sizeof(d), s->stop.destroy_retry_ms);
	log_warnx("%s: destroy of domain %u: trying again in %s",
	    s->conf->name, s->domid, d);
	s->stop.destroy_retry_ms *= 2;
	if (s->stop.destroy_retry_ms > DESTROY_RETRY_MAX_MS)
		s->stop.destroy_retry_ms = DESTROY_RETRY_MAX_MS;
	destroy_check_stuck(s);
}

static void pv_shutdown(struct service *);

void
a_stop(struct service *s, const struct be_event *ev)
{
	svc_then(s, AFTER_STOP);
	/* paused while idle: its agent must run to sync and power off */
	(void)svc_wake(s, "stop");
	/* memres: the agent syncs and powers off; PV shutdown if it does not */
	if (s->conf->memres && s->ready && s->con && s->con->chan &&
	    chan_shutdown(s->con->chan) == 0) {
		s->stop.phase = SP_AGENT;
		s->timer_at = s->sup->now + s->conf->agent_stop_timeout_ms;
		svc_set_state(s, ST_STOPPING);
		return;
	}
	pv_shutdown(s);
}

/* the PV shutdown phase of a stop */
static void
pv_shutdown(struct service *s)
{
	struct err e = ERR_INIT;

	s->stop.phase = SP_PV;
	if (s->sup->be->ops->shutdown(s->sup->be, s->conf->name, s->domid,
	    &e) == -1) {
		log_warnx("%s: shutdown request: %s; destroying", s->conf->name,
		    e.msg);
		s->last_exit = EXIT_STOP_DESTROYED;
		start_destroy(s);
		return;
	}
	s->timer_at = s->sup->now + s->conf->stop_timeout_ms;
	svc_set_state(s, ST_STOPPING);
}


void
a_stop_timeout(struct service *s, const struct be_event *ev)
{
	char d[32];

	if (s->stop.phase == SP_AGENT) {
		format_duration(d, sizeof(d), s->conf->agent_stop_timeout_ms);
		svc_note(s, "the agent did not stop it within %s: PV shutdown", d);
		pv_shutdown(s);
		return;
	}
	s->stop.phase = SP_DESTROY;
	format_duration(d, sizeof(d), s->conf->stop_timeout_ms);
	svc_note(s, "ignored shutdown for %s: destroying", d);
	s->last_exit = EXIT_STOP_DESTROYED;
	start_destroy(s);
}

void
a_destroy_failed(struct service *s, const struct be_event *ev)
{
	s->stop.destroy_inflight = 0;
	strlcpy_(s->last_error, ev->err.msg, sizeof(s->last_error));
	log_warnx("%s: destroy failed: %s", s->conf->name, ev->err.msg);
	destroy_retry_later(s);
}

/* the destroying timer: the bound of the destroy under way, or a retry */
void
a_destroy_timer(struct service *s, const struct be_event *ev)
{
	if (s->stop.destroy_inflight) {
		destroy_check_stuck(s);
		return;		/* its completion (or failure) comes later */
	}
	destroy_attempt(s);
}

/* daemon stop: the overall deadline overrides each stop_timeout */
void
a_deadline(struct service *s, const struct be_event *ev)
{
	svc_note(s, "shutdown_timeout reached: destroying");
	s->last_exit = EXIT_STOP_DESTROYED;
	start_destroy(s);
}
