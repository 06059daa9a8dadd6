// SPDX-License-Identifier: GPL-2.0-or-later
/* Kernel images and the cache of their plain kernels (kcache.h). */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lzma.h>
#include <sodium.h>
#include <zlib.h>
#include <zstd.h>

#include "kcache.h"
#include "base/fileio.h"
#include "base/log.h"
#include "base/util.h"

#define OUT_CHUNK	(64 * 1024)
#define KEY_MAX		(2 + 2 * KCACHE_SHA256_LEN + 1)	/* "k-", hex, NUL */

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static enum kimage_codec
codec_of(const uint8_t *p, size_t n)
{
	static const struct { enum kimage_codec c; size_t len; const char *m; }
	    magics[] = {
		{ KC_GZIP, 2, "\x1f\x8b" },
		{ KC_XZ, 6, "\xfd" "7zXZ\0" },
		{ KC_LZMA, 3, "\x5d\0\0" },
		{ KC_BZIP2, 3, "BZh" },
		{ KC_LZ4, 4, "\x02\x21\x4c\x18" },
		{ KC_LZO, 4, "\x89LZO" },
		{ KC_ZSTD, 4, "\x28\xb5\x2f\xfd" },
	};
	size_t i;

	for (i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (n >= magics[i].len && memcmp(p, magics[i].m,
		    magics[i].len) == 0)
			return magics[i].c;
	return KC_UNKNOWN;
}

static int
is_elf(const uint8_t *p, size_t n)
{
	return n >= 4 && memcmp(p, "\x7f" "ELF", 4) == 0;
}

static int
is_arm64_image(const uint8_t *p, size_t n)
{
	return n >= 64 && le32(p + 0x38) == 0x644d5241;	/* "ARM\x64" */
}

void
kimage_probe(const uint8_t *p, size_t n, struct kimage *k)
{
	memset(k, 0, sizeof(*k));
	if (is_elf(p, n)) {
		k->kind = KI_ELF;
		return;
	}
	if (is_arm64_image(p, n)) {
		k->kind = KI_ARM64_IMAGE;
		return;
	}
	/* the x86 boot protocol: "HdrS" at 0x202; the payload fields from
	 * version 2.08, relative to the protected-mode code */
	if (n >= 0x250 && memcmp(p + 0x202, "HdrS", 4) == 0 &&
	    (p[0x206] | p[0x207] << 8) >= 0x0208) {
		uint64_t sects = p[0x1f1] ? p[0x1f1] : 4,
		    off = (sects + 1) * 512 + le32(p + 0x248),
		    len = le32(p + 0x24c);

		k->kind = KI_BZIMAGE;
		if (len < 8 || off > n || len > n - off) {
			k->codec = KC_UNKNOWN;
			return;
		}
		k->payload_off = off;
		k->payload_len = len;
		k->codec = codec_of(p + off, len);
		/* the kernel's build appends the plain size to every payload */
		k->plain_size = le32(p + off + len - 4);
		return;
	}
	if (n >= 18 && codec_of(p, n) == KC_GZIP) {
		k->kind = KI_GZIP;
		k->codec = KC_GZIP;
		k->payload_len = n;
		k->plain_size = le32(p + n - 4);	/* ISIZE: mod 2^32 */
	}
}

const char *
kimage_kind_str(enum kimage_kind k)
{
	switch (k) {
	case KI_UNKNOWN:	return "not a kernel image domud knows";
	case KI_ELF:		return "an ELF kernel";
	case KI_ARM64_IMAGE:	return "an arm64 Image";
	case KI_BZIMAGE:	return "a bzImage";
	case KI_GZIP:		return "a gzip file";
	}
	return "?";
}

const char *
kimage_codec_str(enum kimage_codec c)
{
	switch (c) {
	case KC_NONE:		return "none";
	case KC_GZIP:		return "gzip";
	case KC_XZ:		return "xz";
	case KC_LZMA:		return "lzma";
	case KC_ZSTD:		return "zstd";
	case KC_BZIP2:		return "bzip2";
	case KC_LZ4:		return "lz4";
	case KC_LZO:		return "lzo";
	case KC_UNKNOWN:	return "an unknown format";
	}
	return "?";
}

int
kimage_cacheable(const struct kimage *k, char *why, size_t whysz)
{
	switch (k->kind) {
	case KI_UNKNOWN:
	case KI_ELF:
	case KI_ARM64_IMAGE:
		snprintf(why, whysz, "%s: nothing to extract",
		    kimage_kind_str(k->kind));
		return 0;
	case KI_BZIMAGE:
	case KI_GZIP:
		break;
	}
	switch (k->codec) {
	case KC_GZIP:
	case KC_XZ:
	case KC_LZMA:
	case KC_ZSTD:
		snprintf(why, whysz, "%s, compressed with %s",
		    kimage_kind_str(k->kind), kimage_codec_str(k->codec));
		return 1;
	default:
		snprintf(why, whysz, "%s compressed with %s: domud extracts "
		    "gzip, xz, lzma and zstd only, so libxl undoes it at each "
		    "start", kimage_kind_str(k->kind), kimage_codec_str(k->codec));
		return -1;
	}
}

/* ---- extraction ------------------------------------------------------------ */

struct sink {
	int		 fd;
	uint64_t	 total;
	uint64_t	 limit;		/* stopped beyond it, before writing */
	const char	*what;		/* ... which says why */
	struct err	*e;
};

static int
sink_put(struct sink *s, const uint8_t *b, size_t n)
{
	if (s->total + n > s->limit)
		return err_set(s->e, EFBIG, "the plain kernel is larger than "
		    "%s (%" PRIu64 " bytes): stopped there", s->what,
		    s->limit);
	if (write_all(s->fd, b, n) == -1)
		return err_set(s->e, errno, "write: %s", strerror(errno));
	s->total += n;
	return 0;
}

static int
undo_gzip(const uint8_t *in, size_t n, struct sink *s)
{
	uint8_t out[OUT_CHUNK];
	z_stream z;
	int r, rc = -1;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return err_set(s->e, ENOMEM, "zlib: inflateInit2 failed");
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		r = inflate(&z, Z_NO_FLUSH);
		if (r != Z_OK && r != Z_STREAM_END) {
			err_set(s->e, EINVAL, "gzip: %s", z.msg ? z.msg :
			    "corrupt data");
			goto out;
		}
		if (sink_put(s, out, sizeof(out) - z.avail_out) == -1)
			goto out;
		if (r == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
			err_set(s->e, EINVAL, "gzip: truncated");
			goto out;
		}
	} while (r != Z_STREAM_END);
	rc = 0;
out:
	inflateEnd(&z);
	return rc;
}

