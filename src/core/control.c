// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control sockets: listening (one socket per role), connections with
 * bounded input and output, and the dispatch of each request line through
 * the verb table the layer above registered (c->hooks) after the
 * caller's role is checked (auth.c). The verbs themselves are above it:
 * verbs.c answers at once, jobs.c later, rundisk.c runs from a disk.
 * May call: base, auth, proto, the supervisor (find, wake). Never jobs.c,
 * rundisk.c or verbs.c: what a connection has in flight is theirs, asked
 * through the hooks (control.h).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "control.h"

_Static_assert(SERVICE_NAME_MAX == PROTO_NAME_MAX,
    "a service name travels in requests");

/* commands that need the guest to run: exec (cp), run, console, input,
 * and an admin's ping of the agent */
static int
wakes(const struct request *req, enum auth_role role)
{
	switch (req->pcmd->verb) {
	case PV_EXEC:
	case PV_RUN:
	case PV_CONSOLE:
	case PV_INPUT:
		return 1;
	case PV_PING:
		return role == ROLE_ADMIN;
	default:
		return 0;
	}
}

/* a handler for the verb was registered */
static int
has_handler(const struct control *c, enum proto_verb verb)
{
	return c->hooks != NULL && c->hooks->verbs != NULL &&
	    (unsigned)verb < PV__N && c->hooks->verbs[verb] != NULL;
}

char *
control_dispatch(struct control *c, const struct peer *peer,
    enum auth_role sock_role, const char *line, size_t len, size_t *outlen)
{
	struct request req;
	struct service *s = NULL;
	enum proto_errcode rc;
	char msg[512] = "", *out;

	*outlen = 0;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	rc = proto_decode_request(line, len, &req, msg, sizeof(msg));
	if (rc != PE_OK)
		return proto_error_reply(&req, rc, msg, outlen);
	rc = auth_check(peer, &c->auth, sock_role, req.pcmd, msg, sizeof(msg));
	if (rc != PE_OK) {
		log_info("control: denied %s to uid %u: %s", req.cmd,
		    (unsigned)peer->uid, msg);
		return proto_error_reply(&req, rc, msg, outlen);
	}
	if (req.has_service && (s = sup_find(c->sup, req.service)) == NULL) {
		snprintf(msg, sizeof(msg), "no service '%s'", req.service);
		return proto_error_reply(&req, PE_UNKNOWN_SERVICE, msg, outlen);
	}
	/* (not each piece of stdin: a copy sends hundreds; its exec is said) */
	if (req.pcmd->role == PC_ADMIN && req.pcmd->verb != PV_STDIN)
		log_info("control: %s%s%s by uid %u", req.cmd, s ? " " : "",
		    s ? s->conf->name : "", (unsigned)peer->uid);
	if (!has_handler(c, req.pcmd->verb))
		return proto_error_reply(&req, PE_UNKNOWN_COMMAND, "not "
		    "implemented", outlen);
	c->cur_peer = peer;
	c->cur_role = sock_role;
	/* what this request changes is this uid's doing (events) */
	snprintf(c->sup->actor, sizeof(c->sup->actor), "uid %u",
	    (unsigned)peer->uid);
	/* a service paused while idle: an admin's command to it resumes it
	 * first; a reader's never does (readers change nothing) */
	if (s && s->idle.state == IDLE_PAUSED && wakes(&req, auth_role_on(peer, &c->auth, sock_role)))
		(void)svc_wake(s, req.cmd);
	out = c->hooks->verbs[req.pcmd->verb](c, &req, s, outlen);
	c->sup->actor[0] = '\0';
	c->cur_peer = NULL;
	return out;
}

static gid_t
group_gid(const char *name)
{
	struct group *gr = getgrnam(name);

	return gr ? gr->gr_gid : (gid_t)-1;
}

