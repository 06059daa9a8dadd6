// SPDX-License-Identifier: GPL-2.0-or-later
/* domuctl update: its arguments, the files sent as descriptors with the
 * request line, its output, and update wait against a scripted domud. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/client.h"
#include "ctl/ctl.h"
#include "base/util.h"
#include "helpers.h"

/* argv as given (NULL-terminated), after "domuctl" */
static int
parsev(struct ctl_opts *o, char *err, const char *const *args)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = "domuctl";
	while (argc < 31 && args[argc - 1] != NULL) {
		argv[argc] = (char *)args[argc - 1];
		argc++;
	}
	return ctl_parse_args(argc, argv, o, err, 256);
}

START_TEST(update_args_ok)
{
	struct ctl_opts o;
	char err[256], *line;

	ck_assert_int_eq(parsev(&o, err, (const char *[]){ "update", "stage",
	    "gw", "--kernel", "k", "--disk", "xvda=d.img", "--ramdisk", "r",
	    "--device-tree", "t.dtb", "--manifest", "m", "--signature", "s",
	    NULL }), 0);
	ck_assert_str_eq(o.req.cmd, "update-stage");
	ck_assert_str_eq(o.req.service, "gw");
	ck_assert_int_eq(o.req.nfiles, 6);
	ck_assert_str_eq(o.req.files[1], "disk:xvda");
	ck_assert_str_eq(o.upd_paths[1], "d.img");
	ck_assert_str_eq(o.req.files[3], "device_tree");
	ck_assert_str_eq(o.req.files[5], "signature");
	ck_assert_int_eq(o.update, 1);
	/* copying and hashing an image takes a while, unless -t says */
	ck_assert_int_eq(o.timeout_ms, CTL_STAGE_MS_DEFAULT);
	line = proto_encode_request(&o.req);
	ck_assert_str_eq(line, "{\"v\":1,\"id\":1,\"cmd\":\"update-stage\","
	    "\"service\":\"gw\",\"files\":[\"kernel\",\"disk:xvda\",\"ramdisk\","
	    "\"device_tree\",\"manifest\",\"signature\"]}\n");
	free(line);
	ck_assert_int_eq(parsev(&o, err, (const char *[]){ "-t", "5", "update",
	    "apply", "--wait", "--timeout", "30", "gw", "--kernel", "k",
	    NULL }), 0);
	ck_assert_str_eq(o.req.cmd, "update-stage");
	ck_assert_int_eq(o.timeout_ms, 5000);
	ck_assert_int_eq(o.wait, 1);
	ck_assert_int_eq(o.upd_timeout_ms, 30000);
	ck_assert_int_eq(parsev(&o, err, (const char *[]){ "update", "switch",
	    "-w", "gw", NULL }), 0);
	ck_assert_str_eq(o.req.cmd, "update-switch");
	ck_assert_int_eq(o.timeout_ms, CTL_TIMEOUT_MS);
	ck_assert_int_eq(parsev(&o, err, (const char *[]){ "update", "wait",
	    "gw", "--timeout", "9", NULL }), 0);
	ck_assert_str_eq(o.req.cmd, "update-status");
	ck_assert_int_eq(o.upd_timeout_ms, 9000);
	ck_assert_int_eq(parsev(&o, err, (const char *[]){ "update", "status",
	    "-j", NULL }), 0);
	ck_assert_int_eq(o.req.has_service, 0);
	ck_assert_int_eq(o.update, 0);
	ck_assert_int_eq(o.json, 1);
	ck_assert_int_eq(parsev(&o, err, (const char *[]){ "update", "rollback",
	    "gw", NULL }), 0);
	ck_assert_str_eq(o.req.cmd, "update-rollback");
}
END_TEST

