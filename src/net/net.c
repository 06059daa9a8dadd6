// SPDX-License-Identifier: GPL-2.0-or-later
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lease.h"
#include "link.h"
#include "base/log.h"
#include "net.h"
#include "proto/proto.h"
#include "rules.h"
#include "core/service.h"
#include "base/util.h"

struct net {
	struct leases	*leases;
	int		 dirty;		/* rules to apply */
	int		 bridges_dirty;	/* networks to bring up */
	int		 br_netfilter;	/* 1 on, 0 missing, -1 unknown */
	int		 applied;	/* our chains are in the kernel */
	size_t		 nrules;
	uint64_t	 retry_at;	/* monotonic ms: apply again, 0 = none */
	uint64_t	 retry_ms;	/* backoff after failures */
	char		 uplinks[NETWORK_MAX][IFNAME_MAX];
	char		 last_error[512];
};

struct net *
net_new(struct config *cfg)
{
	struct net *n = xcalloc(1, sizeof(*n));

	n->leases = leases_open(cfg->d.state_dir);
	n->br_netfilter = -1;
	net_configure(n, cfg);
	return n;
}

void
net_free(struct net *n)
{
	if (n == NULL)
		return;
	leases_free(n->leases);
	free(n);
}

void
net_configure(struct net *n, struct config *cfg)
{
	leases_assign(n->leases, cfg);
	n->dirty = 1;
	n->bridges_dirty = cfg->nnets > 0;
}

static int
bridges_up(struct supervisor *sup, struct err *e)
{
	struct net *n = sup->net;
	struct config *cfg = sup->cfg;
	size_t i;
	int created, rc = 0;

	for (i = 0; i < cfg->nnets; i++) {
		struct net_conf *c = cfg->nets[i];

		if (link_bridge_ensure(c->bridge, c->gateway, c->prefix,
		    &created, e) == -1) {
			err_wrap(e, "network %s", c->name);
			rc = -1;
			continue;
		}
		if (created)
			log_info("network %s: bridge %s created", c->name,
			    c->bridge);
	}
	if (cfg->nnets > 0) {
		struct err e2 = ERR_INIT;
		int bnf;

		if (link_ip_forward(&e2) == -1)
			log_warnx("%s", e2.msg);
		bnf = link_br_netfilter(&e2);
		if (bnf == 0 && n->br_netfilter != 0)
			log_warnx("br_netfilter is not loaded: traffic within a "
			    "bridge is not seen by iptables (domud allows it "
			    "anyway); hairpin to published ports uses SNAT and "
			    "works without it");
		else if (bnf == -1)
			log_warnx("%s", e2.msg);
		n->br_netfilter = bnf;
	}
	if (rc == 0)
		n->bridges_dirty = 0;
	return rc;
}

/* the rule set for what is configured and up now */
void
net_wanted(struct supervisor *sup, struct ruleset *rs)
{
	struct net *n = sup->net;
	struct config *cfg = sup->cfg;
	struct rules_net nets[NETWORK_MAX];
	struct service_conf **active;
	size_t i, nactive = 0;
	struct err e = ERR_INIT;

	memset(nets, 0, sizeof(nets));
	for (i = 0; i < cfg->nnets; i++) {
		nets[i].conf = cfg->nets[i];
		if (cfg->nets[i]->uplink)
			strlcpy_(nets[i].uplink, cfg->nets[i]->uplink,
			    sizeof(nets[i].uplink));
		else if (link_default_uplink(nets[i].uplink,
		    sizeof(nets[i].uplink), &e) == -1)
			log_warnx("network %s: uplink: %s", cfg->nets[i]->name,
			    e.msg);
		if (cfg->nets[i]->nat && nets[i].uplink[0] == '\0' &&
		    strcmp(n->uplinks[i], "-") != 0)
			log_warnx("network %s: no default route: NAT goes out "
			    "of any interface but %s until there is one",
			    cfg->nets[i]->name, cfg->nets[i]->bridge);
		if (strcmp(n->uplinks[i], nets[i].uplink[0] ? nets[i].uplink :
		    "-") != 0 && nets[i].uplink[0])
			log_info("network %s: uplink %s", cfg->nets[i]->name,
			    nets[i].uplink);
		strlcpy_(n->uplinks[i], nets[i].uplink[0] ? nets[i].uplink :
		    "-", sizeof(n->uplinks[i]));
	}
	active = xcalloc(sup->nsvcs + 1, sizeof(*active));
	for (i = 0; i < sup->nsvcs; i++)
		if (sup->svcs[i]->net_active)
			active[nactive++] = sup->svcs[i]->conf;
	rules_build(rs, nets, cfg->nnets, active, nactive);
	free(active);
}

