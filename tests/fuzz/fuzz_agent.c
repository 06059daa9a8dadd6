// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: what the agent does with bytes from Dom0, up to the point where
 * it would fork. The input is a script of records: frames (any type, flags,
 * id and payload, encoded and stuffed as domud sends them) and raw noise;
 * the stream is cut into reads, unstuffed and parsed as the agent does, and
 * every decoded request goes through agent_request() to ops that keep the
 * agent's command table and stdin queues and check what they are given.
 * Without noise, every frame must arrive, in order and unchanged. */
#include <stdlib.h>
#include <string.h>

#include "chan/frame.h"
#include "agent/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CMDS	32	/* as the agent */
#define MAX_SENT	256

struct fcmd {
	uint32_t	 id;
	struct agent_inq inq;
	int		 eof;
};

static struct fcmd	 cmds[MAX_CMDS];
static struct frame	 sent[MAX_SENT];	/* what went in, in order */
static uint8_t		 sent_data[MAX_SENT][FRAME_PAYLOAD_MAX];
static size_t		 nsent, ngot;
static int		 noisy;

static struct fcmd *
cmd_find(uint32_t id)
{
	size_t i;

	for (i = 0; i < MAX_CMDS; i++)
		if (id != 0 && cmds[i].id == id)
			return &cmds[i];
	return NULL;
}

static void
op_pong(void *arg, uint32_t id)
{
	(void)arg;
	(void)id;
}

static void
op_exec(void *arg, const struct agent_exec *x)
{
	const char *end = x->buf + sizeof(x->buf);
	size_t i;

	(void)arg;
	if (x->argc == 0 || x->argc > AGENT_ARGV_MAX ||
	    x->argv[x->argc] != NULL || x->argv[0][0] == '\0')
		abort();
	for (i = 0; i < x->argc; i++) {
		if (x->argv[i] < x->buf || x->argv[i] >= end ||
		    memchr(x->argv[i], '\0', (size_t)(end - x->argv[i])) == NULL)
			abort();
		if (i > 0 && x->argv[i] != x->argv[i - 1] +
		    strlen(x->argv[i - 1]) + 1)
			abort();
	}
	if (cmd_find(x->id) != NULL)
		return;		/* "request id in use" */
	for (i = 0; i < MAX_CMDS; i++)
		if (cmds[i].id == 0) {
			cmds[i].id = x->id;
			if (x->want_stdin)
				cmds[i].inq.buf = malloc(AGENT_STDIN_BUF);
			return;
		}
}

static void
op_refuse(void *arg, uint32_t id, const char *why)
{
	(void)arg;
	(void)id;
	if (why == NULL || why[0] == '\0')
		abort();
}

static void
cmd_end(struct fcmd *c)
{
	free(c->inq.buf);
	memset(c, 0, sizeof(*c));
}

static void
op_cancel(void *arg, uint32_t id)
{
	struct fcmd *c = cmd_find(id);

	(void)arg;
	if (c != NULL)
		cmd_end(c);
}

static void
op_stdin(void *arg, uint32_t id, const uint8_t *p, size_t n)
{
	struct fcmd *c = cmd_find(id);
	size_t before;

	(void)arg;
	if (c == NULL || c->inq.buf == NULL)
		return;
	if (n == 0) {
		c->eof = 1;
		return;
	}
	before = c->inq.len;
	if (agent_inq_add(&c->inq, p, n) == -1) {
		if (before + n <= AGENT_STDIN_BUF || c->inq.len != before)
			abort();
		cmd_end(c);	/* the agent kills it */
		return;
	}
	if (c->inq.len != before + n || c->inq.len > AGENT_STDIN_BUF ||
	    memcmp(c->inq.buf + before, p, n) != 0)
		abort();
	/* the pipe takes some */
	agent_inq_consume(&c->inq, p[0] % 64 * 97);
	if (c->eof && c->inq.len == 0)
		cmd_end(c);
}

static void
op_shutdown(void *arg)
{
	(void)arg;
}

