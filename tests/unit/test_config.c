// SPDX-License-Identifier: GPL-2.0-or-later
#include <sys/stat.h>

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "base/util.h"

START_TEST(valid_service)
{
	struct config *cfg = config_new("domud.conf");
	struct service_conf *s = t_service(cfg, "gw",
	    "[service]\n"
	    "type = pvh\n"
	    "kernel = /dev/null\n"
	    "cmdline = console=hvc0\n"
	    "  quiet   ; a comment\n"
	    "memory = 1G\n"
	    "vcpus = 4\n"
	    "autostart = yes\n"
	    "after = a, b\n"
	    "  c\n"
	    "restart = always\n"
	    "stop_timeout = 1500ms\n"
	    "[disk:root]\n"
	    "path = /dev/null\n"
	    "vdev = xvda\n"
	    "access = ro\n"
	    "[net]\n"
	    "bridge = xenbr0\n");

	ck_assert_uint_eq(cfg->errors, 0);
	ck_assert_int_eq(s->errors, 0);
	ck_assert_int_eq(s->type, SVC_PVH);
	ck_assert_str_eq(s->cmdline, "console=hvc0 quiet");
	ck_assert_uint_eq(s->memory, 1ULL << 30);
	ck_assert_uint_eq(s->vcpus, 4);
	ck_assert_int_eq(s->autostart, 1);
	ck_assert_uint_eq(s->nafter, 3);
	ck_assert_str_eq(s->after[2], "c");
	ck_assert_int_eq(s->restart, RESTART_ALWAYS);
	ck_assert_uint_eq(s->stop_timeout_ms, 1500);
	ck_assert_uint_eq(s->ndisks, 1);
	ck_assert_int_eq(s->disks[0].readwrite, 0);
	ck_assert_str_eq(s->bridge, "xenbr0");
	/* auto MAC: Xen's OUI, stable for the name */
	ck_assert_int_eq(s->mac[0], 0x00);
	ck_assert_int_eq(s->mac[1], 0x16);
	ck_assert_int_eq(s->mac[2], 0x3e);
	service_conf_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(network_and_forwards)
{
	struct config *cfg = config_new("domud.conf");
	struct net_conf *n = xcalloc(1, sizeof(*n));
	struct service_conf *s;

	n->name = xstrdup("lan");
	n->bridge = xstrdup("dbr0");
	n->bridge_line = 2;
	n->subnet = 0x0a4d0000;		/* 10.77.0.0/24 */
	n->prefix = 24;
	n->subnet_line = n->subnet_seen = 3;
	n->nat = 1;
	cfg->nets[cfg->nnets++] = n;
	s = t_service(cfg, "web",
	    "[service]\n"
	    "kernel = /dev/null\n"
	    "memory = 64M\n"
	    "[net]\n"
	    "network = lan\n"
	    "ip = 10.77.0.9\n"
	    "forward = tcp:8080:80, udp:5353:53\n"
	    "    tcp:9000-9010:9100-9110\n");
	config_add_service(cfg, s);
	config_finish(cfg);
	ck_assert_uint_eq(cfg->errors, 0);
	ck_assert_uint_eq(n->gateway, 0x0a4d0001);	/* first host */
	ck_assert_str_eq(s->network, "lan");
	ck_assert_uint_eq(s->ip, 0x0a4d0009);
	ck_assert_uint_eq(s->nfwd, 3);
	ck_assert_int_eq(s->fwd[1].proto, IPPROTO_UDP);
	ck_assert_uint_eq(s->fwd[1].host_lo, 5353);
	ck_assert_uint_eq(s->fwd[1].guest_lo, 53);
	ck_assert_uint_eq(s->fwd[2].host_hi, 9010);
	ck_assert_uint_eq(s->fwd[2].guest_lo, 9100);
	ck_assert_str_eq(service_bridge(cfg, s), "dbr0");
	config_free(cfg);
}
END_TEST

START_TEST(uuid_fixed_per_name)
{
	struct config *cfg = config_new("x");
	const char *text = "[service]\nkernel = /dev/null\nmemory = 64M\n";
	struct service_conf *a = t_service(cfg, "a", text),
	    *a2 = t_service(cfg, "a", text), *b = t_service(cfg, "b", text);

	ck_assert_mem_eq(a->uuid, a2->uuid, 16);
	ck_assert_int_ne(memcmp(a->uuid, b->uuid, 16), 0);
	service_conf_free(a);
	service_conf_free(a2);
	service_conf_free(b);
	config_free(cfg);
}
END_TEST

START_TEST(duplicate_key_vs_continuation)
{
	struct config *cfg = config_new("x");
	struct service_conf *s;

	/* a continuation is not a duplicate... */
	s = t_service(cfg, "a", "[service]\nkernel = /dev/null\nmemory = 64M\n"
	    "cmdline = a\n  b\n  c\n");
	ck_assert_uint_eq(cfg->errors, 0);
	ck_assert_str_eq(s->cmdline, "a b c");
	service_conf_free(s);
	/* ...but a repeated key is */
	s = t_service(cfg, "b", "[service]\nkernel = /dev/null\nmemory = 64M\n"
	    "cmdline = a\ncmdline = b\n");
	ck_assert_uint_eq(cfg->errors, 1);
	ck_assert(t_has_diag(cfg, "services.d/b.ini:5: duplicate key 'cmdline'"));
	service_conf_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(overlong_line_is_an_error)
{
	struct config *cfg = config_new("x");
	char text[1024];
	struct service_conf *s;

	/* inih would cut this silently and parse the rest as a bogus key */
	snprintf(text, sizeof(text), "[service]\nkernel = /dev/null\n"
	    "memory = 64M\ncmdline = %0190d memory=1\n", 0);
	s = t_service(cfg, "a", text);
	ck_assert_uint_eq(cfg->errors, 1);
	ck_assert(t_has_diag(cfg, "services.d/a.ini:4: line too long"));
	ck_assert_ptr_null(s->cmdline);
	service_conf_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(every_error_counted)
{
	struct config *cfg = config_new("x");
	struct service_conf *s = t_service(cfg, "a",
	    "[service]\nkernel = rel\nmemory = 5Q\nvcpus = 999\nfoo = 1\n"
	    "[bar]\nx = 1\n");

	ck_assert_uint_eq(cfg->errors, 5);
	ck_assert(t_has_diag(cfg, "a.ini:2: kernel: must be an absolute path"));
	ck_assert(t_has_diag(cfg, "a.ini:3: memory: bad value '5Q'"));
	ck_assert(t_has_diag(cfg, "a.ini:4: vcpus: bad value '999': number too large"));
	ck_assert(t_has_diag(cfg, "a.ini:5: unknown key 'foo'"));
	ck_assert(t_has_diag(cfg, "a.ini:6: unknown section [bar]"));
	ck_assert_int_gt(s->errors, 0);
	service_conf_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(crlf_bom_and_nul)
{
	struct config *cfg = config_new("x");
	const char text[] = "\xef\xbb\xbf[service]\r\nkernel = /dev/null\r\n"
	    "memory = 64M\r\nvcpus = 2\0\r\n";
	struct service_conf *s = config_parse_service(cfg, "a", "a.ini", text,
	    sizeof(text) - 1);

	ck_assert_uint_eq(cfg->errors, 1);
	ck_assert(t_has_diag(cfg, "a.ini:4: line contains a NUL byte"));
	ck_assert_uint_eq(s->memory, 64ULL << 20);
	service_conf_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(units)
{
	uint64_t v;

	ck_assert_ptr_null(parse_size("64M", &v));
	ck_assert_uint_eq(v, 64ULL << 20);
	ck_assert_ptr_null(parse_size("2GiB", &v));
	ck_assert_uint_eq(v, 2ULL << 30);
	ck_assert_ptr_null(parse_size("4096", &v));
	ck_assert_uint_eq(v, 4096);
	ck_assert_ptr_nonnull(parse_size("18446744073709551616", &v));
	ck_assert_ptr_nonnull(parse_size("17179869184G", &v));
	ck_assert_ptr_nonnull(parse_size("", &v));
	ck_assert_ptr_nonnull(parse_size("M", &v));
	ck_assert_ptr_null(parse_duration_ms("30", &v));
	ck_assert_uint_eq(v, 30000);
	ck_assert_ptr_null(parse_duration_ms("2m", &v));
	ck_assert_uint_eq(v, 120000);
	ck_assert_ptr_null(parse_duration_ms("250ms", &v));
	ck_assert_uint_eq(v, 250);
	ck_assert_ptr_nonnull(parse_duration_ms("1.5s", &v));
}
END_TEST

START_TEST(cycle_and_unknown_after)
{
	struct config *cfg = config_new("x");
	const char *k = "[service]\nkernel = /dev/null\nmemory = 64M\n";
	char t[256];

	snprintf(t, sizeof(t), "%safter = b\n", k);
	config_add_service(cfg, t_service(cfg, "a", t));
	snprintf(t, sizeof(t), "%safter = a\n", k);
	config_add_service(cfg, t_service(cfg, "b", t));
	snprintf(t, sizeof(t), "%safter = ghost\n", k);
	config_add_service(cfg, t_service(cfg, "c", t));
	config_add_service(cfg, t_service(cfg, "d", k));
	config_finish(cfg);
	ck_assert(t_has_diag(cfg, "b.ini:4: dependency cycle: a -> b -> a"));
	ck_assert(t_has_diag(cfg, "c.ini:4: after: unknown service 'ghost'"));
	ck_assert_int_gt(config_find(cfg, "a")->errors, 0);
	ck_assert_int_gt(config_find(cfg, "b")->errors, 0);
	/* a broken service never takes the others down */
	ck_assert_int_eq(config_find(cfg, "d")->errors, 0);
	config_free(cfg);
}
END_TEST

START_TEST(same_domain)
{
	struct config *cfg = config_new("x");
	struct service_conf *a = t_service(cfg, "a", "[service]\nkernel = /dev/null\n"
	    "memory = 64M\nrestart = no\n"),
	    *b = t_service(cfg, "a", "[service]\nkernel = /dev/null\n"
	    "memory = 64M\nrestart = always\nstop_timeout = 5s\n"),
	    *c = t_service(cfg, "a", "[service]\nkernel = /dev/null\n"
	    "memory = 128M\n");

	ck_assert(service_conf_same_domain(a, b));
	ck_assert(!service_conf_same_domain(a, c));
	service_conf_free(a);
	service_conf_free(b);
	service_conf_free(c);
	config_free(cfg);
}
END_TEST

/* a FIFO in services.d is reported, and does not hang the load */
START_TEST(fifo_in_services_d)
{
	char *dir = t_tmpdir(), path[600];
	struct config *cfg;
	FILE *fp;
	size_t i;
	int seen = 0;

	snprintf(path, sizeof(path), "%s/services.d", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/services.d/pipe.ini", dir);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	snprintf(path, sizeof(path), "%s/domud.conf", dir);
	fp = fopen(path, "w");
	fprintf(fp, "[domud]\nstate_dir = %s\n", dir);
	fclose(fp);
	cfg = config_load(path);
	for (i = 0; i < cfg->ndiags; i++)
		seen += strstr(cfg->diags[i].text, "pipe.ini") != NULL &&
		    strstr(cfg->diags[i].text, "not a regular file") != NULL;
	ck_assert_int_eq(seen, 1);
	config_free(cfg);
	t_rmtree(dir);
}
END_TEST

Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, valid_service);
	tcase_add_test(tc, uuid_fixed_per_name);
	tcase_add_test(tc, duplicate_key_vs_continuation);
	tcase_add_test(tc, overlong_line_is_an_error);
	tcase_add_test(tc, every_error_counted);
	tcase_add_test(tc, crlf_bom_and_nul);
	tcase_add_test(tc, units);
	tcase_add_test(tc, cycle_and_unknown_after);
	tcase_add_test(tc, same_domain);
	tcase_add_test(tc, network_and_forwards);
	tcase_add_test(tc, fifo_in_services_d);
	suite_add_tcase(s, tc);
	return s;
}
