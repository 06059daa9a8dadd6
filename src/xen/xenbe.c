// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The libxl backend. One libxl context for the daemon, joined to domud's
 * poll loop with libxl_osevent_beforepoll/afterpoll. Shutdown and destroy
 * are started with ao_how.callback = NULL, so their completion comes back as
 * an OPERATION_COMPLETE event that we pull with libxl_event_check after
 * poll: no callback ever runs inside a libxl call, and the supervisor is only
 * told from xb_after_poll.
 *
 * Creates are different. libxl builds the domain (loads and decompresses
 * the kernel, writes the page tables) inside the *initiating* call of
 * libxl_domain_create_new, with the context lock held, even when ao_how asks
 * for an asynchronous operation: measured in the e2e lab, that call blocked
 * the loop for ~2 s per domain from an ELF kernel and far longer from a
 * compressed bzImage. So each create runs on a builder thread with a libxl
 * context of its own, to completion; the thread then writes a byte to a pipe
 * that the main loop polls, and the main loop joins it (threads are never
 * detached) and finishes in the main context: tag, death watch, unpause.
 * libxl's SIGCHLD handling serves several contexts at once (each reaps only
 * its own children).
 *
 * What someone else does to our domains shows up here too: libxl's death
 * watch (a xenstore watch on @releaseDomain) reports a death; one that comes
 * without a shutdown and while no destroy of ours is under way was someone
 * else's destroy (`xl destroy`): BE_DIED with SR_DESTROYED. What no event
 * tells (a pause, a domain created by someone else with a service's name, a
 * domain that stays dying) the supervisor sees through xb_list, a cheap
 * listing it asks for every few seconds.
 *
 * SIGCHLD: libxl_sigchld_owner_libxl_always_selective_reap. libxl reaps only
 * its own children (hotplug scripts, the destroy helper); domud forks none
 * and installs no SIGCHLD handler.
 */
#define LIBXL_API_VERSION 0x041400

#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

#include "xen/backend.h"
#include "conf/config.h"
#include "base/log.h"
#include "base/util.h"
#include "tty.h"
#include "xenbe.h"

#define USERDATA_TAG	"domud"

/* OP_CREATE: the destroy that undoes a create whose last steps failed */
enum op_kind { OP_CREATE, OP_DESTROY, OP_SHUTDOWN, OP_DISK };

struct op {
	struct op		*next;
	uint64_t		 id;		/* libxl's for_event */
	enum op_kind		 kind;
	char			 name[SERVICE_NAME_MAX + 1];
	uint32_t		 domid;
	libxl_asyncop_how	 how;
	struct err		 fail;		/* create undone: why */
	libxl_device_disk	 disk;		/* OP_DISK: alive while libxl works */
	uint64_t		 token;		/* OP_DISK: the caller's */
	int			 attach;
	int			 standby;	/* OP_CREATE: of a standby */
};

/* a domain we watch for shutdown and death */
struct xdom {
	struct xdom		*next;
	uint32_t		 domid;
	char			 name[SERVICE_NAME_MAX + 1];
	libxl_evgen_domain_death *evg;
	int			 shutdown_seen;	/* DOMAIN_SHUTDOWN came */
};

struct xlogger {
	xentoollog_logger	 vtable;
	char			 last_error[256];
};

/* one create, on a thread of its own */
struct builder {
	struct builder		*next;
	struct xenbe		*xb;
	pthread_t		 thread;
	char			 name[SERVICE_NAME_MAX + 1];	/* the service */
	int			 standby;	/* built paused as its standby */
	libxl_domain_config	 cfg;
	uint32_t		 domid;
	int			 rc;
	char			 error[256];
	int			 done;		/* atomic */
	uint64_t		 started_ms;
	char			*(*kernel_prepare)(void *, const char *, int *,
				    struct err *);
	void			*kernel_arg;
	uint64_t		 kernel_ms;
	enum be_kernel_from	 kernel_from;
};

struct xenbe {
	struct backend		 be;
	libxl_ctx		*ctx;
	struct xlogger		*logger;
	struct op		*ops;
	struct builder		*builders;
	int			 build_pipe[2];	/* builders -> main loop */
	struct xdom		*doms;
	uint64_t		 next_id;
	int			 poll_first, poll_n;	/* libxl's part of fds */
};

static const libxl_childproc_hooks childproc_hooks = {
	.chldowner = libxl_sigchld_owner_libxl_always_selective_reap,
};

/* ---- logging: libxl's messages go to domud's log ----------------------------- */

static void
xlog_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
    const char *context, const char *format, va_list al)
{
	struct xlogger *xl = (struct xlogger *)lg;
	char msg[512];

	if (level < XTL_INFO && log_getverbose() < 2)
		return;
	if (level < XTL_WARN && log_getverbose() < 1)
		return;
	vsnprintf(msg, sizeof(msg), format, al);
	if (errnoval >= 0 && level >= XTL_WARN)
		log_warnx("libxl: %s%s%s: %s", context ? context : "",
		    context ? ": " : "", msg, strerror(errnoval));
	else if (level >= XTL_WARN)
		log_warnx("libxl: %s%s%s", context ? context : "",
		    context ? ": " : "", msg);
	else
		log_debug("libxl: %s", msg);
	if (level >= XTL_ERROR)
		strlcpy_(xl->last_error, msg, sizeof(xl->last_error));
}

static void
xlog_progress(xentoollog_logger *lg, const char *context,
    const char *doing_what, int percent, unsigned long done,
    unsigned long total)
{
}

static void
xlog_destroy(xentoollog_logger *lg)
{
	free(lg);
}

static struct xlogger *
xlogger_new(void)
{
	struct xlogger *lg = xcalloc(1, sizeof(*lg));

	lg->vtable.vmessage = xlog_vmessage;
	lg->vtable.progress = xlog_progress;
	lg->vtable.destroy = xlog_destroy;
	return lg;
}

/* ---- helpers ---------------------------------------------------------------- */

static struct xenbe *
xb_of(struct backend *be)
{
	return (struct xenbe *)be;
}

static int
xerr(struct xenbe *xb, struct err *e, int rc, const char *what)
{
	if (xb->logger->last_error[0])
		err_set(e, rc, "%s: %s (libxl error %d)", what,
		    xb->logger->last_error, rc);
	else
		err_set(e, rc, "%s: libxl error %d", what, rc);
	xb->logger->last_error[0] = '\0';
	return -1;
}

/* a backend event to the supervisor; BE_CREATED carries how long the
 * create and the unpause took */
static void
emit_ev(struct xenbe *xb, enum be_event_type type, const char *svc,
    uint32_t domid, enum shutdown_reason reason, const struct err *e,
    const struct builder *b, uint64_t create_ms, uint64_t unpause_ms)
{
	struct be_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	strlcpy_(ev.svc, svc, sizeof(ev.svc));
	ev.domid = domid;
	ev.reason = reason;
	if (e)
		ev.err = *e;
	ev.create_ms = create_ms;
	ev.unpause_ms = unpause_ms;
	if (b) {
		ev.kernel_ms = b->kernel_ms;
		ev.kernel_from = b->kernel_from;
		ev.standby = b->standby;
	}
	if (xb->be.notify)
		xb->be.notify(xb->be.notify_arg, &ev);
}

