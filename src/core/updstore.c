// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The slot store of a service (STATE_DIR/update/NAME): update.json, the
 * record of which slot runs and where each stands, and one directory per
 * staged slot (boot/slot.c makes them). The record is the only truth: a
 * directory it does not name is a stage cut short, or replaced, and goes.
 * A stage runs on a thread of its own (copying a disk image must not
 * stall the loop) and tells the loop through a pipe; the loop joins it.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <yajl_tree.h>

#include "base/fileio.h"
#include "base/json.h"
#include "base/log.h"
#include "base/util.h"
#include "supervisor.h"

#define UPD_RECORD	"update.json"
#define UPD_RECORD_MAX	(64 * 1024)
#define UPD_LOG		"console.log"
#define UPD_LOG_MAX	(256 * 1024)
/* room a stage leaves on the store's filesystem */
#define UPD_FREE_KEEP	(16ull << 20)
/* a refusal of a stage: said in why, -1 */
#define REFUSE(...)	(msgf(why, whysz, __VA_ARGS__), -1)

static const char *const slot_names[UPD_SLOTS] = { "a", "b" };

static int
write_atomic(const char *dir, const char *name, const void *buf, size_t len,
    struct err *e)
{
	return fileio_write_atomic(dir, name, buf, len, 0600, e);
}

int (*upd_write_hook)(const char *, const char *, const void *, size_t,
    struct err *) = write_atomic;

struct upd_stage {
	pthread_t		 thread;
	int			 pipe[2];
	int			 dirfd;
	char			 gen[48];
	int			 slot;
	struct slot_src		 src[SLOT_FILES_MAX];
	char			 names[SLOT_FILES_MAX][SLOT_FILE_NAME_MAX];
	size_t			 nsrc;
	int			 manifest_fd, sig_fd;
	char			*pub;		/* update_key's text; NULL */
	size_t			 publen;
	uint64_t		 max_bytes;
	int			 cancel;	/* atomic: the service goes */
	/* the thread's answer */
	int			 rc;
	struct err		 e;
	struct slot_manifest	 got;
	int			 is_signed;
};

static void
gen_slot(yajl_gen g, const struct upd_slot *sl)
{
	char *m;
	size_t len;

	yajl_gen_map_open(g);
	gen_kv_str(g, "state", upd_slot_state_str(sl->state));
	gen_kv_str(g, "gen", sl->gen);
	gen_kv_bool(g, "signed", sl->is_signed);
	gen_kv_int(g, "staged", sl->staged_wall);
	gen_kv_str(g, "why", sl->why);
	if (sl->gen[0] && (m = slot_manifest_json(&sl->m, &len)) != NULL) {
		gen_kv_str(g, "manifest", m);
		free(m);
	}
	yajl_gen_map_close(g);
}

