// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

#include "core/auth.h"
#include "helpers.h"

static const struct auth_conf conf = { .read_gid = 500, .admin_gid = 501 };

static struct peer
peer(uid_t uid, gid_t gid, gid_t supp)
{
	struct peer p;

	memset(&p, 0, sizeof(p));
	p.uid = uid;
	p.gid = gid;
	if (supp) {
		p.groups[0] = 100;
		p.groups[1] = supp;
		p.ngroups = 2;
	}
	return p;
}

START_TEST(roles)
{
	struct peer root = peer(0, 0, 0), reader = peer(1000, 500, 0),
	    admin_supp = peer(1001, 1001, 501), nobody = peer(1002, 1002, 0),
	    reader_supp = peer(1003, 1003, 500);

	ck_assert_int_eq(auth_role(&root, &conf), ROLE_ADMIN);
	ck_assert_int_eq(auth_role(&reader, &conf), ROLE_READ);
	/* admin only through a supplementary group: SO_PEERGROUPS matters */
	ck_assert_int_eq(auth_role(&admin_supp, &conf), ROLE_ADMIN);
	ck_assert_int_eq(auth_role(&reader_supp, &conf), ROLE_READ);
	ck_assert_int_eq(auth_role(&nobody, &conf), ROLE_NONE);
}
END_TEST

START_TEST(checks)
{
	struct peer reader = peer(1000, 500, 0), admin = peer(1001, 1001, 501),
	    nobody = peer(1002, 1002, 0), root = peer(0, 0, 0);
	const struct proto_cmd *stop = proto_cmd_find("stop"),
	    *status = proto_cmd_find("status");
	char msg[256];

	ck_assert_int_eq(auth_check(&reader, &conf, ROLE_ADMIN, status, msg,
	    sizeof(msg)), PE_OK);
	ck_assert_int_eq(auth_check(&reader, &conf, ROLE_ADMIN, stop, msg,
	    sizeof(msg)), PE_DENIED);
	ck_assert_ptr_nonnull(strstr(msg, "'stop' needs root or the admin group"));
	ck_assert_int_eq(auth_check(&admin, &conf, ROLE_ADMIN, stop, msg,
	    sizeof(msg)), PE_OK);
	ck_assert_int_eq(auth_check(&nobody, &conf, ROLE_ADMIN, status, msg,
	    sizeof(msg)), PE_DENIED);
	/* the read-only socket caps even root */
	ck_assert_int_eq(auth_check(&root, &conf, ROLE_READ, stop, msg,
	    sizeof(msg)), PE_DENIED);
	ck_assert_int_eq(auth_check(&root, &conf, ROLE_READ, status, msg,
	    sizeof(msg)), PE_OK);
}
END_TEST

START_TEST(missing_groups)
{
	struct auth_conf none = { .read_gid = (gid_t)-1, .admin_gid = (gid_t)-1 };
	struct peer p = peer(1000, (gid_t)-1, 0), root = peer(0, 0, 0);

	/* a group that does not exist never matches, not even gid -1 */
	ck_assert_int_eq(auth_role(&p, &none), ROLE_NONE);
	ck_assert_int_eq(auth_role(&root, &none), ROLE_ADMIN);
}
END_TEST

Suite *
auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("decide");

	tcase_add_test(tc, roles);
	tcase_add_test(tc, checks);
	tcase_add_test(tc, missing_groups);
	suite_add_tcase(s, tc);
	return s;
}
