// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The parent's side of the guest I/O process (gio.h): it starts the child,
 * queues messages to it without blocking, checks each one that comes back
 * and starts it again when it dies. What the child says is trusted no more
 * than a guest: sizes are checked, text is made printable, a protocol
 * error kills it.
 * May call: chan (giomsg), base.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "gio.h"
#include "base/log.h"
#include "base/util.h"

#define GIO_TXQ_SOFT	(256 * 1024)	/* console input waits beyond it */
#define GIO_TXQ_HARD	(2 * 1024 * 1024)	/* commands fail beyond it */
#define GIO_BATCH	256		/* messages read per round */
#define GIO_RESTART_MS	250		/* doubling, when it dies often */
#define GIO_RESTART_MAX	10000
#define GIO_STABLE_MS	10000		/* up this long: it died once */
#define GIO_DRAIN_MS	1000		/* a console's last noise waited for */

extern char **environ;

struct gio {
	char			*helper;
	int			 fd;		/* -1: not running */
	int			 inl;		/* no process (gio_new) */
	uint64_t		 inl_next;	/* its channels' next timer */
	pid_t			 pid;
	uint64_t		 restarts;
	uint64_t		 started_at, restart_at;
	unsigned		 quick;		/* deaths soon after a start */
	struct gio_chan		**chans;
	size_t			 nchans;
	uint32_t		 next_con;
	uint64_t		 sync_asked, synced;	/* gio_sync's */
	uint8_t			*q;		/* each: length (4), datagram */
	uint8_t			*backlog;	/* from the child, as q */
	size_t			 blen, bcap;
	size_t			 qlen, qcap;
};

static int gio_spawn(struct gio *);
static int take(struct gio *, const uint8_t *, size_t);
static void backlog_run(struct gio *, const struct gio_chan *);
static void gio_lost(struct gio *, const char *why);

static void backlog_add(struct gio *, const uint8_t *, size_t);

static void
inline_out(void *arg, const uint8_t *b, size_t n)
{
	backlog_add(arg, b, n);	/* acted on at the next round, as a
				 * process's answer would be */
}

static int
up(const struct gio *g)
{
	return g->inl || g->fd != -1;
}

struct gio *
gio_new(const char *helper, int inline_mode)
{
	struct gio *g = xcalloc(1, sizeof(*g));

	g->helper = helper ? xstrdup(helper) : NULL;
	g->fd = -1;
	if (inline_mode) {
		g->inl = 1;
		gio_inline_start(inline_out, g);
		log_debug("guest I/O inline: the guests' bytes are parsed "
		    "in this process (-I)");
		return g;
	}
	/* the process comes with the first memres console (gio_open) */
	return g;
}

static void
gio_reap(struct gio *g, int kill_it)
{
	int st;

	if (g->pid <= 0)
		return;
	if (kill_it)
		(void)kill(g->pid, SIGKILL);
	while (waitpid(g->pid, &st, 0) == -1 && errno == EINTR)
		;
	g->pid = 0;
}

void
gio_free(struct gio *g)
{
	if (g == NULL)
		return;
	if (g->inl)
		gio_inline_stop();
	if (g->fd != -1)
		close(g->fd);	/* it ends at EOF */
	gio_reap(g, 0);
	free(g->chans);
	free(g->q);
	free(g->backlog);
	free(g->helper);
	free(g);
}

pid_t
gio_pid(const struct gio *g, uint64_t *restarts)
{
	if (restarts)
		*restarts = g->restarts;
	return g->fd != -1 ? g->pid : 0;
}

/* ---- the queue towards the child ------------------------------------------ */

static int
q_send_one(struct gio *g)
{
	uint32_t len;
	ssize_t w;

	memcpy(&len, g->q, sizeof(len));
	w = send(g->fd, g->q + sizeof(len), len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w == -1 && (errno == EAGAIN || errno == EINTR || errno == ENOBUFS))
		return 0;
	if (w != (ssize_t)len) {
		gio_lost(g, w == -1 ? strerror(errno) : "a short send");
		return -1;
	}
	memmove(g->q, g->q + sizeof(len) + len, g->qlen - sizeof(len) - len);
	g->qlen -= sizeof(len) + len;
	return 1;
}

