// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Console capture: domud is the only reader of each DomU's console PTY. It
 * appends what the guest writes to LOG_DIR/NAME.log (rotated to NAME.log.1
 * at console_log_max), reads a bounded amount per loop round, queues typed
 * input and, for memres services, hands the stream to the guest I/O
 * process (chan/gio.h), which parses it and sends back what is noise.
 * logs and logs -f read from here (console_tail, the tap).
 * May call: chan, base (sanitize for tails).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "chan/gio.h"

#include "console.h"
#include "base/log.h"
#include "base/sanitize.h"
#include "base/util.h"

static char *
log_path(const char *logdir, const char *svc, const char *suffix)
{
	char *p;

	if (asprintf(&p, "%s/%s.log%s", logdir, svc, suffix) < 0)
		fatal("asprintf");
	return p;
}

/* a log and its rotated half renamed; a target whose source is not there
 * goes (it is not the run's it would stand for) */
static void
logs_move(const char *logdir, const char *svc, const char *const from[2],
    const char *const to[2])
{
	char *a, *b;
	size_t i;

	for (i = 0; i < 2; i++) {
		a = log_path(logdir, svc, from[i]);
		b = log_path(logdir, svc, to[i]);
		/* rename takes a link itself, never what it points to */
		if (rename(a, b) == -1 && errno == ENOENT)
			(void)unlink(b);
		free(a);
		free(b);
	}
}

