// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rules.h's rules as ipt_entry structures, committed through libiptc.
 *
 * libiptc reads a whole table, lets us edit it in memory and replaces the
 * whole table on commit: another tool committing in between would lose its
 * change or ours, so we hold the xtables lock (/run/xtables.lock, or
 * $XTABLES_LOCKFILE) as iptables does, waiting for it up to LOCK_WAIT_MS
 * as `iptables -w` does. Our chains are flushed and refilled in the same
 * commit, so the kernel never sees a moment without them.
 *
 * Drift is found by comparing rules in a canonical form: the ipt_ip part,
 * the match blobs, the target's name and, for module targets, its data.
 * The kernel hands back exactly the bytes we gave for the modules we use
 * (tcp, udp, conntrack, addrtype, comment, DNAT, MASQUERADE).
 */
#include <sys/file.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libiptc/libiptc.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter/nf_conntrack_common.h>

#include "iptc.h"
#include "base/log.h"
#include "base/util.h"

#define LOCK_WAIT_MS	5000
#define LOCK_STEP_MS	50
#define ENTRY_MAX	1024

/* ---- the xtables lock ------------------------------------------------------ */

/* wait_ms 0: one try (a reader's check must not hold the loop) */
static int
xtables_lock(int wait_ms, struct err *e)
{
	const char *path = getenv("XTABLES_LOCKFILE");
	struct timespec ts = { 0, LOCK_STEP_MS * 1000000L };
	int fd, waited = 0;

	if (path == NULL || *path == '\0')
		path = "/run/xtables.lock";
	if ((fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600)) == -1)
		return err_set(e, errno, "xtables lock %s: %s", path,
		    strerror(errno));
	/* iptables -w polls the same way; the lock is held for milliseconds */
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			err_set(e, errno, "xtables lock %s: %s", path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		if (waited >= wait_ms) {
			close(fd);
			return err_set(e, EBUSY, "xtables lock %s: still held "
			    "by another program after %d ms", path, waited);
		}
		nanosleep(&ts, NULL);
		waited += LOCK_STEP_MS;
	}
	return fd;
}

static void
xtables_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* drops the flock */
}

/* ---- rule -> ipt_entry ---------------------------------------------------- */

struct entry_buf {
	union {
		struct ipt_entry e;
		unsigned char	 b[ENTRY_MAX];
	} u;
	size_t	 len;
	char	 target[XT_EXTENSION_MAXNAMELEN];
	int	 standard;	/* ACCEPT, DROP, RETURN or a jump */
};

static void *
add_match(struct entry_buf *eb, const char *name, uint8_t rev, size_t datalen)
{
	struct xt_entry_match *m = (void *)(eb->u.b + eb->len);
	size_t sz = XT_ALIGN(sizeof(*m) + datalen);

	if (eb->len + sz > sizeof(eb->u.b))
		fatalx("iptc: rule too large");
	m->u.user.match_size = (uint16_t)sz;
	strlcpy_(m->u.user.name, name, sizeof(m->u.user.name));
	m->u.user.revision = rev;
	eb->len += sz;
	return m->data;
}

static void *
add_target(struct entry_buf *eb, const char *name, uint8_t rev, size_t datalen)
{
	struct xt_entry_target *t = (void *)(eb->u.b + eb->len);
	size_t sz = XT_ALIGN(sizeof(*t) + datalen);

	if (eb->len + sz > sizeof(eb->u.b))
		fatalx("iptc: rule too large");
	eb->u.e.target_offset = (uint16_t)eb->len;
	t->u.user.target_size = (uint16_t)sz;
	strlcpy_(t->u.user.name, name, sizeof(t->u.user.name));
	t->u.user.revision = rev;
	eb->len += sz;
	eb->u.e.next_offset = (uint16_t)eb->len;
	strlcpy_(eb->target, name, sizeof(eb->target));
	return t->data;
}

static void
set_iface(char *name, unsigned char *mask, const char *v)
{
	size_t n = strlen(v);

	strlcpy_(name, v, IFNAMSIZ);
	memset(mask, 0xff, n + 1 < IFNAMSIZ ? n + 1 : IFNAMSIZ);
}

