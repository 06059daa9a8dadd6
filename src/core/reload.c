// SPDX-License-Identifier: GPL-2.0-or-later
/* A new configuration, applied to the running supervisor. */
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "boot/kcache.h"
#include "base/log.h"
#include "supervisor.h"
#include "base/util.h"

void
sup_reload(struct supervisor *sup, struct config *cfg)
{
	struct service **nsvcs, **dead;
	struct err e = ERR_INIT;
	size_t i, n = 0, ndead = 0;

	sup->now = mono_ms();
	sup->reloading = 1;
	/* new pools before the services that run in them start */
	{
		struct config *old = sup->cfg;

		sup->cfg = cfg;
		sup_pools_sync(sup);
		sup->cfg = old;
	}
	nsvcs = xcalloc(cfg->nsvcs + sup->nsvcs, sizeof(*nsvcs));
	dead = xcalloc(sup->nsvcs + 1, sizeof(*dead));
	/* services gone from the configuration stop, then are dropped (the
	 * ones at rest at the end: until then sup->svcs still lists them) */
	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];

		if (config_find(cfg, s->conf->name) != NULL)
			continue;
		log_info("%s: removed from the configuration", s->conf->name);
		if (s->state == ST_STOPPED || s->state == ST_FAILED) {
			dead[ndead++] = s;
			continue;
		}
		if (s->state != ST_STOPPING && s->state != ST_DESTROYING &&
		    sup_stop(sup, s, &e) == -1)
			log_warnx("%s: stop: %s", s->conf->name, e.msg);
		s->after = AFTER_REMOVE;
		nsvcs[n++] = s;
	}
	for (i = 0; i < cfg->nsvcs; i++) {
		struct service_conf *c = cfg->svcs[i];
		struct service *s = sup_find(sup, c->name);

		cfg->svcs[i] = NULL;
		if (s == NULL) {
			s = svc_new(sup, c);
			log_info("%s: new service", c->name);
			if (c->autostart && !c->errors)
				sup_dispatch(s, EV_AUTOSTART, NULL);
		} else if (service_conf_same_domain(s->conf, c) ||
		    s->state == ST_STOPPED || s->state == ST_FAILED) {
			if (!service_conf_same_domain(s->conf, c))
				(void)standby_dispatch(s, SBE_STALE, NULL);
			/* policy, timeouts, ordering: apply in place */
			int probe = s->conf->health != c->health ||
			    s->conf->health_port != c->health_port ||
			    strcmp(s->conf->health_cmd ? s->conf->health_cmd :
			    "", c->health_cmd ? c->health_cmd : "") != 0;

			service_conf_free(s->pending_conf);
			s->pending_conf = NULL;
			if (probe)	/* the probe under way is the old one's */
				health_end(s);
			service_conf_free(s->conf);
			s->conf = c;
			update_reconf(s);
			if (probe && s->state == ST_RUNNING) {
				health_begin(s);
				if (s->ready)
					health_agent_ready(s);
			}
		} else {
			log_info("%s: definition changed: restarting",
			    c->name);
			(void)standby_dispatch(s, SBE_STALE, NULL);
			service_conf_free(s->pending_conf);
			s->pending_conf = c;
			if (s->state == ST_RUNNING)
				sup_dispatch(s, EV_RESTART, NULL);
		}
		nsvcs[n++] = s;
	}
	cfg->nsvcs = 0;
	free(sup->svcs);
	sup->svcs = nsvcs;
	sup->nsvcs = n;
	for (i = 0; i < ndead; i++)
		svc_free(dead[i]);
	free(dead);
	qsort(sup->svcs, sup->nsvcs, sizeof(*sup->svcs), svc_cmp_name);
	config_free(sup->cfg);
	sup->cfg = cfg;
	sup->reloading = 0;
	events_resize(&sup->events, cfg->d.events_max);
	kcache_set_max(sup->kcache, cfg->d.kernel_cache_max);
	sup_kick_waiting(sup);
}
