// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: a kernel image as the kernel cache's child reads it (boot/
 * kcache.c): its kind and payload found, then undone into a file, within
 * a bound of 1 MiB here. Never a crash, never more written than the bound,
 * and what is kept must pass the parent's check. */
#include <sys/mman.h>
#include <sys/stat.h>

#include <stdlib.h>
#include <unistd.h>

#include "boot/kcache.h"

#define OUT_BOUND	(1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct err e = ERR_INIT;
	struct kimage k;
	struct stat st;
	char why[200];

	if (fd == -1 && (fd = memfd_create("kimage-out", MFD_CLOEXEC)) == -1)
		abort();
	kimage_probe(data, size, &k);
	if (kimage_cacheable(&k, why, sizeof(why)) != 1)
		return 0;
	if (ftruncate(fd, 0) == -1 || lseek(fd, 0, SEEK_SET) == -1)
		abort();
	if (kimage_extract(data, size, &k, fd, OUT_BOUND, &e) == 0 &&
	    (fstat(fd, &st) == -1 || st.st_size > OUT_BOUND ||
	    kimage_check_output(fd, &k, (uint64_t)st.st_size, &e) == -1))
		abort();
	if (fstat(fd, &st) == -1 || st.st_size > OUT_BOUND)
		abort();
	return 0;
}
