// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A domain's life as domud drives it: what the machine must have, the
 * create on a builder thread and its end on the main loop (tag, death
 * watch, unpause), shutdown, destroy, pause, a standby's activation, disk
 * attach and detach; libxl's asynchronous operations (struct op) and their
 * completion. Calls xenbe.c (xb_of, xb_err, the logger and the SIGCHLD
 * hooks), build.c (xb_build_config) and events.c (xb_emit*, the death
 * watches).
 */

#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xen/backend.h"
#include "conf/config.h"
#include "base/log.h"
#include "base/util.h"
#include "xenbe_int.h"

static struct op *
xb_op_new(struct xenbe *xb, enum op_kind kind, const char *name, uint32_t domid)
{
	struct op *op = xcalloc(1, sizeof(*op));

	op->id = ++xb->next_id;
	op->kind = kind;
	strlcpy_(op->name, name, sizeof(op->name));
	op->domid = domid;
	op->how.callback = NULL;
	op->how.u.for_event = op->id;
	op->next = xb->ops;
	xb->ops = op;
	return op;
}

static void
xb_op_free(struct xenbe *xb, struct op *op)
{
	struct op **pp;

	for (pp = &xb->ops; *pp; pp = &(*pp)->next)
		if (*pp == op) {
			*pp = op->next;
			break;
		}
	free(op);
}

static struct op *
op_find(struct xenbe *xb, uint64_t id)
{
	struct op *op;

	for (op = xb->ops; op; op = op->next)
		if (op->id == id)
			return op;
	return NULL;
}

static int
check_file(const char *what, const char *path, struct err *e)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return err_set(e, errno, "%s %s: %s", what, path,
		    strerror(errno));
	return 0;
}

/* what the machine must have for this domain, asked before anything is
 * built: the CPUs it is pinned to, its pool, an IOMMU and assignable
 * devices for passthrough. A refusal (BE_REFUSED) names what is missing. */
static int
machine_check(struct xenbe *xb, const struct be_domain_spec *sp,
    uint32_t *poolid, struct err *e)
{
	libxl_physinfo pi;
	size_t i, k;
	int rc, top = -1, t;

	*poolid = 0;
	if (sp->cpupool && strcmp(sp->cpupool, "Pool-0") != 0 &&
	    libxl_name_to_cpupoolid(xb->ctx, sp->cpupool, poolid) != 0)
		return err_set(e, BE_REFUSED, "cpupool %s does not exist (domud "
		    "makes the pools of domud.conf when it starts and at a "
		    "reload: its log says why this one is not there)",
		    sp->cpupool);
	if (sp->ncpus == 0 && sp->ncpus_soft == 0 && sp->npci == 0 &&
	    sp->ndtdev == 0)
		return 0;
	libxl_physinfo_init(&pi);
	if ((rc = libxl_get_physinfo(xb->ctx, &pi)) != 0) {
		libxl_physinfo_dispose(&pi);
		return xb_err(xb, e, rc, "physinfo");
	}
	for (k = 0; k < sp->ncpus; k++)
		if ((t = cpuset_last(&sp->cpus[k])) > top)
			top = t;
	for (k = 0; k < sp->ncpus_soft; k++)
		if ((t = cpuset_last(&sp->cpus_soft[k])) > top)
			top = t;
	if (top > (int)pi.max_cpu_id) {
		err_set(e, BE_REFUSED, "cpus: CPU %d does not exist (Xen has "
		    "%u: 0-%u)", top, pi.nr_cpus, pi.max_cpu_id);
		goto refused;
	}
	if (sp->npci) {
		libxl_device_pci *list;
		int n = 0, j;

		list = libxl_device_pci_assignable_list(xb->ctx, &n);
		for (i = 0; i < sp->npci; i++) {
			const struct pci_conf *p = &sp->pci[i];

			if (p->seize)
				continue;	/* libxl takes it from its driver */
			for (j = 0; j < n; j++)
				if (list[j].domain == p->domain &&
				    list[j].bus == p->bus && list[j].dev == p->dev &&
				    list[j].func == p->func)
					break;
			if (j == n) {
				err_set(e, BE_REFUSED, "pci: %04x:%02x:%02x.%x is "
				    "not assignable: bind it to xen-pciback "
				    "(xl pci-assignable-add), or write ,seize",
				    p->domain, p->bus, p->dev, p->func);
				libxl_device_pci_assignable_list_free(list, n);
				goto refused;
			}
		}
		libxl_device_pci_assignable_list_free(list, n);
	}
	if ((sp->npci || sp->ndtdev) && !pi.cap_hvm_directio) {
		err_set(e, BE_REFUSED, "%s: passthrough needs an IOMMU that "
		    "Xen drives, and this Xen has none (xl info: no "
		    "hvm_directio; %s)", sp->npci ? "pci" : "dtdev", sp->npci ?
		    "VT-d or AMD-Vi, enabled in the firmware and not turned "
		    "off with iommu=0" : "an SMMU in the device tree, with "
		    "iommu=on");
		goto refused;
	}
	libxl_physinfo_dispose(&pi);
	return 0;
refused:
	libxl_physinfo_dispose(&pi);
	return -1;
}

