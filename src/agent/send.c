// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * domud-agent's frames to domud. The console is also the kernel's: a
 * printk can land inside one of our frames and spoil it. Each frame we
 * send carries a sequence number and stays in a window until domud
 * acknowledges it; what is not acknowledged in time is sent again
 * (go-back-N). domud's direction carries no kernel output, so its frames
 * are not acknowledged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "frame.h"

#ifndef DOMUD_VERSION
#define DOMUD_VERSION "0"
#endif

#define WINDOW		16		/* frames in flight */
#define RTO_MIN_MS	1000
#define RTO_MAX_MS	4000
#define WQ_MAX		(WINDOW * FRAME_MAX * 2)

struct sent {
	uint8_t		 buf[FRAME_MAX];
	size_t		 len;
	uint32_t	 seq;
};

static struct sent	 win[WINDOW];
static size_t		 win_head, win_n;	/* oldest unacked, count */
static uint32_t		 next_seq;
static uint64_t		 rto_at, rto_ms = RTO_MIN_MS;
static uint32_t		 last_ack = UINT32_MAX;
static uint32_t		 fast_seq = UINT32_MAX;	/* last fast resend */
static uint8_t		 wq[WQ_MAX];
static size_t		 wq_len;

void
wq_flush(void)
{
	ssize_t n;

	while (wq_len > 0) {
		n = write(agent_con, wq, wq_len);
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			return;		/* EAGAIN: POLLOUT will call again */
		}
		memmove(wq, wq + n, wq_len - (size_t)n);
		wq_len -= (size_t)n;
	}
}

int
wq_add(const uint8_t *p, size_t n)
{
	if (wq_len + n > sizeof(wq))
		return -1;
	memcpy(wq + wq_len, p, n);
	wq_len += n;
	return 0;
}

int
agent_window_full(void)
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
	while (backlog_n > 0 && !agent_window_full()) {
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
void
agent_send(uint8_t type, uint8_t flags, uint32_t id, const void *data,
    size_t len)
{
	if (agent_window_full() || backlog_n > 0) {
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
		rto_at = agent_now_ms() + rto_ms;
	win_n++;
	(void)wq_add(s->buf, s->len);
	wq_flush();
}

static void
resend_all(const char *why)
{
	size_t i;

	agent_say("resending %zu frames from %u (%s)", win_n,
	    win_n ? win[win_head].seq : 0, why);
	for (i = 0; i < win_n; i++) {
		struct sent *s = &win[(win_head + i) % WINDOW];

		if (wq_add(s->buf, s->len) == -1)
			break;
	}
	wq_flush();
	rto_at = agent_now_ms() + rto_ms;
}

void
agent_on_ack(uint32_t next)
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
		rto_at = win_n ? agent_now_ms() + rto_ms : 0;
		backlog_flush();
	} else if (win_n > 0 && next == last_ack && next == win[win_head].seq &&
	    fast_seq != next) {
		/* the frame domud waits for got lost: send it again, once
		 * (domud keeps the later ones it got; a timeout resends all) */
		struct sent *s = &win[win_head];

		agent_say("resending frame %u (duplicate ack)", s->seq);
		(void)wq_add(s->buf, s->len);
		wq_flush();
		fast_seq = next;
	}
	last_ack = next;
}

void
agent_hello(void)
{
	char text[64];
	unsigned nonce;
	int fd;

	/* a nonce per start: domud tells a new agent from a resent hello */
	nonce = (unsigned)agent_now_ms() ^ (unsigned)getpid() << 16;
	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) != -1) {
		(void)!read(fd, &nonce, sizeof(nonce));
		close(fd);
	}
	snprintf(text, sizeof(text), "domud-agent %d %s %08x", FRAME_VERSION,
	    DOMUD_VERSION, nonce);
	agent_send(FT_HELLO, 0, 0, text, strlen(text));
}

/* what waits to be written to the console, and the room for more */
size_t
wq_pending(void)
{
	return wq_len;
}

size_t
wq_room(void)
{
	return sizeof(wq) - wq_len;
}

/* nothing acknowledged in time: all of the window again, the timer backed
 * off */
uint64_t
agent_send_timer(uint64_t now)
{
	if (win_n > 0 && rto_at && now >= rto_at) {
		resend_all("timeout");
		rto_ms = rto_ms * 2 > RTO_MAX_MS ? RTO_MAX_MS : rto_ms * 2;
		rto_at = now + rto_ms;
	}
	return win_n > 0 ? rto_at : 0;
}

void
agent_send_error(uint32_t id, const char *fmt, ...)
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
	agent_send(FT_ERROR, 0, id, text, (size_t)n);
}
