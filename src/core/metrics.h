/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_METRICS_H
#define DOMUD_METRICS_H

/*
 * Prometheus' text exposition of what domud knows: `domuctl metrics`, and
 * metrics_file for node_exporter's textfile collector (no listening port
 * in a root daemon).
 */
#include <stddef.h>

struct supervisor;

/* the whole exposition, malloc'd, NUL-terminated */
char	*metrics_render(struct supervisor *, size_t *len);
/* metrics_file, rewritten whole: 0, or -1 (logged) */
int	 metrics_write(struct supervisor *);

#endif
