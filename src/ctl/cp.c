// SPDX-License-Identifier: GPL-2.0-or-later
/* cp: a file to or from a memres DomU, through an exec of cat in the guest. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "base/util.h"

struct cp {
	const struct ctl_opts	*o;
	int			 file;		/* local */
	char			*tmp;		/* from the guest: renamed at the end */
	uint64_t		 bytes, started, shown;
	char			 err[2048];	/* the guest command's stderr */
	size_t			 errlen;
	int			 too_big;
	int			 fd;		/* to domud */
	int			 sending;	/* the file's pieces still go */
	char			*why;		/* domud's words, when it failed */
	size_t			 whylen;
	int			 rc;		/* the exec's, at its end */
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

	if (!ctl_event_bytes(line, &bin, &n, &from))
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
/* the local side: the file to send, or a temporary file beside DST; 0, or
 * -1 when it cannot be (said on stderr) */
static int
cp_open(struct cp *cp)
{
	const struct ctl_opts *o = cp->o;
	struct stat st;

	if (o->cp_to_guest) {
		if ((cp->file = open(o->cp_local, O_RDONLY | O_CLOEXEC)) == -1 ||
		    fstat(cp->file, &st) == -1 || !S_ISREG(st.st_mode)) {
			fprintf(stderr, "domuctl: cp: %s: %s\n", o->cp_local,
			    cp->file == -1 ? strerror(errno) : "not a regular file");
			return -1;
		}
		if ((uint64_t)st.st_size > o->cp_max) {
			fprintf(stderr, "domuctl: cp: %s: %lld bytes, over --max "
			    "%llu\n", o->cp_local, (long long)st.st_size,
			    (unsigned long long)o->cp_max);
			return -1;
		}
	} else {
		if (asprintf(&cp->tmp, "%s.domuctl-XXXXXX", o->cp_local) < 0 ||
		    (cp->file = mkstemp(cp->tmp)) == -1) {
			fprintf(stderr, "domuctl: cp: %s: %s\n", o->cp_local,
			    strerror(errno));
			free(cp->tmp);
			cp->tmp = NULL;
			return -1;
		}
	}
	return 0;
}

/* one line from domud; 1 when it is the exec's end (cp->rc) */
static int
cp_line(struct cp *cp, const char *line)
{
	/* a piece of the file refused: the copy is broken */
	if (strstr(line, "\"id\":2,") && strstr(line, "\"ok\":false")) {
		static const char cancel[] =
		    "{\"v\":1,\"cmd\":\"cancel\"}\n";

		fprintf(stderr, "domuctl: cp: domud refused a piece "
		    "of the file: %s\n", line);
		(void)write_all(cp->fd, (const uint8_t *)cancel,
		    sizeof(cancel) - 1);
		cp->sending = 0;
	}
	/* the exec's own end carries id 1 */
	if (!cp_event(cp, line, cp->fd) && strstr(line, "\"id\":1,")) {
		FILE *ms = open_memstream(&cp->why, &cp->whylen);

		cp->rc = ctl_exec_status(line, ms ? ms : stderr);
		if (ms)
			fclose(ms);
		return 1;
	}
	return 0;
}

/* the file's pieces out and domud's lines in, until the exec's end: 0, or
 * -1 when the copy broke off (said on stderr) */
static int
cp_loop(struct cp *cp)
{
	struct pollfd pfd = { cp->fd, POLLIN, 0 };
	size_t have = 0, cap = 1 << 20;
	char *buf, *nl;
	int r = -1;
	ssize_t n;

	if ((buf = malloc(cap)) == NULL)
		return -1;
	for (;;) {
		pfd.events = POLLIN | (cp->sending ? POLLOUT : 0);
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if ((pfd.revents & POLLOUT) && cp->sending) {
			int sent = cp_send(cp, cp->fd);

			if (sent == -1) {
				fprintf(stderr, "domuctl: cp: %s: %s\n",
				    cp->o->cp_local, strerror(errno));
				goto out;
			}
			cp->sending = sent;
		}
		if (!(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		if (have + 1 >= cap) {
			fprintf(stderr, "domuctl: cp: a reply line too large\n");
			goto out;
		}
		n = read(cp->fd, buf + have, cap - have - 1);
		if (n <= 0) {
			fprintf(stderr, "domuctl: cp: domud closed the "
			    "connection\n");
			goto out;
		}
		have += (size_t)n;
		while ((nl = memchr(buf, '\n', have)) != NULL) {
			*nl = '\0';
			if (cp_line(cp, buf)) {
				r = 0;
				goto out;
			}
			have -= (size_t)(nl - buf) + 1;
			memmove(buf, nl + 1, have);
		}
	}
out:
	free(buf);
	return r;
}

/* after the exec's end: what went wrong, or DST renamed into place; the
 * exit code */
static int
cp_finish(struct cp *cp)
{
	const struct ctl_opts *o = cp->o;
	int rc = cp->rc;

	cp_progress(cp, 1);
	if (cp->too_big) {
		fprintf(stderr, "domuctl: cp: the file is over --max %llu bytes\n",
		    (unsigned long long)o->cp_max);
		rc = CTL_EXIT_FAILED;
	} else if (rc != 0) {
		/* the guest's own words (cat: can't open ...), else domud's */
		cp->err[cp->errlen] = '\0';
		if (cp->errlen == 0 && cp->why &&
		    strncmp(cp->why, "domuctl: exec: ", 15) == 0)
			snprintf(cp->err, sizeof(cp->err), "%s", cp->why + 15);
		cp->err[strcspn(cp->err, "\n")] = '\0';
		fprintf(stderr, "domuctl: cp: %s:%s: %s\n", o->req.service,
		    o->cp_remote, cp->err[0] ? cp->err : "failed");
		rc = rc == CTL_EXIT_DENIED ? rc : CTL_EXIT_FAILED;
	} else if (cp->tmp && (fsync(cp->file) == -1 ||
	    rename(cp->tmp, o->cp_local) == -1)) {
		fprintf(stderr, "domuctl: cp: %s: %s\n", o->cp_local,
		    strerror(errno));
		rc = CTL_EXIT_FAILED;
	} else {
		free(cp->tmp);
		cp->tmp = NULL;	/* renamed: nothing to remove */
	}
	return rc;
}

/*
 * cp: cat in the guest, its output into a temporary file renamed over
 * DST at the end (a failed copy leaves nothing), or the file fed to
 * `cat > PATH` through stdin requests, which domud paces to the guest.
 */
int
ctl_run_cp(int fd, const struct ctl_opts *o)
{
	struct cp cp;
	char *line = NULL;
	int rc = CTL_EXIT_FAILED;

	memset(&cp, 0, sizeof(cp));
	cp.o = o;
	cp.fd = fd;
	cp.file = -1;
	cp.started = cp.shown = mono_ms();
	if (cp_open(&cp) == -1)
		goto out;
	line = proto_encode_request(&o->req);
	if (write_all(fd, (uint8_t *)line, strlen(line)) == -1) {
		fprintf(stderr, "domuctl: lost the connection to domud\n");
		goto out;
	}
	cp.sending = o->cp_to_guest;
	if (cp_loop(&cp) == 0)
		rc = cp_finish(&cp);
out:
	if (cp.tmp) {
		unlink(cp.tmp);
		free(cp.tmp);
	}
	if (cp.file != -1)
		close(cp.file);
	free(line);
	free(cp.why);
	return rc;
}
