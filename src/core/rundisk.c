// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * run: a command from a hot-plugged, read-only disk image in a memres DomU.
 * One job goes ATTACH (the backend hot-plugs the image at a free vdev of
 * RUN_VDEV_FIRST..RUN_VDEV_LAST) -> EXEC (sh mounts it and runs the command
 * through the agent, jobs.c) -> DETACH (the backend takes it away) -> the
 * reply. Adoption (adopt.c) detaches what a dead domud left in that range.
 * The job is jobs.c's, with rundisk.c its owner (struct job_owner): jobs.c
 * calls back when the command ends, the client leaves, the job ends.
 * May call: jobs.c, control.c (control_queue), the backend's disk
 * operations, the supervisor, the channel; never verbs.c, which is above.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/loopdev.h"
#include "base/util.h"
#include "chan/gio.h"
#include "console.h"
#include "control.h"
#include "jobs.h"
#include "rundisk.h"

/* the phases of a run */
enum run_phase { RUN_NONE, RUN_ATTACH, RUN_EXEC, RUN_DETACH };

/* a run's own part of its job (job.owner_data) */
struct run {
	enum run_phase		 phase;
	uint64_t		 token;		/* its disk operations */
	uint32_t		 domid;
	char			 vdev[16];
	int			 loop_fd;	/* its image's loop device */
	struct chan_result	 result;	/* kept over the detach */
};

/* mount the disk, run the command from it, unmount; its exit status */
static const char run_script[] =
    "v=$1; shift; m=/run/domud-run/$v; mkdir -p $m; i=0; "
    "while [ ! -b /dev/$v ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); "
    "done; mount -o ro /dev/$v $m || { echo \"domud run: cannot mount "
    "/dev/$v\" >&2; exit 125; }; cd $m; PATH=$m:$m/bin:$PATH; \"$@\"; "
    "rc=$?; cd /; umount $m; rmdir $m; exit $rc";

static uint64_t run_tokens;

/* a run whose client left: its command is given up by then, so that its
 * disk and its slot go even when the agent never answers */
#define RUN_ORPHAN_MS	30000

/* disks whose detach failed: their vdevs stay taken while the domain they
 * were attached to runs (a later detach, or its end, frees them) */
#define RUN_STRAYS	16
static struct {
	char		 svc[SERVICE_NAME_MAX + 1];
	uint32_t	 domid;
	char		 vdev[16];
}		 strays[RUN_STRAYS];

static void
stray_add(const char *svc, uint32_t domid, const char *vdev)
{
	size_t i, k = 0;

	/* when all are used the first goes: its domain has most likely
	 * ended since */
	for (i = 0; i < RUN_STRAYS; i++)
		if (strays[i].svc[0] == '\0') {
			k = i;
			break;
		}
	strlcpy_(strays[k].svc, svc, sizeof(strays[k].svc));
	strays[k].domid = domid;
	strlcpy_(strays[k].vdev, vdev, sizeof(strays[k].vdev));
}

static int
stray_holds(const struct service *s, const char *vdev)
{
	size_t i;

	for (i = 0; i < RUN_STRAYS; i++) {
		if (strays[i].svc[0] == '\0' ||
		    strcmp(strays[i].svc, s->conf->name) != 0)
			continue;
		if (strays[i].domid != s->domid) {
			strays[i].svc[0] = '\0';	/* that domain is gone */
			continue;
		}
		if (strcmp(strays[i].vdev, vdev) == 0)
			return 1;
	}
	return 0;
}

static void run_reply(struct job *, const char *detach_error);
static void run_detach(struct job *, const struct chan_result *);
static int run_leave(struct job *);
static void run_end(struct job *);

/* what jobs.c calls back: the command ran (or could not), take the disk
 * away, then answer; the client left; the job ends */
static const struct job_owner run_owner = { run_detach, run_leave, run_end };

static struct run *
run_of(const struct job *j)
{
	return j->owner == &run_owner ? j->owner_data : NULL;
}

static const char *
run_images(struct control *c, char *buf, size_t sz)
{
	const struct daemon_conf *d = &c->sup->cfg->d;

	if (d->run_images)
		return d->run_images;
	snprintf(buf, sz, "%s/run-images", d->state_dir);
	return buf;
}

/*
 * An image a run may attach: DIR/NAME with DIR the configured image
 * directory and NAME a plain file name, opened without following a link,
 * a regular file that others cannot write. The fd, or -1 with e saying why.
 */
