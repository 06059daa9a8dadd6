// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * domuctl update: a new version staged into a service's other slot, the
 * switch to it on trial, and waiting for the trial's end. The files are
 * opened here, with the client's own permissions, and their descriptors
 * go to domud with the request: domud never opens a path a client names.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <yajl_tree.h>

#include "client.h"
#include "reply.h"
#include "base/json.h"
#include "base/util.h"

/* a member of one kind; NULL when absent or of another */
static yajl_val
jget(yajl_val obj, const char *key, yajl_type type)
{
	const char *path[] = { key, NULL };

	return obj ? yajl_tree_get(obj, path, type) : NULL;
}

/* ---- the files, opened here -------------------------------------------- */

/* path for reading, a regular file only: a FIFO would block us (and
 * domud), a device is no image. The fd, or -1 with errno. */
static int
open_regular(const char *path)
{
	struct stat st;
	int fd, flags;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	/* the open file is domud's to read too: blocking, as it expects */
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
open_failed(const char *name, const char *path)
{
	fprintf(stderr, "domuctl: update: %s: %s: %s\n", name, path,
	    errno == EINVAL ? "not a regular file" : strerror(errno));
}

/* --manifest M without --signature: M.sig, when there is one. 0, or -1
 * (said) */
static int
open_default_signature(struct request *r, int *fds, const char *manifest)
{
	char path[PATH_MAX];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s.sig", manifest) >=
	    sizeof(path))
		return 0;
	if ((fd = open_regular(path)) == -1) {
		if (errno == ENOENT)
			return 0;
		open_failed("signature", path);
		return -1;
	}
	if (r->nfiles >= PROTO_FDS_MAX) {
		fprintf(stderr, "domuctl: update: %s: more than %d files\n",
		    path, PROTO_FDS_MAX);
		close(fd);
		return -1;
	}
	strlcpy_(r->files[r->nfiles], "signature", sizeof(r->files[0]));
	fds[r->nfiles++] = fd;
	return 0;
}

/* o's files into fds, one per r's name (r: o's request, with the default
 * signature added); 0, or -1 with none left open (said) */
static int
open_files(const struct ctl_opts *o, struct request *r, int *fds)
{
	const char *manifest = NULL;
	int i, signature = 0;

	for (i = 0; i < r->nfiles; i++) {
		if ((fds[i] = open_regular(o->upd_paths[i])) == -1) {
			open_failed(r->files[i], o->upd_paths[i]);
			break;
		}
		if (!strcmp(r->files[i], "manifest"))
			manifest = o->upd_paths[i];
		signature |= !strcmp(r->files[i], "signature");
	}
	if (i == r->nfiles && (signature || manifest == NULL ||
	    open_default_signature(r, fds, manifest) == 0))
		return 0;
	while (--i >= 0)
		close(fds[i]);
	return -1;
}

int
ctl_update_stage(int fd, const struct ctl_opts *o, uint64_t deadline,
    char **reply, size_t *off, size_t *cap)
{
	struct ctl_opts so = *o;
	int fds[PROTO_FDS_MAX], i, rc;

	if (open_files(o, &so.req, fds) == -1)
		return CTL_EXIT_FAILED;
	rc = ctl_request_reply_fds(fd, &so, fds, so.req.nfiles, deadline,
	    reply, off, cap);
	for (i = 0; i < so.req.nfiles; i++)
		close(fds[i]);
	return rc;
}

/* ---- the replies, shown -------------------------------------------------- */

/* a slot's files: name, size, digest */
static void
print_files(yajl_val files, FILE *out)
{
	long long size;
	size_t i;

	for (i = 0; i < json_len(files); i++) {
		yajl_val f = json_at(files, i);

		size = -1;
		jint(f, "size", &size);
		fprintf(out, "  %-12s %11lld  sha256:%s\n", jstr_or(f, "name", "?"),
		    size, jstr_or(f, "sha256", "?"));
	}
}

