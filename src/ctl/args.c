// SPDX-License-Identifier: GPL-2.0-or-later
/* domuctl's arguments: the global options, the command, and each command's
 * own options and operands, into a request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "base/util.h"

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

/* the options before the command: -j, -r RUNDIR, -t SECS, -h; *ip is
 * then the command's index */
static int
parse_global(int argc, char **argv, int *ip, struct ctl_opts *o, char *err,
    size_t errsz)
{
	uint64_t n;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
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
	*ip = i;
	return 0;
}

/* logs [-f|-p] [-n N] [--raw], events [-f] [-n N]: the option at *ip */
static int
parse_logs_opt(const char *name, int argc, char **argv, int *ip,
    struct ctl_opts *o, char *err, size_t errsz)
{
	const char *a = argv[*ip];
	uint64_t n;

	if (!strcmp(a, "--raw") && name[0] == 'l') {
		o->req.raw = 1;
		return 0;
	}
	if (!strcmp(a, "--slot") && name[0] == 'l') {
		/* a slot's kept log: the console of its failed trial */
		if (*ip + 1 >= argc || (strcmp(argv[*ip + 1], "a") != 0 &&
		    strcmp(argv[*ip + 1], "b") != 0))
			return usage_err(err, errsz, "%s",
			    "logs --slot: a or b");
		strlcpy_(o->req.slot, argv[++*ip], sizeof(o->req.slot));
		return 0;
	}
	if ((!strcmp(a, "-p") || !strcmp(a, "--previous")) && name[0] == 'l') {
		o->req.previous = 1;
		return 0;
	}
	if (!strcmp(a, "-f") || !strcmp(a, "--follow")) {
		o->req.follow = 1;
		return 0;
	}
	if (!strcmp(a, "-n")) {
		if (*ip + 1 >= argc)
			return usage_err(err, errsz, "%s",
			    "-n needs a number of lines");
		if (parse_uint(argv[++*ip], PROTO_LOG_LINES_MAX, &n) != NULL ||
		    n == 0)
			return usage_err(err, errsz, "-n: expected "
			    "1 to 10000 lines, got '%s'", argv[*ip]);
		o->req.lines = (int64_t)n;
		return 0;
	}
	return usage_err(err, errsz, name[0] == 'l' ?
	    "logs: unknown option '%s'" :
	    "events: unknown option '%s'", a);
}

/* top [-n ITER] [-d SECS]: the option at *ip */
static int
parse_top_opt(int argc, char **argv, int *ip, struct ctl_opts *o, char *err,
    size_t errsz)
{
	const char *a = argv[*ip];
	uint64_t n;

	if (*ip + 1 >= argc || parse_uint(argv[*ip + 1], 86400, &n) != NULL ||
	    (a[1] == 'd' && n == 0))
		return usage_err(err, errsz, "top: %s needs a number", a);
	if (a[1] == 'n')
		o->top_iter = (int)n;
	else
		o->top_delay_ms = (int)n * 1000;
	++*ip;
	return 0;
}

/* update stage/apply: each option that names a file, and its name in
 * the request's "files" */
static const struct {
	const char	*flag;
	const char	*name;
} update_files[] = {
	{ "--kernel",		"kernel" },
	{ "--ramdisk",		"ramdisk" },
	{ "--device-tree",	"device_tree" },
	{ "--manifest",		"manifest" },
	{ "--signature",	"signature" },
};

/* path, to be sent as name: each name once, PROTO_FDS_MAX in all */
static int
update_add_file(struct ctl_opts *o, const char *name, const char *path,
    char *err, size_t errsz)
{
	struct request *r = &o->req;
	int i;

	for (i = 0; i < r->nfiles; i++)
		if (!strcmp(r->files[i], name))
			return usage_err(err, errsz, "update: %s given twice",
			    name);
	if (r->nfiles >= PROTO_FDS_MAX) {
		snprintf(err, errsz, "update: at most %d files", PROTO_FDS_MAX);
		return CTL_EXIT_USAGE;
	}
	if (path[0] == '\0')
		return usage_err(err, errsz, "update: %s: an empty path", name);
	strlcpy_(r->files[r->nfiles], name, sizeof(r->files[0]));
	o->upd_paths[r->nfiles++] = path;
	return 0;
}

/* --disk VDEV=FILE: the image of the guest's disk VDEV (xvda) */
static int
update_add_disk(struct ctl_opts *o, const char *arg, char *err, size_t errsz)
{
	const char *eq = strchr(arg, '=');
	char name[PROTO_FILE_NAME_MAX];
	size_t n = eq ? (size_t)(eq - arg) : 0, k;

	if (n == 0 || n > 16 || arg[0] < 'a' || arg[0] > 'z')
		return usage_err(err, errsz, "update --disk: expected VDEV=FILE "
		    "(xvda=disk.img), got '%s'", arg);
	for (k = 0; k < n; k++)
		if (!(arg[k] >= 'a' && arg[k] <= 'z') &&
		    !(arg[k] >= '0' && arg[k] <= '9'))
			return usage_err(err, errsz, "update --disk: '%s': a "
			    "VDEV is letters and digits (xvda)", arg);
	snprintf(name, sizeof(name), "disk:%.*s", (int)n, arg);
	return update_add_file(o, name, eq + 1, err, errsz);
}

