// SPDX-License-Identifier: GPL-2.0-or-later
/* domuctl's connection to domud: connecting, a request and its first reply
 * line, the output events of a command, and following what comes after. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "base/sanitize.h"
#include "base/util.h"

int
ctl_ms_left(uint64_t deadline)
{
	uint64_t now = mono_ms();

	/* UINT64_MAX: no deadline */
	return now >= deadline ? 0 : deadline - now > INT_MAX ? INT_MAX :
	    (int)(deadline - now);
}

/* The admin socket first; its group may be one we are not in, then the
 * read-only one (the daemon says what that one cannot do). */
int
ctl_connect(const char *run_dir, int *exitcode)
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

volatile sig_atomic_t ctl_interrupted;

void
ctl_on_sigint(int sig)
{
	(void)sig;
	ctl_interrupted++;
}

/*
 * An event line: 1, with its output bytes (malloc'd, *n of them, NULL if
 * none) and which of the guest's streams they are from; 0 if the line is
 * a reply, not an event.
 */
int
ctl_event_bytes(const char *line, uint8_t **bin, long *n, int *fd)
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
int
ctl_exec_event(const struct ctl_opts *o, const char *line)
{
	uint8_t *bin;
	char *text;
	long n;
	int fd;

	if (!ctl_event_bytes(line, &bin, &n, &fd))
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


/* logs -f: the guest's output as it comes, until Ctrl-C or domud goes */
int
ctl_follow(int fd, const struct ctl_opts *o, char *buf, size_t have,
    size_t cap)
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

/* the line out; fds (update-stage's files) ride with its first byte */
static int
send_line(int fd, const char *line, size_t len, const int *fds, int nfds,
    uint64_t deadline)
{
	union {
		struct cmsghdr	h;
		char		b[CMSG_SPACE(sizeof(int) * PROTO_FDS_MAX)];
	} u;
	struct pollfd pfd = { fd, POLLOUT, 0 };
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *c;
	size_t sent = 0;
	ssize_t n;

	while (sent < len) {
		if (poll(&pfd, 1, ctl_ms_left(deadline)) <= 0)
			return CTL_EXIT_TIMEOUT;
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = (char *)line + sent;
		iov.iov_len = len - sent;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if (sent == 0 && nfds > 0) {
			memset(&u, 0, sizeof(u));
			mh.msg_control = u.b;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
		}
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* refused? what it said is read below */
		sent += (size_t)n;
	}
	return CTL_EXIT_OK;
}

int
ctl_request_reply(int fd, const struct ctl_opts *o, uint64_t deadline,
    char **reply, size_t *off, size_t *cap)
{
	return ctl_request_reply_fds(fd, o, NULL, 0, deadline, reply, off,
	    cap);
}

/* the request out with fds, the first reply line in (*reply, *off bytes
 * read, cap its size); CTL_EXIT_OK, or how it failed */
int
ctl_request_reply_fds(int fd, const struct ctl_opts *o, const int *fds,
    int nfds, uint64_t deadline, char **reply, size_t *off, size_t *cap)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char *line;
	ssize_t n;
	int rc;

	line = proto_encode_request(&o->req);
	rc = send_line(fd, line, strlen(line), fds, nfds, deadline);
	free(line);
	if (rc != CTL_EXIT_OK)
		return rc;
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
		if (poll(&pfd, 1, ctl_ms_left(deadline)) <= 0)
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
