// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * standby = yes: the service's next domain, built and paused ahead of time;
 * a start is then a rename and an unpause. A [state][event] table of its
 * own; s->sb is written here only. The others ask through
 * standby_dispatch(): the loop's round (SBE_TICK), the backend's events
 * about the standby's domain (standby_event), a start that would use it
 * (SBE_ACTIVATE), a reload (SBE_STALE), adoption (SBE_LEFTOVER), the
 * service's end (SBE_DISCARD), the agent of one booted ahead (SBE_HELLO).
 *
 * A switch's new domain (update.c) is such a standby. With update_ahead =
 * boot it is also booted ahead: unpaused under its standby name while
 * the old one serves, its console read into NAME.log.next, and paused
 * again once its agent answers; the handover is then the old one's stop,
 * a rename and an unpause. A new version that fails its boot ends its
 * trial before the old domain is touched.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "chan/gio.h"

#include "base/log.h"
#include "console.h"
#include "supervisor.h"
#include "base/util.h"

/* after a build that failed or was refused, the next try */
#define STANDBY_RETRY_MS	30000

static int
standby_wanted(const struct service *s)
{
	/* none beside a retiring domain: it may hold the disks it would */
	return (s->conf->standby || s->upd.ahead) && s->sup->be->ops->activate &&
	    s->rt.state == RT_NONE &&
	    !s->sup->shutting_down && s->after != AFTER_REMOVE &&
	    s->pending_conf == NULL && s->conflict_domid == 0;
}

/* a standby booted ahead: its console goes with it (never from within
 * its own read: the agent's answer pauses it, never closes it) */
static void
sb_console_close(struct service *s)
{
	console_close(s->sb.con);
	s->sb.con = NULL;
}

static void
standby_destroy(struct service *s, const char *why)
{
	struct err e = ERR_INIT;

	sb_console_close(s);

	if (s->sup->be->ops->destroy(s->sup->be, s->conf->name, s->sb.domid,
	    &e) == -1) {
		log_warnx("%s: standby domain %u: %s", s->conf->name,
		    s->sb.domid, e.msg);
		s->sb.retry_at = s->sup->now + STANDBY_RETRY_MS;
		return;
	}
	svc_note(s, "standby domain %u destroyed: %s", s->sb.domid, why);
	s->sb.state = SB_DESTROYING;
}

/* the explicit no-op of the table */
int
sb_ignore(struct service *s, const struct sb_in *in)
{
	return 0;
}

/* none: build one when it is wanted; not while its own domain is being
 * made or taken down (at most one create of a service at a time) */
static int
sb_build(struct service *s, const struct sb_in *in)
{
	struct err e = ERR_INIT;
	struct svc_spec ss;
	char msg[256];

	if (s->sup->now < s->sb.retry_at || !standby_wanted(s) ||
	    (s->state != ST_RUNNING && s->state != ST_STOPPED &&
	    s->state != ST_FAILED && s->state != ST_BACKOFF))
		return 0;
	svc_spec_init(s, &ss);
	ss.spec.standby = 1;
	/* the UUID its running (or last) domain does not hold */
	be_uuid_twin(ss.spec.uuid, svc_uuid_ours(s, s->run_uuid) ?
	    s->run_uuid : s->conf->uuid);
	if (admission(s, &ss.spec, &s->sb.reserved, msg, sizeof(msg)) == -1) {
		msgf(s->sb.error, sizeof(s->sb.error), "%s", msg);
		if (!s->sb.said)
			svc_warn(s, "no standby: %s (tried again every %d s)",
			    msg, STANDBY_RETRY_MS / 1000);
		s->sb.said = 1;
		s->sb.retry_at = s->sup->now + STANDBY_RETRY_MS;
		svc_spec_dispose(&ss);
		update_ahead_done(s, 0);
		return 0;
	}
	if (s->sup->be->ops->create(s->sup->be, &ss.spec, &e) == -1) {
		s->sb.reserved = 0;
		msgf(s->sb.error, sizeof(s->sb.error), "%s", e.msg);
		svc_warn(s, "no standby: %s", e.msg);
		s->sb.retry_at = s->sup->now + STANDBY_RETRY_MS;
		svc_spec_dispose(&ss);
		update_ahead_done(s, 0);
		return 0;
	}
	memcpy(s->sb.uuid, ss.spec.uuid, 16);
	s->sb.state = SB_BUILDING;
	s->sb.stale = 0;
	svc_spec_dispose(&ss);
	return 0;
}

