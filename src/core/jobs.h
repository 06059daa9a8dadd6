/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_JOBS_H
#define DOMUD_JOBS_H

/*
 * Requests answered later, per connection (jobs.c), above control.c: the
 * connection's in-flight state (control_conn.up) and the jobs kept after
 * their client left (control.up) are jobs.c's; control.c sees them only
 * through its hooks (struct control_hooks), which verbs.c points at the
 * functions at the end of this file.
 */
#include "chan/gio.h"
#include "control.h"
#include "events.h"

#define JOBS_PER_CONN		16	/* execs and pings per connection */
#define JOBS_KEPT		16	/* jobs kept after their client left
					 * (runs, until their disk is gone) */
#define JOBS_OUT_MAX		(8 * 1024 * 1024)	/* unread output */
/* what a follower (logs -f, events -f, an attached console) may leave
 * unread on its connection, besides one reply, before it is dropped
 * ("lagging, dropped"): an admin's, a reader's; and in all, over every
 * connection, beyond which each keeps no more than a fair share */
#define JOBS_FOLLOW_ADMIN	(1024 * 1024)
#define JOBS_FOLLOW_READER	(256 * 1024)
#define JOBS_FOLLOW_TOTAL	(16 * 1024 * 1024)
#define JOBS_FOLLOW_FAIR	(64 * 1024)
#define JOBS_PING_MS		10000
#define JOBS_WAKE_MS		300000	/* exec: an idle DomU's start */

struct job;

/* a job of a layer above (a run, rundisk.c): what jobs.c leaves to it */
struct job_owner {
	/* its command ended: this, instead of the exec's reply */
	void	(*exec_done)(struct job *, const struct chan_result *);
	/* its client left: 1 when it keeps the job (jobs_keep) */
	int	(*leave)(struct job *);
	/* the job ends: what the owner holds */
	void	(*end)(struct job *);
};

/* an exec or an agent ping whose answer comes later */
struct job {
	struct control		*c;
	struct control_conn	*cc;		/* NULL: kept, its client left */
	char			 svc[SERVICE_NAME_MAX + 1];
	int			 is_ping;
	int			 is_follow;	/* logs -f */
	int			 is_events;	/* events -f; svc "" = all */
	int			 is_console;	/* attached: raw output, input */
	const struct job_owner	*owner;		/* NULL: jobs.c's own */
	void			*owner_data;
	struct request		*pending;	/* exec waiting for ready */
	int			 stdin_open;	/* exec: takes "stdin" requests */
	uint64_t		 pending_until;
	int			 raw;
	uint32_t		 chan_id;	/* exec */
	uint64_t		 sent;		/* ping */
	uint64_t		 sent_us;	/* exec: handed to the agent */
	int64_t			 req_id;
	int			 has_id;
};

control_handler	 jobs_exec, jobs_cancel, jobs_stdin, jobs_console, jobs_input,
		 jobs_agent_ping;
/* a job for the connection whose request is dispatched; NULL with msg */
struct job	*jobs_new(struct control *, const struct request *,
		    const char *svc, char *msg, size_t msgsz);
void		 jobs_end(struct job *);
/* its client left: keep the job to its end, answered to nobody; -1 when
 * JOBS_KEPT are kept already */
int		 jobs_keep(struct job *);
/* every job, of a connection or kept; *pos from 0; NULL at the end */
struct job	*jobs_next(struct control *, int *pos);
/* hand a command to the service's agent; -1 with msg when it cannot be */
int		 jobs_exec_start(struct job *, struct service *,
		    const struct request *, char *msg, size_t msgsz);
/* how a command ended: service, exit, signal, timed_out, cancelled */
void		 jobs_gen_result(yajl_gen, const char *svc,
		    const struct chan_result *);
/* logs -f and attached consoles: what a guest wrote */
void		 jobs_log_tap(void *, const char *svc, const char *, size_t);
/* events -f: each new event to the connections that follow them */
void		 jobs_event_tap(void *, const struct event *);

/* control.c's hooks (struct control_hooks) */
int		 jobs_busy(const struct control_conn *);
int		 jobs_waiting(const struct control_conn *);
void		 jobs_tick(struct control *, struct control_conn *,
		    uint64_t now);
int		 jobs_stdin_may_pass(struct control *, struct control_conn *,
		    const char *line, size_t len);
void		 jobs_conn_gone(struct control *, struct control_conn *);
void		 jobs_close(struct control *);

#endif