static int
listen_one(const char *path, gid_t gid, struct err *e)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy_(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return err_set(e, ENAMETOOLONG, "%s: path too long", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return err_set(e, errno, "socket: %s", strerror(errno));
	/* the lock file guarantees nobody else serves this socket */
	(void)unlink(path);
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		err_set(e, errno, "bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	/* without the group only root can connect: 0600 */
	if (gid != (gid_t)-1 && (chown(path, 0, gid) == -1 ||
	    chmod(path, 0660) == -1))
		log_warn("%s: group access", path);
	if (listen(fd, CONTROL_BACKLOG) == -1) {
		err_set(e, errno, "listen %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
control_listen(struct control *c, const char *run_dir, const char *read_group,
    const char *admin_group, struct err *e)
{
	c->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	c->fd_admin = c->fd_ro = -1;
	c->auth.read_gid = group_gid(read_group);
	c->auth.admin_gid = group_gid(admin_group);
	if (c->auth.read_gid == (gid_t)-1)
		log_warnx("group %s does not exist: read-only access is root's "
		    "only", read_group);
	if (c->auth.admin_gid == (gid_t)-1)
		log_warnx("group %s does not exist: admin access is root's only",
		    admin_group);
	if (asprintf(&c->path_admin, "%s/%s", run_dir, PROTO_SOCK) < 0 ||
	    asprintf(&c->path_ro, "%s/%s", run_dir, PROTO_SOCK_RO) < 0)
		fatal("asprintf");
	if ((c->fd_admin = listen_one(c->path_admin, c->auth.admin_gid, e)) == -1 ||
	    (c->fd_ro = listen_one(c->path_ro, c->auth.read_gid, e)) == -1) {
		control_close(c);
		return -1;
	}
	return 0;
}

static void
conn_fds_drop(struct control_conn *cc)
{
	while (cc->nfds > 0)
		close(cc->fds[--cc->nfds]);
	cc->fds_lost = 0;
}

int
control_take_fds(struct control *c, int *fds, int max)
{
	struct control_conn *cc = c->cur;
	int n;

	if (cc == NULL || cc->fds_at >= PROTO_REQ_MAX)
		return 0;	/* none came with this line */
	if (cc->fds_lost || cc->nfds > max) {
		conn_fds_drop(cc);
		return -1;
	}
	n = cc->nfds;
	memcpy(fds, cc->fds, (size_t)n * sizeof(int));
	cc->nfds = 0;
	return n;
}

static void
conn_free(struct control *c, int i)
{
	struct control_conn *cc = c->conns[i];

	/* what it has in flight is the layer above's to end */
	if (c->hooks && c->hooks->gone)
		c->hooks->gone(c, cc);
	conn_fds_drop(cc);
	close(cc->fd);
	free(cc->out);
	free(cc);
	c->conns[i] = NULL;
}

void
control_close(struct control *c)
{
	int i;

	for (i = 0; i < CONTROL_MAX_CONNS; i++)
		if (c->conns[i])
			conn_free(c, i);
	/* what the layer above kept past its connections (runs) */
	if (c->hooks && c->hooks->close)
		c->hooks->close(c);
	if (c->spare_fd > 0)
		close(c->spare_fd);
	c->spare_fd = -1;
	if (c->fd_admin != -1) {
		close(c->fd_admin);
		unlink(c->path_admin);
	}
	if (c->fd_ro != -1) {
		close(c->fd_ro);
		unlink(c->path_ro);
	}
	c->fd_admin = c->fd_ro = -1;
	free(c->path_admin);
	free(c->path_ro);
	c->path_admin = c->path_ro = NULL;
}

/* a client we do not take: told so, never just closed */
static void
refuse(int fd, const char *why)
{
	struct request none;
	size_t len;
	char *line;

	memset(&none, 0, sizeof(none));
	line = proto_error_reply(&none, PE_BUSY, why, &len);
	(void)!write(fd, line, len);	/* best effort: non-blocking */
	free(line);
	close(fd);
}

/* nothing in flight, nothing read or to write: it only holds a slot */
static int
conn_idle(const struct control *c, const struct control_conn *cc)
{
	if (c->hooks && c->hooks->busy && c->hooks->busy(cc))
		return 0;
	return cc->inlen == 0 && cc->outoff == cc->outlen;
}

/* room for one more of this peer? -1, or the free slot; an admin takes
 * the slot of the oldest idle connection when there is no other */
static int
conn_slot(struct control *c, const struct peer *peer, enum auth_role role,
    const char **why)
{
	int i, free_slot = -1, total = 0, readers = 0, same_uid = 0, oldest = -1;

	for (i = 0; i < CONTROL_MAX_CONNS; i++) {
		struct control_conn *cc = c->conns[i];

		if (cc == NULL) {
			if (free_slot == -1)
				free_slot = i;
			continue;
		}
		total++;
		if (cc->role != ROLE_ADMIN)
			readers++;
		if (cc->peer.uid == peer->uid)
			same_uid++;
		if (conn_idle(c, cc) && (oldest == -1 ||
		    cc->last_ms < c->conns[oldest]->last_ms))
			oldest = i;
	}
	if (peer->uid != 0 && same_uid >= CONTROL_PER_UID) {
		*why = "too many connections of this user";
		return -1;
	}
	if (role != ROLE_ADMIN && readers >= CONTROL_MAX_CONNS -
	    CONTROL_ADMIN_RESERVE) {
		*why = "too many clients; the rest is kept for admins";
		return -1;
	}
	if (free_slot != -1)
		return free_slot;
	if (role == ROLE_ADMIN && oldest != -1) {
		/* shed the oldest idle connection for the admin */
		refuse(c->conns[oldest]->fd, "idle for too long: an admin "
		    "needed the slot");
		c->conns[oldest]->fd = -1;
		conn_free(c, oldest);
		return oldest;
	}
	*why = "too many clients";
	return -1;
}

/* take what waits on a listening socket, a bounded number per round */
static void
conn_accept(struct control *c, int lfd, enum auth_role sock_role)
{
	struct control_conn *cc;
	enum auth_role role;
	struct peer peer;
	const char *why;
	int fd, i, n;

	for (n = 0; n < CONTROL_ACCEPT_BATCH; n++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1 && (errno == EMFILE || errno == ENFILE) &&
		    c->spare_fd > 0) {
			/* out of fds: the spare one lets us say so, instead of
			 * poll() waking us for this client again and again */
			close(c->spare_fd);
			fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
			    SOCK_CLOEXEC);
			if (fd != -1)
				refuse(fd, "domud is out of file descriptors");
			c->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (!c->fds_warned)
				log_warnx("control: out of file descriptors; "
				    "refusing clients");
			c->fds_warned = 1;
			continue;
		}
		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		if (auth_peer_from_fd(fd, &peer) == -1) {
			log_warn("control: peer credentials");
			close(fd);
			continue;
		}
		role = auth_role(&peer, &c->auth);
		if (role > sock_role)
			role = sock_role;
		if ((i = conn_slot(c, &peer, role, &why)) == -1) {
			refuse(fd, why);
			continue;
		}
		cc = xcalloc(1, sizeof(*cc));
		cc->fd = fd;
		cc->peer = peer;
		cc->sock_role = sock_role;
		cc->role = role;
		cc->pollidx = -1;	/* not in this round's poll set */
		cc->last_ms = mono_ms();
		c->conns[i] = cc;
	}
}

void
control_queue(struct control_conn *cc, char *reply, size_t len)
{
	size_t pending;
	char *n;

	if (reply == NULL)
		return;
	if (cc == NULL) {	/* its client left (an orphaned run) */
		free(reply);
		return;
	}
	/* what was written goes first: the buffer may then shrink to fit */
	pending = cc->outlen - cc->outoff;
	if (cc->outoff) {
		memmove(cc->out, cc->out + cc->outoff, pending);
		cc->outlen = pending;
		cc->outoff = 0;
	}
	if ((n = realloc(cc->out, pending + len)) == NULL)
		fatal("realloc");
	memcpy(n + cc->outlen, reply, len);
	cc->outlen += len;
	cc->out = n;
	free(reply);
}

/*
 * What costs Xen and the loop a look at devices and placement (one
 * service's status, cpupools) waits, for a reader's uid, until
 * CONTROL_COSTLY_MS after its last: readers pipelining it cannot stall
 * admins, and one user's pace leaves other users theirs. The ms to wait,
 * or 0: it goes now (and counts).
 */
static uint64_t
costly_wait(struct control *c, struct control_conn *cc, const char *line,
    size_t len)
{
	struct request req;
	uint64_t now = mono_ms();
	char msg[8];
	int i, slot = 0;

	if (auth_role_on(&cc->peer, &c->auth, cc->sock_role) == ROLE_ADMIN ||
	    proto_decode_request(line, len - 1, &req, msg, sizeof(msg)) !=
	    PE_OK || !((req.pcmd->verb == PV_STATUS && req.has_service) ||
	    req.pcmd->verb == PV_CPUPOOLS))
		return 0;
	for (i = 0; i < CONTROL_COSTLY_UIDS; i++) {
		if (c->costly[i].at && c->costly[i].uid == cc->peer.uid) {
			if (now - c->costly[i].at < CONTROL_COSTLY_MS)
				return c->costly[i].at + CONTROL_COSTLY_MS -
				    now;
			slot = i;
			break;
		}
		/* else the least recently used */
		if (c->costly[i].at < c->costly[slot].at)
			slot = i;
	}
	c->costly[slot].uid = cc->peer.uid;
	c->costly[slot].at = now;
	return 0;
}

/* the complete lines read so far */
static void
conn_lines(struct control *c, struct control_conn *cc)
{
	size_t saved_at = 0;
	uint64_t wait;
	int owns, answered = 0;
	char *nl, *reply;
	size_t len, used;

	cc->stdin_wait = cc->out_wait = cc->more = 0;
	/* one reply per line; a pipelining client gets them in order, a few
	 * a round, so that it holds the loop no longer than others */
	while ((nl = memchr(cc->in, '\n', cc->inlen)) != NULL) {
		used = (size_t)(nl - cc->in) + 1;
		if (answered++ == CONTROL_LINES_PER_ROUND) {
			cc->more = 1;
			cc->more_at = 0;
			return;
		}
		if (!cc->discard && (wait = costly_wait(c, cc, cc->in,
		    used)) > 0) {
			cc->more = 1;
			cc->more_at = mono_ms() + wait;
			return;
		}
		if (cc->outlen - cc->outoff >= CONTROL_OUT_BUDGET) {
			/* it does not read what it asked for: no more until
			 * it does (the rest of its lines wait in cc->in) */
			cc->out_wait = 1;
			return;
		}
		if (!cc->discard && c->hooks && c->hooks->may_pass &&
		    !c->hooks->may_pass(c, cc, cc->in, used)) {
			/* the guest's command reads slower than the client
			 * sends: stop reading this client until it catches up */
			cc->stdin_wait = 1;
			return;
		}
		/* descriptors are this line's only if they came with it */
		owns = (cc->nfds > 0 || cc->fds_lost) && cc->fds_at < used;
		if (!owns)
			saved_at = cc->fds_at, cc->fds_at = PROTO_REQ_MAX;
		if (cc->discard)
			cc->discard = 0;
		else {
			c->cur = cc;
			reply = control_dispatch(c, &cc->peer, cc->sock_role,
			    cc->in, used, &len);
			c->cur = NULL;
			control_queue(cc, reply, len);
		}
		if (owns)
			conn_fds_drop(cc);
		else if (cc->nfds > 0 || cc->fds_lost)
			cc->fds_at = saved_at - used;
		memmove(cc->in, cc->in + used, cc->inlen - used);
		cc->inlen -= used;
	}
}

/* descriptors that rode on the n bytes just read at in[at]: kept for
 * their line when an admin sent them and there is room, otherwise closed
 * (and the line refused by its verb). The kernel joins bytes sent before
 * them to their read: when those bytes hold another line, or the end of
 * one begun before, whose they are is not known, and they are refused */
static void
conn_fds_take(struct control_conn *cc, struct msghdr *mh, size_t at,
    size_t n)
{
	struct cmsghdr *cm;
	const char *nl;
	int fd, i, k;

	if (mh->msg_flags & MSG_CTRUNC)
		cc->fds_lost = 1;
	nl = memchr(cc->in + at, '\n', n);
	if (CMSG_FIRSTHDR(mh) != NULL && (at > 0 || (nl != NULL &&
	    nl < cc->in + at + n - 1)))
		cc->fds_lost = 1;
	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(cm) + (size_t)i * sizeof(int),
			    sizeof(int));
			/* one line's at a time: a second set is refused */
			if (cc->role != ROLE_ADMIN || cc->nfds >= PROTO_FDS_MAX ||
			    cc->fds_lost || (cc->nfds > 0 && cc->fds_at != at)) {
				cc->fds_lost = 1;
				close(fd);
				continue;
			}
			cc->fds[cc->nfds++] = fd;
			cc->fds_at = at;
		}
	}
	if (cc->fds_lost && cc->nfds == 0)
		cc->fds_at = at;
}

