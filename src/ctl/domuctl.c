// SPDX-License-Identifier: GPL-2.0-or-later
/* domuctl: the field engineer's CLI for domud, over its control socket. */
#include <sys/socket.h>
#include <sys/un.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/proto.h"
#include "ctl.h"
#include "base/json.h"
#include "base/sanitize.h"
#include "base/util.h"

static int
ms_left(uint64_t deadline)
{
	uint64_t now = mono_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/* The admin socket first; its group may be one we are not in, then the
 * read-only one (the daemon says what that one cannot do). */
static int
connect_daemon(const char *run_dir, int *exitcode)
{
	const char *names[] = { PROTO_SOCK, PROTO_SOCK_RO };
	struct sockaddr_un sun;
	int fd, i, saved = 0;

	for (i = 0; i < 2; i++) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s",
		    run_dir, names[i]) >= sizeof(sun.sun_path)) {
			fprintf(stderr, "domuctl: %s: path too long\n", run_dir);
			*exitcode = CTL_EXIT_USAGE;
			return -1;
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd == -1) {
			perror("domuctl: socket");
			*exitcode = CTL_EXIT_FAILED;
			return -1;
		}
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return fd;
		if (i == 0 || saved != EACCES)
			saved = errno;
		close(fd);
	}
	if (saved == EAGAIN || saved == EWOULDBLOCK) {
		/* its listen queue is full: it runs, but is swamped */
		*exitcode = CTL_EXIT_BUSY;
	} else if (saved == EACCES || saved == EPERM) {
		fprintf(stderr, "domuctl: permission denied on %s: ask for the "
		    "read or admin group of domud\n", run_dir);
		*exitcode = CTL_EXIT_DENIED;
	} else {
		fprintf(stderr, "domuctl: domud is not running (%s/%s: %s)\n",
		    run_dir, PROTO_SOCK, strerror(saved));
		*exitcode = CTL_EXIT_NODAEMON;
	}
	return -1;
}

static volatile sig_atomic_t interrupted;

static void
on_sigint(int sig)
{
	(void)sig;
	interrupted++;
}

/*
 * An event line: 1, with its output bytes (malloc'd, *n of them, NULL if
 * none) and which of the guest's streams they are from; 0 if the line is
 * a reply, not an event.
 */
static int
event_bytes(const char *line, uint8_t **bin, long *n, int *fd)
{
	const char *pe[] = { "event", NULL }, *pf[] = { "fd", NULL },
	    *pd[] = { "data", NULL };
	yajl_val root = yajl_tree_parse(line, NULL, 0), fdv, dv;
	const char *ds;

	*bin = NULL;
	*n = 0;
	if (root == NULL || yajl_tree_get(root, pe, yajl_t_string) == NULL) {
		yajl_tree_free(root);
		return 0;
	}
	fdv = yajl_tree_get(root, pf, yajl_t_number);
	dv = yajl_tree_get(root, pd, yajl_t_string);
	*fd = fdv && YAJL_GET_INTEGER(fdv) == 2 ? 2 : 1;
	ds = dv ? YAJL_GET_STRING(dv) : NULL;
	if (ds && (*bin = malloc(strlen(ds) + 4)) != NULL &&
	    (*n = base64_decode(ds, *bin, strlen(ds) + 4)) <= 0) {
		free(*bin);
		*bin = NULL;
		*n = 0;
	}
	yajl_tree_free(root);
	return 1;
}

/* an output event: its bytes to our stdout or stderr; 1 if it was one */
static int
exec_event(const struct ctl_opts *o, const char *line)
{
	uint8_t *bin;
	char *text;
	long n;
	int fd;

	if (!event_bytes(line, &bin, &n, &fd))
		return 0;
	if (bin && !o->raw && isatty(fd)) {
		/* a terminal gets no escape sequences from a guest */
		if ((text = malloc(4 * (size_t)n + 1)) != NULL) {
			size_t m = sanitize_text((char *)bin, (size_t)n,
			    text, 0);

			(void)write_all(fd, text, m);
			free(text);
		}
	} else if (bin)
		(void)write_all(fd, bin, (size_t)n);
	free(bin);
	return 1;
}

/* exec --batch: where each command's time went, as the reply says:
 * domud's part (request to exit), the guest's (spawn, run, tail) */
#define BT_N	4
static long long batch_t[BT_N];

static void
batch_timing(const char *reply)
{
	static const char *const keys[BT_N] = { "domud_us", "guest_spawn_us",
	    "guest_run_us", "guest_tail_us" };
	yajl_val root = yajl_tree_parse(reply, NULL, 0), v;
	size_t k;

	for (k = 0; k < BT_N; k++) {
		const char *path[] = { "result", "timing", keys[k], NULL };

		v = root ? yajl_tree_get(root, path, yajl_t_number) : NULL;
		batch_t[k] = v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : -1;
	}
	yajl_tree_free(root);
}

