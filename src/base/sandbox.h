/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_SANDBOX_H
#define DOMUD_SANDBOX_H

/*
 * What a child that handles untrusted input gives up before it reads a
 * byte of it: root, new privileges, its limits lowered, and every system
 * call but a few (libseccomp).
 */
#include <sys/resource.h>
#include <sys/types.h>

#include "err.h"

struct sandbox {
	uid_t		 uid;		/* taken when running as root */
	gid_t		 gid;
	rlim_t		 nofile;	/* RLIMIT_NOFILE (cur and max); 0 = left alone */
	rlim_t		 fsize;		/* RLIMIT_FSIZE; 0 = left alone */
	rlim_t		 as;		/* RLIMIT_AS; 0 = left alone (and left
					 * alone under AddressSanitizer, whose
					 * shadow is address space already
					 * taken) */
	rlim_t		 cpu;		/* RLIMIT_CPU seconds; 0 = left alone */
	const char *const *allow;	/* syscall names allowed, NULL-terminated;
					 * NULL = no filter */
};

/*
 * prctl NO_NEW_PRIVS and DUMPABLE 0, no groups and sb's gid and uid when
 * the effective uid is 0 (setresgid/setresuid), the limits, then a
 * seccomp filter: every syscall not in allow fails with EPERM, none
 * kills. A name the architecture lacks is skipped. 0, or -1 with e set
 * (the process is then partly sandboxed: it should only report and exit).
 */
int	 sandbox_enter(const struct sandbox *sb, struct err *e);

#endif
