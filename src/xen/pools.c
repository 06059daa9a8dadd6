// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Cpupools, made, adopted, checked and removed as domud.conf says, and
 * where a domain runs: its pool and scheduler parameters, its vCPUs' CPUs
 * and affinities. Calls xenbe.c's xb_of and xb_err only.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xen/backend.h"
#include "conf/config.h"
#include "base/log.h"
#include "base/util.h"
#include "xenbe_int.h"

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

int
xb_pools(struct backend *be, struct be_pool **out, size_t *nout,
    struct err *e)
{
	struct xenbe *xb = xb_of(be);
	libxl_cpupoolinfo *list;
	int n = 0, i;

	*out = NULL;
	*nout = 0;
	if ((list = libxl_list_cpupool(xb->ctx, &n)) == NULL)
		return xb_err(xb, e, ERROR_FAIL, "listing cpupools");
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

int
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
		return xb_err(xb, e, rc, "destroying the cpupool");
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
int
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
		xb_err(xb, e, rc, "physinfo");
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

int
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
			xb_err(xb, e, rc, "taking a CPU out of Pool-0");
			goto undo;
		}
		cpuset_set(&taken, cpu);
	}
	if ((rc = libxl_cpu_bitmap_alloc(xb->ctx, &map, 0)) != 0) {
		xb_err(xb, e, rc, "cpu bitmap");
		goto undo;
	}
	for (cpu = 0; cpu < CPUS_MAX && cpu < map.size * 8; cpu++)
		if (cpuset_has(&pc->cpus, cpu))
			libxl_bitmap_set(&map, (int)cpu);
	libxl_uuid_generate(&uuid);
	rc = libxl_cpupool_create(xb->ctx, pc->name, sched_to_libxl(xb,
	    pc->sched), map, &uuid, &poolid);
	if (rc != 0) {
		xb_err(xb, e, rc, "creating the cpupool (does this Xen have "
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

int
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
		return xb_err(xb, e, rc, "domain info");
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