/*
 * exec: the request, then output events until the final reply. Ctrl-C
 * asks domud to cancel the command in the guest and waits for its end;
 * a second Ctrl-C leaves at once.
 */
static int
run_exec(int fd, const struct ctl_opts *o)
{
	static const char cancel[] = "{\"v\":1,\"cmd\":\"cancel\"}\n";
	char *line = proto_encode_request(&o->req), *buf = NULL, *nl;
	size_t len = strlen(line), off = 0, cap = 0, have = 0;
	struct sigaction sa;
	struct pollfd pfd = { fd, POLLIN, 0 };
	int sent_cancel = 0, rc;
	ssize_t n;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (write_all(fd, (uint8_t *)line, len) == -1) {
		fprintf(stderr, "domuctl: lost the connection to domud\n");
		free(line);
		return CTL_EXIT_NODAEMON;
	}
	free(line);
	for (;;) {
		if (interrupted && !sent_cancel) {
			sent_cancel = 1;
			(void)write_all(fd, (const uint8_t *)cancel,
			    sizeof(cancel) - 1);
			fprintf(stderr, "domuctl: cancelling the command in the "
			    "guest (Ctrl-C again to leave now)\n");
		}
		if (interrupted > 1) {
			free(buf);
			return CTL_EXIT_EXEC_CANCELLED;
		}
		if (have + 65536 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 131072;
			if (cap > 8 * PROTO_REPLY_MAX || (nb = realloc(buf,
			    cap)) == NULL) {
				fprintf(stderr, "domuctl: exec: a line too large\n");
				free(buf);
				return CTL_EXIT_EXEC_ERROR;
			}
			buf = nb;
		}
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			free(buf);
			return CTL_EXIT_EXEC_ERROR;
		}
		n = read(fd, buf + have, cap - have - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "domuctl: exec: domud closed the "
			    "connection before the command ended\n");
			free(buf);
			return CTL_EXIT_EXEC_ERROR;
		}
		have += (size_t)n;
		buf[have] = '\0';
		while ((nl = memchr(buf + off, '\n', have - off)) != NULL) {
			*nl = '\0';
			if (o->json)
				printf("%s\n", buf + off);
			if (!exec_event(o, buf + off)) {
				/* the cancel's own reply carries no "result" exit */
				if (strstr(buf + off, "\"cancelled\":") != NULL &&
				    strstr(buf + off, "\"exit\":") == NULL) {
					off = (size_t)(nl - buf) + 1;
					continue;
				}
				fflush(stdout);
				if (o->batch)
					batch_timing(buf + off);
				rc = ctl_exec_status(buf + off, stderr);
				free(buf);
				return rc;
			}
			off = (size_t)(nl - buf) + 1;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
		off = 0;
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* the median of n values, sorted in place; 0 for none */
static uint64_t
median_u64(uint64_t *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

/*
 * exec --batch: each line of stdin is a shell command, run one after the
 * other on one connection (no process start and connect per command);
 * after each, "# exit N in M ms" on stderr, at the end a summary. The
 * exit status is the last failing command's, or 0.
 */
static int
run_batch(int fd, struct ctl_opts *o)
{
	char line[PROTO_REQ_MAX];
	uint64_t *ms = NULL, *parts[BT_N] = { NULL }, t0;
	size_t n = 0, cap = 0, failed = 0, len, k, np[BT_N] = { 0 };
	int rc, last = CTL_EXIT_OK;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		len = strcspn(line, "\n");
		line[len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (len + 1 > sizeof(o->req.args)) {
			fprintf(stderr, "domuctl: exec --batch: a line over %zu "
			    "bytes\n", sizeof(o->req.args) - 1);
			last = CTL_EXIT_USAGE;
			break;
		}
		memcpy(o->req.args, line, len + 1);
		o->req.args_len = len + 1;
		o->req.argc = 1;
		o->req.id++;
		t0 = mono_us();
		for (k = 0; k < BT_N; k++)
			batch_t[k] = -1;
		rc = run_exec(fd, o);
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			ms = xrealloc(ms, cap * sizeof(*ms));
			for (k = 0; k < BT_N; k++)
				parts[k] = xrealloc(parts[k], cap *
				    sizeof(*parts[k]));
		}
		ms[n++] = mono_us() - t0;
		for (k = 0; k < BT_N; k++)
			if (batch_t[k] >= 0)
				parts[k][np[k]++] = (uint64_t)batch_t[k];
		fflush(stdout);
		fprintf(stderr, "# exit %d in %llu us (domud %lld us; guest: "
		    "spawn %lld, run %lld, tail %lld us)\n", rc,
		    (unsigned long long)ms[n - 1], batch_t[0], batch_t[1],
		    batch_t[2], batch_t[3]);
		if (rc != CTL_EXIT_OK) {
			failed++;
			last = rc;
		}
		/* the connection is gone, or a Ctrl-C: no more */
		if (rc == CTL_EXIT_NODAEMON || rc == CTL_EXIT_EXEC_CANCELLED ||
		    interrupted)
			break;
	}
	if (n > 0) {
		uint64_t med = median_u64(ms, n);

		fprintf(stderr, "domuctl: %zu commands, %zu failed; each took "
		    "%llu us at the median (%llu to %llu): domud %llu us, the "
		    "guest's spawn %llu, run %llu, tail %llu us (medians)\n", n,
		    failed, (unsigned long long)med, (unsigned long long)ms[0],
		    (unsigned long long)ms[n - 1],
		    (unsigned long long)median_u64(parts[0], np[0]),
		    (unsigned long long)median_u64(parts[1], np[1]),
		    (unsigned long long)median_u64(parts[2], np[2]),
		    (unsigned long long)median_u64(parts[3], np[3]));
	}
	free(ms);
	for (k = 0; k < BT_N; k++)
		free(parts[k]);
	return last;
}

/* ---- cp ------------------------------------------------------------------------ */

struct cp {
	const struct ctl_opts	*o;
	int			 file;		/* local */
	char			*tmp;		/* from the guest: renamed at the end */
	uint64_t		 bytes, started, shown;
	char			 err[2048];	/* the guest command's stderr */
	size_t			 errlen;
	int			 too_big;
};

static void
cp_progress(struct cp *cp, int last)
{
	uint64_t now = mono_ms(), ms = now - cp->started;

	if (!isatty(2) || (!last && now - cp->shown < 1000))
		return;
	cp->shown = now;
	fprintf(stderr, "\r%s %llu KiB, %llu KiB/s%s", cp->o->cp_to_guest ?
	    "sent" : "received", (unsigned long long)(cp->bytes / 1024),
	    (unsigned long long)(ms ? cp->bytes * 1000 / 1024 / ms : 0),
	    last ? "\n" : "");
}

/* an output event of cat; 1 if the line was one */
static int
cp_event(struct cp *cp, const char *line, int fd)
{
	uint8_t *bin;
	long n;
	int from;

	if (!event_bytes(line, &bin, &n, &from))
		return 0;
	if (bin && from == 2) {
		size_t room = sizeof(cp->err) - 1 - cp->errlen;

		if ((size_t)n < room)
			room = (size_t)n;
		memcpy(cp->err + cp->errlen, bin, room);
		cp->errlen += room;
	} else if (bin && !cp->too_big) {
		if (cp->bytes + (uint64_t)n > cp->o->cp_max) {
			static const char cancel[] =
			    "{\"v\":1,\"cmd\":\"cancel\"}\n";

			cp->too_big = 1;
			(void)write_all(fd, cancel, sizeof(cancel) - 1);
		} else if (write_all(cp->file, bin, (size_t)n) == 0)
			cp->bytes += (uint64_t)n;
	}
	free(bin);
	cp_progress(cp, 0);
	return 1;
}

/* one stdin request with the next piece of the file; 0 at its end */
static int
cp_send(struct cp *cp, int fd)
{
	struct request r;
	ssize_t n;
	char *line;
	int rc;

	memset(&r, 0, sizeof(r));
	strlcpy_(r.cmd, "stdin", sizeof(r.cmd));
	r.id = 2;	/* an error for a piece of the file says id 2 */
	r.has_id = 1;
	n = read(cp->file, r.data, sizeof(r.data));
	if (n < 0)
		return -1;
	if (n == 0)
		r.eof = 1;
	r.data_len = (size_t)n;
	line = proto_encode_request(&r);
	rc = write_all(fd, (uint8_t *)line, strlen(line));
	free(line);
	if (rc == -1)
		return -1;
	cp->bytes += (uint64_t)n;
	cp_progress(cp, 0);
	return n > 0;
}

/*
 * cp: cat in the guest, its output into a temporary file renamed over
 * DST at the end (a failed copy leaves nothing), or the file fed to
 * `cat > PATH` through stdin requests, which domud paces to the guest.
 */
static int
run_cp(int fd, const struct ctl_opts *o)
{
	struct cp cp;
	struct stat st;
	char *line = NULL, *buf = NULL, *nl, *why = NULL;
	size_t whylen = 0;
	size_t have = 0, cap = 1 << 20;
	struct pollfd pfd = { fd, POLLIN, 0 };
	int sending, rc = CTL_EXIT_FAILED;
	ssize_t n;

	memset(&cp, 0, sizeof(cp));
	cp.o = o;
	cp.file = -1;
	cp.started = cp.shown = mono_ms();
	if (o->cp_to_guest) {
		if ((cp.file = open(o->cp_local, O_RDONLY | O_CLOEXEC)) == -1 ||
		    fstat(cp.file, &st) == -1 || !S_ISREG(st.st_mode)) {
			fprintf(stderr, "domuctl: cp: %s: %s\n", o->cp_local,
			    cp.file == -1 ? strerror(errno) : "not a regular file");
			goto out;
		}
		if ((uint64_t)st.st_size > o->cp_max) {
			fprintf(stderr, "domuctl: cp: %s: %lld bytes, over --max "
			    "%llu\n", o->cp_local, (long long)st.st_size,
			    (unsigned long long)o->cp_max);
			goto out;
		}
	} else {
		if (asprintf(&cp.tmp, "%s.domuctl-XXXXXX", o->cp_local) < 0 ||
		    (cp.file = mkstemp(cp.tmp)) == -1) {
			fprintf(stderr, "domuctl: cp: %s: %s\n", o->cp_local,
			    strerror(errno));
			free(cp.tmp);
			cp.tmp = NULL;
			goto out;
		}
	}
	line = proto_encode_request(&o->req);
	if (write_all(fd, (uint8_t *)line, strlen(line)) == -1) {
		fprintf(stderr, "domuctl: lost the connection to domud\n");
		goto out;
	}
	if ((buf = malloc(cap)) == NULL)
		goto out;
	sending = o->cp_to_guest;
	for (;;) {
		pfd.events = POLLIN | (sending ? POLLOUT : 0);
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if ((pfd.revents & POLLOUT) && sending) {
			int r = cp_send(&cp, fd);

			if (r == -1) {
				fprintf(stderr, "domuctl: cp: %s: %s\n",
				    o->cp_local, strerror(errno));
				goto out;
			}
			sending = r;
		}
		if (!(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		if (have + 1 >= cap) {
			fprintf(stderr, "domuctl: cp: a reply line too large\n");
			goto out;
		}
		n = read(fd, buf + have, cap - have - 1);
		if (n <= 0) {
			fprintf(stderr, "domuctl: cp: domud closed the "
			    "connection\n");
			goto out;
		}
		have += (size_t)n;
		while ((nl = memchr(buf, '\n', have)) != NULL) {
			*nl = '\0';
			/* a piece of the file refused: the copy is broken */
			if (strstr(buf, "\"id\":2,") && strstr(buf, "\"ok\":false")) {
				static const char cancel[] =
				    "{\"v\":1,\"cmd\":\"cancel\"}\n";

				fprintf(stderr, "domuctl: cp: domud refused a piece "
				    "of the file: %s\n", buf);
				(void)write_all(fd, (const uint8_t *)cancel,
				    sizeof(cancel) - 1);
				sending = 0;
			}
			/* the exec's own end carries id 1 */
			if (!cp_event(&cp, buf, fd) && strstr(buf, "\"id\":1,")) {
				FILE *ms = open_memstream(&why, &whylen);

				rc = ctl_exec_status(buf, ms ? ms : stderr);
				if (ms)
					fclose(ms);
				goto done;
			}
			have -= (size_t)(nl - buf) + 1;
			memmove(buf, nl + 1, have);
		}
	}
done:
	cp_progress(&cp, 1);
	if (cp.too_big) {
		fprintf(stderr, "domuctl: cp: the file is over --max %llu bytes\n",
		    (unsigned long long)o->cp_max);
		rc = CTL_EXIT_FAILED;
	} else if (rc != 0) {
		/* the guest's own words (cat: can't open ...), else domud's */
		cp.err[cp.errlen] = '\0';
		if (cp.errlen == 0 && why && strncmp(why, "domuctl: exec: ", 15) == 0)
			snprintf(cp.err, sizeof(cp.err), "%s", why + 15);
		cp.err[strcspn(cp.err, "\n")] = '\0';
		fprintf(stderr, "domuctl: cp: %s:%s: %s\n", o->req.service,
		    o->cp_remote, cp.err[0] ? cp.err : "failed");
		rc = rc == CTL_EXIT_DENIED ? rc : CTL_EXIT_FAILED;
	} else if (cp.tmp && (fsync(cp.file) == -1 ||
	    rename(cp.tmp, o->cp_local) == -1)) {
		fprintf(stderr, "domuctl: cp: %s: %s\n", o->cp_local,
		    strerror(errno));
		rc = CTL_EXIT_FAILED;
	} else {
		free(cp.tmp);
		cp.tmp = NULL;	/* renamed: nothing to remove */
	}
out:
	if (cp.tmp) {
		unlink(cp.tmp);
		free(cp.tmp);
	}
	if (cp.file != -1)
		close(cp.file);
	free(line);
	free(buf);
	free(why);
	return rc;
}

/* ---- console ----------------------------------------------------------------------- */

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

/*
 * console: the guest's console through domud (never the PTY itself, so the
 * channel and the log keep working). Keys go to the guest as typed;
 * Ctrl-] leaves, and so does the end of a non-terminal stdin.
 */
static int
run_console(int fd, const struct ctl_opts *o)
{
	char *line = proto_encode_request(&o->req), *buf = NULL, *nl, *enc;
	size_t have = 0, cap = 1 << 20;
	struct pollfd pfd[2];
	int attached = 0, rc = CTL_EXIT_OK, in_open = 1;
	uint8_t keys[PROTO_STDIN_MAX];
	struct request r;
	ssize_t n;

	if (write_all(fd, (uint8_t *)line, strlen(line)) == -1) {
		free(line);
		return CTL_EXIT_NODAEMON;
	}
	free(line);
	if ((buf = malloc(cap)) == NULL)
		return CTL_EXIT_FAILED;
	for (;;) {
		pfd[0].fd = fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = 0;
		pfd[1].events = attached && in_open ? POLLIN : 0;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP)) {
			ssize_t k, m = 0;

			n = read(0, keys, sizeof(keys));
			if (n <= 0) {
				/* a script's input ended: give the guest a
				 * moment to answer, then leave */
				in_open = 0;
				pfd[0].events = POLLIN;
				while (poll(pfd, 1, 1500) > 0 && (n = read(fd,
				    buf + have, cap - have - 1)) > 0)
					have += (size_t)n;
				goto drain;
			}
			for (k = 0; k < n && keys[k] != DETACH_KEY; k++)
				m++;
			if (m > 0) {
				memset(&r, 0, sizeof(r));
				strlcpy_(r.cmd, "input", sizeof(r.cmd));
				memcpy(r.data, keys, (size_t)m);
				r.data_len = (size_t)m;
				enc = proto_encode_request(&r);
				(void)write_all(fd, (uint8_t *)enc, strlen(enc));
				free(enc);
			}
			if (m < n)
				goto leave;	/* the detach key */
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP)))
			continue;
		if (have + 1 >= cap)
			have = 0;
		n = read(fd, buf + have, cap - have - 1);
		if (n <= 0) {
			tty_restore();
			fprintf(stderr, "\r\ndomuctl: console: domud closed the "
			    "connection\n");
			rc = CTL_EXIT_FAILED;
			goto out;
		}
		have += (size_t)n;
drain:
		while ((nl = memchr(buf, '\n', have)) != NULL) {
			*nl = '\0';
			if (!exec_event(o, buf) && !attached) {
				/* the answer to the attach itself */
				if (strstr(buf, "\"ok\":true") == NULL) {
					rc = ctl_render(o, buf, stdout, stderr);
					goto out;
				}
				attached = 1;
				if (isatty(0) && tcgetattr(0, &saved_tty) == 0) {
					struct termios t = saved_tty;

					cfmakeraw(&t);
					if (tcsetattr(0, TCSAFLUSH, &t) == 0)
						tty_raw = 1;
					atexit(tty_restore);
				}
				fprintf(stderr, "[attached to %s: Ctrl-] leaves]\r\n",
				    o->req.service);
			}
			have -= (size_t)(nl - buf) + 1;
			memmove(buf, nl + 1, have);
		}
		fflush(stdout);
		if (!in_open)
			goto leave;
	}
