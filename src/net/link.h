/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_LINK_H
#define DOMUD_LINK_H

/* Links and addresses through libnl-route-3; sysctls the network needs. */
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct bridge_state {
	int	 exists, is_bridge, up, has_addr;
};

/* create the bridge or take the existing one, give it gw/prefix, bring it
 * up; *created says whether it was made now (for undo) */
int	link_bridge_ensure(const char *name, uint32_t gw, unsigned prefix,
	    int *created, struct err *);
int	link_bridge_delete(const char *name, struct err *);
int	link_bridge_state(const char *name, uint32_t gw, unsigned prefix,
	    struct bridge_state *, struct err *);
/* the interface of the main table's default route; "" when none */
int	link_default_uplink(char *name, size_t sz, struct err *);
/* an interface's counters (rx/tx bytes and packets, as it sees them) */
int	link_counters(const char *name, uint64_t c[4], struct err *);
int	link_ip_forward(struct err *);
/* 1 enabled now, 0 br_netfilter is not loaded, -1 error */
int	link_br_netfilter(struct err *);

#endif
