// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Adoption at start (the domains a previous domud left) and the periodic
 * comparison with what Xen runs: pauses, conflicts, domains stuck dying,
 * and Xen's figures for each domain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "base/log.h"
#include "chan/gio.h"
#include "net/net.h"
#include "supervisor.h"
#include "base/util.h"

static void set_conflict(struct service *, const struct be_found *);

static int
svc_take_over(struct service *s, uint32_t domid, struct err *e)
{
	struct supervisor *sup = s->sup;
	struct be_dominfo di;
	time_t now = time(NULL);
	char *tty;

	struct be_event ev;

	if (sup->be->ops->adopt(sup->be, s->conf->name, domid, e) == -1)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.domid = domid;
	sup_dispatch(s, EV_ADOPTED, &ev);
	s->started_mono = sup->now;
	/* the uptime goes on; backoff decisions see how long it really ran */
	if (sup->be->ops->dominfo(sup->be, domid, &di, e) == 0 &&
	    di.start_time > 0 && now > di.start_time &&
	    (uint64_t)(now - di.start_time) * 1000 < sup->now)
		s->started_mono = sup->now - (uint64_t)(now - di.start_time) * 1000;
	s->net_active = net_service_adopted(sup->net, s->conf);
	/* a run disk left by a domud that died in the middle of a run */
	if (sup->be->ops->disk_list) {
		char vdevs[16][BE_VDEV_MAX];
		size_t n = 0, i, d;
		struct err e2 = ERR_INIT;

		(void)sup->be->ops->disk_list(sup->be, domid, vdevs, 16, &n, &e2);
		for (i = 0; i < n; i++) {
			int ours = 0;

			if (strncmp(vdevs[i], "xvd", 3) != 0 ||
			    vdevs[i][3] < RUN_VDEV_FIRST ||
			    vdevs[i][3] > RUN_VDEV_LAST || vdevs[i][4] != '\0')
				continue;
			for (d = 0; d < s->conf->ndisks; d++)
				if (s->conf->disks[d].vdev &&
				    !strcmp(s->conf->disks[d].vdev, vdevs[i]))
					ours = 1;
			if (ours)
				continue;
			svc_note(s, "a run disk %s was left attached: detaching it",
			    vdevs[i]);
			if (sup->be->ops->disk_detach(sup->be, s->conf->name,
			    domid, vdevs[i], 0, &e2) == -1)
				log_warnx("%s: %s", s->conf->name, e2.msg);
		}
	}
	if ((tty = sup->be->ops->console_path(sup->be, domid, e)) != NULL) {
		s->con = console_open(tty, svc_logdir(s), s->conf->name,
		    sup->cfg->d.console_log_max, e);
		if (s->con == NULL)
			log_warnx("%s: %s", s->conf->name, e->msg);
		free(tty);
		agent_attach(s);
	} else
		log_warnx("%s: no console: %s", s->conf->name, e->msg);
	return 0;
}

/*
 * A domain the last domud left aside, tagged as a standby: a paused
 * standby nobody waits for (destroyed; a new one is built once it is
 * gone), or one a switch retired (it finishes its poweroff). 1 if it was.
 */
static int
adopt_leftover(struct supervisor *sup, const struct be_found *f)
{
	struct err e = ERR_INIT;
	struct service *s;

	if (!f->standby || (strstr(f->name, BE_STANDBY_SUFFIX) == NULL &&
	    strstr(f->name, BE_RETIRING_SUFFIX) == NULL))
		return 0;
	s = sup_find(sup, f->tag);
	if (s != NULL && strstr(f->name, BE_RETIRING_SUFFIX)) {
		struct rt_in in = { .domid = f->domid,
		    .shutdown = f->shutdown || f->dying };

		(void)retire_dispatch(s, RTE_LEFTOVER, &in);
		return 1;
	}
	log_info("domain %u (%s), left aside by the last domud: destroying it",
	    f->domid, f->name);
	if (sup->be->ops->destroy(sup->be, f->tag, f->domid, &e) == -1)
		log_warnx("domain %u: %s", f->domid, e.msg);
	else if (s != NULL && strstr(f->name, BE_STANDBY_SUFFIX)) {
		struct sb_in in = { .found = f };

		(void)standby_dispatch(s, SBE_LEFTOVER, &in);
	}
	return 1;
}

/*
 * At start: find the domains a previous domud left running. Ours carry the
 * service's name, its fixed UUID and our tag; they are adopted as they are
 * (same domid, uptime going on). A domain with our name and UUID but no tag
 * or no libxl record was half made when domud died: it is destroyed, and so
 * is a tagged one with no name left (half destroyed). A tagged domain whose
 * service is gone is reported and left alone, and so is a domain that merely
 * has a service's name.
 */