leave:
	tty_restore();
	fprintf(stderr, "\r\n[detached from %s]\n", o->req.service);
out:
	free(buf);
	return rc;
}

/* logs -f: the guest's output as it comes, until Ctrl-C or domud goes */
static int
follow(int fd, const struct ctl_opts *o, char *buf, size_t have, size_t cap)
{
	const char *pt[] = { "text", NULL }, *pd[] = { "data", NULL };
	struct pollfd pfd = { fd, POLLIN, 0 };
	char *nl;
	ssize_t n;

	for (;;) {
		while ((nl = memchr(buf, '\n', have)) != NULL) {
			yajl_val root, t;

			*nl = '\0';
			if (o->json)
				printf("%s\n", buf);
			else if ((root = yajl_tree_parse(buf, NULL, 0)) != NULL) {
				const char *text;

				t = yajl_tree_get(root, pt, yajl_t_string);
				if ((text = t ? YAJL_GET_STRING(t) : NULL) != NULL)
					fputs(text, stdout);
				/* events -f: one event each */
				t = yajl_tree_get(root, pd, yajl_t_object);
				if (t != NULL)
					ctl_print_event(t, stdout);
				yajl_tree_free(root);
			}
			fflush(stdout);
			have -= (size_t)(nl - buf) + 1;
			memmove(buf, nl + 1, have);
		}
		if (have + 1 >= cap)
			have = 0;	/* a line over the bound: drop it */
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			return CTL_EXIT_FAILED;
		}
		n = read(fd, buf + have, cap - have - 1);
		if (n <= 0)
			return CTL_EXIT_OK;	/* domud went away */
		have += (size_t)n;
	}
}

