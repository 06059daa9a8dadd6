// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Control requests answered later: a job belongs to one connection and
 * lives until its answer is queued. exec (memres commands through the
 * agent, with output events and stdin), a ping of a service's agent,
 * console attach and typed input, logs -f, cancel, and an exec that waits
 * for an idle memres DomU to start. The run-disk job is in rundisk.c, a
 * job with an owner (struct job_owner) that jobs.c calls back.
 * May call: control.c (its API: control_queue, the connections), the
 * supervisor (service.h), the channel, console, events; never rundisk.c
 * or verbs.c, which are above it, nor the sockets, which control.c owns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sanitize.h"
#include "base/util.h"
#include "chan/gio.h"
#include "console.h"
#include "control.h"
#include "jobs.h"

/* a connection's jobs (control_conn.up) */
struct jobs_conn {
	struct job		*job[JOBS_PER_CONN];
};

/* the jobs kept after their client left (control.up) */
struct jobs_kept {
	struct job		*job[JOBS_KEPT];
};

/* the connection's job in slot k, or NULL */
static struct job *
conn_job(const struct control_conn *cc, int k)
{
	const struct jobs_conn *jc = cc ? cc->up : NULL;

	return jc ? jc->job[k] : NULL;
}

struct job *
jobs_next(struct control *c, int *pos)
{
	const struct jobs_kept *kept = c->up;
	int nconn = CONTROL_MAX_CONNS * JOBS_PER_CONN;
	struct job *j;

	for (; *pos < nconn + JOBS_KEPT; (*pos)++) {
		if (*pos < nconn)
			j = conn_job(c->conns[*pos / JOBS_PER_CONN],
			    *pos % JOBS_PER_CONN);
		else
			j = kept ? kept->job[*pos - nconn] : NULL;
		if (j != NULL) {
			(*pos)++;
			return j;
		}
	}
	return NULL;
}

/* the last console of a memres service left: the agent's console shell
 * hangs up, so that bytes typed by nobody reach no shell */
static void
console_left(struct job *j)
{
	struct control *c = j->c;
	struct service *s;
	struct job *o;
	int pos = 0;

	while ((o = jobs_next(c, &pos)) != NULL)
		if (o != j && o->is_console && strcmp(o->svc, j->svc) == 0)
			return;
	if ((s = sup_find(c->sup, j->svc)) != NULL && s->con && s->con->chan)
		(void)gio_console_detach(s->con->chan);
}

void
jobs_end(struct job *j)
{
	struct jobs_conn *jc = j->cc ? j->cc->up : NULL;
	struct jobs_kept *kept = j->c->up;
	int k;

	if (j->is_console)
		console_left(j);
	if (j->owner && j->owner->end)
		j->owner->end(j);
	free(j->pending);
	for (k = 0; jc && k < JOBS_PER_CONN; k++)
		if (jc->job[k] == j)
			jc->job[k] = NULL;
	for (k = 0; !j->cc && kept && k < JOBS_KEPT; k++)
		if (kept->job[k] == j)
			kept->job[k] = NULL;
	free(j);
}

int
jobs_keep(struct job *j)
{
	struct jobs_conn *jc = j->cc ? j->cc->up : NULL;
	struct jobs_kept *kept = j->c->up;
	int i, k;

	if (kept == NULL)
		kept = j->c->up = xcalloc(1, sizeof(*kept));
	for (i = 0; i < JOBS_KEPT; i++)
		if (kept->job[i] == NULL)
			break;
	if (i == JOBS_KEPT)
		return -1;
	for (k = 0; jc && k < JOBS_PER_CONN; k++)
		if (jc->job[k] == j)
			jc->job[k] = NULL;
	kept->job[i] = j;
	j->cc = NULL;
	return 0;
}

/* the connection goes: its commands are cancelled in the guest (nobody
 * reads them now), unless their owner keeps them (a run, to its detach) */
