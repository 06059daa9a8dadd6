// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A switch's handover (update_ahead = boot): the old domain does not stop
 * before the new one, booted ahead, takes over; it retires. Renamed
 * NAME@retiring and tagged as a standby (a next domud finds it and lets it
 * finish here), it is asked to shut down (PV shutdown: its agent went with
 * its run) and destroyed once it has, or after stop_timeout. Until it is
 * gone no other domain of the service is built: it may still hold the old
 * slot's disks, which a rollback boots again. A [state][event] table of
 * its own; s->rt is written here only.
 */
#include "base/log.h"
#include "supervisor.h"
#include "base/util.h"

/* a destroy that failed, tried again */
#define RETIRE_RETRY_MS	5000

int
rt_ignore(struct service *s, const struct rt_in *in)
{
	return 0;
}

static void
rt_destroy(struct service *s, const char *why)
{
	struct err e = ERR_INIT;

	s->rt.state = RT_DESTROYING;
	if (s->sup->be->ops->destroy(s->sup->be, s->conf->name, s->rt.domid,
	    &e) == -1) {
		log_warnx("%s: retiring domain %u: %s", s->conf->name,
		    s->rt.domid, e.msg);
		s->rt.retry_at = s->sup->now + RETIRE_RETRY_MS;
		return;
	}
	s->rt.retry_at = 0;
	svc_note(s, "retiring domain %u destroyed: %s", s->rt.domid, why);
}

/* asked to power off; destroyed at its deadline */
static void
rt_ask(struct service *s)
{
	struct err e = ERR_INIT;

	s->rt.state = RT_STOPPING;
	s->rt.deadline = s->sup->now + s->conf->stop_timeout_ms;
	if (s->sup->be->ops->shutdown(s->sup->be, s->conf->name, s->rt.domid,
	    &e) == -1)
		rt_destroy(s, e.msg);
}

/* none: the service's domain steps aside; -1 leaves it serving */
static int
rt_begin(struct service *s, const struct rt_in *in)
{
	struct err e = ERR_INIT;

	if (s->sup->be->ops->retire == NULL)
		return -1;
	if (s->sup->be->ops->retire(s->sup->be, s->conf->name, in->domid,
	    &e) == -1) {
		svc_warn(s, "update: domain %u cannot step aside (%s): it stops "
		    "first", in->domid, e.msg);
		return -1;
	}
	s->rt.domid = in->domid;
	svc_note(s, "update: domain %u retires (renamed %s%s, asked to shut "
	    "down)", in->domid, s->conf->name, BE_RETIRING_SUFFIX);
	rt_ask(s);
	return 0;
}

/* none: one the last domud retired, found by adoption */
static int
rt_leftover(struct service *s, const struct rt_in *in)
{
	struct err e = ERR_INIT;

	s->rt.domid = in->domid;
	/* watched from now on, as the service's own adopted domain is */
	if (s->sup->be->ops->adopt(s->sup->be, s->conf->name, in->domid,
	    &e) == -1 || in->shutdown) {
		rt_destroy(s, in->shutdown ? "it shut down" : e.msg);
		return 0;
	}
	svc_note(s, "domain %u, retired by the last domud: asked to shut "
	    "down again", in->domid);
	rt_ask(s);
	return 0;
}

/* a second handover while one retires: the old one stops first */
static int
rt_busy(struct service *s, const struct rt_in *in)
{
	return -1;
}

static int
rt_deadline(struct service *s, const struct rt_in *in)
{
	if (s->sup->now >= s->rt.deadline)
		rt_destroy(s, "stop_timeout");
	return 0;
}

static int
rt_shut_down(struct service *s, const struct rt_in *in)
{
	rt_destroy(s, "it shut down");
	return 0;
}

static int
rt_gone(struct service *s, const struct rt_in *in)
{
	log_info("%s: retiring domain %u is gone", s->conf->name,
	    s->rt.domid);
	s->rt.state = RT_NONE;
	s->rt.domid = 0;
	s->rt.retry_at = 0;
	/* a build that waited for it */
	sup_kick_waiting(s->sup);
	return 0;
}

