// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * STATE_DIR/state.json: what Xen cannot tell a restarted domud within one
 * boot (failed services and why, services a person stopped, restart
 * counts, the cpupools domud owns). Written atomically (base/fileio)
 * whenever a service comes to rest; read once at start, after adoption.
 * The format only: records in, records out (the supervisor's side is
 * persist.c). May call: base.
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
#include "conf/config.h"
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
state_write(const char *dir, const struct state_rec *recs, size_t n,
    const char (*pools)[64], size_t npools)
{
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
	for (i = 0; i < n; i++) {
		yajl_gen_map_open(g);
		gen_kv_str(g, "name", recs[i].name);
		gen_kv_bool(g, "held", recs[i].held);
		if (recs[i].idle_paused)
			gen_kv_bool(g, "idle_paused", 1);
		if (recs[i].failed)
			gen_kv_str(g, "failed", recs[i].failed);
		gen_kv_int(g, "restarts", recs[i].restarts);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	/* the cpupools domud answers for (core/pools.c) */
	gen_str(g, "pools");
	yajl_gen_array_open(g);
	for (i = 0; i < npools; i++)
		gen_str(g, pools[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);

	if ((rc = fileio_write_atomic(dir, STATE_FILE, buf, len, 0600,
	    &e)) == -1)
		log_warnx("state: %s", e.msg);
	yajl_gen_free(g);
	return rc;
}

/* the services' records of the tree (their strings stay in it) */
static void
state_recs(yajl_val arr, struct state_file *sf)
{
	const char *pn[] = { "name", NULL }, *ph[] = { "held", NULL },
	    *pf[] = { "failed", NULL }, *pr[] = { "restarts", NULL },
	    *pi[] = { "idle_paused", NULL };
	const char *str;
	size_t i;

	sf->recs = xcalloc(json_len(arr) + 1, sizeof(*sf->recs));
	for (i = 0; i < json_len(arr); i++) {
		yajl_val e = json_at(arr, i), restarts, held;
		struct state_rec *r = &sf->recs[sf->nrecs];

		if ((str = YAJL_GET_STRING(yajl_tree_get(e, pn,
		    yajl_t_string))) == NULL)
			continue;
		strlcpy_(r->name, str, sizeof(r->name));
		if ((restarts = yajl_tree_get(e, pr, yajl_t_number)) != NULL &&
		    YAJL_IS_INTEGER(restarts) && YAJL_GET_INTEGER(restarts) >= 0) {
			r->has_restarts = 1;
			r->restarts = (unsigned)YAJL_GET_INTEGER(restarts);
		}
		r->idle_paused = YAJL_IS_TRUE(yajl_tree_get(e, pi, yajl_t_any));
		held = yajl_tree_get(e, ph, yajl_t_any);
		r->held = held != NULL && YAJL_IS_TRUE(held);
		r->failed = YAJL_GET_STRING(yajl_tree_get(e, pf, yajl_t_string));
		sf->nrecs++;
	}
}

int
state_read(const char *dir, struct state_file *sf)
{
	const char *pv[] = { "v", NULL }, *pb[] = { "boot_id", NULL },
	    *ps[] = { "services", NULL }, *pp[] = { "pools", NULL };
	char path[1024], bid[64], err[128], *text = NULL;
	yajl_val root = NULL, v, arr;
	const char *str;
	size_t i;
	int rc = -1;

	memset(sf, 0, sizeof(*sf));
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	if ((text = fileio_read(path, STATE_MAX)) == NULL)
		return -1;
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
	if ((arr = yajl_tree_get(root, pp, yajl_t_array)) != NULL) {
		sf->pools = xcalloc(json_len(arr) + 1, sizeof(*sf->pools));
		for (i = 0; i < json_len(arr); i++)
			if ((str = YAJL_GET_STRING(json_at(arr, i))) != NULL &&
			    name_valid(str, 32))
				strlcpy_(sf->pools[sf->npools++], str,
				    sizeof(sf->pools[0]));
	}
	if ((arr = yajl_tree_get(root, ps, yajl_t_array)) != NULL)
		state_recs(arr, sf);
	sf->tree = root;
	root = NULL;
	rc = 0;
out:
	yajl_tree_free(root);
	free(text);
	return rc;
}

void
state_file_free(struct state_file *sf)
{
	free(sf->recs);
	free(sf->pools);
	yajl_tree_free(sf->tree);
	memset(sf, 0, sizeof(*sf));
}