static void
entry_of(const struct rule *r, struct entry_buf *eb)
{
	struct ipt_ip *ip = &eb->u.e.ip;

	memset(eb, 0, sizeof(*eb));
	eb->len = sizeof(struct ipt_entry);
	ip->src.s_addr = htonl(r->src);
	ip->smsk.s_addr = htonl(r->smask);
	ip->dst.s_addr = htonl(r->dst);
	ip->dmsk.s_addr = htonl(r->dmask);
	if (r->src_neg)
		ip->invflags |= IPT_INV_SRCIP;
	if (r->dst_neg)
		ip->invflags |= IPT_INV_DSTIP;
	if (r->in[0]) {
		set_iface(ip->iniface, ip->iniface_mask, r->in);
		if (r->in_neg)
			ip->invflags |= IPT_INV_VIA_IN;
	}
	if (r->out[0]) {
		set_iface(ip->outiface, ip->outiface_mask, r->out);
		if (r->out_neg)
			ip->invflags |= IPT_INV_VIA_OUT;
	}
	ip->proto = (uint16_t)r->proto;

	if (r->proto == IPPROTO_TCP && r->dport_lo) {
		struct xt_tcp *t = add_match(eb, "tcp", 0, sizeof(*t));

		t->spts[1] = 0xffff;
		t->dpts[0] = r->dport_lo;
		t->dpts[1] = r->dport_hi;
	} else if (r->proto == IPPROTO_UDP && r->dport_lo) {
		struct xt_udp *u = add_match(eb, "udp", 0, sizeof(*u));

		u->spts[1] = 0xffff;
		u->dpts[0] = r->dport_lo;
		u->dpts[1] = r->dport_hi;
	}
	if (r->ctstate) {
		struct xt_conntrack_mtinfo3 *c = add_match(eb, "conntrack", 3,
		    sizeof(*c));

		c->match_flags = XT_CONNTRACK_STATE;
		if (r->ctstate & CT_ESTABLISHED)
			c->state_mask |= XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED);
		if (r->ctstate & CT_RELATED)
			c->state_mask |= XT_CONNTRACK_STATE_BIT(IP_CT_RELATED);
		if (r->ctstate & CT_DNAT)
			c->state_mask |= XT_CONNTRACK_STATE_DNAT;
	}
	if (r->dst_local) {
		struct xt_addrtype_info_v1 *a = add_match(eb, "addrtype", 1,
		    sizeof(*a));

		a->dest = XT_ADDRTYPE_LOCAL;
	}
	if (r->comment[0]) {
		struct xt_comment_info *c = add_match(eb, "comment", 0,
		    sizeof(*c));

		strlcpy_(c->comment, r->comment, sizeof(c->comment));
	}
	eb->u.e.target_offset = (uint16_t)eb->len;
	switch (r->target) {
	case T_ACCEPT:
	case T_DROP:
	case T_RETURN:
	case T_JUMP: {
		const char *n = r->target == T_ACCEPT ? "ACCEPT" :
		    r->target == T_DROP ? "DROP" : r->target == T_RETURN ?
		    "RETURN" : r->jump;

		add_target(eb, n, 0, sizeof(int));
		eb->standard = 1;
		break;
	}
	case T_MASQUERADE: {
		struct nf_nat_ipv4_multi_range_compat *m = add_target(eb,
		    "MASQUERADE", 0, sizeof(*m));

		m->rangesize = 1;
		break;
	}
	case T_DNAT: {
		/* revision 2 (Linux 4.19+): iptables-save prints a rule only
		 * in the newest revision the kernel has */
		struct nf_nat_range2 *m = add_target(eb, "DNAT", 2, sizeof(*m));

		m->flags = NF_NAT_RANGE_MAP_IPS;
		m->min_addr.ip = m->max_addr.ip = htonl(r->to_ip);
		if (r->to_port_lo) {
			m->flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
			m->min_proto.all = htons(r->to_port_lo);
			m->max_proto.all = htons(r->to_port_hi);
		}
		break;
	}
	}
}

/* ---- canonical form for comparisons ---------------------------------------- */

static int
is_standard(const char *target)
{
	/* verdicts, and jumps to chains (ours start with DOMUD-) */
	return strcmp(target, "ACCEPT") == 0 || strcmp(target, "DROP") == 0 ||
	    strcmp(target, "RETURN") == 0 || strcmp(target, "") == 0 ||
	    strncmp(target, "DOMUD-", 6) == 0;
}

static void
hex(char *s, size_t *o, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		*o += (size_t)sprintf(s + *o, "%02x", p[i]);
}

/*
 * malloc'd: hex of ipt_ip, each match as name/revision/data, the target's
 * name and, for module targets, its data. Names are compared as strings:
 * the kernel may hand back bytes after the NUL of a name.
 */