int
upd_record_write(struct service *s, struct err *e)
{
	struct svc_update *u = &s->upd;
	const unsigned char *buf;
	yajl_gen g = json_gen_new();
	size_t len;
	int i, rc;

	yajl_gen_map_open(g);
	gen_kv_int(g, "v", 1);
	gen_kv_str(g, "active", slot_names[u->active]);
	gen_kv_bool(g, "trial", u->trial);
	gen_kv_int(g, "trial_domid", u->trial_domid);
	gen_kv_int(g, "from_domid", u->from_domid);
	gen_kv_int(g, "trial_end", u->trial_end_wall);
	gen_kv_str(g, "last_result", u->last_result);
	gen_kv_str(g, "last_reason", u->last_reason);
	gen_kv_int(g, "last_wall", u->last_wall);
	gen_str(g, "slots");
	yajl_gen_map_open(g);
	for (i = 0; i < UPD_SLOTS; i++) {
		gen_str(g, slot_names[i]);
		gen_slot(g, &u->slots[i]);
	}
	yajl_gen_map_close(g);
	gen_str(g, "data");
	yajl_gen_array_open(g);
	for (i = 0; i < (int)u->ndata; i++) {
		yajl_gen_map_open(g);
		gen_kv_str(g, "vdev", u->data[i].vdev);
		gen_kv_str(g, "path", u->data[i].path);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	rc = upd_write_hook(u->dir, UPD_RECORD, buf, len, e);
	yajl_gen_free(g);
	return rc;
}

static const char *
str_at(yajl_val root, const char *k1, const char *k2)
{
	const char *path[] = { k1, k2, NULL };
	yajl_val v = yajl_tree_get(root, path, yajl_t_string);

	return v ? YAJL_GET_STRING(v) : NULL;
}

static long long
int_at(yajl_val root, const char *k1, const char *k2)
{
	const char *path[] = { k1, k2, NULL };
	yajl_val v = yajl_tree_get(root, path, yajl_t_number);

	return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

/* a directory name of ours: "a-..." or "b-...", nothing that leaves it */
static int
gen_valid(const char *gen, int slot)
{
	size_t i;

	if (gen[0] == '\0')
		return 1;
	if (gen[0] != slot_names[slot][0] || gen[1] != '-')
		return 0;
	for (i = 2; gen[i]; i++)
		if (!(gen[i] >= '0' && gen[i] <= '9') && gen[i] != '-')
			return 0;
	return 1;
}

static int
read_slot(yajl_val sv, int slot, struct upd_slot *sl, struct err *e)
{
	const char *st = str_at(sv, "state", NULL), *gen = str_at(sv, "gen",
	    NULL), *m = str_at(sv, "manifest", NULL), *why = str_at(sv, "why",
	    NULL);
	const char *path[] = { "signed", NULL };
	int k;

	memset(sl, 0, sizeof(*sl));
	for (k = 0; k < SL__N && st; k++)
		if (strcmp(st, upd_slot_state_str(k)) == 0)
			break;
	if (st == NULL || k == SL__N || gen == NULL || strlen(gen) >=
	    sizeof(sl->gen) || !gen_valid(gen, slot))
		return err_set(e, EINVAL, "bad state or directory");
	sl->state = k;
	strlcpy_(sl->gen, gen, sizeof(sl->gen));
	sl->is_signed = YAJL_IS_TRUE(yajl_tree_get(sv, path, yajl_t_true));
	sl->staged_wall = int_at(sv, "staged", NULL);
	if (why)
		strlcpy_(sl->why, why, sizeof(sl->why));
	if (gen[0] && (m == NULL || slot_manifest_parse(m, strlen(m), &sl->m,
	    e) == -1)) {
		char what[256];

		msgf(what, sizeof(what), "%s", m ? e->msg : "missing");
		return err_set(e, EINVAL, "its manifest: %s", what);
	}
	if (gen[0] == '\0' && sl->state != SL_FACTORY && sl->state != SL_EMPTY)
		return err_set(e, EINVAL, "%s without a directory", st);
	return 0;
}

/* the snapshots the record names (none in a record from before them) */
static int
read_data(yajl_val root, struct svc_update *u, struct err *e)
{
	const char *dp[] = { "data", NULL };
	yajl_val arr = yajl_tree_get(root, dp, yajl_t_any), v;
	const char *vdev, *path;
	size_t i;

	u->ndata = 0;
	if (arr == NULL)
		return 0;
	if (!YAJL_IS_ARRAY(arr) || YAJL_GET_ARRAY(arr)->len > UPD_DATA_MAX)
		return err_set(e, EINVAL, "'data' is not a list of snapshots");
	for (i = 0; i < YAJL_GET_ARRAY(arr)->len; i++) {
		v = YAJL_GET_ARRAY(arr)->values[i];
		vdev = str_at(v, "vdev", NULL);
		path = str_at(v, "path", NULL);
		if (vdev == NULL || path == NULL || vdev[0] == '\0' ||
		    strlen(vdev) >= sizeof(u->data[0].vdev) || path[0] != '/' ||
		    strlen(path) + sizeof(UPD_SNAP_SUFFIX) > UPD_DATA_PATH)
			return err_set(e, EINVAL, "'data': entry %zu is not a "
			    "vdev and an absolute path", i + 1);
		strlcpy_(u->data[u->ndata].vdev, vdev, sizeof(u->data[0].vdev));
		strlcpy_(u->data[u->ndata++].path, path, UPD_DATA_PATH);
	}
	return 0;
}

/* the record as it was written last; no record: slot a is the factory */
int
upd_record_read(struct service *s, struct err *e)
{
	struct svc_update *u = &s->upd;
	char path[4096], yerr[128];
	const char *act, *v;
	const char *sp[] = { "slots", NULL, NULL };
	yajl_val root, sv;
	char *text;
	int i, rc = -1;

	u->active = 0;
	u->trial = 0;
	u->ndata = 0;
	memset(u->slots, 0, sizeof(u->slots));
	u->slots[0].state = SL_FACTORY;
	snprintf(path, sizeof(path), "%s/%s", u->dir, UPD_RECORD);
	if (access(path, F_OK) == -1 && errno == ENOENT)
		return 0;	/* none yet: slot a is the service file's */
	if ((text = fileio_read(path, UPD_RECORD_MAX)) == NULL)
		return err_set(e, EIO, "%s: cannot read it", path);
	if ((root = yajl_tree_parse(text, yerr, sizeof(yerr))) == NULL) {
		free(text);
		return err_set(e, EINVAL, "%s: not JSON", path);
	}
	act = str_at(root, "active", NULL);
	if (act == NULL || (strcmp(act, "a") != 0 && strcmp(act, "b") != 0)) {
		err_set(e, EINVAL, "%s: 'active' is neither a nor b", path);
		goto out;
	}
	for (i = 0; i < UPD_SLOTS; i++) {
		sp[1] = slot_names[i];
		if ((sv = yajl_tree_get(root, sp, yajl_t_object)) == NULL ||
		    read_slot(sv, i, &u->slots[i], e) == -1) {
			char what[256];

			msgf(what, sizeof(what), "%s", sv ? e->msg : "missing");
			err_set(e, EINVAL, "%s: slot %s: %s", path,
			    slot_names[i], what);
			goto out;
		}
	}
	u->active = act[0] - 'a';
	{
		const char *tp[] = { "trial", NULL };

		u->trial = YAJL_IS_TRUE(yajl_tree_get(root, tp, yajl_t_true));
	}
	u->trial_domid = (uint32_t)int_at(root, "trial_domid", NULL);
	u->from_domid = (uint32_t)int_at(root, "from_domid", NULL);
	u->trial_end_wall = int_at(root, "trial_end", NULL);
	if ((v = str_at(root, "last_result", NULL)) != NULL)
		strlcpy_(u->last_result, v, sizeof(u->last_result));
	if ((v = str_at(root, "last_reason", NULL)) != NULL)
		strlcpy_(u->last_reason, v, sizeof(u->last_reason));
	u->last_wall = int_at(root, "last_wall", NULL);
	if (read_data(root, u, e) == -1) {
		char what[256];

		msgf(what, sizeof(what), "%s", e->msg);
		err_set(e, EINVAL, "%s: %s", path, what);
		goto out;
	}
	if (u->slots[u->active].state == SL_EMPTY ||
	    u->slots[u->active].state == SL_BAD) {
		err_set(e, EINVAL, "%s: the active slot %s is %s", path, act,
		    upd_slot_state_str(u->slots[u->active].state));
		goto out;
	}
	rc = 0;
out:
	if (rc == -1) {
		memset(u->slots, 0, sizeof(u->slots));
		u->slots[0].state = SL_FACTORY;
		u->active = u->trial = 0;
		u->ndata = 0;
	}
	yajl_tree_free(root);
	free(text);
	return rc;
}

static char *
slot_path(const struct svc_update *u, int slot, const char *file)
{
	char *p;

	if (asprintf(&p, "%s/%s/%s", u->dir, u->slots[slot].gen, file) < 0)
		fatal("asprintf");
	return p;
}

/* the active slot's files for the spec; the service's where it has none */
void
upd_paths(struct service *s)
{
	struct svc_update *u = &s->upd;
	const struct upd_slot *sl = &u->slots[u->active];

	free(u->kernel);
	free(u->ramdisk);
	free(u->device_tree);
	u->kernel = u->ramdisk = u->device_tree = NULL;
	if (sl->gen[0] == '\0')
		return;
	if (slot_manifest_find(&sl->m, "kernel"))
		u->kernel = slot_path(u, u->active, "kernel");
	if (slot_manifest_find(&sl->m, "ramdisk"))
		u->ramdisk = slot_path(u, u->active, "ramdisk");
	if (slot_manifest_find(&sl->m, "device_tree"))
		u->device_tree = slot_path(u, u->active, "device_tree");
}

/* what no record names goes: stages cut short, slots replaced */
void
upd_gc(struct service *s)
{
	struct svc_update *u = &s->upd;
	struct err e = ERR_INIT;
	struct dirent *de;
	DIR *d;
	int dfd;

	if ((dfd = open(u->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if ((de->d_name[0] != 'a' && de->d_name[0] != 'b') ||
		    de->d_name[1] != '-' ||
		    strcmp(de->d_name, u->slots[0].gen) == 0 ||
		    strcmp(de->d_name, u->slots[1].gen) == 0 ||
		    (u->stage && strcmp(de->d_name, u->stage->gen) == 0))
			continue;
		if (slot_remove(dirfd(d), de->d_name, &e) == -1)
			log_warnx("%s: %s", s->conf->name, e.msg);
		else
			log_info("%s: removed %s/%s (no slot of the record)",
			    s->conf->name, u->dir, de->d_name);
	}
	closedir(d);
}

/* the console log of a failed trial, kept beside its images (logs
 * --slot); the newest console_log_max bytes */
void
upd_keep_log(struct service *s, int slot, const char *suffix)
{
	struct svc_update *u = &s->upd;
	char from[4096], *to;
	uint64_t max = s->sup->cfg->d.console_log_max;

	/* logs --slot answers it in one reply */
	if (max == 0 || max > UPD_LOG_MAX)
		max = UPD_LOG_MAX;
	struct stat st;
	char buf[16384];
	ssize_t n;
	int in, out;

	if (u->slots[slot].gen[0] == '\0')
		return;
	snprintf(from, sizeof(from), "%s/%s.log%s", svc_logdir(s),
	    s->conf->name, suffix);
	if ((in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return;
	to = slot_path(u, slot, UPD_LOG);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (out != -1 && fstat(in, &st) == 0 && (uint64_t)st.st_size >
	    max)
		(void)lseek(in, st.st_size - (off_t)max, SEEK_SET);
	while (out != -1 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write_all(out, buf, (size_t)n) == -1)
			break;
	if (out == -1)
		log_warnx("%s: %s: %s", s->conf->name, to, strerror(errno));
	else
		close(out);
	close(in);
	free(to);
}

char *
update_slot_log(struct service *s, const char *slot)
{
	struct svc_update *u = &s->upd;
	int i;

	for (i = 0; i < UPD_SLOTS; i++)
		if (u->dir && strcmp(slot, slot_names[i]) == 0 &&
		    u->slots[i].gen[0])
			return slot_path(u, i, UPD_LOG);
	return NULL;
}

/* at most max bytes of an open file, NUL-terminated; NULL with e */
static char *
read_fd(int fd, size_t max, size_t *len, const char *what, struct err *e)
{
	char *buf = xcalloc(1, max + 1);
	ssize_t n;

	*len = 0;
	while ((n = pread(fd, buf + *len, max + 1 - *len, (off_t)*len)) > 0)
		*len += (size_t)n;
	if (n == -1 || *len > max) {
		err_set(e, n == -1 ? errno : EFBIG, "%s: %s", what, n == -1 ?
		    strerror(errno) : "too large");
		free(buf);
		return NULL;
	}
	return buf;
}

/* the signature over the manifest, then the manifest itself */
static int
stage_manifest(struct upd_stage *st, struct slot_manifest *want,
    struct err *e)
{
	char *m = NULL, *sig = NULL;
	size_t mlen, siglen;
	int rc = -1;

	if ((m = read_fd(st->manifest_fd, SLOT_MANIFEST_MAX, &mlen,
	    "the manifest", e)) == NULL)
		goto out;
	if (st->pub) {
		if (st->sig_fd == -1) {
			err_set(e, EPERM, "the service has update_key: its "
			    "manifests must come with a signature");
			goto out;
		}
		if ((sig = read_fd(st->sig_fd, SLOT_KEY_MAX, &siglen,
		    "the signature", e)) == NULL ||
		    slot_verify(st->pub, st->publen, sig, siglen, m, mlen,
		    e) == -1)
			goto out;
		st->is_signed = 1;
	}
	if (slot_manifest_parse(m, mlen, want, e) == -1)
		goto out;
	/* no more than the manifest says: a sparse giant stops early */
	{
		uint64_t total = 0;
		size_t i;

		for (i = 0; i < want->nfiles; i++)
			total += want->files[i].size;
		if (total < st->max_bytes)
			st->max_bytes = total;
	}
	rc = 0;
out:
	free(m);
	free(sig);
	return rc;
}

static void *
stage_main(void *arg)
{
	struct upd_stage *st = arg;
	struct slot_manifest want;
	char done = 1;

	st->rc = -1;
	if (st->pub && st->manifest_fd == -1)
		err_set(&st->e, EPERM, "the service has update_key: a stage "
		    "needs a signed manifest");
	else if (st->manifest_fd != -1 && stage_manifest(st, &want, &st->e)
	    == -1)
		;
	else
		st->rc = slot_stage(st->dirfd, st->gen, st->src, st->nsrc,
		    st->manifest_fd != -1 ? &want : NULL, st->max_bytes,
		    &st->got, &st->e);
	(void)!write(st->pipe[1], &done, 1);
	return NULL;
}

static void
stage_free(struct upd_stage *st)
{
	size_t i;

	for (i = 0; i < st->nsrc; i++)
		close(st->src[i].fd);
	if (st->manifest_fd != -1)
		close(st->manifest_fd);
	if (st->sig_fd != -1)
		close(st->sig_fd);
	if (st->dirfd != -1)
		close(st->dirfd);
	if (st->pipe[0] != -1)
		close(st->pipe[0]);
	if (st->pipe[1] != -1)
		close(st->pipe[1]);
	free(st->pub);
	free(st);
}

/* the request's descriptors, sorted into images, manifest, signature;
 * each a regular file (a FIFO would hang the thread, a device copy all) */
static int
stage_files(struct service *s, struct upd_stage *st,
    struct upd_stage_req *req, char *why, size_t whysz)
{
	struct stat sb;
	size_t i, k;

	for (i = 0; i < req->n; i++) {
		int fd = req->fds[i];
		const char *name = req->names[i];

		req->fds[i] = -1;
		if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
			close(fd);
			return REFUSE("%s: not a regular file", name);
		}
		if (strcmp(name, "manifest") == 0 && st->manifest_fd == -1)
			st->manifest_fd = fd;
		else if (strcmp(name, "signature") == 0 && st->sig_fd == -1)
			st->sig_fd = fd;
		else if (!slot_file_name_valid(name) || st->nsrc ==
		    SLOT_FILES_MAX) {
			close(fd);
			return REFUSE("%s: not a file a slot holds "
			    "(kernel, ramdisk, device_tree, disk:VDEV)", name);
		} else {
			if (strncmp(name, "disk:", 5) == 0) {
				for (k = 0; k < s->conf->ndisks; k++)
					if (strcmp(s->conf->disks[k].vdev,
					    name + 5) == 0)
						break;
				if (k == s->conf->ndisks) {
					close(fd);
					return REFUSE("%s: the "
					    "service has no [disk:%s]", name,
					    name + 5);
				}
				for (k = 0; k < s->conf->nupdate_data; k++)
					if (strcmp(s->conf->update_data[k],
					    name + 5) == 0) {
						close(fd);
						return REFUSE("%s: a data "
						    "volume (update_data) stays "
						    "across versions, in no "
						    "slot", name);
					}
			}
			strlcpy_(st->names[st->nsrc], name, SLOT_FILE_NAME_MAX);
			st->src[st->nsrc].name = st->names[st->nsrc];
			st->src[st->nsrc].cancel = &st->cancel;
			st->src[st->nsrc++].fd = fd;
		}
	}
	return 0;
}

static uint64_t
room(int dirfd)
{
	struct statvfs vf;
	uint64_t free_b;

	if (fstatvfs(dirfd, &vf) == -1)
		return UINT64_MAX;
	free_b = (uint64_t)vf.f_bavail * vf.f_frsize;
	return free_b > UPD_FREE_KEEP ? free_b - UPD_FREE_KEEP : 0;
}

int
upd_stage_start(struct service *s, struct upd_stage_req *req, char *why,
    size_t whysz)
{
	struct svc_update *u = &s->upd;
	struct upd_stage *st = xcalloc(1, sizeof(*st));
	static unsigned seq;
	sigset_t all, old;
	size_t publen;
	char kpath[4096];
	int r;

	st->manifest_fd = st->sig_fd = st->dirfd = -1;
	st->pipe[0] = st->pipe[1] = -1;
	st->slot = !u->active;
	if (stage_files(s, st, req, why, whysz) == -1)
		goto fail;
	if (s->conf->update_key) {
		snprintf(kpath, sizeof(kpath), "%s", s->conf->update_key);
		if ((st->pub = fileio_read(kpath, SLOT_KEY_MAX)) == NULL) {
			msgf(why, whysz, "update_key %s: cannot read it", kpath);
			goto fail;
		}
		publen = strlen(st->pub);
		st->publen = publen;
	}
	if ((st->dirfd = open(u->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || pipe2(st->pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		msgf(why, whysz, "%s: %s", u->dir, strerror(errno));
		goto fail;
	}
	st->max_bytes = room(st->dirfd);
	snprintf(st->gen, sizeof(st->gen), "%s-%lld-%d-%u",
	    slot_names[st->slot], (long long)time(NULL), (int)getpid(), ++seq);
	/* its thread takes no signal: the loop's self-pipe has them */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&st->thread, NULL, stage_main, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		msgf(why, whysz, "cannot start the stage: %s", strerror(r));
		goto fail;
	}
	u->stage = st;
	u->stage_fd = st->pipe[0];
	return 0;
fail:
	stage_free(st);
	return -1;
}

int
upd_stage_finish(struct service *s, char *why, size_t whysz)
{
	struct svc_update *u = &s->upd;
	struct upd_stage *st = u->stage;
	struct upd_slot *sl, old;
	struct err e = ERR_INIT;
	int rc = -1;

	pthread_join(st->thread, NULL);
	u->stage = NULL;
	u->stage_fd = -1;
	if (st->rc == -1) {
		msgf(why, whysz, "%s", st->e.msg);
		goto out;
	}
	sl = &u->slots[st->slot];
	old = *sl;
	memset(sl, 0, sizeof(*sl));
	sl->state = SL_STAGED;
	strlcpy_(sl->gen, st->gen, sizeof(sl->gen));
	sl->m = st->got;
	sl->is_signed = st->is_signed;
	sl->staged_wall = (int64_t)time(NULL);
	if (upd_record_write(s, &e) == -1) {
		*sl = old;
		msgf(why, whysz, "the record: %s", e.msg);
		(void)slot_remove(st->dirfd, st->gen, &e);
		goto out;
	}
	rc = 0;
	upd_gc(s);	/* the slot's images before these */
out:
	stage_free(st);
	return rc;
}

/* the service goes while a stage runs: its thread gives up at its next
 * chunk, is joined, and what it made goes */
void
upd_stage_abort(struct service *s)
{
	struct upd_stage *st = s->upd.stage;
	struct err e = ERR_INIT;

	if (st == NULL)
		return;
	__atomic_store_n(&st->cancel, 1, __ATOMIC_RELAXED);
	pthread_join(st->thread, NULL);
	if (st->rc == 0)
		(void)slot_remove(st->dirfd, st->gen, &e);
	s->upd.stage = NULL;
	s->upd.stage_fd = -1;
	stage_free(st);
}
