// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a guest wrote, made safe to show: domud's `logs` replies and
 * domuctl's terminal both use it, so it sits in the bottom layer.
 */
#include <stdio.h>
#include <string.h>

#include "sanitize.h"
#include "util.h"

size_t
sanitize_text(const char *in, size_t n, char *out, int raw)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, o = 0, len;
	uint32_t cp;

	while (i < n) {
		len = utf8_seq_len(s + i, n - i, &cp);
		if (len == 0) {
			/* U+FFFD: JSON needs valid UTF-8, raw or not */
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		if (!raw && cp == '\r') {
			i++;
			continue;
		}
		if (!raw && ((cp < 0x20 && cp != '\n' && cp != '\t') ||
		    cp == 0x7f || (cp >= 0x80 && cp < 0xa0))) {
			/* ESC [ 2 J becomes the visible text ^[[2J */
			if (cp < 0x20 || cp == 0x7f) {
				out[o++] = '^';
				out[o++] = (char)(cp == 0x7f ? '?' : cp + 0x40);
			} else
				o += (size_t)sprintf(out + o, "\\x%02x", cp);
			i += len;
			continue;
		}
		if (cp == 0 && raw) {
			i++;	/* NUL cannot travel in a C string */
			continue;
		}
		memcpy(out + o, s + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
	return o;
}
