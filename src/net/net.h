/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_NET_H
#define DOMUD_NET_H

/*
 * The networks of domud.conf and the services on them: bridges (link.c),
 * leases (lease.c) and our iptables chains (rules.c, iptc.c). A service's
 * forwards are in the rules while its DomU is up (net_service_up/down); the
 * rest of the rule set is there while domud runs.
 */
#include <yajl_gen.h>

#include "core/config.h"
#include "base/err.h"
#include "iptc.h"

struct supervisor;
struct service;
struct net;

/* leases assigned to cfg's services (before the supervisor takes them) */
struct net	*net_new(struct config *);
void		 net_free(struct net *);
/* a new configuration (reload), before sup_reload */
void		 net_configure(struct net *, struct config *);
/* before create; on failure nothing of it stays and e says what failed */
int		 net_service_up(struct supervisor *, struct service *,
		    struct err *);
/* the DomU is gone (or adopted: up without a create) */
void		 net_service_down(struct supervisor *, struct service *);
void		 net_service_adopted(struct supervisor *, struct service *);
/* bring the kernel in line after changes; called once per loop */
void		 net_flush(struct supervisor *);
/* when net_flush wants to run again after a failure; -1 = not needed */
int		 net_timeout_ms(struct supervisor *);
/* daemon stop: remove hooks and chains, unless the DomUs stay up */
void		 net_stop(struct supervisor *, int keep);
struct ruleset;
void		 net_wanted(struct supervisor *, struct ruleset *);
int		 net_check(struct supervisor *, int fix, struct drift *,
		    struct err *);
void		 net_status_json(struct supervisor *, yajl_gen);
/* the guest's settings: kernel command line words and xenstore keys */
void		 net_guest_cmdline(struct supervisor *, const struct service_conf *,
		    char *buf, size_t sz);
/* key=value pairs for xenstore under the domain, NULL-terminated, malloc'd */
char		**net_guest_xsdata(struct supervisor *, const struct service_conf *);

#endif
