// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * update = yes over the fake backend: stage, switch, the trial's verdicts,
 * and the record across a crash at every one of its writes (the next
 * domud must find one slot to run, whole, and no stray directory).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fileio.h"
#include "chan/frame.h"
#include "base/json.h"
#include "base/util.h"
#include "core/events.h"
#include "core/metrics.h"
#include "core/supervisor.h"
#include "fake_backend.h"
#include "helpers.h"

static struct fake_backend *fb;
static struct supervisor *sup;
static char *dir;

static const char *svc_text = "[service]\nkernel = /dev/null\nmemory = 64M\n"
    "update = yes\nupdate_window = 10s\nrestart = on-failure\n"
    "cmdline = console=hvc0 v=1\n";

static void
boot(const char *extra)
{
	struct config *cfg = config_new("domud.conf");
	char t[512];

	free(cfg->d.log_dir);
	cfg->d.log_dir = xstrdup(dir);
	free(cfg->d.state_dir);
	cfg->d.state_dir = xstrdup(dir);
	snprintf(t, sizeof(t), "%s%s", svc_text, extra);
	config_add_service(cfg, t_service(cfg, "u", t));
	config_finish(cfg);
	ck_assert_uint_eq(cfg->errors, 0);
	fb = fake_new(1ULL << 30);
	sup = sup_new(&fb->be, cfg);
}

static void
halt(void)
{
	sup_free(sup);
	fb->be.ops->free(&fb->be);
	sup = NULL;
	fb = NULL;
}

static void
run(void)
{
	fb->be.ops->after_poll(&fb->be, NULL, 0);
	sup_after_poll(sup, NULL, 0);
}

static struct service *
up(void)
{
	struct service *s = sup_find(sup, "u");
	struct err e = ERR_INIT;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sup_start(sup, s, &e), 0);
	fake_create_done(fb, "u", 1);
	run();
	ck_assert_int_eq(s->state, ST_RUNNING);
	return s;
}

/* a file of text, opened for a stage */
static int
file_fd(const char *name, const char *text)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/src-%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write_all(fd, text, strlen(text)), 0);
	return fd;
}

/* stage a kernel (and a ramdisk) and wait for its thread: 0 staged */
static int
stage(struct service *s, const char *kernel_text)
{
	struct upd_stage_req r;
	struct pollfd p;
	char why[256];

	memset(&r, 0, sizeof(r));
	r.fds[0] = file_fd("kernel", kernel_text);
	strlcpy_(r.names[0], "kernel", sizeof(r.names[0]));
	r.fds[1] = file_fd("ramdisk", "initramfs v2");
	strlcpy_(r.names[1], "ramdisk", sizeof(r.names[1]));
	r.n = 2;
	if (update_stage(s, &r, why, sizeof(why)) == -1)
		return -1;
	ck_assert_int_eq(s->upd.state, UPS_STAGING);
	p.fd = s->upd.stage_fd;
	p.events = POLLIN;
	ck_assert_int_eq(poll(&p, 1, 10000), 1);
	update_after_poll(s, &p, 1);
	return s->upd.state == UPS_STAGED ? 0 : -1;
}

/*
 * A switch's handover (update_ahead): the new slot's domain is built,
 * paused, while the old one serves; then the old one stops and the new
 * one is renamed and unpaused
 */
static void
switched(struct service *s)
{
	int nstandby = fb->nstandby, nactivate = fb->nactivate;
	uint32_t old = s->domid, domid;

	ck_assert_int_eq(s->upd.ahead, AHEAD_BUILDING);
	run();
	ck_assert_int_eq(fb->nstandby, nstandby + 1);
	ck_assert_int_eq(s->state, ST_RUNNING);
	ck_assert_uint_eq(s->domid, old);
	domid = fake_standby_done(fb, "u", 1);
	run();
	ck_assert_int_eq(s->state, ST_STOPPING);
	fake_shutdown(fb, "u", old, SR_POWEROFF);
	run();
	fake_destroy_done(fb, "u", old);
	run();
	ck_assert_int_eq(s->state, ST_RUNNING);
	ck_assert_int_eq(fb->nactivate, nactivate + 1);
	ck_assert_uint_eq(s->domid, domid);
	ck_assert_int_eq(s->upd.ahead, AHEAD_NONE);
}

/* the restart a switch or a rollback asks: graceful stop, then create */
static void
restarted(struct service *s)
{
	uint32_t domid = s->domid;

	ck_assert_int_eq(s->state, ST_STOPPING);
	fake_shutdown(fb, "u", domid, SR_POWEROFF);
	run();
	fake_destroy_done(fb, "u", domid);
	run();
	ck_assert_int_eq(s->state, ST_STARTING);
	fake_create_done(fb, "u", 1);
	run();
	ck_assert_int_eq(s->state, ST_RUNNING);
}

/* an event of the history into state `to`, its reason beginning with
 * `why` */
static int
went(const char *to, const char *why)
{
	size_t i;

	for (i = 0; i < sup->events.n; i++) {
		const struct event *e = events_at(&sup->events, i);

		if (strcmp(e->to, to) == 0 &&
		    strncmp(e->reason, why, strlen(why)) == 0)
			return 1;
	}
	return 0;
}

/* the service's status (its slot) and the metrics hold what */
static int
status_says(struct service *s, const char *what)
{
	yajl_gen g = json_gen_new();
	const unsigned char *buf;
	size_t len;
	int found;

	svc_status_json(s, g, 0);
	yajl_gen_get_buf(g, &buf, &len);
	found = memmem(buf, len, what, strlen(what)) != NULL;
	yajl_gen_free(g);
	return found;
}

static int
metrics_say(const char *what)
{
	size_t len;
	char *m = metrics_render(sup, &len);
	int found = strstr(m, what) != NULL;

	free(m);
	return found;
}

static void
window_ends(struct service *s)
{
	ck_assert_uint_ne(s->upd.trial_end, 0);
	s->upd.trial_end = mono_ms();
	run();
}

