// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * domud-agent: the guest side of a memres DomU's channel (docs/channel.md).
 * It talks frames over the console (hvc0), runs commands with fork/exec
 * and streams their stdout and stderr back, with exit code or signal.
 * It can be PID 1 of a minimal initramfs, or a service of a fuller guest.
 *
 * The console is also the kernel's: a printk can land inside one of our
 * frames and spoil it. Each frame we send carries a sequence number and
 * stays in a window until domud acknowledges it; what is not acknowledged
 * in time is sent again (go-back-N). domud's direction carries no kernel
 * output, so its frames are not acknowledged.
 *
 * libc only, so that it links static for any guest.
 */
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

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

#ifndef DOMUD_VERSION
#define DOMUD_VERSION "0"
#endif

#define WINDOW		16		/* frames in flight */
#define RTO_MIN_MS	1000
#define RTO_MAX_MS	4000
/* a frame from domud whose bytes stopped coming this long ago is given
 * up: a domud killed while the PTY took half a frame never sends the
 * rest, and the next domud's pings would fill it for minutes */
#define HOLD_IDLE_MS	1000
#define MAX_CMDS	32
#define WQ_MAX		(WINDOW * FRAME_MAX * 2)

struct cmd {
	uint32_t	 id;
	pid_t		 pid;		/* 0 = reaped */
	int		 out, err;	/* -1 = at EOF */
	int		 in;		/* FF_STDIN: the pipe to it, -1 = none */
	struct agent_inq inq;		/* bytes not yet in the pipe */
	int		 in_eof;	/* EOF received: close after inq */
	uint32_t	 in_written;	/* reported in FT_INACK */
	uint32_t	 in_acked;
	int		 status;	/* wait status, once reaped */
	int		 reaped;
	uint8_t		 why;		/* FF_TIMEOUT, FF_CANCELLED */
	uint64_t	 deadline;	/* monotonic ms, 0 = none */
	/* where its time went, for the EXIT frame (monotonic µs) */
	uint64_t	 t_recv, t_execd, t_reaped;
};

struct sent {
	uint8_t		 buf[FRAME_MAX];
	size_t		 len;
	uint32_t	 seq;
};

static int		 con = -1;
static int		 sigpipe[2] = { -1, -1 };
static struct frame_parser parser;
static uint64_t	last_input_ms;	/* when bytes from domud last came */
static struct cmd	 cmds[MAX_CMDS];
static struct sent	 win[WINDOW];
static size_t		 win_head, win_n;	/* oldest unacked, count */
static uint32_t		 next_seq;
static uint64_t		 rto_at, rto_ms = RTO_MIN_MS;
static uint32_t		 last_ack = UINT32_MAX;
static uint32_t		 fast_seq = UINT32_MAX;	/* last fast resend */
static uint8_t		 wq[WQ_MAX];
static size_t		 wq_len;
static int		 verbose, is_init, shutting_down;

static void		 cmd_kill(struct cmd *, uint8_t);
static void		 csh_hangup(void);
static int		 csh_attached;	/* domud: a person is on the console */

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* diagnostics go to the kernel log: the console is the channel */
static void
say(const char *fmt, ...)
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

/* ---- sending ----------------------------------------------------------------- */

static void
wq_flush(void)
{
	ssize_t n;

	while (wq_len > 0) {
		n = write(con, wq, wq_len);
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			return;		/* EAGAIN: POLLOUT will call again */
		}
		memmove(wq, wq + n, wq_len - (size_t)n);
		wq_len -= (size_t)n;
	}
}

static int
wq_add(const uint8_t *p, size_t n)
{
	if (wq_len + n > sizeof(wq))
		return -1;
	memcpy(wq + wq_len, p, n);
	wq_len += n;
	return 0;
}

static int
window_full(void)
{
	return win_n == WINDOW;
}

/* small frames that found the window full wait here, in order */
#define BACKLOG		64
#define BACKLOG_DATA	256
static struct {
	uint8_t		 type, flags;
	uint32_t	 id;
	size_t		 len;
	uint8_t		 data[BACKLOG_DATA];
} backlog[BACKLOG];
static size_t backlog_head, backlog_n;

