// SPDX-License-Identifier: GPL-2.0-or-later
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

static int
f_create(struct backend *be, const struct be_domain_spec *sp, struct err *e)
{
	struct fake_backend *f = fb(be);

	if (f->fail_create_now)
		return err_set(e, 1, "kernel %s: No such file or directory",
		    sp->kernel);
	f->ncreate++;
	f->inflight++;
	strlcpy_(f->last_create, sp->name, sizeof(f->last_create));
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
	fb(be)->ndestroy++;
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
	memset(di, 0, sizeof(*di));
	di->domid = domid;
	di->start_time = time(NULL) - 42;
	di->running = 1;
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

static const struct backend_ops fake_ops = {
	.name = "fake",
	.create = f_create,
	.shutdown = f_shutdown,
	.destroy = f_destroy,
	.free_memory = f_free_memory,
	.need_memory = f_need_memory,
	.dominfo = f_dominfo,
	.scan = f_scan,
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
	f->inflight--;
	if (ok)
		queue(f, BE_CREATED, svc, f->next_domid++, SR_NONE, NULL);
	else
		queue(f, BE_CREATE_FAILED, svc, INVALID_DOMID_, SR_NONE,
		    "libxl_domain_create_new: fake failure");
}

void
fake_shutdown(struct fake_backend *f, const char *svc, uint32_t domid,
    enum shutdown_reason r)
{
	queue(f, BE_SHUTDOWN, svc, domid, r, NULL);
}

void
fake_died(struct fake_backend *f, const char *svc, uint32_t domid)
{
	queue(f, BE_DIED, svc, domid, SR_NONE, NULL);
}

void
fake_destroy_done(struct fake_backend *f, const char *svc, uint32_t domid)
{
	f->inflight--;
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
