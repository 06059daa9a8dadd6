// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Small helpers every layer may use: parsing of sizes, durations, booleans
 * and numbers (each returns what is wrong, for file:line messages), names,
 * IPv4 and MAC text, monotonic time, UTF-8, base64, allocation that never
 * returns NULL, write_all. Bottom layer: libc and log only.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* digits, then an optional unit from the table; overflow is an error */
static const char *
parse_scaled(const char *s, const char *const *units, const uint64_t *mult,
    uint64_t *out)
{
	uint64_t v = 0, m = 0;
	const char *p = s;
	size_t i;

	if (*p == '\0')
		return "empty value";
	if (!isdigit((unsigned char)*p))
		return "not a number";
	while (isdigit((unsigned char)*p)) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return "number too large";
		v = v * 10 + d;
		p++;
	}
	while (*p == ' ')
		p++;
	for (i = 0; units[i] != NULL; i++)
		if (strcasecmp(p, units[i]) == 0) {
			m = mult[i];
			break;
		}
	if (units[i] == NULL)
		return "unknown unit";
	if (m != 0 && v > UINT64_MAX / m)
		return "number too large";
	*out = v * m;
	return NULL;
}

const char *
parse_size(const char *s, uint64_t *bytes)
{
	static const char *const units[] = { "", "B", "K", "KB", "KiB", "M",
	    "MB", "MiB", "G", "GB", "GiB", "T", "TB", "TiB", NULL };
	static const uint64_t mult[] = { 1, 1, 1ULL << 10, 1ULL << 10,
	    1ULL << 10, 1ULL << 20, 1ULL << 20, 1ULL << 20, 1ULL << 30,
	    1ULL << 30, 1ULL << 30, 1ULL << 40, 1ULL << 40, 1ULL << 40 };
	const char *e = parse_scaled(s, units, mult, bytes);

	return e && strcmp(e, "unknown unit") == 0 ?
	    "unknown size unit (use K, M, G or T)" : e;
}

const char *
parse_duration_ms(const char *s, uint64_t *ms)
{
	/* a bare number is seconds */
	static const char *const units[] = { "", "ms", "s", "sec", "m", "min",
	    "h", NULL };
	static const uint64_t mult[] = { 1000, 1, 1000, 1000, 60000, 60000,
	    3600000 };
	const char *e = parse_scaled(s, units, mult, ms);

	return e && strcmp(e, "unknown unit") == 0 ?
	    "unknown time unit (use ms, s, m or h)" : e;
}

const char *
parse_bool(const char *s, int *b)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") ||
	    !strcasecmp(s, "on") || !strcmp(s, "1"))
		*b = 1;
	else if (!strcasecmp(s, "no") || !strcasecmp(s, "false") ||
	    !strcasecmp(s, "off") || !strcmp(s, "0"))
		*b = 0;
	else
		return "expected yes or no";
	return NULL;
}

const char *
parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	static const char *const units[] = { "", NULL };
	static const uint64_t mult[] = { 1 };
	const char *e = parse_scaled(s, units, mult, out);

	if (e && strcmp(e, "unknown unit") == 0)
		return "not a number";
	if (e == NULL && *out > max)
		return "number too large";
	return e;
}

/* service and group names: [A-Za-z0-9_.-], not starting with '.' or '-' */
int
name_valid(const char *s, size_t max)
{
	size_t n = 0;

	if (*s == '\0' || *s == '.' || *s == '-')
		return 0;
	for (; *s; s++, n++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return 0;
	return n <= max;
}

const char list_first[] = "a separator with no entry before it";
const char list_last[] = "a separator with no entry after it";
const char list_twice[] = "two separators with no entry between them";

/*
 * Split a list in place at sep, and at blanks too when blanks is set;
 * blanks around each entry are trimmed. An empty entry (a separator
 * first, last or twice in a row) is refused, not skipped: it is most
 * likely one left out, or a typo. Blanks alone are an empty list.
 */
const char *
list_split(char *s, int sep, int blanks, char **ent, size_t max, size_t *n)
{
	const char stops[] = { (char)sep, blanks ? ' ' : '\0', '\t', '\0' };
	char *e, *end;
	int open = 0;		/* a separator came last: an entry must follow */

	*n = 0;
	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			return open ? list_last : NULL;
		if (*s == sep)
			return *n == 0 ? list_first : list_twice;
		if (*n == max)
			return "too many entries";
		ent[(*n)++] = s;
		e = s + strcspn(s, stops);
		for (end = e; end > s && (end[-1] == ' ' || end[-1] == '\t');
		    end--)
			;
		s = e + strspn(e, " \t");
		if ((open = *s == sep))
			s++;
		*end = '\0';
	}
}