void
sup_adopt(struct supervisor *sup)
{
	struct be_found *found = NULL;
	struct err e = ERR_INIT;
	size_t n = 0, i;

	sup->now = mono_ms();
	if (sup->be->ops->scan(sup->be, &found, &n, &e) == -1) {
		log_warnx("adoption: %s", e.msg);
		return;
	}
	sup->restoring = 1;
	for (i = 0; i < n; i++) {
		struct be_found *f = &found[i];
		struct service *s = sup_find(sup, f->name);

		if (f->name[0] == '\0' && !f->dying) {
			/* No xenstore directory (no name): libxl's destroy
			 * removes it before our tag and the final hypercall,
			 * and a build writes it after the domain exists; domud
			 * died inside one or the other. Such a domain can no
			 * longer work. Ours by our tag or, before the tag is
			 * written, by the service's fixed UUID (Xen keeps it
			 * as the domain handle): finished off. */
			const struct service *u = NULL;
			const char *whose = f->tag[0] ? f->tag : NULL;
			size_t k;

			for (k = 0; whose == NULL && k < sup->nsvcs; k++)
				if (svc_uuid_ours(sup->svcs[k], f->uuid))
					u = sup->svcs[k];
			if (u != NULL)
				whose = u->conf->name;
			if (whose == NULL) {
				log_warnx("domain %u has no name and is not "
				    "domud's: left alone", f->domid);
				continue;
			}
			log_warnx("domain %u of service %s was half %s: "
			    "destroying it", f->domid, whose, f->tag[0] ?
			    "destroyed" : "made (no name yet)");
			if (sup->be->ops->destroy(sup->be, whose, f->domid,
			    &e) == -1)
				log_warnx("domain %u: %s", f->domid, e.msg);
			err_clear(&e);
			continue;
		}
		if (adopt_leftover(sup, f))
			continue;
		if (s == NULL) {
			if (f->tag[0])
				log_warnx("domain %u (%s) was started by domud for "
				    "service %s, which is not configured: left "
				    "running", f->domid, f->name, f->tag);
			continue;
		}
		if (!svc_uuid_ours(s, f->uuid)) {
			/* never adopted, never destroyed: reported */
			set_conflict(s, f);
			strlcpy_(s->last_error, s->conflict,
			    sizeof(s->last_error));
			continue;
		}
		if (!f->tag[0] || !f->has_config || f->dying) {
			log_warnx("%s: domain %u was half made (%s): destroying",
			    s->conf->name, f->domid, !f->tag[0] ? "no domud tag" :
			    f->dying ? "dying" : "no libxl record");
			s->domid = f->domid;
			s->last_exit = EXIT_DIED;
			/* once it is gone, an autostart service starts anew */
			svc_then(s, s->conf->autostart ? AFTER_RESTART :
			    AFTER_STOP);
			sup_dispatch(s, EV_DESTROY_HALF_MADE, NULL);
			continue;
		}
		memcpy(s->run_uuid, f->uuid, 16);
		if (svc_take_over(s, f->domid, &e) == -1) {
			log_warnx("%s: cannot adopt domain %u: %s", s->conf->name,
			    f->domid, e.msg);
			continue;
		}
		svc_note(s, "adopted running domain %u", f->domid);
		if (f->shutdown) {
			/* it ended while no domud watched: apply the policy */
			struct be_event ev;

			memset(&ev, 0, sizeof(ev));
			ev.type = BE_SHUTDOWN;
			strlcpy_(ev.svc, s->conf->name, sizeof(ev.svc));
			ev.domid = f->domid;
			ev.reason = f->reason;
			sup->restoring = 0;
			sup_dispatch(s, EV_SHUTDOWN, &ev);
			sup->restoring = 1;
		}
	}
	sup->restoring = 0;
	free(found);
}

/* ---- reconciliation with what Xen runs ------------------------------------ */

/* a domain with the service's name that is not the one domud runs for it:
 * reported, never adopted nor destroyed; a start is refused while it is */
static void
set_conflict(struct service *s, const struct be_found *f)
{
	if (s->conflict_domid == f->domid)
		return;
	s->conflict_domid = f->domid;
	if (!svc_uuid_ours(s, f->uuid))
		snprintf(s->conflict, sizeof(s->conflict), "domain %u has this "
		    "name but is not domud's (another UUID)", f->domid);
	else
		snprintf(s->conflict, sizeof(s->conflict), "domain %u has this "
		    "name and UUID but domud did not start it", f->domid);
	svc_warn(s, "conflict: %s; it is left alone, and a start is refused "
	    "while it exists", s->conflict);
}

static void
clear_conflict(struct service *s)
{
	if (s->conflict_domid == 0)
		return;
	svc_note(s, "conflict over: domain %u with this name is gone",
	    s->conflict_domid);
	s->conflict_domid = 0;
	s->conflict[0] = '\0';
}