static int
log_open(struct console *c)
{
	struct stat st;

	/* never through a link someone put in the log directory, and never
	 * an open that waits (a FIFO) */
	c->logfd = open(c->logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | O_NONBLOCK, 0640);
	if (c->logfd == -1)
		return -1;
	if (fstat(c->logfd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(c->logfd);
		c->logfd = -1;
		errno = EINVAL;		/* said as "not a regular file" */
		return -1;
	}
	c->logsize = (uint64_t)st.st_size;
	return 0;
}

/* The log cannot be written (a full disk, mostly): said once, then quiet;
 * what could not be written is counted. */
static void
log_trouble(struct console *c, int err, size_t lost)
{
	c->log_lost += lost;
	if (c->log_errno != 0)
		return;
	c->log_errno = err;
	if (c->log_quiet)
		return;
	/* EINVAL: log_open's own; ENXIO: a FIFO that nobody reads */
	log_warnx("console log %s: %s; console output is not logged until it "
	    "can be written again", c->logpath, err == EINVAL || err == ENXIO ?
	    "not a regular file" : err == ELOOP ? "a symbolic link, not "
	    "followed" : strerror(err));
}

/* all of n bytes; -1 with errno, what was written counted */
static int
log_write(struct console *c, const char *b, size_t *n)
{
	ssize_t w;

	while (*n > 0) {
		w = write(c->logfd, b, *n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = ENOSPC;
			return -1;
		}
		c->logsize += (uint64_t)w;
		b += w;
		*n -= (size_t)w;
	}
	return 0;
}

/* after a failure: a line saying what was lost goes first; once it is
 * written the log works again, and that is said once too */
static int
log_resume(struct console *c)
{
	char line[200], ts[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t n;
	int k;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	k = snprintf(line, sizeof(line), "\n[domud %s] %llu bytes of console "
	    "output were not logged (%s)\n", ts,
	    (unsigned long long)c->log_lost, strerror(c->log_errno));
	n = k > 0 && (size_t)k < sizeof(line) ? (size_t)k : 0;
	if (log_write(c, line, &n) == -1)
		return -1;
	if (!c->log_quiet)
		log_info("console log %s is written again; %llu bytes of "
		    "output were lost", c->logpath,
		    (unsigned long long)c->log_lost);
	c->log_errno = 0;
	c->log_lost = 0;
	return 0;
}

static void log_append(struct console *, const char *, size_t);

static void (*tap_fn)(void *, const char *, const char *, size_t);
static void *tap_arg;

void
console_set_tap(void (*fn)(void *, const char *, const char *, size_t),
    void *arg)
{
	tap_fn = fn;
	tap_arg = arg;
}

static struct gio *gio;

void
console_set_gio(struct gio *g)
{
	gio = g;
}

/* what the guest I/O process found outside frames: the log's */
static void
con_noise(void *arg, const uint8_t *b, size_t n)
{
	log_append(arg, (const char *)b, n);
}

static void
con_ready(void *arg)
{
	struct console *c = arg;

	if (c->ready_cb)
		c->ready_cb(c->ready_arg);
}

void
console_attach_channel(struct console *c, int vxn, void (*on_ready)(void *),
    void *arg)
{
	static const struct gio_chan_ops ops = { con_noise, con_ready };

	if (c->chan != NULL || gio == NULL)
		return;
	c->ready_cb = on_ready;
	c->ready_arg = arg;
	if ((c->chan = gio_open(gio, vxn, &ops, c)) == NULL)
		log_warnx("%s: over %d memres consoles: this one is only "
		    "logged", c->svc, GIO_MAX_CONS);
}

void
console_settle(struct console *c)
{
	if (c->chan)
		(void)gio_drain(c->chan, 1000);
}

int
console_want_read(const struct console *c)
{
	return !c->hup && (c->chan == NULL || gio_can_input(c->chan));
}

int
console_want_write(const struct console *c)
{
	const uint8_t *p;

	if (c->hup)
		return 0;
	if (c->chan == NULL)
		return c->inlen > 0;
	return gio_pending(c->chan, &p) > 0;
}

int
console_input(struct console *c, const uint8_t *b, size_t n)
{
	if (c->chan)
		return gio_raw(c->chan, b, n);
	if (c->inlen + n > sizeof(c->in))
		return -1;
	memcpy(c->in + c->inlen, b, n);
	c->inlen += n;
	return 0;
}

int
console_write(struct console *c)
{
	const uint8_t *p;
	size_t n;
	ssize_t w;

	if (c->chan == NULL && c->inlen > 0) {
		w = write(c->fd, c->in, c->inlen);
		if (w > 0) {
			memmove(c->in, c->in + w, c->inlen - (size_t)w);
			c->inlen -= (size_t)w;
		}
		return c->inlen > 0;
	}
	if (c->chan == NULL || (n = gio_pending(c->chan, &p)) == 0)
		return 0;
	w = write(c->fd, p, n);
	if (w > 0)
		gio_written(c->chan, (size_t)w);
	else if (w == -1 && errno != EAGAIN && errno != EINTR)
		c->hup = 1;
	return gio_pending(c->chan, &p) > 0;
}

static void
log_append(struct console *c, const char *buf, size_t n)
{
	/* followers see the output whatever becomes of the log */
	if (tap_fn && c->svc)
		tap_fn(tap_arg, c->svc, buf, n);
	/* a chunk larger than the bound keeps its tail */
	if (n > c->max) {
		buf += n - c->max;
		n = c->max;
	}
	if (c->logfd != -1 && c->logsize + n > c->max) {
		close(c->logfd);
		c->logfd = -1;
		if (rename(c->logpath, c->oldpath) == -1 && errno != ENOENT)
			log_warn("rename %s", c->logpath);
	}
	if (c->logfd == -1 && log_open(c) == -1) {
		log_trouble(c, errno, n);
		return;
	}
	if (c->log_errno != 0 && log_resume(c) == -1) {
		log_trouble(c, errno, n);
		return;
	}
	if (log_write(c, buf, &n) == -1)
		log_trouble(c, errno, n);
}

static struct console *
console_open_as(const char *tty, const char *logdir, const char *svc,
    const char *suffix, uint64_t max, struct err *e)
{
	struct console *c = xcalloc(1, sizeof(*c));
	struct termios t;
	char old[16];

	c->fd = -1;
	c->logfd = -1;
	c->max = max;
	c->tty = xstrdup(tty);
	c->svc = xstrdup(svc);
	snprintf(old, sizeof(old), "%s.1", suffix);
	c->logpath = log_path(logdir, svc, suffix);
	c->oldpath = log_path(logdir, svc, old);
	c->fd = open(tty, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (c->fd == -1) {
		err_set(e, errno, "console %s: %s", tty, strerror(errno));
		goto fail;
	}
	/* raw on our side: no echo of what the guest prints back into it */
	if (tcgetattr(c->fd, &t) == 0) {
		cfmakeraw(&t);
		(void)tcsetattr(c->fd, TCSANOW, &t);
	}
	/* the console works without its log: said once, tried again */
	if (log_open(c) == -1)
		log_trouble(c, errno, 0);
	return c;
fail:
	console_close(c);
	return NULL;
}

struct console *
console_open(const char *tty, const char *logdir, const char *svc,
    uint64_t max, struct err *e)
{
	return console_open_as(tty, logdir, svc, "", max, e);
}

/* a standby booted ahead: its own log, NAME.log.next, from empty; its tail
 * tapped as "NAME.next" (no follower of the service sees two guests) */
struct console *
console_open_next(const char *tty, const char *logdir, const char *svc,
    uint64_t max, struct err *e)
{
	struct console *c;
	char *p;

	p = log_path(logdir, svc, ".next");
	(void)unlink(p);
	free(p);
	p = log_path(logdir, svc, ".next.1");
	(void)unlink(p);
	free(p);
	if ((c = console_open_as(tty, logdir, svc, ".next", max, e)) == NULL)
		return NULL;
	free(c->svc);
	if (asprintf(&c->svc, "%s.next", svc) < 0)
		fatal("asprintf");
	return c;
}

/* the handover: the log of the standby's boot becomes the run's (after
 * console_new_run kept the one before) */
void
console_take_next(const char *logdir, const char *svc)
{
	static const char *const from[] = { ".next", ".next.1" },
	    *const to[] = { "", ".1" };

	logs_move(logdir, svc, from, to);
}

void
console_close(struct console *c)
{
	if (c == NULL)
		return;
	gio_close(c->chan, "the domain is gone");
	if (c->fd != -1)
		close(c->fd);
	if (c->logfd != -1)
		close(c->logfd);
	free(c->tty);
	free(c->svc);
	free(c->logpath);
	free(c->oldpath);
	free(c);
}

int
console_read(struct console *c)
{
	char buf[CONSOLE_READ_CHUNK];
	ssize_t n;
	int i;

	for (i = 0; i < CONSOLE_READS_PER_ROUND; i++) {
		/* the guest's bytes wait in its console ring meanwhile */
		if (c->chan && !gio_can_input(c->chan))
			return 0;
		n = read(c->fd, buf, sizeof(buf));
		if (n > 0) {
			c->bytes_in += (uint64_t)n;
			c->reads++;
			if (c->chan)
				gio_input(c->chan, (const uint8_t *)buf,
				    (size_t)n);
			else
				log_append(c, buf, (size_t)n);
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		/* EIO or EOF: the domain is gone */
		c->hup = 1;
		return -1;
	}
	return 0;
}

void
console_note(const char *logdir, const char *svc, uint64_t max,
    const char *fmt, ...)
{
	struct console c;
	char msg[512], line[600], ts[32];
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;
	int n;

	memset(&c, 0, sizeof(c));
	c.logfd = -1;
	c.log_quiet = 1;	/* also in domud's log: the console's own say */
	c.max = max;
	c.logpath = log_path(logdir, svc, "");
	c.oldpath = log_path(logdir, svc, ".1");
	if (log_open(&c) == 0) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		n = snprintf(line, sizeof(line), "\n[domud %s] %s\n", ts, msg);
		if (n > 0)
			log_append(&c, line, (size_t)n < sizeof(line) ?
			    (size_t)n : sizeof(line) - 1);
		if (c.logfd != -1)
			close(c.logfd);
	}
	free(c.logpath);
	free(c.oldpath);
}

/* the last `want` bytes of a file, appended to buf */
static size_t
read_tail(const char *path, char *buf, size_t want)
{
	struct stat st;
	size_t got = 0;
	ssize_t r;
	off_t off;
	int fd;

	/* the logs we write, never what a link points to */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1)
		return 0;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	off = st.st_size > (off_t)want ? st.st_size - (off_t)want : 0;
	while (got < want && (r = pread(fd, buf + got, want - got,
	    off + (off_t)got)) > 0)
		got += (size_t)r;
	close(fd);
	return got;
}

/* a new run of the service begins: its log becomes the previous run's */
void
console_new_run(const char *logdir, const char *svc)
{
	static const char *const from[] = { "", ".1" },
	    *const to[] = { ".prev", ".prev.1" };

	logs_move(logdir, svc, from, to);
}

char *
console_tail(const char *logdir, const char *svc, size_t lines, int raw,
    int previous, struct err *e)
{
	char *cur = log_path(logdir, svc, previous ? ".prev" : ""),
	    *old = log_path(logdir, svc, previous ? ".prev.1" : ".1");
	char *buf = xcalloc(1, 2 * CONSOLE_TAIL_MAX + 1), *out, *start;
	size_t n, k, nl;
	struct stat st;

	(void)e;
	/* the older file first, then the current one; keep the last bytes */
	n = 0;
	if (stat(cur, &st) == 0 && (size_t)st.st_size < CONSOLE_TAIL_MAX)
		n = read_tail(old, buf, CONSOLE_TAIL_MAX - (size_t)st.st_size);
	n += read_tail(cur, buf + n, CONSOLE_TAIL_MAX);
	free(cur);
	free(old);

	/* back up over `lines` newlines (a final partial line counts) */
	start = buf;
	if (lines > 0) {
		nl = 0;
		k = n;
		if (k > 0 && buf[k - 1] == '\n')
			k--;
		while (k > 0) {
			if (buf[k - 1] == '\n' && ++nl == lines)
				break;
			k--;
		}
		start = buf + k;
		n -= k;
	}
	out = xcalloc(1, 4 * n + 1);
	sanitize_text(start, n, out, raw);
	free(buf);
	return out;
}
