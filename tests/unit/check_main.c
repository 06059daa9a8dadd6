// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests (Check): config, protocol, authorisation, domuctl arguments,
 * the service model and control dispatch against a fake backend. */
#include <stdlib.h>

#include "helpers.h"
#include "base/log.h"

int
main(void)
{
	SRunner *sr;
	int failed;

	log_init(1, 0, "unit");
	sr = srunner_create(config_suite());
	srunner_add_suite(sr, proto_suite());
	srunner_add_suite(sr, auth_suite());
	srunner_add_suite(sr, ctl_suite());
	srunner_add_suite(sr, ctl_update_suite());
	srunner_add_suite(sr, service_suite());
	srunner_add_suite(sr, control_suite());
	srunner_add_suite(sr, base_suite());
	srunner_add_suite(sr, console_suite());
	srunner_add_suite(sr, socket_suite());
	srunner_add_suite(sr, frame_suite());
	srunner_add_suite(sr, kcache_suite());
	srunner_add_suite(sr, tables_suite());
	srunner_add_suite(sr, slot_suite());
	srunner_add_suite(sr, update_suite());
	srunner_add_suite(sr, sandbox_suite());
	srunner_add_suite(sr, gio_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* after Check's own summary, where it is read: what did not run */
	t_skips_report();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
