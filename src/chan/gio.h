/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_GIO_H
#define DOMUD_GIO_H

/*
 * Guest I/O: the memres channels (frames, the agent's text, vxn's markers)
 * are parsed in a process of their own, domud's binary run as `domud
 * --guest-io`, without root, descriptors or most system calls
 * (gio_child.c). The parent keeps the console PTYs and the logs and moves
 * their bytes without reading them: what the guest writes goes to the
 * child as it is, what is not a frame comes back for the log, commands
 * and their output go through typed messages (giomsg.h).
 *
 * A `struct gio_chan` is the parent's side of one console's channel: the
 * calls below are those of channel.h, and what the child last said of the
 * channel is kept for status and metrics. If the child dies, its commands
 * in flight fail saying so, it is started again and every channel is
 * opened again on the same consoles; no guest notices beyond a ping.
 */
#include <sys/types.h>

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "channel.h"
#include "giomsg.h"

struct gio;

struct gio_chan_ops {
	void	(*noise)(void *, const uint8_t *, size_t);	/* the log's */
	void	(*ready)(void *);
};

struct gio_xmirror {
	uint32_t		 id;		/* 0 = free */
	struct chan_exec_cb	 cb;
	int			 has_stdin;
	uint32_t		 in_sent, in_acked;
};

struct gio_chan {
	struct gio		*g;
	uint32_t		 con;		/* its number in the messages */
	int			 vxn;
	int			 attached;	/* a person on the console */
	struct gio_chan_ops	 ops;
	void			*arg;
	/* towards the console: the child's bytes, at most CHAN_WQ_MAX */
	uint8_t			*out;
	size_t			 outlen;
	uint32_t		 wq_len;	/* the child's own queue */
	struct gio_xmirror	 execs[CHAN_MAX_EXECS];
	uint32_t		 next_id;
	/* as the child last said */
	int			 ready;
	char			 agent[GIO_AGENT_MAX];
	uint64_t		 ping_sent, last_pong;
	uint64_t		 bytes_in, bytes_out, frames_in, frames_out;
	uint64_t		 resent_seen, dropped, crc_errors;
	uint64_t		 ping_id;	/* pings asked of it */
};

/* helper: the binary to run (/proc/self/exe in domud), once the first
 * channel is opened (no memres service, no process); inline: no
 * process, the same code and messages in this one (domud -I: the split's
 * cost measured against it, and the fuzzer) */
struct gio	*gio_new(const char *helper, int inline_mode);
void		 gio_free(struct gio *);
/* its process: pid, restarts (for status), 0 if it is not running */
pid_t		 gio_pid(const struct gio *, uint64_t *restarts);
/* the loop: its socket, and a restart's timer */
void		 gio_before_poll(struct gio *, struct pollfd *, int *nfds,
		    int max, int *timeout_ms);
/* messages in, callbacks run, messages out; also once per round */
void		 gio_after_poll(struct gio *, const struct pollfd *, int nfds);
/* send what is queued (after a round's console input) */
void		 gio_flush(struct gio *);
/* wait (at most timeout_ms) until the child has done all that was sent
 * before for this channel, and what it said of it has been handled
 * (callbacks run): for tests and tools, never in the daemon's loop */
int		 gio_sync(struct gio_chan *, int timeout_ms);
/* the same, acting only on its noise (the log's), the rest kept for the
 * next round: the log is whole before it is read; callbacks do not run */
int		 gio_drain(struct gio_chan *, int timeout_ms);

/* NULL past GIO_MAX_CONS channels */
struct gio_chan	*gio_open(struct gio *, int vxn, const struct gio_chan_ops *,
		    void *arg);
/* its commands end with why (callbacks run), its last noise is logged
 * (gio_drain), the child forgets it */
void		 gio_close(struct gio_chan *, const char *why);
/* the child can take a console read now */
int		 gio_can_input(const struct gio_chan *);
void		 gio_input(struct gio_chan *, const uint8_t *, size_t);
size_t		 gio_pending(const struct gio_chan *, const uint8_t **);
void		 gio_written(struct gio_chan *, size_t);

/* as chan_* in channel.h */
int		 gio_exec(struct gio_chan *, char *const argv[], int shell,
		    uint32_t timeout_ms, const struct chan_exec_cb *,
		    uint32_t *id, char *why, size_t whysz);
void		 gio_cancel(struct gio_chan *, uint32_t id);
void		 gio_give_up_at(struct gio_chan *, uint32_t id, uint64_t at);
size_t		 gio_stdin_room(struct gio_chan *, uint32_t id);
int		 gio_stdin(struct gio_chan *, uint32_t id, const uint8_t *,
		    size_t);
void		 gio_detach(struct gio_chan *, uint32_t id);
int		 gio_ping(struct gio_chan *, uint64_t now);
/* a paused guest's silence is not the agent's: its ping counts from now */
void		 gio_ping_reset(struct gio_chan *, uint64_t now);
int		 gio_shutdown(struct gio_chan *);
int		 gio_raw(struct gio_chan *, const uint8_t *, size_t);
int		 gio_console_attach(struct gio_chan *);
int		 gio_console_detach(struct gio_chan *);
void		 gio_abort(struct gio_chan *, const char *why);
int		 gio_busy(const struct gio_chan *);

/* a datagram as if from the child, acted on at the next round (fuzzing) */
void		 gio_inject(struct gio *, const uint8_t *, size_t);
/* gio_child.c run inline: its messages go to out; one datagram in; its
 * timers (the next deadline, 0 = none); its channels closed */
void		 gio_inline_start(void (*out)(void *, const uint8_t *, size_t),
		    void *);
int		 gio_inline_input(const uint8_t *, size_t);
uint64_t	 gio_inline_round(void);
void		 gio_inline_stop(void);

/* the child: `domud --guest-io` with the socket on descriptor 3 */
int		 gio_child_main(void);
/* the child's sandbox tried from inside (tests): each refused call's
 * errno written to fd 3 as "open=1 kill=1 ..."; 0 if it could be set */
int		 gio_child_selftest(void);

#endif
