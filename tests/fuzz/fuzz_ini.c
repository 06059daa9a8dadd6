// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: any bytes as a service file. No crash, no leak, bounded. */
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = config_new("fuzz.conf");

	config_add_service(cfg, config_parse_service(cfg, "fuzz",
	    "services.d/fuzz.ini", (const char *)data, size));
	config_finish(cfg);
	config_free(cfg);
	return 0;
}
