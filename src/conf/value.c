// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The typed values of the key rows (keys.h): parsed, checked against the
 * row's range, stored at the row's offset, a bad one said as it always
 * was ("KEY: bad value 'V': WHY", "KEY: V is out of range (A to B)").
 * With no parse (p NULL: a row's default) nothing is said. Also the
 * lists that go on in continuation lines, for the custom rows.
 * May call: diag, base.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "keys.h"
#include "base/log.h"
#include "base/util.h"

static int
value_bad(struct parse *p, const struct key *k, const char *v,
    const char *why)
{
	if (p)
		diag_bad(p, k->name, v, why);
	return KEY_BAD;
}

static int
value_range(struct parse *p, const struct key *k, const char *v,
    const char *lo, const char *hi)
{
	if (p)
		diag_parse(p, "%s: %.64s is out of range (%s to %s)", k->name, v,
		    lo, hi);
	return KEY_BAD;
}

static char **
value_str_field(void *obj, const struct key *k)
{
	return (char **)(void *)((char *)obj + k->off);
}

/* a number into the row's field, of its size */
static void
value_store(void *obj, const struct key *k, uint64_t n)
{
	uint32_t n32 = (uint32_t)n;

	if (k->size == sizeof(n32))
		memcpy((char *)obj + k->off, &n32, sizeof(n32));
	else
		memcpy((char *)obj + k->off, &n, sizeof(n));
}

/* 16M, 1T: as a file would say the bound */
static void
value_format_size(char *buf, size_t sz, uint64_t b)
{
	if (b && b % (1ULL << 40) == 0)
		snprintf(buf, sz, "%lluT", (unsigned long long)(b >> 40));
	else
		format_size(buf, sz, b);
}

void
value_expected(const struct key *k, char *buf, size_t sz)
{
	size_t i, n = 0, left = 0;

	for (i = 0; i < k->nnames; i++)
		left += k->names[i] != NULL;
	strlcpy_(buf, "expected", sz);
	for (i = 0; i < k->nnames; i++) {
		if (k->names[i] == NULL)
			continue;
		left--;
		n = strlen(buf);
		snprintf(buf + n, sz - n, "%s%s", n == 8 ? " " : left ? ", " :
		    " or ", k->names[i]);
	}
}

static int
value_number(struct parse *p, const struct key *k, void *obj, const char *v)
{
	char lo[32], hi[32];
	const char *why;
	uint64_t n;
	int b;

	switch (k->type) {
	case KT_BOOL:
		if ((why = parse_bool(v, &b)) != NULL)
			return value_bad(p, k, v, why);
		n = (uint64_t)b;
		break;
	case KT_UINT:
		if ((why = parse_uint(v, k->max, &n)) != NULL)
			return value_bad(p, k, v, why);
		if (n < k->min && k->why)
			return value_bad(p, k, v, k->why);
		if (n < k->min) {
			snprintf(lo, sizeof(lo), "%llu", (unsigned long long)k->min);
			snprintf(hi, sizeof(hi), "%llu", (unsigned long long)k->max);
			return value_range(p, k, v, lo, hi);
		}
		break;
	case KT_DURATION:
		if ((why = parse_duration_ms(v, &n)) != NULL)
			return value_bad(p, k, v, why);
		if (n < k->min || n > k->max) {
			format_duration(lo, sizeof(lo), k->min);
			format_duration(hi, sizeof(hi), k->max);
			return value_range(p, k, v, lo, hi);
		}
		break;
	case KT_SIZE:
		if ((why = parse_size(v, &n)) != NULL)
			return value_bad(p, k, v, why);
		if (n == 0 && (k->flags & KF_ZERO))
			break;
		if (n < k->min && k->low) {
			if (p)
				diag_parse(p, "%s: %.64s %s", k->name, v, k->low);
			return KEY_BAD;
		}
		if (n < k->min || n > k->max) {
			value_format_size(lo, sizeof(lo), k->min);
			value_format_size(hi, sizeof(hi), k->max);
			return value_range(p, k, v, lo, hi);
		}
		break;
	default:
		fatalx("key %s: not a number", k->name);
	}
	value_store(obj, k, n);
	return KEY_SET;
}

int
value_set(struct parse *p, const struct key *k, void *obj, const char *v)
{
	char expected[256];
	size_t i;

	switch (k->type) {
	case KT_PATH:
		if (*v != '/') {
			if (p)
				diag_parse(p, "%s: must be an absolute path",
				    k->name);
			return KEY_BAD;
		}
		/* FALLTHROUGH */
	case KT_STR:
		value_set_str(value_str_field(obj, k), v);
		return KEY_SET;
	case KT_NAME:
		if (!name_valid(v, k->max))
			return value_bad(p, k, v, k->why);
		value_set_str(value_str_field(obj, k), v);
		return KEY_SET;
	case KT_ENUM:
		for (i = 0; i < k->nnames; i++)
			if (k->names[i] && strcmp(v, k->names[i]) == 0) {
				value_store(obj, k, i);
				return KEY_SET;
			}
		value_expected(k, expected, sizeof(expected));
		return value_bad(p, k, v, expected);
	case KT_CUSTOM:
		return k->fn(p, k, obj, v);
	default:
		return value_number(p, k, obj, v);
	}
}

void
value_set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

void
value_append_str(char **dst, const char *v)
{
	char *n;

	if (*dst == NULL || **dst == '\0') {
		value_set_str(dst, v);
		return;
	}
	if (asprintf(&n, "%s %s", *dst, v) < 0)
		fatal("asprintf");
	free(*dst);
	*dst = n;
}

uint32_t
value_prefix_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

/*
 * The entries of one line of a list key, split by list_split into buf;
 * -1 when the line is refused (said), as a whole: an empty entry is a
 * mistake, not one to skip. A key that takes continuation lines (after,
 * forward) has them joined with a blank: a separator may end one line
 * or begin the next, not both, and one ending the key's last line is
 * said by value_list_end.
 */
int
value_list(struct parse *p, const char *key, const char *v, int sep,
    int blanks, int multi, char *buf, size_t bufsz, char **ent, size_t *n)
{
	const char *why;
	char *s;

	*n = 0;
	if (p->kind != L_CONT) {
		p->list_open = 0;
		p->list_has = 0;
	}
	if (strlcpy_(buf, v, bufsz) >= bufsz) {
		diag_bad(p, key, v, "too long");
		return -1;
	}
	s = buf + strspn(buf, " \t");
	/* the separator between the line above and this one */
	if (p->kind == L_CONT && *s == sep && p->list_has && !p->list_open)
		s++;
	why = list_split(s, sep, blanks, ent, LIST_MAX, n);
	if (why == list_first && p->list_open)
		why = "two separators with no entry between them (the line "
		    "above ends with one)";
	p->list_open = 0;
	if (why == list_last && multi) {
		/* a continuation line may go on with the list */
		why = NULL;
		p->list_open = p->lineno;
		p->list_key = key;
		strlcpy_(p->list_val, v, sizeof(p->list_val));
	}
	if (why) {
		diag_bad(p, key, v, why);
		*n = 0;
		p->list_has++;		/* the next line's ',' is no new error */
		return -1;
	}
	p->list_has += *n;
	return 0;
}

/* a line that is not a continuation ends a list: one that a separator
 * left open had an empty entry last (see value_list) */
void
value_list_end(struct parse *p)
{
	if (p->list_open == 0)
		return;
	config_diag(p->cfg, p->file, p->list_open, 1, "%s: bad value '%.64s': "
	    "%s", p->list_key, p->list_val, list_last);
	if (p->svc)
		p->svc->errors++;
	else
		p->cfg->conf_errors++;
	p->list_open = 0;
}