/* ready: one that is stale or no longer wanted goes */
static int
sb_drop_unwanted(struct service *s, const struct sb_in *in)
{
	if (s->sup->now < s->sb.retry_at)
		return 0;
	if (!standby_wanted(s) || s->sb.stale)
		standby_destroy(s, s->sb.stale ? "its definition changed" :
		    "not wanted any more");
	return 0;
}

static void
sb_take(struct service *s, const struct sb_in *in)
{
	s->sb.reserved = 0;
	s->sb.state = SB_READY;
	s->sb.domid = in->ev->domid;
	s->sb.built_ms = in->ev->create_ms;
	s->sb.said = 0;
	s->sb.error[0] = '\0';
	s->sb.booted = s->sb.pause_failed = 0;
	svc_note(s, "standby built as domain %u in %llu ms, paused",
	    in->ev->domid, (unsigned long long)in->ev->create_ms);
}

static void
sb_hello(void *arg)
{
	(void)standby_dispatch(arg, SBE_HELLO, NULL);
}

/*
 * Boot it ahead (update_boot_ahead): its console read from before its
 * first byte, then unpaused; -1 when it cannot be (it stays built)
 */
static int
sb_boot(struct service *s)
{
	const struct backend *be = s->sup->be;
	struct err e = ERR_INIT;
	char *tty;

	if ((tty = be->ops->console_path(s->sup->be, s->sb.domid, &e)) ==
	    NULL) {
		svc_warn(s, "update: not booted ahead: no console: %s", e.msg);
		return -1;
	}
	s->sb.con = console_open_next(tty, svc_logdir(s), s->conf->name,
	    s->sup->cfg->d.console_log_max, &e);
	free(tty);
	if (s->sb.con == NULL) {
		svc_warn(s, "update: not booted ahead: %s", e.msg);
		return -1;
	}
	console_attach_channel(s->sb.con, s->conf->agent_vxn, sb_hello, s);
	if (be->ops->pause(s->sup->be, s->sb.domid, 0, &e) == -1) {
		svc_warn(s, "update: not booted ahead: unpause: %s", e.msg);
		sb_console_close(s);
		return -1;
	}
	s->sb.state = SB_BOOTING;
	s->sb.boot_at = s->sup->now;
	s->sb.boot_by = s->sup->now + update_ready_allowance(s);
	svc_note(s, "update: the new domain %u boots ahead while domain %u "
	    "serves", s->sb.domid, s->domid);
	return 0;
}

static int
sb_built(struct service *s, const struct sb_in *in)
{
	sb_take(s, in);
	if (s->sb.stale)
		return 0;
	if (update_boot_ahead(s) && sb_boot(s) == 0)
		return 0;	/* update_ahead_done() once its agent answers */
	update_ahead_done(s, 1);
	return 0;
}

/* booting: its agent answered; paused until the handover (the old one
 * stops first); its console stays open, quiet */
static int
sb_booted(struct service *s, const struct sb_in *in)
{
	struct err e = ERR_INIT;

	if (s->sup->be->ops->pause(s->sup->be, s->sb.domid, 1, &e) == -1) {
		/* not from within its console's read: the next round */
		svc_warn(s, "update: domain %u booted ahead, but: pause: %s",
		    s->sb.domid, e.msg);
		s->sb.pause_failed = 1;
		return 0;
	}
	s->sb.state = SB_READY;
	s->sb.booted = 1;
	svc_note(s, "update: domain %u booted ahead in %llu ms (its agent "
	    "answered), paused until the handover", s->sb.domid,
	    (unsigned long long)(s->sup->now - s->sb.boot_at));
	update_ahead_done(s, 1);
	return 0;
}

/* booting: the new version failed (its domain ended, or its agent never
 * answered): the trial's end, while the old one serves on */
static void
sb_boot_failed(struct service *s, const char *why)
{
	standby_destroy(s, why);
	update_ahead_failed(s, why);
}

