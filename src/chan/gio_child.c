// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The guest I/O process: every byte a memres guest writes on its console
 * is parsed here, never in the root daemon. It starts as `domud
 * --guest-io` with its socket to the parent on descriptor 3, gives up
 * root, its other descriptors and all system calls beyond the few it
 * needs (base/sandbox.c), then runs one channel (channel.c) per console
 * the parent opens: console bytes in, noise, console bytes and command
 * results out (giomsg.h). It holds no file, PTY or socket but its own:
 * taken over, it can lie to the parent about its guests, no more.
 * May call: chan, base.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gio.h"
#include "base/sandbox.h"
#include "base/util.h"

#define GIO_FD		3
#define GIO_UID		65534		/* nobody */
#define GIO_GID		65534
#define GIO_BATCH	64		/* messages read per round */

/* what it may call: its socket, the clock, memory, its end */
static const char *const gio_allow[] = {
	"read", "write", "recvfrom", "sendto", "recvmsg", "sendmsg",
	"poll", "ppoll", "clock_gettime", "clock_gettime64", "gettimeofday",
	"getrandom", "brk", "mmap", "munmap", "mremap", "madvise",
	"rt_sigreturn", "exit", "exit_group",
	"futex", "sigaltstack", "gettid",	/* AddressSanitizer's, at exit */
	NULL
};

struct ccon {
	uint32_t		 id;
	int			 closing;
	struct channel		 ch;
	uint8_t			 noise[GIO_NOISE_MAX];
	size_t			 noiselen;
	uint64_t		 owed;		/* written, not yet said written */
	struct gio_state	 said;		/* the last state sent */
	struct {
		uint32_t	 id, acked;
	}			 acks[CHAN_MAX_EXECS];
};

struct cexec {
	struct ccon		*c;
	uint32_t		 id;
};

static struct ccon *cons[GIO_MAX_CONS];
/* a few closed ones kept for the next open: at 170 KiB each, a console
 * that comes and goes would otherwise cost a mapping each time */
#define GIO_SPARES	4
static struct ccon *spares[GIO_SPARES];
static size_t nspares;
/* inline (domud -I): what it says goes straight to the parent's queue */
static void (*inline_out)(void *, const uint8_t *, size_t);
static void *inline_arg;

static void
send_msg(uint8_t type, uint8_t flags, uint32_t con, uint32_t id, uint64_t arg,
    const void *p, size_t n)
{
	static uint8_t buf[GIO_MSG_MAX];
	size_t len = gio_msg_encode(buf, type, flags, con, id, arg, p, n);
	ssize_t w;

	if (inline_out) {
		inline_out(inline_arg, buf, len);
		return;
	}
	while ((w = send(GIO_FD, buf, len, 0)) == -1 && errno == EINTR)
		;
	if (w != (ssize_t)len)
		_exit(0);	/* the parent is gone */
}

static struct ccon *
con_find(uint32_t id)
{
	size_t i;

	for (i = 0; i < GIO_MAX_CONS; i++)
		if (cons[i] && cons[i]->id == id)
			return cons[i];
	return NULL;
}

static void
noise_flush(struct ccon *c)
{
	if (c->noiselen && !c->closing)
		send_msg(GM_NOISE, 0, c->id, 0, 0, c->noise, c->noiselen);
	c->noiselen = 0;
}

static void
on_noise(void *arg, const uint8_t *b, size_t n)
{
	struct ccon *c = arg;
	size_t k;

	while (n > 0) {
		if (c->noiselen == sizeof(c->noise))
			noise_flush(c);
		k = sizeof(c->noise) - c->noiselen;
		if (k > n)
			k = n;
		memcpy(c->noise + c->noiselen, b, k);
		c->noiselen += k;
		b += k;
		n -= k;
	}
}