/* the first 12 hex digits of a slot's kernel, "-" without one */
static void
kernel_digest(yajl_val slot, char *buf, size_t sz)
{
	yajl_val files = jget(slot, "files", yajl_t_array);
	size_t i;

	snprintf(buf, sz, "-");
	for (i = 0; i < json_len(files); i++)
		if (!strcmp(jstr_or(json_at(files, i), "name", ""), "kernel"))
			snprintf(buf, sz, "sha256:%.12s",
			    jstr_or(json_at(files, i), "sha256", "?"));
}

/* the state line: the active slot, and the trial's when there is one */
static void
print_state(yajl_val s, FILE *out)
{
	yajl_val trial = jget(s, "trial", yajl_t_object);
	long long left = 0;
	char buf[32];

	fprintf(out, "%s: slot %s active, %s", jstr_or(s, "name", "?"),
	    jstr_or(s, "active", "?"), jstr_or(s, "state", "?"));
	if (trial != NULL) {
		jint(trial, "ends_in_s", &left);
		format_duration(buf, sizeof(buf), (uint64_t)(left > 0 ? left :
		    0) * 1000);
		fprintf(out, ": slot %s, %s left, health %s",
		    jstr_or(trial, "slot", "?"), buf,
		    jstr_or(trial, "health", "?"));
		if (jstr_or(trial, "domain", NULL) != NULL)
			fprintf(out, ", its domain %s", jstr_or(trial,
			    "domain", "?"));
	}
	fputc('\n', out);
}

/* update status: one service's state, last result and slots */
static void
print_service(yajl_val s, FILE *out)
{
	yajl_val last = jget(s, "last", yajl_t_object),
	    slots = jget(s, "slots", yajl_t_array),
	    data = jget(s, "data", yajl_t_array),
	    snaps = jget(s, "snapshots", yajl_t_array);
	char when[32] = "?", kd[32];
	long long wall;
	struct tm tm;
	time_t t;
	size_t i;

	print_state(s, out);
	if (last != NULL) {
		if (jint(last, "wall", &wall) && (t = (time_t)wall,
		    localtime_r(&t, &tm) != NULL))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(out, "  last update: %s at %s (%s)\n",
		    jstr_or(last, "result", "?"), when,
		    jstr_or(last, "reason", "-"));
	}
	fprintf(out, "  %-4s %-8s %-16s %-6s %s\n", "SLOT", "STATE", "VERSION",
	    "SIGNED", "KERNEL");
	for (i = 0; i < json_len(slots); i++) {
		yajl_val sl = json_at(slots, i);

		kernel_digest(sl, kd, sizeof(kd));
		fprintf(out, "  %-4s %-8s %-16s %-6s %s\n",
		    jstr_or(sl, "name", "?"), jstr_or(sl, "state", "?"),
		    jstr_or(sl, "version", "-"), jtrue(sl, "signed") ? "yes" :
		    "no", kd);
	}
	/* update_data: the data volumes, and a snapshot held for a trial */
	for (i = 0; i < json_len(data); i++)
		fprintf(out, "  data %s\n", jstr_or(json_at(data, i), "vdev",
		    "?"));
	for (i = 0; i < json_len(snaps); i++)
		fprintf(out, "  data %s: snapshot %s\n", jstr_or(json_at(snaps,
		    i), "vdev", "?"), jstr_or(json_at(snaps, i), "snapshot",
		    "?"));
}

