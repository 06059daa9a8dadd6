/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_LEASE_H
#define DOMUD_LEASE_H

/*
 * Addresses and MACs of services, kept in STATE_DIR/leases.json so that
 * they never change across restarts of a service or of domud. An auto MAC
 * that collides with another gets a tie-break number that is saved too.
 */
#include <stddef.h>
#include <stdint.h>

#include <yajl_gen.h>

#include "conf/config.h"

#define LEASES_FILE	"leases.json"
#define LEASES_VERSION	1
#define LEASES_MAX	(256 * 1024)

struct lease {
	char		 svc[SERVICE_NAME_MAX + 1];
	char		 net[33];		/* "" = plain bridge */
	uint32_t	 ip;			/* 0 = none */
	int		 ip_fixed;
	uint8_t		 mac[6];
	int		 mac_fixed;
	unsigned	 tiebreak;
};

struct leases {
	char		*dir;
	struct lease	*v;
	size_t		 n;
};

struct leases	*leases_open(const char *state_dir);
void		 leases_free(struct leases *);
/* give every service of cfg its address and MAC (s->addr, s->mac), drop
 * the leases of services that are gone; saves when something changed.
 * A network without free addresses is an error of that service. */
void		 leases_assign(struct leases *, struct config *);
const struct lease *leases_find(const struct leases *, const char *svc);
/* one lease as leases.json keeps it (the control side shows the same) */
void		 lease_json(yajl_gen, const struct lease *);

#endif
