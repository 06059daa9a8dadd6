// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The service model and its supervisor. Every change of state is an event
 * through sup_dispatch(), which looks up the action in a [state][event]
 * table (as s6-supervise does); only actions call svc_set_state(). A missing
 * entry means the event does not apply in that state and is ignored (logged
 * at debug level). The backend reports from after_poll only, so actions
 * never run inside a libxl call. What follows the end of a domain is one
 * field, s->after. May call: the backend (backend.h), net (address settings,
 * forwards), console and the channel (memres), state (saving).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "boot/kcache.h"
#include "health.h"
#include "conf/partition.h"
#include "base/log.h"
#include "proto/proto.h"
#include "chan/channel.h"
#include "service.h"
#include "net/net.h"
#include "state.h"
#include "base/util.h"

typedef void action_fn(struct service *, const struct be_event *);

static void svc_set_state(struct service *, enum svc_state);
static void start_destroy(struct service *);
static void svc_try_start(struct service *);
static void sup_kick_waiting(struct supervisor *);
static void set_conflict(struct service *, const struct be_found *);

const char *
svc_state_str(enum svc_state s)
{
	static const char *const names[ST__N] = {
		[ST_STOPPED] = "stopped", [ST_WAITING] = "waiting",
		[ST_STARTING] = "starting", [ST_RUNNING] = "running",
		[ST_STOPPING] = "stopping", [ST_DESTROYING] = "stopping",
		[ST_BACKOFF] = "backoff", [ST_FAILED] = "failed",
	};

	return (unsigned)s < ST__N ? names[s] : "?";
}

const char *
svc_exit_str(enum svc_exit e)
{
	switch (e) {
	case EXIT_NONE:			return "none";
	case EXIT_STOPPED:		return "stopped";
	case EXIT_STOP_DESTROYED:	return "destroyed after stop_timeout";
	case EXIT_POWEROFF:		return "poweroff";
	case EXIT_REBOOT:		return "reboot";
	case EXIT_CRASH:		return "crash";
	case EXIT_WATCHDOG:		return "watchdog";
	case EXIT_DIED:			return "died";
	case EXIT_CREATE_FAILED:	return "create failed";
	case EXIT_REFUSED:		return "refused";
	case EXIT_DESTROYED_OUTSIDE:	return "destroyed outside domud";
	case EXIT_UNHEALTHY:		return "unhealthy";
	}
	return "?";
}

static const char *
logdir(struct service *s)
{
	return s->sup->cfg->d.log_dir;
}

/* a note in domud's log and in the service's console log */
static void
vnote(struct service *s, int warn, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void
vnote(struct service *s, int warn, const char *fmt, va_list ap)
{
	char msg[400];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (warn)
		log_warnx("%s: %s", s->conf->name, msg);
	else
		log_info("%s: %s", s->conf->name, msg);
	console_note(logdir(s), s->conf->name, s->sup->cfg->d.console_log_max,
	    "%s", msg);
}

static void
note(struct service *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
note(struct service *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(s, 0, fmt, ap);
	va_end(ap);
}

/* the same, for what someone should look at: a warning in domud's log */
static void
warn_note(struct service *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
warn_note(struct service *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(s, 1, fmt, ap);
	va_end(ap);
}

static const char *const ev_words[EV__N] = {
	[EV_START] = "start",
	[EV_STOP] = "stop",
	[EV_RESTART] = "restart",
	[EV_DEPS_READY] = "after= ready",
	[EV_CREATED] = "created",
	[EV_CREATE_FAILED] = "create failed",
	[EV_SHUTDOWN] = "shutdown",
	[EV_DIED] = "died",
	[EV_DESTROYED] = "destroyed",
	[EV_DESTROY_FAILED] = "destroy failed",
	[EV_TIMER] = "timer",
	[EV_AUTOSTART] = "autostart",
	[EV_ADOPTED] = "adopted",
	[EV_RESTORE_FAILED] = "failed before domud restarted",
	[EV_DESTROY_HALF_MADE] = "half made",
	[EV_DEADLINE] = "shutdown_timeout",
	[EV_UNHEALTHY] = "unhealthy",
};

/* the states as the history names them: status shows destroying as
 * stopping, the history tells the two apart */
static const char *
ev_state(enum svc_state st)
{
	return st == ST_DESTROYING ? "destroying" : svc_state_str(st);
}

/* the history's entry for a change of state: why, and whose doing */
static void
svc_event_record(struct service *s, enum svc_state to)
{
	struct supervisor *sup = s->sup;
	const struct be_event *bev = sup->in_dispatch ? sup->cur_bev : NULL;
	const char *word = "domud", *actor = "domud";
	char reason[600];	/* events_add cuts it to its own size */

	if (sup->reloading)
		word = "reload";
	else if (sup->in_dispatch) {
		word = ev_words[sup->cur_ev];
		if (sup->cur_ev == EV_TIMER)
			word = s->state == ST_BACKOFF ? "backoff over" :
			    s->state == ST_STOPPING ? "stop_timeout" : "timer";
	}
	if (sup->actor[0])
		actor = sup->actor;
	else if (sup->in_dispatch && sup->cur_ev == EV_UNHEALTHY)
		actor = "health";
	else if (to == ST_BACKOFF || to == ST_FAILED ||
	    (sup->in_dispatch && sup->cur_ev == EV_TIMER &&
	    s->state == ST_BACKOFF))
		actor = "policy";
	else if (bev && (bev->type == BE_SHUTDOWN || bev->type == BE_DIED))
		actor = bev->reason == SR_WATCHDOG ? "xen" :
		    bev->reason == SR_DESTROYED ? "outside domud" : "guest";
	if (to == ST_FAILED && s->failed_reason[0])
		snprintf(reason, sizeof(reason), "%s: %s", word,
		    s->failed_reason);
	else if ((to == ST_BACKOFF || to == ST_STOPPED || to == ST_FAILED ||
	    to == ST_DESTROYING) && s->last_exit != EXIT_NONE) {
		const char *ex = svc_exit_str(s->last_exit);

		/* "create failed", not "create failed: create failed" */
		if (strcmp(word, ex) == 0)
			ex = "";
		snprintf(reason, sizeof(reason), "%s%s%s%s%s", word,
		    ex[0] ? ": " : "", ex, s->last_error[0] ? ": " : "",
		    s->last_error);
	}
	else if (to == ST_RUNNING && sup->in_dispatch &&
	    sup->cur_ev == EV_CREATED && s->timing.asked) {
		const struct svc_timing *t = &s->timing;
		char kern[64] = "";

		if (t->kernel_from != BE_KERNEL_AS_IS)
			snprintf(kern, sizeof(kern), "kernel %s in %llu, ",
			    kernel_from_str(t->kernel_from),
			    (unsigned long long)t->kernel_ms);
		/* the start's phases, as status shows them */
		if (t->from_standby)
			snprintf(reason, sizeof(reason), "%s in %llu ms: "
			    "waited %llu, its standby renamed and unpaused in "
			    "%llu", word, (unsigned long long)t->to_running_ms,
			    (unsigned long long)t->wait_ms,
			    (unsigned long long)t->unpause_ms);
		else
			snprintf(reason, sizeof(reason), "%s in %llu ms: "
			    "waited %llu, %sbuilt with its devices in %llu, "
			    "unpaused in %llu", word,
			    (unsigned long long)t->to_running_ms,
			    (unsigned long long)t->wait_ms, kern,
			    (unsigned long long)t->create_ms,
			    (unsigned long long)t->unpause_ms);
	} else
		snprintf(reason, sizeof(reason), "%s", word);
	events_add(&sup->events, s->conf->name, ev_state(s->state),
	    ev_state(to), reason, actor, mono_ms());
	log_info("event: %s %s -> %s (%s; by %s)", s->conf->name,
	    ev_state(s->state), ev_state(to), reason, actor);
}

static void
svc_set_state(struct service *s, enum svc_state st)
{
	if (s->state == st)
		return;
	log_debug("%s: %s -> %s", s->conf->name, svc_state_str(s->state),
	    svc_state_str(st));
	svc_event_record(s, st);
	s->state = st;
	/* adoption and state_load rebuild what was: nothing new to save */
	if (!s->sup->restoring && (st == ST_RUNNING || st == ST_STOPPED ||
	    st == ST_FAILED))
		(void)state_save(s->sup);
	/* a service no longer on its way up can release those waiting on it;
	 * one that starts its way up (autostart queues them all first) not */
	if (st != ST_WAITING && st != ST_STARTING && st != ST_BACKOFF)
		sup_kick_waiting(s->sup);
}

/* what follows the end of the domain; a removed service stays removed */
static void
svc_then(struct service *s, enum svc_after a)
{
	if (s->after != AFTER_REMOVE)
		s->after = a;
}

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
	}
	return "?";
}

int
svc_ready(const struct service *s)
{
	if (s->state != ST_RUNNING)
		return 0;
	switch (s->conf->ready) {
	case READY_AGENT:
		return s->ready;
	case READY_HEALTH:
		return s->health.ready_seen;
	case READY_RUNNING:
		break;
	}
	return 1;
}

const char *
svc_display_state(const struct service *s)
{
	if (s->conf->ready != READY_RUNNING && svc_ready(s))
		return "ready";
	return svc_state_str(s->state);
}

/* ---- the start timing breakdown ------------------------------------------- */

/* a start decided (a person, autostart, the policy): the clock starts */
static void
timing_begin(struct service *s)
{
	memset(&s->timing, 0, sizeof(s->timing));
	s->timing.asked = mono_ms();
}

const char *
kernel_from_str(enum be_kernel_from k)
{
	switch (k) {
	case BE_KERNEL_AS_IS:		return "as-is";
	case BE_KERNEL_CACHED:		return "cached";
	case BE_KERNEL_EXTRACTED:	return "extracted";
	case BE_KERNEL_FALLBACK:	return "fallback";
	}
	return "?";
}

static void
timing_created(struct service *s, const struct be_event *ev)
{
	struct svc_timing *t = &s->timing;

	t->running_at = mono_ms();
	if (t->asked == 0)
		return;		/* adopted: no start of ours to time */
	t->wait_ms = t->create_at > t->asked ? t->create_at - t->asked : 0;
	/* the builder's time is the kernel's, then libxl's */
	t->kernel_ms = ev->kernel_ms;
	t->kernel_from = ev->kernel_from;
	t->create_ms = ev->create_ms > ev->kernel_ms ? ev->create_ms -
	    ev->kernel_ms : 0;
	t->unpause_ms = ev->unpause_ms;
	t->to_running_ms = t->running_at - t->asked;
	t->from_standby = ev->standby;
	if (t->from_standby) {
		log_info("%s: started in %llu ms: waited %llu, its standby "
		    "renamed and unpaused in %llu", s->conf->name,
		    (unsigned long long)t->to_running_ms,
		    (unsigned long long)t->wait_ms,
		    (unsigned long long)t->unpause_ms);
		return;
	}
	log_info("%s: started in %llu ms: waited %llu, kernel %s in %llu, "
	    "libxl built it in %llu, unpaused in %llu", s->conf->name,
	    (unsigned long long)t->to_running_ms,
	    (unsigned long long)t->wait_ms, kernel_from_str(t->kernel_from),
	    (unsigned long long)t->kernel_ms, (unsigned long long)t->create_ms,
	    (unsigned long long)t->unpause_ms);
}

/* ---- memres: the agent ------------------------------------------------------ */

void
svc_used(struct service *s)
{
	s->last_used = mono_ms();
}

/* not a state of the table, but what after= and `start --wait` wait for */
void
svc_ready_event(struct service *s, const char *why, const char *actor)
{
	char reason[400];

	snprintf(reason, sizeof(reason), "%s", why);
	if (s->timing.running_at && !s->timing.ready_at) {
		s->timing.ready_at = mono_ms();
		s->timing.to_ready_ms = s->timing.ready_at - s->timing.running_at;
		snprintf(reason, sizeof(reason), "%s, %llu ms after running", why,
		    (unsigned long long)s->timing.to_ready_ms);
	}
	if (s->state == ST_RUNNING) {
		events_add(&s->sup->events, s->conf->name, "running", "ready",
		    reason, actor, mono_ms());
		log_info("event: %s running -> ready (%s; by %s)",
		    s->conf->name, reason, actor);
	}
	sup_kick_waiting(s->sup);
}

static void
agent_ready(void *arg)
{
	struct service *s = arg;
	char why[160];

	if (s->ready)
		return;
	s->ready = 1;
	s->idle_stopped = 0;
	svc_used(s);
	s->unresponsive = 0;
	note(s, "ready: %s", s->con && s->con->chan ? s->con->chan->agent : "");
	health_agent_ready(s);
	snprintf(why, sizeof(why), "agent answered: %s",
	    s->con && s->con->chan ? s->con->chan->agent : "");
	if (s->conf->ready == READY_AGENT)
		svc_ready_event(s, why, "guest");
}

static void
agent_attach(struct service *s)
{
	if (!s->conf->memres || s->con == NULL)
		return;
	console_attach_channel(s->con, agent_ready, s);
	if (s->conf->agent_vxn)
		chan_set_vxn(s->con->chan);
	/* an adopted guest's agent said hello long ago: ask it now */
	s->next_ping = s->sup->now;
}

/* ---- dependencies ------------------------------------------------------- */

/* 1 when every after= service is running, or not on its way up at all:
 * ordering never pulls a service in (systemd's After=). */
static int
deps_ready(struct service *s, char *why, size_t whysz)
{
	size_t i;

	for (i = 0; i < s->conf->nafter; i++) {
		struct service *d = sup_find(s->sup, s->conf->after[i]);

		if (d == NULL)
			continue;
		switch (d->state) {
		case ST_WAITING:
		case ST_STARTING:
		case ST_BACKOFF:
			snprintf(why, whysz, "%s", d->conf->name);
			return 0;
		case ST_RUNNING:
			/* up when its agent answers, or its first probe
			 * passes, if its ready= says so */
			if (!svc_ready(d)) {
				snprintf(why, whysz, "%s (%s)", d->conf->name,
				    d->conf->ready == READY_HEALTH ? "health" :
				    "agent");
				return 0;
			}
			break;
		default:
			break;
		}
	}
	return 1;
}

static void
sup_kick_waiting(struct supervisor *sup)
{
	char why[64];
	size_t i;

	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];

		if (s->state == ST_WAITING && deps_ready(s, why, sizeof(why)))
			sup_dispatch(s, EV_DEPS_READY, NULL);
	}
}

