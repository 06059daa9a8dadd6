// SPDX-License-Identifier: GPL-2.0-or-later
/* Kernel images and the kernel cache, on bzImages and Image.gz files made
 * here: a fake ELF kernel behind a real boot protocol header, compressed
 * with each codec. */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lzma.h>
#include <sodium.h>
#include <zlib.h>
#include <zstd.h>

#include "boot/kcache.h"
#include "helpers.h"
#include "base/util.h"

#define PLAIN_LEN	(300 * 1024)

/* an "ELF kernel": the magic, then bytes that compress but not to nothing */
static uint8_t *
plain_kernel(unsigned seed)
{
	uint8_t *k = xcalloc(1, PLAIN_LEN);
	size_t i;

	memcpy(k, "\x7f" "ELF", 4);
	for (i = 4; i < PLAIN_LEN; i++)
		k[i] = (uint8_t)((i * 7 + seed) % 251 + (i / 4096));
	return k;
}

static size_t
compress_with(enum kimage_codec c, const uint8_t *in, size_t n, uint8_t *out,
    size_t cap)
{
	size_t len = 0;

	switch (c) {
	case KC_GZIP: {
		z_stream z;

		memset(&z, 0, sizeof(z));
		ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8,
		    Z_DEFAULT_STRATEGY), Z_OK);
		z.next_in = (Bytef *)(uintptr_t)in;
		z.avail_in = (uInt)n;
		z.next_out = out;
		z.avail_out = (uInt)cap;
		ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
		len = z.total_out;
		deflateEnd(&z);
		break;
	}
	case KC_XZ:
		ck_assert_int_eq(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32,
		    NULL, in, n, out, &len, cap), LZMA_OK);
		break;
	case KC_ZSTD:
		len = ZSTD_compress(out, cap, in, n, 19);
		ck_assert(!ZSTD_isError(len));
		break;
	default:
		/* lz4 and the rest: only the magic matters */
		memcpy(out, "\x02\x21\x4c\x18", 4);
		memset(out + 4, 0x55, 60);
		len = 64;
		break;
	}
	return len;
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* a bzImage: setup sectors, the "HdrS" header, the payload with the
 * plain size after it (as the kernel's build appends it); its length in
 * *lenp, zeros after it up to 2 * PLAIN_LEN */
static uint8_t *
bzimage(enum kimage_codec c, unsigned seed, size_t *lenp)
{
	uint8_t *plain = plain_kernel(seed), *img = xcalloc(1, 2 * PLAIN_LEN);
	size_t setup = 5 * 512, pm = 1024, len;

	img[0x1f1] = 4;			/* setup_sects: (4 + 1) * 512 */
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = 0x0f;		/* protocol 2.15 */
	img[0x207] = 0x02;
	len = compress_with(c, plain, PLAIN_LEN, img + setup + pm,
	    PLAIN_LEN);
	put_le32(img + setup + pm + len, PLAIN_LEN);
	put_le32(img + 0x248, (uint32_t)pm);
	put_le32(img + 0x24c, (uint32_t)(len + 4));
	*lenp = setup + pm + len + 4 + 100;	/* and some trailing code */
	free(plain);
	return img;
}

static void
write_file(const char *path, const uint8_t *b, size_t n)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(b, 1, n, f), n);
	fclose(f);
}

static size_t
make_bzimage(const char *path, enum kimage_codec c, unsigned seed)
{
	size_t len;
	uint8_t *img = bzimage(c, seed, &len);

	write_file(path, img, len);
	free(img);
	return len;
}

/*
 * The last 4 bytes of b[0, n) chosen so that its CRC-32 is want. The
 * reflected CRC register takes those bytes xor'd in, then 32 shifts, a
 * bijection: undone bit by bit from the register wanted at the end.
 */
static void
force_crc(uint8_t *b, size_t n, uint32_t want)
{
	uint32_t reg = ~(uint32_t)crc32_z(0, b, n - 4), r = ~want;
	int i;

	for (i = 0; i < 32; i++)
		r = r & 0x80000000U ? ((r ^ 0xedb88320U) << 1) | 1 : r << 1;
	put_le32(b + n - 4, r ^ reg);
	ck_assert_uint_eq(crc32_z(0, b, n), want);
}

static uint8_t *
slurp(const char *path, size_t *n)
{
	struct stat st;
	uint8_t *b;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	b = xcalloc(1, (size_t)st.st_size + 1);
	ck_assert_int_eq(read(fd, b, (size_t)st.st_size), st.st_size);
	close(fd);
	*n = (size_t)st.st_size;
	return b;
}