static int
undo_lzma(const uint8_t *in, size_t n, int alone, struct sink *s)
{
	lzma_stream z = LZMA_STREAM_INIT;
	uint8_t out[OUT_CHUNK];
	lzma_ret r;
	int rc = -1;

	r = alone ? lzma_alone_decoder(&z, KIMAGE_LZMA_MEM) :
	    lzma_stream_decoder(&z, KIMAGE_LZMA_MEM, 0);
	if (r != LZMA_OK)
		return err_set(s->e, ENOMEM, "liblzma: decoder: error %d", r);
	z.next_in = in;
	z.avail_in = n;
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		/* the size the kernel's build appends follows the stream:
		 * LZMA_RUN stops at the stream's end without reading it */
		r = lzma_code(&z, LZMA_RUN);
		if (r == LZMA_MEMLIMIT_ERROR) {
			err_set(s->e, EFBIG, "%s: it needs more than %llu MiB "
			    "of memory to undo", alone ? "lzma" : "xz",
			    (unsigned long long)(KIMAGE_LZMA_MEM >> 20));
			goto out;
		}
		if (r != LZMA_OK && r != LZMA_STREAM_END) {
			err_set(s->e, EINVAL, "%s: corrupt data (liblzma "
			    "error %d)", alone ? "lzma" : "xz", r);
			goto out;
		}
		if (sink_put(s, out, sizeof(out) - z.avail_out) == -1)
			goto out;
		if (r == LZMA_OK && z.avail_in == 0 && z.avail_out != 0) {
			err_set(s->e, EINVAL, "%s: truncated", alone ? "lzma" :
			    "xz");
			goto out;
		}
	} while (r != LZMA_STREAM_END);
	rc = 0;