/* an option of update SUB at *ip: 0 taken, -1 none of its options, or a
 * usage error */
static int
parse_update_opt(const char *sub, int argc, char **argv, int *ip,
    struct ctl_opts *o, char *err, size_t errsz)
{
	const char *a = argv[*ip], *v = *ip + 1 < argc ? argv[*ip + 1] : NULL;
	int files = !strcmp(sub, "stage") || !strcmp(sub, "apply"),
	    waits = !strcmp(sub, "switch") || !strcmp(sub, "apply");
	uint64_t n;
	size_t k;

	if (waits && (!strcmp(a, "--wait") || !strcmp(a, "-w"))) {
		o->wait = 1;
		return 0;
	}
	if ((waits || !strcmp(sub, "wait")) && !strcmp(a, "--timeout")) {
		if (v == NULL || parse_uint(v, 86400, &n) != NULL || n == 0)
			return usage_err(err, errsz, "update --timeout: expected "
			    "1 to 86400 seconds, got '%s'", v ? v : "");
		o->upd_timeout_ms = (int)n * 1000;
		++*ip;
		return 0;
	}
	for (k = 0; files && k < nitems(update_files); k++)
		if (!strcmp(a, update_files[k].flag)) {
			if (v == NULL)
				return usage_err(err, errsz, "update: %s needs a "
				    "file", a);
			++*ip;
			return update_add_file(o, update_files[k].name, v, err,
			    errsz);
		}
	if (files && !strcmp(a, "--disk")) {
		if (v == NULL)
			return usage_err(err, errsz, "%s", "update: --disk needs "
			    "VDEV=FILE");
		++*ip;
		return update_add_disk(o, v, err, errsz);
	}
	if (!strcmp(a, "-j") || !strcmp(a, "--json"))
		return -1;
	/* (a service's name never starts with '-') */
	return usage_err(err, errsz, "update: unknown option '%s'", a);
}

/* update SUB, its arguments all read: what they must come with */
static int
update_check(const char *sub, struct ctl_opts *o, char *err, size_t errsz)
{
	const struct request *r = &o->req;
	int i, kernel = 0, manifest = 0, signature = 0;

	for (i = 0; i < r->nfiles; i++) {
		kernel |= !strcmp(r->files[i], "kernel");
		manifest |= !strcmp(r->files[i], "manifest");
		signature |= !strcmp(r->files[i], "signature");
	}
	if (!strcmp(sub, "wait") && !r->has_service)
		return usage_err(err, errsz, "%s", "update wait: which service?");
	if ((!strcmp(sub, "stage") || !strcmp(sub, "apply")) && !kernel)
		return usage_err(err, errsz, "update %s: --kernel FILE is "
		    "required", sub);
	if (signature && !manifest)
		return usage_err(err, errsz, "%s", "update: --signature is the "
		    "manifest's: --manifest too");
	if (o->upd_timeout_ms && !o->wait && strcmp(sub, "wait") != 0)
		return usage_err(err, errsz, "update %s: --timeout goes with "
		    "--wait", sub);
	/* run by update.c: they send descriptors or follow events */
	o->update = strcmp(sub, "rollback") != 0 && strcmp(sub, "status") != 0;
	if (o->update && strcmp(sub, "wait") != 0 &&
	    strcmp(sub, "switch") != 0 && !o->timeout_set)
		o->timeout_ms = CTL_STAGE_MS_DEFAULT;
	return 0;
}

/* an option of command name at *ip: 0 taken, -1 none of its options (an
 * operand), or a usage error */
static int
parse_opt(const char *name, int argc, char **argv, int *ip,
    struct ctl_opts *o, char *err, size_t errsz)
{
	const char *a = argv[*ip];
	int rc;

