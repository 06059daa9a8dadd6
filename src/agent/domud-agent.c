// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * domud-agent: the guest side of a memres DomU's channel (docs/channel.md).
 * It talks frames over the console (hvc0), runs commands with fork/exec
 * and streams their stdout and stderr back, with exit code or signal.
 * It can be PID 1 of a minimal initramfs, or a service of a fuller guest.
 * Here: setup, the loop and the requests from domud; the frames it sends
 * are in send.c, the commands in cmd.c, the console shell in csh.c.
 *
 * libc only, so that it links static for any guest.
 */
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "frame.h"
#include "request.h"

/* a frame from domud whose bytes stopped coming this long ago is given
 * up: a domud killed while the PTY took half a frame never sends the
 * rest, and the next domud's pings would fill it for minutes */
#define HOLD_IDLE_MS	1000

int			 agent_con = -1;
static int		 sigpipe[2] = { -1, -1 };
static struct frame_parser parser;
static uint64_t	last_input_ms;	/* when bytes from domud last came */
static int		 verbose, is_init, shutting_down;

uint64_t
agent_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
agent_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* diagnostics go to the kernel log: the console is the channel */
void
agent_say(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int fd, n;

	if (!verbose)
		return;
	n = snprintf(buf, sizeof(buf), "<6>domud-agent: ");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if ((fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC)) != -1) {
		(void)!write(fd, buf, strlen(buf));
		close(fd);
	}
}

/* ---- shutdown ---------------------------------------------------------------- */

static void
power_off(void)
{
	agent_say("shutdown requested");
	shutting_down = 1;
	sync();
	if (is_init) {
		kill(-1, SIGTERM);
		sleep(1);
		kill(-1, SIGKILL);
		sync();
		reboot(RB_POWER_OFF);
		_exit(0);
	}
	execl("/sbin/poweroff", "poweroff", (char *)NULL);
	reboot(RB_POWER_OFF);
}

/* ---- frames from domud --------------------------------------------------------- */

static void
op_pong(void *arg, uint32_t id)
{
	(void)arg;
	agent_send(FT_PONG, 0, id, NULL, 0);
}

static void
op_refuse(void *arg, uint32_t id, const char *why)
{
	(void)arg;
	agent_send_error(id, "%s", why);
}

static void
op_cancel(void *arg, uint32_t id)
{
	(void)arg;
	cmd_cancel(id);
}

static void
op_shutdown(void *arg)
{
	(void)arg;
	power_off();
}

static void
op_ack(void *arg, uint32_t next)
{
	(void)arg;
	agent_on_ack(next);
}

static void
op_attach(void *arg, int on)
{
	(void)arg;
	if (on)
		csh_attach();
	else
		csh_hangup();
}

static const struct agent_ops agent_ops = {
	.pong = op_pong,
	.exec = cmd_exec,
	.refuse = op_refuse,
	.cancel = op_cancel,
	.stdin_data = cmd_stdin,
	.shutdown = op_shutdown,
	.ack = op_ack,
	.attach = op_attach,
};

static void
on_frame(void *arg, const struct frame *f)
{
	agent_request(f, &agent_ops, arg);
}

/* ---- setup --------------------------------------------------------------------- */

static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	(void)!write(sigpipe[1], &c, 1);
	errno = saved;
}

