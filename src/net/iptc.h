/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_IPTC_H
#define DOMUD_IPTC_H

/*
 * Our chains in the kernel's legacy x_tables, through libiptc: one commit
 * per table, under the xtables lock the iptables tools take too.
 */
#include "base/err.h"
#include "rules.h"

/* make our chains and hooks exactly the rule set; idempotent */
int	iptc_apply(const struct ruleset *, struct err *);
/* remove hooks and chains; fine when they are not there */
int	iptc_remove(struct err *);

struct drift {
	char	 (*lines)[160];		/* what differs, for people */
	size_t	 n, cap;
};
/* compare the kernel's rules with the set; drift->n == 0: in sync.
 * wait 0: fail at once (EBUSY) if another program holds the xtables lock */
int	iptc_check(const struct ruleset *, int wait, struct drift *,
	    struct err *);
void	drift_free(struct drift *);
void	drift_add(struct drift *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
