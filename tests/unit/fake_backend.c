// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_backend.h"
#include "base/util.h"

static struct fake_backend *
fb(struct backend *be)
{
	return (struct fake_backend *)be;
}

static void
queue(struct fake_backend *f, enum be_event_type t, const char *svc,
    uint32_t domid, enum shutdown_reason r, const char *msg)
{
	struct be_event *ev;

	if (f->nqueue >= FAKE_MAX_EVENTS)
		abort();
	ev = &f->queue[f->nqueue++];
	memset(ev, 0, sizeof(*ev));
	ev->type = t;
	strlcpy_(ev->svc, svc, sizeof(ev->svc));
	ev->domid = domid;
	ev->reason = r;
	if (msg)
		err_set(&ev->err, 1, "%s", msg);
}

struct fake_dom *
fake_dom(struct fake_backend *f, uint32_t domid)
{
	size_t i;

	for (i = 0; i < f->ndoms; i++)
		if (f->doms[i].domid == domid)
			return &f->doms[i];
	return NULL;
}

struct fake_dom *
fake_dom_add(struct fake_backend *f, const char *name, uint32_t domid,
    const uint8_t *uuid)
{
	struct fake_dom *d;

	if ((d = fake_dom(f, domid)) == NULL) {
		if (f->ndoms >= FAKE_MAX_DOMS)
			abort();
		d = &f->doms[f->ndoms++];
	}
	memset(d, 0, sizeof(*d));
	d->domid = domid;
	strlcpy_(d->name, name, sizeof(d->name));
	if (uuid)
		memcpy(d->uuid, uuid, 16);
	return d;
}

void
fake_dom_remove(struct fake_backend *f, uint32_t domid)
{
	struct fake_dom *d = fake_dom(f, domid);

	if (d == NULL)
		return;
	*d = f->doms[--f->ndoms];
}

static int
f_create(struct backend *be, const struct be_domain_spec *sp, struct err *e)
{
	struct fake_backend *f = fb(be);
	size_t i;

	if (f->fail_create_now)
		return err_set(e, 1, "kernel %s: No such file or directory",
		    sp->kernel);

	/* as libxl_name_to_domid finds it */
	for (i = 0; f->create_eexist && i < f->ndoms; i++)
		if (strcmp(f->doms[i].name, sp->name) == 0)
			return err_set(e, EEXIST, "a domain named %s already "
			    "exists (domain %u)", sp->name, f->doms[i].domid);
	f->ncreate++;
	f->inflight++;
	strlcpy_(f->last_create, sp->name, sizeof(f->last_create));
	f->last_kernel_cache = sp->kernel_prepare != NULL;
	strlcpy_(f->last_kernel, sp->kernel ? sp->kernel : "",
	    sizeof(f->last_kernel));
	f->last_has_kernel_sha256 = sp->kernel_sha256 != NULL;
	if (sp->kernel_sha256 != NULL)
		memcpy(f->last_kernel_sha256, sp->kernel_sha256, BE_SHA256_LEN);
	strlcpy_(f->last_cmdline, sp->cmdline ? sp->cmdline : "",
	    sizeof(f->last_cmdline));
	if (sp->standby)
		f->nstandby++;
	if (f->ncreating < nitems(f->creating)) {
		snprintf(f->creating[f->ncreating].name,
		    sizeof(f->creating[0].name), "%s%s", sp->name,
		    sp->standby ? BE_STANDBY_SUFFIX : "");
		memcpy(f->creating[f->ncreating].uuid, sp->uuid, 16);
		f->ncreating++;
	}
	return 0;
}

static int
f_shutdown(struct backend *be, const char *svc, uint32_t domid,
    struct err *e)
{
	fb(be)->nshutdown++;
	return 0;
}

static int
f_destroy(struct backend *be, const char *svc, uint32_t domid,
    struct err *e)
{
	if (fb(be)->fail_destroy_now)
		return err_set(e, 1, "destroy: fake failure");
	fb(be)->ndestroy++;
	fb(be)->last_destroy = domid;
	fb(be)->inflight++;
	return 0;
}