static void
emit(struct xenbe *xb, enum be_event_type type, const char *svc,
    uint32_t domid, enum shutdown_reason reason, const struct err *e)
{
	emit_ev(xb, type, svc, domid, reason, e, NULL, 0, 0);
}

/* a create that failed, saying whether it was a standby's */
static void
emit_create_failed(struct xenbe *xb, const char *svc, uint32_t domid,
    int standby, const struct err *e)
{
	struct builder b;

	memset(&b, 0, sizeof(b));
	b.standby = standby;
	emit_ev(xb, BE_CREATE_FAILED, svc, domid, SR_NONE, e, &b, 0, 0);
}

static struct op *
op_new(struct xenbe *xb, enum op_kind kind, const char *name, uint32_t domid)
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
op_free(struct xenbe *xb, struct op *op)
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

static struct xdom *
xdom_find(struct xenbe *xb, uint32_t domid)
{
	struct xdom *d;

	for (d = xb->doms; d; d = d->next)
		if (d->domid == domid)
			return d;
	return NULL;
}

static int
xdom_watch(struct xenbe *xb, const char *name, uint32_t domid,
    struct err *e)
{
	struct xdom *d = xcalloc(1, sizeof(*d));
	int rc;

	d->domid = domid;
	strlcpy_(d->name, name, sizeof(d->name));
	/* for_user is the domid, not a pointer: late events stay harmless */
	rc = libxl_evenable_domain_death(xb->ctx, domid, domid, &d->evg);
	if (rc) {
		free(d);
		return xerr(xb, e, rc, "watching the domain");
	}
	d->next = xb->doms;
	xb->doms = d;
	return 0;
}

static void
xdom_unwatch(struct xenbe *xb, uint32_t domid)
{
	struct xdom **pp, *d;

	for (pp = &xb->doms; (d = *pp) != NULL; pp = &d->next)
		if (d->domid == domid) {
			*pp = d->next;
			libxl_evdisable_domain_death(xb->ctx, d->evg);
			free(d);
			return;
		}
}

/* ---- building the domain --------------------------------------------------------- */

static int
check_file(const char *what, const char *path, struct err *e)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return err_set(e, errno, "%s %s: %s", what, path,
		    strerror(errno));
	return 0;
}

static char *
xstrdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* a CPU bitmap of bits bits (0: as many as Xen has CPUs); without a
 * context (xenbe_config_json, off Xen) calloc'd as libxl would */
static int
cpumap_alloc(struct xenbe *xb, libxl_bitmap *m, int bits, struct err *e)
{
	int rc;

	if (xb->ctx == NULL) {
		m->size = (uint32_t)(((bits ? bits : CPUS_MAX) + 7) / 8);
		m->map = xcalloc(m->size, 1);
		return 0;
	}
	if ((rc = libxl_cpu_bitmap_alloc(xb->ctx, m, bits)) != 0)
		return xerr(xb, e, rc, "cpu bitmap");
	return 0;
}

/* one libxl bitmap per vCPU: its own set, or the one set for all */
static int
affinity_maps(struct xenbe *xb, const struct cpuset *sets, size_t nsets,
    unsigned vcpus, libxl_bitmap **maps, int *nmaps, struct err *e)
{
	unsigned v, cpu;

	*maps = xcalloc(vcpus, sizeof(**maps));
	*nmaps = (int)vcpus;
	for (v = 0; v < vcpus; v++) {
		const struct cpuset *set = &sets[nsets == 1 ? 0 : v];

		libxl_bitmap_init(&(*maps)[v]);
		if (cpumap_alloc(xb, &(*maps)[v], 0, e) == -1)
			return -1;
		for (cpu = 0; cpu < CPUS_MAX &&
		    cpu < (*maps)[v].size * 8; cpu++)
			if (cpuset_has(set, cpu))
				libxl_bitmap_set(&(*maps)[v], (int)cpu);
	}
	return 0;
}

/* where it runs, how it is scheduled, and the devices it owns */
static int
build_partition(struct xenbe *xb, const struct be_domain_spec *sp,
    libxl_domain_config *c, struct err *e)
{
	libxl_domain_build_info *b = &c->b_info;
	size_t i;

	if (sp->maxmem > sp->memory)
		b->max_memkb = sp->maxmem / 1024;
	if (sp->ncpus && affinity_maps(xb, sp->cpus, sp->ncpus, sp->vcpus,
	    &b->vcpu_hard_affinity, &b->num_vcpu_hard_affinity, e) == -1)
		return -1;
	if (sp->ncpus_soft && affinity_maps(xb, sp->cpus_soft,
	    sp->ncpus_soft, sp->vcpus, &b->vcpu_soft_affinity,
	    &b->num_vcpu_soft_affinity, e) == -1)
		return -1;
	/* left to libxl's defaults when not said; the pool's scheduler
	 * takes them (libxl sets them once the domain is in its pool) */
	if (sp->weight)
		b->sched_params.weight = sp->weight;
	if (sp->cap)
		b->sched_params.cap = sp->cap;
	if (sp->period_us)
		b->sched_params.period = (int)sp->period_us;
	if (sp->budget_us)
		b->sched_params.budget = (int)sp->budget_us;
	if (sp->npci) {
		c->pcidevs = xcalloc(sp->npci, sizeof(*c->pcidevs));
		c->num_pcidevs = (int)sp->npci;
		for (i = 0; i < sp->npci; i++) {
			libxl_device_pci_init(&c->pcidevs[i]);
			c->pcidevs[i].domain = sp->pci[i].domain;
			c->pcidevs[i].bus = sp->pci[i].bus;
			c->pcidevs[i].dev = sp->pci[i].dev;
			c->pcidevs[i].func = sp->pci[i].func;
			c->pcidevs[i].seize = sp->pci[i].seize;
			/* as xl's parser leaves them: function 0 of the
			 * guest's slot, reserved regions strictly kept */
			c->pcidevs[i].vfunc_mask = 1;
			c->pcidevs[i].rdm_policy =
			    LIBXL_RDM_RESERVE_POLICY_STRICT;
		}
	}
	if (sp->ndtdev) {
		c->dtdevs = xcalloc(sp->ndtdev, sizeof(*c->dtdevs));
		c->num_dtdevs = (int)sp->ndtdev;
		for (i = 0; i < sp->ndtdev; i++) {
			libxl_device_dtdev_init(&c->dtdevs[i]);
			c->dtdevs[i].path = xstrdup(sp->dtdev[i]);
		}
	}
	if (sp->niomem) {
		b->iomem = xcalloc(sp->niomem, sizeof(*b->iomem));
		b->num_iomem = (int)sp->niomem;
		for (i = 0; i < sp->niomem; i++) {
			libxl_iomem_range_init(&b->iomem[i]);
			b->iomem[i].start = sp->iomem[i].start;
			b->iomem[i].number = sp->iomem[i].count;
			if (sp->iomem[i].has_gfn)
				b->iomem[i].gfn = sp->iomem[i].gfn;
		}
	}
	if (sp->nirqs) {
		b->irqs = xcalloc(sp->nirqs, sizeof(*b->irqs));
		b->num_irqs = (int)sp->nirqs;
		for (i = 0; i < sp->nirqs; i++)
			b->irqs[i] = sp->irqs[i];
	}
	b->device_tree = xstrdup_or_null(sp->device_tree);
	return 0;
}

