// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control sockets: listening (one socket per role), connections with
 * bounded input and output, and the dispatch of each request line through
 * the command table (proto_cmds, with the handlers below) after the
 * caller's role is checked (auth.c). The verbs themselves are elsewhere:
 * verbs.c answers at once, jobs.c later, rundisk.c runs from a disk.
 * May call: auth, proto, the supervisor (find), console (the tap), jobs.
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
#include "chan/channel.h"
#include "console.h"
#include "control.h"
#include "jobs.h"
#include "rundisk.h"

_Static_assert(SERVICE_NAME_MAX == PROTO_NAME_MAX,
    "a service name travels in requests");

/* the daemon's side of the command table: proto_cmds[i].verb -> handler */
static control_handler *const handlers[PV__N] = {
	[PV_PING] = verb_ping,
	[PV_LIST] = verb_status,
	[PV_STATUS] = verb_status,
	[PV_LOGS] = verb_logs,
	[PV_START] = verb_start,
	[PV_STOP] = verb_stop,
	[PV_RESTART] = verb_restart,
	[PV_RELOAD] = verb_reload,
	[PV_NET] = verb_net,
	[PV_NET_FIX] = verb_net,
	[PV_EXEC] = jobs_exec,
	[PV_CANCEL] = jobs_cancel,
	[PV_STDIN] = jobs_stdin,
	[PV_CONSOLE] = jobs_console,
	[PV_RUN] = rundisk_run,
	[PV_INPUT] = jobs_input,
};

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
	if (req.pcmd->role == PC_ADMIN)
		log_info("control: %s%s%s by uid %u", req.cmd, s ? " " : "",
		    s ? s->conf->name : "", (unsigned)peer->uid);
	if ((unsigned)req.pcmd->verb >= PV__N || handlers[req.pcmd->verb] == NULL)
		return proto_error_reply(&req, PE_UNKNOWN_COMMAND, "not "
		    "implemented", outlen);
	c->cur_peer = peer;
	c->cur_role = sock_role;
	out = handlers[req.pcmd->verb](c, &req, s, outlen);
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
	if (listen(fd, 16) == -1) {
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
	c->sup->disk_done = rundisk_disk_done;
	c->sup->disk_arg = c;
	console_set_tap(jobs_log_tap, c);
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
conn_free(struct control *c, int i)
{
	struct control_conn *cc = c->conns[i];
	int j;

	/* its commands are cancelled in the guest: nobody reads them now */
	for (j = 0; j < CONTROL_JOBS; j++)
		if (cc->jobs[j] != NULL) {
			struct service *s = sup_find(c->sup, cc->jobs[j]->svc);

			if (!cc->jobs[j]->is_ping && s && s->con && s->con->chan)
				chan_detach(s->con->chan, cc->jobs[j]->chan_id);
			control_job_end(cc->jobs[j]);
		}
	close(cc->fd);
	free(cc->out);
	free(cc);
	c->conns[i] = NULL;
}

void
control_close(struct control *c)
{
	console_set_tap(NULL, NULL);
	int i;

	for (i = 0; i < CONTROL_MAX_CONNS; i++)
		if (c->conns[i])
			conn_free(c, i);
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

static void
conn_accept(struct control *c, int lfd, enum auth_role role)
{
	struct control_conn *cc;
	int fd, i;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	for (i = 0; i < CONTROL_MAX_CONNS; i++)
		if (c->conns[i] == NULL)
			break;
	if (i == CONTROL_MAX_CONNS) {
		log_warnx("control: too many clients");
		close(fd);
		return;
	}
	cc = xcalloc(1, sizeof(*cc));
	cc->fd = fd;
	cc->sock_role = role;
	cc->last_ms = mono_ms();
	if (auth_peer_from_fd(fd, &cc->peer) == -1) {
		log_warn("control: peer credentials");
		close(fd);
		free(cc);
		return;
	}
	c->conns[i] = cc;
}

void
control_queue(struct control_conn *cc, char *reply, size_t len)
{
	char *n;

	if (reply == NULL)
		return;
	n = realloc(cc->out, cc->outlen - cc->outoff + len);
	if (n == NULL)
		fatal("realloc");
	memmove(n, n + cc->outoff, cc->outlen - cc->outoff);
	cc->outlen -= cc->outoff;
	cc->outoff = 0;
	memcpy(n + cc->outlen, reply, len);
	cc->outlen += len;
	cc->out = n;
	free(reply);
}

/* the complete lines read so far */
static void
conn_lines(struct control *c, struct control_conn *cc)
{
	char *nl, *reply;
	size_t len, used;

	cc->stdin_wait = 0;
	/* one reply per line; a pipelining client gets them in order */
	while ((nl = memchr(cc->in, '\n', cc->inlen)) != NULL) {
		used = (size_t)(nl - cc->in) + 1;
		if (!cc->discard && !jobs_stdin_may_pass(c, cc, cc->in, used)) {
			/* the guest's command reads slower than the client
			 * sends: stop reading this client until it catches up */
			cc->stdin_wait = 1;
			return;
		}
		if (cc->discard)
			cc->discard = 0;
		else {
			c->cur = cc;
			reply = control_dispatch(c, &cc->peer, cc->sock_role,
			    cc->in, used, &len);
			c->cur = NULL;
			control_queue(cc, reply, len);
		}
		memmove(cc->in, cc->in + used, cc->inlen - used);
		cc->inlen -= used;
	}
}

static void
conn_input(struct control *c, struct control_conn *cc)
{
	char *reply;
	size_t len;
	ssize_t n;

	n = read(cc->fd, cc->in + cc->inlen, PROTO_REQ_MAX - cc->inlen);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		cc->close_after = 1;
		cc->inlen = 0;
		return;
	}
	if (n < 0)
		return;
	cc->inlen += (size_t)n;
	conn_lines(c, cc);
	if (cc->stdin_wait)
		return;
	if (cc->inlen == PROTO_REQ_MAX) {
		struct request none;

		memset(&none, 0, sizeof(none));
		reply = proto_error_reply(&none, PE_TOO_LARGE, "request line "
		    "over 4096 bytes", &len);
		control_queue(cc, reply, len);
		cc->inlen = 0;
		cc->discard = 1;
	}
}

void
control_before_poll(struct control *c, struct pollfd *fds, int *nfds, int max,
    int *timeout_ms)
{
	uint64_t now = mono_ms();
	int i;

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
		if ((now - cc->last_ms > CONTROL_IDLE_MS && !jobs_busy(cc)) ||
		    (cc->close_after && cc->outoff == cc->outlen)) {
			conn_free(c, i);
			continue;
		}
		jobs_pings(c, cc, now);
		jobs_pending(c, cc, now);
		/* room comes with the agent's acks, read in the last round */
		if (cc->stdin_wait)
			conn_lines(c, cc);
		if (jobs_waiting(cc) && (*timeout_ms < 0 || *timeout_ms > 1000))
			*timeout_ms = 1000;	/* ping and start deadlines */
		fds[*nfds].fd = cc->fd;
		fds[*nfds].events = 0;
		/* a client that does not read its replies gets no new ones,
		 * nor one whose stdin waits for the guest */
		if (!cc->close_after && !cc->stdin_wait &&
		    cc->outlen - cc->outoff < PROTO_REPLY_MAX)
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
		short re = 0;

		if (cc == NULL)
			continue;
		for (k = 0; k < nfds; k++)
			if (fds[k].fd == cc->fd)
				re = fds[k].revents;
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
