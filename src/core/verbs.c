// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Control verbs answered at once: ping (of the daemon), list, status,
 * logs, net, reload, start, stop, restart. Each renders what the
 * supervisor, the console log or the network (net_info) says; none keeps
 * state. And the wiring of the control layers, whose top this is:
 * control.c (sockets, dispatch) <- jobs.c (answers that come later) <-
 * rundisk.c (run), each calling only those below it; verbs_setup gives
 * control.c the verb table and jobs.c's hooks.
 * May call: control.c, jobs.c, rundisk.c, the supervisor, console, net
 * (data only), config.
 */
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "console.h"
#include "chan/gio.h"
#include "control.h"
#include "jobs.h"
#include "metrics.h"
#include "net/net.h"
#include "conf/partition.h"
#include "rundisk.h"
#include "verbs.h"

/* the daemon's side of the command table: proto_cmds[i].verb -> handler */
static control_handler *const verbs[PV__N] = {
	[PV_PING] = verb_ping,
	[PV_LIST] = verb_status,
	[PV_STATUS] = verb_status,
	[PV_LOGS] = verb_logs,
	[PV_START] = verb_start,
	[PV_STOP] = verb_stop,
	[PV_RESTART] = verb_restart,
	[PV_RELOAD] = verb_reload,
	[PV_NET] = verb_net,
	[PV_NET_FIX] = verb_net,
	[PV_EXEC] = jobs_exec,
	[PV_CANCEL] = jobs_cancel,
	[PV_STDIN] = jobs_stdin,
	[PV_CONSOLE] = jobs_console,
	[PV_RUN] = rundisk_run,
	[PV_INPUT] = jobs_input,
	[PV_EVENTS] = verb_events,
	[PV_METRICS] = verb_metrics,
	[PV_CPUPOOLS] = verb_cpupools,
	[PV_UPDATE_STAGE] = verb_update_stage,
	[PV_UPDATE_SWITCH] = verb_update_switch,
	[PV_UPDATE_ROLLBACK] = verb_update_rollback,
	[PV_UPDATE_STATUS] = verb_update_status,
};

static const struct control_hooks hooks = {
	.verbs = verbs,
	.busy = jobs_busy,
	.waiting = jobs_waiting,
	.tick = jobs_tick,
	.may_pass = jobs_stdin_may_pass,
	.gone = jobs_conn_gone,
	.close = jobs_close,
};

void
verbs_setup(struct control *c)
{
	c->hooks = &hooks;
	c->sup->disk_done = rundisk_disk_done;
	c->sup->disk_arg = c;
	console_set_tap(jobs_log_tap, c);
	c->sup->events.tap = jobs_event_tap;
	c->sup->events.tap_arg = c;
}

static char *
reply_simple(const struct request *req, struct service *s, const char *msg,
    size_t *outlen)
{
	yajl_gen g = proto_reply_begin(req, 1);

	gen_str(g, "result");
	yajl_gen_map_open(g);
	if (s) {
		gen_kv_str(g, "service", s->conf->name);
		gen_kv_str(g, "state", svc_state_str(s->state));
	}
	if (msg && *msg)
		gen_kv_str(g, "message", msg);
	yajl_gen_map_close(g);
	return proto_reply_end(g, outlen);
}

/* the reply g holds, or the error that says why it could not be sent */
static char *
reply_or(yajl_gen g, const struct request *req, enum proto_errcode code,
    const char *why, size_t *outlen)
{
	char *out = proto_reply_end(g, outlen);

	return out != NULL ? out : proto_error_reply(req, code, why, outlen);
}

char *
verb_status(struct control *c, const struct request *req, struct service *one,
    size_t *outlen)
{
	yajl_gen g = proto_reply_begin(req, 1);
	int flags = 0;
	size_t i;

	gen_str(g, "result");
	yajl_gen_map_open(g);
	gen_str(g, "services");
	yajl_gen_array_open(g);
	/* one service's status has all; devices (top) cost a look at
	 * xenstore, sysfs and netlink per service, so only when asked */
	if (one != NULL && req->pcmd->verb == PV_STATUS)
		flags = SJ_DEVICES | SJ_FAILURE | SJ_PLACEMENT;
	else if (req->devices && req->pcmd->verb == PV_STATUS)
		flags = SJ_DEVICES;
	for (i = 0; i < c->sup->nsvcs; i++)
		if (one == NULL || one == c->sup->svcs[i])
			svc_status_json(c->sup->svcs[i], g, flags);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return proto_reply_end(g, outlen);
}

