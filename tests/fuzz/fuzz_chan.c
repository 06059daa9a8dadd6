// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: domud's side of a memres channel fed what a hostile guest
 * could write, with commands in flight: frames (hello, acks, output, exit,
 * pongs, errors, out of order, resent) or, when the first byte is odd,
 * vxn's legacy markers. What the channel hands on must stay bounded: its
 * agent text and every error neutralised, its write queue within its size,
 * and output only for commands that exist.
 */
#include <stdlib.h>
#include <string.h>

#include "chan/channel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t out_bytes;

static void
on_out(void *ctx, int fd, const uint8_t *b, size_t n)
{
	(void)ctx;
	(void)b;
	if (fd != 1 && fd != 2)
		abort();
	out_bytes += n;
}

static void
on_done(void *ctx, const struct chan_result *r)
{
	(void)ctx;
	if (memchr(r->error, '\0', sizeof(r->error)) == NULL)
		abort();	/* always a string */
}

static void
on_noise(void *arg, const uint8_t *b, size_t n)
{
	(void)arg;
	(void)b;
	(void)n;
}

static void
on_ready(void *arg)
{
	(void)arg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chan_exec_cb cb = { on_out, on_done, NULL };
	char *argv[] = { "sh", "-c", "true", NULL }, why[128];
	struct channel ch;
	const uint8_t *p;
	uint32_t id;
	uint64_t now = 1000;
	size_t off = 1, step, k;

	if (size == 0)
		return 0;
	chan_init(&ch, on_noise, on_ready, NULL);
	if (data[0] & 1)
		chan_set_vxn(&ch);
	/* a few commands in flight, so that output and exits have owners */
	for (k = 0; k < 3; k++)
		(void)chan_exec(&ch, argv, 0, 1000, &cb, &id, why, sizeof(why),
		    now);
	(void)chan_ping(&ch, now);
	step = (size_t)(data[0] >> 1) % 97 + 1;
	while (off < size) {
		size_t n = size - off < step ? size - off : step;

		chan_input(&ch, data + off, n, now);
		/* the console takes what we queue, now and then */
		if ((off / step) % 3 == 0)
			chan_written(&ch, chan_pending(&ch, &p));
		if (chan_pending(&ch, &p) > sizeof(ch.wq))
			abort();
		now += 7;
		/* timers now and then, as the poll loop runs them (each
		 * tick walks every command slot: every step made the
		 * harness, not the parser, the cost) */
		if ((off / step) % 8 == 0)
			(void)chan_tick(&ch, now);
		off += n;
	}
	(void)chan_tick(&ch, now + 60000);	/* every deadline due */
	if (memchr(ch.agent, '\0', sizeof(ch.agent)) == NULL)
		abort();
	chan_abort(&ch, "fuzz: the end");
	chan_free(&ch);
	return 0;
}