static int
f_free_memory(struct backend *be, uint64_t *bytes, struct err *e)
{
	*bytes = fb(be)->free_mem;
	return 0;
}

static int
f_need_memory(struct backend *be, const struct be_domain_spec *sp,
    uint64_t *bytes, struct err *e)
{
	*bytes = sp->memory;
	return 0;
}

static int
f_dominfo(struct backend *be, uint32_t domid, struct be_dominfo *di,
    struct err *e)
{
	struct fake_dom *d = fake_dom(fb(be), domid);

	memset(di, 0, sizeof(*di));
	di->domid = domid;
	di->start_time = time(NULL) - 42;
	di->running = 1;
	if (d) {
		di->paused = d->paused;
		di->shutdown = d->shutdown;
		di->dying = d->dying;
		di->running = !d->paused && !d->shutdown && !d->dying;
	}
	return 0;
}

static int
f_list(struct backend *be, struct be_found **out, size_t *n, struct err *e)
{
	struct fake_backend *f = fb(be);
	size_t i;

	f->nlist++;
	*out = xcalloc(f->ndoms + 1, sizeof(**out));
	for (i = 0; i < f->ndoms; i++) {
		struct be_found *o = &(*out)[i];

		o->domid = f->doms[i].domid;
		strlcpy_(o->name, f->doms[i].name, sizeof(o->name));
		memcpy(o->uuid, f->doms[i].uuid, 16);
		o->paused = f->doms[i].paused;
		o->shutdown = f->doms[i].shutdown;
		o->dying = f->doms[i].dying;
		o->cpu_ns = f->doms[i].cpu_ns;
		o->mem_bytes = o->max_mem_bytes = f->doms[i].mem_bytes;
		o->vcpus_online = 1;
	}
	*n = f->ndoms;
	return 0;
}

static int
f_scan(struct backend *be, struct be_found **out, size_t *n, struct err *e)
{
	struct fake_backend *f = fb(be);

	*out = xcalloc(f->nfound, sizeof(**out));
	memcpy(*out, f->found, f->nfound * sizeof(**out));
	*n = f->nfound;
	return 0;
}

static int
f_adopt(struct backend *be, const char *svc, uint32_t domid, struct err *e)
{
	fb(be)->nadopt++;
	return 0;
}

static char *
f_console_path(struct backend *be, uint32_t domid, struct err *e)
{
	/* a test may give its domains a PTY of its own as their console */
	if (fb(be)->console_tty[0])
		return xstrdup(fb(be)->console_tty);
	err_set(e, 1, "no console in the fake backend");
	return NULL;
}

static int
f_before_poll(struct backend *be, struct pollfd *fds, int *nfds, int max,
    int *timeout_ms)
{
	return 0;
}

static void
f_after_poll(struct backend *be, struct pollfd *fds, int nfds)
{
	fake_run(fb(be));
}

static int
f_idle(struct backend *be)
{
	return fb(be)->inflight == 0;
}

static void
f_free(struct backend *be)
{
	free(be);
}

static int
f_check(struct backend *be, const struct be_domain_spec *sp, struct err *e)
{
	(void)sp;
	if (fb(be)->refuse_create)
		return err_set(e, BE_REFUSED, "cpus: CPU 7 does not exist (Xen "
		    "has 4: 0-3)");
	return 0;
}

static int
f_pools(struct backend *be, struct be_pool **out, size_t *n, struct err *e)
{
	struct fake_backend *f = fb(be);

	(void)e;
	*out = xcalloc(f->npools + 1, sizeof(**out));
	memcpy(*out, f->pools, f->npools * sizeof(**out));
	*n = f->npools;
	return 0;
}

static struct be_pool *
f_pool_named(struct fake_backend *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->npools; i++)
		if (strcmp(f->pools[i].name, name) == 0)
			return &f->pools[i];
	return NULL;
}

/* as libxl's: the same pool is adopted, one with domains is not changed */
static int
f_pool_ensure(struct backend *be, const struct pool_conf *pc, int *made,
    struct err *e)
{
	struct fake_backend *f = fb(be);
	struct be_pool *p = f_pool_named(f, pc->name);

