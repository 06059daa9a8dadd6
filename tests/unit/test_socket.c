// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control sockets for real: domuctl (the built binary) run as other
 * users, authorised from SO_PEERCRED and SO_PEERGROUPS. The tests that
 * switch users need root; elsewhere they are not registered but skipped,
 * loudly and counted (t_skip), never passed without running.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/control.h"
#include "core/jobs.h"
#include "core/verbs.h"
#include "ctl/ctl.h"
#include "fake_backend.h"
#include "helpers.h"
#include "base/fileio.h"
#include "base/util.h"

#define GID_READ	47001
#define GID_ADMIN	47002
#define UID_USER	47100

static const char *domuctl_path;
/* run_as serves the supervisor's loop too (a stage's thread ends there) */
static int serve_sup;

struct run {
	int	 status;
	char	 out[4096];
};

/* run domuctl as uid/gid with one supplementary group, serving the
 * daemon side in this process until it exits */
static void
run_as(struct control *ctl, const char *rundir, gid_t supp, gid_t primary,
    struct run *r, const char *const *args)
{
	struct pollfd fds[64];
	int pipefd[2], nfds, timeout, st;
	size_t off = 0;
	pid_t pid;
	ssize_t n;

	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const char *argv[12];
		gid_t g[1] = { supp };
		int i = 0, k;

		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		if (setgroups(supp ? 1 : 0, g) == -1 || setgid(primary) == -1 ||
		    setuid(UID_USER) == -1)
			_exit(99);
		argv[i++] = domuctl_path;
		argv[i++] = "-r";
		argv[i++] = rundir;
		argv[i++] = "-t";
		argv[i++] = "5";
		for (k = 0; args[k] && i < 11; k++)
			argv[i++] = args[k];
		argv[i] = NULL;
		execv(domuctl_path, (char *const *)argv);
		_exit(98);
	}
	close(pipefd[1]);
	for (;;) {
		nfds = 0;
		timeout = 100;
		fds[nfds].fd = pipefd[0];
		fds[nfds++].events = POLLIN;
		control_before_poll(ctl, fds, &nfds, 64, &timeout);
		if (serve_sup)
			sup_before_poll(ctl->sup, fds, &nfds, 64, &timeout);
		ck_assert_int_ge(poll(fds, (nfds_t)nfds, 100), 0);
		control_after_poll(ctl, fds, nfds);
		if (serve_sup) {
			ctl->sup->now = mono_ms();
			sup_after_poll(ctl->sup, fds, nfds);
		}
		if (fds[0].revents) {
			n = read(pipefd[0], r->out + off, sizeof(r->out) - off - 1);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
	}
	r->out[off] = '\0';
	close(pipefd[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* as if the groups existed: sockets 0660 in each role's group */
static void
ctl_groups(struct control *ctl)
{
	ctl->auth.read_gid = GID_READ;
	ctl->auth.admin_gid = GID_ADMIN;
	ck_assert_int_eq(chown(ctl->path_admin, 0, GID_ADMIN), 0);
	ck_assert_int_eq(chmod(ctl->path_admin, 0660), 0);
	ck_assert_int_eq(chown(ctl->path_ro, 0, GID_READ), 0);
	ck_assert_int_eq(chmod(ctl->path_ro, 0660), 0);
}

START_TEST(roles_on_real_sockets)
{
	struct config *cfg = config_new("domud.conf");
	char *dir = t_tmpdir(), path[512];
	struct fake_backend *fb = fake_new(1ULL << 30);
	struct err e = ERR_INIT;
	struct control ctl;
	struct run r;
	const char *status[] = { "status", NULL }, *stop[] = { "stop", "gw", NULL },
	    *start[] = { "start", "gw", NULL };

	chmod(dir, 0755);
	free(cfg->d.log_dir);
	cfg->d.log_dir = xstrdup(dir);
	free(cfg->d.state_dir);
	cfg->d.state_dir = xstrdup(dir);
	config_add_service(cfg, t_service(cfg, "gw", "[service]\nkernel = "
	    "/dev/null\nmemory = 64M\n"));
	config_finish(cfg);
	memset(&ctl, 0, sizeof(ctl));
	ctl.sup = sup_new(&fb->be, cfg);
	verbs_setup(&ctl);
	ck_assert_msg(control_listen(&ctl, dir, "domud-test-no-such-group",
	    "domud-test-no-such-group", &e) == 0, "%s", e.msg);
	ctl_groups(&ctl);

	/* a reader can read... */
	run_as(&ctl, dir, GID_READ, UID_USER, &r, status);
	ck_assert_msg(r.status == 0, "status as reader: %d %s", r.status, r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "gw"));
	/* ...but not stop, and is told why */
	run_as(&ctl, dir, GID_READ, UID_USER, &r, stop);
	ck_assert_msg(r.status == CTL_EXIT_DENIED, "stop as reader: %d %s",
	    r.status, r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "needs root or the admin group"));
	ck_assert_int_eq(fb->nshutdown, 0);
	/* an admin only through a supplementary group, outside the read group */
	run_as(&ctl, dir, GID_ADMIN, UID_USER, &r, start);
	ck_assert_msg(r.status == 0, "start as admin: %d %s", r.status, r.out);
	ck_assert_int_eq(fb->ncreate, 1);
	/* in neither group: not even a connection */
	run_as(&ctl, dir, 0, UID_USER, &r, status);
	ck_assert_msg(r.status == CTL_EXIT_DENIED, "stranger: %d %s", r.status,
	    r.out);

	control_close(&ctl);
	snprintf(path, sizeof(path), "%s/%s", dir, PROTO_SOCK);
	ck_assert_int_ne(access(path, F_OK), 0);
	/* no daemon: domuctl says so, exit 3 */
	run_as(&ctl, dir, GID_ADMIN, UID_USER, &r, status);
	ck_assert_int_eq(r.status, CTL_EXIT_NODAEMON);
	ck_assert_ptr_nonnull(strstr(r.out, "not running"));
	fake_create_done(fb, "gw", 0);
	fake_run(fb);
	sup_free(ctl.sup);
	fb->be.ops->free(&fb->be);
	t_rmtree(dir);
}
END_TEST

static void ctl_open(struct control *, struct config *, struct fake_backend *,
    const char *);

/*
 * update stage: domuctl opens the files with the user's own rights and
 * domud takes them as descriptors; a file the user cannot read is refused
 * by domuctl (domud, root, would have read it), a reader may not stage,
 * a stage's end is said, and the staged slot holds what was sent.
 */
START_TEST(stage_sends_descriptors_with_the_users_rights)
{
	struct config *cfg = config_new("domud.conf");
	char *dir = t_tmpdir(), kernel[512], secret[512], want[600];
	struct fake_backend *fb = fake_new(1ULL << 30);
	struct err e = ERR_INIT;
	struct control ctl;
	struct service *s;
	struct run r;
	const char *stage[] = { "update", "stage", "gw", "--kernel", kernel,
	    NULL }, *steal[] = { "update", "stage", "gw", "--kernel", secret,
	    NULL };

	chmod(dir, 0755);
	config_add_service(cfg, t_service(cfg, "gw", "[service]\nkernel = "
	    "/dev/null\nmemory = 64M\nupdate = yes\n"));
	ctl_open(&ctl, cfg, fb, dir);
	ctl_groups(&ctl);
	s = sup_find(ctl.sup, "gw");
	ck_assert_ptr_nonnull(s->upd.dir);
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz-2", dir);
	ck_assert_int_eq(fileio_write_atomic(dir, "vmlinuz-2", "kernel 2", 8,
	    0644, &e), 0);
	snprintf(secret, sizeof(secret), "%s/root-only", dir);
	ck_assert_int_eq(fileio_write_atomic(dir, "root-only", "secret", 6,
	    0600, &e), 0);
	serve_sup = 1;
	/* a reader may not */
	run_as(&ctl, dir, GID_READ, UID_USER, &r, stage);
	ck_assert_msg(r.status != 0, "stage as reader: %s", r.out);
	ck_assert_int_eq(s->upd.slots[1].state, SL_EMPTY);
	/* an admin cannot make domud read what the admin cannot */
	run_as(&ctl, dir, GID_ADMIN, UID_USER, &r, steal);
	ck_assert_msg(r.status != 0, "stage of a root-only file: %s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "root-only"));
	ck_assert_int_eq(s->upd.slots[1].state, SL_EMPTY);
	/* a file of its own: staged into slot b, the digest of what it sent */
	run_as(&ctl, dir, GID_ADMIN, UID_USER, &r, stage);
	ck_assert_msg(r.status == 0, "stage as admin: %d %s", r.status, r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "staged slot b"));
	ck_assert_int_eq(s->upd.slots[1].state, SL_STAGED);
	ck_assert_uint_eq(s->upd.slots[1].m.files[0].size, 9);	/* and its newline */
	snprintf(want, sizeof(want), "%s/update/gw/%s/kernel", dir,
	    s->upd.slots[1].gen);
	ck_assert_int_eq(access(want, R_OK), 0);
	serve_sup = 0;
	control_close(&ctl);
	sup_free(ctl.sup);
	fb->be.ops->free(&fb->be);
	t_rmtree(dir);
}
END_TEST

/* a control on dir's sockets, over a supervisor of cfg's services */
static void
ctl_open(struct control *ctl, struct config *cfg, struct fake_backend *fb,
    const char *dir)
{
	struct err e = ERR_INIT;

	free(cfg->d.log_dir);
	cfg->d.log_dir = xstrdup(dir);
	free(cfg->d.state_dir);
	cfg->d.state_dir = xstrdup(dir);
	config_finish(cfg);
	memset(ctl, 0, sizeof(*ctl));
	ctl->sup = sup_new(&fb->be, cfg);
	verbs_setup(ctl);
	ck_assert_msg(control_listen(ctl, dir, "x-no-group", "x-no-group",
	    &e) == 0, "%s", e.msg);
	/* not root: our own group stands in for the admin group (with no
	 * such group only root would be let in), so these tests run too */
	if (geteuid() != 0)
		ctl->auth.admin_gid = getegid();
}

static int
ctl_connect_to(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

static int
ctl_connect(const struct control *ctl)
{
	return ctl_connect_to(ctl->path_admin);
}

/* one loop round of the daemon's side */
static void
ctl_round(struct control *ctl, int ms)
{
	struct pollfd fds[256];
	int nfds = 0, timeout = ms;

	control_before_poll(ctl, fds, &nfds, 256, &timeout);
	poll(fds, (nfds_t)nfds, ms);
	control_after_poll(ctl, fds, nfds);
}

/* what the daemon has queued for its clients, in all */
static size_t
ctl_queued(const struct control *ctl)
{
	size_t n = 0;
	int i;

	for (i = 0; i < CONTROL_MAX_CONNS; i++)
		if (ctl->conns[i])
			n += ctl->conns[i]->outlen - ctl->conns[i]->outoff;
	return n;
}

/* serve the loop for up to about 2 s, until what fd reads holds until */
static void
ctl_pump(struct control *ctl, int fd, char *buf, size_t sz, const char *until)
{
	struct pollfd fds[64];
	int nfds, timeout, i;
	size_t got = 0;
	ssize_t n;

	buf[0] = '\0';
	for (i = 0; i < 40 && !strstr(buf, until); i++) {
		nfds = 0;
		timeout = 50;
		control_before_poll(ctl, fds, &nfds, 64, &timeout);
		poll(fds, (nfds_t)nfds, 50);
		control_after_poll(ctl, fds, nfds);
		n = recv(fd, buf + got, sz - got - 1, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		buf[got] = '\0';
	}
}

static void
ctl_done(struct control *ctl, struct fake_backend *fb, char *dir, int fd)
{
	if (fd != -1)
		close(fd);
	control_close(ctl);
	sup_free(ctl->sup);
	fb->be.ops->free(&fb->be);
	t_rmtree(dir);
}

START_TEST(hostile_client)
{
	struct config *cfg = config_new("domud.conf");
	char *dir = t_tmpdir(), big[PROTO_REQ_MAX + 100], buf[8192];
	struct fake_backend *fb = fake_new(1ULL << 30);
	struct control ctl;
	int fd;

	ctl_open(&ctl, cfg, fb, dir);
	fd = ctl_connect(&ctl);
	/* an oversized line, then a good request on the same connection */
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	ck_assert_int_eq(write(fd, big, sizeof(big)), sizeof(big));
	ck_assert_int_gt(write(fd, "{\"v\":1,\"id\":5,\"cmd\":\"ping\"}\n", 28), 0);
	ctl_pump(&ctl, fd, buf, sizeof(buf), "\"id\":5");
	ck_assert_ptr_nonnull(strstr(buf, "\"code\":\"too-large\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"id\":5,\"ok\":true"));
	ctl_done(&ctl, fb, dir, fd);
}
END_TEST

/* an exec that wakes an idle memres DomU, when Xen cannot take it: the
 * refusal is the answer, at once (not a retry until "not ready in time") */
START_TEST(idle_exec_refused_at_once)
{
	struct config *cfg = config_new("domud.conf");
	char *dir = t_tmpdir(), buf[8192];
	struct fake_backend *fb = fake_new(1ULL << 30);
	const char req[] = "{\"v\":1,\"id\":9,\"cmd\":\"exec\",\"service\":"
	    "\"m\",\"argv\":[\"true\"]}\n";
	struct control ctl;
	struct service *m;
	int fd;

	config_add_service(cfg, t_service(cfg, "m", "[service]\nkernel = "
	    "/dev/null\nmemory = 64M\nmemres = yes\nidle_timeout = 1m\n"));
	ctl_open(&ctl, cfg, fb, dir);
	/* stopped for being idle, and now Xen has too little memory */
	m = sup_find(ctl.sup, "m");
	m->idle.state = IDLE_STOPPED;
	fb->free_mem = 16ULL << 20;
	fd = ctl_connect(&ctl);
	ck_assert_int_eq(write(fd, req, sizeof(req) - 1), sizeof(req) - 1);
	ctl_pump(&ctl, fd, buf, sizeof(buf), "\"id\":9");
	ck_assert_msg(strstr(buf, "\"id\":9") != NULL, "no answer: '%s'", buf);
	ck_assert_ptr_nonnull(strstr(buf, "\"code\":\"failed\""));
	ck_assert_ptr_nonnull(strstr(buf, "not enough memory"));
	ck_assert_int_eq(m->state, ST_STOPPED);
	ck_assert_int_eq(m->last_exit, EXIT_REFUSED);
	ck_assert_int_eq(fb->ncreate, 0);
	ctl_done(&ctl, fb, dir, fd);
}
END_TEST

/* a client that asks for much and reads nothing costs a bounded amount:
 * no more of its requests are read while its output is over budget */
START_TEST(reader_that_never_reads_is_bounded)
{
	struct config *cfg = config_new("domud.conf");
	char *dir = t_tmpdir(), path[600], req[8192], buf[8192];
	struct fake_backend *fb = fake_new(1ULL << 30);
	struct control ctl;
	size_t len = 0, most = 0;
	FILE *fp;
	int fd, i;

	config_add_service(cfg, t_service(cfg, "gw", "[service]\nkernel = "
	    "/dev/null\nmemory = 64M\n"));
	ctl_open(&ctl, cfg, fb, dir);
	snprintf(path, sizeof(path), "%s/gw.log", dir);
	fp = fopen(path, "w");
	for (i = 0; i < 20000; i++)
		fprintf(fp, "line %d of a console log that is long enough\n", i);
	fclose(fp);
	/* ~80 requests for 10000 lines each in one write */
	while (len + 80 < sizeof(req))
		len += (size_t)snprintf(req + len, sizeof(req) - len,
		    "{\"v\":1,\"cmd\":\"logs\",\"service\":\"gw\","
		    "\"lines\":10000}\n");
	fd = ctl_connect_to(ctl.path_ro);
	ck_assert_int_eq(write(fd, req, len), (ssize_t)len);
	for (i = 0; i < 30; i++) {
		ctl_round(&ctl, 10);
		if (ctl_queued(&ctl) > most)
			most = ctl_queued(&ctl);
	}
	ck_assert_msg(most <= CONTROL_OUT_BUDGET + PROTO_REPLY_MAX,
	    "%zu bytes queued for a client that reads nothing", most);
	/* it reads now: the rest of its requests are answered */
	{
		size_t got = 0, lines = 0;
		ssize_t n;

		for (i = 0; i < 2000 && lines < len / 60; i++) {
			ctl_round(&ctl, 5);
			while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
				got += (size_t)n;
				lines += (size_t)(memchr(buf, '\n', (size_t)n) != NULL);
			}
		}
		ck_assert_uint_gt(got, 4 * CONTROL_OUT_BUDGET);
	}
	ctl_done(&ctl, fb, dir, fd);
}
END_TEST

/* does fd, read to its end (the daemon served meanwhile), say what? */
static int
drained_says(struct control *ctl, int fd, const char *what)
{
	char buf[65536 + 64];
	size_t keep = 0, wl = strlen(what), have;
	ssize_t n;
	int i, idle = 0;

	for (i = 0; i < 20000 && idle < 50; i++) {
		ctl_round(ctl, 1);
		n = recv(fd, buf + keep, sizeof(buf) - keep - 1, MSG_DONTWAIT);
		if (n <= 0) {
			idle++;
			continue;
		}
		idle = 0;
		have = keep + (size_t)n;
		buf[have] = '\0';
		if (strstr(buf, what))
			return 1;
		/* what may begin at the end of this read */
		keep = have < wl ? have : wl - 1;
		memmove(buf, buf + have - keep, keep);
	}
	return 0;
}

/*
 * Review finding 2: followers that never read held 8 MiB each. 16 readers
 * and 20 admins follow a log that a guest writes fast: each connection
 * holds at most its budget and one reply, all of them together about the
 * followers' total, and each is told "lagging, dropped"
 */
START_TEST(followers_that_never_read_are_dropped)
{
	struct config *cfg = config_new("domud.conf");
	char *dir = t_tmpdir(), chunk[4096];
	struct fake_backend *fb = fake_new(1ULL << 30);
	const char *req = "{\"v\":1,\"cmd\":\"logs\",\"service\":\"gw\","
	    "\"follow\":true}\n";
	struct control ctl;
	int fds[36], i, k;
	size_t most_total = 0, most_reader = 0, most_admin = 0;

	config_add_service(cfg, t_service(cfg, "gw", "[service]\nkernel = "
	    "/dev/null\nmemory = 64M\n"));
	ctl_open(&ctl, cfg, fb, dir);
	for (i = 0; i < 36; i++) {
		fds[i] = ctl_connect_to(i < 16 ? ctl.path_ro : ctl.path_admin);
		ck_assert_int_eq(write(fds[i], req, strlen(req)),
		    (ssize_t)strlen(req));
		ctl_round(&ctl, 5);
	}
	for (i = 0; i < 20; i++)
		ctl_round(&ctl, 5);
	memset(chunk, 'x', sizeof(chunk));
	for (k = 0; k < 2048; k++) {		/* 8 MiB from the guest */
		jobs_log_tap(&ctl, "gw", chunk, sizeof(chunk));
		if (ctl_queued(&ctl) > most_total)
			most_total = ctl_queued(&ctl);
		for (i = 0; i < CONTROL_MAX_CONNS; i++) {
			struct control_conn *cc = ctl.conns[i];
			size_t u;

			if (cc == NULL)
				continue;
			u = cc->outlen - cc->outoff;
			if (cc->role == ROLE_ADMIN && u > most_admin)
				most_admin = u;
			if (cc->role != ROLE_ADMIN && u > most_reader)
				most_reader = u;
		}
	}
	/* a line of 4 KiB of log is at most 5 KiB of JSON */
	ck_assert_msg(most_reader <= JOBS_FOLLOW_READER + PROTO_REPLY_MAX +
	    8192, "a reader's connection held %zu bytes", most_reader);
	ck_assert_msg(most_admin <= JOBS_FOLLOW_ADMIN + PROTO_REPLY_MAX + 8192,
	    "an admin's connection held %zu bytes", most_admin);
	ck_assert_msg(most_total <= JOBS_FOLLOW_TOTAL + 36 * 8192,
	    "%zu bytes held in all", most_total);
	for (i = 0; i < 36; i++)
		ck_assert_msg(drained_says(&ctl, fds[i], "lagging, dropped"),
		    "follower %d was not told", i);
	for (i = 1; i < 36; i++)
		close(fds[i]);
	ctl_done(&ctl, fb, dir, fds[0]);
}
END_TEST

/* the reply lines fd has now */
static size_t
lines_in(int fd)
{
	char buf[65536];
	size_t lines = 0;
	ssize_t n, k;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		for (k = 0; k < n; k++)
			lines += buf[k] == '\n';
	return lines;
}

/*
 * Review finding 4: 16 readers pipelining requests held an admin's ping
 * for their whole backlog (every line of a client answered in one round).
 * A few lines per connection per round: the ping is answered while most
 * of theirs wait. A reader's costly one (a service's status) waits for
 * its uid's pace; an admin's does not.
 */
START_TEST(readers_cannot_hold_the_loop)
{
	struct config *cfg = config_new("domud.conf");
	char *dir = t_tmpdir(), req[8192];
	struct fake_backend *fb = fake_new(1ULL << 30);
	const char *ping = "{\"v\":1,\"cmd\":\"ping\"}\n";
	const char *costly = "{\"v\":1,\"cmd\":\"status\","
	    "\"service\":\"gw\"}\n";
	struct control ctl;
	size_t len = 0, answered = 0, nreq = 0;
	int fds[16], admin, i, k, got = 0;

	signal(SIGPIPE, SIG_IGN);
	config_add_service(cfg, t_service(cfg, "gw", "[service]\nkernel = "
	    "/dev/null\nmemory = 64M\n"));
	ctl_open(&ctl, cfg, fb, dir);
	for (nreq = 0; nreq < 30; nreq++)
		len += (size_t)snprintf(req + len, sizeof(req) - len,
		    "{\"v\":1,\"cmd\":\"status\"}\n");
	for (i = 0; i < 16; i++)
		fds[i] = ctl_connect_to(ctl.path_ro);
	admin = ctl_connect(&ctl);
	ctl_round(&ctl, 5);
	for (i = 0; i < 16; i++)
		ck_assert_msg(write(fds[i], req, len) == (ssize_t)len,
		    "reader %d: %s", i, strerror(errno));
	ck_assert_int_eq(write(admin, ping, strlen(ping)),
	    (ssize_t)strlen(ping));
	for (k = 0; k < 50 && !got; k++) {
		ctl_round(&ctl, 5);
		got = lines_in(admin) > 0;
		for (i = 0; i < 16; i++)
			answered += lines_in(fds[i]);
	}
	ck_assert(got);
	ck_assert_msg(answered < 16 * nreq / 2, "%zu of the readers' %zu "
	    "lines answered before the admin's ping", answered, 16 * nreq);
	for (i = 0; i < 16; i++)
		close(fds[i]);
	/* a reader's second costly request waits; an admin's do not */
	fds[0] = ctl_connect_to(ctl.path_ro);
	ctl_round(&ctl, 5);
	ck_assert_int_eq(write(fds[0], costly, strlen(costly)),
	    (ssize_t)strlen(costly));
	ck_assert_int_eq(write(fds[0], costly, strlen(costly)),
	    (ssize_t)strlen(costly));
	ck_assert_int_eq(write(admin, costly, strlen(costly)),
	    (ssize_t)strlen(costly));
	ck_assert_int_eq(write(admin, costly, strlen(costly)),
	    (ssize_t)strlen(costly));
	for (k = 0; k < 3; k++)
		ctl_round(&ctl, 5);
	ck_assert_uint_eq(lines_in(admin), 2);
	for (i = 0; i < CONTROL_MAX_CONNS; i++)
		if (ctl.conns[i] && ctl.conns[i]->sock_role != ROLE_ADMIN) {
			ck_assert_int_eq(ctl.conns[i]->more, 1);
			ck_assert_uint_gt(ctl.conns[i]->more_at, mono_ms());
		}
	close(fds[0]);
	ctl_done(&ctl, fb, dir, admin);
}
END_TEST

/* readers cannot take the admins' slots; over a limit a client is told
 * busy, never just closed; an admin takes the oldest idle one's slot */
START_TEST(slots_for_admins_and_busy_replies)
{
	struct config *cfg = config_new("domud.conf");
	char *dir = t_tmpdir(), buf[8192];
	struct fake_backend *fb = fake_new(1ULL << 30);
	int ro[CONTROL_MAX_CONNS + 8], adm[CONTROL_MAX_CONNS], busy = 0, i, n;
	struct control ctl;
	int fd;

	ctl_open(&ctl, cfg, fb, dir);
	for (i = 0; i < CONTROL_MAX_CONNS + 8; i++) {
		ro[i] = ctl_connect_to(ctl.path_ro);
		ctl_round(&ctl, 0);
	}
	for (i = 0; i < 5; i++)
		ctl_round(&ctl, 10);
	for (i = 0; i < CONTROL_MAX_CONNS + 8; i++) {
		n = (int)recv(ro[i], buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n > 0) {
			buf[n] = '\0';
			ck_assert_ptr_nonnull(strstr(buf, "\"code\":\"busy\""));
			busy++;
		}
	}
	ck_assert_int_eq(busy, CONTROL_ADMIN_RESERVE + 8);
	/* the admins' slots */
	for (i = 0; i < CONTROL_ADMIN_RESERVE; i++) {
		adm[i] = ctl_connect(&ctl);
		ctl_round(&ctl, 0);
	}
	/* full: one more admin sheds the oldest idle reader, and is answered */
	fd = ctl_connect(&ctl);
	ck_assert_int_gt(write(fd, "{\"v\":1,\"id\":3,\"cmd\":\"ping\"}\n", 28), 0);
	ctl_pump(&ctl, fd, buf, sizeof(buf), "\"id\":3");
	ck_assert_ptr_nonnull(strstr(buf, "\"id\":3,\"ok\":true"));
	n = (int)recv(ro[0], buf, sizeof(buf) - 1, MSG_DONTWAIT);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "an admin needed the slot"));
	for (i = 0; i < CONTROL_MAX_CONNS + 8; i++)
		close(ro[i]);
	for (i = 0; i < CONTROL_ADMIN_RESERVE; i++)
		close(adm[i]);
	ctl_done(&ctl, fb, dir, fd);
}
END_TEST

