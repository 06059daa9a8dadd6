/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_JSON_H
#define DOMUD_JSON_H

#include <stddef.h>

#include <yajl_gen.h>
#include <yajl_tree.h>

/* a generator that validates UTF-8 (a guest's bytes cannot break a reply) */
yajl_gen	 json_gen_new(void);
/* a string; bytes that are not UTF-8 are sent as '?' */
void		 gen_str(yajl_gen, const char *);
void		 gen_kv_str(yajl_gen, const char *k, const char *v);
void		 gen_kv_int(yajl_gen, const char *k, long long v);
void		 gen_kv_bool(yajl_gen, const char *k, int v);

/* an array's length and members; 0 and NULL for anything else (what
 * yajl_tree_get returned may be NULL) */
static inline size_t
json_len(yajl_val v)
{
	return YAJL_IS_ARRAY(v) ? v->u.array.len : 0;
}

static inline yajl_val
json_at(yajl_val v, size_t i)
{
	return i < json_len(v) ? v->u.array.values[i] : NULL;
}

#endif