int
xb_check(struct backend *be, const struct be_domain_spec *sc, struct err *e)
{
	uint32_t poolid;

	return machine_check(xb_of(be), sc, &poolid, e);
}

static void *
builder_main(void *arg)
{
	struct builder *b = arg;
	struct xlogger *lg = xb_logger_new();
	libxl_ctx *ctx = NULL;
	unsigned char c = 1;

	if (b->kernel_prepare) {
		struct err e = ERR_INIT;
		uint64_t t0 = mono_ms();
		int hit = 0;
		char *k = b->kernel_prepare(b->kernel_arg, b->cfg.b_info.kernel,
		    b->has_kernel_sha256 ? b->kernel_sha256 : NULL, &hit, &e);

		b->kernel_ms = mono_ms() - t0;
		if (k == NULL) {
			log_warnx("%s: kernel cache: %s; libxl loads the image "
			    "as it is", b->name, e.msg);
			b->kernel_from = BE_KERNEL_FALLBACK;
		} else if (strcmp(k, b->cfg.b_info.kernel) == 0)
			free(k);	/* nothing to extract */
		else {
			free(b->cfg.b_info.kernel);
			b->cfg.b_info.kernel = k;
			b->kernel_from = hit ? BE_KERNEL_CACHED :
			    BE_KERNEL_EXTRACTED;
		}
	}
	b->rc = libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, &lg->vtable);
	if (b->rc == 0) {
		libxl_childproc_setmode(ctx, &xb_childproc_hooks, NULL);
		/* synchronous: libxl runs its own event loop on this thread */
		b->rc = libxl_domain_create_new(ctx, &b->cfg, &b->domid, NULL,
		    NULL);
		libxl_ctx_free(ctx);
	}
	strlcpy_(b->error, lg->last_error, sizeof(b->error));
	xtl_logger_destroy(&lg->vtable);
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	(void)!write(b->xb->build_pipe[1], &c, 1);
	return NULL;
}

