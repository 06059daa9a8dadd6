// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Leases: every service on a network gets an address and a MAC that stay
 * the same across restarts, kept in STATE_DIR/leases.json (atomic writes,
 * base/fileio). An auto MAC that collides gets a saved tie-break.
 * May call: base, the parsed configuration (conf/config.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl_tree.h>

#include "lease.h"
#include "base/fileio.h"
#include "base/log.h"
#include "base/json.h"
#include "base/util.h"

static struct lease *
lease_get(struct leases *ls, const char *svc)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		if (strcmp(ls->v[i].svc, svc) == 0)
			return &ls->v[i];
	return NULL;
}

const struct lease *
leases_find(const struct leases *ls, const char *svc)
{
	return lease_get((struct leases *)ls, svc);
}

static struct lease *
lease_new(struct leases *ls, const char *svc)
{
	struct lease *v = reallocarray(ls->v, ls->n + 1, sizeof(*v));

	if (v == NULL)
		fatal("reallocarray");
	ls->v = v;
	memset(&ls->v[ls->n], 0, sizeof(ls->v[0]));
	strlcpy_(ls->v[ls->n].svc, svc, sizeof(ls->v[0].svc));
	return &ls->v[ls->n++];
}

static void
load(struct leases *ls)
{
	const char *pv[] = { "v", NULL }, *pl[] = { "leases", NULL },
	    *ps[] = { "service", NULL }, *pn[] = { "network", NULL },
	    *pi[] = { "ip", NULL }, *pm[] = { "mac", NULL },
	    *pt[] = { "tiebreak", NULL };
	char path[1024], err[128], *text;
	yajl_val root, v, arr;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s", ls->dir, LEASES_FILE);
	if ((text = fileio_read(path, LEASES_MAX)) == NULL)
		return;
	if ((root = yajl_tree_parse(text, err, sizeof(err))) == NULL ||
	    (v = yajl_tree_get(root, pv, yajl_t_number)) == NULL ||
	    YAJL_GET_INTEGER(v) != LEASES_VERSION ||
	    (arr = yajl_tree_get(root, pl, yajl_t_array)) == NULL) {
		/* addresses may change now: say so loudly */
		log_warnx("leases: %s is not a version %d leases file; "
		    "addresses are assigned afresh", path, LEASES_VERSION);
		goto out;
	}
	for (i = 0; i < json_len(arr) && i < 4096; i++) {
		yajl_val e = json_at(arr, i);
		const char *svc = YAJL_GET_STRING(yajl_tree_get(e, ps,
		    yajl_t_string));
		const char *net = YAJL_GET_STRING(yajl_tree_get(e, pn,
		    yajl_t_string));
		const char *ip = YAJL_GET_STRING(yajl_tree_get(e, pi,
		    yajl_t_string));
		const char *mac = YAJL_GET_STRING(yajl_tree_get(e, pm,
		    yajl_t_string));
		yajl_val tb = yajl_tree_get(e, pt, yajl_t_number);
		struct lease *l;

		if (svc == NULL || !name_valid(svc, SERVICE_NAME_MAX) ||
		    lease_get(ls, svc) != NULL)
			continue;
		l = lease_new(ls, svc);
		if (net != NULL)
			strlcpy_(l->net, net, sizeof(l->net));
		if (ip != NULL && ip4_parse(ip, &l->ip) == -1)
			l->ip = 0;
		if (mac == NULL || mac_parse(mac, l->mac) == -1)
			memset(l->mac, 0, 6);
		if (tb != NULL && YAJL_IS_INTEGER(tb) &&
		    YAJL_GET_INTEGER(tb) >= 0 && YAJL_GET_INTEGER(tb) < 1000)
			l->tiebreak = (unsigned)YAJL_GET_INTEGER(tb);
	}
out:
	yajl_tree_free(root);
	free(text);
}

struct leases *
leases_open(const char *state_dir)
{
	struct leases *ls = xcalloc(1, sizeof(*ls));

	ls->dir = xstrdup(state_dir);
	load(ls);
	return ls;
}

void
leases_free(struct leases *ls)
{
	if (ls == NULL)
		return;
	free(ls->v);
	free(ls->dir);
	free(ls);
}