/* ---- actions ------------------------------------------------------------- */

static void
release_memory(struct service *s)
{
	s->memory_reserved = 0;
}

/* the DomUs of domud's that exist or are being made, standbys included
 * (a start from one adds none: it passes no admission) */
static unsigned
sup_domains(const struct supervisor *sup)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < sup->nsvcs; i++) {
		if (sup->svcs[i]->sb_state != SB_NONE)
			n++;
		switch (sup->svcs[i]->state) {
		case ST_STARTING:
		case ST_RUNNING:
		case ST_STOPPING:
		case ST_DESTROYING:
			n++;
			break;
		default:
			break;
		}
	}
	return n;
}

/* Free memory minus what creates in flight will still take. */
static int
admission(struct service *s, const struct be_domain_spec *spec,
    uint64_t *reserve, char *msg, size_t msgsz)
{
	struct supervisor *sup = s->sup;
	uint64_t freemem, need, inflight = 0;
	struct err e = ERR_INIT;
	char a[32], b[32], c[32];
	size_t i;

	if (sup->cfg->d.max_domus && sup_domains(sup) >= sup->cfg->d.max_domus) {
		snprintf(msg, msgsz, "max_domus: %u DomUs of domud's exist "
		    "already (domud.conf allows %u)", sup_domains(sup),
		    sup->cfg->d.max_domus);
		return -1;
	}
	if (sup->be->ops->free_memory(sup->be, &freemem, &e) == -1 ||
	    sup->be->ops->need_memory(sup->be, spec, &need, &e) == -1) {
		msgf(msg, msgsz, "cannot check free memory: %s", e.msg);
		return -1;
	}
	for (i = 0; i < sup->nsvcs; i++)
		inflight += sup->svcs[i]->memory_reserved +
		    sup->svcs[i]->sb_reserved;
	if (freemem < inflight || freemem - inflight < need) {
		snprintf(a, sizeof(a), "%llu MiB", (unsigned long long)((need +
		    (1 << 20) - 1) >> 20));
		snprintf(b, sizeof(b), "%llu MiB", (unsigned long long)(freemem >>
		    20));
		snprintf(c, sizeof(c), "%llu MiB", (unsigned long long)(inflight >>
		    20));
		snprintf(msg, msgsz, "not enough memory: needs %s, Xen has %s "
		    "free and %s is promised to creates in flight", a, b, c);
		return -1;
	}
	*reserve = need;
	return 0;
}

/* what the backend builds: the configuration, with the network's words on
 * the command line and its keys in xenstore */
struct svc_spec {
	struct be_domain_spec	 spec;
	struct be_disk		 disks[SERVICE_MAX_DISKS];
	struct be_vif		 vif;
	char			*cmdline;
	char			**xsdata;
};

/* on a builder thread: the kcache is thread-safe, and all it touches */
static char *
kernel_from_cache(void *arg, const char *kernel, int *hit, struct err *e)
{
	return kcache_get(arg, kernel, hit, e);
}

/* what a service file alone gives the backend (no network, no cache) */
void
svc_conf_spec(const struct service_conf *c, struct be_domain_spec *sp)
{
	sp->name = c->name;
	memcpy(sp->uuid, c->uuid, 16);
	sp->type = c->type == SVC_PVH ? BE_PVH : BE_PV;
	sp->kernel = c->kernel;
	sp->ramdisk = c->ramdisk;
	sp->memory = c->memory;
	sp->vcpus = c->vcpus;
	sp->cpus = c->cpus;
	sp->ncpus = c->ncpus;
	sp->cpus_soft = c->cpus_soft;
	sp->ncpus_soft = c->ncpus_soft;
	sp->cpupool = c->cpupool;
	sp->weight = c->weight;
	sp->cap = c->cap;
	sp->period_us = c->period_us;
	sp->budget_us = c->budget_us;
	sp->maxmem = c->maxmem;
	sp->pci = c->pci;
	sp->npci = c->npci;
	sp->dtdev = c->dtdev;
	sp->ndtdev = c->ndtdev;
	sp->iomem = c->iomem;
	sp->niomem = c->niomem;
	sp->irqs = c->irqs;
	sp->nirqs = c->nirqs;
	sp->device_tree = c->device_tree;
}

static void
svc_spec_init(struct service *s, struct svc_spec *ss)
{
	const struct service_conf *c = s->conf;
	struct be_domain_spec *sp = &ss->spec;
	char netargs[256] = "";
	size_t i;

	memset(ss, 0, sizeof(*ss));
	svc_conf_spec(c, sp);
	if (s->sup->kcache && s->sup->cfg->d.kernel_cache_max && c->kernel_cache) {
		sp->kernel_prepare = kernel_from_cache;
		sp->kernel_arg = s->sup->kcache;
	}
	/* the guest's network settings: on its command line for its init,
	 * in xenstore (domud/net/...) for an agent */
	net_guest_cmdline(s->sup->net, c, netargs, sizeof(netargs));
	if (netargs[0] && c->cmdline) {
		if (asprintf(&ss->cmdline, "%s %s", c->cmdline, netargs) < 0)
			fatal("asprintf");
	} else if (netargs[0] || c->cmdline)
		ss->cmdline = xstrdup(netargs[0] ? netargs : c->cmdline);
	sp->cmdline = ss->cmdline;
	ss->xsdata = net_guest_xsdata(s->sup->net, c);
	sp->xsdata = ss->xsdata;
	for (i = 0; i < c->ndisks; i++) {
		ss->disks[i].path = c->disks[i].path;
		ss->disks[i].vdev = c->disks[i].vdev;
		ss->disks[i].readwrite = c->disks[i].readwrite;
	}
	sp->disks = ss->disks;
	sp->ndisks = c->ndisks;
	if (c->has_net) {
		ss->vif.bridge = service_bridge(s->sup->cfg, c);
		memcpy(ss->vif.mac, c->mac, 6);
		sp->vifs = &ss->vif;
		sp->nvifs = 1;
	}
}

static void
svc_spec_dispose(struct svc_spec *ss)
{
	size_t i;

	free(ss->cmdline);
	for (i = 0; ss->xsdata && ss->xsdata[i]; i++)
		free(ss->xsdata[i]);
	free(ss->xsdata);
	memset(ss, 0, sizeof(*ss));
}

/* ---- standby = yes --------------------------------------------------------- */

/* after a build that failed or was refused, the next try */
#define STANDBY_RETRY_MS	30000

/* the service's domains have its UUID or the twin (see backend.h) */
static int
svc_uuid_ours(const struct service *s, const uint8_t uuid[16])
{
	uint8_t twin[16];

	be_uuid_twin(twin, s->conf->uuid);
	return memcmp(uuid, s->conf->uuid, 16) == 0 ||
	    memcmp(uuid, twin, 16) == 0;
}

static int
standby_wanted(const struct service *s)
{
	return s->conf->standby && s->sup->be->ops->activate &&
	    !s->sup->shutting_down && s->after != AFTER_REMOVE &&
	    s->pending_conf == NULL && s->conflict_domid == 0;
}

