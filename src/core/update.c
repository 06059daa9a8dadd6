// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * update = yes: stage, switch, trial, commit, rollback (update.h). A
 * [state][event] table of its own; s->upd is written here and in
 * updstore.c only. The others tell it through update_dispatch(): the
 * lifecycle that its domain runs (UPE_UP) or ended (UPE_ENDED,
 * UPE_STOPPED), the loop's round (UPE_TICK), the verbs. A trial is judged
 * by what the service already says of itself: its end (crash, watchdog,
 * poweroff, a failed start) and its health probe's verdict.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/fileio.h"
#include "base/json.h"
#include "base/log.h"
#include "base/util.h"
#include "supervisor.h"

static const char *const slot_names[UPD_SLOTS] = { "a", "b" };

const char *
upd_state_str(enum upd_state st)
{
	static const char *const names[UPS__N] = {
		[UPS_IDLE] = "idle", [UPS_STAGING] = "staging",
		[UPS_STAGED] = "staged", [UPS_TRIAL] = "trial",
	};

	return (size_t)st < UPS__N ? names[st] : "?";
}

const char *
upd_slot_state_str(enum upd_slot_state st)
{
	static const char *const names[SL__N] = {
		[SL_EMPTY] = "empty", [SL_FACTORY] = "factory",
		[SL_STAGED] = "staged", [SL_TRIAL] = "trial",
		[SL_GOOD] = "good", [SL_BAD] = "bad",
	};

	return (size_t)st < SL__N ? names[st] : "?";
}

static void
upd_event(struct service *s, const char *from, const char *to,
    const char *why)
{
	events_add(&s->sup->events, s->conf->name, from, to, why, "update",
	    s->sup->now);
	svc_note(s, "update: %s -> %s: %s", from, to, why);
}

const char *
upd_slot_version(const struct upd_slot *sl)
{
	return sl->state == SL_FACTORY ? "factory" : sl->m.version[0] ?
	    sl->m.version : "no version";
}

/* the record, or a loud word: the change stands in memory either way (a
 * record left behind makes the next domud end the trial, not run both) */
static void
record(struct service *s)
{
	struct err e = ERR_INIT;

	if (upd_record_write(s, &e) == -1)
		svc_warn(s, "update: the record: %s (the next domud will end "
		    "the trial)", e.msg);
}

/* the state when nothing runs on trial: staged if the other slot is */
static enum upd_state
upd_rest(const struct svc_update *u)
{
	return u->slots[!u->active].state == SL_STAGED ? UPS_STAGED : UPS_IDLE;
}

/* the standby, built from the other slot's images, is no use now */
static void
standby_stale(struct service *s)
{
	(void)standby_dispatch(s, SBE_STALE, NULL);
}

int
upd_ignore(struct service *s, const char *why)
{
	return 0;
}

static int
a_staging(struct service *s, const char *why)
{
	upd_event(s, upd_state_str(s->upd.state), "staging", why);
	s->upd.state = UPS_STAGING;
	return 0;
}

static int
a_stage_done(struct service *s, const char *unused)
{
	struct svc_update *u = &s->upd;
	const struct upd_slot *sl;
	char why[256], msg[320];
	int slot = !u->active;

	if (upd_stage_finish(s, why, sizeof(why)) == -1) {
		u->state = upd_rest(u);
		snprintf(u->last_result, sizeof(u->last_result), "refused");
		u->refusals++;
		msgf(u->last_reason, sizeof(u->last_reason), "stage of slot %s:"
		    " %s", slot_names[slot], why);
		u->last_wall = (int64_t)time(NULL);
		upd_event(s, "staging", "refused", u->last_reason);
		return 0;
	}
	sl = &u->slots[slot];
	u->state = UPS_STAGED;
	msgf(msg, sizeof(msg), "slot %s: version %s, %zu files, %s",
	    slot_names[slot], upd_slot_version(sl), sl->m.nfiles, sl->is_signed ?
	    "signed" : "not signed");
	upd_event(s, "staging", "staged", msg);
	return 0;
}

/*
 * Two domains of the service at once: the old one serving, the new one
 * built beside it. Not with a passed-through device (one owner), nor a
 * writable disk that is not the slot's own (blkback would share it).
 */
