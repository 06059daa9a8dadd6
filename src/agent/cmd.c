// SPDX-License-Identifier: GPL-2.0-or-later
/* domud-agent's commands: each spawned in its own session, its stdin fed
 * from domud's frames, its output and exit sent back. */
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "frame.h"

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

static struct cmd	 cmds[AGENT_CMDS_MAX];

static void		 cmd_kill(struct cmd *, uint8_t);

/* the signals a command must get back to their default: those not at
 * it once the agent has set its own (found once, not at every command:
 * a system call each under emulation) */
static unsigned char	sig_reset[NSIG];
static int		nsig_reset;

void
cmd_signals_init(void)
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
void
cmd_child_signals(void)
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

	for (i = 0; i < AGENT_CMDS_MAX; i++)
		if (cmds[i].id == id && cmds[i].id != 0)
			return &cmds[i];
	return NULL;
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

	cmd_child_signals();
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

void
cmd_exec(void *arg, const struct agent_exec *x)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, inp[2] = { -1, -1 };
	struct cmd *c = NULL;
	uint64_t t_recv = agent_now_us();
	size_t i;
	pid_t pid;

	(void)arg;
	if (cmd_find(x->id)) {
		agent_send_error(x->id, "request id %u is in use", x->id);
		return;
	}
	for (i = 0; i < AGENT_CMDS_MAX; i++)
		if (cmds[i].id == 0) {
			c = &cmds[i];
			break;
		}
	if (c == NULL) {
		agent_send_error(x->id, "busy: %d commands running",
		    AGENT_CMDS_MAX);
		return;
	}
	if (pipe2(outp, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1 ||
	    (x->want_stdin && pipe2(inp, O_CLOEXEC) == -1)) {
		agent_send_error(x->id, "pipe: %s", strerror(errno));
		goto fail;
	}
	if ((pid = spawn_cmd(x, inp[0], outp[1], errp[1])) == -1) {
		agent_send_error(x->id, "fork: %s", strerror(spawn_errno));
		goto fail;
	}
	if (spawn_errno != 0) {
		agent_send_error(x->id, "%s: %s", x->argv[0],
		    strerror(spawn_errno));
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
	c->t_execd = agent_now_us();
	c->out = outp[0];
	c->err = errp[0];
	c->in = inp[1];
	if (c->in != -1) {
		fcntl(c->in, F_SETFL, O_NONBLOCK);
		c->inq.buf = malloc(AGENT_STDIN_BUF);
	}
	fcntl(c->out, F_SETFL, O_NONBLOCK);
	fcntl(c->err, F_SETFL, O_NONBLOCK);
	c->deadline = x->timeout_ms ? agent_now_ms() + x->timeout_ms : 0;
	agent_say("exec %u: %s (pid %d)", x->id, x->argv[0], (int)pid);
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
void
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
	if (c->in_written != c->in_acked && !agent_window_full() &&
	    (c->in_written - c->in_acked >= AGENT_INACK_EVERY ||
	    (c->in_eof && c->inq.len == 0))) {
		put_be32(n4, c->in_written);
		agent_send(FT_INACK, 0, c->id, n4, 4);
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
		while (*fdp[k] != -1 && !agent_window_full()) {
			n = read(*fdp[k], buf, sizeof(buf));
			if (n > 0) {
				agent_send(FT_OUT, k ? FF_STDERR : FF_STDOUT,
				    c->id, buf, (size_t)n);
				continue;
			}
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				break;
			close(*fdp[k]);
			*fdp[k] = -1;
		}
	}
	if (c->reaped && c->out == -1 && c->err == -1 && !agent_window_full()) {
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
		put_be32(ex + 16, (uint32_t)(agent_now_us() - c->t_reaped));
		agent_send(FT_EXIT, c->why, c->id, ex, sizeof(ex));
		agent_say("exit %u: code %d signal %d", c->id, code, sig);
		if (c->in != -1)
			close(c->in);
		free(c->inq.buf);
		memset(c, 0, sizeof(*c));
		c->out = c->err = c->in = -1;
	}
}

void
cmd_reap(void)
{
	int status, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < AGENT_CMDS_MAX; i++) {
			if (cmds[i].pid != pid || cmds[i].reaped)
				continue;
			cmds[i].status = status;
			cmds[i].reaped = 1;
			cmds[i].t_reaped = agent_now_us();
			if (cmds[i].id == 0)
				memset(&cmds[i], 0, sizeof(cmds[i]));
			else
				/* what it left running in its group goes too,
				 * or its pipes would never reach EOF */
				kill(-pid, SIGKILL);
		}
	}
}

void
cmd_cancel(uint32_t id)
{
	struct cmd *c;

	if ((c = cmd_find(id)) != NULL)
		cmd_kill(c, FF_CANCELLED);
}

void
cmd_init(void)
{
	int i;

	for (i = 0; i < AGENT_CMDS_MAX; i++)
		cmds[i].out = cmds[i].err = cmds[i].in = -1;
}

int
cmd_poll(struct pollfd *pfd, int n, uint64_t now, uint64_t *next)
{
	int i;

	for (i = 0; i < AGENT_CMDS_MAX; i++) {
		struct cmd *c = &cmds[i];

		if (c->id == 0)
			continue;
		if (c->deadline && now >= c->deadline) {
			c->deadline = 0;
			cmd_kill(c, FF_TIMEOUT);
		}
		if (c->deadline && (!*next || c->deadline < *next))
			*next = c->deadline;
		if (c->in != -1 && c->inq.len > 0) {
			pfd[n].fd = c->in;
			pfd[n++].events = POLLOUT;
		}
		/* a full window stops reading: the child blocks */
		if (!agent_window_full()) {
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
	return n;
}

void
cmd_run(void)
{
	int i;

	for (i = 0; i < AGENT_CMDS_MAX; i++)
		if (cmds[i].id != 0) {
			cmd_feed(&cmds[i]);
			cmd_pump(&cmds[i]);
		}
}
