/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_UTIL_H
#define DOMUD_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Parsers return NULL on success, or a static message saying what is wrong. */
const char *parse_size(const char *, uint64_t *bytes);
const char *parse_duration_ms(const char *, uint64_t *ms);
const char *parse_bool(const char *, int *);
const char *parse_uint(const char *, uint64_t max, uint64_t *);

int	 name_valid(const char *, size_t max);
/* Split a list in place at sep (',' or ';'), and at blanks too when blanks
 * is set, into at most max entries, trimmed. NULL, or why not: an empty
 * entry is refused (a separator first, last or twice in a row), with
 * one of these (callers may compare the pointer). */
extern const char list_first[], list_last[], list_twice[];
const char *list_split(char *, int sep, int blanks, char **ent, size_t max,
	    size_t *n);
size_t	 strlcpy_(char *, const char *, size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
void	 format_duration(char *, size_t, uint64_t ms);
void	 format_size(char *, size_t, uint64_t bytes);
uint64_t mono_ms(void);
uint64_t mono_us(void);
/* length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid */
size_t	 utf8_seq_len(const unsigned char *s, size_t n, uint32_t *cp);
/* IPv4 addresses in host order, MACs as 00:16:3e:12:34:56 */
void	 ip4_format(char *, size_t, uint32_t);
int	 ip4_parse(const char *, uint32_t *);
void	 mac_format(char *, size_t, const uint8_t[6]);
int	 mac_parse(const char *, uint8_t[6]);
/* all of it, or -1 with errno (EINTR retried) */
int	 write_all(int fd, const void *, size_t n);
/* base64 of n bytes into out (4 * ((n + 2) / 3) + 1 bytes); its length */
size_t	 base64_encode(const uint8_t *, size_t n, char *out);
/* decode into out (at most max bytes); its length, -1 if malformed or
 * longer than max */
long	 base64_decode(const char *, uint8_t *out, size_t max);
/* snprintf for messages that may be cut on purpose (no truncation warning) */
int	 msgf(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
