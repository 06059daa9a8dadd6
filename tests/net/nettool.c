// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The network module without Xen, for tests/net/run.sh: it loads a
 * configuration as domud does and drives src/net/ for the services named
 * on the command line as if their DomUs were up. Run it only inside a
 * network namespace of the test's own (unshare -n).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "base/log.h"
#include "net/lease.h"
#include "net/net.h"
#include "net/rules.h"

/* the services named on the command line are the ones "up" */
static const struct service_conf *up[64];
static size_t nup;

/* in the configuration's order (by name), as the supervisor gives them */
static const struct service_conf **
active(void *arg, size_t *n)
{
	const struct config *cfg = arg;
	const struct service_conf **v = calloc(nup + 1, sizeof(*v));
	size_t i, k;

	if (v == NULL)
		abort();
	*n = 0;
	for (i = 0; i < cfg->nsvcs; i++)
		for (k = 0; k < nup; k++)
			if (up[k] == cfg->svcs[i])
				v[(*n)++] = up[k];
	return v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: nettool -f domud.conf rules|up|check|fix|remove|"
	    "leases [SERVICE...]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct config *cfg;
	struct err e = ERR_INIT;
	struct drift d = { 0 };
	struct ruleset rs = { 0 };
	struct net *net;
	const char *cmd;
	int i, rc = 0;

	if (argc < 4 || strcmp(argv[1], "-f") != 0)
		usage();
	log_init(1, 0, "nettool");
	cfg = config_load(argv[2]);
	if (cfg->errors) {
		config_print_diags(cfg, stderr);
		return 2;
	}
	cmd = argv[3];
	net = net_new(cfg);
	net_set_active(net, active, cfg);
	for (i = 4; i < argc && nup < 64; i++) {
		const struct service_conf *s = config_find(cfg, argv[i]);
		int r = 1;

		if (s == NULL) {
			fprintf(stderr, "nettool: no service %s\n", argv[i]);
			rc = 2;
			goto out;
		}
		if (strcmp(cmd, "up") == 0 &&
		    (r = net_service_up(net, s, &e)) == -1) {
			fprintf(stderr, "nettool: %s: %s\n", argv[i], e.msg);
			rc = 1;
		}
		if (r == 1)
			up[nup++] = s;
	}
	if (strcmp(cmd, "rules") == 0) {
		net_wanted(net, &rs);
		rules_format(&rs, stdout);
		rules_free(&rs);
	} else if (strcmp(cmd, "up") == 0) {
		net_flush(net);		/* the bridges, with no service up */
	} else if (strcmp(cmd, "check") == 0 || strcmp(cmd, "fix") == 0) {
		if (net_check(net, cmd[0] == 'f', 1, &d, &e) == -1) {
			fprintf(stderr, "nettool: %s\n", e.msg);
			rc = 1;
		}
		for (i = 0; i < (int)d.n; i++)
			printf("%s\n", d.lines[i]);
		if (cmd[0] == 'c' && d.n > 0)
			rc = 1;
		drift_free(&d);
	} else if (strcmp(cmd, "remove") == 0) {
		net_stop(net, 0);
	} else if (strcmp(cmd, "leases") == 0) {
		for (i = 0; i < (int)cfg->nsvcs; i++) {
			struct service_conf *c = cfg->svcs[i];

			if (!c->has_net)
				continue;
			printf("%s %u.%u.%u.%u %02x:%02x:%02x:%02x:%02x:%02x\n",
			    c->name, c->addr >> 24, (c->addr >> 16) & 0xff,
			    (c->addr >> 8) & 0xff, c->addr & 0xff, c->mac[0],
			    c->mac[1], c->mac[2], c->mac[3], c->mac[4], c->mac[5]);
		}
	} else
		usage();
out:
	net_free(net);
	config_free(cfg);
	return rc;
}
