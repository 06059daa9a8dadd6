// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The lifecycle's destroying state: its actions, and the bookkeeping of
 * the destroy under way (s->destroy, written here only).
 */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
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

	s->destroy.inflight = 1;
	if (s->sup->be->ops->destroy(s->sup->be, s->conf->name, s->domid,
	    &e) == -1) {
		s->destroy.inflight = 0;
		log_warnx("%s: destroy: %s", s->conf->name, e.msg);
		strlcpy_(s->last_error, e.msg, sizeof(s->last_error));
		/* the domain may be gone already; the next event settles it,
		 * or the retry does */
		destroy_retry_later(s);
		return;
	}
	/* a look once the bound is over, if nothing came by then */
	s->timer_at = s->destroy.started + STUCK_MS;
	if (s->timer_at <= s->sup->now)
		s->timer_at = s->sup->now + STUCK_MS;
}

void
start_destroy(struct service *s)
{
	s->timer_at = 0;
	if (s->state != ST_DESTROYING) {
		s->destroy.started = s->sup->now;
		s->destroy.retry_ms = 0;
		s->destroy.stuck = 0;
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

	if (s->destroy.stuck || s->sup->now - s->destroy.started < STUCK_MS)
		return;
	s->destroy.stuck = 1;
	if (s->sup->be->ops->dominfo(s->sup->be, s->domid, &di, &e) == -1)
		snprintf(st, sizeof(st), "no longer listed");
	else
		snprintf(st, sizeof(st), "%s%s%s", di.dying ? "dying" :
		    "not dying", di.paused ? ", paused" : "", di.shutdown ?
		    ", shut down" : "");
	format_duration(d, sizeof(d), s->sup->now - s->destroy.started);
	snprintf(s->last_error, sizeof(s->last_error), "domain %u is not gone "
	    "%s after its destroy (Xen: %s)%s", s->domid, d, st,
	    s->destroy.inflight ? "; the destroy is still under way: a "
	    "backend may hold the domain" : "");
	svc_warn(s, "%s", s->last_error);
}

static void
destroy_retry_later(struct service *s)
{
	char d[32];

	if (s->destroy.retry_ms == 0)
		s->destroy.retry_ms = DESTROY_RETRY_MS;
	s->timer_at = s->sup->now + s->destroy.retry_ms;
	format_duration(d, sizeof(d), s->destroy.retry_ms);
	log_warnx("%s: destroy of domain %u: trying again in %s",
	    s->conf->name, s->domid, d);
	s->destroy.retry_ms *= 2;
	if (s->destroy.retry_ms > DESTROY_RETRY_MAX_MS)
		s->destroy.retry_ms = DESTROY_RETRY_MAX_MS;
	destroy_check_stuck(s);
}

void
a_destroy_failed(struct service *s, const struct be_event *ev)
{
	s->destroy.inflight = 0;
	strlcpy_(s->last_error, ev->err.msg, sizeof(s->last_error));
	log_warnx("%s: destroy failed: %s", s->conf->name, ev->err.msg);
	destroy_retry_later(s);
}

/* the destroying timer: the bound of the destroy under way, or a retry */
void
a_destroy_timer(struct service *s, const struct be_event *ev)
{
	if (s->destroy.inflight) {
		destroy_check_stuck(s);
		return;		/* its completion (or failure) comes later */
	}
	destroy_attempt(s);
}

/* the domain is gone: nothing is being destroyed */
void
destroy_reset(struct service *s)
{
	memset(&s->destroy, 0, sizeof(s->destroy));
}
