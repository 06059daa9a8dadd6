// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Partitioning keys: their values (CPU lists, schedulers, PCI addresses,
 * iomem ranges, IRQs), parsed and formatted. Owns nothing at run time;
 * custom.c parses with it, check.c and core format with it. The checks
 * are check.c's; the machine's side (CPUs that exist, an IOMMU, an
 * assignable device, the pools themselves) is src/xen's.
 * May call: base.
 */
#include <errno.h>
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
