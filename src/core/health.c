// SPDX-License-Identifier: GPL-2.0-or-later
/* Health probes: exec through the memres agent, tcp from Dom0 (health.h). */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "health.h"
#include "console.h"
#include "service.h"
#include "base/json.h"
#include "base/log.h"
#include "base/sanitize.h"
#include "base/util.h"
#include "chan/gio.h"

const char *
health_state_str(enum health_state st)
{
	switch (st) {
	case HS_NONE:		return "none";
	case HS_STARTING:	return "starting";
	case HS_HEALTHY:	return "healthy";
	case HS_UNHEALTHY:	return "unhealthy";
	case HS__N:		break;
	}
	return "?";
}

void
health_init(struct service *s, health_report_fn *report)
{
	memset(&s->health, 0, sizeof(s->health));
	s->health.fd = -1;
	s->health.report = report;
}

/* the probe under way, if any, is dropped without a verdict */
static void
probe_drop(struct service *s)
{
	struct svc_health *h = &s->health;

	if (h->fd != -1) {
		close(h->fd);
		h->fd = -1;
	}
	if (h->exec_id) {
		if (s->con && s->con->chan)
			gio_detach(s->con->chan, h->exec_id);
		h->exec_id = 0;
	}
	h->probe_at = 0;
	h->outlen = 0;
}

static void
health_event(struct service *s, const char *from, const char *to,
    const char *why)
{
	events_add(&s->sup->events, s->conf->name, from, to, why, "health",
	    mono_ms());
	if (strcmp(to, "unhealthy") == 0)
		log_warnx("event: %s %s -> %s (%s; by health)", s->conf->name,
		    from, to, why);
	else
		log_info("event: %s %s -> %s (%s; by health)", s->conf->name,
		    from, to, why);
}

/* ---- the table ----------------------------------------------------------- */

/* the explicit no-op of the table */
void
hs_ignore(struct service *s, const char *why)
{
}

/* the domain runs: probing starts (after its agent for exec) */
static void
hs_begin(struct service *s, const char *why)
{
	struct svc_health *h = &s->health;
	uint64_t checks = h->checks, failures = h->failures;

	probe_drop(s);
	health_init(s, h->report);
	h->checks = checks;
	h->failures = failures;
	if (s->conf->health == HEALTH_NONE)
		return;
	h->state = HS_STARTING;
	h->since = mono_ms();
	/* the first probe soon: a fast guest is healthy soon */
	h->next_at = h->since + (s->conf->health == HEALTH_EXEC ? 0 : 1000);
}

/* memres: the agent answered (exec probes wait for it) */
static void
hs_agent_ready(struct service *s, const char *why)
{
	struct svc_health *h = &s->health;

	if (s->conf->health == HEALTH_EXEC && !h->probe_at && !h->next_at)
		h->next_at = mono_ms();
}

/* the run is over: the probe under way is dropped, nothing new starts */
static void
hs_end(struct service *s, const char *why)
{
	probe_drop(s);
	s->health.next_at = 0;
	s->health.state = HS_NONE;
	s->health.ready_seen = 0;
}

static void
hs_pass(struct service *s, const char *why)
{
	struct svc_health *h = &s->health;

	health_event(s, h->state == HS_UNHEALTHY ? "unhealthy" : "running",
	    "healthy", why);
	h->state = HS_HEALTHY;
	if (!h->ready_seen) {
		h->ready_seen = 1;
		if (s->conf->ready == READY_HEALTH && h->report)
			h->report(s, HR_READY, why);
	}
}

/* health_retries failures in a row make it unhealthy */
static void
hs_fail(struct service *s, const char *why)
{
	struct svc_health *h = &s->health;
	char msg[HEALTH_OUT_MAX + 32];

	if (++h->fails < s->conf->health_retries)
		return;
	snprintf(msg, sizeof(msg), "health: %u failed: %s", h->fails, why);
	health_event(s, h->state == HS_HEALTHY ? "healthy" : "running",
	    "unhealthy", msg);
	h->state = HS_UNHEALTHY;
	if (s->conf->health_restart && h->report)
		h->report(s, HR_UNHEALTHY, msg);
}

/* a slow boot is not a failure yet; once it was healthy it counts */
static void
hs_fail_starting(struct service *s, const char *why)
{
	if (mono_ms() - s->health.since < s->conf->health_start_period_ms)
		return;
	hs_fail(s, why);
}

/* unhealthy already: the streak goes on */
static void
hs_fail_again(struct service *s, const char *why)
{
	s->health.fails++;
}

/*
 * Every pair is written. A verdict comes only from a probe, and none runs
 * while there is no probing (HS_NONE): the run's end drops it.
 */
