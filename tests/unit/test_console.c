// SPDX-License-Identifier: GPL-2.0-or-later
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan/frame.h"
#include "chan/gio.h"
#include "core/console.h"
#include "helpers.h"
#include "base/util.h"

/* a pseudo-terminal standing in for the guest's console: its master */
static int
t_pty(char **tty)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);

	ck_assert_int_ge(m, 0);
	ck_assert_int_eq(grantpt(m), 0);
	ck_assert_int_eq(unlockpt(m), 0);
	*tty = ptsname(m);
	return m;
}

struct tap {
	uint64_t	 calls, bytes;
};

static void
count_tap(void *arg, const char *svc, const char *b, size_t n)
{
	struct tap *t = arg;

	(void)svc;
	(void)b;
	t->calls++;
	t->bytes += n;
}

/* the guest I/O process the memres consoles of a test are parsed in */
static struct gio *gio;

static void
gio_up(void)
{
	gio = gio_new(getenv("DOMUD"), 0);
	console_set_gio(gio);
}

static void
gio_down(void)
{
	console_set_gio(NULL);
	gio_free(gio);
	gio = NULL;
}

/* the guest writes buf (n bytes) while the console reads it (and, for a
 * channel, until the guest I/O process has handled all of it) */
static void
guest_writes(int m, struct console *c, const uint8_t *buf, size_t n)
{
	uint64_t want = c->bytes_in + n;
	size_t off = 0;
	ssize_t w;
	int spins = 0;

	while (c->bytes_in < want && spins++ < 100000) {
		if (off < n && (w = write(m, buf + off, n - off > 4096 ?
		    4096 : n - off)) > 0)
			off += (size_t)w;
		ck_assert_int_eq(console_read(c), 0);
		if (c->chan) {
			gio_flush(gio);
			gio_after_poll(gio, NULL, 0);
		}
		if (off == n)
			usleep(100);
	}
	ck_assert_uint_eq(c->bytes_in, want);
	if (c->chan)
		ck_assert_int_eq(gio_sync(c->chan, 10000), 0);
}

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

/* a memres guest that floods scraps between frames (a byte, a valid pong,
 * a fake header claiming 4 KiB): what is not a frame is logged and shown
 * to followers once per read, not once per scrap */
START_TEST(noise_batched_per_read)
{
	static uint8_t junk[256 * 1024];
	const uint8_t hdr[FRAME_HDR] = { 0xf9, 'd', 'm', 'x', FRAME_VERSION,
	    FT_OUT, FF_STDOUT, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0x10, 0x00 };
	struct frame pong = { FT_PONG, 0, 1, 0, 0, NULL };
	char *dir = t_tmpdir(), path[512], *tty;
	struct err e = ERR_INIT;
	struct tap t = { 0, 0 };
	uint8_t f[FRAME_MAX];
	struct console *c;
	struct stat st;
	size_t i, n, off = 0;
	int m;

	n = frame_encode(f, &pong);
	for (i = 0; off + 1 + n + sizeof(hdr) <= sizeof(junk); i++) {
		junk[off++] = 'x';
		memcpy(junk + off, f, n);
		off += n;
		if (i % 8 == 0) {
			memcpy(junk + off, hdr, sizeof(hdr));
			off += sizeof(hdr);
		}
	}
	memset(junk + off, 'y', sizeof(junk) - off);
	m = t_pty(&tty);
	c = console_open(tty, dir, "hostile", 4 << 20, &e);
	ck_assert_msg(c != NULL, "%s", e.msg);
	gio_up();
	console_attach_channel(c, 0, NULL, NULL);
	ck_assert_ptr_nonnull(c->chan);
	console_set_tap(count_tap, &t);
	guest_writes(m, c, junk, sizeof(junk));
	console_set_tap(NULL, NULL);
	/* at most a frame's worth is held back, waiting for its end */
	ck_assert_uint_ge(t.bytes, sizeof(junk) - n * (i + 1) - FRAME_MAX);
	ck_assert_msg(t.calls <= c->reads, "%llu events for %llu reads",
	    (unsigned long long)t.calls, (unsigned long long)c->reads);
	snprintf(path, sizeof(path), "%s/hostile.log", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, t.bytes);
	console_close(c);
	gio_down();
	close(m);
	t_rmtree(dir);
}
END_TEST

