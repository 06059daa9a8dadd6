// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Configuration: domud.conf and one service per services.d/NAME.ini.
 *
 * Parsed with the distribution's libinih through ini_parse_stream and our own
 * reader, because the library (as Debian and Yocto build it) cuts lines over
 * INI_MAX_LINE silently, passes no line number to the handler, and calls the
 * handler again with the same key for a continuation line. The reader counts
 * lines, rejects overlong ones, sees section headers, and classifies each line
 * exactly as inih will, so the handler knows the line and whether it is a
 * continuation. Every problem is counted; parsing never stops at the first.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>
#include <uuid/uuid.h>

#include "config.h"
#include "partition.h"
#include "base/log.h"
#include "base/util.h"

/* inih copies section and key names into buffers of this size, silently cut */
#define INIH_NAME_MAX	50

/* A fixed namespace for name-based service UUIDs (uuid v5). */
static const uint8_t domud_uuid_ns[16] = {
	0x6b, 0x1d, 0x2f, 0x0e, 0x8a, 0x4c, 0x4f, 0x21,
	0x9c, 0x53, 0x0d, 0x75, 0x6d, 0x75, 0x64, 0x00
};

enum line_kind { L_BLANK, L_SECTION, L_KEY, L_CONT, L_BAD };
enum sect { S_NONE, S_IGNORE, S_DOMUD, S_NETWORK, S_POOL, S_SERVICE, S_DISK,
	S_NET };

struct parse {
	struct config		*cfg;
	const char		*file;
	const char		*buf;
	size_t			 len, pos;
	int			 lineno;
	enum line_kind		 kind;
	char			 prev_key[INIH_NAME_MAX];

	enum sect		 sect;
	uint64_t		 seen_keys;	/* bit per key of this section */
	int			 last_key;	/* for continuations, -1 = none */
	char			*seen_sect[SERVICE_MAX_DISKS + NETWORK_MAX +
				    CPUPOOLS_MAX + 8];
	size_t			 nseen_sect;

	struct service_conf	*svc;		/* NULL for domud.conf */
	struct disk_conf	*disk;
	struct net_conf		*net;		/* [network:NAME] */
	struct pool_conf	*pool;		/* [cpupool:NAME] */
	int			 have_service;

	/* a list that goes on in continuation lines (list_value) */
	int			 list_open;	/* line a separator ended, or 0 */
	size_t			 list_has;	/* entries so far */
	const char		*list_key;
	char			 list_val[65];	/* for the message */
};

/* the entries one line's list can have: a byte and a separator each */
#define LIST_MAX	(INI_MAX_LINE / 2 + 1)

/* ---- diagnostics ------------------------------------------------------- */

static void
vdiag(struct config *cfg, const char *file, int line, int is_error,
    const char *fmt, va_list ap)
{
	char msg[512], *text = NULL;
	struct diag *d;
	int n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line > 0)
		n = asprintf(&text, "%s:%d: %s%s", file, line,
		    is_error ? "" : "warning: ", msg);
	else
		n = asprintf(&text, "%s: %s%s", file,
		    is_error ? "" : "warning: ", msg);
	if (n < 0)
		fatal("asprintf");
	d = reallocarray(cfg->diags, cfg->ndiags + 1, sizeof(*d));
	if (d == NULL)
		fatal("reallocarray");
	cfg->diags = d;
	cfg->diags[cfg->ndiags].text = text;
	cfg->diags[cfg->ndiags].is_error = is_error;
	cfg->ndiags++;
	if (is_error)
		cfg->errors++;
	else
		cfg->warnings++;
}

void
config_diag(struct config *cfg, const char *file, int line, int is_error,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(cfg, file, line, is_error, fmt, ap);
	va_end(ap);
}