void
jobs_conn_gone(struct control *c, struct control_conn *cc)
{
	int k;

	for (k = 0; k < JOBS_PER_CONN; k++) {
		struct job *j = conn_job(cc, k);
		struct service *s;

		if (j == NULL)
			continue;
		if (j->owner && j->owner->leave && j->owner->leave(j))
			continue;
		s = sup_find(c->sup, j->svc);
		if (!j->is_ping && s && s->con && s->con->chan)
			gio_detach(s->con->chan, j->chan_id);
		jobs_end(j);
	}
	free(cc->up);
	cc->up = NULL;
}

/* the control closes, its connections gone: the jobs kept past them */
void
jobs_close(struct control *c)
{
	struct jobs_kept *kept = c->up;
	int k;

	console_set_tap(NULL, NULL);
	for (k = 0; kept && k < JOBS_KEPT; k++)
		if (kept->job[k])
			jobs_end(kept->job[k]);
	free(c->up);
	c->up = NULL;
}

int
jobs_busy(const struct control_conn *cc)
{
	int k;

	for (k = 0; k < JOBS_PER_CONN; k++)
		if (conn_job(cc, k) != NULL)
			return 1;
	return 0;
}

/* a ping or a start in wait: something with a deadline */
int
jobs_waiting(const struct control_conn *cc)
{
	struct job *j;
	int k;

	for (k = 0; k < JOBS_PER_CONN; k++)
		if ((j = conn_job(cc, k)) && (j->is_ping || j->pending))
			return 1;
	return 0;
}

struct job *
jobs_new(struct control *c, const struct request *req, const char *svc,
    char *msg, size_t msgsz)
{
	struct control_conn *cc = c->cur;
	struct jobs_conn *jc;
	struct job *j;
	int k;

	if (cc == NULL) {
		snprintf(msg, msgsz, "needs a connection");
		return NULL;
	}
	if ((jc = cc->up) == NULL)
		jc = cc->up = xcalloc(1, sizeof(*jc));
	for (k = 0; k < JOBS_PER_CONN; k++)
		if (jc->job[k] == NULL)
			break;
	if (k == JOBS_PER_CONN) {
		snprintf(msg, msgsz, "%d requests in flight on this connection "
		    "already", JOBS_PER_CONN);
		return NULL;
	}
	j = xcalloc(1, sizeof(*j));
	j->c = c;
	j->cc = cc;
	strlcpy_(j->svc, svc, sizeof(j->svc));
	j->req_id = req->id;
	j->has_id = req->has_id;
	jc->job[k] = j;
	return j;
}

/* a reply to the job's request, "ok" opened; the caller adds the rest */
static yajl_gen
jobs_reply(const struct job *j)
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
	struct job *j = ctx;
	struct control_conn *cc = j->cc;
	char *b64, *line;
	yajl_gen g;
	size_t len;

	if (cc == NULL)
		return;		/* kept, its client gone: nobody reads it */
	/* a client that does not read costs a bounded amount, then its
	 * command is cancelled */
	if (cc->outlen - cc->outoff > JOBS_OUT_MAX) {
		struct service *s = sup_find(j->c->sup, j->svc);

		if (s && s->con && s->con->chan)
			gio_cancel(s->con->chan, j->chan_id);
		return;
	}
	b64 = xcalloc(1, 4 * ((n + 2) / 3) + 1);
	base64_encode(b, n, b64);
	g = jobs_reply(j);
	/* proto_reply_begin opened the map with "ok": an event has none,
	 * but a reader keys on "event" first */
	gen_kv_str(g, "event", "output");
	gen_kv_int(g, "fd", fd);
	gen_kv_str(g, "data", b64);
	line = proto_reply_end(g, &len);
	control_queue(cc, line, len);
	free(b64);
}

