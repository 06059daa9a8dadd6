/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_AGENT_H
#define DOMUD_AGENT_H

/*
 * domud-agent's parts: the frames it sends (send.c), the commands it runs
 * (cmd.c), the console shell (csh.c), the network settings it applies
 * (net.c); main and the loop in domud-agent.c.
 */
#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "request.h"

#define AGENT_CMDS_MAX	32	/* commands at once */

/* domud-agent.c */
extern int	 agent_con;		/* the console: the channel */
uint64_t	 agent_now_us(void);
uint64_t	 agent_now_ms(void);
/* with -v, a line in the kernel log: the console is the channel */
void		 agent_say(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

/* send.c: frames to domud, each kept in a window until acknowledged */
/* a frame out; one that finds the window full waits in a backlog */
void	agent_send(uint8_t type, uint8_t flags, uint32_t id, const void *,
	    size_t);
/* an FT_ERROR with a printf message */
void	agent_send_error(uint32_t id, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	agent_window_full(void);
void	agent_on_ack(uint32_t next_seq);
void	agent_hello(void);
/* the window's resend timer at now: the next deadline, 0 for none */
uint64_t agent_send_timer(uint64_t now);
/* bytes as they are (the console shell's output), between frames */
int	wq_add(const uint8_t *, size_t);
void	wq_flush(void);
size_t	wq_pending(void);
size_t	wq_room(void);

/* cmd.c: the commands domud asks for */
/* which signals a child must get back to their default (once) */
void	cmd_signals_init(void);
/* in a child: every signal at its default, none blocked */
void	cmd_child_signals(void);
void	cmd_init(void);
void	cmd_exec(void *arg, const struct agent_exec *);
void	cmd_stdin(void *arg, uint32_t id, const uint8_t *, size_t);
void	cmd_cancel(uint32_t id);
/* timeouts at now; each command's fds into pfd from n on (*next: the
 * nearest deadline); the new n */
int	cmd_poll(struct pollfd *pfd, int n, uint64_t now, uint64_t *next);
/* each command's stdin fed, its output and exit sent */
void	cmd_run(void);
/* SIGCHLD: the children that ended */
void	cmd_reap(void);

/* csh.c: the console shell, what a person types in `domuctl console` */
void	csh_attach(void);
void	csh_hangup(void);
/* bytes from domud outside frames */
void	csh_noise(void *arg, const uint8_t *, size_t);
int	csh_poll(struct pollfd *pfd, int n);
void	csh_feed(void);
void	csh_pump(void);

/* net.c */
/* read domud/net/{ip,gateway} from xenstore, else domud.ip= / domud.gw=
 * from the kernel command line; 0 and filled, or -1 when there are none */
int	agent_net_settings(char *ip, size_t ipsz, char *gw, size_t gwsz,
	    const char **source);
/* ADDR/PREFIX on ifname, up, default route via gw; -1 with errno */
int	agent_net_apply(const char *ifname, const char *ip, const char *gw);

#endif
