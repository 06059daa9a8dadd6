// SPDX-License-Identifier: GPL-2.0-or-later
/* The memres channel's frames: encode, find them in noise, never deliver a
 * damaged one, bounded memory whatever the stream claims. */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "base/util.h"
#include "chan/channel.h"
#include "chan/frame.h"

struct sink {
	struct frame	 f[64];
	uint8_t		 data[64][FRAME_PAYLOAD_MAX];
	size_t		 nf;
	uint8_t		 noise[65536];
	size_t		 nnoise;
};

static void
on_frame(void *arg, const struct frame *f)
{
	struct sink *s = arg;

	ck_assert_uint_lt(s->nf, 64);
	s->f[s->nf] = *f;
	memcpy(s->data[s->nf], f->data, f->len);
	s->f[s->nf].data = s->data[s->nf];
	s->nf++;
}

static void
on_noise(void *arg, const uint8_t *b, size_t n)
{
	struct sink *s = arg;

	ck_assert_uint_le(s->nnoise + n, sizeof(s->noise));
	memcpy(s->noise + s->nnoise, b, n);
	s->nnoise += n;
}

static size_t
mk(uint8_t *out, uint8_t type, uint32_t id, uint32_t seq, const void *p,
    size_t n)
{
	struct frame f = { type, FF_STDOUT, id, seq, (uint16_t)n, p };

	return frame_encode(out, &f);
}

START_TEST(roundtrip_binary)
{
	static struct sink s;
	struct frame_parser p;
	uint8_t buf[FRAME_MAX], payload[300];
	size_t n, i;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;	/* NULs and every byte value */
	memcpy(payload + 10, "\xf9" "dmx", 4);	/* a magic inside the data */
	memset(&s, 0, sizeof(s));
	frame_parser_init(&p);
	n = mk(buf, FT_OUT, 7, 3, payload, sizeof(payload));
	ck_assert_uint_eq(n, FRAME_HDR + sizeof(payload) + 4);
	/* one byte at a time: the parser keeps partial frames */
	for (i = 0; i < n; i++)
		frame_feed(&p, buf + i, 1, on_frame, on_noise, &s);
	ck_assert_uint_eq(s.nf, 1);
	ck_assert_uint_eq(s.nnoise, 0);
	ck_assert_uint_eq(s.f[0].type, FT_OUT);
	ck_assert_uint_eq(s.f[0].id, 7);
	ck_assert_uint_eq(s.f[0].seq, 3);
	ck_assert_mem_eq(s.f[0].data, payload, sizeof(payload));
}
END_TEST

START_TEST(noise_around_and_inside)
{
	static struct sink s;
	struct frame_parser p;
	uint8_t a[FRAME_MAX], b[FRAME_MAX], stream[3 * FRAME_MAX];
	const char *boot = "[    0.000000] Linux version 6.1\r\n";
	const char *kmsg = "[   12.345678] eth0: link up\r\n";
	size_t na, nb, n = 0;

	memset(&s, 0, sizeof(s));
	frame_parser_init(&p);
	na = mk(a, FT_OUT, 1, 0, "first", 5);
	nb = mk(b, FT_OUT, 1, 1, "second", 6);
	memcpy(stream + n, boot, strlen(boot)), n += strlen(boot);
	/* a kernel line lands inside the first frame's payload: dropped */
	memcpy(stream + n, a, 20), n += 20;
	memcpy(stream + n, kmsg, strlen(kmsg)), n += strlen(kmsg);
	memcpy(stream + n, a + 20, na - 20), n += na - 20;
	memcpy(stream + n, b, nb), n += nb;
	memcpy(stream + n, "tail\n", 5), n += 5;
	frame_feed(&p, stream, n, on_frame, on_noise, &s);
	frame_flush(&p, on_noise, &s);
	ck_assert_uint_eq(s.nf, 1);
	ck_assert_uint_eq(s.f[0].seq, 1);
	ck_assert_mem_eq(s.f[0].data, "second", 6);
	ck_assert_uint_eq(p.st.bad_crc, 1);
	/* all the rest, in order, went to the console log */
	ck_assert_uint_eq(s.nnoise, n - nb);
	ck_assert_mem_eq(s.noise, boot, strlen(boot));
	ck_assert_mem_eq(s.noise + s.nnoise - 5, "tail\n", 5);
}
END_TEST

