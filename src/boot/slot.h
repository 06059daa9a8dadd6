/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_SLOT_H
#define DOMUD_SLOT_H

/*
 * A guest's images as one unit that verifies or is refused whole (a slot
 * of a service's update). A stage copies the files it is given into a new
 * directory of the slot store, taking their SHA-256 on the way; when a
 * manifest comes with them, the set of files, their sizes and digests must
 * be the manifest's, and when a key is named, the manifest must carry an
 * Ed25519 signature by it in the format of OpenBSD's signify (`signify -S
 * -s KEY.sec -m manifest` makes manifest.sig). A stage that fails leaves
 * nothing behind. Knows nothing of services or of which slot runs.
 * libsodium: SHA-256, Ed25519 and base64 (only src/boot includes it).
 */
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define SLOT_FILES_MAX		8	/* kernel, ramdisk, device_tree, disks */
#define SLOT_FILE_NAME_MAX	32	/* "kernel", "disk:xvda" */
#define SLOT_VERSION_MAX	64
#define SLOT_CMDLINE_MAX	1024
#define SLOT_MANIFEST_MAX	(64 * 1024)
#define SLOT_KEY_MAX		4096	/* a signify key or signature file */
#define SLOT_SHA256_LEN		32

struct slot_file {
	char		 name[SLOT_FILE_NAME_MAX];
	uint64_t	 size;
	uint8_t		 sha256[SLOT_SHA256_LEN];
};

/* what a slot holds, as a manifest says it or a stage found it */
struct slot_manifest {
	char		 version[SLOT_VERSION_MAX];	/* "" = none */
	char		 cmdline[SLOT_CMDLINE_MAX];	/* "" = the service's */
	int		 has_cmdline;
	struct slot_file files[SLOT_FILES_MAX];
	size_t		 nfiles;
};

/* one file of a stage: its name in the slot and where it is read from */
struct slot_src {
	const char	*name;
	int		 fd;
	const int	*cancel;	/* non-zero (atomic): give up; NULL */
};

/* a file name a slot may hold: kernel, ramdisk, device_tree, disk:VDEV */
int	 slot_file_name_valid(const char *);
/* the manifest's JSON; 0, or -1 with e (what is wrong, and where) */
int	 slot_manifest_parse(const char *, size_t, struct slot_manifest *,
	    struct err *);
/* the canonical JSON of m, malloc'd, NUL-terminated; NULL on no memory */
char	*slot_manifest_json(const struct slot_manifest *, size_t *len);
const struct slot_file *slot_manifest_find(const struct slot_manifest *,
	    const char *name);
/* msg signed by the signify public key pub (file text) with signature
 * sig (file text): 0, or -1 with e saying why not */
int	 slot_verify(const char *pub, size_t publen, const char *sig,
	    size_t siglen, const void *msg, size_t len, struct err *);
/*
 * Stage: the n sources copied into the new directory dirfd/gen (at most
 * max_bytes in all), each file fsync'd and then the directory; got gets
 * what was found. With want, the files must be exactly its own. 0, or -1
 * with e, and then nothing of dirfd/gen is left.
 */
int	 slot_stage(int dirfd, const char *gen, const struct slot_src *,
	    size_t n, const struct slot_manifest *want, uint64_t max_bytes,
	    struct slot_manifest *got, struct err *);
/* dirfd/gen and what is in it, gone (a slot given up or replaced) */
int	 slot_remove(int dirfd, const char *gen, struct err *);
/* 64 hex digits and back */
void	 slot_hex(const uint8_t [SLOT_SHA256_LEN], char [2 * SLOT_SHA256_LEN + 1]);
int	 slot_unhex(const char *, uint8_t [SLOT_SHA256_LEN]);

#endif
