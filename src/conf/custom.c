// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The parsers of the keys whose value no row type says: health probes,
 * lists of services, devices and port forwards, CPU lists, addresses.
 * Each is a row's fn (keys.c): it says a bad value itself and returns
 * KEY_BAD, KEY_SET, or KEY_AUTO for a value that names the default.
 * May call: value, diag, partition (the values), base.
 */
#include <netinet/in.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>
#include <uuid/uuid.h>

#include "diag.h"
#include "keys.h"
#include "partition.h"
#include "base/util.h"

/* after = a, b: names of services */
int
custom_after(struct parse *p, const struct key *k, void *obj, const char *v)
{
	char buf[INI_MAX_LINE + 1], *ent[LIST_MAX], *tok;
	struct service_conf *svc = obj;
	size_t i, j, n;

	if (value_list(p, k->name, v, ',', 1, 1, buf, sizeof(buf), ent,
	    &n) == -1)
		return KEY_BAD;
	for (j = 0; j < n; j++) {
		tok = ent[j];
		if (!name_valid(tok, SERVICE_NAME_MAX)) {
			diag_parse(p, "after: '%s' is not a valid service name",
			    tok);
			continue;
		}
		for (i = 0; i < svc->nafter; i++)
			if (strcmp(svc->after[i], tok) == 0)
				break;
		if (i < svc->nafter) {
			diag_parse(p, "after: '%s' listed twice", tok);
			continue;
		}
		if (svc->nafter >= SERVICE_MAX_AFTER) {
			diag_parse(p, "after: too many services (at most %d)",
			    SERVICE_MAX_AFTER);
			return KEY_BAD;
		}
		svc->after[svc->nafter++] = xstrdup(tok);
	}
	return KEY_SET;
}

/* health = exec:CMD | tcp:PORT | none */
int
custom_health(struct parse *p, const struct key *k, void *obj, const char *v)
{
	struct service_conf *s = obj;
	const char *why;
	uint64_t n;

	if (strncmp(v, "exec:", 5) == 0) {
		const char *cmd = v + 5 + strspn(v + 5, " \t");

		if (*cmd == '\0')
			diag_bad(p, k->name, v, "exec: needs a command");
		else if (strlen(cmd) > HEALTH_CMD_MAX)
			diag_parse(p, "%s: the command is longer than %d bytes",
			    k->name, HEALTH_CMD_MAX);
		else {
			value_set_str(&s->health_cmd, cmd);
			s->health = HEALTH_EXEC;
			return KEY_SET;
		}
	} else if (strncmp(v, "tcp:", 4) == 0) {
		if ((why = parse_uint(v + 4, 65535, &n)) != NULL || n == 0)
			diag_bad(p, k->name, v, why ? why : "port 0");
		else {
			s->health_port = (uint16_t)n;
			s->health = HEALTH_TCP;
			return KEY_SET;
		}
	} else if (strcmp(v, "none") == 0) {
		s->health = HEALTH_NONE;
		return KEY_SET;
	} else
		diag_bad(p, k->name, v, "expected exec:COMMAND, tcp:PORT or none");
	return KEY_BAD;
}

int
custom_uuid(struct parse *p, const struct key *k, void *obj, const char *v)
{
	struct service_conf *s = obj;
	uuid_t u;

	if (strlen(v) != 36 || uuid_parse(v, u) != 0)
		diag_bad(p, k->name, v, "expected a UUID like "
		    "01234567-89ab-cdef-0123-456789abcdef");
	else if (uuid_is_null(u))
		diag_bad(p, k->name, v, "the nil UUID is not allowed");
	else {
		memcpy(s->uuid, u, 16);
		return KEY_SET;
	}
	return KEY_BAD;
}

static int
custom_cpusets(struct parse *p, const struct key *k, const char *v,
    struct cpuset **sets, size_t *n)
{
	const char *why;

	if ((why = cpus_parse(v, sets, n)) != NULL) {
		diag_bad(p, k->name, v, why);
		return KEY_BAD;
	}
	return KEY_SET;
}

int
custom_cpus(struct parse *p, const struct key *k, void *obj, const char *v)
{
	struct service_conf *s = obj;

	return custom_cpusets(p, k, v, &s->cpus, &s->ncpus);
}

int
custom_cpus_soft(struct parse *p, const struct key *k, void *obj,
    const char *v)
{
	struct service_conf *s = obj;

	return custom_cpusets(p, k, v, &s->cpus_soft, &s->ncpus_soft);
}

