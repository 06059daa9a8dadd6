/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_NET_H
#define DOMUD_NET_H

/*
 * The networks of domud.conf and the services on them: bridges (link.c),
 * leases (lease.c) and our iptables chains (rules.c, iptc.c). A service's
 * forwards are in the rules while its DomU is up; the rest of the rule set
 * is there while domud runs. net knows service configurations, not the
 * supervisor: which services are up it asks through net_active_fn, and
 * what `domuctl net` shows it hands out as data (net_info), for the control
 * side to render.
 */
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "conf/config.h"
#include "iptc.h"
#include "lease.h"

struct net;
struct ruleset;

/* the configurations of the services whose DomUs are up (those the
 * caller marked up after net_service_up/net_service_adopted said 1);
 * a malloc'd array of *n pointers, valid until the caller changes them */
typedef const struct service_conf **net_active_fn(void *arg, size_t *n);

/* leases assigned to cfg's services (before the supervisor takes them) */
struct net	*net_new(struct config *);
/* who says which services are up (the supervisor; a test tool) */
void		 net_set_active(struct net *, net_active_fn *, void *arg);
void		 net_free(struct net *);
/* a new configuration (reload), before the supervisor takes it */
void		 net_configure(struct net *, struct config *);
/* before create: 1 when its forwards are in the rules now, 0 when it is
 * on no network of ours; -1 and nothing of it stays, e says what failed */
int		 net_service_up(struct net *, const struct service_conf *,
		    struct err *);
/* a DomU that was up is gone: its forwards go at the next flush */
void		 net_service_down(struct net *);
/* adopted (up without a create): 1 when it is on a network of ours */
int		 net_service_adopted(struct net *, const struct service_conf *);
/* bring the kernel in line after changes; called once per loop */
void		 net_flush(struct net *);
/* when net_flush wants to run again after a failure; -1 = not needed */
int		 net_timeout_ms(struct net *);
/* daemon stop: remove hooks and chains, unless the DomUs stay up */
void		 net_stop(struct net *, int keep);
void		 net_wanted(struct net *, struct ruleset *);
/* the drift from the kernel, repaired with fix; wait: for the xtables
 * lock as long as an apply does, else one try */
int		 net_check(struct net *, int fix, int wait, struct drift *,
		    struct err *);

/* what the networks look like now, for status; pointers into net */
struct net_info {
	int			 present;	/* 0: no networking (tests) */
	size_t			 nrules;
	int			 br_netfilter;	/* 1 on, 0 missing, -1 unknown */
	const char		*last_error;
	const char		*uplink_now[NETWORK_MAX];	/* "" = none */
	const struct lease	*leases;
	size_t			 nleases;
};
void		 net_info(const struct net *, struct net_info *);
/* a vif's counters from the guest's side: what it received and sent
 * (Dom0's backend interface transmits what the guest receives) */
struct net_vif_counters {
	uint64_t		 rx_bytes, tx_bytes, rx_packets, tx_packets;
};
int		 net_vif_counters(const char *ifname, struct net_vif_counters *,
		    struct err *);
const struct lease *net_lease(const struct net *, const char *svc);

/* the guest's settings: kernel command line words and xenstore keys */
void		 net_guest_cmdline(const struct net *, const struct service_conf *,
		    char *buf, size_t sz);
/* key=value pairs for xenstore under the domain, NULL-terminated, malloc'd */
char		**net_guest_xsdata(const struct net *, const struct service_conf *);

#endif