START_TEST(stage_switch_commit)
{
	struct service *s;
	char want[600], why[256];
	const struct slot_file *f;
	uint8_t d[SLOT_SHA256_LEN];

	dir = t_tmpdir();
	boot("");
	s = up();
	ck_assert_str_eq(fb->last_kernel, "/dev/null");
	/* the service's own kernel: the cache hashes it */
	ck_assert_int_eq(fb->last_has_kernel_sha256, 0);
	ck_assert_int_eq(stage(s, "kernel v2"), 0);
	ck_assert_int_eq(s->upd.slots[1].state, SL_STAGED);
	ck_assert_uint_eq(s->upd.slots[1].m.nfiles, 2);
	/* staged is not running: the same domain, the factory slot */
	ck_assert_int_eq(s->upd.active, 0);
	/* a failed service is not switched (no slot to fall back on) */
	s->state = ST_FAILED;
	ck_assert_int_eq(update_switch(s, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "has failed"));
	s->state = ST_RUNNING;
	ck_assert_int_eq(update_switch(s, why, sizeof(why)), 0);
	ck_assert_int_eq(s->upd.state, UPS_TRIAL);
	switched(s);
	snprintf(want, sizeof(want), "%s/update/u/%s/kernel", dir,
	    s->upd.slots[1].gen);
	ck_assert_str_eq(fb->last_kernel, want);
	/* the slot's kernel: its digest as the stage took it, for the cache */
	f = slot_manifest_find(&s->upd.slots[1].m, "kernel");
	ck_assert_ptr_nonnull(f);
	memcpy(d, f->sha256, sizeof(d));
	ck_assert_int_eq(fb->last_has_kernel_sha256, 1);
	ck_assert(memcmp(fb->last_kernel_sha256, d, sizeof(d)) == 0);
	ck_assert_uint_eq(s->upd.trial_domid, s->domid);
	/* a second switch, a stage during the trial: refused */
	ck_assert_int_eq(update_switch(s, why, sizeof(why)), -1);
	ck_assert_int_eq(stage(s, "kernel v3"), -1);
	ck_assert(status_says(s, "\"slot\":\"b\",\"update\":\"trial\""));
	ck_assert(metrics_say("domud_update_trial{service=\"u\"} 1\n"));
	window_ends(s);
	ck_assert_int_eq(s->upd.state, UPS_IDLE);
	ck_assert_int_eq(s->upd.slots[1].state, SL_GOOD);
	ck_assert_str_eq(s->upd.last_result, "committed");
	ck_assert(status_says(s, "\"slot\":\"b\",\"update\":\"idle\""));
	ck_assert(metrics_say("domud_update_active_slot{service=\"u\"} 1\n"));
	ck_assert(metrics_say("domud_update_commits_total{service=\"u\"} 1\n"));
	ck_assert(metrics_say("domud_update_trial{service=\"u\"} 0\n"));
	/* the record says so to the next domud */
	halt();
	boot("");
	s = sup_find(sup, "u");
	ck_assert_int_eq(s->upd.active, 1);
	ck_assert_int_eq(s->upd.trial, 0);
	ck_assert_int_eq(s->upd.slots[1].state, SL_GOOD);
	up();
	ck_assert_str_eq(fb->last_kernel, want);
	/* ... and the digest its record keeps */
	ck_assert_int_eq(fb->last_has_kernel_sha256, 1);
	ck_assert(memcmp(fb->last_kernel_sha256, d, sizeof(d)) == 0);
	halt();
	t_rmtree(dir);
}
END_TEST

/* each way a trial fails: back to slot a, b bad with its log kept */
static void
trial_fails(int how)
{
	struct service *s;
	char why[256], *log;
	uint32_t domid;

	dir = t_tmpdir();
	boot("");
	s = up();
	ck_assert_int_eq(stage(s, "kernel v2"), 0);
	ck_assert_int_eq(update_switch(s, why, sizeof(why)), 0);
	switched(s);
	domid = s->domid;
	switch (how) {
	case 0:	/* it crashes within its window */
		fake_shutdown(fb, "u", domid, SR_CRASH);
		run();
		fake_destroy_done(fb, "u", domid);
		run();
		/* the old slot at once, not the restart policy's backoff */
		ck_assert_int_eq(s->state, ST_STARTING);
		ck_assert_ptr_nonnull(strstr(s->upd.slots[1].why, "crash"));
		break;
	case 1:	/* by hand */
		ck_assert_int_eq(update_rollback(s, why, sizeof(why)), 0);
		ck_assert_int_eq(s->state, ST_STOPPING);
		fake_shutdown(fb, "u", domid, SR_POWEROFF);
		run();
		fake_destroy_done(fb, "u", domid);
		run();
		break;
	case 2:	/* its probe fails (the verdict as health.c gives it; the
		 * probe itself is health's own test) */
		s->conf->health = HEALTH_TCP;
		s->health.state = HS_UNHEALTHY;
		run();
		s->conf->health = HEALTH_NONE;
		ck_assert_int_eq(s->state, ST_STOPPING);
		fake_shutdown(fb, "u", domid, SR_POWEROFF);
		run();
		fake_destroy_done(fb, "u", domid);
		run();
		break;
	case 3:	/* the window ends and its probe has not passed yet: the
		 * verdict is the next probe's (one begun after the end) */
		s->conf->health = HEALTH_TCP;
		window_ends(s);
		ck_assert_int_eq(s->state, ST_RUNNING);
		s->health.checks++;
		run();
		s->conf->health = HEALTH_NONE;
		ck_assert_int_eq(s->state, ST_STOPPING);
		fake_shutdown(fb, "u", domid, SR_POWEROFF);
		run();
		fake_destroy_done(fb, "u", domid);
		run();
		break;
	}
	ck_assert_int_eq(s->upd.active, 0);
	ck_assert_int_eq(s->upd.slots[1].state, SL_BAD);
	ck_assert_str_eq(s->upd.last_result, "rolled-back");
	ck_assert(metrics_say("domud_update_rollbacks_total{service=\"u\"} 1\n"));
	fake_create_done(fb, "u", 1);
	run();
	ck_assert_int_eq(s->state, ST_RUNNING);
	ck_assert_str_eq(fb->last_kernel, "/dev/null");
	ck_assert_str_eq(fb->last_cmdline, "console=hvc0 v=1");
	/* the log of the run that failed is kept with its slot */
	log = update_slot_log(s, "b");
	ck_assert_ptr_nonnull(log);
	ck_assert_int_eq(access(log, R_OK), 0);
	free(log);
	/* a bad slot is not switched to again */
	ck_assert_int_eq(update_switch(s, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "bad"));
	halt();
	t_rmtree(dir);
}

START_TEST(rollback_on_crash)
{
	trial_fails(0);
}
END_TEST

START_TEST(rollback_by_hand)
{
	trial_fails(1);
}
END_TEST

START_TEST(rollback_on_failed_probe)
{
	trial_fails(2);
}
END_TEST

START_TEST(rollback_when_window_ends_unhealthy)
{
	trial_fails(3);
}
END_TEST

/* with a probe, the window starts at its first pass; a probe that never
 * passes ends the trial once health_start_period and a window are over */