static void
conn_input(struct control *c, struct control_conn *cc)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(PROTO_FDS_MAX * sizeof(int))];
	} cbuf;
	struct msghdr mh;
	struct iovec iov;
	char *reply;
	size_t len;
	ssize_t n;

	iov.iov_base = cc->in + cc->inlen;
	iov.iov_len = PROTO_REQ_MAX - cc->inlen;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	n = recvmsg(cc->fd, &mh, MSG_CMSG_CLOEXEC);
	if (n > 0)
		conn_fds_take(cc, &mh, cc->inlen, (size_t)n);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		cc->close_after = 1;
		cc->inlen = 0;
		return;
	}
	if (n < 0)
		return;
	cc->inlen += (size_t)n;
	conn_lines(c, cc);
	if (cc->stdin_wait || cc->out_wait || cc->more)
		return;
	if (cc->inlen == PROTO_REQ_MAX) {
		struct request none;

		memset(&none, 0, sizeof(none));
		reply = proto_error_reply(&none, PE_TOO_LARGE, "request line "
		    "over 4096 bytes", &len);
		control_queue(cc, reply, len);
		cc->inlen = 0;
		cc->discard = 1;
		conn_fds_drop(cc);
	}
}

void
control_before_poll(struct control *c, struct pollfd *fds, int *nfds, int max,
    int *timeout_ms)
{
	uint64_t now = mono_ms();
	int i;

	for (i = 0; i < CONTROL_MAX_CONNS; i++)
		if (c->conns[i])
			c->conns[i]->pollidx = -1;
	if (*nfds + 2 <= max) {
		fds[*nfds].fd = c->fd_admin;
		fds[*nfds].events = POLLIN;
		fds[*nfds + 1].fd = c->fd_ro;
		fds[*nfds + 1].events = POLLIN;
		*nfds += 2;
	}
	for (i = 0; i < CONTROL_MAX_CONNS && *nfds < max; i++) {
		struct control_conn *cc = c->conns[i];

		if (cc == NULL)
			continue;
		/* idle: nothing asked, nothing running, nothing left to say
		 * (the last reply of a long quiet command is still written) */
		if ((now - cc->last_ms > CONTROL_IDLE_MS && conn_idle(c, cc)) ||
		    (cc->close_after && cc->outoff == cc->outlen)) {
			conn_free(c, i);
			continue;
		}
		if (c->hooks && c->hooks->tick)
			c->hooks->tick(c, cc, now);
		/* room comes with the agent's acks, read in the last round, or
		 * as the client reads its replies */
		if (cc->stdin_wait || (cc->more && cc->more_at <= now) ||
		    (cc->out_wait && cc->outlen - cc->outoff <
		    CONTROL_OUT_BUDGET))
			conn_lines(c, cc);
		/* lines wait still: the next round at once, or when a
		 * reader's costly one may go */
		if (cc->more) {
			uint64_t left = cc->more_at > now ? cc->more_at - now : 0;

			if (*timeout_ms < 0 || left < (uint64_t)*timeout_ms)
				*timeout_ms = (int)left;
		}
		if (c->hooks && c->hooks->waiting && c->hooks->waiting(cc) &&
		    (*timeout_ms < 0 || *timeout_ms > 1000))
			*timeout_ms = 1000;	/* ping and start deadlines */
		cc->pollidx = *nfds;
		fds[*nfds].fd = cc->fd;
		fds[*nfds].events = 0;
		/* a client that does not read its replies gets no new ones,
		 * nor one whose stdin waits for the guest */
		if (!cc->close_after && !cc->stdin_wait && !cc->out_wait &&
		    !cc->more && cc->outlen - cc->outoff < CONTROL_OUT_BUDGET)
			fds[*nfds].events |= POLLIN;

		if (cc->outoff < cc->outlen)
			fds[*nfds].events |= POLLOUT;
		(*nfds)++;
		if (*timeout_ms < 0 || *timeout_ms > CONTROL_IDLE_MS)
			*timeout_ms = CONTROL_IDLE_MS;
	}
}

