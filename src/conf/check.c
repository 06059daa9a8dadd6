// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The checks the configuration alone allows, once it is parsed: a
 * service's keys against each other (health, disks, net, partitioning),
 * domud.conf's networks and pools, and across services (networks,
 * UUIDs, disks, devices, IRQs, the order of after=). Each said file:line.
 * What needs the machine is the backend's, at start.
 * May call: diag, config (lookups), partition (the values), value
 * (value_prefix_mask), base.
 */
#include <sys/stat.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "diag.h"
#include "keys.h"
#include "partition.h"
#include "base/util.h"

/* ---- partitioning ----------------------------------------------------- */

/* the first CPU in a and not in b, -1 if none */
static int
check_first_outside(const struct cpuset *a, const struct cpuset *b)
{
	unsigned i;

	for (i = 0; i < CPUS_MAX; i++)
		if (cpuset_has(a, i) && !cpuset_has(b, i))
			return (int)i;
	return -1;
}

static int
check_first_common(const struct cpuset *a, const struct cpuset *b)
{
	unsigned i;

	for (i = 0; i < CPUS_MAX; i++)
		if (cpuset_has(a, i) && cpuset_has(b, i))
			return (int)i;
	return -1;
}

static void
check_serr(struct config *cfg, struct service_conf *s, int line, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
static void
check_serr(struct config *cfg, struct service_conf *s, int line, const char *fmt,
    ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	config_diag(cfg, s->file, line > 0 ? line : s->line, 1, "%s", msg);
	s->errors++;
}


static void
check_pools(struct config *cfg)
{
	char a[64];
	size_t i, j;
	int c;

	for (i = 0; i < cfg->npools; i++) {
		struct pool_conf *p = cfg->pools[i];

		if (p->cpus_line == 0) {
			/* a bad value was said where it is */
			if (p->cpus_seen)
				continue;
			config_diag(cfg, cfg->path, p->line, 1, "[cpupool:%s]: "
			    "missing required key 'cpus'", p->name);
			cfg->conf_errors++;
			continue;
		}
		/* Dom0 runs in Pool-0, which keeps CPU 0 */
		if (cpuset_has(&p->cpus, 0)) {
			config_diag(cfg, cfg->path, p->cpus_line, 1, "[cpupool:"
			    "%s]: cpus: CPU 0 stays in Pool-0, with Dom0",
			    p->name);
			cfg->conf_errors++;
		}
		for (j = 0; j < i; j++) {
			struct pool_conf *q = cfg->pools[j];

			if (q->cpus_line == 0 ||
			    (c = check_first_common(&p->cpus, &q->cpus)) < 0)
				continue;
			cpuset_format(&q->cpus, a, sizeof(a));
			config_diag(cfg, cfg->path, p->cpus_line, 1, "[cpupool:"
			    "%s]: cpus: CPU %d is also in [cpupool:%s] (%s); a "
			    "CPU belongs to one pool", p->name, c, q->name, a);
			cfg->conf_errors++;
		}
	}
}

/* the CPUs no pool of domud.conf takes (what stays in Pool-0) */
static int
check_pool_taken(const struct config *cfg, unsigned cpu, const char **by)
{
	size_t i;

	for (i = 0; i < cfg->npools; i++)
		if (cfg->pools[i]->cpus_line &&
		    cpuset_has(&cfg->pools[i]->cpus, cpu)) {
			*by = cfg->pools[i]->name;
			return 1;
		}
	return 0;
}

static void
check_cpus_in_pool(struct config *cfg, struct service_conf *s,
    const struct cpuset *sets, size_t n, int line, const char *key,
    const struct pool_conf *pool)
{
	const char *by = NULL;
	char a[64];
	size_t k;
	unsigned c;
	int out;

	for (k = 0; k < n; k++) {
		if (pool) {
			if ((out = check_first_outside(&sets[k],
			    &pool->cpus)) >= 0) {
				cpuset_format(&pool->cpus, a, sizeof(a));
				check_serr(cfg, s, line, "%s: CPU %d is not in cpupool "
				    "%s (%s): its vCPUs could never run there",
				    key, out, pool->name, a);
				return;
			}
			continue;
		}
		for (c = 0; c < CPUS_MAX; c++)
			if (cpuset_has(&sets[k], c) &&
			    check_pool_taken(cfg, c, &by)) {
				check_serr(cfg, s, line, "%s: CPU %u belongs to "
				    "[cpupool:%s]; a service that runs there "
				    "says cpupool = %s", key, c, by, by);
				return;
			}
	}
}

static void
check_partition(struct config *cfg, struct service_conf *s)
{
	const struct pool_conf *pool = NULL;
	enum sched_kind sched = SCHED_DEFAULT;

	if (s->cpupool && strcmp(s->cpupool, "Pool-0") != 0) {
		pool = config_find_pool(cfg, s->cpupool);
		if (pool == NULL) {
			check_serr(cfg, s, s->cpupool_line, "cpupool: unknown pool "
			    "'%s' (no [cpupool:%s] in %s)", s->cpupool,
			    s->cpupool, cfg->path);
			return;
		}
		sched = pool->sched;
	}
	if (s->ncpus > 1 && s->ncpus != s->vcpus)
		check_serr(cfg, s, s->cpus_line, "cpus: %zu lists for %u vCPUs (one "
		    "list for all, or one per vCPU)", s->ncpus, s->vcpus);
	if (s->ncpus_soft > 1 && s->ncpus_soft != s->vcpus)
		check_serr(cfg, s, s->cpus_soft_line, "cpus_soft: %zu lists for %u "
		    "vCPUs (one list for all, or one per vCPU)", s->ncpus_soft,
		    s->vcpus);
	check_cpus_in_pool(cfg, s, s->cpus, s->ncpus, s->cpus_line, "cpus",
	    pool);
	/* the scheduler's own parameters, and no other's */
	if (sched == SCHED_RTDS || sched == SCHED_NULL ||
	    sched == SCHED_ARINC653) {
		if (s->weight_line)
			check_serr(cfg, s, s->weight_line, "weight: cpupool %s runs "
			    "%s, which has no weight (credit and credit2 do)",
			    pool->name, sched_str(sched));
		if (s->cap_line)
			check_serr(cfg, s, s->cap_line, "cap: cpupool %s runs %s, "
			    "which has no cap (credit and credit2 do)",
			    pool->name, sched_str(sched));
	}
	if (sched != SCHED_RTDS) {
		if (s->period_line)
			check_serr(cfg, s, s->period_line, "period: only the rtds "
			    "scheduler has it (%s runs %s)", pool ?
			    pool->name : "Pool-0", pool ? sched_str(sched) :
			    "Xen's default scheduler");
		if (s->budget_line)
			check_serr(cfg, s, s->budget_line, "budget: only the rtds "
			    "scheduler has it (%s runs %s)", pool ?
			    pool->name : "Pool-0", pool ? sched_str(sched) :
			    "Xen's default scheduler");
	} else if (s->period_us && s->budget_us && s->budget_us > s->period_us)
		check_serr(cfg, s, s->budget_line, "budget: longer than its period");
	if (s->maxmem && s->maxmem < s->memory)
		check_serr(cfg, s, s->maxmem_line, "maxmem: less than memory");
#if defined(__aarch64__) || defined(__arm__)
	if (s->npci && !cfg->any_arch)
		check_serr(cfg, s, s->pci_line, "pci: PCI passthrough is x86's; on "
		    "ARM a device is given by dtdev, iomem and irqs");
#else
	if (s->ndtdev && !cfg->any_arch)
		check_serr(cfg, s, s->dtdev_line, "dtdev: device tree passthrough "
		    "is ARM's; on x86 a device is given by pci");
	if (s->device_tree && !cfg->any_arch)
		check_serr(cfg, s, s->device_tree_line, "device_tree: a partial "
		    "device tree is ARM's");
#endif
	if (s->standby && (s->npci || s->ndtdev || s->niomem || s->nirqs))
		check_serr(cfg, s, s->standby_line, "standby: a passed-through "
		    "device cannot be given to a second domain");
	if (s->update_key && !s->update)
		check_serr(cfg, s, s->update_key_line, "update_key: the service "
		    "has no update slots (update = yes)");
}

static int
check_iomem_overlap(const struct iomem_conf *a, const struct iomem_conf *b)
{
	return a->start < b->start + b->count && b->start < a->start + a->count;
}

/* what s claims that t (checked before it) claims too */
static void
check_partition_cross(struct config *cfg, struct service_conf *s,
    struct service_conf *t)
{
	char a[32];
	size_t i, j;

	for (i = 0; i < s->npci; i++)
		for (j = 0; j < t->npci; j++)
			if (s->pci[i].domain == t->pci[j].domain &&
			    s->pci[i].bus == t->pci[j].bus &&
			    s->pci[i].dev == t->pci[j].dev &&
			    s->pci[i].func == t->pci[j].func) {	/* seized or not */
				pci_format(&s->pci[i], a, sizeof(a));
				check_serr(cfg, s, s->pci_line, "pci: %s is also "
				    "given to service '%s'", a, t->name);
			}
	for (i = 0; i < s->ndtdev; i++)
		for (j = 0; j < t->ndtdev; j++)
			if (strcmp(s->dtdev[i], t->dtdev[j]) == 0)
				check_serr(cfg, s, s->dtdev_line, "dtdev: %s is also "
				    "given to service '%s'", s->dtdev[i], t->name);
	for (i = 0; i < s->nirqs; i++)
		for (j = 0; j < t->nirqs; j++)
			if (s->irqs[i] == t->irqs[j])
				check_serr(cfg, s, s->irqs_line, "irqs: IRQ %u is also "
				    "given to service '%s'", s->irqs[i], t->name);
	for (i = 0; i < s->niomem; i++)
		for (j = 0; j < t->niomem; j++)
			if (check_iomem_overlap(&s->iomem[i], &t->iomem[j]))
				check_serr(cfg, s, s->iomem_line, "iomem: pages "
				    "0x%llx-0x%llx are also given to service "
				    "'%s'", (unsigned long long)s->iomem[i].start,
				    (unsigned long long)(s->iomem[i].start +
				    s->iomem[i].count - 1), t->name);
}

/* ---- a service -------------------------------------------------------- */

static void
check_health(struct config *cfg, struct service_conf *s)
{
	if (s->health == HEALTH_EXEC && !s->memres)
		diag_svc(cfg, s, s->health_line, "health = exec: needs memres = "
		    "yes (the agent runs the command)");
	if (s->health == HEALTH_TCP && !s->has_net)
		diag_svc(cfg, s, s->health_line, "health = tcp: needs a [net] "
		    "section (domud connects to the guest's address)");
	else if (s->health == HEALTH_TCP && s->network == NULL)
		diag_svc(cfg, s, s->health_line, "health = tcp: needs network= "
		    "(domud knows the guest's address only on its own networks)");
	if (s->ready_line == 0)
		s->ready = s->memres ? READY_AGENT : READY_RUNNING;
	else if (s->ready == READY_HEALTH && s->health == HEALTH_NONE)
		diag_svc(cfg, s, s->ready_line, "ready = health: needs a health "
		    "probe (health = exec:... or tcp:...)");
	else if (s->ready == READY_AGENT && !s->memres)
		diag_svc(cfg, s, s->ready_line, "ready = agent: needs memres = yes");
	if (s->health != HEALTH_NONE && s->health_timeout_ms >
	    s->health_interval_ms)
		config_diag(cfg, s->file, s->health_line, 0, "health_timeout is "
		    "longer than health_interval: the next probe waits for the "
		    "one under way");
	if (s->health_restart && s->health == HEALTH_NONE)
		config_diag(cfg, s->file, s->health_restart_line, 0,
		    "health_restart without a health probe does nothing");
}

/* update_data: the service's own writable disks, each a regular file (a
 * reflink copy is a file's; block devices and LVM are not supported yet) */
static void
check_update_data(struct config *cfg, struct service_conf *s)
{
	const struct disk_conf *d;
	struct stat st;
	size_t i, k;

	if (s->update_data_line == 0)
		return;
	if (!s->update)
		diag_svc(cfg, s, s->update_data_line, "update_data: the service "
		    "has no update slots (update = yes)");
	for (i = 0; i < s->nupdate_data; i++) {
		for (k = 0; k < s->ndisks; k++)
			if (s->disks[k].vdev && strcmp(s->disks[k].vdev,
			    s->update_data[i]) == 0)
				break;
		if (k == s->ndisks) {
			diag_svc(cfg, s, s->update_data_line, "update_data: %s: "
			    "no [disk:...] of the service has vdev %s",
			    s->update_data[i], s->update_data[i]);
			continue;
		}
		d = &s->disks[k];
		if (!d->readwrite)
			diag_svc(cfg, s, s->update_data_line, "update_data: %s: "
			    "[disk:%s] is read-only (access = rw for a data "
			    "volume)", d->vdev, d->name);
		else if (d->path && stat(d->path, &st) == 0 &&
		    !S_ISREG(st.st_mode))
			diag_svc(cfg, s, s->update_data_line, "update_data: %s: "
			    "[disk:%s] %s is not a regular file (only files "
			    "are snapshotted, by a reflink copy; block devices "
			    "and LVM volumes are not supported yet)", d->vdev,
			    d->name, d->path);
	}
}

void
check_service(struct config *cfg, struct service_conf *s)
{
	struct stat st;
	size_t i, j;
	int line = s->line > 0 ? s->line : 1;

	if (!s->line) {
		diag_svc(cfg, s, 1, "missing [service] section");
		return;
	}
	/* a key that is there with a bad value was reported already */
	if (s->kernel_line == 0)
		diag_svc(cfg, s, line, "missing required key 'kernel'");
	if (s->memory_line == 0)
		diag_svc(cfg, s, line, "missing required key 'memory'");
	if (s->restart_delay_max_ms < s->restart_delay_ms)
		diag_svc(cfg, s, line, "restart_delay_max is shorter than "
		    "restart_delay");
#if defined(__aarch64__) || defined(__arm__)
	/* what libxl does anyway on ARM; said here so nobody is surprised */
	if (s->type == SVC_PV) {
		config_diag(cfg, s->file, line, 0, "type pv: ARM has no PV guests; "
		    "this one is created as pvh");
		s->type = SVC_PVH;
	}
#endif
	/* images are often checked off the device: a warning here, an
	 * error when the service starts */
	if (s->kernel && stat(s->kernel, &st) == -1)
		config_diag(cfg, s->file, s->kernel_line, 0, "kernel %s: %s",
		    s->kernel, strerror(errno));
	if (s->ramdisk && stat(s->ramdisk, &st) == -1)
		config_diag(cfg, s->file, s->ramdisk_line, 0, "ramdisk %s: %s",
		    s->ramdisk, strerror(errno));
	for (i = 0; i < s->ndisks; i++) {
		struct disk_conf *d = &s->disks[i];

		if (d->path == NULL) {
			if (d->path_line == 0)
				diag_svc(cfg, s, d->line, "[disk:%s]: missing "
				    "required key 'path'", d->name);
			continue;
		}
		if (stat(d->path, &st) == -1)
			config_diag(cfg, s->file, d->line, 0, "disk %s: %s",
			    d->path, strerror(errno));
		if (d->vdev == NULL) {
			if (d->vdev_line == 0)
				diag_svc(cfg, s, d->line, "[disk:%s]: missing "
				    "required key 'vdev'", d->name);
			continue;
		}
		for (j = 0; j < i; j++)
			if (s->disks[j].vdev &&
			    strcmp(s->disks[j].vdev, d->vdev) == 0)
				diag_svc(cfg, s, d->line, "[disk:%s]: vdev %s is "
				    "already used by [disk:%s]", d->name, d->vdev,
				    s->disks[j].name);
	}
	check_update_data(cfg, s);
	if (s->agent_vxn && !s->memres)
		diag_svc(cfg, s, line, "agent = vxn: needs memres = yes");
	/* the standby is a second domain with the same disks: blkback would
	 * refuse a writable one to the second, and both would write it */
	for (i = 0; s->standby && i < s->ndisks; i++)
		if (s->disks[i].readwrite)
			diag_svc(cfg, s, s->standby_line, "standby: [disk:%s] "
			    "is writable, and the standby domain would share "
			    "it (make it read-only or drop standby)",
			    s->disks[i].name);
	if (s->idle_action_line && (!s->memres || !s->idle_timeout_ms))
		diag_svc(cfg, s, s->idle_action_line, "idle_action: needs memres "
		    "= yes and an idle_timeout");
	check_health(cfg, s);
	check_partition(cfg, s);
	if (s->has_net && s->bridge_line == 0 && s->network_line == 0)
		diag_svc(cfg, s, s->net_line, "[net]: needs network= (a "
		    "[network:NAME] of domud.conf) or bridge=");
	if (s->network_line && s->bridge_line)
		diag_svc(cfg, s, s->bridge_line, "[net]: bridge= and network= "
		    "exclude each other (the network names its bridge)");
	if (s->has_net && s->network == NULL && s->bridge) {
		if (s->ip_line)
			diag_svc(cfg, s, s->ip_line, "ip: needs network= (domud "
			    "manages no addresses on a plain bridge)");
		if (s->nfwd)
			diag_svc(cfg, s, s->forward_line, "forward: needs "
			    "network=");
	}
	if (s->has_net && s->mac_line == 0)
		service_auto_mac(s->name, 0, s->mac);
}

/* ---- domud.conf, and across services ---------------------------------- */

static void
check_networks(struct config *cfg)
{
	size_t i, j;
	char a[16], b[16];

	for (i = 0; i < cfg->nnets; i++) {
		struct net_conf *n = cfg->nets[i];
		uint32_t mask = value_prefix_mask(n->prefix);

		if (n->bridge_line == 0)
			diag_conf(cfg, n->line, "[network:%s]: missing required "
			    "key 'bridge'", n->name);
		if (n->subnet_line == 0) {
			if (!n->subnet_seen)
				diag_conf(cfg, n->line, "[network:%s]: missing "
				    "required key 'subnet'", n->name);
			continue;
		}
		if (n->gateway_line == 0)
			n->gateway = n->subnet + 1;
		else if ((n->gateway & mask) != n->subnet ||
		    n->gateway == n->subnet || n->gateway == (n->subnet | ~mask)) {
			ip4_format(a, sizeof(a), n->gateway);
			diag_conf(cfg, n->gateway_line, "gateway: %s is not a host "
			    "address of the subnet", a);
		}
		for (j = 0; j < i; j++) {
			struct net_conf *m = cfg->nets[j];
			uint32_t common;

			if (n->bridge && m->bridge &&
			    strcmp(n->bridge, m->bridge) == 0)
				diag_conf(cfg, n->bridge_line, "bridge: %s is "
				    "also the bridge of [network:%s]", n->bridge,
				    m->name);
			if (m->subnet_line == 0)
				continue;
			common = value_prefix_mask(n->prefix < m->prefix ?
			    n->prefix : m->prefix);
			if ((n->subnet & common) == (m->subnet & common)) {
				ip4_format(a, sizeof(a), n->subnet);
				ip4_format(b, sizeof(b), m->subnet);
				diag_conf(cfg, n->subnet_line, "subnet: %s/%u "
				    "overlaps %s/%u of [network:%s]", a,
				    n->prefix, b, m->prefix, m->name);
			}
		}
	}
}

static int
check_ranges_overlap(const struct forward_conf *x, const struct forward_conf *y)
{
	return x->proto == y->proto && x->host_lo <= y->host_hi &&
	    y->host_lo <= x->host_hi;
}

static void
check_service_net(struct config *cfg, struct service_conf *s)
{
	struct net_conf *n;
	uint32_t mask;
	char a[16];
	size_t i, j;

	if (!s->has_net || s->network == NULL)
		return;
	if ((n = config_find_net(cfg, s->network)) == NULL) {
		diag_svc(cfg, s, s->network_line, "network: unknown network "
		    "'%s' (no [network:%s] in %s)", s->network, s->network,
		    cfg->path);
		return;
	}
	if (n->subnet_line == 0)
		return;		/* reported in domud.conf */
	mask = value_prefix_mask(n->prefix);
	if (s->ip_line) {
		ip4_format(a, sizeof(a), s->ip);
		if ((s->ip & mask) != n->subnet)
			diag_svc(cfg, s, s->ip_line, "ip: %s is outside the "
			    "subnet of network '%s'", a, n->name);
		else if (s->ip == n->subnet || s->ip == (n->subnet | ~mask))
			diag_svc(cfg, s, s->ip_line, "ip: %s is the network or "
			    "broadcast address of network '%s'", a, n->name);
		else if (s->ip == n->gateway)
			diag_svc(cfg, s, s->ip_line, "ip: %s is the gateway of "
			    "network '%s'", a, n->name);
	}
	for (i = 0; i < s->nfwd; i++)
		for (j = 0; j < i; j++)
			if (check_ranges_overlap(&s->fwd[i], &s->fwd[j]))
				diag_svc(cfg, s, s->forward_line, "forward: %s "
				    "host port %u is published twice",
				    s->fwd[i].proto == IPPROTO_TCP ? "tcp" : "udp",
				    s->fwd[i].host_lo > s->fwd[j].host_lo ?
				    s->fwd[i].host_lo : s->fwd[j].host_lo);
}

static void
check_net_cross(struct config *cfg, struct service_conf *s,
    struct service_conf *t)
{
	size_t i, j;
	char a[32];

	if (!s->has_net || !t->has_net)
		return;
	if (s->mac_line && t->mac_line && memcmp(s->mac, t->mac, 6) == 0) {
		mac_format(a, sizeof(a), s->mac);
		diag_svc(cfg, s, s->mac_line, "mac: %s is also used by service "
		    "'%s'", a, t->name);
	}
	if (s->ip_line && t->ip_line && s->ip == t->ip) {
		ip4_format(a, sizeof(a), s->ip);
		diag_svc(cfg, s, s->ip_line, "ip: %s is also used by service "
		    "'%s'", a, t->name);
	}
	/* host ports belong to Dom0: one publisher per port, any network */
	for (i = 0; i < s->nfwd; i++)
		for (j = 0; j < t->nfwd; j++)
			if (check_ranges_overlap(&s->fwd[i], &t->fwd[j]))
				diag_svc(cfg, s, s->forward_line, "forward: %s "
				    "host port %u is also published by service "
				    "'%s'", s->fwd[i].proto == IPPROTO_TCP ?
				    "tcp" : "udp", s->fwd[i].host_lo >
				    t->fwd[j].host_lo ? s->fwd[i].host_lo :
				    t->fwd[j].host_lo, t->name);
}

enum { WHITE, GREY, BLACK };

static int
check_cycle_visit(struct config *cfg, size_t i, int *color, size_t *stack,
    size_t depth)
{
	struct service_conf *s = cfg->svcs[i];
	size_t a, j;

	color[i] = GREY;
	stack[depth] = i;
	for (a = 0; a < s->nafter; a++) {
		struct service_conf *t = config_find(cfg, s->after[a]);

		if (t == NULL || t == s)
			continue;
		for (j = 0; j < cfg->nsvcs; j++)
			if (cfg->svcs[j] == t)
				break;
		if (color[j] == GREY) {
			char path[1024] = "";
			size_t k, start;

			for (start = 0; start <= depth; start++)
				if (stack[start] == j)
					break;
			for (k = start; k <= depth; k++) {
				strncat(path, cfg->svcs[stack[k]]->name,
				    sizeof(path) - strlen(path) - 1);
				strncat(path, " -> ", sizeof(path) - strlen(path) - 1);
			}
			strncat(path, t->name, sizeof(path) - strlen(path) - 1);
			diag_svc(cfg, s, s->after_line, "dependency cycle: %s",
			    path);
			for (k = start; k <= depth; k++)
				cfg->svcs[stack[k]]->errors++;
			continue;
		}
		if (color[j] == WHITE)
			check_cycle_visit(cfg, j, color, stack, depth + 1);
	}
	color[i] = BLACK;
	return 0;
}

void
check_config(struct config *cfg)
{
	uint8_t twin[16];
	size_t i, j, a, d, e;
	int *color;
	size_t *stack;

	check_networks(cfg);
	check_pools(cfg);
	for (i = 0; i < cfg->nsvcs; i++) {
		struct service_conf *s = cfg->svcs[i];

		check_service_net(cfg, s);
		for (a = 0; a < s->nafter; a++) {
			if (strcmp(s->after[a], s->name) == 0)
				diag_svc(cfg, s, s->after_line, "after: a service "
				    "cannot start after itself");
			else if (config_find(cfg, s->after[a]) == NULL)
				diag_svc(cfg, s, s->after_line, "after: unknown "
				    "service '%s'", s->after[a]);
		}
		for (j = 0; j < i; j++) {
			struct service_conf *t = cfg->svcs[j];

			/* each service's domains take its UUID or the twin
			 * (a standby's: backend.h) */
			memcpy(twin, t->uuid, 16);
			twin[15] ^= 1;
			if (s->uuid_line && memcmp(s->uuid, t->uuid, 16) == 0)
				diag_svc(cfg, s, s->uuid_line, "uuid: also used "
				    "by service '%s'", t->name);
			else if (s->uuid_line && memcmp(s->uuid, twin, 16) == 0)
				diag_svc(cfg, s, s->uuid_line, "uuid: differs "
				    "only in the last bit from that of service "
				    "'%s', whose standby domains take it", t->name);
			check_net_cross(cfg, s, t);
			check_partition_cross(cfg, s, t);
			for (d = 0; d < s->ndisks; d++)
				for (e = 0; e < t->ndisks; e++) {
					struct disk_conf *x = &s->disks[d],
					    *y = &t->disks[e];

					if (x->path && y->path &&
					    strcmp(x->path, y->path) == 0 &&
					    (x->readwrite || y->readwrite))
						diag_svc(cfg, s, x->line, "[disk:%s]: "
						    "%s is also used by service '%s'; "
						    "a shared disk must be ro in both",
						    x->name, x->path, t->name);
				}
		}
	}

	color = xcalloc(cfg->nsvcs, sizeof(*color));
	stack = xcalloc(cfg->nsvcs + 1, sizeof(*stack));
	for (i = 0; i < cfg->nsvcs; i++)
		if (color[i] == WHITE)
			check_cycle_visit(cfg, i, color, stack, 0);
	free(color);
	free(stack);
}