/* the request out, the first reply line in (*reply, *off bytes read, cap
 * its size); CTL_EXIT_OK, or how it failed */
static int
request_reply(int fd, const struct ctl_opts *o, uint64_t deadline,
    char **reply, size_t *off, size_t *cap)
{
	struct pollfd pfd;
	size_t len, sent = 0;
	char *line;
	ssize_t n;

	line = proto_encode_request(&o->req);
	len = strlen(line);
	pfd.fd = fd;
	while (sent < len) {
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, ms_left(deadline)) <= 0) {
			free(line);
			return CTL_EXIT_TIMEOUT;
		}
		n = write(fd, line + sent, len - sent);
		if (n <= 0)
			break;	/* refused? what it said is read below */
		sent += (size_t)n;
	}
	free(line);
	/* one reply line, bounded like the daemon bounds it */
	*off = 0;
	for (;;) {
		if (*off + 4096 + 1 > *cap) {
			*cap = *cap ? *cap * 2 : 65536;
			if (*cap > PROTO_REPLY_MAX + 4096) {
				fprintf(stderr, "domuctl: reply too large\n");
				return CTL_EXIT_TIMEOUT;
			}
			if ((*reply = realloc(*reply, *cap)) == NULL) {
				perror("domuctl");
				return CTL_EXIT_FAILED;
			}
		}
		pfd.events = POLLIN;
		if (poll(&pfd, 1, ms_left(deadline)) <= 0)
			return CTL_EXIT_TIMEOUT;
		n = read(fd, *reply + *off, *cap - *off - 1);
		if (n <= 0) {
			fprintf(stderr, "domuctl: domud closed the connection "
			    "without an answer\n");
			return CTL_EXIT_NODAEMON;
		}
		*off += (size_t)n;
		(*reply)[*off] = '\0';
		if (memchr(*reply, '\n', *off) != NULL)
			return CTL_EXIT_OK;
	}
}

