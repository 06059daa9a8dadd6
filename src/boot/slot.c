// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Slots: a guest's images staged and verified as one unit (slot.h).
 * May call: base, libsodium, yajl.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <yajl_gen.h>
#include <yajl_tree.h>

#include "slot.h"
#include "base/json.h"
#include "base/util.h"

#define COPY_CHUNK	(64 * 1024)
#define SIGNIFY_COMMENT	"untrusted comment: "
#define SIGNIFY_ALG	"Ed"
#define SIGNIFY_KEYNUM	8

/* signify's files decoded: the algorithm, the key's number, then the key
 * (32 bytes) or the signature (64) */
struct signify_pub {
	uint8_t	 alg[2], keynum[SIGNIFY_KEYNUM];
	uint8_t	 pk[crypto_sign_PUBLICKEYBYTES];
};
struct signify_sig {
	uint8_t	 alg[2], keynum[SIGNIFY_KEYNUM];
	uint8_t	 sig[crypto_sign_BYTES];
};

static int
sodium_ready(struct err *e)
{
	if (sodium_init() < 0)
		return err_set(e, EIO, "libsodium could not start");
	return 0;
}

int
slot_file_name_valid(const char *n)
{
	const char *v;

	if (strcmp(n, "kernel") == 0 || strcmp(n, "ramdisk") == 0 ||
	    strcmp(n, "device_tree") == 0)
		return 1;
	if (strncmp(n, "disk:", 5) != 0)
		return 0;
	v = n + 5;
	if (*v == '\0' || strlen(v) > 15)
		return 0;
	for (; *v != '\0'; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= '0' && *v <= '9')))
			return 0;
	return 1;
}

void
slot_hex(const uint8_t d[SLOT_SHA256_LEN], char out[2 * SLOT_SHA256_LEN + 1])
{
	(void)sodium_bin2hex(out, 2 * SLOT_SHA256_LEN + 1, d, SLOT_SHA256_LEN);
}

int
slot_unhex(const char *s, uint8_t d[SLOT_SHA256_LEN])
{
	size_t n;
	const char *end;

	if (strlen(s) != 2 * SLOT_SHA256_LEN)
		return -1;
	if (sodium_hex2bin(d, SLOT_SHA256_LEN, s, strlen(s), NULL, &n,
	    &end) != 0 || n != SLOT_SHA256_LEN || *end != '\0')
		return -1;
	return 0;
}

const struct slot_file *
slot_manifest_find(const struct slot_manifest *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nfiles; i++)
		if (strcmp(m->files[i].name, name) == 0)
			return &m->files[i];
	return NULL;
}

