// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * domud's side of a memres DomU's channel (docs/channel.md): frames found in
 * the console stream (the rest is kernel and guest noise, handed back for
 * the log), acknowledgements with a window and resends, commands (exec,
 * stdin, cancel), pings and the agent's hello. It knows no service, console
 * or socket: its owner feeds it bytes and gives it callbacks.
 * May call: frame.c, base. The agent links only frame.c.
 */
#include <sys/random.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "base/sanitize.h"
#include "base/util.h"

#define GUEST_TEXT_MAX	256	/* the largest text buffer filled below */

void
chan_init(struct channel *ch, void (*noise)(void *, const uint8_t *, size_t),
    void (*on_ready)(void *), void *arg)
{
	memset(ch, 0, sizeof(*ch));
	frame_parser_init(&ch->parser);
	ch->noise = noise;
	ch->on_ready = on_ready;
	ch->arg = arg;
	/* a domud that died may have left commands running in the agent
	 * under small ids: a new channel starts somewhere else */
	if (getrandom(&ch->next_id, sizeof(ch->next_id), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(ch->next_id))
		ch->next_id = (uint32_t)mono_ms() * 2654435761u;
	ch->next_id = (ch->next_id & 0x7fffffffu) | 1;
}

/* ---- vxn's legacy markers ------------------------------------------------------ */

void
chan_set_vxn(struct channel *ch)
{
	ch->vxn = 1;
}

void
chan_free(struct channel *ch)
{
	size_t i;

	for (i = 0; i < ch->vx.nqueue; i++)
		free(ch->vx.queue[i].line);
	ch->vx.nqueue = 0;
}

static int
vxn_send(struct channel *ch, const char *text)
{
	size_t n = strlen(text);

	if (ch->wq_len + n > sizeof(ch->wq))
		return -1;
	memcpy(ch->wq + ch->wq_len, text, n);
	ch->wq_len += n;
	return 0;
}

/* the next queued command, when the guest is free */
static void
vxn_next(struct channel *ch)
{
	struct vxn_cmd c;

	while (ch->vx.current == 0 && ch->vx.nqueue > 0) {
		c = ch->vx.queue[0];
		memmove(ch->vx.queue, ch->vx.queue + 1,
		    (ch->vx.nqueue - 1) * sizeof(ch->vx.queue[0]));
		ch->vx.nqueue--;
		if (vxn_send(ch, c.line) == 0)
			ch->vx.current = c.id;
		free(c.line);
	}
}

static struct chan_exec *exec_find(struct channel *, uint32_t);
static void exec_end(struct chan_exec *, const struct chan_result *);
static void became_ready(struct channel *);

static void
vxn_line(struct channel *ch, const char *l, size_t n, int whole, uint64_t now)
{
	struct chan_exec *x = exec_find(ch, ch->vx.current);
	struct chan_result r;

	if (whole && n > 0 && l[n - 1] == '\r')
		n--;
	if (whole && n == 10 && memcmp(l, "===PONG===", 10) == 0) {
		ch->ping_sent = 0;
		ch->last_pong = ch->last_heard = now;
		became_ready(ch);
		return;
	}
	if (whole && n == 18 && memcmp(l, "===OUTPUT_START===", 18) == 0) {
		ch->vx.in_output = 1;
		return;
	}
	if (whole && n == 16 && memcmp(l, "===OUTPUT_END===", 16) == 0) {
		ch->vx.in_output = 0;
		return;
	}
	if (whole && n > 16 && memcmp(l, "===EXIT_CODE=", 13) == 0 &&
	    memcmp(l + n - 3, "===", 3) == 0) {
		ch->vx.exit_code = atoi(l + 13);
		return;
	}
	if (whole && n == 9 && memcmp(l, "===END===", 9) == 0) {
		ch->last_heard = now;
		if (x != NULL) {
			memset(&r, 0, sizeof(r));
			r.ran = 1;
			r.code = ch->vx.exit_code;
			exec_end(x, &r);
		}
		ch->vx.current = 0;
		ch->vx.in_output = 0;
		ch->vx.exit_code = 0;
		vxn_next(ch);
		return;
	}
	/* vxn merges stderr into stdout: all of it is stdout here */
	if (ch->vx.in_output && x != NULL) {
		if (x->cb.out) {
			x->cb.out(x->cb.ctx, 1, (const uint8_t *)l, n);
			if (whole)
				x->cb.out(x->cb.ctx, 1, (const uint8_t *)"\n", 1);
		}
		return;
	}
	if (ch->noise) {
		ch->noise(ch->arg, (const uint8_t *)l, n);
		if (whole)
			ch->noise(ch->arg, (const uint8_t *)"\n", 1);
	}
}

static void
vxn_input(struct channel *ch, const uint8_t *b, size_t n, uint64_t now)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (b[i] == '\n') {
			vxn_line(ch, ch->vx.line, ch->vx.len, 1, now);
			ch->vx.len = 0;
			continue;
		}
		/* a line without end is passed on in pieces: bounded */
		if (ch->vx.len == sizeof(ch->vx.line)) {
			vxn_line(ch, ch->vx.line, ch->vx.len, 0, now);
			ch->vx.len = 0;
		}
		ch->vx.line[ch->vx.len++] = (char)b[i];
	}
}

