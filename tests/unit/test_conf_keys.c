// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The key tables of src/conf/keys.c: every row well formed (help, a type
 * or a parser, a field that fits, a default its own row takes), no name
 * twice in a section, and each table the same set of keys as its man
 * page's ".It Ic KEY" lines: docs/domud.service.5 for a service file's,
 * docs/domud.conf.5 for domud.conf's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "base/util.h"
#include "conf/keys.h"

TCase	*conf_keys_tcase(void);

/* the struct a row of these sections is stored in, and its size */
static size_t
obj_size(unsigned sects)
{
	switch (sects) {
	case S_SERVICE:
	case S_NET:
		return sizeof(struct service_conf);
	case S_DISK:
		return sizeof(struct disk_conf);
	case S_DOMUD:
		return sizeof(struct daemon_conf);
	case S_NETWORK:
		return sizeof(struct net_conf);
	case S_POOL:
		return sizeof(struct pool_conf);
	default:
		return 0;
	}
}

/* why row k is not well formed, or NULL */
static const char *
row_wrong(const struct key *k, unsigned file_sects)
{
	size_t osz = obj_size(k->sects);
	int numeric = k->type == KT_BOOL || k->type == KT_UINT ||
	    k->type == KT_DURATION || k->type == KT_SIZE || k->type == KT_ENUM;
	int string = k->type == KT_STR || k->type == KT_PATH ||
	    k->type == KT_NAME;

	if (k->name == NULL || *k->name == '\0' ||
	    strlen(k->name) >= INIH_NAME_MAX)
		return "no name, or one inih would cut";
	if (k->help == NULL || *k->help == '\0' || strchr(k->help, '\n'))
		return "no help, or more than one line";
	if (k->sects == 0 || (k->sects & ~file_sects) || osz == 0)
		return "sections not of this file, or of two structs";
	if (k->type > KT_CUSTOM || (k->type == KT_CUSTOM) != (k->fn != NULL))
		return "no type, or a parser beside a type";
	if (numeric && k->size != 4 && k->size != 8)
		return "a number's field is not 4 or 8 bytes";
	if (string && k->size != sizeof(char *))
		return "a string's field is not a char *";
	if ((numeric || string) && k->off + k->size > osz)
		return "the field is outside its struct";
	if (k->has_line && k->line_off + sizeof(int) > osz)
		return "the line's field is outside its struct";
	if ((k->flags & KF_LINE_IF_SET) && !k->has_line)
		return "KF_LINE_IF_SET without a line";
	if (k->type == KT_ENUM && (k->names == NULL || k->nnames == 0))
		return "an enum without names";
	if ((k->type == KT_UINT || k->type == KT_DURATION ||
	    k->type == KT_SIZE) && k->min > k->max)
		return "min above max";
	if (k->type == KT_NAME && (k->max == 0 || k->why == NULL))
		return "a name without its length or its why";
	if ((k->flags & KF_MULTI) && k->type != KT_STR && k->type != KT_CUSTOM)
		return "continuation lines for a type that cannot join them";
	if ((k->flags & KF_ZERO) && k->type != KT_SIZE)
		return "KF_ZERO on a row that is not a size";
	if (k->def && k->type == KT_CUSTOM)
		return "a default for a custom row (only typed ones are read)";
	return NULL;
}

/* the default, taken by the row as a file's value would be, silently */
static const char *
row_default_wrong(const struct key *k)
{
	void *obj;
	int r;

	if (k->def == NULL)
		return NULL;
	obj = xcalloc(1, obj_size(k->sects));
	r = value_set(NULL, k, obj, k->def);
	keys_free(k, 1, k->sects, obj);
	free(obj);
	return r == KEY_SET ? NULL : "its default is out of range or bad";
}

static void
check_table(const struct key *keys, size_t n, unsigned file_sects)
{
	const char *why;
	size_t i, j;

	ck_assert_uint_le(n, KEYS_MAX);
	for (i = 0; i < n; i++) {
		why = row_wrong(&keys[i], file_sects);
		if (why == NULL)
			why = row_default_wrong(&keys[i]);
		ck_assert_msg(why == NULL, "row %s: %s", keys[i].name, why);
		for (j = 0; j < i; j++)
			ck_assert_msg(strcmp(keys[i].name, keys[j].name) != 0 ||
			    !(keys[i].sects & keys[j].sects),
			    "key %s twice in a section", keys[i].name);
	}
}

START_TEST(rows_well_formed)
{
	check_table(keys_service, keys_service_n, S_SERVICE | S_DISK | S_NET);
	check_table(keys_conf, keys_conf_n, S_DOMUD | S_NETWORK | S_POOL);
}
END_TEST

