// SPDX-License-Identifier: GPL-2.0-or-later
/* Control dispatch in-process: JSON line in, JSON line out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl_tree.h>

#include <sys/stat.h>
#include <unistd.h>

#include "core/control.h"
#include "core/console.h"
#include "core/rundisk.h"
#include "core/verbs.h"
#include "fake_backend.h"
#include "helpers.h"
#include "base/util.h"

static struct control ctl;
static struct fake_backend *fb;
static const struct peer root = { .uid = 0 }, reader = { .uid = 1000,
    .gid = 500 }, stranger = { .uid = 1001, .gid = 1001 };

static void
setup(void)
{
	struct config *cfg = config_new("domud.conf");
	char *dir = t_tmpdir();

	free(cfg->d.log_dir);
	cfg->d.log_dir = dir;
	free(cfg->d.state_dir);
	cfg->d.state_dir = xstrdup(dir);
	config_add_service(cfg, t_service(cfg, "gw", "[service]\nkernel = "
	    "/dev/null\nmemory = 64M\ndescription = Gateway\n"));
	config_finish(cfg);
	fb = fake_new(1ULL << 30);
	memset(&ctl, 0, sizeof(ctl));
	ctl.sup = sup_new(&fb->be, cfg);
	ctl.auth.read_gid = 500;
	ctl.auth.admin_gid = 501;
	ctl.fd_admin = ctl.fd_ro = -1;
	verbs_setup(&ctl);
}

static void
teardown(void)
{
	control_close(&ctl);	/* the console tap verbs_setup set */
	t_rmtree(xstrdup(ctl.sup->cfg->d.log_dir));
	sup_free(ctl.sup);
	fb->be.ops->free(&fb->be);
}

static yajl_val
call(const struct peer *p, enum auth_role role, const char *line)
{
	char *out, err[128];
	size_t len;
	yajl_val v;

	out = control_dispatch(&ctl, p, role, line, strlen(line), &len);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(len, strlen(out));
	ck_assert_int_eq(out[len - 1], '\n');
	/* exactly one line */
	ck_assert_ptr_eq(strchr(out, '\n'), out + len - 1);
	v = yajl_tree_parse(out, err, sizeof(err));
	ck_assert_msg(v != NULL, "reply is not JSON: %s", out);
	free(out);
	return v;
}

static int
ok(yajl_val v)
{
	const char *p[] = { "ok", NULL };

	return YAJL_IS_TRUE(yajl_tree_get(v, p, yajl_t_any));
}

static const char *
str(yajl_val v, const char **path)
{
	yajl_val s = yajl_tree_get(v, path, yajl_t_string);

	return s ? YAJL_GET_STRING(s) : "";
}

START_TEST(status_and_start)
{
	const char *code[] = { "error", "code", NULL };
	const char *state[] = { "result", "state", NULL };
	const char *svcs[] = { "result", "services", NULL };
	yajl_val v, arr;

	v = call(&reader, ROLE_ADMIN, "{\"v\":1,\"id\":1,\"cmd\":\"status\"}\n");
	ck_assert(ok(v));
	arr = yajl_tree_get(v, svcs, yajl_t_array);
	ck_assert_ptr_nonnull(arr);
	ck_assert_uint_eq(YAJL_GET_ARRAY(arr)->len, 1);
	yajl_tree_free(v);

	/* a reader may not start */
	v = call(&reader, ROLE_ADMIN, "{\"v\":1,\"cmd\":\"start\",\"service\":\"gw\"}");
	ck_assert(!ok(v));
	ck_assert_str_eq(str(v, code), "denied");
	yajl_tree_free(v);
	ck_assert_int_eq(fb->ncreate, 0);

	v = call(&root, ROLE_ADMIN, "{\"v\":1,\"cmd\":\"start\",\"service\":\"gw\"}");
	ck_assert(ok(v));
	ck_assert_str_eq(str(v, state), "starting");
	yajl_tree_free(v);
	ck_assert_int_eq(fb->ncreate, 1);
	fake_create_done(fb, "gw", 1);
	fake_run(fb);

	v = call(&reader, ROLE_READ, "{\"v\":1,\"cmd\":\"status\",\"service\":\"gw\"}");
	ck_assert(ok(v));
	{
		const char *st[] = { "result", "services", NULL };
		yajl_val a = yajl_tree_get(v, st, yajl_t_array), s0;
		const char *sn[] = { "state", NULL }, *dn[] = { "domid", NULL },
		    *un[] = { "uptime", NULL };

		s0 = YAJL_GET_ARRAY(a)->values[0];
		ck_assert_str_eq(str(s0, sn), "running");
		ck_assert(YAJL_IS_INTEGER(yajl_tree_get(s0, dn, yajl_t_number)));
		ck_assert(YAJL_IS_INTEGER(yajl_tree_get(s0, un, yajl_t_number)));
	}
	yajl_tree_free(v);
}
END_TEST

