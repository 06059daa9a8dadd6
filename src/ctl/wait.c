// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * start/stop/restart --wait: the service's events are followed from before
 * the request is sent (nothing in between is missed), each shown as it
 * comes, until the service is where it was asked to go (running, or ready
 * for a memres service; stopped) or fails on the way. The following, a
 * line at a time, is update wait's too.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl_tree.h>

#include "client.h"
#include "base/json.h"
#include "base/util.h"

/* a string field of a reply's first service or of an event */
static int
field_is(yajl_val v, const char *const *path, const char *want)
{
	yajl_val f = yajl_tree_get(v, (const char **)path, yajl_t_string);
	const char *got = f ? YAJL_GET_STRING(f) : NULL;

	return got != NULL && strcmp(got, want) == 0;
}

/* where the service is to go: "running", or "ready" when its ready= waits
 * for the agent or a probe; "stopped" for stop. 1 with *rc when asking
 * failed, else 0 */
static int
wait_target(int fd, const struct ctl_opts *o, uint64_t deadline,
    char **reply, size_t *off, size_t *cap, const char **want, int *rc)
{
	static const char *const memres_path[] = { "result", "services",
	    NULL };
	struct ctl_opts st = *o;
	yajl_val root, v;

	*want = "running";
	strlcpy_(st.req.cmd, "status", sizeof(st.req.cmd));
	st.req.pcmd = proto_cmd_find("status");
	if ((*rc = ctl_request_reply(fd, &st, deadline, reply, off, cap)) !=
	    CTL_EXIT_OK)
		return 1;
	if ((root = yajl_tree_parse(*reply, NULL, 0)) != NULL) {
		v = yajl_tree_get(root, (const char **)memres_path,
		    yajl_t_array);
		yajl_val rw = json_len(v) > 0 ? yajl_tree_get(json_at(v, 0),
		    (const char *[]){ "ready_when", NULL }, yajl_t_string) :
		    NULL;
		const char *when = rw ? YAJL_GET_STRING(rw) : NULL;

		/* up means ready when its ready= waits for the agent or a
		 * probe */
		if (when != NULL && strcmp(when, "running") != 0)
			*want = "ready";
		yajl_tree_free(root);
	} else if (ctl_render(&st, *reply, stdout, stderr) != CTL_EXIT_OK) {
		*rc = CTL_EXIT_FAILED;
		return 1;
	}
	if (!strcmp(o->cmd->name, "stop"))
		*want = "stopped";
	return 0;
}

int
ctl_events_follow(const struct ctl_opts *o, uint64_t deadline,
    struct ctl_lines *ev)
{
	struct ctl_opts eo = *o;
	size_t off = 0;
	yajl_val root;
	char *nl;
	int rc, ok;

	memset(ev, 0, sizeof(*ev));
	if ((ev->fd = ctl_connect(o->run_dir, &rc)) == -1)
		return rc;
	strlcpy_(eo.req.cmd, "events", sizeof(eo.req.cmd));
	eo.req.pcmd = proto_cmd_find("events");
	eo.req.follow = 1;
	eo.req.lines = 1;
	eo.req.nfiles = 0;	/* update stage's, not the events' */
	if ((rc = ctl_request_reply(ev->fd, &eo, deadline, &ev->buf, &off,
	    &ev->cap)) != CTL_EXIT_OK)
		return rc;
	/* the reply itself (the last event before) is skipped */
	nl = memchr(ev->buf, '\n', off);
	*nl = '\0';
	root = yajl_tree_parse(ev->buf, NULL, 0);
	ok = root && YAJL_IS_TRUE(yajl_tree_get(root, (const char *[]){ "ok",
	    NULL }, yajl_t_any));
	yajl_tree_free(root);
	if (!ok) {
		rc = ctl_render(&eo, ev->buf, stdout, stderr);
		return rc != CTL_EXIT_OK ? rc : CTL_EXIT_FAILED;
	}
	ev->have = off;
	ev->used = (size_t)(nl - ev->buf) + 1;
	return CTL_EXIT_OK;
}