static void
perr(struct parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
perr(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(p->cfg, p->file, p->lineno, 1, fmt, ap);
	va_end(ap);
	if (p->svc)
		p->svc->errors++;
	else
		p->cfg->conf_errors++;
}

static void
svc_err(struct config *cfg, struct service_conf *s, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void
svc_err(struct config *cfg, struct service_conf *s, int line,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(cfg, s->file, line, 1, fmt, ap);
	va_end(ap);
	s->errors++;
}

void
config_print_diags(const struct config *cfg, FILE *fp)
{
	size_t i;

	for (i = 0; i < cfg->ndiags; i++)
		fprintf(fp, "%s\n", cfg->diags[i].text);
}

/* a line that is not a continuation ends a list: one that a separator
 * left open had an empty entry last (see list_value) */
static void
list_end(struct parse *p)
{
	if (p->list_open == 0)
		return;
	config_diag(p->cfg, p->file, p->list_open, 1, "%s: bad value '%.64s': "
	    "%s", p->list_key, p->list_val, list_last);
	if (p->svc)
		p->svc->errors++;
	else
		p->cfg->conf_errors++;
	p->list_open = 0;
}

/* ---- the reader: one line at a time, classified as inih will ----------- */

static char *
rstrip(char *s)
{
	char *e = s + strlen(s);

	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static char *
lskip(char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return s;
}

/* inih's find_chars_or_comment: an inline ';' counts only after whitespace */
static char *
find_chars_or_comment(char *s, const char *chars)
{
	int was_space = 0;

	while (*s && (!chars || !strchr(chars, *s)) &&
	    !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static void sect_begin(struct parse *, const char *);

static void
classify(struct parse *p, const char *raw)
{
	char line[1024], *start, *end;

	strlcpy_(line, raw, sizeof(line));
	start = line;
	if (p->lineno == 1 && (unsigned char)start[0] == 0xEF &&
	    (unsigned char)start[1] == 0xBB && (unsigned char)start[2] == 0xBF)
		start += 3;
	start = lskip(rstrip(start));
	if (*start == '\0' || *start == ';' || *start == '#') {
		p->kind = L_BLANK;
		return;
	}
	if (p->prev_key[0] && start > line) {
		p->kind = L_CONT;
		return;
	}
	list_end(p);
	if (*start == '[') {
		end = find_chars_or_comment(start + 1, "]");
		if (*end != ']') {
			p->kind = L_BAD;
			perr(p, "section header without closing ']'");
			goto bad;
		}
		*end = '\0';
		p->kind = L_SECTION;
		p->prev_key[0] = '\0';
		sect_begin(p, start + 1);
	} else {
		end = find_chars_or_comment(start, "=:");
		if (*end != '=' && *end != ':') {
			p->kind = L_BAD;
			perr(p, "expected 'key = value'");
			goto bad;
		}
		*end = '\0';
		rstrip(start);
		if (strlen(start) >= INIH_NAME_MAX) {
			p->kind = L_BAD;
			perr(p, "key name too long");
			goto bad;
		}
		p->kind = L_KEY;
		strlcpy_(p->prev_key, start, sizeof(p->prev_key));
	}
	return;
bad:
	/* inih never sees this line, so its idea of the previous key stays;
	 * ours too, but continuations of it are dropped (already reported) */
	p->last_key = -1;
}

static char *
config_reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	const char *line, *nl;
	size_t n, max;

	if (p->pos >= p->len || num < 4)
		return NULL;
	line = p->buf + p->pos;
	nl = memchr(line, '\n', p->len - p->pos);
	n = nl ? (size_t)(nl - line) : p->len - p->pos;
	p->pos += n + (nl != NULL);
	p->lineno++;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	/* room for '\n' and '\0' in inih's buffer */
	max = (size_t)num - 2;
	if (memchr(line, '\0', n) != NULL) {
		p->kind = L_BAD;
		p->last_key = -1;
		perr(p, "line contains a NUL byte");
		memcpy(str, ";\n", 3);
		return str;
	}
	if (n > max) {
		p->kind = L_BAD;
		perr(p, "line too long (%zu bytes, at most %zu): continue long "
		    "values on indented lines", n, max);
		p->last_key = -1;	/* drop its continuations */
		memcpy(str, ";\n", 3);
		return str;
	}
	memcpy(str, line, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	classify(p, str);
	if (p->kind == L_BAD)
		memcpy(str, ";\n", 3);	/* already reported: hide it from inih */
	return str;
}

/* ---- sections ----------------------------------------------------------- */

static void
sect_begin(struct parse *p, const char *name)
{
	size_t i;

	p->seen_keys = 0;
	p->last_key = -1;
	p->disk = NULL;
	p->net = NULL;
	p->pool = NULL;
	p->sect = S_IGNORE;
	if (strlen(name) >= INIH_NAME_MAX) {
		perr(p, "section name too long");
		return;
	}
	for (i = 0; i < p->nseen_sect; i++)
		if (strcmp(p->seen_sect[i], name) == 0) {
			perr(p, "duplicate section [%s]", name);
			return;
		}
	if (p->nseen_sect < nitems(p->seen_sect))
		p->seen_sect[p->nseen_sect++] = xstrdup(name);

	if (p->svc == NULL) {
		if (strcmp(name, "domud") == 0)
			p->sect = S_DOMUD;
		else if (strncmp(name, "network:", 8) == 0) {
			struct net_conf *n;

			if (!name_valid(name + 8, 32)) {
				perr(p, "bad network name in [%s]", name);
				return;
			}
			if (p->cfg->nnets >= NETWORK_MAX) {
				perr(p, "too many networks (at most %d)",
				    NETWORK_MAX);
				return;
			}
			n = xcalloc(1, sizeof(*n));
			n->name = xstrdup(name + 8);
			n->line = p->lineno;
			n->nat = 1;
			p->cfg->nets[p->cfg->nnets++] = n;
			p->net = n;
			p->sect = S_NETWORK;
		} else if (strncmp(name, "cpupool:", 8) == 0) {
			struct pool_conf *pc;

			if (!name_valid(name + 8, 32) ||
			    strcmp(name + 8, "Pool-0") == 0) {
				perr(p, "bad cpupool name in [%s]%s", name,
				    strcmp(name + 8, "Pool-0") == 0 ? ": Pool-0 "
				    "is Xen's own" : "");
				return;
			}
			if (p->cfg->npools >= CPUPOOLS_MAX) {
				perr(p, "too many cpupools (at most %d)",
				    CPUPOOLS_MAX);
				return;
			}
			pc = xcalloc(1, sizeof(*pc));
			pc->name = xstrdup(name + 8);
			pc->line = p->lineno;
			p->cfg->pools[p->cfg->npools++] = pc;
			p->pool = pc;
			p->sect = S_POOL;
		} else
			perr(p, "unknown section [%s]", name);
		return;
	}
	if (strcmp(name, "service") == 0) {
		p->sect = S_SERVICE;
		p->have_service = 1;
		p->svc->line = p->lineno;
	} else if (strcmp(name, "net") == 0) {
		p->sect = S_NET;
		p->svc->has_net = 1;
		p->svc->net_line = p->lineno;
	} else if (strncmp(name, "disk:", 5) == 0) {
		struct disk_conf *d;

		if (!name_valid(name + 5, 32)) {
			perr(p, "bad disk name in [%s]", name);
			return;
		}
		if (p->svc->ndisks >= SERVICE_MAX_DISKS) {
			perr(p, "too many disks (at most %d)", SERVICE_MAX_DISKS);
			return;
		}
		d = &p->svc->disks[p->svc->ndisks++];
		d->name = xstrdup(name + 5);
		d->line = p->lineno;
		d->readwrite = 1;
		p->disk = d;
		p->sect = S_DISK;
	} else
		perr(p, "unknown section [%s]", name);
}

/* ---- keys ---------------------------------------------------------------- */

enum kflag { K_MULTI = 1 };

struct key {
	const char	*name;
	int		 flags;
};

static const struct key domud_keys[] = {
	{ "services_dir", 0 }, { "state_dir", 0 }, { "run_dir", 0 },
	{ "log_dir", 0 }, { "console_log_max", 0 }, { "read_group", 0 },
	{ "admin_group", 0 }, { "shutdown_timeout", 0 }, { "keep_running", 0 },
	{ "run_images", 0 }, { "events_max", 0 }, { "metrics_file", 0 },
	{ "metrics_interval", 0 }, { "kernel_cache_max", 0 },
	{ "max_domus", 0 },
};
enum { DK_SERVICES_DIR, DK_STATE_DIR, DK_RUN_DIR, DK_LOG_DIR,
	DK_CONSOLE_LOG_MAX, DK_READ_GROUP, DK_ADMIN_GROUP, DK_SHUTDOWN_TIMEOUT,
	DK_KEEP_RUNNING, DK_RUN_IMAGES, DK_EVENTS_MAX, DK_METRICS_FILE,
	DK_METRICS_INTERVAL, DK_KERNEL_CACHE_MAX, DK_MAX_DOMUS };

static const struct key service_keys[] = {
	{ "description", K_MULTI }, { "type", 0 }, { "kernel", 0 },
	{ "ramdisk", 0 }, { "cmdline", K_MULTI }, { "memory", 0 },
	{ "vcpus", 0 }, { "autostart", 0 }, { "after", K_MULTI },
	{ "restart", 0 }, { "restart_delay", 0 }, { "restart_delay_max", 0 },
	{ "restart_stable", 0 }, { "restart_limit", 0 },
	{ "restart_window", 0 }, { "stop_timeout", 0 }, { "uuid", 0 },
	{ "memres", 0 }, { "agent_stop_timeout", 0 }, { "ping_interval", 0 },
	{ "ping_timeout", 0 }, { "ping_restart", 0 }, { "idle_timeout", 0 },
	{ "agent", 0 }, { "health", 0 }, { "health_interval", 0 },
	{ "health_timeout", 0 }, { "health_retries", 0 },
	{ "health_start_period", 0 }, { "health_restart", 0 }, { "ready", 0 },
	{ "kernel_cache", 0 }, { "idle_action", 0 }, { "standby", 0 },
	{ "cpus", 0 }, { "cpus_soft", 0 }, { "cpupool", 0 }, { "weight", 0 },
	{ "cap", 0 }, { "period", 0 }, { "budget", 0 }, { "maxmem", 0 },
	{ "pci", 0 }, { "dtdev", 0 }, { "iomem", 0 }, { "irqs", 0 },
	{ "device_tree", 0 },
};
enum { SK_DESCRIPTION, SK_TYPE, SK_KERNEL, SK_RAMDISK, SK_CMDLINE, SK_MEMORY,
	SK_VCPUS, SK_AUTOSTART, SK_AFTER, SK_RESTART, SK_RESTART_DELAY,
	SK_RESTART_DELAY_MAX, SK_RESTART_STABLE, SK_RESTART_LIMIT,
	SK_RESTART_WINDOW, SK_STOP_TIMEOUT, SK_UUID, SK_MEMRES,
	SK_AGENT_STOP_TIMEOUT, SK_PING_INTERVAL, SK_PING_TIMEOUT,
	SK_PING_RESTART, SK_IDLE_TIMEOUT, SK_AGENT, SK_HEALTH,
	SK_HEALTH_INTERVAL, SK_HEALTH_TIMEOUT, SK_HEALTH_RETRIES,
	SK_HEALTH_START_PERIOD, SK_HEALTH_RESTART, SK_READY, SK_KERNEL_CACHE,
	SK_IDLE_ACTION, SK_STANDBY, SK_CPUS, SK_CPUS_SOFT, SK_CPUPOOL, SK_WEIGHT,
	SK_CAP, SK_PERIOD, SK_BUDGET, SK_MAXMEM, SK_PCI, SK_DTDEV, SK_IOMEM,
	SK_IRQS, SK_DEVICE_TREE };
/* seen_keys has a bit per key */
_Static_assert(sizeof(service_keys) / sizeof(service_keys[0]) <= 64,
    "more service keys than seen_keys has bits");

static const struct key pool_keys[] = {
	{ "cpus", 0 }, { "sched", 0 },
};
enum { PK_CPUS, PK_SCHED };

static const struct key disk_keys[] = {
	{ "path", 0 }, { "vdev", 0 }, { "access", 0 }, { "format", 0 },
};
enum { DSK_PATH, DSK_VDEV, DSK_ACCESS, DSK_FORMAT };

static const struct key net_keys[] = {
	{ "network", 0 }, { "bridge", 0 }, { "ip", 0 }, { "mac", 0 },
	{ "forward", K_MULTI },
};
enum { NK_NETWORK, NK_BRIDGE, NK_IP, NK_MAC, NK_FORWARD };

static const struct key network_keys[] = {
	{ "bridge", 0 }, { "subnet", 0 }, { "gateway", 0 }, { "nat", 0 },
	{ "uplink", 0 }, { "dns", 0 },
};
enum { WK_BRIDGE, WK_SUBNET, WK_GATEWAY, WK_NAT, WK_UPLINK, WK_DNS };

static void
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

static void
append_str(char **dst, const char *v)
{
	char *n;

	if (*dst == NULL || **dst == '\0') {
		set_str(dst, v);
		return;
	}
	if (asprintf(&n, "%s %s", *dst, v) < 0)
		fatal("asprintf");
	free(*dst);
	*dst = n;
}

static int
path_value(struct parse *p, const char *key, const char *v, char **dst)
{
	if (*v != '/') {
		perr(p, "%s: must be an absolute path", key);
		return -1;
	}
	set_str(dst, v);
	return 0;
}

static void
bad(struct parse *p, const char *key, const char *v, const char *why)
{
	perr(p, "%s: bad value '%.64s': %s", key, v, why);
}

/*
 * The entries of one line of a list key, split by list_split into buf;
 * -1 when the line is refused (said), as a whole: an empty entry is a
 * mistake, not one to skip. A key that takes continuation lines (after,
 * forward) has them joined with a blank: a separator may end one line
 * or begin the next, not both, and one ending the key's last line is
 * said by list_end.
 */
static int
list_value(struct parse *p, const char *key, const char *v, int sep,
    int blanks, int multi, char *buf, size_t bufsz, char **ent, size_t *n)
{
	const char *why;
	char *s;

	*n = 0;
	if (p->kind != L_CONT) {
		p->list_open = 0;
		p->list_has = 0;
	}
	if (strlcpy_(buf, v, bufsz) >= bufsz) {
		bad(p, key, v, "too long");
		return -1;
	}
	s = buf + strspn(buf, " \t");
	/* the separator between the line above and this one */
	if (p->kind == L_CONT && *s == sep && p->list_has && !p->list_open)
		s++;
	why = list_split(s, sep, blanks, ent, LIST_MAX, n);
	if (why == list_first && p->list_open)
		why = "two separators with no entry between them (the line "
		    "above ends with one)";
	p->list_open = 0;
	if (why == list_last && multi) {
		/* a continuation line may go on with the list */
		why = NULL;
		p->list_open = p->lineno;
		p->list_key = key;
		strlcpy_(p->list_val, v, sizeof(p->list_val));
	}
	if (why) {
		bad(p, key, v, why);
		*n = 0;
		p->list_has++;		/* the next line's ',' is no new error */
		return -1;
	}
	p->list_has += *n;
	return 0;
}

static void
add_after(struct parse *p, const char *v)
{
	char buf[INI_MAX_LINE + 1], *ent[LIST_MAX], *tok;
	struct service_conf *svc = p->svc;
	size_t j, n;

	if (list_value(p, "after", v, ',', 1, 1, buf, sizeof(buf), ent,
	    &n) == -1)
		return;
	for (j = 0; j < n; j++) {
		size_t i;

		tok = ent[j];
		if (!name_valid(tok, SERVICE_NAME_MAX)) {
			perr(p, "after: '%s' is not a valid service name", tok);
			continue;
		}
		for (i = 0; i < svc->nafter; i++)
			if (strcmp(svc->after[i], tok) == 0)
				break;
		if (i < svc->nafter) {
			perr(p, "after: '%s' listed twice", tok);
			continue;
		}
		if (svc->nafter >= SERVICE_MAX_AFTER) {
			perr(p, "after: too many services (at most %d)",
			    SERVICE_MAX_AFTER);
			return;
		}
		svc->after[svc->nafter++] = xstrdup(tok);
	}
}

static void
set_duration(struct parse *p, const char *key, const char *v, uint64_t *dst,
    uint64_t min, uint64_t max)
{
	const char *why;
	uint64_t ms;

	if ((why = parse_duration_ms(v, &ms)) != NULL)
		bad(p, key, v, why);
	else if (ms < min || ms > max) {
		char a[32], b[32];
		format_duration(a, sizeof(a), min);
		format_duration(b, sizeof(b), max);
		perr(p, "%s: %.64s is out of range (%s to %s)", key, v, a, b);
	} else
		*dst = ms;
}

/* health = exec:CMD | tcp:PORT */
static void
health_value(struct parse *p, const char *key, const char *v)
{
	struct service_conf *s = p->svc;
	const char *why;
	uint64_t n;

	s->health_line = p->lineno;
	if (strncmp(v, "exec:", 5) == 0) {
		const char *cmd = v + 5 + strspn(v + 5, " \t");

		if (*cmd == '\0')
			bad(p, key, v, "exec: needs a command");
		else if (strlen(cmd) > HEALTH_CMD_MAX)
			perr(p, "%s: the command is longer than %d bytes", key,
			    HEALTH_CMD_MAX);
		else {
			set_str(&s->health_cmd, cmd);
			s->health = HEALTH_EXEC;
		}
	} else if (strncmp(v, "tcp:", 4) == 0) {
		if ((why = parse_uint(v + 4, 65535, &n)) != NULL || n == 0)
			bad(p, key, v, why ? why : "port 0");
		else {
			s->health_port = (uint16_t)n;
			s->health = HEALTH_TCP;
		}
	} else if (strcmp(v, "none") == 0)
		s->health = HEALTH_NONE;
	else
		bad(p, key, v, "expected exec:COMMAND, tcp:PORT or none");
}

static void
service_key(struct parse *p, int k, const char *v)
{
	struct service_conf *s = p->svc;
	const char *why;
	uint64_t n;
	const char *key = service_keys[k].name;

	switch (k) {
	case SK_DESCRIPTION:
		set_str(&s->description, v);
		break;
	case SK_TYPE:
		if (strcmp(v, "pv") == 0)
			s->type = SVC_PV;
		else if (strcmp(v, "pvh") == 0)
			s->type = SVC_PVH;
		else
			bad(p, key, v, "expected pv or pvh");
		break;
	case SK_KERNEL:
		path_value(p, key, v, &s->kernel);
		s->kernel_line = p->lineno;
		break;
	case SK_RAMDISK:
		path_value(p, key, v, &s->ramdisk);
		s->ramdisk_line = p->lineno;
		break;
	case SK_CMDLINE:
		set_str(&s->cmdline, v);
		break;
	case SK_MEMORY:
		s->memory_line = p->lineno;
		if ((why = parse_size(v, &n)) != NULL)
			bad(p, key, v, why);
		else if (n < MEMORY_MIN || n > MEMORY_MAX)
			perr(p, "memory: %.64s is out of range (16M to 1T)", v);
		else
			s->memory = n;
		break;
	case SK_VCPUS:
		if ((why = parse_uint(v, VCPUS_MAX, &n)) != NULL)
			bad(p, key, v, why);
		else if (n == 0)
			bad(p, key, v, "at least 1");
		else
			s->vcpus = (unsigned)n;
		break;
	case SK_AUTOSTART:
		if ((why = parse_bool(v, &s->autostart)) != NULL)
			bad(p, key, v, why);
		break;
	case SK_AFTER:
		s->after_line = p->lineno;
		add_after(p, v);
		break;
	case SK_RESTART:
		if (strcmp(v, "no") == 0)
			s->restart = RESTART_NO;
		else if (strcmp(v, "on-failure") == 0)
			s->restart = RESTART_ON_FAILURE;
		else if (strcmp(v, "always") == 0)
			s->restart = RESTART_ALWAYS;
		else
			bad(p, key, v, "expected no, on-failure or always");
		break;
	case SK_RESTART_DELAY:
		set_duration(p, key, v, &s->restart_delay_ms, 100, 3600000);
		break;
	case SK_RESTART_DELAY_MAX:
		set_duration(p, key, v, &s->restart_delay_max_ms, 100, 86400000);
		break;
	case SK_RESTART_STABLE:
		set_duration(p, key, v, &s->restart_stable_ms, 1000, 86400000);
		break;
	case SK_RESTART_LIMIT:
		if ((why = parse_uint(v, 1000, &n)) != NULL)
			bad(p, key, v, why);
		else
			s->restart_limit = (unsigned)n;
		break;
	case SK_RESTART_WINDOW:
		set_duration(p, key, v, &s->restart_window_ms, 1000, 7 * 86400000ULL);
		break;
	case SK_STOP_TIMEOUT:
		set_duration(p, key, v, &s->stop_timeout_ms, 0, 3600000);
		break;
	case SK_MEMRES:
		if ((why = parse_bool(v, &s->memres)) != NULL)
			bad(p, key, v, why);
		break;
	case SK_AGENT_STOP_TIMEOUT:
		set_duration(p, key, v, &s->agent_stop_timeout_ms, 0, 3600000);
		break;
	case SK_PING_INTERVAL:
		set_duration(p, key, v, &s->ping_interval_ms, 1000, 3600000);
		break;
	case SK_PING_TIMEOUT:
		set_duration(p, key, v, &s->ping_timeout_ms, 1000, 3600000);
		break;
	case SK_PING_RESTART:
		if ((why = parse_bool(v, &s->ping_restart)) != NULL)
			bad(p, key, v, why);
		break;
	case SK_AGENT:
		if (strcmp(v, "domud") == 0)
			s->agent_vxn = 0;
		else if (strcmp(v, "vxn") == 0)
			s->agent_vxn = 1;
		else
			bad(p, key, v, "expected domud or vxn");
		break;
	case SK_IDLE_TIMEOUT:
		set_duration(p, key, v, &s->idle_timeout_ms, 0, 30 * 86400000ULL);
		break;
	case SK_HEALTH:
		health_value(p, key, v);
		break;
	case SK_HEALTH_INTERVAL:
		set_duration(p, key, v, &s->health_interval_ms, 1000, 86400000);
		break;
	case SK_HEALTH_TIMEOUT:
		set_duration(p, key, v, &s->health_timeout_ms, 100, 3600000);
		break;
	case SK_HEALTH_START_PERIOD:
		set_duration(p, key, v, &s->health_start_period_ms, 0, 86400000);
		break;
	case SK_HEALTH_RETRIES:
		if ((why = parse_uint(v, 100, &n)) != NULL)
			bad(p, key, v, why);
		else if (n == 0)
			bad(p, key, v, "at least 1");
		else
			s->health_retries = (unsigned)n;
		break;
	case SK_HEALTH_RESTART:
		s->health_restart_line = p->lineno;
		if ((why = parse_bool(v, &s->health_restart)) != NULL)
			bad(p, key, v, why);
		break;
	case SK_IDLE_ACTION:
		s->idle_action_line = p->lineno;
		if (strcmp(v, "stop") == 0)
			s->idle_action = IDLE_STOP;
		else if (strcmp(v, "pause") == 0)
			s->idle_action = IDLE_PAUSE;
		else
			bad(p, key, v, "expected stop or pause");
		break;
	case SK_KERNEL_CACHE:
		if ((why = parse_bool(v, &s->kernel_cache)) != NULL)
			bad(p, key, v, why);
		break;
	case SK_STANDBY:
		s->standby_line = p->lineno;
		if ((why = parse_bool(v, &s->standby)) != NULL)
			bad(p, key, v, why);
		break;
	case SK_CPUS:
	case SK_CPUS_SOFT: {
		struct cpuset **sets = k == SK_CPUS ? &s->cpus : &s->cpus_soft;
		size_t *nsets = k == SK_CPUS ? &s->ncpus : &s->ncpus_soft;

		if ((why = cpus_parse(v, sets, nsets)) != NULL)
			bad(p, key, v, why);
		else if (k == SK_CPUS)
			s->cpus_line = p->lineno;
		else
			s->cpus_soft_line = p->lineno;
		break;
	}
	case SK_CPUPOOL:
		if (!name_valid(v, 32))
			bad(p, key, v, "not a pool name");
		else {
			set_str(&s->cpupool, v);
			s->cpupool_line = p->lineno;
		}
		break;
	case SK_WEIGHT:
		if ((why = parse_uint(v, 65535, &n)) != NULL || n == 0)
			bad(p, key, v, why ? why : "1 to 65535");
		else {
			s->weight = (int)n;
			s->weight_line = p->lineno;
		}
		break;
	case SK_CAP:
		/* percent of one CPU; 0 = no cap */
		if ((why = parse_uint(v, 100 * VCPUS_MAX, &n)) != NULL)
			bad(p, key, v, why);
		else {
			s->cap = (int)n;
			s->cap_line = p->lineno;
		}
		break;
	case SK_PERIOD:
	case SK_BUDGET: {
		uint64_t ms;

		/* rtds counts in microseconds: 10ms, or 500us */
		if (strlen(v) > 2 && strcmp(v + strlen(v) - 2, "us") == 0) {
			char num[32];

			strlcpy_(num, v, sizeof(num));
			num[strlen(num) - 2] = '\0';
			why = parse_uint(num, 10000000, &n);
		} else if ((why = parse_duration_ms(v, &ms)) == NULL)
			n = ms * 1000;
		if (why == NULL && (n < 100 || n > 10000000))
			why = "100us to 10s";
		if (why)
			bad(p, key, v, why);
		else if (k == SK_PERIOD) {
			s->period_us = (uint32_t)n;
			s->period_line = p->lineno;
		} else {
			s->budget_us = (uint32_t)n;
			s->budget_line = p->lineno;
		}
		break;
	}
	case SK_MAXMEM:
		if ((why = parse_size(v, &n)) != NULL)
			bad(p, key, v, why);
		else if (n < MEMORY_MIN || n > MEMORY_MAX)
			perr(p, "maxmem: %.64s is out of range (16M to 1T)", v);
		else {
			s->maxmem = n;
			s->maxmem_line = p->lineno;
		}
		break;
	case SK_PCI:
	case SK_DTDEV:
	case SK_IOMEM:
	case SK_IRQS: {
		char buf[INI_MAX_LINE + 1], *ent[LIST_MAX], *tok;
		size_t i, ntok;

		if (k == SK_PCI)
			s->pci_line = p->lineno;
		else if (k == SK_DTDEV)
			s->dtdev_line = p->lineno;
		else if (k == SK_IOMEM)
			s->iomem_line = p->lineno;
		else
			s->irqs_line = p->lineno;
		/* a list: ';' between entries (pci and iomem have commas in
		 * theirs), irqs by commas or blanks */
		if (list_value(p, key, v, k == SK_IRQS ? ',' : ';', k == SK_IRQS,
		    0, buf, sizeof(buf), ent, &ntok) == -1)
			break;
		for (i = 0; i < ntok; i++) {
			tok = ent[i];
			if (k == SK_PCI) {
				if (s->npci == SERVICE_MAX_PCI) {
					perr(p, "pci: at most %d devices",
					    SERVICE_MAX_PCI);
					break;
				}
				if ((why = pci_parse(tok, &s->pci[s->npci])) !=
				    NULL)
					bad(p, key, tok, why);
				else
					s->npci++;
			} else if (k == SK_DTDEV) {
				if (s->ndtdev == SERVICE_MAX_DTDEV) {
					perr(p, "dtdev: at most %d devices",
					    SERVICE_MAX_DTDEV);
					break;
				}
				if (tok[0] != '/')
					bad(p, key, tok, "expected a device tree "
					    "path, like /soc/serial@9000000");
				else
					s->dtdev[s->ndtdev++] = xstrdup(tok);
			} else if (k == SK_IOMEM) {
				if (s->niomem == SERVICE_MAX_IOMEM) {
					perr(p, "iomem: at most %d ranges",
					    SERVICE_MAX_IOMEM);
					break;
				}
				if ((why = iomem_parse(tok,
				    &s->iomem[s->niomem])) != NULL)
					bad(p, key, tok, why);
				else
					s->niomem++;
			} else {
				if (s->nirqs == SERVICE_MAX_IRQS) {
					perr(p, "irqs: at most %d",
					    SERVICE_MAX_IRQS);
					break;
				}
				if ((why = irq_parse(tok, &s->irqs[s->nirqs])) !=
				    NULL)
					bad(p, key, tok, why);
				else
					s->nirqs++;
			}
		}
		break;
	}
	case SK_DEVICE_TREE:
		s->device_tree_line = p->lineno;
		path_value(p, key, v, &s->device_tree);
		break;
	case SK_READY:
		s->ready_line = p->lineno;
		if (strcmp(v, "running") == 0)
			s->ready = READY_RUNNING;
		else if (strcmp(v, "agent") == 0)
			s->ready = READY_AGENT;
		else if (strcmp(v, "health") == 0)
			s->ready = READY_HEALTH;
		else
			bad(p, key, v, "expected running, agent or health");
		break;
	case SK_UUID: {
		uuid_t u;

		if (strlen(v) != 36 || uuid_parse(v, u) != 0)
			bad(p, key, v, "expected a UUID like "
			    "01234567-89ab-cdef-0123-456789abcdef");
		else if (uuid_is_null(u))
			bad(p, key, v, "the nil UUID is not allowed");
		else {
			memcpy(s->uuid, u, 16);
			s->uuid_line = p->lineno;
		}
		break;
	}
	}
}

static void
disk_key(struct parse *p, int k, const char *v)
{
	struct disk_conf *d = p->disk;
	size_t n;

	switch (k) {
	case DSK_PATH:
		d->path_line = p->lineno;
		path_value(p, "path", v, &d->path);
		break;
	case DSK_VDEV:
		d->vdev_line = p->lineno;
		/* xvda..xvdzz, sda.., hda..: what libxl's vdev parser takes */
		n = strlen(v);
		if ((strncmp(v, "xvd", 3) != 0 && strncmp(v, "sd", 2) != 0 &&
		    strncmp(v, "hd", 2) != 0) || n > 5 ||
		    strspn(v + (v[0] == 'x' ? 3 : 2), "abcdefghijklmnopqrstuvwxyz") !=
		    n - (v[0] == 'x' ? 3 : 2) || n == (v[0] == 'x' ? 3u : 2u))
			bad(p, "vdev", v, "expected a name like xvda");
		else
			set_str(&d->vdev, v);
		break;
	case DSK_ACCESS:
		if (strcmp(v, "ro") == 0)
			d->readwrite = 0;
		else if (strcmp(v, "rw") == 0)
			d->readwrite = 1;
		else
			bad(p, "access", v, "expected ro or rw");
		break;
	case DSK_FORMAT:
		if (strcmp(v, "raw") != 0)
			bad(p, "format", v, "only raw images are supported");
		break;
	}
}

static uint32_t
prefix_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

/* "8080", "9000-9010" */
static int
parse_port_range(const char *v, uint16_t *lo, uint16_t *hi)
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

static void
add_forwards(struct parse *p, const char *v)
{
	char buf[INI_MAX_LINE + 1], *ent[LIST_MAX], *tok;
	struct service_conf *svc = p->svc;
	size_t i, n;

	if (list_value(p, "forward", v, ',', 1, 1, buf, sizeof(buf), ent,
	    &n) == -1)
		return;
	for (i = 0; i < n; i++) {
		struct forward_conf f;
		char *hport, *gport;

		tok = ent[i];
		memset(&f, 0, sizeof(f));
		hport = strchr(tok, ':');
		gport = hport ? strchr(hport + 1, ':') : NULL;
		if (gport == NULL) {
			perr(p, "forward: '%.64s': expected PROTO:HOSTPORT:GUESTPORT, "
			    "like tcp:8080:80", tok);
			continue;
		}
		*hport++ = '\0';
		*gport++ = '\0';
		if (strcmp(tok, "tcp") == 0)
			f.proto = IPPROTO_TCP;
		else if (strcmp(tok, "udp") == 0)
			f.proto = IPPROTO_UDP;
		else {
			perr(p, "forward: unknown protocol '%.16s' (tcp or udp)",
			    tok);
			continue;
		}
		if (parse_port_range(hport, &f.host_lo, &f.host_hi) != 0) {
			perr(p, "forward: %s:%.16s: host port out of range "
			    "(1-65535, or LOW-HIGH)", tok, hport);
			continue;
		}
		if (parse_port_range(gport, &f.guest_lo, &f.guest_hi) != 0) {
			perr(p, "forward: %s:%s:%.16s: guest port out of range "
			    "(1-65535, or LOW-HIGH)", tok, hport, gport);
			continue;
		}
		if (f.host_hi - f.host_lo != f.guest_hi - f.guest_lo) {
			perr(p, "forward: %s:%s:%s: the host and guest ranges "
			    "differ in length", tok, hport, gport);
			continue;
		}
		if (f.host_lo != f.guest_lo &&
		    f.host_hi - f.host_lo + 1 > FORWARD_EXPAND_MAX) {
			perr(p, "forward: %s:%s:%s: a shifted range takes at "
			    "most %d ports", tok, hport, gport,
			    FORWARD_EXPAND_MAX);
			continue;
		}
		if (svc->nfwd >= SERVICE_MAX_FORWARDS) {
			perr(p, "forward: too many rules (at most %d)",
			    SERVICE_MAX_FORWARDS);
			return;
		}
		svc->fwd[svc->nfwd++] = f;
	}
}

static void
net_key(struct parse *p, int k, const char *v)
{
	struct service_conf *s = p->svc;

	switch (k) {
	case NK_NETWORK:
		s->network_line = p->lineno;
		if (!name_valid(v, 32))
			bad(p, "network", v, "not a valid network name");
		else
			set_str(&s->network, v);
		break;
	case NK_BRIDGE:
		s->bridge_line = p->lineno;
		if (!name_valid(v, 15))
			bad(p, "bridge", v, "not a valid interface name");
		else
			set_str(&s->bridge, v);
		break;
	case NK_IP:
		if (strcmp(v, "auto") == 0)
			break;
		if (ip4_parse(v, &s->ip) != 0 || s->ip == 0)
			bad(p, "ip", v, "expected auto or an IPv4 address");
		else
			s->ip_line = p->lineno;
		break;
	case NK_MAC:
		if (strcmp(v, "auto") == 0)
			break;
		if (mac_parse(v, s->mac) != 0)
			bad(p, "mac", v, "expected auto or a MAC like "
			    "00:16:3e:12:34:56");
		else if (s->mac[0] & 1)
			bad(p, "mac", v, "a multicast MAC cannot be used");
		else
			s->mac_line = p->lineno;
		break;
	case NK_FORWARD:
		s->forward_line = p->lineno;
		add_forwards(p, v);
		break;
	}
}

static void
network_key(struct parse *p, int k, const char *v)
{
	struct net_conf *n = p->net;
	char buf[64], *slash;
	const char *why;
	uint64_t pre;

	switch (k) {
	case WK_BRIDGE:
		n->bridge_line = p->lineno;
		if (!name_valid(v, 15))
			bad(p, "bridge", v, "not a valid interface name");
		else
			set_str(&n->bridge, v);
		break;
	case WK_SUBNET:
		n->subnet_seen = 1;
		strlcpy_(buf, v, sizeof(buf));
		if ((slash = strchr(buf, '/')) == NULL) {
			bad(p, "subnet", v, "expected ADDRESS/PREFIX, like "
			    "10.0.3.0/24");
			break;
		}
		*slash++ = '\0';
		if (ip4_parse(buf, &n->subnet) != 0) {
			bad(p, "subnet", v, "not an IPv4 address");
			break;
		}
		if ((why = parse_uint(slash, 32, &pre)) != NULL) {
			bad(p, "subnet", v, why);
			break;
		}
		if (pre < 8 || pre > 30) {
			bad(p, "subnet", v, "the prefix must be 8 to 30");
			break;
		}
		n->prefix = (unsigned)pre;
		if (n->subnet & ~prefix_mask(n->prefix)) {
			bad(p, "subnet", v, "host bits are set (write the "
			    "network address)");
			break;
		}
		n->subnet_line = p->lineno;
		break;
	case WK_GATEWAY:
		if (ip4_parse(v, &n->gateway) != 0 || n->gateway == 0)
			bad(p, "gateway", v, "not an IPv4 address");
		else
			n->gateway_line = p->lineno;
		break;
	case WK_NAT:
		if ((why = parse_bool(v, &n->nat)) != NULL)
			bad(p, "nat", v, why);
		break;
	case WK_UPLINK:
		if (strcmp(v, "auto") == 0)
			break;
		if (!name_valid(v, 15))
			bad(p, "uplink", v, "expected auto or an interface name");
		else
			set_str(&n->uplink, v);
		break;
	case WK_DNS: {
		char lbuf[INI_MAX_LINE + 1], *ent[LIST_MAX], *tok;
		size_t i, ntok;

		if (list_value(p, "dns", v, ',', 1, 0, lbuf, sizeof(lbuf), ent,
		    &ntok) == -1)
			break;
		for (i = 0; i < ntok; i++) {
			tok = ent[i];
			if (n->ndns >= NET_DNS_MAX) {
				perr(p, "dns: at most %d servers", NET_DNS_MAX);
				break;
			}
			if (ip4_parse(tok, &n->dns[n->ndns]) != 0) {
				bad(p, "dns", tok, "not an IPv4 address");
				continue;
			}
			n->ndns++;
		}
		break;
	}
	}
}

static void
pool_key(struct parse *p, int k, const char *v)
{
	struct pool_conf *pc = p->pool;
	const char *why;

	switch (k) {
	case PK_CPUS:
		pc->cpus_seen = 1;
		if ((why = cpuset_parse(v, &pc->cpus)) != NULL)
			bad(p, "cpus", v, why);
		else
			pc->cpus_line = p->lineno;
		break;
	case PK_SCHED:
		if ((why = sched_parse(v, &pc->sched)) != NULL)
			bad(p, "sched", v, why);
		else
			pc->sched_line = p->lineno;
		break;
	}
}

static void
domud_key(struct parse *p, int k, const char *v)
{
	struct daemon_conf *d = &p->cfg->d;
	const char *why;
	uint64_t n;

	switch (k) {
	case DK_SERVICES_DIR:
		set_str(&d->services_dir, v);
		break;
	case DK_STATE_DIR:
		path_value(p, "state_dir", v, &d->state_dir);
		break;
	case DK_RUN_DIR:
		path_value(p, "run_dir", v, &d->run_dir);
		break;
	case DK_LOG_DIR:
		path_value(p, "log_dir", v, &d->log_dir);
		break;
	case DK_CONSOLE_LOG_MAX:
		if ((why = parse_size(v, &n)) != NULL)
			bad(p, "console_log_max", v, why);
		else if (n < 4096 || n > (1ULL << 30))
			perr(p, "console_log_max: %.64s is out of range (4K to 1G)", v);
		else
			d->console_log_max = n;
		break;
	case DK_READ_GROUP:
		if (!name_valid(v, 32))
			bad(p, "read_group", v, "not a valid group name");
		else
			set_str(&d->read_group, v);
		break;
	case DK_ADMIN_GROUP:
		if (!name_valid(v, 32))
			bad(p, "admin_group", v, "not a valid group name");
		else
			set_str(&d->admin_group, v);
		break;
	case DK_SHUTDOWN_TIMEOUT:
		set_duration(p, "shutdown_timeout", v, &d->shutdown_timeout_ms,
		    1000, 3600000);
		break;
	case DK_KEEP_RUNNING:
		if ((why = parse_bool(v, &d->keep_running)) != NULL)
			bad(p, "keep_running", v, why);
		break;
	case DK_RUN_IMAGES:
		path_value(p, "run_images", v, &d->run_images);
		break;
	case DK_EVENTS_MAX:
		if ((why = parse_uint(v, EVENTS_MAX, &n)) != NULL)
			bad(p, "events_max", v, why);
		else if (n < EVENTS_MIN)
			perr(p, "events_max: %.64s is out of range (%d to %d)", v,
			    EVENTS_MIN, EVENTS_MAX);
		else
			d->events_max = (size_t)n;
		break;
	case DK_METRICS_FILE:
		path_value(p, "metrics_file", v, &d->metrics_file);
		break;
	case DK_METRICS_INTERVAL:
		set_duration(p, "metrics_interval", v, &d->metrics_interval_ms,
		    1000, 3600000);
		break;
	case DK_MAX_DOMUS:
		if ((why = parse_uint(v, 4096, &n)) != NULL)
			bad(p, "max_domus", v, why);
		else
			d->max_domus = (unsigned)n;
		break;
	case DK_KERNEL_CACHE_MAX:
		if ((why = parse_size(v, &n)) != NULL)
			bad(p, "kernel_cache_max", v, why);
		else if (n != 0 && n < (16ULL << 20))
			perr(p, "kernel_cache_max: %.64s is too small for a "
			    "kernel (16M at least; 0 turns the cache off)", v);
		else
			d->kernel_cache_max = n;
		break;
	}
}

static int
config_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct parse *p = user;
	const struct key *keys = NULL;
	size_t nkeys = 0, k;

	(void)section;
	switch (p->sect) {
	case S_IGNORE:
		return 1;		/* the header was reported */
	case S_NONE:
		if (p->kind == L_KEY)
			perr(p, "'%s' outside of any section", name);
		return 1;
	case S_DOMUD:
		keys = domud_keys, nkeys = nitems(domud_keys);
		break;
	case S_SERVICE:
		keys = service_keys, nkeys = nitems(service_keys);
		break;
	case S_DISK:
		keys = disk_keys, nkeys = nitems(disk_keys);
		break;
	case S_NET:
		keys = net_keys, nkeys = nitems(net_keys);
		break;
	case S_NETWORK:
		keys = network_keys, nkeys = nitems(network_keys);
		break;
	case S_POOL:
		keys = pool_keys, nkeys = nitems(pool_keys);
		break;
	}

	if (p->kind == L_CONT) {
		char cont[INI_MAX_LINE + 1];

		if (p->last_key < 0)
			return 1;	/* its key was already reported */
		/* some inih versions keep inline comments on continuations */
		strlcpy_(cont, value, sizeof(cont));
		*find_chars_or_comment(cont, NULL) = '\0';
		value = rstrip(cont);
		if (!(keys[p->last_key].flags & K_MULTI)) {
			perr(p, "%s: does not take continuation lines",
			    keys[p->last_key].name);
			return 1;
		}
		if (p->sect == S_SERVICE && p->last_key == SK_AFTER)
			add_after(p, value);
		else if (p->sect == S_SERVICE && p->last_key == SK_CMDLINE)
			append_str(&p->svc->cmdline, value);
		else if (p->sect == S_SERVICE && p->last_key == SK_DESCRIPTION)
			append_str(&p->svc->description, value);
		else if (p->sect == S_NET && p->last_key == NK_FORWARD)
			add_forwards(p, value);
		return 1;
	}

	p->last_key = -1;
	for (k = 0; k < nkeys; k++)
		if (strcmp(keys[k].name, name) == 0)
			break;
	if (k == nkeys) {
		perr(p, "unknown key '%s'", name);
		return 1;
	}
	if (p->seen_keys & (1ULL << k)) {
		perr(p, "duplicate key '%s'", name);
		return 1;
	}
	p->seen_keys |= 1ULL << k;
	p->last_key = (int)k;
	if (*value == '\0' && !(keys[k].flags & K_MULTI)) {
		perr(p, "%s: empty value", name);
		return 1;
	}
	switch (p->sect) {
	case S_DOMUD:
		domud_key(p, (int)k, value);
		break;
	case S_SERVICE:
		service_key(p, (int)k, value);
		break;
	case S_DISK:
		disk_key(p, (int)k, value);
		break;
	case S_NET:
		net_key(p, (int)k, value);
		break;
	case S_NETWORK:
		network_key(p, (int)k, value);
		break;
	case S_POOL:
		pool_key(p, (int)k, value);
		break;
	default:
		break;
	}
	return 1;
}

static void
parse_buffer(struct parse *p)
{
	size_t i;

	/* the return value only repeats what the reader and handler reported */
	(void)ini_parse_stream(config_reader, p, config_handler, p);
	list_end(p);
	for (i = 0; i < p->nseen_sect; i++)
		free(p->seen_sect[i]);
	p->nseen_sect = 0;
}

/* ---- files ---------------------------------------------------------------- */

static char *
read_file(struct config *cfg, const char *path, size_t *len, int *err_count)
{
	char *buf = NULL;
	struct stat st;
	size_t got = 0;
	ssize_t r;
	int fd;

	/* O_NONBLOCK: a FIFO in services.d must not hang the daemon */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		config_diag(cfg, path, 0, 1, "cannot open: %s", strerror(errno));
		(*err_count)++;
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		config_diag(cfg, path, 0, 1, "not a regular file");
		(*err_count)++;
		goto fail;
	}
	if (st.st_size > CONFIG_FILE_MAX) {
		config_diag(cfg, path, 0, 1, "file too large (over %d bytes)",
		    CONFIG_FILE_MAX);
		(*err_count)++;
		goto fail;
	}
	buf = xcalloc(1, (size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*len = got;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

static void
service_defaults(struct service_conf *s, const char *name)
{
	uuid_t u;

#if defined(__aarch64__) || defined(__arm__)
	s->type = SVC_PVH;	/* ARM has no PV */
#else
	s->type = SVC_PV;
#endif
	s->vcpus = 1;
	s->autostart = 0;
	s->restart = RESTART_ON_FAILURE;
	s->restart_delay_ms = 1000;
	s->restart_delay_max_ms = 60000;
	s->restart_stable_ms = 60000;
	s->restart_limit = 5;
	s->restart_window_ms = 600000;
	s->stop_timeout_ms = 30000;
	s->agent_stop_timeout_ms = 10000;
	s->ping_interval_ms = 10000;
	s->ping_timeout_ms = 30000;
	s->health_interval_ms = 10000;
	s->health_timeout_ms = 5000;
	s->health_retries = 3;
	s->kernel_cache = 1;
	/* stable across daemon restarts and reinstalls: derived from the name */
	uuid_generate_sha1(u, domud_uuid_ns, name, strlen(name));
	memcpy(s->uuid, u, 16);
}

/* A stable MAC under Xen's OUI, derived from the service name (FNV-1a);
 * tiebreak > 0 picks another one when two names collide (see lease.c). */
void
service_auto_mac(const char *name, unsigned tiebreak, uint8_t mac[6])
{
	uint32_t h = 2166136261u;
	const char *c;
	unsigned i;

	for (c = name; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	for (i = 0; i < tiebreak; i++)
		h = (h ^ 0x23u) * 16777619u;
	mac[0] = 0x00;
	mac[1] = 0x16;
	mac[2] = 0x3e;
	mac[3] = (h >> 16) & 0x7f;	/* top bit clear, as xl's random MACs */
	mac[4] = (h >> 8) & 0xff;
	mac[5] = h & 0xff;
}

static void
health_check(struct config *cfg, struct service_conf *s)
{
	if (s->health == HEALTH_EXEC && !s->memres)
		svc_err(cfg, s, s->health_line, "health = exec: needs memres = "
		    "yes (the agent runs the command)");
	if (s->health == HEALTH_TCP && !s->has_net)
		svc_err(cfg, s, s->health_line, "health = tcp: needs a [net] "
		    "section (domud connects to the guest's address)");
	else if (s->health == HEALTH_TCP && s->network == NULL)
		svc_err(cfg, s, s->health_line, "health = tcp: needs network= "
		    "(domud knows the guest's address only on its own networks)");
	if (s->ready_line == 0)
		s->ready = s->memres ? READY_AGENT : READY_RUNNING;
	else if (s->ready == READY_HEALTH && s->health == HEALTH_NONE)
		svc_err(cfg, s, s->ready_line, "ready = health: needs a health "
		    "probe (health = exec:... or tcp:...)");
	else if (s->ready == READY_AGENT && !s->memres)
		svc_err(cfg, s, s->ready_line, "ready = agent: needs memres = yes");
	if (s->health != HEALTH_NONE && s->health_timeout_ms >
	    s->health_interval_ms)
		config_diag(cfg, s->file, s->health_line, 0, "health_timeout is "
		    "longer than health_interval: the next probe waits for the "
		    "one under way");
	if (s->health_restart && s->health == HEALTH_NONE)
		config_diag(cfg, s->file, s->health_restart_line, 0,
		    "health_restart without a health probe does nothing");
}

static void
service_check(struct config *cfg, struct service_conf *s)
{
	struct stat st;
	size_t i, j;
	int line = s->line > 0 ? s->line : 1;

	if (!s->line) {
		svc_err(cfg, s, 1, "missing [service] section");
		return;
	}
	/* a key that is there with a bad value was reported already */
	if (s->kernel_line == 0)
		svc_err(cfg, s, line, "missing required key 'kernel'");
	if (s->memory_line == 0)
		svc_err(cfg, s, line, "missing required key 'memory'");
	if (s->restart_delay_max_ms < s->restart_delay_ms)
		svc_err(cfg, s, line, "restart_delay_max is shorter than "
		    "restart_delay");
#if defined(__aarch64__) || defined(__arm__)
	/* what libxl does anyway on ARM; said here so nobody is surprised */
	if (s->type == SVC_PV) {
		config_diag(cfg, s->file, line, 0, "type pv: ARM has no PV guests; "
		    "this one is created as pvh");
		s->type = SVC_PVH;
	}
#endif
	/* images are often checked off the device: a warning here, an
	 * error when the service starts */
	if (s->kernel && stat(s->kernel, &st) == -1)
		config_diag(cfg, s->file, s->kernel_line, 0, "kernel %s: %s",
		    s->kernel, strerror(errno));
	if (s->ramdisk && stat(s->ramdisk, &st) == -1)
		config_diag(cfg, s->file, s->ramdisk_line, 0, "ramdisk %s: %s",
		    s->ramdisk, strerror(errno));
	for (i = 0; i < s->ndisks; i++) {
		struct disk_conf *d = &s->disks[i];

		if (d->path == NULL) {
			if (d->path_line == 0)
				svc_err(cfg, s, d->line, "[disk:%s]: missing "
				    "required key 'path'", d->name);
			continue;
		}
		if (stat(d->path, &st) == -1)
			config_diag(cfg, s->file, d->line, 0, "disk %s: %s",
			    d->path, strerror(errno));
		if (d->vdev == NULL) {
			if (d->vdev_line == 0)
				svc_err(cfg, s, d->line, "[disk:%s]: missing "
				    "required key 'vdev'", d->name);
			continue;
		}
		for (j = 0; j < i; j++)
			if (s->disks[j].vdev &&
			    strcmp(s->disks[j].vdev, d->vdev) == 0)
				svc_err(cfg, s, d->line, "[disk:%s]: vdev %s is "
				    "already used by [disk:%s]", d->name, d->vdev,
				    s->disks[j].name);
	}
	if (s->agent_vxn && !s->memres)
		svc_err(cfg, s, line, "agent = vxn: needs memres = yes");
	/* the standby is a second domain with the same disks: blkback would
	 * refuse a writable one to the second, and both would write it */
	for (i = 0; s->standby && i < s->ndisks; i++)
		if (s->disks[i].readwrite)
			svc_err(cfg, s, s->standby_line, "standby: [disk:%s] "
			    "is writable, and the standby domain would share "
			    "it (make it read-only or drop standby)",
			    s->disks[i].name);
	if (s->idle_action_line && (!s->memres || !s->idle_timeout_ms))
		svc_err(cfg, s, s->idle_action_line, "idle_action: needs memres "
		    "= yes and an idle_timeout");
	health_check(cfg, s);
	partition_check_service(cfg, s);
	if (s->has_net && s->bridge_line == 0 && s->network_line == 0)
		svc_err(cfg, s, s->net_line, "[net]: needs network= (a "
		    "[network:NAME] of domud.conf) or bridge=");
	if (s->network_line && s->bridge_line)
		svc_err(cfg, s, s->bridge_line, "[net]: bridge= and network= "
		    "exclude each other (the network names its bridge)");
	if (s->has_net && s->network == NULL && s->bridge) {
		if (s->ip_line)
			svc_err(cfg, s, s->ip_line, "ip: needs network= (domud "
			    "manages no addresses on a plain bridge)");
		if (s->nfwd)
			svc_err(cfg, s, s->forward_line, "forward: needs "
			    "network=");
	}
	if (s->has_net && s->mac_line == 0)
		service_auto_mac(s->name, 0, s->mac);
}

struct service_conf *
config_parse_service(struct config *cfg, const char *name, const char *file,
    const char *buf, size_t len)
{
	struct service_conf *s = xcalloc(1, sizeof(*s));
	struct parse p;

	s->name = xstrdup(name);
	s->file = xstrdup(file);
	service_defaults(s, name);
	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.file = s->file;
	p.buf = buf;
	p.len = len;
	p.svc = s;
	p.last_key = -1;
	parse_buffer(&p);
	service_check(cfg, s);
	return s;
}

void
service_conf_free(struct service_conf *s)
{
	size_t i;

	if (s == NULL)
		return;
	free(s->name);
	free(s->file);
	free(s->description);
	free(s->kernel);
	free(s->ramdisk);
	free(s->cmdline);
	for (i = 0; i < s->nafter; i++)
		free(s->after[i]);
	for (i = 0; i < s->ndisks; i++) {
		free(s->disks[i].name);
		free(s->disks[i].path);
		free(s->disks[i].vdev);
	}
	free(s->bridge);
	free(s->network);
	free(s->health_cmd);
	free(s->cpus);
	free(s->cpus_soft);
	free(s->cpupool);
	for (i = 0; i < s->ndtdev; i++)
		free(s->dtdev[i]);
	free(s->device_tree);
	free(s);
}

static int
strcmp_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b);
}

/* Same DomU? Differences here need a restart; the rest (policy, timeouts,
 * description, ordering) applies to a running domain. */
int
service_conf_same_domain(const struct service_conf *a,
    const struct service_conf *b)
{
	size_t i;

	if (a->type != b->type || a->memory != b->memory ||
	    a->vcpus != b->vcpus || strcmp_null(a->kernel, b->kernel) ||
	    strcmp_null(a->ramdisk, b->ramdisk) ||
	    strcmp_null(a->cmdline, b->cmdline) ||
	    memcmp(a->uuid, b->uuid, 16) != 0 || a->ndisks != b->ndisks ||
	    a->has_net != b->has_net || strcmp_null(a->bridge, b->bridge) ||
	    strcmp_null(a->network, b->network) || a->addr != b->addr ||
	    memcmp(a->mac, b->mac, 6) != 0)
		return 0;
	/* where it runs and what it owns: set at create */
	if (a->ncpus != b->ncpus || a->ncpus_soft != b->ncpus_soft ||
	    strcmp_null(a->cpupool, b->cpupool) || a->weight != b->weight ||
	    a->cap != b->cap || a->period_us != b->period_us ||
	    a->budget_us != b->budget_us || a->maxmem != b->maxmem ||
	    a->npci != b->npci || a->ndtdev != b->ndtdev ||
	    a->niomem != b->niomem || a->nirqs != b->nirqs ||
	    strcmp_null(a->device_tree, b->device_tree))
		return 0;
	for (i = 0; i < a->ncpus; i++)
		if (memcmp(&a->cpus[i], &b->cpus[i], sizeof(a->cpus[i])) != 0)
			return 0;
	for (i = 0; i < a->ncpus_soft; i++)
		if (memcmp(&a->cpus_soft[i], &b->cpus_soft[i],
		    sizeof(a->cpus_soft[i])) != 0)
			return 0;
	for (i = 0; i < a->npci; i++)
		if (!pci_same(&a->pci[i], &b->pci[i]))
			return 0;
	for (i = 0; i < a->niomem; i++)
		if (a->iomem[i].start != b->iomem[i].start ||
		    a->iomem[i].count != b->iomem[i].count ||
		    a->iomem[i].has_gfn != b->iomem[i].has_gfn ||
		    a->iomem[i].gfn != b->iomem[i].gfn)
			return 0;
	for (i = 0; i < a->nirqs; i++)
		if (a->irqs[i] != b->irqs[i])
			return 0;
	for (i = 0; i < a->ndtdev; i++)
		if (strcmp(a->dtdev[i], b->dtdev[i]) != 0)
			return 0;
	for (i = 0; i < a->ndisks; i++)
		if (strcmp_null(a->disks[i].path, b->disks[i].path) ||
		    strcmp_null(a->disks[i].vdev, b->disks[i].vdev) ||
		    a->disks[i].readwrite != b->disks[i].readwrite)
			return 0;
	return 1;
}

static int
svc_cmp(const void *a, const void *b)
{
	const struct service_conf *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

struct service_conf *
config_find(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nsvcs; i++)
		if (strcmp(cfg->svcs[i]->name, name) == 0)
			return cfg->svcs[i];
	return NULL;
}

struct pool_conf *
config_find_pool(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->npools; i++)
		if (strcmp(cfg->pools[i]->name, name) == 0)
			return cfg->pools[i];
	return NULL;
}

struct net_conf *
config_find_net(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nnets; i++)
		if (strcmp(cfg->nets[i]->name, name) == 0)
			return cfg->nets[i];
	return NULL;
}

struct net_conf *
config_service_net(const struct config *cfg, const struct service_conf *s)
{
	if (!s->has_net || s->network == NULL)
		return NULL;
	return config_find_net(cfg, s->network);
}

const char *
service_bridge(const struct config *cfg, const struct service_conf *s)
{
	struct net_conf *n = config_service_net(cfg, s);

	return n ? n->bridge : s->bridge;
}

/* ---- checks across services ---------------------------------------------- */

static void
conf_err(struct config *cfg, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
conf_err(struct config *cfg, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(cfg, cfg->path, line, 1, fmt, ap);
	va_end(ap);
	cfg->conf_errors++;
}

static void
networks_check(struct config *cfg)
{
	size_t i, j;
	char a[16], b[16];

	for (i = 0; i < cfg->nnets; i++) {
		struct net_conf *n = cfg->nets[i];
		uint32_t mask = prefix_mask(n->prefix);

		if (n->bridge_line == 0)
			conf_err(cfg, n->line, "[network:%s]: missing required "
			    "key 'bridge'", n->name);
		if (n->subnet_line == 0) {
			if (!n->subnet_seen)
				conf_err(cfg, n->line, "[network:%s]: missing "
				    "required key 'subnet'", n->name);
			continue;
		}
		if (n->gateway_line == 0)
			n->gateway = n->subnet + 1;
		else if ((n->gateway & mask) != n->subnet ||
		    n->gateway == n->subnet || n->gateway == (n->subnet | ~mask)) {
			ip4_format(a, sizeof(a), n->gateway);
			conf_err(cfg, n->gateway_line, "gateway: %s is not a host "
			    "address of the subnet", a);
		}
		for (j = 0; j < i; j++) {
			struct net_conf *m = cfg->nets[j];
			uint32_t common;

			if (n->bridge && m->bridge &&
			    strcmp(n->bridge, m->bridge) == 0)
				conf_err(cfg, n->bridge_line, "bridge: %s is "
				    "also the bridge of [network:%s]", n->bridge,
				    m->name);
			if (m->subnet_line == 0)
				continue;
			common = prefix_mask(n->prefix < m->prefix ?
			    n->prefix : m->prefix);
			if ((n->subnet & common) == (m->subnet & common)) {
				ip4_format(a, sizeof(a), n->subnet);
				ip4_format(b, sizeof(b), m->subnet);
				conf_err(cfg, n->subnet_line, "subnet: %s/%u "
				    "overlaps %s/%u of [network:%s]", a,
				    n->prefix, b, m->prefix, m->name);
			}
		}
	}
}

static int
ranges_overlap(const struct forward_conf *x, const struct forward_conf *y)
{
	return x->proto == y->proto && x->host_lo <= y->host_hi &&
	    y->host_lo <= x->host_hi;
}

static void
service_net_check(struct config *cfg, struct service_conf *s)
{
	struct net_conf *n;
	uint32_t mask;
	char a[16];
	size_t i, j;

	if (!s->has_net || s->network == NULL)
		return;
	if ((n = config_find_net(cfg, s->network)) == NULL) {
		svc_err(cfg, s, s->network_line, "network: unknown network "
		    "'%s' (no [network:%s] in %s)", s->network, s->network,
		    cfg->path);
		return;
	}
	if (n->subnet_line == 0)
		return;		/* reported in domud.conf */
	mask = prefix_mask(n->prefix);
	if (s->ip_line) {
		ip4_format(a, sizeof(a), s->ip);
		if ((s->ip & mask) != n->subnet)
			svc_err(cfg, s, s->ip_line, "ip: %s is outside the "
			    "subnet of network '%s'", a, n->name);
		else if (s->ip == n->subnet || s->ip == (n->subnet | ~mask))
			svc_err(cfg, s, s->ip_line, "ip: %s is the network or "
			    "broadcast address of network '%s'", a, n->name);
		else if (s->ip == n->gateway)
			svc_err(cfg, s, s->ip_line, "ip: %s is the gateway of "
			    "network '%s'", a, n->name);
	}
	for (i = 0; i < s->nfwd; i++)
		for (j = 0; j < i; j++)
			if (ranges_overlap(&s->fwd[i], &s->fwd[j]))
				svc_err(cfg, s, s->forward_line, "forward: %s "
				    "host port %u is published twice",
				    s->fwd[i].proto == IPPROTO_TCP ? "tcp" : "udp",
				    s->fwd[i].host_lo > s->fwd[j].host_lo ?
				    s->fwd[i].host_lo : s->fwd[j].host_lo);
}

static void
services_net_cross(struct config *cfg, struct service_conf *s,
    struct service_conf *t)
{
	size_t i, j;
	char a[32];

	if (!s->has_net || !t->has_net)
		return;
	if (s->mac_line && t->mac_line && memcmp(s->mac, t->mac, 6) == 0) {
		mac_format(a, sizeof(a), s->mac);
		svc_err(cfg, s, s->mac_line, "mac: %s is also used by service "
		    "'%s'", a, t->name);
	}
	if (s->ip_line && t->ip_line && s->ip == t->ip) {
		ip4_format(a, sizeof(a), s->ip);
		svc_err(cfg, s, s->ip_line, "ip: %s is also used by service "
		    "'%s'", a, t->name);
	}
	/* host ports belong to Dom0: one publisher per port, any network */
	for (i = 0; i < s->nfwd; i++)
		for (j = 0; j < t->nfwd; j++)
			if (ranges_overlap(&s->fwd[i], &t->fwd[j]))
				svc_err(cfg, s, s->forward_line, "forward: %s "
				    "host port %u is also published by service "
				    "'%s'", s->fwd[i].proto == IPPROTO_TCP ?
				    "tcp" : "udp", s->fwd[i].host_lo >
				    t->fwd[j].host_lo ? s->fwd[i].host_lo :
				    t->fwd[j].host_lo, t->name);
}


enum { WHITE, GREY, BLACK };

static int
cycle_visit(struct config *cfg, size_t i, int *color, size_t *stack,
    size_t depth)
{
	struct service_conf *s = cfg->svcs[i];
	size_t a, j;

	color[i] = GREY;
	stack[depth] = i;
	for (a = 0; a < s->nafter; a++) {
		struct service_conf *t = config_find(cfg, s->after[a]);

		if (t == NULL || t == s)
			continue;
		for (j = 0; j < cfg->nsvcs; j++)
			if (cfg->svcs[j] == t)
				break;
		if (color[j] == GREY) {
			char path[1024] = "";
			size_t k, start;

			for (start = 0; start <= depth; start++)
				if (stack[start] == j)
					break;
			for (k = start; k <= depth; k++) {
				strncat(path, cfg->svcs[stack[k]]->name,
				    sizeof(path) - strlen(path) - 1);
				strncat(path, " -> ", sizeof(path) - strlen(path) - 1);
			}
			strncat(path, t->name, sizeof(path) - strlen(path) - 1);
			svc_err(cfg, s, s->after_line, "dependency cycle: %s",
			    path);
			for (k = start; k <= depth; k++)
				cfg->svcs[stack[k]]->errors++;
			continue;
		}
		if (color[j] == WHITE)
			cycle_visit(cfg, j, color, stack, depth + 1);
	}
	color[i] = BLACK;
	return 0;
}

static void
config_cross_check(struct config *cfg)
{
	uint8_t twin[16];
	size_t i, j, a, d, e;
	int *color;
	size_t *stack;

	networks_check(cfg);
	partition_check_pools(cfg);
	for (i = 0; i < cfg->nsvcs; i++) {
		struct service_conf *s = cfg->svcs[i];

		service_net_check(cfg, s);
		for (a = 0; a < s->nafter; a++) {
			if (strcmp(s->after[a], s->name) == 0)
				svc_err(cfg, s, s->after_line, "after: a service "
				    "cannot start after itself");
			else if (config_find(cfg, s->after[a]) == NULL)
				svc_err(cfg, s, s->after_line, "after: unknown "
				    "service '%s'", s->after[a]);
		}
		for (j = 0; j < i; j++) {
			struct service_conf *t = cfg->svcs[j];

			/* each service's domains take its UUID or the twin
			 * (a standby's: backend.h) */
			memcpy(twin, t->uuid, 16);
			twin[15] ^= 1;
			if (s->uuid_line && memcmp(s->uuid, t->uuid, 16) == 0)
				svc_err(cfg, s, s->uuid_line, "uuid: also used "
				    "by service '%s'", t->name);
			else if (s->uuid_line && memcmp(s->uuid, twin, 16) == 0)
				svc_err(cfg, s, s->uuid_line, "uuid: differs "
				    "only in the last bit from that of service "
				    "'%s', whose standby domains take it", t->name);
			services_net_cross(cfg, s, t);
			partition_check_cross(cfg, s, t);
			for (d = 0; d < s->ndisks; d++)
				for (e = 0; e < t->ndisks; e++) {
					struct disk_conf *x = &s->disks[d],
					    *y = &t->disks[e];

					if (x->path && y->path &&
					    strcmp(x->path, y->path) == 0 &&
					    (x->readwrite || y->readwrite))
						svc_err(cfg, s, x->line, "[disk:%s]: "
						    "%s is also used by service '%s'; "
						    "a shared disk must be ro in both",
						    x->name, x->path, t->name);
				}
		}
	}

	color = xcalloc(cfg->nsvcs, sizeof(*color));
	stack = xcalloc(cfg->nsvcs + 1, sizeof(*stack));
	for (i = 0; i < cfg->nsvcs; i++)
		if (color[i] == WHITE)
			cycle_visit(cfg, i, color, stack, 0);
	free(color);
	free(stack);
}

/* ---- top level ------------------------------------------------------------ */

static char *
path_join(const char *dir, const char *name)
{
	char *p;

	if (*name == '/' || strcmp(dir, ".") == 0)
		return xstrdup(name);
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		fatal("asprintf");
	return p;
}

static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d;

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	d = xstrdup(path);
	d[slash - path] = '\0';
	return d;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
load_services(struct config *cfg)
{
	char **names = NULL;
	size_t n = 0, i;
	struct dirent *de;
	DIR *dir;

	if ((dir = opendir(cfg->d.services_dir)) == NULL) {
		config_diag(cfg, cfg->d.services_dir, 0, 1, "cannot open "
		    "services directory: %s", strerror(errno));
		cfg->conf_errors++;
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len < 5 ||
		    strcmp(de->d_name + len - 4, ".ini") != 0)
			continue;
		names = reallocarray(names, n + 1, sizeof(*names));
		if (names == NULL)
			fatal("reallocarray");
		names[n++] = xstrdup(de->d_name);
	}
	closedir(dir);
	/* a stable order makes diagnostics reproducible */
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);

	for (i = 0; i < n; i++) {
		char *file = path_join(cfg->d.services_dir, names[i]);
		char *name = names[i];
		size_t len = 0;
		char *buf;
		int ferr = 0;

		name[strlen(name) - 4] = '\0';
		if (!name_valid(name, SERVICE_NAME_MAX)) {
			config_diag(cfg, file, 0, 1, "bad service name '%s': use "
			    "at most %d of A-Z a-z 0-9 _ . -", name,
			    SERVICE_NAME_MAX);
			free(file);
			free(name);
			continue;
		}
		buf = read_file(cfg, file, &len, &ferr);
		if (buf != NULL) {
			config_add_service(cfg, config_parse_service(cfg, name,
			    file, buf, len));
			free(buf);
		}
		free(file);
		free(name);
	}
	free(names);
}

/* An empty configuration with the defaults of domud.conf(5). */
struct config *
config_new(const char *path)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->path = xstrdup(path);
	cfg->d.state_dir = xstrdup("/var/lib/domud");
	cfg->d.run_dir = xstrdup("/run/domud");
	cfg->d.log_dir = xstrdup("/var/log/domud");
	cfg->d.console_log_max = 1 << 20;
	cfg->d.events_max = EVENTS_DEFAULT;
	cfg->d.metrics_interval_ms = 15000;
	cfg->d.kernel_cache_max = 256ULL << 20;
	cfg->d.read_group = xstrdup("domud");
	cfg->d.admin_group = xstrdup("domud-admin");
	cfg->d.shutdown_timeout_ms = 120000;
	cfg->d.keep_running = 0;
	return cfg;
}

void
config_add_service(struct config *cfg, struct service_conf *s)
{
	struct service_conf **n;

	n = reallocarray(cfg->svcs, cfg->nsvcs + 1, sizeof(*n));
	if (n == NULL)
		fatal("reallocarray");
	cfg->svcs = n;
	cfg->svcs[cfg->nsvcs++] = s;
}

/* checks across services, then a stable order */
void
config_finish(struct config *cfg)
{
	if (cfg->nsvcs > 0)
		qsort(cfg->svcs, cfg->nsvcs, sizeof(*cfg->svcs), svc_cmp);
	config_cross_check(cfg);
}

/* domud.conf's text (cfg->path's) into cfg */
void
config_parse_conf(struct config *cfg, const char *buf, size_t len)
{
	struct parse p;

	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.file = cfg->path;
	p.buf = buf;
	p.len = len;
	p.last_key = -1;
	parse_buffer(&p);
}

struct config *
config_load(const char *path)
{
	struct config *cfg = config_new(path);
	char *buf, *dir;
	size_t len = 0;
	int ferr = 0;

	dir = dir_of(path);
	if ((buf = read_file(cfg, path, &len, &ferr)) == NULL) {
		cfg->conf_errors++;
		free(dir);
		return cfg;
	}
	config_parse_conf(cfg, buf, len);
	free(buf);

	if (cfg->d.services_dir == NULL)
		cfg->d.services_dir = path_join(dir, "services.d");
	else if (cfg->d.services_dir[0] != '/') {
		char *abs = path_join(dir, cfg->d.services_dir);
		free(cfg->d.services_dir);
		cfg->d.services_dir = abs;
	}
	free(dir);
	load_services(cfg);
	config_finish(cfg);
	return cfg;
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nsvcs; i++)
		service_conf_free(cfg->svcs[i]);
	free(cfg->svcs);
	for (i = 0; i < cfg->ndiags; i++)
		free(cfg->diags[i].text);
	free(cfg->diags);
	free(cfg->d.services_dir);
	free(cfg->d.state_dir);
	free(cfg->d.run_dir);
	free(cfg->d.log_dir);
	free(cfg->d.run_images);
	free(cfg->d.metrics_file);
	free(cfg->d.read_group);
	free(cfg->d.admin_group);
	for (i = 0; i < cfg->nnets; i++) {
		free(cfg->nets[i]->name);
		free(cfg->nets[i]->bridge);
		free(cfg->nets[i]->uplink);
		free(cfg->nets[i]);
	}
	for (i = 0; i < cfg->npools; i++) {
		free(cfg->pools[i]->name);
		free(cfg->pools[i]);
	}
	free(cfg->path);
	free(cfg);
}

const char *
restart_policy_str(enum restart_policy r)
{
	switch (r) {
	case RESTART_NO:
		return "no";
	case RESTART_ON_FAILURE:
		return "on-failure";
	case RESTART_ALWAYS:
		return "always";
	}
	return "?";
}