static int
sb_boot_tick(struct service *s, const struct sb_in *in)
{
	char why[128];

	if (s->sb.pause_failed || s->sb.stale || !standby_wanted(s)) {
		/* not the version's failure: the old way, stop and create */
		standby_destroy(s, s->sb.pause_failed ? "it could not be "
		    "paused" : s->sb.stale ? "its definition changed" :
		    "not wanted any more");
		update_ahead_done(s, 0);
		return 0;
	}
	if (s->sup->now < s->sb.boot_by)
		return 0;
	msgf(why, sizeof(why), "its agent did not answer within %llu s",
	    (unsigned long long)((s->sb.boot_by - s->sb.boot_at) / 1000));
	sb_boot_failed(s, why);
	return 0;
}

static const char *
sb_end_str(enum shutdown_reason r)
{
	switch (r) {
	case SR_POWEROFF:	return "powered off";
	case SR_REBOOT:		return "rebooted";
	case SR_CRASH:		return "crashed";
	case SR_WATCHDOG:	return "was killed by its watchdog";
	default:		return "shut down";
	}
}

/* booting: the guest ended its boot (a panic, a reboot) */
static int
sb_boot_shut_down(struct service *s, const struct sb_in *in)
{
	char why[128];

	msgf(why, sizeof(why), "its domain %u %s", s->sb.domid,
	    sb_end_str(in->ev->reason));
	sb_boot_failed(s, why);
	return 0;
}

/* booting: its domain is gone already (nothing to destroy) */
static int
sb_boot_gone(struct service *s, const struct sb_in *in)
{
	char why[128];

	msgf(why, sizeof(why), "its domain %u %s", s->sb.domid,
	    in->ev->reason == SR_DESTROYED ? "was destroyed outside domud" :
	    "died");
	sb_console_close(s);
	s->sb.state = SB_NONE;
	s->sb.domid = 0;
	update_ahead_failed(s, why);
	return 0;
}

/* a build done for a service that has none under way: one dropped by a
 * reload and added back by the next while its build ran. Taken, so that
 * no paused domain is left behind, but stale: it was built from the
 * definition before, and the next round destroys it */
static int
sb_built_orphan(struct service *s, const struct sb_in *in)
{
	sb_take(s, in);
	s->sb.stale = 1;
	return 0;
}

static int
sb_build_failed(struct service *s, const struct sb_in *in)
{
	s->sb.reserved = 0;
	s->sb.state = SB_NONE;
	msgf(s->sb.error, sizeof(s->sb.error), "%s", in->ev->err.msg);
	svc_warn(s, "standby not built: %s", in->ev->err.msg);
	s->sb.retry_at = s->sup->now + STANDBY_RETRY_MS;
	update_ahead_done(s, 0);
	return 0;
}

/* ready, and its domain died or someone destroyed it */
static int
sb_lost(struct service *s, const struct sb_in *in)
{
	sb_console_close(s);
	svc_warn(s, "standby domain %u %s", in->ev->domid,
	    in->ev->reason == SR_DESTROYED ? "was destroyed outside domud" :
	    "died");
	s->sb.state = SB_NONE;
	s->sb.domid = 0;
	return 0;
}

/* destroying, and it is gone */
static int
sb_gone(struct service *s, const struct sb_in *in)
{
	sb_console_close(s);
	s->sb.state = SB_NONE;
	s->sb.domid = 0;
	return 0;
}

static int
sb_shut_down(struct service *s, const struct sb_in *in)
{
	standby_destroy(s, "it shut down");
	return 0;
}

static int
sb_destroy_failed(struct service *s, const struct sb_in *in)
{
	log_warnx("%s: standby domain %u: %s", s->conf->name, in->ev->domid,
	    in->ev->err.msg);
	s->sb.state = SB_READY;
	s->sb.stale = 1;
	s->sb.retry_at = s->sup->now + STANDBY_RETRY_MS;
	return 0;
}

/* a start from it: the rename and the unpause; 1 when it runs (in->out
 * is its created event), 0 when a create must follow (this one goes) */
