// SPDX-License-Identifier: GPL-2.0-or-later
/* domuctl: the field engineer's CLI for domud, over its control socket. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "ctl.h"
#include "util.h"

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
	const char *names[] = { CONTROL_SOCK, CONTROL_SOCK_RO };
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
	if (saved == EACCES || saved == EPERM) {
		fprintf(stderr, "domuctl: permission denied on %s: ask for the "
		    "read or admin group of domud\n", run_dir);
		*exitcode = CTL_EXIT_DENIED;
	} else {
		fprintf(stderr, "domuctl: domud is not running (%s/%s: %s)\n",
		    run_dir, CONTROL_SOCK, strerror(saved));
		*exitcode = CTL_EXIT_NODAEMON;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct ctl_opts o;
	char err[256], *line, *reply = NULL;
	size_t len, off = 0, cap = 0;
	uint64_t deadline;
	struct pollfd pfd;
	int fd, rc = CTL_EXIT_OK;
	ssize_t n;

	signal(SIGPIPE, SIG_IGN);
	if ((rc = ctl_parse_args(argc, argv, &o, err, sizeof(err))) != 0) {
		if (err[0])
			fprintf(stderr, "domuctl: %s\n", err);
		ctl_usage(stderr);
		return rc;
	}
	if ((fd = connect_daemon(o.run_dir, &rc)) == -1)
		return rc;
	deadline = mono_ms() + (uint64_t)o.timeout_ms;

	line = proto_encode_request(&o.req);
	len = strlen(line);
	pfd.fd = fd;
	while (off < len) {
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, ms_left(deadline)) <= 0)
			goto timeout;
		n = write(fd, line + off, len - off);
		if (n <= 0) {
			fprintf(stderr, "domuctl: lost the connection to domud\n");
			return CTL_EXIT_NODAEMON;
		}
		off += (size_t)n;
	}
	free(line);

	/* one reply line, bounded like the daemon bounds it */
	off = 0;
	for (;;) {
		if (off + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > PROTO_REPLY_MAX + 4096) {
				fprintf(stderr, "domuctl: reply too large\n");
				return CTL_EXIT_TIMEOUT;
			}
			if ((reply = realloc(reply, cap)) == NULL) {
				perror("domuctl");
				return CTL_EXIT_FAILED;
			}
		}
		pfd.events = POLLIN;
		if (poll(&pfd, 1, ms_left(deadline)) <= 0)
			goto timeout;
		n = read(fd, reply + off, cap - off - 1);
		if (n <= 0) {
			fprintf(stderr, "domuctl: domud closed the connection "
			    "without an answer\n");
			return CTL_EXIT_NODAEMON;
		}
		off += (size_t)n;
		reply[off] = '\0';
		if (memchr(reply, '\n', off) != NULL)
			break;
	}
	close(fd);
	rc = ctl_render(&o, reply, stdout, stderr);
	free(reply);
	return rc;
timeout:
	fprintf(stderr, "domuctl: no answer from domud within %d s\n",
	    o.timeout_ms / 1000);
	return CTL_EXIT_TIMEOUT;
}