static int
apply(struct supervisor *sup, struct err *e)
{
	struct net *n = sup->net;
	struct ruleset rs = { 0 };
	int rc;

	if (sup->cfg->nnets == 0 && !n->applied) {
		n->dirty = 0;
		return 0;	/* no networks, and nothing of ours to remove */
	}
	net_wanted(sup, &rs);
	if (sup->cfg->nnets == 0)
		rc = iptc_remove(e);
	else
		rc = iptc_apply(&rs, e);
	if (rc == 0) {
		n->dirty = 0;
		n->applied = sup->cfg->nnets > 0;
		n->nrules = rs.n;
		n->last_error[0] = '\0';
	} else
		strlcpy_(n->last_error, e->msg, sizeof(n->last_error));
	rules_free(&rs);
	return rc;
}

int
net_service_up(struct supervisor *sup, struct service *s, struct err *e)
{
	struct net_conf *c = config_service_net(sup->cfg, s->conf);

	if (sup->net == NULL || c == NULL)
		return 0;	/* no network, or a bridge that is not ours */
	if (s->conf->addr == 0)
		return err_set(e, EADDRNOTAVAIL, "network %s: no address "
		    "for this service", c->name);
	if (bridges_up(sup, e) == -1)
		return -1;
	s->net_active = 1;
	if (apply(sup, e) == -1) {
		struct err e2 = ERR_INIT;

		/* undo: the set without this service */
		s->net_active = 0;
		if (apply(sup, &e2) == -1)
			sup->net->dirty = 1;
		return err_wrap(e, "network %s", c->name);
	}
	return 0;
}

void
net_service_down(struct supervisor *sup, struct service *s)
{
	if (!s->net_active)
		return;
	s->net_active = 0;
	if (sup->net)
		sup->net->dirty = 1;
}

void
net_service_adopted(struct supervisor *sup, struct service *s)
{
	if (sup->net == NULL || config_service_net(sup->cfg, s->conf) == NULL)
		return;
	s->net_active = 1;
	sup->net->dirty = 1;
}

void
net_flush(struct supervisor *sup)
{
	struct net *n = sup->net;
	struct err e = ERR_INIT;
	int failed = 0;

	if (n == NULL)
		return;
	if (n->retry_at && mono_ms() >= n->retry_at) {
		n->retry_at = 0;
		n->dirty = 1;
		n->bridges_dirty = sup->cfg->nnets > 0;
	}
	if (!n->dirty && !n->bridges_dirty)
		return;
	if (n->bridges_dirty && bridges_up(sup, &e) == -1) {
		log_warnx("%s", e.msg);
		n->bridges_dirty = 0;
		failed = 1;
	}
	err_clear(&e);
	if (n->dirty && apply(sup, &e) == -1) {
		log_warnx("network rules: %s", e.msg);
		n->dirty = 0;
		failed = 1;
	}
	if (!failed) {
		n->retry_ms = 0;
		return;
	}
	/* a busy lock or a module loaded late: try again, less often */
	n->retry_ms = n->retry_ms ? n->retry_ms * 2 : 2000;
	if (n->retry_ms > 60000)
		n->retry_ms = 60000;
	n->retry_at = mono_ms() + n->retry_ms;
	log_info("network: trying again in %llus",
	    (unsigned long long)n->retry_ms / 1000);
}

