/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_PARTITION_H
#define DOMUD_PARTITION_H

/*
 * Partitioning a board between DomUs: the values of the keys (CPU lists,
 * schedulers, PCI addresses, iomem ranges, IRQs). The checks that need
 * only the configuration (pools that overlap, a device two services
 * claim, scheduler parameters the pool's scheduler does not have) are
 * conf/check.c's; what needs the machine (CPUs that exist, an IOMMU, an
 * assignable device) is the backend's, at start.
 */
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* value parsers: NULL, or why the value is bad */
const char	*cpuset_parse(const char *, struct cpuset *);
/* "2-3" for every vCPU, or "2; 3" one set per vCPU; *sets is malloc'd */
const char	*cpus_parse(const char *, struct cpuset **sets, size_t *n);
const char	*sched_parse(const char *, enum sched_kind *);
const char	*pci_parse(const char *, struct pci_conf *);
const char	*iomem_parse(const char *, struct iomem_conf *);
const char	*irq_parse(const char *, uint32_t *);

int		 cpuset_empty(const struct cpuset *);
int		 cpuset_overlap(const struct cpuset *, const struct cpuset *);
/* "0-1,3" (empty: "none") */
void		 cpuset_format(const struct cpuset *, char *, size_t);
const char	*sched_str(enum sched_kind);
void		 pci_format(const struct pci_conf *, char *, size_t);
int		 pci_same(const struct pci_conf *, const struct pci_conf *);

/* the line of the key a machine check's message names ("cpus: ...") */
int		 partition_key_line(const struct service_conf *, const char *msg);

#endif
