/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_AGENT_REQUEST_H
#define DOMUD_AGENT_REQUEST_H

/*
 * What domud asks of the agent, decoded and dispatched without touching a
 * process or a file descriptor: the part of the agent that reads input from
 * Dom0, kept apart so that it can be fuzzed (tests/fuzz/fuzz_agent.c).
 */
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define AGENT_ARGV_MAX	256
#define AGENT_STDIN_BUF	(80 * 1024)	/* more than domud's window */
/* stdin written to a command is acknowledged in steps this large: one
 * INACK per frame filled the agent's window of 16 while domud's ACKs
 * waited behind the stdin still on its way (less than domud's window) */
#define AGENT_INACK_EVERY	(16 * 1024)

/* an FT_EXEC request: argv points into buf */
struct agent_exec {
	uint32_t	 id;
	uint32_t	 timeout_ms;	/* 0 = none */
	int		 shell;		/* argv[0] is a /bin/sh -c script */
	int		 want_stdin;	/* stdin is fed by FT_STDIN */
	size_t		 argc;
	char		*argv[AGENT_ARGV_MAX + 1];
	char		 buf[FRAME_PAYLOAD_MAX + 1];
};

/* the agent's answers to each request; arg is the caller's */
struct agent_ops {
	void	(*pong)(void *arg, uint32_t id);
	void	(*exec)(void *arg, const struct agent_exec *);
	/* a request that cannot be run: why, for an FT_ERROR */
	void	(*refuse)(void *arg, uint32_t id, const char *why);
	void	(*cancel)(void *arg, uint32_t id);
	/* n == 0: end of input */
	void	(*stdin_data)(void *arg, uint32_t id, const uint8_t *, size_t n);
	void	(*shutdown)(void *arg);
	void	(*ack)(void *arg, uint32_t next_seq);
	void	(*attach)(void *arg, int on);
};

/* 0 and *x filled, or -1 and *why */
int	agent_exec_decode(const struct frame *, struct agent_exec *x,
	    const char **why);
/* one frame from domud: the matching op, or none for frames of ours
 * echoed back and types from a newer domud */
void	agent_request(const struct frame *, const struct agent_ops *,
	    void *arg);

/* a command's stdin not yet taken by its pipe */
struct agent_inq {
	uint8_t		*buf;		/* AGENT_STDIN_BUF bytes */
	size_t		 len;
};

/* append; -1 when it would not fit (domud's window keeps below it: a
 * broken peer) */
int	agent_inq_add(struct agent_inq *, const uint8_t *, size_t);
/* n bytes were taken from the front */
void	agent_inq_consume(struct agent_inq *, size_t n);

#endif