size_t
strlcpy_(char *dst, const char *src, size_t sz)
{
	size_t n = strlen(src);

	if (sz) {
		size_t c = n >= sz ? sz - 1 : n;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (p == NULL)
		fatal("calloc");
	return p;
}

void *
xrealloc(void *p, size_t sz)
{
	void *q = realloc(p, sz ? sz : 1);

	if (q == NULL)
		fatal("realloc");
	return q;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatal("strdup");
	return p;
}

void
format_duration(char *buf, size_t sz, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (s >= 86400)
		snprintf(buf, sz, "%llud%02lluh", (unsigned long long)(s / 86400),
		    (unsigned long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, sz, "%lluh%02llum", (unsigned long long)(s / 3600),
		    (unsigned long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, sz, "%llum%02llus", (unsigned long long)(s / 60),
		    (unsigned long long)(s % 60));
	else if (ms >= 1000 || ms == 0)
		snprintf(buf, sz, "%llus", (unsigned long long)s);
	else
		snprintf(buf, sz, "%llums", (unsigned long long)ms);
}

void
format_size(char *buf, size_t sz, uint64_t b)
{
	if (b && b % (1ULL << 30) == 0)
		snprintf(buf, sz, "%lluG", (unsigned long long)(b >> 30));
	else if (b && b % (1ULL << 20) == 0)
		snprintf(buf, sz, "%lluM", (unsigned long long)(b >> 20));
	else if (b && b % (1ULL << 10) == 0)
		snprintf(buf, sz, "%lluK", (unsigned long long)(b >> 10));
	else
		snprintf(buf, sz, "%llu", (unsigned long long)b);
}

/* every decision domud takes on time uses this: wall clocks jump on boards without an RTC */
uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* the same in µs, for measuring (never for deciding) */
uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int
msgf(char *buf, size_t sz, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
	return n;
}

/* length of a valid UTF-8 sequence at s (at most n bytes), 0 if invalid */
size_t
utf8_seq_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* overlong, surrogates, out of range */
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
	    (len == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}


size_t
base64_encode(const uint8_t *in, size_t n, char *out)
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = t[in[i] >> 2];
		out[o++] = t[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[o++] = t[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
		out[o++] = t[in[i + 2] & 63];
	}
	if (i < n) {
		out[o++] = t[in[i] >> 2];
		if (i + 1 < n) {
			out[o++] = t[(in[i] & 3) << 4 | in[i + 1] >> 4];
			out[o++] = t[(in[i + 1] & 15) << 2];
		} else {
			out[o++] = t[(in[i] & 3) << 4];
			out[o++] = '=';
		}
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

/*
 * Padding optional; when there is some, it completes the last group of
 * four and ends the input (nothing after it: "QQ==!!!" is refused)
 */
long
base64_decode(const char *in, uint8_t *out, size_t max)
{
	uint32_t acc = 0;
	long o = 0;
	int bits = 0;
	size_t n = 0, pad = 0;

	for (; *in && *in != '='; in++, n++) {
		const char *t =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		const char *p = strchr(t, *in);

		if (p == NULL)
			return -1;
		acc = acc << 6 | (uint32_t)(p - t);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if ((size_t)o == max)
				return -1;	/* more than out holds */
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	while (in[pad] == '=')
		pad++;
	if (n % 4 == 1 || in[pad] != '\0' ||
	    (pad && (pad > 2 || (n + pad) % 4 != 0)))
		return -1;
	return o;
}

int
write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void
ip4_format(char *buf, size_t sz, uint32_t ip)
{
	snprintf(buf, sz, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
	    (ip >> 8) & 0xff, ip & 0xff);
}

int
ip4_parse(const char *v, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, v, &a) != 1)
		return -1;
	*ip = ntohl(a.s_addr);
	return 0;
}

void
mac_format(char *buf, size_t sz, const uint8_t m[6])
{
	snprintf(buf, sz, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
	    m[3], m[4], m[5]);
}

int
mac_parse(const char *v, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (strlen(v) != 17 || sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c",
	    &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)v[i * 3]) ||
		    !isxdigit((unsigned char)v[i * 3 + 1]))
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}