/* argv as one shell command line, each word single-quoted */
static char *
vxn_command(char *const argv[], int shell)
{
	size_t len = 1, i;
	const char *p;
	char *s, *o;

	if (shell)
		return strdup(argv[0]);
	for (i = 0; argv[i]; i++)
		len += 4 * strlen(argv[i]) + 3;
	if ((s = o = malloc(len)) == NULL)
		return NULL;
	for (i = 0; argv[i]; i++) {
		if (i)
			*o++ = ' ';
		*o++ = '\'';
		for (p = argv[i]; *p; p++) {
			if (*p == '\'') {
				memcpy(o, "'\\''", 4);
				o += 4;
			} else
				*o++ = *p;
		}
		*o++ = '\'';
	}
	*o = '\0';
	return s;
}

/* one line of base64, as vxn reads its commands */
static char *
vxn_encode(const char *cmd)
{
	size_t n = strlen(cmd), o;
	char *out = malloc(4 * ((n + 2) / 3) + 2);

	if (out == NULL)
		return NULL;
	o = base64_encode((const uint8_t *)cmd, n, out);
	out[o++] = '\n';
	out[o] = '\0';
	return out;
}

static int
send(struct channel *ch, uint8_t type, uint8_t flags, uint32_t id,
    uint32_t seq, const void *data, size_t len)
{
	struct frame f = { type, flags, id, seq, (uint16_t)len, data };
	uint8_t raw[FRAME_MAX];
	size_t n;

	/* stuffed, a frame takes at most twice its size */
	if (len > FRAME_PAYLOAD_MAX ||
	    ch->wq_len + 2 * (FRAME_HDR + len + 4) > sizeof(ch->wq))
		return -1;
	n = frame_encode(raw, &f);
	ch->wq_len += frame_stuff(raw, n, ch->wq + ch->wq_len);
	ch->frames_out++;
	return 0;
}

/* whether a person is on the console, when the agent is to learn it */
static void
console_tell(struct channel *ch)
{
	if (ch->console_due && send(ch, ch->console ? FT_ATTACH : FT_DETACH,
	    0, 0, 0, NULL, 0) == 0)
		ch->console_due = 0;
}

size_t
chan_pending(const struct channel *ch, const uint8_t **p)
{
	*p = ch->wq;
	return ch->wq_len;
}

void
chan_written(struct channel *ch, size_t n)
{
	if (n > ch->wq_len)
		n = ch->wq_len;
	ch->bytes_out += n;
	memmove(ch->wq, ch->wq + n, ch->wq_len - n);
	ch->wq_len -= n;
	console_tell(ch);
}