static int
build_config(struct xenbe *xb, const struct be_domain_spec *sp,
    libxl_domain_config *c, struct err *e)
{
	libxl_domain_type type = sp->type == BE_PVH ? LIBXL_DOMAIN_TYPE_PVH :
	    LIBXL_DOMAIN_TYPE_PV;
	size_t i, n;

	c->c_info.type = type;
	if (sp->standby) {
		if (asprintf(&c->c_info.name, "%s%s", sp->name,
		    BE_STANDBY_SUFFIX) < 0)
			return err_set(e, ENOMEM, "out of memory");
	} else
		c->c_info.name = xstrdup(sp->name);
	/* libxl makes no UUID; ours is fixed per service (adoption keys on it) */
	memcpy(libxl_uuid_bytearray(&c->c_info.uuid), sp->uuid, 16);
	libxl_domain_build_info_init_type(&c->b_info, type);
	c->b_info.max_memkb = c->b_info.target_memkb = sp->memory / 1024;
	c->b_info.max_vcpus = (int)sp->vcpus;
	if (cpumap_alloc(xb, &c->b_info.avail_vcpus, (int)sp->vcpus, e) == -1)
		return -1;
	for (i = 0; i < sp->vcpus; i++)
		libxl_bitmap_set(&c->b_info.avail_vcpus, (int)i);
	c->b_info.kernel = xstrdup(sp->kernel);
	c->b_info.ramdisk = xstrdup_or_null(sp->ramdisk);
	c->b_info.cmdline = xstrdup_or_null(sp->cmdline);
	/* libxl frees xsdata with the config: a copy of ours */
	if (sp->xsdata) {
		for (n = 0; sp->xsdata[n]; n++)
			;
		c->c_info.xsdata = xcalloc(n + 1, sizeof(char *));
		for (i = 0; i < n; i++)
			c->c_info.xsdata[i] = xstrdup(sp->xsdata[i]);
	}

	if (sp->ndisks) {
		c->disks = xcalloc(sp->ndisks, sizeof(*c->disks));
		c->num_disks = (int)sp->ndisks;
		for (i = 0; i < sp->ndisks; i++) {
			libxl_device_disk *d = &c->disks[i];

			libxl_device_disk_init(d);
			d->pdev_path = xstrdup(sp->disks[i].path);
			d->vdev = xstrdup(sp->disks[i].vdev);
			/* init leaves UNKNOWN, which silently means QDISK */
			d->format = LIBXL_DISK_FORMAT_RAW;
			d->backend = LIBXL_DISK_BACKEND_PHY;
			d->readwrite = sp->disks[i].readwrite;
		}
	}
	if (sp->nvifs) {
		c->nics = xcalloc(sp->nvifs, sizeof(*c->nics));
		c->num_nics = (int)sp->nvifs;
		for (i = 0; i < sp->nvifs; i++) {
			libxl_device_nic_init(&c->nics[i]);
			c->nics[i].bridge = xstrdup_or_null(sp->vifs[i].bridge);
			memcpy(c->nics[i].mac, sp->vifs[i].mac, 6);
		}
	}
	if (build_partition(xb, sp, c, e) == -1)
		return -1;
	/* libxl never acts on these; domud applies its own policy */
	c->on_poweroff = c->on_reboot = c->on_crash = c->on_watchdog =
	    LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	return 0;
}

static void *
builder_main(void *arg)
{
	struct builder *b = arg;
	struct xlogger *lg = xlogger_new();
	libxl_ctx *ctx = NULL;
	unsigned char c = 1;

	if (b->kernel_prepare) {
		struct err e = ERR_INIT;
		uint64_t t0 = mono_ms();
		int hit = 0;
		char *k = b->kernel_prepare(b->kernel_arg, b->cfg.b_info.kernel,
		    &hit, &e);

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
		libxl_childproc_setmode(ctx, &childproc_hooks, NULL);
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
		return xerr(xb, e, rc, "physinfo");
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

static int
xb_check(struct backend *be, const struct be_domain_spec *sc, struct err *e)
{
	uint32_t poolid;

	return machine_check(xb_of(be), sc, &poolid, e);
}

static int
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
	strlcpy_(b->name, sc->name, sizeof(b->name));
	b->standby = sc->standby;
	libxl_domain_config_init(&b->cfg);
	b->cfg.c_info.poolid = poolid;
	if (build_config(xb, sc, &b->cfg, e) == -1) {
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
		return xerr(xb, e, rc, "storing the domud tag");
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
		emit_create_failed(xb, name, domid, b->standby, &e);
		return;
	}
	if (store_tag(xb, name, domid, b->standby, &e) == -1 ||
	    xdom_watch(xb, name, domid, &e) == -1)
		goto undo;
	/* a standby stays paused until activate */
	rc = b->standby ? 0 : libxl_domain_unpause(xb->ctx, domid, NULL);
	if (rc) {
		xerr(xb, &e, rc, "unpause");
		goto undo;
	}
	emit_ev(xb, BE_CREATED, name, domid, SR_NONE, NULL, b, create_ms,
	    mono_ms() - built);
	return;
undo:
	/* no half-made domain is left behind: destroy, then report */
	log_warnx("%s: %s; destroying domain %u", name, e.msg, domid);
	xdom_unwatch(xb, domid);
	dop = op_new(xb, OP_DESTROY, name, domid);
	dop->kind = OP_CREATE;		/* completes as a failed create */
	dop->fail = e;
	dop->standby = b->standby;
	rc = libxl_domain_destroy(xb->ctx, domid, &dop->how);
	if (rc) {
		op_free(xb, dop);
		emit_create_failed(xb, name, domid, b->standby, &e);
	}
}

static int
xb_shutdown(struct backend *be, const char *svc, uint32_t domid,
    struct err *e)
{
	struct xenbe *xb = xb_of(be);
	struct op *op = op_new(xb, OP_SHUTDOWN, svc, domid);
	int rc;

	rc = libxl_domain_shutdown(xb->ctx, domid, &op->how);
	if (rc) {
		op_free(xb, op);
		return xerr(xb, e, rc, "shutdown request");
	}
	return 0;
}

static int
xb_destroy(struct backend *be, const char *svc, uint32_t domid,
    struct err *e)
{
	struct xenbe *xb = xb_of(be);
	struct op *op = op_new(xb, OP_DESTROY, svc, domid);
	int rc;

	rc = libxl_domain_destroy(xb->ctx, domid, &op->how);
	if (rc) {
		op_free(xb, op);
		return xerr(xb, e, rc, "destroy");
	}
	return 0;
}

static void
op_complete(struct xenbe *xb, uint64_t id, int rc)
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
			op_free(xb, op);
			emit_create_failed(xb, svc, domid, standby, &e);
		}
		break;
	case OP_SHUTDOWN:
		/* completion only means the guest saw the request */
		if (rc && rc != ERROR_DOMAIN_NOTFOUND)
			log_warnx("%s: shutdown request not acknowledged "
			    "(libxl error %d)", svc, rc);
		op_free(xb, op);
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
			xerr(xb, &ev.err, rc, op->attach ? "disk attach" :
			    "disk detach");
		libxl_device_disk_dispose(&op->disk);
		op_free(xb, op);
		if (xb->be.notify)
			xb->be.notify(xb->be.notify_arg, &ev);
		break;
	}
	case OP_DESTROY:
		xdom_unwatch(xb, domid);
		op_free(xb, op);
		if (rc && rc != ERROR_DOMAIN_NOTFOUND) {
			xerr(xb, &e, rc, "destroy");
			emit(xb, BE_DESTROY_FAILED, svc, domid, SR_NONE, &e);
		} else
			emit(xb, BE_DESTROYED, svc, domid, SR_NONE, NULL);
		break;
	}
}