START_TEST(probed_window_from_first_pass)
{
	struct service *s;
	char why[256];
	int pass;

	for (pass = 1; pass >= 0; pass--) {
		dir = t_tmpdir();
		boot("");
		s = up();
		s->conf->health = HEALTH_TCP;	/* the verdicts, set below */
		ck_assert_int_eq(stage(s, "kernel v2"), 0);
		ck_assert_int_eq(update_switch(s, why, sizeof(why)), 0);
		s->conf->health = HEALTH_NONE;	/* no probe of the fake's */
		switched(s);
		s->conf->health = HEALTH_TCP;
		/* made while no probe was set: as a probed one would be */
		s->upd.trial_end = 0;
		s->upd.ready_by = mono_ms() + 60000;
		run();
		ck_assert_uint_eq(s->upd.trial_end, 0);
		if (pass) {
			s->health.state = HS_HEALTHY;
			run();
			ck_assert_uint_ne(s->upd.trial_end, 0);
			/* the window is over, a probe is under way: it began
			 * before the end, the one after it decides */
			s->health.probe_at = mono_ms();
			window_ends(s);
			ck_assert_int_eq(s->upd.state, UPS_TRIAL);
			s->health.checks++;
			s->health.last_ok = 1;
			run();
			ck_assert_int_eq(s->upd.state, UPS_TRIAL);
			/* a failed one: not yet a verdict, the next one's */
			s->health.checks++;
			s->health.last_ok = 0;
			run();
			ck_assert_int_eq(s->upd.state, UPS_TRIAL);
			s->health.checks++;
			s->health.last_ok = 1;
			run();
			ck_assert_str_eq(s->upd.last_result, "committed");
		} else {
			s->upd.ready_by = mono_ms();
			run();
			ck_assert_str_eq(s->upd.last_result, "rolled-back");
			ck_assert_ptr_nonnull(strstr(s->upd.slots[1].why,
			    "never passed"));
		}
		s->conf->health = HEALTH_NONE;
		halt();
		t_rmtree(dir);
	}
}
END_TEST

/* a slot's disk: staged as disk:VDEV, given to the domain from the slot */
START_TEST(disk_from_the_slot)
{
	struct upd_stage_req r;
	struct service *s;
	struct pollfd p;
	char why[256], buf[512];
	const char *path;

	dir = t_tmpdir();
	boot("[disk:root]\npath = /dev/null\nvdev = xvda\naccess = ro\n");
	s = up();
	memset(&r, 0, sizeof(r));
	r.fds[0] = file_fd("kernel", "kernel v2");
	strlcpy_(r.names[0], "kernel", sizeof(r.names[0]));
	r.fds[1] = file_fd("disk", "a root filesystem");
	strlcpy_(r.names[1], "disk:xvda", sizeof(r.names[1]));
	r.n = 2;
	ck_assert_int_eq(update_stage(s, &r, why, sizeof(why)), 0);
	p.fd = s->upd.stage_fd;
	p.events = POLLIN;
	ck_assert_int_eq(poll(&p, 1, 10000), 1);
	update_after_poll(s, &p, 1);
	ck_assert_int_eq(s->upd.state, UPS_STAGED);
	/* before the switch the service file's disk */
	ck_assert_ptr_null(update_disk(s, "xvda", buf, sizeof(buf)));
	ck_assert_int_eq(update_switch(s, why, sizeof(why)), 0);
	path = update_disk(s, "xvda", buf, sizeof(buf));
	ck_assert_ptr_nonnull(path);
	ck_assert_msg(access(path, R_OK) == 0, "%s: no such file", path);
	halt();
	t_rmtree(dir);
}
END_TEST

/* a trial that reboots, or whose start is refused, is over: the old slot */
START_TEST(reboot_or_refusal_ends_a_trial)
{
	struct service *s;
	char why[256];
	uint32_t domid;

	dir = t_tmpdir();
	boot("");
	s = up();
	ck_assert_int_eq(stage(s, "kernel v2"), 0);
	ck_assert_int_eq(update_switch(s, why, sizeof(why)), 0);
	switched(s);
	domid = s->domid;
	fake_shutdown(fb, "u", domid, SR_REBOOT);
	run();
	fake_destroy_done(fb, "u", domid);
	run();
	ck_assert_str_eq(s->upd.last_result, "rolled-back");
	ck_assert_ptr_nonnull(strstr(s->upd.slots[1].why, "reboot"));
	fake_create_done(fb, "u", 1);
	run();
	ck_assert_str_eq(fb->last_kernel, "/dev/null");
	/* staged again, switched, and the machine refuses its start */
	ck_assert_int_eq(stage(s, "kernel v3"), 0);
	fb->refuse_create = 1;
	ck_assert_int_eq(update_switch(s, why, sizeof(why)), 0);
	/* not built ahead either: the old one stops first */
	run();
	(void)fake_standby_done(fb, "u", 0);
	run();
	ck_assert_int_eq(s->upd.ahead, AHEAD_NONE);
	ck_assert_int_eq(s->state, ST_STOPPING);
	domid = s->domid;
	fake_shutdown(fb, "u", domid, SR_POWEROFF);
	run();
	fake_destroy_done(fb, "u", domid);
	run();
	ck_assert_str_eq(s->upd.last_result, "rolled-back");
	ck_assert_ptr_nonnull(strstr(s->upd.slots[1].why, "refused"));
	ck_assert_int_eq(s->upd.active, 0);
	halt();
	t_rmtree(dir);
}
END_TEST

/* a record that does not read: nothing of the store is touched, no stage */
START_TEST(unreadable_record_touches_nothing)
{
	struct service *s;
	char path[512], why[256];
	struct err e = ERR_INIT;

	dir = t_tmpdir();
	boot("");
	s = up();
	ck_assert_int_eq(stage(s, "kernel v2"), 0);
	snprintf(path, sizeof(path), "%s/update/u/%s/kernel", dir,
	    s->upd.slots[1].gen);
	halt();
	snprintf(why, sizeof(why), "%s/update/u", dir);
	ck_assert_int_eq(fileio_write_atomic(why, "update.json", "{not json",
	    9, 0600, &e), 0);
	boot("");
	s = sup_find(sup, "u");
	ck_assert_int_eq(s->upd.broken, 1);
	ck_assert_msg(access(path, R_OK) == 0, "%s was removed", path);
	ck_assert_int_eq(stage(s, "kernel v3"), -1);
	halt();
	t_rmtree(dir);
}
END_TEST

/* update_key: a stage without a signed manifest is refused, and leaves
 * nothing in the store */
