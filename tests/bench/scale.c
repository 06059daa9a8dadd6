// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The supervisor at scale, without Xen (bench): 1, 100 and 1000 services
 * on the fake backend, half of them running. For each: the reload of the
 * whole configuration, a status of every service, memory per service (the
 * heap's growth), and the CPU of one idle loop round. Prints bench: lines.
 */
#include <sys/resource.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <yajl_gen.h>

#include "../unit/fake_backend.h"
#include "conf/config.h"
#include "core/service.h"
#include "base/log.h"
#include "base/util.h"

static double
now_ms(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static struct config *
make_config(size_t n, const char *dir)
{
	struct config *cfg = config_new("domud.conf");
	char name[32], file[64], text[256];
	size_t i;

	free(cfg->d.state_dir);
	cfg->d.state_dir = xstrdup(dir);
	free(cfg->d.log_dir);
	cfg->d.log_dir = xstrdup(dir);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "s%04zu", i);
		snprintf(file, sizeof(file), "services.d/%s.ini", name);
		snprintf(text, sizeof(text), "[service]\nkernel = /dev/null\n"
		    "memory = 64M\nrestart = on-failure\n");
		config_add_service(cfg, config_parse_service(cfg, name, file,
		    text, strlen(text)));
	}
	config_finish(cfg);
	return cfg;
}

static size_t
heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static void
scale(size_t n, const char *dir)
{
	struct fake_backend *fb = fake_new(1ULL << 40);
	struct supervisor *sup;
	struct err e = ERR_INIT;
	size_t i, h0, h1, len;
	double t0, reload_ms, status_ms, round_us;
	const unsigned char *buf;
	yajl_gen g;
	int rounds = 2000, r, wait_ms = -1;

	h0 = heap_bytes();
	sup = sup_new(&fb->be, make_config(n, dir));
	/* half of them running */
	for (i = 0; i < n; i += 2) {
		(void)sup_start(sup, sup->svcs[i], &e);
		fake_create_done(fb, sup->svcs[i]->conf->name, 1);
		fb->be.ops->after_poll(&fb->be, NULL, 0);
		sup_after_poll(sup, NULL, 0);
	}
	h1 = heap_bytes();

	t0 = now_ms(CLOCK_MONOTONIC);
	sup_reload(sup, make_config(n, dir));
	reload_ms = now_ms(CLOCK_MONOTONIC) - t0;

	t0 = now_ms(CLOCK_MONOTONIC);
	g = yajl_gen_alloc(NULL);
	yajl_gen_array_open(g);
	for (i = 0; i < sup->nsvcs; i++)
		svc_status_json(sup->svcs[i], g, 0);
	yajl_gen_array_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	status_ms = now_ms(CLOCK_MONOTONIC) - t0;
	yajl_gen_free(g);

	/* idle: rounds of the loop with nothing to do (no reconcile due) */
	sup->next_reconcile = mono_ms() + 3600000;
	t0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
	for (r = 0; r < rounds; r++) {
		struct pollfd fds[8];
		int nfds = 0, timeout = -1;

		sup_before_poll(sup, fds, &nfds, 8, &timeout);
		wait_ms = timeout;
		fb->be.ops->after_poll(&fb->be, NULL, 0);
		sup_after_poll(sup, fds, nfds);
	}
	round_us = (now_ms(CLOCK_PROCESS_CPUTIME_ID) - t0) * 1000.0 / rounds;

	printf("bench: scale services=%zu running=%zu reload_ms=%.2f "
	    "status_ms=%.2f status_bytes=%zu heap_per_service_b=%zu "
	    "idle_round_us=%.2f idle_poll_timeout_ms=%d\n", n, (n + 1) / 2,
	    reload_ms, status_ms, len, n ? (h1 - h0) / n : 0, round_us,
	    wait_ms);
	sup_free(sup);
	fb->be.ops->free(&fb->be);
}

/* the state files the runs left */
static int
remove_tree(const char *dir)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/state.json", dir);
	(void)unlink(p);
	return rmdir(dir);
}

int
main(void)
{
	char dir[] = "/tmp/domud-scale-XXXXXX";

	/* domud's own log goes to stderr: `make bench-host` drops it */
	log_init(1, 0, "scale");
	if (mkdtemp(dir) == NULL)
		return 1;
	scale(1, dir);
	scale(100, dir);
	scale(1000, dir);
	(void)remove_tree(dir);
	return 0;
}