static void window_add(uint8_t, uint8_t, uint32_t, const void *, size_t);

static void
backlog_flush(void)
{
	while (backlog_n > 0 && !window_full()) {
		size_t i = backlog_head;

		backlog_head = (backlog_head + 1) % BACKLOG;
		backlog_n--;
		window_add(backlog[i].type, backlog[i].flags, backlog[i].id,
		    backlog[i].data, backlog[i].len);
	}
}

/*
 * A frame to domud: kept until acknowledged. Output is only produced
 * when the window has room; the small frames (exit, error, pong, stdin
 * acks) wait in the backlog when it has not, so that none is lost.
 */
static void
send_frame(uint8_t type, uint8_t flags, uint32_t id, const void *data,
    size_t len)
{
	if (window_full() || backlog_n > 0) {
		size_t i = (backlog_head + backlog_n) % BACKLOG;

		if (backlog_n == BACKLOG || len > BACKLOG_DATA)
			return;	/* a pong or hello is asked for again */
		backlog[i].type = type;
		backlog[i].flags = flags;
		backlog[i].id = id;
		backlog[i].len = len;
		if (len)
			memcpy(backlog[i].data, data, len);
		backlog_n++;
		backlog_flush();
		return;
	}
	window_add(type, flags, id, data, len);
}

static void
window_add(uint8_t type, uint8_t flags, uint32_t id, const void *data,
    size_t len)
{
	struct sent *s;
	struct frame f;

	s = &win[(win_head + win_n) % WINDOW];
	f.type = type;
	f.flags = flags;
	f.id = id;
	f.seq = next_seq++;
	f.len = (uint16_t)len;
	f.data = data;
	s->len = frame_encode(s->buf, &f);
	s->seq = f.seq;
	if (win_n == 0)
		rto_at = now_ms() + rto_ms;
	win_n++;
	(void)wq_add(s->buf, s->len);
	wq_flush();
}

static void
resend_all(const char *why)
{
	size_t i;

	say("resending %zu frames from %u (%s)", win_n,
	    win_n ? win[win_head].seq : 0, why);
	for (i = 0; i < win_n; i++) {
		struct sent *s = &win[(win_head + i) % WINDOW];

		if (wq_add(s->buf, s->len) == -1)
			break;
	}
	wq_flush();
	rto_at = now_ms() + rto_ms;
}

static void
on_ack(uint32_t next)
{
	int progress = 0;

	/* drop what domud has (seq before next, modulo 2^32) */
	while (win_n > 0 && (int32_t)(next - win[win_head].seq) > 0) {
		win_head = (win_head + 1) % WINDOW;
		win_n--;
		progress = 1;
	}
	if (progress) {
		rto_ms = RTO_MIN_MS;
		rto_at = win_n ? now_ms() + rto_ms : 0;
		backlog_flush();
	} else if (win_n > 0 && next == last_ack && next == win[win_head].seq &&
	    fast_seq != next) {
		/* the frame domud waits for got lost: send it again, once
		 * (domud keeps the later ones it got; a timeout resends all) */
		struct sent *s = &win[win_head];

		say("resending frame %u (duplicate ack)", s->seq);
		(void)wq_add(s->buf, s->len);
		wq_flush();
		fast_seq = next;
	}
	last_ack = next;
}

static void
hello(void)
{
	char text[64];
	unsigned nonce;
	int fd;

	/* a nonce per start: domud tells a new agent from a resent hello */
	nonce = (unsigned)now_ms() ^ (unsigned)getpid() << 16;
	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) != -1) {
		(void)!read(fd, &nonce, sizeof(nonce));
		close(fd);
	}
	snprintf(text, sizeof(text), "domud-agent %d %s %08x", FRAME_VERSION,
	    DOMUD_VERSION, nonce);
	send_frame(FT_HELLO, 0, 0, text, strlen(text));
}

/* ---- commands ---------------------------------------------------------------- */

/* the signals a command must get back to their default: those not at
 * it once the agent has set its own (found once, not at every command:
 * a system call each under emulation) */
static unsigned char	sig_reset[NSIG];
static int		nsig_reset;

