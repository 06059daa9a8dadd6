// SPDX-License-Identifier: GPL-2.0-or-later
/* sd_notify's datagram protocol (notify.h): small enough that a static
 * domud does not need libsystemd for it. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "util.h"

void
notify_open(struct notify *n)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	char *end;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	if (usec != NULL && (pid == NULL ||
	    strtol(pid, NULL, 10) == (long)getpid())) {
		unsigned long long us;

		errno = 0;
		us = strtoull(usec, &end, 10);
		if (errno == 0 && *end == '\0' && us >= 1000) {
			/* half the interval, as sd_watchdog_enabled(3) says */
			n->watchdog_ms = us / 1000 / 2;
			if (n->watchdog_ms == 0)
				n->watchdog_ms = 1;
		} else
			log_warnx("WATCHDOG_USEC=%s: not a usable interval; "
			    "no watchdog pings", usec);
	}
	if (sock != NULL && (sock[0] == '/' || sock[0] == '@') &&
	    strlen(sock) < sizeof(n->path)) {
		strlcpy_(n->path, sock, sizeof(n->path));
		n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
		if (n->fd == -1)
			log_warn("notify socket");
	} else if (sock != NULL)
		log_warnx("NOTIFY_SOCKET=%s: not a unix socket path; the "
		    "service manager is not told", sock);
	if (n->fd == -1)
		n->watchdog_ms = 0;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

void
notify_close(struct notify *n)
{
	if (n->fd != -1)
		close(n->fd);
	n->fd = -1;
}

int
notify_send(struct notify *n, const char *msg)
{
	struct sockaddr_un sa;
	socklen_t len;
	size_t plen;

	if (n->fd == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	plen = strlen(n->path);
	memcpy(sa.sun_path, n->path, plen);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract: no terminating NUL */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	if (sendto(n->fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sa, len) == -1) {
		log_debug("notify %s: %s", n->path, strerror(errno));
		return -1;
	}
	return 0;
}

void
notify_status(struct notify *n, const char *text)
{
	char msg[sizeof(n->status) + 8];

	if (n->fd == -1 || strncmp(n->status, text, sizeof(n->status)) == 0)
		return;
	strlcpy_(n->status, text, sizeof(n->status));
	snprintf(msg, sizeof(msg), "STATUS=%s", n->status);
	(void)notify_send(n, msg);
}

int
notify_watchdog(struct notify *n, uint64_t now)
{
	if (n->watchdog_ms == 0)
		return -1;
	if (now >= n->watchdog_next) {
		(void)notify_send(n, "WATCHDOG=1");
		n->watchdog_next = now + n->watchdog_ms;
	}
	return (int)(n->watchdog_next - now);
}