static void
op_ack(void *arg, uint32_t next)
{
	(void)arg;
	(void)next;
}

static void
op_attach(void *arg, int on)
{
	(void)arg;
	(void)on;
}

static const struct agent_ops ops = {
	.pong = op_pong,
	.exec = op_exec,
	.refuse = op_refuse,
	.cancel = op_cancel,
	.stdin_data = op_stdin,
	.shutdown = op_shutdown,
	.ack = op_ack,
	.attach = op_attach,
};

static void
on_frame(void *arg, const struct frame *f)
{
	(void)arg;
	if (f->len > FRAME_PAYLOAD_MAX)
		abort();
	if (!noisy) {
		const struct frame *w;

		if (ngot >= nsent)
			abort();
		w = &sent[ngot++];
		if (w->type != f->type || w->flags != f->flags ||
		    w->id != f->id || w->seq != f->seq || w->len != f->len ||
		    memcmp(w->data, f->data, f->len) != 0)
			abort();
	}
	agent_request(f, &ops, NULL);
}

static void
on_noise(void *arg, const uint8_t *b, size_t n)
{
	(void)arg;
	(void)b;
	if (!noisy && n > 0)
		abort();
}

static uint8_t stream[(MAX_SENT + 8) * 2 * FRAME_MAX];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct frame_parser p;
	uint8_t enc[FRAME_MAX], rd[512];
	size_t off = 0, slen = 0, step, i;
	int esc = 0;

	memset(cmds, 0, sizeof(cmds));
	nsent = ngot = 0;
	noisy = 0;
	if (size == 0)
		return 0;
	step = (size_t)data[off++] % 64 + 1;	/* how the stream is read */
	/* record: kind (1); a frame: type flags id(1) len(2) payload; noise:
	 * len(1) bytes, sent stuffed or raw */
	while (off < size && nsent < MAX_SENT) {
		uint8_t kind = data[off++];

		if (kind & 0x80) {
			size_t n = kind & 0x3f, avail = size - off;

			if (n > avail)
				n = avail;
			if (kind & 0x40)
				slen += frame_stuff(data + off, n, stream + slen);
			else {
				memcpy(stream + slen, data + off, n);
				slen += n;
			}
			off += n;
			noisy |= n > 0;
		} else {
			struct frame *f = &sent[nsent];
			size_t n;

			if (size - off < 5)
				break;
			memset(f, 0, sizeof(*f));
			/* domud's types, mostly; any other now and then */
			f->type = data[off] < 224 ? FT_PING + data[off] % 8 :
			    data[off];
			/* the parser drops a type it does not know as noise */
			if (!(f->type >= FT_HELLO && f->type <= FT_INACK) &&
			    !(f->type >= FT_PING && f->type <= FT_DETACH))
				noisy = 1;
			f->flags = data[off + 1];
			f->id = data[off + 2] % 40;	/* collisions wanted */
			f->seq = kind;
			n = (size_t)data[off + 3] << 8 | data[off + 4];
			off += 5;
			n %= FRAME_PAYLOAD_MAX + 1;
			if (n > size - off)
				n = size - off;
			memcpy(sent_data[nsent], data + off, n);
			off += n;
			f->len = (uint16_t)n;
			f->data = sent_data[nsent];
			if ((n = frame_encode(enc, f)) == 0)
				abort();
			slen += frame_stuff(enc, n, stream + slen);
			nsent++;
		}
	}
	frame_parser_init(&p);
	for (i = 0; i < slen; i += step) {
		size_t n = slen - i < step ? slen - i : step;

		memcpy(rd, stream + i, n);
		n = frame_unstuff(rd, n, &esc);
		frame_feed(&p, rd, n, on_frame, on_noise, NULL);
	}
	frame_flush(&p, on_noise, NULL);
	if (!noisy && ngot != nsent)
		abort();
	for (i = 0; i < MAX_CMDS; i++)
		free(cmds[i].inq.buf);
	return 0;
}