/* how a command ended, in an exec's (or a run's) result */
void
jobs_gen_result(yajl_gen g, const char *svc, const struct chan_result *r)
{
	gen_kv_str(g, "service", svc);
	gen_kv_int(g, "exit", r->code);
	gen_kv_int(g, "signal", r->signal);
	gen_kv_bool(g, "timed_out", r->timed_out);
	gen_kv_bool(g, "cancelled", r->cancelled);
}

static void
exec_done(void *ctx, const struct chan_result *r)
{
	struct job *j = ctx;
	struct service *s = sup_find(j->c->sup, j->svc);
	struct request req;
	char *line;
	yajl_gen g;
	size_t len;

	if (s)
		svc_used(s);
	if (r->stdin_full_ms)
		log_info("%s: exec %u: its stdin waited %llu ms of %llu on the "
		    "guest's window", j->svc, j->chan_id,
		    (unsigned long long)r->stdin_full_ms,
		    (unsigned long long)((mono_us() - j->sent_us) / 1000));
	if (j->owner && j->owner->exec_done) {
		j->owner->exec_done(j, r);	/* its owner answers (a run,
						 * once its disk is gone) */
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
		jobs_gen_result(g, j->svc, r);
		/* where the round trip went: domud's view from the request to
		 * the exit, and the agent's part of it */
		gen_str(g, "timing");
		yajl_gen_map_open(g);
		gen_kv_int(g, "domud_us", (long long)(mono_us() - j->sent_us));
		/* stdin that waited on the guest's acks: the guest's pace */
		if (r->stdin_full_ms)
			gen_kv_int(g, "stdin_window_full_ms",
			    (long long)r->stdin_full_ms);
		if (r->has_guest_time) {
			gen_kv_int(g, "guest_spawn_us", r->spawn_us);
			gen_kv_int(g, "guest_run_us", r->run_us);
			gen_kv_int(g, "guest_tail_us", r->tail_us);
		}
		yajl_gen_map_close(g);
		yajl_gen_map_close(g);
		line = proto_reply_end(g, &len);
	}
	control_queue(j->cc, line, len);
	jobs_end(j);
}

/* hand a command to the agent; -1 with msg when it cannot be */
int
jobs_exec_start(struct job *j, struct service *s, const struct request *req,
    char *msg, size_t msgsz)
{
	struct chan_exec_cb cb = { exec_out, exec_done, j };
	char *argv[257];
	size_t o;
	int n = 0;

	for (o = 0; o < req->args_len && n < 256; o += strlen(req->args + o) + 1)
		argv[n++] = (char *)req->args + o;
	argv[n] = NULL;
	if (gio_exec(s->con->chan, argv, (req->shell ? 1 : 0) |
	    (req->want_stdin ? CHAN_EXEC_STDIN : 0), (uint32_t)req->timeout_ms,
	    &cb, &j->chan_id, msg, msgsz) == -1)
		return -1;
	j->stdin_open = req->want_stdin;
	j->sent_us = mono_us();
	svc_used(s);
	log_info("%s: exec %s%s (request %u)", s->conf->name, argv[0],
	    n > 1 ? " ..." : "", j->chan_id);
	return 0;
}

