// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * start/stop/restart --wait: the service's events are followed from before
 * the request is sent (nothing in between is missed), each shown as it
 * comes, until the service is where it was asked to go (running, or ready
 * for a memres service; stopped) or fails on the way.
 */
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

/* events -f on a connection of its own, before the request. 1 with *rc
 * when that failed; else 0, *efd, and in *buf (*have bytes, *bcap its
 * size) what came after the first reply line */
static int
wait_subscribe(const struct ctl_opts *o, uint64_t deadline, int *efd,
    char **buf, size_t *have, size_t *bcap, int *rc)
{
	struct ctl_opts ev = *o;
	size_t boff = 0;
	char *nl;

	if ((*efd = ctl_connect(o->run_dir, rc)) == -1)
		return 1;
	strlcpy_(ev.req.cmd, "events", sizeof(ev.req.cmd));
	ev.req.pcmd = proto_cmd_find("events");
	ev.req.follow = 1;
	ev.req.lines = 1;
	if ((*rc = ctl_request_reply(*efd, &ev, deadline, buf, &boff, bcap)) !=
	    CTL_EXIT_OK)
		return 1;
	if (strstr(*buf, "\"ok\":true") == NULL) {
		*rc = ctl_render(&ev, *buf, stdout, stderr);
		return 1;
	}
	nl = memchr(*buf, '\n', boff);
	*have = boff - (size_t)(nl - *buf) - 1;
	memmove(*buf, nl + 1, *have);
	return 0;
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

/* the events as they come on efd, until the service is there, fails on
 * the way, or the time is up */
static int
wait_events(const struct ctl_opts *o, int efd, char *buf, size_t have,
    size_t bcap, const char *want, uint64_t deadline)
{
	struct pollfd pfd;
	int rc = CTL_EXIT_OK;
	char *nl;
	ssize_t n;

	for (;;) {
		while ((nl = memchr(buf, '\n', have)) != NULL) {
			*nl = '\0';
			if (wait_event(o, buf, want, &rc))
				return rc;
			have -= (size_t)(nl - buf) + 1;
			memmove(buf, nl + 1, have);
		}
		if (have + 1 >= bcap)
			have = 0;	/* a line over the bound: dropped */
		pfd.fd = efd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, ctl_ms_left(deadline)) <= 0) {
			fprintf(stderr, "domuctl: %s: %s is not %s after %d s\n",
			    o->cmd->name, o->req.service, want,
			    o->timeout_ms / 1000);
			return CTL_EXIT_TIMEOUT;
		}
		n = read(efd, buf + have, bcap - have - 1);
		if (n <= 0) {
			fprintf(stderr, "domuctl: domud went away\n");
			return CTL_EXIT_NODAEMON;
		}
		have += (size_t)n;
	}
}

int
ctl_run_wait(int fd, const struct ctl_opts *o, uint64_t deadline)
{
	static const char *const st_path[] = { "result", "state", NULL };
	char *reply = NULL, *buf = NULL;
	size_t off = 0, cap = 0, have = 0, bcap = 0;
	int efd = -1, rc, there;
	const char *want;
	yajl_val root;

	/* what does up mean for it? then follow, first */
	if (wait_target(fd, o, deadline, &reply, &off, &cap, &want, &rc) ||
	    wait_subscribe(o, deadline, &efd, &buf, &have, &bcap, &rc))
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
	rc = wait_events(o, efd, buf, have, bcap, want, deadline);
out:
	if (efd != -1)
		close(efd);
	free(buf);
	free(reply);
	return rc;
}