char *
verb_logs(struct control *c, const struct request *req, struct service *s,
    size_t *outlen)
{
	struct err e = ERR_INIT;
	char *text;
	yajl_gen g;

	if (req->slot[0])
		return verb_logs_slot(c, req, s, outlen);
	if (req->follow && req->previous)
		return proto_error_reply(req, PE_BAD_REQUEST, "'previous' and "
		    "'follow' exclude each other: the previous run is over",
		    outlen);
	if (req->follow) {
		char msg[128];
		struct job *j = jobs_new(c, req, s->conf->name, msg,
		    sizeof(msg));

		if (j == NULL)
			return proto_error_reply(req, PE_BUSY, msg, outlen);
		j->is_follow = 1;
		j->raw = req->raw;
	}
	/* the previous run: all of it (as far as a reply goes) unless asked */
	text = console_tail(c->sup->cfg->d.log_dir, s->conf->name,
	    req->lines ? (size_t)req->lines : req->previous ? 0 : 50, req->raw,
	    req->previous, &e);
	g = proto_reply_begin(req, 1);
	gen_str(g, "result");
	yajl_gen_map_open(g);
	gen_kv_str(g, "service", s->conf->name);
	if (req->previous)
		gen_kv_bool(g, "previous", 1);
	gen_kv_str(g, "text", text);
	yajl_gen_map_close(g);
	free(text);
	return reply_or(g, req, PE_TOO_LARGE, "log output too "
		    "large: ask for fewer lines", outlen);
}

/* the history, oldest first (the last `lines` only, when given); with
 * follow, each new one after it */
