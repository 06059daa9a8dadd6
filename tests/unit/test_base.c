// SPDX-License-Identifier: GPL-2.0-or-later
/* The bottom layer: the output neutraliser and whole-file I/O. */
#include <sys/stat.h>

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

Suite *
base_suite(void)
{
	Suite *s = suite_create("base");
	TCase *tc = tcase_create("base");

	tcase_add_test(tc, sanitize);
	tcase_add_test(tc, fileio_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}