START_TEST(stage_refused_leaves_nothing)
{
	struct service *s;
	char key[512], extra[600];
	struct err e = ERR_INIT;
	struct dirent *de;
	DIR *d;
	int n = 0;

	dir = t_tmpdir();
	snprintf(key, sizeof(key), "%s/key.pub", dir);
	ck_assert_int_eq(fileio_write_atomic(dir, "key.pub", "untrusted "
	    "comment: k\nRWQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAA\n", 84, 0600, &e), 0);
	snprintf(extra, sizeof(extra), "update_key = %s\n", key);
	boot(extra);
	s = up();
	ck_assert_int_eq(stage(s, "kernel v2"), -1);
	ck_assert_str_eq(s->upd.last_result, "refused");
	ck_assert_ptr_nonnull(strstr(s->upd.last_reason, "signed manifest"));
	ck_assert(metrics_say("domud_update_refused_total{service=\"u\"} 1\n"));
	ck_assert_int_eq(s->upd.state, UPS_IDLE);
	snprintf(key, sizeof(key), "%s/update/u", dir);
	d = opendir(key);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	ck_assert_int_eq(n, 0);
	halt();
	t_rmtree(dir);
}
END_TEST

/*
 * update_ahead: while the new slot's domain is built the old one serves
 * and its end is the switch's start, not the trial's failure; with
 * update_ahead = no, or a writable disk of the service's own, the old
 * domain stops first
 */
START_TEST(switch_builds_ahead)
{
	struct service *s;
	char why[256];
	uint32_t old;
	int how;

	for (how = 0; how < 3; how++) {
		dir = t_tmpdir();
		boot(how == 1 ? "update_ahead = no\n" : how == 2 ?
		    "[disk:data]\npath = /dev/null\nvdev = xvdb\n" : "");
		s = up();
		old = s->domid;
		ck_assert_int_eq(stage(s, "kernel v2"), 0);
		ck_assert_int_eq(update_switch(s, why, sizeof(why)), 0);
		run();
		if (how > 0) {
			ck_assert_int_eq(s->upd.ahead, AHEAD_NONE);
			ck_assert_int_eq(fb->nstandby, 0);
			restarted(s);
			ck_assert_uint_eq(s->upd.trial_domid, s->domid);
			halt();
			t_rmtree(dir);
			continue;
		}
		/* the old one crashes while the new one is built: started
		 * now, from the new slot, and still on trial */
		ck_assert_int_eq(fb->nstandby, 1);
		ck_assert_int_eq(s->state, ST_RUNNING);
		fake_shutdown(fb, "u", old, SR_CRASH);
		run();
		fake_destroy_done(fb, "u", old);
		run();
		ck_assert_int_eq(s->state, ST_STARTING);
		ck_assert_int_eq(s->upd.state, UPS_TRIAL);
		ck_assert_int_eq(s->upd.active, 1);
		fake_create_done(fb, "u", 1);
		run();
		ck_assert_int_eq(s->state, ST_RUNNING);
		ck_assert_uint_eq(s->upd.trial_domid, s->domid);
		/* the standby built after it is not used: it goes */
		(void)fake_standby_done(fb, "u", 1);
		run();
		run();
		ck_assert_int_eq(s->sb.state, SB_DESTROYING);
		ck_assert_int_eq(fb->nactivate, 0);
		window_ends(s);
		ck_assert_str_eq(s->upd.last_result, "committed");
		halt();
		t_rmtree(dir);
	}
}
END_TEST

/* a person's stop while the new domain is built: staged again, the
 * standby goes; a rollback by hand then leaves the old domain running */
START_TEST(stop_while_built_ahead)
{
	struct service *s;
	struct err e = ERR_INIT;
	char why[256];
	uint32_t old;

	dir = t_tmpdir();
	boot("");
	s = up();
	old = s->domid;
	ck_assert_int_eq(stage(s, "kernel v2"), 0);
	ck_assert_int_eq(update_switch(s, why, sizeof(why)), 0);
	run();
	ck_assert_int_eq(update_rollback(s, why, sizeof(why)), 0);
	ck_assert_int_eq(s->state, ST_RUNNING);
	ck_assert_uint_eq(s->domid, old);
	ck_assert_int_eq(s->upd.active, 0);
	(void)fake_standby_done(fb, "u", 1);
	run();
	run();
	ck_assert_int_eq(s->sb.state, SB_DESTROYING);
	ck_assert_int_eq(s->state, ST_RUNNING);
	/* staged again (restaged after the bad mark), switched, stopped */
	ck_assert_int_eq(stage(s, "kernel v3"), 0);
	fake_destroy_done(fb, "u", s->sb.domid);
	run();
	ck_assert_int_eq(update_switch(s, why, sizeof(why)), 0);
	run();
	ck_assert_int_eq(s->upd.ahead, AHEAD_BUILDING);
	ck_assert_int_eq(sup_stop(sup, s, &e), 0);
	fake_shutdown(fb, "u", old, SR_POWEROFF);
	run();
	fake_destroy_done(fb, "u", old);
	run();
	ck_assert_int_eq(s->state, ST_STOPPED);
	ck_assert_int_eq(s->upd.active, 0);
	ck_assert_int_eq(s->upd.slots[1].state, SL_STAGED);
	(void)fake_standby_done(fb, "u", 1);
	run();
	run();
	ck_assert_int_eq(s->sb.state, SB_DESTROYING);
	halt();
	t_rmtree(dir);
}
END_TEST

/*
 * domud killed in a switch: the next one adopts the old domain. Built
 * ahead, it serves on (the trial rolled back); asked to stop, it is
 * restarted on the old slot, or its poweroff would leave the service
 * stopped (seen on arm64 in e2e update/kill-anywhere)
 */
START_TEST(kill_in_switch)
{
	struct service *s;
	struct be_found *f;
	char why[256];
	uint8_t uuid[16];
	uint32_t old;
	int ahead;

	for (ahead = 1; ahead >= 0; ahead--) {
		dir = t_tmpdir();
		boot(ahead ? "" : "update_ahead = no\n");
		s = up();
		old = s->domid;
		memcpy(uuid, s->conf->uuid, sizeof(uuid));
		ck_assert_int_eq(stage(s, "kernel v2"), 0);
		ck_assert_int_eq(update_switch(s, why, sizeof(why)), 0);
		run();
		ck_assert_int_eq(s->state, ahead ? ST_RUNNING : ST_STOPPING);
		halt();
		boot(ahead ? "" : "update_ahead = no\n");
		f = &fb->found[fb->nfound++];
		memset(f, 0, sizeof(*f));
		f->domid = old;
		strcpy(f->name, "u");
		memcpy(f->uuid, uuid, sizeof(uuid));
		strcpy(f->tag, "u");
		f->has_config = 1;
		(void)fake_dom_add(fb, "u", old, uuid);
		sup_adopt(sup);
		sup_load(sup);
		s = sup_find(sup, "u");
		ck_assert_int_eq(s->upd.trial, 0);
		ck_assert_int_eq(s->upd.active, 0);
		ck_assert_str_eq(s->upd.last_result, "rolled-back");
		if (ahead) {
			ck_assert_int_eq(s->state, ST_RUNNING);
			ck_assert_uint_eq(s->domid, old);
		} else {
			/* the switch's restart, on the old slot */
			restarted(s);
			ck_assert_int_eq(fb->ncreate, 1);
		}
		halt();
		t_rmtree(dir);
	}
}
END_TEST

