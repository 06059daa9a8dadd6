// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The parsed configuration's objects: lookups by name, the network and
 * bridge of a service, its automatic MAC, whether two versions of a
 * service are the same domain. Parsing is parse.c's.
 * May call: partition (the values), base.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "partition.h"

/* A stable MAC under Xen's OUI, derived from the service name (FNV-1a);
 * tiebreak > 0 picks another one when two names collide (see lease.c). */
void
service_auto_mac(const char *name, unsigned tiebreak, uint8_t mac[6])
{
	uint32_t h = 2166136261u;
	const char *c;
	unsigned i;

	for (c = name; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	for (i = 0; i < tiebreak; i++)
		h = (h ^ 0x23u) * 16777619u;
	mac[0] = 0x00;
	mac[1] = 0x16;
	mac[2] = 0x3e;
	mac[3] = (h >> 16) & 0x7f;	/* top bit clear, as xl's random MACs */
	mac[4] = (h >> 8) & 0xff;
	mac[5] = h & 0xff;
}

static int
strcmp_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b);
}

/* Same DomU? Differences here need a restart; the rest (policy, timeouts,
 * description, ordering) applies to a running domain. */
int
service_conf_same_domain(const struct service_conf *a,
    const struct service_conf *b)
{
	size_t i;

	if (a->type != b->type || a->memory != b->memory ||
	    a->vcpus != b->vcpus || strcmp_null(a->kernel, b->kernel) ||
	    strcmp_null(a->ramdisk, b->ramdisk) ||
	    strcmp_null(a->cmdline, b->cmdline) ||
	    memcmp(a->uuid, b->uuid, 16) != 0 || a->ndisks != b->ndisks ||
	    a->has_net != b->has_net || strcmp_null(a->bridge, b->bridge) ||
	    strcmp_null(a->network, b->network) || a->addr != b->addr ||
	    memcmp(a->mac, b->mac, 6) != 0 || a->update != b->update)
		return 0;
	/* where it runs and what it owns: set at create */
	if (a->ncpus != b->ncpus || a->ncpus_soft != b->ncpus_soft ||
	    strcmp_null(a->cpupool, b->cpupool) || a->weight != b->weight ||
	    a->cap != b->cap || a->period_us != b->period_us ||
	    a->budget_us != b->budget_us || a->maxmem != b->maxmem ||
	    a->npci != b->npci || a->ndtdev != b->ndtdev ||
	    a->niomem != b->niomem || a->nirqs != b->nirqs ||
	    strcmp_null(a->device_tree, b->device_tree))
		return 0;
	for (i = 0; i < a->ncpus; i++)
		if (memcmp(&a->cpus[i], &b->cpus[i], sizeof(a->cpus[i])) != 0)
			return 0;
	for (i = 0; i < a->ncpus_soft; i++)
		if (memcmp(&a->cpus_soft[i], &b->cpus_soft[i],
		    sizeof(a->cpus_soft[i])) != 0)
			return 0;
	for (i = 0; i < a->npci; i++)
		if (!pci_same(&a->pci[i], &b->pci[i]))
			return 0;
	for (i = 0; i < a->niomem; i++)
		if (a->iomem[i].start != b->iomem[i].start ||
		    a->iomem[i].count != b->iomem[i].count ||
		    a->iomem[i].has_gfn != b->iomem[i].has_gfn ||
		    a->iomem[i].gfn != b->iomem[i].gfn)
			return 0;
	for (i = 0; i < a->nirqs; i++)
		if (a->irqs[i] != b->irqs[i])
			return 0;
	for (i = 0; i < a->ndtdev; i++)
		if (strcmp(a->dtdev[i], b->dtdev[i]) != 0)
			return 0;
	for (i = 0; i < a->ndisks; i++)
		if (strcmp_null(a->disks[i].path, b->disks[i].path) ||
		    strcmp_null(a->disks[i].vdev, b->disks[i].vdev) ||
		    a->disks[i].readwrite != b->disks[i].readwrite)
			return 0;
	return 1;
}

struct service_conf *
config_find(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nsvcs; i++)
		if (strcmp(cfg->svcs[i]->name, name) == 0)
			return cfg->svcs[i];
	return NULL;
}

struct pool_conf *
config_find_pool(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->npools; i++)
		if (strcmp(cfg->pools[i]->name, name) == 0)
			return cfg->pools[i];
	return NULL;
}

struct net_conf *
config_find_net(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nnets; i++)
		if (strcmp(cfg->nets[i]->name, name) == 0)
			return cfg->nets[i];
	return NULL;
}

struct net_conf *
config_service_net(const struct config *cfg, const struct service_conf *s)
{
	if (!s->has_net || s->network == NULL)
		return NULL;
	return config_find_net(cfg, s->network);
}

const char *
service_bridge(const struct config *cfg, const struct service_conf *s)
{
	struct net_conf *n = config_service_net(cfg, s);

	return n ? n->bridge : s->bridge;
}

const char *
restart_policy_str(enum restart_policy r)
{
	switch (r) {
	case RESTART_NO:
		return "no";
	case RESTART_ON_FAILURE:
		return "on-failure";
	case RESTART_ALWAYS:
		return "always";
	}
	return "?";
}
