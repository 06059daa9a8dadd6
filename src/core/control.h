/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_CONTROL_H
#define DOMUD_CONTROL_H

/*
 * The control sockets. There are two, one per role, as libvirt does: with a
 * single 0660 socket owned by the read group, an admin who is not also in
 * that group could not even connect.
 *   RUN_DIR/domud.sock     group admin_group, everything (still checked)
 *   RUN_DIR/domud-ro.sock  group read_group, read-only verbs whoever calls
 * Each request is authorised again from SO_PEERCRED + SO_PEERGROUPS.
 */
#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "chan/channel.h"
#include "proto/proto.h"
#include "service.h"

#define CONTROL_MAX_CONNS	64
#define CONTROL_ADMIN_RESERVE	8	/* slots readers cannot take */
#define CONTROL_PER_UID		16	/* connections of one user (not root) */
#define CONTROL_BACKLOG		128
#define CONTROL_ACCEPT_BATCH	32	/* accepts per loop round */
#define CONTROL_OUT_BUDGET	PROTO_REPLY_MAX	/* queued output: no more
						 * requests read past it */
#define CONTROL_ORPHANS		16	/* runs whose client left */
#define CONTROL_CHECK_MS	5000	/* net --check by readers: how often */
#define CONTROL_IDLE_MS		30000
#define CONTROL_JOBS		16	/* execs and pings per connection */
#define CONTROL_JOB_OUT_MAX	(8 * 1024 * 1024)	/* unread output */
#define CONTROL_PING_MS		10000
#define CONTROL_WAKE_MS		300000	/* exec: an idle DomU's start */

struct control;
struct control_conn;

/* an exec or an agent ping whose answer comes later */
struct control_job {
	struct control		*c;
	struct control_conn	*cc;
	char			 svc[SERVICE_NAME_MAX + 1];
	int			 is_ping;
	int			 is_follow;	/* logs -f */
	int			 is_events;	/* events -f; svc "" = all */
	int			 is_console;	/* attached: raw output, input */
	int			 run_phase;	/* run: RUN_* */
	uint64_t		 token;		/* run: its disk operations */
	uint32_t		 domid;
	char			 vdev[16];
	int			 loop_fd;	/* run: its image's loop device */
	struct chan_result	 result;	/* run: kept over the detach */
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

struct control_conn {
	int			 fd;
	struct peer		 peer;
	enum auth_role		 sock_role;
	enum auth_role		 role;		/* the peer's, at most the socket's */
	int			 pollidx;	/* in this round's poll set, -1 */
	char			 in[PROTO_REQ_MAX + 1];
	size_t			 inlen;
	int			 discard;	/* skipping an oversized line */
	char			*out;
	size_t			 outlen, outoff;
	int			 close_after;
	uint64_t		 last_ms;
	struct control_job	*jobs[CONTROL_JOBS];
	int			 stdin_wait;	/* a stdin line waits for room */
	int			 out_wait;	/* lines wait: output over budget */
};

/* the main loop's own health, for ping. A stuck loop answers nothing;
 * what shows a stall afterwards is the longest iteration of the last
 * minute or two (this window and the one before) */
struct control_loop {
	uint64_t		 iterations;
	uint64_t		 woke;		/* mono ms: this iteration began */
	uint64_t		 last_busy_ms;	/* the last whole iteration */
	uint64_t		 max_busy_ms;	/* longest in this window */
	uint64_t		 max_prev_ms;	/* ... in the window before */
	uint64_t		 window_start;
};

struct control {
	int			 fd_admin;
	int			 fd_ro;
	char			*path_admin;
	char			*path_ro;
	struct auth_conf	 auth;
	struct supervisor	*sup;
	const char		*conf_path;	/* for reload */
	struct control_conn	*cur;		/* whose request is dispatched */
	const struct peer	*cur_peer;	/* ... and who sent it */
	enum auth_role		 cur_role;	/* ... on which socket */
	struct control_conn	*conns[CONTROL_MAX_CONNS];
	struct control_job	*orphans[CONTROL_ORPHANS];	/* runs whose
						 * client left, until detached */
	int			 spare_fd;	/* given up to refuse at EMFILE */
	int			 fds_warned;
	uint64_t		 last_check;	/* net --check by a reader */
	struct control_loop	 loop;
};

#define CONTROL_LOOP_WINDOW_MS	60000
/* the main loop: poll() returned / the work of this round is done */
void	 control_loop_woke(struct control *, uint64_t now_ms);
void	 control_loop_done(struct control *, uint64_t now_ms);

int	 control_listen(struct control *, const char *run_dir, const char *read_group,
	    const char *admin_group, struct err *);
void	 control_close(struct control *);
void	 control_before_poll(struct control *, struct pollfd *, int *nfds, int max,
	    int *timeout_ms);
void	 control_after_poll(struct control *, struct pollfd *, int nfds);

/* One request line in, one reply line out (malloc'd, with '\n'), or NULL
 * with *outlen 0 when the answer comes later (a job) or needs none. */
char	*control_dispatch(struct control *, const struct peer *,
	    enum auth_role sock_role, const char *line, size_t len, size_t *outlen);
/* Reload from conf_path: on any error keep the old configuration.
 * Returns the checked config's diagnostics through *diags (caller frees
 * the config), 0 if applied. */
int	 control_reload(struct control *, struct config **checked);

/* ---- for the verb handlers (verbs.c, jobs.c, rundisk.c) ---------------- */

/* a verb of the protocol: the reply, or NULL when a job answers later */
typedef char *control_handler(struct control *, const struct request *,
    struct service *, size_t *outlen);

/* ---- verbs.c ---------------------------------------------------------- */
control_handler	 verb_ping, verb_status, verb_logs, verb_net, verb_reload,
		 verb_start, verb_stop, verb_restart, verb_events, verb_metrics,
		 verb_cpupools;

/* a reply line (malloc'd, taken) to the connection's output */
void	 control_queue(struct control_conn *, char *reply, size_t len);
/* a job for the connection whose request is dispatched; NULL with msg */
struct control_job *control_job_new(struct control *, const struct request *,
	    const char *svc, char *msg, size_t msgsz);
void	 control_job_end(struct control_job *);
/* a reply to the job's request, "ok" opened; the caller adds the rest */
yajl_gen control_job_reply(const struct control_job *);

#endif
