// SPDX-License-Identifier: GPL-2.0-or-later
/* domuctl's command table, argument parsing and output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
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
	{ "logs",	"[-f|-p] [-n N] [--raw] SERVICE", "the console's last N lines; -f: "
	    "then follow; -p: the previous run's" },
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
	{ NULL, NULL, NULL },
};

void
ctl_usage(FILE *fp)
{
	const struct ctl_cmd *c;
	char left[64];

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

static int
usage_err(char *err, size_t errsz, const char *fmt, const char *arg)
{
	snprintf(err, errsz, fmt, arg);
	return CTL_EXIT_USAGE;
}

static int
add_arg(struct request *r, const char *a)
{
	size_t len = strlen(a) + 1;

	if (r->args_len + len > sizeof(r->args))
		return -1;
	memcpy(r->args + r->args_len, a, len);
	r->args_len += len;
	r->argc++;
	return 0;
}

/* SERVICE:PATH (an absolute path in the guest); 1 if it is one */
static int
split_remote(const char *s, char *svc, size_t svcsz, const char **path)
{
	const char *colon = strchr(s, ':');

	if (colon == NULL || colon == s || colon[1] != '/' ||
	    (size_t)(colon - s) >= svcsz)
		return 0;
	memcpy(svc, s, (size_t)(colon - s));
	svc[colon - s] = '\0';
	*path = colon + 1;
	return name_valid(svc, PROTO_NAME_MAX);
}

/* cp [--max SIZE] SRC DST: exactly one of them SERVICE:/PATH */
static int
parse_cp(int argc, char **argv, int i, struct ctl_opts *o, char *err,
    size_t errsz)
{
	char s1[PROTO_NAME_MAX + 1], s2[PROTO_NAME_MAX + 1];
	const char *p1, *p2;
	int r1, r2;

	o->cp_max = CTL_CP_MAX_DEFAULT;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--max") && i + 1 < argc) {
			if (parse_size(argv[++i], &o->cp_max) != NULL ||
			    o->cp_max == 0)
				return usage_err(err, errsz, "cp --max: '%s' is not a "
				    "size", argv[i]);
		} else if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			o->json = 1;
		else
			return usage_err(err, errsz, "cp: unknown option '%s'",
			    argv[i]);
	}
	if (argc - i != 2)
		return usage_err(err, errsz, "%s", "cp: SRC DST, one of them "
		    "SERVICE:/PATH");
	r1 = split_remote(argv[i], s1, sizeof(s1), &p1);
	r2 = split_remote(argv[i + 1], s2, sizeof(s2), &p2);
	if (r1 == r2)
		return usage_err(err, errsz, "%s", "cp: exactly one of SRC and "
		    "DST is SERVICE:/PATH (an absolute path in the guest)");
	o->cp_to_guest = r2;
	o->cp_remote = r1 ? p1 : p2;
	o->cp_local = r1 ? argv[i + 1] : argv[i];
	strlcpy_(o->req.service, r1 ? s1 : s2, sizeof(o->req.service));
	o->req.has_service = 1;
	if (o->cp_to_guest) {
		/* the path is an argument of the script, never part of it */
		o->req.want_stdin = 1;
		if (add_arg(&o->req, "/bin/sh") || add_arg(&o->req, "-c") ||
		    add_arg(&o->req, "cat > \"$1\"") ||
		    add_arg(&o->req, "domud-cp") || add_arg(&o->req, o->cp_remote))
			return usage_err(err, errsz, "%s", "cp: path too long");
	} else if (add_arg(&o->req, "cat") || add_arg(&o->req, "--") ||
	    add_arg(&o->req, o->cp_remote))
		return usage_err(err, errsz, "%s", "cp: path too long");
	return 0;
}