int
rundisk_open_image(const char *dir, const char *path, struct err *e)
{
	size_t dl = strlen(dir);
	const char *name;
	struct stat st;
	int dfd, fd;

	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	if (strncmp(path, dir, dl) != 0 || path[dl] != '/')
		return err_set(e, EPERM, "%s: run images come from %.*s only",
		    path, (int)dl, dir);
	name = path + dl + 1;
	if (*name == '\0' || strchr(name, '/') != NULL || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return err_set(e, EPERM, "%s: not a file directly in %.*s", path,
		    (int)dl, dir);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return err_set(e, errno, "%s: %s", dir, strerror(errno));
	/* whoever may add a file there chooses what a guest reads: root or
	 * domud only */
	if (fstat(dfd, &st) == -1 || (st.st_uid != 0 &&
	    st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(dfd);
		return err_set(e, EPERM, "%.*s: the run image directory must "
		    "be root's and writable by no one else (it is %s, mode "
		    "%04o)", (int)dl, dir, st.st_uid == 0 ? "root's" :
		    "another user's", (unsigned)(st.st_mode & 07777));
	}
	/* O_NONBLOCK: a FIFO put there must not hold the loop */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dfd);
	if (fd == -1)
		return err_set(e, errno, "%s: %s", path, errno == ELOOP ?
		    "a symbolic link (not followed)" : strerror(errno));
	/* a second name is a hard link: to a file of someone else's */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & S_IWOTH) || st.st_nlink != 1) {
		close(fd);
		return err_set(e, EPERM, "%s: %s", path, !S_ISREG(st.st_mode) ?
		    "not a regular file" : (st.st_mode & S_IWOTH) ?
		    "writable by others" : "a hard link (more than one name)");
	}
	return fd;
}

/* the run job (of a connection, or kept) a disk operation is for */
static struct job *
run_find(struct control *c, uint64_t token)
{
	struct job *j;
	struct run *r;
	int pos = 0;

	if (token == 0)
		return NULL;
	while ((j = jobs_next(c, &pos)) != NULL)
		if ((r = run_of(j)) != NULL && r->token == token)
			return j;
	return NULL;
}

/* its client left: the run goes on to its detach, answered to nobody (so
 * that the disk does not stay, and its vdev is not taken by the next) */
static int
run_leave(struct job *j)
{
	struct run *r = j->owner_data;
	struct service *s;

	if (r->phase == RUN_NONE)
		return 0;
	if (jobs_keep(j) == -1) {
		/* not while runs are counted at their start (rundisk_run):
		 * its disk is then said to stay, and its vdev too */
		log_warnx("%s: run on %s: its client left and %d others wait "
		    "for their detach: this one is left attached", j->svc,
		    r->vdev, JOBS_KEPT);
		stray_add(j->svc, r->domid, r->vdev);
		return 0;
	}
	/* the command ends (exec_done), then the disk is detached */
	if (r->phase == RUN_EXEC && (s = sup_find(j->c->sup, j->svc)) &&
	    s->con && s->con->chan) {
		gio_cancel(s->con->chan, j->chan_id);
		gio_give_up_at(s->con->chan, j->chan_id, mono_ms() +
		    RUN_ORPHAN_MS);
	}
	log_info("%s: run on %s: the client left; cancelled, the disk goes "
	    "when the command has ended", j->svc, r->vdev);
	return 1;
}

static void
run_end(struct job *j)
{
	struct run *r = j->owner_data;

	if (r->loop_fd > 0)
		loopdev_release(r->loop_fd);
	free(r);
	j->owner_data = NULL;
}

static void
run_detach(struct job *j, const struct chan_result *res)
{
	struct supervisor *sup = j->c->sup;
	struct run *r = j->owner_data;
	struct err e = ERR_INIT;

	r->result = *res;
	r->phase = RUN_DETACH;
	if (sup->be->ops->disk_detach(sup->be, j->svc, r->domid, r->vdev,
	    r->token, &e) == -1)
		run_reply(j, e.msg);
}