static int
open_console(const char *path)
{
	struct termios t;
	int fd;

	if ((fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return -1;
	/* fully raw: no echo, no ^C, no XON/XOFF, no CR/LF games */
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		(void)tcsetattr(fd, TCSANOW, &t);
	}
	return fd;
}

static void
init_mounts(void)
{
	mkdir("/proc", 0555);
	mkdir("/sys", 0555);
	mkdir("/dev", 0755);
	(void)mount("proc", "/proc", "proc", 0, NULL);
	(void)mount("sysfs", "/sys", "sysfs", 0, NULL);
	(void)mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
}

static void
usage(void)
{
	fprintf(stderr, "usage: domud-agent [-v] [-q] [-n IFNAME] [CONSOLE]\n");
	exit(2);
}


/* the console, signals through a pipe, and hello to domud; -1 when the
 * console cannot be opened */
static int
setup(const char *path, const char *ifname, int quiet)
{
	char ip[64], gw[64];
	struct sigaction sa;
	const char *src;

	is_init = getpid() == 1;
	if (is_init)
		init_mounts();
	/* fewer kernel lines inside our frames; resends cover the rest */
	if (quiet)
		(void)klogctl(8, NULL, 1);
	if (agent_net_settings(ip, sizeof(ip), gw, sizeof(gw), &src) == 0) {
		if (agent_net_apply(ifname, ip, gw) == -1)
			agent_say("network %s from %s: %s", ip, src,
			    strerror(errno));
		else
			agent_say("network %s gw %s from %s", ip,
			    gw[0] ? gw : "none", src);
	}
	if ((agent_con = open_console(path)) == -1) {
		fprintf(stderr, "domud-agent: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (pipe2(sigpipe, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	cmd_signals_init();
	cmd_init();
	frame_parser_init(&parser);
	agent_hello();
	return 0;
}

/* ---- the loop ------------------------------------------------------------------ */

/* the fds to wait on, from pfd[0] (the console) and pfd[1] (the signals);
 * *timeout until the nearest deadline (-1: none) */
static int
loop_fds(struct pollfd *pfd, int *timeout)
{
	uint64_t now = agent_now_ms(), next = 0, t;
	int n = 0;

	pfd[n].fd = agent_con;
	pfd[n++].events = POLLIN | (wq_pending() ? POLLOUT : 0);
	pfd[n].fd = sigpipe[0];
	pfd[n++].events = POLLIN;
	n = csh_poll(pfd, n);
	n = cmd_poll(pfd, n, now, &next);
	if ((t = agent_send_timer(now)) != 0 && (!next || t < next))
		next = t;
	if (frame_held(&parser) &&
	    (!next || last_input_ms + HOLD_IDLE_MS < next))
		next = last_input_ms + HOLD_IDLE_MS;
	*timeout = next ? (int)(next > now ? next - now : 0) : -1;
	return n;
}

/* the console: bytes from domud into the parser; a hung-up console
 * reopened. -1 when it cannot be */
static int
loop_console(const struct pollfd *pfd, const char *path)
{
	static int esc;
	uint8_t buf[4096];
	ssize_t r;

	if (pfd->revents & POLLOUT)
		wq_flush();
	if (pfd->revents & POLLIN) {
		r = read(agent_con, buf, sizeof(buf));
		if (r > 0) {
			last_input_ms = agent_now_ms();
			frame_feed(&parser, buf, frame_unstuff(buf,
			    (size_t)r, &esc), on_frame, csh_noise, NULL);
		}
	}
	/* (its first byte is noise, the rest is parsed again) */
	if (frame_held(&parser) &&
	    agent_now_ms() >= last_input_ms + HOLD_IDLE_MS)
		frame_skip(&parser, on_frame, csh_noise, NULL);
	if (pfd->revents & (POLLHUP | POLLERR) && !(pfd->revents & POLLIN)) {
		/* the console went away (hvc hangup): reopen it */
		close(agent_con);
		sleep(1);
		if ((agent_con = open_console(path)) == -1)
			return -1;
	}
	return 0;
}

/* until SIGTERM (unless PID 1); the exit status */
static int
loop(const char *path)
{
	struct pollfd pfd[4 + 3 * AGENT_CMDS_MAX];
	unsigned char sigs[16];
	int n, timeout, k;
	ssize_t r;

	for (;;) {
		n = loop_fds(pfd, &timeout);
		if (poll(pfd, (nfds_t)n, timeout) == -1) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pfd[1].revents & POLLIN) {
			r = read(sigpipe[0], sigs, sizeof(sigs));
			for (k = 0; k < r; k++)
				if (sigs[k] == SIGTERM && !is_init)
					return 0;
			cmd_reap();
		}
		if (loop_console(&pfd[0], path) == -1)
			return 1;
		cmd_run();
		csh_feed();
		csh_pump();
	}
}

int
main(int argc, char *argv[])
{
	const char *path = "/dev/hvc0", *ifname = "eth0";
	int ch, quiet = 1;

	while ((ch = getopt(argc, argv, "vqn:")) != -1) {
		switch (ch) {
		case 'v':
			verbose = 1;
			break;
		case 'q':
			quiet = 0;	/* leave the kernel's console level */
			break;
		case 'n':
			ifname = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind < argc)
		path = argv[optind++];
	if (optind != argc)
		usage();
	if (setup(path, ifname, quiet) == -1)
		return 1;
	return loop(path);
}
