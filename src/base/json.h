/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_JSON_H
#define DOMUD_JSON_H

#include <yajl_gen.h>

/* a generator that validates UTF-8 (a guest's bytes cannot break a reply) */
yajl_gen	 json_gen_new(void);
/* a string; bytes that are not UTF-8 are sent as '?' */
void		 gen_str(yajl_gen, const char *);
void		 gen_kv_str(yajl_gen, const char *k, const char *v);
void		 gen_kv_int(yajl_gen, const char *k, long long v);
void		 gen_kv_bool(yajl_gen, const char *k, int v);

#endif
