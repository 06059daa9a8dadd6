// SPDX-License-Identifier: GPL-2.0-or-later
/* The state-change history (events.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "base/json.h"
#include "base/sanitize.h"
#include "base/util.h"
#include "events.h"

void
events_init(struct events *ev, size_t cap)
{
	memset(ev, 0, sizeof(*ev));
	ev->next_seq = 1;
	events_resize(ev, cap);
}

void
events_free(struct events *ev)
{
	free(ev->ring);
	ev->ring = NULL;
	ev->cap = ev->n = ev->head = 0;
}

void
events_resize(struct events *ev, size_t cap)
{
	struct event *ring;
	size_t keep, i;

	if (cap < EVENTS_MIN)
		cap = EVENTS_MIN;
	if (cap > EVENTS_MAX)
		cap = EVENTS_MAX;
	if (cap == ev->cap)
		return;
	ring = xcalloc(cap, sizeof(*ring));
	keep = ev->n < cap ? ev->n : cap;
	for (i = 0; i < keep; i++)
		ring[i] = *events_at(ev, ev->n - keep + i);
	free(ev->ring);
	ev->ring = ring;
	ev->cap = cap;
	ev->n = keep;
	ev->head = 0;
}

const struct event *
events_at(const struct events *ev, size_t i)
{
	return &ev->ring[(ev->head + i) % ev->cap];
}

const struct event *
events_add(struct events *ev, const char *svc, const char *from,
    const char *to, const char *reason, const char *actor, uint64_t mono_ms)
{
	struct event *e;
	struct timeval tv;

	if (ev->n == ev->cap) {
		e = &ev->ring[ev->head];	/* the oldest goes */
		ev->head = (ev->head + 1) % ev->cap;
	} else
		e = &ev->ring[(ev->head + ev->n++) % ev->cap];
	memset(e, 0, sizeof(*e));
	e->seq = ev->next_seq++;
	e->mono_ms = mono_ms;
	gettimeofday(&tv, NULL);
	e->wall_ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
	strlcpy_(e->svc, svc, sizeof(e->svc));
	strlcpy_(e->from, from, sizeof(e->from));
	strlcpy_(e->to, to, sizeof(e->to));
	/* a reason may quote the guest (an agent's error): never raw */
	{
		char text[4 * sizeof(e->reason) + 1];
		size_t n = strlen(reason);

		if (n > sizeof(e->reason) - 1)
			n = sizeof(e->reason) - 1;
		sanitize_text(reason, n, text, 0);
		strlcpy_(e->reason, text, sizeof(e->reason));
	}
	strlcpy_(e->actor, actor, sizeof(e->actor));
	if (ev->tap)
		ev->tap(ev->tap_arg, e);
	return e;
}

void
events_json(const struct event *e, yajl_gen g)
{
	yajl_gen_map_open(g);
	gen_kv_int(g, "seq", (long long)e->seq);
	gen_kv_int(g, "time_ms", (long long)e->wall_ms);
	gen_kv_int(g, "boot_ms", (long long)e->mono_ms);
	gen_kv_str(g, "service", e->svc);
	gen_kv_str(g, "from", e->from);
	gen_kv_str(g, "to", e->to);
	gen_kv_str(g, "reason", e->reason);
	gen_kv_str(g, "actor", e->actor);
	yajl_gen_map_close(g);
}