hs_action *const hs_table[HS__N][HE__N] = {
	[HS_NONE] = {
		[HE_BEGIN] = hs_begin,
		[HE_AGENT_READY] = hs_ignore,
		[HE_END] = hs_end,
		[HE_PASS] = hs_ignore,
		[HE_FAIL] = hs_ignore,
	},
	[HS_STARTING] = {
		[HE_BEGIN] = hs_begin,
		[HE_AGENT_READY] = hs_agent_ready,
		[HE_END] = hs_end,
		[HE_PASS] = hs_pass,
		[HE_FAIL] = hs_fail_starting,
	},
	[HS_HEALTHY] = {
		[HE_BEGIN] = hs_begin,
		[HE_AGENT_READY] = hs_agent_ready,
		[HE_END] = hs_end,
		[HE_PASS] = hs_ignore,		/* it is */
		[HE_FAIL] = hs_fail,
	},
	[HS_UNHEALTHY] = {
		[HE_BEGIN] = hs_begin,
		[HE_AGENT_READY] = hs_agent_ready,
		[HE_END] = hs_end,
		[HE_PASS] = hs_pass,
		[HE_FAIL] = hs_fail_again,
	},
};

void
health_dispatch(struct service *s, enum health_event ev, const char *why)
{
	hs_table[s->health.state][ev](s, why);
}

void
health_begin(struct service *s)
{
	health_dispatch(s, HE_BEGIN, NULL);
}

void
health_agent_ready(struct service *s)
{
	health_dispatch(s, HE_AGENT_READY, NULL);
}

void
health_end(struct service *s)
{
	health_dispatch(s, HE_END, NULL);
}

/* a probe ended: ok, and what it said (raw bytes, neutralised here) */
static void
probe_result(struct service *s, int ok, const char *what, size_t n)
{
	struct svc_health *h = &s->health;
	const struct service_conf *c = s->conf;
	char clean[4 * HEALTH_OUT_MAX + 1], why[HEALTH_OUT_MAX + 32];
	uint64_t now = mono_ms();
	size_t i, k;

	if (n > HEALTH_OUT_MAX - 1)
		n = HEALTH_OUT_MAX - 1;
	k = sanitize_text(what, n, clean, 0);
	/* one line: what a guest printed stays on it */
	for (i = 0; i < k; i++)
		if (clean[i] == '\n' || clean[i] == '\t')
			clean[i] = ' ';
	while (k > 0 && clean[k - 1] == ' ')
		k--;
	clean[k] = '\0';
	strlcpy_(h->last, clean, sizeof(h->last));
	h->last_ok = ok;
	h->last_ms = h->probe_at && now > h->probe_at ? now - h->probe_at : 0;
	h->last_wall = (int64_t)time(NULL);
	h->checks++;
	h->probe_at = 0;
	h->outlen = 0;
	h->next_at = now + c->health_interval_ms;
	if (ok) {
		h->fails = 0;
		snprintf(why, sizeof(why), "health: passed%s%s",
		    h->last[0] ? ": " : "", h->last);
		health_dispatch(s, HE_PASS, why);
		return;
	}
	h->failures++;
	health_dispatch(s, HE_FAIL, h->last);
}

/* ---- exec: through the agent --------------------------------------------- */

static void
exec_out(void *ctx, int fd, const uint8_t *b, size_t n)
{
	struct service *s = ctx;
	struct svc_health *h = &s->health;
	size_t room = sizeof(h->out) - 1 - h->outlen;

	(void)fd;
	if (n > room)
		n = room;
	memcpy(h->out + h->outlen, b, n);
	h->outlen += n;
}

static void
exec_done(void *ctx, const struct chan_result *r)
{
	struct service *s = ctx;
	struct svc_health *h = &s->health;
	char msg[HEALTH_OUT_MAX + 64];
	int k;

	h->exec_id = 0;
	if (!r->ran)
		k = snprintf(msg, sizeof(msg), "did not run: %s", r->error);
	else if (r->timed_out) {
		char d[32];

		format_duration(d, sizeof(d), s->conf->health_timeout_ms);
		k = snprintf(msg, sizeof(msg), "timed out after %s", d);
	} else if (r->signal)
		k = snprintf(msg, sizeof(msg), "killed by signal %d%s%.*s",
		    r->signal, h->outlen ? ": " : "", (int)h->outlen, h->out);
	else if (r->code != 0)
		k = snprintf(msg, sizeof(msg), "exit %d%s%.*s", r->code,
		    h->outlen ? ": " : "", (int)h->outlen, h->out);
	else {
		probe_result(s, 1, h->out, h->outlen);
		return;
	}
	probe_result(s, 0, msg, k > 0 ? (size_t)k : 0);
}

static void
exec_start(struct service *s)
{
	struct svc_health *h = &s->health;
	struct chan_exec_cb cb = { exec_out, exec_done, s };
	char *argv[2], why[200];

	if (s->con == NULL || s->con->chan == NULL || !s->ready) {
		/* no verdict on a guest whose agent is not up (the keepalive
		 * judges the agent): again once it answers */
		h->probe_at = h->next_at = 0;
		return;
	}
	argv[0] = s->conf->health_cmd;
	argv[1] = NULL;
	h->outlen = 0;
	if (gio_exec(s->con->chan, argv, 1, (uint32_t)s->conf->health_timeout_ms,
	    &cb, &h->exec_id, why, sizeof(why)) == -1) {
		h->exec_id = 0;
		probe_result(s, 0, why, strlen(why));
	}
}

