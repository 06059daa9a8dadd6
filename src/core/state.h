/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_STATE_H
#define DOMUD_STATE_H

/*
 * What must survive a daemon restart within one boot, in
 * STATE_DIR/state.json: services that failed (and why), services a person
 * stopped (autostart leaves them alone), restart counts. Running domains
 * need no state file: Xen keeps them, and adoption finds them. A new boot
 * (another /proc/sys/kernel/random/boot_id) starts from the configuration.
 * This file knows the format only: the supervisor gives it records and
 * takes them back (persist.c).
 */
#include <stddef.h>

#define STATE_VERSION	1
#define STATE_FILE	"state.json"
#define STATE_MAX	(256 * 1024)

/* one service, as saved */
struct state_rec {
	char		 name[64];
	int		 held;
	int		 idle_paused;
	const char	*failed;	/* why it failed; NULL: it did not */
	int		 has_restarts;	/* read: restarts was there */
	unsigned	 restarts;
};

/* what a read found */
struct state_file {
	struct state_rec	*recs;
	size_t			 nrecs;
	char			(*pools)[64];	/* the cpupools domud owns */
	size_t			 npools;
	void			*tree;		/* holds the strings */
};

/* the file that says which boot this is; a unit test points it at its own */
extern const char *state_boot_id_path;

/* write, fsync, rename, fsync the directory; 0 or -1 (logged) */
int	state_write(const char *dir, const struct state_rec *, size_t,
	    const char (*pools)[64], size_t npools);
/* 0: read, of this boot; -1: none, or not of use (logged) */
int	state_read(const char *dir, struct state_file *);
void	state_file_free(struct state_file *);

#endif
