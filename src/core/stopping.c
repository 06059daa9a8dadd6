// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A stop, phase by phase: memres asks the agent first (it syncs and powers
 * off), then PV shutdown, then destroy. A [phase][event] table of its own;
 * s->stop is written here only. The lifecycle asks through stop_dispatch()
 * and is told what follows (enum stop_next): the lifecycle's state, timer
 * and exit stay its own.
 */

#include "console.h"
#include "base/log.h"
#include "chan/gio.h"
#include "supervisor.h"
#include "base/util.h"

const char *
stop_phase_str(enum stop_phase p)
{
	switch (p) {
	case SP_NONE:
		return "none";
	case SP_AGENT:
		return "agent";
	case SP_PV:
		return "pv-shutdown";
	case SP_DESTROY:
		return "destroy";
	case SP__N:
		break;
	}
	return "?";
}

/* how long the phase under way is given */
uint64_t
stop_wait_ms(const struct service *s)
{
	return s->stop.phase == SP_AGENT ? s->conf->agent_stop_timeout_ms :
	    s->conf->stop_timeout_ms;
}

/* the explicit no-op of the table */
enum stop_next
sp_ignore(struct service *s)
{
	return SN_NONE;
}

/* the PV shutdown phase of a stop */
static enum stop_next
sp_pv(struct service *s)
{
	struct err e = ERR_INIT;

	s->stop.phase = SP_PV;
	if (s->sup->be->ops->shutdown(s->sup->be, s->conf->name, s->domid,
	    &e) == -1) {
		log_warnx("%s: shutdown request: %s; destroying", s->conf->name,
		    e.msg);
		return SN_DESTROY;
	}
	return SN_WAIT;
}

/* memres: the agent syncs and powers off; PV shutdown if it does not */
static enum stop_next
sp_begin(struct service *s)
{
	if (s->conf->memres && s->ready && s->con && s->con->chan &&
	    gio_shutdown(s->con->chan) == 0) {
		s->stop.phase = SP_AGENT;
		return SN_WAIT;
	}
	return sp_pv(s);
}

static enum stop_next
sp_agent_timeout(struct service *s)
{
	char d[32];

	format_duration(d, sizeof(d), s->conf->agent_stop_timeout_ms);
	svc_note(s, "the agent did not stop it within %s: PV shutdown", d);
	return sp_pv(s);
}

static enum stop_next
sp_pv_timeout(struct service *s)
{
	char d[32];

	s->stop.phase = SP_DESTROY;
	format_duration(d, sizeof(d), s->conf->stop_timeout_ms);
	svc_note(s, "ignored shutdown for %s: destroying", d);
	return SN_DESTROY;
}

/* the domain is gone: the phase that ended it is kept for status */
static enum stop_next
sp_gone(struct service *s)
{
	s->stop.stopped_in = s->stop.phase;
	s->stop.phase = SP_NONE;
	return SN_NONE;
}

/*
 * Every pair is written. SPE_BEGIN comes from a running service, which
 * has no stop under way; SPE_TIMEOUT from the stopping state, which a
 * phase always comes with (without one it is taken as the PV phase's).
 */
stop_action *const stop_table[SP__N][SPE__N] = {
	[SP_NONE] = {
		[SPE_BEGIN] = sp_begin,
		[SPE_TIMEOUT] = sp_pv_timeout,
		[SPE_GONE] = sp_ignore,
	},
	[SP_AGENT] = {
		[SPE_BEGIN] = sp_ignore,
		[SPE_TIMEOUT] = sp_agent_timeout,
		[SPE_GONE] = sp_gone,
	},
	[SP_PV] = {
		[SPE_BEGIN] = sp_ignore,
		[SPE_TIMEOUT] = sp_pv_timeout,
		[SPE_GONE] = sp_gone,
	},
	[SP_DESTROY] = {
		/* destroying: its timer is the destroy's, not a phase's */
		[SPE_BEGIN] = sp_ignore,
		[SPE_TIMEOUT] = sp_ignore,
		[SPE_GONE] = sp_gone,
	},
};

enum stop_next
stop_dispatch(struct service *s, enum stop_event ev)
{
	return stop_table[s->stop.phase][ev](s);
}