/* each codec domud undoes gives back the plain kernel, byte for byte */
START_TEST(extract_each_codec)
{
	static const enum kimage_codec codecs[] = { KC_GZIP, KC_XZ, KC_ZSTD };
	char *dir = t_tmpdir(), img[512], cache[512], why[200];
	uint8_t *plain = plain_kernel(1), *b;
	struct kcache *kc;
	struct err e = ERR_INIT;
	struct kimage k;
	size_t i, n;
	char *got;
	int hit;

	snprintf(cache, sizeof(cache), "%s/kernels", dir);
	kc = kcache_new(cache, 64ULL << 20);
	for (i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
		snprintf(img, sizeof(img), "%s/vmlinuz-%zu", dir, i);
		make_bzimage(img, codecs[i], 1);
		b = slurp(img, &n);
		kimage_probe(b, n, &k);
		ck_assert_int_eq(k.kind, KI_BZIMAGE);
		ck_assert_int_eq(k.codec, codecs[i]);
		ck_assert_uint_eq(k.plain_size, PLAIN_LEN);
		ck_assert_int_eq(kimage_cacheable(&k, why, sizeof(why)), 1);
		free(b);
		got = kcache_get(kc, img, NULL, &hit, &e);
		ck_assert_msg(got != NULL, "%s: %s", kimage_codec_str(codecs[i]),
		    e.msg);
		ck_assert_int_eq(hit, 0);
		ck_assert_ptr_nonnull(strstr(got, "/kernels/k-"));
		b = slurp(got, &n);
		ck_assert_uint_eq(n, PLAIN_LEN);
		ck_assert(memcmp(b, plain, PLAIN_LEN) == 0);
		free(b);
		free(got);
		/* again: found by the image's inode, size and mtime */
		got = kcache_get(kc, img, NULL, &hit, &e);
		ck_assert_ptr_nonnull(got);
		ck_assert_int_eq(hit, 1);
		free(got);
	}
	ck_assert_uint_eq(kc->misses, 3);
	kcache_free(kc);
	free(plain);
	t_rmtree(dir);
}
END_TEST

/* plain kernels are given as they are; lz4 is refused with the reason;
 * a payload that is not what it claims fails, and nothing is cached */
START_TEST(refused_and_plain)
{
	char *dir = t_tmpdir(), img[512], cache[512], p[600];
	uint8_t *plain = plain_kernel(2);
	struct kcache *kc;
	struct err e = ERR_INIT;
	char *got;
	int hit, fd;

	snprintf(cache, sizeof(cache), "%s/kernels", dir);
	kc = kcache_new(cache, 64ULL << 20);
	snprintf(img, sizeof(img), "%s/vmlinux", dir);
	fd = open(img, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_eq(write(fd, plain, 4096), 4096);
	close(fd);
	got = kcache_get(kc, img, NULL, &hit, &e);
	ck_assert_str_eq(got, img);
	free(got);

	snprintf(img, sizeof(img), "%s/vmlinuz-lz4", dir);
	make_bzimage(img, KC_LZ4, 2);
	ck_assert_ptr_null(kcache_get(kc, img, NULL, &hit, &e));
	ck_assert_msg(strstr(e.msg, "compressed with lz4: domud extracts gzip, "
	    "xz, lzma and zstd only") != NULL, "%s", e.msg);

	/* a gzip payload whose trailer lies about the size */
	snprintf(img, sizeof(img), "%s/vmlinuz-liar", dir);
	{
		size_t n = make_bzimage(img, KC_GZIP, 2), off;
		uint8_t *b = slurp(img, &n);

		off = 5 * 512 + 1024 + (size_t)(b[0x24c] | b[0x24d] << 8 |
		    b[0x24e] << 16) - 4;
		put_le32(b + off, PLAIN_LEN + 1);
		fd = open(img, O_WRONLY | O_TRUNC);
		ck_assert_int_eq(write(fd, b, n), (ssize_t)n);
		close(fd);
		free(b);
	}
	err_clear(&e);
	ck_assert_ptr_null(kcache_get(kc, img, NULL, &hit, &e));
	ck_assert_msg(strstr(e.msg, "the image says") != NULL, "%s", e.msg);
	/* nothing half-made stays */
	snprintf(p, sizeof(p), "%s/kernels", dir);
	{
		DIR *d = opendir(p);
		struct dirent *de;

		ck_assert_ptr_nonnull(d);
		while ((de = readdir(d)) != NULL)
			ck_assert_msg(de->d_name[0] == '.' ||
			    strncmp(de->d_name, "s-", 2) == 0, "left: %s",
			    de->d_name);
		closedir(d);
	}
	kcache_free(kc);
	free(plain);
	t_rmtree(dir);
}
END_TEST

/* a changed image is extracted again; the cache stays within its bound,
 * the least recently used going first */
START_TEST(rebuilt_and_bounded)
{
	char *dir = t_tmpdir(), a[512], b[512], cache[512];
	struct kcache *kc;
	struct err e = ERR_INIT;
	struct timespec ts[2];
	char *ka, *kb, *ka2;
	int hit;

	snprintf(cache, sizeof(cache), "%s/kernels", dir);
	/* room for one plain kernel and a little */
	kc = kcache_new(cache, PLAIN_LEN + PLAIN_LEN / 2);
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	make_bzimage(a, KC_GZIP, 3);
	ka = kcache_get(kc, a, NULL, &hit, &e);
	ck_assert_ptr_nonnull(ka);
	/* a new build of the same file: new content, new mtime */
	make_bzimage(a, KC_GZIP, 4);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) + 10;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, a, ts, 0), 0);
	ka2 = kcache_get(kc, a, NULL, &hit, &e);
	ck_assert_ptr_nonnull(ka2);
	ck_assert_int_eq(hit, 0);
	ck_assert_str_ne(ka, ka2);
	/* the older entry went: the bound holds one */
	ck_assert_int_eq(access(ka, F_OK), -1);
	ck_assert_int_eq(access(ka2, F_OK), 0);
	make_bzimage(b, KC_XZ, 5);
	kb = kcache_get(kc, b, NULL, &hit, &e);
	ck_assert_ptr_nonnull(kb);
	ck_assert_int_eq(access(kb, F_OK), 0);
	ck_assert_int_eq(access(ka2, F_OK), -1);
	free(ka);
	free(ka2);
	free(kb);
	kcache_free(kc);
	t_rmtree(dir);
}
END_TEST