/* ping says how long the main loop's rounds took: a stall shows after it */
START_TEST(ping_reports_the_loop)
{
	const char *maxp[] = { "result", "loop", "max_busy_ms", NULL },
	    *itp[] = { "result", "loop", "iterations", NULL };
	uint64_t t = 1000000;
	yajl_val v;

	control_loop_woke(&ctl, t);
	control_loop_done(&ctl, t + 3);
	control_loop_woke(&ctl, t + 500);
	control_loop_done(&ctl, t + 500 + 4800);	/* a 4.8 s stall */
	control_loop_woke(&ctl, t + 6000);
	control_loop_done(&ctl, t + 6001);
	v = call(&reader, ROLE_READ, "{\"v\":1,\"cmd\":\"ping\"}");
	ck_assert(ok(v));
	ck_assert_int_eq(YAJL_GET_INTEGER(yajl_tree_get(v, maxp,
	    yajl_t_number)), 4800);
	ck_assert_int_eq(YAJL_GET_INTEGER(yajl_tree_get(v, itp,
	    yajl_t_number)), 3);
	yajl_tree_free(v);
	/* still shown in the next window, forgotten in the one after */
	t += CONTROL_LOOP_WINDOW_MS + 10;
	control_loop_woke(&ctl, t);
	control_loop_done(&ctl, t + 2);
	v = call(&reader, ROLE_READ, "{\"v\":1,\"cmd\":\"ping\"}");
	ck_assert_int_eq(YAJL_GET_INTEGER(yajl_tree_get(v, maxp,
	    yajl_t_number)), 4800);
	yajl_tree_free(v);
	t += CONTROL_LOOP_WINDOW_MS + 10;
	control_loop_woke(&ctl, t);
	control_loop_done(&ctl, t + 2);
	v = call(&reader, ROLE_READ, "{\"v\":1,\"cmd\":\"ping\"}");
	ck_assert_int_eq(YAJL_GET_INTEGER(yajl_tree_get(v, maxp,
	    yajl_t_number)), 2);
	yajl_tree_free(v);
}
END_TEST

/* events: a reader sees the history, one service's or the last N */
START_TEST(events_verb)
{
	const char *evp[] = { "result", "events", NULL }, *rp[] = { "reason",
	    NULL }, *ap[] = { "actor", NULL }, *tp[] = { "to", NULL };
	yajl_val v, arr;
	size_t n;

	v = call(&root, ROLE_ADMIN, "{\"v\":1,\"cmd\":\"start\",\"service\":\"gw\"}");
	ck_assert(ok(v));
	yajl_tree_free(v);
	fake_create_done(fb, "gw", 1);
	fake_run(fb);
	events_add(&ctl.sup->events, "other", "stopped", "starting", "x", "t", 1);
	v = call(&reader, ROLE_READ, "{\"v\":1,\"cmd\":\"events\"}");
	ck_assert(ok(v));
	arr = yajl_tree_get(v, evp, yajl_t_array);
	ck_assert_ptr_nonnull(arr);
	n = YAJL_GET_ARRAY(arr)->len;
	ck_assert_uint_eq(n, 3);
	/* the start was this uid's doing */
	ck_assert_str_eq(str(YAJL_GET_ARRAY(arr)->values[0], rp), "start");
	ck_assert_str_eq(str(YAJL_GET_ARRAY(arr)->values[0], ap), "uid 0");
	ck_assert_str_eq(str(YAJL_GET_ARRAY(arr)->values[1], tp), "running");
	yajl_tree_free(v);
	/* one service's, the last one only */
	v = call(&reader, ROLE_READ, "{\"v\":1,\"cmd\":\"events\",\"service\":"
	    "\"gw\",\"lines\":1}");
	ck_assert(ok(v));
	arr = yajl_tree_get(v, evp, yajl_t_array);
	ck_assert_uint_eq(YAJL_GET_ARRAY(arr)->len, 1);
	ck_assert_str_eq(str(YAJL_GET_ARRAY(arr)->values[0], tp), "running");
	yajl_tree_free(v);
}
END_TEST