int
ctl_render_update(const struct ctl_opts *o, yajl_val res, FILE *out,
    FILE *errout)
{
	yajl_val svcs = jget(res, "services", yajl_t_array);
	const char *svc = jstr_or(res, "service", o->req.service),
	    *version = jstr(res, "version");
	long long window = 0;
	size_t i;

	switch (o->req.pcmd->verb) {
	case PV_UPDATE_STAGE:
		fprintf(out, "%s: staged slot %s (%s%s%s)\n", svc,
		    jstr_or(res, "slot", "?"), version ? "version " : "",
		    version ? version : "", jtrue(res, "signed") ?
		    (version ? ", signed" : "signed") :
		    (version ? ", unsigned" : "unsigned"));
		print_files(jget(res, "files", yajl_t_array), out);
		break;
	case PV_UPDATE_SWITCH:
		jint(res, "window_s", &window);
		fprintf(out, "%s: trial of slot %s (version %s) started; "
		    "committed after %lld s healthy\n", svc,
		    jstr_or(res, "slot", "?"), version ? version : "-", window);
		break;
	case PV_UPDATE_ROLLBACK:
		fprintf(out, "%s: rolled back to slot %s (version %s)\n", svc,
		    jstr_or(res, "slot", "?"), version ? version : "-");
		break;
	case PV_UPDATE_STATUS:
		for (i = 0; i < json_len(svcs); i++) {
			if (i > 0)
				fputc('\n', out);
			print_service(json_at(svcs, i), out);
		}
		break;
	default:
		break;
	}
	return CTL_EXIT_OK;
}

/* ---- the requests ---------------------------------------------------------- */

/* a request on fd and its reply; CTL_EXIT_OK, or how it failed (said) */
static int
request(int fd, const struct ctl_opts *o, uint64_t deadline, char **reply,
    size_t *off, size_t *cap)
{
	int rc = ctl_request_reply(fd, o, deadline, reply, off, cap);

	if (rc == CTL_EXIT_TIMEOUT)
		fprintf(stderr, "domuctl: no answer from domud within %d s\n",
		    o->timeout_ms / 1000);
	return rc;
}

/* a reply line that says ok */
static int
jtrue_line(const char *reply)
{
	yajl_val root = yajl_tree_parse(reply, NULL, 0);
	int ok = jtrue(root, "ok");

	yajl_tree_free(root);
	return ok;
}

/* ---- the trial, waited for ----------------------------------------------- */

/* one event line, shown; 1 when it ends the trial (*rc), else 0 */
static int
trial_event(const struct ctl_opts *o, const char *line, int *rc)
{
	yajl_val root = yajl_tree_parse(line, NULL, 0),
	    e = jget(root, "data", yajl_t_object);
	const char *to = jstr_or(e, "to", "");
	int done = 0;

	if (o->json)
		printf("%s\n", line);
	else if (e != NULL)
		ctl_print_event(e, stdout);
	fflush(stdout);
	if (e != NULL && !strcmp(jstr_or(e, "actor", ""), "update") &&
	    !strcmp(jstr_or(e, "service", ""), o->req.service)) {
		if (!strcmp(to, "committed")) {
			*rc = CTL_EXIT_OK;
			done = 1;
		} else if (!strcmp(to, "rolled-back") || !strcmp(to, "refused")) {
			fprintf(stderr, "domuctl: update: %s: %s: %s\n",
			    o->req.service, to[0] == 'r' && to[1] == 'o' ?
			    "rolled back" : to, jstr_or(e, "reason", "?"));
			*rc = CTL_EXIT_FAILED;
			done = 1;
		}
	}
	yajl_tree_free(root);
	return done;
}

/* the service's events until its trial is committed (0), rolled back
 * (1), or --timeout passes with it still running */
static int
wait_trial(const struct ctl_opts *o, struct ctl_lines *ev)
{
	uint64_t until = o->upd_timeout_ms ? mono_ms() +
	    (uint64_t)o->upd_timeout_ms : UINT64_MAX;
	char *line;
	int rc;

	while ((rc = ctl_next_line(ev, until, &line)) == CTL_EXIT_OK)
		if (trial_event(o, line, &rc))
			return rc;
	if (rc == CTL_EXIT_TIMEOUT)
		fprintf(stderr, "domuctl: update wait: %s: the trial still runs "
		    "after %d s\n", o->req.service, o->upd_timeout_ms / 1000);
	else
		fprintf(stderr, "domuctl: domud went away\n");
	return rc;
}