void
gio_flush(struct gio *g)
{
	while (g->fd != -1 && g->qlen > 0 && q_send_one(g) == 1)
		;
}

/* -1: the child is not running, or is so far behind that it is lost */
static int
push(struct gio *g, uint8_t type, uint8_t flags, uint32_t con, uint32_t id,
    uint64_t arg, const void *p, size_t n)
{
	uint8_t buf[GIO_MSG_MAX];
	uint32_t len;
	ssize_t w;

	len = (uint32_t)gio_msg_encode(buf, type, flags, con, id, arg, p, n);
	if (g->inl)
		return gio_inline_input(buf, len);
	if (g->fd == -1)
		return -1;
	if (g->qlen == 0) {
		w = send(g->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w == (ssize_t)len)
			return 0;
		if (w != -1 || (errno != EAGAIN && errno != EINTR &&
		    errno != ENOBUFS)) {
			gio_lost(g, w == -1 ? strerror(errno) : "a short send");
			return -1;
		}
	}
	if (g->qlen + sizeof(len) + len > GIO_TXQ_HARD)
		return -1;
	if (g->qlen + sizeof(len) + len > g->qcap) {
		g->qcap = g->qcap ? g->qcap * 2 : 64 * 1024;
		while (g->qcap < g->qlen + sizeof(len) + len)
			g->qcap *= 2;
		g->q = xrealloc(g->q, g->qcap);
	}
	memcpy(g->q + g->qlen, &len, sizeof(len));
	memcpy(g->q + g->qlen + sizeof(len), buf, len);
	g->qlen += sizeof(len) + len;
	return 0;
}

/* ---- the child's life ------------------------------------------------------ */

static void
chan_reopen(struct gio_chan *c)
{
	(void)push(c->g, GM_OPEN, c->vxn ? GF_VXN : 0, c->con, 0, 0, NULL, 0);
}

static int
gio_spawn(struct gio *g)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { "domud", "--guest-io", NULL };
	int sv[2], rc;
	size_t i;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("guest I/O: socketpair");
		return -1;
	}
	if (g->helper == NULL) {
		/* unit tests: the test binary itself, single-threaded */
		if ((g->pid = fork()) == -1) {
			log_warn("guest I/O: fork");
			close(sv[0]);
			close(sv[1]);
			return -1;
		}
		if (g->pid == 0) {
			if (dup2(sv[1], 3) == -1)
				_exit(1);
			_exit(gio_child_main());
		}
		goto started;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
	rc = posix_spawn(&g->pid, g->helper, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		close(sv[0]);
		close(sv[1]);
		g->pid = 0;
		log_warnx("guest I/O: %s --guest-io: %s", g->helper,
		    strerror(rc));
		return -1;
	}
started:
	close(sv[1]);
	g->fd = sv[0];
	g->started_at = mono_ms();
	g->restart_at = 0;
	log_debug("guest I/O process %d started", (int)g->pid);
	/* the channels again, on the consoles they had; a ping makes
	 * each agent answer (and the new channel ready) at once */
	for (i = 0; i < g->nchans; i++) {
		struct gio_chan *c = g->chans[i];

		chan_reopen(c);
		if (c->attached)
			(void)push(g, GM_ATTACH, 0, c->con, 0, 0, NULL, 0);
		(void)gio_ping(c, mono_ms());
	}
	return 0;
}