static int
ahead_possible(const struct service *s)
{
	const struct service_conf *c = s->conf;
	const struct upd_slot *sl = &s->upd.slots[s->upd.active];
	char name[SLOT_FILE_NAME_MAX];
	size_t i;

	if (c->update_ahead == UPDATE_AHEAD_NO || s->state != ST_RUNNING ||
	    s->sup->be->ops->activate == NULL || c->npci || c->ndtdev ||
	    c->niomem || c->nirqs || s->sb.state == SB_BUILDING ||
	    s->sb.state == SB_BOOTING || s->sup->now < s->sb.retry_at)
		return 0;
	for (i = 0; i < c->ndisks; i++) {
		snprintf(name, sizeof(name), "disk:%s", c->disks[i].vdev);
		if (c->disks[i].readwrite &&
		    slot_manifest_find(&sl->m, name) == NULL)
			return 0;
	}
	return 1;
}

static void old_stops(struct service *, int);
static void rollback(struct service *, const char *, int);

/* the staged slot becomes the active one, on trial; its domain next */
static int
a_switch(struct service *s, const char *unused)
{
	struct svc_update *u = &s->upd;
	struct svc_update was = *u;
	struct err e = ERR_INIT;
	int slot = !u->active;
	char msg[UPD_WHY_MAX + 256], why[UPD_WHY_MAX];
	size_t i;

	/* the data volumes first: the record names their snapshots */
	if (upd_data_snapshot(s, why, sizeof(why)) == -1) {
		snprintf(u->last_result, sizeof(u->last_result), "refused");
		u->refusals++;
		msgf(u->last_reason, sizeof(u->last_reason), "switch to slot "
		    "%s: %s", slot_names[slot], why);
		u->last_wall = (int64_t)time(NULL);
		upd_event(s, "staged", "refused", u->last_reason);
		return -2;
	}
	/* only while it serves on: a kill during its stop is then told
	 * from one while the new domain is built (update_resume) */
	u->from_domid = s->state == ST_RUNNING ? s->domid : 0;
	u->slots[slot].state = SL_TRIAL;
	u->active = slot;
	u->trial = 1;
	u->trial_domid = 0;
	u->trial_end_wall = 0;
	u->trial_end = u->ready_by = u->final_check = 0;
	if (upd_record_write(s, &e) == -1) {
		upd_data_drop(s, u->data, u->ndata, NULL, 0);
		*u = was;
		svc_warn(s, "update: switch refused: the record: %s", e.msg);
		return -1;
	}
	upd_paths(s);
	u->state = UPS_TRIAL;
	msgf(msg, sizeof(msg), "slot %s (version %s) on trial", slot_names[slot],
	    upd_slot_version(&u->slots[slot]));
	for (i = 0; i < u->ndata; i++)
		msgf(msg + strlen(msg), sizeof(msg) - strlen(msg), "; data %s "
		    "snapshotted (reflink)", u->data[i].vdev);
	upd_event(s, "staged", "trial", msg);
	standby_stale(s);
	if (ahead_possible(s)) {
		/* the standby machine builds it; update_ahead_done() then */
		u->ahead = AHEAD_BUILDING;
		svc_note(s, "update: slot %s's domain is built while domain %u "
		    "serves", slot_names[slot], s->domid);
	} else
		old_stops(s, 0);
	return 0;
}

/* the old domain still serves: the switch's domain is not made yet */
static int
old_serves(const struct service *s)
{
	const struct svc_update *u = &s->upd;

	return u->trial_domid == 0 && u->from_domid != 0 &&
	    s->state == ST_RUNNING && s->domid == u->from_domid;
}

/*
 * The switch stops the old domain, or hands over to the new one booted
 * ahead (the old one retires aside): the record says first that it no
 * longer serves, or a domud killed meanwhile would adopt the domain that
 * is powering off as the one that serves on and leave the service
 * stopped when it is gone
 */
static void
old_stops(struct service *s, int handover)
{
	struct svc_update *u = &s->upd;

	if (u->from_domid != 0) {
		u->from_domid = 0;
		record(s);
	}
	sup_dispatch(s, handover ? EV_HANDOVER : EV_RESTART, NULL);
}

