// SPDX-License-Identifier: GPL-2.0-or-later
/* domuctl's command table and usage, and its output of a reply: the
 * services' views are in status.c, the arguments in args.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "reply.h"
#include "base/json.h"
#include "base/util.h"

/* The table drives parsing and generates the usage text. */
const struct ctl_cmd ctl_cmds[] = {
	{ "list",	"",			"services, their state and domain" },
	{ "status",	"[SERVICE]",		"state, domid, uptime, last exit" },
	{ "start",	"[--wait] SERVICE",	"start a service (clears failed); "
	    "--wait: until up" },
	{ "stop",	"[--wait] SERVICE",	"shutdown, destroy after stop_timeout" },
	{ "restart",	"[--wait] SERVICE",	"stop, then start again" },
	{ "reload",	"",			"re-read the configuration" },
	{ "logs",	"[-f|-p|--slot a|b] [-n N] [--raw] SERVICE", "the console's "
	    "last N lines; -f: then follow; -p: the previous run's; --slot: "
	    "the kept log of a slot's failed trial" },
	{ "ping",	"[SERVICE]",		"domud answers; or a memres agent does" },
	{ "net",	"[--check|--fix]",	"networks, addresses, ports; drift, repair" },
	{ "exec",	"[-t SECS] [--shell|--batch] [--raw] SERVICE [-- CMD...]",
	    "run CMD in a memres DomU; its exit status; --batch: each line "
	    "of stdin, on one connection" },
	{ "console",	"[--raw] SERVICE",	"attach to the console (Ctrl-] leaves)" },
	{ "run",	"[-t SECS] SERVICE --disk IMAGE -- CMD...",
	    "CMD from IMAGE, hot-plugged read-only" },
	{ "cp",		"[--max SIZE] SRC DST",	"copy a file to or from a memres DomU "
	    "(SERVICE:PATH)" },
	{ "events",	"[-f] [-n N] [SERVICE]", "state changes: when, why, by whom; "
	    "-f: then follow" },
	{ "metrics",	"",			"Prometheus text exposition of domud and "
	    "each service" },
	{ "cpupools",	"",			"Xen's CPU pools, their CPUs and "
	    "schedulers; which are domud's" },
	{ "top",	"[-n ITER] [-d SECS]",	"CPU, memory and state of each service, "
	    "refreshed (xentop's view)" },
	{ "update stage", "SERVICE --kernel F [FILES]", "copy a new version into "
	    "the other slot; FILES: --ramdisk F, --device-tree F, --disk VDEV=F..., "
	    "--manifest M [--signature S]" },
	{ "update switch", "[--wait [--timeout SECS]] SERVICE", "boot the staged "
	    "slot on trial; committed once healthy, else rolled back" },
	{ "update apply", "[--wait [--timeout SECS]] SERVICE --kernel F [FILES]",
	    "stage, then switch" },
	{ "update rollback", "SERVICE",	"back to the other slot now" },
	{ "update status", "[SERVICE]",	"slots, versions, the trial, the last "
	    "update" },
	{ "update wait", "[--timeout SECS] SERVICE", "until the trial ends: "
	    "committed (0) or rolled back (1)" },
	{ NULL, NULL, NULL },
};

void
ctl_usage(FILE *fp)
{
	const struct ctl_cmd *c;
	char left[128];

	fprintf(fp, "usage: domuctl [-j] [-r rundir] [-t seconds] command "
	    "[args]\n\n"
	    "  -j, --json   print the daemon's JSON reply\n"
	    "  -r rundir    where the sockets are (default %s)\n"
	    "  -t seconds   give up waiting after this long (default %d)\n\n"
	    "commands:\n", CTL_RUN_DIR, CTL_TIMEOUT_MS / 1000);
	for (c = ctl_cmds; c->name; c++) {
		snprintf(left, sizeof(left), "%s %s", c->name, c->args);
		fprintf(fp, "  %-32s %s\n", left, c->help);
	}
}

/* the daemon refused the connection itself (too many clients): a reply
 * with code busy and no id, before any request of ours was read */
int
ctl_refused_busy(const char *reply)
{
	const char *pid[] = { "id", NULL }, *pc[] = { "error", "code", NULL };
	yajl_val root = yajl_tree_parse(reply, NULL, 0);
	const char *code;
	int busy;

	if (root == NULL)
		return 0;
	code = YAJL_GET_STRING(yajl_tree_get(root, pc, yajl_t_string));
	busy = yajl_tree_get(root, pid, yajl_t_any) == NULL && code != NULL &&
	    strcmp(code, "busy") == 0;
	yajl_tree_free(root);
	return busy;
}