static enum shutdown_reason
reason_of(libxl_shutdown_reason r)
{
	switch (r) {
	case LIBXL_SHUTDOWN_REASON_POWEROFF:
		return SR_POWEROFF;
	case LIBXL_SHUTDOWN_REASON_REBOOT:
		return SR_REBOOT;
	case LIBXL_SHUTDOWN_REASON_SUSPEND:
		return SR_SUSPEND;
	case LIBXL_SHUTDOWN_REASON_CRASH:
		return SR_CRASH;
	case LIBXL_SHUTDOWN_REASON_WATCHDOG:
		return SR_WATCHDOG;
	case LIBXL_SHUTDOWN_REASON_SOFT_RESET:
		return SR_SOFT_RESET;
	default:
		return SR_UNKNOWN;
	}
}

/* a destroy of ours is under way for the domain */
static int
destroying(struct xenbe *xb, uint32_t domid)
{
	struct op *op;

	for (op = xb->ops; op; op = op->next)
		if (op->domid == domid && (op->kind == OP_DESTROY ||
		    op->kind == OP_CREATE))
			return 1;
	return 0;
}

/*
 * Why a watched domain died. libxl reports DOMAIN_DEATH once the domain is
 * dying or gone; a guest's own end is a shutdown first. A death without one,
 * while no destroy of ours is under way, is someone else's destroy (`xl
 * destroy` pauses, takes the devices away and destroys: no shutdown). If
 * the guest had shut down and was destroyed before we saw it, Xen still
 * tells the reason of a dying domain.
 */
static enum shutdown_reason
death_reason(struct xenbe *xb, struct xdom *d)
{
	enum shutdown_reason r = SR_DESTROYED;
	libxl_dominfo info;

	if (d->shutdown_seen || destroying(xb, d->domid))
		return SR_NONE;
	libxl_dominfo_init(&info);
	if (libxl_domain_info(xb->ctx, &info, d->domid) == 0 && info.shutdown)
		r = reason_of(info.shutdown_reason);
	libxl_dominfo_dispose(&info);
	xb->logger->last_error[0] = '\0';	/* NOTFOUND: gone, as expected */
	if (r == SR_DESTROYED)
		log_info("%s: domain %u died without a shutdown, and not by "
		    "domud's destroy: destroyed outside domud", d->name,
		    d->domid);
	return r;
}

static void
handle_event(struct xenbe *xb, libxl_event *ev)
{
	struct xdom *d;
	uint32_t domid = ev->domid;

	switch (ev->type) {
	case LIBXL_EVENT_TYPE_OPERATION_COMPLETE:
		op_complete(xb, ev->for_user, ev->u.operation_complete.rc);
		break;
	case LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN:
		if ((d = xdom_find(xb, domid)) != NULL) {
			d->shutdown_seen = 1;
			emit(xb, BE_SHUTDOWN, d->name, domid, reason_of(
			    ev->u.domain_shutdown.shutdown_reason), NULL);
		}
		break;
	case LIBXL_EVENT_TYPE_DOMAIN_DEATH:
		if ((d = xdom_find(xb, domid)) != NULL) {
			char name[SERVICE_NAME_MAX + 1];
			enum shutdown_reason r = death_reason(xb, d);

			strlcpy_(name, d->name, sizeof(name));
			xdom_unwatch(xb, domid);
			emit(xb, BE_DIED, name, domid, r, NULL);
		}
		break;
	default:
		log_debug("libxl event %d ignored", ev->type);
		break;
	}
}

/* ---- queries ------------------------------------------------------------------ */

static int
xb_free_memory(struct backend *be, uint64_t *bytes, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	uint64_t kb;
	int rc;

	rc = libxl_get_free_memory(xb->ctx, &kb);
	if (rc)
		return xerr(xb, e, rc, "free memory");
	*bytes = kb * 1024;
	return 0;
}

static int
xb_need_memory(struct backend *be, const struct be_domain_spec *sp,
    uint64_t *bytes, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	libxl_domain_config c;
	uint64_t kb = 0;
	int rc, ret = -1;

	libxl_domain_config_init(&c);
	if (build_config(xb, sp, &c, e) == -1)
		goto out;
	rc = libxl_domain_need_memory(xb->ctx, &c, 0, &kb);
	if (rc) {
		xerr(xb, e, rc, "memory needed");
		goto out;
	}
	*bytes = kb * 1024;
	ret = 0;
out:
	libxl_domain_config_dispose(&c);
	return ret;
}

static int
xb_dominfo(struct backend *be, uint32_t domid, struct be_dominfo *out,
    struct err *e)
{
	struct xenbe *xb = xb_of(be);
	libxl_dominfo info;
	int rc;

	libxl_dominfo_init(&info);
	rc = libxl_domain_info(xb->ctx, &info, domid);
	if (rc) {
		libxl_dominfo_dispose(&info);
		return xerr(xb, e, rc, "domain info");
	}
	memset(out, 0, sizeof(*out));
	out->domid = domid;
	out->memory = info.current_memkb * 1024;
	out->running = info.running;
	out->paused = info.paused;
	out->shutdown = info.shutdown;
	out->dying = info.dying;
	libxl_dominfo_dispose(&info);
	out->start_time = (time_t)libxl_vm_get_start_time(xb->ctx, domid);
	return 0;
}

