// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * An update's status as `domuctl update status` and `status SVC` show it:
 * the slots, the trial, the last result, the data volumes. Reads the
 * service's svc_update only (update.c writes it).
 */
#include <stdio.h>

#include "base/json.h"
#include "supervisor.h"

static const char *const slot_names[UPD_SLOTS] = { "a", "b" };

/* ---- status ------------------------------------------------------------- */

void
update_slot_json(const struct upd_slot *sl, const char *name, yajl_gen g)
{
	char hex[2 * SLOT_SHA256_LEN + 1];
	size_t i;

	yajl_gen_map_open(g);
	gen_kv_str(g, "name", name);
	gen_kv_str(g, "state", upd_slot_state_str(sl->state));
	if (sl->state != SL_FACTORY && sl->state != SL_EMPTY) {
		gen_kv_str(g, "version", sl->m.version);
		gen_kv_bool(g, "signed", sl->is_signed);
		gen_kv_int(g, "staged", sl->staged_wall);
		if (sl->m.has_cmdline)
			gen_kv_str(g, "cmdline", sl->m.cmdline);
	}
	if (sl->why[0])
		gen_kv_str(g, "why", sl->why);
	gen_str(g, "files");
	yajl_gen_array_open(g);
	for (i = 0; i < sl->m.nfiles; i++) {
		yajl_gen_map_open(g);
		gen_kv_str(g, "name", sl->m.files[i].name);
		gen_kv_int(g, "size", (long long)sl->m.files[i].size);
		slot_hex(sl->m.files[i].sha256, hex);
		gen_kv_str(g, "sha256", hex);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

void
update_active_json(const struct service *s, yajl_gen g)
{
	const struct svc_update *u = &s->upd;

	gen_kv_str(g, "slot", slot_names[u->active]);
	gen_kv_str(g, "version", upd_slot_version(&u->slots[u->active]));
	gen_kv_int(g, "window_s", (long long)(s->conf->update_window_ms /
	    1000));
}

void
update_json(const struct service *s, yajl_gen g)
{
	const struct svc_update *u = &s->upd;
	int i;

	yajl_gen_map_open(g);
	gen_kv_str(g, "name", s->conf->name);
	gen_kv_str(g, "state", upd_state_str(u->state));
	gen_kv_str(g, "active", slot_names[u->active]);
	if (u->state == UPS_TRIAL) {
		uint64_t now = s->sup->now;

		gen_str(g, "trial");
		yajl_gen_map_open(g);
		gen_kv_str(g, "slot", slot_names[u->active]);
		gen_kv_bool(g, "window_started", u->trial_end != 0);
		if (u->ahead != AHEAD_NONE)
			gen_kv_str(g, "domain", s->sb.state == SB_BOOTING ?
			    "booting ahead" : u->ahead == AHEAD_BUILDING ?
			    "building ahead" : u->ahead == AHEAD_BOOTED ?
			    "booted, handing over" : s->sb.booted ?
			    "booted, the old one stops" :
			    "built, the old one stops");
		gen_kv_int(g, "ends_in_s", u->trial_end == 0 ?
		    (long long)(s->conf->update_window_ms / 1000) :
		    u->trial_end > now ? (long long)((u->trial_end - now +
		    999) / 1000) : 0);
		gen_kv_str(g, "health", s->conf->health == HEALTH_NONE ?
		    "none" : health_state_str(s->health.state));
		yajl_gen_map_close(g);
	}
	if (u->last_result[0]) {
		gen_str(g, "last");
		yajl_gen_map_open(g);
		gen_kv_str(g, "result", u->last_result);
		gen_kv_str(g, "reason", u->last_reason);
		gen_kv_int(g, "wall", u->last_wall);
		yajl_gen_map_close(g);
	}
	gen_str(g, "slots");
	yajl_gen_array_open(g);
	for (i = 0; i < UPD_SLOTS; i++)
		update_slot_json(&u->slots[i], slot_names[i], g);
	yajl_gen_array_close(g);
	if (s->conf->nupdate_data || u->ndata) {
		char snap[UPD_DATA_PATH + 16];
		size_t k;

		gen_str(g, "data");
		yajl_gen_array_open(g);
		for (k = 0; k < s->conf->nupdate_data; k++) {
			yajl_gen_map_open(g);
			gen_kv_str(g, "vdev", s->conf->update_data[k]);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		gen_str(g, "snapshots");
		yajl_gen_array_open(g);
		for (k = 0; k < u->ndata; k++) {
			yajl_gen_map_open(g);
			gen_kv_str(g, "vdev", u->data[k].vdev);
			gen_kv_str(g, "path", u->data[k].path);
			snprintf(snap, sizeof(snap), "%s%s", u->data[k].path,
			    UPD_SNAP_SUFFIX);
			gen_kv_str(g, "snapshot", snap);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
}