static char *
canon(const struct ipt_entry *e, const char *target)
{
	const unsigned char *p = (const unsigned char *)e;
	const struct xt_entry_target *t;
	size_t off, tlen = 0, o = 0;
	char *s;

	t = (const void *)(p + e->target_offset);
	if (!is_standard(target) && t->u.target_size > sizeof(*t))
		tlen = t->u.target_size - sizeof(*t);
	s = xcalloc(1, 2 * (size_t)e->next_offset + strlen(target) + 64);
	hex(s, &o, (const unsigned char *)&e->ip, sizeof(e->ip));
	for (off = sizeof(*e); off + sizeof(struct xt_entry_match) <=
	    e->target_offset; ) {
		const struct xt_entry_match *m = (const void *)(p + off);
		char name[XT_EXTENSION_MAXNAMELEN];

		if (m->u.match_size < sizeof(*m))
			break;
		strlcpy_(name, m->u.user.name, sizeof(name));
		o += (size_t)sprintf(s + o, "|%s/%u/", name, m->u.user.revision);
		hex(s, &o, m->data, m->u.match_size - sizeof(*m));
		off += m->u.match_size;
	}
	o += (size_t)sprintf(s + o, "|%s|", target);
	hex(s, &o, t->data, tlen);
	return s;
}

static char *
canon_rule(const struct rule *r)
{
	struct entry_buf eb;

	entry_of(r, &eb);
	return canon(&eb.u.e, eb.target);
}

/* ---- tables ------------------------------------------------------------------ */

static int
table_open(const char *table, struct xtc_handle **h, struct err *e)
{
	if ((*h = iptc_init(table)) == NULL)
		return err_set(e, errno, "iptables %s table (legacy): %s", table,
		    iptc_strerror(errno));
	return 0;
}

static int
append(struct xtc_handle *h, const struct rule *r, struct err *e)
{
	struct entry_buf eb;
	xt_chainlabel chain = "";

	entry_of(r, &eb);
	strlcpy_(chain, r->chain, sizeof(chain));
	if (!iptc_append_entry(chain, &eb.u.e, h)) {
		char text[256];

		rule_format(r, text, sizeof(text));
		return err_set(e, errno, "%s: %s: %s", rules_table_name(r->table),
		    text, iptc_strerror(errno));
	}
	return 0;
}

static int
targets_ours(const char *target)
{
	size_t t, c;

	for (t = 0; t < TBL__N; t++)
		for (c = 0; c < 2 && rules_chains[t][c]; c++)
			if (strcmp(target, rules_chains[t][c]) == 0)
				return 1;
	return 0;
}

/* ends the built-in chain for the packets it matches */
static int
is_verdict_stop(const char *target)
{
	return strcmp(target, "DROP") == 0 || strcmp(target, "REJECT") == 0 ||
	    strcmp(target, "RETURN") == 0;
}

/*
 * One hook per built-in chain, with nothing before it that drops: rules
 * that only accept may come first (Xen's vif-bridge inserts physdev
 * ACCEPTs at the top of FORWARD on each hotplug), and that is no drift.
 * Any other jump to our chains goes; a misplaced hook is put first.
 */
static int
hook_fix(struct xtc_handle *h, const struct rule *hook, struct err *e)
{
	const struct ipt_entry *r;
	xt_chainlabel chain = "";
	unsigned idx = 0, ndel = 0, del[64];
	char *want = canon_rule(hook), *got;
	int placed_ok = 0, stop_seen = 0;
	struct entry_buf eb;

	strlcpy_(chain, hook->chain, sizeof(chain));
	for (r = iptc_first_rule(chain, h); r != NULL;
	    r = iptc_next_rule(r, h), idx++) {
		const char *tg = iptc_get_target(r, h);

		if (!targets_ours(tg)) {
			stop_seen |= is_verdict_stop(tg);
			continue;
		}
		got = canon(r, tg);
		if (!placed_ok && !stop_seen && strcmp(got, want) == 0)
			placed_ok = 1;
		else if (ndel < nitems(del))
			del[ndel++] = idx;
		free(got);
	}
	free(want);
	while (ndel > 0)
		if (!iptc_delete_num_entry(chain, del[--ndel], h))
			return err_set(e, errno, "%s: delete a stale hook: %s",
			    hook->chain, iptc_strerror(errno));
	if (placed_ok)
		return 0;
	entry_of(hook, &eb);
	if (!iptc_insert_entry(chain, &eb.u.e, 0, h))
		return err_set(e, errno, "%s: hook: %s", hook->chain,
		    iptc_strerror(errno));
	return 0;
}

