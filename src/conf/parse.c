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
 * continuation; the key tables (keys.c) take it from there. Every problem is
 * counted; parsing never stops at the first. Then the checks (check.c).
 * The top of src/conf.
 * May call: keys, check, value, diag, config, base.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>
#include <uuid/uuid.h>

#include "check.h"
#include "diag.h"
#include "keys.h"
#include "base/log.h"
#include "base/util.h"

/* A fixed namespace for name-based service UUIDs (uuid v5). */
static const uint8_t domud_uuid_ns[16] = {
	0x6b, 0x1d, 0x2f, 0x0e, 0x8a, 0x4c, 0x4f, 0x21,
	0x9c, 0x53, 0x0d, 0x75, 0x6d, 0x75, 0x64, 0x00
};

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
	value_list_end(p);
	if (*start == '[') {
		end = find_chars_or_comment(start + 1, "]");
		if (*end != ']') {
			p->kind = L_BAD;
			diag_parse(p, "section header without closing ']'");
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
			diag_parse(p, "expected 'key = value'");
			goto bad;
		}
		*end = '\0';
		rstrip(start);
		if (strlen(start) >= INIH_NAME_MAX) {
			p->kind = L_BAD;
			diag_parse(p, "key name too long");
			goto bad;
		}
		p->kind = L_KEY;
		strlcpy_(p->prev_key, start, sizeof(p->prev_key));
	}
	return;
bad:
	/* inih never sees this line, so its idea of the previous key stays;
	 * ours too, but continuations of it are dropped (already reported) */
	p->last_key = NULL;
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
		p->last_key = NULL;
		diag_parse(p, "line contains a NUL byte");
		memcpy(str, ";\n", 3);
		return str;
	}
	if (n > max) {
		p->kind = L_BAD;
		diag_parse(p, "line too long (%zu bytes, at most %zu): continue long "
		    "values on indented lines", n, max);
		p->last_key = NULL;	/* drop its continuations */
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

/* ---- sections and keys ------------------------------------------------- */

/* [domud], [network:NAME], [cpupool:NAME] of domud.conf */
static void
sect_conf(struct parse *p, const char *name)
{
	struct net_conf *n;
	struct pool_conf *pc;

	if (strcmp(name, "domud") == 0)
		p->sect = S_DOMUD;
	else if (strncmp(name, "network:", 8) == 0) {
		if (!name_valid(name + 8, 32)) {
			diag_parse(p, "bad network name in [%s]", name);
			return;
		}
		if (p->cfg->nnets >= NETWORK_MAX) {
			diag_parse(p, "too many networks (at most %d)",
			    NETWORK_MAX);
			return;
		}
		n = xcalloc(1, sizeof(*n));
		n->name = xstrdup(name + 8);
		n->line = p->lineno;
		keys_defaults(keys_conf, keys_conf_n, S_NETWORK, n);
		p->cfg->nets[p->cfg->nnets++] = n;
		p->net = n;
		p->sect = S_NETWORK;
	} else if (strncmp(name, "cpupool:", 8) == 0) {
		if (!name_valid(name + 8, 32) ||
		    strcmp(name + 8, "Pool-0") == 0) {
			diag_parse(p, "bad cpupool name in [%s]%s", name,
			    strcmp(name + 8, "Pool-0") == 0 ? ": Pool-0 "
			    "is Xen's own" : "");
			return;
		}
		if (p->cfg->npools >= CPUPOOLS_MAX) {
			diag_parse(p, "too many cpupools (at most %d)",
			    CPUPOOLS_MAX);
			return;
		}
		pc = xcalloc(1, sizeof(*pc));
		pc->name = xstrdup(name + 8);
		pc->line = p->lineno;
		keys_defaults(keys_conf, keys_conf_n, S_POOL, pc);
		p->cfg->pools[p->cfg->npools++] = pc;
		p->pool = pc;
		p->sect = S_POOL;
	} else
		diag_parse(p, "unknown section [%s]", name);
}

/* [service], [net], [disk:NAME] of a service file */
static void
sect_service(struct parse *p, const char *name)
{
	struct disk_conf *d;

	if (strcmp(name, "service") == 0) {
		p->sect = S_SERVICE;
		p->svc->line = p->lineno;
	} else if (strcmp(name, "net") == 0) {
		p->sect = S_NET;
		p->svc->has_net = 1;
		p->svc->net_line = p->lineno;
	} else if (strncmp(name, "disk:", 5) == 0) {
		if (!name_valid(name + 5, 32)) {
			diag_parse(p, "bad disk name in [%s]", name);
			return;
		}
		if (p->svc->ndisks >= SERVICE_MAX_DISKS) {
			diag_parse(p, "too many disks (at most %d)",
			    SERVICE_MAX_DISKS);
			return;
		}
		d = &p->svc->disks[p->svc->ndisks++];
		d->name = xstrdup(name + 5);
		d->line = p->lineno;
		keys_defaults(keys_service, keys_service_n, S_DISK, d);
		p->disk = d;
		p->sect = S_DISK;
	} else
		diag_parse(p, "unknown section [%s]", name);
}

static void
sect_begin(struct parse *p, const char *name)
{
	size_t i;

	memset(p->seen, 0, sizeof(p->seen));
	p->last_key = NULL;
	p->disk = NULL;
	p->net = NULL;
	p->pool = NULL;
	p->sect = S_IGNORE;
	if (strlen(name) >= INIH_NAME_MAX) {
		diag_parse(p, "section name too long");
		return;
	}
	for (i = 0; i < p->nseen_sect; i++)
		if (strcmp(p->seen_sect[i], name) == 0) {
			diag_parse(p, "duplicate section [%s]", name);
			return;
		}
	if (p->nseen_sect < nitems(p->seen_sect))
		p->seen_sect[p->nseen_sect++] = xstrdup(name);
	if (p->svc == NULL)
		sect_conf(p, name);
	else
		sect_service(p, name);
}

static int
config_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct parse *p = user;
	char cont[INI_MAX_LINE + 1];

	(void)section;
	if (p->sect == S_IGNORE)
		return 1;		/* the header was reported */
	if (p->sect == S_NONE) {
		if (p->kind == L_KEY)
			diag_parse(p, "'%s' outside of any section", name);
		return 1;
	}
	if (p->kind == L_CONT && p->last_key != NULL) {
		/* some inih versions keep inline comments on continuations */
		strlcpy_(cont, value, sizeof(cont));
		*find_chars_or_comment(cont, NULL) = '\0';
		value = rstrip(cont);
	}
	keys_line(p, name, value);
	return 1;
}

