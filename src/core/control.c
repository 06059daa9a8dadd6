// SPDX-License-Identifier: GPL-2.0-or-later
/* Control socket server and request dispatch. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "control.h"
#include "chan/channel.h"
#include "base/log.h"
#include "net/net.h"
#include "base/sanitize.h"
#include "base/util.h"

_Static_assert(SERVICE_NAME_MAX == PROTO_NAME_MAX, "a service name travels in requests");

/* ---- dispatch ---------------------------------------------------------------- */

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

static char *
reply_status(struct control *c, const struct request *req, struct service *one,
    size_t *outlen)
{
	yajl_gen g = proto_reply_begin(req, 1);
	size_t i;

	gen_str(g, "result");
	yajl_gen_map_open(g);
	gen_str(g, "services");
	yajl_gen_array_open(g);
	for (i = 0; i < c->sup->nsvcs; i++)
		if (one == NULL || one == c->sup->svcs[i])
			svc_status_json(c->sup->svcs[i], g);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return proto_reply_end(g, outlen);
}

static struct control_job *job_new(struct control *, const struct request *,
    const char *, char *, size_t);

static char *
reply_logs(struct control *c, const struct request *req, struct service *s,
    size_t *outlen)
{
	struct err e = ERR_INIT;
	char *text, *out;
	yajl_gen g;

	if (req->follow) {
		char msg[128];
		struct control_job *j = job_new(c, req, s->conf->name, msg,
		    sizeof(msg));

		if (j == NULL)
			return proto_error_reply(req, PE_BUSY, msg, outlen);
		j->is_follow = 1;
		j->raw = req->raw;
	}
	text = console_tail(c->sup->cfg->d.log_dir, s->conf->name,
	    req->lines ? (size_t)req->lines : 50, req->raw, &e);
	g = proto_reply_begin(req, 1);
	gen_str(g, "result");
	yajl_gen_map_open(g);
	gen_kv_str(g, "service", s->conf->name);
	gen_kv_str(g, "text", text);
	yajl_gen_map_close(g);
	free(text);
	out = proto_reply_end(g, outlen);
	if (out == NULL)
		out = proto_error_reply(req, PE_TOO_LARGE, "log output too "
		    "large: ask for fewer lines", outlen);
	return out;
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

static void
gen_lease(yajl_gen g, const struct lease *l)
{
	char b[32];

	yajl_gen_map_open(g);
	gen_kv_str(g, "service", l->svc);
	gen_kv_str(g, "network", l->net);
	if (l->ip) {
		ip4_format(b, sizeof(b), l->ip);
		gen_kv_str(g, "ip", b);
		gen_kv_bool(g, "ip_fixed", l->ip_fixed);
	}
	mac_format(b, sizeof(b), l->mac);
	gen_kv_str(g, "mac", b);
	gen_kv_bool(g, "mac_fixed", l->mac_fixed);
	gen_kv_int(g, "tiebreak", l->tiebreak);
	yajl_gen_map_close(g);
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
			gen_lease(g, &ni.leases[i]);
		yajl_gen_array_close(g);
	}
}

