/*
 * The unit tests of libipclab: every module's suite in one Check runner, each
 * test in its own child (fork mode), so that a test that crashes or leaves
 * children, descriptors or signal handlers behind cannot spoil the next one.
 * Exits non-zero when any test fails. CK_RUN_SUITE=io runs one suite.
 */
#include <stdlib.h>

#include "unit.h"

int main(void)
{
	SRunner *sr = srunner_create(err_suite());
	int failed;

	srunner_add_suite(sr, io_suite());
	srunner_add_suite(sr, proc_suite());
	srunner_add_suite(sr, timing_suite());
	srunner_set_fork_status(sr, CK_FORK);
	/* CK_ENV: normal output, or one line a test when CK_VERBOSITY=verbose (make test). */
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
