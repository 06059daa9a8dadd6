// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * memres: a service left idle (no command for idle_timeout) is stopped
 * (the next exec starts it) or paused (the next command resumes it), as
 * its idle_action says. A [state][event] table of its own; s->idle is
 * written here only. The agent's keepalive says when it is idle, a
 * command wakes it (svc_wake), the look at Xen says when someone else
 * resumed it, state.json that the last domud paused it.
 */

#include <stdio.h>

#include "base/log.h"
#include "supervisor.h"
#include "base/util.h"

/* the explicit no-op of the table */
int
idle_ignore(struct service *s, const char *why)
{
	return 0;
}

static int
idle_used(struct service *s, const char *why)
{
	s->idle.last_used = mono_ms();
	return 0;
}

/* idle_action = pause: the guest keeps its memory and Xen stops running
 * it; the next command resumes it where it was (the agent sees a gap in
 * time, not a new boot). idle_action = stop: the next exec starts it. */
static int
idle_act(struct service *s, const char *unused)
{
	struct backend *be = s->sup->be;
	struct err e = ERR_INIT;
	char d[32], why[64];

	format_duration(d, sizeof(d), s->conf->idle_timeout_ms);
	if (s->conf->idle_action != IDLE_PAUSE) {
		svc_note(s, "idle for %s: stopping (the next exec starts it)", d);
		if (sup_stop(s->sup, s, &e) == 0)
			s->idle.state = IDLE_STOPPED;
		else
			log_warnx("%s: idle stop: %s", s->conf->name, e.msg);
		return 0;
	}
	if (be->ops->pause == NULL || be->ops->pause(be, s->domid, 1, &e) == -1) {
		log_warnx("%s: idle pause: %s", s->conf->name, e.msg);
		return idle_used(s, NULL);	/* not again at once */
	}
	s->idle.state = IDLE_PAUSED;
	snprintf(why, sizeof(why), "idle for %s", d);
	svc_note(s, "%s: paused (the next command resumes it)", why);
	events_add(&s->sup->events, s->conf->name, "ready", "paused", why,
	    "domud", mono_ms());
	log_info("event: %s ready -> paused (%s; by domud)", s->conf->name, why);
	(void)sup_save(s->sup);
	return 0;
}

/* a command for it: 0, or -1 when Xen would not resume it (logged) */
static int
idle_resume(struct service *s, const char *why)
{
	struct backend *be = s->sup->be;
	struct err e = ERR_INIT;
	const char *actor = s->sup->actor[0] ? s->sup->actor : "domud";

	if (be->ops->pause(be, s->domid, 0, &e) == -1) {
		log_warnx("%s: resume: %s", s->conf->name, e.msg);
		return -1;
	}
	s->idle.state = IDLE_AWAKE;
	(void)idle_used(s, NULL);
	events_add(&s->sup->events, s->conf->name, "paused", "ready", why,
	    actor, mono_ms());
	log_info("event: %s paused -> ready (%s; by %s)", s->conf->name, why,
	    actor);
	(void)sup_save(s->sup);
	return 0;
}

/* someone else's unpause is taken as a resume */
static int
idle_resumed_outside(struct service *s, const char *why)
{
	s->idle.state = IDLE_AWAKE;
	(void)idle_used(s, NULL);
	svc_note(s, "domain %u was resumed outside domud (xl unpause?)",
	    s->domid);
	return 0;
}

/* state.json: the last domud paused the adopted domain for being idle */
static int
idle_adopted(struct service *s, const char *why)
{
	s->idle.state = IDLE_PAUSED;
	log_info("%s: domain %u was paused for being idle; the next command "
	    "resumes it", s->conf->name, s->domid);
	return 0;
}

/* stopped for being idle, and its agent answers again */
static int
idle_back(struct service *s, const char *why)
{
	s->idle.state = IDLE_AWAKE;
	return idle_used(s, NULL);
}

/* its domain is gone: nothing is paused */
static int
idle_gone(struct service *s, const char *why)
{
	s->idle.state = IDLE_AWAKE;
	return 0;
}

/* Every pair is written. */
idle_action *const idle_table[IDLE__N][IE__N] = {
	[IDLE_AWAKE] = {
		[IE_USED] = idle_used,
		[IE_IDLE] = idle_act,
		[IE_WAKE] = idle_ignore,
		[IE_RESUMED] = idle_ignore,
		[IE_ADOPTED] = idle_adopted,
		[IE_READY] = idle_used,
		[IE_GONE] = idle_ignore,
	},
	[IDLE_PAUSED] = {
		[IE_USED] = idle_used,
		[IE_IDLE] = idle_ignore,	/* it is */
		[IE_WAKE] = idle_resume,
		[IE_RESUMED] = idle_resumed_outside,
		[IE_ADOPTED] = idle_ignore,
		[IE_READY] = idle_used,
		[IE_GONE] = idle_gone,
	},
	[IDLE_STOPPED] = {
		/* until its agent answers: the next exec starts it */
		[IE_USED] = idle_used,
		[IE_IDLE] = idle_ignore,
		[IE_WAKE] = idle_ignore,
		[IE_RESUMED] = idle_ignore,
		[IE_ADOPTED] = idle_adopted,
		[IE_READY] = idle_back,
		[IE_GONE] = idle_ignore,
	},
};

int
idle_dispatch(struct service *s, enum idle_event ev, const char *why)
{
	return idle_table[s->idle.state][ev](s, why);
}

/* a command: the idle timeout counts from it */
void
svc_used(struct service *s)
{
	(void)idle_dispatch(s, IE_USED, NULL);
}