static int
apply_table(enum rule_table t, const struct ruleset *rs, struct err *e)
{
	struct xtc_handle *h = NULL;
	struct rule hooks[4];
	xt_chainlabel chain = "";
	size_t c, i, nh;
	int rc = -1;

	if (table_open(rules_table_name(t), &h, e) == -1)
		goto out;
	for (c = 0; c < 2 && rules_chains[t][c]; c++) {
		strlcpy_(chain, rules_chains[t][c], sizeof(chain));
		if (iptc_is_chain(chain, h)) {
			if (!iptc_flush_entries(chain, h)) {
				err_set(e, errno, "flush %s: %s", chain,
				    iptc_strerror(errno));
				goto out;
			}
		} else if (!iptc_create_chain(chain, h)) {
			err_set(e, errno, "create %s: %s", chain,
			    iptc_strerror(errno));
			goto out;
		}
		for (i = 0; i < rs->n; i++)
			if (rs->v[i].table == t &&
			    strcmp(rs->v[i].chain, chain) == 0 &&
			    append(h, &rs->v[i], e) == -1)
				goto out;
	}
	nh = rules_hooks(t, hooks, nitems(hooks));
	for (i = 0; i < nh; i++)
		if (hook_fix(h, &hooks[i], e) == -1)
			goto out;
	if (!iptc_commit(h)) {
		err_set(e, errno, "commit: %s", iptc_strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (h)
		iptc_free(h);
	if (rc == -1)
		err_wrap(e, "iptables %s", rules_table_name(t));
	return rc;
}

int
iptc_apply(const struct ruleset *rs, struct err *e)
{
	int lock, rc = 0;
	size_t t;

	if ((lock = xtables_lock(LOCK_WAIT_MS, e)) == -1)
		return -1;
	for (t = 0; t < TBL__N && rc == 0; t++)
		rc = apply_table((enum rule_table)t, rs, e);
	xtables_unlock(lock);
	return rc;
}

static int
remove_table(enum rule_table t, struct err *e)
{
	struct xtc_handle *h = NULL;
	const struct ipt_entry *r;
	const char *builtin;
	xt_chainlabel chain = "";
	unsigned idx, ndel, del[64];
	size_t c;
	int rc = -1, changed = 0;

	if ((h = iptc_init(rules_table_name(t))) == NULL) {
		/* no table (module not loaded): nothing of ours in it */
		if (errno == ENOENT || errno == EINVAL)
			return 0;
		err_set(e, errno, "iptables %s table (legacy): %s",
		    rules_table_name(t), iptc_strerror(errno));
		return -1;
	}
	for (builtin = iptc_first_chain(h); builtin != NULL;
	    builtin = iptc_next_chain(h)) {
		if (!iptc_builtin(builtin, h))
			continue;
		strlcpy_(chain, builtin, sizeof(chain));
		idx = ndel = 0;
		for (r = iptc_first_rule(chain, h); r != NULL;
		    r = iptc_next_rule(r, h), idx++)
			if (targets_ours(iptc_get_target(r, h)) &&
			    ndel < nitems(del))
				del[ndel++] = idx;
		changed |= ndel > 0;
		while (ndel > 0)
			if (!iptc_delete_num_entry(chain, del[--ndel], h)) {
				err_set(e, errno, "%s: %s", chain,
				    iptc_strerror(errno));
				goto out;
			}
	}
	for (c = 0; c < 2 && rules_chains[t][c]; c++) {
		strlcpy_(chain, rules_chains[t][c], sizeof(chain));
		if (!iptc_is_chain(chain, h))
			continue;
		changed = 1;
		if (!iptc_flush_entries(chain, h) || !iptc_delete_chain(chain, h)) {
			err_set(e, errno, "delete %s: %s", chain,
			    iptc_strerror(errno));
			goto out;
		}
	}
	if (changed && !iptc_commit(h)) {
		err_set(e, errno, "commit: %s", iptc_strerror(errno));
		goto out;
	}
	rc = 0;
out:
	iptc_free(h);
	if (rc == -1)
		err_wrap(e, "iptables %s", rules_table_name(t));
	return rc;
}

int
iptc_remove(struct err *e)
{
	int lock, rc = 0;
	size_t t;

	if ((lock = xtables_lock(LOCK_WAIT_MS, e)) == -1)
		return -1;
	for (t = 0; t < TBL__N && rc == 0; t++)
		rc = remove_table((enum rule_table)t, e);
	xtables_unlock(lock);
	return rc;
}

/* ---- drift --------------------------------------------------------------------- */

void
drift_add(struct drift *d, const char *fmt, ...)
{
	va_list ap;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		void *v = reallocarray(d->lines, cap, sizeof(*d->lines));

		if (v == NULL)
			fatal("reallocarray");
		d->lines = v;
		d->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(d->lines[d->n++], sizeof(d->lines[0]), fmt, ap);
	va_end(ap);
}

void
drift_free(struct drift *d)
{
	free(d->lines);
	memset(d, 0, sizeof(*d));
}

static void
check_chain(struct xtc_handle *h, enum rule_table t, const char *name,
    const struct ruleset *rs, struct drift *d)
{
	const struct ipt_entry *r;
	xt_chainlabel chain = "";
	char **have = NULL, text[256];
	size_t nhave = 0, i, j;
	int *used;

	strlcpy_(chain, name, sizeof(chain));
	if (!iptc_is_chain(chain, h)) {
		drift_add(d, "%s: chain %s is missing", rules_table_name(t), name);
		return;
	}
	for (r = iptc_first_rule(chain, h); r != NULL; r = iptc_next_rule(r, h)) {
		have = reallocarray(have, nhave + 1, sizeof(*have));
		if (have == NULL)
			fatal("reallocarray");
		have[nhave++] = canon(r, iptc_get_target(r, h));
	}
	used = xcalloc(nhave + 1, sizeof(*used));
	/* in order: the wanted rules must appear as a sequence */
	for (i = 0, j = 0; i < rs->n; i++) {
		char *want;
		size_t k;

		if (rs->v[i].table != t || strcmp(rs->v[i].chain, name) != 0)
			continue;
		want = canon_rule(&rs->v[i]);
		for (k = j; k < nhave; k++)
			if (!used[k] && strcmp(have[k], want) == 0)
				break;
		if (k < nhave) {
			used[k] = 1;
			j = k + 1;
		} else {
			rule_format(&rs->v[i], text, sizeof(text));
			drift_add(d, "%s: missing: %s", rules_table_name(t), text);
		}
		free(want);
	}
	for (i = 0; i < nhave; i++)
		if (!used[i])
			drift_add(d, "%s: %s: rule %zu is not ours to have",
			    rules_table_name(t), name, i + 1);
	for (i = 0; i < nhave; i++)
		free(have[i]);
	free(have);
	free(used);
}

static void
check_hook(struct xtc_handle *h, const struct rule *hook, struct drift *d)
{
	const struct ipt_entry *r;
	xt_chainlabel chain = "";
	char *want = canon_rule(hook), *got, text[256];
	unsigned jumps = 0;
	int placed_ok = 0, stop_seen = 0;

	strlcpy_(chain, hook->chain, sizeof(chain));
	for (r = iptc_first_rule(chain, h); r != NULL; r = iptc_next_rule(r, h)) {
		const char *tg = iptc_get_target(r, h);

		if (strcmp(tg, hook->jump) != 0) {
			stop_seen |= is_verdict_stop(tg);
			continue;
		}
		jumps++;
		got = canon(r, tg);
		if (!stop_seen && strcmp(got, want) == 0)
			placed_ok = 1;
		free(got);
	}
	free(want);
	rule_format(hook, text, sizeof(text));
	if (!placed_ok)
		drift_add(d, "%s: hook missing in %s, or after a rule that "
		    "drops: %s", rules_table_name(hook->table), hook->chain, text);
	if (jumps > 1)
		drift_add(d, "%s: %s jumps to %s %u times",
		    rules_table_name(hook->table), hook->chain, hook->jump, jumps);
}

int
iptc_check(const struct ruleset *rs, int wait, struct drift *d, struct err *e)
{
	struct xtc_handle *h;
	struct rule hooks[4];
	size_t t, c, i, nh;
	int lock;

	if ((lock = xtables_lock(wait ? LOCK_WAIT_MS : 0, e)) == -1)
		return -1;
	for (t = 0; t < TBL__N; t++) {
		if (table_open(rules_table_name((enum rule_table)t), &h, e) == -1) {
			xtables_unlock(lock);
			return -1;
		}
		for (c = 0; c < 2 && rules_chains[t][c]; c++)
			check_chain(h, (enum rule_table)t, rules_chains[t][c],
			    rs, d);
		nh = rules_hooks((enum rule_table)t, hooks, nitems(hooks));
		for (i = 0; i < nh; i++)
			check_hook(h, &hooks[i], d);
		iptc_free(h);
	}
	xtables_unlock(lock);
	return 0;
}
