// SPDX-License-Identifier: BSD-2-Clause
/*
 * Stable ids for tenant and model names. The kernel counts by id; a
 * policy compiler numbers its models and tenants afresh each time, so a
 * reload that adds a model would shift every id and the running totals
 * would change meaning. The agent instead gives each name it ever applied
 * an id of its own, for good: new names get the next free id, names the
 * policy dropped keep theirs (their totals keep their name). The table is
 * saved in the state directory beside the totals, so a restarted agent
 * keeps the ids too.
 *
 * File format (text, one entry a line): "customs-names 1", then
 * "tenant ID NAME" and "model ID NAME" lines. Id 0 is "unknown" in both.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "names.h"

#define NAMES_MAGIC "customs-names 1"

static int intern(char ***arr, __u32 *n, const char *name, __u32 *id)
{
	char **p, *copy;
	__u32 i;

	for (i = 1; i < *n; i++)
		if ((*arr)[i] && !strcmp((*arr)[i], name)) {
			*id = i;
			return 0;
		}
	if (*n == 0)
		*n = 1;		/* id 0 stays "unknown" */
	copy = strdup(name);
	p = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!copy || !p) {
		free(copy);
		if (p)
			*arr = p;
		return -ENOMEM;
	}
	*arr = p;
	(*arr)[0] = NULL;
	(*arr)[*n] = copy;
	*id = (*n)++;
	return 0;
}

int names_intern_tenant(struct name_table *t, const char *name, __u32 *id)
{
	return intern(&t->tenant, &t->n_tenant, name, id);
}

int names_intern_model(struct name_table *t, const char *name, __u32 *id)
{
	return intern(&t->model, &t->n_model, name, id);
}

static int put_at(char ***arr, __u32 *n, __u32 id, const char *name)
{
	char **p;

	if (id == 0 || id > 1u << 24)
		return -EBADMSG;
	if (id >= *n) {
		p = realloc(*arr, (id + 1) * sizeof(**arr));
		if (!p)
			return -ENOMEM;
		memset(p + *n, 0, (id + 1 - *n) * sizeof(*p));
		*arr = p;
		*n = id + 1;
	}
	if ((*arr)[id])
		return -EBADMSG;	/* an id given twice */
	(*arr)[id] = strdup(name);
	return (*arr)[id] ? 0 : -ENOMEM;
}

int names_load(struct name_table *t, const char *path)
{
	char line[512], kind[16], name[256];
	unsigned int id;
	int rc = 0, lineno = 1;
	FILE *f;

	memset(t, 0, sizeof(*t));
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (!fgets(line, sizeof(line), f) || strncmp(line, NAMES_MAGIC, strlen(NAMES_MAGIC)))
		rc = -EBADMSG;
	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		if (sscanf(line, "%15s %u %255s", kind, &id, name) != 3)
			rc = -EBADMSG;
		else if (!strcmp(kind, "tenant"))
			rc = put_at(&t->tenant, &t->n_tenant, id, name);
		else if (!strcmp(kind, "model"))
			rc = put_at(&t->model, &t->n_model, id, name);
		else
			rc = -EBADMSG;
	}
	fclose(f);
	if (rc) {
		fprintf(stderr, "customsd: %s:%d: damaged name table (%s); remove it to "
			"start new ids (totals then restart too)\n", path, lineno, strerror(-rc));
		names_free(t);
	}
	return rc;
}

int names_save(const struct name_table *t, const char *path)
{
	char tmp[600];
	__u32 i;
	FILE *f;
	int rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "%s\n", NAMES_MAGIC);
	for (i = 1; i < t->n_tenant; i++)
		if (t->tenant[i])
			fprintf(f, "tenant %u %s\n", i, t->tenant[i]);
	for (i = 1; i < t->n_model; i++)
		if (t->model[i])
			fprintf(f, "model %u %s\n", i, t->model[i]);
	if (fflush(f) || fsync(fileno(f)))
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

void names_free(struct name_table *t)
{
	__u32 i;

	for (i = 0; i < t->n_tenant; i++)
		free(t->tenant[i]);
	for (i = 0; i < t->n_model; i++)
		free(t->model[i]);
	free(t->tenant);
	free(t->model);
	memset(t, 0, sizeof(*t));
}