/* ---- booted ahead (update_ahead = boot) ---------------------------------- */

/* the loop with its file descriptors: the consoles are read */
static void
run_io(int ms)
{
	t_run_io(sup, fb, ms);
}

/* a PTY for the next console domud opens; its master */
static int
next_console(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);

	ck_assert_int_ge(m, 0);
	ck_assert_int_eq(grantpt(m), 0);
	ck_assert_int_eq(unlockpt(m), 0);
	strlcpy_(fb->console_tty, ptsname(m), sizeof(fb->console_tty));
	return m;
}

static void
agent_hello(int master)
{
	struct frame f = { FT_HELLO, 0, 0, 0, 0, NULL };
	uint8_t buf[FRAME_MAX];
	size_t n;

	f.data = (const uint8_t *)"domud-agent 1 test 0003";
	f.len = (uint16_t)strlen((const char *)f.data);
	n = frame_encode(buf, &f);
	ck_assert_int_eq(write(master, buf, n), (ssize_t)n);
}

static int
file_has(const char *path, const char *what)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, what) != NULL;
}

/* a memres service's switch: the new domain is built, unpaused under its
 * standby name with its console read (NAME.log.next), paused once its
 * agent answers; only then does the old one stop */
static uint32_t
booted_ahead(struct service *s, int *m_new)
{
	char why[256];
	uint32_t old = s->domid, domid;

	ck_assert_int_eq(update_switch(s, why, sizeof(why)), 0);
	run();
	ck_assert_int_eq(s->upd.ahead, AHEAD_BUILDING);
	*m_new = next_console();
	domid = fake_standby_done(fb, "u", 1);
	run();
	ck_assert_int_eq(s->sb.state, SB_BOOTING);
	ck_assert_int_eq(fake_dom(fb, domid)->paused, 0);
	ck_assert_ptr_nonnull(s->sb.con);
	ck_assert_int_eq(s->state, ST_RUNNING);
	ck_assert_uint_eq(s->domid, old);
	ck_assert(status_says(s, "\"standby\":\"booting\""));
	ck_assert_int_eq(write(*m_new, "NEW-BOOT-LINE\r\n", 15), 15);
	return domid;
}

/* booted ahead, its agent answered: the handover at the next round */
static void
handed_over(struct service *s, uint32_t old, uint32_t domid, int m_new)
{
	int i;

	agent_hello(m_new);
	for (i = 0; i < 40 && s->domid == old; i++)
		run_io(20);
	ck_assert_uint_eq(s->domid, domid);
	ck_assert_int_eq(s->rt.state, RT_STOPPING);
}

START_TEST(switch_boots_ahead)
{
	struct service *s;
	char path[1024];
	uint32_t old, domid;
	int m_old, m_new, nsh;

	dir = t_tmpdir();
	boot("memres = yes\n");
	m_old = next_console();
	s = up();
	old = s->domid;
	ck_assert_int_eq(stage(s, "kernel v2"), 0);
	domid = booted_ahead(s, &m_new);
	nsh = fb->nshutdown;
	/* answered, paused, then at the next round the handover: the old
	 * domain steps aside, unstopped, and the new one takes its name */
	handed_over(s, old, domid, m_new);
	ck_assert_int_eq(s->state, ST_RUNNING);
	ck_assert_int_eq(fb->nactivate, 1);
	ck_assert_int_eq(fb->nretire, 1);
	ck_assert_int_eq(fake_dom(fb, domid)->paused, 0);
	ck_assert_str_eq(fake_dom(fb, domid)->name, "u");
	ck_assert_str_eq(fake_dom(fb, old)->name, "u@retiring");
	ck_assert_int_eq(s->rt.state, RT_STOPPING);
	ck_assert_uint_eq(s->rt.domid, old);
	ck_assert_int_eq(fb->nshutdown, nsh + 1);
	ck_assert(status_says(s, "\"retiring_domid\":"));
	ck_assert(went("starting", "handover"));
	ck_assert(!went("stopping", ""));
	/* its boot's log is the run's */
	ck_assert_ptr_null(s->sb.con);
	snprintf(path, sizeof(path), "%s/u.log", dir);
	ck_assert(file_has(path, "NEW-BOOT-LINE"));
	snprintf(path, sizeof(path), "%s/u.log.next", dir);
	ck_assert_int_eq(access(path, F_OK), -1);
	/* the old one powers off aside and is destroyed then; no standby is
	 * built beside it meanwhile */
	fake_shutdown(fb, "u", old, SR_POWEROFF);
	run();
	ck_assert_int_eq(s->rt.state, RT_DESTROYING);
	ck_assert_uint_eq(fb->last_destroy, old);
	ck_assert_int_eq(s->state, ST_RUNNING);
	ck_assert_uint_eq(s->domid, domid);
	fake_destroy_done(fb, "u", old);
	run();
	ck_assert_int_eq(s->rt.state, RT_NONE);
	ck_assert_uint_eq(s->upd.trial_domid, domid);
	window_ends(s);
	ck_assert_str_eq(s->upd.last_result, "committed");
	close(m_old);
	close(m_new);
	halt();
	t_rmtree(dir);
}
END_TEST

/*
 * The retiring domain may still hold the old slot's disks: a rollback's
 * build waits until it is gone. A domud killed while one retires finds it
 * (its name, its tag) and sees its poweroff through.
 */
