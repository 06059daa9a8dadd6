// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "helpers.h"

static int
parse(struct ctl_opts *o, char *err, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;

	argv[argc++] = "domuctl";
	va_start(ap, err);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	return ctl_parse_args(argc, argv, o, err, 256);
}

START_TEST(exec_args)
{
	struct ctl_opts o;
	char err[256], *line;

	ck_assert_int_eq(parse(&o, err, "exec", "-t", "5", "--shell", "m", "--",
	    "echo hi; exit 3", (char *)NULL), 0);
	ck_assert_str_eq(o.req.service, "m");
	ck_assert_int_eq(o.req.timeout_ms, 5000);
	ck_assert_int_eq(o.req.shell, 1);
	ck_assert_int_eq(o.req.argc, 1);
	ck_assert_str_eq(o.req.args, "echo hi; exit 3");
	/* the command's own options are not domuctl's */
	ck_assert_int_eq(parse(&o, err, "exec", "m", "--", "ls", "-l", "/",
	    (char *)NULL), 0);
	ck_assert_int_eq(o.req.argc, 3);
	ck_assert_mem_eq(o.req.args, "ls\0-l\0/\0", 9);
	line = proto_encode_request(&o.req);
	ck_assert_ptr_nonnull(strstr(line, "\"argv\":[\"ls\",\"-l\",\"/\"]"));
	free(line);
	ck_assert_int_eq(parse(&o, err, "exec", "m", (char *)NULL), CTL_EXIT_USAGE);
	ck_assert_int_eq(parse(&o, err, "exec", "-t", "0", "m", "--", "x", (char *)NULL),
	    CTL_EXIT_USAGE);
	ck_assert_int_eq(parse(&o, err, "exec", "--", "x", (char *)NULL), CTL_EXIT_USAGE);
}
END_TEST

START_TEST(exec_status)
{
	FILE *null = fopen("/dev/null", "w");

	ck_assert_int_eq(ctl_exec_status("{\"v\":1,\"ok\":true,\"result\":"
	    "{\"exit\":3,\"signal\":0,\"timed_out\":false,\"cancelled\":false}}",
	    null), 3);
	ck_assert_int_eq(ctl_exec_status("{\"v\":1,\"ok\":true,\"result\":"
	    "{\"exit\":-1,\"signal\":9,\"timed_out\":true}}", null), 124);
	ck_assert_int_eq(ctl_exec_status("{\"v\":1,\"ok\":true,\"result\":"
	    "{\"exit\":-1,\"signal\":15}}", null), 128 + 15);
	ck_assert_int_eq(ctl_exec_status("{\"v\":1,\"ok\":true,\"result\":"
	    "{\"exit\":-1,\"signal\":9,\"cancelled\":true}}", null), 130);
	ck_assert_int_eq(ctl_exec_status("{\"v\":1,\"ok\":false,\"error\":"
	    "{\"code\":\"failed\",\"message\":\"nope: No such file or "
	    "directory\"}}", null), 127);
	ck_assert_int_eq(ctl_exec_status("{\"v\":1,\"ok\":false,\"error\":"
	    "{\"code\":\"failed\",\"message\":\"not running\"}}", null), 125);
	ck_assert_int_eq(ctl_exec_status("garbage", null), 125);
	fclose(null);
}
END_TEST