static void
gio_lost(struct gio *g, const char *why)
{
	char msg[GIO_ERROR_MAX], how[64];
	uint64_t now = mono_ms(), delay;
	pid_t pid = g->pid;
	size_t i;
	int st = 0;

	if (g->fd == -1)
		return;
	close(g->fd);
	g->fd = -1;
	g->qlen = 0;
	if (pid > 0) {
		if (why != NULL)	/* ours to end: it broke the protocol */
			(void)kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
		g->pid = 0;
	}
	if (why == NULL) {
		if (WIFSIGNALED(st))
			snprintf(how, sizeof(how), "killed by signal %d",
			    WTERMSIG(st));
		else
			snprintf(how, sizeof(how), "exited with status %d",
			    WEXITSTATUS(st));
		why = how;
	}
	g->restarts++;
	g->quick = now - g->started_at < GIO_STABLE_MS ? g->quick + 1 : 0;
	delay = g->quick == 0 ? 0 : (uint64_t)GIO_RESTART_MS << (g->quick > 6 ?
	    6 : g->quick - 1);
	if (delay > GIO_RESTART_MAX)
		delay = GIO_RESTART_MAX;
	log_warnx("guest I/O process %d lost (%s): starting it again%s",
	    (int)pid, why, delay ? " shortly" : "");
	snprintf(msg, sizeof(msg), "the guest I/O process was lost (%s): the "
	    "command's end is unknown", why);
	for (i = 0; i < g->nchans; i++) {
		struct gio_chan *c = g->chans[i];

		gio_abort(c, msg);
		c->outlen = 0;		/* half a frame of the old child's */
		c->wq_len = 0;
		c->ready = 0;
	}
	g->restart_at = now + delay;
	if (delay == 0 && gio_spawn(g) == -1)
		g->restart_at = now + GIO_RESTART_MS;
}

/* ---- what the child says --------------------------------------------------- */

static struct gio_chan *
chan_find(struct gio *g, uint32_t con)
{
	size_t i;

	for (i = 0; i < g->nchans; i++)
		if (g->chans[i]->con == con)
			return g->chans[i];
	return NULL;
}

static struct gio_xmirror *
x_find(struct gio_chan *c, uint32_t id)
{
	size_t i;

	for (i = 0; id && i < CHAN_MAX_EXECS; i++)
		if (c->execs[i].id == id)
			return &c->execs[i];
	return NULL;
}

static void
printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void
on_state(struct gio_chan *c, const struct gio_msg *m)
{
	struct gio_state s;

	memcpy(&s, m->data, sizeof(s));
	printable(s.agent);
	c->ready = s.ready != 0;
	c->wq_len = s.wq_len;
	c->ping_sent = s.ping_sent;
	c->last_pong = s.last_pong;
	c->bytes_in = s.bytes_in;
	c->bytes_out = s.bytes_out;
	c->frames_in = s.frames_in;
	c->frames_out = s.frames_out;
	c->resent_seen = s.resent_seen;
	c->dropped = s.dropped;
	c->crc_errors = s.crc_errors;
	memcpy(c->agent, s.agent, sizeof(c->agent));
}

static void
on_done(struct gio_chan *c, struct gio_xmirror *x, const struct gio_msg *m)
{
	struct chan_exec_cb cb = x->cb;
	struct gio_result g;
	struct chan_result r;

	memcpy(&g, m->data, sizeof(g));
	printable(g.error);
	memset(&r, 0, sizeof(r));
	r.ran = g.ran;
	r.timed_out = g.timed_out;
	r.cancelled = g.cancelled;
	r.has_guest_time = g.has_guest_time;
	r.code = g.code;
	r.signal = g.signal;
	r.spawn_us = g.spawn_us;
	r.run_us = g.run_us;
	r.tail_us = g.tail_us;
	r.stdin_full_ms = g.stdin_full_ms;
	snprintf(r.error, sizeof(r.error), "%s", g.error);
	memset(x, 0, sizeof(*x));
	(void)c;
	if (cb.done)
		cb.done(cb.ctx, &r);
}

/* 0, or -1: the child broke the protocol */
static int
dispatch(struct gio *g, const struct gio_msg *m)
{
	struct gio_chan *c = chan_find(g, m->h.con);
	struct gio_xmirror *x;

	if (c == NULL)
		return 0;	/* closed here meanwhile */
	x = x_find(c, m->h.id);
	switch (m->h.type) {
	case GM_NOISE:
		if (c->ops.noise)
			c->ops.noise(c->arg, m->data, m->h.len);
		break;
	case GM_WRITE:
		if (c->outlen + m->h.len > CHAN_WQ_MAX)
			return -1;	/* more than it was given room for */
		memcpy(c->out + c->outlen, m->data, m->h.len);
		c->outlen += m->h.len;
		break;
	case GM_READY:
		if (c->ops.ready)
			c->ops.ready(c->arg);
		break;
	case GM_OUT:
		if (x && x->cb.out)
			x->cb.out(x->cb.ctx, m->h.flags == 2 ? 2 : 1, m->data,
			    m->h.len);
		break;
	case GM_DONE:
		if (x)
			on_done(c, x, m);
		break;
	case GM_STATE:
		on_state(c, m);
		break;
	case GM_INACK:
		if (x && m->h.arg <= x->in_sent)
			x->in_acked = (uint32_t)m->h.arg;
		break;
	case GM_SYNCED:
		if (m->h.arg > g->synced)
			g->synced = m->h.arg;
		break;
	default:
		return -1;
	}
	return 0;
}

