// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Partitioning keys: the values (CPU lists, schedulers, PCI addresses,
 * iomem ranges, IRQs) and the checks the configuration alone allows, each
 * said file:line. Owns nothing at run time; config.c calls in while it
 * parses and checks. The machine's side (CPUs that exist, an IOMMU, an
 * assignable device, the pools themselves) is src/xen's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partition.h"
#include "base/util.h"

int
cpuset_empty(const struct cpuset *c)
{
	size_t i;

	for (i = 0; i < nitems(c->bits); i++)
		if (c->bits[i])
			return 0;
	return 1;
}

int
cpuset_overlap(const struct cpuset *a, const struct cpuset *b)
{
	size_t i;

	for (i = 0; i < nitems(a->bits); i++)
		if (a->bits[i] & b->bits[i])
			return 1;
	return 0;
}

/* the first CPU in a and not in b, -1 if none */
static int
cpuset_first_outside(const struct cpuset *a, const struct cpuset *b)
{
	unsigned i;

	for (i = 0; i < CPUS_MAX; i++)
		if (cpuset_has(a, i) && !cpuset_has(b, i))
			return (int)i;
	return -1;
}

static int
cpuset_first_common(const struct cpuset *a, const struct cpuset *b)
{
	unsigned i;

	for (i = 0; i < CPUS_MAX; i++)
		if (cpuset_has(a, i) && cpuset_has(b, i))
			return (int)i;
	return -1;
}

void
cpuset_format(const struct cpuset *c, char *buf, size_t sz)
{
	size_t n = 0;
	unsigned i, j;
	int w;

	if (sz == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < CPUS_MAX; i++) {
		if (!cpuset_has(c, i))
			continue;
		for (j = i; j + 1 < CPUS_MAX && cpuset_has(c, j + 1); j++)
			;
		w = j > i ? snprintf(buf + n, sz - n, "%s%u-%u", n ? "," : "",
		    i, j) : snprintf(buf + n, sz - n, "%s%u", n ? "," : "", i);
		if (w < 0 || (size_t)w >= sz - n)
			return;
		n += (size_t)w;
		i = j;
	}
	if (n == 0)
		snprintf(buf, sz, "none");
}

static const char *
cpu_number(const char *s, char **end, unsigned *cpu)
{
	unsigned long v;

	if (*s < '0' || *s > '9')
		return "expected CPU numbers like 2-3,5";
	errno = 0;
	v = strtoul(s, end, 10);
	if (errno || v >= CPUS_MAX)
		return "a CPU number is too large";
	*cpu = (unsigned)v;
	return NULL;
}

/* "2-3,5": entries split by list_split, so that "1,,2" and "1," are
 * refused as what they are */
const char *
cpuset_parse(const char *v, struct cpuset *out)
{
	char buf[1024], *ent[sizeof(buf) / 2], *end;
	const char *why;
	unsigned lo, hi, i;
	size_t k, n;

	memset(out, 0, sizeof(*out));
	if (strlcpy_(buf, v, sizeof(buf)) >= sizeof(buf))
		return "too long";
	if ((why = list_split(buf, ',', 0, ent, nitems(ent), &n)) != NULL)
		return why;
	if (n == 0)
		return "expected CPU numbers like 2-3,5";
	for (k = 0; k < n; k++) {
		if ((why = cpu_number(ent[k], &end, &lo)) != NULL)
			return why;
		hi = lo;
		if (*end == '-') {
			if (end[1] == '\0')
				return "a range without its end, like 2-3";
			if ((why = cpu_number(end + 1, &end, &hi)) != NULL)
				return why;
			if (hi < lo)
				return "a range goes down";
		}
		if (*end != '\0')
			return "expected CPU numbers like 2-3,5";
		for (i = lo; i <= hi; i++)
			cpuset_set(out, i);
	}
	return NULL;
}