/* every domain but Dom0; deep: with our tag and libxl's record (files
 * under /var/lib/xen: at start only) */
static int
list_domains(struct xenbe *xb, struct be_found **out, size_t *nout, int deep,
    struct err *e)
{
	libxl_dominfo *list;
	struct be_found *f;
	int i, n = 0, len;
	uint8_t *data;
	size_t k = 0;

	*out = NULL;
	*nout = 0;
	if ((list = libxl_list_domain(xb->ctx, &n)) == NULL)
		return xerr(xb, e, ERROR_FAIL, "listing domains");
	f = xcalloc((size_t)n, sizeof(*f));
	for (i = 0; i < n; i++) {
		struct be_found *d = &f[k];
		char *name;

		if (list[i].domid == 0)
			continue;
		d->domid = list[i].domid;
		memcpy(d->uuid, libxl_uuid_bytearray(&list[i].uuid), 16);
		d->paused = list[i].paused;
		d->shutdown = list[i].shutdown;
		d->dying = list[i].dying;
		d->cpu_ns = list[i].cpu_time;
		d->mem_bytes = list[i].current_memkb * 1024;
		d->max_mem_bytes = list[i].max_memkb * 1024;
		d->vcpus_online = (int)list[i].vcpu_online;
		d->reason = d->shutdown ?
		    reason_of(list[i].shutdown_reason) : SR_NONE;
		/* a dying domain may have no name left (libxl removes its
		 * xenstore directory before the final destroy) */
		if ((name = libxl_domid_to_name(xb->ctx, d->domid)) != NULL) {
			strlcpy_(d->name, name, sizeof(d->name));
			free(name);
		}
		if (!deep) {
			k++;
			continue;
		}
		/* our tag: {"v":1,"service":"NAME"} */
		data = NULL;
		len = 0;
		if (libxl_userdata_retrieve(xb->ctx, d->domid, USERDATA_TAG,
		    &data, &len) == 0 && len > 0) {
			char buf[160], *p;

			memcpy(buf, data, (size_t)len < sizeof(buf) - 1 ?
			    (size_t)len : sizeof(buf) - 1);
			buf[(size_t)len < sizeof(buf) - 1 ? (size_t)len :
			    sizeof(buf) - 1] = '\0';
			d->standby = strstr(buf, "\"standby\":true") != NULL;
			if ((p = strstr(buf, "\"service\":\"")) != NULL) {
				p += 11;
				p[strcspn(p, "\"")] = '\0';
				strlcpy_(d->tag, p, sizeof(d->tag));
			}
		}
		free(data);
		data = NULL;
		len = 0;
		if (libxl_userdata_retrieve(xb->ctx, d->domid, "libxl-json",
		    &data, &len) == 0 && len > 0)
			d->has_config = 1;
		free(data);
		k++;
	}
	libxl_dominfo_list_free(list, n);
	xb->logger->last_error[0] = '\0';	/* a name or a tag may be absent */
	*out = f;
	*nout = k;
	return 0;
}

static int
xb_scan(struct backend *be, struct be_found **out, size_t *nout,
    struct err *e)
{
	return list_domains(xb_of(be), out, nout, 1, e);
}

static int
xb_list(struct backend *be, struct be_found **out, size_t *nout,
    struct err *e)
{
	return list_domains(xb_of(be), out, nout, 0, e);
}

static int
xb_adopt(struct backend *be, const char *svc, uint32_t domid, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	libxl_dominfo info;
	struct xdom *d;
	int rc;

	if (xdom_find(xb, domid) == NULL && xdom_watch(xb, svc, domid, e) == -1)
		return -1;
	d = xdom_find(xb, domid);
	/* a watch added now only sees the next change: look at it too */
	libxl_dominfo_init(&info);
	rc = libxl_domain_info(xb->ctx, &info, domid);
	if (rc) {
		libxl_dominfo_dispose(&info);
		xdom_unwatch(xb, domid);
		return xerr(xb, e, rc, "domain info");
	}
	/* the supervisor dispatches a shutdown it finds: not twice */
	d->shutdown_seen = info.shutdown;
	/* left paused by a domud that died between build and unpause: its
	 * vCPUs never ran. One that ran was paused by someone else: that is
	 * reported (the supervisor's listing), not undone. */
	if (info.paused && !info.shutdown && !info.dying) {
		if (info.cpu_time != 0)
			log_warnx("%s: adopted domain %u is paused, and not by "
			    "domud: left paused", svc, domid);
		else if ((rc = libxl_domain_unpause(xb->ctx, domid, NULL)) != 0)
			log_warnx("%s: unpause of adopted domain %u: libxl error "
			    "%d", svc, domid, rc);
	}
	libxl_dominfo_dispose(&info);
	return 0;
}

static char *
xb_console_path(struct backend *be, uint32_t domid, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	char *path = NULL, real[256];
	int rc;

	rc = libxl_primary_console_get_tty(xb->ctx, domid, &path);
	if (rc) {
		xerr(xb, e, rc, "console tty");
		return NULL;
	}
	/* the guest may be able to write what xenstore says: check first,
	 * and hand on the resolved path, which is what was checked */
	rc = xen_tty_check(path, real, sizeof(real), e);
	free(path);
	if (rc == -1)
		return NULL;
	return xstrdup(real);
}

/* ---- poll integration ------------------------------------------------------------ */

static int
xb_before_poll(struct backend *be, struct pollfd *fds, int *nfds, int max,
    int *timeout_ms)
{
	struct xenbe *xb = xb_of(be);
	struct timeval now;
	int n = max - *nfds, rc;

	if (xb->builders && *nfds < max) {
		fds[*nfds].fd = xb->build_pipe[0];
		fds[*nfds].events = POLLIN;
		fds[*nfds].revents = 0;
		(*nfds)++;
		n--;
	}
	gettimeofday(&now, NULL);
	rc = libxl_osevent_beforepoll(xb->ctx, &n, fds + *nfds, timeout_ms, now);
	if (rc) {
		/* out of room: poll without libxl's fds this round, soon */
		log_warnx("libxl wants %d poll fds; only %d left", n,
		    max - *nfds);
		xb->poll_n = 0;
		if (*timeout_ms < 0 || *timeout_ms > 100)
			*timeout_ms = 100;
		return -1;
	}
	xb->poll_first = *nfds;
	xb->poll_n = n;
	*nfds += n;
	return 0;
}

/* join the builders that are done and finish their creates */
static void
builders_reap(struct xenbe *xb)
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