START_TEST(bad_requests_get_errors)
{
	static const struct {
		const char *line, *code;
	} cases[] = {
		{ "not json\n", "bad-request" },
		{ "{\"v\":1,\"cmd\":\"nuke\"}\n", "unknown-command" },
		{ "{\"v\":1,\"cmd\":\"stop\",\"service\":\"ghost\"}\n",
		    "unknown-service" },
		{ "{\"v\":7,\"cmd\":\"list\"}\n", "unsupported-version" },
		{ "\n", "bad-request" },
	};
	const char *code[] = { "error", "code", NULL };
	size_t i;
	yajl_val v;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = call(&root, ROLE_ADMIN, cases[i].line);
		ck_assert(!ok(v));
		ck_assert_str_eq(str(v, code), cases[i].code);
		yajl_tree_free(v);
	}
	/* strangers get nothing, not even status */
	v = call(&stranger, ROLE_ADMIN, "{\"v\":1,\"cmd\":\"list\"}");
	ck_assert_str_eq(str(v, code), "denied");
	yajl_tree_free(v);
}
END_TEST

START_TEST(memres_verbs_refuse_clearly)
{
	static const struct {
		const char *line, *code, *msg;
	} cases[] = {
		/* gw is not memres: exec, run, ping of its agent */
		{ "{\"v\":1,\"cmd\":\"exec\",\"service\":\"gw\",\"argv\":[\"true\"]}",
		    "failed", "not a memres service" },
		{ "{\"v\":1,\"cmd\":\"run\",\"service\":\"gw\",\"disk\":\"/x\","
		    "\"argv\":[\"true\"]}", "failed", "not a memres service" },
		{ "{\"v\":1,\"cmd\":\"ping\",\"service\":\"gw\"}", "failed",
		    "not a memres service" },
		/* input and stdin belong to a connection's own console/command */
		{ "{\"v\":1,\"cmd\":\"input\",\"data\":\"aGkK\"}", "failed",
		    "not attached to a console" },
		{ "{\"v\":1,\"cmd\":\"stdin\",\"data\":\"aGkK\"}", "failed",
		    "no command of this connection takes stdin" },
		/* malformed fields */
		{ "{\"v\":1,\"cmd\":\"exec\",\"service\":\"gw\",\"argv\":\"ls\"}",
		    "bad-request", "'argv' must be an array" },
		{ "{\"v\":1,\"cmd\":\"run\",\"service\":\"gw\",\"disk\":\"rel\"}",
		    "bad-request", "'disk' must be an absolute path" },
		{ "{\"v\":1,\"cmd\":\"stdin\",\"data\":\"!!!\"}", "bad-request",
		    "'data' must be base64" },
		{ "{\"v\":1,\"cmd\":\"logs\",\"service\":\"gw\",\"previous\":true,"
		    "\"follow\":true}", "bad-request", "exclude each other" },
		{ "{\"v\":1,\"cmd\":\"status\",\"devices\":1}", "bad-request",
		    "'devices' must be true or false" },
	};
	const char *code[] = { "error", "code", NULL },
	    *msg[] = { "error", "message", NULL };
	size_t i;
	yajl_val v;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = call(&root, ROLE_ADMIN, cases[i].line);
		ck_assert_msg(!ok(v), "case %zu accepted", i);
		ck_assert_str_eq(str(v, code), cases[i].code);
		ck_assert_msg(strstr(str(v, msg), cases[i].msg) != NULL,
		    "case %zu: '%s'", i, str(v, msg));
		yajl_tree_free(v);
	}
	/* exec and run are admin verbs; a reader is refused */
	v = call(&reader, ROLE_ADMIN, "{\"v\":1,\"cmd\":\"exec\",\"service\":"
	    "\"gw\",\"argv\":[\"true\"]}");
	ck_assert_str_eq(str(v, code), "denied");
	yajl_tree_free(v);
}
END_TEST