void
lease_json(yajl_gen g, const struct lease *l)
{
	char b[32];

	yajl_gen_map_open(g);
	gen_kv_str(g, "service", l->svc);
	gen_kv_str(g, "network", l->net);
	if (l->ip) {
		ip4_format(b, sizeof(b), l->ip);
		gen_kv_str(g, "ip", b);
		gen_kv_bool(g, "ip_fixed", l->ip_fixed);
	}
	mac_format(b, sizeof(b), l->mac);
	gen_kv_str(g, "mac", b);
	gen_kv_bool(g, "mac_fixed", l->mac_fixed);
	gen_kv_int(g, "tiebreak", l->tiebreak);
	yajl_gen_map_close(g);
}

static void
leases_json(const struct leases *ls, yajl_gen g)
{
	size_t i;

	yajl_gen_array_open(g);
	for (i = 0; i < ls->n; i++)
		lease_json(g, &ls->v[i]);
	yajl_gen_array_close(g);
}

static int
save(struct leases *ls)
{
	const unsigned char *buf;
	struct err e = ERR_INIT;
	size_t len;
	yajl_gen g;
	int rc;

	if ((g = yajl_gen_alloc(NULL)) == NULL)
		return -1;
	yajl_gen_map_open(g);
	gen_kv_int(g, "v", LEASES_VERSION);
	gen_str(g, "leases");
	leases_json(ls, g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	if ((rc = fileio_write_atomic(ls->dir, LEASES_FILE, buf, len, 0600,
	    &e)) == -1)
		log_warnx("leases: %s", e.msg);
	yajl_gen_free(g);
	return rc;
}

/* ---- assignment -------------------------------------------------------------- */

static int
mac_taken(struct config *cfg, const struct service_conf *self,
    const uint8_t mac[6], const uint8_t (*done)[6], size_t ndone)
{
	size_t i;

	for (i = 0; i < cfg->nsvcs; i++) {
		const struct service_conf *t = cfg->svcs[i];

		if (t != self && t->has_net && t->mac_line &&
		    memcmp(t->mac, mac, 6) == 0)
			return 1;
	}
	for (i = 0; i < ndone; i++)
		if (memcmp(done[i], mac, 6) == 0)
			return 1;
	return 0;
}

static int
ip_taken(struct config *cfg, const struct service_conf *self, uint32_t ip,
    const uint32_t *done, size_t ndone)
{
	size_t i;

	for (i = 0; i < cfg->nsvcs; i++) {
		const struct service_conf *t = cfg->svcs[i];

		if (t != self && t->has_net && t->ip_line && t->ip == ip)
			return 1;
	}
	for (i = 0; i < ndone; i++)
		if (done[i] == ip)
			return 1;
	return 0;
}

/* what this assignment has given out so far */
struct taken {
	uint8_t		(*macs)[6];
	size_t		 nmacs;
	uint32_t	*ips;
	size_t		 nips;
};

/* gone services lose their lease; a broken file keeps it. 1: changed */
static int
release_gone(struct leases *ls, struct config *cfg)
{
	int changed = 0;
	char a[32];
	size_t i;

	for (i = 0; i < ls->n; ) {
		struct service_conf *s = config_find(cfg, ls->v[i].svc);

		if (s == NULL || (!s->has_net && !s->errors)) {
			ip4_format(a, sizeof(a), ls->v[i].ip);
			log_info("leases: %s released (%s)", ls->v[i].svc,
			    ls->v[i].ip ? a : "no address");
			ls->v[i] = ls->v[--ls->n];
			changed = 1;
			continue;
		}
		i++;
	}
	return changed;
}

/* the service's MAC: its own, or the auto one past any collision (the
 * tie-break kept in the lease). 1: the lease changed */
static int
assign_mac(struct config *cfg, struct service_conf *s, struct lease *l,
    struct taken *t)
{
	int changed = 0;
	uint8_t mac[6];
	unsigned tb;

	if (s->mac_line) {
		memcpy(mac, s->mac, 6);
		tb = 0;
	} else {
		tb = l->mac_fixed ? 0 : l->tiebreak;
		service_auto_mac(s->name, tb, mac);
		while (mac_taken(cfg, s, mac, t->macs, t->nmacs) && tb < 1000)
			service_auto_mac(s->name, ++tb, mac);
		if (tb > 0 && tb != l->tiebreak)
			log_info("%s: auto MAC collides; using tie-break %u "
			    "(kept from now on)", s->name, tb);
	}
	if (memcmp(mac, l->mac, 6) != 0 || tb != l->tiebreak ||
	    l->mac_fixed != (s->mac_line != 0))
		changed = 1;
	memcpy(l->mac, mac, 6);
	memcpy(s->mac, mac, 6);
	memcpy(t->macs[t->nmacs++], mac, 6);
	l->tiebreak = tb;
	l->mac_fixed = s->mac_line != 0;
	return changed;
}

/* an auto address on n: the lease's while it is still good, else the
 * first free one. 1: the lease changed; -1: none left */
static int
auto_ip(struct config *cfg, struct service_conf *s, const struct net_conf *n,
    struct lease *l, struct taken *t)
{
	uint32_t mask = 0xffffffffu << (32 - n->prefix);
	uint32_t bcast = n->subnet | ~mask, ip;
	char a[32];

	if (!l->ip_fixed && (l->ip & mask) == n->subnet &&
	    l->ip != n->gateway && l->ip != n->subnet && l->ip != bcast &&
	    !ip_taken(cfg, s, l->ip, t->ips, t->nips))
		return 0;
	l->ip = 0;
	l->ip_fixed = 0;
	for (ip = n->subnet + 1; ip < bcast; ip++)
		if (ip != n->gateway && !ip_taken(cfg, s, ip, t->ips, t->nips))
			break;
	if (ip >= bcast)
		return -1;
	l->ip = ip;
	ip4_format(a, sizeof(a), ip);
	log_info("%s: leased %s on network '%s'", s->name, a, n->name);
	return 1;
}

/* the service's network and address (s->addr); a network with no free
 * address left is an error of the service, whose lease goes. 1: the
 * leases changed */
static int
assign_ip(struct leases *ls, struct config *cfg, struct service_conf *s,
    struct lease *l, struct taken *t)
{
	struct net_conf *n = config_service_net(cfg, s);
	int changed = 0, rc;

	if (strcmp(l->net, n ? n->name : "") != 0) {
		strlcpy_(l->net, n ? n->name : "", sizeof(l->net));
		l->ip = 0;
		changed = 1;
	}
	s->addr = 0;
	if (n == NULL || n->subnet_line == 0) {
		if (l->ip)
			changed = 1;
		l->ip = 0;
		return changed;
	}
	if (s->ip_line) {
		if (l->ip != s->ip || !l->ip_fixed)
			changed = 1;
		l->ip = s->ip;
		l->ip_fixed = 1;
	} else if ((rc = auto_ip(cfg, s, n, l, t)) == -1) {
		config_diag(cfg, s->file, s->net_line, 1, "network '%s': no "
		    "free address left", n->name);
		s->errors++;
		*l = ls->v[--ls->n];
		return 1;
	} else if (rc == 1)
		changed = 1;
	s->addr = l->ip;
	t->ips[t->nips++] = l->ip;
	return changed;
}

/* one service in one pass: pass 0 keeps what leases hold, pass 1 gives
 * to the new ones. 1: the leases changed */
static int
assign_one(struct leases *ls, struct config *cfg, struct service_conf *s,
    int pass, struct taken *t)
{
	struct lease *l = lease_get(ls, s->name);
	int changed = 0;

	if (!s->has_net)
		return 0;
	if (s->errors) {
		/* not run; its lease stays reserved */
		if (pass == 0 && l != NULL) {
			memcpy(t->macs[t->nmacs++], l->mac, 6);
			if (l->ip)
				t->ips[t->nips++] = l->ip;
		}
		return 0;
	}
	if ((pass == 0) != (l != NULL))
		return 0;
	if (l == NULL) {
		l = lease_new(ls, s->name);
		changed = 1;
	}
	changed |= assign_mac(cfg, s, l, t);
	changed |= assign_ip(ls, cfg, s, l, t);
	return changed;
}

void
leases_assign(struct leases *ls, struct config *cfg)
{
	struct taken t;
	int changed, pass;
	size_t i;

	memset(&t, 0, sizeof(t));
	t.macs = xcalloc(cfg->nsvcs + 1, 6);
	t.ips = xcalloc(cfg->nsvcs + 1, sizeof(*t.ips));
	changed = release_gone(ls, cfg);
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < cfg->nsvcs; i++)
			changed |= assign_one(ls, cfg, cfg->svcs[i], pass, &t);
	free(t.macs);
	free(t.ips);
	if (changed)
		(void)save(ls);
}
