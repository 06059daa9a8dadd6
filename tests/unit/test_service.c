// SPDX-License-Identifier: GPL-2.0-or-later
/* The service model against the fake backend. Time is driven by setting
 * timers due and running after_poll, never by sleeping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <yajl_gen.h>

#include "chan/gio.h"
#include "core/console.h"
#include "core/metrics.h"
#include "fake_backend.h"
#include "helpers.h"
#include "core/service.h"
#include "core/state.h"
#include "base/json.h"
#include "base/fileio.h"
#include "base/util.h"
#include "xen/tty.h"

static struct fake_backend *fb;
static struct supervisor *sup;
static char *logdir;

static void
add(struct config *cfg, const char *name, const char *extra)
{
	char t[512];

	snprintf(t, sizeof(t), "[service]\nkernel = /dev/null\nmemory = 64M\n%s",
	    extra);
	config_add_service(cfg, t_service(cfg, name, t));
}

/* the services names with their extras, logs and state in logdir */
static struct config *
config_in_logdir(const char *const *names, const char *const *extras,
    size_t n)
{
	struct config *cfg = config_new("domud.conf");
	size_t i;

	free(cfg->d.log_dir);
	cfg->d.log_dir = xstrdup(logdir);
	free(cfg->d.state_dir);
	cfg->d.state_dir = xstrdup(logdir);
	for (i = 0; i < n; i++)
		add(cfg, names[i], extras[i]);
	config_finish(cfg);
	ck_assert_uint_eq(cfg->errors, 0);
	return cfg;
}

static void
setup_with(const char *const *names, const char *const *extras, size_t n,
    uint64_t freemem)
{
	struct config *cfg;

	logdir = t_tmpdir();
	cfg = config_in_logdir(names, extras, n);
	fb = fake_new(freemem);
	sup = sup_new(&fb->be, cfg);
}

static void
teardown(void)
{

	sup_free(sup);
	fb->be.ops->free(&fb->be);
	t_rmtree(logdir);
}

/* one loop iteration: the backend reports, then the supervisor's timers */
static int status_has(struct service *, const char *);
static int event_seen(const char *, const char *, const char *, const char *,
    const char *);

static void
run(void)
{
	fb->be.ops->after_poll(&fb->be, NULL, 0);
	sup_after_poll(sup, NULL, 0);
}

/* the guest shuts down by itself (reason), and domud's destroy completes */
static void
guest_exits(const char *name, struct service *s, enum shutdown_reason r)
{
	uint32_t domid = s->domid;

	fake_shutdown(fb, name, domid, r);
	run();
	fake_destroy_done(fb, name, domid);
	run();
}

/* make the service's timer due now and let it fire */
static void
expire(struct service *s)
{
	ck_assert_uint_ne(s->timer_at, 0);
	s->timer_at = mono_ms();
	run();
}

/* a start under way: its create completes and the service runs */
static void
created(const char *name, struct service *s)
{
	ck_assert_int_eq(s->state, ST_STARTING);
	fake_create_done(fb, name, 1);
	run();
	ck_assert_int_eq(s->state, ST_RUNNING);
}

static struct service *
up(const char *name)
{
	struct service *s = sup_find(sup, name);
	struct err e = ERR_INIT;

	ck_assert_int_eq(sup_start(sup, s, &e), 0);
	created(name, s);
	return s;
}

/* kernel_cache = no, per service: libxl gets the image as it is; the
 * others ask the kernel cache (domud -n says which, golden "kernels") */
START_TEST(kernel_cache_off_per_service)
{
	const char *names[] = { "a", "b" }, *extras[] = { "",
	    "kernel_cache = no\n" };
	struct err e = ERR_INIT;

	setup_with(names, extras, 2, 1ULL << 30);
	ck_assert_int_eq(sup_start(sup, sup_find(sup, "a"), &e), 0);
	ck_assert_str_eq(fb->last_create, "a");
	ck_assert_int_eq(fb->last_kernel_cache, 1);
	ck_assert_int_eq(sup_start(sup, sup_find(sup, "b"), &e), 0);
	ck_assert_str_eq(fb->last_create, "b");
	ck_assert_int_eq(fb->last_kernel_cache, 0);
	teardown();
}
END_TEST

START_TEST(start_stop_graceful)
{
	const char *names[] = { "a" }, *extras[] = { "stop_timeout = 10s\n" };
	struct service *s;
	struct err e = ERR_INIT;
	uint32_t domid;

	setup_with(names, extras, 1, 1ULL << 30);
	s = up("a");
	domid = s->domid;
	ck_assert_uint_ne(domid, INVALID_DOMID_);
	ck_assert_int_eq(sup_stop(sup, s, &e), 0);
	ck_assert_int_eq(s->state, ST_STOPPING);
	ck_assert_int_eq(fb->nshutdown, 1);
	fake_shutdown(fb, "a", domid, SR_POWEROFF);
	run();
	ck_assert_int_eq(s->state, ST_DESTROYING);
	fake_destroy_done(fb, "a", domid);
	run();
	ck_assert_int_eq(s->state, ST_STOPPED);
	ck_assert_int_eq(s->last_exit, EXIT_STOPPED);
	ck_assert(sup_idle(sup));
	teardown();
}
END_TEST

START_TEST(stop_timeout_destroys)
{
	const char *names[] = { "a" }, *extras[] = { "stop_timeout = 1s\n" };
	struct service *s;
	struct err e = ERR_INIT;
	uint32_t domid;

	setup_with(names, extras, 1, 1ULL << 30);
	s = up("a");
	domid = s->domid;
	sup_stop(sup, s, &e);
	ck_assert_int_eq(fb->ndestroy, 0);
	expire(s);	/* the guest ignored the shutdown request */
	ck_assert_int_eq(fb->ndestroy, 1);
	ck_assert_int_eq(s->last_exit, EXIT_STOP_DESTROYED);
	fake_destroy_done(fb, "a", domid);
	run();
	ck_assert_int_eq(s->state, ST_STOPPED);
	ck_assert_str_eq(svc_exit_str(s->last_exit),
	    "destroyed after stop_timeout");
	teardown();
}
END_TEST

START_TEST(crash_backoff_then_failed)
{
	const char *names[] = { "a", "other" },
	    *extras[] = { "restart = on-failure\nrestart_delay = 1s\n"
	    "restart_delay_max = 4s\nrestart_limit = 3\nrestart_window = 10m\n",
	    "" };
	uint64_t delays[3];
	struct service *s, *other;
	int i;

	setup_with(names, extras, 2, 1ULL << 30);
	other = up("other");
	s = up("a");
	for (i = 0; i < 3; i++) {
		uint32_t domid = s->domid;

		fake_shutdown(fb, "a", domid, SR_CRASH);
		run();
		ck_assert_int_eq(s->state, ST_DESTROYING);
		fake_destroy_done(fb, "a", domid);
		run();
		ck_assert_int_eq(s->state, ST_BACKOFF);
		ck_assert_int_eq(s->last_exit, EXIT_CRASH);
		/* the delay from the moment the restart was decided */
		delays[i] = s->timer_at -
		    s->restart_at[(s->nrestart_at - 1) % RESTART_HISTORY];
		expire(s);
		ck_assert_int_eq(s->state, ST_STARTING);
		fake_create_done(fb, "a", 1);
		run();
	}
	/* 1s, 2s, 4s: doubling up to the cap */
	ck_assert_uint_eq(delays[0], 1000);
	ck_assert_uint_eq(delays[1], 2000);
	ck_assert_uint_eq(delays[2], 4000);
	ck_assert_uint_eq(s->restarts, 3);
	/* the fourth crash spends the budget: failed, not another restart */
	guest_exits("a", s, SR_CRASH);
	ck_assert_int_eq(s->state, ST_FAILED);
	ck_assert_ptr_nonnull(strstr(s->failed_reason, "restarted 3 times"));
	ck_assert_int_eq(other->state, ST_RUNNING);
	/* a person's start clears failed */
	{
		struct err e = ERR_INIT;

		ck_assert_int_eq(sup_start(sup, s, &e), 0);
		ck_assert_int_eq(s->state, ST_STARTING);
		fake_create_done(fb, "a", 1);
		run();
	}
	teardown();
}
END_TEST

/* the history: each change of state with why and whose doing, in order */
static void
ck_event(size_t from_end, const char *svc, const char *from, const char *to,
    const char *reason, const char *actor)
{
	const struct event *e;

	ck_assert_uint_gt(sup->events.n, from_end);
	e = events_at(&sup->events, sup->events.n - 1 - from_end);
	ck_assert_str_eq(e->svc, svc);
	ck_assert_str_eq(e->from, from);
	ck_assert_str_eq(e->to, to);
	ck_assert_msg(strcmp(e->reason, reason) == 0, "reason '%s', not '%s'",
	    e->reason, reason);
	ck_assert_str_eq(e->actor, actor);
}

START_TEST(events_say_why_and_who)
{
	const char *names[] = { "a" },
	    *extras[] = { "restart = on-failure\nrestart_delay = 1s\n" };
	struct err e = ERR_INIT;
	struct service *s;
	uint64_t seq;
	size_t i;

	setup_with(names, extras, 1, 1ULL << 30);
	s = up("a");
	/* the start's phases were timed, and the event says them */
	{
		char want[200];

		snprintf(want, sizeof(want), "created in %llu ms: waited %llu, "
		    "built with its devices in %llu, unpaused in %llu",
		    (unsigned long long)s->timing.to_running_ms,
		    (unsigned long long)s->timing.wait_ms,
		    (unsigned long long)s->timing.create_ms,
		    (unsigned long long)s->timing.unpause_ms);
		ck_event(0, "a", "starting", "running", want, "domud");
	}
	ck_assert_uint_ne(s->timing.asked, 0);
	ck_assert_uint_ne(s->timing.create_at, 0);
	ck_assert_uint_eq(s->timing.to_running_ms, s->timing.running_at -
	    s->timing.asked);
	ck_event(1, "a", "stopped", "starting", "start", "domud");
	/* a crash: the guest's doing, then the policy's */
	guest_exits("a", s, SR_CRASH);
	ck_event(1, "a", "running", "destroying", "shutdown: crash", "guest");
	ck_event(0, "a", "destroying", "backoff", "destroyed: crash", "policy");
	expire(s);
	ck_event(0, "a", "backoff", "starting", "backoff over", "policy");
	fake_create_done(fb, "a", 1);
	run();
	/* Xen's watchdog */
	guest_exits("a", s, SR_WATCHDOG);
	ck_event(1, "a", "running", "destroying", "shutdown: watchdog", "xen");
	expire(s);
	fake_create_done(fb, "a", 1);
	run();
	/* a person: the control request's uid */
	strcpy(sup->actor, "uid 1000");
	ck_assert_int_eq(sup_stop(sup, s, &e), 0);
	sup->actor[0] = '\0';
	ck_event(0, "a", "running", "stopping", "stop", "uid 1000");
	/* the ring keeps the newest; sequence numbers go on */
	seq = events_at(&sup->events, sup->events.n - 1)->seq;
	for (i = 0; i < EVENTS_MIN + 5; i++)
		events_add(&sup->events, "x", "a", "b", "test\033[31m", "t", 1);
	events_resize(&sup->events, EVENTS_MIN);
	ck_assert_uint_eq(sup->events.n, EVENTS_MIN);
	ck_assert_uint_eq(events_at(&sup->events, EVENTS_MIN - 1)->seq,
	    seq + EVENTS_MIN + 5);
	/* what a reason quotes is neutralised */
	ck_assert_ptr_null(strchr(events_at(&sup->events, 0)->reason, '\033'));
	teardown();
}
END_TEST