/* exec [-t SECS] [--shell] [--raw] SERVICE [--] CMD ARGS... */
static int
parse_exec(int argc, char **argv, int i, struct ctl_opts *o, char *err,
    size_t errsz)
{
	uint64_t n;
	size_t len;

	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--shell") || !strcmp(a, "-s"))
			o->req.shell = 1;
		else if (!strcmp(a, "--batch") && !strcmp(o->req.cmd, "exec"))
			o->batch = 1;
		else if (!strcmp(a, "--raw"))
			o->raw = 1;
		else if (!strcmp(a, "-j") || !strcmp(a, "--json"))
			o->json = 1;
		else if (!strcmp(a, "-t")) {
			if (i + 1 >= argc || parse_uint(argv[i + 1], 86400,
			    &n) != NULL || n == 0)
				return usage_err(err, errsz, "exec -t: expected 1 "
				    "to 86400 seconds, got '%s'", i + 1 < argc ?
				    argv[i + 1] : "");
			o->req.timeout_ms = (int64_t)n * 1000;
			i++;
		} else
			return usage_err(err, errsz, "exec: unknown option '%s'",
			    a);
	}
	if (i >= argc)
		return usage_err(err, errsz, "%s", "exec: which service?");
	if (!name_valid(argv[i], PROTO_NAME_MAX))
		return usage_err(err, errsz, "'%s' is not a valid service name",
		    argv[i]);
	strlcpy_(o->req.service, argv[i], sizeof(o->req.service));
	o->req.has_service = 1;
	if (++i < argc && strcmp(argv[i], "--disk") == 0 &&
	    strcmp(o->req.cmd, "run") == 0) {
		if (i + 1 >= argc || argv[i + 1][0] != '/' ||
		    strlen(argv[i + 1]) >= sizeof(o->req.disk))
			return usage_err(err, errsz, "%s", "run --disk: an "
			    "absolute path to the image");
		strlcpy_(o->req.disk, argv[i + 1], sizeof(o->req.disk));
		i += 2;
	}
	if (strcmp(o->req.cmd, "run") == 0 && o->req.disk[0] == '\0')
		return usage_err(err, errsz, "%s", "run: --disk IMAGE is "
		    "required");
	if (o->batch) {
		/* each line of stdin is a shell command */
		if (i < argc)
			return usage_err(err, errsz, "%s", "exec --batch: the "
			    "commands come from stdin, not the command line");
		o->req.shell = 1;
		return 0;
	}
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		return usage_err(err, errsz, "%s", "exec: which command?");
	for (; i < argc; i++) {
		len = strlen(argv[i]) + 1;
		if (o->req.args_len + len > sizeof(o->req.args) ||
		    o->req.argc >= 256)
			return usage_err(err, errsz, "%s", "exec: the command "
			    "line is too long (4 KiB, 256 words)");
		memcpy(o->req.args + o->req.args_len, argv[i], len);
		o->req.args_len += len;
		o->req.argc++;
	}
	return 0;
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

