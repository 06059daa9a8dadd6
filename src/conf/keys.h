/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_CONF_KEYS_H
#define DOMUD_CONF_KEYS_H

/*
 * Inside src/conf: the key tables. A service file's keys ([service],
 * [disk:NAME], [net]) are one table, domud.conf's ([domud],
 * [network:NAME], [cpupool:NAME]) another; a row says all there is of a
 * key: its sections, its type and range (or the parser of an odd one),
 * where it is stored and where its line is, its default and one line of
 * help. Parsing, duplicates, continuations, defaults, freeing and the
 * test against the man pages read the rows.
 */
#include <stddef.h>
#include <stdint.h>

#include "parse.h"

enum key_type {
	KT_STR,		/* any text; KF_MULTI: continuations join with a blank */
	KT_PATH,	/* an absolute path */
	KT_NAME,	/* name_valid(v, max), else why */
	KT_BOOL,	/* yes/no..., an int */
	KT_UINT,	/* min to max; below min: why, or "out of range" */
	KT_DURATION,	/* milliseconds, min to max, a uint64_t */
	KT_SIZE,	/* bytes, min to max (KF_ZERO: or 0; low: below min) */
	KT_ENUM,	/* one of names, whose index is the value (NULL: none) */
	KT_CUSTOM,	/* fn parses and stores */
};

#define KF_MULTI	0x1	/* takes continuation lines */
#define KF_LINE_IF_SET	0x2	/* its line is kept only for a good value */
#define KF_ZERO		0x4	/* KT_SIZE: 0 is allowed below min */

/* what a value came to */
#define KEY_BAD		(-1)	/* said */
#define KEY_SET		0	/* stored */
#define KEY_AUTO	1	/* the default named ("auto"): no line kept */

struct key;
/* a custom row's parser: obj is the section's struct (service_conf for
 * [service] and [net], disk_conf, daemon_conf, net_conf, pool_conf) */
typedef int key_fn(struct parse *, const struct key *, void *obj,
    const char *v);

struct key {
	const char	*name;
	unsigned	 sects;		/* enum sect bits */
	enum key_type	 type;
	size_t		 off;		/* of the value in obj */
	size_t		 size;		/* of the value: 4 or 8 for numbers */
	int		 has_line;
	size_t		 line_off;	/* of its int *_line in obj */
	uint64_t	 min, max;	/* KT_UINT, _DURATION, _SIZE; KT_NAME:
					 * max is the length */
	const char *const *names;	/* KT_ENUM */
	size_t		 nnames;
	const char	*why;		/* KT_NAME, KT_UINT: see above */
	const char	*low;		/* KT_SIZE: said of a value below min */
	key_fn		*fn;		/* KT_CUSTOM */
	const char	*def;		/* the default, as a file says it;
					 * NULL: zero (or computed) */
	int		 flags;		/* KF_* */
	const char	*help;		/* one line */
};

extern const struct key	 keys_service[];	/* a service file */
extern const size_t	 keys_service_n;
extern const struct key	 keys_conf[];		/* domud.conf */
extern const size_t	 keys_conf_n;

/* keys.c: the generic row handling */
const struct key *keys_find(const struct key *, size_t n, unsigned sects,
		    const char *name);
/* a key line or a continuation line of the section being parsed */
void		 keys_line(struct parse *, const char *name, const char *v);
/* the rows' defaults into obj, or their strings freed */
void		 keys_defaults(const struct key *, size_t n, unsigned sects,
		    void *obj);
void		 keys_free(const struct key *, size_t n, unsigned sects,
		    void *obj);

/* value.c: typed values, with the parse's diagnostics (p NULL: silent) */
int		 value_set(struct parse *, const struct key *, void *obj,
		    const char *v);
/* "expected a, b or c" for an enum row */
void		 value_expected(const struct key *, char *, size_t);
void		 value_set_str(char **dst, const char *v);
void		 value_append_str(char **dst, const char *v);
int		 value_list(struct parse *, const char *key, const char *v,
		    int sep, int blanks, int multi, char *buf, size_t bufsz,
		    char **ent, size_t *n);
void		 value_list_end(struct parse *);
uint32_t	 value_prefix_mask(unsigned prefix);

/* custom.c: the keys a type cannot say */
key_fn		 custom_after, custom_health, custom_uuid, custom_cpus,
		 custom_update_data, custom_cpus_soft, custom_rtds_us, custom_pci, custom_dtdev,
		 custom_iomem, custom_irqs, custom_vdev, custom_format,
		 custom_ip, custom_mac, custom_forward, custom_subnet,
		 custom_gateway, custom_uplink, custom_dns, custom_pool_cpus;

#endif