	*made = 0;
	if (p && memcmp(&p->cpus, &pc->cpus, sizeof(p->cpus)) == 0)
		return 0;
	if (p && p->ndoms)
		return err_set(e, EBUSY, "cpupool %s has other CPUs than "
		    "domud.conf says, and domains in it", pc->name);
	if (p == NULL) {
		if (f->npools == nitems(f->pools))
			abort();
		p = &f->pools[f->npools++];
	}
	memset(p, 0, sizeof(*p));
	strlcpy_(p->name, pc->name, sizeof(p->name));
	p->id = (uint32_t)f->npools;
	p->sched = pc->sched;
	p->cpus = pc->cpus;
	f->npool_made++;
	*made = 1;
	return 0;
}

static int
f_pool_remove(struct backend *be, const char *name, struct err *e)
{
	struct fake_backend *f = fb(be);
	struct be_pool *p = f_pool_named(f, name);

	if (p == NULL)
		return 0;
	if (p->ndoms)
		return err_set(e, EBUSY, "cpupool %s still has domains", name);
	*p = f->pools[--f->npools];
	f->npool_removed++;
	return 0;
}

static int
f_activate(struct backend *be, const char *svc, uint32_t domid,
    struct err *e)
{
	struct fake_backend *f = (struct fake_backend *)be;
	struct fake_dom *d = fake_dom(f, domid);

	if (f->fail_activate_now)
		return err_set(e, 1, "renaming the standby: fake failure");
	if (d == NULL)
		return err_set(e, ENOENT, "no domain %u", domid);
	strlcpy_(d->name, svc, sizeof(d->name));
	d->paused = 0;
	f->nactivate++;
	return 0;
}

static int
f_retire(struct backend *be, const char *svc, uint32_t domid,
    struct err *e)
{
	struct fake_backend *f = (struct fake_backend *)be;
	struct fake_dom *d = fake_dom(f, domid);

	if (f->fail_retire_now)
		return err_set(e, 1, "renaming the domain aside: fake failure");
	if (d == NULL)
		return err_set(e, ENOENT, "no domain %u", domid);
	snprintf(d->name, sizeof(d->name), "%s%s", svc, BE_RETIRING_SUFFIX);
	f->nretire++;
	return 0;
}

static int
f_pause(struct backend *be, uint32_t domid, int pause, struct err *e)
{
	struct fake_backend *f = (struct fake_backend *)be;
	struct fake_dom *d = fake_dom(f, domid);

	if (d == NULL)
		return err_set(e, ENOENT, "no domain %u", domid);
	d->paused = pause;
	f->npause += pause ? 1 : 0;
	return 0;
}

/* one disk with counters; the vif is this machine's loopback, which
 * netlink can count */
static int
f_devices(struct backend *be, uint32_t domid, struct be_devices *d,
    struct err *e)
{
	(void)be;
	(void)domid;
	(void)e;
	memset(d, 0, sizeof(*d));
	strlcpy_(d->disks[0].vdev, "xvdb", sizeof(d->disks[0].vdev));
	d->disks[0].rd_req = 3;
	d->disks[0].rd_sect = 24;
	d->disks[0].has_stats = 1;
	d->ndisks = 1;
	strlcpy_(d->vifs[0], "lo", sizeof(d->vifs[0]));
	d->nvifs = 1;
	return 0;
}

static const struct backend_ops fake_ops = {
	.name = "fake",
	.create = f_create,
	.shutdown = f_shutdown,
	.destroy = f_destroy,
	.free_memory = f_free_memory,
	.need_memory = f_need_memory,
	.dominfo = f_dominfo,
	.scan = f_scan,
	.list = f_list,
	.devices = f_devices,
	.pause = f_pause,
	.activate = f_activate,
	.retire = f_retire,
	.check = f_check,
	.pools = f_pools,
	.pool_ensure = f_pool_ensure,
	.pool_remove = f_pool_remove,
	.adopt = f_adopt,
	.console_path = f_console_path,
	.before_poll = f_before_poll,
	.after_poll = f_after_poll,
	.idle = f_idle,
	.free = f_free,
};

