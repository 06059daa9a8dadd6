/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_CONF_CHECK_H
#define DOMUD_CONF_CHECK_H

/* Inside src/conf: the checks after parsing (check.c), said file:line */
#include "config.h"

/* one service's keys against each other and domud.conf's pools */
void	 check_service(struct config *, struct service_conf *);
/* domud.conf's networks and pools, and across services */
void	 check_config(struct config *);

#endif