static void
xb_after_poll(struct backend *be, struct pollfd *fds, int nfds)
{
	struct xenbe *xb = xb_of(be);
	struct timeval now;
	libxl_event *ev;
	int rc;

	builders_reap(xb);

	gettimeofday(&now, NULL);
	/* poll failed (EINTR): libxl still gets its timeouts run */
	if (nfds >= xb->poll_first + xb->poll_n)
		libxl_osevent_afterpoll(xb->ctx, xb->poll_n,
		    fds + xb->poll_first, now);
	else
		libxl_osevent_afterpoll(xb->ctx, 0, NULL, now);
	xb->poll_n = 0;
	for (;;) {
		rc = libxl_event_check(xb->ctx, &ev, LIBXL_EVENTMASK_ALL, NULL,
		    NULL);
		if (rc == ERROR_NOT_READY)
			break;
		if (rc) {
			log_warnx("libxl_event_check: error %d", rc);
			break;
		}
		handle_event(xb, ev);
		libxl_event_free(xb->ctx, ev);
	}
}

static int
xb_idle(struct backend *be)
{
	return xb_of(be)->ops == NULL && xb_of(be)->builders == NULL;
}

static void
xb_free(struct backend *be)
{
	struct xenbe *xb = xb_of(be);

	while (xb->doms)
		xdom_unwatch(xb, xb->doms->domid);
	/* libxl_ctx_free asserts that no operation is in flight */
	while (xb->builders) {
		struct builder *b = xb->builders;

		xb->builders = b->next;
		pthread_join(b->thread, NULL);
		libxl_domain_config_dispose(&b->cfg);
		free(b);
	}
	close(xb->build_pipe[0]);
	close(xb->build_pipe[1]);
	if (xb->ops)
		log_warnx("libxl operations still in flight at exit");
	else if (xb->ctx)
		libxl_ctx_free(xb->ctx);
	xtl_logger_destroy(&xb->logger->vtable);
	free(xb);
}

static int
xb_disk_attach(struct backend *be, const char *svc, uint32_t domid,
    const char *path, const char *vdev, uint64_t token, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	struct op *op = op_new(xb, OP_DISK, svc, domid);
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
		op_free(xb, op);
		return xerr(xb, e, rc, "disk attach");
	}
	return 0;
}

static int
xb_disk_detach(struct backend *be, const char *svc, uint32_t domid,
    const char *vdev, uint64_t token, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	struct op *op = op_new(xb, OP_DISK, svc, domid);
	int rc;

	op->token = token;
	libxl_device_disk_init(&op->disk);
	rc = libxl_vdev_to_device_disk(xb->ctx, domid, vdev, &op->disk);
	if (rc == 0)
		rc = libxl_device_disk_remove(xb->ctx, domid, &op->disk,
		    &op->how);
	if (rc) {
		libxl_device_disk_dispose(&op->disk);
		op_free(xb, op);
		return xerr(xb, e, rc, "disk detach");
	}
	return 0;
}

static int
xb_disk_list(struct backend *be, uint32_t domid, char (*vdevs)[BE_VDEV_MAX],
    size_t max, size_t *n, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	libxl_device_disk *d;
	int num = 0, i;

	*n = 0;
	if ((d = libxl_device_disk_list(xb->ctx, domid, &num)) == NULL)
		return 0;	/* none, or the domain is gone */
	for (i = 0; i < num && *n < max; i++)
		if (d[i].vdev)
			strlcpy_(vdevs[(*n)++], d[i].vdev, BE_VDEV_MAX);
	libxl_device_disk_list_free(d, num);
	(void)e;
	return 0;
}

/* one counter of blkback's sysfs statistics, 0 when unreadable */
static int
vbd_stat(uint32_t domid, int devid, const char *name, uint64_t *v)
{
	char path[128], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/xen-backend/devices/vbd-%u-%d/"
	    "statistics/%s", domid, devid, name);
	*v = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	*v = strtoull(buf, NULL, 10);
	return 0;
}

static int
xb_devices(struct backend *be, uint32_t domid, struct be_devices *out,
    struct err *e)
{
	struct xenbe *xb = xb_of(be);
	libxl_device_disk *d;
	libxl_device_nic *nic;
	int num = 0, i;

	(void)e;
	memset(out, 0, sizeof(*out));
	if ((d = libxl_device_disk_list(xb->ctx, domid, &num)) != NULL) {
		for (i = 0; i < num && out->ndisks < BE_DEVS_MAX; i++) {
			struct be_disk_stat *ds = &out->disks[out->ndisks];
			libxl_diskinfo info;

			if (d[i].vdev == NULL)
				continue;
			strlcpy_(ds->vdev, d[i].vdev, sizeof(ds->vdev));
			libxl_diskinfo_init(&info);
			if (libxl_device_disk_getinfo(xb->ctx, domid, &d[i],
			    &info) == 0)
				ds->has_stats = vbd_stat(domid, info.devid,
				    "rd_req", &ds->rd_req) == 0 &&
				    vbd_stat(domid, info.devid, "wr_req",
				    &ds->wr_req) == 0 &&
				    vbd_stat(domid, info.devid, "rd_sect",
				    &ds->rd_sect) == 0 &&
				    vbd_stat(domid, info.devid, "wr_sect",
				    &ds->wr_sect) == 0;
			libxl_diskinfo_dispose(&info);
			out->ndisks++;
		}
		libxl_device_disk_list_free(d, num);
	}
	num = 0;
	if ((nic = libxl_device_nic_list(xb->ctx, domid, &num)) != NULL) {
		for (i = 0; i < num && out->nvifs < BE_DEVS_MAX; i++)
			/* libxl's name for a PV vif's backend in Dom0 */
			snprintf(out->vifs[out->nvifs++], sizeof(out->vifs[0]),
			    "vif%u.%d", domid, nic[i].devid);
		libxl_device_nic_list_free(nic, num);
	}
	xb->logger->last_error[0] = '\0';	/* a gone domain is no error */
	return 0;
}

/* the standby becomes the service's domain: its name, a running tag, its
 * vCPUs let go. A rename is one xenstore transaction in libxl (and it
 * renames libxl's stored configuration too). */
static int
xb_activate(struct backend *be, const char *svc, uint32_t domid,
    struct err *e)
{
	struct xenbe *xb = xb_of(be);
	char old[BE_NAME_MAX];
	int rc;

	snprintf(old, sizeof(old), "%s%s", svc, BE_STANDBY_SUFFIX);
	if ((rc = libxl_domain_rename(xb->ctx, domid, old, svc)) != 0)
		return xerr(xb, e, rc, "renaming the standby");
	if (store_tag(xb, svc, domid, 0, e) == -1)
		return -1;
	if ((rc = libxl_domain_unpause(xb->ctx, domid, NULL)) != 0)
		return xerr(xb, e, rc, "unpause");
	return 0;
}

/* ---- cpupools and placement ----------------------------------------------- */

static const struct {
	enum sched_kind		 k;
	libxl_scheduler		 x;
} sched_map[] = {
	{ SCHED_CREDIT, LIBXL_SCHEDULER_CREDIT },
	{ SCHED_CREDIT2, LIBXL_SCHEDULER_CREDIT2 },
	{ SCHED_RTDS, LIBXL_SCHEDULER_RTDS },
	{ SCHED_NULL, LIBXL_SCHEDULER_NULL },
	{ SCHED_ARINC653, LIBXL_SCHEDULER_ARINC653 },
};