static void
state_flush(struct ccon *c)
{
	struct gio_state s;
	const struct channel *ch = &c->ch;

	memset(&s, 0, sizeof(s));
	s.ready = (uint8_t)ch->ready;
	s.wq_len = (uint32_t)ch->wq_len;
	s.ping_sent = ch->ping_sent;
	s.last_pong = ch->last_pong;
	s.bytes_in = ch->bytes_in;
	s.bytes_out = ch->bytes_out;
	s.frames_in = ch->frames_in;
	s.frames_out = ch->frames_out;
	s.resent_seen = ch->resent_seen;
	s.dropped = ch->dropped;
	s.crc_errors = ch->parser.st.bad_crc;
	memcpy(s.agent, ch->agent, sizeof(s.agent));
	s.agent[sizeof(s.agent) - 1] = '\0';
	if (memcmp(&s, &c->said, sizeof(s)) == 0 || c->closing)
		return;
	c->said = s;
	send_msg(GM_STATE, 0, c->id, 0, 0, &s, sizeof(s));
}

static void
on_ready(void *arg)
{
	struct ccon *c = arg;

	noise_flush(c);
	state_flush(c);		/* the agent's text first */
	if (!c->closing)
		send_msg(GM_READY, 0, c->id, 0, 0, NULL, 0);
}

static void
x_out(void *ctx, int fd, const uint8_t *b, size_t n)
{
	struct cexec *x = ctx;

	if (!x->c->closing)
		send_msg(GM_OUT, fd == 2 ? 2 : 1, x->c->id, x->id, 0, b, n);
}

static void
result_send(struct ccon *c, uint32_t id, const struct chan_result *r)
{
	struct gio_result g;

	memset(&g, 0, sizeof(g));
	g.ran = (uint8_t)(r->ran != 0);
	g.timed_out = (uint8_t)(r->timed_out != 0);
	g.cancelled = (uint8_t)(r->cancelled != 0);
	g.has_guest_time = (uint8_t)(r->has_guest_time != 0);
	g.code = r->code;
	g.signal = r->signal;
	g.spawn_us = r->spawn_us;
	g.run_us = r->run_us;
	g.tail_us = r->tail_us;
	g.stdin_full_ms = r->stdin_full_ms;
	snprintf(g.error, sizeof(g.error), "%s", r->error);
	if (!c->closing)
		send_msg(GM_DONE, 0, c->id, id, 0, &g, sizeof(g));
}

static void
x_done(void *ctx, const struct chan_result *r)
{
	struct cexec *x = ctx;

	noise_flush(x->c);	/* the output before the end, in order */
	result_send(x->c, x->id, r);
	free(x);
}

static void
fail(struct ccon *c, uint32_t id, const char *why)
{
	struct chan_result r;

	memset(&r, 0, sizeof(r));
	r.code = -1;
	snprintf(r.error, sizeof(r.error), "%s", why);
	result_send(c, id, &r);
}

static void
do_exec(struct ccon *c, const struct gio_msg *m)
{
	char *argv[CHAN_ARGS_MAX / 2 + 1], why[200];
	struct chan_exec_cb cb;
	struct cexec *x;
	size_t n = 0, i = 0;
	uint32_t id;
	int shell;

	while (i < m->h.len && n < sizeof(argv) / sizeof(argv[0]) - 1) {
		argv[n++] = (char *)(uintptr_t)(m->data + i);
		i += strlen((const char *)m->data + i) + 1;
	}
	argv[n] = NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		fail(c, m->h.id, "out of memory");
		return;
	}
	x->c = c;
	x->id = m->h.id;
	cb.out = x_out;
	cb.done = x_done;
	cb.ctx = x;
	shell = ((m->h.flags & GF_SHELL) ? 1 : 0) |
	    ((m->h.flags & GF_STDIN) ? CHAN_EXEC_STDIN : 0);
	/* the parent's number: its callbacks are keyed by it */
	c->ch.next_id = m->h.id;
	if (chan_exec(&c->ch, argv, shell, (uint32_t)m->h.arg, &cb, &id, why,
	    sizeof(why), mono_ms()) == -1) {
		free(x);
		fail(c, m->h.id, why);
	}
}

static void
do_stdin(struct ccon *c, const struct gio_msg *m)
{
	if (chan_stdin_paced(&c->ch, m->h.id, m->data, m->h.len) == 0)
		return;
	/* never lost without a word: the command ends saying so */
	chan_cancel(&c->ch, m->h.id);
	fail(c, m->h.id, "its input could not be queued for the guest");
}