static void
print_pools(yajl_val res, FILE *out)
{
	const char *pp[] = { "pools", NULL }, *mp[] = { "missing", NULL };
	yajl_val pools = yajl_tree_get(res, pp, yajl_t_array),
	    missing = yajl_tree_get(res, mp, yajl_t_array);
	long long id = 0, nd = 0;
	size_t i;

	fprintf(out, "%-16s %4s %-9s %-16s %7s  %s\n", "POOL", "ID", "SCHED",
	    "CPUS", "DOMAINS", "");
	for (i = 0; i < json_len(pools); i++) {
		yajl_val p = json_at(pools, i);

		jint(p, "id", &id);
		jint(p, "domains", &nd);
		fprintf(out, "%-16s %4lld %-9s %-16s %7lld  %s\n",
		    jstr_or(p, "name", "?"), id, jstr_or(p, "sched", "?"),
		    jstr_or(p, "cpus", "?"), nd, jtrue(p, "domud") ?
		    "domud.conf" : "");
	}
	for (i = 0; i < json_len(missing); i++) {
		yajl_val p = json_at(missing, i);

		fprintf(out, "%-16s missing: %s\n", jstr_or(p, "name", "?"),
		    jstr_or(p, "error", "?"));
	}
}

/* exit 1 when drift was found and not repaired */
static int
print_net(yajl_val res, FILE *out)
{
	const char *pn[] = { "networks", NULL }, *ps[] = { "services", NULL },
	    *pd[] = { "drift", NULL }, *pf[] = { "forwards", NULL };
	yajl_val nets = yajl_tree_get(res, pn, yajl_t_array);
	yajl_val svcs = yajl_tree_get(res, ps, yajl_t_array);
	yajl_val drift = yajl_tree_get(res, pd, yajl_t_array);
	char fw[256];
	size_t i, j;
	long long v = 0;

	fprintf(out, "%-12s %-12s %-18s %-15s %-4s %s\n", "NETWORK", "BRIDGE",
	    "SUBNET", "GATEWAY", "NAT", "UPLINK");
	for (i = 0; nets && i < json_len(nets); i++) {
		yajl_val n = json_at(nets, i);
		char up[40];

		snprintf(up, sizeof(up), "%s%s%s%s", jstr_or(n, "uplink", "?"),
		    jstr(n, "uplink_now") && *jstr(n, "uplink_now") ? " (" : "",
		    jstr_or(n, "uplink_now", ""),
		    jstr(n, "uplink_now") && *jstr(n, "uplink_now") ? ")" : "");
		fprintf(out, "%-12s %-12s %-18s %-15s %-4s %s\n",
		    jstr_or(n, "name", "?"), jstr_or(n, "bridge", "?"),
		    jstr_or(n, "subnet", "?"), jstr_or(n, "gateway", "?"),
		    jtrue(n, "nat") ? "yes" : "no", up);
	}
	fprintf(out, "\n%-20s %-12s %-15s %-17s %-4s %s\n", "SERVICE",
	    "NETWORK", "ADDRESS", "MAC", "UP", "PUBLISHED");
	for (i = 0; svcs && i < json_len(svcs); i++) {
		yajl_val s = json_at(svcs, i);
		yajl_val f = yajl_tree_get(s, pf, yajl_t_array);

		fw[0] = '\0';
		for (j = 0; f && j < json_len(f); j++) {
			const char *x = YAJL_GET_STRING(
			    json_at(f, j));

			if (x == NULL)
				continue;
			if (fw[0])
				strncat(fw, " ", sizeof(fw) - strlen(fw) - 1);
			strncat(fw, x, sizeof(fw) - strlen(fw) - 1);
		}
		fprintf(out, "%-20s %-12s %-15s %-17s %-4s %s\n",
		    jstr_or(s, "service", "?"), jstr_or(s, "network",
		    jstr_or(s, "bridge", "-")), jstr_or(s, "ip", "-"),
		    jstr_or(s, "mac", "?"), jtrue(s, "up") ? "yes" : "no",
		    fw[0] ? fw : "-");
	}
	jint(res, "rules", &v);
	fprintf(out, "\nrules: %lld in DOMUD-* chains; br_netfilter %s\n", v,
	    jstr_or(res, "br_netfilter", "?"));
	if (jstr(res, "last_error") && *jstr(res, "last_error"))
		fprintf(out, "last error: %s\n", jstr(res, "last_error"));
	if (drift == NULL)
		return CTL_EXIT_OK;
	if (json_len(drift) == 0) {
		fprintf(out, "check: the kernel has exactly the wanted rules\n");
		return CTL_EXIT_OK;
	}
	fprintf(out, "check: %zu differences:\n", json_len(drift));
	for (i = 0; i < json_len(drift); i++) {
		yajl_val d = json_at(drift, i);

		if (YAJL_IS_STRING(d))
			fprintf(out, "  %s\n", YAJL_GET_STRING(d));
	}
	if (jtrue(res, "fixed")) {
		fprintf(out, "fixed: rules and bridges applied again\n");
		return CTL_EXIT_OK;
	}
	return CTL_EXIT_FAILED;
}