void
gio_before_poll(struct gio *g, struct pollfd *fds, int *nfds, int max,
    int *timeout_ms)
{
	uint64_t now, left;

	if (g->inl) {
		now = mono_ms();
		left = g->blen ? 0 : g->inl_next == 0 ? (uint64_t)-1 :
		    g->inl_next > now ? g->inl_next - now : 0;
		if (left != (uint64_t)-1 && (*timeout_ms < 0 ||
		    left < (uint64_t)*timeout_ms))
			*timeout_ms = (int)(left > 60000 ? 60000 : left);
	} else if (g->fd != -1 && *nfds < max) {
		fds[*nfds].fd = g->fd;
		fds[*nfds].events = POLLIN | (g->qlen ? POLLOUT : 0);
		fds[*nfds].revents = 0;
		(*nfds)++;
	} else if (g->fd == -1 && g->restart_at) {
		now = mono_ms();
		left = g->restart_at > now ? g->restart_at - now : 0;
		if (*timeout_ms < 0 || left < (uint64_t)*timeout_ms)
			*timeout_ms = (int)left;
	}
}

void
gio_after_poll(struct gio *g, const struct pollfd *fds, int nfds)
{
	uint8_t buf[GIO_MSG_MAX + 1];	/* nested: a callback may drain */
	ssize_t n;
	int k;

	(void)fds;
	(void)nfds;
	if (g->inl)
		g->inl_next = gio_inline_round();
	if (g->fd == -1 && !g->inl) {
		if (g->restart_at && mono_ms() >= g->restart_at &&
		    gio_spawn(g) == -1)
			g->restart_at = mono_ms() + GIO_RESTART_MAX;
		return;
	}
	/* what a drain kept back (inline: all it said), in the order it
	 * came; what callbacks make it say meanwhile, after */
	for (k = 0; k < 16 && g->blen > 0 && up(g); k++)
		backlog_run(g, NULL);
	if (g->inl)
		return;
	for (k = 0; k < GIO_BATCH && g->fd != -1; k++) {
		n = recv(g->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			gio_lost(g, NULL);
			return;
		}
		if (take(g, buf, (size_t)n) == -1)
			return;
	}
	gio_flush(g);
}

/* a message kept for the next round (read during a drain) */
static void
backlog_add(struct gio *g, const uint8_t *b, size_t n)
{
	uint32_t len = (uint32_t)n;

	if (g->blen + sizeof(len) + n > g->bcap) {
		g->bcap = g->bcap ? g->bcap * 2 : 64 * 1024;
		while (g->bcap < g->blen + sizeof(len) + n)
			g->bcap *= 2;
		g->backlog = xrealloc(g->backlog, g->bcap);
	}
	memcpy(g->backlog + g->blen, &len, sizeof(len));
	memcpy(g->backlog + g->blen + sizeof(len), b, n);
	g->blen += sizeof(len) + n;
}

/* one datagram from the child, checked and acted on; -1: it is lost */
static int
take(struct gio *g, const uint8_t *b, size_t n)
{
	struct gio_msg m;
	char why[200];

	if (gio_msg_check(b, n, 1, &m, why, sizeof(why)) == -1 ||
	    dispatch(g, &m) == -1) {
		log_warnx("guest I/O process %d: %s", (int)g->pid,
		    m.h.type == GM_WRITE ? "wrote past its room" : why);
		gio_lost(g, "a protocol error");
		return -1;
	}
	return 0;
}

