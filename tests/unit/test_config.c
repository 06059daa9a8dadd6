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

/* the one splitter of every list: an empty entry is refused, not skipped */
START_TEST(list_split_entries)
{
	static const struct {
		const char	*in;
		int		 sep, blanks;
		const char	*why;
	} bad[] = {
		{ "a,,b", ',', 1, list_twice }, { "a, ,b", ',', 1, list_twice },
		{ "a,\t,b", ',', 1, list_twice }, { "a,", ',', 1, list_last },
		{ "a , ", ',', 1, list_last }, { ",a", ',', 1, list_first },
		{ " , a", ',', 1, list_first }, { ",", ',', 1, list_first },
		{ "1,,2", ',', 0, list_twice }, { "1,", ',', 0, list_last },
		{ "a;;b", ';', 0, list_twice }, { "a;", ';', 0, list_last },
		{ ";a", ';', 0, list_first }, { "a; ;b", ';', 0, list_twice },
	};
	char buf[64], *ent[8];
	size_t i, n;

	strlcpy_(buf, " a, b\tc ,d  e", sizeof(buf));
	ck_assert_ptr_null(list_split(buf, ',', 1, ent, nitems(ent), &n));
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(ent[0], "a");
	ck_assert_str_eq(ent[2], "c");
	ck_assert_str_eq(ent[3], "d");
	ck_assert_str_eq(ent[4], "e");
	/* without blanks as separators, they stay inside an entry */
	strlcpy_(buf, " x y ;z", sizeof(buf));
	ck_assert_ptr_null(list_split(buf, ';', 0, ent, nitems(ent), &n));
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ent[0], "x y");
	ck_assert_str_eq(ent[1], "z");
	strlcpy_(buf, " \t", sizeof(buf));
	ck_assert_ptr_null(list_split(buf, ',', 1, ent, nitems(ent), &n));
	ck_assert_uint_eq(n, 0);
	strlcpy_(buf, "a,b,c", sizeof(buf));
	ck_assert_ptr_nonnull(list_split(buf, ',', 1, ent, 2, &n));
	for (i = 0; i < nitems(bad); i++) {
		strlcpy_(buf, bad[i].in, sizeof(buf));
		ck_assert_msg(list_split(buf, bad[i].sep, bad[i].blanks, ent,
		    nitems(ent), &n) == bad[i].why, "'%s'", bad[i].in);
	}
}
END_TEST

/* every list key of a service file goes through it, with file:line; a
 * list continued on the next line may end a line with its separator */