void
update_ahead_done(struct service *s, int ok)
{
	struct svc_update *u = &s->upd;

	if (u->ahead != AHEAD_BUILDING)
		return;
	/* built: wanted until the start takes it (its activation) */
	u->ahead = ok ? AHEAD_BUILT : AHEAD_NONE;
	if (u->state != UPS_TRIAL || !old_serves(s)) {
		u->ahead = AHEAD_NONE;
		return;
	}
	if (!ok)
		svc_note(s, "update: not built ahead (%s): the old domain stops "
		    "first", s->sb.error[0] ? s->sb.error : "no standby");
	else if (s->sb.booted) {
		/* the handover, at the loop's next round (a_tick) */
		u->ahead = AHEAD_BOOTED;
		return;
	}
	/* the stop, then the start takes the standby (a rename and an
	 * unpause) or, without one, builds the domain */
	old_stops(s, 0);
}

/*
 * Booted too, not only built: where its agent says when it is up (memres,
 * not vxn) and where two running domains of it do not meet: no network
 * (one address, one MAC on the bridge)
 */
int
update_boot_ahead(const struct service *s)
{
	const struct service_conf *c = s->conf;

	return s->upd.ahead == AHEAD_BUILDING &&
	    c->update_ahead == UPDATE_AHEAD_BOOT && c->memres &&
	    !c->agent_vxn && !c->has_net && s->sup->be->ops->pause != NULL;
}

void
update_ahead_failed(struct service *s, const char *why)
{
	struct svc_update *u = &s->upd;
	char msg[UPD_WHY_MAX];
	int serves;

	if (u->ahead != AHEAD_BUILDING || u->state != UPS_TRIAL)
		return;
	u->ahead = AHEAD_NONE;
	serves = old_serves(s);
	msgf(msg, sizeof(msg), "%s while it booted ahead", why);
	u->keep_next_log = 1;
	rollback(s, msg, 1);
	u->keep_next_log = 0;
	if (serves)
		svc_note(s, "update: domain %u served on throughout", s->domid);
	else if (s->state == ST_RUNNING)
		sup_dispatch(s, EV_RESTART, NULL);
}

static int
probed(const struct service *s)
{
	return s->conf->health != HEALTH_NONE;
}

/* how long a trial's domain has to pass its first probe: two windows, its
 * health_start_period and a window, and at least three minutes to boot
 * (a memres guest on a loaded machine took a minute to its agent) */
#define UPD_READY_MIN_MS	180000

uint64_t
update_ready_allowance(const struct service *s)
{
	uint64_t w = s->conf->update_window_ms, t = 2 * w;

	if (s->conf->health_start_period_ms + w > t)
		t = s->conf->health_start_period_ms + w;
	return t > UPD_READY_MIN_MS ? t : UPD_READY_MIN_MS;
}

/* the window from now: in the record too, for a domud that comes after */
static void
window_begins(struct service *s)
{
	struct svc_update *u = &s->upd;
	uint64_t w = s->conf->update_window_ms;

	u->trial_end = s->sup->now + w;
	u->trial_end_wall = (int64_t)time(NULL) + (int64_t)(w / 1000);
	record(s);
}

/*
 * The trial's domain runs. Without a probe its window starts now; with
 * one it starts at the first probe that passes, which must come within
 * ready_allowance() (a slow boot is not held against it, a guest that
 * never answers is). Once: a guest's own reboot goes on
 * with the same window.
 */
static int
a_up(struct service *s, const char *unused)
{
	struct svc_update *u = &s->upd;

	u->ahead = AHEAD_NONE;
	u->trial_domid = s->domid;
	if (u->trial_end != 0) {
		record(s);
		return 0;
	}
	if (!probed(s)) {
		window_begins(s);
		return 0;
	}
	if (u->ready_by == 0)
		u->ready_by = s->sup->now + update_ready_allowance(s);
	record(s);
	return 0;
}