/* rtds counts in microseconds: 10ms, or 500us; a uint32_t at k->off */
int
custom_rtds_us(struct parse *p, const struct key *k, void *obj, const char *v)
{
	const char *why;
	uint64_t n = 0, ms;
	uint32_t us;

	if (strlen(v) > 2 && strcmp(v + strlen(v) - 2, "us") == 0) {
		char num[32];

		strlcpy_(num, v, sizeof(num));
		num[strlen(num) - 2] = '\0';
		why = parse_uint(num, 10000000, &n);
	} else if ((why = parse_duration_ms(v, &ms)) == NULL)
		n = ms * 1000;
	if (why == NULL && (n < 100 || n > 10000000))
		why = "100us to 10s";
	if (why) {
		diag_bad(p, k->name, v, why);
		return KEY_BAD;
	}
	us = (uint32_t)n;
	memcpy((char *)obj + k->off, &us, sizeof(us));
	return KEY_SET;
}

/* one entry of a device list, at index i of its array; -1 = bad (said) */
typedef int device_fn(struct parse *, const struct key *,
    struct service_conf *, const char *tok);

/* a list of devices: ';' between entries (pci and iomem have commas in
 * theirs), irqs by commas or blanks; at most max (of what), *n so far */
static int
custom_devices(struct parse *p, const struct key *k, struct service_conf *s,
    const char *v, int sep, const size_t *n, size_t max, const char *what,
    device_fn *fn)
{
	char buf[INI_MAX_LINE + 1], *ent[LIST_MAX];
	size_t i, ntok;

	if (value_list(p, k->name, v, sep, sep == ',', 0, buf, sizeof(buf), ent,
	    &ntok) == -1)
		return KEY_BAD;
	for (i = 0; i < ntok; i++) {
		if (*n == max) {
			diag_parse(p, "%s: at most %d%s", k->name, (int)max, what);
			break;
		}
		(void)fn(p, k, s, ent[i]);
	}
	return KEY_SET;
}

static int
custom_pci_one(struct parse *p, const struct key *k, struct service_conf *s,
    const char *tok)
{
	const char *why;

	if ((why = pci_parse(tok, &s->pci[s->npci])) != NULL) {
		diag_bad(p, k->name, tok, why);
		return -1;
	}
	s->npci++;
	return 0;
}

static int
custom_dtdev_one(struct parse *p, const struct key *k, struct service_conf *s,
    const char *tok)
{
	if (tok[0] != '/') {
		diag_bad(p, k->name, tok, "expected a device tree path, like "
		    "/soc/serial@9000000");
		return -1;
	}
	s->dtdev[s->ndtdev++] = xstrdup(tok);
	return 0;
}

static int
custom_iomem_one(struct parse *p, const struct key *k, struct service_conf *s,
    const char *tok)
{
	const char *why;

	if ((why = iomem_parse(tok, &s->iomem[s->niomem])) != NULL) {
		diag_bad(p, k->name, tok, why);
		return -1;
	}
	s->niomem++;
	return 0;
}

static int
custom_irq_one(struct parse *p, const struct key *k, struct service_conf *s,
    const char *tok)
{
	const char *why;

	if ((why = irq_parse(tok, &s->irqs[s->nirqs])) != NULL) {
		diag_bad(p, k->name, tok, why);
		return -1;
	}
	s->nirqs++;
	return 0;
}

int
custom_pci(struct parse *p, const struct key *k, void *obj, const char *v)
{
	struct service_conf *s = obj;

	return custom_devices(p, k, s, v, ';', &s->npci, SERVICE_MAX_PCI,
	    " devices", custom_pci_one);
}

int
custom_dtdev(struct parse *p, const struct key *k, void *obj, const char *v)
{
	struct service_conf *s = obj;

	return custom_devices(p, k, s, v, ';', &s->ndtdev, SERVICE_MAX_DTDEV,
	    " devices", custom_dtdev_one);
}

int
custom_iomem(struct parse *p, const struct key *k, void *obj, const char *v)
{
	struct service_conf *s = obj;

	return custom_devices(p, k, s, v, ';', &s->niomem, SERVICE_MAX_IOMEM,
	    " ranges", custom_iomem_one);
}

int
custom_irqs(struct parse *p, const struct key *k, void *obj, const char *v)
{
	struct service_conf *s = obj;

	return custom_devices(p, k, s, v, ',', &s->nirqs, SERVICE_MAX_IRQS,
	    "", custom_irq_one);
}

/* xvda..xvdzz, sda.., hda..: what libxl's vdev parser takes */
static int
vdev_valid(const char *v)
{
	size_t n = strlen(v), pre = v[0] == 'x' ? 3 : 2;

	return !((strncmp(v, "xvd", 3) != 0 && strncmp(v, "sd", 2) != 0 &&
	    strncmp(v, "hd", 2) != 0) || n > 5 || n == pre ||
	    strspn(v + pre, "abcdefghijklmnopqrstuvwxyz") != n - pre);
}

