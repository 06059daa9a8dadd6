// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The libxl domain configuration domud builds for a service file, against
 * what xl makes of the same guest (tests/xen/README): each key below that
 * xl's JSON has must be the same in domud's. Both come out of libxl's own
 * JSON generator, so a difference is a difference in what libxl is given.
 * usage: libxljson SERVICE.ini XL.json
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl_tree.h>

#include "base/fileio.h"
#include "base/util.h"
#include "xen/backend.h"
#include "conf/config.h"
#include "core/service.h"
#include "xen/xenbe.h"

/* what domud gives libxl for the partitioning keys, and what is around them */
static const char *const paths[][4] = {
	{ "c_info", "type", NULL },
	{ "b_info", "max_vcpus", NULL },
	{ "b_info", "max_memkb", NULL },
	{ "b_info", "target_memkb", NULL },
	{ "b_info", "vcpu_hard_affinity", NULL },
	{ "b_info", "vcpu_soft_affinity", NULL },
	{ "b_info", "sched_params", NULL },
	{ "b_info", "iomem", NULL },
	{ "b_info", "irqs", NULL },
	{ "b_info", "device_tree", NULL },
	{ "dtdevs", NULL },
	{ "pcidevs", NULL },
};

static int
same(yajl_val a, yajl_val b)
{
	size_t i, j;

	if (a == NULL || b == NULL)
		return a == b;
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case yajl_t_string:
		return strcmp(a->u.string, b->u.string) == 0;
	case yajl_t_number:
		return strcmp(a->u.number.r, b->u.number.r) == 0;
	case yajl_t_array:
		if (a->u.array.len != b->u.array.len)
			return 0;
		for (i = 0; i < a->u.array.len; i++)
			if (!same(a->u.array.values[i], b->u.array.values[i]))
				return 0;
		return 1;
	case yajl_t_object:
		if (a->u.object.len != b->u.object.len)
			return 0;
		for (i = 0; i < a->u.object.len; i++) {
			for (j = 0; j < b->u.object.len; j++)
				if (strcmp(a->u.object.keys[i],
				    b->u.object.keys[j]) == 0)
					break;
			if (j == b->u.object.len ||
			    !same(a->u.object.values[i], b->u.object.values[j]))
				return 0;
		}
		return 1;
	default:
		return 1;	/* true, false, null: the type said it */
	}
}

int
main(int argc, char *argv[])
{
	struct config *cfg = config_new("domud.conf");
	struct service_conf *c;
	struct be_domain_spec sp;
	struct err e = ERR_INIT;
	char *ini, *xl, *ours = NULL, errbuf[256];
	yajl_val xt = NULL, ot = NULL;
	size_t len, i, checked = 0;
	int fail = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: libxljson SERVICE.ini XL.json\n");
		return 2;
	}
	if ((ini = fileio_read(argv[1], 1 << 20)) == NULL ||
	    (xl = fileio_read(argv[2], 1 << 20)) == NULL) {
		fprintf(stderr, "libxljson: cannot read %s or %s\n", argv[1],
		    argv[2]);
		return 2;
	}
	cfg->any_arch = 1;	/* the ARM guest is checked on x86 too */
	len = strlen(ini);
	c = config_parse_service(cfg, "svc", argv[1], ini, len);
	if (c == NULL || c->errors) {
		config_print_diags(cfg, stderr);
		return 2;
	}
	/* what core/service.c gives the backend for the file */
	memset(&sp, 0, sizeof(sp));
	svc_conf_spec(c, &sp);
	if (xenbe_config_json(&sp, &ours, &e) == -1) {
		fprintf(stderr, "libxljson: %s\n", e.msg);
		return 1;
	}
	if ((xt = yajl_tree_parse(xl, errbuf, sizeof(errbuf))) == NULL ||
	    (ot = yajl_tree_parse(ours, errbuf, sizeof(errbuf))) == NULL) {
		fprintf(stderr, "libxljson: bad JSON: %s\n", errbuf);
		return 1;
	}
	for (i = 0; i < nitems(paths); i++) {
		yajl_val a = yajl_tree_get(xt, (const char **)paths[i], yajl_t_any),
		    b = yajl_tree_get(ot, (const char **)paths[i], yajl_t_any);
		char name[64];

		snprintf(name, sizeof(name), "%s%s%s", paths[i][0],
		    paths[i][1] ? "." : "", paths[i][1] ? paths[i][1] : "");
		if (a == NULL && b == NULL)
			continue;
		checked++;
		if (!same(a, b)) {
			printf("FAIL xen/libxljson %s: %s differs from xl's\n",
			    argv[1], name);
			fail = 1;
		}
	}
	if (checked < 4) {
		printf("FAIL xen/libxljson %s: only %zu keys to compare\n",
		    argv[1], checked);
		fail = 1;
	} else if (!fail)
		printf("PASS xen/libxljson %s: %zu keys as xl has them\n",
		    argv[1], checked);
	if (fail)
		printf("domud's:\n%s\n", ours);
	yajl_tree_free(xt);
	yajl_tree_free(ot);
	free(ours);
	service_conf_free(c);
	free(ini);
	free(xl);
	config_free(cfg);
	return fail;
}