/* Xen's figures of the service's domain, from the periodic listing */
START_TEST(stats_from_the_listing)
{
	const char *names[] = { "a" }, *extras[] = { "" };
	struct fake_dom *d;
	struct service *s;
	uint32_t dom;
	int pm;

	setup_with(names, extras, 1, 1ULL << 30);
	s = up("a");
	d = fake_dom(fb, s->domid);
	ck_assert_ptr_nonnull(d);
	d->cpu_ns = 2000000000ULL;
	d->mem_bytes = 64ULL << 20;
	/* up() may have taken a sample already: one a millisecond before
	 * this one gave 2000000 (a flake under load), so start afresh */
	memset(&s->stats, 0, sizeof(s->stats));
	sup_reconcile(sup);
	ck_assert_uint_eq(s->stats.cpu_ns, 2000000000ULL);
	ck_assert_uint_eq(s->stats.mem_bytes, 64ULL << 20);
	ck_assert_int_eq(svc_cpu_permille(s), -1);	/* one sample */
	/* half a vCPU over the next second */
	s->stats.at_ms -= 1000;
	d->cpu_ns += 500000000ULL;
	sup_reconcile(sup);
	pm = svc_cpu_permille(s);
	ck_assert_msg(pm > 450 && pm <= 500, "permille %d", pm);
	/* a new domain starts afresh */
	dom = s->domid;
	guest_exits("a", s, SR_REBOOT);
	ck_assert_uint_ne(s->domid, dom);
	fake_create_done(fb, "a", 1);
	run();
	d = fake_dom(fb, s->domid);
	ck_assert_ptr_nonnull(d);
	d->cpu_ns = 1000;
	sup_reconcile(sup);
	ck_assert_uint_eq(s->stats.domid, s->domid);
	ck_assert_uint_eq(s->stats.cpu_ns, 1000);
	ck_assert_int_eq(svc_cpu_permille(s), -1);
	/* a question about the one service: its devices' counters too */
	ck_assert(status_has(s, "\"disks\":[{\"vdev\":\"xvdb\",\"read_requests\":3,"
	    "\"write_requests\":0,\"read_bytes\":12288,"));
	ck_assert(status_has(s, "\"vifs\":[{\"ifname\":\"lo\",\"rx_bytes\":"));
	teardown();
}
END_TEST

/* the Prometheus exposition: every service, its state as 0/1 series, Xen's
 * figures once sampled; metrics_file rewritten whole. make check runs
 * promtool on the file when DOMUD_METRICS_SAMPLE names where to put it. */