/* no trial any more: what the record and the window kept of it */
static void
trial_clear(struct svc_update *u)
{
	u->trial = 0;
	u->ahead = AHEAD_NONE;
	u->trial_domid = u->from_domid = 0;
	u->trial_end_wall = 0;
	u->trial_end = u->ready_by = u->final_check = 0;
}

static void
commit(struct service *s)
{
	struct svc_update *u = &s->upd;
	struct upd_data held[UPD_DATA_MAX];
	size_t nheld = u->ndata;
	struct err e = ERR_INIT;
	char w[32], msg[UPD_WHY_MAX + 256];

	format_duration(w, sizeof(w), s->conf->update_window_ms);
	u->slots[u->active].state = SL_GOOD;
	trial_clear(u);
	memcpy(held, u->data, nheld * sizeof(held[0]));
	u->ndata = 0;
	snprintf(u->last_result, sizeof(u->last_result), "committed");
	u->commits++;
	msgf(u->last_reason, sizeof(u->last_reason), "slot %s (version %s): up "
	    "and healthy for %s", slot_names[u->active],
	    upd_slot_version(&u->slots[u->active]), w);
	u->last_wall = (int64_t)time(NULL);
	msgf(msg, sizeof(msg), "%s", u->last_reason);
	/* the snapshots go once the record no longer names them: with it
	 * unwritten, the record a next domud reads is the trial's */
	if (upd_record_write(s, &e) == -1)
		svc_warn(s, "update: the record: %s (the next domud will end "
		    "the trial; the data snapshots stay for it)", e.msg);
	else
		upd_data_drop(s, held, nheld, msg, sizeof(msg));
	u->state = upd_rest(u);
	upd_event(s, "trial", "committed", msg);
}

/*
 * Back to the other slot: the trial's slot is bad (refused by switch
 * until it is staged again) or, when a person's stop ended the trial,
 * staged again. Its console log is kept beside its images.
 */
static void
rollback(struct service *s, const char *why, int bad)
{
	struct svc_update *u = &s->upd;
	int failed = u->active;
	char msg[UPD_WHY_MAX + 512], data[384] = "";

	upd_keep_log(s, failed, u->keep_next_log ? ".next" : "");
	/* the data as it was at the switch, before the old slot starts */
	upd_data_restore(s, data, sizeof(data));
	u->slots[failed].state = bad ? SL_BAD : SL_STAGED;
	msgf(u->slots[failed].why, sizeof(u->slots[failed].why), "%s", why);
	u->active = !failed;
	trial_clear(u);
	snprintf(u->last_result, sizeof(u->last_result), "rolled-back");
	u->rollbacks++;
	msgf(u->last_reason, sizeof(u->last_reason), "slot %s (version %s): "
	    "%s", slot_names[failed], upd_slot_version(&u->slots[failed]), why);
	u->last_wall = (int64_t)time(NULL);
	record(s);
	upd_paths(s);
	u->state = upd_rest(u);
	msgf(msg, sizeof(msg), "%s; back to slot %s (version %s)%s",
	    u->last_reason, slot_names[u->active],
	    upd_slot_version(&u->slots[u->active]), data);
	upd_event(s, "trial", "rolled-back", msg);
	standby_stale(s);
}

/*
 * The window is over: with a probe, the verdict is that of a probe begun
 * after it (one under way began before: the one after it), so that a
 * guest that hangs at the end is not committed on an answer from before.
 * 1 with *why set for a failure, or NULL to commit; 0: not yet.
 */
static int
final_probe_passed(struct service *s, const char **why)
{
	struct svc_update *u = &s->upd;
	const struct svc_health *h = &s->health;

	if (u->final_check == 0)
		u->final_check = h->checks + (h->probe_at ? 2 : 1);
	if (h->checks < u->final_check)
		return 0;
	if (h->state == HS_HEALTHY && h->last_ok)
		return 1;
	if (h->state != HS_HEALTHY) {
		*why = "not healthy when its window ended";
		return 1;
	}
	return 0;	/* one failed: the next ones say */
}