/* domud's log (stderr in the unit tests) goes to path; the old stderr */
static int
stderr_to(const char *path)
{
	int saved = dup(2), fd;

	ck_assert_int_ge(saved, 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, 2), 2);
	close(fd);
	return saved;
}

static void
stderr_back(int saved)
{
	ck_assert_int_eq(dup2(saved, 2), 2);
	close(saved);
}

/* a file's text (up to 64 KiB), NUL-terminated; static */
static const char *
slurp(const char *path)
{
	static char text[65536];
	ssize_t n = 0;
	int fd;

	text[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return text;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	return text;
}

static int
occurrences(const char *text, const char *s)
{
	int n = 0;

	while ((text = strstr(text, s)) != NULL) {
		n++;
		text += strlen(s);
	}
	return n;
}

static void
set_flag(void *arg)
{
	*(int *)arg = 1;
}

/* a full disk: one warning, not one per write; the console, its channel
 * and its followers go on; logging resumes (and says so once) with a
 * note of what was lost when space returns */
START_TEST(full_disk_said_once)
{
	char *dir = t_tmpdir(), path[512], errpath[512], *tty, buf[1000];
	struct frame hello = { FT_HELLO, 0, 0, 0, 11,
	    (const uint8_t *)"domud-agent" };
	struct err e = ERR_INIT;
	struct tap t = { 0, 0 };
	uint8_t f[FRAME_MAX];
	struct console *c;
	const char *log;
	int m, saved, i, ready = 0;

	m = t_pty(&tty);
	c = console_open(tty, dir, "full", 1 << 20, &e);
	ck_assert_msg(c != NULL, "%s", e.msg);
	gio_up();
	console_attach_channel(c, 0, set_flag, &ready);
	ck_assert_ptr_nonnull(c->chan);
	snprintf(errpath, sizeof(errpath), "%s/domud-stderr", dir);
	saved = stderr_to(errpath);
	/* /dev/full fails every write with ENOSPC, as a full disk does */
	close(c->logfd);
	c->logfd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(c->logfd, 0);
	console_set_tap(count_tap, &t);
	memset(buf, 'A', sizeof(buf));
	buf[sizeof(buf) - 1] = '\n';
	for (i = 0; i < 100; i++)
		guest_writes(m, c, (const uint8_t *)buf, sizeof(buf));
	/* the channel goes on: the agent's hello still makes it ready */
	guest_writes(m, c, f, frame_encode(f, &hello));
	ck_assert_int_eq(ready, 1);
	ck_assert_int_eq(c->hup, 0);
	ck_assert_uint_eq(t.bytes, 100 * sizeof(buf));

	/* space returns */
	close(c->logfd);
	snprintf(path, sizeof(path), "%s/full.log", dir);
	c->logfd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	ck_assert_int_ge(c->logfd, 0);
	guest_writes(m, c, (const uint8_t *)"BACK\n", 5);
	for (i = 0; i < 10; i++)
		guest_writes(m, c, (const uint8_t *)buf, sizeof(buf));
	console_set_tap(NULL, NULL);
	stderr_back(saved);

	log = slurp(errpath);
	ck_assert_msg(occurrences(log, "No space left on device") == 1,
	    "%d warnings; domud said: %.300s", occurrences(log,
	    "No space left on device"), log);
	ck_assert_msg(occurrences(log, "is written again") == 1,
	    "domud said: %.300s", log);
	log = slurp(path);
	ck_assert_ptr_nonnull(strstr(log, "100000 bytes of console output "
	    "were not logged (No space left on device)"));
	ck_assert_ptr_nonnull(strstr(log, "BACK\n"));
	ck_assert_int_eq(occurrences(log, "AAAA\n"), 10);
	console_close(c);
	gio_down();
	close(m);
	t_rmtree(dir);
}
END_TEST

/* the log is never written or read through a link put in the log
 * directory, and a FIFO there makes nothing wait */
START_TEST(log_never_through_a_link)
{
	char *dir = t_tmpdir(), path[512], target[512], errpath[512], *tty,
	    *tail;
	struct err e = ERR_INIT;
	struct console *c;
	const char *said;
	int m, fd, saved;

	snprintf(target, sizeof(target), "%s/secret", dir);
	fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_eq(write(fd, "SECRET\n", 7), 7);
	close(fd);
	snprintf(path, sizeof(path), "%s/x.log", dir);
	ck_assert_int_eq(symlink(target, path), 0);
	snprintf(errpath, sizeof(errpath), "%s/domud-stderr", dir);
	saved = stderr_to(errpath);

	m = t_pty(&tty);
	c = console_open(tty, dir, "x", 1 << 20, &e);
	ck_assert_msg(c != NULL, "%s", e.msg);	/* the console works */
	guest_writes(m, c, (const uint8_t *)"guest text\n", 11);
	console_close(c);
	ck_assert_str_eq(slurp(target), "SECRET\n");
	console_note(dir, "x", 1 << 20, "a note");
	ck_assert_str_eq(slurp(target), "SECRET\n");
	tail = console_tail(dir, "x", 10, 0, 0, &e);
	ck_assert_ptr_null(strstr(tail, "SECRET"));
	free(tail);

	snprintf(path, sizeof(path), "%s/y.log", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	c = console_open(tty, dir, "y", 1 << 20, &e);
	ck_assert_msg(c != NULL, "%s", e.msg);
	guest_writes(m, c, (const uint8_t *)"guest text\n", 11);
	console_close(c);
	console_note(dir, "y", 1 << 20, "a note");
	tail = console_tail(dir, "y", 10, 0, 0, &e);
	free(tail);
	stderr_back(saved);

	said = slurp(errpath);
	ck_assert_msg(occurrences(said, "a symbolic link, not followed") == 1,
	    "domud said: %.300s", said);
	ck_assert_msg(occurrences(said, "not a regular file") == 1,
	    "domud said: %.300s", said);
	close(m);
	t_rmtree(dir);
}
END_TEST

/* a new run: the log becomes the previous run's, shown by logs --previous;
 * an older previous run's second file does not linger */
START_TEST(previous_run_kept)
{
	char *dir = t_tmpdir(), path[512], *t;
	struct err e = ERR_INIT;
	FILE *f;

	snprintf(path, sizeof(path), "%s/x.log", dir);
	f = fopen(path, "w");
	fputs("run one\nthe end of run one\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/x.log.prev.1", dir);
	f = fopen(path, "w");
	fputs("from long ago\n", f);
	fclose(f);
	console_new_run(dir, "x");
	console_note(dir, "x", 1 << 20, "run two");
	t = console_tail(dir, "x", 0, 0, 1, &e);
	ck_assert_ptr_nonnull(strstr(t, "the end of run one"));
	ck_assert_ptr_null(strstr(t, "from long ago"));
	ck_assert_ptr_null(strstr(t, "run two"));
	free(t);
	t = console_tail(dir, "x", 0, 0, 0, &e);
	ck_assert_ptr_nonnull(strstr(t, "run two"));
	ck_assert_ptr_null(strstr(t, "run one"));
	free(t);
	ck_assert_int_eq(access(path, F_OK), -1);
	/* no log at all: the run before has nothing either */
	console_new_run(dir, "x");
	console_new_run(dir, "x");
	t = console_tail(dir, "x", 0, 0, 1, &e);
	ck_assert_str_eq(t, "");
	free(t);
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
	tcase_add_test(tc, noise_batched_per_read);
	tcase_add_test(tc, full_disk_said_once);
	tcase_add_test(tc, log_never_through_a_link);
	tcase_add_test(tc, previous_run_kept);
	suite_add_tcase(s, tc);
	return s;
}