START_TEST(handover_retiring_domain)
{
	struct service *s;
	struct be_found *f;
	uint8_t uuid[16];
	uint32_t old, domid;
	int m_old, m_new, ncreate, nsh;

	dir = t_tmpdir();
	boot("memres = yes\n");
	m_old = next_console();
	s = up();
	old = s->domid;
	ck_assert_int_eq(stage(s, "kernel v2"), 0);
	domid = booted_ahead(s, &m_new);
	handed_over(s, old, domid, m_new);
	/* the new version crashes in its trial: back to slot a, once the
	 * old domain is gone */
	ncreate = fb->ncreate;
	fake_shutdown(fb, "u", domid, SR_CRASH);
	run();
	fake_destroy_done(fb, "u", domid);
	run();
	ck_assert_str_eq(s->upd.last_result, "rolled-back");
	ck_assert_int_eq(s->upd.active, 0);
	ck_assert_int_eq(s->state, ST_WAITING);
	ck_assert_int_eq(fb->ncreate, ncreate);
	ck_assert_int_eq(s->sb.state, SB_NONE);	/* nor a standby */
	fake_shutdown(fb, "u", old, SR_POWEROFF);
	run();
	/* dead, its destroy (its disks) not done yet: still waiting */
	fake_died(fb, "u", old);
	run();
	ck_assert_int_eq(s->rt.state, RT_DESTROYING);
	ck_assert_int_eq(s->state, ST_WAITING);
	fake_destroy_done(fb, "u", old);
	run();
	ck_assert_int_eq(s->rt.state, RT_NONE);
	ck_assert_int_eq(s->state, ST_STARTING);
	ck_assert_int_eq(fb->ncreate, ncreate + 1);
	fake_create_done(fb, "u", 1);
	run();
	ck_assert_int_eq(s->state, ST_RUNNING);
	close(m_old);
	close(m_new);
	halt();
	t_rmtree(dir);

	/* killed while the old domain retires */
	dir = t_tmpdir();
	boot("memres = yes\n");
	m_old = next_console();
	s = up();
	old = s->domid;
	memcpy(uuid, s->conf->uuid, sizeof(uuid));
	ck_assert_int_eq(stage(s, "kernel v2"), 0);
	domid = booted_ahead(s, &m_new);
	handed_over(s, old, domid, m_new);
	halt();
	boot("memres = yes\n");
	f = &fb->found[fb->nfound++];
	memset(f, 0, sizeof(*f));
	f->domid = old;
	strcpy(f->name, "u@retiring");
	memcpy(f->uuid, uuid, sizeof(uuid));
	strcpy(f->tag, "u");
	f->standby = 1;
	f->has_config = 1;
	(void)fake_dom_add(fb, "u@retiring", old, uuid);
	nsh = fb->nshutdown;
	sup_adopt(sup);
	s = sup_find(sup, "u");
	ck_assert_int_eq(s->rt.state, RT_STOPPING);
	ck_assert_uint_eq(s->rt.domid, old);
	ck_assert_int_eq(fb->nadopt, 1);
	ck_assert_int_eq(fb->nshutdown, nsh + 1);
	ck_assert_int_eq(fb->ndestroy, 0);
	/* past its stop_timeout: destroyed */
	s->rt.deadline = mono_ms();
	run();
	ck_assert_int_eq(s->rt.state, RT_DESTROYING);
	ck_assert_uint_eq(fb->last_destroy, old);
	close(m_old);
	close(m_new);
	halt();
	t_rmtree(dir);
}
END_TEST

/*
 * The new version fails while it boots ahead (crashes; its agent silent):
 * rolled back with the reason, its boot's log kept as the slot's, and the
 * old domain never stopped
 */
START_TEST(boot_ahead_failure_keeps_old)
{
	struct service *s;
	char path[1024];
	uint32_t old, domid;
	int m_old, m_new, how;

	for (how = 0; how < 2; how++) {
		dir = t_tmpdir();
		boot("memres = yes\n");
		m_old = next_console();
		s = up();
		old = s->domid;
		ck_assert_int_eq(stage(s, "kernel v2"), 0);
		domid = booted_ahead(s, &m_new);
		run_io(20);	/* its line read */
		if (how == 0) {
			fake_shutdown(fb, "u", domid, SR_CRASH);
			run();
		} else {
			s->sb.boot_by = s->sup->now;
			run();
		}
		ck_assert_str_eq(s->upd.last_result, "rolled-back");
		ck_assert_ptr_nonnull(strstr(s->upd.last_reason, how == 0 ?
		    "crashed while it booted ahead" :
		    "its agent did not answer"));
		ck_assert_int_eq(s->upd.active, 0);
		ck_assert_int_eq(s->upd.slots[1].state, SL_BAD);
		ck_assert_int_eq(s->state, ST_RUNNING);
		ck_assert_uint_eq(s->domid, old);
		ck_assert_int_eq(fb->nshutdown, 0);
		ck_assert_int_eq(s->sb.state, SB_DESTROYING);
		ck_assert_uint_eq(fb->last_destroy, domid);
		ck_assert_ptr_null(s->sb.con);
		snprintf(path, sizeof(path), "%s/update/u/%s/console.log",
		    dir, s->upd.slots[1].gen);
		ck_assert_msg(file_has(path, "NEW-BOOT-LINE"), "%s", path);
		fake_destroy_done(fb, "u", domid);
		run();
		ck_assert_int_eq(s->sb.state, SB_NONE);
		ck_assert_int_eq(s->state, ST_RUNNING);
		close(m_old);
		close(m_new);
		halt();
		t_rmtree(dir);
	}
}
END_TEST

/* ---- data volumes (update_data) ----------------------------------------- */

/* the unit tests' filesystems (ext4, tmpfs) have no reflink: a copy
 * stands in for FICLONE where the success paths are tested */
static int
fake_clone(int dst, int src)
{
	char buf[4096];
	ssize_t n;
	off_t off = 0;

	while ((n = pread(src, buf, sizeof(buf), off)) > 0) {
		if (write_all(dst, buf, (size_t)n) == -1)
			return -1;
		off += n;
	}
	return n == -1 ? -1 : 0;
}

static int
no_clone(int dst, int src)
{
	(void)dst;
	(void)src;
	errno = EOPNOTSUPP;
	return -1;
}

static char data_extra[1024];

/* the service with a data volume, DIR/data.img holding text */
static void
data_boot(const char *text)
{
	char path[512];
	struct err e = ERR_INIT;

	snprintf(path, sizeof(path), "%s/data.img", dir);
	if (text != NULL)
		ck_assert_int_eq(fileio_write_atomic(dir, "data.img", text,
		    strlen(text), 0640, &e), 0);
	snprintf(data_extra, sizeof(data_extra), "update_data = xvdc\n"
	    "[disk:data]\npath = %s\nvdev = xvdc\naccess = rw\n", path);
	boot(data_extra);
}

/* what the data file, or its snapshot, holds now ("" if none) */
static const char *
data_now(const char *suffix)
{
	static char buf[256];
	char path[512];
	char *t;

	snprintf(path, sizeof(path), "%s/data.img%s", dir, suffix);
	if ((t = fileio_read(path, sizeof(buf) - 1)) == NULL)
		return "";
	strlcpy_(buf, t, sizeof(buf));
	free(t);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* the trial's guest writes its data */
static void
guest_writes(const char *text)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/data.img", dir);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write_all(fd, text, strlen(text)), 0);
	close(fd);
}

static int
record_says(const char *what)
{
	char path[512];
	char *t;
	int found;

	snprintf(path, sizeof(path), "%s/update/u/update.json", dir);
	if ((t = fileio_read(path, 1 << 16)) == NULL)
		return 0;
	found = strstr(t, what) != NULL;
	free(t);
	return found;
}