int
ctl_exec_status(const char *reply, FILE *errout)
{
	const char *ok_path[] = { "ok", NULL }, *res_path[] = { "result", NULL },
	    *err_path[] = { "error", NULL };
	yajl_val root, ok, res, e;
	long long code = -1, sig = 0;
	const char *msg;
	int rc;

	root = yajl_tree_parse(reply, NULL, 0);
	if (root == NULL || (ok = yajl_tree_get(root, ok_path, yajl_t_any)) ==
	    NULL) {
		fprintf(errout, "domuctl: exec: malformed reply from domud\n");
		yajl_tree_free(root);
		return CTL_EXIT_EXEC_ERROR;
	}
	if (!YAJL_IS_TRUE(ok)) {
		e = yajl_tree_get(root, err_path, yajl_t_object);
		msg = e ? jstr(e, "message") : NULL;
		fprintf(errout, "domuctl: exec: %s\n", msg ? msg : "failed");
		rc = CTL_EXIT_EXEC_ERROR;
		if (e && jstr(e, "code") && !strcmp(jstr(e, "code"), "denied"))
			rc = CTL_EXIT_DENIED;
		else if (msg && strstr(msg, "No such file"))
			rc = CTL_EXIT_EXEC_NOTFOUND;
		else if (msg && strstr(msg, "Permission denied"))
			rc = CTL_EXIT_EXEC_NOEXEC;
		yajl_tree_free(root);
		return rc;
	}
	res = yajl_tree_get(root, res_path, yajl_t_object);
	if (res)
		jint(res, "exit", &code), jint(res, "signal", &sig);
	if (res && jtrue(res, "timed_out")) {
		fprintf(errout, "domuctl: exec: timed out; killed in the guest\n");
		rc = CTL_EXIT_EXEC_TIMEOUT;
	} else if (res && jtrue(res, "cancelled"))
		rc = CTL_EXIT_EXEC_CANCELLED;
	else if (sig > 0)
		rc = CTL_EXIT_EXEC_SIGNAL + (int)sig;
	else
		rc = code >= 0 && code <= 255 ? (int)code : CTL_EXIT_EXEC_ERROR;
	yajl_tree_free(root);
	return rc;
}

static void
print_diag(yajl_val v, FILE *fp)
{
	if (YAJL_IS_STRING(v))
		fprintf(fp, "%s\n", YAJL_GET_STRING(v));
}


/* a reply with ok false: its message and diagnostics; the exit code */
static int
render_error(const struct ctl_opts *o, yajl_val root, FILE *errout)
{
	const char *err_path[] = { "error", NULL },
	    *diag_path[] = { "diagnostics", NULL };
	yajl_val e = yajl_tree_get(root, err_path, yajl_t_object), diags;
	const char *code = e ? jstr(e, "code") : NULL,
	    *msg = e ? jstr(e, "message") : NULL;
	size_t i;

	if (!o->json) {
		fprintf(errout, "domuctl: %s: %s\n", o->cmd->name,
		    msg ? msg : "failed");
		diags = e ? yajl_tree_get(e, diag_path, yajl_t_array) : NULL;
		for (i = 0; diags && i < json_len(diags); i++)
			print_diag(json_at(diags, i), errout);
	}
	return code && strcmp(code, "denied") == 0 ? CTL_EXIT_DENIED :
	    code && strcmp(code, "busy") == 0 ? CTL_EXIT_BUSY :
	    CTL_EXIT_FAILED;
}

