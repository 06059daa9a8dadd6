// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The cpupools of domud.conf: made through the backend when domud starts
 * and at a reload (CPUs taken from Pool-0), adopted when Xen has them
 * already (after a restart of domud they are still there), and taken away
 * when the configuration drops them (their CPUs back to Pool-0), once no
 * domain runs in them. The names domud answers for are kept in state.json.
 * The caller saves state.json when pools_sync() says the names changed.
 * May call: the backend (backend.h), conf (partition.c), base.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "conf/partition.h"
#include "supervisor.h"

static int
owned_find(const struct supervisor *sup, const char *name)
{
	size_t i;

	for (i = 0; i < sup->npools_owned; i++)
		if (strcmp(sup->pools_owned[i], name) == 0)
			return (int)i;
	return -1;
}

void
pools_owned_add(struct supervisor *sup, const char *name)
{
	if (owned_find(sup, name) >= 0 ||
	    sup->npools_owned == nitems(sup->pools_owned))
		return;
	strlcpy_(sup->pools_owned[sup->npools_owned++], name,
	    sizeof(sup->pools_owned[0]));
}

static void
owned_drop(struct supervisor *sup, size_t i)
{
	memmove(&sup->pools_owned[i], &sup->pools_owned[i + 1],
	    (sup->npools_owned - i - 1) * sizeof(sup->pools_owned[0]));
	sup->npools_owned--;
}

/* 1 when the names domud owns changed (state.json keeps them) */
int
pools_sync(struct supervisor *sup)
{
	const struct backend_ops *ops = sup->be->ops;
	struct err e = ERR_INIT;
	char cpus[64];
	size_t i;
	int made, changed = 0;

	if (ops->pool_ensure == NULL)
		return 0;
	for (i = 0; i < sup->cfg->npools; i++) {
		const struct pool_conf *pc = sup->cfg->pools[i];

		sup->pool_error[i][0] = '\0';
		if (pc->cpus_line == 0)
			continue;	/* reported at load */
		err_clear(&e);
		if (ops->pool_ensure(sup->be, pc, &made, &e) == -1) {
			strlcpy_(sup->pool_error[i], e.msg,
			    sizeof(sup->pool_error[i]));
			log_warnx("cpupool %s: %s; its services are refused",
			    pc->name, e.msg);
			continue;
		}
		cpuset_format(&pc->cpus, cpus, sizeof(cpus));
		if (made)
			log_info("cpupool %s: made with CPUs %s (%s), taken from "
			    "Pool-0", pc->name, cpus, sched_str(pc->sched));
		else if (!sup->pools_synced || owned_find(sup, pc->name) < 0)
			log_info("cpupool %s: there already, as domud.conf says "
			    "(CPUs %s): adopted", pc->name, cpus);
		if (owned_find(sup, pc->name) < 0)
			changed = 1;
		pools_owned_add(sup, pc->name);
	}
	/* dropped from the configuration: away once nothing runs there */
	sup->pools_pending = 0;
	for (i = 0; i < sup->npools_owned; ) {
		const char *name = sup->pools_owned[i];

		if (config_find_pool(sup->cfg, name) != NULL) {
			i++;
			continue;
		}
		err_clear(&e);
		if (ops->pool_remove(sup->be, name, &e) == -1) {
			if (e.status != EBUSY)
				log_warnx("cpupool %s: %s", name, e.msg);
			sup->pools_pending = 1;
			i++;
			continue;
		}
		log_info("cpupool %s: gone from the configuration: removed, "
		    "its CPUs back in Pool-0", name);
		owned_drop(sup, i);
		changed = 1;
	}
	sup->pools_synced = 1;
	return changed;
}
