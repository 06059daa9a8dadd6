// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Diagnostics of the configuration: "file:line: message" kept in order
 * on the config, errors and warnings counted, and each error counted
 * again for what it breaks (a service, or domud.conf itself). The bottom
 * of src/conf: every other file of it reports through here.
 * May call: base.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag.h"
#include "parse.h"
#include "base/log.h"

void
diag_v(struct config *cfg, const char *file, int line, int is_error,
    const char *fmt, va_list ap)
{
	char msg[512], *text = NULL;
	struct diag *d;
	int n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line > 0)
		n = asprintf(&text, "%s:%d: %s%s", file, line,
		    is_error ? "" : "warning: ", msg);
	else
		n = asprintf(&text, "%s: %s%s", file,
		    is_error ? "" : "warning: ", msg);
	if (n < 0)
		fatal("asprintf");
	d = reallocarray(cfg->diags, cfg->ndiags + 1, sizeof(*d));
	if (d == NULL)
		fatal("reallocarray");
	cfg->diags = d;
	cfg->diags[cfg->ndiags].text = text;
	cfg->diags[cfg->ndiags].is_error = is_error;
	cfg->ndiags++;
	if (is_error)
		cfg->errors++;
	else
		cfg->warnings++;
}

void
config_diag(struct config *cfg, const char *file, int line, int is_error,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_v(cfg, file, line, is_error, fmt, ap);
	va_end(ap);
}

void
diag_parse(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_v(p->cfg, p->file, p->lineno, 1, fmt, ap);
	va_end(ap);
	if (p->svc)
		p->svc->errors++;
	else
		p->cfg->conf_errors++;
}

void
diag_bad(struct parse *p, const char *key, const char *v, const char *why)
{
	diag_parse(p, "%s: bad value '%.64s': %s", key, v, why);
}

void
diag_svc(struct config *cfg, struct service_conf *s, int line,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_v(cfg, s->file, line, 1, fmt, ap);
	va_end(ap);
	s->errors++;
}

void
diag_conf(struct config *cfg, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_v(cfg, cfg->path, line, 1, fmt, ap);
	va_end(ap);
	cfg->conf_errors++;
}

void
config_print_diags(const struct config *cfg, FILE *fp)
{
	size_t i;

	for (i = 0; i < cfg->ndiags; i++)
		fprintf(fp, "%s\n", cfg->diags[i].text);
}