/* a string field of a reply's first service or of an event */
static int
field_is(yajl_val v, const char *const *path, const char *want)
{
	yajl_val f = yajl_tree_get(v, (const char **)path, yajl_t_string);
	const char *got = f ? YAJL_GET_STRING(f) : NULL;

	return got != NULL && strcmp(got, want) == 0;
}

/*
 * start/stop/restart --wait: the service's events are followed from before
 * the request is sent (nothing in between is missed), each shown as it
 * comes, until the service is where it was asked to go (running, or ready
 * for a memres service; stopped) or fails on the way.
 */
static int
run_wait(int fd, const struct ctl_opts *o, uint64_t deadline)
{
	static const char *const st_path[] = { "result", "state", NULL },
	    *memres_path[] = { "result", "services", NULL },
	    *to_path[] = { "data", "to", NULL },
	    *reason_path[] = { "data", "reason", NULL };
	struct ctl_opts ev = *o, st = *o;
	struct pollfd pfd;
	char *reply = NULL, *buf = NULL, *nl;
	size_t off = 0, cap = 0, boff = 0, bcap = 0, have;
	int efd = -1, rc, stopping = !strcmp(o->cmd->name, "stop");
	const char *want = "running";
	yajl_val root, v;
	ssize_t n;

	/* what does up mean for it? */
	strlcpy_(st.req.cmd, "status", sizeof(st.req.cmd));
	st.req.pcmd = proto_cmd_find("status");
	if ((rc = request_reply(fd, &st, deadline, &reply, &off, &cap)) !=
	    CTL_EXIT_OK)
		goto out;
	if ((root = yajl_tree_parse(reply, NULL, 0)) != NULL) {
		v = yajl_tree_get(root, (const char **)memres_path,
		    yajl_t_array);
		yajl_val rw = json_len(v) > 0 ? yajl_tree_get(json_at(v, 0),
		    (const char *[]){ "ready_when", NULL }, yajl_t_string) :
		    NULL;
		const char *when = rw ? YAJL_GET_STRING(rw) : NULL;

		/* up means ready when its ready= waits for the agent or a
		 * probe */
		if (when != NULL && strcmp(when, "running") != 0)
			want = "ready";
		yajl_tree_free(root);
	} else if (ctl_render(&st, reply, stdout, stderr) != CTL_EXIT_OK) {
		rc = CTL_EXIT_FAILED;
		goto out;
	}
	if (stopping)
		want = "stopped";
	/* follow first */
	if ((efd = connect_daemon(o->run_dir, &rc)) == -1)
		goto out;
	strlcpy_(ev.req.cmd, "events", sizeof(ev.req.cmd));
	ev.req.pcmd = proto_cmd_find("events");
	ev.req.follow = 1;
	ev.req.lines = 1;
	if ((rc = request_reply(efd, &ev, deadline, &buf, &boff, &bcap)) !=
	    CTL_EXIT_OK)
		goto out;
	if (strstr(buf, "\"ok\":true") == NULL) {
		rc = ctl_render(&ev, buf, stdout, stderr);
		goto out;
	}
	nl = memchr(buf, '\n', boff);
	have = boff - (size_t)(nl - buf) - 1;
	memmove(buf, nl + 1, have);
	/* then the request */
	if ((rc = request_reply(fd, o, deadline, &reply, &off, &cap)) !=
	    CTL_EXIT_OK)
		goto out;
	if ((rc = ctl_render(o, reply, stdout, stderr)) != CTL_EXIT_OK)
		goto out;
	if ((root = yajl_tree_parse(reply, NULL, 0)) != NULL) {
		int there = field_is(root, st_path, want);

		yajl_tree_free(root);
		if (there)
			goto out;	/* already where it was asked to go */
	}
	for (;;) {
		while ((nl = memchr(buf, '\n', have)) != NULL) {
			*nl = '\0';
			if (o->json)
				printf("%s\n", buf);
			root = yajl_tree_parse(buf, NULL, 0);
			v = root ? yajl_tree_get(root, (const char *[]){ "data",
			    NULL }, yajl_t_object) : NULL;
			if (v != NULL) {
				if (!o->json)
					ctl_print_event(v, stdout);
				fflush(stdout);
				if (field_is(root, to_path, want)) {
					yajl_tree_free(root);
					goto out;
				}
				if (field_is(root, to_path, "failed") ||
				    (!stopping && (field_is(root, to_path,
				    "backoff") || field_is(root, to_path,
				    "stopped")))) {
					yajl_val r = yajl_tree_get(root,
					    (const char **)reason_path,
					    yajl_t_string);

					fprintf(stderr, "domuctl: %s: %s did not "
					    "come %s: %s\n", o->cmd->name,
					    o->req.service, stopping ? "to a stop" :
					    "up", r ? YAJL_GET_STRING(r) : "?");
					yajl_tree_free(root);
					rc = CTL_EXIT_FAILED;
					goto out;
				}
			}
			yajl_tree_free(root);
			have -= (size_t)(nl - buf) + 1;
			memmove(buf, nl + 1, have);
		}
		if (have + 1 >= bcap)
			have = 0;	/* a line over the bound: dropped */
		pfd.fd = efd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, ms_left(deadline)) <= 0) {
			fprintf(stderr, "domuctl: %s: %s is not %s after %d s\n",
			    o->cmd->name, o->req.service, want,
			    o->timeout_ms / 1000);
			rc = CTL_EXIT_TIMEOUT;
			goto out;
		}
		n = read(efd, buf + have, bcap - have - 1);
		if (n <= 0) {
			fprintf(stderr, "domuctl: domud went away\n");
			rc = CTL_EXIT_NODAEMON;
			goto out;
		}
		have += (size_t)n;
	}