/* arm64's Image.gz: a whole gzip file around an Image */
START_TEST(arm64_image_gz)
{
	uint8_t *img = xcalloc(1, PLAIN_LEN), *gz = xcalloc(1, PLAIN_LEN);
	char *dir = t_tmpdir(), path[512], cache[512];
	struct kcache *kc;
	struct err e = ERR_INIT;
	struct kimage k;
	size_t len, i;
	char *got;
	int hit, fd;

	for (i = 0; i < PLAIN_LEN; i++)
		img[i] = (uint8_t)(i % 13);
	memcpy(img + 0x38, "ARM\x64", 4);
	kimage_probe(img, PLAIN_LEN, &k);
	ck_assert_int_eq(k.kind, KI_ARM64_IMAGE);
	len = compress_with(KC_GZIP, img, PLAIN_LEN, gz, PLAIN_LEN);
	kimage_probe(gz, len, &k);
	ck_assert_int_eq(k.kind, KI_GZIP);
	ck_assert_uint_eq(k.plain_size, PLAIN_LEN);
	snprintf(path, sizeof(path), "%s/Image.gz", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_eq(write(fd, gz, len), (ssize_t)len);
	close(fd);
	snprintf(cache, sizeof(cache), "%s/kernels", dir);
	kc = kcache_new(cache, 64ULL << 20);
	got = kcache_get(kc, path, NULL, &hit, &e);
	ck_assert_msg(got != NULL, "%s", e.msg);
	ck_assert_str_ne(got, path);
	free(got);
	kcache_free(kc);
	free(img);
	free(gz);
	t_rmtree(dir);
}
END_TEST

/*
 * Review finding 3: a stream whose trailer claims 64 KiB but holds far
 * more is stopped at what the trailer says, before the rest is written;
 * kernel_cache_max bounds it the same way
 */
START_TEST(extraction_bounded)
{
	size_t big = 4u << 20, len;
	uint8_t *zeros = xcalloc(1, big), *gz = xcalloc(1, big);
	char *dir = t_tmpdir(), path[512];
	struct err e = ERR_INIT;
	struct kimage k;
	struct stat st;
	int fd;

	memcpy(zeros + 0x38, "ARM\x64", 4);
	len = compress_with(KC_GZIP, zeros, big, gz, big);
	put_le32(gz + len - 4, 64 << 10);	/* the trailer lies */
	kimage_probe(gz, len, &k);
	ck_assert_int_eq(k.kind, KI_GZIP);
	ck_assert_uint_eq(k.plain_size, 64 << 10);
	snprintf(path, sizeof(path), "%s/out", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	ck_assert_int_eq(kimage_extract(gz, len, &k, fd, 0, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "the size the image says"));
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_le(st.st_size, 64 << 10);
	close(fd);
	/* honest, but more than the cache may hold */
	put_le32(gz + len - 4, (uint32_t)big);
	kimage_probe(gz, len, &k);
	fd = open(path, O_RDWR | O_TRUNC, 0600);
	err_clear(&e);
	ck_assert_int_eq(kimage_extract(gz, len, &k, fd, 1 << 20, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "kernel_cache_max"));
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_le(st.st_size, 1 << 20);
	/* within both: whole */
	ck_assert_int_eq(ftruncate(fd, 0), 0);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	err_clear(&e);
	ck_assert_msg(kimage_extract(gz, len, &k, fd, 8 << 20, &e) == 0, "%s",
	    e.msg);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, (off_t)big);
	close(fd);
	free(zeros);
	free(gz);
	t_rmtree(dir);
}
END_TEST

/*
 * Issue 26: images are undone in a child (domud --kernel-extract, as
 * nobody, no new descriptors): the same plain kernel as in process; its
 * refusals come back as the reason; what it writes is checked as if it
 * came from anywhere (a helper that writes nothing is refused)
 */
START_TEST(extraction_in_a_child)
{
	static const enum kimage_codec codecs[] = { KC_GZIP, KC_XZ, KC_ZSTD };
	const char *domud = getenv("DOMUD");
	char *dir = t_tmpdir(), img[512], cache[512], *got, *want;
	uint8_t *a, *b;
	size_t na, nb, i;
	struct kcache *kc, *mine;
	struct err e = ERR_INIT;
	int hit;

	ck_assert_msg(domud != NULL, "DOMUD (domud's binary) is not set");
	snprintf(cache, sizeof(cache), "%s/kernels", dir);
	kc = kcache_new(cache, 64ULL << 20);
	kc->helper = domud;
	snprintf(img, sizeof(img), "%s/kernels-here", dir);
	mine = kcache_new(img, 64ULL << 20);
	for (i = 0; i < nitems(codecs); i++) {
		snprintf(img, sizeof(img), "%s/bz%zu", dir, i);
		make_bzimage(img, codecs[i], 11 + (unsigned)i);
		got = kcache_get(kc, img, NULL, &hit, &e);
		ck_assert_msg(got != NULL, "%s", e.msg);
		ck_assert_str_ne(got, img);
		want = kcache_get(mine, img, NULL, &hit, &e);
		ck_assert_ptr_nonnull(want);
		a = slurp(got, &na);
		b = slurp(want, &nb);
		ck_assert_uint_eq(na, PLAIN_LEN);
		ck_assert_uint_eq(na, nb);
		ck_assert_mem_eq(a, b, na);
		free(a);
		free(b);
		free(got);
		free(want);
	}
	/* the child's reason, back: a trailer that lies */
	{
		uint8_t *bz;
		size_t len;
		FILE *fp;

		bz = bzimage(KC_GZIP, 21, &len);
		put_le32(bz + len - 104,
		    PLAIN_LEN / 2);
		snprintf(img, sizeof(img), "%s/liar", dir);
		fp = fopen(img, "w");
		ck_assert_uint_eq(fwrite(bz, 1, len, fp), len);
		fclose(fp);
		free(bz);
		err_clear(&e);
		ck_assert_ptr_null(kcache_get(kc, img, NULL, &hit, &e));
		ck_assert_msg(strstr(e.msg, "the size the image says") != NULL,
		    "%s", e.msg);
	}
	/* a helper that writes nothing and says all went well */
	kc->helper = "/bin/true";
	snprintf(img, sizeof(img), "%s/bz-true", dir);
	make_bzimage(img, KC_GZIP, 31);
	err_clear(&e);
	ck_assert_ptr_null(kcache_get(kc, img, NULL, &hit, &e));
	ck_assert_msg(strstr(e.msg, "extracted 0 bytes") != NULL, "%s", e.msg);
	kcache_free(kc);
	kcache_free(mine);
	t_rmtree(dir);
}
END_TEST

/* two images of one size and one CRC-32, different kernels in them: each
 * caller gets its own (a CRC key gave the second one the first's) */
START_TEST(crc_collision)
{
	char *dir = t_tmpdir(), a[512], b[512], cache[512];
	uint8_t *ia, *ib, *pa = plain_kernel(10), *pb = plain_kernel(11), *got;
	size_t na, nb, n;
	struct kcache *kc;
	struct err e = ERR_INIT;
	char *ka, *kb;
	int hit;

	ia = bzimage(KC_GZIP, 10, &na);
	ib = bzimage(KC_GZIP, 11, &nb);
	n = na > nb ? na : nb;		/* zeros after the shorter one */
	force_crc(ib, n, (uint32_t)crc32_z(0, ia, n));
	ck_assert(memcmp(ia, ib, n) != 0);
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	write_file(a, ia, n);
	write_file(b, ib, n);
	snprintf(cache, sizeof(cache), "%s/kernels", dir);
	kc = kcache_new(cache, 64ULL << 20);
	ka = kcache_get(kc, a, NULL, &hit, &e);
	ck_assert_msg(ka != NULL, "%s", e.msg);
	ck_assert_int_eq(hit, 0);
	kb = kcache_get(kc, b, NULL, &hit, &e);
	ck_assert_msg(kb != NULL, "%s", e.msg);
	ck_assert_int_eq(hit, 0);
	ck_assert_str_ne(ka, kb);
	got = slurp(ka, &n);
	ck_assert_uint_eq(n, PLAIN_LEN);
	ck_assert(memcmp(got, pa, PLAIN_LEN) == 0);
	free(got);
	got = slurp(kb, &n);
	ck_assert_uint_eq(n, PLAIN_LEN);
	ck_assert_msg(memcmp(got, pb, PLAIN_LEN) == 0, "b was given a's kernel");
	free(got);
	free(ka);
	free(kb);
	kcache_free(kc);
	free(ia);
	free(ib);
	free(pa);
	free(pb);
	t_rmtree(dir);
}
END_TEST

/* the k- entries in dir */
static int
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, "k-", 2) == 0;
	closedir(d);
	return n;
}

