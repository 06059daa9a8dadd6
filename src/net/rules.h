/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_RULES_H
#define DOMUD_RULES_H

/*
 * The rule set domud wants, as plain data: made from the configuration and
 * the services whose DomUs are up, with no kernel involved, so that unit
 * and golden tests see exactly what iptc.c will commit. rules_format()
 * prints it as iptables-legacy-save prints the same rules.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf/config.h"

#define CHAIN_DNAT	"DOMUD-DNAT"		/* nat: port forwards */
#define CHAIN_POST	"DOMUD-POSTROUTING"	/* nat: masquerade, hairpin */
#define CHAIN_FWD	"DOMUD-FORWARD"		/* filter */
#define IFNAME_MAX	16

enum rule_table { TBL_NAT, TBL_FILTER, TBL__N };

enum rule_target {
	T_ACCEPT, T_DROP, T_RETURN, T_JUMP, T_MASQUERADE, T_DNAT,
};

/* conntrack states, in the order iptables prints them */
#define CT_ESTABLISHED	0x01
#define CT_RELATED	0x02
#define CT_DNAT		0x04

struct rule {
	enum rule_table	 table;
	const char	*chain;		/* ours, or a built-in one (hooks) */
	uint32_t	 src, smask, dst, dmask;	/* host order */
	int		 src_neg, dst_neg;
	char		 in[IFNAME_MAX], out[IFNAME_MAX];
	int		 in_neg, out_neg;
	int		 proto;		/* 0 = any */
	uint16_t	 dport_lo, dport_hi;	/* 0 = any */
	unsigned	 ctstate;	/* CT_*, 0 = no conntrack match */
	int		 dst_local;	/* -m addrtype --dst-type LOCAL */
	char		 comment[64];	/* "" = none */
	enum rule_target target;
	const char	*jump;		/* T_JUMP */
	uint32_t	 to_ip;		/* T_DNAT */
	uint16_t	 to_port_lo, to_port_hi;	/* 0 = keep the port */
};

struct ruleset {
	struct rule	*v;
	size_t		 n, cap;
};

/* one network as the kernel sees it now */
struct rules_net {
	const struct net_conf	*conf;
	char			 uplink[IFNAME_MAX];	/* "" = none found */
};

/* the chains of a table, the hooks that jump to them */
extern const char *const rules_chains[TBL__N][2];
size_t		 rules_hooks(enum rule_table, struct rule *out, size_t max);

/* every rule of our chains, in chain order */
void		 rules_build(struct ruleset *, const struct rules_net *nets,
		    size_t nnets, const struct service_conf *const *active,
		    size_t nactive);
void		 rules_free(struct ruleset *);
const char	*rules_table_name(enum rule_table);
/* one rule as iptables-save prints it, without the table */
void		 rule_format(const struct rule *, char *buf, size_t sz);
/* the whole set with hooks, as iptables-legacy-save would show our part */
void		 rules_format(const struct ruleset *, FILE *);

#endif