out:
	if (efd != -1)
		close(efd);
	free(buf);
	free(reply);
	return rc;
}

/* top: status every -d seconds, as a table; on a terminal the screen is
 * redrawn, otherwise (or with -n) each round follows the last (batch) */
static int
run_top(const struct ctl_opts *o)
{
	static const char *const svc_path[] = { "result", "services", NULL };
	char *reply = NULL;
	size_t off = 0, cap = 0;
	int fd, rc = CTL_EXIT_OK, round, redraw = isatty(1) && !o->json &&
	    o->top_iter == 0;
	yajl_val root, prev = NULL;
	uint64_t at = 0, prev_at = 0;

	for (round = 0; o->top_iter == 0 || round < o->top_iter; round++) {
		if (round > 0)
			(void)poll(NULL, 0, o->top_delay_ms);
		if ((fd = connect_daemon(o->run_dir, &rc)) == -1)
			break;
		at = mono_ms();
		rc = request_reply(fd, o, at + (uint64_t)o->timeout_ms,
		    &reply, &off, &cap);
		close(fd);
		if (rc != CTL_EXIT_OK)
			break;
		if (o->json) {
			fputs(reply, stdout);
			fflush(stdout);
			continue;
		}
		if ((root = yajl_tree_parse(reply, NULL, 0)) == NULL ||
		    yajl_tree_get(root, (const char **)svc_path,
		    yajl_t_array) == NULL) {
			yajl_tree_free(root);
			rc = ctl_render(o, reply, stdout, stderr);
			break;
		}
		if (redraw)
			fputs("\033[H\033[2J", stdout);
		else if (round > 0)
			fputs("\n", stdout);
		ctl_print_top(yajl_tree_get(root, (const char **)svc_path,
		    yajl_t_array), prev ? yajl_tree_get(prev, (const char **)
		    svc_path, yajl_t_array) : NULL, (double)(at - prev_at) /
		    1000.0, stdout);
		fflush(stdout);
		yajl_tree_free(prev);
		prev = root;
		prev_at = at;
	}
	yajl_tree_free(prev);
	free(reply);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ctl_opts o;
	char err[256], *reply = NULL;
	size_t off = 0, cap = 0;
	uint64_t deadline, busy_until;
	int fd, rc = CTL_EXIT_OK, delay = 50;

	signal(SIGPIPE, SIG_IGN);
	if ((rc = ctl_parse_args(argc, argv, &o, err, sizeof(err))) != 0) {
		if (err[0])
			fprintf(stderr, "domuctl: %s\n", err);
		ctl_usage(stderr);
		return rc;
	}
	if (!strcmp(o.cmd->name, "top"))
		return run_top(&o);
	deadline = mono_ms() + (uint64_t)o.timeout_ms;
	/* a daemon too busy to take us: again, for a while, then say so */
	busy_until = mono_ms() + CTL_BUSY_RETRY_MS;
	for (;;) {
		if ((fd = connect_daemon(o.run_dir, &rc)) == -1 &&
		    rc == CTL_EXIT_BUSY && mono_ms() + (uint64_t)delay <
		    busy_until) {
			(void)poll(NULL, 0, delay);
			delay *= 2;
			continue;
		}
		if (fd == -1) {
			if (rc == CTL_EXIT_BUSY)
				fprintf(stderr, "domuctl: domud is busy: too many "
				    "clients; try again later\n");
			return (rc == CTL_EXIT_NODAEMON || rc == CTL_EXIT_BUSY) &&
			    !strcmp(o.cmd->name, "exec") ? CTL_EXIT_EXEC_ERROR :
			    rc;
		}
		if (!strcmp(o.cmd->name, "exec") || !strcmp(o.cmd->name, "run"))
			return o.batch ? run_batch(fd, &o) : run_exec(fd, &o);
		if (!strcmp(o.cmd->name, "cp"))
			return run_cp(fd, &o);
		if (!strcmp(o.cmd->name, "console"))
			return run_console(fd, &o);
		if (o.wait)
			return run_wait(fd, &o, deadline);
		rc = request_reply(fd, &o, deadline, &reply, &off, &cap);
		if (rc == CTL_EXIT_TIMEOUT)
			goto timeout;
		if (rc != CTL_EXIT_OK) {
			free(reply);
			return rc;
		}
		if (!ctl_refused_busy(reply) || mono_ms() + (uint64_t)delay >=
		    busy_until)
			break;
		close(fd);
		(void)poll(NULL, 0, delay);
		delay *= 2;
	}
	if (ctl_refused_busy(reply)) {
		fprintf(stderr, "domuctl: domud is busy (too many clients); try "
		    "again later\n");
		free(reply);
		return CTL_EXIT_BUSY;
	}
	if (o.req.follow) {
		char *nl = memchr(reply, '\n', off);
		size_t rest = off - (size_t)(nl - reply) - 1;

		*nl = '\0';
		rc = ctl_render(&o, reply, stdout, stderr);
		fflush(stdout);
		if (rc != CTL_EXIT_OK)
			return rc;
		memmove(reply, nl + 1, rest);
		rc = follow(fd, &o, reply, rest, cap);
		free(reply);
		return rc;
	}
	close(fd);
	rc = ctl_render(&o, reply, stdout, stderr);
	free(reply);
	return rc;
timeout:
	free(reply);
	fprintf(stderr, "domuctl: no answer from domud within %d s\n",
	    o.timeout_ms / 1000);
	return CTL_EXIT_TIMEOUT;
}