int
ctl_parse_args(int argc, char **argv, struct ctl_opts *o, char *err,
    size_t errsz)
{
	const struct proto_cmd *pc;
	const struct ctl_cmd *c;
	uint64_t n;
	int i = 1;

	memset(o, 0, sizeof(*o));
	o->run_dir = CTL_RUN_DIR;
	o->timeout_ms = CTL_TIMEOUT_MS;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-j") || !strcmp(a, "--json"))
			o->json = 1;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return usage_err(err, errsz, "%s", "");
		else if (!strcmp(a, "-r") || !strcmp(a, "-t")) {
			if (i + 1 >= argc)
				return usage_err(err, errsz, "%s needs a value", a);
			if (a[1] == 'r')
				o->run_dir = argv[++i];
			else {
				if (parse_uint(argv[++i], 3600, &n) != NULL ||
				    n == 0)
					return usage_err(err, errsz, "-t: expected "
					    "1 to 3600 seconds, got '%s'", argv[i]);
				o->timeout_ms = (int)n * 1000;
				o->timeout_set = 1;
			}
		} else
			return usage_err(err, errsz, "unknown option '%s'", a);
	}
	if (i >= argc)
		return usage_err(err, errsz, "%s", "missing command");
	for (c = ctl_cmds; c->name; c++)
		if (strcmp(c->name, argv[i]) == 0)
			break;
	if (c->name == NULL)
		return usage_err(err, errsz, "unknown command '%s'", argv[i]);
	o->cmd = c;
	/* cp is an exec of cat in the guest; top, rounds of status */
	pc = proto_cmd_find(strcmp(c->name, "cp") == 0 ? "exec" :
	    strcmp(c->name, "top") == 0 ? "status" : c->name);
	o->top_delay_ms = 2000;
	/* top's disk and net rates come from every service's devices */
	o->req.devices = strcmp(c->name, "top") == 0;
	strlcpy_(o->req.cmd, pc->name, sizeof(o->req.cmd));
	o->req.pcmd = pc;
	o->req.has_id = 1;
	o->req.id = 1;
	if (strcmp(c->name, "exec") == 0 || strcmp(c->name, "run") == 0)
		return parse_exec(argc, argv, i + 1, o, err, errsz);
	if (strcmp(c->name, "cp") == 0)
		return parse_cp(argc, argv, i + 1, o, err, errsz);
	for (i++; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(c->name, "console") == 0 && !strcmp(a, "--raw")) {
			o->raw = 1;
			continue;
		}
		if ((strcmp(c->name, "logs") == 0 ||
		    strcmp(c->name, "events") == 0) && a[0] == '-') {
			if (!strcmp(a, "--raw") && c->name[0] == 'l') {
				o->req.raw = 1;
				continue;
			}
			if ((!strcmp(a, "-p") || !strcmp(a, "--previous")) &&
			    c->name[0] == 'l') {
				o->req.previous = 1;
				continue;
			}
			if (!strcmp(a, "-f") || !strcmp(a, "--follow")) {
				o->req.follow = 1;
				continue;
			}
			if (!strcmp(a, "-n")) {
				if (i + 1 >= argc)
					return usage_err(err, errsz, "%s",
					    "-n needs a number of lines");
				if (parse_uint(argv[++i],
				    PROTO_LOG_LINES_MAX, &n) != NULL || n == 0)
					return usage_err(err, errsz, "-n: expected "
					    "1 to 10000 lines, got '%s'", argv[i]);
				o->req.lines = (int64_t)n;
				continue;
			}
			return usage_err(err, errsz, c->name[0] == 'l' ?
			    "logs: unknown option '%s'" :
			    "events: unknown option '%s'", a);
		}
		if ((!strcmp(c->name, "start") || !strcmp(c->name, "stop") ||
		    !strcmp(c->name, "restart")) &&
		    (!strcmp(a, "--wait") || !strcmp(a, "-w"))) {
			o->wait = 1;
			if (!o->timeout_set)
				o->timeout_ms = CTL_WAIT_MS_DEFAULT;
			continue;
		}
		if (strcmp(c->name, "top") == 0 && (!strcmp(a, "-n") ||
		    !strcmp(a, "-d"))) {
			if (i + 1 >= argc || parse_uint(argv[i + 1], 86400, &n) !=
			    NULL || (a[1] == 'd' && n == 0))
				return usage_err(err, errsz, "top: %s needs a "
				    "number", a);
			if (a[1] == 'n')
				o->top_iter = (int)n;
			else
				o->top_delay_ms = (int)n * 1000;
			i++;
			continue;
		}
		if (strcmp(c->name, "net") == 0 && a[0] == '-' &&
		    (!strcmp(a, "--check") || !strcmp(a, "--fix"))) {
			o->req.check = 1;
			if (a[2] == 'f') {
				/* repairing is an admin verb of its own */
				strlcpy_(o->req.cmd, "net-fix", sizeof(o->req.cmd));
				o->req.pcmd = proto_cmd_find("net-fix");
			}
			continue;
		}
		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			o->json = 1;
			continue;
		}
		if (o->req.has_service || pc->svcarg == PS_NONE)
			return usage_err(err, errsz, "unexpected argument '%s'", a);
		if (!name_valid(a, PROTO_NAME_MAX))
			return usage_err(err, errsz, "'%s' is not a valid "
			    "service name", a);
		strlcpy_(o->req.service, a, sizeof(o->req.service));
		o->req.has_service = 1;
	}
	if (pc->svcarg == PS_REQUIRED && !o->req.has_service)
		return usage_err(err, errsz, "%s: which service?", c->name);
	if (o->req.previous && o->req.follow)
		return usage_err(err, errsz, "%s", "logs: -p and -f exclude each "
		    "other (the previous run is over)");
	return 0;
}

/* ---- output ----------------------------------------------------------------- */

static const char *
jstr(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, path, yajl_t_string);

	return v ? YAJL_GET_STRING(v) : NULL;
}

static int
jint(yajl_val obj, const char *key, long long *out)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, path, yajl_t_number);

	if (v == NULL || !YAJL_IS_INTEGER(v))
		return 0;
	*out = YAJL_GET_INTEGER(v);
	return 1;
}

static void
print_list(yajl_val services, FILE *out)
{
	size_t i;
	char up[32], dom[16];
	long long v;

	fprintf(out, "%-20s %-9s %6s %9s %8s  %s\n", "SERVICE", "STATE",
	    "DOMID", "UPTIME", "RESTARTS", "LAST EXIT");
	for (i = 0; i < json_len(services); i++) {
		yajl_val s = json_at(services, i);
		long long restarts = 0;

		strcpy(dom, "-");
		strcpy(up, "-");
		if (jint(s, "domid", &v))
			snprintf(dom, sizeof(dom), "%lld", v);
		if (jint(s, "uptime", &v))
			format_duration(up, sizeof(up), (uint64_t)v * 1000);
		jint(s, "restarts", &restarts);
		fprintf(out, "%-20s %-9s %6s %9s %8lld  %s\n",
		    jstr(s, "name") ? jstr(s, "name") : "?",
		    jstr(s, "state") ? jstr(s, "state") : "?", dom, up,
		    restarts, jstr(s, "last_exit") ? jstr(s, "last_exit") : "");
	}
}