/* a memres service paused while idle: a reader's ping of its agent does
 * not resume it (readers change nothing); an admin's does */
START_TEST(idle_paused_woken_by_admins_only)
{
	const char *msg[] = { "error", "message", NULL };
	struct service *m;
	yajl_val v;

	ck_assert_int_eq(sup_find(ctl.sup, "gw") != NULL, 1);
	m = sup_find(ctl.sup, "gw");
	m->conf->memres = 1;
	m->state = ST_RUNNING;
	m->domid = 7;
	fake_dom_add(fb, "gw", 7, NULL)->paused = 1;
	m->idle.state = IDLE_PAUSED;
	v = call(&reader, ROLE_READ, "{\"v\":1,\"cmd\":\"ping\",\"service\":"
	    "\"gw\"}");
	ck_assert(!ok(v));
	ck_assert_ptr_nonnull(strstr(str(v, msg), "paused while idle"));
	yajl_tree_free(v);
	ck_assert_int_eq(m->idle.state == IDLE_PAUSED, 1);
	ck_assert_int_eq(fake_dom(fb, 7)->paused, 1);
	/* root on the read-only socket is a reader there */
	v = call(&root, ROLE_READ, "{\"v\":1,\"cmd\":\"ping\",\"service\":"
	    "\"gw\"}");
	yajl_tree_free(v);
	ck_assert_int_eq(m->idle.state == IDLE_PAUSED, 1);
	v = call(&root, ROLE_ADMIN, "{\"v\":1,\"cmd\":\"ping\",\"service\":"
	    "\"gw\"}");
	yajl_tree_free(v);
	ck_assert_int_eq(m->idle.state == IDLE_PAUSED, 0);
	ck_assert_int_eq(fake_dom(fb, 7)->paused, 0);
	m->state = ST_STOPPED;
	m->domid = INVALID_DOMID_;
}
END_TEST

START_TEST(logs_are_neutralised)
{
	const char *text[] = { "result", "text", NULL };
	char path[512];
	FILE *fp;
	yajl_val v;

	snprintf(path, sizeof(path), "%s/gw.log", ctl.sup->cfg->d.log_dir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "one\ntwo \x1b[2J\x1b]0;pwned\x07 bad:\xff\xfe\nthree\n");
	fclose(fp);
	v = call(&reader, ROLE_READ, "{\"v\":1,\"cmd\":\"logs\",\"service\":\"gw\","
	    "\"lines\":2}");
	ck_assert(ok(v));
	ck_assert_str_eq(str(v, text),
	    "two ^[[2J^[]0;pwned^G bad:\xef\xbf\xbd\xef\xbf\xbd\nthree\n");
	yajl_tree_free(v);
	v = call(&reader, ROLE_READ, "{\"v\":1,\"cmd\":\"logs\",\"service\":\"gw\","
	    "\"raw\":true}");
	ck_assert(ok(v));
	ck_assert_ptr_nonnull(strstr(str(v, text), "\x1b[2J"));
	yajl_tree_free(v);
}
END_TEST

/* dispatch goes through the command table: every verb has its handler */
START_TEST(every_verb_has_a_handler)
{
	const char *code[] = { "error", "code", NULL };
	const struct proto_cmd *pc;
	char line[256];
	yajl_val v;

	ctl.conf_path = "/nonexistent/domud.conf";
	for (pc = proto_cmds; pc->name; pc++) {
		snprintf(line, sizeof(line), "{\"v\":1,\"cmd\":\"%s\"%s}\n",
		    pc->name, pc->svcarg == PS_NONE ? "" :
		    ",\"service\":\"gw\"");
		v = call(&root, ROLE_ADMIN, line);
		ck_assert_msg(ok(v) || strcmp(str(v, code), "unknown-command"),
		    "%s: no handler", pc->name);
		yajl_tree_free(v);
	}
}
END_TEST

/* run images: only files directly in the image directory, not through a
 * link, regular, not writable by others (finding: run --disk attached any
 * Dom0 file, e.g. /etc/shadow) */