static void
find_signals_to_reset(void)
{
	unsigned long cur[8];	/* a kernel sigaction: the handler first */
	int sig;

	/* through the kernel: libc refuses its own reserved signals (32 and
	 * 33 in glibc), which a parent may have left ignored too */
	for (sig = 1; sig < NSIG; sig++) {
		memset(cur, 0, sizeof(cur));
		if (syscall(SYS_rt_sigaction, sig, NULL, cur,
		    (NSIG - 1) / 8) == -1 || cur[0] != 0)
			sig_reset[nsig_reset++] = (unsigned char)sig;
	}
}

/*
 * A child starts as a program started by init would: every signal at its
 * default and none blocked. The agent ignores SIGHUP, SIGINT and SIGPIPE,
 * and an ignored signal stays ignored across exec (a command that could
 * not be interrupted, a shell that could not be hung up).
 */
static void
child_signals(void)
{
	unsigned long dfl[8];	/* a kernel sigaction, all zero: SIG_DFL,
				 * no flags, no mask, whatever the layout */
	sigset_t none;
	int i;

	memset(dfl, 0, sizeof(dfl));
	for (i = 0; i < nsig_reset; i++)
		(void)syscall(SYS_rt_sigaction, sig_reset[i], dfl, NULL,
		    (NSIG - 1) / 8);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static struct cmd *
cmd_find(uint32_t id)
{
	int i;

	for (i = 0; i < MAX_CMDS; i++)
		if (cmds[i].id == id && cmds[i].id != 0)
			return &cmds[i];
	return NULL;
}

static void
send_error(uint32_t id, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n >= (int)sizeof(text))
		n = sizeof(text) - 1;
	send_frame(FT_ERROR, 0, id, text, (size_t)n);
}

/* what a vfork child works from, and what its exec failed with: the child
 * shares our memory, and statics (unlike locals) survive vfork's second
 * return whatever the compiler keeps in registers */
static struct {
	const struct agent_exec	*x;
	int			 in, out, err;
} spawn_args;
static volatile int spawn_errno;

/*
 * A command in its own session (timeout and cancel kill the whole group),
 * every signal at its default and none blocked. vfork, not fork: the guest
 * copies no page tables per command, the largest part of an exec of `true`
 * under emulation. Not posix_spawn: glibc's leaves its own reserved signals
 * ignored in the child, and SETSIGDEF cannot name them.
 */
/* the analyzer refuses any vfork child that does more than exec: ours sets
 * its signals and fds first, all async-signal-safe system calls, with every
 * signal of ours blocked */
/* NOLINTBEGIN(clang-analyzer-unix.Vfork,clang-analyzer-security.insecureAPI.vfork) */
static void
spawn_child(void)
{
	int fd;

	child_signals();
	setsid();
	fd = spawn_args.in != -1 ? spawn_args.in : open("/dev/null", O_RDONLY);
	if (fd == -1 || dup2(fd, 0) == -1 || dup2(spawn_args.out, 1) == -1 ||
	    dup2(spawn_args.err, 2) == -1)
		spawn_errno = errno;
	else if (spawn_args.x->shell)
		execl("/bin/sh", "sh", "-c", spawn_args.x->argv[0],
		    (char *)NULL);
	else
		execvp(spawn_args.x->argv[0], spawn_args.x->argv);
	if (spawn_errno == 0)
		spawn_errno = errno;
	_exit(127);
}

static pid_t
spawn_cmd(const struct agent_exec *x, int in, int out, int err)
{
	sigset_t all, old;
	pid_t pid;

	spawn_args.x = x;
	spawn_args.in = in;
	spawn_args.out = out;
	spawn_args.err = err;
	spawn_errno = 0;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);	/* no handler of ours runs
						 * in the child */
	if ((pid = vfork()) == 0)
		spawn_child();
	if (pid == -1)
		spawn_errno = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pid;
}
/* NOLINTEND(clang-analyzer-unix.Vfork,clang-analyzer-security.insecureAPI.vfork) */