static int jtrue(yajl_val, const char *);
static const char *jstr_or(yajl_val, const char *, const char *);

static void
print_status(yajl_val s, FILE *out)
{
	static const char *const strs[] = { "description", "state",
	    "failed_reason", "last_exit", "last_error", "restart_policy",
	    "xen_state", "conflict", NULL };
	const char *const *k;
	char buf[64];
	long long v;

	fprintf(out, "%s\n", jstr(s, "name") ? jstr(s, "name") : "?");
	for (k = strs; *k; k++)
		if (jstr(s, *k))
			fprintf(out, "  %-16s %s\n", *k, jstr(s, *k));
	if (jint(s, "domid", &v))
		fprintf(out, "  %-16s %lld\n", "domid", v);
	if (jint(s, "uptime", &v)) {
		format_duration(buf, sizeof(buf), (uint64_t)v * 1000);
		fprintf(out, "  %-16s %s\n", "uptime", buf);
	}
	if (jint(s, "memory", &v)) {
		format_size(buf, sizeof(buf), (uint64_t)v);
		fprintf(out, "  %-16s %s\n", "memory", buf);
	}
	if (jint(s, "vcpus", &v))
		fprintf(out, "  %-16s %lld\n", "vcpus", v);
	/* Xen's own figures for the domain (every 2 s) */
	if (jint(s, "cpu_time_ms", &v)) {
		long long pm;

		format_duration(buf, sizeof(buf), (uint64_t)v);
		if (jint(s, "cpu_permille", &pm))
			fprintf(out, "  %-16s %s, now %lld.%lld%% of a vCPU\n",
			    "cpu", buf, pm / 10, pm % 10);
		else
			fprintf(out, "  %-16s %s\n", "cpu", buf);
	}
	if (jint(s, "memory_now", &v)) {
		char max[32];
		long long m;

		format_size(buf, sizeof(buf), (uint64_t)v);
		if (jint(s, "memory_max", &m) && m > 0) {
			format_size(max, sizeof(max), (uint64_t)m);
			fprintf(out, "  %-16s %s (max %s)\n", "memory in Xen",
			    buf, max);
		} else
			fprintf(out, "  %-16s %s\n", "memory in Xen", buf);
	}
	if (jint(s, "vcpus_online", &v))
		fprintf(out, "  %-16s %lld\n", "vcpus online", v);
	{
		const char *dp[] = { "disks", NULL }, *vp[] = { "vifs", NULL };
		yajl_val ds = yajl_tree_get(s, dp, yajl_t_array),
		    vs = yajl_tree_get(s, vp, yajl_t_array);
		char a[32], b[32], label[48];
		long long r, w, rb, wb, rp = 0, tp = 0;
		size_t i;

		for (i = 0; i < json_len(ds); i++) {
			yajl_val d = json_at(ds, i);

			snprintf(label, sizeof(label), "disk %s",
			    jstr_or(d, "vdev", "?"));
			if (jint(d, "read_requests", &r) &&
			    jint(d, "write_requests", &w) &&
			    jint(d, "read_bytes", &rb) &&
			    jint(d, "written_bytes", &wb)) {
				format_size(a, sizeof(a), (uint64_t)rb);
				format_size(b, sizeof(b), (uint64_t)wb);
				fprintf(out, "  %-16s %lld reads (%s), %lld writes "
				    "(%s)\n", label, r, a, w, b);
			}
		}
		for (i = 0; i < json_len(vs); i++) {
			yajl_val d = json_at(vs, i);

			snprintf(label, sizeof(label), "vif %s",
			    jstr_or(d, "ifname", "?"));
			if (jint(d, "rx_bytes", &rb) && jint(d, "tx_bytes", &wb)) {
				jint(d, "rx_packets", &rp);
				jint(d, "tx_packets", &tp);
				format_size(a, sizeof(a), (uint64_t)rb);
				format_size(b, sizeof(b), (uint64_t)wb);
				fprintf(out, "  %-16s received %s (%lld packets), "
				    "sent %s (%lld packets)\n", label, a, rp, b, tp);
			}
		}
	}
	{
		const char *lp[] = { "last_start", NULL };
		yajl_val ls = yajl_tree_get(s, lp, yajl_t_object);
		long long w = 0, c = 0, u = 0, r = 0, rd;

		if (ls && jint(ls, "to_running_ms", &r)) {
			long long km = 0;
			const char *kf = jstr_or(ls, "kernel", "as-is");

			jint(ls, "wait_ms", &w);
			jint(ls, "create_ms", &c);
			jint(ls, "unpause_ms", &u);
			jint(ls, "kernel_ms", &km);
			fprintf(out, "  %-16s running in %lld ms: waited %lld, ",
			    "last start", r, w);
			if (jtrue(ls, "from_standby"))
				fprintf(out, "its standby renamed and unpaused "
				    "in %lld", u);
			else {
				if (strcmp(kf, "as-is") != 0)
					fprintf(out, "kernel %s in %lld, ", kf,
					    km);
				fprintf(out, "libxl built it in %lld, unpaused "
				    "in %lld", c, u);
			}
			if (jint(ls, "to_ready_ms", &rd))
				fprintf(out, "; ready %lld ms later", rd);
			fputc('\n', out);
		}
	}
	{
		const char *plp[] = { "placement", NULL }, *vp[] = { "vcpu", NULL },
		    *dp[] = { "passthrough", NULL };
		yajl_val pl = yajl_tree_get(s, plp, yajl_t_object), vs, ds;
		long long a = 0, b = 0, cpu = -1;
		char label[32];
		size_t i;

		if (pl) {
			const char *sch = jstr_or(pl, "sched", "?");

			fprintf(out, "  %-16s %s (%s", "cpupool",
			    jstr_or(pl, "cpupool", "?"), sch);
			if (jint(pl, "weight", &a) && jint(pl, "cap", &b))
				fprintf(out, ", weight %lld, cap %lld%s", a, b,
				    b ? "%" : " (none)");
			if (jint(pl, "period_us", &a) &&
			    jint(pl, "budget_us", &b))
				fprintf(out, ", period %lld us, budget %lld us",
				    a, b);
			fputs(")\n", out);
			vs = yajl_tree_get(pl, vp, yajl_t_array);
			for (i = 0; i < json_len(vs); i++) {
				yajl_val vc = json_at(vs, i);

				jint(vc, "on_cpu", &cpu);
				snprintf(label, sizeof(label), "vcpu %zu", i);
				if (cpu >= 0)
					fprintf(out, "  %-16s on CPU %lld, ", label,
					    cpu);
				else
					fprintf(out, "  %-16s offline, ", label);
				fprintf(out, "affinity %s, soft %s\n",
				    jstr_or(vc, "affinity", "?"),
				    jstr_or(vc, "soft_affinity", "?"));
			}
			ds = yajl_tree_get(pl, dp, yajl_t_array);
			for (i = 0; i < json_len(ds); i++)
				fprintf(out, "  %-16s %s\n", i ? "" :
				    "passthrough", YAJL_GET_STRING(json_at(ds,
				    i)) ? YAJL_GET_STRING(json_at(ds, i)) : "?");
		}
	}
	if (jstr(s, "standby")) {
		long long sd, sb;

		fprintf(out, "  %-16s %s", "standby", jstr(s, "standby"));
		if (jint(s, "standby_domid", &sd) &&
		    jint(s, "standby_built_ms", &sb))
			fprintf(out, " (domain %lld, built in %lld ms, paused)",
			    sd, sb);
		else if (jint(s, "standby_domid", &sd))
			fprintf(out, " (domain %lld)", sd);
		if (jstr(s, "standby_error"))
			fprintf(out, ": %s", jstr(s, "standby_error"));
		fputc('\n', out);
	}
	if (jint(s, "restarts", &v))
		fprintf(out, "  %-16s %lld\n", "restarts", v);
	if (jint(s, "next_restart_ms", &v)) {
		format_duration(buf, sizeof(buf), (uint64_t)v);
		fprintf(out, "  %-16s in %s\n", "next restart", buf);
	}
	if (jint(s, "stop_deadline_ms", &v)) {
		format_duration(buf, sizeof(buf), (uint64_t)v);
		fprintf(out, "  %-16s in %s\n", "destroy", buf);
	}
	if (jtrue(s, "paused"))
		fprintf(out, "  %-16s %s\n", "paused", "yes, not by domud");
	if (jint(s, "destroy_s", &v)) {
		format_duration(buf, sizeof(buf), (uint64_t)v * 1000);
		fprintf(out, "  %-16s for %s%s\n", "destroying", buf,
		    jtrue(s, "destroy_stuck") ? " (stuck: see last_error)" : "");
	}
	{
		const char *hp[] = { "health_probe", NULL };
		yajl_val h = yajl_tree_get(s, hp, yajl_t_object);
		long long n = 0, f = 0, ms = 0;

		if (h) {
			jint(h, "checks", &n);
			jint(h, "failures", &f);
			fprintf(out, "  %-16s %s (%s probe; %lld checks, %lld "
			    "failed)\n", "health", jstr_or(s, "health", "?"),
			    jstr_or(h, "kind", "?"), n, f);
			if (jstr(h, "last_output")) {
				jint(h, "last_ms", &ms);
				fprintf(out, "  %-16s %s in %lld ms%s%s\n",
				    "last probe", jtrue(h, "last_ok") ? "passed" :
				    "failed", ms, *jstr(h, "last_output") ? ": " :
				    "", jstr(h, "last_output"));
			}
		}
	}
	{
		const char *cp[] = { "channel", NULL };
		yajl_val c = yajl_tree_get(s, cp, yajl_t_object);
		long long in = 0, out_ = 0, fi = 0, rs = 0, crc = 0;

		if (c) {
			jint(c, "bytes_in", &in);
			jint(c, "bytes_out", &out_);
			jint(c, "frames_in", &fi);
			jint(c, "resent", &rs);
			jint(c, "crc_errors", &crc);
			format_size(buf, sizeof(buf), (uint64_t)in);
			fprintf(out, "  %-16s %s in (%lld frames), ", "channel", buf,
			    fi);
			format_size(buf, sizeof(buf), (uint64_t)out_);
			fprintf(out, "%s out; %lld resent, %lld CRC errors\n", buf,
			    rs, crc);
		}
	}
	{
		const char *fp[] = { "last_failure", NULL };
		yajl_val lf = yajl_tree_get(s, fp, yajl_t_object);
		const char *t = lf ? jstr(lf, "console_tail") : NULL;
		long long at = 0;

		if (lf && t) {
			char when[32] = "?";
			time_t sec;
			struct tm tm;

			if (jint(lf, "at", &at)) {
				sec = (time_t)at;
				if (localtime_r(&sec, &tm) != NULL)
					strftime(when, sizeof(when),
					    "%Y-%m-%d %H:%M:%S", &tm);
			}
			fprintf(out, "  %-16s %s at %s; its console's last lines:\n",
			    "last failure", jstr_or(lf, "exit", "?"), when);
			while (*t) {
				const char *nl = strchr(t, '\n');
				int len = nl ? (int)(nl - t) : (int)strlen(t);

				fprintf(out, "    | %.*s\n", len, t);
				t += len + (nl ? 1 : 0);
			}
		}
	}
	if (jint(s, "dying_domid", &v)) {
		long long secs = 0;

		(void)jint(s, "dying_s", &secs);
		format_duration(buf, sizeof(buf), (uint64_t)secs * 1000);
		fprintf(out, "  %-16s domain %lld, for %s\n", "still dying", v,
		    buf);
	}
}

