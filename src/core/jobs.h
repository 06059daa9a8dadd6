/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_JOBS_H
#define DOMUD_JOBS_H

/* Requests answered later, per connection (jobs.c). */
#include "control.h"
#include "events.h"

control_handler	 jobs_exec, jobs_cancel, jobs_stdin, jobs_console, jobs_input,
		 jobs_agent_ping;
/* hand a command to the service's agent; -1 with msg when it cannot be */
int		 jobs_exec_start(struct control_job *, struct service *,
		    const struct request *, char *msg, size_t msgsz);
/* how a command ended: service, exit, signal, timed_out, cancelled */
void		 jobs_gen_result(yajl_gen, const char *svc,
		    const struct chan_result *);
/* each loop round: pongs and unanswered pings, execs waiting for a start */
void		 jobs_pings(struct control *, struct control_conn *, uint64_t now);
void		 jobs_pending(struct control *, struct control_conn *,
		    uint64_t now);
/* may this line (a stdin request) go now? 0: wait for room */
int		 jobs_stdin_may_pass(struct control *, struct control_conn *,
		    const char *line, size_t len);
/* logs -f and attached consoles: what a guest wrote */
void		 jobs_log_tap(void *, const char *svc, const char *, size_t);
/* events -f: each new event to the connections that follow them */
void		 jobs_event_tap(void *, const struct event *);
/* 1 when the connection has a job; 1 when one has a deadline */
int		 jobs_busy(const struct control_conn *);
int		 jobs_waiting(const struct control_conn *);

#endif
