// SPDX-License-Identifier: GPL-2.0-or-later
/* exec and run: the command's output as it comes, its exit status as ours;
 * exec --batch: many commands on one connection. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl_tree.h>

#include "client.h"
#include "base/util.h"

/* exec --batch: where each command's time went, as the reply says:
 * domud's part (request to exit), the guest's (spawn, run, tail) */
#define BT_N	4
static long long batch_t[BT_N];

static void
batch_timing(const char *reply)
{
	static const char *const keys[BT_N] = { "domud_us", "guest_spawn_us",
	    "guest_run_us", "guest_tail_us" };
	yajl_val root = yajl_tree_parse(reply, NULL, 0), v;
	size_t k;

	for (k = 0; k < BT_N; k++) {
		const char *path[] = { "result", "timing", keys[k], NULL };

		v = root ? yajl_tree_get(root, path, yajl_t_number) : NULL;
		batch_t[k] = v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : -1;
	}
	yajl_tree_free(root);
}

/* the complete lines in buf from *off on: output events shown; 1 with *rc
 * at the final reply */
static int
exec_lines(const struct ctl_opts *o, char *buf, size_t *off, size_t have,
    int *rc)
{
	char *nl;

	while ((nl = memchr(buf + *off, '\n', have - *off)) != NULL) {
		*nl = '\0';
		if (o->json)
			printf("%s\n", buf + *off);
		if (!ctl_exec_event(o, buf + *off)) {
			/* the cancel's own reply carries no "result" exit */
			if (strstr(buf + *off, "\"cancelled\":") != NULL &&
			    strstr(buf + *off, "\"exit\":") == NULL) {
				*off = (size_t)(nl - buf) + 1;
				continue;
			}
			fflush(stdout);
			if (o->batch)
				batch_timing(buf + *off);
			*rc = ctl_exec_status(buf + *off, stderr);
			return 1;
		}
		*off = (size_t)(nl - buf) + 1;
	}
	return 0;
}

/*
 * exec: the request, then output events until the final reply. Ctrl-C
 * asks domud to cancel the command in the guest and waits for its end;
 * a second Ctrl-C leaves at once.
 */
int
ctl_run_exec(int fd, const struct ctl_opts *o)
{
	static const char cancel[] = "{\"v\":1,\"cmd\":\"cancel\"}\n";
	char *line = proto_encode_request(&o->req), *buf = NULL;
	size_t len = strlen(line), off = 0, cap = 0, have = 0;
	struct sigaction sa;
	struct pollfd pfd = { fd, POLLIN, 0 };
	int sent_cancel = 0, rc;
	ssize_t n;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ctl_on_sigint;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (write_all(fd, (uint8_t *)line, len) == -1) {
		fprintf(stderr, "domuctl: lost the connection to domud\n");
		free(line);
		return CTL_EXIT_NODAEMON;
	}
	free(line);
	for (;;) {
		if (ctl_interrupted && !sent_cancel) {
			sent_cancel = 1;
			(void)write_all(fd, (const uint8_t *)cancel,
			    sizeof(cancel) - 1);
			fprintf(stderr, "domuctl: cancelling the command in the "
			    "guest (Ctrl-C again to leave now)\n");
		}
		if (ctl_interrupted > 1) {
			free(buf);
			return CTL_EXIT_EXEC_CANCELLED;
		}
		if (have + 65536 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 131072;
			if (cap > 8 * PROTO_REPLY_MAX || (nb = realloc(buf,
			    cap)) == NULL) {
				fprintf(stderr, "domuctl: exec: a line too large\n");
				free(buf);
				return CTL_EXIT_EXEC_ERROR;
			}
			buf = nb;
		}
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			free(buf);
			return CTL_EXIT_EXEC_ERROR;
		}
		n = read(fd, buf + have, cap - have - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "domuctl: exec: domud closed the "
			    "connection before the command ended\n");
			free(buf);
			return CTL_EXIT_EXEC_ERROR;
		}
		have += (size_t)n;
		buf[have] = '\0';
		if (exec_lines(o, buf, &off, have, &rc)) {
			free(buf);
			return rc;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
		off = 0;
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* the median of n values, sorted in place; 0 for none */
static uint64_t
median_u64(uint64_t *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

/*
 * exec --batch: each line of stdin is a shell command, run one after the
 * other on one connection (no process start and connect per command);
 * after each, "# exit N in M ms" on stderr, at the end a summary. The
 * exit status is the last failing command's, or 0.
 */
int
ctl_run_batch(int fd, struct ctl_opts *o)
{
	char line[PROTO_REQ_MAX];
	uint64_t *ms = NULL, *parts[BT_N] = { NULL }, t0;
	size_t n = 0, cap = 0, failed = 0, len, k, np[BT_N] = { 0 };
	int rc, last = CTL_EXIT_OK;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		len = strcspn(line, "\n");
		line[len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (len + 1 > sizeof(o->req.args)) {
			fprintf(stderr, "domuctl: exec --batch: a line over %zu "
			    "bytes\n", sizeof(o->req.args) - 1);
			last = CTL_EXIT_USAGE;
			break;
		}
		memcpy(o->req.args, line, len + 1);
		o->req.args_len = len + 1;
		o->req.argc = 1;
		o->req.id++;
		t0 = mono_us();
		for (k = 0; k < BT_N; k++)
			batch_t[k] = -1;
		rc = ctl_run_exec(fd, o);
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			ms = xrealloc(ms, cap * sizeof(*ms));
			for (k = 0; k < BT_N; k++)
				parts[k] = xrealloc(parts[k], cap *
				    sizeof(*parts[k]));
		}
		ms[n++] = mono_us() - t0;
		for (k = 0; k < BT_N; k++)
			if (batch_t[k] >= 0)
				parts[k][np[k]++] = (uint64_t)batch_t[k];
		fflush(stdout);
		fprintf(stderr, "# exit %d in %llu us (domud %lld us; guest: "
		    "spawn %lld, run %lld, tail %lld us)\n", rc,
		    (unsigned long long)ms[n - 1], batch_t[0], batch_t[1],
		    batch_t[2], batch_t[3]);
		if (rc != CTL_EXIT_OK) {
			failed++;
			last = rc;
		}
		/* the connection is gone, or a Ctrl-C: no more */
		if (rc == CTL_EXIT_NODAEMON || rc == CTL_EXIT_EXEC_CANCELLED ||
		    ctl_interrupted)
			break;
	}
	if (n > 0) {
		uint64_t med = median_u64(ms, n);

		fprintf(stderr, "domuctl: %zu commands, %zu failed; each took "
		    "%llu us at the median (%llu to %llu): domud %llu us, the "
		    "guest's spawn %llu, run %llu, tail %llu us (medians)\n", n,
		    failed, (unsigned long long)med, (unsigned long long)ms[0],
		    (unsigned long long)ms[n - 1],
		    (unsigned long long)median_u64(parts[0], np[0]),
		    (unsigned long long)median_u64(parts[1], np[1]),
		    (unsigned long long)median_u64(parts[2], np[2]),
		    (unsigned long long)median_u64(parts[3], np[3]));
	}
	free(ms);
	for (k = 0; k < BT_N; k++)
		free(parts[k]);
	return last;
}