START_TEST(metrics_exposition)
{
	const char *names[] = { "gw", "idle" },
	    *extras[] = { "memres = no\n", "" };
	char path[512], *text, *file;
	const char *sample = getenv("DOMUD_METRICS_SAMPLE");
	struct fake_dom *d;
	struct service *s;
	size_t len;

	setup_with(names, extras, 2, 1ULL << 30);
	s = up("gw");
	d = fake_dom(fb, s->domid);
	ck_assert_ptr_nonnull(d);
	d->cpu_ns = 1500000000ULL;
	d->mem_bytes = 64ULL << 20;
	sup_reconcile(sup);
	text = metrics_render(sup, &len);
	ck_assert_uint_eq(strlen(text), len);
	ck_assert_ptr_nonnull(strstr(text, "# TYPE domud_service_state gauge\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "domud_service_state{service=\"gw\",state=\"running\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "domud_service_state{service=\"gw\",state=\"stopped\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "domud_service_state{service=\"idle\",state=\"stopped\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "domud_service_cpu_seconds_total{service=\"gw\"} 1.5\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "domud_service_memory_bytes{service=\"gw\"} 67108864\n"));
	/* no figures for a service without a domain */
	ck_assert_ptr_null(strstr(text,
	    "domud_service_cpu_seconds_total{service=\"idle\"}"));
	ck_assert_ptr_nonnull(strstr(text, "domud_build_info{version="));
	/* the file is what the verb shows */
	snprintf(path, sizeof(path), "%s/domud.prom", logdir);
	sup->cfg->d.metrics_file = xstrdup(path);
	ck_assert_int_eq(metrics_write(sup), 0);
	file = fileio_read(path, 1 << 20);
	ck_assert_ptr_nonnull(file);
	ck_assert_str_eq(file, text);
	if (sample != NULL) {
		FILE *fp = fopen(sample, "w");

		ck_assert_ptr_nonnull(fp);
		fputs(file, fp);
		fclose(fp);
	}
	free(file);
	free(text);
	teardown();
}
END_TEST

START_TEST(poweroff_and_reboot_policies)
{
	const char *names[] = { "onf", "alw" },
	    *extras[] = { "restart = on-failure\n", "restart = always\n" };
	struct service *onf, *alw;
	int creates;

	setup_with(names, extras, 2, 1ULL << 30);
	onf = up("onf");
	alw = up("alw");
	/* a guest's own poweroff is a clean exit */
	fake_shutdown(fb, "onf", onf->domid, SR_POWEROFF);
	fake_shutdown(fb, "alw", alw->domid, SR_POWEROFF);
	run();
	fake_destroy_done(fb, "onf", onf->domid);
	fake_destroy_done(fb, "alw", alw->domid);
	run();
	ck_assert_int_eq(onf->state, ST_STOPPED);
	ck_assert_int_eq(onf->last_exit, EXIT_POWEROFF);
	ck_assert_int_eq(alw->state, ST_BACKOFF);
	expire(alw);
	fake_create_done(fb, "alw", 1);
	run();
	/* an in-guest reboot comes straight back and is no failure */
	creates = fb->ncreate;
	guest_exits("alw", alw, SR_REBOOT);
	ck_assert_int_eq(alw->state, ST_STARTING);
	ck_assert_int_eq(fb->ncreate, creates + 1);
	ck_assert_uint_eq(alw->restarts, 1);
	fake_create_done(fb, "alw", 1);
	run();
	teardown();
}
END_TEST

START_TEST(admission_refuses)
{
	const char *names[] = { "big", "small" }, *extras[] = { "", "" };
	struct service *big, *small;
	struct err e = ERR_INIT;

	/* Xen has 100M free */
	setup_with(names, extras, 2, 100ULL << 20);
	big = sup_find(sup, "big");
	big->conf->memory = 2ULL << 30;
	small = sup_find(sup, "small");
	ck_assert_int_eq(sup_start(sup, big, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "not enough memory"));
	ck_assert_int_eq(big->state, ST_STOPPED);
	ck_assert_int_eq(big->last_exit, EXIT_REFUSED);
	ck_assert_int_eq(fb->ncreate, 0);
	/* 64M fits in 100M; a second 64M would not while the first is in
	 * flight */
	ck_assert_int_eq(sup_start(sup, small, &e), 0);
	ck_assert_uint_eq(small->memory_reserved, 64ULL << 20);
	big->conf->memory = 64ULL << 20;
	ck_assert_int_eq(sup_start(sup, big, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "promised to creates in flight"));
	fake_create_done(fb, "small", 1);
	run();
	ck_assert_uint_eq(small->memory_reserved, 0);
	teardown();
}
END_TEST

/* a loop iteration with real fds: the consoles read and write */
static void
run_io(int ms)
{
	t_run_io(sup, fb, ms);
}

/* what domud wrote to the guest's console: frames of the given type */
static int
frames_from_domud(int master, uint8_t type)
{
	struct frame_parser p;
	uint8_t buf[8192];
	ssize_t n;
	int count = 0;

	frame_parser_init(&p);
	while ((n = read(master, buf, sizeof(buf))) > 0) {
		size_t off = 0;

		/* a tiny scan: frames are whole here, nothing else is written */
		while (off + FRAME_HDR + 4 <= (size_t)n) {
			if (memcmp(buf + off, "\xf9" "dmx", 4) == 0) {
				size_t len = (size_t)buf[off + 16] << 8 | buf[off + 17];

				count += buf[off + 5] == type;
				off += FRAME_HDR + len + 4;
			} else
				off++;
		}
	}
	return count;
}

START_TEST(memres_ready_and_stop_through_the_agent)
{
	const char *names[] = { "m", "dep" },
	    *extras[] = { "memres = yes\nagent_stop_timeout = 5s\n"
	    "stop_timeout = 5s\n", "after = m\n" };
	struct service *m, *dep;
	uint8_t hello[FRAME_MAX];
	struct frame f = { FT_HELLO, 0, 0, 0, 0, NULL };
	struct err e = ERR_INIT;
	int master, i;
	size_t n;

	setup_with(names, extras, 2, 1ULL << 30);
	master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	strlcpy_(fb->console_tty, ptsname(master), sizeof(fb->console_tty));
	m = up("m");
	ck_assert_ptr_nonnull(m->con);
	ck_assert_ptr_nonnull(m->con->chan);
	dep = sup_find(sup, "dep");
	ck_assert_int_eq(sup_start(sup, dep, &e), 0);
	/* running, but its agent has not spoken: dep waits */
	ck_assert_int_eq(dep->state, ST_WAITING);
	ck_assert_str_eq(svc_display_state(m), "running");
	f.data = (const uint8_t *)"domud-agent 1 test 0001";
	f.len = (uint16_t)strlen((const char *)f.data);
	n = frame_encode(hello, &f);
	ck_assert_int_eq(write(master, "boot noise\r\n", 12), 12);
	ck_assert_int_eq(write(master, hello, n), (ssize_t)n);
	for (i = 0; i < 20 && !m->ready; i++)
		run_io(50);
	ck_assert_int_eq(m->ready, 1);
	ck_assert_str_eq(svc_display_state(m), "ready");
	ck_assert_int_eq(dep->state, ST_STARTING);
	/* the history says so (start --wait waits for it) */
	{
		size_t k;
		int seen = 0;

		for (k = 0; k < sup->events.n; k++) {
			const struct event *ev = events_at(&sup->events, k);

			if (!strcmp(ev->svc, "m") && !strcmp(ev->to, "ready")) {
				ck_assert_str_eq(ev->from, "running");
				ck_assert_ptr_nonnull(strstr(ev->reason,
				    "agent answered: domud-agent 1 test"));
				seen = 1;
			}
		}
		ck_assert(seen);
	}
	/* domud acknowledged the hello */
	for (i = 0; i < 5; i++)
		run_io(20);
	ck_assert_int_ge(frames_from_domud(master, FT_ACK), 1);

	/* stop: the agent is asked first, no PV shutdown yet */
	ck_assert_int_eq(sup_stop(sup, m, &e), 0);
	ck_assert_int_eq(m->state, ST_STOPPING);
	ck_assert_int_eq(m->stop.phase, SP_AGENT);
	ck_assert_int_eq(fb->nshutdown, 0);
	for (i = 0; i < 5; i++)
		run_io(20);
	ck_assert_int_eq(frames_from_domud(master, FT_SHUTDOWN), 1);
	/* the agent does not manage within agent_stop_timeout: PV shutdown */
	expire(m);
	ck_assert_int_eq(m->stop.phase, SP_PV);
	ck_assert_int_eq(fb->nshutdown, 1);
	guest_exits("m", m, SR_POWEROFF);
	ck_assert_int_eq(m->state, ST_STOPPED);
	ck_assert_int_eq(m->stop.stopped_in, SP_PV);
	close(master);
	teardown();
}
END_TEST

/* a memres service up on a PTY console, its agent's hello written */
static struct service *
memres_up(const char *name, int *master)
{
	struct frame f = { FT_HELLO, 0, 0, 0, 0, NULL };
	uint8_t hello[FRAME_MAX];
	struct service *m;
	size_t n;
	int i;

	*master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	ck_assert_int_ge(*master, 0);
	ck_assert_int_eq(grantpt(*master), 0);
	ck_assert_int_eq(unlockpt(*master), 0);
	strlcpy_(fb->console_tty, ptsname(*master), sizeof(fb->console_tty));
	m = up(name);
	f.data = (const uint8_t *)"domud-agent 1 test 0002";
	f.len = (uint16_t)strlen((const char *)f.data);
	n = frame_encode(hello, &f);
	ck_assert_int_eq(write(*master, hello, n), (ssize_t)n);
	for (i = 0; i < 20 && !m->ready; i++)
		run_io(50);
	ck_assert_int_eq(m->ready, 1);
	return m;
}

START_TEST(memres_idle_stop)
{
	const char *names[] = { "m" },
	    *extras[] = { "memres = yes\nidle_timeout = 1m\n" };
	struct service *m;
	int master;

	setup_with(names, extras, 1, 1ULL << 30);
	m = memres_up("m", &master);
	run_io(10);
	ck_assert_int_eq(m->state, ST_RUNNING);
	/* a minute without commands */
	m->idle.last_used = mono_ms() - 61000;
	run_io(10);
	ck_assert_int_eq(m->state, ST_STOPPING);
	ck_assert_int_eq(m->idle.state == IDLE_STOPPED, 1);
	ck_assert_int_eq(m->stop.phase, SP_AGENT);
	close(master);
	teardown();
}
END_TEST

/* idle_action = pause: paused, not reported as someone else's pause,
 * no pings or probes meanwhile; resumed by a command, and by a stop */
START_TEST(memres_idle_pause)
{
	const char *names[] = { "m" },
	    *extras[] = { "memres = yes\nidle_timeout = 1m\nidle_action = pause\n"
	    "agent_stop_timeout = 5s\n" };
	struct service *m;
	struct err e = ERR_INIT;
	uint64_t pings;
	int master;

	setup_with(names, extras, 1, 1ULL << 30);
	m = memres_up("m", &master);
	m->idle.last_used = mono_ms() - 61000;
	run_io(10);
	ck_assert_int_eq(m->idle.state == IDLE_PAUSED, 1);
	ck_assert_int_eq(m->state, ST_RUNNING);
	ck_assert_int_eq(fb->npause, 1);
	ck_assert_int_eq(fake_dom(fb, m->domid)->paused, 1);
	ck_assert(event_seen("m", "ready", "paused", "idle for 1m", "domud"));
	ck_assert(status_has(m, "\"idle\":\"paused\""));
	/* Xen's listing shows it paused for long: ours, not reported */
	m->paused_since = mono_ms() - 60000;
	sup->next_reconcile = 0;
	pings = m->con->chan->ping_id;
	m->next_ping = mono_ms();
	run_io(10);
	ck_assert_int_eq(m->paused, 0);
	ck_assert_uint_eq(m->con->chan->ping_id, pings);
	/* a command resumes it where it was */
	strcpy(sup->actor, "uid 0");
	ck_assert_int_eq(svc_wake(m, "exec"), 0);
	sup->actor[0] = '\0';
	ck_assert_int_eq(m->idle.state == IDLE_PAUSED, 0);
	ck_assert_int_eq(fake_dom(fb, m->domid)->paused, 0);
	ck_assert(event_seen("m", "paused", "ready", "exec", "uid 0"));
	/* paused again, then stopped: resumed first, for its agent */
	m->idle.last_used = mono_ms() - 61000;
	run_io(10);
	ck_assert_int_eq(m->idle.state == IDLE_PAUSED, 1);
	ck_assert_int_eq(sup_stop(sup, m, &e), 0);
	ck_assert_int_eq(m->idle.state == IDLE_PAUSED, 0);
	ck_assert_int_eq(fake_dom(fb, m->domid)->paused, 0);
	ck_assert_int_eq(m->stop.phase, SP_AGENT);
	close(master);
	teardown();
}
END_TEST

START_TEST(memres_unanswered_ping_restarts)
{
	const char *names[] = { "m", "n" },
	    *extras[] = { "memres = yes\nping_timeout = 5s\nping_restart = yes\n",
	    "memres = yes\nping_timeout = 5s\n" };
	struct frame f = { FT_PONG, 0, 0, 1, 0, NULL };
	uint8_t pong[FRAME_MAX];
	struct service *m, *n;
	int master, master2, i;
	size_t len;

	setup_with(names, extras, 2, 1ULL << 30);
	m = memres_up("m", &master);
	/* a ping went out 6 s ago and nothing came back */
	ck_assert_int_eq(gio_sync(m->con->chan, 5000), 0);
	m->con->chan->ping_sent = mono_ms() - 6000;
	run_io(10);
	ck_assert_int_eq(m->unresponsive, 1);
	/* ping_restart: it is being restarted (stopped first) */
	ck_assert_int_eq(m->state, ST_STOPPING);
	ck_assert_int_eq(m->after, AFTER_RESTART);

	/* without ping_restart it is only reported, and clears on an answer */
	n = memres_up("n", &master2);
	/* what the guest I/O process said so far is in before the fake */
	ck_assert_int_eq(gio_sync(n->con->chan, 5000), 0);
	n->con->chan->ping_sent = mono_ms() - 6000;
	run_io(10);
	ck_assert_int_eq(n->unresponsive, 1);
	ck_assert_int_eq(n->state, ST_RUNNING);
	/* its pong arrives, for the newest ping */
	f.id = (uint32_t)n->con->chan->ping_id;
	len = frame_encode(pong, &f);
	ck_assert_int_eq(write(master2, pong, len), (ssize_t)len);
	for (i = 0; i < 40 && n->unresponsive; i++)
		run_io(50);
	ck_assert_int_eq(n->unresponsive, 0);
	close(master);
	close(master2);
	teardown();
}
END_TEST

/* pings of readers (domuctl ping SVC) overlap the keepalive's: its answer
 * still counts, and a healthy agent is never declared unresponsive */
START_TEST(memres_client_pings_do_not_starve_keepalive)
{
	const char *names[] = { "m" },
	    *extras[] = { "memres = yes\nping_timeout = 5s\nping_restart = yes\n" };
	struct frame f = { FT_PONG, 0, 0, 1, 0, NULL };
	uint8_t pong[FRAME_MAX];
	struct service *m;
	struct gio_chan *ch;
	uint32_t first;
	int master, i;
	size_t n;

	setup_with(names, extras, 1, 1ULL << 30);
	m = memres_up("m", &master);
	ch = m->con->chan;
	ck_assert_int_eq(gio_ping(ch, mono_ms()), 0);	/* the keepalive's */
	first = ch->ping_id;
	for (i = 0; i < 3; i++)				/* readers' */
		ck_assert_int_eq(gio_ping(ch, mono_ms()), 0);
	/* the agent answers the keepalive's ping */
	f.id = first;
	n = frame_encode(pong, &f);
	ck_assert_int_eq(write(master, pong, n), (ssize_t)n);
	for (i = 0; i < 20 && ch->ping_sent; i++)
		run_io(50);
	ck_assert_uint_eq(ch->ping_sent, 0);
	ck_assert_int_eq(m->unresponsive, 0);
	ck_assert_int_eq(m->state, ST_RUNNING);
	close(master);
	teardown();
}
END_TEST

/* a person's stop is saved at once: a domud killed before the domain is
 * down must not start it again (found by e2e fault/kill-anywhere) */
/* a frame from the agent (seq in order, as it numbers them) */
static void
agent_says(int master, uint8_t type, uint8_t flags, uint32_t id, uint32_t seq,
    const void *data, uint16_t len)
{
	struct frame f = { type, flags, id, seq, len, data };
	uint8_t raw[FRAME_MAX];
	size_t n = frame_encode(raw, &f);

	ck_assert_int_eq(write(master, raw, n), (ssize_t)n);
}

static int
event_seen(const char *svc, const char *from, const char *to,
    const char *reason_part, const char *actor)
{
	size_t k;

	for (k = 0; k < sup->events.n; k++) {
		const struct event *ev = events_at(&sup->events, k);

		if (!strcmp(ev->svc, svc) && !strcmp(ev->from, from) &&
		    !strcmp(ev->to, to) && strstr(ev->reason, reason_part) &&
		    !strcmp(ev->actor, actor))
			return 1;
	}
	return 0;
}

/* health = exec through the agent: ready = health holds after=, a
 * failing and then a hung probe make it unhealthy, health_restart stops
 * it as a failure, and status keeps the console's last lines */
START_TEST(health_exec_probe)
{
	const char *names[] = { "m", "dep" },
	    *extras[] = { "memres = yes\nhealth = exec: test -f /ok\n"
	    "health_retries = 2\nhealth_timeout = 1s\nhealth_restart = yes\n"
	    "ready = health\nagent_stop_timeout = 5s\n", "after = m\n" };
	uint8_t code[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
	struct svc_health *h;
	struct service *m, *dep;
	struct err e = ERR_INIT;
	uint32_t id;
	int master, i;

	setup_with(names, extras, 2, 1ULL << 30);
	m = memres_up("m", &master);
	h = &m->health;
	dep = sup_find(sup, "dep");
	ck_assert_int_eq(sup_start(sup, dep, &e), 0);
	ck_assert_int_eq(h->state, HS_STARTING);
	/* the agent answered: the first probe goes out at once */
	run_io(10);
	ck_assert_uint_ne(h->exec_id, 0);
	ck_assert_int_eq(dep->state, ST_WAITING);
	ck_assert_str_eq(svc_display_state(m), "running");
	id = h->exec_id;
	agent_says(master, FT_OUT, FF_STDOUT, id, 1, "fine\n", 5);
	agent_says(master, FT_EXIT, 0, id, 2, code, 8);
	for (i = 0; i < 100 && h->state != HS_HEALTHY; i++)
		run_io(20);
	ck_assert_int_eq(h->state, HS_HEALTHY);
	ck_assert_str_eq(h->last, "fine");
	ck_assert_str_eq(svc_display_state(m), "ready");
	ck_assert_int_eq(dep->state, ST_STARTING);
	ck_assert(event_seen("m", "running", "ready", "health: passed: fine",
	    "health"));
	ck_assert(status_has(m, "\"health\":\"healthy\",\"health_probe\":"
	    "{\"kind\":\"exec\""));

	/* the command fails: one failure, still healthy (retries 2) */
	h->next_at = mono_ms();
	run_io(10);
	ck_assert_uint_ne(h->exec_id, 0);
	id = h->exec_id;
	code[3] = 1;
	agent_says(master, FT_OUT, FF_STDERR, id, 3, "no \x1b[2J/ok\n", 11);
	agent_says(master, FT_EXIT, 0, id, 4, code, 8);
	for (i = 0; i < 100 && h->exec_id; i++)
		run_io(20);
	ck_assert_uint_eq(h->fails, 1);
	ck_assert_int_eq(h->state, HS_HEALTHY);
	/* what the guest printed is neutralised */
	ck_assert_str_eq(h->last, "exit 1: no ^[[2J/ok");

	/* the next one hangs: cancelled at its timeout, the second failure
	 * in a row: unhealthy, and health_restart stops it */
	h->next_at = mono_ms();
	run_io(10);
	ck_assert_uint_ne(h->exec_id, 0);
	h->probe_at = mono_ms() - 10000;
	run_io(10);
	ck_assert_uint_eq(h->exec_id, 0);
	ck_assert_ptr_nonnull(strstr(h->last, "no answer within 1s"));
	ck_assert(event_seen("m", "healthy", "unhealthy", "2 failed", "health"));
	ck_assert_int_eq(m->state, ST_STOPPING);
	ck_assert(event_seen("m", "running", "stopping", "unhealthy", "health"));
	for (i = 0; i < 5; i++)
		run_io(20);
	ck_assert_int_ge(frames_from_domud(master, FT_CANCEL), 1);
	/* down: the policy takes it as a failure */
	expire(m);
	guest_exits("m", m, SR_POWEROFF);
	ck_assert_int_eq(m->state, ST_BACKOFF);
	ck_assert_int_eq(m->last_exit, EXIT_UNHEALTHY);
	ck_assert_uint_eq(m->restarts, 1);
	ck_assert_int_eq(h->state, HS_NONE);
	ck_assert_ptr_nonnull(m->fail_tail);
	ck_assert(status_has(m, "\"last_failure\":{\"exit\":\"unhealthy\""));
	close(master);
	teardown();
}
END_TEST

/* health = tcp: a connect from Dom0 (here to a listener on loopback) */
START_TEST(health_tcp_probe)
{
	const char *names[] = { "t" }, *extras[] = { "restart = no\n" };
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct svc_health *h;
	struct service *t;
	int lfd, i;

	setup_with(names, extras, 1, 1ULL << 30);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	t = sup_find(sup, "t");
	/* what config gives a service on a domud network */
	t->conf->health = HEALTH_TCP;
	t->conf->health_port = ntohs(sin.sin_port);
	t->conf->addr = INADDR_LOOPBACK;
	t->conf->health_retries = 1;
	t->conf->health_restart = 1;
	t = up("t");
	h = &t->health;
	ck_assert_int_eq(h->state, HS_STARTING);
	h->next_at = mono_ms();
	for (i = 0; i < 100 && h->state != HS_HEALTHY; i++)
		run_io(20);
	ck_assert_int_eq(h->state, HS_HEALTHY);
	ck_assert(event_seen("t", "running", "healthy", "health: passed",
	    "health"));
	/* nothing listens any more: refused, unhealthy, stopped */
	close(lfd);
	h->next_at = mono_ms();
	for (i = 0; i < 100 && h->state != HS_UNHEALTHY; i++)
		run_io(20);
	ck_assert_int_eq(h->state, HS_UNHEALTHY);
	ck_assert_ptr_nonnull(strstr(h->last, "Connection refused"));
	ck_assert_int_eq(t->state, ST_STOPPING);
	guest_exits("t", t, SR_POWEROFF);
	/* restart = no: an unhealthy end is a failure all the same */
	ck_assert_int_eq(t->state, ST_FAILED);
	ck_assert_int_eq(t->last_exit, EXIT_UNHEALTHY);
	teardown();
}
END_TEST

START_TEST(stop_is_saved_at_once)
{
	const char *names[] = { "a" }, *extras[] = { "autostart = yes\n" };
	struct service *s;
	struct err e = ERR_INIT;
	char path[600], *text;

	setup_with(names, extras, 1, 1ULL << 30);
	s = up("a");
	ck_assert_int_eq(sup_stop(sup, s, &e), 0);
	ck_assert_int_eq(s->state, ST_STOPPING);
	snprintf(path, sizeof(path), "%s/state.json", sup->cfg->d.state_dir);
	text = fileio_read(path, 65536);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, "\"held\":true") != NULL, "%s", text);
	free(text);
	teardown();
}
END_TEST

/* the console hangs up while the domain runs (xenconsoled restarted):
 * domud opens the new one and the agent is ready again */
START_TEST(memres_console_reopened)
{
	const char *names[] = { "m" }, *extras[] = { "memres = yes\n" };
	struct frame f = { FT_HELLO, 0, 0, 0, 0, NULL };
	uint8_t hello[FRAME_MAX];
	struct service *m;
	int master, master2, i;
	size_t n;

	setup_with(names, extras, 1, 1ULL << 30);
	m = memres_up("m", &master);
	master2 = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	ck_assert_int_ge(master2, 0);
	ck_assert_int_eq(grantpt(master2), 0);
	ck_assert_int_eq(unlockpt(master2), 0);
	strlcpy_(fb->console_tty, ptsname(master2), sizeof(fb->console_tty));
	close(master);		/* the old console hangs up */
	for (i = 0; i < 20 && (m->con == NULL || m->con->hup ||
	    strcmp(m->con->tty, fb->console_tty) != 0); i++)
		run_io(50);
	ck_assert_ptr_nonnull(m->con);
	ck_assert_int_eq(m->con->hup, 0);
	ck_assert_str_eq(m->con->tty, fb->console_tty);
	ck_assert_int_eq(m->state, ST_RUNNING);
	/* the agent on the new console says hello: ready again */
	f.data = (const uint8_t *)"domud-agent 1 test 0002";
	f.len = (uint16_t)strlen((const char *)f.data);
	n = frame_encode(hello, &f);
	ck_assert_int_eq(write(master2, hello, n), (ssize_t)n);
	for (i = 0; i < 20 && !m->ready; i++)
		run_io(50);
	ck_assert_int_eq(m->ready, 1);
	close(master2);
	teardown();
}
END_TEST

START_TEST(ordering)
{
	const char *names[] = { "a", "b", "c" },
	    *extras[] = { "autostart = yes\n", "autostart = yes\nafter = a\n",
	    "autostart = yes\n" };
	struct service *a, *b, *c;

	setup_with(names, extras, 3, 1ULL << 30);
	sup_autostart(sup);
	a = sup_find(sup, "a");
	b = sup_find(sup, "b");
	c = sup_find(sup, "c");
	/* a and c together, b held back until a runs */
	ck_assert_int_eq(a->state, ST_STARTING);
	ck_assert_int_eq(c->state, ST_STARTING);
	ck_assert_int_eq(b->state, ST_WAITING);
	fake_create_done(fb, "c", 1);
	run();
	ck_assert_int_eq(b->state, ST_WAITING);
	fake_create_done(fb, "a", 1);
	run();
	ck_assert_int_eq(b->state, ST_STARTING);
	fake_create_done(fb, "b", 1);
	run();
	/* daemon stop: b (after a) goes first */
	sup_shutdown(sup);
	ck_assert_int_eq(b->state, ST_STOPPING);
	ck_assert_int_eq(c->state, ST_STOPPING);
	ck_assert_int_eq(a->state, ST_RUNNING);
	guest_exits("b", b, SR_POWEROFF);
	ck_assert_int_eq(a->state, ST_STOPPING);
	teardown();
}
END_TEST

START_TEST(create_failure_undone)
{
	const char *names[] = { "a" }, *extras[] = { "restart = no\n" };
	struct service *s;
	struct err e = ERR_INIT;

	setup_with(names, extras, 1, 1ULL << 30);
	s = sup_find(sup, "a");
	fb->fail_create_now = 1;
	ck_assert_int_eq(sup_start(sup, s, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "No such file"));
	ck_assert_uint_eq(s->memory_reserved, 0);
	fb->fail_create_now = 0;
	ck_assert_int_eq(sup_start(sup, s, &e), 0);
	fake_create_done(fb, "a", 0);
	run();
	ck_assert_int_eq(s->state, ST_FAILED);
	ck_assert_int_eq(s->last_exit, EXIT_CREATE_FAILED);
	ck_assert_uint_eq(s->memory_reserved, 0);
	teardown();
}
END_TEST

START_TEST(stale_events_ignored)
{
	const char *names[] = { "a" }, *extras[] = { "restart = always\n" };
	struct service *s;
	uint32_t old;

	setup_with(names, extras, 1, 1ULL << 30);
	s = up("a");
	old = s->domid;
	fake_shutdown(fb, "a", old, SR_REBOOT);
	run();
	fake_died(fb, "a", old);
	run();
	/* dead, but libxl's destroy still takes its devices down: the next
	 * domain after it */
	ck_assert_int_eq(s->state, ST_DESTROYING);
	ck_assert_int_eq(fb->ncreate, 1);
	fake_destroy_done(fb, "a", old);
	run();
	ck_assert_int_eq(s->state, ST_STARTING);
	fake_create_done(fb, "a", 1);
	run();
	/* late events about the old domain, or no domain of ours: none */
	fake_destroy_done(fb, "a", old);
	fake_died(fb, "a", old);
	fake_died(fb, "ghost", 99);
	run();
	ck_assert_int_eq(s->state, ST_RUNNING);
	ck_assert_uint_ne(s->domid, old);
	teardown();
}
END_TEST

START_TEST(reload_applies_difference)
{
	const char *names[] = { "keep", "change", "gone" },
	    *extras[] = { "", "", "" };
	struct config *cfg;
	struct service *keep, *change;
	uint32_t keep_dom;

	setup_with(names, extras, 3, 1ULL << 30);
	keep = up("keep");
	change = up("change");
	up("gone");
	keep_dom = keep->domid;
	cfg = config_new("domud.conf");
	free(cfg->d.log_dir);
	cfg->d.log_dir = xstrdup(logdir);
	free(cfg->d.state_dir);
	cfg->d.state_dir = xstrdup(logdir);
	add(cfg, "keep", "restart = always\n");	/* policy only */
	add(cfg, "change", "vcpus = 2\n");	/* what the DomU is made of */
	add(cfg, "new", "autostart = yes\n");
	config_finish(cfg);
	sup_reload(sup, cfg);
	ck_assert_int_eq(keep->state, ST_RUNNING);
	ck_assert_uint_eq(keep->domid, keep_dom);
	ck_assert_int_eq(keep->conf->restart, RESTART_ALWAYS);
	ck_assert_int_eq(change->state, ST_STOPPING);
	ck_assert_int_eq(sup_find(sup, "gone")->state, ST_STOPPING);
	ck_assert_int_eq(sup_find(sup, "new")->state, ST_STARTING);
	guest_exits("change", change, SR_POWEROFF);
	ck_assert_int_eq(change->state, ST_STARTING);
	ck_assert_uint_eq(change->conf->vcpus, 2);
	teardown();
}
END_TEST

static void
found(const char *name, uint32_t domid, const uint8_t *uuid, const char *tag,
    int has_config)
{
	struct be_found *f = &fb->found[fb->nfound++];

	memset(f, 0, sizeof(*f));
	f->domid = domid;
	strcpy(f->name, name);
	memcpy(f->uuid, uuid, 16);
	strcpy(f->tag, tag);
	f->has_config = has_config;
}

START_TEST(adoption)
{
	const char *names[] = { "keep", "half", "clash", "fresh" },
	    *extras[] = { "autostart = yes\nrestart = always\n",
	    "autostart = yes\n", "autostart = yes\n", "autostart = yes\n" };
	static const uint8_t other[16] = { 1, 2, 3 };
	struct service *keep, *half, *clash, *fresh;

	setup_with(names, extras, 4, 1ULL << 30);
	keep = sup_find(sup, "keep");
	half = sup_find(sup, "half");
	clash = sup_find(sup, "clash");
	fresh = sup_find(sup, "fresh");
	found("keep", 7, keep->conf->uuid, "keep", 1);
	found("half", 8, half->conf->uuid, "", 0);	/* died mid-create */
	found("clash", 9, other, "", 1);		/* someone else's */
	found("gone", 10, other, "gone", 1);		/* service removed */
	found("", 11, keep->conf->uuid, "keep", 0);	/* died mid-destroy */
	found("", 12, fresh->conf->uuid, "", 0);	/* mid-build, no name */
	found("", 13, other, "", 0);			/* not ours: left */
	sup_adopt(sup);
	/* nameless ones of ours are destroyed: by tag, or by UUID */
	ck_assert_int_eq(fb->ndestroy, 3);
	ck_assert_uint_eq(fb->last_destroy, 12);
	fake_destroy_done(fb, "keep", 11);
	fake_destroy_done(fb, "fresh", 12);
	run();
	sup_autostart(sup);
	/* same domid, running, watched; not created again */
	ck_assert_int_eq(keep->state, ST_RUNNING);
	ck_assert_uint_eq(keep->domid, 7);
	ck_assert_int_eq(fb->nadopt, 1);
	/* the half-made one is destroyed, then started afresh */
	ck_assert_int_eq(half->state, ST_DESTROYING);
	fake_destroy_done(fb, "half", 8);
	run();
	ck_assert_int_eq(half->state, ST_STARTING);
	/* a foreign domain with our name is left alone and reported */
	ck_assert_ptr_nonnull(strstr(clash->last_error, "not domud's"));
	ck_assert_int_eq(fresh->state, ST_STARTING);
	/* gone (orphan) and the stranger were not destroyed */
	ck_assert_int_eq(fb->ndestroy, 3);
	/* the adopted domain's policy is armed again */
	fake_shutdown(fb, "keep", 7, SR_CRASH);
	run();
	fake_destroy_done(fb, "keep", 7);
	run();
	ck_assert_int_eq(keep->state, ST_BACKOFF);
	teardown();
}
END_TEST

/* standby = yes: the next domain waits built and paused; a start is an
 * unpause of it, and the one after that is built while it runs */
START_TEST(standby_start_is_an_unpause)
{
	const char *names[] = { "s" }, *extras[] = { "standby = yes\n" };
	uint8_t twin[16];
	struct service *s;
	struct err e = ERR_INIT;
	uint32_t sb1, sb2, dom;

	setup_with(names, extras, 1, 1ULL << 30);
	s = sup_find(sup, "s");
	be_uuid_twin(twin, s->conf->uuid);
	run();			/* stopped, no standby: one is built */
	ck_assert_int_eq(fb->nstandby, 1);
	ck_assert_int_eq(s->sb.state, SB_BUILDING);
	ck_assert_str_eq(fb->creating[0].name, "s@standby");
	ck_assert_mem_eq(fb->creating[0].uuid, twin, 16);
	ck_assert(!sup_idle(sup));	/* never left behind at exit */
	run();			/* one at a time */
	ck_assert_int_eq(fb->nstandby, 1);
	sb1 = fake_standby_done(fb, "s", 1);
	run();
	ck_assert_int_eq(s->sb.state, SB_READY);
	ck_assert_uint_eq(s->sb.domid, sb1);
	ck_assert(fake_dom(fb, sb1)->paused);
	ck_assert_int_eq(s->state, ST_STOPPED);	/* built, not started */
	ck_assert(status_has(s, "\"standby\":\"ready\""));

	/* the start: renamed and unpaused at once, no create */
	ck_assert_int_eq(sup_start(sup, s, &e), 0);
	ck_assert_int_eq(s->state, ST_RUNNING);
	ck_assert_uint_eq(s->domid, sb1);
	ck_assert_int_eq(fb->nactivate, 1);
	ck_assert_int_eq(fb->ncreate, 1);
	ck_assert_str_eq(fake_dom(fb, sb1)->name, "s");
	ck_assert(!fake_dom(fb, sb1)->paused);
	ck_assert(status_has(s, "\"from_standby\":true"));
	ck_assert(event_seen("s", "starting", "running", "its standby renamed "
	    "and unpaused", "domud"));

	/* the next standby takes the UUID the running one does not hold */
	run();
	ck_assert_int_eq(fb->nstandby, 2);
	ck_assert_mem_eq(fb->creating[0].uuid, s->conf->uuid, 16);
	sb2 = fake_standby_done(fb, "s", 1);
	run();
	ck_assert_uint_eq(s->sb.domid, sb2);
	/* events about the standby are the standby's, not the service's */
	fake_shutdown(fb, "s", sb2, SR_POWEROFF);
	run();
	ck_assert_int_eq(s->state, ST_RUNNING);
	ck_assert_int_eq(s->sb.state, SB_DESTROYING);
	ck_assert_uint_eq(fb->last_destroy, sb2);
	fake_destroy_done(fb, "s", sb2);
	run();
	ck_assert_int_eq(s->sb.state, SB_BUILDING);
	sb2 = fake_standby_done(fb, "s", 1);
	run();

	/* stop, start again: the second standby */
	dom = s->domid;
	ck_assert_int_eq(sup_stop(sup, s, &e), 0);
	fake_shutdown(fb, "s", dom, SR_POWEROFF);
	run();
	fake_destroy_done(fb, "s", dom);
	run();
	ck_assert_int_eq(s->state, ST_STOPPED);
	ck_assert_int_eq(s->sb.state, SB_READY);
	ck_assert_int_eq(sup_start(sup, s, &e), 0);
	ck_assert_uint_eq(s->domid, sb2);
	ck_assert_int_eq(fb->nactivate, 2);

	/* a standby that cannot be activated goes; a create follows */
	run();
	sb1 = fake_standby_done(fb, "s", 1);
	run();
	dom = s->domid;
	sup_stop(sup, s, &e);
	fake_shutdown(fb, "s", dom, SR_POWEROFF);
	run();
	fake_destroy_done(fb, "s", dom);
	run();
	fb->fail_activate_now = 1;
	ck_assert_int_eq(sup_start(sup, s, &e), 0);
	ck_assert_int_eq(s->state, ST_STARTING);
	ck_assert_uint_eq(fb->last_destroy, sb1);
	ck_assert_int_eq(s->sb.state, SB_DESTROYING);
	/* the create does not take the UUID the dying standby holds */
	ck_assert_mem_ne(fb->creating[fb->ncreating - 1].uuid, s->sb.uuid,
	    16);
	fake_destroy_done(fb, "s", sb1);
	fake_create_done(fb, "s", 1);
	run();
	ck_assert_int_eq(s->state, ST_RUNNING);

	/* a failed build is said, kept in status, and tried again later */
	ck_assert_int_eq(s->sb.state, SB_BUILDING);
	fake_standby_done(fb, "s", 0);
	run();
	ck_assert_int_eq(s->sb.state, SB_NONE);
	ck_assert(status_has(s, "\"standby_error\":\"libxl_domain_create_new: "
	    "fake failure\""));
	run();
	ck_assert_int_eq(s->sb.state, SB_NONE);		/* not at once */
	s->sb.retry_at = mono_ms();
	run();
	ck_assert_int_eq(s->sb.state, SB_BUILDING);
	sb1 = fake_standby_done(fb, "s", 1);
	run();

	/* a reload that changes the domain: the standby is stale */
	{
		struct config *cfg = config_new("domud.conf");

		free(cfg->d.log_dir);
		cfg->d.log_dir = xstrdup(logdir);
		free(cfg->d.state_dir);
		cfg->d.state_dir = xstrdup(logdir);
		add(cfg, "s", "standby = yes\nvcpus = 2\n");
		config_finish(cfg);
		sup_reload(sup, cfg);
	}
	run();
	ck_assert_uint_eq(fb->last_destroy, sb1);
	ck_assert_int_eq(s->sb.state, SB_DESTROYING);
	ck_assert(s->sb.stale);
	/* the running domain restarts on the new definition first */
	ck_assert_int_ne(s->state, ST_RUNNING);
	teardown();
}
END_TEST

/* not enough memory for a standby: said once, the service unharmed */
START_TEST(standby_refused_by_admission)
{
	const char *names[] = { "s" }, *extras[] = { "standby = yes\n" };
	struct service *s;
	struct err e = ERR_INIT;

	setup_with(names, extras, 1, 100ULL << 20);	/* room for one */
	s = sup_find(sup, "s");
	run();
	ck_assert_int_eq(s->sb.state, SB_BUILDING);
	fake_standby_done(fb, "s", 1);
	run();
	fb->free_mem = 30ULL << 20;	/* the standby took it */
	ck_assert_int_eq(sup_start(sup, s, &e), 0);
	ck_assert_int_eq(s->state, ST_RUNNING);	/* it needed no more */
	run();
	ck_assert_int_eq(s->sb.state, SB_NONE);
	ck_assert_int_eq(fb->nstandby, 1);
	ck_assert(status_has(s, "\"standby_error\":\"not enough memory"));
	teardown();
}
END_TEST

/* a standby the last domud left is destroyed; a new one is built once it
 * is gone, never beside it with the same UUID */
START_TEST(standby_left_by_last_domud)
{
	const char *names[] = { "s" }, *extras[] = { "standby = yes\n" };
	uint8_t twin[16];
	struct service *s;

	setup_with(names, extras, 1, 1ULL << 30);
	s = sup_find(sup, "s");
	be_uuid_twin(twin, s->conf->uuid);
	found("s@standby", 30, twin, "s", 1);
	fb->found[fb->nfound - 1].standby = 1;
	sup_adopt(sup);
	ck_assert_int_eq(fb->ndestroy, 1);
	ck_assert_uint_eq(fb->last_destroy, 30);
	ck_assert_int_eq(s->sb.state, SB_DESTROYING);
	run();
	ck_assert_int_eq(fb->nstandby, 0);
	fake_destroy_done(fb, "s", 30);
	run();
	ck_assert_int_eq(fb->nstandby, 1);
	teardown();
}
END_TEST

/* the machine cannot do what the configuration asks (a CPU it lacks):
 * refused with the backend's reason, and no restart follows */
START_TEST(refused_by_the_machine)
{
	const char *names[] = { "p" }, *extras[] = { "restart = always\n" };
	struct service *p;
	struct err e = ERR_INIT;

	setup_with(names, extras, 1, 1ULL << 30);
	p = sup_find(sup, "p");
	fb->refuse_create = 1;
	ck_assert_int_eq(sup_start(sup, p, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "CPU 7 does not exist"));
	ck_assert_int_eq(p->state, ST_STOPPED);
	ck_assert_int_eq(p->last_exit, EXIT_REFUSED);
	ck_assert_uint_eq(p->timer_at, 0);
	ck_assert_ptr_nonnull(strstr(p->last_error, "CPU 7 does not exist"));
	ck_assert_int_eq(fb->ncreate, 0);	/* asked before anything */
	teardown();
}
END_TEST

/* max_domus: a start past it is refused with the reason */
START_TEST(max_domus_refuses)
{
	const char *names[] = { "a", "b" }, *extras[] = { "", "" };
	struct service *b;
	struct err e = ERR_INIT;

	setup_with(names, extras, 2, 1ULL << 30);
	sup->cfg->d.max_domus = 1;
	up("a");
	b = sup_find(sup, "b");
	ck_assert_int_eq(sup_start(sup, b, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "max_domus: 1 DomUs"));
	ck_assert_int_eq(b->last_exit, EXIT_REFUSED);
	ck_assert_int_eq(fb->ncreate, 1);
	sup->cfg->d.max_domus = 2;
	ck_assert_int_eq(sup_start(sup, b, &e), 0);
	teardown();
}
END_TEST

static struct config *
pool_config(int with_pool)
{
	struct config *cfg = config_new("domud.conf");
	struct pool_conf *pc;

	free(cfg->d.log_dir);
	cfg->d.log_dir = xstrdup(logdir);
	free(cfg->d.state_dir);
	cfg->d.state_dir = xstrdup(logdir);
	if (with_pool) {
		pc = xcalloc(1, sizeof(*pc));
		pc->name = xstrdup("rt");
		pc->line = pc->cpus_line = 1;
		cpuset_set(&pc->cpus, 2);
		cpuset_set(&pc->cpus, 3);
		pc->sched = SCHED_CREDIT2;
		cfg->pools[cfg->npools++] = pc;
		add(cfg, "p", "cpupool = rt\ncpus = 2\n");
	} else
		add(cfg, "q", "");
	config_finish(cfg);
	ck_assert_uint_eq(cfg->errors, 0);
	return cfg;
}

/* pools: made once, adopted by the next domud, removed when dropped once
 * nothing runs in them; state.json says which are domud's */
START_TEST(pools_made_adopted_removed)
{
	char path[512], *text;

	logdir = t_tmpdir();
	fb = fake_new(1ULL << 30);
	sup = sup_new(&fb->be, pool_config(1));
	sup_pools_sync(sup);
	ck_assert_int_eq(fb->npool_made, 1);
	ck_assert_uint_eq(fb->npools, 1);
	ck_assert(cpuset_has(&fb->pools[0].cpus, 2) &&
	    cpuset_has(&fb->pools[0].cpus, 3) && !cpuset_has(&fb->pools[0].cpus, 1));
	snprintf(path, sizeof(path), "%s/state.json", logdir);
	text = fileio_read(path, 1 << 20);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "\"pools\":[\"rt\"]"));
	free(text);
	sup_free(sup);

	/* the next domud: the pool is there, as configured: adopted */
	sup = sup_new(&fb->be, pool_config(1));
	sup_load(sup);
	sup_pools_sync(sup);
	ck_assert_int_eq(fb->npool_made, 1);
	ck_assert_uint_eq(sup->npools_owned, 1);

	/* dropped while a domain still runs in it: kept, tried again */
	fb->pools[0].ndoms = 1;
	sup_reload(sup, pool_config(0));
	ck_assert_int_eq(fb->npool_removed, 0);
	ck_assert(sup->pools_pending);
	fb->pools[0].ndoms = 0;
	sup_pools_sync(sup);
	ck_assert_int_eq(fb->npool_removed, 1);
	ck_assert_uint_eq(fb->npools, 0);
	ck_assert_uint_eq(sup->npools_owned, 0);
	ck_assert(!sup->pools_pending);
	/* someone else's pool is never touched */
	strlcpy_(fb->pools[0].name, "theirs", sizeof(fb->pools[0].name));
	fb->npools = 1;
	sup_pools_sync(sup);
	ck_assert_int_eq(fb->npool_removed, 1);
	teardown();
}
END_TEST

START_TEST(shutdown_deadline_and_keep_running)
{
	const char *names[] = { "a", "b" },
	    *extras[] = { "stop_timeout = 10m\n", "" };
	struct service *a, *b;

	setup_with(names, extras, 2, 1ULL << 30);
	sup->cfg->d.shutdown_timeout_ms = 5000;
	a = up("a");
	b = up("b");
	sup_shutdown(sup);
	ck_assert_int_eq(a->state, ST_STOPPING);
	/* a ignores shutdown; its own 10m timeout is cut by the 5s deadline */
	guest_exits("b", b, SR_POWEROFF);
	ck_assert_int_eq(fb->ndestroy, 1);
	sup->shutdown_deadline = mono_ms();
	run();
	ck_assert_int_eq(a->state, ST_DESTROYING);
	ck_assert_int_eq(a->last_exit, EXIT_STOP_DESTROYED);
	fake_destroy_done(fb, "a", a->domid);
	run();
	ck_assert(sup_idle(sup));
	teardown();

	/* keep_running: nothing is stopped, and the daemon may exit */
	setup_with(names, extras, 2, 1ULL << 30);
	sup->cfg->d.keep_running = 1;
	a = up("a");
	sup_shutdown(sup);
	run();
	ck_assert_int_eq(a->state, ST_RUNNING);
	ck_assert_int_eq(fb->nshutdown, 0);
	ck_assert(sup_idle(sup));
	teardown();
}
END_TEST

/* a new daemon on the same state directory: the configuration of names,
 * then state.json, then autostart (as domud.c starts) */
static void
daemon_again(const char *const *names, const char *const *extras, size_t n)
{
	struct config *cfg;

	sup_free(sup);
	fb->be.ops->free(&fb->be);
	cfg = config_in_logdir(names, extras, n);
	fb = fake_new(1ULL << 30);
	sup = sup_new(&fb->be, cfg);
	sup_load(sup);
	sup_autostart(sup);
}

START_TEST(state_survives_a_daemon_restart)
{
	const char *names[] = { "held", "bad", "auto" },
	    *extras[] = { "autostart = yes\n", "autostart = yes\nrestart = no\n",
	    "autostart = yes\n" };
	struct service *s;
	struct err e = ERR_INIT;
	char path[600];
	FILE *fp;

	setup_with(names, extras, 3, 1ULL << 30);
	s = up("held");
	sup_stop(sup, s, &e);
	guest_exits("held", s, SR_POWEROFF);
	s = up("bad");
	guest_exits("bad", s, SR_CRASH);
	ck_assert_int_eq(s->state, ST_FAILED);
	/* a new daemon on the same state directory, same boot */
	daemon_again(names, extras, 3);
	ck_assert_int_eq(sup_find(sup, "held")->state, ST_STOPPED);
	ck_assert_int_eq(sup_find(sup, "bad")->state, ST_FAILED);
	ck_assert_str_eq(sup_find(sup, "bad")->failed_reason, "crash");
	ck_assert_int_eq(sup_find(sup, "auto")->state, ST_STARTING);
	/* no temp file left behind; a corrupt file is ignored, not fatal */
	snprintf(path, sizeof(path), "%s/state.json.tmp", logdir);
	ck_assert_int_ne(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/state.json", logdir);
	fp = fopen(path, "w");
	fputs("{\"v\":1,\"services\":[{\"name\":7}", fp);
	fclose(fp);
	sup_load(sup);
	fake_create_done(fb, "auto", 1);
	run();
	teardown();
}
END_TEST

/* the boot id the daemon reads is id, from file path */
static void
boot_as(const char *path, const char *id)
{
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "%s\n", id);
	fclose(fp);
	state_boot_id_path = path;
}

/* state.json is of its boot only: under the same boot id what it says is
 * applied; under another the daemon starts from the configuration */
START_TEST(state_of_an_earlier_boot_ignored)
{
	const char *names[] = { "held", "bad" },
	    *extras[] = { "autostart = yes\nrestart = on-failure\n",
	    "autostart = yes\nrestart = no\n" };
	const char *real = state_boot_id_path;
	struct err e = ERR_INIT;
	struct service *s;
	char bootfile[600];

	setup_with(names, extras, 2, 1ULL << 30);
	snprintf(bootfile, sizeof(bootfile), "%s/boot_id", logdir);
	boot_as(bootfile, "6f1c1a52-0000-4000-8000-00000000000a");
	/* held: crashed once and restarted, then a person stopped it */
	s = up("held");
	guest_exits("held", s, SR_CRASH);
	ck_assert_int_eq(s->state, ST_BACKOFF);
	expire(s);
	fake_create_done(fb, "held", 1);
	run();
	ck_assert_int_eq(s->state, ST_RUNNING);
	ck_assert_int_eq(sup_stop(sup, s, &e), 0);
	guest_exits("held", s, SR_POWEROFF);
	ck_assert_int_eq(s->state, ST_STOPPED);
	ck_assert_uint_eq(s->restarts, 1);
	/* bad: crashed, failed */
	s = up("bad");
	guest_exits("bad", s, SR_CRASH);
	ck_assert_int_eq(s->state, ST_FAILED);

	/* the same boot: held stays stopped, bad failed, the count kept */
	daemon_again(names, extras, 2);
	ck_assert_int_eq(sup_find(sup, "held")->state, ST_STOPPED);
	ck_assert_uint_eq(sup_find(sup, "held")->restarts, 1);
	ck_assert_int_eq(sup_find(sup, "bad")->state, ST_FAILED);
	ck_assert_int_eq(fb->ncreate, 0);

	/* another boot, the same file: nothing of it is taken */
	boot_as(bootfile, "6f1c1a52-0000-4000-8000-00000000000b");
	daemon_again(names, extras, 2);
	s = sup_find(sup, "held");
	ck_assert_msg(s->state == ST_STARTING, "held: %s, not starting",
	    svc_state_str(s->state));
	ck_assert_uint_eq(s->restarts, 0);
	s = sup_find(sup, "bad");
	ck_assert_msg(s->state == ST_STARTING, "bad: %s, not starting",
	    svc_state_str(s->state));
	ck_assert_str_eq(s->failed_reason, "");
	ck_assert_int_eq(fb->ncreate, 2);
	fake_create_done(fb, "held", 1);
	fake_create_done(fb, "bad", 1);
	run();
	state_boot_id_path = real;
	teardown();
}
END_TEST

/* the service ran ms longer than it did (its uptime, for the backoff) */
static void
ran_for(struct service *s, uint64_t ms)
{
	ck_assert_uint_gt(s->started_mono, ms);
	s->started_mono -= ms;
}

/* the guest crashes and domud restarts it: the delay it waited */
static uint64_t
crash_restart(const char *name, struct service *s)
{
	uint64_t delay;

	guest_exits(name, s, SR_CRASH);
	ck_assert_int_eq(s->state, ST_BACKOFF);
	delay = s->timer_at - s->restart_at[(s->nrestart_at - 1) %
	    RESTART_HISTORY];
	expire(s);
	created(name, s);
	return delay;
}

/* restart_stable: a run that lasted that long starts the backoff afresh;
 * a shorter one does not */
START_TEST(restart_stable_resets_backoff)
{
	const char *names[] = { "a" },
	    *extras[] = { "restart = on-failure\nrestart_delay = 1s\n"
	    "restart_delay_max = 1m\nrestart_stable = 10s\n"
	    "restart_limit = 20\nrestart_window = 10m\n" };
	struct service *s;
	uint64_t d;

	setup_with(names, extras, 1, 1ULL << 30);
	s = up("a");
	ck_assert_uint_eq(crash_restart("a", s), 1000);
	ck_assert_uint_eq(crash_restart("a", s), 2000);
	ck_assert_uint_eq(crash_restart("a", s), 4000);
	/* up for 9 s: not stable, the backoff goes on growing */
	ran_for(s, 9000);
	d = crash_restart("a", s);
	ck_assert_msg(d == 8000, "after 9 s up: %llu ms, not 8000",
	    (unsigned long long)d);
	/* up for restart_stable: back to restart_delay */
	ran_for(s, 10000);
	d = crash_restart("a", s);
	ck_assert_msg(d == 1000, "after 10 s up: %llu ms, not 1000",
	    (unsigned long long)d);
	/* and from there it doubles again */
	ck_assert_uint_eq(crash_restart("a", s), 2000);
	ck_assert_uint_eq(s->restarts, 6);
	teardown();
}
END_TEST

/* ---- reconciliation with what Xen runs ------------------------------------ */

/* one service's `domuctl --json status`, as the daemon renders it */
static char *
status_of(struct service *s)
{
	yajl_gen g = json_gen_new();
	const unsigned char *buf;
	size_t len;
	char *out;

	svc_status_json(s, g, SJ_DEVICES | SJ_FAILURE);
	yajl_gen_get_buf(g, &buf, &len);
	out = xcalloc(1, len + 1);
	memcpy(out, buf, len);
	yajl_gen_free(g);
	return out;
}

static int
status_has(struct service *s, const char *what)
{
	char *st = status_of(s);
	int r = strstr(st, what) != NULL;

	if (!r)
		fprintf(stderr, "status of %s: %s (no %s)\n", s->conf->name, st,
		    what);
	free(st);
	return r;
}

static int
status_lacks(struct service *s, const char *what)
{
	char *st = status_of(s);
	int r = strstr(st, what) == NULL;

	if (!r)
		fprintf(stderr, "status of %s: %s (has %s)\n", s->conf->name,
		    st, what);
	free(st);
	return r;
}

/* how often text occurs in the service's console log (domud's notes) */
static int
log_count(const char *name, const char *text)
{
	char path[600], buf[65536];
	size_t n;
	int count = 0;
	FILE *fp;
	char *p;

	snprintf(path, sizeof(path), "%s/%s.log", logdir, name);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, text)) != NULL; p += strlen(text))
		count++;
	return count;
}

