/* The lab catalogue (grader/catalogue): which labs exist, in teaching order. */
#ifndef CATALOGUE_H
#define CATALOGUE_H

#include <stddef.h>

#include "model.h"

struct catalogue {
	struct lab *labs; /* in file order */
	int n;
};

/*
 * Read the catalogue at path: one lab a line, "id<TAB>title<TAB>options";
 * '#' starts a comment. Returns 0, or -1 with a message in err.
 */
int catalogue_load(const char *path, struct catalogue *c, char *err, size_t errsize);

/* The lab named by key: "4", "04", "04-pipes" or "pipes". NULL if none. */
const struct lab *catalogue_find(const struct catalogue *c, const char *key);

/* True when the lab's options include opt. */
int lab_has_option(const struct lab *lab, const char *opt);

void catalogue_free(struct catalogue *c);

#endif