out:
	lzma_end(&z);
	return rc;
}

static int
undo_zstd(const uint8_t *in, size_t n, struct sink *s)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	uint8_t out[OUT_CHUNK];
	ZSTD_inBuffer ib = { in, n, 0 };
	size_t r;
	int rc = -1;

	if (z == NULL)
		return err_set(s->e, ENOMEM, "libzstd: no memory");
	/* the kernel is compressed with --ultra -22: a window of up to
	 * 128 MiB */
	ZSTD_DCtx_setParameter(z, ZSTD_d_windowLogMax, 27);
	for (;;) {
		ZSTD_outBuffer ob = { out, sizeof(out), 0 };

		r = ZSTD_decompressStream(z, &ob, &ib);
		if (ZSTD_isError(r)) {
			err_set(s->e, EINVAL, "zstd: %s", ZSTD_getErrorName(r));
			goto out;
		}
		if (sink_put(s, out, ob.pos) == -1)
			goto out;
		if (r == 0)
			break;		/* the frame is whole */
		if (ib.pos == ib.size && ob.pos < ob.size) {
			err_set(s->e, EINVAL, "zstd: truncated");
			goto out;
		}
	}
	rc = 0;
out:
	ZSTD_freeDStream(z);
	return rc;
}

int
kimage_extract(const uint8_t *p, size_t n, const struct kimage *k, int fd,
    uint64_t max, struct err *e)
{
	struct sink s = { fd, 0, KIMAGE_MAX, "domud's limit for a kernel", e };
	const uint8_t *in = p + k->payload_off;
	int r;

	if (k->payload_off > n || k->payload_len > n - k->payload_off)
		return err_set(e, EINVAL, "the payload lies outside the file");
	/* the first bound reached stops it, not the end of the stream */
	if (max && max < s.limit) {
		s.limit = max;
		s.what = "kernel_cache_max";
	}
	if (k->plain_size && k->plain_size < s.limit) {
		s.limit = k->plain_size;
		s.what = "the size the image says";
	}
	switch (k->codec) {
	case KC_GZIP:
		r = undo_gzip(in, k->payload_len, &s);
		break;
	case KC_XZ:
	case KC_LZMA:
		r = undo_lzma(in, k->payload_len, k->codec == KC_LZMA, &s);
		break;
	case KC_ZSTD:
		r = undo_zstd(in, k->payload_len, &s);
		break;
	default:
		return err_set(e, ENOTSUP, "%s payloads are not extracted",
		    kimage_codec_str(k->codec));
	}
	if (r == -1)
		return -1;
	return kimage_check_output(fd, k, s.total, e);
}

int
kimage_check_output(int fd, const struct kimage *k, uint64_t total,
    struct err *e)
{
	uint8_t head[64];
	ssize_t got;

	/* what came out must be a kernel, of the size the image says */
	if (total > KIMAGE_MAX)
		return err_set(e, EFBIG, "extracted %" PRIu64 " bytes", total);
	if (k->plain_size && (uint32_t)total != (uint32_t)k->plain_size)
		return err_set(e, EINVAL, "extracted %" PRIu64 " bytes, the "
		    "image says %" PRIu64, total, k->plain_size);
	got = pread(fd, head, sizeof(head), 0);
	if (got < 0)
		return err_set(e, errno, "read back: %s", strerror(errno));
	if (k->kind == KI_BZIMAGE ? !is_elf(head, (size_t)got) :
	    !is_elf(head, (size_t)got) && !is_arm64_image(head, (size_t)got))
		return err_set(e, EINVAL, "what the %s holds is not a kernel "
		    "(no ELF%s header)", kimage_kind_str(k->kind),
		    k->kind == KI_GZIP ? " or arm64 Image" : "");
	return 0;
}