/* networks, leases, forwards; with check, the drift from the kernel */
static char *
reply_net(struct control *c, const struct request *req, int fix,
    size_t *outlen)
{
	struct drift d = { 0 };
	struct err e = ERR_INIT;
	yajl_gen g;
	size_t i;
	char *out;

	if ((req->check || fix) && c->sup->net == NULL)
		return proto_error_reply(req, PE_FAILED, "no networking",
		    outlen);
	if ((req->check || fix) && net_check(c->sup->net, fix, &d, &e) == -1) {
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

static char *
reply_reload(struct control *c, const struct request *req, size_t *outlen)
{
	struct config *checked = NULL;
	char msg[128];
	yajl_gen g;
	char *out;
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
	out = proto_reply_end(g, outlen);
	if (out == NULL)
		out = proto_error_reply(req, PE_FAILED, "reload: too many "
		    "diagnostics to send; see the log", outlen);
	return out;
}

/* ---- deferred answers: exec output and agent pings ------------------------- */

static void conn_queue(struct control_conn *, char *, size_t);

static void
job_end(struct control_job *j)
{
	int k;

	free(j->pending);
	for (k = 0; k < CONTROL_JOBS; k++)
		if (j->cc->jobs[k] == j)
			j->cc->jobs[k] = NULL;
	free(j);
}

static int
conn_busy(const struct control_conn *cc)
{
	int k;

	for (k = 0; k < CONTROL_JOBS; k++)
		if (cc->jobs[k] != NULL)
			return 1;
	return 0;
}

/* a ping or a start in wait: something with a deadline */
static int
conn_waits(const struct control_conn *cc)
{
	int k;

	for (k = 0; k < CONTROL_JOBS; k++)
		if (cc->jobs[k] && (cc->jobs[k]->is_ping || cc->jobs[k]->pending))
			return 1;
	return 0;
}

static struct control_job *
job_new(struct control *c, const struct request *req, const char *svc,
    char *msg, size_t msgsz)
{
	struct control_conn *cc = c->cur;
	struct control_job *j;
	int k;

	if (cc == NULL) {
		snprintf(msg, msgsz, "needs a connection");
		return NULL;
	}
	for (k = 0; k < CONTROL_JOBS; k++)
		if (cc->jobs[k] == NULL)
			break;
	if (k == CONTROL_JOBS) {
		snprintf(msg, msgsz, "%d requests in flight on this connection "
		    "already", CONTROL_JOBS);
		return NULL;
	}
	j = xcalloc(1, sizeof(*j));
	j->c = c;
	j->cc = cc;
	strlcpy_(j->svc, svc, sizeof(j->svc));
	j->req_id = req->id;
	j->has_id = req->has_id;
	cc->jobs[k] = j;
	return j;
}

static yajl_gen
job_gen(const struct control_job *j)
{
	struct request r;

	memset(&r, 0, sizeof(r));
	r.id = j->req_id;
	r.has_id = j->has_id;
	return proto_reply_begin(&r, 1);
}

static void
exec_out(void *ctx, int fd, const uint8_t *b, size_t n)
{
	struct control_job *j = ctx;
	struct control_conn *cc = j->cc;
	char *b64, *line;
	yajl_gen g;
	size_t len;

	/* a client that does not read costs a bounded amount, then its
	 * command is cancelled */
	if (cc->outlen - cc->outoff > CONTROL_JOB_OUT_MAX) {
		struct service *s = sup_find(j->c->sup, j->svc);

		if (s && s->con && s->con->chan)
			chan_cancel(s->con->chan, j->chan_id);
		return;
	}
	b64 = xcalloc(1, 4 * ((n + 2) / 3) + 1);
	base64_encode(b, n, b64);
	g = job_gen(j);
	/* proto_reply_begin opened the map with "ok": an event has none,
	 * but a reader keys on "event" first */
	gen_kv_str(g, "event", "output");
	gen_kv_int(g, "fd", fd);
	gen_kv_str(g, "data", b64);
	line = proto_reply_end(g, &len);
	conn_queue(cc, line, len);
	free(b64);
}

/* ---- run: a command from a hot-plugged, read-only disk ---------------------------- */

enum { RUN_NONE, RUN_ATTACH, RUN_EXEC, RUN_DETACH };

/* mount the disk, run the command from it, unmount; its exit status */
static const char run_script[] =
    "v=$1; shift; m=/run/domud-run/$v; mkdir -p $m; i=0; "
    "while [ ! -b /dev/$v ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); "
    "done; mount -o ro /dev/$v $m || { echo \"domud run: cannot mount "
    "/dev/$v\" >&2; exit 125; }; cd $m; PATH=$m:$m/bin:$PATH; \"$@\"; "
    "rc=$?; cd /; umount $m; rmdir $m; exit $rc";

static uint64_t run_tokens;

static void run_reply(struct control_job *, const char *detach_error);

static void
run_detach(struct control_job *j, const struct chan_result *r)
{
	struct supervisor *sup = j->c->sup;
	struct err e = ERR_INIT;

	j->result = *r;
	j->run_phase = RUN_DETACH;
	if (sup->be->ops->disk_detach(sup->be, j->svc, j->domid, j->vdev,
	    j->token, &e) == -1)
		run_reply(j, e.msg);
}

static void
run_reply(struct control_job *j, const char *detach_error)
{
	struct request req;
	char *line;
	yajl_gen g;
	size_t len;

	memset(&req, 0, sizeof(req));
	req.id = j->req_id;
	req.has_id = j->has_id;
	if (!j->result.ran) {
		char msg[600];

		snprintf(msg, sizeof(msg), "%s%s%s", j->result.error[0] ?
		    j->result.error : "the command did not run",
		    detach_error ? "; and the disk stayed: " : "",
		    detach_error ? detach_error : "");
		line = proto_error_reply(&req, PE_FAILED, msg, &len);
	} else {
		g = proto_reply_begin(&req, 1);
		gen_str(g, "result");
		yajl_gen_map_open(g);
		gen_kv_str(g, "service", j->svc);
		gen_kv_int(g, "exit", j->result.code);
		gen_kv_int(g, "signal", j->result.signal);
		gen_kv_bool(g, "timed_out", j->result.timed_out);
		gen_kv_bool(g, "cancelled", j->result.cancelled);
		gen_kv_str(g, "vdev", j->vdev);
		gen_kv_bool(g, "detached", detach_error == NULL);
		if (detach_error)
			gen_kv_str(g, "detach_error", detach_error);
		yajl_gen_map_close(g);
		line = proto_reply_end(g, &len);
	}
	log_info("%s: run on %s ended (exit %d)%s%s", j->svc, j->vdev,
	    j->result.code, detach_error ? "; detach failed: " : ", disk "
	    "detached", detach_error ? detach_error : "");
	conn_queue(j->cc, line, len);
	job_end(j);
}

static void exec_out(void *, int, const uint8_t *, size_t);
static void exec_done(void *, const struct chan_result *);
static int exec_start(struct control_job *, struct service *,
    const struct request *, char *, size_t);

/* a disk attach or detach of a run finished */
static void
control_disk_done(void *arg, const struct be_event *ev)
{
	struct control *c = arg;
	struct control_job *j = NULL;
	int i, k;

	for (i = 0; i < CONTROL_MAX_CONNS && j == NULL; i++)
		for (k = 0; c->conns[i] && k < CONTROL_JOBS; k++)
			if (c->conns[i]->jobs[k] &&
			    c->conns[i]->jobs[k]->token == ev->token &&
			    ev->token != 0) {
				j = c->conns[i]->jobs[k];
				break;
			}
	if (j == NULL) {
		if (!ev->ok)
			log_warnx("%s: %s", ev->svc, ev->err.msg);
		return;		/* a leftover's detach, or its client left */
	}
	if (j->run_phase == RUN_DETACH) {
		run_reply(j, ev->ok ? NULL : ev->err.msg);
		return;
	}
	if (j->run_phase == RUN_ATTACH) {
		struct service *s = sup_find(c->sup, j->svc);
		struct request *req = j->pending;
		char msg[256];
		size_t o;

		j->pending = NULL;
		if (!ev->ok || s == NULL || s->con == NULL || s->con->chan ==
		    NULL || s->domid != j->domid) {
			struct chan_result r;

			memset(&r, 0, sizeof(r));
			msgf(r.error, sizeof(r.error), "%s", ev->ok ?
			    "the service went away" : ev->err.msg);
			j->run_phase = ev->ok ? RUN_EXEC : RUN_NONE;
			free(req);
			if (ev->ok)
				run_detach(j, &r);
			else {
				strlcpy_(j->result.error, r.error,
				    sizeof(j->result.error));
				run_reply(j, NULL);
			}
			return;
		}
		/* argv: sh -c SCRIPT domud-run VDEV CMD... */
		{
			struct request x;

			memset(&x, 0, sizeof(x));
			x.timeout_ms = req->timeout_ms;
			x.argc = 0;
			for (o = 0; o < 4; o++) {
				const char *a = o == 0 ? "/bin/sh" : o == 1 ?
				    "-c" : o == 2 ? run_script : "domud-run";
				size_t n = strlen(a) + 1;

				memcpy(x.args + x.args_len, a, n);
				x.args_len += n;
				x.argc++;
			}
			memcpy(x.args + x.args_len, j->vdev, strlen(j->vdev) + 1);
			x.args_len += strlen(j->vdev) + 1;
			x.argc++;
			if (x.args_len + req->args_len > sizeof(x.args)) {
				struct chan_result r;

				memset(&r, 0, sizeof(r));
				snprintf(r.error, sizeof(r.error), "command line "
				    "too long");
				free(req);
				j->run_phase = RUN_EXEC;
				run_detach(j, &r);
				return;
			}
			memcpy(x.args + x.args_len, req->args, req->args_len);
			x.args_len += req->args_len;
			x.argc += req->argc;
			free(req);
			j->run_phase = RUN_EXEC;
			if (exec_start(j, s, &x, msg, sizeof(msg)) == -1) {
				struct chan_result r;

				memset(&r, 0, sizeof(r));
				snprintf(r.error, sizeof(r.error), "%s", msg);
				run_detach(j, &r);
			}
		}
	}
}

static int
vdev_taken(struct control *c, struct service *s, const char *vdev)
{
	size_t d;
	int i, k;

	for (d = 0; d < s->conf->ndisks; d++)
		if (s->conf->disks[d].vdev && !strcmp(s->conf->disks[d].vdev, vdev))
			return 1;
	for (i = 0; i < CONTROL_MAX_CONNS; i++)
		for (k = 0; c->conns[i] && k < CONTROL_JOBS; k++)
			if (c->conns[i]->jobs[k] && c->conns[i]->jobs[k]->run_phase &&
			    !strcmp(c->conns[i]->jobs[k]->svc, s->conf->name) &&
			    !strcmp(c->conns[i]->jobs[k]->vdev, vdev))
				return 1;
	return 0;
}

/* run: hot-plug the image read-only, run the command from it, unplug */
static char *
reply_run(struct control *c, const struct request *req, struct service *s,
    size_t *outlen)
{
	struct supervisor *sup = c->sup;
	struct control_job *j;
	struct err e = ERR_INIT;
	char msg[256], vdev[16];
	struct stat st;
	char letter;

	if (!s->conf->memres)
		return proto_error_reply(req, PE_FAILED, "not a memres service",
		    outlen);
	if (s->state != ST_RUNNING || !s->ready || s->con == NULL)
		return proto_error_reply(req, PE_FAILED, "not ready", outlen);
	if (sup->be->ops->disk_attach == NULL)
		return proto_error_reply(req, PE_FAILED, "this backend has no "
		    "disks", outlen);
	if (req->disk[0] == '\0' || req->argc == 0)
		return proto_error_reply(req, PE_BAD_REQUEST, "run needs a disk "
		    "and argv", outlen);
	errno = 0;
	if (stat(req->disk, &st) == -1 || !S_ISREG(st.st_mode)) {
		msgf(msg, sizeof(msg), "%s: %s", req->disk, errno ? strerror(
		    errno) : "not a regular file");
		return proto_error_reply(req, PE_FAILED, msg, outlen);
	}
	/* run disks take xvdq .. xvdz, which service files leave alone */
	for (letter = 'q'; letter <= 'z'; letter++) {
		snprintf(vdev, sizeof(vdev), "xvd%c", letter);
		if (!vdev_taken(c, s, vdev))
			break;
	}
	if (letter > 'z')
		return proto_error_reply(req, PE_BUSY, "no free vdev (xvdq-xvdz)",
		    outlen);
	if ((j = job_new(c, req, s->conf->name, msg, sizeof(msg))) == NULL)
		return proto_error_reply(req, PE_BUSY, msg, outlen);
	j->pending = xcalloc(1, sizeof(*j->pending));
	*j->pending = *req;
	j->pending_until = UINT64_MAX;	/* not an idle start: no deadline */
	j->run_phase = RUN_ATTACH;
	j->token = ++run_tokens;
	j->domid = s->domid;
	strlcpy_(j->vdev, vdev, sizeof(j->vdev));
	if (sup->be->ops->disk_attach(sup->be, s->conf->name, s->domid,
	    req->disk, vdev, j->token, &e) == -1) {
		job_end(j);
		return proto_error_reply(req, PE_FAILED, e.msg, outlen);
	}
	log_info("%s: run: %s attached as %s", s->conf->name, req->disk, vdev);
	*outlen = 0;
	return NULL;
}

static void
exec_done(void *ctx, const struct chan_result *r)
{
	struct control_job *j = ctx;
	struct service *s = sup_find(j->c->sup, j->svc);
	struct request req;
	char *line;
	yajl_gen g;
	size_t len;

	if (s)
		svc_used(s);
	if (j->run_phase == RUN_EXEC) {
		run_detach(j, r);	/* the reply comes once the disk is gone */
		return;
	}
	memset(&req, 0, sizeof(req));
	req.id = j->req_id;
	req.has_id = j->has_id;
	if (!r->ran) {
		line = proto_error_reply(&req, PE_FAILED, r->error[0] ? r->error :
		    "the command did not run", &len);
	} else {
		g = proto_reply_begin(&req, 1);
		gen_str(g, "result");
		yajl_gen_map_open(g);
		gen_kv_str(g, "service", j->svc);
		gen_kv_int(g, "exit", r->code);
		gen_kv_int(g, "signal", r->signal);
		gen_kv_bool(g, "timed_out", r->timed_out);
		gen_kv_bool(g, "cancelled", r->cancelled);
		yajl_gen_map_close(g);
		line = proto_reply_end(g, &len);
	}
	conn_queue(j->cc, line, len);
	job_end(j);
}

/* hand a command to the agent; -1 with msg when it cannot be */
static int
exec_start(struct control_job *j, struct service *s, const struct request *req,
    char *msg, size_t msgsz)
{
	struct chan_exec_cb cb = { exec_out, exec_done, j };
	char *argv[257];
	size_t o;
	int n = 0;

	for (o = 0; o < req->args_len && n < 256; o += strlen(req->args + o) + 1)
		argv[n++] = (char *)req->args + o;
	argv[n] = NULL;
	if (chan_exec(s->con->chan, argv, (req->shell ? 1 : 0) |
	    (req->want_stdin ? CHAN_EXEC_STDIN : 0), (uint32_t)req->timeout_ms,
	    &cb, &j->chan_id, msg, msgsz, mono_ms()) == -1)
		return -1;
	j->stdin_open = req->want_stdin;
	svc_used(s);
	log_info("%s: exec %s%s (request %u)", s->conf->name, argv[0],
	    n > 1 ? " ..." : "", j->chan_id);
	return 0;
}

static char *
reply_exec(struct control *c, const struct request *req, struct service *s,
    size_t *outlen)
{
	struct control_job *j;
	char msg[256];

	if (!s->conf->memres)
		return proto_error_reply(req, PE_FAILED, "not a memres service "
		    "(memres = yes)", outlen);
	if (req->argc == 0)
		return proto_error_reply(req, PE_BAD_REQUEST, "exec needs argv",
		    outlen);
	/* stopped for being idle: this command brings it back */
	if (s->idle_stopped && s->state != ST_FAILED) {
		if ((j = job_new(c, req, s->conf->name, msg, sizeof(msg))) == NULL)
			return proto_error_reply(req, PE_BUSY, msg, outlen);
		j->pending = xcalloc(1, sizeof(*j->pending));
		*j->pending = *req;
		j->pending_until = mono_ms() + CONTROL_WAKE_MS;
		if (s->state == ST_STOPPED)
			(void)sup_start(c->sup, s, msg, sizeof(msg));
		log_info("%s: exec waits for the idle DomU to start",
		    s->conf->name);
		*outlen = 0;
		return NULL;	/* started by control_pending */
	}
	if (s->state != ST_RUNNING || s->con == NULL || s->con->chan == NULL)
		return proto_error_reply(req, PE_FAILED, "not running", outlen);
	if (!s->ready)
		return proto_error_reply(req, PE_FAILED, "its agent has not "
		    "answered yet", outlen);
	if ((j = job_new(c, req, s->conf->name, msg, sizeof(msg))) == NULL)
		return proto_error_reply(req, PE_BUSY, msg, outlen);
	if (exec_start(j, s, req, msg, sizeof(msg)) == -1) {
		job_end(j);
		return proto_error_reply(req, PE_BUSY, msg, outlen);
	}
	*outlen = 0;
	return NULL;	/* answered by exec_out and exec_done */
}

/* execs waiting for an idle DomU to be started and ready */
static void
control_pending(struct control *c, struct control_conn *cc, uint64_t now)
{
	int k;

	for (k = 0; k < CONTROL_JOBS; k++) {
		struct control_job *j = cc->jobs[k];
		struct service *s;
		char msg[256] = "";
		char *line;
		size_t len;

		/* a run keeps its request there while its disk attaches */
		if (j == NULL || j->pending == NULL || j->run_phase != RUN_NONE)
			continue;
		s = sup_find(c->sup, j->svc);
		if (s && s->state == ST_STOPPED && s->idle_stopped)
			(void)sup_start(c->sup, s, msg, sizeof(msg));
		if (s && s->state == ST_RUNNING && s->ready && s->con &&
		    s->con->chan) {
			struct request *req = j->pending;

			j->pending = NULL;
			if (exec_start(j, s, req, msg, sizeof(msg)) == 0) {
				free(req);
				continue;
			}
			line = proto_error_reply(req, PE_BUSY, msg, &len);
			free(req);
		} else if (s == NULL || s->state == ST_FAILED ||
		    now >= j->pending_until)
			line = proto_error_reply(j->pending, PE_FAILED, s == NULL ?
			    "the service is gone" : s->state == ST_FAILED ?
			    "it failed to start" : "not ready in time", &len);
		else
			continue;
		conn_queue(cc, line, len);
		job_end(j);
	}
}

/* the connection's command that takes stdin, with its channel */
static struct control_job *
stdin_job(struct control *c, struct control_conn *cc, struct channel **chp)
{
	int k;

	for (k = 0; cc && k < CONTROL_JOBS; k++) {
		struct control_job *j = cc->jobs[k];
		struct service *s;

		if (j == NULL || !j->stdin_open || j->pending)
			continue;
		s = sup_find(c->sup, j->svc);
		if (s == NULL || s->con == NULL || s->con->chan == NULL)
			return NULL;
		*chp = s->con->chan;
		return j;
	}
	return NULL;
}

/* stdin for this connection's command: no reply when it went through */
static char *
reply_stdin(struct control *c, const struct request *req, size_t *outlen)
{
	struct channel *ch = NULL;
	struct control_job *j = stdin_job(c, c->cur, &ch);

	if (j == NULL)
		return proto_error_reply(req, PE_FAILED, "no command of this "
		    "connection takes stdin", outlen);
	if (req->data_len > 0 &&
	    chan_stdin(ch, j->chan_id, req->data, req->data_len) == -1)
		return proto_error_reply(req, PE_BUSY, "stdin: no room", outlen);
	if (req->eof) {
		(void)chan_stdin(ch, j->chan_id, NULL, 0);
		j->stdin_open = 0;
	}
	*outlen = 0;
	return NULL;
}

/* may the next line (a stdin request) go now? 0: wait for room */
static int
stdin_may_pass(struct control *c, struct control_conn *cc, const char *line,
    size_t len)
{
	struct channel *ch = NULL;
	struct control_job *j;

	/* cheap test first: only stdin requests ever wait */
	if (memmem(line, len, "\"stdin\"", 7) == NULL ||
	    memmem(line, len, "\"cmd\"", 5) == NULL)
		return 1;
	if ((j = stdin_job(c, cc, &ch)) == NULL)
		return 1;	/* dispatch says what is wrong */
	return chan_stdin_room(ch, j->chan_id) >= PROTO_STDIN_MAX;
}

static char *
reply_cancel(struct control *c, const struct request *req, size_t *outlen)
{
	struct control_conn *cc = c->cur;
	int k, n = 0;
	yajl_gen g;

	for (k = 0; cc && k < CONTROL_JOBS; k++) {
		struct control_job *j = cc->jobs[k];
		struct service *s;

		if (j == NULL || j->is_ping)
			continue;
		if ((s = sup_find(c->sup, j->svc)) && s->con && s->con->chan) {
			chan_cancel(s->con->chan, j->chan_id);
			n++;
		}
	}
	g = proto_reply_begin(req, 1);
	gen_str(g, "result");
	yajl_gen_map_open(g);
	gen_kv_int(g, "cancelled", n);
	yajl_gen_map_close(g);
	return proto_reply_end(g, outlen);
}

static char *
reply_agent_ping(struct control *c, const struct request *req,
    struct service *s, size_t *outlen)
{
	struct control_job *j;
	char msg[128];
	uint64_t now = mono_ms();

	if (!s->conf->memres)
		return proto_error_reply(req, PE_FAILED, "not a memres service",
		    outlen);
	if (s->state != ST_RUNNING || s->con == NULL || s->con->chan == NULL)
		return proto_error_reply(req, PE_FAILED, "not running", outlen);
	if ((j = job_new(c, req, s->conf->name, msg, sizeof(msg))) == NULL)
		return proto_error_reply(req, PE_BUSY, msg, outlen);
	j->is_ping = 1;
	j->sent = now;
	if (chan_ping(s->con->chan, now) == -1) {
		job_end(j);
		return proto_error_reply(req, PE_BUSY, "the console is not "
		    "taking input", outlen);
	}
	*outlen = 0;
	return NULL;	/* answered by control_pings */
}

/* logs -f: what a guest writes, to each connection that follows it */
static void
control_log_tap(void *arg, const char *svc, const char *buf, size_t n)
{
	struct control *c = arg;
	int i, k;

	for (i = 0; i < CONTROL_MAX_CONNS; i++) {
		struct control_conn *cc = c->conns[i];

		for (k = 0; cc && k < CONTROL_JOBS; k++) {
			struct control_job *j = cc->jobs[k];
			char *text, *line;
			size_t len;
			yajl_gen g;

			if (j == NULL || !(j->is_follow || j->is_console) ||
			    strcmp(j->svc, svc) != 0)
				continue;
			/* a follower that does not read loses output, not us
			 * memory */
			if (cc->outlen - cc->outoff > CONTROL_JOB_OUT_MAX)
				continue;
			text = xcalloc(1, 4 * n + 1);
			g = job_gen(j);
			if (j->is_console) {
				/* the bytes as they are: domuctl neutralises
				 * them for a terminal unless --raw */
				base64_encode((const uint8_t *)buf, n, text);
				gen_kv_str(g, "event", "output");
				gen_kv_int(g, "fd", 1);
				gen_kv_str(g, "data", text);
			} else {
				sanitize_text(buf, n, text, j->raw);
				gen_kv_str(g, "event", "log");
				gen_kv_str(g, "text", text);
			}
			line = proto_reply_end(g, &len);
			conn_queue(cc, line, len);
			free(text);
		}
	}
}

/* console: attach; output comes as events until the client leaves */
static char *
reply_console(struct control *c, const struct request *req, struct service *s,
    size_t *outlen)
{
	struct control_job *j;
	char msg[128];
	yajl_gen g;

	if ((j = job_new(c, req, s->conf->name, msg, sizeof(msg))) == NULL)
		return proto_error_reply(req, PE_BUSY, msg, outlen);
	j->is_console = 1;
	log_info("%s: console attached by uid %u", s->conf->name,
	    (unsigned)c->cur->peer.uid);
	g = proto_reply_begin(req, 1);
	gen_str(g, "result");
	yajl_gen_map_open(g);
	gen_kv_str(g, "service", s->conf->name);
	gen_kv_str(g, "state", svc_display_state(s));
	gen_kv_bool(g, "memres", s->conf->memres);
	yajl_gen_map_close(g);
	return proto_reply_end(g, outlen);
}

/* input: to the console this connection is attached to */
static char *
reply_input(struct control *c, const struct request *req, size_t *outlen)
{
	struct control_conn *cc = c->cur;
	struct service *s = NULL;
	int k;

	for (k = 0; cc && k < CONTROL_JOBS; k++)
		if (cc->jobs[k] && cc->jobs[k]->is_console)
			s = sup_find(c->sup, cc->jobs[k]->svc);
	if (s == NULL)
		return proto_error_reply(req, PE_FAILED, "not attached to a "
		    "console", outlen);
	if (s->con == NULL || s->con->hup)
		return proto_error_reply(req, PE_FAILED, "the console is not "
		    "there (not running)", outlen);
	if (req->data_len && console_input(s->con, req->data,
	    req->data_len) == -1)
		return proto_error_reply(req, PE_BUSY, "the console is not "
		    "taking input", outlen);
	*outlen = 0;
	return NULL;	/* typed input needs no answer */
}

/* pongs that answer a ping of ours, and pings that went unanswered */
static void
control_pings(struct control *c, struct control_conn *cc, uint64_t now)
{
	int k;

	for (k = 0; k < CONTROL_JOBS; k++) {
		struct control_job *j = cc->jobs[k];
		struct service *s;
		struct request req;
		char *line;
		size_t len;
		yajl_gen g;

		if (j == NULL || !j->is_ping)
			continue;
		s = sup_find(c->sup, j->svc);
		memset(&req, 0, sizeof(req));
		req.id = j->req_id;
		req.has_id = j->has_id;
		if (s && s->con && s->con->chan &&
		    s->con->chan->last_pong >= j->sent) {
			g = proto_reply_begin(&req, 1);
			gen_str(g, "result");
			yajl_gen_map_open(g);
			gen_kv_str(g, "service", j->svc);
			gen_kv_int(g, "rtt_ms", (long long)(s->con->chan->last_pong -
			    j->sent));
			gen_kv_str(g, "agent", s->con->chan->agent);
			yajl_gen_map_close(g);
			line = proto_reply_end(g, &len);
		} else if (s == NULL || s->con == NULL ||
		    now - j->sent >= CONTROL_PING_MS)
			line = proto_error_reply(&req, PE_FAILED, "no answer from "
			    "the agent", &len);
		else
			continue;
		conn_queue(cc, line, len);
		job_end(j);
	}
}

char *
control_dispatch(struct control *c, const struct peer *peer,
    enum auth_role sock_role, const char *line, size_t len, size_t *outlen)
{
	struct request req;
	struct service *s = NULL;
	enum proto_errcode rc;
	char msg[512] = "";
	int r;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	rc = proto_decode_request(line, len, &req, msg, sizeof(msg));
	if (rc != PE_OK)
		return proto_error_reply(&req, rc, msg, outlen);
	rc = auth_check(peer, &c->auth, sock_role, req.pcmd, msg, sizeof(msg));
	if (rc != PE_OK) {
		log_info("control: denied %s to uid %u: %s", req.cmd,
		    (unsigned)peer->uid, msg);
		return proto_error_reply(&req, rc, msg, outlen);
	}
	if (req.has_service && (s = sup_find(c->sup, req.service)) == NULL) {
		snprintf(msg, sizeof(msg), "no service '%s'", req.service);
		return proto_error_reply(&req, PE_UNKNOWN_SERVICE, msg, outlen);
	}
	if (req.pcmd->class == PC_ADMIN)
		log_info("control: %s%s%s by uid %u", req.cmd, s ? " " : "",
		    s ? s->conf->name : "", (unsigned)peer->uid);

	if (strcmp(req.cmd, "exec") == 0)
		return reply_exec(c, &req, s, outlen);
	if (strcmp(req.cmd, "cancel") == 0)
		return reply_cancel(c, &req, outlen);
	if (strcmp(req.cmd, "stdin") == 0)
		return reply_stdin(c, &req, outlen);
	if (strcmp(req.cmd, "console") == 0)
		return reply_console(c, &req, s, outlen);
	if (strcmp(req.cmd, "run") == 0)
		return reply_run(c, &req, s, outlen);
	if (strcmp(req.cmd, "input") == 0)
		return reply_input(c, &req, outlen);
	if (strcmp(req.cmd, "ping") == 0 && s != NULL)
		return reply_agent_ping(c, &req, s, outlen);
	if (strcmp(req.cmd, "ping") == 0) {
		yajl_gen g = proto_reply_begin(&req, 1);

		gen_str(g, "result");
		yajl_gen_map_open(g);
		gen_kv_str(g, "version", DOMUD_VERSION);
		gen_kv_int(g, "pid", getpid());
		gen_kv_str(g, "role", auth_role_str(
		    auth_role(peer, &c->auth) > sock_role ? sock_role :
		    auth_role(peer, &c->auth)));
		yajl_gen_map_close(g);
		return proto_reply_end(g, outlen);
	}
	if (strcmp(req.cmd, "list") == 0 || strcmp(req.cmd, "status") == 0)
		return reply_status(c, &req, s, outlen);
	if (strcmp(req.cmd, "logs") == 0)
		return reply_logs(c, &req, s, outlen);
	if (strcmp(req.cmd, "reload") == 0)
		return reply_reload(c, &req, outlen);
	if (strcmp(req.cmd, "net") == 0 || strcmp(req.cmd, "net-fix") == 0)
		return reply_net(c, &req, req.cmd[3] == '-', outlen);
	if (strcmp(req.cmd, "start") == 0)
		r = sup_start(c->sup, s, msg, sizeof(msg));
	else if (strcmp(req.cmd, "stop") == 0)
		r = sup_stop(c->sup, s, msg, sizeof(msg));
	else if (strcmp(req.cmd, "restart") == 0)
		r = sup_restart(c->sup, s, msg, sizeof(msg));
	else
		return proto_error_reply(&req, PE_UNKNOWN_COMMAND, "not "
		    "implemented", outlen);
	if (r == -1)
		return proto_error_reply(&req, PE_FAILED, msg, outlen);
	return reply_simple(&req, s, msg, outlen);
}

/* ---- sockets --------------------------------------------------------------- */

static gid_t
group_gid(const char *name)
{
	struct group *gr = getgrnam(name);

	return gr ? gr->gr_gid : (gid_t)-1;
}

static int
listen_one(const char *path, gid_t gid, struct err *e)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy_(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return err_set(e, ENAMETOOLONG, "%s: path too long", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return err_set(e, errno, "socket: %s", strerror(errno));
	/* the lock file guarantees nobody else serves this socket */
	(void)unlink(path);
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		err_set(e, errno, "bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	/* without the group only root can connect: 0600 */
	if (gid != (gid_t)-1 && (chown(path, 0, gid) == -1 ||
	    chmod(path, 0660) == -1))
		log_warn("%s: group access", path);
	if (listen(fd, 16) == -1) {
		err_set(e, errno, "listen %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
control_listen(struct control *c, const char *run_dir, const char *read_group,
    const char *admin_group, struct err *e)
{
	c->sup->disk_done = control_disk_done;
	c->sup->disk_arg = c;
	console_set_tap(control_log_tap, c);
	c->fd_admin = c->fd_ro = -1;
	c->auth.read_gid = group_gid(read_group);
	c->auth.admin_gid = group_gid(admin_group);
	if (c->auth.read_gid == (gid_t)-1)
		log_warnx("group %s does not exist: read-only access is root's "
		    "only", read_group);
	if (c->auth.admin_gid == (gid_t)-1)
		log_warnx("group %s does not exist: admin access is root's only",
		    admin_group);
	if (asprintf(&c->path_admin, "%s/%s", run_dir, PROTO_SOCK) < 0 ||
	    asprintf(&c->path_ro, "%s/%s", run_dir, PROTO_SOCK_RO) < 0)
		fatal("asprintf");
	if ((c->fd_admin = listen_one(c->path_admin, c->auth.admin_gid, e)) == -1 ||
	    (c->fd_ro = listen_one(c->path_ro, c->auth.read_gid, e)) == -1) {
		control_close(c);
		return -1;
	}
	return 0;
}

static void job_end(struct control_job *);

static void
conn_free(struct control *c, int i)
{
	struct control_conn *cc = c->conns[i];
	int j;

	/* its commands are cancelled in the guest: nobody reads them now */
	for (j = 0; j < CONTROL_JOBS; j++)
		if (cc->jobs[j] != NULL) {
			struct service *s = sup_find(c->sup, cc->jobs[j]->svc);

			if (!cc->jobs[j]->is_ping && s && s->con && s->con->chan)
				chan_detach(s->con->chan, cc->jobs[j]->chan_id);
			job_end(cc->jobs[j]);
		}
	close(cc->fd);
	free(cc->out);
	free(cc);
	c->conns[i] = NULL;
}

void
control_close(struct control *c)
{
	console_set_tap(NULL, NULL);
	int i;

	for (i = 0; i < CONTROL_MAX_CONNS; i++)
		if (c->conns[i])
			conn_free(c, i);
	if (c->fd_admin != -1) {
		close(c->fd_admin);
		unlink(c->path_admin);
	}
	if (c->fd_ro != -1) {
		close(c->fd_ro);
		unlink(c->path_ro);
	}
	c->fd_admin = c->fd_ro = -1;
	free(c->path_admin);
	free(c->path_ro);
	c->path_admin = c->path_ro = NULL;
}

static void
conn_accept(struct control *c, int lfd, enum auth_role role)
{
	struct control_conn *cc;
	int fd, i;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	for (i = 0; i < CONTROL_MAX_CONNS; i++)
		if (c->conns[i] == NULL)
			break;
	if (i == CONTROL_MAX_CONNS) {
		log_warnx("control: too many clients");
		close(fd);
		return;
	}
	cc = xcalloc(1, sizeof(*cc));
	cc->fd = fd;
	cc->sock_role = role;
	cc->last_ms = mono_ms();
	if (auth_peer_from_fd(fd, &cc->peer) == -1) {
		log_warn("control: peer credentials");
		close(fd);
		free(cc);
		return;
	}
	c->conns[i] = cc;
}

static void
conn_queue(struct control_conn *cc, char *reply, size_t len)
{
	char *n;

	if (reply == NULL)
		return;
	n = realloc(cc->out, cc->outlen - cc->outoff + len);
	if (n == NULL)
		fatal("realloc");
	memmove(n, n + cc->outoff, cc->outlen - cc->outoff);
	cc->outlen -= cc->outoff;
	cc->outoff = 0;
	memcpy(n + cc->outlen, reply, len);
	cc->outlen += len;
	cc->out = n;
	free(reply);
}

/* the complete lines read so far */
static void
conn_lines(struct control *c, struct control_conn *cc)
{
	char *nl, *reply;
	size_t len, used;

	cc->stdin_wait = 0;
	/* one reply per line; a pipelining client gets them in order */
	while ((nl = memchr(cc->in, '\n', cc->inlen)) != NULL) {
		used = (size_t)(nl - cc->in) + 1;
		if (!cc->discard && !stdin_may_pass(c, cc, cc->in, used)) {
			/* the guest's command reads slower than the client
			 * sends: stop reading this client until it catches up */
			cc->stdin_wait = 1;
			return;
		}
		if (cc->discard)
			cc->discard = 0;
		else {
			c->cur = cc;
			reply = control_dispatch(c, &cc->peer, cc->sock_role,
			    cc->in, used, &len);
			c->cur = NULL;
			conn_queue(cc, reply, len);
		}
		memmove(cc->in, cc->in + used, cc->inlen - used);
		cc->inlen -= used;
	}
}

static void
conn_input(struct control *c, struct control_conn *cc)
{
	char *reply;
	size_t len;
	ssize_t n;

	n = read(cc->fd, cc->in + cc->inlen, PROTO_REQ_MAX - cc->inlen);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		cc->close_after = 1;
		cc->inlen = 0;
		return;
	}
	if (n < 0)
		return;
	cc->inlen += (size_t)n;
	conn_lines(c, cc);
	if (cc->stdin_wait)
		return;
	if (cc->inlen == PROTO_REQ_MAX) {
		struct request none;

		memset(&none, 0, sizeof(none));
		reply = proto_error_reply(&none, PE_TOO_LARGE, "request line "
		    "over 4096 bytes", &len);
		conn_queue(cc, reply, len);
		cc->inlen = 0;
		cc->discard = 1;
	}
}

void
control_before_poll(struct control *c, struct pollfd *fds, int *nfds, int max,
    int *timeout_ms)
{
	uint64_t now = mono_ms();
	int i;

	if (*nfds + 2 <= max) {
		fds[*nfds].fd = c->fd_admin;
		fds[*nfds].events = POLLIN;
		fds[*nfds + 1].fd = c->fd_ro;
		fds[*nfds + 1].events = POLLIN;
		*nfds += 2;
	}
	for (i = 0; i < CONTROL_MAX_CONNS && *nfds < max; i++) {
		struct control_conn *cc = c->conns[i];

		if (cc == NULL)
			continue;
		if ((now - cc->last_ms > CONTROL_IDLE_MS && !conn_busy(cc)) ||
		    (cc->close_after && cc->outoff == cc->outlen)) {
			conn_free(c, i);
			continue;
		}
		control_pings(c, cc, now);
		control_pending(c, cc, now);
		/* room comes with the agent's acks, read in the last round */
		if (cc->stdin_wait)
			conn_lines(c, cc);
		if (conn_waits(cc) && (*timeout_ms < 0 || *timeout_ms > 1000))
			*timeout_ms = 1000;	/* ping and start deadlines */
		fds[*nfds].fd = cc->fd;
		fds[*nfds].events = 0;
		/* a client that does not read its replies gets no new ones,
		 * nor one whose stdin waits for the guest */
		if (!cc->close_after && !cc->stdin_wait &&
		    cc->outlen - cc->outoff < PROTO_REPLY_MAX)
			fds[*nfds].events |= POLLIN;

		if (cc->outoff < cc->outlen)
			fds[*nfds].events |= POLLOUT;
		(*nfds)++;
		if (*timeout_ms < 0 || *timeout_ms > CONTROL_IDLE_MS)
			*timeout_ms = CONTROL_IDLE_MS;
	}
}

void
control_after_poll(struct control *c, struct pollfd *fds, int nfds)
{
	int i, k;

	for (k = 0; k < nfds; k++) {
		if (!fds[k].revents)
			continue;
		if (fds[k].fd == c->fd_admin)
			conn_accept(c, c->fd_admin, ROLE_ADMIN);
		else if (fds[k].fd == c->fd_ro)
			conn_accept(c, c->fd_ro, ROLE_READ);
	}
	for (i = 0; i < CONTROL_MAX_CONNS; i++) {
		struct control_conn *cc = c->conns[i];
		short re = 0;

		if (cc == NULL)
			continue;
		for (k = 0; k < nfds; k++)
			if (fds[k].fd == cc->fd)
				re = fds[k].revents;
		if (!re)
			continue;
		cc->last_ms = mono_ms();
		if (re & POLLIN)
			conn_input(c, cc);
		if ((re & POLLOUT) && cc->outoff < cc->outlen) {
			ssize_t n = write(cc->fd, cc->out + cc->outoff,
			    cc->outlen - cc->outoff);

			if (n > 0)
				cc->outoff += (size_t)n;
			else if (n == -1 && errno != EAGAIN && errno != EINTR)
				cc->close_after = 1, cc->outoff = cc->outlen;
		}
		if ((re & (POLLHUP | POLLERR)) && !(re & POLLIN))
			cc->close_after = 1, cc->outoff = cc->outlen;
	}
}
