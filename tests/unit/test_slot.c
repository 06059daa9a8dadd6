// SPDX-License-Identifier: GPL-2.0-or-later
/* Update slots: manifests, signify signatures (one made by OpenBSD's
 * signify itself), and stages that verify whole or leave nothing. */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "boot/slot.h"
#include "base/util.h"
#include "helpers.h"

/* made with signify-openbsd 30 (Debian): -G -n, then -S -m manifest */
static const char signify_pub[] =
    "untrusted comment: domud test key public key\n"
    "RWQkyM595J1u8qw9v0AUC3RPTv5R8v/eDJeWWRyI7aKtXD71+nTjyp2N\n";
static const char signify_msg[] =
    "{\"version\":\"2\",\"files\":{\"kernel\":{\"sha256\":"
    "\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\","
    "\"size\":5}}}";
static const char signify_sig[] =
    "untrusted comment: verify with t.pub\n"
    "RWQkyM595J1u8lZdnQyDe5BgPWrr3AGrFyBOBtSuAxpD3n26xi93dqQ3Y6qYWDZ+ad9LFO0F"
    "3aa5UeyQdFXP/Q4CXtErr1VvGwE=\n";

static int
verify(const char *pub, const char *sig, const char *msg, size_t len,
    struct err *e)
{
	err_clear(e);
	return slot_verify(pub, strlen(pub), sig, strlen(sig), msg, len, e);
}

/* a signify file of our own making: "Ed", keynum, then the bytes */
static char *
signify_file(const char *comment, const uint8_t keynum[8], const uint8_t *b,
    size_t n)
{
	uint8_t raw[2 + 8 + crypto_sign_BYTES];
	char b64[256], *out = xcalloc(1, 512);

	raw[0] = 'E';
	raw[1] = 'd';
	memcpy(raw + 2, keynum, 8);
	memcpy(raw + 10, b, n);
	sodium_bin2base64(b64, sizeof(b64), raw, 10 + n,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, 512, "untrusted comment: %s\n%s\n", comment, b64);
	return out;
}