int
custom_vdev(struct parse *p, const struct key *k, void *obj, const char *v)
{
	struct disk_conf *d = obj;

	if (!vdev_valid(v)) {
		diag_bad(p, k->name, v, "expected a name like xvda");
		return KEY_BAD;
	}
	value_set_str(&d->vdev, v);
	return KEY_SET;
}

/* update_data = xvdc, xvdd: vdevs of the service's own disks (check.c
 * looks them up once all its [disk:...] are read) */
int
custom_update_data(struct parse *p, const struct key *k, void *obj,
    const char *v)
{
	char buf[INI_MAX_LINE + 1], *ent[LIST_MAX];
	struct service_conf *s = obj;
	size_t i, j, n;

	if (value_list(p, k->name, v, ',', 1, 1, buf, sizeof(buf), ent,
	    &n) == -1)
		return KEY_BAD;
	for (j = 0; j < n; j++) {
		if (!vdev_valid(ent[j])) {
			diag_parse(p, "update_data: '%s' is not a vdev (a name "
			    "like xvdc)", ent[j]);
			continue;
		}
		for (i = 0; i < s->nupdate_data; i++)
			if (strcmp(s->update_data[i], ent[j]) == 0)
				break;
		if (i < s->nupdate_data) {
			diag_parse(p, "update_data: '%s' listed twice", ent[j]);
			continue;
		}
		if (s->nupdate_data >= SERVICE_MAX_DISKS) {
			diag_parse(p, "update_data: at most %d disks",
			    SERVICE_MAX_DISKS);
			return KEY_BAD;
		}
		s->update_data[s->nupdate_data++] = xstrdup(ent[j]);
	}
	return KEY_SET;
}

int
custom_format(struct parse *p, const struct key *k, void *obj, const char *v)
{
	(void)obj;
	if (strcmp(v, "raw") != 0) {
		diag_bad(p, k->name, v, "only raw images are supported");
		return KEY_BAD;
	}
	return KEY_SET;
}

int
custom_ip(struct parse *p, const struct key *k, void *obj, const char *v)
{
	struct service_conf *s = obj;

	if (strcmp(v, "auto") == 0)
		return KEY_AUTO;
	if (ip4_parse(v, &s->ip) != 0 || s->ip == 0) {
		diag_bad(p, k->name, v, "expected auto or an IPv4 address");
		return KEY_BAD;
	}
	return KEY_SET;
}

int
custom_mac(struct parse *p, const struct key *k, void *obj, const char *v)
{
	struct service_conf *s = obj;

	if (strcmp(v, "auto") == 0)
		return KEY_AUTO;
	if (mac_parse(v, s->mac) != 0)
		diag_bad(p, k->name, v, "expected auto or a MAC like "
		    "00:16:3e:12:34:56");
	else if (s->mac[0] & 1)
		diag_bad(p, k->name, v, "a multicast MAC cannot be used");
	else
		return KEY_SET;
	return KEY_BAD;
}