/* ping: domud's version and main loop, or a service's agent */
static void
render_ping(const struct ctl_opts *o, yajl_val res, FILE *out)
{
	const char *loop_path[] = { "loop", NULL }, *gio_path[] = { "guest_io",
	    NULL };
	yajl_val loop, gio;
	long long rtt = 0, pid = 0, iters = 0, maxb = 0, win = 0, gpid = 0,
	    restarts = 0;

	if (o->req.has_service) {
		jint(res, "rtt_ms", &rtt);
		fprintf(out, "%s: the agent answered in %lld ms (%s)\n",
		    o->req.service, rtt, jstr_or(res, "agent", "?"));
		return;
	}
	loop = yajl_tree_get(res, loop_path, yajl_t_object);
	jint(res, "pid", &pid);
	fprintf(out, "domud %s, pid %lld, access: %s\n",
	    jstr(res, "version") ? jstr(res, "version") : "?", pid,
	    jstr(res, "role") ? jstr(res, "role") : "?");
	if (loop && jint(loop, "iterations", &iters) &&
	    jint(loop, "max_busy_ms", &maxb) &&
	    jint(loop, "window_s", &win))
		fprintf(out, "main loop: %lld rounds, the longest %lld ms "
		    "in the last %lld-%lld s\n", iters, maxb, win,
		    2 * win);
	gio = yajl_tree_get(res, gio_path, yajl_t_object);
	if (gio == NULL)
		return;
	jint(gio, "restarts", &restarts);
	if (jstr(gio, "mode") && strcmp(jstr(gio, "mode"), "inline") == 0)
		fprintf(out, "guest I/O: inline, in domud itself (-I)\n");
	else if (jint(gio, "pid", &gpid))
		fprintf(out, "guest I/O: process %lld, started again %lld "
		    "times\n", gpid, restarts);
	else if (restarts == 0)
		fprintf(out, "guest I/O: not started (no memres console)\n");
	else
		fprintf(out, "guest I/O: not running (being started again; "
		    "%lld restarts)\n", restarts);
}

/* a reply's result, as the command shows it; the exit code */
static int
render_result(const struct ctl_opts *o, yajl_val res, FILE *out,
    FILE *errout)
{
	const char *svc_path[] = { "services", NULL },
	    *diag_path[] = { "diagnostics", NULL }, *evp[] = { "events", NULL };
	const char *name = o->cmd->name;
	yajl_val svcs, diags, evs;
	size_t i;

	if (!strncmp(name, "update ", 7))
		return ctl_render_update(o, res, out, errout);
	if (!strcmp(name, "list") || !strcmp(name, "status")) {
		svcs = yajl_tree_get(res, svc_path, yajl_t_array);
		if (svcs && (!strcmp(name, "list") || !o->req.has_service))
			ctl_print_list(svcs, out);
		else if (svcs)
			for (i = 0; i < json_len(svcs); i++)
				ctl_print_status(json_at(svcs, i), out);
	} else if (!strcmp(name, "events")) {
		evs = yajl_tree_get(res, evp, yajl_t_array);
		for (i = 0; evs && i < json_len(evs); i++)
			ctl_print_event(json_at(evs, i), out);
	} else if (!strcmp(name, "logs") || !strcmp(name, "metrics")) {
		fputs(jstr(res, "text") ? jstr(res, "text") : "", out);
	} else if (!strcmp(name, "ping")) {
		render_ping(o, res, out);
	} else if (!strcmp(name, "cpupools")) {
		print_pools(res, out);
	} else if (!strcmp(name, "net")) {
		return print_net(res, out);
	} else if (!strcmp(name, "reload")) {
		diags = yajl_tree_get(res, diag_path, yajl_t_array);
		for (i = 0; diags && i < json_len(diags); i++)
			print_diag(json_at(diags, i), errout);
		fprintf(out, "configuration reloaded\n");
	} else {
		const char *svc = jstr(res, "service"), *st = jstr(res, "state"),
		    *msg = jstr(res, "message");

		if (svc && st && msg)
			fprintf(out, "%s: %s (%s)\n", svc, st, msg);
		else if (svc && st)
			fprintf(out, "%s: %s\n", svc, st);
	}
	return CTL_EXIT_OK;
}

int
ctl_render(const struct ctl_opts *o, const char *reply, FILE *out,
    FILE *errout)
{
	const char *ok_path[] = { "ok", NULL }, *res_path[] = { "result", NULL };
	yajl_val root, ok, res;
	char yerr[128];
	int rc = CTL_EXIT_OK;

	root = yajl_tree_parse(reply, yerr, sizeof(yerr));
	if (root == NULL || (ok = yajl_tree_get(root, ok_path, yajl_t_any)) ==
	    NULL) {
		fprintf(errout, "domuctl: malformed reply from domud\n");
		yajl_tree_free(root);
		return CTL_EXIT_TIMEOUT;
	}
	if (o->json)
		fputs(reply, out);
	if (!YAJL_IS_TRUE(ok))
		rc = render_error(o, root, errout);
	else if (!o->json &&
	    (res = yajl_tree_get(root, res_path, yajl_t_object)) != NULL)
		rc = render_result(o, res, out, errout);
	yajl_tree_free(root);
	return rc;
}
