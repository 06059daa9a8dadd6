// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A kernel image is undone (gzip, xz, lzma, zstd) outside the root daemon:
 * in a short-lived child, domud's own binary run as `domud
 * --kernel-extract MAX`, with the image on its stdin, the cache's
 * temporary file on its stdout and a pipe for its one line of error on
 * stderr. Before it reads a byte it gives up what it does not need: root
 * (nobody's uid and gid, no groups, no new privileges), new descriptors
 * (RLIMIT_NOFILE 3: it cannot open a file), bounds its output, memory
 * and CPU time, and keeps only the syscalls it needs (seccomp: the rest
 * fail with EPERM; base/sandbox.c). The parent checks what it wrote
 * (kimage_check_output).
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kcache.h"
#include "base/sandbox.h"
#include "base/util.h"

/* who the child is: nobody */
#define KEXTRACT_UID		65534
#define KEXTRACT_GID		65534
#define KEXTRACT_MEM		(1ULL << 30)	/* the image mapped, the
						 * decoder, buffers */
#define KEXTRACT_CPU_S		300

/*
 * The child's syscalls once sandboxed, as strace showed them (the kcache
 * unit tests, and Debian's kernels: an arm64 Image.gz, an xz bzImage;
 * amd64 domud built dynamic, static and with ASan): fstat the image
 * (newfstatat), map it, malloc's mmap and munmap, write the output, pread
 * its head back, lseek, a reason on stderr, exit_group; ASan's _exit adds
 * sigaltstack and gettid. Beside them: the same calls under another
 * architecture's or glibc's name (one the architecture lacks is skipped)
 * and what malloc and glibc may also use. Anything else (open, socket,
 * kill, exec) fails with EPERM.
 */
static const char *const kextract_allow[] = {
	"read", "pread64", "write", "lseek", "_llseek",
	"fstat", "fstat64", "newfstatat", "fstatat64", "statx",
	"mmap", "mmap2", "munmap", "mremap", "brk", "madvise",
	"clock_gettime", "clock_gettime64", "futex", "getrandom",
	"rt_sigreturn", "exit", "exit_group",
	"sigaltstack", "gettid",
	NULL
};

extern char **environ;

static int
child_fail(const char *what, int err)
{
	dprintf(2, "%s: %s\n", what, strerror(err));
	return 1;
}

/* the child's limits and identity; -1 (and a line on stderr) if one
 * cannot be had: it then does nothing */
static int
child_sandbox(uint64_t max)
{
	struct sandbox sb = {
		.uid = KEXTRACT_UID, .gid = KEXTRACT_GID,
		.nofile = 3, .fsize = max, .as = KEXTRACT_MEM,
		.cpu = KEXTRACT_CPU_S, .allow = kextract_allow,
	};
	struct err e = ERR_INIT;

	/* a write past max fails with EFBIG instead of killing it */
	(void)signal(SIGXFSZ, SIG_IGN);
	if (sandbox_enter(&sb, &e) == -1) {
		dprintf(2, "%s\n", e.msg);
		return -1;
	}
	return 0;
}

int
kextract_child_main(const char *max_arg)
{
	struct err e = ERR_INIT;
	struct kimage k;
	struct stat st;
	char *end, why[200];
	uint64_t max;
	void *map;

	errno = 0;
	max = strtoull(max_arg, &end, 10);
	if (errno || *end != '\0' || max == 0 || max > KIMAGE_MAX)
		max = KIMAGE_MAX;
	if (child_sandbox(max) != 0)
		return 1;
	if (fstat(0, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size < 64 ||
	    (uint64_t)st.st_size > KIMAGE_MAX) {
		dprintf(2, "the image is not a regular file of 64 B to %llu "
		    "MiB\n", (unsigned long long)(KIMAGE_MAX >> 20));
		return 1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, 0, 0);
	if (map == MAP_FAILED)
		return child_fail("mmap", errno);
	kimage_probe(map, (size_t)st.st_size, &k);
	if (kimage_cacheable(&k, why, sizeof(why)) <= 0) {
		dprintf(2, "%s\n", why);
		return 1;
	}
	if (kimage_extract(map, (size_t)st.st_size, &k, 1, max, &e) == -1) {
		dprintf(2, "%s\n", e.msg);
		return 1;
	}
	return 0;
}

int
kextract_spawn(const char *helper, int imgfd, int outfd, uint64_t max,
    struct err *e)
{
	posix_spawn_file_actions_t fa;
	char maxs[32], msg[256];
	char *argv[] = { "domud", "--kernel-extract", maxs, NULL };
	int p[2], st, rc;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	snprintf(maxs, sizeof(maxs), "%" PRIu64, max);
	if (pipe2(p, O_CLOEXEC) == -1)
		return err_set(e, errno, "pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, imgfd, 0);
	posix_spawn_file_actions_adddup2(&fa, outfd, 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	rc = posix_spawn(&pid, helper, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc != 0) {
		close(p[0]);
		return err_set(e, rc, "%s --kernel-extract: %s", helper,
		    strerror(rc));
	}
	/* its one line of error, bounded; the rest is read and dropped */
	for (;;) {
		char chunk[256];

		n = read(p[0], chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((size_t)n > sizeof(msg) - 1 - got)
			n = (ssize_t)(sizeof(msg) - 1 - got);
		memcpy(msg + got, chunk, (size_t)n);
		got += (size_t)n;
	}
	close(p[0]);
	msg[got] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	/* a child gone wrong writes what it likes: printable to the log */
	for (n = 0; msg[n]; n++)
		if ((unsigned char)msg[n] < 0x20 || (unsigned char)msg[n] >= 0x7f)
			msg[n] = '?';
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return err_set(e, errno, "waitpid: %s", strerror(errno));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFSIGNALED(st))
		return err_set(e, EINVAL, "the extraction was killed by signal "
		    "%d%s%s", WTERMSIG(st), msg[0] ? ": " : "", msg);
	return err_set(e, EINVAL, "%s", msg[0] ? msg : "the extraction failed");
}
