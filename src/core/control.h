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
#include "proto/proto.h"
#include "service.h"

#define CONTROL_MAX_CONNS	64
#define CONTROL_ADMIN_RESERVE	8	/* slots readers cannot take */
#define CONTROL_PER_UID		16	/* connections of one user (not root) */
#define CONTROL_BACKLOG		128
#define CONTROL_ACCEPT_BATCH	32	/* accepts per loop round */
#define CONTROL_OUT_BUDGET	PROTO_REPLY_MAX	/* queued output: no more
						 * requests read past it */
#define CONTROL_CHECK_MS	5000	/* net --check by readers: how often */
#define CONTROL_LINES_PER_ROUND	4	/* a pipelining client's lines answered
					 * in one loop round: the rest next */
#define CONTROL_COSTLY_MS	250	/* a reader uid's costly reads (one
					 * service's status, cpupools): one
					 * per this, the next waits */
#define CONTROL_COSTLY_UIDS	16
#define CONTROL_IDLE_MS		30000

struct control;
struct control_conn;

/* a verb of the protocol: the reply, or NULL when a job answers later */
typedef char *control_handler(struct control *, const struct request *,
    struct service *, size_t *outlen);

/*
 * What control.c needs of the layer above it, which it never calls by
 * name: the verb table, and what a connection has in flight (jobs.c's
 * requests answered later). verbs.c registers them before control_listen
 * (verbs_setup); each may be NULL.
 */
struct control_hooks {
	control_handler *const	*verbs;		/* [PV__N]: proto verb ->
						 * handler; NULL: none */
	/* the connection has something in flight: it is not idle */
	int	(*busy)(const struct control_conn *);
	/* ... something with a deadline: poll wakes within a second */
	int	(*waiting)(const struct control_conn *);
	/* each loop round, before poll: the answers that came, deadlines */
	void	(*tick)(struct control *, struct control_conn *, uint64_t now);
	/* may this line go now? 0: read no more of the connection until
	 * there is room (asked again each round) */
	int	(*may_pass)(struct control *, struct control_conn *,
		    const char *line, size_t len);
	/* the connection goes: what it has in flight, and its up */
	void	(*gone)(struct control *, struct control_conn *);
	/* control_close, its connections gone: what the layer above keeps */
	void	(*close)(struct control *);
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
	void			*up;		/* the layer above's (jobs.c),
						 * ended by hooks->gone */
	int			 stdin_wait;	/* a stdin line waits for room */
	int			 more;		/* complete lines wait for the
						 * next round ... */
	uint64_t		 more_at;	/* ... from then (mono ms) */
	int			 out_wait;	/* lines wait: output over budget */
	/* descriptors that came with a line (SCM_RIGHTS, admins only): they
	 * belong to the line that holds byte fds_at of in[]; what its verb
	 * does not take is closed after it */
	int			 fds[PROTO_FDS_MAX];
	int			 nfds;
	size_t			 fds_at;
	int			 fds_lost;	/* more came than fit: refused */
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
	const struct control_hooks *hooks;	/* the layer above */
	void			*up;		/* its own (jobs.c), ended by
						 * hooks->close */
	int			 spare_fd;	/* given up to refuse at EMFILE */
	int			 fds_warned;
	uint64_t		 last_check;	/* net --check by a reader */
	struct {
		uid_t		 uid;
		uint64_t	 at;		/* mono ms; 0: free */
	}			 costly[CONTROL_COSTLY_UIDS];	/* readers' */
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

/* the descriptors that came with the request being dispatched, taken
 * (the caller closes them): how many, or -1 when some were lost (more
 * than PROTO_FDS_MAX, or a truncated message); 0 when none came */
int	 control_take_fds(struct control *, int *fds, int max);

/* a reply line (malloc'd, taken) to the connection's output; NULL cc (a
 * job whose client left) drops it */
void	 control_queue(struct control_conn *, char *reply, size_t len);

#endif
