/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_CONF_PARSE_H
#define DOMUD_CONF_PARSE_H

/*
 * Inside src/conf: the state of one file's parse, which the reader
 * (parse.c), the key rows (keys.c, value.c, custom.c) and their
 * diagnostics (diag.c) share. Not for other folders: config.h is.
 */
#include <stddef.h>
#include <stdint.h>

#include <ini.h>

#include "config.h"

/* inih copies section and key names into buffers of this size, silently cut */
#define INIH_NAME_MAX	50
/* the entries one line's list can have: a byte and a separator each */
#define LIST_MAX	(INI_MAX_LINE / 2 + 1)
/* rows a table may have (the seen lines of a section) */
#define KEYS_MAX	96

enum line_kind { L_BLANK, L_SECTION, L_KEY, L_CONT, L_BAD };

/* the sections, a bit each: a key row says which it belongs to */
enum sect {
	S_NONE		= 0,
	S_IGNORE	= 1 << 0,	/* a bad header, reported */
	S_DOMUD		= 1 << 1,	/* domud.conf: [domud] */
	S_NETWORK	= 1 << 2,	/* [network:NAME] */
	S_POOL		= 1 << 3,	/* [cpupool:NAME] */
	S_SERVICE	= 1 << 4,	/* a service file: [service] */
	S_DISK		= 1 << 5,	/* [disk:NAME] */
	S_NET		= 1 << 6,	/* [net] */
};

struct key;

struct parse {
	struct config		*cfg;
	const char		*file;
	const char		*buf;
	size_t			 len, pos;
	int			 lineno;
	enum line_kind		 kind;
	char			 prev_key[INIH_NAME_MAX];

	enum sect		 sect;
	const struct key	*keys;		/* the file's table */
	size_t			 nkeys;
	int			 seen[KEYS_MAX]; /* line per row, this section */
	const struct key	*last_key;	/* for continuations, NULL = none */
	char			*seen_sect[SERVICE_MAX_DISKS + NETWORK_MAX +
				    CPUPOOLS_MAX + 8];
	size_t			 nseen_sect;

	struct service_conf	*svc;		/* NULL for domud.conf */
	struct disk_conf	*disk;
	struct net_conf		*net;		/* [network:NAME] */
	struct pool_conf	*pool;		/* [cpupool:NAME] */

	/* a list that goes on in continuation lines (value_list) */
	int			 list_open;	/* line a separator ended, or 0 */
	size_t			 list_has;	/* entries so far */
	const char		*list_key;
	char			 list_val[65];	/* for the message */
};

#endif