START_TEST(signify_signatures)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	uint8_t sig[crypto_sign_BYTES], num[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t other[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	struct err e = ERR_INIT;
	char *msg = xstrdup(signify_msg), *mypub, *mysig, *theirs;
	size_t len = strlen(msg);

	ck_assert_int_ge(sodium_init(), 0);
	/* signify's own */
	ck_assert_msg(verify(signify_pub, signify_sig, msg, len, &e) == 0,
	    "%s", e.msg);
	msg[20] ^= 1;
	ck_assert_int_eq(verify(signify_pub, signify_sig, msg, len, &e), -1);
	ck_assert_str_eq(e.msg, "the signature does not match it");
	msg[20] ^= 1;
	ck_assert_int_eq(verify(signify_pub, signify_sig, msg, len - 1, &e), -1);

	/* one of ours: same format; another key's number; another key */
	crypto_sign_keypair(pk, sk);
	crypto_sign_detached(sig, NULL, (const uint8_t *)msg, len, sk);
	mypub = signify_file("k public key", num, pk, sizeof(pk));
	mysig = signify_file("verify with k.pub", num, sig, sizeof(sig));
	ck_assert_msg(verify(mypub, mysig, msg, len, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(verify(signify_pub, mysig, msg, len, &e), -1);
	ck_assert_str_eq(e.msg, "signed with another key");
	theirs = signify_file("k2 public key", num, pk, sizeof(pk));
	theirs[strlen(theirs) - 3] ^= 1;	/* another key, same number */
	ck_assert_int_eq(verify(theirs, mysig, msg, len, &e), -1);
	free(theirs);
	theirs = signify_file("x", other, sig, sizeof(sig));
	ck_assert_int_eq(verify(mypub, theirs, msg, len, &e), -1);
	ck_assert_str_eq(e.msg, "signed with another key");

	/* what is not a signify file */
	ck_assert_int_eq(verify("RWQkyM595J1u8\n", mysig, msg, len, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "public key: not a signify file"));
	ck_assert_int_eq(verify(mypub, "untrusted comment: x\nnot base64!\n",
	    msg, len, &e), -1);
	ck_assert_str_eq(e.msg, "signature: not a signify Ed25519 signature");
	ck_assert_int_eq(verify(mysig, mysig, msg, len, &e), -1);
	ck_assert_str_eq(e.msg, "public key: not a signify Ed25519 public key");
	ck_assert_int_eq(verify(mypub, "untrusted comment: x\n\n\n", msg, len,
	    &e), -1);
	free(theirs);
	free(mypub);
	free(mysig);
	free(msg);
}
END_TEST

/* the same version, command line and files, member by member */
static int
same_manifest(const struct slot_manifest *a, const struct slot_manifest *b)
{
	size_t i;

	if (strcmp(a->version, b->version) != 0 ||
	    a->has_cmdline != b->has_cmdline ||
	    strcmp(a->cmdline, b->cmdline) != 0 || a->nfiles != b->nfiles)
		return 0;
	for (i = 0; i < a->nfiles; i++)
		if (strcmp(a->files[i].name, b->files[i].name) != 0 ||
		    a->files[i].size != b->files[i].size ||
		    memcmp(a->files[i].sha256, b->files[i].sha256,
		    SLOT_SHA256_LEN) != 0)
			return 0;
	return 1;
}

static int
parse(const char *json, struct slot_manifest *m, struct err *e)
{
	err_clear(e);
	return slot_manifest_parse(json, strlen(json), m, e);
}

#define H64 "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

START_TEST(manifests)
{
	static const struct {
		const char	*json;
		const char	*msg;	/* NULL: good */
	} c[] = {
		{ "{\"version\":\"2.1\",\"cmdline\":\"console=hvc0\",\"files\":"
		  "{\"kernel\":{\"sha256\":\"" H64 "\",\"size\":5},"
		  "\"disk:xvda\":{\"size\":0,\"sha256\":\"" H64 "\"}}}", NULL },
		{ "[]", "not a JSON object" },
		{ "{\"files\":{}}", "files: no kernel" },
		{ "{\"versoin\":\"1\"}", "unknown key versoin" },
		{ "{\"files\":{\"initrd\":{}}}", "files: initrd: not a file a "
		  "slot holds (kernel, ramdisk, device_tree, disk:VDEV)" },
		{ "{\"files\":{\"disk:XVDA\":{}}}", "files: disk:XVDA: not a "
		  "file a slot holds (kernel, ramdisk, device_tree, disk:VDEV)" },
		{ "{\"files\":{\"kernel\":{\"sha256\":\"abc\",\"size\":5}}}",
		  "files: kernel: sha256 is not 64 hex digits" },
		{ "{\"files\":{\"kernel\":{\"sha256\":\"" H64 "\",\"size\":-1}}}",
		  "files: kernel: size is not a whole number of bytes" },
		{ "{\"files\":{\"kernel\":{\"sha256\":\"" H64 "\",\"size\":1.5}}}",
		  "files: kernel: size is not a whole number of bytes" },
		{ "{\"files\":{\"kernel\":{\"sha256\":\"" H64 "\",\"size\":5,"
		  "\"mode\":1}}}", "files: kernel: unknown key mode" },
		{ "{\"files\":{\"kernel\":{\"sha256\":\"" H64 "\",\"size\":5},"
		  "\"kernel\":{\"sha256\":\"" H64 "\",\"size\":5}}}",
		  "files: kernel named twice" },
		{ "{\"version\":\"a\\nb\"}", "version: not a line of text under "
		  "64 bytes" },
		{ "{\"files\":", NULL /* any "not JSON" */ },
	};
	struct slot_manifest m;
	struct err e = ERR_INIT;
	char *big, *json;
	size_t i, len;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int rc = parse(c[i].json, &m, &e);

		if (i == 0) {
			ck_assert_msg(rc == 0, "%s", e.msg);
			ck_assert_str_eq(m.version, "2.1");
			ck_assert_str_eq(m.cmdline, "console=hvc0");
			ck_assert_uint_eq(m.nfiles, 2);
			ck_assert_uint_eq(slot_manifest_find(&m, "kernel")->size, 5);
			/* its canonical JSON reads back the same */
			json = slot_manifest_json(&m, &len);
			ck_assert_ptr_nonnull(json);
			{
				struct slot_manifest m2;

				ck_assert_int_eq(parse(json, &m2, &e), 0);
				ck_assert(same_manifest(&m, &m2));
			}
			free(json);
			continue;
		}
		ck_assert_msg(rc == -1, "case %zu was taken", i);
		if (c[i].msg != NULL)
			ck_assert_str_eq(e.msg, c[i].msg);
		else
			ck_assert_ptr_nonnull(strstr(e.msg, "not JSON"));
		ck_assert_uint_eq(m.nfiles, 0);
	}
	big = xcalloc(1, SLOT_MANIFEST_MAX + 2);
	memset(big, ' ', SLOT_MANIFEST_MAX + 1);
	ck_assert_int_eq(parse(big, &m, &e), -1);
	ck_assert_str_eq(e.msg, "over 65536 bytes");
	free(big);
	ck_assert_int_eq(slot_manifest_parse("{}\0{}", 5, &m, &e), -1);
	ck_assert_str_eq(e.msg, "a NUL byte in it");
}
END_TEST

/* a file of n bytes of a pattern, open for reading */
static int
source(const char *dir, const char *name, size_t n, unsigned seed)
{
	char path[512];
	uint8_t *b = xcalloc(1, n + 1);
	size_t i;
	int fd;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 31 + seed);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, b, n), (ssize_t)n);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	free(b);
	return fd;
}

