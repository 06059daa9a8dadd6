// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * memres: the agent's keepalive, and what follows a service left idle
 * (idle_action = stop or pause; a paused one is resumed by the next
 * command).
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

/* memres, idle_action = pause: the guest keeps its memory and Xen stops
 * running it; the next command resumes it where it was (the agent sees a
 * gap in time, not a new boot) */
static void
idle_pause(struct service *s)
{
	struct backend *be = s->sup->be;
	struct err e = ERR_INIT;
	char d[32], why[64];

	if (be->ops->pause == NULL || be->ops->pause(be, s->domid, 1, &e) == -1) {
		log_warnx("%s: idle pause: %s", s->conf->name, e.msg);
		svc_used(s);	/* not again at once */
		return;
	}
	s->idle.paused = 1;
	format_duration(d, sizeof(d), s->conf->idle_timeout_ms);
	snprintf(why, sizeof(why), "idle for %s", d);
	svc_note(s, "%s: paused (the next command resumes it)", why);
	events_add(&s->sup->events, s->conf->name, "ready", "paused", why,
	    "domud", mono_ms());
	log_info("event: %s ready -> paused (%s; by domud)", s->conf->name, why);
	(void)state_save(s->sup);
}

int
svc_wake(struct service *s, const char *why)
{
	struct backend *be = s->sup->be;
	struct err e = ERR_INIT;
	const char *actor = s->sup->actor[0] ? s->sup->actor : "domud";
	uint64_t now = mono_ms();

	if (!s->idle.paused)
		return 0;
	if (be->ops->pause(be, s->domid, 0, &e) == -1) {
		log_warnx("%s: resume: %s", s->conf->name, e.msg);
		return -1;
	}
	s->idle.paused = 0;
	svc_used(s);
	/* the time it was paused is not the agent's silence */
	if (s->con && s->con->chan && s->con->chan->ping_sent)
		s->con->chan->ping_sent = now;
	s->next_ping = now + s->conf->ping_interval_ms;
	events_add(&s->sup->events, s->conf->name, "paused", "ready", why,
	    actor, now);
	log_info("event: %s paused -> ready (%s; by %s)", s->conf->name, why,
	    actor);
	(void)state_save(s->sup);
	return 0;
}

void
svc_idle_adopted(struct service *s)
{
	s->idle.paused = 1;
	s->paused = 0;
	s->paused_since = 0;
	log_info("%s: domain %u was paused for being idle; the next command "
	    "resumes it", s->conf->name, s->domid);
}

/* memres keepalive: a ping every ping_interval; unanswered for
 * ping_timeout, the agent is unresponsive (and, if so configured, the
 * service restarts) */
void
agent_keepalive(struct service *s)
{
	struct channel *ch = s->con->chan;
	uint64_t now = s->sup->now;
	struct err e = ERR_INIT;

	/* a paused guest cannot answer: no verdict on it, no idle stop */
	if (s->state != ST_RUNNING || s->paused || s->idle.paused)
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
		(void)chan_ping(ch, now);
		s->next_ping = now + s->conf->ping_interval_ms;
	}
	/* idle: no command for idle_timeout; the next exec starts it again */
	/* last_used may be a little after this round's now: no subtraction */
	if (s->conf->idle_timeout_ms && s->ready && !chan_busy(ch) &&
	    s->idle.last_used + s->conf->idle_timeout_ms <= now) {
		char d[32];

		if (s->conf->idle_action == IDLE_PAUSE) {
			idle_pause(s);
			return;
		}
		format_duration(d, sizeof(d), s->conf->idle_timeout_ms);
		svc_note(s, "idle for %s: stopping (the next exec starts it)", d);
		if (sup_stop(s->sup, s, &e) == 0)
			s->idle.stopped = 1;
		else
			log_warnx("%s: idle stop: %s", s->conf->name, e.msg);
	}
}