/* the window, the probe: a verdict once the trial's domain runs */
static int
a_tick(struct service *s, const char *unused)
{
	struct svc_update *u = &s->upd;
	const char *why = NULL;

	if (u->ahead == AHEAD_BOOTED) {
		u->ahead = AHEAD_BUILT;
		if (old_serves(s))
			old_stops(s, 1);
		return 0;
	}
	if (s->state != ST_RUNNING || u->trial_domid != s->domid)
		return 0;
	if (u->trial_end == 0 && !probed(s)) {
		/* a reload took its probe away before the first pass */
		window_begins(s);
		return 0;
	}
	if (probed(s) && s->health.state == HS_UNHEALTHY)
		why = "its health probe failed";
	else if (u->trial_end == 0) {
		/* probed: the window waits for the first pass */
		if (s->health.state == HS_HEALTHY)
			window_begins(s);
		else if (u->ready_by && s->sup->now >= u->ready_by)
			why = "its health probe never passed";
		if (why == NULL)
			return 0;
	} else if (s->sup->now < u->trial_end ||
	    (probed(s) && !final_probe_passed(s, &why)))
		return 0;
	if (why == NULL) {
		commit(s);
		return 0;
	}
	rollback(s, why, 1);
	sup_dispatch(s, EV_RESTART, NULL);
	return 0;
}

/* its run ended by the guest's doing: the other slot starts, now */
static int
a_ended(struct service *s, const char *why)
{
	char msg[UPD_WHY_MAX];

	if (s->upd.ahead != AHEAD_NONE && s->upd.trial_domid == 0) {
		/* the old domain, while the new one was built: not the
		 * trial's end; the switch's start, now (from the standby
		 * once built) */
		svc_note(s, "update: the old domain ended (%s) before the "
		    "handover", why);
		return 1;
	}
	msgf(msg, sizeof(msg), "ended during its trial: %s", why);
	rollback(s, msg, 1);
	return 1;
}

static int
a_stopped(struct service *s, const char *why)
{
	rollback(s, "stopped by a person during its trial", 0);
	return 0;
}

static int
a_rollback_trial(struct service *s, const char *why)
{
	int serves = old_serves(s);

	rollback(s, "rolled back by hand", 1);
	if (!serves)
		sup_dispatch(s, EV_RESTART, NULL);
	return 0;
}

/* no trial: back to the other slot, which ran before (committed) */
static int
a_rollback_committed(struct service *s, const char *why)
{
	struct svc_update *u = &s->upd;
	int to = !u->active;
	char msg[256];

	u->active = to;
	snprintf(u->last_result, sizeof(u->last_result), "rolled-back");
	u->rollbacks++;
	msgf(u->last_reason, sizeof(u->last_reason), "by hand: back to slot "
	    "%s (version %s)", slot_names[to], upd_slot_version(&u->slots[to]));
	u->last_wall = (int64_t)time(NULL);
	record(s);
	upd_paths(s);
	u->state = upd_rest(u);
	msgf(msg, sizeof(msg), "%s", u->last_reason);
	upd_event(s, "committed", "rolled-back", msg);
	standby_stale(s);
	if (s->state != ST_STOPPED || !s->held)
		sup_dispatch(s, EV_RESTART, NULL);
	return 0;
}

upd_action *const upd_table[UPS__N][UPE__N] = {
	[UPS_IDLE] = {
		[UPE_STAGE] = a_staging,
		[UPE_STAGE_DONE] = upd_ignore,
		[UPE_SWITCH] = upd_ignore,
		[UPE_UP] = upd_ignore,
		[UPE_TICK] = upd_ignore,
		[UPE_ENDED] = upd_ignore,
		[UPE_STOPPED] = upd_ignore,
		[UPE_ROLLBACK] = a_rollback_committed,
	},
	[UPS_STAGING] = {
		[UPE_STAGE] = upd_ignore,
		[UPE_STAGE_DONE] = a_stage_done,
		[UPE_SWITCH] = upd_ignore,
		[UPE_UP] = upd_ignore,
		[UPE_TICK] = upd_ignore,
		[UPE_ENDED] = upd_ignore,
		[UPE_STOPPED] = upd_ignore,
		[UPE_ROLLBACK] = upd_ignore,
	},
	[UPS_STAGED] = {
		[UPE_STAGE] = a_staging,
		[UPE_STAGE_DONE] = upd_ignore,
		[UPE_SWITCH] = a_switch,
		[UPE_UP] = upd_ignore,
		[UPE_TICK] = upd_ignore,
		[UPE_ENDED] = upd_ignore,
		[UPE_STOPPED] = upd_ignore,
		[UPE_ROLLBACK] = a_rollback_committed,
	},
	[UPS_TRIAL] = {
		[UPE_STAGE] = upd_ignore,
		[UPE_STAGE_DONE] = upd_ignore,
		[UPE_SWITCH] = upd_ignore,
		[UPE_UP] = a_up,
		[UPE_TICK] = a_tick,
		[UPE_ENDED] = a_ended,
		[UPE_STOPPED] = a_stopped,
		[UPE_ROLLBACK] = a_rollback_trial,
	},
};

