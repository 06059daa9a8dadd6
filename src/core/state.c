// SPDX-License-Identifier: GPL-2.0-or-later
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl_gen.h>
#include <yajl_tree.h>

#include "base/log.h"
#include "proto/proto.h"
#include "service.h"
#include "state.h"
#include "base/util.h"

static void
boot_id(char *buf, size_t sz)
{
	ssize_t n = -1;
	int fd;

	buf[0] = '\0';
	if ((fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY |
	    O_CLOEXEC)) != -1) {
		n = read(fd, buf, sz - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* write, fsync, rename, fsync the directory: the file is old or new */
int
state_write_atomic(const char *dir, const char *name, const void *data,
    size_t len)
{
	char path[1024], tmp[1040];
	int fd, dfd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		log_warn("state: %s", tmp);
		return -1;
	}
	if (write_all(fd, data, len) == -1 || write_all(fd,
	    (const unsigned char *)"\n", 1) == -1 || fsync(fd) == -1) {
		log_warn("state: %s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	/* the rename is the commit; the directory fsync makes it durable */
	if (rename(tmp, path) == -1) {
		log_warn("state: rename %s", tmp);
		unlink(tmp);
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* a whole small file, NUL-terminated; NULL (logged unless missing) */
char *
state_read(const char *path, size_t max)
{
	struct stat st;
	char *text;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_warn("state: %s", path);
		return NULL;
	}
	if (fstat(fd, &st) == -1 || st.st_size > (off_t)max) {
		log_warnx("state: %s: unreadable or too large; ignored", path);
		close(fd);
		return NULL;
	}
	text = xcalloc(1, (size_t)st.st_size + 1);
	n = read(fd, text, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		log_warnx("state: %s: short read; ignored", path);
		free(text);
		return NULL;
	}
	return text;
}

int
state_save(struct supervisor *sup)
{
	const char *dir = sup->cfg->d.state_dir;
	char bid[64];
	const unsigned char *buf;
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
		if (s->state == ST_FAILED)
			gen_kv_str(g, "failed", s->failed_reason[0] ?
			    s->failed_reason : svc_exit_str(s->last_exit));
		gen_kv_int(g, "restarts", s->restarts);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);

	rc = state_write_atomic(dir, STATE_FILE, buf, len);
	yajl_gen_free(g);
	return rc;
}

void
state_load(struct supervisor *sup)
{
	const char *pv[] = { "v", NULL }, *pb[] = { "boot_id", NULL },
	    *ps[] = { "services", NULL }, *pn[] = { "name", NULL },
	    *ph[] = { "held", NULL }, *pf[] = { "failed", NULL },
	    *pr[] = { "restarts", NULL };
	char path[1024], bid[64], err[128], *text = NULL;
	yajl_val root = NULL, v, arr;
	const char *str;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s", sup->cfg->d.state_dir, STATE_FILE);
	if ((text = state_read(path, STATE_MAX)) == NULL)
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
	if ((arr = yajl_tree_get(root, ps, yajl_t_array)) == NULL)
		goto out;
	for (i = 0; i < YAJL_GET_ARRAY(arr)->len; i++) {
		yajl_val e = YAJL_GET_ARRAY(arr)->values[i], name, held, failed,
		    restarts;
		struct service *s;

		name = yajl_tree_get(e, pn, yajl_t_string);
		if ((str = YAJL_GET_STRING(name)) == NULL ||
		    (s = sup_find(sup, str)) == NULL)
			continue;
		if ((restarts = yajl_tree_get(e, pr, yajl_t_number)) != NULL &&
		    YAJL_IS_INTEGER(restarts) && YAJL_GET_INTEGER(restarts) >= 0)
			s->restarts = (unsigned)YAJL_GET_INTEGER(restarts);
		/* a domain that runs (adopted) outranks what was saved */
		if (s->state != ST_STOPPED)
			continue;
		held = yajl_tree_get(e, ph, yajl_t_any);
		s->held = held != NULL && YAJL_IS_TRUE(held);
		failed = yajl_tree_get(e, pf, yajl_t_string);
		if ((str = YAJL_GET_STRING(failed)) != NULL) {
			strlcpy_(s->failed_reason, str, sizeof(s->failed_reason));
			s->state = ST_FAILED;
		}
	}
out:
	yajl_tree_free(root);
	free(text);
}