static void
standby_destroy(struct service *s, const char *why)
{
	struct err e = ERR_INIT;

	if (s->sup->be->ops->destroy(s->sup->be, s->conf->name, s->sb_domid,
	    &e) == -1) {
		log_warnx("%s: standby domain %u: %s", s->conf->name,
		    s->sb_domid, e.msg);
		s->sb_retry_at = s->sup->now + STANDBY_RETRY_MS;
		return;
	}
	note(s, "standby domain %u destroyed: %s", s->sb_domid, why);
	s->sb_state = SB_DESTROYING;
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
	if (admission(s, &ss.spec, &s->sb_reserved, msg, sizeof(msg)) == -1) {
		msgf(s->sb_error, sizeof(s->sb_error), "%s", msg);
		if (!s->sb_said)
			warn_note(s, "no standby: %s (tried again every %d s)",
			    msg, STANDBY_RETRY_MS / 1000);
		s->sb_said = 1;
		s->sb_retry_at = s->sup->now + STANDBY_RETRY_MS;
		svc_spec_dispose(&ss);
		return;
	}
	if (s->sup->be->ops->create(s->sup->be, &ss.spec, &e) == -1) {
		s->sb_reserved = 0;
		msgf(s->sb_error, sizeof(s->sb_error), "%s", e.msg);
		warn_note(s, "no standby: %s", e.msg);
		s->sb_retry_at = s->sup->now + STANDBY_RETRY_MS;
		svc_spec_dispose(&ss);
		return;
	}
	memcpy(s->sb_uuid, ss.spec.uuid, 16);
	s->sb_state = SB_BUILDING;
	s->sb_stale = 0;
	svc_spec_dispose(&ss);
}

/* once a loop round: build the standby when there is none, and take away
 * one that is stale or no longer wanted */
