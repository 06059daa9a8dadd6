/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_CONF_DIAG_H
#define DOMUD_CONF_DIAG_H

/*
 * Inside src/conf: the diagnostics, "file:line: message", each counted
 * where it belongs (a service's errors, domud.conf's, the totals).
 * config_diag and config_print_diags are config.h's.
 */
#include <stdarg.h>

#include "config.h"

struct parse;

void	 diag_v(struct config *, const char *file, int line, int is_error,
	    const char *fmt, va_list);
/* at the line being parsed, counted for its service or domud.conf */
void	 diag_parse(struct parse *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* "KEY: bad value 'VALUE': WHY" at the line being parsed */
void	 diag_bad(struct parse *, const char *key, const char *v,
	    const char *why);
/* an error of a service at a line of its file */
void	 diag_svc(struct config *, struct service_conf *, int line,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* an error of domud.conf at one of its lines */
void	 diag_conf(struct config *, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