static void
con_open(const struct gio_msg *m)
{
	struct ccon *c;
	size_t i;

	if (con_find(m->h.con) != NULL)
		return;
	for (i = 0; i < GIO_MAX_CONS && cons[i] != NULL; i++)
		;
	if (i == GIO_MAX_CONS)
		return;		/* the parent keeps no more: never here */
	if (nspares > 0) {
		c = spares[--nspares];
		memset(c, 0, offsetof(struct ccon, ch));
		memset(c->acks, 0, sizeof(c->acks));
		c->noiselen = 0;
		c->owed = 0;
		memset(&c->said, 0, sizeof(c->said));
	} else if ((c = calloc(1, sizeof(*c))) == NULL)
		_exit(3);	/* the parent starts it again */
	c->id = m->h.con;
	chan_init(&c->ch, on_noise, on_ready, c);
	if (m->h.flags & GF_VXN)
		chan_set_vxn(&c->ch);
	cons[i] = c;
}

static void
con_close(struct ccon *c)
{
	size_t i;

	c->closing = 1;
	chan_abort(&c->ch, "closed");	/* frees each command's context */
	chan_free(&c->ch);
	for (i = 0; i < GIO_MAX_CONS; i++)
		if (cons[i] == c)
			cons[i] = NULL;
	if (nspares < GIO_SPARES)
		spares[nspares++] = c;
	else
		free(c);
}

static void con_flush(struct ccon *);

static void
handle(const struct gio_msg *m, uint64_t now)
{
	struct ccon *c;

	if (m->h.type == GM_OPEN) {
		con_open(m);
		return;
	}
	if ((c = con_find(m->h.con)) == NULL)
		return;		/* closed meanwhile */
	switch (m->h.type) {
	case GM_CLOSE:
		con_close(c);
		break;
	case GM_INPUT:
		chan_input(&c->ch, m->data, m->h.len, now);
		break;
	case GM_WRITTEN:
		c->owed -= m->h.arg < c->owed ? m->h.arg : c->owed;
		break;
	case GM_EXEC:
		do_exec(c, m);
		break;
	case GM_CANCEL:
		chan_cancel(&c->ch, m->h.id);
		break;
	case GM_GIVEUP:
		chan_give_up_at(&c->ch, m->h.id, m->h.arg);
		break;
	case GM_STDIN:
		do_stdin(c, m);
		break;
	case GM_PING:
		(void)chan_ping(&c->ch, now);
		break;
	case GM_PINGRESET:
		if (c->ch.ping_sent)
			c->ch.ping_sent = m->h.arg;
		break;
	case GM_SHUTDOWN:
		(void)chan_shutdown(&c->ch);
		break;
	case GM_RAW:
		(void)chan_raw(&c->ch, m->data, m->h.len);
		break;
	case GM_ATTACH:
		(void)chan_console_attach(&c->ch);
		break;
	case GM_UNATTACH:
		(void)chan_console_detach(&c->ch);
		break;
	case GM_SYNC:
		con_flush(c);
		send_msg(GM_SYNCED, 0, c->id, 0, m->h.arg, NULL, 0);
		break;
	default:
		break;
	}
}

/* what a round left: noise, console bytes (as much as the parent holds
 * for it), stdin acknowledgements, the state */
static void
con_flush(struct ccon *c)
{
	const uint8_t *p;
	size_t n, i;

	noise_flush(c);
	while (c->owed < CHAN_WQ_MAX && (n = chan_pending(&c->ch, &p)) > 0) {
		if (n > CHAN_WQ_MAX - c->owed)
			n = (size_t)(CHAN_WQ_MAX - c->owed);
		if (n > GIO_PAYLOAD_MAX)
			n = GIO_PAYLOAD_MAX;
		send_msg(GM_WRITE, 0, c->id, 0, 0, p, n);
		chan_written(&c->ch, n);
		c->owed += n;
	}
	/* acks[i] follows execs[i]: a new command there starts from 0 */
	for (i = 0; i < CHAN_MAX_EXECS; i++) {
		const struct chan_exec *x = &c->ch.execs[i];

		if (c->acks[i].id != x->id) {
			c->acks[i].id = x->id;
			c->acks[i].acked = 0;
		}
		if (x->id == 0 || c->acks[i].acked == x->in_acked)
			continue;
		c->acks[i].acked = x->in_acked;
		send_msg(GM_INACK, 0, c->id, x->id, x->in_acked, NULL, 0);
	}
	state_flush(c);
}

