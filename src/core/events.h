/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_EVENTS_H
#define DOMUD_EVENTS_H

/*
 * The history of state changes: a bounded ring in memory, shown by
 * `domuctl events` and streamed to its followers. Not a database: it is
 * lost with the daemon; syslog has one line per event as well.
 */
#include <stddef.h>
#include <stdint.h>

#include <yajl_gen.h>

#include "conf/config.h"	/* EVENTS_DEFAULT, _MIN, _MAX: events_max */


struct event {
	uint64_t	 seq;		/* from 1, never reused */
	uint64_t	 mono_ms;	/* since boot: orders events safely */
	int64_t		 wall_ms;	/* for display */
	char		 svc[49];
	char		 from[16], to[16];
	char		 reason[160];	/* neutralised */
	char		 actor[32];	/* "uid N", "policy", "guest", ... */
};

struct events {
	struct event	*ring;
	size_t		 cap, n, head;	/* head: the oldest */
	uint64_t	 next_seq;
	/* every new event, for the followers */
	void		(*tap)(void *, const struct event *);
	void		*tap_arg;
};

void	events_init(struct events *, size_t cap);
void	events_free(struct events *);
/* a new capacity keeps the newest events that fit */
void	events_resize(struct events *, size_t cap);
const struct event *events_add(struct events *, const char *svc,
	    const char *from, const char *to, const char *reason,
	    const char *actor, uint64_t mono_ms);
/* the i-th oldest kept, i < n */
const struct event *events_at(const struct events *, size_t i);
void	events_json(const struct event *, yajl_gen);

#endif