int
update_dispatch(struct service *s, enum upd_event ev, const char *why)
{
	if (s->upd.dir == NULL || (size_t)s->upd.state >= UPS__N ||
	    (size_t)ev >= UPE__N)
		return 0;
	return upd_table[s->upd.state][ev](s, why ? why : "");
}

/* ---- the store, at start ------------------------------------------------ */

void
update_open(struct service *s)
{
	struct svc_update *u = &s->upd;
	struct err e = ERR_INIT;
	char *dir;

	u->stage_fd = -1;
	if (!s->conf->update)
		return;
	if (asprintf(&dir, "%s/update", s->sup->cfg->d.state_dir) < 0 ||
	    asprintf(&u->dir, "%s/%s", dir, s->conf->name) < 0)
		fatal("asprintf");
	if ((mkdir(dir, 0700) == -1 && errno != EEXIST) ||
	    (mkdir(u->dir, 0700) == -1 && errno != EEXIST) ||
	    fileio_check_dir(u->dir, &e) == -1) {
		svc_warn(s, "update: %s: %s: no updates (its own images run)",
		    u->dir, e.msg[0] ? e.msg : strerror(errno));
		free(u->dir);
		u->dir = NULL;
	} else if (upd_record_read(s, &e) == -1) {
		/* its slots stay as they are for a person to look at: no
		 * stage, switch or clean-up until the record reads */
		svc_warn(s, "update: %s: its own images run; no update until "
		    "the record is mended or removed", e.msg);
		u->broken = 1;
	}
	free(dir);
	if (u->dir == NULL)
		return;
	if (!u->broken) {
		upd_gc(s);
		upd_data_gc(s);
	}
	upd_paths(s);
	u->state = u->trial ? UPS_TRIAL : upd_rest(u);
}

void
update_close(struct service *s)
{
	struct svc_update *u = &s->upd;

	upd_stage_abort(s);
	free(u->kernel);
	free(u->ramdisk);
	free(u->device_tree);
	free(u->dir);
	memset(u, 0, sizeof(*u));
	u->stage_fd = -1;
}

void
update_reconf(struct service *s)
{
	struct svc_update *u = &s->upd;

	if (s->conf->update && u->dir == NULL)
		update_open(s);
	else if (!s->conf->update && u->dir != NULL) {
		if (u->state == UPS_STAGING || u->state == UPS_TRIAL) {
			svc_warn(s, "update = no: the %s under way ends first; "
			    "reload again after it", upd_state_str(u->state));
			return;
		}
		/* the store stays on disk; the service file's images run */
		update_close(s);
		svc_note(s, "update = no: its own images run (the slots stay "
		    "in the store)");
	}
}