static int
sb_activate(struct service *s, const struct sb_in *in)
{
	struct err e = ERR_INIT;
	uint64_t t0 = mono_ms();

	s->upd.ahead = 0;
	if (s->sb.stale)
		return 0;
	/* booting still (the old one ended first): paused for the rename
	 * and the unpause of the activation */
	if (s->sb.state == SB_BOOTING && s->sup->be->ops->pause(s->sup->be,
	    s->sb.domid, 1, &e) == -1) {
		svc_warn(s, "standby domain %u: pause: %s; creating a new "
		    "domain", s->sb.domid, e.msg);
		s->sb.stale = 1;
		standby_destroy(s, "it could not be started");
		return 0;
	}
	if (s->sup->be->ops->activate(s->sup->be, s->conf->name, s->sb.domid,
	    &e) == -1) {
		svc_warn(s, "standby domain %u: %s; creating a new domain",
		    s->sb.domid, e.msg);
		s->sb.stale = 1;
		standby_destroy(s, "it could not be started");
		return 0;
	}
	memset(in->out, 0, sizeof(*in->out));
	in->out->type = BE_CREATED;
	in->out->standby = 1;
	strlcpy_(in->out->svc, s->conf->name, sizeof(in->out->svc));
	in->out->domid = s->sb.domid;
	in->out->unpause_ms = mono_ms() - t0;
	if (s->sb.con != NULL) {
		/* booted ahead: its boot's log is the run's; the service's
		 * own console opens the same PTY (its agent asked again) */
		sb_console_close(s);
		console_take_next(svc_logdir(s), s->conf->name);
	}
	s->sb.state = SB_NONE;
	s->sb.domid = 0;
	s->sb.booted = 0;
	return 1;
}

static int
sb_discard(struct service *s, const struct sb_in *in)
{
	standby_destroy(s, "its service is gone");
	return 0;
}

/* adoption: a standby of the last domud, being destroyed */
static int
sb_leftover(struct service *s, const struct sb_in *in)
{
	s->sb.state = SB_DESTROYING;
	s->sb.domid = in->found->domid;
	memcpy(s->sb.uuid, in->found->uuid, 16);
	return 0;
}

/* reload: built from a definition since changed */
static int
sb_mark_stale(struct service *s, const struct sb_in *in)
{
	s->sb.stale = 1;
	return 0;
}

/*
 * Every pair is written. The backend's events about a standby domain come
 * only once it has one (standby_event): building has only its build's.
 */
sb_action *const sb_table[SB__N][SBE__N] = {
	[SB_NONE] = {
		[SBE_TICK] = sb_build,
		[SBE_BUILT] = sb_built_orphan,
		[SBE_BUILD_FAILED] = sb_ignore,
		[SBE_GONE] = sb_ignore,
		[SBE_SHUTDOWN] = sb_ignore,
		[SBE_DESTROY_FAILED] = sb_ignore,
		[SBE_ACTIVATE] = sb_ignore,
		[SBE_DISCARD] = sb_ignore,
		[SBE_LEFTOVER] = sb_leftover,
		[SBE_STALE] = sb_mark_stale,
		[SBE_HELLO] = sb_ignore,
	},
	[SB_BUILDING] = {
		[SBE_TICK] = sb_ignore,
		[SBE_BUILT] = sb_built,
		[SBE_BUILD_FAILED] = sb_build_failed,
		[SBE_GONE] = sb_ignore,
		[SBE_SHUTDOWN] = sb_ignore,
		[SBE_DESTROY_FAILED] = sb_ignore,
		[SBE_ACTIVATE] = sb_ignore,
		[SBE_DISCARD] = sb_ignore,
		[SBE_LEFTOVER] = sb_ignore,
		[SBE_STALE] = sb_mark_stale,
		[SBE_HELLO] = sb_ignore,
	},
	[SB_READY] = {
		[SBE_TICK] = sb_drop_unwanted,
		[SBE_BUILT] = sb_ignore,
		[SBE_BUILD_FAILED] = sb_ignore,
		[SBE_GONE] = sb_lost,
		[SBE_SHUTDOWN] = sb_shut_down,
		[SBE_DESTROY_FAILED] = sb_destroy_failed,
		[SBE_ACTIVATE] = sb_activate,
		[SBE_DISCARD] = sb_discard,
		[SBE_LEFTOVER] = sb_ignore,
		[SBE_STALE] = sb_mark_stale,
		[SBE_HELLO] = sb_ignore,
	},
	[SB_BOOTING] = {
		[SBE_TICK] = sb_boot_tick,
		[SBE_BUILT] = sb_ignore,
		[SBE_BUILD_FAILED] = sb_ignore,
		[SBE_GONE] = sb_boot_gone,
		[SBE_SHUTDOWN] = sb_boot_shut_down,
		[SBE_DESTROY_FAILED] = sb_ignore,
		[SBE_ACTIVATE] = sb_activate,
		[SBE_DISCARD] = sb_discard,
		[SBE_LEFTOVER] = sb_ignore,
		[SBE_STALE] = sb_mark_stale,
		[SBE_HELLO] = sb_booted,
	},
	[SB_DESTROYING] = {
		[SBE_TICK] = sb_ignore,
		[SBE_BUILT] = sb_ignore,
		[SBE_BUILD_FAILED] = sb_ignore,
		[SBE_GONE] = sb_gone,
		[SBE_SHUTDOWN] = sb_ignore,
		[SBE_DESTROY_FAILED] = sb_destroy_failed,
		[SBE_ACTIVATE] = sb_ignore,
		[SBE_DISCARD] = sb_ignore,
		[SBE_LEFTOVER] = sb_leftover,
		[SBE_STALE] = sb_mark_stale,
		[SBE_HELLO] = sb_ignore,
	},
};