const char *
cpus_parse(const char *v, struct cpuset **sets, size_t *n)
{
	char buf[1024], *ent[sizeof(buf) / 2];
	struct cpuset *out;
	const char *why;
	size_t k, m;

	*sets = NULL;
	*n = 0;
	if (strlcpy_(buf, v, sizeof(buf)) >= sizeof(buf))
		return "too long";
	/* one list per vCPU, between ';' */
	if ((why = list_split(buf, ';', 0, ent, nitems(ent), &m)) != NULL)
		return why;
	if (m > VCPUS_MAX)
		return "more lists than a domain has vCPUs";
	if (m == 0)
		return "expected CPU numbers like 2-3,5";
	out = xcalloc(m, sizeof(*out));
	for (k = 0; k < m; k++)
		if ((why = cpuset_parse(ent[k], &out[k])) != NULL) {
			free(out);
			return why;
		}
	*sets = out;
	*n = m;
	return NULL;
}

const char *
sched_str(enum sched_kind k)
{
	return sched_kind_str(k);
}

const char *
sched_parse(const char *v, enum sched_kind *out)
{
	int k;

	for (k = SCHED_CREDIT; k <= SCHED_ARINC653; k++)
		if (strcmp(v, sched_kind_str((enum sched_kind)k)) == 0) {
			*out = (enum sched_kind)k;
			return NULL;
		}
	return "expected credit, credit2, rtds, null or arinc653";
}

static int
hex_field(const char **s, unsigned long max, unsigned long *v)
{
	char *end;

	if (!((**s >= '0' && **s <= '9') || (**s >= 'a' && **s <= 'f') ||
	    (**s >= 'A' && **s <= 'F')))
		return -1;
	errno = 0;
	*v = strtoul(*s, &end, 16);
	if (errno || *v > max)
		return -1;
	*s = end;
	return 0;
}

/* [DDDD:]BB:DD.F[,seize] */
const char *
pci_parse(const char *v, struct pci_conf *out)
{
	static const char *const form = "expected a PCI address like "
	    "0000:03:00.0 (then ,seize to take it from its Dom0 driver)";
	unsigned long a, b, c, d;
	const char *s = v;

	memset(out, 0, sizeof(*out));
	if (hex_field(&s, 0xffff, &a) == -1 || *s++ != ':' ||
	    hex_field(&s, 0xff, &b) == -1)
		return form;
	if (*s == ':') {
		s++;
		if (hex_field(&s, 0x1f, &c) == -1)
			return form;
		out->domain = (uint16_t)a;
		out->bus = (uint8_t)b;
	} else {
		if (a > 0xff || b > 0x1f)
			return form;
		out->bus = (uint8_t)a;
		c = b;
	}
	if (*s++ != '.' || hex_field(&s, 7, &d) == -1)
		return form;
	out->dev = (uint8_t)c;
	out->func = (uint8_t)d;
	if (*s == '\0')
		return NULL;
	if (strcmp(s, ",seize") == 0) {
		out->seize = 1;
		return NULL;
	}
	/* "0000:03:00.0," or a list by commas: say which separator it is */
	if (*s == ',')
		return "after ',' only seize may come (devices are separated "
		    "by ';')";
	return form;
}

int
pci_same(const struct pci_conf *a, const struct pci_conf *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->dev == b->dev &&
	    a->func == b->func && a->seize == b->seize;
}

void
pci_format(const struct pci_conf *p, char *buf, size_t sz)
{
	snprintf(buf, sz, "%04x:%02x:%02x.%x", p->domain, p->bus, p->dev,
	    p->func);
}

/* MFN,PAGES[@GFN], hexadecimal as xl takes it (0x allowed) */
const char *
iomem_parse(const char *v, struct iomem_conf *out)
{
	static const char *const form = "expected START,PAGES[@GFN] in "
	    "hexadecimal pages, like 0x4000,1@0x4000";
	unsigned long long x;
	const char *s = v;
	char *end;
	int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < 3; i++) {
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
			s += 2;
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		    (*s >= 'A' && *s <= 'F')))
			return form;
		errno = 0;
		x = strtoull(s, &end, 16);
		if (errno || x > (1ULL << 40))
			return "a page number is out of range";
		s = end;
		if (i == 0) {
			out->start = x;
			if (*s++ != ',')
				return form;
		} else if (i == 1) {
			if (x == 0)
				return "at least one page";
			out->count = x;
			if (*s == '\0')
				return NULL;
			if (*s++ != '@')
				return form;
		} else {
			out->gfn = x;
			out->has_gfn = 1;
		}
	}
	return *s == '\0' ? NULL : form;
}