char *
verb_events(struct control *c, const struct request *req, struct service *s,
    size_t *outlen)
{
	const struct events *ev = &c->sup->events;
	size_t i, skip = 0, match = 0;
	yajl_gen g;

	if (req->follow) {
		char msg[128];
		struct job *j = jobs_new(c, req,
		    s ? s->conf->name : "", msg, sizeof(msg));

		if (j == NULL)
			return proto_error_reply(req, PE_BUSY, msg, outlen);
		j->is_events = 1;
	}
	for (i = 0; i < ev->n; i++)
		if (s == NULL || strcmp(events_at(ev, i)->svc, s->conf->name) == 0)
			match++;
	if (req->lines && (size_t)req->lines < match)
		skip = match - (size_t)req->lines;
	g = proto_reply_begin(req, 1);
	gen_str(g, "result");
	yajl_gen_map_open(g);
	gen_str(g, "events");
	yajl_gen_array_open(g);
	for (i = 0; i < ev->n; i++) {
		const struct event *e = events_at(ev, i);

		if (s != NULL && strcmp(e->svc, s->conf->name) != 0)
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		events_json(e, g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return reply_or(g, req, PE_TOO_LARGE, "too many events for "
		    "one reply: ask for fewer (-n)", outlen);
}

/* Prometheus' text exposition, as metrics_file has it */
char *
verb_metrics(struct control *c, const struct request *req, struct service *s,
    size_t *outlen)
{
	size_t len;
	char *text = metrics_render(c->sup, &len);
	yajl_gen g = proto_reply_begin(req, 1);

	(void)s;
	gen_str(g, "result");
	yajl_gen_map_open(g);
	gen_kv_str(g, "text", text);
	yajl_gen_map_close(g);
	free(text);
	return reply_or(g, req, PE_TOO_LARGE, "metrics too large "
		    "for one reply: use metrics_file", outlen);
}

/* Xen's cpupools, which of them are domud's, and why a configured one is
 * not there */
char *
verb_cpupools(struct control *c, const struct request *req, struct service *s,
    size_t *outlen)
{
	const struct config *cfg = c->sup->cfg;
	struct be_pool *pools = NULL;
	struct err e = ERR_INIT;
	yajl_gen g;
	char cpus[96];
	size_t n = 0, i, k;

	(void)s;
	if (c->sup->be->ops->pools == NULL ||
	    c->sup->be->ops->pools(c->sup->be, &pools, &n, &e) == -1)
		return proto_error_reply(req, PE_FAILED, e.msg[0] ? e.msg :
		    "no cpupools here", outlen);
	g = proto_reply_begin(req, 1);
	gen_str(g, "result");
	yajl_gen_map_open(g);
	gen_str(g, "pools");
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++) {
		yajl_gen_map_open(g);
		gen_kv_str(g, "name", pools[i].name);
		gen_kv_int(g, "id", pools[i].id);
		gen_kv_str(g, "sched", sched_str(pools[i].sched));
		cpuset_format(&pools[i].cpus, cpus, sizeof(cpus));
		gen_kv_str(g, "cpus", cpus);
		gen_kv_int(g, "domains", pools[i].ndoms);
		gen_kv_bool(g, "domud", config_find_pool(cfg, pools[i].name) !=
		    NULL);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	/* configured, and not there */
	gen_str(g, "missing");
	yajl_gen_array_open(g);
	for (k = 0; k < cfg->npools; k++) {
		for (i = 0; i < n; i++)
			if (strcmp(pools[i].name, cfg->pools[k]->name) == 0)
				break;
		if (i < n)
			continue;
		yajl_gen_map_open(g);
		gen_kv_str(g, "name", cfg->pools[k]->name);
		gen_kv_str(g, "error", c->sup->pool_error[k][0] ?
		    c->sup->pool_error[k] : "not made yet");
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	free(pools);
	return proto_reply_end(g, outlen);
}

static void
gen_diags(yajl_gen g, const struct config *cfg)
{
	size_t i;

	gen_str(g, "diagnostics");
	yajl_gen_array_open(g);
	for (i = 0; cfg && i < cfg->ndiags; i++)
		gen_str(g, cfg->diags[i].text);
	yajl_gen_array_close(g);
}

int
control_reload(struct control *c, struct config **checked)
{
	struct config *cfg;
	size_t i;

	*checked = NULL;
	cfg = config_load(c->conf_path);
	if (cfg->errors) {
		for (i = 0; i < cfg->ndiags; i++)
			log_warnx("reload: %s", cfg->diags[i].text);
		log_warnx("reload: %u errors; keeping the running configuration",
		    cfg->errors);
		*checked = cfg;
		return -1;
	}
	for (i = 0; i < cfg->ndiags; i++)
		log_warnx("reload: %s", cfg->diags[i].text);
	/* the supervisor takes cfg; keep a copy of the diagnostics */
	*checked = xcalloc(1, sizeof(**checked));
	(*checked)->diags = xcalloc(cfg->ndiags, sizeof(struct diag));
	for (i = 0; i < cfg->ndiags; i++) {
		(*checked)->diags[i].text = xstrdup(cfg->diags[i].text);
		(*checked)->diags[i].is_error = cfg->diags[i].is_error;
	}
	(*checked)->ndiags = cfg->ndiags;
	(*checked)->warnings = cfg->warnings;
	if (c->sup->net)
		net_configure(c->sup->net, cfg);
	sup_reload(c->sup, cfg);
	log_info("configuration reloaded (%u warnings)", (*checked)->warnings);
	return 0;
}

static void
gen_forwards(yajl_gen g, const struct service_conf *s)
{
	char b[48];
	size_t i;

	gen_str(g, "forwards");
	yajl_gen_array_open(g);
	for (i = 0; i < s->nfwd; i++) {
		const struct forward_conf *f = &s->fwd[i];
		const char *p = f->proto == IPPROTO_TCP ? "tcp" : "udp";

		if (f->host_lo == f->host_hi)
			snprintf(b, sizeof(b), "%s:%u:%u", p, f->host_lo,
			    f->guest_lo);
		else
			snprintf(b, sizeof(b), "%s:%u-%u:%u-%u", p, f->host_lo,
			    f->host_hi, f->guest_lo, f->guest_hi);
		gen_str(g, b);
	}
	yajl_gen_array_close(g);
}

/* networks, the services on them, the rules and the leases */
static void
gen_net_status(struct supervisor *sup, yajl_gen g)
{
	struct config *cfg = sup->cfg;
	struct net_info ni;
	char a[16], b[64];
	size_t i;

	net_info(sup->net, &ni);
	gen_str(g, "networks");
	yajl_gen_array_open(g);
	for (i = 0; i < cfg->nnets; i++) {
		struct net_conf *c = cfg->nets[i];

		yajl_gen_map_open(g);
		gen_kv_str(g, "name", c->name);
		gen_kv_str(g, "bridge", c->bridge);
		ip4_format(a, sizeof(a), c->subnet);
		snprintf(b, sizeof(b), "%s/%u", a, c->prefix);
		gen_kv_str(g, "subnet", b);
		ip4_format(a, sizeof(a), c->gateway);
		gen_kv_str(g, "gateway", a);
		gen_kv_bool(g, "nat", c->nat);
		gen_kv_str(g, "uplink", c->uplink ? c->uplink : "auto");
		gen_kv_str(g, "uplink_now", ni.present ? ni.uplink_now[i] : "");
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	gen_str(g, "services");
	yajl_gen_array_open(g);
	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];
		const struct lease *l = net_lease(sup->net, s->conf->name);

		if (!s->conf->has_net)
			continue;
		yajl_gen_map_open(g);
		gen_kv_str(g, "service", s->conf->name);
		gen_kv_str(g, "network", s->conf->network ? s->conf->network :
		    "");
		gen_kv_str(g, "bridge", service_bridge(cfg, s->conf) ?
		    service_bridge(cfg, s->conf) : "");
		if (s->conf->addr) {
			ip4_format(a, sizeof(a), s->conf->addr);
			gen_kv_str(g, "ip", a);
			gen_kv_bool(g, "ip_fixed", s->conf->ip_line != 0);
		}
		mac_format(b, sizeof(b), s->conf->mac);
		gen_kv_str(g, "mac", b);
		if (l)
			gen_kv_int(g, "mac_tiebreak", l->tiebreak);
		gen_kv_bool(g, "up", s->net_active);
		gen_forwards(g, s->conf);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	if (ni.present) {
		gen_kv_int(g, "rules", (long long)ni.nrules);
		gen_kv_str(g, "br_netfilter", ni.br_netfilter == 1 ? "on" :
		    ni.br_netfilter == 0 ? "missing" : "unknown");
		gen_kv_str(g, "last_error", ni.last_error);
		gen_str(g, "leases");
		yajl_gen_array_open(g);
		for (i = 0; i < ni.nleases; i++)
			lease_json(g, &ni.leases[i]);
		yajl_gen_array_close(g);
	}
}

/* networks, leases, forwards; with check, the drift from the kernel */
char *
verb_net(struct control *c, const struct request *req, struct service *none,
    size_t *outlen)
{
	int fix = req->pcmd->verb == PV_NET_FIX;
	enum auth_role role = auth_role(c->cur_peer, &c->auth);
	uint64_t now = mono_ms();

	if (role > c->cur_role)
		role = c->cur_role;
	struct drift d = { 0 };
	struct err e = ERR_INIT;
	yajl_gen g;
	size_t i;
	char *out;

	if ((req->check || fix) && c->sup->net == NULL)
		return proto_error_reply(req, PE_FAILED, "no networking",
		    outlen);
	if (req->check && !fix && role != ROLE_ADMIN) {
		/* a reader's check: once in a while, and never waiting for
		 * the xtables lock on the loop */
		if (c->last_check && now - c->last_check < CONTROL_CHECK_MS)
			return proto_error_reply(req, PE_BUSY, "a check ran "
			    "less than 5s ago: try again", outlen);
		c->last_check = now;
	}
	if ((req->check || fix) && net_check(c->sup->net, fix,
	    role == ROLE_ADMIN, &d, &e) == -1) {
		drift_free(&d);
		return proto_error_reply(req, PE_FAILED, e.msg, outlen);
	}
	g = proto_reply_begin(req, 1);
	gen_str(g, "result");
	yajl_gen_map_open(g);
	gen_net_status(c->sup, g);
	if (req->check || fix) {
		gen_str(g, "drift");
		yajl_gen_array_open(g);
		for (i = 0; i < d.n; i++)
			gen_str(g, d.lines[i]);
		yajl_gen_array_close(g);
		gen_kv_bool(g, "fixed", fix && d.n > 0);
	}
	yajl_gen_map_close(g);
	out = proto_reply_end(g, outlen);
	drift_free(&d);
	return out;
}

char *
verb_reload(struct control *c, const struct request *req, struct service *none,
    size_t *outlen)
{
	struct config *checked = NULL;
	char msg[128];
	yajl_gen g;
	int rc;

	rc = control_reload(c, &checked);
	g = proto_reply_begin(req, rc == 0);
	if (rc == 0) {
		gen_str(g, "result");
		yajl_gen_map_open(g);
		gen_kv_bool(g, "applied", 1);
		gen_diags(g, checked);
		yajl_gen_map_close(g);
	} else {
		snprintf(msg, sizeof(msg), "%u errors: the running configuration "
		    "is kept", checked->errors);
		gen_str(g, "error");
		yajl_gen_map_open(g);
		gen_kv_str(g, "code", proto_errcode_str(PE_FAILED));
		gen_kv_str(g, "message", msg);
		gen_diags(g, checked);
		yajl_gen_map_close(g);
	}
	config_free(checked);
	return reply_or(g, req, PE_FAILED, "reload: too many "
		    "diagnostics to send; see the log", outlen);
}

/* ping without a service: is the daemon there, and as whom am I seen */
char *
verb_ping(struct control *c, const struct request *req, struct service *s,
    size_t *outlen)
{
	enum auth_role role = auth_role(c->cur_peer, &c->auth);
	yajl_gen g;

	if (s != NULL)
		return jobs_agent_ping(c, req, s, outlen);
	g = proto_reply_begin(req, 1);
	gen_str(g, "result");
	yajl_gen_map_open(g);
	gen_kv_str(g, "version", DOMUD_VERSION);
	gen_kv_int(g, "pid", getpid());
	gen_kv_str(g, "role", auth_role_str(role > c->cur_role ? c->cur_role :
	    role));
	gen_str(g, "loop");
	yajl_gen_map_open(g);
	gen_kv_int(g, "iterations", (long long)c->loop.iterations);
	gen_kv_int(g, "last_busy_ms", (long long)c->loop.last_busy_ms);
	gen_kv_int(g, "max_busy_ms", (long long)(c->loop.max_busy_ms >
	    c->loop.max_prev_ms ? c->loop.max_busy_ms : c->loop.max_prev_ms));
	gen_kv_int(g, "window_s", CONTROL_LOOP_WINDOW_MS / 1000);
	yajl_gen_map_close(g);
	/* where the guests' bytes are parsed (chan/gio.h) */
	{
		uint64_t restarts;
		pid_t pid = gio_pid(c->sup->gio, &restarts);

		gen_str(g, "guest_io");
		yajl_gen_map_open(g);
		gen_kv_str(g, "mode", sup_guest_io_inline ? "inline" :
		    "process");
		if (pid > 0)
			gen_kv_int(g, "pid", pid);
		gen_kv_int(g, "restarts", (long long)restarts);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	return proto_reply_end(g, outlen);
}

/* start, stop, restart: the supervisor's answer, or why it refused */
static char *
verb_lifecycle(int (*fn)(struct supervisor *, struct service *, struct err *),
    struct control *c, const struct request *req, struct service *s,
    size_t *outlen)
{
	struct err e = ERR_INIT;

	if (fn(c->sup, s, &e) == -1)
		return proto_error_reply(req, PE_FAILED, e.msg, outlen);
	return reply_simple(req, s, e.msg, outlen);
}

char *
verb_start(struct control *c, const struct request *req, struct service *s,
    size_t *outlen)
{
	return verb_lifecycle(sup_start, c, req, s, outlen);
}

char *
verb_stop(struct control *c, const struct request *req, struct service *s,
    size_t *outlen)
{
	return verb_lifecycle(sup_stop, c, req, s, outlen);
}

char *
verb_restart(struct control *c, const struct request *req, struct service *s,
    size_t *outlen)
{
	return verb_lifecycle(sup_restart, c, req, s, outlen);
}