START_TEST(corruption_never_delivered)
{
	static struct sink s;
	struct frame_parser p;
	uint8_t f[FRAME_MAX], g[FRAME_MAX];
	size_t n, i, bit;

	n = mk(f, FT_OUT, 9, 4, "payload bytes", 13);
	/* every single-bit flip after the magic is caught */
	for (i = 4; i < n; i++)
		for (bit = 0; bit < 8; bit++) {
			memset(&s, 0, sizeof(s));
			frame_parser_init(&p);
			memcpy(g, f, n);
			g[i] ^= (uint8_t)(1u << bit);
			frame_feed(&p, g, n, on_frame, on_noise, &s);
			frame_flush(&p, on_noise, &s);
			ck_assert_uint_eq(s.nf, 0);
			ck_assert_uint_eq(s.nnoise, n);
		}
}
END_TEST

START_TEST(huge_length_costs_nothing)
{
	static struct sink s;
	struct frame_parser p;
	uint8_t hdr[FRAME_HDR] = { 0xf9, 'd', 'm', 'x', FRAME_VERSION, FT_OUT,
	    0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff };
	uint8_t good[FRAME_MAX];
	size_t n;

	memset(&s, 0, sizeof(s));
	frame_parser_init(&p);
	frame_feed(&p, hdr, sizeof(hdr), on_frame, on_noise, &s);
	/* the claim is refused at once: nothing is held back waiting for it */
	ck_assert_uint_eq(p.len - p.off, 0);
	ck_assert_uint_eq(p.st.bad_header, 1);
	n = mk(good, FT_PONG, 0, 0, NULL, 0);
	frame_feed(&p, good, n, on_frame, on_noise, &s);
	ck_assert_uint_eq(s.nf, 1);
	ck_assert_uint_eq(s.f[0].type, FT_PONG);
	ck_assert_uint_le(sizeof(p), 3 * FRAME_MAX);
}
END_TEST

/* noise callbacks and bytes, nothing kept: for streams of a MiB */
struct count {
	uint64_t	 calls, bytes, frames;
};

static void
count_frame(void *arg, const struct frame *f)
{
	(void)f;
	((struct count *)arg)->frames++;
}

static void
count_noise(void *arg, const uint8_t *b, size_t n)
{
	struct count *c = arg;

	(void)b;
	c->calls++;
	c->bytes += n;
}

/* a hostile guest's cheapest attack: fake headers claiming 4096 bytes,
 * back to back, so that every one of them asks for a 4 KiB CRC */
static void
fake_headers(uint8_t *b, size_t n)
{
	uint8_t hdr[FRAME_HDR] = { 0xf9, 'd', 'm', 'x', FRAME_VERSION, FT_OUT,
	    FF_STDOUT, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0x10, 0x00 };
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = hdr[i % sizeof(hdr)];
}

START_TEST(hostile_headers_bounded_work)
{
	static uint8_t in[1 << 20];
	struct frame_parser p;
	struct count c;
	uint8_t good[FRAME_MAX];
	size_t off, reads = 0, n;

	memset(&c, 0, sizeof(c));
	frame_parser_init(&p);
	fake_headers(in, sizeof(in));
	/* as the console reads it: 16 KiB at a time */
	for (off = 0; off < sizeof(in); off += 16384, reads++)
		frame_feed(&p, in + off, 16384, count_frame, count_noise, &c);
	frame_flush(&p, count_noise, &c);
	ck_assert_uint_eq(c.frames, 0);
	ck_assert_uint_eq(c.bytes, sizeof(in));
	/* the CRC work is a small multiple of the input, not 4 KiB per
	 * 18 bytes (230 MiB per MiB before) */
	ck_assert_msg(p.st.crc_bytes <= 2 * sizeof(in) + 2 * FRAME_MAX,
	    "%llu CRC bytes for 1 MiB", (unsigned long long)p.st.crc_bytes);
	/* noise comes in runs: one per read, or per frame's worth of it that
	 * the parser's buffer takes at a time, not one per byte or per fake
	 * header (116k calls per MiB before) */
	ck_assert_msg(c.calls <= 2 * reads + sizeof(in) / FRAME_MAX,
	    "%llu noise calls in %zu reads", (unsigned long long)c.calls, reads);
	/* and a real frame after it all still gets through */
	n = mk(good, FT_PONG, 5, 0, NULL, 0);
	frame_feed(&p, good, n, count_frame, count_noise, &c);
	ck_assert_uint_eq(c.frames, 1);
}
END_TEST