static void
run_reply(struct job *j, const char *detach_error)
{
	struct run *r = j->owner_data;
	struct request req;
	char *line;
	yajl_gen g;
	size_t len;

	memset(&req, 0, sizeof(req));
	req.id = j->req_id;
	req.has_id = j->has_id;
	if (!r->result.ran) {
		char msg[600];

		snprintf(msg, sizeof(msg), "%s%s%s", r->result.error[0] ?
		    r->result.error : "the command did not run",
		    detach_error ? "; and the disk stayed: " : "",
		    detach_error ? detach_error : "");
		line = proto_error_reply(&req, PE_FAILED, msg, &len);
	} else {
		g = proto_reply_begin(&req, 1);
		gen_str(g, "result");
		yajl_gen_map_open(g);
		jobs_gen_result(g, j->svc, &r->result);
		gen_kv_str(g, "vdev", r->vdev);
		gen_kv_bool(g, "detached", detach_error == NULL);
		if (detach_error)
			gen_kv_str(g, "detach_error", detach_error);
		yajl_gen_map_close(g);
		line = proto_reply_end(g, &len);
	}
	log_info("%s: run on %s ended (exit %d)%s%s", j->svc, r->vdev,
	    r->result.code, detach_error ? "; detach failed: " : ", disk "
	    "detached", detach_error ? detach_error : "");
	if (detach_error)
		stray_add(j->svc, r->domid, r->vdev);
	control_queue(j->cc, line, len);
	jobs_end(j);
}

/* the command's argv: sh -c SCRIPT domud-run VDEV CMD...; -1 when it
 * is too long */
static int
run_argv(struct request *x, const struct request *req, const char *vdev)
{
	const char *pre[] = { "/bin/sh", "-c", run_script, "domud-run", vdev };
	size_t o, n;

	memset(x, 0, sizeof(*x));
	x->timeout_ms = req->timeout_ms;
	for (o = 0; o < nitems(pre); o++) {
		n = strlen(pre[o]) + 1;
		memcpy(x->args + x->args_len, pre[o], n);
		x->args_len += n;
		x->argc++;
	}
	if (x->args_len + req->args_len > sizeof(x->args))
		return -1;
	memcpy(x->args + x->args_len, req->args, req->args_len);
	x->args_len += req->args_len;
	x->argc += req->argc;
	return 0;
}

/* the disk is attached: the command runs from it (or could not: the
 * disk goes again) */
static void
run_attached(struct job *j, struct service *s, struct request *req)
{
	struct run *r = j->owner_data;
	struct chan_result res;
	struct request x;
	char msg[256];
	int rc;

	rc = run_argv(&x, req, r->vdev);
	free(req);
	r->phase = RUN_EXEC;
	memset(&res, 0, sizeof(res));
	if (rc == -1)
		snprintf(res.error, sizeof(res.error), "command line too long");
	else if (jobs_exec_start(j, s, &x, msg, sizeof(msg)) == -1)
		snprintf(res.error, sizeof(res.error), "%s", msg);
	else
		return;
	run_detach(j, &res);
}

/* a disk attach or detach of a run finished */
void
rundisk_disk_done(void *arg, const struct be_event *ev)
{
	struct control *c = arg;
	struct service *s;
	struct request *req;
	struct chan_result res;
	struct job *j;
	struct run *r;

	j = run_find(c, ev->token);
	if (j == NULL) {
		if (!ev->ok)
			log_warnx("%s: %s", ev->svc, ev->err.msg);
		return;		/* a leftover's detach, or its client left */
	}
	r = j->owner_data;
	if (r->phase == RUN_DETACH) {
		run_reply(j, ev->ok ? NULL : ev->err.msg);
		return;
	}
	if (r->phase != RUN_ATTACH)
		return;
	s = sup_find(c->sup, j->svc);
	req = j->pending;
	j->pending = NULL;
	if (ev->ok && s && s->con && s->con->chan && s->domid == r->domid &&
	    j->cc != NULL) {
		run_attached(j, s, req);
		return;
	}
	memset(&res, 0, sizeof(res));
	msgf(res.error, sizeof(res.error), "%s", !ev->ok ? ev->err.msg :
	    j->cc == NULL ? "the client left" : "the service went away");
	r->phase = ev->ok ? RUN_EXEC : RUN_NONE;
	free(req);
	if (ev->ok)
		run_detach(j, &res);
	else {
		strlcpy_(r->result.error, res.error, sizeof(r->result.error));
		run_reply(j, NULL);
	}
}