static struct chan_exec *
exec_find(struct channel *ch, uint32_t id)
{
	size_t i;

	if (id == 0)
		return NULL;
	for (i = 0; i < CHAN_MAX_EXECS; i++)
		if (ch->execs[i].id == id)
			return &ch->execs[i];
	return NULL;
}

static void
exec_end(struct chan_exec *x, const struct chan_result *r)
{
	struct chan_exec_cb cb = x->cb;
	struct chan_result res = *r;

	res.stdin_full_ms = x->in_full_ms;
	memset(x, 0, sizeof(*x));
	if (cb.done)
		cb.done(cb.ctx, &res);
}

/*
 * Text from the guest (the agent's hello, a command's error) goes on to
 * terminals (domuctl ping, exec), JSON replies and syslog: neutralised as
 * it arrives. Escape sequences and control characters become visible
 * text, invalid UTF-8 U+FFFD, newlines and tabs spaces; cut to dst at a
 * character boundary.
 */
static void
guest_text(char *dst, size_t dstsz, const uint8_t *src, size_t n)
{
	char tmp[4 * GUEST_TEXT_MAX + 1];
	size_t len, i;

	if (dstsz > GUEST_TEXT_MAX)
		dstsz = GUEST_TEXT_MAX;
	if (n > dstsz - 1)
		n = dstsz - 1;
	len = sanitize_text((const char *)src, n, tmp, 0);
	for (i = 0; i < len; i++)
		if (tmp[i] == '\n' || tmp[i] == '\t')
			tmp[i] = ' ';
	if (len > dstsz - 1) {
		len = dstsz - 1;
		while (len > 0 && ((unsigned char)tmp[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(dst, tmp, len);
	dst[len] = '\0';
}

static void
became_ready(struct channel *ch)
{
	if (ch->ready)
		return;
	ch->ready = 1;
	if (ch->on_ready)
		ch->on_ready(ch->arg);
}

static void
deliver(struct channel *ch, const struct frame *f)
{
	struct chan_exec *x = exec_find(ch, f->id);
	struct chan_result r;

	switch (f->type) {
	case FT_HELLO:
		guest_text(ch->agent, sizeof(ch->agent), f->data, f->len);
		ch->hello_crc = frame_crc32(0, f->data, f->len);
		ch->hello_len = f->len;
		/* a new agent (the guest rebooted it): older commands are lost */
		chan_abort(ch, "the agent restarted");
		became_ready(ch);
		break;
	case FT_PONG:
		/* an answer to any ping since the oldest unanswered one: pings
		 * of others (domuctl ping) must not starve the keepalive */
		if (ch->ping_sent && f->id - ch->ping_first <=
		    ch->ping_id - ch->ping_first)
			ch->ping_sent = 0;
		ch->last_pong = ch->last_heard;
		became_ready(ch);
		break;
	case FT_OUT:
		if (x && x->cb.out)
			x->cb.out(x->cb.ctx, f->flags & FF_STDERR ? 2 : 1, f->data,
			    f->len);
		break;
	case FT_EXIT:
		if (x == NULL || f->len < 8)
			break;
		memset(&r, 0, sizeof(r));
		r.ran = 1;
		r.code = (int)get_be32(f->data);
		r.signal = (int)get_be32(f->data + 4);
		r.timed_out = (f->flags & FF_TIMEOUT) != 0;
		r.cancelled = (f->flags & FF_CANCELLED) != 0;
		if (f->len >= 20) {
			r.has_guest_time = 1;
			r.spawn_us = get_be32(f->data + 8);
			r.run_us = get_be32(f->data + 12);
			r.tail_us = get_be32(f->data + 16);
		}
		exec_end(x, &r);
		break;
	case FT_INACK:
		if (x != NULL && f->len >= 4) {
			x->in_acked = get_be32(f->data);
			if (x->in_full_since && x->in_sent - x->in_acked <
			    CHAN_STDIN_WINDOW - FRAME_PAYLOAD_MAX) {
				x->in_full_ms += ch->last_heard > x->in_full_since ?
				    ch->last_heard - x->in_full_since : 0;
				x->in_full_since = 0;
			}
		}
		break;
	case FT_ERROR:
		if (x == NULL)
			break;
		memset(&r, 0, sizeof(r));
		r.code = -1;
		guest_text(r.error, sizeof(r.error), f->data, f->len);
		exec_end(x, &r);
		break;
	default:
		break;	/* our own frames echoed by a cooked tty: not for us */
	}
}

struct feed {
	struct channel	*ch;
	uint64_t	 now;
};

static void
on_frame(void *arg, const struct frame *f)
{
	struct feed *fd = arg;
	struct channel *ch = fd->ch;

	if (f->type >= FT_PING)
		return;		/* domud's own kind: an echo, not the agent */
	ch->frames_in++;
	ch->last_heard = fd->now;
	ch->ack_due = 1;
	/* go-back-N: only the next frame in order counts. A new agent's
	 * hello starts the sequence afresh (its text carries a nonce per
	 * start; the same hello again is a resend), and so does the first
	 * frame domud sees */
	if ((f->type == FT_HELLO && !(f->len == ch->hello_len &&
	    frame_crc32(0, f->data, f->len) == ch->hello_crc)) || !ch->synced) {
		size_t k;

		ch->synced = 1;
		ch->expect = f->seq;
		for (k = 0; k < CHAN_REORDER; k++)
			ch->ahead[k].used = 0;
		/* a new agent, or one we did not know (domud restarted): it
		 * learns whether a person is on the console, so that an agent
		 * attached by an earlier domud feeds its shell no more */
		ch->console_due = 1;
		console_tell(ch);
	}
	if (f->seq != ch->expect) {
		int32_t ahead = (int32_t)(f->seq - ch->expect);

		if (ahead < 0) {
			ch->resent_seen++;
		} else if (ahead < CHAN_REORDER) {
			/* after a lost frame: kept until the gap is filled */
			size_t k = f->seq % CHAN_REORDER;

			if (!ch->ahead[k].used) {
				ch->ahead[k].used = 1;
				ch->ahead[k].seq = f->seq;
				ch->ahead[k].type = f->type;
				ch->ahead[k].flags = f->flags;
				ch->ahead[k].id = f->id;
				ch->ahead[k].len = f->len;
				memcpy(ch->ahead[k].data, f->data, f->len);
			}
		} else
			ch->dropped++;
		return;
	}
	ch->expect++;
	deliver(ch, f);
	/* and what waited behind it */
	for (;;) {
		size_t k = ch->expect % CHAN_REORDER;
		struct frame g;

		if (!ch->ahead[k].used || ch->ahead[k].seq != ch->expect)
			break;
		ch->ahead[k].used = 0;
		g.type = ch->ahead[k].type;
		g.flags = ch->ahead[k].flags;
		g.id = ch->ahead[k].id;
		g.seq = ch->ahead[k].seq;
		g.len = ch->ahead[k].len;
		g.data = ch->ahead[k].data;
		ch->expect++;
		deliver(ch, &g);
	}
}

static void
on_noise(void *arg, const uint8_t *b, size_t n)
{
	struct channel *ch = ((struct feed *)arg)->ch;

	if (ch->noise)
		ch->noise(ch->arg, b, n);
}

static uint64_t
spoiled(const struct channel *ch)
{
	const struct frame_stats *st = &ch->parser.st;

	return st->bad_crc + st->bad_header + st->unchecked;
}

/* after the parser ran (spoiled: the count before) */
static void
parsed(struct channel *ch, uint64_t before, uint64_t now)
{
	uint64_t pos = frame_held(&ch->parser);

	/* a spoiled frame: say at once what we still expect, so that the
	 * agent resends without waiting for its timeout */
	if (ch->synced && spoiled(ch) != before)
		ch->ack_due = 1;
	/* one acknowledgement per read, not per frame */
	if (ch->ack_due && send(ch, FT_ACK, 0, 0, ch->expect, NULL, 0) == 0)
		ch->ack_due = 0;
	/* since when the parser waits for the end of the same frame */
	if (pos != ch->held_pos) {
		ch->held_pos = pos;
		ch->held_since = pos ? now : 0;
	}
}

void
chan_input(struct channel *ch, const uint8_t *b, size_t n, uint64_t now)
{
	ch->bytes_in += n;
	if (ch->vxn) {
		vxn_input(ch, b, n, now);
		return;
	}
	struct feed fd = { ch, now };
	uint64_t before = spoiled(ch);

	frame_feed(&ch->parser, b, n, on_frame, on_noise, &fd);
	parsed(ch, before, now);
}

/*
 * A frame whose end has not come within CHAN_HOLD_MS is given up. A kernel
 * line landing in a header can turn its length into a longer one ("\r\n"
 * is 3338): the parser would wait for bytes that, with the agent's window
 * full, only its resends bring, a few hundred every 4 s. The agent's
 * frames take milliseconds to arrive whole; a real one given up is sent
 * again.
 */
static void
hold_tick(struct channel *ch, uint64_t now)
{
	struct feed fd = { ch, now };
	uint64_t before;

	if (ch->vxn || ch->held_since == 0 ||
	    now < ch->held_since + CHAN_HOLD_MS)
		return;
	before = spoiled(ch);
	ch->parser.st.bad_header++;	/* a spoiled one: acknowledge at once */
	frame_skip(&ch->parser, on_frame, on_noise, &fd);
	parsed(ch, before, now);
}

size_t
chan_pack_argv(char *const argv[], uint8_t *out, size_t outsz, char *why,
    size_t whysz)
{
	size_t len = 0, i, n;

	for (i = 0; argv[i] != NULL; i++) {
		n = strlen(argv[i]) + 1;
		if (len + n > outsz) {
			snprintf(why, whysz, "command line over %d bytes",
			    CHAN_ARGS_MAX);
			return 0;
		}
		memcpy(out + len, argv[i], n);
		len += n;
	}
	if (i == 0)
		snprintf(why, whysz, "empty command");
	return len;
}

int
chan_exec(struct channel *ch, char *const argv[], int shell,
    uint32_t timeout_ms, const struct chan_exec_cb *cb, uint32_t *id,
    char *why, size_t whysz, uint64_t now)
{
	uint8_t payload[FRAME_PAYLOAD_MAX];
	struct chan_exec *x = NULL;
	size_t len = 4, i, n;

	for (i = 0; i < CHAN_MAX_EXECS; i++)
		if (ch->execs[i].id == 0) {
			x = &ch->execs[i];
			break;
		}
	if (x == NULL) {
		snprintf(why, whysz, "%d commands in flight already",
		    CHAN_MAX_EXECS);
		return -1;
	}
	put_be32(payload, timeout_ms);
	if ((n = chan_pack_argv(argv, payload + 4, sizeof(payload) - 4, why,
	    whysz)) == 0)
		return -1;
	len += n;
	if (ch->next_id == 0)
		ch->next_id = 1;
	if (ch->vxn) {
		char *cmd, *line;

		if (shell & CHAN_EXEC_STDIN) {
			snprintf(why, whysz, "a vxn guest takes no stdin");
			return -1;
		}
		if (ch->vx.nqueue == VXN_QUEUE) {
			snprintf(why, whysz, "a vxn guest runs one command at a "
			    "time; %d wait already", VXN_QUEUE);
			return -1;
		}
		cmd = vxn_command(argv, shell & 1);
		line = cmd ? vxn_encode(cmd) : NULL;
		free(cmd);
		if (line == NULL) {
			snprintf(why, whysz, "out of memory");
			return -1;
		}
		x->id = ch->next_id++;
		ch->vx.queue[ch->vx.nqueue].id = x->id;
		ch->vx.queue[ch->vx.nqueue].line = line;
		ch->vx.queue[ch->vx.nqueue].timeout_ms = timeout_ms;
		ch->vx.nqueue++;
		x->cb = *cb;
		x->deadline = timeout_ms ? now + timeout_ms : 0;
		*id = x->id;
		vxn_next(ch);
		return 0;
	}
	x->id = ch->next_id++;
	if (send(ch, FT_EXEC, ((shell & 1) ? FF_SHELL : 0) |
	    ((shell & CHAN_EXEC_STDIN) ? FF_STDIN : 0), x->id, 0, payload,
	    len) == -1) {
		x->id = 0;
		snprintf(why, whysz, "the console is not taking input");
		return -1;
	}
	x->cb = *cb;
	x->has_stdin = (shell & CHAN_EXEC_STDIN) != 0;
	x->deadline = timeout_ms ? now + timeout_ms + CHAN_GRACE_MS : 0;
	*id = x->id;
	return 0;
}

void
chan_cancel(struct channel *ch, uint32_t id)
{
	struct chan_exec *x = exec_find(ch, id);

	if (x == NULL || x->cancel_sent)
		return;
	if (ch->vxn) {
		x->cancel_sent = 1;	/* vxn has no cancel: it runs to its end */
		return;
	}
	if (send(ch, FT_CANCEL, 0, id, 0, NULL, 0) == 0)
		x->cancel_sent = 1;
}

void
chan_give_up_at(struct channel *ch, uint32_t id, uint64_t at)
{
	struct chan_exec *x = exec_find(ch, id);

	if (x != NULL && (x->deadline == 0 || at < x->deadline))
		x->deadline = at;
}

/* a stuffed frame (at most twice its size) always fits behind that much */
_Static_assert(CHAN_STDIN_QUEUED + 2 * FRAME_MAX <= CHAN_WQ_MAX,
    "the queue towards the console takes a frame beyond CHAN_STDIN_QUEUED");

size_t
chan_stdin_room(struct channel *ch, uint32_t id)
{
	struct chan_exec *x = exec_find(ch, id);
	uint32_t inflight;

	if (x == NULL || !x->has_stdin)
		return 0;
	inflight = x->in_sent - x->in_acked;
	if (inflight >= CHAN_STDIN_WINDOW)
		return 0;
	/* and the queue towards the console nearly empty: the PTY holds
	 * enough to keep the guest busy, and a ping, a cancel or the ACK
	 * for the agent's frames waits behind that much stdin at most */
	if (ch->wq_len > CHAN_STDIN_QUEUED)
		return 0;
	return CHAN_STDIN_WINDOW - inflight;
}

/* the window alone: inflight bytes the agent has not acknowledged */
static size_t
window_room(const struct chan_exec *x)
{
	uint32_t inflight = x->in_sent - x->in_acked;

	return inflight >= CHAN_STDIN_WINDOW ? 0 : CHAN_STDIN_WINDOW - inflight;
}

static int
stdin_send(struct channel *ch, uint32_t id, const uint8_t *b, size_t n,
    int paced)
{
	struct chan_exec *x = exec_find(ch, id);

	if (x == NULL || !x->has_stdin || n > FRAME_PAYLOAD_MAX ||
	    (n > 0 && n > (paced ? window_room(x) : chan_stdin_room(ch, id))))
		return -1;
	if (send(ch, FT_STDIN, 0, id, 0, b, n) == -1)
		return -1;
	x->in_sent += (uint32_t)n;
	if (n == 0)
		x->has_stdin = 0;	/* EOF sent */
	else if (!x->in_full_since && x->in_sent - x->in_acked >=
	    CHAN_STDIN_WINDOW - FRAME_PAYLOAD_MAX)
		x->in_full_since = mono_ms();
	return 0;
}

int
chan_stdin(struct channel *ch, uint32_t id, const uint8_t *b, size_t n)
{
	return stdin_send(ch, id, b, n, 0);
}

int
chan_stdin_paced(struct channel *ch, uint32_t id, const uint8_t *b, size_t n)
{
	return stdin_send(ch, id, b, n, 1);
}

void
chan_detach(struct channel *ch, uint32_t id)
{
	struct chan_exec *x = exec_find(ch, id);

	if (x == NULL)
		return;
	chan_cancel(ch, id);
	memset(&x->cb, 0, sizeof(x->cb));
}

int
chan_ping(struct channel *ch, uint64_t now)
{
	if (ch->vxn) {
		/* the guest answers between commands only */
		if (ch->vx.current != 0)
			return 0;
		if (vxn_send(ch, "===PING===\n") == -1)
			return -1;
		if (ch->ping_sent == 0)
			ch->ping_sent = now;
		return 0;
	}
	ch->ping_id++;
	if (send(ch, FT_PING, 0, ch->ping_id, 0, NULL, 0) == -1)
		return -1;
	if (ch->ping_sent == 0) {
		ch->ping_sent = now;
		ch->ping_first = ch->ping_id;
	}
	return 0;
}

int
chan_raw(struct channel *ch, const uint8_t *b, size_t n)
{
	if (ch->vxn) {
		if (ch->wq_len + n > sizeof(ch->wq))
			return -1;
		memcpy(ch->wq + ch->wq_len, b, n);
		ch->wq_len += n;
		return 0;
	}
	/* typed input comes from a person on the console: the agent takes
	 * it only once told so (also after the domain restarted under an
	 * attached domuctl console) */
	if ((!ch->console || ch->console_due) && chan_console_attach(ch) == -1)
		return -1;
	if (ch->wq_len + 2 * n > sizeof(ch->wq))
		return -1;
	ch->wq_len += frame_stuff(b, n, ch->wq + ch->wq_len);
	return 0;
}

/* -1: not queued yet (the console takes no input); sent when it drains */
int
chan_console_attach(struct channel *ch)
{
	if (ch->vxn)
		return 0;	/* vxn has no console shell to guard */
	ch->console = 1;
	ch->console_due = 1;
	console_tell(ch);
	return ch->console_due ? -1 : 0;
}

int
chan_console_detach(struct channel *ch)
{
	if (ch->vxn)
		return 0;
	ch->console = 0;
	ch->console_due = 1;
	console_tell(ch);
	return ch->console_due ? -1 : 0;
}

int
chan_shutdown(struct channel *ch)
{
	if (ch->vxn)
		return vxn_send(ch, "===SHUTDOWN===\n");
	return send(ch, FT_SHUTDOWN, 0, 0, 0, NULL, 0);
}

uint64_t
chan_tick(struct channel *ch, uint64_t now)
{
	struct chan_result r;
	uint64_t next = 0;
	size_t i;

	hold_tick(ch, now);
	if (ch->held_since)
		next = ch->held_since + CHAN_HOLD_MS;
	for (i = 0; i < CHAN_MAX_EXECS; i++) {
		struct chan_exec *x = &ch->execs[i];

		if (x->id == 0 || x->deadline == 0)
			continue;
		if (now >= x->deadline) {
			/* the agent never answered: give up on it ourselves */
			memset(&r, 0, sizeof(r));
			r.code = -1;
			r.timed_out = 1;
			/* vxn: the guest cannot be told; later commands wait */
			r.ran = ch->vxn;
			snprintf(r.error, sizeof(r.error), "no answer from the "
			    "agent");
			chan_cancel(ch, x->id);
			exec_end(x, &r);
			continue;
		}
		if (next == 0 || x->deadline < next)
			next = x->deadline;
	}
	return next;
}

void
chan_abort(struct channel *ch, const char *why)
{
	struct chan_result r;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.code = -1;
	snprintf(r.error, sizeof(r.error), "%s", why);
	for (i = 0; i < CHAN_MAX_EXECS; i++)
		if (ch->execs[i].id != 0)
			exec_end(&ch->execs[i], &r);
}

int
chan_busy(const struct channel *ch)
{
	size_t i;

	for (i = 0; i < CHAN_MAX_EXECS; i++)
		if (ch->execs[i].id != 0)
			return 1;
	return 0;
}