static void
standby_tick(struct service *s)
{
	if (s->sup->now < s->sb_retry_at)
		return;
	switch (s->sb_state) {
	case SB_READY:
		if (!standby_wanted(s) || s->sb_stale)
			standby_destroy(s, s->sb_stale ? "its definition "
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
static int
standby_event(struct service *s, const struct be_event *ev)
{
	if (ev->standby && (ev->type == BE_CREATED ||
	    ev->type == BE_CREATE_FAILED)) {
		s->sb_reserved = 0;
		if (ev->type == BE_CREATE_FAILED) {
			s->sb_state = SB_NONE;
			msgf(s->sb_error, sizeof(s->sb_error), "%s",
			    ev->err.msg);
			warn_note(s, "standby not built: %s", ev->err.msg);
			s->sb_retry_at = s->sup->now + STANDBY_RETRY_MS;
			return 1;
		}
		s->sb_state = SB_READY;
		s->sb_domid = ev->domid;
		s->sb_built_ms = ev->create_ms;
		s->sb_said = 0;
		s->sb_error[0] = '\0';
		note(s, "standby built as domain %u in %llu ms, paused",
		    ev->domid, (unsigned long long)ev->create_ms);
		return 1;
	}
	if (s->sb_state == SB_NONE || s->sb_state == SB_BUILDING ||
	    ev->domid != s->sb_domid || ev->domid == s->domid)
		return 0;
	switch (ev->type) {
	case BE_DESTROYED:
	case BE_DIED:
		if (s->sb_state == SB_READY)
			warn_note(s, "standby domain %u %s", ev->domid,
			    ev->reason == SR_DESTROYED ? "was destroyed outside "
			    "domud" : "died");
		s->sb_state = SB_NONE;
		s->sb_domid = 0;
		break;
	case BE_SHUTDOWN:
		if (s->sb_state == SB_READY)
			standby_destroy(s, "it shut down");
		break;
	case BE_DESTROY_FAILED:
		log_warnx("%s: standby domain %u: %s", s->conf->name,
		    ev->domid, ev->err.msg);
		s->sb_state = SB_READY;
		s->sb_stale = 1;
		s->sb_retry_at = s->sup->now + STANDBY_RETRY_MS;
		break;
	default:
		break;
	}
	return 1;
}

/* a start from the standby: rename, unpause, and it runs as if created;
 * 0 when there is none to use (a create follows) */
static int
standby_start(struct service *s)
{
	struct err e = ERR_INIT;
	struct be_event ev;
	uint64_t t0;
	int rc;

	if (s->sb_state != SB_READY || s->sb_stale)
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
		console_new_run(logdir(s), s->conf->name);
		s->log_has_run = 0;
	}
	s->timing.create_at = t0 = mono_ms();
	if (s->sup->be->ops->activate(s->sup->be, s->conf->name, s->sb_domid,
	    &e) == -1) {
		/* built afresh instead; this one goes */
		warn_note(s, "standby domain %u: %s; creating a new domain",
		    s->sb_domid, e.msg);
		s->sb_stale = 1;
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
	ev.domid = s->sb_domid;
	ev.unpause_ms = mono_ms() - t0;
	memcpy(s->run_uuid, s->sb_uuid, 16);
	s->sb_state = SB_NONE;
	s->sb_domid = 0;
	sup_dispatch(s, EV_CREATED, &ev);
	return 1;
}

static void
do_create(struct service *s)
{
	struct err e = ERR_INIT;
	struct svc_spec ss;
	char msg[256];
	int rc;

	if (s->pending_conf) {
		/* reload changed what the DomU is made of: use it now */
		service_conf_free(s->conf);
		s->conf = s->pending_conf;
		s->pending_conf = NULL;
	}
	svc_then(s, AFTER_POLICY);
	if (standby_start(s))
		return;
	svc_spec_init(s, &ss);
	if (s->sb_state != SB_NONE)	/* the twin of what it holds */
		be_uuid_twin(ss.spec.uuid, s->sb_uuid);
	if (s->sup->be->ops->check &&
	    s->sup->be->ops->check(s->sup->be, &ss.spec, &e) == -1)
		msgf(msg, sizeof(msg), "%s", e.msg);
	if (e.msg[0] || admission(s, &ss.spec, &s->memory_reserved, msg,
	    sizeof(msg)) == -1) {
		/* not a crash: no restart, no budget */
		svc_spec_dispose(&ss);
		s->last_exit = EXIT_REFUSED;
		strlcpy_(s->last_error, msg, sizeof(s->last_error));
		log_warnx("%s: start refused: %s", s->conf->name, msg);
		svc_set_state(s, ST_STOPPED);
		return;
	}
	svc_set_state(s, ST_STARTING);
	if ((rc = net_service_up(s->sup->net, s->conf, &e)) == -1) {
		struct be_event ev;

		svc_spec_dispose(&ss);
		memset(&ev, 0, sizeof(ev));
		ev.type = BE_CREATE_FAILED;
		strlcpy_(ev.svc, s->conf->name, sizeof(ev.svc));
		ev.err = e;
		sup_dispatch(s, EV_CREATE_FAILED, &ev);
		return;
	}
	s->net_active = rc == 1;
	/* a new run: the log of the one before is kept for logs --previous
	 * (not for a create that fails: that run's story is still there) */
	if (s->log_has_run) {
		console_new_run(logdir(s), s->conf->name);
		s->log_has_run = 0;
	}
	s->timing.create_at = mono_ms();
	memcpy(s->run_uuid, ss.spec.uuid, 16);
	rc = s->sup->be->ops->create(s->sup->be, &ss.spec, &e);
	svc_spec_dispose(&ss);
	if (rc == -1) {
		struct be_event ev;

		if (e.status == EEXIST || e.status == BE_REFUSED) {
			/* someone else's domain has the name, or the machine
			 * cannot do what the configuration asks: not a crash,
			 * no retry (and a domain is neither adopted nor
			 * destroyed) */
			release_memory(s);
			if (s->net_active) {
				s->net_active = 0;
				net_service_down(s->sup->net);
			}
			s->last_exit = EXIT_REFUSED;
			if (e.status == BE_REFUSED)	/* said in the event */
				msgf(s->last_error, sizeof(s->last_error),
				    "start refused: %s", e.msg);
			svc_set_state(s, ST_STOPPED);
			/* which domain, and whose: look now */
			sup_reconcile(s->sup);
			msgf(s->last_error, sizeof(s->last_error), "start "
			    "refused: %s", s->conflict_domid ? s->conflict : e.msg);
			log_warnx("%s: %s", s->conf->name, s->last_error);
			return;
		}
		memset(&ev, 0, sizeof(ev));
		ev.type = BE_CREATE_FAILED;
		strlcpy_(ev.svc, s->conf->name, sizeof(ev.svc));
		ev.err = e;
		sup_dispatch(s, EV_CREATE_FAILED, &ev);
	}
}

static void
a_start(struct service *s, const struct be_event *ev)
{
	s->timer_at = 0;	/* from backoff: now, not later */
	svc_try_start(s);
}

/* autostart: all are queued before any starts, so that a service sees
 * the ones it is after= coming */
static void
a_queue(struct service *s, const struct be_event *ev)
{
	timing_begin(s);
	svc_set_state(s, ST_WAITING);
}

/* at start: a domain a previous domud left running is this service's */
static void
a_adopted(struct service *s, const struct be_event *ev)
{
	s->domid = ev->domid;
	svc_set_state(s, ST_RUNNING);
	health_begin(s);
}

/* at start: state.json says it had failed (this boot) */
static void
a_restore_failed(struct service *s, const struct be_event *ev)
{
	svc_set_state(s, ST_FAILED);
}

static void
svc_try_start(struct service *s)
{
	char why[64];

	s->failed_reason[0] = '\0';
	timing_begin(s);
	if (!deps_ready(s, why, sizeof(why))) {
		log_info("%s: waiting for %s", s->conf->name, why);
		svc_set_state(s, ST_WAITING);
		return;
	}
	do_create(s);
}

static void
a_deps_ready(struct service *s, const struct be_event *ev)
{
	do_create(s);
}

static void
a_cancel(struct service *s, const struct be_event *ev)
{
	s->timer_at = 0;
	svc_set_state(s, ST_STOPPED);
}

static void
a_stop_while_starting(struct service *s, const struct be_event *ev)
{
	/* libxl's create cannot be cut short cleanly: stop once it is up */
	svc_then(s, AFTER_STOP);
}

static void
a_created(struct service *s, const struct be_event *ev)
{
	struct err e = ERR_INIT;
	char *tty;

	release_memory(s);
	s->domid = ev->domid;
	s->started_mono = s->sup->now;
	s->last_error[0] = '\0';
	timing_created(s, ev);
	/* said before the state changes: dependents start on that change */
	note(s, "running as domain %u", ev->domid);
	s->log_has_run = 1;
	svc_set_state(s, ST_RUNNING);
	health_begin(s);
	tty = s->sup->be->ops->console_path(s->sup->be, ev->domid, &e);
	if (tty == NULL)
		log_warnx("%s: no console: %s", s->conf->name, e.msg);
	else {
		s->con = console_open(tty, logdir(s), s->conf->name,
		    s->sup->cfg->d.console_log_max, &e);
		if (s->con == NULL)
			log_warnx("%s: %s", s->conf->name, e.msg);
		free(tty);
		agent_attach(s);
	}
	if (s->after == AFTER_STOP || s->after == AFTER_REMOVE)
		sup_dispatch(s, EV_STOP, NULL);
	else if (s->pending_conf)
		/* reloaded while it was being created: restart on the new one */
		sup_dispatch(s, EV_RESTART, NULL);
}

/* budget: restarts within the window; 1 when it is spent */
static int
budget_spent(struct service *s)
{
	uint64_t since = s->sup->now > s->conf->restart_window_ms ?
	    s->sup->now - s->conf->restart_window_ms : 0;
	unsigned i, n = 0;

	for (i = 0; i < s->nrestart_at && i < RESTART_HISTORY; i++)
		if (s->restart_at[i] >= since)
			n++;
	return s->conf->restart_limit == 0 || n >= s->conf->restart_limit;
}

static void
schedule_restart(struct service *s)
{
	char d[32];

	if (budget_spent(s)) {
		char w[32];

		format_duration(w, sizeof(w), s->conf->restart_window_ms);
		snprintf(s->failed_reason, sizeof(s->failed_reason),
		    "%s, restarted %u times within %s: giving up",
		    svc_exit_str(s->last_exit), s->conf->restart_limit, w);
		note(s, "failed: %s", s->failed_reason);
		svc_set_state(s, ST_FAILED);
		return;
	}
	/* a run that stayed up long enough starts the backoff afresh */
	if (s->backoff_ms == 0 || (s->started_mono && s->sup->now -
	    s->started_mono >= s->conf->restart_stable_ms))
		s->backoff_ms = s->conf->restart_delay_ms;
	s->restart_at[s->nrestart_at++ % RESTART_HISTORY] = s->sup->now;
	s->restarts++;
	s->timer_at = s->sup->now + s->backoff_ms;
	format_duration(d, sizeof(d), s->backoff_ms);
	note(s, "%s; restarting in %s", svc_exit_str(s->last_exit), d);
	s->backoff_ms *= 2;
	if (s->backoff_ms > s->conf->restart_delay_max_ms)
		s->backoff_ms = s->conf->restart_delay_max_ms;
	svc_set_state(s, ST_BACKOFF);
}

static int
exit_is_failure(enum svc_exit x)
{
	return x == EXIT_CRASH || x == EXIT_WATCHDOG || x == EXIT_DIED ||
	    x == EXIT_DESTROYED_OUTSIDE || x == EXIT_UNHEALTHY;
}

/* a failure: what the console said last is kept for status (the whole
 * run stays in the log until the next run, then in logs --previous) */
static void
fail_tail_take(struct service *s)
{
	struct err e = ERR_INIT;
	char *t;
	size_t n;

	if (s->con)
		(void)console_read(s->con);	/* its last words first */
	t = console_tail(logdir(s), s->conf->name, FAIL_TAIL_LINES, 0, 0, &e);
	n = strlen(t);
	free(s->fail_tail);
	if (n > FAIL_TAIL_MAX) {
		/* the newest bytes, from a line's start if there is one */
		const char *from = t + n - FAIL_TAIL_MAX, *nl = strchr(from, '\n');

		s->fail_tail = xstrdup(nl && nl[1] ? nl + 1 : from);
		free(t);
	} else
		s->fail_tail = t;
	s->fail_exit = s->last_exit;
	s->fail_wall = (int64_t)time(NULL);
}

/* the domain is gone: decide what comes next */
static void
after_end(struct service *s)
{
	int failure;

	health_end(s);
	if (s->health_stop) {
		s->health_stop = 0;
		if (s->after == AFTER_POLICY)
			s->last_exit = EXIT_UNHEALTHY;
	}
	if (s->after == AFTER_POLICY && exit_is_failure(s->last_exit))
		fail_tail_take(s);
	s->domid = INVALID_DOMID_;
	console_close(s->con);
	s->con = NULL;
	s->console_retry_at = 0;
	s->ready = s->unresponsive = 0;
	s->paused = 0;
	s->paused_since = 0;
	s->idle_paused = 0;
	s->destroy_started = s->destroy_retry_ms = 0;
	s->destroy_inflight = s->destroy_stuck = 0;
	if (s->stop_phase != SP_NONE)
		s->stopped_in = s->stop_phase;
	s->stop_phase = SP_NONE;
	if (s->net_active) {
		s->net_active = 0;
		net_service_down(s->sup->net);
	}
	switch (s->after) {
	case AFTER_REMOVE:
		svc_set_state(s, ST_STOPPED);
		return;
	case AFTER_RESTART:
		s->after = AFTER_POLICY;
		svc_try_start(s);
		return;
	case AFTER_POLICY:
		/* reload changed what it is made of: the new one, now */
		if (s->pending_conf && !s->sup->shutting_down) {
			svc_try_start(s);
			return;
		}
		if (!s->sup->shutting_down)
			break;
		/* FALLTHROUGH */
	case AFTER_STOP:
		s->after = AFTER_POLICY;
		note(s, "stopped (%s; phase %s)", svc_exit_str(s->last_exit),
		    stop_phase_str(s->stopped_in));
		svc_set_state(s, ST_STOPPED);
		return;
	}
	if (s->last_exit == EXIT_REBOOT) {
		/* an in-guest reboot is the same service again, not a failure */
		note(s, "rebooted by the guest");
		svc_try_start(s);
		return;
	}
	failure = s->last_exit != EXIT_POWEROFF;
	if (s->conf->restart == RESTART_ALWAYS ||
	    (s->conf->restart == RESTART_ON_FAILURE && failure)) {
		schedule_restart(s);
		return;
	}
	if (failure) {
		snprintf(s->failed_reason, sizeof(s->failed_reason), "%s",
		    svc_exit_str(s->last_exit));
		note(s, "failed: %s (restart=%s)", s->failed_reason,
		    restart_policy_str(s->conf->restart));
		svc_set_state(s, ST_FAILED);
	} else {
		note(s, "stopped (%s)", svc_exit_str(s->last_exit));
		svc_set_state(s, ST_STOPPED);
	}
}

static void
a_create_failed(struct service *s, const struct be_event *ev)
{
	release_memory(s);
	s->last_exit = EXIT_CREATE_FAILED;
	strlcpy_(s->last_error, ev ? ev->err.msg : "create failed",
	    sizeof(s->last_error));
	note(s, "create failed: %s", s->last_error);
	s->started_mono = 0;
	after_end(s);
}

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

	s->destroy_inflight = 1;
	if (s->sup->be->ops->destroy(s->sup->be, s->conf->name, s->domid,
	    &e) == -1) {
		s->destroy_inflight = 0;
		log_warnx("%s: destroy: %s", s->conf->name, e.msg);
		strlcpy_(s->last_error, e.msg, sizeof(s->last_error));
		/* the domain may be gone already; the next event settles it,
		 * or the retry does */
		destroy_retry_later(s);
		return;
	}
	/* a look once the bound is over, if nothing came by then */
	s->timer_at = s->destroy_started + STUCK_MS;
	if (s->timer_at <= s->sup->now)
		s->timer_at = s->sup->now + STUCK_MS;
}

static void
start_destroy(struct service *s)
{
	s->timer_at = 0;
	if (s->state != ST_DESTROYING) {
		s->destroy_started = s->sup->now;
		s->destroy_retry_ms = 0;
		s->destroy_stuck = 0;
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

	if (s->destroy_stuck || s->sup->now - s->destroy_started < STUCK_MS)
		return;
	s->destroy_stuck = 1;
	if (s->sup->be->ops->dominfo(s->sup->be, s->domid, &di, &e) == -1)
		snprintf(st, sizeof(st), "no longer listed");
	else
		snprintf(st, sizeof(st), "%s%s%s", di.dying ? "dying" :
		    "not dying", di.paused ? ", paused" : "", di.shutdown ?
		    ", shut down" : "");
	format_duration(d, sizeof(d), s->sup->now - s->destroy_started);
	snprintf(s->last_error, sizeof(s->last_error), "domain %u is not gone "
	    "%s after its destroy (Xen: %s)%s", s->domid, d, st,
	    s->destroy_inflight ? "; the destroy is still under way: a "
	    "backend may hold the domain" : "");
	warn_note(s, "%s", s->last_error);
}

static void
destroy_retry_later(struct service *s)
{
	char d[32];

	if (s->destroy_retry_ms == 0)
		s->destroy_retry_ms = DESTROY_RETRY_MS;
	s->timer_at = s->sup->now + s->destroy_retry_ms;
	format_duration(d, sizeof(d), s->destroy_retry_ms);
	log_warnx("%s: destroy of domain %u: trying again in %s",
	    s->conf->name, s->domid, d);
	s->destroy_retry_ms *= 2;
	if (s->destroy_retry_ms > DESTROY_RETRY_MAX_MS)
		s->destroy_retry_ms = DESTROY_RETRY_MAX_MS;
	destroy_check_stuck(s);
}

static void pv_shutdown(struct service *);

static void
a_stop(struct service *s, const struct be_event *ev)
{
	svc_then(s, AFTER_STOP);
	/* paused while idle: its agent must run to sync and power off */
	(void)svc_wake(s, "stop");
	/* memres: the agent syncs and powers off; PV shutdown if it does not */
	if (s->conf->memres && s->ready && s->con && s->con->chan &&
	    chan_shutdown(s->con->chan) == 0) {
		s->stop_phase = SP_AGENT;
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

	s->stop_phase = SP_PV;
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

static enum svc_exit
exit_of(enum shutdown_reason r)
{
	switch (r) {
	case SR_DESTROYED:
		return EXIT_DESTROYED_OUTSIDE;
	case SR_POWEROFF:
		return EXIT_POWEROFF;
	case SR_REBOOT:
		return EXIT_REBOOT;
	case SR_CRASH:
		return EXIT_CRASH;
	case SR_WATCHDOG:
		return EXIT_WATCHDOG;
	default:
		return EXIT_DIED;
	}
}

static void
a_shutdown(struct service *s, const struct be_event *ev)
{
	/* asked to stop and it obeyed (any reason) vs. the guest's own doing */
	s->last_exit = s->state == ST_STOPPING ? EXIT_STOPPED :
	    exit_of(ev->reason);
	start_destroy(s);
}

static void
a_stop_timeout(struct service *s, const struct be_event *ev)
{
	char d[32];

	if (s->stop_phase == SP_AGENT) {
		format_duration(d, sizeof(d), s->conf->agent_stop_timeout_ms);
		note(s, "the agent did not stop it within %s: PV shutdown", d);
		pv_shutdown(s);
		return;
	}
	s->stop_phase = SP_DESTROY;
	format_duration(d, sizeof(d), s->conf->stop_timeout_ms);
	note(s, "ignored shutdown for %s: destroying", d);
	s->last_exit = EXIT_STOP_DESTROYED;
	start_destroy(s);
}

/*
 * The domain is gone. Someone else's destroy (SR_DESTROYED) is a death
 * like any other, so the restart policy applies, but it says whose it was;
 * a stop that was asked for stays a stop.
 */
static void
a_died(struct service *s, const struct be_event *ev)
{
	if (ev && ev->reason == SR_DESTROYED && s->state != ST_DESTROYING) {
		s->last_exit = EXIT_DESTROYED_OUTSIDE;
		snprintf(s->last_error, sizeof(s->last_error), "domain %u was "
		    "destroyed outside domud", ev->domid);
		warn_note(s, "%s (not by domud: xl destroy?)", s->last_error);
	} else if (s->state == ST_STOPPING)
		s->last_exit = EXIT_STOPPED;
	else if (s->state != ST_DESTROYING)
		s->last_exit = ev && ev->reason != SR_NONE ?
		    exit_of(ev->reason) : EXIT_DIED;
	s->timer_at = 0;
	after_end(s);
}

static void
a_destroyed(struct service *s, const struct be_event *ev)
{
	after_end(s);
}

static void
a_destroy_failed(struct service *s, const struct be_event *ev)
{
	s->destroy_inflight = 0;
	strlcpy_(s->last_error, ev->err.msg, sizeof(s->last_error));
	log_warnx("%s: destroy failed: %s", s->conf->name, ev->err.msg);
	destroy_retry_later(s);
}

/* the destroying timer: the bound of the destroy under way, or a retry */
static void
a_destroy_timer(struct service *s, const struct be_event *ev)
{
	if (s->destroy_inflight) {
		destroy_check_stuck(s);
		return;		/* its completion (or failure) comes later */
	}
	destroy_attempt(s);
}

/* restart a running service: stop it, then start it again */
static void
a_restart(struct service *s, const struct be_event *ev)
{
	a_stop(s, ev);
	svc_then(s, AFTER_RESTART);
}

/* already going down: start it again once it is */
static void
a_restart_when_down(struct service *s, const struct be_event *ev)
{
	svc_then(s, AFTER_RESTART);
}

static void
a_backoff_done(struct service *s, const struct be_event *ev)
{
	s->timer_at = 0;
	svc_try_start(s);
}

/* adoption: a domain of ours that was half made when domud died */
static void
a_destroy_half_made(struct service *s, const struct be_event *ev)
{
	start_destroy(s);
}

/* health_restart: down through the normal stop, then the policy, as a
 * failure (after_end makes it EXIT_UNHEALTHY) */
static void
a_unhealthy(struct service *s, const struct be_event *ev)
{
	a_stop(s, ev);
	svc_then(s, AFTER_POLICY);
	s->health_stop = 1;
}

void
svc_unhealthy(struct service *s, const char *why)
{
	strlcpy_(s->last_error, why, sizeof(s->last_error));
	warn_note(s, "%s: stopping (health_restart)", why);
	sup_dispatch(s, EV_UNHEALTHY, NULL);
}

/* daemon stop: the overall deadline overrides each stop_timeout */
static void
a_deadline(struct service *s, const struct be_event *ev)
{
	note(s, "shutdown_timeout reached: destroying");
	s->last_exit = EXIT_STOP_DESTROYED;
	start_destroy(s);
}

static action_fn *const lifecycle[ST__N][EV__N] = {
	[ST_STOPPED] = {
		[EV_START] = a_start,
		[EV_RESTART] = a_start,
		[EV_AUTOSTART] = a_queue,
		[EV_ADOPTED] = a_adopted,
		[EV_RESTORE_FAILED] = a_restore_failed,
		[EV_DESTROY_HALF_MADE] = a_destroy_half_made,
	},
	[ST_WAITING] = {
		[EV_DEPS_READY] = a_deps_ready,
		[EV_STOP] = a_cancel,
	},
	[ST_STARTING] = {
		[EV_CREATED] = a_created,
		[EV_CREATE_FAILED] = a_create_failed,
		[EV_STOP] = a_stop_while_starting,
	},
	[ST_RUNNING] = {
		[EV_STOP] = a_stop,
		[EV_RESTART] = a_restart,
		[EV_UNHEALTHY] = a_unhealthy,
		[EV_SHUTDOWN] = a_shutdown,
		[EV_DIED] = a_died,
	},
	[ST_STOPPING] = {
		[EV_DEADLINE] = a_deadline,
		[EV_RESTART] = a_restart_when_down,
		[EV_SHUTDOWN] = a_shutdown,
		[EV_TIMER] = a_stop_timeout,
		[EV_DIED] = a_died,
	},
	[ST_DESTROYING] = {
		[EV_RESTART] = a_restart_when_down,
		[EV_DESTROYED] = a_destroyed,
		[EV_DESTROY_FAILED] = a_destroy_failed,
		[EV_DIED] = a_died,
		[EV_TIMER] = a_destroy_timer,
	},
	[ST_BACKOFF] = {
		[EV_START] = a_start,
		[EV_RESTART] = a_start,
		[EV_TIMER] = a_backoff_done,
		[EV_STOP] = a_cancel,
	},
	[ST_FAILED] = {
		[EV_START] = a_start,
		[EV_RESTART] = a_start,
		[EV_STOP] = a_cancel,
	},
};

void
sup_dispatch(struct service *s, enum svc_event ev, const struct be_event *bev)
{
	action_fn *fn = lifecycle[s->state][ev];

	struct supervisor *sup = s->sup;
	const struct be_event *saved_bev = sup->cur_bev;
	enum svc_event saved_ev = sup->cur_ev;
	int saved_in = sup->in_dispatch;

	if (fn == NULL) {
		log_debug("%s: event %d ignored in state %s", s->conf->name, ev,
		    svc_state_str(s->state));
		return;
	}
	/* an action may dispatch again (a stop that finds nothing to stop):
	 * the inner event is the cause of what it changes */
	sup->cur_ev = ev;
	sup->cur_bev = bev;
	sup->in_dispatch = 1;
	fn(s, bev);
	sup->cur_ev = saved_ev;
	sup->cur_bev = saved_bev;
	sup->in_dispatch = saved_in;
}

void
sup_be_notify(void *arg, const struct be_event *ev)
{
	static const enum svc_event map[] = {
		[BE_CREATED] = EV_CREATED,
		[BE_CREATE_FAILED] = EV_CREATE_FAILED,
		[BE_SHUTDOWN] = EV_SHUTDOWN,
		[BE_DIED] = EV_DIED,
		[BE_DESTROYED] = EV_DESTROYED,
		[BE_DESTROY_FAILED] = EV_DESTROY_FAILED,
	};
	struct supervisor *sup = arg;
	struct service *s;

	sup->now = mono_ms();
	if (ev->type == BE_DISK_DONE) {
		if (sup->disk_done)
			sup->disk_done(sup->disk_arg, ev);
		return;
	}
	if ((size_t)ev->type >= nitems(map) ||
	    (s = sup_find(sup, ev->svc)) == NULL) {
		log_debug("%s: event %d for an unknown service", ev->svc,
		    ev->type);
		return;
	}
	if (standby_event(s, ev))
		return;
	/* a late event about a domain this service no longer runs */
	if (ev->type != BE_CREATED && ev->type != BE_CREATE_FAILED &&
	    ev->domid != s->domid) {
		log_debug("%s: stale event %d for domain %u", ev->svc,
		    ev->type, ev->domid);
		return;
	}
	sup_dispatch(s, map[ev->type], ev);
}

/* ---- user verbs ----------------------------------------------------------- */

/* start clears failed and the budget: a person decided */
static void
svc_clear_for_start(struct service *s)
{
	s->held = 0;
	s->nrestart_at = 0;
	s->backoff_ms = 0;
	s->last_error[0] = '\0';
}

int
sup_start(struct supervisor *sup, struct service *s, struct err *e)
{
	sup->now = mono_ms();
	if (s->conf->errors)
		return err_set(e, EINVAL, "%s has configuration errors (see "
		    "domud -n)", s->conf->name);
	if (sup->shutting_down)
		return err_set(e, ESHUTDOWN, "domud is shutting down");
	switch (s->state) {
	case ST_STOPPED:
	case ST_FAILED:
	case ST_BACKOFF:
		svc_clear_for_start(s);
		sup_dispatch(s, EV_START, NULL);
		/* refused (memory) or failed at once (a missing kernel) */
		if (s->state != ST_STARTING && s->state != ST_WAITING &&
		    s->state != ST_RUNNING)
			return err_set(e, s->last_exit == EXIT_REFUSED ?
			    ENOMEM : EIO, "%s", s->last_error[0] ?
			    s->last_error : svc_exit_str(s->last_exit));
		return 0;
	case ST_STOPPING:
	case ST_DESTROYING:
		return err_set(e, EBUSY, "%s is stopping; start it when it is "
		    "stopped, or use restart", s->conf->name);
	default:
		/* not an error: e->msg says so, e->status stays 0 */
		msgf(e->msg, sizeof(e->msg), "%s is already %s", s->conf->name,
		    svc_state_str(s->state));
		return 0;
	}
}

int
sup_stop(struct supervisor *sup, struct service *s, struct err *e)
{
	sup->now = mono_ms();
	if (s->after == AFTER_RESTART)
		s->after = AFTER_STOP;
	/* autostart leaves it stopped until a person starts it (this boot);
	 * saved now: a domud killed before the domain is down must not
	 * start it again */
	if (!sup->shutting_down && !s->held) {
		s->held = 1;
		(void)state_save(sup);
	}
	switch (s->state) {
	case ST_STOPPED:
		msgf(e->msg, sizeof(e->msg), "%s is already stopped",
		    s->conf->name);
		(void)state_save(sup);
		return 0;
	case ST_STOPPING:
	case ST_DESTROYING:
		svc_then(s, AFTER_STOP);
		return 0;
	default:
		sup_dispatch(s, EV_STOP, NULL);
		return 0;
	}
}

int
sup_restart(struct supervisor *sup, struct service *s, struct err *e)
{
	sup->now = mono_ms();
	switch (s->state) {
	case ST_RUNNING:
	case ST_STOPPING:
	case ST_DESTROYING:
		sup_dispatch(s, EV_RESTART, NULL);
		return 0;
	case ST_STARTING:
	case ST_WAITING:
		msgf(e->msg, sizeof(e->msg), "%s is %s", s->conf->name,
		    svc_state_str(s->state));
		return 0;
	default:
		return sup_start(sup, s, e);
	}
}

/* ---- supervisor ---------------------------------------------------------- */

static struct service *
svc_new(struct supervisor *sup, struct service_conf *conf)
{
	struct service *s = xcalloc(1, sizeof(*s));

	s->conf = conf;
	s->sup = sup;
	s->domid = INVALID_DOMID_;
	s->state = ST_STOPPED;
	health_init(s);
	/* a log from before domud started is an earlier run's */
	s->log_has_run = 1;
	return s;
}

static void
svc_free(struct service *s)
{
	if (s == NULL)
		return;
	health_end(s);
	if (s->sb_state == SB_READY)
		standby_destroy(s, "its service is gone");
	console_close(s->con);
	free(s->fail_tail);
	service_conf_free(s->conf);
	service_conf_free(s->pending_conf);
	free(s);
}

/* The supervisor takes the services of cfg (cfg keeps the rest). */
struct supervisor *
sup_new(struct backend *be, struct config *cfg)
{
	struct supervisor *sup = xcalloc(1, sizeof(*sup));
	size_t i;

	sup->be = be;
	sup->cfg = cfg;
	be->notify = sup_be_notify;
	be->notify_arg = sup;
	sup->svcs = xcalloc(cfg->nsvcs, sizeof(*sup->svcs));
	for (i = 0; i < cfg->nsvcs; i++) {
		sup->svcs[sup->nsvcs++] = svc_new(sup, cfg->svcs[i]);
		cfg->svcs[i] = NULL;
	}
	cfg->nsvcs = 0;
	sup->now = mono_ms();
	events_init(&sup->events, sup->cfg->d.events_max);
	{
		char *dir;

		if (asprintf(&dir, "%s/kernels", cfg->d.state_dir) < 0)
			fatal("asprintf");
		sup->kcache = kcache_new(dir, cfg->d.kernel_cache_max);
		free(dir);
	}
	return sup;
}

/* for net: the configurations of the services whose forwards are in */
static const struct service_conf **
sup_net_active(void *arg, size_t *n)
{
	struct supervisor *sup = arg;
	const struct service_conf **v;
	size_t i;

	v = xcalloc(sup->nsvcs + 1, sizeof(*v));
	*n = 0;
	for (i = 0; i < sup->nsvcs; i++)
		if (sup->svcs[i]->net_active)
			v[(*n)++] = sup->svcs[i]->conf;
	return v;
}

void
sup_set_net(struct supervisor *sup, struct net *net)
{
	sup->net = net;
	if (net)
		net_set_active(net, sup_net_active, sup);
}

void
sup_free(struct supervisor *sup)
{
	size_t i;

	if (sup == NULL)
		return;
	for (i = 0; i < sup->nsvcs; i++)
		svc_free(sup->svcs[i]);
	free(sup->svcs);
	config_free(sup->cfg);
	events_free(&sup->events);
	kcache_free(sup->kcache);
	free(sup);
}

struct service *
sup_find(struct supervisor *sup, const char *name)
{
	size_t i;

	for (i = 0; i < sup->nsvcs; i++)
		if (strcmp(sup->svcs[i]->conf->name, name) == 0)
			return sup->svcs[i];
	return NULL;
}

void
sup_autostart(struct supervisor *sup)
{
	size_t i;

	sup->now = mono_ms();
	/* independent services start together; after= holds back the rest */
	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];

		if (s->conf->errors) {
			log_warnx("%s: not started: configuration errors",
			    s->conf->name);
			continue;
		}
		if (s->held) {
			log_info("%s: stopped by a person earlier: not started",
			    s->conf->name);
			continue;
		}
		if (s->conf->autostart)
			sup_dispatch(s, EV_AUTOSTART, NULL);
	}
	sup_kick_waiting(sup);
	for (i = 0; i < sup->nsvcs; i++) {
		char why[64];

		if (sup->svcs[i]->state == ST_WAITING &&
		    !deps_ready(sup->svcs[i], why, sizeof(why)))
			log_info("%s: waiting for %s", sup->svcs[i]->conf->name,
			    why);
	}
}

/* a service's domain is running: watch it, capture its console */
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
			note(s, "a run disk %s was left attached: detaching it",
			    vdevs[i]);
			if (sup->be->ops->disk_detach(sup->be, s->conf->name,
			    domid, vdevs[i], 0, &e2) == -1)
				log_warnx("%s: %s", s->conf->name, e2.msg);
		}
	}
	if ((tty = sup->be->ops->console_path(sup->be, domid, e)) != NULL) {
		s->con = console_open(tty, logdir(s), s->conf->name,
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
		if (f->standby && strstr(f->name, BE_STANDBY_SUFFIX)) {
			/* a paused domain nobody waits for: a new one is
			 * built once this one is gone */
			s = sup_find(sup, f->tag);
			log_info("domain %u (%s), a standby of the last domud: "
			    "destroying it", f->domid, f->name);
			if (sup->be->ops->destroy(sup->be, f->tag, f->domid,
			    &e) == -1)
				log_warnx("domain %u: %s", f->domid, e.msg);
			else if (s != NULL) {
				s->sb_state = SB_DESTROYING;
				s->sb_domid = f->domid;
				memcpy(s->sb_uuid, f->uuid, 16);
			}
			err_clear(&e);
			continue;
		}
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
		note(s, "adopted running domain %u", f->domid);
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

/* a service is stopped on daemon shutdown once nothing after= it is up */
static int
has_live_dependents(struct supervisor *sup, struct service *s)
{
	size_t i, a;

	for (i = 0; i < sup->nsvcs; i++) {
		struct service *d = sup->svcs[i];

		if (d->state == ST_STOPPED || d->state == ST_FAILED)
			continue;
		for (a = 0; a < d->conf->nafter; a++)
			if (strcmp(d->conf->after[a], s->conf->name) == 0)
				return 1;
	}
	return 0;
}

void
sup_shutdown(struct supervisor *sup)
{
	struct err e = ERR_INIT;
	size_t i;

	sup->now = mono_ms();
	if (!sup->shutting_down) {
		sup->shutting_down = 1;
		sup->keep_running = sup->cfg->d.keep_running;
		sup->shutdown_deadline = sup->now + sup->cfg->d.shutdown_timeout_ms;
		if (sup->keep_running)
			log_info("keep_running: leaving the DomUs running for the "
			    "next domud");
	}
	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];

		if (sup->keep_running) {
			/* nothing new starts; what runs stays */
			if (s->state == ST_WAITING || s->state == ST_BACKOFF)
				sup_dispatch(s, EV_STOP, NULL);
			continue;
		}
		switch (s->state) {
		case ST_WAITING:
		case ST_BACKOFF:
			sup_dispatch(s, EV_STOP, NULL);
			break;
		case ST_RUNNING:
			if (!has_live_dependents(sup, s) &&
			    sup_stop(sup, s, &e) == -1)
				log_warnx("%s: stop: %s", s->conf->name, e.msg);
			break;
		case ST_STARTING:
			/* stopped once it is up */
			sup_dispatch(s, EV_STOP, NULL);
			break;
		case ST_STOPPING:
			if (sup->now >= sup->shutdown_deadline)
				sup_dispatch(s, EV_DEADLINE, NULL);
			break;
		default:
			break;
		}
	}
}

int
sup_idle(struct supervisor *sup)
{
	size_t i;

	for (i = 0; i < sup->nsvcs; i++) {
		/* a standby is never left behind (adoption would destroy it) */
		if (sup->svcs[i]->sb_state != SB_NONE)
			return 0;
		if (sup->keep_running && (sup->svcs[i]->state == ST_RUNNING ||
		    sup->svcs[i]->state == ST_STOPPING))
			continue;
		if (sup->svcs[i]->state != ST_STOPPED &&
		    sup->svcs[i]->state != ST_FAILED)
			return 0;
	}
	return 1;
}

static int
svc_cmp_name(const void *a, const void *b)
{
	const struct service *const *x = a, *const *y = b;

	return strcmp((*x)->conf->name, (*y)->conf->name);
}

void
sup_reload(struct supervisor *sup, struct config *cfg)
{
	struct service **nsvcs, **dead;
	struct err e = ERR_INIT;
	size_t i, n = 0, ndead = 0;

	sup->now = mono_ms();
	sup->reloading = 1;
	/* new pools before the services that run in them start */
	{
		struct config *old = sup->cfg;

		sup->cfg = cfg;
		sup_pools_sync(sup);
		sup->cfg = old;
	}
	nsvcs = xcalloc(cfg->nsvcs + sup->nsvcs, sizeof(*nsvcs));
	dead = xcalloc(sup->nsvcs + 1, sizeof(*dead));
	/* services gone from the configuration stop, then are dropped (the
	 * ones at rest at the end: until then sup->svcs still lists them) */
	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];

		if (config_find(cfg, s->conf->name) != NULL)
			continue;
		log_info("%s: removed from the configuration", s->conf->name);
		if (s->state == ST_STOPPED || s->state == ST_FAILED) {
			dead[ndead++] = s;
			continue;
		}
		if (s->state != ST_STOPPING && s->state != ST_DESTROYING &&
		    sup_stop(sup, s, &e) == -1)
			log_warnx("%s: stop: %s", s->conf->name, e.msg);
		s->after = AFTER_REMOVE;
		nsvcs[n++] = s;
	}
	for (i = 0; i < cfg->nsvcs; i++) {
		struct service_conf *c = cfg->svcs[i];
		struct service *s = sup_find(sup, c->name);

		cfg->svcs[i] = NULL;
		if (s == NULL) {
			s = svc_new(sup, c);
			log_info("%s: new service", c->name);
			if (c->autostart && !c->errors)
				sup_dispatch(s, EV_AUTOSTART, NULL);
		} else if (service_conf_same_domain(s->conf, c) ||
		    s->state == ST_STOPPED || s->state == ST_FAILED) {
			if (!service_conf_same_domain(s->conf, c))
				s->sb_stale = 1;
			/* policy, timeouts, ordering: apply in place */
			int probe = s->conf->health != c->health ||
			    s->conf->health_port != c->health_port ||
			    strcmp(s->conf->health_cmd ? s->conf->health_cmd :
			    "", c->health_cmd ? c->health_cmd : "") != 0;

			service_conf_free(s->pending_conf);
			s->pending_conf = NULL;
			if (probe)	/* the probe under way is the old one's */
				health_end(s);
			service_conf_free(s->conf);
			s->conf = c;
			if (probe && s->state == ST_RUNNING) {
				health_begin(s);
				if (s->ready)
					health_agent_ready(s);
			}
		} else {
			log_info("%s: definition changed: restarting",
			    c->name);
			s->sb_stale = 1;
			service_conf_free(s->pending_conf);
			s->pending_conf = c;
			if (s->state == ST_RUNNING)
				sup_dispatch(s, EV_RESTART, NULL);
		}
		nsvcs[n++] = s;
	}
	cfg->nsvcs = 0;
	free(sup->svcs);
	sup->svcs = nsvcs;
	sup->nsvcs = n;
	for (i = 0; i < ndead; i++)
		svc_free(dead[i]);
	free(dead);
	qsort(sup->svcs, sup->nsvcs, sizeof(*sup->svcs), svc_cmp_name);
	config_free(sup->cfg);
	sup->cfg = cfg;
	sup->reloading = 0;
	events_resize(&sup->events, cfg->d.events_max);
	kcache_set_max(sup->kcache, cfg->d.kernel_cache_max);
	sup_kick_waiting(sup);
}

