// SPDX-License-Identifier: GPL-2.0-or-later
/* The sandbox of untrusted-input children (base/sandbox.h): what is not
 * allowed fails with EPERM, what is allowed works. As root the child is
 * also nobody; unprivileged, the filter alone (NO_NEW_PRIVS permits it). */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "base/sandbox.h"
#include "helpers.h"

/* what the child reports, through the pipe */
struct report {
	int	 entered;	/* sandbox_enter's return */
	int	 open_errno;	/* open("/etc/hostname") */
	int	 kill_errno;	/* kill(parent, 0) */
	int	 socket_errno;	/* socket(AF_INET) */
	uid_t	 uid;		/* getuid(), allowed */
};

START_TEST(denied_with_eperm)
{
	static const char *const allow[] = {
		"read", "write", "exit", "exit_group", "rt_sigreturn",
		"getuid", "getuid32",
		"sigaltstack", "gettid",	/* AddressSanitizer's _exit */
		NULL
	};
	struct sandbox sb = {
		.uid = 65534, .gid = 65534, .nofile = 16, .allow = allow,
	};
	struct report r;
	const char hello[] = "allowed";
	char buf[sizeof(hello)];
	pid_t parent = getpid(), pid;
	int p[2], st;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct err e = ERR_INIT;

		close(p[0]);
		memset(&r, 0, sizeof(r));
		r.entered = sandbox_enter(&sb, &e);
		if (r.entered == 0) {
			r.uid = getuid();
			errno = 0;
			r.open_errno = open("/etc/hostname", O_RDONLY) == -1 ?
			    errno : 0;
			errno = 0;
			r.kill_errno = kill(parent, 0) == -1 ? errno : 0;
			errno = 0;
			r.socket_errno = socket(AF_INET, SOCK_STREAM, 0) == -1 ?
			    errno : 0;
		}
		if (write(p[1], &r, sizeof(r)) != (ssize_t)sizeof(r) ||
		    write(p[1], hello, sizeof(hello)) != (ssize_t)sizeof(hello))
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &r, sizeof(r)), (ssize_t)sizeof(r));
	ck_assert_int_eq(read(p[0], buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the child: status %#x", st);
	ck_assert_int_eq(r.entered, 0);
	ck_assert_str_eq(buf, hello);
	/* root gave itself up; anyone else stays who they are */
	ck_assert_uint_eq(r.uid, geteuid() == 0 ? 65534 : getuid());
	ck_assert_int_eq(r.open_errno, EPERM);
	ck_assert_int_eq(r.kill_errno, EPERM);
	ck_assert_int_eq(r.socket_errno, EPERM);
}
END_TEST

Suite *
sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("sandbox");

	tcase_add_test(tc, denied_with_eperm);
	suite_add_tcase(s, tc);
	return s;
}
