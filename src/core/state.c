// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * STATE_DIR/state.json: what Xen cannot tell a restarted domud within one
 * boot (failed services and why, services a person stopped, restart
 * counts). Written atomically (base/fileio) whenever a service comes to
 * rest; read once at start, after adoption, through the lifecycle table.
 * May call: the supervisor (service.h), base.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl_gen.h>
#include <yajl_tree.h>

#include "base/fileio.h"
#include "base/log.h"
#include "base/json.h"
#include "service.h"
#include "state.h"
#include "base/util.h"

const char *state_boot_id_path = "/proc/sys/kernel/random/boot_id";

static void
boot_id(char *buf, size_t sz)
{
	ssize_t n = -1;
	int fd;

	buf[0] = '\0';
	if ((fd = open(state_boot_id_path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, sz - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

int
state_save(struct supervisor *sup)
{
	const char *dir = sup->cfg->d.state_dir;
	char bid[64];
	const unsigned char *buf;
	struct err e = ERR_INIT;
	size_t len, i;
	yajl_gen g;
	int rc;

	boot_id(bid, sizeof(bid));
	if ((g = yajl_gen_alloc(NULL)) == NULL)
		return -1;
	yajl_gen_map_open(g);
	gen_kv_int(g, "v", STATE_VERSION);
	gen_kv_str(g, "boot_id", bid);
	gen_str(g, "services");
	yajl_gen_array_open(g);
	for (i = 0; i < sup->nsvcs; i++) {
		struct service *s = sup->svcs[i];

		yajl_gen_map_open(g);
		gen_kv_str(g, "name", s->conf->name);
		gen_kv_bool(g, "held", s->held);
		if (s->idle.state == IDLE_PAUSED)
			gen_kv_bool(g, "idle_paused", 1);
		if (s->state == ST_FAILED)
			gen_kv_str(g, "failed", s->failed_reason[0] ?
			    s->failed_reason : svc_exit_str(s->last_exit));
		gen_kv_int(g, "restarts", s->restarts);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	/* the cpupools domud answers for (core/pools.c) */
	gen_str(g, "pools");
	yajl_gen_array_open(g);
	for (i = 0; i < sup->npools_owned; i++)
		gen_str(g, sup->pools_owned[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);

	if ((rc = fileio_write_atomic(dir, STATE_FILE, buf, len, 0600,
	    &e)) == -1)
		log_warnx("state: %s", e.msg);
	yajl_gen_free(g);
	return rc;
}

void
state_load(struct supervisor *sup)
{
	const char *pv[] = { "v", NULL }, *pb[] = { "boot_id", NULL },
	    *ps[] = { "services", NULL }, *pn[] = { "name", NULL },
	    *ph[] = { "held", NULL }, *pf[] = { "failed", NULL },
	    *pr[] = { "restarts", NULL }, *pi[] = { "idle_paused", NULL },
	    *pp[] = { "pools", NULL };
	char path[1024], bid[64], err[128], *text = NULL;
	yajl_val root = NULL, v, arr;
	const char *str;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s", sup->cfg->d.state_dir, STATE_FILE);
	if ((text = fileio_read(path, STATE_MAX)) == NULL)
		return;
	if ((root = yajl_tree_parse(text, err, sizeof(err))) == NULL ||
	    (v = yajl_tree_get(root, pv, yajl_t_number)) == NULL ||
	    YAJL_GET_INTEGER(v) != STATE_VERSION) {
		log_warnx("state: %s: not a version %d state file; ignored", path,
		    STATE_VERSION);
		goto out;
	}
	boot_id(bid, sizeof(bid));
	v = yajl_tree_get(root, pb, yajl_t_string);
	if ((str = YAJL_GET_STRING(v)) == NULL || strcmp(str, bid) != 0) {
		log_info("state: from an earlier boot; starting afresh");
		goto out;
	}
	if ((arr = yajl_tree_get(root, pp, yajl_t_array)) != NULL)
		for (i = 0; i < json_len(arr); i++)
			if ((str = YAJL_GET_STRING(json_at(arr, i))) != NULL &&
			    name_valid(str, 32))
				sup_pools_owned_add(sup, str);
	if ((arr = yajl_tree_get(root, ps, yajl_t_array)) == NULL)
		goto out;
	for (i = 0; i < json_len(arr); i++) {
		yajl_val e = json_at(arr, i), name, held, failed,
		    restarts;
		struct service *s;

		name = yajl_tree_get(e, pn, yajl_t_string);
		if ((str = YAJL_GET_STRING(name)) == NULL ||
		    (s = sup_find(sup, str)) == NULL)
			continue;
		if ((restarts = yajl_tree_get(e, pr, yajl_t_number)) != NULL &&
		    YAJL_IS_INTEGER(restarts) && YAJL_GET_INTEGER(restarts) >= 0)
			s->restarts = (unsigned)YAJL_GET_INTEGER(restarts);
		/* paused by the domud before this one, for being idle: ours,
		 * not someone else's pause (adoption left it paused) */
		if (s->state == ST_RUNNING && s->conf->idle_action == IDLE_PAUSE &&
		    YAJL_IS_TRUE(yajl_tree_get(e, pi, yajl_t_any)))
			svc_idle_adopted(s);
		/* a domain that runs (adopted) outranks what was saved */
		if (s->state != ST_STOPPED)
			continue;
		held = yajl_tree_get(e, ph, yajl_t_any);
		s->held = held != NULL && YAJL_IS_TRUE(held);
		failed = yajl_tree_get(e, pf, yajl_t_string);
		if ((str = YAJL_GET_STRING(failed)) != NULL) {
			strlcpy_(s->failed_reason, str, sizeof(s->failed_reason));
			sup->restoring = 1;
			sup_dispatch(s, EV_RESTORE_FAILED, NULL);
			sup->restoring = 0;
		}
	}
out:
	yajl_tree_free(root);
	free(text);
}
