// SPDX-License-Identifier: GPL-2.0-or-later
/* The bottom layer: the output neutraliser and whole-file I/O. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/notify.h"
#include "base/sanitize.h"
#include "helpers.h"

START_TEST(sanitize)
{
	char out[64];

	sanitize_text("a\x1b[31mb\r\n\t\x7f", 11, out, 0);
	ck_assert_str_eq(out, "a^[[31mb\n\t^?");
	/* C1 controls in UTF-8 (U+009B is a one-byte CSI) */
	sanitize_text("\xc2\x9b" "2J", 4, out, 0);
	ck_assert_str_eq(out, "\\x9b2J");
	/* valid UTF-8 stays, overlong and stray bytes do not */
	sanitize_text("\xc3\xa9\xc0\xaf\x80", 5, out, 0);
	ck_assert_str_eq(out, "\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	sanitize_text("x\x1b[2Jy", 6, out, 1);
	ck_assert_str_eq(out, "x\x1b[2Jy");
}
END_TEST

START_TEST(fileio_roundtrip)
{
	char dir[] = "/tmp/domud-fileio-XXXXXX", path[64], *text;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f.json", dir);
	ck_assert_ptr_null(fileio_read(path, 100));	/* missing: quiet NULL */
	ck_assert_int_eq(fileio_write_atomic(dir, "f.json", "{}", 2, 0600, NULL), 0);
	text = fileio_read(path, 100);
	ck_assert_str_eq(text, "{}\n");
	free(text);
	ck_assert_ptr_null(fileio_read(path, 2));	/* over max */
	snprintf(path, sizeof(path), "%s/f.json.tmp", dir);
	ck_assert_int_eq(access(path, F_OK), -1);	/* renamed, not left */
	snprintf(path, sizeof(path), "%s/f.json", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* the temporary file is never written through a link left in its place;
 * directories domud keeps files in are checked */
START_TEST(fileio_refuses_links_and_loose_dirs)
{
	char dir[] = "/tmp/domud-fileio-XXXXXX", victim[] =
	    "/tmp/domud-victim-XXXXXX", tmp[64], buf[16];
	int fd;
	struct err e = ERR_INIT;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	fd = mkstemp(victim);
	ck_assert_int_eq(write(fd, "precious", 8), 8);
	close(fd);
	snprintf(tmp, sizeof(tmp), "%s/f.json.tmp", dir);
	ck_assert_int_eq(symlink(victim, tmp), 0);
	ck_assert_int_eq(fileio_write_atomic(dir, "f.json", "{}", 2, 0600, NULL), 0);
	fd = open(victim, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 8);
	close(fd);
	ck_assert_mem_eq(buf, "precious", 8);
	ck_assert_int_eq(fileio_check_dir(dir, &e), 0);
	chmod(dir, 0777);
	ck_assert_int_eq(fileio_check_dir(dir, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "writable by others"));
	chmod(dir, 0700);
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(dir, 12345, 0), 0);
		ck_assert_int_eq(fileio_check_dir(dir, &e), -1);
		ck_assert_ptr_nonnull(strstr(e.msg, "owned by uid 12345"));
	}
	snprintf(tmp, sizeof(tmp), "%s/f.json", dir);
	unlink(tmp);
	rmdir(dir);
	unlink(victim);
}
END_TEST

/*
 * Review finding 5: metrics_file's directory (often a collector's own) is
 * checked, and written by its descriptor: no file in a directory anyone
 * may write to; a link in the final name's place is replaced, not followed
 */
START_TEST(fileio_replace_checks_its_dir)
{
	char dir[] = "/tmp/domud-fileio-XXXXXX", victim[] =
	    "/tmp/domud-victim-XXXXXX", path[64], buf[16];
	struct err e = ERR_INIT;
	struct stat st;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	fd = mkstemp(victim);
	ck_assert_int_eq(write(fd, "precious", 8), 8);
	close(fd);
	chmod(dir, 01777);
	ck_assert_int_eq(fileio_write_replace(dir, "m.prom", "x 1", 3, 0644,
	    &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "writable by anyone"));
	snprintf(path, sizeof(path), "%s/m.prom", dir);
	ck_assert_int_eq(access(path, F_OK), -1);
	chmod(dir, 0755);
	ck_assert_int_eq(symlink(victim, path), 0);
	ck_assert_int_eq(fileio_write_replace(dir, "m.prom", "x 1", 3, 0644,
	    &e), 0);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	fd = open(victim, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 8);
	close(fd);
	ck_assert_mem_eq(buf, "precious", 8);
	unlink(path);
	rmdir(dir);
	unlink(victim);
}
END_TEST

/* a datagram socket like systemd's; its path ("@..." = abstract) */
static int
notify_listener(char *path, size_t sz, int abstract)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(path, sz, "%s/tmp/domud-notify-%d", abstract ? "@" : "",
	    (int)getpid());
	if (!abstract)
		unlink(path);
	memcpy(sa.sun_path, path, strlen(path));
	if (abstract)
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) +
	    (abstract ? 0 : 1));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, len), 0);
	return fd;
}

static void
expect_msg(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}

START_TEST(notify_protocol)
{
	char path[108], pid[32], buf[8];
	struct notify n;
	int abstract, fd;

	for (abstract = 0; abstract < 2; abstract++) {
		fd = notify_listener(path, sizeof(path), abstract);
		setenv("NOTIFY_SOCKET", path, 1);
		setenv("WATCHDOG_USEC", "4000000", 1);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		setenv("WATCHDOG_PID", pid, 1);
		notify_open(&n);
		/* children (hotplug scripts) do not inherit them */
		ck_assert_ptr_null(getenv("NOTIFY_SOCKET"));
		ck_assert_ptr_null(getenv("WATCHDOG_USEC"));
		ck_assert_int_eq(notify_send(&n, "READY=1"), 0);
		expect_msg(fd, "READY=1");
		notify_status(&n, "1 services: 1 running");
		expect_msg(fd, "STATUS=1 services: 1 running");
		/* the same status is not sent again */
		notify_status(&n, "1 services: 1 running");
		ck_assert_int_eq(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
		/* half the interval, sent when due only */
		ck_assert_int_eq(notify_watchdog(&n, 10000), 2000);
		expect_msg(fd, "WATCHDOG=1");
		ck_assert_int_eq(notify_watchdog(&n, 11000), 1000);
		ck_assert_int_eq(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
		ck_assert_int_eq(notify_watchdog(&n, 12000), 2000);
		expect_msg(fd, "WATCHDOG=1");
		notify_close(&n);
		close(fd);
		if (!abstract)
			unlink(path);
	}
	/* a watchdog meant for another process, or no socket: nothing */
	fd = notify_listener(path, sizeof(path), 0);
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "4000000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	notify_open(&n);
	ck_assert_int_eq(notify_watchdog(&n, 10000), -1);
	notify_close(&n);
	close(fd);
	unlink(path);
	notify_open(&n);
	ck_assert_int_eq(notify_send(&n, "READY=1"), -1);
	ck_assert_int_eq(notify_watchdog(&n, 10000), -1);
}
END_TEST


Suite *
base_suite(void)
{
	Suite *s = suite_create("base");
	TCase *tc = tcase_create("base");

	tcase_add_test(tc, sanitize);
	tcase_add_test(tc, fileio_roundtrip);
	tcase_add_test(tc, fileio_refuses_links_and_loose_dirs);
	tcase_add_test(tc, fileio_replace_checks_its_dir);
	tcase_add_test(tc, notify_protocol);
	suite_add_tcase(s, tc);
	return s;
}