/* out of fds: the waiting clients are told so, and poll() does not keep
 * waking the loop for them */
START_TEST(out_of_fds_no_busy_loop)
{
	struct config *cfg = config_new("domud.conf");
	char *dir = t_tmpdir(), buf[512];
	struct fake_backend *fb = fake_new(1ULL << 30);
	struct control ctl;
	struct pollfd pfd;
	static int spare[65536];
	int cl[8], i, n, told = 0, nspare = 0;

	ctl_open(&ctl, cfg, fb, dir);
	for (i = 0; i < 8; i++)
		cl[i] = ctl_connect(&ctl);
	/* no fd left for accept (given back at the end: the sanitizers
	 * need some to report) */
	while (nspare < 65535 && (spare[nspare] = dup(0)) != -1)
		nspare++;
	for (i = 0; i < 5; i++)
		ctl_round(&ctl, 10);
	for (i = 0; i < 8; i++) {
		n = (int)recv(cl[i], buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n > 0) {
			buf[n] = '\0';
			told += strstr(buf, "out of file descriptors") != NULL;
		}
	}
	ck_assert_int_eq(told, 8);
	/* nothing waits now: the listening socket is quiet */
	pfd.fd = ctl.fd_admin;
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	for (i = 0; i < nspare; i++)
		close(spare[i]);
	for (i = 0; i < 8; i++)
		close(cl[i]);
	ctl_done(&ctl, fb, dir, -1);
}
END_TEST