START_TEST(args_ok)
{
	struct ctl_opts o;
	char err[256];

	ck_assert_int_eq(parse(&o, err, "status", (char *)NULL), 0);
	ck_assert_int_eq(o.req.has_service, 0);
	ck_assert_int_eq(parse(&o, err, "--json", "status", "gw", (char *)NULL), 0);
	ck_assert_int_eq(o.json, 1);
	ck_assert_str_eq(o.req.service, "gw");
	ck_assert_int_eq(parse(&o, err, "logs", "-n", "20", "--raw", "gw", (char *)NULL), 0);
	ck_assert_int_eq(o.req.lines, 20);
	ck_assert_int_eq(o.req.raw, 1);
	ck_assert_int_eq(o.req.follow, 0);
	ck_assert_int_eq(parse(&o, err, "logs", "-f", "gw", (char *)NULL), 0);
	ck_assert_int_eq(o.req.follow, 1);
	ck_assert_int_eq(parse(&o, err, "-t", "3", "-r", "/tmp/x", "stop", "gw",
	    "-j", (char *)NULL), 0);
	ck_assert_int_eq(o.timeout_ms, 3000);
	ck_assert_str_eq(o.run_dir, "/tmp/x");
	ck_assert_int_eq(o.json, 1);
	/* --wait: longer unless -t says; events take -f and -n */
	ck_assert_int_eq(parse(&o, err, "start", "--wait", "gw", (char *)NULL), 0);
	ck_assert_int_eq(o.wait, 1);
	ck_assert_int_eq(o.timeout_ms, CTL_WAIT_MS_DEFAULT);
	ck_assert_int_eq(parse(&o, err, "-t", "60", "restart", "gw", "-w",
	    (char *)NULL), 0);
	ck_assert_int_eq(o.wait, 1);
	ck_assert_int_eq(o.timeout_ms, 60000);
	ck_assert_int_ne(parse(&o, err, "status", "--wait", (char *)NULL), 0);
	ck_assert_int_eq(parse(&o, err, "events", "-f", "-n", "5", "gw",
	    (char *)NULL), 0);
	ck_assert_int_eq(o.req.follow, 1);
	ck_assert_int_eq(o.req.lines, 5);
	ck_assert_int_ne(parse(&o, err, "events", "--raw", (char *)NULL), 0);
	/* exec --batch: commands from stdin, as shell scripts */
	ck_assert_int_eq(parse(&o, err, "exec", "--batch", "m", (char *)NULL), 0);
	ck_assert_int_eq(o.batch, 1);
	ck_assert_int_eq(o.req.shell, 1);
	ck_assert_int_eq(o.req.argc, 0);
	/* logs --previous; top asks for every service's devices */
	ck_assert_int_eq(parse(&o, err, "logs", "-p", "gw", (char *)NULL), 0);
	ck_assert_int_eq(o.req.previous, 1);
	ck_assert_int_eq(parse(&o, err, "top", (char *)NULL), 0);
	ck_assert_int_eq(o.req.devices, 1);
}
END_TEST

/* logs --slot: a slot's kept log, of a trial that is over */
START_TEST(logs_slot)
{
	struct ctl_opts o;
	char err[256], *line;

	ck_assert_int_eq(parse(&o, err, "logs", "--slot", "b", "gw",
	    (char *)NULL), 0);
	line = proto_encode_request(&o.req);
	ck_assert_str_eq(line, "{\"v\":1,\"id\":1,\"cmd\":\"logs\","
	    "\"service\":\"gw\",\"slot\":\"b\"}\n");
	free(line);
	ck_assert_int_eq(parse(&o, err, "logs", "--slot", "c", "gw",
	    (char *)NULL), CTL_EXIT_USAGE);
	ck_assert_int_eq(parse(&o, err, "logs", "gw", "--slot", (char *)NULL),
	    CTL_EXIT_USAGE);
	ck_assert_int_eq(parse(&o, err, "logs", "--slot", "a", "-f", "gw",
	    (char *)NULL), CTL_EXIT_USAGE);
	ck_assert_int_eq(parse(&o, err, "logs", "-p", "--slot", "a", "gw",
	    (char *)NULL), CTL_EXIT_USAGE);
	ck_assert_int_eq(parse(&o, err, "events", "--slot", "a", (char *)NULL),
	    CTL_EXIT_USAGE);
}
END_TEST

START_TEST(args_bad)
{
	static const char *const cases[][5] = {
		{ NULL },
		{ "frobnicate", NULL },
		{ "stop", NULL },
		{ "list", "extra", NULL },
		{ "stop", "a", "b", NULL },
		{ "logs", "-n", "0", "gw", NULL },
		{ "logs", "-n", NULL },
		{ "logs", "--fellow", "gw", NULL },
		{ "-t", "0", "list", NULL },
		{ "-x", "list", NULL },
		{ "start", "../../etc", NULL },
		{ "exec", "--batch", "m", "true", NULL },
		{ "logs", "-p", "-f", "gw", NULL },
		{ "events", "-p", NULL },
	};
	struct ctl_opts o;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(parse(&o, err, cases[i][0], cases[i][1], cases[i][2],
		    cases[i][3], (char *)NULL) == CTL_EXIT_USAGE, "case %zu accepted", i);
	}
}
END_TEST