static int
vdev_taken(struct control *c, struct service *s, const char *vdev)
{
	struct job *j;
	struct run *r;
	size_t d;
	int pos = 0;

	for (d = 0; d < s->conf->ndisks; d++)
		if (s->conf->disks[d].vdev && !strcmp(s->conf->disks[d].vdev, vdev))
			return 1;
	if (stray_holds(s, vdev))
		return 1;
	while ((j = jobs_next(c, &pos)) != NULL)
		if ((r = run_of(j)) != NULL && r->phase != RUN_NONE &&
		    !strcmp(j->svc, s->conf->name) && !strcmp(r->vdev, vdev))
			return 1;
	return 0;
}

static int
runs_in_flight(struct control *c)
{
	struct job *j;
	int pos = 0, n = 0;

	while ((j = jobs_next(c, &pos)) != NULL)
		n += run_of(j) != NULL;
	return n;
}

/* run: hot-plug the image read-only, run the command from it, unplug */
char *
rundisk_run(struct control *c, const struct request *req, struct service *s,
    size_t *outlen)
{
	struct supervisor *sup = c->sup;
	struct job *j;
	struct run *r;
	struct err e = ERR_INIT;
	char msg[256], vdev[16], loop[32], dirbuf[1024];
	int imgfd, loopfd, letter;

	if (!s->conf->memres)
		return proto_error_reply(req, PE_FAILED, "not a memres service",
		    outlen);
	if (s->state != ST_RUNNING || !s->ready || s->con == NULL)
		return proto_error_reply(req, PE_FAILED, "not ready", outlen);
	if (sup->be->ops->disk_attach == NULL)
		return proto_error_reply(req, PE_FAILED, "this backend has no "
		    "disks", outlen);
	if (req->disk[0] == '\0' || req->argc == 0)
		return proto_error_reply(req, PE_BAD_REQUEST, "run needs a disk "
		    "and argv", outlen);
	/* each run in flight can be kept to its detach if its client goes */
	if (runs_in_flight(c) >= JOBS_KEPT) {
		msgf(msg, sizeof(msg), "%d runs are in flight (or wait for "
		    "their disk's detach): try again", JOBS_KEPT);
		return proto_error_reply(req, PE_BUSY, msg, outlen);
	}
	/* what is attached is what was checked: the image's fd, bound to
	 * a loop device of ours, never its path */
	if ((imgfd = rundisk_open_image(run_images(c, dirbuf, sizeof(dirbuf)),
	    req->disk, &e)) == -1)
		return proto_error_reply(req, PE_DENIED, e.msg, outlen);
	loopfd = loopdev_bind(imgfd, loop, sizeof(loop), &e);
	close(imgfd);
	if (loopfd == -1) {
		msgf(msg, sizeof(msg), "%s: %s", req->disk, e.msg);
		return proto_error_reply(req, PE_FAILED, msg, outlen);
	}
	/* run disks take xvdq .. xvdz, which service files leave alone */
	for (letter = RUN_VDEV_FIRST; letter <= RUN_VDEV_LAST; letter++) {
		snprintf(vdev, sizeof(vdev), "xvd%c", letter);
		if (!vdev_taken(c, s, vdev))
			break;
	}
	if (letter > RUN_VDEV_LAST) {
		loopdev_release(loopfd);
		return proto_error_reply(req, PE_BUSY, "no free vdev (xvdq-xvdz)",
		    outlen);
	}
	if ((j = jobs_new(c, req, s->conf->name, msg, sizeof(msg))) == NULL) {
		loopdev_release(loopfd);
		return proto_error_reply(req, PE_BUSY, msg, outlen);
	}
	j->owner = &run_owner;
	j->owner_data = r = xcalloc(1, sizeof(*r));
	r->loop_fd = loopfd;
	j->pending = xcalloc(1, sizeof(*j->pending));
	*j->pending = *req;
	j->pending_until = UINT64_MAX;	/* not an idle start: no deadline */
	r->phase = RUN_ATTACH;
	r->token = ++run_tokens;
	r->domid = s->domid;
	strlcpy_(r->vdev, vdev, sizeof(r->vdev));
	if (sup->be->ops->disk_attach(sup->be, s->conf->name, s->domid,
	    loop, vdev, r->token, &e) == -1) {
		jobs_end(j);
		return proto_error_reply(req, PE_FAILED, e.msg, outlen);
	}
	log_info("%s: run: %s (%s) attached as %s", s->conf->name, req->disk,
	    loop, vdev);
	*outlen = 0;
	return NULL;
}
