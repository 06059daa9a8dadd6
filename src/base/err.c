// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The error object every layer passes down and adds context to, as crun
 * does: the lowest layer says what failed (err_set), each caller above
 * prefixes where (err_wrap). Bottom layer: libc only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

/* Returns -1 so callers can write "return err_set(...)". */
int
err_set(struct err *e, int status, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->status = status ? status : -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
err_wrap(struct err *e, const char *fmt, ...)
{
	char ctx[256], old[sizeof(e->msg)];
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	/* the tail of a long chain may be cut: the outer context matters most */
	if (snprintf(e->msg, sizeof(e->msg), "%s: ", ctx) > 0)
		strncat(e->msg, old, sizeof(e->msg) - strlen(e->msg) - 1);
	if (e->status == 0)
		e->status = -1;
	return -1;
}

void
err_clear(struct err *e)
{
	e->status = 0;
	e->msg[0] = '\0';
}