static const char *
jstr_or(yajl_val obj, const char *key, const char *dflt)
{
	const char *v = jstr(obj, key);

	return v && *v ? v : dflt;
}

struct top_row {
	const char	*name, *state, *health;
	long long	 domid, cpu_ms, permille, mem, max, vcpus, restarts;
	long long	 net, disk;	/* bytes/s, -1 = not known */
};

/* bytes through a service's vifs (both ways) and disks (read and written);
 * -1 when it has none counted */
static long long
io_total(yajl_val s, const char *arr, const char *k1, const char *k2)
{
	const char *p[] = { arr, NULL };
	yajl_val a = yajl_tree_get(s, p, yajl_t_array);
	long long sum = -1, x, y;
	size_t i;

	for (i = 0; i < json_len(a); i++)
		if (jint(json_at(a, i), k1, &x) && jint(json_at(a, i), k2, &y))
			sum = (sum < 0 ? 0 : sum) + x + y;
	return sum;
}

/* the same service (name and domain) in the round before */
static yajl_val
top_prev(yajl_val prev, yajl_val s)
{
	const char *name = jstr(s, "name");
	long long d0, d1;
	size_t i;

	for (i = 0; name && i < json_len(prev); i++) {
		yajl_val p = json_at(prev, i);
		const char *pn = jstr(p, "name");

		if (pn && strcmp(pn, name) == 0 && jint(p, "domid", &d0) &&
		    jint(s, "domid", &d1) && d0 == d1)
			return p;
	}
	return NULL;
}

