/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_SANITIZE_H
#define DOMUD_SANITIZE_H

#include <stddef.h>

/* Neutralise n bytes a guest wrote into out (4 * n + 1 bytes): unless raw,
 * escape sequences and control characters become visible text (ESC [ 2 J
 * is ^[[2J, C1 controls \x9b), CR is dropped; invalid UTF-8 becomes U+FFFD
 * either way (replies are JSON). Returns the length written. */
size_t	 sanitize_text(const char *in, size_t n, char *out, int raw);

#endif
