// SPDX-License-Identifier: GPL-2.0-or-later
/* domud-agent's console shell: what a person types in `domuctl console`
 * goes to an sh -i of its own, and its output to the console as it is. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

static int	 csh_attached;	/* domud: a person is on the console */
static pid_t	 csh_pid;
static int	 csh_in = -1, csh_out = -1;
static uint8_t	 csh_buf[4096];
static size_t	 csh_len;

static void
csh_start(void)
{
	int inp[2], outp[2];
	pid_t pid;

	if (pipe2(inp, O_CLOEXEC) == -1)
		return;
	if (pipe2(outp, O_CLOEXEC) == -1) {
		close(inp[0]);
		close(inp[1]);
		return;
	}
	if ((pid = fork()) == -1) {
		close(inp[0]);
		close(inp[1]);
		close(outp[0]);
		close(outp[1]);
		return;
	}
	if (pid == 0) {
		cmd_child_signals();
		setsid();
		if (dup2(inp[0], 0) == -1 || dup2(outp[1], 1) == -1 ||
		    dup2(outp[1], 2) == -1)
			_exit(127);
		execl("/bin/sh", "sh", "-i", (char *)NULL);
		_exit(127);
	}
	close(inp[0]);
	close(outp[1]);
	csh_pid = pid;
	csh_in = inp[1];
	csh_out = outp[0];
	fcntl(csh_in, F_SETFL, O_NONBLOCK);
	fcntl(csh_out, F_SETFL, O_NONBLOCK);
	agent_say("console shell started (pid %d)", (int)pid);
}

void
csh_feed(void)
{
	ssize_t n;

	while (csh_in != -1 && csh_len > 0) {
		n = write(csh_in, csh_buf, csh_len);
		if (n <= 0) {
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				return;
			close(csh_in);
			csh_in = -1;
			csh_len = 0;
			return;
		}
		memmove(csh_buf, csh_buf + n, csh_len - (size_t)n);
		csh_len -= (size_t)n;
	}
}

/* its output goes to the console as it is, between our frames */
void
csh_pump(void)
{
	uint8_t buf[1024];
	ssize_t n;

	while (csh_out != -1 && wq_room() >= sizeof(buf)) {
		n = read(csh_out, buf, sizeof(buf));
		if (n > 0) {
			(void)wq_add(buf, (size_t)n);
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		close(csh_out);	/* it exited: the next input starts one */
		csh_out = -1;
		if (csh_in != -1)
			close(csh_in);
		csh_in = -1;
		csh_pid = 0;
		break;
	}
	wq_flush();
}

/* the person left (or domud does not know of one): hang the shell up, as
 * a terminal would; the next attach starts afresh */
void
csh_hangup(void)
{
	csh_attached = 0;
	csh_len = 0;
	if (csh_pid > 0) {
		kill(-csh_pid, SIGHUP);
		kill(-csh_pid, SIGCONT);
	}
	if (csh_in != -1)
		close(csh_in);
	if (csh_out != -1)
		close(csh_out);
	csh_in = csh_out = -1;
	csh_pid = 0;		/* reaped with the others */
}

void
csh_noise(void *arg, const uint8_t *b, size_t n)
{
	(void)arg;
	/* bytes from domud outside frames: a person typing on the console,
	 * but only once domud said one is there. Anything else (the remains
	 * of a damaged frame, someone else on the PTY) reaches no shell */
	if (!csh_attached)
		return;
	if (csh_in == -1 && csh_out == -1)
		csh_start();
	if (csh_in == -1)
		return;
	if (n > sizeof(csh_buf) - csh_len)
		n = sizeof(csh_buf) - csh_len;	/* typing faster than sh reads */
	memcpy(csh_buf + csh_len, b, n);
	csh_len += n;
	csh_feed();
}


void
csh_attach(void)
{
	csh_attached = 1;
}

int
csh_poll(struct pollfd *pfd, int n)
{
	if (csh_out != -1 && wq_room() >= 1024) {
		pfd[n].fd = csh_out;
		pfd[n++].events = POLLIN;
	}
	if (csh_in != -1 && csh_len > 0) {
		pfd[n].fd = csh_in;
		pfd[n++].events = POLLOUT;
	}
	return n;
}