/* no trial running: how the last update ended says the exit status */
static int
last_result(const struct ctl_opts *o, yajl_val s)
{
	yajl_val last = jget(s, "last", yajl_t_object);
	const char *res = jstr(last, "result");

	if (res && !strcmp(res, "committed")) {
		if (!o->json)
			printf("%s: no trial; the last update was committed "
			    "(%s)\n", o->req.service, jstr_or(last, "reason", "-"));
		return CTL_EXIT_OK;
	}
	if (res)
		fprintf(stderr, "domuctl: update wait: %s: no trial; the last "
		    "update was %s: %s\n", o->req.service, res,
		    jstr_or(last, "reason", "?"));
	else
		fprintf(stderr, "domuctl: update wait: %s: no trial, and no "
		    "update yet\n", o->req.service);
	return CTL_EXIT_FAILED;
}

/* update wait: events followed first, so that a trial ending while
 * update-status is asked is not missed; then its state */
static int
update_wait(int fd, const struct ctl_opts *o, uint64_t deadline)
{
	struct ctl_lines ev = { .fd = -1 };
	char *reply = NULL;
	size_t off = 0, cap = 0;
	yajl_val root = NULL, svcs, s;
	int rc;

	if ((rc = ctl_events_follow(o, deadline, &ev)) != CTL_EXIT_OK ||
	    (rc = request(fd, o, deadline, &reply, &off, &cap)) != CTL_EXIT_OK)
		goto out;
	root = yajl_tree_parse(reply, NULL, 0);
	svcs = jget(jget(root, "result", yajl_t_object), "services",
	    yajl_t_array);
	if (!jtrue(root, "ok") || (s = json_at(svcs, 0)) == NULL) {
		rc = ctl_render(o, reply, stdout, stderr);
		rc = rc != CTL_EXIT_OK ? rc : CTL_EXIT_FAILED;
		goto out;
	}
	if (o->json)
		fputs(reply, stdout);
	if (strcmp(jstr_or(s, "state", ""), "trial") != 0) {
		rc = last_result(o, s);
		goto out;
	}
	if (!o->json)
		print_state(s, stdout);
	fflush(stdout);
	rc = wait_trial(o, &ev);
out:
	yajl_tree_free(root);
	ctl_lines_close(&ev);
	free(reply);
	return rc;
}

/* update-switch (after update-stage for apply: the second request); with
 * --wait, the events are followed from before it */
static int
update_switch(int fd, const struct ctl_opts *o, uint64_t deadline,
    int second)
{
	struct ctl_lines ev = { .fd = -1 };
	struct ctl_opts so = *o;
	char *reply = NULL;
	size_t off = 0, cap = 0;
	int rc = CTL_EXIT_OK;

	strlcpy_(so.req.cmd, "update-switch", sizeof(so.req.cmd));
	so.req.pcmd = proto_cmd_find("update-switch");
	so.req.nfiles = 0;
	so.req.id = second ? 2 : 1;
	if ((o->wait && (rc = ctl_events_follow(o, deadline, &ev)) !=
	    CTL_EXIT_OK) ||
	    (rc = request(fd, &so, deadline, &reply, &off, &cap)) !=
	    CTL_EXIT_OK ||
	    (rc = ctl_render(&so, reply, stdout, stderr)) != CTL_EXIT_OK)
		goto out;
	fflush(stdout);
	if (o->wait)
		rc = wait_trial(o, &ev);
out:
	ctl_lines_close(&ev);
	free(reply);
	return rc;
}

/* one event line of a stage: 1 when it says how the stage ended (*rc) */
static int
stage_event(const struct ctl_opts *o, const char *line, int *rc)
{
	yajl_val root = yajl_tree_parse(line, NULL, 0),
	    e = jget(root, "data", yajl_t_object);
	const char *to = jstr_or(e, "to", "");
	int done = 0;

	if (e != NULL && !strcmp(jstr_or(e, "actor", ""), "update") &&
	    !strcmp(jstr_or(e, "service", ""), o->req.service) &&
	    (!strcmp(to, "staged") || !strcmp(to, "refused"))) {
		done = 1;
		*rc = to[0] == 's' ? CTL_EXIT_OK : CTL_EXIT_FAILED;
		if (*rc != CTL_EXIT_OK)
			fprintf(stderr, "domuctl: update stage: %s: refused: "
			    "%s\n", o->req.service, jstr_or(e, "reason", "?"));
	}
	yajl_tree_free(root);
	return done;
}