START_TEST(lists_in_service_files)
{
	static const char *const bad[] = {
		"after = a,,b", "after = a,", "after = ,a", "cpus = 1,,2",
		"cpus = 1,", "cpus = 1-", "cpus = 1;;2", "cpus = 1;",
		"cpus_soft = ,1", "cpus_soft =;1", "pci = 0000:00:02.0,",
		"pci = 0000:00:02.0;", "pci = 0000:00:02.0;;0000:00:03.0",
		"dtdev = /a;;/b", "dtdev = /a;", "iomem = 0x10,1;",
		"iomem =;0x10,1", "irqs = 33,,34", "irqs = 33,", "irqs = ,33",
		"after = a,\n  ,b", "after = a,\n  b,", "after = a,\nvcpus = 1",
	};
	const char *head = "[service]\nkernel = /dev/null\nmemory = 64M\n";
	struct config *cfg;
	struct service_conf *s;
	char text[256];
	size_t i;

	for (i = 0; i < nitems(bad); i++) {
		cfg = config_new("x");
		snprintf(text, sizeof(text), "%s%s\n", head, bad[i]);
		s = t_service(cfg, "a", text);
		ck_assert_msg(cfg->errors == 1 && s->errors == 1,
		    "'%s': %u errors", bad[i], cfg->errors);
		ck_assert_msg(t_has_diag(cfg, "services.d/a.ini:4: ") ||
		    t_has_diag(cfg, "services.d/a.ini:5: "), "'%s'", bad[i]);
		/* a line's list is refused as a whole (after's may go on
		 * in continuation lines, so a separator last is said later:
		 * the service is broken all the same) */
		if (strncmp(bad[i], "after", 5) != 0)
			ck_assert_msg(s->nafter + s->ncpus + s->ncpus_soft +
			    s->npci + s->ndtdev + s->niomem + s->nirqs == 0,
			    "'%s': entries taken", bad[i]);
		service_conf_free(s);
		config_free(cfg);
	}
	/* forward, in [net] */
	cfg = config_new("x");
	snprintf(text, sizeof(text), "%s[net]\nnetwork = lan\n"
	    "forward = tcp:80:80,,tcp:81:81\n", head);
	s = t_service(cfg, "a", text);
	ck_assert(t_has_diag(cfg, "services.d/a.ini:6: forward: bad value "
	    "'tcp:80:80,,tcp:81:81': two separators with no entry between"));
	ck_assert_uint_eq(s->nfwd, 0);
	service_conf_free(s);
	config_free(cfg);
	/* what stays valid: blanks, a separator ending or beginning a
	 * continuation line */
	cfg = config_new("x");
	s = t_service(cfg, "a", "[service]\nkernel = /dev/null\nmemory = 64M\n"
	    "vcpus = 2\nafter = b,\n  c\n  , d e\ncpus = 1 , 2-3\n"
	    "cpus_soft = 1; 2\niomem = 0x10,1; 0x20,2@0x30\nirqs = 5 6,7\n"
	    "[net]\nnetwork = lan\nforward = tcp:80:80,\n  udp:53:53\n"
	    "  ,tcp:81:81\n");
	ck_assert_uint_eq(cfg->errors, 0);
	ck_assert_uint_eq(s->nafter, 4);
	ck_assert_str_eq(s->after[3], "e");
	ck_assert_uint_eq(s->ncpus, 1);
	ck_assert(cpuset_has(&s->cpus[0], 3) && !cpuset_has(&s->cpus[0], 0));
	ck_assert_uint_eq(s->ncpus_soft, 2);
	ck_assert_uint_eq(s->niomem, 2);
	ck_assert_uint_eq(s->nirqs, 3);
	ck_assert_uint_eq(s->nfwd, 3);
	service_conf_free(s);
	config_free(cfg);
}
END_TEST

/* and those of domud.conf: dns, a cpupool's cpus */
START_TEST(lists_in_domud_conf)
{
	const char text[] = "[domud]\n[network:a]\nbridge = br0\n"
	    "subnet = 10.0.0.0/24\ndns = 10.0.0.1,  10.0.0.2 10.0.0.3\n"
	    "[network:b]\nbridge = br1\nsubnet = 10.1.0.0/24\n"
	    "dns = 10.0.0.1,\n[cpupool:p]\ncpus = 2-3, 5\n"
	    "[cpupool:q]\ncpus = 8,,9\n";
	struct config *cfg = config_new("domud.conf");

	config_parse_conf(cfg, text, sizeof(text) - 1);
	config_finish(cfg);
	ck_assert_uint_eq(cfg->errors, 2);
	ck_assert_uint_eq(cfg->conf_errors, 2);
	ck_assert(t_has_diag(cfg, "domud.conf:9: dns: bad value '10.0.0.1,': "
	    "a separator with no entry after it"));
	ck_assert(t_has_diag(cfg, "domud.conf:13: cpus: bad value '8,,9': "
	    "two separators with no entry between them"));
	/* said where it is bad, not also as missing */
	ck_assert(!t_has_diag(cfg, "missing required key"));
	ck_assert_uint_eq(config_find_net(cfg, "a")->ndns, 3);
	ck_assert_uint_eq(config_find_net(cfg, "b")->ndns, 0);
	ck_assert(cpuset_has(&config_find_pool(cfg, "p")->cpus, 5));
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

/* test_conf_keys.c: the key tables */
TCase	*conf_keys_tcase(void);

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
	tcase_add_test(tc, list_split_entries);
	tcase_add_test(tc, lists_in_service_files);
	tcase_add_test(tc, lists_in_domud_conf);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, conf_keys_tcase());
	return s;
}