START_TEST(run_images_are_checked)
{
	char *dir = t_tmpdir(), path[600], other[600];
	struct err e = ERR_INIT;
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "%s/tool.img", dir);
	fp = fopen(path, "w");
	fputs("image", fp);
	fclose(fp);
	chmod(path, 0644);
	fd = rundisk_open_image(dir, path, &e);
	ck_assert_msg(fd >= 0, "%s", e.msg);
	close(fd);
	/* outside the directory */
	ck_assert_int_eq(rundisk_open_image(dir, "/etc/shadow", &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "run images come from"));
	snprintf(other, sizeof(other), "%s/../etc", dir);
	ck_assert_int_eq(rundisk_open_image(dir, other, &e), -1);
	snprintf(other, sizeof(other), "%s/..", dir);
	ck_assert_int_eq(rundisk_open_image(dir, other, &e), -1);
	/* a link to elsewhere, swapped in: not followed */
	snprintf(other, sizeof(other), "%s/link.img", dir);
	ck_assert_int_eq(symlink("/etc/passwd", other), 0);
	ck_assert_int_eq(rundisk_open_image(dir, other, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "symbolic link"));
	/* a FIFO does not block, and is refused */
	snprintf(other, sizeof(other), "%s/fifo.img", dir);
	ck_assert_int_eq(mkfifo(other, 0600), 0);
	ck_assert_int_eq(rundisk_open_image(dir, other, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a regular file"));
	/* writable by others */
	chmod(path, 0646);
	ck_assert_int_eq(rundisk_open_image(dir, path, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "writable by others"));
	chmod(path, 0644);
	/* review finding 6: a hard link (to a file only root may read) */
	snprintf(other, sizeof(other), "%s/hard.img", dir);
	ck_assert_int_eq(link(path, other), 0);
	ck_assert_int_eq(rundisk_open_image(dir, other, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "a hard link"));
	ck_assert_int_eq(rundisk_open_image(dir, path, &e), -1);
	unlink(other);
	fd = rundisk_open_image(dir, path, &e);
	ck_assert_msg(fd >= 0, "%s", e.msg);
	close(fd);
	/* ... and a directory others may write to (1777) */
	chmod(dir, 01777);
	ck_assert_int_eq(rundisk_open_image(dir, path, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "writable by no one else"));
	chmod(dir, 0775);
	ck_assert_int_eq(rundisk_open_image(dir, path, &e), -1);
	chmod(dir, 0755);
	t_rmtree(dir);
}
END_TEST

static int nattach;

static int
count_attach(struct backend *be, const char *svc, uint32_t domid,
    const char *path, const char *vdev, uint64_t token, struct err *e)
{
	nattach++;
	return 0;
}

/* through the control verb: a path outside the image directory is denied
 * before anything is attached */
START_TEST(run_refuses_dom0_files)
{
	static struct backend_ops ops;
	const char *code[] = { "error", "code", NULL };
	struct service *s = sup_find(ctl.sup, "gw");
	yajl_val v;

	/* as if gw were a memres service whose agent answered */
	s->conf->memres = 1;
	s->state = ST_RUNNING;
	s->ready = 1;
	s->con = xcalloc(1, sizeof(*s->con));
	s->con->fd = -1;
	ops = *fb->be.ops;
	ops.disk_attach = count_attach;
	fb->be.ops = &ops;
	v = call(&root, ROLE_ADMIN, "{\"v\":1,\"cmd\":\"run\",\"service\":"
	    "\"gw\",\"disk\":\"/etc/shadow\",\"argv\":[\"cat\"]}");
	ck_assert(!ok(v));
	ck_assert_str_eq(str(v, code), "denied");
	yajl_tree_free(v);
	ck_assert_int_eq(nattach, 0);
	free(s->con);
	s->con = NULL;
	s->state = ST_STOPPED;
}
END_TEST

Suite *
control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("dispatch");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, status_and_start);
	tcase_add_test(tc, ping_reports_the_loop);
	tcase_add_test(tc, events_verb);
	tcase_add_test(tc, bad_requests_get_errors);
	tcase_add_test(tc, logs_are_neutralised);
	tcase_add_test(tc, idle_paused_woken_by_admins_only);
	tcase_add_test(tc, memres_verbs_refuse_clearly);
	tcase_add_test(tc, every_verb_has_a_handler);
	tcase_add_test(tc, run_images_are_checked);
	tcase_add_test(tc, run_refuses_dom0_files);
	suite_add_tcase(s, tc);
	return s;
}