/* the CRC credit never runs short for an agent's traffic: full frames
 * back to back, a kernel line spoiling every third one */
START_TEST(real_traffic_always_checked)
{
	static uint8_t in[1 << 20];
	static uint8_t payload[FRAME_PAYLOAD_MAX];
	const char *kmsg = "\r\n[   12.345678] eth0: link up\r\n";
	struct frame_parser p;
	struct count c;
	size_t off = 0, k, n, sent = 0, spoiled = 0;
	uint8_t f[FRAME_MAX];

	memset(&c, 0, sizeof(c));
	memset(payload, 0xf9, sizeof(payload));	/* magic bytes inside too */
	frame_parser_init(&p);
	for (k = 0; off + FRAME_MAX + 64 < sizeof(in); k++) {
		n = mk(f, FT_OUT, 1, (uint32_t)k, payload, k % 5 ? FRAME_PAYLOAD_MAX :
		    k % 300);
		if (k % 3 == 2) {
			memcpy(in + off, f, n / 2);
			memcpy(in + off + n / 2, kmsg, strlen(kmsg));
			memcpy(in + off + n / 2 + strlen(kmsg), f + n / 2, n - n / 2);
			off += n + strlen(kmsg);
			spoiled++;
		} else {
			memcpy(in + off, f, n);
			off += n;
			sent++;
		}
	}
	for (k = 0; k < off; k += n) {
		n = off - k < 16384 ? off - k : 16384;
		frame_feed(&p, in + k, n, count_frame, count_noise, &c);
	}
	ck_assert_uint_eq(c.frames, sent);
	ck_assert_uint_eq(p.st.unchecked, 0);
	ck_assert_uint_eq(p.st.bad_crc + p.st.bad_header, spoiled);
}
END_TEST

START_TEST(payload_limit)
{
	uint8_t out[FRAME_MAX], big[FRAME_PAYLOAD_MAX + 1];
	struct frame f = { FT_OUT, 0, 1, 0, FRAME_PAYLOAD_MAX + 1, big };

	memset(big, 'x', sizeof(big));
	ck_assert_uint_eq(frame_encode(out, &f), 0);
	f.len = FRAME_PAYLOAD_MAX;
	ck_assert_uint_eq(frame_encode(out, &f), FRAME_MAX);
	/* the standard CRC-32 (IEEE), so other tools can check frames */
	ck_assert_uint_eq(frame_crc32(0, (const uint8_t *)"123456789", 9),
	    0xcbf43926u);
}
END_TEST

/* no control character (C0, DEL, C1), no escape, valid UTF-8: safe on a
 * terminal, in JSON and in syslog */
static void
assert_inert(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, len;
	uint32_t cp;

	ck_assert_uint_lt(n, max);
	while (i < n) {
		len = utf8_seq_len(p + i, n - i, &cp);
		ck_assert_msg(len > 0, "invalid UTF-8 at %zu of '%s'", i, s);
		ck_assert_msg(cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 &&
		    cp < 0xa0), "control U+%04X at %zu of '%s'", cp, i, s);
		i += len;
	}
}

struct ended {
	int			 done;
	struct chan_result	 r;
};

