/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_CHANNEL_H
#define DOMUD_CHANNEL_H

/*
 * domud's side of a memres DomU's channel (docs/channel.md): frames in
 * from the console PTY (everything else goes on to the console log), frames
 * out through a bounded queue. Commands in flight are identified by a
 * request id; their output and end are reported through callbacks. No I/O
 * here: the console capture reads and writes, so that this module can be
 * tested against domud-agent over any PTY.
 */
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define CHAN_MAX_EXECS		64
#define CHAN_REORDER		16	/* frames kept ahead of a gap (the
					 * agent's window) */
#define CHAN_WQ_MAX		(64 * 1024)
#define CHAN_ARGS_MAX		(FRAME_PAYLOAD_MAX - 4)
#define CHAN_GRACE_MS		10000	/* after the agent's own timeout */
#define CHAN_HOLD_MS		1000	/* a frame's end is waited for */
/* unacknowledged stdin bytes: more than the console carries while
 * xenconsoled, rate-limiting the guest's events (30 per 200 ms), leaves
 * the agent's acks unread; 16 KiB ran at half the console's speed */
#define CHAN_STDIN_WINDOW	(64 * 1024)
#define CHAN_STDIN_QUEUED	4096	/* stdin queued here beyond the PTY */
#define CHAN_EXEC_STDIN		0x100	/* chan_exec flag: stdin from us */

struct chan_result {
	int		 ran;		/* 0: did not start (see error) */
	int		 code;		/* exit code, -1 if killed */
	int		 signal;
	int		 timed_out;
	int		 cancelled;
	char		 error[256];	/* neutralised: one line, UTF-8 */
	/* the agent's side, when it says (µs): EXEC received to exec done,
	 * to reaped, to the EXIT frame */
	int		 has_guest_time;
	uint32_t	 spawn_us, run_us, tail_us;
	uint64_t	 stdin_full_ms;	/* stdin waited on the guest's acks */
};

struct chan_exec_cb {
	void	(*out)(void *ctx, int fd, const uint8_t *, size_t);
	void	(*done)(void *ctx, const struct chan_result *);
	void	*ctx;
};

struct chan_exec {
	uint32_t		 id;		/* 0 = free */
	struct chan_exec_cb	 cb;
	uint64_t		 deadline;	/* ours: the agent's + grace */
	int			 cancel_sent;
	int			 has_stdin;
	uint32_t		 in_sent, in_acked;	/* stdin bytes */
	/* how long stdin waited on the guest: its window full */
	uint64_t		 in_full_since, in_full_ms;
};

/* vxn compatibility: meta-virtualization's guests speak text markers */
#define VXN_LINE_MAX		4096
#define VXN_QUEUE		16

struct vxn_cmd {
	uint32_t		 id;
	char			*line;		/* base64 of the shell command */
	uint32_t		 timeout_ms;
};

struct channel {
	int			 vxn;		/* legacy markers, not frames */
	struct {
		char		 line[VXN_LINE_MAX];
		size_t		 len;
		int		 overlong;	/* dropping the rest of a line */
		int		 in_output;
		int		 exit_code;
		uint32_t	 current;	/* exec id in the guest, 0 = none */
		struct vxn_cmd	 queue[VXN_QUEUE];
		size_t		 nqueue;
	}			 vx;
	struct frame_parser	 parser;
	uint64_t		 held_pos;	/* the frame it waits for the end */
	uint64_t		 held_since;	/* of, since (monotonic ms) */
	int			 synced;	/* expect is known */
	uint32_t		 expect;	/* next seq from the agent */
	int			 ack_due;
	int			 console;	/* attached: typed input goes on */
	int			 console_due;	/* the agent is still to be told */
	int			 ready;		/* hello or pong seen */
	char			 agent[64];	/* its hello text, neutralised */
	uint32_t		 hello_crc;	/* of the raw hello: a resend */
	uint16_t		 hello_len;	/* has the same */
	uint64_t		 last_heard;	/* monotonic ms */
	uint64_t		 ping_sent;	/* 0 = none outstanding */
	uint64_t		 last_pong;	/* monotonic ms */
	uint32_t		 ping_id;	/* the newest ping's */
	uint32_t		 ping_first;	/* the oldest unanswered one's */
	struct chan_exec	 execs[CHAN_MAX_EXECS];
	uint32_t		 next_id;
	struct {
		int		 used;
		uint32_t	 seq;
		uint8_t		 type, flags;
		uint32_t	 id;
		uint16_t	 len;
		uint8_t		 data[FRAME_PAYLOAD_MAX];
	}			 ahead[CHAN_REORDER];
	uint8_t			 wq[CHAN_WQ_MAX];
	size_t			 wq_len;
	uint64_t		 frames_in, dropped, resent_seen;
	uint64_t		 frames_out, bytes_in, bytes_out; /* the console's
						 * bytes, frames and all */
	void			(*noise)(void *, const uint8_t *, size_t);
	void			(*on_ready)(void *);
	void			*arg;
};

