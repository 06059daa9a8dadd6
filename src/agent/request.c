// SPDX-License-Identifier: GPL-2.0-or-later
/* The agent's request decoding (request.h): bytes from Dom0 are untrusted
 * like any input; nothing here trusts a length it did not check. */
#include <string.h>

#include "request.h"

int
agent_exec_decode(const struct frame *f, struct agent_exec *x,
    const char **why)
{
	size_t i, len;

	if (f->len < 5 || f->len > FRAME_PAYLOAD_MAX ||
	    f->data[f->len - 1] != '\0') {
		*why = "malformed exec request";
		return -1;
	}
	/* id 0 marks a free slot in the agent's command table */
	if (f->id == 0) {
		*why = "exec request without an id";
		return -1;
	}
	x->id = f->id;
	x->timeout_ms = get_be32(f->data);
	x->shell = (f->flags & FF_SHELL) != 0;
	x->want_stdin = (f->flags & FF_STDIN) != 0;
	len = f->len - 4;
	memcpy(x->buf, f->data + 4, len);
	x->buf[len] = '\0';
	x->argc = 0;
	/* the last byte is a NUL: every argument ends inside buf */
	for (i = 0; i < len && x->argc < AGENT_ARGV_MAX;
	    i += strlen(x->buf + i) + 1)
		x->argv[x->argc++] = x->buf + i;
	x->argv[x->argc] = NULL;
	if (x->argc == 0 || x->argv[0][0] == '\0') {
		*why = "empty command";
		return -1;
	}
	return 0;
}

void
agent_request(const struct frame *f, const struct agent_ops *ops, void *arg)
{
	struct agent_exec x;
	const char *why;

	switch (f->type) {
	case FT_PING:
		ops->pong(arg, f->id);
		break;
	case FT_EXEC:
		if (agent_exec_decode(f, &x, &why) == -1)
			ops->refuse(arg, f->id, why);
		else
			ops->exec(arg, &x);
		break;
	case FT_CANCEL:
		ops->cancel(arg, f->id);
		break;
	case FT_STDIN:
		ops->stdin_data(arg, f->id, f->data, f->len);
		break;
	case FT_SHUTDOWN:
		ops->shutdown(arg);
		break;
	case FT_ACK:
		ops->ack(arg, f->seq);
		break;
	case FT_ATTACH:
	case FT_DETACH:
		ops->attach(arg, f->type == FT_ATTACH);
		break;
	default:
		break;		/* our own frames echoed, or from the future */
	}
}

int
agent_inq_add(struct agent_inq *q, const uint8_t *p, size_t n)
{
	if (n > AGENT_STDIN_BUF - q->len)
		return -1;
	if (n == 0)
		return 0;
	memcpy(q->buf + q->len, p, n);
	q->len += n;
	return 0;
}

void
agent_inq_consume(struct agent_inq *q, size_t n)
{
	if (n > q->len)
		n = q->len;
	memmove(q->buf, q->buf + n, q->len - n);
	q->len -= n;
}
