/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_CTL_REPLY_H
#define DOMUD_CTL_REPLY_H

/* domuctl's own: a reply's fields as the renderers read them, and the
 * renderers ctl_render calls from the files beside it. */
#include <stdio.h>
#include <string.h>

#include <yajl_tree.h>

/* a string member; NULL when absent or not a string */
static inline const char *
jstr(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, path, yajl_t_string);

	return v ? YAJL_GET_STRING(v) : NULL;
}

/* an integer member: 1 and *out, or 0 and *out untouched */
static inline int
jint(yajl_val obj, const char *key, long long *out)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, path, yajl_t_number);

	if (v == NULL || !YAJL_IS_INTEGER(v))
		return 0;
	*out = YAJL_GET_INTEGER(v);
	return 1;
}

static inline int
jtrue(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, path, yajl_t_any);

	return v != NULL && YAJL_IS_TRUE(v);
}

/* a string member, dflt when absent or empty */
static inline const char *
jstr_or(yajl_val obj, const char *key, const char *dflt)
{
	const char *v = jstr(obj, key);

	return v && *v ? v : dflt;
}

/* status.c: list's table; status SERVICE's lines of one service */
void	ctl_print_list(yajl_val services, FILE *);
void	ctl_print_status(yajl_val service, FILE *);

#endif