static void
cmd_exec(void *arg, const struct agent_exec *x)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, inp[2] = { -1, -1 };
	struct cmd *c = NULL;
	uint64_t t_recv = now_us();
	size_t i;
	pid_t pid;

	(void)arg;
	if (cmd_find(x->id)) {
		send_error(x->id, "request id %u is in use", x->id);
		return;
	}
	for (i = 0; i < MAX_CMDS; i++)
		if (cmds[i].id == 0) {
			c = &cmds[i];
			break;
		}
	if (c == NULL) {
		send_error(x->id, "busy: %d commands running", MAX_CMDS);
		return;
	}
	if (pipe2(outp, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1 ||
	    (x->want_stdin && pipe2(inp, O_CLOEXEC) == -1)) {
		send_error(x->id, "pipe: %s", strerror(errno));
		goto fail;
	}
	if ((pid = spawn_cmd(x, inp[0], outp[1], errp[1])) == -1) {
		send_error(x->id, "fork: %s", strerror(spawn_errno));
		goto fail;
	}
	if (spawn_errno != 0) {
		send_error(x->id, "%s: %s", x->argv[0], strerror(spawn_errno));
		memset(c, 0, sizeof(*c));
		c->pid = pid;	/* reaped by the SIGCHLD handler, then freed */
		goto fail;
	}
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	if (inp[0] != -1) {
		close(inp[0]);
		inp[0] = -1;
	}
	memset(c, 0, sizeof(*c));
	c->id = x->id;
	c->pid = pid;
	c->t_recv = t_recv;
	c->t_execd = now_us();
	c->out = outp[0];
	c->err = errp[0];
	c->in = inp[1];
	if (c->in != -1) {
		fcntl(c->in, F_SETFL, O_NONBLOCK);
		c->inq.buf = malloc(AGENT_STDIN_BUF);
	}
	fcntl(c->out, F_SETFL, O_NONBLOCK);
	fcntl(c->err, F_SETFL, O_NONBLOCK);
	c->deadline = x->timeout_ms ? now_ms() + x->timeout_ms : 0;
	say("exec %u: %s (pid %d)", x->id, x->argv[0], (int)pid);
	return;
fail:
	for (i = 0; i < 2; i++) {
		if (outp[i] != -1)
			close(outp[i]);
		if (errp[i] != -1)
			close(errp[i]);
		if (inp[i] != -1)
			close(inp[i]);
	}
}

/* stdin for a command: kept until the pipe takes it */
static void
cmd_stdin(void *arg, uint32_t id, const uint8_t *p, size_t n)
{
	struct cmd *c = cmd_find(id);

	(void)arg;
	if (c == NULL || c->in == -1 || c->inq.buf == NULL)
		return;
	if (n == 0)
		c->in_eof = 1;
	else if (agent_inq_add(&c->inq, p, n) == -1)
		cmd_kill(c, 0);
}

static void
cmd_feed(struct cmd *c)
{
	uint8_t n4[4];
	ssize_t n;

	if (c->in == -1)
		return;
	while (c->inq.len > 0) {
		n = write(c->in, c->inq.buf, c->inq.len);
		if (n <= 0) {
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				break;
			c->inq.len = 0;	/* EPIPE: it does not read; drop */
			c->in_eof = 1;
			break;
		}
		agent_inq_consume(&c->inq, (size_t)n);
		c->in_written += (uint32_t)n;
	}
	if (c->in_written != c->in_acked && !window_full() &&
	    (c->in_written - c->in_acked >= AGENT_INACK_EVERY ||
	    (c->in_eof && c->inq.len == 0))) {
		put_be32(n4, c->in_written);
		send_frame(FT_INACK, 0, c->id, n4, 4);
		c->in_acked = c->in_written;
	}
	if (c->in_eof && c->inq.len == 0) {
		close(c->in);
		c->in = -1;
		free(c->inq.buf);
		c->inq.buf = NULL;
	}
}

static void
cmd_kill(struct cmd *c, uint8_t why)
{
	if (c->reaped || c->pid <= 0)
		return;
	c->why |= why;
	kill(-c->pid, SIGKILL);
	kill(c->pid, SIGKILL);
}