/* `xl destroy` of a running domain: a death, the policy applies, and the
 * reason says whose it was */
START_TEST(destroyed_outside_is_a_death)
{
	const char *names[] = { "onf", "no" },
	    *extras[] = { "restart = on-failure\nrestart_delay = 1s\n",
	    "restart = no\n" };
	struct service *onf, *no;
	uint32_t domid;
	int creates;

	setup_with(names, extras, 2, 1ULL << 30);
	onf = up("onf");
	no = up("no");
	domid = onf->domid;
	fake_destroyed_outside(fb, "onf", domid);
	fake_destroyed_outside(fb, "no", no->domid);
	run();
	ck_assert_int_eq(onf->state, ST_BACKOFF);
	ck_assert_int_eq(onf->last_exit, EXIT_DESTROYED_OUTSIDE);
	ck_assert_str_eq(svc_exit_str(onf->last_exit), "destroyed outside domud");
	ck_assert_ptr_nonnull(strstr(onf->last_error, "destroyed outside domud"));
	ck_assert(status_has(onf, "\"last_exit\":\"destroyed outside domud\""));
	ck_assert(status_has(onf, "\"last_error\":\"domain "));
	/* said in the console log, with the restart that follows */
	ck_assert_int_eq(log_count("onf", "was destroyed outside domud"), 1);
	ck_assert_int_eq(log_count("onf", "destroyed outside domud; restarting"),
	    1);
	/* no destroy of ours for a domain that is gone */
	ck_assert_int_eq(fb->ndestroy, 0);
	creates = fb->ncreate;
	expire(onf);
	ck_assert_int_eq(onf->state, ST_STARTING);
	ck_assert_int_eq(fb->ncreate, creates + 1);
	fake_create_done(fb, "onf", 1);
	run();
	ck_assert_int_eq(onf->state, ST_RUNNING);
	ck_assert_uint_ne(onf->domid, domid);
	/* restart = no: a failure, with the same reason */
	ck_assert_int_eq(no->state, ST_FAILED);
	ck_assert_str_eq(no->failed_reason, "destroyed outside domud");
	teardown();
}
END_TEST

