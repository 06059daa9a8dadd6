// SPDX-License-Identifier: GPL-2.0-or-later
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "core/service.h"
#include "fake_backend.h"
#include "base/util.h"

struct service_conf *
t_service(struct config *cfg, const char *name, const char *text)
{
	char file[128];

	snprintf(file, sizeof(file), "services.d/%s.ini", name);
	return config_parse_service(cfg, name, file, text, strlen(text));
}

int
t_has_diag(const struct config *cfg, const char *s)
{
	size_t i;

	for (i = 0; i < cfg->ndiags; i++)
		if (strstr(cfg->diags[i].text, s))
			return 1;
	return 0;
}

#define T_SKIPS_MAX	32

static const char *t_skips[T_SKIPS_MAX];
static int t_nskips;

void
t_skip(const char *suite, const char *tcase, const char *test,
    const char *why)
{
	const char *only;

	/* a test Check would not run anyway (CK_RUN_*) is no skip */
	if (((only = getenv("CK_RUN_SUITE")) && *only && strcmp(only, suite)) ||
	    ((only = getenv("CK_RUN_CASE")) && *only && strcmp(only, tcase)))
		return;
	printf("SKIP unit/%s: %s\n", test, why);
	fflush(stdout);
	if (t_nskips < T_SKIPS_MAX)
		t_skips[t_nskips] = test;
	t_nskips++;
}

int
t_skips_report(void)
{
	int i;

	if (t_nskips == 0)
		return 0;
	printf("unit: %d skipped:", t_nskips);
	for (i = 0; i < t_nskips && i < T_SKIPS_MAX; i++)
		printf(" %s", t_skips[i]);
	printf("\n");
	fflush(stdout);
	return t_nskips;
}

char *
t_tmpdir(void)
{
	char *d = xstrdup("/tmp/domud-unit-XXXXXX");

	if (mkdtemp(d) == NULL)
		abort();
	return d;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void
t_rmtree(char *dir)
{
	(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

void
t_run_io(struct supervisor *sup, struct fake_backend *fb, int ms)
{
	struct pollfd fds[16];
	int nfds = 0, timeout = ms;

	sup_before_poll(sup, fds, &nfds, 16, &timeout);
	(void)poll(fds, (nfds_t)nfds, ms);
	fb->be.ops->after_poll(&fb->be, NULL, 0);
	sup_after_poll(sup, fds, nfds);
}