/* output, then the exit once all output is sent */
static void
cmd_pump(struct cmd *c)
{
	uint8_t buf[FRAME_PAYLOAD_MAX], ex[20];
	int *fdp[2] = { &c->out, &c->err }, k;
	ssize_t n;

	for (k = 0; k < 2; k++) {
		while (*fdp[k] != -1 && !window_full()) {
			n = read(*fdp[k], buf, sizeof(buf));
			if (n > 0) {
				send_frame(FT_OUT, k ? FF_STDERR : FF_STDOUT,
				    c->id, buf, (size_t)n);
				continue;
			}
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				break;
			close(*fdp[k]);
			*fdp[k] = -1;
		}
	}
	if (c->reaped && c->out == -1 && c->err == -1 && !window_full()) {
		int code = -1, sig = 0;

		if (WIFEXITED(c->status))
			code = WEXITSTATUS(c->status);
		else if (WIFSIGNALED(c->status))
			sig = WTERMSIG(c->status);
		put_be32(ex, (uint32_t)code);
		put_be32(ex + 4, (uint32_t)sig);
		/* the guest's part of the round trip */
		put_be32(ex + 8, (uint32_t)(c->t_execd - c->t_recv));
		put_be32(ex + 12, (uint32_t)(c->t_reaped - c->t_execd));
		put_be32(ex + 16, (uint32_t)(now_us() - c->t_reaped));
		send_frame(FT_EXIT, c->why, c->id, ex, sizeof(ex));
		say("exit %u: code %d signal %d", c->id, code, sig);
		if (c->in != -1)
			close(c->in);
		free(c->inq.buf);
		memset(c, 0, sizeof(*c));
		c->out = c->err = c->in = -1;
	}
}

static void
reap(void)
{
	int status, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < MAX_CMDS; i++) {
			if (cmds[i].pid != pid || cmds[i].reaped)
				continue;
			cmds[i].status = status;
			cmds[i].reaped = 1;
			cmds[i].t_reaped = now_us();
			if (cmds[i].id == 0)
				memset(&cmds[i], 0, sizeof(cmds[i]));
			else
				/* what it left running in its group goes too,
				 * or its pipes would never reach EOF */
				kill(-pid, SIGKILL);
		}
	}
}

/* ---- shutdown ---------------------------------------------------------------- */

static void
power_off(void)
{
	say("shutdown requested");
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
	send_frame(FT_PONG, 0, id, NULL, 0);
}

static void
op_refuse(void *arg, uint32_t id, const char *why)
{
	(void)arg;
	send_error(id, "%s", why);
}

static void
op_cancel(void *arg, uint32_t id)
{
	struct cmd *c;

	(void)arg;
	if ((c = cmd_find(id)) != NULL)
		cmd_kill(c, FF_CANCELLED);
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
	on_ack(next);
}

static void
op_attach(void *arg, int on)
{
	(void)arg;
	if (on)
		csh_attached = 1;
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

/* ---- the console shell: what a person types in `domuctl console` --------------- */

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
		child_signals();
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
	say("console shell started (pid %d)", (int)pid);
}

