// SPDX-License-Identifier: GPL-2.0-or-later
/* domuctl: the field engineer's CLI for domud, over its control socket.
 * The commands that keep the connection open are in the files beside this
 * one (client.h); here: one request and its reply, and top. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl_tree.h>

#include "ctl.h"
#include "client.h"
#include "base/util.h"

/* top: status every -d seconds, as a table; on a terminal the screen is
 * redrawn, otherwise (or with -n) each round follows the last (batch) */
static int
run_top(const struct ctl_opts *o)
{
	static const char *const svc_path[] = { "result", "services", NULL };
	char *reply = NULL;
	size_t off = 0, cap = 0;
	int fd, rc = CTL_EXIT_OK, round, redraw = isatty(1) && !o->json &&
	    o->top_iter == 0;
	yajl_val root, prev = NULL;
	uint64_t at = 0, prev_at = 0;

	for (round = 0; o->top_iter == 0 || round < o->top_iter; round++) {
		if (round > 0)
			(void)poll(NULL, 0, o->top_delay_ms);
		if ((fd = ctl_connect(o->run_dir, &rc)) == -1)
			break;
		at = mono_ms();
		rc = ctl_request_reply(fd, o, at + (uint64_t)o->timeout_ms,
		    &reply, &off, &cap);
		close(fd);
		if (rc != CTL_EXIT_OK)
			break;
		if (o->json) {
			fputs(reply, stdout);
			fflush(stdout);
			continue;
		}
		if ((root = yajl_tree_parse(reply, NULL, 0)) == NULL ||
		    yajl_tree_get(root, (const char **)svc_path,
		    yajl_t_array) == NULL) {
			yajl_tree_free(root);
			rc = ctl_render(o, reply, stdout, stderr);
			break;
		}
		if (redraw)
			fputs("\033[H\033[2J", stdout);
		else if (round > 0)
			fputs("\n", stdout);
		ctl_print_top(yajl_tree_get(root, (const char **)svc_path,
		    yajl_t_array), prev ? yajl_tree_get(prev, (const char **)
		    svc_path, yajl_t_array) : NULL, (double)(at - prev_at) /
		    1000.0, stdout);
		fflush(stdout);
		yajl_tree_free(prev);
		prev = root;
		prev_at = at;
	}
	yajl_tree_free(prev);
	free(reply);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ctl_opts o;
	char err[256], *reply = NULL;
	size_t off = 0, cap = 0;
	uint64_t deadline, busy_until;
	int fd, rc = CTL_EXIT_OK, delay = 50;

	signal(SIGPIPE, SIG_IGN);
	if ((rc = ctl_parse_args(argc, argv, &o, err, sizeof(err))) != 0) {
		if (err[0])
			fprintf(stderr, "domuctl: %s\n", err);
		ctl_usage(stderr);
		return rc;
	}
	if (!strcmp(o.cmd->name, "top"))
		return run_top(&o);
	deadline = mono_ms() + (uint64_t)o.timeout_ms;
	/* a daemon too busy to take us: again, for a while, then say so */
	busy_until = mono_ms() + CTL_BUSY_RETRY_MS;
	for (;;) {
		if ((fd = ctl_connect(o.run_dir, &rc)) == -1 &&
		    rc == CTL_EXIT_BUSY && mono_ms() + (uint64_t)delay <
		    busy_until) {
			(void)poll(NULL, 0, delay);
			delay *= 2;
			continue;
		}
		if (fd == -1) {
			if (rc == CTL_EXIT_BUSY)
				fprintf(stderr, "domuctl: domud is busy: too many "
				    "clients; try again later\n");
			return (rc == CTL_EXIT_NODAEMON || rc == CTL_EXIT_BUSY) &&
			    !strcmp(o.cmd->name, "exec") ? CTL_EXIT_EXEC_ERROR :
			    rc;
		}
		if (!strcmp(o.cmd->name, "exec") || !strcmp(o.cmd->name, "run"))
			return o.batch ? ctl_run_batch(fd, &o) :
			    ctl_run_exec(fd, &o);
		if (!strcmp(o.cmd->name, "cp"))
			return ctl_run_cp(fd, &o);
		if (!strcmp(o.cmd->name, "console"))
			return ctl_run_console(fd, &o);
		if (o.update)
			return ctl_run_update(fd, &o, deadline);
		if (o.wait)
			return ctl_run_wait(fd, &o, deadline);
		rc = ctl_request_reply(fd, &o, deadline, &reply, &off, &cap);
		if (rc == CTL_EXIT_TIMEOUT)
			goto timeout;
		if (rc != CTL_EXIT_OK) {
			free(reply);
			return rc;
		}
		if (!ctl_refused_busy(reply) || mono_ms() + (uint64_t)delay >=
		    busy_until)
			break;
		close(fd);
		(void)poll(NULL, 0, delay);
		delay *= 2;
	}
	if (ctl_refused_busy(reply)) {
		fprintf(stderr, "domuctl: domud is busy (too many clients); try "
		    "again later\n");
		free(reply);
		return CTL_EXIT_BUSY;
	}
	if (o.req.follow) {
		char *nl = memchr(reply, '\n', off);
		size_t rest = off - (size_t)(nl - reply) - 1;

		*nl = '\0';
		rc = ctl_render(&o, reply, stdout, stderr);
		fflush(stdout);
		if (rc != CTL_EXIT_OK)
			return rc;
		memmove(reply, nl + 1, rest);
		rc = ctl_follow(fd, &o, reply, rest, cap);
		free(reply);
		return rc;
	}
	close(fd);
	rc = ctl_render(&o, reply, stdout, stderr);
	free(reply);
	return rc;
timeout:
	free(reply);
	fprintf(stderr, "domuctl: no answer from domud within %d s\n",
	    o.timeout_ms / 1000);
	return CTL_EXIT_TIMEOUT;
}