/* a client accepted in a round where a console with the same fd number
 * was closed does not take that console's poll results */
START_TEST(new_client_ignores_stale_poll_results)
{
	struct config *cfg = config_new("domud.conf");
	char *dir = t_tmpdir(), buf[512];
	struct fake_backend *fb = fake_new(1ULL << 30);
	struct pollfd fds[16];
	struct control ctl;
	int fd, nfds = 0, timeout = 10, next;

	ctl_open(&ctl, cfg, fb, dir);
	fd = ctl_connect(&ctl);
	control_before_poll(&ctl, fds, &nfds, 16, &timeout);
	ck_assert_int_eq(poll(fds, (nfds_t)nfds, 100), 1);	/* the accept */
	/* the fd number accept will give, as a console closed this round */
	next = dup(0);
	close(next);
	fds[nfds].fd = next;
	fds[nfds].events = POLLIN;
	fds[nfds].revents = POLLHUP;
	nfds++;
	control_after_poll(&ctl, fds, nfds);
	ck_assert_int_gt(write(fd, "{\"v\":1,\"id\":4,\"cmd\":\"ping\"}\n", 28), 0);
	ctl_pump(&ctl, fd, buf, sizeof(buf), "\"id\":4");
	ck_assert_ptr_nonnull(strstr(buf, "\"id\":4,\"ok\":true"));
	ctl_done(&ctl, fb, dir, fd);
}
END_TEST

