// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The rules domud wants (see rules.h). What they do, per network with
 * bridge B and subnet S:
 *   nat DOMUD-DNAT         published ports: DNAT to guest_ip:guest_port,
 *                          reached for any local destination address but
 *                          loopback (PREROUTING and OUTPUT hooks)
 *   nat DOMUD-POSTROUTING  hairpin: DNATed traffic from S back into S is
 *                          masqueraded, so the answer comes back through
 *                          Dom0 with or without br_netfilter; NAT out of
 *                          the uplink
 *   filter DOMUD-FORWARD   replies and published ports in; B to B; B to
 *                          other domud networks dropped; B out; nothing
 *                          else into B
 * The order of the FORWARD rules is by phase across networks, so that a
 * published port of one network stays reachable from another.
 */
#include <netinet/in.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "rules.h"
#include "base/util.h"

const char *const rules_chains[TBL__N][2] = {
	[TBL_NAT] = { CHAIN_DNAT, CHAIN_POST },
	[TBL_FILTER] = { CHAIN_FWD, NULL },
};

const char *
rules_table_name(enum rule_table t)
{
	return t == TBL_NAT ? "nat" : "filter";
}

static uint32_t
mask_of(unsigned prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

static struct rule *
add(struct ruleset *rs, enum rule_table t, const char *chain)
{
	struct rule *r;

	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 32;
		struct rule *v = reallocarray(rs->v, cap, sizeof(*v));

		if (v == NULL)
			fatal("reallocarray");
		rs->v = v;
		rs->cap = cap;
	}
	r = &rs->v[rs->n++];
	memset(r, 0, sizeof(*r));
	r->table = t;
	r->chain = chain;
	return r;
}

size_t
rules_hooks(enum rule_table t, struct rule *out, size_t max)
{
	size_t n = 0;

	if (max < 3)
		return 0;
	memset(out, 0, max * sizeof(*out));
	if (t == TBL_NAT) {
		out[n].table = t;
		out[n].chain = "PREROUTING";
		out[n].dst_local = 1;
		out[n].target = T_JUMP;
		out[n++].jump = CHAIN_DNAT;
		/* Dom0's own connections to a published port; loopback
		 * would need route_localnet, and is not published */
		out[n].table = t;
		out[n].chain = "OUTPUT";
		out[n].dst = 0x7f000000;
		out[n].dmask = 0xff000000;
		out[n].dst_neg = 1;
		out[n].dst_local = 1;
		out[n].target = T_JUMP;
		out[n++].jump = CHAIN_DNAT;
		out[n].table = t;
		out[n].chain = "POSTROUTING";
		out[n].target = T_JUMP;
		out[n++].jump = CHAIN_POST;
	} else {
		out[n].table = t;
		out[n].chain = "FORWARD";
		out[n].target = T_JUMP;
		out[n++].jump = CHAIN_FWD;
	}
	return n;
}

static const char *
proto_name(int p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : "all";
}

static void
fwd_comment(char *buf, size_t sz, const struct service_conf *s,
    const struct forward_conf *f)
{
	char h[16], g[16];

	if (f->host_lo == f->host_hi)
		snprintf(h, sizeof(h), "%u", f->host_lo);
	else
		snprintf(h, sizeof(h), "%u-%u", f->host_lo, f->host_hi);
	if (f->guest_lo == f->guest_hi)
		snprintf(g, sizeof(g), "%u", f->guest_lo);
	else
		snprintf(g, sizeof(g), "%u-%u", f->guest_lo, f->guest_hi);
	msgf(buf, sz, "%s %s:%s:%s", s->name, proto_name(f->proto), h, g);
}

static const struct rules_net *
net_of(const struct rules_net *nets, size_t nnets, const struct service_conf *s)
{
	size_t i;

	if (!s->has_net || s->network == NULL || s->addr == 0)
		return NULL;
	for (i = 0; i < nnets; i++)
		if (strcmp(nets[i].conf->name, s->network) == 0)
			return &nets[i];
	return NULL;
}

static void
build_dnat(struct ruleset *rs, const struct rules_net *nets, size_t nnets,
    const struct service_conf *const *active, size_t nactive)
{
	size_t i, j;
	unsigned p;

	for (i = 0; i < nactive; i++) {
		const struct service_conf *s = active[i];

		if (net_of(nets, nnets, s) == NULL)
			continue;
		for (j = 0; j < s->nfwd; j++) {
			const struct forward_conf *f = &s->fwd[j];
			struct rule *r;

			if (f->host_lo == f->guest_lo) {
				/* the same ports: DNAT keeps the port */
				r = add(rs, TBL_NAT, CHAIN_DNAT);
				r->proto = f->proto;
				r->dport_lo = f->host_lo;
				r->dport_hi = f->host_hi;
				fwd_comment(r->comment, sizeof(r->comment), s, f);
				r->target = T_DNAT;
				r->to_ip = s->addr;
				if (f->host_lo == f->host_hi)
					r->to_port_lo = r->to_port_hi = f->guest_lo;
				continue;
			}
			/* a shifted range: one rule per port, exact */
			for (p = 0; p <= (unsigned)(f->host_hi - f->host_lo); p++) {
				r = add(rs, TBL_NAT, CHAIN_DNAT);
				r->proto = f->proto;
				r->dport_lo = r->dport_hi = (uint16_t)(f->host_lo + p);
				fwd_comment(r->comment, sizeof(r->comment), s, f);
				r->target = T_DNAT;
				r->to_ip = s->addr;
				r->to_port_lo = r->to_port_hi =
				    (uint16_t)(f->guest_lo + p);
			}
		}
	}
}

