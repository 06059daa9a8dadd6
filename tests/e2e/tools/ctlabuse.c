// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctlabuse: hostile control clients for the e2e scenario fault/control-abuse
 * (issue 13, finding 3). libc only; run in dom0 next to domud.
 *
 *   ctlabuse SOCK flood N        N clients connect at once, each sends ping;
 *                                prints "ok=A busy=B silent=C"
 *   ctlabuse SOCK hold N SECS    hold N idle connections for SECS seconds
 *                                (prints "held=N" once they are open)
 *   ctlabuse SOCK noread SECS    one write of ~80 "logs lines=10000", then
 *                                read nothing for SECS seconds
 *   ctlabuse SOCK dribble SECS   a ping request one byte at a time over SECS
 *                                seconds; prints "answered=1" if it was
 *   ctlabuse SOCK ping           one ping; prints the milliseconds it took
 *                                ("ms=N"), or "ms=-1 CODE"
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char ping[] = "{\"v\":1,\"id\":1,\"cmd\":\"ping\"}\n";

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int
dial(const char *path, int nonblock)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    (nonblock ? SOCK_NONBLOCK : 0), 0);

	if (fd == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    errno != EINPROGRESS && errno != EAGAIN) {
		close(fd);
		return -1;
	}
	return fd;
}

/* a line, within ms; 1 with it in buf, 0 closed without one, -1 timeout */
static int
read_line(int fd, char *buf, size_t sz, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	size_t off = 0;
	long end = now_ms() + ms;
	ssize_t n;

	for (;;) {
		int left = (int)(end - now_ms());

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -1;
		n = read(fd, buf + off, sz - off - 1);
		if (n <= 0)
			return 0;
		off += (size_t)n;
		buf[off] = '\0';
		if (strchr(buf, '\n') || off == sz - 1)
			return 1;
	}
}

static void
raise_nofile(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && (long)rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)want ? rl.rlim_max :
		    (rlim_t)want;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
flood(const char *path, int n)
{
	int *fds = calloc((size_t)n, sizeof(int)), i, ok = 0, busy = 0,
	    silent = 0, failed = 0;
	char buf[4096];

	raise_nofile(n + 64);
	for (i = 0; i < n; i++)
		fds[i] = dial(path, 0);
	for (i = 0; i < n; i++)
		if (fds[i] == -1)
			failed++;
		else
			(void)!write(fds[i], ping, sizeof(ping) - 1);
	for (i = 0; i < n; i++) {
		if (fds[i] == -1)
			continue;
		switch (read_line(fds[i], buf, sizeof(buf), 10000)) {
		case 1:
			if (strstr(buf, "\"ok\":true"))
				ok++;
			else if (strstr(buf, "\"busy\""))
				busy++;
			else
				silent++;
			break;
		default:
			silent++;
		}
		close(fds[i]);
	}
	printf("ok=%d busy=%d silent=%d unconnected=%d\n", ok, busy, silent,
	    failed);
	free(fds);
	return 0;
}

static int
hold(const char *path, int n, int secs)
{
	int *fds = calloc((size_t)n, sizeof(int)), i, held = 0;

	raise_nofile(n + 64);
	for (i = 0; i < n; i++)
		if ((fds[i] = dial(path, 1)) != -1)
			held++;
	printf("held=%d\n", held);
	fflush(stdout);
	sleep((unsigned)secs);
	for (i = 0; i < n; i++)
		if (fds[i] != -1)
			close(fds[i]);
	free(fds);
	return 0;
}

static int
noread(const char *path, int secs)
{
	char req[8192];
	size_t len = 0;
	int fd = dial(path, 0);

	if (fd == -1)
		return 1;
	while (len + 80 < sizeof(req))
		len += (size_t)snprintf(req + len, sizeof(req) - len,
		    "{\"v\":1,\"cmd\":\"logs\",\"service\":\"%s\",\"lines\":10000}\n",
		    getenv("SVC") ? getenv("SVC") : "a");
	if (write(fd, req, len) != (ssize_t)len)
		return 1;
	sleep((unsigned)secs);
	close(fd);
	return 0;
}

static int
dribble(const char *path, int secs)
{
	int fd = dial(path, 0);
	size_t i, n = sizeof(ping) - 1;
	char buf[4096];
	useconds_t step = (useconds_t)((long)secs * 1000000L / (long)n);

	if (fd == -1)
		return 1;
	for (i = 0; i < n; i++) {
		if (write(fd, ping + i, 1) != 1)
			break;
		usleep(step);
	}
	printf("answered=%d\n", read_line(fd, buf, sizeof(buf), 5000) == 1 &&
	    strstr(buf, "\"ok\":true") != NULL);
	close(fd);
	return 0;
}

static int
one_ping(const char *path)
{
	long t = now_ms();
	char buf[4096];
	int fd = dial(path, 0), r;

	if (fd == -1) {
		printf("ms=-1 connect:%s\n", strerror(errno));
		return 1;
	}
	if (write(fd, ping, sizeof(ping) - 1) != (ssize_t)sizeof(ping) - 1) {
		printf("ms=-1 write\n");
		return 1;
	}
	r = read_line(fd, buf, sizeof(buf), 10000);
	if (r == 1 && strstr(buf, "\"ok\":true"))
		printf("ms=%ld\n", now_ms() - t);
	else
		printf("ms=-1 %s\n", r == 1 ? (strstr(buf, "busy") ? "busy" :
		    "error") : r == 0 ? "closed" : "timeout");
	close(fd);
	return 0;
}

int
main(int argc, char *argv[])
{
	/* a refused client is closed by domud: its busy line is still read */
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 4 && !strcmp(argv[2], "flood"))
		return flood(argv[1], atoi(argv[3]));
	if (argc >= 5 && !strcmp(argv[2], "hold"))
		return hold(argv[1], atoi(argv[3]), atoi(argv[4]));
	if (argc >= 4 && !strcmp(argv[2], "noread"))
		return noread(argv[1], atoi(argv[3]));
	if (argc >= 4 && !strcmp(argv[2], "dribble"))
		return dribble(argv[1], atoi(argv[3]));
	if (argc >= 3 && !strcmp(argv[2], "ping"))
		return one_ping(argv[1]);
	fprintf(stderr, "usage: ctlabuse SOCK flood N | hold N SECS | noread "
	    "SECS | dribble SECS | ping\n");
	return 2;
}