/* `xl pause`: reported once it has lasted, once; cleared on unpause. The
 * domain is left as it is. */
START_TEST(outside_pause_reported)
{
	const char *names[] = { "a" }, *extras[] = { "restart = always\n" };
	struct service *a;
	struct fake_dom *d;

	setup_with(names, extras, 1, 1ULL << 30);
	a = up("a");
	d = fake_dom(fb, a->domid);
	ck_assert_ptr_nonnull(d);
	sup_reconcile(sup);
	ck_assert_int_eq(a->paused, 0);
	ck_assert(status_has(a, "\"xen_state\":\"running\""));
	d->paused = 1;
	/* a moment's pause (xl destroy pauses first) is not reported */
	sup_reconcile(sup);
	ck_assert_int_eq(a->paused, 0);
	ck_assert(status_has(a, "\"xen_state\":\"paused\""));
	ck_assert(status_lacks(a, "\"paused\":true"));
	/* it lasts */
	a->paused_since = mono_ms() - PAUSE_REPORT_MS;
	sup_reconcile(sup);
	ck_assert_int_eq(a->paused, 1);
	ck_assert(status_has(a, "\"paused\":true"));
	sup_reconcile(sup);
	sup_reconcile(sup);
	ck_assert_int_eq(log_count("a", "domud did not pause it"), 1);
	/* nothing was done to it: same domain, running, no stop, no restart */
	ck_assert_int_eq(a->state, ST_RUNNING);
	ck_assert_int_eq(fb->nshutdown + fb->ndestroy, 0);
	d->paused = 0;
	sup_reconcile(sup);
	ck_assert_int_eq(a->paused, 0);
	ck_assert(status_lacks(a, "\"paused\":true"));
	ck_assert_int_eq(log_count("a", "runs again (unpaused)"), 1);
	teardown();
}
END_TEST