static void
build_post(struct ruleset *rs, const struct rules_net *nets, size_t nnets)
{
	size_t i;

	for (i = 0; i < nnets; i++) {
		const struct net_conf *n = nets[i].conf;
		uint32_t m = mask_of(n->prefix);
		struct rule *r;

		r = add(rs, TBL_NAT, CHAIN_POST);
		r->src = n->subnet, r->smask = m;
		r->dst = n->subnet, r->dmask = m;
		strlcpy_(r->out, n->bridge, sizeof(r->out));
		r->ctstate = CT_DNAT;
		msgf(r->comment, sizeof(r->comment), "%s: hairpin", n->name);
		r->target = T_MASQUERADE;
		if (!n->nat)
			continue;
		r = add(rs, TBL_NAT, CHAIN_POST);
		r->src = n->subnet, r->smask = m;
		if (nets[i].uplink[0])
			strlcpy_(r->out, nets[i].uplink, sizeof(r->out));
		else {
			/* no uplink yet: anything that leaves the bridge */
			strlcpy_(r->out, n->bridge, sizeof(r->out));
			r->out_neg = 1;
		}
		msgf(r->comment, sizeof(r->comment), "%s: nat", n->name);
		r->target = T_MASQUERADE;
	}
}

static void
build_forward(struct ruleset *rs, const struct rules_net *nets, size_t nnets,
    const struct service_conf *const *active, size_t nactive)
{
	size_t i, j;
	struct rule *r;

	for (i = 0; i < nnets; i++) {
		r = add(rs, TBL_FILTER, CHAIN_FWD);
		strlcpy_(r->out, nets[i].conf->bridge, sizeof(r->out));
		r->ctstate = CT_ESTABLISHED | CT_RELATED;
		msgf(r->comment, sizeof(r->comment), "%s: replies",
		    nets[i].conf->name);
		r->target = T_ACCEPT;
	}
	for (i = 0; i < nactive; i++) {
		const struct service_conf *s = active[i];
		const struct rules_net *rn = net_of(nets, nnets, s);

		if (rn == NULL)
			continue;
		for (j = 0; j < s->nfwd; j++) {
			const struct forward_conf *f = &s->fwd[j];

			r = add(rs, TBL_FILTER, CHAIN_FWD);
			r->dst = s->addr, r->dmask = 0xffffffffu;
			strlcpy_(r->out, rn->conf->bridge, sizeof(r->out));
			r->proto = f->proto;
			r->dport_lo = f->guest_lo;
			r->dport_hi = f->guest_hi;
			r->ctstate = CT_DNAT;
			fwd_comment(r->comment, sizeof(r->comment), s, f);
			r->target = T_ACCEPT;
		}
	}
	for (i = 0; i < nnets; i++) {
		const struct net_conf *n = nets[i].conf;

		r = add(rs, TBL_FILTER, CHAIN_FWD);
		strlcpy_(r->in, n->bridge, sizeof(r->in));
		strlcpy_(r->out, n->bridge, sizeof(r->out));
		msgf(r->comment, sizeof(r->comment), "%s: within", n->name);
		r->target = T_ACCEPT;
		for (j = 0; j < nnets; j++) {
			if (j == i)
				continue;
			r = add(rs, TBL_FILTER, CHAIN_FWD);
			strlcpy_(r->in, n->bridge, sizeof(r->in));
			strlcpy_(r->out, nets[j].conf->bridge, sizeof(r->out));
			msgf(r->comment, sizeof(r->comment), "%s: not to %s",
			    n->name, nets[j].conf->name);
			r->target = T_DROP;
		}
		r = add(rs, TBL_FILTER, CHAIN_FWD);
		strlcpy_(r->in, n->bridge, sizeof(r->in));
		msgf(r->comment, sizeof(r->comment), "%s: out", n->name);
		r->target = T_ACCEPT;
	}
	for (i = 0; i < nnets; i++) {
		r = add(rs, TBL_FILTER, CHAIN_FWD);
		strlcpy_(r->out, nets[i].conf->bridge, sizeof(r->out));
		msgf(r->comment, sizeof(r->comment), "%s: nothing else in",
		    nets[i].conf->name);
		r->target = T_DROP;
	}
}

void
rules_build(struct ruleset *rs, const struct rules_net *nets, size_t nnets,
    const struct service_conf *const *active, size_t nactive)
{
	rs->n = 0;
	build_dnat(rs, nets, nnets, active, nactive);
	build_post(rs, nets, nnets);
	build_forward(rs, nets, nnets, active, nactive);
}