static long long
top_rate(yajl_val s, yajl_val p, double dt, const char *arr, const char *k1,
    const char *k2)
{
	long long now, before;

	if (p == NULL || dt <= 0)
		return -1;
	now = io_total(s, arr, k1, k2);
	before = io_total(p, arr, k1, k2);
	if (now < 0 || before < 0 || now < before)
		return -1;
	return (long long)((double)(now - before) / dt);
}

static int
top_cmp(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	if (x->permille != y->permille)
		return x->permille < y->permille ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* top: one table from a status reply, the busiest first */
void
ctl_print_top(yajl_val services, yajl_val prev, double dt, FILE *out)
{
	size_t i, n = json_len(services);
	struct top_row *r = calloc(n ? n : 1, sizeof(*r));
	char cpu[32], t[32], mem[32], max[32], dom[24], vc[24], net[32],
	    disk[32];

	if (r == NULL)
		return;
	for (i = 0; i < n; i++) {
		yajl_val s = json_at(services, i);

		r[i].name = jstr_or(s, "name", "?");
		r[i].state = jstr_or(s, "state", "?");
		r[i].health = jstr_or(s, "health", "-");
		r[i].domid = r[i].cpu_ms = r[i].permille = r[i].mem =
		    r[i].max = r[i].vcpus = -1;
		jint(s, "domid", &r[i].domid);
		jint(s, "cpu_time_ms", &r[i].cpu_ms);
		jint(s, "cpu_permille", &r[i].permille);
		jint(s, "memory_now", &r[i].mem);
		jint(s, "memory_max", &r[i].max);
		jint(s, "vcpus_online", &r[i].vcpus);
		jint(s, "restarts", &r[i].restarts);
		r[i].net = top_rate(s, top_prev(prev, s), dt, "vifs", "rx_bytes",
		    "tx_bytes");
		r[i].disk = top_rate(s, top_prev(prev, s), dt, "disks",
		    "read_bytes", "written_bytes");
	}
	qsort(r, n, sizeof(*r), top_cmp);
	fprintf(out, "%-20s %-9s %6s %6s %10s %9s %9s %5s %8s %9s %9s %s\n",
	    "SERVICE", "STATE", "DOMID", "CPU%", "CPU TIME", "MEMORY", "MAX",
	    "VCPUS", "RESTARTS", "NET/s", "DISK/s", "HEALTH");
	for (i = 0; i < n; i++) {
		strcpy(cpu, "-");
		strcpy(t, "-");
		strcpy(dom, "-");
		strcpy(vc, "-");
		if (r[i].domid >= 0)
			snprintf(dom, sizeof(dom), "%lld", r[i].domid);
		if (r[i].vcpus >= 0)
			snprintf(vc, sizeof(vc), "%lld", r[i].vcpus);
		strcpy(mem, "-");
		strcpy(max, "-");
		if (r[i].permille >= 0)
			snprintf(cpu, sizeof(cpu), "%lld.%lld", r[i].permille / 10,
			    r[i].permille % 10);
		if (r[i].cpu_ms >= 0)
			format_duration(t, sizeof(t), (uint64_t)r[i].cpu_ms);
		if (r[i].mem >= 0)
			format_size(mem, sizeof(mem), (uint64_t)r[i].mem);
		if (r[i].max > 0)
			format_size(max, sizeof(max), (uint64_t)r[i].max);
		strcpy(net, "-");
		strcpy(disk, "-");
		if (r[i].net >= 0)
			format_size(net, sizeof(net), (uint64_t)r[i].net);
		if (r[i].disk >= 0)
			format_size(disk, sizeof(disk), (uint64_t)r[i].disk);
		fprintf(out, "%-20s %-9s %6s %6s %10s %9s %9s %5s %8lld %9s %9s "
		    "%s\n", r[i].name, r[i].state, dom, cpu, t, mem, max, vc,
		    r[i].restarts, net, disk, r[i].health);
	}
	free(r);
}

/* one event of the history: local time, seconds since boot, what changed,
 * why and whose doing */
void
ctl_print_event(yajl_val e, FILE *out)
{
	long long t = 0, boot = 0;
	char when[32] = "?";
	struct tm tm;
	time_t sec;

	if (jint(e, "time_ms", &t)) {
		sec = (time_t)(t / 1000);
		if (localtime_r(&sec, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	}
	jint(e, "boot_ms", &boot);
	fprintf(out, "%s.%03lld [%lld.%03llds] %-16s %s -> %s (%s; by %s)\n",
	    when, t % 1000, boot / 1000, boot % 1000, jstr_or(e, "service", "?"),
	    jstr_or(e, "from", "?"), jstr_or(e, "to", "?"),
	    jstr_or(e, "reason", ""), jstr_or(e, "actor", "?"));
}



static int
jtrue(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, path, yajl_t_any);

	return v != NULL && YAJL_IS_TRUE(v);
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

int
ctl_render(const struct ctl_opts *o, const char *reply, FILE *out,
    FILE *errout)
{
	const char *ok_path[] = { "ok", NULL }, *res_path[] = { "result", NULL },
	    *err_path[] = { "error", NULL }, *svc_path[] = { "services", NULL },
	    *diag_path[] = { "diagnostics", NULL },
	    *loop_path[] = { "loop", NULL };
	yajl_val root, ok, res, e, svcs, diags;
	char yerr[128];
	int rc = CTL_EXIT_OK;
	size_t i;

	root = yajl_tree_parse(reply, yerr, sizeof(yerr));
	if (root == NULL || (ok = yajl_tree_get(root, ok_path, yajl_t_any)) ==
	    NULL) {
		fprintf(errout, "domuctl: malformed reply from domud\n");
		yajl_tree_free(root);
		return CTL_EXIT_TIMEOUT;
	}
	if (o->json)
		fputs(reply, out);
	if (!YAJL_IS_TRUE(ok)) {
		const char *code, *msg;

		e = yajl_tree_get(root, err_path, yajl_t_object);
		code = e ? jstr(e, "code") : NULL;
		msg = e ? jstr(e, "message") : NULL;
		if (!o->json) {
			fprintf(errout, "domuctl: %s: %s\n", o->cmd->name,
			    msg ? msg : "failed");
			diags = e ? yajl_tree_get(e, diag_path, yajl_t_array) :
			    NULL;
			for (i = 0; diags && i < json_len(diags); i++)
				print_diag(json_at(diags, i),
				    errout);
		}
		rc = code && strcmp(code, "denied") == 0 ? CTL_EXIT_DENIED :
		    code && strcmp(code, "busy") == 0 ? CTL_EXIT_BUSY :
		    CTL_EXIT_FAILED;
		yajl_tree_free(root);
		return rc;
	}
	if (o->json) {
		yajl_tree_free(root);
		return CTL_EXIT_OK;
	}
	res = yajl_tree_get(root, res_path, yajl_t_object);
	if (res == NULL) {
		yajl_tree_free(root);
		return CTL_EXIT_OK;
	}
	if (!strcmp(o->cmd->name, "list") || !strcmp(o->cmd->name, "status")) {
		svcs = yajl_tree_get(res, svc_path, yajl_t_array);
		if (svcs && (!strcmp(o->cmd->name, "list") ||
		    !o->req.has_service))
			print_list(svcs, out);
		else if (svcs)
			for (i = 0; i < json_len(svcs); i++)
				print_status(json_at(svcs, i), out);
	} else if (!strcmp(o->cmd->name, "events")) {
		const char *evp[] = { "events", NULL };
		yajl_val evs = yajl_tree_get(res, evp, yajl_t_array);

		for (i = 0; evs && i < json_len(evs); i++)
			ctl_print_event(json_at(evs, i), out);
	} else if (!strcmp(o->cmd->name, "logs") ||
	    !strcmp(o->cmd->name, "metrics")) {
		fputs(jstr(res, "text") ? jstr(res, "text") : "", out);
	} else if (!strcmp(o->cmd->name, "ping") && o->req.has_service) {
		long long rtt = 0;

		jint(res, "rtt_ms", &rtt);
		fprintf(out, "%s: the agent answered in %lld ms (%s)\n",
		    o->req.service, rtt, jstr_or(res, "agent", "?"));
	} else if (!strcmp(o->cmd->name, "ping")) {
		long long pid = 0;

		yajl_val loop = yajl_tree_get(res, loop_path, yajl_t_object);
		long long iters = 0, maxb = 0, win = 0;

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
	} else if (!strcmp(o->cmd->name, "cpupools")) {
		print_pools(res, out);
	} else if (!strcmp(o->cmd->name, "net")) {
		rc = print_net(res, out);
	} else if (!strcmp(o->cmd->name, "reload")) {
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
	yajl_tree_free(root);
	return rc;
}