static int
child_sandbox(void)
{
	struct sandbox sb;
	struct err e = ERR_INIT;

	/* whatever it inherited beyond its socket is not its own */
	(void)close_range(GIO_FD + 1, ~0U, 0);
	memset(&sb, 0, sizeof(sb));
	sb.uid = GIO_UID;
	sb.gid = GIO_GID;
	sb.nofile = GIO_FD + 1;
	sb.fsize = 1;
	sb.allow = gio_allow;
	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGXFSZ, SIG_IGN);
	if (sandbox_enter(&sb, &e) == -1) {
		dprintf(2, "domud --guest-io: %s\n", e.msg);
		return -1;
	}
	return 0;
}

/* the channels' timers, then what they left to say; the next deadline */
static uint64_t
child_round(uint64_t now)
{
	uint64_t next = 0, t;
	size_t i;

	for (i = 0; i < GIO_MAX_CONS; i++)
		if (cons[i] && (t = chan_tick(&cons[i]->ch, now)) &&
		    (next == 0 || t < next))
			next = t;
	for (i = 0; i < GIO_MAX_CONS; i++)
		if (cons[i])
			con_flush(cons[i]);
	return next;
}

void
gio_inline_start(void (*out)(void *, const uint8_t *, size_t), void *arg)
{
	inline_out = out;
	inline_arg = arg;
}

int
gio_inline_input(const uint8_t *b, size_t n)
{
	struct gio_msg m;
	char why[200];
	struct ccon *c;

	if (gio_msg_check(b, n, 0, &m, why, sizeof(why)) == -1)
		return -1;
	handle(&m, mono_ms());
	/* at once, as the process does after each batch: the parent's
	 * loop must see the answer before it sleeps */
	if ((c = con_find(m.h.con)) != NULL)
		con_flush(c);
	return 0;
}

uint64_t
gio_inline_round(void)
{
	return child_round(mono_ms());
}

void
gio_inline_stop(void)
{
	size_t i;

	for (i = 0; i < GIO_MAX_CONS; i++)
		if (cons[i])
			con_close(cons[i]);
	inline_out = NULL;
}

int
gio_child_main(void)
{
	static uint8_t buf[GIO_MSG_MAX + 1];
	struct pollfd pfd;
	struct gio_msg m;
	char why[200];
	uint64_t now, next;
	ssize_t n;
	int k, timeout;

	if (child_sandbox() == -1)
		return 1;
	for (;;) {
		now = mono_ms();
		next = child_round(now);
		timeout = next == 0 ? -1 : next <= now ? 0 :
		    next - now > 60000 ? 60000 : (int)(next - now);
		pfd.fd = GIO_FD;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, timeout) == -1 && errno != EINTR)
			return 1;
		now = mono_ms();
		for (k = 0; k < GIO_BATCH; k++) {
			n = recv(GIO_FD, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n <= 0)
				return 0;	/* the parent closed: done */
			if (gio_msg_check(buf, (size_t)n, 0, &m, why,
			    sizeof(why)) == -1) {
				dprintf(2, "domud --guest-io: %s\n", why);
				return 2;
			}
			handle(&m, now);
		}
	}
}

/* the sandbox as the child has it, tried: each call must fail */
int
gio_child_selftest(void)
{
	char line[256];
	pid_t parent = getppid();	/* getppid itself is refused after */
	int fd, r, sv[2];
	size_t len;

	if (child_sandbox() == -1)
		return 1;
	fd = open("/etc/hostname", O_RDONLY);
	len = (size_t)snprintf(line, sizeof(line), "open=%d", fd == -1 ?
	    errno : 0);
	r = kill(parent, SIGTERM);
	len += (size_t)snprintf(line + len, sizeof(line) - len, " kill=%d",
	    r == -1 ? errno : 0);
	r = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	len += (size_t)snprintf(line + len, sizeof(line) - len, " socket=%d",
	    r == -1 ? errno : 0);
	r = fork();
	len += (size_t)snprintf(line + len, sizeof(line) - len, " fork=%d\n",
	    r == -1 ? errno : 0);
	if (r == 0)
		_exit(0);
	return write(GIO_FD, line, len) == (ssize_t)len ? 0 : 1;
}