char *
jobs_exec(struct control *c, const struct request *req, struct service *s,
    size_t *outlen)
{
	struct job *j;
	char msg[256];

	if (!s->conf->memres)
		return proto_error_reply(req, PE_FAILED, "not a memres service "
		    "(memres = yes)", outlen);
	if (req->argc == 0)
		return proto_error_reply(req, PE_BAD_REQUEST, "exec needs argv",
		    outlen);
	/* stopped for being idle: this command brings it back */
	if (s->idle.state == IDLE_STOPPED && s->state != ST_FAILED) {
		struct err e = ERR_INIT;

		/* a start refused (memory) is the answer, at once */
		if (s->state == ST_STOPPED && sup_start(c->sup, s, &e) == -1)
			return proto_error_reply(req, PE_FAILED, e.msg, outlen);
		if ((j = jobs_new(c, req, s->conf->name, msg,
		    sizeof(msg))) == NULL)
			return proto_error_reply(req, PE_BUSY, msg, outlen);
		j->pending = xcalloc(1, sizeof(*j->pending));
		*j->pending = *req;
		j->pending_until = mono_ms() + JOBS_WAKE_MS;
		log_info("%s: exec waits for the idle DomU to start",
		    s->conf->name);
		*outlen = 0;
		return NULL;	/* started by jobs_pending */
	}
	if (s->state != ST_RUNNING || s->con == NULL || s->con->chan == NULL)
		return proto_error_reply(req, PE_FAILED, "not running", outlen);
	if (s->idle.state == IDLE_PAUSED)
		return proto_error_reply(req, PE_FAILED, "paused while idle, and "
		    "Xen would not resume it", outlen);
	if (!s->ready)
		return proto_error_reply(req, PE_FAILED, "its agent has not "
		    "answered yet", outlen);
	if ((j = jobs_new(c, req, s->conf->name, msg, sizeof(msg))) == NULL)
		return proto_error_reply(req, PE_BUSY, msg, outlen);
	if (jobs_exec_start(j, s, req, msg, sizeof(msg)) == -1) {
		jobs_end(j);
		return proto_error_reply(req, PE_BUSY, msg, outlen);
	}
	*outlen = 0;
	return NULL;	/* answered by exec_out and exec_done */
}