static void
sha256_of(const char *path, uint8_t d[KCACHE_SHA256_LEN])
{
	size_t n;
	uint8_t *b = slurp(path, &n);

	crypto_hash_sha256(d, b, n);
	free(b);
}

static void
same_kernel(const char *path, unsigned seed)
{
	uint8_t *plain = plain_kernel(seed), *got;
	size_t n;

	got = slurp(path, &n);
	ck_assert_uint_eq(n, PLAIN_LEN);
	ck_assert_msg(memcmp(got, plain, PLAIN_LEN) == 0, "%s: not the kernel "
	    "of seed %u", path, seed);
	free(got);
	free(plain);
}

/*
 * A digest the caller verified (an update slot's) is the key: an entry
 * under it is used without reading the image. An image that must be
 * extracted is hashed all the same, and one that does not hash to the
 * digest given is refused and files nothing; nor is a file the cache
 * hashed to something else taken on the caller's word.
 */
START_TEST(slot_digest)
{
	char *dir = t_tmpdir(), a[512], a2[512], c[512], b[512], cache[512];
	uint8_t da[KCACHE_SHA256_LEN], db[KCACHE_SHA256_LEN];
	uint8_t wrong[KCACHE_SHA256_LEN];
	struct kcache *kc;
	struct err e = ERR_INIT;
	char *got, *ka;
	int hit;

	snprintf(cache, sizeof(cache), "%s/kernels", dir);
	kc = kcache_new(cache, 64ULL << 20);
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(a2, sizeof(a2), "%s/a2", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	snprintf(c, sizeof(c), "%s/c", dir);
	make_bzimage(a, KC_GZIP, 20);
	make_bzimage(a2, KC_GZIP, 20);
	make_bzimage(b, KC_XZ, 22);
	make_bzimage(c, KC_GZIP, 23);
	sha256_of(a, da);
	sha256_of(b, db);

	ka = kcache_get(kc, a, da, &hit, &e);
	ck_assert_msg(ka != NULL, "%s", e.msg);
	ck_assert_int_eq(hit, 0);
	same_kernel(ka, 20);
	/* a copy elsewhere (the next slot, the same kernel): a hit */
	got = kcache_get(kc, a2, da, &hit, &e);
	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq(hit, 1);
	ck_assert_str_eq(got, ka);
	free(got);
	/* the image is not read on a hit: c's bytes are not looked at, the
	 * entry is what an image of that digest holds */
	got = kcache_get(kc, c, da, &hit, &e);
	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq(hit, 1);
	ck_assert_str_eq(got, ka);
	free(got);
	ck_assert_uint_eq(kc->misses, 1);

	/* to extract, the image must be what the caller says */
	memcpy(wrong, db, sizeof(wrong));
	wrong[0] ^= 1;
	ck_assert_ptr_null(kcache_get(kc, b, wrong, &hit, &e));
	ck_assert_msg(strstr(e.msg, "SHA-256 is not the one given") != NULL,
	    "%s", e.msg);
	ck_assert_int_eq(entries(cache), 1);
	ck_assert_uint_eq(kc->misses, 1);

	/* b hashed once here: a's digest said of it is not believed */
	err_clear(&e);
	got = kcache_get(kc, b, NULL, &hit, &e);
	ck_assert_ptr_nonnull(got);
	same_kernel(got, 22);
	free(got);
	ck_assert_ptr_null(kcache_get(kc, b, da, &hit, &e));
	ck_assert_msg(strstr(e.msg, "SHA-256 is not the one given") != NULL,
	    "%s", e.msg);
	got = kcache_get(kc, b, db, &hit, &e);
	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq(hit, 1);
	same_kernel(got, 22);
	free(got);
	free(ka);
	kcache_free(kc);
	t_rmtree(dir);
}
END_TEST

/* a cache of before (CRC-32 names, v1 records) is not used: the image is
 * extracted again, and the old entry goes when the bound needs room */
START_TEST(old_layout)
{
	char *dir = t_tmpdir(), a[512], cache[512], old[600], rec[600];
	char text[200];
	struct timespec ts[2] = { { 1000, 0 }, { 1000, 0 } };
	struct kcache *kc;
	struct err e = ERR_INIT;
	struct stat st;
	uint8_t *junk = xcalloc(1, PLAIN_LEN);
	char *got;
	int hit, n;

	snprintf(cache, sizeof(cache), "%s/kernels", dir);
	ck_assert_int_eq(mkdir(cache, 0700), 0);
	snprintf(a, sizeof(a), "%s/a", dir);
	make_bzimage(a, KC_GZIP, 30);
	ck_assert_int_eq(stat(a, &st), 0);
	/* what the old cache made of it: an entry and the image's record */
	snprintf(old, sizeof(old), "%s/k-0badc0de-%llu", cache,
	    (unsigned long long)st.st_size);
	memcpy(junk, "\x7f" "ELF", 4);
	write_file(old, junk, PLAIN_LEN);
	ck_assert_int_eq(utimensat(AT_FDCWD, old, ts, 0), 0);
	snprintf(rec, sizeof(rec), "%s/s-%llx-%llx", cache,
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	n = snprintf(text, sizeof(text), "v1 %llu %llu %llu k-0badc0de-%llu",
	    (unsigned long long)st.st_size,
	    (unsigned long long)st.st_mtim.tv_sec,
	    (unsigned long long)st.st_mtim.tv_nsec,
	    (unsigned long long)st.st_size);
	write_file(rec, (const uint8_t *)text, (size_t)n);

	kc = kcache_new(cache, PLAIN_LEN + PLAIN_LEN / 2);
	got = kcache_get(kc, a, NULL, &hit, &e);
	ck_assert_msg(got != NULL, "%s", e.msg);
	ck_assert_int_eq(hit, 0);
	ck_assert_str_ne(got, old);
	same_kernel(got, 30);
	ck_assert_int_eq(access(old, F_OK), -1);
	free(got);
	/* and its new record finds it again */
	got = kcache_get(kc, a, NULL, &hit, &e);
	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq(hit, 1);
	free(got);
	kcache_free(kc);
	free(junk);
	t_rmtree(dir);
}
END_TEST

Suite *
kcache_suite(void)
{
	Suite *s = suite_create("kcache");
	TCase *tc = tcase_create("kcache");

	tcase_add_test(tc, extract_each_codec);
	tcase_add_test(tc, refused_and_plain);
	tcase_add_test(tc, rebuilt_and_bounded);
	tcase_add_test(tc, arm64_image_gz);
	tcase_add_test(tc, crc_collision);
	tcase_add_test(tc, extraction_bounded);
	tcase_add_test(tc, extraction_in_a_child);
	tcase_add_test(tc, slot_digest);
	tcase_add_test(tc, old_layout);
	suite_add_tcase(s, tc);
	return s;
}