void	 chan_init(struct channel *, void (*noise)(void *, const uint8_t *,
	    size_t), void (*on_ready)(void *), void *arg);
/* speak vxn's legacy markers (one command at a time, no stderr apart,
 * no cancel, no stdin) instead of frames */
void	 chan_set_vxn(struct channel *);
void	 chan_free(struct channel *);
/* bytes read from the console */
void	 chan_input(struct channel *, const uint8_t *, size_t, uint64_t now);
/* what to write to the console; then chan_written() with what was */
size_t	 chan_pending(const struct channel *, const uint8_t **);
void	 chan_written(struct channel *, size_t);
/* argv, each NUL-terminated, into out (at most outsz: CHAN_ARGS_MAX);
 * its length, or 0 with why (empty, too long) */
size_t	 chan_pack_argv(char *const argv[], uint8_t *out, size_t outsz,
	    char *why, size_t whysz);
/* start a command: argv (shell: argv[0] is a script; | CHAN_EXEC_STDIN:
 * its stdin comes through chan_stdin); 0, or -1 with why */
int	 chan_exec(struct channel *, char *const argv[], int shell,
	    uint32_t timeout_ms, const struct chan_exec_cb *, uint32_t *id,
	    char *why, size_t whysz, uint64_t now);
void	 chan_cancel(struct channel *, uint32_t id);
/* given up by then at the latest (mono ms), answered or not: its result
 * then says the agent never ended it */
void	 chan_give_up_at(struct channel *, uint32_t id, uint64_t at);
/* how much stdin the command can take now (its window) */
size_t	 chan_stdin_room(struct channel *, uint32_t id);
/* stdin bytes (at most the room, and a frame's worth); n == 0: EOF */
int	 chan_stdin(struct channel *, uint32_t id, const uint8_t *, size_t n);
/* the same, the window checked but not the queue towards the console:
 * whoever feeds it paces by that queue itself (the guest I/O process's
 * parent holds most of it, and its view lags the child's by a round) */
int	 chan_stdin_paced(struct channel *, uint32_t id, const uint8_t *,
	    size_t n);
/* forget a command's callbacks (its client went away) and cancel it */
void	 chan_detach(struct channel *, uint32_t id);
int	 chan_ping(struct channel *, uint64_t now);
int	 chan_shutdown(struct channel *);
/* console input typed by a person: bytes outside frames, stuffed like
 * frames; the agent hands them to its console shell, but only between an
 * attach and a detach (so stray bytes never reach a root shell). Input
 * attaches first if need be */
int	 chan_raw(struct channel *, const uint8_t *, size_t);
/* a person attached to the console (domuctl console), or the last one
 * left: tell the agent; it is told again whenever it (re)starts */
int	 chan_console_attach(struct channel *);
int	 chan_console_detach(struct channel *);
/* timeouts of ours; returns the next deadline, 0 = none */
uint64_t chan_tick(struct channel *, uint64_t now);
/* the domain is gone: every command ends with this error */
void	 chan_abort(struct channel *, const char *why);
int	 chan_busy(const struct channel *);

#endif
