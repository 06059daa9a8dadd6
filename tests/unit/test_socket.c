// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control sockets for real: domuctl (the built binary) run as other
 * users, authorised from SO_PEERCRED and SO_PEERGROUPS. Needs root to
 * switch users; skipped (and said so) otherwise.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/control.h"
#include "ctl/ctl.h"
#include "fake_backend.h"
#include "helpers.h"
#include "base/util.h"

#define GID_READ	47001
#define GID_ADMIN	47002
#define UID_USER	47100

static const char *domuctl_path;

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
		ck_assert_int_ge(poll(fds, (nfds_t)nfds, 100), 0);
		control_after_poll(ctl, fds, nfds);
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

	if (geteuid() != 0) {
		fprintf(stderr, "socket test skipped: needs root\n");
		return;
	}
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
	ck_assert_msg(control_listen(&ctl, dir, "domud-test-no-such-group",
	    "domud-test-no-such-group", &e) == 0, "%s", e.msg);
	/* as if the groups existed: sockets 0660 in each role's group */
	ctl.auth.read_gid = GID_READ;
	ctl.auth.admin_gid = GID_ADMIN;
	ck_assert_int_eq(chown(ctl.path_admin, 0, GID_ADMIN), 0);
	ck_assert_int_eq(chmod(ctl.path_admin, 0660), 0);
	ck_assert_int_eq(chown(ctl.path_ro, 0, GID_READ), 0);
	ck_assert_int_eq(chmod(ctl.path_ro, 0660), 0);

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
	ck_assert_msg(control_listen(ctl, dir, "x-no-group", "x-no-group",
	    &e) == 0, "%s", e.msg);
}

static int
ctl_connect(const struct control *ctl)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", ctl->path_admin);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
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
	m->idle_stopped = 1;
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

Suite *
socket_suite(void)
{
	Suite *s = suite_create("socket");
	TCase *tc = tcase_create("real");

	domuctl_path = getenv("DOMUCTL");
	if (domuctl_path == NULL)
		domuctl_path = "build/domuctl";
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, roles_on_real_sockets);
	tcase_add_test(tc, hostile_client);
	tcase_add_test(tc, idle_exec_refused_at_once);
	suite_add_tcase(s, tc);
	return s;
}