void
sup_before_poll(struct supervisor *sup, struct pollfd *fds, int *nfds,
    int max, int *timeout_ms)
{
	uint64_t now = mono_ms();
	size_t i;

	if (sup->be->ops->list) {
		uint64_t left = sup->next_reconcile > now ?
		    sup->next_reconcile - now : 0;

		if (*timeout_ms < 0 || left < (uint64_t)*timeout_ms)
			*timeout_ms = (int)left;
	}
	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];

		if (s->con == NULL && s->console_retry_at) {
			uint64_t left = s->console_retry_at > now ?
			    s->console_retry_at - now : 0;

			if (*timeout_ms < 0 || left < (uint64_t)*timeout_ms)
				*timeout_ms = (int)left;
		}
		if (s->timer_at) {
			uint64_t left = s->timer_at > now ? s->timer_at - now : 0;

			if (*timeout_ms < 0 || left < (uint64_t)*timeout_ms)
				*timeout_ms = (int)(left > 60000 ? 60000 : left);
		}
		health_before_poll(s, fds, nfds, max, timeout_ms);
		if (s->con && !s->con->hup && *nfds < max) {
			fds[*nfds].fd = s->con->fd;
			fds[*nfds].events = POLLIN;
			if (console_want_write(s->con))
				fds[*nfds].events |= POLLOUT;
			fds[*nfds].revents = 0;
			(*nfds)++;
		}
		if (s->con && s->con->chan) {
			uint64_t t = chan_tick(s->con->chan, now), left;

			if (s->next_ping && (t == 0 || s->next_ping < t))
				t = s->next_ping;
			if (s->conf->idle_timeout_ms && s->ready) {
				uint64_t idle = s->last_used +
				    s->conf->idle_timeout_ms;

				if (t == 0 || idle < t)
					t = idle;
			}
			if (t) {
				left = t > now ? t - now : 0;
				if (*timeout_ms < 0 || left < (uint64_t)*timeout_ms)
					*timeout_ms = (int)(left > 60000 ? 60000 :
					    left);
			}
		}
	}
}

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
	s->idle_paused = 1;
	format_duration(d, sizeof(d), s->conf->idle_timeout_ms);
	snprintf(why, sizeof(why), "idle for %s", d);
	note(s, "%s: paused (the next command resumes it)", why);
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

	if (!s->idle_paused)
		return 0;
	if (be->ops->pause(be, s->domid, 0, &e) == -1) {
		log_warnx("%s: resume: %s", s->conf->name, e.msg);
		return -1;
	}
	s->idle_paused = 0;
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
	s->idle_paused = 1;
	s->paused = 0;
	s->paused_since = 0;
	log_info("%s: domain %u was paused for being idle; the next command "
	    "resumes it", s->conf->name, s->domid);
}