int
kimage_describe(const char *path, char *why, size_t whysz)
{
	const uint8_t *map;
	struct kimage k;
	struct stat st;
	int fd, c;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size < 64 ||
	    (uint64_t)st.st_size > KIMAGE_MAX) {
		snprintf(why, whysz, "not a file domud can look into");
		if (fd != -1)
			close(fd);
		return 0;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(why, whysz, "mmap: %s", strerror(errno));
		return 0;
	}
	kimage_probe(map, (size_t)st.st_size, &k);
	c = kimage_cacheable(&k, why, whysz);
	munmap((void *)(uintptr_t)map, (size_t)st.st_size);
	return c;
}

/* ---- the cache -------------------------------------------------------------- */

struct kcache *
kcache_new(const char *dir, uint64_t max)
{
	struct kcache *kc = xcalloc(1, sizeof(*kc));
	struct dirent *de;
	DIR *d;

	/* as libsodium asks; what is used here (SHA-256, hex) needs none of
	 * its set-up, so a failure is said and costs the cache nothing */
	if (sodium_init() < 0)
		log_warnx("kernel cache: libsodium could not start");
	kc->dir = xstrdup(dir);
	kc->max = max;
	pthread_mutex_init(&kc->lock, NULL);
	/* extractions a dead domud left half done */
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strncmp(de->d_name, "t-", 2) == 0)
				(void)unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	return kc;
}

void
kcache_set_max(struct kcache *kc, uint64_t max)
{
	pthread_mutex_lock(&kc->lock);
	kc->max = max;
	pthread_mutex_unlock(&kc->lock);
}

void
kcache_free(struct kcache *kc)
{
	if (kc == NULL)
		return;
	pthread_mutex_destroy(&kc->lock);
	free(kc->dir);
	free(kc);
}

struct entry {
	char		 name[KEY_MAX + 16];
	uint64_t	 size;
	struct timespec	 mtime;
};

