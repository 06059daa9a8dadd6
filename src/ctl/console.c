// SPDX-License-Identifier: GPL-2.0-or-later
/* console: a person on a guest's console, through domud. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "client.h"
#include "base/util.h"

#define DETACH_KEY	0x1d	/* Ctrl-] */

static struct termios saved_tty;
static int tty_raw;

static void
tty_restore(void)
{
	if (tty_raw)
		(void)tcsetattr(0, TCSAFLUSH, &saved_tty);
	tty_raw = 0;
}

struct console {
	const struct ctl_opts	*o;
	int			 fd;		/* to domud */
	char			*buf;		/* what domud sent, in lines */
	size_t			 have, cap;
	int			 attached;
	int			 in_open;	/* our stdin */
};

/* keys typed: to the guest as they are; 1 when the detach key was among
 * them (those before it go), -1 at the end of our stdin, else 0 */
static int
console_keys(struct console *cs)
{
	uint8_t keys[PROTO_STDIN_MAX];
	struct request r;
	ssize_t n, k, m = 0;
	char *enc;

	n = read(0, keys, sizeof(keys));
	if (n <= 0)
		return -1;
	for (k = 0; k < n && keys[k] != DETACH_KEY; k++)
		m++;
	if (m > 0) {
		memset(&r, 0, sizeof(r));
		strlcpy_(r.cmd, "input", sizeof(r.cmd));
		memcpy(r.data, keys, (size_t)m);
		r.data_len = (size_t)m;
		enc = proto_encode_request(&r);
		(void)write_all(cs->fd, (uint8_t *)enc, strlen(enc));
		free(enc);
	}
	return m < n;
}

/* a script's input ended: give the guest a moment to answer, then leave */
static void
console_last_words(struct console *cs)
{
	struct pollfd pfd = { cs->fd, POLLIN, 0 };
	ssize_t n;

	cs->in_open = 0;
	while (poll(&pfd, 1, 1500) > 0 && (n = read(cs->fd,
	    cs->buf + cs->have, cs->cap - cs->have - 1)) > 0)
		cs->have += (size_t)n;
}

/* attached: a terminal goes raw, so that keys go to the guest as typed */
static void
console_attached(struct console *cs)
{
	cs->attached = 1;
	if (isatty(0) && tcgetattr(0, &saved_tty) == 0) {
		struct termios t = saved_tty;

		cfmakeraw(&t);
		if (tcsetattr(0, TCSAFLUSH, &t) == 0)
			tty_raw = 1;
		atexit(tty_restore);
	}
	fprintf(stderr, "[attached to %s: Ctrl-] leaves]\r\n",
	    cs->o->req.service);
}

/* the complete lines from domud: the guest's output, or the answer to
 * the attach; 1 with *rc when that refused it */
static int
console_lines(struct console *cs, int *rc)
{
	char *nl;

	while ((nl = memchr(cs->buf, '\n', cs->have)) != NULL) {
		*nl = '\0';
		if (!ctl_exec_event(cs->o, cs->buf) && !cs->attached) {
			/* the answer to the attach itself */
			if (strstr(cs->buf, "\"ok\":true") == NULL) {
				*rc = ctl_render(cs->o, cs->buf, stdout, stderr);
				return 1;
			}
			console_attached(cs);
		}
		cs->have -= (size_t)(nl - cs->buf) + 1;
		memmove(cs->buf, nl + 1, cs->have);
	}
	return 0;
}

/*
 * console: the guest's console through domud (never the PTY itself, so the
 * channel and the log keep working). Keys go to the guest as typed;
 * Ctrl-] leaves, and so does the end of a non-terminal stdin.
 */
int
ctl_run_console(int fd, const struct ctl_opts *o)
{
	char *line = proto_encode_request(&o->req);
	struct console cs = { .o = o, .fd = fd, .cap = 1 << 20,
	    .in_open = 1 };
	struct pollfd pfd[2];
	int rc = CTL_EXIT_OK, keys;
	ssize_t n;

	if (write_all(fd, (uint8_t *)line, strlen(line)) == -1) {
		free(line);
		return CTL_EXIT_NODAEMON;
	}
	free(line);
	if ((cs.buf = malloc(cs.cap)) == NULL)
		return CTL_EXIT_FAILED;
	for (;;) {
		pfd[0].fd = fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = 0;
		pfd[1].events = cs.attached && cs.in_open ? POLLIN : 0;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		keys = 0;
		if ((pfd[1].revents & (POLLIN | POLLHUP)) &&
		    (keys = console_keys(&cs)) == 1)
			break;	/* the detach key */
		if (keys == -1)
			console_last_words(&cs);
		else if (!(pfd[0].revents & (POLLIN | POLLHUP)))
			continue;
		else {
			if (cs.have + 1 >= cs.cap)
				cs.have = 0;
			n = read(fd, cs.buf + cs.have, cs.cap - cs.have - 1);
			if (n <= 0) {
				tty_restore();
				fprintf(stderr, "\r\ndomuctl: console: domud "
				    "closed the connection\n");
				rc = CTL_EXIT_FAILED;
				goto out;
			}
			cs.have += (size_t)n;
		}
		if (console_lines(&cs, &rc))
			goto out;
		fflush(stdout);
		if (!cs.in_open)
			break;
	}
	tty_restore();
	fprintf(stderr, "\r\n[detached from %s]\n", o->req.service);
out:
	free(cs.buf);
	return rc;
}
