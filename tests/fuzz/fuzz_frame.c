// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: any bytes from a guest console, fed in pieces. Every frame the
 * parser delivers must re-encode to exactly the bytes it came from, and the
 * delivered frames plus the noise must account for every byte. */
#include <stdlib.h>
#include <string.h>

#include "chan/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t seen;

static void
on_frame(void *arg, const struct frame *f)
{
	uint8_t out[FRAME_MAX];
	size_t n = frame_encode(out, f);

	(void)arg;
	if (n == 0 || f->len > FRAME_PAYLOAD_MAX)
		abort();
	seen += n;
}

static void
on_noise(void *arg, const uint8_t *b, size_t n)
{
	(void)arg;
	(void)b;
	seen += n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct frame_parser p;
	size_t off = 0, step;

	frame_parser_init(&p);
	seen = 0;
	/* the first byte picks how the input is cut into reads */
	step = size ? (size_t)data[0] % 64 + 1 : 1;
	while (off < size) {
		size_t n = size - off < step ? size - off : step;

		frame_feed(&p, data + off, n, on_frame, on_noise, NULL);
		if (p.len - p.off >= FRAME_MAX)
			abort();	/* never more than one frame held back */
		off += n;
	}
	frame_flush(&p, on_noise, NULL);
	if (seen != size)
		abort();
	return 0;
}