/* ---- tcp: a connect from Dom0 -------------------------------------------- */

static void
tcp_start(struct service *s)
{
	struct svc_health *h = &s->health;
	struct sockaddr_in sin;
	char msg[160];
	int k;

	if (s->conf->addr == 0) {
		probe_result(s, 0, "no address known for the guest", 30);
		return;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(s->conf->health_port);
	sin.sin_addr.s_addr = htonl(s->conf->addr);
	if ((h->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		k = snprintf(msg, sizeof(msg), "socket: %s", strerror(errno));
		probe_result(s, 0, msg, (size_t)k);
		return;
	}
	if (connect(h->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
		close(h->fd);
		h->fd = -1;
		probe_result(s, 1, "", 0);
	} else if (errno != EINPROGRESS) {
		int err = errno;

		close(h->fd);
		h->fd = -1;
		k = snprintf(msg, sizeof(msg), "connect to port %u: %s",
		    s->conf->health_port, strerror(err));
		probe_result(s, 0, msg, (size_t)k);
	}
}

static void
tcp_done(struct service *s)
{
	struct svc_health *h = &s->health;
	socklen_t len = sizeof(int);
	char msg[160];
	int err = 0, k;

	if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	close(h->fd);
	h->fd = -1;
	if (err == 0) {
		probe_result(s, 1, "", 0);
		return;
	}
	k = snprintf(msg, sizeof(msg), "connect to port %u: %s",
	    s->conf->health_port, strerror(err));
	probe_result(s, 0, msg, (size_t)k);
}

/* ---- the loop ------------------------------------------------------------ */

/* when the probe under way is given up: the agent's own timeout first */
static uint64_t
probe_deadline(const struct service *s)
{
	return s->health.probe_at + s->conf->health_timeout_ms +
	    (s->health.exec_id ? HEALTH_GRACE_MS : 0);
}

static void
min_timeout(int *timeout_ms, uint64_t at, uint64_t now)
{
	uint64_t left = at > now ? at - now : 0;

	if (left > 60000)
		left = 60000;
	if (*timeout_ms < 0 || left < (uint64_t)*timeout_ms)
		*timeout_ms = (int)left;
}

void
health_before_poll(struct service *s, struct pollfd *fds, int *nfds, int max,
    int *timeout_ms)
{
	struct svc_health *h = &s->health;
	uint64_t now = mono_ms();

	if (h->state == HS_NONE)
		return;
	if (h->probe_at)
		min_timeout(timeout_ms, probe_deadline(s), now);
	else if (h->next_at)
		min_timeout(timeout_ms, h->next_at, now);
	if (h->fd != -1 && *nfds < max) {
		fds[*nfds].fd = h->fd;
		fds[*nfds].events = POLLOUT;
		fds[*nfds].revents = 0;
		(*nfds)++;
	}
}

void
health_after_poll(struct service *s, const struct pollfd *fds, int nfds)
{
	struct svc_health *h = &s->health;
	uint64_t now = mono_ms();
	int k;

	if (h->state == HS_NONE)
		return;
	if (s->state != ST_RUNNING) {
		probe_drop(s);	/* going down: no verdict */
		return;
	}
	if (h->fd != -1)
		for (k = 0; k < nfds; k++)
			if (fds[k].fd == h->fd && fds[k].revents) {
				tcp_done(s);
				break;
			}
	if (h->probe_at && now >= probe_deadline(s)) {
		char d[32], msg[96];
		int n;

		uint64_t began = h->probe_at;

		probe_drop(s);
		h->probe_at = began;
		format_duration(d, sizeof(d), s->conf->health_timeout_ms);
		n = snprintf(msg, sizeof(msg), "no answer within %s: cancelled",
		    d);
		probe_result(s, 0, msg, (size_t)n);
	}
	/* a paused guest cannot answer: no probe, no verdict on it */
	if (h->probe_at || !h->next_at || now < h->next_at || s->paused ||
	    s->idle.state == IDLE_PAUSED)
		return;
	h->probe_at = now;
	if (s->conf->health == HEALTH_EXEC)
		exec_start(s);
	else
		tcp_start(s);
}

void
health_json(const struct service *s, yajl_gen g)
{
	const struct svc_health *h = &s->health;

	if (s->conf->health == HEALTH_NONE)
		return;
	/* a string of its own: "state" is the service's */
	gen_kv_str(g, "health", health_state_str(h->state));
	gen_str(g, "health_probe");
	yajl_gen_map_open(g);
	gen_kv_str(g, "kind", s->conf->health == HEALTH_EXEC ? "exec" : "tcp");
	gen_kv_int(g, "failing_streak", h->fails);
	gen_kv_int(g, "checks", (long long)h->checks);
	gen_kv_int(g, "failures", (long long)h->failures);
	if (h->last_wall) {
		gen_kv_bool(g, "last_ok", h->last_ok);
		gen_kv_str(g, "last_output", h->last);
		gen_kv_int(g, "last_ms", (long long)h->last_ms);
		gen_kv_int(g, "last_at", (long long)h->last_wall);
	}
	yajl_gen_map_close(g);
}