/* a row that breaks the rules is seen (the check itself checked) */
START_TEST(bad_rows_seen)
{
	struct key k = keys_service[0];

	k.help = "";
	ck_assert_ptr_nonnull(row_wrong(&k, S_SERVICE));
	k = keys_conf[0];
	ck_assert_ptr_nonnull(row_wrong(&k, S_SERVICE));
	k = *keys_find(keys_service, keys_service_n, S_SERVICE, "restart_delay");
	k.def = "1ms";
	ck_assert_ptr_null(row_wrong(&k, S_SERVICE));
	ck_assert_ptr_nonnull(row_default_wrong(&k));
	k = *keys_find(keys_service, keys_service_n, S_SERVICE, "type");
	k.def = "hvm";
	ck_assert_ptr_nonnull(row_default_wrong(&k));
}
END_TEST

#define MAN_KEYS_MAX	256

struct man_keys {
	char	*name[MAN_KEYS_MAX];
	size_t	 n;
};

/* a mdoc macro (No, Ns, Ar, Pa...) ends an Ic list */
static int
is_macro(const char *t)
{
	return t[0] >= 'A' && t[0] <= 'Z' && strlen(t) <= 3 &&
	    strspn(t + 1, "abcdefghijklmnopqrstuvwxyz") == strlen(t) - 1;
}

/* the KEYs of ".It Ic KEY", ".It Ic a , b", "... , Ic c No ..." */
static void
man_keys_read(const char *path, struct man_keys *mk)
{
	char line[1024], *tok, *save;
	size_t len;
	FILE *fp;
	int in_ic;

	mk->n = 0;
	fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "cannot open %s", path);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, ".It ", 4) != 0)
			continue;
		in_ic = 0;
		for (tok = strtok_r(line + 4, " \t\n", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t\n", &save)) {
			if (strcmp(tok, "Ic") == 0) {
				in_ic = 1;
				continue;
			}
			if (!in_ic || strcmp(tok, ",") == 0)
				continue;
			if (is_macro(tok)) {
				in_ic = 0;
				continue;
			}
			len = strlen(tok);
			if (len > 0 && tok[len - 1] == ',')
				tok[len - 1] = '\0';
			ck_assert_uint_lt(mk->n, MAN_KEYS_MAX);
			mk->name[mk->n++] = xstrdup(tok);
		}
	}
	fclose(fp);
}

static int
man_has(const struct man_keys *mk, const char *name)
{
	size_t i;

	for (i = 0; i < mk->n; i++)
		if (strcmp(mk->name[i], name) == 0)
			return 1;
	return 0;
}

/* the top of the tree, from where this file was compiled ("" = cwd) */
static void
man_path(char *buf, size_t sz, const char *page)
{
	static const char me[] = "tests/unit/test_conf_keys.c";
	size_t n = strlen(__FILE__);

	if (n >= sizeof(me) - 1 &&
	    strcmp(__FILE__ + n - (sizeof(me) - 1), me) == 0)
		n -= sizeof(me) - 1;
	else
		n = 0;
	snprintf(buf, sz, "%.*sdocs/%s", (int)n, __FILE__, page);
}

/* the keys of the table and of the page, each missing in the other */
static void
check_man(const struct key *keys, size_t n, const char *page)
{
	char path[1024], diff[4096] = "";
	struct man_keys mk;
	size_t i;

	man_path(path, sizeof(path), page);
	man_keys_read(path, &mk);
	for (i = 0; i < n; i++)
		if (!man_has(&mk, keys[i].name)) {
			strlcpy_(diff + strlen(diff), " table-only:",
			    sizeof(diff) - strlen(diff));
			strlcpy_(diff + strlen(diff), keys[i].name,
			    sizeof(diff) - strlen(diff));
		}
	for (i = 0; i < mk.n; i++)
		if (keys_find(keys, n, ~0U, mk.name[i]) == NULL) {
			strlcpy_(diff + strlen(diff), " page-only:",
			    sizeof(diff) - strlen(diff));
			strlcpy_(diff + strlen(diff), mk.name[i],
			    sizeof(diff) - strlen(diff));
		}
	for (i = 0; i < mk.n; i++)
		free(mk.name[i]);
	ck_assert_msg(diff[0] == '\0', "%s and its key table differ:%s", path,
	    diff);
}

START_TEST(service_keys_in_man_page)
{
	check_man(keys_service, keys_service_n, "domud.service.5");
}
END_TEST

START_TEST(conf_keys_in_man_page)
{
	check_man(keys_conf, keys_conf_n, "domud.conf.5");
}
END_TEST

TCase *
conf_keys_tcase(void)
{
	TCase *tc = tcase_create("keys");

	tcase_add_test(tc, rows_well_formed);
	tcase_add_test(tc, bad_rows_seen);
	tcase_add_test(tc, service_keys_in_man_page);
	tcase_add_test(tc, conf_keys_in_man_page);
	return tc;
}
