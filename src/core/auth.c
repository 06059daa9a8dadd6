// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Authorisation of control clients. SO_PEERCRED gives the uid and only the
 * primary gid; supplementary groups come from SO_PEERGROUPS (Linux 4.13).
 * root and the admin group may do everything, the read group only reads.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

static int
in_group(const struct peer *p, gid_t g)
{
	int i;

	if (g == (gid_t)-1)
		return 0;
	if (p->gid == g)
		return 1;
	for (i = 0; i < p->ngroups; i++)
		if (p->groups[i] == g)
			return 1;
	return 0;
}

enum auth_role
auth_role(const struct peer *p, const struct auth_conf *c)
{
	if (p->uid == 0 || in_group(p, c->admin_gid))
		return ROLE_ADMIN;
	if (in_group(p, c->read_gid))
		return ROLE_READ;
	return ROLE_NONE;
}

const char *
auth_role_str(enum auth_role r)
{
	switch (r) {
	case ROLE_ADMIN:
		return "admin";
	case ROLE_READ:
		return "read-only";
	default:
		return "none";
	}
}

enum auth_role
auth_role_on(const struct peer *p, const struct auth_conf *c,
    enum auth_role socket_max)
{
	enum auth_role r = auth_role(p, c);

	/* the read-only socket never grants more, whoever connects */
	return r > socket_max ? socket_max : r;
}

enum proto_errcode
auth_check(const struct peer *p, const struct auth_conf *c,
    enum auth_role socket_max, const struct proto_cmd *cmd, char *msg,
    size_t msgsz)
{
	enum auth_role r = auth_role_on(p, c, socket_max);

	if (r == ROLE_NONE) {
		snprintf(msg, msgsz, "uid %u is in neither the read nor the "
		    "admin group", (unsigned)p->uid);
		return PE_DENIED;
	}
	if (cmd->role == PC_ADMIN && r != ROLE_ADMIN) {
		snprintf(msg, msgsz, "'%s' needs root or the admin group; uid "
		    "%u has read-only access", cmd->name, (unsigned)p->uid);
		return PE_DENIED;
	}
	return PE_OK;
}

int
auth_peer_from_fd(int fd, struct peer *p)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	gid_t groups[AUTH_GROUPS_MAX];

	memset(p, 0, sizeof(*p));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1)
		return -1;
	p->pid = uc.pid;
	p->uid = uc.uid;
	p->gid = uc.gid;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		p->ngroups = (int)(len / sizeof(gid_t));
	else if (errno == ERANGE)
		/* more groups than we keep: judge by uid and primary gid
		 * only; denial is the safe failure */
		p->ngroups = 0;
	else if (errno != ENOPROTOOPT)
		return -1;
	memcpy(p->groups, groups, (size_t)p->ngroups * sizeof(gid_t));
	return 0;
}
