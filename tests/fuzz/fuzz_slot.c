// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: an update's manifest and its signify files, as an admin's
 * files reach domud. The first byte picks: a manifest (what parses must
 * write out as JSON that parses to the same), or a public key, signature
 * and message split at the first two 0xff bytes (never a crash; what
 * verifies, a seed made by signify, must not once a byte of it differs). */
#include <stdlib.h>
#include <string.h>

#include "boot/slot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
manifest(const char *b, size_t n)
{
	struct slot_manifest m, m2;
	struct err e = ERR_INIT;
	char *json;
	size_t len, i;

	if (slot_manifest_parse(b, n, &m, &e) == -1)
		return;
	if ((json = slot_manifest_json(&m, &len)) == NULL)
		abort();
	if (slot_manifest_parse(json, len, &m2, &e) == -1 ||
	    m.nfiles != m2.nfiles || strcmp(m.version, m2.version) != 0 ||
	    strcmp(m.cmdline, m2.cmdline) != 0)
		abort();
	for (i = 0; i < m.nfiles; i++)
		if (strcmp(m.files[i].name, m2.files[i].name) != 0 ||
		    m.files[i].size != m2.files[i].size ||
		    memcmp(m.files[i].sha256, m2.files[i].sha256,
		    SLOT_SHA256_LEN) != 0)
			abort();
	free(json);
}

static void
signature(const char *b, size_t n)
{
	const char *p1, *p2, *msg;
	struct err e = ERR_INIT;
	char *other;
	size_t len;

	if ((p1 = memchr(b, 0xff, n)) == NULL ||
	    (p2 = memchr(p1 + 1, 0xff, n - (size_t)(p1 + 1 - b))) == NULL)
		return;
	msg = p2 + 1;
	len = n - (size_t)(msg - b);

	if (slot_verify(b, (size_t)(p1 - b), p1 + 1, (size_t)(p2 - p1 - 1),
	    msg, len, &e) == -1 || len == 0)
		return;
	if ((other = malloc(len)) == NULL)
		abort();
	memcpy(other, msg, len);
	other[len - 1] ^= 1;
	if (slot_verify(b, (size_t)(p1 - b), p1 + 1, (size_t)(p2 - p1 - 1),
	    other, len, &e) == 0)
		abort();
	free(other);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		signature((const char *)data + 1, size - 1);
	else
		manifest((const char *)data + 1, size - 1);
	return 0;
}
