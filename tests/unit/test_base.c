// SPDX-License-Identifier: GPL-2.0-or-later
/* The bottom layer: the output neutraliser and whole-file I/O. */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fileio.h"
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
	ck_assert_int_eq(fileio_write_atomic(dir, "f.json", "{}", 2), 0);
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
	ck_assert_int_eq(fileio_write_atomic(dir, "f.json", "{}", 2), 0);
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

Suite *
base_suite(void)
{
	Suite *s = suite_create("base");
	TCase *tc = tcase_create("base");

	tcase_add_test(tc, sanitize);
	tcase_add_test(tc, fileio_roundtrip);
	tcase_add_test(tc, fileio_refuses_links_and_loose_dirs);
	suite_add_tcase(s, tc);
	return s;
}