int
net_timeout_ms(struct supervisor *sup)
{
	struct net *n = sup->net;
	uint64_t now;

	if (n == NULL || n->retry_at == 0)
		return -1;
	now = mono_ms();
	return n->retry_at <= now ? 0 : (int)(n->retry_at - now);
}

void
net_stop(struct supervisor *sup, int keep)
{
	struct net *n = sup->net;
	struct err e = ERR_INIT;

	if (n == NULL)
		return;
	if (keep) {
		if (n->applied)
			log_info("keep_running: network rules stay for the next "
			    "domud");
		return;
	}
	if (!n->applied && sup->cfg->nnets == 0)
		return;
	if (iptc_remove(&e) == -1)
		log_warnx("network rules: %s", e.msg);
	else
		log_info("network rules removed");
}

int
net_check(struct supervisor *sup, int fix, struct drift *d, struct err *e)
{
	struct config *cfg = sup->cfg;
	struct ruleset rs = { 0 };
	size_t i;
	int rc;

	for (i = 0; i < cfg->nnets; i++) {
		struct net_conf *c = cfg->nets[i];
		struct bridge_state st;
		char a[16];

		if (link_bridge_state(c->bridge, c->gateway, c->prefix, &st,
		    e) == -1)
			return -1;
		ip4_format(a, sizeof(a), c->gateway);
		if (!st.exists)
			drift_add(d, "network %s: bridge %s is missing", c->name,
			    c->bridge);
		else if (!st.is_bridge)
			drift_add(d, "network %s: %s is not a bridge", c->name,
			    c->bridge);
		else {
			if (!st.up)
				drift_add(d, "network %s: bridge %s is down",
				    c->name, c->bridge);
			if (!st.has_addr)
				drift_add(d, "network %s: bridge %s lacks "
				    "%s/%u", c->name, c->bridge, a, c->prefix);
		}
	}
	if (cfg->nnets > 0) {
		net_wanted(sup, &rs);
		rc = iptc_check(&rs, d, e);
		rules_free(&rs);
		if (rc == -1)
			return -1;
	}
	if (fix && d->n > 0) {
		sup->net->bridges_dirty = cfg->nnets > 0;
		if (sup->net->bridges_dirty && bridges_up(sup, e) == -1)
			return -1;
		if (apply(sup, e) == -1)
			return -1;
		log_info("network: %zu differences repaired", d->n);
	}
	return 0;
}

static void
fwd_json(yajl_gen g, const struct service_conf *s)
{
	char b[48];
	size_t i;

	gen_str(g, "forwards");
	yajl_gen_array_open(g);
	for (i = 0; i < s->nfwd; i++) {
		const struct forward_conf *f = &s->fwd[i];
		const char *p = f->proto == IPPROTO_TCP ? "tcp" : "udp";

		if (f->host_lo == f->host_hi)
			snprintf(b, sizeof(b), "%s:%u:%u", p, f->host_lo,
			    f->guest_lo);
		else
			snprintf(b, sizeof(b), "%s:%u-%u:%u-%u", p, f->host_lo,
			    f->host_hi, f->guest_lo, f->guest_hi);
		gen_str(g, b);
	}
	yajl_gen_array_close(g);
}