void
control_after_poll(struct control *c, struct pollfd *fds, int nfds)
{
	int i, k;

	for (k = 0; k < nfds; k++) {
		if (!fds[k].revents)
			continue;
		if (fds[k].fd == c->fd_admin)
			conn_accept(c, c->fd_admin, ROLE_ADMIN);
		else if (fds[k].fd == c->fd_ro)
			conn_accept(c, c->fd_ro, ROLE_READ);
	}
	for (i = 0; i < CONTROL_MAX_CONNS; i++) {
		struct control_conn *cc = c->conns[i];
		short re;

		/* by the slot it had in this round's poll set: a client
		 * accepted just now may have the number of an fd closed this
		 * round (a console), and must not take its results */
		if (cc == NULL || cc->pollidx < 0 || cc->pollidx >= nfds ||
		    fds[cc->pollidx].fd != cc->fd)
			continue;
		re = fds[cc->pollidx].revents;
		if (!re)
			continue;
		cc->last_ms = mono_ms();
		if (re & POLLIN)
			conn_input(c, cc);
		if ((re & POLLOUT) && cc->outoff < cc->outlen) {
			ssize_t n = write(cc->fd, cc->out + cc->outoff,
			    cc->outlen - cc->outoff);

			if (n > 0)
				cc->outoff += (size_t)n;
			else if (n == -1 && errno != EAGAIN && errno != EINTR)
				cc->close_after = 1, cc->outoff = cc->outlen;
		}
		if ((re & (POLLHUP | POLLERR)) && !(re & POLLIN))
			cc->close_after = 1, cc->outoff = cc->outlen;
	}
}

void
control_loop_woke(struct control *c, uint64_t now)
{
	c->loop.woke = now;
}

void
control_loop_done(struct control *c, uint64_t now)
{
	struct control_loop *l = &c->loop;
	uint64_t busy = now >= l->woke ? now - l->woke : 0;

	if (now - l->window_start >= CONTROL_LOOP_WINDOW_MS) {
		/* a window with nothing in it leaves nothing to remember */
		l->max_prev_ms = now - l->window_start <
		    2 * CONTROL_LOOP_WINDOW_MS ? l->max_busy_ms : 0;
		l->max_busy_ms = 0;
		l->window_start = now;
	}
	l->iterations++;
	l->last_busy_ms = busy;
	if (busy > l->max_busy_ms)
		l->max_busy_ms = busy;
}
