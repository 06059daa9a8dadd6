/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_AGENT_H
#define DOMUD_AGENT_H

/* domud-agent's parts: the network settings it applies (net.c). */
#include <stddef.h>

/* read domud/net/{ip,gateway} from xenstore, else domud.ip= / domud.gw=
 * from the kernel command line; 0 and filled, or -1 when there are none */
int	agent_net_settings(char *ip, size_t ipsz, char *gw, size_t gwsz,
	    const char **source);
/* ADDR/PREFIX on ifname, up, default route via gw; -1 with errno */
int	agent_net_apply(const char *ifname, const char *ip, const char *gw);

#endif