static enum sched_kind
sched_from_libxl(libxl_scheduler x)
{
	size_t i;

	for (i = 0; i < nitems(sched_map); i++)
		if (sched_map[i].x == x)
			return sched_map[i].k;
	return SCHED_DEFAULT;
}

static libxl_scheduler
sched_to_libxl(struct xenbe *xb, enum sched_kind k)
{
	size_t i;

	for (i = 0; i < nitems(sched_map); i++)
		if (sched_map[i].k == k)
			return sched_map[i].x;
	return (libxl_scheduler)libxl_get_scheduler(xb->ctx);
}

static void
cpuset_from_bitmap(struct cpuset *c, const libxl_bitmap *m)
{
	unsigned i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < CPUS_MAX && i < m->size * 8; i++)
		if (libxl_bitmap_test(m, (int)i))
			cpuset_set(c, i);
}

static int
xb_pools(struct backend *be, struct be_pool **out, size_t *nout,
    struct err *e)
{
	struct xenbe *xb = xb_of(be);
	libxl_cpupoolinfo *list;
	int n = 0, i;

	*out = NULL;
	*nout = 0;
	if ((list = libxl_list_cpupool(xb->ctx, &n)) == NULL)
		return xerr(xb, e, ERROR_FAIL, "listing cpupools");
	*out = xcalloc((size_t)n + 1, sizeof(**out));
	for (i = 0; i < n; i++) {
		struct be_pool *p = &(*out)[i];

		strlcpy_(p->name, list[i].pool_name ? list[i].pool_name : "?",
		    sizeof(p->name));
		p->id = list[i].poolid;
		p->sched = sched_from_libxl(list[i].sched);
		p->ndoms = list[i].n_dom;
		cpuset_from_bitmap(&p->cpus, &list[i].cpumap);
	}
	*nout = (size_t)n;
	libxl_cpupoolinfo_list_free(list, n);
	return 0;
}

static const struct be_pool *
pool_named(const struct be_pool *pools, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(pools[i].name, name) == 0)
			return &pools[i];
	return NULL;
}

static int
xb_pool_remove(struct backend *be, const char *name, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	struct be_pool *pools = NULL;
	const struct be_pool *p;
	size_t n = 0;
	unsigned cpu;
	int rc;

	if (xb_pools(be, &pools, &n, e) == -1)
		return -1;
	if ((p = pool_named(pools, n, name)) == NULL) {
		free(pools);
		return 0;
	}
	if (p->ndoms) {
		err_set(e, EBUSY, "cpupool %s still has %u domain%s", name,
		    p->ndoms, p->ndoms == 1 ? "" : "s");
		free(pools);
		return -1;
	}
	/* libxl takes its CPUs out first; they go back to Pool-0 */
	if ((rc = libxl_cpupool_destroy(xb->ctx, p->id)) != 0) {
		free(pools);
		return xerr(xb, e, rc, "destroying the cpupool");
	}
	for (cpu = 0; cpu < CPUS_MAX; cpu++)
		if (cpuset_has(&p->cpus, cpu) &&
		    (rc = libxl_cpupool_cpuadd(xb->ctx, 0, (int)cpu)) != 0)
			log_warnx("cpupool %s: CPU %u back to Pool-0: libxl "
			    "error %d", name, cpu, rc);
	free(pools);
	return 0;
}

/* what xb_pool_ensure would refuse, changing nothing */
static int
xb_pool_check(struct backend *be, const struct pool_conf *pc, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	struct be_pool *pools = NULL;
	const struct be_pool *p;
	libxl_physinfo pi;
	size_t n = 0, k;
	unsigned cpu;
	int rc, ret = -1;

	libxl_physinfo_init(&pi);
	if ((rc = libxl_get_physinfo(xb->ctx, &pi)) != 0) {
		xerr(xb, e, rc, "physinfo");
		goto out;
	}
	if (xb_pools(be, &pools, &n, e) == -1)
		goto out;
	p = pool_named(pools, n, pc->name);
	if (p && pc->sched != SCHED_DEFAULT && p->sched != pc->sched) {
		err_set(e, EEXIST, "cpupool %s exists with the %s scheduler, and "
		    "domud.conf says %s", pc->name, sched_kind_str(p->sched),
		    sched_kind_str(pc->sched));
		goto out;
	}
	for (cpu = 0; cpu < CPUS_MAX; cpu++) {
		if (!cpuset_has(&pc->cpus, cpu))
			continue;
		if (cpu > pi.max_cpu_id) {
			err_set(e, ENXIO, "cpus: CPU %u does not exist (Xen has "
			    "%u: 0-%u)", cpu, pi.nr_cpus, pi.max_cpu_id);
			goto out;
		}
		for (k = 0; k < n; k++)
			if (cpuset_has(&pools[k].cpus, cpu) && pools[k].id != 0 &&
			    &pools[k] != p) {
				err_set(e, EBUSY, "cpus: CPU %u is in cpupool %s",
				    cpu, pools[k].name);
				goto out;
			}
	}
	ret = 0;
out:
	libxl_physinfo_dispose(&pi);
	free(pools);
	return ret;
}

static int
xb_pool_ensure(struct backend *be, const struct pool_conf *pc, int *made,
    struct err *e)
{
	struct xenbe *xb = xb_of(be);
	struct be_pool *pools = NULL;
	const struct be_pool *p;
	struct cpuset taken;
	libxl_bitmap map;
	libxl_uuid uuid;
	uint32_t poolid = LIBXL_CPUPOOL_POOLID_ANY;
	size_t n = 0, k;
	unsigned cpu;
	int rc, ret = -1;

