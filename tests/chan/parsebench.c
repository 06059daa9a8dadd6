// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The frame parser's cost per MiB of console input, on the host: a hostile
 * guest's worst case (fake headers claiming 4096 bytes, back to back, each
 * with a bad CRC) and ordinary traffic (output frames of many sizes with a
 * few kernel lines between them), fed in reads as the console makes them.
 * One line per case:
 *   bench: frame-parser-worst mib_per_s=... us_per_mib=... noise_calls=...
 *   crc_bytes=... frames=...
 * The best of a few rounds, measured with CLOCK_MONOTONIC.
 * usage: parsebench [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chan/frame.h"

#define MIB		(1 << 20)
#define READ_SIZE	16384		/* CONSOLE_READ_CHUNK */

struct count {
	unsigned long long	 frames, noise_calls, noise_bytes;
};

static uint8_t worst[MIB], normal[MIB];

static void
on_frame(void *arg, const struct frame *f)
{
	(void)f;
	((struct count *)arg)->frames++;
}

static void
on_noise(void *arg, const uint8_t *b, size_t n)
{
	struct count *c = arg;

	(void)b;
	c->noise_calls++;
	c->noise_bytes += n;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
make_worst(void)
{
	const uint8_t hdr[FRAME_HDR] = { 0xf9, 'd', 'm', 'x', FRAME_VERSION,
	    FT_OUT, FF_STDOUT, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0x10, 0x00 };
	size_t i;

	for (i = 0; i < sizeof(worst); i++)
		worst[i] = hdr[i % sizeof(hdr)];
}

static void
make_normal(void)
{
	static const char kmsg[] = "\r\n[  123.456789] eth0: link becomes "
	    "ready\r\n";
	uint8_t payload[FRAME_PAYLOAD_MAX];
	struct frame f;
	size_t off = 0, n, i;
	uint32_t seq = 0, r = 12345;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + i / 13);
	while (off < sizeof(normal)) {
		r = r * 1103515245u + 12345u;
		/* mostly full frames (bulk output), some small ones */
		n = (r >> 16) % 4 ? FRAME_PAYLOAD_MAX : (r >> 8) % 200 + 1;
		if ((r >> 20) % 64 == 0 && off + sizeof(kmsg) <= sizeof(normal)) {
			memcpy(normal + off, kmsg, sizeof(kmsg) - 1);
			off += sizeof(kmsg) - 1;
		}
		if (off + FRAME_HDR + n + 4 > sizeof(normal)) {
			memset(normal + off, '.', sizeof(normal) - off);
			break;
		}
		f.type = FT_OUT;
		f.flags = FF_STDOUT;
		f.id = 1;
		f.seq = seq++;
		f.len = (uint16_t)n;
		f.data = payload;
		off += frame_encode(normal + off, &f);
	}
}

static void
run(const char *name, const uint8_t *in, size_t len, int rounds)
{
	static struct frame_parser p;
	struct count c = { 0 };
	uint64_t best = UINT64_MAX, t0, t;
	size_t off, n;
	int i;

	for (i = 0; i < rounds; i++) {
		memset(&c, 0, sizeof(c));
		frame_parser_init(&p);
		t0 = now_ns();
		for (off = 0; off < len; off += n) {
			n = len - off < READ_SIZE ? len - off : READ_SIZE;
			frame_feed(&p, in + off, n, on_frame, on_noise, &c);
		}
		frame_flush(&p, on_noise, &c);
		t = now_ns() - t0;
		if (t < best)
			best = t;
	}
	if (best == 0)
		best = 1;
	printf("bench: %s mib_per_s=%.1f us_per_mib=%.0f noise_calls=%llu "
	    "crc_bytes=%llu frames=%llu\n", name,
	    (double)len / MIB / ((double)best / 1e9),
	    (double)best / 1e3 / ((double)len / MIB), c.noise_calls,
	    (unsigned long long)p.st.crc_bytes, c.frames);
}

int
main(int argc, char *argv[])
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;

	if (rounds < 1)
		rounds = 1;
	make_worst();
	make_normal();
	run("frame-parser-worst", worst, sizeof(worst), rounds);
	run("frame-parser-normal", normal, sizeof(normal), rounds);
	return 0;
}
