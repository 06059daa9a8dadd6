// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A child that handles untrusted input (a kernel image to undo) gives up
 * what it does not need before reading it (sandbox.h). The seccomp filter
 * answers a syscall it does not allow with EPERM rather than killing: a
 * sanitizer's runtime (check-asan, the fuzzers) makes calls of its own and
 * copes with an error, the caller gets a message instead of a signal, and
 * a test can see the errno. Denied is denied either way. libseccomp
 * writes the BPF: its names cover every architecture we build for.
 */
#include <sys/prctl.h>
#include <sys/resource.h>

#include <errno.h>
#include <grp.h>
#include <seccomp.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "sandbox.h"

/* AddressSanitizer's shadow is address space already taken: under it
 * RLIMIT_AS is left alone */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_NO_AS_LIMIT
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_NO_AS_LIMIT
#endif
#endif

static int
limit(int res, rlim_t v, const char *name, struct err *e)
{
	struct rlimit rl = { v, v };

	if (v == 0 || setrlimit(res, &rl) == 0)
		return 0;
	return err_set(e, errno, "setrlimit %s: %s", name, strerror(errno));
}

static int
filter(const char *const *allow, struct err *e)
{
	scmp_filter_ctx ctx;
	size_t i;
	int nr, rc;

	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (ctx == NULL)
		return err_set(e, ENOMEM, "seccomp_init failed");
	/* another ABI's calls (i386 or x32 on x86_64) are refused alike */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_ERRNO(EPERM));
	for (i = 0; rc == 0 && allow[i] != NULL; i++) {
		/* __NR_SCMP_ERROR (-1): a name libseccomp does not know;
		 * below it, a pseudo number: one this architecture lacks
		 * (open on arm64, mmap2 on x86_64). Neither is a rule. */
		nr = seccomp_syscall_resolve_name(allow[i]);
		if (nr < 0)
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc < 0) {
			seccomp_release(ctx);
			return err_set(e, -rc, "seccomp: allowing %s: %s",
			    allow[i], strerror(-rc));
		}
	}
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		return err_set(e, -rc, "seccomp: %s", strerror(-rc));
	return 0;
}

int
sandbox_enter(const struct sandbox *sb, struct err *e)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return err_set(e, errno, "prctl: %s", strerror(errno));
	if (geteuid() == 0 && (setgroups(0, NULL) == -1 ||
	    setresgid(sb->gid, sb->gid, sb->gid) == -1 ||
	    setresuid(sb->uid, sb->uid, sb->uid) == -1))
		return err_set(e, errno, "dropping root: %s", strerror(errno));
	if (limit(RLIMIT_NOFILE, sb->nofile, "RLIMIT_NOFILE", e) == -1 ||
	    limit(RLIMIT_FSIZE, sb->fsize, "RLIMIT_FSIZE", e) == -1 ||
	    limit(RLIMIT_CPU, sb->cpu, "RLIMIT_CPU", e) == -1)
		return -1;
#ifndef SANDBOX_NO_AS_LIMIT
	if (limit(RLIMIT_AS, sb->as, "RLIMIT_AS", e) == -1)
		return -1;
#endif
	return sb->allow != NULL ? filter(sb->allow, e) : 0;
}