/* domuctl against a daemon whose reader slots are all taken: it tries
 * again for a while, then says the daemon is busy (not absent); an admin
 * still gets in */
START_TEST(domuctl_says_busy)
{
	struct config *cfg = config_new("domud.conf");
	char *dir = t_tmpdir();
	struct fake_backend *fb = fake_new(1ULL << 30);
	const char *status[] = { "status", NULL };
	int ro[CONTROL_MAX_CONNS], i, n = CONTROL_MAX_CONNS -
	    CONTROL_ADMIN_RESERVE;
	struct control ctl;
	struct run r;

	chmod(dir, 0755);
	ctl_open(&ctl, cfg, fb, dir);
	ctl_groups(&ctl);
	for (i = 0; i < n; i++) {
		ro[i] = ctl_connect_to(ctl.path_ro);
		ctl_round(&ctl, 0);
	}
	run_as(&ctl, dir, GID_READ, UID_USER, &r, status);
	ck_assert_msg(r.status == CTL_EXIT_BUSY, "reader: %d %s", r.status,
	    r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "busy"));
	run_as(&ctl, dir, GID_ADMIN, UID_USER, &r, status);
	ck_assert_msg(r.status == 0, "admin: %d %s", r.status, r.out);
	for (i = 0; i < n; i++)
		close(ro[i]);
	ctl_done(&ctl, fb, dir, -1);
}
END_TEST

