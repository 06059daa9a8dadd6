/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_AUTH_H
#define DOMUD_AUTH_H

#include <sys/types.h>

#include "proto/proto.h"

#define AUTH_GROUPS_MAX	64

enum auth_role { ROLE_NONE, ROLE_READ, ROLE_ADMIN };

struct peer {
	pid_t	 pid;
	uid_t	 uid;
	gid_t	 gid;			/* primary, from SO_PEERCRED */
	gid_t	 groups[AUTH_GROUPS_MAX];	/* from SO_PEERGROUPS */
	int	 ngroups;
};

struct auth_conf {
	gid_t	 read_gid;		/* (gid_t)-1: no such group */
	gid_t	 admin_gid;
};

/* Who may connect through which socket: see docs/control.md. */
enum auth_role	 auth_role(const struct peer *, const struct auth_conf *);
/* the peer's role on a socket: its own, at most the socket's */
enum auth_role	 auth_role_on(const struct peer *, const struct auth_conf *,
		    enum auth_role socket_max);
/* 0 = allowed; else PE_DENIED with a message that says why. */
enum proto_errcode auth_check(const struct peer *, const struct auth_conf *,
		    enum auth_role socket_max, const struct proto_cmd *,
		    char *msg, size_t msgsz);
int		 auth_peer_from_fd(int fd, struct peer *);
const char	*auth_role_str(enum auth_role);

#endif