/* printable text without control characters, shorter than max */
static int
text_ok(const char *s, size_t max)
{
	if (strlen(s) >= max)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* "name": { "sha256": "...", "size": N } */
static int
manifest_file(const char *name, yajl_val v, struct slot_manifest *m,
    struct err *e)
{
	struct slot_file *f;
	yajl_val d = NULL, sz = NULL;
	size_t i;

	if (!slot_file_name_valid(name))
		return err_set(e, EINVAL, "files: %.40s: not a file a slot "
		    "holds (kernel, ramdisk, device_tree, disk:VDEV)", name);
	if (slot_manifest_find(m, name) != NULL)
		return err_set(e, EINVAL, "files: %s named twice", name);
	if (m->nfiles == SLOT_FILES_MAX)
		return err_set(e, EINVAL, "files: more than %d", SLOT_FILES_MAX);
	if (!YAJL_IS_OBJECT(v))
		return err_set(e, EINVAL, "files: %s: not an object", name);
	for (i = 0; i < v->u.object.len; i++) {
		const char *k = v->u.object.keys[i];

		if (strcmp(k, "sha256") == 0)
			d = v->u.object.values[i];
		else if (strcmp(k, "size") == 0)
			sz = v->u.object.values[i];
		else
			return err_set(e, EINVAL, "files: %s: unknown key "
			    "%.40s", name, k);
	}
	f = &m->files[m->nfiles];
	if (!YAJL_IS_STRING(d) || slot_unhex(YAJL_GET_STRING(d),
	    f->sha256) == -1)
		return err_set(e, EINVAL, "files: %s: sha256 is not 64 hex "
		    "digits", name);
	if (!YAJL_IS_INTEGER(sz) || YAJL_GET_INTEGER(sz) < 0)
		return err_set(e, EINVAL, "files: %s: size is not a whole "
		    "number of bytes", name);
	f->size = (uint64_t)YAJL_GET_INTEGER(sz);
	(void)snprintf(f->name, sizeof(f->name), "%s", name);
	m->nfiles++;
	return 0;
}

static int
manifest_key(const char *k, yajl_val v, struct slot_manifest *m,
    struct err *e)
{
	size_t i;

	if (strcmp(k, "version") == 0) {
		if (!YAJL_IS_STRING(v) || !text_ok(YAJL_GET_STRING(v),
		    sizeof(m->version)))
			return err_set(e, EINVAL, "version: not a line of "
			    "text under %zu bytes", sizeof(m->version));
		(void)snprintf(m->version, sizeof(m->version), "%s",
		    YAJL_GET_STRING(v));
	} else if (strcmp(k, "cmdline") == 0) {
		if (!YAJL_IS_STRING(v) || !text_ok(YAJL_GET_STRING(v),
		    sizeof(m->cmdline)))
			return err_set(e, EINVAL, "cmdline: not a line of "
			    "text under %zu bytes", sizeof(m->cmdline));
		(void)snprintf(m->cmdline, sizeof(m->cmdline), "%s",
		    YAJL_GET_STRING(v));
		m->has_cmdline = 1;
	} else if (strcmp(k, "files") == 0) {
		if (!YAJL_IS_OBJECT(v))
			return err_set(e, EINVAL, "files: not an object");
		for (i = 0; i < v->u.object.len; i++)
			if (manifest_file(v->u.object.keys[i],
			    v->u.object.values[i], m, e) == -1)
				return -1;
	} else
		return err_set(e, EINVAL, "unknown key %.40s", k);
	return 0;
}

int
slot_manifest_parse(const char *buf, size_t len, struct slot_manifest *m,
    struct err *e)
{
	char errbuf[128] = "", *text = NULL;
	yajl_val root = NULL;
	size_t i;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	if (len > SLOT_MANIFEST_MAX) {
		err_set(e, EFBIG, "over %d bytes", SLOT_MANIFEST_MAX);
		goto out;
	}
	if ((text = malloc(len + 1)) == NULL) {
		err_set(e, ENOMEM, "out of memory");
		goto out;
	}
	memcpy(text, buf, len);
	text[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		err_set(e, EINVAL, "a NUL byte in it");
		goto out;
	}
	if ((root = yajl_tree_parse(text, errbuf, sizeof(errbuf))) == NULL) {
		errbuf[strcspn(errbuf, "\n")] = '\0';
		err_set(e, EINVAL, "not JSON: %s", errbuf);
		goto out;
	}
	if (!YAJL_IS_OBJECT(root)) {
		err_set(e, EINVAL, "not a JSON object");
		goto out;
	}
	for (i = 0; i < root->u.object.len; i++)
		if (manifest_key(root->u.object.keys[i],
		    root->u.object.values[i], m, e) == -1)
			goto out;
	if (slot_manifest_find(m, "kernel") == NULL) {
		err_set(e, EINVAL, "files: no kernel");
		goto out;
	}
	rc = 0;
out:
	if (root != NULL)
		yajl_tree_free(root);
	free(text);
	if (rc == -1)
		memset(m, 0, sizeof(*m));
	return rc;
}

char *
slot_manifest_json(const struct slot_manifest *m, size_t *lenp)
{
	char hex[2 * SLOT_SHA256_LEN + 1], *out = NULL;
	const unsigned char *buf;
	yajl_gen g;
	size_t i, len;

	if ((g = json_gen_new()) == NULL)
		return NULL;
	yajl_gen_map_open(g);
	if (m->version[0] != '\0')
		gen_kv_str(g, "version", m->version);
	if (m->has_cmdline)
		gen_kv_str(g, "cmdline", m->cmdline);
	gen_str(g, "files");
	yajl_gen_map_open(g);
	for (i = 0; i < m->nfiles; i++) {
		gen_str(g, m->files[i].name);
		yajl_gen_map_open(g);
		slot_hex(m->files[i].sha256, hex);
		gen_kv_str(g, "sha256", hex);
		gen_kv_int(g, "size", (long long)m->files[i].size);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok &&
	    (out = malloc(len + 1)) != NULL) {
		memcpy(out, buf, len);
		out[len] = '\0';
		if (lenp != NULL)
			*lenp = len;
	}
	yajl_gen_free(g);
	return out;
}

/*
 * A signify file: a comment line, then one line of base64 that decodes to
 * exactly want bytes, beginning with "Ed". what names the file in errors.
 */
static int
signify_read(const char *text, size_t len, void *out, size_t want,
    const char *what, struct err *e)
{
	const char *nl, *b64, *end;
	size_t b64len, n;

	if (len > SLOT_KEY_MAX || memchr(text, '\0', len) != NULL)
		return err_set(e, EINVAL, "%s: not a signify file", what);
	if (len < sizeof(SIGNIFY_COMMENT) - 1 || memcmp(text, SIGNIFY_COMMENT,
	    sizeof(SIGNIFY_COMMENT) - 1) != 0 ||
	    (nl = memchr(text, '\n', len)) == NULL)
		return err_set(e, EINVAL, "%s: not a signify file (no "
		    "\"untrusted comment:\" line)", what);
	b64 = nl + 1;
	b64len = len - (size_t)(b64 - text);
	if ((end = memchr(b64, '\n', b64len)) != NULL) {
		if ((size_t)(end - b64) + 1 != b64len)
			return err_set(e, EINVAL, "%s: more than two lines",
			    what);
		b64len = (size_t)(end - b64);
	}
	if (sodium_base642bin(out, want, b64, b64len, NULL, &n, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || n != want ||
	    end != b64 + b64len)
		return err_set(e, EINVAL, "%s: not a signify Ed25519 %s", what,
		    want == sizeof(struct signify_pub) ? "public key" :
		    "signature");
	if (memcmp(out, SIGNIFY_ALG, 2) != 0)
		return err_set(e, EINVAL, "%s: not an Ed25519 one", what);
	return 0;
}

int
slot_verify(const char *pub, size_t publen, const char *sig, size_t siglen,
    const void *msg, size_t len, struct err *e)
{
	struct signify_pub pk;
	struct signify_sig sg;

	if (sodium_ready(e) == -1)
		return -1;
	if (signify_read(pub, publen, &pk, sizeof(pk), "public key", e) == -1 ||
	    signify_read(sig, siglen, &sg, sizeof(sg), "signature", e) == -1)
		return -1;
	if (memcmp(pk.keynum, sg.keynum, SIGNIFY_KEYNUM) != 0)
		return err_set(e, EPERM, "signed with another key");
	if (crypto_sign_verify_detached(sg.sig, msg, len, pk.pk) != 0)
		return err_set(e, EPERM, "the signature does not match it");
	return 0;
}

/* a slot file's name on disk: the ':' of disk:VDEV is a '-' there */
static void
disk_name(const char *name, char *out, size_t sz)
{
	char *c;

	(void)snprintf(out, sz, "%s", name);
	if ((c = strchr(out, ':')) != NULL)
		*c = '-';
}

/* src into dirfd/name, its SHA-256 on the way; *budget bytes at most */
static int
copy_one(const struct slot_src *src, int dirfd, uint64_t *budget,
    struct slot_file *f, struct err *e)
{
	crypto_hash_sha256_state st;
	char fname[SLOT_FILE_NAME_MAX];
	uint8_t *buf = NULL;
	ssize_t r;
	int fd = -1, rc = -1;

	disk_name(src->name, fname, sizeof(fname));
	if ((buf = malloc(COPY_CHUNK)) == NULL) {
		err_set(e, ENOMEM, "out of memory");
		goto out;
	}
	if ((fd = openat(dirfd, fname, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		err_set(e, errno, "%s: %s", src->name, strerror(errno));
		goto out;
	}
	crypto_hash_sha256_init(&st);
	memset(f, 0, sizeof(*f));
	(void)snprintf(f->name, sizeof(f->name), "%s", src->name);
	for (;;) {
		if ((r = read(src->fd, buf, COPY_CHUNK)) == -1) {
			if (errno == EINTR)
				continue;
			err_set(e, errno, "%s: reading it: %s", src->name,
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		if (src->cancel && __atomic_load_n(src->cancel,
		    __ATOMIC_RELAXED)) {
			err_set(e, ECANCELED, "%s: the stage was given up",
			    src->name);
			goto out;
		}
		if ((uint64_t)r > *budget) {
			err_set(e, EFBIG, "%s: the slot's files are over "
			    "their limit", src->name);
			goto out;
		}
		*budget -= (uint64_t)r;
		crypto_hash_sha256_update(&st, buf, (size_t)r);
		if (write_all(fd, buf, (size_t)r) == -1) {
			err_set(e, errno, "%s: writing it: %s", src->name,
			    strerror(errno));
			goto out;
		}
		f->size += (uint64_t)r;
	}
	crypto_hash_sha256_final(&st, f->sha256);
	if (fsync(fd) == -1) {
		err_set(e, errno, "%s: fsync: %s", src->name, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		(void)close(fd);
	free(buf);
	return rc;
}

/* what was staged against what the manifest says: the same files, sizes
 * and digests, in words for the first that differs */
static int
match_manifest(const struct slot_manifest *got,
    const struct slot_manifest *want, struct err *e)
{
	char h1[2 * SLOT_SHA256_LEN + 1], h2[2 * SLOT_SHA256_LEN + 1];
	const struct slot_file *w, *g;
	size_t i;

	for (i = 0; i < got->nfiles; i++) {
		g = &got->files[i];
		if ((w = slot_manifest_find(want, g->name)) == NULL)
			return err_set(e, EINVAL, "%s was given, but the "
			    "manifest does not name it", g->name);
		if (g->size != w->size)
			return err_set(e, EINVAL, "%s: %s: %llu bytes, the "
			    "manifest says %llu", g->name, g->size < w->size ?
			    "truncated" : "too long",
			    (unsigned long long)g->size,
			    (unsigned long long)w->size);
		if (sodium_memcmp(g->sha256, w->sha256, SLOT_SHA256_LEN) != 0) {
			slot_hex(g->sha256, h1);
			slot_hex(w->sha256, h2);
			return err_set(e, EINVAL, "%s: sha256 %.16s..., the "
			    "manifest says %.16s...", g->name, h1, h2);
		}
	}
	for (i = 0; i < want->nfiles; i++)
		if (slot_manifest_find(got, want->files[i].name) == NULL)
			return err_set(e, EINVAL, "the manifest names %s, "
			    "which was not given", want->files[i].name);
	return 0;
}

static int
check_sources(const struct slot_src *src, size_t n, struct err *e)
{
	size_t i, j;

	if (n == 0 || n > SLOT_FILES_MAX)
		return err_set(e, EINVAL, "a slot holds 1 to %d files",
		    SLOT_FILES_MAX);
	for (i = 0; i < n; i++) {
		if (!slot_file_name_valid(src[i].name))
			return err_set(e, EINVAL, "%.40s: not a file a slot "
			    "holds", src[i].name);
		for (j = 0; j < i; j++)
			if (strcmp(src[i].name, src[j].name) == 0)
				return err_set(e, EINVAL, "%s given twice",
				    src[i].name);
	}
	for (i = 0; i < n; i++)
		if (strcmp(src[i].name, "kernel") == 0)
			return 0;
	return err_set(e, EINVAL, "no kernel given");
}

/* the record of what the slot holds, made durable with the directory */
static int
write_record(int gfd, const struct slot_manifest *got, struct err *e)
{
	char *json;
	size_t len;
	int fd, rc = -1;

	if ((json = slot_manifest_json(got, &len)) == NULL)
		return err_set(e, ENOMEM, "out of memory");
	if ((fd = openat(gfd, "manifest.json", O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1 ||
	    write_all(fd, json, len) == -1 || fsync(fd) == -1)
		err_set(e, errno, "manifest.json: %s", strerror(errno));
	else if (fsync(gfd) == -1)
		err_set(e, errno, "fsync of the slot: %s", strerror(errno));
	else
		rc = 0;
	if (fd != -1)
		(void)close(fd);
	free(json);
	return rc;
}

int
slot_stage(int dirfd, const char *gen, const struct slot_src *src, size_t n,
    const struct slot_manifest *want, uint64_t max_bytes,
    struct slot_manifest *got, struct err *e)
{
	uint64_t budget = max_bytes;
	struct err e2 = ERR_INIT;
	size_t i;
	int gfd = -1, made = 0, rc = -1;

	memset(got, 0, sizeof(*got));
	if (sodium_ready(e) == -1 || check_sources(src, n, e) == -1)
		goto out;
	if (mkdirat(dirfd, gen, 0700) == -1) {
		err_set(e, errno, "%s: %s", gen, strerror(errno));
		goto out;
	}
	made = 1;
	if ((gfd = openat(dirfd, gen, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		err_set(e, errno, "%s: %s", gen, strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (copy_one(&src[i], gfd, &budget, &got->files[i], e) == -1)
			goto out;
		got->nfiles++;
	}
	if (want != NULL) {
		if (match_manifest(got, want, e) == -1)
			goto out;
		memcpy(got->version, want->version, sizeof(got->version));
		memcpy(got->cmdline, want->cmdline, sizeof(got->cmdline));
		got->has_cmdline = want->has_cmdline;
	}
	if (write_record(gfd, got, e) == -1)
		goto out;
	if (fsync(dirfd) == -1) {
		err_set(e, errno, "fsync of the slot store: %s",
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (gfd != -1)
		(void)close(gfd);
	if (rc == -1 && made)
		(void)slot_remove(dirfd, gen, &e2);
	if (rc == -1)
		memset(got, 0, sizeof(*got));
	return rc;
}

int
slot_remove(int dirfd, const char *gen, struct err *e)
{
	struct dirent *de;
	DIR *d;
	int gfd, rc = 0;

	if ((gfd = openat(dirfd, gen, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		return err_set(e, errno, "%s: %s", gen, strerror(errno));
	}
	if ((d = fdopendir(gfd)) == NULL) {
		(void)close(gfd);
		return err_set(e, errno, "%s: %s", gen, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(gfd, de->d_name, 0) == -1 && rc == 0)
			rc = err_set(e, errno, "%s/%s: %s", gen, de->d_name,
			    strerror(errno));
	}
	(void)closedir(d);
	if (unlinkat(dirfd, gen, AT_REMOVEDIR) == -1 && rc == 0)
		rc = err_set(e, errno, "%s: %s", gen, strerror(errno));
	return rc;
}