void
rules_free(struct ruleset *rs)
{
	free(rs->v);
	rs->v = NULL;
	rs->n = rs->cap = 0;
}

/* ---- iptables-save's format ------------------------------------------------ */

static unsigned
mask_len(uint32_t m)
{
	unsigned n = 0;

	while (m & 0x80000000u) {
		n++;
		m <<= 1;
	}
	return n;
}

static size_t
put(char *buf, size_t sz, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t
put(char *buf, size_t sz, size_t off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (off >= sz)
		return off;
	va_start(ap, fmt);
	n = vsnprintf(buf + off, sz - off, fmt, ap);
	va_end(ap);
	return n < 0 ? off : off + (size_t)n;
}

static size_t
put_addr(char *buf, size_t sz, size_t off, int neg, const char *opt,
    uint32_t a, uint32_t m)
{
	char ip[16];

	if (m == 0)
		return off;
	ip4_format(ip, sizeof(ip), a);
	return put(buf, sz, off, "%s-%s %s/%u", neg ? " ! " : " ", opt, ip,
	    mask_len(m));
}

void
rule_format(const struct rule *r, char *buf, size_t sz)
{
	size_t o = 0;

	o = put(buf, sz, o, "-A %s", r->chain);
	o = put_addr(buf, sz, o, r->src_neg, "s", r->src, r->smask);
	o = put_addr(buf, sz, o, r->dst_neg, "d", r->dst, r->dmask);
	if (r->in[0])
		o = put(buf, sz, o, "%s-i %s", r->in_neg ? " ! " : " ", r->in);
	if (r->out[0])
		o = put(buf, sz, o, "%s-o %s", r->out_neg ? " ! " : " ", r->out);
	if (r->proto) {
		o = put(buf, sz, o, " -p %s", proto_name(r->proto));
		if (r->dport_lo && r->dport_lo == r->dport_hi)
			o = put(buf, sz, o, " -m %s --dport %u",
			    proto_name(r->proto), r->dport_lo);
		else if (r->dport_lo)
			o = put(buf, sz, o, " -m %s --dport %u:%u",
			    proto_name(r->proto), r->dport_lo, r->dport_hi);
	}
	if (r->ctstate) {
		const char *sep = "";

		o = put(buf, sz, o, " -m conntrack --ctstate ");
		if (r->ctstate & CT_RELATED)
			o = put(buf, sz, o, "%sRELATED", sep), sep = ",";
		if (r->ctstate & CT_ESTABLISHED)
			o = put(buf, sz, o, "%sESTABLISHED", sep), sep = ",";
		if (r->ctstate & CT_DNAT)
			o = put(buf, sz, o, "%sDNAT", sep);
	}
	if (r->dst_local)
		o = put(buf, sz, o, " -m addrtype --dst-type LOCAL");
	if (r->comment[0])
		o = put(buf, sz, o, " -m comment --comment \"%s\"", r->comment);
	switch (r->target) {
	case T_ACCEPT:
		(void)put(buf, sz, o, " -j ACCEPT");
		break;
	case T_DROP:
		(void)put(buf, sz, o, " -j DROP");
		break;
	case T_RETURN:
		(void)put(buf, sz, o, " -j RETURN");
		break;
	case T_JUMP:
		(void)put(buf, sz, o, " -j %s", r->jump);
		break;
	case T_MASQUERADE:
		(void)put(buf, sz, o, " -j MASQUERADE");
		break;
	case T_DNAT: {
		char ip[16];

		ip4_format(ip, sizeof(ip), r->to_ip);
		o = put(buf, sz, o, " -j DNAT --to-destination %s", ip);
		if (r->to_port_lo && r->to_port_lo == r->to_port_hi)
			(void)put(buf, sz, o, ":%u", r->to_port_lo);
		else if (r->to_port_lo)
			(void)put(buf, sz, o, ":%u-%u", r->to_port_lo,
			    r->to_port_hi);
		break;
	}
	}
}

void
rules_format(const struct ruleset *rs, FILE *fp)
{
	struct rule hooks[4];
	char line[512];
	size_t t, c, i, nh;

	for (t = 0; t < TBL__N; t++) {
		fprintf(fp, "*%s\n", rules_table_name((enum rule_table)t));
		for (c = 0; c < 2 && rules_chains[t][c]; c++)
			fprintf(fp, ":%s\n", rules_chains[t][c]);
		nh = rules_hooks((enum rule_table)t, hooks, nitems(hooks));
		for (i = 0; i < nh; i++) {
			rule_format(&hooks[i], line, sizeof(line));
			fprintf(fp, "%s\n", line);
		}
		for (c = 0; c < 2 && rules_chains[t][c]; c++)
			for (i = 0; i < rs->n; i++)
				if (rs->v[i].table == t &&
				    strcmp(rs->v[i].chain, rules_chains[t][c]) == 0) {
					rule_format(&rs->v[i], line, sizeof(line));
					fprintf(fp, "%s\n", line);
				}
		fprintf(fp, "COMMIT\n");
	}
}
