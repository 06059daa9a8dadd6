// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: the messages between domud and its guest I/O process, both
 * ways, on the inline pair (gio_new(NULL, 1): the parent's and the child's
 * code in one process). The input is a list of records, each
 *   kind (1) | length (2, big-endian) | bytes
 * kind % 4: 0 a datagram to the child, 1 a datagram from the child (a
 * child taken over says what it likes), 2 console bytes for a channel (the
 * guest's), 3 a round of the loop. What the parent keeps must stay
 * bounded and every callback must be for something that exists.
 */
#include <stdlib.h>
#include <string.h>

#include "chan/gio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NCHANS	3

static size_t out_bytes, noise_bytes;

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
	noise_bytes += n;
}

static void
on_ready(void *arg)
{
	(void)arg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct gio_chan_ops ops = { on_noise, on_ready };
	struct chan_exec_cb cb = { on_out, on_done, NULL };
	char *argv[] = { "sh", "-c", "true", NULL }, why[128];
	struct gio_chan *c[NCHANS];
	const uint8_t *p;
	struct gio *g;
	size_t off = 0, n, k;
	uint32_t id;

	g = gio_new(NULL, 1);
	for (k = 0; k < NCHANS; k++) {
		c[k] = gio_open(g, k == 2, &ops, NULL);
		c[k]->next_id = 1;	/* command 1 on each: inputs replay */
		(void)gio_exec(c[k], argv, k == 1 ? CHAN_EXEC_STDIN : 0, 1000,
		    &cb, &id, why, sizeof(why));
		(void)gio_ping(c[k], 1000);
	}
	while (off + 3 <= size) {
		uint8_t kind = data[off];

		n = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (n > size - off)
			n = size - off;
		switch (kind % 4) {
		case 0:
			(void)gio_inline_input(data + off, n);
			break;
		case 1:
			gio_inject(g, data + off, n);
			break;
		case 2:
			if (n <= 16384)
				gio_input(c[kind / 4 % NCHANS], data + off, n);
			break;
		default:
			gio_after_poll(g, NULL, 0);
			break;
		}
		off += n;
		for (k = 0; k < NCHANS; k++) {
			if (gio_pending(c[k], &p) > CHAN_WQ_MAX)
				abort();
			/* the console takes what it is given, now and then */
			if (kind & 0x80)
				gio_written(c[k], gio_pending(c[k], &p));
			if (memchr(c[k]->agent, '\0', sizeof(c[k]->agent)) ==
			    NULL)
				abort();
		}
	}
	gio_after_poll(g, NULL, 0);
	for (k = 0; k < NCHANS; k++)
		gio_close(c[k], "done");
	gio_free(g);
	return 0;
}