/* a memres guest paused by someone else cannot answer pings: its agent is
 * not declared unresponsive (ping_restart would destroy a paused domain),
 * and the clock starts afresh when it runs again */
START_TEST(memres_paused_is_not_unresponsive)
{
	const char *names[] = { "m" },
	    *extras[] = { "memres = yes\nping_timeout = 5s\nping_restart = yes\n" };
	struct service *m;
	int master;

	setup_with(names, extras, 1, 1ULL << 30);
	m = memres_up("m", &master);
	fake_dom(fb, m->domid)->paused = 1;
	sup_reconcile(sup);
	m->paused_since = mono_ms() - PAUSE_REPORT_MS;
	sup_reconcile(sup);
	ck_assert_int_eq(m->paused, 1);
	ck_assert_int_eq(gio_sync(m->con->chan, 5000), 0);
	m->con->chan->ping_sent = mono_ms() - 6000;
	run_io(10);
	ck_assert_int_eq(m->unresponsive, 0);
	ck_assert_int_eq(m->state, ST_RUNNING);
	fake_dom(fb, m->domid)->paused = 0;
	sup_reconcile(sup);
	ck_assert_int_eq(m->paused, 0);
	run_io(10);
	ck_assert_int_eq(m->unresponsive, 0);
	ck_assert_int_eq(m->state, ST_RUNNING);
	close(master);
	teardown();
}
END_TEST