/* execs waiting for an idle DomU to be started and ready */
static void
jobs_pending(struct control *c, struct control_conn *cc, uint64_t now)
{
	int k;

	for (k = 0; k < JOBS_PER_CONN; k++) {
		struct job *j = conn_job(cc, k);
		struct err e = ERR_INIT;
		struct service *s;
		char msg[256] = "";
		char *line;
		size_t len;

		/* an owner's job keeps its own request there (a run, while
		 * its disk attaches) */
		if (j == NULL || j->pending == NULL || j->owner != NULL)
			continue;
		s = sup_find(c->sup, j->svc);
		/* it was still stopping, or a restart after a failure was
		 * refused: start it; if Xen refuses, that is the answer */
		if (s && s->state == ST_STOPPED &&
		    s->idle.state == IDLE_STOPPED &&
		    sup_start(c->sup, s, &e) == -1) {
			line = proto_error_reply(j->pending, PE_FAILED, e.msg, &len);
			control_queue(cc, line, len);
			jobs_end(j);
			continue;
		}
		if (s && s->state == ST_RUNNING && s->ready && s->con &&
		    s->con->chan) {
			struct request *req = j->pending;

			j->pending = NULL;
			if (jobs_exec_start(j, s, req, msg, sizeof(msg)) == 0) {
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
		control_queue(cc, line, len);
		jobs_end(j);
	}
}

/* the connection's command that takes stdin, with its channel */
static struct job *
stdin_job(struct control *c, struct control_conn *cc, struct gio_chan **chp)
{
	int k;

	for (k = 0; cc && k < JOBS_PER_CONN; k++) {
		struct job *j = conn_job(cc, k);
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
char *
jobs_stdin(struct control *c, const struct request *req, struct service *none,
    size_t *outlen)
{
	struct gio_chan *ch = NULL;
	struct job *j = stdin_job(c, c->cur, &ch);

	if (j == NULL)
		return proto_error_reply(req, PE_FAILED, "no command of this "
		    "connection takes stdin", outlen);
	if (req->data_len > 0 &&
	    gio_stdin(ch, j->chan_id, req->data, req->data_len) == -1)
		return proto_error_reply(req, PE_BUSY, "stdin: no room", outlen);
	if (req->eof) {
		(void)gio_stdin(ch, j->chan_id, NULL, 0);
		j->stdin_open = 0;
	}
	*outlen = 0;
	return NULL;
}

/* may the next line (a stdin request) go now? 0: wait for room */
int
jobs_stdin_may_pass(struct control *c, struct control_conn *cc, const char *line,
    size_t len)
{
	struct gio_chan *ch = NULL;
	struct job *j;

	/* cheap test first: only stdin requests ever wait */
	if (memmem(line, len, "\"stdin\"", 7) == NULL ||
	    memmem(line, len, "\"cmd\"", 5) == NULL)
		return 1;
	if ((j = stdin_job(c, cc, &ch)) == NULL)
		return 1;	/* dispatch says what is wrong */
	return gio_stdin_room(ch, j->chan_id) >= PROTO_STDIN_MAX;
}

char *
jobs_cancel(struct control *c, const struct request *req, struct service *none,
    size_t *outlen)
{
	struct control_conn *cc = c->cur;
	int k, n = 0;
	yajl_gen g;

	for (k = 0; cc && k < JOBS_PER_CONN; k++) {
		struct job *j = conn_job(cc, k);
		struct service *s;

		if (j == NULL || j->is_ping)
			continue;
		if ((s = sup_find(c->sup, j->svc)) && s->con && s->con->chan) {
			gio_cancel(s->con->chan, j->chan_id);
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

char *
jobs_agent_ping(struct control *c, const struct request *req,
    struct service *s, size_t *outlen)
{
	struct job *j;
	char msg[128];
	uint64_t now = mono_ms();

	if (!s->conf->memres)
		return proto_error_reply(req, PE_FAILED, "not a memres service",
		    outlen);
	/* the dispatcher resumed it for an admin; a reader's ping does not */
	if (s->idle.state == IDLE_PAUSED)
		return proto_error_reply(req, PE_FAILED, "paused while idle (an "
		    "admin's command resumes it)", outlen);
	if (s->state != ST_RUNNING || s->con == NULL || s->con->chan == NULL)
		return proto_error_reply(req, PE_FAILED, "not running", outlen);
	if ((j = jobs_new(c, req, s->conf->name, msg, sizeof(msg))) == NULL)
		return proto_error_reply(req, PE_BUSY, msg, outlen);
	j->is_ping = 1;
	j->sent = now;
	/* a ping already on its way answers this one too: readers add no
	 * traffic to the guest's console while one is outstanding */
	if (s->con->chan->ping_sent == 0 && gio_ping(s->con->chan, now) == -1) {
		jobs_end(j);
		return proto_error_reply(req, PE_BUSY, "the console is not "
		    "taking input", outlen);
	}
	*outlen = 0;
	return NULL;	/* answered by jobs_pings */
}

/* what every connection has left unread, in all */
static size_t
unread_total(const struct control *c)
{
	size_t n = 0;
	int i;

	for (i = 0; i < CONTROL_MAX_CONNS; i++)
		if (c->conns[i])
			n += c->conns[i]->outlen - c->conns[i]->outoff;
	return n;
}

/*
 * A follower whose client does not keep up is dropped, told why, rather
 * than held: its connection's budget (a reader's is smaller), or, when all
 * of them together leave too much unread, its fair share. 1 when dropped.
 */
static int
follower_dropped(struct job *j, size_t total)
{
	struct control_conn *cc = j->cc;
	size_t unread = cc->outlen - cc->outoff, budget;
	struct request r;
	char msg[160], *line;
	size_t len;

	/* and one reply besides: the one that began it (the log's tail,
	 * the events so far), or another of the connection's */
	budget = (cc->role == ROLE_ADMIN ? JOBS_FOLLOW_ADMIN :
	    JOBS_FOLLOW_READER) + PROTO_REPLY_MAX;
	if (unread <= budget && (total <= JOBS_FOLLOW_TOTAL ||
	    unread <= JOBS_FOLLOW_FAIR))
		return 0;
	msgf(msg, sizeof(msg), "lagging, dropped: %zu bytes unread (%s)",
	    unread, unread > budget ? "this connection's budget" :
	    "the followers' budget, all connections");
	memset(&r, 0, sizeof(r));
	r.id = j->req_id;
	r.has_id = j->has_id;
	line = proto_error_reply(&r, PE_BUSY, msg, &len);
	control_queue(cc, line, len);
	log_info("%s: a follower of uid %u: %s", j->svc[0] ? j->svc : "events",
	    (unsigned)cc->peer.uid, msg);
	jobs_end(j);
	return 1;
}

/* the next follower at *pos or after that is kept up (the others are
 * dropped on the way); NULL at the end */
static struct job *
follower_next(struct control *c, int *pos, size_t total)
{
	struct job *j;

	while ((j = jobs_next(c, pos)) != NULL)
		if (j->cc != NULL && (j->is_follow || j->is_console ||
		    j->is_events) && !follower_dropped(j, total))
			return j;
	return NULL;
}

/* logs -f: what a guest writes, to each connection that follows it */
void
jobs_log_tap(void *arg, const char *svc, const char *buf, size_t n)
{
	struct control *c = arg;
	size_t total = unread_total(c);
	struct job *j;
	int pos = 0;

	while ((j = follower_next(c, &pos, total)) != NULL) {
		char *text, *line;
		size_t len;
		yajl_gen g;

		if (!(j->is_follow || j->is_console) || strcmp(j->svc, svc) != 0)
			continue;
		text = xcalloc(1, 4 * n + 1);
		g = jobs_reply(j);
		if (j->is_console) {
			/* the bytes as they are: domuctl neutralises them for
			 * a terminal unless --raw */
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
		control_queue(j->cc, line, len);
		free(text);
	}
}

void
jobs_event_tap(void *arg, const struct event *ev)
{
	struct control *c = arg;
	size_t total = unread_total(c);
	struct job *j;
	int pos = 0;

	while ((j = follower_next(c, &pos, total)) != NULL) {
		char *line;
		size_t len;
		yajl_gen g;

		if (!j->is_events || (j->svc[0] && strcmp(j->svc, ev->svc) != 0))
			continue;
		g = jobs_reply(j);
		gen_kv_str(g, "event", "event");
		gen_str(g, "data");
		events_json(ev, g);
		line = proto_reply_end(g, &len);
		control_queue(j->cc, line, len);
	}
}

/* console: attach; output comes as events until the client leaves */
char *
jobs_console(struct control *c, const struct request *req, struct service *s,
    size_t *outlen)
{
	struct job *j;
	char msg[128];
	yajl_gen g;

	if ((j = jobs_new(c, req, s->conf->name, msg, sizeof(msg))) == NULL)
		return proto_error_reply(req, PE_BUSY, msg, outlen);
	j->is_console = 1;
	/* the agent feeds its console shell only once told a person is here */
	if (s->con && s->con->chan)
		(void)gio_console_attach(s->con->chan);
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
char *
jobs_input(struct control *c, const struct request *req, struct service *none,
    size_t *outlen)
{
	struct control_conn *cc = c->cur;
	struct service *s = NULL;
	struct job *j;
	int k;

	for (k = 0; cc && k < JOBS_PER_CONN; k++)
		if ((j = conn_job(cc, k)) && j->is_console)
			s = sup_find(c->sup, j->svc);
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
jobs_pings(struct control *c, struct control_conn *cc, uint64_t now)
{
	int k;

	for (k = 0; k < JOBS_PER_CONN; k++) {
		struct job *j = conn_job(cc, k);
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
		    now - j->sent >= JOBS_PING_MS)
			line = proto_error_reply(&req, PE_FAILED, "no answer from "
			    "the agent", &len);
		else
			continue;
		control_queue(cc, line, len);
		jobs_end(j);
	}
}

/* each loop round: pongs and unanswered pings, execs waiting for a start */
void
jobs_tick(struct control *c, struct control_conn *cc, uint64_t now)
{
	jobs_pings(c, cc, now);
	jobs_pending(c, cc, now);
}