static int
entry_older(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* the plain kernels kept fit in max: the least recently used go first,
 * never keep (the one about to be used) */
static void
evict(struct kcache *kc, const char *keep)
{
	struct entry *v = NULL;
	struct dirent *de;
	struct stat st;
	size_t n = 0, cap = 0, i;
	uint64_t total = 0;
	DIR *d;

	if ((d = opendir(kc->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "k-", 2) != 0 ||
		    strlen(de->d_name) >= sizeof(v->name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		strlcpy_(v[n].name, de->d_name, sizeof(v[n].name));
		v[n].size = (uint64_t)st.st_size;
		v[n].mtime = st.st_mtim;
		total += v[n].size;
		n++;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), entry_older);
	for (i = 0; i < n && total > kc->max; i++) {
		if (strcmp(v[i].name, keep) == 0)
			continue;
		if (unlinkat(dirfd(d), v[i].name, 0) == 0) {
			char sz[32];

			format_size(sz, sizeof(sz), kc->max);
			log_info("kernel cache: %s removed (the cache is over "
			    "%s)", v[i].name, sz);
			total -= v[i].size;
		}
	}
	closedir(d);
	free(v);
}

/* an entry's name: the SHA-256 of the image it came from. A name of
 * another form (the CRC-32 names of before) is never looked up, only
 * evicted in its turn */
static void
key_of(const uint8_t d[KCACHE_SHA256_LEN], char key[KEY_MAX])
{
	char hex[2 * KCACHE_SHA256_LEN + 1];

	(void)sodium_bin2hex(hex, sizeof(hex), d, KCACHE_SHA256_LEN);
	(void)snprintf(key, KEY_MAX, "k-%s", hex);
}

/* what the image (by device and inode) was when hashed last: its size,
 * mtime and SHA-256. A v1 record (a CRC-32 key) is not read: rehashed */
static int
map_read(struct kcache *kc, const struct stat *st,
    uint8_t d[KCACHE_SHA256_LEN])
{
	char path[1024], hex[2 * KCACHE_SHA256_LEN + 1], *text;
	unsigned long long size, sec, nsec;
	const char *end;
	size_t n;
	int ok;

	snprintf(path, sizeof(path), "%s/s-%llx-%llx", kc->dir,
	    (unsigned long long)st->st_dev, (unsigned long long)st->st_ino);
	if ((text = fileio_read(path, 256)) == NULL)
		return -1;
	ok = sscanf(text, "v2 %llu %llu %llu %64s", &size, &sec, &nsec,
	    hex) == 4 &&
	    size == (unsigned long long)st->st_size &&
	    sec == (unsigned long long)st->st_mtim.tv_sec &&
	    nsec == (unsigned long long)st->st_mtim.tv_nsec &&
	    strlen(hex) == 2 * KCACHE_SHA256_LEN &&
	    sodium_hex2bin(d, KCACHE_SHA256_LEN, hex, strlen(hex), NULL, &n,
	    &end) == 0 && n == KCACHE_SHA256_LEN && *end == '\0';
	free(text);
	return ok ? 0 : -1;
}

static void
map_write(struct kcache *kc, const struct stat *st,
    const uint8_t d[KCACHE_SHA256_LEN])
{
	struct err e = ERR_INIT;
	char name[64], text[200], hex[2 * KCACHE_SHA256_LEN + 1];
	int n;

	snprintf(name, sizeof(name), "s-%llx-%llx",
	    (unsigned long long)st->st_dev, (unsigned long long)st->st_ino);
	(void)sodium_bin2hex(hex, sizeof(hex), d, KCACHE_SHA256_LEN);
	n = snprintf(text, sizeof(text), "v2 %llu %llu %llu %s",
	    (unsigned long long)st->st_size,
	    (unsigned long long)st->st_mtim.tv_sec,
	    (unsigned long long)st->st_mtim.tv_nsec, hex);
	if (fileio_write_atomic(kc->dir, name, text, (size_t)n, 0600, &e) == -1)
		log_warnx("kernel cache: %s", e.msg);
}

/* a regular file of ours, not empty */
static int
cached(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

/* in a child of its own when there is a helper (domud), here otherwise
 * (the unit tests' in-process path) */
static int
extract(struct kcache *kc, int fd, const uint8_t *map, size_t n,
    const struct kimage *k, int tfd, struct err *e)
{
	struct stat st;

	if (kc->helper == NULL)
		return kimage_extract(map, n, k, tfd, kc->max, e);
	if (kextract_spawn(kc->helper, fd, tfd, kc->max, e) == -1)
		return -1;
	/* the child is not trusted with the cache: what it wrote is
	 * checked as if it came from anywhere */
	if (fstat(tfd, &st) == -1)
		return err_set(e, errno, "fstat: %s", strerror(errno));
	return kimage_check_output(tfd, k, (uint64_t)st.st_size, e);
}

/* the size the image says must fit in what its filesystem has free,
 * before a byte is written */
static int
room_for(int fd, uint64_t need, struct err *e)
{
	struct statvfs vfs;
	uint64_t avail;

	if (need == 0 || fstatvfs(fd, &vfs) == -1)
		return 0;
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (avail < need)
		return err_set(e, ENOSPC, "the kernel cache's filesystem has "
		    "%" PRIu64 " bytes free, the plain kernel takes %" PRIu64,
		    avail, need);
	return 0;
}

static char *
get_locked(struct kcache *kc, const char *kernel, const uint8_t *sha256,
    int *hit, struct err *e)
{
	char key[KEY_MAX], path[1024], tmp[1100], why[200];
	char hex[2 * KCACHE_SHA256_LEN + 1];
	uint8_t seen[KCACHE_SHA256_LEN], dig[KCACHE_SHA256_LEN];
	const uint8_t *map = MAP_FAILED, *known = NULL;
	struct kimage k;
	struct stat st;
	char *out = NULL;
	int fd = -1, tfd = -1, c, mapped;

	*hit = 0;
	if ((fd = open(kernel, O_RDONLY | O_CLOEXEC)) == -1) {
		err_set(e, errno, "%s: %s", kernel, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		err_set(e, EINVAL, "%s: not a regular file", kernel);
		goto out;
	}
	/*
	 * The key without reading the image: the digest the caller vouches
	 * for (verified already), or the one this file had when hashed last
	 * and unchanged since. A file hashed to other than what the caller
	 * says is not trusted on its word: it is hashed again below.
	 */
	mapped = map_read(kc, &st, seen) == 0;
	if (sha256 != NULL) {
		if (!mapped || sodium_memcmp(seen, sha256,
		    KCACHE_SHA256_LEN) == 0)
			known = sha256;
	} else if (mapped)
		known = seen;
	if (known != NULL) {
		key_of(known, key);
		snprintf(path, sizeof(path), "%s/%s", kc->dir, key);
		if (cached(path)) {
			(void)utimensat(AT_FDCWD, path, NULL, 0);  /* used */
			*hit = 1;
			out = xstrdup(path);
			goto out;
		}
	}
	if (st.st_size < 64 || (uint64_t)st.st_size > KIMAGE_MAX) {
		out = xstrdup(kernel);	/* nothing domud can do for it */
		goto out;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		err_set(e, errno, "%s: mmap: %s", kernel, strerror(errno));
		goto out;
	}
	kimage_probe(map, (size_t)st.st_size, &k);
	if ((c = kimage_cacheable(&k, why, sizeof(why))) <= 0) {
		if (c == 0)
			out = xstrdup(kernel);
		else
			err_set(e, ENOTSUP, "%s: %s", kernel, why);
		goto out;
	}
	/* the same image elsewhere (a copy, a new path) is the same entry;
	 * what is extracted is always filed under its image's own digest,
	 * so a wrong one given never names an entry */
	crypto_hash_sha256(dig, map, (unsigned long long)st.st_size);
	if (sha256 != NULL && sodium_memcmp(dig, sha256,
	    KCACHE_SHA256_LEN) != 0) {
		(void)sodium_bin2hex(hex, sizeof(hex), sha256,
		    KCACHE_SHA256_LEN);
		err_set(e, EINVAL, "%s: its SHA-256 is not the one given for "
		    "it (%.16s...)", kernel, hex);
		goto out;
	}
	key_of(dig, key);
	snprintf(path, sizeof(path), "%s/%s", kc->dir, key);
	if (!cached(path)) {
		uint64_t t0 = mono_ms();

		kc->misses++;
		snprintf(tmp, sizeof(tmp), "%s/t-%ld-%s", kc->dir, (long)getpid(),
		    key);
		(void)unlink(tmp);
		if ((tfd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600)) == -1) {
			err_set(e, errno, "%s: %s", tmp, strerror(errno));
			goto out;
		}
		if (room_for(tfd, k.plain_size, e) == -1 ||
		    extract(kc, fd, map, (size_t)st.st_size, &k, tfd, e) ==
		    -1) {
			err_wrap(e, "%s (%s)", kernel, why);
			(void)unlink(tmp);
			goto out;
		}
		if (rename(tmp, path) == -1) {
			err_set(e, errno, "rename %s: %s", tmp, strerror(errno));
			(void)unlink(tmp);
			goto out;
		}
		log_info("kernel cache: %s (%s) extracted to %s in %llu ms",
		    kernel, why, key, (unsigned long long)(mono_ms() - t0));
	} else {
		(void)utimensat(AT_FDCWD, path, NULL, 0);
		*hit = 1;
	}
	map_write(kc, &st, dig);
	evict(kc, key);
	out = xstrdup(path);
out:
	if (map != MAP_FAILED)
		munmap((void *)(uintptr_t)map, (size_t)st.st_size);
	if (tfd != -1)
		close(tfd);
	if (fd != -1)
		close(fd);
	if (out && *hit)
		kc->hits++;
	return out;
}

char *
kcache_get(struct kcache *kc, const char *kernel, const uint8_t *sha256,
    int *hit, struct err *e)
{
	char *out;

	/* one extraction at a time: two services of one image make one
	 * entry, and eviction never takes a file from under another */
	pthread_mutex_lock(&kc->lock);
	if (mkdir(kc->dir, 0700) == -1 && errno != EEXIST) {
		err_set(e, errno, "%s: %s", kc->dir, strerror(errno));
		out = NULL;
	} else if (fileio_check_dir(kc->dir, e) == -1)
		out = NULL;
	else
		out = get_locked(kc, kernel, sha256, hit, e);
	pthread_mutex_unlock(&kc->lock);
	return out;
}
