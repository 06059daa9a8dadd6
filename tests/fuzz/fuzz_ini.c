// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: any bytes as configuration. No crash, no leak, bounded.
 * Without a NUL byte the input is one service file, as it always was.
 * With NULs, the part before the first is domud.conf ([domud],
 * [network:NAME], [cpupool:NAME]) and each part after it a service
 * file, so that the checks across files (a service's network or pool,
 * devices two services claim) run too. The last service takes the rest,
 * NULs and all: a NUL inside a line is still reached.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conf/config.h"

#define FUZZ_SERVICES	4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = config_new("domud.conf");
	const char *text = (const char *)data, *nul;
	char name[16], file[32];
	size_t off, len;
	int i;

	if ((nul = memchr(text, '\0', size)) == NULL) {
		config_add_service(cfg, config_parse_service(cfg, "fuzz",
		    "services.d/fuzz.ini", text, size));
		goto done;
	}
	config_parse_conf(cfg, text, (size_t)(nul - text));
	off = (size_t)(nul - text) + 1;
	for (i = 0; i < FUZZ_SERVICES && off <= size; i++) {
		len = size - off;
		if (i < FUZZ_SERVICES - 1 &&
		    (nul = memchr(text + off, '\0', len)) != NULL)
			len = (size_t)(nul - (text + off));
		snprintf(name, sizeof(name), "fuzz%d", i);
		snprintf(file, sizeof(file), "services.d/fuzz%d.ini", i);
		config_add_service(cfg, config_parse_service(cfg, name, file,
		    text + off, len));
		off += len + 1;
	}
done:
	config_finish(cfg);
	config_free(cfg);
	return 0;
}
