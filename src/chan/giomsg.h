/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_GIOMSG_H
#define DOMUD_GIOMSG_H

/*
 * The messages between domud and its guest I/O process (gio.c, gio_child.c):
 * one SOCK_SEQPACKET datagram each, a fixed header and a payload whose
 * size each type bounds (or fixes). Both ends are the same binary on the
 * same host: native byte order. The parent checks every message as it
 * would a guest's: the child parses what guests write, so it may be
 * theirs.
 */
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

enum gio_type {
	/* parent -> child */
	GM_OPEN = 1,		/* a console's channel; flags: GF_VXN */
	GM_CLOSE,		/* its commands are forgotten */
	GM_INPUT,		/* bytes read from the console */
	GM_WRITTEN,		/* arg: bytes of GM_WRITE put on the console */
	GM_EXEC,		/* id; flags GF_SHELL, GF_STDIN; arg: timeout
				 * ms; payload: argv, each NUL-terminated */
	GM_CANCEL,		/* id */
	GM_GIVEUP,		/* id; arg: given up by then (monotonic ms) */
	GM_STDIN,		/* id; payload: bytes, none = EOF */
	GM_PING,
	GM_PINGRESET,		/* arg: now; the guest was paused meanwhile */
	GM_SHUTDOWN,
	GM_RAW,			/* typed console input */
	GM_ATTACH,		/* a person is on the console */
	GM_UNATTACH,		/* ... no longer */
	GM_SYNC,		/* arg: echoed once all before it is done */
	/* child -> parent */
	GM_NOISE = 32,		/* bytes outside frames: the log's */
	GM_WRITE,		/* bytes for the console */
	GM_READY,		/* the agent's hello or first pong */
	GM_OUT,			/* id; flags: 1 stdout, 2 stderr */
	GM_DONE,		/* id; payload: struct gio_result */
	GM_STATE,		/* payload: struct gio_state */
	GM_INACK,		/* id; arg: stdin bytes the agent took */
	GM_SYNCED,		/* arg: the GM_SYNC's */
};

#define GF_VXN		0x01
#define GF_SHELL	0x01
#define GF_STDIN	0x02

struct gio_hdr {
	uint8_t		 type;
	uint8_t		 flags;
	uint16_t	 zero;
	uint32_t	 con;		/* the parent's number for a console */
	uint32_t	 id;		/* a command's, where it has one */
	uint32_t	 len;		/* of the payload */
	uint64_t	 arg;
};

#define GIO_ERROR_MAX	256
#define GIO_AGENT_MAX	64

/* a command's end (struct chan_result, fixed layout) */
struct gio_result {
	uint8_t		 ran, timed_out, cancelled, has_guest_time;
	int32_t		 code, signal;
	uint32_t	 spawn_us, run_us, tail_us;
	uint64_t	 stdin_full_ms;
	char		 error[GIO_ERROR_MAX];	/* NUL-terminated */
};

/* what the parent shows of a channel: after each change */
struct gio_state {
	uint8_t		 ready;
	uint8_t		 pad[3];
	uint32_t	 wq_len;	/* queued in the child for the console */
	uint64_t	 ping_sent, last_pong;
	uint64_t	 bytes_in, bytes_out, frames_in, frames_out;
	uint64_t	 resent_seen, dropped, crc_errors;
	char		 agent[GIO_AGENT_MAX];	/* NUL-terminated */
};

#define GIO_NOISE_MAX	(2 * 16384)	/* a read and what was held */
#define GIO_PAYLOAD_MAX	GIO_NOISE_MAX
#define GIO_MSG_MAX	(sizeof(struct gio_hdr) + GIO_PAYLOAD_MAX)
#define GIO_MAX_CONS	1024		/* consoles the child keeps */

struct gio_msg {
	struct gio_hdr	 h;
	const uint8_t	*data;		/* h.len bytes */
};

/* a datagram of n bytes checked against its type's rules; 0, or -1 with
 * why. from_child: only the types a child sends (and the reverse) */
int	 gio_msg_check(const uint8_t *, size_t n, int from_child,
	    struct gio_msg *, char *why, size_t whysz);
/* header and payload into out (GIO_MSG_MAX); the datagram's length */
size_t	 gio_msg_encode(uint8_t *out, uint8_t type, uint8_t flags,
	    uint32_t con, uint32_t id, uint64_t arg, const void *, size_t);

#endif
