// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * standby = yes: the service's next domain, built and paused ahead of time;
 * a start is then a rename and an unpause.
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

/* ---- standby = yes --------------------------------------------------------- */

/* after a build that failed or was refused, the next try */
#define STANDBY_RETRY_MS	30000


static int
standby_wanted(const struct service *s)
{
	return s->conf->standby && s->sup->be->ops->activate &&
	    !s->sup->shutting_down && s->after != AFTER_REMOVE &&
	    s->pending_conf == NULL && s->conflict_domid == 0;
}

void
standby_destroy(struct service *s, const char *why)
{
	struct err e = ERR_INIT;

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

static void
standby_build(struct service *s)
{
	struct err e = ERR_INIT;
	struct svc_spec ss;
	char msg[256];

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
		return;
	}
	if (s->sup->be->ops->create(s->sup->be, &ss.spec, &e) == -1) {
		s->sb.reserved = 0;
		msgf(s->sb.error, sizeof(s->sb.error), "%s", e.msg);
		svc_warn(s, "no standby: %s", e.msg);
		s->sb.retry_at = s->sup->now + STANDBY_RETRY_MS;
		svc_spec_dispose(&ss);
		return;
	}
	memcpy(s->sb.uuid, ss.spec.uuid, 16);
	s->sb.state = SB_BUILDING;
	s->sb.stale = 0;
	svc_spec_dispose(&ss);
}

/* once a loop round: build the standby when there is none, and take away
 * one that is stale or no longer wanted */
void
standby_tick(struct service *s)
{
	if (s->sup->now < s->sb.retry_at)
		return;
	switch (s->sb.state) {
	case SB_READY:
		if (!standby_wanted(s) || s->sb.stale)
			standby_destroy(s, s->sb.stale ? "its definition "
			    "changed" : "not wanted any more");
		break;
	case SB_NONE:
		/* not while its own domain is being made or taken down:
		 * at most one create of a service at a time */
		if (standby_wanted(s) && (s->state == ST_RUNNING ||
		    s->state == ST_STOPPED || s->state == ST_FAILED ||
		    s->state == ST_BACKOFF))
			standby_build(s);
		break;
	default:
		break;
	}
}

/* a backend event about the standby; 1 if it was one */
int
standby_event(struct service *s, const struct be_event *ev)
{
	if (ev->standby && (ev->type == BE_CREATED ||
	    ev->type == BE_CREATE_FAILED)) {
		s->sb.reserved = 0;
		if (ev->type == BE_CREATE_FAILED) {
			s->sb.state = SB_NONE;
			msgf(s->sb.error, sizeof(s->sb.error), "%s",
			    ev->err.msg);
			svc_warn(s, "standby not built: %s", ev->err.msg);
			s->sb.retry_at = s->sup->now + STANDBY_RETRY_MS;
			return 1;
		}
		s->sb.state = SB_READY;
		s->sb.domid = ev->domid;
		s->sb.built_ms = ev->create_ms;
		s->sb.said = 0;
		s->sb.error[0] = '\0';
		svc_note(s, "standby built as domain %u in %llu ms, paused",
		    ev->domid, (unsigned long long)ev->create_ms);
		return 1;
	}
	if (s->sb.state == SB_NONE || s->sb.state == SB_BUILDING ||
	    ev->domid != s->sb.domid || ev->domid == s->domid)
		return 0;
	switch (ev->type) {
	case BE_DESTROYED:
	case BE_DIED:
		if (s->sb.state == SB_READY)
			svc_warn(s, "standby domain %u %s", ev->domid,
			    ev->reason == SR_DESTROYED ? "was destroyed outside "
			    "domud" : "died");
		s->sb.state = SB_NONE;
		s->sb.domid = 0;
		break;
	case BE_SHUTDOWN:
		if (s->sb.state == SB_READY)
			standby_destroy(s, "it shut down");
		break;
	case BE_DESTROY_FAILED:
		log_warnx("%s: standby domain %u: %s", s->conf->name,
		    ev->domid, ev->err.msg);
		s->sb.state = SB_READY;
		s->sb.stale = 1;
		s->sb.retry_at = s->sup->now + STANDBY_RETRY_MS;
		break;
	default:
		break;
	}
	return 1;
}

/* a start from the standby: rename, unpause, and it runs as if created;
 * 0 when there is none to use (a create follows) */
int
standby_start(struct service *s)
{
	struct err e = ERR_INIT;
	struct be_event ev;
	uint64_t t0;
	int rc;

	if (s->sb.state != SB_READY || s->sb.stale)
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
	s->timing.create_at = t0 = mono_ms();
	if (s->sup->be->ops->activate(s->sup->be, s->conf->name, s->sb.domid,
	    &e) == -1) {
		/* built afresh instead; this one goes */
		svc_warn(s, "standby domain %u: %s; creating a new domain",
		    s->sb.domid, e.msg);
		s->sb.stale = 1;
		standby_destroy(s, "it could not be started");
		if (s->net_active) {
			s->net_active = 0;
			net_service_down(s->sup->net);
		}
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = BE_CREATED;
	ev.standby = 1;
	strlcpy_(ev.svc, s->conf->name, sizeof(ev.svc));
	ev.domid = s->sb.domid;
	ev.unpause_ms = mono_ms() - t0;
	memcpy(s->run_uuid, s->sb.uuid, 16);
	s->sb.state = SB_NONE;
	s->sb.domid = 0;
	sup_dispatch(s, EV_CREATED, &ev);
	return 1;
}