/* a domain someone else made with a service's name: reported, a start is
 * refused with the reason, it is neither adopted nor destroyed */
START_TEST(outside_domain_with_our_name_is_a_conflict)
{
	const char *names[] = { "c", "r" },
	    *extras[] = { "", "restart = always\nrestart_delay = 1s\n" };
	static const uint8_t other[16] = { 9, 9, 9 };
	struct service *c, *r;
	struct err e = ERR_INIT;
	unsigned restarts;

	setup_with(names, extras, 2, 1ULL << 30);
	fb->create_eexist = 1;
	c = sup_find(sup, "c");
	fake_dom_add(fb, "c", 40, other);
	sup_reconcile(sup);
	ck_assert_uint_eq(c->conflict_domid, 40);
	ck_assert(status_has(c, "\"conflict\":\"domain 40 has this name but is "
	    "not domud's (another UUID)\""));
	ck_assert(status_has(c, "\"conflict_domid\":40"));
	ck_assert_int_eq(log_count("c", "conflict: domain 40"), 1);
	sup_reconcile(sup);
	ck_assert_int_eq(log_count("c", "conflict: domain 40"), 1);
	ck_assert_int_eq(sup_start(sup, c, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "start refused: domain 40 has this "
	    "name but is not domud's"));
	ck_assert_int_eq(c->state, ST_STOPPED);
	ck_assert_int_eq(c->last_exit, EXIT_REFUSED);
	ck_assert_uint_eq(c->memory_reserved, 0);
	/* left alone */
	ck_assert_int_eq(fb->nadopt + fb->ndestroy + fb->ncreate, 0);
	ck_assert_ptr_nonnull(fake_dom(fb, 40));
	/* gone: the conflict is over, and a start works */
	fake_dom_remove(fb, 40);
	sup_reconcile(sup);
	ck_assert_uint_eq(c->conflict_domid, 0);
	ck_assert(status_lacks(c, "\"conflict\""));
	ck_assert_int_eq(sup_start(sup, c, &e), 0);
	ck_assert_int_eq(c->state, ST_STARTING);
	/* its own domain while it is built is no conflict */
	fake_dom_add(fb, "c", 41, c->conf->uuid);
	sup_reconcile(sup);
	ck_assert_uint_eq(c->conflict_domid, 0);
	fake_dom_remove(fb, 41);
	fake_create_done(fb, "c", 1);
	run();
	ck_assert_int_eq(c->state, ST_RUNNING);
	ck_assert_uint_eq(c->conflict_domid, 0);

	/* it appears while a service waits to restart: the restart is
	 * refused (not a crash, no budget), and the reason is given at once,
	 * without waiting for the next look */
	r = up("r");
	fake_destroyed_outside(fb, "r", r->domid);
	run();
	ck_assert_int_eq(r->state, ST_BACKOFF);
	restarts = r->restarts;
	fake_dom_add(fb, "r", 50, other);
	expire(r);
	ck_assert_int_eq(r->state, ST_STOPPED);
	ck_assert_int_eq(r->last_exit, EXIT_REFUSED);
	ck_assert_ptr_nonnull(strstr(r->last_error, "domain 50 has this name"));
	ck_assert_uint_eq(r->conflict_domid, 50);
	ck_assert_uint_eq(r->restarts, restarts);
	ck_assert_ptr_nonnull(fake_dom(fb, 50));
	teardown();
}
END_TEST