int
xb_create(struct backend *be, const struct be_domain_spec *sc, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	uint32_t poolid;
	struct builder *b;
	sigset_t all, old;
	size_t i;
	int r;

	/* a missing image is an error for this service at start */
	if (check_file("kernel", sc->kernel, e) == -1 ||
	    (sc->ramdisk && check_file("ramdisk", sc->ramdisk, e) == -1))
		return -1;
	for (i = 0; i < sc->ndisks; i++)
		if (check_file("disk", sc->disks[i].path, e) == -1)
			return -1;
	/* names are unique in Xen: say whose it is instead of failing later */
	{
		char xname[BE_NAME_MAX];
		uint32_t other;

		snprintf(xname, sizeof(xname), "%s%s", sc->name, sc->standby ?
		    BE_STANDBY_SUFFIX : "");
		if (libxl_name_to_domid(xb->ctx, xname, &other) == 0)
			return err_set(e, EEXIST, "a domain named %s already "
			    "exists (domain %u) and domud did not start it",
			    xname, other);
	}

	if (machine_check(xb, sc, &poolid, e) == -1)
		return -1;

	b = xcalloc(1, sizeof(*b));
	b->xb = xb;
	b->domid = INVALID_DOMID;
	b->started_ms = mono_ms();
	b->kernel_prepare = sc->kernel_prepare;
	b->kernel_arg = sc->kernel_arg;
	/* a copy: the spec is gone before the builder thread asks */
	if (sc->kernel_sha256 != NULL) {
		memcpy(b->kernel_sha256, sc->kernel_sha256, BE_SHA256_LEN);
		b->has_kernel_sha256 = 1;
	}
	strlcpy_(b->name, sc->name, sizeof(b->name));
	b->standby = sc->standby;
	libxl_domain_config_init(&b->cfg);
	b->cfg.c_info.poolid = poolid;
	if (xb_build_config(xb, sc, &b->cfg, e) == -1) {
		libxl_domain_config_dispose(&b->cfg);
		free(b);
		return -1;
	}
	/* signals stay with the main loop (SIGCHLD is never blocked) */
	sigemptyset(&all);
	sigaddset(&all, SIGTERM);
	sigaddset(&all, SIGINT);
	sigaddset(&all, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&b->thread, NULL, builder_main, b);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		libxl_domain_config_dispose(&b->cfg);
		free(b);
		return err_set(e, r, "builder thread: %s", strerror(r));
	}
	b->next = xb->builders;
	xb->builders = b;
	log_info("%s: creating%s", sc->name, sc->standby ? " its standby" : "");
	return 0;
}

/* the tag that adoption looks for: which service, that domud made it, and
 * whether it is that service's standby */
static int
store_tag(struct xenbe *xb, const char *name, uint32_t domid, int standby,
    struct err *e)
{
	char tag[160];
	int n, rc;

	/* service names are [A-Za-z0-9_.-]: no JSON escaping needed */
	n = snprintf(tag, sizeof(tag), "{\"v\":1,\"service\":\"%s\"%s}\n",
	    name, standby ? ",\"standby\":true" : "");
	rc = libxl_userdata_store(xb->ctx, domid, USERDATA_TAG,
	    (const uint8_t *)tag, n);
	if (rc)
		return xb_err(xb, e, rc, "storing the domud tag");
	return 0;
}

/* the main loop's part of a create, once the builder is joined */
static void
create_done(struct xenbe *xb, struct builder *b)
{
	struct err e = ERR_INIT;
	uint32_t domid = b->domid;
	char name[SERVICE_NAME_MAX + 1];
	struct op *dop;
	int rc = b->rc;
	uint64_t built = mono_ms(), create_ms = built - b->started_ms;

	strlcpy_(name, b->name, sizeof(name));
	log_info("%s: %s built in %llu ms", name, b->standby ? "standby" :
	    "domain", (unsigned long long)create_ms);
	if (rc) {
		/* libxl has destroyed what it had built */
		if (b->error[0])
			err_set(&e, rc, "libxl_domain_create_new: %s (libxl error "
			    "%d)", b->error, rc);
		else
			err_set(&e, rc, "libxl_domain_create_new: libxl error %d",
			    rc);
		xb_emit_create_failed(xb, name, domid, b->standby, &e);
		return;
	}
	if (store_tag(xb, name, domid, b->standby, &e) == -1 ||
	    xb_xdom_watch(xb, name, domid, &e) == -1)
		goto undo;
	/* a standby stays paused until activate */
	rc = b->standby ? 0 : libxl_domain_unpause(xb->ctx, domid, NULL);
	if (rc) {
		xb_err(xb, &e, rc, "unpause");
		goto undo;
	}
	xb_emit_ev(xb, BE_CREATED, name, domid, SR_NONE, NULL, b, create_ms,
	    mono_ms() - built);
	return;
undo:
	/* no half-made domain is left behind: destroy, then report */
	log_warnx("%s: %s; destroying domain %u", name, e.msg, domid);
	xb_xdom_unwatch(xb, domid);
	dop = xb_op_new(xb, OP_DESTROY, name, domid);
	dop->kind = OP_CREATE;		/* completes as a failed create */
	dop->fail = e;
	dop->standby = b->standby;
	rc = libxl_domain_destroy(xb->ctx, domid, &dop->how);
	if (rc) {
		xb_op_free(xb, dop);
		xb_emit_create_failed(xb, name, domid, b->standby, &e);
	}
}