static void
rewind_all(struct slot_src *s, size_t n)
{
	while (n-- > 0)
		ck_assert_int_eq(lseek(s[n].fd, 0, SEEK_SET), 0);
}

/* the sources' own manifest, from a stage without one */
struct fixture {
	char		*dir;
	int		 store;
	struct slot_src	 src[3];
	struct slot_manifest want;
};

static void
fixture_open(struct fixture *f)
{
	struct err e = ERR_INIT;
	char path[512];

	f->dir = t_tmpdir();
	snprintf(path, sizeof(path), "%s/store", f->dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	f->store = open(path, O_RDONLY | O_DIRECTORY);
	f->src[0] = (struct slot_src){ "kernel", source(f->dir, "k", 200000, 1), NULL };
	f->src[1] = (struct slot_src){ "ramdisk", source(f->dir, "r", 70000, 2), NULL };
	f->src[2] = (struct slot_src){ "disk:xvda", source(f->dir, "d", 0, 3), NULL };
	ck_assert_msg(slot_stage(f->store, "ref", f->src, 3, NULL, 1 << 20,
	    &f->want, &e) == 0, "%s", e.msg);
	snprintf(f->want.version, sizeof(f->want.version), "v2");
	ck_assert_int_eq(slot_remove(f->store, "ref", &e), 0);
	rewind_all(f->src, 3);
}

static void
fixture_close(struct fixture *f)
{
	size_t i;

	for (i = 0; i < 3; i++)
		close(f->src[i].fd);
	close(f->store);
	t_rmtree(f->dir);
}

static int
gen_exists(const struct fixture *f, const char *gen)
{
	struct stat st;

	return fstatat(f->store, gen, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

START_TEST(stage_verified)
{
	struct fixture f;
	struct slot_manifest got, back;
	struct err e = ERR_INIT;
	char buf[1024];
	struct stat st;
	ssize_t n;
	int fd;

	fixture_open(&f);
	ck_assert_msg(slot_stage(f.store, "b-1", f.src, 3, &f.want, 1 << 20,
	    &got, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(got.version, "v2");
	ck_assert_uint_eq(got.nfiles, 3);
	/* the files are there, whole, and the record says what they are */
	ck_assert_int_eq(fstatat(f.store, "b-1/kernel", &st, 0), 0);
	ck_assert_int_eq(st.st_size, 200000);
	ck_assert_int_eq(fstatat(f.store, "b-1/disk-xvda", &st, 0), 0);
	ck_assert_int_eq(st.st_size, 0);
	fd = openat(f.store, "b-1/manifest.json", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	close(fd);
	ck_assert_int_eq(slot_manifest_parse(buf, (size_t)n, &back, &e), 0);
	ck_assert(same_manifest(&back, &got));
	/* a generation is made once */
	rewind_all(f.src, 3);
	ck_assert_int_eq(slot_stage(f.store, "b-1", f.src, 3, &f.want, 1 << 20,
	    &got, &e), -1);
	ck_assert_str_eq(e.msg, "b-1: File exists");
	ck_assert_int_eq(slot_remove(f.store, "b-1", &e), 0);
	ck_assert(!gen_exists(&f, "b-1"));
	fixture_close(&f);
}
END_TEST

START_TEST(stage_refused_leaves_nothing)
{
	struct fixture f;
	struct slot_manifest got, want;
	struct err e = ERR_INIT;
	uint8_t byte;

	fixture_open(&f);

	/* a flipped byte */
	ck_assert_int_eq(pread(f.src[1].fd, &byte, 1, 4242), 1);
	byte ^= 0x10;
	ck_assert_int_eq(pwrite(f.src[1].fd, &byte, 1, 4242), 1);
	ck_assert_int_eq(slot_stage(f.store, "b-1", f.src, 3, &f.want, 1 << 20,
	    &got, &e), -1);
	ck_assert_msg(strncmp(e.msg, "ramdisk: sha256 ", 16) == 0, "%s", e.msg);
	ck_assert(!gen_exists(&f, "b-1"));
	byte ^= 0x10;
	ck_assert_int_eq(pwrite(f.src[1].fd, &byte, 1, 4242), 1);

	/* a file the manifest does not name, one it names but not given */
	rewind_all(f.src, 3);
	want = f.want;
	want.nfiles = 2;		/* no disk:xvda */
	ck_assert_int_eq(slot_stage(f.store, "b-1", f.src, 3, &want, 1 << 20,
	    &got, &e), -1);
	ck_assert_str_eq(e.msg, "disk:xvda was given, but the manifest does "
	    "not name it");
	rewind_all(f.src, 3);
	ck_assert_int_eq(slot_stage(f.store, "b-1", f.src, 2, &f.want, 1 << 20,
	    &got, &e), -1);
	ck_assert_str_eq(e.msg, "the manifest names disk:xvda, which was not "
	    "given");
	ck_assert(!gen_exists(&f, "b-1"));

	/* over the limit; no kernel; a name twice */
	rewind_all(f.src, 3);
	ck_assert_int_eq(slot_stage(f.store, "b-1", f.src, 3, NULL, 100000,
	    &got, &e), -1);
	ck_assert_str_eq(e.msg, "kernel: the slot's files are over their "
	    "limit");
	ck_assert(!gen_exists(&f, "b-1"));
	ck_assert_int_eq(slot_stage(f.store, "b-1", f.src + 1, 2, NULL, 1 << 20,
	    &got, &e), -1);
	ck_assert_str_eq(e.msg, "no kernel given");
	{
		struct slot_src two[2] = { f.src[0], f.src[0] };

		ck_assert_int_eq(slot_stage(f.store, "b-1", two, 2, NULL,
		    1 << 20, &got, &e), -1);
		ck_assert_str_eq(e.msg, "kernel given twice");
	}
	ck_assert(!gen_exists(&f, "b-1"));
	ck_assert_uint_eq(got.nfiles, 0);

	/* truncated */
	rewind_all(f.src, 3);
	ck_assert_int_eq(ftruncate(f.src[0].fd, 1000), 0);
	ck_assert_int_eq(slot_stage(f.store, "b-1", f.src, 3, &f.want, 1 << 20,
	    &got, &e), -1);
	ck_assert_str_eq(e.msg, "kernel: truncated: 1000 bytes, the manifest "
	    "says 200000");
	ck_assert(!gen_exists(&f, "b-1"));
	fixture_close(&f);
}
END_TEST

/* a write that fails midway (the disk full, here a file size limit): the
 * reason, and nothing of the slot left */
START_TEST(stage_write_fails)
{
	struct fixture f;
	struct slot_manifest got;
	struct err e = ERR_INIT;
	struct rlimit rl = { 100000, 100000 };

	fixture_open(&f);
	ck_assert(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_int_eq(slot_stage(f.store, "b-1", f.src, 3, &f.want, 1 << 20,
	    &got, &e), -1);
	ck_assert_msg(strcmp(e.msg, "kernel: writing it: File too large") == 0,
	    "%s", e.msg);
	ck_assert(!gen_exists(&f, "b-1"));
	fixture_close(&f);
}
END_TEST

Suite *
slot_suite(void)
{
	Suite *s = suite_create("slot");
	TCase *tc = tcase_create("slot");

	tcase_add_test(tc, signify_signatures);
	tcase_add_test(tc, manifests);
	tcase_add_test(tc, stage_verified);
	tcase_add_test(tc, stage_refused_leaves_nothing);
	tcase_add_test(tc, stage_write_fails);
	suite_add_tcase(s, tc);
	return s;
}