/* the staged slot as update-status shows it, as the stage's answer */
static int
show_staged(int fd, const struct ctl_opts *o, uint64_t deadline)
{
	struct ctl_opts so = *o;
	char *reply = NULL;
	size_t off = 0, cap = 0, i;
	yajl_val root = NULL, s, slots, sl;
	int rc;

	strlcpy_(so.req.cmd, "update-status", sizeof(so.req.cmd));
	so.req.pcmd = proto_cmd_find("update-status");
	so.req.nfiles = 0;
	so.json = 0;
	if ((rc = request(fd, &so, deadline, &reply, &off, &cap)) != CTL_EXIT_OK)
		goto out;
	if (o->json) {
		fputs(reply, stdout);
		goto out;
	}
	root = yajl_tree_parse(reply, NULL, 0);
	s = json_at(jget(jget(root, "result", yajl_t_object), "services",
	    yajl_t_array), 0);
	slots = jget(s, "slots", yajl_t_array);
	for (i = 0; i < json_len(slots); i++) {
		sl = json_at(slots, i);
		if (strcmp(jstr_or(sl, "state", ""), "staged") != 0)
			continue;
		printf("%s: staged slot %s (version %s, %s)\n", o->req.service,
		    jstr_or(sl, "name", "?"), jstr_or(sl, "version", "-"),
		    jtrue(sl, "signed") ? "signed" : "not signed");
		print_files(jget(sl, "files", yajl_t_array), stdout);
	}
out:
	yajl_tree_free(root);
	free(reply);
	return rc;
}

/* update stage: the events followed first; domud answers once its copy
 * has begun, and says how it ended (staged, refused) as an event */
static int
update_stage(int fd, const struct ctl_opts *o, uint64_t deadline)
{
	struct ctl_lines ev = { .fd = -1 };
	char *reply = NULL, *line;
	size_t off = 0, cap = 0;
	int rc;

	if ((rc = ctl_events_follow(o, deadline, &ev)) != CTL_EXIT_OK)
		goto out;
	rc = ctl_update_stage(fd, o, deadline, &reply, &off, &cap);
	if (rc == CTL_EXIT_TIMEOUT)
		fprintf(stderr, "domuctl: no answer from domud within %d s\n",
		    o->timeout_ms / 1000);
	if (rc != CTL_EXIT_OK)
		goto out;
	if (!jtrue_line(reply)) {
		rc = ctl_render(o, reply, stdout, stderr);
		rc = rc != CTL_EXIT_OK ? rc : CTL_EXIT_FAILED;
		goto out;
	}
	while ((rc = ctl_next_line(&ev, deadline, &line)) == CTL_EXIT_OK)
		if (stage_event(o, line, &rc))
			break;
	if (rc == CTL_EXIT_TIMEOUT)
		fprintf(stderr, "domuctl: update stage: %s: not done within "
		    "%d s\n", o->req.service, o->timeout_ms / 1000);
	if (rc == CTL_EXIT_OK)
		rc = show_staged(fd, o, deadline);
out:
	ctl_lines_close(&ev);
	free(reply);
	fflush(stdout);
	return rc;
}

int
ctl_run_update(int fd, const struct ctl_opts *o, uint64_t deadline)
{
	const char *sub = o->cmd->name + strlen("update ");
	int rc;

	if (!strcmp(sub, "wait"))
		return update_wait(fd, o, deadline);
	if (!strcmp(sub, "switch"))
		return update_switch(fd, o, deadline, 0);
	/* stage, apply */
	rc = update_stage(fd, o, deadline);
	if (rc != CTL_EXIT_OK || !strcmp(sub, "stage"))
		return rc;
	return update_switch(fd, o, deadline, 1);
}