const char *
irq_parse(const char *v, uint32_t *irq)
{
	uint64_t n;
	const char *why;

	if ((why = parse_uint(v, 1023, &n)) != NULL)
		return why;
	*irq = (uint32_t)n;
	return NULL;
}

/* the line of the key a machine check's message is about ("cpus: ...") */
int
partition_key_line(const struct service_conf *s, const char *msg)
{
	static const struct {
		const char	*prefix;
		size_t		 off;
	} keys[] = {
		{ "cpus_soft:", offsetof(struct service_conf, cpus_soft_line) },
		{ "cpus:", offsetof(struct service_conf, cpus_line) },
		{ "cpupool", offsetof(struct service_conf, cpupool_line) },
		{ "pci:", offsetof(struct service_conf, pci_line) },
		{ "dtdev:", offsetof(struct service_conf, dtdev_line) },
	};
	size_t i;
	int line;

	for (i = 0; i < nitems(keys); i++)
		if (strncmp(msg, keys[i].prefix, strlen(keys[i].prefix)) == 0) {
			memcpy(&line, (const char *)s + keys[i].off, sizeof(line));
			if (line > 0)
				return line;
		}
	return s->line > 0 ? s->line : 1;
}

/* ---- checks ------------------------------------------------------------- */

static void
serr(struct config *cfg, struct service_conf *s, int line, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
static void
serr(struct config *cfg, struct service_conf *s, int line, const char *fmt,
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

void
partition_check_pools(struct config *cfg)
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
			    (c = cpuset_first_common(&p->cpus, &q->cpus)) < 0)
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
pool_cpus_taken(const struct config *cfg, unsigned cpu, const char **by)
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
			if ((out = cpuset_first_outside(&sets[k],
			    &pool->cpus)) >= 0) {
				cpuset_format(&pool->cpus, a, sizeof(a));
				serr(cfg, s, line, "%s: CPU %d is not in cpupool "
				    "%s (%s): its vCPUs could never run there",
				    key, out, pool->name, a);
				return;
			}
			continue;
		}
		for (c = 0; c < CPUS_MAX; c++)
			if (cpuset_has(&sets[k], c) &&
			    pool_cpus_taken(cfg, c, &by)) {
				serr(cfg, s, line, "%s: CPU %u belongs to "
				    "[cpupool:%s]; a service that runs there "
				    "says cpupool = %s", key, c, by, by);
				return;
			}
	}
}

