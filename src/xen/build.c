// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The libxl domain configuration of a service (struct be_domain_spec ->
 * libxl_domain_config): its kernel, memory and vCPUs, disks and vifs, and
 * its partition (affinity, scheduling, pci, dtdev, iomem, irqs, device
 * tree), set as xl's parser sets them. Without a libxl context (xb->ctx
 * NULL) it runs off Xen: xenbe_config_json, which make xencheck compares
 * with xl. Calls libxl's type functions and, of src/xen, xb_err and
 * xb_logger_new (xenbe.c) only.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen/backend.h"
#include "conf/config.h"
#include "base/util.h"
#include "xenbe.h"
#include "xenbe_int.h"

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
		return xb_err(xb, e, rc, "cpu bitmap");
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

int
xb_build_config(struct xenbe *xb, const struct be_domain_spec *sp,
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
	xb.logger = xb_logger_new();
	libxl_domain_config_init(&cfg);
	if (xb_build_config(&xb, sp, &cfg, e) == 0) {
		if ((*json = libxl_domain_config_to_json(NULL, &cfg)) != NULL)
			rc = 0;
		else
			err_set(e, EINVAL, "libxl_domain_config_to_json failed");
	}
	libxl_domain_config_dispose(&cfg);
	xtl_logger_destroy(&xb.logger->vtable);
	return rc;
}