/* memres keepalive: a ping every ping_interval; unanswered for
 * ping_timeout, the agent is unresponsive (and, if so configured, the
 * service restarts) */
static void
agent_keepalive(struct service *s)
{
	struct channel *ch = s->con->chan;
	uint64_t now = s->sup->now;
	struct err e = ERR_INIT;

	/* a paused guest cannot answer: no verdict on it, no idle stop */
	if (s->state != ST_RUNNING || s->paused || s->idle_paused)
		return;
	if (ch->ping_sent == 0 && s->unresponsive) {
		s->unresponsive = 0;
		note(s, "agent answers again");
	}
	if (ch->ping_sent && now - ch->ping_sent >= s->conf->ping_timeout_ms &&
	    !s->unresponsive) {
		char d[32];

		s->unresponsive = 1;
		format_duration(d, sizeof(d), s->conf->ping_timeout_ms);
		note(s, "agent unresponsive: no answer to a ping for %s%s", d,
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
	    s->last_used + s->conf->idle_timeout_ms <= now) {
		char d[32];

		if (s->conf->idle_action == IDLE_PAUSE) {
			idle_pause(s);
			return;
		}
		format_duration(d, sizeof(d), s->conf->idle_timeout_ms);
		note(s, "idle for %s: stopping (the next exec starts it)", d);
		if (sup_stop(s->sup, s, &e) == 0)
			s->idle_stopped = 1;
		else
			log_warnx("%s: idle stop: %s", s->conf->name, e.msg);
	}
}

/*
 * The console hung up while the domain lives: xenconsoled restarted (it
 * gives the domain a new PTY). Commands in flight fail now, the agent is
 * not ready until it answers on the new console.
 */
static void
console_lost(struct service *s)
{
	note(s, "its console hung up while the domain runs (xenconsoled "
	    "restarted?): reopening");
	if (s->con->chan)	/* its commands fail now, saying why */
		chan_abort(s->con->chan, "the console was lost (xenconsoled "
		    "restarted?)");
	console_close(s->con);
	s->con = NULL;
	s->ready = 0;
	s->console_retry_at = s->sup->now;
}

/* the console of a running domain, again (the tty may be a new one) */
static void
console_reopen(struct service *s)
{
	struct err e = ERR_INIT;
	char *tty;

	s->console_retry_at = 0;
	if (s->state != ST_RUNNING && s->state != ST_STOPPING)
		return;
	if ((tty = s->sup->be->ops->console_path(s->sup->be, s->domid,
	    &e)) != NULL) {
		s->con = console_open(tty, logdir(s), s->conf->name,
		    s->sup->cfg->d.console_log_max, &e);
		free(tty);
	}
	if (s->con == NULL) {
		/* xenconsoled may not be back yet */
		log_debug("%s: console: %s; again in 1s", s->conf->name, e.msg);
		s->console_retry_at = s->sup->now + 1000;
		return;
	}
	note(s, "console reopened");
	agent_attach(s);
}

void
sup_after_poll(struct supervisor *sup, struct pollfd *fds, int nfds)
{
	size_t i;
	int k;

	sup->now = mono_ms();
	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];

		if (s->con == NULL)
			continue;
		for (k = 0; k < nfds; k++) {
			if (fds[k].fd != s->con->fd || !fds[k].revents)
				continue;
			if (fds[k].revents & POLLOUT)
				(void)console_write(s->con);
			if (fds[k].revents & (POLLIN | POLLHUP | POLLERR))
				(void)console_read(s->con);
		}
		if (s->con && s->con->hup && (s->state == ST_RUNNING ||
		    s->state == ST_STOPPING))
			console_lost(s);
		if (s->con && s->con->chan) {
			(void)chan_tick(s->con->chan, sup->now);
			agent_keepalive(s);
			/* what the channel queued this round goes out now */
			(void)console_write(s->con);
		}
	}
	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];

		if (s->con == NULL && s->console_retry_at &&
		    s->console_retry_at <= sup->now)
			console_reopen(s);
		health_after_poll(s, fds, nfds);
		if (s->timer_at && s->timer_at <= sup->now) {
			s->timer_at = 0;
			sup_dispatch(s, EV_TIMER, NULL);
		}
		standby_tick(s);
	}
	if (sup->be->ops->list && sup->now >= sup->next_reconcile) {
		sup_reconcile(sup);
		/* a dropped pool goes once its last domain has */
		if (sup->pools_pending)
			sup_pools_sync(sup);
		sup->next_reconcile = sup->now + RECONCILE_MS;
	}
	/* drop services removed by reload once they are down */
	for (i = 0; i < sup->nsvcs; ) {
		struct service *s = sup->svcs[i];

		if (s->after == AFTER_REMOVE && s->state == ST_STOPPED) {
			svc_free(s);
			memmove(&sup->svcs[i], &sup->svcs[i + 1],
			    (sup->nsvcs - i - 1) * sizeof(*sup->svcs));
			sup->nsvcs--;
			continue;
		}
		i++;
	}
	if (sup->shutting_down)
		sup_shutdown(sup);
	qsort(sup->svcs, sup->nsvcs, sizeof(*sup->svcs), svc_cmp_name);
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
	warn_note(s, "conflict: %s; it is left alone, and a start is refused "
	    "while it exists", s->conflict);
}

