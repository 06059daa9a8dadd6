/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TEST_HELPERS_H
#define TEST_HELPERS_H

#include <check.h>

#include "conf/config.h"

struct supervisor;
struct fake_backend;

/* parse one service from text into cfg (not checked across services) */
struct service_conf *t_service(struct config *, const char *name,
			    const char *text);
/* 1 if some diagnostic contains s */
int		 t_has_diag(const struct config *, const char *s);
char		*t_tmpdir(void);
/* remove a directory made by t_tmpdir, and free its name */
void		 t_rmtree(char *dir);
/* one round of domud's loop with its descriptors (consoles are read),
 * waiting up to ms */
void		 t_run_io(struct supervisor *, struct fake_backend *, int ms);
/* a test that cannot run here (why: "needs root", say): not registered, so
 * Check cannot count it as passed; "SKIP unit/TEST: why" now, and counted
 * for t_skips_report (unless CK_RUN_SUITE/CK_RUN_CASE leave it out) */
void		 t_skip(const char *suite, const char *tcase, const char *test,
		    const char *why);
/* at the end: "unit: N skipped: TEST ..." (if any); the number skipped */
int		 t_skips_report(void);

Suite *config_suite(void);
Suite *proto_suite(void);
Suite *auth_suite(void);
Suite *ctl_suite(void);
Suite *ctl_update_suite(void);
Suite *service_suite(void);
Suite *control_suite(void);
Suite *console_suite(void);
Suite *base_suite(void);
Suite *socket_suite(void);
Suite *frame_suite(void);
Suite *kcache_suite(void);
Suite *tables_suite(void);
Suite *slot_suite(void);
Suite *update_suite(void);
Suite *sandbox_suite(void);
Suite *gio_suite(void);

#endif