START_TEST(update_args_bad)
{
	static const char *const cases[][12] = {
		{ "update", NULL },
		{ "update", "frob", "gw", NULL },
		{ "update", "stage", "gw", NULL },
		{ "update", "stage", "--kernel", "k", NULL },
		{ "update", "stage", "gw", "--kernel", NULL },
		{ "update", "stage", "gw", "--kernel", "k", "--kernel", "k", NULL },
		{ "update", "stage", "gw", "--kernel", "", NULL },
		{ "update", "stage", "gw", "--kernel", "k", "--disk", "xvda", NULL },
		{ "update", "stage", "gw", "--kernel", "k", "--disk", "=d", NULL },
		{ "update", "stage", "gw", "--kernel", "k", "--disk", "xv/a=d",
		    NULL },
		{ "update", "stage", "gw", "--kernel", "k", "--signature", "s",
		    NULL },
		{ "update", "stage", "gw", "--kernel", "k", "--wait", NULL },
		{ "update", "stage", "gw", "--kernel", "k", "--bogus", NULL },
		{ "update", "switch", "gw", "--timeout", "5", NULL },
		{ "update", "switch", "--wait", "--timeout", "0", "gw", NULL },
		{ "update", "switch", NULL },
		{ "update", "wait", NULL },
		{ "update", "rollback", "gw", "--wait", NULL },
		{ "update", "status", "gw", "gx", NULL },
	};
	/* eleven files: one over PROTO_FDS_MAX */
	static const char *const many[] = { "update", "stage", "gw", "--kernel",
	    "k", "--ramdisk", "r", "--manifest", "m", "--disk", "xvda=1",
	    "--disk", "xvdb=2", "--disk", "xvdc=3", "--disk", "xvdd=4",
	    "--disk", "xvde=5", "--disk", "xvdf=6", "--disk", "xvdg=7",
	    "--disk", "xvdh=8", NULL };
	struct ctl_opts o;
	char err[256];
	size_t i;

	for (i = 0; i < nitems(cases); i++)
		ck_assert_msg(parsev(&o, err, cases[i]) == CTL_EXIT_USAGE,
		    "case %zu accepted", i);
	ck_assert_int_eq(parsev(&o, err, many), CTL_EXIT_USAGE);
	ck_assert_str_eq(err, "update: at most 10 files");
}
END_TEST

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

/* the descriptors that came with the line's first byte, into fds; how
 * many; the rest of the line into line */
static int
recv_request(int fd, int *fds, char *line, size_t linesz)
{
	union {
		struct cmsghdr	h;
		char		b[CMSG_SPACE(sizeof(int) * 16)];
	} u;
	struct iovec iov = { line, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = u.b, .msg_controllen = sizeof(u.b) };
	struct cmsghdr *c;
	ssize_t n;
	int nfds = 0;

	ck_assert_int_eq(recvmsg(fd, &mh, MSG_DONTWAIT), 1);
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)nfds);
		}
	n = recv(fd, line + 1, linesz - 2, MSG_DONTWAIT);
	ck_assert_int_gt(n, 0);
	line[n + 1] = '\0';
	return nfds;
}

/* fd is the file dir/name, opened read-only, blocking (the open file's
 * flags came with it; close-on-exec is the descriptor's, and did not) */
static void
assert_same_file(int fd, const char *dir, const char *name)
{
	struct stat a, b;
	char path[512];
	int fl = fcntl(fd, F_GETFL);

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(stat(path, &a), 0);
	ck_assert_int_eq(fstat(fd, &b), 0);
	ck_assert_msg(a.st_ino == b.st_ino && a.st_dev == b.st_dev,
	    "not %s", path);
	ck_assert_int_eq(fl & O_ACCMODE, O_RDONLY);
	ck_assert_int_eq(fl & O_NONBLOCK, 0);
}

/* update stage: the files' descriptors, in the order of "files", with
 * the first byte of the one request line; M.sig as the signature */
