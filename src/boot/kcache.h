/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_KCACHE_H
#define DOMUD_KCACHE_H

/*
 * Kernel images and the kernel cache. libxl builds a PV domain from a
 * bzImage by undoing its compression inside the create, every time (13 s
 * for Debian's xz bzImage under emulation, 2.7 s from the plain ELF). The
 * cache does that once: the plain kernel is extracted into a directory of
 * domud's, named by the SHA-256 of the image (a digest the caller knows
 * already, an update slot's, or one taken here) and found again by the
 * image's device, inode, size and mtime; libxl is given the extracted
 * file. An entry is only ever made from an image whose bytes hash to its
 * name. What it is, is learnt from the file itself (kimage_*):
 * x86 bzImage with a gzip, xz, lzma or zstd payload, arm64 Image.gz.
 * bzip2, lz4 and lzo payloads are refused with the reason (libxl loads
 * those itself). Knows nothing of services; thread-safe (builder threads
 * call it).
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum kimage_kind {
	KI_UNKNOWN,
	KI_ELF,			/* a plain kernel already */
	KI_ARM64_IMAGE,		/* an arm64 Image, not compressed */
	KI_BZIMAGE,		/* x86: a compressed kernel inside */
	KI_GZIP,		/* a whole gzip file (arm64 Image.gz) */
};

enum kimage_codec {
	KC_NONE, KC_GZIP, KC_XZ, KC_LZMA, KC_ZSTD, KC_BZIP2, KC_LZ4, KC_LZO,
	KC_UNKNOWN,
};

struct kimage {
	enum kimage_kind	 kind;
	enum kimage_codec	 codec;
	uint64_t		 payload_off, payload_len;	/* in the file */
	uint64_t		 plain_size;	/* from the trailer; 0 = unknown */
};

#define KCACHE_SHA256_LEN	32
#define KIMAGE_MAX		(256ULL << 20)	/* an image, or what is in it */
#define KCACHE_MAX_DEFAULT	(256ULL << 20)	/* the cache, in all */

/* what the bytes of an image file are */
void		 kimage_probe(const uint8_t *, size_t, struct kimage *);
const char	*kimage_kind_str(enum kimage_kind);
const char	*kimage_codec_str(enum kimage_codec);
/* 1: the cache has something to do for it; 0: nothing (plain already);
 * -1: compressed in a way domud cannot undo (why says) */
int		 kimage_cacheable(const struct kimage *, char *why, size_t);
/* what kimage_cacheable says of a file */
int		 kimage_describe(const char *path, char *why, size_t);
/* the plain kernel into fd, checked (its magic, the size the trailer
 * says), never more than the trailer says, KIMAGE_MAX or max (0: no bound
 * of its own) bytes; -1 with e */
int		 kimage_extract(const uint8_t *, size_t, const struct kimage *,
		    int fd, uint64_t max, struct err *);
/* what fd holds (total bytes) is the kernel the image says: -1 with e */
int		 kimage_check_output(int fd, const struct kimage *,
		    uint64_t total, struct err *);
/* kextract.c: the extraction in a child (`HELPER --kernel-extract MAX`,
 * the image on its stdin, fd its stdout); -1 with its reason in e */
int		 kextract_spawn(const char *helper, int imgfd, int outfd,
		    uint64_t max, struct err *);
/* the child's side: 0 when the plain kernel is on stdout */
int		 kextract_child_main(const char *max);
/* what liblzma may allocate for one kernel (a 64 MiB dictionary and its
 * state: more than any kernel build asks) */
#define KIMAGE_LZMA_MEM		(128ULL << 20)

struct kcache {
	char		*dir;
	uint64_t	 max;		/* bytes of plain kernels kept, in all */
	const char	*helper;	/* extracts in a child (domud's binary);
					 * NULL: in this process */
	pthread_mutex_t	 lock;
	uint64_t	 hits, misses;	/* since start */
};

struct kcache	*kcache_new(const char *dir, uint64_t max);
void		 kcache_free(struct kcache *);
/* reload: a new bound, for the next eviction */
void		 kcache_set_max(struct kcache *, uint64_t);
/*
 * The file libxl is to load for `kernel`: the cached plain kernel
 * (extracted now if need be: seconds), or a copy of `kernel` when there is
 * nothing to extract. NULL with e when it cannot be had: the caller loads
 * `kernel` as it is. *hit says whether it was in the cache already.
 * sha256: NULL, or the image's SHA-256 as the caller verified it; an entry
 * under it is then used without hashing the image, and an image that has
 * to be extracted and does not hash to it is refused.
 */
char		*kcache_get(struct kcache *, const char *kernel,
		    const uint8_t *sha256, int *hit, struct err *);

#endif