static void
parse_buffer(struct parse *p)
{
	size_t i;

	/* the return value only repeats what the reader and handler reported */
	(void)ini_parse_stream(config_reader, p, config_handler, p);
	value_list_end(p);
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

	keys_defaults(keys_service, keys_service_n, S_SERVICE | S_NET, s);
	/* stable across daemon restarts and reinstalls: derived from the name */
	uuid_generate_sha1(u, domud_uuid_ns, name, strlen(name));
	memcpy(s->uuid, u, 16);
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
	p.keys = keys_service;
	p.nkeys = keys_service_n;
	parse_buffer(&p);
	check_service(cfg, s);
	return s;
}

void
service_conf_free(struct service_conf *s)
{
	size_t i;

	if (s == NULL)
		return;
	keys_free(keys_service, keys_service_n, S_SERVICE | S_NET, s);
	free(s->name);
	free(s->file);
	for (i = 0; i < s->nafter; i++)
		free(s->after[i]);
	for (i = 0; i < s->nupdate_data; i++)
		free(s->update_data[i]);
	for (i = 0; i < s->ndisks; i++) {
		keys_free(keys_service, keys_service_n, S_DISK, &s->disks[i]);
		free(s->disks[i].name);
		free(s->disks[i].vdev);
	}
	free(s->health_cmd);
	free(s->cpus);
	free(s->cpus_soft);
	for (i = 0; i < s->ndtdev; i++)
		free(s->dtdev[i]);
	free(s);
}

static int
svc_cmp(const void *a, const void *b)
{
	const struct service_conf *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
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
	keys_defaults(keys_conf, keys_conf_n, S_DOMUD, &cfg->d);
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
	check_config(cfg);
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
	p.keys = keys_conf;
	p.nkeys = keys_conf_n;
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
	keys_free(keys_conf, keys_conf_n, S_DOMUD, &cfg->d);
	for (i = 0; i < cfg->nnets; i++) {
		keys_free(keys_conf, keys_conf_n, S_NETWORK, cfg->nets[i]);
		free(cfg->nets[i]->name);
		free(cfg->nets[i]->uplink);
		free(cfg->nets[i]);
	}
	for (i = 0; i < cfg->npools; i++) {
		keys_free(keys_conf, keys_conf_n, S_POOL, cfg->pools[i]);
		free(cfg->pools[i]->name);
		free(cfg->pools[i]);
	}
	free(cfg->path);
	free(cfg);
}
