// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The channel's frame codec, shared by domud and domud-agent: magic,
 * version, type, flags, id, seq, a length of at most FRAME_MAX and a
 * CRC-32; a parser that resynchronises on garbage and holds at most two
 * frames. libc only: the agent is built from it without any other part of
 * domud.
 */
#include <string.h>

#include "frame.h"

static const uint8_t magic[4] = { 0xf9, 'd', 'm', 'x' };

uint32_t
frame_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	static uint32_t table[256];
	static int ready;
	uint32_t c;
	size_t i;
	int k;

	if (!ready) {
		for (i = 0; i < 256; i++) {
			c = (uint32_t)i;
			for (k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
		ready = 1;
	}
	crc = ~crc;
	for (i = 0; i < n; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

size_t
frame_stuff(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (in[i] == 0x0f || in[i] == STUFF_ESC) {
			out[o++] = STUFF_ESC;
			out[o++] = in[i] == 0x0f ? 1 : 2;
		} else
			out[o++] = in[i];
	}
	return o;
}

size_t
frame_unstuff(uint8_t *b, size_t n, int *esc)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (*esc) {
			*esc = 0;
			if (b[i] == 1)
				b[o++] = 0x0f;
			else if (b[i] == 2)
				b[o++] = STUFF_ESC;
			/* anything else: not ours; dropped, the CRC will say */
		} else if (b[i] == STUFF_ESC)
			*esc = 1;
		else
			b[o++] = b[i];
	}
	return o;
}

void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

size_t
frame_encode(uint8_t *out, const struct frame *f)
{
	size_t n = FRAME_HDR + f->len;

	if (f->len > FRAME_PAYLOAD_MAX)
		return 0;
	memcpy(out, magic, 4);
	out[4] = FRAME_VERSION;
	out[5] = f->type;
	out[6] = f->flags;
	out[7] = 0;
	put_be32(out + 8, f->id);
	put_be32(out + 12, f->seq);
	out[16] = (uint8_t)(f->len >> 8);
	out[17] = (uint8_t)f->len;
	if (f->len)
		memcpy(out + FRAME_HDR, f->data, f->len);
	put_be32(out + n, frame_crc32(0, out + 4, n - 4));
	return n + 4;
}

void
frame_parser_init(struct frame_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->credit = FRAME_CRC_CREDIT_MAX;
}

static int
type_known(uint8_t t)
{
	return (t >= FT_HELLO && t <= FT_INACK) ||
	    (t >= FT_PING && t <= FT_DETACH);
}

/* where a frame may start: the magic, or a prefix of it at the end */
static size_t
find_magic(const uint8_t *b, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		if (b[i] != magic[0])
			continue;
		for (k = 1; k < 4 && i + k < n; k++)
			if (b[i + k] != magic[k])
				break;
		if (k == 4 || i + k == n)
			return i;
	}
	return n;
}

enum { CAND_MORE, CAND_NOT, CAND_FRAME };

/* is what starts with a magic at b (n bytes there) a frame? */
static int
candidate(struct frame_parser *p, const uint8_t *b, size_t n, size_t *total)
{
	size_t plen, crclen;

	if (n < FRAME_HDR)
		return CAND_MORE;
	plen = (size_t)b[16] << 8 | b[17];
	if (b[4] != FRAME_VERSION || !type_known(b[5]) || b[7] != 0 ||
	    plen > FRAME_PAYLOAD_MAX) {
		p->st.bad_header++;
		return CAND_NOT;
	}
	*total = FRAME_HDR + plen + 4;
	if (n < *total)
		return CAND_MORE;
	crclen = FRAME_HDR - 4 + plen;
	if (crclen > p->credit) {
		/* checking costs more than the input has paid for: a flood
		 * of fake headers; a real frame lost here is sent again */
		p->st.unchecked++;
		return CAND_NOT;
	}
	p->credit -= crclen;
	p->st.crc_bytes += crclen;
	if (get_be32(b + FRAME_HDR + plen) != frame_crc32(0, b + 4, crclen)) {
		p->st.bad_crc++;
		return CAND_NOT;
	}
	return CAND_FRAME;
}

static void
noise_run(struct frame_parser *p, size_t from, noise_cb on_noise, void *arg)
{
	if (p->off == from)
		return;
	p->st.noise += p->off - from;
	on_noise(arg, p->buf + from, p->off - from);
}

/* frames in buf[off .. len); the noise between them (from mark on) in one
 * call each */
static void
parse(struct frame_parser *p, size_t mark, frame_cb on_frame,
    noise_cb on_noise, void *arg)
{
	size_t n, total = 0;
	const uint8_t *b;
	struct frame f;
	int r;

	while (p->off < p->len) {
		n = p->len - p->off;
		p->off += find_magic(p->buf + p->off, n);
		if (p->off == p->len)
			break;
		b = p->buf + p->off;
		r = candidate(p, b, p->len - p->off, &total);
		if (r == CAND_MORE)
			break;
		if (r == CAND_NOT) {
			/* not a frame after all: resync at the next magic
			 * after its first byte (a frame may start inside) */
			p->off++;
			continue;
		}
		noise_run(p, mark, on_noise, arg);
		f.type = b[5];
		f.flags = b[6];
		f.id = get_be32(b + 8);
		f.seq = get_be32(b + 12);
		f.len = (uint16_t)(total - FRAME_HDR - 4);
		f.data = b + FRAME_HDR;
		p->st.frames++;
		p->off += total;
		mark = p->off;
		on_frame(arg, &f);
	}
	noise_run(p, mark, on_noise, arg);
}

void
frame_feed(struct frame_parser *p, const uint8_t *in, size_t n,
    frame_cb on_frame, noise_cb on_noise, void *arg)
{
	size_t take;

	while (n > 0) {
		/* keep what is unparsed (less than one frame) at the front */
		if (p->off > 0) {
			memmove(p->buf, p->buf + p->off, p->len - p->off);
			p->len -= p->off;
			p->base += p->off;
			p->off = 0;
		}
		take = sizeof(p->buf) - p->len;
		if (take > n)
			take = n;
		memcpy(p->buf + p->len, in, take);
		p->len += take;
		in += take;
		n -= take;
		/* the input pays for the checking of what it brings */
		if (p->credit + FRAME_CRC_PER_BYTE * take > FRAME_CRC_CREDIT_MAX)
			p->credit = FRAME_CRC_CREDIT_MAX;
		else
			p->credit += FRAME_CRC_PER_BYTE * take;
		parse(p, p->off, on_frame, on_noise, arg);
	}
}

uint64_t
frame_held(const struct frame_parser *p)
{
	return p->len > p->off ? p->base + p->off + 1 : 0;
}

void
frame_skip(struct frame_parser *p, frame_cb on_frame, noise_cb on_noise,
    void *arg)
{
	size_t mark = p->off;

	if (p->len == p->off)
		return;
	p->off++;
	parse(p, mark, on_frame, on_noise, arg);
}

void
frame_flush(struct frame_parser *p, noise_cb on_noise, void *arg)
{
	if (p->len == p->off)
		return;
	on_noise(arg, p->buf + p->off, p->len - p->off);
	p->st.noise += p->len - p->off;
	p->base += p->len;
	p->off = p->len = 0;
}
