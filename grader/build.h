/*
 * Building a lab's test binary: the submission's .c files (never its
 * header: the toolkit's pristine one), the hidden suite, the runner and
 * libipclab, linked in build/. A build whose inputs have not changed is not
 * redone. A compile error is a result, with the compiler's messages.
 */
#ifndef BUILD_H
#define BUILD_H

#include "model.h"

/* Where the toolkit's parts are. */
struct toolkit {
	char *root;   /* the toolkit's folder (holds labs/, grader/, common/) */
	char *build;  /* its build folder (root/build) */
	char *suites; /* the hidden suites' folder (grader/suites or --tests DIR) */
	char *cc;     /* the C compiler ($CC or cc) */
};

enum build_status {
	BUILD_OK,     /* the binary is ready */
	BUILD_FAILED, /* the student's code did not compile or link: see the log */
	BUILD_BROKEN, /* the toolkit could not build (a missing suite, no compiler): see the log */
	BUILD_SKIPPED, /* not built: the lab needs what is not installed (Open MPI); the log says what */
};

/*
 * Build the test binary of lab from the .c files in src_dir into a folder
 * under the toolkit's build/grade/ named after tag. Stores the binary's path
 * in *binary and the compiler's messages in *log (both to free).
 */
enum build_status build_lab(const struct toolkit *tk, const struct lab *lab, const char *src_dir,
			    const char *tag, char **binary, char **log);

/*
 * The compiler flags of the sanitizer a lab's tests are run under a second
 * time (ThreadSanitizer for threaded labs, AddressSanitizer and
 * UndefinedBehaviorSanitizer for the others), or NULL for none. When its
 * variant builds, build_lab leaves it beside the binary, named tests-san.
 */
const char *sanitizer_flags(const struct lab *lab);

/* The toolkit's list binary of lab, built by build_lab: it answers --list. (Free it.) */
char *build_list_binary(const struct toolkit *tk, const struct lab *lab);

#endif