static void
on_done(void *ctx, const struct chan_result *r)
{
	struct ended *e = ctx;

	e->done = 1;
	e->r = *r;
}

/* a hostile agent's hello and error texts reach domuctl ping, exec and
 * syslog: neutralised as they arrive, within their buffers */
START_TEST(agent_text_neutralised)
{
	static struct channel ch;
	static const char evil[] = "agent\x1b[2J\x07" "bell\xc2\x9b" "31m c1"
	    "\x9b raw\xff\xfe bad\r\nline2\tend\x1b]0;title\x07";
	char *argv[] = { "true", NULL }, why[128], text[700];
	struct ended e = { 0 };
	struct chan_exec_cb cb = { NULL, on_done, &e };
	uint8_t buf[FRAME_MAX];
	struct frame f = { FT_HELLO, 0, 0, 0, 0, NULL };
	uint32_t id;
	size_t n;

	chan_init(&ch, NULL, NULL, NULL);
	f.data = (const uint8_t *)evil;
	f.len = sizeof(evil) - 1;
	n = frame_encode(buf, &f);
	chan_input(&ch, buf, n, 1);
	ck_assert_int_eq(ch.ready, 1);
	assert_inert(ch.agent, sizeof(ch.agent));
	/* visible, not acted on */
	ck_assert_ptr_nonnull(strstr(ch.agent, "^[[2J"));
	ck_assert_ptr_nonnull(strstr(ch.agent, "^Gbell\\x9b"));

	/* the same hello again is a resend, not a new agent */
	ck_assert_int_eq(chan_exec(&ch, argv, 0, 0, &cb, &id, why, sizeof(why),
	    1), 0);
	n = frame_encode(buf, &f);
	chan_input(&ch, buf, n, 2);
	ck_assert_int_eq(e.done, 0);
	ck_assert_uint_eq(ch.resent_seen, 1);

	/* an error text longer than its buffer, hostile all along */
	snprintf(text, sizeof(text), "%s%s%s%s%s%s", evil, evil, evil, evil,
	    evil, evil);
	f.type = FT_ERROR;
	f.id = id;
	f.seq = 1;
	f.data = (const uint8_t *)text;
	f.len = (uint16_t)strlen(text);
	n = frame_encode(buf, &f);
	chan_input(&ch, buf, n, 3);
	ck_assert_int_eq(e.done, 1);
	ck_assert_int_eq(e.r.ran, 0);
	assert_inert(e.r.error, sizeof(e.r.error));
	ck_assert_ptr_nonnull(strstr(e.r.error, "^[[2J"));
	ck_assert_ptr_nonnull(strstr(e.r.error, "\xef\xbf\xbd"));	/* U+FFFD */
	ck_assert_ptr_null(strchr(e.r.error, '\n'));
	chan_free(&ch);
}
END_TEST

/* the frame types domud has queued towards the agent, in order */
static size_t
queued_types(struct channel *ch, uint8_t *types, size_t max)
{
	static struct sink s;
	static uint8_t q[CHAN_WQ_MAX];
	struct frame_parser p;
	const uint8_t *w;
	size_t n = chan_pending(ch, &w), i;
	int esc = 0;

	memset(&s, 0, sizeof(s));
	memcpy(q, w, n);
	n = frame_unstuff(q, n, &esc);
	frame_parser_init(&p);
	frame_feed(&p, q, n, on_frame, on_noise, &s);
	for (i = 0; i < s.nf && i < max; i++)
		types[i] = s.f[i].type;
	return s.nf;
}

/* the agent feeds its console shell only between ATTACH and DETACH:
 * domud tells it at every sync, and never loses the notice */