static int
event_says(const char *what)
{
	size_t i;

	for (i = 0; i < sup->events.n; i++)
		if (strstr(events_at(&sup->events, i)->reason, what))
			return 1;
	return 0;
}

/* switch: snapshot; rollback: the data as at the switch before the old
 * slot's domain is made; commit: the snapshot goes, the data stays */
START_TEST(data_snapshot_restore_commit)
{
	int (*orig)(int, int) = upd_clone_hook;
	struct service *s;
	struct stat st;
	char why[256], path[512];
	uint32_t domid;

	upd_clone_hook = fake_clone;
	dir = t_tmpdir();
	data_boot("data v1");
	s = up();
	ck_assert_int_eq(stage(s, "kernel v2"), 0);
	ck_assert_int_eq(update_switch(s, why, sizeof(why)), 0);
	/* made before the record said trial, which names it */
	ck_assert_str_eq(data_now(".domud-snap"), "data v1");
	snprintf(path, sizeof(path), "%s/data.img.domud-snap", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);	/* the file's own */
	ck_assert(record_says("\"data\":[{\"vdev\":\"xvdc\""));
	{
		yajl_gen g = json_gen_new();
		const unsigned char *buf;
		size_t len;

		update_json(s, g);
		yajl_gen_get_buf(g, &buf, &len);
		ck_assert(memmem(buf, len, "data.img.domud-snap", 19) != NULL);
		yajl_gen_free(g);
	}
	ck_assert(metrics_say("domud_update_data_snapshots{service=\"u\"} 1\n"));
	ck_assert(event_says("data xvdc snapshotted (reflink)"));
	restarted(s);
	guest_writes("data v2, migrated by the trial");
	/* by hand: the data is back before the old slot's domain starts */
	domid = s->domid;
	ck_assert_int_eq(update_rollback(s, why, sizeof(why)), 0);
	ck_assert_str_eq(data_now(""), "data v1");
	ck_assert_str_eq(data_now(".domud-snap"), "");
	ck_assert(record_says("\"data\":[]"));
	ck_assert(event_says("data xvdc restored from its snapshot"));
	ck_assert(metrics_say("domud_update_data_snapshots{service=\"u\"} 0\n"));
	fake_shutdown(fb, "u", domid, SR_POWEROFF);
	run();
	fake_destroy_done(fb, "u", domid);
	run();
	fake_create_done(fb, "u", 1);
	run();
	ck_assert_int_eq(s->state, ST_RUNNING);
	ck_assert_uint_eq(lstat(path, &st), -1);
	/* staged again and committed: the trial's data stays, no snapshot */
	ck_assert_int_eq(stage(s, "kernel v3"), 0);
	ck_assert_int_eq(update_switch(s, why, sizeof(why)), 0);
	restarted(s);
	guest_writes("data v3");
	window_ends(s);
	ck_assert_str_eq(s->upd.last_result, "committed");
	ck_assert_str_eq(data_now(""), "data v3");
	ck_assert_int_eq(lstat(path, &st), -1);
	ck_assert(record_says("\"data\":[]"));
	/* a disk:VDEV of a data volume is in no slot */
	{
		struct upd_stage_req r;

		memset(&r, 0, sizeof(r));
		r.fds[0] = file_fd("kernel", "kernel v4");
		strlcpy_(r.names[0], "kernel", sizeof(r.names[0]));
		r.fds[1] = file_fd("disk", "not data");
		strlcpy_(r.names[1], "disk:xvdc", sizeof(r.names[1]));
		r.n = 2;
		ck_assert_int_eq(update_stage(s, &r, why, sizeof(why)), -1);
		ck_assert_ptr_nonnull(strstr(why, "update_data"));
	}
	halt();
	t_rmtree(dir);
	upd_clone_hook = orig;
}
END_TEST

/* no reflink on the data file's filesystem: the switch is refused with
 * the file and the reason, and nothing changes (no snapshot, no trial) */