/* the service's own domain, as listed: paused by someone else? */
/* a sample of Xen's figures; a new domain starts the counts afresh */
static void
stats_sample(struct service *s, const struct be_found *f, uint64_t now)
{
	struct svc_stats *st = &s->stats;

	if (st->domid != f->domid) {
		memset(st, 0, sizeof(*st));
		st->domid = f->domid;
	} else {
		st->prev_cpu_ns = st->cpu_ns;
		st->prev_at_ms = st->at_ms;
	}
	st->cpu_ns = f->cpu_ns;
	st->at_ms = now;
	st->mem_bytes = f->mem_bytes;
	st->max_mem_bytes = f->max_mem_bytes;
	st->vcpus_online = f->vcpus_online;
}

/* CPU use over the last sampling interval, in tenths of a percent of one
 * vCPU; -1 before there are two samples */
int
svc_cpu_permille(const struct service *s)
{
	const struct svc_stats *st = &s->stats;

	if (st->prev_at_ms == 0 || st->at_ms <= st->prev_at_ms ||
	    st->cpu_ns < st->prev_cpu_ns)
		return -1;
	return (int)((st->cpu_ns - st->prev_cpu_ns) / 1000 /
	    (st->at_ms - st->prev_at_ms));
}

static void
reconcile_own(struct service *s, const struct be_found *f)
{
	uint64_t now = s->sup->now;

	stats_sample(s, f, now);

	/* paused by us while idle; someone else's unpause is taken as a
	 * resume */
	if (s->idle.state == IDLE_PAUSED) {
		if (!f->paused && !f->shutdown && !f->dying)
			(void)idle_dispatch(s, IE_RESUMED, NULL);
		return;
	}
	if (!f->paused || f->shutdown || f->dying) {
		s->paused_since = 0;
		if (s->paused) {
			s->paused = 0;
			svc_note(s, "domain %u runs again (unpaused)", s->domid);
			/* its agent could not answer while paused */
			if (s->con && s->con->chan)
				gio_ping_reset(s->con->chan, now);
		}
		return;
	}
	/* judged while it runs (a stop or a destroy pauses it too) */
	if (s->state != ST_RUNNING)
		return;
	if (s->paused_since == 0)
		s->paused_since = now;
	if (!s->paused && now - s->paused_since >= PAUSE_REPORT_MS) {
		s->paused = 1;
		svc_warn(s, "domain %u is paused, and domud did not pause it "
		    "(xl pause?): left paused, reported", s->domid);
	}
}

/* state.json says the domain adopted paused was paused for being idle:
 * ours, not someone else's pause */
void
svc_idle_adopted(struct service *s)
{
	(void)idle_dispatch(s, IE_ADOPTED, NULL);
	s->paused = 0;
	s->paused_since = 0;
}

/* an ended domain of this service that stays dying (a backend holds it) */
static void
reconcile_dying(struct service *s, const struct be_found *f)
{
	uint64_t now = s->sup->now;

	if (f == NULL) {
		if (s->dying_domid && s->dying_reported)
			svc_note(s, "domain %u is gone at last", s->dying_domid);
		s->dying_domid = 0;
		s->dying_reported = 0;
		return;
	}
	if (s->dying_domid != f->domid) {
		s->dying_domid = f->domid;
		s->dying_since = now;
		s->dying_reported = 0;
	}
	if (!s->dying_reported && now - s->dying_since >= STUCK_MS) {
		char d[32];

		s->dying_reported = 1;
		format_duration(d, sizeof(d), now - s->dying_since);
		svc_warn(s, "domain %u (an earlier run) is still dying after "
		    "%s%s%s: something (a backend) holds it, and its memory is "
		    "not free yet", f->domid, d, f->paused ? ", paused" : "",
		    f->shutdown ? ", shut down" : "");
	}
}

void
sup_reconcile(struct supervisor *sup)
{
	struct be_found *list = NULL;
	struct err e = ERR_INIT;
	size_t n = 0, i, k;

	if (sup->be->ops->list == NULL)
		return;
	sup->now = mono_ms();
	if (sup->be->ops->list(sup->be, &list, &n, &e) == -1) {
		log_debug("reconcile: %s", e.msg);
		return;
	}
	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];
		const struct be_found *named = NULL, *dying = NULL;

		for (k = 0; k < n; k++) {
			const struct be_found *f = &list[k];

			if (s->domid != INVALID_DOMID_ && f->domid == s->domid) {
				reconcile_own(s, f);
				continue;
			}
			/* a name being built is ours until the create ends */
			if (s->state != ST_STARTING &&
			    strcmp(f->name, s->conf->name) == 0)
				named = f;
			else if (f->dying && svc_uuid_ours(s, f->uuid) &&
			    f->domid != s->sb.domid &&
			    f->domid != s->rt.domid && (dying == NULL ||
			    f->domid == s->dying_domid))
				dying = f;
		}
		if (named)
			set_conflict(s, named);
		else if (s->state != ST_STARTING)
			clear_conflict(s);
		reconcile_dying(s, dying);
	}
	free(list);
}