static void
clear_conflict(struct service *s)
{
	if (s->conflict_domid == 0)
		return;
	note(s, "conflict over: domain %u with this name is gone",
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
	if (s->idle_paused) {
		if (!f->paused && !f->shutdown && !f->dying) {
			s->idle_paused = 0;
			svc_used(s);
			note(s, "domain %u was resumed outside domud (xl "
			    "unpause?)", s->domid);
		}
		return;
	}
	if (!f->paused || f->shutdown || f->dying) {
		s->paused_since = 0;
		if (s->paused) {
			s->paused = 0;
			note(s, "domain %u runs again (unpaused)", s->domid);
			/* its agent could not answer while paused */
			if (s->con && s->con->chan && s->con->chan->ping_sent)
				s->con->chan->ping_sent = now;
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
		warn_note(s, "domain %u is paused, and domud did not pause it "
		    "(xl pause?): left paused, reported", s->domid);
	}
}

/* an ended domain of this service that stays dying (a backend holds it) */
static void
reconcile_dying(struct service *s, const struct be_found *f)
{
	uint64_t now = s->sup->now;

	if (f == NULL) {
		if (s->dying_domid && s->dying_reported)
			note(s, "domain %u is gone at last", s->dying_domid);
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
		warn_note(s, "domain %u (an earlier run) is still dying after "
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
			    f->domid != s->sb_domid && (dying == NULL ||
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

/* a domain's disks and vifs with what Dom0's backends count */
/* where its domain runs and how Xen schedules it, read back from Xen;
 * the devices it was given, from its configuration */
static void
placement_json(struct service *s, yajl_gen g)
{
	const struct service_conf *c = s->conf;
	struct be_placement pl;
	struct err e = ERR_INIT;
	char buf[96];
	unsigned v;
	size_t i;

	if (s->sup->be->ops->placement == NULL ||
	    s->sup->be->ops->placement(s->sup->be, s->domid, &pl, &e) == -1)
		return;
	gen_str(g, "placement");
	yajl_gen_map_open(g);
	gen_kv_str(g, "cpupool", pl.pool);
	gen_kv_str(g, "sched", sched_str(pl.sched));
	if (pl.sched == SCHED_CREDIT || pl.sched == SCHED_CREDIT2) {
		gen_kv_int(g, "weight", pl.weight);
		gen_kv_int(g, "cap", pl.cap);
	} else if (pl.sched == SCHED_RTDS) {
		gen_kv_int(g, "period_us", pl.period_us);
		gen_kv_int(g, "budget_us", pl.budget_us);
	}
	gen_str(g, "vcpu");
	yajl_gen_array_open(g);
	for (v = 0; v < pl.nvcpus; v++) {
		yajl_gen_map_open(g);
		gen_kv_int(g, "on_cpu", pl.vcpu[v].cpu);
		cpuset_format(&pl.vcpu[v].hard, buf, sizeof(buf));
		gen_kv_str(g, "affinity", buf);
		cpuset_format(&pl.vcpu[v].soft, buf, sizeof(buf));
		gen_kv_str(g, "soft_affinity", buf);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	if (c->npci || c->ndtdev || c->nirqs || c->niomem) {
		gen_str(g, "passthrough");
		yajl_gen_array_open(g);
		for (i = 0; i < c->npci; i++) {
			char a[32];

			pci_format(&c->pci[i], a, sizeof(a));
			snprintf(buf, sizeof(buf), "pci %s", a);
			gen_str(g, buf);
		}
		for (i = 0; i < c->ndtdev; i++) {
			snprintf(buf, sizeof(buf), "dtdev %s", c->dtdev[i]);
			gen_str(g, buf);
		}
		for (i = 0; i < c->nirqs; i++) {
			snprintf(buf, sizeof(buf), "irq %u", c->irqs[i]);
			gen_str(g, buf);
		}
		for (i = 0; i < c->niomem; i++) {
			snprintf(buf, sizeof(buf), "iomem 0x%llx,%llu",
			    (unsigned long long)c->iomem[i].start,
			    (unsigned long long)c->iomem[i].count);
			gen_str(g, buf);
		}
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
}

static void
devices_json(struct service *s, yajl_gen g)
{
	struct be_devices d;
	struct err e = ERR_INIT;
	size_t i;

	if (s->sup->be->ops->devices == NULL ||
	    s->sup->be->ops->devices(s->sup->be, s->domid, &d, &e) == -1)
		return;
	gen_str(g, "disks");
	yajl_gen_array_open(g);
	for (i = 0; i < d.ndisks; i++) {
		yajl_gen_map_open(g);
		gen_kv_str(g, "vdev", d.disks[i].vdev);
		if (d.disks[i].has_stats) {
			gen_kv_int(g, "read_requests",
			    (long long)d.disks[i].rd_req);
			gen_kv_int(g, "write_requests",
			    (long long)d.disks[i].wr_req);
			gen_kv_int(g, "read_bytes",
			    (long long)d.disks[i].rd_sect * 512);
			gen_kv_int(g, "written_bytes",
			    (long long)d.disks[i].wr_sect * 512);
		}
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	gen_str(g, "vifs");
	yajl_gen_array_open(g);
	for (i = 0; i < d.nvifs; i++) {
		struct net_vif_counters v;

		yajl_gen_map_open(g);
		gen_kv_str(g, "ifname", d.vifs[i]);
		if (net_vif_counters(d.vifs[i], &v, &e) == 0) {
			gen_kv_int(g, "rx_bytes", (long long)v.rx_bytes);
			gen_kv_int(g, "tx_bytes", (long long)v.tx_bytes);
			gen_kv_int(g, "rx_packets", (long long)v.rx_packets);
			gen_kv_int(g, "tx_packets", (long long)v.tx_packets);
		}
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

void
svc_status_json(struct service *s, yajl_gen g, int flags)
{
	struct be_dominfo di;
	struct err e = ERR_INIT;
	time_t now = time(NULL);
	uint64_t mono = mono_ms();

	yajl_gen_map_open(g);
	gen_kv_str(g, "name", s->conf->name);
	gen_kv_str(g, "state", svc_display_state(s));
	if (s->conf->description)
		gen_kv_str(g, "description", s->conf->description);
	if (s->conf->standby || s->sb_state != SB_NONE) {
		static const char *const sb_words[] = {
			[SB_NONE] = "none", [SB_BUILDING] = "building",
			[SB_READY] = "ready", [SB_DESTROYING] = "destroying",
		};

		gen_kv_str(g, "standby", sb_words[s->sb_state]);
		if (s->sb_state == SB_READY || s->sb_state == SB_DESTROYING)
			gen_kv_int(g, "standby_domid", s->sb_domid);
		if (s->sb_state == SB_READY)
			gen_kv_int(g, "standby_built_ms",
			    (long long)s->sb_built_ms);
		if (s->sb_state == SB_NONE && s->sb_error[0])
			gen_kv_str(g, "standby_error", s->sb_error);
	}
	if (s->domid != INVALID_DOMID_) {
		gen_kv_int(g, "domid", s->domid);
		if (s->sup->be->ops->dominfo(s->sup->be, s->domid, &di, &e) == 0) {
			if (di.start_time > 0) {
				gen_kv_int(g, "start_time",
				    (long long)di.start_time);
				gen_kv_int(g, "uptime", now > di.start_time ?
				    (long long)(now - di.start_time) : 0);
			}
			/* what Xen says of it, now */
			gen_kv_str(g, "xen_state", di.dying ? "dying" :
			    di.shutdown ? "shutdown" : di.paused ? "paused" :
			    "running");
		}
		if (s->timing.running_at && s->timing.asked) {
			const struct svc_timing *t = &s->timing;

			gen_str(g, "last_start");
			yajl_gen_map_open(g);
			gen_kv_int(g, "wait_ms", (long long)t->wait_ms);
			gen_kv_bool(g, "from_standby", t->from_standby);
			gen_kv_str(g, "kernel", kernel_from_str(t->kernel_from));
			gen_kv_int(g, "kernel_ms", (long long)t->kernel_ms);
			gen_kv_int(g, "create_ms", (long long)t->create_ms);
			gen_kv_int(g, "unpause_ms", (long long)t->unpause_ms);
			gen_kv_int(g, "to_running_ms",
			    (long long)t->to_running_ms);
			if (t->ready_at)
				gen_kv_int(g, "to_ready_ms",
				    (long long)t->to_ready_ms);
			yajl_gen_map_close(g);
		}
		if (flags & SJ_DEVICES)
			devices_json(s, g);
		if (flags & SJ_PLACEMENT)
			placement_json(s, g);
		if (s->stats.domid == s->domid && s->stats.at_ms) {
			int pm = svc_cpu_permille(s);

			gen_kv_int(g, "cpu_time_ms",
			    (long long)(s->stats.cpu_ns / 1000000));
			if (pm >= 0)
				gen_kv_int(g, "cpu_permille", pm);
			gen_kv_int(g, "memory_now",
			    (long long)s->stats.mem_bytes);
			gen_kv_int(g, "memory_max",
			    (long long)s->stats.max_mem_bytes);
			gen_kv_int(g, "vcpus_online", s->stats.vcpus_online);
		}
	}
	/* what Xen does that domud did not ask for */
	if (s->paused)
		gen_kv_bool(g, "paused", 1);
	if (s->conflict_domid) {
		gen_kv_str(g, "conflict", s->conflict);
		gen_kv_int(g, "conflict_domid", s->conflict_domid);
	}
	if (s->dying_domid && s->dying_reported) {
		gen_kv_int(g, "dying_domid", s->dying_domid);
		gen_kv_int(g, "dying_s", (long long)((mono - s->dying_since) /
		    1000));
	}
	if (s->state == ST_DESTROYING && s->destroy_started) {
		gen_kv_int(g, "destroy_s", (long long)((mono -
		    s->destroy_started) / 1000));
		if (s->destroy_stuck)
			gen_kv_bool(g, "destroy_stuck", 1);
	}
	gen_kv_bool(g, "autostart", s->conf->autostart);
	gen_kv_str(g, "restart_policy", restart_policy_str(s->conf->restart));
	gen_kv_int(g, "memory", (long long)s->conf->memory);
	gen_kv_int(g, "vcpus", s->conf->vcpus);
	gen_kv_str(g, "last_exit", svc_exit_str(s->last_exit));
	if (s->last_error[0])
		gen_kv_str(g, "last_error", s->last_error);
	if (s->state == ST_FAILED)
		gen_kv_str(g, "failed_reason", s->failed_reason[0] ?
		    s->failed_reason : svc_exit_str(s->last_exit));
	gen_kv_int(g, "restarts", s->restarts);
	if (s->state == ST_BACKOFF && s->timer_at)
		gen_kv_int(g, "next_restart_ms", s->timer_at > mono ?
		    (long long)(s->timer_at - mono) : 0);
	if (s->state == ST_STOPPING && s->timer_at)
		gen_kv_int(g, "stop_deadline_ms", s->timer_at > mono ?
		    (long long)(s->timer_at - mono) : 0);
	if (s->conf->errors)
		gen_kv_bool(g, "config_errors", 1);
	gen_kv_str(g, "ready_when", s->conf->ready == READY_HEALTH ? "health" :
	    s->conf->ready == READY_AGENT ? "agent" : "running");
	if (s->state == ST_RUNNING)
		health_json(s, g);
	if (s->fail_tail && (flags & SJ_FAILURE)) {
		gen_str(g, "last_failure");
		yajl_gen_map_open(g);
		gen_kv_str(g, "exit", svc_exit_str(s->fail_exit));
		gen_kv_int(g, "at", (long long)s->fail_wall);
		gen_kv_str(g, "console_tail", s->fail_tail);
		yajl_gen_map_close(g);
	}
	if (s->conf->memres) {
		gen_kv_bool(g, "memres", 1);
		gen_kv_bool(g, "agent_ready", s->ready);
		if (s->con && s->con->chan && s->con->chan->agent[0])
			gen_kv_str(g, "agent", s->con->chan->agent);
		if (s->unresponsive)
			gen_kv_bool(g, "agent_unresponsive", 1);
		if (s->con && s->con->chan) {
			const struct channel *ch = s->con->chan;

			gen_str(g, "channel");
			yajl_gen_map_open(g);
			gen_kv_int(g, "bytes_in", (long long)ch->bytes_in);
			gen_kv_int(g, "bytes_out", (long long)ch->bytes_out);
			gen_kv_int(g, "frames_in", (long long)ch->frames_in);
			gen_kv_int(g, "frames_out", (long long)ch->frames_out);
			/* frames the agent sent again (a lost ack), or that
			 * came too far ahead to keep */
			gen_kv_int(g, "resent", (long long)ch->resent_seen);
			gen_kv_int(g, "dropped", (long long)ch->dropped);
			gen_kv_int(g, "crc_errors",
			    (long long)ch->parser.st.bad_crc);
			yajl_gen_map_close(g);
		}
	}
	if (s->idle_paused)
		gen_kv_str(g, "idle", "paused");
	if (s->state == ST_STOPPING)
		gen_kv_str(g, "stop_phase", stop_phase_str(s->stop_phase));
	if (s->stopped_in != SP_NONE)
		gen_kv_str(g, "last_stop_phase", stop_phase_str(s->stopped_in));
	yajl_gen_map_close(g);
}