int
standby_dispatch(struct service *s, enum sb_event ev, const struct sb_in *in)
{
	static const struct sb_in none;

	return sb_table[s->sb.state][ev](s, in ? in : &none);
}

/* a backend event about the standby; 1 if it was one */
int
standby_event(struct service *s, const struct be_event *ev)
{
	struct sb_in in = { .ev = ev };

	if (ev->standby && (ev->type == BE_CREATED ||
	    ev->type == BE_CREATE_FAILED)) {
		(void)standby_dispatch(s, ev->type == BE_CREATED ? SBE_BUILT :
		    SBE_BUILD_FAILED, &in);
		return 1;
	}
	if (s->sb.state == SB_NONE || s->sb.state == SB_BUILDING ||
	    ev->domid != s->sb.domid || ev->domid == s->domid)
		return 0;
	switch (ev->type) {
	case BE_DIED:
		/* being destroyed: gone when the destroy (its devices) is */
		if (s->sb.state == SB_DESTROYING)
			break;
		/* FALLTHROUGH */
	case BE_DESTROYED:
		(void)standby_dispatch(s, SBE_GONE, &in);
		break;
	case BE_SHUTDOWN:
		(void)standby_dispatch(s, SBE_SHUTDOWN, &in);
		break;
	case BE_DESTROY_FAILED:
		(void)standby_dispatch(s, SBE_DESTROY_FAILED, &in);
		break;
	default:
		break;
	}
	return 1;
}

/* booted ahead: its console is read as the service's own is, and its
 * agent's deadline wakes the loop */
void
standby_before_poll(struct service *s, uint64_t now, struct pollfd *fds,
    int *nfds, int max, int *timeout_ms)
{
	struct console *c = s->sb.con;
	uint64_t t = 0, left;

	if (c == NULL)
		return;
	if (!c->hup && *nfds < max) {
		fds[*nfds].fd = c->fd;
		fds[*nfds].events = console_want_read(c) ? POLLIN : 0;
		if (console_want_write(c))
			fds[*nfds].events |= POLLOUT;
		fds[*nfds].revents = 0;
		(*nfds)++;
	}
	if (s->sb.state == SB_BOOTING && (t == 0 || s->sb.boot_by < t))
		t = s->sb.boot_by;
	if (t) {
		left = t > now ? t - now : 0;
		if (*timeout_ms < 0 || left < (uint64_t)*timeout_ms)
			*timeout_ms = (int)(left > 60000 ? 60000 : left);
	}
}

void
standby_after_poll(struct service *s, struct pollfd *fds, int nfds)
{
	int k;

	for (k = 0; k < nfds && s->sb.con != NULL; k++) {
		if (fds[k].fd != s->sb.con->fd || !fds[k].revents)
			continue;
		if (fds[k].revents & POLLOUT)
			(void)console_write(s->sb.con);
		if (fds[k].revents & (POLLIN | POLLHUP | POLLERR))
			(void)console_read(s->sb.con);
	}
	if (s->sb.con != NULL && s->sb.con->chan)
		(void)console_write(s->sb.con);
}