/* the backlog taken away and acted on (all, or only what keep() does not
 * keep, which goes back in order); callbacks may add to a new one */
static void
backlog_run(struct gio *g, const struct gio_chan *only)
{
	uint8_t buf[GIO_MSG_MAX + 1];	/* nested: a callback may drain */
	struct gio_msg m;
	char why[200];
	uint8_t *b = g->backlog;
	size_t n = g->blen, off;
	uint32_t len;

	g->backlog = NULL;
	g->blen = g->bcap = 0;
	for (off = 0; off < n; off += sizeof(len) + len) {
		memcpy(&len, b + off, sizeof(len));
		memcpy(buf, b + off + sizeof(len), len);
		if (!up(g))
			break;
		if (only && (gio_msg_check(buf, len, 1, &m, why, sizeof(why)) ==
		    -1 || m.h.con != only->con || (m.h.type != GM_NOISE &&
		    m.h.type != GM_SYNCED))) {
			backlog_add(g, buf, len);
			continue;
		}
		if (take(g, buf, len) == -1)
			break;
	}
	free(b);
}

/*
 * Until the child has done all that was sent for c (at most timeout_ms).
 * all: everything it says is acted on meanwhile (tests); else only c's
 * noise, so that its log is whole before it is read or closed, and the
 * rest waits for the next round: no callback runs inside the caller.
 */
static int
settle(struct gio_chan *c, int timeout_ms, int all)
{
	uint8_t buf[GIO_MSG_MAX + 1];	/* nested: a callback may drain */
	struct gio *g = c->g;
	uint64_t token = ++g->sync_asked, end = mono_ms() + (uint64_t)timeout_ms;
	struct gio_msg m;
	struct pollfd p;
	char why[200];
	ssize_t n;

	if (push(g, GM_SYNC, 0, c->con, 0, token, NULL, 0) == -1)
		return -1;
	if (g->inl) {
		/* its answers are in the backlog already */
		backlog_run(g, all ? NULL : c);
		return g->synced >= token ? 0 : -1;
	}
	while (g->fd != -1 && g->synced < token && mono_ms() < end) {
		gio_flush(g);
		p.fd = g->fd;
		p.events = POLLIN | (g->qlen ? POLLOUT : 0);
		if (poll(&p, 1, 50) == -1 && errno != EINTR)
			return -1;
		while (g->fd != -1 && g->synced < token) {
			n = recv(g->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n <= 0) {
				gio_lost(g, NULL);
				return -1;
			}
			if (!all && (gio_msg_check(buf, (size_t)n, 1, &m, why,
			    sizeof(why)) == -1 || m.h.con != c->con ||
			    (m.h.type != GM_NOISE && m.h.type != GM_SYNCED))) {
				backlog_add(g, buf, (size_t)n);
				continue;
			}
			if (take(g, buf, (size_t)n) == -1)
				return -1;
		}
	}
	return g->synced >= token ? 0 : -1;
}

void
gio_inject(struct gio *g, const uint8_t *b, size_t n)
{
	if (n <= GIO_MSG_MAX)
		backlog_add(g, b, n);
}

int
gio_sync(struct gio_chan *c, int timeout_ms)
{
	return settle(c, timeout_ms, 1);
}

int
gio_drain(struct gio_chan *c, int timeout_ms)
{
	return settle(c, timeout_ms, 0);
}

/* ---- one console's channel --------------------------------------------------- */

