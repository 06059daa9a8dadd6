/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TEST_HELPERS_H
#define TEST_HELPERS_H

#include <check.h>

#include "core/config.h"

/* parse one service from text into cfg (not checked across services) */
struct service_conf *t_service(struct config *, const char *name,
			    const char *text);
/* 1 if some diagnostic contains s */
int		 t_has_diag(const struct config *, const char *s);
char		*t_tmpdir(void);
/* remove a directory made by t_tmpdir, and free its name */
void		 t_rmtree(char *dir);

Suite *config_suite(void);
Suite *proto_suite(void);
Suite *auth_suite(void);
Suite *ctl_suite(void);
Suite *service_suite(void);
Suite *control_suite(void);
Suite *console_suite(void);
Suite *base_suite(void);
Suite *socket_suite(void);
Suite *frame_suite(void);
Suite *kcache_suite(void);

#endif
