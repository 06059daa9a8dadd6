// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The guest I/O process's messages: encoding, and the checks each side
 * makes before it acts on one. A type's payload is bounded by a table;
 * fixed-size ones must be exactly their size and carry NUL-terminated
 * strings.
 * May call: libc.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "channel.h"
#include "giomsg.h"

struct gio_rule {
	uint8_t		 from_child;
	uint8_t		 flags;		/* allowed */
	uint8_t		 needs_id;
	uint8_t		 exact;		/* len must be max */
	uint32_t	 max;
	const char	*name;
};

static const struct gio_rule rules[] = {
	[GM_OPEN]	= { 0, GF_VXN, 0, 0, 0, "open" },
	[GM_CLOSE]	= { 0, 0, 0, 0, 0, "close" },
	[GM_INPUT]	= { 0, 0, 0, 0, 16384, "input" },
	[GM_WRITTEN]	= { 0, 0, 0, 0, 0, "written" },
	[GM_EXEC]	= { 0, GF_SHELL | GF_STDIN, 1, 0, CHAN_ARGS_MAX, "exec" },
	[GM_CANCEL]	= { 0, 0, 1, 0, 0, "cancel" },
	[GM_GIVEUP]	= { 0, 0, 1, 0, 0, "give up" },
	[GM_STDIN]	= { 0, 0, 1, 0, FRAME_PAYLOAD_MAX, "stdin" },
	[GM_PING]	= { 0, 0, 0, 0, 0, "ping" },
	[GM_PINGRESET]	= { 0, 0, 0, 0, 0, "ping reset" },
	[GM_SHUTDOWN]	= { 0, 0, 0, 0, 0, "shutdown" },
	[GM_RAW]	= { 0, 0, 0, 0, 4096, "raw" },
	[GM_ATTACH]	= { 0, 0, 0, 0, 0, "attach" },
	[GM_UNATTACH]	= { 0, 0, 0, 0, 0, "unattach" },
	[GM_SYNC]	= { 0, 0, 0, 0, 0, "sync" },
	[GM_NOISE]	= { 1, 0, 0, 0, GIO_NOISE_MAX, "noise" },
	[GM_WRITE]	= { 1, 0, 0, 0, CHAN_WQ_MAX < GIO_PAYLOAD_MAX ?
			    CHAN_WQ_MAX : GIO_PAYLOAD_MAX, "write" },
	[GM_READY]	= { 1, 0, 0, 0, 0, "ready" },
	[GM_OUT]	= { 1, 0x03, 1, 0, FRAME_PAYLOAD_MAX, "out" },
	[GM_DONE]	= { 1, 0, 1, 1, sizeof(struct gio_result), "done" },
	[GM_STATE]	= { 1, 0, 0, 1, sizeof(struct gio_state), "state" },
	[GM_INACK]	= { 1, 0, 1, 0, 0, "stdin ack" },
	[GM_SYNCED]	= { 1, 0, 0, 0, 0, "synced" },
};

#define NRULES	(sizeof(rules) / sizeof(rules[0]))

static int
terminated(const char *s, size_t sz)
{
	return memchr(s, '\0', sz) != NULL;
}

int
gio_msg_check(const uint8_t *b, size_t n, int from_child, struct gio_msg *m,
    char *why, size_t whysz)
{
	const struct gio_rule *r;

	if (n < sizeof(m->h)) {
		snprintf(why, whysz, "a message of %zu bytes", n);
		return -1;
	}
	memcpy(&m->h, b, sizeof(m->h));
	m->data = b + sizeof(m->h);
	if (m->h.type >= NRULES || rules[m->h.type].name == NULL ||
	    rules[m->h.type].from_child != (from_child != 0)) {
		snprintf(why, whysz, "a message of type %u", m->h.type);
		return -1;
	}
	r = &rules[m->h.type];
	if (m->h.len != n - sizeof(m->h) || m->h.len > r->max ||
	    (r->exact && m->h.len != r->max)) {
		snprintf(why, whysz, "%s: a payload of %u bytes in %zu", r->name,
		    m->h.len, n);
		return -1;
	}
	if ((m->h.flags & ~r->flags) != 0 || m->h.zero != 0 ||
	    (r->needs_id && m->h.id == 0) || m->h.con == 0) {
		snprintf(why, whysz, "%s: flags %#x, id %u, console %u",
		    r->name, m->h.flags, m->h.id, m->h.con);
		return -1;
	}
	if (m->h.type == GM_OUT && m->h.flags == 0) {
		snprintf(why, whysz, "out: no stream");
		return -1;
	}
	if (m->h.type == GM_DONE && !terminated((const char *)m->data +
	    offsetof(struct gio_result, error), GIO_ERROR_MAX)) {
		snprintf(why, whysz, "done: an unterminated error");
		return -1;
	}
	if (m->h.type == GM_STATE && !terminated((const char *)m->data +
	    offsetof(struct gio_state, agent), GIO_AGENT_MAX)) {
		snprintf(why, whysz, "state: an unterminated agent");
		return -1;
	}
	/* an argv: at least one, every one terminated */
	if (m->h.type == GM_EXEC && (m->h.len == 0 ||
	    m->data[m->h.len - 1] != '\0')) {
		snprintf(why, whysz, "exec: a bad command line");
		return -1;
	}
	return 0;
}

size_t
gio_msg_encode(uint8_t *out, uint8_t type, uint8_t flags, uint32_t con,
    uint32_t id, uint64_t arg, const void *p, size_t n)
{
	struct gio_hdr h;

	if (n > GIO_PAYLOAD_MAX)
		return 0;
	memset(&h, 0, sizeof(h));
	h.type = type;
	h.flags = flags;
	h.con = con;
	h.id = id;
	h.len = (uint32_t)n;
	h.arg = arg;
	memcpy(out, &h, sizeof(h));
	if (n)
		memcpy(out + sizeof(h), p, n);
	return sizeof(h) + n;
}