struct gio_chan *
gio_open(struct gio *g, int vxn, const struct gio_chan_ops *ops, void *arg)
{
	struct gio_chan *c;

	if (g->nchans >= GIO_MAX_CONS)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->g = g;
	c->vxn = vxn;
	c->ops = *ops;
	c->arg = arg;
	c->out = xcalloc(1, CHAN_WQ_MAX);
	do
		c->con = ++g->next_con;
	while (c->con == 0 || chan_find(g, c->con) != NULL);
	/* a domud that died may have left commands running in the agent
	 * under small ids: a new channel starts somewhere else */
	if (getrandom(&c->next_id, sizeof(c->next_id), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(c->next_id))
		c->next_id = (uint32_t)mono_ms() * 2654435761u;
	c->next_id = (c->next_id & 0x7fffffffu) | 1;
	g->chans = xrealloc(g->chans, (g->nchans + 1) * sizeof(*g->chans));
	g->chans[g->nchans++] = c;
	if (!g->inl && g->fd == -1 && g->restart_at == 0) {
		/* the first: started now (which opens every channel) */
		if (gio_spawn(g) == -1)
			g->restart_at = mono_ms() + GIO_RESTART_MS;
		return c;
	}
	chan_reopen(c);
	return c;
}

void
gio_close(struct gio_chan *c, const char *why)
{
	struct gio *g;
	size_t i;

	if (c == NULL)
		return;
	g = c->g;
	gio_abort(c, why);
	/* its last words logged before it goes */
	(void)gio_drain(c, GIO_DRAIN_MS);
	(void)push(g, GM_CLOSE, 0, c->con, 0, 0, NULL, 0);
	for (i = 0; i < g->nchans; i++)
		if (g->chans[i] == c) {
			g->chans[i] = g->chans[--g->nchans];
			break;
		}
	free(c->out);
	free(c);
}

int
gio_can_input(const struct gio_chan *c)
{
	return up(c->g) && c->g->qlen < GIO_TXQ_SOFT;
}

void
gio_input(struct gio_chan *c, const uint8_t *b, size_t n)
{
	(void)push(c->g, GM_INPUT, 0, c->con, 0, 0, b, n);
}

size_t
gio_pending(const struct gio_chan *c, const uint8_t **p)
{
	*p = c->out;
	return c->outlen;
}

void
gio_written(struct gio_chan *c, size_t n)
{
	if (n > c->outlen)
		n = c->outlen;
	memmove(c->out, c->out + n, c->outlen - n);
	c->outlen -= n;
	(void)push(c->g, GM_WRITTEN, 0, c->con, 0, n, NULL, 0);
}

/* ---- commands ------------------------------------------------------------------ */

int
gio_exec(struct gio_chan *c, char *const argv[], int shell,
    uint32_t timeout_ms, const struct chan_exec_cb *cb, uint32_t *id,
    char *why, size_t whysz)
{
	uint8_t payload[CHAN_ARGS_MAX];
	struct gio_xmirror *x = NULL;
	size_t len, i;

	for (i = 0; i < CHAN_MAX_EXECS && x == NULL; i++)
		if (c->execs[i].id == 0)
			x = &c->execs[i];
	if (x == NULL) {
		snprintf(why, whysz, "%d commands in flight already",
		    CHAN_MAX_EXECS);
		return -1;
	}
	if ((len = chan_pack_argv(argv, payload, sizeof(payload), why,
	    whysz)) == 0)
		return -1;
	if (c->vxn && (shell & CHAN_EXEC_STDIN)) {
		snprintf(why, whysz, "a vxn guest takes no stdin");
		return -1;
	}
	while (c->next_id == 0 || x_find(c, c->next_id) != NULL)
		c->next_id++;
	if (push(c->g, GM_EXEC, ((shell & 1) ? GF_SHELL : 0) |
	    ((shell & CHAN_EXEC_STDIN) ? GF_STDIN : 0), c->con, c->next_id,
	    timeout_ms, payload, len) == -1) {
		snprintf(why, whysz, "the guest I/O process is %s",
		    c->g->fd == -1 ? "starting again" : "not keeping up");
		return -1;
	}
	memset(x, 0, sizeof(*x));
	x->id = c->next_id++;
	x->cb = *cb;
	x->has_stdin = (shell & CHAN_EXEC_STDIN) != 0;
	*id = x->id;
	return 0;
}

void
gio_cancel(struct gio_chan *c, uint32_t id)
{
	if (x_find(c, id) != NULL)
		(void)push(c->g, GM_CANCEL, 0, c->con, id, 0, NULL, 0);
}

void
gio_give_up_at(struct gio_chan *c, uint32_t id, uint64_t at)
{
	if (x_find(c, id) != NULL)
		(void)push(c->g, GM_GIVEUP, 0, c->con, id, at, NULL, 0);
}

size_t
gio_stdin_room(struct gio_chan *c, uint32_t id)
{
	struct gio_xmirror *x = x_find(c, id);
	uint32_t inflight;

	if (x == NULL || !x->has_stdin || !up(c->g) ||
	    c->g->qlen > GIO_TXQ_SOFT)
		return 0;
	inflight = x->in_sent - x->in_acked;
	if (inflight >= CHAN_STDIN_WINDOW)
		return 0;
	/* as channel.c: the way to the console nearly empty, here and in
	 * the child, so that a ping or a cancel waits behind little */
	if (c->outlen + c->wq_len > CHAN_STDIN_QUEUED)
		return 0;
	return CHAN_STDIN_WINDOW - inflight;
}

int
gio_stdin(struct gio_chan *c, uint32_t id, const uint8_t *b, size_t n)
{
	struct gio_xmirror *x = x_find(c, id);

	if (x == NULL || !x->has_stdin || n > FRAME_PAYLOAD_MAX ||
	    (n > 0 && n > gio_stdin_room(c, id)))
		return -1;
	if (push(c->g, GM_STDIN, 0, c->con, id, 0, b, n) == -1)
		return -1;
	x->in_sent += (uint32_t)n;
	/* the child's queue grows by about this much until it says */
	c->wq_len += (uint32_t)(2 * n);
	if (n == 0)
		x->has_stdin = 0;	/* EOF sent */
	return 0;
}

void
gio_detach(struct gio_chan *c, uint32_t id)
{
	struct gio_xmirror *x = x_find(c, id);

	if (x == NULL)
		return;
	gio_cancel(c, id);
	memset(&x->cb, 0, sizeof(x->cb));
}

int
gio_ping(struct gio_chan *c, uint64_t now)
{
	if (push(c->g, GM_PING, 0, c->con, 0, 0, NULL, 0) == -1)
		return -1;
	c->ping_id++;
	if (c->ping_sent == 0)
		c->ping_sent = now;
	return 0;
}

void
gio_ping_reset(struct gio_chan *c, uint64_t now)
{
	if (c->ping_sent)
		c->ping_sent = now;
	(void)push(c->g, GM_PINGRESET, 0, c->con, 0, now, NULL, 0);
}

int
gio_shutdown(struct gio_chan *c)
{
	return push(c->g, GM_SHUTDOWN, 0, c->con, 0, 0, NULL, 0);
}

int
gio_raw(struct gio_chan *c, const uint8_t *b, size_t n)
{
	if (n > 4096 || c->outlen + c->wq_len + 2 * n > CHAN_WQ_MAX)
		return -1;
	if (push(c->g, GM_RAW, 0, c->con, 0, 0, b, n) == -1)
		return -1;
	c->wq_len += (uint32_t)(2 * n);
	return 0;
}

int
gio_console_attach(struct gio_chan *c)
{
	c->attached = 1;
	return push(c->g, GM_ATTACH, 0, c->con, 0, 0, NULL, 0);
}

int
gio_console_detach(struct gio_chan *c)
{
	c->attached = 0;
	return push(c->g, GM_UNATTACH, 0, c->con, 0, 0, NULL, 0);
}

void
gio_abort(struct gio_chan *c, const char *why)
{
	struct chan_exec_cb cb;
	struct chan_result r;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.code = -1;
	snprintf(r.error, sizeof(r.error), "%s", why);
	for (i = 0; i < CHAN_MAX_EXECS; i++) {
		if (c->execs[i].id == 0)
			continue;
		cb = c->execs[i].cb;
		/* the child may still end it: that answer is dropped */
		(void)push(c->g, GM_CANCEL, 0, c->con, c->execs[i].id, 0,
		    NULL, 0);
		memset(&c->execs[i], 0, sizeof(c->execs[i]));
		if (cb.done)
			cb.done(cb.ctx, &r);
	}
}

int
gio_busy(const struct gio_chan *c)
{
	size_t i;

	for (i = 0; i < CHAN_MAX_EXECS; i++)
		if (c->execs[i].id != 0)
			return 1;
	return 0;
}
