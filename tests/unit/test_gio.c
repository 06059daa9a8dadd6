// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The guest I/O process (chan/gio.h) as domud runs it: domud's binary
 * with --guest-io. Its sandbox refuses what it must (open, kill of its
 * parent, socket, fork); its loss is survived (the command in flight
 * fails saying so, a new process takes the channel, the next command
 * works); a child that breaks the protocol is killed and replaced.
 */
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "chan/frame.h"
#include "chan/gio.h"
#include "helpers.h"

static const char *
domud_bin(void)
{
	const char *d = getenv("DOMUD");

	ck_assert_msg(d != NULL, "DOMUD (domud's binary) is not set: make unit");
	return d;
}

/* the child's sandbox, tried from inside: each call refused with EPERM */
START_TEST(child_sandbox_refuses)
{
	const char *bin = domud_bin();	/* not in the child: Check's own
					 * descriptor is 3 there */
	char line[256];
	ssize_t n, got = 0;
	int p[2], st;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (dup2(p[1], 3) == -1)
			_exit(99);
		execl(bin, "domud", "--guest-io-selftest", (char *)NULL);
		_exit(98);
	}
	close(p[1]);
	while ((n = read(p[0], line + got, sizeof(line) - 1 - (size_t)got)) > 0)
		got += n;
	close(p[0]);
	line[got] = '\0';
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	/* EPERM is 1: the filter's answer (the uid alone would not stop
	 * open of a world-readable file, nor socket or fork) */
	ck_assert_str_eq(line, "open=1 kill=1 socket=1 fork=1\n");
	/* and this process, its parent, is still here to say so */
}
END_TEST

struct seen {
	int		 done;
	struct chan_result r;
	uint32_t	 exec_id;	/* of the FT_EXEC the child wrote */
	int		 noise;
};

static void
x_done(void *ctx, const struct chan_result *r)
{
	struct seen *s = ctx;

	s->done++;
	s->r = *r;
}

static void
c_noise(void *arg, const uint8_t *b, size_t n)
{
	(void)b;
	((struct seen *)arg)->noise += (int)n;
}

static void
on_frame(void *arg, const struct frame *f)
{
	if (f->type == FT_EXEC)
		((struct seen *)arg)->exec_id = f->id;
}

static void
no_noise(void *arg, const uint8_t *b, size_t n)
{
	(void)arg;
	(void)b;
	(void)n;
}

/* rounds of the loop for gio alone, until cond or ms */
static void
pump(struct gio *g, int ms, int (*cond)(void *), void *arg)
{
	uint64_t end = mono_ms() + (uint64_t)ms;
	struct pollfd fds[2];
	int nfds, timeout;

	while (mono_ms() < end && !(cond && cond(arg))) {
		nfds = 0;
		timeout = 20;
		gio_before_poll(g, fds, &nfds, 2, &timeout);
		(void)poll(fds, (nfds_t)nfds, timeout > 20 || timeout < 0 ? 20 :
		    timeout);
		gio_after_poll(g, fds, nfds);
	}
}

/* what the child put on the console for the guest, as frames */
static void
console_frames(struct gio_chan *c, struct seen *s)
{
	struct frame_parser fp;
	const uint8_t *p;
	uint8_t buf[CHAN_WQ_MAX];
	size_t n;
	int esc = 0;

	n = gio_pending(c, &p);
	memcpy(buf, p, n);
	gio_written(c, n);
	n = frame_unstuff(buf, n, &esc);
	frame_parser_init(&fp);
	frame_feed(&fp, buf, n, on_frame, no_noise, s);
}

static int
restarted(void *arg)
{
	return gio_pid(arg, NULL) > 0;
}

static int
is_done(void *arg)
{
	return ((struct seen *)arg)->done > 0;
}

static int
has_exec(void *arg)
{
	struct seen *s = arg;

	return s->exec_id != 0;
}

struct probe {
	struct gio_chan	*c;
	struct seen	*s;
};

static int
exec_written(void *arg)
{
	struct probe *pr = arg;

	console_frames(pr->c, pr->s);
	return has_exec(pr->s);
}