/* join the builders that are done and finish their creates */
void
xb_builders_reap(struct xenbe *xb)
{
	unsigned char buf[64];
	struct builder **pp, *b;

	while (read(xb->build_pipe[0], buf, sizeof(buf)) > 0)
		;
	for (pp = &xb->builders; (b = *pp) != NULL; ) {
		if (!__atomic_load_n(&b->done, __ATOMIC_ACQUIRE)) {
			pp = &b->next;
			continue;
		}
		*pp = b->next;
		pthread_join(b->thread, NULL);
		create_done(xb, b);
		libxl_domain_config_dispose(&b->cfg);
		free(b);
	}
}

/* the standby becomes the service's domain: its name, a running tag, its
 * vCPUs let go. A rename is one xenstore transaction in libxl (and it
 * renames libxl's stored configuration too). */
int
xb_activate(struct backend *be, const char *svc, uint32_t domid,
    struct err *e)
{
	struct xenbe *xb = xb_of(be);
	char old[BE_NAME_MAX];
	int rc;

	snprintf(old, sizeof(old), "%s%s", svc, BE_STANDBY_SUFFIX);
	if ((rc = libxl_domain_rename(xb->ctx, domid, old, svc)) != 0)
		return xb_err(xb, e, rc, "renaming the standby");
	if (store_tag(xb, svc, domid, 0, e) == -1)
		return -1;
	if ((rc = libxl_domain_unpause(xb->ctx, domid, NULL)) != 0)
		return xb_err(xb, e, rc, "unpause");
	return 0;
}

/* the service's name freed for its standby; the tag makes the next
 * domud finish it off if this one dies first */
int
xb_retire(struct backend *be, const char *svc, uint32_t domid,
    struct err *e)
{
	struct xenbe *xb = xb_of(be);
	char to[BE_NAME_MAX];
	int rc;

	snprintf(to, sizeof(to), "%s%s", svc, BE_RETIRING_SUFFIX);
	if ((rc = libxl_domain_rename(xb->ctx, domid, svc, to)) != 0)
		return xb_err(xb, e, rc, "renaming the domain aside");
	if (store_tag(xb, svc, domid, 1, e) == -1) {
		/* it serves on under its own name */
		(void)libxl_domain_rename(xb->ctx, domid, to, svc);
		return -1;
	}
	return 0;
}

int
xb_pause(struct backend *be, uint32_t domid, int pause, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	int rc = pause ? libxl_domain_pause(xb->ctx, domid, NULL) :
	    libxl_domain_unpause(xb->ctx, domid, NULL);

	return rc ? xb_err(xb, e, rc, pause ? "pause" : "unpause") : 0;
}

int
xb_shutdown(struct backend *be, const char *svc, uint32_t domid,
    struct err *e)
{
	struct xenbe *xb = xb_of(be);
	struct op *op = xb_op_new(xb, OP_SHUTDOWN, svc, domid);
	int rc;

	rc = libxl_domain_shutdown(xb->ctx, domid, &op->how);
	if (rc) {
		xb_op_free(xb, op);
		return xb_err(xb, e, rc, "shutdown request");
	}
	return 0;
}