START_TEST(console_attach_told)
{
	static struct channel ch;
	struct frame f = { FT_PONG, 0, 0, 5, 0, NULL };
	uint8_t buf[FRAME_MAX], t[8], big[16384];
	const uint8_t *w;
	size_t n;

	chan_init(&ch, NULL, NULL, NULL);
	/* an agent domud did not start with (adopted): told nobody is there */
	chan_input(&ch, buf, frame_encode(buf, &f), 1);
	ck_assert_uint_eq(queued_types(&ch, t, 8), 2);
	ck_assert_uint_eq(t[0], FT_DETACH);
	ck_assert_uint_eq(t[1], FT_ACK);
	chan_written(&ch, chan_pending(&ch, &w));

	/* typed input attaches first */
	ck_assert_int_eq(chan_raw(&ch, (const uint8_t *)"ls\n", 3), 0);
	ck_assert_uint_eq(queued_types(&ch, t, 8), 1);
	ck_assert_uint_eq(t[0], FT_ATTACH);
	ck_assert_int_eq(ch.console, 1);
	chan_written(&ch, chan_pending(&ch, &w));

	/* a full queue: the detach waits, and goes when it drains */
	memset(big, 'x', sizeof(big));
	for (n = sizeof(big); n > 0; n /= 2)
		while (chan_raw(&ch, big, n) == 0)
			;
	ck_assert_int_eq(chan_console_detach(&ch), -1);
	ck_assert_uint_eq(queued_types(&ch, t, 8), 0);	/* typed bytes only */
	chan_written(&ch, chan_pending(&ch, &w));
	ck_assert_uint_eq(queued_types(&ch, t, 8), 1);
	ck_assert_uint_eq(t[0], FT_DETACH);
	ck_assert_int_eq(ch.console_due, 0);

	/* a new agent (another hello) learns the state again */
	chan_written(&ch, chan_pending(&ch, &w));
	ck_assert_int_eq(chan_console_attach(&ch), 0);
	chan_written(&ch, chan_pending(&ch, &w));
	f.type = FT_HELLO;
	f.seq = 0;
	f.data = (const uint8_t *)"domud-agent 1 t 0001";
	f.len = 20;
	chan_input(&ch, buf, frame_encode(buf, &f), 2);
	ck_assert_uint_eq(queued_types(&ch, t, 8), 2);
	ck_assert_uint_eq(t[0], FT_ATTACH);
	chan_free(&ch);

	/* vxn guests have no shell to guard: nothing is sent */
	chan_init(&ch, NULL, NULL, NULL);
	chan_set_vxn(&ch);
	ck_assert_int_eq(chan_console_attach(&ch), 0);
	ck_assert_uint_eq(chan_pending(&ch, &w), 0);
	chan_free(&ch);
}
END_TEST

struct outs {
	uint8_t		 out[64];
	size_t		 n;
};

static void
on_out(void *ctx, int fd, const uint8_t *b, size_t n)
{
	struct outs *o = ctx;

	(void)fd;
	if (n > sizeof(o->out) - o->n)
		n = sizeof(o->out) - o->n;
	memcpy(o->out + o->n, b, n);
	o->n += n;
}

static void
on_outs_done(void *ctx, const struct chan_result *r)
{
	struct outs *o = ctx;

	(void)r;
	o->out[sizeof(o->out) - 1] = 1;
}

/* a kernel line that lands in a frame's length ("\r\n": 3338 bytes
 * claimed) holds the frames behind it back only for CHAN_HOLD_MS, not
 * until resends fill the claim (a minute, found by chancheck's noise) */
