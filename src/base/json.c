// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * yajl generator helpers shared by every JSON domud writes: control replies
 * (proto), the state file (core/state.c) and the leases (net/lease.c).
 * Bottom layer: libc, yajl, log and util only.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "util.h"

/* Strings that are not UTF-8 (a name cut mid-character, bytes from a
 * guest) are sent with '?' for each bad byte rather than breaking the
 * reply. */
void
gen_str(yajl_gen g, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n, i, k;
	uint32_t cp;
	char *fixed;

	if (s == NULL) {
		yajl_gen_null(g);
		return;
	}
	n = strlen(s);
	if (yajl_gen_string(g, u, n) != yajl_gen_invalid_string)
		return;
	fixed = xcalloc(1, n + 1);
	for (i = 0; i < n; i += k) {
		k = utf8_seq_len(u + i, n - i, &cp);
		if (k == 0) {
			fixed[i] = '?';
			k = 1;
		} else
			memcpy(fixed + i, s + i, k);
	}
	yajl_gen_string(g, (const unsigned char *)fixed, n);
	free(fixed);
}

void
gen_kv_str(yajl_gen g, const char *k, const char *v)
{
	gen_str(g, k);
	gen_str(g, v);
}

void
gen_kv_int(yajl_gen g, const char *k, long long v)
{
	gen_str(g, k);
	yajl_gen_integer(g, v);
}

void
gen_kv_bool(yajl_gen g, const char *k, int v)
{
	gen_str(g, k);
	yajl_gen_bool(g, v);
}

yajl_gen
json_gen_new(void)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (g == NULL)
		fatalx("yajl_gen_alloc");
	/* escape '/' is harmless; validate UTF-8 so a guest's bytes can't
	 * produce invalid JSON (yajl then refuses the string) */
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	return g;
}