int
ctl_next_line(struct ctl_lines *ev, uint64_t deadline, char **line)
{
	struct pollfd pfd = { ev->fd, POLLIN, 0 };
	char *nl;
	ssize_t n;

	if (ev->buf == NULL)
		return CTL_EXIT_NODAEMON;	/* never followed */
	ev->have -= ev->used;
	memmove(ev->buf, ev->buf + ev->used, ev->have);
	ev->used = 0;
	for (;;) {
		if ((nl = memchr(ev->buf, '\n', ev->have)) != NULL) {
			*nl = '\0';
			ev->used = (size_t)(nl - ev->buf) + 1;
			*line = ev->buf;
			return CTL_EXIT_OK;
		}
		if (ev->have + 1 >= ev->cap)
			ev->have = 0;	/* a line over the bound: dropped */
		n = poll(&pfd, 1, ctl_ms_left(deadline));
		if ((n == -1 && errno == EINTR) ||
		    (n == 0 && ctl_ms_left(deadline) > 0))
			continue;	/* no deadline: polls of INT_MAX ms */
		if (n <= 0)
			return CTL_EXIT_TIMEOUT;
		n = read(ev->fd, ev->buf + ev->have, ev->cap - ev->have - 1);
		if (n <= 0)
			return CTL_EXIT_NODAEMON;
		ev->have += (size_t)n;
	}
}

void
ctl_lines_close(struct ctl_lines *ev)
{
	if (ev->fd != -1)
		close(ev->fd);
	ev->fd = -1;
	free(ev->buf);
	ev->buf = NULL;
}

/* one event line, shown; 1 when the service got where it was asked to go
 * or failed on the way (*rc), else 0 */
static int
wait_event(const struct ctl_opts *o, const char *line, const char *want,
    int *rc)
{
	static const char *const to_path[] = { "data", "to", NULL },
	    *reason_path[] = { "data", "reason", NULL };
	int stopping = !strcmp(o->cmd->name, "stop"), done = 0;
	yajl_val root, v, r;

	if (o->json)
		printf("%s\n", line);
	root = yajl_tree_parse(line, NULL, 0);
	v = root ? yajl_tree_get(root, (const char *[]){ "data", NULL },
	    yajl_t_object) : NULL;
	if (v == NULL) {
		yajl_tree_free(root);
		return 0;
	}
	if (!o->json)
		ctl_print_event(v, stdout);
	fflush(stdout);
	if (field_is(root, to_path, want))
		done = 1;
	else if (field_is(root, to_path, "failed") ||
	    (!stopping && (field_is(root, to_path, "backoff") ||
	    field_is(root, to_path, "stopped")))) {
		r = yajl_tree_get(root, (const char **)reason_path,
		    yajl_t_string);
		fprintf(stderr, "domuctl: %s: %s did not come %s: %s\n",
		    o->cmd->name, o->req.service, stopping ? "to a stop" : "up",
		    r ? YAJL_GET_STRING(r) : "?");
		*rc = CTL_EXIT_FAILED;
		done = 1;
	}
	yajl_tree_free(root);
	return done;
}

/* the events as they come, until the service is there, fails on the
 * way, or the time is up */
static int
wait_events(const struct ctl_opts *o, struct ctl_lines *ev, const char *want,
    uint64_t deadline)
{
	int rc;
	char *line;

	while ((rc = ctl_next_line(ev, deadline, &line)) == CTL_EXIT_OK)
		if (wait_event(o, line, want, &rc))
			return rc;
	if (rc == CTL_EXIT_TIMEOUT)
		fprintf(stderr, "domuctl: %s: %s is not %s after %d s\n",
		    o->cmd->name, o->req.service, want, o->timeout_ms / 1000);
	else
		fprintf(stderr, "domuctl: domud went away\n");
	return rc;
}

int
ctl_run_wait(int fd, const struct ctl_opts *o, uint64_t deadline)
{
	static const char *const st_path[] = { "result", "state", NULL };
	struct ctl_lines ev = { .fd = -1 };
	char *reply = NULL;
	size_t off = 0, cap = 0;
	int rc, there;
	const char *want;
	yajl_val root;

	/* what does up mean for it? then follow, first */
	if (wait_target(fd, o, deadline, &reply, &off, &cap, &want, &rc) ||
	    (rc = ctl_events_follow(o, deadline, &ev)) != CTL_EXIT_OK)
		goto out;
	/* then the request */
	if ((rc = ctl_request_reply(fd, o, deadline, &reply, &off, &cap)) !=
	    CTL_EXIT_OK)
		goto out;
	if ((rc = ctl_render(o, reply, stdout, stderr)) != CTL_EXIT_OK)
		goto out;
	if ((root = yajl_tree_parse(reply, NULL, 0)) != NULL) {
		there = field_is(root, st_path, want);
		yajl_tree_free(root);
		if (there)
			goto out;	/* already where it was asked to go */
	}
	rc = wait_events(o, &ev, want, deadline);
out:
	ctl_lines_close(&ev);
	free(reply);
	return rc;
}