/* a reply queued for a connection that looks idle by its clock is still
 * written (the last reply of a command quiet for 30 s was dropped) */
START_TEST(reply_of_a_quiet_connection_is_written)
{
	struct config *cfg = config_new("domud.conf");
	char *dir = t_tmpdir(), buf[4096];
	struct fake_backend *fb = fake_new(1ULL << 30);
	struct control ctl;
	int fd, i;

	ctl_open(&ctl, cfg, fb, dir);
	fd = ctl_connect(&ctl);
	ck_assert_int_gt(write(fd, "{\"v\":1,\"id\":6,\"cmd\":\"ping\"}\n", 28), 0);
	/* accepted and answered: the reply waits for the next round */
	for (i = 0; i < 20 && ctl_queued(&ctl) == 0; i++)
		ctl_round(&ctl, 20);
	ck_assert_uint_gt(ctl_queued(&ctl), 0);
	for (i = 0; i < CONTROL_MAX_CONNS; i++)
		if (ctl.conns[i])
			ctl.conns[i]->last_ms = mono_ms() - CONTROL_IDLE_MS - 1000;
	ctl_pump(&ctl, fd, buf, sizeof(buf), "\"id\":6");
	ck_assert_ptr_nonnull(strstr(buf, "\"id\":6,\"ok\":true"));
	ctl_done(&ctl, fb, dir, fd);
}
END_TEST