/* how many lines of text begin, after their indentation, with the word
 * verb (a whole word: "start" is not "restart", "top" not "stop") and
 * carry help on the same line */
static int
usage_lines(const char *text, const char *verb, const char *help)
{
	const char *p, *eol;
	size_t n = strlen(verb);
	int found = 0;

	for (p = text; *p; p = *eol ? eol + 1 : eol) {
		eol = p + strcspn(p, "\n");
		p += strspn(p, " \t");
		if ((size_t)(eol - p) >= n && strncmp(p, verb, n) == 0 &&
		    (p[n] == ' ' || p[n] == '\n' || p[n] == '\0') &&
		    memmem(p, (size_t)(eol - p), help, strlen(help)) != NULL)
			found++;
	}
	return found;
}

/* every verb of the table has its own line of the usage, with its help */
START_TEST(usage_from_table)
{
	const struct ctl_cmd *c;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ctl_usage(fp);
	fclose(fp);
	for (c = ctl_cmds; c->name; c++)
		ck_assert_msg(usage_lines(buf, c->name, c->help) == 1,
		    "no usage line (or more than one) for %s:\n%s", c->name, buf);
	free(buf);
}
END_TEST

static int
render(const char *cmdv, const char *reply, char **out, char **errout)
{
	struct ctl_opts o;
	char err[256];
	size_t a, b;
	FILE *fo = open_memstream(out, &a), *fe = open_memstream(errout, &b);
	int rc;

	ck_assert_int_eq(parse(&o, err, cmdv, strcmp(cmdv, "stop") ?
	    (char *)NULL : "gw", (char *)NULL), 0);
	rc = ctl_render(&o, reply, fo, fe);
	fclose(fo);
	fclose(fe);
	return rc;
}

START_TEST(render_replies)
{
	char *out, *errout;

	ck_assert_int_eq(render("list", "{\"v\":1,\"ok\":true,\"result\":"
	    "{\"services\":[{\"name\":\"gw\",\"state\":\"running\",\"domid\":7,"
	    "\"uptime\":65,\"restarts\":0,\"last_exit\":\"none\"}]}}\n", &out,
	    &errout), CTL_EXIT_OK);
	ck_assert_ptr_nonnull(strstr(out, "gw"));
	ck_assert_ptr_nonnull(strstr(out, "running"));
	ck_assert_ptr_nonnull(strstr(out, "1m05s"));
	free(out);
	free(errout);
	ck_assert_int_eq(render("stop", "{\"v\":1,\"ok\":false,\"error\":"
	    "{\"code\":\"denied\",\"message\":\"'stop' needs root\"}}\n", &out,
	    &errout), CTL_EXIT_DENIED);
	ck_assert_ptr_nonnull(strstr(errout, "'stop' needs root"));
	free(out);
	free(errout);
	ck_assert_int_eq(render("list", "garbage", &out, &errout),
	    CTL_EXIT_TIMEOUT);
	free(out);
	free(errout);
	ck_assert_int_eq(render("ping", "{\"v\":1,\"ok\":true,\"result\":"
	    "{\"version\":\"0.1.0\",\"pid\":42,\"role\":\"read\",\"loop\":"
	    "{\"iterations\":9,\"last_busy_ms\":1,\"max_busy_ms\":4800,"
	    "\"window_s\":60}}}\n", &out, &errout), CTL_EXIT_OK);
	ck_assert_ptr_nonnull(strstr(out, "pid 42"));
	ck_assert_ptr_nonnull(strstr(out, "the longest 4800 ms in the last "
	    "60-120 s"));
	free(out);
	free(errout);
}
END_TEST