void
net_status_json(struct supervisor *sup, yajl_gen g)
{
	struct config *cfg = sup->cfg;
	struct net *n = sup->net;
	char a[16], b[64];
	size_t i;

	gen_str(g, "networks");
	yajl_gen_array_open(g);
	for (i = 0; i < cfg->nnets; i++) {
		struct net_conf *c = cfg->nets[i];

		yajl_gen_map_open(g);
		gen_kv_str(g, "name", c->name);
		gen_kv_str(g, "bridge", c->bridge);
		ip4_format(a, sizeof(a), c->subnet);
		snprintf(b, sizeof(b), "%s/%u", a, c->prefix);
		gen_kv_str(g, "subnet", b);
		ip4_format(a, sizeof(a), c->gateway);
		gen_kv_str(g, "gateway", a);
		gen_kv_bool(g, "nat", c->nat);
		gen_kv_str(g, "uplink", c->uplink ? c->uplink : "auto");
		gen_kv_str(g, "uplink_now", n && n->uplinks[i][0] &&
		    strcmp(n->uplinks[i], "-") != 0 ? n->uplinks[i] : "");
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	gen_str(g, "services");
	yajl_gen_array_open(g);
	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];
		const struct lease *l = n ? leases_find(n->leases,
		    s->conf->name) : NULL;

		if (!s->conf->has_net)
			continue;
		yajl_gen_map_open(g);
		gen_kv_str(g, "service", s->conf->name);
		gen_kv_str(g, "network", s->conf->network ? s->conf->network :
		    "");
		gen_kv_str(g, "bridge", service_bridge(cfg, s->conf) ?
		    service_bridge(cfg, s->conf) : "");
		if (s->conf->addr) {
			ip4_format(a, sizeof(a), s->conf->addr);
			gen_kv_str(g, "ip", a);
			gen_kv_bool(g, "ip_fixed", s->conf->ip_line != 0);
		}
		mac_format(b, sizeof(b), s->conf->mac);
		gen_kv_str(g, "mac", b);
		if (l)
			gen_kv_int(g, "mac_tiebreak", l->tiebreak);
		gen_kv_bool(g, "up", s->net_active);
		fwd_json(g, s->conf);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	if (n) {
		gen_kv_int(g, "rules", (long long)n->nrules);
		gen_kv_str(g, "br_netfilter", n->br_netfilter == 1 ? "on" :
		    n->br_netfilter == 0 ? "missing" : "unknown");
		gen_kv_str(g, "last_error", n->last_error);
		gen_str(g, "leases");
		leases_json(n->leases, g);
	}
}

/* the guest's address, gateway and DNS servers as text; 0 if none */
static int
guest_settings(struct supervisor *sup, const struct service_conf *s,
    unsigned *prefix, char ip[16], char gw[16], char dns[64])
{
	struct net_conf *c = config_service_net(sup->cfg, s);
	size_t i;

	if (c == NULL || s->addr == 0)
		return 0;
	*prefix = c->prefix;
	ip4_format(ip, 16, s->addr);
	ip4_format(gw, 16, c->gateway);
	dns[0] = '\0';
	for (i = 0; i < c->ndns; i++) {
		char x[16];

		ip4_format(x, sizeof(x), c->dns[i]);
		if (i)
			strncat(dns, ",", 63 - strlen(dns));
		strncat(dns, x, 63 - strlen(dns));
	}
	return 1;
}

void
net_guest_cmdline(struct supervisor *sup, const struct service_conf *s,
    char *buf, size_t sz)
{
	char a[16], g[16], d[64];
	unsigned prefix;

	buf[0] = '\0';
	if (!guest_settings(sup, s, &prefix, a, g, d))
		return;
	msgf(buf, sz, "domud.ip=%s/%u domud.gw=%s%s%s", a, prefix, g,
	    d[0] ? " domud.dns=" : "", d);
}

char **
net_guest_xsdata(struct supervisor *sup, const struct service_conf *s)
{
	char a[16], g[16], d[64], **kv;
	unsigned prefix;

	if (!guest_settings(sup, s, &prefix, a, g, d))
		return NULL;
	kv = xcalloc(7, sizeof(*kv));
	kv[0] = xstrdup("domud/net/ip");
	if (asprintf(&kv[1], "%s/%u", a, prefix) < 0)
		fatal("asprintf");
	kv[2] = xstrdup("domud/net/gateway");
	kv[3] = xstrdup(g);
	kv[4] = xstrdup("domud/net/dns");
	kv[5] = xstrdup(d);
	return kv;
}
