// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The floor for domud's size: a program that only creates one PV domain
 * through libxl and waits for it to be built (bench P5 links it exactly
 * as the static domud is linked and compares the two). Not installed.
 * usage: xlmin NAME KERNEL MEMORY_MIB
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxl.h>
#include <xentoollog.h>

int
main(int argc, char **argv)
{
	xentoollog_logger_stdiostream *lg = NULL;
	libxl_domain_config cfg;
	libxl_ctx *ctx = NULL;
	uint32_t domid = 0;
	int rc = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: xlmin NAME KERNEL MEMORY_MIB\n");
		return 2;
	}
	libxl_domain_config_init(&cfg);
	lg = xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
	if (lg == NULL || libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0,
	    (xentoollog_logger *)lg) != 0)
		goto out;
	cfg.c_info.type = LIBXL_DOMAIN_TYPE_PV;
	cfg.c_info.name = strdup(argv[1]);
	libxl_domain_build_info_init_type(&cfg.b_info, LIBXL_DOMAIN_TYPE_PV);
	cfg.b_info.max_memkb = cfg.b_info.target_memkb =
	    strtoull(argv[3], NULL, 10) * 1024;
	cfg.b_info.kernel = strdup(argv[2]);
	if (libxl_domain_create_new(ctx, &cfg, &domid, NULL, NULL) == 0) {
		printf("domain %u\n", domid);
		rc = 0;
	}
out:
	libxl_domain_config_dispose(&cfg);
	if (ctx)
		libxl_ctx_free(ctx);
	if (lg)
		xtl_logger_destroy((xentoollog_logger *)lg);
	return rc;
}
