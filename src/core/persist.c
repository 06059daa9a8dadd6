// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The supervisor's side of state.json (state.c knows the format): the
 * services' records from them, and back to them at start, through the
 * lifecycle table and the idle machine's events.
 */
#include <stdlib.h>

#include "state.h"
#include "supervisor.h"
#include "base/util.h"

int
sup_save(struct supervisor *sup)
{
	struct state_rec *recs;
	size_t i;
	int rc;

	recs = xcalloc(sup->nsvcs + 1, sizeof(*recs));
	for (i = 0; i < sup->nsvcs; i++) {
		const struct service *s = sup->svcs[i];
		struct state_rec *r = &recs[i];

		strlcpy_(r->name, s->conf->name, sizeof(r->name));
		r->held = s->held;
		r->idle_paused = s->idle.state == IDLE_PAUSED;
		if (s->state == ST_FAILED)
			r->failed = s->failed_reason[0] ? s->failed_reason :
			    svc_exit_str(s->last_exit);
		r->restarts = s->restarts;
	}
	rc = state_write(sup->cfg->d.state_dir, recs, sup->nsvcs,
	    (const char (*)[64])sup->pools_owned, sup->npools_owned);
	free(recs);
	return rc;
}

/* apply a saved state to services that are stopped; missing is fine */
void
sup_load(struct supervisor *sup)
{
	struct state_file sf;
	struct service *s;
	size_t i;

	/* after adoption: a trial whose domain runs goes on */
	for (i = 0; i < sup->nsvcs; i++)
		update_resume(sup->svcs[i]);
	if (state_read(sup->cfg->d.state_dir, &sf) == -1)
		return;
	for (i = 0; i < sf.npools; i++)
		pools_owned_add(sup, sf.pools[i]);
	for (i = 0; i < sf.nrecs; i++) {
		const struct state_rec *r = &sf.recs[i];

		if ((s = sup_find(sup, r->name)) == NULL)
			continue;
		if (r->has_restarts)
			s->restarts = r->restarts;
		/* paused by the domud before this one, for being idle: ours,
		 * not someone else's pause (adoption left it paused) */
		if (s->state == ST_RUNNING && s->conf->idle_action == IDLE_PAUSE &&
		    r->idle_paused)
			svc_idle_adopted(s);
		/* a domain that runs (adopted) outranks what was saved */
		if (s->state != ST_STOPPED)
			continue;
		s->held = r->held;
		if (r->failed) {
			strlcpy_(s->failed_reason, r->failed,
			    sizeof(s->failed_reason));
			sup->restoring = 1;
			sup_dispatch(s, EV_RESTORE_FAILED, NULL);
			sup->restoring = 0;
		}
	}
	state_file_free(&sf);
}