struct fake_backend *
fake_new(uint64_t free_mem)
{
	struct fake_backend *f = xcalloc(1, sizeof(*f));

	f->be.ops = &fake_ops;
	f->free_mem = free_mem;
	f->next_domid = 1;
	return f;
}

void
fake_create_done(struct fake_backend *f, const char *svc, int ok)
{
	const uint8_t *uuid = NULL;
	size_t i;

	f->inflight--;
	for (i = 0; i < f->ncreating; i++)
		if (strcmp(f->creating[i].name, svc) == 0) {
			uuid = f->creating[i].uuid;
			break;
		}
	if (ok) {
		/* it runs now: listed with the service's name and UUID */
		fake_dom_add(f, svc, f->next_domid, uuid);
		queue(f, BE_CREATED, svc, f->next_domid++, SR_NONE, NULL);
	} else
		queue(f, BE_CREATE_FAILED, svc, INVALID_DOMID_, SR_NONE,
		    "libxl_domain_create_new: fake failure");
	if (i < f->ncreating)
		f->creating[i] = f->creating[--f->ncreating];
}

uint32_t
fake_standby_done(struct fake_backend *f, const char *svc, int ok)
{
	char name[64];
	const uint8_t *uuid = NULL;
	struct be_event *ev;
	struct fake_dom *d;
	uint32_t domid = INVALID_DOMID_;
	size_t i;

	snprintf(name, sizeof(name), "%s%s", svc, BE_STANDBY_SUFFIX);
	f->inflight--;
	for (i = 0; i < f->ncreating; i++)
		if (strcmp(f->creating[i].name, name) == 0) {
			uuid = f->creating[i].uuid;
			break;
		}
	if (ok) {
		/* built, left paused under its standby name */
		domid = f->next_domid++;
		d = fake_dom_add(f, name, domid, uuid);
		d->paused = 1;
		queue(f, BE_CREATED, svc, domid, SR_NONE, NULL);
	} else
		queue(f, BE_CREATE_FAILED, svc, INVALID_DOMID_, SR_NONE,
		    "libxl_domain_create_new: fake failure");
	ev = &f->queue[f->nqueue - 1];
	ev->standby = 1;
	if (i < f->ncreating)
		f->creating[i] = f->creating[--f->ncreating];
	return domid;
}

void
fake_shutdown(struct fake_backend *f, const char *svc, uint32_t domid,
    enum shutdown_reason r)
{
	struct fake_dom *d = fake_dom(f, domid);

	if (d)
		d->shutdown = 1;
	queue(f, BE_SHUTDOWN, svc, domid, r, NULL);
}

void
fake_died(struct fake_backend *f, const char *svc, uint32_t domid)
{
	fake_dom_remove(f, domid);
	queue(f, BE_DIED, svc, domid, SR_NONE, NULL);
}

void
fake_destroyed_outside(struct fake_backend *f, const char *svc,
    uint32_t domid)
{
	fake_dom_remove(f, domid);
	queue(f, BE_DIED, svc, domid, SR_DESTROYED, NULL);
}

void
fake_destroy_failed(struct fake_backend *f, const char *svc, uint32_t domid,
    const char *msg)
{
	f->inflight--;
	queue(f, BE_DESTROY_FAILED, svc, domid, SR_NONE, msg);
}

void
fake_destroy_done(struct fake_backend *f, const char *svc, uint32_t domid)
{
	f->inflight--;
	fake_dom_remove(f, domid);
	queue(f, BE_DESTROYED, svc, domid, SR_NONE, NULL);
}

void
fake_run(struct fake_backend *f)
{
	struct be_event q[FAKE_MAX_EVENTS];
	int i, n = f->nqueue;

	/* handlers may queue more (through ops): take a snapshot first */
	memcpy(q, f->queue, sizeof(q[0]) * (size_t)n);
	f->nqueue = 0;
	for (i = 0; i < n; i++)
		f->be.notify(f->be.notify_arg, &q[i]);
}
