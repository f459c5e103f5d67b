/* The lab catalogue: reading it and finding a lab by number or name. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipclab.h"
#include "catalogue.h"

/* Split line at tabs into at most n fields; returns how many. */
static int split_tabs(char *line, char **field, int n)
{
	int k = 0;

	while (k < n) {
		field[k++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = '\0';
	}
	return k;
}

static int valid_id(const char *id)
{
	return isdigit((unsigned char)id[0]) && isdigit((unsigned char)id[1]) && id[2] == '-' &&
	       id[3] != '\0' && !strchr(id, '/');
}

int catalogue_load(const char *path, struct catalogue *c, char *err, size_t errsize)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int lineno = 0;

	memset(c, 0, sizeof(*c));
	if (!f) {
		snprintf(err, errsize, "cannot open the catalogue %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *field[3] = {NULL, "", "-"};
		struct lab *lab;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (split_tabs(line, field, 3) < 2 || !valid_id(field[0])) {
			snprintf(err, errsize, "%s:%d: expected \"NN-name<TAB>title<TAB>options\"",
				 path, lineno);
			fclose(f);
			catalogue_free(c);
			return -1;
		}
		c->labs = realloc(c->labs, (size_t)(c->n + 1) * sizeof(*c->labs));
		if (!c->labs)
			err_die("realloc:");
		lab = &c->labs[c->n++];
		lab->id = xstrdup(field[0]);
		lab->number = atoi(field[0]);
		lab->title = xstrdup(field[1]);
		lab->options = xstrdup(strcmp(field[2], "-") ? field[2] : "");
	}
	fclose(f);
	return 0;
}

const struct lab *catalogue_find(const struct catalogue *c, const char *key)
{
	char *end;
	long num = strtol(key, &end, 10);
	int numeric = *key && *end == '\0';

	for (int i = 0; i < c->n; i++) {
		const struct lab *l = &c->labs[i];

		if ((numeric && l->number == num) || strcmp(l->id, key) == 0 ||
		    strcmp(l->id + 3, key) == 0)
			return l;
	}
	return NULL;
}

int lab_has_option(const struct lab *lab, const char *opt)
{
	size_t n = strlen(opt);

	for (const char *p = lab->options; (p = strstr(p, opt)); p += n)
		if ((p == lab->options || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return 1;
	return 0;
}

void catalogue_free(struct catalogue *c)
{
	for (int i = 0; i < c->n; i++) {
		free(c->labs[i].id);
		free(c->labs[i].title);
		free(c->labs[i].options);
	}
	free(c->labs);
	memset(c, 0, sizeof(*c));
}