START_TEST(update_stage_sends_fds)
{
	static const char ok[] = "{\"v\":1,\"id\":1,\"ok\":true,\"result\":{}}\n";
	char *dir = t_tmpdir(), k[600], d[600], m[600], err[256], line[4096];
	char *reply = NULL;
	size_t off = 0, cap = 0;
	struct ctl_opts o;
	int sv[2], fds[16], n, i;

	write_file(dir, "vmlinuz", "kernel");
	write_file(dir, "root.img", "disk");
	write_file(dir, "MANIFEST", "manifest");
	write_file(dir, "MANIFEST.sig", "signature");
	snprintf(k, sizeof(k), "%s/vmlinuz", dir);
	snprintf(d, sizeof(d), "xvda=%s/root.img", dir);
	snprintf(m, sizeof(m), "%s/MANIFEST", dir);
	ck_assert_int_eq(parsev(&o, err, (const char *[]){ "update", "stage",
	    "gw", "--kernel", k, "--disk", d, "--manifest", m, NULL }), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* the reply waits in the socket: one thread is enough */
	ck_assert_int_eq(write(sv[1], ok, strlen(ok)), (ssize_t)strlen(ok));
	ck_assert_int_eq(ctl_update_stage(sv[0], &o, mono_ms() + 5000, &reply,
	    &off, &cap), CTL_EXIT_OK);
	ck_assert_str_eq(reply, ok);
	n = recv_request(sv[1], fds, line, sizeof(line));
	ck_assert_str_eq(line, "{\"v\":1,\"id\":1,\"cmd\":\"update-stage\","
	    "\"service\":\"gw\",\"files\":[\"kernel\",\"disk:xvda\","
	    "\"manifest\",\"signature\"]}\n");
	ck_assert_int_eq(n, 4);
	assert_same_file(fds[0], dir, "vmlinuz");
	assert_same_file(fds[1], dir, "root.img");
	assert_same_file(fds[2], dir, "MANIFEST");
	assert_same_file(fds[3], dir, "MANIFEST.sig");
	for (i = 0; i < n; i++)
		close(fds[i]);
	/* not a regular file: refused here, nothing sent */
	snprintf(k, sizeof(k), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(k, 0600), 0);
	ck_assert_int_eq(parsev(&o, err, (const char *[]){ "update", "stage",
	    "gw", "--kernel", k, NULL }), 0);
	ck_assert_int_eq(ctl_update_stage(sv[0], &o, mono_ms() + 5000, &reply,
	    &off, &cap), CTL_EXIT_FAILED);
	ck_assert_int_eq(recv(sv[1], line, 1, MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
	close(sv[0]);
	close(sv[1]);
	free(reply);
	t_rmtree(dir);
}
END_TEST

/* a reply to cmdv (argv, NULL-terminated) shown: its exit status */
static int
render(const char *const *cmdv, const char *reply, char **out, char **errout)
{
	struct ctl_opts o;
	char err[256];
	size_t a, b;
	FILE *fo = open_memstream(out, &a), *fe = open_memstream(errout, &b);
	int rc;

	ck_assert_int_eq(parsev(&o, err, cmdv), 0);
	rc = ctl_render(&o, reply, fo, fe);
	fclose(fo);
	fclose(fe);
	return rc;
}

#define HEX64	"0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"

START_TEST(update_render)
{
	char *out, *errout;

	ck_assert_int_eq(render((const char *[]){ "update", "stage", "gw",
	    "--kernel", "k", NULL }, "{\"v\":1,\"ok\":true,\"result\":{"
	    "\"service\":\"gw\",\"slot\":\"b\",\"version\":\"2.1\",\"signed\":"
	    "true,\"files\":[{\"name\":\"kernel\",\"size\":12345678,\"sha256\":\""
	    HEX64 "\"}]}}\n", &out, &errout), CTL_EXIT_OK);
	ck_assert_msg(strstr(out, "gw: staged slot b (version 2.1, signed)\n"
	    "  kernel") && strstr(out, " 12345678  sha256:" HEX64 "\n"), "%s",
	    out);
	free(out);
	free(errout);
	ck_assert_int_eq(render((const char *[]){ "update", "switch", "gw",
	    NULL }, "{\"v\":1,\"ok\":true,\"result\":{\"service\":\"gw\","
	    "\"slot\":\"b\",\"version\":\"2.1\",\"window_s\":300}}\n", &out,
	    &errout), CTL_EXIT_OK);
	ck_assert_str_eq(out, "gw: trial of slot b (version 2.1) started; "
	    "committed after 300 s healthy\n");
	free(out);
	free(errout);
	ck_assert_int_eq(render((const char *[]){ "update", "status", NULL },
	    "{\"v\":1,\"ok\":true,\"result\":{\"services\":[{\"name\":\"gw\","
	    "\"state\":\"trial\",\"active\":\"a\",\"trial\":{\"slot\":\"b\","
	    "\"ends_in_s\":250,\"health\":\"healthy\"},\"last\":{\"result\":"
	    "\"rolled-back\",\"reason\":\"crash\",\"wall\":1700000000},\"slots\":"
	    "[{\"name\":\"a\",\"state\":\"good\",\"version\":\"2.0\",\"signed\":"
	    "true,\"files\":[{\"name\":\"kernel\",\"size\":1,\"sha256\":\""
	    HEX64 "\"}]},{\"name\":\"b\",\"state\":\"trial\",\"version\":\"2.1\","
	    "\"signed\":false,\"files\":[]}]}]}}\n", &out, &errout),
	    CTL_EXIT_OK);
	ck_assert_msg(strstr(out, "gw: slot a active, trial: slot b, 4m10s "
	    "left, health healthy\n") && strstr(out, "  last update: "
	    "rolled-back at ") && strstr(out, "(crash)") &&
	    strstr(out, "  a    good     2.0              yes    "
	    "sha256:0123456789ab\n") && strstr(out, "  b    trial    2.1"
	    "              no     -\n"), "%s", out);
	free(out);
	free(errout);
	ck_assert_int_eq(render((const char *[]){ "update", "rollback", "gw",
	    NULL }, "{\"v\":1,\"ok\":false,\"error\":{\"code\":\"failed\","
	    "\"message\":\"no good slot to go back to\"}}\n", &out, &errout),
	    CTL_EXIT_FAILED);
	ck_assert_str_eq(errout, "domuctl: update rollback: no good slot to go "
	    "back to\n");
	free(out);
	free(errout);
}
END_TEST

/* a line from fd (blocking, one byte at a time: the client's next request
 * must stay unread) */
static void
read_line(int fd, char *buf, size_t sz)
{
	size_t n = 0;

	while (n + 1 < sz && read(fd, buf + n, 1) == 1 && buf[n] != '\n')
		n++;
	buf[n] = '\0';
}

/* (a client gone already is no failure of ours) */
static void
say(int fd, const char *line)
{
	(void)send(fd, line, strlen(line), MSG_NOSIGNAL);
}

/* domud as update wait sees it: the client's connection a, then its
 * events connection; the trial's state, then the event `to` */
static void
fake_domud(int lfd, const char *state, const char *to)
{
	char line[4096], ev[512];
	int a = accept(lfd, NULL, NULL), e = accept(lfd, NULL, NULL);

	read_line(e, line, sizeof(line));
	if (strstr(line, "\"cmd\":\"events\"") == NULL ||
	    strstr(line, "\"follow\":true") == NULL)
		_exit(2);
	say(e, "{\"v\":1,\"id\":1,\"ok\":true,\"result\":{\"events\":[]}}\n");
	read_line(a, line, sizeof(line));
	if (strstr(line, "\"cmd\":\"update-status\"") == NULL)
		_exit(3);
	snprintf(ev, sizeof(ev), "{\"v\":1,\"id\":1,\"ok\":true,\"result\":"
	    "{\"services\":[{\"name\":\"gw\",\"state\":\"%s\",\"active\":\"a\","
	    "\"last\":{\"result\":\"committed\",\"reason\":\"r\",\"wall\":1}}]}}"
	    "\n", state);
	say(a, ev);
	/* another service's end, another actor's: not the trial's */
	say(e, "{\"v\":1,\"event\":\"event\",\"data\":{\"service\":\"gw\","
	    "\"from\":\"stopping\",\"to\":\"running\",\"reason\":\"slot b\","
	    "\"actor\":\"update\"}}\n");
	if (to != NULL) {
		snprintf(ev, sizeof(ev), "{\"v\":1,\"event\":\"event\",\"data\":"
		    "{\"service\":\"gw\",\"from\":\"trial\",\"to\":\"%s\","
		    "\"reason\":\"why\",\"actor\":\"update\"}}\n", to);
		say(e, ev);
	}
	read_line(e, line, sizeof(line));	/* until the client goes */
	_exit(0);
}

/* update wait against fake_domud: its exit status */
static int
run_wait(const char *state, const char *to, int timeout_s)
{
	char *dir = t_tmpdir(), err[256], secs[16];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl_opts o;
	int lfd, fd, rc, status;
	pid_t pid;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", dir, PROTO_SOCK);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	if ((pid = fork()) == 0)
		fake_domud(lfd, state, to);
	close(lfd);
	snprintf(secs, sizeof(secs), "%d", timeout_s);
	ck_assert_int_eq(parsev(&o, err, (const char *[]){ "-r", dir, "update",
	    "wait", "--timeout", secs, "gw", NULL }), 0);
	fd = ctl_connect(dir, &rc);
	ck_assert_int_ne(fd, -1);
	rc = ctl_run_update(fd, &o, mono_ms() + 5000);
	close(fd);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "fake domud: %d", status);
	t_rmtree(dir);
	return rc;
}

START_TEST(update_wait_exits)
{
	int out = dup(1), errout = dup(2), null = open("/dev/null", O_WRONLY);

	/* what it prints is the events' lines, tested with them */
	dup2(null, 1);
	dup2(null, 2);
	ck_assert_int_eq(run_wait("trial", "committed", 5), CTL_EXIT_OK);
	ck_assert_int_eq(run_wait("trial", "rolled-back", 5), CTL_EXIT_FAILED);
	ck_assert_int_eq(run_wait("trial", NULL, 1), CTL_EXIT_TIMEOUT);
	/* no trial: the last update's result */
	ck_assert_int_eq(run_wait("idle", NULL, 5), CTL_EXIT_OK);
	fflush(stdout);
	dup2(out, 1);
	dup2(errout, 2);
	close(null);
	close(out);
	close(errout);
}
END_TEST

Suite *
ctl_update_suite(void)
{
	Suite *s = suite_create("domuctl-update");
	TCase *tc = tcase_create("update");

	tcase_add_test(tc, update_args_ok);
	tcase_add_test(tc, update_args_bad);
	tcase_add_test(tc, update_stage_sends_fds);
	tcase_add_test(tc, update_render);
	tcase_add_test(tc, update_wait_exits);
	suite_add_tcase(s, tc);
	return s;
}
