// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the backend builds for a service (its file, the network's words,
 * the kernel cache), and whether Xen has room for it (admission: memory,
 * max_domus). For a start (lifecycle.c) and a standby (standby.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/kcache.h"
#include "base/log.h"
#include "net/net.h"
#include "supervisor.h"
#include "base/util.h"

/* the DomUs of domud's that exist or are being made, standbys included
 * (a start from one adds none: it passes no admission) */
static unsigned
sup_domains(const struct supervisor *sup)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < sup->nsvcs; i++) {
		if (sup->svcs[i]->sb.state != SB_NONE)
			n++;
		if (sup->svcs[i]->rt.state != RT_NONE)
			n++;
		switch (sup->svcs[i]->state) {
		case ST_STARTING:
		case ST_RUNNING:
		case ST_STOPPING:
		case ST_DESTROYING:
			n++;
			break;
		default:
			break;
		}
	}
	return n;
}

/* Free memory minus what creates in flight will still take. */
int
admission(struct service *s, const struct be_domain_spec *spec,
    uint64_t *reserve, char *msg, size_t msgsz)
{
	struct supervisor *sup = s->sup;
	uint64_t freemem, need, inflight = 0;
	struct err e = ERR_INIT;
	char a[32], b[32], c[32];
	size_t i;

	if (sup->cfg->d.max_domus && sup_domains(sup) >= sup->cfg->d.max_domus) {
		snprintf(msg, msgsz, "max_domus: %u DomUs of domud's exist "
		    "already (domud.conf allows %u)", sup_domains(sup),
		    sup->cfg->d.max_domus);
		return -1;
	}
	if (sup->be->ops->free_memory(sup->be, &freemem, &e) == -1 ||
	    sup->be->ops->need_memory(sup->be, spec, &need, &e) == -1) {
		msgf(msg, msgsz, "cannot check free memory: %s", e.msg);
		return -1;
	}
	for (i = 0; i < sup->nsvcs; i++)
		inflight += sup->svcs[i]->memory_reserved +
		    sup->svcs[i]->sb.reserved;
	if (freemem < inflight || freemem - inflight < need) {
		snprintf(a, sizeof(a), "%llu MiB", (unsigned long long)((need +
		    (1 << 20) - 1) >> 20));
		snprintf(b, sizeof(b), "%llu MiB", (unsigned long long)(freemem >>
		    20));
		snprintf(c, sizeof(c), "%llu MiB", (unsigned long long)(inflight >>
		    20));
		snprintf(msg, msgsz, "not enough memory: needs %s, Xen has %s "
		    "free and %s is promised to creates in flight", a, b, c);
		return -1;
	}
	*reserve = need;
	return 0;
}

/* a slot's digest goes through the backend to the cache as it is */
_Static_assert(SLOT_SHA256_LEN == BE_SHA256_LEN &&
    BE_SHA256_LEN == KCACHE_SHA256_LEN, "one SHA-256 length");

/* on a builder thread: the kcache is thread-safe, and all it touches */
static char *
kernel_from_cache(void *arg, const char *kernel, const uint8_t *sha256,
    int *hit, struct err *e)
{
	return kcache_get(arg, kernel, sha256, hit, e);
}

/* what a service file alone gives the backend (no network, no cache) */
void
svc_conf_spec(const struct service_conf *c, struct be_domain_spec *sp)
{
	sp->name = c->name;
	memcpy(sp->uuid, c->uuid, 16);
	sp->type = c->type == SVC_PVH ? BE_PVH : BE_PV;
	sp->kernel = c->kernel;
	sp->ramdisk = c->ramdisk;
	sp->memory = c->memory;
	sp->vcpus = c->vcpus;
	sp->cpus = c->cpus;
	sp->ncpus = c->ncpus;
	sp->cpus_soft = c->cpus_soft;
	sp->ncpus_soft = c->ncpus_soft;
	sp->cpupool = c->cpupool;
	sp->weight = c->weight;
	sp->cap = c->cap;
	sp->period_us = c->period_us;
	sp->budget_us = c->budget_us;
	sp->maxmem = c->maxmem;
	sp->pci = c->pci;
	sp->npci = c->npci;
	sp->dtdev = c->dtdev;
	sp->ndtdev = c->ndtdev;
	sp->iomem = c->iomem;
	sp->niomem = c->niomem;
	sp->irqs = c->irqs;
	sp->nirqs = c->nirqs;
	sp->device_tree = c->device_tree;
}

void
svc_spec_init(struct service *s, struct svc_spec *ss)
{
	const struct service_conf *c = s->conf;
	struct be_domain_spec *sp = &ss->spec;
	char netargs[256] = "";
	const char *cmdline;
	size_t i;

	memset(ss, 0, sizeof(*ss));
	svc_conf_spec(c, sp);
	/* update = yes: the active slot's images where it has them */
	if (s->upd.kernel) {
		sp->kernel = s->upd.kernel;
		/* verified when staged: the cache need not hash it again */
		sp->kernel_sha256 = update_kernel_sha256(s);
	}
	if (s->upd.ramdisk)
		sp->ramdisk = s->upd.ramdisk;
	if (s->upd.device_tree)
		sp->device_tree = s->upd.device_tree;
	cmdline = update_cmdline(s) ? update_cmdline(s) : c->cmdline;
	if (s->sup->kcache && s->sup->cfg->d.kernel_cache_max && c->kernel_cache) {
		sp->kernel_prepare = kernel_from_cache;
		sp->kernel_arg = s->sup->kcache;
	}
	/* the guest's network settings: on its command line for its init,
	 * in xenstore (domud/net/...) for an agent */
	net_guest_cmdline(s->sup->net, c, netargs, sizeof(netargs));
	if (netargs[0] && cmdline) {
		if (asprintf(&ss->cmdline, "%s %s", cmdline, netargs) < 0)
			fatal("asprintf");
	} else if (netargs[0] || cmdline)
		ss->cmdline = xstrdup(netargs[0] ? netargs : cmdline);
	sp->cmdline = ss->cmdline;
	ss->xsdata = net_guest_xsdata(s->sup->net, c);
	sp->xsdata = ss->xsdata;
	for (i = 0; i < c->ndisks; i++) {
		ss->disks[i].path = c->disks[i].path;
		if (update_disk(s, c->disks[i].vdev, ss->diskpath[i],
		    sizeof(ss->diskpath[i])))
			ss->disks[i].path = ss->diskpath[i];
		ss->disks[i].vdev = c->disks[i].vdev;
		ss->disks[i].readwrite = c->disks[i].readwrite;
	}
	sp->disks = ss->disks;
	sp->ndisks = c->ndisks;
	if (c->has_net) {
		ss->vif.bridge = service_bridge(s->sup->cfg, c);
		memcpy(ss->vif.mac, c->mac, 6);
		sp->vifs = &ss->vif;
		sp->nvifs = 1;
	}
}

void
svc_spec_dispose(struct svc_spec *ss)
{
	size_t i;

	free(ss->cmdline);
	for (i = 0; ss->xsdata && ss->xsdata[i]; i++)
		free(ss->xsdata[i]);
	free(ss->xsdata);
	memset(ss, 0, sizeof(*ss));
}