START_TEST(data_switch_refused_without_reflink)
{
	int (*orig)(int, int) = upd_clone_hook;
	struct service *s;
	char why[512], path[512], probe[512];
	int a, b, can;

	dir = t_tmpdir();
	/* the real FICLONE where it fails (ext4, tmpfs); else said so */
	snprintf(probe, sizeof(probe), "%s/probe", dir);
	a = open(probe, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	snprintf(path, sizeof(path), "%s/probe2", dir);
	b = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	can = upd_clone_hook(b, a) == 0;
	close(a);
	close(b);
	unlink(probe);
	unlink(path);
	if (can)
		upd_clone_hook = no_clone;
	data_boot("data v1");
	s = up();
	ck_assert_int_eq(stage(s, "kernel v2"), 0);
	ck_assert_int_eq(update_switch(s, why, sizeof(why)), -1);
	snprintf(path, sizeof(path), "%s/data.img", dir);
	ck_assert_msg(strstr(why, path) != NULL && strstr(why, "reflink") !=
	    NULL && strstr(why, strerror(EOPNOTSUPP)) != NULL, "%s", why);
	ck_assert_int_eq(s->upd.state, UPS_STAGED);
	ck_assert_int_eq(s->upd.active, 0);
	ck_assert_int_eq(s->upd.trial, 0);
	ck_assert_int_eq(s->state, ST_RUNNING);
	ck_assert_str_eq(s->upd.last_result, "refused");
	ck_assert_str_eq(data_now(".domud-snap"), "");
	ck_assert_str_eq(data_now(""), "data v1");
	ck_assert(!record_says("\"trial\":true"));
	ck_assert(metrics_say("domud_update_refused_total{service=\"u\"} 1\n"));
	halt();
	t_rmtree(dir);
	upd_clone_hook = orig;
}
END_TEST

/* ---- a crash at each write of the record -------------------------------- */

static int writes, crash_at, crash_after, crashed;

static int
crashing_write(const char *d, const char *name, const void *buf, size_t len,
    struct err *e)
{
	writes++;
	if (crashed || (writes == crash_at && !crash_after)) {
		crashed = 1;
		return err_set(e, EIO, "crashed");
	}
	if (fileio_write_atomic(d, name, buf, len, 0600, e) == -1)
		return -1;
	if (writes == crash_at)
		crashed = 1;
	return 0;
}

/* a data volume's snapshot, restore or removal: a write as well */
static int
crashing_step(const char *step, const char *path)
{
	(void)step;
	(void)path;
	writes++;
	if (crashed || (writes == crash_at && !crash_after)) {
		crashed = 1;
		return -1;
	}
	if (writes == crash_at)
		crashed = 1;
	return 0;
}

static int with_data;

/* stage, switch, the trial's domain, commit; then a second stage, switch,
 * a crash of the trial and its rollback: every write of the record (and
 * with a data volume every step of its snapshots; each trial writes it) */
static void
lifetime(void)
{
	struct service *s = up();
	char why[256];
	uint32_t domid;

	(void)stage(s, "kernel v2");
	if (update_switch(s, why, sizeof(why)) == -1)
		return;
	if (with_data)
		restarted(s);	/* a writable disk: not built ahead */
	else
		switched(s);
	if (with_data)
		guest_writes("data of v2");
	window_ends(s);
	if (stage(s, "kernel v3") == -1)
		return;
	if (update_switch(s, why, sizeof(why)) == -1)
		return;
	if (with_data)
		restarted(s);	/* a writable disk: not built ahead */
	else
		switched(s);
	if (with_data)
		guest_writes("data of v3");
	domid = s->domid;
	fake_shutdown(fb, "u", domid, SR_CRASH);
	run();
	fake_destroy_done(fb, "u", domid);
	run();
}

/* what the next domud finds: a record it reads, an active slot that may
 * run and whose files are all there, no directory the record does not
 * name; after update_resume (nothing runs) no trial is left */
static void
check_store(int point)
{
	struct service *s;
	const struct upd_slot *sl;
	char path[1024];
	struct stat st;
	struct dirent *de;
	size_t i;
	DIR *d;

	upd_write_hook = crashing_write;
	crashed = 0;
	crash_at = 0;
	if (with_data)
		data_boot(NULL);
	else
		boot("");
	s = sup_find(sup, "u");
	/* a snapshot the record does not name went at start */
	if (with_data && s->upd.ndata == 0)
		ck_assert_msg(data_now(".domud-snap")[0] == '\0', "crash point "
		    "%d: a stray snapshot", point);
	ck_assert_msg(s->upd.dir != NULL, "crash point %d: no store", point);
	sl = &s->upd.slots[s->upd.active];
	ck_assert_msg(sl->state == SL_FACTORY || sl->state == SL_GOOD ||
	    sl->state == SL_TRIAL, "crash point %d: active slot %s", point,
	    upd_slot_state_str(sl->state));
	for (i = 0; i < sl->m.nfiles; i++) {
		snprintf(path, sizeof(path), "%s/update/u/%s/%s", dir, sl->gen,
		    sl->m.files[i].name);
		ck_assert_msg(stat(path, &st) == 0 && (uint64_t)st.st_size ==
		    sl->m.files[i].size, "crash point %d: %s", point, path);
	}
	snprintf(path, sizeof(path), "%s/update/u", dir);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] == 'a' || de->d_name[0] == 'b')
			ck_assert_msg(strcmp(de->d_name, s->upd.slots[0].gen) ==
			    0 || strcmp(de->d_name, s->upd.slots[1].gen) == 0,
			    "crash point %d: stray %s", point, de->d_name);
	closedir(d);
	update_resume(s);
	ck_assert_int_eq(s->upd.trial, 0);
	ck_assert_int_ne(s->upd.state, UPS_TRIAL);
	sl = &s->upd.slots[s->upd.active];
	ck_assert(sl->state == SL_FACTORY || sl->state == SL_GOOD);
	/* the data is that of the version that runs: as before the first
	 * switch with the factory slot, as v2 left it with v2 committed */
	if (with_data) {
		ck_assert_msg(strcmp(data_now(""), sl->state == SL_FACTORY ?
		    "data v1" : "data of v2") == 0, "crash point %d: data "
		    "'%s' with slot %s %s", point, data_now(""),
		    s->upd.active ? "b" : "a", upd_slot_state_str(sl->state));
		ck_assert_msg(data_now(".domud-snap")[0] == '\0', "crash point "
		    "%d: a snapshot left after the trial", point);
		ck_assert_uint_eq(s->upd.ndata, 0);
	}
	halt();
}

static void
crashes(int data)
{
	int (*orig)(const char *, const char *, const void *, size_t,
	    struct err *) = upd_write_hook;
	int (*orig_clone)(int, int) = upd_clone_hook;
	int total, point, after;

	with_data = data;
	upd_clone_hook = fake_clone;
	upd_data_hook = crashing_step;
	/* count the writes of a whole lifetime */
	dir = t_tmpdir();
	upd_write_hook = crashing_write;
	writes = crash_at = crash_after = crashed = 0;
	if (data)
		data_boot("data v1");
	else
		boot("");
	lifetime();
	halt();
	total = writes;
	t_rmtree(dir);
	/* with data: 2 snapshots (a stale one looked for, then made), 1
	 * drop, 1 restore besides the record's 6 */
	ck_assert_int_ge(total, data ? 12 : 6);
	for (point = 1; point <= total; point++)
		for (after = 0; after < 2; after++) {
			dir = t_tmpdir();
			writes = crashed = 0;
			crash_at = point;
			crash_after = after;
			if (data)
				data_boot("data v1");
			else
				boot("");
			lifetime();
			halt();
			check_store(point * 2 + after);
			t_rmtree(dir);
		}
	upd_write_hook = orig;
	upd_data_hook = NULL;
	upd_clone_hook = orig_clone;
	with_data = 0;
}

START_TEST(crash_at_every_write)
{
	crashes(0);
}
END_TEST

/* the same with a data volume: its snapshot, restore and removal too */
START_TEST(crash_at_every_write_with_data)
{
	crashes(1);
}
END_TEST

Suite *
update_suite(void)
{
	Suite *su = suite_create("update");
	TCase *tc = tcase_create("update");

	tcase_add_test(tc, stage_switch_commit);
	tcase_add_test(tc, rollback_on_crash);
	tcase_add_test(tc, rollback_by_hand);
	tcase_add_test(tc, rollback_on_failed_probe);
	tcase_add_test(tc, rollback_when_window_ends_unhealthy);
	tcase_add_test(tc, probed_window_from_first_pass);
	tcase_add_test(tc, stage_refused_leaves_nothing);
	tcase_add_test(tc, disk_from_the_slot);
	tcase_add_test(tc, reboot_or_refusal_ends_a_trial);
	tcase_add_test(tc, unreadable_record_touches_nothing);
	tcase_add_test(tc, switch_builds_ahead);
	tcase_add_test(tc, stop_while_built_ahead);
	tcase_add_test(tc, kill_in_switch);
	tcase_add_test(tc, switch_boots_ahead);
	tcase_add_test(tc, boot_ahead_failure_keeps_old);
	tcase_add_test(tc, handover_retiring_domain);
	tcase_add_test(tc, crash_at_every_write);
	tcase_add_test(tc, crash_at_every_write_with_data);
	tcase_add_test(tc, data_snapshot_restore_commit);
	tcase_add_test(tc, data_switch_refused_without_reflink);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(su, tc);
	return su;
}