START_TEST(child_loss_survived)
{
	static const struct gio_chan_ops ops = { c_noise, NULL };
	char *argv[] = { "sleep", "30", NULL }, why[128];
	struct frame ex = { FT_EXIT, 0, 0, 1, 8, NULL };
	uint8_t exitp[8] = { 0 }, f[FRAME_MAX];
	struct seen s1, s2;
	struct chan_exec_cb cb1 = { NULL, x_done, &s1 },
	    cb2 = { NULL, x_done, &s2 };
	struct probe pr;
	struct gio_chan *c;
	struct gio *g;
	uint64_t restarts;
	uint32_t id1, id2;
	pid_t pid1, pid2;

	memset(&s1, 0, sizeof(s1));
	memset(&s2, 0, sizeof(s2));
	g = gio_new(domud_bin(), 0);
	/* no channel, no process */
	ck_assert_int_eq(gio_pid(g, &restarts), 0);
	c = gio_open(g, 0, &ops, &s1);
	ck_assert_ptr_nonnull(c);
	pid1 = gio_pid(g, &restarts);
	ck_assert_int_gt(pid1, 0);
	ck_assert_uint_eq(restarts, 0);
	/* a command in flight: the child framed it for the guest */
	ck_assert_int_eq(gio_exec(c, argv, 0, 60000, &cb1, &id1, why,
	    sizeof(why)), 0);
	pr.c = c;
	pr.s = &s1;
	pump(g, 5000, exec_written, &pr);
	ck_assert_uint_eq(s1.exec_id, id1);

	/* the child dies */
	ck_assert_int_eq(kill(pid1, SIGKILL), 0);
	pump(g, 5000, is_done, &s1);
	ck_assert_int_eq(s1.done, 1);
	ck_assert_int_eq(s1.r.ran, 0);
	ck_assert_msg(strstr(s1.r.error, "guest I/O process was lost") != NULL,
	    "%s", s1.r.error);
	/* started again (after a moment: it had lived less than 10 s) */
	pump(g, 5000, restarted, g);
	pid2 = gio_pid(g, &restarts);
	ck_assert_int_gt(pid2, 0);
	ck_assert_int_ne(pid2, pid1);
	ck_assert_uint_eq(restarts, 1);

	/* the next command goes through the new one, and its end comes back */
	ck_assert_int_eq(gio_exec(c, argv, 0, 60000, &cb2, &id2, why,
	    sizeof(why)), 0);
	pr.s = &s2;
	pump(g, 5000, exec_written, &pr);
	ck_assert_uint_eq(s2.exec_id, id2);
	ex.id = id2;
	ex.data = exitp;
	gio_input(c, f, frame_encode(f, &ex));
	pump(g, 5000, is_done, &s2);
	ck_assert_int_eq(s2.done, 1);
	ck_assert_int_eq(s2.r.ran, 1);
	ck_assert_int_eq(s2.r.code, 0);
	gio_close(c, "done");
	gio_free(g);
}
END_TEST

/* a child that says what it should not is killed and replaced */
START_TEST(child_protocol_error_replaced)
{
	uint8_t junk[sizeof(struct gio_hdr)];
	struct gio *g;
	uint64_t restarts;
	pid_t pid1, pid2;
	int st;

	static const struct gio_chan_ops ops = { NULL, NULL };
	struct gio_chan *c;

	g = gio_new(domud_bin(), 0);
	c = gio_open(g, 0, &ops, NULL);
	pid1 = gio_pid(g, NULL);
	ck_assert_int_gt(pid1, 0);
	memset(junk, 0, sizeof(junk));
	junk[0] = GM_EXEC;	/* a parent's message, from the child */
	gio_inject(g, junk, sizeof(junk));
	gio_after_poll(g, NULL, 0);
	pump(g, 5000, restarted, g);
	pid2 = gio_pid(g, &restarts);
	ck_assert_uint_eq(restarts, 1);
	ck_assert_int_gt(pid2, 0);
	ck_assert_int_ne(pid2, pid1);
	/* the old one is gone, reaped */
	ck_assert_int_eq(waitpid(pid1, &st, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	gio_close(c, "done");
	gio_free(g);
}
END_TEST

Suite *
gio_suite(void)
{
	Suite *s = suite_create("gio");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, child_sandbox_refuses);
	tcase_add_test(tc, child_loss_survived);
	tcase_add_test(tc, child_protocol_error_replaced);
	suite_add_tcase(s, tc);
	return s;
}