START_TEST(spoiled_length_not_waited_for)
{
	static struct channel ch;
	const char *kmsg = "\r\n[   12.345678] eth0: link up\r\n";
	char *argv[] = { "echo", "abc", NULL }, why[64];
	struct outs o;
	struct chan_exec_cb cb = { on_out, on_outs_done, &o };
	struct frame f = { FT_HELLO, 0, 0, 0, 7, (const uint8_t *)"agent 1" };
	uint8_t buf[3 * FRAME_MAX], ex[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
	uint8_t out[FRAME_MAX], end[FRAME_MAX];
	size_t n, nout, nend;
	uint32_t id;

	memset(&o, 0, sizeof(o));
	chan_init(&ch, NULL, NULL, NULL);
	chan_input(&ch, buf, frame_encode(buf, &f), 1000);
	ck_assert_int_eq(chan_exec(&ch, argv, 0, 0, &cb, &id, why, sizeof(why),
	    1000), 0);
	f.type = FT_OUT;
	f.flags = FF_STDOUT;
	f.id = id;
	f.seq = 1;
	f.data = (const uint8_t *)"abc\n";
	f.len = 4;
	nout = frame_encode(out, &f);
	f.type = FT_EXIT;
	f.flags = 0;
	f.seq = 2;
	f.data = ex;
	f.len = 8;
	nend = frame_encode(end, &f);
	/* the output frame with a kernel line at its length, then both
	 * frames again as the agent resends them */
	n = 0;
	memcpy(buf + n, out, 16), n += 16;
	memcpy(buf + n, kmsg, strlen(kmsg)), n += strlen(kmsg);
	memcpy(buf + n, out + 16, nout - 16), n += nout - 16;
	memcpy(buf + n, end, nend), n += nend;
	memcpy(buf + n, out, nout), n += nout;
	memcpy(buf + n, end, nend), n += nend;
	chan_input(&ch, buf, n, 2000);
	ck_assert_uint_eq(o.n, 0);	/* held: the claim is not complete */
	ck_assert_uint_eq(chan_tick(&ch, 2500), 2000 + CHAN_HOLD_MS);
	ck_assert_uint_eq(o.n, 0);
	chan_tick(&ch, 2000 + CHAN_HOLD_MS);
	ck_assert_uint_eq(o.n, 4);
	ck_assert_mem_eq(o.out, "abc\n", 4);
	ck_assert_uint_eq(o.out[sizeof(o.out) - 1], 1);	/* and it ended */
	chan_free(&ch);
}
END_TEST

/*
 * Review finding 7: a run whose client left kept its slot for as long as
 * the agent never answered its command. Given up by a time: at it, the
 * command ends as given up, with no answer from the agent
 */
START_TEST(given_up_at_a_time)
{
	static struct channel ch;
	char *argv[] = { "sleep", "1000", NULL }, why[128];
	struct ended e = { 0 };
	struct chan_exec_cb cb = { NULL, on_done, &e };
	struct frame f = { FT_HELLO, 0, 0, 0, 7, (const uint8_t *)"agent 1" };
	uint8_t buf[FRAME_MAX];
	uint32_t id;

	chan_init(&ch, NULL, NULL, NULL);
	chan_input(&ch, buf, frame_encode(buf, &f), 1000);
	/* no timeout of its own */
	ck_assert_int_eq(chan_exec(&ch, argv, 0, 0, &cb, &id, why, sizeof(why),
	    1000), 0);
	ck_assert_uint_eq(chan_tick(&ch, 500000), 0);
	ck_assert_int_eq(e.done, 0);
	chan_cancel(&ch, id);
	chan_give_up_at(&ch, id, 600000);
	/* a later time does not put it off */
	chan_give_up_at(&ch, id, 900000);
	ck_assert_uint_eq(chan_tick(&ch, 599999), 600000);
	ck_assert_int_eq(e.done, 0);
	chan_tick(&ch, 600000);
	ck_assert_int_eq(e.done, 1);
	ck_assert_int_eq(e.r.ran, 0);
	chan_free(&ch);
}
END_TEST

Suite *
frame_suite(void)
{
	Suite *s = suite_create("frame");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, roundtrip_binary);
	tcase_add_test(tc, noise_around_and_inside);
	tcase_add_test(tc, corruption_never_delivered);
	tcase_add_test(tc, huge_length_costs_nothing);
	tcase_add_test(tc, payload_limit);
	tcase_add_test(tc, hostile_headers_bounded_work);
	tcase_add_test(tc, real_traffic_always_checked);
	suite_add_tcase(s, tc);
	tc = tcase_create("channel");
	tcase_add_test(tc, agent_text_neutralised);
	tcase_add_test(tc, console_attach_told);
	tcase_add_test(tc, spoiled_length_not_waited_for);
	tcase_add_test(tc, given_up_at_a_time);
	suite_add_tcase(s, tc);
	return s;
}