/* "8080", "9000-9010" */
static int
custom_port_range(const char *v, uint16_t *lo, uint16_t *hi)
{
	char *end;
	unsigned long a, b;

	if (!isdigit((unsigned char)*v))
		return -1;
	a = strtoul(v, &end, 10);
	b = a;
	if (*end == '-') {
		if (!isdigit((unsigned char)end[1]))
			return -1;
		b = strtoul(end + 1, &end, 10);
	}
	if (*end != '\0' || a < 1 || a > 65535 || b < 1 || b > 65535 || b < a)
		return -1;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

/* tcp:8080:80 into f (tok is cut); -1 = bad, said */
static int
custom_forward_one(struct parse *p, char *tok, struct forward_conf *f)
{
	char *hport, *gport;

	memset(f, 0, sizeof(*f));
	hport = strchr(tok, ':');
	gport = hport ? strchr(hport + 1, ':') : NULL;
	if (gport == NULL) {
		diag_parse(p, "forward: '%.64s': expected PROTO:HOSTPORT:"
		    "GUESTPORT, like tcp:8080:80", tok);
		return -1;
	}
	*hport++ = '\0';
	*gport++ = '\0';
	if (strcmp(tok, "tcp") == 0)
		f->proto = IPPROTO_TCP;
	else if (strcmp(tok, "udp") == 0)
		f->proto = IPPROTO_UDP;
	else {
		diag_parse(p, "forward: unknown protocol '%.16s' (tcp or udp)",
		    tok);
		return -1;
	}
	if (custom_port_range(hport, &f->host_lo, &f->host_hi) != 0) {
		diag_parse(p, "forward: %s:%.16s: host port out of range "
		    "(1-65535, or LOW-HIGH)", tok, hport);
		return -1;
	}
	if (custom_port_range(gport, &f->guest_lo, &f->guest_hi) != 0) {
		diag_parse(p, "forward: %s:%s:%.16s: guest port out of range "
		    "(1-65535, or LOW-HIGH)", tok, hport, gport);
		return -1;
	}
	if (f->host_hi - f->host_lo != f->guest_hi - f->guest_lo) {
		diag_parse(p, "forward: %s:%s:%s: the host and guest ranges "
		    "differ in length", tok, hport, gport);
		return -1;
	}
	if (f->host_lo != f->guest_lo &&
	    f->host_hi - f->host_lo + 1 > FORWARD_EXPAND_MAX) {
		diag_parse(p, "forward: %s:%s:%s: a shifted range takes at "
		    "most %d ports", tok, hport, gport, FORWARD_EXPAND_MAX);
		return -1;
	}
	return 0;
}

int
custom_forward(struct parse *p, const struct key *k, void *obj, const char *v)
{
	char buf[INI_MAX_LINE + 1], *ent[LIST_MAX];
	struct service_conf *svc = obj;
	struct forward_conf f;
	size_t i, n;

	if (value_list(p, k->name, v, ',', 1, 1, buf, sizeof(buf), ent,
	    &n) == -1)
		return KEY_BAD;
	for (i = 0; i < n; i++) {
		if (custom_forward_one(p, ent[i], &f) == -1)
			continue;
		if (svc->nfwd >= SERVICE_MAX_FORWARDS) {
			diag_parse(p, "forward: too many rules (at most %d)",
			    SERVICE_MAX_FORWARDS);
			return KEY_BAD;
		}
		svc->fwd[svc->nfwd++] = f;
	}
	return KEY_SET;
}

/* [network:NAME] subnet = 10.0.3.0/24: NULL, or why not */
static const char *
custom_subnet_why(struct net_conf *n, const char *v)
{
	char buf[64], *slash;
	const char *why;
	uint64_t pre;

	strlcpy_(buf, v, sizeof(buf));
	if ((slash = strchr(buf, '/')) == NULL)
		return "expected ADDRESS/PREFIX, like 10.0.3.0/24";
	*slash++ = '\0';
	if (ip4_parse(buf, &n->subnet) != 0)
		return "not an IPv4 address";
	if ((why = parse_uint(slash, 32, &pre)) != NULL)
		return why;
	if (pre < 8 || pre > 30)
		return "the prefix must be 8 to 30";
	n->prefix = (unsigned)pre;
	if (n->subnet & ~value_prefix_mask(n->prefix))
		return "host bits are set (write the network address)";
	return NULL;
}

int
custom_subnet(struct parse *p, const struct key *k, void *obj, const char *v)
{
	struct net_conf *n = obj;
	const char *why;

	n->subnet_seen = 1;
	if ((why = custom_subnet_why(n, v)) != NULL) {
		diag_bad(p, k->name, v, why);
		return KEY_BAD;
	}
	return KEY_SET;
}

int
custom_gateway(struct parse *p, const struct key *k, void *obj, const char *v)
{
	struct net_conf *n = obj;

	if (ip4_parse(v, &n->gateway) != 0 || n->gateway == 0) {
		diag_bad(p, k->name, v, "not an IPv4 address");
		return KEY_BAD;
	}
	return KEY_SET;
}

int
custom_uplink(struct parse *p, const struct key *k, void *obj, const char *v)
{
	struct net_conf *n = obj;

	if (strcmp(v, "auto") == 0)
		return KEY_AUTO;
	if (!name_valid(v, 15)) {
		diag_bad(p, k->name, v, "expected auto or an interface name");
		return KEY_BAD;
	}
	value_set_str(&n->uplink, v);
	return KEY_SET;
}

int
custom_dns(struct parse *p, const struct key *k, void *obj, const char *v)
{
	char buf[INI_MAX_LINE + 1], *ent[LIST_MAX];
	struct net_conf *n = obj;
	size_t i, ntok;

	if (value_list(p, k->name, v, ',', 1, 0, buf, sizeof(buf), ent,
	    &ntok) == -1)
		return KEY_BAD;
	for (i = 0; i < ntok; i++) {
		if (n->ndns >= NET_DNS_MAX) {
			diag_parse(p, "dns: at most %d servers", NET_DNS_MAX);
			break;
		}
		if (ip4_parse(ent[i], &n->dns[n->ndns]) != 0) {
			diag_bad(p, k->name, ent[i], "not an IPv4 address");
			continue;
		}
		n->ndns++;
	}
	return KEY_SET;
}

/* [cpupool:NAME] cpus = 2-3 */
int
custom_pool_cpus(struct parse *p, const struct key *k, void *obj,
    const char *v)
{
	struct pool_conf *pc = obj;
	const char *why;

	pc->cpus_seen = 1;
	if ((why = cpuset_parse(v, &pc->cpus)) != NULL) {
		diag_bad(p, k->name, v, why);
		return KEY_BAD;
	}
	return KEY_SET;
}
