// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Networks: bridges up (link.c), the rule set for what is configured and up
 * (rules.c), committed through libiptc (iptc.c) with retries from the loop,
 * drift checks, the guest's address settings. It knows service
 * configurations, not the supervisor: who is up it asks through the
 * callback of net_set_active; status goes out as data (net_info).
 * May call: link, rules, iptc, lease, base, conf/config.h.
 */
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lease.h"
#include "link.h"
#include "base/log.h"
#include "net.h"
#include "rules.h"
#include "base/util.h"

struct net {
	const struct config *cfg;	/* the supervisor's; net_configure */
	net_active_fn	*active;	/* which services are up now */
	void		*active_arg;
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
net_set_active(struct net *n, net_active_fn *fn, void *arg)
{
	n->active = fn;
	n->active_arg = arg;
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
	n->cfg = cfg;
	leases_assign(n->leases, cfg);
	n->dirty = 1;
	n->bridges_dirty = cfg->nnets > 0;
}

static int
bridges_up(struct net *n, struct err *e)
{
	const struct config *cfg = n->cfg;
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

static int
conf_cmp_name(const void *a, const void *b)
{
	const struct service_conf *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* the rule set for what is configured and up now, and extra (about to be) */
static void
wanted(struct net *n, const struct service_conf *extra, struct ruleset *rs)
{
	const struct config *cfg = n->cfg;
	struct rules_net nets[NETWORK_MAX];
	const struct service_conf **active;
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
	active = n->active ? n->active(n->active_arg, &nactive) : NULL;
	if (extra) {
		active = reallocarray(active, nactive + 1, sizeof(*active));
		if (active == NULL)
			fatal("reallocarray");
		active[nactive++] = extra;
	}
	/* the same rules in the same order, whoever asks and when */
	if (nactive > 1)
		qsort(active, nactive, sizeof(*active), conf_cmp_name);
	rules_build(rs, nets, cfg->nnets, active, nactive);
	free(active);
}

void
net_wanted(struct net *n, struct ruleset *rs)
{
	wanted(n, NULL, rs);
}

static int
apply(struct net *n, const struct service_conf *extra, struct err *e)
{
	struct ruleset rs = { 0 };
	int rc;

	if (n->cfg->nnets == 0 && !n->applied) {
		n->dirty = 0;
		return 0;	/* no networks, and nothing of ours to remove */
	}
	wanted(n, extra, &rs);
	if (n->cfg->nnets == 0)
		rc = iptc_remove(e);
	else
		rc = iptc_apply(&rs, e);
	if (rc == 0) {
		n->dirty = 0;
		n->applied = n->cfg->nnets > 0;
		n->nrules = rs.n;
		n->last_error[0] = '\0';
	} else
		strlcpy_(n->last_error, e->msg, sizeof(n->last_error));
	rules_free(&rs);
	return rc;
}

int
net_service_up(struct net *n, const struct service_conf *s, struct err *e)
{
	struct net_conf *c;

	if (n == NULL || (c = config_service_net(n->cfg, s)) == NULL)
		return 0;	/* no network, or a bridge that is not ours */
	if (s->addr == 0)
		return err_set(e, EADDRNOTAVAIL, "network %s: no address "
		    "for this service", c->name);
	if (bridges_up(n, e) == -1)
		return -1;
	if (apply(n, s, e) == -1) {
		struct err e2 = ERR_INIT;

		/* undo: the set without this service */
		if (apply(n, NULL, &e2) == -1)
			n->dirty = 1;
		return err_wrap(e, "network %s", c->name);
	}
	return 1;
}

void
net_service_down(struct net *n)
{
	if (n)
		n->dirty = 1;
}

int
net_service_adopted(struct net *n, const struct service_conf *s)
{
	if (n == NULL || config_service_net(n->cfg, s) == NULL)
		return 0;
	n->dirty = 1;
	return 1;
}

void
net_flush(struct net *n)
{
	struct err e = ERR_INIT;
	int failed = 0;

	if (n == NULL)
		return;
	if (n->retry_at && mono_ms() >= n->retry_at) {
		n->retry_at = 0;
		n->dirty = 1;
		n->bridges_dirty = n->cfg->nnets > 0;
	}
	if (!n->dirty && !n->bridges_dirty)
		return;
	if (n->bridges_dirty && bridges_up(n, &e) == -1) {
		log_warnx("%s", e.msg);
		n->bridges_dirty = 0;
		failed = 1;
	}
	err_clear(&e);
	if (n->dirty && apply(n, NULL, &e) == -1) {
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
net_timeout_ms(struct net *n)
{
	uint64_t now;

	if (n == NULL || n->retry_at == 0)
		return -1;
	now = mono_ms();
	return n->retry_at <= now ? 0 : (int)(n->retry_at - now);
}

void
net_stop(struct net *n, int keep)
{
	struct err e = ERR_INIT;

	if (n == NULL)
		return;
	if (keep) {
		if (n->applied)
			log_info("keep_running: network rules stay for the next "
			    "domud");
		return;
	}
	if (!n->applied && n->cfg->nnets == 0)
		return;
	if (iptc_remove(&e) == -1)
		log_warnx("network rules: %s", e.msg);
	else
		log_info("network rules removed");
}

int
net_check(struct net *n, int fix, int wait, struct drift *d, struct err *e)
{
	const struct config *cfg = n->cfg;
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
		wanted(n, NULL, &rs);
		rc = iptc_check(&rs, wait || fix, d, e);
		rules_free(&rs);
		if (rc == -1)
			return -1;
	}
	if (fix && d->n > 0) {
		n->bridges_dirty = cfg->nnets > 0;
		if (n->bridges_dirty && bridges_up(n, e) == -1)
			return -1;
		if (apply(n, NULL, e) == -1)
			return -1;
		log_info("network: %zu differences repaired", d->n);
	}
	return 0;
}

int
net_vif_counters(const char *ifname, struct net_vif_counters *v,
    struct err *e)
{
	uint64_t c[4];

	if (link_counters(ifname, c, e) == -1)
		return -1;
	/* the backend's transmit is the guest's receive */
	v->rx_bytes = c[1];
	v->tx_bytes = c[0];
	v->rx_packets = c[3];
	v->tx_packets = c[2];
	return 0;
}

void
net_info(const struct net *n, struct net_info *ni)
{
	size_t i;

	memset(ni, 0, sizeof(*ni));
	ni->br_netfilter = -1;
	if (n == NULL)
		return;
	ni->present = 1;
	ni->nrules = n->nrules;
	ni->br_netfilter = n->br_netfilter;
	ni->last_error = n->last_error;
	for (i = 0; i < NETWORK_MAX; i++)
		ni->uplink_now[i] = n->uplinks[i][0] && strcmp(n->uplinks[i],
		    "-") != 0 ? n->uplinks[i] : "";
	ni->leases = n->leases->v;
	ni->nleases = n->leases->n;
}

const struct lease *
net_lease(const struct net *n, const char *svc)
{
	return n ? leases_find(n->leases, svc) : NULL;
}

/* the guest's address, gateway and DNS servers as text; 0 if none */
static int
guest_settings(const struct net *n, const struct service_conf *s,
    unsigned *prefix, char ip[16], char gw[16], char dns[64])
{
	struct net_conf *c = n ? config_service_net(n->cfg, s) : NULL;
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
net_guest_cmdline(const struct net *n, const struct service_conf *s,
    char *buf, size_t sz)
{
	char a[16], g[16], d[64];
	unsigned prefix;

	buf[0] = '\0';
	if (!guest_settings(n, s, &prefix, a, g, d))
		return;
	msgf(buf, sz, "domud.ip=%s/%u domud.gw=%s%s%s", a, prefix, g,
	    d[0] ? " domud.dns=" : "", d);
}

char **
net_guest_xsdata(const struct net *n, const struct service_conf *s)
{
	char a[16], g[16], d[64], **kv;
	unsigned prefix;

	if (!guest_settings(n, s, &prefix, a, g, d))
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
