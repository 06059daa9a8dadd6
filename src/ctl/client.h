/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_CTL_CLIENT_H
#define DOMUD_CTL_CLIENT_H

/* domuctl's side of the connection: connecting, a request and its reply,
 * and the commands that hold the connection open (exec, cp, console,
 * start --wait, logs -f), one file each beside main (domuctl.c). */
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"

/* Ctrl-C (and SIGTERM) during exec: how many */
extern volatile sig_atomic_t ctl_interrupted;

/* client.c */
/* ms until the monotonic deadline, 0 once it passed */
int	ctl_ms_left(uint64_t deadline);
/* the admin socket, else the read-only one: the fd, or -1 and *exitcode */
int	ctl_connect(const char *run_dir, int *exitcode);
void	ctl_on_sigint(int);
/* an event line: 1, with its output bytes (malloc'd, *n of them, NULL if
 * none) and which of the guest's streams they are from; 0 if the line is
 * a reply, not an event */
int	ctl_event_bytes(const char *line, uint8_t **bin, long *n, int *fd);
/* an output event: its bytes to our stdout or stderr; 1 if it was one */
int	ctl_exec_event(const struct ctl_opts *, const char *line);
/* the request out, the first reply line in (*reply, *off bytes read, cap
 * its size); CTL_EXIT_OK, or how it failed. A deadline of UINT64_MAX is
 * none. */
int	ctl_request_reply(int fd, const struct ctl_opts *, uint64_t deadline,
	    char **reply, size_t *off, size_t *cap);
/* the same with nfds descriptors sent with the request (SCM_RIGHTS) */
int	ctl_request_reply_fds(int fd, const struct ctl_opts *, const int *fds,
	    int nfds, uint64_t deadline, char **reply, size_t *off,
	    size_t *cap);
/* logs -f, events -f: what follows the first reply, until domud goes */
int	ctl_follow(int fd, const struct ctl_opts *, char *buf, size_t have,
	    size_t cap);

/* exec.c */
int	ctl_run_exec(int fd, const struct ctl_opts *);
int	ctl_run_batch(int fd, struct ctl_opts *);
/* cp.c */
int	ctl_run_cp(int fd, const struct ctl_opts *);
/* console.c */
int	ctl_run_console(int fd, const struct ctl_opts *);
/* wait.c */
int	ctl_run_wait(int fd, const struct ctl_opts *, uint64_t deadline);

/* the lines that come on a connection, one at a time */
struct ctl_lines {
	int	 fd;
	char	*buf;
	size_t	 have;	/* bytes in buf */
	size_t	 cap;	/* its size */
	size_t	 used;	/* the line returned last, with its newline */
};
/* events -f of the request's service on a connection of its own (before
 * a request whose events must not be missed): CTL_EXIT_OK with *ev, or
 * how it failed (said) */
int	ctl_events_follow(const struct ctl_opts *, uint64_t deadline,
	    struct ctl_lines *ev);
/* the next line, NUL-terminated in ev's buf until the next call:
 * CTL_EXIT_OK with *line, CTL_EXIT_TIMEOUT at the deadline,
 * CTL_EXIT_NODAEMON when domud went away */
int	ctl_next_line(struct ctl_lines *, uint64_t deadline, char **line);
void	ctl_lines_close(struct ctl_lines *);

/* update.c: update stage, switch, apply and wait */
int	ctl_run_update(int fd, const struct ctl_opts *, uint64_t deadline);
/* update-stage: the files opened and sent with the request, the first
 * reply line in (as ctl_request_reply); how it failed is said */
int	ctl_update_stage(int fd, const struct ctl_opts *, uint64_t deadline,
	    char **reply, size_t *off, size_t *cap);

#endif