/* a trial the last domud left: its domain still runs, or it is over */
void
update_resume(struct service *s)
{
	struct svc_update *u = &s->upd;
	int64_t left;
	int serves;

	if (u->dir == NULL || !u->trial)
		return;
	if (s->state == ST_RUNNING && u->trial_domid != 0 &&
	    s->domid == u->trial_domid) {
		left = u->trial_end_wall - (int64_t)time(NULL);
		u->trial_end = s->sup->now + (left > 0 ? (uint64_t)left * 1000 :
		    0);
		if (u->trial_end_wall == 0) {
			/* its probe had not passed yet: from now */
			u->trial_end = 0;
			u->ready_by = s->sup->now + update_ready_allowance(s);
			left = -1;
		}
		svc_note(s, "update: the trial of slot %s goes on (%s%lld s "
		    "left)", slot_names[u->active], left < 0 ? "its probe "
		    "first, then " : "", (long long)(left < 0 ? (long long)
		    (s->conf->update_window_ms / 1000) : left > 0 ? left : 0));
		return;
	}
	/* its domain is gone (Dom0 restarted), or never was: not proven */
	serves = old_serves(s);
	rollback(s, "the trial was cut short (domud or Dom0 restarted before "
	    "it was committed)", u->trial_domid != 0);
	/*
	 * A domain that runs is the trial's, to be replaced, or the one the
	 * switch was stopping (its poweroff would leave the service stopped):
	 * either way the switch's restart, now on the old slot.
	 */
	if (serves)
		svc_note(s, "update: domain %u, which the switch had not "
		    "stopped yet, goes on", s->domid);
	else if (s->state == ST_RUNNING)
		sup_dispatch(s, EV_RESTART, NULL);
	else if (s->state == ST_STOPPING || s->state == ST_DESTROYING)
		/* adopted while the switch's stop was under way: after it */
		svc_then(s, AFTER_RESTART);
}

/* ---- what the spec takes ------------------------------------------------ */

const char *
update_disk(struct service *s, const char *vdev, char *buf, size_t sz)
{
	const struct svc_update *u = &s->upd;
	const struct upd_slot *sl = &u->slots[u->active];
	char name[SLOT_FILE_NAME_MAX];

	if (u->dir == NULL || sl->gen[0] == '\0')
		return NULL;
	snprintf(name, sizeof(name), "disk:%s", vdev);
	if (slot_manifest_find(&sl->m, name) == NULL)
		return NULL;
	/* in the slot's directory as slot.c names it: disk-VDEV */
	snprintf(buf, sz, "%s/%s/disk-%s", u->dir, sl->gen, vdev);
	return buf;
}

const uint8_t *
update_kernel_sha256(const struct service *s)
{
	const struct upd_slot *sl = &s->upd.slots[s->upd.active];
	const struct slot_file *f;

	if (s->upd.dir == NULL || sl->gen[0] == '\0' ||
	    (f = slot_manifest_find(&sl->m, "kernel")) == NULL)
		return NULL;
	return f->sha256;
}

const char *
update_cmdline(const struct service *s)
{
	const struct upd_slot *sl = &s->upd.slots[s->upd.active];

	if (s->upd.dir == NULL || sl->gen[0] == '\0' || !sl->m.has_cmdline)
		return NULL;
	return sl->m.cmdline;
}

/* ---- verbs -------------------------------------------------------------- */

int
update_stage(struct service *s, struct upd_stage_req *req, char *why,
    size_t whysz)
{
	struct svc_update *u = &s->upd;
	char msg[128];
	size_t i;

	if (u->dir == NULL)
		return msgf(why, whysz, "%s has no update slots (update = yes "
		    "in its file, and a usable %s/update)", s->conf->name,
		    s->sup->cfg->d.state_dir), -1;
	if (u->broken)
		return msgf(why, whysz, "%s: %s/update.json does not read "
		    "(domud's log says why): no update until it is mended",
		    s->conf->name, u->dir), -1;
	if (u->state == UPS_STAGING || u->state == UPS_TRIAL)
		return msgf(why, whysz, "%s: a %s is under way", s->conf->name,
		    u->state == UPS_TRIAL ? "trial" : "stage"), -1;
	/* one at a time: each takes the free space as its limit */
	for (i = 0; i < s->sup->nsvcs; i++)
		if (s->sup->svcs[i]->upd.stage != NULL)
			return msgf(why, whysz, "a stage of %s is under way: "
			    "one at a time", s->sup->svcs[i]->conf->name), -1;
	if (upd_stage_start(s, req, why, whysz) == -1)
		return -1;
	msgf(msg, sizeof(msg), "slot %s: %zu files", slot_names[!u->active],
	    req->n);
	(void)update_dispatch(s, UPE_STAGE, msg);
	return 0;
}