void
partition_check_service(struct config *cfg, struct service_conf *s)
{
	const struct pool_conf *pool = NULL;
	enum sched_kind sched = SCHED_DEFAULT;

	if (s->cpupool && strcmp(s->cpupool, "Pool-0") != 0) {
		pool = config_find_pool(cfg, s->cpupool);
		if (pool == NULL) {
			serr(cfg, s, s->cpupool_line, "cpupool: unknown pool "
			    "'%s' (no [cpupool:%s] in %s)", s->cpupool,
			    s->cpupool, cfg->path);
			return;
		}
		sched = pool->sched;
	}
	if (s->ncpus > 1 && s->ncpus != s->vcpus)
		serr(cfg, s, s->cpus_line, "cpus: %zu lists for %u vCPUs (one "
		    "list for all, or one per vCPU)", s->ncpus, s->vcpus);
	if (s->ncpus_soft > 1 && s->ncpus_soft != s->vcpus)
		serr(cfg, s, s->cpus_soft_line, "cpus_soft: %zu lists for %u "
		    "vCPUs (one list for all, or one per vCPU)", s->ncpus_soft,
		    s->vcpus);
	check_cpus_in_pool(cfg, s, s->cpus, s->ncpus, s->cpus_line, "cpus",
	    pool);
	/* the scheduler's own parameters, and no other's */
	if (sched == SCHED_RTDS || sched == SCHED_NULL ||
	    sched == SCHED_ARINC653) {
		if (s->weight_line)
			serr(cfg, s, s->weight_line, "weight: cpupool %s runs "
			    "%s, which has no weight (credit and credit2 do)",
			    pool->name, sched_str(sched));
		if (s->cap_line)
			serr(cfg, s, s->cap_line, "cap: cpupool %s runs %s, "
			    "which has no cap (credit and credit2 do)",
			    pool->name, sched_str(sched));
	}
	if (sched != SCHED_RTDS) {
		if (s->period_line)
			serr(cfg, s, s->period_line, "period: only the rtds "
			    "scheduler has it (%s runs %s)", pool ?
			    pool->name : "Pool-0", pool ? sched_str(sched) :
			    "Xen's default scheduler");
		if (s->budget_line)
			serr(cfg, s, s->budget_line, "budget: only the rtds "
			    "scheduler has it (%s runs %s)", pool ?
			    pool->name : "Pool-0", pool ? sched_str(sched) :
			    "Xen's default scheduler");
	} else if (s->period_us && s->budget_us && s->budget_us > s->period_us)
		serr(cfg, s, s->budget_line, "budget: longer than its period");
	if (s->maxmem && s->maxmem < s->memory)
		serr(cfg, s, s->maxmem_line, "maxmem: less than memory");
#if defined(__aarch64__) || defined(__arm__)
	if (s->npci && !cfg->any_arch)
		serr(cfg, s, s->pci_line, "pci: PCI passthrough is x86's; on "
		    "ARM a device is given by dtdev, iomem and irqs");
#else
	if (s->ndtdev && !cfg->any_arch)
		serr(cfg, s, s->dtdev_line, "dtdev: device tree passthrough "
		    "is ARM's; on x86 a device is given by pci");
	if (s->device_tree && !cfg->any_arch)
		serr(cfg, s, s->device_tree_line, "device_tree: a partial "
		    "device tree is ARM's");
#endif
	if (s->standby && (s->npci || s->ndtdev || s->niomem || s->nirqs))
		serr(cfg, s, s->standby_line, "standby: a passed-through "
		    "device cannot be given to a second domain");
}

static int
iomem_overlap(const struct iomem_conf *a, const struct iomem_conf *b)
{
	return a->start < b->start + b->count && b->start < a->start + a->count;
}

/* what s claims that t (checked before it) claims too */
void
partition_check_cross(struct config *cfg, struct service_conf *s,
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
				serr(cfg, s, s->pci_line, "pci: %s is also "
				    "given to service '%s'", a, t->name);
			}
	for (i = 0; i < s->ndtdev; i++)
		for (j = 0; j < t->ndtdev; j++)
			if (strcmp(s->dtdev[i], t->dtdev[j]) == 0)
				serr(cfg, s, s->dtdev_line, "dtdev: %s is also "
				    "given to service '%s'", s->dtdev[i], t->name);
	for (i = 0; i < s->nirqs; i++)
		for (j = 0; j < t->nirqs; j++)
			if (s->irqs[i] == t->irqs[j])
				serr(cfg, s, s->irqs_line, "irqs: IRQ %u is also "
				    "given to service '%s'", s->irqs[i], t->name);
	for (i = 0; i < s->niomem; i++)
		for (j = 0; j < t->niomem; j++)
			if (iomem_overlap(&s->iomem[i], &t->iomem[j]))
				serr(cfg, s, s->iomem_line, "iomem: pages "
				    "0x%llx-0x%llx are also given to service "
				    "'%s'", (unsigned long long)s->iomem[i].start,
				    (unsigned long long)(s->iomem[i].start +
				    s->iomem[i].count - 1), t->name);
}