static int
rt_destroy_failed(struct service *s, const struct rt_in *in)
{
	log_warnx("%s: retiring domain %u: %s", s->conf->name, s->rt.domid,
	    in->ev ? in->ev->err.msg : "destroy failed");
	s->rt.retry_at = s->sup->now + RETIRE_RETRY_MS;
	return 0;
}

static int
rt_retry(struct service *s, const struct rt_in *in)
{
	if (s->rt.retry_at && s->sup->now >= s->rt.retry_at)
		rt_destroy(s, "tried again");
	return 0;
}

static int
rt_discard(struct service *s, const struct rt_in *in)
{
	rt_destroy(s, "its service is gone");
	return 0;
}

/* Every pair is written; the backend's events come only for its domain */
rt_action *const rt_table[RT__N][RTE__N] = {
	[RT_NONE] = {
		[RTE_BEGIN] = rt_begin,
		[RTE_TICK] = rt_ignore,
		[RTE_SHUTDOWN] = rt_ignore,
		[RTE_GONE] = rt_ignore,
		[RTE_DESTROY_FAILED] = rt_ignore,
		[RTE_LEFTOVER] = rt_leftover,
		[RTE_DISCARD] = rt_ignore,
	},
	[RT_STOPPING] = {
		[RTE_BEGIN] = rt_busy,
		[RTE_TICK] = rt_deadline,
		[RTE_SHUTDOWN] = rt_shut_down,
		[RTE_GONE] = rt_gone,
		[RTE_DESTROY_FAILED] = rt_destroy_failed,
		[RTE_LEFTOVER] = rt_ignore,
		[RTE_DISCARD] = rt_discard,
	},
	[RT_DESTROYING] = {
		[RTE_BEGIN] = rt_busy,
		[RTE_TICK] = rt_retry,
		[RTE_SHUTDOWN] = rt_ignore,
		[RTE_GONE] = rt_gone,
		[RTE_DESTROY_FAILED] = rt_destroy_failed,
		[RTE_LEFTOVER] = rt_ignore,
		[RTE_DISCARD] = rt_ignore,
	},
};

int
retire_dispatch(struct service *s, enum rt_event ev, const struct rt_in *in)
{
	static const struct rt_in none;

	return rt_table[s->rt.state][ev](s, in ? in : &none);
}

int
retire_event(struct service *s, const struct be_event *ev)
{
	struct rt_in in = { .domid = ev->domid, .ev = ev };

	if (s->rt.state == RT_NONE || ev->domid != s->rt.domid ||
	    ev->type == BE_CREATED || ev->type == BE_CREATE_FAILED)
		return 0;
	switch (ev->type) {
	case BE_DIED:
		/* our destroy under way: its end says when its devices (the
		 * old slot's disks) are down, not its death */
		if (s->rt.state == RT_DESTROYING && s->rt.retry_at == 0)
			break;
		/* FALLTHROUGH */
	case BE_DESTROYED:
		(void)retire_dispatch(s, RTE_GONE, &in);
		break;
	case BE_SHUTDOWN:
		(void)retire_dispatch(s, RTE_SHUTDOWN, &in);
		break;
	case BE_DESTROY_FAILED:
		(void)retire_dispatch(s, RTE_DESTROY_FAILED, &in);
		break;
	default:
		break;
	}
	return 1;
}

/* its deadline, or a destroy tried again, wakes the loop */
void
retire_before_poll(struct service *s, uint64_t now, int *timeout_ms)
{
	uint64_t t = s->rt.state == RT_STOPPING ? s->rt.deadline :
	    s->rt.state == RT_DESTROYING ? s->rt.retry_at : 0, left;

	if (t == 0)
		return;
	left = t > now ? t - now : 0;
	if (*timeout_ms < 0 || left < (uint64_t)*timeout_ms)
		*timeout_ms = (int)(left > 60000 ? 60000 : left);
}
