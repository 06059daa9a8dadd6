/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_FRAME_H
#define DOMUD_FRAME_H

/*
 * The memres channel's frames (docs/channel.md), shared by domud and
 * domud-agent: no dependency beyond libc.
 *
 *   magic "\xf9dmx" | ver | type | flags | 0 | id (4) | seq (4) | len (2)
 *   | payload (len bytes, at most FRAME_PAYLOAD_MAX) | crc32 (4)
 *
 * Integers are big-endian; the CRC-32 covers everything after the magic.
 * The parser finds frames in a byte stream that also carries kernel
 * messages and garbage, before, after and inside frames: a frame counts
 * only whole and with a good CRC; everything else is noise, handed on.
 * Its memory is fixed: a claimed length over the limit is noise at once.
 */
#include <stddef.h>
#include <stdint.h>

#define FRAME_VERSION		1
#define FRAME_HDR		18
#define FRAME_PAYLOAD_MAX	4096
#define FRAME_MAX		(FRAME_HDR + FRAME_PAYLOAD_MAX + 4)

enum frame_type {
	/* agent -> domud */
	FT_HELLO = 1,		/* payload: "domud-agent VERSION" */
	FT_PONG = 2,
	FT_OUT = 3,		/* flags: FF_STDOUT or FF_STDERR */
	FT_EXIT = 4,		/* payload: exit code (4), signal (4) */
	FT_ERROR = 5,		/* payload: text; the command did not run */
	FT_INACK = 6,		/* payload: stdin bytes written so far (4) */
	/* domud -> agent */
	FT_PING = 16,
	FT_EXEC = 17,		/* payload: timeout ms (4), then argv, NUL-separated */
	FT_CANCEL = 18,
	FT_SHUTDOWN = 19,
	FT_ACK = 20,		/* seq: the next frame domud expects */
	FT_STDIN = 21,		/* payload: bytes for the command; none = EOF */
	FT_ATTACH = 22,		/* a person is on the console: typed input */
	FT_DETACH = 23,		/* ... no longer: the console shell hangs up */
};

#define FF_STDOUT	0x01
#define FF_STDERR	0x02
#define FF_STDIN	0x08	/* FT_EXEC: stdin is a pipe fed by FT_STDIN */
#define FF_SHELL	0x10	/* FT_EXEC: argv[0] is a /bin/sh -c script */
#define FF_TIMEOUT	0x20	/* FT_EXIT: killed for its timeout */
#define FF_CANCELLED	0x40	/* FT_EXIT: killed by a cancel */

struct frame {
	uint8_t		 type;
	uint8_t		 flags;
	uint32_t	 id;		/* request id; 0 = none */
	uint32_t	 seq;		/* agent -> domud: for acks and resends */
	uint16_t	 len;
	const uint8_t	*data;
};

/*
 * domud -> agent bytes are stuffed: the guest's hvc driver takes ^O (0x0f)
 * on its console as a SysRq prefix, swallowing it and the byte after it
 * (and running that as a SysRq key). So 0x0f travels as FE 01 and 0xfe as
 * FE 02; nothing else changes.
 */
#define STUFF_ESC	0xfe
/* stuff n bytes into out (2 * n bytes); its length */
size_t		 frame_stuff(const uint8_t *, size_t n, uint8_t *out);
/* unstuff in place; *esc carries a pending FE across calls; new length */
size_t		 frame_unstuff(uint8_t *, size_t n, int *esc);

uint32_t	 frame_crc32(uint32_t crc, const uint8_t *, size_t);
/* the whole frame into out (FRAME_MAX bytes); its length, 0 if too long */
size_t		 frame_encode(uint8_t *out, const struct frame *);
void		 put_be32(uint8_t *, uint32_t);
uint32_t	 get_be32(const uint8_t *);

struct frame_stats {
	uint64_t	 frames, noise, bad_crc, bad_header;
	uint64_t	 unchecked;	/* given up unchecked: no CRC credit */
	uint64_t	 crc_bytes;	/* CRC work done: bytes checked */
};

/*
 * CRC work is paid for by input: each byte fed earns FRAME_CRC_PER_BYTE
 * bytes of checking, saved up to FRAME_CRC_CREDIT_MAX. A frame costs its
 * own length once, so real traffic never runs short; a stream of fake
 * headers, each claiming 4 KiB, gets its candidates given up unchecked
 * instead of costing 4 KiB of CRC per 18 bytes.
 */
#define FRAME_CRC_PER_BYTE	2
#define FRAME_CRC_CREDIT_MAX	(2 * FRAME_MAX)

struct frame_parser {
	uint8_t		 buf[2 * FRAME_MAX];
	size_t		 off, len;	/* unparsed: buf[off .. len) */
	uint64_t	 base;		/* stream position of buf[0] */
	size_t		 credit;	/* CRC bytes it may still compute */
	struct frame_stats st;
};

typedef void (*frame_cb)(void *arg, const struct frame *);
typedef void (*noise_cb)(void *arg, const uint8_t *, size_t);

void		 frame_parser_init(struct frame_parser *);
/* every complete frame goes to on_frame, every byte that is not in one to
 * on_noise, in stream order; bytes that may still start a frame are kept.
 * Noise comes in runs: one call for all that lies between two frames in
 * what is fed, not one per byte or per spoiled header. */
void		 frame_feed(struct frame_parser *, const uint8_t *, size_t,
		    frame_cb on_frame, noise_cb on_noise, void *arg);
/* give up on what is kept (a frame that never completes) as noise */
void		 frame_flush(struct frame_parser *, noise_cb, void *arg);
/* what it keeps, waiting for the end of a frame: its stream position
 * (from 1, so that 0 = nothing kept) */
uint64_t	 frame_held(const struct frame_parser *);
/* give up on the frame it waits for (a length spoiled into a longer one
 * waits for bytes that may never come): its first byte is noise, the rest
 * is parsed again */
void		 frame_skip(struct frame_parser *, frame_cb on_frame,
		    noise_cb on_noise, void *arg);

#endif
