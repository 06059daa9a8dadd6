// SPDX-License-Identifier: GPL-2.0-or-later
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/console.h"
#include "helpers.h"
#include "base/util.h"

START_TEST(log_is_bounded)
{
	char *dir = t_tmpdir(), path[512], buf[1000];
	int fds[2], i;
	struct console *c;
	struct stat st;
	struct err e = ERR_INIT;
	char *tty;

	/* a pseudo-terminal stands in for the guest's console */
	fds[0] = posix_openpt(O_RDWR | O_NOCTTY);
	ck_assert_int_ge(fds[0], 0);
	ck_assert_int_eq(grantpt(fds[0]), 0);
	ck_assert_int_eq(unlockpt(fds[0]), 0);
	tty = ptsname(fds[0]);
	c = console_open(tty, dir, "flood", 8192, &e);
	ck_assert_msg(c != NULL, "%s", e.msg);
	memset(buf, 'A', sizeof(buf));
	buf[sizeof(buf) - 1] = '\n';
	/* the guest writes 30 KB; the logs keep at most 2 x 8 KB */
	for (i = 0; i < 30; i++) {
		ck_assert_int_eq(write(fds[0], buf, sizeof(buf)), sizeof(buf));
		usleep(2000);
		while (console_read(c) == 0 && c->bytes_in < (uint64_t)(i + 1) *
		    sizeof(buf))
			usleep(1000);
	}
	snprintf(path, sizeof(path), "%s/flood.log", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_le(st.st_size, 8192);
	snprintf(path, sizeof(path), "%s/flood.log.1", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_le(st.st_size, 8192);
	ck_assert_uint_eq(c->bytes_in, 30 * sizeof(buf));
	console_close(c);
	close(fds[0]);
	t_rmtree(dir);
}
END_TEST

START_TEST(hangup_is_reported)
{
	char *dir = t_tmpdir();
	struct err e = ERR_INIT;
	struct console *c;
	int m;

	m = posix_openpt(O_RDWR | O_NOCTTY);
	ck_assert_int_eq(grantpt(m), 0);
	ck_assert_int_eq(unlockpt(m), 0);
	c = console_open(ptsname(m), dir, "x", 4096, &e);
	ck_assert_ptr_nonnull(c);
	close(m);	/* the domain is gone */
	ck_assert_int_eq(console_read(c), -1);
	ck_assert_int_eq(c->hup, 1);
	console_close(c);
	t_rmtree(dir);
}
END_TEST

Suite *
console_suite(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("capture");

	tcase_add_test(tc, log_is_bounded);
	tcase_add_test(tc, hangup_is_reported);
	suite_add_tcase(s, tc);
	return s;
}