static void
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
static void
csh_pump(void)
{
	uint8_t buf[1024];
	ssize_t n;

	while (csh_out != -1 && wq_len + sizeof(buf) <= sizeof(wq)) {
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
static void
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

static void
on_noise(void *arg, const uint8_t *b, size_t n)
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

int
main(int argc, char *argv[])
{
	const char *path = "/dev/hvc0", *ifname = "eth0", *src;
	char ip[64], gw[64];
	struct sigaction sa;
	int ch, quiet = 1, i;

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
	is_init = getpid() == 1;
	if (is_init)
		init_mounts();
	/* fewer kernel lines inside our frames; resends cover the rest */
	if (quiet)
		(void)klogctl(8, NULL, 1);
	if (agent_net_settings(ip, sizeof(ip), gw, sizeof(gw), &src) == 0) {
		if (agent_net_apply(ifname, ip, gw) == -1)
			say("network %s from %s: %s", ip, src, strerror(errno));
		else
			say("network %s gw %s from %s", ip, gw[0] ? gw : "none",
			    src);
	}
	if ((con = open_console(path)) == -1) {
		fprintf(stderr, "domud-agent: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (pipe2(sigpipe, O_CLOEXEC | O_NONBLOCK) == -1)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	find_signals_to_reset();
	for (i = 0; i < MAX_CMDS; i++)
		cmds[i].out = cmds[i].err = cmds[i].in = -1;
	frame_parser_init(&parser);
	hello();

	for (;;) {
		struct pollfd pfd[4 + 3 * MAX_CMDS];
		uint8_t buf[4096];
		uint64_t now = now_ms(), next = 0;
		int n = 0, timeout, k;
		ssize_t r;

		pfd[n].fd = con;
		pfd[n++].events = POLLIN | (wq_len ? POLLOUT : 0);
		pfd[n].fd = sigpipe[0];
		pfd[n++].events = POLLIN;
		if (csh_out != -1 && wq_len + 1024 <= sizeof(wq)) {
			pfd[n].fd = csh_out;
			pfd[n++].events = POLLIN;
		}
		if (csh_in != -1 && csh_len > 0) {
			pfd[n].fd = csh_in;
			pfd[n++].events = POLLOUT;
		}
		for (i = 0; i < MAX_CMDS; i++) {
			struct cmd *c = &cmds[i];

			if (c->id == 0)
				continue;
			if (c->deadline && now >= c->deadline) {
				c->deadline = 0;
				cmd_kill(c, FF_TIMEOUT);
			}
			if (c->deadline && (!next || c->deadline < next))
				next = c->deadline;
			if (c->in != -1 && c->inq.len > 0) {
				pfd[n].fd = c->in;
				pfd[n++].events = POLLOUT;
			}
			/* a full window stops reading: the child blocks */
			if (!window_full()) {
				if (c->out != -1) {
					pfd[n].fd = c->out;
					pfd[n++].events = POLLIN;
				}
				if (c->err != -1) {
					pfd[n].fd = c->err;
					pfd[n++].events = POLLIN;
				}
			}
		}
		if (win_n > 0 && rto_at && now >= rto_at) {
			resend_all("timeout");
			rto_ms = rto_ms * 2 > RTO_MAX_MS ? RTO_MAX_MS : rto_ms * 2;
			rto_at = now + rto_ms;
		}
		if (win_n > 0 && rto_at && (!next || rto_at < next))
			next = rto_at;
		if (frame_held(&parser) &&
		    (!next || last_input_ms + HOLD_IDLE_MS < next))
			next = last_input_ms + HOLD_IDLE_MS;
		timeout = next ? (int)(next > now ? next - now : 0) : -1;
		if (poll(pfd, (nfds_t)n, timeout) == -1) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pfd[1].revents & POLLIN) {
			unsigned char sigs[16];

			r = read(sigpipe[0], sigs, sizeof(sigs));
			for (k = 0; k < r; k++)
				if (sigs[k] == SIGTERM && !is_init)
					return 0;
			reap();
		}
		if (pfd[0].revents & POLLOUT)
			wq_flush();
		if (pfd[0].revents & POLLIN) {
			static int esc;

			r = read(con, buf, sizeof(buf));
			if (r > 0) {
				last_input_ms = now_ms();
				frame_feed(&parser, buf, frame_unstuff(buf,
				    (size_t)r, &esc), on_frame, on_noise, NULL);
			}
		}
		/* (its first byte is noise, the rest is parsed again) */
		if (frame_held(&parser) &&
		    now_ms() >= last_input_ms + HOLD_IDLE_MS)
			frame_skip(&parser, on_frame, on_noise, NULL);
		if (pfd[0].revents & (POLLHUP | POLLERR) &&
		    !(pfd[0].revents & POLLIN)) {
			/* the console went away (hvc hangup): reopen it */
			close(con);
			sleep(1);
			if ((con = open_console(path)) == -1)
				return 1;
		}
		for (i = 0; i < MAX_CMDS; i++)
			if (cmds[i].id != 0) {
				cmd_feed(&cmds[i]);
				cmd_pump(&cmds[i]);
			}
		csh_feed();
		csh_pump();
	}
}