/* a test that needs root: registered as root, else a loud skip */
#define add_as_root(tc, t, why) do {					\
	if (geteuid() == 0)						\
		tcase_add_test(tc, t);					\
	else								\
		t_skip("socket", "real", #t, "needs root (" why ")");	\
} while (0)

Suite *
socket_suite(void)
{
	Suite *s = suite_create("socket");
	TCase *tc = tcase_create("real");

	domuctl_path = getenv("DOMUCTL");
	if (domuctl_path == NULL)
		domuctl_path = "build/domuctl";
	tcase_set_timeout(tc, 30);
	add_as_root(tc, roles_on_real_sockets, "runs domuctl as other users");
	tcase_add_test(tc, hostile_client);
	tcase_add_test(tc, idle_exec_refused_at_once);
	tcase_add_test(tc, reader_that_never_reads_is_bounded);
	tcase_add_test(tc, followers_that_never_read_are_dropped);
	tcase_add_test(tc, readers_cannot_hold_the_loop);
	add_as_root(tc, slots_for_admins_and_busy_replies,
	    "more connections than CONTROL_PER_UID lets a user have");
	tcase_add_test(tc, out_of_fds_no_busy_loop);
	tcase_add_test(tc, new_client_ignores_stale_poll_results);
	add_as_root(tc, domuctl_says_busy, "runs domuctl as other users");
	add_as_root(tc, stage_sends_descriptors_with_the_users_rights,
	    "runs domuctl as another user");
	tcase_add_test(tc, reply_of_a_quiet_connection_is_written);
	suite_add_tcase(s, tc);
	return s;
}