	*made = 0;
	memset(&taken, 0, sizeof(taken));
	libxl_bitmap_init(&map);
	/* CPUs that exist and no other pool has, the scheduler it has */
	if (xb_pool_check(be, pc, e) == -1 || xb_pools(be, &pools, &n, e) == -1)
		goto out;
	if ((p = pool_named(pools, n, pc->name)) != NULL) {
		if (memcmp(&p->cpus, &pc->cpus, sizeof(p->cpus)) == 0) {
			ret = 0;	/* adopted as it is */
			goto out;
		}
		if (p->ndoms) {
			err_set(e, EBUSY, "cpupool %s has other CPUs than "
			    "domud.conf says, and domains in it: left as it is",
			    pc->name);
			goto out;
		}
		/* empty: made again with the CPUs asked for */
		if (xb_pool_remove(be, pc->name, e) == -1)
			goto out;
		free(pools);
		pools = NULL;
		if (xb_pools(be, &pools, &n, e) == -1)
			goto out;
	}
	/* each CPU comes from Pool-0 or from no pool at all (checked) */
	for (cpu = 0; cpu < CPUS_MAX; cpu++) {
		if (!cpuset_has(&pc->cpus, cpu))
			continue;
		for (k = 0; k < n; k++)
			if (cpuset_has(&pools[k].cpus, cpu))
				break;
		if (k == n || pools[k].id != 0)
			continue;
		if ((rc = libxl_cpupool_cpuremove(xb->ctx, 0, (int)cpu)) != 0) {
			xerr(xb, e, rc, "taking a CPU out of Pool-0");
			goto undo;
		}
		cpuset_set(&taken, cpu);
	}
	if ((rc = libxl_cpu_bitmap_alloc(xb->ctx, &map, 0)) != 0) {
		xerr(xb, e, rc, "cpu bitmap");
		goto undo;
	}
	for (cpu = 0; cpu < CPUS_MAX && cpu < map.size * 8; cpu++)
		if (cpuset_has(&pc->cpus, cpu))
			libxl_bitmap_set(&map, (int)cpu);
	libxl_uuid_generate(&uuid);
	rc = libxl_cpupool_create(xb->ctx, pc->name, sched_to_libxl(xb,
	    pc->sched), map, &uuid, &poolid);
	if (rc != 0) {
		xerr(xb, e, rc, "creating the cpupool (does this Xen have "
		    "the scheduler?)");
		goto undo;
	}
	*made = 1;
	ret = 0;
	goto out;
undo:
	/* nothing half made: the CPUs taken go back */
	for (cpu = 0; cpu < CPUS_MAX; cpu++)
		if (cpuset_has(&taken, cpu))
			(void)libxl_cpupool_cpuadd(xb->ctx, 0, (int)cpu);
out:
	libxl_bitmap_dispose(&map);
	free(pools);
	return ret;
}

static int
xb_placement(struct backend *be, uint32_t domid, struct be_placement *out,
    struct err *e)
{
	struct xenbe *xb = xb_of(be);
	libxl_domain_sched_params sp;
	libxl_vcpuinfo *vi;
	libxl_dominfo info;
	libxl_cpupoolinfo pool;
	int nv = 0, nr = 0, i, rc;

	memset(out, 0, sizeof(*out));
	libxl_dominfo_init(&info);
	if ((rc = libxl_domain_info(xb->ctx, &info, domid)) != 0) {
		libxl_dominfo_dispose(&info);
		return xerr(xb, e, rc, "domain info");
	}
	libxl_cpupoolinfo_init(&pool);
	if (libxl_cpupool_info(xb->ctx, &pool, info.cpupool) == 0) {
		strlcpy_(out->pool, pool.pool_name ? pool.pool_name : "?",
		    sizeof(out->pool));
		out->sched = sched_from_libxl(pool.sched);
	}
	libxl_cpupoolinfo_dispose(&pool);
	libxl_dominfo_dispose(&info);
	libxl_domain_sched_params_init(&sp);
	if (libxl_domain_sched_params_get(xb->ctx, domid, &sp) == 0) {
		out->weight = sp.weight;
		out->cap = sp.cap;
		out->period_us = sp.period;
		out->budget_us = sp.budget;
	}
	libxl_domain_sched_params_dispose(&sp);
	if ((vi = libxl_list_vcpu(xb->ctx, domid, &nv, &nr)) == NULL)
		return 0;	/* the rest is still worth showing */
	for (i = 0; i < nv && i < BE_VCPUS_SHOWN; i++) {
		out->vcpu[i].cpu = vi[i].online ? (int)vi[i].cpu : -1;
		cpuset_from_bitmap(&out->vcpu[i].hard, &vi[i].cpumap);
		cpuset_from_bitmap(&out->vcpu[i].soft, &vi[i].cpumap_soft);
	}
	out->nvcpus = (unsigned)i;
	libxl_vcpuinfo_list_free(vi, nv);
	return 0;
}

static int
xb_pause(struct backend *be, uint32_t domid, int pause, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	int rc = pause ? libxl_domain_pause(xb->ctx, domid, NULL) :
	    libxl_domain_unpause(xb->ctx, domid, NULL);

	return rc ? xerr(xb, e, rc, pause ? "pause" : "unpause") : 0;
}

static const struct backend_ops xenbe_ops = {
	.name = "libxl",
	.create = xb_create,
	.shutdown = xb_shutdown,
	.destroy = xb_destroy,
	.free_memory = xb_free_memory,
	.need_memory = xb_need_memory,
	.dominfo = xb_dominfo,
	.scan = xb_scan,
	.list = xb_list,
	.adopt = xb_adopt,
	.console_path = xb_console_path,
	.devices = xb_devices,
	.pause = xb_pause,
	.activate = xb_activate,
	.check = xb_check,
	.pool_ensure = xb_pool_ensure,
	.pool_remove = xb_pool_remove,
	.pool_check = xb_pool_check,
	.pools = xb_pools,
	.placement = xb_placement,
	.disk_attach = xb_disk_attach,
	.disk_detach = xb_disk_detach,
	.disk_list = xb_disk_list,
	.before_poll = xb_before_poll,
	.after_poll = xb_after_poll,
	.idle = xb_idle,
	.free = xb_free,
};

/* the libxl domain configuration a spec becomes, as libxl's JSON, built
 * without a libxl context (no Xen needed): make check compares it with
 * what xl makes of the same guest */
int
xenbe_config_json(const struct be_domain_spec *sp, char **json,
    struct err *e)
{
	struct xenbe xb;
	libxl_domain_config cfg;
	int rc = -1;

	*json = NULL;
	memset(&xb, 0, sizeof(xb));
	xb.logger = xlogger_new();
	libxl_domain_config_init(&cfg);
	if (build_config(&xb, sp, &cfg, e) == 0) {
		if ((*json = libxl_domain_config_to_json(NULL, &cfg)) != NULL)
			rc = 0;
		else
			err_set(e, EINVAL, "libxl_domain_config_to_json failed");
	}
	libxl_domain_config_dispose(&cfg);
	xtl_logger_destroy(&xb.logger->vtable);
	return rc;
}

struct backend *
xenbe_new(struct err *e)
{
	struct xenbe *xb = xcalloc(1, sizeof(*xb));
	int rc;

	xb->logger = xlogger_new();
	xb->be.ops = &xenbe_ops;
	if (pipe2(xb->build_pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		err_set(e, errno, "pipe: %s", strerror(errno));
		xtl_logger_destroy(&xb->logger->vtable);
		free(xb);
		return NULL;
	}
	rc = libxl_ctx_alloc(&xb->ctx, LIBXL_VERSION, 0, &xb->logger->vtable);
	if (rc) {
		xerr(xb, e, rc, "libxl_ctx_alloc (is xenstored running?)");
		xtl_logger_destroy(&xb->logger->vtable);
		close(xb->build_pipe[0]);
		close(xb->build_pipe[1]);
		free(xb);
		return NULL;
	}
	libxl_childproc_setmode(xb->ctx, &childproc_hooks, NULL);
	return &xb->be;
}