	if (strcmp(name, "console") == 0 && !strcmp(a, "--raw")) {
		o->raw = 1;
		return 0;
	}
	if ((strcmp(name, "logs") == 0 || strcmp(name, "events") == 0) &&
	    a[0] == '-')
		return parse_logs_opt(name, argc, argv, ip, o, err, errsz);
	if ((!strcmp(name, "start") || !strcmp(name, "stop") ||
	    !strcmp(name, "restart")) &&
	    (!strcmp(a, "--wait") || !strcmp(a, "-w"))) {
		o->wait = 1;
		if (!o->timeout_set)
			o->timeout_ms = CTL_WAIT_MS_DEFAULT;
		return 0;
	}
	if (strncmp(name, "update ", 7) == 0 && a[0] == '-' &&
	    (rc = parse_update_opt(name + 7, argc, argv, ip, o, err, errsz)) != -1)
		return rc;
	if (strcmp(name, "top") == 0 && (!strcmp(a, "-n") || !strcmp(a, "-d")))
		return parse_top_opt(argc, argv, ip, o, err, errsz);
	if (strcmp(name, "net") == 0 && a[0] == '-' &&
	    (!strcmp(a, "--check") || !strcmp(a, "--fix"))) {
		o->req.check = 1;
		if (a[2] == 'f') {
			/* repairing is an admin verb of its own */
			strlcpy_(o->req.cmd, "net-fix", sizeof(o->req.cmd));
			o->req.pcmd = proto_cmd_find("net-fix");
		}
		return 0;
	}
	if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
		o->json = 1;
		return 0;
	}
	return -1;
}

/* the commands other than exec, run and cp: options and a service */
static int
parse_plain(int argc, char **argv, int i, struct ctl_opts *o, char *err,
    size_t errsz)
{
	const struct proto_cmd *pc = o->req.pcmd;
	const char *name = o->cmd->name;
	int rc;

	for (; i < argc; i++) {
		const char *a = argv[i];

		if ((rc = parse_opt(name, argc, argv, &i, o, err, errsz)) != -1) {
			if (rc != 0)
				return rc;
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
		return usage_err(err, errsz, "%s: which service?", name);
	if (o->req.previous && o->req.follow)
		return usage_err(err, errsz, "%s", "logs: -p and -f exclude each "
		    "other (the previous run is over)");
	if (o->req.slot[0] && (o->req.previous || o->req.follow))
		return usage_err(err, errsz, "%s", "logs: --slot excludes -p and "
		    "-f (a slot's kept log is of a trial that is over)");
	if (strncmp(name, "update ", 7) == 0)
		return update_check(name + 7, o, err, errsz);
	return 0;
}

/* the protocol's verb of a command, when it is not its name */
static const char *
cmd_verb(const struct ctl_cmd *c)
{
	static const char *const verbs[][2] = {
		{ "cp",			"exec" },	/* of cat in the guest */
		{ "top",		"status" },	/* rounds of it */
		{ "update stage",	"update-stage" },
		{ "update switch",	"update-switch" },
		{ "update apply",	"update-stage" },	/* then switch */
		{ "update rollback",	"update-rollback" },
		{ "update status",	"update-status" },
		{ "update wait",	"update-status" },	/* then events */
	};
	size_t i;

	for (i = 0; i < nitems(verbs); i++)
		if (!strcmp(c->name, verbs[i][0]))
			return verbs[i][1];
	return c->name;
}

/* the command at argv[*ip], one word or two ("update stage"): *ip at its
 * last word; NULL with a usage error in err */
static const struct ctl_cmd *
find_cmd(int argc, char **argv, int *ip, char *err, size_t errsz)
{
	const char *a = argv[*ip], *sp;
	const struct ctl_cmd *c;
	size_t n;

	for (c = ctl_cmds; c->name; c++) {
		if ((sp = strchr(c->name, ' ')) == NULL) {
			if (strcmp(c->name, a) == 0)
				return c;
			continue;
		}
		n = (size_t)(sp - c->name);
		if (strncmp(c->name, a, n) != 0 || a[n] != '\0')
			continue;
		if (*ip + 1 < argc && strcmp(sp + 1, argv[*ip + 1]) == 0) {
			++*ip;
			return c;
		}
	}
	if (!strcmp(a, "update"))
		usage_err(err, errsz, "%s", "update: stage, switch, apply, "
		    "rollback, status or wait?");
	else
		usage_err(err, errsz, "unknown command '%s'", a);
	return NULL;
}

int
ctl_parse_args(int argc, char **argv, struct ctl_opts *o, char *err,
    size_t errsz)
{
	const struct proto_cmd *pc;
	const struct ctl_cmd *c;
	int i, rc;

	memset(o, 0, sizeof(*o));
	o->run_dir = CTL_RUN_DIR;
	o->timeout_ms = CTL_TIMEOUT_MS;
	if ((rc = parse_global(argc, argv, &i, o, err, errsz)) != 0)
		return rc;
	if (i >= argc)
		return usage_err(err, errsz, "%s", "missing command");
	if ((c = find_cmd(argc, argv, &i, err, errsz)) == NULL)
		return CTL_EXIT_USAGE;
	o->cmd = c;
	pc = proto_cmd_find(cmd_verb(c));
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
	return parse_plain(argc, argv, i + 1, o, err, errsz);
}