int
update_switch(struct service *s, char *why, size_t whysz)
{
	struct svc_update *u = &s->upd;

	if (u->dir == NULL || u->broken)
		return msgf(why, whysz, "%s has no usable update slots",
		    s->conf->name), -1;
	if (u->state != UPS_STAGED)
		return msgf(why, whysz, "%s: nothing staged to switch to (%s; "
		    "slot %s is %s)", s->conf->name, upd_state_str(u->state),
		    slot_names[!u->active],
		    upd_slot_state_str(u->slots[!u->active].state)), -1;
	/* a failed service says nothing of the slot it runs: no verdict to
	 * fall back on (start it, or roll back, first) */
	if (s->state == ST_FAILED)
		return msgf(why, whysz, "%s has failed (%s): start it first, so "
		    "that a trial has a running slot to fall back on",
		    s->conf->name, s->failed_reason), -1;
	if (s->state == ST_STARTING || s->state == ST_DESTROYING ||
	    s->state == ST_STOPPING)
		return msgf(why, whysz, "%s is %s: switch when it is done",
		    s->conf->name, svc_state_str(s->state)), -1;
	if (s->pending_conf)
		return msgf(why, whysz, "%s: a reload waits for its restart",
		    s->conf->name), -1;
	switch (update_dispatch(s, UPE_SWITCH, NULL)) {
	case -2:
		return msgf(why, whysz, "%s: %s", s->conf->name,
		    u->last_reason), -1;
	case -1:
		return msgf(why, whysz, "%s: the record could not be written "
		    "(domud's log says why)", s->conf->name), -1;
	}
	return 0;
}

int
update_rollback(struct service *s, char *why, size_t whysz)
{
	struct svc_update *u = &s->upd;
	enum upd_slot_state other;

	if (u->dir == NULL || u->broken)
		return msgf(why, whysz, "%s has no usable update slots",
		    s->conf->name), -1;
	if (s->state == ST_STARTING || s->state == ST_DESTROYING ||
	    s->state == ST_STOPPING)
		return msgf(why, whysz, "%s is %s: roll back when it is done",
		    s->conf->name, svc_state_str(s->state)), -1;
	if (u->state == UPS_TRIAL) {
		(void)update_dispatch(s, UPE_ROLLBACK, NULL);
		return 0;
	}
	other = u->slots[!u->active].state;
	if (u->state == UPS_STAGING || (other != SL_GOOD && other !=
	    SL_FACTORY))
		return msgf(why, whysz, "%s: no trial, and slot %s is %s: "
		    "nothing to go back to", s->conf->name,
		    slot_names[!u->active], upd_slot_state_str(other)), -1;
	(void)update_dispatch(s, UPE_ROLLBACK, NULL);
	return 0;
}

/* ---- the loop ----------------------------------------------------------- */

void
update_before_poll(struct service *s, struct pollfd *fds, int *nfds, int max,
    int *timeout_ms)
{
	struct svc_update *u = &s->upd;

	if (u->stage_fd != -1 && *nfds < max) {
		fds[*nfds].fd = u->stage_fd;
		fds[*nfds].events = POLLIN;
		fds[*nfds].revents = 0;
		(*nfds)++;
	}
	/* a deadline ahead wakes the loop; one passed waits on what the
	 * verdict waits for (a probe, a domain), whose own events wake it */
	if (u->state == UPS_TRIAL && (u->trial_end || u->ready_by)) {
		uint64_t now = s->sup->now, at = u->trial_end ? u->trial_end :
		    u->ready_by, left = at > now ? at - now : 0;

		if (left > 0 && (*timeout_ms < 0 || left < (uint64_t)*timeout_ms))
			*timeout_ms = (int)(left > 60000 ? 60000 : left);
	}
}

void
update_after_poll(struct service *s, const struct pollfd *fds, int nfds)
{
	int k;

	for (k = 0; s->upd.stage_fd != -1 && k < nfds; k++)
		if (fds[k].fd == s->upd.stage_fd && fds[k].revents) {
			(void)update_dispatch(s, UPE_STAGE_DONE, NULL);
			break;
		}
	(void)update_dispatch(s, UPE_TICK, NULL);
}