/* top: the busiest first, Xen's figures formatted, "-" where none */
START_TEST(top_table)
{
	const char *sp[] = { "result", "services", NULL };
	char *out = NULL, err[64];
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);
	yajl_val root = yajl_tree_parse("{\"ok\":true,\"result\":{\"services\":["
	    "{\"name\":\"idle\",\"state\":\"stopped\",\"restarts\":0},"
	    "{\"name\":\"gw\",\"state\":\"running\",\"domid\":7,"
	    "\"cpu_time_ms\":65000,\"cpu_permille\":125,\"memory_now\":"
	    "134217728,\"memory_max\":134217728,\"vcpus_online\":2,"
	    "\"restarts\":1},"
	    "{\"name\":\"busy\",\"state\":\"ready\",\"domid\":9,"
	    "\"cpu_permille\":987,\"restarts\":0}]}}", err, sizeof(err));
	char *a, *b, *c;

	ck_assert_ptr_nonnull(root);
	ctl_print_top(yajl_tree_get(root, sp, yajl_t_array), NULL, 0, fp);
	fclose(fp);
	a = strstr(out, "busy");
	b = strstr(out, "gw ");
	c = strstr(out, "idle");
	ck_assert(a && b && c && a < b && b < c);
	ck_assert_ptr_nonnull(strstr(out, "98.7"));
	ck_assert_ptr_nonnull(strstr(out, "12.5"));
	ck_assert_ptr_nonnull(strstr(out, "1m05s"));
	ck_assert_ptr_nonnull(strstr(out, "128M"));
	yajl_tree_free(root);
	free(out);
}
END_TEST

/* top: net and disk rates between two rounds, for the same domain only */
START_TEST(top_rates)
{
	const char *sp[] = { "result", "services", NULL };
	char *out = NULL, err[64];
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);
	yajl_val r0 = yajl_tree_parse("{\"result\":{\"services\":["
	    "{\"name\":\"gw\",\"state\":\"running\",\"domid\":7,\"restarts\":0,"
	    "\"vifs\":[{\"rx_bytes\":1000,\"tx_bytes\":0}],"
	    "\"disks\":[{\"read_bytes\":0,\"written_bytes\":0}]},"
	    "{\"name\":\"new\",\"state\":\"running\",\"domid\":8,\"restarts\":0,"
	    "\"vifs\":[{\"rx_bytes\":0,\"tx_bytes\":0}]}]}}", err, sizeof(err));
	yajl_val r1 = yajl_tree_parse("{\"result\":{\"services\":["
	    "{\"name\":\"gw\",\"state\":\"running\",\"domid\":7,\"restarts\":0,"
	    "\"vifs\":[{\"rx_bytes\":2098152,\"tx_bytes\":2097152}],"
	    "\"disks\":[{\"read_bytes\":4194304,\"written_bytes\":4194304}]},"
	    "{\"name\":\"new\",\"state\":\"running\",\"domid\":9,\"restarts\":1,"
	    "\"vifs\":[{\"rx_bytes\":5000,\"tx_bytes\":0}]}]}}", err, sizeof(err));
	const char *gw, *nw;

	ck_assert_ptr_nonnull(r0);
	ck_assert_ptr_nonnull(r1);
	ctl_print_top(yajl_tree_get(r1, sp, yajl_t_array),
	    yajl_tree_get(r0, sp, yajl_t_array), 2.0, fp);
	fclose(fp);
	gw = strstr(out, "\ngw ");
	nw = strstr(out, "\nnew ");
	ck_assert_ptr_nonnull(gw);
	ck_assert_ptr_nonnull(nw);
	/* 4 MiB both ways in 2 s, 8 MiB of disk in 2 s */
	ck_assert_msg(strstr(gw, " 2M ") && strstr(gw, " 4M "), "%s", out);
	/* a new domain: no rate from the old one's counters */
	ck_assert_msg(strstr(nw, "        -         - "), "%s", out);
	yajl_tree_free(r0);
	yajl_tree_free(r1);
	free(out);
}
END_TEST

Suite *
ctl_suite(void)
{
	Suite *s = suite_create("domuctl");
	TCase *tc = tcase_create("args");

	tcase_add_test(tc, args_ok);
	tcase_add_test(tc, logs_slot);
	tcase_add_test(tc, top_rates);
	tcase_add_test(tc, exec_args);
	tcase_add_test(tc, exec_status);
	tcase_add_test(tc, args_bad);
	tcase_add_test(tc, usage_from_table);
	tcase_add_test(tc, render_replies);
	tcase_add_test(tc, top_table);
	suite_add_tcase(s, tc);
	return s;
}