/* a destroy that does not finish is reported once with the domain's state,
 * a failing one is retried ever more slowly, and the others go on */
START_TEST(stuck_destroy_reported_and_bounded)
{
	const char *names[] = { "s", "other" },
	    *extras[] = { "stop_timeout = 1s\n", "" };
	struct service *s, *other;
	struct err e = ERR_INIT;
	uint64_t delay1, delay2;
	uint32_t domid;

	setup_with(names, extras, 2, 1ULL << 30);
	s = up("s");
	domid = s->domid;
	ck_assert_int_eq(sup_stop(sup, s, &e), 0);
	expire(s);		/* it ignores the shutdown: destroyed */
	ck_assert_int_eq(s->state, ST_DESTROYING);
	ck_assert_int_eq(fb->ndestroy, 1);
	/* the destroy is under way: a timer for its bound, not a retry */
	ck_assert_uint_ne(s->timer_at, 0);
	ck_assert_uint_ge(s->timer_at, s->destroy.started + STUCK_MS);
	fake_dom(fb, domid)->dying = 1;
	fake_dom(fb, domid)->paused = 1;
	s->destroy.started = mono_ms() - STUCK_MS;
	expire(s);
	ck_assert_int_eq(s->destroy.stuck, 1);
	ck_assert_int_eq(fb->ndestroy, 1);	/* not asked again */
	ck_assert_ptr_nonnull(strstr(s->last_error, "is not gone"));
	ck_assert_ptr_nonnull(strstr(s->last_error, "Xen: dying, paused"));
	ck_assert(status_has(s, "\"destroy_stuck\":true"));
	ck_assert(status_has(s, "\"xen_state\":\"dying\""));
	ck_assert(status_has(s, "\"destroy_s\":"));
	ck_assert_int_eq(log_count("s", "is not gone"), 1);
	ck_assert_uint_eq(s->timer_at, 0);
	/* a paused domain under destroy is no outside pause */
	s->paused_since = mono_ms() - PAUSE_REPORT_MS;
	sup_reconcile(sup);
	ck_assert_int_eq(s->paused, 0);
	/* another service starts and runs meanwhile */
	other = up("other");
	ck_assert_int_eq(other->state, ST_RUNNING);
	/* the destroy fails: tried again after 5 s, then 10 s */
	fake_destroy_failed(fb, "s", domid, "destroy: xc_domain_destroy failed");
	run();
	delay1 = s->timer_at - mono_ms();
	ck_assert_uint_ge(delay1, DESTROY_RETRY_MS - 100);
	ck_assert_uint_le(delay1, DESTROY_RETRY_MS);
	expire(s);
	ck_assert_int_eq(fb->ndestroy, 2);
	fake_destroy_failed(fb, "s", domid, "destroy: xc_domain_destroy failed");
	run();
	delay2 = s->timer_at - mono_ms();
	ck_assert_uint_ge(delay2, 2 * DESTROY_RETRY_MS - 100);
	ck_assert_int_eq(log_count("s", "is not gone"), 1);	/* once */
	/* a destroy that cannot even be asked is retried too, not dropped */
	fb->fail_destroy_now = 1;
	expire(s);
	ck_assert_int_eq(s->state, ST_DESTROYING);
	ck_assert_uint_ge(s->timer_at - mono_ms(), 4 * DESTROY_RETRY_MS - 100);
	fb->fail_destroy_now = 0;
	expire(s);
	ck_assert_int_eq(fb->ndestroy, 3);
	fake_destroy_done(fb, "s", domid);
	run();
	ck_assert_int_eq(s->state, ST_STOPPED);
	ck_assert(status_lacks(s, "destroy_stuck"));
	teardown();
}
END_TEST

/* an ended domain that stays dying (a backend holds it) is reported with
 * its state; the service goes on */
START_TEST(dying_domain_reported)
{
	const char *names[] = { "z" }, *extras[] = { "restart = always\n"
	    "restart_delay = 1s\n" };
	struct service *z;
	struct fake_dom *d;
	uint32_t old;

	setup_with(names, extras, 1, 1ULL << 30);
	z = up("z");
	old = z->domid;
	guest_exits("z", z, SR_CRASH);
	ck_assert_int_eq(z->state, ST_BACKOFF);
	/* the destroy is done, but Xen still lists it, dying, nameless */
	d = fake_dom_add(fb, "", old, z->conf->uuid);
	d->dying = 1;
	sup_reconcile(sup);
	ck_assert_uint_eq(z->dying_domid, old);
	ck_assert(status_lacks(z, "dying_domid"));	/* not yet */
	expire(z);
	fake_create_done(fb, "z", 1);
	run();
	ck_assert_int_eq(z->state, ST_RUNNING);
	z->dying_since = mono_ms() - STUCK_MS;
	sup_reconcile(sup);
	ck_assert_int_eq(z->dying_reported, 1);
	ck_assert(status_has(z, "\"dying_domid\":"));
	ck_assert(status_has(z, "\"dying_s\":60"));
	ck_assert_int_eq(log_count("z", "is still dying after"), 1);
	sup_reconcile(sup);
	ck_assert_int_eq(log_count("z", "is still dying after"), 1);
	ck_assert_int_eq(z->state, ST_RUNNING);
	fake_dom_remove(fb, old);
	sup_reconcile(sup);
	ck_assert_uint_eq(z->dying_domid, 0);
	ck_assert_int_eq(log_count("z", "is gone at last"), 1);
	teardown();
}
END_TEST

/* finding 10: the console tty from xenstore is opened only if it is a pty
 * slave under /dev/pts/ */
START_TEST(console_tty_checked)
{
	char out[256], link[600], file[600];
	struct err e = ERR_INIT;
	const char *pts;
	char *dir = t_tmpdir();
	int master;
	FILE *fp;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	pts = ptsname(master);
	ck_assert_int_eq(xen_tty_check(pts, out, sizeof(out), &e), 0);
	ck_assert_str_eq(out, pts);
	/* a symlink to it: what is handed on is the resolved path */
	snprintf(link, sizeof(link), "%s/tty", dir);
	ck_assert_int_eq(symlink(pts, link), 0);
	ck_assert_int_eq(xen_tty_check(link, out, sizeof(out), &e), 0);
	ck_assert_str_eq(out, pts);
	/* a character device elsewhere */
	ck_assert_int_eq(xen_tty_check("/dev/null", out, sizeof(out), &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a pty under /dev/pts/"));
	ck_assert_ptr_nonnull(strstr(e.msg, "refused"));
	/* the multiplexer is a character device under /dev/pts/ too */
	ck_assert_int_eq(xen_tty_check("/dev/pts/ptmx", out, sizeof(out), &e),
	    -1);
	/* a symlink to a file, a regular file, a relative or absent path */
	snprintf(file, sizeof(file), "%s/plain", dir);
	ck_assert_ptr_nonnull(fp = fopen(file, "w"));
	fclose(fp);
	unlink(link);
	ck_assert_int_eq(symlink(file, link), 0);
	ck_assert_int_eq(xen_tty_check(link, out, sizeof(out), &e), -1);
	ck_assert_int_eq(xen_tty_check(file, out, sizeof(out), &e), -1);
	ck_assert_int_eq(xen_tty_check("pts/0", out, sizeof(out), &e), -1);
	ck_assert_int_eq(xen_tty_check("/dev/pts/999999", out, sizeof(out), &e),
	    -1);
	ck_assert_int_eq(e.status, ENOENT);
	close(master);
	t_rmtree(dir);
}
END_TEST

Suite *
service_suite(void)
{
	Suite *s = suite_create("service");
	TCase *tc = tcase_create("lifecycle");

	tcase_add_test(tc, start_stop_graceful);
	tcase_add_test(tc, kernel_cache_off_per_service);
	tcase_add_test(tc, stop_timeout_destroys);
	tcase_add_test(tc, crash_backoff_then_failed);
	tcase_add_test(tc, events_say_why_and_who);
	tcase_add_test(tc, stats_from_the_listing);
	tcase_add_test(tc, metrics_exposition);
	tcase_add_test(tc, poweroff_and_reboot_policies);
	tcase_add_test(tc, admission_refuses);
	tcase_add_test(tc, ordering);
	tcase_add_test(tc, memres_ready_and_stop_through_the_agent);
	tcase_add_test(tc, memres_idle_stop);
	tcase_add_test(tc, stop_is_saved_at_once);
	tcase_add_test(tc, memres_console_reopened);
	tcase_add_test(tc, memres_client_pings_do_not_starve_keepalive);
	tcase_add_test(tc, memres_unanswered_ping_restarts);
	tcase_add_test(tc, memres_idle_pause);
	tcase_add_test(tc, health_exec_probe);
	tcase_add_test(tc, health_tcp_probe);
	tcase_add_test(tc, create_failure_undone);
	tcase_add_test(tc, stale_events_ignored);
	tcase_add_test(tc, reload_applies_difference);
	tcase_add_test(tc, adoption);
	tcase_add_test(tc, standby_start_is_an_unpause);
	tcase_add_test(tc, standby_refused_by_admission);
	tcase_add_test(tc, standby_left_by_last_domud);
	tcase_add_test(tc, refused_by_the_machine);
	tcase_add_test(tc, max_domus_refuses);
	tcase_add_test(tc, pools_made_adopted_removed);
	tcase_add_test(tc, shutdown_deadline_and_keep_running);
	tcase_add_test(tc, state_survives_a_daemon_restart);
	tcase_add_test(tc, state_of_an_earlier_boot_ignored);
	tcase_add_test(tc, restart_stable_resets_backoff);
	tcase_add_test(tc, destroyed_outside_is_a_death);
	tcase_add_test(tc, outside_pause_reported);
	tcase_add_test(tc, memres_paused_is_not_unresponsive);
	tcase_add_test(tc, outside_domain_with_our_name_is_a_conflict);
	tcase_add_test(tc, stuck_destroy_reported_and_bounded);
	tcase_add_test(tc, dying_domain_reported);
	tcase_add_test(tc, console_tty_checked);
	suite_add_tcase(s, tc);
	return s;
}