int
xb_destroy(struct backend *be, const char *svc, uint32_t domid,
    struct err *e)
{
	struct xenbe *xb = xb_of(be);
	struct op *op = xb_op_new(xb, OP_DESTROY, svc, domid);
	int rc;

	rc = libxl_domain_destroy(xb->ctx, domid, &op->how);
	if (rc) {
		xb_op_free(xb, op);
		return xb_err(xb, e, rc, "destroy");
	}
	return 0;
}

int
xb_disk_attach(struct backend *be, const char *svc, uint32_t domid,
    const char *path, const char *vdev, uint64_t token, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	struct op *op = xb_op_new(xb, OP_DISK, svc, domid);
	int rc;

	op->token = token;
	op->attach = 1;
	libxl_device_disk_init(&op->disk);
	op->disk.pdev_path = xstrdup(path);
	op->disk.vdev = xstrdup(vdev);
	op->disk.format = LIBXL_DISK_FORMAT_RAW;
	op->disk.backend = LIBXL_DISK_BACKEND_PHY;
	op->disk.readwrite = 0;
	rc = libxl_device_disk_add(xb->ctx, domid, &op->disk, &op->how);
	if (rc) {
		libxl_device_disk_dispose(&op->disk);
		xb_op_free(xb, op);
		return xb_err(xb, e, rc, "disk attach");
	}
	return 0;
}

int
xb_disk_detach(struct backend *be, const char *svc, uint32_t domid,
    const char *vdev, uint64_t token, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	struct op *op = xb_op_new(xb, OP_DISK, svc, domid);
	int rc;

	op->token = token;
	libxl_device_disk_init(&op->disk);
	rc = libxl_vdev_to_device_disk(xb->ctx, domid, vdev, &op->disk);
	if (rc == 0)
		rc = libxl_device_disk_remove(xb->ctx, domid, &op->disk,
		    &op->how);
	if (rc) {
		libxl_device_disk_dispose(&op->disk);
		xb_op_free(xb, op);
		return xb_err(xb, e, rc, "disk detach");
	}
	return 0;
}

void
xb_op_complete(struct xenbe *xb, uint64_t id, int rc)
{
	struct op *op = op_find(xb, id);
	char svc[SERVICE_NAME_MAX + 1];
	uint32_t domid;
	struct err e = ERR_INIT;

	if (op == NULL)
		return;
	strlcpy_(svc, op->name, sizeof(svc));
	domid = op->domid;
	switch (op->kind) {
	case OP_CREATE:
		/* the destroy that undid a failed create */
		{
			int standby = op->standby;

			e = op->fail;
			xb_op_free(xb, op);
			xb_emit_create_failed(xb, svc, domid, standby, &e);
		}
		break;
	case OP_SHUTDOWN:
		/* completion only means the guest saw the request */
		if (rc && rc != ERROR_DOMAIN_NOTFOUND)
			log_warnx("%s: shutdown request not acknowledged "
			    "(libxl error %d)", svc, rc);
		xb_op_free(xb, op);
		break;
	case OP_DISK: {
		struct be_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.type = BE_DISK_DONE;
		strlcpy_(ev.svc, svc, sizeof(ev.svc));
		ev.domid = domid;
		ev.token = op->token;
		ev.ok = rc == 0;
		if (rc)
			xb_err(xb, &ev.err, rc, op->attach ? "disk attach" :
			    "disk detach");
		libxl_device_disk_dispose(&op->disk);
		xb_op_free(xb, op);
		if (xb->be.notify)
			xb->be.notify(xb->be.notify_arg, &ev);
		break;
	}
	case OP_DESTROY:
		xb_xdom_unwatch(xb, domid);
		xb_op_free(xb, op);
		if (rc && rc != ERROR_DOMAIN_NOTFOUND) {
			xb_err(xb, &e, rc, "destroy");
			xb_emit(xb, BE_DESTROY_FAILED, svc, domid, SR_NONE, &e);
		} else
			xb_emit(xb, BE_DESTROYED, svc, domid, SR_NONE, NULL);
		break;
	}
}
